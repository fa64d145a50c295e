//! The commands that read the lake: `series`, `rate`, `subscriptions`, `subscribers`,
//! `active`, `explain`, `anomalies`, `sql` and `build`.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use chrono::NaiveDate;
use churnlake_lake::{DERIVED_TABLES, DerivedState, DerivedStatus, Lake, Manifest, derived_path, derived_sql_name};
use churnlake_query::{Definition, Grain, Metrics, QueryError, RateRow};

use super::chart::{ChartSpec, frame_chart, kind as chart_kind, write_chart};
use super::{Ctx, Io, Reader, emit, footer, open_output, supported};
use crate::args::{
    ActiveArgs, AnomaliesArgs, BuildArgs, DefinitionArg, EntityArgs, ExplainArgs, Format, GrainArg, RateArgs,
    SeriesArgs, SqlArgs, StatusArg,
};
use crate::output::{ParquetParts, write_explanation};
use crate::{Hinted, Outcome, UserError, missing_relation, render};

/// Refuses a reversed period (`--from` after `--to`), naming both dates.
fn check_period(from: Option<NaiveDate>, to: Option<NaiveDate>) -> Result<()> {
    match (from, to) {
        (Some(from), Some(to)) if from > to => Err(UserError(format!(
            "--from {from} is after --to {to}: the period is empty (give the earlier date to --from)"
        ))
        .into()),
        _ => Ok(()),
    }
}

/// `churnlake series`: the daily (weekly, monthly) series, optionally per group.
pub(super) fn series(ctx: &Ctx, io: &mut Io, args: &SeriesArgs) -> Result<Outcome> {
    check_period(args.from, args.to)?;
    let reader = ctx.reader(args.lake.lake.as_deref(), args.known.as_known_on)?;
    let metrics = &reader.metrics;
    let grain = match args.grain {
        GrainArg::Day => Grain::Day,
        GrainArg::Week => Grain::Week,
        GrainArg::Month => Grain::Month,
    };
    let mut df = metrics.series(args.from, args.to, args.by.as_deref(), grain)?;
    if let (Some(chart), Some(path)) = (args.chart.chart, &args.output.out) {
        let defaults: &[&str] =
            if args.by.is_some() { &["active_subscriptions"] } else { &["active_subscriptions", "active_subscribers"] };
        let chosen: Vec<&str> = args.chart_columns.iter().map(String::as_str).collect();
        let values = if chosen.is_empty() { defaults } else { &chosen[..] };
        if args.by.is_some() && values.len() > 1 {
            return Err(UserError(format!(
                "--chart with --by draws one column per group; give one --chart-column, not {}",
                values.len()
            ))
            .into());
        }
        let (from, to) = date_span(&df);
        let grain_word = match args.grain {
            GrainArg::Day => "daily",
            GrainArg::Week => "weekly",
            GrainArg::Month => "monthly",
        };
        let title = match &args.by {
            Some(by) => format!("{} by {by}, {grain_word}, {from}..{to}", values.join(", ")),
            None => format!("{}, {grain_word}, {from}..{to}", values.join(", ")),
        };
        let spec = ChartSpec {
            title,
            x: "date",
            values,
            group: args.by.as_deref(),
            y_label: "subscriptions / subscribers".into(),
            scale: 1.0,
        };
        write_chart(&frame_chart(&df, spec)?, chart_kind(chart), path)?;
        footer(ctx, &reader, io)?;
        return Ok(Outcome::Ok);
    }
    emit(ctx, &reader, &mut df, &args.output, io)?;
    Ok(Outcome::Ok)
}

/// The first and last `date` of a result, as text (`-` when it has none).
fn date_span(df: &churnlake_query::DataFrame) -> (String, String) {
    let get = |i: usize| {
        df.column("date").ok().and_then(|c| c.get(i).ok()).map(|v| v.to_string()).unwrap_or_else(|| "-".into())
    };
    (get(0), get(df.height().saturating_sub(1)))
}

/// `churnlake rate`: cancellation rates over a period, under one churn definition or all.
pub(super) fn rate(ctx: &Ctx, io: &mut Io, args: &RateArgs) -> Result<Outcome> {
    supported("rate", args.output.format, &[Format::Table, Format::Csv, Format::Json])?;
    check_period(Some(args.from), Some(args.to))?;
    let reader = ctx.reader(args.lake.lake.as_deref(), args.known.as_known_on)?;
    let metrics = &reader.metrics;
    let definitions = definitions(args.definition);
    if args.chart.chart.is_some() && definitions.len() > 1 {
        return Err(UserError(
            "--chart draws the rates of one definition; give --definition ordergroove, start-of-period, \
             start-plus-new or cohort (not all)"
                .into(),
        )
        .into());
    }
    let rows = match args.grain {
        Some(grain) => metrics.rates_by_period(
            args.from,
            args.to,
            args.by.as_deref(),
            &definitions,
            super::insight::grain(grain),
        )?,
        None => metrics.rates(args.from, args.to, args.by.as_deref(), &definitions)?,
    };
    if let (Some(chart), Some(path)) = (args.chart.chart, &args.output.out) {
        write_chart(&rate_chart(&rows, args)?, chart_kind(chart), path)?;
        footer(ctx, &reader, io)?;
        return Ok(Outcome::Ok);
    }
    let mut out = open_output(&args.output, io)?;
    if args.output.format == Format::Json {
        // one shape with or without --by or --grain: the whole lake's rates over the whole
        // period, then the rows
        let total = match (&args.by, args.grain) {
            (None, None) => rows.clone(),
            _ => metrics.rates(args.from, args.to, None, &definitions)?,
        };
        print_rates_json(
            &mut out,
            &definitions,
            &total,
            &rows,
            args.by.as_deref(),
            args.definition == DefinitionArg::All,
            &reader.state()?,
        )?;
        out.flush()?;
        return Ok(Outcome::Ok);
    }
    print_rates(&mut out, &rows, args.by.as_deref(), args.output.format)?;
    out.flush()?;
    drop(out);
    if args.output.format == Format::Table {
        footer(ctx, &reader, io)?;
    }
    Ok(Outcome::Ok)
}

/// The rates as a chart, in %: over the periods' first days with --grain (one line per
/// level, or the subscription rate per group with --by), else over the groups.
fn rate_chart(rows: &[RateRow], args: &RateArgs) -> Result<churnlake_charts::Chart> {
    use polars::prelude::{Column, DataFrame};
    let definition = rows.first().map(|r| r.definition.name()).unwrap_or("ordergroove");
    let rate = |v: Option<f64>| v.map(|r| r * 100.0);
    let columns = vec![
        Column::new("from".into(), rows.iter().map(|r| r.from).collect::<Vec<_>>()),
        Column::new(
            args.by.clone().unwrap_or_else(|| "group".into()).into(),
            rows.iter().map(|r| r.group.clone().unwrap_or_else(|| "all".into())).collect::<Vec<_>>(),
        ),
        Column::new(
            "subscription_cancellation_rate".into(),
            rows.iter().map(|r| rate(r.subscription_cancellation_rate)).collect::<Vec<_>>(),
        ),
        Column::new(
            "subscriber_cancellation_rate".into(),
            rows.iter().map(|r| rate(r.subscriber_cancellation_rate)).collect::<Vec<_>>(),
        ),
    ];
    let df = DataFrame::new(rows.len(), columns)?;
    let group = args.by.as_deref();
    let title = format!("cancellation rate ({definition}), {}..{}", args.from, args.to);
    let both = ["subscription_cancellation_rate", "subscriber_cancellation_rate"];
    let one = ["subscription_cancellation_rate"];
    let spec = match (args.grain, group) {
        (Some(_), None) => ChartSpec { title, x: "from", values: &both, group: None, y_label: "%".into(), scale: 1.0 },
        (Some(_), Some(by)) => {
            ChartSpec { title, x: "from", values: &one, group: Some(by), y_label: "%".into(), scale: 1.0 }
        }
        (None, Some(by)) => ChartSpec { title, x: by, values: &one, group: None, y_label: "%".into(), scale: 1.0 },
        (None, None) => ChartSpec { title, x: "group", values: &both, group: None, y_label: "%".into(), scale: 1.0 },
    };
    frame_chart(&df, spec)
}

/// The definitions `--definition` asks for, in the order of docs/METRICS.md.
fn definitions(arg: DefinitionArg) -> Vec<Definition> {
    match arg {
        DefinitionArg::Ordergroove => vec![Definition::Ordergroove],
        DefinitionArg::StartOfPeriod => vec![Definition::StartOfPeriod],
        DefinitionArg::StartPlusNew => vec![Definition::StartPlusNew],
        DefinitionArg::Cohort => vec![Definition::Cohort],
        DefinitionArg::All => Definition::ALL.to_vec(),
    }
}

/// `churnlake subscriptions`: one row per subscription at the end of a day.
pub(super) fn subscriptions(ctx: &Ctx, io: &mut Io, args: &EntityArgs) -> Result<Outcome> {
    let reader = ctx.reader(args.lake.lake.as_deref(), args.known.as_known_on)?;
    let metrics = &reader.metrics;
    let mut df = metrics.subscriptions(args.as_of, args.status.map(status_name))?;
    emit(ctx, &reader, &mut df, &args.output, io)?;
    Ok(Outcome::Ok)
}

/// `churnlake subscribers`: one row per subscriber at the end of a day.
pub(super) fn subscribers(ctx: &Ctx, io: &mut Io, args: &EntityArgs) -> Result<Outcome> {
    let reader = ctx.reader(args.lake.lake.as_deref(), args.known.as_known_on)?;
    let metrics = &reader.metrics;
    let mut df = metrics.subscribers(args.as_of, args.status.map(status_name))?;
    emit(ctx, &reader, &mut df, &args.output, io)?;
    Ok(Outcome::Ok)
}

fn status_name(status: StatusArg) -> &'static str {
    match status {
        StatusArg::Active => "active",
        StatusArg::Inactive => "inactive",
    }
}

/// `churnlake active`: the two headline counts at the end of a day.
pub(super) fn active(ctx: &Ctx, io: &mut Io, args: &ActiveArgs) -> Result<Outcome> {
    let reader = ctx.reader(args.lake.lake.as_deref(), args.known.as_known_on)?;
    let metrics = &reader.metrics;
    let mut df = metrics.active(args.as_of, args.by.as_deref())?;
    emit(ctx, &reader, &mut df, &args.output, io)?;
    Ok(Outcome::Ok)
}

/// `churnlake explain ID`: the subscription's events in order, with sources and anomalies.
pub(super) fn explain(ctx: &Ctx, io: &mut Io, args: &ExplainArgs) -> Result<Outcome> {
    supported("explain", args.output.format, &[Format::Table, Format::Json])?;
    let reader = ctx.reader(args.lake.lake.as_deref(), args.known.as_known_on)?;
    let metrics = &reader.metrics;
    let explanation = metrics.explain(&args.subscription_id, args.as_of)?;
    {
        let mut out = open_output(&args.output, io)?;
        match args.output.format {
            Format::Json => {
                let mut object = serde_json::to_value(&explanation)?;
                if let Some(map) = object.as_object_mut() {
                    map.insert("lake_state".into(), serde_json::to_value(reader.state()?)?);
                }
                writeln!(out, "{}", serde_json::to_string_pretty(&object)?)?
            }
            _ => write_explanation(&mut out, &explanation)?,
        }
        out.flush()?;
    }
    if args.output.format == Format::Table {
        footer(ctx, &reader, io)?;
    }
    Ok(Outcome::Ok)
}

/// `churnlake anomalies`: one row per anomaly; the counts per kind on the message output.
pub(super) fn anomalies(ctx: &Ctx, io: &mut Io, args: &AnomaliesArgs) -> Result<Outcome> {
    let reader = ctx.reader(args.lake.lake.as_deref(), args.known.as_known_on)?;
    let metrics = &reader.metrics;
    let mut df = metrics.anomalies(args.as_of)?;
    let kinds = df.column("anomaly")?.str()?.clone();
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    for kind in kinds.iter().flatten() {
        *counts.entry(kind).or_default() += 1;
    }
    if !ctx.quiet {
        let summary: Vec<String> = counts.iter().map(|(k, n)| format!("{k}: {n}")).collect();
        let summary = if summary.is_empty() { "none".into() } else { summary.join(", ") };
        writeln!(io.err, "{} anomalies ({summary})", df.height())?;
    }
    emit(ctx, &reader, &mut df, &args.output, io)?;
    Ok(Outcome::Ok)
}

/// `churnlake sql`: scripts (files or text) over the lake's tables.
pub(super) fn sql(ctx: &Ctx, io: &mut Io, args: &SqlArgs) -> Result<Outcome> {
    let params = args
        .params
        .iter()
        .map(|p| {
            p.split_once('=')
                .map(|(k, v)| (k.trim().to_owned(), v.to_owned()))
                .ok_or_else(|| UserError(format!("--param `{p}`: expected NAME=VALUE")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let script = args
        .scripts
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
    let reader = ctx.reader(args.lake.lake.as_deref(), args.known.as_known_on)?;
    // the derived tables were built from every drop: not part of a lake as known earlier
    let metrics = match args.known.as_known_on {
        None => metrics_with_derived(ctx, &reader)?,
        Some(_) => reader.metrics.clone(),
    };
    if args.known.as_known_on.is_none() && script.contains("derived_") && !ctx.quiet {
        warn_derived(ctx, &reader, io)?;
    }
    let mut df = metrics.sql(&script, &params).map_err(|error| {
        let hint = match &error {
            QueryError::Sql { source, .. } => {
                missing_relation(&source.to_string()).and_then(|relation| defining_file(&relation, &args.scripts))
            }
            _ => None,
        };
        match hint {
            Some(hint) => anyhow::Error::new(Hinted { error: error.into(), hint }),
            None => error.into(),
        }
    })?;
    emit(ctx, &reader, &mut df, &args.output, io)?;
    Ok(Outcome::Ok)
}

/// Which SQL file defines a missing view, as a hint: the `.sql` files beside the scripts
/// given and in `./queries` are searched for `VIEW name` (or `TABLE name`).
fn defining_file(relation: &str, scripts: &[String]) -> Option<String> {
    let mut folders: Vec<std::path::PathBuf> = scripts
        .iter()
        .map(Path::new)
        .filter(|p| p.is_file())
        .map(|p| p.parent().map(Path::to_path_buf).unwrap_or_default())
        .collect();
    folders.push("queries".into());
    folders.dedup();
    for folder in folders {
        let listing = if folder.as_os_str().is_empty() { Path::new(".") } else { folder.as_path() };
        let Ok(entries) = std::fs::read_dir(listing) else { continue };
        let mut files: Vec<std::path::PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "sql"))
            .collect();
        files.sort();
        for file in files {
            let Ok(text) = std::fs::read_to_string(&file) else { continue };
            let words: Vec<&str> = text.split_whitespace().collect();
            let defines = words.windows(2).any(|w| {
                (w[0].eq_ignore_ascii_case("view") || w[0].eq_ignore_ascii_case("table"))
                    && w[1].trim_end_matches('(').eq_ignore_ascii_case(relation)
            });
            if defines {
                let shown = folder.join(file.file_name().unwrap_or_default());
                return Some(format!(
                    "`{relation}` is defined by {0}: give {0} before the script that reads it",
                    shown.display()
                ));
            }
        }
    }
    None
}

/// Warns (on the message output) when the derived tables are older than the lake's drops
/// or not one build's.
fn warn_derived(ctx: &Ctx, reader: &Reader, io: &mut Io) -> Result<()> {
    use churnlake_lake::object_store::ObjectStoreExt;
    let mut tables = Vec::new();
    for table in DERIVED_TABLES {
        if ctx.runtime.block_on(reader.lake.store().head(&reader.lake.path(&derived_path(table)))).is_ok() {
            tables.push(table);
        }
    }
    if tables.is_empty() {
        return Ok(());
    }
    let status = ctx.runtime.block_on(DerivedState::status(&reader.lake, &reader.manifest, &tables))?;
    match status {
        DerivedStatus::Current => {}
        DerivedStatus::Stale { built, drops, newest_stamp } => {
            let stamp = |s: Option<chrono::NaiveDateTime>| s.map(crate::output::timestamp).unwrap_or_default();
            writeln!(
                io.err,
                "warning: the derived tables are stale: built {} from {} drops (newest stamp {}); the lake now \
                 has {drops} (newest stamp {}): run `churnlake build`",
                crate::output::instant(built.built_at),
                built.drops,
                stamp(built.newest_stamp),
                stamp(newest_stamp)
            )?;
        }
        DerivedStatus::Mixed { tables } => writeln!(
            io.err,
            "warning: derived table(s) {} not from the last complete build (one was interrupted, or \
             written by another version): run `churnlake build`",
            tables.join(", ")
        )?,
    }
    Ok(())
}

/// Metrics whose SQL context also sees the derived tables that exist.
fn metrics_with_derived(ctx: &Ctx, reader: &Reader) -> Result<Metrics> {
    use churnlake_lake::object_store::ObjectStoreExt;
    let (lake, manifest) = (&reader.lake, &reader.manifest);
    let mut derived = Vec::new();
    for table in DERIVED_TABLES {
        let rel = derived_path(table);
        if ctx.runtime.block_on(lake.store().head(&lake.path(&rel))).is_ok() {
            derived.push((derived_sql_name(table), lake.uri(&rel)));
        }
    }
    Ok(Metrics::new(ctx.sources(lake, manifest).with_derived(derived)))
}

/// `churnlake build`: the derived tables, each replaced atomically.
pub(super) fn build(ctx: &Ctx, io: &mut Io, args: &BuildArgs) -> Result<Outcome> {
    let crash_after = match args.crash_at.as_deref() {
        None => None,
        Some(_) if !churnlake_ingest::CRASH_POINTS => {
            return Err(UserError("--crash-at: this build has no crash points (a test hook)".to_owned()).into());
        }
        Some(point) => Some(
            point
                .strip_prefix("after-table:")
                .and_then(|n| n.parse::<usize>().ok())
                .ok_or_else(|| UserError(format!("--crash-at `{point}`: expected after-table:N")))?,
        ),
    };
    let lake = ctx.read_lake(args.lake.lake.as_deref())?;
    let written = ctx.write_locked(&lake, "build", args.wait.duration(), || {
        let manifest = ctx.runtime.block_on(Manifest::load_for_reading(&lake))?;
        build_tables(ctx, &lake, &manifest, &Metrics::new(ctx.sources(&lake, &manifest)), crash_after)
    })?;
    if !ctx.quiet {
        for path in written {
            writeln!(io.err, "wrote {path}")?;
        }
    }
    Ok(Outcome::Ok)
}

/// Computes the derived tables and publishes them as one set with the manifest state they
/// were computed from (`derived/_build.json`): each table is staged as soon as it is
/// complete, then the set moves into place (see `DerivedState::publish`). `crash_after`
/// (a test hook) aborts the process once that many tables are in place.
pub(super) fn build_tables(
    ctx: &Ctx,
    lake: &Lake,
    manifest: &Manifest,
    metrics: &Metrics,
    crash_after: Option<usize>,
) -> Result<Vec<String>> {
    // each table is written in parts as the passes produce them, then staged whole
    let mut staged: Vec<(String, String)> = Vec::new();
    let mut current: Option<(&'static str, ParquetParts)> = None;
    let mut stage = |table: &'static str, file: ParquetParts| -> Result<()> {
        if let Some(bytes) = file.finish()? {
            staged.push((table.to_owned(), ctx.runtime.block_on(lake.stage(bytes))?));
        }
        Ok(())
    };
    metrics.derived_tables(|name, df| -> Result<()> {
        if current.as_ref().is_none_or(|(last, _)| *last != name)
            && let Some((table, file)) = current.replace((name, ParquetParts::new()))
        {
            stage(table, file)?;
        }
        if let Some((_, file)) = current.as_mut() {
            file.write(&df)?;
        }
        Ok(())
    })?;
    if let Some((table, file)) = current.take() {
        stage(table, file)?;
    }
    let state = match ctx.runtime.block_on(DerivedState::publish(lake, manifest, staged, crash_after)) {
        Err(churnlake_lake::LakeError::Interrupted(_)) => std::process::abort(),
        other => other?,
    };
    Ok(state.files.iter().map(|file| lake.uri(&file.path)).collect())
}

/// One column of the rate output: its name, and its cell in CSV (every digit; `None`: a
/// column of the terminal table only) and in the terminal table (rounded, rates as
/// percentages).
struct RateColumn {
    name: &'static str,
    csv: Option<fn(&RateRow) -> String>,
    table: fn(&RateRow) -> String,
}

const RATE_COLUMNS: [RateColumn; 15] = [
    RateColumn { name: "from", csv: Some(|r| r.from.to_string()), table: |r| r.from.to_string() },
    RateColumn { name: "to", csv: Some(|r| r.to.to_string()), table: |r| r.to.to_string() },
    RateColumn { name: "days", csv: Some(|r| r.days.to_string()), table: |r| r.days.to_string() },
    RateColumn {
        name: "definition",
        csv: Some(|r| r.definition.name().to_owned()),
        table: |r| r.definition.name().to_owned(),
    },
    RateColumn { name: "formula", csv: None, table: |r| r.definition.formula().to_owned() },
    RateColumn {
        name: "subscription_cancels",
        csv: Some(|r| r.subscription_cancels.to_string()),
        table: |r| r.subscription_cancels.to_string(),
    },
    RateColumn {
        name: "average_active_subscriptions",
        csv: Some(|r| r.average_active_subscriptions.to_string()),
        table: |r| format!("{:.3}", r.average_active_subscriptions),
    },
    RateColumn {
        name: "subscription_numerator",
        csv: Some(|r| r.subscription_numerator.to_string()),
        table: |r| r.subscription_numerator.to_string(),
    },
    RateColumn {
        name: "subscription_denominator",
        csv: Some(|r| r.subscription_denominator.to_string()),
        table: |r| denominator(r, r.subscription_denominator),
    },
    RateColumn {
        name: "subscription_cancellation_rate",
        csv: Some(|r| optional(r.subscription_cancellation_rate)),
        table: |r| render::percent(r.subscription_cancellation_rate),
    },
    RateColumn {
        name: "subscriber_cancels",
        csv: Some(|r| r.subscriber_cancels.to_string()),
        table: |r| r.subscriber_cancels.to_string(),
    },
    RateColumn {
        name: "average_active_subscribers",
        csv: Some(|r| r.average_active_subscribers.to_string()),
        table: |r| format!("{:.3}", r.average_active_subscribers),
    },
    RateColumn {
        name: "subscriber_numerator",
        csv: Some(|r| r.subscriber_numerator.to_string()),
        table: |r| r.subscriber_numerator.to_string(),
    },
    RateColumn {
        name: "subscriber_denominator",
        csv: Some(|r| r.subscriber_denominator.to_string()),
        table: |r| denominator(r, r.subscriber_denominator),
    },
    RateColumn {
        name: "subscriber_cancellation_rate",
        csv: Some(|r| optional(r.subscriber_cancellation_rate)),
        table: |r| render::percent(r.subscriber_cancellation_rate),
    },
];

fn optional(rate: Option<f64>) -> String {
    rate.map(|r| r.to_string()).unwrap_or_default()
}

/// A denominator in the terminal table: an average (three decimals) for `ordergroove`, a
/// count for the others.
fn denominator(row: &RateRow, value: f64) -> String {
    match row.definition {
        Definition::Ordergroove => format!("{value:.3}"),
        _ => format!("{value:.0}"),
    }
}

/// Rates as CSV or a terminal table: one row per definition (per group with `--by`); the
/// table also names each definition's formula.
fn print_rates(out: &mut dyn Write, rows: &[RateRow], by: Option<&str>, format: Format) -> Result<()> {
    let csv = format == Format::Csv;
    let columns: Vec<&RateColumn> = RATE_COLUMNS.iter().filter(|c| !csv || c.csv.is_some()).collect();
    let mut headers: Vec<&str> = columns.iter().map(|c| c.name).collect();
    if let Some(by) = by {
        headers.insert(0, by);
    }
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let group = by.map(|_| r.group.clone().unwrap_or_default());
            let cell = |c: &&RateColumn| match c.csv {
                Some(text) if csv => text(r),
                _ => (c.table)(r),
            };
            group.into_iter().chain(columns.iter().map(cell)).collect()
        })
        .collect();
    if csv { render::csv(out, &headers, &cells) } else { render::table(out, &headers, &cells) }
}

/// One rate row as a JSON object, keys in the documented order; with `--by`, the group
/// first, named after the column.
fn rate_object(row: &RateRow, by: Option<&str>) -> Result<serde_json::Map<String, serde_json::Value>> {
    let serde_json::Value::Object(fields) = serde_json::to_value(row)? else {
        return Ok(serde_json::Map::new());
    };
    let mut object = serde_json::Map::new();
    if let Some(by) = by {
        object.insert(by.to_owned(), fields.get("group").cloned().unwrap_or(serde_json::Value::Null));
    }
    object.extend(fields.into_iter().filter(|(k, _)| k != "group"));
    Ok(object)
}

/// Rates as JSON, one shape with or without `--by`: per definition, one object holding the
/// whole lake's rates (the keys of a row), then `by` (the column, or null) and `rows` (one
/// object per group, or the single whole-lake row without `--by`). One definition prints
/// its object; `--definition all` (`array`) an array of them, in the order of `definitions`.
fn print_rates_json(
    out: &mut dyn Write,
    definitions: &[Definition],
    total: &[RateRow],
    rows: &[RateRow],
    by: Option<&str>,
    array: bool,
    state: &churnlake_query::LakeState,
) -> Result<()> {
    let mut objects = Vec::with_capacity(definitions.len());
    for definition in definitions {
        let mut object = match total.iter().find(|r| r.definition == *definition) {
            Some(row) => rate_object(row, None)?,
            None => serde_json::Map::new(),
        };
        object.insert("by".to_owned(), by.map_or(serde_json::Value::Null, |b| b.to_owned().into()));
        let rows = rows
            .iter()
            .filter(|r| r.definition == *definition)
            .map(|r| rate_object(r, by).map(serde_json::Value::Object))
            .collect::<Result<Vec<_>>>()?;
        object.insert("rows".to_owned(), serde_json::Value::Array(rows));
        object.insert("lake_state".to_owned(), serde_json::to_value(state)?);
        objects.push(serde_json::Value::Object(object));
    }
    let value = match objects.pop() {
        Some(only) if !array && objects.is_empty() => only,
        last => serde_json::Value::Array(objects.into_iter().chain(last).collect()),
    };
    serde_json::to_writer_pretty(&mut *out, &value)?;
    writeln!(out)?;
    Ok(())
}
