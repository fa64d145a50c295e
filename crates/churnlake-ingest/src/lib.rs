//! Daily report drops to the Parquet lake.
//!
//! [`ingest`] lists a source of drop files, classifies each by its name ([`classify`]),
//! skips what the lake's manifest already holds (the same file, or a copy of content it
//! holds: same content and kind, any name or stamp), types every row of the rest (rows
//! that cannot be typed go to the quarantine with the reason), publishes one Parquet file
//! per source file and table, and records the file's manifest entry last. The lake's layout,
//! schemas and manifest are `churnlake_lake`'s; nothing here redefines them.
//!
//! Modules import one way, from the run down to the leaves:
//! `run` → `file` (one source file, bytes in, Parquet out) → `kinds::{report, events,
//! generic}` (each kind's parser) → `kinds` (the typing toolkit) → `table` → `values`,
//! with `records`, `decode`, `encode` and `pii` as leaves of `file` and the kinds; `run` also
//! uses `listing` (which uses `classify`), `sweep`, `ledger` and `outcome`. No module imports one above it.

mod classify;
mod decode;
mod encode;
mod error;
mod file;
mod kinds;
mod ledger;
mod listing;
mod options;
mod outcome;
mod pii;
mod records;
mod run;
mod sweep;
mod table;
mod values;

pub use classify::{Classified, Classifier, classify};
pub use error::IngestError;
pub use listing::{Listing, list_sources};
pub use options::{CrashPoint, CrashStage, DEFAULT_EARLIEST_STAMP, IngestOptions, NamePattern, default_latest_stamp};
pub use outcome::{
    AttentionFile, FileOutcome, IngestReport, NoProgress, Outcome, Progress, QuarantinedFile, SourceProblem,
};
pub use pii::{MIN_PII_KEY_BYTES, PiiKey, PiiOptions, WITHHELD};
pub use run::{classifier, ingest, ingest_listed, list};

/// Whether this build honours crash points (the `crash-points` feature: the crash-recovery
/// tests' hook); other builds refuse one.
pub const CRASH_POINTS: bool = cfg!(feature = "crash-points");
