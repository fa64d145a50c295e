//! `explain` walks one subscription's events in Rust; the tables and the series apply the
//! same rules vectorised. Both must agree: for every subscription and every day of the
//! lake, the state after the last event `explain` applies by that day is the state
//! `subscriptions --as-of` gives, on every conformance case and on a generated history.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use churnlake_generate::{Preset, generate};
use churnlake_query::{Explanation, Metrics};
use polars::prelude::{DataFrame, DataType};

use crate::support::{conformance_cases, metrics};

fn strings(df: &DataFrame, name: &str) -> Vec<String> {
    let column = df.column(name).expect("the column").cast(&DataType::String).expect("as text");
    column.str().expect("text").iter().map(|v| v.unwrap_or_default().to_owned()).collect()
}

/// `subscription_id → current_status` of `subscriptions --as-of day`.
fn table_states(metrics: &Metrics, day: NaiveDate) -> BTreeMap<String, String> {
    let df = metrics.subscriptions(Some(day), None).expect("the subscription table");
    strings(&df, "subscription_id").into_iter().zip(strings(&df, "current_status")).collect()
}

/// The state at the end of `day` read off an explanation: absent before the creation,
/// else the state after the last event in effect by then.
fn explained_state(explanation: &Explanation, day: NaiveDate) -> Option<&'static str> {
    if explanation.created_date > day {
        return None;
    }
    explanation.events.iter().rev().find(|e| e.effective_date <= day).map(|e| e.state_after)
}

fn check(label: &str, metrics: &Metrics) -> usize {
    let (first, last) = metrics.range().expect("a range");
    let ids: Vec<String> = table_states(metrics, last).into_keys().collect();
    let explanations: Vec<_> = ids.iter().map(|id| metrics.explain(id, None).expect("an explanation")).collect();
    let mut compared = 0;
    for day in first.iter_days().take_while(|d| *d <= last) {
        let table = table_states(metrics, day);
        for explanation in &explanations {
            let from_explain = explained_state(explanation, day);
            let from_table = table.get(&explanation.subscription_id).map(String::as_str);
            assert_eq!(
                from_explain, from_table,
                "{label}: subscription {} at the end of {day}: explain says {from_explain:?}, the table {from_table:?}",
                explanation.subscription_id
            );
            compared += 1;
        }
    }
    compared
}

#[test]
fn explain_agrees_with_the_tables_on_every_conformance_case() {
    let mut compared = 0;
    for case in conformance_cases() {
        let dir = tempfile::tempdir().expect("a temp dir");
        let metrics = metrics(&case.join("drops"), dir.path(), 0);
        compared += check(&case.display().to_string(), &metrics);
    }
    assert!(compared > 100, "only {compared} (subscription, day) pairs compared");
}

#[test]
fn explain_agrees_with_the_tables_on_a_generated_history() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let mut options = Preset::Demo.options(dir.path().join("gen"));
    options.days = 30;
    options.subs_per_day = 5;
    options.seed = 7;
    let summary = generate(&options).expect("generation succeeds");
    let metrics = metrics(&summary.drops_dir, dir.path(), 0);
    let compared = check("generated", &metrics);
    assert!(compared > 2_000, "only {compared} (subscription, day) pairs compared");
}
