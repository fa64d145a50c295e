//! One source file, bytes in, Parquet files out: decode, split into records, type the
//! rows of its kind, check that every row read is accounted for, encode.
//!
//! This is the CPU-bound part of an ingest; it runs on a blocking thread and touches no
//! storage, so the same bytes always give the same outputs. Its outputs are named by the
//! lake's layout (`churnlake_lake::output_stem` and the path builders), never here.
//!
//! In the chain: called by [`crate::run`]; imports the kinds' parsers ([`crate::kinds`]) and
//! the leaves below them ([`crate::decode`], [`crate::records`], [`crate::table`], which
//! encodes the tables as they are typed); nothing below imports it.

use chrono::{NaiveDate, NaiveDateTime};

use churnlake_lake::{OutputFile, QUARANTINE_DIR, ReportKind, output_stem, quarantine_file_path, raw_file_path};

use crate::IngestError;
use crate::decode::decode;
use crate::kinds::{events, generic, report};
use crate::pii::Masker;
use crate::records::{Records, read_first_records};
use crate::table::{EncodeError, Lineage};

/// A source file to parse: its name, kind, stamp and content hash.
#[derive(Debug, Clone)]
pub(crate) struct SourceFile {
    pub name: String,
    pub kind: ReportKind,
    pub stamp: NaiveDateTime,
    pub data_date: NaiveDate,
    pub content_hash: String,
    /// What the run writes for personal data.
    pub pii: Masker,
}

/// Whether a file has a data row: a record after the header (or an unreadable first
/// record) for the header kinds, a record that is not a header line for subscriber events.
/// Reads two records at most. A file without one (zero bytes, header only) is an empty
/// drop: it is never a duplicate of another (empty drops of different days look alike).
pub(crate) fn has_data_rows(kind: ReportKind, bytes: &[u8]) -> bool {
    let decoded = decode(bytes);
    let first = read_first_records(&decoded.text, 2);
    match (kind, first.as_slice()) {
        (_, []) => false,
        (ReportKind::SubscriberEvents, [only]) => !events::is_header(only),
        (_, [only]) => only.defect.is_some(),
        _ => true,
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
    /// What was repaired or guessed while reading (invalid UTF-8 bytes replaced, a column
    /// named twice), with the line (and byte offset).
    pub warnings: Vec<String>,
    /// The kind's table (when it has rows), then the quarantine (when it has rows).
    pub outputs: Vec<EncodedOutput>,
}

/// Parses, types and encodes one file.
pub(crate) fn parse_file(file: &SourceFile, bytes: &[u8]) -> Result<ParsedFile, IngestError> {
    let decoded = decode(bytes);
    let mut warnings = replaced_bytes(bytes, &decoded.replaced);
    warnings.extend(windows_1252_lines(bytes, &decoded.windows_1252_lines));
    let records = Records::new(&decoded.text);
    let lineage = Lineage { source_file: file.name.clone(), report_kind: file.kind, drop_stamp: file.stamp };
    let arrow_error = |table: &str| {
        let (file, table) = (file.name.clone(), table.to_owned());
        move |source| IngestError::Arrow { file, table, source }
    };
    let mut typed = match file.kind {
        ReportKind::Subscriptions | ReportKind::Cancellations => report::parse(records, &lineage, &file.pii),
        ReportKind::SubscriberEvents => events::parse(records, &lineage, &file.pii),
        ReportKind::Orders | ReportKind::Inventory | ReportKind::CrmSubscriptions => {
            generic::parse(records, &lineage, &file.pii)
        }
    }
    .map_err(arrow_error(file.kind.as_str()))?;

    warnings.append(&mut typed.warnings);
    let rows_written = typed.table.rows();
    let rows_quarantined = typed.quarantine.rows();
    let failure = match (typed.failure, typed.quarantine.first()) {
        (None, Some((line, rejection))) if rows_written == 0 => Some(IngestError::NothingTyped {
            file: file.name.clone(),
            kind: file.kind,
            rows: rows_quarantined,
            line: *line,
            column: rejection.column.clone(),
            value: rejection.value.clone(),
            reason: rejection.reason.clone(),
        }),
        (failure, _) => failure,
    };
    if typed.rows_read != rows_written + rows_quarantined {
        return Err(IngestError::Accounting {
            file: file.name.clone(),
            rows_read: typed.rows_read,
            rows_written,
            rows_quarantined,
        });
    }

    let stem = output_stem(file.kind, &file.content_hash);
    let tables = [
        (
            file.kind.as_str(),
            raw_file_path(file.kind.as_str(), file.data_date, &stem),
            rows_written,
            typed.table.encode(),
        ),
        (QUARANTINE_DIR, quarantine_file_path(file.data_date, &stem), rows_quarantined, typed.quarantine.encode()),
    ];
    let mut outputs = Vec::new();
    for (table, path, rows, encoded) in tables {
        let bytes = match encoded {
            Ok(Some(bytes)) => bytes,
            Ok(None) => continue,
            Err(EncodeError::Arrow(source)) => return Err(arrow_error(table)(source)),
            Err(EncodeError::Parquet(source)) => {
                return Err(IngestError::Encode { file: file.name.clone(), table: table.to_owned(), source });
            }
        };
        outputs.push(EncodedOutput { file: OutputFile { table: table.to_owned(), path, rows }, bytes });
    }
    Ok(ParsedFile {
        encoding: decoded.encoding,
        layout: typed.layout,
        rows_read: typed.rows_read,
        rows_written,
        rows_quarantined,
        failure,
        warnings,
        outputs,
    })
}

/// Warnings shown for at most this many replaced byte sequences of a file (then a count).
const REPLACED_SHOWN: usize = 10;

/// One warning per replaced invalid UTF-8 sequence (the first ten, then how many more):
/// its line (1-based) and byte offset in the file.
fn replaced_bytes(bytes: &[u8], offsets: &[usize]) -> Vec<String> {
    warnings_at(bytes, offsets, "invalid UTF-8 sequences replaced", |offset| {
        let byte = bytes.get(offset).copied().unwrap_or_default();
        format!("invalid UTF-8 byte 0x{byte:02X} replaced by U+FFFD (the file is read as UTF-8)")
    })
}

/// One warning per line read as Windows-1252 in a file otherwise UTF-8 (the first ten,
/// then how many more): its line (1-based) and byte offset.
fn windows_1252_lines(bytes: &[u8], offsets: &[usize]) -> Vec<String> {
    warnings_at(bytes, offsets, "lines read as Windows-1252", |_| {
        "not UTF-8, read as Windows-1252 (the file's other lines are UTF-8)".to_owned()
    })
}

/// `line L, byte offset O: <what>` for the first [`REPLACED_SHOWN`] of `offsets` (in
/// ascending order), then `… and N more <rest>`.
fn warnings_at(bytes: &[u8], offsets: &[usize], rest: &str, what: impl Fn(usize) -> String) -> Vec<String> {
    let mut warnings = Vec::new();
    let (mut line, mut counted_to) = (1, 0);
    for &offset in offsets.iter().take(REPLACED_SHOWN) {
        line += bytes.get(counted_to..offset).map_or(0, |seen| seen.iter().filter(|b| **b == b'\n').count());
        counted_to = offset;
        warnings.push(format!("line {line}, byte offset {offset}: {}", what(offset)));
    }
    if offsets.len() > REPLACED_SHOWN {
        warnings.push(format!("… and {} more {rest}", offsets.len() - REPLACED_SHOWN));
    }
    warnings
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;

    fn source(kind: ReportKind) -> SourceFile {
        let data_date = NaiveDate::from_ymd_opt(2023, 5, 1).unwrap_or_default();
        SourceFile {
            name: format!("acme_{kind}_20230502.csv"),
            kind,
            stamp: data_date.and_time(chrono::NaiveTime::MIN),
            data_date,
            content_hash: "0123456789abcdef0123".to_owned(),
            pii: Masker::keep(),
        }
    }

    #[test]
    fn data_rows_are_found_as_parsing_counts_them() {
        use ReportKind::*;
        let cases: [(ReportKind, &str, bool); 10] = [
            (Subscriptions, "", false),
            (Subscriptions, "Subscription ID,Price\r\n\r\n", false),
            (Subscriptions, "Subscription ID,Price\n1,2.00\n", true),
            (Subscriptions, "\"Subscription ID,Price\n", true), // an unreadable header is a row
            (Orders, "Order ID\n", false),
            (Orders, "Order ID\n\nA-1\n", true),
            (SubscriberEvents, "Public Subscription ID,User,Email,Event Code,Event Date\n", false),
            (SubscriberEvents, "ab01,M-1,a@x.com,9,05/02/2023\n", true),
            (SubscriberEvents, "ab01,M-1,a@x.com,nine,someday\n", true),
            (SubscriberEvents, "\n\n", false),
        ];
        for (kind, text, expected) in cases {
            assert_eq!(has_data_rows(kind, text.as_bytes()), expected, "{kind}: {text:?}");
            let parsed = parse_file(&source(kind), text.as_bytes()).expect("parses");
            assert_eq!(parsed.rows_read > 0, expected, "{kind}: {text:?}");
        }
    }

    #[test]
    fn a_file_none_of_whose_rows_types_fails_naming_the_file_line_column_and_value() {
        let text = "Subscription ID,Price\n1,12.505\n2,abc\n";
        let parsed = parse_file(&source(ReportKind::Subscriptions), text.as_bytes()).expect("parses");
        assert_eq!((parsed.rows_read, parsed.rows_written, parsed.rows_quarantined), (2, 0, 2));
        let message = parsed.failure.map(|f| f.to_string()).unwrap_or_default();
        assert_eq!(
            message,
            "acme_subscriptions_20230502.csv: none of its 2 rows could be read as subscriptions (all are in the \
             quarantine); the first, line 2: column `Price`, value `12.505`: has more than 2 decimal places \
             (12.505); money is kept to the cent"
        );
        let some_typed = parse_file(&source(ReportKind::Subscriptions), b"Subscription ID,Price\n1,1\n2,x\n");
        assert!(some_typed.expect("parses").failure.is_none(), "one row typed: not a failure");
    }
}
