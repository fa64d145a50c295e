//! Writing result frames: an aligned table for terminals, CSV, JSON (an array of
//! objects; decimals as exact strings, dates as `YYYY-MM-DD`) or Parquet. Presentation
//! lives here, in the command line; the libraries return frames and values.
//!
//! Timestamps have one format in every text output (table, CSV, JSON): RFC 3339,
//! `YYYY-MM-DDTHH:MM:SS`, fractional seconds only when there are some, and `Z` after
//! churnlake's own UTC times (`ingested_at`); the platform's times carry no zone. It is
//! the format serde gives chrono's values, so JSON written by serialising agrees.

use std::io::Write;

use polars::prelude::*;

use anyhow::Result;
use churnlake_query::Explanation;

/// Attaches what was being written to polars errors: `.ctx("writing CSV")?`.
trait Ctx<T> {
    fn ctx(self, what: &'static str) -> Result<T>;
}

impl<T> Ctx<T> for PolarsResult<T> {
    fn ctx(self, what: &'static str) -> Result<T> {
        self.map_err(|e| anyhow::Error::new(e).context(what))
    }
}

/// Wall-clock timestamps (the platform's, without a zone) in every text output.
pub const TIMESTAMP_FORMAT: &str = "%Y-%m-%dT%H:%M:%S%.f";

/// A wall-clock timestamp as text: `2023-05-02T06:02:11`.
pub fn timestamp(at: chrono::NaiveDateTime) -> String {
    at.format(TIMESTAMP_FORMAT).to_string()
}

/// A UTC instant as text: `2023-05-02T06:02:11.123Z` (what serde writes for it too).
pub fn instant(at: chrono::DateTime<chrono::Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

/// How a result is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    Table,
    Csv,
    Json,
    Parquet,
}

/// Writes `df` to `out` in `format`.
pub fn write_frame(df: &mut DataFrame, format: OutputFormat, out: &mut dyn Write) -> Result<()> {
    write_frame_with(df, format, out, &[])
}

/// [`write_frame`] with file-level key-value `metadata` (Parquet only).
pub fn write_frame_with(
    df: &mut DataFrame,
    format: OutputFormat,
    out: &mut dyn Write,
    metadata: &[(String, String)],
) -> Result<()> {
    let mut text;
    let df = match format {
        OutputFormat::Parquet => df,
        _ => {
            text = timestamps_as_text(df)?;
            &mut text
        }
    };
    match format {
        OutputFormat::Csv => CsvWriter::new(out).include_header(true).finish(df).ctx("writing CSV"),
        OutputFormat::Parquet => {
            let mut buffer = Vec::new();
            let pairs = (!metadata.is_empty()).then(|| KeyValueMetadata::from_static(metadata.to_vec()));
            ParquetWriter::new(&mut buffer)
                .with_compression(ParquetCompression::Zstd(None))
                .with_key_value_metadata(pairs)
                .finish(df)
                .ctx("writing Parquet")?;
            out.write_all(&buffer)?;
            Ok(())
        }
        OutputFormat::Json => {
            let rows = frame_to_json_rows(df)?;
            serde_json::to_writer_pretty(&mut *out, &rows).map_err(std::io::Error::from)?;
            writeln!(out)?;
            Ok(())
        }
        OutputFormat::Table => write_table(df, out),
    }
}

/// The frame with its timestamp columns as text in [`TIMESTAMP_FORMAT`] (for the text
/// formats: polars' CSV writer and its cell display would each write another one).
fn timestamps_as_text(df: &DataFrame) -> Result<DataFrame> {
    let columns: Vec<Expr> = df
        .columns()
        .iter()
        .filter(|c| matches!(c.dtype(), DataType::Datetime(..)))
        .map(|c| col(c.name().clone()).dt().strftime(TIMESTAMP_FORMAT))
        .collect();
    if columns.is_empty() {
        return Ok(df.clone());
    }
    df.clone().lazy().with_columns(columns).collect().ctx("formatting timestamps")
}

/// One Parquet file (zstd) written part by part, each part its own row groups, into
/// memory: how `churnlake build` writes a table computed in passes without holding it whole.
#[derive(Default)]
pub struct ParquetParts {
    buffer: SharedBuffer,
    writer: Option<polars::io::parquet::write::BatchedWriter<SharedBuffer>>,
}

impl ParquetParts {
    pub fn new() -> ParquetParts {
        ParquetParts::default()
    }

    /// Appends `df` (every part must have the first part's schema).
    pub fn write(&mut self, df: &DataFrame) -> Result<()> {
        if self.writer.is_none() {
            let writer = ParquetWriter::new(self.buffer.clone())
                .with_compression(ParquetCompression::Zstd(None))
                .batched(df.schema())
                .ctx("starting a Parquet file")?;
            self.writer = Some(writer);
        }
        match self.writer.as_mut() {
            Some(writer) => writer.write_batch(df).ctx("writing Parquet"),
            None => Ok(()),
        }
    }

    /// The file's bytes (`None` when no part was written).
    pub fn finish(self) -> Result<Option<Vec<u8>>> {
        let Some(writer) = self.writer else { return Ok(None) };
        writer.finish().ctx("finishing a Parquet file")?;
        drop(writer);
        let mut bytes = self.buffer.0.lock().map_err(|_| std::io::Error::other("a Parquet buffer was poisoned"))?;
        Ok(Some(std::mem::take(&mut *bytes)))
    }
}

/// A `Write` into shared bytes (polars' batched writer owns its writer).
#[derive(Clone, Default)]
struct SharedBuffer(Arc<std::sync::Mutex<Vec<u8>>>);

impl Write for SharedBuffer {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        let mut bytes = self.0.lock().map_err(|_| std::io::Error::other("a Parquet buffer was poisoned"))?;
        bytes.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn cell(value: &AnyValue) -> String {
    match value {
        AnyValue::Null => String::new(),
        AnyValue::String(s) => (*s).to_owned(),
        AnyValue::StringOwned(s) => s.to_string(),
        other => other.to_string(),
    }
}

/// The frame as JSON objects, one per row, keys in column order.
pub fn frame_to_json_rows(df: &DataFrame) -> Result<Vec<serde_json::Map<String, serde_json::Value>>> {
    let columns = df.columns();
    let mut rows = Vec::with_capacity(df.height());
    for i in 0..df.height() {
        let mut row = serde_json::Map::new();
        for column in columns {
            let value = column.get(i).ctx("reading a cell")?;
            let json = match &value {
                AnyValue::Null => serde_json::Value::Null,
                AnyValue::Boolean(b) => (*b).into(),
                AnyValue::Int8(_)
                | AnyValue::Int16(_)
                | AnyValue::Int32(_)
                | AnyValue::Int64(_)
                | AnyValue::UInt8(_)
                | AnyValue::UInt16(_)
                | AnyValue::UInt32(_)
                | AnyValue::UInt64(_) => value.extract::<i64>().map(Into::into).unwrap_or(serde_json::Value::Null),
                AnyValue::Float32(_) | AnyValue::Float64(_) => {
                    value.extract::<f64>().map(Into::into).unwrap_or(serde_json::Value::Null)
                }
                other => cell(other).into(),
            };
            row.insert(column.name().to_string(), json);
        }
        rows.push(row);
    }
    Ok(rows)
}

fn write_table(df: &DataFrame, out: &mut dyn Write) -> Result<()> {
    let columns = df.columns();
    let headers: Vec<String> = columns.iter().map(|c| c.name().to_string()).collect();
    let numeric: Vec<bool> =
        columns.iter().map(|c| c.dtype().is_primitive_numeric() || c.dtype().is_decimal()).collect();
    let mut rows = Vec::with_capacity(df.height());
    for i in 0..df.height() {
        rows.push(
            columns.iter().map(|c| c.get(i).map(|v| cell(&v))).collect::<Result<Vec<_>, _>>().ctx("reading a cell")?,
        );
    }
    write_text_table(out, &headers, &rows, &numeric)?;
    Ok(())
}

/// An aligned text table with a rule under the header; `right` aligns numeric columns.
pub fn write_text_table(
    out: &mut dyn Write,
    headers: &[String],
    rows: &[Vec<String>],
    right: &[bool],
) -> std::io::Result<()> {
    // a newline, tab or other control character inside a value would break the table:
    // each is shown escaped (`\n`, `\t`, `\r`, `\u{1b}`)
    let escaped_headers: Vec<String> = headers.iter().map(|h| escape_control(h)).collect();
    let escaped_rows: Vec<Vec<String>> = rows.iter().map(|r| r.iter().map(|c| escape_control(c)).collect()).collect();
    let (headers, rows) = (&escaped_headers[..], &escaped_rows[..]);
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: &[String], align: bool| -> String {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .zip(right.iter().chain(std::iter::repeat(&false)))
            .map(|((c, w), r)| if align && *r { format!("{c:>w$}") } else { format!("{c:<w$}") })
            .collect();
        padded.join("  ").trim_end().to_owned()
    };
    writeln!(out, "{}", line(headers, false))?;
    let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
    writeln!(out, "{}", line(&rule, false))?;
    for row in rows {
        writeln!(out, "{}", line(row, true))?;
    }
    Ok(())
}

/// `text` with its control characters escaped: `\n`, `\r`, `\t`, others as `\u{XX}`.
pub fn escape_control(text: &str) -> String {
    if !text.chars().any(char::is_control) {
        return text.to_owned();
    }
    let mut escaped = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => escaped.push_str("\\n"),
            '\r' => escaped.push_str("\\r"),
            '\t' => escaped.push_str("\\t"),
            c if c.is_control() => escaped.push_str(&format!("\\u{{{:x}}}", u32::from(c))),
            c => escaped.push(c),
        }
    }
    escaped
}

/// A subscription's explanation as text: one line per event (date or time, event, state
/// after it, source file and line, the day it took effect when moved), anomalies under it.
pub fn write_explanation(out: &mut dyn Write, explanation: &Explanation) -> std::io::Result<()> {
    let e = explanation;
    writeln!(
        out,
        "subscription {}: created {}, {} at the end of {}",
        escape_control(&e.subscription_id),
        e.created_date,
        e.current_status,
        e.as_of
    )?;
    for event in &e.events {
        let when = match event.at {
            Some(at) => timestamp(at),
            None => event.date.to_string(),
        };
        let moved = if event.effective_date != event.date {
            format!(" (applied on {})", event.effective_date)
        } else {
            String::new()
        };
        writeln!(
            out,
            "  {when:<19}  {:<12} -> {:<8}  {}:{}{moved}",
            event.event,
            event.state_after,
            escape_control(&event.source_file),
            event.source_line
        )?;
        if let Some(anomaly) = &event.anomaly {
            writeln!(out, "  {:<19}  ! {anomaly}", "")?;
        }
    }
    Ok(())
}
