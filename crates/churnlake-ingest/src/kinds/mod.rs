//! Typing the records of one file as its kind: the toolkit every kind's parser uses
//! ([`Typed`], [`type_rows`], [`fail_file`], [`fail_unreadable_header`], and
//! [`normalise_header`], how header names are compared), and the parsers themselves,
//! one per group of kinds: [`report`], [`events`], [`generic`].
//!
//! In the chain: [`crate::file`] picks the parser of a file's kind; the parsers import
//! this toolkit; the toolkit imports only [`crate::records`], [`crate::table`] and the
//! error type. Nothing here imports a parser or anything above it.

pub(crate) mod events;
pub(crate) mod generic;
pub(crate) mod report;

use arrow::error::ArrowError;

use crate::IngestError;
use crate::pii::{FileMask, Masker};
use crate::records::Record;
use crate::table::{Lineage, Quarantine, Rejection, TableBuilder, Value};

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
    /// What the file should be looked at for although every row is accounted for (a
    /// header naming a column twice).
    pub warnings: Vec<String>,
}

impl Typed {
    /// A file without records: a valid empty drop.
    pub fn empty(table: TableBuilder) -> Result<Typed, ArrowError> {
        Ok(Typed {
            table,
            quarantine: Quarantine::new()?,
            rows_read: 0,
            layout: None,
            failure: None,
            warnings: Vec::new(),
        })
    }
}

/// A file that cannot be read as its kind: every record goes to the quarantine with
/// `rejection`, and the file fails with `failure`.
pub(crate) fn fail_file<'t>(
    records: impl IntoIterator<Item = Record<'t>>,
    table: TableBuilder,
    lineage: &Lineage,
    mask: &FileMask<'_>,
    rejection: Rejection,
    failure: IngestError,
) -> Result<Typed, ArrowError> {
    let mut typed = type_rows(records, table, lineage, mask, |_| Err(rejection.clone()))?;
    typed.failure = Some(failure);
    Ok(typed)
}

/// A header that cannot be split (the whole file is in it), for `defect`: the file fails
/// and every record (`header`, then the rest of the file's, `rest`) is quarantined as it is.
pub(crate) fn fail_unreadable_header<'t>(
    header: Record<'t>,
    defect: String,
    rest: impl IntoIterator<Item = Record<'t>>,
    table: TableBuilder,
    lineage: &Lineage,
    pii: &Masker,
) -> Result<Typed, ArrowError> {
    let failure =
        IngestError::UnreadableHeader { file: lineage.source_file.clone(), line: header.line, reason: defect.clone() };
    let records = std::iter::once(header).chain(rest);
    fail_file(records, table, lineage, &FileMask::unknown(pii), Rejection::row(defect), failure)
}

/// Columns a header may have: a wider file fails alone (a 100,000-column file would
/// otherwise take gigabytes to type), its records in the quarantine.
pub(crate) const MAX_COLUMNS: usize = 2_000;

/// Whether a header is wider than [`MAX_COLUMNS`] (see [`fail_wide_header`]).
pub(crate) fn is_too_wide(header: &Record) -> bool {
    header.fields.len() > MAX_COLUMNS
}

/// A header wider than [`MAX_COLUMNS`]: the file fails, every record (`header` too, then
/// the rest of the file's, `rest`) is quarantined.
pub(crate) fn fail_wide_header<'t>(
    header: Record<'t>,
    rest: impl IntoIterator<Item = Record<'t>>,
    table: TableBuilder,
    lineage: &Lineage,
    pii: &Masker,
) -> Result<Typed, ArrowError> {
    let columns = header.fields.len();
    let failure = IngestError::TooManyColumns {
        file: lineage.source_file.clone(),
        line: header.line,
        columns,
        limit: MAX_COLUMNS,
    };
    let rejection =
        Rejection::row(format!("the file's header has {columns} columns, more than the {MAX_COLUMNS} a file may have"));
    let records = std::iter::once(header).chain(rest);
    fail_file(records, table, lineage, &FileMask::unknown(pii), rejection, failure)
}

/// Why a record holding a NUL byte is quarantined.
const NUL_IN_RECORD: &str = "the record holds a NUL byte (U+0000): a corrupt record";

/// Types every record with `type_row`; rows it rejects, defective records and records
/// holding a NUL byte go to the quarantine with the reason, their personal data masked
/// by `mask` (in the raw record, the value and the reason).
pub(crate) fn type_rows<'t>(
    records: impl IntoIterator<Item = Record<'t>>,
    mut table: TableBuilder,
    lineage: &Lineage,
    mask: &FileMask<'_>,
    mut type_row: impl FnMut(&Record<'t>) -> Result<Vec<Value>, Rejection>,
) -> Result<Typed, ArrowError> {
    let mut quarantine = Quarantine::new()?;
    let mut rows_read = 0;
    for record in records {
        rows_read += 1;
        let typed = match &record.defect {
            Some(defect) => Err(Rejection::row(defect.clone())),
            // NUL is never text in a CSV export: a record that types but holds one is corrupt
            // (and NULs break readers); one that does not type keeps its own reason
            None => type_row(&record).and_then(|values| match record.raw.contains('\0') {
                true => Err(Rejection::row(NUL_IN_RECORD.to_owned())),
                false => Ok(values),
            }),
        };
        match typed {
            Ok(values) => table.push(values.into_iter().chain(lineage.values(record.line)))?,
            Err(rejection) => {
                quarantine.push(mask.rejection(rejection), &mask.raw_record(&record), lineage, record.line)?
            }
        }
    }
    Ok(Typed { table, quarantine, rows_read, layout: None, failure: None, warnings: Vec::new() })
}

/// How a header name is compared (by the reports' column names and the events' header
/// line): its letters and digits only, in lower case (`Frequency(days)` → `frequencydays`).
pub(crate) fn normalise_header(header: &str) -> String {
    header.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect()
}
