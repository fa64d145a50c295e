//! The churnlake command line: flags, configuration and environment are resolved into
//! one [`Settings`](settings::Settings) value, handed to the libraries, and their results
//! formatted. No metric logic lives here; stdout carries only data, logs go to stderr.
//!
//! ```text
//! run(args, stdout, stderr) ─▶ Cli (args) ─▶ Settings (settings) ─▶ commands::{ingest, metrics}
//!                                                                   ─▶ output / render ─▶ stdout
//! ```

mod args;
mod commands;
mod output;
mod pdf;
mod render;
mod settings;

use std::ffi::OsString;
use std::io::Write;
use std::process::ExitCode;

use clap::Parser;

pub use args::Cli;
pub use commands::Io;

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

/// Runs the process's command line on its stdout and stderr.
pub fn main() -> ExitCode {
    // Not locked for the whole command: logs go to stderr from whatever thread writes them
    // (a lock held here made a log line from another thread wait forever).
    run(std::env::args_os(), &mut std::io::stdout(), &mut std::io::stderr())
}

/// Runs one command line (`args` starts with the program name) in-process: data to
/// `stdout`, messages and errors to `stderr` (logs go to the process's stderr). Returns the
/// exit code: 0 ok (`--help` and `--version` too), 1 bad input — a usage error (unknown
/// command or flag, a value that does not parse, a missing argument), a refused request or
/// a data problem (reported) —, 2 unexpected failure.
pub fn run<I, T>(args: I, stdout: &mut dyn Write, stderr: &mut dyn Write) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(err) => {
            let text = err.render().to_string();
            let written = if err.use_stderr() { write!(stderr, "{text}") } else { write!(stdout, "{text}") };
            // help and version are asked for (0); every other parse error is the user's
            // input (1), never the unexpected-failure code clap would give (2)
            return match written {
                Ok(()) if err.use_stderr() => ExitCode::from(1),
                Ok(()) => ExitCode::SUCCESS,
                Err(_) => ExitCode::from(2),
            };
        }
    };
    init_logging(cli.global.verbose, cli.global.quiet);
    let result = settings::Settings::resolve(cli.global.config.as_deref())
        .and_then(|settings| commands::run(cli, settings, &mut Io { out: stdout, err: stderr }));
    match result {
        Ok(Outcome::Ok) => ExitCode::SUCCESS,
        Ok(Outcome::DataProblem) => ExitCode::from(1),
        // a reader that stopped early (`churnlake drops | head`) is not a failure
        Err(err) if is_broken_pipe(&err) => ExitCode::SUCCESS,
        Err(err) => {
            let _ = writeln!(stderr, "error: {}", render_error(&err));
            ExitCode::from(if is_input_problem(&err) { 1 } else { 2 })
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
    let hint = err.chain().find_map(|e| e.downcast_ref::<churnlake_query::QueryError>()).and_then(hint);
    if let Some(hint) = hint.filter(|h| !message.contains(h.as_str())) {
        message.push_str(&format!(" ({hint})"));
    }
    message
}

/// What to do about a library error, in the command line's own words (the libraries do
/// not know its flags).
fn hint(err: &churnlake_query::QueryError) -> Option<String> {
    use churnlake_query::QueryError;
    match err {
        QueryError::EmptyLake => Some("run `churnlake ingest` first".to_owned()),
        QueryError::MissingParam(name) => Some(format!("give it with `--param {name}=VALUE`")),
        QueryError::Sql { source, .. } => {
            let relation = missing_relation(&source.to_string())?;
            relation
                .starts_with("derived_")
                .then(|| format!("`{relation}` is written by `churnlake build`: run it first"))
        }
        _ => None,
    }
}

/// The table a polars SQL error says is missing (`relation 'NAME' was not found`).
pub(crate) fn missing_relation(message: &str) -> Option<String> {
    let (_, rest) = message.split_once("relation '")?;
    let (name, rest) = rest.split_once('\'')?;
    rest.trim_start().starts_with("was not found").then(|| name.to_owned())
}

/// An error with what to do about it (in the command line's words), shown after it.
#[derive(Debug)]
pub(crate) struct Hinted {
    pub error: anyhow::Error,
    pub hint: String,
}

impl std::fmt::Display for Hinted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", render_error(&self.error), self.hint)
    }
}

impl std::error::Error for Hinted {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(self.error.as_ref())
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
            || e.to_string().contains("Broken pipe")
    })
}

/// True when an error is the input's or the request's fault (exit 1), not an unexpected
/// failure: each library classifies its own errors.
fn is_input_problem(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.is::<UserError>()
            || e.downcast_ref::<churnlake_lake::LakeError>().is_some_and(churnlake_lake::LakeError::is_user_error)
            || e.downcast_ref::<churnlake_ingest::IngestError>()
                .is_some_and(churnlake_ingest::IngestError::is_user_error)
            || e.downcast_ref::<churnlake_query::QueryError>().is_some_and(churnlake_query::QueryError::is_user_error)
            || e.downcast_ref::<churnlake_generate::GenerateError>()
                .is_some_and(churnlake_generate::GenerateError::is_user_error)
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
