//! `explain`: why a subscription counts as it does — its events in the order the
//! engine applies them, each with its source file and line, the state after it, and
//! the anomalies that touched it.

use chrono::{NaiveDate, NaiveDateTime};
use churnlake_lake::columns as c;
use polars::prelude::*;
use serde::Serialize;

use crate::error::{Context, QueryError, Result};
use crate::lifecycle::{CANCELLED, CREATED, Lifecycle, REACTIVATED};
use crate::sources::LakeSources;

/// One applied event.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExplainedEvent {
    pub event: &'static str,
    /// The date the source gives.
    pub date: NaiveDate,
    /// The time of day, when the source gives one.
    pub at: Option<NaiveDateTime>,
    /// The day it takes effect (its date, or the creation date when dated earlier).
    pub effective_date: NaiveDate,
    pub source_file: String,
    pub source_line: i64,
    pub state_after: &'static str,
    pub anomaly: Option<String>,
}

/// A subscription's history as the engine sees it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Explanation {
    pub subscription_id: String,
    pub created_date: NaiveDate,
    pub current_status: &'static str,
    pub as_of: NaiveDate,
    pub events: Vec<ExplainedEvent>,
}

impl std::fmt::Display for Explanation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "subscription {}: created {}, {} at the end of {}",
            self.subscription_id, self.created_date, self.current_status, self.as_of
        )?;
        for e in &self.events {
            let when = match e.at {
                Some(at) => at.format("%Y-%m-%d %H:%M:%S").to_string(),
                None => e.date.to_string(),
            };
            let moved = if e.effective_date != e.date {
                format!(" (applied on {})", e.effective_date)
            } else {
                String::new()
            };
            writeln!(
                f,
                "  {when:<19}  {:<12} -> {:<8}  {}:{}{moved}",
                e.event, e.state_after, e.source_file, e.source_line
            )?;
            if let Some(anomaly) = &e.anomaly {
                writeln!(f, "  {:<19}  ! {anomaly}", "")?;
            }
        }
        Ok(())
    }
}

pub(crate) fn explain(sources: &LakeSources, subscription_id: &str) -> Result<Explanation> {
    let life = Lifecycle::plan(sources, None)?;
    let df = life
        .events
        .clone()
        .filter(col(c::SUBSCRIPTION_ID).eq(lit(subscription_id.to_owned())))
        .filter(col("effective_date").lt_eq(lit(life.as_of)))
        .sort(["effective_date", "order_key"], SortMultipleOptions::default())
        .select([
            col("kind"),
            col("own_date"),
            col("at"),
            col("effective_date"),
            col("created_date"),
            col(c::SOURCE_FILE),
            col(c::SOURCE_LINE),
        ])
        .collect()
        .ctx("reading the subscription's events")?;
    if df.height() == 0 {
        return Err(QueryError::UnknownSubscription(subscription_id.to_owned()));
    }
    let kinds = df.column("kind").ctx("events")?.i32().ctx("events")?.clone();
    let dates = df.column("own_date").ctx("events")?.date().ctx("events")?.clone();
    let effective = df.column("effective_date").ctx("events")?.date().ctx("events")?.clone();
    let created = df.column("created_date").ctx("events")?.date().ctx("events")?.clone();
    let ats = df.column("at").ctx("events")?.datetime().ctx("events")?.clone();
    let files = df.column(c::SOURCE_FILE).ctx("events")?.str().ctx("events")?.clone();
    let lines = df.column(c::SOURCE_LINE).ctx("events")?.i64().ctx("events")?.clone();

    let day = |v: Option<i32>| {
        v.and_then(|d| NaiveDate::from_num_days_from_ce_opt(d + 719_163)).unwrap_or_default()
    };
    let created_date = day(created.phys.get(0));
    let mut events = Vec::with_capacity(df.height());
    let mut active = false;
    for i in 0..df.height() {
        let kind = kinds.get(i).unwrap_or(CREATED);
        let date = day(dates.phys.get(i));
        let mut anomalies: Vec<String> = Vec::new();
        if kind != CREATED && date < created_date {
            anomalies.push(format!("dated before the creation ({created_date}): applied on it"));
        }
        if kind == REACTIVATED && active {
            anomalies.push("reactivation of an active subscription: no change".into());
        }
        if kind == CANCELLED && !active && i > 0 {
            anomalies.push(
                "cancellation of an inactive subscription: no change (a reactivation may be missing)"
                    .into(),
            );
        }
        active = kind != CANCELLED;
        events.push(ExplainedEvent {
            event: match kind {
                CREATED => "created",
                REACTIVATED => "reactivated",
                _ => "cancelled",
            },
            date,
            at: ats
                .phys
                .get(i)
                .and_then(chrono::DateTime::from_timestamp_millis)
                .map(|t| t.naive_utc()),
            effective_date: day(effective.phys.get(i)),
            source_file: files.get(i).unwrap_or_default().to_owned(),
            source_line: lines.get(i).unwrap_or_default(),
            state_after: if active { "active" } else { "inactive" },
            anomaly: (!anomalies.is_empty()).then(|| anomalies.join("; ")),
        });
    }
    Ok(Explanation {
        subscription_id: subscription_id.to_owned(),
        created_date,
        current_status: if active { "active" } else { "inactive" },
        as_of: life.as_of,
        events,
    })
}
