//! A table as a text PDF: the title, a few lines about what it shows (filters, data
//! state) on the first page, then the rows, paginated with the header row repeated on
//! every page and "page i of n" at the foot. The text is real text in an embedded font
//! (DejaVu Sans Mono, so that columns line up and `pdftotext -layout` gives them back):
//! every glyph is mapped back to its character. A value wider than its column is cut
//! with an ellipsis; with many columns the page turns to landscape and the type gets
//! smaller, and columns that still do not fit are left out and named on the first page.

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use pdf_writer::types::{CidFontType, FontFlags, SystemInfo, UnicodeCmap};
use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

/// The embedded font (its licence is in assets/fonts/).
const FONT: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSansMono.ttf");
const FONT_NAME: Name<'static> = Name(b"DejaVuSansMono");

/// A4, in points.
const A4: (f32, f32) = (595.28, 841.89);
const MARGIN: f32 = 36.0;
const TITLE_SIZE: f32 = 13.0;
const TEXT_SIZE: f32 = 8.0;
/// The type sizes tried for the table, largest first.
const TABLE_SIZES: [f32; 6] = [8.0, 7.0, 6.5, 6.0, 5.5, 5.0];
const LEADING: f32 = 1.3;
/// The widest a column grows before its values are cut (characters).
const MAX_COLUMN: usize = 40;
/// The narrowest a column is squeezed to (characters).
const MIN_COLUMN: usize = 4;
/// Characters between two columns.
const GAP: usize = 2;

/// What a PDF report holds.
pub struct PdfTable {
    /// The heading of the first page (and the document's title).
    pub title: String,
    /// Lines under the title on the first page (filters, data state, …).
    pub about: Vec<String>,
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
    /// Columns aligned right (numbers).
    pub right: Vec<bool>,
}

/// The font's glyphs for the characters used, with their widths (in 1/1000 em).
struct Glyphs<'a> {
    face: ttf_parser::Face<'a>,
    /// character → glyph id
    ids: BTreeMap<char, u16>,
    /// glyph id → (width, the character it shows)
    used: BTreeMap<u16, (f32, char)>,
    /// the advance of a character cell (monospaced), in 1/1000 em
    advance: f32,
}

impl<'a> Glyphs<'a> {
    fn new(data: &'a [u8]) -> Result<Glyphs<'a>> {
        let face = ttf_parser::Face::parse(data, 0).context("reading the embedded font")?;
        let zero = face.glyph_index('0').context("the embedded font has no digits")?;
        let advance = f32::from(face.glyph_hor_advance(zero).unwrap_or(0)) * 1000.0 / f32::from(face.units_per_em());
        Ok(Glyphs { face, ids: BTreeMap::new(), used: BTreeMap::new(), advance })
    }

    /// The text as the two-byte glyph ids the content stream shows (a character the font
    /// lacks is shown as `?`).
    fn encode(&mut self, text: &str) -> Vec<u8> {
        let mut bytes = Vec::with_capacity(text.len() * 2);
        for c in text.chars() {
            let gid = match self.ids.get(&c) {
                Some(gid) => *gid,
                None => {
                    let (shown, glyph) = match self.face.glyph_index(c) {
                        Some(g) => (c, g),
                        None => ('?', self.face.glyph_index('?').unwrap_or(ttf_parser::GlyphId(0))),
                    };
                    let width = f32::from(self.face.glyph_hor_advance(glyph).unwrap_or(0)) * 1000.0
                        / f32::from(self.face.units_per_em());
                    self.used.entry(glyph.0).or_insert((width, shown));
                    self.ids.insert(c, glyph.0);
                    glyph.0
                }
            };
            bytes.extend_from_slice(&gid.to_be_bytes());
        }
        bytes
    }

    /// The width of `chars` characters at `size` points.
    fn width(&self, chars: usize, size: f32) -> f32 {
        chars as f32 * self.advance * size / 1000.0
    }

    /// How many characters fit in `width` points at `size`.
    fn fit(&self, width: f32, size: f32) -> usize {
        (width / (self.advance * size / 1000.0)).floor() as usize
    }
}

/// How the table is laid out.
struct Layout {
    page: (f32, f32),
    size: f32,
    /// the columns shown (indexes into the headers) and their widths in characters
    shown: Vec<(usize, usize)>,
    /// characters between two columns
    gap: usize,
}

impl Layout {
    /// The page, type size and column widths: portrait when the columns fit at their full
    /// width (headers on one line), else landscape with smaller type, headers wrapped at
    /// their `_`; when even that is too wide, the widest columns are narrowed to a common
    /// width (the narrow ones keep theirs) and their values cut; columns that fit at no
    /// width are left out.
    fn plan(table: &PdfTable, glyphs: &Glyphs) -> Layout {
        let cells: Vec<usize> = (0..table.headers.len())
            .map(|i| table.rows.iter().map(|r| r.get(i).map_or(0, |c| c.chars().count())).max().unwrap_or(0))
            .collect();
        let full: Vec<usize> =
            cells.iter().zip(&table.headers).map(|(c, h)| (*c).max(h.chars().count()).clamp(1, MAX_COLUMN)).collect();
        let words: Vec<usize> = cells
            .iter()
            .zip(&table.headers)
            .map(|(c, h)| (*c).max(header_words(h).map(|w| w.chars().count()).max().unwrap_or(1)).clamp(1, MAX_COLUMN))
            .collect();
        let spaced = |widths: &[usize], gap: usize| widths.iter().sum::<usize>() + gap * widths.len().saturating_sub(1);
        let total = |widths: &[usize]| spaced(widths, GAP);
        let all = |widths: &[usize]| widths.iter().copied().enumerate().collect::<Vec<_>>();
        let size = TABLE_SIZES[0];
        if total(&full) <= glyphs.fit(A4.0 - 2.0 * MARGIN, size) {
            return Layout { page: A4, size, shown: all(&full), gap: GAP };
        }
        let page = (A4.1, A4.0);
        let capacity = |size: f32| glyphs.fit(page.0 - 2.0 * MARGIN, size);
        for widths in [&full, &words] {
            if let Some(size) = TABLE_SIZES.iter().copied().find(|s| total(widths) <= capacity(*s)) {
                return Layout { page, size, shown: all(widths), gap: GAP };
            }
        }
        // the smallest type, one space between the columns
        let size = TABLE_SIZES[TABLE_SIZES.len() - 1];
        let capacity = capacity(size);
        let gap = 1;
        // the columns that fit at their narrowest, in order; the others are left out
        let mut count = 0;
        let mut narrowest = 0;
        for w in &words {
            let needed = narrowest + (*w).min(MIN_COLUMN) + if count == 0 { 0 } else { gap };
            if needed > capacity {
                break;
            }
            narrowest = needed;
            count += 1;
        }
        let kept = &words[..count];
        // the widest common width W that fits with every column at min(its width, W)
        let capped = |cap: usize| kept.iter().map(|w| (*w).min(cap)).collect::<Vec<_>>();
        let cap =
            (MIN_COLUMN..=MAX_COLUMN).rev().find(|cap| spaced(&capped(*cap), gap) <= capacity).unwrap_or(MIN_COLUMN);
        Layout { page, size, shown: all(&capped(cap)), gap }
    }

    /// The header: each name on as many lines as its column needs (wrapped after a `_`).
    fn header(&self, headers: &[String]) -> Vec<String> {
        let wrapped: Vec<Vec<String>> = self
            .shown
            .iter()
            .map(|(i, width)| wrap_header(&crate::output::escape_control(&headers[*i]), *width))
            .collect();
        let lines = wrapped.iter().map(Vec::len).max().unwrap_or(1);
        (0..lines)
            .map(|n| {
                let cells: Vec<String> = wrapped.iter().map(|w| w.get(n).cloned().unwrap_or_default()).collect();
                self.cells(&cells, &[], false)
            })
            .collect()
    }

    /// One row as a line of text: each cell cut or padded to its column.
    fn line(&self, cells: &[String], right: &[bool]) -> String {
        let shown: Vec<String> = self
            .shown
            .iter()
            .map(|(i, _)| crate::output::escape_control(cells.get(*i).map_or("", String::as_str)))
            .collect();
        let right: Vec<bool> = self.shown.iter().map(|(i, _)| right.get(*i).copied().unwrap_or(false)).collect();
        self.cells(&shown, &right, true)
    }

    /// Cells (one per shown column, in order) padded to their widths.
    fn cells(&self, cells: &[String], right: &[bool], cut_long: bool) -> String {
        let mut line = String::new();
        for (n, ((_, width), cell)) in self.shown.iter().zip(cells).enumerate() {
            if n > 0 {
                line.push_str(&" ".repeat(self.gap));
            }
            let cell = if cut_long { cut(cell, *width) } else { cell.chars().take(*width).collect() };
            let pad = " ".repeat(width.saturating_sub(cell.chars().count()));
            if right.get(n).copied().unwrap_or(false) {
                line.push_str(&pad);
                line.push_str(&cell);
            } else {
                line.push_str(&cell);
                line.push_str(&pad);
            }
        }
        line.trim_end().to_owned()
    }
}

/// A column name's words, each with the `_` that follows it (`max_`, `cancel_`, `date`).
fn header_words(name: &str) -> impl Iterator<Item = &str> {
    name.split_inclusive('_')
}

/// A column name in lines of at most `width` characters, broken after a `_` where it
/// can, inside a word only when the word is longer than the line.
fn wrap_header(name: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in header_words(name) {
        let mut word: String = word.to_owned();
        while !word.is_empty() {
            let used = line.chars().count();
            let len = word.chars().count();
            if used + len <= width {
                line.push_str(&word);
                break;
            }
            if used > 0 {
                lines.push(std::mem::take(&mut line));
                continue;
            }
            lines.push(word.chars().take(width).collect());
            word = word.chars().skip(width).collect();
        }
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// `text` in at most `width` characters: cut with an ellipsis when longer.
fn cut(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_owned();
    }
    let mut kept: String = text.chars().take(width.saturating_sub(1)).collect();
    kept.push('…');
    kept
}

/// `text` split into lines of at most `width` characters (at spaces where it can).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let mut word = word.to_owned();
        loop {
            let used = line.chars().count();
            let need = word.chars().count() + usize::from(used > 0);
            if used + need <= width {
                if used > 0 {
                    line.push(' ');
                }
                line.push_str(&word);
                break;
            }
            if used > 0 {
                lines.push(std::mem::take(&mut line));
                continue;
            }
            // a word longer than the line: split it
            let head: String = word.chars().take(width.max(1)).collect();
            word = word.chars().skip(width.max(1)).collect();
            lines.push(head);
            if word.is_empty() {
                break;
            }
        }
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// One page's lines: the first page also has the title and the lines about the report.
struct Page {
    first: bool,
    rows: std::ops::Range<usize>,
}

/// The PDF of `table`.
pub fn write(table: &PdfTable) -> Result<Vec<u8>> {
    let mut glyphs = Glyphs::new(FONT)?;
    let layout = Layout::plan(table, &glyphs);
    let (width, height) = layout.page;
    let text_width = width - 2.0 * MARGIN;

    let mut about: Vec<String> = Vec::new();
    for line in &table.about {
        about.extend(wrap(&crate::output::escape_control(line), glyphs.fit(text_width, TEXT_SIZE)));
    }
    let left_out: Vec<&str> = (0..table.headers.len())
        .filter(|i| !layout.shown.iter().any(|(s, _)| s == i))
        .map(|i| table.headers[i].as_str())
        .collect();
    if !left_out.is_empty() {
        let text = format!(
            "{} columns do not fit on the page and are left out (choose fewer with --columns): {}",
            left_out.len(),
            left_out.join(", ")
        );
        about.extend(wrap(&text, glyphs.fit(text_width, TEXT_SIZE)));
    }

    // pagination: how many rows each page holds
    let line = layout.size * LEADING;
    let top = height - MARGIN;
    let bottom = MARGIN + 2.0 * TEXT_SIZE * LEADING; // above the page number
    let first_top = top - TITLE_SIZE * 1.6 - about.len() as f32 * TEXT_SIZE * LEADING - TEXT_SIZE;
    let header = layout.header(&table.headers);
    // the header's lines and the half line of the rule under it
    let rows_from =
        |start_y: f32| (((start_y - bottom) / line - 0.5).floor() as usize).saturating_sub(header.len()).max(1);
    let mut pages = Vec::new();
    let mut next = 0;
    loop {
        let first = pages.is_empty();
        let room = rows_from(if first { first_top } else { top });
        let end = (next + room).min(table.rows.len());
        pages.push(Page { first, rows: next..end });
        next = end;
        if next >= table.rows.len() {
            break;
        }
    }

    let mut pdf = Pdf::new();
    let mut ids = (1..).map(Ref::new);
    let mut id = || ids.next().unwrap_or(Ref::new(i32::MAX));
    let catalog = id();
    let tree = id();
    let info = id();
    let font = id();
    let cid_font = id();
    let descriptor = id();
    let cmap = id();
    let font_file = id();
    let page_ids: Vec<(Ref, Ref)> = pages.iter().map(|_| (id(), id())).collect();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree).kids(page_ids.iter().map(|(p, _)| *p)).count(page_ids.len() as i32);
    pdf.document_info(info).title(TextStr(&table.title)).producer(TextStr("churnlake"));

    let f1 = Name(b"F1");
    let widest = header.iter().map(|l| l.chars().count()).max().unwrap_or(1);
    let rule_width = glyphs.width(widest.max(1), layout.size).min(text_width);
    let count = pages.len();
    for (n, (page, (page_id, content_id))) in pages.iter().zip(&page_ids).enumerate() {
        let mut content = Content::new();
        let mut y = top;
        let text = |content: &mut Content, glyphs: &mut Glyphs, x: f32, y: f32, size: f32, s: &str| {
            let bytes = glyphs.encode(s);
            content.begin_text().set_font(f1, size).next_line(x, y).show(Str(&bytes)).end_text();
        };
        if page.first {
            y -= TITLE_SIZE;
            text(&mut content, &mut glyphs, MARGIN, y, TITLE_SIZE, &table.title);
            y -= TITLE_SIZE * 0.6;
            for line in &about {
                y -= TEXT_SIZE * LEADING;
                text(&mut content, &mut glyphs, MARGIN, y, TEXT_SIZE, line);
            }
            y -= TEXT_SIZE;
        }
        for part in &header {
            y -= line;
            text(&mut content, &mut glyphs, MARGIN, y, layout.size, part);
        }
        let rule = y - layout.size * 0.35;
        content.set_line_width(0.5).move_to(MARGIN, rule).line_to(MARGIN + rule_width, rule).stroke();
        y -= line * 0.5;
        for row in &table.rows[page.rows.clone()] {
            y -= line;
            text(&mut content, &mut glyphs, MARGIN, y, layout.size, &layout.line(row, &table.right));
        }
        if table.rows.is_empty() {
            y -= line;
            text(&mut content, &mut glyphs, MARGIN, y, layout.size, "(no rows)");
        }
        let foot = format!("{} · page {} of {count}", table.title, n + 1);
        text(&mut content, &mut glyphs, MARGIN, MARGIN, TEXT_SIZE, &foot);

        let stream = content.finish();
        pdf.stream(*content_id, stream.as_slice());
        let mut writer = pdf.page(*page_id);
        writer.media_box(Rect::new(0.0, 0.0, width, height)).parent(tree).contents(*content_id);
        writer.resources().fonts().pair(f1, font);
        writer.finish();
    }

    // the font: a Type 0 font over the TrueType glyphs, addressed by glyph id
    let units = f32::from(glyphs.face.units_per_em());
    let scale = |v: i16| f32::from(v) * 1000.0 / units;
    let bbox = glyphs.face.global_bounding_box();
    let system = SystemInfo { registry: Str(b"Adobe"), ordering: Str(b"Identity"), supplement: 0 };
    pdf.type0_font(font)
        .base_font(FONT_NAME)
        .encoding_predefined(Name(b"Identity-H"))
        .descendant_font(cid_font)
        .to_unicode(cmap);
    {
        let mut cid = pdf.cid_font(cid_font);
        cid.subtype(CidFontType::Type2)
            .base_font(FONT_NAME)
            .system_info(system)
            .font_descriptor(descriptor)
            .default_width(glyphs.advance)
            .cid_to_gid_map_predefined(Name(b"Identity"));
        let mut widths = cid.widths();
        for (gid, (w, _)) in &glyphs.used {
            widths.consecutive(*gid, [*w]);
        }
        widths.finish();
    }
    pdf.font_descriptor(descriptor)
        .name(FONT_NAME)
        .flags(FontFlags::FIXED_PITCH | FontFlags::NON_SYMBOLIC)
        .bbox(Rect::new(scale(bbox.x_min), scale(bbox.y_min), scale(bbox.x_max), scale(bbox.y_max)))
        .italic_angle(0.0)
        .ascent(scale(glyphs.face.ascender()))
        .descent(scale(glyphs.face.descender()))
        .cap_height(scale(glyphs.face.capital_height().unwrap_or(glyphs.face.ascender())))
        .stem_v(80.0)
        .font_file2(font_file);
    let mut unicode = UnicodeCmap::new(Name(b"Custom"), system);
    for (gid, (_, c)) in &glyphs.used {
        unicode.pair(*gid, *c);
    }
    let unicode = unicode.finish();
    pdf.cmap(cmap, unicode.as_slice()).name(Name(b"Custom")).system_info(system);
    pdf.stream(font_file, FONT).pair(Name(b"Length1"), FONT.len() as i32);
    Ok(pdf.finish())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_values_are_cut_with_an_ellipsis() {
        assert_eq!(cut("abcdef", 4), "abc…");
        assert_eq!(cut("abcd", 4), "abcd");
        assert_eq!(wrap("one two three", 7), ["one two", "three"]);
        assert_eq!(wrap("abcdefghij", 4), ["abcd", "efgh", "ij"]);
        assert_eq!(wrap_header("max_reactivation_date", 12), ["max_", "reactivation", "_date"]);
        assert_eq!(wrap_header("max_cancel_date", 11), ["max_cancel_", "date"]);
        assert_eq!(wrap_header("subscription_id", 15), ["subscription_id"]);
    }

    #[test]
    fn many_columns_turn_the_page_and_never_overflow_it() {
        let glyphs = Glyphs::new(FONT).expect("the font parses");
        let headers: Vec<String> = (0..60).map(|i| format!("column_number_{i}")).collect();
        let row: Vec<String> = (0..60).map(|i| "x".repeat(i)).collect();
        let table =
            PdfTable { title: "t".into(), about: vec![], headers: headers.clone(), rows: vec![row], right: vec![] };
        let layout = Layout::plan(&table, &glyphs);
        assert!(layout.page.0 > layout.page.1, "landscape");
        let line = layout.line(&headers, &[]);
        assert!(glyphs.width(line.chars().count(), layout.size) <= layout.page.0 - 2.0 * MARGIN);
        for part in layout.header(&headers) {
            assert!(glyphs.width(part.chars().count(), layout.size) <= layout.page.0 - 2.0 * MARGIN);
        }
        assert!(layout.shown.len() < 60, "the columns that do not fit are left out");
    }
}
