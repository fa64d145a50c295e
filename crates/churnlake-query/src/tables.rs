//! The subscription and subscriber tables (METRICS.md "State at the end of day D"), as
//! consumers of the pass driver: a pass's subscriptions give their part of the subscription
//! table; the subscriber table folds per-subscription rows spilled by user.

use chrono::NaiveDate;
use churnlake_lake::columns as c;
use polars::prelude::*;

use crate::driver::{Consumer, Passes};
use crate::error::{Context, QueryError, Result};
use crate::lifecycle::{self, Attributes, CANCELLED, Lifecycle, Lineage, REACTIVATED, last_of_run};
use crate::passes::{Spill, stack};
use crate::sources::LakeSources;

/// Columns of the subscription table, in order.
pub const SUBSCRIPTION_COLUMNS: &[&str] = &[
    "subscription_id",
    "public_subscription_id",
    "user_id",
    "merchant_user_id",
    "created_date",
    "max_cancel_date",
    "max_reactivation_date",
    "cancel_count",
    "reactivation_count",
    "current_status",
    "product",
    "product_id",
    "sku",
    "offer_id",
    "frequency_days",
    "quantity",
    "price",
    "discount_price",
    "merchant",
    "status",
    "cancel_reason",
    "first_drop_date",
    "last_drop_date",
];

/// Columns of the subscriber table, in order.
pub const SUBSCRIBER_COLUMNS: &[&str] =
    &["user_id", "first_created_date", "subscriptions", "active_subscriptions", "current_status", "cancelled_date"];

fn status(active: Expr) -> Expr {
    when(active).then(lit("active")).otherwise(lit("inactive"))
}

/// Cancellation / reactivation events that have taken effect by the end of `as_of`.
fn effective_events(life: &Lifecycle) -> LazyFrame {
    events_with_creation(life)
        .filter(col("own_date").lt_eq(lit(life.as_of)).and(col("created_date").lt_eq(lit(life.as_of))))
}

/// The events the subscription table counts (`max_cancel_date`, `cancel_count` …): those
/// that have taken effect by `as_of`; at the lake's last data date also those
/// dated after it, which are in the lake but change no state yet (METRICS.md: the guide's
/// columns are the latest such date in the lake).
fn counted_events(life: &Lifecycle) -> LazyFrame {
    if life.as_of == life.last {
        events_with_creation(life).filter(col("created_date").lt_eq(lit(life.as_of)))
    } else {
        effective_events(life)
    }
}

fn events_with_creation(life: &Lifecycle) -> LazyFrame {
    life.events.clone().join(
        life.base.clone().select([col("sub_idx"), col("created_date")]),
        [col("sub_idx")],
        [col("sub_idx")],
        JoinArgs::new(JoinType::Inner),
    )
}

/// The state at the end of `as_of` per subscription: `sub_idx, active`.
fn current_states(life: &Lifecycle) -> Result<LazyFrame> {
    Ok(life.states()?.filter(last_of_run(&["sub_idx"])).select([col("sub_idx"), col("active")]))
}

pub(crate) fn subscriptions(sources: &LakeSources, as_of: Option<NaiveDate>, only: Option<&str>) -> Result<DataFrame> {
    let passes = Passes::plan(sources, Attributes::All, Lineage::Drop)?;
    let mut table = SubscriptionParts { only, parts: Vec::new() };
    passes.run_one(as_of, &mut table)?;
    let mut parts = table.parts;
    if parts.len() == 1 {
        return parts.pop().ok_or(QueryError::EmptyLake);
    }
    stack(parts)?
        .sort([c::SUBSCRIPTION_ID], SortMultipleOptions::default())
        .collect()
        .ctx("computing the subscription table")
}

/// The subscription table, one part per pass (each sorted by `subscription_id`).
pub(crate) struct SubscriptionParts<'a> {
    pub(crate) only: Option<&'a str>,
    pub(crate) parts: Vec<DataFrame>,
}

impl Consumer for SubscriptionParts<'_> {
    fn add(&mut self, life: &Lifecycle, _pass: u32) -> Result<()> {
        self.parts.push(subscriptions_from(life, self.only)?);
        Ok(())
    }
}

pub(crate) fn subscriptions_from(life: &Lifecycle, only: Option<&str>) -> Result<DataFrame> {
    let is = |kind: i32| col("kind").eq(lit(kind));
    let counts = counted_events(life).group_by([col("sub_idx")]).agg([
        col("own_date").filter(is(CANCELLED)).max().alias("max_cancel_date"),
        col("own_date").filter(is(REACTIVATED)).max().alias("max_reactivation_date"),
        is(CANCELLED).cast(DataType::Int64).sum().alias("cancel_count"),
        is(REACTIVATED).cast(DataType::Int64).sum().alias("reactivation_count"),
    ]);
    let select: Vec<Expr> = SUBSCRIPTION_COLUMNS.iter().map(|name| col(*name)).collect();
    let mut lf = life
        .base
        .clone()
        .filter(col("created_date").lt_eq(lit(life.as_of)))
        .join(counts, [col("sub_idx")], [col("sub_idx")], JoinArgs::new(JoinType::Left))
        .join(current_states(life)?, [col("sub_idx")], [col("sub_idx")], JoinArgs::new(JoinType::Left))
        .with_columns([
            col("cancel_count").fill_null(lit(0i64)),
            col("reactivation_count").fill_null(lit(0i64)),
            status(col("active")).alias("current_status"),
        ])
        .select(select);
    if let Some(wanted) = only {
        lf = lf.filter(col("current_status").eq(lit(wanted.to_owned())));
    }
    lf.sort([c::SUBSCRIPTION_ID], SortMultipleOptions::default()).collect().ctx("computing the subscription table")
}

pub(crate) fn subscribers(sources: &LakeSources, as_of: Option<NaiveDate>, only: Option<&str>) -> Result<DataFrame> {
    let passes = Passes::plan(sources, Attributes::UserAnd(None), Lineage::Drop)?;
    let mut subscribers = SubscriberPasses::new(passes.count())?;
    passes.run_one(as_of, &mut subscribers)?;
    let parts = subscribers.finish(only)?;
    if parts.len() == 1 {
        return Ok(parts.into_iter().next().unwrap_or_default());
    }
    stack(parts)?.sort([c::USER_ID], SortMultipleOptions::default()).collect().ctx("computing the subscriber table")
}

/// The subscriber table, pass by pass: each pass's subscriptions give one row each —
/// owner (`user_id`), `created_date`, whether it is active at the end of `as_of`, and its
/// latest effective cancellation (a cancellation dated before the creation takes effect on
/// it) — kept by user bucket (spilled to disk when there are several passes); each user
/// bucket then folds into one row per subscriber. METRICS.md: a subscriber is active while
/// any of their subscriptions is; once none is, their `cancelled_date` is the latest cancel
/// date among them.
pub(crate) struct SubscriberPasses {
    spill: Spill,
}

impl Consumer for SubscriberPasses {
    fn add(&mut self, life: &Lifecycle, pass: u32) -> Result<()> {
        let latest_cancel = effective_events(life)
            .filter(col("kind").eq(lit(CANCELLED)))
            .with_column(
                when(col("own_date").lt(col("created_date")))
                    .then(col("created_date"))
                    .otherwise(col("own_date"))
                    .alias("effective_date"),
            )
            .group_by([col("sub_idx")])
            .agg([col("effective_date").max().alias("latest_cancel_date")]);
        let rows = lifecycle::owners(
            life.base.clone().filter(col("created_date").lt_eq(lit(life.as_of))),
            vec![col("created_date")],
        )?
        .join(current_states(life)?, [col("sub_idx")], [col("sub_idx")], JoinArgs::new(JoinType::Left))
        .join(latest_cancel, [col("sub_idx")], [col("sub_idx")], JoinArgs::new(JoinType::Left))
        .select([col(c::USER_ID), col("created_date"), col("active").fill_null(lit(false)), col("latest_cancel_date")])
        .collect()
        .ctx("computing a pass's subscribers")?;
        self.spill.write(pass, rows, c::USER_ID)
    }
}

impl SubscriberPasses {
    pub(crate) fn new(passes: u32) -> Result<SubscriberPasses> {
        Ok(SubscriberPasses { spill: Spill::new(passes)? })
    }

    /// One frame per user bucket, each sorted by `user_id`; `only` keeps one status.
    pub(crate) fn finish(self, only: Option<&str>) -> Result<Vec<DataFrame>> {
        let mut parts = Vec::new();
        for bucket in 0..self.spill.count() {
            let Some(rows) = self.spill.read(bucket)? else { continue };
            let mut lf = rows
                .group_by([col(c::USER_ID)])
                .agg([
                    col("created_date").min().alias("first_created_date"),
                    col("created_date").len().cast(DataType::Int64).alias("subscriptions"),
                    col("active").cast(DataType::Int64).sum().alias("active_subscriptions"),
                    col("latest_cancel_date").max(),
                ])
                .with_column(col("active_subscriptions").gt(lit(0i64)).alias("active"))
                .with_columns([
                    status(col("active")).alias("current_status"),
                    when(col("active"))
                        .then(lit(NULL).cast(DataType::Date))
                        .otherwise(col("latest_cancel_date"))
                        .alias("cancelled_date"),
                ])
                .select(SUBSCRIBER_COLUMNS.iter().map(|name| col(*name)).collect::<Vec<_>>());
            if let Some(wanted) = only {
                lf = lf.filter(col("current_status").eq(lit(wanted.to_owned())));
            }
            parts.push(
                lf.sort([c::USER_ID], SortMultipleOptions::default())
                    .collect()
                    .ctx("computing the subscriber table")?,
            );
        }
        if parts.is_empty() {
            let columns: Vec<Column> = SUBSCRIBER_COLUMNS
                .iter()
                .zip([
                    DataType::String,
                    DataType::Date,
                    DataType::Int64,
                    DataType::Int64,
                    DataType::String,
                    DataType::Date,
                ])
                .map(|(name, dtype)| Column::full_null((*name).into(), 0, &dtype))
                .collect();
            parts.push(DataFrame::new_infer_height(columns).ctx("building an empty table")?);
        }
        Ok(parts)
    }
}
