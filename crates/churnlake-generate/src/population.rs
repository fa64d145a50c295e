//! The forward simulation: customers, their subscriptions and each subscription's
//! true lifecycle (created, cancelled, reactivated, cancelled again …).
//!
//! Everything the drops and the truth say comes from here. Each subscription is
//! simulated on its own (its own random stream, no per-day scan of the
//! population), in true order; when a cancellation and a reactivation share a date
//! the simulation also decides which of them carries a time of day, so that the
//! METRICS.md same-date rule recovers the true order from the files: both timed →
//! by time; otherwise the reactivation is the earlier one.

use std::ops::Range;

use chrono::Datelike;

use crate::calendar::Calendar;
use crate::catalogue::{PRODUCTS, product_weights};
use crate::options::GenerateOptions;
use crate::plan::Plan;
use crate::rng::{Deck, Rng};

/// `secs` of an event written without a time of day.
pub(crate) const NO_TIME: u32 = u32::MAX;
/// `report_day` of a subscription that never appears in a subscription report.
pub(crate) const NO_REPORT: i32 = i32::MIN;
/// Latest time of day given to a timed event (23:59:00); times are whole minutes.
const LAST_MINUTE: u32 = 23 * 3600 + 59 * 60;
/// Minimum distance between the two timed events of a same-date pair, so that
/// `HH:MM` and `HH:MM:SS` spellings can never swap them.
const PAIR_GAP: u32 = 30 * 60;
/// Cap on cancellations + reactivations per subscription.
const MAX_EVENTS: usize = 8;
/// How far before day 0 pre-start subscriptions may have been created.
const PRE_START_DAYS: i64 = 1000;
/// A customer's later subscriptions start up to this many days after the first.
const LATER_SUBSCRIPTION_DAYS: i32 = 400;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EventKind {
    Cancel,
    Reactivate,
}

/// A cancellation or reactivation: its date and, when written with one, its time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct LifeEvent {
    pub day: i32,
    /// Seconds since midnight, or [`NO_TIME`].
    pub secs: u32,
    pub kind: EventKind,
}

impl LifeEvent {
    pub(crate) fn timed(&self) -> bool {
        self.secs != NO_TIME
    }
}

/// A lifecycle forced on one subscription a day, so that every edge case the
/// metrics contract names is present in any run of a few weeks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Scenario {
    Normal,
    /// Created before day 0, known only from a cancellation report.
    PreStart,
    /// Created and cancelled on the same day ("24 Hour Cancel").
    CreateCancelSameDay,
    /// Cancelled then reactivated on one date, both timed.
    CancelThenReactivateTimed,
    /// Reactivated then cancelled on one date, both timed.
    ReactivateThenCancelTimed,
    /// Reactivated then cancelled on one date, neither timed.
    ReactivateThenCancelUntimed,
    /// Reactivated then cancelled on one date, only one of them timed.
    ReactivateThenCancelOneTimed,
    /// Created, cancelled and reactivated on one date (timed).
    CreateCancelReactivateSameDay,
    /// The customer's first subscription ends quickly; a second one starts weeks later.
    Comeback,
    /// Cancelled within a day; its subscription-report row arrives days later.
    LateCreateDrop,
}

/// How the two events of a reactivation-then-cancellation date are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum PairTiming {
    BothTimed,
    Untimed,
    OneTimed,
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct Subscription {
    pub user: u32,
    pub created_day: i32,
    pub created_secs: u32,
    /// Data date of the subscription report that first carries it ([`NO_REPORT`]: none).
    pub report_day: i32,
    pub first_event: u32,
    pub event_count: u8,
    /// Product and quantity at creation (later ones: [`Population::attrs_on`]).
    pub product: u8,
    pub quantity: u8,
    pub scenario: Scenario,
    /// Its attribute updates: `updates[first_update..][..update_count]`, by day.
    pub first_update: u32,
    pub update_count: u8,
    /// Its report rows never carry a price (it has no MRR).
    pub no_price: bool,
}

/// The attributes of a subscription that its report rows show and MRR depends on
/// (the price is the product's).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Attrs {
    pub product: u8,
    pub quantity: u8,
    /// Delivery frequency in days; 0 now and then (a subscription without MRR).
    pub frequency_days: u16,
}

/// A change of attributes, in effect from the end of `day` on (the subscription
/// report of that day carries it as an "updated" row).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Update {
    pub day: i32,
    pub attrs: Attrs,
}

/// Frequencies an update may switch to (all divide 2520, like the catalogue's).
pub(crate) const FREQUENCIES: [u16; 9] = [7, 14, 21, 28, 30, 42, 56, 60, 90];
/// Cap on attribute updates per subscription.
const MAX_UPDATES: usize = 12;
/// Days without a cancellation before an update: a cancellation row re-delivered
/// within this many days shows the same attributes as the original.
const UPDATE_QUIET_DAYS: i32 = 7;

/// The simulated world, subscriptions sorted by creation (index = id order).
pub(crate) struct Population {
    pub subs: Vec<Subscription>,
    pub events: Vec<LifeEvent>,
    /// Every subscription's attribute updates (see [`Subscription::first_update`]).
    pub updates: Vec<Update>,
    pub users: u32,
    /// `day_first_sub[d]`: index of the first subscription created on day `d` or
    /// later (`d` in `0..=days`); pre-start subscriptions come before `day_first_sub[0]`.
    pub day_first_sub: Vec<u32>,
    pub last_day: i32,
}

struct Seed {
    day: i32,
    secs: u32,
    seq: u32,
    user: u32,
    product: u8,
    quantity: u8,
    scenario: Scenario,
}

impl Population {
    pub(crate) fn events_of(&self, sub: usize) -> &[LifeEvent] {
        let s = &self.subs[sub];
        let start = s.first_event as usize;
        &self.events[start..start + usize::from(s.event_count)]
    }

    pub(crate) fn updates_of(&self, sub: usize) -> &[Update] {
        let s = &self.subs[sub];
        let start = s.first_update as usize;
        &self.updates[start..start + usize::from(s.update_count)]
    }

    /// Attributes at creation.
    pub(crate) fn created_attrs(&self, sub: usize) -> Attrs {
        let s = &self.subs[sub];
        Attrs {
            product: s.product,
            quantity: s.quantity,
            frequency_days: PRODUCTS[usize::from(s.product)].frequency_days as u16,
        }
    }

    /// Attributes at the end of `day` (the creation ones before the first update).
    pub(crate) fn attrs_on(&self, sub: usize, day: i32) -> Attrs {
        let updates = self.updates_of(sub);
        let applied = updates.partition_point(|u| u.day <= day);
        if applied == 0 { self.created_attrs(sub) } else { updates[applied - 1].attrs }
    }

    /// Subscriptions created on days `from..to` (clamped to the run).
    pub(crate) fn created_between(&self, from: i32, to: i32) -> Range<usize> {
        let at = |day: i32| self.day_first_sub[day.clamp(0, self.last_day + 1) as usize] as usize;
        at(from)..at(to).max(at(from))
    }

    pub(crate) fn simulate(options: &GenerateOptions, plan: &Plan, calendar: &Calendar) -> Population {
        let last_day = options.days as i32 - 1;
        let (mut seeds, users) = seed_subscriptions(options, plan, calendar);
        seeds.sort_unstable_by_key(|s| (s.day, s.secs, s.seq));
        let edge = options.variants.lifecycle;
        let mut events = Vec::with_capacity(seeds.len() * 2);
        let mut subs = Vec::with_capacity(seeds.len());
        let mut updates = Vec::new();
        let mut spans = Vec::new();
        for (index, seed) in seeds.iter().enumerate() {
            let mut rng = Rng::derive(options.seed, 0x11fe, index as u64);
            let first_event = events.len();
            live(seed, last_day, plan, edge, &mut rng, &mut events);
            let own = &events[first_event..];
            let report_day = match seed.scenario {
                Scenario::PreStart => NO_REPORT,
                Scenario::LateCreateDrop => match own.first() {
                    Some(cancel) if cancel.kind == EventKind::Cancel => {
                        let late = plan.active_from(cancel.day + 2 + rng.below(2) as i32);
                        if late <= last_day { late } else { seed.day }
                    }
                    _ => seed.day,
                },
                _ => seed.day,
            };
            // A cancellation dated the day after the last data date, in the last
            // cancellation report (a time-zone slip): in the lake, but not in effect
            // inside its range (METRICS.md "State at the end of day D").
            let active_at_end = own.last().is_none_or(|e| e.kind == EventKind::Reactivate);
            if edge
                && seed.scenario == Scenario::Normal
                && active_at_end
                && own.len() < MAX_EVENTS
                && !plan.missing(last_day)
                && rng.chance(10)
            {
                events.push(LifeEvent { day: last_day + 1, secs: NO_TIME, kind: EventKind::Cancel });
            }
            let own = &events[first_event..];
            let mut sub = Subscription {
                user: seed.user,
                created_day: seed.day,
                created_secs: seed.secs,
                report_day,
                first_event: first_event as u32,
                event_count: own.len() as u8,
                product: seed.product,
                quantity: seed.quantity,
                scenario: seed.scenario,
                first_update: updates.len() as u32,
                update_count: 0,
                no_price: false,
            };
            // Attribute updates draw from their own stream: the lifecycles are those
            // of a run without them.
            let mut rng = Rng::derive(options.seed, 0x0bd7, index as u64);
            crate::truth::active_spans(&sub, own, &mut spans);
            sub.update_count = simulate_updates(&sub, &spans, last_day, plan, edge, &mut rng, &mut updates);
            sub.no_price = edge && sub.scenario == Scenario::Normal && rng.chance(3);
            subs.push(sub);
        }
        let day_first_sub =
            (0..=last_day + 1).map(|day| subs.partition_point(|s| s.created_day < day) as u32).collect();
        Population { subs, events, updates, users, day_first_sub, last_day }
    }
}

/// Appends a subscription's attribute updates (by day) to `out`; returns how many.
/// An update falls on a day the subscription is active at the end of, with no
/// cancellation in the [`UPDATE_QUIET_DAYS`] before, on a delivered, non-quiet day
/// after a delivered day (so that a report never holds mostly earlier-created
/// rows), after its creation day.
fn simulate_updates(
    sub: &Subscription,
    spans: &[(i32, i32)],
    last_day: i32,
    plan: &Plan,
    edge: bool,
    rng: &mut Rng,
    out: &mut Vec<Update>,
) -> u8 {
    if sub.scenario != Scenario::Normal {
        return 0;
    }
    let products = product_weights();
    let mut attrs = Attrs {
        product: sub.product,
        quantity: sub.quantity,
        frequency_days: PRODUCTS[usize::from(sub.product)].frequency_days as u16,
    };
    let mut count = 0u8;
    let mut day = sub.created_day.max(0) + update_gap(rng);
    while day <= last_day && usize::from(count) < MAX_UPDATES {
        day = plan.active_from(day);
        if day > last_day {
            break;
        }
        let in_span = spans.iter().find(|&&(from, to)| from <= day && day < to);
        let settled = in_span.is_some_and(|&(from, _)| from == sub.created_day || from <= day - UPDATE_QUIET_DAYS);
        if day > sub.created_day && settled && !plan.missing(day) && !plan.missing(day - 1) {
            let kind = rng.below(100);
            let mut next = attrs;
            if !(45..95).contains(&kind) {
                next.quantity = 1 + rng.weighted(&[50, 28, 14, 8]) as u8;
                if next.quantity == attrs.quantity {
                    next.quantity = if attrs.quantity >= 4 { 1 } else { attrs.quantity + 1 };
                }
            }
            if (45..80).contains(&kind) || kind >= 95 {
                let mut product = rng.weighted(&products) as u8;
                if product == attrs.product {
                    product = (product + 1) % PRODUCTS.len() as u8;
                }
                next.product = product;
                next.frequency_days = PRODUCTS[usize::from(product)].frequency_days as u16;
            }
            if (80..95).contains(&kind) {
                next.frequency_days = if edge && rng.chance(60) {
                    0
                } else {
                    let mut frequency = FREQUENCIES[rng.below(FREQUENCIES.len() as u64) as usize];
                    if frequency == attrs.frequency_days {
                        frequency = FREQUENCIES
                            [(FREQUENCIES.iter().position(|&f| f == frequency).unwrap_or(0) + 1) % FREQUENCIES.len()];
                    }
                    frequency
                };
            }
            out.push(Update { day, attrs: next });
            attrs = next;
            count += 1;
        }
        day += update_gap(rng);
    }
    count
}

/// Days to a subscription's next attribute update: a few soon, most after a year or more.
fn update_gap(rng: &mut Rng) -> i32 {
    if rng.chance(150) { rng.range(2, 60) as i32 } else { rng.range(60, 1500) as i32 }
}

/// Customers and the creation (day, time, product) of each of their subscriptions.
fn seed_subscriptions(options: &GenerateOptions, plan: &Plan, calendar: &Calendar) -> (Vec<Seed>, u32) {
    let days = i64::from(options.days);
    let last_day = options.days as i32 - 1;
    let edge = options.variants.lifecycle;
    let mut rng = Rng::derive(options.seed, 0x05e5, 0);
    let expected = (options.days as usize) * (options.subs_per_day as usize) * 21 / 20;
    let mut seeds: Vec<Seed> = Vec::with_capacity(expected + 64);
    let mut users = 0u32;
    let products = product_weights();
    let push = |seeds: &mut Vec<Seed>, rng: &mut Rng, day: i32, user: u32, scenario: Scenario| {
        let seq = seeds.len() as u32;
        seeds.push(Seed {
            day,
            secs: creation_secs(rng),
            seq,
            user,
            product: rng.weighted(&products) as u8,
            quantity: 1 + rng.weighted(&[70, 22, 8]) as u8,
            scenario,
        });
    };

    // Subscriptions created before the first day that are cancelled inside the
    // run: the drops reveal them through cancellation reports only.
    if edge && options.subs_per_day > 0 && days >= 2 {
        let count = (u64::from(options.subs_per_day) * days.min(730) as u64 / 36).max(1);
        for _ in 0..count {
            let user = users;
            users += 1;
            let day = -(rng.range(1, PRE_START_DAYS) as i32);
            push(&mut seeds, &mut rng, day, user, Scenario::PreStart);
            if rng.chance(150) {
                let later = plan.active_from(rng.below(days as u64) as i32);
                push(&mut seeds, &mut rng, later, user, Scenario::Normal);
            }
        }
    }

    let mut forced: Vec<Scenario> = Vec::new();
    if edge {
        forced.extend([
            Scenario::CreateCancelSameDay,
            Scenario::CancelThenReactivateTimed,
            Scenario::ReactivateThenCancelTimed,
            Scenario::ReactivateThenCancelUntimed,
            Scenario::ReactivateThenCancelOneTimed,
            Scenario::CreateCancelReactivateSameDay,
        ]);
    }
    forced.push(Scenario::Comeback);
    if options.variants.delivery {
        forced.push(Scenario::LateCreateDrop);
    }
    let mut scenarios = Deck::new(&forced, Scenario::Normal);
    let first_weekday = calendar.date(0).weekday().num_days_from_monday() as i64;
    // Mon..Sun, averaging 100.
    const WEEKDAY: [u64; 7] = [108, 110, 106, 104, 100, 84, 88];
    // Quiet days create nothing; the other days make up for them.
    let quiet_days = (0..=last_day).filter(|&d| plan.quiet(d)).count() as u64;
    let open_days = (u64::from(options.days) - quiet_days).max(1);
    // Customers who started before day 0 still open later subscriptions inside the
    // run (their first one is not in the drops), as in a business in steady state:
    // without them the run's first year would be short of subscriptions.
    for day in -LATER_SUBSCRIPTION_DAYS..=last_day {
        if plan.quiet(day) || options.subs_per_day == 0 {
            continue;
        }
        // Customers a day so that subscriptions a day average `subs_per_day`
        // (a customer starts 1.36 subscriptions on average), in thousandths.
        let weekday = WEEKDAY[(first_weekday + i64::from(day)).rem_euclid(7) as usize];
        let noise = rng.range(80, 120) as u64;
        let milli = u64::from(options.subs_per_day) * 1_000_000 / 1360 * weekday / 100 * noise / 100
            * u64::from(options.days)
            / open_days;
        let customers = (milli / 1000 + u64::from(rng.below(1000) < milli % 1000)).max(1);
        for nth in 0..customers {
            let scenario = if nth == 0 && day >= 0 { scenarios.draw(&mut rng) } else { Scenario::Normal };
            let count = if scenario == Scenario::Comeback { 2 } else { 1 + rng.weighted(&[72, 20, 8]) };
            let mut days_of_subs = [day; 3];
            for later in days_of_subs.iter_mut().take(count).skip(1) {
                *later = if scenario == Scenario::Comeback {
                    day + rng.range(15, 60) as i32
                } else if rng.chance(400) {
                    day
                } else {
                    day + rng.range(1, i64::from(LATER_SUBSCRIPTION_DAYS)) as i32
                };
                *later = plan.active_from(*later);
            }
            let kept = days_of_subs[..count].iter().filter(|&&d| (0..=last_day).contains(&d)).count();
            if kept == 0 {
                continue;
            }
            let user = users;
            users += 1;
            for (i, &sub_day) in days_of_subs[..count].iter().enumerate() {
                if (0..=last_day).contains(&sub_day) {
                    push(&mut seeds, &mut rng, sub_day, user, if i == 0 { scenario } else { Scenario::Normal });
                }
            }
        }
    }
    (seeds, users)
}

/// A creation time of day, weighted towards waking hours.
fn creation_secs(rng: &mut Rng) -> u32 {
    const HOURS: [u32; 24] = [2, 1, 1, 1, 1, 2, 4, 6, 8, 9, 9, 9, 9, 9, 8, 8, 8, 9, 10, 10, 9, 7, 5, 3];
    rng.weighted(&HOURS) as u32 * 3600 + rng.below(3600) as u32
}

/// A whole minute in `lo..=hi` (`hi` when the range is empty).
fn minute(rng: &mut Rng, lo: u32, hi: u32) -> u32 {
    let lo = lo.div_ceil(60);
    let hi = hi / 60;
    if lo >= hi { hi * 60 } else { rng.range(i64::from(lo), i64::from(hi)) as u32 * 60 }
}

/// Days until a cancellation, at least 1: a mix of quick quitters and loyal customers.
fn lifetime(rng: &mut Rng) -> i32 {
    let bucket = rng.below(1000);
    let (lo, hi) = match bucket {
        0..220 => (1, 30),
        220..520 => (31, 180),
        520..770 => (181, 540),
        _ => (541, 2000),
    };
    rng.range(lo, hi) as i32
}

/// Days from a cancellation to a reactivation, when there is one: half within a month.
fn reactivation_gap(rng: &mut Rng) -> i32 {
    if rng.chance(500) { rng.range(1, 30) as i32 } else { rng.range(31, 300) as i32 }
}

/// How a reactivation-then-cancellation date is written, when no scenario says.
fn pair_timing(rng: &mut Rng) -> PairTiming {
    [PairTiming::BothTimed, PairTiming::Untimed, PairTiming::OneTimed][rng.weighted(&[40, 35, 25])]
}

/// Whether `events` (in true order) end with an event of `kind` dated `day`.
fn has_on(events: &[LifeEvent], day: i32, kind: EventKind) -> bool {
    events.iter().rev().take_while(|e| e.day == day).any(|e| e.kind == kind)
}

/// A whole-minute time of day for about a third of events, else [`NO_TIME`].
fn sometimes_timed(rng: &mut Rng) -> u32 {
    if rng.chance(350) { minute(rng, 0, LAST_MINUTE) } else { NO_TIME }
}

/// Days from a subscription's previous event (its creation, for the first) to its
/// `step`-th event, a cancellation: what its scenario forces, else a [`lifetime`] or,
/// with edge cases on, now and then the same day. `None`: a pre-start subscription's
/// first cancellation, on a random day of the run's first two years.
fn days_to_cancellation(scenario: Scenario, step: usize, edge: bool, rng: &mut Rng) -> Option<i32> {
    use Scenario as S;
    match (scenario, step) {
        (S::PreStart, 0) => None,
        (S::CreateCancelSameDay | S::CreateCancelReactivateSameDay, 0) => Some(0),
        (S::LateCreateDrop, 0) => Some(if edge { rng.range(0, 1) as i32 } else { 1 }),
        (
            S::CancelThenReactivateTimed
            | S::ReactivateThenCancelTimed
            | S::ReactivateThenCancelUntimed
            | S::ReactivateThenCancelOneTimed
            | S::Comeback,
            0,
        ) => Some(rng.range(1, 10) as i32),
        (S::ReactivateThenCancelTimed | S::ReactivateThenCancelUntimed | S::ReactivateThenCancelOneTimed, 2) => Some(0),
        _ => {
            let same_day_per_mille = if step == 0 { 25 } else { 40 };
            Some(if edge && rng.chance(same_day_per_mille) { 0 } else { lifetime(rng) })
        }
    }
}

/// How a scenario has its reactivation-then-cancellation date written (its
/// `step`-th event being that cancellation); `None`: the scenario leaves it to chance.
fn forced_pair_timing(scenario: Scenario, step: usize) -> Option<PairTiming> {
    match (scenario, step) {
        (Scenario::ReactivateThenCancelTimed, 2) => Some(PairTiming::BothTimed),
        (Scenario::ReactivateThenCancelUntimed, 2) => Some(PairTiming::Untimed),
        (Scenario::ReactivateThenCancelOneTimed, 2) => Some(PairTiming::OneTimed),
        _ => None,
    }
}

/// Days from a subscription's cancellation to its reactivation (its `step`-th
/// event): what its scenario forces, else for a quarter of cancellations a
/// [`reactivation_gap`] or, with edge cases on, now and then the same day. `None`:
/// it stays cancelled.
fn days_to_reactivation(scenario: Scenario, step: usize, edge: bool, rng: &mut Rng) -> Option<i32> {
    use Scenario as S;
    match (scenario, step) {
        (S::CancelThenReactivateTimed | S::CreateCancelReactivateSameDay, 1) => Some(0),
        (S::ReactivateThenCancelTimed | S::ReactivateThenCancelUntimed | S::ReactivateThenCancelOneTimed, 1) => {
            Some(rng.range(1, 10) as i32)
        }
        (S::Comeback | S::LateCreateDrop, 1) => None,
        _ => rng.chance(250).then(|| if edge && rng.chance(60) { 0 } else { reactivation_gap(rng) }),
    }
}

/// The times of day, written as `timing` says, of a reactivation (so far at
/// `reactivation_secs`) and a cancellation on the same date, as (reactivation,
/// cancellation). Rows written with both times are ordered by time, so the
/// cancellation then comes at least [`PAIR_GAP`] later; any other spelling reads as
/// "cancellation last".
fn reactivate_then_cancel_times(timing: PairTiming, reactivation_secs: u32, rng: &mut Rng) -> (u32, u32) {
    match timing {
        PairTiming::BothTimed => {
            let reactivation = if reactivation_secs == NO_TIME || reactivation_secs > LAST_MINUTE - PAIR_GAP {
                minute(rng, 0, LAST_MINUTE - PAIR_GAP)
            } else {
                reactivation_secs
            };
            (reactivation, minute(rng, reactivation + PAIR_GAP, LAST_MINUTE))
        }
        PairTiming::Untimed => (NO_TIME, NO_TIME),
        PairTiming::OneTimed => {
            if rng.chance(500) {
                let reactivation =
                    if reactivation_secs == NO_TIME { minute(rng, 0, LAST_MINUTE) } else { reactivation_secs };
                (reactivation, NO_TIME)
            } else {
                (NO_TIME, minute(rng, 0, LAST_MINUTE))
            }
        }
    }
}

/// One subscription's lifecycle while it is simulated.
struct Life<'a> {
    seed: &'a Seed,
    last_day: i32,
    plan: &'a Plan,
    /// Lifecycle edge cases on (`Variants::lifecycle`).
    edge: bool,
    /// Earliest time of day of an event on the creation date: a whole minute at
    /// least a minute after the creation time.
    after_creation: u32,
    /// Every subscription's events so far; this one's are those from `start` on.
    out: &'a mut Vec<LifeEvent>,
    start: usize,
}

impl Life<'_> {
    /// This subscription's events so far, in true order.
    fn events(&self) -> &[LifeEvent] {
        &self.out[self.start..]
    }

    /// While active: adds its next cancellation. False when there is none (it stays
    /// active past the last day, or already has [`MAX_EVENTS`]).
    fn push_cancellation(&mut self, rng: &mut Rng) -> bool {
        let step = self.events().len();
        if step >= MAX_EVENTS {
            return false;
        }
        let previous_day = self.events().last().map_or(self.seed.day, |e| e.day);
        let mut day = match days_to_cancellation(self.seed.scenario, step, self.edge, rng) {
            Some(gap) => self.plan.active_from(previous_day + gap),
            None => self.plan.active_from(rng.below((self.last_day + 1).min(730) as u64) as i32),
        };
        if has_on(self.events(), day, EventKind::Cancel) {
            day = self.plan.active_from(day + 1);
        }
        if day > self.last_day {
            return false;
        }
        let secs = self.cancellation_secs(day, step, rng);
        self.out.push(LifeEvent { day, secs, kind: EventKind::Cancel });
        true
    }

    /// The time of day of its `step`-th event, a cancellation dated `day`
    /// ([`NO_TIME`]: none). After a reactivation that same date, this also retimes
    /// that reactivation so that the files' same-date rule reads the two in true order.
    fn cancellation_secs(&mut self, day: i32, step: usize, rng: &mut Rng) -> u32 {
        let after_reactivation = self.events().last().is_some_and(|e| e.day == day && e.kind == EventKind::Reactivate);
        if after_reactivation {
            let timing = forced_pair_timing(self.seed.scenario, step).unwrap_or_else(|| pair_timing(rng));
            let index = self.out.len() - 1;
            let (reactivation_secs, secs) = reactivate_then_cancel_times(timing, self.out[index].secs, rng);
            self.out[index].secs = reactivation_secs;
            secs
        } else if day == self.seed.day {
            // Cancelled on its creation day: creation comes first whatever the time.
            if rng.chance(500) && self.after_creation <= LAST_MINUTE {
                minute(rng, self.after_creation, LAST_MINUTE)
            } else {
                NO_TIME
            }
        } else {
            sometimes_timed(rng)
        }
    }

    /// While cancelled: maybe adds its reactivation. False when there is none (it
    /// stays cancelled, past the last day too, or already has [`MAX_EVENTS`]).
    fn push_reactivation(&mut self, rng: &mut Rng) -> bool {
        let step = self.events().len();
        if step >= MAX_EVENTS {
            return false;
        }
        let Some(gap) = days_to_reactivation(self.seed.scenario, step, self.edge, rng) else {
            return false;
        };
        let cancel_index = self.out.len() - 1;
        let cancel_day = self.out[cancel_index].day;
        let mut day = self.plan.active_from(cancel_day + gap);
        if has_on(self.events(), day, EventKind::Reactivate) {
            day = self.plan.active_from(day + 1);
        }
        if day == cancel_day && !self.time_cancellation_before_reactivation(rng) {
            day = self.plan.active_from(day + 1);
        }
        if day > self.last_day {
            return false;
        }
        let secs = if day == cancel_day {
            minute(rng, self.out[cancel_index].secs + PAIR_GAP, LAST_MINUTE)
        } else {
            sometimes_timed(rng)
        };
        self.out.push(LifeEvent { day, secs, kind: EventKind::Reactivate });
        true
    }

    /// Before a reactivation on the date of its last event, a cancellation: only times
    /// can say that the cancellation came first, so both are timed. Gives the
    /// cancellation a time leaving room for a reactivation [`PAIR_GAP`] later unless it
    /// has one; false when no time can (created too late that day).
    fn time_cancellation_before_reactivation(&mut self, rng: &mut Rng) -> bool {
        let cancel_index = self.out.len() - 1;
        let cancellation = self.out[cancel_index];
        let earliest = if cancellation.day == self.seed.day { self.after_creation } else { 0 };
        let secs = cancellation.secs;
        let needs_time = secs == NO_TIME || secs < earliest || secs + PAIR_GAP > LAST_MINUTE;
        if !needs_time {
            return true;
        }
        if earliest + PAIR_GAP > LAST_MINUTE {
            return false;
        }
        self.out[cancel_index].secs = minute(rng, earliest, LAST_MINUTE - PAIR_GAP);
        true
    }
}

/// Simulates one subscription's cancellations and reactivations (true order) into
/// `out`: cancelled, maybe reactivated, cancelled again …, until it stays active or
/// cancelled past the last day, or has [`MAX_EVENTS`].
fn live(seed: &Seed, last_day: i32, plan: &Plan, edge: bool, rng: &mut Rng, out: &mut Vec<LifeEvent>) {
    let start = out.len();
    let after_creation = seed.secs.div_ceil(60) * 60 + 60;
    let mut life = Life { seed, last_day, plan, edge, after_creation, out, start };
    while life.push_cancellation(rng) && life.push_reactivation(rng) {}
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::options::{Preset, Variants};

    pub(crate) fn small_population(days: u32, subs_per_day: u32, seed: u64) -> (GenerateOptions, Plan, Population) {
        let mut options = Preset::Demo.options("/nonexistent");
        options.days = days;
        options.subs_per_day = subs_per_day;
        options.seed = seed;
        let plan = Plan::new(days, &Variants::all(), seed);
        let calendar = Calendar::new(options.start, days);
        let population = Population::simulate(&options, &plan, &calendar);
        (options, plan, population)
    }

    #[test]
    fn lifecycles_respect_the_file_contract() {
        let (_, plan, population) = small_population(200, 40, 11);
        let mut pairs = [0usize; 4];
        for (index, sub) in population.subs.iter().enumerate() {
            let events = population.events_of(index);
            let mut previous_day = sub.created_day;
            let mut active = true;
            for (i, event) in events.iter().enumerate() {
                // True order alternates, never before creation, dates never go back; only
                // a subscription's last event may be dated after the last day (by one day).
                assert!(event.day >= previous_day && event.day >= sub.created_day.max(0));
                if event.day > population.last_day {
                    assert!(event.day == population.last_day + 1 && i + 1 == events.len());
                    assert_eq!(event.kind, EventKind::Cancel);
                } else {
                    assert!(!plan.quiet(event.day));
                }
                assert_eq!(event.kind == EventKind::Cancel, active, "sub {index}");
                active = !active;
                previous_day = event.day;
                if event.timed() {
                    assert!(event.secs <= LAST_MINUTE && event.secs % 60 == 0);
                }
                if event.day == sub.created_day && event.timed() {
                    assert!(event.secs > sub.created_secs);
                }
                // At most one event of a kind per date; same-date pairs recoverable.
                if let Some(next) = events.get(i + 1).filter(|n| n.day == event.day) {
                    assert_ne!(next.kind, event.kind);
                    assert!(events.get(i + 2).is_none_or(|n| n.day != event.day));
                    match event.kind {
                        EventKind::Cancel => {
                            assert!(event.timed() && next.timed() && next.secs >= event.secs + PAIR_GAP);
                            pairs[0] += 1;
                        }
                        EventKind::Reactivate => {
                            if event.timed() && next.timed() {
                                assert!(next.secs >= event.secs + PAIR_GAP);
                                pairs[1] += 1;
                            } else if event.timed() || next.timed() {
                                pairs[2] += 1;
                            } else {
                                pairs[3] += 1;
                            }
                        }
                    }
                }
            }
            if sub.scenario == Scenario::PreStart {
                assert!(sub.created_day < 0 && sub.report_day == NO_REPORT);
                assert_eq!(events.first().map(|e| e.kind), Some(EventKind::Cancel));
            } else {
                assert!(sub.created_day >= 0 && !plan.quiet(sub.created_day));
                assert!(sub.report_day >= sub.created_day && sub.report_day <= population.last_day);
            }
            if sub.report_day > sub.created_day {
                let first_cancel = events.first().map(|e| e.day);
                assert!(first_cancel.is_some_and(|d| d + 2 <= sub.report_day));
            }
        }
        assert!(pairs.iter().all(|&n| n > 0), "{pairs:?}");
        // Sorted by creation.
        assert!(
            population
                .subs
                .windows(2)
                .all(|w| (w[0].created_day, w[0].created_secs) <= (w[1].created_day, w[1].created_secs))
        );
    }

    #[test]
    fn volume_matches_subs_per_day() {
        let (options, _, population) = small_population(400, 60, 5);
        let in_range = population.subs.iter().filter(|s| s.created_day >= 0).count() as f64;
        let per_day = in_range / f64::from(options.days);
        // Later subscriptions of customers near the end fall outside the run: a few % short.
        assert!((0.9 * 60.0..=1.05 * 60.0).contains(&per_day), "{per_day}");
    }
}
