//! Exact equality with the generator's ground truth (an independent forward simulation):
//! every day, every column, every subscription's and subscriber's status.

use std::path::Path;

use chrono::NaiveDate;
use churnlake_generate::{GenerateOptions, Preset, generate};
use churnlake_query::{SERIES_COLUMNS, SUBSCRIBER_COLUMNS};
use proptest::prelude::*;

use crate::support::{assert_flow_identity, assert_same_rows, ingest, path, project, run_ok, run_ok_env};

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("reading {}: {e}", p.display()))
}

fn normalised(text: &str) -> String {
    text.replace("\r\n", "\n").trim_end().to_owned()
}

/// Generates a scenario, ingests it, and compares every output with the truth — in one
/// pass, and with `rows_per_pass` set, in several (the lake split by subscription).
fn check_scenario(opts: &GenerateOptions, rows_per_pass: Option<u64>) {
    let summary = generate(opts).expect("generation succeeds");
    let lake = opts.out.join("lake");
    ingest(&summary.drops_dir, &lake);
    let per_pass = rows_per_pass.map(|n| n.to_string());
    let mut env = Vec::new();
    if let Some(n) = &per_pass {
        env.push(("CHURNLAKE_ROWS_PER_PASS", n.as_str()));
    }
    check_lake(opts.seed, &lake, &summary.truth_dir, &env);
}

fn check_lake(seed: u64, lake: &Path, truth: &Path, env: &[(&str, &str)]) {
    let lake = path(lake);
    let run_ok = |args: &[&str], codes: &[i32]| run_ok_env(args, env, codes);

    let series = run_ok(&["series", "--lake", lake, "--format", "csv"], &[0]);
    assert_same_rows(
        &format!("daily series differs (seed {seed})"),
        &project(&series, &SERIES_COLUMNS),
        &project(&read(&truth.join("series.csv")), &SERIES_COLUMNS),
    );
    assert_eq!(normalised(&series), normalised(&read(&truth.join("series.csv"))), "series text differs");
    assert_flow_identity(&series, None);

    let by_product_columns: Vec<&str> =
        ["date", "product"].into_iter().chain(SERIES_COLUMNS[1..].iter().copied()).collect();
    let by_product = run_ok(&["series", "--lake", lake, "--by", "product", "--format", "csv"], &[0]);
    assert_same_rows(
        &format!("series by product differs (seed {seed})"),
        &project(&by_product, &by_product_columns),
        &project(&read(&truth.join("series_by_product.csv")), &by_product_columns),
    );
    assert_flow_identity(&by_product, Some("product"));

    let subs = run_ok(&["subscriptions", "--lake", lake, "--format", "csv"], &[0]);
    assert_same_rows(
        &format!("subscription table differs (seed {seed})"),
        &project(&subs, &TRUTH_SUBSCRIPTION_COLUMNS),
        &project(&read(&truth.join("subscriptions.csv")), &TRUTH_SUBSCRIPTION_COLUMNS),
    );

    let users = run_ok(&["subscribers", "--lake", lake, "--format", "csv"], &[0]);
    assert_same_rows(
        &format!("subscriber table differs (seed {seed})"),
        &project(&users, SUBSCRIBER_COLUMNS),
        &project(&read(&truth.join("subscribers.csv")), SUBSCRIBER_COLUMNS),
    );

    // `build` writes the same three tables (read back through `churnlake sql`)
    run_ok(&["build", "--lake", lake], &[0]);
    let derived = |table: &str, key: &str| {
        run_ok(
            &["sql", &format!("SELECT * FROM derived_{table} ORDER BY {key}"), "--lake", lake, "--format", "csv"],
            &[0],
        )
    };
    assert_eq!(derived("series", "date"), series, "derived series differs from `series` (seed {seed})");
    assert_eq!(derived("subscriptions", "subscription_id"), subs, "derived subscriptions differ (seed {seed})");
    assert_eq!(derived("subscribers", "user_id"), users, "derived subscribers differ (seed {seed})");
    let revenue = run_ok(&["revenue", "--lake", lake, "--format", "csv"], &[0]);
    assert_eq!(derived("revenue", "date"), revenue, "derived revenue differs from `revenue` (seed {seed})");
    for level in ["subscriptions", "subscribers"] {
        let cohorts = run_ok(&["cohorts", "--lake", lake, "--level", level, "--format", "csv"], &[0]);
        let derived = run_ok(
            &[
                "sql",
                &format!(
                    "SELECT cohort, age, size, active, share FROM derived_cohorts WHERE level = '{level}' \
                     ORDER BY cohort, age"
                ),
                "--lake",
                lake,
                "--format",
                "csv",
            ],
            &[0],
        );
        assert_eq!(derived, cohorts, "derived {level} cohorts differ from `cohorts` (seed {seed})");
    }
}

/// The subscription columns the generator's truth carries (a subset of the table's).
const TRUTH_SUBSCRIPTION_COLUMNS: [&str; 9] = [
    "subscription_id",
    "user_id",
    "created_date",
    "max_cancel_date",
    "max_reactivation_date",
    "cancel_count",
    "reactivation_count",
    "current_status",
    "product",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 10, failure_persistence: None, ..ProptestConfig::default() })]

    /// Random small histories: every output equals the simulation.
    #[test]
    fn random_histories_match_the_simulation(
        seed in any::<u64>(),
        days in 20u32..80,
        subs_per_day in 1u32..12,
        rows_per_pass in prop::option::of(100u64..2_000),
    ) {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut opts = Preset::Demo.options(dir.path().to_path_buf());
        opts.seed = seed;
        opts.days = days;
        opts.subs_per_day = subs_per_day;
        opts.start = NaiveDate::from_ymd_opt(2022, 11, 20).expect("valid date");
        check_scenario(&opts, rows_per_pass);
    }
}

/// One larger fixed scenario: a year with every variant and anomaly the generator writes.
#[test]
fn a_year_matches_the_simulation() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut opts = Preset::Demo.options(dir.path().to_path_buf());
    opts.seed = 20_231_101;
    opts.days = 365;
    opts.subs_per_day = 30;
    let summary = generate(&opts).expect("generation succeeds");
    let lake = opts.out.join("lake");
    ingest(&summary.drops_dir, &lake);
    check_lake(opts.seed, &lake, &summary.truth_dir, &[]);
    // the same lake in five passes: split by subscription, subscribers spilled by user
    let rows: u64 =
        serde_json::from_str::<serde_json::Value>(&run_ok(&["drops", "--lake", path(&lake), "--format", "json"], &[0]))
            .expect("drops --format json is JSON")
            .as_array()
            .expect("an array of entries")
            .iter()
            .filter(|e| e["kind"] == "subscriptions" || e["kind"] == "cancellations")
            .map(|e| e["rows_written"].as_u64().unwrap_or(0))
            .sum();
    let per_pass = rows.div_ceil(5).to_string();
    check_lake(opts.seed, &lake, &summary.truth_dir, &[("CHURNLAKE_ROWS_PER_PASS", per_pass.as_str())]);
}

/// `demo` (the README's first command) generates, ingests, builds and summarises; its
/// headline counts are the truth's last day, and a second run changes nothing.
#[test]
fn the_demo_runs_and_its_summary_is_the_truth() {
    let dir = tempfile::tempdir().expect("temp dir");
    let demo = dir.path().join("demo");
    let first = run_ok(&["demo", "--dir", path(&demo)], &[0]);
    let truth = read(&demo.join("truth/series.csv"));
    let last_day = truth.lines().last().expect("a truth series").split(',').collect::<Vec<_>>();
    let (date, subscriptions, subscribers) = (last_day[0], last_day[1], last_day[5]);
    let headline = first
        .lines()
        .find(|l| l.starts_with(date))
        .unwrap_or_else(|| panic!("no line for {date} in the demo summary:\n{first}"));
    let cells: Vec<&str> = headline.split_whitespace().collect();
    assert_eq!(cells, [date, subscriptions, subscribers], "demo headline differs from the truth");
    for table in ["subscriptions", "subscribers", "series", "revenue", "cohorts"] {
        assert!(demo.join(format!("lake/derived/{table}.parquet")).is_file(), "derived {table} missing");
    }
    assert!(first.contains("last 30 days"), "no rates in the demo summary:\n{first}");
    let second = run_ok(&["demo", "--dir", path(&demo)], &[0]);
    assert_eq!(first, second, "a second demo run differs");
}

/// The subscription report is "Created or Updated": update rows (quantity, product,
/// price, frequency changes with the original Create Date) create nothing. With many
/// of them in the drops, every lifecycle output still equals the simulation, and the
/// lake holds them (more subscription-report rows than subscriptions).
#[test]
fn attribute_updates_change_no_lifecycle_figure() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut opts = Preset::Demo.options(dir.path().to_path_buf());
    opts.seed = 1313;
    opts.days = 300;
    opts.subs_per_day = 25;
    let summary = generate(&opts).expect("generation succeeds");
    let json: serde_json::Value =
        serde_json::from_str(&read(&summary.truth_dir.join("summary.json"))).expect("summary.json is JSON");
    let updates = json["anomalies"]["attribute_updates"].as_u64().unwrap_or(0);
    assert!(updates >= 1000, "only {updates} attribute updates");
    let lake = opts.out.join("lake");
    ingest(&summary.drops_dir, &lake);
    check_lake(opts.seed, &lake, &summary.truth_dir, &[]);
    let counts = run_ok(
        &[
            "sql",
            "SELECT COUNT(*) AS n, COUNT(DISTINCT subscription_id) AS ids FROM subscriptions",
            "--lake",
            path(&lake),
            "--format",
            "csv",
        ],
        &[0],
    );
    let cells: Vec<u64> =
        counts.lines().nth(1).expect("a row").split(',').map(|v| v.parse().expect("a count")).collect();
    assert!(cells[0] >= cells[1] + updates / 2, "update rows missing from the lake: {counts}");
}
