//! The ground truth: METRICS.md applied to the simulated lifecycles, written as
//! the CSV files the metrics engine's output is compared with.
//!
//! Every entity (a subscription; a subscriber, overall and per product) is reduced
//! to its first day and the day spans at whose end it is active. The daily flows
//! follow from those spans alone: a span starting on the entity's first day is
//! `new`, a later start is `reactivated`, a span's end is `cancelled`, and an
//! entity inactive at the end of its first day is `new` and `cancelled` that day.
//! Only subscriptions the drops reveal are counted.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::GenerateError;
use crate::calendar::Calendar;
use crate::catalogue::{PRODUCTS, SUBSCRIPTION_ID_BASE, USER_ID_BASE};
use crate::population::{EventKind, LifeEvent, Population, Subscription};

/// Open end of a span that lasts past the last day.
const OPEN: i32 = i32::MAX;

/// Flows of one level on one day.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Flows {
    pub active: i64,
    pub new: i64,
    pub cancelled: i64,
    pub reactivated: i64,
}

/// Accumulates entities into daily flows over days `0..days`.
#[derive(Clone, Debug)]
pub(crate) struct Level {
    /// `[active difference, new, cancelled, reactivated]`, one extra day for the difference.
    cells: Vec<[i64; 4]>,
}

impl Level {
    pub(crate) fn new(days: usize) -> Self {
        Level { cells: vec![[0; 4]; days + 1] }
    }

    fn days(&self) -> i32 {
        self.cells.len() as i32 - 1
    }

    /// One entity that exists from `first_day` and is active at the end of the
    /// days of `spans` (sorted, disjoint, not touching).
    pub(crate) fn add(&mut self, first_day: i32, spans: &[(i32, i32)]) {
        let days = self.days();
        let in_range = |day: i32| (0..days).contains(&day);
        if in_range(first_day) {
            self.cells[first_day as usize][1] += 1;
            if spans.first().is_none_or(|span| span.0 != first_day) {
                self.cells[first_day as usize][2] += 1;
            }
        }
        for &(from, to) in spans {
            if from != first_day && in_range(from) {
                self.cells[from as usize][3] += 1;
            }
            if in_range(to) {
                self.cells[to as usize][2] += 1;
            }
            let (lo, hi) = (from.max(0), to.min(days));
            if lo < hi {
                self.cells[lo as usize][0] += 1;
                self.cells[hi as usize][0] -= 1;
            }
        }
    }

    pub(crate) fn flows(&self) -> Vec<Flows> {
        let mut active = 0;
        self.cells[..self.cells.len() - 1]
            .iter()
            .map(|cell| {
                active += cell[0];
                Flows { active, new: cell[1], cancelled: cell[2], reactivated: cell[3] }
            })
            .collect()
    }
}

/// The day spans at whose end a subscription is active, from its true event
/// order: on each date the state after the date's last event counts.
pub(crate) fn active_spans(sub: &Subscription, events: &[LifeEvent], out: &mut Vec<(i32, i32)>) {
    out.clear();
    let mut open_from = Some(sub.created_day);
    let mut i = 0;
    // Events on the creation date come after the creation.
    while i < events.len() {
        let day = events[i].day;
        let mut j = i;
        while j + 1 < events.len() && events[j + 1].day == day {
            j += 1;
        }
        let active_at_end = events[j].kind == EventKind::Reactivate;
        match (open_from, active_at_end) {
            (Some(from), false) => {
                // Empty when cancelled on the creation date: never active at a day's end.
                if from < day {
                    out.push((from, day));
                }
                open_from = None;
            }
            (None, true) => open_from = Some(day),
            _ => {}
        }
        i = j + 1;
    }
    if let Some(from) = open_from {
        out.push((from, OPEN));
    }
}

/// Unions spans (sorted by start) in place, merging spans that overlap or touch.
fn merge_spans(spans: &mut Vec<(i32, i32)>) {
    spans.sort_unstable();
    let mut merged: Vec<(i32, i32)> = Vec::with_capacity(spans.len());
    for &(from, to) in spans.iter() {
        match merged.last_mut() {
            Some(last) if from <= last.1 => last.1 = last.1.max(to),
            _ => merged.push((from, to)),
        }
    }
    *spans = merged;
}

/// Per-subscription facts for `subscriptions.csv`.
struct SubscriptionFacts {
    max_cancel: Option<i32>,
    max_reactivation: Option<i32>,
    cancels: u32,
    reactivations: u32,
}

fn facts(events: &[LifeEvent]) -> SubscriptionFacts {
    let mut facts = SubscriptionFacts { max_cancel: None, max_reactivation: None, cancels: 0, reactivations: 0 };
    for event in events {
        match event.kind {
            EventKind::Cancel => {
                facts.cancels += 1;
                facts.max_cancel = facts.max_cancel.max(Some(event.day));
            }
            EventKind::Reactivate => {
                facts.reactivations += 1;
                facts.max_reactivation = facts.max_reactivation.max(Some(event.day));
            }
        }
    }
    facts
}

/// The computed truth, ready to be written.
pub(crate) struct Truth {
    pub subscriptions: Vec<Flows>,
    pub subscribers: Vec<Flows>,
    /// Products (catalogue index) with at least one revealed subscription, by name.
    pub products: Vec<usize>,
    pub product_subscriptions: Vec<Vec<Flows>>,
    pub product_subscribers: Vec<Vec<Flows>>,
    pub subscription_count: u64,
    pub subscriber_count: u64,
    pub event_count: u64,
}

/// Spans of every revealed subscription, flat, with offsets.
struct SpanTable {
    offsets: Vec<u32>,
    spans: Vec<(i32, i32)>,
}

impl SpanTable {
    fn new(population: &Population, revealed: &[bool]) -> Self {
        let mut offsets = Vec::with_capacity(population.subs.len() + 1);
        let mut spans = Vec::with_capacity(population.subs.len() * 3 / 2);
        let mut buf = Vec::new();
        offsets.push(0);
        for (index, sub) in population.subs.iter().enumerate() {
            if revealed[index] {
                active_spans(sub, population.events_of(index), &mut buf);
                spans.extend_from_slice(&buf);
            }
            offsets.push(spans.len() as u32);
        }
        SpanTable { offsets, spans }
    }

    fn of(&self, sub: usize) -> &[(i32, i32)] {
        &self.spans[self.offsets[sub] as usize..self.offsets[sub + 1] as usize]
    }
}

/// Revealed subscriptions grouped by customer (compressed rows).
struct ByUser {
    offsets: Vec<u32>,
    subs: Vec<u32>,
}

impl ByUser {
    fn new(population: &Population, revealed: &[bool]) -> Self {
        let mut offsets = vec![0u32; population.users as usize + 1];
        for (index, sub) in population.subs.iter().enumerate() {
            if revealed[index] {
                offsets[sub.user as usize + 1] += 1;
            }
        }
        for i in 1..offsets.len() {
            offsets[i] += offsets[i - 1];
        }
        let mut next = offsets.clone();
        let mut subs = vec![0u32; offsets[offsets.len() - 1] as usize];
        for (index, sub) in population.subs.iter().enumerate() {
            if revealed[index] {
                let slot = &mut next[sub.user as usize];
                subs[*slot as usize] = index as u32;
                *slot += 1;
            }
        }
        ByUser { offsets, subs }
    }

    fn of(&self, user: usize) -> &[u32] {
        &self.subs[self.offsets[user] as usize..self.offsets[user + 1] as usize]
    }
}

impl Truth {
    /// `latest_product`: per subscription, the product of its newest delivered row.
    pub(crate) fn compute(population: &Population, revealed: &[bool], latest_product: &[u8], days: u32) -> Truth {
        let days = days as usize;
        let spans = SpanTable::new(population, revealed);
        let by_user = ByUser::new(population, revealed);
        let mut subscriptions = Level::new(days);
        let mut product_subscriptions = vec![Level::new(days); PRODUCTS.len()];
        let mut subscribers = Level::new(days);
        let mut product_subscribers = vec![Level::new(days); PRODUCTS.len()];
        let mut seen_product = [false; PRODUCTS.len()];
        let (mut subscription_count, mut subscriber_count, mut event_count) = (0u64, 0u64, 0u64);
        for (index, sub) in population.subs.iter().enumerate() {
            if revealed[index] {
                subscriptions.add(sub.created_day, spans.of(index));
                product_subscriptions[usize::from(latest_product[index])].add(sub.created_day, spans.of(index));
                seen_product[usize::from(latest_product[index])] = true;
                subscription_count += 1;
                event_count += 1 + u64::from(sub.event_count);
            }
        }
        let mut union = Vec::new();
        for user in 0..population.users as usize {
            let subs = by_user.of(user);
            if subs.is_empty() {
                continue;
            }
            subscriber_count += 1;
            union.clear();
            let mut first = i32::MAX;
            for &index in subs {
                first = first.min(population.subs[index as usize].created_day);
                union.extend_from_slice(spans.of(index as usize));
            }
            merge_spans(&mut union);
            subscribers.add(first, &union);
            // Per product: the same subscriber seen through that product's subscriptions only.
            let mut done = [false; PRODUCTS.len()];
            for &pivot in subs {
                let product = usize::from(latest_product[pivot as usize]);
                if std::mem::replace(&mut done[product], true) {
                    continue;
                }
                union.clear();
                let mut first = i32::MAX;
                for &index in subs {
                    let sub = &population.subs[index as usize];
                    if usize::from(latest_product[index as usize]) == product {
                        first = first.min(sub.created_day);
                        union.extend_from_slice(spans.of(index as usize));
                    }
                }
                merge_spans(&mut union);
                product_subscribers[product].add(first, &union);
            }
        }
        let mut products: Vec<usize> = (0..PRODUCTS.len()).filter(|&p| seen_product[p]).collect();
        products.sort_by_key(|&p| PRODUCTS[p].name);
        Truth {
            subscriptions: subscriptions.flows(),
            subscribers: subscribers.flows(),
            product_subscriptions: products.iter().map(|&p| product_subscriptions[p].flows()).collect(),
            product_subscribers: products.iter().map(|&p| product_subscribers[p].flows()).collect(),
            products,
            subscription_count,
            subscriber_count,
            event_count,
        }
    }
}

pub(crate) const SERIES_COLUMNS: &str = "active_subscriptions,new_subscriptions,cancelled_subscriptions,reactivated_subscriptions,\
active_subscribers,new_subscribers,cancelled_subscribers,reactivated_subscribers";

pub(crate) fn iso(calendar: &Calendar, day: i32) -> String {
    let mut buf = String::with_capacity(10);
    calendar.push_date(&mut buf, day, crate::calendar::DateStyle::Iso);
    buf
}

pub(crate) fn csv_cell(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_string()
    }
}

fn flows_cells(s: &Flows, u: &Flows) -> String {
    format!(
        "{},{},{},{},{},{},{},{}",
        s.active, s.new, s.cancelled, s.reactivated, u.active, u.new, u.cancelled, u.reactivated
    )
}

pub(crate) struct Out {
    path: PathBuf,
    writer: std::io::BufWriter<std::fs::File>,
}

impl Out {
    pub(crate) fn create(path: PathBuf) -> Result<Self, GenerateError> {
        match std::fs::File::create(&path) {
            Ok(file) => Ok(Out { writer: std::io::BufWriter::with_capacity(1 << 20, file), path }),
            Err(source) => Err(GenerateError::Write { path, source }),
        }
    }

    pub(crate) fn line(&mut self, line: &str) -> Result<(), GenerateError> {
        let result = self.writer.write_all(line.as_bytes()).and_then(|()| self.writer.write_all(b"\n"));
        result.map_err(|source| GenerateError::Write { path: self.path.clone(), source })
    }

    pub(crate) fn finish(mut self) -> Result<(), GenerateError> {
        self.writer.flush().map_err(|source| GenerateError::Write { path: self.path.clone(), source })
    }
}

/// Writes `series.csv`, `series_by_product.csv`, `subscriptions.csv` and `subscribers.csv`.
pub(crate) fn write_truth(
    dir: &Path,
    truth: &Truth,
    population: &Population,
    revealed: &[bool],
    latest_product: &[u8],
    calendar: &Calendar,
) -> Result<(), GenerateError> {
    let days = truth.subscriptions.len();
    let dates: Vec<String> = (0..days as i32).map(|day| iso(calendar, day)).collect();
    let optional = |day: Option<i32>| day.map(|d| iso(calendar, d)).unwrap_or_default();
    let status = |active: bool| if active { "active" } else { "inactive" };

    let mut out = Out::create(dir.join("series.csv"))?;
    out.line(&format!("date,{SERIES_COLUMNS}"))?;
    for (day, date) in dates.iter().enumerate() {
        out.line(&format!("{date},{}", flows_cells(&truth.subscriptions[day], &truth.subscribers[day])))?;
    }
    out.finish()?;

    let mut out = Out::create(dir.join("series_by_product.csv"))?;
    out.line(&format!("date,product,{SERIES_COLUMNS}"))?;
    let names: Vec<String> = truth.products.iter().map(|&p| csv_cell(PRODUCTS[p].name)).collect();
    for (day, date) in dates.iter().enumerate() {
        for (slot, name) in names.iter().enumerate() {
            let cells = flows_cells(&truth.product_subscriptions[slot][day], &truth.product_subscribers[slot][day]);
            out.line(&format!("{date},{name},{cells}"))?;
        }
    }
    out.finish()?;

    let last_day = days as i32 - 1;
    let mut spans = Vec::new();
    let mut active_now = vec![false; population.subs.len()];
    let mut out = Out::create(dir.join("subscriptions.csv"))?;
    out.line(
        "subscription_id,user_id,created_date,max_cancel_date,max_reactivation_date,cancel_count,reactivation_count,current_status,product",
    )?;
    for (index, sub) in population.subs.iter().enumerate() {
        if !revealed[index] {
            continue;
        }
        let events = population.events_of(index);
        active_spans(sub, events, &mut spans);
        let active = spans.last().is_some_and(|span| span.0 <= last_day && span.1 > last_day);
        active_now[index] = active;
        let facts = facts(events);
        out.line(&format!(
            "{},{},{},{},{},{},{},{},{}",
            SUBSCRIPTION_ID_BASE + index as u64,
            USER_ID_BASE + u64::from(sub.user),
            iso(calendar, sub.created_day),
            optional(facts.max_cancel),
            optional(facts.max_reactivation),
            facts.cancels,
            facts.reactivations,
            status(active),
            csv_cell(PRODUCTS[usize::from(latest_product[index])].name),
        ))?;
    }
    out.finish()?;

    let by_user = ByUser::new(population, revealed);
    let mut out = Out::create(dir.join("subscribers.csv"))?;
    out.line("user_id,first_created_date,subscriptions,active_subscriptions,current_status,cancelled_date")?;
    for user in 0..population.users as usize {
        let subs = by_user.of(user);
        if subs.is_empty() {
            continue;
        }
        let first = subs.iter().map(|&i| population.subs[i as usize].created_day).min().unwrap_or_default();
        let active = subs.iter().filter(|&&i| active_now[i as usize]).count();
        // Inactive: every subscription is cancelled, and the latest cancellation is
        // when the subscriber last became inactive (cancellations only ever hit
        // active subscriptions in the simulation).
        let cancelled = if active == 0 {
            subs.iter().filter_map(|&i| facts(population.events_of(i as usize)).max_cancel).max()
        } else {
            None
        };
        out.line(&format!(
            "{},{},{},{},{},{}",
            USER_ID_BASE + user as u64,
            iso(calendar, first),
            subs.len(),
            active,
            status(active > 0),
            optional(cancelled),
        ))?;
    }
    out.finish()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::population::{NO_TIME, Scenario};

    fn sub(user: u32, created_day: i32, product: u8, first_event: u32, event_count: u8) -> Subscription {
        Subscription {
            user,
            created_day,
            created_secs: 9 * 3600,
            report_day: created_day,
            first_event,
            event_count,
            product,
            quantity: 1,
            scenario: Scenario::Normal,
            first_update: 0,
            update_count: 0,
            no_price: false,
        }
    }

    fn ev(day: i32, kind: EventKind) -> LifeEvent {
        LifeEvent { day, secs: NO_TIME, kind }
    }

    /// Five days; rows are (active, new, cancelled, reactivated) per level.
    /// - A (user 1): created day 0, cancelled day 2, reactivated day 4.
    /// - B (user 2): created day 1, cancelled day 1 (24-hour cancel).
    /// - C (user 1, other product): created day 3 while A is inactive.
    /// - D (user 3): created before day 0 (active from day 0, not new), cancelled day 4.
    /// - E (user 4): created and cancelled day 2, then reactivated and cancelled
    ///   again on day 3 (an intraday flip: counts nothing).
    #[test]
    fn hand_checked_scenario() {
        use EventKind::{Cancel as C, Reactivate as R};
        let events = vec![
            ev(2, C),
            ev(4, R), // A
            ev(1, C), // B
            ev(4, C), // D: cancelled on day 4 ...
            ev(2, C),
            ev(3, R),
            ev(3, C), // E: cancel day 2, flip on day 3 (inactive → active → inactive)
        ];
        let subs = vec![
            sub(3, -10, 0, 3, 1), // D
            sub(0, 0, 0, 0, 2),   // A
            sub(1, 1, 0, 2, 1),   // B
            sub(4, 2, 0, 4, 3),   // E
            sub(0, 3, 1, 7, 0),   // C
        ];
        let population = Population {
            subs,
            events,
            updates: Vec::new(),
            users: 5,
            day_first_sub: vec![1, 2, 3, 4, 5, 5],
            last_day: 4,
        };
        let revealed = vec![true; 5];
        let latest: Vec<u8> = population.subs.iter().map(|s| s.product).collect();
        let truth = Truth::compute(&population, &revealed, &latest, 5);
        let rows =
            |flows: &[Flows]| flows.iter().map(|f| [f.active, f.new, f.cancelled, f.reactivated]).collect::<Vec<_>>();
        // Subscriptions: day 0: D, A active, A new. Day 1: B new+cancelled. Day 2: A cancelled,
        // E new+cancelled. Day 3: C new; E flips (nothing). Day 4: A reactivated, D cancelled.
        assert_eq!(
            rows(&truth.subscriptions),
            vec![[2, 1, 0, 0], [2, 1, 1, 0], [1, 1, 2, 0], [2, 1, 0, 0], [2, 0, 1, 1]]
        );
        // Subscribers: user 0 (A, C), 1 (B), 3 (D), 4 (E); user 2 has no subscription.
        // Day 0: users 3 and 0 active, 0 new. Day 1: user 1 new+cancelled. Day 2: user 0
        // cancelled, user 4 new+cancelled. Day 3: user 0 reactivated by the new C.
        // Day 4: user 3 cancelled (A's reactivation does not change user 0).
        assert_eq!(
            rows(&truth.subscribers),
            vec![[2, 1, 0, 0], [2, 1, 1, 0], [1, 1, 2, 0], [2, 0, 0, 1], [1, 0, 1, 0]]
        );
        // Product 1 holds C only: user 0 is *new* there on day 3.
        let slot = truth.products.iter().position(|&p| p == 1).unwrap();
        assert_eq!(rows(&truth.product_subscribers[slot])[3], [1, 1, 0, 0]);
        assert_eq!(truth.subscription_count, 5);
        assert_eq!(truth.subscriber_count, 4);
    }

    #[test]
    fn spans_and_merge() {
        use EventKind::{Cancel as C, Reactivate as R};
        let s = sub(0, 2, 0, 0, 0);
        let mut out = Vec::new();
        active_spans(&s, &[], &mut out);
        assert_eq!(out, vec![(2, OPEN)]);
        active_spans(&s, &[ev(2, C)], &mut out);
        assert_eq!(out, vec![]);
        active_spans(&s, &[ev(2, C), ev(2, R), ev(5, C)], &mut out);
        assert_eq!(out, vec![(2, 5)]);
        active_spans(&s, &[ev(3, C), ev(6, R), ev(6, C), ev(8, R)], &mut out);
        assert_eq!(out, vec![(2, 3), (8, OPEN)]);
        let mut spans = vec![(5, 9), (1, 3), (3, 4), (8, OPEN)];
        merge_spans(&mut spans);
        assert_eq!(spans, vec![(1, 4), (5, OPEN)]);
    }
}
