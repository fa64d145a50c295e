//! Subscription metrics over the lake, exact per METRICS.md, on polars lazy frames.
//!
//! The lake's raw tables go in (the files the manifest lists); the subscription
//! table, the subscriber table, the daily series, cancellation rates and per
//! subscription explanations come out, as frames and values. Nothing here parses CSV,
//! formats or prints.
//!
//! ```text
//! Metrics ─▶ series · tables · anomalies · explain · (sql reads the tables directly)
//!              │  each builds its Consumer(s) and asks the driver
//!              ▼
//!           driver::Passes ─▶ lifecycle::Lifecycle::compute (one pass) ─▶ Consumer::add
//!              │                  │ reads through
//!              ▼                  ▼
//!           passes (split, spill, buckets)   sources::LakeSources (the manifest's files)
//! ```
//!
//! `explain` walks one subscription's events in Rust (`explain::apply`, shared with
//! `anomalies`); the tables and the series apply the same rules vectorised
//! (`Lifecycle::states`). The tests in `tests/it` hold them equal on every day of every
//! conformance case and of a generated history.

mod anomalies;
mod cancellations;
mod check;
mod cohorts;
mod definitions;
mod driver;
mod error;
mod explain;
mod insight;
mod kernel;
mod lifecycle;
mod money;
mod passes;
mod reconcile;
mod reports;
mod restatement;
mod revenue;
mod series;
mod sources;
mod sql;
mod tables;
mod values;

pub use anomalies::ANOMALY_COLUMNS;
pub use cancellations::CANCELLATION_COLUMNS;
pub use check::{CheckReport, Example, Finding, LIFECYCLE_KINDS, LakeState, Level};
pub use cohorts::{COHORT_COLUMNS, CohortLevel, CohortRow};
pub use definitions::{Definition, RateRow};
pub use error::{QueryError, Result};
pub use explain::{ExplainedEvent, Explanation};
pub use insight::{InsightEvent, LIFECYCLE_EVENT_COLUMNS, Measure, ORDER_EVENT_COLUMNS};
pub use money::{Exact, MRR_FACTOR};
pub use passes::DEFAULT_ROWS_PER_PASS;
pub use reconcile::{Cause, Dashboard, DashboardRow, DayDifference, Reconciliation, kind_words};
pub use reports::{CANCELLATION_COLUMNS as CANCELLATION_REPORT_COLUMNS, REACTIVATION_COLUMNS};
pub use restatement::{Change, MonthRates, Restatement};
pub use revenue::{REVENUE_COLUMNS, RevenueRow};
pub use series::{Grain, SERIES_COLUMNS};
pub use sources::LakeSources;
pub use tables::{SUBSCRIBER_COLUMNS, SUBSCRIPTION_COLUMNS};

use chrono::NaiveDate;
use churnlake_lake::{DERIVED_TABLES, Manifest};
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

    /// One row per cancellation event of the cancellation reports (each distinct
    /// subscription and cancel date, with the first row's attributes and lineage), the
    /// cancel date inside `from..=to` (either end open); see [`CANCELLATION_REPORT_COLUMNS`].
    pub fn cancellation_report(&self, from: Option<NaiveDate>, to: Option<NaiveDate>) -> Result<DataFrame> {
        reports::cancellations(&self.sources, from, to)
    }

    /// One row per reactivation (each distinct public id and date among the code-9
    /// events) with the subscription its public id maps to (null when unknown), the event
    /// date inside `from..=to`; see [`REACTIVATION_COLUMNS`].
    pub fn reactivations(&self, from: Option<NaiveDate>, to: Option<NaiveDate>) -> Result<DataFrame> {
        reports::reactivations(&self.sources, from, to)
    }

    /// The orders table as delivered, one row per order row, the data date inside
    /// `from..=to`.
    pub fn orders(&self, from: Option<NaiveDate>, to: Option<NaiveDate>) -> Result<DataFrame> {
        reports::orders(&self.sources, from, to)
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

    /// Cancellation rates over `from..=to` by the platform's definition (`ordergroove`), one
    /// row (or one per group of `by`).
    pub fn rate(&self, from: NaiveDate, to: NaiveDate, by: Option<&str>) -> Result<Vec<RateRow>> {
        definitions::rates(&self.sources, from, to, by, &[Definition::Ordergroove])
    }

    /// Cancellation rates over `from..=to` under each of `definitions` (METRICS.md "Churn
    /// definitions"), from one read of the lake: for each definition in the order given, one
    /// row (or one per group of `by`, groups sorted), each with its numerator and denominator.
    pub fn rates(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        by: Option<&str>,
        definitions: &[Definition],
    ) -> Result<Vec<RateRow>> {
        definitions::rates(&self.sources, from, to, by, definitions)
    }

    /// Revenue (METRICS.md "Revenue") over `from..=to` at `grain`, exact: one row per day
    /// (or period), per group of `by` in effect on each day when given (date, then group).
    pub fn revenue_rows(
        &self,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        by: Option<&str>,
        grain: Grain,
    ) -> Result<Vec<RevenueRow>> {
        revenue::revenue_rows(&self.sources, from, to, by, grain)
    }

    /// [`Metrics::revenue_rows`] as a frame: [`REVENUE_COLUMNS`] (with `by` after `date`),
    /// money as DECIMAL(18, 2) rounded half to even.
    pub fn revenue(
        &self,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
        by: Option<&str>,
        grain: Grain,
    ) -> Result<DataFrame> {
        revenue::frame(&self.revenue_rows(from, to, by, grain)?, by)
    }

    /// Retention cohorts (METRICS.md "Cohorts") at `level`: a cell per cohort month and
    /// month end within the lake's range, optionally per group of `by` (its latest value).
    pub fn cohort_rows(&self, level: CohortLevel, by: Option<&str>) -> Result<Vec<CohortRow>> {
        cohorts::cohort_rows(&self.sources, level, by)
    }

    /// [`Metrics::cohort_rows`] as a frame: [`COHORT_COLUMNS`] (with `by` after `cohort`).
    pub fn cohorts(&self, level: CohortLevel, by: Option<&str>) -> Result<DataFrame> {
        cohorts::frame(&self.cohort_rows(level, by)?, by)
    }

    /// Cohort cells as the frame [`Metrics::cohorts`] returns.
    pub fn cohort_frame(&self, rows: &[CohortRow], by: Option<&str>) -> Result<DataFrame> {
        cohorts::frame(rows, by)
    }

    /// The cancellation events of `from..=to` counted per group of `by` (each event's own
    /// report row's value): counts, 24-hour cancels and their share, median days from creation.
    pub fn cancellations(&self, from: NaiveDate, to: NaiveDate, by: Option<&str>) -> Result<DataFrame> {
        cancellations::cancellations(&self.sources, from, to, by)
    }

    /// The cancellation events of `from..=to`, one row each.
    pub fn cancellation_events(&self, from: NaiveDate, to: NaiveDate) -> Result<DataFrame> {
        cancellations::event_rows(&self.sources, from, to)
    }

    /// The events of an insight dated `from..=to` (default: the lake's range), one row per
    /// event with its subscription's attributes and `amount` ([`LIFECYCLE_EVENT_COLUMNS`],
    /// or [`ORDER_EVENT_COLUMNS`] for orders), sorted by date.
    pub fn insight_events(
        &self,
        event: InsightEvent,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    ) -> Result<DataFrame> {
        insight::events(&self.sources, event, from, to)
    }

    /// An insight's results from its (filtered) events: per period of `grain` (or over
    /// the whole of `from..=to`) and per value of `by`, the count or the summed amount.
    pub fn insight_results(
        events: &DataFrame,
        measure: Measure,
        by: Option<&str>,
        grain: Option<Grain>,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<DataFrame> {
        insight::results(events, measure, by, grain, from, to)
    }

    /// Cancellation rates of each period of `grain` (day, week, month) within `from..=to`,
    /// the first and last periods cut at `from` and `to`, under each of `definitions`: for
    /// each definition, the periods in order, one row per group of `by` — one read of the
    /// lake. Each row equals [`Metrics::rates`] over its own period.
    pub fn rates_by_period(
        &self,
        from: NaiveDate,
        to: NaiveDate,
        by: Option<&str>,
        definitions: &[Definition],
        grain: Grain,
    ) -> Result<Vec<RateRow>> {
        definitions::rates_by_period(&self.sources, from, to, by, definitions, grain)
    }

    /// Active subscriptions and subscribers at the end of `as_of` (optionally per group).
    pub fn active(&self, as_of: Option<NaiveDate>, by: Option<&str>) -> Result<DataFrame> {
        series::active(&self.sources, as_of, by)
    }

    /// The tables `churnlake build` writes ([`DERIVED_TABLES`]: `subscriptions`,
    /// `subscribers`, `series`, `revenue`, `cohorts`), from one read of the lake, handed to
    /// `emit` in parts (one per pass for the first two, in that order, then the others) so
    /// that no table need be held whole. `revenue` is the daily revenue of the whole lake
    /// ([`Metrics::revenue`]); `cohorts` both levels' cells ([`Metrics::cohorts`]) after a
    /// first column `level` (`subscriptions`, then `subscribers`).
    pub fn derived_tables<E: From<QueryError>>(
        &self,
        mut emit: impl FnMut(&'static str, DataFrame) -> std::result::Result<(), E>,
    ) -> std::result::Result<(), E> {
        use driver::{Consumer, Passes};
        use lifecycle::{Attributes, Lifecycle, Lineage};

        /// Hands each pass's part of the subscription table to `emit` as it is computed; the
        /// first error of `emit` stops the passes and is returned as it is.
        struct Emit<'f, E> {
            emit: &'f mut dyn FnMut(&'static str, DataFrame) -> std::result::Result<(), E>,
            failed: Option<E>,
        }
        impl<E> Consumer for Emit<'_, E> {
            fn add(&mut self, life: &Lifecycle, _pass: u32) -> Result<()> {
                if let Err(error) = (self.emit)(DERIVED_TABLES[0], tables::subscriptions_from(life, None)?) {
                    self.failed = Some(error);
                    return Err(QueryError::Stopped);
                }
                Ok(())
            }
        }

        let (first, last) = self.sources.range()?;
        let passes = Passes::plan(&self.sources, Attributes::AllWithHistory, Lineage::Drop)?;
        let mut subscriptions = Emit { emit: &mut emit, failed: None };
        let mut subscribers = tables::SubscriberPasses::new(passes.count())?;
        let mut series = series::SeriesBuilder::new(&passes, None, first, last)?;
        let mut revenue = revenue::RevenueBuilder::new(&passes, None)?;
        let mut cohorts_subscriptions =
            cohorts::CohortBuilder::new(&passes, CohortLevel::Subscriptions, None, first, last)?;
        let mut cohorts_subscribers =
            cohorts::CohortBuilder::new(&passes, CohortLevel::Subscribers, None, first, last)?;
        let ran = passes.run(
            None,
            &mut [
                &mut subscriptions,
                &mut subscribers,
                &mut series,
                &mut revenue,
                &mut cohorts_subscriptions,
                &mut cohorts_subscribers,
            ],
        );
        if let Some(error) = subscriptions.failed.take() {
            return Err(error);
        }
        ran?;
        for part in subscribers.finish(None)? {
            emit(DERIVED_TABLES[1], part)?;
        }
        let series = series
            .finish()?
            .drop("group")
            .map_err(|source| QueryError::Polars { context: "shaping the series", source })?;
        emit(DERIVED_TABLES[2], series)?;
        emit(DERIVED_TABLES[3], revenue::frame(&revenue.finish(first, last)?, None)?)?;
        for (level, builder) in
            [(CohortLevel::Subscriptions, cohorts_subscriptions), (CohortLevel::Subscribers, cohorts_subscribers)]
        {
            let mut cells = cohorts::frame(&builder.finish()?, None)?;
            let name = match level {
                CohortLevel::Subscriptions => "subscriptions",
                CohortLevel::Subscribers => "subscribers",
            };
            cells
                .insert_column(0, polars::prelude::Column::new("level".into(), vec![name; cells.height()]))
                .map_err(|source| QueryError::Polars { context: "shaping the cohorts", source })?;
            emit(DERIVED_TABLES[4], cells)?;
        }
        Ok(())
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

    /// A subscription's events in order, with sources, states and anomalies, as of the end
    /// of `as_of` (default: the last data date). `id` is a subscription id or, when no
    /// subscription has it, a public subscription id.
    pub fn explain(&self, id: &str, as_of: Option<NaiveDate>) -> Result<Explanation> {
        explain::explain(&self.sources, id, as_of)
    }

    /// What this lake's figures are computed from (`manifest` is the one the metrics were
    /// made from; `known_on` the knowledge date it was cut at, if any).
    pub fn lake_state(&self, manifest: &Manifest, known_on: Option<NaiveDate>) -> Result<LakeState> {
        Ok(LakeState {
            known_on,
            drops: manifest.ingested().count(),
            newest_stamp: manifest.stamp_range().map(|r| r.1),
            complete_through: check::complete_through(manifest, &self.sources)?,
        })
    }

    /// The restatement of the series from `before` (the lake as known on `known_on[0]`) to
    /// this lake (as known on `known_on[1]`): every differing (day, column) over
    /// `from..=to`, with the drops among `new_files` (name, data date) that touch it.
    pub fn restatement(
        &self,
        before: &Metrics,
        known_on: [NaiveDate; 2],
        new_files: Vec<(String, NaiveDate)>,
        from: Option<NaiveDate>,
        to: Option<NaiveDate>,
    ) -> Result<Restatement> {
        restatement::restatement(&before.sources, &self.sources, known_on, new_files, from, to)
    }

    /// The data checks of METRICS.md over this lake, whose manifest is `manifest`: every
    /// finding that makes its figures incomplete or doubtful, with its evidence.
    pub fn check(&self, manifest: &Manifest) -> Result<CheckReport> {
        Ok(check::check(manifest, &self.sources, check::Scope::All)?.report)
    }

    /// The lake's series against a dashboard's numbers: every differing (date, metric) with
    /// its likely causes.
    pub fn reconcile(&self, manifest: &Manifest, dashboard: &Dashboard) -> Result<Reconciliation> {
        reconcile::reconcile(manifest, &self.sources, dashboard)
    }
}
