//! What a scheduler running ingest every night relies on: long names work, odd entries
//! under a source are reported and never stop the rest, impossible stamps are refused with
//! a reason, a dry run types every file, failed files and quarantined rows stay reported
//! until acknowledged, one bad byte never garbles a UTF-8 file, and generic tables never
//! shadow the partition column or take gigabytes for a wide header.

use std::path::Path;

use tempfile::TempDir;

use churnlake_ingest::{IngestError, IngestOptions, NamePattern, Outcome};
use churnlake_lake::{FileStatus, Location, ReportKind, StampStyle};

use crate::support::{column, entry, open_lake, options, outcome, read_output, run, try_run};

pub const SUBSCRIPTIONS: &str = "Subscription ID,User ID,Create Date,Price\n500101,10101,05/09/2023,12.50\n";
/// One good row, one that cannot be typed.
pub const HALF_BAD: &str =
    "Subscription ID,User ID,Create Date,Price\n500201,10201,05/09/2023,1.00\n500202,10202,05/32/2023,1.00\n";
/// No row types: the file fails.
pub const ALL_BAD: &str = "Subscription ID,User ID,Create Date,Price\n500301,10301,05/32/2023,1.00\n";

pub fn write(dir: &Path, name: &str, bytes: impl AsRef<[u8]>) {
    std::fs::write(dir.join(name), bytes).expect("a drop is written");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_drop_with_a_name_too_long_for_an_entry_file_is_ingested_and_recognised_again() {
    let (drops, lake) = (TempDir::new().expect("drops"), TempDir::new().expect("lake"));
    let name = format!("acme_{}_subscription_20230510.csv", "x".repeat(250 - 31));
    assert_eq!(name.len(), 250);
    write(drops.path(), &name, SUBSCRIPTIONS);
    let first = run(drops.path(), lake.path(), &options()).await;
    assert_eq!(outcome(&first, &name).status, Outcome::Ingested, "{:?}", outcome(&first, &name).error);
    let recorded = entry(&first, &name);
    assert!(recorded.entry_id.len() + ".json".len() <= 255);
    assert_eq!(recorded.source_name, name, "the lineage keeps the whole name");
    let again = run(drops.path(), lake.path(), &options()).await;
    assert_eq!(outcome(&again, &name).status, Outcome::AlreadyPresent);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_source_without_any_drop_is_an_error_naming_it() {
    let lake = TempDir::new().expect("lake");
    let empty = TempDir::new().expect("an empty source");
    write(empty.path(), "README.txt", "not a drop");
    let missing = empty.path().join("no-such-dir");
    for source in [empty.path().to_path_buf(), missing.clone()] {
        let error = try_run(&source, lake.path(), &options()).await.expect_err("nothing to ingest");
        assert!(matches!(error, IngestError::NoDrops { .. }), "{error}");
        assert!(error.is_user_error());
        assert!(error.to_string().contains(&source.display().to_string()), "{error}");
    }
    let error = try_run(&missing, lake.path(), &options()).await.expect_err("missing");
    assert!(error.to_string().contains("does not exist"), "{error}");
    assert_eq!(std::fs::read_dir(lake.path()).expect("the lake").count(), 0, "nothing written");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sources_are_files_or_directories_and_there_may_be_several() {
    let (a, b, lake) = (TempDir::new().expect("a"), TempDir::new().expect("b"), TempDir::new().expect("lake"));
    write(a.path(), "acme_subscription_20230510.csv", SUBSCRIPTIONS);
    write(b.path(), "acme_subscription_20230511.csv", HALF_BAD);
    write(b.path(), "acme_subscription_20230512.csv", ALL_BAD);
    let empty = TempDir::new().expect("an empty source");
    let sources = [
        Location::Local(a.path().to_path_buf()),
        Location::Local(b.path().join("acme_subscription_20230511.csv")),
        Location::Local(empty.path().to_path_buf()),
    ];
    let listing = churnlake_ingest::list(&sources, &options()).await.expect("listed");
    assert_eq!(listing.drops(), 2, "one from the directory, the one file named");
    assert_eq!(listing.problems().len(), 1, "the empty source is reported");
    assert!(listing.problems()[0].path.contains(&empty.path().display().to_string()));
    let report =
        churnlake_ingest::ingest_listed(listing, &open_lake(lake.path()), &options(), &churnlake_ingest::NoProgress)
            .await
            .expect("ingested");
    assert_eq!(report.ingested, 2);
    assert!(report.has_problems());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dry_run_types_every_file_and_reports_what_the_run_would_do() {
    let (drops, lake) = (TempDir::new().expect("drops"), TempDir::new().expect("lake"));
    write(drops.path(), "acme_subscription_20230510.csv", SUBSCRIPTIONS);
    write(drops.path(), "acme_subscription_20230511.csv", HALF_BAD);
    write(drops.path(), "acme_subscription_20230512.csv", ALL_BAD);
    let dry = IngestOptions { dry_run: true, ..options() };
    let report = run(drops.path(), lake.path(), &dry).await;
    assert_eq!((report.ingested, report.failed), (2, 1));
    assert_eq!((report.rows_read, report.rows_written, report.rows_quarantined), (4, 2, 2));
    assert_eq!(outcome(&report, "acme_subscription_20230512.csv").status, Outcome::Failed);
    assert_eq!(report.quarantined_files.len(), 2);
    assert_eq!(report.attention.len(), 2, "the failed file and the one with quarantined rows");
    assert_eq!(std::fs::read_dir(lake.path()).expect("the lake").count(), 0, "nothing written");
    let real = run(drops.path(), lake.path(), &options()).await;
    assert_eq!((real.ingested, real.failed, real.rows_quarantined), (2, 1, 2), "as the dry run said");
    let again = run(drops.path(), lake.path(), &dry).await;
    assert_eq!(again.attention.len(), 2, "a failed file retried by a dry run is listed once: {:?}", again.attention);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_files_and_quarantined_rows_stay_reported_until_acknowledged() {
    let (drops, lake) = (TempDir::new().expect("drops"), TempDir::new().expect("lake"));
    write(drops.path(), "acme_subscription_20230510.csv", SUBSCRIPTIONS);
    write(drops.path(), "acme_subscription_20230511.csv", HALF_BAD);
    write(drops.path(), "acme_subscription_20230512.csv", ALL_BAD);
    let first = run(drops.path(), lake.path(), &options()).await;
    assert!(first.has_problems());
    let names = |report: &churnlake_ingest::IngestReport| {
        let mut names: Vec<String> = report.attention.iter().map(|a| a.name.clone()).collect();
        names.sort();
        names
    };
    let red = ["acme_subscription_20230511.csv", "acme_subscription_20230512.csv"];
    assert_eq!(names(&first), red);

    let retry = run(drops.path(), lake.path(), &options()).await;
    assert_eq!(outcome(&retry, "acme_subscription_20230511.csv").status, Outcome::AlreadyPresent);
    assert!(retry.has_problems(), "a re-run is still red");
    assert_eq!(names(&retry), red);

    // a new bad file arriving with the acknowledgement is not acknowledged unseen
    write(drops.path(), "acme_subscription_20230513.csv", HALF_BAD.replace("5002", "5004"));
    let accept = IngestOptions { accept_quarantine: true, ..options() };
    let accepting = run(drops.path(), lake.path(), &accept).await;
    assert_eq!(accepting.accepted, 2);
    assert_eq!(names(&accepting), ["acme_subscription_20230513.csv"]);
    let failed = entry(&accepting, "acme_subscription_20230512.csv");
    assert_eq!(failed.status, FileStatus::Failed, "retried, still failing");
    assert!(failed.quarantine_accepted_at.is_some(), "the acknowledgement survives the retry");

    let accepting = run(drops.path(), lake.path(), &accept).await;
    assert!(!accepting.has_problems(), "{:?}", accepting.attention);
    let after = run(drops.path(), lake.path(), &options()).await;
    assert!(!after.has_problems(), "{:?}", after.attention);
    assert!(after.attention.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrected_redelivery_clears_a_failed_file() {
    let (drops, lake) = (TempDir::new().expect("drops"), TempDir::new().expect("lake"));
    write(drops.path(), "acme_subscription_20230512.csv", ALL_BAD);
    assert!(run(drops.path(), lake.path(), &options()).await.has_problems());
    write(drops.path(), "acme_subscription_20230512.csv", SUBSCRIPTIONS);
    let fixed = run(drops.path(), lake.path(), &options()).await;
    assert!(!fixed.has_problems(), "{:?}", fixed.attention);
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn odd_entries_are_reported_with_their_path_and_the_rest_is_ingested() {
    use std::os::unix::ffi::OsStrExt;
    use std::os::unix::fs::{PermissionsExt, symlink};

    let (drops, lake) = (TempDir::new().expect("drops"), TempDir::new().expect("lake"));
    let root = drops.path();
    write(root, "acme_subscription_20230510.csv", SUBSCRIPTIONS);
    std::fs::create_dir(root.join("sub")).expect("a subdirectory");
    write(&root.join("sub"), "acme_subscription_20230511.csv", SUBSCRIPTIONS.replace("500101", "500102"));
    symlink(root, root.join("sub/loop")).expect("a symlink loop");
    symlink(root.join("self-link"), root.join("self-link")).expect("a link to itself");
    symlink(root.join("gone.csv"), root.join("acme_orders_20230510.csv")).expect("a dangling symlink");
    symlink("/dev/zero", root.join("acme_orders_20230511.csv")).expect("a link to /dev/zero");
    let fifo = root.join("acme_orders_20230512.csv");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status().expect("mkfifo runs");
    assert!(made.success());
    let non_utf8 = std::ffi::OsStr::from_bytes(b"acme_subscription_20230513\xff.csv");
    std::fs::write(root.join(non_utf8), SUBSCRIPTIONS).expect("a non-UTF-8 name");
    write(root, "acme_subscription_20230514\n.csv", SUBSCRIPTIONS);
    let locked = root.join("locked");
    std::fs::create_dir(&locked).expect("a directory");
    write(&locked, "acme_subscription_20230515.csv", SUBSCRIPTIONS);
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).expect("chmod");
    let locked_out = std::fs::read_dir(&locked).is_err(); // false when the tests run as root

    let report = tokio::time::timeout(std::time::Duration::from_secs(120), run(root, lake.path(), &options()))
        .await
        .expect("never hangs on a FIFO or /dev/zero");
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755)).expect("chmod back");

    assert_eq!(outcome(&report, "acme_subscription_20230510.csv").status, Outcome::Ingested);
    assert_eq!(outcome(&report, "acme_subscription_20230511.csv").status, Outcome::Ingested);
    let reason_of = |needle: &str| {
        report
            .problems
            .iter()
            .find(|p| p.path.contains(needle))
            .map(|p| p.reason.clone())
            .unwrap_or_else(|| panic!("no problem reported for {needle}: {:?}", report.problems))
    };
    assert!(reason_of("sub/loop").contains("symlink loop"));
    assert!(reason_of("self-link").contains("symlink loop"));
    assert!(reason_of("acme_orders_20230510.csv").contains("dangling symlink"));
    assert!(reason_of("acme_orders_20230511.csv").contains("character device"));
    assert!(reason_of("acme_orders_20230512.csv").contains("FIFO"));
    assert!(reason_of("20230513").contains("not valid UTF-8"));
    assert!(reason_of("20230514").contains("control character"));
    if locked_out {
        assert!(reason_of("locked").contains("cannot list"));
    }
    assert!(report.has_problems());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn impossible_and_implausible_stamps_are_refused_with_a_reason() {
    let (drops, lake) = (TempDir::new().expect("drops"), TempDir::new().expect("lake"));
    write(drops.path(), "acme_subscription_20230510.csv", SUBSCRIPTIONS);
    for (index, name) in
        ["SubscriptionCSV_00000101", "acme_subscription_99991231_full.csv", "acme_subscription_20230230.csv"]
            .iter()
            .enumerate()
    {
        write(drops.path(), name, SUBSCRIPTIONS.replace("500101", &format!("50010{}", index + 2)));
    }
    let report = run(drops.path(), lake.path(), &options()).await;
    assert_eq!(report.ingested, 1);
    let reason = |name: &str| {
        report.problems.iter().find(|p| p.path.ends_with(name)).map(|p| p.reason.clone()).unwrap_or_default()
    };
    assert!(reason("SubscriptionCSV_00000101").contains("outside the plausible range"));
    assert!(reason("acme_subscription_99991231_full.csv").contains("outside the plausible range"));
    assert!(reason("acme_subscription_20230230.csv").contains("not a valid YYYYMMDD date"));
    assert!(report.skipped.is_empty(), "refused, not silently skipped: {:?}", report.skipped);

    let wide =
        IngestOptions { earliest_stamp: chrono::NaiveDate::MIN, latest_stamp: chrono::NaiveDate::MAX, ..options() };
    let lake2 = TempDir::new().expect("lake");
    let report = run(drops.path(), lake2.path(), &wide).await;
    assert_eq!(report.ingested, 3, "the range is configurable");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pattern_reads_its_stamp_in_its_own_format() {
    let (drops, lake) = (TempDir::new().expect("drops"), TempDir::new().expect("lake"));
    write(drops.path(), "acme_subs_20230502061500.csv", SUBSCRIPTIONS);
    let pattern = |stamp_format: Option<&str>| NamePattern {
        kind: ReportKind::Subscriptions,
        regex: r"^(?P<client>.+)_subs_(?P<stamp>\d{14})\.csv$".into(),
        stamp_format: stamp_format.map(str::to_owned),
    };
    let misread = IngestOptions { patterns: vec![pattern(None)], ..options() };
    let report = try_run(drops.path(), lake.path(), &misread).await.expect_err("no drop");
    assert!(report.to_string().contains("MMDDYYYYHHMMSS"), "{report}");
    let read = IngestOptions { patterns: vec![pattern(Some("%Y%m%d%H%M%S"))], ..options() };
    let report = run(drops.path(), lake.path(), &read).await;
    let recorded = entry(&report, "acme_subs_20230502061500.csv");
    assert_eq!(recorded.stamp.to_string(), "2023-05-02 06:15:00");
    assert_eq!((recorded.stamp_style, recorded.data_date.to_string()), (StampStyle::Custom, "2023-05-01".into()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_invalid_byte_in_a_utf8_file_is_replaced_and_reported_never_garbling_the_rest() {
    let (drops, lake) = (TempDir::new().expect("drops"), TempDir::new().expect("lake"));
    let name = "acme_subscription_20230510.csv";
    let mut bytes = b"\xEF\xBB\xBFSubscription ID,User ID,First Name,Create Date,Price\n".to_vec();
    bytes.extend_from_slice("500101,10101,Zoë,05/09/2023,1.00\n500102,10102,José,05/09/2023,1.00\n".as_bytes());
    let bad_at = bytes.len() + "500103,10103,Ren".len();
    bytes.extend_from_slice(b"500103,10103,Ren\xE9e,05/09/2023,1.00\n");
    write(drops.path(), name, &bytes);
    let report = run(drops.path(), lake.path(), &options()).await;
    let recorded = entry(&report, name);
    assert_eq!(recorded.encoding.as_deref(), Some("utf-8-bom"));
    assert_eq!(recorded.rows_written, 3);
    let batch = read_output(lake.path(), recorded, "subscriptions");
    assert_eq!(column(&batch, "first_name"), ["Zoë", "José", "Ren\u{fffd}e"]);
    assert_eq!(recorded.warnings.len(), 1, "{:?}", recorded.warnings);
    assert!(recorded.warnings[0].starts_with(&format!("line 4, byte offset {bad_at}:")), "{:?}", recorded.warnings);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn windows_1252_rows_appended_to_utf8_rows_garble_neither() {
    // no BOM; three UTF-8 names, then a row in Windows-1252 with more invalid bytes than
    // the file has valid multi-byte sequences
    let (drops, lake) = (TempDir::new().expect("drops"), TempDir::new().expect("lake"));
    let name = "acme_subscription_20230510.csv";
    let mut bytes = b"Subscription ID,User ID,First Name,Create Date,Price\n".to_vec();
    bytes.extend_from_slice("500001,10001,Zoë,05/09/2023,1.00\n500002,10002,José,05/09/2023,1.00\n".as_bytes());
    bytes.extend_from_slice("500003,10003,André,05/09/2023,1.00\n".as_bytes());
    let appended_at = bytes.len();
    bytes.extend_from_slice(b"500004,10004,\x93Ren\xE9e\x94 \xE9,05/09/2023,1.00\n");
    write(drops.path(), name, &bytes);
    let report = run(drops.path(), lake.path(), &options()).await;
    let recorded = entry(&report, name);
    assert_eq!(recorded.encoding.as_deref(), Some("utf-8+windows-1252"));
    assert_eq!(recorded.rows_written, 4);
    let batch = read_output(lake.path(), recorded, "subscriptions");
    assert_eq!(column(&batch, "first_name"), ["Zoë", "José", "André", "\u{201c}Renée\u{201d} é"]);
    assert_eq!(
        recorded.warnings,
        [format!(
            "line 5, byte offset {appended_at}: not UTF-8, read as Windows-1252 (the file's other lines are UTF-8)"
        )]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generic_tables_never_shadow_the_partition_and_refuse_a_huge_header() {
    let (drops, lake) = (TempDir::new().expect("drops"), TempDir::new().expect("lake"));
    write(drops.path(), "acme_orders_20230510.csv", "Order ID,Data Date,Order Total\nA-1,05/09/2023,1.00\n");
    let header: Vec<String> = (0..2_001).map(|i| format!("Column {i}")).collect();
    let row: Vec<String> = (0..2_001).map(|i| i.to_string()).collect();
    write(drops.path(), "acme_orders_20230511.csv", format!("{}\n{}\n", header.join(","), row.join(",")));
    let report = run(drops.path(), lake.path(), &options()).await;
    let orders = read_output(lake.path(), entry(&report, "acme_orders_20230510.csv"), "orders");
    assert!(orders.schema().column_with_name("data_date").is_none(), "the partition is not a file column");
    assert_eq!(column(&orders, "data_date_2"), ["05/09/2023"], "a renamed column is text, as any `_2` is");
    let wide = outcome(&report, "acme_orders_20230511.csv");
    assert_eq!(wide.status, Outcome::Failed);
    assert!(wide.error.as_deref().unwrap_or_default().contains("2001 columns, more than the 2000"), "{:?}", wide.error);
    let recorded = entry(&report, "acme_orders_20230511.csv");
    assert_eq!((recorded.rows_read, recorded.rows_quarantined), (2, 2), "its header and row are in the quarantine");
}
