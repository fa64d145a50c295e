//! One function per subcommand: call the libraries with the resolved settings, format
//! their results. Data goes to [`Io::out`], messages to [`Io::err`]; nothing here
//! computes a metric.
//!
//! `ingest` holds the commands that move files (ingest, drops, generate, demo), `metrics`
//! those that read the lake (series, rate, tables, explain, anomalies, sql, build), `check`
//! those that judge its figures (check, reconcile).

mod chart;
mod check;
mod diff;
pub mod filter;
mod ingest;
mod insight;
mod metrics;
mod report;
mod report_html;
mod revenue;

use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use chrono::NaiveDate;
use churnlake_lake::{Lake, Location, Manifest};
use churnlake_query::{DataFrame, LakeSources, LakeState, Metrics};

use crate::args::{Cli, Command, Format, OutputArgs};
use crate::output::{OutputFormat, write_frame_with};
use crate::settings::Settings;
use crate::{Outcome, UserError};

/// Where a command writes: data to `out` (stdout), messages to `err` (stderr).
pub struct Io<'a> {
    pub out: &'a mut dyn Write,
    pub err: &'a mut dyn Write,
}

/// Runs one parsed command line.
pub fn run(mut cli: Cli, settings: Settings, io: &mut Io) -> Result<Outcome> {
    // what the flags leave open is settled, and refused, before any work
    if let Some((command, kind, output)) = cli.command.chart_mut() {
        chart::settle_chart_output(command, kind, output)?;
    } else if let Some((command, output, formats)) = cli.command.output_mut() {
        settle_output(command, output, formats)?;
    }
    if let Command::Completions(args) = &cli.command {
        let mut command = <Cli as clap::CommandFactory>::command();
        clap_complete::generate(args.shell, &mut command, "churnlake", &mut *io.out);
        return Ok(Outcome::Ok);
    }
    let runtime =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the async runtime")?;
    let ctx = Ctx { settings, quiet: cli.global.quiet, runtime };
    match &cli.command {
        Command::Ingest(args) => ingest::ingest(&ctx, io, args),
        Command::Drops(args) => ingest::drops(&ctx, io, args),
        Command::Generate(args) => {
            let summary = ingest::generate(args)?;
            writeln!(io.out, "{}", serde_json::to_string_pretty(&summary)?)?;
            Ok(Outcome::Ok)
        }
        Command::Demo(args) => ingest::demo(&ctx, io, &args.dir),
        Command::Build(args) => metrics::build(&ctx, io, args),
        Command::Completions(_) => Ok(Outcome::Ok),
        query => {
            // a concurrent ingest may replace a file the query took from the manifest (an
            // earlier copy taking over): read the manifest again and start over — nothing
            // is written before a query's result is complete
            let mut attempt = 0;
            loop {
                match read(&ctx, io, query) {
                    Err(error) if attempt < 2 && vanished(&error) => {
                        attempt += 1;
                        tracing::warn!(%error, "a lake file changed while reading it (a concurrent ingest): reading again");
                    }
                    result => return result,
                }
            }
        }
    }
}

/// True when an error is a file that disappeared from under a reader.
fn vanished(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause.downcast_ref::<std::io::Error>().is_some_and(|e| e.kind() == std::io::ErrorKind::NotFound)
            || matches!(
                cause.downcast_ref::<churnlake_lake::object_store::Error>(),
                Some(churnlake_lake::object_store::Error::NotFound { .. })
            )
            || cause.to_string().contains("No such file or directory")
    })
}

/// Runs a command that only reads the lake.
fn read(ctx: &Ctx, io: &mut Io, command: &Command) -> Result<Outcome> {
    match command {
        Command::Series(args) => metrics::series(ctx, io, args),
        Command::Rate(args) => metrics::rate(ctx, io, args),
        Command::Revenue(args) => revenue::revenue(ctx, io, args),
        Command::Cohorts(args) => revenue::cohorts(ctx, io, args),
        Command::Cancellations(args) => revenue::cancellations(ctx, io, args),
        Command::Subscriptions(args) => metrics::subscriptions(ctx, io, args),
        Command::Subscribers(args) => metrics::subscribers(ctx, io, args),
        Command::Active(args) => metrics::active(ctx, io, args),
        Command::Explain(args) => metrics::explain(ctx, io, args),
        Command::Anomalies(args) => metrics::anomalies(ctx, io, args),
        Command::Sql(args) => metrics::sql(ctx, io, args),
        Command::Check(args) => check::check(ctx, io, args),
        Command::Reconcile(args) => check::reconcile(ctx, io, args),
        Command::Diff(args) => diff::diff(ctx, io, args),
        Command::Insight(args) => insight::insight(ctx, io, args),
        Command::Report(args) => report::report(ctx, io, args),
        Command::Ingest(_)
        | Command::Drops(_)
        | Command::Generate(_)
        | Command::Demo(_)
        | Command::Build(_)
        | Command::Completions(_) => Ok(Outcome::Ok),
    }
}

/// What every command shares: the resolved settings and the async runtime.
struct Ctx {
    settings: Settings,
    quiet: bool,
    runtime: tokio::runtime::Runtime,
}

impl Ctx {
    /// The lake for writing: created when missing.
    fn open_lake(&self, flag: Option<&str>) -> Result<Lake> {
        let location = Location::parse(&self.settings.lake(flag))?;
        Ok(Lake::open(location, self.settings.store_options.iter().cloned())?)
    }

    /// The lake a dry run reads: the existing one, or (when there is none) an empty one in
    /// memory, so that nothing is created.
    fn dry_run_lake(&self, flag: Option<&str>) -> Result<Lake> {
        let location = Location::parse(&self.settings.lake(flag))?;
        if let Location::Local(dir) = &location
            && !dir.exists()
        {
            let store = std::sync::Arc::new(churnlake_lake::object_store::memory::InMemory::new());
            return Ok(Lake::with_store(store, churnlake_lake::object_store::path::Path::default(), location));
        }
        Ok(Lake::open_existing(location, self.settings.store_options.iter().cloned())?)
    }

    /// The lake for writing derived files: it must exist; the ingest lock is taken and
    /// what a killed writer left in `_staging/` is removed before `write` runs.
    fn write_locked<T>(
        &self,
        lake: &Lake,
        command: &str,
        wait: std::time::Duration,
        write: impl FnOnce() -> Result<T>,
    ) -> Result<T> {
        let lock = self.runtime.block_on(lake.lock_waiting(command, wait))?;
        let result = self.runtime.block_on(lake.clear_staging()).map_err(anyhow::Error::from).and_then(|cleared| {
            if cleared > 0 {
                tracing::info!(cleared, "removed the staged files of an interrupted run");
            }
            write()
        });
        let released = self.runtime.block_on(lock.release());
        let value = result?;
        released?;
        Ok(value)
    }

    /// The lake for reading: it must exist.
    fn read_lake(&self, flag: Option<&str>) -> Result<Lake> {
        let location = Location::parse(&self.settings.lake(flag))?;
        Ok(Lake::open_existing(location, self.settings.store_options.iter().cloned())?)
    }

    /// The lake for queries, as known on `known_on` when given (only the drops stamped by
    /// then: METRICS.md "As known on a date"). A day before every stamp is the user's error.
    fn reader(&self, flag: Option<&str>, known_on: Option<NaiveDate>) -> Result<Reader> {
        let lake = self.read_lake(flag)?;
        let full = self.runtime.block_on(Manifest::load_for_reading(&lake))?;
        let manifest = match known_on {
            None => full,
            Some(day) => {
                let known = full.known_on(day);
                if known.entries.is_empty() {
                    let first = full.stamp_range().map(|r| r.0);
                    return Err(UserError(match first {
                        Some(stamp) => format!(
                            "--as-known-on {day}: no drop was known yet (the first drop's stamp is {})",
                            crate::output::timestamp(stamp)
                        ),
                        None => format!("--as-known-on {day}: the lake has no drops"),
                    })
                    .into());
                }
                known
            }
        };
        let metrics = Metrics::new(self.sources(&lake, &manifest));
        Ok(Reader { lake, manifest, metrics, known_on })
    }

    /// What the queries read, with the configured report rows per lifecycle pass.
    fn sources(&self, lake: &Lake, manifest: &Manifest) -> LakeSources {
        LakeSources::new(lake, manifest)
            .with_rows_per_pass(self.settings.rows_per_pass)
            .with_profile(self.settings.profile.clone())
    }
}

/// A lake opened for queries: its manifest (cut at the knowledge date, if any) and the
/// metrics over it.
struct Reader {
    lake: Lake,
    manifest: Manifest,
    metrics: Metrics,
    known_on: Option<NaiveDate>,
}

impl Reader {
    /// What the figures are computed from.
    fn state(&self) -> Result<LakeState> {
        Ok(self.metrics.lake_state(&self.manifest, self.known_on)?)
    }
}

/// The state line under a table (on the message output): the drops used, the newest
/// stamp, how complete they are, and the knowledge date when one was asked for.
fn footer(ctx: &Ctx, reader: &Reader, io: &mut Io) -> Result<()> {
    if ctx.quiet {
        return Ok(());
    }
    // the result is already written: a state that cannot be read is a warning, never a
    // failure of the command (nor a reason to run it again)
    let state = match reader.state() {
        Ok(state) => state,
        Err(error) => {
            tracing::warn!(error = %format!("{error:#}"), "cannot tell what the result was computed from");
            return Ok(());
        }
    };
    let known = state.known_on.map(|d| format!(", as known on {d}")).unwrap_or_default();
    let newest = state.newest_stamp.map(crate::output::timestamp).unwrap_or_else(|| "-".into());
    let complete = state.complete_through.map(|d| d.to_string()).unwrap_or_else(|| "-".into());
    writeln!(
        io.err,
        "computed from {} drops (newest stamp {newest}; complete through {complete}{known})",
        state.drops
    )?;
    Ok(())
}

/// The state as Parquet key-value metadata (`churnlake:known_on`, `churnlake:drops`,
/// `churnlake:newest_stamp`, `churnlake:complete_through`).
fn state_metadata(state: &LakeState) -> Vec<(String, String)> {
    let text = |d: Option<String>| d.unwrap_or_default();
    vec![
        ("churnlake:known_on".into(), text(state.known_on.map(|d| d.to_string()))),
        ("churnlake:drops".into(), state.drops.to_string()),
        ("churnlake:newest_stamp".into(), text(state.newest_stamp.map(crate::output::timestamp))),
        ("churnlake:complete_through".into(), text(state.complete_through.map(|d| d.to_string()))),
    ]
}

/// Refuses a `--format` the command cannot write.
fn supported(command: &str, format: Format, formats: &[Format]) -> Result<()> {
    if formats.contains(&format) {
        return Ok(());
    }
    let names: Vec<String> = formats.iter().map(|f| format!("{f:?}").to_lowercase()).collect();
    Err(UserError(format!("`{command}` writes {}; not {:?}", names.join(", "), format).to_lowercase()).into())
}

/// Settles `output.format`: `--format` when given (it wins over the extension), else the
/// one `--out`'s extension names (`.csv`, `.json`, `.parquet`, `.txt` for table; another
/// extension is refused), else table. A format the command does not write, or an `--out`
/// whose folder does not exist, is the user's error.
fn settle_output(command: &str, output: &mut OutputArgs, formats: &[Format]) -> Result<()> {
    let names = || formats.iter().map(|f| f.name()).collect::<Vec<_>>().join(", ");
    output.format = match (output.format_flag, &output.out) {
        (Some(format), _) => format,
        (None, None) => Format::Table,
        (None, Some(path)) => {
            let extension = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
            let format = match extension.as_deref() {
                Some("csv") => Format::Csv,
                Some("json") => Format::Json,
                Some("parquet") => Format::Parquet,
                Some("txt") => Format::Table,
                Some("pdf") => Format::Pdf,
                _ => {
                    let pdf = if formats.contains(&Format::Pdf) { ", .pdf" } else { "" };
                    return Err(UserError(format!(
                        "--out {}: cannot tell the format from the file name; give --format ({}) \
                         or end the name in .csv, .json, .parquet{pdf} or .txt",
                        path.display(),
                        names()
                    ))
                    .into());
                }
            };
            if !formats.contains(&format) {
                return Err(UserError(format!(
                    "`{command}` writes {}; --out {} asks for {} (give --format, or another extension)",
                    names(),
                    path.display(),
                    format.name()
                ))
                .into());
            }
            format
        }
    };
    if let Some(path) = &output.out {
        check_out_path(path)?;
    }
    Ok(())
}

/// An `--out` file can be written: its folder exists and it is not itself a folder
/// (the user's error otherwise, exit 1).
fn check_out_path(path: &Path) -> Result<()> {
    let folder = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    if !folder.is_dir() {
        return Err(UserError(format!(
            "--out {}: the folder {} does not exist (create it first)",
            path.display(),
            folder.display()
        ))
        .into());
    }
    if path.is_dir() {
        return Err(UserError(format!("--out {}: is a folder; give a file name", path.display())).into());
    }
    Ok(())
}

/// `--out PATH`, or the command's data output.
fn open_output<'a>(output: &OutputArgs, io: &'a mut Io) -> Result<Box<dyn Write + 'a>> {
    Ok(match &output.out {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path)
                .map_err(|e| UserError(format!("--out {}: cannot create the file: {e}", path.display())))?,
        )),
        None => Box::new(&mut *io.out),
    })
}

/// Writes a result frame in the chosen format to `--out` or the data output, with what it
/// was computed from: a footer under a table, key-value metadata in Parquet.
fn emit(ctx: &Ctx, reader: &Reader, df: &mut DataFrame, output: &OutputArgs, io: &mut Io) -> Result<()> {
    emit_noted(ctx, reader, df, output, io, &[], None)
}

/// [`emit`] with the command's own Parquet key-value metadata and a note: a line on the
/// message output (unless `-q`) for every format but Parquet, which carries `metadata`.
fn emit_noted(
    ctx: &Ctx,
    reader: &Reader,
    df: &mut DataFrame,
    output: &OutputArgs,
    io: &mut Io,
    metadata: &[(String, String)],
    note: Option<&str>,
) -> Result<()> {
    let format = match output.format {
        Format::Table => OutputFormat::Table,
        Format::Csv => OutputFormat::Csv,
        Format::Json => OutputFormat::Json,
        Format::Parquet => OutputFormat::Parquet,
        Format::Pdf => anyhow::bail!("PDF is written by `report` only"),
    };
    let metadata = match format {
        OutputFormat::Parquet => [state_metadata(&reader.state()?), metadata.to_vec()].concat(),
        _ => Vec::new(),
    };
    {
        let mut out = open_output(output, io)?;
        write_frame_with(df, format, &mut out, &metadata)?;
        out.flush()?;
    }
    if let Some(note) = note
        && format != OutputFormat::Parquet
        && !ctx.quiet
    {
        writeln!(io.err, "{note}")?;
    }
    if format == OutputFormat::Table {
        footer(ctx, reader, io)?;
    }
    Ok(())
}
