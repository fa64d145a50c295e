//! `churnlake revenue` on the hand-worked example of `tests/revenue/worked-example`
//! (its README derives every figure), the output formats, and bad input.

use crate::support::{ingest, path, repo, run, run_ok};

fn worked_lake() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("temp dir");
    ingest(&repo().join("tests/revenue/worked-example/drops"), &dir.path().join("lake"));
    dir
}

const DAILY: &str = "\
date,mrr,arpu,new_mrr,reactivation_mrr,expansion_mrr,contraction_mrr,churned_mrr,mrr_unknown_subscriptions
2024-05-01,60.88,20.29,30.44,0.00,0.00,0.00,0.00,1
2024-05-02,81.17,27.06,0.00,0.00,20.29,0.00,0.00,1
2024-05-03,40.58,20.29,0.00,0.00,0.00,10.15,30.44,1
2024-05-04,81.16,20.29,0.00,30.44,10.14,0.00,0.00,1
2024-05-05,81.16,20.29,0.00,0.00,0.00,0.00,0.00,1";

const BY_PRODUCT: &str = "\
date,product,mrr,arpu,new_mrr,reactivation_mrr,expansion_mrr,contraction_mrr,churned_mrr,mrr_unknown_subscriptions
2024-05-01,Coffee,20.29,20.29,20.29,0.00,0.00,0.00,0.00,0
2024-05-01,Tea,40.58,13.53,10.15,0.00,0.00,0.00,0.00,1
2024-05-02,Coffee,0.00,,0.00,0.00,0.00,20.29,0.00,0
2024-05-02,Tea,81.17,27.06,0.00,0.00,40.58,0.00,0.00,1
2024-05-03,Coffee,0.00,,0.00,0.00,0.00,0.00,0.00,0
2024-05-03,Tea,40.58,20.29,0.00,0.00,0.00,10.15,30.44,1
2024-05-04,Coffee,0.00,0.00,0.00,0.00,0.00,0.00,0.00,1
2024-05-04,Tea,81.16,27.05,0.00,30.44,10.14,0.00,0.00,0
2024-05-05,Coffee,0.00,0.00,0.00,0.00,0.00,0.00,0.00,1
2024-05-05,Tea,81.16,27.05,0.00,0.00,0.00,0.00,0.00,0";

fn normalised(text: &str) -> String {
    text.replace("\r\n", "\n").trim_end().to_owned()
}

#[test]
fn revenue_of_the_worked_example() {
    let dir = worked_lake();
    let lake = dir.path().join("lake");
    let daily = run_ok(&["revenue", "--lake", path(&lake), "--format", "csv"], &[0]);
    assert_eq!(normalised(&daily), DAILY);
    let by_product = run_ok(&["revenue", "--lake", path(&lake), "--by", "product", "--format", "csv"], &[0]);
    assert_eq!(normalised(&by_product), BY_PRODUCT);
}

#[test]
fn revenue_grains_take_the_last_day_and_sum_the_movements() {
    let dir = worked_lake();
    let lake = dir.path().join("lake");
    // 2024-05-01 is a Wednesday: one week (labelled by its Monday), one month
    let week =
        run_ok(&["revenue", "--lake", path(&lake), "--grain", "week", "--from", "2024-05-02", "--format", "csv"], &[0]);
    assert_eq!(
        normalised(&week).lines().nth(1),
        Some("2024-04-29,81.16,20.29,0.00,30.44,30.43,10.15,30.44,1"),
        "movements 05-02..05-05 summed exactly (20.2916… + 10.1356… = 30.43), mrr of 05-05"
    );
    let month = run_ok(&["revenue", "--lake", path(&lake), "--grain", "month", "--format", "csv"], &[0]);
    assert_eq!(normalised(&month).lines().nth(1), Some("2024-05-01,81.16,20.29,30.44,30.44,30.43,10.15,30.44,1"));
}

#[test]
fn revenue_formats_state_the_factor() {
    let dir = worked_lake();
    let lake = dir.path().join("lake");
    let json = run_ok(&["revenue", "--lake", path(&lake), "--to", "2024-05-01", "--format", "json"], &[0]);
    let rows: serde_json::Value = serde_json::from_str(&json).expect("JSON");
    let keys: Vec<&str> = rows[0].as_object().expect("an object").keys().map(String::as_str).collect();
    assert_eq!(keys, churnlake_query::REVENUE_COLUMNS);
    assert_eq!(rows[0]["mrr"], "60.88");
    let out = run(&["revenue", "--lake", path(&lake)]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("30.4375"), "the table states the factor");

    let file = dir.path().join("revenue.parquet");
    run_ok(&["revenue", "--lake", path(&lake), "--out", path(&file)], &[0]);
    let bytes = std::fs::read(&file).expect("a Parquet file");
    let has = |needle: &str| bytes.windows(needle.len()).any(|w| w == needle.as_bytes());
    assert!(has("churnlake:mrr_factor") && has("30.4375") && has("churnlake:known_on"));
    use polars::prelude::*;
    let df = LazyFrame::scan_parquet(PlRefPath::new(path(&file)), ScanArgsParquet::default())
        .and_then(|lf| lf.collect())
        .expect("the Parquet file reads");
    assert_eq!(df.column("mrr").expect("mrr").dtype(), &DataType::Decimal(18, 2));
    assert_eq!(df.height(), 5);
}

#[test]
fn revenue_refuses_bad_requests() {
    let dir = worked_lake();
    let lake = dir.path().join("lake");
    for args in [
        vec!["revenue", "--lake", path(&lake), "--from", "2024-05-03", "--to", "2024-05-02"],
        vec!["revenue", "--lake", path(&lake), "--from", "2024-04-01"],
        vec!["revenue", "--lake", path(&lake), "--by", "email_address"],
        vec!["revenue", "--lake", path(&lake), "--grain", "year"],
    ] {
        let out = run(&args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    }
}

/// The generator's independent revenue, cohort and cancellation truth (TRUTH.md): every
/// day and cell equal, money to the cent, counts exactly — in one pass and in several.
fn check_truth(seed: u64, days: u32, subs_per_day: u32, rows_per_pass: Option<&str>) {
    use churnlake_generate::{Preset, generate};
    let dir = tempfile::tempdir().expect("temp dir");
    let mut opts = Preset::Demo.options(dir.path().to_path_buf());
    opts.seed = seed;
    opts.days = days;
    opts.subs_per_day = subs_per_day;
    let summary = generate(&opts).expect("generation succeeds");
    let lake = dir.path().join("lake");
    ingest(&summary.drops_dir, &lake);
    let env: Vec<(&str, &str)> = rows_per_pass.map(|n| vec![("CHURNLAKE_ROWS_PER_PASS", n)]).unwrap_or_default();
    let read = |name: &str| normalised(&std::fs::read_to_string(summary.truth_dir.join(name)).expect("a truth file"));
    let ours = |args: &[&str]| {
        let mut all = vec![args[0], "--lake", path(&lake), "--format", "csv", "-q"];
        all.extend_from_slice(&args[1..]);
        normalised(&crate::support::run_ok_env(&all, &env, &[0]))
    };
    let compare = |label: &str, got: String, expected: String| {
        if got != expected {
            let diff: Vec<String> = got
                .lines()
                .zip(expected.lines())
                .filter(|(a, b)| a != b)
                .take(5)
                .map(|(a, b)| format!("ours   {a}\ntruth  {b}"))
                .collect();
            panic!(
                "{label} (seed {seed}) differs from the truth ({} vs {} lines):\n{}",
                got.lines().count(),
                expected.lines().count(),
                diff.join("\n")
            );
        }
    };
    compare("revenue", ours(&["revenue"]), read("revenue.csv"));
    compare("revenue by product", ours(&["revenue", "--by", "product"]), read("revenue_by_product.csv"));
    compare("subscription cohorts", ours(&["cohorts"]), read("cohorts_subscriptions.csv"));
    compare("subscriber cohorts", ours(&["cohorts", "--level", "subscribers"]), read("cohorts_subscribers.csv"));

    // cancellations per reason: counted from the truth's events of the lake's range
    let series = read("series.csv");
    let dates: Vec<&str> = series.lines().skip(1).filter_map(|l| l.split(',').next()).collect();
    let (from, to) = (dates[0], dates[dates.len() - 1]);
    let records = |text: &str| -> Vec<Vec<String>> {
        csv::Reader::from_reader(text.as_bytes())
            .records()
            .map(|r| r.expect("a CSV record").iter().map(str::to_owned).collect())
            .collect()
    };
    let mut per_reason: std::collections::BTreeMap<String, (i64, i64, Vec<i64>)> = Default::default();
    for f in records(&read("cancellation_events.csv")) {
        if f[1].as_str() < from || f[1].as_str() > to {
            continue;
        }
        let entry = per_reason.entry(f[2].clone()).or_default();
        entry.0 += 1;
        entry.1 += i64::from(f[4] == "true");
        entry.2.push(f[6].parse().expect("days"));
    }
    let got = ours(&["cancellations", "--from", from, "--to", to]);
    let rows = records(&got);
    assert_eq!(rows.len(), per_reason.len(), "one row per reason:\n{got}");
    for (row, (reason, (count, within, mut days))) in rows.iter().zip(per_reason) {
        days.sort_unstable();
        let n = days.len();
        let median = if n % 2 == 1 { days[n / 2] as f64 } else { (days[n / 2 - 1] + days[n / 2]) as f64 / 2.0 };
        assert_eq!(row[0], reason);
        assert_eq!(row[1].parse::<i64>().ok(), Some(count), "{reason}: cancellations");
        assert_eq!(row[2].parse::<i64>().ok(), Some(within), "{reason}: 24-hour cancels");
        assert_eq!(row[4].parse::<f64>().ok(), Some(median), "{reason}: median days from creation");
    }
}

#[test]
fn revenue_cohorts_and_cancellations_match_the_truth() {
    check_truth(5, 120, 8, None);
}

#[test]
fn revenue_cohorts_and_cancellations_match_the_truth_in_passes() {
    check_truth(11, 75, 6, Some("300"));
}
