//! One ingest run: list and classify the drops of every source first ([`list`]: nothing is
//! written, and a run without any drop is an error), then lock the lake, put right what an
//! interrupted run left (staged files, a half-done hand-over between copies, published
//! outputs no entry lists), acknowledge what `--accept-quarantine` asks to, decide for each
//! file what the manifest already holds (the same file, or the same content under another
//! name: see [`crate::ledger`]), parse and publish the rest with bounded concurrency,
//! record each file's manifest entry last, release the lock. A dry run parses every file it
//! would ingest and writes nothing.
//!
//! Files are taken in (stamp, name) order and decided in that order; the canonical copy of
//! repeated content is the earliest by (stamp, name) across runs, so the lake does not
//! depend on the order files arrive in. Reading and deciding are ordered; parsing and
//! publishing run `parallelism` at a time, and at most `parallelism` files' bytes are held
//! at once.
//!
//! In the chain: the top ([`ingest`], [`list`] and [`ingest_listed`] are the crate's entry
//! points); imports [`crate::listing`], [`crate::file`] (the per-file pipeline),
//! [`crate::sweep`], [`crate::ledger`], [`crate::classify`], [`crate::outcome`] and
//! [`crate::options`]; nothing imports it but `lib.rs`.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use chrono::{DateTime, Utc};
use futures::{StreamExt, TryStreamExt};
use object_store::{ObjectStoreExt, PutPayload};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tracing::Instrument;

use churnlake_lake::{
    FileStatus, Lake, LakeError, Location, Manifest, ManifestEntry, OutputFile, PiiRecord, staging_path,
};

use crate::classify::Classifier;
use crate::file::{EncodedOutput, ParsedFile, SourceFile, has_data_rows, parse_file};
use crate::ledger::{Copy, Decision, HandOver, Ledger};
use crate::listing::{Candidate, Listing, Origin, list_sources, read_local};
use crate::outcome::{AttentionFile, FileOutcome, IngestReport, Outcome, Progress};
use crate::pii::Masker;
use crate::sweep::remove_unlisted_outputs;
use crate::{CrashPoint, CrashStage, IngestError, IngestOptions};

/// The classifier of a run's options: its name patterns and plausible stamp range.
pub fn classifier(opts: &IngestOptions) -> Result<Classifier, IngestError> {
    Ok(Classifier::new(&opts.patterns, opts.data_date_offset_days)?
        .with_stamp_range(opts.earliest_stamp, opts.latest_stamp))
}

/// Lists the drops under `sources` (see [`crate::listing`]); an error when none of them
/// holds a drop file. Nothing is written: callers list first and open the lake after.
pub async fn list(sources: &[Location], opts: &IngestOptions) -> Result<Listing, IngestError> {
    list_sources(sources, &classifier(opts)?, &opts.store_options).await
}

/// Ingests every drop under `source` into `lake` ([`list`], then [`ingest_listed`]).
pub async fn ingest(
    source: &Location,
    lake: &Lake,
    opts: &IngestOptions,
    progress: &dyn Progress,
) -> Result<IngestReport, IngestError> {
    let listing = list(std::slice::from_ref(source), opts).await?;
    ingest_listed(listing, lake, opts, progress).await
}

/// Ingests listed drops into `lake`.
///
/// Runs on the caller's tokio runtime (parsing goes to its blocking pool). Holds the
/// lake's ingest lock for the whole run (not in a dry run) and releases it on every
/// path. A file that cannot be read, or cannot be read as its kind, is a `Failed`
/// outcome and the run goes on; lake and internal errors stop the run.
pub async fn ingest_listed(
    listing: Listing,
    lake: &Lake,
    opts: &IngestOptions,
    progress: &dyn Progress,
) -> Result<IngestReport, IngestError> {
    // a `hash` run without a key stops here, before anything is read or written
    opts.pii.masker()?;
    if opts.dry_run {
        return run(listing, lake, opts, progress).await;
    }
    let lock = lake.lock_waiting("ingest", opts.lock_wait).await?;
    let result = async {
        let cleared = lake.clear_staging().await?;
        if cleared > 0 {
            tracing::info!(cleared, "removed the staged files of an interrupted run");
        }
        run(listing, lake, opts, progress).await
    }
    .await;
    let released = lock.release().await;
    match (result, released) {
        (Ok(report), released) => released.map(|()| report).map_err(IngestError::from),
        (Err(error), released) => {
            if let Err(release_error) = released {
                tracing::warn!(%release_error, "could not release the ingest lock");
            }
            Err(error)
        }
    }
}

/// A candidate with its bytes (holding one of the `parallelism` permits).
struct Loaded {
    index: usize,
    candidate: Candidate,
    content: Result<Content, IngestError>,
    permit: OwnedSemaphorePermit,
}

struct Content {
    bytes: Vec<u8>,
    hash: String,
    /// False for zero-byte and header-only files.
    has_rows: bool,
}

/// A loaded file and what to do with it.
struct Planned {
    index: usize,
    candidate: Candidate,
    plan: Plan,
    _permit: OwnedSemaphorePermit,
}

enum Plan {
    /// The file could not be read.
    Unreadable(IngestError),
    /// Parse and publish it (then hand over from the recorded copy it replaces).
    Ingest(Content, Option<HandOver>),
    /// Same content and kind as the canonical copy `of` (an entry id).
    Duplicate { of: String, hash: String },
    /// Same name and content as an entry of the manifest (`None`: met earlier in this run).
    AlreadyPresent(Option<Box<ManifestEntry>>),
}

/// What every file's processing shares.
struct RunCtx<'a> {
    lake: &'a Lake,
    dry_run: bool,
    crash: CrashHook,
    /// Acknowledgements of the manifest's entries, by entry id: kept when a file is retried.
    accepted: HashMap<String, DateTime<Utc>>,
    /// What is written for personal data, and the record of it in each entry.
    pii: Masker,
    pii_record: PiiRecord,
}

async fn run(
    listing: Listing,
    lake: &Lake,
    opts: &IngestOptions,
    progress: &dyn Progress,
) -> Result<IngestReport, IngestError> {
    let Listing { candidates, skipped, problems } = listing;
    let bytes = candidates.iter().map(|c| c.size).sum();
    progress.start(candidates.len() as u64, bytes);
    tracing::info!(
        files = candidates.len(),
        bytes,
        skipped = skipped.len(),
        problems = problems.len(),
        "listed the drops"
    );

    let mut manifest = Manifest::load(lake).await?;
    let pii_record = opts.pii.record();
    let rewritten = check_pii_policy(&manifest, &candidates, &pii_record, opts.rewrite_pii)?;
    let accepted_now = if opts.accept_quarantine { accept(lake, &mut manifest, opts.dry_run).await? } else { 0 };
    let accepted =
        manifest.entries.iter().filter_map(|e| Some((e.entry_id.clone(), e.quarantine_accepted_at?))).collect();
    let needing_attention = manifest.needing_attention();
    let attention_ids: Vec<String> = needing_attention.iter().map(|e| e.entry_id.clone()).collect();
    let attention_before: Vec<AttentionFile> = needing_attention.into_iter().map(AttentionFile::of).collect();
    let (mut ledger, repairs) = Ledger::new(&manifest);
    if !rewritten.is_empty() {
        // the files written under another policy are ingested again, as if new: their
        // outputs (same paths) and entries (same ids) are overwritten
        tracing::info!(files = rewritten.len(), pii = %pii_record, "rewriting the lake's files under the run's policy");
        let kept = Manifest {
            entries: manifest.entries.iter().filter(|e| !rewritten.contains(&e.entry_id)).cloned().collect(),
        };
        ledger = Ledger::new(&kept).0;
    }
    if !opts.dry_run {
        put_right(lake, manifest, repairs).await?;
    }
    let parallelism = opts.parallelism.max(1);
    let permits = Arc::new(Semaphore::new(parallelism));
    let ctx = &RunCtx {
        lake,
        dry_run: opts.dry_run,
        crash: CrashHook::new(opts.crash_at)?,
        accepted,
        pii: opts.pii.masker()?,
        pii_record,
    };
    let mut outcomes: Vec<(usize, FileOutcome)> = futures::stream::iter(candidates.into_iter().enumerate())
        .map(|(index, candidate)| load(index, candidate, Arc::clone(&permits)))
        .buffered(parallelism)
        .map(|loaded| {
            // Decided here, in (stamp, name) order, before the file's processing starts.
            let planned = loaded.map(|loaded| ledger.plan(loaded));
            async move {
                let planned = planned?;
                let span = tracing::info_span!("file", name = %planned.candidate.name);
                process(planned, ctx).instrument(span).await
            }
        })
        .buffer_unordered(parallelism)
        .inspect_ok(|(_, outcome)| progress.file_done(outcome))
        .try_collect()
        .await?;
    outcomes.sort_by_key(|(index, _)| *index);
    let files: Vec<FileOutcome> = outcomes.into_iter().map(|(_, outcome)| outcome).collect();
    let attention = if opts.dry_run {
        // what the lake would hold: its entries needing attention, and this run's files that would
        let mut attention = attention_before;
        attention.extend(
            files
                .iter()
                .filter_map(|f| f.entry.as_ref())
                .filter(|e| e.needs_attention() && !attention_ids.contains(&e.entry_id))
                .map(AttentionFile::of),
        );
        attention
    } else {
        // the run's last read of the manifest also refreshes its snapshot
        Manifest::load_and_snapshot(lake).await?.needing_attention().into_iter().map(AttentionFile::of).collect()
    };
    let mut report = IngestReport::new(files, skipped, problems, opts.dry_run, bytes);
    report.attention = attention;
    report.accepted = accepted_now;
    tracing::info!(
        ingested = report.ingested,
        duplicate = report.duplicate,
        already_present = report.already_present,
        failed = report.failed,
        problems = report.problems.len(),
        rows_written = report.rows_written,
        rows_quarantined = report.rows_quarantined,
        needing_attention = report.attention.len(),
        "ingest done"
    );
    Ok(report)
}

/// Refuses a run whose personal-data policy (or key) is not the one the lake's data files
/// were written under, unless `rewrite`; then returns the entry ids to write again (every
/// entry with outputs under another policy), and refuses when a source of one of them is
/// not among the run's (by name and size). Entries without outputs (duplicates, empty
/// drops) hold no personal data: their policy does not matter.
fn check_pii_policy(
    manifest: &Manifest,
    candidates: &[Candidate],
    run: &PiiRecord,
    rewrite: bool,
) -> Result<Vec<String>, IngestError> {
    let other: Vec<&ManifestEntry> =
        manifest.entries.iter().filter(|e| !e.outputs.is_empty() && e.pii != *run).collect();
    let Some(first) = other.first() else {
        return Ok(Vec::new());
    };
    if !rewrite {
        let mut policies: Vec<String> = Vec::new();
        for entry in &other {
            let policy = entry.pii.to_string();
            if !policies.contains(&policy) {
                policies.push(policy);
            }
        }
        return Err(IngestError::PiiPolicyMismatch {
            lake: policies.join(" and "),
            run: run.to_string(),
            files: other.len(),
        });
    }
    let missing: Vec<&&ManifestEntry> =
        other.iter().filter(|e| !candidates.iter().any(|c| c.name == e.source_name && c.size == e.size)).collect();
    if let Some(absent) = missing.first() {
        return Err(IngestError::PiiRewriteMissing {
            missing: missing.len(),
            files: other.len(),
            first: absent.source_name.clone(),
        });
    }
    tracing::debug!(first = %first.source_name, "files to rewrite under the run's personal-data policy");
    Ok(other.iter().map(|e| e.entry_id.clone()).collect())
}

/// `--accept-quarantine`: acknowledges every entry that needs attention when the run
/// starts (what the operator has seen; files of this run are not acknowledged unseen).
/// Returns how many were (would be, in a dry run) acknowledged.
async fn accept(lake: &Lake, manifest: &mut Manifest, dry_run: bool) -> Result<u64, IngestError> {
    let ids: Vec<String> = manifest.needing_attention().into_iter().map(|e| e.entry_id.clone()).collect();
    let now = Utc::now();
    for entry in manifest.entries.iter_mut().filter(|e| ids.contains(&e.entry_id)) {
        entry.quarantine_accepted_at = Some(now);
        tracing::info!(
            file = %entry.source_name,
            status = entry.status.as_str(),
            rows_quarantined = entry.rows_quarantined,
            "acknowledged"
        );
        if !dry_run {
            Manifest::record(lake, entry)
                .await
                .map_err(|source| IngestError::Record { file: entry.source_name.clone(), source: Box::new(source) })?;
        }
    }
    Ok(ids.len() as u64)
}

/// Reads and hashes one file (waiting for a permit first). A file that cannot be read
/// is a `Loaded` with an error; only internal errors end the run.
async fn load(index: usize, candidate: Candidate, permits: Arc<Semaphore>) -> Result<Loaded, IngestError> {
    let task_error =
        |e: &dyn std::fmt::Display| IngestError::Task { file: candidate.name.clone(), reason: e.to_string() };
    let permit = permits.acquire_owned().await.map_err(|e| task_error(&e))?;
    let read = match &candidate.origin {
        Origin::Store(store, path) => read_bytes(store, path)
            .await
            .map_err(|source| IngestError::Read { file: candidate.source_path.clone(), source: Box::new(source) }),
        Origin::Local(path) => {
            let path = path.clone();
            tokio::task::spawn_blocking(move || read_local(&path))
                .await
                .map_err(|e| task_error(&e))?
                .map_err(|source| IngestError::ReadFile { file: candidate.source_path.clone(), source })
        }
    };
    let content = match read {
        Ok(bytes) => {
            let kind = candidate.classified.kind;
            let hashing = tokio::task::spawn_blocking(move || {
                let hash = blake3::hash(&bytes).to_hex().to_string();
                let has_rows = has_data_rows(kind, &bytes);
                Content { bytes, hash, has_rows }
            });
            Ok(hashing.await.map_err(|e| task_error(&e))?)
        }
        Err(error) => Err(error),
    };
    Ok(Loaded { index, candidate, content, permit })
}

async fn read_bytes(
    store: &Arc<dyn object_store::ObjectStore>,
    path: &object_store::path::Path,
) -> object_store::Result<Vec<u8>> {
    Ok(store.get(path).await?.bytes().await?.to_vec())
}

/// Puts right what an interrupted run left, before anything else is written: records the
/// `repairs` (a hand-over between copies finished), then deletes the data files no entry
/// lists (outputs published by a run killed before it recorded them).
async fn put_right(lake: &Lake, manifest: Manifest, repairs: Vec<ManifestEntry>) -> Result<(), IngestError> {
    for entry in &repairs {
        tracing::info!(
            file = %entry.source_name,
            duplicate_of = entry.duplicate_of.as_deref().unwrap_or_default(),
            "finishing an interrupted hand-over: recorded as a duplicate of the earliest copy"
        );
        Manifest::record(lake, entry)
            .await
            .map_err(|source| IngestError::Record { file: entry.source_name.clone(), source: Box::new(source) })?;
    }
    let mut entries = manifest.entries;
    for entry in &mut entries {
        if let Some(repaired) = repairs.iter().find(|r| r.entry_id == entry.entry_id) {
            *entry = repaired.clone();
        }
    }
    let removed = remove_unlisted_outputs(lake, &entries).await?;
    if !removed.is_empty() {
        tracing::info!(removed = removed.len(), "removed data files no manifest entry lists");
    }
    Ok(())
}

/// Does what the plan says for one file.
async fn process(planned: Planned, ctx: &RunCtx<'_>) -> Result<(usize, FileOutcome), IngestError> {
    let Planned { index, candidate, plan, _permit } = planned;
    let name = candidate.name.as_str();
    let outcome = |status, entry: Option<ManifestEntry>, error: Option<String>| {
        (index, FileOutcome { name: candidate.name.clone(), status, entry, error })
    };
    match plan {
        Plan::Unreadable(error) => {
            tracing::error!(file = %name, %error, "cannot read the file");
            Ok(outcome(Outcome::Failed, None, Some(error.to_string())))
        }
        Plan::AlreadyPresent(entry) => {
            tracing::debug!(file = %name, "already in the lake");
            Ok(outcome(Outcome::AlreadyPresent, entry.map(|entry| *entry), None))
        }
        Plan::Duplicate { .. } if ctx.dry_run => Ok(outcome(Outcome::Duplicate, None, None)),
        Plan::Duplicate { of, hash } => {
            tracing::info!(file = %name, duplicate_of = %of, "same content as an earlier copy: a duplicate");
            let mut entry = candidate.entry(&hash, FileStatus::Duplicate);
            entry.duplicate_of = Some(of);
            entry.pii = ctx.pii_record.clone();
            record(ctx.lake, &entry, &ctx.crash).await?;
            Ok(outcome(Outcome::Duplicate, Some(entry), None))
        }
        Plan::Ingest(content, hand_over) => {
            let entry = ingest_file(&candidate, content, ctx).await?;
            if let Some(hand_over) = hand_over.filter(|_| !ctx.dry_run) {
                take_over(ctx.lake, &entry, hand_over, &ctx.crash).await?;
            }
            let status = if entry.status == FileStatus::Failed { Outcome::Failed } else { Outcome::Ingested };
            let error = entry.error.clone();
            Ok(outcome(status, Some(entry), error))
        }
    }
}

/// After `canonical` (a canonically earlier copy) is published and recorded: records the
/// copy it replaces and that copy's duplicates as its duplicates, then deletes the replaced
/// copy's outputs that `canonical` did not overwrite (no entry lists them any more). A run
/// killed in between is finished by the next one ([`Ledger::new`], then the sweep of
/// unlisted outputs).
async fn take_over(
    lake: &Lake,
    canonical: &ManifestEntry,
    hand_over: HandOver,
    crash: &CrashHook,
) -> Result<(), IngestError> {
    tracing::info!(
        file = %canonical.source_name,
        replaces = %hand_over.replaced,
        "an earlier copy of recorded content: it becomes the copy the lake holds"
    );
    for entry in &hand_over.demoted {
        record(lake, entry, crash).await?;
    }
    let kept: Vec<&str> = canonical.outputs.iter().map(|o| o.path.as_str()).collect();
    for output in hand_over.old_outputs.iter().filter(|o| !kept.contains(&o.path.as_str())) {
        let path = lake.path(&output.path);
        match lake.store().delete(&path).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
            Err(source) => return Err(LakeError::Store { path: path.to_string(), source }.into()),
        }
    }
    Ok(())
}

/// Parses a file, publishes its outputs and records its entry (in a dry run: parses it
/// and returns the entry it would record, writing nothing).
async fn ingest_file(candidate: &Candidate, content: Content, ctx: &RunCtx<'_>) -> Result<ManifestEntry, IngestError> {
    let source = SourceFile {
        name: candidate.name.clone(),
        kind: candidate.classified.kind,
        stamp: candidate.classified.stamp,
        data_date: candidate.classified.data_date,
        content_hash: content.hash.clone(),
        pii: ctx.pii.clone(),
    };
    let parsed: ParsedFile = tokio::task::spawn_blocking(move || parse_file(&source, &content.bytes))
        .await
        .map_err(|e| IngestError::Task { file: candidate.name.clone(), reason: e.to_string() })??;

    let outputs: Vec<OutputFile> = parsed.outputs.iter().map(|o| o.file.clone()).collect();
    if !ctx.dry_run {
        publish(candidate, parsed.outputs, ctx.lake, &ctx.crash).await?;
    }

    let status = if parsed.failure.is_some() { FileStatus::Failed } else { FileStatus::Ingested };
    let mut entry = candidate.entry(&content.hash, status);
    entry.pii = ctx.pii_record.clone();
    entry.encoding = Some(parsed.encoding.to_owned());
    entry.layout = parsed.layout;
    entry.rows_read = parsed.rows_read;
    entry.rows_written = parsed.rows_written;
    entry.rows_quarantined = parsed.rows_quarantined;
    entry.error = parsed.failure.map(|failure| failure.to_string());
    entry.warnings = parsed.warnings;
    entry.outputs = outputs;
    if entry.needs_attention() {
        // a retried file keeps its acknowledgement while its content is the same
        entry.quarantine_accepted_at = ctx.accepted.get(&entry.entry_id).copied();
    }
    let file = candidate.name.as_str();
    for warning in &entry.warnings {
        tracing::warn!(file, %warning, "repaired while reading");
    }
    match &entry.error {
        Some(error) => {
            tracing::error!(file, %error, rows_quarantined = entry.rows_quarantined, "file failed")
        }
        None if entry.rows_quarantined > 0 => tracing::warn!(
            file,
            rows_written = entry.rows_written,
            rows_quarantined = entry.rows_quarantined,
            "ingested, with rows in quarantine"
        ),
        None => tracing::info!(file, rows_written = entry.rows_written, "ingested"),
    }
    if !ctx.dry_run {
        record(ctx.lake, &entry, &ctx.crash).await?;
    }
    Ok(entry)
}

/// Publishes a file's Parquet outputs (each staged, then renamed into place).
async fn publish(
    candidate: &Candidate,
    outputs: Vec<EncodedOutput>,
    lake: &Lake,
    crash: &CrashHook,
) -> Result<(), IngestError> {
    if outputs.is_empty() {
        return Ok(());
    }
    if crash.is_due(CrashStage::AfterStaging) {
        crash_with_staged_outputs(lake, &outputs).await;
    }
    for output in outputs {
        lake.put_atomic(&output.file.path, output.bytes).await.map_err(|source| IngestError::Publish {
            file: candidate.name.clone(),
            path: output.file.path.clone(),
            source: Box::new(source),
        })?;
    }
    if crash.is_due(CrashStage::AfterPublish) {
        crash_now();
    }
    Ok(())
}

/// Writes a file's manifest entry: the last write of a file.
async fn record(lake: &Lake, entry: &ManifestEntry, crash: &CrashHook) -> Result<(), IngestError> {
    Manifest::record(lake, entry)
        .await
        .map_err(|source| IngestError::Record { file: entry.source_name.clone(), source: Box::new(source) })?;
    if crash.is_due(CrashStage::AfterManifest) {
        crash_now();
    }
    Ok(())
}

/// The `after-staging` crash: leaves the outputs in `_staging/` (as an ingest killed inside
/// `put_atomic`, between its staging put and its rename, would) and aborts.
async fn crash_with_staged_outputs(lake: &Lake, outputs: &[EncodedOutput]) -> ! {
    for output in outputs {
        let staged = lake.path(&staging_path(&format!("crash-{}", output.file.path.replace('/', "_"))));
        if let Err(error) = lake.store().put(&staged, PutPayload::from(output.bytes.clone())).await {
            tracing::error!(%error, "could not stage an output before the requested crash");
        }
    }
    crash_now();
}

/// Ends the process at a requested crash point, as a kill would (test hook).
#[cfg(feature = "crash-points")]
fn crash_now() -> ! {
    std::process::abort()
}

/// Without the `crash-points` feature no crash point is ever due ([`CrashHook::new`]
/// refuses one), so this is never reached.
#[cfg(not(feature = "crash-points"))]
fn crash_now() -> ! {
    unreachable!("crash points need the `crash-points` feature")
}

impl Candidate {
    /// The file's manifest entry, with nothing parsed or written yet.
    fn entry(&self, content_hash: &str, status: FileStatus) -> ManifestEntry {
        let classified = &self.classified;
        ManifestEntry {
            entry_id: ManifestEntry::id_for(&self.name, content_hash),
            source_name: self.name.clone(),
            source_path: self.source_path.clone(),
            size: self.size,
            content_hash: content_hash.to_owned(),
            kind: classified.kind,
            stamp: classified.stamp,
            stamp_style: classified.stamp_style,
            delivery: classified.delivery.clone(),
            data_date: classified.data_date,
            encoding: None,
            layout: None,
            rows_read: 0,
            rows_written: 0,
            rows_quarantined: 0,
            status,
            duplicate_of: None,
            error: None,
            outputs: Vec::new(),
            ingested_at: Utc::now(),
            churnlake_version: env!("CARGO_PKG_VERSION").to_owned(),
            quarantine_accepted_at: None,
            warnings: Vec::new(),
            pii: PiiRecord::default(),
        }
    }
}

impl Ledger {
    /// Decides what to do with a loaded file; must be called in (stamp, name) order.
    fn plan(&mut self, loaded: Loaded) -> Planned {
        let Loaded { index, candidate, content, permit } = loaded;
        let plan = match content {
            Err(error) => Plan::Unreadable(error),
            Ok(content) => {
                let copy = Copy {
                    name: &candidate.name,
                    stamp: candidate.classified.stamp,
                    kind: candidate.classified.kind,
                    hash: &content.hash,
                    has_rows: content.has_rows,
                };
                match self.decide(&copy) {
                    Decision::AlreadyPresent(entry) => Plan::AlreadyPresent(entry),
                    Decision::Duplicate { of } => Plan::Duplicate { of, hash: content.hash },
                    Decision::Ingest(hand_over) => Plan::Ingest(content, hand_over),
                }
            }
        };
        Planned { index, candidate, plan, _permit: permit }
    }
}

/// Counts arrivals at the configured crash stage (a test hook: only a build with the
/// `crash-points` feature honours one; any other build refuses a crash point).
struct CrashHook {
    point: Option<CrashPoint>,
    arrivals: AtomicUsize,
}

impl CrashHook {
    fn new(point: Option<CrashPoint>) -> Result<CrashHook, IngestError> {
        if let Some(point) = point.filter(|_| !cfg!(feature = "crash-points")) {
            return Err(IngestError::CrashPoint {
                value: point.to_string(),
                reason: "this build has no crash points (a test hook of the `crash-points` feature)".to_owned(),
            });
        }
        Ok(CrashHook { point, arrivals: AtomicUsize::new(0) })
    }

    /// Counts one file reaching `stage`; true when it is the one to crash at.
    fn is_due(&self, stage: CrashStage) -> bool {
        self.point.is_some_and(|point| {
            point.stage == stage && self.arrivals.fetch_add(1, Ordering::SeqCst) + 1 == point.file_index
        })
    }
}
