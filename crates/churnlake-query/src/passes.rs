//! Bounded memory over long histories: the lifecycle in passes over hash buckets.
//!
//! A subscription's lifecycle depends only on its own rows, so the subscriptions can be
//! split by a hash of their id and each part computed alone: pass *k* reads only the
//! report rows whose `subscription_id` falls in bucket *k*. A subscriber's state depends
//! on all of their subscriptions, which may lie in different buckets, so the per
//! subscription rows a subscriber-level result needs are spilled to local Parquet files
//! partitioned by a hash of the user id, and read back one user bucket at a time.
//!
//! Peak memory is then that of one bucket, set by `rows_per_pass` (report rows per
//! pass), whatever the length of the history. A lake with fewer report rows than that
//! runs in one pass, with no spill.
//!
//! This module holds the machinery (parts, the split, the spill, the bucket hash); how many
//! passes a computation takes is decided in one place, the pass driver (`driver`).

use std::path::PathBuf;
use std::sync::Arc;

use polars::prelude::*;

use crate::error::{Context, QueryError, Result};

/// Report rows (subscription + cancellation reports) per pass: about 1 GiB at the peak.
pub const DEFAULT_ROWS_PER_PASS: u64 = 5_000_000;

/// Which subscriptions one lifecycle computation reads.
#[derive(Clone)]
pub(crate) enum Part {
    /// Every subscription, straight from the lake.
    All,
    /// Those whose id hashes to `index`, from the lake split once into local files.
    Split { index: u32, split: Arc<Split> },
    /// One subscription (`explain`).
    Subscription(String),
}

impl Part {
    /// `lf` restricted to this part by its `id_column` (a filter the Parquet scan applies
    /// while reading). A split part reads its own files instead: `lf` is returned as is.
    pub fn apply(&self, lf: LazyFrame, id_column: &str) -> LazyFrame {
        match self {
            Part::All | Part::Split { .. } => lf,
            Part::Subscription(id) => lf.filter(col(id_column).eq(lit(id.clone()))),
        }
    }
}

/// The lake's report rows, split by the bucket of their subscription id, and its code-9
/// events, in local Parquet files under `<TMPDIR>/churnlake-split-*` (removed on drop):
/// read once, so each pass reads only its own bucket instead of the whole history.
pub(crate) struct Split {
    dir: PathBuf,
    count: u32,
    reports: Vec<Vec<PathBuf>>,
    report_schema: Option<SchemaRef>,
    events: Vec<PathBuf>,
    written: usize,
}

impl Split {
    pub fn create(count: u32) -> Result<Split> {
        let count = count.max(1);
        Ok(Split {
            dir: temp_dir("split")?,
            count,
            reports: vec![Vec::new(); count as usize],
            report_schema: None,
            events: Vec::new(),
            written: 0,
        })
    }

    /// Adds report rows (with `row_order`), each to the bucket of its `id_column`.
    pub fn add_reports(&mut self, df: DataFrame, id_column: &str) -> Result<()> {
        self.report_schema.get_or_insert_with(|| df.schema().clone());
        let parts = by_bucket(df, id_column, self.count)?;
        for (bucket, mut frame) in parts {
            self.written += 1;
            let path = self.dir.join(format!("reports-{bucket}-{}.parquet", self.written));
            write_local(&path, &mut frame)?;
            self.reports[bucket as usize].push(path);
        }
        Ok(())
    }

    /// Adds code-9 subscriber events (every pass reads all of them, a file at a time).
    pub fn add_events(&mut self, mut df: DataFrame) -> Result<()> {
        if df.height() == 0 {
            return Ok(());
        }
        self.written += 1;
        let path = self.dir.join(format!("events-{}.parquet", self.written));
        write_local(&path, &mut df)?;
        self.events.push(path);
        Ok(())
    }

    /// The report rows of bucket `index`.
    pub fn reports(&self, index: u32) -> Result<LazyFrame> {
        let files = self.reports.get(index as usize).map(Vec::as_slice).unwrap_or_default();
        match (&self.report_schema, files.is_empty()) {
            (Some(schema), true) => Ok(DataFrame::empty_with_schema(schema).lazy()),
            (None, _) => Err(QueryError::EmptyLake),
            (Some(_), false) => scan_local(files),
        }
    }

    /// The files of code-9 events.
    pub fn events(&self) -> &[PathBuf] {
        &self.events
    }
}

impl Drop for Split {
    fn drop(&mut self) {
        remove_dir(&self.dir);
    }
}

/// The bucket of each id (a null id is in bucket 0), as `u32`.
pub(crate) fn bucket_expr(ids: Expr, count: u32) -> Expr {
    ids.map(
        move |column: Column| {
            let strings = column.str()?;
            let buckets = UInt32Chunked::from_iter_values(
                column.name().clone(),
                strings.iter().map(|id| id.map_or(0, |id| bucket_of(id, count))),
            );
            Ok(buckets.into_column())
        },
        |_, field| Ok(Field::new(field.name().clone(), DataType::UInt32)),
    )
}

/// A stable hash of `id` (FNV-1a with a final mix), modulo `count`: the same on every
/// platform and in every build, so a lake's buckets never depend on the binary.
pub(crate) fn bucket_of(id: &str, count: u32) -> u32 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in id.as_bytes() {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash ^= hash >> 33;
    hash = hash.wrapping_mul(0xff51_afd7_ed55_8ccd);
    hash ^= hash >> 33;
    (hash % u64::from(count.max(1))) as u32
}

/// How many passes `report_rows` need at `rows_per_pass` (at least one).
pub(crate) fn pass_count(report_rows: u64, rows_per_pass: u64) -> u32 {
    let per_pass = rows_per_pass.max(1);
    u32::try_from(report_rows.div_ceil(per_pass)).unwrap_or(u32::MAX).max(1)
}

/// Per-subscription rows kept by user bucket. With one bucket they stay in memory; with
/// several they are spilled to `<TMPDIR>/churnlake-spill-*/u<j>-s<k>.parquet` (whatever
/// the lake's store), removed when this is dropped.
pub(crate) struct Spill {
    count: u32,
    dir: Option<PathBuf>,
    files: Vec<Vec<PathBuf>>,
    in_memory: Vec<DataFrame>,
}

impl Spill {
    pub fn new(count: u32) -> Result<Spill> {
        let count = count.max(1);
        let dir = if count > 1 { Some(temp_dir("spill")?) } else { None };
        Ok(Spill { count, dir, files: vec![Vec::new(); count as usize], in_memory: Vec::new() })
    }

    /// The number of user buckets.
    pub fn count(&self) -> u32 {
        self.count
    }

    /// Keeps `df`'s rows, split by the bucket of `user_column`, as part `part` of each bucket.
    pub fn write(&mut self, part: u32, df: DataFrame, user_column: &str) -> Result<()> {
        let Some(dir) = &self.dir else {
            self.in_memory.push(df);
            return Ok(());
        };
        for (bucket, mut frame) in by_bucket(df, user_column, self.count)? {
            let path = dir.join(format!("u{bucket}-s{part}.parquet"));
            write_local(&path, &mut frame)?;
            self.files[bucket as usize].push(path);
        }
        Ok(())
    }

    /// Every row kept for user bucket `bucket` (`None` when it has none).
    pub fn read(&self, bucket: u32) -> Result<Option<LazyFrame>> {
        if self.dir.is_none() {
            if self.in_memory.is_empty() {
                return Ok(None);
            }
            return stack(self.in_memory.clone()).map(Some);
        }
        let files = &self.files[bucket as usize];
        if files.is_empty() {
            return Ok(None);
        }
        scan_local(files).map(Some)
    }
}

impl Drop for Spill {
    fn drop(&mut self) {
        if let Some(dir) = &self.dir {
            remove_dir(dir);
        }
    }
}

/// `df` split by the bucket of `column`: (bucket, rows), without the bucket column.
fn by_bucket(df: DataFrame, column: &str, count: u32) -> Result<Vec<(u32, DataFrame)>> {
    let with_bucket =
        df.lazy().with_column(bucket_expr(col(column), count).alias("bucket")).collect().ctx("splitting rows")?;
    let mut out = Vec::new();
    for frame in with_bucket.partition_by(["bucket"], true).ctx("splitting rows")? {
        let bucket = frame.column("bucket").ctx("splitting rows")?.u32().ctx("splitting rows")?.get(0);
        if let Some(bucket) = bucket {
            out.push((bucket, frame.drop("bucket").ctx("splitting rows")?));
        }
    }
    Ok(out)
}

/// A new directory under the system's temporary directory (`TMPDIR`). Directories left
/// by a process that no longer runs (killed mid-command) are removed first.
fn temp_dir(what: &str) -> Result<PathBuf> {
    remove_orphans(what);
    let dir = std::env::temp_dir().join(format!("churnlake-{what}-{}-{}", std::process::id(), unique()));
    std::fs::create_dir_all(&dir)?;
    Ok(dir)
}

/// Removes `churnlake-<what>-<pid>-*` directories whose process is gone (where `/proc`
/// tells; elsewhere nothing is removed).
fn remove_orphans(what: &str) {
    let proc = std::path::Path::new("/proc/self");
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else { return };
    if !proc.exists() {
        return;
    }
    let prefix = format!("churnlake-{what}-");
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(pid) = name.strip_prefix(&prefix).and_then(|rest| rest.split('-').next()) else { continue };
        if pid.parse::<u32>().is_ok() && !std::path::Path::new("/proc").join(pid).exists() {
            tracing::info!(dir = %entry.path().display(), "removing a temporary directory left by an ended process");
            remove_dir(&entry.path());
        }
    }
}

fn remove_dir(dir: &std::path::Path) {
    if let Err(error) = std::fs::remove_dir_all(dir) {
        tracing::warn!(dir = %dir.display(), %error, "could not remove a temporary directory");
    }
}

/// Writes a local Parquet file (LZ4: written and read once, speed over size).
fn write_local(path: &std::path::Path, frame: &mut DataFrame) -> Result<()> {
    let file = std::fs::File::create(path)?;
    ParquetWriter::new(file)
        .with_compression(ParquetCompression::Lz4Raw)
        .finish(frame)
        .ctx("writing a temporary file")?;
    Ok(())
}

/// Scans local Parquet files written by [`write_local`].
pub(crate) fn scan_local(files: &[PathBuf]) -> Result<LazyFrame> {
    let paths: Vec<PlRefPath> = files.iter().map(|p| PlRefPath::new(p.to_string_lossy().as_ref())).collect();
    LazyFrame::scan_parquet_sources(ScanSources::Paths(paths.into()), ScanArgsParquet::default())
        .ctx("reading a temporary file")
}

fn unique() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or_default()
}

/// Stacks per-pass results.
pub(crate) fn stack(frames: Vec<DataFrame>) -> Result<LazyFrame> {
    if frames.is_empty() {
        return Err(QueryError::EmptyLake);
    }
    concat(frames.into_iter().map(DataFrame::lazy).collect::<Vec<_>>(), UnionArgs::default()).ctx("stacking passes")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_stable_and_spread() {
        // fixed values: a change of hash would silently change which pass a row is in
        assert_eq!((bucket_of("500081", 7), bucket_of("user-42", 9), bucket_of("", 5)), (4, 6, 3));
        let mut counts = [0u32; 8];
        for i in 0..80_000 {
            counts[bucket_of(&format!("{}", 500_000 + i), 8) as usize] += 1;
        }
        for count in counts {
            assert!((9_000..11_000).contains(&count), "uneven buckets: {counts:?}");
        }
        assert_eq!(bucket_of("anything", 1), 0);
    }

    #[test]
    fn pass_counts_round_up() {
        assert_eq!(pass_count(0, 5), 1);
        assert_eq!(pass_count(5, 5), 1);
        assert_eq!(pass_count(6, 5), 2);
        assert_eq!(pass_count(44_300_000, DEFAULT_ROWS_PER_PASS), 9);
    }

    #[test]
    fn the_bucket_expression_agrees_with_the_function() -> std::result::Result<(), PolarsError> {
        let ids = ["a", "b", "500081", "x-17"];
        let df = df!("id" => ids)?.lazy().with_column(bucket_expr(col("id"), 5).alias("b")).collect()?;
        let got: Vec<Option<u32>> = df.column("b")?.u32()?.iter().collect();
        let want: Vec<Option<u32>> = ids.iter().map(|id| Some(bucket_of(id, 5))).collect();
        assert_eq!(got, want);
        Ok(())
    }
}
