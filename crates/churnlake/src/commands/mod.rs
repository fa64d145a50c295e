//! One function per subcommand: call the libraries with the resolved settings, format
//! their results. Data goes to [`Io::out`], messages to [`Io::err`]; nothing here
//! computes a metric.
//!
//! `ingest` holds the commands that move files (ingest, drops, generate, demo), `metrics`
//! those that read the lake (series, rate, tables, explain, anomalies, sql, build).

mod ingest;
mod metrics;

use std::io::Write;

use anyhow::{Context, Result};
use churnlake_lake::{Lake, Location, Manifest};
use churnlake_query::{DataFrame, LakeSources, Metrics};

use crate::args::{Cli, Command, Format, OutputArgs};
use crate::output::{OutputFormat, write_frame};
use crate::settings::Settings;
use crate::{Outcome, UserError};

/// Where a command writes: data to `out` (stdout), messages to `err` (stderr).
pub struct Io<'a> {
    pub out: &'a mut dyn Write,
    pub err: &'a mut dyn Write,
}

/// Runs one parsed command line.
pub fn run(cli: Cli, settings: Settings, io: &mut Io) -> Result<Outcome> {
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
        Command::Series(args) => metrics::series(&ctx, io, args),
        Command::Rate(args) => metrics::rate(&ctx, io, args),
        Command::Subscriptions(args) => metrics::subscriptions(&ctx, io, args),
        Command::Subscribers(args) => metrics::subscribers(&ctx, io, args),
        Command::Active(args) => metrics::active(&ctx, io, args),
        Command::Explain(args) => metrics::explain(&ctx, io, args),
        Command::Anomalies(args) => metrics::anomalies(&ctx, io, args),
        Command::Sql(args) => metrics::sql(&ctx, io, args),
        Command::Build(args) => metrics::build(&ctx, io, args),
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
    fn write_locked<T>(&self, lake: &Lake, command: &str, write: impl FnOnce() -> Result<T>) -> Result<T> {
        let lock = self.runtime.block_on(lake.lock(command))?;
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

    fn metrics(&self, flag: Option<&str>) -> Result<Metrics> {
        let lake = self.read_lake(flag)?;
        let manifest = self.runtime.block_on(Manifest::load(&lake))?;
        Ok(Metrics::new(self.sources(&lake, &manifest)))
    }

    /// What the queries read, with the configured report rows per lifecycle pass.
    fn sources(&self, lake: &Lake, manifest: &Manifest) -> LakeSources {
        LakeSources::new(lake, manifest)
            .with_rows_per_pass(self.settings.rows_per_pass)
            .with_profile(self.settings.profile.clone())
    }
}

/// Refuses a `--format` the command cannot write.
fn supported(command: &str, format: Format, formats: &[Format]) -> Result<()> {
    if formats.contains(&format) {
        return Ok(());
    }
    let names: Vec<String> = formats.iter().map(|f| format!("{f:?}").to_lowercase()).collect();
    Err(UserError(format!("`{command}` writes {}; not {:?}", names.join(", "), format).to_lowercase()).into())
}

/// `--out PATH`, or the command's data output.
fn open_output<'a>(output: &OutputArgs, io: &'a mut Io) -> Result<Box<dyn Write + 'a>> {
    Ok(match &output.out {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
        )),
        None => Box::new(&mut *io.out),
    })
}

/// Writes a result frame in the chosen format to `--out` or the data output.
fn emit(df: &mut DataFrame, output: &OutputArgs, io: &mut Io) -> Result<()> {
    let format = match output.format {
        Format::Table => OutputFormat::Table,
        Format::Csv => OutputFormat::Csv,
        Format::Json => OutputFormat::Json,
        Format::Parquet => OutputFormat::Parquet,
    };
    let mut out = open_output(output, io)?;
    write_frame(df, format, &mut out)?;
    out.flush()?;
    Ok(())
}
