//! Bytes to text. Drops are UTF-8 (with or without a byte-order mark) or, from some
//! exports, Windows-1252; the encoding is decided per file and recorded in the manifest.
//!
//! In the chain: a leaf, used by [`crate::file`]; imports nothing of this crate.

use std::borrow::Cow;

const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// A file's text and the name of the encoding it was read in.
#[derive(Debug)]
pub(crate) struct Decoded<'a> {
    pub text: Cow<'a, str>,
    /// `utf-8`, `utf-8-bom` or `windows-1252` (the manifest's spelling).
    pub encoding: &'static str,
    /// Byte offsets (in the file, BOM included) of the invalid UTF-8 sequences replaced by
    /// U+FFFD in a file read as UTF-8.
    pub replaced: Vec<usize>,
}

/// Decides the encoding of a file from evidence, never garbling valid UTF-8 text:
///
/// * valid UTF-8 (a leading BOM stripped) is taken as is;
/// * a UTF-8 BOM, or more valid multi-byte UTF-8 sequences than invalid ones, says UTF-8:
///   each invalid sequence becomes U+FFFD and its offset is in [`Decoded::replaced`];
/// * anything else is Windows-1252, which maps every byte to a character (a file of
///   accented Latin text in that encoding has invalid sequences and no valid multi-byte
///   ones).
pub(crate) fn decode(bytes: &[u8]) -> Decoded<'_> {
    let (body, utf8_name, offset) = match bytes.strip_prefix(UTF8_BOM) {
        Some(rest) => (rest, "utf-8-bom", UTF8_BOM.len()),
        None => (bytes, "utf-8", 0),
    };
    if let Ok(text) = std::str::from_utf8(body) {
        return Decoded { text: Cow::Borrowed(text), encoding: utf8_name, replaced: Vec::new() };
    }
    let (valid_multibyte, invalid) = utf8_evidence(body);
    if offset > 0 || valid_multibyte > invalid.len() {
        let text = String::from_utf8_lossy(body).into_owned();
        let replaced = invalid.into_iter().map(|at| at + offset).collect();
        return Decoded { text: Cow::Owned(text), encoding: utf8_name, replaced };
    }
    let (text, _had_errors) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(body);
    Decoded { text, encoding: "windows-1252", replaced: Vec::new() }
}

/// The valid multi-byte UTF-8 sequences of `bytes`, and the offsets of its invalid ones.
fn utf8_evidence(bytes: &[u8]) -> (usize, Vec<usize>) {
    let (mut multibyte, mut invalid) = (0, Vec::new());
    let mut at = 0;
    for chunk in bytes.utf8_chunks() {
        multibyte += chunk.valid().chars().filter(|c| c.len_utf8() > 1).count();
        at += chunk.valid().len();
        if !chunk.invalid().is_empty() {
            invalid.push(at);
            at += chunk.invalid().len();
        }
    }
    (multibyte, invalid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_with_and_without_bom() {
        let plain = decode("Zoë,1".as_bytes());
        assert_eq!((plain.text.as_ref(), plain.encoding), ("Zoë,1", "utf-8"));
        let bom = decode(b"\xEF\xBB\xBFSubscription ID\r\n");
        assert_eq!((bom.text.as_ref(), bom.encoding), ("Subscription ID\r\n", "utf-8-bom"));
    }

    #[test]
    fn windows_1252_curly_quotes() {
        let decoded = decode(b"\x93Ann\x94 O\x92Brien, caf\xe9");
        assert_eq!(decoded.encoding, "windows-1252");
        assert_eq!(decoded.text, "\u{201c}Ann\u{201d} O\u{2019}Brien, café");
    }

    #[test]
    fn one_bad_byte_in_a_utf8_file_is_replaced_not_a_reason_to_garble_the_rest() {
        let bytes = b"\xEF\xBB\xBFName\nZo\xC3\xAB\nJos\xC3\xA9 \xFF\n";
        let decoded = decode(bytes);
        assert_eq!(decoded.encoding, "utf-8-bom");
        assert_eq!(decoded.text, "Name\nZo\u{eb}\nJos\u{e9} \u{fffd}\n");
        assert_eq!(decoded.replaced, [19]);
        let no_bom = decode(b"Zo\xC3\xAB,Ren\xC3\xA9e,\x80\n");
        assert_eq!((no_bom.encoding, no_bom.replaced.as_slice()), ("utf-8", &[12][..]));
        assert_eq!(no_bom.text, "Zo\u{eb},Ren\u{e9}e,\u{fffd}\n");
    }

    #[test]
    fn empty_file_is_utf8() {
        assert_eq!(decode(b"").encoding, "utf-8");
    }
}
