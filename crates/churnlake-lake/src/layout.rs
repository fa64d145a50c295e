//! Where every file of the lake lives. Paths are built and parsed only here.
//!
//! ```text
//! LAKE/raw/<table>/data_date=YYYY-MM-DD/<stem>.parquet       typed rows, one file per source file and table
//! LAKE/quarantine/data_date=YYYY-MM-DD/<stem>.parquet        rows that could not be typed, with the reason
//! LAKE/derived/<table>.parquet                               tables built by `churnlake build`
//! LAKE/_manifest/<entry>.json                                one entry per source file (written last)
//! LAKE/_staging/<run>/...                                    files being written (never read)
//! LAKE/_lock                                                 held while an ingest runs
//! ```

use chrono::NaiveDate;

/// Typed rows of each report kind: `raw/<table>/...`.
pub const RAW_DIR: &str = "raw";
/// Rows that could not be typed: `quarantine/...`.
pub const QUARANTINE_DIR: &str = "quarantine";
/// Tables built from the raw ones: `derived/<table>.parquet`.
pub const DERIVED_DIR: &str = "derived";
/// One JSON entry per source file.
pub const MANIFEST_DIR: &str = "_manifest";
/// Files being written; published from here by rename.
pub const STAGING_DIR: &str = "_staging";
/// The ingest lock.
pub const LOCK_FILE: &str = "_lock";

/// A day of data, as written in the reports (never shifted).
pub type DataDate = NaiveDate;

/// The Hive partition directory for a data date.
///
/// ```
/// let d = chrono::NaiveDate::from_ymd_opt(2023, 5, 1).unwrap();
/// assert_eq!(churnlake_lake::format_partition(d), "data_date=2023-05-01");
/// assert_eq!(churnlake_lake::parse_partition("data_date=2023-05-01"), Some(d));
/// ```
pub fn format_partition(data_date: DataDate) -> String {
    format!("data_date={}", data_date.format("%Y-%m-%d"))
}

/// Parses a `data_date=YYYY-MM-DD` directory name.
pub fn parse_partition(segment: &str) -> Option<DataDate> {
    let value = segment.strip_prefix("data_date=")?;
    NaiveDate::parse_from_str(value, "%Y-%m-%d").ok()
}

/// `raw/<table>/data_date=D/<stem>.parquet`, relative to the lake root.
pub fn raw_file_path(table: &str, data_date: DataDate, stem: &str) -> String {
    format!("{RAW_DIR}/{table}/{}/{stem}.parquet", format_partition(data_date))
}

/// `quarantine/data_date=D/<stem>.parquet`, relative to the lake root.
pub fn quarantine_file_path(data_date: DataDate, stem: &str) -> String {
    format!("{QUARANTINE_DIR}/{}/{stem}.parquet", format_partition(data_date))
}

/// `derived/<table>.parquet`, relative to the lake root.
pub fn derived_path(table: &str) -> String {
    format!("{DERIVED_DIR}/{table}.parquet")
}

/// `_manifest/<id>.json`, relative to the lake root.
pub fn manifest_entry_path(entry_id: &str) -> String {
    format!("{MANIFEST_DIR}/{entry_id}.json")
}
