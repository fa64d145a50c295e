//! Why people cancel: the cancellation events of a period, each with the reason and the
//! attributes of its own cancellation-report row (unlike `series --by cancel_reason`,
//! which groups subscriptions by their latest reason), counted per group.
//!
//! An event is a distinct (subscription, cancel date) of the cancellation reports; when
//! several rows carry it, the newest (data date, stamp, file name, line) gives its values
//! (an empty value stays empty: the group ""). Its days from
//! creation use the lifecycle's created date (METRICS.md), read through the passes.

use chrono::NaiveDate;
use churnlake_lake::{ReportKind, columns as c};
use polars::prelude::*;

use crate::driver::{Consumer, Passes};
use crate::error::{Context, Result};
use crate::lifecycle::{self, ATTRIBUTES, Attributes, Lifecycle, Lineage};
use crate::passes::stack;
use crate::series::{check_by, check_period};
use crate::sources::LakeSources;

/// The columns of `churnlake cancellations` (with `--by X`, X comes first).
pub const CANCELLATION_COLUMNS: [&str; 5] = [
    "cancellations",
    "cancelled_within_24h",
    "share_cancelled_within_24h",
    "median_days_from_creation",
    "subscriptions",
];

/// The created date of every subscription, pass by pass.
struct Created {
    parts: Vec<DataFrame>,
}

impl Consumer for Created {
    fn add(&mut self, life: &Lifecycle, _pass: u32) -> Result<()> {
        self.parts.push(
            life.base
                .clone()
                .select([col(c::SUBSCRIPTION_ID), col("created_date")])
                .collect()
                .ctx("reading created dates")?,
        );
        Ok(())
    }
}

/// The events of `from..=to`: `subscription_id, cancel_date, cancel_reason, product,
/// cancelled_within_24h, [by], created_date, days_from_creation`, by subscription, date.
pub(crate) fn events(sources: &LakeSources, from: NaiveDate, to: NaiveDate, by: Option<&str>) -> Result<LazyFrame> {
    let (first, last) = sources.range()?;
    check_period(from, to, first, last)?;
    let mut wanted: Vec<(&str, DataType)> = vec![
        (c::SUBSCRIPTION_ID, DataType::String),
        (c::CANCEL_DATE, DataType::Date),
        (c::CANCEL_REASON, DataType::String),
        (c::PRODUCT, DataType::String),
        (c::CANCELLED_WITHIN_24H, DataType::Boolean),
        (c::SOURCE_FILE, DataType::String),
        (c::SOURCE_LINE, DataType::Int64),
    ];
    let by = by.filter(|b| !wanted.iter().any(|(n, _)| n == b));
    if let Some(by) = by
        && let Some(attr) = ATTRIBUTES.iter().find(|(n, _)| *n == by)
    {
        wanted.push(attr.clone());
    }
    let rows = sources.scan_where(ReportKind::Cancellations.as_str(), &wanted, |lf| {
        lf.filter(col(c::CANCEL_DATE).gt_eq(lit(from)).and(col(c::CANCEL_DATE).lt_eq(lit(to))))
    })?;
    // one row per event: each column its newest non-empty value among the event's rows (a
    // copy of the report may lack a column the original has)
    let values: Vec<Expr> = wanted
        .iter()
        .map(|(name, _)| *name)
        .chain(["row_order"])
        .filter(|name| *name != c::SUBSCRIPTION_ID && *name != c::CANCEL_DATE)
        .map(|name| col(name).last_non_null())
        .collect();
    let newest = lifecycle::order_rows(rows, sources.file_ranks()?)
        .sort([c::SUBSCRIPTION_ID, c::CANCEL_DATE, "row_order"], SortMultipleOptions::default())
        .group_by_stable([col(c::SUBSCRIPTION_ID), col(c::CANCEL_DATE)])
        .agg(values);
    // the subscriptions' created dates, through the lifecycle passes
    let passes = Passes::plan(sources, Attributes::UserAnd(None), Lineage::Drop)?;
    let mut created = Created { parts: Vec::new() };
    passes.run_one(None, &mut created)?;
    let created = stack(created.parts)?;
    Ok(newest
        .join(created, [col(c::SUBSCRIPTION_ID)], [col(c::SUBSCRIPTION_ID)], JoinArgs::new(JoinType::Left))
        .with_column(
            (col(c::CANCEL_DATE).cast(DataType::Int32) - col("created_date").cast(DataType::Int32))
                .cast(DataType::Int64)
                .alias("days_from_creation"),
        )
        .drop(cols([c::SOURCE_FILE, c::SOURCE_LINE, "row_order"])))
}

/// The period's cancellation events counted per group of `by` (the value on each event's
/// own row; one row without `by`): `[by], cancellations, cancelled_within_24h,
/// share_cancelled_within_24h, median_days_from_creation, subscriptions`.
pub(crate) fn cancellations(
    sources: &LakeSources,
    from: NaiveDate,
    to: NaiveDate,
    by: Option<&str>,
) -> Result<DataFrame> {
    if let Some(by) = by {
        check_by(by)?;
    }
    let events = events(sources, from, to, by)?;
    let group: Vec<Expr> = match by {
        Some(by) => vec![col(by).cast(DataType::String).fill_null(lit("")).alias(by)],
        None => vec![lit("").alias("group")],
    };
    let key = by.unwrap_or("group");
    let within = col(c::CANCELLED_WITHIN_24H).fill_null(lit(false)).cast(DataType::Int64);
    let out = events
        .with_columns(group)
        .group_by([col(key)])
        .agg([
            len().cast(DataType::Int64).alias("cancellations"),
            within.sum().alias("cancelled_within_24h"),
            col("days_from_creation").cast(DataType::Float64).median().alias("median_days_from_creation"),
            col(c::SUBSCRIPTION_ID).n_unique().cast(DataType::Int64).alias("subscriptions"),
        ])
        .with_column(
            (col("cancelled_within_24h").cast(DataType::Float64) / col("cancellations").cast(DataType::Float64))
                .alias("share_cancelled_within_24h"),
        )
        .sort([key], SortMultipleOptions::default());
    let mut select: Vec<Expr> = Vec::new();
    if let Some(by) = by {
        select.push(col(by));
    }
    select.extend(CANCELLATION_COLUMNS.iter().map(|n| col(*n)));
    let df = out.select(select).collect().ctx("counting cancellations")?;
    if by.is_none() && df.height() == 0 {
        // no event in the period: one row of zeros
        return df!(
            "cancellations" => [0i64],
            "cancelled_within_24h" => [0i64],
            "share_cancelled_within_24h" => [None::<f64>],
            "median_days_from_creation" => [None::<f64>],
            "subscriptions" => [0i64],
        )
        .ctx("counting cancellations");
    }
    Ok(df)
}

/// The period's events one row each (`subscription_id, cancel_date, cancel_reason, product,
/// cancelled_within_24h, created_date, days_from_creation`), by subscription then date.
pub(crate) fn event_rows(sources: &LakeSources, from: NaiveDate, to: NaiveDate) -> Result<DataFrame> {
    events(sources, from, to, None)?
        .select([
            col(c::SUBSCRIPTION_ID),
            col(c::CANCEL_DATE),
            col(c::CANCEL_REASON),
            col(c::PRODUCT),
            col(c::CANCELLED_WITHIN_24H),
            col("created_date"),
            col("days_from_creation"),
        ])
        .sort([c::SUBSCRIPTION_ID, c::CANCEL_DATE], SortMultipleOptions::default())
        .collect()
        .ctx("listing cancellations")
}
