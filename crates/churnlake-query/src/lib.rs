//! Subscription metrics over the lake, exact per METRICS.md, on polars lazy frames.
//!
//! The lake's raw tables go in (the files the manifest lists); the subscription
//! table, the subscriber table, the daily series, cancellation rates and per
//! subscription explanations come out. Nothing here parses CSV or prints.

mod error;
mod explain;
mod lifecycle;
mod output;
mod series;
mod sources;
mod sql;
mod tables;

pub use error::{QueryError, Result};
pub use explain::{ExplainedEvent, Explanation};
pub use output::{OutputFormat, frame_to_json_rows, write_frame, write_text_table};
pub use series::{Grain, RateRow, SERIES_COLUMNS};
pub use sources::LakeSources;
pub use tables::{SUBSCRIBER_COLUMNS, SUBSCRIPTION_COLUMNS};

use chrono::NaiveDate;
/// Result tables are polars frames; re-exported so callers need not depend on polars.
pub use polars::prelude::DataFrame;

/// The metrics of one lake. Cheap to create; each call plans and runs its own query.
#[derive(Debug, Clone)]
pub struct Metrics {
    sources: LakeSources,
}

impl Metrics {
    pub fn new(sources: LakeSources) -> Metrics {
        Metrics { sources }
    }

    /// The first and last data date in the lake.
    pub fn range(&self) -> Result<(NaiveDate, NaiveDate)> {
        self.sources.range()
    }

    /// One row per subscription, as it stood at the end of `as_of` (default: the last data date).
    /// `status` keeps only `active` or `inactive` subscriptions.
    pub fn subscriptions(&self, as_of: Option<NaiveDate>, status: Option<&str>) -> Result<DataFrame> {
        tables::subscriptions(&self.sources, as_of, status)
    }

    /// One row per subscriber, as they stood at the end of `as_of`.
    pub fn subscribers(&self, as_of: Option<NaiveDate>, status: Option<&str>) -> Result<DataFrame> {
        tables::subscribers(&self.sources, as_of, status)
    }

    /// The daily series (or weekly / monthly), optionally per group of `by`.
    pub fn series(
        &self,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        by: Option<&str>,
        grain: Grain,
    ) -> Result<DataFrame> {
        series::series(&self.sources, from, to, by, grain)
    }

    /// Cancellation rates over `from..=to`, one row (or one per group of `by`).
    pub fn rate(&self, from: NaiveDate, to: NaiveDate, by: Option<&str>) -> Result<Vec<RateRow>> {
        series::rate(&self.sources, from, to, by)
    }

    /// Active subscriptions and subscribers at the end of `as_of` (optionally per group).
    pub fn active(&self, as_of: Option<NaiveDate>, by: Option<&str>) -> Result<DataFrame> {
        series::active(&self.sources, as_of, by)
    }

    /// The tables `churnlake build` writes (`subscriptions`, `subscribers`, `series`), from
    /// one read of the lake.
    pub fn derived_tables(&self) -> Result<Vec<(&'static str, DataFrame)>> {
        let (first, last) = self.sources.range()?;
        let life =
            lifecycle::Lifecycle::compute(&self.sources, None, lifecycle::Attributes::All, lifecycle::Lineage::Drop)?;
        Ok(vec![
            ("subscriptions", tables::subscriptions_from(&life, None)?),
            ("subscribers", tables::subscribers_from(&life, None)?),
            (
                "series",
                series::daily_from(&life, None, first, last)?
                    .drop("group")
                    .map_err(|source| QueryError::Polars { context: "shaping the series", source })?,
            ),
        ])
    }

    /// Runs a SQL script over every lake table (see `queries/`); returns the last
    /// statement's result. `{{name}}` placeholders take `params`.
    pub fn sql(&self, script: &str, params: &[(String, String)]) -> Result<DataFrame> {
        sql::run(&self.sources, script, params)
    }

    /// A subscription's events in order, with sources, states and anomalies.
    pub fn explain(&self, subscription_id: &str) -> Result<Explanation> {
        explain::explain(&self.sources, subscription_id)
    }
}
