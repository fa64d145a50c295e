//! Data files no manifest entry lists: outputs published by a run killed before it recorded
//! their entry, or left by a copy that another copy took over from. Readers trust the
//! manifest and never see them; an ingest (holding the lock) deletes them before it starts,
//! so a published-but-unrecorded file does not wait for its source to come again.
//!
//! Only files named as ingest names its outputs are touched: the paths the lake's layout
//! parses as outputs (`churnlake_lake::parse_output_path`), under `raw/` and `quarantine/`.
//!
//! In the chain: called by [`crate::run`] before any file is processed; imports nothing of
//! this crate but its error type.

use std::collections::HashSet;

use futures::TryStreamExt;
use object_store::ObjectStoreExt;
use object_store::path::Path;

use churnlake_lake::{Lake, LakeError, ManifestEntry, QUARANTINE_DIR, RAW_DIR, parse_output_path};

use crate::IngestError;

/// Deletes the data files of the lake that match the output naming scheme and that no entry
/// of `entries` lists; returns their lake-relative paths.
pub(crate) async fn remove_unlisted_outputs<'e>(
    lake: &Lake,
    entries: impl IntoIterator<Item = &'e ManifestEntry>,
) -> Result<Vec<String>, IngestError> {
    let listed: HashSet<&str> =
        entries.into_iter().flat_map(|entry| entry.outputs.iter()).map(|output| output.path.as_str()).collect();
    let mut removed = Vec::new();
    for dir in [RAW_DIR, QUARANTINE_DIR] {
        let prefix = lake.path(dir);
        let found: Vec<Path> = lake
            .store()
            .list(Some(&prefix))
            .map_ok(|meta| meta.location)
            .try_collect()
            .await
            .map_err(|source| LakeError::Store { path: prefix.to_string(), source })?;
        for path in found {
            let Some(rest) = path.as_ref().strip_prefix(prefix.as_ref()) else {
                continue;
            };
            let relative = format!("{dir}/{}", rest.trim_start_matches('/'));
            let relative = relative.as_str();
            if parse_output_path(relative).is_none() || listed.contains(relative) {
                continue;
            }
            match lake.store().delete(&path).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => {}
                Err(source) => return Err(LakeError::Store { path: path.to_string(), source }.into()),
            }
            tracing::warn!(path = %relative, "removed a data file no manifest entry lists (left by an interrupted run)");
            removed.push(relative.to_owned());
        }
    }
    removed.sort();
    Ok(removed)
}
