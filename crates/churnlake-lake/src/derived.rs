//! What `churnlake build` last published: `derived/_build.json` names the manifest state
//! the derived tables were computed from and each table file as published (size and
//! e-tag), so a reader can tell a stale set (drops arrived since) or a mixed one (a build
//! stopped between two tables) from a whole, current one.
//!
//! A build publishes its tables as one set ([`DerivedState::publish`]): every table is
//! staged first, then `derived/_publishing.json` names the moves (the commit point), then
//! the tables move into place and the record is written. A build stopped before the
//! journal leaves the previous set as it was (its staged files are swept); one stopped
//! after it is finished by the next writer (`build` or `ingest`, through
//! [`Lake::clear_staging`]), so the set in place is always one build's once a writer has
//! run.

use chrono::{DateTime, NaiveDateTime, Utc};
use object_store::ObjectStoreExt;
use serde::{Deserialize, Serialize};

use crate::layout::{DERIVED_DIR, derived_path};
use crate::manifest::Manifest;
use crate::{Lake, LakeError, Result};

/// The file recording the last build, relative to the lake root.
///
/// ```
/// assert_eq!(churnlake_lake::derived_state_path(), "derived/_build.json");
/// ```
pub fn derived_state_path() -> String {
    format!("{DERIVED_DIR}/_build.json")
}

/// The journal of a set of derived tables being published, relative to the lake root.
///
/// ```
/// assert_eq!(churnlake_lake::publication_path(), "derived/_publishing.json");
/// ```
pub fn publication_path() -> String {
    format!("{DERIVED_DIR}/_publishing.json")
}

/// A set of derived tables being published: the staged file of every table and the
/// manifest state the set was computed from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Publication {
    built_at: DateTime<Utc>,
    drops: usize,
    newest_stamp: Option<NaiveDateTime>,
    moves: Vec<Move>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct Move {
    table: String,
    /// Both relative to the lake root.
    staged: String,
    path: String,
}

impl Publication {
    /// Moves every table still staged into place, writes the record, removes the journal.
    async fn complete(&self, lake: &Lake) -> Result<DerivedState> {
        for step in &self.moves {
            lake.move_into_place(&step.staged, &step.path).await?;
        }
        let mut files = Vec::new();
        for step in &self.moves {
            let location = lake.path(&step.path);
            let meta = lake
                .store()
                .head(&location)
                .await
                .map_err(|source| LakeError::Store { path: location.to_string(), source })?;
            files.push(DerivedFile {
                table: step.table.clone(),
                path: step.path.clone(),
                size: meta.size,
                e_tag: meta.e_tag,
            });
        }
        let state = DerivedState { built_at: self.built_at, drops: self.drops, newest_stamp: self.newest_stamp, files };
        state.record(lake).await?;
        let journal = lake.path(&publication_path());
        match lake.store().delete(&journal).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(state),
            Err(source) => Err(LakeError::Store { path: journal.to_string(), source }),
        }
    }
}

/// Finishes a publication a stopped build left (its journal exists): `Ok(true)` when there
/// was one. Call while holding the lock, before the staging area is swept.
pub(crate) async fn finish_publication(lake: &Lake) -> Result<bool> {
    let rel = publication_path();
    let bytes = match lake.store().get(&lake.path(&rel)).await {
        Ok(result) => result.bytes().await.map_err(|source| LakeError::Store { path: rel.clone(), source })?,
        Err(object_store::Error::NotFound { .. }) => return Ok(false),
        Err(source) => return Err(LakeError::Store { path: rel, source }),
    };
    let publication: Publication =
        serde_json::from_slice(&bytes).map_err(|source| LakeError::Manifest { path: rel.clone(), source })?;
    publication.complete(lake).await?;
    Ok(true)
}

/// One published derived table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DerivedFile {
    pub table: String,
    /// Relative to the lake root.
    pub path: String,
    pub size: u64,
    pub e_tag: Option<String>,
}

/// The manifest state a set of derived tables was computed from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DerivedState {
    pub built_at: DateTime<Utc>,
    /// Ingested drops (the figures' inputs) and the newest stamp of any drop.
    pub drops: usize,
    pub newest_stamp: Option<NaiveDateTime>,
    pub files: Vec<DerivedFile>,
}

/// How a set of derived tables stands against the lake now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DerivedStatus {
    /// Every table is the last build's, and no drop arrived since.
    Current,
    /// Built before the lake's latest drops: `built` is what they were computed from.
    Stale { built: DerivedState, drops: usize, newest_stamp: Option<NaiveDateTime> },
    /// The tables are not one build's (a build stopped while publishing), or no build
    /// record exists beside them.
    Mixed { tables: Vec<String> },
}

impl DerivedState {
    /// The state of `manifest` with the published `tables` (looked up in the store).
    pub async fn of(lake: &Lake, manifest: &Manifest, tables: &[&str]) -> Result<DerivedState> {
        let mut files = Vec::new();
        for table in tables {
            let path = derived_path(table);
            let location = lake.path(&path);
            let meta = lake
                .store()
                .head(&location)
                .await
                .map_err(|source| LakeError::Store { path: location.to_string(), source })?;
            files.push(DerivedFile { table: (*table).to_owned(), path, size: meta.size, e_tag: meta.e_tag });
        }
        Ok(DerivedState {
            built_at: Utc::now(),
            drops: manifest.ingested().count(),
            newest_stamp: manifest.stamp_range().map(|r| r.1),
            files,
        })
    }

    /// Publishes `staged` (each table's name and its file staged with [`Lake::stage`]) as
    /// one set computed from `manifest`, each table to [`derived_path`], and records it;
    /// returns the record. Call while holding the lock. `stop_after` (a test hook) stops
    /// with [`LakeError::Interrupted`] once that many tables have moved into place, where a
    /// build killed there would stop.
    pub async fn publish(
        lake: &Lake,
        manifest: &Manifest,
        staged: Vec<(String, String)>,
        stop_after: Option<usize>,
    ) -> Result<DerivedState> {
        let moves =
            staged.into_iter().map(|(table, staged)| Move { path: derived_path(&table), table, staged }).collect();
        let publication = Publication {
            built_at: Utc::now(),
            drops: manifest.ingested().count(),
            newest_stamp: manifest.stamp_range().map(|r| r.1),
            moves,
        };
        let rel = publication_path();
        let bytes = serde_json::to_vec_pretty(&publication)
            .map_err(|source| LakeError::Manifest { path: rel.clone(), source })?;
        lake.put_atomic(&rel, bytes).await?;
        if let Some(count) = stop_after {
            for step in publication.moves.iter().take(count) {
                lake.move_into_place(&step.staged, &step.path).await?;
            }
            return Err(LakeError::Interrupted(format!("publication stopped after {count} table(s)")));
        }
        publication.complete(lake).await
    }

    /// Writes the record (after the tables are published).
    pub async fn record(&self, lake: &Lake) -> Result<()> {
        let rel = derived_state_path();
        let bytes =
            serde_json::to_vec_pretty(self).map_err(|source| LakeError::Manifest { path: rel.clone(), source })?;
        lake.put_atomic(&rel, bytes).await
    }

    /// How the derived tables `tables` (those that exist) stand against `manifest`.
    pub async fn status(lake: &Lake, manifest: &Manifest, tables: &[&str]) -> Result<DerivedStatus> {
        let rel = derived_state_path();
        let built: Option<DerivedState> = match lake.store().get(&lake.path(&rel)).await {
            Ok(result) => {
                let bytes = result.bytes().await.map_err(|source| LakeError::Store { path: rel.clone(), source })?;
                Some(
                    serde_json::from_slice(&bytes)
                        .map_err(|source| LakeError::Manifest { path: rel.clone(), source })?,
                )
            }
            Err(object_store::Error::NotFound { .. }) => None,
            Err(source) => return Err(LakeError::Store { path: rel, source }),
        };
        let Some(built) = built else {
            return Ok(DerivedStatus::Mixed { tables: tables.iter().map(|t| (*t).to_owned()).collect() });
        };
        let now = DerivedState::of(lake, manifest, tables).await?;
        let mixed: Vec<String> = now
            .files
            .iter()
            .filter(|file| {
                !built.files.iter().any(|b| b.path == file.path && b.size == file.size && b.e_tag == file.e_tag)
            })
            .map(|file| file.table.clone())
            .collect();
        if !mixed.is_empty() {
            return Ok(DerivedStatus::Mixed { tables: mixed });
        }
        if (built.drops, built.newest_stamp) != (now.drops, now.newest_stamp) {
            return Ok(DerivedStatus::Stale { built, drops: now.drops, newest_stamp: now.newest_stamp });
        }
        Ok(DerivedStatus::Current)
    }
}
