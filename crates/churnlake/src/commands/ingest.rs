//! The commands that move files: `ingest` (drops into the lake), `drops` (the manifest),
//! `generate` (synthetic drops and their truth) and `demo` (all of it on a sample).

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use chrono::Days;
use churnlake_ingest::{FileOutcome, IngestOptions, IngestReport, Progress};
use churnlake_lake::{Location, Manifest, ManifestEntry};
use churnlake_query::Metrics;
use indicatif::{ProgressBar, ProgressStyle};

use super::{Ctx, Io, open_output};
use crate::args::{DropsArgs, Format, GenerateArgs, IngestArgs, OutputArgs, PresetArg};
use crate::output::{OutputFormat, write_frame};
use crate::{Outcome, UserError, render};

/// `churnlake ingest SOURCE…`: every drop under the sources into the lake. Lists first: a
/// run that finds no drop is an error and creates nothing. Exit 1 when the run reports a
/// problem or the lake holds a file that needs attention (failed, or quarantined rows not
/// acknowledged with `--accept-quarantine`).
pub(super) fn ingest(ctx: &Ctx, io: &mut Io, args: &IngestArgs) -> Result<Outcome> {
    super::supported("ingest", args.format, &[Format::Table, Format::Json])?;
    let mut opts = ctx.settings.ingest_options(args.jobs, args.dry_run, args.crash_at.as_deref())?;
    opts.accept_quarantine = args.accept_quarantine;
    opts.pii = ctx.settings.pii_options(args.pii.as_deref(), args.pii_user_ids)?;
    opts.rewrite_pii = args.rewrite_pii;
    opts.lock_wait = args.wait.duration();
    let report = run_ingest(ctx, &args.sources, args.lake.lake.as_deref(), &opts)?;
    print_ingest_summary(&report, args.format, ctx.quiet, io)?;
    Ok(if report.has_problems() { Outcome::DataProblem } else { Outcome::Ok })
}

/// `churnlake drops`: the manifest, one row per source file.
pub(super) fn drops(ctx: &Ctx, io: &mut Io, args: &DropsArgs) -> Result<Outcome> {
    let lake = ctx.read_lake(args.lake.lake.as_deref())?;
    let manifest = ctx.runtime.block_on(Manifest::load_for_reading(&lake))?;
    print_drops(&manifest.entries, &args.output, io)?;
    Ok(Outcome::Ok)
}

/// Lists the sources, then opens the lake (created only when there is something to write:
/// a dry run reads an existing lake, or none) and ingests.
fn run_ingest(ctx: &Ctx, sources: &[String], lake: Option<&str>, opts: &IngestOptions) -> Result<IngestReport> {
    let locations = sources.iter().map(|s| Location::parse(s)).collect::<Result<Vec<_>, _>>()?;
    let listing = ctx.runtime.block_on(churnlake_ingest::list(&locations, opts))?;
    let lake = if opts.dry_run { ctx.dry_run_lake(lake)? } else { ctx.open_lake(lake)? };
    // locations as shown: URLs without user info or query strings (credentials, SAS tokens)
    let shown = locations.iter().map(Location::to_string).collect::<Vec<_>>().join(" ");
    tracing::info!(lake = %lake.location(), sources = %shown, drops = listing.drops(), "ingesting");
    let progress = Bar::new(ctx.quiet);
    let report = ctx
        .runtime
        .block_on(churnlake_ingest::ingest_listed(listing, &lake, opts, &progress))
        .with_context(|| format!("ingesting {shown}"))?;
    progress.finish();
    Ok(report)
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

/// The run's summary: JSON on the data output, or lines on the message output.
fn print_ingest_summary(report: &IngestReport, format: Format, quiet: bool, io: &mut Io) -> Result<()> {
    if format == Format::Json {
        writeln!(io.out, "{}", serde_json::to_string_pretty(report)?)?;
        return Ok(());
    }
    let err = &mut *io.err;
    for outcome in &report.files {
        if let Some(error) = &outcome.error {
            writeln!(err, "failed: {}: {error}", outcome.name)?;
        }
    }
    for problem in &report.problems {
        writeln!(err, "problem: {}: {}", problem.path, problem.reason)?;
    }
    if quiet {
        return Ok(());
    }
    writeln!(
        err,
        "{} ingested, {} duplicate, {} already in the lake, {} skipped, {} failed, {} problems; \
         rows: {} read, {} written, {} quarantined{}",
        report.ingested,
        report.duplicate,
        report.already_present,
        report.skipped.len(),
        report.failed,
        report.problems.len(),
        report.rows_read,
        report.rows_written,
        report.rows_quarantined,
        if report.dry_run { " (dry run: nothing written)" } else { "" },
    )?;
    if report.accepted > 0 {
        let verb = if report.dry_run { "would acknowledge" } else { "acknowledged" };
        writeln!(err, "{verb} {} files that failed or have quarantined rows", report.accepted)?;
    }
    for file in report.attention.iter().take(50) {
        let what = if file.is_failed() {
            format!("failed ({})", file.error.as_deref().unwrap_or("see `churnlake drops`"))
        } else {
            format!("{} of {} rows in quarantine", file.rows_quarantined, file.rows_read)
        };
        writeln!(err, "needs attention: {}: {what}", file.name)?;
    }
    if report.attention.len() > 50 {
        writeln!(err, "... and {} more files needing attention", report.attention.len() - 50)?;
    }
    if !report.attention.is_empty() {
        writeln!(
            err,
            "{} files of the lake need attention (exit 1 until fixed or acknowledged: \
             `churnlake ingest SOURCE --accept-quarantine`)",
            report.attention.len()
        )?;
    }
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

fn print_drops(entries: &[ManifestEntry], output: &OutputArgs, io: &mut Io) -> Result<()> {
    let mut out = open_output(output, io)?;
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
                crate::output::timestamp(e.stamp),
                e.status.as_str().to_owned(),
                e.rows_read.to_string(),
                e.rows_written.to_string(),
                e.rows_quarantined.to_string(),
                e.size.to_string(),
                e.content_hash.chars().take(16).collect(),
                crate::output::instant(e.ingested_at),
            ]
        })
        .collect();
    match output.format {
        Format::Csv => render::csv(&mut out, &DROP_HEADERS, &rows)?,
        Format::Parquet | Format::Pdf => {
            return Err(UserError("drops: choose --format table, csv or json".into()).into());
        }
        _ => render::table(&mut out, &DROP_HEADERS, &rows)?,
    }
    out.flush()?;
    Ok(())
}

/// `churnlake generate`: a preset's options with the flags given on top.
pub(super) fn generate(args: &GenerateArgs) -> Result<churnlake_generate::GenerateSummary> {
    use churnlake_generate::Preset;
    let GenerateArgs { out, preset, start, days, subs_per_day, seed } = args;
    let preset = match preset {
        Some(PresetArg::Large) => Preset::Large,
        Some(PresetArg::Xl) => Preset::Xl,
        Some(PresetArg::Demo) | None => Preset::Demo,
    };
    let mut opts = preset.options(out.to_path_buf());
    if let Some(start) = start {
        opts.start = *start;
    }
    if let Some(days) = days {
        opts.days = *days;
    }
    if let Some(n) = subs_per_day {
        opts.subs_per_day = *n;
    }
    if let Some(seed) = seed {
        opts.seed = *seed;
    }
    churnlake_generate::generate(&opts).with_context(|| format!("generating into {}", out.display()))
}

/// `churnlake demo`: generate, ingest, build and summarise the two-year sample.
pub(super) fn demo(ctx: &Ctx, io: &mut Io, dir: &Path) -> Result<Outcome> {
    if !ctx.quiet {
        writeln!(io.err, "1/4 generating a two-year sample into {}", dir.display())?;
    }
    // A previous demo's generated drops and truth are replaced (generation is deterministic);
    // the lake is kept, so the ingest step shows that re-running changes nothing.
    if dir.join("truth/summary.json").is_file() {
        for generated in ["drops", "truth"] {
            std::fs::remove_dir_all(dir.join(generated))
                .with_context(|| format!("clearing the previous demo's {generated}/"))?;
        }
    }
    let summary = generate(&GenerateArgs {
        out: dir.to_path_buf(),
        preset: Some(PresetArg::Demo),
        start: None,
        days: None,
        subs_per_day: None,
        seed: None,
    })?;
    let lake_dir: PathBuf = dir.join("lake");
    let lake_text = lake_dir.to_string_lossy().into_owned();
    if !ctx.quiet {
        writeln!(io.err, "2/4 ingesting {} files into {}", summary.files, lake_dir.display())?;
    }
    let opts = ctx.settings.ingest_options(None, false, None)?;
    let drops = [summary.drops_dir.to_string_lossy().into_owned()];
    let report = run_ingest(ctx, &drops, Some(&lake_text), &opts)?;
    let lake = ctx.open_lake(Some(&lake_text))?;
    print_ingest_summary(&report, Format::Table, ctx.quiet, io)?;
    if !ctx.quiet {
        writeln!(io.err, "3/4 building the derived tables")?;
    }
    let manifest = ctx.runtime.block_on(Manifest::load_for_reading(&lake))?;
    let metrics = Metrics::new(ctx.sources(&lake, &manifest));
    let written = ctx.write_locked(&lake, "build", std::time::Duration::ZERO, || {
        super::metrics::build_tables(ctx, &lake, &manifest, &metrics, None)
    })?;
    if !ctx.quiet {
        writeln!(io.err, "4/4 summary")?;
    }
    let (first, last) = metrics.range()?;
    let mut active = metrics.active(None, None)?;
    let from = last.checked_sub_days(Days::new(29)).unwrap_or(first).max(first);
    let rates = metrics.rate(from, last, None)?;
    let out = &mut *io.out;
    writeln!(out, "churnlake demo: {} subscriptions in drops from {first} to {last}", summary.subscriptions)?;
    writeln!(out)?;
    write_frame(&mut active, OutputFormat::Table, out)?;
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
    // the HTML report of the whole sample, beside the lake
    let report_path = dir.join("report.html");
    let page = super::report_html::html_page(&metrics, &manifest, None, &lake_text, None, None)?;
    std::fs::write(&report_path, page).with_context(|| format!("writing {}", report_path.display()))?;
    writeln!(out, "report:        {}", report_path.display())?;
    writeln!(out, "try: churnlake series --lake {} --grain month", lake_dir.display())?;
    Ok(if report.failed > 0 { Outcome::DataProblem } else { Outcome::Ok })
}
