//! Re-running is safe: the same drops give the same lake, whether ingested again, in
//! another order or in several batches; repeated content is recorded once.
//!
//! The batch test keeps the re-delivered copies (same content, kind and data date) in
//! one batch: across batches the first batch's copy would be canonical, which is right
//! but differs from the single run's choice.

use std::path::{Path, PathBuf};

use tempfile::TempDir;

use churnlake_ingest::Outcome;
use churnlake_lake::{FileStatus, ManifestEntry};

use crate::support::{data_files, entry, fixture, manifest, options, run};

const REDELIVERED: [&str; 3] = [
    "acme_cancelled_subscriptions_05032023060437.csv",
    "acme_cancelled_subscriptions_05032023123005.csv",
    "acme_cancelled_subscriptions_05042023060437.csv",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_run_changes_nothing() {
    let lake = TempDir::new().expect("a temporary lake");
    let first = run(&fixture("variants"), lake.path(), &options()).await;
    let files = data_files(lake.path());
    let entries = std::fs::read_dir(lake.path().join("_manifest")).expect("a manifest").count();
    let manifest_bytes: Vec<Vec<u8>> = sorted_manifest_bytes(lake.path());

    let second = run(&fixture("variants"), lake.path(), &options()).await;
    assert_eq!(second.already_present, first.ingested);
    assert!(second.files.iter().all(|f| f.status == Outcome::AlreadyPresent));
    assert_eq!(second.rows_read, 0);
    assert_eq!(data_files(lake.path()), files);
    assert_eq!(entries, first.files.len());
    assert_eq!(sorted_manifest_bytes(lake.path()), manifest_bytes, "entries are not rewritten");
    for (before, after) in first.files.iter().zip(&second.files) {
        assert_eq!(before.entry, after.entry, "the recorded entry is reported");
    }
}

fn sorted_manifest_bytes(lake: &Path) -> Vec<Vec<u8>> {
    let mut paths: Vec<PathBuf> =
        std::fs::read_dir(lake.join("_manifest")).expect("a manifest").map(|e| e.expect("an entry").path()).collect();
    paths.sort();
    paths.iter().map(|p| std::fs::read(p).expect("readable")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redelivered_file_is_a_duplicate_of_the_earliest_copy() {
    let lake = TempDir::new().expect("a temporary lake");
    let report = run(&fixture("redelivered"), lake.path(), &options()).await;
    let [first, second, next_day] = REDELIVERED.map(|name| entry(&report, name).clone());
    assert_eq!(first.status, FileStatus::Ingested);
    assert_eq!(second.status, FileStatus::Duplicate);
    assert_eq!(second.duplicate_of.as_deref(), Some(first.entry_id.as_str()));
    assert!(second.outputs.is_empty() && second.rows_read == 0);
    assert_eq!(next_day.status, FileStatus::Ingested, "another data date is another day's data");
    assert_eq!((report.ingested, report.duplicate), (2, 1));

    let again = run(&fixture("redelivered"), lake.path(), &options()).await;
    assert_eq!(again.already_present, 3, "a recorded duplicate is not looked at again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_copy_arriving_later_is_a_duplicate_of_the_recorded_file() {
    let lake = TempDir::new().expect("a temporary lake");
    let drops = TempDir::new().expect("a drop directory");
    let copy = |name: &str| {
        std::fs::copy(fixture("redelivered").join(name), drops.path().join(name)).expect("copied");
    };
    copy(REDELIVERED[1]);
    run(drops.path(), lake.path(), &options()).await;
    copy(REDELIVERED[0]);
    let report = run(drops.path(), lake.path(), &options()).await;
    let earlier = entry(&report, REDELIVERED[0]);
    assert_eq!(earlier.status, FileStatus::Duplicate, "the recorded file stays canonical");
    assert_eq!(earlier.duplicate_of, Some(ManifestEntry::id_for(REDELIVERED[1], &earlier.content_hash)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_name_and_content_twice_in_one_listing_is_one_file() {
    let lake = TempDir::new().expect("a temporary lake");
    let drops = TempDir::new().expect("a drop directory");
    let name = REDELIVERED[0];
    std::fs::create_dir(drops.path().join("copy")).expect("a subdirectory");
    for target in [drops.path().join(name), drops.path().join("copy").join(name)] {
        std::fs::copy(fixture("redelivered").join(name), target).expect("copied");
    }
    let report = run(drops.path(), lake.path(), &options()).await;
    let statuses: Vec<Outcome> = report.files.iter().map(|f| f.status).collect();
    assert_eq!(statuses, [Outcome::Ingested, Outcome::AlreadyPresent]);
    assert_eq!(manifest(lake.path()).len(), 1);
}

/// Every fixture drop (flattened into one directory), with the re-delivered copies as one unit.
fn units() -> Vec<Vec<PathBuf>> {
    let mut units: Vec<Vec<PathBuf>> = Vec::new();
    for dir in ["variants", "broken"] {
        collect(&fixture(dir), &mut |path| units.push(vec![path]));
    }
    units.push(REDELIVERED.iter().map(|name| fixture("redelivered").join(name)).collect());
    units
}

fn collect(dir: &Path, add: &mut dyn FnMut(PathBuf)) {
    for dir_entry in std::fs::read_dir(dir).expect("a fixture directory") {
        let path = dir_entry.expect("an entry").path();
        if path.is_dir() { collect(&path, add) } else { add(path) }
    }
}

fn stage(files: &[PathBuf], dir: &Path) {
    for file in files {
        std::fs::copy(file, dir.join(file.file_name().expect("a name"))).expect("copied");
    }
}

/// A fixed pseudo-random permutation (an LCG), so a failure can be replayed.
fn shuffled<T>(mut items: Vec<T>, seed: u64) -> Vec<T> {
    let mut state = seed;
    for i in (1..items.len()).rev() {
        state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        items.swap(i, (state >> 33) as usize % (i + 1));
    }
    items
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_in_any_order_give_the_same_lake_as_one_run() {
    let clean_lake = TempDir::new().expect("a temporary lake");
    let all = TempDir::new().expect("a drop directory");
    stage(&units().concat(), all.path());
    run(all.path(), clean_lake.path(), &options()).await;
    let (files, entries) = (data_files(clean_lake.path()), manifest(clean_lake.path()));
    assert!(files.len() > 10 && entries.len() > 15);

    for (seed, batches) in [(1, 2), (7, 3), (42, 5)] {
        let lake = TempDir::new().expect("a temporary lake");
        let units = shuffled(units(), seed);
        for batch in units.chunks(units.len().div_ceil(batches)) {
            let drops = TempDir::new().expect("a drop directory");
            stage(&batch.concat(), drops.path());
            let options = churnlake_ingest::IngestOptions { parallelism: 1 + seed as usize % 4, ..options() };
            run(drops.path(), lake.path(), &options).await;
        }
        assert_eq!(data_files(lake.path()), files, "seed {seed}: raw and quarantine bytes");
        assert_eq!(manifest(lake.path()), entries, "seed {seed}: manifest");
    }
}
