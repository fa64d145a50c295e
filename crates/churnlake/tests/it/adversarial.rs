//! Random adversarial drop histories against the generator's brute-force truth
//! (`churnlake_generate::adversarial`, which shares no code with the ingest or query
//! crates): every day and column of the series and every subscription's row exact.
//!
//! Each case is a small history (2–6 data dates, a few subscriptions) built from
//! motifs that each hit a corner of METRICS.md: events before creation (both kinds,
//! several on one day), a cancellation and a reactivation on one date (untimed,
//! half-timed, timed either way, equal times), duplicate rows and re-sent files,
//! cancellation-only subscriptions, Create Dates that differ between rows and
//! reports or are missing, rows without public id, unknown public ids, code 5 and
//! noise codes, events after the last data date, users with three or more
//! subscriptions and subscriptions without user id. The drops are written, ingested
//! by the real binary and queried; on a mismatch the panic message holds the diff
//! and every drop file, and proptest shrinks it to a minimal history first.

use std::cell::Cell;
use std::time::Instant;

use chrono::{NaiveDate, NaiveTime};
use churnlake_generate::adversarial::{
    EventRow, FileKind, History, Report, ReportRow, Resend, Row, SUBSCRIPTION_COLUMNS, Target, When,
};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::strategy::ValueTree;
use proptest::test_runner::{TestCaseError, TestRunner, contextualize_config};

use crate::support::{assert_flow_identity, path, project, run};

/// Subscription numbers of the main pool: report rows and events pick among them.
const POOL: u32 = 6;
/// Subscriptions that only the cancellation report ever carries.
const CANCEL_ONLY: [u32; 2] = [40, 41];
/// Users: few, so one user often has three or more subscriptions.
const USERS: u32 = 3;
/// Row and event drop-day indices are drawn below this and taken modulo the history's days.
const MAX_DAYS: u32 = 6;

/// A date relative to the history's data dates, resolved once the number of days is known
/// (so shrinking the days keeps the motifs meaningful).
#[derive(Clone, Copy, Debug)]
enum Rel {
    /// A data date: index modulo the number of days.
    In(u32),
    /// So many days before the first data date.
    Before(u32),
    /// So many days after the last data date.
    After(u32),
}

impl Rel {
    fn resolve(self, days: u32) -> i32 {
        match self {
            Rel::In(i) => (i % days) as i32,
            Rel::Before(n) => -(n as i32),
            Rel::After(n) => days as i32 - 1 + n as i32,
        }
    }
}

/// A relative date with an optional time of day.
#[derive(Clone, Copy, Debug)]
struct Date {
    rel: Rel,
    time: Option<NaiveTime>,
}

impl Date {
    fn resolve(self, days: u32) -> When {
        When { day: self.rel.resolve(days), time: self.time }
    }
}

/// Whose User ID a report row carries.
#[derive(Clone, Copy, Debug)]
enum Who {
    /// The subscription's owner (which may be nobody).
    Owner,
    /// None on this row.
    Omit,
    /// Another user (the newest non-empty value decides).
    Other(u32),
}

/// A cancellation or a reactivation dated `back` days before a late creation.
#[derive(Clone, Copy, Debug)]
struct EarlyEvent {
    reactivation: bool,
    back: u32,
    time: Option<NaiveTime>,
    day: u32,
}

/// A few rows that together hit one corner case.
#[derive(Clone, Debug)]
enum Motif {
    /// One report row of the pool, any fields.
    Row { report: Report, day: u32, sub: u32, who: Who, public: bool, create: Option<Date>, cancel: Option<Date> },
    /// A subscription that only the cancellation report knows.
    CancelOnly { day: u32, which: usize, who: Who, public: bool, create: Option<Date>, cancel: Date },
    /// A cancellation and a code-9 reactivation on one date.
    Flip {
        sub: u32,
        date: Rel,
        cancel_time: Option<NaiveTime>,
        reactivation_time: Option<NaiveTime>,
        /// The cancellation comes as a Cancel Date on a subscription-report row.
        in_subscription_report: bool,
        cancel_day: u32,
        event_day: u32,
    },
    /// A subscription-report row creating `sub` on a data date, and several events dated
    /// on or before that day (in the same or other drops).
    Early { sub: u32, day: u32, create: u32, create_time: Option<NaiveTime>, events: Vec<EarlyEvent> },
    /// Rows of one subscription whose Create Dates disagree, in one report or both.
    Conflict { sub: u32, rows: Vec<(Report, u32, Date)> },
    /// A subscriber-event row: code 9, 5 or noise, a pool, cancellation-only or unknown public id.
    Event { day: u32, target: Target, code: u32, date: Date },
    /// A cancellation or reactivation dated after the last data date.
    Late { sub: u32, day: u32, reactivation: bool, after: u32, time: Option<NaiveTime> },
}

fn time() -> impl Strategy<Value = NaiveTime> {
    let fixed = [(0, 0, 0), (8, 0, 0), (12, 0, 0), (12, 0, 1), (17, 30, 0), (23, 59, 59)];
    let hms = |(h, m, s): (u32, u32, u32)| NaiveTime::from_hms_opt(h, m, s).unwrap_or(NaiveTime::MIN);
    prop_oneof![
        4 => prop::sample::select(fixed.to_vec()).prop_map(hms),
        1 => (0u32..24, 0u32..60, 0u32..60).prop_map(hms),
    ]
}

fn opt_time() -> impl Strategy<Value = Option<NaiveTime>> {
    prop::option::weighted(0.5, time())
}

fn rel() -> impl Strategy<Value = Rel> {
    prop_oneof![
        7 => (0..MAX_DAYS).prop_map(Rel::In),
        2 => (1u32..=3).prop_map(Rel::Before),
        1 => (1u32..=2).prop_map(Rel::After),
    ]
}

fn date() -> impl Strategy<Value = Date> {
    (rel(), opt_time()).prop_map(|(rel, time)| Date { rel, time })
}

fn who() -> impl Strategy<Value = Who> {
    prop_oneof![16 => Just(Who::Owner), 3 => Just(Who::Omit), 1 => (1..=USERS).prop_map(Who::Other)]
}

/// A subscription's owner: user 1 owns about three in five, one in five has none.
fn owner() -> impl Strategy<Value = Option<u32>> {
    prop_oneof![3 => Just(Some(1)), 1 => (2..=USERS).prop_map(Some), 1 => Just(None)]
}

fn sub() -> impl Strategy<Value = u32> {
    1..=POOL
}

fn day() -> impl Strategy<Value = u32> {
    0..MAX_DAYS
}

fn public() -> impl Strategy<Value = bool> {
    prop::bool::weighted(0.85)
}

fn report() -> impl Strategy<Value = Report> {
    prop_oneof![3 => Just(Report::Subscriptions), 2 => Just(Report::Cancellations)]
}

fn code() -> impl Strategy<Value = u32> {
    prop_oneof![4 => Just(9u32), 2 => Just(5u32), 2 => prop::sample::select(vec![1u32, 2, 3, 12, 42])]
}

fn target() -> impl Strategy<Value = Target> {
    prop_oneof![
        6 => sub().prop_map(Target::Subscription),
        1 => prop::sample::select(CANCEL_ONLY.to_vec()).prop_map(Target::Subscription),
        2 => (1u32..=2).prop_map(Target::Unknown),
    ]
}

fn motif() -> impl Strategy<Value = Motif> {
    let row = (
        report(),
        day(),
        sub(),
        who(),
        public(),
        prop::option::weighted(0.75, date()),
        prop::option::weighted(0.3, date()),
    )
        .prop_map(|(report, day, sub, who, public, create, cancel)| Motif::Row {
            report,
            day,
            sub,
            who,
            public,
            create,
            cancel,
        });
    let cancel_only =
        (day(), 0..CANCEL_ONLY.len(), who(), public(), prop::option::weighted(0.7, date()), date()).prop_map(
            |(day, which, who, public, create, cancel)| Motif::CancelOnly { day, which, who, public, create, cancel },
        );
    let both_times = prop_oneof![
        3 => (opt_time(), opt_time()),
        1 => time().prop_map(|t| (Some(t), Some(t))),
    ];
    let flip =
        (sub(), rel(), both_times, prop::bool::weighted(0.3), day(), day()).prop_map(
            |(sub, date, (cancel_time, reactivation_time), in_subscription_report, cancel_day, event_day)| {
                Motif::Flip { sub, date, cancel_time, reactivation_time, in_subscription_report, cancel_day, event_day }
            },
        );
    let early_event = (any::<bool>(), prop_oneof![1 => Just(0u32), 3 => 1u32..=3], opt_time(), day())
        .prop_map(|(reactivation, back, time, day)| EarlyEvent { reactivation, back, time, day });
    let early = (sub(), day(), 0..MAX_DAYS, opt_time(), prop::collection::vec(early_event, 2..=4))
        .prop_map(|(sub, day, create, create_time, events)| Motif::Early { sub, day, create, create_time, events });
    let event = (day(), target(), code(), date()).prop_map(|(day, target, code, date)| Motif::Event {
        day,
        target,
        code,
        date,
    });
    let late = (sub(), day(), any::<bool>(), 1u32..=2, opt_time())
        .prop_map(|(sub, day, reactivation, after, time)| Motif::Late { sub, day, reactivation, after, time });
    let conflict = (sub(), prop::collection::vec((report(), day(), date()), 2..=3))
        .prop_map(|(sub, rows)| Motif::Conflict { sub, rows });
    prop_oneof![5 => row, 1 => cancel_only, 3 => flip, 2 => early, 1 => conflict, 3 => event, 1 => late]
}

fn file_kind() -> impl Strategy<Value = FileKind> {
    prop::sample::select(vec![FileKind::Subscriptions, FileKind::Cancellations, FileKind::Events])
}

/// Everything a history is built from; [`Plan::history`] resolves it.
#[derive(Clone, Debug)]
struct Plan {
    start: NaiveDate,
    days: u32,
    /// The owner of pool subscription `n` at `n - 1`, of the cancellation-only ones after them.
    owners: Vec<Option<u32>>,
    motifs: Vec<Motif>,
    /// Rows appended again (duplicate rows inside their file).
    duplicates: Vec<Index>,
    resend: Vec<(u32, FileKind)>,
}

fn plan() -> impl Strategy<Value = Plan> {
    let starts = [(2023, 5, 1), (2023, 12, 30), (2024, 2, 27)]
        .map(|(y, m, d)| NaiveDate::from_ymd_opt(y, m, d).unwrap_or(NaiveDate::MIN))
        .to_vec();
    (
        prop::sample::select(starts),
        2u32..=MAX_DAYS,
        prop::collection::vec(owner(), POOL as usize + CANCEL_ONLY.len()),
        prop::collection::vec(motif(), 1..=10),
        prop::collection::vec(any::<Index>(), 0..=3),
        prop::collection::vec((day(), file_kind()), 0..=2),
    )
        .prop_map(|(start, days, owners, motifs, duplicates, resend)| Plan {
            start,
            days,
            owners,
            motifs,
            duplicates,
            resend,
        })
}

impl Plan {
    fn owner(&self, sub: u32) -> Option<u32> {
        let index = match CANCEL_ONLY.iter().position(|&n| n == sub) {
            Some(i) => POOL as usize + i,
            None => sub as usize - 1,
        };
        self.owners.get(index).copied().flatten()
    }

    fn user(&self, sub: u32, who: Who) -> Option<u32> {
        match who {
            Who::Owner => self.owner(sub),
            Who::Omit => None,
            Who::Other(n) => Some(n),
        }
    }

    fn history(&self) -> History {
        let days = self.days;
        let at = |d: u32| d % days;
        let when = |date: Option<Date>| date.map(|d| d.resolve(days));
        let mut rows = Vec::new();
        let cancellation = |sub: u32, day: u32, cancel: When| {
            Row::Report(ReportRow {
                report: Report::Cancellations,
                day,
                subscription: sub,
                user: self.owner(sub),
                public_id: true,
                create: None,
                cancel: Some(cancel),
            })
        };
        let reactivation = |sub: u32, day: u32, date: When| {
            Row::Event(EventRow { day, target: Target::Subscription(sub), code: 9, date })
        };
        for motif in &self.motifs {
            match motif {
                &Motif::Row { report, day, sub, who, public, create, cancel } => rows.push(Row::Report(ReportRow {
                    report,
                    day: at(day),
                    subscription: sub,
                    user: self.user(sub, who),
                    public_id: public,
                    create: when(create),
                    cancel: when(cancel),
                })),
                &Motif::CancelOnly { day, which, who, public, create, cancel } => {
                    let sub = CANCEL_ONLY[which % CANCEL_ONLY.len()];
                    rows.push(Row::Report(ReportRow {
                        report: Report::Cancellations,
                        day: at(day),
                        subscription: sub,
                        user: self.user(sub, who),
                        public_id: public,
                        create: when(create),
                        cancel: Some(cancel.resolve(days)),
                    }))
                }
                &Motif::Flip {
                    sub,
                    date,
                    cancel_time,
                    reactivation_time,
                    in_subscription_report,
                    cancel_day,
                    event_day,
                } => {
                    let day = date.resolve(days);
                    let cancel = When { day, time: cancel_time };
                    let mut row = cancellation(sub, at(cancel_day), cancel);
                    if let (true, Row::Report(r)) = (in_subscription_report, &mut row) {
                        r.report = Report::Subscriptions;
                    }
                    rows.push(row);
                    rows.push(reactivation(sub, at(event_day), When { day, time: reactivation_time }));
                }
                Motif::Early { sub, day, create, create_time, events } => {
                    let created = at(*create) as i32;
                    rows.push(Row::Report(ReportRow {
                        report: Report::Subscriptions,
                        day: at(*day),
                        subscription: *sub,
                        user: self.owner(*sub),
                        public_id: true,
                        create: Some(When { day: created, time: *create_time }),
                        cancel: None,
                    }));
                    for event in events {
                        let date = When { day: created - event.back as i32, time: event.time };
                        rows.push(if event.reactivation {
                            reactivation(*sub, at(event.day), date)
                        } else {
                            cancellation(*sub, at(event.day), date)
                        });
                    }
                }
                Motif::Conflict { sub, rows: list } => {
                    for &(report, day, create) in list {
                        rows.push(Row::Report(ReportRow {
                            report,
                            day: at(day),
                            subscription: *sub,
                            user: self.owner(*sub),
                            public_id: true,
                            create: Some(create.resolve(days)),
                            cancel: None,
                        }));
                    }
                }
                &Motif::Event { day, target, code, date } => {
                    rows.push(Row::Event(EventRow { day: at(day), target, code, date: date.resolve(days) }))
                }
                &Motif::Late { sub, day, reactivation: is_reactivation, after, time } => {
                    let date = When { day: days as i32 - 1 + after as i32, time };
                    rows.push(if is_reactivation {
                        reactivation(sub, at(day), date)
                    } else {
                        cancellation(sub, at(day), date)
                    });
                }
            }
        }
        if !rows.is_empty() {
            let copies: Vec<Row> = self.duplicates.iter().map(|i| rows[i.index(rows.len())].clone()).collect();
            rows.extend(copies);
        }
        let resend = self.resend.iter().map(|&(day, kind)| Resend { day: at(day), kind }).collect();
        History { start: self.start, days, rows, resend }
    }
}

fn normalised(text: &str) -> String {
    text.replace("\r\n", "\n").lines().map(str::trim_end).collect::<Vec<_>>().join("\n").trim_end().to_owned()
}

/// Expected and got lines side by side, differing ones marked.
fn line_diff(expected: &[String], got: &[String]) -> String {
    let mut out = String::new();
    for i in 0..expected.len().max(got.len()) {
        let (e, g) = (expected.get(i).map_or("", String::as_str), got.get(i).map_or("", String::as_str));
        if e == g {
            out.push_str(&format!("    {e}\n"));
        } else {
            out.push_str(&format!("  - {e}\n  + {g}\n"));
        }
    }
    out
}

/// Every drop file's name and content.
fn listing(history: &History) -> String {
    let mut out = String::from("drop files:\n");
    for file in history.files() {
        let content = if file.content.is_empty() { "(zero bytes)\n".to_owned() } else { file.content.clone() };
        out.push_str(&format!("==> {} <==\n{content}", file.name));
    }
    out
}

/// Runs churnlake; its stdout when the exit code is one of `codes`, else a description.
fn churnlake(args: &[&str], codes: &[i32]) -> Result<String, String> {
    let out = run(args);
    let code = out.status.code().unwrap_or(-1);
    if codes.contains(&code) {
        String::from_utf8(out.stdout).map_err(|e| format!("churnlake {args:?}: stdout is not UTF-8: {e}"))
    } else {
        Err(format!(
            "churnlake {args:?} exited {code}\nstdout:\n{}\nstderr:\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// Writes, ingests and queries one history; every difference from the truth, or none.
fn differences(history: &History) -> Result<Vec<String>, String> {
    let dir = tempfile::tempdir().map_err(|e| format!("temp dir: {e}"))?;
    let (drops, lake) = (dir.path().join("drops"), dir.path().join("lake"));
    history.write_drops(&drops).map_err(|e| format!("writing drops: {e}"))?;
    churnlake(&["ingest", path(&drops), "--lake", path(&lake)], &[0, 1])?;
    let series = churnlake(&["series", "--lake", path(&lake), "--format", "csv"], &[0])?;
    let subscriptions = churnlake(&["subscriptions", "--lake", path(&lake), "--format", "csv"], &[0])?;

    let truth = history.truth();
    let mut found = Vec::new();
    let (expected, got) = (normalised(&truth.series_csv()), normalised(&series));
    if expected != got {
        let lines = |text: &str| text.lines().map(str::to_owned).collect::<Vec<_>>();
        found.push(format!("series differs:\n{}", line_diff(&lines(&expected), &lines(&got))));
    }
    let rows = |text: &str| project(text, &SUBSCRIPTION_COLUMNS).into_iter().map(|r| r.join(",")).collect::<Vec<_>>();
    let (expected, got) = (rows(&truth.subscriptions_csv()), rows(&subscriptions));
    if expected != got {
        found.push(format!(
            "subscriptions differ ({}):\n{}",
            SUBSCRIPTION_COLUMNS.join(","),
            line_diff(&expected, &got)
        ));
    }
    // the oracle's own series must keep the identity; the engine's too
    assert_flow_identity(&truth.series_csv(), None);
    if let Err(panic) = std::panic::catch_unwind(|| assert_flow_identity(&series, None)) {
        let message = panic.downcast_ref::<String>().cloned().unwrap_or_else(|| "a panic".to_owned());
        found.push(format!("flow identity: {message}"));
    }
    Ok(found)
}

fn check(history: &History) -> Result<(), TestCaseError> {
    let problems = match differences(history) {
        Ok(found) if found.is_empty() => return Ok(()),
        Ok(found) => found.join("\n"),
        Err(error) => error,
    };
    Err(TestCaseError::fail(format!(
        "(- expected from the truth, + got from churnlake)\n{problems}\n{}",
        listing(history)
    )))
}

/// ≥ 500 random adversarial histories (`PROPTEST_CASES` overrides): the series text and
/// every subscription's row equal the truth; a failure is shrunk and printed as drop files.
#[test]
fn adversarial_histories_match_the_truth() {
    let config =
        contextualize_config(ProptestConfig { cases: 500, failure_persistence: None, ..ProptestConfig::default() });
    let cases = config.cases;
    let mut runner = TestRunner::new(config);
    let runs = Cell::new(0u32);
    let started = Instant::now();
    let result = runner.run(&plan(), |plan| {
        runs.set(runs.get() + 1);
        check(&plan.history())
    });
    let elapsed = started.elapsed();
    println!(
        "adversarial histories: {} runs ({cases} cases asked) in {:.1} s, {:.0} ms per run",
        runs.get(),
        elapsed.as_secs_f64(),
        elapsed.as_secs_f64() * 1000.0 / f64::from(runs.get().max(1))
    );
    if let Err(error) = result {
        panic!("{error}");
    }
}

/// The strategy really hits the corners: over a sample of plans, each one is common.
#[test]
fn the_strategy_covers_every_corner() {
    let mut runner = TestRunner::deterministic();
    let strategy = plan();
    let mut counts = std::collections::BTreeMap::<&str, u32>::new();
    let samples = 500;
    for _ in 0..samples {
        let history = strategy.new_tree(&mut runner).expect("a plan").current().history();
        for (corner, hit) in corners(&history) {
            *counts.entry(corner).or_default() += u32::from(hit);
        }
    }
    println!("corner cases in {samples} histories: {counts:?}");
    for (corner, count) in &counts {
        assert!(*count * 20 >= samples, "corner `{corner}` only in {count} of {samples} histories");
    }
}

/// Which corner cases a history hits.
fn corners(history: &History) -> Vec<(&'static str, bool)> {
    use std::collections::{BTreeMap, BTreeSet};
    let last = history.days as i32 - 1;
    let mut created: BTreeMap<u32, i32> = BTreeMap::new();
    let mut sub_creates: BTreeMap<u32, BTreeSet<i32>> = BTreeMap::new();
    let mut cancel_creates: BTreeMap<u32, BTreeSet<i32>> = BTreeMap::new();
    let mut in_subscription_report = BTreeSet::new();
    let mut users: BTreeMap<u32, BTreeSet<u32>> = BTreeMap::new();
    let mut with_user = BTreeSet::new();
    let mut all_subs = BTreeSet::new();
    let mut cancels: Vec<(u32, When)> = Vec::new();
    let mut reactivations: Vec<(u32, When)> = Vec::new();
    let (mut no_public, mut no_create, mut unknown, mut code5, mut noise) = (false, false, false, false, false);
    for row in &history.rows {
        match row {
            Row::Report(r) => {
                all_subs.insert(r.subscription);
                no_public |= !r.public_id;
                no_create |= r.create.is_none();
                if let Some(c) = r.create {
                    let e = created.entry(r.subscription).or_insert(c.day);
                    *e = (*e).min(c.day);
                    match r.report {
                        Report::Subscriptions => sub_creates.entry(r.subscription).or_default().insert(c.day),
                        Report::Cancellations => cancel_creates.entry(r.subscription).or_default().insert(c.day),
                    };
                }
                if r.report == Report::Subscriptions {
                    in_subscription_report.insert(r.subscription);
                }
                if let Some(u) = r.user {
                    users.entry(u).or_default().insert(r.subscription);
                    with_user.insert(r.subscription);
                }
                if let Some(c) = r.cancel {
                    cancels.push((r.subscription, c));
                }
            }
            Row::Event(e) => match (e.target, e.code) {
                (Target::Unknown(_), _) => unknown = true,
                (Target::Subscription(n), 9) => reactivations.push((n, e.date)),
                (_, 5) => code5 = true,
                _ => noise = true,
            },
        }
    }
    let before_creation = |list: &[(u32, When)]| -> Vec<u32> {
        list.iter().filter(|(n, w)| created.get(n).is_some_and(|&c| w.day < c)).map(|(n, _)| *n).collect()
    };
    let mut early_days: BTreeMap<u32, u32> = BTreeMap::new();
    for n in before_creation(&cancels).into_iter().chain(before_creation(&reactivations)) {
        *early_days.entry(n).or_default() += 1;
    }
    let flip = |f: &dyn Fn(Option<NaiveTime>, Option<NaiveTime>) -> bool| {
        cancels.iter().any(|(n, c)| reactivations.iter().any(|(m, r)| n == m && c.day == r.day && f(c.time, r.time)))
    };
    let mut seen = BTreeSet::new();
    let duplicate_rows = history.rows.iter().any(|row| !seen.insert(format!("{row:?}")));
    let conflicting = |map: &BTreeMap<u32, BTreeSet<i32>>| map.values().any(|set| set.len() > 1);
    vec![
        ("several events before creation", early_days.values().any(|&k| k >= 2)),
        (
            "both kinds before creation",
            before_creation(&cancels).iter().any(|n| before_creation(&reactivations).contains(n)),
        ),
        ("cancel before creation", !before_creation(&cancels).is_empty()),
        ("reactivation before creation", !before_creation(&reactivations).is_empty()),
        ("flip untimed", flip(&|c, r| c.is_none() && r.is_none())),
        ("flip half-timed", flip(&|c, r| c.is_some() != r.is_some())),
        ("flip timed", flip(&|c, r| c.is_some() && r.is_some())),
        ("flip equal times", flip(&|c, r| c.is_some() && c == r)),
        ("duplicate rows", duplicate_rows),
        ("re-sent file", history.files().iter().any(|f| f.resent)),
        ("cancellation-only subscription", all_subs.iter().any(|n| !in_subscription_report.contains(n))),
        ("create dates differ between rows", conflicting(&sub_creates) || conflicting(&cancel_creates)),
        (
            "create dates differ between reports",
            sub_creates.iter().any(|(n, s)| cancel_creates.get(n).is_some_and(|c| c != s)),
        ),
        ("missing create date", no_create),
        ("row without public id", no_public),
        ("unknown public id", unknown),
        ("code 5", code5),
        ("noise code", noise),
        ("event after the last data date", cancels.iter().chain(&reactivations).any(|(_, w)| w.day > last)),
        ("user with 3+ subscriptions", users.values().any(|s| s.len() >= 3)),
        ("subscription without user id", all_subs.iter().any(|n| !with_user.contains(n))),
    ]
}
