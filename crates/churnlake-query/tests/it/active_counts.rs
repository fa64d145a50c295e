//! `active` reads the state at the end of one day without building the series; it must
//! give the series' own actives on every day, in total and per group, in one pass and in
//! several.

use churnlake_generate::{Preset, generate};
use churnlake_query::{Grain, Metrics};
use polars::prelude::{DataFrame, DataType};

use crate::support::{conformance_cases, metrics};

fn rows(df: &DataFrame) -> Vec<Vec<String>> {
    let columns: Vec<Vec<String>> = df
        .columns()
        .iter()
        .map(|column| {
            let text = column.cast(&DataType::String).expect("as text");
            text.str().expect("text").iter().map(|v| v.unwrap_or_default().to_owned()).collect()
        })
        .collect();
    (0..df.height()).map(|i| columns.iter().map(|c| c[i].clone()).collect()).collect()
}

fn check(label: &str, metrics: &Metrics, by: Option<&str>) -> usize {
    let series = metrics.series(None, None, by, Grain::Day).expect("the series");
    let keep: Vec<&str> = match by {
        Some(by) => vec!["date", by, "active_subscriptions", "active_subscribers"],
        None => vec!["date", "active_subscriptions", "active_subscribers"],
    };
    let expected = rows(&series.select(keep).expect("the actives' columns"));
    let (first, last) = metrics.range().expect("a range");
    let mut got = Vec::new();
    for day in first.iter_days().take_while(|d| *d <= last) {
        got.extend(rows(&metrics.active(Some(day), by).expect("the actives")));
    }
    assert_eq!(got, expected, "{label} (by {by:?}): active differs from the series");
    got.len()
}

#[test]
fn active_is_the_series_on_every_day_of_every_conformance_case() {
    let mut compared = 0;
    for case in conformance_cases() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let metrics = metrics(&case.join("drops"), dir.path(), 0);
        compared += check(&case.display().to_string(), &metrics, None);
        compared += check(&case.display().to_string(), &metrics, Some("product"));
    }
    assert!(compared > 100, "only {compared} days compared");
}

#[test]
fn active_is_the_series_on_a_generated_history_in_one_pass_and_several() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let mut options = Preset::Demo.options(dir.path().join("gen"));
    options.days = 25;
    options.subs_per_day = 6;
    options.seed = 11;
    let summary = generate(&options).expect("generation succeeds");
    let one = metrics(&summary.drops_dir, &dir.path().join("one"), 0);
    check("one pass", &one, Some("product"));
    let several = metrics(&summary.drops_dir, &dir.path().join("several"), 150);
    check("several passes", &several, Some("product"));
    check("several passes", &several, None);
}
