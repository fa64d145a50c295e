//! Where every file of the lake lives. Paths and output names are built and parsed only
//! here; ingest (which writes them) and query (which reads them) call these functions and
//! spell none of them.
//!
//! ```text
//! LAKE/raw/<table>/data_date=YYYY-MM-DD/<stem>.parquet       typed rows, one file per source file and table
//! LAKE/quarantine/data_date=YYYY-MM-DD/<stem>.parquet        rows that could not be typed, with the reason
//! LAKE/derived/<table>.parquet                               tables built by `churnlake build`
//! LAKE/_manifest/<entry>.json                                one entry per source file (written last)
//! LAKE/_staging/<name>                                      files being written (never read)
//! LAKE/_lock                                                 held while an ingest runs
//! ```
//!
//! The `<stem>` of an output file is `<kind>-<first 16 hex of the source's content hash>`
//! ([`output_stem`]); the raw `<table>` of a kind is the kind's name. Staged names are
//! `<pid>-<hex time>-<counter>`. No path is built from a source file's name but the
//! manifest entry's, whose length [`crate::ManifestEntry::id_for`] bounds: a drop name of
//! any length gives file names that fit in 255 bytes.
//!
//! In the crate: imports only [`crate::kind`]; the manifest and the storage build their
//! paths here.

use chrono::NaiveDate;

use crate::kind::ReportKind;

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
/// Every manifest entry in one object (a cache of `_manifest/`, rewritten by each ingest):
/// loading the manifest costs a listing and one GET instead of one GET per entry.
pub const MANIFEST_SNAPSHOT: &str = "_manifest_snapshot.json";

/// The tables `churnlake build` derives from the raw ones, each at [`derived_path`].
pub const DERIVED_TABLES: [&str; 5] = ["subscriptions", "subscribers", "series", "revenue", "cohorts"];

/// Hex digits of the content hash an output stem keeps.
const STEM_HASH_LEN: usize = 16;

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

/// `<kind>-<first 16 hex of the content hash>`: the stem of every file ingest writes for
/// a source file (its raw table's file and its quarantine file). A hash shorter than 16
/// digits is kept whole (such a stem is not one [`parse_output_stem`] accepts).
///
/// ```
/// use churnlake_lake::{ReportKind, output_stem, parse_output_stem};
///
/// let stem = output_stem(ReportKind::SubscriberEvents, "0123456789abcdef0123456789abcdef");
/// assert_eq!(stem, "subscriber_events-0123456789abcdef");
/// let parsed = parse_output_stem(&stem).unwrap();
/// assert_eq!((parsed.kind, parsed.short_hash.as_str()), (ReportKind::SubscriberEvents, "0123456789abcdef"));
/// ```
pub fn output_stem(kind: ReportKind, content_hash: &str) -> String {
    format!("{kind}-{}", content_hash.get(..STEM_HASH_LEN).unwrap_or(content_hash))
}

/// What an output file's stem says: the source file's kind and the start of its content hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputStem {
    pub kind: ReportKind,
    /// The first 16 hex digits (lower case) of the source file's content hash.
    pub short_hash: String,
}

/// Parses a stem written by [`output_stem`]: a kind's name, `-`, 16 lower-case hex digits.
///
/// ```
/// use churnlake_lake::parse_output_stem;
///
/// assert!(parse_output_stem("orders-0123456789abcdef").is_some());
/// assert!(parse_output_stem("orders-0123456789ABCDEF").is_none(), "upper-case hex");
/// assert!(parse_output_stem("mine-0123456789abcdef").is_none(), "not a kind");
/// assert!(parse_output_stem("orders-0123456789abcde").is_none(), "15 digits");
/// ```
pub fn parse_output_stem(stem: &str) -> Option<OutputStem> {
    let (kind, hash) = stem.rsplit_once('-')?;
    let kind = ReportKind::parse(kind)?;
    let is_short_hash = hash.len() == STEM_HASH_LEN && hash.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    is_short_hash.then(|| OutputStem { kind, short_hash: hash.to_owned() })
}

/// Which part of the lake an output file is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputArea {
    /// `raw/<kind>/...`: the typed rows.
    Raw,
    /// `quarantine/...`: the rows that could not be typed.
    Quarantine,
}

/// A data file named as ingest names its outputs, as its lake-relative path describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputPath {
    pub area: OutputArea,
    pub data_date: DataDate,
    pub stem: OutputStem,
}

impl OutputPath {
    /// The lake-relative path this describes ([`raw_file_path`] or [`quarantine_file_path`]).
    pub fn relative_path(&self) -> String {
        let stem = output_stem(self.stem.kind, &self.stem.short_hash);
        match self.area {
            OutputArea::Raw => raw_file_path(self.stem.kind.as_str(), self.data_date, &stem),
            OutputArea::Quarantine => quarantine_file_path(self.data_date, &stem),
        }
    }
}

/// Parses a lake-relative path that ingest would name an output:
/// `raw/<kind>/data_date=YYYY-MM-DD/<kind>-<16 hex>.parquet` (the directory's kind and the
/// stem's are the same) or `quarantine/data_date=YYYY-MM-DD/<kind>-<16 hex>.parquet`.
/// Anything else (other files, derived tables, the manifest) is `None`.
///
/// ```
/// use churnlake_lake::{OutputArea, ReportKind, output_stem, parse_output_path, raw_file_path};
///
/// let d = chrono::NaiveDate::from_ymd_opt(2023, 5, 1).unwrap();
/// let written = raw_file_path("orders", d, &output_stem(ReportKind::Orders, "0123456789abcdef0123"));
/// assert_eq!(written, "raw/orders/data_date=2023-05-01/orders-0123456789abcdef.parquet");
/// let parsed = parse_output_path(&written).unwrap();
/// assert_eq!((parsed.area, parsed.data_date, parsed.stem.kind), (OutputArea::Raw, d, ReportKind::Orders));
/// assert_eq!(parsed.relative_path(), written);
/// assert!(parse_output_path("raw/subscriptions/data_date=2023-05-01/orders-0123456789abcdef.parquet").is_none());
/// assert!(parse_output_path("derived/subscriptions.parquet").is_none());
/// ```
pub fn parse_output_path(relative: &str) -> Option<OutputPath> {
    let parts: Vec<&str> = relative.split('/').collect();
    let (raw_table, partition, file) = match parts.as_slice() {
        [RAW_DIR, table, partition, file] => (Some(*table), *partition, *file),
        [QUARANTINE_DIR, partition, file] => (None, *partition, *file),
        _ => return None,
    };
    let stem = parse_output_stem(file.strip_suffix(".parquet")?)?;
    let data_date = parse_partition(partition)?;
    let area = match raw_table {
        Some(table) if table == stem.kind.as_str() => OutputArea::Raw,
        Some(_) => return None,
        None => OutputArea::Quarantine,
    };
    Some(OutputPath { area, data_date, stem })
}

/// `raw/<table>/`, relative to the lake root: the directory holding every file of a raw
/// table (its partitions below it).
///
/// ```
/// let d = chrono::NaiveDate::from_ymd_opt(2023, 5, 1).unwrap();
/// assert_eq!(churnlake_lake::raw_table_dir("cancellations"), "raw/cancellations/");
/// let file = churnlake_lake::raw_file_path("cancellations", d, "cancellations-0123456789abcdef");
/// assert!(file.starts_with(&churnlake_lake::raw_table_dir("cancellations")));
/// ```
pub fn raw_table_dir(table: &str) -> String {
    format!("{RAW_DIR}/{table}/")
}

/// `raw/<table>/data_date=D/<stem>.parquet`, relative to the lake root.
pub fn raw_file_path(table: &str, data_date: DataDate, stem: &str) -> String {
    format!("{RAW_DIR}/{table}/{}/{stem}.parquet", format_partition(data_date))
}

/// `quarantine/data_date=D/<stem>.parquet`, relative to the lake root.
///
/// ```
/// let d = chrono::NaiveDate::from_ymd_opt(2023, 5, 1).unwrap();
/// let path = churnlake_lake::quarantine_file_path(d, "orders-0123456789abcdef");
/// assert_eq!(path, "quarantine/data_date=2023-05-01/orders-0123456789abcdef.parquet");
/// assert_eq!(churnlake_lake::parse_output_path(&path).map(|p| p.relative_path()), Some(path));
/// ```
pub fn quarantine_file_path(data_date: DataDate, stem: &str) -> String {
    format!("{QUARANTINE_DIR}/{}/{stem}.parquet", format_partition(data_date))
}

/// `derived/<table>.parquet`, relative to the lake root.
///
/// ```
/// assert_eq!(churnlake_lake::derived_path("series"), "derived/series.parquet");
/// ```
pub fn derived_path(table: &str) -> String {
    format!("{DERIVED_DIR}/{table}.parquet")
}

/// `derived_<table>`: the name a derived table is registered under for SQL.
///
/// ```
/// use churnlake_lake::{DERIVED_TABLES, derived_sql_name};
///
/// let names: Vec<String> = DERIVED_TABLES.iter().map(|table| derived_sql_name(table)).collect();
/// assert_eq!(
///     names,
///     ["derived_subscriptions", "derived_subscribers", "derived_series", "derived_revenue", "derived_cohorts"]
/// );
/// ```
pub fn derived_sql_name(table: &str) -> String {
    format!("derived_{table}")
}

/// `_manifest/<id>.json`, relative to the lake root.
///
/// ```
/// let path = churnlake_lake::manifest_entry_path("a.csv.0123456789abcdef");
/// assert_eq!(path, "_manifest/a.csv.0123456789abcdef.json");
/// ```
pub fn manifest_entry_path(entry_id: &str) -> String {
    format!("{MANIFEST_DIR}/{entry_id}.json")
}

/// `_staging/<name>`, relative to the lake root: where a file is written before it is
/// published by rename (never read; leftovers are removed by the next ingest).
///
/// ```
/// assert_eq!(churnlake_lake::staging_path("1234-17f3a-0"), "_staging/1234-17f3a-0");
/// ```
pub fn staging_path(name: &str) -> String {
    format!("{STAGING_DIR}/{name}")
}
