//! The crate's one error type. Each variant says which file (and, where it applies,
//! which line, column or value) it is about.
//!
//! Rows that cannot be typed are not errors: they go to the quarantine. A file that
//! cannot be read as its kind fails alone (its outcome says why, the run goes on); the
//! errors that stop a run are the lake's (lock, storage) and internal ones.
//!
//! In the chain: the bottom; every module may use it, it imports nothing of this crate.

use churnlake_lake::{LakeError, ReportKind};

/// Errors of an ingest.
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// The lake could not be locked, read or written (boxed: storage errors are large).
    #[error(transparent)]
    Lake(Box<LakeError>),

    #[error("cannot list the drops at `{location}`: {source}")]
    List {
        location: String,
        #[source]
        source: Box<object_store::Error>,
    },

    #[error("no drop to ingest under `{location}`: {reason}")]
    NoDrops { location: String, reason: String },

    #[error("cannot read `{file}`: {source}")]
    ReadFile {
        file: String,
        #[source]
        source: std::io::Error,
    },

    #[error("{file}, line {line}: the header has {columns} columns, more than the {limit} a file may have")]
    TooManyColumns { file: String, line: u64, columns: usize, limit: usize },

    #[error("cannot read `{file}`: {source}")]
    Read {
        file: String,
        #[source]
        source: Box<object_store::Error>,
    },

    #[error("invalid name pattern for {kind} `{regex}`: {reason}")]
    Pattern { kind: ReportKind, regex: String, reason: String },

    #[error("invalid crash point `{value}`: {reason}")]
    CrashPoint { value: String, reason: String },

    #[error("{file}, line {line}: the header has no `{column}` column (found: {header})")]
    MissingColumn { file: String, line: u64, column: &'static str, header: String },

    #[error("{file}, line {line}: the header cannot be read: {reason}")]
    UnreadableHeader { file: String, line: u64, reason: String },

    /// A file with data rows none of which could be typed (all are in the quarantine).
    #[error(
        "{file}: none of its {rows} rows could be read as {kind} (all are in the quarantine); \
         the first, line {line}: {detail}",
        detail = describe_rejection(.column.as_deref(), .value.as_deref(), reason)
    )]
    NothingTyped {
        file: String,
        kind: ReportKind,
        rows: u64,
        /// The first row's line, and the column, value and reason it was rejected for.
        line: u64,
        column: Option<String>,
        value: Option<String>,
        reason: String,
    },

    #[error("cannot build the `{table}` rows of `{file}`: {source}")]
    Arrow {
        file: String,
        table: String,
        #[source]
        source: arrow::error::ArrowError,
    },

    #[error("cannot encode the `{table}` rows of `{file}` as Parquet: {source}")]
    Encode {
        file: String,
        table: String,
        #[source]
        source: parquet::errors::ParquetError,
    },

    #[error("cannot publish `{path}` for `{file}`: {source}")]
    Publish {
        file: String,
        path: String,
        #[source]
        source: Box<LakeError>,
    },

    #[error("cannot record `{file}` in the manifest: {source}")]
    Record {
        file: String,
        #[source]
        source: Box<LakeError>,
    },

    #[error(
        "internal error: `{file}`: {rows_read} rows read but {rows_written} written and \
         {rows_quarantined} quarantined"
    )]
    Accounting { file: String, rows_read: u64, rows_written: u64, rows_quarantined: u64 },

    #[error("internal error: processing `{file}` stopped: {reason}")]
    Task { file: String, reason: String },

    #[error("personal data key: {reason}")]
    PiiKey { reason: String },

    /// The run's personal-data policy is not the one the lake's files were written under.
    #[error(
        "the lake's files were written under pii = {lake} ({files} files), and this run's policy is pii = {run}: \
         a lake never mixes policies or keys. Run with the lake's policy and key, or rewrite every file under \
         the new one with `churnlake ingest SOURCE... --rewrite-pii` (SOURCE holding every file the lake holds)"
    )]
    PiiPolicyMismatch { lake: String, run: String, files: usize },

    /// `--rewrite-pii` without the sources of some of the lake's files.
    #[error(
        "--rewrite-pii: {missing} of the lake's {files} files written under another policy are not among the \
         sources (the first: `{first}`), so they cannot be rewritten; give sources that hold them, or rebuild the \
         lake from its drops into a new lake location"
    )]
    PiiRewriteMissing { missing: usize, files: usize, first: String },
}

/// A rejected row's column, value and reason (`column "Price", value "12.505": ...`), or
/// just the reason for a whole-row problem.
fn describe_rejection(column: Option<&str>, value: Option<&str>, reason: &str) -> String {
    const LIMIT: usize = 80;
    let value = value.map(|v| match v.char_indices().nth(LIMIT) {
        Some((cut, _)) => format!("{}…", &v[..cut]),
        None => v.to_owned(),
    });
    match (column, value) {
        (Some(column), Some(value)) => format!("column `{column}`, value `{value}`: {reason}"),
        (Some(column), None) => format!("column `{column}`: {reason}"),
        (None, _) => reason.to_owned(),
    }
}

impl From<LakeError> for IngestError {
    fn from(error: LakeError) -> Self {
        IngestError::Lake(Box::new(error))
    }
}

impl IngestError {
    /// True when the request is at fault (a source that cannot be listed, a bad name
    /// pattern or crash point, a lake location or lock problem), not the machine. Problems
    /// of one file's contents are not errors of the run: they are that file's outcome.
    pub fn is_user_error(&self) -> bool {
        match self {
            IngestError::Pattern { .. }
            | IngestError::CrashPoint { .. }
            | IngestError::PiiKey { .. }
            | IngestError::PiiPolicyMismatch { .. }
            | IngestError::PiiRewriteMissing { .. }
            | IngestError::List { .. }
            | IngestError::NoDrops { .. } => true,
            IngestError::Lake(inner) => inner.is_user_error(),
            _ => false,
        }
    }
}
