//! The generator's one error type. Generation touches the file system only, so
//! every variant that can happen at run time says which path it is about.

use std::path::PathBuf;

/// Errors from [`generate`](crate::generate) and from parsing a [`Preset`](crate::Preset).
#[derive(Debug, thiserror::Error)]
pub enum GenerateError {
    /// The options cannot produce a data set (e.g. zero days).
    #[error("invalid generate options: {reason}")]
    InvalidOptions { reason: String },
    /// A preset name that is not `demo`, `large` or `xl`.
    #[error("unknown preset `{name}` (expected one of: demo, large, xl)")]
    UnknownPreset { name: String },
    /// `OUT/drops` or `OUT/truth` already holds files; the generator never mixes runs.
    #[error("output directory `{path}` is not empty; remove it or choose another output")]
    OutputNotEmpty { path: PathBuf },
    /// A directory could not be created or listed.
    #[error("cannot create or read directory `{path}`: {source}")]
    Directory {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A file could not be written.
    #[error("cannot write `{path}`: {source}")]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A text meant for a Windows-1252 file holds a character that encoding lacks.
    #[error("`{path}` cannot be encoded as windows-1252 without loss")]
    Encoding { path: PathBuf },
    /// The summary could not be serialised.
    #[error("cannot serialise `{path}`: {source}")]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
}

impl GenerateError {
    /// True when the request is at fault (options, preset, a non-empty output), not the
    /// machine.
    pub fn is_user_error(&self) -> bool {
        matches!(
            self,
            GenerateError::InvalidOptions { .. }
                | GenerateError::UnknownPreset { .. }
                | GenerateError::OutputNotEmpty { .. }
        )
    }
}
