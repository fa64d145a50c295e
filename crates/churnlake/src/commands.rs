//! One function per subcommand: resolve settings, call the libraries, format results.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use chrono::{Days, NaiveDate};
use churnlake_ingest::{FileOutcome, IngestReport, Progress};
use churnlake_lake::{Lake, Location, Manifest, ManifestEntry, derived_path};
use churnlake_query::{DataFrame, Grain, LakeSources, Metrics, OutputFormat, ParquetParts, RateRow, write_frame};
use indicatif::{ProgressBar, ProgressStyle};

use crate::args::{Cli, Command, Format, GrainArg, OutputArgs, PresetArg, StatusArg};
use crate::settings::{Settings, store_options};
use crate::{Outcome, UserError, render};

/// Runs one command.
pub fn run(cli: Cli) -> Result<Outcome> {
    let settings = Settings::load(cli.global.config.as_deref())?;
    let quiet = cli.global.quiet;
    let runtime =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting the async runtime")?;
    let ctx = Ctx { settings, quiet, runtime };
    match cli.command {
        Command::Ingest { source, lake, format, dry_run, jobs, crash_at } => {
            supported("ingest", format, &[Format::Table, Format::Json])?;
            let opts = ctx.settings.ingest_options(jobs, dry_run, crash_at.as_deref())?;
            let lake = ctx.open_lake(lake.lake.as_deref())?;
            let report = ctx.ingest(&source, &lake, &opts)?;
            print_ingest_summary(&report, format, quiet)?;
            Ok(if report.failed > 0 || report.rows_quarantined > 0 { Outcome::DataProblem } else { Outcome::Ok })
        }
        Command::Drops { lake, output } => {
            let lake = ctx.read_lake(lake.lake.as_deref())?;
            let manifest = ctx.runtime.block_on(Manifest::load(&lake))?;
            print_drops(&manifest.entries, &output)?;
            Ok(Outcome::Ok)
        }
        Command::Generate { out, preset, start, days, subs_per_day, seed } => {
            let summary = generate(&out, preset, start, days, subs_per_day, seed)?;
            writeln!(std::io::stdout().lock(), "{}", serde_json::to_string_pretty(&summary)?)?;
            Ok(Outcome::Ok)
        }
        Command::Series { lake, from, to, by, grain, output } => {
            let metrics = ctx.metrics(lake.lake.as_deref())?;
            let grain = match grain {
                GrainArg::Day => Grain::Day,
                GrainArg::Week => Grain::Week,
                GrainArg::Month => Grain::Month,
            };
            let mut df = metrics.series(from, to, by.as_deref(), grain)?;
            emit(&mut df, &output)?;
            Ok(Outcome::Ok)
        }
        Command::Rate { lake, from, to, by, output } => {
            supported("rate", output.format, &[Format::Table, Format::Csv, Format::Json])?;
            let metrics = ctx.metrics(lake.lake.as_deref())?;
            let rows = metrics.rate(from, to, by.as_deref())?;
            let mut out = open_output(&output)?;
            print_rates(&mut out, &rows, by.as_deref(), output.format)?;
            out.flush()?;
            Ok(Outcome::Ok)
        }
        Command::Subscriptions(args) => {
            let metrics = ctx.metrics(args.lake.lake.as_deref())?;
            let mut df = metrics.subscriptions(args.as_of, args.status.map(status_name))?;
            emit(&mut df, &args.output)?;
            Ok(Outcome::Ok)
        }
        Command::Subscribers(args) => {
            let metrics = ctx.metrics(args.lake.lake.as_deref())?;
            let mut df = metrics.subscribers(args.as_of, args.status.map(status_name))?;
            emit(&mut df, &args.output)?;
            Ok(Outcome::Ok)
        }
        Command::Active { lake, as_of, by, output } => {
            let metrics = ctx.metrics(lake.lake.as_deref())?;
            let mut df = metrics.active(as_of, by.as_deref())?;
            emit(&mut df, &output)?;
            Ok(Outcome::Ok)
        }
        Command::Explain { subscription_id, lake, output } => {
            supported("explain", output.format, &[Format::Table, Format::Json])?;
            let metrics = ctx.metrics(lake.lake.as_deref())?;
            let explanation = metrics.explain(&subscription_id)?;
            let mut out = open_output(&output)?;
            match output.format {
                Format::Json => writeln!(out, "{}", serde_json::to_string_pretty(&explanation)?)?,
                _ => write!(out, "{explanation}")?,
            }
            out.flush()?;
            Ok(Outcome::Ok)
        }
        Command::Anomalies { lake, as_of, output } => {
            let metrics = ctx.metrics(lake.lake.as_deref())?;
            let mut df = metrics.anomalies(as_of)?;
            // the counts per kind on stderr, the rows on stdout (or --out)
            let kinds = df.column("anomaly")?.str()?.clone();
            let mut counts: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
            for kind in kinds.iter().flatten() {
                *counts.entry(kind).or_default() += 1;
            }
            if !ctx.quiet {
                let summary: Vec<String> = counts.iter().map(|(k, n)| format!("{k}: {n}")).collect();
                eprintln!(
                    "{} anomalies ({})",
                    df.height(),
                    if summary.is_empty() { "none".into() } else { summary.join(", ") }
                );
            }
            emit(&mut df, &output)?;
            Ok(Outcome::Ok)
        }
        Command::Sql { scripts, lake, params, output } => {
            let params = params
                .iter()
                .map(|p| {
                    p.split_once('=')
                        .map(|(k, v)| (k.trim().to_owned(), v.to_owned()))
                        .ok_or_else(|| UserError(format!("--param `{p}`: expected NAME=VALUE")))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let script = scripts
                .iter()
                .map(|s| {
                    if Path::new(s).is_file() {
                        std::fs::read_to_string(s).with_context(|| format!("reading {s}"))
                    } else if s.ends_with(".sql") && !s.contains(char::is_whitespace) {
                        // a file name, not SQL text: say the file is missing
                        Err(UserError(format!("no SQL file `{s}`")).into())
                    } else {
                        Ok(s.clone())
                    }
                })
                .collect::<Result<Vec<_>>>()?
                .join(";\n");
            let lake = ctx.read_lake(lake.lake.as_deref())?;
            let metrics = ctx.metrics_with_derived(&lake)?;
            let mut df = metrics.sql(&script, &params)?;
            emit(&mut df, &output)?;
            Ok(Outcome::Ok)
        }
        Command::Build { lake } => {
            let lake = ctx.read_lake(lake.lake.as_deref())?;
            let manifest = ctx.runtime.block_on(Manifest::load(&lake))?;
            let written = ctx.build(&lake, &Metrics::new(ctx.sources(&lake, &manifest)))?;
            for path in written {
                eprintln!("wrote {path}");
            }
            Ok(Outcome::Ok)
        }
        Command::Demo { dir } => demo(&ctx, &dir),
    }
}

fn status_name(status: StatusArg) -> &'static str {
    match status {
        StatusArg::Active => "active",
        StatusArg::Inactive => "inactive",
    }
}

struct Ctx {
    settings: Settings,
    quiet: bool,
    runtime: tokio::runtime::Runtime,
}

impl Ctx {
    fn open_lake(&self, flag: Option<&str>) -> Result<Lake> {
        let location = Location::parse(&self.settings.lake(flag))?;
        Ok(Lake::open(location, store_options())?)
    }

    /// The lake for reading: it must exist.
    fn read_lake(&self, flag: Option<&str>) -> Result<Lake> {
        let location = Location::parse(&self.settings.lake(flag))?;
        Ok(Lake::open_existing(location, store_options())?)
    }

    fn metrics(&self, flag: Option<&str>) -> Result<Metrics> {
        let lake = self.read_lake(flag)?;
        let manifest = self.runtime.block_on(Manifest::load(&lake))?;
        Ok(Metrics::new(self.sources(&lake, &manifest)))
    }

    /// What the queries read, with the configured report rows per lifecycle pass.
    fn sources(&self, lake: &Lake, manifest: &Manifest) -> LakeSources {
        LakeSources::new(lake, manifest).with_rows_per_pass(self.settings.rows_per_pass())
    }

    /// Metrics whose SQL context also sees the derived tables that exist.
    fn metrics_with_derived(&self, lake: &Lake) -> Result<Metrics> {
        use churnlake_lake::object_store::ObjectStoreExt;
        let manifest = self.runtime.block_on(Manifest::load(lake))?;
        let mut derived = Vec::new();
        for name in ["subscriptions", "subscribers", "series"] {
            let rel = derived_path(name);
            if self.runtime.block_on(lake.store().head(&lake.path(&rel))).is_ok() {
                derived.push((format!("derived_{name}"), lake.uri(&rel)));
            }
        }
        Ok(Metrics::new(self.sources(lake, &manifest).with_derived(derived)))
    }

    fn ingest(&self, source: &str, lake: &Lake, opts: &churnlake_ingest::IngestOptions) -> Result<IngestReport> {
        let location = Location::parse(source)?;
        let progress = Bar::new(self.quiet);
        let report = self
            .runtime
            .block_on(churnlake_ingest::ingest(&location, lake, opts, &progress))
            .with_context(|| format!("ingesting {source}"))?;
        progress.finish();
        Ok(report)
    }

    /// Writes the derived tables; returns their addresses.
    fn build(&self, lake: &Lake, metrics: &Metrics) -> Result<Vec<String>> {
        // each table is written in parts as the passes produce them, then published whole
        let mut files: Vec<(&'static str, ParquetParts)> = Vec::new();
        metrics.derived_tables(|name, df| -> Result<()> {
            if files.last().is_none_or(|(last, _)| *last != name) {
                files.push((name, ParquetParts::new()));
            }
            if let Some((_, file)) = files.last_mut() {
                file.write(&df)?;
            }
            Ok(())
        })?;
        let mut written = Vec::new();
        for (name, file) in files {
            let Some(bytes) = file.finish()? else { continue };
            let rel = derived_path(name);
            self.runtime.block_on(lake.put_atomic(&rel, bytes))?;
            written.push(lake.uri(&rel));
        }
        Ok(written)
    }
}

/// Progress on stderr, only when it is a terminal and not --quiet.
struct Bar(Option<ProgressBar>);

impl Bar {
    fn new(quiet: bool) -> Bar {
        if quiet || !std::io::stderr().is_terminal() {
            return Bar(None);
        }
        let bar = ProgressBar::new(0);
        if let Ok(style) =
            ProgressStyle::with_template("{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} files {msg}")
        {
            bar.set_style(style);
        }
        Bar(Some(bar))
    }

    fn finish(&self) {
        if let Some(bar) = &self.0 {
            bar.finish_and_clear();
        }
    }
}

impl Progress for Bar {
    fn start(&self, files: u64, _bytes: u64) {
        if let Some(bar) = &self.0 {
            bar.set_length(files);
        }
    }

    fn file_done(&self, outcome: &FileOutcome) {
        if let Some(bar) = &self.0 {
            bar.inc(1);
            bar.set_message(outcome.name.clone());
        }
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

/// `--out PATH`, or stdout.
fn open_output(output: &OutputArgs) -> Result<Box<dyn Write>> {
    Ok(match &output.out {
        Some(path) => Box::new(std::io::BufWriter::new(
            std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?,
        )),
        None => Box::new(std::io::stdout().lock()),
    })
}

fn emit(df: &mut DataFrame, output: &OutputArgs) -> Result<()> {
    let format = match output.format {
        Format::Table => OutputFormat::Table,
        Format::Csv => OutputFormat::Csv,
        Format::Json => OutputFormat::Json,
        Format::Parquet => OutputFormat::Parquet,
    };
    match &output.out {
        Some(path) => {
            let mut file = std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
            write_frame(df, format, &mut file)?;
            file.flush()?;
        }
        None => {
            let stdout = std::io::stdout();
            let mut lock = stdout.lock();
            write_frame(df, format, &mut lock)?;
            lock.flush()?;
        }
    }
    Ok(())
}

fn print_ingest_summary(report: &IngestReport, format: Format, quiet: bool) -> Result<()> {
    if format == Format::Json {
        writeln!(std::io::stdout().lock(), "{}", serde_json::to_string_pretty(report)?)?;
        return Ok(());
    }
    for outcome in &report.files {
        if let Some(error) = &outcome.error {
            eprintln!("failed: {}: {error}", outcome.name);
        }
    }
    if quiet {
        return Ok(());
    }
    let mut err = std::io::stderr().lock();
    writeln!(
        err,
        "{} ingested, {} duplicate, {} already in the lake, {} skipped, {} failed; \
         rows: {} read, {} written, {} quarantined{}",
        report.ingested,
        report.duplicate,
        report.already_present,
        report.skipped.len(),
        report.failed,
        report.rows_read,
        report.rows_written,
        report.rows_quarantined,
        if report.dry_run { " (dry run: nothing written)" } else { "" },
    )?;
    for file in report.quarantined_files.iter().take(50) {
        writeln!(
            err,
            "quarantined: {}: {} of {} rows{}",
            file.name,
            file.rows_quarantined,
            file.rows_read,
            file.quarantine.as_deref().map(|q| format!(" ({q})")).unwrap_or_default()
        )?;
    }
    if report.quarantined_files.len() > 50 {
        writeln!(err, "... and {} more files with quarantined rows", report.quarantined_files.len() - 50)?;
    }
    for name in report.skipped.iter().take(20) {
        writeln!(err, "skipped (name matches no pattern): {name}")?;
    }
    if report.skipped.len() > 20 {
        writeln!(err, "... and {} more skipped", report.skipped.len() - 20)?;
    }
    Ok(())
}

const DROP_HEADERS: [&str; 11] = [
    "source_name",
    "kind",
    "data_date",
    "stamp",
    "status",
    "rows_read",
    "rows_written",
    "rows_quarantined",
    "size",
    "content_hash",
    "ingested_at",
];

fn print_drops(entries: &[ManifestEntry], output: &OutputArgs) -> Result<()> {
    let mut out: Box<dyn Write> = match &output.out {
        Some(path) => Box::new(std::fs::File::create(path)?),
        None => Box::new(std::io::stdout().lock()),
    };
    if output.format == Format::Json {
        serde_json::to_writer_pretty(&mut out, entries)?;
        writeln!(out)?;
        return Ok(());
    }
    let rows: Vec<Vec<String>> = entries
        .iter()
        .map(|e| {
            vec![
                e.source_name.clone(),
                e.kind.to_string(),
                e.data_date.to_string(),
                e.stamp.to_string(),
                e.status.as_str().to_owned(),
                e.rows_read.to_string(),
                e.rows_written.to_string(),
                e.rows_quarantined.to_string(),
                e.size.to_string(),
                e.content_hash.chars().take(16).collect(),
                e.ingested_at.to_rfc3339(),
            ]
        })
        .collect();
    match output.format {
        Format::Csv => render::csv(&mut out, &DROP_HEADERS, &rows),
        Format::Parquet => Err(UserError("drops: choose --format table, csv or json".into()).into()),
        _ => render::table(&mut out, &DROP_HEADERS, &rows),
    }
}

fn print_rates(out: &mut dyn Write, rows: &[RateRow], by: Option<&str>, format: Format) -> Result<()> {
    match format {
        Format::Json => {
            let values: Vec<serde_json::Value> = rows
                .iter()
                .map(|r| {
                    let serde_json::Value::Object(fields) = serde_json::to_value(r)? else {
                        return Ok(serde_json::Value::Null);
                    };
                    // the group column first (named after --by), then the documented keys in order
                    let mut object = serde_json::Map::new();
                    if let Some(by) = by {
                        object.insert(by.to_owned(), fields.get("group").cloned().unwrap_or(serde_json::Value::Null));
                    }
                    object.extend(fields.into_iter().filter(|(k, _)| k != "group"));
                    Ok(serde_json::Value::Object(object))
                })
                .collect::<Result<_, serde_json::Error>>()?;
            match (by, values.as_slice()) {
                (None, [single]) => serde_json::to_writer_pretty(&mut *out, single)?,
                _ => serde_json::to_writer_pretty(&mut *out, &values)?,
            }
            writeln!(out)?;
        }
        _ => {
            // CSV keeps every digit; the terminal table rounds
            let average = |v: f64| if format == Format::Csv { v.to_string() } else { format!("{v:.3}") };
            let mut headers = vec![
                "from",
                "to",
                "days",
                "subscription_cancels",
                "average_active_subscriptions",
                "subscription_cancellation_rate",
                "subscriber_cancels",
                "average_active_subscribers",
                "subscriber_cancellation_rate",
            ];
            if let Some(by) = by {
                headers.insert(0, by);
            }
            let cells: Vec<Vec<String>> = rows
                .iter()
                .map(|r| {
                    let mut row = vec![
                        r.from.to_string(),
                        r.to.to_string(),
                        r.days.to_string(),
                        r.subscription_cancels.to_string(),
                        average(r.average_active_subscriptions),
                        if format == Format::Csv {
                            opt(r.subscription_cancellation_rate)
                        } else {
                            render::percent(r.subscription_cancellation_rate)
                        },
                        r.subscriber_cancels.to_string(),
                        average(r.average_active_subscribers),
                        if format == Format::Csv {
                            opt(r.subscriber_cancellation_rate)
                        } else {
                            render::percent(r.subscriber_cancellation_rate)
                        },
                    ];
                    if by.is_some() {
                        row.insert(0, r.group.clone().unwrap_or_default());
                    }
                    row
                })
                .collect();
            if format == Format::Csv {
                render::csv(out, &headers, &cells)?;
            } else {
                render::table(out, &headers, &cells)?;
            }
        }
    }
    Ok(())
}

fn opt(rate: Option<f64>) -> String {
    rate.map(|r| r.to_string()).unwrap_or_default()
}

fn generate(
    out: &Path,
    preset: Option<PresetArg>,
    start: Option<NaiveDate>,
    days: Option<u32>,
    subs_per_day: Option<u32>,
    seed: Option<u64>,
) -> Result<churnlake_generate::GenerateSummary> {
    use churnlake_generate::Preset;
    let preset = match preset {
        Some(PresetArg::Large) => Preset::Large,
        Some(PresetArg::Xl) => Preset::Xl,
        Some(PresetArg::Demo) | None => Preset::Demo,
    };
    let mut opts = preset.options(out.to_path_buf());
    if let Some(start) = start {
        opts.start = start;
    }
    if let Some(days) = days {
        opts.days = days;
    }
    if let Some(n) = subs_per_day {
        opts.subs_per_day = n;
    }
    if let Some(seed) = seed {
        opts.seed = seed;
    }
    churnlake_generate::generate(&opts).with_context(|| format!("generating into {}", out.display()))
}

fn demo(ctx: &Ctx, dir: &Path) -> Result<Outcome> {
    eprintln!("1/4 generating a two-year sample into {}", dir.display());
    // A previous demo's generated drops and truth are replaced (generation is deterministic);
    // the lake is kept, so the ingest step shows that re-running changes nothing.
    if dir.join("truth/summary.json").is_file() {
        for generated in ["drops", "truth"] {
            std::fs::remove_dir_all(dir.join(generated))
                .with_context(|| format!("clearing the previous demo's {generated}/"))?;
        }
    }
    let summary = generate(dir, Some(PresetArg::Demo), None, None, None, None)?;
    let lake_dir: PathBuf = dir.join("lake");
    let lake = Lake::open(Location::parse(&lake_dir.to_string_lossy())?, store_options())?;
    eprintln!("2/4 ingesting {} files into {}", summary.files, lake_dir.display());
    let opts = ctx.settings.ingest_options(None, false, None)?;
    let report = ctx.ingest(&summary.drops_dir.to_string_lossy(), &lake, &opts)?;
    print_ingest_summary(&report, Format::Table, ctx.quiet)?;
    eprintln!("3/4 building the derived tables");
    let manifest = ctx.runtime.block_on(Manifest::load(&lake))?;
    let metrics = Metrics::new(ctx.sources(&lake, &manifest));
    let written = ctx.build(&lake, &metrics)?;
    eprintln!("4/4 summary");
    let (first, last) = metrics.range()?;
    let mut active = metrics.active(None, None)?;
    let from = last.checked_sub_days(Days::new(29)).unwrap_or(first).max(first);
    let rates = metrics.rate(from, last, None)?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "churnlake demo: {} subscriptions in drops from {first} to {last}", summary.subscriptions)?;
    writeln!(out)?;
    write_frame(&mut active, OutputFormat::Table, &mut out)?;
    writeln!(out)?;
    if let Some(rate) = rates.first() {
        writeln!(
            out,
            "last 30 days ({from}..{last}): subscription cancellation rate {}, subscriber cancellation rate {}",
            render::percent(rate.subscription_cancellation_rate),
            render::percent(rate.subscriber_cancellation_rate)
        )?;
    }
    writeln!(out)?;
    writeln!(out, "lake:          {}", lake_dir.display())?;
    for path in written {
        writeln!(out, "derived table: {path}")?;
    }
    writeln!(out, "ground truth:  {}", summary.truth_dir.display())?;
    writeln!(out, "try: churnlake series --lake {} --grain month", lake_dir.display())?;
    Ok(if report.failed > 0 { Outcome::DataProblem } else { Outcome::Ok })
}
