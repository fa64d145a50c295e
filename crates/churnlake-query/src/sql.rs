//! `churnlake sql`: SQL over the lake through polars' SQL context, with every lake table
//! registered — the raw tables, the quarantine, the derived tables when built, and
//! `calendar(date)` (every day from the first to the last data date).
//!
//! A script may hold several statements. `CREATE OR REPLACE TEMPORARY VIEW` (the portable
//! form used in `queries/`) is run as polars' `CREATE TABLE` (lazy, so it is a view too);
//! `{{name}}` placeholders are replaced by `--param name=value`. The last statement's
//! result is returned.

use arrow_types::polars_type;
use churnlake_lake::{events_schema, quarantine_schema, report_schema};
use polars::prelude::*;
use polars::sql::SQLContext;

use crate::error::{Context, QueryError, Result};
use crate::sources::LakeSources;

/// The raw tables with a fixed schema (registered even when empty).
const TYPED_TABLES: [&str; 3] = ["subscriptions", "cancellations", "subscriber_events"];
/// Raw tables whose columns come from each file's header.
const LOOSE_TABLES: [&str; 3] = ["orders", "inventory", "crm_subscriptions"];

/// Runs `script` (statements separated by `;`) with `params` substituted.
pub(crate) fn run(sources: &LakeSources, script: &str, params: &[(String, String)]) -> Result<DataFrame> {
    let mut ctx = SQLContext::new();
    for table in TYPED_TABLES {
        let schema = match table {
            "subscriber_events" => events_schema(),
            _ => report_schema(),
        };
        let mut columns: Vec<(&str, DataType)> =
            schema.fields().iter().map(|f| (f.name().as_str(), polars_type(f.data_type()))).collect();
        columns.push((churnlake_lake::columns::DATA_DATE, DataType::Date));
        ctx.register(table, sources.scan(table, &columns)?);
    }
    for table in LOOSE_TABLES {
        if let Some(lf) = sources.scan_loose(table)? {
            ctx.register(table, lf);
        }
    }
    let quarantine_fields = quarantine_schema();
    let mut quarantine: Vec<(&str, DataType)> =
        quarantine_fields.fields().iter().map(|f| (f.name().as_str(), polars_type(f.data_type()))).collect();
    quarantine.push((churnlake_lake::columns::DATA_DATE, DataType::Date));
    ctx.register("quarantine", sources.scan("quarantine", &quarantine)?);
    for (name, uri) in sources.derived() {
        let args = ScanArgsParquet { cloud_options: sources.cloud_options(), ..Default::default() };
        let lf = LazyFrame::scan_parquet(PlRefPath::new(uri.as_str()), args).ctx("scanning a derived table")?;
        ctx.register(name, lf);
    }
    let (first, last) = sources.range()?;
    let days: Vec<chrono::NaiveDate> = first.iter_days().take_while(|d| *d <= last).collect();
    let calendar = DataFrame::new(days.len(), vec![Column::new("date".into(), days)]).ctx("building the calendar")?;
    ctx.register("calendar", calendar.lazy());

    let mut result = None;
    for statement in statements(script, params)? {
        let lf = ctx
            .execute(&statement)
            .map_err(|source| QueryError::Sql { statement: first_line(&statement), source: short(source) })?;
        result = Some(lf);
    }
    let lf = result.ok_or(QueryError::EmptyScript)?;
    lf.collect().map_err(|source| QueryError::Sql { statement: "the last statement".into(), source: short(source) })
}

/// The first lines of a polars error (its resolved plan follows and can run to pages).
fn short(error: PolarsError) -> PolarsError {
    let text = error.to_string();
    let head: Vec<&str> = text.lines().take_while(|l| !l.trim_start().starts_with("Resolved plan")).take(6).collect();
    PolarsError::ComputeError(head.join("\n").trim_end().to_owned().into())
}

fn first_line(statement: &str) -> String {
    statement.lines().next().unwrap_or_default().chars().take(80).collect()
}

/// The script's statements: `--` comments removed, split on `;`, placeholders replaced,
/// portable view definitions turned into polars' lazy `CREATE TABLE`.
pub(crate) fn statements(script: &str, params: &[(String, String)]) -> Result<Vec<String>> {
    let text: String =
        script.lines().map(|line| line.split("--").next().unwrap_or_default()).collect::<Vec<_>>().join("\n");
    let mut out = Vec::new();
    for raw in text.split(';') {
        let mut statement = raw.trim().to_owned();
        if statement.is_empty() {
            continue;
        }
        for (name, value) in params {
            statement = statement.replace(&format!("{{{{{name}}}}}"), value);
        }
        if let Some(pos) = statement.find("{{") {
            let rest = &statement[pos + 2..];
            let name = rest.split("}}").next().unwrap_or_default().to_owned();
            return Err(QueryError::MissingParam(name));
        }
        let upper = statement.to_ascii_uppercase();
        for portable in
            ["CREATE OR REPLACE TEMPORARY VIEW", "CREATE TEMPORARY VIEW", "CREATE OR REPLACE VIEW", "CREATE VIEW"]
        {
            if upper.starts_with(portable) {
                statement = format!("CREATE TABLE{}", &statement[portable.len()..]);
                break;
            }
        }
        out.push(statement);
    }
    Ok(out)
}

/// Arrow types of the lake schema → polars types.
mod arrow_types {
    use arrow::datatypes::DataType as Arrow;
    use polars::prelude::{DataType, TimeUnit};

    pub fn polars_type(dtype: &Arrow) -> DataType {
        match dtype {
            Arrow::Date32 => DataType::Date,
            Arrow::Timestamp(_, _) => DataType::Datetime(TimeUnit::Milliseconds, None),
            Arrow::Decimal128(p, s) => DataType::Decimal(*p as usize, *s as usize),
            Arrow::Int32 => DataType::Int32,
            Arrow::Int64 => DataType::Int64,
            Arrow::Boolean => DataType::Boolean,
            _ => DataType::String,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_strip_comments_substitute_params_and_map_views() {
        let script = "-- header; with a semicolon\nCREATE OR REPLACE TEMPORARY VIEW v AS SELECT 1 AS x;\n\
                      SELECT * FROM v WHERE d = DATE '{{from}}' -- trailing";
        let params = vec![("from".to_owned(), "2023-05-01".to_owned())];
        let got = statements(script, &params).expect("valid script");
        assert_eq!(got, ["CREATE TABLE v AS SELECT 1 AS x", "SELECT * FROM v WHERE d = DATE '2023-05-01'"]);
        assert!(matches!(statements("SELECT '{{to}}'", &[]), Err(QueryError::MissingParam(p)) if p == "to"));
    }
}
