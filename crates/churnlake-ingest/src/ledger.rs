//! What the lake already holds, and what to do with each file of a run: the manifest's
//! rules for repeated files.
//!
//! - A file whose name and content are recorded (ingested or duplicate) is already present.
//! - Files with the same content and kind are copies of one drop (a re-delivery, whatever
//!   its name or stamp). The lake holds one of them, the *canonical* copy: the earliest by
//!   (stamp, name), whatever the order the copies arrive in; the others are recorded as its
//!   duplicates, nothing written. When a canonically earlier copy arrives after a later one
//!   was recorded, it takes over: its outputs are published and recorded, then the older
//!   copy's entry (and its duplicates') are rewritten to point at it — see [`HandOver`].
//! - Files without data rows (zero bytes, header only) are never copies: every day's empty
//!   drop looks alike.
//! - Failed files are retried.
//!
//! A run killed during a hand-over leaves two copies recorded as holding the content, or
//! duplicates pointing at the old copy; [`Ledger::new`] finds these and returns the entries
//! that put the manifest right, so the next run starts from a consistent manifest.
//!
//! In the chain: called by [`crate::run`]; imports nothing of this crate.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use chrono::NaiveDateTime;

use churnlake_lake::{FileStatus, Manifest, ManifestEntry, OutputFile, ReportKind};

/// Content hash and kind: what makes two files copies of one drop.
type ContentKey = (String, ReportKind);

/// A file of this run, as the rules see it.
pub(crate) struct Copy<'a> {
    pub name: &'a str,
    pub stamp: NaiveDateTime,
    pub kind: ReportKind,
    pub hash: &'a str,
    /// False for zero-byte and header-only files.
    pub has_rows: bool,
}

/// What to do with a file.
#[derive(Debug)]
pub(crate) enum Decision {
    /// Parse and publish it; when it takes over from a recorded copy, what to rewrite after.
    Ingest(Option<HandOver>),
    /// A copy of the canonical file `of` (an entry id): record it, write nothing.
    Duplicate { of: String },
    /// Same name and content as a recorded entry (`None`: met earlier in this run).
    AlreadyPresent(Option<Box<ManifestEntry>>),
}

/// A canonically earlier copy taking over from the recorded canonical copy. After the new
/// copy's outputs are published and its entry recorded, `demoted` is recorded (the old
/// copy, then its duplicates, all duplicates of the new copy), then the old copy's outputs
/// that the new copy did not overwrite are deleted.
#[derive(Debug)]
pub(crate) struct HandOver {
    /// The copy that held the content.
    pub replaced: String,
    pub demoted: Vec<ManifestEntry>,
    pub old_outputs: Vec<OutputFile>,
}

/// The canonical copy of one content.
#[derive(Debug)]
struct Canonical {
    id: String,
    /// (stamp, name): the earliest copy is canonical.
    order: (NaiveDateTime, String),
    /// Its manifest entry, when recorded before this run.
    recorded: Option<Box<ManifestEntry>>,
    /// The recorded duplicates of it.
    duplicates: Vec<ManifestEntry>,
}

/// The manifest as the rules see it, updated as the run decides.
#[derive(Debug)]
pub(crate) struct Ledger {
    /// Entry ids (name + content) recorded as ingested or duplicate, or met in this run.
    present: HashMap<String, Option<Box<ManifestEntry>>>,
    canonical: HashMap<ContentKey, Canonical>,
}

fn key_of(entry: &ManifestEntry) -> ContentKey {
    (entry.content_hash.clone(), entry.kind)
}

impl Ledger {
    /// The ledger of `manifest`, and the entries to record first to make it consistent
    /// (one canonical copy per content, every other copy a duplicate of it).
    pub fn new(manifest: &Manifest) -> (Ledger, Vec<ManifestEntry>) {
        let mut canonical: HashMap<ContentKey, Canonical> = HashMap::new();
        for entry in manifest.entries.iter().filter(|e| e.holds_content()) {
            let candidate = Canonical {
                id: entry.entry_id.clone(),
                order: (entry.stamp, entry.source_name.clone()),
                recorded: Some(Box::new(entry.clone())),
                duplicates: Vec::new(),
            };
            match canonical.entry(key_of(entry)) {
                Entry::Vacant(vacant) => {
                    vacant.insert(candidate);
                }
                Entry::Occupied(mut occupied) => {
                    let held = occupied.get();
                    if (&candidate.order, &candidate.id) < (&held.order, &held.id) {
                        occupied.insert(candidate);
                    }
                }
            }
        }
        let mut repairs = Vec::new();
        let mut present = HashMap::new();
        for entry in &manifest.entries {
            let copy_of = match entry.status {
                FileStatus::Duplicate => canonical.get_mut(&key_of(entry)),
                _ if entry.holds_content() => canonical.get_mut(&key_of(entry)),
                _ => None,
            };
            let kept = match (entry.status, copy_of) {
                // Retried: failed files, and duplicates of a content no recorded file holds.
                (FileStatus::Failed | FileStatus::Duplicate, None) => continue,
                (FileStatus::Failed, Some(canonical)) if canonical.id == entry.entry_id => continue,
                (_, None) => entry.clone(), // an empty drop
                (_, Some(canonical)) if canonical.id == entry.entry_id => entry.clone(),
                (status, Some(canonical)) => {
                    let up_to_date =
                        status == FileStatus::Duplicate && entry.duplicate_of.as_deref() == Some(&canonical.id);
                    let duplicate = if up_to_date {
                        entry.clone()
                    } else {
                        let repaired = entry.demoted_to(&canonical.id);
                        repairs.push(repaired.clone());
                        repaired
                    };
                    canonical.duplicates.push(duplicate.clone());
                    duplicate
                }
            };
            present.insert(entry.entry_id.clone(), Some(Box::new(kept)));
        }
        (Ledger { present, canonical }, repairs)
    }

    /// Decides what to do with a file; must be called in (stamp, name) order.
    pub fn decide(&mut self, copy: &Copy<'_>) -> Decision {
        let id = ManifestEntry::id_for(copy.name, copy.hash);
        let key = (copy.hash.to_owned(), copy.kind);
        let order = (copy.stamp, copy.name.to_owned());
        if let Some(recorded) = self.present.get(&id) {
            // A duplicate recorded before the canonical-copy rule existed may be the earlier
            // copy: it takes over. Anything else recorded is left as it is.
            let takes_over = recorded.as_ref().is_some_and(|entry| {
                entry.status == FileStatus::Duplicate
                    && self.canonical.get(&key).is_some_and(|canonical| order < canonical.order)
            });
            if !takes_over {
                return Decision::AlreadyPresent(recorded.clone());
            }
        }
        self.present.insert(id.clone(), None);
        if !copy.has_rows {
            return Decision::Ingest(None);
        }
        let fresh = |id: String, order| Canonical { id, order, recorded: None, duplicates: Vec::new() };
        match self.canonical.entry(key) {
            Entry::Vacant(vacant) => {
                vacant.insert(fresh(id, order));
                Decision::Ingest(None)
            }
            Entry::Occupied(occupied) if occupied.get().id == id => Decision::Ingest(None), // a failed file, retried
            Entry::Occupied(mut occupied) if order < occupied.get().order => {
                let old = occupied.insert(fresh(id.clone(), order));
                // A canonical copy met in this run is never later than this one (files come
                // in order), so `old` is a recorded one.
                let hand_over = old.recorded.map(|replaced| {
                    let demoted: Vec<ManifestEntry> = std::iter::once(&*replaced)
                        .chain(&old.duplicates)
                        .filter(|entry| entry.entry_id != id)
                        .map(|entry| entry.demoted_to(&id))
                        .collect();
                    for entry in &demoted {
                        self.present.insert(entry.entry_id.clone(), Some(Box::new(entry.clone())));
                    }
                    HandOver { replaced: replaced.source_name.clone(), demoted, old_outputs: replaced.outputs.clone() }
                });
                Decision::Ingest(hand_over)
            }
            Entry::Occupied(occupied) => Decision::Duplicate { of: occupied.get().id.clone() },
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, Utc};
    use churnlake_lake::StampStyle;

    use super::*;

    fn stamp(day: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2023, 5, day).and_then(|d| d.and_hms_opt(6, 0, 0)).expect("a valid stamp")
    }

    fn entry(name: &str, day: u32, hash: &str, status: FileStatus, rows: u64) -> ManifestEntry {
        ManifestEntry {
            entry_id: ManifestEntry::id_for(name, hash),
            source_name: name.to_owned(),
            source_path: format!("/drops/{name}"),
            size: 10,
            content_hash: hash.to_owned(),
            kind: ReportKind::Cancellations,
            stamp: stamp(day),
            stamp_style: StampStyle::Mmddyyyyhhmmss,
            delivery: None,
            data_date: stamp(day).date(),
            encoding: Some("utf-8".to_owned()),
            layout: None,
            rows_read: rows,
            rows_written: rows,
            rows_quarantined: 0,
            status,
            duplicate_of: None,
            error: None,
            outputs: if rows > 0 {
                vec![OutputFile { table: "cancellations".into(), path: format!("raw/{name}"), rows }]
            } else {
                Vec::new()
            },
            ingested_at: Utc::now(),
            churnlake_version: "0".to_owned(),
            quarantine_accepted_at: None,
            warnings: Vec::new(),
            pii: Default::default(),
        }
    }

    fn copy<'a>(name: &'a str, day: u32, hash: &'a str, has_rows: bool) -> Copy<'a> {
        Copy { name, stamp: stamp(day), kind: ReportKind::Cancellations, hash, has_rows }
    }

    fn id(name: &str, hash: &str) -> String {
        ManifestEntry::id_for(name, hash)
    }

    #[test]
    fn an_earlier_copy_takes_over_from_the_recorded_one_and_its_duplicates() {
        let mut duplicate = entry("c.csv", 9, "h1", FileStatus::Duplicate, 0);
        duplicate.duplicate_of = Some(id("b.csv", "h1"));
        let manifest = Manifest { entries: vec![entry("b.csv", 5, "h1", FileStatus::Ingested, 2), duplicate] };
        let (mut ledger, repairs) = Ledger::new(&manifest);
        assert!(repairs.is_empty());

        let Decision::Ingest(Some(hand_over)) = ledger.decide(&copy("a.csv", 3, "h1", true)) else {
            panic!("the earlier copy is ingested and takes over")
        };
        assert_eq!(hand_over.replaced, "b.csv");
        let demoted: Vec<(&str, Option<&str>, FileStatus)> =
            hand_over.demoted.iter().map(|e| (e.source_name.as_str(), e.duplicate_of.as_deref(), e.status)).collect();
        let a = id("a.csv", "h1");
        assert_eq!(
            demoted,
            [("b.csv", Some(a.as_str()), FileStatus::Duplicate), ("c.csv", Some(a.as_str()), FileStatus::Duplicate)]
        );
        assert!(hand_over.demoted.iter().all(|e| e.outputs.is_empty() && e.rows_read == 0));
        assert_eq!(hand_over.old_outputs[0].path, "raw/b.csv");
        assert!(matches!(ledger.decide(&copy("a2.csv", 4, "h1", true)), Decision::Duplicate { of } if of == a));
        let Decision::AlreadyPresent(Some(b)) = ledger.decide(&copy("b.csv", 5, "h1", true)) else {
            panic!("b is recorded")
        };
        assert_eq!(b.status, FileStatus::Duplicate, "reported as it now is");
    }

    #[test]
    fn a_later_copy_is_a_duplicate_whatever_its_data_date() {
        let manifest = Manifest { entries: vec![entry("a.csv", 3, "h1", FileStatus::Ingested, 2)] };
        let (mut ledger, _) = Ledger::new(&manifest);
        let of = id("a.csv", "h1");
        assert!(matches!(ledger.decide(&copy("z.csv", 20, "h1", true)), Decision::Duplicate { of: o } if o == of));
        assert!(matches!(ledger.decide(&copy("y.csv", 21, "h2", true)), Decision::Ingest(None)));
    }

    #[test]
    fn files_without_rows_are_never_duplicates() {
        let manifest = Manifest { entries: vec![entry("a.csv", 3, "empty", FileStatus::Ingested, 0)] };
        let (mut ledger, _) = Ledger::new(&manifest);
        assert!(matches!(ledger.decide(&copy("b.csv", 4, "empty", false)), Decision::Ingest(None)));
        assert!(matches!(ledger.decide(&copy("c.csv", 5, "empty", false)), Decision::Ingest(None)));
        assert!(matches!(ledger.decide(&copy("a.csv", 3, "empty", false)), Decision::AlreadyPresent(Some(_))));
    }

    #[test]
    fn an_interrupted_hand_over_is_completed_from_the_manifest() {
        // Killed after the earlier copy was recorded, before the older one was demoted.
        let mut stale_duplicate = entry("c.csv", 9, "h1", FileStatus::Duplicate, 0);
        stale_duplicate.duplicate_of = Some(id("b.csv", "h1"));
        let manifest = Manifest {
            entries: vec![
                entry("a.csv", 3, "h1", FileStatus::Ingested, 2),
                entry("b.csv", 5, "h1", FileStatus::Ingested, 2),
                stale_duplicate,
            ],
        };
        let (mut ledger, repairs) = Ledger::new(&manifest);
        let a = id("a.csv", "h1");
        let repaired: Vec<(&str, Option<&str>)> =
            repairs.iter().map(|e| (e.source_name.as_str(), e.duplicate_of.as_deref())).collect();
        assert_eq!(repaired, [("b.csv", Some(a.as_str())), ("c.csv", Some(a.as_str()))]);
        assert!(repairs.iter().all(|e| e.status == FileStatus::Duplicate && e.outputs.is_empty()));
        assert!(matches!(ledger.decide(&copy("a.csv", 3, "h1", true)), Decision::AlreadyPresent(Some(_))));
    }

    #[test]
    fn failed_files_are_retried_and_their_copies_stay_duplicates() {
        let mut failed = entry("a.csv", 3, "h1", FileStatus::Failed, 2);
        failed.rows_written = 0;
        let mut duplicate = entry("b.csv", 4, "h1", FileStatus::Duplicate, 0);
        duplicate.duplicate_of = Some(id("a.csv", "h1"));
        let (mut ledger, repairs) = Ledger::new(&Manifest { entries: vec![failed, duplicate] });
        assert!(repairs.is_empty());
        assert!(matches!(ledger.decide(&copy("a.csv", 3, "h1", true)), Decision::Ingest(None)));
        assert!(matches!(ledger.decide(&copy("b.csv", 4, "h1", true)), Decision::AlreadyPresent(Some(_))));
    }

    #[test]
    fn a_duplicate_recorded_as_the_later_copy_takes_over_when_seen_again() {
        // Recorded by an older rule: the earlier copy as the duplicate.
        let mut earlier = entry("a.csv", 3, "h1", FileStatus::Duplicate, 0);
        earlier.duplicate_of = Some(id("b.csv", "h1"));
        let manifest = Manifest { entries: vec![earlier, entry("b.csv", 5, "h1", FileStatus::Ingested, 2)] };
        let (mut ledger, _) = Ledger::new(&manifest);
        let Decision::Ingest(Some(hand_over)) = ledger.decide(&copy("a.csv", 3, "h1", true)) else {
            panic!("the earlier copy takes over")
        };
        let demoted: Vec<&str> = hand_over.demoted.iter().map(|e| e.source_name.as_str()).collect();
        assert_eq!(demoted, ["b.csv"], "not itself");
    }
}
