//! The lifecycle of every subscription, vectorised (METRICS.md "Lifecycle events" and
//! "State at the end of day D").
//!
//! Report rows give each subscription's attributes (latest non-empty value), its
//! creation and its cancellations; code-9 subscriber events joined by public id give
//! its reactivations. Each event's effective day is its own date, or the creation
//! date when it is dated earlier. Because an event that changes nothing leaves the
//! state equal to what the event says, the state at the end of a day is the kind of
//! that day's last event, with the same-day order of METRICS.md: creation first,
//! then events in the order of their own dates, then on one date by time when the
//! cancellation and the reactivation both carry one, else the cancellation last.

use chrono::NaiveDate;
use churnlake_lake::columns as c;
use polars::prelude::*;

use crate::error::{Context, Result};
use crate::sources::LakeSources;

/// Event kinds, in their same-day order when untimed.
pub(crate) const CREATED: i32 = 0;
pub(crate) const REACTIVATED: i32 = 1;
pub(crate) const CANCELLED: i32 = 2;

/// Attributes exposed per subscription: the latest non-empty value from the newest report row.
pub(crate) const ATTRIBUTES: &[(&str, DataType)] = &[
    (c::USER_ID, DataType::String),
    (c::PUBLIC_SUBSCRIPTION_ID, DataType::String),
    (c::MERCHANT_USER_ID, DataType::String),
    (c::MERCHANT, DataType::String),
    (c::PRODUCT, DataType::String),
    (c::PRODUCT_ID, DataType::String),
    (c::SKU, DataType::String),
    (c::OFFER_ID, DataType::String),
    (c::FREQUENCY_DAYS, DataType::Int32),
    (c::QUANTITY, DataType::Int32),
    (c::PRICE, DataType::Decimal(18, 2)),
    (c::DISCOUNT_PRICE, DataType::Decimal(18, 2)),
    (c::STATUS, DataType::String),
    (c::CANCEL_REASON, DataType::String),
];

fn timestamp() -> DataType {
    DataType::Datetime(TimeUnit::Milliseconds, None)
}

/// Report rows (subscription and cancellation reports together), oldest first.
pub(crate) fn report_rows(sources: &LakeSources) -> Result<LazyFrame> {
    let mut wanted: Vec<(&str, DataType)> = vec![
        (c::SUBSCRIPTION_ID, DataType::String),
        (c::CREATE_DATE, DataType::Date),
        (c::CANCEL_DATE, DataType::Date),
        (c::CANCELLED_AT, timestamp()),
        (c::DATA_DATE, DataType::Date),
        (c::DROP_STAMP, timestamp()),
        (c::SOURCE_FILE, DataType::String),
        (c::SOURCE_LINE, DataType::Int64),
    ];
    wanted.extend(ATTRIBUTES.iter().cloned());
    let subs = sources.scan("subscriptions", &wanted)?;
    let cancels = sources.scan("cancellations", &wanted)?;
    let rows = concat([subs, cancels], UnionArgs::default()).ctx("combining the reports")?;
    Ok(rows.sort(
        [c::DATA_DATE, c::DROP_STAMP, c::SOURCE_FILE, c::SOURCE_LINE],
        SortMultipleOptions::default().with_maintain_order(true),
    ))
}

/// One row per subscription known to the reports: `subscription_id, created_date,
/// first_drop_date, last_drop_date` and the [`ATTRIBUTES`].
pub(crate) fn subscription_base(rows: LazyFrame) -> LazyFrame {
    let mut aggs = vec![
        col(c::CREATE_DATE).min().alias("created_date"),
        col(c::DATA_DATE).min().alias("first_drop_date"),
        col(c::DATA_DATE).max().alias("last_drop_date"),
        col(c::SOURCE_FILE).first().alias("created_source_file"),
        col(c::SOURCE_LINE).first().alias("created_source_line"),
    ];
    aggs.extend(ATTRIBUTES.iter().map(|(name, _)| col(*name).last_non_null().alias(*name)));
    rows.group_by([col(c::SUBSCRIPTION_ID)])
        .agg(aggs)
        // a subscription whose rows carry no Create Date exists from its first drop
        .with_column(
            coalesce(&[col("created_date"), col("first_drop_date")]).alias("created_date"),
        )
}

/// Public id → subscription id, learnt from every report row that has both (newest wins).
pub(crate) fn public_id_map(rows: LazyFrame) -> LazyFrame {
    rows.filter(col(c::PUBLIC_SUBSCRIPTION_ID).is_not_null())
        .group_by([col(c::PUBLIC_SUBSCRIPTION_ID)])
        .agg([col(c::SUBSCRIPTION_ID).last().alias("mapped_subscription_id")])
}

/// Code-9 subscriber events (all of them, mapped or not).
pub(crate) fn reactivation_rows(sources: &LakeSources) -> Result<LazyFrame> {
    let wanted: Vec<(&str, DataType)> = vec![
        (c::PUBLIC_SUBSCRIPTION_ID, DataType::String),
        (c::EVENT_CODE, DataType::Int32),
        (c::EVENT_DATE, DataType::Date),
        (c::EVENT_AT, timestamp()),
        (c::DATA_DATE, DataType::Date),
        (c::DROP_STAMP, timestamp()),
        (c::SOURCE_FILE, DataType::String),
        (c::SOURCE_LINE, DataType::Int64),
    ];
    Ok(sources
        .scan("subscriber_events", &wanted)?
        .filter(col(c::EVENT_CODE).eq(lit(9)))
        .sort(
            [c::DATA_DATE, c::DROP_STAMP, c::SOURCE_FILE, c::SOURCE_LINE],
            SortMultipleOptions::default().with_maintain_order(true),
        ))
}

/// The distinct lifecycle events: `subscription_id, kind, own_date, at, source_file,
/// source_line, created_date, effective_date, order_key` (first source of each event).
pub(crate) fn events(
    rows: LazyFrame,
    base: LazyFrame,
    reactivations: LazyFrame,
) -> Result<LazyFrame> {
    let event_cols = |kind: i32| {
        [
            col(c::SUBSCRIPTION_ID),
            lit(kind).alias("kind"),
            col("own_date"),
            col("at"),
            col(c::SOURCE_FILE),
            col(c::SOURCE_LINE),
        ]
    };
    let created = base.clone().select([
        col(c::SUBSCRIPTION_ID),
        lit(CREATED).alias("kind"),
        col("created_date").alias("own_date"),
        lit(NULL).cast(timestamp()).alias("at"),
        col("created_source_file").alias(c::SOURCE_FILE),
        col("created_source_line").alias(c::SOURCE_LINE),
    ]);
    let cancelled = rows
        .clone()
        .filter(col(c::CANCEL_DATE).is_not_null())
        .group_by([col(c::SUBSCRIPTION_ID), col(c::CANCEL_DATE).alias("own_date")])
        .agg([
            col(c::CANCELLED_AT).max().alias("at"),
            col(c::SOURCE_FILE).first(),
            col(c::SOURCE_LINE).first(),
        ])
        .select(event_cols(CANCELLED));
    let reactivated = reactivations
        .join(
            public_id_map(rows),
            [col(c::PUBLIC_SUBSCRIPTION_ID)],
            [col(c::PUBLIC_SUBSCRIPTION_ID)],
            JoinArgs::new(JoinType::Inner),
        )
        .group_by([col("mapped_subscription_id").alias(c::SUBSCRIPTION_ID), col(c::EVENT_DATE).alias("own_date")])
        .agg([
            col(c::EVENT_AT).max().alias("at"),
            col(c::SOURCE_FILE).first(),
            col(c::SOURCE_LINE).first(),
        ])
        .select(event_cols(REACTIVATED));
    let all = concat([created, reactivated, cancelled], UnionArgs::default())
        .ctx("combining the lifecycle events")?;
    let day_ms = lit(86_400_000i64);
    let ms_of_day = ((col("at").cast(DataType::Int64) % day_ms.clone()) + day_ms.clone()) % day_ms;
    let not_created = col("kind").neq(lit(CREATED));
    Ok(all
        .join(
        base.select([col(c::SUBSCRIPTION_ID), col("created_date")]),
        [col(c::SUBSCRIPTION_ID)],
        [col(c::SUBSCRIPTION_ID)],
        JoinArgs::new(JoinType::Inner),
    )
    .with_column(
        when(col("own_date").lt(col("created_date")))
            .then(col("created_date"))
            .otherwise(col("own_date"))
            .alias("effective_date"),
    )
    // A cancellation and a reactivation on one date are ordered by time only when both have one.
    .with_column(
        col("at")
            .is_not_null()
            .and(not_created.clone())
            .cast(DataType::Int32)
            .sum()
            .over([col(c::SUBSCRIPTION_ID), col("own_date"), not_created.clone()])
            .ctx("planning the same-day order")?
            .eq(lit(2))
            .alias("timed_pair"),
    )
    .with_column(
        // phase (1 bit) | own date (days + 2^19, 20 bits) | time of day ms (27 bits) | kind (2 bits)
        (((not_created.cast(DataType::Int64) * lit(1i64 << 20)
            + col("own_date").cast(DataType::Int64)
            + lit(1i64 << 19))
            * lit(1i64 << 27)
            + when(col("timed_pair")).then(ms_of_day).otherwise(lit(0i64)))
            * lit(4i64)
            + col("kind").cast(DataType::Int64))
        .alias("order_key"),
    ))
}

/// End-of-day state per subscription and day with events, up to `as_of`, with flows:
/// `subscription_id, day, active, new, cancelled, reactivated, delta`.
pub(crate) fn daily_states(events: LazyFrame, as_of: NaiveDate) -> Result<LazyFrame> {
    Ok(events
        .filter(col("effective_date").lt_eq(lit(as_of)))
        .group_by([col(c::SUBSCRIPTION_ID), col("effective_date").alias("day")])
        .agg([col("kind").sort_by([col("order_key")], SortMultipleOptions::default()).last().alias("last_kind")])
        .with_column(col("last_kind").neq(lit(CANCELLED)).alias("active"))
        .sort([c::SUBSCRIPTION_ID, "day"], SortMultipleOptions::default())
        .with_column(previous_state(col("active"), &[col(c::SUBSCRIPTION_ID)])?)
        .with_columns(flows()))
}

/// `previous`: the state at the end of the entity's previous day with events (null: absent).
pub(crate) fn previous_state(active: Expr, partition: &[Expr]) -> Result<Expr> {
    Ok(active.shift(lit(1)).over(partition).ctx("planning the previous state")?.alias("previous"))
}

/// The flows of METRICS.md from (`previous`, `active`) pairs.
pub(crate) fn flows() -> [Expr; 4] {
    let absent = col("previous").is_null();
    let was_active = col("previous").fill_null(lit(false));
    let was_inactive = col("previous").fill_null(lit(true)).not();
    [
        absent.clone().cast(DataType::Int64).alias("new"),
        (absent.or(was_active.clone()))
            .and(col("active").not())
            .cast(DataType::Int64)
            .alias("cancelled"),
        was_inactive.and(col("active")).cast(DataType::Int64).alias("reactivated"),
        (col("active").cast(DataType::Int64) - was_active.cast(DataType::Int64)).alias("delta"),
    ]
}

/// Everything the tables and series need, planned once.
pub(crate) struct Lifecycle {
    pub base: LazyFrame,
    pub events: LazyFrame,
    pub as_of: NaiveDate,
}

impl Lifecycle {
    pub(crate) fn plan(sources: &LakeSources, as_of: Option<NaiveDate>) -> Result<Lifecycle> {
        let (_, last) = sources.range()?;
        let rows = report_rows(sources)?.cache();
        let base = subscription_base(rows.clone()).cache();
        let events = events(rows, base.clone(), reactivation_rows(sources)?)?.cache();
        Ok(Lifecycle { base, events, as_of: as_of.unwrap_or(last) })
    }

    pub(crate) fn states(&self) -> Result<LazyFrame> {
        daily_states(self.events.clone(), self.as_of)
    }
}

/// Subscriber states one level up: per `keys` (e.g. `[group, user_id]`) and day, the
/// number of active subscriptions is the running sum of the subscriptions' state
/// changes; the subscriber is active while it is positive. `states` must carry the
/// `keys` columns beside the subscription states.
pub(crate) fn subscriber_states(states: LazyFrame, keys: &[&str]) -> Result<LazyFrame> {
    let partition: Vec<Expr> = keys.iter().map(|k| col(*k)).collect();
    let mut group: Vec<Expr> = partition.clone();
    group.push(col("day"));
    let mut order: Vec<PlSmallStr> = keys.iter().map(|k| PlSmallStr::from(*k)).collect();
    order.push("day".into());
    Ok(states
        .group_by(group)
        .agg([col("delta").sum().alias("subscription_delta")])
        .sort(order, SortMultipleOptions::default())
        .with_column(
            col("subscription_delta")
                .cum_sum(false)
                .over(&partition)
                .ctx("planning active subscriptions per subscriber")?
                .alias("active_subscriptions"),
        )
        .with_column(col("active_subscriptions").gt(lit(0)).alias("active"))
        .with_column(previous_state(col("active"), &partition)?)
        .with_columns(flows()))
}

/// The user a subscription belongs to; a subscription without one is its own subscriber.
pub(crate) fn subscriber_key() -> Expr {
    col(c::USER_ID).fill_null(col(c::SUBSCRIPTION_ID)).alias(c::USER_ID)
}
