//! Personal data under `[ingest] pii`: under `hash` and `drop` no generated email address,
//! name (or, with `--pii-user-ids`, merchant user id) is found in clear anywhere — not in
//! stdout or stderr of any command (ingest logging at -vv included), not in any file of the
//! lake (every Parquet file decoded, every string cell read, and the raw bytes searched),
//! not in the quarantine (hostile rows carrying emails are quarantined on purpose). A
//! `hash` lake gives exactly the metrics of a `keep` lake, and a lake never mixes
//! policies or keys: a change is refused unless `--rewrite-pii` rewrites every file.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use churnlake_generate::{Preset, generate};
use polars::prelude::*;

use crate::support::{files_under, parse_csv, path, run_env};

const KEY: &str = "test key: 0123456789abcdef0123456789abcdef";
const OTHER_KEY: &str = "another test key, 32 bytes or so!!";

/// Hostile rows, quarantined on purpose, each carrying personal data: a money value with
/// three decimals, a row with too few fields, an email where the price goes, an
/// unterminated quote, an email where the event code goes, a bad total in an orders file.
const HOSTILE: &[(&str, &str)] = &[
    (
        "hostile_subscription_20230115.csv",
        "Subscription ID,Email Address,First Name,Last Name,Merchant User ID,Price,Create Date\n\
         900001,hostile.one@leak.test,Hostilia,Leakerson,M-HOSTILE-1,12.505,01/14/2023\n\
         900002,hostile.two@leak.test,Wrongwidth\n\
         900003,\"Quoted, Person\",Qualia,Quotewell,M-HOSTILE-3,hostile.three@leak.test,01/14/2023\n\
         900004,hostile.four@leak.test,Goodrow,Personne,M-HOSTILE-4,1.00,01/14/2023\n",
    ),
    (
        "hostile_crm_subscriber_events_20230115.csv",
        "ab00000000000000000000000000hst5,M-HOSTILE-5,hostile.five@leak.test,hostile.six@leak.test,01/14/2023\n\
         ab00000000000000000000000000hst6,M-HOSTILE-6,hostile.seven@leak.test,9,01/14/2023\n\
         ab00000000000000000000000000hst7,M-HOSTILE-7,\"hostile.eight@leak.test,9,01/14/2023\n",
    ),
    (
        "hostile_orders_20230115.csv",
        "Order ID,Customer Email,First Name,Order Total\n\
         O-1,hostile.nine@leak.test,Ordella,12.345\n\
         O-2,hostile.ten@leak.test,Ordwina,5.00\n",
    ),
    // no row types: the file fails, and its error message quotes the first rejected value
    (
        "hostile_orders_20230116.csv",
        "Order ID,Customer Email,Order Total\nO-3,hostile.eleven@leak.test,hostile.twelve@leak.test\n",
    ),
];

/// The personal values of the hostile rows.
const HOSTILE_VALUES: &[&str] = &[
    "hostile.one@leak.test",
    "hostile.two@leak.test",
    "hostile.three@leak.test",
    "hostile.four@leak.test",
    "hostile.five@leak.test",
    "hostile.six@leak.test",
    "hostile.seven@leak.test",
    "hostile.eight@leak.test",
    "hostile.nine@leak.test",
    "hostile.ten@leak.test",
    "hostile.eleven@leak.test",
    "hostile.twelve@leak.test",
    "Hostilia",
    "Leakerson",
    "Wrongwidth",
    "Qualia",
    "Quotewell",
    "Quoted, Person",
    "Goodrow",
    "Personne",
    "Ordella",
    "Ordwina",
];

const HOSTILE_USER_IDS: &[&str] = &["M-HOSTILE-1", "M-HOSTILE-3", "M-HOSTILE-4", "M-HOSTILE-5", "M-HOSTILE-6"];

/// Generated drops plus the hostile files.
fn drops(dir: &Path) -> PathBuf {
    let mut opts = Preset::Demo.options(dir.join("gen"));
    opts.days = 40;
    opts.subs_per_day = 6;
    let drops = generate(&opts).expect("generation succeeds").drops_dir;
    for (name, text) in HOSTILE {
        std::fs::write(drops.join(name), text).expect("writes a hostile drop");
    }
    drops
}

/// One command's run: its arguments, exit code, stdout and stderr.
struct Ran {
    args: String,
    code: i32,
    out: String,
    err: String,
}

/// Runs churnlake with the key in the environment and logging at debug (what -vv shows).
fn churnlake(args: &[&str], key: Option<&str>) -> Ran {
    let mut env = vec![("CHURNLAKE_LOG", "debug")];
    if let Some(key) = key {
        env.push(("CHURNLAKE_PII_KEY", key));
    }
    let out = run_env(args, &env);
    Ran {
        args: args.join(" "),
        code: out.status.code().unwrap_or(-1),
        out: String::from_utf8_lossy(&out.stdout).into_owned(),
        err: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn ok(ran: Ran, codes: &[i32]) -> Ran {
    assert!(
        codes.contains(&ran.code),
        "churnlake {} exited {}\nstdout:\n{}\nstderr:\n{}",
        ran.args,
        ran.code,
        ran.out,
        ran.err
    );
    ran
}

fn csv_of(lake: &Path, sql: &str) -> String {
    ok(churnlake(&["sql", sql, "--lake", path(lake), "--format", "csv"], None), &[0]).out
}

/// The personal values of a `keep` lake: every email, first and last name (and merchant
/// user id) its tables hold, as the lake decoded them.
fn personal_values(keep_lake: &Path) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut values = BTreeSet::new();
    let mut user_ids = BTreeSet::new();
    for (table, columns) in [
        ("subscriptions", "email_address, first_name, last_name, merchant_user_id"),
        ("cancellations", "email_address, first_name, last_name, merchant_user_id"),
        ("subscriber_events", "email_address, '' AS first_name, '' AS last_name, merchant_user_id"),
    ] {
        let (_, rows) = parse_csv(&csv_of(keep_lake, &format!("SELECT DISTINCT {columns} FROM {table}")));
        for row in rows {
            values.extend(row[..3].iter().filter(|v| !v.is_empty()).cloned());
            user_ids.extend(row[3..].iter().filter(|v| !v.is_empty()).cloned());
        }
    }
    values.extend(HOSTILE_VALUES.iter().map(|v| (*v).to_owned()));
    user_ids.extend(HOSTILE_USER_IDS.iter().map(|v| (*v).to_owned()));
    (values, user_ids)
}

/// True when `needle` occurs in `text` not inside a longer word (names like `Ann` are
/// words; emails contain punctuation and match anywhere).
fn occurs(text: &str, needle: &str) -> bool {
    text.match_indices(needle).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + needle.len()..].chars().next();
        !before.is_some_and(char::is_alphanumeric) && !after.is_some_and(char::is_alphanumeric)
    })
}

/// Every personal value found in `text` (`what` says where, for the failure message).
fn leaks(what: &str, text: &str, values: &BTreeSet<String>) -> Vec<String> {
    values.iter().filter(|v| occurs(text, v)).map(|v| format!("{what}: `{v}`")).collect()
}

/// Every cell of a Parquet file, as text.
fn parquet_cells(file: &Path) -> String {
    let df = ParquetReader::new(std::fs::File::open(file).expect("opens a Parquet file")).finish().expect("reads");
    let mut text = String::new();
    for column in df.columns() {
        let column = column.as_materialized_series().cast(&DataType::String).expect("casts to text");
        for cell in column.str().expect("text").iter().flatten() {
            text.push_str(cell);
            text.push('\n');
        }
    }
    text
}

/// Ingests the drops under `policy` (logging at debug), runs every reading command, and
/// returns all their outputs, plus every file of the lake as text (Parquet decoded, and
/// every file's raw bytes).
fn run_everything(drops: &Path, lake: &Path, policy: &str, extra: &[&str], key: Option<&str>) -> Vec<(String, String)> {
    let lake_s = path(lake);
    let mut ingest = vec!["ingest", path(drops), "--lake", lake_s, "--pii", policy, "-vv"];
    ingest.extend_from_slice(extra);
    let mut runs = vec![ok(churnlake(&ingest, key), &[1])];
    let mut again = ingest.clone();
    again.extend_from_slice(&["--format", "json"]);
    runs.push(ok(churnlake(&again, key), &[1]));
    let mut dry = ingest.clone();
    dry.push("--dry-run");
    runs.push(ok(churnlake(&dry, key), &[1]));
    let some_ids = csv_of(lake, "SELECT subscription_id FROM subscriptions ORDER BY subscription_id LIMIT 3");
    let mut ids: Vec<String> = parse_csv(&some_ids).1.into_iter().map(|r| r[0].clone()).collect();
    ids.push("900004".to_owned());
    let reads: Vec<Vec<&str>> = vec![
        vec!["drops", "--format", "json"],
        vec!["drops"],
        vec!["series", "--format", "csv"],
        vec!["rate", "--from", "2023-01-05", "--to", "2023-02-05", "--format", "json"],
        vec!["subscriptions", "--format", "csv"],
        vec!["subscribers", "--format", "csv"],
        vec!["active"],
        vec!["anomalies", "--format", "csv"],
        vec!["check", "--format", "json"],
        vec!["sql", "SELECT * FROM quarantine", "--format", "csv"],
        vec!["sql", "SELECT * FROM subscriptions", "--format", "csv"],
        vec!["sql", "SELECT * FROM cancellations", "--format", "csv"],
        vec!["sql", "SELECT * FROM subscriber_events", "--format", "json"],
        vec!["sql", "SELECT * FROM orders", "--format", "csv"],
        vec!["build"],
    ];
    for read in &reads {
        let mut args = read.clone();
        args.extend_from_slice(&["--lake", lake_s, "-vv"]);
        runs.push(ok(churnlake(&args, None), &[0, 1]));
    }
    for id in &ids {
        runs.push(ok(churnlake(&["explain", id, "--lake", lake_s, "--format", "json", "-vv"], None), &[0, 1]));
    }
    let mut texts: Vec<(String, String)> = Vec::new();
    for ran in runs {
        texts.push((format!("stdout of `{}`", ran.args), ran.out));
        texts.push((format!("stderr of `{}`", ran.args), ran.err));
    }
    for file in files_under(lake) {
        let bytes = std::fs::read(&file).expect("reads a lake file");
        if file.extension().is_some_and(|e| e == "parquet") {
            texts.push((format!("cells of {}", file.display()), parquet_cells(&file)));
        }
        texts.push((format!("bytes of {}", file.display()), String::from_utf8_lossy(&bytes).into_owned()));
    }
    texts
}

fn assert_no_leaks(policy: &str, texts: &[(String, String)], values: &BTreeSet<String>) {
    let found: Vec<String> = texts.iter().flat_map(|(what, text)| leaks(what, text, values)).collect();
    assert!(found.is_empty(), "pii = {policy}: personal values in clear:\n{}", found[..found.len().min(30)].join("\n"));
}

#[test]
fn hash_and_drop_write_no_personal_value_in_clear_anywhere() {
    let dir = tempfile::tempdir().expect("temp dir");
    let drops = drops(dir.path());
    let keep = dir.path().join("keep");
    ok(churnlake(&["ingest", path(&drops), "--lake", path(&keep)], None), &[1]);
    let (values, user_ids) = personal_values(&keep);
    assert!(values.iter().filter(|v| v.contains("@example.com")).count() > 100, "the generator writes emails");
    assert!(values.iter().any(|v| !v.is_ascii()), "and names beyond ASCII");
    assert!(user_ids.len() > 100, "and merchant user ids");

    // the check itself finds what a keep lake holds
    let kept = run_everything(&drops, &keep, "keep", &[], None);
    let found: usize = kept.iter().map(|(what, text)| leaks(what, text, &values).len()).sum();
    assert!(found > 1000, "a keep lake holds the values in clear ({found} found)");
    let quarantine = csv_of(&keep, "SELECT raw_record FROM quarantine");
    assert!(quarantine.contains("hostile.two@leak.test"), "the hostile rows are quarantined:\n{quarantine}");

    let hashed = dir.path().join("hash");
    let texts = run_everything(&drops, &hashed, "hash", &["--pii-user-ids"], Some(KEY));
    let mut with_ids = values.clone();
    with_ids.extend(user_ids.iter().cloned());
    assert_no_leaks("hash", &texts, &with_ids);

    let dropped = dir.path().join("drop");
    let texts = run_everything(&drops, &dropped, "drop", &[], None);
    assert_no_leaks("drop", &texts, &values);

    // what the quarantine holds instead: masked records, the unsplittable ones withheld
    let raw =
        csv_of(&hashed, "SELECT source_line, value, raw_record FROM quarantine WHERE source_file LIKE 'hostile_%'");
    let (_, rows) = parse_csv(&raw);
    assert_eq!(rows.len(), 7, "seven hostile rows quarantined:\n{raw}");
    assert_eq!(rows.iter().filter(|r| r[2] == churnlake_ingest::WITHHELD).count(), 2, "{raw}");
    assert!(rows.iter().any(|r| r[2].starts_with("900001,") && r[2].ends_with(",12.505,01/14/2023")), "{raw}");
    let dropped_raw = csv_of(&dropped, "SELECT raw_record FROM quarantine WHERE source_file LIKE 'hostile_sub%'");
    assert!(dropped_raw.contains("900001,,,,M-HOSTILE-1,12.505,01/14/2023"), "{dropped_raw}");

    // hashed and dropped columns
    let emails = csv_of(&hashed, "SELECT email_address, first_name, merchant_user_id FROM subscriptions");
    let (_, rows) = parse_csv(&emails);
    // a value the drop left empty stays empty (null): there is nothing to hash
    let unhashed: Vec<&String> = rows
        .iter()
        .flatten()
        .filter(|v| !(v.is_empty() || v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit())))
        .collect();
    assert!(unhashed.is_empty(), "not hex hashes: {unhashed:?}");
    assert!(rows.iter().flatten().filter(|v| !v.is_empty()).count() > 100, "hashes are there");
    let nulls = csv_of(
        &dropped,
        "SELECT COUNT(*) AS n FROM subscriptions WHERE email_address IS NOT NULL OR first_name IS NOT NULL OR last_name IS NOT NULL",
    );
    assert_eq!(nulls.trim(), "n\n0");
}

/// The same query on two lakes, CSV text.
fn same(keep: &Path, hashed: &Path, args: &[&str]) -> (String, String) {
    let query = |lake: &Path| {
        let mut full = args.to_vec();
        full.extend_from_slice(&["--lake", path(lake)]);
        ok(churnlake(&full, None), &[0]).out
    };
    (query(keep), query(hashed))
}

#[test]
fn a_hash_lake_has_the_metrics_of_a_keep_lake_and_policies_never_mix() {
    let dir = tempfile::tempdir().expect("temp dir");
    let drops = drops(dir.path());
    let keep = dir.path().join("keep");
    let hashed = dir.path().join("hash");
    ok(churnlake(&["ingest", path(&drops), "--lake", path(&keep)], None), &[1]);
    ok(
        churnlake(&["ingest", path(&drops), "--lake", path(&hashed), "--pii", "hash", "--pii-user-ids"], Some(KEY)),
        &[1],
    );

    for args in [
        vec!["series", "--format", "csv"],
        vec!["series", "--format", "csv", "--by", "product"],
        vec!["rate", "--from", "2023-01-05", "--to", "2023-02-05", "--format", "csv"],
        vec!["subscribers", "--format", "csv"],
        vec!["active", "--format", "csv"],
    ] {
        let (a, b) = same(&keep, &hashed, &args);
        assert!(parse_csv(&a).1.len() > 10 || args[0] != "series", "{args:?}: a real series");
        assert_eq!(a, b, "{args:?}: the hash lake differs from the keep lake");
    }
    // the subscription table: equal but for merchant_user_id, which maps one to one
    let (a, b) = same(&keep, &hashed, &["subscriptions", "--format", "csv"]);
    let ((header, kept), (_, hashed_rows)) = (parse_csv(&a), parse_csv(&b));
    assert_eq!(kept.len(), hashed_rows.len());
    assert!(kept.len() > 200, "{} subscriptions", kept.len());
    let at = header.iter().position(|h| h == "merchant_user_id").expect("a merchant_user_id column");
    let mut pairs = std::collections::HashMap::new();
    for (k, h) in kept.iter().zip(&hashed_rows) {
        let strip = |row: &[String]| {
            row.iter().enumerate().filter(|(i, _)| *i != at).map(|(_, v)| v.clone()).collect::<Vec<_>>()
        };
        assert_eq!(strip(k), strip(h), "the rows differ beyond merchant_user_id");
        assert_eq!(k[at].is_empty(), h[at].is_empty());
        if !k[at].is_empty() {
            assert_ne!(k[at], h[at]);
            assert_eq!(
                pairs.insert(h[at].clone(), k[at].clone()).unwrap_or_else(|| k[at].clone()),
                k[at],
                "one hash, one id"
            );
        }
    }
    let distinct: BTreeSet<&String> = pairs.values().collect();
    assert_eq!(distinct.len(), pairs.len(), "one id, one hash");

    // every entry records the policy, with a fingerprint that is not the key
    let manifest: serde_json::Value =
        serde_json::from_str(&ok(churnlake(&["drops", "--lake", path(&hashed), "--format", "json"], None), &[0]).out)
            .expect("JSON");
    let entries = manifest.as_array().expect("entries");
    let fingerprint = entries[0]["pii"]["key_fingerprint"].as_str().expect("a fingerprint").to_owned();
    assert_eq!(fingerprint.len(), 16);
    assert!(entries.iter().all(|e| e["pii"]["policy"] == "hash"
        && e["pii"]["key_fingerprint"] == fingerprint.as_str()
        && e["pii"]["user_ids"] == true));
    for file in files_under(&hashed) {
        assert!(
            !String::from_utf8_lossy(&std::fs::read(&file).expect("reads")).contains("0123456789abcdef0123"),
            "the key is in {}",
            file.display()
        );
    }

    // a change of policy or key is refused, before anything is written
    let before = files_under(&hashed).len();
    let refused = churnlake(&["ingest", path(&drops), "--lake", path(&keep), "--pii", "hash"], Some(KEY));
    assert_eq!(refused.code, 1, "{}", refused.err);
    assert!(refused.err.contains("--rewrite-pii"), "{}", refused.err);
    let rotated = churnlake(
        &["ingest", path(&drops), "--lake", path(&hashed), "--pii", "hash", "--pii-user-ids"],
        Some(OTHER_KEY),
    );
    assert_eq!(rotated.code, 1, "{}", rotated.err);
    assert!(rotated.err.contains(&fingerprint), "names the lake's key by its fingerprint: {}", rotated.err);
    assert_eq!(
        churnlake(&["ingest", path(&drops), "--lake", path(&hashed), "--pii", "keep", "--dry-run"], None).code,
        1
    );
    assert_eq!(files_under(&hashed).len(), before);

    // hash without a key, or with a short one: exit 1 before any work (no lake created)
    let nowhere = dir.path().join("nowhere");
    let no_key = churnlake(&["ingest", path(&drops), "--lake", path(&nowhere), "--pii", "hash"], None);
    assert_eq!(no_key.code, 1, "{}", no_key.err);
    assert!(no_key.err.contains("CHURNLAKE_PII_KEY"), "{}", no_key.err);
    assert_eq!(churnlake(&["ingest", path(&drops), "--lake", path(&nowhere), "--pii", "hash"], Some("short")).code, 1);
    assert!(!nowhere.exists());

    // a rewrite needs every file's source
    let some = dir.path().join("some");
    std::fs::create_dir(&some).expect("a folder");
    std::fs::copy(drops.join(HOSTILE[0].0), some.join(HOSTILE[0].0)).expect("copies a drop");
    let partial =
        churnlake(&["ingest", path(&some), "--lake", path(&hashed), "--pii", "hash", "--rewrite-pii"], Some(OTHER_KEY));
    assert_eq!(partial.code, 1, "{}", partial.err);
    assert!(partial.err.contains("are not among the sources"), "{}", partial.err);

    // key rotation: the rewrite writes every file under the new key; the metrics stay
    ok(
        churnlake(
            &["ingest", path(&drops), "--lake", path(&hashed), "--pii", "hash", "--pii-user-ids", "--rewrite-pii"],
            Some(OTHER_KEY),
        ),
        &[1],
    );
    let manifest: serde_json::Value =
        serde_json::from_str(&ok(churnlake(&["drops", "--lake", path(&hashed), "--format", "json"], None), &[0]).out)
            .expect("JSON");
    let entries = manifest.as_array().expect("entries");
    let new_fingerprint = entries
        .iter()
        .find(|e| !e["outputs"].as_array().is_some_and(Vec::is_empty))
        .and_then(|e| e["pii"]["key_fingerprint"].as_str())
        .expect("a fingerprint");
    assert_ne!(new_fingerprint, fingerprint);
    let with_outputs = || entries.iter().filter(|e| !e["outputs"].as_array().is_some_and(Vec::is_empty));
    assert!(with_outputs().count() > 50);
    assert!(with_outputs().all(|e| e["pii"]["key_fingerprint"] == new_fingerprint));
    let (_, b) = same(&keep, &hashed, &["subscriptions", "--format", "csv"]);
    let rotated_rows = parse_csv(&b).1;
    assert_eq!(rotated_rows.len(), hashed_rows.len());
    assert!(rotated_rows.iter().zip(&hashed_rows).any(|(r, h)| r[at] != h[at] && !r[at].is_empty()), "new hashes");
    let (a, b) = same(&keep, &hashed, &["series", "--format", "csv"]);
    assert_eq!(a, b, "the series after a rotation");
    // and the rewritten lake is accepted under its new key, refused under the old one
    let again = churnlake(
        &["ingest", path(&drops), "--lake", path(&hashed), "--pii", "hash", "--pii-user-ids"],
        Some(OTHER_KEY),
    );
    assert_eq!(again.code, 1, "quarantined rows keep exit 1: {}", again.err);
    assert!(!again.err.contains("--rewrite-pii"), "{}", again.err);
    assert!(again.err.contains("already in the lake"), "{}", again.err);

    // keep -> drop by a rewrite: the emails are gone from every file
    ok(churnlake(&["ingest", path(&drops), "--lake", path(&keep), "--pii", "drop", "--rewrite-pii"], None), &[1]);
    let (values, _) = personal_values(&hashed_keep_values(&dir, &drops));
    for file in files_under(&keep) {
        let mut text = String::from_utf8_lossy(&std::fs::read(&file).expect("reads")).into_owned();
        if file.extension().is_some_and(|e| e == "parquet") {
            text.push_str(&parquet_cells(&file));
        }
        let found = leaks(&file.display().to_string(), &text, &values);
        assert!(found.is_empty(), "after the rewrite: {found:?}");
    }
}

/// A fresh `keep` lake of the drops (the rewritten one no longer holds the values).
fn hashed_keep_values(dir: &tempfile::TempDir, drops: &Path) -> PathBuf {
    let lake = dir.path().join("keep-again");
    ok(churnlake(&["ingest", path(drops), "--lake", path(&lake)], None), &[1]);
    lake
}
