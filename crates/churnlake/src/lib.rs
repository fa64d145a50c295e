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
        // a reader that stopped early (`churnlake drops | head`) is not a failure
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            let user = is_input_problem(&err);
            eprintln!("error: {}", render_error(&err));
            ExitCode::from(if user { 1 } else { 2 })
        }
    }
}

/// The error and its causes, each cause once: library errors already quote their source
/// in their message, so a cause the message holds is not repeated.
fn render_error(err: &anyhow::Error) -> String {
    let mut message = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if message.contains(&text) {
            continue;
        }
        if !message.is_empty() {
            message.push_str(": ");
        }
        message.push_str(&text);
    }
    message
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            || e.to_string().contains("Broken pipe")
    })
}

/// True when an error is the input's or the request's fault (exit 1), not an unexpected failure.
fn is_input_problem(err: &anyhow::Error) -> bool {
    use churnlake_ingest::IngestError;
    use churnlake_lake::LakeError;
    use churnlake_query::QueryError;
    let lake_input = |e: &LakeError| matches!(e, LakeError::Locked { .. } | LakeError::Location { .. });
    err.chain().any(|e| {
        e.downcast_ref::<UserError>().is_some()
            || e.downcast_ref::<LakeError>().is_some_and(lake_input)
            || matches!(
                e.downcast_ref::<churnlake_generate::GenerateError>(),
                Some(
                    churnlake_generate::GenerateError::OutputNotEmpty { .. }
                        | churnlake_generate::GenerateError::InvalidOptions { .. }
                        | churnlake_generate::GenerateError::UnknownPreset { .. }
                )
            )
            || matches!(
                e.downcast_ref::<IngestError>(),
                Some(IngestError::Pattern { .. } | IngestError::CrashPoint { .. } | IngestError::List { .. })
            )
            || matches!(e.downcast_ref::<IngestError>(), Some(IngestError::Lake(inner)) if lake_input(inner))
            || matches!(
                e.downcast_ref::<QueryError>(),
                Some(
                    QueryError::EmptyLake
                        | QueryError::OutsideRange { .. }
                        | QueryError::EmptyPeriod { .. }
                        | QueryError::UnknownColumn { .. }
                        | QueryError::UnknownSubscription(_)
                        | QueryError::MissingParam(_)
                        | QueryError::EmptyScript
                        | QueryError::Sql { .. }
                )
            )
    })
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
    // colours only on a terminal: logs written to files and schedulers stay plain text
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .with_target(false)
        .try_init();
}
