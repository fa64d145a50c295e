//! `explain`: why a subscription counts as it does — its events in the order the
//! engine applies them, each with its source file and line, the state after it, and
//! the anomalies that touched it.

use chrono::{NaiveDate, NaiveDateTime};
use churnlake_lake::columns as c;
use polars::prelude::*;
use serde::Serialize;

use crate::driver::{Consumer, Passes};
use crate::error::{Context, QueryError, Result};
use crate::lifecycle::{Attributes, CANCELLED, CREATED, Lifecycle, Lineage, REACTIVATED};
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
    /// The anomalies' kinds (`before_creation`, `reactivation_of_active`,
    /// `cancellation_of_inactive`, `after_last_data_date`), for `churnlake anomalies`.
    #[serde(skip)]
    pub kinds: Vec<&'static str>,
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

/// One event as read from the lake, before ordering.
pub(crate) struct RawEvent {
    pub(crate) kind: i32,
    pub(crate) date: NaiveDate,
    pub(crate) at: Option<NaiveDateTime>,
    pub(crate) source_file: String,
    pub(crate) source_line: i64,
}

pub(crate) fn date_of(days: Option<i32>) -> NaiveDate {
    days.and_then(|d| NaiveDate::from_num_days_from_ce_opt(d + 719_163)).unwrap_or_default()
}

/// Explains a subscription given by its id or, when no subscription has that id, by
/// its public id; as of the end of `as_of` (default: the last data date).
pub(crate) fn explain(sources: &LakeSources, id: &str, as_of: Option<NaiveDate>) -> Result<Explanation> {
    match explain_id(sources, id, as_of) {
        Err(QueryError::UnknownSubscription(_)) => {
            let ids = subscriptions_with_public_id(sources, id)?;
            match ids.as_slice() {
                [] => Err(QueryError::UnknownSubscription(id.to_owned())),
                [one] => explain_id(sources, one, as_of),
                _ => Err(QueryError::AmbiguousPublicId { public_id: id.to_owned(), ids: ids.join(", ") }),
            }
        }
        other => other,
    }
}

fn explain_id(sources: &LakeSources, subscription_id: &str, as_of: Option<NaiveDate>) -> Result<Explanation> {
    let (_, last) = sources.range()?;
    // at the lake's last data date, events dated after it are listed (in the lake, not in
    // effect yet); as of an earlier day they are its future
    let later = if as_of.is_none_or(|day| day >= last) { Later::List } else { Later::Omit };
    // only this subscription's rows are read: an explanation costs the same on any lake
    let passes = Passes::subscription(sources, subscription_id, Attributes::UserAnd(None), Lineage::Keep);
    let mut explained = Explained { subscription_id, later, explanation: None };
    passes.run_one(as_of, &mut explained)?;
    explained.explanation.ok_or_else(|| QueryError::UnknownSubscription(subscription_id.to_owned()))
}

/// The subscription ids report rows give for a public id, sorted.
fn subscriptions_with_public_id(sources: &LakeSources, public_id: &str) -> Result<Vec<String>> {
    let wanted = [(c::PUBLIC_SUBSCRIPTION_ID, DataType::String), (c::SUBSCRIPTION_ID, DataType::String)];
    let mut frames = Vec::new();
    for kind in [churnlake_lake::ReportKind::Subscriptions, churnlake_lake::ReportKind::Cancellations] {
        let wanted_id = public_id.to_owned();
        frames.push(sources.scan_where(kind.as_str(), &wanted, move |lf| {
            lf.filter(col(c::PUBLIC_SUBSCRIPTION_ID).eq(lit(wanted_id)))
        })?);
    }
    let df = concat(frames, UnionArgs::default())
        .ctx("resolving a public id")?
        .filter(col(c::SUBSCRIPTION_ID).is_not_null())
        .select([col(c::SUBSCRIPTION_ID)])
        .unique(None, UniqueKeepStrategy::Any)
        .sort([c::SUBSCRIPTION_ID], SortMultipleOptions::default())
        .collect()
        .ctx("resolving a public id")?;
    let ids = df.column(c::SUBSCRIPTION_ID).ctx("resolving a public id")?.str().ctx("resolving a public id")?;
    Ok(ids.iter().flatten().map(str::to_owned).collect())
}

/// The explanation of one subscription, from the one pass that reads its rows.
struct Explained<'a> {
    subscription_id: &'a str,
    later: Later,
    explanation: Option<Explanation>,
}

impl Consumer for Explained<'_> {
    fn add(&mut self, life: &Lifecycle, _pass: u32) -> Result<()> {
        self.explanation = explain_from(life, self.subscription_id, self.later)?;
        Ok(())
    }
}

/// The subscription's explanation (`None`: `life` does not hold it).
fn explain_from(life: &Lifecycle, subscription_id: &str, later: Later) -> Result<Option<Explanation>> {
    let base = life
        .base
        .clone()
        .filter(col(c::SUBSCRIPTION_ID).eq(lit(subscription_id.to_owned())))
        .select([col("created_date"), col("created_source_file"), col("created_source_line")])
        .collect()
        .ctx("finding the subscription")?;
    if base.height() == 0 {
        return Ok(None);
    }
    let created_date =
        date_of(base.column("created_date").ctx("subscription")?.date().ctx("subscription")?.phys.get(0));
    let mut raw = vec![RawEvent {
        kind: CREATED,
        date: created_date,
        at: None,
        source_file: base
            .column("created_source_file")
            .ctx("subscription")?
            .str()
            .ctx("subscription")?
            .get(0)
            .unwrap_or_default()
            .to_owned(),
        source_line: base
            .column("created_source_line")
            .ctx("subscription")?
            .i64()
            .ctx("subscription")?
            .get(0)
            .unwrap_or_default(),
    }];
    // one plan: the dense ids are only meaningful inside the query that made them
    let df = life
        .events
        .clone()
        .join(
            life.base
                .clone()
                .filter(col(c::SUBSCRIPTION_ID).eq(lit(subscription_id.to_owned())))
                .select([col("sub_idx")]),
            [col("sub_idx")],
            [col("sub_idx")],
            JoinArgs::new(JoinType::Inner),
        )
        .collect()
        .ctx("reading the subscription's events")?;
    let kinds = df.column("kind").ctx("events")?.i32().ctx("events")?.clone();
    let dates = df.column("own_date").ctx("events")?.date().ctx("events")?.clone();
    let ats = df.column("at").ctx("events")?.datetime().ctx("events")?.clone();
    let files = df.column(c::SOURCE_FILE).ctx("events")?.str().ctx("events")?.clone();
    let lines = df.column(c::SOURCE_LINE).ctx("events")?.i64().ctx("events")?.clone();
    for i in 0..df.height() {
        raw.push(RawEvent {
            kind: kinds.get(i).unwrap_or(CANCELLED),
            date: date_of(dates.phys.get(i)),
            at: ats.phys.get(i).and_then(chrono::DateTime::from_timestamp_millis).map(|t| t.naive_utc()),
            source_file: files.get(i).unwrap_or_default().to_owned(),
            source_line: lines.get(i).unwrap_or_default(),
        });
    }
    Ok(Some(apply(subscription_id, created_date, life.as_of, later, raw)))
}

/// What `apply` does with events that take effect after `as_of`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Later {
    /// Leave them out (a state as of a day inside the lake's range: they are its future).
    Omit,
    /// List them, unapplied, as `after_last_data_date` (`as_of` is the lake's last data
    /// date: they are in the lake, dated after it, and change no state yet).
    List,
}

/// Orders the events as METRICS.md does and walks them, noting state and anomalies.
pub(crate) fn apply(
    subscription_id: &str,
    created_date: NaiveDate,
    as_of: NaiveDate,
    later: Later,
    mut raw: Vec<RawEvent>,
) -> Explanation {
    let effective = |e: &RawEvent| e.date.max(created_date);
    if later == Later::Omit {
        raw.retain(|e| effective(e) <= as_of);
    }
    // a cancellation and a reactivation on one date go by time only when both carry one
    let timed_pair = |date: NaiveDate, raw: &[RawEvent]| {
        let on_date: Vec<&RawEvent> = raw.iter().filter(|e| e.kind != CREATED && e.date == date).collect();
        on_date.len() == 2 && on_date.iter().all(|e| e.at.is_some())
    };
    let keys: Vec<(NaiveDate, i32, NaiveDate, i64, i32)> = raw
        .iter()
        .map(|e| {
            let time = if e.kind != CREATED && timed_pair(e.date, &raw) {
                e.at.map(|t| t.and_utc().timestamp_millis()).unwrap_or(0)
            } else {
                0
            };
            (effective(e), i32::from(e.kind != CREATED), e.date, time, e.kind)
        })
        .collect();
    let mut order: Vec<usize> = (0..raw.len()).collect();
    order.sort_by_key(|&i| keys[i]);
    let mut events = Vec::with_capacity(raw.len());
    let mut active = false;
    for (n, &i) in order.iter().enumerate() {
        let e = &raw[i];
        let mut anomalies: Vec<String> = Vec::new();
        let mut kinds = Vec::new();
        let applied = effective(e) <= as_of;
        if !applied {
            anomalies.push(format!("dated after the last data date ({as_of}): not in effect yet"));
            kinds.push("after_last_data_date");
        } else if e.kind != CREATED && e.date < created_date {
            anomalies.push(format!("dated before the creation ({created_date}): applied on it"));
            kinds.push("before_creation");
        }
        if applied && e.kind == REACTIVATED && active {
            anomalies.push("reactivation of an active subscription: no change".into());
            kinds.push("reactivation_of_active");
        }
        if applied && e.kind == CANCELLED && !active && n > 0 {
            anomalies
                .push("cancellation of an inactive subscription: no change (a reactivation may be missing)".into());
            kinds.push("cancellation_of_inactive");
        }
        if applied {
            active = e.kind != CANCELLED;
        }
        events.push(ExplainedEvent {
            event: match e.kind {
                CREATED => "created",
                REACTIVATED => "reactivated",
                _ => "cancelled",
            },
            date: e.date,
            at: e.at,
            effective_date: effective(e),
            source_file: e.source_file.clone(),
            source_line: e.source_line,
            state_after: if active { "active" } else { "inactive" },
            anomaly: (!anomalies.is_empty()).then(|| anomalies.join("; ")),
            kinds,
        });
    }
    Explanation {
        subscription_id: subscription_id.to_owned(),
        created_date,
        current_status: if active { "active" } else { "inactive" },
        as_of,
        events,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("a test date")
    }

    fn event(kind: i32, date: &str, time: Option<&str>) -> RawEvent {
        RawEvent {
            kind,
            date: d(date),
            at: time.map(|t| d(date).and_time(chrono::NaiveTime::parse_from_str(t, "%H:%M").expect("a time"))),
            source_file: "f.csv".into(),
            source_line: 2,
        }
    }

    fn status(events: Vec<RawEvent>) -> &'static str {
        apply("1", d("2023-05-01"), d("2023-05-31"), Later::Omit, events).current_status
    }

    #[test]
    fn same_date_pairs_follow_the_metrics_rule() {
        let created = || event(CREATED, "2023-05-01", None);
        // both timed: by time
        let timed = vec![
            created(),
            event(CANCELLED, "2023-05-02", Some("09:15")),
            event(REACTIVATED, "2023-05-02", Some("17:40")),
        ];
        assert_eq!(status(timed), "active");
        // one side untimed: the cancellation is the later one
        let untimed =
            vec![created(), event(CANCELLED, "2023-05-02", None), event(REACTIVATED, "2023-05-02", Some("17:40"))];
        assert_eq!(status(untimed), "inactive");
        // equal times: the cancellation wins the tie
        let tie = vec![
            created(),
            event(REACTIVATED, "2023-05-02", Some("10:00")),
            event(CANCELLED, "2023-05-02", Some("10:00")),
        ];
        assert_eq!(status(tie), "inactive");
    }

    #[test]
    fn events_after_the_last_data_date_are_listed_not_applied() {
        let events = || {
            vec![
                event(CREATED, "2023-05-01", None),
                event(CANCELLED, "2023-06-02", None),
                event(REACTIVATED, "2023-05-20", None),
            ]
        };
        let listed = apply("1", d("2023-05-01"), d("2023-05-31"), Later::List, events());
        assert_eq!(listed.current_status, "active");
        let later = listed.events.last().expect("the late cancellation is listed");
        assert_eq!(
            (later.event, later.state_after, later.kinds.clone()),
            ("cancelled", "active", vec!["after_last_data_date"])
        );
        assert_eq!(listed.events.len(), 3);
        // inside the lake's range, a later event is the future: not listed
        let omitted = apply("1", d("2023-05-01"), d("2023-05-31"), Later::Omit, events());
        assert_eq!(omitted.events.len(), 2);
        assert_eq!(omitted.current_status, "active");
    }

    #[test]
    fn events_before_creation_apply_after_it_in_their_own_order() {
        let created = event(CREATED, "2023-05-03", None);
        let explained = apply(
            "1",
            d("2023-05-03"),
            d("2023-05-31"),
            Later::List,
            vec![event(CANCELLED, "2023-05-02", None), created, event(REACTIVATED, "2023-05-01", None)],
        );
        let order: Vec<&str> = explained.events.iter().map(|e| e.event).collect();
        assert_eq!(order, ["created", "reactivated", "cancelled"]);
        assert_eq!(explained.current_status, "inactive");
        assert!(explained.events[1].anomaly.as_deref().is_some_and(|a| a.contains("active subscription")));
        assert!(explained.events.iter().skip(1).all(|e| e.effective_date == d("2023-05-03")));
    }
}
