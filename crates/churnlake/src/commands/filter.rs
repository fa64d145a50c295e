//! `--where EXPR`: a polars SQL boolean expression over a result frame's columns.

use anyhow::Result;
use churnlake_query::DataFrame;
use polars::prelude::{DataType, IntoLazy};
use polars::sql::SQLContext;

use crate::UserError;

/// The rows of `df` for which `expr` (polars SQL, e.g. `product = 'Earl Grey' AND quantity > 1`)
/// is true. An unknown column or an expression that is not a boolean is the user's error,
/// naming the frame's columns.
pub fn apply_where(df: DataFrame, expr: &str) -> Result<DataFrame> {
    let columns: Vec<String> = df.get_column_names().iter().map(|n| n.to_string()).collect();
    let refused = |why: String| -> anyhow::Error {
        UserError(format!("--where `{expr}`: {why}; the columns are: {}", columns.join(", "))).into()
    };
    if expr.contains(';') {
        return Err(refused("one expression, without `;`".into()));
    }
    let mut ctx = SQLContext::new();
    ctx.register("self", df.lazy());
    // the expression's type first: a filter on a non-boolean would be refused less clearly
    let probe = ctx
        .execute(&format!("SELECT ({expr}) AS churnlake_where FROM self LIMIT 0"))
        .and_then(|lf| lf.collect())
        .map_err(|e| refused(e.to_string()))?;
    let dtype = probe.column("churnlake_where").map(|c| c.dtype().clone()).unwrap_or(DataType::Null);
    if dtype != DataType::Boolean {
        return Err(refused(format!("the expression is {dtype}, not a boolean (true or false per row)")));
    }
    ctx.execute(&format!("SELECT * FROM self WHERE {expr}"))
        .and_then(|lf| lf.collect())
        .map_err(|e| refused(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use polars::prelude::*;

    fn frame() -> PolarsResult<DataFrame> {
        df!("product" => ["Earl Grey", "Green Tea", "Earl Grey"], "quantity" => [1i32, 2, 3])
    }

    #[test]
    fn keeps_the_rows_the_expression_is_true_for() -> Result<()> {
        let kept = apply_where(frame()?, "product = 'Earl Grey' AND quantity > 1")?;
        assert_eq!(kept.height(), 1);
        assert_eq!(kept.column("quantity")?.i32()?.get(0), Some(3));
        Ok(())
    }

    #[test]
    fn refuses_unknown_columns_and_non_booleans_naming_the_columns() -> Result<()> {
        for (expr, says) in
            [("colour = 'red'", "colour"), ("quantity + 1", "not a boolean"), ("1; DROP x", "one expression")]
        {
            let message = apply_where(frame()?, expr).err().map(|e| e.to_string()).unwrap_or_default();
            assert!(message.contains(says) && message.contains("product, quantity"), "{expr}: {message}");
        }
        Ok(())
    }
}
