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
