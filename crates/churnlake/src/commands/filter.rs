//! `--where EXPR`: a SQL boolean expression (polars SQL) over a result frame's columns,
//! so that a report is filtered in the syntax data engineers already write.

use anyhow::Result;
use polars::prelude::*;
use polars::sql::SQLContext;

use crate::UserError;

/// The name the frame has in the SQL (`SELECT * FROM self WHERE …`).
const TABLE: &str = "self";
/// The name of the probe column that holds the expression's value.
const PROBE: &str = "churnlake_where";

/// The rows of `df` where `expr` holds (a row where it is null is left out, as SQL's
/// WHERE does). An expression naming a column the frame does not have, an expression
/// that is not a boolean, and one that is not SQL are the user's errors (exit 1), each
/// naming what is wrong and the columns there are.
pub fn apply_where(df: DataFrame, expr: &str) -> Result<DataFrame> {
    let columns = || df.get_column_names().iter().map(|c| c.to_string()).collect::<Vec<_>>().join(", ");
    let text = expr.trim();
    if text.is_empty() {
        return Err(UserError(format!(
            "--where is empty: give a SQL boolean expression over the columns ({})",
            columns()
        ))
        .into());
    }
    if text.contains(';') {
        return Err(UserError(format!(
            "--where `{text}`: one expression, without `;` (a SQL boolean expression over the columns: {})",
            columns()
        ))
        .into());
    }
    let refused = |error: PolarsError| -> anyhow::Error { refusal(text, &error, &columns()) };

    let mut ctx = SQLContext::new();
    ctx.register(TABLE, df.clone().lazy());
    // the expression's type, from the plan alone (no row is read)
    let mut probe = ctx.execute(&format!("SELECT ({text}) AS {PROBE} FROM {TABLE}")).map_err(refused)?;
    let schema = probe.collect_schema().map_err(refused)?;
    let dtype = schema.get(PROBE).cloned().unwrap_or(DataType::Null);
    if dtype != DataType::Boolean {
        return Err(UserError(format!(
            "--where `{text}` is not a boolean expression (it gives {}): write a condition, e.g. \
             `column = 'value'`, `amount >= 10`, `a IS NULL`, combined with AND / OR / NOT; the columns are: {}",
            type_words(&dtype),
            columns()
        ))
        .into());
    }
    let kept = ctx.execute(&format!("SELECT * FROM {TABLE} WHERE ({text})")).map_err(refused)?;
    kept.collect().map_err(refused)
}

/// The user's error for an expression polars refused: an unknown column by name, or the
/// SQL's own complaint.
fn refusal(text: &str, error: &PolarsError, columns: &str) -> anyhow::Error {
    let message = error.to_string();
    if let Some(name) = unknown_column(error) {
        return UserError(format!("--where `{text}`: unknown column `{name}`; the columns are: {columns}")).into();
    }
    UserError(format!(
        "--where `{text}` is not a SQL boolean expression over the report's columns ({message}); the columns are: {columns}"
    ))
    .into()
}

/// The column an error says is missing, when that is what it says.
fn unknown_column(error: &PolarsError) -> Option<String> {
    let message = match error {
        PolarsError::ColumnNotFound(message) => message.to_string(),
        PolarsError::Context { error, .. } => return unknown_column(error),
        other => {
            let text = other.to_string();
            if !(text.contains("not found") || text.contains("unable to find column") || text.contains("no column")) {
                return None;
            }
            text
        }
    };
    // polars quotes the name: `unable to find column "x"; valid columns: [...]`, or just `"x"`
    let quoted = message.split('"').nth(1).filter(|n| !n.is_empty());
    let name =
        quoted.map(str::to_owned).unwrap_or_else(|| message.split(';').next().unwrap_or_default().trim().to_owned());
    Some(name)
}

/// A data type in a user's words.
fn type_words(dtype: &DataType) -> String {
    match dtype {
        DataType::String => "text".into(),
        DataType::Date => "a date".into(),
        DataType::Datetime(..) => "a timestamp".into(),
        DataType::Decimal(..) => "a decimal number".into(),
        DataType::Null => "null".into(),
        other if other.is_primitive_numeric() => "a number".into(),
        other => format!("{other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame() -> DataFrame {
        df! {
            "id" => ["a", "b", "c", "d"],
            "amount" => [5i64, 15, 25, 35],
            "flag" => [Some(true), Some(false), None, Some(true)],
        }
        .expect("a frame")
    }

    fn ids(df: &DataFrame) -> Vec<String> {
        let column = df.column("id").expect("id").str().expect("text").clone();
        column.iter().map(|v| v.unwrap_or_default().to_owned()).collect()
    }

    #[test]
    fn keeps_the_rows_where_the_expression_holds() {
        assert_eq!(ids(&apply_where(frame(), "amount >= 15 AND id <> 'd'").expect("filters")), ["b", "c"]);
        assert_eq!(ids(&apply_where(frame(), "flag").expect("filters")), ["a", "d"]);
        assert_eq!(ids(&apply_where(frame(), "id IN ('a', 'c') OR amount > 30").expect("filters")), ["a", "c", "d"]);
    }

    #[test]
    fn an_unknown_column_is_named_with_the_valid_ones() {
        let error = apply_where(frame(), "colour = 'red'").expect_err("refused").to_string();
        assert!(error.contains("unknown column `colour`"), "{error}");
        assert!(error.contains("the columns are: id, amount, flag"), "{error}");
    }

    #[test]
    fn an_expression_that_is_not_boolean_is_refused() {
        let error = apply_where(frame(), "amount + 1").expect_err("refused").to_string();
        assert!(error.contains("is not a boolean expression (it gives a number)"), "{error}");
        let error = apply_where(frame(), "id").expect_err("refused").to_string();
        assert!(error.contains("(it gives text)"), "{error}");
    }

    #[test]
    fn bad_sql_is_the_users_error() {
        let error = apply_where(frame(), "amount >>= 'x").expect_err("refused");
        assert!(error.is::<UserError>(), "{error}");
        let error = apply_where(frame(), "1 = 1; DROP TABLE self").expect_err("refused");
        assert!(error.is::<UserError>(), "{error}");
    }
}
