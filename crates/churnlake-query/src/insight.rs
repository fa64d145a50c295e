//! Insights (the CRM.COM document's "Insights"): lifecycle events and orders counted or
//! summed per period and breakdown value.
//!
//! The events are the state changes the series counts (METRICS.md "Daily flows"): a
//! subscription is `created` on the day it becomes known as new, `cancelled` on each day
//! it goes from active (or absent) to inactive, `reactivated` on each day it goes from
//! inactive to active — so per day (and per group) their counts equal the series'
//! `new_subscriptions`, `cancelled_subscriptions` and `reactivated_subscriptions`. An event
//! that changes nothing (a second cancellation) is not an insight event. Each event row
//! carries the subscription's attributes (its latest values, as `--by` everywhere) and an
//! `amount`: the subscription's price × quantity. Orders come from the orders table, one
//! row per order id (a re-delivered order counted once), dated by `order_date`, with
//! `order_total` as the amount (price × quantity when a file has no total).

use chrono::NaiveDate;
use churnlake_lake::columns as c;
use polars::prelude::*;

use crate::driver::{Consumer, Passes};
use crate::error::{Context, QueryError, Result};
use crate::lifecycle::{Attributes, Lifecycle, Lineage, MONEY};
use crate::passes::stack;
use crate::series::{Grain, check_period};
use crate::sources::LakeSources;

/// An insight's event (`--event`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InsightEvent {
    Created,
    Cancelled,
    Reactivated,
    Order,
}

impl InsightEvent {
    pub fn name(self) -> &'static str {
        match self {
            InsightEvent::Created => "created",
            InsightEvent::Cancelled => "cancelled",
            InsightEvent::Reactivated => "reactivated",
            InsightEvent::Order => "order",
        }
    }
}

/// What an insight measures (`--measure`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// The number of events.
    Count,
    /// The sum of their `amount` (exact DECIMAL(18,2)).
    Amount,
}

impl Measure {
    /// The name of the result's value column.
    pub fn column(self) -> &'static str {
        match self {
            Measure::Count => "count",
            Measure::Amount => "amount",
        }
    }
}

/// Columns of a lifecycle insight's events (`--underlying`), in order.
pub const LIFECYCLE_EVENT_COLUMNS: &[&str] = &[
    "event",
    "date",
    c::SUBSCRIPTION_ID,
    c::USER_ID,
    c::PRODUCT,
    c::PRODUCT_ID,
    c::SKU,
    c::OFFER_ID,
    c::MERCHANT,
    c::FREQUENCY_DAYS,
    c::QUANTITY,
    c::PRICE,
    c::CANCEL_REASON,
    "amount",
];

/// The events of `event` dated `from..=to` (default: the lake's range), one row each.
pub(crate) fn events(
    sources: &LakeSources,
    event: InsightEvent,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Result<DataFrame> {
    let (first, last) = sources.range()?;
    let (from, to) = (from.unwrap_or(first), to.unwrap_or(last));
    check_period(from, to, first, last)?;
    let frame = match event {
        InsightEvent::Order => orders(sources)?.lazy(),
        _ => {
            let passes = Passes::plan(sources, Attributes::All, Lineage::Drop)?;
            let mut collect = Collect { event, parts: Vec::new() };
            passes.run_one(None, &mut collect)?;
            stack(collect.parts)?
        }
    };
    frame
        .filter(col("date").gt_eq(lit(from)).and(col("date").lt_eq(lit(to))))
        .sort(["date", c::SUBSCRIPTION_ID], SortMultipleOptions::default())
        .collect()
        .ctx("selecting the period's events")
}

/// Each pass's state changes of one kind, with the subscriptions' attributes.
struct Collect {
    event: InsightEvent,
    parts: Vec<DataFrame>,
}

impl Consumer for Collect {
    fn add(&mut self, life: &Lifecycle, _pass: u32) -> Result<()> {
        let flow = match self.event {
            InsightEvent::Created => "new",
            InsightEvent::Cancelled => "cancelled",
            _ => "reactivated",
        };
        let changes = life.states()?.filter(col(flow).eq(lit(1i64))).select([col("sub_idx"), col("day").alias("date")]);
        let mut select = vec![lit(self.event.name()).alias("event"), col("date")];
        select.extend(LIFECYCLE_EVENT_COLUMNS[2..LIFECYCLE_EVENT_COLUMNS.len() - 1].iter().map(|name| col(*name)));
        select.push(amount(col(c::PRICE), col(c::QUANTITY)).alias("amount"));
        let part = changes
            .join(life.base.clone(), [col("sub_idx")], [col("sub_idx")], JoinArgs::new(JoinType::Inner))
            .select(select)
            .collect()
            .ctx("collecting the insight's events")?;
        self.parts.push(part);
        Ok(())
    }
}

/// price × quantity, exact, as the lake's money type.
fn amount(price: Expr, quantity: Expr) -> Expr {
    (price.cast(MONEY) * quantity.cast(DataType::Decimal(18, 0))).cast(MONEY)
}

/// Columns of the order events, in order (those the orders files carry; others are null).
pub const ORDER_EVENT_COLUMNS: &[&str] = &[
    "event",
    "date",
    "order_id",
    c::SUBSCRIPTION_ID,
    c::USER_ID,
    c::PRODUCT_ID,
    c::SKU,
    c::QUANTITY,
    c::PRICE,
    "order_status",
    "amount",
];

fn orders(sources: &LakeSources) -> Result<DataFrame> {
    let empty = || -> Result<DataFrame> {
        let columns: Vec<Column> = ORDER_EVENT_COLUMNS
            .iter()
            .map(|name| {
                let dtype = match *name {
                    "date" => DataType::Date,
                    c::QUANTITY => DataType::Int64,
                    c::PRICE | "amount" => MONEY,
                    _ => DataType::String,
                };
                Column::new_empty((*name).into(), &dtype)
            })
            .collect();
        DataFrame::new(0, columns).ctx("an empty order table")
    };
    let Some(mut lf) = sources.scan_loose("orders")? else { return empty() };
    let schema = lf.collect_schema().ctx("reading the orders' columns")?;
    let has = |name: &str| schema.get(name).is_some();
    let or_null = |name: &str, dtype: DataType| {
        if has(name) { col(name).cast(dtype.clone()) } else { NULL.lit().cast(dtype) }
    };
    let date = if has("order_date") { col("order_date").cast(DataType::Date) } else { col(c::DATA_DATE) };
    let total = if has("order_total") {
        col("order_total").cast(MONEY)
    } else {
        amount(or_null(c::PRICE, MONEY), or_null(c::QUANTITY, DataType::Int64))
    };
    let mut lf = lf.select([
        lit(InsightEvent::Order.name()).alias("event"),
        date.alias("date"),
        or_null("order_id", DataType::String).alias("order_id"),
        or_null(c::SUBSCRIPTION_ID, DataType::String).alias(c::SUBSCRIPTION_ID),
        or_null(c::USER_ID, DataType::String).alias(c::USER_ID),
        or_null(c::PRODUCT_ID, DataType::String).alias(c::PRODUCT_ID),
        or_null(c::SKU, DataType::String).alias(c::SKU),
        or_null(c::QUANTITY, DataType::Int64).alias(c::QUANTITY),
        or_null(c::PRICE, MONEY).alias(c::PRICE),
        or_null("order_status", DataType::String).alias("order_status"),
        total.alias("amount"),
        col(c::DATA_DATE),
    ]);
    if has("order_id") {
        // a re-delivered order counts once: its newest row
        lf = lf
            .sort([c::DATA_DATE], SortMultipleOptions::default())
            .unique_stable(Some(cols(["order_id"])), UniqueKeepStrategy::Last);
    }
    lf.drop(cols([c::DATA_DATE])).filter(col("date").is_not_null()).collect().ctx("reading the orders")
}

/// An insight's results from its events: per period of `grain` (labelled by its first
/// day, every period of `from..=to` present) or over the whole period when `grain` is
/// `None`, and per value of `by` (as text, "" when empty), the events' count or the sum of
/// their amounts. Columns: `period` (with a grain), `by` (with a breakdown), `count` or
/// `amount`; sorted by period then group; a (period, group) without events is 0.
pub fn results(
    events: &DataFrame,
    measure: Measure,
    by: Option<&str>,
    grain: Option<Grain>,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<DataFrame> {
    if let Some(by) = by
        && events.column(by).is_err()
    {
        let choices: Vec<String> = events.get_column_names().iter().map(|n| n.to_string()).collect();
        return Err(QueryError::UnknownColumn { column: by.to_owned(), choices: choices.join(", ") });
    }
    let value = match measure {
        Measure::Count => len().cast(DataType::Int64).alias("count"),
        Measure::Amount => col("amount").sum().cast(MONEY).alias("amount"),
    };
    let mut keys: Vec<Expr> = Vec::new();
    let mut lf = events.clone().lazy();
    if let Some(grain) = grain {
        let dates: Vec<NaiveDate> = from.iter_days().take_while(|d| *d <= to).collect();
        let periods: Vec<NaiveDate> = dates.iter().map(|d| grain.period_start(*d)).collect();
        let map =
            DataFrame::new(dates.len(), vec![Column::new("date".into(), dates), Column::new("period".into(), periods)])
                .ctx("building periods")?;
        lf = lf.join(map.lazy(), [col("date")], [col("date")], JoinArgs::new(JoinType::Inner));
        keys.push(col("period"));
    }
    if let Some(by) = by {
        lf = lf.with_column(col(by).cast(DataType::String).fill_null(lit("")).alias(by));
        keys.push(col(by));
    }
    let sums = if keys.is_empty() {
        lf.select([value]).collect().ctx("computing the insight")?
    } else {
        lf.group_by(keys.clone()).agg([value]).collect().ctx("computing the insight")?
    };
    // every period (and every group seen) present, with 0 where nothing happened
    let mut periods: Vec<NaiveDate> = Vec::new();
    if let Some(grain) = grain {
        periods = from.iter_days().take_while(|d| *d <= to).map(|d| grain.period_start(d)).collect();
        periods.dedup();
    }
    let mut groups: Vec<String> = Vec::new();
    if let Some(by) = by {
        let column = sums.column(by).ctx("reading the groups")?.str().ctx("reading the groups")?.clone();
        groups = column.iter().map(|g| g.unwrap_or_default().to_owned()).collect();
        groups.sort();
        groups.dedup();
    }
    let spine = match (grain, by) {
        (None, None) => None,
        (Some(_), None) => Some(vec![Column::new("period".into(), periods)]),
        (None, Some(by)) => Some(vec![Column::new(by.into(), groups)]),
        (Some(_), Some(by)) => {
            let days: Vec<NaiveDate> = periods.iter().flat_map(|p| std::iter::repeat_n(*p, groups.len())).collect();
            let names: Vec<String> = periods.iter().flat_map(|_| groups.iter().cloned()).collect();
            Some(vec![Column::new("period".into(), days), Column::new(by.into(), names)])
        }
    };
    let spine = match spine {
        Some(columns) => {
            let height = columns.first().map_or(0, |c| c.len());
            Some(DataFrame::new(height, columns).ctx("building the insight's rows")?.lazy())
        }
        None => None,
    };
    let Some(spine) = spine else { return Ok(sums) };
    let names: Vec<PlSmallStr> = [grain.map(|_| "period"), by].into_iter().flatten().map(PlSmallStr::from).collect();
    let on: Vec<Expr> = names.iter().map(|n| col(n.clone())).collect();
    let zero = match measure {
        Measure::Count => lit(0i64),
        Measure::Amount => lit(0i64).cast(MONEY),
    };
    spine
        .join(sums.lazy(), on.clone(), on, JoinArgs::new(JoinType::Left))
        .with_column(col(measure.column()).fill_null(zero))
        .sort(names, SortMultipleOptions::default())
        .collect()
        .ctx("completing the insight's periods")
}
