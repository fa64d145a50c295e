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
    /// A test hook stopped a write where a killed process would have stopped.
    #[error("stopped on purpose: {0}")]
    Interrupted(String),
}

/// Result with [`LakeError`].
pub type Result<T, E = LakeError> = std::result::Result<T, E>;

impl LakeError {
    /// True when the request is at fault (a location that cannot be a lake, a lake
    /// another ingest holds), not the store or the machine.
    pub fn is_user_error(&self) -> bool {
        match self {
            LakeError::Location { .. } | LakeError::Locked { .. } => true,
            LakeError::Store { source, .. } => is_permanent(source),
            LakeError::Manifest { .. } | LakeError::Interrupted(_) => false,
        }
    }
}

/// True for a store error that retrying cannot mend and that the user must: credentials
/// refused (401, 403) or a bucket or container that does not exist. (Transient errors are
/// retried inside `object_store` before they get here.)
pub fn is_permanent(error: &object_store::Error) -> bool {
    // the store's error code is in the response body the error carries (a put or get in a
    // missing bucket is a 404 like a missing object: only the code tells them apart)
    let text = format!("{error} {error:?}");
    let coded = ["NoSuchBucket", "ContainerNotFound", "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch"]
        .iter()
        .any(|code| text.contains(code));
    coded
        || match error {
            object_store::Error::PermissionDenied { .. } | object_store::Error::Unauthenticated { .. } => true,
            object_store::Error::NotFound { .. } => false,
            _ => ["status code: 401", "status code: 403"].iter().any(|s| text.contains(s)),
        }
}
