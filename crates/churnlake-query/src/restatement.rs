//! Restatements (METRICS.md "As known on a date"): every (day, column) of the series whose
//! value as known on A differs from its value as known on B, with the drops that arrived in
//! between and touch that day.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDate};
use churnlake_lake::{ReportKind, columns as c};
use polars::prelude::*;
use serde::Serialize;

use crate::error::{Context, Result};
use crate::explain::date_of;
use crate::series::{self, Grain, SERIES_COLUMNS};
use crate::sources::LakeSources;

/// One restated figure. `before` / `after` are null on a day only one side's series has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    pub date: NaiveDate,
    pub metric: &'static str,
    pub before: Option<i64>,
    pub after: Option<i64>,
    /// `after − before` (null when either is).
    pub change: Option<i64>,
    /// The drops known on B but not on A that touch this day: with a row dated on or
    /// before it, or a data date on or before it (a figure of day D depends on every
    /// event up to D).
    pub files: Vec<String>,
}

/// A month's cancellation figures of one level, as known on each date (the table's summary).
#[derive(Debug, Clone, PartialEq)]
pub struct MonthRates {
    /// `YYYY-MM`.
    pub month: String,
    /// `subscriptions` or `subscribers`.
    pub level: &'static str,
    pub cancels: [i64; 2],
    /// METRICS.md's cancellation rate over the month's days both series have, inside the
    /// compared period (null when undefined).
    pub rate: [Option<f64>; 2],
}

/// The restatement between two knowledge dates.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Restatement {
    pub known_on: [NaiveDate; 2],
    /// The drops known on B but not on A, in manifest order.
    pub files: Vec<String>,
    pub changes: Vec<Change>,
    /// Per month with a change, each level's cancellations and rate on both sides.
    #[serde(skip)]
    pub months: Vec<MonthRates>,
}

type Daily = BTreeMap<NaiveDate, Vec<i64>>;

/// The daily series as (date → values in `SERIES_COLUMNS[1..]` order).
fn daily(sources: &LakeSources) -> Result<Daily> {
    let df = series::series(sources, None, None, None, Grain::Day)?;
    let dates = df.column("date").ctx("reading the series")?.date().ctx("reading the series")?.clone();
    let mut columns = Vec::new();
    for metric in &SERIES_COLUMNS[1..] {
        let column = df.column(metric).ctx("reading the series")?.cast(&DataType::Int64).ctx("reading the series")?;
        columns.push(column.i64().ctx("reading the series")?.clone());
    }
    Ok((0..df.height())
        .map(|i| (date_of(dates.phys.get(i)), columns.iter().map(|c| c.get(i).unwrap_or(0)).collect()))
        .collect())
}

/// Per new file: the dates its rows carry (create, cancel and event dates) and its data date.
fn file_dates(sources: &LakeSources, files: &[String]) -> Result<BTreeMap<String, BTreeSet<NaiveDate>>> {
    let mut dates: BTreeMap<String, BTreeSet<NaiveDate>> = BTreeMap::new();
    if files.is_empty() {
        return Ok(dates);
    }
    let wanted_names = Series::new("names".into(), files.to_vec());
    let tables: [(ReportKind, &[&str]); 3] = [
        (ReportKind::Subscriptions, &[c::CREATE_DATE, c::CANCEL_DATE]),
        (ReportKind::Cancellations, &[c::CREATE_DATE, c::CANCEL_DATE]),
        (ReportKind::SubscriberEvents, &[c::EVENT_DATE]),
    ];
    for (kind, own) in tables {
        let mut wanted = vec![(c::SOURCE_FILE, DataType::String), (c::DATA_DATE, DataType::Date)];
        wanted.extend(own.iter().map(|name| (*name, DataType::Date)));
        let names = wanted_names.clone();
        let lf = sources.scan_where(kind.as_str(), &wanted, move |lf| {
            lf.filter(col(c::SOURCE_FILE).is_in(lit(names).implode(false), false))
        })?;
        let mut parts = vec![lf.clone().select([col(c::SOURCE_FILE), col(c::DATA_DATE).alias("day")])];
        for name in own {
            parts.push(lf.clone().select([col(c::SOURCE_FILE), col(*name).alias("day")]));
        }
        let df = concat(parts, UnionArgs::default())
            .ctx("dating the new drops")?
            .filter(col("day").is_not_null())
            .unique(None, UniqueKeepStrategy::Any)
            .collect()
            .ctx("dating the new drops")?;
        let file = df.column(c::SOURCE_FILE).ctx("new drops")?.str().ctx("new drops")?.clone();
        let day = df.column("day").ctx("new drops")?.date().ctx("new drops")?.clone();
        for i in 0..df.height() {
            if let (Some(f), Some(d)) = (file.get(i), day.phys.get(i)) {
                dates.entry(f.to_owned()).or_default().insert(date_of(Some(d)));
            }
        }
    }
    Ok(dates)
}

/// The restatement between the lake as known on `known_on[0]` (`before`) and on
/// `known_on[1]` (`after`), over `from..=to` when given. `new_files` are the drops known on
/// the second date but not on the first; `new_data_dates` their data dates.
pub(crate) fn restatement(
    before: &LakeSources,
    after: &LakeSources,
    known_on: [NaiveDate; 2],
    new_files: Vec<(String, NaiveDate)>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Result<Restatement> {
    let a = daily(before)?;
    let b = daily(after)?;
    let names: Vec<String> = new_files.iter().map(|(name, _)| name.clone()).collect();
    let mut touched = file_dates(after, &names)?;
    for (name, data_date) in &new_files {
        touched.entry(name.clone()).or_default().insert(*data_date);
    }
    let inside = |d: &NaiveDate| from.is_none_or(|f| *d >= f) && to.is_none_or(|t| *d <= t);
    let days: BTreeSet<NaiveDate> = a.keys().chain(b.keys()).copied().filter(inside).collect();
    let mut changes = Vec::new();
    for day in &days {
        for (m, metric) in SERIES_COLUMNS[1..].iter().enumerate() {
            let (x, y) = (a.get(day).map(|v| v[m]), b.get(day).map(|v| v[m]));
            if x == y {
                continue;
            }
            // a figure of day D depends on every event up to D: the drops with a row (or a
            // data date) on or before D can change it
            let files = names
                .iter()
                .filter(|name| {
                    touched.get(*name).and_then(|dates| dates.iter().next()).is_some_and(|first| first <= day)
                })
                .cloned()
                .collect();
            changes.push(Change {
                date: *day,
                metric,
                before: x,
                after: y,
                change: x.zip(y).map(|(x, y)| y - x),
                files,
            });
        }
    }
    changes.sort_by(|p, q| (p.date, p.metric).cmp(&(q.date, q.metric)));
    // a month's figures compare like with like: the days both sides have, inside the window
    let common: BTreeSet<NaiveDate> =
        days.iter().filter(|d| a.contains_key(*d) && b.contains_key(*d)).copied().collect();
    let months = month_rates(&a, &b, &common, &changes);
    Ok(Restatement { known_on, files: names, changes, months })
}

/// Each changed month's cancellations and rate per level, on both sides, over the month's
/// days in `common`.
fn month_rates(a: &Daily, b: &Daily, common: &BTreeSet<NaiveDate>, changes: &[Change]) -> Vec<MonthRates> {
    let month = |d: &NaiveDate| format!("{:04}-{:02}", d.year(), d.month());
    let changed: BTreeSet<String> = changes.iter().map(|c| month(&c.date)).collect();
    let column = |name: &str| SERIES_COLUMNS[1..].iter().position(|c| *c == name).unwrap_or(0);
    let mut out = Vec::new();
    for m in changed {
        for level in ["subscriptions", "subscribers"] {
            let (cancelled, active) = (column(&format!("cancelled_{level}")), column(&format!("active_{level}")));
            let figures = |s: &Daily| {
                let days: Vec<&Vec<i64>> =
                    s.iter().filter(|(d, _)| month(d) == m && common.contains(*d)).map(|(_, v)| v).collect();
                let cancels: i64 = days.iter().map(|v| v[cancelled]).sum();
                let actives: i64 = days.iter().map(|v| v[active]).sum();
                let rate = (actives != 0).then(|| cancels as f64 / (actives as f64 / days.len() as f64));
                (cancels, rate)
            };
            let ((c0, r0), (c1, r1)) = (figures(a), figures(b));
            if c0 != c1 || r0 != r1 {
                out.push(MonthRates { month: m.clone(), level, cancels: [c0, c1], rate: [r0, r1] });
            }
        }
    }
    out
}
