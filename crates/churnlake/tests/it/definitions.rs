//! `rate --definition` (docs/METRICS.md "Churn definitions") against figures computed
//! here, apart from churnlake: by hand on conformance cases (from their expected series and
//! subscriptions), and on a generated history from the generator's truth — the series-based
//! definitions from `truth/series.csv` and `truth/series_by_product.csv`, `cohort` from the
//! per-subscription facts of `truth/subscriptions.csv` wherever those fix every state it
//! needs.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{Days, NaiveDate};
use churnlake_generate::{Preset, generate};
use serde_json::Value;

use crate::support::{ingest, parse_csv, path, repo, run_ok, run_ok_env};

const DEFINITIONS: [&str; 4] = ["ordergroove", "start-of-period", "start-plus-new", "cohort"];
const LEVELS: [&str; 2] = ["subscription", "subscriber"];

fn date(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap_or_else(|e| panic!("date {text}: {e}"))
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("reading {}: {e}", p.display()))
}

/// One level's flows on one day of a series file.
#[derive(Clone, Copy, Debug, Default)]
struct Flows {
    active: i64,
    new: i64,
    cancelled: i64,
    reactivated: i64,
}

/// A series CSV (expected or truth) per group ("" without `group`): date → both levels.
type Series = BTreeMap<String, BTreeMap<NaiveDate, [Flows; 2]>>;

fn read_series(text: &str, group: Option<&str>) -> Series {
    let (header, rows) = parse_csv(text);
    let at = |name: &str| header.iter().position(|h| h == name).unwrap_or_else(|| panic!("no {name} in {header:?}"));
    let mut out = Series::new();
    for row in rows {
        let num = |name: &str| row[at(name)].parse::<i64>().unwrap_or_else(|e| panic!("{name} in {row:?}: {e}"));
        let level = |l: &str| Flows {
            active: num(&format!("active_{l}")),
            new: num(&format!("new_{l}")),
            cancelled: num(&format!("cancelled_{l}")),
            reactivated: num(&format!("reactivated_{l}")),
        };
        let key = group.map(|g| row[at(g)].clone()).unwrap_or_default();
        out.entry(key).or_default().insert(date(&row[at("date")]), [level("subscriptions"), level("subscribers")]);
    }
    out
}

/// C, N, Σ A and A(a−1) of one level over `from..=to`, summed off a series. A(a−1) is the
/// day before's actives, or on the series' first day its opening balance (actives minus
/// that day's flows).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Period {
    cancels: i64,
    new: i64,
    active_days: i64,
    start: i64,
}

fn period(days: &BTreeMap<NaiveDate, [Flows; 2]>, level: usize, from: NaiveDate, to: NaiveDate) -> Period {
    let inside = days.range(from..=to).map(|(_, d)| d[level]);
    let sum = |f: fn(&Flows) -> i64| inside.clone().map(|d| f(&d)).sum::<i64>();
    let before = from.checked_sub_days(Days::new(1)).expect("a day before");
    let start = match days.get(&before) {
        Some(d) => d[level].active,
        None => {
            let d = days[&from][level];
            d.active - d.new - d.reactivated + d.cancelled
        }
    };
    Period { cancels: sum(|d| d.cancelled), new: sum(|d| d.new), active_days: sum(|d| d.active), start }
}

/// (numerator, denominator) of a series-based definition.
fn fraction(definition: &str, p: Period, days: i64) -> Option<(i64, f64)> {
    match definition {
        "ordergroove" => Some((p.cancels, p.active_days as f64 / days as f64)),
        "start-of-period" => Some((p.cancels, p.start as f64)),
        "start-plus-new" => Some((p.cancels, (p.start + p.new) as f64)),
        _ => None,
    }
}

/// Asserts one level of a rate object: numerator, denominator, and the rate (null exactly
/// when the denominator is 0).
fn assert_level(label: &str, object: &Value, level: &str, numerator: i64, denominator: f64) {
    let field = |name: &str| &object[format!("{level}_{name}")];
    assert_eq!(field("numerator").as_i64(), Some(numerator), "{label}: {level} numerator in {object}");
    let got = field("denominator").as_f64().unwrap_or_else(|| panic!("{label}: no {level} denominator in {object}"));
    assert!((got - denominator).abs() < 1e-9, "{label}: {level} denominator {got}, expected {denominator}");
    let rate = &object[format!("{level}_cancellation_rate")];
    if denominator == 0.0 {
        assert!(rate.is_null(), "{label}: {level} rate should be null: {object}");
    } else {
        let expected = numerator as f64 / denominator;
        let got = rate.as_f64().unwrap_or_else(|| panic!("{label}: {level} rate missing in {object}"));
        assert!((got - expected).abs() < 1e-12, "{label}: {level} rate {got}, expected {expected}");
    }
}

/// `rate --definition all --format json`: definition name → its object.
fn rates_json(
    lake: &str,
    from: NaiveDate,
    to: NaiveDate,
    extra: &[&str],
    env: &[(&str, &str)],
) -> BTreeMap<String, Value> {
    let (from, to) = (from.to_string(), to.to_string());
    let mut args =
        vec!["rate", "--lake", lake, "--from", &from, "--to", &to, "--definition", "all", "--format", "json"];
    args.extend_from_slice(extra);
    let out = run_ok_env(&args, env, &[0]);
    let value: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("rate JSON: {e}\n{out}"));
    let objects = value.as_array().unwrap_or_else(|| panic!("--definition all gives an array: {value}"));
    let names: Vec<&str> = objects.iter().filter_map(|o| o["definition"].as_str()).collect();
    assert_eq!(names, DEFINITIONS, "one object per definition, in order");
    objects.iter().map(|o| (o["definition"].as_str().unwrap_or_default().to_owned(), o.clone())).collect()
}

fn case_lake(case: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().expect("temp dir");
    let lake = dir.path().join("lake");
    ingest(&repo().join("tests/conformance/cases").join(case).join("drops"), &lake);
    let lake = path(&lake).to_owned();
    (dir, lake)
}

/// Checks the series-based definitions of every period against the case's expected series,
/// and `cohort` against `lost` (per period, [subscriptions, subscribers], worked out by hand
/// from the case's README and expected subscriptions).
fn check_case(case: &str, periods: &[(&str, &str, [i64; 2])]) {
    let (_dir, lake) = case_lake(case);
    let series =
        read_series(&read(&repo().join("tests/conformance/cases").join(case).join("expected/series.csv")), None);
    let days = &series[""];
    for &(from, to, lost) in periods {
        let (from, to) = (date(from), date(to));
        let n = (to - from).num_days() + 1;
        let got = rates_json(&lake, from, to, &[], &[]);
        for (l, level) in LEVELS.iter().enumerate() {
            let p = period(days, l, from, to);
            for definition in DEFINITIONS {
                let label = format!("{case} {from}..{to} {definition}");
                let object = &got[definition];
                let (numerator, denominator) = fraction(definition, p, n).unwrap_or((lost[l], p.start as f64));
                assert_level(&label, object, level, numerator, denominator);
                // the rows without --by: the single whole-lake row, equal to the top level
                assert_eq!(object["rows"][0][format!("{level}_numerator")], object[format!("{level}_numerator")]);
                assert_eq!(object["by"], Value::Null);
            }
        }
    }
}

/// Case 01: 500002 is cancelled on 05-03 and reactivated on 05-05, 500003 cancelled on 05-05.
/// Over 05-03..05-05: A(05-02) = 3, C = 2, N = 0 — start-of-period and start-plus-new 2/3,
/// ordergroove 2 / (6/3) = 1; cohort loses only 500003 (500002 is back): 1/3.
#[test]
fn case_01_reactivated_ones_are_not_lost() {
    check_case("01-lifecycle", &[("2023-05-03", "2023-05-05", [1, 1]), ("2023-05-02", "2023-05-04", [1, 1])]);
    let (_dir, lake) = case_lake("01-lifecycle");
    let got = rates_json(&lake, date("2023-05-03"), date("2023-05-05"), &[], &[]);
    let rate = |d: &str| got[d]["subscription_cancellation_rate"].as_f64();
    assert_eq!(rate("ordergroove"), Some(1.0));
    assert_eq!(rate("start-of-period"), Some(2.0 / 3.0));
    assert_eq!(rate("start-plus-new"), Some(2.0 / 3.0));
    assert_eq!(rate("cohort"), Some(1.0 / 3.0));
}

/// Case 08: 500071 (created 04-10, before the lake's first data date 05-01) is active at the
/// end of 04-30 and cancelled on 05-03; 500072 is new on 05-01. Over 05-01..05-03 A(a−1) is
/// that opening balance, 1, not 0: start-of-period 1/1, start-plus-new 1/(1+1), cohort 1/1.
#[test]
fn case_08_the_first_day_starts_from_the_opening_balance() {
    check_case(
        "08-created-before-first-drop",
        &[("2023-05-01", "2023-05-03", [1, 1]), ("2023-05-01", "2023-05-02", [0, 0])],
    );
    let (_dir, lake) = case_lake("08-created-before-first-drop");
    let got = rates_json(&lake, date("2023-05-01"), date("2023-05-03"), &[], &[]);
    for level in LEVELS {
        assert_level("08 start-of-period", &got["start-of-period"], level, 1, 1.0);
        assert_level("08 start-plus-new", &got["start-plus-new"], level, 1, 2.0);
        assert_level("08 cohort", &got["cohort"], level, 1, 1.0);
    }
}

/// Case 12 (the rate case): nothing is active before 05-03, so the start-based rates of a
/// period starting before it are null (start-plus-new still has the new ones); 500113 is the
/// one of 05-03's two subscriptions lost by 05-05.
#[test]
fn case_12_zero_starts_give_null_rates() {
    check_case(
        "12-cancellation-rate",
        &[
            ("2023-05-01", "2023-05-05", [0, 0]),
            ("2023-05-03", "2023-05-05", [0, 0]),
            ("2023-05-04", "2023-05-05", [1, 1]),
            ("2023-05-05", "2023-05-05", [1, 1]),
        ],
    );
    let (_dir, lake) = case_lake("12-cancellation-rate");
    let got = rates_json(&lake, date("2023-05-01"), date("2023-05-05"), &[], &[]);
    for definition in ["start-of-period", "cohort"] {
        assert!(got[definition]["subscription_cancellation_rate"].is_null(), "{definition}: {}", got[definition]);
    }
    // 2 cancels over A(04-30) = 0 plus 4 new subscriptions (3 new subscribers)
    assert_eq!(got["start-plus-new"]["subscription_cancellation_rate"].as_f64(), Some(0.5));
    assert_eq!(got["start-plus-new"]["subscriber_cancellation_rate"].as_f64(), Some(2.0 / 3.0));
}

/// Case 09 by product: subscriber 10001 holds 500081 (Green Tea) and 500082 (Oolong) from
/// 05-01, cancels 500082 on 05-02 and 500081 on 05-04, and starts 500083 (Oolong) on 05-05.
/// Over 05-02..05-05, per group, (C, N, A(05-01), L) for subscriptions / subscribers:
/// Green Tea (1, 0, 1, 1) / (1, 0, 1, 1); Oolong (1, 1, 1, 1) / (1, 0, 1, 0) — 10001 is
/// active in Oolong again at the end, so not lost there. The whole lake: subscriptions
/// (2, 1, 2, 2), subscribers (1, 0, 1, 0).
#[test]
fn case_09_definitions_by_product() {
    let (_dir, lake) = case_lake("09-subscriber-two-subscriptions");
    let (from, to) = (date("2023-05-02"), date("2023-05-05"));
    // (group, level) → (C, N, A(a−1), L, Σ A)
    type Level = (i64, i64, i64, i64, i64);
    let figures: [(&str, [Level; 2]); 3] = [
        ("", [(2, 1, 2, 2, 3), (1, 0, 1, 0, 3)]),
        ("Green Tea Tin 100g", [(1, 0, 1, 1, 2), (1, 0, 1, 1, 2)]),
        ("Oolong Sampler", [(1, 1, 1, 1, 1), (1, 0, 1, 0, 1)]),
    ];
    for env in [&[][..], &[("CHURNLAKE_ROWS_PER_PASS", "2")][..]] {
        let got = rates_json(&lake, from, to, &["--by", "product"], env);
        for definition in DEFINITIONS {
            let object = &got[definition];
            assert_eq!(object["by"], "product");
            let rows = object["rows"].as_array().expect("rows");
            assert_eq!(rows.len(), 2, "{object}");
            for (group, levels) in figures {
                let row = if group.is_empty() {
                    object
                } else {
                    rows.iter().find(|r| r["product"] == group).unwrap_or_else(|| panic!("no {group} in {object}"))
                };
                for (l, level) in LEVELS.iter().enumerate() {
                    let (c, n, start, lost, active_days) = levels[l];
                    let (numerator, denominator) = match definition {
                        "ordergroove" => (c, active_days as f64 / 4.0),
                        "start-of-period" => (c, start as f64),
                        "start-plus-new" => (c, (start + n) as f64),
                        _ => (lost, start as f64),
                    };
                    assert_level(&format!("09 {group:?} {definition} {env:?}"), row, level, numerator, denominator);
                    assert_eq!(row["definition"], definition);
                }
            }
        }
    }
}

/// The table names every definition with its formula, one row each (per group with --by);
/// the CSV has the definition, numerators and denominators as columns.
#[test]
fn table_and_csv_show_each_definition() {
    let (_dir, lake) = case_lake("01-lifecycle");
    let base = ["rate", "--lake", lake.as_str(), "--from", "2023-05-03", "--to", "2023-05-05", "--definition", "all"];
    let table = run_ok(&base, &[0]);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 2 + 4, "{table}");
    for (line, formula) in lines[2..].iter().zip(["C ÷ (Σ A(D) ÷ n)", "C ÷ A(a−1)", "C ÷ (A(a−1) + N)", "L ÷ A(a−1)"])
    {
        assert!(line.contains(formula), "no formula {formula} in {line}");
    }
    let mut by = base.to_vec();
    by.extend(["--by", "product", "--format", "csv"]);
    let (header, rows) = parse_csv(&run_ok(&by, &[0]));
    for column in ["definition", "subscription_numerator", "subscription_denominator", "subscriber_denominator"] {
        assert!(header.iter().any(|h| h == column), "no {column} in {header:?}");
    }
    // case 01 has two products: per definition (in order), one row per product (sorted)
    let cell = |row: &Vec<String>, name: &str| row[header.iter().position(|h| h == name).expect(name)].clone();
    let got: Vec<(String, String)> = rows.iter().map(|r| (cell(r, "definition"), cell(r, "product"))).collect();
    let expected: Vec<(String, String)> = DEFINITIONS
        .iter()
        .flat_map(|d| ["Green Tea Tin 100g", "Oolong Sampler"].map(|p| ((*d).to_owned(), p.to_owned())))
        .collect();
    assert_eq!(got, expected);
    // one definition: the JSON stays one object, as before
    let one = run_ok(
        &[
            "rate",
            "--lake",
            lake.as_str(),
            "--from",
            "2023-05-03",
            "--to",
            "2023-05-05",
            "--definition",
            "cohort",
            "--format",
            "json",
        ],
        &[0],
    );
    let one: Value = serde_json::from_str(&one).expect("JSON");
    assert_eq!(one["definition"], "cohort");
    assert_eq!(one["subscription_numerator"], 1);
}

/// One subscription of `truth/subscriptions.csv`.
struct TruthSubscription {
    user: String,
    product: String,
    created: NaiveDate,
    max_cancel: Option<NaiveDate>,
    max_reactivation: Option<NaiveDate>,
    cancels: u32,
    reactivations: u32,
    active_at_last: bool,
}

fn truth_subscriptions(text: &str) -> Vec<TruthSubscription> {
    let (header, rows) = parse_csv(text);
    let at = |name: &str| header.iter().position(|h| h == name).unwrap_or_else(|| panic!("no {name} in {header:?}"));
    let optional = |cell: &str| (!cell.is_empty()).then(|| date(cell));
    rows.iter()
        .map(|r| TruthSubscription {
            user: if r[at("user_id")].is_empty() { r[at("subscription_id")].clone() } else { r[at("user_id")].clone() },
            product: r[at("product")].clone(),
            created: date(&r[at("created_date")]),
            max_cancel: optional(&r[at("max_cancel_date")]),
            max_reactivation: optional(&r[at("max_reactivation_date")]),
            cancels: r[at("cancel_count")].parse().expect("a count"),
            reactivations: r[at("reactivation_count")].parse().expect("a count"),
            active_at_last: r[at("current_status")] == "active",
        })
        .collect()
}

impl TruthSubscription {
    /// Whether it is active at the end of `day` (≤ the lake's `last` day), when its truth row
    /// fixes that (METRICS.md: an event takes effect on its date, or the creation date when
    /// dated earlier; cancelled → inactive, reactivated → active; events after `last` are
    /// not in effect): before its creation it is not; once every event is in effect it is in
    /// its current state; with at most one cancellation and one reactivation, the dates tell
    /// the rest. Otherwise (earlier events whose dates the row does not give) `None`.
    fn active_at(&self, day: NaiveDate, last: NaiveDate) -> Option<bool> {
        if day < self.created {
            return Some(false);
        }
        let in_effect = |d: NaiveDate| d <= last && d.max(self.created) <= day;
        if [self.max_cancel, self.max_reactivation].into_iter().flatten().all(in_effect) {
            return Some(self.active_at_last);
        }
        let cancelled = self.max_cancel.is_some_and(in_effect);
        match (self.cancels, self.reactivations) {
            // at most one of the two is in effect here: a reactivation alone changes nothing
            (0..=1, 0..=1) => Some(!cancelled),
            _ => None,
        }
    }
}

/// Three-valued "any": true when one is, unknown when none is and one is unknown.
fn any(states: impl Iterator<Item = Option<bool>>) -> Option<bool> {
    let mut unknown = false;
    for state in states {
        match state {
            Some(true) => return Some(true),
            None => unknown = true,
            Some(false) => {}
        }
    }
    (!unknown).then_some(false)
}

/// Per group ("" = the whole lake, then each product): [L of subscriptions, L of subscribers]
/// and [A(a−1) of both], where the truth fixes every state they need.
fn truth_cohort(
    subs: &[TruthSubscription],
    before: NaiveDate,
    end: NaiveDate,
    last: NaiveDate,
) -> BTreeMap<String, [Option<(i64, i64)>; 2]> {
    let mut groups: BTreeMap<String, Vec<&TruthSubscription>> = BTreeMap::new();
    for s in subs {
        groups.entry(String::new()).or_default().push(s);
        groups.entry(s.product.clone()).or_default().push(s);
    }
    let count = |entities: Vec<(Option<bool>, Option<bool>)>| -> Option<(i64, i64)> {
        let (mut lost, mut start) = (0, 0);
        for (at_start, at_end) in entities {
            if at_start? {
                start += 1;
                lost += i64::from(!at_end?);
            }
        }
        Some((lost, start))
    };
    groups
        .into_iter()
        .map(|(group, members)| {
            let subscriptions =
                count(members.iter().map(|s| (s.active_at(before, last), s.active_at(end, last))).collect());
            let mut users: BTreeMap<&str, Vec<&TruthSubscription>> = BTreeMap::new();
            for s in &members {
                users.entry(s.user.as_str()).or_default().push(s);
            }
            let subscribers = count(
                users
                    .values()
                    .map(|own| {
                        (
                            any(own.iter().map(|s| s.active_at(before, last))),
                            any(own.iter().map(|s| s.active_at(end, last))),
                        )
                    })
                    .collect(),
            );
            (group, [subscriptions, subscribers])
        })
        .collect()
}

/// A generated history (every variant and anomaly): over a grid of periods, every
/// definition of the whole lake and of each product equals the truth — the series-based
/// ones from the truth's series, `cohort` wherever the truth's subscription facts fix
/// every state it needs (at least the periods near both ends of the lake).
#[test]
fn a_generated_history_matches_the_truth() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut opts = Preset::Demo.options(dir.path().to_path_buf());
    opts.seed = 3;
    opts.days = 60;
    opts.subs_per_day = 8;
    let summary = generate(&opts).expect("generation succeeds");
    let lake = opts.out.join("lake");
    ingest(&summary.drops_dir, &lake);
    let lake = path(&lake);
    let truth = &summary.truth_dir;
    let mut series = read_series(&read(&truth.join("series.csv")), None);
    series.extend(read_series(&read(&truth.join("series_by_product.csv")), Some("product")));
    let subs = truth_subscriptions(&read(&truth.join("subscriptions.csv")));
    let first = opts.start;
    let last = first + Days::new(u64::from(opts.days) - 1);
    let day = |n: u64| first + Days::new(n);

    let periods = [
        (first, last),
        (first, day(2)),
        (first, last - Days::new(3)),
        (day(1), last),
        (day(2), day(30)),
        (day(3), last),
        (day(20), day(40)),
        (day(30), last),
        (last - Days::new(4), last),
        (last, last),
    ];
    let (mut cohort_checks, mut cohort_from_first) = (0, false);
    // in one pass, and split into several (subscribers folded across passes)
    let passes = [&[][..], &[("CHURNLAKE_ROWS_PER_PASS", "400")][..]];
    for ((from, to), env) in periods.into_iter().flat_map(|p| passes.map(|env| (p, env))) {
        let n = (to - from).num_days() + 1;
        let got = rates_json(lake, from, to, &["--by", "product"], env);
        let before = from - Days::new(1);
        let cohort = truth_cohort(&subs, before, to, last);
        for (group, days) in &series {
            for definition in DEFINITIONS {
                let object = &got[definition];
                let row = if group.is_empty() {
                    object
                } else {
                    let rows = object["rows"].as_array().expect("rows");
                    rows.iter()
                        .find(|r| r["product"] == group.as_str())
                        .unwrap_or_else(|| panic!("no {group} in {object}"))
                };
                for (l, level) in LEVELS.iter().enumerate() {
                    let p = period(days, l, from, to);
                    let label = format!("{from}..{to} {group:?} {definition} {env:?}");
                    match fraction(definition, p, n) {
                        Some((numerator, denominator)) => assert_level(&label, row, level, numerator, denominator),
                        None => {
                            let Some((lost, start)) = cohort[group][l] else { continue };
                            // the truth's subscription facts agree with its own series on A(a−1)
                            assert_eq!(start, p.start, "{label}: {level} active at the end of {before}");
                            assert_level(&label, row, level, lost, p.start as f64);
                            cohort_checks += 1;
                            cohort_from_first |= from == first && lost > 0;
                        }
                    }
                }
            }
        }
    }
    eprintln!("{cohort_checks} cohort figures checked against the truth");
    assert!(cohort_checks >= 80, "only {cohort_checks} cohort figures fixed by the truth");
    assert!(cohort_from_first, "no cohort figure checked from the lake's first day with a loss");
}
