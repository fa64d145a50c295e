//! The same ingest through a non-local object store (`InMemory`): put, atomic publish by
//! rename, the lock's create-if-absent, listing and the manifest all go through
//! `object_store`, as they would on S3, GCS or Azure.

use std::sync::Arc;

use churnlake_ingest::{NoProgress, Outcome, ingest};
use churnlake_lake::object_store::{ObjectStore, ObjectStoreExt, memory::InMemory, path::Path};
use churnlake_lake::{FileStatus, Lake, Location, Manifest};
use futures::TryStreamExt;

use crate::support::{fixture, options};

#[tokio::test]
async fn ingest_into_an_object_store_lake() {
    let store: Arc<dyn ObjectStore> = Arc::new(InMemory::new());
    let location = Location::parse("memory:///lake").expect("a URL");
    let lake = Lake::with_store(store.clone(), Path::from("lake"), location);
    let source = Location::Local(fixture("variants"));

    let first = ingest(&source, &lake, &options(), &NoProgress).await.expect("the ingest runs");
    assert!(first.ingested > 0, "nothing ingested: {first:?}");
    assert_eq!(first.failed, 0);

    let manifest = Manifest::load(&lake).await.expect("the manifest loads");
    let ingested: Vec<_> = manifest.entries.iter().filter(|e| e.status == FileStatus::Ingested).collect();
    assert_eq!(ingested.len() as u64, first.ingested);
    for entry in &ingested {
        assert_eq!(entry.rows_read, entry.rows_written + entry.rows_quarantined, "{}", entry.source_name);
        for output in &entry.outputs {
            let meta = store.head(&lake.path(&output.path)).await.expect("published output exists");
            assert!(meta.size > 0, "{} is empty", output.path);
            assert!(output.path.contains("/data_date="), "not Hive-partitioned: {}", output.path);
        }
    }
    let listed: Vec<_> = store.list(Some(&Path::from("lake"))).try_collect().await.expect("list");
    assert!(listed.iter().all(|m| !m.location.as_ref().contains("_staging")), "staging left behind");
    assert!(listed.iter().all(|m| !m.location.as_ref().ends_with("_lock")), "lock not released");

    let second = ingest(&source, &lake, &options(), &NoProgress).await.expect("the rerun runs");
    assert_eq!(second.ingested, 0);
    assert!(second.files.iter().all(|f| f.status == Outcome::AlreadyPresent || f.status == Outcome::Duplicate));
}
