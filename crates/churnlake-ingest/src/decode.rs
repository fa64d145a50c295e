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
}

/// Valid UTF-8 (a leading BOM stripped) is taken as is; anything else is Windows-1252,
/// which maps every byte to a character, so decoding never fails.
pub(crate) fn decode(bytes: &[u8]) -> Decoded<'_> {
    let (body, utf8_name) = match bytes.strip_prefix(UTF8_BOM) {
        Some(rest) => (rest, "utf-8-bom"),
        None => (bytes, "utf-8"),
    };
    match std::str::from_utf8(body) {
        Ok(text) => Decoded { text: Cow::Borrowed(text), encoding: utf8_name },
        Err(_) => {
            let (text, _had_errors) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(body);
            Decoded { text, encoding: "windows-1252" }
        }
    }
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
    fn empty_file_is_utf8() {
        assert_eq!(decode(b"").encoding, "utf-8");
    }
}
