//! The revenue, cohort and cancellation truth (`TRUTH.md`): METRICS.md "Revenue" and
//! "Cohorts" applied to the report rows the drops deliver and the simulated
//! lifecycles, with exact integer arithmetic.
//!
//! A subscription's attributes in effect on a day come from its delivered rows
//! ([`DeliveredRow`]), per attribute: the newest non-empty value dated on or before
//! the day, else the oldest non-empty one. Its MRR is constant between the days on
//! which a row or a lifecycle event can change something, so each subscription is
//! visited on those days only: there its state the day before and on the day give
//! the movements, and differences of MRR, unknown counts and per-group actives go
//! into per-day accumulators. Money is counted in units of `1 / (16 × L)` cent, L the
//! least common multiple of the frequencies seen, so that every subscription's
//! `price × quantity × 30.4375 ÷ frequency` is a whole number of units.

use std::collections::BTreeMap;
use std::path::Path;

use crate::GenerateError;
use crate::calendar::Calendar;
use crate::catalogue::{PRODUCTS, SUBSCRIPTION_ID_BASE, cancel_reason};
use crate::drops::DeliveredRow;
use crate::population::Population;
use crate::truth::{Out, active_spans, csv_cell, iso};

/// 30.4375 = 487 / 16.
const FACTOR_NUMERATOR: i128 = 487;
const FACTOR_DENOMINATOR: i128 = 16;

pub(crate) const REVENUE_COLUMNS: &str =
    "mrr,arpu,new_mrr,reactivation_mrr,expansion_mrr,contraction_mrr,churned_mrr,mrr_unknown_subscriptions";

/// Daily movements, in units: `[new, reactivation, expansion, contraction, churned]`.
type Movements = [i128; 5];
const NEW: usize = 0;
const REACTIVATION: usize = 1;
const EXPANSION: usize = 2;
const CONTRACTION: usize = 3;
const CHURNED: usize = 4;

/// One level of revenue (the total, or one group) over the range.
#[derive(Clone, Debug)]
pub(crate) struct RevenueSeries {
    /// MRR at the end of the day before the first (units).
    pub before: i128,
    /// Per day: the MRR change (units), then summed into the MRR by [`RevenueSeries::finish`].
    pub mrr: Vec<i128>,
    pub movements: Vec<Movements>,
    /// Per day: change, then count, of active subscriptions without an MRR.
    pub unknown: Vec<i64>,
    /// Per day: change, then count, of subscribers active (in the group).
    pub subscribers: Vec<i64>,
}

impl RevenueSeries {
    fn new(days: usize) -> Self {
        RevenueSeries {
            before: 0,
            mrr: vec![0; days + 1],
            movements: vec![[0; 5]; days],
            unknown: vec![0; days + 1],
            subscribers: vec![0; days + 1],
        }
    }

    fn finish(&mut self) {
        let mut mrr = self.before;
        for cell in self.mrr.iter_mut() {
            mrr += *cell;
            *cell = mrr;
        }
        self.mrr.pop();
        for cells in [&mut self.unknown, &mut self.subscribers] {
            let mut total = 0;
            for cell in cells.iter_mut() {
                total += *cell;
                *cell = total;
            }
            cells.pop();
        }
    }
}

/// The cohort table of one level: cohort (months since year 0) → size and, per
/// month end of the range, the count active at its end.
pub(crate) struct Cohorts {
    pub cells: BTreeMap<i32, (i64, Vec<i64>)>,
}

/// A distinct cancellation event as its delivered rows say it.
pub(crate) struct CancellationEvent {
    pub sub: u32,
    pub day: i32,
    pub reason_nth: Option<u8>,
    pub product: u8,
    pub within_24h: Option<bool>,
}

pub(crate) struct RevenueTruth {
    /// Units per cent.
    pub units_per_cent: i128,
    pub total: RevenueSeries,
    /// Products named in a delivered row (catalogue index), by name.
    pub products: Vec<usize>,
    /// Per catalogue index.
    pub by_product: Vec<RevenueSeries>,
    /// Month ends of the range (day offsets).
    pub month_ends: Vec<i32>,
    pub cohorts_subscriptions: Cohorts,
    pub cohorts_subscribers: Cohorts,
    pub cancellations: Vec<CancellationEvent>,
    /// Rows of one subscription and data date that disagree on a non-empty value
    /// (the drops promise none; the tests check).
    #[cfg_attr(not(test), allow(dead_code))]
    pub conflicts: u64,
}

/// One attribute's non-empty values by data date.
struct Steps<T>(Vec<(i32, T)>);

impl<T: Copy + PartialEq> Steps<T> {
    /// Adds a value of a row dated `day` (rows come by day); false when a row of the
    /// same day said otherwise.
    fn push(&mut self, day: i32, value: Option<T>) -> bool {
        let Some(value) = value else { return true };
        match self.0.last_mut() {
            Some(last) if last.0 == day => {
                let agrees = last.1 == value;
                last.1 = value;
                agrees
            }
            _ => {
                self.0.push((day, value));
                true
            }
        }
    }

    /// In effect on `day`: the newest value dated ≤ `day`, else the oldest.
    fn on(&self, day: i32) -> Option<T> {
        let at = self.0.partition_point(|step| step.0 <= day);
        self.0.get(at.saturating_sub(1)).map(|step| step.1)
    }
}

/// A subscription at the end of one day.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Point {
    active: bool,
    /// Its MRR in units; `None` (while active): an attribute is missing or the frequency 0.
    mrr: Option<i128>,
    product: u8,
}

impl Point {
    fn value(&self) -> i128 {
        if self.active { self.mrr.unwrap_or(0) } else { 0 }
    }

    fn unknown(&self) -> i64 {
        i64::from(self.active && self.mrr.is_none())
    }
}

fn gcd(a: i128, b: i128) -> i128 {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// Last days of months within days `0..days`.
fn month_ends(calendar: &Calendar, days: usize) -> Vec<i32> {
    (0..days as i32).filter(|&day| calendar.ymd(day + 1).1 != calendar.ymd(day).1).collect()
}

fn month_key(calendar: &Calendar, day: i32) -> i32 {
    let (year, month, _) = calendar.ymd(day);
    year as i32 * 12 + month as i32 - 1
}

impl Cohorts {
    fn new() -> Self {
        Cohorts { cells: BTreeMap::new() }
    }

    /// One entity of cohort `key`, active at the end of the days of `spans`.
    fn add(&mut self, key: i32, spans: &[(i32, i32)], month_ends: &[i32]) {
        let cell = self.cells.entry(key).or_insert_with(|| (0, vec![0; month_ends.len() + 1]));
        cell.0 += 1;
        for &(from, to) in spans {
            let lo = month_ends.partition_point(|&e| e < from);
            let hi = month_ends.partition_point(|&e| e < to);
            if lo < hi {
                cell.1[lo] += 1;
                cell.1[hi] -= 1;
            }
        }
    }

    fn finish(&mut self) {
        for (_, active) in self.cells.values_mut() {
            let mut total = 0;
            for cell in active.iter_mut() {
                total += *cell;
                *cell = total;
            }
            active.pop();
        }
    }
}

impl RevenueTruth {
    pub(crate) fn compute(
        population: &Population,
        revealed: &[bool],
        rows: &[DeliveredRow],
        calendar: &Calendar,
        days: u32,
    ) -> RevenueTruth {
        let days = days as usize;
        // Rows by subscription, each one's in writing (= data date) order.
        let mut order: Vec<u32> = (0..rows.len() as u32).collect();
        order.sort_by_key(|&i| (rows[i as usize].sub, rows[i as usize].day));
        let lcm = rows
            .iter()
            .filter_map(|r| r.frequency_days.filter(|&f| f > 0))
            .fold(1i128, |l, f| l / gcd(l, i128::from(f)) * i128::from(f));
        let units_per_cent = FACTOR_DENOMINATOR * lcm;

        let mut total = RevenueSeries::new(days);
        let mut by_product = vec![RevenueSeries::new(days); PRODUCTS.len()];
        let mut named = [false; PRODUCTS.len()];
        let month_ends = month_ends(calendar, days);
        let mut cohorts_subscriptions = Cohorts::new();
        let mut conflicts = 0u64;
        // Per subscription: (product, from, to) where it is active in that group.
        let mut group_offsets = vec![0u32; population.subs.len() + 1];
        let mut group_spans: Vec<(u8, i32, i32)> = Vec::new();
        let mut spans = Vec::new();
        let mut candidates = Vec::new();
        let mut start = 0;
        for index in 0..population.subs.len() {
            let end = start + order[start..].iter().take_while(|&&i| rows[i as usize].sub == index as u32).count();
            let own = &order[start..end];
            start = end;
            group_offsets[index + 1] = group_offsets[index];
            if !revealed[index] || own.is_empty() {
                continue;
            }
            let sub = &population.subs[index];
            let (mut product, mut price, mut quantity, mut frequency) =
                (Steps(Vec::new()), Steps(Vec::new()), Steps(Vec::new()), Steps(Vec::new()));
            for &i in own {
                let row = &rows[i as usize];
                named[usize::from(row.product)] = true;
                let agree = [
                    product.push(row.day, Some(row.product)),
                    price.push(row.day, row.price_cents),
                    quantity.push(row.day, row.quantity),
                    frequency.push(row.day, row.frequency_days),
                ];
                conflicts += agree.iter().filter(|&&a| !a).count() as u64;
            }
            active_spans(sub, population.events_of(index), &mut spans);
            cohorts_subscriptions.add(month_key(calendar, sub.created_day), &spans, &month_ends);
            let point = |day: i32| {
                let active = spans.iter().any(|&(from, to)| from <= day && day < to);
                let mrr = match (price.on(day), quantity.on(day), frequency.on(day)) {
                    (Some(price), Some(quantity), Some(frequency)) if frequency > 0 => Some(
                        i128::from(price) * i128::from(quantity) * FACTOR_NUMERATOR * (lcm / i128::from(frequency)),
                    ),
                    _ => None,
                };
                Point { active, mrr, product: product.on(day).unwrap_or(0) }
            };
            candidates.clear();
            candidates.push(0);
            candidates.push(sub.created_day);
            candidates.extend(spans.iter().flat_map(|&(from, to)| [from, to]));
            candidates.extend(product.0.iter().map(|s| s.0));
            candidates.extend(price.0.iter().map(|s| s.0));
            candidates.extend(quantity.0.iter().map(|s| s.0));
            candidates.extend(frequency.0.iter().map(|s| s.0));
            candidates.retain(|&d| (0..days as i32).contains(&d));
            candidates.sort_unstable();
            candidates.dedup();
            let mut group_from: Option<(u8, i32)> = None;
            for &day in &candidates {
                let (before, now) = (point(day - 1), point(day));
                let d = day as usize;
                if day == 0 {
                    total.before += before.value();
                    by_product[usize::from(before.product)].before += before.value();
                    total.unknown[0] += before.unknown();
                    by_product[usize::from(before.product)].unknown[0] += before.unknown();
                }
                total.mrr[d] += now.value() - before.value();
                total.unknown[d] += now.unknown() - before.unknown();
                let (old, new) = (usize::from(before.product), usize::from(now.product));
                by_product[old].mrr[d] -= before.value();
                by_product[new].mrr[d] += now.value();
                by_product[old].unknown[d] -= before.unknown();
                by_product[new].unknown[d] += now.unknown();
                let existed = sub.created_day < day;
                let movement = |series: &mut RevenueSeries, kind: usize, value: i128| {
                    series.movements[d][kind] += value;
                };
                if !existed {
                    movement(&mut total, NEW, now.value());
                    movement(&mut by_product[new], NEW, now.value());
                } else if !before.active && now.active {
                    movement(&mut total, REACTIVATION, now.value());
                    movement(&mut by_product[new], REACTIVATION, now.value());
                } else if before.active && !now.active {
                    movement(&mut total, CHURNED, before.value());
                    movement(&mut by_product[old], CHURNED, before.value());
                } else if before.active && now.active {
                    let change = now.value() - before.value();
                    if change > 0 {
                        movement(&mut total, EXPANSION, change);
                    } else if change < 0 {
                        movement(&mut total, CONTRACTION, -change);
                    }
                    if old == new {
                        if change > 0 {
                            movement(&mut by_product[new], EXPANSION, change);
                        } else if change < 0 {
                            movement(&mut by_product[new], CONTRACTION, -change);
                        }
                    } else {
                        movement(&mut by_product[old], CONTRACTION, before.value());
                        movement(&mut by_product[new], EXPANSION, now.value());
                    }
                }
                // Spans of days active in one group, for the subscribers per group.
                if let Some((group, from)) = group_from
                    && !(now.active && group == now.product)
                {
                    group_spans.push((group, from, day));
                    group_from = None;
                }
                if now.active && group_from.is_none() {
                    group_from = Some((now.product, day));
                }
            }
            if let Some((group, from)) = group_from {
                group_spans.push((group, from, days as i32));
            }
            group_offsets[index + 1] = group_spans.len() as u32;
        }

        // Subscribers: active overall come from the lifecycle truth; per group from
        // the union of their group spans; cohorts from their first subscription.
        let mut cohorts_subscribers = Cohorts::new();
        let mut by_user: Vec<Vec<u32>> = Vec::new();
        by_user.resize_with(population.users as usize, Vec::new);
        for (index, sub) in population.subs.iter().enumerate() {
            if revealed[index] {
                by_user[sub.user as usize].push(index as u32);
            }
        }
        let mut union: Vec<(u8, i32, i32)> = Vec::new();
        let mut life: Vec<(i32, i32)> = Vec::new();
        for subs in by_user.iter().filter(|s| !s.is_empty()) {
            union.clear();
            life.clear();
            let mut first = i32::MAX;
            for &index in subs {
                let index = index as usize;
                union.extend_from_slice(&group_spans[group_offsets[index] as usize..group_offsets[index + 1] as usize]);
                first = first.min(population.subs[index].created_day);
                active_spans(&population.subs[index], population.events_of(index), &mut spans);
                life.extend_from_slice(&spans);
            }
            union.sort_unstable();
            let mut current: Option<(u8, i32, i32)> = None;
            for &(group, from, to) in union.iter().chain(std::iter::once(&(u8::MAX, i32::MAX, i32::MAX))) {
                match current {
                    Some((g, a, b)) if g == group && from <= b => current = Some((g, a, b.max(to))),
                    _ => {
                        if let Some((g, a, b)) = current {
                            let series = &mut by_product[usize::from(g)];
                            series.subscribers[a as usize] += 1;
                            series.subscribers[b as usize] -= 1;
                        }
                        current = Some((group, from, to));
                    }
                }
            }
            life.sort_unstable();
            let mut merged: Vec<(i32, i32)> = Vec::with_capacity(life.len());
            for &(from, to) in &life {
                match merged.last_mut() {
                    Some(last) if from <= last.1 => last.1 = last.1.max(to),
                    _ => merged.push((from, to)),
                }
            }
            cohorts_subscribers.add(month_key(calendar, first), &merged, &month_ends);
            let series = &mut total;
            for &(from, to) in &merged {
                let (lo, hi) = (from.max(0), to.min(days as i32));
                if lo < hi {
                    series.subscribers[lo as usize] += 1;
                    series.subscribers[hi as usize] -= 1;
                }
            }
        }
        total.finish();
        for series in &mut by_product {
            series.finish();
        }
        cohorts_subscriptions.finish();
        cohorts_subscribers.finish();

        // Cancellation events: per column, the newest delivered row's non-empty value.
        let mut events: BTreeMap<u32, CancellationEvent> = BTreeMap::new();
        for row in rows.iter().filter(|r| revealed[r.sub as usize]) {
            let Some(event) = row.cancel else { continue };
            let entry = events.entry(event).or_insert(CancellationEvent {
                sub: row.sub,
                day: population.events[event as usize].day,
                reason_nth: None,
                product: row.product,
                within_24h: None,
            });
            entry.product = row.product;
            entry.reason_nth = row.reason_nth.or(entry.reason_nth);
            entry.within_24h = row.within_24h.or(entry.within_24h);
        }

        let mut products: Vec<usize> = (0..PRODUCTS.len()).filter(|&p| named[p]).collect();
        products.sort_by_key(|&p| PRODUCTS[p].name);
        RevenueTruth {
            units_per_cent,
            total,
            products,
            by_product,
            month_ends,
            cohorts_subscriptions,
            cohorts_subscribers,
            cancellations: events.into_values().collect(),
            conflicts,
        }
    }
}

/// `numerator / denominator` (denominator > 0) rounded half to even to an integer.
fn round_half_even(numerator: i128, denominator: i128) -> i128 {
    let quotient = numerator.div_euclid(denominator);
    let remainder = numerator.rem_euclid(denominator);
    match (2 * remainder).cmp(&denominator) {
        std::cmp::Ordering::Less => quotient,
        std::cmp::Ordering::Greater => quotient + 1,
        std::cmp::Ordering::Equal => quotient + (quotient & 1),
    }
}

/// Money of `units / units_per_cent` cents: rounded half to even, two decimals.
pub(crate) fn money(units: i128, units_per_cent: i128) -> String {
    let cents = round_half_even(units, units_per_cent);
    let sign = if cents < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", cents.abs() / 100, cents.abs() % 100)
}

/// `count / size` rounded half to even to six decimals.
fn share(count: i64, size: i64) -> String {
    let millionths = round_half_even(i128::from(count) * 1_000_000, i128::from(size));
    format!("{}.{:06}", millionths / 1_000_000, millionths % 1_000_000)
}

fn revenue_cells(series: &RevenueSeries, day: usize, units_per_cent: i128) -> String {
    let mrr = series.mrr[day];
    let subscribers = series.subscribers[day];
    let arpu = if subscribers > 0 { money(mrr, units_per_cent * i128::from(subscribers)) } else { String::new() };
    let m = &series.movements[day];
    format!(
        "{},{arpu},{},{},{},{},{},{}",
        money(mrr, units_per_cent),
        money(m[NEW], units_per_cent),
        money(m[REACTIVATION], units_per_cent),
        money(m[EXPANSION], units_per_cent),
        money(m[CONTRACTION], units_per_cent),
        money(m[CHURNED], units_per_cent),
        series.unknown[day],
    )
}

/// Writes `revenue.csv`, `revenue_by_product.csv`, `cohorts_subscriptions.csv`,
/// `cohorts_subscribers.csv` and `cancellation_events.csv`.
pub(crate) fn write_revenue_truth(
    dir: &Path,
    truth: &RevenueTruth,
    population: &Population,
    calendar: &Calendar,
    tricky: bool,
) -> Result<(), GenerateError> {
    let days = truth.total.mrr.len();
    let dates: Vec<String> = (0..days as i32).map(|day| iso(calendar, day)).collect();
    let unit = truth.units_per_cent;

    let mut out = Out::create(dir.join("revenue.csv"))?;
    out.line(&format!("date,{REVENUE_COLUMNS}"))?;
    for (day, date) in dates.iter().enumerate() {
        out.line(&format!("{date},{}", revenue_cells(&truth.total, day, unit)))?;
    }
    out.finish()?;

    let mut out = Out::create(dir.join("revenue_by_product.csv"))?;
    out.line(&format!("date,product,{REVENUE_COLUMNS}"))?;
    let names: Vec<String> = truth.products.iter().map(|&p| csv_cell(PRODUCTS[p].name)).collect();
    for (day, date) in dates.iter().enumerate() {
        for (&product, name) in truth.products.iter().zip(&names) {
            out.line(&format!("{date},{name},{}", revenue_cells(&truth.by_product[product], day, unit)))?;
        }
    }
    out.finish()?;

    let keys: Vec<i32> = truth.month_ends.iter().map(|&e| month_key(calendar, e)).collect();
    for (file, cohorts) in [
        ("cohorts_subscriptions.csv", &truth.cohorts_subscriptions),
        ("cohorts_subscribers.csv", &truth.cohorts_subscribers),
    ] {
        let mut out = Out::create(dir.join(file))?;
        out.line("cohort,age,size,active,share")?;
        for (&cohort, (size, active)) in &cohorts.cells {
            for (m, &key) in keys.iter().enumerate().filter(|&(_, &key)| key >= cohort) {
                let name = format!("{:04}-{:02}", cohort.div_euclid(12), cohort.rem_euclid(12) + 1);
                out.line(&format!("{name},{},{size},{},{}", key - cohort, active[m], share(active[m], *size)))?;
            }
        }
        out.finish()?;
    }

    let mut out = Out::create(dir.join("cancellation_events.csv"))?;
    out.line("subscription_id,cancel_date,cancel_reason,product,cancelled_within_24h,created_date,days_from_creation")?;
    for event in &truth.cancellations {
        let sub = &population.subs[event.sub as usize];
        let reason = event.reason_nth.map(|nth| csv_cell(cancel_reason(event.sub, usize::from(nth), tricky)));
        let flag = event.within_24h.map(|f| if f { "true" } else { "false" });
        out.line(&format!(
            "{},{},{},{},{},{},{}",
            SUBSCRIPTION_ID_BASE + u64::from(event.sub),
            iso(calendar, event.day),
            reason.unwrap_or_default(),
            csv_cell(PRODUCTS[usize::from(event.product)].name),
            flag.unwrap_or_default(),
            iso(calendar, sub.created_day),
            event.day - sub.created_day,
        ))?;
    }
    out.finish()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use chrono::NaiveDate;

    use super::*;
    use crate::drops::write_drops;
    use crate::population::tests::small_population;
    use crate::population::{EventKind, LifeEvent, NO_TIME, Scenario, Subscription};
    use crate::truth::Truth;

    fn sub(user: u32, created_day: i32, product: u8, quantity: u8, first_event: u32, event_count: u8) -> Subscription {
        Subscription {
            user,
            created_day,
            created_secs: 9 * 3600,
            report_day: created_day,
            first_event,
            event_count,
            product,
            quantity,
            scenario: Scenario::Normal,
            first_update: 0,
            update_count: 0,
            no_price: false,
        }
    }

    fn row(sub: u32, day: i32, product: u8, price: Option<u64>, quantity: u8, frequency: u16) -> DeliveredRow {
        DeliveredRow {
            sub,
            day,
            product,
            price_cents: price,
            quantity: Some(quantity),
            frequency_days: Some(frequency),
            cancel: None,
            reason_nth: None,
            within_24h: None,
        }
    }

    /// Five days from 2023-01-30 (month end: day 1); products 0 (12.50 / 28 days) and 1
    /// (24.00 / 56 days).
    /// - A (user 0): created day 0, 2 × product 0; updated day 2 to quantity 3; cancelled day 4.
    /// - B (user 0): created day 1, product 1; switches to product 0 on day 3.
    /// - C (user 1): created before the range (2022-12), known only from its
    ///   cancellation row of day 2, which has no price: active without MRR until then.
    /// - D (user 2): created day 2 with frequency 0: active without MRR.
    ///
    /// Expected figures recomputed by hand with exact fractions (30.4375 = 487/16).
    #[test]
    fn hand_checked_revenue() {
        let subs = vec![sub(0, 0, 0, 2, 0, 1), sub(0, 1, 1, 1, 1, 0), sub(1, -40, 0, 1, 1, 1), sub(2, 2, 0, 1, 2, 0)];
        let events = vec![
            LifeEvent { day: 4, secs: NO_TIME, kind: EventKind::Cancel },
            LifeEvent { day: 2, secs: NO_TIME, kind: EventKind::Cancel },
        ];
        let population = Population {
            subs,
            events,
            updates: Vec::new(),
            users: 3,
            day_first_sub: vec![1, 2, 3, 4, 4, 4],
            last_day: 4,
        };
        let mut cancel_c = row(2, 2, 0, None, 1, 28);
        cancel_c.cancel = Some(1);
        cancel_c.reason_nth = Some(0);
        cancel_c.within_24h = Some(false);
        let mut cancel_a = row(0, 4, 0, Some(1250), 3, 28);
        cancel_a.cancel = Some(0);
        let rows = vec![
            row(0, 0, 0, Some(1250), 2, 28),
            row(1, 1, 1, Some(2400), 1, 56),
            row(0, 2, 0, Some(1250), 3, 28),
            row(3, 2, 0, Some(1250), 1, 0),
            cancel_c,
            row(1, 3, 0, Some(1250), 1, 28),
            cancel_a,
        ];
        let calendar = Calendar::new(NaiveDate::from_ymd_opt(2023, 1, 30).unwrap(), 5);
        let revealed = vec![true; 4];
        let truth = RevenueTruth::compute(&population, &revealed, &rows, &calendar, 5);
        assert_eq!(truth.conflicts, 0);
        let unit = truth.units_per_cent;
        let lines: Vec<String> = (0..5).map(|d| revenue_cells(&truth.total, d, unit)).collect();
        assert_eq!(
            lines,
            [
                "27.18,13.59,27.18,0.00,0.00,0.00,0.00,1",
                "40.22,20.11,13.04,0.00,0.00,0.00,0.00,1",
                "53.81,26.90,0.00,0.00,13.59,0.00,0.00,1",
                "54.35,27.18,0.00,0.00,0.54,0.00,0.00,1",
                "13.59,6.79,0.00,0.00,0.00,0.00,40.76,1",
            ]
        );
        // The switch on day 3: out of product 1 (contraction), into product 0 (expansion).
        assert_eq!(revenue_cells(&truth.by_product[0], 3, unit), "54.35,27.18,0.00,0.00,13.59,0.00,0.00,1");
        assert_eq!(revenue_cells(&truth.by_product[1], 3, unit), "0.00,,0.00,0.00,0.00,13.04,0.00,0");
        assert_eq!(revenue_cells(&truth.by_product[1], 1, unit), "13.04,13.04,13.04,0.00,0.00,0.00,0.00,0");
        assert_eq!(truth.products, vec![0, 1]);
        // Cohorts at the one month end (2023-01-31, day 1).
        assert_eq!(truth.month_ends, vec![1]);
        let cells =
            |c: &Cohorts| c.cells.iter().map(|(&k, (size, active))| (k, *size, active.clone())).collect::<Vec<_>>();
        let (dec, jan, feb) = (2022 * 12 + 11, 2023 * 12, 2023 * 12 + 1);
        assert_eq!(cells(&truth.cohorts_subscriptions), vec![(dec, 1, vec![1]), (jan, 2, vec![2]), (feb, 1, vec![0])]);
        assert_eq!(cells(&truth.cohorts_subscribers), vec![(dec, 1, vec![1]), (jan, 1, vec![1]), (feb, 1, vec![0])]);
        let events: Vec<(u32, i32, Option<u8>, Option<bool>)> =
            truth.cancellations.iter().map(|e| (e.sub, e.day, e.reason_nth, e.within_24h)).collect();
        assert_eq!(events, vec![(0, 4, None, None), (2, 2, Some(0), Some(false))]);
    }

    #[test]
    fn rounding_is_half_to_even() {
        // units of 1/100 cent: 2.5 cents → 2, 0.5 → 0, 1.5 → 2, 3.5 → 4
        assert_eq!(money(250, 100), "0.02");
        assert_eq!(money(50, 100), "0.00");
        assert_eq!(money(150, 100), "0.02");
        assert_eq!(money(350, 100), "0.04");
        assert_eq!(money(151, 100), "0.02");
        assert_eq!(money(149, 100), "0.01");
        assert_eq!(money(25_050, 100), "2.50");
        assert_eq!(money(123_456_789, 1), "1234567.89");
        assert_eq!(share(1, 3), "0.333333");
        assert_eq!(share(2, 3), "0.666667");
        assert_eq!(share(1, 8_000_000), "0.000000");
        assert_eq!(share(3, 2_000_000), "0.000002");
        assert_eq!(share(5, 5), "1.000000");
    }

    /// Exact identities on every day and in every group, groups adding up to the
    /// total, subscribers as in the lifecycle truth, and the delivered rows saying
    /// exactly the simulated attributes — over a run with many updates.
    #[test]
    fn identities_and_attributes_of_a_simulated_run() {
        let (options, plan, population) = small_population(400, 40, 21);
        let calendar = Calendar::new(options.start, options.days);
        let dir = tempfile::tempdir().unwrap();
        let stats = write_drops(&options, &plan, &population, &calendar, dir.path()).unwrap();
        let days = options.days as usize;
        let truth = RevenueTruth::compute(&population, &stats.revealed, &stats.rows, &calendar, options.days);
        assert_eq!(truth.conflicts, 0);

        // Many updates of every kind, some while the subscription is in the drops.
        let changes = |pick: fn(&crate::population::Attrs, &crate::population::Attrs) -> bool| {
            (0..population.subs.len())
                .map(|i| {
                    let mut before = population.created_attrs(i);
                    population
                        .updates_of(i)
                        .iter()
                        .filter(|u| {
                            let changed = pick(&before, &u.attrs);
                            before = u.attrs;
                            changed
                        })
                        .count()
                })
                .sum::<usize>()
        };
        assert!(population.updates.len() > population.subs.len() / 10, "{}", population.updates.len());
        assert!(changes(|a, b| a.product != b.product) > 500);
        assert!(changes(|a, b| a.quantity != b.quantity) > 500);
        assert!(changes(|a, b| a.frequency_days != b.frequency_days && b.frequency_days == 0) > 5);
        assert!(population.subs.iter().filter(|s| s.no_price).count() > 5);

        let check = |series: &RevenueSeries, what: &str| {
            let mut previous = series.before;
            for day in 0..days {
                let m = series.movements[day];
                assert!(m.iter().all(|&v| v >= 0), "{what} day {day}");
                assert_eq!(
                    series.mrr[day],
                    previous + m[NEW] + m[REACTIVATION] + m[EXPANSION] - m[CONTRACTION] - m[CHURNED],
                    "{what} identity on day {day}"
                );
                assert!(series.mrr[day] >= 0 && series.unknown[day] >= 0 && series.subscribers[day] >= 0);
                previous = series.mrr[day];
            }
        };
        check(&truth.total, "total");
        for &product in &truth.products {
            check(&truth.by_product[product], PRODUCTS[product].name);
        }
        let latest: Vec<u8> = population.subs.iter().map(|s| s.product).collect();
        let lifecycle = Truth::compute(&population, &stats.revealed, &latest, options.days);
        let mut switches = 0;
        for day in 0..days {
            let groups = truth.products.iter().map(|&p| &truth.by_product[p]);
            assert_eq!(groups.clone().map(|g| g.mrr[day]).sum::<i128>(), truth.total.mrr[day], "day {day}");
            assert_eq!(groups.clone().map(|g| g.unknown[day]).sum::<i64>(), truth.total.unknown[day]);
            for kind in [NEW, REACTIVATION, CHURNED] {
                assert_eq!(
                    groups.clone().map(|g| g.movements[day][kind]).sum::<i128>(),
                    truth.total.movements[day][kind]
                );
            }
            let moved: i128 = groups.clone().map(|g| g.movements[day][EXPANSION] - g.movements[day][CONTRACTION]).sum();
            let total = truth.total.movements[day];
            assert_eq!(moved, total[EXPANSION] - total[CONTRACTION]);
            switches +=
                i32::from(groups.clone().map(|g| g.movements[day][CONTRACTION]).sum::<i128>() > total[CONTRACTION]);
            assert_eq!(truth.total.subscribers[day], lifecycle.subscribers[day].active, "subscribers on day {day}");
            // Group subscribers: at least the total's share, at most the sum.
            assert!(groups.clone().map(|g| g.subscribers[day]).sum::<i64>() >= truth.total.subscribers[day]);
            assert!(truth.total.unknown[day] < lifecycle.subscriptions[day].active.max(1));
        }
        assert!(switches > 50, "{switches} days with a product switch");

        // The delivered rows say the simulated attributes on every day (updates are
        // never on a missing day, subscription reports always carry the columns).
        let mut order: Vec<&DeliveredRow> = stats.rows.iter().collect();
        order.sort_by_key(|r| (r.sub, r.day));
        for rows in order.chunk_by(|a, b| a.sub == b.sub) {
            let index = rows[0].sub as usize;
            let (mut product, mut price, mut quantity, mut frequency) =
                (Steps(Vec::new()), Steps(Vec::new()), Steps(Vec::new()), Steps(Vec::new()));
            for row in rows {
                product.push(row.day, Some(row.product));
                price.push(row.day, row.price_cents);
                quantity.push(row.day, row.quantity);
                frequency.push(row.day, row.frequency_days);
            }
            let sub = &population.subs[index];
            for day in sub.created_day.max(0)..days as i32 {
                let attrs = population.attrs_on(index, day);
                let expected_price = (!sub.no_price).then_some(PRODUCTS[usize::from(attrs.product)].price_cents);
                assert_eq!(product.on(day), Some(attrs.product), "sub {index} day {day}");
                if sub.scenario != Scenario::PreStart {
                    assert_eq!(price.on(day), expected_price, "sub {index} day {day}");
                    assert_eq!(quantity.on(day), Some(attrs.quantity), "sub {index} day {day}");
                    assert_eq!(frequency.on(day), Some(attrs.frequency_days), "sub {index} day {day}");
                }
            }
        }
    }
}
