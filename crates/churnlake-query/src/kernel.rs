//! The lifecycle's integer kernels: the steps where every key is a dense integer id
//! (`sub_idx`, `user_idx`, a group index) and a day, computed in plain loops instead of
//! generic sorts, joins and group-bys over several key columns.
//!
//! They compute exactly what METRICS.md "State at the end of day D" and "Daily flows"
//! say, in the same order the polars formulation did (the tests and the conformance suite
//! hold both to the same figures):
//!
//! - [`subscription_states`]: one row per (subscription, day with an event) up to `as_of`:
//!   the day's last event decides the state (creation first, then the events in the order
//!   of their own dates; on one date the cancellation last unless both carry a time and
//!   the reactivation's is later), with the previous state and the flows;
//! - [`owners`]: the subscriber of every subscription as a dense index, in order of first
//!   appearance;
//! - [`level_sums`]: the flows of both levels summed per (group, day), the subscriber
//!   level from the running count of each subscriber's active subscriptions.

use std::collections::HashMap;

use polars::prelude::*;

use crate::error::{Context, Result};
use crate::lifecycle::{CANCELLED, REACTIVATED};

/// Day numbers as polars stores dates: days since 1970-01-01.
type Day = i32;

/// The flows of one (previous, active) pair, as METRICS.md counts them: `[new, cancelled,
/// reactivated, delta]` (`previous` None: the entity did not exist before).
fn flows(previous: Option<bool>, active: bool) -> [i64; 4] {
    let new = previous.is_none();
    let was_active = previous == Some(true);
    let cancelled = (new || was_active) && !active;
    let reactivated = previous == Some(false) && active;
    [i64::from(new), i64::from(cancelled), i64::from(reactivated), i64::from(active) - i64::from(was_active)]
}

/// An order-preserving map of a signed day onto an unsigned one (for packed sort keys).
fn unsigned(day: Day) -> u32 {
    (day as u32) ^ 0x8000_0000
}

/// End-of-day states of every subscription with `created` (`sub_idx, created_date`) and
/// `events` (`sub_idx, own_date, kind, at`: distinct cancellations and reactivations),
/// up to `as_of`: `sub_idx, day, active, previous, new, cancelled, reactivated, delta`,
/// sorted by `sub_idx, day`.
pub(crate) fn subscription_states(created: &DataFrame, events: &DataFrame, as_of: Day) -> Result<DataFrame> {
    let subs = created.column("sub_idx").and_then(|c| c.idx()).ctx("reading the subscriptions")?;
    let created_dates = created.column("created_date").and_then(|c| c.i32()).ctx("reading the creation dates")?;
    let size = subs.iter().flatten().map(|s| s as usize + 1).max().unwrap_or(0);
    let mut creation: Vec<Option<Day>> = vec![None; size];
    let mut present = vec![false; size];
    for (sub, day) in subs.iter().zip(created_dates.iter()) {
        if let Some(sub) = sub {
            present[sub as usize] = true;
            creation[sub as usize] = day;
        }
    }

    // the events sorted by (subscription, own date), each date's events resolved to one kind
    let ev_subs = events.column("sub_idx").and_then(|c| c.idx()).ctx("reading the events")?;
    let ev_days = events.column("own_date").and_then(|c| c.i32()).ctx("reading the events")?;
    let ev_kinds = events.column("kind").and_then(|c| c.i32()).ctx("reading the events")?;
    let ev_at = events.column("at").and_then(|c| c.i64()).ctx("reading the events")?;
    let mut keyed: Vec<(u64, i32, Option<i64>)> = Vec::with_capacity(events.height());
    for (((sub, day), kind), at) in ev_subs.iter().zip(ev_days.iter()).zip(ev_kinds.iter()).zip(ev_at.iter()) {
        let (Some(sub), Some(day), Some(kind)) = (sub, day, kind) else { continue };
        if (sub as usize) < size && present[sub as usize] {
            keyed.push(((u64::from(sub) << 32) | u64::from(unsigned(day)), kind, at));
        }
    }
    keyed.sort_unstable_by_key(|(key, _, _)| *key);
    // (sub, own date, kind), one per (sub, own date)
    let mut resolved: Vec<(u32, Day, i32)> = Vec::with_capacity(keyed.len());
    let mut i = 0;
    while i < keyed.len() {
        let key = keyed[i].0;
        let (mut has_c, mut has_r) = (false, false);
        let (mut c_at, mut r_at): (Option<i64>, Option<i64>) = (None, None);
        while i < keyed.len() && keyed[i].0 == key {
            let (_, kind, at) = keyed[i];
            if kind == CANCELLED {
                has_c = true;
                c_at = c_at.max(at);
            } else if kind == REACTIVATED {
                has_r = true;
                r_at = r_at.max(at);
            }
            i += 1;
        }
        if !has_c && !has_r {
            continue;
        }
        let reactivation_later = matches!((r_at, c_at), (Some(r), Some(c)) if r > c);
        let kind = if has_c && !(has_r && reactivation_later) { CANCELLED } else { REACTIVATED };
        let own = ((key & 0xFFFF_FFFF) as u32 ^ 0x8000_0000) as Day;
        resolved.push(((key >> 32) as u32, own, kind));
    }

    let mut out_sub: Vec<IdxSize> = Vec::new();
    let mut out_day: Vec<Day> = Vec::new();
    let mut out_active: Vec<bool> = Vec::new();
    let mut next = 0;
    for sub in 0..size {
        if !present[sub] {
            continue;
        }
        let start = out_sub.len();
        let created = creation[sub];
        let mut push = |day: Day, active: bool| {
            // a later event on the same day replaces the state: the day's last event decides
            if out_sub.len() > start && out_day.last() == Some(&day) {
                if let Some(last) = out_active.last_mut() {
                    *last = active;
                }
            } else {
                out_sub.push(sub as IdxSize);
                out_day.push(day);
                out_active.push(active);
            }
        };
        if let Some(day) = created.filter(|d| *d <= as_of) {
            push(day, true);
        }
        while next < resolved.len() && (resolved[next].0 as usize) < sub {
            next += 1;
        }
        while next < resolved.len() && resolved[next].0 as usize == sub {
            let (_, own, kind) = resolved[next];
            next += 1;
            // an event dated before the creation takes effect on the creation day
            let day = created.map_or(own, |c| own.max(c));
            if day <= as_of {
                push(day, kind != CANCELLED);
            }
        }
    }

    let rows = out_sub.len();
    let mut previous: Vec<Option<bool>> = Vec::with_capacity(rows);
    let mut sums: [Vec<i64>; 4] = std::array::from_fn(|_| Vec::with_capacity(rows));
    for row in 0..rows {
        let prev = (row > 0 && out_sub[row - 1] == out_sub[row]).then(|| out_active[row - 1]);
        previous.push(prev);
        for (column, value) in sums.iter_mut().zip(flows(prev, out_active[row])) {
            column.push(value);
        }
    }
    let [new, cancelled, reactivated, delta] = sums;
    DataFrame::new(
        rows,
        vec![
            IdxCa::from_vec("sub_idx".into(), out_sub).into_column(),
            Int32Chunked::from_vec("day".into(), out_day).into_date().into_column(),
            BooleanChunked::from_slice("active".into(), &out_active).into_column(),
            BooleanChunked::from_slice_options("previous".into(), &previous).into_column(),
            Int64Chunked::from_vec("new".into(), new).into_column(),
            Int64Chunked::from_vec("cancelled".into(), cancelled).into_column(),
            Int64Chunked::from_vec("reactivated".into(), reactivated).into_column(),
            Int64Chunked::from_vec("delta".into(), delta).into_column(),
        ],
    )
    .ctx("building the subscription states")
}

/// A dense index per distinct value of `values`, in order of first appearance (nulls get
/// none), and the number of distinct values.
pub(crate) fn dense_index(values: &StringChunked) -> (Vec<Option<IdxSize>>, usize) {
    let mut seen: HashMap<&str, IdxSize> = HashMap::with_capacity(values.len());
    let mut out = Vec::with_capacity(values.len());
    for value in values.iter() {
        out.push(value.map(|v| {
            let next = seen.len() as IdxSize;
            *seen.entry(v).or_insert(next)
        }));
    }
    (out, seen.len())
}

/// A dense index per distinct value of `values` in order of first appearance, null
/// being one more value: what `group_by_stable` and a row index give the groups.
pub(crate) fn group_index(values: &StringChunked) -> Vec<IdxSize> {
    let mut seen: HashMap<Option<&str>, IdxSize> = HashMap::with_capacity(values.len());
    values
        .iter()
        .map(|value| {
            let next = seen.len() as IdxSize;
            *seen.entry(value).or_insert(next)
        })
        .collect()
}

/// `frame` with a dense `user_idx` per distinct `user_id`, in order of first appearance.
pub(crate) fn with_user_index(frame: DataFrame, user_column: &str) -> Result<DataFrame> {
    let users = frame.column(user_column).and_then(|c| c.str()).ctx("reading the subscribers")?;
    let (index, _) = dense_index(users);
    let column = IdxCa::from_slice_options("user_idx".into(), &index).into_column();
    let mut frame = frame;
    frame.with_column(column).ctx("indexing the subscribers")?;
    Ok(frame)
}

/// Per (group, day): the flows of both levels, `[new, cancelled, reactivated, delta]` of
/// the subscriptions and of the subscribers.
pub(crate) struct LevelSums {
    pub subscriptions: DataFrame,
    pub subscribers: DataFrame,
}

/// The flows of `states` (from [`subscription_states`]) summed per (group, day) at both
/// levels, with each subscription's subscriber and group from `owners` (`sub_idx,
/// user_idx, group_idx`). A subscriber is active at the end of a day while the running
/// count of their active subscriptions in the group is positive.
pub(crate) fn level_sums(states: &DataFrame, owners: &DataFrame) -> Result<LevelSums> {
    let o_sub = owners.column("sub_idx").and_then(|c| c.idx()).ctx("reading the owners")?;
    let o_user = owners.column("user_idx").and_then(|c| c.idx()).ctx("reading the owners")?;
    let o_group = owners.column("group_idx").and_then(|c| c.idx()).ctx("reading the owners")?;
    let size = o_sub.iter().flatten().map(|s| s as usize + 1).max().unwrap_or(0);
    let mut owner: Vec<Option<(IdxSize, IdxSize)>> = vec![None; size];
    for ((sub, user), group) in o_sub.iter().zip(o_user.iter()).zip(o_group.iter()) {
        if let (Some(sub), Some(user), Some(group)) = (sub, user, group) {
            owner[sub as usize] = Some((group, user));
        }
    }

    let subs = states.column("sub_idx").and_then(|c| c.idx()).ctx("reading the states")?;
    let days = states.column("day").and_then(|c| c.date()).ctx("reading the states")?.physical();
    let column = |name: &str| states.column(name).and_then(|c| c.i64()).ctx("reading the states");
    let (new, cancelled, reactivated, delta) =
        (column("new")?, column("cancelled")?, column("reactivated")?, column("delta")?);

    // the subscription level, and each state change of a subscriber (group, user, day, delta)
    let mut by_day: HashMap<(IdxSize, Day), [i64; 4]> = HashMap::new();
    let mut changes: Vec<(IdxSize, IdxSize, Day, i64)> = Vec::with_capacity(states.height());
    let rows =
        subs.iter().zip(days.iter()).zip(new.iter()).zip(cancelled.iter()).zip(reactivated.iter()).zip(delta.iter());
    for (((((sub, day), n), c), r), d) in rows {
        let (Some(sub), Some(day)) = (sub, day) else { continue };
        let Some(Some((group, user))) = owner.get(sub as usize).copied() else { continue };
        let flows = [n.unwrap_or(0), c.unwrap_or(0), r.unwrap_or(0), d.unwrap_or(0)];
        let sums = by_day.entry((group, day)).or_default();
        for (sum, value) in sums.iter_mut().zip(flows) {
            *sum += value;
        }
        changes.push((group, user, day, flows[3]));
    }
    let subscriptions = frame(by_day)?;

    // the subscriber level: each (group, user)'s changes in day order, a running count
    changes.sort_unstable_by_key(|(group, user, day, _)| (*group, *user, unsigned(*day)));
    let mut by_day: HashMap<(IdxSize, Day), [i64; 4]> = HashMap::new();
    let mut i = 0;
    while i < changes.len() {
        let (group, user, _, _) = changes[i];
        let mut count = 0i64;
        let mut previous: Option<bool> = None;
        while i < changes.len() && changes[i].0 == group && changes[i].1 == user {
            let day = changes[i].2;
            while i < changes.len() && changes[i].0 == group && changes[i].1 == user && changes[i].2 == day {
                count += changes[i].3;
                i += 1;
            }
            let active = count > 0;
            let sums = by_day.entry((group, day)).or_default();
            for (sum, value) in sums.iter_mut().zip(flows(previous, active)) {
                *sum += value;
            }
            previous = Some(active);
        }
    }
    let subscribers = frame(by_day)?;
    Ok(LevelSums { subscriptions, subscribers })
}

/// `group_idx, day, new, cancelled, reactivated, delta` from sums per (group, day), sorted.
fn frame(sums: HashMap<(IdxSize, Day), [i64; 4]>) -> Result<DataFrame> {
    let mut rows: Vec<((IdxSize, Day), [i64; 4])> = sums.into_iter().collect();
    rows.sort_unstable_by_key(|((group, day), _)| (*group, *day));
    let height = rows.len();
    let groups: Vec<IdxSize> = rows.iter().map(|((g, _), _)| *g).collect();
    let days: Vec<Day> = rows.iter().map(|((_, d), _)| *d).collect();
    let flow = |k: usize| -> Vec<i64> { rows.iter().map(|(_, f)| f[k]).collect() };
    DataFrame::new(
        height,
        vec![
            IdxCa::from_vec("group_idx".into(), groups).into_column(),
            Int32Chunked::from_vec("day".into(), days).into_date().into_column(),
            Int64Chunked::from_vec("new".into(), flow(0)).into_column(),
            Int64Chunked::from_vec("cancelled".into(), flow(1)).into_column(),
            Int64Chunked::from_vec("reactivated".into(), flow(2)).into_column(),
            Int64Chunked::from_vec("delta".into(), flow(3)).into_column(),
        ],
    )
    .ctx("summing the flows")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flows_follow_the_previous_and_current_state() {
        assert_eq!(flows(None, true), [1, 0, 0, 1]);
        assert_eq!(flows(None, false), [1, 1, 0, 0]);
        assert_eq!(flows(Some(true), false), [0, 1, 0, -1]);
        assert_eq!(flows(Some(false), true), [0, 0, 1, 1]);
        assert_eq!(flows(Some(true), true), [0, 0, 0, 0]);
        assert_eq!(flows(Some(false), false), [0, 0, 0, 0]);
    }

    #[test]
    fn unsigned_days_keep_their_order() {
        let days = [i32::MIN, -365, -1, 0, 1, 19_000, i32::MAX];
        for pair in days.windows(2) {
            assert!(unsigned(pair[0]) < unsigned(pair[1]));
        }
    }

    #[test]
    fn same_day_events_resolve_as_metrics_md_says() -> Result<()> {
        // sub 0: created day 10; cancelled day 5 (before creation: takes effect on day 10,
        // after the creation) -> inactive on day 10; reactivated day 12 with a later time
        // than a same-day cancellation -> active on 12.
        // sub 1: created day 3; cancelled and reactivated on day 4 without times -> the
        // cancellation is last: inactive.
        let created = df!("sub_idx" => [0 as IdxSize, 1], "created_date" => [10i32, 3]).ctx("fixture")?;
        let events = df!(
            "sub_idx" => [0 as IdxSize, 0, 0, 1, 1],
            "own_date" => [5i32, 12, 12, 4, 4],
            "kind" => [CANCELLED, CANCELLED, REACTIVATED, CANCELLED, REACTIVATED],
            "at" => [None, Some(100i64), Some(200), None, None],
        )
        .ctx("fixture")?;
        let states = subscription_states(&created, &events, 100)?;
        let subs: Vec<Option<IdxSize>> = states.column("sub_idx").and_then(|c| c.idx()).ctx("t")?.iter().collect();
        let days: Vec<Option<i32>> = states.column("day").and_then(|c| c.date()).ctx("t")?.physical().iter().collect();
        let active: Vec<Option<bool>> = states.column("active").and_then(|c| c.bool()).ctx("t")?.iter().collect();
        assert_eq!(subs, [0, 0, 1, 1].map(Some).to_vec());
        assert_eq!(days, [10, 12, 3, 4].map(Some).to_vec());
        assert_eq!(active, [false, true, true, false].map(Some).to_vec());
        let new: Vec<Option<i64>> = states.column("new").and_then(|c| c.i64()).ctx("t")?.iter().collect();
        assert_eq!(new, [1, 0, 1, 0].map(Some).to_vec());
        // as of day 11: sub 0 only has its creation day
        let early = subscription_states(&created, &events, 11)?;
        assert_eq!(early.height(), 3);
        Ok(())
    }
}
