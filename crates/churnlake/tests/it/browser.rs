//! The HTML report in a real browser: headless Chromium renders `report html`, and the
//! rendered page's headline numbers must equal `churnlake active`'s and every chart must be
//! drawn (an inline SVG holding its series' shapes).
//!
//! Chromium must be installed (`.ci/run` installs the Debian package when it is missing).
//! Locally, `CHURNLAKE_NO_BROWSER=1` skips the test; under CI (`CI` set) it never skips.

use std::path::Path;
use std::process::Command;

use churnlake_generate::{Preset, generate};

use crate::support::{ingest, parse_csv, path, run_ok};

fn chromium() -> Option<String> {
    ["chromium", "chromium-browser", "google-chrome"]
        .into_iter()
        .find(|name| Command::new(name).arg("--version").output().is_ok_and(|o| o.status.success()))
        .map(str::to_owned)
}

/// Runs headless Chromium over `url` with `args`; its stdout.
fn browse(browser: &str, args: &[&str], url: &str, profile: &Path) -> String {
    let out = Command::new(browser)
        .args(["--headless", "--disable-gpu", "--no-sandbox", "--hide-scrollbars", "--no-first-run"])
        .arg(format!("--user-data-dir={}", profile.display()))
        .args(args)
        .arg(url)
        .output()
        .unwrap_or_else(|e| panic!("running {browser}: {e}"));
    assert!(out.status.success(), "{browser} failed: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The value of `attribute` on the element whose id is `id`, in the rendered DOM.
fn attribute(dom: &str, id: &str, attribute: &str) -> String {
    let at = dom.find(&format!("id=\"{id}\"")).unwrap_or_else(|| panic!("no element #{id} in the rendered page"));
    let start = dom[..at].rfind('<').unwrap_or(0);
    let end = at + dom[at..].find('>').unwrap_or(0);
    let tag = &dom[start..end];
    let key = format!("{attribute}=\"");
    let from = tag.find(&key).unwrap_or_else(|| panic!("#{id} has no {attribute}: {tag}")) + key.len();
    tag[from..].split('"').next().unwrap_or_default().to_owned()
}

#[test]
fn the_html_report_renders_in_chromium_with_the_cli_numbers_and_every_chart() {
    let skip = std::env::var("CHURNLAKE_NO_BROWSER").is_ok_and(|v| v == "1") && std::env::var_os("CI").is_none();
    let Some(browser) = chromium() else {
        if skip {
            eprintln!("skipped: no chromium and CHURNLAKE_NO_BROWSER=1");
            return;
        }
        panic!(
            "the HTML report test needs headless Chromium: install it (`apt-get install -y chromium`, as .ci/run does) \
             or set CHURNLAKE_NO_BROWSER=1 to skip this test locally"
        );
    };
    if skip {
        eprintln!("skipped: CHURNLAKE_NO_BROWSER=1");
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let mut opts = Preset::Demo.options(dir.path().join("gen"));
    opts.seed = 5;
    opts.days = 120;
    opts.subs_per_day = 12;
    let summary = generate(&opts).expect("generation succeeds");
    let lake = dir.path().join("lake");
    ingest(&summary.drops_dir, &lake);
    let lake = path(&lake);
    let report = dir.path().join("report.html");
    run_ok(&["report", "html", "--lake", lake, "--out", path(&report)], &[0]);
    let html = std::fs::read_to_string(&report).expect("the report");
    for forbidden in ["<script", "http://", "https://", "<link", "@import", "url("] {
        assert!(!html.contains(forbidden), "the report is self-contained: it holds `{forbidden}`");
    }

    let url = format!("file://{}", report.display());
    let profile = dir.path().join("chromium-profile");
    let dom = browse(&browser, &["--dump-dom"], &url, &profile);
    assert!(dom.contains("Subscriptions report"), "the page rendered:\n{}", &dom[..dom.len().min(500)]);

    // the headline numbers are `churnlake active`'s and the last 30 days' `rate`
    let (header, rows) = parse_csv(&run_ok(&["active", "--lake", lake, "--format", "csv"], &[0]));
    for name in ["active_subscriptions", "active_subscribers"] {
        let column = header.iter().position(|h| h == name).expect("an active column");
        assert_eq!(attribute(&dom, name, "data-value"), rows[0][column], "{name}");
        let shown = attribute(&dom, name, "data-value").parse::<f64>().expect("a number");
        assert!(shown > 0.0);
    }
    let last = summary_last_day(&summary.truth_dir);
    let from =
        (chrono::NaiveDate::parse_from_str(&last, "%Y-%m-%d").expect("a date") - chrono::Days::new(29)).to_string();
    let rate: serde_json::Value = serde_json::from_str(&run_ok(
        &["rate", "--lake", lake, "--from", &from, "--to", &last, "--format", "json"],
        &[0],
    ))
    .expect("rate JSON");
    for name in ["subscription_cancellation_rate", "subscriber_cancellation_rate"] {
        let expected = rate[name].as_f64().expect("a rate");
        let shown: f64 = attribute(&dom, name, "data-value").parse().expect("a rate on the page");
        assert_eq!(shown, expected, "{name}");
    }

    // every chart is drawn: an SVG with one shape per series at least
    let charts: Vec<&str> = dom.split("<figure class=\"chart\"").skip(1).collect();
    assert_eq!(charts.len(), 7, "seven charts (actives, flows, rates, products twice, MRR, MRR movements)");
    for chart in charts {
        let chart = chart.split("</figure>").next().unwrap_or_default();
        let id = chart.split("id=\"").nth(1).and_then(|s| s.split('"').next()).unwrap_or_default();
        let kind = chart.split("data-kind=\"").nth(1).and_then(|s| s.split('"').next()).unwrap_or_default();
        let series: usize = chart
            .split("data-series=\"")
            .nth(1)
            .and_then(|s| s.split('"').next())
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        assert!(series > 0, "{id} has series");
        let svg = chart.split("<svg").nth(1).unwrap_or_else(|| panic!("{id} has an inline SVG"));
        let shapes = match kind {
            "line" => svg.matches("<polyline").count(),
            "bar" | "stacked" => svg.matches("<rect").count().saturating_sub(series + 1),
            "pie" => svg.matches("<polygon").count(),
            other => panic!("{id}: unexpected kind {other}"),
        };
        assert!(shapes >= series, "{id} ({kind}) draws its {series} series: {shapes} shapes");
        assert!(chart.contains("<details>") && chart.contains("<td>"), "{id} has its numbers under it");
    }
    // the revenue charts, the cohort heat map (a shaded cell per cohort and age) and the checks
    for id in ["chart-mrr", "chart-mrr-movements", "cohorts", "checks"] {
        assert!(dom.contains(&format!("id=\"{id}\"")), "section #{id}");
    }
    let heat = dom.split("id=\"cohorts\"").nth(1).and_then(|s| s.split("</table>").next()).unwrap_or_default();
    let cells = heat.matches("<td style=\"background").count();
    // the cohorts starting inside the lake: those with an age-0 cell
    let cohorts = run_ok(&["cohorts", "--lake", lake, "--format", "csv"], &[0]);
    let starting: std::collections::BTreeSet<&str> = cohorts
        .lines()
        .skip(1)
        .filter(|l| l.split(',').nth(1) == Some("0"))
        .filter_map(|l| l.split(',').next())
        .collect();
    let expected =
        cohorts.lines().skip(1).filter(|l| l.split(',').next().is_some_and(|c| starting.contains(c))).count();
    assert!(expected > 0);
    assert_eq!(cells, expected, "a shaded cell per cohort and age");

    // one screenshot, 1280 wide
    let shot = dir.path().join("report.png");
    browse(&browser, &[&format!("--screenshot={}", shot.display()), "--window-size=1280,2400"], &url, &profile);
    let bytes = std::fs::read(&shot).expect("the screenshot");
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    assert_eq!(u32::from_be_bytes([bytes[16], bytes[17], bytes[18], bytes[19]]), 1280);
    if let Some(keep) = std::env::var_os("CHURNLAKE_REPORT_SCREENSHOT") {
        std::fs::copy(&shot, keep).expect("keeping the screenshot");
    }
}

fn summary_last_day(truth: &Path) -> String {
    let series = std::fs::read_to_string(truth.join("series.csv")).expect("the truth series");
    series.lines().last().and_then(|l| l.split(',').next()).expect("a last day").to_owned()
}
