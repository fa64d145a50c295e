//! The subscription and subscriber tables (METRICS.md "State at the end of day D").

use chrono::NaiveDate;
use churnlake_lake::columns as c;
use polars::prelude::*;

use crate::error::{Context, Result};
use crate::lifecycle::{self, Attributes, CANCELLED, Lifecycle, Lineage, REACTIVATED, last_of_run};
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
    life.events
        .clone()
        .join(
            life.base.clone().select([col("sub_idx"), col("created_date")]),
            [col("sub_idx")],
            [col("sub_idx")],
            JoinArgs::new(JoinType::Inner),
        )
        .filter(col("own_date").lt_eq(lit(life.as_of)).and(col("created_date").lt_eq(lit(life.as_of))))
}

/// The state at the end of `as_of` per subscription: `sub_idx, active`.
fn current_states(life: &Lifecycle) -> Result<LazyFrame> {
    Ok(life.states()?.filter(last_of_run(&["sub_idx"])).select([col("sub_idx"), col("active")]))
}

pub(crate) fn subscriptions(sources: &LakeSources, as_of: Option<NaiveDate>, only: Option<&str>) -> Result<DataFrame> {
    subscriptions_from(&Lifecycle::compute(sources, as_of, Attributes::All, Lineage::Drop)?, only)
}

pub(crate) fn subscriptions_from(life: &Lifecycle, only: Option<&str>) -> Result<DataFrame> {
    let is = |kind: i32| col("kind").eq(lit(kind));
    let counts = effective_events(life).group_by([col("sub_idx")]).agg([
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
    subscribers_from(&Lifecycle::compute(sources, as_of, Attributes::UserAnd(None), Lineage::Drop)?, only)
}

pub(crate) fn subscribers_from(life: &Lifecycle, only: Option<&str>) -> Result<DataFrame> {
    let owners = lifecycle::owners(
        life.base.clone().filter(col("created_date").lt_eq(lit(life.as_of))),
        vec![col("created_date")],
    )
    .cache();
    let by_user =
        |lf: LazyFrame| lf.join(owners.clone(), [col("sub_idx")], [col("sub_idx")], JoinArgs::new(JoinType::Inner));
    let current = lifecycle::subscriber_states(by_user(life.states()?), &["user_idx"])?
        .filter(last_of_run(&["user_idx"]))
        .select([col("user_idx"), col("active_subscriptions"), col("active")]);
    // METRICS.md: the latest cancel date of their subscriptions, once all are inactive
    let latest_cancel = by_user(effective_events(life).filter(col("kind").eq(lit(CANCELLED))))
        .group_by([col("user_idx")])
        .agg([col("own_date").max().alias("latest_cancel_date")]);
    let owned = owners.clone().group_by([col("user_idx")]).agg([
        col(c::USER_ID).first(),
        col("created_date").min().alias("first_created_date"),
        col("created_date").len().cast(DataType::Int64).alias("subscriptions"),
    ]);
    let mut lf = owned
        .join(current, [col("user_idx")], [col("user_idx")], JoinArgs::new(JoinType::Left))
        .join(latest_cancel, [col("user_idx")], [col("user_idx")], JoinArgs::new(JoinType::Left))
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
    lf.sort([c::USER_ID], SortMultipleOptions::default()).collect().ctx("computing the subscriber table")
}
