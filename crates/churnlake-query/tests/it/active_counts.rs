//! `active` reads the state at the end of one day without building the series; it must
//! give the series' own actives on every day, in total and per group, in one pass and in
//! several.

use churnlake_generate::{Preset, generate};
use churnlake_query::{Grain, Metrics};
use polars::prelude::DataFrame;

use crate::support::{conformance_cases, metrics};

fn check(label: &str, metrics: &Metrics, by: Option<&str>) -> usize {
    let series = metrics.series(None, None, by, Grain::Day).expect("the series");
    let keep: Vec<&str> = match by {
        Some(by) => vec!["date", by, "active_subscriptions", "active_subscribers"],
        None => vec!["date", "active_subscriptions", "active_subscribers"],
    };
    let expected = series.select(keep).expect("the actives' columns");
    let (first, last) = metrics.range().expect("a range");
    let mut got: Option<DataFrame> = None;
    for day in first.iter_days().take_while(|d| *d <= last) {
        let one = metrics.active(Some(day), by).expect("the actives");
        match got.as_mut() {
            Some(all) => {
                all.vstack_mut(&one).expect("same columns");
            }
            None => got = Some(one),
        }
    }
    let got = got.expect("at least one day");
    // polars' own comparison: same schema (names, dtypes), same values, nulls equal
    assert!(
        got.schema() == expected.schema() && got.equals_missing(&expected),
        "{label} (by {by:?}): active differs from the series\nactive:\n{got}\nseries:\n{expected}"
    );
    got.height()
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
