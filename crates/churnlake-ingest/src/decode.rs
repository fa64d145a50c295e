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
    /// `utf-8`, `utf-8-bom`, `windows-1252` or `utf-8+windows-1252` (the manifest's spelling).
    pub encoding: &'static str,
    /// Byte offsets (in the file, BOM included) of the invalid UTF-8 sequences replaced by
    /// U+FFFD in a file read as UTF-8.
    pub replaced: Vec<usize>,
    /// Byte offsets (in the file) of the lines read as Windows-1252 in a file whose other
    /// lines are UTF-8 (encoding `utf-8+windows-1252`).
    pub windows_1252_lines: Vec<usize>,
}

/// Decides the encoding of a file from evidence, never garbling valid UTF-8 text:
///
/// * valid UTF-8 (a leading BOM stripped) is taken as is;
/// * a UTF-8 BOM says UTF-8: each invalid sequence becomes U+FFFD and its offset is in
///   [`Decoded::replaced`];
/// * a file without a valid multi-byte UTF-8 sequence is Windows-1252, which maps every
///   byte to a character (a file of accented Latin text in that encoding has invalid
///   sequences and no valid multi-byte ones);
/// * anything else mixes the two (an export that appended Windows-1252 rows to UTF-8 ones)
///   and is decided line by line: a valid UTF-8 line is taken as is; an invalid one with
///   more valid multi-byte sequences than invalid ones is UTF-8 with U+FFFD for the
///   invalid ones ([`Decoded::replaced`]); any other line is Windows-1252
///   ([`Decoded::windows_1252_lines`]). The file's encoding is then `utf-8`, or
///   `utf-8+windows-1252` when some line was read as Windows-1252.
pub(crate) fn decode(bytes: &[u8]) -> Decoded<'_> {
    let (body, utf8_name, offset) = match bytes.strip_prefix(UTF8_BOM) {
        Some(rest) => (rest, "utf-8-bom", UTF8_BOM.len()),
        None => (bytes, "utf-8", 0),
    };
    let plain = |text, encoding| Decoded { text, encoding, replaced: Vec::new(), windows_1252_lines: Vec::new() };
    if let Ok(text) = std::str::from_utf8(body) {
        return plain(Cow::Borrowed(text), utf8_name);
    }
    if offset > 0 {
        let (_, invalid) = utf8_evidence(body);
        let text = String::from_utf8_lossy(body).into_owned();
        let replaced = invalid.into_iter().map(|at| at + offset).collect();
        return Decoded { text: Cow::Owned(text), encoding: utf8_name, replaced, windows_1252_lines: Vec::new() };
    }
    let (valid_multibyte, _) = utf8_evidence(body);
    if valid_multibyte == 0 {
        let (text, _had_errors) = encoding_rs::WINDOWS_1252.decode_without_bom_handling(body);
        return plain(text, "windows-1252");
    }
    let (mut replaced, mut windows_1252_lines) = (Vec::new(), Vec::new());
    let mut text = String::with_capacity(body.len() + body.len() / 8);
    let mut start = 0;
    for line in body.split_inclusive(|b| *b == b'\n') {
        match std::str::from_utf8(line) {
            Ok(valid) => text.push_str(valid),
            Err(_) => {
                let (multibyte, invalid) = utf8_evidence(line);
                if multibyte > invalid.len() {
                    text.push_str(&String::from_utf8_lossy(line));
                    replaced.extend(invalid.into_iter().map(|at| start + at));
                } else {
                    text.push_str(&encoding_rs::WINDOWS_1252.decode_without_bom_handling(line).0);
                    windows_1252_lines.push(start);
                }
            }
        }
        start += line.len();
    }
    let encoding = if windows_1252_lines.is_empty() { "utf-8" } else { "utf-8+windows-1252" };
    Decoded { text: Cow::Owned(text), encoding, replaced, windows_1252_lines }
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
    fn windows_1252_lines_among_utf8_lines_are_read_line_by_line() {
        // three UTF-8 names, then a row appended in Windows-1252: neither garbled
        let bytes = b"name\nZo\xC3\xAB\nJos\xC3\xA9\nAndr\xC3\xA9\n\x93Ren\xE9e\x94 \xE9\nCaf\xC3\xA9 \x80 \xC3\xA0\n";
        let decoded = decode(bytes);
        assert_eq!(decoded.encoding, "utf-8+windows-1252");
        assert_eq!(
            decoded.text,
            "name\nZo\u{eb}\nJos\u{e9}\nAndr\u{e9}\n\u{201c}Ren\u{e9}e\u{201d} \u{e9}\nCaf\u{e9} \u{fffd} \u{e0}\n"
        );
        assert_eq!(decoded.windows_1252_lines, [23]);
        // the last line is UTF-8 with one stray byte (two valid sequences against one)
        assert_eq!(decoded.replaced, [39]);
        // a file of Windows-1252 lines only, and a UTF-8 file with a stray byte, as before
        assert_eq!(decode(b"\x93a\x94\nb\xE9\n").encoding, "windows-1252");
        assert_eq!(decode(b"Zo\xC3\xAB \xC3\xA9 \x80\n").encoding, "utf-8");
    }

    #[test]
    fn empty_file_is_utf8() {
        assert_eq!(decode(b"").encoding, "utf-8");
    }
}
