//! The manifest: entries round-trip through their JSON files, replace one another by entry
//! id, load sorted, and an empty lake has an empty manifest.

use tempfile::TempDir;

use churnlake_lake::{
    FileStatus, LakeError, MANIFEST_DIR, Manifest, ManifestEntry, OutputFile, ReportKind, StampStyle,
    manifest_entry_path, quarantine_file_path, raw_file_path,
};

use crate::support::{at, date, entry, list, local_lake, memory_lake, put};

const HASH: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

/// An entry with every field set to something other than its default.
fn full_entry() -> ManifestEntry {
    let data_date = date(2023, 5, 1);
    let stem = "subscriber_events-9f86d081884c7d65";
    let mut entry = entry("crm_subscriber_events_05022023080044.csv", HASH, data_date, at(2023, 5, 2, 8, 0, 44));
    entry.kind = ReportKind::SubscriberEvents;
    entry.stamp_style = StampStyle::Mmddyyyyhhmmss;
    entry.delivery = Some("delta".into());
    entry.encoding = Some("windows-1252".into());
    entry.layout = Some("6 columns".into());
    (entry.rows_read, entry.rows_written, entry.rows_quarantined) = (5, 4, 1);
    entry.error = Some("line 3: not an event code".into());
    entry.duplicate_of = Some("other.csv.0123456789abcdef".into());
    entry.quarantine_accepted_at = Some(entry.ingested_at);
    entry.warnings = vec!["line 2, byte offset 40: invalid UTF-8 byte 0xFF replaced by U+FFFD".into()];
    entry.outputs = vec![
        OutputFile {
            table: "subscriber_events".into(),
            path: raw_file_path("subscriber_events", data_date, stem),
            rows: 4,
        },
        OutputFile { table: "quarantine".into(), path: quarantine_file_path(data_date, stem), rows: 1 },
    ];
    entry
}

#[tokio::test]
async fn an_empty_lake_has_an_empty_manifest() {
    let dir = TempDir::new().expect("a temporary lake");
    for lake in [local_lake(dir.path()), memory_lake()] {
        let manifest = Manifest::load(&lake).await.expect("loads");
        assert!(manifest.entries.is_empty());
        assert_eq!(manifest.data_date_range(), None);
        assert_eq!(manifest.files_of("subscriptions"), Vec::<String>::new());
    }
    assert!(!dir.path().join(MANIFEST_DIR).exists(), "loading writes nothing");
}

#[tokio::test]
async fn entries_round_trip_through_their_json_files() {
    let dir = TempDir::new().expect("a temporary lake");
    let entry = full_entry();
    for lake in [local_lake(dir.path()), memory_lake()] {
        Manifest::record(&lake, &entry).await.expect("recorded");
        let rel = manifest_entry_path(&entry.entry_id);
        assert_eq!(list(&lake, MANIFEST_DIR).await, [lake.path(&rel).to_string()]);
        let json: serde_json::Value =
            serde_json::from_slice(&lake.read(&rel).await.expect("readable")).expect("an entry is JSON");
        assert_eq!(json["kind"], "subscriber_events");
        assert_eq!(json["stamp_style"], "mmddyyyyhhmmss");
        assert_eq!(json["status"], "ingested");
        assert_eq!(json["data_date"], "2023-05-01");

        let loaded = Manifest::load(&lake).await.expect("loads");
        assert_eq!(loaded.entries, std::slice::from_ref(&entry));
    }
    assert!(dir.path().join("_manifest/crm_subscriber_events_05022023080044.csv.9f86d081884c7d65.json").is_file());
}

#[tokio::test]
async fn recording_an_entry_id_again_replaces_the_entry() {
    let lake = memory_lake();
    let mut entry = entry("acme_subscription_20230502.csv", HASH, date(2023, 5, 1), at(2023, 5, 2, 0, 0, 0));
    entry.status = FileStatus::Failed;
    Manifest::record(&lake, &entry).await.expect("recorded");
    entry.status = FileStatus::Ingested;
    entry.rows_written = 7;
    Manifest::record(&lake, &entry).await.expect("recorded again");
    let loaded = Manifest::load(&lake).await.expect("loads");
    assert_eq!(loaded.entries, [entry]);
}

#[tokio::test]
async fn entries_load_sorted_by_data_date_stamp_then_name() {
    let lake = memory_lake();
    let early = at(2023, 5, 2, 8, 0, 0);
    let late = at(2023, 5, 2, 9, 0, 0);
    let recorded = [
        entry("b.csv", "1111111111111111", date(2023, 5, 1), early),
        entry("z.csv", "2222222222222222", date(2023, 4, 30), late),
        entry("a.csv", "3333333333333333", date(2023, 5, 1), late),
        entry("a.csv", "4444444444444444", date(2023, 5, 1), early),
    ];
    for entry in &recorded {
        Manifest::record(&lake, entry).await.expect("recorded");
    }
    let loaded = Manifest::load(&lake).await.expect("loads");
    let order: Vec<&str> = loaded.entries.iter().map(|e| e.entry_id.as_str()).collect();
    assert_eq!(
        order,
        ["z.csv.2222222222222222", "a.csv.4444444444444444", "b.csv.1111111111111111", "a.csv.3333333333333333"]
    );
}

#[tokio::test]
async fn only_json_files_are_entries_and_a_bad_one_is_named() {
    let lake = memory_lake();
    Manifest::record(&lake, &full_entry()).await.expect("recorded");
    put(&lake, &format!("{MANIFEST_DIR}/README.txt"), b"not an entry").await;
    assert_eq!(Manifest::load(&lake).await.expect("loads").entries.len(), 1);

    put(&lake, &manifest_entry_path("broken"), b"{\"entry_id\": ").await;
    let error = Manifest::load(&lake).await.expect_err("a broken entry");
    let LakeError::Manifest { path, .. } = &error else { panic!("not a manifest error: {error}") };
    assert_eq!(path, "memory:///_manifest/broken.json", "the error names the entry by its full address");
}

#[test]
fn what_the_entries_say_about_the_lake() {
    let output = |table: &str, path: &str, rows| OutputFile { table: table.into(), path: path.into(), rows };
    let mut first = entry("a.csv", "1111111111111111", date(2023, 5, 1), at(2023, 5, 2, 0, 0, 0));
    first.outputs = vec![output("subscriptions", "raw/a", 3), output("quarantine", "q/a", 0)];
    let mut failed = entry("b.csv", "2222222222222222", date(2023, 4, 1), at(2023, 4, 2, 0, 0, 0));
    failed.status = FileStatus::Failed;
    failed.outputs = vec![output("quarantine", "q/b", 2)];
    let mut duplicate = entry("c.csv", "3333333333333333", date(2023, 5, 9), at(2023, 5, 10, 0, 0, 0));
    duplicate.status = FileStatus::Duplicate;
    let mut last = entry("d.csv", "4444444444444444", date(2023, 5, 3), at(2023, 5, 4, 0, 0, 0));
    last.outputs = vec![output("subscriptions", "raw/d", 1)];
    let manifest = Manifest { entries: vec![first, failed, duplicate, last] };

    let ingested: Vec<&str> = manifest.ingested().map(|e| e.source_name.as_str()).collect();
    assert_eq!(ingested, ["a.csv", "d.csv"]);
    assert_eq!(manifest.files_of("subscriptions"), ["raw/a", "raw/d"]);
    assert_eq!(manifest.files_of("quarantine"), ["q/b"], "files without rows are not read");
    assert_eq!(manifest.data_date_range(), Some((date(2023, 5, 1), date(2023, 5, 9))), "failed files do not count");
}

#[test]
fn entry_ids_are_the_safe_name_and_the_short_hash() {
    assert_eq!(ManifestEntry::id_for("acme subs.csv", HASH), "acme_subs.csv.9f86d081884c7d65");
    assert_eq!(ManifestEntry::id_for("Ab-1_x.CSV", HASH), "Ab-1_x.CSV.9f86d081884c7d65");
    assert_eq!(ManifestEntry::id_for("dir/ré sumé?.csv", HASH), "dir_r__sum__.csv.9f86d081884c7d65");
    assert_eq!(ManifestEntry::id_for("a.csv", "abc"), "a.csv.abc", "a short hash is kept whole");
}

#[tokio::test]
async fn entries_of_long_names_fit_a_file_name_and_short_names_keep_their_ids() {
    let dir = TempDir::new().expect("a temporary lake");
    let lake = local_lake(dir.path());
    // 233 safe bytes was the longest that worked; 234 and more made every ingest fail
    let short = format!("acme_{}_subscription_20230502.csv", "s".repeat(233 - 31));
    assert_eq!(short.len(), 233);
    assert_eq!(ManifestEntry::id_for(&short, HASH), format!("{short}.9f86d081884c7d65"), "unchanged");
    let long_a = format!("acme_{}_a_subscription_20230502.csv", "x".repeat(300));
    let long_b = format!("acme_{}_b_subscription_20230502.csv", "x".repeat(300));
    let accented = format!("acme_{}_subscription_20230502.csv", "é".repeat(200));
    let ids: Vec<String> =
        [&short, &long_a, &long_b, &accented].iter().map(|n| ManifestEntry::id_for(n, HASH)).collect();
    assert_ne!(ids[1], ids[2], "long names that start alike keep distinct ids");
    for (name, id) in [&short, &long_a, &long_b, &accented].iter().zip(&ids) {
        assert!(id.len() + ".json".len() <= 255, "{} bytes", id.len());
        let mut entry = entry(name, HASH, date(2023, 5, 1), at(2023, 5, 2, 0, 0, 0));
        entry.entry_id = id.clone();
        Manifest::record(&lake, &entry).await.expect("the entry is written");
    }
    let loaded = Manifest::load(&lake).await.expect("the manifest loads");
    assert_eq!(loaded.entries.len(), 4);
}

/// The snapshot is a cache: a load takes from it only the entries whose object is listed
/// with the size and e-tag it recorded; a replaced, added or removed entry is read (or left
/// out) as the listing says, and `load_and_snapshot` brings the snapshot up to date.
#[tokio::test]
async fn the_snapshot_never_hides_a_change_of_the_entries() {
    use churnlake_lake::MANIFEST_SNAPSHOT;
    let dir = TempDir::new().expect("a temporary lake");
    for lake in [local_lake(dir.path()), memory_lake()] {
        let mut first = full_entry();
        first.entry_id = "a.csv.1111111111111111".into();
        let mut second = full_entry();
        second.entry_id = "b.csv.2222222222222222".into();
        Manifest::record(&lake, &first).await.expect("recorded");
        Manifest::record(&lake, &second).await.expect("recorded");
        let loaded = Manifest::load_and_snapshot(&lake).await.expect("loads");
        assert_eq!(loaded.entries.len(), 2);
        assert!(lake.read(MANIFEST_SNAPSHOT).await.is_ok(), "the snapshot is written");

        // replaced behind the snapshot's back: the new content is read
        let mut changed = second.clone();
        changed.rows_read = 4242;
        Manifest::record(&lake, &changed).await.expect("replaced");
        let loaded = Manifest::load(&lake).await.expect("loads");
        let rows: Vec<u64> = loaded.entries.iter().map(|e| e.rows_read).collect();
        assert!(rows.contains(&4242), "the replaced entry is read from its object: {rows:?}");

        // removed: gone, though the snapshot still names it
        let removed = lake.path(&manifest_entry_path(&first.entry_id));
        churnlake_lake::object_store::ObjectStoreExt::delete(lake.store().as_ref(), &removed).await.expect("removed");
        let loaded = Manifest::load(&lake).await.expect("loads");
        assert_eq!(loaded.entries.iter().map(|e| e.entry_id.as_str()).collect::<Vec<_>>(), [changed.entry_id.as_str()]);

        // a snapshot that cannot be read is no snapshot
        put(&lake, MANIFEST_SNAPSHOT, b"{not json").await;
        assert_eq!(Manifest::load(&lake).await.expect("loads").entries, loaded.entries);
        let again = Manifest::load_and_snapshot(&lake).await.expect("loads and rewrites");
        assert_eq!(again.entries, loaded.entries);
        let snapshot: serde_json::Value =
            serde_json::from_slice(&lake.read(MANIFEST_SNAPSHOT).await.expect("rewritten")).expect("JSON");
        assert_eq!(snapshot["entries"].as_array().map(Vec::len), Some(1), "the snapshot holds the one entry left");
    }
}

/// Two copies of one content: `late.csv` recorded first, `early.csv` (stamped earlier)
/// taking over from it. Both hold rows and outputs.
fn copies() -> (ManifestEntry, ManifestEntry) {
    let day = date(2024, 3, 8);
    let with_rows = |name: &str, stamp| {
        let mut entry = entry(name, HASH, day, stamp);
        (entry.rows_read, entry.rows_written) = (3, 3);
        entry.outputs = vec![OutputFile {
            table: "subscriptions".into(),
            path: raw_file_path("subscriptions", day, &format!("subscriptions-{name}")),
            rows: 3,
        }];
        entry
    };
    (with_rows("early.csv", at(2024, 3, 9, 8, 0, 0)), with_rows("late.csv", at(2024, 3, 11, 9, 0, 0)))
}

#[tokio::test]
async fn readers_see_a_hand_over_in_flight_as_finished() {
    let (early, late) = copies();
    // the new copy recorded, the old one not yet demoted: writers see both (and repair),
    // readers see the canonical copy holding the content and the other as its duplicate
    let lake = memory_lake();
    Manifest::record(&lake, &late).await.expect("recorded");
    Manifest::record(&lake, &early).await.expect("recorded");
    let raw = Manifest::load(&lake).await.expect("loads");
    assert_eq!(raw.files_of("subscriptions").len(), 2);
    let read = Manifest::load_for_reading(&lake).await.expect("loads");
    assert_eq!(read.files_of("subscriptions"), early.outputs.iter().map(|o| o.path.clone()).collect::<Vec<_>>());
    let demoted = read.entries.iter().find(|e| e.source_name == "late.csv").expect("the later copy");
    assert_eq!((demoted.status, demoted.duplicate_of.as_deref()), (FileStatus::Duplicate, Some(&*early.entry_id)));

    // the old copy read already demoted while the new copy's entry was not yet listed: the
    // reader lists again until it sees the entry the duplicate names
    let lake = memory_lake();
    Manifest::record(&lake, &late.demoted_to(&early.entry_id)).await.expect("recorded");
    let writer = {
        let (lake, early) = (lake.clone(), early.clone());
        tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            Manifest::record(&lake, &early).await.expect("recorded");
        })
    };
    let read = Manifest::load_for_reading(&lake).await.expect("loads");
    writer.await.expect("the writer ran");
    assert_eq!(read.files_of("subscriptions"), early.outputs.iter().map(|o| o.path.clone()).collect::<Vec<_>>());

    // a duplicate of an entry that never comes: the reader gives up listing and goes on
    let lake = memory_lake();
    Manifest::record(&lake, &late.demoted_to("gone.csv.0123456789abcdef")).await.expect("recorded");
    let read = Manifest::load_for_reading(&lake).await.expect("loads");
    assert_eq!(read.entries.len(), 1);
    assert!(read.files_of("subscriptions").is_empty());
}
