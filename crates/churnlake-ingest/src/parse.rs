//! One source file, bytes in, Parquet files out: decode, split into records, type the
//! rows of its kind, check that every row read is accounted for, encode.
//!
//! This is the CPU-bound part of an ingest; it runs on a blocking thread and touches no
//! storage, so the same bytes always give the same outputs.

use arrow::error::ArrowError;
use chrono::{NaiveDate, NaiveDateTime};

use churnlake_lake::{OutputFile, QUARANTINE_DIR, ReportKind, quarantine_file_path, raw_file_path};

use crate::IngestError;
use crate::decode::decode;
use crate::encode::to_parquet;
use crate::records::{Record, read_records};
use crate::table::{Lineage, Quarantine, Rejection, TableBuilder, Value};
use crate::{events, generic, report};

/// What a kind's parser made of a file's records.
pub(crate) struct Typed {
    /// The kind's table (rows that typed).
    pub table: TableBuilder,
    /// Rows that did not.
    pub quarantine: Quarantine,
    /// Data records seen (blank lines and a detected header excluded).
    pub rows_read: u64,
    /// The detected layout (subscriber events).
    pub layout: Option<String>,
    /// Why the file as a whole could not be read as its kind (its rows are quarantined).
    pub failure: Option<IngestError>,
}

impl Typed {
    /// A file without records: a valid empty drop.
    pub fn empty(table: TableBuilder) -> Result<Typed, ArrowError> {
        Ok(Typed { table, quarantine: Quarantine::new()?, rows_read: 0, layout: None, failure: None })
    }
}

/// A file that cannot be read as its kind: every record goes to the quarantine with
/// `rejection`, and the file fails with `failure`.
pub(crate) fn fail_file(
    records: &[Record],
    table: TableBuilder,
    lineage: &Lineage,
    rejection: Rejection,
    failure: IngestError,
) -> Result<Typed, ArrowError> {
    let mut typed = type_rows(records, table, lineage, |_| Err(rejection.clone()))?;
    typed.failure = Some(failure);
    Ok(typed)
}

/// A header that cannot be split (the whole file is in it): the file fails and every
/// record is quarantined as it is.
pub(crate) fn fail_unreadable_header(
    records: &[Record],
    header: &Record,
    defect: &str,
    table: TableBuilder,
    lineage: &Lineage,
) -> Result<Typed, ArrowError> {
    let failure = IngestError::UnreadableHeader {
        file: lineage.source_file.clone(),
        line: header.line,
        reason: defect.to_owned(),
    };
    fail_file(records, table, lineage, Rejection::row(defect.to_owned()), failure)
}

/// Types every record with `type_row`; rows it rejects, and defective records, go to the
/// quarantine with the reason.
pub(crate) fn type_rows(
    records: &[Record],
    mut table: TableBuilder,
    lineage: &Lineage,
    mut type_row: impl FnMut(&Record) -> Result<Vec<Value>, Rejection>,
) -> Result<Typed, ArrowError> {
    let mut quarantine = Quarantine::new()?;
    for record in records {
        let typed = match &record.defect {
            Some(defect) => Err(Rejection::row(defect.clone())),
            None => type_row(record),
        };
        match typed {
            Ok(values) => table.push(values.into_iter().chain(lineage.values(record.line)))?,
            Err(rejection) => quarantine.push(rejection, &record.raw, lineage, record.line)?,
        }
    }
    Ok(Typed { table, quarantine, rows_read: records.len() as u64, layout: None, failure: None })
}

/// A source file to parse: its name, kind, stamp and content hash.
#[derive(Debug, Clone)]
pub(crate) struct SourceFile {
    pub name: String,
    pub kind: ReportKind,
    pub stamp: NaiveDateTime,
    pub data_date: NaiveDate,
    pub content_hash: String,
}

impl SourceFile {
    /// `<kind>-<first 16 hex of the content hash>`: the stem of every output file.
    pub fn stem(&self) -> String {
        format!("{}-{}", self.kind, self.content_hash.get(..16).unwrap_or(&self.content_hash))
    }
}

/// A Parquet file ready to publish.
pub(crate) struct EncodedOutput {
    pub file: OutputFile,
    pub bytes: Vec<u8>,
}

/// Everything parsing a file produced.
pub(crate) struct ParsedFile {
    pub encoding: &'static str,
    pub layout: Option<String>,
    pub rows_read: u64,
    pub rows_written: u64,
    pub rows_quarantined: u64,
    pub failure: Option<IngestError>,
    /// The kind's table (when it has rows), then the quarantine (when it has rows).
    pub outputs: Vec<EncodedOutput>,
}

/// Parses, types and encodes one file.
pub(crate) fn parse_file(file: &SourceFile, bytes: &[u8]) -> Result<ParsedFile, IngestError> {
    let decoded = decode(bytes);
    let records = read_records(&decoded.text);
    let lineage = Lineage { source_file: file.name.clone(), report_kind: file.kind, drop_stamp: file.stamp };
    let arrow_error = |table: &str| {
        let (file, table) = (file.name.clone(), table.to_owned());
        move |source| IngestError::Arrow { file, table, source }
    };
    let typed = match file.kind {
        ReportKind::Subscriptions | ReportKind::Cancellations => report::parse(&records, &lineage),
        ReportKind::SubscriberEvents => events::parse(&records, &lineage),
        ReportKind::Orders | ReportKind::Inventory | ReportKind::CrmSubscriptions => generic::parse(&records, &lineage),
    }
    .map_err(arrow_error(file.kind.as_str()))?;

    let rows_written = typed.table.rows();
    let rows_quarantined = typed.quarantine.rows();
    if typed.rows_read != rows_written + rows_quarantined {
        return Err(IngestError::Accounting {
            file: file.name.clone(),
            rows_read: typed.rows_read,
            rows_written,
            rows_quarantined,
        });
    }

    let stem = file.stem();
    let tables = [
        (
            file.kind.as_str(),
            raw_file_path(file.kind.as_str(), file.data_date, &stem),
            typed.table.finish().map_err(arrow_error(file.kind.as_str()))?,
        ),
        (
            QUARANTINE_DIR,
            quarantine_file_path(file.data_date, &stem),
            typed.quarantine.finish().map_err(arrow_error(QUARANTINE_DIR))?,
        ),
    ];
    let mut outputs = Vec::new();
    for (table, path, batch) in tables {
        if batch.num_rows() == 0 {
            continue;
        }
        let bytes = to_parquet(&batch).map_err(|source| IngestError::Encode {
            file: file.name.clone(),
            table: table.to_owned(),
            source,
        })?;
        let rows = batch.num_rows() as u64;
        outputs.push(EncodedOutput { file: OutputFile { table: table.to_owned(), path, rows }, bytes });
    }
    Ok(ParsedFile {
        encoding: decoded.encoding,
        layout: typed.layout,
        rows_read: typed.rows_read,
        rows_written,
        rows_quarantined,
        failure: typed.failure,
        outputs,
    })
}
