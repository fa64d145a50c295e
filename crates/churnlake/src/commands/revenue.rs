//! The revenue commands: `revenue` (MRR, ARPU, movements), `cohorts` (retention) and
//! `cancellations` (why people cancel),
//! formatted here; every figure comes from the query crate.

use anyhow::Result;
use chrono::NaiveDate;
use churnlake_charts::{Axis, Chart, Kind, Series};
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
    if let (Some(chart), Some(path)) = (args.chart.chart, &args.output.out) {
        let kind = chart_kind(chart);
        write_chart(&cohort_chart(&rows, kind, level)?, kind, path)?;
        footer(ctx, &reader, io)?;
        return Ok(Outcome::Ok);
    }
    let mut df = match args.output.format {
        Format::Table => triangle(&rows, by)?,
        _ => reader.metrics.cohort_frame(&rows, by)?,
    };
    emit(ctx, &reader, &mut df, &args.output, io)?;
    Ok(Outcome::Ok)
}

/// The ages `cohorts --chart bar` compares the cohorts at.
const BAR_AGES: [i64; 4] = [1, 3, 6, 12];

/// The cohort cells as a chart, shares in %: `table` the triangle (a row per cohort, a
/// column per age), `bar` each cohort's share after [`BAR_AGES`] months (the ages the lake
/// reaches), `line` each cohort's share at every month end of the lake. A stacked bar or a
/// pie would add up shares of different cohorts: refused.
fn cohort_chart(rows: &[CohortRow], kind: Kind, level: CohortLevel) -> Result<Chart> {
    use std::collections::BTreeMap;
    let label = |row: &CohortRow| match &row.group {
        Some(group) if !group.is_empty() => format!("{} {group}", row.cohort),
        Some(_) => format!("{} (none)", row.cohort),
        None => row.cohort.clone(),
    };
    let share = |row: &CohortRow| row.share_millionths().map(|m| m as f64 / 10_000.0);
    let mut cohorts: Vec<String> = rows.iter().map(label).collect();
    cohorts.sort();
    cohorts.dedup();
    let position: BTreeMap<&str, usize> = cohorts.iter().enumerate().map(|(i, c)| (c.as_str(), i)).collect();
    let entity = match level {
        CohortLevel::Subscriptions => "subscriptions",
        CohortLevel::Subscribers => "subscribers",
    };
    let fitting = "a cohort chart can be drawn as table, bar or line";
    match kind {
        Kind::Table | Kind::Bar => {
            let ages: Vec<i64> = match kind {
                Kind::Table => (0..=rows.iter().map(|r| r.age).max().unwrap_or(0)).collect(),
                _ => BAR_AGES.into_iter().filter(|a| rows.iter().any(|r| r.age == *a)).collect(),
            };
            if ages.is_empty() {
                return Err(UserError(format!(
                    "cohorts --chart bar: no cohort is {} months old within the lake's data dates (try --chart table)",
                    BAR_AGES[0]
                ))
                .into());
            }
            let mut series: Vec<Series> = ages
                .iter()
                .map(|age| Series {
                    // the triangle's columns are the ages, as in the text table
                    name: if kind == Kind::Table { age.to_string() } else { format!("month {age}") },
                    values: vec![None; cohorts.len()],
                })
                .collect();
            for row in rows {
                if let Some(at) = ages.iter().position(|a| *a == row.age) {
                    series[at].values[position[label(row).as_str()]] = share(row);
                }
            }
            Ok(Chart {
                title: format!("Share of each month's new {entity} still active, by months since (%)"),
                x_label: "cohort".into(),
                x: Axis::Categories(cohorts),
                y_label: "%".into(),
                series,
                group_by: None,
            })
        }
        Kind::Line => {
            // the month end `age` months after the cohort's month
            let end_of = |row: &CohortRow| -> Option<NaiveDate> {
                let first = NaiveDate::parse_from_str(&format!("{}-01", row.cohort), "%Y-%m-%d").ok()?;
                let next = first.checked_add_months(chrono::Months::new(u32::try_from(row.age).ok()? + 1))?;
                next.pred_opt()
            };
            let mut ends: Vec<NaiveDate> = rows.iter().filter_map(end_of).collect();
            ends.sort();
            ends.dedup();
            let at: BTreeMap<NaiveDate, usize> = ends.iter().enumerate().map(|(i, d)| (*d, i)).collect();
            let mut series: Vec<Series> =
                cohorts.iter().map(|c| Series { name: c.clone(), values: vec![None; ends.len()] }).collect();
            for row in rows {
                if let Some(end) = end_of(row) {
                    series[position[label(row).as_str()]].values[at[&end]] = share(row);
                }
            }
            Ok(Chart {
                title: format!("Share of each month's new {entity} active at each month end (%)"),
                x_label: "month end".into(),
                x: Axis::Dates(ends),
                y_label: "%".into(),
                series,
                group_by: Some("cohort".into()),
            })
        }
        Kind::Stacked => {
            Err(UserError(format!("--chart stacked: stacking would add up shares of different cohorts; {fitting}"))
                .into())
        }
        Kind::Pie => {
            Err(UserError(format!("--chart pie: the cohorts' shares are not parts of one whole; {fitting}")).into())
        }
    }
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
