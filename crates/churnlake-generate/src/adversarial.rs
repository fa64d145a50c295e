//! Small adversarial drop histories and their ground truth, by brute force.
//!
//! A [`History`] is a handful of report and subscriber-event rows over two to six
//! data dates, chosen to hit the corners of METRICS.md: events dated before their
//! subscription's creation, a cancellation and a reactivation on one date (timed,
//! untimed, half-timed, equal times), duplicate rows and re-sent files,
//! subscriptions known only from the cancellation report, Create Dates that differ
//! between rows and reports or are missing, rows without public id, unknown public
//! ids, code 5 and other non-reactivation codes, events dated after the last data
//! date, users with several subscriptions and subscriptions without user.
//!
//! [`History::write_drops`] writes the drop files the conformance suite's way and
//! [`History::truth`] says what they mean: it applies METRICS.md (and the project's
//! choices where it is silent) straight to the rows — the state of every
//! subscription at the end of every day, recomputed from scratch, no cleverness. It
//! shares no code with the ingest or query crates: a property test in the CLI crate
//! builds random histories and checks the engine's outputs against this truth.
//!
//! The types are plain data with public fields, so a strategy in another crate can
//! build them. Numbers stand for ids: subscription `n` is `500000 + n`
//! ([`subscription_id`]), user `n` is `10000 + n` ([`user_id`]), and a subscription's
//! public id is `ab`, zeros and its subscription id ([`public_id`]); an unknown public
//! id starts with `cd` ([`unknown_public_id`]), so no report row carries it. Dates are
//! day offsets from the first data date ([`History::start`]), negative before it.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::fmt::Write as _;
use std::path::Path;

use chrono::{Days, NaiveDate, NaiveTime};

/// The header of both reports, as the conformance cases write it.
pub const REPORT_HEADER: &str = "Subscription ID,Public Subscription ID,User ID,Merchant User ID,Email Address,\
Create Date,Create Time,Status,24 Hour Cancel,Cancel Date,Cancel Reason,Product,Product ID,SKU,Frequency (days),\
Quantity,Price";

/// The header of `churnlake series --format csv`.
pub const SERIES_HEADER: &str = "date,active_subscriptions,new_subscriptions,cancelled_subscriptions,\
reactivated_subscriptions,active_subscribers,new_subscribers,cancelled_subscribers,reactivated_subscribers";

/// The columns of [`Truth::subscriptions_csv`] (a subset of `churnlake subscriptions`' columns).
pub const SUBSCRIPTION_COLUMNS: [&str; 8] = [
    "subscription_id",
    "user_id",
    "created_date",
    "max_cancel_date",
    "max_reactivation_date",
    "cancel_count",
    "reactivation_count",
    "current_status",
];

/// The attribute columns every report row carries (they change no metric).
const PRODUCT_CELLS: &str = "Green Tea Tin 100g,2001,GT-100,28,1,12.50";

/// The drop stamps' times of day (the morning after the data date), per kind.
const SUBSCRIPTIONS_STAMP: &str = "060211";
const CANCELLATIONS_STAMP: &str = "060437";
const EVENTS_STAMP: &str = "060752";

/// A date, as a day offset from the first data date, with an optional time of day.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct When {
    /// Days after [`History::start`] (negative: before it).
    pub day: i32,
    /// The time of day, when the row gives one.
    pub time: Option<NaiveTime>,
}

impl When {
    /// A date without time of day.
    pub fn day(day: i32) -> Self {
        When { day, time: None }
    }

    /// A date with a time of day `hh:mm:ss` (midnight when the values are out of range).
    pub fn at(day: i32, hour: u32, minute: u32, second: u32) -> Self {
        When { day, time: Some(NaiveTime::from_hms_opt(hour, minute, second).unwrap_or(NaiveTime::MIN)) }
    }
}

/// Which report a [`ReportRow`] is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Report {
    /// `acme_subscription_<stamp>.csv` ("created or updated").
    Subscriptions,
    /// `acme_cancelled_subscriptions_<stamp>.csv`.
    Cancellations,
}

/// One row of a subscription or cancellation report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReportRow {
    /// The report carrying the row.
    pub report: Report,
    /// Index of the data date whose drop carries the row (`0..days`; rows of later days are not written).
    pub day: u32,
    /// The subscription's number ([`subscription_id`]).
    pub subscription: u32,
    /// The user's number ([`user_id`]); `None` writes empty User ID, Merchant User ID and Email cells.
    pub user: Option<u32>,
    /// Whether the row carries the subscription's public id (else the cell is empty).
    pub public_id: bool,
    /// Create Date (its time goes to the Create Time column); `None` leaves both empty.
    pub create: Option<When>,
    /// Cancel Date, with its time of day written in the same cell (`MM/DD/YYYY HH:MM:SS`).
    pub cancel: Option<When>,
}

/// Whose public id a subscriber-event row carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Target {
    /// The public id of subscription `n` ([`public_id`]); it resolves only when a report row carries it.
    Subscription(u32),
    /// A public id no report row carries ([`unknown_public_id`]).
    Unknown(u32),
}

/// One row of a subscriber-events file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventRow {
    /// Index of the data date whose drop carries the row (`0..days`; rows of later days are not written).
    pub day: u32,
    /// The public id it carries.
    pub target: Target,
    /// The event code (9 reactivates; 5 and all others change nothing).
    pub code: u32,
    /// The event date, with its time of day written in the same cell.
    pub date: When,
}

/// One row of a history, in the file of its kind and day.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Row {
    /// A subscription- or cancellation-report row.
    Report(ReportRow),
    /// A subscriber-event row.
    Event(EventRow),
}

/// The three kinds of drop file a day has.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum FileKind {
    /// The subscription report.
    Subscriptions,
    /// The cancellation report.
    Cancellations,
    /// The subscriber events (no header).
    Events,
}

impl FileKind {
    const ALL: [FileKind; 3] = [FileKind::Subscriptions, FileKind::Cancellations, FileKind::Events];

    fn prefix(self) -> &'static str {
        match self {
            FileKind::Subscriptions => "acme_subscription_",
            FileKind::Cancellations => "acme_cancelled_subscriptions_",
            FileKind::Events => "acme_crm_subscriber_events_",
        }
    }

    fn stamp_time(self) -> &'static str {
        match self {
            FileKind::Subscriptions => SUBSCRIPTIONS_STAMP,
            FileKind::Cancellations => CANCELLATIONS_STAMP,
            FileKind::Events => EVENTS_STAMP,
        }
    }
}

impl Row {
    /// The file kind and day index carrying the row.
    pub fn file(&self) -> (FileKind, u32) {
        match self {
            Row::Report(r) if r.report == Report::Subscriptions => (FileKind::Subscriptions, r.day),
            Row::Report(r) => (FileKind::Cancellations, r.day),
            Row::Event(e) => (FileKind::Events, e.day),
        }
    }
}

/// A re-delivery: an exact byte copy of one day's file of one kind under a later stamp of
/// the same day (14:05:00, one minute later per earlier entry of [`History::resend`]). Files
/// without data rows are not re-sent (an empty drop is never a duplicate).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Resend {
    /// Index of the data date.
    pub day: u32,
    /// Which of that day's files.
    pub kind: FileKind,
}

/// A small drop history: every data date `start..start+days-1` has all three files.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct History {
    /// The first data date.
    pub start: NaiveDate,
    /// How many data dates (2..=6 in the property test; at least 1).
    pub days: u32,
    /// The rows, each in its day's file of its kind, in this order.
    pub rows: Vec<Row>,
    /// Files delivered again under a later stamp.
    pub resend: Vec<Resend>,
}

/// One drop file: its name and its bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DropFile {
    /// The file name (no directory).
    pub name: String,
    /// The kind of file.
    pub kind: FileKind,
    /// Index of its data date.
    pub day: u32,
    /// Whether it is a re-delivered copy.
    pub resent: bool,
    /// The content (UTF-8, `\n` line ends).
    pub content: String,
}

/// The text of subscription `n`'s id: `500000 + n` (`5000NN` for small `n`).
pub fn subscription_id(n: u32) -> String {
    (500_000 + u64::from(n)).to_string()
}

/// The text of user `n`'s id: `10000 + n` (`100NN` for small `n`).
pub fn user_id(n: u32) -> String {
    (10_000 + u64::from(n)).to_string()
}

/// Subscription `n`'s public id: `ab`, zeros and its subscription id, 32 characters.
pub fn public_id(n: u32) -> String {
    format!("ab{:0>30}", subscription_id(n))
}

/// A public id that no report row carries: `cd`, zeros and `500000 + n`, 32 characters.
pub fn unknown_public_id(n: u32) -> String {
    format!("cd{:0>30}", subscription_id(n))
}

fn mdy(date: NaiveDate) -> String {
    date.format("%m/%d/%Y").to_string()
}

fn hms(time: NaiveTime) -> String {
    time.format("%H:%M:%S").to_string()
}

impl History {
    /// The date of day offset `day` (`start` itself if that leaves chrono's range).
    pub fn date(&self, day: i32) -> NaiveDate {
        let moved = if day >= 0 {
            self.start.checked_add_days(Days::new(u64::from(day.unsigned_abs())))
        } else {
            self.start.checked_sub_days(Days::new(u64::from(day.unsigned_abs())))
        };
        moved.unwrap_or(self.start)
    }

    fn date_cell(&self, when: When) -> String {
        match when.time {
            Some(time) => format!("{} {}", mdy(self.date(when.day)), hms(time)),
            None => mdy(self.date(when.day)),
        }
    }

    fn report_line(&self, row: &ReportRow) -> String {
        let sub = subscription_id(row.subscription);
        let public = if row.public_id { public_id(row.subscription) } else { String::new() };
        let (user, merchant_user, email) = match row.user {
            Some(n) => (user_id(n), format!("M-{}", user_id(n)), format!("u{}@example.com", user_id(n))),
            None => Default::default(),
        };
        let (create_date, create_time) = match row.create {
            Some(when) => (mdy(self.date(when.day)), when.time.map(hms).unwrap_or_default()),
            None => Default::default(),
        };
        let status = if row.report == Report::Cancellations || row.cancel.is_some() { "Inactive" } else { "Active" };
        let cancel = row.cancel.map(|when| self.date_cell(when)).unwrap_or_default();
        let reason = if row.cancel.is_some() { "Other" } else { "" };
        format!(
            "{sub},{public},{user},{merchant_user},{email},{create_date},{create_time},{status},,{cancel},{reason},\
             {PRODUCT_CELLS}"
        )
    }

    fn event_line(&self, row: &EventRow) -> String {
        let (public, n) = match row.target {
            Target::Subscription(n) => (public_id(n), n),
            Target::Unknown(n) => (unknown_public_id(n), n),
        };
        format!("{public},M-{},e{n}@example.com,{},{}", subscription_id(n), row.code, self.date_cell(row.date))
    }

    /// The content of day `day`'s file of `kind`, and whether it has data rows.
    fn content(&self, kind: FileKind, day: u32) -> (String, bool) {
        let mut text = String::new();
        if kind != FileKind::Events {
            text.push_str(REPORT_HEADER);
            text.push('\n');
        }
        let mut any = false;
        for row in self.rows.iter().filter(|row| row.file() == (kind, day)) {
            any = true;
            let line = match row {
                Row::Report(r) => self.report_line(r),
                Row::Event(e) => self.event_line(e),
            };
            text.push_str(&line);
            text.push('\n');
        }
        (text, any)
    }

    /// `<prefix><MMDDYYYYHHMMSS>.csv`, stamped the day after data date `day` at `time` (`HHMMSS`).
    fn file_name(&self, kind: FileKind, day: u32, time: &str) -> String {
        let stamp_date = self.date(day as i32 + 1);
        format!("{}{}{time}.csv", kind.prefix(), stamp_date.format("%m%d%Y"))
    }

    /// Every drop file: each day's three files (header-only reports and a zero-byte events
    /// file when a day has no rows of that kind), then the re-sent copies.
    pub fn files(&self) -> Vec<DropFile> {
        let mut files = Vec::new();
        for day in 0..self.days {
            for kind in FileKind::ALL {
                let (content, _) = self.content(kind, day);
                let name = self.file_name(kind, day, kind.stamp_time());
                files.push(DropFile { name, kind, day, resent: false, content });
            }
        }
        for (index, resend) in self.resend.iter().enumerate() {
            if resend.day >= self.days {
                continue;
            }
            let (content, any) = self.content(resend.kind, resend.day);
            if !any {
                continue;
            }
            let time = format!("14{:02}00", (5 + index) % 60);
            let name = self.file_name(resend.kind, resend.day, &time);
            files.push(DropFile { name, kind: resend.kind, day: resend.day, resent: true, content });
        }
        files
    }

    /// Writes [`files`](Self::files) into `dir` (created if missing).
    pub fn write_drops(&self, dir: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        for file in self.files() {
            std::fs::write(dir.join(&file.name), file.content.as_bytes())?;
        }
        Ok(())
    }

    /// The (kind, day) files whose rows the lake holds: a file with data rows whose bytes
    /// equal an earlier file of the same kind is a re-delivery, skipped (the ingest keeps
    /// the earliest copy by stamp and name; re-sent files are always such copies).
    fn kept_files(&self) -> BTreeSet<(FileKind, u32)> {
        let mut kept = BTreeSet::new();
        for kind in FileKind::ALL {
            let mut seen = HashSet::new();
            for day in 0..self.days {
                let (content, any) = self.content(kind, day);
                if !any || seen.insert(content) {
                    kept.insert((kind, day));
                }
            }
        }
        kept
    }

    /// What the drops mean, per METRICS.md, computed by brute force from the rows.
    pub fn truth(&self) -> Truth {
        let last = self.days as i32 - 1;
        let kept = self.kept_files();
        // rows in the lake, with their position (the line order inside a file)
        let rows: Vec<(usize, &Row)> = self
            .rows
            .iter()
            .enumerate()
            .filter(|(_, row)| {
                let (kind, day) = row.file();
                day < self.days && kept.contains(&(kind, day))
            })
            .collect();

        // per subscription: its report rows
        let mut reports: BTreeMap<u32, Vec<(usize, &ReportRow)>> = BTreeMap::new();
        for &(seq, row) in &rows {
            if let Row::Report(r) = row {
                reports.entry(r.subscription).or_default().push((seq, r));
            }
        }

        let mut subs: BTreeMap<u32, Sub> = BTreeMap::new();
        for (&n, list) in &reports {
            let earliest = |report: Report| {
                list.iter().filter(|(_, r)| r.report == report).filter_map(|(_, r)| r.create.map(|c| c.day)).min()
            };
            let created = earliest(Report::Subscriptions)
                .or_else(|| earliest(Report::Cancellations))
                .or_else(|| list.iter().map(|(_, r)| r.day as i32).min())
                .unwrap_or(0);
            // newest row with a user: by data date, then stamp (the subscription report is
            // stamped before the cancellation report), then line
            let user = list
                .iter()
                .filter(|(_, r)| r.user.is_some())
                .max_by_key(|(seq, r)| (r.day, r.report == Report::Cancellations, *seq))
                .and_then(|(_, r)| r.user);
            let resolvable = list.iter().any(|(_, r)| r.public_id);
            subs.insert(n, Sub { created, user, resolvable, cancels: BTreeMap::new(), reactivations: BTreeMap::new() });
        }

        // events: distinct (subscription, date), the latest time seen (None < Some)
        for &(_, row) in &rows {
            match row {
                Row::Report(r) => {
                    if let (Some(cancel), Some(sub)) = (r.cancel, subs.get_mut(&r.subscription)) {
                        let time = sub.cancels.entry(cancel.day).or_insert(None);
                        *time = (*time).max(cancel.time);
                    }
                }
                Row::Event(e) => {
                    if let (9, Target::Subscription(n)) = (e.code, e.target)
                        && let Some(sub) = subs.get_mut(&n)
                        && sub.resolvable
                    {
                        let time = sub.reactivations.entry(e.date.day).or_insert(None);
                        *time = (*time).max(e.date.time);
                    }
                }
            }
        }

        // only subscriptions created on or before the last data date count
        subs.retain(|_, sub| sub.created <= last);

        let owner = |n: u32, sub: &Sub| match sub.user {
            Some(u) => user_id(u),
            None => subscription_id(n),
        };
        let mut owners: BTreeMap<String, Vec<u32>> = BTreeMap::new();
        for (&n, sub) in &subs {
            owners.entry(owner(n, sub)).or_default().push(n);
        }

        let sub_state = |n: u32, day: i32| subs.get(&n).map_or(State::Absent, |sub| sub.state_at(day));
        let user_state = |members: &[u32], day: i32| {
            let states: Vec<State> = members.iter().map(|&n| sub_state(n, day)).collect();
            if states.contains(&State::Active) {
                State::Active
            } else if states.contains(&State::Inactive) {
                State::Inactive
            } else {
                State::Absent
            }
        };

        let mut series = Vec::new();
        for day in 0..self.days as i32 {
            let mut subscriptions = Flows::default();
            for &n in subs.keys() {
                subscriptions.add(sub_state(n, day - 1), sub_state(n, day));
            }
            let mut subscribers = Flows::default();
            for members in owners.values() {
                subscribers.add(user_state(members, day - 1), user_state(members, day));
            }
            series.push(SeriesRow { date: self.date(day), subscriptions, subscribers });
        }

        let mut table: Vec<SubscriptionRow> = subs
            .iter()
            .map(|(&n, sub)| SubscriptionRow {
                subscription_id: subscription_id(n),
                user_id: sub.user.map(user_id).unwrap_or_default(),
                created_date: self.date(sub.created),
                max_cancel_date: sub.cancels.keys().max().map(|&d| self.date(d)),
                max_reactivation_date: sub.reactivations.keys().max().map(|&d| self.date(d)),
                cancel_count: sub.cancels.len() as u32,
                reactivation_count: sub.reactivations.len() as u32,
                active: sub.state_at(last) == State::Active,
            })
            .collect();
        table.sort_by(|a, b| a.subscription_id.cmp(&b.subscription_id));
        Truth { series, subscriptions: table }
    }
}

/// A subscription's state at the end of a day.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Absent,
    Active,
    Inactive,
}

/// A subscription as the lake's rows describe it.
struct Sub {
    created: i32,
    user: Option<u32>,
    /// A report row carries its public id, so its subscriber events resolve.
    resolvable: bool,
    /// Own date → latest time of day seen (None: no row gave one).
    cancels: BTreeMap<i32, Option<NaiveTime>>,
    reactivations: BTreeMap<i32, Option<NaiveTime>>,
}

impl Sub {
    /// The state at the end of `day`: created → active, then every event whose effective day
    /// (max of its own date and the created date) is ≤ `day`, in order of effective day, own
    /// date, and on one own date cancellation last unless both are timed and the
    /// reactivation is later.
    fn state_at(&self, day: i32) -> State {
        if self.created > day {
            return State::Absent;
        }
        // (effective day, own date, rank on the own date, is a reactivation)
        let mut events: Vec<(i32, i32, u8, bool)> = Vec::new();
        for (&own, &time) in &self.cancels {
            let reactivation_later = match (time, self.reactivations.get(&own)) {
                (Some(c), Some(&Some(r))) => r > c,
                _ => false,
            };
            events.push((own.max(self.created), own, if reactivation_later { 0 } else { 1 }, false));
        }
        for (&own, &time) in &self.reactivations {
            let reactivation_later = match (self.cancels.get(&own), time) {
                (Some(&Some(c)), Some(r)) => r > c,
                _ => false,
            };
            events.push((own.max(self.created), own, if reactivation_later { 1 } else { 0 }, true));
        }
        events.sort();
        let mut state = State::Active;
        for (effective, _, _, reactivation) in events {
            if effective > day {
                break;
            }
            state = if reactivation { State::Active } else { State::Inactive };
        }
        state
    }
}

/// One level's flows on one day (METRICS.md "Daily flows").
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Flows {
    /// Active at the end of the day.
    pub active: u32,
    /// Came into existence on the day.
    pub new: u32,
    /// Active at the end of the day before, or new, and inactive at the end of the day.
    pub cancelled: u32,
    /// Inactive at the end of the day before and active at the end of the day.
    pub reactivated: u32,
}

impl Flows {
    fn add(&mut self, before: State, after: State) {
        let new = before == State::Absent && after != State::Absent;
        self.active += u32::from(after == State::Active);
        self.new += u32::from(new);
        self.cancelled += u32::from((before == State::Active || new) && after == State::Inactive);
        self.reactivated += u32::from(before == State::Inactive && after == State::Active);
    }
}

/// One day of the daily series.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SeriesRow {
    /// The data date.
    pub date: NaiveDate,
    /// Subscription flows.
    pub subscriptions: Flows,
    /// Subscriber flows.
    pub subscribers: Flows,
}

/// One subscription of the subscription table.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubscriptionRow {
    /// Its id.
    pub subscription_id: String,
    /// The newest non-empty User ID of its report rows (empty when none).
    pub user_id: String,
    /// Its created date.
    pub created_date: NaiveDate,
    /// The latest cancel date in the lake (also after the last data date).
    pub max_cancel_date: Option<NaiveDate>,
    /// The latest reactivation date in the lake (also after the last data date).
    pub max_reactivation_date: Option<NaiveDate>,
    /// Distinct cancellation dates.
    pub cancel_count: u32,
    /// Distinct reactivation dates.
    pub reactivation_count: u32,
    /// Active at the end of the last data date.
    pub active: bool,
}

/// The ground truth of a [`History`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Truth {
    /// Every data date, first to last.
    pub series: Vec<SeriesRow>,
    /// Every subscription created on or before the last data date, by subscription id.
    pub subscriptions: Vec<SubscriptionRow>,
}

fn iso(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

impl Truth {
    /// Exactly the text of `churnlake series --format csv` (header, one line per data date).
    pub fn series_csv(&self) -> String {
        let mut out = String::from(SERIES_HEADER);
        out.push('\n');
        for row in &self.series {
            let (s, u) = (row.subscriptions, row.subscribers);
            let _ = writeln!(
                out,
                "{},{},{},{},{},{},{},{},{}",
                iso(row.date),
                s.active,
                s.new,
                s.cancelled,
                s.reactivated,
                u.active,
                u.new,
                u.cancelled,
                u.reactivated
            );
        }
        out
    }

    /// The subscription table with the columns of [`SUBSCRIPTION_COLUMNS`], sorted by subscription id.
    pub fn subscriptions_csv(&self) -> String {
        let mut out = SUBSCRIPTION_COLUMNS.join(",");
        out.push('\n');
        let optional = |date: Option<NaiveDate>| date.map(iso).unwrap_or_default();
        for row in &self.subscriptions {
            let _ = writeln!(
                out,
                "{},{},{},{},{},{},{},{}",
                row.subscription_id,
                row.user_id,
                iso(row.created_date),
                optional(row.max_cancel_date),
                optional(row.max_reactivation_date),
                row.cancel_count,
                row.reactivation_count,
                if row.active { "active" } else { "inactive" },
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn start() -> NaiveDate {
        NaiveDate::from_ymd_opt(2023, 5, 1).expect("a date")
    }

    fn report(report: Report, day: u32, sub: u32, user: u32, create: When, cancel: Option<When>) -> Row {
        Row::Report(ReportRow {
            report,
            day,
            subscription: sub,
            user: Some(user),
            public_id: true,
            create: Some(create),
            cancel,
        })
    }

    fn event(day: u32, sub: u32, code: u32, date: When) -> Row {
        Row::Event(EventRow { day, target: Target::Subscription(sub), code, date })
    }

    fn case_dir(case: &str) -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/conformance/cases").join(case)
    }

    /// `text`'s rows restricted to `columns` (by header name), as joined lines.
    fn project(text: &str, columns: &[&str]) -> Vec<String> {
        let mut lines = text.lines().filter(|line| !line.trim().is_empty());
        let header: Vec<&str> = lines.next().expect("a header").split(',').map(str::trim).collect();
        let index: Vec<usize> = columns
            .iter()
            .map(|c| header.iter().position(|h| h == c).unwrap_or_else(|| panic!("no column {c} in {header:?}")))
            .collect();
        lines
            .map(|line| {
                let cells: Vec<&str> = line.split(',').map(str::trim).collect();
                index.iter().map(|&i| cells[i]).collect::<Vec<_>>().join(",")
            })
            .collect()
    }

    /// The history's truth equals the case's expected outputs (the columns they have in
    /// common), and its drop files have the case's names.
    fn assert_reproduces(case: &str, history: &History) {
        assert_reproduces_outputs(case, history);
        let mut names: Vec<String> = history.files().into_iter().map(|f| f.name).collect();
        names.sort();
        let mut case_names: Vec<String> = std::fs::read_dir(case_dir(case).join("drops"))
            .expect("the case's drops")
            .map(|entry| entry.expect("an entry").file_name().to_string_lossy().into_owned())
            .collect();
        case_names.sort();
        assert_eq!(names, case_names, "{case}: drop file names");
    }

    /// The history's truth equals the case's expected outputs (the columns they have in common).
    fn assert_reproduces_outputs(case: &str, history: &History) {
        let dir = case_dir(case);
        let read = |name: &str| {
            let path = dir.join("expected").join(name);
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
        };
        let truth = history.truth();
        let series = read("series.csv");
        assert_eq!(truth.series_csv().trim_end(), series.replace("\r\n", "\n").trim_end(), "{case}: series");
        let expected = read("subscriptions.csv");
        let header: Vec<&str> = expected.lines().next().expect("a header").split(',').map(str::trim).collect();
        assert_eq!(project(&truth.subscriptions_csv(), &header), project(&expected, &header), "{case}: subscriptions");
    }

    #[test]
    fn reproduces_case_10_event_before_creation() {
        use Report::*;
        let history = History {
            start: start(),
            days: 3,
            rows: vec![
                report(Subscriptions, 0, 93, 3, When::at(0, 12, 0, 0), None),
                report(Cancellations, 2, 91, 1, When::at(2, 10, 0, 0), Some(When::day(0))),
                report(Cancellations, 2, 92, 2, When::at(2, 11, 0, 0), Some(When::day(1))),
                event(2, 91, 9, When::day(1)),
                event(2, 92, 9, When::day(0)),
                report(Subscriptions, 2, 91, 1, When::at(2, 10, 0, 0), None),
                report(Subscriptions, 2, 92, 2, When::at(2, 11, 0, 0), None),
            ],
            resend: vec![],
        };
        assert_reproduces("10-event-before-creation", &history);
    }

    #[test]
    fn reproduces_case_13_created_date_and_late_dated_events() {
        use Report::*;
        let history = History {
            start: start(),
            days: 3,
            rows: vec![
                report(Subscriptions, 0, 82, 12, When::at(0, 10, 0, 0), None),
                report(Subscriptions, 1, 81, 11, When::at(1, 11, 30, 0), None),
                report(Cancellations, 2, 81, 11, When::at(-3, 11, 30, 0), Some(When::day(2))),
                report(Cancellations, 2, 82, 12, When::at(0, 10, 0, 0), Some(When::day(3))),
            ],
            resend: vec![],
        };
        assert_reproduces("13-created-date-and-late-dated-events", &history);
        let truth = history.truth();
        assert_eq!(truth.subscriptions[1].cancel_count, 1, "a cancel after the last data date is counted");
    }

    #[test]
    fn reproduces_case_04_same_date_by_time() {
        use Report::*;
        let history = History {
            start: start(),
            days: 2,
            rows: vec![
                report(Subscriptions, 0, 31, 1, When::at(0, 7, 55, 0), None),
                report(Subscriptions, 0, 32, 2, When::at(0, 16, 5, 0), None),
                report(Cancellations, 1, 31, 1, When::at(0, 7, 55, 0), Some(When::at(1, 9, 15, 0))),
                report(Cancellations, 1, 32, 2, When::at(0, 16, 5, 0), Some(When::at(1, 16, 30, 0))),
                event(1, 32, 9, When::at(1, 8, 5, 0)),
                event(1, 31, 9, When::at(1, 17, 40, 0)),
            ],
            resend: vec![],
        };
        assert_reproduces("04-same-date-by-time", &history);
    }

    #[test]
    fn reproduces_case_03_same_date_cancel_wins() {
        use Report::*;
        let history = History {
            start: start(),
            days: 3,
            rows: vec![
                report(Subscriptions, 0, 21, 1, When::at(0, 9, 0, 0), None),
                report(Subscriptions, 0, 22, 2, When::at(0, 12, 30, 0), None),
                report(Cancellations, 2, 21, 1, When::at(0, 9, 0, 0), Some(When::day(2))),
                report(Cancellations, 2, 22, 2, When::at(0, 12, 30, 0), Some(When::day(2))),
                event(2, 21, 9, When::day(2)),
                event(2, 22, 9, When::at(2, 23, 10, 0)),
            ],
            resend: vec![],
        };
        assert_reproduces("03-same-date-cancel-wins", &history);
    }

    #[test]
    fn reproduces_case_06_duplicates_are_one_event() {
        use Report::*;
        let history = History {
            start: start(),
            days: 4,
            rows: vec![
                report(Subscriptions, 0, 51, 1, When::at(0, 9, 30, 0), None),
                report(Subscriptions, 0, 52, 2, When::at(0, 13, 15, 0), None),
                report(Subscriptions, 1, 51, 1, When::at(0, 9, 30, 0), Some(When::day(1))),
                report(Subscriptions, 1, 52, 2, When::at(0, 13, 15, 0), None),
                report(Cancellations, 1, 51, 1, When::at(0, 9, 30, 0), Some(When::day(1))),
                report(Cancellations, 2, 51, 1, When::at(0, 9, 30, 0), Some(When::day(1))),
                event(2, 51, 9, When::day(2)),
                event(2, 51, 9, When::day(2)),
                event(3, 51, 9, When::day(2)),
            ],
            // the case re-sends it at 12:30:05, this module at 14:05:00
            resend: vec![Resend { day: 1, kind: FileKind::Cancellations }],
        };
        assert_reproduces_outputs("06-duplicates-are-one-event", &history);
    }

    #[test]
    fn reproduces_case_07_only_code_9_known_id_reactivates() {
        use Report::*;
        let history = History {
            start: start(),
            days: 4,
            rows: vec![
                report(Subscriptions, 0, 61, 1, When::at(0, 8, 0, 0), None),
                report(Subscriptions, 0, 62, 2, When::at(0, 8, 45, 0), None),
                report(Cancellations, 1, 62, 2, When::at(0, 8, 45, 0), Some(When::day(1))),
                event(0, 61, 1, When::day(0)),
                event(0, 62, 1, When::day(0)),
                event(1, 61, 5, When::day(1)),
                event(1, 61, 2, When::day(1)),
                event(1, 62, 5, When::day(1)),
                event(2, 62, 1, When::day(2)),
                event(2, 62, 42, When::day(2)),
                event(2, 61, 12, When::day(2)),
                // ab…599999: the public id of a subscription no report row carries
                event(2, 99_999, 9, When::day(2)),
                event(3, 62, 9, When::day(3)),
            ],
            resend: vec![],
        };
        assert_reproduces("07-only-code-9-known-id-reactivates", &history);
    }

    #[test]
    fn reproduces_case_08_created_before_first_drop() {
        use Report::*;
        let history = History {
            start: start(),
            days: 3,
            rows: vec![
                report(Subscriptions, 0, 72, 2, When::at(0, 9, 5, 0), None),
                report(Cancellations, 2, 71, 1, When::at(-21, 17, 20, 0), Some(When::day(2))),
            ],
            resend: vec![],
        };
        assert_reproduces("08-created-before-first-drop", &history);
    }

    #[test]
    fn files_follow_the_conformance_conventions() {
        let history = History {
            start: NaiveDate::from_ymd_opt(2023, 12, 30).expect("a date"),
            days: 2,
            rows: vec![
                Row::Report(ReportRow {
                    report: Report::Cancellations,
                    day: 1,
                    subscription: 7,
                    user: None,
                    public_id: false,
                    create: None,
                    cancel: Some(When::at(2, 9, 5, 7)),
                }),
                event(1, 7, 9, When::at(-1, 23, 59, 59)),
            ],
            resend: vec![
                Resend { day: 0, kind: FileKind::Events },
                Resend { day: 1, kind: FileKind::Events },
                Resend { day: 1, kind: FileKind::Cancellations },
            ],
        };
        let files = history.files();
        let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "acme_subscription_12312023060211.csv",
                "acme_cancelled_subscriptions_12312023060437.csv",
                "acme_crm_subscriber_events_12312023060752.csv",
                "acme_subscription_01012024060211.csv",
                "acme_cancelled_subscriptions_01012024060437.csv",
                "acme_crm_subscriber_events_01012024060752.csv",
                // the empty 12-30 events file is not re-sent
                "acme_crm_subscriber_events_01012024140600.csv",
                "acme_cancelled_subscriptions_01012024140700.csv",
            ]
        );
        assert_eq!(files[0].content, format!("{REPORT_HEADER}\n"));
        assert_eq!(files[2].content, "");
        assert_eq!(
            files[4].content,
            format!("{REPORT_HEADER}\n500007,,,,,,,Inactive,,01/01/2024 09:05:07,Other,{PRODUCT_CELLS}\n")
        );
        assert_eq!(
            files[5].content,
            "ab000000000000000000000000500007,M-500007,e7@example.com,9,12/29/2023 23:59:59\n"
        );
        assert_eq!(files[6].content, files[5].content);
        assert_eq!(public_id(7).len(), 32);
        assert_eq!(unknown_public_id(7), "cd000000000000000000000000500007");

        // cancellation only, no Create Date: exists from its first data date; the event's
        // public id is unknown to the lake (no row carries it); the cancel is after the last day
        let truth = history.truth();
        assert_eq!(
            truth.subscriptions_csv(),
            format!("{}\n500007,,2023-12-31,2024-01-01,,1,0,active\n", SUBSCRIPTION_COLUMNS.join(","))
        );
        assert_eq!(
            truth.series_csv(),
            format!("{SERIES_HEADER}\n2023-12-30,0,0,0,0,0,0,0,0\n2023-12-31,1,1,0,0,1,1,0,0\n")
        );
    }

    #[test]
    fn same_date_order_and_duplicates() {
        use Report::*;
        let sub = |n: u32, cancel: When| report(Cancellations, 1, n, n, When::day(0), Some(cancel));
        let history = History {
            start: start(),
            days: 2,
            rows: vec![
                // equal times: the cancellation is the later event
                sub(1, When::at(1, 12, 0, 0)),
                event(1, 1, 9, When::at(1, 12, 0, 0)),
                // the latest time of a date wins, and a timed row makes the event timed
                sub(2, When::at(1, 9, 0, 0)),
                sub(2, When::day(1)),
                event(1, 2, 9, When::at(1, 10, 0, 0)),
                event(1, 2, 9, When::day(1)),
                sub(2, When::at(1, 11, 0, 0)),
                // half-timed: the cancellation is later
                sub(3, When::day(1)),
                event(1, 3, 9, When::at(1, 23, 0, 0)),
                // code 5 and noise change nothing; an unknown id neither
                sub(4, When::day(1)),
                event(1, 4, 5, When::day(1)),
                event(1, 4, 42, When::at(1, 23, 0, 0)),
                Row::Event(EventRow { day: 1, target: Target::Unknown(4), code: 9, date: When::at(1, 23, 0, 0) }),
                // reactivated after the cancellation
                sub(5, When::at(1, 8, 0, 0)),
                event(1, 5, 9, When::at(1, 8, 0, 1)),
            ],
            resend: vec![Resend { day: 1, kind: FileKind::Cancellations }],
        };
        let truth = history.truth();
        let status: Vec<(u32, u32, bool)> =
            truth.subscriptions.iter().map(|s| (s.cancel_count, s.reactivation_count, s.active)).collect();
        assert_eq!(status, [(1, 1, false), (1, 1, false), (1, 1, false), (1, 0, false), (1, 1, true)]);
        assert_eq!(truth.series[1].subscriptions, Flows { active: 1, new: 0, cancelled: 4, reactivated: 0 });
    }

    #[test]
    fn identical_content_on_a_later_day_is_a_re_delivery() {
        // the 05-03 report equals the 05-01 one byte for byte: the lake keeps only the
        // first, so the newest user is the 05-02 row's
        let row = |day: u32, user: u32| {
            Row::Report(ReportRow {
                report: Report::Subscriptions,
                day,
                subscription: 1,
                user: Some(user),
                public_id: true,
                create: Some(When::day(0)),
                cancel: None,
            })
        };
        let history = History { start: start(), days: 3, rows: vec![row(0, 1), row(1, 2), row(2, 1)], resend: vec![] };
        assert_eq!(history.truth().subscriptions[0].user_id, "10002");
        // one more row makes the 05-03 report different content: its row is the newest
        let history =
            History { start: start(), days: 3, rows: vec![row(0, 1), row(1, 2), row(2, 1), row(2, 1)], resend: vec![] };
        assert_eq!(history.truth().subscriptions[0].user_id, "10001");
    }

    #[test]
    fn subscribers_and_creation_rules() {
        use Report::*;
        let plain = |report: Report, day: u32, n: u32, user: Option<u32>, create: Option<When>, cancel| {
            Row::Report(ReportRow { report, day, subscription: n, user, public_id: true, create, cancel })
        };
        let history = History {
            start: start(),
            days: 3,
            rows: vec![
                // user 1: three subscriptions, one created before the first data date
                plain(Subscriptions, 0, 1, Some(1), Some(When::day(-2)), None),
                plain(Subscriptions, 1, 2, Some(1), Some(When::day(1)), None),
                plain(Cancellations, 2, 3, Some(1), Some(When::day(2)), Some(When::day(2))),
                // the subscription report's Create Date wins over an earlier cancellation-report one
                plain(Cancellations, 0, 1, None, Some(When::day(-5)), Some(When::day(1))),
                // no user id: its own subscriber; created after the last data date: counted nowhere
                plain(Subscriptions, 2, 4, None, None, None),
                plain(Subscriptions, 2, 5, Some(1), Some(When::day(3)), None),
            ],
            resend: vec![],
        };
        let truth = history.truth();
        let ids: Vec<(&str, &str, NaiveDate)> = truth
            .subscriptions
            .iter()
            .map(|s| (s.subscription_id.as_str(), s.user_id.as_str(), s.created_date))
            .collect();
        let day = |d: i32| history.date(d);
        assert_eq!(
            ids,
            [
                ("500001", "10001", day(-2)),
                ("500002", "10001", day(1)),
                ("500003", "10001", day(2)),
                ("500004", "", day(2))
            ]
        );
        assert_eq!(
            truth.series_csv(),
            format!(
                "{SERIES_HEADER}\n2023-05-01,1,0,0,0,1,0,0,0\n2023-05-02,1,1,1,0,1,0,0,0\n\
                 2023-05-03,2,2,1,0,2,1,0,0\n"
            )
        );
    }
}
