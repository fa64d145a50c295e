//! Splitting a file's text into CSV records, each with the line it starts on and its raw
//! text, so that any record the typed parsers reject can be quarantined as it was.
//!
//! Records may have any number of fields (the parsers decide what is wrong with a row);
//! quoted fields may hold commas and line breaks; lines end in LF or CRLF; blank lines
//! are skipped and not counted.
//!
//! A file's records are a stream ([`Records`]): they are split one at a time as the
//! parsers ask for them and let go once typed, so memory does not grow with the file
//! (a record borrows its raw text from the file's); a parser that needs two passes reads
//! the text again.
//!
//! In the chain: a leaf, used by [`crate::file`] and the kinds' parsers; imports nothing of
//! this crate.

/// One CSV record as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Record<'t> {
    /// The 1-based physical line where the record starts.
    pub line: u64,
    pub fields: Vec<String>,
    /// The record's text as it is in the file (without its line ending).
    pub raw: &'t str,
    /// Why the record cannot be trusted as split (the file ended inside a quoted field,
    /// or the CSV reader gave up); such a record is quarantined whatever its fields.
    pub defect: Option<String>,
}

/// The records of a file's text, read one at a time as they are asked for: the text is
/// in memory, so a second pass ([`Records::iter`] again) reads it again rather than
/// keeping every record of the first.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Records<'t> {
    text: &'t str,
}

impl<'t> Records<'t> {
    pub fn new(text: &'t str) -> Records<'t> {
        Records { text }
    }

    /// Every non-blank record, in file order, from the start of the text.
    pub fn iter(&self) -> RecordReader<'t> {
        RecordReader { split: Splitter::new(self.text), next: None, started: false }
    }
}

impl<'t> IntoIterator for Records<'t> {
    type Item = Record<'t>;
    type IntoIter = RecordReader<'t>;

    fn into_iter(self) -> RecordReader<'t> {
        self.iter()
    }
}

/// Every non-blank record of a text, in file order, one at a time; the last one is
/// checked for an unterminated quote (the reader looks one record ahead to know it is the
/// last).
pub(crate) struct RecordReader<'t> {
    split: Splitter<'t>,
    /// The record after the one last yielded, read ahead.
    next: Option<Record<'t>>,
    started: bool,
}

impl<'t> Iterator for RecordReader<'t> {
    type Item = Record<'t>;

    fn next(&mut self) -> Option<Record<'t>> {
        if !self.started {
            self.started = true;
            self.next = self.split.next_record();
        }
        let mut record = self.next.take()?;
        self.next = self.split.next_record();
        if self.next.is_none() {
            mark_unterminated(&mut record);
        }
        Some(record)
    }
}

/// Every non-blank record of `text`, in file order, all at once.
#[cfg(test)]
pub(crate) fn read_records(text: &str) -> Vec<Record<'_>> {
    Records::new(text).iter().collect()
}

/// The first `limit` non-blank records of `text` (all when there are fewer), read no
/// further than needed. The last one read is checked for an unterminated quote only when
/// it is the file's last.
pub(crate) fn read_first_records(text: &str, limit: usize) -> Vec<Record<'_>> {
    let mut split = Splitter::new(text);
    let mut records = Vec::new();
    while records.len() < limit {
        match split.next_record() {
            Some(record) => records.push(record),
            None => break,
        }
    }
    let at_end = records.len() < limit || split.rest().trim().is_empty();
    if let Some(last) = records.last_mut()
        && at_end
    {
        mark_unterminated(last);
    }
    records
}

/// The last record of a file, when it ends inside a quoted field, is defective.
fn mark_unterminated(last: &mut Record<'_>) {
    if last.defect.is_none() && ends_inside_quotes(last.raw) {
        last.defect = Some("unterminated quoted field: the file ends inside quotes".to_owned());
    }
}

/// Bytes above which a record's split buffer is not reused for the next record.
const LARGE_RECORD: usize = 1 << 20;

/// Splits a text into its non-blank records, with their lines and raw text (the end of
/// file check is the caller's).
struct Splitter<'t> {
    text: &'t str,
    reader: csv::Reader<&'t [u8]>,
    row: csv::StringRecord,
    lines: LineCounter,
    /// The text has no more records (it ended, or the CSV reader gave up).
    done: bool,
}

impl<'t> Splitter<'t> {
    fn new(text: &'t str) -> Splitter<'t> {
        let reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(text.as_bytes());
        Splitter { text, reader, row: csv::StringRecord::new(), lines: LineCounter::default(), done: false }
    }

    /// The text after the last record read.
    fn rest(&self) -> &'t str {
        self.text.get(byte_index(self.text, self.reader.position().byte())..).unwrap_or_default()
    }

    fn next_record(&mut self) -> Option<Record<'t>> {
        let text = self.text;
        while !self.done {
            // The reader's position is just past the previous record's first terminator
            // character: the blank lines and the rest of a CRLF before this record are not
            // counted in it, so the start and the line are found from the text.
            let start = record_start(text, self.reader.position().byte());
            match self.reader.read_record(&mut self.row) {
                Ok(false) => self.done = true,
                Ok(true) => {
                    let raw = text.get(start..byte_index(text, self.reader.position().byte())).unwrap_or_default();
                    // a lone `"` reads as one empty field: blank only when its text is
                    if is_blank(&self.row) && raw.trim().is_empty() {
                        continue;
                    }
                    let record = Record {
                        line: self.lines.line_at(text, start),
                        fields: self.row.iter().map(str::to_owned).collect(),
                        raw: raw.trim_end_matches(['\r', '\n']),
                        defect: None,
                    };
                    if raw.len() > LARGE_RECORD {
                        // a buffer sized for one huge record is not kept for the rest
                        self.row = csv::StringRecord::new();
                    }
                    return Some(record);
                }
                Err(error) => {
                    // Only input the flexible reader cannot split ends up here: keep the
                    // rest of the file as one defective record rather than lose it.
                    self.done = true;
                    return Some(Record {
                        line: self.lines.line_at(text, start),
                        fields: Vec::new(),
                        raw: text.get(start..).unwrap_or_default(),
                        defect: Some(format!("unreadable CSV: {error}")),
                    });
                }
            }
        }
        None
    }
}

/// The byte where the next record starts: `at`, past any line breaks.
fn record_start(text: &str, at: u64) -> usize {
    let at = byte_index(text, at);
    let rest = text.get(at..).unwrap_or_default();
    at + (rest.len() - rest.trim_start_matches(['\r', '\n']).len())
}

fn byte_index(text: &str, at: u64) -> usize {
    usize::try_from(at).unwrap_or(usize::MAX).min(text.len())
}

/// 1-based line numbers of increasing byte offsets, counted incrementally.
#[derive(Default)]
struct LineCounter {
    byte: usize,
    newlines: u64,
}

impl LineCounter {
    fn line_at(&mut self, text: &str, byte: usize) -> u64 {
        let counted = text.as_bytes().get(self.byte..byte).unwrap_or_default();
        self.newlines += counted.iter().filter(|b| **b == b'\n').count() as u64;
        self.byte = byte.max(self.byte);
        self.newlines + 1
    }
}

fn is_blank(row: &csv::StringRecord) -> bool {
    row.len() <= 1 && row.iter().all(|field| field.trim().is_empty())
}

/// True when a CSV reader that reaches the end of `raw` is still inside a quoted field
/// (a quote opens only at the start of a field; `""` inside quotes is an escaped quote).
fn ends_inside_quotes(raw: &str) -> bool {
    let mut in_quotes = false;
    let mut at_field_start = true;
    let mut chars = raw.chars().peekable();
    while let Some(c) = chars.next() {
        if in_quotes {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    chars.next();
                } else {
                    in_quotes = false;
                }
            }
        } else if c == '"' && at_field_start {
            in_quotes = true;
        }
        at_field_start = !in_quotes && matches!(c, ',' | '\n' | '\r');
    }
    in_quotes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines_and_fields(text: &str) -> Vec<(u64, Vec<String>)> {
        read_records(text).into_iter().map(|r| (r.line, r.fields)).collect()
    }

    fn strings(fields: &[&str]) -> Vec<String> {
        fields.iter().map(|f| (*f).to_owned()).collect()
    }

    #[test]
    fn lines_are_physical_and_blank_lines_are_skipped() {
        let text = "a,b\r\n\r\n1,\"x\r\ny\"\r\n   \r\n2,\"q, r\"\r\n\r\n";
        assert_eq!(
            lines_and_fields(text),
            vec![(1, strings(&["a", "b"])), (3, strings(&["1", "x\r\ny"])), (6, strings(&["2", "q, r"])),]
        );
    }

    #[test]
    fn raw_text_is_the_record_as_written() {
        let records = read_records("id,name\n7,\"O\"\"Brien\nJr\"\n8,Ann");
        let raws: Vec<&str> = records.iter().map(|r| r.raw).collect();
        assert_eq!(raws, ["id,name", "7,\"O\"\"Brien\nJr\"", "8,Ann"]);
        assert!(records.iter().all(|r| r.defect.is_none()));
    }

    #[test]
    fn rows_may_have_any_width() {
        let widths: Vec<usize> = read_records("a,b,c\n1,2\n1,2,3,4\n").iter().map(|r| r.fields.len()).collect();
        assert_eq!(widths, [3, 2, 4]);
    }

    #[test]
    fn a_quote_left_open_at_the_end_is_a_defect() {
        let records = read_records("a,b\n1,\"never closed\n2,x\n");
        assert_eq!(records.len(), 2);
        assert_eq!(records[1].line, 2);
        assert!(records[1].defect.as_deref().is_some_and(|d| d.contains("unterminated")));
        assert!(records[1].raw.contains("2,x"));
    }

    #[test]
    fn a_stray_quote_inside_a_field_is_not_a_defect() {
        let records = read_records("a,b\n1,5\" tin\n");
        assert_eq!(records[1].fields, strings(&["1", "5\" tin"]));
        assert_eq!(records[1].defect, None);
    }

    #[test]
    fn the_first_records_only() {
        let text = "a,b\n\n1,\"x\ny\"\n2,z\n";
        let first: Vec<u64> = read_first_records(text, 2).iter().map(|r| r.line).collect();
        assert_eq!(first, [1, 3]);
        assert_eq!(read_first_records(text, 5), read_records(text));
        assert!(read_first_records("a,\"open\n", 1)[0].defect.is_some());
    }

    #[test]
    fn records_are_read_one_at_a_time_and_the_text_can_be_read_again() {
        let text = "a,b\n\n1,2\n3,\"x\ny\"\n4,5\n";
        let records = Records::new(text);
        let mut reader: RecordReader<'_> = records.iter();
        let first = reader.next().expect("a record");
        assert_eq!((first.line, first.raw), (1, "a,b"));
        // one record read ahead (to know whether the one given is the last), no further
        assert_eq!(reader.next.as_ref().map(|r| r.line), Some(3));
        assert_eq!(reader.split.rest(), "3,\"x\ny\"\n4,5\n");
        let rest: Vec<u64> = reader.map(|r| r.line).collect();
        assert_eq!(rest, [3, 4, 6]);
        let again: Vec<Record<'_>> = records.into_iter().collect();
        assert_eq!(again, read_first_records(text, usize::MAX), "a second pass reads the same records");
    }

    #[test]
    fn only_the_last_record_of_the_stream_can_end_inside_quotes() {
        for (text, defective) in [
            ("a,b\n1,\"open\n", vec![false, true]),
            ("a,b\n1,\"open\n\n\n", vec![false, true]),
            ("\"a,b\n1,2\n", vec![true]),
            ("a,\"b\"\n1,2", vec![false, false]),
        ] {
            let found: Vec<bool> = Records::new(text).iter().map(|r| r.defect.is_some()).collect();
            assert_eq!(found, defective, "{text:?}");
        }
    }

    #[test]
    fn empty_text_has_no_records() {
        assert!(read_records("").is_empty());
        assert!(read_records("\n\r\n").is_empty());
    }
}
