//! `--as-known-on K` gives byte for byte what a lake ingested from only the drops known on
//! K gives; `diff` is the difference of two such lakes, naming the drops in between.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use chrono::{Days, NaiveDate, NaiveDateTime};
use churnlake_generate::{Preset, generate};
use serde_json::Value;

use crate::support::{ingest, parse_csv, path, run, run_ok};

/// The manifest's entries: (source path, source name, stamp, data date).
fn entries(lake: &Path) -> Vec<(PathBuf, String, NaiveDateTime, NaiveDate)> {
    let drops: Value =
        serde_json::from_str(&run_ok(&["drops", "--lake", path(lake), "--format", "json"], &[0])).expect("JSON");
    drops
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| {
            let text = |k: &str| e[k].as_str().unwrap_or_else(|| panic!("no {k} in {e}")).to_owned();
            (
                PathBuf::from(text("source_path")),
                text("source_name"),
                NaiveDateTime::parse_from_str(&text("stamp"), "%Y-%m-%dT%H:%M:%S").expect("a stamp"),
                NaiveDate::parse_from_str(&text("data_date"), "%Y-%m-%d").expect("a data date"),
            )
        })
        .collect()
}

/// A lake ingested from only the drops stamped on or before `day`.
fn lake_known_on(all: &[(PathBuf, String, NaiveDateTime, NaiveDate)], day: NaiveDate, dir: &Path) -> PathBuf {
    let drops = dir.join(format!("drops-{day}"));
    std::fs::create_dir_all(&drops).expect("a folder");
    for (i, (source, name, stamp, _)) in all.iter().enumerate() {
        if stamp.date() <= day {
            // one folder per file: names may repeat across folders in the source
            let folder = drops.join(i.to_string());
            std::fs::create_dir_all(&folder).expect("a folder");
            std::fs::copy(source, folder.join(name)).expect("copying a drop");
        }
    }
    let lake = dir.join(format!("lake-{day}"));
    ingest(&drops, &lake);
    lake
}

/// The commands whose outputs must be equal, with the lake flag and knowledge date appended.
fn commands(first: NaiveDate, last: NaiveDate, id: &str) -> Vec<Vec<String>> {
    let (from, to) = (first.to_string(), last.to_string());
    let middle = (first + Days::new(((last - first).num_days() / 2) as u64)).to_string();
    [
        vec!["series", "--format", "csv"],
        vec!["series", "--by", "product", "--grain", "week", "--format", "csv"],
        vec!["rate", "--from", &from, "--to", &to, "--format", "csv"],
        vec!["rate", "--from", &from, "--to", &to, "--by", "product", "--format", "json"],
        vec!["active", "--by", "product", "--format", "csv"],
        vec!["active", "--as-of", &middle, "--format", "csv"],
        vec!["subscriptions", "--format", "csv"],
        vec!["subscribers", "--as-of", &middle, "--format", "csv"],
        vec!["anomalies", "--format", "csv"],
        vec!["explain", id],
        vec!["sql", "select report_kind, count(*) as n from subscriptions group by 1 order by 1", "--format", "csv"],
    ]
    .into_iter()
    .map(|c| c.into_iter().map(str::to_owned).collect())
    .collect()
}

fn output(args: &[String]) -> (Option<i32>, String, String) {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = run(&args);
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn as_known_on_equals_a_lake_of_the_drops_known_then() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut opts = Preset::Demo.options(dir.path().join("gen"));
    opts.seed = 5;
    opts.days = 80;
    opts.subs_per_day = 15;
    let summary = generate(&opts).expect("generation succeeds");
    let lake = dir.path().join("lake");
    ingest(&summary.drops_dir, &lake);
    let all = entries(&lake);
    let first_stamp = all.iter().map(|e| e.2.date()).min().expect("drops");
    let last_stamp = all.iter().map(|e| e.2.date()).max().expect("drops");
    // a drop that arrived later than its data date says: the day before it and its day
    let late = all
        .iter()
        .filter(|(_, _, stamp, data_date)| stamp.date() > *data_date + Days::new(1) && *data_date > first_stamp)
        .map(|e| e.2.date())
        .min()
        .or_else(|| all.iter().map(|e| e.2.date()).filter(|d| *d > first_stamp + Days::new(20)).min())
        .expect("a later drop");
    let days: BTreeSet<NaiveDate> =
        [first_stamp, late - Days::new(1), late, first_stamp + Days::new(40), last_stamp].into_iter().collect();

    let id = {
        let subs = run_ok(&["subscriptions", "--lake", path(&lake), "--format", "csv"], &[0]);
        parse_csv(&subs).1[0][0].clone()
    };
    for day in &days {
        let known = lake_known_on(&all, *day, dir.path());
        let ids = run_ok(&["subscriptions", "--lake", path(&known), "--format", "csv"], &[0]);
        let id = if ids.contains(&format!("\n{id},")) { id.clone() } else { parse_csv(&ids).1[0][0].clone() };
        let dates = run_ok(&["series", "--lake", path(&known), "--format", "csv"], &[0]);
        let (_, rows) = parse_csv(&dates);
        let first = NaiveDate::parse_from_str(&rows[0][0], "%Y-%m-%d").expect("a date");
        let last = NaiveDate::parse_from_str(&rows[rows.len() - 1][0], "%Y-%m-%d").expect("a date");
        for command in commands(first, last, &id) {
            let mut cut = command.clone();
            cut.extend(["--lake".into(), path(&lake).into(), "--as-known-on".into(), day.to_string()]);
            let mut subset = command.clone();
            subset.extend(["--lake".into(), path(&known).into()]);
            let (code, got, _) = output(&cut);
            let (expected_code, expected, _) = output(&subset);
            // the lake state names the knowledge date asked for: the only difference allowed
            let named = format!("\"known_on\": \"{day}\"");
            let json = command.iter().any(|a| a == "json");
            assert_eq!(got.contains(&named), json, "{command:?}: the state names the knowledge date in JSON");
            let got = got.replace(&named, "\"known_on\": null");
            if got != expected {
                let at = got.bytes().zip(expected.bytes()).position(|(x, y)| x != y).unwrap_or(0);
                let around = |t: &str| t.get(at.saturating_sub(80)..(at + 80).min(t.len())).unwrap_or("").to_owned();
                panic!(
                    "{command:?} as known on {day} differs at byte {at}:\n{}\n---\n{}",
                    around(&got),
                    around(&expected)
                );
            }
            assert_eq!(code, expected_code, "{command:?} as known on {day}");
        }
        // check: the same findings (its report names the lake it read)
        let cut = run_ok(
            &[
                "check",
                "--lake",
                path(&lake),
                "--as-known-on",
                &day.to_string(),
                "--format",
                "json",
                "--fail-on",
                "never",
            ],
            &[0],
        );
        let subset = run_ok(&["check", "--lake", path(&known), "--format", "json", "--fail-on", "never"], &[0]);
        let strip = |text: &str| {
            let mut v: Value = serde_json::from_str(text).expect("JSON");
            v["lake"] = Value::Null;
            v
        };
        assert_eq!(strip(&cut), strip(&subset), "check as known on {day}");
    }
    // after the last stamp: the plain command
    let later = (last_stamp + Days::new(30)).to_string();
    for command in commands(first_stamp - Days::new(1), first_stamp, &id).into_iter().take(1) {
        let mut cut = command.clone();
        cut.extend(["--lake".into(), path(&lake).into(), "--as-known-on".into(), later.clone()]);
        let mut plain = command.clone();
        plain.extend(["--lake".into(), path(&lake).into()]);
        assert_eq!(output(&cut).1, output(&plain).1);
    }
    // before the first stamp: a clear error
    let before = (first_stamp - Days::new(1)).to_string();
    let (code, _, err) =
        output(&["series".into(), "--lake".into(), path(&lake).into(), "--as-known-on".into(), before]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("no drop was known yet"), "{err}");

    // every output says what it was computed from
    let day = late.to_string();
    let (_, _, err) =
        output(&["series".into(), "--lake".into(), path(&lake).into(), "--as-known-on".into(), day.clone()]);
    assert!(err.contains(&format!("as known on {day}")) && err.contains("complete through"), "{err}");
    let explained = run_ok(&["explain", &id, "--lake", path(&lake), "--as-known-on", &day, "--format", "json"], &[0]);
    let explained: Value = serde_json::from_str(&explained).expect("JSON");
    assert_eq!(explained["lake_state"]["known_on"], Value::String(day.clone()));
    let known = all.iter().filter(|e| e.2.date() <= late).count();
    assert!(explained["lake_state"]["drops"].as_u64().is_some_and(|n| n as usize <= known && n > 0));
    let parquet = dir.path().join("series.parquet");
    run_ok(&["series", "--lake", path(&lake), "--as-known-on", &day, "--out", path(&parquet)], &[0]);
    let bytes = std::fs::read(&parquet).expect("a Parquet file");
    let has = |needle: &str| bytes.windows(needle.len()).any(|w| w == needle.as_bytes());
    assert!(has("churnlake:known_on") && has(&day) && has("churnlake:complete_through"));

    // diff: the difference of the two lakes, with exactly the drops stamped in between
    let (a, b) = (late - Days::new(1), *days.iter().next_back().expect("days"));
    let diff = run_ok(
        &[
            "diff",
            "--lake",
            path(&lake),
            "--known-on",
            &a.to_string(),
            "--known-on",
            &b.to_string(),
            "--format",
            "json",
        ],
        &[0],
    );
    let diff: Value = serde_json::from_str(&diff).expect("JSON");
    let series_of = |day: NaiveDate| -> BTreeMap<(String, String), i64> {
        let lake = dir.path().join(format!("lake-{day}"));
        let lake = if lake.exists() { lake } else { lake_known_on(&all, day, dir.path()) };
        let (header, rows) = parse_csv(&run_ok(&["series", "--lake", path(&lake), "--format", "csv"], &[0]));
        rows.iter()
            .flat_map(|r| {
                header
                    .iter()
                    .enumerate()
                    .skip(1)
                    .map(move |(i, m)| ((r[0].clone(), m.clone()), r[i].parse().expect("a count")))
            })
            .collect()
    };
    let (before, after) = (series_of(a), series_of(b));
    let keys: BTreeSet<&(String, String)> = before.keys().chain(after.keys()).collect();
    let mut expected: Vec<(String, String, Option<i64>, Option<i64>)> = keys
        .into_iter()
        .filter(|k| before.get(*k) != after.get(*k))
        .map(|k| (k.0.clone(), k.1.clone(), before.get(k).copied(), after.get(k).copied()))
        .collect();
    expected.sort();
    let changes = diff["changes"].as_array().expect("changes");
    let mut got: Vec<(String, String, Option<i64>, Option<i64>)> = changes
        .iter()
        .map(|c| {
            (
                c["date"].as_str().unwrap_or_default().to_owned(),
                c["metric"].as_str().unwrap_or_default().to_owned(),
                c["before"].as_i64(),
                c["after"].as_i64(),
            )
        })
        .collect();
    got.sort();
    assert_eq!(got, expected);
    assert!(!got.is_empty());
    let arrived: Vec<String> = all.iter().filter(|e| e.2.date() > a && e.2.date() <= b).map(|e| e.1.clone()).collect();
    let files: Vec<String> =
        diff["files"].as_array().expect("files").iter().map(|f| f.as_str().unwrap_or_default().to_owned()).collect();
    assert_eq!(files.iter().collect::<BTreeSet<_>>(), arrived.iter().collect::<BTreeSet<_>>());
    for change in changes {
        let touched = change["files"].as_array().expect("files");
        assert!(touched.iter().all(|f| files.contains(&f.as_str().unwrap_or_default().to_owned())), "{change}");
        if change["before"].is_i64() && change["after"].is_i64() {
            assert_eq!(
                change["change"].as_i64(),
                Some(change["after"].as_i64().unwrap_or(0) - change["before"].as_i64().unwrap_or(0))
            );
        }
    }
    assert_eq!(diff["known_on"], serde_json::json!([a.to_string(), b.to_string()]));
}
