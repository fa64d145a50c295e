//! The lake: the only thing ingest and query share.
//!
//! Its layout (where every file lives), its table schemas (what every column is),
//! its manifest (which source files made which outputs) and its storage access
//! (local disk or an object store, through one code path) are defined here once.

mod derived;
mod error;
mod kind;
mod layout;
mod manifest;
mod pii;
mod schema;
mod storage;

pub use derived::{DerivedFile, DerivedState, DerivedStatus, derived_state_path, publication_path};
pub use error::{LakeError, Result, is_permanent};
pub use kind::ReportKind;
pub use layout::{
    DERIVED_DIR, DERIVED_TABLES, DataDate, LOCK_FILE, MANIFEST_DIR, MANIFEST_SNAPSHOT, OutputArea, OutputPath,
    OutputStem, QUARANTINE_DIR, RAW_DIR, STAGING_DIR, derived_path, derived_sql_name, format_partition,
    manifest_entry_path, output_stem, parse_output_path, parse_output_stem, parse_partition, quarantine_file_path,
    raw_file_path, raw_table_dir, staging_path,
};
pub use manifest::{FileStatus, Manifest, ManifestEntry, OutputFile, StampStyle};
pub use object_store;
pub use pii::{PiiPolicy, PiiRecord};
pub use schema::{
    MONEY_PRECISION, MONEY_SCALE, columns, event_label, events_schema, lineage_fields, quarantine_schema, report_schema,
};
pub use storage::{Lake, LakeLock, Location, LockInfo, retry_config};
