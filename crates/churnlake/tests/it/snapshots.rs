//! Snapshots of the CLI's outputs on a small fixture (conformance case 01's drops):
//! what a user sees, pinned. Paths and times are filtered out.

use crate::support::{ingest, path, repo, run_ok};

fn fixture_lake(case: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let drops = repo().join("tests/conformance/cases").join(case).join("drops");
    let lake = dir.path().join("lake");
    ingest(&drops, &lake);
    let lake = path(&lake).to_owned();
    (dir, lake)
}

fn settings(lake: &str) -> insta::Settings {
    let mut s = insta::Settings::clone_current();
    s.add_filter(&regex_escape(lake), "[LAKE]");
    s.add_filter(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(\+00:00|Z)", "[TIME]");
    s.set_prepend_module_to_snapshot(false);
    s
}

fn regex_escape(text: &str) -> String {
    text.chars().flat_map(|c| if "\\.+*?()|[]{}^$".contains(c) { vec!['\\', c] } else { vec![c] }).collect()
}

#[test]
fn cli_outputs() {
    let (_dir, lake) = fixture_lake("09-subscriber-two-subscriptions");
    let l = lake.as_str();
    let cases: [(&str, Vec<&str>); 12] = [
        ("series_table", vec!["series", "--lake", l]),
        ("series_weekly_csv", vec!["series", "--lake", l, "--grain", "week", "--format", "csv"]),
        ("series_by_product_csv", vec!["series", "--lake", l, "--by", "product", "--format", "csv"]),
        ("rate_table", vec!["rate", "--lake", l, "--from", "2023-05-01", "--to", "2023-05-05"]),
        (
            "rate_definitions_by_product_table",
            vec![
                "rate",
                "--lake",
                l,
                "--from",
                "2023-05-02",
                "--to",
                "2023-05-05",
                "--by",
                "product",
                "--definition",
                "all",
            ],
        ),
        ("subscriptions_as_of", vec!["subscriptions", "--lake", l, "--as-of", "2023-05-03", "--format", "csv"]),
        ("subscribers_table", vec!["subscribers", "--lake", l]),
        ("active_json", vec!["active", "--lake", l, "--format", "json"]),
        // JSON keys in the documented column order, the group right after `date` (first for rates)
        (
            "series_by_product_json",
            vec!["series", "--lake", l, "--by", "product", "--to", "2023-05-02", "--format", "json"],
        ),
        (
            "rate_by_product_json",
            vec![
                "rate",
                "--lake",
                l,
                "--from",
                "2023-05-01",
                "--to",
                "2023-05-05",
                "--by",
                "product",
                "--format",
                "json",
            ],
        ),
        ("subscribers_json", vec!["subscribers", "--lake", l, "--format", "json"]),
        ("explain_500081", vec!["explain", "500081", "--lake", l]),
    ];
    let settings = settings(l);
    settings.bind(|| {
        for (name, args) in cases {
            insta::assert_snapshot!(name, run_ok(&args, &[0]));
        }
        insta::assert_snapshot!("drops_csv", run_ok(&["drops", "--lake", l, "--format", "csv"], &[0]));
    });
}

/// `explain` names the anomalies: events dated before the creation, a reactivation of an
/// active subscription.
#[test]
fn explain_shows_anomalies() {
    let (_dir, lake) = fixture_lake("10-event-before-creation");
    let settings = settings(&lake);
    settings.bind(|| {
        insta::assert_snapshot!("explain_500092", run_ok(&["explain", "500092", "--lake", &lake], &[0]));
        // the same anomalies, lake-wide, with their sources
        insta::assert_snapshot!("anomalies_case_10", run_ok(&["anomalies", "--lake", &lake, "--format", "csv"], &[0]));
        insta::assert_snapshot!(
            "explain_500092_json",
            run_ok(&["explain", "500092", "--lake", &lake, "--format", "json"], &[0])
        );
    });
}

/// An event for a public id no report row carries is listed as `unknown_id`, with its source.
#[test]
fn anomalies_list_unknown_ids() {
    let (_dir, lake) = fixture_lake("07-only-code-9-known-id-reactivates");
    let settings = settings(&lake);
    settings.bind(|| {
        insta::assert_snapshot!("anomalies_case_07", run_ok(&["anomalies", "--lake", &lake, "--format", "csv"], &[0]));
    });
}
