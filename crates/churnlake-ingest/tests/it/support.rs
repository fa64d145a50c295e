//! Helpers shared by the integration tests.

use std::collections::BTreeMap;
use std::fs::File;
use std::path::{Path, PathBuf};

use arrow::compute::concat_batches;
use arrow::record_batch::{RecordBatch, RecordBatchReader};
use arrow::util::display::{ArrayFormatter, FormatOptions};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use churnlake_ingest::{FileOutcome, IngestOptions, IngestReport, NoProgress, ingest};
use churnlake_lake::{Lake, Location, ManifestEntry};

/// A fixture directory under `tests/fixtures/`.
pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures").join(name)
}

pub fn open_lake(dir: &Path) -> Lake {
    Lake::open(Location::Local(dir.to_path_buf()), std::iter::empty::<(&str, String)>()).expect("the lake opens")
}

/// Default options with a fixed parallelism.
pub fn options() -> IngestOptions {
    IngestOptions { parallelism: 3, ..IngestOptions::default() }
}

pub async fn try_run(
    source: &Path,
    lake_dir: &Path,
    options: &IngestOptions,
) -> Result<IngestReport, churnlake_ingest::IngestError> {
    let source = Location::Local(source.to_path_buf());
    ingest(&source, &open_lake(lake_dir), options, &NoProgress).await
}

pub async fn run(source: &Path, lake_dir: &Path, options: &IngestOptions) -> IngestReport {
    try_run(source, lake_dir, options).await.expect("the ingest runs")
}

pub fn outcome<'r>(report: &'r IngestReport, name: &str) -> &'r FileOutcome {
    report.files.iter().find(|f| f.name == name).unwrap_or_else(|| panic!("no outcome for {name}"))
}

pub fn entry<'r>(report: &'r IngestReport, name: &str) -> &'r ManifestEntry {
    outcome(report, name).entry.as_ref().unwrap_or_else(|| panic!("no entry for {name}"))
}

/// The rows a file wrote to `table` (`quarantine` included).
pub fn read_output(lake_dir: &Path, entry: &ManifestEntry, table: &str) -> RecordBatch {
    let output = entry
        .outputs
        .iter()
        .find(|o| o.table == table)
        .unwrap_or_else(|| panic!("{} has no {table} output", entry.source_name));
    let batch = read_parquet(&lake_dir.join(&output.path));
    assert_eq!(batch.num_rows() as u64, output.rows, "{}", output.path);
    batch
}

pub fn read_parquet(path: &Path) -> RecordBatch {
    let file = File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let reader = ParquetRecordBatchReaderBuilder::try_new(file).expect("a Parquet file").build().expect("a reader");
    let schema = reader.schema();
    let batches: Vec<RecordBatch> = reader.collect::<Result<_, _>>().expect("readable batches");
    concat_batches(&schema, &batches).expect("one batch")
}

/// A column's values as text (`null` for nulls): dates `2023-05-01`, timestamps
/// `2023-05-01T09:12:40`, money `1234.50`.
pub fn column(batch: &RecordBatch, name: &str) -> Vec<String> {
    let array = batch.column_by_name(name).unwrap_or_else(|| panic!("no column {name}"));
    let options = FormatOptions::default().with_null("null");
    let formatter = ArrayFormatter::try_new(array.as_ref(), &options).expect("a formatter");
    (0..array.len()).map(|row| formatter.value(row).to_string()).collect()
}

/// Every file under `raw/` and `quarantine/`, by lake-relative path.
pub fn data_files(lake_dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut files = BTreeMap::new();
    for top in ["raw", "quarantine"] {
        collect_files(lake_dir, &lake_dir.join(top), &mut files);
    }
    files
}

fn collect_files(root: &Path, dir: &Path, files: &mut BTreeMap<String, Vec<u8>>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for dir_entry in entries {
        let path = dir_entry.expect("a directory entry").path();
        if path.is_dir() {
            collect_files(root, &path, files);
        } else {
            let relative = path.strip_prefix(root).expect("under the root").to_string_lossy().into_owned();
            files.insert(relative, std::fs::read(&path).expect("readable"));
        }
    }
}

/// The manifest entries on disk, without the fields that differ between runs
/// (`ingested_at`, `source_path`), by entry id.
pub fn manifest(lake_dir: &Path) -> BTreeMap<String, serde_json::Value> {
    let mut entries = BTreeMap::new();
    let Ok(dir) = std::fs::read_dir(lake_dir.join("_manifest")) else {
        return entries;
    };
    for dir_entry in dir {
        let path = dir_entry.expect("a directory entry").path();
        let mut value: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&path).expect("readable")).expect("JSON");
        let object = value.as_object_mut().expect("an object");
        object.remove("ingested_at");
        object.remove("source_path");
        entries.insert(path.file_name().expect("a name").to_string_lossy().into_owned(), value);
    }
    entries
}
