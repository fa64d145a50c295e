//! The commands that judge the lake's figures: `check` (the data checks, the nightly
//! gate) and `reconcile` (the series against the platform's dashboard).

use std::collections::BTreeMap;
use std::io::Write;

use anyhow::{Context, Result};
use churnlake_query::{CheckReport, Dashboard, DayDifference, Level, Reconciliation};

use super::{Ctx, Io, footer, open_output, supported};
use crate::args::{CheckArgs, FailOn, Format, ReconcileArgs};
use crate::{Outcome, render};

/// `churnlake check`: every finding that makes the lake's figures incomplete or doubtful.
pub(super) fn check(ctx: &Ctx, io: &mut Io, args: &CheckArgs) -> Result<Outcome> {
    supported("check", args.output.format, &[Format::Table, Format::Json])?;
    let reader = ctx.reader(args.lake.lake.as_deref(), args.known.as_known_on)?;
    let mut report = reader.metrics.check(&reader.manifest)?;
    report.lake = reader.lake.location().to_string();
    let mut out = open_output(&args.output, io)?;
    match args.output.format {
        Format::Json => writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?,
        _ => write_check(&mut out, &report)?,
    }
    out.flush()?;
    drop(out);
    if args.output.format == Format::Table {
        footer(ctx, &reader, io)?;
    }
    let threshold = match args.fail_on {
        FailOn::Error => Some(Level::Error),
        FailOn::Warn => Some(Level::Warn),
        FailOn::Never => None,
    };
    let failed = threshold.is_some_and(|t| report.worst().is_some_and(|worst| worst >= t));
    Ok(if failed { Outcome::DataProblem } else { Outcome::Ok })
}

/// The check report as text: the lake's dates, then one line per finding (examples
/// indented under it).
fn write_check(out: &mut dyn Write, report: &CheckReport) -> Result<()> {
    let date = |d: Option<chrono::NaiveDate>| d.map_or_else(|| "-".to_owned(), |d| d.to_string());
    writeln!(out, "lake {}", report.lake)?;
    writeln!(
        out,
        "data dates {} .. {}, complete through {}",
        date(report.first_data_date),
        date(report.last_data_date),
        date(report.complete_through)
    )?;
    let mut counts: BTreeMap<Level, usize> = BTreeMap::new();
    for finding in &report.findings {
        *counts.entry(finding.level).or_default() += 1;
    }
    let summary: Vec<String> = [Level::Error, Level::Warn, Level::Info]
        .iter()
        .map(|level| format!("{} {}", counts.get(level).copied().unwrap_or(0), level.as_str()))
        .collect();
    writeln!(out, "{} findings ({})", report.findings.len(), summary.join(", "))?;
    if report.findings.is_empty() {
        return Ok(());
    }
    writeln!(out)?;
    // empty drops are mostly quiet days: one line per kind (every file in --format json)
    let mut empty: BTreeMap<&str, Vec<&churnlake_query::Finding>> = BTreeMap::new();
    for finding in report.findings.iter().filter(|f| f.check == "empty_drop") {
        empty.entry(finding.kind.as_deref().unwrap_or_default()).or_default().push(finding);
    }
    let mut rows: Vec<Vec<String>> = report
        .findings
        .iter()
        .filter(|f| f.check != "empty_drop")
        .map(|f| {
            let subject = f.anomaly.map(str::to_owned).or_else(|| f.kind.clone()).unwrap_or_default();
            let at = f.date.or(f.data_date).map(|d| d.to_string()).unwrap_or_default();
            vec![f.level.as_str().to_owned(), f.check.to_owned(), subject, at, f.detail.clone()]
        })
        .collect();
    for (kind, findings) in empty {
        let dates: Vec<String> = findings.iter().filter_map(|f| f.data_date).map(|d| d.to_string()).collect();
        let shown = if dates.len() > 5 {
            format!("{}, … {}", dates[..4].join(", "), dates[dates.len() - 1])
        } else {
            dates.join(", ")
        };
        rows.push(vec![
            Level::Info.as_str().to_owned(),
            "empty_drop".to_owned(),
            kind.to_owned(),
            dates.first().cloned().unwrap_or_default(),
            format!("{} drops with no data rows (they count as delivered): {shown}", dates.len()),
        ]);
    }
    render::table(out, &["level", "check", "kind", "date", "detail"], &rows)?;
    for finding in report.findings.iter().filter(|f| !f.examples.is_empty() || !f.files.is_empty()) {
        writeln!(out)?;
        writeln!(out, "{} ({}):", finding.check, finding.anomaly.unwrap_or(finding.level.as_str()))?;
        for file in &finding.files {
            writeln!(out, "  {file}")?;
        }
        for example in &finding.examples {
            let mut parts = Vec::new();
            if let Some(id) = &example.subscription_id {
                parts.push(format!("subscription {id}"));
            }
            if let Some(id) = &example.public_subscription_id {
                parts.push(format!("public id {id}"));
            }
            if let Some(day) = example.date {
                parts.push(day.to_string());
            }
            if let Some(file) = &example.file {
                parts.push(format!("{file}:{}", example.line.unwrap_or(0)));
            }
            if let Some(detail) = &example.detail {
                parts.push(detail.clone());
            }
            writeln!(out, "  {}", parts.join("  "))?;
        }
        if let Some(count) = finding.count.filter(|n| *n as usize > finding.examples.len()) {
            writeln!(out, "  … {} more", count as usize - finding.examples.len())?;
        }
    }
    Ok(())
}

/// `churnlake reconcile --dashboard FILE`: every (date, metric) where the lake and the
/// dashboard differ, with its likely causes.
pub(super) fn reconcile(ctx: &Ctx, io: &mut Io, args: &ReconcileArgs) -> Result<Outcome> {
    supported("reconcile", args.output.format, &[Format::Table, Format::Csv, Format::Json])?;
    let name = args.dashboard.display().to_string();
    let bytes = std::fs::read(&args.dashboard)
        .map_err(|e| crate::UserError(format!("cannot read the dashboard file {name}: {e}")))?;
    let dashboard = Dashboard::parse(&name, &bytes)?;
    let reader = ctx.reader(args.lake.lake.as_deref(), args.known.as_known_on)?;
    let result =
        reader.metrics.reconcile(&reader.manifest, &dashboard).with_context(|| format!("reconciling {name}"))?;
    let mut out = open_output(&args.output, io)?;
    match args.output.format {
        Format::Json => writeln!(out, "{}", serde_json::to_string_pretty(&result)?)?,
        Format::Csv => write_reconciliation_csv(&mut out, &result)?,
        _ => write_reconciliation(&mut out, &result)?,
    }
    out.flush()?;
    drop(out);
    if args.output.format == Format::Table {
        footer(ctx, &reader, io)?;
    }
    Ok(if result.days.is_empty() { Outcome::Ok } else { Outcome::DataProblem })
}

/// A metric's name in a sentence: `active_subscriptions` → "active subscriptions".
fn words(metric: &str) -> String {
    metric.replace('_', " ")
}

fn causes_text(day: &DayDifference) -> String {
    day.causes
        .iter()
        .map(|c| match (c.cause, c.since) {
            ("carried_over", Some(since)) => format!("carried over since {since}"),
            _ => c.detail.clone().unwrap_or_else(|| c.cause.to_owned()),
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The plain-words summary: one sentence per run of one gap of one metric.
fn summary(result: &Reconciliation) -> Vec<String> {
    let mut by_metric: BTreeMap<&str, Vec<&DayDifference>> = BTreeMap::new();
    for day in &result.days {
        by_metric.entry(day.metric).or_default().push(day);
    }
    let mut sentences: Vec<(chrono::NaiveDate, String)> = Vec::new();
    for (metric, days) in by_metric {
        let mut i = 0;
        let mut before: Option<&DayDifference> = None;
        while i < days.len() {
            let start = days[i];
            let mut end = start;
            while let Some(next) =
                days.get(i + 1).filter(|d| d.causes.first().is_some_and(|c| c.cause == "carried_over"))
            {
                end = next;
                i += 1;
            }
            i += 1;
            let amount = start.difference.unsigned_abs();
            let more = if start.difference > 0 { "more" } else { "fewer" };
            let when = if end.date == start.date {
                format!("on {}", start.date)
            } else {
                format!("from {} to {}", start.date, end.date)
            };
            // a gap that follows another one the day before: say by how much it moved
            let moved = before
                .filter(|b| b.date.succ_opt() == Some(start.date))
                .map(|b| format!(" (the gap moves by {:+} that day)", start.difference - b.difference))
                .unwrap_or_default();
            let why = match start.causes.first().and_then(|c| c.detail.clone()) {
                Some(detail) => detail,
                None if !start.subscriptions.is_empty() => format!(
                    "no drop-level cause found; the subscriptions that changed that day start with {} \
                     (`churnlake explain ID`)",
                    start.subscriptions.iter().take(3).cloned().collect::<Vec<_>>().join(", ")
                ),
                None => "no cause found in the lake".to_owned(),
            };
            let sentence =
                format!("{when} we count {amount} {more} {} than the dashboard{moved}: {why}.", words(metric));
            sentences.push((start.date, sentence));
            before = Some(end);
        }
    }
    sentences.sort();
    let total = sentences.len();
    let mut shown: Vec<String> = sentences.into_iter().take(12).map(|(_, s)| s).collect();
    if total > shown.len() {
        shown.push(format!("… and {} more changes of the gap (the table below lists every day).", total - shown.len()));
    }
    shown
}

fn write_reconciliation(out: &mut dyn Write, result: &Reconciliation) -> Result<()> {
    if result.days.is_empty() {
        writeln!(out, "{} days compared: every figure equals the dashboard's.", result.compared_days)?;
        return Ok(());
    }
    writeln!(
        out,
        "{} days compared, {} differ ({} figures).",
        result.compared_days,
        result.differing_days,
        result.days.len()
    )?;
    for sentence in summary(result) {
        writeln!(out, "{sentence}")?;
    }
    writeln!(out)?;
    let rows: Vec<Vec<String>> = result
        .days
        .iter()
        .map(|d| {
            vec![
                d.date.to_string(),
                d.metric.to_owned(),
                d.ours.to_string(),
                d.theirs.to_string(),
                format!("{:+}", d.difference),
                causes_text(d),
            ]
        })
        .collect();
    render::table(out, &["date", "metric", "ours", "theirs", "difference", "causes"], &rows)
}

fn write_reconciliation_csv(out: &mut dyn Write, result: &Reconciliation) -> Result<()> {
    let rows: Vec<Vec<String>> = result
        .days
        .iter()
        .map(|d| {
            vec![
                d.date.to_string(),
                d.metric.to_owned(),
                d.ours.to_string(),
                d.theirs.to_string(),
                d.difference.to_string(),
                d.causes.first().map(|c| c.cause.to_owned()).unwrap_or_default(),
                causes_text(d),
                d.subscriptions.join(" "),
            ]
        })
        .collect();
    render::csv(
        out,
        &["date", "metric", "ours", "theirs", "difference", "first_cause", "causes", "subscriptions"],
        &rows,
    )
}
