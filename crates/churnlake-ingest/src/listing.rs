//! The sources of a run, listed: every drop file under each source (a local directory,
//! walked here with the file system's own calls; one local file; or an object-store URL),
//! the names that are not drops, and the entries that could not be listed or read as a
//! drop (reported, never fatal: the rest is ingested).
//!
//! A local directory is walked directly rather than through `object_store`'s local
//! listing, which stops at the first entry it cannot list (a symlink loop, an unreadable
//! directory, a name that is not UTF-8) and silently drops some names (`…#1`). Only regular
//! files are read: a FIFO, a device or a dangling symlink named like a drop is reported
//! (reading a FIFO or `/dev/zero` would never end).
//!
//! In the chain: called by [`crate::run`]; imports [`crate::classify`], [`crate::outcome`]'s
//! [`SourceProblem`] and the error type.

use std::collections::HashSet;
use std::path::{Path as FsPath, PathBuf};
use std::sync::Arc;

use futures::TryStreamExt;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};

use churnlake_lake::Location;

use crate::IngestError;
use crate::classify::{Classified, Classifier};
use crate::outcome::SourceProblem;

/// Directory levels a walk descends at most (a guard on systems without inode numbers).
const MAX_DEPTH: usize = 64;

/// Where a drop's bytes are read from.
#[derive(Debug, Clone)]
pub(crate) enum Origin {
    /// A regular local file (checked again just before it is read).
    Local(PathBuf),
    /// An object of a store.
    Store(Arc<dyn ObjectStore>, Path),
}

/// A listed file whose name is a drop's.
#[derive(Debug, Clone)]
pub(crate) struct Candidate {
    pub name: String,
    pub origin: Origin,
    /// Path or URL it was read from.
    pub source_path: String,
    pub size: u64,
    pub classified: Classified,
}

/// Everything listed under the sources of a run.
#[derive(Debug, Default)]
pub struct Listing {
    /// Sorted by stamp, name, path.
    pub(crate) candidates: Vec<Candidate>,
    /// Paths (relative to their source) of the names that match no pattern, sorted.
    pub(crate) skipped: Vec<String>,
    pub(crate) problems: Vec<SourceProblem>,
}

impl Listing {
    /// How many drop files were found.
    pub fn drops(&self) -> usize {
        self.candidates.len()
    }

    /// Entries that could not be listed, or named like a drop but not readable as one.
    pub fn problems(&self) -> &[SourceProblem] {
        &self.problems
    }
}

/// Lists every source. A source that does not exist or holds no drop file is a problem of
/// the run (reported, exit 1); when no source holds one the run is an error
/// ([`IngestError::NoDrops`]) and nothing is written. `store_options` open the
/// object-store sources (credentials, endpoint, region).
pub async fn list_sources(
    sources: &[Location],
    classifier: &Classifier,
    store_options: &[(String, String)],
) -> Result<Listing, IngestError> {
    let mut listing = Listing::default();
    let mut empty = Vec::new();
    for source in sources {
        let mut one = Listing::default();
        match source {
            Location::Local(path) => {
                let (path, classifier) = (path.clone(), classifier.clone());
                let (walked, skips) = tokio::task::spawn_blocking(move || walk_local(&path, &classifier))
                    .await
                    .map_err(|e| IngestError::Task { file: source.to_string(), reason: e.to_string() })?;
                // logged here, not on the blocking thread (see `Walk`)
                for problem in &walked.problems {
                    tracing::warn!(path = %problem.path, reason = %problem.reason, "cannot list or read this entry");
                }
                for (path, reason) in &skips {
                    tracing::info!(%path, "skipped: {reason}");
                }
                one = walked;
            }
            Location::Url(_) => list_store(source, classifier, store_options, &mut one).await?,
        }
        if one.candidates.is_empty() {
            let reason = match one.problems.first() {
                Some(problem) => format!("no drop file found ({}: {})", problem.path, problem.reason),
                None if one.skipped.is_empty() => "no drop file found (it is empty)".to_owned(),
                None => format!("no drop file found ({} files, none named like a drop)", one.skipped.len()),
            };
            empty.push((source.to_string(), reason.clone()));
            one.problems.push(SourceProblem { path: source.to_string(), reason });
        }
        listing.candidates.append(&mut one.candidates);
        listing.skipped.append(&mut one.skipped);
        listing.problems.append(&mut one.problems);
    }
    if listing.candidates.is_empty() {
        let (location, reason) = match empty.as_slice() {
            [(source, reason)] => (source.clone(), reason.clone()),
            _ => (
                empty.iter().map(|(s, _)| s.as_str()).collect::<Vec<_>>().join(", "),
                "no drop file found under any of them".to_owned(),
            ),
        };
        return Err(IngestError::NoDrops { location, reason });
    }
    listing.candidates.sort_by(|a, b| {
        (a.classified.stamp, &a.name, &a.source_path).cmp(&(b.classified.stamp, &b.name, &b.source_path))
    });
    listing.skipped.sort();
    Ok(listing)
}

/// Lists an object-store source: every object under its prefix, or the one object the URL
/// names.
async fn list_store(
    source: &Location,
    classifier: &Classifier,
    store_options: &[(String, String)],
    out: &mut Listing,
) -> Result<(), IngestError> {
    let (store, prefix) = source.open(false, store_options.iter().cloned())?;
    let list_prefix = (!prefix.as_ref().is_empty()).then_some(&prefix);
    let mut listed: Vec<_> = store
        .list(list_prefix)
        .try_collect()
        .await
        .map_err(|source_error| IngestError::List { location: source.to_string(), source: Box::new(source_error) })?;
    if listed.is_empty() && list_prefix.is_some() {
        // the URL may name one object
        if let Ok(meta) = store.head(&prefix).await {
            listed.push(meta);
        }
    }
    for meta in listed {
        let full = meta.location.as_ref();
        let relative = full.strip_prefix(prefix.as_ref()).unwrap_or(full).trim_start_matches('/');
        let name = meta.location.filename().unwrap_or(relative).to_owned();
        let source_path = if relative.is_empty() { source.to_string() } else { source.join(relative) };
        match classifier.check(&name) {
            Ok(Some(classified)) => out.candidates.push(Candidate {
                source_path,
                name,
                origin: Origin::Store(Arc::clone(&store), meta.location),
                size: meta.size,
                classified,
            }),
            Ok(None) => {
                tracing::info!(path = %source_path, "skipped: the name matches no pattern");
                out.skipped.push(if relative.is_empty() { name } else { relative.to_owned() });
            }
            Err(reason) => out.problems.push(SourceProblem { path: source_path, reason }),
        }
    }
    Ok(())
}

/// Walks a local source (a directory, recursively, or one file): the listing, and the
/// skipped paths with the reason each was skipped.
fn walk_local(root: &FsPath, classifier: &Classifier) -> (Listing, Vec<(String, String)>) {
    let mut walk = Walk { root, classifier, visited: HashSet::new(), out: Listing::default(), skips: Vec::new() };
    match std::fs::metadata(root) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => walk.problem(root, "does not exist".to_owned()),
        Err(e) => walk.problem(root, format!("cannot be read: {e}")),
        Ok(meta) if meta.is_dir() => walk.dir(root, &meta, 0),
        Ok(meta) => match root.file_name() {
            Some(name) => walk.entry(root, name, Ok(meta), true),
            None => walk.problem(root, "is not a file or a directory".to_owned()),
        },
    }
    (walk.out, walk.skips)
}

/// A walk of a local source. It runs on a blocking thread and logs nothing: the CLI's
/// thread holds the stderr lock while a command runs, so a log line written from another
/// thread would wait for it forever. What it found is logged by [`list_sources`].
struct Walk<'a> {
    root: &'a FsPath,
    classifier: &'a Classifier,
    /// (device, inode) of every directory entered: a symlink back up is a loop.
    visited: HashSet<(u64, u64)>,
    out: Listing,
    /// Skipped paths and why (logged at `-v`).
    skips: Vec<(String, String)>,
}

impl Walk<'_> {
    fn problem(&mut self, path: &FsPath, reason: String) {
        self.out.problems.push(SourceProblem { path: path.display().to_string(), reason });
    }

    fn skip(&mut self, path: &FsPath, reason: String) {
        self.skips.push((path.display().to_string(), reason));
        let relative = self.relative(path);
        self.out.skipped.push(relative);
    }

    fn relative(&self, path: &FsPath) -> String {
        match path.strip_prefix(self.root) {
            Ok(rel) if !rel.as_os_str().is_empty() => rel.to_string_lossy().into_owned(),
            _ => path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
        }
    }

    fn dir(&mut self, dir: &FsPath, meta: &std::fs::Metadata, depth: usize) {
        if let Some(id) = file_id(meta)
            && !self.visited.insert(id)
        {
            return self.problem(dir, "a symlink loop: this directory is already being listed".to_owned());
        }
        if depth > MAX_DEPTH {
            return self.problem(dir, format!("more than {MAX_DEPTH} directory levels deep (a symlink loop?)"));
        }
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(e) => return self.problem(dir, format!("cannot list this directory: {e}")),
        };
        let mut children = Vec::new();
        for entry in entries {
            match entry {
                Ok(entry) => children.push((entry.file_name(), entry.path())),
                Err(e) => self.problem(dir, format!("cannot list an entry of this directory: {e}")),
            }
        }
        children.sort();
        for (name, path) in children {
            match std::fs::metadata(&path) {
                Ok(child) if child.is_dir() => self.dir(&path, &child, depth + 1),
                other => self.entry(&path, &name, other, false),
            }
        }
    }

    /// One entry that is not a directory (`meta` follows symlinks). `named` is true for a
    /// file given as the source itself.
    fn entry(&mut self, path: &FsPath, name: &std::ffi::OsStr, meta: std::io::Result<std::fs::Metadata>, named: bool) {
        let Some(name) = name.to_str() else {
            return self.problem(path, "the name is not valid UTF-8".to_owned());
        };
        if let Some(c) = name.chars().find(|c| c.is_control()) {
            return self.problem(path, format!("the name holds a control character ({c:?})"));
        }
        let classified = self.classifier.check(name);
        let looks_like_drop = !matches!(classified, Ok(None));
        let meta = match meta {
            Ok(meta) => meta,
            Err(e) => {
                let is_link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
                let reason = match (is_link, e.raw_os_error()) {
                    (true, Some(40)) => "a symlink loop".to_owned(),
                    (true, _) => format!("a dangling symlink ({e})"),
                    (false, _) => format!("cannot be read: {e}"),
                };
                if looks_like_drop || named || !is_link || e.raw_os_error() == Some(40) {
                    return self.problem(path, reason);
                }
                return self.skip(path, reason);
            }
        };
        if !meta.is_file() {
            if looks_like_drop || named {
                return self.problem(path, format!("not a regular file ({}): not read", describe(&meta)));
            }
            return self.skip(path, format!("not a regular file ({})", describe(&meta)));
        }
        match classified {
            Ok(Some(classified)) => self.out.candidates.push(Candidate {
                name: name.to_owned(),
                origin: Origin::Local(path.to_path_buf()),
                source_path: path.display().to_string(),
                size: meta.len(),
                classified,
            }),
            Ok(None) => self.skip(path, "the name matches no pattern".to_owned()),
            Err(reason) => self.problem(path, reason),
        }
    }
}

/// What kind of file a non-regular, non-directory entry is.
fn describe(meta: &std::fs::Metadata) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let file_type = meta.file_type();
        if file_type.is_fifo() {
            return "a FIFO";
        }
        if file_type.is_char_device() {
            return "a character device";
        }
        if file_type.is_block_device() {
            return "a block device";
        }
        if file_type.is_socket() {
            return "a socket";
        }
    }
    let _ = meta;
    "a special file"
}

#[cfg(unix)]
fn file_id(meta: &std::fs::Metadata) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    Some((meta.dev(), meta.ino()))
}

#[cfg(not(unix))]
fn file_id(_meta: &std::fs::Metadata) -> Option<(u64, u64)> {
    None
}

/// Reads a local drop, refusing anything that is no longer a regular file (a FIFO put in
/// its place would block the read forever).
pub(crate) fn read_local(path: &FsPath) -> std::io::Result<Vec<u8>> {
    let meta = std::fs::metadata(path)?;
    if !meta.is_file() {
        return Err(std::io::Error::other(format!("not a regular file ({})", describe(&meta))));
    }
    std::fs::read(path)
}
