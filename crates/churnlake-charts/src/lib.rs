//! Charts of churnlake's results, as SVG or PNG, drawn with plotters.
//!
//! The input is a plain data model, not a frame: a [`Chart`] has a title, an x axis of
//! dates or categories, a y-axis unit and one or more [`Series`] of numbers aligned with
//! the x axis (one per group when the chart is broken down by a column). The caller turns
//! its results into that model; this crate only draws.
//!
//! ```text
//! Chart { title, x: Dates | Categories, y_label, series: [Series { name, values }], group_by }
//!    └─ render_svg(&chart, Kind) -> String        (fixed font family and sizes: stable bytes)
//!    └─ render_png(&chart, Kind) -> Vec<u8>        (DejaVu Sans embedded for the text)
//! ```
//!
//! Kinds: `bar` (grouped bars), `stacked` (bars stacked by group: needs a breakdown),
//! `line` (needs a date axis), `pie` (categories, one series), `table` (the numbers as a
//! grid). A kind that does not fit the data is a [`ChartError::Unfit`] naming what fits.
//! A group keeps its colour in every chart: the colour comes from its name.

use std::fmt;
use std::str::FromStr;
use std::sync::Once;

use chrono::NaiveDate;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// The font family every chart names (registered with the embedded DejaVu Sans).
pub const FONT_FAMILY: &str = "sans-serif";
/// Chart size in pixels (the table kind grows with its rows).
pub const WIDTH: u32 = 960;
pub const HEIGHT: u32 = 440;

const TITLE_SIZE: f64 = 18.0;
const LABEL_SIZE: f64 = 13.0;
const LEGEND_WIDTH: u32 = 210;
const ROW_HEIGHT: u32 = 20;

static REGULAR: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");
static BOLD: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans-Bold.ttf");

/// What can go wrong drawing a chart.
#[derive(Debug, thiserror::Error)]
pub enum ChartError {
    /// The chart kind does not fit the data.
    #[error("--chart {kind}: {reason}; {allowed}")]
    Unfit { kind: Kind, reason: String, allowed: String },
    /// Nothing to draw.
    #[error("nothing to chart: {0}")]
    Empty(String),
    /// The series are not as long as the x axis.
    #[error("series `{name}` has {got} values for {expected} points of the x axis")]
    Misaligned { name: String, got: usize, expected: usize },
    /// An unknown chart kind.
    #[error("unknown chart kind `{0}`: bar, stacked, line, pie or table")]
    UnknownKind(String),
    /// The drawing backend failed (e.g. the PNG file could not be written).
    #[error("drawing the chart: {0}")]
    Draw(String),
}

pub type Result<T> = std::result::Result<T, ChartError>;

fn draw_error(error: impl fmt::Display) -> ChartError {
    ChartError::Draw(error.to_string())
}

/// A chart kind (`--chart`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    Bar,
    Stacked,
    Line,
    Pie,
    Table,
}

impl Kind {
    pub const ALL: [Kind; 5] = [Kind::Bar, Kind::Stacked, Kind::Line, Kind::Pie, Kind::Table];

    pub fn name(self) -> &'static str {
        match self {
            Kind::Bar => "bar",
            Kind::Stacked => "stacked",
            Kind::Line => "line",
            Kind::Pie => "pie",
            Kind::Table => "table",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Kind {
    type Err = ChartError;
    fn from_str(s: &str) -> Result<Kind> {
        Kind::ALL.into_iter().find(|k| k.name() == s).ok_or_else(|| ChartError::UnknownKind(s.to_owned()))
    }
}

/// The x axis: days (or periods labelled by their first day), or categories.
#[derive(Debug, Clone, PartialEq)]
pub enum Axis {
    Dates(Vec<NaiveDate>),
    Categories(Vec<String>),
}

impl Axis {
    pub fn len(&self) -> usize {
        match self {
            Axis::Dates(d) => d.len(),
            Axis::Categories(c) => c.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The label of point `i`.
    pub fn label(&self, i: usize) -> String {
        match self {
            Axis::Dates(d) => d.get(i).map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_default(),
            Axis::Categories(c) => c.get(i).cloned().unwrap_or_default(),
        }
    }
}

/// One named line / set of bars, a value per x point (`None`: no value there).
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub name: String,
    pub values: Vec<Option<f64>>,
}

/// What a chart shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Chart {
    pub title: String,
    /// The x axis' description (e.g. `date`, `month`, `product`).
    pub x_label: String,
    pub x: Axis,
    /// The y axis' unit (e.g. `subscriptions`, `%`, `USD`).
    pub y_label: String,
    pub series: Vec<Series>,
    /// The column whose values name the series (a breakdown), if any: `stacked` needs one.
    pub group_by: Option<String>,
}

impl Chart {
    fn check(&self, kind: Kind) -> Result<()> {
        if self.x.is_empty() || self.series.is_empty() {
            return Err(ChartError::Empty(format!("`{}` has no rows", self.title)));
        }
        for s in &self.series {
            if s.values.len() != self.x.len() {
                return Err(ChartError::Misaligned {
                    name: s.name.clone(),
                    got: s.values.len(),
                    expected: self.x.len(),
                });
            }
        }
        let unfit = |reason: String| {
            Err(ChartError::Unfit { kind, reason, allowed: format!("this data can be drawn as {}", self.fitting()) })
        };
        match kind {
            Kind::Stacked if self.group_by.is_none() => unfit(
                "a stacked bar chart stacks the groups of a breakdown, and this result has none (give --by)".into(),
            ),
            Kind::Line if matches!(self.x, Axis::Categories(_)) => {
                unfit(format!("a line needs dates on the x axis, and this result has categories ({})", self.x_label))
            }
            Kind::Pie if matches!(self.x, Axis::Dates(_)) => {
                unfit("a pie shows shares of a whole, not a time series".into())
            }
            Kind::Pie if self.series.len() != 1 => {
                unfit(format!("a pie shows one measure, and this result has {}", self.series.len()))
            }
            Kind::Pie if self.series[0].values.iter().flatten().any(|v| *v < 0.0) => {
                unfit("a pie cannot show negative values".into())
            }
            _ => Ok(()),
        }
    }

    /// The kinds that fit this data, as words.
    pub fn fitting(&self) -> String {
        let fits: Vec<&str> = Kind::ALL
            .into_iter()
            .filter(|k| {
                let probe = Chart { series: self.series.clone(), ..self.clone() };
                match k {
                    Kind::Stacked => probe.group_by.is_some(),
                    Kind::Line => matches!(probe.x, Axis::Dates(_)),
                    Kind::Pie => {
                        matches!(probe.x, Axis::Categories(_))
                            && probe.series.len() == 1
                            && probe.series[0].values.iter().flatten().all(|v| *v >= 0.0)
                    }
                    _ => true,
                }
            })
            .map(Kind::name)
            .collect();
        fits.join(", ")
    }

    /// Whether `kind` can draw this data (the error names the kinds that can).
    pub fn fits(&self, kind: Kind) -> Result<()> {
        self.check(kind)
    }
}

fn register_fonts() {
    static FONTS: Once = Once::new();
    FONTS.call_once(|| {
        // the embedded fonts are valid OpenType; a failure leaves text undrawable, reported
        // by plotters as a font error when a chart is drawn
        let _ = plotters::style::register_font(FONT_FAMILY, FontStyle::Normal, REGULAR);
        let _ = plotters::style::register_font(FONT_FAMILY, FontStyle::Bold, BOLD);
    });
}

/// The size a chart of `kind` is drawn at.
pub fn size(chart: &Chart, kind: Kind) -> (u32, u32) {
    match kind {
        Kind::Table => (WIDTH, 60 + ROW_HEIGHT * (chart.x.len() as u32 + 1)),
        _ => (WIDTH, HEIGHT),
    }
}

/// The chart as an SVG document.
pub fn render_svg(chart: &Chart, kind: Kind) -> Result<String> {
    chart.check(kind)?;
    register_fonts();
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, size(chart, kind)).into_drawing_area();
        draw(&root, chart, kind)?;
        root.present().map_err(draw_error)?;
    }
    Ok(svg)
}

/// The chart as RGB pixels (row by row, 3 bytes a pixel), with its size.
pub fn render_rgb(chart: &Chart, kind: Kind) -> Result<(u32, u32, Vec<u8>)> {
    chart.check(kind)?;
    register_fonts();
    let (width, height) = size(chart, kind);
    let mut pixels = vec![0u8; width as usize * height as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, (width, height)).into_drawing_area();
        draw(&root, chart, kind)?;
        root.present().map_err(draw_error)?;
    }
    Ok((width, height, pixels))
}

/// The chart as a PNG image.
pub fn render_png(chart: &Chart, kind: Kind) -> Result<Vec<u8>> {
    let (width, height, pixels) = render_rgb(chart, kind)?;
    Ok(png::encode(width, height, &pixels))
}

pub mod png;

/// A fixed palette (colour-blind friendly, after Okabe–Ito and Tableau 10).
const PALETTE: [RGBColor; 10] = [
    RGBColor(0x1f, 0x77, 0xb4),
    RGBColor(0xe6, 0x9f, 0x00),
    RGBColor(0x00, 0x9e, 0x73),
    RGBColor(0xd5, 0x5e, 0x00),
    RGBColor(0xcc, 0x79, 0xa7),
    RGBColor(0x56, 0xb4, 0xe9),
    RGBColor(0x8c, 0x56, 0x4b),
    RGBColor(0x7f, 0x7f, 0x7f),
    RGBColor(0xbc, 0xbd, 0x22),
    RGBColor(0x94, 0x67, 0xbd),
];

/// The palette index of a name: FNV-1a of its bytes, so a group has the same colour in
/// every chart and every run.
fn palette_index(name: &str) -> usize {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in name.bytes() {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    (hash % PALETTE.len() as u64) as usize
}

/// The colour of each name: its own palette colour, or (when an earlier name of the same
/// chart took it) the next free one, so the names of one chart stay distinguishable.
pub fn colours(names: &[String]) -> Vec<RGBColor> {
    let mut taken = [false; PALETTE.len()];
    names
        .iter()
        .map(|name| {
            let mut index = palette_index(name);
            if names.len() <= PALETTE.len() {
                while taken[index] {
                    index = (index + 1) % PALETTE.len();
                }
            }
            taken[index] = true;
            PALETTE[index]
        })
        .collect()
}

/// The colour of a name as `#rrggbb` (for HTML legends beside the charts).
pub fn colour_hex(names: &[String], index: usize) -> String {
    colours(names).get(index).map(|c| format!("#{:02x}{:02x}{:02x}", c.0, c.1, c.2)).unwrap_or_default()
}

fn font(size: f64) -> TextStyle<'static> {
    TextStyle::from((FONT_FAMILY, size).into_font()).color(&BLACK)
}

fn bold(size: f64) -> TextStyle<'static> {
    TextStyle::from((FONT_FAMILY, size, FontStyle::Bold).into_font()).color(&BLACK)
}

/// `12345.5` → `12,345.5`; whole numbers without decimals, others with up to 3.
pub fn format_number(value: f64) -> String {
    let rounded = (value * 1000.0).round() / 1000.0;
    let text = if rounded.fract() == 0.0 { format!("{rounded:.0}") } else { format!("{rounded:.3}") };
    let text = if text.contains('.') { text.trim_end_matches('0').trim_end_matches('.').to_owned() } else { text };
    let (sign, digits) = text.strip_prefix('-').map_or(("", text.as_str()), |d| ("-", d));
    let (whole, fraction) = digits.split_once('.').map_or((digits, None), |(w, f)| (w, Some(f)));
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    match fraction {
        Some(f) => format!("{sign}{grouped}.{f}"),
        None => format!("{sign}{grouped}"),
    }
}

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(max.saturating_sub(1)).collect();
    cut.push('…');
    cut
}

fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, chart: &Chart, kind: Kind) -> Result<()> {
    root.fill(&WHITE).map_err(draw_error)?;
    let (width, _) = root.dim_in_pixel();
    let title_area = root.titled(&chart.title, bold(TITLE_SIZE)).map_err(draw_error)?;
    match kind {
        Kind::Table => draw_table(&title_area, chart),
        Kind::Pie => {
            let names: Vec<String> = (0..chart.x.len()).map(|i| chart.x.label(i)).collect();
            let (plot, legend) = title_area.split_horizontally(width.saturating_sub(LEGEND_WIDTH));
            draw_legend(&legend, &names)?;
            draw_pie(&plot, chart, &names)
        }
        Kind::Bar | Kind::Stacked | Kind::Line => {
            let names: Vec<String> = chart.series.iter().map(|s| s.name.clone()).collect();
            let plot = if names.len() > 1 || chart.group_by.is_some() {
                let (plot, legend) = title_area.split_horizontally(width.saturating_sub(LEGEND_WIDTH));
                draw_legend(&legend, &names)?;
                plot
            } else {
                title_area
            };
            draw_xy(&plot, chart, kind, &colours(&names))
        }
    }
}

/// Coloured squares and names, one per line, at the top of `area`.
fn draw_legend<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, names: &[String]) -> Result<()> {
    let colours = colours(names);
    let (_, height) = area.dim_in_pixel();
    let fitting = ((height.saturating_sub(40)) / ROW_HEIGHT).max(1) as usize;
    for (i, (name, colour)) in names.iter().zip(&colours).enumerate() {
        let y = 30 + (i as i32) * ROW_HEIGHT as i32;
        if i + 1 == fitting && names.len() > fitting {
            area.draw(&Text::new(format!("… and {} more", names.len() - i), (10, y), font(LABEL_SIZE)))
                .map_err(draw_error)?;
            break;
        }
        area.draw(&Rectangle::new([(10, y), (22, y + 12)], colour.filled())).map_err(draw_error)?;
        area.draw(&Text::new(shorten(name, 24), (28, y), font(LABEL_SIZE))).map_err(draw_error)?;
    }
    Ok(())
}

fn y_range(chart: &Chart, kind: Kind) -> (f64, f64) {
    let n = chart.x.len();
    let (mut low, mut high) = (0.0f64, 0.0f64);
    if kind == Kind::Stacked {
        for i in 0..n {
            let (mut up, mut down) = (0.0, 0.0);
            for s in &chart.series {
                match s.values[i] {
                    Some(v) if v >= 0.0 => up += v,
                    Some(v) => down += v,
                    None => {}
                }
            }
            high = high.max(up);
            low = low.min(down);
        }
    } else {
        for v in chart.series.iter().flat_map(|s| s.values.iter().flatten()) {
            high = high.max(*v);
            low = low.min(*v);
        }
    }
    if high == low {
        high = low + 1.0;
    }
    let pad = (high - low) * 0.08;
    (if low < 0.0 { low - pad } else { 0.0 }, high + pad)
}

fn draw_xy<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    chart: &Chart,
    kind: Kind,
    colours: &[RGBColor],
) -> Result<()> {
    let n = chart.x.len();
    let (low, high) = y_range(chart, kind);
    let mut ctx = ChartBuilder::on(area)
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(72)
        .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), low..high)
        .map_err(draw_error)?;
    ctx.configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .y_labels(8)
        .y_desc(chart.y_label.as_str())
        .x_desc(chart.x_label.as_str())
        .label_style(font(LABEL_SIZE))
        .axis_desc_style(font(LABEL_SIZE))
        .y_label_formatter(&|v| format_number(*v))
        .light_line_style(WHITE.mix(0.0))
        .bold_line_style(BLACK.mix(0.08))
        .draw()
        .map_err(draw_error)?;

    // x labels: every `step`-th point, so that labels never overlap
    let (plot_width, _) = ctx.plotting_area().dim_in_pixel();
    let widest = (0..n).map(|i| chart.x.label(i).chars().count().min(16)).max().unwrap_or(1) as u32;
    let label_px = widest * 8 + 16;
    let fitting = (plot_width / label_px.max(1)).max(1) as usize;
    let step = n.div_ceil(fitting).max(1);
    let anchor = Pos::new(HPos::Center, VPos::Top);
    for i in (0..n).step_by(step) {
        let (x, y) = ctx.backend_coord(&(i as f64, low));
        let text = shorten(&chart.x.label(i), 16);
        area.draw(&Text::new(
            text,
            (x - area.get_base_pixel().0, y - area.get_base_pixel().1 + 6),
            font(LABEL_SIZE).pos(anchor),
        ))
        .map_err(draw_error)?;
        area.draw(&PathElement::new(
            vec![
                (x - area.get_base_pixel().0, y - area.get_base_pixel().1),
                (x - area.get_base_pixel().0, y - area.get_base_pixel().1 + 4),
            ],
            BLACK,
        ))
        .map_err(draw_error)?;
    }

    match kind {
        Kind::Line => {
            for (s, colour) in chart.series.iter().zip(colours) {
                // a missing value breaks the line
                let mut run: Vec<(f64, f64)> = Vec::new();
                let mut runs = Vec::new();
                for (i, v) in s.values.iter().enumerate() {
                    match v {
                        Some(v) => run.push((i as f64, *v)),
                        None if !run.is_empty() => runs.push(std::mem::take(&mut run)),
                        None => {}
                    }
                }
                if !run.is_empty() {
                    runs.push(run);
                }
                for run in runs {
                    if run.len() == 1 {
                        ctx.draw_series(run.iter().map(|p| Circle::new(*p, 3, colour.filled()))).map_err(draw_error)?;
                    } else {
                        ctx.draw_series(LineSeries::new(run, colour.stroke_width(2))).map_err(draw_error)?;
                    }
                }
            }
        }
        Kind::Bar => {
            let count = chart.series.len() as f64;
            let slot = 0.8 / count;
            for (k, (s, colour)) in chart.series.iter().zip(colours).enumerate() {
                let bars = s.values.iter().enumerate().filter_map(|(i, v)| {
                    let v = (*v)?;
                    let left = i as f64 - 0.4 + slot * k as f64;
                    Some(Rectangle::new([(left, 0.0), (left + slot, v)], colour.filled()))
                });
                ctx.draw_series(bars).map_err(draw_error)?;
            }
        }
        Kind::Stacked => {
            let mut up = vec![0.0f64; n];
            let mut down = vec![0.0f64; n];
            for (s, colour) in chart.series.iter().zip(colours) {
                let mut bars = Vec::new();
                for (i, v) in s.values.iter().enumerate() {
                    let Some(v) = *v else { continue };
                    let base = if v >= 0.0 { &mut up[i] } else { &mut down[i] };
                    bars.push(Rectangle::new([(i as f64 - 0.4, *base), (i as f64 + 0.4, *base + v)], colour.filled()));
                    *base += v;
                }
                ctx.draw_series(bars).map_err(draw_error)?;
            }
        }
        Kind::Pie | Kind::Table => {}
    }
    Ok(())
}

fn draw_pie<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, chart: &Chart, names: &[String]) -> Result<()> {
    let (width, height) = area.dim_in_pixel();
    let values: Vec<f64> = chart.series[0].values.iter().map(|v| v.unwrap_or(0.0)).collect();
    if values.iter().sum::<f64>() <= 0.0 {
        return Err(ChartError::Empty(format!("`{}` has only zeros: no pie to draw", chart.title)));
    }
    let center = (width as i32 / 2, height as i32 / 2);
    let radius = f64::from(width.min(height)) * 0.36;
    let colours = colours(names);
    let labels: Vec<String> = names.iter().map(|n| shorten(n, 18)).collect();
    let mut pie = Pie::new(&center, &radius, &values, &colours, &labels);
    pie.start_angle(-90.0);
    pie.label_style(font(LABEL_SIZE));
    pie.percentages(font(LABEL_SIZE).color(&WHITE));
    area.draw(&pie).map_err(draw_error)
}

fn draw_table<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, chart: &Chart) -> Result<()> {
    let columns = chart.series.len() + 1;
    let (width, _) = area.dim_in_pixel();
    let plain_px = (width.saturating_sub(20) / columns as u32).max(40) as i32;
    // the row labels' column is as wide as its longest label (up to 2/5 of the width), the
    // value columns share the rest: many narrow columns keep their rows' names whole
    let longest = (0..chart.x.len()).map(|i| chart.x.label(i).chars().count()).max().unwrap_or(0);
    let label_px =
        ((longest.max(chart.x_label.chars().count()) * 8 + 12) as i32).min((width as i32 - 20) * 2 / 5).max(plain_px);
    let column_px = if label_px > plain_px && columns > 1 {
        ((width as i32 - 20 - label_px) / (columns as i32 - 1)).max(40)
    } else {
        plain_px
    };
    let label_chars = (label_px as usize / 8).max(4);
    let chars = (column_px as usize / 8).max(4);
    let right = Pos::new(HPos::Right, VPos::Top);
    let mut header = vec![chart.x_label.clone()];
    header.extend(chart.series.iter().map(|s| s.name.clone()));
    for (c, text) in header.iter().enumerate() {
        let style = bold(LABEL_SIZE);
        if c == 0 {
            area.draw(&Text::new(shorten(text, label_chars), (10, 10), style)).map_err(draw_error)?;
        } else {
            let x = 10 + label_px + column_px * (c as i32 - 1);
            area.draw(&Text::new(shorten(text, chars), (x + column_px - 8, 10), style.pos(right)))
                .map_err(draw_error)?;
        }
    }
    let line_y = 10 + ROW_HEIGHT as i32 - 3;
    area.draw(&PathElement::new(vec![(10, line_y), (width as i32 - 10, line_y)], BLACK)).map_err(draw_error)?;
    for i in 0..chart.x.len() {
        let y = 10 + ROW_HEIGHT as i32 * (i as i32 + 1);
        area.draw(&Text::new(shorten(&chart.x.label(i), label_chars), (10, y), font(LABEL_SIZE)))
            .map_err(draw_error)?;
        for (c, s) in chart.series.iter().enumerate() {
            let text = s.values[i].map(format_number).unwrap_or_else(|| "-".into());
            let x = 10 + label_px + column_px * (c as i32 + 1) - 8;
            area.draw(&Text::new(text, (x, y), font(LABEL_SIZE).pos(right))).map_err(draw_error)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
