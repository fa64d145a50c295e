//! `churnlake report html`: one self-contained HTML page (inline SVG charts from the charts
//! crate, inline CSS, no script, nothing fetched) from the query crate's results.
//!
//! Sections, in order: headline numbers, the active series, daily flows, the cancellation
//! rate per month, products, MRR and its movements, the cohort triangle as a heat map, the
//! data checks. Every chart has its numbers in a `<details>` table under it; every heat-map
//! cell its counts in its title.

use std::fmt::Write as _;

use anyhow::Result;
use chrono::{Days, NaiveDate};
use churnlake_charts::{Kind, format_number};
use churnlake_lake::Manifest;
use churnlake_query::{CohortLevel, CohortRow, DataFrame, Definition, Grain, LakeState, Level, Metrics, RateRow};

use super::report::BASE_CURRENCY;
use polars::prelude::{AnyValue, Column};

use super::chart::{ChartSpec, chart_error, frame_chart};
use super::{Ctx, Io};
use crate::args::ReportHtmlArgs;
use crate::{Outcome, UserError};

/// `churnlake report html`.
pub(super) fn report_html(ctx: &Ctx, io: &mut Io, args: &ReportHtmlArgs) -> Result<Outcome> {
    let path = &args.out;
    super::check_out_path(path)?;
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

    // revenue: MRR per day and its movements per month (money exact; drawn as numbers)
    let revenue = metrics.revenue(Some(from), Some(to), None, Grain::Day)?;
    page.chart(
        "chart-mrr",
        "MRR",
        &revenue.select(["date", "mrr", "arpu"])?,
        ChartSpec {
            title: format!("Monthly recurring revenue per day (price × quantity × 30.4375 ÷ frequency), {from}..{to}"),
            x: "date",
            values: &["mrr"],
            group: None,
            y_label: BASE_CURRENCY.into(),
            scale: 1.0,
        },
        Kind::Line,
    )?;
    let movements = metrics.revenue(Some(from), Some(to), None, Grain::Month)?;
    page.chart(
        "chart-mrr-movements",
        "MRR movements per month",
        &movements.select([
            "date",
            "new_mrr",
            "reactivation_mrr",
            "expansion_mrr",
            "contraction_mrr",
            "churned_mrr",
        ])?,
        ChartSpec {
            title: format!("MRR movements summed per month, {from}..{to}"),
            x: "date",
            values: &["new_mrr", "reactivation_mrr", "expansion_mrr", "contraction_mrr", "churned_mrr"],
            group: None,
            y_label: BASE_CURRENCY.into(),
            scale: 1.0,
        },
        Kind::Bar,
    )?;

    // retention cohorts as a heat map: one row per cohort month, one cell per age
    let cohorts = metrics.cohort_rows(CohortLevel::Subscriptions, None)?;
    page.cohort_heat_map(&cohorts);
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

    /// The cohort triangle as an HTML table, each cell shaded by its share (a heat map),
    /// with the cohort's size and the exact counts in each cell's title.
    fn cohort_heat_map(&mut self, rows: &[CohortRow]) {
        let id = "cohorts";
        self.sections.push((id.to_owned(), "Retention cohorts".to_owned()));
        // the cohorts that start inside the lake (their month-0 cell is in it): the familiar
        // triangle; older cohorts are in `churnlake cohorts`
        let starting: std::collections::BTreeSet<&str> =
            rows.iter().filter(|r| r.age == 0).map(|r| r.cohort.as_str()).collect();
        let rows: Vec<&CohortRow> = rows.iter().filter(|r| starting.contains(r.cohort.as_str())).collect();
        let ages: std::collections::BTreeSet<i64> = rows.iter().map(|r| r.age).collect();
        let mut cohorts: Vec<&str> = rows.iter().map(|r| r.cohort.as_str()).collect();
        cohorts.dedup();
        let _ = write!(
            self.body,
            "<section><h2 id=\"{id}-heading\">Retention cohorts</h2><p>Share of each month's new \
             subscriptions still active at the end of each later month (age in months), for the cohorts \
             that start inside the lake (all cohorts: <code>churnlake cohorts</code>).</p>\
             <div class=\"heat\"><table id=\"{id}\" class=\"heat-map\"><thead><tr><th>cohort</th><th>size</th>"
        );
        for age in &ages {
            let _ = write!(self.body, "<th>{age}</th>");
        }
        self.body.push_str("</tr></thead><tbody>");
        for cohort in cohorts {
            let cells: Vec<&CohortRow> = rows.iter().copied().filter(|r| r.cohort == cohort).collect();
            let size = cells.first().map(|r| r.size).unwrap_or(0);
            let _ = write!(self.body, "<tr><th>{}</th><td>{size}</td>", esc(cohort));
            for age in &ages {
                match cells.iter().find(|r| r.age == *age) {
                    Some(cell) => {
                        let share = if cell.size == 0 { 0.0 } else { cell.active as f64 / cell.size as f64 };
                        // white (0 %) to deep blue (100 %)
                        let light = 97.0 - 55.0 * share;
                        let ink = if share > 0.6 { "#fff" } else { "#1b2433" };
                        let _ = write!(
                            self.body,
                            "<td style=\"background:hsl(212,70%,{light:.0}%);color:{ink}\" title=\"{} of {} active\">{:.0}%</td>",
                            cell.active,
                            cell.size,
                            share * 100.0
                        );
                    }
                    None => self.body.push_str("<td></td>"),
                }
            }
            self.body.push_str("</tr>");
        }
        self.body.push_str("</tbody></table></div></section>");
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
.heat{overflow-x:auto}.heat-map{border-collapse:collapse;font-size:12px}.heat-map td,.heat-map th{padding:2px 5px;text-align:right;white-space:nowrap}\
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
