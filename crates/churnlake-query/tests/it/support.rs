//! Lakes for the tests: drops ingested into a temporary directory.

use std::path::{Path, PathBuf};

use churnlake_ingest::{IngestOptions, NoProgress, ingest};
use churnlake_lake::{Lake, Location, Manifest};
use churnlake_query::{LakeSources, Metrics};

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every conformance case's folder, in name order.
pub fn conformance_cases() -> Vec<PathBuf> {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(repo().join("tests/conformance/cases"))
        .expect("the conformance cases")
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|path| path.join("drops").is_dir())
        .collect();
    cases.sort();
    cases
}

/// Ingests `drops` into `dir/lake` and returns the lake's metrics (with `rows_per_pass`
/// report rows per lifecycle pass, 0 for the default).
pub fn metrics(drops: &Path, dir: &Path, rows_per_pass: u64) -> Metrics {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
    let location = Location::Local(dir.join("lake"));
    let lake = Lake::open(location, std::iter::empty::<(&str, String)>()).expect("the lake opens");
    let source = Location::Local(drops.to_path_buf());
    let options = IngestOptions { parallelism: 2, ..IngestOptions::default() };
    runtime.block_on(ingest(&source, &lake, &options, &NoProgress)).expect("the ingest runs");
    let manifest = runtime.block_on(Manifest::load(&lake)).expect("the manifest loads");
    Metrics::new(LakeSources::new(&lake, &manifest).with_rows_per_pass(rows_per_pass))
}
