//! Insights, `rate --grain` and `--chart` through the CLI: values against the generator's
//! ground truth and independent computations, and the refusals of bad input.

use std::collections::BTreeMap;
use std::path::Path;

use churnlake_generate::{Preset, generate};

use crate::support::{ingest, parse_csv, path, run, run_ok};

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("reading {}: {e}", p.display()))
}

/// A generated history of 75 days with every variant, ingested.
fn scenario(dir: &Path) -> (String, std::path::PathBuf) {
    let mut opts = Preset::Demo.options(dir.to_path_buf());
    opts.seed = 11;
    opts.days = 75;
    opts.subs_per_day = 10;
    let summary = generate(&opts).expect("generation succeeds");
    let lake = dir.join("lake");
    ingest(&summary.drops_dir, &lake);
    (path(&lake).to_owned(), summary.truth_dir)
}

/// Rows of a CSV as maps from column to cell.
fn rows(text: &str) -> Vec<BTreeMap<String, String>> {
    let (header, rows) = parse_csv(text);
    rows.into_iter().map(|r| header.iter().cloned().zip(r).collect()).collect()
}

fn failure(args: &[&str]) -> String {
    let out = run(args);
    assert_eq!(out.status.code(), Some(1), "{args:?} exits 1: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Every day and every product: the insight's counts of created, cancelled and reactivated
/// subscriptions equal the truth's new, cancelled and reactivated subscriptions (missing
/// (day, product) pairs are 0), and the totals, the underlying events, `--where` and the
/// amounts agree with each other and with the subscription table.
#[test]
fn insight_counts_are_the_truths_flows_on_every_day_and_product() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (lake, truth) = scenario(dir.path());
    let truth_rows = rows(&read(&truth.join("series_by_product.csv")));
    for (event, column) in [
        ("created", "new_subscriptions"),
        ("cancelled", "cancelled_subscriptions"),
        ("reactivated", "reactivated_subscriptions"),
    ] {
        let csv = run_ok(
            &["insight", "--lake", &lake, "--event", event, "--by", "product", "--grain", "day", "--format", "csv"],
            &[0],
        );
        let got: BTreeMap<(String, String), i64> = rows(&csv)
            .into_iter()
            .map(|r| ((r["period"].clone(), r["product"].clone()), r["count"].parse().expect("a count")))
            .collect();
        let mut total = 0;
        for r in &truth_rows {
            let expected: i64 = r[column].parse().expect("a truth count");
            let key = (r["date"].clone(), r["product"].clone());
            assert_eq!(got.get(&key).copied().unwrap_or(0), expected, "{event} on {key:?}");
            total += expected;
        }
        assert!(total > 0, "the scenario has {event} events");
        let truth_keys: std::collections::BTreeSet<_> =
            truth_rows.iter().map(|r| (r["date"].clone(), r["product"].clone())).collect();
        for (key, count) in &got {
            assert!(truth_keys.contains(key) || *count == 0, "{event}: {key:?} is not in the truth");
        }

        // the whole period: one row per product, adding up to the total; the underlying
        // events are one row per event
        let whole =
            rows(&run_ok(&["insight", "--lake", &lake, "--event", event, "--by", "product", "--format", "csv"], &[0]));
        let sum: i64 = whole.iter().map(|r| r["count"].parse::<i64>().expect("a count")).sum();
        assert_eq!(sum, total, "{event}: the products add up to the total");
        let underlying =
            rows(&run_ok(&["insight", "--lake", &lake, "--event", event, "--underlying", "--format", "csv"], &[0]));
        assert_eq!(underlying.len() as i64, total, "{event}: one underlying row per event");
        assert!(underlying.iter().all(|r| r["event"] == event));

        // --where keeps one product's events: its count equals that product's row
        let product =
            whole.iter().max_by_key(|r| r["count"].parse::<i64>().unwrap_or(0)).expect("a product")["product"].clone();
        let filter = format!("product = '{}'", product.replace('\'', "''"));
        let only =
            rows(&run_ok(&["insight", "--lake", &lake, "--event", event, "--where", &filter, "--format", "csv"], &[0]));
        let expected = whole.iter().find(|r| r["product"] == product).expect("the product's row")["count"].clone();
        assert_eq!(only.len(), 1);
        assert_eq!(only[0]["count"], expected, "{event} where {filter}");
    }

    // amounts: the created subscriptions' price × quantity, summed in cents from the
    // subscription table
    let subs = rows(&run_ok(&["subscriptions", "--lake", &lake, "--format", "csv"], &[0]));
    let cents = |money: &str| -> i64 {
        let (whole, fraction) = money.split_once('.').unwrap_or((money, "0"));
        let fraction = format!("{fraction:0<2}");
        whole.parse::<i64>().expect("money") * 100 + fraction[..2].parse::<i64>().expect("cents")
    };
    let (first, last) = {
        let series = rows(&read(&truth.join("series.csv")));
        (series[0]["date"].clone(), series[series.len() - 1]["date"].clone())
    };
    let mut expected: BTreeMap<String, i64> = BTreeMap::new();
    for s in &subs {
        let created = &s["created_date"];
        if created.as_str() < first.as_str() || created.as_str() > last.as_str() || s["price"].is_empty() {
            continue;
        }
        let quantity: i64 = s["quantity"].parse().unwrap_or(0);
        *expected.entry(s["product"].clone()).or_default() += cents(&s["price"]) * quantity;
    }
    let amounts = rows(&run_ok(
        &[
            "insight",
            "--lake",
            &lake,
            "--event",
            "created",
            "--measure",
            "amount",
            "--by",
            "product",
            "--format",
            "csv",
        ],
        &[0],
    ));
    assert!(!amounts.is_empty());
    for r in &amounts {
        assert_eq!(
            cents(&r["amount"]),
            expected.get(&r["product"]).copied().unwrap_or(0),
            "amount of {}",
            r["product"]
        );
    }
}

/// Orders: one per order id, the amounts their order totals (against the same table read
/// through SQL), per week.
#[test]
fn order_insights_count_each_order_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (lake, _) = scenario(dir.path());
    let sql = rows(&run_ok(
        &[
            "sql",
            "--lake",
            &lake,
            "SELECT COUNT(*) AS n, SUM(order_total) AS total FROM (SELECT DISTINCT order_id, order_total FROM orders)",
            "--format",
            "csv",
        ],
        &[0],
    ));
    let weekly = rows(&run_ok(
        &["insight", "--lake", &lake, "--event", "order", "--measure", "amount", "--grain", "week", "--format", "csv"],
        &[0],
    ));
    let counts = rows(&run_ok(&["insight", "--lake", &lake, "--event", "order", "--format", "csv"], &[0]));
    assert_eq!(counts[0]["count"], sql[0]["n"], "one order per order id");
    let n: i64 = sql[0]["n"].parse().expect("a count");
    assert!(n > 0, "the scenario has orders");
    let sum: f64 = weekly.iter().map(|r| r["amount"].parse::<f64>().expect("an amount")).sum();
    let total: f64 = sql[0]["total"].parse().expect("a total");
    assert!((sum - total).abs() < 0.005, "weekly amounts {sum} add up to the order totals {total}");
    assert!(
        weekly.iter().all(|r| r["amount"].split_once('.').is_some_and(|(_, c)| c.len() == 2)),
        "money keeps two decimals"
    );
}

/// `rate --grain month`: each month's row equals `rate` over that month alone.
#[test]
fn monthly_rates_equal_the_rate_of_each_month() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (lake, truth) = scenario(dir.path());
    let series = rows(&read(&truth.join("series.csv")));
    let (first, last) = (series[0]["date"].clone(), series[series.len() - 1]["date"].clone());
    let monthly = rows(&run_ok(
        &[
            "rate",
            "--lake",
            &lake,
            "--from",
            &first,
            "--to",
            &last,
            "--grain",
            "month",
            "--definition",
            "all",
            "--format",
            "csv",
        ],
        &[0],
    ));
    assert!(monthly.len() >= 3 * 4, "three months or more, four definitions: {}", monthly.len());
    for r in &monthly {
        let single = rows(&run_ok(
            &[
                "rate",
                "--lake",
                &lake,
                "--from",
                &r["from"],
                "--to",
                &r["to"],
                "--definition",
                &r["definition"],
                "--format",
                "csv",
            ],
            &[0],
        ));
        assert_eq!(&single[0], r, "{} {}..{}", r["definition"], r["from"], r["to"]);
    }
    // the first period starts at --from, the last ends at --to, and they tile the period
    assert_eq!(monthly[0]["from"], first);
    let ordergroove: Vec<_> = monthly.iter().filter(|r| r["definition"] == "ordergroove").collect();
    assert_eq!(ordergroove[ordergroove.len() - 1]["to"], last);
    let days: i64 = ordergroove.iter().map(|r| r["days"].parse::<i64>().expect("days")).sum();
    assert_eq!(days, series.len() as i64);
}

/// Charts through the CLI: SVG and PNG files of series, rates and insights; a kind that
/// does not fit, and a chart without an image file, are refused with exit 1.
#[test]
fn charts_are_drawn_and_unfit_requests_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (lake, truth) = scenario(dir.path());
    let series = rows(&read(&truth.join("series.csv")));
    let (first, last) = (series[0]["date"].clone(), series[series.len() - 1]["date"].clone());
    let out = |name: &str| dir.path().join(name).to_string_lossy().into_owned();

    let svg = out("active.svg");
    run_ok(&["series", "--lake", &lake, "--chart", "line", "--out", &svg], &[0]);
    let text = read(Path::new(&svg));
    assert!(text.starts_with("<svg") || text.starts_with("<?xml"), "an SVG document");
    // the series' lines are the wide strokes (axes and ticks are one pixel wide)
    assert_eq!(
        text.matches("stroke-width=\"2\" points=").count(),
        2,
        "a line per series (active subscriptions and subscribers)"
    );
    assert!(text.contains("active_subscriptions") && text.contains(&first));

    let stacked = out("by-product.svg");
    run_ok(
        &["series", "--lake", &lake, "--by", "product", "--grain", "week", "--chart", "stacked", "--out", &stacked],
        &[0],
    );
    assert!(read(Path::new(&stacked)).matches("<rect").count() > 10);

    let png = out("rates.png");
    run_ok(
        &["rate", "--lake", &lake, "--from", &first, "--to", &last, "--grain", "week", "--chart", "bar", "--out", &png],
        &[0],
    );
    let bytes = std::fs::read(&png).expect("the PNG");
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "a PNG file");
    let width = u32::from_be_bytes([bytes[16], bytes[17], bytes[18], bytes[19]]);
    assert_eq!(width, churnlake_charts::WIDTH);

    let pie = out("reasons.svg");
    run_ok(
        &["insight", "--lake", &lake, "--event", "cancelled", "--by", "cancel_reason", "--chart", "pie", "--out", &pie],
        &[0],
    );
    assert!(read(Path::new(&pie)).contains("<polygon"), "pie slices");

    let message = failure(&[
        "insight",
        "--lake",
        &lake,
        "--event",
        "cancelled",
        "--grain",
        "month",
        "--chart",
        "pie",
        "--out",
        &pie,
    ]);
    assert!(message.contains("not a time series") && message.contains("bar, line, table"), "{message}");
    let message = failure(&["series", "--lake", &lake, "--chart", "stacked", "--out", &svg]);
    assert!(message.contains("give --by"), "{message}");
    let message = failure(&["series", "--lake", &lake, "--chart", "line"]);
    assert!(message.contains("needs --out FILE.svg or FILE.png"), "{message}");
    let message = failure(&["series", "--lake", &lake, "--chart", "line", "--out", &out("x.csv")]);
    assert!(message.contains(".svg or .png"), "{message}");
    let message = failure(&[
        "rate",
        "--lake",
        &lake,
        "--from",
        &first,
        "--to",
        &last,
        "--definition",
        "all",
        "--chart",
        "bar",
        "--out",
        &svg,
    ]);
    assert!(message.contains("one definition"), "{message}");
}

#[test]
fn insight_refuses_unknown_columns_and_non_boolean_filters() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (lake, _) = scenario(dir.path());
    let message = failure(&["insight", "--lake", &lake, "--event", "cancelled", "--by", "colour"]);
    assert!(message.contains("colour") && message.contains("product, product_id"), "{message}");
    let message = failure(&["insight", "--lake", &lake, "--event", "cancelled", "--where", "quantity + 1"]);
    assert!(message.contains("not a boolean") && message.contains("cancel_reason"), "{message}");
    let message = failure(&["insight", "--lake", &lake, "--event", "cancelled", "--where", "colour = 'red'"]);
    assert!(message.contains("colour") && message.contains("the columns are"), "{message}");
}

/// `revenue --chart` draws the MRR line, one per group with --by.
#[test]
fn revenue_is_charted() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (lake, _) = scenario(dir.path());
    let out = |name: &str| dir.path().join(name).to_string_lossy().into_owned();
    let wide = |svg: &str| read(Path::new(svg)).matches("stroke-width=\"2\" points=").count();

    let mrr = out("mrr.svg");
    run_ok(&["revenue", "--lake", &lake, "--chart", "line", "--out", &mrr], &[0]);
    assert_eq!(wide(&mrr), 1, "one MRR line");
    assert!(read(Path::new(&mrr)).contains("MRR"));

    let by_product = out("mrr-by-product.svg");
    run_ok(&["revenue", "--lake", &lake, "--by", "product", "--chart", "line", "--out", &by_product], &[0]);
    let products = run_ok(&["revenue", "--lake", &lake, "--by", "product", "--format", "csv"], &[0]);
    let (_, rows) = parse_csv(&products);
    let groups: std::collections::BTreeSet<&str> = rows.iter().map(|r| r[1].as_str()).collect();
    assert_eq!(wide(&by_product), groups.len(), "a line per product");
}

/// `cohorts --chart`: the table is the triangle with every cohort named in full and every
/// cell's share (in %) as `cohorts --format csv` gives it; bar compares the cohorts at the
/// ages the lake reaches; line draws a series per cohort; stacked and pie are refused.
#[test]
fn cohorts_are_charted() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (lake, _) = scenario(dir.path());
    let out = |name: &str| dir.path().join(name).to_string_lossy().into_owned();
    let cells = rows(&run_ok(&["cohorts", "--lake", &lake, "--format", "csv"], &[0]));
    assert!(cells.len() >= 3, "a few cohort cells: {cells:?}");

    let table = out("triangle.svg");
    run_ok(&["cohorts", "--lake", &lake, "--chart", "table", "--out", &table], &[0]);
    let text = read(Path::new(&table));
    for cell in &cells {
        assert!(text.contains(&format!("\n{}\n", cell["cohort"])), "cohort {} named in full", cell["cohort"]);
        let share: f64 = cell["share"].parse().expect("a share");
        let shown = churnlake_charts::format_number(share * 100.0);
        assert!(text.contains(&format!("\n{shown}\n")), "cell {cell:?} shown as {shown}");
    }

    let bar = out("cohorts-bar.svg");
    run_ok(&["cohorts", "--lake", &lake, "--chart", "bar", "--out", &bar], &[0]);
    assert!(read(Path::new(&bar)).contains("month 1"), "the month-1 shares in the legend");

    let line = out("cohorts-line.svg");
    run_ok(&["cohorts", "--lake", &lake, "--level", "subscribers", "--chart", "line", "--out", &line], &[0]);
    let text = read(Path::new(&line));
    let cohorts: std::collections::BTreeSet<&str> = cells.iter().map(|c| c["cohort"].as_str()).collect();
    for cohort in cohorts {
        assert!(text.contains(&format!("\n{cohort}\n")), "cohort {cohort} in the legend");
    }

    for kind in ["stacked", "pie"] {
        let message = failure(&["cohorts", "--lake", &lake, "--chart", kind, "--out", &out("x.svg")]);
        assert!(message.contains("table, bar or line"), "{kind}: {message}");
    }
}
