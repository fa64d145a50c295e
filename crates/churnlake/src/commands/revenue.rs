//! The revenue commands: `revenue` (MRR, ARPU, movements), `cohorts` (retention) and
//! `cancellations` (why people cancel),
//! formatted here; every figure comes from the query crate.

use anyhow::Result;
use churnlake_query::{CohortLevel, CohortRow, DataFrame, Grain, MRR_FACTOR};
use polars::prelude::Column;

use super::chart::{ChartSpec, frame_chart, kind as chart_kind, write_chart};
use super::{Ctx, Io, emit, emit_noted, footer};
use crate::Outcome;
use crate::UserError;
use crate::args::{CancellationsArgs, CohortsArgs, Format, GrainArg, LevelArg, RevenueArgs};

/// The factor's statement beside every MRR figure (a note on the message output; Parquet
/// key-value metadata `churnlake:mrr_factor`).
fn factor_note() -> String {
    format!(
        "MRR = price × quantity × {MRR_FACTOR} ÷ frequency_days (365.25 / 12 days a month); money rounded half to even"
    )
}

fn factor_metadata() -> Vec<(String, String)> {
    vec![
        ("churnlake:mrr_factor".into(), MRR_FACTOR.into()),
        ("churnlake:mrr_formula".into(), format!("price * quantity * {MRR_FACTOR} / frequency_days")),
    ]
}

/// `churnlake revenue`: MRR, ARPU and the MRR movements per day (week, month), optionally
/// per group of an attribute in effect on each day.
pub(super) fn revenue(ctx: &Ctx, io: &mut Io, args: &RevenueArgs) -> Result<Outcome> {
    if let (Some(from), Some(to)) = (args.from, args.to)
        && from > to
    {
        return Err(UserError(format!(
            "--from {from} is after --to {to}: the period is empty (give the earlier date to --from)"
        ))
        .into());
    }
    let reader = ctx.reader(args.lake.lake.as_deref(), args.known.as_known_on)?;
    let grain = match args.grain {
        GrainArg::Day => Grain::Day,
        GrainArg::Week => Grain::Week,
        GrainArg::Month => Grain::Month,
    };
    let mut df = reader.metrics.revenue(args.from, args.to, args.by.as_deref(), grain)?;
    if let (Some(chart), Some(path)) = (args.chart.chart, &args.output.out) {
        let title = match &args.by {
            Some(by) => format!("MRR by {by} (price × quantity × 30.4375 ÷ frequency days)"),
            None => "MRR (price × quantity × 30.4375 ÷ frequency days)".to_owned(),
        };
        let spec = ChartSpec {
            title,
            x: "date",
            values: &["mrr"],
            group: args.by.as_deref(),
            y_label: super::report::BASE_CURRENCY.into(),
            scale: 1.0,
        };
        write_chart(&frame_chart(&df, spec)?, chart_kind(chart), path)?;
        writeln!(io.err, "{}", factor_note())?;
        footer(ctx, &reader, io)?;
        return Ok(Outcome::Ok);
    }
    emit_noted(ctx, &reader, &mut df, &args.output, io, &factor_metadata(), Some(&factor_note()))?;
    Ok(Outcome::Ok)
}

/// `churnlake cohorts`: retention cohorts, one row per cell; the table is the triangle.
pub(super) fn cohorts(ctx: &Ctx, io: &mut Io, args: &CohortsArgs) -> Result<Outcome> {
    let reader = ctx.reader(args.lake.lake.as_deref(), args.known.as_known_on)?;
    let level = match args.level {
        LevelArg::Subscriptions => CohortLevel::Subscriptions,
        LevelArg::Subscribers => CohortLevel::Subscribers,
    };
    let by = args.by.as_deref();
    let rows = reader.metrics.cohort_rows(level, by)?;
    let mut df = match args.output.format {
        Format::Table => triangle(&rows, by)?,
        _ => reader.metrics.cohort_frame(&rows, by)?,
    };
    emit(ctx, &reader, &mut df, &args.output, io)?;
    Ok(Outcome::Ok)
}

/// The cells as the familiar triangle: `cohort, [by], size`, then one column per age with
/// the share as a percentage (one decimal; empty where the month end lies outside the lake).
fn triangle(rows: &[CohortRow], by: Option<&str>) -> Result<DataFrame> {
    use std::collections::BTreeMap;
    /// (cohort, group) -> (size, share per age)
    type Lines = BTreeMap<(String, Option<String>), (i64, Vec<Option<String>>)>;
    let ages = rows.iter().map(|r| r.age).max().map_or(0, |a| a + 1);
    let mut lines: Lines = BTreeMap::new();
    for row in rows {
        let line = lines
            .entry((row.cohort.clone(), row.group.clone()))
            .or_insert_with(|| (row.size, vec![None; ages as usize]));
        let share = row.share_millionths().map(|m| format!("{:.1} %", m as f64 / 10_000.0));
        if let Some(slot) = line.1.get_mut(row.age as usize) {
            *slot = share;
        }
    }
    let mut columns: Vec<Column> =
        vec![Column::new("cohort".into(), lines.keys().map(|k| k.0.clone()).collect::<Vec<_>>())];
    if let Some(by) = by {
        columns.push(Column::new(by.into(), lines.keys().map(|k| k.1.clone().unwrap_or_default()).collect::<Vec<_>>()));
    }
    columns.push(Column::new("size".into(), lines.values().map(|v| v.0).collect::<Vec<_>>()));
    for age in 0..ages as usize {
        let values: Vec<Option<String>> = lines.values().map(|v| v.1[age].clone()).collect();
        columns.push(Column::new(age.to_string().into(), values));
    }
    Ok(DataFrame::new(lines.len(), columns)?)
}

/// `churnlake cancellations`: the period's cancellation events counted per group.
pub(super) fn cancellations(ctx: &Ctx, io: &mut Io, args: &CancellationsArgs) -> Result<Outcome> {
    if args.from > args.to {
        return Err(UserError(format!(
            "--from {} is after --to {}: the period is empty (give the earlier date to --from)",
            args.from, args.to
        ))
        .into());
    }
    let reader = ctx.reader(args.lake.lake.as_deref(), args.known.as_known_on)?;
    let mut df = reader.metrics.cancellations(args.from, args.to, Some(args.by.as_str()))?;
    emit(ctx, &reader, &mut df, &args.output, io)?;
    Ok(Outcome::Ok)
}
