//! `--chart KIND --out FILE.svg|FILE.png`: a result frame turned into the charts crate's
//! model and drawn. Any frame with a date (or category) column and numeric columns, with
//! or without a group column, becomes a chart with [`frame_chart`]:
//!
//! ```text
//! let chart = frame_chart(&df, ChartSpec { title, x: "date", values: &["mrr"], group: by, y_label: "USD", scale: 1.0 })?;
//! write_chart(&chart, kind, path)?;
//! ```

use std::path::Path;

use anyhow::Result;
use churnlake_charts::{Axis, Chart, ChartError, Kind, Series};
use churnlake_query::DataFrame;
use polars::prelude::{AnyValue, DataType};

use crate::UserError;
use crate::args::{ChartArg, OutputArgs};

/// The charts crate's kind of a `--chart` value.
pub(crate) fn kind(arg: ChartArg) -> Kind {
    match arg {
        ChartArg::Bar => Kind::Bar,
        ChartArg::Stacked => Kind::Stacked,
        ChartArg::Line => Kind::Line,
        ChartArg::Pie => Kind::Pie,
        ChartArg::Table => Kind::Table,
    }
}

/// With `--chart`, `--out` must name an `.svg` or `.png` file in an existing folder, and
/// `--format` does not apply: anything else is the user's error, refused before any work.
pub(super) fn settle_chart_output(command: &str, chart: ChartArg, output: &mut OutputArgs) -> Result<()> {
    let name = kind(chart).name();
    if let Some(format) = output.format_flag {
        return Err(UserError(format!(
            "`{command} --chart {name}` draws an image into --out FILE.svg or FILE.png; --format {} does not apply \
             (leave out --chart to write {})",
            format.name(),
            format.name()
        ))
        .into());
    }
    let Some(path) = &output.out else {
        return Err(UserError(format!(
            "`{command} --chart {name}` needs --out FILE.svg or FILE.png (the chart is an image, not text)"
        ))
        .into());
    };
    image_format(path)?;
    super::check_out_path(path)
}

/// The image format `--out`'s extension names: true for SVG, false for PNG.
fn image_format(path: &Path) -> Result<bool> {
    match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
        Some("svg") => Ok(true),
        Some("png") => Ok(false),
        _ => Err(UserError(format!(
            "--out {}: a chart is written as .svg or .png; end the name in one of them",
            path.display()
        ))
        .into()),
    }
}

/// What of a frame a chart draws.
pub(crate) struct ChartSpec<'a> {
    pub title: String,
    /// The x column: a date column (a time axis) or any other (categories).
    pub x: &'a str,
    /// The numeric columns drawn (one series each; with `group`, exactly one).
    pub values: &'a [&'a str],
    /// A column whose values become the series (a breakdown).
    pub group: Option<&'a str>,
    pub y_label: String,
    /// Multiplies every value (100 for rates shown as %).
    pub scale: f64,
}

fn column_error(df: &DataFrame, name: &str) -> anyhow::Error {
    let names: Vec<String> = df.get_column_names().iter().map(|n| n.to_string()).collect();
    UserError(format!("cannot chart unknown column `{name}`; choose one of: {}", names.join(", "))).into()
}

fn text(value: AnyValue) -> String {
    match value {
        AnyValue::Null => String::new(),
        AnyValue::String(s) => s.to_owned(),
        AnyValue::StringOwned(s) => s.to_string(),
        other => other.to_string(),
    }
}

fn numbers(df: &DataFrame, name: &str, scale: f64) -> Result<Vec<Option<f64>>> {
    let column = df.column(name).map_err(|_| column_error(df, name))?;
    let values = column.cast(&DataType::Float64).map_err(|_| {
        UserError(format!("cannot chart column `{name}`: its values are not numbers ({})", column.dtype()))
    })?;
    Ok(values.f64()?.iter().map(|v| v.map(|v| v * scale)).collect())
}

/// A frame as a chart: the x column's distinct values in the frame's order, and a series
/// per value column — or, with `group`, per group value (sorted), aligned on x.
pub(crate) fn frame_chart(df: &DataFrame, spec: ChartSpec) -> Result<Chart> {
    let x_column = df.column(spec.x).map_err(|_| column_error(df, spec.x))?;
    let is_date = matches!(x_column.dtype(), DataType::Date);
    let x_text: Vec<String> = (0..df.height()).map(|i| x_column.get(i).map(text).unwrap_or_default()).collect();
    let mut order: Vec<String> = Vec::new();
    let mut position = std::collections::HashMap::new();
    for value in &x_text {
        if !position.contains_key(value) {
            position.insert(value.clone(), order.len());
            order.push(value.clone());
        }
    }
    let x = if is_date {
        let dates = order
            .iter()
            .map(|d| d.parse().map_err(|_| anyhow::anyhow!("`{}` holds `{d}`, not a date", spec.x)))
            .collect::<Result<Vec<_>>>()?;
        Axis::Dates(dates)
    } else {
        Axis::Categories(order.iter().map(|c| if c.is_empty() { "(none)".to_owned() } else { c.clone() }).collect())
    };
    let mut series = Vec::new();
    match spec.group {
        None => {
            for name in spec.values {
                let values = numbers(df, name, spec.scale)?;
                let mut aligned = vec![None; order.len()];
                for (i, v) in values.into_iter().enumerate() {
                    aligned[position[&x_text[i]]] = v;
                }
                series.push(Series { name: (*name).to_owned(), values: aligned });
            }
        }
        Some(group) => {
            let group_column = df.column(group).map_err(|_| column_error(df, group))?;
            let groups: Vec<String> =
                (0..df.height()).map(|i| group_column.get(i).map(text).unwrap_or_default()).collect();
            let mut names: Vec<String> = groups.clone();
            names.sort();
            names.dedup();
            let value = spec.values.first().copied().unwrap_or_default();
            let values = numbers(df, value, spec.scale)?;
            for name in names {
                let mut aligned = vec![None; order.len()];
                for (i, v) in values.iter().enumerate() {
                    if groups[i] == name {
                        aligned[position[&x_text[i]]] = *v;
                    }
                }
                let label = if name.is_empty() { "(none)".to_owned() } else { name };
                series.push(Series { name: label, values: aligned });
            }
        }
    }
    Ok(Chart {
        title: spec.title,
        x_label: spec.x.to_owned(),
        x,
        y_label: spec.y_label,
        series,
        group_by: spec.group.map(str::to_owned),
    })
}

/// A chart error as the CLI reports it: a kind that does not fit, or nothing to draw, is
/// the user's (exit 1); a failing drawing backend is not.
pub(crate) fn chart_error(error: ChartError) -> anyhow::Error {
    match error {
        ChartError::Draw(_) => anyhow::Error::new(error),
        other => UserError(other.to_string()).into(),
    }
}

/// Draws `chart` as `kind` into `path` (.svg or .png).
pub(crate) fn write_chart(chart: &Chart, kind: Kind, path: &Path) -> Result<()> {
    if image_format(path)? {
        let svg = churnlake_charts::render_svg(chart, kind).map_err(chart_error)?;
        std::fs::write(path, svg)
            .map_err(|e| UserError(format!("--out {}: cannot write the chart: {e}", path.display())))?;
    } else {
        let png = churnlake_charts::render_png(chart, kind).map_err(chart_error)?;
        std::fs::write(path, png)
            .map_err(|e| UserError(format!("--out {}: cannot write the chart: {e}", path.display())))?;
    }
    Ok(())
}
