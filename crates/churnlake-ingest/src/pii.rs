//! Personal data under the run's policy (`[ingest] pii`): which columns carry it, and what
//! is written for them — in the tables, in the quarantine's `raw_record` and `value`, and
//! in every message that quotes a rejected value.
//!
//! The classes: email addresses, first and last names, and merchant user ids when
//! configured. A column belongs to a class by its header (compared by letters and digits,
//! case ignored): ending in `email` or `emailaddress`; ending in `firstname`, `lastname`,
//! `fullname` or `customername`; ending in `merchantuserid` (only with `user_ids`). The
//! same rule finds them in every kind (the reports' known and extra columns, the generic
//! kinds' columns, the subscriber events' email and merchant user id fields).
//!
//! `hash` writes the HMAC-SHA-256 of the value under the run's key as 64 lower-case hex
//! digits. The value is normalised first so that one person hashes alike in every file:
//! emails and names are trimmed and lower-cased, merchant user ids trimmed. `drop` writes
//! null. `keep` writes the value.
//!
//! In the quarantine (when the policy is not `keep`): a record whose fields line up with
//! its file's columns is written back as CSV with its personal fields hashed or emptied,
//! and any other field holding an `@` treated as an email; a record that cannot be split
//! into the file's columns (an unreadable header or record, a wrong number of fields) has
//! its text withheld entirely ([`WITHHELD`]). A rejected value from a personal column, or
//! holding an `@`, is hashed or dropped, in the `value` column and in the reason's text.
//!
//! In the chain: a leaf beside [`crate::table`] (used by the kinds' parsers, through the
//! [`crate::table::Lineage`] every parser gets, and by [`crate::run`]); imports
//! [`crate::records`] and [`crate::table`]'s rejection.

use std::fmt;

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use churnlake_lake::{PiiPolicy, PiiRecord};

use crate::IngestError;
use crate::records::Record;
use crate::table::{Rejection, Value};

type HmacSha256 = Hmac<Sha256>;

/// The shortest key accepted (128 bits).
pub const MIN_PII_KEY_BYTES: usize = 16;

/// What the key's fingerprint is the HMAC of.
const FINGERPRINT_LABEL: &[u8] = b"churnlake pii key fingerprint v1";

/// Hex digits of the fingerprint kept.
const FINGERPRINT_LEN: usize = 16;

/// The quarantine's `raw_record` for a record that cannot be masked field by field.
pub const WITHHELD: &str = "[withheld: the record could not be split into the file's columns, so its personal data \
                            could not be masked]";

/// The key of `hash`: secret bytes from the environment or a key file, never from the
/// command line or the lake. Its `Debug` shows the fingerprint only.
#[derive(Clone, PartialEq, Eq)]
pub struct PiiKey(Vec<u8>);

impl PiiKey {
    /// A key of at least [`MIN_PII_KEY_BYTES`] bytes; `origin` names where it came from, for
    /// the error.
    pub fn new(bytes: Vec<u8>, origin: &str) -> Result<PiiKey, IngestError> {
        if bytes.len() < MIN_PII_KEY_BYTES {
            return Err(IngestError::PiiKey {
                reason: format!(
                    "the key from {origin} has {} bytes; a key needs at least {MIN_PII_KEY_BYTES} (e.g. `openssl rand \
                     -hex 32`)",
                    bytes.len()
                ),
            });
        }
        Ok(PiiKey(bytes))
    }

    /// HMAC-SHA-256 of a fixed label under the key, first 16 hex digits: tells keys apart,
    /// reveals nothing of them.
    pub fn fingerprint(&self) -> String {
        let mut hex = hex(&hmac(&keyed(&self.0), FINGERPRINT_LABEL));
        hex.truncate(FINGERPRINT_LEN);
        hex
    }
}

impl fmt::Debug for PiiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PiiKey(fingerprint {})", self.fingerprint())
    }
}

/// The run's personal-data settings.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PiiOptions {
    pub policy: PiiPolicy,
    /// Required under `hash`, ignored otherwise.
    pub key: Option<PiiKey>,
    /// Treat merchant user ids as personal data too.
    pub user_ids: bool,
}

impl PiiOptions {
    /// What the manifest records of these settings.
    pub fn record(&self) -> PiiRecord {
        match self.policy {
            PiiPolicy::Keep => PiiRecord::default(),
            PiiPolicy::Drop => PiiRecord { policy: PiiPolicy::Drop, key_fingerprint: None, user_ids: self.user_ids },
            PiiPolicy::Hash => PiiRecord {
                policy: PiiPolicy::Hash,
                key_fingerprint: self.key.as_ref().map(PiiKey::fingerprint),
                user_ids: self.user_ids,
            },
        }
    }

    /// The masker of a run; an error under `hash` without a key.
    pub(crate) fn masker(&self) -> Result<Masker, IngestError> {
        let mac = match (self.policy, &self.key) {
            (PiiPolicy::Hash, Some(key)) => Some(keyed(&key.0)),
            (PiiPolicy::Hash, None) => {
                return Err(IngestError::PiiKey {
                    reason: "pii = \"hash\" needs a key, and none was given".to_owned(),
                });
            }
            _ => None,
        };
        Ok(Masker { policy: self.policy, mac, user_ids: self.user_ids })
    }
}

/// A class of personal data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PiiClass {
    Email,
    Name,
    UserId,
}

impl PiiClass {
    /// The value as hashed: emails and names trimmed and lower-cased, user ids trimmed.
    fn normalise(self, value: &str) -> String {
        match self {
            PiiClass::Email | PiiClass::Name => value.trim().to_lowercase(),
            PiiClass::UserId => value.trim().to_owned(),
        }
    }
}

/// Applies the run's policy to values (cheap to clone: the keyed state is copied, not the key).
#[derive(Clone)]
pub(crate) struct Masker {
    policy: PiiPolicy,
    /// The HMAC keyed once; cloned for each value.
    mac: Option<HmacSha256>,
    user_ids: bool,
}

impl fmt::Debug for Masker {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Masker").field("policy", &self.policy).field("user_ids", &self.user_ids).finish()
    }
}

impl Masker {
    /// Values as they are (the parsers' unit tests).
    #[cfg(test)]
    pub fn keep() -> Masker {
        Masker { policy: PiiPolicy::Keep, mac: None, user_ids: false }
    }

    pub fn is_keep(&self) -> bool {
        self.policy == PiiPolicy::Keep
    }

    /// The class of a column by its header (or lake column name), under these settings.
    pub fn class_of(&self, header: &str) -> Option<PiiClass> {
        let name: String = header.chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect();
        let ends = |suffixes: &[&str]| suffixes.iter().any(|s| name.ends_with(s));
        if ends(&["email", "emailaddress"]) {
            Some(PiiClass::Email)
        } else if ends(&["firstname", "lastname", "fullname", "customername"]) {
            Some(PiiClass::Name)
        } else if self.user_ids && name.ends_with("merchantuserid") {
            Some(PiiClass::UserId)
        } else {
            None
        }
    }

    /// The value written for `value` of `class`: itself, its hash, or nothing (null).
    pub fn mask(&self, class: PiiClass, value: &str) -> Option<String> {
        match self.policy {
            PiiPolicy::Keep => Some(value.to_owned()),
            PiiPolicy::Drop => None,
            PiiPolicy::Hash => {
                let mac = self.mac.as_ref()?;
                Some(hex(&hmac(mac, class.normalise(value).as_bytes())))
            }
        }
    }

    /// [`Masker::mask`] as a typed cell.
    pub fn value(&self, class: PiiClass, value: &str) -> Value {
        self.mask(class, value).map_or(Value::Null, Value::Text)
    }
}

/// Where one file's personal data is: by field position (when its records can be lined up
/// with its columns) and by the column names its rejections use.
pub(crate) struct FileMask<'m> {
    masker: &'m Masker,
    /// (position, class) of the personal fields; `None` when the file's records cannot be
    /// lined up with columns (an unreadable or too wide header).
    fields: Option<Vec<(usize, PiiClass)>>,
    /// The record widths the positions hold for.
    widths: Vec<usize>,
    /// The column names rejections use, with their class.
    columns: Vec<(String, PiiClass)>,
}

impl<'m> FileMask<'m> {
    /// A file whose records cannot be lined up with columns.
    pub fn unknown(masker: &'m Masker) -> FileMask<'m> {
        FileMask { masker, fields: None, widths: Vec::new(), columns: Vec::new() }
    }

    /// A header file: its columns' classes come from their headers (as written).
    pub fn by_header(masker: &'m Masker, headers: &[String]) -> FileMask<'m> {
        let mut fields = Vec::new();
        let mut columns = Vec::new();
        for (position, header) in headers.iter().enumerate() {
            if let Some(class) = masker.class_of(header) {
                fields.push((position, class));
                columns.push((header.trim().to_owned(), class));
            }
        }
        FileMask { masker, fields: Some(fields), widths: vec![headers.len()], columns }
    }

    /// Fields at fixed positions (a headerless file): `columns` names them as its
    /// rejections do.
    pub fn at(masker: &'m Masker, fields: Vec<(usize, PiiClass)>, widths: Vec<usize>, columns: &[&str]) -> Self {
        let columns = columns.iter().filter_map(|c| Some(((*c).to_owned(), masker.class_of(c)?))).collect();
        FileMask { masker, fields: Some(fields), widths, columns }
    }

    /// The class of the field at `position` (for records of the file's width).
    pub fn class_at(&self, position: usize) -> Option<PiiClass> {
        self.fields.as_ref()?.iter().find(|(p, _)| *p == position).map(|(_, class)| *class)
    }

    /// The quarantine's `raw_record` for `record`.
    pub fn raw_record(&self, record: &Record) -> String {
        if self.masker.is_keep() {
            return record.raw.to_owned();
        }
        let Some(fields) = &self.fields else {
            return WITHHELD.to_owned();
        };
        if record.defect.is_some() || !self.widths.contains(&record.fields.len()) {
            return WITHHELD.to_owned();
        }
        let class_of = |position: usize, field: &str| {
            fields.iter().find(|(p, _)| *p == position).map(|(_, class)| *class).or_else(|| looks_like_email(field))
        };
        let personal = record.fields.iter().enumerate().any(|(i, f)| !f.trim().is_empty() && class_of(i, f).is_some());
        if !personal {
            return record.raw.to_owned();
        }
        let masked: Vec<String> = record
            .fields
            .iter()
            .enumerate()
            .map(|(i, field)| match class_of(i, field) {
                Some(class) if !field.trim().is_empty() => self.masker.mask(class, field).unwrap_or_default(),
                _ => field.clone(),
            })
            .collect();
        write_csv_record(&masked).unwrap_or_else(|| WITHHELD.to_owned())
    }

    /// A rejection as the quarantine and messages may show it: a value of a personal
    /// column, or one holding an `@`, is hashed or dropped (in the reason too).
    pub fn rejection(&self, mut rejection: Rejection) -> Rejection {
        if self.masker.is_keep() {
            return rejection;
        }
        let Some(value) = rejection.value.clone().filter(|v| !v.trim().is_empty()) else {
            return rejection;
        };
        let by_column = rejection
            .column
            .as_deref()
            .and_then(|column| self.columns.iter().find(|(c, _)| c == column).map(|(_, class)| *class));
        if let Some(class) = by_column.or_else(|| looks_like_email(&value)) {
            let masked = self.masker.mask(class, &value);
            let shown = masked.clone().unwrap_or_else(|| "(dropped)".to_owned());
            rejection.reason = rejection.reason.replace(value.as_str(), &shown);
            rejection.value = masked;
        }
        rejection
    }
}

/// Any field holding an `@` is taken for an email address in the quarantine.
fn looks_like_email(field: &str) -> Option<PiiClass> {
    field.contains('@').then_some(PiiClass::Email)
}

/// Fields as one CSV record (quoted where needed, no line ending).
fn write_csv_record(fields: &[String]) -> Option<String> {
    let mut writer = csv::WriterBuilder::new().terminator(csv::Terminator::Any(b'\n')).from_writer(Vec::new());
    writer.write_record(fields).ok()?;
    let mut text = String::from_utf8(writer.into_inner().ok()?).ok()?;
    if text.ends_with('\n') {
        text.pop();
    }
    Some(text)
}

fn keyed(key: &[u8]) -> HmacSha256 {
    // HMAC takes a key of any length: this never fails
    match HmacSha256::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC accepts keys of every length"),
    }
}

fn hmac(keyed: &HmacSha256, message: &[u8]) -> [u8; 32] {
    let mut mac = keyed.clone();
    mac.update(message);
    let code = mac.finalize().into_bytes();
    let mut bytes = [0u8; 32];
    bytes.copy_from_slice(&code);
    bytes
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut text = String::with_capacity(bytes.len() * 2);
    for byte in bytes {
        text.push(char::from(DIGITS[usize::from(byte >> 4)]));
        text.push(char::from(DIGITS[usize::from(byte & 0x0f)]));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::read_records;

    fn options(policy: PiiPolicy) -> PiiOptions {
        let key = PiiKey::new(b"0123456789abcdef-test-key".to_vec(), "a test").expect("long enough");
        PiiOptions { policy, key: Some(key), user_ids: true }
    }

    #[test]
    fn hmac_sha256_matches_the_rfc_4231_vector() {
        // RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?"
        let code = hex(&hmac(&keyed(b"Jefe"), b"what do ya want for nothing?"));
        assert_eq!(code, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    }

    #[test]
    fn hashes_are_stable_and_normalised() {
        let masker = options(PiiPolicy::Hash).masker().expect("a key");
        let a = masker.mask(PiiClass::Email, " Ann.Smith@Example.com ").expect("hashed");
        assert_eq!(Some(a.clone()), masker.mask(PiiClass::Email, "ann.smith@example.com"));
        assert_eq!(a.len(), 64);
        assert!(a.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_ne!(Some(a), masker.mask(PiiClass::Email, "ann.smith2@example.com"));
        // another key, another hash
        let other = PiiOptions {
            key: Some(PiiKey::new(b"another key of enough length".to_vec(), "a test").expect("long enough")),
            ..options(PiiPolicy::Hash)
        };
        let other = other.masker().expect("a key");
        assert_ne!(other.mask(PiiClass::Name, "Ann"), masker.mask(PiiClass::Name, "Ann"));
        assert_eq!(options(PiiPolicy::Drop).masker().expect("no key needed").mask(PiiClass::Name, "Ann"), None);
    }

    #[test]
    fn hash_needs_a_long_enough_key() {
        let no_key = PiiOptions { policy: PiiPolicy::Hash, key: None, user_ids: false };
        assert!(no_key.masker().is_err());
        assert!(PiiKey::new(b"short".to_vec(), "a test").is_err());
    }

    #[test]
    fn the_fingerprint_tells_keys_apart_and_is_not_the_key() {
        let record = options(PiiPolicy::Hash).record();
        let fingerprint = record.key_fingerprint.expect("a fingerprint");
        assert_eq!(fingerprint.len(), FINGERPRINT_LEN);
        assert!(!fingerprint.contains("30313233"), "not the key's hex");
        let other = PiiKey::new(b"another key of enough length".to_vec(), "a test").expect("long enough");
        assert_ne!(other.fingerprint(), fingerprint);
        assert!(!format!("{:?}", options(PiiPolicy::Hash)).contains("0123456789abcdef-test-key"));
        assert_eq!(options(PiiPolicy::Keep).record(), PiiRecord::default());
    }

    #[test]
    fn columns_are_classed_by_header() {
        let masker = options(PiiPolicy::Hash).masker().expect("a key");
        assert_eq!(masker.class_of("Email Address"), Some(PiiClass::Email));
        assert_eq!(masker.class_of("email_address"), Some(PiiClass::Email));
        assert_eq!(masker.class_of("Customer Email"), Some(PiiClass::Email));
        assert_eq!(masker.class_of("First Name"), Some(PiiClass::Name));
        assert_eq!(masker.class_of("LAST_NAME"), Some(PiiClass::Name));
        assert_eq!(masker.class_of("Merchant User ID"), Some(PiiClass::UserId));
        assert_eq!(masker.class_of("User ID"), None);
        assert_eq!(masker.class_of("Product"), None);
        let without_ids = PiiOptions { user_ids: false, ..options(PiiPolicy::Hash) }.masker().expect("a key");
        assert_eq!(without_ids.class_of("Merchant User ID"), None);
    }

    #[test]
    fn raw_records_are_masked_field_by_field_or_withheld() {
        let headers: Vec<String> = ["Subscription ID", "Email", "First Name", "Price"].map(String::from).to_vec();
        let records = read_records("7,Ann@x.com,\"Ann, Jr\",abc\n8,a@b.c,Bo\n9,,,1.00\n");
        let drop = options(PiiPolicy::Drop).masker().expect("no key needed");
        let mask = FileMask::by_header(&drop, &headers);
        assert_eq!(mask.raw_record(&records[0]), "7,,,abc");
        assert_eq!(mask.raw_record(&records[1]), WITHHELD, "three fields for four columns");
        assert_eq!(mask.raw_record(&records[2]), "9,,,1.00");
        let hash = options(PiiPolicy::Hash).masker().expect("a key");
        let mask = FileMask::by_header(&hash, &headers);
        let email = hash.mask(PiiClass::Email, "ann@x.com").expect("hashed");
        let name = hash.mask(PiiClass::Name, "Ann, Jr").expect("hashed");
        assert_eq!(mask.raw_record(&records[0]), format!("7,{email},{name},abc"));
        // an email in another column is masked too
        let stray = read_records("7,,,me@x.org\n");
        assert_eq!(mask.raw_record(&stray[0]), format!("7,,,{}", hash.mask(PiiClass::Email, "me@x.org").expect("h")));
        assert_eq!(FileMask::unknown(&hash).raw_record(&records[2]), WITHHELD);
        let keep = Masker::keep();
        assert_eq!(FileMask::unknown(&keep).raw_record(&records[0]), records[0].raw);
    }

    #[test]
    fn rejected_values_are_masked_in_the_value_and_the_reason() {
        let drop = options(PiiPolicy::Drop).masker().expect("no key needed");
        let mask = FileMask::at(&drop, vec![(2, PiiClass::Email)], vec![5, 6], &["email_address"]);
        let rejection = mask.rejection(Rejection::cell("event_code", "x@y.z", "bad code x@y.z"));
        assert_eq!(rejection.value, None);
        assert_eq!(rejection.reason, "bad code (dropped)");
        let plain = mask.rejection(Rejection::cell("event_code", "nine", "not a code"));
        assert_eq!(plain.value.as_deref(), Some("nine"));
    }
}
