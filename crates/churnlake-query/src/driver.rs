//! The pass driver: the one way a computation reads the lake's lifecycles.
//!
//! A lake with fewer report rows than one pass may read is computed in one pass, straight
//! from the lake; a longer history is read once into local files split by subscription
//! bucket (see `passes`) and computed one bucket at a time. How many passes there are is
//! decided here and nowhere else: every lifecycle consumer — the series, the subscription
//! and subscriber tables, the derived tables, the anomalies, the headline counts —
//! implements [`Consumer`] and is handed each pass's [`Lifecycle`] in turn.
//!
//! ```text
//! Metrics ─▶ Passes::plan ─▶ for each pass: Lifecycle::compute ─▶ every Consumer::add ─▶ finish
//! ```

use std::sync::Arc;

use chrono::NaiveDate;
use churnlake_lake::{ReportKind, columns as c};
use polars::prelude::*;

use crate::error::Result;
use crate::lifecycle::{self, Attributes, Lifecycle, Lineage};
use crate::passes::{Part, Split};
use crate::sources::LakeSources;

/// Something computed from the lifecycles, one pass at a time.
pub(crate) trait Consumer {
    /// Takes pass `pass`'s lifecycle (its subscriptions only; every subscription is in
    /// exactly one pass).
    fn add(&mut self, life: &Lifecycle, pass: u32) -> Result<()>;
}

/// The passes one computation takes over the lake, and what each pass reads.
pub(crate) struct Passes<'a> {
    sources: &'a LakeSources,
    parts: Vec<Part>,
    attributes: Attributes<'a>,
    lineage: Lineage,
}

impl<'a> Passes<'a> {
    /// Plans the passes of a computation over `attributes` (with or without lineage): one
    /// on a lake with fewer report rows than a pass may read; otherwise the lake is read
    /// once, a group of files at a time, into local files split by subscription bucket
    /// (report rows with their order key and `attributes`, plus the code-9 events), and
    /// each pass reads its own bucket.
    pub(crate) fn plan(sources: &'a LakeSources, attributes: Attributes<'a>, lineage: Lineage) -> Result<Passes<'a>> {
        let count = sources.passes(attributes.pass_weight());
        if count <= 1 {
            return Ok(Passes { sources, parts: vec![Part::All], attributes, lineage });
        }
        tracing::info!(passes = count, "splitting the report rows by subscription");
        let mut split = Split::create(count)?;
        let mut wanted = lifecycle::report_columns(attributes);
        if !wanted.iter().any(|(name, _)| *name == c::PUBLIC_SUBSCRIPTION_ID) {
            wanted.push((c::PUBLIC_SUBSCRIPTION_ID, DataType::String));
        }
        let ranks = sources.file_ranks()?;
        let group = sources.rows_per_group();
        for table in [ReportKind::Subscriptions.as_str(), ReportKind::Cancellations.as_str()] {
            let ordered = |lf: LazyFrame| {
                let rows = lifecycle::order_rows(lf, ranks.clone()).with_column(lifecycle::report_flag(table));
                match lineage {
                    Lineage::Keep => rows,
                    Lineage::Drop => rows.drop(cols([c::SOURCE_FILE, c::SOURCE_LINE])),
                }
            };
            sources.for_each_group(
                table,
                &wanted,
                group,
                |lf| lf,
                ordered,
                |df| split.add_reports(df, c::SUBSCRIPTION_ID),
            )?;
        }
        sources.for_each_group(
            ReportKind::SubscriberEvents.as_str(),
            &lifecycle::event_columns(lineage),
            group,
            lifecycle::code_9,
            |lf| lf,
            |df| split.add_events(df),
        )?;
        let split = Arc::new(split);
        let parts = (0..count).map(|index| Part::Split { index, split: Arc::clone(&split) }).collect();
        Ok(Passes { sources, parts, attributes, lineage })
    }

    /// One pass over a single subscription's rows (`explain`: it costs the same on any lake).
    pub(crate) fn subscription(
        sources: &'a LakeSources,
        subscription_id: &str,
        attributes: Attributes<'a>,
        lineage: Lineage,
    ) -> Passes<'a> {
        Passes { sources, parts: vec![Part::Subscription(subscription_id.to_owned())], attributes, lineage }
    }

    /// The lake the passes read.
    pub(crate) fn sources(&self) -> &'a LakeSources {
        self.sources
    }

    /// The number of passes.
    pub(crate) fn count(&self) -> u32 {
        self.parts.len() as u32
    }

    /// Computes each pass's lifecycle as of `as_of` (default: the last data date) and hands
    /// it to every consumer, in order.
    pub(crate) fn run(&self, as_of: Option<NaiveDate>, consumers: &mut [&mut dyn Consumer]) -> Result<()> {
        let count = self.parts.len();
        for (index, part) in self.parts.iter().enumerate() {
            if count > 1 {
                tracing::info!(pass = index + 1, of = count, "lifecycle pass");
            }
            let life = Lifecycle::compute(self.sources, part, as_of, self.attributes, self.lineage)?;
            for consumer in consumers.iter_mut() {
                consumer.add(&life, index as u32)?;
            }
        }
        Ok(())
    }

    /// Runs the passes for one consumer.
    pub(crate) fn run_one(&self, as_of: Option<NaiveDate>, consumer: &mut dyn Consumer) -> Result<()> {
        self.run(as_of, &mut [consumer])
    }
}
