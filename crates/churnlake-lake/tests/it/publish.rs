//! Publishing: `put_atomic` replaces a file whole, readers see the old file or the new one
//! and never a part of either, and nothing stays in `_staging/`; `clear_staging` removes
//! what an interrupted run left there and nothing else.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use tempfile::TempDir;

use churnlake_lake::{LakeError, STAGING_DIR, raw_file_path, staging_path};

use crate::support::{date, list, local_lake, memory_lake, put};

#[tokio::test]
async fn publishing_replaces_the_whole_file_and_leaves_nothing_staged() {
    let dir = TempDir::new().expect("a temporary lake");
    let rel = raw_file_path("orders", date(2023, 5, 1), "orders-0123456789abcdef");
    for lake in [local_lake(dir.path()), memory_lake()] {
        lake.put_atomic(&rel, vec![b'a'; 10_000]).await.expect("published");
        assert_eq!(lake.read(&rel).await.expect("readable"), vec![b'a'; 10_000]);
        lake.put_atomic(&rel, b"shorter".to_vec()).await.expect("published again");
        assert_eq!(lake.read(&rel).await.expect("readable"), b"shorter", "no byte of the old file is left");
        assert_eq!(list(&lake, "").await, [lake.path(&rel).to_string()], "the lake holds the one file");
        assert_eq!(list(&lake, STAGING_DIR).await, Vec::<String>::new(), "nothing staged is left");
    }
    assert_eq!(std::fs::read(dir.path().join(&rel)).expect("on disk"), b"shorter");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readers_see_the_old_file_or_the_new_one_never_a_part() {
    let dir = TempDir::new().expect("a temporary lake");
    let lake = local_lake(dir.path());
    let rel = raw_file_path("subscriptions", date(2023, 5, 1), "subscriptions-0123456789abcdef");
    let old = vec![b'o'; 3 << 20];
    let new = vec![b'n'; 2 << 20];
    lake.put_atomic(&rel, old.clone()).await.expect("published");

    let done = Arc::new(AtomicBool::new(false));
    let reads = Arc::new(AtomicUsize::new(0));
    let reader = {
        let (file, done, reads) = (dir.path().join(&rel), Arc::clone(&done), Arc::clone(&reads));
        let (old, new) = (old.clone(), new.clone());
        tokio::task::spawn_blocking(move || {
            while !done.load(Ordering::SeqCst) {
                let seen = std::fs::read(&file).expect("the file is always there");
                assert!(seen == old || seen == new, "a reader saw {} bytes, neither file", seen.len());
                reads.fetch_add(1, Ordering::SeqCst);
            }
        })
    };
    while reads.load(Ordering::SeqCst) == 0 {
        tokio::task::yield_now().await;
    }
    let before = reads.load(Ordering::SeqCst);
    for round in 0..40 {
        let bytes = if round % 2 == 0 { new.clone() } else { old.clone() };
        lake.put_atomic(&rel, bytes).await.expect("published");
    }
    done.store(true, Ordering::SeqCst);
    reader.await.expect("the reader saw only whole files");
    assert!(reads.load(Ordering::SeqCst) > before, "the reader read while files were published");
    assert_eq!(lake.read(&rel).await.expect("readable"), old, "the last publish wins");
    assert_eq!(list(&lake, STAGING_DIR).await, Vec::<String>::new());
}

#[tokio::test]
async fn the_bytes_are_staged_first_and_the_target_is_only_ever_renamed_over() {
    // A directory where the file should go makes the rename fail: what is left shows the
    // order of the writes (the staged copy exists, the target was never written to).
    let dir = TempDir::new().expect("a temporary lake");
    let lake = local_lake(dir.path());
    let rel = raw_file_path("orders", date(2023, 5, 1), "orders-0123456789abcdef");
    std::fs::create_dir_all(dir.path().join(&rel)).expect("a directory in the way");
    std::fs::write(dir.path().join(&rel).join("keep"), b"kept").expect("a file in it");

    let error = lake.put_atomic(&rel, b"new rows".to_vec()).await.expect_err("cannot rename over a directory");
    let LakeError::Store { path, .. } = &error else { panic!("not a storage error: {error}") };
    assert_eq!(path, &dir.path().join(&rel).display().to_string(), "the error names the target's full path");
    assert_eq!(std::fs::read(dir.path().join(&rel).join("keep")).expect("untouched"), b"kept");
    let staged = list(&lake, STAGING_DIR).await;
    assert_eq!(staged.len(), 1, "{staged:?}");
    let staged_rel = staged[0].as_str();
    assert_eq!(lake.read(staged_rel).await.expect("the staged copy"), b"new rows");
    assert_eq!(lake.clear_staging().await.expect("cleared"), 1, "the next ingest clears it");
}

#[tokio::test]
async fn clearing_staging_removes_the_leftovers_of_an_interrupted_run_only() {
    let dir = TempDir::new().expect("a temporary lake");
    for lake in [local_lake(dir.path()), memory_lake()] {
        let published = raw_file_path("orders", date(2023, 5, 1), "orders-0123456789abcdef");
        put(&lake, &published, b"published").await;
        put(&lake, &staging_path("4242-17f3a-0"), b"staged").await;
        put(&lake, &staging_path("crash-raw_orders_x.parquet"), b"staged").await;

        assert_eq!(lake.clear_staging().await.expect("cleared"), 2);
        assert_eq!(list(&lake, STAGING_DIR).await, Vec::<String>::new());
        assert_eq!(lake.read(&published).await.expect("still there"), b"published");
        assert_eq!(lake.clear_staging().await.expect("cleared"), 0, "nothing left to clear");
    }
}

#[tokio::test]
async fn clearing_staging_removes_the_half_written_uploads_a_kill_leaves() {
    // A put killed half-way on a local lake leaves `<staged name>#<n>`: object_store's
    // local listing skips such names (its own uploads in progress), so a sweep that lists
    // through it never sees them.
    let dir = TempDir::new().expect("a temporary lake");
    let lake = local_lake(dir.path());
    let staging = dir.path().join(STAGING_DIR);
    std::fs::create_dir_all(staging.join("nested")).expect("the staging directory");
    for name in ["4242-17f3a-0#1", "4242-17f3a-1#12", "nested/4242-17f3a-2#3", "4242-17f3a-3"] {
        std::fs::write(staging.join(name), b"half written").expect("a leftover");
    }
    std::fs::write(dir.path().join("_lock#1"), b"{").expect("a half-written lock");
    let published = raw_file_path("orders", date(2023, 5, 1), "orders-0123456789abcdef");
    put(&lake, &published, b"published").await;

    assert_eq!(lake.clear_staging().await.expect("cleared"), 5);
    let left: Vec<_> = walk(&staging);
    assert!(left.is_empty(), "left in _staging: {left:?}");
    assert!(!dir.path().join("_lock#1").exists());
    assert_eq!(lake.read(&published).await.expect("still there"), b"published");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() { files.extend(walk(&path)) } else { files.push(path) }
    }
    files
}

/// A set of derived tables is published whole: stopped with one table of two in place, the
/// journal is left and the next `clear_staging` (every writer's first step) moves the rest
/// and records the set; staged files of a set that never reached its journal are swept
/// and the tables in place stay as they were.
#[tokio::test]
async fn a_derived_set_stopped_while_publishing_is_finished_by_the_next_writer() {
    use churnlake_lake::{DerivedState, Manifest, derived_path, derived_state_path, publication_path};
    let dir = TempDir::new().expect("a temporary lake");
    for lake in [local_lake(dir.path()), memory_lake()] {
        let manifest = Manifest::load(&lake).await.expect("an empty manifest");
        let stage = |bytes: &'static [u8]| lake.stage(bytes.to_vec());
        let old = vec![
            ("series".to_owned(), stage(b"old series").await.expect("staged")),
            ("revenue".to_owned(), stage(b"old revenue").await.expect("staged")),
        ];
        DerivedState::publish(&lake, &manifest, old, None).await.expect("published");

        let new = vec![
            ("series".to_owned(), stage(b"new series").await.expect("staged")),
            ("revenue".to_owned(), stage(b"new revenue").await.expect("staged")),
        ];
        let stopped = DerivedState::publish(&lake, &manifest, new, Some(1)).await;
        assert!(matches!(stopped, Err(LakeError::Interrupted(_))), "{stopped:?}");
        assert_eq!(lake.read(&derived_path("series")).await.expect("in place"), b"new series");
        assert_eq!(lake.read(&derived_path("revenue")).await.expect("in place"), b"old revenue", "not yet moved");

        lake.clear_staging().await.expect("the next writer's sweep");
        assert_eq!(lake.read(&derived_path("revenue")).await.expect("in place"), b"new revenue", "finished");
        assert!(lake.read(&publication_path()).await.is_err(), "the journal is gone");
        let record: serde_json::Value =
            serde_json::from_slice(&lake.read(&derived_state_path()).await.expect("recorded")).expect("JSON");
        let sizes: Vec<u64> =
            record["files"].as_array().expect("files").iter().map(|f| f["size"].as_u64().expect("size")).collect();
        assert_eq!(sizes, [10, 11], "the record names the new files");
        assert_eq!(list(&lake, STAGING_DIR).await, Vec::<String>::new(), "nothing staged is left");

        // staged, but stopped before the journal: swept, the set in place unchanged
        let _orphan = stage(b"never published").await.expect("staged");
        lake.clear_staging().await.expect("swept");
        assert_eq!(list(&lake, STAGING_DIR).await, Vec::<String>::new());
        assert_eq!(lake.read(&derived_path("revenue")).await.expect("in place"), b"new revenue");
    }
}
