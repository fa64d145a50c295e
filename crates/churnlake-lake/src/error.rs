//! The lake crate's one error type: every variant says which path or value it is about.

/// Errors reading or writing the lake.
#[derive(Debug, thiserror::Error)]
pub enum LakeError {
    #[error("invalid location `{location}`: {reason}")]
    Location { location: String, reason: String },
    #[error("storage error at `{path}`: {source}")]
    Store {
        path: String,
        #[source]
        source: object_store::Error,
    },
    #[error("manifest entry `{path}` is not valid: {source}")]
    Manifest {
        path: String,
        #[source]
        source: serde_json::Error,
    },
    #[error(
        "the lake at `{lake}` is locked by another {command} (pid {pid} on {host}, since {since}); \
         wait for it to finish, or remove `{lock}` if no {command} is running"
    )]
    Locked { lake: String, command: &'static str, pid: u32, host: String, since: String, lock: String },
}

/// Result with [`LakeError`].
pub type Result<T, E = LakeError> = std::result::Result<T, E>;

impl LakeError {
    /// True when the request is at fault (a location that cannot be a lake, a lake
    /// another ingest holds), not the store or the machine.
    pub fn is_user_error(&self) -> bool {
        matches!(self, LakeError::Location { .. } | LakeError::Locked { .. })
    }
}
