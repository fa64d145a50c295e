//! What an ingest is told: which names are which reports, how stamps map to data dates,
//! how much to do at once, and the test hook that crashes it on purpose.
//!
//! Options arrive resolved (the CLI merges flags, config file and environment); nothing
//! here reads the environment.
//!
//! In the chain: read by [`crate::run`] and [`crate::classify`]; imports only the error type.

use std::str::FromStr;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use churnlake_lake::ReportKind;

use crate::{IngestError, PiiOptions};

/// Settings of one ingest run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngestOptions {
    /// File name patterns, tried in order: the first match decides the kind.
    pub patterns: Vec<NamePattern>,
    /// Data date = stamp date − this many days.
    pub data_date_offset_days: i64,
    /// Files read and parsed at once (memory ≈ the largest file × this).
    pub parallelism: usize,
    /// Classify, decode and type every file and report what would happen; write nothing,
    /// take no lock.
    pub dry_run: bool,
    /// Stamps dated before this are rejected (default 2000-01-01).
    pub earliest_stamp: NaiveDate,
    /// Stamps dated after this are rejected (default: a year from today).
    pub latest_stamp: NaiveDate,
    /// Acknowledge the failed files and quarantined rows the lake holds when the run starts
    /// (`--accept-quarantine`): they no longer make the run report a data problem.
    pub accept_quarantine: bool,
    /// What is written for personal data (email addresses, names, merchant user ids when
    /// configured): kept, hashed with a key, or dropped.
    pub pii: PiiOptions,
    /// Re-ingest, under `pii`, the lake's files written under another policy or key (their
    /// sources must be among the run's); without it such a run is refused.
    pub rewrite_pii: bool,
    /// Test hook: abort the process at this point (crash-recovery tests).
    pub crash_at: Option<CrashPoint>,
    /// How long to wait for another writer's lock on the lake before failing (zero: fail
    /// at once).
    pub lock_wait: std::time::Duration,
    /// Options for object-store sources (`s3://`, `gs://`, `az://`): credentials, endpoint,
    /// region, as `churnlake_lake::Location::open` takes them (the lake's are the same).
    pub store_options: Vec<(String, String)>,
}

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions {
            patterns: NamePattern::defaults(),
            data_date_offset_days: 1,
            parallelism: std::thread::available_parallelism().map_or(1, usize::from),
            dry_run: false,
            earliest_stamp: DEFAULT_EARLIEST_STAMP,
            latest_stamp: default_latest_stamp(),
            accept_quarantine: false,
            pii: PiiOptions::default(),
            rewrite_pii: false,
            crash_at: None,
            lock_wait: std::time::Duration::ZERO,
            store_options: Vec::new(),
        }
    }
}

/// The earliest plausible stamp date by default.
pub const DEFAULT_EARLIEST_STAMP: NaiveDate = match NaiveDate::from_ymd_opt(2000, 1, 1) {
    Some(date) => date,
    None => NaiveDate::MIN,
};

/// A year from today: the latest plausible stamp date by default.
pub fn default_latest_stamp() -> NaiveDate {
    let today = chrono::Utc::now().date_naive();
    today.checked_add_days(chrono::Days::new(366)).unwrap_or(today)
}

/// A file name pattern: a regex (matched case-insensitively against the file's name, the
/// last path segment) with a named group `stamp`. Without `stamp_format` the stamp is
/// `MMDDYYYYHHMMSS`, or `YYYYMMDD` optionally followed by `_delta` / `_full`; with it, the
/// stamp is read with that chrono format (e.g. `%Y%m%d%H%M%S`; a trailing `_delta` /
/// `_full` is still the delivery).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NamePattern {
    pub kind: ReportKind,
    pub regex: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stamp_format: Option<String>,
}

impl NamePattern {
    /// The names of FORMATS.md. More specific patterns come first (`_crm_subscription_`
    /// before `_subscription_`), since the first match wins.
    pub fn defaults() -> Vec<NamePattern> {
        let pattern = |kind, regex: &str| NamePattern { kind, regex: regex.to_owned(), stamp_format: None };
        vec![
            pattern(
                ReportKind::CrmSubscriptions,
                r"^(?:.+_)?crm_subscription_(?P<stamp>\d{14}|\d{8}(?:_delta|_full)?)(?:\.csv)?$",
            ),
            pattern(
                ReportKind::Subscriptions,
                r"^(?:SubscriptionCSV|.+_subscription)_(?P<stamp>\d{14}|\d{8}(?:_delta|_full)?)(?:\.csv)?$",
            ),
            pattern(
                ReportKind::Cancellations,
                r"^(?:SubscriptionsCancelledCSV|.+_cancelled_subscriptions)_(?P<stamp>\d{14}|\d{8}(?:_delta|_full)?)(?:\.csv)?$",
            ),
            pattern(
                ReportKind::SubscriberEvents,
                r"^(?:.+_)?crm_subscriber_events_(?P<stamp>\d{14}|\d{8}(?:_delta|_full)?)(?:\.csv)?$",
            ),
            pattern(ReportKind::Orders, r"^.+_orders_(?P<stamp>\d{14}|\d{8}(?:_delta|_full)?)(?:\.csv)?$"),
            pattern(ReportKind::Inventory, r"^.+_Inventory_Report_(?P<stamp>\d{14}|\d{8}(?:_delta|_full)?)(?:\.csv)?$"),
        ]
    }
}

/// Where [`CrashPoint`] aborts, relative to one file's writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrashStage {
    /// The file's Parquet outputs are in `_staging/`, none published.
    AfterStaging,
    /// The file's outputs are published; its manifest entry is not written.
    AfterPublish,
    /// A manifest entry is written: the file's own, or one rewritten when the file, an
    /// earlier copy of recorded content, takes over from the recorded copy.
    AfterManifest,
}

impl CrashStage {
    fn as_str(self) -> &'static str {
        match self {
            CrashStage::AfterStaging => "after-staging",
            CrashStage::AfterPublish => "after-publish",
            CrashStage::AfterManifest => "after-manifest",
        }
    }
}

impl FromStr for CrashStage {
    type Err = IngestError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        [CrashStage::AfterStaging, CrashStage::AfterPublish, CrashStage::AfterManifest]
            .into_iter()
            .find(|stage| stage.as_str() == text)
            .ok_or_else(|| IngestError::CrashPoint {
                value: text.to_owned(),
                reason: "expected after-staging, after-publish or after-manifest".to_owned(),
            })
    }
}

/// Abort the process (`std::process::abort`) when the `file_index`-th file (1-based, in
/// the order files reach `stage` during the run) has reached `stage`. Files that write
/// nothing at a stage do not count for it; at `after-manifest`, each entry written counts
/// (a take-over writes several). Written `after-publish:3`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CrashPoint {
    pub stage: CrashStage,
    pub file_index: usize,
}

impl FromStr for CrashPoint {
    type Err = IngestError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = |reason: &str| IngestError::CrashPoint { value: text.to_owned(), reason: reason.to_owned() };
        let (stage, index) = text.split_once(':').ok_or_else(|| bad("expected STAGE:N"))?;
        let file_index =
            index.parse::<usize>().ok().filter(|n| *n > 0).ok_or_else(|| bad("N must be a file number from 1"))?;
        Ok(CrashPoint { stage: stage.parse()?, file_index })
    }
}

impl std::fmt::Display for CrashPoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.stage.as_str(), self.file_index)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crash_points_parse_and_print() {
        let point: CrashPoint = "after-publish:3".parse().expect("valid");
        assert_eq!(point, CrashPoint { stage: CrashStage::AfterPublish, file_index: 3 });
        assert_eq!(point.to_string(), "after-publish:3");
        for bad in ["after-publish", "after-lunch:1", "after-staging:0", "after-manifest:x"] {
            assert!(bad.parse::<CrashPoint>().is_err(), "{bad}");
        }
    }

    #[test]
    fn patterns_deserialize_from_a_config_file() {
        let patterns: Vec<NamePattern> =
            serde_json::from_str(r#"[{"kind": "subscriber_events", "regex": "^events_(?P<stamp>\\d{8})\\.csv$"}]"#)
                .expect("valid config");
        assert_eq!(patterns[0].kind, ReportKind::SubscriberEvents);
    }
}
