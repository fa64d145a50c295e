//! The churnlake command line: flags, configuration and environment are resolved into
//! one [`Settings`](settings::Settings) value, handed to the libraries, and their results
//! formatted. No metric logic lives here; stdout carries only data, logs go to stderr.

mod args;
mod commands;
mod render;
mod settings;

use std::process::ExitCode;

use clap::Parser;

pub use args::Cli;

/// A run's outcome, mapped to the exit code: 0 ok, 1 bad input or data problem (reported),
/// 2 unexpected failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Ok,
    DataProblem,
}

/// An error that is the input's fault (exit 1), as opposed to an unexpected failure (exit 2).
#[derive(Debug)]
pub struct UserError(pub String);

impl std::fmt::Display for UserError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for UserError {}

/// Parses the process arguments and runs.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.global.verbose, cli.global.quiet);
    match commands::run(cli) {
        Ok(Outcome::Ok) => ExitCode::SUCCESS,
        Ok(Outcome::DataProblem) => ExitCode::from(1),
        Err(err) => {
            let user = err.chain().any(|e| {
                e.downcast_ref::<UserError>().is_some()
                    || matches!(
                        e.downcast_ref::<churnlake_query::QueryError>(),
                        Some(
                            churnlake_query::QueryError::EmptyLake
                                | churnlake_query::QueryError::OutsideRange { .. }
                                | churnlake_query::QueryError::EmptyPeriod { .. }
                                | churnlake_query::QueryError::UnknownColumn { .. }
                                | churnlake_query::QueryError::UnknownSubscription(_)
                        )
                    )
                    || matches!(
                        e.downcast_ref::<churnlake_lake::LakeError>(),
                        Some(churnlake_lake::LakeError::Locked { .. } | churnlake_lake::LakeError::Location { .. })
                    )
            });
            eprintln!("error: {err:#}");
            ExitCode::from(if user { 1 } else { 2 })
        }
    }
}

fn init_logging(verbose: u8, quiet: bool) {
    let level = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, 2) => "debug",
        _ => "trace",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("CHURNLAKE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}
