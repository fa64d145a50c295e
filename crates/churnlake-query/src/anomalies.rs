//! The lifecycle anomalies of METRICS.md, listed with their source file and line: events
//! dated before their subscription's creation, reactivations of an active subscription,
//! cancellations of an inactive one (each applied exactly as `explain` shows them), events
//! dated after the lake's last data date (kept, not yet in effect), and
//! code-9 events whose public id no report row carries (an unknown id: kept aside,
//! changing nothing).

use chrono::{DateTime, NaiveDate};
use churnlake_lake::{ReportKind, columns as c};
use polars::prelude::*;

use crate::driver::{Consumer, Passes};
use crate::error::{Context, Result};
use crate::explain::{Later, RawEvent, apply, date_of};
use crate::lifecycle::{Attributes, CREATED, Lifecycle, Lineage, REACTIVATED};
use crate::sources::LakeSources;

/// Columns of the anomaly list, in order.
pub const ANOMALY_COLUMNS: [&str; 8] = [
    "anomaly",
    "subscription_id",
    "public_subscription_id",
    "event",
    "date",
    "effective_date",
    "source_file",
    "source_line",
];

#[derive(Default)]
struct Rows {
    anomaly: Vec<&'static str>,
    subscription_id: Vec<Option<String>>,
    public_id: Vec<Option<String>>,
    event: Vec<&'static str>,
    date: Vec<NaiveDate>,
    effective_date: Vec<Option<NaiveDate>>,
    source_file: Vec<String>,
    source_line: Vec<i64>,
}

/// Every anomaly in the lake up to `as_of`, ordered by anomaly, subscription and date.
pub(crate) fn anomalies(sources: &LakeSources, as_of: Option<NaiveDate>) -> Result<DataFrame> {
    let (_, last) = sources.range()?;
    // at the lake's last data date, events dated after it are listed (in the lake, not in
    // effect yet); as of an earlier day they are its future
    let later = if as_of.is_none_or(|day| day >= last) { Later::List } else { Later::Omit };
    let passes = Passes::plan(sources, Attributes::UserAnd(None), Lineage::Keep)?;
    let mut found = Found { later, rows: Rows::default() };
    passes.run_one(as_of, &mut found)?;
    let mut rows = found.rows;
    unknown_ids(sources, (later == Later::Omit).then_some(as_of).flatten(), &mut rows)?;

    let df = DataFrame::new_infer_height(vec![
        Column::new("anomaly".into(), rows.anomaly),
        Column::new("subscription_id".into(), rows.subscription_id),
        Column::new("public_subscription_id".into(), rows.public_id),
        Column::new("event".into(), rows.event),
        Column::new("date".into(), rows.date),
        Column::new("effective_date".into(), rows.effective_date),
        Column::new("source_file".into(), rows.source_file),
        Column::new("source_line".into(), rows.source_line),
    ])
    .ctx("listing anomalies")?;
    df.lazy()
        .sort(["anomaly", "subscription_id", "date", "source_file", "source_line"], SortMultipleOptions::default())
        .collect()
        .ctx("listing anomalies")
}

/// The anomalies of each pass's subscriptions, walked as `explain` walks them.
struct Found {
    later: Later,
    rows: Rows,
}

impl Consumer for Found {
    fn add(&mut self, life: &Lifecycle, _pass: u32) -> Result<()> {
        walk(life, self.later, &mut self.rows)
    }
}

/// Walks every subscription of `life` with events, adding its anomalies to `rows`.
fn walk(life: &Lifecycle, later: Later, rows: &mut Rows) -> Result<()> {
    let subscriptions = life
        .base
        .clone()
        .select([
            col("sub_idx"),
            col(c::SUBSCRIPTION_ID),
            col("created_date"),
            col("created_source_file"),
            col("created_source_line"),
        ])
        .sort(["sub_idx"], SortMultipleOptions::default())
        .collect()
        .ctx("reading subscriptions")?;
    let events =
        life.events.clone().sort(["sub_idx"], SortMultipleOptions::default()).collect().ctx("reading events")?;

    let sub_idx = subscriptions.column("sub_idx").ctx("anomalies")?.idx().ctx("anomalies")?.clone();
    let ids = subscriptions.column(c::SUBSCRIPTION_ID).ctx("anomalies")?.str().ctx("anomalies")?.clone();
    let created = subscriptions.column("created_date").ctx("anomalies")?.date().ctx("anomalies")?.clone();
    let e_sub = events.column("sub_idx").ctx("anomalies")?.idx().ctx("anomalies")?.clone();
    let e_kind = events.column("kind").ctx("anomalies")?.i32().ctx("anomalies")?.clone();
    let e_date = events.column("own_date").ctx("anomalies")?.date().ctx("anomalies")?.clone();
    let e_at = events.column("at").ctx("anomalies")?.datetime().ctx("anomalies")?.clone();
    let e_file = events.column(c::SOURCE_FILE).ctx("anomalies")?.str().ctx("anomalies")?.clone();
    let e_line = events.column(c::SOURCE_LINE).ctx("anomalies")?.i64().ctx("anomalies")?.clone();

    // both frames are sorted by sub_idx: walk them together, one subscription at a time
    let mut next = 0usize;
    for i in 0..subscriptions.height() {
        let Some(idx) = sub_idx.get(i) else { continue };
        let mut raw = vec![RawEvent {
            kind: CREATED,
            date: date_of(created.phys.get(i)),
            at: None,
            source_file: String::new(),
            source_line: 0,
        }];
        while next < events.height() && e_sub.get(next).is_some_and(|s| s < idx) {
            next += 1;
        }
        while next < events.height() && e_sub.get(next) == Some(idx) {
            raw.push(RawEvent {
                kind: e_kind.get(next).unwrap_or(REACTIVATED),
                date: date_of(e_date.phys.get(next)),
                at: e_at.phys.get(next).and_then(DateTime::from_timestamp_millis).map(|t| t.naive_utc()),
                source_file: e_file.get(next).unwrap_or_default().to_owned(),
                source_line: e_line.get(next).unwrap_or_default(),
            });
            next += 1;
        }
        if raw.len() == 1 {
            continue;
        }
        let id = ids.get(i).unwrap_or_default();
        let explained = apply(id, date_of(created.phys.get(i)), life.as_of, later, raw);
        for event in explained.events.iter().filter(|e| !e.kinds.is_empty()) {
            for kind in &event.kinds {
                rows.anomaly.push(kind);
                rows.subscription_id.push(Some(id.to_owned()));
                rows.public_id.push(None);
                rows.event.push(event.event);
                rows.date.push(event.date);
                rows.effective_date.push(Some(event.effective_date));
                rows.source_file.push(event.source_file.clone());
                rows.source_line.push(event.source_line);
            }
        }
    }
    Ok(())
}

/// Code-9 events (up to `as_of`, when given) whose public id no subscription or
/// cancellation report row carries.
fn unknown_ids(sources: &LakeSources, as_of: Option<NaiveDate>, rows: &mut Rows) -> Result<()> {
    let known = [ReportKind::Subscriptions, ReportKind::Cancellations]
        .map(|kind| sources.scan(kind.as_str(), &[(c::PUBLIC_SUBSCRIPTION_ID, DataType::String)]));
    let [a, b] = known;
    let known = concat([a?, b?], UnionArgs::default()).ctx("reading public ids")?;
    let orphans = events_with_code(sources, 9)?
        .filter(as_of.map_or(lit(true), |day| col(c::EVENT_DATE).lt_eq(lit(day))))
        .join(known, [col(c::PUBLIC_SUBSCRIPTION_ID)], [col(c::PUBLIC_SUBSCRIPTION_ID)], JoinArgs::new(JoinType::Anti))
        .collect()
        .ctx("finding events for unknown ids")?;
    let public = orphans.column(c::PUBLIC_SUBSCRIPTION_ID).ctx("anomalies")?.str().ctx("anomalies")?.clone();
    let dates = orphans.column(c::EVENT_DATE).ctx("anomalies")?.date().ctx("anomalies")?.clone();
    let files = orphans.column(c::SOURCE_FILE).ctx("anomalies")?.str().ctx("anomalies")?.clone();
    let lines = orphans.column(c::SOURCE_LINE).ctx("anomalies")?.i64().ctx("anomalies")?.clone();
    for i in 0..orphans.height() {
        rows.anomaly.push("unknown_id");
        rows.subscription_id.push(None);
        rows.public_id.push(public.get(i).map(str::to_owned));
        rows.event.push("reactivated");
        rows.date.push(date_of(dates.phys.get(i)));
        rows.effective_date.push(None);
        rows.source_file.push(files.get(i).unwrap_or_default().to_owned());
        rows.source_line.push(lines.get(i).unwrap_or_default());
    }
    Ok(())
}

/// The subscriber events of one code: public id, code, date, source file and line (the
/// code filter pushed into the Parquet reader).
pub(crate) fn events_with_code(sources: &LakeSources, code: i32) -> Result<LazyFrame> {
    let wanted = [
        (c::PUBLIC_SUBSCRIPTION_ID, DataType::String),
        (c::EVENT_CODE, DataType::Int32),
        (c::EVENT_DATE, DataType::Date),
        (c::SOURCE_FILE, DataType::String),
        (c::SOURCE_LINE, DataType::Int64),
    ];
    sources.scan_where(ReportKind::SubscriberEvents.as_str(), &wanted, |lf| lf.filter(col(c::EVENT_CODE).eq(lit(code))))
}
