//! `churnlake diff`: the restatement of the series between two knowledge dates.

use std::io::Write;

use anyhow::Result;

use super::{Ctx, Io, open_output};
use crate::args::{DiffArgs, Format};
use crate::{Outcome, UserError, render};

/// `churnlake diff --known-on A --known-on B`: every (date, metric) whose value as known on
/// A differs from its value as known on B, with the drops that arrived in between.
pub(super) fn diff(ctx: &Ctx, io: &mut Io, args: &DiffArgs) -> Result<Outcome> {
    let [a, b] = match args.known_on.as_slice() {
        [a, b] if a < b => [*a, *b],
        [a, b] => {
            return Err(UserError(format!(
                "--known-on {a} --known-on {b}: give the earlier knowledge date first (and two different ones)"
            ))
            .into());
        }
        _ => return Err(UserError("give exactly two knowledge dates: --known-on A --known-on B".into()).into()),
    };
    if let (Some(from), Some(to)) = (args.from, args.to)
        && from > to
    {
        return Err(UserError(format!("--from {from} is after --to {to}: the period is empty")).into());
    }
    let before = ctx.reader(args.lake.lake.as_deref(), Some(a))?;
    let after = ctx.reader(args.lake.lake.as_deref(), Some(b))?;
    let new_files: Vec<(String, chrono::NaiveDate)> = after
        .manifest
        .entries
        .iter()
        .filter(|e| e.stamp.date() > a)
        .map(|e| (e.source_name.clone(), e.data_date))
        .collect();
    let result = after.metrics.restatement(&before.metrics, [a, b], new_files, args.from, args.to)?;
    let mut out = open_output(&args.output, io)?;
    match args.output.format {
        Format::Json => writeln!(out, "{}", serde_json::to_string_pretty(&result)?)?,
        Format::Csv => {
            let rows: Vec<Vec<String>> = result
                .changes
                .iter()
                .map(|c| {
                    let cell = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_default();
                    vec![
                        c.date.to_string(),
                        c.metric.to_owned(),
                        cell(c.before),
                        cell(c.after),
                        cell(c.change),
                        c.files.join(" "),
                    ]
                })
                .collect();
            render::csv(&mut out, &["date", "metric", "before", "after", "change", "files"], &rows)?;
        }
        _ => write_table(&mut out, &result)?,
    }
    out.flush()?;
    Ok(Outcome::Ok)
}

/// The restatement as text: a sentence per month and level whose cancellations changed,
/// the new drops, then every change.
fn write_table(out: &mut dyn Write, result: &churnlake_query::Restatement) -> Result<()> {
    let [a, b] = result.known_on;
    writeln!(
        out,
        "as known on {a} and on {b}: {} drops arrived in between, {} figures changed.",
        result.files.len(),
        result.changes.len()
    )?;
    for month in &result.months {
        let rate = |r: Option<f64>| render::percent(r);
        let singular = month.level.trim_end_matches('s');
        let delta = month.cancels[1] - month.cancels[0];
        let moved = if delta > 0 {
            format!("; {delta} {singular} cancellations arrived after {a}")
        } else if delta < 0 {
            format!("; {} fewer {singular} cancellations than reported on {a}", -delta)
        } else {
            String::new()
        };
        writeln!(
            out,
            "{}: {singular} cancellation rate {} as known on {a}, {} as known on {b} (cancellations {} → {}){moved}.",
            month.month,
            rate(month.rate[0]),
            rate(month.rate[1]),
            month.cancels[0],
            month.cancels[1]
        )?;
    }
    if !result.files.is_empty() {
        writeln!(out)?;
        writeln!(out, "drops known on {b} but not on {a}:")?;
        for file in result.files.iter().take(10) {
            writeln!(out, "  {file}")?;
        }
        if result.files.len() > 10 {
            writeln!(out, "  … {} more (--format json lists them all)", result.files.len() - 10)?;
        }
    }
    if result.changes.is_empty() {
        return Ok(());
    }
    writeln!(out)?;
    let rows: Vec<Vec<String>> = result
        .changes
        .iter()
        .map(|c| {
            let cell = |v: Option<i64>| v.map(|v| v.to_string()).unwrap_or_else(|| "-".into());
            let files = match c.files.len() {
                0 => String::new(),
                1..=2 => c.files.join(", "),
                n => format!("{}, {} (+{} more)", c.files[0], c.files[1], n - 2),
            };
            vec![
                c.date.to_string(),
                c.metric.to_owned(),
                cell(c.before),
                cell(c.after),
                c.change.map(|v| format!("{v:+}")).unwrap_or_else(|| "-".into()),
                files,
            ]
        })
        .collect();
    render::table(out, &["date", "metric", "before", "after", "change", "files"], &rows)
}
