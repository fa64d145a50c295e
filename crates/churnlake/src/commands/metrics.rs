//! The commands that read the lake: `series`, `rate`, `subscriptions`, `subscribers`,
//! `active`, `explain`, `anomalies`, `sql` and `build`.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result};
use churnlake_lake::{DERIVED_TABLES, Lake, Manifest, derived_path, derived_sql_name};
use churnlake_query::{Grain, Metrics, RateRow};

use super::{Ctx, Io, emit, open_output, supported};
use crate::args::{
    ActiveArgs, AnomaliesArgs, BuildArgs, EntityArgs, ExplainArgs, Format, GrainArg, RateArgs, SeriesArgs, SqlArgs,
    StatusArg,
};
use crate::output::{ParquetParts, write_explanation};
use crate::{Outcome, UserError, render};

/// `churnlake series`: the daily (weekly, monthly) series, optionally per group.
pub(super) fn series(ctx: &Ctx, io: &mut Io, args: &SeriesArgs) -> Result<Outcome> {
    let metrics = ctx.metrics(args.lake.lake.as_deref())?;
    let grain = match args.grain {
        GrainArg::Day => Grain::Day,
        GrainArg::Week => Grain::Week,
        GrainArg::Month => Grain::Month,
    };
    let mut df = metrics.series(args.from, args.to, args.by.as_deref(), grain)?;
    emit(&mut df, &args.output, io)?;
    Ok(Outcome::Ok)
}

/// `churnlake rate`: cancellation rates over a period.
pub(super) fn rate(ctx: &Ctx, io: &mut Io, args: &RateArgs) -> Result<Outcome> {
    supported("rate", args.output.format, &[Format::Table, Format::Csv, Format::Json])?;
    let metrics = ctx.metrics(args.lake.lake.as_deref())?;
    let rows = metrics.rate(args.from, args.to, args.by.as_deref())?;
    let mut out = open_output(&args.output, io)?;
    print_rates(&mut out, &rows, args.by.as_deref(), args.output.format)?;
    out.flush()?;
    Ok(Outcome::Ok)
}

/// `churnlake subscriptions`: one row per subscription at the end of a day.
pub(super) fn subscriptions(ctx: &Ctx, io: &mut Io, args: &EntityArgs) -> Result<Outcome> {
    let metrics = ctx.metrics(args.lake.lake.as_deref())?;
    let mut df = metrics.subscriptions(args.as_of, args.status.map(status_name))?;
    emit(&mut df, &args.output, io)?;
    Ok(Outcome::Ok)
}

/// `churnlake subscribers`: one row per subscriber at the end of a day.
pub(super) fn subscribers(ctx: &Ctx, io: &mut Io, args: &EntityArgs) -> Result<Outcome> {
    let metrics = ctx.metrics(args.lake.lake.as_deref())?;
    let mut df = metrics.subscribers(args.as_of, args.status.map(status_name))?;
    emit(&mut df, &args.output, io)?;
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
    let metrics = ctx.metrics(args.lake.lake.as_deref())?;
    let mut df = metrics.active(args.as_of, args.by.as_deref())?;
    emit(&mut df, &args.output, io)?;
    Ok(Outcome::Ok)
}

/// `churnlake explain ID`: the subscription's events in order, with sources and anomalies.
pub(super) fn explain(ctx: &Ctx, io: &mut Io, args: &ExplainArgs) -> Result<Outcome> {
    supported("explain", args.output.format, &[Format::Table, Format::Json])?;
    let metrics = ctx.metrics(args.lake.lake.as_deref())?;
    let explanation = metrics.explain(&args.subscription_id)?;
    let mut out = open_output(&args.output, io)?;
    match args.output.format {
        Format::Json => writeln!(out, "{}", serde_json::to_string_pretty(&explanation)?)?,
        _ => write_explanation(&mut out, &explanation)?,
    }
    out.flush()?;
    Ok(Outcome::Ok)
}

/// `churnlake anomalies`: one row per anomaly; the counts per kind on the message output.
pub(super) fn anomalies(ctx: &Ctx, io: &mut Io, args: &AnomaliesArgs) -> Result<Outcome> {
    let metrics = ctx.metrics(args.lake.lake.as_deref())?;
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
    emit(&mut df, &args.output, io)?;
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
    let lake = ctx.read_lake(args.lake.lake.as_deref())?;
    let metrics = metrics_with_derived(ctx, &lake)?;
    let mut df = metrics.sql(&script, &params)?;
    emit(&mut df, &args.output, io)?;
    Ok(Outcome::Ok)
}

/// Metrics whose SQL context also sees the derived tables that exist.
fn metrics_with_derived(ctx: &Ctx, lake: &Lake) -> Result<Metrics> {
    use churnlake_lake::object_store::ObjectStoreExt;
    let manifest = ctx.runtime.block_on(Manifest::load(lake))?;
    let mut derived = Vec::new();
    for table in DERIVED_TABLES {
        let rel = derived_path(table);
        if ctx.runtime.block_on(lake.store().head(&lake.path(&rel))).is_ok() {
            derived.push((derived_sql_name(table), lake.uri(&rel)));
        }
    }
    Ok(Metrics::new(ctx.sources(lake, &manifest).with_derived(derived)))
}

/// `churnlake build`: the derived tables, each replaced atomically.
pub(super) fn build(ctx: &Ctx, io: &mut Io, args: &BuildArgs) -> Result<Outcome> {
    let lake = ctx.read_lake(args.lake.lake.as_deref())?;
    let written = ctx.write_locked(&lake, "build", || {
        let manifest = ctx.runtime.block_on(Manifest::load(&lake))?;
        build_tables(ctx, &lake, &Metrics::new(ctx.sources(&lake, &manifest)))
    })?;
    for path in written {
        writeln!(io.err, "wrote {path}")?;
    }
    Ok(Outcome::Ok)
}

/// Writes the derived tables; returns their addresses.
pub(super) fn build_tables(ctx: &Ctx, lake: &Lake, metrics: &Metrics) -> Result<Vec<String>> {
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
        ctx.runtime.block_on(lake.put_atomic(&rel, bytes))?;
        written.push(lake.uri(&rel));
    }
    Ok(written)
}

/// One column of the rate output: its name, and its cell in CSV (every digit) and in the
/// terminal table (rounded, rates as percentages).
struct RateColumn {
    name: &'static str,
    csv: fn(&RateRow) -> String,
    table: fn(&RateRow) -> String,
}

const RATE_COLUMNS: [RateColumn; 9] = [
    RateColumn { name: "from", csv: |r| r.from.to_string(), table: |r| r.from.to_string() },
    RateColumn { name: "to", csv: |r| r.to.to_string(), table: |r| r.to.to_string() },
    RateColumn { name: "days", csv: |r| r.days.to_string(), table: |r| r.days.to_string() },
    RateColumn {
        name: "subscription_cancels",
        csv: |r| r.subscription_cancels.to_string(),
        table: |r| r.subscription_cancels.to_string(),
    },
    RateColumn {
        name: "average_active_subscriptions",
        csv: |r| r.average_active_subscriptions.to_string(),
        table: |r| format!("{:.3}", r.average_active_subscriptions),
    },
    RateColumn {
        name: "subscription_cancellation_rate",
        csv: |r| optional(r.subscription_cancellation_rate),
        table: |r| render::percent(r.subscription_cancellation_rate),
    },
    RateColumn {
        name: "subscriber_cancels",
        csv: |r| r.subscriber_cancels.to_string(),
        table: |r| r.subscriber_cancels.to_string(),
    },
    RateColumn {
        name: "average_active_subscribers",
        csv: |r| r.average_active_subscribers.to_string(),
        table: |r| format!("{:.3}", r.average_active_subscribers),
    },
    RateColumn {
        name: "subscriber_cancellation_rate",
        csv: |r| optional(r.subscriber_cancellation_rate),
        table: |r| render::percent(r.subscriber_cancellation_rate),
    },
];

fn optional(rate: Option<f64>) -> String {
    rate.map(|r| r.to_string()).unwrap_or_default()
}

fn print_rates(out: &mut dyn Write, rows: &[RateRow], by: Option<&str>, format: Format) -> Result<()> {
    if format == Format::Json {
        return print_rates_json(out, rows, by);
    }
    let mut headers: Vec<&str> = RATE_COLUMNS.iter().map(|c| c.name).collect();
    if let Some(by) = by {
        headers.insert(0, by);
    }
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            let group = by.map(|_| r.group.clone().unwrap_or_default());
            let cell = |c: &RateColumn| if format == Format::Csv { (c.csv)(r) } else { (c.table)(r) };
            group.into_iter().chain(RATE_COLUMNS.iter().map(cell)).collect()
        })
        .collect();
    if format == Format::Csv { render::csv(out, &headers, &cells) } else { render::table(out, &headers, &cells) }
}

/// Rates as JSON: one object (or, with `--by`, an array of objects whose first key is the
/// group, named after the column), keys in the documented order.
fn print_rates_json(out: &mut dyn Write, rows: &[RateRow], by: Option<&str>) -> Result<()> {
    let values: Vec<serde_json::Value> = rows
        .iter()
        .map(|r| {
            let serde_json::Value::Object(fields) = serde_json::to_value(r)? else {
                return Ok(serde_json::Value::Null);
            };
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
    Ok(())
}
