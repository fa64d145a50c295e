//! The query crate's one error type.

use chrono::NaiveDate;

#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    #[error("{context}: {source}")]
    Polars {
        context: &'static str,
        #[source]
        source: polars::error::PolarsError,
    },
    #[error("the lake has no ingested drops yet")]
    EmptyLake,
    #[error(
        "the period {from}..{to} is outside the lake's data ({first}..{last}); \
         choose dates inside it"
    )]
    OutsideRange { from: NaiveDate, to: NaiveDate, first: NaiveDate, last: NaiveDate },
    #[error("the period {from}..{to} is empty (from is after to)")]
    EmptyPeriod { from: NaiveDate, to: NaiveDate },
    #[error("cannot group by unknown column `{column}`; choose one of: {choices}")]
    UnknownColumn { column: String, choices: String },
    #[error("no subscription `{0}` in the lake")]
    UnknownSubscription(String),
    #[error("SQL statement `{statement}…`: {source}")]
    Sql {
        statement: String,
        #[source]
        source: polars::error::PolarsError,
    },
    #[error("the SQL script has no statement")]
    EmptyScript,
    #[error("the SQL uses {{{{{0}}}}} but no value was given for the parameter `{0}`")]
    MissingParam(String),
    #[error("{file}, line {line}{}: {message}", column.as_ref().map(|c| format!(", column `{c}`")).unwrap_or_default())]
    Dashboard { file: String, line: u64, column: Option<String>, message: String },
    #[error("public id `{public_id}` belongs to several subscriptions ({ids}); explain one of them")]
    AmbiguousPublicId { public_id: String, ids: String },
    #[error("writing output: {0}")]
    Io(#[from] std::io::Error),
    #[error("an MRR sum exceeds the exact range (price × quantity values too large to add up)")]
    MoneyOverflow,
    /// A consumer of the passes asked to stop (its own error is returned instead).
    #[error("stopped")]
    Stopped,
}

impl QueryError {
    /// True when the request or the lake's contents are at fault (a period outside the
    /// lake, an unknown column or subscription, bad SQL …), not the machine or the code.
    pub fn is_user_error(&self) -> bool {
        match self {
            QueryError::EmptyLake
            | QueryError::OutsideRange { .. }
            | QueryError::EmptyPeriod { .. }
            | QueryError::UnknownColumn { .. }
            | QueryError::UnknownSubscription(_)
            | QueryError::MissingParam(_)
            | QueryError::Dashboard { .. }
            | QueryError::AmbiguousPublicId { .. }
            | QueryError::EmptyScript
            | QueryError::Sql { .. } => true,
            QueryError::Polars { .. } | QueryError::Io(_) | QueryError::Stopped => false,
            QueryError::MoneyOverflow => true,
        }
    }
}

pub type Result<T, E = QueryError> = std::result::Result<T, E>;

/// Attaches a context to polars errors: `.ctx("scanning subscriptions")?`.
pub(crate) trait Context<T> {
    fn ctx(self, context: &'static str) -> Result<T>;
}

impl<T> Context<T> for polars::error::PolarsResult<T> {
    fn ctx(self, context: &'static str) -> Result<T> {
        self.map_err(|source| QueryError::Polars { context, source })
    }
}
