//! One writer at a time: a held lock stops a second one and names its holder; `release`
//! frees it; a lock whose process is gone from this host is taken over; a lock from
//! another host, or from a live process, never is.

use chrono::Utc;
use tempfile::TempDir;

use churnlake_lake::{LOCK_FILE, Lake, LakeError, LockInfo};

use crate::support::{dead_pid, local_lake, memory_lake, put};

async fn holder(lake: &Lake) -> LockInfo {
    let bytes = lake.read(LOCK_FILE).await.expect("a lock file");
    serde_json::from_slice(&bytes).expect("the lock file names its holder")
}

#[tokio::test]
async fn a_second_lock_while_one_is_held_fails_naming_the_holder() {
    let dir = TempDir::new().expect("a temporary lake");
    for lake in [local_lake(dir.path()), memory_lake()] {
        let held = lake.lock("ingest").await.expect("the first lock");
        let info = holder(&lake).await;
        assert_eq!((info.pid, info.command.as_str()), (std::process::id(), "ingest"));
        let written = lake.read(LOCK_FILE).await.expect("a lock file");

        let error = lake.lock("ingest").await.expect_err("already locked");
        let LakeError::Locked { lake: location, command, pid, host, since, lock } = &error else {
            panic!("not a lock error: {error}");
        };
        assert_eq!(*command, "ingest");
        assert_eq!(location, &lake.location().to_string());
        assert_eq!((*pid, host.as_str(), since.as_str()), (info.pid, info.host.as_str(), &*info.since.to_rfc3339()));
        assert_eq!(lock, &lake.uri(LOCK_FILE));
        let message = error.to_string();
        assert!(message.contains(&format!("pid {} on {}", info.pid, info.host)), "{message}");
        assert!(message.contains(&format!("remove `{lock}`")), "{message}");
        assert_eq!(lake.read(LOCK_FILE).await.expect("a lock file"), written, "the holder's lock is left alone");

        held.release().await.expect("released");
    }
    assert!(!dir.path().join(LOCK_FILE).exists());
}

#[tokio::test]
async fn release_frees_the_lock_for_the_next_writer() {
    let dir = TempDir::new().expect("a temporary lake");
    let lake = local_lake(dir.path());
    let first = lake.lock("ingest").await.expect("the first lock");
    assert!(dir.path().join(LOCK_FILE).is_file());
    first.release().await.expect("released");
    assert!(!dir.path().join(LOCK_FILE).exists(), "release deletes the lock file");

    let second = lake.lock("build").await.expect("locked again once released");
    assert_eq!(holder(&lake).await.command, "build");
    second.release().await.expect("released");
}

#[tokio::test]
async fn a_dropped_lock_stays_held_while_its_process_runs() {
    // Dropping does not release (release is async and explicit); the lock is only taken
    // over once its process is gone.
    let dir = TempDir::new().expect("a temporary lake");
    let lake = local_lake(dir.path());
    drop(lake.lock("ingest").await.expect("the first lock"));
    assert!(dir.path().join(LOCK_FILE).is_file(), "the lock file outlives the dropped lock");
    let error = lake.lock("ingest").await.expect_err("still held by this live process");
    assert!(matches!(error, LakeError::Locked { pid, .. } if pid == std::process::id()), "{error}");
}

#[tokio::test]
async fn a_lock_left_by_a_dead_process_on_this_host_is_taken_over() {
    let dir = TempDir::new().expect("a temporary lake");
    let lake = local_lake(dir.path());
    drop(lake.lock("ingest").await.expect("a lock to make stale"));
    let mut stale = holder(&lake).await;
    stale.pid = dead_pid();
    put(&lake, LOCK_FILE, &serde_json::to_vec(&stale).expect("JSON")).await;

    let taken = lake.lock("build").await.expect("a stale lock is taken over");
    let now = holder(&lake).await;
    assert_eq!((now.pid, now.host.as_str(), now.command.as_str()), (std::process::id(), stale.host.as_str(), "build"));
    taken.release().await.expect("released");
}

#[tokio::test]
async fn a_lock_held_on_another_host_is_never_taken_over() {
    let dir = TempDir::new().expect("a temporary lake");
    let lake = local_lake(dir.path());
    let elsewhere =
        LockInfo { pid: dead_pid(), host: "elsewhere.example".to_owned(), since: Utc::now(), command: "ingest".into() };
    let written = serde_json::to_vec(&elsewhere).expect("JSON");
    put(&lake, LOCK_FILE, &written).await;

    let error = lake.lock("ingest").await.expect_err("cannot tell whether a process on another host runs");
    let LakeError::Locked { pid, host, .. } = &error else { panic!("not a lock error: {error}") };
    assert_eq!((*pid, host.as_str()), (elsewhere.pid, "elsewhere.example"));
    assert_eq!(lake.read(LOCK_FILE).await.expect("a lock file"), written, "left as it was");
}

#[tokio::test]
async fn an_unreadable_lock_file_is_replaced() {
    let dir = TempDir::new().expect("a temporary lake");
    let lake = local_lake(dir.path());
    put(&lake, LOCK_FILE, b"half a lock {").await;
    let lock = lake.lock("ingest").await.expect("an unreadable lock file is removed and the lock taken");
    assert_eq!(holder(&lake).await.pid, std::process::id());
    lock.release().await.expect("released");
}
