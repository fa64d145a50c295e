//! `reconcile`: the lake's series against numbers copied from the platform's dashboard.
//! Every (date, metric) that differs is listed with its likely causes, ranked from the
//! evidence `check` finds, and the subscriptions whose state changed that day.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Datelike, NaiveDate};
use churnlake_lake::{Manifest, columns as c};
use polars::prelude::*;
use serde::Serialize;

use crate::check::{self, AnomalyRow, Finding, anomaly_words};
use crate::driver::{Consumer, Passes};
use crate::error::{Context, QueryError, Result};
use crate::explain::date_of;
use crate::lifecycle::{Attributes, Lifecycle, Lineage};
use crate::series::{self, Grain, SERIES_COLUMNS};
use crate::sources::LakeSources;

/// How many causes a differing day lists, and how many subscriptions.
const MAX_CAUSES: usize = 5;
const MAX_SUBSCRIPTIONS: usize = 20;

/// Numbers copied from the dashboard: a date per row and any of the series' columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dashboard {
    /// The file's name, for messages.
    pub file: String,
    /// The series columns the file has, in its column order.
    pub metrics: Vec<&'static str>,
    pub rows: Vec<DashboardRow>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DashboardRow {
    /// The line of the file (1 is the header).
    pub line: u64,
    pub date: NaiveDate,
    /// One value per metric, in the order of [`Dashboard::metrics`].
    pub values: Vec<i64>,
}

/// A heading → the series column it means (the column names themselves, and the
/// dashboard's own headings: "Active Subscriptions at Day's End", "Subscription Cancels" …).
fn metric_of(heading: &str) -> Option<&'static str> {
    const FILLER: [&str; 9] = ["at", "day", "days", "s", "end", "count", "total", "number", "of"];
    let lower = heading.to_lowercase();
    let words: Vec<String> = lower
        .split(|ch: char| !ch.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty() && !FILLER.contains(w))
        .map(|w| {
            w.strip_suffix('s').unwrap_or(w).replace("canceled", "cancelled").replace("cancelation", "cancellation")
        })
        .collect();
    let has = |w: &str| words.iter().any(|x| x == w);
    let level = match (has("subscription"), has("subscriber")) {
        (true, false) => "subscriptions",
        (false, true) => "subscribers",
        _ => return None,
    };
    let flows: Vec<&str> = words
        .iter()
        .filter_map(|w| match w.as_str() {
            "active" => Some("active"),
            "new" | "created" => Some("new"),
            "cancel" | "cancelled" | "cancellation" | "churned" => Some("cancelled"),
            "reactivated" | "reactivation" => Some("reactivated"),
            "subscription" | "subscriber" => None,
            _ => Some("?"),
        })
        .collect();
    let flow = match flows.as_slice() {
        // "Subscription Count" is the dashboard's count of active subscriptions
        [] | ["active"] => "active",
        [one] if *one != "?" => one,
        _ => return None,
    };
    SERIES_COLUMNS.iter().copied().find(|col| *col == format!("{flow}_{level}"))
}

fn is_date_heading(heading: &str) -> bool {
    let words: String = heading.to_lowercase().chars().filter(char::is_ascii_alphanumeric).collect();
    matches!(words.as_str(), "date" | "day" | "datadate" | "reportdate")
}

/// A dashboard date: ISO, `MM/DD/YYYY` (US, like the reports), `MM/DD/YY`, `YYYY/MM/DD`,
/// `YYYYMMDD`, "Jan 27, 2023", "January 27, 2023", "27 Jan 2023"; a time after it is ignored.
fn parse_date(text: &str) -> Option<NaiveDate> {
    const FORMATS: [&str; 9] =
        ["%Y-%m-%d", "%m/%d/%Y", "%m/%d/%y", "%Y/%m/%d", "%Y%m%d", "%b %d, %Y", "%B %d, %Y", "%d %b %Y", "%d %B %Y"];
    let text = text.trim();
    let candidates = [text, text.split(['T', ' ']).next().unwrap_or(text)];
    // `%Y` also takes two digits: a year before 1900 is a two-digit year read wrong
    candidates
        .iter()
        .find_map(|t| FORMATS.iter().find_map(|f| NaiveDate::parse_from_str(t, f).ok().filter(|d| d.year() >= 1900)))
}

/// A count as dashboards write it: `1,234`, `1 234`, `1234`, `1234.0`.
fn parse_count(text: &str) -> Option<i64> {
    let digits: String = text.trim().chars().filter(|ch| !matches!(ch, ',' | ' ' | '_' | '\u{a0}')).collect();
    let whole = match digits.split_once('.') {
        Some((whole, fraction)) if fraction.chars().all(|ch| ch == '0') => whole,
        Some(_) => return None,
        None => digits.as_str(),
    };
    whole.parse().ok()
}

impl Dashboard {
    /// Reads a dashboard export (CSV with a header). Any cell it cannot read is an error
    /// naming the line and column: never a partial, silent comparison.
    pub fn parse(file: &str, bytes: &[u8]) -> Result<Dashboard> {
        let fail = |line: u64, column: Option<&str>, message: String| QueryError::Dashboard {
            file: file.to_owned(),
            line,
            column: column.map(str::to_owned),
            message,
        };
        let text = std::str::from_utf8(bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes))
            .map_err(|e| fail(1, None, format!("not UTF-8 text ({e})")))?;
        let mut reader = csv::ReaderBuilder::new().has_headers(true).flexible(false).from_reader(text.as_bytes());
        let headings: Vec<String> = reader
            .headers()
            .map_err(|e| fail(1, None, format!("no readable header ({e})")))?
            .iter()
            .map(|h| h.trim().to_owned())
            .collect();
        let mut date_column = None;
        let mut columns: Vec<(usize, &'static str)> = Vec::new();
        for (i, heading) in headings.iter().enumerate() {
            if is_date_heading(heading) && date_column.is_none() {
                date_column = Some(i);
                continue;
            }
            let metric = metric_of(heading).ok_or_else(|| {
                fail(
                    1,
                    Some(heading),
                    format!(
                        "unknown column `{heading}`; expected `date` and any of {} (or the dashboard's \
                         headings, e.g. \"Active Subscriptions at Day's End\", \"Subscription Cancels\")",
                        SERIES_COLUMNS[1..].join(", ")
                    ),
                )
            })?;
            if let Some((_, _)) = columns.iter().find(|(_, m)| *m == metric) {
                return Err(fail(1, Some(heading), format!("a second column for {metric}")));
            }
            columns.push((i, metric));
        }
        let date_column = date_column.ok_or_else(|| fail(1, None, "no `date` column".into()))?;
        if columns.is_empty() {
            return Err(fail(1, None, format!("no metric column; expected any of {}", SERIES_COLUMNS[1..].join(", "))));
        }
        let mut rows = Vec::new();
        let mut seen: BTreeMap<NaiveDate, u64> = BTreeMap::new();
        for record in reader.records() {
            let record = record.map_err(|e| {
                let line = e.position().map_or(0, |p| p.line());
                fail(line, None, format!("unreadable row ({e})"))
            })?;
            let line = record.position().map_or(0, |p| p.line());
            if record.iter().all(|cell| cell.trim().is_empty()) {
                continue;
            }
            let heading = |i: usize| headings.get(i).map(String::as_str);
            let cell = record.get(date_column).unwrap_or_default();
            let date =
                parse_date(cell).ok_or_else(|| fail(line, heading(date_column), format!("`{cell}` is not a date")))?;
            if let Some(first) = seen.insert(date, line) {
                return Err(fail(line, heading(date_column), format!("{date} is already on line {first}")));
            }
            let values = columns
                .iter()
                .map(|&(i, _)| {
                    let cell = record.get(i).unwrap_or_default();
                    parse_count(cell).ok_or_else(|| fail(line, heading(i), format!("`{cell}` is not a count")))
                })
                .collect::<Result<Vec<i64>>>()?;
            rows.push(DashboardRow { line, date, values });
        }
        if rows.is_empty() {
            return Err(fail(1, None, "no data rows".into()));
        }
        rows.sort_by_key(|r| r.date);
        Ok(Dashboard { file: file.to_owned(), metrics: columns.into_iter().map(|(_, m)| m).collect(), rows })
    }
}

/// One likely cause of a difference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Cause {
    /// `missing_day`, `empty_drop`, `failed_file`, `quarantined_rows`, `anomaly`,
    /// `unknown_id`, `late_drop`, `duplicate` — or `carried_over`.
    pub cause: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub anomaly: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// For `carried_over`: the first day of the unchanged gap.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub since: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl Cause {
    fn new(cause: &'static str) -> Cause {
        Cause { cause, kind: None, anomaly: None, date: None, file: None, since: None, count: None, detail: None }
    }
}

/// One differing (date, metric).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DayDifference {
    pub date: NaiveDate,
    pub metric: &'static str,
    pub ours: i64,
    pub theirs: i64,
    pub difference: i64,
    pub causes: Vec<Cause>,
    pub subscriptions: Vec<String>,
}

/// What `churnlake reconcile` reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reconciliation {
    pub compared_days: usize,
    pub differing_days: usize,
    /// Only the differing pairs, by date then metric name.
    pub days: Vec<DayDifference>,
}

/// The words for a lake table in a sentence.
pub fn kind_words(kind: &str) -> &'static str {
    match kind {
        "subscriptions" => "subscription report",
        "cancellations" => "cancellation report",
        "subscriber_events" => "subscriber events file",
        _ => "drop",
    }
}

/// How likely a drop-level finding explains a difference, at equal distance (lower first).
fn priority(cause: &str) -> u8 {
    match cause {
        "missing_day" => 0,
        "empty_drop" => 1,
        "failed_file" => 2,
        "quarantined_rows" => 3,
        "anomaly" => 4,
        "unknown_id" => 5,
        "late_drop" => 6,
        _ => 7,
    }
}

fn cause_of(finding: &Finding) -> Cause {
    let file = finding.file.clone().unwrap_or_default();
    let kind = finding.kind.as_deref().map(kind_words).unwrap_or("drop");
    let day = finding.day().map(|d| d.to_string()).unwrap_or_default();
    let detail = match finding.check {
        "missing_day" => format!("the {kind} of {day} is missing"),
        "empty_drop" => format!("the {kind} of {day} ({file}) has no rows"),
        "failed_file" => {
            format!("{file} (the {kind} of {day}) failed: {}", finding.reason.clone().unwrap_or_default())
        }
        "quarantined_rows" => format!(
            "{} rows of {file} (the {kind} of {day}) are in the quarantine: {}",
            finding.rows.unwrap_or(0),
            finding.reason.clone().unwrap_or_default()
        ),
        "late_drop" => format!("{file} delivered the {kind} of {day} late"),
        _ => format!("{file} is a re-delivery of {}", finding.duplicate_of.clone().unwrap_or_default()),
    };
    Cause {
        kind: finding.kind.clone(),
        date: finding.day(),
        file: finding.file.clone(),
        count: finding.rows,
        detail: Some(detail),
        ..Cause::new(finding.check)
    }
}

pub(crate) fn reconcile(manifest: &Manifest, sources: &LakeSources, dashboard: &Dashboard) -> Result<Reconciliation> {
    let (first, last) = sources.range()?;
    for row in &dashboard.rows {
        if row.date < first || row.date > last {
            return Err(QueryError::Dashboard {
                file: dashboard.file.clone(),
                line: row.line,
                column: Some("date".into()),
                message: format!("{} is outside the lake's data ({first}..{last})", row.date),
            });
        }
    }
    let (Some(from), Some(to)) = (dashboard.rows.first().map(|r| r.date), dashboard.rows.last().map(|r| r.date)) else {
        return Ok(Reconciliation { compared_days: 0, differing_days: 0, days: Vec::new() });
    };
    let ours = ours(sources, from, to, &dashboard.metrics)?;
    let evidence = check::check(manifest, sources, check::Scope::Causes)?;

    // the gaps, and which of them change (need causes) or carry over
    struct Gap {
        date: NaiveDate,
        metric: &'static str,
        ours: i64,
        theirs: i64,
        since: Option<NaiveDate>,
    }
    let mut gaps = Vec::new();
    for (m, &metric) in dashboard.metrics.iter().enumerate() {
        let stock = metric.starts_with("active_");
        let mut previous: Option<(NaiveDate, i64, NaiveDate)> = None; // (date, gap, run start)
        for row in &dashboard.rows {
            let theirs = row.values[m];
            let mine = ours.get(&(row.date, metric)).copied().unwrap_or(0);
            let gap = mine - theirs;
            let carried = previous
                .filter(|(date, before, _)| stock && gap != 0 && *before == gap && date.succ_opt() == Some(row.date));
            let start = carried.map_or(row.date, |(_, _, start)| start);
            if gap != 0 {
                gaps.push(Gap { date: row.date, metric, ours: mine, theirs, since: carried.map(|_| start) });
            }
            previous = Some((row.date, gap, start));
        }
    }
    let changed_days: BTreeSet<NaiveDate> = gaps.iter().filter(|g| g.since.is_none()).map(|g| g.date).collect();
    let changed = changed_subscriptions(sources, &changed_days)?;
    let drops: Vec<&Finding> = evidence
        .report
        .findings
        .iter()
        .filter(|f| {
            matches!(
                f.check,
                "missing_day" | "empty_drop" | "failed_file" | "quarantined_rows" | "late_drop" | "duplicate"
            )
        })
        .collect();

    let mut days: Vec<DayDifference> = gaps
        .into_iter()
        .map(|gap| {
            let (causes, subscriptions) = match gap.since {
                Some(since) => (vec![Cause { since: Some(since), ..Cause::new("carried_over") }], Vec::new()),
                None => (
                    causes(gap.date, gap.metric, &drops, &evidence.anomalies),
                    changed.get(&gap.date).cloned().unwrap_or_default(),
                ),
            };
            DayDifference {
                date: gap.date,
                metric: gap.metric,
                ours: gap.ours,
                theirs: gap.theirs,
                difference: gap.ours - gap.theirs,
                causes,
                subscriptions,
            }
        })
        .collect();
    days.sort_by(|a, b| (a.date, a.metric).cmp(&(b.date, b.metric)));
    let differing_days = days.iter().map(|d| d.date).collect::<BTreeSet<_>>().len();
    Ok(Reconciliation { compared_days: dashboard.rows.len(), differing_days, days })
}

/// Our series on `from..=to`: (date, metric) → value.
fn ours(
    sources: &LakeSources,
    from: NaiveDate,
    to: NaiveDate,
    metrics: &[&'static str],
) -> Result<BTreeMap<(NaiveDate, &'static str), i64>> {
    let df = series::series(sources, Some(from), Some(to), None, Grain::Day)?;
    let dates = df.column("date").ctx("reading the series")?.date().ctx("reading the series")?.clone();
    let mut values = BTreeMap::new();
    for &metric in metrics {
        let column = df.column(metric).ctx("reading the series")?.cast(&DataType::Int64).ctx("reading the series")?;
        let column = column.i64().ctx("reading the series")?.clone();
        for i in 0..df.height() {
            values.insert((date_of(dates.phys.get(i)), metric), column.get(i).unwrap_or(0));
        }
    }
    Ok(values)
}

/// The likely causes of a gap that changes on `date`, most likely first: drop-level
/// findings on or before the day (nearest first), the anomalies and unknown ids of the day.
fn causes(date: NaiveDate, metric: &str, drops: &[&Finding], anomalies: &[AnomalyRow]) -> Vec<Cause> {
    // the report a metric's events come from: its findings rank first at equal distance
    let primary = |kind: Option<&str>| match metric.split('_').next() {
        Some("new") => kind == Some("subscriptions"),
        Some("cancelled") => kind == Some("cancellations"),
        Some("reactivated") => kind == Some("subscriber_events"),
        _ => true,
    };
    let mut ranked: Vec<(i64, u8, u8, Cause)> = Vec::new();
    for finding in drops {
        let Some(day) = finding.day().filter(|d| *d <= date) else { continue };
        let distance = (date - day).num_days();
        // the events file creates nobody: it cannot explain a count of new ones
        if metric.starts_with("new_") && finding.kind.as_deref() == Some("subscriber_events") {
            continue;
        }
        // quiet days have empty drops: one explains only a gap that changes on its own day
        if finding.check == "empty_drop" && distance > 0 {
            continue;
        }
        let relevance = u8::from(!primary(finding.kind.as_deref()));
        ranked.push((distance, relevance, priority(finding.check), cause_of(finding)));
    }
    let mut on_day: BTreeMap<&'static str, Vec<&AnomalyRow>> = BTreeMap::new();
    for row in anomalies.iter().filter(|r| r.effective_date.unwrap_or(r.date) == date) {
        on_day.entry(row.anomaly).or_default().push(row);
    }
    for (anomaly, rows) in on_day {
        let name = if anomaly == "unknown_id" { "unknown_id" } else { "anomaly" };
        let ids: Vec<&str> =
            rows.iter().filter_map(|r| r.subscription_id.as_deref().or(r.public_id.as_deref())).take(5).collect();
        let cause = Cause {
            anomaly: (name == "anomaly").then_some(anomaly),
            date: Some(date),
            count: Some(rows.len() as u64),
            detail: Some(format!("{} {} on {date} ({})", rows.len(), anomaly_words(anomaly), ids.join(", "))),
            ..Cause::new(name)
        };
        ranked.push((0, 0, priority(name), cause));
    }
    ranked.sort_by_key(|r| (r.0, r.1, r.2));
    ranked.into_iter().take(MAX_CAUSES).map(|(_, _, _, cause)| cause).collect()
}

/// Per day of `days`, the subscriptions created, cancelled or reactivated on it (in effect
/// that day), the first [`MAX_SUBSCRIPTIONS`] by id.
fn changed_subscriptions(
    sources: &LakeSources,
    days: &BTreeSet<NaiveDate>,
) -> Result<BTreeMap<NaiveDate, Vec<String>>> {
    if days.is_empty() {
        return Ok(BTreeMap::new());
    }
    let passes = Passes::plan(sources, Attributes::UserAnd(None), Lineage::Drop)?;
    let mut changed = Changed { days: days.iter().copied().collect(), found: BTreeMap::new() };
    passes.run(None, &mut [&mut changed])?;
    Ok(changed.found)
}

struct Changed {
    days: Vec<NaiveDate>,
    found: BTreeMap<NaiveDate, Vec<String>>,
}

impl Consumer for Changed {
    fn add(&mut self, life: &Lifecycle, _pass: u32) -> Result<()> {
        let days = DataFrame::new_infer_height(vec![Column::new("day".into(), self.days.clone())])
            .ctx("listing the differing days")?
            .lazy();
        let base = life.base.clone().select([col("sub_idx"), col(c::SUBSCRIPTION_ID), col("created_date")]);
        let created = base.clone().select([col(c::SUBSCRIPTION_ID), col("created_date").alias("day")]);
        let events = life
            .events
            .clone()
            .select([col("sub_idx"), col("own_date")])
            .join(base, [col("sub_idx")], [col("sub_idx")], JoinArgs::new(JoinType::Inner))
            .select([
                col(c::SUBSCRIPTION_ID),
                when(col("own_date").gt(col("created_date")))
                    .then(col("own_date"))
                    .otherwise(col("created_date"))
                    .alias("day"),
            ]);
        let df = concat([created, events], UnionArgs::default())
            .ctx("listing changed subscriptions")?
            .join(days, [col("day")], [col("day")], JoinArgs::new(JoinType::Semi))
            .unique(None, UniqueKeepStrategy::Any)
            .sort(["day", c::SUBSCRIPTION_ID], SortMultipleOptions::default())
            .collect()
            .ctx("listing changed subscriptions")?;
        let day = df.column("day").ctx("changed")?.date().ctx("changed")?.clone();
        let ids = df.column(c::SUBSCRIPTION_ID).ctx("changed")?.str().ctx("changed")?.clone();
        for i in 0..df.height() {
            let (Some(d), Some(id)) = (day.phys.get(i), ids.get(i)) else { continue };
            let list = self.found.entry(date_of(Some(d))).or_default();
            list.push(id.to_owned());
        }
        // across passes the ids come in pass order: keep the first ones by id
        for list in self.found.values_mut() {
            list.sort();
            list.truncate(MAX_SUBSCRIPTIONS);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dashboard_headings_map_to_series_columns() {
        for (heading, column) in [
            ("active_subscriptions", "active_subscriptions"),
            ("Active Subscriptions at Day's End", "active_subscriptions"),
            ("Active Subscription at Day’s End", "active_subscriptions"),
            ("Subscription Count", "active_subscriptions"),
            ("Active Subscribers at Day's End", "active_subscribers"),
            ("Subscription Cancels", "cancelled_subscriptions"),
            ("Subscriber Cancels", "cancelled_subscribers"),
            ("Canceled Subscriptions", "cancelled_subscriptions"),
            ("New Subscribers", "new_subscribers"),
            ("Reactivated Subscriptions", "reactivated_subscriptions"),
            ("Subscription Reactivations", "reactivated_subscriptions"),
        ] {
            assert_eq!(metric_of(heading), Some(column), "{heading}");
        }
        for heading in ["Revenue", "Subscriptions and Subscribers", "Active Subscription Revenue", "notes"] {
            assert_eq!(metric_of(heading), None, "{heading}");
        }
    }

    #[test]
    fn dashboard_dates_and_counts() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day);
        assert_eq!(parse_date("2023-01-27"), d(2023, 1, 27));
        assert_eq!(parse_date("01/27/2023"), d(2023, 1, 27));
        assert_eq!(parse_date("1/27/23"), d(2023, 1, 27));
        assert_eq!(parse_date("Jan 27, 2023"), d(2023, 1, 27));
        assert_eq!(parse_date("2023-01-27T00:00:00"), d(2023, 1, 27));
        assert_eq!(parse_date("2023-02-30"), None);
        assert_eq!(parse_count("15,349"), Some(15_349));
        assert_eq!(parse_count(" 591 "), Some(591));
        assert_eq!(parse_count("591.0"), Some(591));
        assert_eq!(parse_count("591.5"), None);
        assert_eq!(parse_count(""), None);
        assert_eq!(parse_count("n/a"), None);
    }

    #[test]
    fn a_bad_cell_names_its_line_and_column() {
        let text = "Date,Active Subscriptions at Day's End\n2023-01-01,10\n2023-01-02,ten\n";
        let error = Dashboard::parse("dash.csv", text.as_bytes()).expect_err("a bad count");
        let message = error.to_string();
        assert!(message.contains("dash.csv") && message.contains("line 3"), "{message}");
        assert!(message.contains("Active Subscriptions at Day's End") && message.contains("`ten`"), "{message}");
        let unknown = Dashboard::parse("dash.csv", b"date,revenue\n2023-01-01,10\n").expect_err("unknown column");
        assert!(unknown.to_string().contains("unknown column `revenue`"), "{unknown}");
        let ok = Dashboard::parse("dash.csv", "date,Subscription Cancels\n01/02/2023,\"1,204\"\n".as_bytes())
            .expect("a dashboard");
        assert_eq!(ok.metrics, ["cancelled_subscriptions"]);
        assert_eq!(ok.rows[0].values, [1204]);
    }
}
