//! Which Parquet files the queries read: those the manifest lists, never a listing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use churnlake_lake::{Lake, Manifest, QUARANTINE_DIR, ReportKind, columns, raw_table_dir};
use polars::prelude::*;

use crate::error::{Context, QueryError, Result};
use crate::passes::{DEFAULT_ROWS_PER_PASS, pass_count};

/// polars' options for the lake's store: the options the lake was opened with and the
/// retry policy of every other store request (`churnlake_lake::retry_config`). `None` for a
/// local lake (and a store URL polars cannot parse options for: it then reads the
/// environment itself).
fn cloud_options(lake: &Lake) -> Option<polars::io::cloud::CloudOptions> {
    let churnlake_lake::Location::Url(url) = lake.location() else {
        return None;
    };
    let scheme = CloudScheme::from_path(url.as_str());
    let options = polars::io::cloud::CloudOptions::from_untyped_config(scheme, lake.store_options().iter().cloned())
        .map_err(|error| tracing::warn!(%error, "the lake's store options are not polars': reading with its defaults"))
        .ok()?;
    let retry = churnlake_lake::retry_config();
    Some(options.with_retry_config(polars::io::cloud::CloudRetryConfig {
        max_retries: Some(retry.max_retries),
        retry_timeout: Some(retry.retry_timeout),
        retry_init_backoff: Some(retry.backoff.init_backoff),
        retry_max_backoff: Some(retry.backoff.max_backoff),
        retry_base_multiplier: None,
    }))
}

/// The lake as the queries see it: file addresses per raw table and the data-date range.
#[derive(Debug, Clone, Default)]
pub struct LakeSources {
    files: BTreeMap<String, Vec<String>>,
    /// Per table, the length of `<lake>/raw/<table>/`: where Hive parsing starts.
    hive_start: BTreeMap<String, usize>,
    range: Option<(NaiveDate, NaiveDate)>,
    /// Derived tables that exist: (name, address).
    derived: Vec<(String, String)>,
    /// Source file names in "newest row" order (data date, drop stamp, name): METRICS.md.
    file_order: Vec<String>,
    /// Rows in the subscription and cancellation reports: what sets the number of passes.
    report_rows: u64,
    /// Report rows per pass of the lifecycle (see `passes`); 0 means the default.
    rows_per_pass: u64,
    /// Per table, each file's rows (in the order of `files`).
    file_rows: BTreeMap<String, Vec<u64>>,
    /// Where to write polars' per-node profile of the series query (CSV), when asked.
    profile: Option<PathBuf>,
    /// How polars opens an object-store lake: the lake's own store options (credentials,
    /// endpoint, region) and the lake crate's retry policy. `None` for a local lake.
    cloud: Option<polars::io::cloud::CloudOptions>,
}

impl LakeSources {
    pub fn new(lake: &Lake, manifest: &Manifest) -> LakeSources {
        let mut sources =
            LakeSources { range: manifest.data_date_range(), cloud: cloud_options(lake), ..Default::default() };
        // the manifest is sorted by (data date, stamp, name): a file's position is its rank
        sources.file_order = manifest
            .ingested()
            .filter(|e| e.outputs.iter().any(|o| o.rows > 0))
            .map(|e| e.source_name.clone())
            .collect();
        sources.report_rows = manifest
            .ingested()
            .flat_map(|e| e.outputs.iter())
            .filter(|o| o.table == ReportKind::Subscriptions.as_str() || o.table == ReportKind::Cancellations.as_str())
            .map(|o| o.rows)
            .sum();
        let tables = ReportKind::ALL.iter().map(|k| (k.as_str(), raw_table_dir(k.as_str())));
        for (table, dir) in tables.chain([("quarantine", format!("{QUARANTINE_DIR}/"))]) {
            let outputs =
                manifest.entries.iter().flat_map(|e| e.outputs.iter()).filter(|o| o.table == table && o.rows > 0);
            let (files, rows): (Vec<String>, Vec<u64>) = outputs.map(|o| (lake.uri(&o.path), o.rows)).unzip();
            sources.hive_start.insert(table.to_owned(), lake.uri(&dir).len());
            sources.files.insert(table.to_owned(), files);
            sources.file_rows.insert(table.to_owned(), rows);
        }
        sources
    }

    /// Adds the derived tables that exist (name, address), for `churnlake sql`.
    pub fn with_derived(mut self, derived: Vec<(String, String)>) -> LakeSources {
        self.derived = derived;
        self
    }

    /// Sets how many report rows one pass of the lifecycle may read (0: the default,
    /// [`DEFAULT_ROWS_PER_PASS`]). Fewer rows per pass: lower peak memory, more passes.
    pub fn with_rows_per_pass(mut self, rows: u64) -> LakeSources {
        self.rows_per_pass = rows;
        self
    }

    /// Writes polars' per-node profile of the series query (node, start and end in
    /// microseconds since the query began) to `path` as CSV whenever a series is computed.
    pub fn with_profile(mut self, path: Option<PathBuf>) -> LakeSources {
        self.profile = path;
        self
    }

    /// The options of polars' scans of the lake's files (object stores only).
    pub(crate) fn cloud_options(&self) -> Option<polars::io::cloud::CloudOptions> {
        self.cloud.clone()
    }

    pub(crate) fn profile(&self) -> Option<&Path> {
        self.profile.as_deref()
    }

    /// How many passes a lifecycle takes over this lake when each report row holds `weight`
    /// times the series' memory ([`crate::lifecycle::Attributes::pass_weight`]).
    pub(crate) fn passes(&self, weight: u64) -> u32 {
        let per_pass = if self.rows_per_pass == 0 { DEFAULT_ROWS_PER_PASS } else { self.rows_per_pass };
        pass_count(self.report_rows, (per_pass / weight.max(1)).max(1))
    }

    /// Rows read at once when a pass reads the lake a group of files at a time.
    pub(crate) fn rows_per_group(&self) -> u64 {
        let per_pass = if self.rows_per_pass == 0 { DEFAULT_ROWS_PER_PASS } else { self.rows_per_pass };
        (per_pass / 5).max(1)
    }

    pub(crate) fn derived(&self) -> &[(String, String)] {
        &self.derived
    }

    pub fn range(&self) -> Result<(NaiveDate, NaiveDate)> {
        self.range.ok_or(QueryError::EmptyLake)
    }

    /// `source_file → file_rank`, the position of each file in "newest row" order
    /// (a re-sent name keeps its newest position).
    pub(crate) fn file_ranks(&self) -> Result<LazyFrame> {
        let ranks: Vec<i64> = (0..self.file_order.len() as i64).collect();
        let df = DataFrame::new(
            ranks.len(),
            vec![
                Column::new(columns::SOURCE_FILE.into(), self.file_order.clone()),
                Column::new("file_rank".into(), ranks),
            ],
        )
        .ctx("ranking source files")?;
        Ok(df.lazy().group_by([col(columns::SOURCE_FILE)]).agg([col("file_rank").max()]))
    }

    /// Scans a raw table (with its `data_date` partition), selecting `wanted` columns.
    /// A table without files is an empty frame of the same schema.
    pub(crate) fn scan(&self, table: &str, wanted: &[(&str, DataType)]) -> Result<LazyFrame> {
        self.scan_where(table, wanted, |lf| lf)
    }

    /// [`LakeSources::scan`] with `filter` applied to the files' own columns, before any
    /// cast, so that polars pushes it into the Parquet reader (rows it rejects are never held).
    pub(crate) fn scan_where(
        &self,
        table: &str,
        wanted: &[(&str, DataType)],
        filter: impl FnOnce(LazyFrame) -> LazyFrame,
    ) -> Result<LazyFrame> {
        let files = self.files.get(table).cloned().unwrap_or_default();
        self.scan_files_where(table, files, wanted, filter)
    }

    /// Reads `table` a group of files at a time (about `rows_per_group` rows each): each
    /// group goes through `filter` (on the files' own columns) and `shape`, is collected and
    /// handed to `sink` before the next is read, so memory holds one group's rows — whether
    /// or not polars can push `filter` into the reader.
    pub(crate) fn for_each_group(
        &self,
        table: &str,
        wanted: &[(&str, DataType)],
        rows_per_group: u64,
        filter: impl Fn(LazyFrame) -> LazyFrame,
        shape: impl Fn(LazyFrame) -> LazyFrame,
        mut sink: impl FnMut(DataFrame) -> Result<()>,
    ) -> Result<()> {
        let files = self.files.get(table).cloned().unwrap_or_default();
        let rows = self.file_rows.get(table).cloned().unwrap_or_default();
        let mut start = 0;
        while start < files.len() {
            let mut end = start;
            let mut group_rows = 0;
            while let Some(n) = rows.get(end).filter(|n| end == start || group_rows + **n <= rows_per_group) {
                group_rows += n;
                end += 1;
            }
            let group = files[start..end].to_vec();
            sink(shape(self.scan_files_where(table, group, wanted, &filter)?).collect().ctx("reading the lake")?)?;
            start = end;
        }
        Ok(())
    }

    fn scan_files_where(
        &self,
        table: &str,
        files: Vec<String>,
        wanted: &[(&str, DataType)],
        filter: impl FnOnce(LazyFrame) -> LazyFrame,
    ) -> Result<LazyFrame> {
        let select: Vec<Expr> = wanted.iter().map(|(name, _)| col(*name)).collect();
        if files.is_empty() {
            let columns: Vec<Column> =
                wanted.iter().map(|(name, dtype)| Column::full_null((*name).into(), 0, dtype)).collect();
            let df = DataFrame::new_infer_height(columns).ctx("building an empty table")?;
            return Ok(df.lazy());
        }
        let lf = filter(self.scan_files(table, files, false)?);
        let casts: Vec<Expr> = wanted.iter().map(|(name, dtype)| col(*name).cast(dtype.clone())).collect();
        Ok(lf.select(select).with_columns(casts))
    }

    /// Scans a raw table whose files may differ in columns (orders, inventory, crm
    /// subscriptions): the union of every file's columns by name (in the order they first
    /// appear, `data_date` last), null where a file lacks one. `None` when the table has no
    /// files. Ingest types a column by its name, so one name has one type in every file.
    pub(crate) fn scan_loose(&self, table: &str) -> Result<Option<LazyFrame>> {
        let files = self.files.get(table).cloned().unwrap_or_default();
        if files.is_empty() {
            return Ok(None);
        }
        let mut scans = Vec::with_capacity(files.len());
        let mut union: Vec<(PlSmallStr, DataType)> = Vec::new();
        for file in files {
            let mut lf = self.scan_files(table, vec![file], true)?;
            let schema = lf.collect_schema().ctx("reading a file's columns")?;
            for (name, dtype) in schema.iter() {
                if !union.iter().any(|(known, _)| known == name) {
                    union.push((name.clone(), dtype.clone()));
                }
            }
            scans.push((lf, schema));
        }
        if let Some(at) = union.iter().position(|(name, _)| name.as_str() == columns::DATA_DATE) {
            let partition = union.remove(at);
            union.push(partition);
        }
        let aligned: Vec<LazyFrame> = scans
            .into_iter()
            .map(|(lf, schema)| {
                let select: Vec<Expr> = union
                    .iter()
                    .map(|(name, dtype)| match schema.get(name) {
                        Some(_) => col(name.clone()),
                        None => NULL.lit().cast(dtype.clone()).alias(name.clone()),
                    })
                    .collect();
                lf.select(select)
            })
            .collect();
        concat(aligned, UnionArgs::default()).ctx("joining the files' columns").map(Some)
    }

    fn scan_files(&self, table: &str, files: Vec<String>, allow_missing_columns: bool) -> Result<LazyFrame> {
        let hive_schema = Schema::from_iter([Field::new(columns::DATA_DATE.into(), DataType::Date)]);
        let args = ScanArgsParquet {
            hive_options: HiveOptions {
                enabled: Some(true),
                hive_start_idx: self.hive_start.get(table).copied().unwrap_or(0),
                schema: Some(Arc::new(hive_schema)),
                try_parse_dates: true,
            },
            glob: false,
            allow_missing_columns,
            cloud_options: self.cloud_options(),
            ..Default::default()
        };
        let paths: Vec<PlRefPath> = files.into_iter().map(PlRefPath::new).collect();
        LazyFrame::scan_parquet_sources(ScanSources::Paths(paths.into()), args).ctx("scanning the lake")
    }
}
