//! The manifest: one JSON entry per source file, written after its outputs are
//! published. Readers trust the manifest, not a listing of the data directories.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use futures::{StreamExt, TryStreamExt};
use serde::{Deserialize, Serialize};

use crate::kind::ReportKind;
use crate::pii::PiiRecord;
use crate::{LakeError, Result, layout, storage::Lake};

/// How a drop's stamp was written in its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StampStyle {
    /// 14 digits `MMDDYYYYHHMMSS` (production time).
    Mmddyyyyhhmmss,
    /// `YYYYMMDD`, optionally followed by `_delta` / `_full`.
    Yyyymmdd,
    /// The `stamp_format` (a chrono format) the name pattern gives.
    Custom,
}

/// What became of a source file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FileStatus {
    /// Every row is in the lake or in quarantine.
    Ingested,
    /// Same content and kind as the file `duplicate_of` (a re-delivery under any name or
    /// stamp; the earliest copy by stamp and name is the one ingested): nothing written.
    /// Files without data rows (zero bytes, header only) are never duplicates.
    Duplicate,
    /// The file could not be read as its kind, or it has data rows and none could be typed (its
    /// rows are in quarantine when it could be split into rows). Retried by every ingest.
    Failed,
}

impl FileStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            FileStatus::Ingested => "ingested",
            FileStatus::Duplicate => "duplicate",
            FileStatus::Failed => "failed",
        }
    }
}

/// One Parquet file written for a source file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutputFile {
    /// `subscriptions`, ..., or `quarantine`.
    pub table: String,
    /// Path relative to the lake root.
    pub path: String,
    pub rows: u64,
}

/// The manifest's record of one source file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ManifestEntry {
    /// `<file name>.<first 16 hex of the content hash>`: the entry's file name in `_manifest/`.
    pub entry_id: String,
    /// The file's name (lineage column `source_file`).
    pub source_name: String,
    /// Where it was read from (path or URL) on the run that recorded it.
    pub source_path: String,
    pub size: u64,
    /// blake3 of the file's bytes, hex.
    pub content_hash: String,
    pub kind: ReportKind,
    pub stamp: NaiveDateTime,
    pub stamp_style: StampStyle,
    /// `delta` / `full` when the name says so.
    pub delivery: Option<String>,
    pub data_date: NaiveDate,
    /// `utf-8`, `utf-8-bom`, `windows-1252`, or `utf-8+windows-1252` (a UTF-8 file with
    /// lines in Windows-1252, each named in `warnings`).
    pub encoding: Option<String>,
    /// The detected layout, for subscriber events (`5 columns` / `6 columns`).
    pub layout: Option<String>,
    pub rows_read: u64,
    pub rows_written: u64,
    pub rows_quarantined: u64,
    pub status: FileStatus,
    /// For a duplicate: the entry id of the file it repeats.
    pub duplicate_of: Option<String>,
    /// For a failed file: why.
    pub error: Option<String>,
    pub outputs: Vec<OutputFile>,
    pub ingested_at: DateTime<Utc>,
    pub churnlake_version: String,
    /// When `churnlake ingest --accept-quarantine` acknowledged this file's quarantined rows
    /// (or its failure): an acknowledged file no longer makes ingest exit 1. Kept while the
    /// file's content is unchanged; absent in entries written before acknowledgements existed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quarantine_accepted_at: Option<DateTime<Utc>>,
    /// What was repaired while reading the file (invalid UTF-8 bytes replaced, ...), with
    /// line and byte offset.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// The personal-data policy (and key fingerprint) the file's outputs were written under
    /// (`keep` in entries written before policies existed).
    #[serde(default)]
    pub pii: PiiRecord,
}

/// Longest file name most file systems take (ext4, APFS, NTFS: 255 bytes).
const MAX_FILE_NAME_BYTES: usize = 255;
/// What `.<16 hex>.json` adds to the safe name in an entry's file name.
const ENTRY_SUFFIX_BYTES: usize = 1 + 16 + ".json".len();
/// Hex digits of the name's own hash kept when a long name is shortened (after a `-`: a
/// character the store's paths keep as it is).
const NAME_HASH_LEN: usize = 8;

impl ManifestEntry {
    /// The entry id for a file name and content hash: `<safe name>.<16 hex>`, where the
    /// safe name keeps ASCII letters, digits, `.`, `_` and `-` (anything else becomes `_`).
    /// An id's file name (`<id>.json`) always fits in 255 bytes: a safe name too long for
    /// that is cut and ends with `-` and 8 hex digits of the full name's own hash, so two
    /// long names that start alike keep distinct ids. Shorter names are never changed (the
    /// ids of existing lakes stay valid).
    ///
    /// ```
    /// let id = churnlake_lake::ManifestEntry::id_for("acme subs.csv", "0123456789abcdef0123");
    /// assert_eq!(id, "acme_subs.csv.0123456789abcdef");
    /// let long = format!("acme_{}_subscription_20230502.csv", "x".repeat(300));
    /// let id = churnlake_lake::ManifestEntry::id_for(&long, "0123456789abcdef0123");
    /// assert!(id.len() + ".json".len() <= 255);
    /// assert!(id.starts_with("acme_xxx") && id.ends_with(".0123456789abcdef"));
    /// ```
    pub fn id_for(source_name: &str, content_hash: &str) -> String {
        let mut safe: String = source_name
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') { c } else { '_' })
            .collect();
        let room = MAX_FILE_NAME_BYTES - ENTRY_SUFFIX_BYTES;
        if safe.len() > room {
            let name_hash = name_hash(source_name);
            let mut cut = room - 1 - NAME_HASH_LEN;
            while !safe.is_char_boundary(cut) {
                cut -= 1;
            }
            safe.truncate(cut);
            safe.push('-');
            safe.push_str(&name_hash);
        }
        let short = content_hash.get(..16).unwrap_or(content_hash);
        format!("{safe}.{short}")
    }

    /// True when this entry keeps `ingest` exiting 1: a failed file, or a file with rows in
    /// the quarantine, not acknowledged with `--accept-quarantine`.
    pub fn needs_attention(&self) -> bool {
        let red =
            self.status == FileStatus::Failed || (self.status == FileStatus::Ingested && self.rows_quarantined > 0);
        red && self.quarantine_accepted_at.is_none()
    }

    /// This entry as a duplicate of the entry `of`: what recording it as one in the first
    /// place would have written (the times and source paths aside).
    pub fn demoted_to(&self, of: &str) -> ManifestEntry {
        ManifestEntry {
            status: FileStatus::Duplicate,
            duplicate_of: Some(of.to_owned()),
            encoding: None,
            layout: None,
            rows_read: 0,
            rows_written: 0,
            rows_quarantined: 0,
            error: None,
            outputs: Vec::new(),
            ..self.clone()
        }
    }

    /// True when the entry holds its content's rows (or tried to: failed files are retried).
    pub fn holds_content(&self) -> bool {
        matches!(self.status, FileStatus::Ingested | FileStatus::Failed) && self.rows_read > 0
    }
}

/// 8 hex digits of a stable 32-bit FNV-1a hash of `text` (names only: not a content hash).
fn name_hash(text: &str) -> String {
    let hash = text.bytes().fold(0x811c_9dc5_u32, |h, b| (h ^ u32::from(b)).wrapping_mul(0x0100_0193));
    format!("{hash:08x}")
}

/// How many times a reader lists the manifest again when it raced a hand-over.
const READ_ATTEMPTS: u32 = 8;

/// All entries of a lake's manifest.
#[derive(Debug, Clone, Default)]
pub struct Manifest {
    /// Sorted by data date, stamp, then name.
    pub entries: Vec<ManifestEntry>,
}

/// The manifest in one object ([`layout::MANIFEST_SNAPSHOT`]): every entry with the size
/// and e-tag its object had when it was read. A cache, never the truth: the listing of
/// `_manifest/` is, and an entry whose listed size or e-tag differs from the snapshot's (or
/// a store that gives no e-tags) is read from its own object.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Snapshot {
    entries: Vec<Snapped>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Snapped {
    /// The entry object's store path.
    location: String,
    size: u64,
    e_tag: String,
    entry: ManifestEntry,
}

impl Manifest {
    /// Reads every entry: the listing of `_manifest/`, then the snapshot, then
    /// (concurrently) each entry the snapshot does not hold as listed.
    pub async fn load(lake: &Lake) -> Result<Manifest> {
        Ok(Manifest::load_listed(lake).await?.0)
    }

    /// The manifest as readers see it: [`Manifest::load`], with a hand-over that an ingest
    /// has in flight (an earlier copy of recorded content taking over, see the ingest
    /// crate's ledger) seen as finished. Entries are listed, then read: a listing taken
    /// before the new copy's entry was recorded, whose older copy is then read already
    /// demoted, holds a duplicate of an entry it does not list — listed again, until
    /// consistent (a few tries). When both copies are read as holding the content, the
    /// canonical one (earliest by stamp, name) holds it and the other is its duplicate, as
    /// the ingest will record it. Writers that repair the manifest use [`Manifest::load`].
    pub async fn load_for_reading(lake: &Lake) -> Result<Manifest> {
        let mut manifest = Manifest::load(lake).await?;
        for attempt in 1..=READ_ATTEMPTS {
            if !manifest.has_dangling_duplicate() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20 * u64::from(attempt))).await;
            manifest = Manifest::load(lake).await?;
        }
        manifest.settle_copies();
        Ok(manifest)
    }

    /// True when a duplicate names an entry the manifest does not hold.
    fn has_dangling_duplicate(&self) -> bool {
        let ids: std::collections::HashSet<&str> = self.entries.iter().map(|e| e.entry_id.as_str()).collect();
        self.entries
            .iter()
            .any(|e| e.status == FileStatus::Duplicate && e.duplicate_of.as_deref().is_some_and(|of| !ids.contains(of)))
    }

    /// One ingested entry per content and kind: later copies become duplicates of the
    /// canonical (earliest by stamp, name, id) one.
    fn settle_copies(&mut self) {
        let mut canonical: std::collections::HashMap<(&str, ReportKind), (NaiveDateTime, &str, &str)> =
            std::collections::HashMap::new();
        for entry in self.entries.iter().filter(|e| e.status == FileStatus::Ingested && e.holds_content()) {
            let order = (entry.stamp, entry.source_name.as_str(), entry.entry_id.as_str());
            canonical
                .entry((entry.content_hash.as_str(), entry.kind))
                .and_modify(|held| *held = (*held).min(order))
                .or_insert(order);
        }
        let demote: Vec<(usize, String)> = self
            .entries
            .iter()
            .enumerate()
            .filter(|(_, e)| e.status == FileStatus::Ingested && e.holds_content())
            .filter_map(|(i, e)| {
                let held = canonical.get(&(e.content_hash.as_str(), e.kind))?;
                (held.2 != e.entry_id).then(|| (i, held.2.to_owned()))
            })
            .collect();
        for (i, of) in demote {
            self.entries[i] = self.entries[i].demoted_to(&of);
        }
    }

    /// [`Manifest::load`], then the snapshot rewritten when it does not hold the manifest
    /// as listed. For writers, under the lock (`ingest` calls it last).
    pub async fn load_and_snapshot(lake: &Lake) -> Result<Manifest> {
        let (manifest, snapped, current) = Manifest::load_listed(lake).await?;
        if !current {
            let snapshot = Snapshot { entries: snapped };
            let bytes = serde_json::to_vec(&snapshot)
                .map_err(|source| LakeError::Manifest { path: layout::MANIFEST_SNAPSHOT.to_owned(), source })?;
            lake.put_atomic(layout::MANIFEST_SNAPSHOT, bytes).await?;
        }
        Ok(manifest)
    }

    /// The manifest, every entry as it may go into a snapshot (those with an e-tag), and
    /// whether the snapshot in the lake holds exactly these.
    async fn load_listed(lake: &Lake) -> Result<(Manifest, Vec<Snapped>, bool)> {
        let prefix = lake.path(layout::MANIFEST_DIR);
        let listed: Vec<object_store::ObjectMeta> =
            lake.store().list(Some(&prefix)).try_collect().await.map_err(|source| lake.store_error(&prefix, source))?;
        let listed: Vec<object_store::ObjectMeta> =
            listed.into_iter().filter(|meta| meta.location.extension() == Some("json")).collect();
        let mut cached: std::collections::HashMap<String, Snapped> = match read_snapshot(lake).await {
            Some(snapshot) => snapshot.entries.into_iter().map(|s| (s.location.clone(), s)).collect(),
            None => std::collections::HashMap::new(),
        };
        let cached_count = cached.len();
        let mut snapped = Vec::with_capacity(listed.len());
        let mut to_read = Vec::new();
        for meta in listed {
            let hit = cached
                .remove(meta.location.as_ref())
                .filter(|s| s.size == meta.size && meta.e_tag.as_deref() == Some(s.e_tag.as_str()));
            match hit {
                Some(hit) => snapped.push(hit),
                None => to_read.push(meta),
            }
        }
        let all_cached = to_read.is_empty() && snapped.len() == cached_count;
        let read: Vec<(object_store::ObjectMeta, ManifestEntry)> = futures::stream::iter(to_read)
            .map(|meta| async move {
                let bytes = lake.get_bytes(&meta.location).await?;
                let entry = serde_json::from_slice::<ManifestEntry>(&bytes)
                    .map_err(|source| LakeError::Manifest { path: lake.describe(&meta.location), source })?;
                Ok::<_, LakeError>((meta, entry))
            })
            .buffer_unordered(32)
            .try_collect()
            .await?;
        let mut entries: Vec<ManifestEntry> = snapped.iter().map(|s| s.entry.clone()).collect();
        for (meta, entry) in read {
            entries.push(entry.clone());
            if let Some(e_tag) = meta.e_tag {
                snapped.push(Snapped { location: meta.location.to_string(), size: meta.size, e_tag, entry });
            }
        }
        entries.sort_by(|a, b| (a.data_date, a.stamp, &a.source_name).cmp(&(b.data_date, b.stamp, &b.source_name)));
        snapped.sort_by(|a, b| a.location.cmp(&b.location));
        let current = all_cached && snapped.len() == entries.len();
        Ok((Manifest { entries }, snapped, current))
    }

    /// Writes (or replaces) one entry. Called after the entry's outputs are published.
    pub async fn record(lake: &Lake, entry: &ManifestEntry) -> Result<()> {
        let rel = layout::manifest_entry_path(&entry.entry_id);
        let bytes =
            serde_json::to_vec_pretty(entry).map_err(|source| LakeError::Manifest { path: rel.clone(), source })?;
        lake.put_atomic(&rel, bytes).await
    }

    /// Entries whose rows are in the lake (ingested, including files with quarantined rows).
    pub fn ingested(&self) -> impl Iterator<Item = &ManifestEntry> {
        self.entries.iter().filter(|e| e.status == FileStatus::Ingested)
    }

    /// Lake-relative paths of every published file of `table`, in manifest order.
    pub fn files_of(&self, table: &str) -> Vec<String> {
        self.entries
            .iter()
            .flat_map(|e| e.outputs.iter())
            .filter(|o| o.table == table && o.rows > 0)
            .map(|o| o.path.clone())
            .collect()
    }

    /// The manifest as known on `day` (METRICS.md "As known on a date"): the entries whose
    /// drop stamp's date is at most `day`, in the same order. Queries over it give exactly
    /// what a lake holding only those drops gives (a re-delivery's copy in the lake is its
    /// earliest by stamp, so it is known whenever any copy is).
    ///
    /// ```
    /// let manifest = churnlake_lake::Manifest::default();
    /// let day = chrono::NaiveDate::from_ymd_opt(2024, 1, 31).expect("a date");
    /// assert!(manifest.known_on(day).entries.is_empty());
    /// ```
    pub fn known_on(&self, day: NaiveDate) -> Manifest {
        Manifest { entries: self.entries.iter().filter(|e| e.stamp.date() <= day).cloned().collect() }
    }

    /// The earliest and the newest drop stamp.
    pub fn stamp_range(&self) -> Option<(NaiveDateTime, NaiveDateTime)> {
        let mut stamps = self.entries.iter().map(|e| e.stamp);
        let first = stamps.next()?;
        Some(stamps.fold((first, first), |(lo, hi), s| (lo.min(s), hi.max(s))))
    }

    /// The entries that keep `ingest` exiting 1 ([`ManifestEntry::needs_attention`]): a
    /// failed file counts unless a later entry of the same name was ingested (a corrected
    /// re-delivery).
    pub fn needing_attention(&self) -> Vec<&ManifestEntry> {
        self.entries
            .iter()
            .filter(|e| e.needs_attention())
            .filter(|e| {
                e.status != FileStatus::Failed
                    || !self.entries.iter().any(|other| {
                        other.source_name == e.source_name
                            && other.status == FileStatus::Ingested
                            && other.ingested_at > e.ingested_at
                    })
            })
            .collect()
    }

    /// The first and last data date of any ingested file (the series' range).
    pub fn data_date_range(&self) -> Option<(NaiveDate, NaiveDate)> {
        let mut dates = self.entries.iter().filter(|e| e.status != FileStatus::Failed).map(|e| e.data_date);
        let first = dates.next()?;
        Some(dates.fold((first, first), |(lo, hi), d| (lo.min(d), hi.max(d))))
    }
}

/// The snapshot in the lake, if there is one that can be read (a cache: a missing or
/// unreadable snapshot means every entry is read from its own object).
async fn read_snapshot(lake: &Lake) -> Option<Snapshot> {
    let bytes = lake.get_bytes(&lake.path(layout::MANIFEST_SNAPSHOT)).await.ok()?;
    serde_json::from_slice(&bytes).ok()
}
