//! Crash recovery: an ingest aborted after a file's staging, publish or manifest write,
//! then run again, leaves the lake exactly as one clean run does (same Parquet bytes, same
//! manifest but for times and paths). The aborting ingest runs in a child process: this
//! test binary, re-run on the ignored `crash_child` test.

use std::path::{Path, PathBuf};
use std::process::Command;

use tempfile::TempDir;

use churnlake_ingest::{CrashPoint, IngestOptions};

use crate::support::{data_files, fixture, manifest, options, run, try_run};

const CHILD_ENV: &str = "CHURNLAKE_INGEST_CRASH_CHILD";

/// Runs in the child: `source`, `lake` and crash point from the environment.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "run by `a_crash_then_a_rerun_leaves_the_clean_lake` in a child process"]
async fn crash_child() {
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return;
    };
    let parts: Vec<&str> = spec.split('\n').collect();
    let [source, lake, point] = parts.as_slice() else { panic!("bad spec {spec}") };
    let point: CrashPoint = point.parse().expect("a crash point");
    let options = IngestOptions { crash_at: Some(point), parallelism: 1, ..options() };
    let outcome = try_run(Path::new(source), Path::new(lake), &options).await;
    panic!("the ingest should have aborted at {point}, it returned {outcome:?}");
}

fn all_drops(dir: &Path) {
    for fixture_dir in ["variants", "broken", "redelivered"] {
        copy_flat(&fixture(fixture_dir), dir);
    }
}

fn copy_flat(from: &Path, to: &Path) {
    for dir_entry in std::fs::read_dir(from).expect("a fixture directory") {
        let path = dir_entry.expect("an entry").path();
        if path.is_dir() {
            copy_flat(&path, to);
        } else {
            std::fs::copy(&path, to.join(path.file_name().expect("a name"))).expect("copied");
        }
    }
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .map(|e| e.expect("an entry").path())
        .flat_map(|path| if path.is_dir() { files_under(&path) } else { vec![path] })
        .collect()
}

/// Runs an ingest of `source` into `lake` in a child process that aborts at `point`.
fn crash_at(source: &Path, lake: &Path, point: &str) {
    let spec = [source, lake].map(|p| p.to_string_lossy().into_owned()).join("\n");
    let status = Command::new(std::env::current_exe().expect("this test binary"))
        .args(["crash::crash_child", "--exact", "--ignored", "--test-threads=1"])
        .env(CHILD_ENV, format!("{spec}\n{point}"))
        .output()
        .expect("the child runs")
        .status;
    assert_eq!(status.code(), None, "{point}: the child was killed by its abort ({status})");
}

/// Lake-relative paths of every output the manifest lists.
fn listed_outputs(lake: &Path) -> Vec<String> {
    let mut paths: Vec<String> = manifest(lake)
        .values()
        .flat_map(|entry| entry["outputs"].as_array().cloned().unwrap_or_default())
        .filter_map(|output| output["path"].as_str().map(str::to_owned))
        .collect();
    paths.sort();
    paths
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outputs_published_but_never_recorded_are_removed_by_the_next_run() {
    let drops = TempDir::new().expect("a drop directory");
    all_drops(drops.path());
    let lake = TempDir::new().expect("a temporary lake");
    crash_at(drops.path(), lake.path(), "after-publish:3");
    let unlisted: Vec<String> =
        data_files(lake.path()).into_keys().filter(|path| !listed_outputs(lake.path()).contains(path)).collect();
    assert!(!unlisted.is_empty(), "the third file's outputs are published, not recorded");
    // Files that ingest does not name are not its to remove.
    let foreign = ["raw/subscriptions/data_date=2023-05-01/notes.txt", "quarantine/mine.parquet"];
    for path in foreign {
        let path = lake.path().join(path);
        std::fs::create_dir_all(path.parent().expect("a parent")).expect("a directory");
        std::fs::write(&path, "kept").expect("written");
    }

    // the next run, over a drop the lake already holds (a source without drops is an error)
    let recorded = manifest(lake.path());
    let held = recorded.values().find_map(|e| e["source_name"].as_str()).expect("a recorded file");
    let again = TempDir::new().expect("a drop directory");
    std::fs::copy(drops.path().join(held), again.path().join(held)).expect("copied");
    let report = run(again.path(), lake.path(), &options()).await;
    assert_eq!(report.already_present, 1);
    assert_eq!(report.files.len(), 1);
    let left: Vec<String> = data_files(lake.path()).into_keys().collect();
    let mut expected = listed_outputs(lake.path());
    expected.extend(foreign.map(str::to_owned));
    expected.sort();
    assert_eq!(left, expected, "exactly the listed outputs and the foreign files are left");
    assert!(unlisted.iter().all(|path| !left.contains(path)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_while_an_earlier_copy_takes_over_is_finished_by_the_next_run() {
    let [earliest, middle, latest] = [
        "acme_cancelled_subscriptions_05032023060437.csv",
        "acme_cancelled_subscriptions_05032023123005.csv",
        "acme_cancelled_subscriptions_05042023060437.csv",
    ];
    let stage = |names: &[&str]| {
        let dir = TempDir::new().expect("a drop directory");
        for name in names {
            std::fs::copy(fixture("redelivered").join(name), dir.path().join(name)).expect("copied");
        }
        dir
    };
    let all = stage(&[earliest, middle, latest]);
    let clean = TempDir::new().expect("a temporary lake");
    run(all.path(), clean.path(), &options()).await;
    let (files, entries) = (data_files(clean.path()), manifest(clean.path()));

    // The latest copy (its own data date) is recorded; the two earlier ones arrive, the
    // earliest takes over: publish (1), its entry (manifest 1), the latest demoted
    // (manifest 2), its output deleted, then the middle copy's duplicate entry (manifest 3).
    for (point, rerun_without_the_copies) in [
        ("after-staging:1", false),
        ("after-publish:1", false),
        ("after-publish:1", true),
        ("after-manifest:1", true),
        ("after-manifest:2", true),
        ("after-manifest:2", false),
    ] {
        let lake = TempDir::new().expect("a temporary lake");
        run(stage(&[latest]).path(), lake.path(), &options()).await;
        crash_at(stage(&[earliest, middle]).path(), lake.path(), point);
        if rerun_without_the_copies {
            // Whatever was recorded is made consistent, and no unlisted output is left.
            // (over the recorded copy alone: a source without drops is an error)
            let report = run(stage(&[latest]).path(), lake.path(), &options()).await;
            assert_eq!((report.files.len(), report.already_present), (1, 1), "{point}");
            assert_eq!(data_files(lake.path()).into_keys().collect::<Vec<_>>(), listed_outputs(lake.path()), "{point}");
            let recorded = manifest(lake.path());
            let ingested = recorded.values().filter(|e| e["status"] == "ingested").count();
            assert_eq!(ingested, 1, "{point}: one copy holds the content: {recorded:#?}");
            for entry in recorded.values().filter(|e| e["status"] == "duplicate") {
                let of = entry["duplicate_of"].as_str().expect("duplicate_of");
                assert_eq!(recorded[&format!("{of}.json")]["status"], "ingested", "{point}");
            }
        }
        run(all.path(), lake.path(), &options()).await;
        assert_eq!(data_files(lake.path()), files, "{point}: raw and quarantine bytes");
        assert_eq!(manifest(lake.path()), entries, "{point}: manifest");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_then_a_rerun_leaves_the_clean_lake() {
    let drops = TempDir::new().expect("a drop directory");
    all_drops(drops.path());
    let clean = TempDir::new().expect("a temporary lake");
    run(drops.path(), clean.path(), &options()).await;
    let (files, entries) = (data_files(clean.path()), manifest(clean.path()));

    for point in ["after-staging:1", "after-staging:6", "after-publish:4", "after-manifest:1", "after-manifest:12"] {
        let lake = TempDir::new().expect("a temporary lake");
        crash_at(drops.path(), lake.path(), point);
        assert!(lake.path().join("_lock").exists(), "{point}: the dead ingest's lock is left");
        if point.starts_with("after-staging") {
            assert!(!files_under(&lake.path().join("_staging")).is_empty(), "{point}: staged files");
        }
        assert_ne!(data_files(lake.path()).len() + manifest(lake.path()).len(), files.len() + entries.len());

        let report = run(drops.path(), lake.path(), &options()).await;
        assert_eq!(report.failed, 2, "{point}: only the broken header and the binary garbage fail");
        assert_eq!(data_files(lake.path()), files, "{point}: raw and quarantine bytes");
        assert_eq!(manifest(lake.path()), entries, "{point}: manifest");
        assert!(files_under(&lake.path().join("_staging")).is_empty(), "{point}: staging cleared");
        assert!(!lake.path().join("_lock").exists(), "{point}: lock released");
    }
}
