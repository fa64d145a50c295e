//! `check` and `reconcile` on a lake built from generated drops with known faults: a
//! removed cancellation report, a removed events file, a late file, a re-delivery, a
//! header-only day, a quarantined row and a code-5 event with no cancellation. The
//! dashboard is the generator's ground truth on the complete drops.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use chrono::{Days, NaiveDate};
use churnlake_generate::{Preset, Variants, generate};
use serde_json::Value;

use crate::support::{ingest, parse_csv, path, run, run_ok};

fn date(text: &str) -> NaiveDate {
    let text = text.split(' ').next().unwrap_or_default();
    NaiveDate::parse_from_str(text, "%m/%d/%Y")
        .or_else(|_| NaiveDate::parse_from_str(text, "%Y-%m-%d"))
        .unwrap_or_else(|e| panic!("a date `{text}`: {e}"))
}

/// The drop files of one kind by data date (the stamp's date minus one day).
fn by_day(dir: &Path, prefix: &str) -> BTreeMap<NaiveDate, PathBuf> {
    let mut files = BTreeMap::new();
    for entry in std::fs::read_dir(dir).expect("the drops folder") {
        let file = entry.expect("a drop").path();
        let name = file.file_name().and_then(|n| n.to_str()).expect("a UTF-8 name").to_owned();
        let Some(stamp) = name.strip_prefix(prefix).and_then(|rest| rest.get(..8)) else { continue };
        if !stamp.bytes().all(|b| b.is_ascii_digit()) {
            continue;
        }
        let stamp = NaiveDate::parse_from_str(stamp, "%m%d%Y").expect("an MMDDYYYY stamp");
        files.insert(stamp - Days::new(1), file);
    }
    files
}

/// A report's rows as header → value maps, with their line numbers.
type Rows = Vec<(usize, BTreeMap<String, String>)>;

/// A report's header line and rows.
fn report(file: &Path) -> (String, Rows) {
    let text = std::fs::read_to_string(file).expect("a report");
    let header = text.lines().next().unwrap_or_default().to_owned();
    let (names, rows) = parse_csv(&text);
    let rows = rows.into_iter().enumerate().map(|(i, row)| (i + 2, names.iter().cloned().zip(row).collect())).collect();
    (header, rows)
}

/// Subscriber-event rows (headerless, five fields): public id, code, date.
fn events(file: &Path) -> Vec<(String, u32, NaiveDate)> {
    std::fs::read_to_string(file)
        .expect("an events file")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let cells: Vec<&str> = line.split(',').collect();
            let day = cells[4].split(' ').next().unwrap_or_default();
            (cells[0].to_owned(), cells[3].parse().expect("a code"), date(day))
        })
        .collect()
}

fn name(file: &Path) -> String {
    file.file_name().and_then(|n| n.to_str()).expect("a name").to_owned()
}

/// The faults injected, for the assertions.
struct Faults {
    missing_cancellations: NaiveDate,
    missing_events: NaiveDate,
    late: (String, NaiveDate, NaiveDate),
    duplicate: (String, String),
    header_only: (String, NaiveDate),
    quarantined: (String, NaiveDate, usize),
    code5: (String, NaiveDate),
}

/// Copies the complete drops and injects one of each fault, on days chosen so that no
/// fault has side effects on another check (no cancelled subscription reactivated later …).
fn inject(clean: &Path, faulty: &Path) -> Faults {
    std::fs::create_dir_all(faulty).expect("a folder");
    for entry in std::fs::read_dir(clean).expect("drops") {
        let file = entry.expect("a drop").path();
        std::fs::copy(&file, faulty.join(name(&file))).expect("copying a drop");
    }
    let cancels = by_day(faulty, "acme_tea_cancelled_subscriptions_");
    let subs = by_day(faulty, "acme_tea_subscription_");
    let event_files = by_day(faulty, "acme_tea_crm_subscriber_events_");

    // what every subscription goes through, from the complete drops
    let mut public_of: BTreeMap<String, String> = BTreeMap::new();
    let mut cancelled: BTreeMap<String, Vec<NaiveDate>> = BTreeMap::new();
    // subscription-report rows per subscription (a later row updates its attributes)
    let mut report_rows: BTreeMap<String, usize> = BTreeMap::new();
    for file in subs.values() {
        for (_, row) in report(file).1 {
            *report_rows.entry(row["Subscription ID"].clone()).or_default() += 1;
        }
    }
    for file in cancels.values().chain(subs.values()) {
        for (_, row) in report(file).1 {
            public_of.insert(row["Subscription ID"].clone(), row["Public Subscription ID"].clone());
            if !row["Cancel Date"].is_empty() {
                cancelled.entry(row["Subscription ID"].clone()).or_default().push(date(&row["Cancel Date"]));
            }
        }
    }
    let sub_of: BTreeMap<String, String> = public_of.iter().map(|(s, p)| (p.clone(), s.clone())).collect();
    let mut reactivated: BTreeMap<String, Vec<NaiveDate>> = BTreeMap::new();
    let mut with_events: BTreeSet<String> = BTreeSet::new();
    for file in event_files.values() {
        for (public, code, day) in events(file) {
            let sub = sub_of.get(&public).cloned().unwrap_or_default();
            with_events.insert(sub.clone());
            if code == 9 {
                reactivated.entry(sub).or_default().push(day);
            }
        }
    }
    let later = |dates: Option<&Vec<NaiveDate>>, day: NaiveDate| dates.is_some_and(|d| d.iter().any(|x| *x > day));
    let first = *cancels.keys().next().expect("days");
    let days: Vec<NaiveDate> = cancels.keys().copied().filter(|d| *d >= first + Days::new(10)).collect();
    let mut used: BTreeSet<NaiveDate> = BTreeSet::new();
    let pick = |used: &mut BTreeSet<NaiveDate>, ok: &dyn Fn(NaiveDate) -> bool| -> NaiveDate {
        let day = *days
            .iter()
            .find(|d| !used.contains(*d) && !used.contains(&(**d + Days::new(3))) && ok(**d))
            .expect("a day for the fault");
        used.extend([day, day + Days::new(3)]);
        day
    };
    // cancellations of subscriptions never reactivated afterwards: losing them has no side effect
    let quiet_cancels = |day: NaiveDate| {
        let rows = report(&cancels[&day]).1;
        !rows.is_empty() && rows.iter().all(|(_, r)| !later(reactivated.get(&r["Subscription ID"]), day))
    };
    let missing_cancellations = pick(&mut used, &quiet_cancels);
    std::fs::remove_file(&cancels[&missing_cancellations]).expect("removing a cancellation report");
    let header_day = pick(&mut used, &quiet_cancels);
    let (header, _) = report(&cancels[&header_day]);
    std::fs::write(&cancels[&header_day], format!("{header}\n")).expect("a header-only report");

    // reactivations of subscriptions never cancelled afterwards
    let missing_events = pick(&mut used, &|day: NaiveDate| {
        let rows = events(&event_files[&day]);
        rows.iter().any(|r| r.1 == 9)
            && rows.iter().all(|(p, _, _)| !later(cancelled.get(sub_of.get(p).unwrap_or(&String::new())), day))
    });
    std::fs::remove_file(&event_files[&missing_events]).expect("removing an events file");

    // the cancellation report of a day delivered three days late
    let late_day = pick(&mut used, &|day: NaiveDate| !report(&cancels[&day]).1.is_empty());
    let late_name =
        format!("acme_tea_cancelled_subscriptions_{}120000.csv", (late_day + Days::new(4)).format("%m%d%Y"));
    std::fs::rename(&cancels[&late_day], faulty.join(&late_name)).expect("moving a report");

    // a subscription report sent again under a later stamp of the same day
    let resent_day = pick(&mut used, &|_| true);
    let original = name(&subs[&resent_day]);
    let copy = format!("acme_tea_subscription_{}235959.csv", (resent_day + Days::new(1)).format("%m%d%Y"));
    std::fs::copy(&subs[&resent_day], faulty.join(&copy)).expect("re-sending a report");

    // the only row of a subscription never cancelled, never updated and without events gets
    // an impossible date
    let untouched = |row: &BTreeMap<String, String>| {
        !cancelled.contains_key(&row["Subscription ID"])
            && !with_events.contains(&row["Subscription ID"])
            && report_rows.get(&row["Subscription ID"]) == Some(&1)
    };
    let quarantine_day = pick(&mut used, &|day: NaiveDate| report(&subs[&day]).1.iter().any(|(_, r)| untouched(r)));
    let (header, rows) = report(&subs[&quarantine_day]);
    let (line, row) = rows.iter().find(|(_, r)| untouched(r)).expect("a row");
    let text = std::fs::read_to_string(&subs[&quarantine_day]).expect("a report");
    let bad = text.lines().nth(line - 1).expect("the line").replacen(&row["Create Date"], "02/30/2023", 1);
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    lines[line - 1] = bad;
    assert_eq!(lines[0], header);
    std::fs::write(&subs[&quarantine_day], lines.join("\n") + "\n").expect("a corrupted report");

    // a code-5 event for a subscription that is never cancelled
    let code5_day = pick(&mut used, &|day: NaiveDate| !events(&event_files[&day]).is_empty());
    let (quiet_sub, public) = public_of
        .iter()
        .find(|(s, _)| !cancelled.contains_key(*s) && !with_events.contains(*s) && **s != row["Subscription ID"])
        .expect("a subscription never cancelled");
    let _ = quiet_sub;
    let mut text = std::fs::read_to_string(&event_files[&code5_day]).expect("an events file");
    text.push_str(&format!("{public},M-1,someone@example.com,5,{} 12:00:00\n", code5_day.format("%m/%d/%Y")));
    std::fs::write(&event_files[&code5_day], text).expect("an events file with a code 5");

    Faults {
        missing_cancellations,
        missing_events,
        late: (late_name, late_day + Days::new(3), late_day),
        duplicate: (copy, original),
        header_only: (name(&cancels[&header_day]), header_day),
        quarantined: (name(&subs[&quarantine_day]), quarantine_day, *line),
        code5: (public.clone(), code5_day),
    }
}

fn json(args: &[&str], codes: &[i32]) -> Value {
    serde_json::from_str(&run_ok(args, codes)).expect("JSON output")
}

fn s(text: impl ToString) -> Value {
    Value::String(text.to_string())
}

#[test]
fn check_and_reconcile_name_exactly_the_injected_faults() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut opts = Preset::Demo.options(dir.path().join("gen"));
    opts.seed = 7;
    opts.days = 75;
    opts.subs_per_day = 20;
    opts.variants = Variants::none();
    let summary = generate(&opts).expect("generation succeeds");
    let clean_drops = summary.drops_dir.join("outgoing/2023");
    let faulty_drops = dir.path().join("faulty");
    let faults = inject(&clean_drops, &faulty_drops);
    let (clean, faulty) = (dir.path().join("clean-lake"), dir.path().join("faulty-lake"));
    ingest(&clean_drops, &clean);
    ingest(&faulty_drops, &faulty);

    // check: the complete lake has nothing at error level and is complete to its last day
    let base = json(&["check", "--lake", path(&clean), "--format", "json"], &[0]);
    assert_eq!(base["complete_through"], base["last_data_date"], "{base:#}");
    let report = json(&["check", "--lake", path(&faulty), "--format", "json"], &[1]);
    let set = |r: &Value| -> BTreeSet<String> {
        r["findings"].as_array().expect("findings").iter().map(|f| f.to_string()).collect()
    };
    let (before, after) = (set(&base), set(&report));
    assert!(before.is_subset(&after), "findings of the complete lake vanished: {:?}", before.difference(&after));
    let new: Vec<Value> = after.difference(&before).map(|f| serde_json::from_str(f).expect("a finding")).collect();
    let expected = [
        serde_json::json!({"check": "missing_day", "level": "error", "kind": "cancellations",
                           "date": s(faults.missing_cancellations)}),
        serde_json::json!({"check": "missing_day", "level": "error", "kind": "subscriber_events",
                           "date": s(faults.missing_events)}),
        serde_json::json!({"check": "late_drop", "level": "warn", "kind": "cancellations", "file": faults.late.0,
                           "data_date": s(faults.late.1), "covers": s(faults.late.2)}),
        serde_json::json!({"check": "duplicate", "level": "info", "kind": "subscriptions", "file": faults.duplicate.0,
                           "duplicate_of": faults.duplicate.1}),
        serde_json::json!({"check": "empty_drop", "level": "info", "kind": "cancellations",
                           "file": faults.header_only.0, "data_date": s(faults.header_only.1)}),
    ];
    for finding in &expected {
        assert!(new.contains(finding), "missing finding {finding:#}\nnew findings: {new:#?}");
    }
    let quarantined: Vec<&Value> = new.iter().filter(|f| f["check"] == "quarantined_rows").collect();
    assert_eq!(quarantined.len(), 1, "{new:#?}");
    assert_eq!(quarantined[0]["file"], s(&faults.quarantined.0));
    assert_eq!(quarantined[0]["data_date"], s(faults.quarantined.1));
    assert_eq!(quarantined[0]["rows"], 1);
    assert_eq!(quarantined[0]["lines"], serde_json::json!([faults.quarantined.2]));
    let code5: Vec<&Value> = new.iter().filter(|f| f["check"] == "event_without_cancellation").collect();
    assert_eq!(code5.len(), 1, "{new:#?}");
    assert_eq!(code5[0]["count"], 1);
    assert_eq!(code5[0]["examples"][0]["public_subscription_id"], s(&faults.code5.0));
    assert_eq!(code5[0]["examples"][0]["date"], s(faults.code5.1));
    assert_eq!(new.len(), expected.len() + 2, "findings beyond the injected faults: {new:#?}");
    let first_gap = faults.missing_cancellations.min(faults.missing_events);
    assert_eq!(report["complete_through"], s(first_gap - Days::new(1)));
    // the gate: errors fail by default, never with --fail-on never; warnings only with --fail-on warn
    run_ok(&["check", "--lake", path(&faulty), "--fail-on", "never"], &[0]);
    let warn = run(&["check", "--lake", path(&clean), "--fail-on", "warn"]);
    let base_warns = base["findings"].as_array().expect("findings").iter().any(|f| f["level"] != "info");
    assert_eq!(warn.status.code(), Some(if base_warns { 1 } else { 0 }));

    // reconcile against the truth on the complete drops: exactly the pairs where the series differ
    let truth = summary.truth_dir.join("series.csv");
    let clean_result =
        json(&["reconcile", "--dashboard", path(&truth), "--lake", path(&clean), "--format", "json"], &[0]);
    assert_eq!(clean_result["differing_days"], 0, "{clean_result:#}");
    let result = json(&["reconcile", "--dashboard", path(&truth), "--lake", path(&faulty), "--format", "json"], &[1]);
    let ours = run_ok(&["series", "--lake", path(&faulty), "--format", "csv"], &[0]);
    let (header, our_rows) = parse_csv(&ours);
    let (_, their_rows) = parse_csv(&std::fs::read_to_string(&truth).expect("the truth"));
    let theirs: BTreeMap<&str, &Vec<String>> = their_rows.iter().map(|r| (r[0].as_str(), r)).collect();
    let mut expected_pairs: Vec<(String, String, i64, i64)> = Vec::new();
    for row in &our_rows {
        let Some(their) = theirs.get(row[0].as_str()) else { continue };
        for (i, metric) in header.iter().enumerate().skip(1) {
            let (a, b): (i64, i64) = (row[i].parse().expect("a count"), their[i].parse().expect("a count"));
            if a != b {
                expected_pairs.push((row[0].clone(), metric.clone(), a, b));
            }
        }
    }
    expected_pairs.sort();
    let days = result["days"].as_array().expect("days");
    let got: Vec<(String, String, i64, i64)> = days
        .iter()
        .map(|d| {
            assert_eq!(
                d["difference"].as_i64(),
                Some(d["ours"].as_i64().unwrap_or(0) - d["theirs"].as_i64().unwrap_or(0))
            );
            (
                d["date"].as_str().unwrap_or_default().to_owned(),
                d["metric"].as_str().unwrap_or_default().to_owned(),
                d["ours"].as_i64().unwrap_or(0),
                d["theirs"].as_i64().unwrap_or(0),
            )
        })
        .collect();
    assert_eq!(got, expected_pairs, "reconcile's pairs are not the series' differences");
    assert!(!got.is_empty());
    assert_eq!(result["compared_days"], their_rows.len());
    let distinct: BTreeSet<&str> = got.iter().map(|g| g.0.as_str()).collect();
    assert_eq!(result["differing_days"], distinct.len());

    // the injected fault is the first cause on the day it first changes the gap
    let day = |date: NaiveDate, metric: &str| -> &Value {
        days.iter()
            .find(|d| d["date"] == s(date) && d["metric"] == metric)
            .unwrap_or_else(|| panic!("no difference on {date} for {metric}: {result:#}"))
    };
    let first_cause = |date: NaiveDate, metric: &str| day(date, metric)["causes"][0].clone();
    let cause = first_cause(faults.missing_cancellations, "cancelled_subscriptions");
    assert_eq!((&cause["cause"], &cause["kind"]), (&s("missing_day"), &s("cancellations")), "{cause:#}");
    assert_eq!(cause["date"], s(faults.missing_cancellations));
    let cause = first_cause(faults.missing_events, "reactivated_subscriptions");
    assert_eq!((&cause["cause"], &cause["kind"]), (&s("missing_day"), &s("subscriber_events")), "{cause:#}");
    let cause = first_cause(faults.header_only.1, "cancelled_subscriptions");
    assert_eq!((&cause["cause"], &cause["file"]), (&s("empty_drop"), &s(&faults.header_only.0)), "{cause:#}");
    let cause = first_cause(faults.quarantined.1, "new_subscriptions");
    assert_eq!((&cause["cause"], &cause["file"]), (&s("quarantined_rows"), &s(&faults.quarantined.0)), "{cause:#}");
    // a stock's gap that does not change is carried over, naming the day it began
    let mut previous: BTreeMap<&str, (NaiveDate, i64, NaiveDate)> = BTreeMap::new();
    for d in days {
        let metric = d["metric"].as_str().unwrap_or_default();
        let (date, gap) = (self::date(d["date"].as_str().unwrap_or_default()), d["difference"].as_i64().unwrap_or(0));
        let carried = previous
            .get(metric)
            .filter(|(p, g, _)| metric.starts_with("active_") && *g == gap && *p + Days::new(1) == date);
        match carried {
            Some(&(_, _, since)) => {
                assert_eq!(d["causes"], serde_json::json!([{"cause": "carried_over", "since": s(since)}]), "{d:#}");
                previous.insert(metric, (date, gap, since));
            }
            None => {
                assert!(
                    d["causes"].as_array().is_some_and(|c| !c.is_empty() && c[0]["cause"] != "carried_over"),
                    "{d:#}"
                );
                previous.insert(metric, (date, gap, date));
            }
        }
    }

    // the dashboard's own headings and dates give the same pairs
    let dashboard = dir.path().join("dashboard.csv");
    let mut text = String::from("Date,Active Subscriptions at Day's End,Subscription Cancels\n");
    for row in &their_rows {
        text.push_str(&format!("{},\"{}\",{}\n", date(&row[0]).format("%m/%d/%Y"), row[1], row[3]));
    }
    std::fs::write(&dashboard, text).expect("a dashboard file");
    let headings =
        json(&["reconcile", "--dashboard", path(&dashboard), "--lake", path(&faulty), "--format", "json"], &[1]);
    let subset: Vec<&Value> = days
        .iter()
        .filter(|d| d["metric"] == "active_subscriptions" || d["metric"] == "cancelled_subscriptions")
        .collect();
    let from_headings: Vec<&Value> = headings["days"].as_array().expect("days").iter().collect();
    assert_eq!(from_headings, subset);
    let table = run_ok(&["reconcile", "--dashboard", path(&dashboard), "--lake", path(&faulty)], &[1]);
    let sentence = format!(
        "we count {} more active subscriptions than the dashboard: the cancellation report of {} is missing",
        day(faults.missing_cancellations, "active_subscriptions")["difference"],
        faults.missing_cancellations
    );
    assert!(table.contains(&sentence), "{table}");

    // bad dashboard files are clear errors naming the line and column
    for (content, words) in [
        ("date,revenue\n2023-01-20,5\n", vec!["line 1", "unknown column `revenue`"]),
        (
            "date,active_subscriptions\n2023-01-20,5\n2023-01-21,many\n",
            vec!["line 3", "active_subscriptions", "`many`"],
        ),
        ("date,active_subscriptions\n2031-01-20,5\n", vec!["line 2", "outside the lake"]),
        ("date,active_subscriptions\n2023-02-30,5\n", vec!["line 2", "not a date"]),
    ] {
        std::fs::write(&dashboard, content).expect("a dashboard file");
        let out = run(&["reconcile", "--dashboard", path(&dashboard), "--lake", path(&faulty)]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{content}: {err}");
        for word in words {
            assert!(err.contains(word), "{content}: `{word}` not in {err}");
        }
    }
}

#[test]
fn explain_takes_a_public_id_and_a_day() {
    let dir = tempfile::tempdir().expect("temp dir");
    let lake = dir.path().join("lake");
    let case = crate::support::repo().join("tests/conformance/cases/01-lifecycle/drops");
    ingest(&case, &lake);
    let subs = run_ok(&["subscriptions", "--lake", path(&lake), "--format", "json"], &[0]);
    let subs: Value = serde_json::from_str(&subs).expect("JSON");
    let sub = subs
        .as_array()
        .expect("rows")
        .iter()
        .find(|s| {
            s["reactivation_count"].as_i64().unwrap_or(0) > 0
                && s["current_status"] == "active"
                && s["public_subscription_id"].is_string()
                && s["max_reactivation_date"].as_str() > s["max_cancel_date"].as_str()
        })
        .expect("a reactivated subscription");
    let id = sub["subscription_id"].as_str().expect("an id");
    let public = sub["public_subscription_id"].as_str().expect("a public id");
    let by_id = json(&["explain", id, "--lake", path(&lake), "--format", "json"], &[0]);
    let by_public = json(&["explain", public, "--lake", path(&lake), "--format", "json"], &[0]);
    assert_eq!(by_id, by_public);
    // as of the day before the reactivation: inactive, the reactivation not listed
    let reactivated = date(sub["max_reactivation_date"].as_str().expect("a date"));
    let before = (reactivated - Days::new(1)).to_string();
    let then = json(&["explain", public, "--lake", path(&lake), "--as-of", &before, "--format", "json"], &[0]);
    assert_eq!(then["as_of"], s(&before));
    assert_eq!(then["current_status"], "inactive", "{then:#}");
    let events = then["events"].as_array().expect("events");
    assert!(events.iter().all(|e| e["effective_date"].as_str().is_some_and(|d| date(d) <= reactivated - Days::new(1))));
    assert!(events.len() < by_id["events"].as_array().expect("events").len());
}

/// On a history with every variant the generator writes, the check's counts are the
/// generator's own counts of what it wrote (its summary), and the series still equals the
/// truth: `reconcile` finds nothing to explain.
#[test]
fn check_counts_what_the_generator_wrote() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut opts = Preset::Demo.options(dir.path().join("gen"));
    opts.seed = 11;
    opts.days = 240;
    opts.subs_per_day = 20;
    let summary = generate(&opts).expect("generation succeeds");
    let lake = dir.path().join("lake");
    ingest(&summary.drops_dir, &lake);
    let written: Value = serde_json::from_str(
        &std::fs::read_to_string(summary.truth_dir.join("summary.json")).expect("the generator's summary"),
    )
    .expect("JSON");
    let wrote = |family: &str, name: &str| written[family][name].as_u64().unwrap_or(0);
    let report = json(&["check", "--lake", path(&lake), "--format", "json", "--fail-on", "never"], &[0]);
    let findings = report["findings"].as_array().expect("findings");
    let files = |check: &str| findings.iter().filter(|f| f["check"] == check).count() as u64;
    let count = |check: &str, anomaly: Option<&str>| {
        findings
            .iter()
            .filter(|f| f["check"] == check && anomaly.is_none_or(|a| f["anomaly"] == a))
            .map(|f| f["count"].as_u64().unwrap_or(0))
            .sum::<u64>()
    };
    assert_eq!(files("duplicate"), wrote("anomalies", "resent_files"));
    assert_eq!(
        files("empty_drop"),
        wrote("variants_written", "empty/header_only_report") + wrote("variants_written", "empty/zero_byte_events")
    );
    assert_eq!(count("anomaly", Some("unknown_id")), wrote("anomalies", "orphan_reactivation_rows"));
    assert_eq!(count("anomaly", Some("after_last_data_date")), wrote("anomalies", "cancellation_dated_after_last_day"));
    assert_eq!(
        count("conflicting_created_date", None),
        wrote("anomalies", "cancellation_rows_with_earlier_create_date")
    );
    assert_eq!(files("failed_file") + files("quarantined_rows") + files("public_id_conflict"), 0, "{report:#}");
    // the generator pairs its code-5 rows with real cancellations
    assert_eq!(files("event_without_cancellation"), 0, "{report:#}");
    assert!(wrote("anomalies", "missing_days") > 0 && files("missing_day") > 0);
    let truth = summary.truth_dir.join("series.csv");
    let result = json(&["reconcile", "--dashboard", path(&truth), "--lake", path(&lake), "--format", "json"], &[0]);
    assert_eq!(result["days"], serde_json::json!([]));
    assert_eq!(result["compared_days"], opts.days);
}
