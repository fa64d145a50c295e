//! One ingest at a time: a lock held by a live process stops a second ingest before it
//! writes anything; a lock left by a dead process is taken over.

use chrono::Utc;
use tempfile::TempDir;

use churnlake_ingest::IngestError;
use churnlake_lake::{LakeError, LockInfo};

use crate::support::{fixture, open_lake, options, try_run};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lock_held_by_a_live_process_stops_a_second_ingest() {
    let lake_dir = TempDir::new().expect("a temporary lake");
    let held = open_lake(lake_dir.path()).lock("ingest").await.expect("the first lock");

    let error = try_run(&fixture("variants"), lake_dir.path(), &options()).await.expect_err("locked");
    let IngestError::Lake(lake_error) = &error else { panic!("not a lake error: {error}") };
    assert!(matches!(**lake_error, LakeError::Locked { pid, .. } if pid == std::process::id()), "{error}");
    assert!(!lake_dir.path().join("_manifest").exists(), "nothing written");
    assert!(lake_dir.path().join("_lock").exists(), "the holder's lock is left alone");

    held.release().await.expect("released");
    try_run(&fixture("variants"), lake_dir.path(), &options()).await.expect("runs once unlocked");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lock_left_by_a_dead_process_is_taken_over() {
    let lake_dir = TempDir::new().expect("a temporary lake");
    let mut child = std::process::Command::new("true").spawn().expect("a child process");
    let dead_pid = child.id();
    child.wait().expect("the child exits");
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname").expect("a host name");
    let stale =
        LockInfo { pid: dead_pid, host: host.trim().to_owned(), since: Utc::now(), command: "ingest".to_owned() };
    std::fs::write(lake_dir.path().join("_lock"), serde_json::to_vec(&stale).expect("JSON")).expect("a stale lock");

    let report = try_run(&fixture("variants"), lake_dir.path(), &options()).await.expect("takes over");
    assert_eq!(report.ingested, 13);
    assert!(!lake_dir.path().join("_lock").exists(), "released after the run");
}
