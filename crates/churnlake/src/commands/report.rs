//! `churnlake report KIND`: the ready-made reports — one of the query library's tables or
//! event lists, filtered (`--where`), grouped (`--group-by`), its columns chosen
//! (`--columns`), previewed (`--preview`), and written as a table, CSV, JSON, Parquet or
//! PDF. Only selection and formatting happen here; the rows come from the query crate.

use std::io::Write;

use anyhow::Result;
use churnlake_query::DataFrame;
use polars::prelude::*;

use super::{Ctx, Io, filter, footer, open_output, state_metadata};
use crate::args::{Format, ReportArgs, ReportKind, ReportOptions};
use crate::output::{OutputFormat, write_frame_with};
use crate::{Outcome, UserError};

/// The currency of the money columns when the drops name none: the platform's reports
/// carry amounts without a currency code (at most a `$` sign), in the merchant's base
/// currency.
pub const BASE_CURRENCY: &str = "USD";
/// The column that carries the currency of a report's amounts.
const CURRENCY: &str = "currency";
/// Rows a preview shows.
const PREVIEW_ROWS: usize = 10;
/// The count column of a grouped report.
const COUNT: &str = "rows";

/// `churnlake report KIND`.
pub(super) fn report(ctx: &Ctx, io: &mut Io, args: &ReportArgs) -> Result<Outcome> {
    match &args.kind {
        ReportKind::Html(html) => super::report_html::report_html(ctx, io, html),
        kind => table_report(ctx, io, kind),
    }
}

/// `churnlake report KIND` for the kinds that are tables.
fn table_report(ctx: &Ctx, io: &mut Io, kind: &ReportKind) -> Result<Outcome> {
    let (lake, known, options, output) =
        kind.common().ok_or_else(|| anyhow::anyhow!("`report {}` is not a table report", kind.name()))?;
    if let ReportKind::Cancellations(a) | ReportKind::Reactivations(a) | ReportKind::Orders(a) = kind
        && let (Some(from), Some(to)) = (a.from, a.to)
        && from > to
    {
        return Err(UserError(format!(
            "--from {from} is after --to {to}: the period is empty (give the earlier date to --from)"
        ))
        .into());
    }
    let reader = ctx.reader(lake.lake.as_deref(), known.as_known_on)?;
    let metrics = &reader.metrics;
    let df = match kind {
        ReportKind::Subscriptions(a) => metrics.subscriptions(a.as_of, None)?,
        ReportKind::Subscribers(a) => metrics.subscribers(a.as_of, None)?,
        ReportKind::Cancellations(a) => metrics.cancellation_report(a.from, a.to)?,
        ReportKind::Reactivations(a) => metrics.reactivations(a.from, a.to)?,
        ReportKind::Orders(a) => metrics.orders(a.from, a.to)?,
        ReportKind::Html(_) => anyhow::bail!("`report html` is not a table report"),
    };
    let shaped = shape(df, options)?;
    let Shaped { df: mut full, currency } = shaped;
    let total = full.height();
    let mut df = if options.preview { full.head(Some(PREVIEW_ROWS)) } else { std::mem::take(&mut full) };

    if output.format == Format::Pdf {
        let state = reader.state()?;
        let table = pdf_table(kind, options, &df, total, currency, &state)?;
        let bytes = crate::pdf::write(&table)?;
        let mut out = open_output(output, io)?;
        out.write_all(&bytes)?;
        out.flush()?;
        return Ok(Outcome::Ok);
    }
    let format = match output.format {
        Format::Csv => OutputFormat::Csv,
        Format::Json => OutputFormat::Json,
        Format::Parquet => OutputFormat::Parquet,
        _ => OutputFormat::Table,
    };
    let metadata = match format {
        OutputFormat::Parquet => {
            let mut metadata = state_metadata(&reader.state()?);
            metadata.push(("churnlake:report".into(), kind.name().into()));
            metadata.push(("churnlake:filters".into(), filters(kind, options).join("; ")));
            metadata.push(("churnlake:total_rows".into(), total.to_string()));
            if currency {
                metadata.push(("churnlake:base_currency".into(), BASE_CURRENCY.into()));
            }
            metadata
        }
        _ => Vec::new(),
    };
    {
        let mut out = open_output(output, io)?;
        write_frame_with(&mut df, format, &mut out, &metadata)?;
        out.flush()?;
    }
    if !ctx.quiet {
        if options.preview {
            writeln!(io.err, "preview: the first {} of {total} rows", df.height())?;
        }
        if currency {
            writeln!(io.err, "{}", currency_note())?;
        }
    }
    if format == OutputFormat::Table {
        footer(ctx, &reader, io)?;
    }
    Ok(Outcome::Ok)
}

/// What a report says about its amounts.
fn currency_note() -> String {
    format!("amounts in the `{CURRENCY}` column's currency (the drops name none: the base currency {BASE_CURRENCY})")
}

/// A report after its options: the frame, and whether it has money columns.
struct Shaped {
    df: DataFrame,
    currency: bool,
}

/// The money columns of a frame (exact decimals).
fn money_columns(df: &DataFrame) -> Vec<String> {
    df.columns().iter().filter(|c| c.dtype().is_decimal()).map(|c| c.name().to_string()).collect()
}

/// The report's rows with the currency column added, then filtered, grouped, and its
/// columns chosen — in that order, so that `--columns` names the grouped table's columns.
fn shape(df: DataFrame, options: &ReportOptions) -> Result<Shaped> {
    let money = money_columns(&df);
    let currency = !money.is_empty();
    let mut df = df;
    if currency && df.column(CURRENCY).is_err() {
        df = df.lazy().with_column(lit(BASE_CURRENCY).alias(CURRENCY)).collect()?;
    }
    if let Some(expr) = &options.filter {
        df = filter::apply_where(df, expr)?;
    }
    if let Some(by) = &options.group_by {
        df = group(df, by, &money)?;
    }
    if let Some(columns) = &options.columns {
        df = choose(df, columns, options.group_by.is_some())?;
    }
    Ok(Shaped { df, currency })
}

/// The valid column names, for the error messages.
fn names(df: &DataFrame) -> String {
    df.get_column_names().iter().map(|c| c.to_string()).collect::<Vec<_>>().join(", ")
}

/// One row per value of `by` (and per currency where there are amounts): the rows
/// counted, and each money column summed exactly (`<column>_total`), sorted by the group.
fn group(df: DataFrame, by: &str, money: &[String]) -> Result<DataFrame> {
    if df.column(by).is_err() {
        return Err(UserError(format!("--group-by `{by}`: no such column; the columns are: {}", names(&df))).into());
    }
    let mut keys = vec![by.to_owned()];
    if !money.is_empty() && by != CURRENCY {
        keys.push(CURRENCY.to_owned());
    }
    let mut aggs = vec![len().cast(DataType::Int64).alias(COUNT)];
    for column in money.iter().filter(|c| c.as_str() != by) {
        aggs.push(col(column.as_str()).sum().alias(format!("{column}_total")));
    }
    let key_exprs: Vec<Expr> = keys.iter().map(|k| col(k.as_str())).collect();
    let grouped = df
        .lazy()
        .group_by(key_exprs)
        .agg(aggs)
        .sort(keys.iter().map(String::as_str).collect::<Vec<_>>(), SortMultipleOptions::default().with_nulls_last(true))
        .collect()?;
    Ok(grouped)
}

/// The columns asked for, in that order; an unknown one is refused with the valid ones.
fn choose(df: DataFrame, columns: &[String], grouped: bool) -> Result<DataFrame> {
    let wanted: Vec<&str> = columns.iter().map(|c| c.trim()).filter(|c| !c.is_empty()).collect();
    if wanted.is_empty() {
        return Err(UserError(format!("--columns is empty; the columns are: {}", names(&df))).into());
    }
    let unknown: Vec<&str> = wanted.iter().copied().filter(|c| df.column(c).is_err()).collect();
    if !unknown.is_empty() {
        let of = if grouped { " of the grouped report" } else { "" };
        return Err(UserError(format!(
            "--columns: no column {}{of}; the columns are: {}",
            unknown.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", "),
            names(&df)
        ))
        .into());
    }
    let mut seen = std::collections::BTreeSet::new();
    if let Some(twice) = wanted.iter().find(|c| !seen.insert(**c)) {
        return Err(UserError(format!("--columns names `{twice}` twice; give each column once")).into());
    }
    Ok(df.select(wanted)?)
}

/// The options the report was made with, in the command line's words.
fn filters(kind: &ReportKind, options: &ReportOptions) -> Vec<String> {
    let mut parts = Vec::new();
    match kind {
        ReportKind::Subscriptions(a) | ReportKind::Subscribers(a) => {
            parts.push(match a.as_of {
                Some(day) => format!("--as-of {day}"),
                None => "as of the last data date".to_owned(),
            });
        }
        ReportKind::Cancellations(a) | ReportKind::Reactivations(a) | ReportKind::Orders(a) => {
            if let Some(from) = a.from {
                parts.push(format!("--from {from}"));
            }
            if let Some(to) = a.to {
                parts.push(format!("--to {to}"));
            }
        }
        ReportKind::Html(_) => {}
    }
    if let Some(expr) = &options.filter {
        parts.push(format!("--where {expr}"));
    }
    if let Some(by) = &options.group_by {
        parts.push(format!("--group-by {by}"));
    }
    if let Some(columns) = &options.columns {
        parts.push(format!("--columns {}", columns.join(",")));
    }
    if options.preview {
        parts.push("--preview".to_owned());
    }
    parts
}

/// The frame as the PDF's text cells, with the title and the first page's lines.
fn pdf_table(
    kind: &ReportKind,
    options: &ReportOptions,
    df: &DataFrame,
    total: usize,
    currency: bool,
    state: &churnlake_query::LakeState,
) -> Result<crate::pdf::PdfTable> {
    let mut text = df.clone();
    // timestamps in the one format of every output
    let stamps: Vec<Expr> = text
        .columns()
        .iter()
        .filter(|c| matches!(c.dtype(), DataType::Datetime(..)))
        .map(|c| col(c.name().clone()).dt().strftime(crate::output::TIMESTAMP_FORMAT))
        .collect();
    if !stamps.is_empty() {
        text = text.lazy().with_columns(stamps).collect()?;
    }
    let headers: Vec<String> = text.get_column_names().iter().map(|c| c.to_string()).collect();
    let right: Vec<bool> =
        text.columns().iter().map(|c| c.dtype().is_primitive_numeric() || c.dtype().is_decimal()).collect();
    let mut rows = Vec::with_capacity(text.height());
    for i in 0..text.height() {
        let mut row = Vec::with_capacity(headers.len());
        for column in text.columns() {
            row.push(match column.get(i)? {
                AnyValue::Null => String::new(),
                AnyValue::String(s) => s.to_owned(),
                AnyValue::StringOwned(s) => s.to_string(),
                other => other.to_string(),
            });
        }
        rows.push(row);
    }
    let filters = filters(kind, options);
    let mut about =
        vec![format!("Filters: {}", if filters.is_empty() { "none".to_owned() } else { filters.join("; ") })];
    let newest = state.newest_stamp.map(crate::output::timestamp).unwrap_or_else(|| "-".into());
    let complete = state.complete_through.map(|d| d.to_string()).unwrap_or_else(|| "-".into());
    let known = state.known_on.map(|d| format!("; as known on {d}")).unwrap_or_default();
    about.push(format!(
        "Data: computed from {} drops (newest stamp {newest}); complete_through {complete}{known}",
        state.drops
    ));
    about.push(if options.preview {
        format!("Rows: the first {} of {total} (preview)", rows.len())
    } else {
        format!("Rows: {total}")
    });
    if currency {
        about.push(format!("Amounts: {}", currency_note().trim_start_matches("amounts ")));
    }
    Ok(crate::pdf::PdfTable { title: format!("churnlake report {}", kind.name()), about, headers, rows, right })
}
