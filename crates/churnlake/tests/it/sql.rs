//! `churnlake sql`: the portable queries of `queries/` run on polars' SQL engine give the
//! native series; parameters are checked.

use crate::support::{ingest, path, repo, run, run_ok};

#[test]
fn portable_series_equals_native_series_on_edge_cases() {
    let lifecycle = repo().join("queries/lifecycle.sql");
    let daily = repo().join("queries/daily_series.sql");
    for case in
        ["04-same-date-by-time", "08-created-before-first-drop", "10-event-before-creation", "11-days-without-events"]
    {
        let dir = tempfile::tempdir().expect("temp dir");
        let lake = dir.path().join("lake");
        ingest(&repo().join("tests/conformance/cases").join(case).join("drops"), &lake);
        let native = run_ok(&["series", "--lake", path(&lake), "--format", "csv"], &[0]);
        let portable = run_ok(&["sql", path(&lifecycle), path(&daily), "--lake", path(&lake), "--format", "csv"], &[0]);
        assert_eq!(portable, native, "{case}: queries/daily_series.sql differs from `churnlake series`");
    }
}

#[test]
fn sql_sees_lake_tables_and_requires_its_parameters() {
    let dir = tempfile::tempdir().expect("temp dir");
    let lake = dir.path().join("lake");
    ingest(&repo().join("tests/conformance/cases/01-lifecycle/drops"), &lake);
    let lake = path(&lake);
    let counts = run_ok(
        &[
            "sql",
            "SELECT COUNT(*) AS n FROM subscriptions WHERE data_date = DATE '{{day}}'",
            "--lake",
            lake,
            "--param",
            "day=2023-05-01",
            "--format",
            "csv",
        ],
        &[0],
    );
    assert_eq!(counts.trim(), "n\n2");
    let days = run_ok(&["sql", "SELECT COUNT(*) AS n FROM calendar", "--lake", lake, "--format", "csv"], &[0]);
    assert_eq!(days.trim(), "n\n5");
    let missing = run(&["sql", "SELECT DATE '{{day}}' AS d", "--lake", lake]);
    assert_eq!(missing.status.code(), Some(1), "a missing parameter is the request's fault");
    assert!(String::from_utf8_lossy(&missing.stderr).contains("--param day=VALUE"));
}

/// A derived table read after later drops warns that it is stale; one replaced outside the
/// last build warns that the set is mixed; a fresh build is silent.
#[test]
fn stale_or_mixed_derived_tables_warn() {
    let dir = tempfile::tempdir().expect("temp dir");
    let sample = repo().join("data/sample/drops/outgoing/2024");
    let drops = dir.path().join("drops");
    std::fs::create_dir_all(&drops).expect("a folder");
    let held = "SubscriptionsCancelledCSV_20240309";
    for entry in std::fs::read_dir(&sample).expect("the sample") {
        let file = entry.expect("a drop").path();
        if file.file_name().is_some_and(|n| n != held) {
            std::fs::copy(&file, drops.join(file.file_name().expect("a name"))).expect("copying");
        }
    }
    let (lake, other) = (dir.path().join("lake"), dir.path().join("other"));
    ingest(&drops, &lake);
    ingest(&sample, &other);
    let l = path(&lake);
    let query = ["sql", "select count(*) as n from derived_series", "--lake", l, "--format", "csv"];
    let stderr = |args: &[&str]| {
        let out = run(args);
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    stderr(&["build", "--lake", l]);
    assert!(!stderr(&query).contains("warning"));
    std::fs::copy(sample.join(held), drops.join(held)).expect("the late drop");
    ingest(&drops, &lake);
    let warned = stderr(&query);
    assert!(warned.contains("stale") && warned.contains("from 66 drops") && warned.contains("now has 67"), "{warned}");
    stderr(&["build", "--lake", l]);
    assert!(!stderr(&query).contains("warning"));
    stderr(&["build", "--lake", path(&other)]);
    std::fs::copy(other.join("derived/series.parquet"), lake.join("derived/series.parquet")).expect("a foreign table");
    let mixed = stderr(&query);
    assert!(mixed.contains("series") && mixed.contains("not from the last complete build"), "{mixed}");
}

#[test]
fn count_star_over_files_whose_columns_differ() {
    // orders files with different columns are one table (the union of their columns):
    // COUNT(*) counts every row of every file, filters included
    let dir = tempfile::tempdir().expect("temp dir");
    let drops = dir.path().join("drops");
    std::fs::create_dir_all(&drops).expect("drops dir");
    std::fs::write(
        drops.join("acme_orders_01022023051233.csv"),
        "Order ID,Subscription ID,Order Date,Order Total\n1,10,2023-01-01,5.00\n2,11,2023-01-01,7.50\n",
    )
    .expect("write");
    std::fs::write(
        drops.join("acme_orders_01032023051233.csv"),
        "Order ID,Subscription ID,Order Date,Order Total,Coupon\n3,12,2023-01-02,9.00,SPRING\n",
    )
    .expect("write");
    let lake = dir.path().join("lake");
    ingest(&drops, &lake);
    let lake = path(&lake);
    for (query, expected) in [
        ("SELECT COUNT(*) AS n FROM orders", "n\n3\n"),
        ("SELECT COUNT(1) AS n FROM orders WHERE data_date = DATE '2023-01-01'", "n\n2\n"),
        ("SELECT COUNT(coupon) AS n FROM orders", "n\n1\n"),
    ] {
        let got = run_ok(&["sql", query, "--lake", lake, "--format", "csv"], &[0]);
        assert_eq!(got, expected, "{query}");
    }
}
