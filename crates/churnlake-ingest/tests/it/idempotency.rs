//! Re-running is safe: the same drops give the same lake, whether ingested again, in
//! another order or in several batches; repeated content is recorded once, and the copy
//! the lake holds is the earliest by (stamp, name) whatever order the copies arrive in.

use std::path::{Path, PathBuf};

use tempfile::TempDir;

use churnlake_ingest::Outcome;
use churnlake_lake::{FileStatus, ManifestEntry};

use crate::support::{column, data_files, entry, fixture, manifest, options, run};

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
async fn a_redelivered_file_is_a_duplicate_of_the_earliest_copy_whatever_its_day() {
    let lake = TempDir::new().expect("a temporary lake");
    let report = run(&fixture("redelivered"), lake.path(), &options()).await;
    let [first, second, next_day] = REDELIVERED.map(|name| entry(&report, name).clone());
    assert_eq!(first.status, FileStatus::Ingested);
    for copy in [&second, &next_day] {
        assert_eq!(copy.status, FileStatus::Duplicate, "{}", copy.source_name);
        assert_eq!(copy.duplicate_of.as_deref(), Some(first.entry_id.as_str()));
        assert!(copy.outputs.is_empty() && copy.rows_read == 0);
    }
    assert_ne!(next_day.data_date, first.data_date, "re-delivered on another day");
    assert_eq!((report.ingested, report.duplicate), (1, 2));

    let again = run(&fixture("redelivered"), lake.path(), &options()).await;
    assert_eq!(again.already_present, 3, "a recorded duplicate is not looked at again");
}

fn copy_to(dir: &Path, names: &[&str]) {
    for name in names {
        std::fs::copy(fixture("redelivered").join(name), dir.join(name)).expect("copied");
    }
}

/// The lake after one run over `names`.
async fn one_run(names: &[&str]) -> TempDir {
    let lake = TempDir::new().expect("a temporary lake");
    let drops = TempDir::new().expect("a drop directory");
    copy_to(drops.path(), names);
    run(drops.path(), lake.path(), &options()).await;
    lake
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_earlier_copy_arriving_later_takes_over_from_the_recorded_one() {
    let clean = one_run(&REDELIVERED).await;
    // The latest copy (another data date) first, then the middle one, then the earliest.
    let lake = TempDir::new().expect("a temporary lake");
    let mut reports = Vec::new();
    for name in [REDELIVERED[2], REDELIVERED[1], REDELIVERED[0]] {
        let drops = TempDir::new().expect("a drop directory");
        copy_to(drops.path(), &[name]);
        reports.push(run(drops.path(), lake.path(), &options()).await);
    }
    let statuses: Vec<(u64, u64)> = reports.iter().map(|r| (r.ingested, r.duplicate)).collect();
    assert_eq!(statuses, [(1, 0), (1, 0), (1, 0)], "each earlier copy takes over as it arrives");
    let hash = entry(&reports[2], REDELIVERED[0]).content_hash.clone();
    let entries = manifest(lake.path());
    let recorded = |name: &str| {
        let entry = &entries[&format!("{}.json", ManifestEntry::id_for(name, &hash))];
        (entry["status"].clone(), entry["duplicate_of"].clone(), entry["outputs"].as_array().map(Vec::len))
    };
    let earliest = serde_json::Value::from(ManifestEntry::id_for(REDELIVERED[0], &hash));
    assert_eq!(recorded(REDELIVERED[0]), ("ingested".into(), serde_json::Value::Null, Some(1)));
    for name in &REDELIVERED[1..] {
        assert_eq!(recorded(name), ("duplicate".into(), earliest.clone(), Some(0)), "{name}");
    }
    let files = data_files(lake.path());
    let paths: Vec<&str> = files.keys().map(String::as_str).collect();
    assert_eq!(paths.len(), 1, "the replaced copies' outputs are gone: {paths:?}");
    assert!(paths[0].starts_with("raw/cancellations/data_date=2023-05-02/"), "{paths:?}");
    let batch = crate::support::read_parquet(&lake.path().join(paths[0]));
    assert_eq!(column(&batch, "source_file"), [REDELIVERED[0]]);
    assert_eq!(column(&batch, "drop_stamp"), ["2023-05-03T06:04:37"]);
    assert_eq!(files, data_files(clean.path()), "the earliest copy's lineage, as one run writes it");
    assert_eq!(entries, manifest(clean.path()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn empty_drops_are_never_duplicates() {
    let lake = TempDir::new().expect("a temporary lake");
    let drops = TempDir::new().expect("a drop directory");
    let header = "Subscription ID,User ID,Create Date,Cancel Date,Cancel Reason\r\n";
    let events_header = "Public Subscription ID,Merchant User ID,Email,Event Code,Event Date\n";
    for (name, text) in [
        ("acme_cancelled_subscriptions_20230502.csv", header),
        ("acme_cancelled_subscriptions_20230503.csv", header),
        ("acme_cancelled_subscriptions_05032023180000.csv", header), // the same day, sent again
        ("acme_crm_subscriber_events_20230502.csv", events_header),
        ("acme_crm_subscriber_events_20230503.csv", events_header),
        ("acme_orders_20230502.csv", ""),
        ("acme_orders_20230503.csv", ""),
    ] {
        std::fs::write(drops.path().join(name), text).expect("written");
    }
    let report = run(drops.path(), lake.path(), &options()).await;
    assert_eq!((report.ingested, report.duplicate, report.rows_read), (7, 0, 0));
    for file in &report.files {
        let entry = file.entry.as_ref().expect("recorded");
        assert_eq!((entry.status, entry.rows_quarantined), (FileStatus::Ingested, 0), "{}", file.name);
    }
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

/// Every fixture drop (flattened into one directory), each its own unit: the re-delivered
/// copies may land in different batches, in any order.
fn units() -> Vec<Vec<PathBuf>> {
    let mut units: Vec<Vec<PathBuf>> = Vec::new();
    for dir in ["variants", "broken", "redelivered"] {
        collect(&fixture(dir), &mut |path| units.push(vec![path]));
    }
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

/// The units in `count` batches, in a shuffled order, with the re-delivered copies put in
/// the batches `copies` (of the earliest, middle and latest copy).
fn batches(seed: u64, count: usize, copies: [usize; 3]) -> Vec<Vec<PathBuf>> {
    let (redelivered, rest): (Vec<_>, Vec<_>) =
        units().into_iter().partition(|unit| unit[0].starts_with(fixture("redelivered")));
    let rest = shuffled(rest, seed);
    let mut batches: Vec<Vec<PathBuf>> = rest.chunks(rest.len().div_ceil(count)).map(<[_]>::concat).collect();
    batches.resize(count, Vec::new());
    for name in REDELIVERED.iter().zip(copies) {
        let (name, batch) = name;
        let unit = redelivered.iter().find(|u| u[0].ends_with(name)).expect("a re-delivered copy");
        batches[batch].extend(unit.iter().cloned());
    }
    batches
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batches_in_any_order_give_the_same_lake_as_one_run() {
    let clean_lake = TempDir::new().expect("a temporary lake");
    let all = TempDir::new().expect("a drop directory");
    stage(&units().concat(), all.path());
    run(all.path(), clean_lake.path(), &options()).await;
    let (files, entries) = (data_files(clean_lake.path()), manifest(clean_lake.path()));
    assert!(files.len() > 10 && entries.len() > 15);

    // The copies of one content split across batches: the earliest last, in reverse, ...
    for (seed, count, copies) in
        [(1, 2, [1, 0, 0]), (7, 3, [2, 1, 0]), (42, 5, [3, 4, 1]), (3, 4, [2, 0, 3]), (11, 1, [0; 3])]
    {
        let lake = TempDir::new().expect("a temporary lake");
        for batch in batches(seed, count, copies) {
            let drops = TempDir::new().expect("a drop directory");
            stage(&batch, drops.path());
            let options = churnlake_ingest::IngestOptions { parallelism: 1 + seed as usize % 4, ..options() };
            run(drops.path(), lake.path(), &options).await;
        }
        assert_eq!(data_files(lake.path()), files, "seed {seed}: raw and quarantine bytes");
        assert_eq!(manifest(lake.path()), entries, "seed {seed}: manifest");
    }
}
