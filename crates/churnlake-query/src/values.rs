//! A frame's column as plain Rust values, for the loops that walk rows by index
//! (revenue, cohorts): cast to the wanted type first, so that any integer or date column
//! reads as `i32` and any column as text.

use polars::prelude::*;

use crate::error::{Context, Result};

/// A column as `i32` values (dates as day numbers).
pub(crate) fn i32s(df: &DataFrame, name: &str) -> Result<Vec<Option<i32>>> {
    let column = df.column(name).ctx("reading a column")?.cast(&DataType::Int32).ctx("reading a column")?;
    Ok(column.i32().ctx("reading a column")?.iter().collect())
}

/// A column as `u32` values (dense indexes).
pub(crate) fn u32s(df: &DataFrame, name: &str) -> Result<Vec<Option<u32>>> {
    let column = df.column(name).ctx("reading a column")?.cast(&DataType::UInt32).ctx("reading a column")?;
    Ok(column.u32().ctx("reading a column")?.iter().collect())
}

/// A column as owned strings.
pub(crate) fn strings(df: &DataFrame, name: &str) -> Result<Vec<Option<String>>> {
    let column = df.column(name).ctx("reading a column")?.cast(&DataType::String).ctx("reading a column")?;
    Ok(column.str().ctx("reading a column")?.iter().map(|v| v.map(str::to_owned)).collect())
}
