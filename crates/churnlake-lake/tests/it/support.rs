//! Helpers shared by the integration tests.

use std::path::Path;
use std::sync::Arc;

use chrono::{NaiveDate, NaiveDateTime, TimeZone, Utc};
use churnlake_lake::object_store::memory::InMemory;
use churnlake_lake::object_store::path::Path as StorePath;
use churnlake_lake::object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use churnlake_lake::{FileStatus, Lake, Location, ManifestEntry, ReportKind, StampStyle};
use futures::TryStreamExt;

/// A lake on a local directory.
pub fn local_lake(dir: &Path) -> Lake {
    Lake::open(Location::Local(dir.to_path_buf()), std::iter::empty::<(&str, String)>()).expect("the lake opens")
}

/// A lake on an in-memory store.
pub fn memory_lake() -> Lake {
    let location = Location::parse("memory://").expect("a memory location");
    Lake::with_store(Arc::new(InMemory::new()), StorePath::default(), location)
}

/// The lake-relative paths of every object under `prefix` (sorted).
pub async fn list(lake: &Lake, prefix: &str) -> Vec<String> {
    let prefix = lake.path(prefix);
    let mut paths: Vec<String> = lake
        .store()
        .list(Some(&prefix))
        .map_ok(|meta| meta.location.to_string())
        .try_collect()
        .await
        .expect("the store lists");
    paths.sort();
    paths
}

/// Writes `bytes` at a lake-relative path directly (not through `put_atomic`).
pub async fn put(lake: &Lake, rel: &str, bytes: &[u8]) {
    lake.store().put(&lake.path(rel), PutPayload::from(bytes.to_vec())).await.expect("the store writes");
}

/// The pid of a process that has exited.
pub fn dead_pid() -> u32 {
    let mut child = std::process::Command::new("true").spawn().expect("a child process");
    let pid = child.id();
    child.wait().expect("the child exits");
    pid
}

pub fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("a valid date")
}

pub fn at(y: i32, m: u32, d: u32, h: u32, min: u32, s: u32) -> NaiveDateTime {
    date(y, m, d).and_hms_opt(h, min, s).expect("a valid time")
}

/// An ingested subscriptions entry for `name`, with every optional field empty.
pub fn entry(name: &str, content_hash: &str, data_date: NaiveDate, stamp: NaiveDateTime) -> ManifestEntry {
    ManifestEntry {
        entry_id: ManifestEntry::id_for(name, content_hash),
        source_name: name.to_owned(),
        source_path: format!("/drops/{name}"),
        size: 120,
        content_hash: content_hash.to_owned(),
        kind: ReportKind::Subscriptions,
        stamp,
        stamp_style: StampStyle::Yyyymmdd,
        delivery: None,
        data_date,
        encoding: None,
        layout: None,
        rows_read: 0,
        rows_written: 0,
        rows_quarantined: 0,
        status: FileStatus::Ingested,
        duplicate_of: None,
        error: None,
        outputs: Vec::new(),
        ingested_at: Utc.with_ymd_and_hms(2023, 5, 3, 7, 0, 0).single().expect("a valid instant"),
        churnlake_version: "0.1.0".to_owned(),
        quarantine_accepted_at: None,
        warnings: Vec::new(),
        pii: Default::default(),
    }
}
