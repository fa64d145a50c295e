//! `check`: everything that makes a lake's figures incomplete or doubtful (METRICS.md,
//! "Data checks"), each finding with its evidence — drop completeness per lifecycle
//! kind, failed files, quarantined rows, the lifecycle anomalies, and the disagreements
//! between the reports (code-5 events and cancellations, created dates, public ids).
//!
//! The manifest says what was delivered; the raw tables say what the rows' own dates
//! are (a late drop), which rows disagree, and which rows went to the quarantine.

use std::collections::{BTreeMap, BTreeSet};

use chrono::NaiveDate;
use churnlake_lake::{FileStatus, Manifest, ManifestEntry, ReportKind, columns as c};
use polars::prelude::*;
use serde::Serialize;

use crate::error::{Context, Result};
use crate::explain::date_of;
use crate::sources::LakeSources;

/// The lifecycle kinds whose drops must arrive every day.
pub const LIFECYCLE_KINDS: [ReportKind; 3] =
    [ReportKind::Subscriptions, ReportKind::Cancellations, ReportKind::SubscriberEvents];

/// How many examples a summarised finding carries.
const EXAMPLES: usize = 10;

/// How serious a finding is: `--fail-on` compares against it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Info,
    Warn,
    Error,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Info => "info",
            Level::Warn => "warn",
            Level::Error => "error",
        }
    }
}

/// One piece of evidence behind a summarised finding: a row of the lake.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Example {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subscription_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_subscription_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

impl Example {
    fn row(file: Option<&str>, line: Option<i64>) -> Example {
        Example {
            subscription_id: None,
            public_subscription_id: None,
            date: None,
            file: file.map(str::to_owned),
            line,
            detail: None,
        }
    }
}

/// One finding. `check` names are stable (README, "Data checks"); the other fields are
/// present when the check has them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub check: &'static str,
    pub level: Level,
    /// The lake table the finding is about (`subscriptions`, `cancellations`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// The lifecycle anomaly (`before_creation`, …) of an `anomaly` finding.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub anomaly: Option<&'static str>,
    /// The day a `missing_day` is missing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub date: Option<NaiveDate>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_date: Option<NaiveDate>,
    /// The day a late drop's rows belong to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub covers: Option<NaiveDate>,
    /// The copy of a re-delivered file that is in the lake.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duplicate_of: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub files: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Rows of the file the finding is about (late drops: of them, dated before the data date).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rows: Option<u64>,
    /// Lines (of `file`) the finding is about, the first few.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<i64>,
    /// How many cases a summarised finding stands for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub examples: Vec<Example>,
    /// One line of plain words (the table output; JSON carries the fields).
    #[serde(skip)]
    pub detail: String,
}

impl Finding {
    fn new(check: &'static str, level: Level, detail: String) -> Finding {
        Finding {
            check,
            level,
            kind: None,
            anomaly: None,
            date: None,
            file: None,
            data_date: None,
            covers: None,
            duplicate_of: None,
            files: Vec::new(),
            reason: None,
            rows: None,
            lines: Vec::new(),
            count: None,
            examples: Vec::new(),
            detail,
        }
    }

    fn of_file(check: &'static str, level: Level, entry: &ManifestEntry, detail: String) -> Finding {
        Finding {
            kind: Some(entry.kind.as_str().to_owned()),
            file: Some(entry.source_name.clone()),
            data_date: Some(entry.data_date),
            ..Finding::new(check, level, detail)
        }
    }

    /// The day the finding is about, for ranking causes (`reconcile`): the missing or
    /// covered day, or the file's data date.
    pub fn day(&self) -> Option<NaiveDate> {
        self.date.or(self.covers).or(self.data_date)
    }
}

/// What `churnlake check` reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckReport {
    pub lake: String,
    pub first_data_date: Option<NaiveDate>,
    pub last_data_date: Option<NaiveDate>,
    /// The last day up to which no lifecycle kind has a missing day (null when the
    /// lake's first day already is one).
    pub complete_through: Option<NaiveDate>,
    pub findings: Vec<Finding>,
}

impl CheckReport {
    /// The most serious level among the findings.
    pub fn worst(&self) -> Option<Level> {
        self.findings.iter().map(|f| f.level).max()
    }
}

/// What a result was computed from: the drops used and how complete they are. Printed
/// under every table, written in JSON objects and as Parquet key-value metadata.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LakeState {
    /// The knowledge date asked for (`--as-known-on`), if any.
    pub known_on: Option<NaiveDate>,
    /// Drops whose rows are in the figures (ingested files, quarantined rows aside).
    pub drops: usize,
    pub newest_stamp: Option<chrono::NaiveDateTime>,
    pub complete_through: Option<NaiveDate>,
}

/// `complete_through` of the lake `sources` reads, with `manifest` its manifest: the drops'
/// own dates are read only when the manifest shows a missing day (a late drop may cover it).
pub(crate) fn complete_through(manifest: &Manifest, sources: &LakeSources) -> Result<Option<NaiveDate>> {
    let range = sources.range().ok();
    let quick = completeness(manifest, range, &Late::new(), &mut Vec::new());
    if quick == range.map(|r| r.1) {
        return Ok(quick);
    }
    Ok(completeness(manifest, range, &late_drops(sources)?, &mut Vec::new()))
}

/// One lifecycle anomaly, kept for `reconcile` (which ranks those on a differing day).
#[derive(Debug, Clone)]
pub(crate) struct AnomalyRow {
    pub anomaly: &'static str,
    pub subscription_id: Option<String>,
    pub public_id: Option<String>,
    pub date: NaiveDate,
    pub effective_date: Option<NaiveDate>,
    pub file: String,
    pub line: i64,
}

/// The check's findings and the rows behind the anomaly findings.
pub(crate) struct Evidence {
    pub report: CheckReport,
    pub anomalies: Vec<AnomalyRow>,
}

/// The order findings are listed in (most basic first).
const ORDER: [&str; 13] = [
    "missing_day",
    "failed_file",
    "late_drop",
    "several_files",
    "empty_drop",
    "duplicate",
    "quarantined_rows",
    "anomaly",
    "event_without_cancellation",
    "cancellation_without_event",
    "conflicting_created_date",
    "missing_user_id",
    "public_id_conflict",
];

/// Which findings a caller needs: `reconcile` ranks causes from the drop-level findings
/// and the anomalies only, so it skips the report disagreements (a full read of the reports).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scope {
    All,
    Causes,
}

pub(crate) fn check(manifest: &Manifest, sources: &LakeSources, scope: Scope) -> Result<Evidence> {
    let mut findings = Vec::new();
    let range = sources.range().ok();
    let late = late_drops(sources)?;
    let complete_through = completeness(manifest, range, &late, &mut findings);
    files(manifest, &late, &mut findings);
    quarantined(sources, &mut findings)?;
    let anomalies = match range {
        Some(_) => anomaly_rows(sources)?,
        None => Vec::new(),
    };
    summarise_anomalies(&anomalies, &mut findings);
    if range.is_some() && scope == Scope::All {
        disagreements(sources, &mut findings)?;
    }
    findings.sort_by_key(|f| {
        (ORDER.iter().position(|c| *c == f.check).unwrap_or(ORDER.len()), f.kind.clone(), f.day(), f.file.clone())
    });
    let report = CheckReport {
        lake: String::new(),
        first_data_date: range.map(|r| r.0),
        last_data_date: range.map(|r| r.1),
        complete_through,
        findings,
    };
    Ok(Evidence { report, anomalies })
}

/// A late drop: (kind, file name, data date) → the day most of its rows belong to and
/// how many of its rows are dated before its data date.
type Late = BTreeMap<(ReportKind, String, NaiveDate), (NaiveDate, u64)>;

/// The column whose date says which day a row of `kind` belongs to.
fn own_date(kind: ReportKind) -> &'static str {
    match kind {
        ReportKind::Cancellations => c::CANCEL_DATE,
        ReportKind::SubscriberEvents => c::EVENT_DATE,
        _ => c::CREATE_DATE,
    }
}

/// A file's rows: all of them, those dated before its data date, and the earlier day
/// with the most rows (its count, the day).
type RowDates = (u64, u64, Option<(u64, NaiveDate)>);

/// The lifecycle drops most of whose rows are dated before their data date.
fn late_drops(sources: &LakeSources) -> Result<Late> {
    let mut late = Late::new();
    for kind in LIFECYCLE_KINDS {
        let own = own_date(kind);
        let wanted = [(c::SOURCE_FILE, DataType::String), (c::DATA_DATE, DataType::Date), (own, DataType::Date)];
        let counts = sources
            .scan(kind.as_str(), &wanted)?
            .group_by([col(c::SOURCE_FILE), col(c::DATA_DATE), col(own)])
            .agg([len().alias("rows")])
            .sort([c::SOURCE_FILE, c::DATA_DATE, own], SortMultipleOptions::default())
            .collect()
            .ctx("dating the drops' rows")?;
        let files = counts.column(c::SOURCE_FILE).ctx("late drops")?.str().ctx("late drops")?.clone();
        let data_dates = counts.column(c::DATA_DATE).ctx("late drops")?.date().ctx("late drops")?.clone();
        let owns = counts.column(own).ctx("late drops")?.date().ctx("late drops")?.clone();
        let rows = counts.column("rows").ctx("late drops")?.cast(&DataType::UInt64).ctx("late drops")?;
        let rows = rows.u64().ctx("late drops")?.clone();
        // per file: all rows, rows dated earlier, and the earlier day with the most rows
        let mut per_file: BTreeMap<(String, NaiveDate), RowDates> = BTreeMap::new();
        for i in 0..counts.height() {
            let (Some(file), Some(data_date)) = (files.get(i), data_dates.phys.get(i)) else { continue };
            let data_date = date_of(Some(data_date));
            let n = rows.get(i).unwrap_or(0);
            let stats = per_file.entry((file.to_owned(), data_date)).or_default();
            stats.0 += n;
            if let Some(day) = owns.phys.get(i).map(|d| date_of(Some(d))).filter(|d| *d < data_date) {
                stats.1 += n;
                // ties go to the later day (sorted by date: a later day replaces an equal count)
                if stats.2.is_none_or(|(best, _)| n >= best) {
                    stats.2 = Some((n, day));
                }
            }
        }
        for ((file, data_date), (all, earlier, best)) in per_file {
            if let Some((_, covers)) = best.filter(|_| earlier * 2 > all) {
                late.insert((kind, file, data_date), (covers, earlier));
            }
        }
    }
    Ok(late)
}

/// Missing days and late drops per lifecycle kind; returns `complete_through`.
fn completeness(
    manifest: &Manifest,
    range: Option<(NaiveDate, NaiveDate)>,
    late: &Late,
    findings: &mut Vec<Finding>,
) -> Option<NaiveDate> {
    let (first, last) = range?;
    let mut first_missing: Option<NaiveDate> = None;
    for kind in LIFECYCLE_KINDS {
        let mut delivered: BTreeSet<NaiveDate> = BTreeSet::new();
        for entry in manifest.entries.iter().filter(|e| e.kind == kind && e.status != FileStatus::Failed) {
            // a drop is known for its data date; a late one also delivers the day it covers
            delivered.insert(entry.data_date);
            // a full export holds every row so far: old dates are its nature, not lateness
            let full = entry.delivery.as_deref() == Some("full");
            match late.get(&(kind, entry.source_name.clone(), entry.data_date)) {
                Some(&(covers, earlier)) if entry.status == FileStatus::Ingested && !full => {
                    delivered.insert(covers);
                    let mut finding = Finding::of_file(
                        "late_drop",
                        Level::Warn,
                        entry,
                        format!(
                            "{} of its {} rows are dated before its data date {}: it covers {covers}, \
                             delivered late",
                            earlier, entry.rows_written, entry.data_date
                        ),
                    );
                    finding.covers = Some(covers);
                    findings.push(finding);
                }
                _ => {}
            }
        }
        let mut day = first;
        while day <= last {
            if !delivered.contains(&day) {
                let mut finding = Finding::new(
                    "missing_day",
                    Level::Error,
                    format!("no {} drop for {day} (figures from {day} on lack its rows)", kind.as_str()),
                );
                finding.kind = Some(kind.as_str().to_owned());
                finding.date = Some(day);
                findings.push(finding);
                first_missing = Some(first_missing.map_or(day, |m: NaiveDate| m.min(day)));
            }
            let Some(next) = day.succ_opt() else { break };
            day = next;
        }
    }
    match first_missing {
        None => Some(last),
        Some(day) => day.pred_opt().filter(|d| *d >= first),
    }
}

/// Per-file findings from the manifest: failed files, several files of one kind for one
/// day, empty lifecycle drops, re-deliveries.
fn files(manifest: &Manifest, late: &Late, findings: &mut Vec<Finding>) {
    let names: BTreeMap<&str, &str> =
        manifest.entries.iter().map(|e| (e.entry_id.as_str(), e.source_name.as_str())).collect();
    let mut per_day: BTreeMap<(ReportKind, NaiveDate), Vec<&ManifestEntry>> = BTreeMap::new();
    for entry in &manifest.entries {
        let lifecycle = LIFECYCLE_KINDS.contains(&entry.kind);
        match entry.status {
            FileStatus::Failed => {
                let error = entry.error.clone().unwrap_or_else(|| "unreadable".into());
                let mut finding = Finding::of_file(
                    "failed_file",
                    Level::Error,
                    entry,
                    format!("not in the lake ({} rows quarantined): {error}", entry.rows_quarantined),
                );
                finding.reason = Some(error);
                findings.push(finding);
            }
            FileStatus::Duplicate => {
                let kept = entry.duplicate_of.as_deref().map(|id| names.get(id).copied().unwrap_or(id).to_owned());
                let mut finding = Finding::of_file(
                    "duplicate",
                    Level::Info,
                    entry,
                    format!(
                        "the same content as {}, which is the copy in the lake: nothing written",
                        kept.as_deref().unwrap_or("an earlier file")
                    ),
                );
                finding.duplicate_of = kept;
                finding.data_date = None;
                findings.push(finding);
            }
            FileStatus::Ingested if lifecycle => {
                if entry.rows_read == 0 {
                    findings.push(Finding::of_file(
                        "empty_drop",
                        Level::Info,
                        entry,
                        "no data rows (zero bytes or a header only): the day counts as delivered".into(),
                    ));
                }
                let full = entry.delivery.as_deref() == Some("full");
                if full || !late.contains_key(&(entry.kind, entry.source_name.clone(), entry.data_date)) {
                    per_day.entry((entry.kind, entry.data_date)).or_default().push(entry);
                }
            }
            FileStatus::Ingested => {}
        }
    }
    for ((kind, data_date), entries) in per_day {
        if entries.len() < 2 {
            continue;
        }
        let names: Vec<String> = entries.iter().map(|e| e.source_name.clone()).collect();
        let mut finding = Finding::new(
            "several_files",
            Level::Warn,
            format!("{} different {} files for {data_date}: all are in the lake", names.len(), kind.as_str()),
        );
        finding.kind = Some(kind.as_str().to_owned());
        finding.data_date = Some(data_date);
        finding.files = names;
        findings.push(finding);
    }
}

/// Quarantined rows per file and reason.
fn quarantined(sources: &LakeSources, findings: &mut Vec<Finding>) -> Result<()> {
    let wanted = [
        (c::SOURCE_FILE, DataType::String),
        (c::DATA_DATE, DataType::Date),
        (c::REPORT_KIND, DataType::String),
        (c::REASON, DataType::String),
        (c::SOURCE_LINE, DataType::Int64),
    ];
    let groups = sources
        .scan("quarantine", &wanted)?
        .group_by([col(c::SOURCE_FILE), col(c::DATA_DATE), col(c::REPORT_KIND), col(c::REASON)])
        .agg([len().alias("rows"), col(c::SOURCE_LINE).sort(SortOptions::default()).head(Some(EXAMPLES))])
        .sort([c::SOURCE_FILE, c::DATA_DATE, c::REASON], SortMultipleOptions::default())
        .collect()
        .ctx("summarising the quarantine")?;
    let files = groups.column(c::SOURCE_FILE).ctx("quarantine")?.str().ctx("quarantine")?.clone();
    let dates = groups.column(c::DATA_DATE).ctx("quarantine")?.date().ctx("quarantine")?.clone();
    let kinds = groups.column(c::REPORT_KIND).ctx("quarantine")?.str().ctx("quarantine")?.clone();
    let reasons = groups.column(c::REASON).ctx("quarantine")?.str().ctx("quarantine")?.clone();
    let rows = groups.column("rows").ctx("quarantine")?.cast(&DataType::UInt64).ctx("quarantine")?;
    let rows = rows.u64().ctx("quarantine")?.clone();
    let lines = groups.column(c::SOURCE_LINE).ctx("quarantine")?.list().ctx("quarantine")?.clone();
    for i in 0..groups.height() {
        let n = rows.get(i).unwrap_or(0);
        let file = files.get(i).unwrap_or_default().to_owned();
        let reason = reasons.get(i).unwrap_or_default().to_owned();
        let mut finding = Finding::new(
            "quarantined_rows",
            Level::Warn,
            format!("{n} rows of {file} are in the quarantine, not in the figures: {reason}"),
        );
        finding.kind = kinds.get(i).map(str::to_owned);
        finding.file = Some(file);
        finding.data_date = dates.phys.get(i).map(|d| date_of(Some(d)));
        finding.reason = Some(reason);
        finding.rows = Some(n);
        if let Some(list) = lines.get_as_series(i) {
            finding.lines = list.i64().map(|l| l.into_no_null_iter().collect()).unwrap_or_default();
        }
        findings.push(finding);
    }
    Ok(())
}

/// Every lifecycle anomaly of the lake (what `churnlake anomalies` lists).
fn anomaly_rows(sources: &LakeSources) -> Result<Vec<AnomalyRow>> {
    let df = crate::anomalies::anomalies(sources, None)?;
    let anomaly = df.column("anomaly").ctx("anomalies")?.str().ctx("anomalies")?.clone();
    let ids = df.column(c::SUBSCRIPTION_ID).ctx("anomalies")?.str().ctx("anomalies")?.clone();
    let public = df.column(c::PUBLIC_SUBSCRIPTION_ID).ctx("anomalies")?.str().ctx("anomalies")?.clone();
    let dates = df.column("date").ctx("anomalies")?.date().ctx("anomalies")?.clone();
    let effective = df.column("effective_date").ctx("anomalies")?.date().ctx("anomalies")?.clone();
    let files = df.column(c::SOURCE_FILE).ctx("anomalies")?.str().ctx("anomalies")?.clone();
    let lines = df.column(c::SOURCE_LINE).ctx("anomalies")?.i64().ctx("anomalies")?.clone();
    let known = ["before_creation", "reactivation_of_active", "cancellation_of_inactive", "after_last_data_date"];
    Ok((0..df.height())
        .map(|i| AnomalyRow {
            anomaly: anomaly.get(i).and_then(|a| known.iter().find(|k| **k == a).copied()).unwrap_or("unknown_id"),
            subscription_id: ids.get(i).map(str::to_owned),
            public_id: public.get(i).map(str::to_owned),
            date: date_of(dates.phys.get(i)),
            effective_date: effective.phys.get(i).map(|d| date_of(Some(d))),
            file: files.get(i).unwrap_or_default().to_owned(),
            line: lines.get(i).unwrap_or_default(),
        })
        .collect())
}

/// Plain words for each anomaly kind.
pub(crate) fn anomaly_words(anomaly: &str) -> &'static str {
    match anomaly {
        "before_creation" => "events dated before their subscription's creation (applied on the creation date)",
        "reactivation_of_active" => "reactivations of an active subscription (no change)",
        "cancellation_of_inactive" => {
            "cancellations of an inactive subscription (no change; a reactivation may be missing)"
        }
        "after_last_data_date" => "events dated after the lake's last data date (kept, not in effect yet)",
        _ => "reactivation events whose public id no report row carries (kept aside, changing nothing)",
    }
}

fn summarise_anomalies(rows: &[AnomalyRow], findings: &mut Vec<Finding>) {
    let mut by_kind: BTreeMap<&'static str, Vec<&AnomalyRow>> = BTreeMap::new();
    for row in rows {
        by_kind.entry(row.anomaly).or_default().push(row);
    }
    for (anomaly, rows) in by_kind {
        let level = if anomaly == "after_last_data_date" { Level::Info } else { Level::Warn };
        let mut finding = Finding::new("anomaly", level, format!("{} {}", rows.len(), anomaly_words(anomaly)));
        finding.anomaly = Some(anomaly);
        finding.count = Some(rows.len() as u64);
        finding.examples = rows
            .iter()
            .take(EXAMPLES)
            .map(|r| Example {
                subscription_id: r.subscription_id.clone(),
                public_subscription_id: r.public_id.clone(),
                date: Some(r.date),
                ..Example::row(Some(&r.file), Some(r.line))
            })
            .collect();
        findings.push(finding);
    }
}

/// Report rows of both reports with the columns the disagreement checks read.
fn report_rows(sources: &LakeSources) -> Result<LazyFrame> {
    let wanted = [
        (c::SUBSCRIPTION_ID, DataType::String),
        (c::PUBLIC_SUBSCRIPTION_ID, DataType::String),
        (c::USER_ID, DataType::String),
        (c::CREATE_DATE, DataType::Date),
        (c::CANCEL_DATE, DataType::Date),
        (c::SOURCE_FILE, DataType::String),
        (c::SOURCE_LINE, DataType::Int64),
    ];
    let subs =
        sources.scan(ReportKind::Subscriptions.as_str(), &wanted)?.with_column(lit("subscriptions").alias("from"));
    let cancels =
        sources.scan(ReportKind::Cancellations.as_str(), &wanted)?.with_column(lit("cancellations").alias("from"));
    concat([subs, cancels], UnionArgs::default()).ctx("reading the reports")
}

/// Code-5 events against cancellations, conflicting created dates, subscriptions with no
/// user id, public ids with two subscription ids.
fn disagreements(sources: &LakeSources, findings: &mut Vec<Finding>) -> Result<()> {
    // read once: the checks below each query the same rows
    let reports = report_rows(sources)?.collect().ctx("reading the reports")?.lazy();
    let mapping = reports
        .clone()
        .filter(col(c::PUBLIC_SUBSCRIPTION_ID).is_not_null().and(col(c::SUBSCRIPTION_ID).is_not_null()))
        .select([col(c::PUBLIC_SUBSCRIPTION_ID), col(c::SUBSCRIPTION_ID)])
        .unique(None, UniqueKeepStrategy::Any)
        .collect()
        .ctx("mapping public ids")?
        .lazy();

    // public ids seen with two subscription ids
    let conflicts = mapping
        .clone()
        .group_by([col(c::PUBLIC_SUBSCRIPTION_ID)])
        .agg([col(c::SUBSCRIPTION_ID).sort(SortOptions::default()).alias("ids")])
        .filter(col("ids").list().len().gt(lit(1)))
        .sort([c::PUBLIC_SUBSCRIPTION_ID], SortMultipleOptions::default())
        .collect()
        .ctx("finding public ids with two subscription ids")?;
    if conflicts.height() > 0 {
        let public = conflicts.column(c::PUBLIC_SUBSCRIPTION_ID).ctx("public ids")?.str().ctx("public ids")?.clone();
        let ids = conflicts.column("ids").ctx("public ids")?.list().ctx("public ids")?.clone();
        let examples = (0..conflicts.height().min(EXAMPLES))
            .map(|i| {
                let subs: Vec<String> = ids
                    .get_as_series(i)
                    .and_then(|s| s.str().ok().map(|s| s.iter().flatten().map(str::to_owned).collect()))
                    .unwrap_or_default();
                Example {
                    public_subscription_id: public.get(i).map(str::to_owned),
                    detail: Some(format!("subscription ids {}", subs.join(", "))),
                    ..Example::row(None, None)
                }
            })
            .collect();
        findings.push(summary(
            "public_id_conflict",
            conflicts.height(),
            examples,
            "public ids carried by report rows of two or more subscription ids (events for them are ambiguous)",
        ));
    }

    // code-5 events, with the subscription their public id maps to
    let code5 = crate::anomalies::events_with_code(sources, 5)?
        .join(
            mapping,
            [col(c::PUBLIC_SUBSCRIPTION_ID)],
            [col(c::PUBLIC_SUBSCRIPTION_ID)],
            JoinArgs::new(JoinType::Left),
        )
        .collect()
        .ctx("reading code-5 events")?
        .lazy();
    let cancels = reports
        .clone()
        .filter(col(c::CANCEL_DATE).is_not_null().and(col(c::SUBSCRIPTION_ID).is_not_null()))
        .group_by([col(c::SUBSCRIPTION_ID), col(c::CANCEL_DATE)])
        .agg([col(c::SOURCE_FILE).first(), col(c::SOURCE_LINE).first()])
        .collect()
        .ctx("reading cancellations")?
        .lazy();
    let unmatched_events = code5
        .clone()
        .join(
            cancels.clone(),
            [col(c::SUBSCRIPTION_ID), col(c::EVENT_DATE)],
            [col(c::SUBSCRIPTION_ID), col(c::CANCEL_DATE)],
            JoinArgs::new(JoinType::Anti),
        )
        .sort([c::EVENT_DATE, c::SOURCE_FILE, c::SOURCE_LINE], SortMultipleOptions::default())
        .collect()
        .ctx("matching code-5 events to cancellations")?;
    if unmatched_events.height() > 0 {
        let examples = examples_of(&unmatched_events, c::EVENT_DATE)?;
        findings.push(summary(
            "event_without_cancellation",
            unmatched_events.height(),
            examples,
            "code-5 (subscription cancelled) events with no cancellation of that subscription on that date \
             in the reports (code 5 is not a cancel source: the figures follow the reports)",
        ));
    }
    // cancellations of subscriptions whose code-5 events are delivered, without one that day
    let with_events = code5.clone().filter(col(c::SUBSCRIPTION_ID).is_not_null()).select([col(c::SUBSCRIPTION_ID)]);
    let unmatched_cancels = cancels
        .join(with_events, [col(c::SUBSCRIPTION_ID)], [col(c::SUBSCRIPTION_ID)], JoinArgs::new(JoinType::Semi))
        .join(
            code5.filter(col(c::SUBSCRIPTION_ID).is_not_null()),
            [col(c::SUBSCRIPTION_ID), col(c::CANCEL_DATE)],
            [col(c::SUBSCRIPTION_ID), col(c::EVENT_DATE)],
            JoinArgs::new(JoinType::Anti),
        )
        .sort([c::CANCEL_DATE, c::SUBSCRIPTION_ID], SortMultipleOptions::default())
        .collect()
        .ctx("matching cancellations to code-5 events")?;
    if unmatched_cancels.height() > 0 {
        let examples = examples_of(&unmatched_cancels, c::CANCEL_DATE)?;
        findings.push(summary(
            "cancellation_without_event",
            unmatched_cancels.height(),
            examples,
            "cancellations with no code-5 event that day, for subscriptions whose code-5 events are delivered",
        ));
    }

    // conflicting created dates: different Create Dates among a subscription's report rows
    let created = reports
        .clone()
        .filter(col(c::CREATE_DATE).is_not_null().and(col(c::SUBSCRIPTION_ID).is_not_null()))
        .group_by([col(c::SUBSCRIPTION_ID), col("from"), col(c::CREATE_DATE)])
        .agg([col(c::SOURCE_FILE).first(), col(c::SOURCE_LINE).first()])
        .sort([c::SUBSCRIPTION_ID, c::CREATE_DATE, "from"], SortMultipleOptions::default())
        .collect()
        .ctx("comparing created dates")?;
    let ids = created.column(c::SUBSCRIPTION_ID).ctx("created dates")?.str().ctx("created dates")?.clone();
    let from = created.column("from").ctx("created dates")?.str().ctx("created dates")?.clone();
    let dates = created.column(c::CREATE_DATE).ctx("created dates")?.date().ctx("created dates")?.clone();
    let files = created.column(c::SOURCE_FILE).ctx("created dates")?.str().ctx("created dates")?.clone();
    let lines = created.column(c::SOURCE_LINE).ctx("created dates")?.i64().ctx("created dates")?.clone();
    let mut per_sub: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
    for i in 0..created.height() {
        if let Some(id) = ids.get(i) {
            per_sub.entry(id).or_default().push(i);
        }
    }
    let conflicting: Vec<(&str, Vec<usize>)> = per_sub
        .into_iter()
        .filter(|(_, rows)| {
            let distinct: BTreeSet<Option<i32>> = rows.iter().map(|&i| dates.phys.get(i)).collect();
            distinct.len() > 1
        })
        .collect();
    if !conflicting.is_empty() {
        let examples = conflicting
            .iter()
            .take(EXAMPLES)
            .map(|(id, rows)| {
                let words: Vec<String> = rows
                    .iter()
                    .map(|&i| {
                        format!(
                            "{} in the {} report ({}:{})",
                            date_of(dates.phys.get(i)),
                            from.get(i).unwrap_or_default().trim_end_matches('s'),
                            files.get(i).unwrap_or_default(),
                            lines.get(i).unwrap_or_default()
                        )
                    })
                    .collect();
                Example {
                    subscription_id: Some((*id).to_owned()),
                    detail: Some(words.join("; ")),
                    ..Example::row(None, None)
                }
            })
            .collect();
        findings.push(summary(
            "conflicting_created_date",
            conflicting.len(),
            examples,
            "subscriptions whose report rows give different Create Dates (the earliest subscription-report \
             date is the creation)",
        ));
    }

    // subscriptions no report row gives a user id
    let no_user = reports
        .group_by([col(c::SUBSCRIPTION_ID)])
        .agg([
            col(c::USER_ID).is_not_null().any(true).alias("has_user"),
            col(c::SOURCE_FILE).first(),
            col(c::SOURCE_LINE).first(),
        ])
        .filter(col("has_user").not().and(col(c::SUBSCRIPTION_ID).is_not_null()))
        .sort([c::SUBSCRIPTION_ID], SortMultipleOptions::default())
        .collect()
        .ctx("finding subscriptions without a user id")?;
    if no_user.height() > 0 {
        let examples = examples_of(&no_user, "")?;
        findings.push(summary(
            "missing_user_id",
            no_user.height(),
            examples,
            "subscriptions with no user id in any report row (counted as subscriptions, as no subscriber)",
        ));
    }
    Ok(())
}

fn summary(check: &'static str, count: usize, examples: Vec<Example>, words: &str) -> Finding {
    let mut finding = Finding::new(check, Level::Warn, format!("{count} {words}"));
    finding.count = Some(count as u64);
    finding.examples = examples;
    finding
}

/// The first rows of `df` as examples: subscription and public id, `date_column` (when
/// not empty), file and line.
fn examples_of(df: &DataFrame, date_column: &str) -> Result<Vec<Example>> {
    let text = |name: &str| -> Result<Option<StringChunked>> {
        Ok(match df.column(name) {
            Ok(column) => Some(column.str().ctx("examples")?.clone()),
            Err(_) => None,
        })
    };
    let ids = text(c::SUBSCRIPTION_ID)?;
    let public = text(c::PUBLIC_SUBSCRIPTION_ID)?;
    let files = text(c::SOURCE_FILE)?;
    let lines = df.column(c::SOURCE_LINE).ok().map(|l| l.i64().cloned()).transpose().ctx("examples")?;
    let dates = match date_column {
        "" => None,
        name => Some(df.column(name).ctx("examples")?.date().ctx("examples")?.clone()),
    };
    Ok((0..df.height().min(EXAMPLES))
        .map(|i| Example {
            subscription_id: ids.as_ref().and_then(|s| s.get(i)).map(str::to_owned),
            public_subscription_id: public.as_ref().and_then(|s| s.get(i)).map(str::to_owned),
            date: dates.as_ref().and_then(|d| d.phys.get(i)).map(|d| date_of(Some(d))),
            ..Example::row(files.as_ref().and_then(|s| s.get(i)), lines.as_ref().and_then(|l| l.get(i)))
        })
        .collect())
}
