//! Small text renderers for results that are not frames (manifest, summaries, rates).

use std::io::Write;

use anyhow::Result;

/// A table of text cells, aligned, with a rule under the header.
pub fn table(out: &mut dyn Write, headers: &[&str], rows: &[Vec<String>]) -> Result<()> {
    let headers: Vec<String> = headers.iter().map(|h| (*h).to_owned()).collect();
    crate::output::write_text_table(out, &headers, rows, &[])?;
    Ok(())
}

/// RFC 4180 CSV of text cells.
pub fn csv(out: &mut dyn Write, headers: &[&str], rows: &[Vec<String>]) -> Result<()> {
    let quote = |cell: &str| {
        if cell.contains([',', '"', '\n', '\r']) {
            format!("\"{}\"", cell.replace('"', "\"\""))
        } else {
            cell.to_owned()
        }
    };
    writeln!(out, "{}", headers.iter().map(|h| quote(h)).collect::<Vec<_>>().join(","))?;
    for row in rows {
        writeln!(out, "{}", row.iter().map(|c| quote(c)).collect::<Vec<_>>().join(","))?;
    }
    Ok(())
}

/// A fraction as a percentage with three decimals, or `-` when undefined.
pub fn percent(rate: Option<f64>) -> String {
    rate.map_or_else(|| "-".to_owned(), |r| format!("{:.3} %", r * 100.0))
}
