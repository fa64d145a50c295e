//! The `churnlake` binary: everything lives in the library so tests can call it.

// jemalloc, configured in .cargo/config.toml to hand freed pages back quickly: the queries
// run in stages, and each stage's memory is released before the next one peaks.
#[global_allocator]
static GLOBAL: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

fn main() -> std::process::ExitCode {
    churnlake::main()
}
