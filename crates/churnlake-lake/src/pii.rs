//! What a lake does with personal data (`[ingest] pii`): the policy every manifest entry
//! records, so that a lake never mixes files written under different policies or keys.
//!
//! The hashing itself is ingest's; this is only the record of it.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// What ingest writes for the columns carrying personal data (email addresses, first and
/// last names, and merchant user ids when configured).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PiiPolicy {
    /// The values as delivered.
    #[default]
    Keep,
    /// A keyed hash of the value (HMAC-SHA-256, hex).
    Hash,
    /// Null.
    Drop,
}

impl PiiPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            PiiPolicy::Keep => "keep",
            PiiPolicy::Hash => "hash",
            PiiPolicy::Drop => "drop",
        }
    }
}

impl fmt::Display for PiiPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for PiiPolicy {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        [PiiPolicy::Keep, PiiPolicy::Hash, PiiPolicy::Drop]
            .into_iter()
            .find(|p| p.as_str() == text.trim())
            .ok_or_else(|| format!("`{text}`: expected keep, hash or drop"))
    }
}

/// The personal-data policy that wrote a file, as its manifest entry records it. Entries
/// written before policies existed read as `keep` (what was done then).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PiiRecord {
    pub policy: PiiPolicy,
    /// Under `hash`: the key's fingerprint (HMAC-SHA-256 of a fixed label under the key,
    /// first 16 hex digits), which tells keys apart and reveals nothing of them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_fingerprint: Option<String>,
    /// Whether merchant user ids were treated as personal data too (never under `keep`).
    #[serde(default)]
    pub user_ids: bool,
}

impl fmt::Display for PiiRecord {
    /// `keep`, `drop (user ids too)`, `hash (key 0123456789abcdef)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.policy.as_str())?;
        if let Some(fingerprint) = &self.key_fingerprint {
            write!(f, " (key {fingerprint})")?;
        }
        if self.user_ids {
            f.write_str(" with merchant user ids")?;
        }
        Ok(())
    }
}
