//! What an ingest did, file by file and in total, and the progress callback that hears
//! about each file as it finishes. Both serialise for the CLI's output formats.
//!
//! In the chain: built by [`crate::run`]; imports nothing of this crate.

use serde::Serialize;

use churnlake_lake::{FileStatus, ManifestEntry, QUARANTINE_DIR};

/// Something under a source that could not be listed or read as a drop: reported with its
/// path, counted, and makes the run exit 1; the rest of the source is ingested.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SourceProblem {
    /// The entry's path or URL (lossy for a name that is not UTF-8).
    pub path: String,
    pub reason: String,
}

/// What became of one classified source file in this run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Its rows are in the lake (some may be in quarantine). In a dry run: would be.
    Ingested,
    /// Same content and kind as another file with data rows (a re-delivery, under any name
    /// or stamp), which the lake holds: recorded, nothing written.
    Duplicate,
    /// The same name and content is already in the manifest: nothing done.
    AlreadyPresent,
    /// It could not be read as its kind, or not read at all; see `error`.
    Failed,
}

/// One classified file's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct FileOutcome {
    /// The file's name (its last path segment).
    pub name: String,
    pub status: Outcome,
    /// Its manifest entry: the one recorded by this run, or the one already there (in a
    /// dry run, for a file it parsed: the one it would record). `None` when there is none
    /// to show: a dry run's duplicates, a file that could not be read, a second copy of a
    /// name and content met in the same run.
    pub entry: Option<ManifestEntry>,
    pub error: Option<String>,
}

/// A file of this run with rows in the quarantine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct QuarantinedFile {
    /// The file's name.
    pub name: String,
    pub status: Outcome,
    pub rows_read: u64,
    pub rows_quarantined: u64,
    /// Lake-relative path of its quarantine file.
    pub quarantine: Option<String>,
}

/// A file of the lake that keeps `ingest` exiting 1: failed, or with quarantined rows, and
/// not acknowledged (`--accept-quarantine`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AttentionFile {
    pub name: String,
    /// `failed` or `ingested`.
    pub status: String,
    pub rows_read: u64,
    pub rows_quarantined: u64,
    pub error: Option<String>,
}

impl AttentionFile {
    pub(crate) fn of(entry: &ManifestEntry) -> AttentionFile {
        AttentionFile {
            name: entry.source_name.clone(),
            status: entry.status.as_str().to_owned(),
            rows_read: entry.rows_read,
            rows_quarantined: entry.rows_quarantined,
            error: entry.error.clone(),
        }
    }

    /// True for a failed file (not just quarantined rows).
    pub fn is_failed(&self) -> bool {
        self.status == FileStatus::Failed.as_str()
    }
}

/// The whole run.
#[derive(Debug, Clone, Default, Serialize)]
pub struct IngestReport {
    /// Every classified file, by stamp then name.
    pub files: Vec<FileOutcome>,
    /// Paths (relative to the source) of listed files whose names match no pattern:
    /// not drops, not errors.
    pub skipped: Vec<String>,
    /// Entries under the sources that could not be listed, or are named like drops but
    /// cannot be read as one (not a regular file, an impossible or implausible stamp, ...),
    /// and sources without any drop file: reported, nothing recorded, the run exits 1.
    pub problems: Vec<SourceProblem>,
    pub dry_run: bool,
    pub ingested: u64,
    pub duplicate: u64,
    pub already_present: u64,
    pub failed: u64,
    /// Rows of the files parsed by this run.
    pub rows_read: u64,
    pub rows_written: u64,
    pub rows_quarantined: u64,
    /// Size of the classified files.
    pub bytes: u64,
    /// The files parsed by this run that put rows in the quarantine (failed files among
    /// them), in the order of `files`: what to look at.
    pub quarantined_files: Vec<QuarantinedFile>,
    /// Files of this run that could not be read at all (no manifest entry records them).
    pub unreadable: u64,
    /// The lake's files that need attention after the run (in a dry run: that would):
    /// failed, or with quarantined rows, not acknowledged.
    pub attention: Vec<AttentionFile>,
    /// Entries acknowledged by this run's `--accept-quarantine`.
    pub accepted: u64,
}

impl IngestReport {
    /// Builds the report and its totals from the outcomes.
    pub(crate) fn new(
        files: Vec<FileOutcome>,
        skipped: Vec<String>,
        problems: Vec<SourceProblem>,
        dry_run: bool,
        bytes: u64,
    ) -> Self {
        let count = |status| files.iter().filter(|f| f.status == status).count() as u64;
        let parsed = || {
            files
                .iter()
                .filter(|f| matches!(f.status, Outcome::Ingested | Outcome::Failed))
                .filter_map(|f| f.entry.as_ref())
        };
        let quarantined_files = files
            .iter()
            .filter(|f| matches!(f.status, Outcome::Ingested | Outcome::Failed))
            .filter_map(|f| Some((f, f.entry.as_ref()?)))
            .filter(|(_, entry)| entry.rows_quarantined > 0)
            .map(|(file, entry)| QuarantinedFile {
                name: file.name.clone(),
                status: file.status,
                rows_read: entry.rows_read,
                rows_quarantined: entry.rows_quarantined,
                quarantine: entry.outputs.iter().find(|o| o.table == QUARANTINE_DIR).map(|o| o.path.clone()),
            })
            .collect();
        IngestReport {
            quarantined_files,
            ingested: count(Outcome::Ingested),
            duplicate: count(Outcome::Duplicate),
            already_present: count(Outcome::AlreadyPresent),
            failed: count(Outcome::Failed),
            unreadable: files.iter().filter(|f| f.status == Outcome::Failed && f.entry.is_none()).count() as u64,
            rows_read: parsed().map(|e| e.rows_read).sum(),
            rows_written: parsed().map(|e| e.rows_written).sum(),
            rows_quarantined: parsed().map(|e| e.rows_quarantined).sum(),
            files,
            skipped,
            problems,
            dry_run,
            bytes,
            attention: Vec::new(),
            accepted: 0,
        }
    }

    /// True when the run has something to report (exit 1): a problem under the sources, a
    /// file that could not be read, or a file of the lake that needs attention.
    pub fn has_problems(&self) -> bool {
        !self.problems.is_empty() || self.unreadable > 0 || !self.attention.is_empty()
    }
}

/// Hears about the run as it goes (the CLI draws a progress bar on stderr).
pub trait Progress: Send + Sync {
    /// Called once, after listing: the classified files and their total size.
    fn start(&self, files: u64, bytes: u64);
    /// Called as each classified file is done, in completion order.
    fn file_done(&self, outcome: &FileOutcome);
}

/// A [`Progress`] that ignores everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn start(&self, _files: u64, _bytes: u64) {}
    fn file_done(&self, _outcome: &FileOutcome) {}
}
