//! `churnlake report html`: one self-contained HTML page (inline SVG charts from the charts
//! crate, inline CSS, no script, nothing fetched) from the query crate's results.
//!
//! Sections, in order: headline numbers, the active series, daily flows, the cancellation
//! rate per month, products, MRR and movements (pending), the cohort triangle (pending), the
//! data checks. Every chart has its numbers in a `<details>` table under it.
//!
//! The two pending sections are where `churnlake revenue` and `churnlake cohorts` plug in:
//! [`Page::chart`] takes any frame (a date or category column, numeric columns, an optional
//! group column), e.g. `page.chart("mrr", "MRR", &revenue, ChartSpec { x: "date", values:
//! &["mrr"], .. }, Kind::Line)`, and a heat map can be a `Kind::Table` chart or its own
//! HTML table (see [`Page::pending`]).

use std::fmt::Write as _;

use anyhow::Result;
use chrono::{Days, NaiveDate};
use churnlake_charts::{Kind, format_number};
use churnlake_lake::Manifest;
use churnlake_query::{DataFrame, Definition, Grain, LakeState, Level, Metrics, RateRow};
use polars::prelude::{AnyValue, Column};

use super::chart::{ChartSpec, chart_error, frame_chart};
use super::{Ctx, Io};
use crate::args::ReportHtmlArgs;
use crate::{Outcome, UserError};

/// `churnlake report html`.
pub(super) fn report_html(ctx: &Ctx, io: &mut Io, args: &ReportHtmlArgs) -> Result<Outcome> {
    let path = &args.out;
    let folder = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
    if !folder.is_dir() {
        return Err(UserError(format!(
            "--out {}: the folder {} does not exist (create it first)",
            path.display(),
            folder.display()
        ))
        .into());
    }
    if let (Some(from), Some(to)) = (args.from, args.to)
        && from > to
    {
        return Err(UserError(format!(
            "--from {from} is after --to {to}: the period is empty (give the earlier date to --from)"
        ))
        .into());
    }
    let reader = ctx.reader(args.lake.lake.as_deref(), args.known.as_known_on)?;
    let lake = reader.lake.location().to_string();
    let page = html_page(&reader.metrics, &reader.manifest, reader.known_on, &lake, args.from, args.to)?;
    std::fs::write(path, page)
        .map_err(|e| UserError(format!("--out {}: cannot write the report: {e}", path.display())))?;
    if !ctx.quiet {
        writeln!(io.err, "wrote {}", path.display())?;
    }
    super::footer(ctx, &reader, io)?;
    Ok(Outcome::Ok)
}

/// The report as one HTML document over `from..=to` (default: the lake's range).
pub(crate) fn html_page(
    metrics: &Metrics,
    manifest: &Manifest,
    known_on: Option<NaiveDate>,
    lake: &str,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Result<String> {
    let (first, last) = metrics.range()?;
    let (from, to) = (from.unwrap_or(first), to.unwrap_or(last));
    let state = metrics.lake_state(manifest, known_on)?;
    let mut page = Page::default();

    // headline numbers at the end of `to`, and the last 30 days' rates
    let active = metrics.active(Some(to), None)?;
    let count = |name: &str| -> Result<i64> {
        Ok(active.column(name)?.cast(&polars::prelude::DataType::Int64)?.i64()?.get(0).unwrap_or(0))
    };
    let rate_from = to.checked_sub_days(Days::new(29)).unwrap_or(first).max(first);
    let rate = metrics.rate(rate_from, to, None)?;
    let rate = rate.first();
    let headlines = [
        (
            "active_subscriptions",
            "active subscriptions",
            count("active_subscriptions")?.to_string(),
            format_number(count("active_subscriptions")? as f64),
        ),
        (
            "active_subscribers",
            "active subscribers",
            count("active_subscribers")?.to_string(),
            format_number(count("active_subscribers")? as f64),
        ),
        (
            "subscription_cancellation_rate",
            "subscription cancellation rate, last 30 days",
            rate.and_then(|r| r.subscription_cancellation_rate).map(|r| r.to_string()).unwrap_or_default(),
            crate::render::percent(rate.and_then(|r| r.subscription_cancellation_rate)),
        ),
        (
            "subscriber_cancellation_rate",
            "subscriber cancellation rate, last 30 days",
            rate.and_then(|r| r.subscriber_cancellation_rate).map(|r| r.to_string()).unwrap_or_default(),
            crate::render::percent(rate.and_then(|r| r.subscriber_cancellation_rate)),
        ),
    ];
    page.body.push_str("<section id=\"headlines\"><h2>Headline numbers</h2><div class=\"headlines\">");
    for (id, label, value, shown) in headlines {
        let _ = write!(
            page.body,
            "<div class=\"headline\" id=\"{id}\" data-value=\"{}\"><span class=\"value\">{}</span>\
             <span class=\"label\">{}</span></div>",
            esc(&value),
            esc(&shown),
            esc(label)
        );
    }
    let _ = write!(
        page.body,
        "</div><p class=\"note\">Actives at the end of {to}; rates over {rate_from}..{to} (cancellations ÷ average actives, \
         the platform's definition).</p></section>"
    );

    // the series
    let series = metrics.series(Some(from), Some(to), None, Grain::Day)?;
    page.chart(
        "chart-active",
        "Active subscriptions and subscribers",
        &series,
        ChartSpec {
            title: format!("Active at the end of each day, {from}..{to}"),
            x: "date",
            values: &["active_subscriptions", "active_subscribers"],
            group: None,
            y_label: "active".into(),
            scale: 1.0,
        },
        Kind::Line,
    )?;
    page.chart(
        "chart-flows",
        "Daily flows",
        &series,
        ChartSpec {
            title: format!("New, cancelled and reactivated subscriptions per day, {from}..{to}"),
            x: "date",
            values: &["new_subscriptions", "cancelled_subscriptions", "reactivated_subscriptions"],
            group: None,
            y_label: "subscriptions".into(),
            scale: 1.0,
        },
        Kind::Line,
    )?;

    // cancellation rate per month
    let rates = metrics.rates_by_period(from, to, None, &[Definition::Ordergroove], Grain::Month)?;
    let rates = rate_frame(&rates)?;
    page.chart(
        "chart-rates",
        "Cancellation rate per month",
        &rates,
        ChartSpec {
            title: format!("Cancellations ÷ average actives per month (%), {from}..{to}"),
            x: "from",
            values: &["subscription_cancellation_rate_pct", "subscriber_cancellation_rate_pct"],
            group: None,
            y_label: "%".into(),
            scale: 1.0,
        },
        Kind::Bar,
    )?;

    // products
    let by_product = metrics.series(Some(from), Some(to), Some("product"), Grain::Month)?;
    page.chart(
        "chart-products",
        "Active subscriptions by product",
        &by_product.select(["date", "product", "active_subscriptions"])?,
        ChartSpec {
            title: format!("Active subscriptions at each month's end by product, {from}..{to}"),
            x: "date",
            values: &["active_subscriptions"],
            group: Some("product"),
            y_label: "subscriptions".into(),
            scale: 1.0,
        },
        Kind::Stacked,
    )?;
    let shares = metrics.active(Some(to), Some("product"))?;
    page.chart(
        "chart-product-shares",
        "Product shares",
        &shares,
        ChartSpec {
            title: format!("Active subscriptions by product at the end of {to}"),
            x: "product",
            values: &["active_subscriptions"],
            group: None,
            y_label: "subscriptions".into(),
            scale: 1.0,
        },
        Kind::Pie,
    )?;

    // wired once `churnlake revenue` and `churnlake cohorts` exist
    page.pending(
        "mrr",
        "MRR and movements",
        "Monthly recurring revenue and its movements (new, reactivation, expansion, contraction, churned) \
         appear here once the revenue figures are computed.",
    );
    page.pending(
        "cohorts",
        "Retention cohorts",
        "The cohort triangle (share of each monthly cohort still active by age) appears here as a heat map \
         once the cohort figures are computed.",
    );

    // data checks
    let checks = metrics.check(manifest)?;
    let counts = |level: Level| checks.findings.iter().filter(|f| f.level == level).count();
    let status = match checks.worst() {
        Some(Level::Error) => "error",
        Some(Level::Warn) => "warn",
        _ => "ok",
    };
    let complete = checks.complete_through.map(|d| d.to_string()).unwrap_or_else(|| "-".into());
    let _ = write!(
        page.body,
        "<section id=\"checks\" data-status=\"{status}\"><h2>Data checks</h2>\
         <p>Complete through <strong id=\"complete_through\">{complete}</strong> · \
         <span class=\"level-error\">{} errors</span> · <span class=\"level-warn\">{} warnings</span> · \
         <span class=\"level-info\">{} notes</span> (<code>churnlake check</code> lists every finding with its evidence).</p>",
        counts(Level::Error),
        counts(Level::Warn),
        counts(Level::Info)
    );
    if !checks.findings.is_empty() {
        page.body.push_str(
            "<table class=\"findings\"><thead><tr><th>level</th><th>check</th><th>about</th></tr></thead><tbody>",
        );
        for finding in checks.findings.iter().take(50) {
            let about = [
                finding.kind.clone(),
                finding.anomaly.map(str::to_owned),
                finding.date.map(|d| d.to_string()),
                finding.file.clone(),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" · ");
            let _ = write!(
                page.body,
                "<tr class=\"level-{}\"><td>{}</td><td>{}</td><td>{}</td></tr>",
                finding.level.as_str(),
                finding.level.as_str(),
                esc(finding.check),
                esc(&about)
            );
        }
        page.body.push_str("</tbody></table>");
        if checks.findings.len() > 50 {
            let _ = write!(page.body, "<p class=\"note\">… and {} more.</p>", checks.findings.len() - 50);
        }
    }
    page.body.push_str("</section>");

    Ok(page.finish(lake, from, to, &state))
}

/// The monthly rates as a frame: `from, to, subscription_cancellation_rate_pct,
/// subscriber_cancellation_rate_pct` (rates in %, null when undefined).
fn rate_frame(rows: &[RateRow]) -> Result<DataFrame> {
    let pct = |v: Option<f64>| v.map(|r| r * 100.0);
    Ok(DataFrame::new(
        rows.len(),
        vec![
            Column::new("from".into(), rows.iter().map(|r| r.from).collect::<Vec<_>>()),
            Column::new("to".into(), rows.iter().map(|r| r.to).collect::<Vec<_>>()),
            Column::new(
                "subscription_cancellation_rate_pct".into(),
                rows.iter().map(|r| pct(r.subscription_cancellation_rate)).collect::<Vec<_>>(),
            ),
            Column::new(
                "subscriber_cancellation_rate_pct".into(),
                rows.iter().map(|r| pct(r.subscriber_cancellation_rate)).collect::<Vec<_>>(),
            ),
        ],
    )?)
}

#[derive(Default)]
struct Page {
    body: String,
    /// (id, heading) of every section, for the contents line.
    sections: Vec<(String, String)>,
}

impl Page {
    /// A chart of `df` as inline SVG, with the frame's numbers in a table under it.
    fn chart(&mut self, id: &str, heading: &str, df: &DataFrame, spec: ChartSpec, kind: Kind) -> Result<()> {
        let chart = frame_chart(df, spec)?;
        let svg = churnlake_charts::render_svg(&chart, kind).map_err(chart_error)?;
        // the XML declaration plotters writes is not needed inline
        let svg = svg.trim_start_matches(|c: char| c != '<');
        let svg = match svg.strip_prefix("<?xml") {
            Some(rest) => rest.split_once("?>").map(|(_, s)| s).unwrap_or(rest),
            None => svg,
        };
        // inline SVG in HTML needs no namespace declaration: the page names no address at all
        let svg = svg.replace(" xmlns=\"http://www.w3.org/2000/svg\"", "");
        self.sections.push((id.to_owned(), heading.to_owned()));
        let _ = write!(
            self.body,
            "<section><h2 id=\"{id}-heading\">{}</h2><figure class=\"chart\" id=\"{id}\" data-kind=\"{}\" data-series=\"{}\">{}\
             <figcaption>{}</figcaption><details><summary>The numbers ({} rows)</summary>{}</details></figure></section>",
            esc(heading),
            kind.name(),
            chart.series.len(),
            svg.trim(),
            esc(&chart.title),
            df.height(),
            html_table(df)
        );
        Ok(())
    }

    /// A section whose figures are not computed yet.
    fn pending(&mut self, id: &str, heading: &str, text: &str) {
        self.sections.push((id.to_owned(), heading.to_owned()));
        let _ = write!(
            self.body,
            "<section id=\"{id}\" class=\"pending\"><h2>{}</h2><p>{}</p></section>",
            esc(heading),
            esc(text)
        );
    }

    fn finish(self, lake: &str, from: NaiveDate, to: NaiveDate, state: &LakeState) -> String {
        let newest = state.newest_stamp.map(crate::output::timestamp).unwrap_or_else(|| "-".into());
        let complete = state.complete_through.map(|d| d.to_string()).unwrap_or_else(|| "-".into());
        let known = state.known_on.map(|d| format!(", as known on {d}")).unwrap_or_default();
        let contents: Vec<String> =
            self.sections.iter().map(|(id, h)| format!("<a href=\"#{id}\">{}</a>", esc(h))).collect();
        format!(
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <title>churnlake report {from}..{to}</title><style>{STYLE}</style></head><body>\
             <header><h1>Subscriptions report</h1><p class=\"period\">{from} to {to} · lake <code>{}</code></p>\
             <p class=\"state\" id=\"lake_state\">Computed from {} drops (newest stamp {newest}; complete through {complete}{known}).</p>\
             <nav>{}</nav></header><main>{}</main>\
             <footer>Written by churnlake {}. Definitions: docs/METRICS.md.</footer></body></html>\n",
            esc(lake),
            state.drops,
            contents.join(" · "),
            self.body,
            env!("CARGO_PKG_VERSION")
        )
    }
}

const STYLE: &str = "\
body{font-family:'DejaVu Sans',Verdana,sans-serif;margin:0;background:#f4f5f7;color:#1d2330}\
header{background:#1f3a5f;color:#fff;padding:18px 32px}header h1{margin:0 0 4px;font-size:26px}\
header p{margin:2px 0;font-size:14px}header code{color:#dbe7f5}nav{margin-top:8px;font-size:13px}\
nav a{color:#dbe7f5}main{max-width:1000px;margin:0 auto;padding:8px 16px 32px}\
section{background:#fff;border-radius:6px;box-shadow:0 1px 3px rgba(0,0,0,.12);margin:18px 0;padding:12px 18px}\
h2{font-size:19px;margin:4px 0 10px}.headlines{display:flex;flex-wrap:wrap;gap:14px}\
.headline{flex:1 1 200px;border-left:4px solid #1f77b4;padding:6px 12px;background:#f7f9fc}\
.headline .value{display:block;font-size:28px;font-weight:bold}.headline .label{font-size:13px;color:#4a5366}\
.note{font-size:12px;color:#4a5366}figure{margin:0}figure svg{max-width:100%;height:auto;display:block}\
figcaption{font-size:12px;color:#4a5366;margin-top:4px}details{margin-top:6px;font-size:13px}\
details table,table.findings{border-collapse:collapse;margin-top:6px;font-size:12px}\
td,th{border-bottom:1px solid #e1e4ea;padding:2px 8px;text-align:right}th{background:#eef1f6}\
td:first-child,th:first-child{text-align:left}table.findings td{text-align:left}\
.pending{border:2px dashed #b8c0cc;background:#fafbfc;color:#4a5366}\
.level-error{color:#b00020;font-weight:bold}.level-warn{color:#a15c00}.level-info{color:#4a5366}\
footer{text-align:center;font-size:12px;color:#4a5366;padding:12px}";

/// A frame as an HTML table (every row).
fn html_table(df: &DataFrame) -> String {
    let mut html = String::from("<table><thead><tr>");
    for name in df.get_column_names() {
        let _ = write!(html, "<th>{}</th>", esc(name));
    }
    html.push_str("</tr></thead><tbody>");
    for i in 0..df.height() {
        html.push_str("<tr>");
        for column in df.columns() {
            let value = column.get(i).map(cell).unwrap_or_default();
            let _ = write!(html, "<td>{}</td>", esc(&value));
        }
        html.push_str("</tr>");
    }
    html.push_str("</tbody></table>");
    html
}

fn cell(value: AnyValue) -> String {
    match value {
        AnyValue::Null => "-".into(),
        AnyValue::String(s) => s.to_owned(),
        AnyValue::StringOwned(s) => s.to_string(),
        AnyValue::Float64(v) => format!("{v:.3}"),
        other => other.to_string(),
    }
}

fn esc(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}
