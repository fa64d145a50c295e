//! `churnlake report KIND`: the reports' rows against the generator's ground truth and
//! against the lake read another way (`churnlake sql`), filters against an independent
//! computation, grouping that adds up, the PDF read back with poppler's `pdftotext` and
//! `pdfinfo`, and bad input refused with what is allowed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use crate::support::{ingest, parse_csv, path, project, repo, run, run_ok};

/// The committed sample (21 days, its truth) ingested once for every test here.
fn sample() -> &'static (tempfile::TempDir, PathBuf) {
    static LAKE: OnceLock<(tempfile::TempDir, PathBuf)> = OnceLock::new();
    LAKE.get_or_init(|| {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let lake = dir.path().join("lake");
        ingest(&repo().join("data/sample/drops"), &lake);
        (dir, lake)
    })
}

fn lake() -> &'static str {
    path(&sample().1)
}

fn truth(name: &str) -> String {
    std::fs::read_to_string(repo().join("data/sample/truth").join(name)).expect("the sample's truth")
}

/// A column of CSV rows by name.
fn column<'a>(header: &[String], rows: &'a [Vec<String>], name: &str) -> Vec<&'a str> {
    let i = header.iter().position(|h| h == name).unwrap_or_else(|| panic!("no column {name} in {header:?}"));
    rows.iter().map(|r| r[i].as_str()).collect()
}

/// Money text (`12.34`, `-0.50`) as exact cents.
fn cents(text: &str) -> i64 {
    if text.is_empty() {
        return 0;
    }
    let negative = text.starts_with('-');
    let digits = text.trim_start_matches('-');
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, "0"));
    let fraction = format!("{fraction:0<2}");
    assert_eq!(fraction.len(), 2, "two decimals: {text}");
    let value = whole.parse::<i64>().expect("digits") * 100 + fraction.parse::<i64>().expect("digits");
    if negative { -value } else { value }
}

#[test]
fn report_subscriptions_and_subscribers_equal_the_truth() {
    let csv = run_ok(&["report", "subscriptions", "--lake", lake(), "--format", "csv"], &[0]);
    let columns =
        ["subscription_id", "user_id", "created_date", "cancel_count", "reactivation_count", "current_status"];
    let got = project(&csv, &columns);
    assert_eq!(got.len(), 132, "the sample's subscriptions");
    assert_eq!(got, project(&truth("subscriptions.csv"), &columns), "report subscriptions vs the truth");
    let (header, rows) = parse_csv(&csv);
    assert_eq!(header.last().map(String::as_str), Some("currency"), "the amounts carry their currency");
    assert!(column(&header, &rows, "currency").iter().all(|c| *c == "USD"));

    let csv = run_ok(&["report", "subscribers", "--lake", lake(), "--format", "csv"], &[0]);
    let columns = ["user_id", "first_created_date", "subscriptions", "active_subscriptions", "current_status"];
    assert_eq!(project(&csv, &columns), project(&truth("subscribers.csv"), &columns));
    assert!(!parse_csv(&csv).0.contains(&"currency".to_owned()), "no amounts, no currency column");
}

#[test]
fn where_keeps_exactly_the_rows_an_independent_filter_keeps() {
    let (header, rows) = parse_csv(&truth("subscriptions.csv"));
    let status = column(&header, &rows, "current_status");
    let cancels = column(&header, &rows, "cancel_count");
    let reactivations = column(&header, &rows, "reactivation_count");
    let ids = column(&header, &rows, "subscription_id");
    let mut expected: Vec<Vec<String>> = (0..rows.len())
        .filter(|&i| status[i] == "active" && cancels[i].parse::<u32>().expect("a count") >= 1)
        .map(|i| vec![ids[i].to_owned(), reactivations[i].to_owned()])
        .collect();
    expected.sort();
    assert!(!expected.is_empty() && expected.len() < rows.len(), "the filter keeps some rows, not all");
    let csv = run_ok(
        &[
            "report",
            "subscriptions",
            "--lake",
            lake(),
            "--where",
            "current_status = 'active' AND cancel_count >= 1",
            "--format",
            "csv",
        ],
        &[0],
    );
    assert_eq!(project(&csv, &["subscription_id", "reactivation_count"]), expected);

    // dates compare with dates; a product filter against the truth's products
    let created = column(&header, &rows, "created_date");
    let products = column(&header, &rows, "product");
    let first = products[0];
    let mut expected: Vec<Vec<String>> = (0..rows.len())
        .filter(|&i| created[i] >= "2024-03-10" && products[i] != first)
        .map(|i| vec![ids[i].to_owned()])
        .collect();
    expected.sort();
    let filter = format!("created_date >= '2024-03-10' AND product <> '{}'", first.replace('\'', "''"));
    let csv = run_ok(&["report", "subscriptions", "--lake", lake(), "--where", &filter, "--format", "csv"], &[0]);
    assert_eq!(project(&csv, &["subscription_id"]), expected, "{filter}");
}

#[test]
fn group_by_counts_add_up_and_sums_are_exact() {
    let (header, rows) = parse_csv(&truth("subscriptions.csv"));
    let mut per_product: BTreeMap<String, usize> = BTreeMap::new();
    for product in column(&header, &rows, "product") {
        *per_product.entry(product.to_owned()).or_default() += 1;
    }
    // the prices summed apart, from the ungrouped report
    let full = run_ok(&["report", "subscriptions", "--lake", lake(), "--format", "csv"], &[0]);
    let (fh, fr) = parse_csv(&full);
    let mut price: BTreeMap<String, i64> = BTreeMap::new();
    for (product, p) in column(&fh, &fr, "product").into_iter().zip(column(&fh, &fr, "price")) {
        *price.entry(product.to_owned()).or_default() += cents(p);
    }

    let csv = run_ok(&["report", "subscriptions", "--lake", lake(), "--group-by", "product", "--format", "csv"], &[0]);
    let (gh, gr) = parse_csv(&csv);
    assert_eq!(&gh[..4], ["product", "currency", "rows", "price_total"], "{gh:?}");
    let got: BTreeMap<String, usize> = column(&gh, &gr, "product")
        .into_iter()
        .zip(column(&gh, &gr, "rows"))
        .map(|(p, n)| (p.to_owned(), n.parse().expect("a count")))
        .collect();
    assert_eq!(got, per_product, "rows per product vs the truth");
    assert_eq!(got.values().sum::<usize>(), rows.len(), "the groups add up to the whole");
    let sums: BTreeMap<String, i64> = column(&gh, &gr, "product")
        .into_iter()
        .zip(column(&gh, &gr, "price_total"))
        .map(|(p, s)| (p.to_owned(), cents(s)))
        .collect();
    assert_eq!(sums, price, "exact price sums per product");

    // grouping after a filter: counts per status equal the truth's
    let csv =
        run_ok(&["report", "subscribers", "--lake", lake(), "--group-by", "current_status", "--format", "csv"], &[0]);
    let (th, tr) = parse_csv(&truth("subscribers.csv"));
    let active = column(&th, &tr, "current_status").iter().filter(|s| **s == "active").count();
    assert_eq!(
        project(&csv, &["current_status", "rows"]),
        vec![
            vec!["active".to_owned(), active.to_string()],
            vec!["inactive".to_owned(), (tr.len() - active).to_string()]
        ]
    );
}

#[test]
fn columns_choose_and_order_and_preview_shows_ten_of_all() {
    let csv = run_ok(
        &["report", "subscriptions", "--lake", lake(), "--columns", "product,subscription_id", "--format", "csv"],
        &[0],
    );
    let (header, rows) = parse_csv(&csv);
    assert_eq!(header, ["product", "subscription_id"]);
    assert_eq!(rows.len(), 132);

    let out = run(&["report", "subscriptions", "--lake", lake(), "--preview", "--format", "csv"]);
    assert_eq!(out.status.code(), Some(0));
    let (_, preview) = parse_csv(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(preview.len(), 10);
    assert_eq!(
        preview,
        rows_of(&run_ok(&["report", "subscriptions", "--lake", lake(), "--format", "csv"], &[0]))[..10]
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("preview: the first 10 of 132 rows"), "{err}");

    // grouped, then the grouped table's columns chosen
    let csv = run_ok(
        &[
            "report",
            "subscriptions",
            "--lake",
            lake(),
            "--group-by",
            "product",
            "--columns",
            "rows,product",
            "--format",
            "csv",
        ],
        &[0],
    );
    assert_eq!(parse_csv(&csv).0, ["rows", "product"]);
}

fn rows_of(csv: &str) -> Vec<Vec<String>> {
    parse_csv(csv).1
}

#[test]
fn cancellations_are_the_distinct_cancel_events_of_the_reports() {
    let csv = run_ok(&["report", "cancellations", "--lake", lake(), "--format", "csv"], &[0]);
    let (header, rows) = parse_csv(&csv);
    for name in ["subscription_id", "cancel_reason", "product", "cancelled_within_24h", "cancel_date", "create_date"] {
        assert!(header.iter().any(|h| h == name), "{name} in {header:?}");
    }
    let sql = run_ok(
        &[
            "sql",
            "SELECT DISTINCT subscription_id, cancel_date FROM cancellations WHERE cancel_date IS NOT NULL",
            "--lake",
            lake(),
            "--format",
            "csv",
        ],
        &[0],
    );
    let events = project(&sql, &["subscription_id", "cancel_date"]);
    assert!(events.len() > 10, "the sample has cancellations");
    assert_eq!(project(&csv, &["subscription_id", "cancel_date"]), events, "one row per distinct event");
    assert_eq!(rows.len(), events.len());
    // every cancelled subscription of the truth has its latest cancel date among them
    let (th, tr) = parse_csv(&truth("subscriptions.csv"));
    let listed: std::collections::BTreeSet<(String, String)> =
        events.iter().map(|e| (e[0].clone(), e[1].clone())).collect();
    for (id, last) in column(&th, &tr, "subscription_id").into_iter().zip(column(&th, &tr, "max_cancel_date")) {
        if !last.is_empty() {
            assert!(listed.contains(&(id.to_owned(), last.to_owned())), "{id}'s cancellation on {last}");
        }
    }

    // --from/--to bound the cancel date
    let csv = run_ok(
        &["report", "cancellations", "--lake", lake(), "--from", "2024-03-05", "--to", "2024-03-09", "--format", "csv"],
        &[0],
    );
    let inside: Vec<Vec<String>> =
        events.iter().filter(|e| e[1].as_str() >= "2024-03-05" && e[1].as_str() <= "2024-03-09").cloned().collect();
    assert!(!inside.is_empty());
    assert_eq!(project(&csv, &["subscription_id", "cancel_date"]), inside);
}

#[test]
fn reactivations_are_the_code_9_events_with_their_subscription() {
    let csv = run_ok(&["report", "reactivations", "--lake", lake(), "--format", "csv"], &[0]);
    let sql = run_ok(
        &[
            "sql",
            "SELECT DISTINCT public_subscription_id, event_date FROM subscriber_events WHERE event_code = 9",
            "--lake",
            lake(),
            "--format",
            "csv",
        ],
        &[0],
    );
    let events = project(&sql, &["public_subscription_id", "event_date"]);
    assert!(!events.is_empty(), "the sample has reactivations");
    assert_eq!(project(&csv, &["public_subscription_id", "event_date"]), events);
    // each mapped to the subscription whose report rows carry the public id
    let subs = run_ok(&["report", "subscriptions", "--lake", lake(), "--format", "csv"], &[0]);
    let (sh, sr) = parse_csv(&subs);
    let owner: BTreeMap<&str, &str> =
        column(&sh, &sr, "public_subscription_id").into_iter().zip(column(&sh, &sr, "subscription_id")).collect();
    let (header, rows) = parse_csv(&csv);
    let mut unknown = 0;
    for (public, id) in
        column(&header, &rows, "public_subscription_id").into_iter().zip(column(&header, &rows, "subscription_id"))
    {
        match owner.get(public) {
            Some(expected) => assert_eq!(id, *expected, "{public}"),
            None => {
                assert_eq!(id, "", "{public} is unknown");
                unknown += 1;
            }
        }
    }
    // the unknown ones are exactly the anomalies' unknown ids
    let anomalies = run_ok(&["anomalies", "--lake", lake(), "--format", "csv"], &[0]);
    let (ah, ar) = parse_csv(&anomalies);
    let unknown_ids: std::collections::BTreeSet<(&str, &str)> = column(&ah, &ar, "anomaly")
        .into_iter()
        .zip(column(&ah, &ar, "public_subscription_id").into_iter().zip(column(&ah, &ar, "date")))
        .filter(|(a, _)| *a == "unknown_id")
        .map(|(_, pd)| pd)
        .collect();
    assert_eq!(unknown, unknown_ids.len(), "reactivations of unknown ids");
}

#[test]
fn orders_are_the_orders_table_with_exact_sums() {
    let csv = run_ok(&["report", "orders", "--lake", lake(), "--format", "csv"], &[0]);
    let (header, rows) = parse_csv(&csv);
    let sql = run_ok(&["sql", "SELECT order_id, order_total FROM orders", "--lake", lake(), "--format", "csv"], &[0]);
    assert!(!rows.is_empty(), "the sample has orders");
    assert_eq!(project(&csv, &["order_id", "order_total"]), project(&sql, &["order_id", "order_total"]));
    assert!(header.contains(&"currency".to_owned()));

    let grouped = run_ok(&["report", "orders", "--lake", lake(), "--group-by", "product_id", "--format", "csv"], &[0]);
    let (gh, gr) = parse_csv(&grouped);
    let mut expected: BTreeMap<String, (usize, i64)> = BTreeMap::new();
    for (p, t) in column(&header, &rows, "product_id").into_iter().zip(column(&header, &rows, "order_total")) {
        let entry = expected.entry(p.to_owned()).or_default();
        entry.0 += 1;
        entry.1 += cents(t);
    }
    let got: BTreeMap<String, (usize, i64)> = (0..gr.len())
        .map(|i| {
            let cell = |name: &str| column(&gh, &gr, name)[i].to_owned();
            (cell("product_id"), (cell("rows").parse().expect("a count"), cents(&cell("order_total_total"))))
        })
        .collect();
    assert_eq!(got, expected);
}

#[test]
fn json_and_parquet_carry_the_same_rows() {
    let json = run_ok(
        &[
            "report",
            "cancellations",
            "--lake",
            lake(),
            "--columns",
            "subscription_id,cancel_date,price,currency",
            "--format",
            "json",
        ],
        &[0],
    );
    let rows: Vec<serde_json::Value> = serde_json::from_str(&json).expect("JSON rows");
    let csv = run_ok(
        &[
            "report",
            "cancellations",
            "--lake",
            lake(),
            "--columns",
            "subscription_id,cancel_date,price,currency",
            "--format",
            "csv",
        ],
        &[0],
    );
    assert_eq!(rows.len(), rows_of(&csv).len());
    let keys: Vec<&String> = rows[0].as_object().expect("an object").keys().collect();
    assert_eq!(keys, ["subscription_id", "cancel_date", "price", "currency"]);
}

// ---------------------------------------------------------------- PDF

fn poppler(tool: &str, args: &[&str]) -> String {
    let out = Command::new(tool)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{tool} runs (poppler-utils; .ci/run installs it): {e}"));
    assert!(out.status.success(), "{tool} {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("UTF-8")
}

fn pdf_pages(file: &Path) -> (usize, String) {
    let info = poppler("pdfinfo", &[path(file)]);
    let pages = info
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .map(|n| n.trim().parse::<usize>().expect("a page count"))
        .expect("pdfinfo gives the pages");
    // one space between words, whatever pdfinfo's column alignment
    let info = info.lines().map(|l| l.split_whitespace().collect::<Vec<_>>().join(" ")).collect::<Vec<_>>().join("\n");
    (pages, info)
}

/// A generated lake of a few hundred subscriptions.
fn larger() -> &'static (tempfile::TempDir, PathBuf, PathBuf) {
    static LAKE: OnceLock<(tempfile::TempDir, PathBuf, PathBuf)> = OnceLock::new();
    LAKE.get_or_init(|| {
        let dir = tempfile::tempdir().expect("a temporary folder");
        let generated = dir.path().join("gen");
        run_ok(&["generate", "--out", path(&generated), "--days", "40", "--subs-per-day", "9", "--seed", "14"], &[0]);
        let lake = dir.path().join("lake");
        ingest(&generated.join("drops"), &lake);
        (dir, lake, generated.join("truth"))
    })
}

#[test]
fn pdf_holds_every_row_with_the_header_on_every_page() {
    let (dir, lake, truth) = larger();
    let (th, tr) = parse_csv(&std::fs::read_to_string(truth.join("subscriptions.csv")).expect("truth"));
    let ids: Vec<&str> = column(&th, &tr, "subscription_id");
    assert!(ids.len() >= 300, "a report of at least 300 rows: {}", ids.len());
    let file = dir.path().join("subscriptions.pdf");
    let columns = "subscription_id,user_id,product,price,currency,current_status";
    run_ok(&["report", "subscriptions", "--lake", path(lake), "--columns", columns, "--out", path(&file)], &[0]);

    let (pages, info) = pdf_pages(&file);
    assert!(info.contains("Page size: 595.28 x 841.89"), "A4 portrait for six columns:\n{info}");
    assert!(info.contains("Title: churnlake report subscriptions"), "{info}");
    // A4 portrait, 8 pt rows 10.4 pt apart between the 36 pt margins (and the page number):
    // 63 rows fit under the first page's title and its four lines, 70 on every other page
    let expected = 1 + (ids.len().saturating_sub(63)).div_ceil(70);
    assert_eq!(pages, expected, "{} rows", ids.len());

    let text = poppler("pdftotext", &["-layout", path(&file), "-"]);
    let page_texts: Vec<&str> = text.split('\u{c}').filter(|p| !p.trim().is_empty()).collect();
    assert_eq!(page_texts.len(), pages);
    let mut seen = Vec::new();
    for (n, page) in page_texts.iter().enumerate() {
        let header = page
            .lines()
            .find(|l| l.trim_start().starts_with("subscription_id"))
            .unwrap_or_else(|| panic!("page {}: a header", n + 1));
        let words: Vec<&str> = header.split_whitespace().collect();
        assert_eq!(words, columns.split(',').collect::<Vec<_>>(), "page {}'s header", n + 1);
        assert!(page.contains(&format!("page {} of {pages}", n + 1)), "page {} is numbered", n + 1);
        for line in page.lines() {
            let first = line.split_whitespace().next().unwrap_or_default();
            if first.len() == 7 && first.chars().all(|c| c.is_ascii_digit()) {
                seen.push(first.to_owned());
                assert!(line.contains("USD"), "{line}");
            }
        }
    }
    let mut expected_ids: Vec<String> = ids.iter().map(|s| (*s).to_owned()).collect();
    expected_ids.sort();
    let mut sorted = seen.clone();
    sorted.sort();
    assert_eq!(sorted, expected_ids, "every row, once");
    // the first page: the title, the filters and the data state
    let first = page_texts[0];
    assert!(first.contains("churnlake report subscriptions"), "{first}");
    assert!(first.contains(&format!("--columns {columns}")), "{first}");
    assert!(first.contains("complete_through 20"), "{first}");
    assert!(first.contains("computed from") && first.contains("drops"), "{first}");
    assert!(first.contains(&format!("Rows: {}", ids.len())), "{first}");
    assert!(first.contains("base currency USD"), "{first}");
}

#[test]
fn pdf_with_many_columns_is_landscape_and_cuts_long_values() {
    let file = sample().0.path().join("all-columns.pdf");
    run_ok(&["report", "subscriptions", "--lake", lake(), "--format", "pdf", "--out", path(&file)], &[0]);
    let (pages, info) = pdf_pages(&file);
    assert!(info.contains("Page size: 841.89 x 595.28"), "landscape:\n{info}");
    let text = poppler("pdftotext", &["-layout", path(&file), "-"]);
    assert!(text.contains('…'), "long values cut with an ellipsis");
    assert!(text.contains(&format!("page {pages} of {pages}")));
    // every subscription is there (its id is the first column)
    let (th, tr) = parse_csv(&truth("subscriptions.csv"));
    for id in column(&th, &tr, "subscription_id") {
        assert!(text.contains(id), "{id} in the PDF");
    }
    // a grouped preview on stdout is a PDF too
    let out = run(&[
        "report",
        "cancellations",
        "--lake",
        lake(),
        "--group-by",
        "cancel_reason",
        "--preview",
        "--format",
        "pdf",
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert!(out.stdout.starts_with(b"%PDF-"), "a PDF on stdout");
}

// ---------------------------------------------------------------- bad input

fn refused(args: &[&str], words: &[&str]) {
    let out = run(args);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{args:?} exits 1: {err}");
    assert!(out.stdout.is_empty(), "{args:?}: nothing on stdout");
    for word in words {
        assert!(err.contains(word), "{args:?}: `{word}` in\n{err}");
    }
}

#[test]
fn bad_columns_and_filters_are_refused_with_what_is_allowed() {
    let l = lake();
    let valid = "the columns are: subscription_id, public_subscription_id, user_id";
    refused(
        &["report", "subscriptions", "--lake", l, "--where", "colour = 'red'"],
        &["unknown column `colour`", valid],
    );
    refused(&["report", "subscriptions", "--lake", l, "--where", "price * 2"], &["not a boolean expression", valid]);
    refused(&["report", "subscriptions", "--lake", l, "--where", "product ="], &["--where `product =`", valid]);
    refused(&["report", "subscriptions", "--lake", l, "--columns", "product,colour"], &["no column `colour`", valid]);
    refused(&["report", "subscriptions", "--lake", l, "--group-by", "colour"], &["--group-by `colour`", valid]);
    refused(
        &["report", "subscriptions", "--lake", l, "--group-by", "product", "--columns", "subscription_id"],
        &["of the grouped report", "the columns are: product, currency, rows, price_total"],
    );
    refused(&["report", "cancellations", "--lake", l, "--from", "2024-03-09", "--to", "2024-03-01"], &["--from"]);
    refused(&["report", "subscriptions", "--lake", l, "--out", "x.docx"], &["--out x.docx"]);
    // PDF is offered by report only
    refused(&["subscriptions", "--lake", l, "--format", "pdf"], &["pdf"]);
    refused(&["report", "colours", "--lake", l], &["colours"]);
}

#[test]
fn every_report_offers_pdf_and_the_other_commands_do_not() {
    for kind in ["subscriptions", "subscribers", "cancellations", "reactivations", "orders"] {
        let help = run_ok(&["report", kind, "--help"], &[0]);
        assert!(help.contains("[possible values: table, csv, json, parquet, pdf]"), "report {kind}:\n{help}");
        assert!(help.contains(&format!("churnlake report {kind}")), "report {kind} has an example");
    }
    let help = run_ok(&["subscriptions", "--help"], &[0]);
    assert!(help.contains("[possible values: table, csv, json, parquet]"), "{help}");
}

/// The committed sample (every format variant, attribute updates) has the generator's
/// revenue, per day and per product, to the cent; and its cohorts (none: its 21 days hold
/// no month end).
#[test]
fn the_samples_revenue_and_cohorts_are_its_truth() {
    let revenue = run_ok(&["revenue", "--lake", lake(), "--format", "csv"], &[0]);
    assert_eq!(revenue, truth("revenue.csv"));
    assert!(revenue.lines().count() == 22, "21 days: {revenue}");
    let by_product = run_ok(&["revenue", "--by", "product", "--lake", lake(), "--format", "csv"], &[0]);
    assert_eq!(by_product, truth("revenue_by_product.csv"));
    for (level, file) in [("subscriptions", "cohorts_subscriptions.csv"), ("subscribers", "cohorts_subscribers.csv")] {
        let cohorts = run_ok(&["cohorts", "--level", level, "--lake", lake(), "--format", "csv"], &[0]);
        assert_eq!(cohorts, truth(file), "{level}");
    }
}
