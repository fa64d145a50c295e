//! Subscription metrics over the lake, exact per METRICS.md, on polars lazy frames.
//!
//! The lake's raw tables go in (the files the manifest lists); the subscription
//! table, the subscriber table, the daily series, cancellation rates and per
//! subscription explanations come out. Nothing here parses CSV or prints.

mod anomalies;
mod error;
mod explain;
mod lifecycle;
mod output;
mod passes;
mod series;
mod sources;
mod sql;
mod tables;

pub use anomalies::ANOMALY_COLUMNS;
pub use error::{QueryError, Result};
pub use explain::{ExplainedEvent, Explanation};
pub use output::{OutputFormat, ParquetParts, frame_to_json_rows, write_frame, write_text_table};
pub use passes::DEFAULT_ROWS_PER_PASS;
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
    /// one read of the lake, handed to `emit` in parts (one per pass for the first two,
    /// in that order, then the series) so that no table need be held whole.
    pub fn derived_tables<E: From<QueryError>>(
        &self,
        mut emit: impl FnMut(&'static str, DataFrame) -> std::result::Result<(), E>,
    ) -> std::result::Result<(), E> {
        use lifecycle::{Attributes, Lifecycle, Lineage};
        let (first, last) = self.sources.range()?;
        let parts = lifecycle::passes(&self.sources, Attributes::All)?;
        let passes = parts.len() as u32;
        let mut subscribers = tables::SubscriberPasses::new(passes)?;
        let mut series_passes = if passes > 1 { Some(series::SeriesPasses::new(passes, None)?) } else { None };
        let mut series = None;
        for (index, part) in parts.iter().enumerate() {
            let life = Lifecycle::compute(&self.sources, part, None, Attributes::All, Lineage::Drop)?;
            emit("subscriptions", tables::subscriptions_from(&life, None)?)?;
            subscribers.add(&life, index as u32)?;
            match series_passes.as_mut() {
                Some(passes) => passes.add(&life, index as u32)?,
                None => series = Some(series::daily_from(&life, None, first, last)?),
            }
        }
        for part in subscribers.finish(None)? {
            emit("subscribers", part)?;
        }
        let series = match (series, series_passes) {
            (Some(series), _) => series,
            (None, Some(passes)) => passes.finish(first, last)?,
            (None, None) => return Err(QueryError::EmptyLake.into()),
        };
        let series =
            series.drop("group").map_err(|source| QueryError::Polars { context: "shaping the series", source })?;
        emit("series", series)
    }

    /// Runs a SQL script over every lake table (see `queries/`); returns the last
    /// statement's result. `{{name}}` placeholders take `params`.
    pub fn sql(&self, script: &str, params: &[(String, String)]) -> Result<DataFrame> {
        sql::run(&self.sources, script, params)
    }

    /// Every lifecycle anomaly of METRICS.md up to `as_of`, one row per anomaly with its
    /// source file and line (see [`ANOMALY_COLUMNS`]).
    pub fn anomalies(&self, as_of: Option<NaiveDate>) -> Result<DataFrame> {
        anomalies::anomalies(&self.sources, as_of)
    }

    /// A subscription's events in order, with sources, states and anomalies.
    pub fn explain(&self, subscription_id: &str) -> Result<Explanation> {
        explain::explain(&self.sources, subscription_id)
    }
}
