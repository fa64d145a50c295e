//! Data files no manifest entry lists: outputs published by a run killed before it recorded
//! their entry, or left by a copy that another copy took over from. Readers trust the
//! manifest and never see them; an ingest (holding the lock) deletes them before it starts,
//! so a published-but-unrecorded file does not wait for its source to come again.
//!
//! Only files named as ingest names its outputs are touched:
//! `raw/<kind>/data_date=YYYY-MM-DD/<kind>-<16 hex>.parquet` and
//! `quarantine/data_date=YYYY-MM-DD/<kind>-<16 hex>.parquet`.

use std::collections::HashSet;

use futures::TryStreamExt;
use object_store::ObjectStoreExt;
use object_store::path::Path;

use churnlake_lake::{Lake, LakeError, ManifestEntry, QUARANTINE_DIR, RAW_DIR, ReportKind, parse_partition};

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
            if !is_output_name(relative) || listed.contains(relative) {
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

/// True for a lake-relative path that ingest would name an output.
fn is_output_name(relative: &str) -> bool {
    let parts: Vec<&str> = relative.split('/').collect();
    let (table, partition, file) = match parts.as_slice() {
        [RAW_DIR, table, partition, file] => (Some(*table), *partition, *file),
        [QUARANTINE_DIR, partition, file] => (None, *partition, *file),
        _ => return false,
    };
    let Some((kind, hash)) = file.strip_suffix(".parquet").and_then(|stem| stem.rsplit_once('-')) else {
        return false;
    };
    parse_partition(partition).is_some()
        && ReportKind::parse(kind).is_some()
        && table.is_none_or(|table| table == kind)
        && hash.len() == 16
        && hash.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_output_names_match() {
        for path in [
            "raw/subscriptions/data_date=2023-05-01/subscriptions-0123456789abcdef.parquet",
            "raw/subscriber_events/data_date=2023-05-01/subscriber_events-0123456789abcdef.parquet",
            "quarantine/data_date=2023-05-01/orders-0123456789abcdef.parquet",
        ] {
            assert!(is_output_name(path), "{path}");
        }
        for path in [
            "raw/subscriptions/data_date=2023-05-01/notes.txt",
            "raw/subscriptions/data_date=2023-05-01/subscriptions-0123456789ABCDEF.parquet",
            "raw/subscriptions/data_date=2023-05-01/orders-0123456789abcdef.parquet",
            "raw/subscriptions/data_date=2023-13-01/subscriptions-0123456789abcdef.parquet",
            "raw/subscriptions/subscriptions-0123456789abcdef.parquet",
            "quarantine/data_date=2023-05-01/mine-0123456789abcdef.parquet",
            "quarantine/data_date=2023-05-01/orders-0123456789abcde.parquet",
            "derived/subscriptions.parquet",
        ] {
            assert!(!is_output_name(path), "{path}");
        }
    }
}
