//! Writes the daily drop files: for each delivered day its subscription report,
//! cancellation report and subscriber-events file (plus, some days, legacy files),
//! in the spellings the [`Styler`] deals, with the delivery anomalies of the plan.
//!
//! Rows are bucketed by the day whose files carry them (one pass over the
//! population), then each day's files are built in memory and written in one go.
//! Every row is consistent with the simulation as of its file's data date, so the
//! files reveal exactly the simulated events; the writer records which
//! subscriptions a report row revealed, and the truth counts only those.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use crate::GenerateError;
use crate::calendar::{Calendar, DateStyle, push_time, push_u64};
use crate::catalogue::{
    CLIENT, MERCHANT, ORPHAN_ID_BASE, PRODUCTS, SUBSCRIPTION_ID_BASE, USER_ID_BASE, cancel_reason, extra_data,
    loyalty_tier, person, push_public_id,
};
use crate::options::GenerateOptions;
use crate::plan::{DayPlan, FileKind, Plan};
use crate::population::{EventKind, LifeEvent, NO_REPORT, NO_TIME, Population, Scenario};
use crate::rng::{Rng, mix64};
use crate::style::{
    Column, Compact, Encoding, EventsLayout, Header, MoneyStyle, NameStyle, StampStyle, Styler, TextStyle, ValueStyle,
};

/// What the drops revealed and what they contain.
pub(crate) struct DropStats {
    pub files: u64,
    pub bytes: u64,
    /// Per subscription: does at least one report row carry it?
    pub revealed: Vec<bool>,
    /// How many files (or values) were written in each spelling.
    pub variants: BTreeMap<String, u64>,
    /// How many times each delivery or lifecycle anomaly was written.
    pub anomalies: BTreeMap<String, u64>,
    /// Every subscription- and cancellation-report row written (re-sent copies of a
    /// file aside: they repeat its rows), in writing order.
    pub rows: Vec<DeliveredRow>,
}

/// What one delivered report row says of its subscription's attributes (`None`:
/// empty, or the file lacks the column) and, in a cancellation report, of its
/// cancellation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct DeliveredRow {
    pub sub: u32,
    /// Data date of the file.
    pub day: i32,
    /// Catalogue index (the `Product` column is always present).
    pub product: u8,
    pub price_cents: Option<u64>,
    pub quantity: Option<u8>,
    pub frequency_days: Option<u16>,
    /// Cancellation rows: index of the event in [`Population::events`].
    pub cancel: Option<u32>,
    /// Cancellation rows: which of the subscription's cancellations (0-based), when
    /// the file has a `Cancel Reason` column.
    pub reason_nth: Option<u8>,
    /// The `24 Hour Cancel` flag (`None`: written blank, or no such column).
    pub within_24h: Option<bool>,
}

/// One row of a subscription or cancellation report.
#[derive(Clone, Copy, Debug)]
struct ReportRow {
    sub: u32,
    /// The row shows the subscription as of the end of this day.
    as_of: i32,
    /// For cancellation rows: the global index of the cancellation event.
    cancel: Option<u32>,
}

/// Whose public id a subscriber-event row carries.
#[derive(Clone, Copy, Debug)]
enum PublicRef {
    Subscription(u32),
    Orphan(u64),
}

#[derive(Clone, Copy, Debug)]
struct EventRow {
    public: PublicRef,
    user: u32,
    code: u16,
    day: i32,
    secs: u32,
}

/// A lifecycle event as a row of the files that carry it: its subscription and its
/// index in [`Population::events`].
#[derive(Clone, Copy, Debug)]
struct EventRef {
    sub: u32,
    event: u32,
}

/// The population's rows bucketed by the data date whose files carry them, before
/// delivery anomalies and missing days move or repeat any.
struct RowsByDay {
    /// Subscriptions the day's subscription report is the first to list.
    subscriptions: Vec<Vec<u32>>,
    /// Cancellations in the day's cancellation report.
    cancellations: Vec<Vec<EventRef>>,
    /// Reactivations (code 9) in the day's subscriber-events file.
    reactivations: Vec<Vec<EventRef>>,
}

impl RowsByDay {
    /// One pass over the population of a run of `days` days; an event dated after the
    /// last day is in the last day's files.
    fn new(population: &Population, days: usize) -> RowsByDay {
        let mut rows = RowsByDay {
            subscriptions: vec![Vec::new(); days],
            cancellations: vec![Vec::new(); days],
            reactivations: vec![Vec::new(); days],
        };
        for (index, sub) in population.subs.iter().enumerate() {
            if sub.report_day != NO_REPORT {
                rows.subscriptions[sub.report_day as usize].push(index as u32);
            }
            // "Created or Updated": an update's row is in its day's subscription report.
            for update in population.updates_of(index) {
                rows.subscriptions[update.day as usize].push(index as u32);
            }
            for (nth, event) in population.events_of(index).iter().enumerate() {
                let bucket = match event.kind {
                    EventKind::Cancel => &mut rows.cancellations,
                    EventKind::Reactivate => &mut rows.reactivations,
                };
                let row = EventRef { sub: index as u32, event: sub.first_event + nth as u32 };
                bucket[(event.day as usize).min(days - 1)].push(row);
            }
        }
        rows
    }
}

/// A delivered (not missing) day, as the builders of its files see it.
struct DeliveredDay<'a> {
    /// The data date whose files these are (0: the run's first day).
    data_date: i32,
    /// What the delivery calendar says of it.
    plan: &'a DayPlan,
    /// The missing day just before it, whose rows its files carry too.
    carried_from: Option<usize>,
    /// Whether its files get the delivery anomalies (overlapping and duplicate rows).
    delivery_anomalies: bool,
}

/// The rows of a day's report: first its own (those carried from a missing previous
/// day included), then those the delivery anomalies repeat.
struct ReportRows<T> {
    rows: Vec<T>,
    /// How many of `rows` are its own.
    own: usize,
}

impl<T> ReportRows<T> {
    fn own(&self) -> &[T] {
        &self.rows[..self.own]
    }
}

/// A file name stamp: the stamp date (data date + 1), production time, spelling.
#[derive(Clone, Copy, Debug)]
struct Stamp {
    day: i32,
    secs: u32,
    style: StampStyle,
}

/// Event codes written as noise (never 9): FORMATS.md's table, code 2 most often.
const NOISE_CODES: [u16; 19] = [2, 2, 2, 3, 4, 4, 6, 8, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20];
/// A code no documentation lists.
const UNKNOWN_CODE: u16 = 42;

struct Writer<'a> {
    options: &'a GenerateOptions,
    plan: &'a Plan,
    population: &'a Population,
    calendar: &'a Calendar,
    dir: PathBuf,
    made_dirs: BTreeSet<u32>,
    styler: Styler,
    stats: DropStats,
    tricky: bool,
    orphans: u64,
}

pub(crate) fn write_drops(
    options: &GenerateOptions,
    plan: &Plan,
    population: &Population,
    calendar: &Calendar,
    dir: &Path,
) -> Result<DropStats, GenerateError> {
    let mut writer = Writer {
        options,
        plan,
        population,
        calendar,
        dir: dir.to_path_buf(),
        made_dirs: BTreeSet::new(),
        styler: Styler::new(&options.variants, options.seed),
        stats: DropStats {
            files: 0,
            bytes: 0,
            revealed: vec![false; population.subs.len()],
            variants: BTreeMap::new(),
            anomalies: BTreeMap::new(),
            rows: Vec::new(),
        },
        tricky: options.variants.text,
        orphans: 0,
    };
    writer.count_lifecycle_anomalies();
    writer.write_days()?;
    Ok(writer.stats)
}

fn bump(map: &mut BTreeMap<String, u64>, key: &str, by: u64) {
    if by > 0 {
        *map.entry(key.to_string()).or_insert(0) += by;
    }
}

/// Appends a CSV field, quoted when it holds a comma, quote or line break.
fn push_cell(buf: &mut String, value: &str) {
    if value.contains([',', '"', '\n', '\r']) {
        buf.push('"');
        for c in value.chars() {
            if c == '"' {
                buf.push('"');
            }
            buf.push(c);
        }
        buf.push('"');
    } else {
        buf.push_str(value);
    }
}

fn push_money(buf: &mut String, cents: u64, style: MoneyStyle) {
    let mut text = String::with_capacity(12);
    if matches!(style, MoneyStyle::Dollar | MoneyStyle::DollarThousands) {
        text.push('$');
    }
    let dollars = cents / 100;
    let mut digits = String::with_capacity(12);
    push_u64(&mut digits, dollars);
    let grouped = matches!(style, MoneyStyle::Thousands | MoneyStyle::DollarThousands);
    for (i, digit) in digits.chars().enumerate() {
        if grouped && i > 0 && (digits.len() - i).is_multiple_of(3) {
            text.push(',');
        }
        text.push(digit);
    }
    text.push('.');
    crate::calendar::push2(&mut text, (cents % 100) as u32);
    push_cell(buf, &text);
}

/// State of a subscription at the end of `as_of`, the latest cancellation on or
/// before it, and whether that subscription was cancelled on its creation date.
struct AsOf {
    active: bool,
    latest_cancel: Option<(usize, LifeEvent)>,
    cancelled_on_creation_day: bool,
}

fn as_of(population: &Population, sub: usize, day: i32) -> AsOf {
    let events = population.events_of(sub);
    let created = population.subs[sub].created_day;
    let mut state = AsOf { active: true, latest_cancel: None, cancelled_on_creation_day: false };
    let mut nth = 0;
    for event in events.iter().take_while(|e| e.day <= day) {
        match event.kind {
            EventKind::Cancel => {
                state.active = false;
                state.latest_cancel = Some((nth, *event));
                nth += 1;
            }
            EventKind::Reactivate => state.active = true,
        }
    }
    state.cancelled_on_creation_day =
        events.first().is_some_and(|e| e.kind == EventKind::Cancel && e.day == created && e.day <= day);
    state
}

impl Writer<'_> {
    /// Days by which this subscription's cancellation-report rows date its creation
    /// earlier than its subscription-report row does (0: they agree). METRICS.md: the
    /// subscription report's Create Date wins, so only subscriptions whose subscription
    /// report row is delivered get one.
    fn restated_create_days(&self, sub: u32) -> i32 {
        let s = &self.population.subs[sub as usize];
        let last = self.population.last_day;
        let delivered = s.report_day != NO_REPORT && (!self.plan.missing(s.report_day) || s.report_day < last);
        let h = mix64((SUBSCRIPTION_ID_BASE + u64::from(sub)) ^ 0x5e57_a7ed);
        if self.options.variants.lifecycle && delivered && (h >> 20).is_multiple_of(40) {
            1 + ((h >> 30) % 5) as i32
        } else {
            0
        }
    }

    fn note(&mut self, key: &str) {
        bump(&mut self.stats.variants, key, 1);
    }

    fn anomaly(&mut self, key: &str, by: u64) {
        bump(&mut self.stats.anomalies, key, by);
    }

    /// Lifecycle anomalies are properties of the simulation; count them once.
    fn count_lifecycle_anomalies(&mut self) {
        let population = self.population;
        let mut counts: BTreeMap<String, u64> = BTreeMap::new();
        for (index, sub) in population.subs.iter().enumerate() {
            let events = population.events_of(index);
            if sub.created_day < 0 {
                bump(&mut counts, "subscriptions_created_before_first_day", 1);
            }
            if sub.scenario == Scenario::Comeback {
                bump(&mut counts, "comeback_customers", 1);
            }
            if sub.report_day != NO_REPORT && sub.report_day > sub.created_day {
                bump(&mut counts, "cancellation_delivered_before_creation_row", 1);
            }
            if events.first().is_some_and(|e| e.kind == EventKind::Cancel && e.day == sub.created_day) {
                bump(&mut counts, "same_day_create_cancel", 1);
            }
            if events.iter().any(|e| e.day > population.last_day) {
                bump(&mut counts, "cancellation_dated_after_last_day", 1);
            }
            if events.iter().any(|e| e.kind == EventKind::Cancel) && self.restated_create_days(index as u32) > 0 {
                bump(&mut counts, "cancellation_rows_with_earlier_create_date", 1);
            }
            for pair in events.windows(2).filter(|w| w[0].day == w[1].day) {
                let key = match (pair[0].kind, pair[0].timed(), pair[1].timed()) {
                    (EventKind::Cancel, _, _) => "same_day_cancel_then_reactivate_timed",
                    (EventKind::Reactivate, true, true) => "same_day_reactivate_then_cancel_timed",
                    (EventKind::Reactivate, false, false) => "same_day_reactivate_then_cancel_untimed",
                    (EventKind::Reactivate, _, _) => "same_day_reactivate_then_cancel_one_timed",
                };
                bump(&mut counts, key, 1);
            }
        }
        bump(&mut counts, "attribute_updates", population.updates.len() as u64);
        let to_no_mrr = population.updates.iter().filter(|u| u.attrs.frequency_days == 0).count();
        bump(&mut counts, "attribute_updates_to_frequency_0", to_no_mrr as u64);
        bump(&mut counts, "subscriptions_without_price", population.subs.iter().filter(|s| s.no_price).count() as u64);
        for day in &self.plan.days {
            if day.missing {
                bump(&mut counts, "missing_days", 1);
            }
            if day.quiet {
                bump(&mut counts, "quiet_days", 1);
            }
        }
        for (key, n) in counts {
            self.anomaly(&key, n);
        }
    }

    /// Writes the files of every delivered day, in date order (the styler deals its
    /// spellings in that order): subscription report, cancellation report,
    /// subscriber events, then the legacy files the plan asks for.
    fn write_days(&mut self) -> Result<(), GenerateError> {
        let plan = self.plan;
        let days = self.options.days as usize;
        let rows = RowsByDay::new(self.population, days);
        // The last delivered day's cancellation-report rows (its duplicates included)
        // and reactivations, which this day's duplicate rows may repeat.
        let mut previous_cancellations: Vec<EventRef> = Vec::new();
        let mut previous_reactivations: Vec<EventRef> = Vec::new();
        for data_date in 0..days {
            let day_plan = &plan.days[data_date];
            if day_plan.missing {
                continue;
            }
            let day = DeliveredDay {
                data_date: data_date as i32,
                plan: day_plan,
                carried_from: (data_date > 0 && plan.missing(data_date as i32 - 1)).then(|| data_date - 1),
                delivery_anomalies: self.options.variants.delivery && !day_plan.quiet,
            };
            let mut rng = Rng::derive(self.options.seed, 0xd417, data_date as u64);
            let subscriptions = self.subscription_report(&day, &rows.subscriptions, &mut rng)?;
            let cancellations =
                self.cancellation_report(&day, &rows.cancellations, &previous_cancellations, &mut rng)?;
            let reactivations = self.subscriber_events(
                &day,
                &rows.reactivations,
                &previous_reactivations,
                cancellations.own(),
                subscriptions.own(),
                &mut rng,
            )?;
            self.legacy_files(&day, subscriptions.own(), &mut rng)?;
            previous_cancellations = cancellations.rows;
            previous_reactivations = reactivations;
        }
        Ok(())
    }

    /// The rows of `day` from `rows_by_day`, preceded by those of the missing day
    /// before it (which arrive, and are counted as delivered, a day late).
    fn with_carried_rows<T: Copy>(&mut self, day: &DeliveredDay, rows_by_day: &[Vec<T>]) -> Vec<T> {
        let mut rows = Vec::new();
        if let Some(missing) = day.carried_from {
            rows.extend_from_slice(&rows_by_day[missing]);
            self.anomaly("rows_delivered_a_day_late", rows_by_day[missing].len() as u64);
        }
        rows.extend_from_slice(&rows_by_day[day.data_date as usize]);
        rows
    }

    /// Writes the day's subscription report: its own rows then, with delivery
    /// anomalies, rows repeated from earlier reports (and, on a full-export day, the
    /// whole last week's). Returns the subscriptions it lists.
    fn subscription_report(
        &mut self,
        day: &DeliveredDay,
        rows_by_day: &[Vec<u32>],
        rng: &mut Rng,
    ) -> Result<ReportRows<u32>, GenerateError> {
        let mut subs = self.with_carried_rows(day, rows_by_day);
        let own = subs.len();
        if day.delivery_anomalies {
            subs.extend(self.overlapping_subscriptions(day, own, rng));
            self.anomaly("overlapping_subscription_rows", (subs.len() - own) as u64);
        }
        let rows: Vec<ReportRow> =
            subs.iter().map(|&sub| ReportRow { sub, as_of: day.data_date, cancel: None }).collect();
        let full = day.plan.full_export && day.delivery_anomalies;
        if full {
            self.anomaly("full_exports", 1);
        }
        self.write_report(FileKind::Subscriptions, day.data_date, &rows, full, day.plan.resend)?;
        Ok(ReportRows { rows: subs, own })
    }

    /// Subscriptions already listed by an earlier delivered subscription report that
    /// this one lists again: now and then a few created in the last 30 days and, on a
    /// full-export day, all those created in the last 7. `own` is how many rows the
    /// report has of its own.
    fn overlapping_subscriptions(&self, day: &DeliveredDay, own: usize, rng: &mut Rng) -> Vec<u32> {
        let population = self.population;
        let data_date = day.data_date;
        let carried_day = day.carried_from.map_or(NO_REPORT, |d| d as i32);
        let reported_earlier = |s: u32| {
            let report_day = population.subs[s as usize].report_day;
            report_day != NO_REPORT && report_day < data_date && report_day != carried_day
        };
        let mut subs = Vec::new();
        let window = population.created_between(data_date - 30, data_date);
        if !window.is_empty() && rng.chance(400) {
            let count = 1 + rng.below((own as u64 / 40).max(1));
            for _ in 0..count {
                let pick = (window.start as u64 + rng.below(window.len() as u64)) as u32;
                if reported_earlier(pick) {
                    subs.push(pick);
                }
            }
        }
        if day.plan.full_export {
            subs.extend(
                population.created_between(data_date - 7, data_date).map(|s| s as u32).filter(|&s| reported_earlier(s)),
            );
        }
        subs
    }

    /// Writes the day's cancellation report: its own rows then, now and then with
    /// delivery anomalies, one or two rows repeated from the previous delivered day's
    /// report (`previous`). Returns the cancellations it lists.
    fn cancellation_report(
        &mut self,
        day: &DeliveredDay,
        rows_by_day: &[Vec<EventRef>],
        previous: &[EventRef],
        rng: &mut Rng,
    ) -> Result<ReportRows<EventRef>, GenerateError> {
        let population = self.population;
        let mut cancels = self.with_carried_rows(day, rows_by_day);
        let own = cancels.len();
        if day.delivery_anomalies && !previous.is_empty() && rng.chance(200) {
            for _ in 0..1 + rng.below(2) {
                cancels.push(previous[rng.below(previous.len() as u64) as usize]);
            }
            self.anomaly("duplicate_cancellation_rows", (cancels.len() - own) as u64);
        }
        let rows: Vec<ReportRow> = cancels
            .iter()
            .map(|cancel| ReportRow {
                sub: cancel.sub,
                as_of: population.events[cancel.event as usize].day,
                cancel: Some(cancel.event),
            })
            .collect();
        self.write_report(FileKind::Cancellations, day.data_date, &rows, false, day.plan.resend)?;
        Ok(ReportRows { rows: cancels, own })
    }

    /// Writes the day's subscriber-events file: a code-9 row per reactivation, now and
    /// then with delivery anomalies a repeat of one of the day's reactivations and one
    /// of the previous delivered day's (`previous`), then the noise rows (around the
    /// day's own `cancellations` and `created` subscriptions), shuffled. Returns the
    /// day's reactivations.
    fn subscriber_events(
        &mut self,
        day: &DeliveredDay,
        rows_by_day: &[Vec<EventRef>],
        previous: &[EventRef],
        cancellations: &[EventRef],
        created: &[u32],
        rng: &mut Rng,
    ) -> Result<Vec<EventRef>, GenerateError> {
        let reactivations = self.with_carried_rows(day, rows_by_day);
        let mut events: Vec<EventRow> =
            reactivations.iter().map(|&reactivation| self.event_row(reactivation, 9)).collect();
        if day.delivery_anomalies {
            let own = events.len();
            for repeatable in [&reactivations[..], previous] {
                if !repeatable.is_empty() && rng.chance(150) {
                    let reactivation = repeatable[rng.below(repeatable.len() as u64) as usize];
                    events.push(self.event_row(reactivation, 9));
                }
            }
            self.anomaly("duplicate_reactivation_rows", (events.len() - own) as u64);
        }
        if self.options.variants.events && !day.plan.quiet {
            self.noise(day.data_date, rng, &mut events, cancellations, created);
        }
        rng.shuffle(&mut events);
        self.write_events(day.data_date, &events, day.plan.resend)?;
        Ok(reactivations)
    }

    /// Writes the legacy files the day's plan asks for (orders, inventory, CRM
    /// subscriptions); a quiet day has none. `created` are the subscription report's
    /// own rows.
    fn legacy_files(&mut self, day: &DeliveredDay, created: &[u32], rng: &mut Rng) -> Result<(), GenerateError> {
        if day.plan.quiet {
            return Ok(());
        }
        if day.plan.orders {
            self.orders(day.data_date, created, rng)?;
        }
        if day.plan.inventory {
            self.inventory(day.data_date)?;
        }
        if day.plan.crm_subscription {
            self.crm_subscription(day.data_date, created)?;
        }
        Ok(())
    }

    /// The subscriber-event row, with `code`, of a subscription's lifecycle event.
    fn event_row(&self, event: EventRef, code: u16) -> EventRow {
        let population = self.population;
        let life_event = &population.events[event.event as usize];
        EventRow {
            public: PublicRef::Subscription(event.sub),
            user: population.subs[event.sub as usize].user,
            code,
            day: life_event.day,
            secs: life_event.secs,
        }
    }

    /// Codes other than 9 (including 5 next to real cancellations and an unknown
    /// code), and code-9 rows for public ids no report maps.
    fn noise(
        &mut self,
        data_date: i32,
        rng: &mut Rng,
        events: &mut Vec<EventRow>,
        cancels: &[EventRef],
        created: &[u32],
    ) {
        let population = self.population;
        let timed = |rng: &mut Rng| {
            if rng.chance(500) { rng.below(86_400) as u32 } else { NO_TIME }
        };
        let before = events.len();
        let mut code5 = 0;
        for &cancel in cancels {
            if rng.chance(500) {
                events.push(self.event_row(cancel, 5));
                code5 += 1;
            }
        }
        for &sub in created {
            let s = &population.subs[sub as usize];
            if s.created_day == data_date && rng.chance(300) {
                events.push(EventRow {
                    public: PublicRef::Subscription(sub),
                    user: s.user,
                    code: 1,
                    day: data_date,
                    secs: s.created_secs,
                });
            }
        }
        let existing = population.created_between(i32::MIN / 2, data_date + 1);
        if !existing.is_empty() {
            let base = u64::from(self.options.subs_per_day) * 4 / 10;
            let count = rng.range((base * 7 / 10) as i64, (base * 13 / 10) as i64).max(1);
            let mut unknown = 0;
            for _ in 0..count {
                let sub = (existing.start as u64 + rng.below(existing.len() as u64)) as u32;
                let code = if rng.chance(10) {
                    unknown += 1;
                    UNKNOWN_CODE
                } else {
                    NOISE_CODES[rng.below(NOISE_CODES.len() as u64) as usize]
                };
                let secs = timed(rng);
                events.push(EventRow {
                    public: PublicRef::Subscription(sub),
                    user: population.subs[sub as usize].user,
                    code,
                    day: data_date,
                    secs,
                });
            }
            if rng.chance(250) {
                let user = population.subs[(existing.start as u64 + rng.below(existing.len() as u64)) as usize].user;
                let secs = timed(rng);
                events.push(EventRow {
                    public: PublicRef::Orphan(ORPHAN_ID_BASE + self.orphans),
                    user,
                    code: 9,
                    day: data_date,
                    secs,
                });
                self.orphans += 1;
                self.anomaly("orphan_reactivation_rows", 1);
            }
            self.anomaly("unknown_code_rows", unknown);
        }
        self.anomaly("code_5_rows", code5);
        self.anomaly("noise_event_rows", (events.len() - before) as u64);
    }

    fn stamp(&mut self, data_date: i32, full: bool) -> Stamp {
        let style = if full && self.options.variants.file_names { StampStyle::YmdFull } else { self.styler.stamp() };
        let secs = self.styler.rng().range(5 * 3600, 9 * 3600 - 1) as u32;
        Stamp { day: data_date + 1, secs, style }
    }

    fn file_name(&self, kind: FileKind, name: NameStyle, stamp: Stamp) -> String {
        let mut text = String::with_capacity(20);
        match stamp.style {
            StampStyle::Digits14 => self.calendar.push_digits14(&mut text, stamp.day, stamp.secs),
            StampStyle::Ymd => self.calendar.push_yyyymmdd(&mut text, stamp.day),
            StampStyle::YmdDelta => {
                self.calendar.push_yyyymmdd(&mut text, stamp.day);
                text.push_str("_delta");
            }
            StampStyle::YmdFull => {
                self.calendar.push_yyyymmdd(&mut text, stamp.day);
                text.push_str("_full");
            }
        }
        match (kind, name) {
            (FileKind::Subscriptions, NameStyle::Platform) => format!("SubscriptionCSV_{text}"),
            (FileKind::Subscriptions, NameStyle::Client) => {
                format!("{CLIENT}_subscription_{text}.csv")
            }
            (FileKind::Cancellations, NameStyle::Platform) => {
                format!("SubscriptionsCancelledCSV_{text}")
            }
            (FileKind::Cancellations, NameStyle::Client) => {
                format!("{CLIENT}_cancelled_subscriptions_{text}.csv")
            }
            (FileKind::Events, NameStyle::Platform) => format!("crm_subscriber_events_{text}.csv"),
            (FileKind::Events, NameStyle::Client) => {
                format!("{CLIENT}_crm_subscriber_events_{text}.csv")
            }
            (FileKind::Orders, _) => format!("{CLIENT}_orders_{text}.csv"),
            (FileKind::Inventory, _) => format!("{CLIENT}_Inventory_Report_{text}.csv"),
            (FileKind::CrmSubscription, _) => format!("{CLIENT}_crm_subscription_{text}.csv"),
        }
    }

    /// Encodes and writes one file under `outgoing/<stamp year>/`; returns its bytes.
    fn emit(
        &mut self,
        kind: FileKind,
        name: NameStyle,
        stamp: Stamp,
        text: &TextStyle,
        content: &str,
    ) -> Result<Vec<u8>, GenerateError> {
        let file_name = self.file_name(kind, name, stamp);
        let (year, _, _) = self.calendar.ymd(stamp.day);
        let folder = self.dir.join("outgoing").join(year.to_string());
        let path = folder.join(&file_name);
        if self.made_dirs.insert(year) {
            std::fs::create_dir_all(&folder)
                .map_err(|source| GenerateError::Directory { path: folder.clone(), source })?;
        }
        let bytes = if content.is_empty() {
            Vec::new()
        } else {
            match text.encoding {
                Encoding::Utf8 => content.as_bytes().to_vec(),
                Encoding::Utf8Bom => {
                    let mut bytes = Vec::with_capacity(content.len() + 3);
                    bytes.extend_from_slice(&[0xef, 0xbb, 0xbf]);
                    bytes.extend_from_slice(content.as_bytes());
                    bytes
                }
                Encoding::Windows1252 => {
                    let (encoded, _, lossy) = encoding_rs::WINDOWS_1252.encode(content);
                    if lossy {
                        return Err(GenerateError::Encoding { path });
                    }
                    encoded.into_owned()
                }
            }
        };
        std::fs::write(&path, &bytes).map_err(|source| GenerateError::Write { path: path.clone(), source })?;
        self.stats.files += 1;
        self.stats.bytes += bytes.len() as u64;
        self.note(&format!("kind/{}", kind.label()));
        let pattern = match (kind, name) {
            (FileKind::Subscriptions, NameStyle::Platform) => "SubscriptionCSV_<stamp>",
            (FileKind::Subscriptions, NameStyle::Client) => "<client>_subscription_<stamp>.csv",
            (FileKind::Cancellations, NameStyle::Platform) => "SubscriptionsCancelledCSV_<stamp>",
            (FileKind::Cancellations, NameStyle::Client) => "<client>_cancelled_subscriptions_<stamp>.csv",
            (FileKind::Events, NameStyle::Platform) => "crm_subscriber_events_<stamp>.csv",
            (FileKind::Events, NameStyle::Client) => "<client>_crm_subscriber_events_<stamp>.csv",
            (FileKind::Orders, _) => "<client>_orders_<stamp>.csv",
            (FileKind::Inventory, _) => "<client>_Inventory_Report_<stamp>.csv",
            (FileKind::CrmSubscription, _) => "<client>_crm_subscription_<stamp>.csv",
        };
        self.note(&format!("name/{pattern}"));
        self.note(&format!("stamp/{}", stamp.style.label()));
        if !bytes.is_empty() {
            self.note(&format!("encoding/{}", text.encoding.label()));
            self.note(if text.crlf { "line_end/crlf" } else { "line_end/lf" });
            if text.trailing_blank {
                self.note("text/trailing_blank_line");
            }
        }
        Ok(bytes)
    }

    /// Writes the same bytes again under a later stamp of the same day.
    fn resend(&mut self, kind: FileKind, name: NameStyle, data_date: i32, bytes: &[u8]) -> Result<(), GenerateError> {
        let secs = self.styler.rng().range(11 * 3600, 17 * 3600) as u32;
        let stamp = Stamp { day: data_date + 1, secs, style: StampStyle::Digits14 };
        let file_name = self.file_name(kind, name, stamp);
        let (year, _, _) = self.calendar.ymd(stamp.day);
        let folder = self.dir.join("outgoing").join(year.to_string());
        if self.made_dirs.insert(year) {
            std::fs::create_dir_all(&folder)
                .map_err(|source| GenerateError::Directory { path: folder.clone(), source })?;
        }
        let path = folder.join(file_name);
        std::fs::write(&path, bytes).map_err(|source| GenerateError::Write { path, source })?;
        self.stats.files += 1;
        self.stats.bytes += bytes.len() as u64;
        self.anomaly("resent_files", 1);
        Ok(())
    }

    fn finish_text(content: &mut String, text: &TextStyle) {
        if text.trailing_blank && !content.is_empty() {
            content.push_str(text.eol());
        }
    }

    /// A subscription or cancellation report.
    fn write_report(
        &mut self,
        kind: FileKind,
        data_date: i32,
        rows: &[ReportRow],
        full: bool,
        resend: Option<FileKind>,
    ) -> Result<(), GenerateError> {
        let name = self.styler.name(kind);
        let stamp = self.stamp(data_date, full);
        let text = self.styler.text(kind);
        let values = self.styler.values();
        let header = self.styler.header(kind, text.encoding);
        let population = self.population;
        let facts: Vec<AsOf> = rows
            .iter()
            .map(|row| {
                let mut facts = as_of(population, row.sub as usize, row.as_of);
                if let Some(event) = row.cancel {
                    // A cancellation row shows that cancellation, as the platform's
                    // record of it: inactive.
                    let sub = &population.subs[row.sub as usize];
                    let nth = population.events_of(row.sub as usize)[..(event - sub.first_event) as usize]
                        .iter()
                        .filter(|e| e.kind == EventKind::Cancel)
                        .count();
                    facts.active = false;
                    facts.latest_cancel = Some((nth, population.events[event as usize]));
                }
                facts
            })
            .collect();
        // One number per cancel date only if every cancel date in the file is timed.
        let shown: Vec<&LifeEvent> = facts.iter().filter_map(|f| f.latest_cancel.as_ref().map(|c| &c.1)).collect();
        let compact = values.compact_events.filter(|_| {
            header.columns.contains(&Column::CancelDate) && !shown.is_empty() && shown.iter().all(|e| e.timed())
        });
        let eol = text.eol();
        let mut content = String::with_capacity(64 + rows.len() * 320);
        for (i, name) in header.names.iter().enumerate() {
            if i > 0 {
                content.push(',');
            }
            content.push_str(name);
        }
        content.push_str(eol);
        for (row, facts) in rows.iter().zip(&facts) {
            let delivered = self.push_report_row(&mut content, kind, data_date, &header, &values, compact, row, facts);
            content.push_str(eol);
            self.stats.revealed[row.sub as usize] = true;
            self.stats.rows.push(delivered);
        }
        Self::finish_text(&mut content, &text);
        let bytes = self.emit(kind, name, stamp, &text, &content)?;
        self.note_report_style(&header, &values, compact, rows.is_empty());
        if resend == Some(kind) {
            self.resend(kind, name, data_date, &bytes)?;
        }
        Ok(())
    }

    fn note_report_style(&mut self, header: &Header, values: &ValueStyle, compact: Option<Compact>, empty: bool) {
        if empty {
            self.note("empty/header_only_report");
        }
        for (on, key) in [
            (header.shuffled, "header/shuffled_columns"),
            (header.optional_absent, "header/optional_columns_absent"),
            (header.user_id_alias, "header/ordergroove_user_id"),
            (header.case_varied, "header/case_or_spacing_variant"),
            (header.extra_column, "header/unknown_extra_column"),
        ] {
            if on {
                self.note(key);
            }
        }
        if empty {
            return;
        }
        self.note(match values.date {
            DateStyle::Mdy => "date/MM/DD/YYYY",
            DateStyle::Iso => "date/YYYY-MM-DD",
        });
        self.note(match values.time {
            crate::calendar::TimeStyle::Hm => "time/HH:MM",
            crate::calendar::TimeStyle::Hms => "time/HH:MM:SS",
        });
        if let Some(c) = values.create_date.filter(|_| header.columns.contains(&Column::CreateDate)) {
            self.note(&format!("create_date/{}", c.label()));
        }
        if values.create_time_full && header.columns.contains(&Column::CreateTime) {
            self.note("create_time/full_date_time");
        }
        if let Some(c) = compact {
            self.note(&format!("cancel_date/{}", c.label()));
        }
        if header.columns.iter().any(|c| matches!(c, Column::Price | Column::DiscountPrice)) {
            self.note(match values.money {
                MoneyStyle::Plain => "money/12.50",
                MoneyStyle::Dollar => "money/$12.50",
                MoneyStyle::Thousands => "money/1,234.50",
                MoneyStyle::DollarThousands => "money/$1,234.50",
            });
        }
        if header.columns.iter().any(|c| matches!(c, Column::TwentyFourHourCancel | Column::GuestCheckout)) {
            self.note(&format!("flag/{}", values.flag.label()));
        }
    }

    /// Writes one report row of a file with data date `data_date`: the lifecycle as
    /// of `row.as_of` (`facts`), the attributes as of the data date. Returns what it
    /// says of the attributes.
    #[allow(clippy::too_many_arguments)]
    fn push_report_row(
        &self,
        buf: &mut String,
        kind: FileKind,
        data_date: i32,
        header: &Header,
        values: &ValueStyle,
        compact: Option<Compact>,
        row: &ReportRow,
        facts: &AsOf,
    ) -> DeliveredRow {
        let calendar = self.calendar;
        let index = row.sub as usize;
        let sub = &self.population.subs[index];
        let attrs = self.population.attrs_on(index, data_date);
        let product = &PRODUCTS[usize::from(attrs.product)];
        // Orders placed follow the creation product's cadence (never 0).
        let created_frequency = PRODUCTS[usize::from(sub.product)].frequency_days;
        let has = |column: Column| header.columns.contains(&column);
        let flag = values.flag.spell(facts.cancelled_on_creation_day);
        let delivered = DeliveredRow {
            sub: row.sub,
            day: data_date,
            product: attrs.product,
            price_cents: (has(Column::Price) && !sub.no_price).then_some(product.price_cents),
            quantity: has(Column::Quantity).then_some(attrs.quantity),
            frequency_days: has(Column::FrequencyDays).then_some(attrs.frequency_days),
            cancel: row.cancel,
            reason_nth: facts
                .latest_cancel
                .filter(|_| row.cancel.is_some() && has(Column::CancelReason))
                .map(|c| c.0 as u8),
            within_24h: (has(Column::TwentyFourHourCancel) && !flag.is_empty())
                .then_some(facts.cancelled_on_creation_day),
        };
        let id = SUBSCRIPTION_ID_BASE + u64::from(row.sub);
        let user_id = USER_ID_BASE + u64::from(sub.user);
        let h = mix64(id);
        let (first, last, email) = person(sub.user, self.tricky);
        // Orders so far: one at creation, then one per frequency period while it ran.
        let until = facts.latest_cancel.filter(|_| !facts.active).map_or(row.as_of, |c| c.1.day).max(sub.created_day);
        let periods = ((until - sub.created_day) as u32) / created_frequency;
        let status = if facts.active { "Active" } else { "Inactive" };
        // the cancellation report may date the creation earlier (a disagreement METRICS.md
        // settles for the subscription report)
        let created_day = match kind {
            FileKind::Cancellations => sub.created_day - self.restated_create_days(row.sub),
            _ => sub.created_day,
        };
        for (i, &column) in header.columns.iter().enumerate() {
            if i > 0 {
                buf.push(',');
            }
            match column {
                Column::Merchant => buf.push_str(MERCHANT),
                Column::UserId => push_u64(buf, user_id),
                Column::MerchantUserId => {
                    buf.push_str("M-");
                    push_u64(buf, user_id);
                }
                Column::CreateDate => match values.create_date {
                    Some(Compact::Digits14) => calendar.push_digits14(buf, created_day, sub.created_secs),
                    Some(Compact::Epoch) => calendar.push_epoch(buf, created_day, sub.created_secs),
                    None => calendar.push_date(buf, created_day, values.date),
                },
                Column::CreateTime => {
                    if values.create_time_full {
                        calendar.push_date_time(buf, created_day, sub.created_secs, values.date, values.time);
                    } else {
                        push_time(buf, sub.created_secs, values.time);
                    }
                }
                Column::StartDate => calendar.push_date(buf, sub.created_day, values.date),
                Column::CustomerStatus | Column::Status => buf.push_str(status),
                Column::SubscriptionId => push_u64(buf, id),
                Column::OfferId => {
                    buf.push_str("OFR-");
                    push_u64(buf, 100 + u64::from(attrs.product) * 3 + h % 3);
                }
                Column::MerchantOrderId => {
                    buf.push_str("WEB-");
                    push_u64(buf, 500_000 + u64::from(row.sub));
                }
                Column::GuestCheckout => buf.push_str(values.flag.spell(h % 100 == 7)),
                Column::EmailAddress => push_cell(buf, &email),
                Column::FirstName => push_cell(buf, first),
                Column::LastName => push_cell(buf, last),
                Column::Product => push_cell(buf, product.name),
                Column::ProductId => buf.push_str(product.product_id),
                Column::Sku => buf.push_str(product.sku),
                Column::FrequencyDays => push_u64(buf, u64::from(attrs.frequency_days)),
                Column::ReminderDays => push_u64(buf, [3, 5, 7][(h >> 8) as usize % 3]),
                Column::Quantity => push_u64(buf, u64::from(attrs.quantity)),
                Column::Price if !sub.no_price => push_money(buf, product.price_cents, values.money),
                Column::DiscountPrice if !sub.no_price => push_money(buf, product.price_cents * 9 / 10, values.money),
                Column::Price | Column::DiscountPrice => {}
                Column::TwentyFourHourCancel => buf.push_str(flag),
                Column::CancelDate => {
                    if let Some((_, cancel)) = &facts.latest_cancel {
                        match (compact, cancel.timed()) {
                            (Some(Compact::Digits14), _) => calendar.push_digits14(buf, cancel.day, cancel.secs),
                            (Some(Compact::Epoch), _) => calendar.push_epoch(buf, cancel.day, cancel.secs),
                            (None, true) => {
                                calendar.push_date_time(buf, cancel.day, cancel.secs, values.date, values.time)
                            }
                            (None, false) => calendar.push_date(buf, cancel.day, values.date),
                        }
                    }
                }
                Column::CancelReason => {
                    if let Some((nth, _)) = facts.latest_cancel {
                        push_cell(buf, cancel_reason(row.sub, nth, self.tricky));
                    }
                }
                Column::OrdersPlaced => push_u64(buf, 1 + u64::from(periods)),
                Column::LastOrderDate => {
                    calendar.push_date(buf, sub.created_day + (periods * created_frequency) as i32, values.date);
                }
                Column::ExtraDataReporting => {
                    if kind == FileKind::Subscriptions {
                        push_cell(buf, extra_data(row.sub, self.tricky));
                    }
                }
                Column::PublicSubscriptionId => push_public_id(buf, id),
                Column::LoyaltyTier => buf.push_str(loyalty_tier(sub.user)),
            }
        }
        delivered
    }

    /// The headerless subscriber-events file (zero bytes when there is nothing).
    fn write_events(
        &mut self,
        data_date: i32,
        rows: &[EventRow],
        resend: Option<FileKind>,
    ) -> Result<(), GenerateError> {
        let kind = FileKind::Events;
        let name = self.styler.name(kind);
        let stamp = self.stamp(data_date, false);
        let text = self.styler.text(kind);
        let values = self.styler.values();
        let layout = self.styler.events_layout();
        let reactivations_timed = rows.iter().filter(|r| r.code == 9).all(|r| r.secs != NO_TIME);
        let compact = values.compact_events.filter(|_| reactivations_timed && !rows.is_empty());
        let eol = text.eol();
        let calendar = self.calendar;
        let mut content = String::with_capacity(rows.len() * 96);
        for row in rows {
            let (id, user) = match row.public {
                PublicRef::Subscription(sub) => (SUBSCRIPTION_ID_BASE + u64::from(sub), row.user),
                PublicRef::Orphan(id) => (id, row.user),
            };
            push_public_id(&mut content, id);
            content.push_str(",M-");
            let user_id = USER_ID_BASE + u64::from(user);
            push_u64(&mut content, user_id);
            content.push(',');
            content.push_str(&person(user, self.tricky).2);
            content.push(',');
            if layout == EventsLayout::Six {
                content.push_str(["WEB", "API", "CS", "IVR"][(mix64(id ^ u64::from(row.code)) % 4) as usize]);
                content.push(',');
            }
            push_u64(&mut content, u64::from(row.code));
            content.push(',');
            let secs = if row.secs == NO_TIME { None } else { Some(row.secs) };
            match (compact, secs) {
                (Some(Compact::Digits14), _) => calendar.push_digits14(&mut content, row.day, secs.unwrap_or(0)),
                (Some(Compact::Epoch), _) => calendar.push_epoch(&mut content, row.day, secs.unwrap_or(0)),
                (None, Some(secs)) => calendar.push_date_time(&mut content, row.day, secs, values.date, values.time),
                (None, None) => calendar.push_date(&mut content, row.day, values.date),
            }
            content.push_str(eol);
        }
        Self::finish_text(&mut content, &text);
        let bytes = self.emit(kind, name, stamp, &text, &content)?;
        if rows.is_empty() {
            self.note("empty/zero_byte_events");
        } else {
            self.note(match layout {
                EventsLayout::Five => "events/5_fields",
                EventsLayout::Six => "events/6_fields",
            });
            if let Some(c) = compact {
                self.note(&format!("event_date/{}", c.label()));
            }
        }
        if resend == Some(kind) {
            self.resend(kind, name, data_date, &bytes)?;
        }
        Ok(())
    }

    /// Legacy files share the text styles, with simple fixed headers.
    fn write_legacy(
        &mut self,
        kind: FileKind,
        data_date: i32,
        header: &str,
        lines: &[String],
    ) -> Result<(), GenerateError> {
        let stamp = self.stamp(data_date, false);
        let text = self.styler.text(kind);
        let eol = text.eol();
        let mut content = String::with_capacity(header.len() + lines.len() * 100);
        content.push_str(header);
        content.push_str(eol);
        for line in lines {
            content.push_str(line);
            content.push_str(eol);
        }
        Self::finish_text(&mut content, &text);
        self.emit(kind, NameStyle::Client, stamp, &text, &content)?;
        Ok(())
    }

    fn orders(&mut self, data_date: i32, created: &[u32], rng: &mut Rng) -> Result<(), GenerateError> {
        let population = self.population;
        let values = self.styler.values();
        let mut lines = Vec::with_capacity(created.len());
        for &sub in created {
            let s = &population.subs[sub as usize];
            if s.created_day != data_date || !rng.chance(800) {
                continue;
            }
            let product = &PRODUCTS[usize::from(s.product)];
            let mut line = String::with_capacity(100);
            push_u64(&mut line, 80_000_000 + u64::from(sub));
            line.push_str(",WEB-");
            push_u64(&mut line, 500_000 + u64::from(sub));
            line.push(',');
            push_u64(&mut line, SUBSCRIPTION_ID_BASE + u64::from(sub));
            line.push(',');
            push_u64(&mut line, USER_ID_BASE + u64::from(s.user));
            line.push(',');
            self.calendar.push_date_time(&mut line, data_date, s.created_secs, values.date, values.time);
            line.push(',');
            line.push_str(product.product_id);
            line.push(',');
            line.push_str(product.sku);
            line.push(',');
            push_u64(&mut line, u64::from(s.quantity));
            line.push(',');
            push_money(&mut line, product.price_cents, values.money);
            line.push(',');
            push_money(&mut line, product.price_cents * u64::from(s.quantity), values.money);
            line.push_str(",Success");
            lines.push(line);
        }
        let header = "Order ID,Merchant Order ID,Subscription ID,User ID,Order Date,Product ID,SKU,Quantity,Price,Order Total,Order Status";
        self.write_legacy(FileKind::Orders, data_date, header, &lines)
    }

    fn inventory(&mut self, data_date: i32) -> Result<(), GenerateError> {
        let values = self.styler.values();
        let mut lines = Vec::new();
        for (i, product) in PRODUCTS.iter().enumerate() {
            let mut line = String::with_capacity(80);
            line.push_str(product.product_id);
            line.push(',');
            line.push_str(product.sku);
            line.push(',');
            push_cell(&mut line, product.name);
            line.push(',');
            push_money(&mut line, product.price_cents, values.money);
            line.push(',');
            let stock = mix64(u64::from(data_date as u32) << 8 | i as u64) % 500;
            line.push_str(values.flag.spell(stock > 20));
            line.push(',');
            push_u64(&mut line, stock);
            line.push(',');
            self.calendar.push_date(&mut line, data_date, values.date);
            lines.push(line);
        }
        self.write_legacy(
            FileKind::Inventory,
            data_date,
            "Product ID,SKU,Product Name,Price,In Stock,Quantity Available,Last Updated",
            &lines,
        )
    }

    fn crm_subscription(&mut self, data_date: i32, created: &[u32]) -> Result<(), GenerateError> {
        let population = self.population;
        let values = self.styler.values();
        let mut lines = Vec::new();
        for &sub in created {
            let s = &population.subs[sub as usize];
            if s.created_day != data_date {
                continue;
            }
            let product = &PRODUCTS[usize::from(s.product)];
            let state = as_of(population, sub as usize, data_date);
            let mut line = String::with_capacity(100);
            push_u64(&mut line, SUBSCRIPTION_ID_BASE + u64::from(sub));
            line.push(',');
            push_u64(&mut line, USER_ID_BASE + u64::from(s.user));
            line.push_str(",M-");
            push_u64(&mut line, USER_ID_BASE + u64::from(s.user));
            line.push(',');
            line.push_str(product.product_id);
            line.push(',');
            line.push_str(product.sku);
            line.push(',');
            push_u64(&mut line, u64::from(product.frequency_days));
            line.push(',');
            push_u64(&mut line, u64::from(s.quantity));
            line.push(',');
            if state.active {
                self.calendar.push_date(&mut line, data_date + product.frequency_days as i32, values.date);
            }
            line.push_str(if state.active { ",Active," } else { ",Inactive," });
            self.calendar.push_date(&mut line, data_date, values.date);
            lines.push(line);
        }
        let header = "Subscription ID,User ID,Merchant User ID,Product ID,SKU,Frequency (days),Quantity,Next Order Date,Status,Updated";
        self.write_legacy(FileKind::CrmSubscription, data_date, header, &lines)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_and_money() {
        let mut buf = String::new();
        push_cell(&mut buf, "plain");
        buf.push('|');
        push_cell(&mut buf, "a, b");
        buf.push('|');
        push_cell(&mut buf, "say \"hi\"\nbye");
        assert_eq!(buf, "plain|\"a, b\"|\"say \"\"hi\"\"\nbye\"");
        let mut money = String::new();
        for style in [MoneyStyle::Plain, MoneyStyle::Dollar, MoneyStyle::Thousands, MoneyStyle::DollarThousands] {
            push_money(&mut money, 123_450, style);
            money.push('|');
            push_money(&mut money, 1250, style);
            money.push('|');
        }
        assert_eq!(money, "1234.50|12.50|$1234.50|$12.50|\"1,234.50\"|12.50|\"$1,234.50\"|$12.50|");
        let mut n = String::new();
        push_money(&mut n, 100_200_005, MoneyStyle::Thousands);
        assert_eq!(n, "\"1,002,000.05\"");
    }
}
