//! A corpus of hostile drops, generated here (nothing big is committed), mixed with the good
//! drops of `tests/fixtures/variants/` into one run: every good file is ingested, every bad
//! one is reported by name with a line and a reason (a failed manifest entry, or quarantine
//! rows), every file accounts for every row it read, and nothing panics or hangs.

use std::path::Path;

use tempfile::TempDir;

use churnlake_ingest::{IngestReport, Outcome};
use churnlake_lake::{FileStatus, ManifestEntry};

use crate::support::{column, fixture, options, read_output, run};

/// What a hostile file must end as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// Reported: the file failed, or some of its rows are in the quarantine.
    Reported,
    /// Odd but readable (an empty drop, a very long value, ...): accounted for, nothing more.
    Accounted,
}

use Expect::{Accounted, Reported};

const SUBS: &str = "Subscription ID,User ID,Create Date,Price";
const CANCELS: &str = "Subscription ID,User ID,Create Date,Cancel Date,Price";
const ORDERS: &str = "Order ID,Order Date,Order Total,Quantity";

fn lines(header: &str, rows: &[&str]) -> Vec<u8> {
    let mut text = format!("{header}\n");
    for row in rows {
        text.push_str(row);
        text.push('\n');
    }
    text.into_bytes()
}

/// Deterministic noise (xorshift).
fn noise(len: usize, seed: u64) -> Vec<u8> {
    let mut state = seed.max(1);
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

/// (kind word of the name, what the case is, its bytes, what it must end as).
fn corpus() -> Vec<(&'static str, &'static str, Vec<u8>, Expect)> {
    let good = "500001,10001,05/09/2023,1.00";
    let mut cases: Vec<(&'static str, &'static str, Vec<u8>, Expect)> = vec![
        (
            "subscription",
            "truncated last row",
            b"Subscription ID,User ID,Create Date,Price\n500001,10001,05/09/2023,1.00\n500002,10002,05/0".to_vec(),
            Reported,
        ),
        ("subscription", "NUL bytes in a value", lines(SUBS, &[good, "5000\x0002,10002,05/09/2023,1.00"]), Reported),
        ("subscription", "NUL bytes only", vec![0; 4096], Reported),
        (
            "subscription",
            "UTF-16 LE with BOM",
            {
                let mut bytes = vec![0xFF, 0xFE];
                for unit in String::from_utf8_lossy(&lines(SUBS, &[good])).encode_utf16() {
                    bytes.extend_from_slice(&unit.to_le_bytes());
                }
                bytes
            },
            Reported,
        ),
        (
            "subscription",
            "UTF-16 BE without BOM",
            {
                let mut bytes = Vec::new();
                for unit in String::from_utf8_lossy(&lines(SUBS, &[good])).encode_utf16() {
                    bytes.extend_from_slice(&unit.to_be_bytes());
                }
                bytes
            },
            Reported,
        ),
        (
            "subscription",
            "gzip bytes under a drop name",
            {
                let mut bytes = vec![0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0x00, 0x03];
                bytes.extend(noise(20_000, 7));
                bytes
            },
            Reported,
        ),
        (
            "subscription",
            "PNG bytes",
            {
                let mut bytes = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec();
                bytes.extend(noise(5_000, 11));
                bytes
            },
            Reported,
        ),
        ("subscription", "random binary", noise(65_536, 3), Reported),
        ("subscription", "a 50 MB single line, no header", vec![b'9'; 50 << 20], Reported),
        (
            "subscription",
            "a 50 MB value in one row",
            {
                let mut bytes = format!("{SUBS}\n500001,10001,05/09/2023,").into_bytes();
                bytes.extend(std::iter::repeat_n(b'7', 50 << 20));
                bytes.push(b'\n');
                bytes
            },
            Reported,
        ),
        (
            "subscription",
            "unclosed quote to the end of the file",
            lines(SUBS, &[good, "500002,10002,\"05/09/2023,1.00", good, good]),
            Reported,
        ),
        ("subscription", "a lone quote", b"\"".to_vec(), Reported),
        (
            "subscription",
            "quotes inside quotes",
            lines(SUBS, &["\"\"\"\"\"\"\",10001,05/09/2023,1.00", "500002,\"1\"0\"002\",05/09/2023,1.00"]),
            Reported,
        ),
        ("subscription", "too many fields", lines(SUBS, &[good, "500002,10002,05/09/2023,1.00,extra,more"]), Reported),
        ("subscription", "too few fields", lines(SUBS, &[good, "500002,10002"]), Reported),
        (
            "subscription",
            "100,000 fields in a row",
            {
                let mut bytes = format!("{SUBS}\n").into_bytes();
                bytes.extend(std::iter::repeat_n(b',', 100_000));
                bytes.push(b'\n');
                bytes
            },
            Reported,
        ),
        (
            "subscription",
            "duplicated headers",
            lines(
                "Subscription ID,Subscription ID,User ID,Create Date,Price",
                &["500001,500009,10001,05/09/2023,1.00"],
            ),
            Accounted,
        ),
        (
            "subscription",
            "no Subscription ID column",
            lines("User ID,Create Date,Price", &["10001,05/09/2023,1.00"]),
            Reported,
        ),
        ("subscription", "a header of commas", lines(",,,,", &[",,,,"]), Reported),
        (
            "subscription",
            "tab separated",
            lines("Subscription ID\tUser ID\tCreate Date\tPrice", &["500001\t10001\t05/09/2023\t1.00"]),
            Reported,
        ),
        (
            "subscription",
            "semicolon separated",
            lines("Subscription ID;User ID;Create Date;Price", &["500001;10001;05/09/2023;1,00"]),
            Reported,
        ),
        ("subscription", "year 10000", lines(SUBS, &[good, "500002,10002,01/01/10000,1.00"]), Reported),
        ("subscription", "30 February", lines(SUBS, &[good, "500002,10002,02/30/2023,1.00"]), Reported),
        ("subscription", "month 13", lines(SUBS, &[good, "500002,10002,2023-13-01,1.00"]), Reported),
        ("subscription", "day zero", lines(SUBS, &[good, "500002,10002,00/00/0000,1.00"]), Reported),
        ("subscription", "a 20-digit epoch", lines(SUBS, &[good, "500002,10002,99999999999999999999,1.00"]), Reported),
        (
            "subscription",
            "40-digit ids",
            lines(
                SUBS,
                &["1234567890123456789012345678901234567890,1234567890123456789012345678901234567890,05/09/2023,1.00"],
            ),
            Accounted,
        ),
        (
            "subscription",
            "a 40-digit price",
            lines(SUBS, &[good, "500002,10002,05/09/2023,1234567890123456789012345678901234567890"]),
            Reported,
        ),
        (
            "subscription",
            "30 decimal places",
            lines(SUBS, &[good, "500002,10002,05/09/2023,1.000000000000000000000000000001"]),
            Reported,
        ),
        (
            "subscription",
            "NaN and infinity prices",
            lines(
                SUBS,
                &[good, "500002,10002,05/09/2023,NaN", "500003,10003,05/09/2023,inf", "500004,10004,05/09/2023,1e400"],
            ),
            Reported,
        ),
        ("subscription", "zero bytes", Vec::new(), Accounted),
        ("subscription", "header only", lines(SUBS, &[]), Accounted),
        ("subscription", "a BOM only", b"\xEF\xBB\xBF".to_vec(), Accounted),
        ("subscription", "blank lines only", vec![b'\n'; 100_000], Accounted),
        ("subscription", "CR-only line ends", format!("{SUBS}\r{good}\r").into_bytes(), Accounted),
        (
            "subscription",
            "mixed line ends and padding",
            format!("{SUBS}\r\n {good} \n\r\n{good}\n").into_bytes(),
            Accounted,
        ),
        (
            "subscription",
            "one invalid byte in a BOM file",
            {
                let mut bytes = b"\xEF\xBB\xBF".to_vec();
                bytes.extend(lines(SUBS, &[good, "500002,1000\u{e9},05/09/2023,1.00"]));
                bytes.extend_from_slice(b"500003,1000\xff,05/09/2023,1.00\n");
                bytes
            },
            Accounted,
        ),
        (
            "subscription",
            "a 1 MB id",
            lines(SUBS, &[&format!("{},10001,05/09/2023,1.00", "4".repeat(1 << 20))]),
            Accounted,
        ),
        (
            "subscription",
            "a quoted newline in a value",
            lines(SUBS, &["\"5000\n01\",10001,05/09/2023,1.00"]),
            Accounted,
        ),
        (
            "cancelled_subscriptions",
            "an impossible cancel date",
            lines(CANCELS, &["500001,10001,05/01/2023,05/32/2023,1.00", "500002,10002,05/01/2023,05/02/2023,1.00"]),
            Reported,
        ),
        ("cancelled_subscriptions", "binary noise", noise(10_000, 5), Reported),
        ("orders", "a data_date column", lines("Order ID,Data Date,Order Total", &["A-1,05/09/2023,1.00"]), Accounted),
        (
            "orders",
            "duplicated headers",
            lines("Order ID,Order ID,order id,Order Total", &["A-1,A-2,A-3,1.00"]),
            Accounted,
        ),
        (
            "orders",
            "3,000 columns",
            {
                let header: Vec<String> = (0..3_000).map(|i| format!("c{i}")).collect();
                lines(&header.join(","), &[&vec!["1"; 3_000].join(",")])
            },
            Reported,
        ),
        ("orders", "wrong field count", lines(ORDERS, &["A-1,05/09/2023,1.00,1", "A-2,05/09/2023"]), Reported),
        ("orders", "a bad quantity", lines(ORDERS, &["A-1,05/09/2023,1.00,1", "A-2,05/09/2023,1.00,many"]), Reported),
        (
            "crm_subscriber_events",
            "an event code that is not a number",
            b"ab01,M-1,a@x.com,nine,05/02/2023\nab02,M-2,b@x.com,9,05/02/2023\n".to_vec(),
            Reported,
        ),
        ("crm_subscriber_events", "four columns", b"ab01,M-1,9,05/02/2023\nab02,M-2,9,05/02/2023\n".to_vec(), Reported),
        (
            "crm_subscriber_events",
            "30 February",
            b"ab01,M-1,a@x.com,9,02/30/2023\nab02,M-2,b@x.com,9,05/02/2023\n".to_vec(),
            Reported,
        ),
        (
            "crm_subscriber_events",
            "an unclosed quote",
            b"ab01,M-1,\"a@x.com,9,05/02/2023\nab02,M-2,b@x.com,9,05/02/2023\n".to_vec(),
            Reported,
        ),
        ("crm_subscriber_events", "NUL bytes only", vec![0; 100], Reported),
    ];
    // a Windows-1252 file (valid, accented) among the hostile ones
    cases.push((
        "subscription",
        "Windows-1252 accents",
        b"Subscription ID,User ID,First Name,Create Date,Price\n500001,10001,Ren\xe9e,05/09/2023,1.00\n".to_vec(),
        Accounted,
    ));
    cases
}

fn write_corpus(dir: &Path) -> Vec<(String, &'static str, Expect)> {
    let mut written = Vec::new();
    for (index, (kind, what, bytes, expect)) in corpus().into_iter().enumerate() {
        // 14-digit stamps on 10 May 2023, one second apart: a distinct name per case
        let name = format!("acme_{kind}_05102023{:02}{:02}{:02}.csv", 1 + index / 3600, index / 60 % 60, index % 60);
        std::fs::write(dir.join(&name), bytes).expect("a hostile drop");
        written.push((name, what, expect));
    }
    written
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("a directory");
    for entry in std::fs::read_dir(from).expect("readable").flatten() {
        let path = entry.path();
        if path.is_dir() {
            copy_dir(&path, &to.join(entry.file_name()));
        } else {
            std::fs::copy(&path, to.join(entry.file_name())).expect("copied");
        }
    }
}

fn entry_of<'r>(report: &'r IngestReport, name: &str) -> Option<&'r ManifestEntry> {
    report.files.iter().find(|f| f.name == name)?.entry.as_ref()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hostile_corpus_mixed_with_good_drops_is_all_accounted_for() {
    let (drops, lake) = (TempDir::new().expect("drops"), TempDir::new().expect("lake"));
    let good_dir = drops.path().join("good");
    copy_dir(&fixture("variants"), &good_dir);
    let hostile_dir = drops.path().join("hostile");
    std::fs::create_dir(&hostile_dir).expect("a directory");
    let hostile = write_corpus(&hostile_dir);
    assert!(hostile.len() >= 40, "{} kinds of hostile drops", hostile.len());
    // names that look like drops but cannot be: refused with a reason, not skipped
    for name in ["SubscriptionCSV_00000101", "acme_orders_99991231_full.csv", "acme_orders_20230230.csv"] {
        std::fs::write(hostile_dir.join(name), lines(ORDERS, &["A-1,05/09/2023,1.00,1"])).expect("written");
    }

    let report =
        tokio::time::timeout(std::time::Duration::from_secs(1_800), run(drops.path(), lake.path(), &options()))
            .await
            .expect("the run ends (no file hangs it)");

    let good_names: Vec<String> = report
        .files
        .iter()
        .map(|f| f.name.clone())
        .filter(|name| !hostile.iter().any(|(hostile_name, ..)| hostile_name == name))
        .collect();
    assert_eq!(good_names.len(), 13, "{good_names:?}");
    for name in &good_names {
        let entry = entry_of(&report, name).unwrap_or_else(|| panic!("{name}: no entry"));
        assert_eq!((entry.status, entry.rows_quarantined), (FileStatus::Ingested, 0), "{name}: {:?}", entry.error);
    }

    let mut summary = Vec::new();
    for (name, what, expect) in &hostile {
        let outcome = report.files.iter().find(|f| &f.name == name).unwrap_or_else(|| panic!("{what}: no outcome"));
        let entry = outcome.entry.as_ref().unwrap_or_else(|| panic!("{what} ({name}): no entry: {:?}", outcome.error));
        assert_eq!(entry.rows_read, entry.rows_written + entry.rows_quarantined, "{what}: every row accounted");
        let failed = entry.status == FileStatus::Failed;
        if failed {
            let error = entry.error.as_deref().unwrap_or_default();
            assert!(error.contains(name.as_str()), "{what}: the error names the file: {error}");
            assert!(error.contains("line "), "{what}: the error gives a line: {error}");
        }
        if entry.rows_quarantined > 0 {
            let batch = read_output(lake.path(), entry, "quarantine");
            assert!(column(&batch, "source_file").iter().all(|f| f == name), "{what}");
            assert!(column(&batch, "source_line").iter().all(|l| l.parse::<u64>().is_ok_and(|l| l > 0)), "{what}");
            assert!(column(&batch, "reason").iter().all(|r| !r.is_empty() && r != "null"), "{what}");
        }
        if *expect == Reported {
            assert!(failed || entry.rows_quarantined > 0, "{what} ({name}) was not reported: {entry:?}");
        }
        summary.push(format!(
            "{what}: {} (read {}, written {}, quarantined {})",
            if failed { "failed" } else { "ingested" },
            entry.rows_read,
            entry.rows_written,
            entry.rows_quarantined
        ));
        assert_ne!(outcome.status, Outcome::AlreadyPresent, "{what}");
    }
    let (duplicated, ..) = hostile
        .iter()
        .find(|(name, what, _)| *what == "duplicated headers" && name.contains("subscription"))
        .expect("the case");
    let warnings = &entry_of(&report, duplicated).expect("an entry").warnings;
    assert!(warnings.iter().any(|w| w.contains("names a column twice")), "reported, not silent: {warnings:?}");
    for name in ["SubscriptionCSV_00000101", "acme_orders_99991231_full.csv", "acme_orders_20230230.csv"] {
        assert!(
            report.problems.iter().any(|p| p.path.ends_with(name) && !p.reason.is_empty()),
            "{name} refused with a reason: {:?}",
            report.problems
        );
    }
    assert!(report.has_problems());
    eprintln!("{}", summary.join("\n"));

    // a second run changes nothing and stays red
    let again = run(drops.path(), lake.path(), &options()).await;
    assert_eq!(again.ingested, 0);
    assert!(again.has_problems());
}
