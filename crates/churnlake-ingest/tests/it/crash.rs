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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_then_a_rerun_leaves_the_clean_lake() {
    let drops = TempDir::new().expect("a drop directory");
    all_drops(drops.path());
    let clean = TempDir::new().expect("a temporary lake");
    run(drops.path(), clean.path(), &options()).await;
    let (files, entries) = (data_files(clean.path()), manifest(clean.path()));

    for point in ["after-staging:1", "after-staging:6", "after-publish:4", "after-manifest:1", "after-manifest:12"] {
        let lake = TempDir::new().expect("a temporary lake");
        let spec = [drops.path(), lake.path()].map(|p| p.to_string_lossy().into_owned()).join("\n");
        let status = Command::new(std::env::current_exe().expect("this test binary"))
            .args(["crash::crash_child", "--exact", "--ignored", "--test-threads=1"])
            .env(CHILD_ENV, format!("{spec}\n{point}"))
            .output()
            .expect("the child runs")
            .status;
        assert_eq!(status.code(), None, "{point}: the child was killed by its abort ({status})");
        assert!(lake.path().join("_lock").exists(), "{point}: the dead ingest's lock is left");
        if point.starts_with("after-staging") {
            assert!(!files_under(&lake.path().join("_staging")).is_empty(), "{point}: staged files");
        }
        assert_ne!(data_files(lake.path()).len() + manifest(lake.path()).len(), files.len() + entries.len());

        let report = run(drops.path(), lake.path(), &options()).await;
        assert_eq!(report.failed, 1, "{point}: only the broken header fails");
        assert_eq!(data_files(lake.path()), files, "{point}: raw and quarantine bytes");
        assert_eq!(manifest(lake.path()), entries, "{point}: manifest");
        assert!(files_under(&lake.path().join("_staging")).is_empty(), "{point}: staging cleared");
        assert!(!lake.path().join("_lock").exists(), "{point}: lock released");
    }
}
