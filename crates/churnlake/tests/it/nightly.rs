//! The command line as a nightly scheduler runs it: exit codes that stay red until a
//! problem is fixed or acknowledged, no lake created by a run that finds nothing or only
//! looks, several sources in one run, writers that clean up after a killed predecessor, and
//! SQL over generic tables whose files differ in columns.

use std::path::Path;

use crate::support::{bin, copy_tree, path, repo, run, run_ok};

const SUBSCRIPTIONS: &str = "Subscription ID,User ID,Create Date,Price\n500101,10101,05/09/2023,12.50\n";
const HALF_BAD: &str =
    "Subscription ID,User ID,Create Date,Price\n500201,10201,05/09/2023,1.00\n500202,10202,05/32/2023,1.00\n";

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::create_dir_all(dir).expect("a directory");
    std::fs::write(dir.join(name), text).expect("written");
}

fn code(args: &[&str]) -> (i32, String) {
    let out = run(args);
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn a_source_without_drops_exits_1_naming_it_and_creates_no_lake() {
    let dir = tempfile::tempdir().expect("temp dir");
    let lake = dir.path().join("lake");
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).expect("a directory");
    let missing = dir.path().join("missing");
    for source in [&empty, &missing] {
        for dry in [false, true] {
            let mut args = vec!["ingest", path(source), "--lake", path(&lake)];
            if dry {
                args.push("--dry-run");
            }
            let (code, stderr) = code(&args);
            assert_eq!(code, 1, "{args:?}: {stderr}");
            assert!(stderr.contains(path(source)) && stderr.contains("no drop"), "{stderr}");
            assert!(!lake.exists(), "{args:?} created the lake");
        }
    }
}

#[test]
fn a_dry_run_creates_no_lake_and_reports_what_the_run_would() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (drops, lake) = (dir.path().join("drops"), dir.path().join("lake"));
    write(&drops, "acme_subscription_20230510.csv", SUBSCRIPTIONS);
    write(&drops, "acme_subscription_20230511.csv", HALF_BAD);
    write(&drops, "acme_subscription_20230512.csv", "Subscription ID,Price\n1,abc\n");
    let out = run_ok(&["ingest", path(&drops), "--lake", path(&lake), "--dry-run", "--format", "json"], &[1]);
    assert!(!lake.exists(), "a dry run writes nothing, not even the lake directory");
    let report: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!((report["ingested"].as_u64(), report["failed"].as_u64()), (Some(2), Some(1)));
    assert_eq!(report["rows_quarantined"].as_u64(), Some(2));
}

#[test]
fn reruns_stay_red_until_the_quarantine_is_acknowledged() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (drops, lake) = (dir.path().join("drops"), dir.path().join("lake"));
    write(&drops, "acme_subscription_20230510.csv", SUBSCRIPTIONS);
    write(&drops, "acme_subscription_20230511.csv", HALF_BAD);
    let args = ["ingest", path(&drops), "--lake", path(&lake)];
    assert_eq!(code(&args).0, 1, "rows in the quarantine");
    let (again, stderr) = code(&args);
    assert_eq!(again, 1, "a re-run is still red: {stderr}");
    assert!(stderr.contains("needs attention: acme_subscription_20230511.csv"), "{stderr}");
    let accept: Vec<&str> = args.iter().copied().chain(["--accept-quarantine"]).collect();
    let (accepted, stderr) = code(&accept);
    assert_eq!(accepted, 0, "{stderr}");
    assert!(stderr.contains("acknowledged 1 files"), "{stderr}");
    assert_eq!(code(&args).0, 0, "acknowledged: green from now on");
    let manifest = run_ok(&["drops", "--lake", path(&lake), "--format", "json"], &[0]);
    assert!(manifest.contains("quarantine_accepted_at"), "recorded in the manifest entry");
}

#[test]
fn ingest_takes_several_sources_files_as_well_as_directories() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (a, b, lake) = (dir.path().join("a"), dir.path().join("b"), dir.path().join("lake"));
    write(&a, "acme_subscription_20230510.csv", SUBSCRIPTIONS);
    write(&b, "acme_subscription_20230511.csv", &SUBSCRIPTIONS.replace("500101", "500102"));
    write(&b, "acme_subscription_20230512.csv", HALF_BAD);
    let one_file = b.join("acme_subscription_20230511.csv");
    let out = run_ok(&["ingest", path(&a), path(&one_file), "--lake", path(&lake), "--format", "json"], &[0]);
    let report: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(report["ingested"].as_u64(), Some(2), "{out}");
    let help = run_ok(&["ingest", "--help"], &[0]);
    assert!(help.contains("--accept-quarantine") && help.contains("Exit codes"), "{help}");
}

#[test]
fn the_plausible_stamp_range_is_configurable() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (drops, lake) = (dir.path().join("drops"), dir.path().join("lake"));
    write(&drops, "acme_subscription_20230510.csv", SUBSCRIPTIONS);
    write(&drops, "acme_subscription_20230520.csv", &SUBSCRIPTIONS.replace("500101", "500102"));
    let config = dir.path().join("churnlake.toml");
    std::fs::write(&config, "[ingest]\nearliest_stamp = \"2023-05-15\"\n").expect("a configuration");
    let out = run(&["ingest", path(&drops), "--lake", path(&lake), "--config", path(&config)]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("acme_subscription_20230510.csv: named like a subscriptions drop, but its stamp"),
        "{stderr}"
    );
    assert!(stderr.contains("outside the plausible range 2023-05-15.."), "{stderr}");
    assert!(stderr.contains("1 ingested"), "{stderr}");
}

#[test]
fn writers_remove_what_a_killed_writer_left_in_staging() {
    let dir = tempfile::tempdir().expect("temp dir");
    let lake = dir.path().join("lake");
    let drops = repo().join("tests/conformance/cases/01-lifecycle/drops");
    run_ok(&["ingest", path(&drops), "--lake", path(&lake)], &[0]);
    let staging = lake.join("_staging");
    for command in ["build", "ingest"] {
        std::fs::create_dir_all(&staging).expect("the staging directory");
        std::fs::write(staging.join("4242-17f3a-0#1"), b"half written").expect("a leftover");
        std::fs::write(staging.join("4242-17f3a-1"), b"staged").expect("a leftover");
        let args: Vec<&str> = match command {
            "build" => vec!["build", "--lake", path(&lake)],
            _ => vec!["ingest", path(&drops), "--lake", path(&lake)],
        };
        run_ok(&args, &[0]);
        let left: Vec<_> = std::fs::read_dir(&staging).expect("readable").flatten().map(|e| e.file_name()).collect();
        assert!(left.is_empty(), "{command} left {left:?}");
    }
    assert!(!lake.join("_lock").exists(), "the lock is released");
}

#[test]
fn sql_reads_orders_files_whose_columns_differ() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (drops, lake) = (dir.path().join("drops"), dir.path().join("lake"));
    write(&drops, "acme_orders_20230510.csv", "Order ID,Order Total,Data Date\nA-1,1.00,05/01/2023\n");
    write(&drops, "acme_orders_20230511.csv", "Order ID,Coupon,Quantity\nA-2,SPRING,3\n");
    write(&drops, "acme_subscription_20230510.csv", SUBSCRIPTIONS);
    run_ok(&["ingest", path(&drops), "--lake", path(&lake)], &[0]);
    let out = run_ok(
        &[
            "sql",
            "SELECT order_id, order_total, coupon, quantity, data_date_2, data_date FROM orders ORDER BY order_id",
            "--lake",
            path(&lake),
            "--format",
            "csv",
        ],
        &[0],
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "order_id,order_total,coupon,quantity,data_date_2,data_date");
    assert_eq!(lines[1], "A-1,1.00,,,05/01/2023,2023-05-09");
    assert_eq!(lines[2], "A-2,,SPRING,3,,2023-05-10");
}

#[test]
fn warnings_logged_while_listing_never_block_the_run() {
    // the default log level (warn): a problem found while listing is logged from a worker
    // thread while the command writes its own messages to stderr
    let dir = tempfile::tempdir().expect("temp dir");
    let (drops, lake) = (dir.path().join("drops"), dir.path().join("lake"));
    write(&drops, "acme_subscription_20230510.csv", SUBSCRIPTIONS);
    write(&drops, "SubscriptionCSV_00000101", SUBSCRIPTIONS);
    write(&drops, "README.txt", "not a drop");
    for verbosity in [None, Some("-v")] {
        let mut command = std::process::Command::new(bin());
        command.args(["ingest", path(&drops), "--lake", path(&lake)]).args(verbosity);
        let mut child = command
            .env_remove("CHURNLAKE_LOG")
            .env_remove("CHURNLAKE_LAKE")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("the binary runs");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
        let status = loop {
            if let Some(status) = child.try_wait().expect("waitable") {
                break Some(status);
            }
            if std::time::Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        };
        let status = status.unwrap_or_else(|| panic!("ingest {verbosity:?} hung"));
        assert_eq!(status.code(), Some(1), "the implausible stamp is a problem");
    }
}

/// Queries running while an earlier copy of recorded content takes over (its outputs
/// published, the later copy's deleted) never fail and always give the one answer.
#[test]
fn readers_never_fail_while_an_ingest_takes_over_their_files() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sample = repo().join("data/sample/drops/outgoing/2024");
    // the subscription report of 03-08 is first delivered again two days later; the
    // original arrives after that and takes over
    let original = "SubscriptionCSV_03092024071024";
    let (late, early) = (dir.path().join("late"), dir.path().join("early"));
    std::fs::create_dir_all(&late).expect("a directory");
    std::fs::create_dir_all(&early).expect("a directory");
    for entry in std::fs::read_dir(&sample).expect("the sample") {
        let file = entry.expect("a drop").path();
        let name = file.file_name().and_then(|n| n.to_str()).expect("a name").to_owned();
        if name == original {
            std::fs::copy(&file, late.join("SubscriptionCSV_03112024090000")).expect("copying");
            std::fs::copy(&file, early.join(&name)).expect("copying");
        } else {
            std::fs::copy(&file, late.join(&name)).expect("copying");
        }
    }
    let template = dir.path().join("template");
    run_ok(&["ingest", path(&late), "--lake", path(&template), "-q"], &[0, 1]);
    let expected = run_ok(&["series", "--lake", path(&template), "--format", "csv"], &[0]);
    for round in 0..12 {
        let lake = dir.path().join(format!("lake-{round}"));
        copy_tree(&template, &lake);
        let reader = {
            let lake = lake.clone();
            let expected = expected.clone();
            std::thread::spawn(move || {
                for _ in 0..6 {
                    let out = run(&["series", "--lake", path(&lake), "--format", "csv"]);
                    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
                    assert_eq!(String::from_utf8_lossy(&out.stdout), expected);
                }
            })
        };
        let out = run(&["ingest", path(&early), "--lake", path(&lake), "-q"]);
        assert!(matches!(out.status.code(), Some(0 | 1)), "{}", String::from_utf8_lossy(&out.stderr));
        reader.join().expect("the reader never fails");
        let drops = run_ok(&["drops", "--lake", path(&lake), "--format", "csv"], &[0]);
        assert!(
            drops.contains("SubscriptionCSV_03112024090000,subscriptions,2024-03-10,2024-03-11T09:00:00,duplicate"),
            "{drops}"
        );
    }
}

/// A `build` scheduled while the night's `ingest` still runs: without `--wait-lock` it
/// exits 1 naming the holder; with it, it waits for the ingest to finish and builds from
/// everything the ingest wrote (no stale-table warning, the derived series is the series).
#[test]
fn a_build_during_an_ingest_waits_for_it_with_wait_lock() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut opts = churnlake_generate::Preset::Demo.options(dir.path().join("gen"));
    (opts.days, opts.subs_per_day, opts.seed) = (90, 8, 5);
    let drops = churnlake_generate::generate(&opts).expect("generation succeeds").drops_dir;
    let lake = dir.path().join("lake");
    let mut ingest = std::process::Command::new(bin())
        .args(["ingest", path(&drops), "--lake", path(&lake), "--jobs", "1", "-q"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("ingest starts");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    while !lake.join("_lock").exists() && ingest.try_wait().expect("waitable").is_none() {
        assert!(std::time::Instant::now() < deadline, "the ingest never took the lock");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let refused = run(&["build", "--lake", path(&lake), "-q"]);
    if ingest.try_wait().expect("waitable").is_none() {
        // the ingest still held the lock when the build gave up
        assert_eq!(refused.status.code(), Some(1), "{}", String::from_utf8_lossy(&refused.stderr));
        assert!(String::from_utf8_lossy(&refused.stderr).contains("locked by another ingest"));
    }
    let waited = run(&["build", "--lake", path(&lake), "-q", "--wait-lock", "300"]);
    assert_eq!(waited.status.code(), Some(0), "{}", String::from_utf8_lossy(&waited.stderr));
    let status = ingest.wait().expect("the ingest ends");
    assert!(matches!(status.code(), Some(0 | 1)), "ingest: {status:?}");
    let derived = run(&[
        "sql",
        "SELECT date, active_subscriptions FROM derived_series ORDER BY date",
        "--lake",
        path(&lake),
        "--format",
        "csv",
    ]);
    assert_eq!(derived.status.code(), Some(0));
    assert!(
        !String::from_utf8_lossy(&derived.stderr).contains("stale"),
        "{}",
        String::from_utf8_lossy(&derived.stderr)
    );
    let series = run_ok(&["series", "--lake", path(&lake), "--format", "csv"], &[0]);
    let active: Vec<String> =
        series.lines().map(|line| line.split(',').take(2).collect::<Vec<_>>().join(",")).collect();
    let derived: Vec<String> = String::from_utf8_lossy(&derived.stdout).lines().map(str::to_owned).collect();
    assert_eq!(derived[1..], active[1..], "the build saw the whole ingest");
}
