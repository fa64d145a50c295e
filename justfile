# churnlake developer menu: `just --list`

# list the recipes
default:
    @just --list

# build the release binary (tests and the demo use the same profile)
build:
    cargo build --release

# run every test: unit, integration, conformance, ground truth (what CI runs)
test:
    cargo test --release --workspace

# generate a two-year sample, ingest it, build the derived tables and summarise
demo:
    cargo run --release -- demo

# the METRICS.md conformance suite against the release binary
conformance: build
    bash tests/conformance/run.sh target/release/churnlake

# queries/*.sql on DuckDB must equal churnlake's native output (scenario + conformance cases)
crosscheck: build
    bash scripts/crosscheck.sh

# formatting and lints
lint:
    cargo fmt --all --check
    cargo clippy --release --workspace --all-targets -- -D warnings

# ingest / series / build timings on the large preset (medians of 3 runs), see BENCHMARKS.md
bench: build
    bash scripts/bench.sh large 3
