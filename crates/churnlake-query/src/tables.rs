//! The subscription and subscriber tables (METRICS.md "State at the end of day D").

use chrono::NaiveDate;
use churnlake_lake::columns as c;
use polars::prelude::*;

use crate::error::{Context, Result};
use crate::lifecycle::{self, CANCELLED, Lifecycle, REACTIVATED};
use crate::sources::LakeSources;

/// Columns of the subscription table, in order.
pub const SUBSCRIPTION_COLUMNS: &[&str] = &[
    "subscription_id", "public_subscription_id", "user_id", "merchant_user_id", "created_date",
    "max_cancel_date", "max_reactivation_date", "cancel_count", "reactivation_count",
    "current_status", "product", "product_id", "sku", "offer_id", "frequency_days", "quantity",
    "price", "discount_price", "merchant", "status", "cancel_reason", "first_drop_date",
    "last_drop_date",
];

/// Columns of the subscriber table, in order.
pub const SUBSCRIBER_COLUMNS: &[&str] = &[
    "user_id", "first_created_date", "subscriptions", "active_subscriptions", "current_status",
    "cancelled_date",
];

fn status(active: Expr) -> Expr {
    when(active).then(lit("active")).otherwise(lit("inactive"))
}

fn last_by_day(name: &str) -> Expr {
    col(name).sort_by([col("day")], SortMultipleOptions::default()).last()
}

pub(crate) fn subscriptions(
    sources: &LakeSources,
    as_of: Option<NaiveDate>,
    only: Option<&str>,
) -> Result<DataFrame> {
    let life = Lifecycle::plan(sources, as_of)?;
    let counts = life
        .events
        .clone()
        .filter(col("effective_date").lt_eq(lit(life.as_of)))
        .group_by([col(c::SUBSCRIPTION_ID)])
        .agg([
            col("own_date").filter(col("kind").eq(lit(CANCELLED))).max().alias("max_cancel_date"),
            col("own_date")
                .filter(col("kind").eq(lit(REACTIVATED)))
                .max()
                .alias("max_reactivation_date"),
            col("kind").eq(lit(CANCELLED)).cast(DataType::Int64).sum().alias("cancel_count"),
            col("kind").eq(lit(REACTIVATED)).cast(DataType::Int64).sum().alias("reactivation_count"),
        ]);
    let current = life
        .states()?
        .group_by([col(c::SUBSCRIPTION_ID)])
        .agg([last_by_day("active").alias("active")]);
    let select: Vec<Expr> = SUBSCRIPTION_COLUMNS.iter().map(|name| col(*name)).collect();
    let mut lf = life
        .base
        .filter(col("created_date").lt_eq(lit(life.as_of)))
        .join(counts, [col(c::SUBSCRIPTION_ID)], [col(c::SUBSCRIPTION_ID)], JoinArgs::new(JoinType::Left))
        .join(current, [col(c::SUBSCRIPTION_ID)], [col(c::SUBSCRIPTION_ID)], JoinArgs::new(JoinType::Left))
        .with_column(status(col("active")).alias("current_status"))
        .select(select);
    if let Some(wanted) = only {
        lf = lf.filter(col("current_status").eq(lit(wanted.to_owned())));
    }
    lf.sort([c::SUBSCRIPTION_ID], SortMultipleOptions::default())
        .collect()
        .ctx("computing the subscription table")
}

pub(crate) fn subscribers(
    sources: &LakeSources,
    as_of: Option<NaiveDate>,
    only: Option<&str>,
) -> Result<DataFrame> {
    let life = Lifecycle::plan(sources, as_of)?;
    let owners = life.base.clone().select([col(c::SUBSCRIPTION_ID), lifecycle::subscriber_key()]);
    let states = life.states()?.join(
        owners.clone(),
        [col(c::SUBSCRIPTION_ID)],
        [col(c::SUBSCRIPTION_ID)],
        JoinArgs::new(JoinType::Inner),
    );
    let per_user = lifecycle::subscriber_states(states, &[c::USER_ID])?
        .group_by([col(c::USER_ID)])
        .agg([
            last_by_day("active_subscriptions").alias("active_subscriptions"),
            last_by_day("active").alias("active"),
        ]);
    // METRICS.md: the latest cancel date of their subscriptions, once all are inactive
    let latest_cancel = life
        .events
        .clone()
        .filter(col("kind").eq(lit(CANCELLED)).and(col("effective_date").lt_eq(lit(life.as_of))))
        .join(owners, [col(c::SUBSCRIPTION_ID)], [col(c::SUBSCRIPTION_ID)], JoinArgs::new(JoinType::Inner))
        .group_by([col(c::USER_ID)])
        .agg([col("own_date").max().alias("latest_cancel_date")]);
    let owned = life
        .base
        .filter(col("created_date").lt_eq(lit(life.as_of)))
        .select([lifecycle::subscriber_key(), col("created_date")])
        .group_by([col(c::USER_ID)])
        .agg([
            col("created_date").min().alias("first_created_date"),
            col("created_date").len().cast(DataType::Int64).alias("subscriptions"),
        ]);
    let mut lf = owned
        .join(per_user, [col(c::USER_ID)], [col(c::USER_ID)], JoinArgs::new(JoinType::Left))
        .join(latest_cancel, [col(c::USER_ID)], [col(c::USER_ID)], JoinArgs::new(JoinType::Left))
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
    lf.sort([c::USER_ID], SortMultipleOptions::default())
        .collect()
        .ctx("computing the subscriber table")
}
