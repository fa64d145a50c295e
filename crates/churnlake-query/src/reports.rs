//! The event lists behind the CRM-style reports: the cancellations, the reactivations
//! (code-9 events) and the orders of the lake, one row per event, with the file and line
//! each came from. The subscription and subscriber reports are the tables of `tables`.

use chrono::NaiveDate;
use churnlake_lake::{ReportKind, columns as c};
use polars::prelude::*;

use crate::error::{Context, Result};
use crate::lifecycle::{MONEY, first_of_run, last_of_run, order_rows};
use crate::sources::LakeSources;

/// Columns of the cancellations report, in order.
pub const CANCELLATION_COLUMNS: &[&str] = &[
    "subscription_id",
    "public_subscription_id",
    "user_id",
    "product",
    "product_id",
    "sku",
    "quantity",
    "price",
    "create_date",
    "cancel_date",
    "cancelled_at",
    "cancelled_within_24h",
    "cancel_reason",
    "source_file",
    "source_line",
];

/// Columns of the reactivations report, in order.
pub const REACTIVATION_COLUMNS: &[&str] = &[
    "public_subscription_id",
    "subscription_id",
    "user_id",
    "product",
    "merchant_user_id",
    "event_date",
    "event_at",
    "source_file",
    "source_line",
];

fn timestamp() -> DataType {
    DataType::Datetime(TimeUnit::Milliseconds, None)
}

/// Keeps `date` inside `from..=to` (either end open when not given).
fn within(date: &str, from: Option<NaiveDate>, to: Option<NaiveDate>) -> Expr {
    let mut keep = col(date).is_not_null();
    if let Some(from) = from {
        keep = keep.and(col(date).gt_eq(lit(from)));
    }
    if let Some(to) = to {
        keep = keep.and(col(date).lt_eq(lit(to)));
    }
    keep
}

/// One row per cancellation event of the cancellation reports — each distinct
/// (subscription, cancel date), as METRICS.md counts them — with the attributes and the
/// lineage of the first report row that carried it (a re-sent row is not a second
/// event). Rows without a Cancel Date are no event and are left out. `from`/`to` bound
/// the cancel date. Sorted by cancel date, then subscription id.
pub(crate) fn cancellations(
    sources: &LakeSources,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Result<DataFrame> {
    let wanted = [
        (c::SUBSCRIPTION_ID, DataType::String),
        (c::PUBLIC_SUBSCRIPTION_ID, DataType::String),
        (c::USER_ID, DataType::String),
        (c::PRODUCT, DataType::String),
        (c::PRODUCT_ID, DataType::String),
        (c::SKU, DataType::String),
        (c::QUANTITY, DataType::Int32),
        (c::PRICE, MONEY),
        (c::CREATE_DATE, DataType::Date),
        (c::CANCEL_DATE, DataType::Date),
        (c::CANCELLED_AT, timestamp()),
        (c::CANCELLED_WITHIN_24H, DataType::Boolean),
        (c::CANCEL_REASON, DataType::String),
        (c::SOURCE_FILE, DataType::String),
        (c::SOURCE_LINE, DataType::Int64),
    ];
    let rows = sources.scan(ReportKind::Cancellations.as_str(), &wanted)?.filter(within(c::CANCEL_DATE, from, to));
    let keys = [c::SUBSCRIPTION_ID, c::CANCEL_DATE];
    let df = order_rows(rows, sources.file_ranks()?)
        .sort(["subscription_id", "cancel_date", "row_order"], SortMultipleOptions::default())
        .filter(first_of_run(&keys))
        .sort(["cancel_date", "subscription_id"], SortMultipleOptions::default())
        .select(CANCELLATION_COLUMNS.iter().map(|name| col(*name)).collect::<Vec<_>>())
        .collect()
        .ctx("listing the cancellations")?;
    Ok(df)
}

/// One row per reactivation: each distinct (public id, event date) among the code-9
/// subscriber events, with the subscription the newest report row maps the public id to
/// (its `subscription_id`, `user_id` and `product`; null for an id no report carries —
/// `anomalies` lists those as `unknown_id`) and the lineage of the first event row.
/// `from`/`to` bound the event date. Sorted by event date, then public id.
pub(crate) fn reactivations(
    sources: &LakeSources,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Result<DataFrame> {
    let wanted = [
        (c::PUBLIC_SUBSCRIPTION_ID, DataType::String),
        (c::MERCHANT_USER_ID, DataType::String),
        (c::EVENT_DATE, DataType::Date),
        (c::EVENT_AT, timestamp()),
        (c::SOURCE_FILE, DataType::String),
        (c::SOURCE_LINE, DataType::Int64),
    ];
    let events = sources
        .scan_where(ReportKind::SubscriberEvents.as_str(), &wanted, |lf| lf.filter(col(c::EVENT_CODE).eq(lit(9))))?
        .filter(within(c::EVENT_DATE, from, to));
    let ranks = sources.file_ranks()?;
    let events = order_rows(events, ranks.clone())
        .sort(["public_subscription_id", "event_date", "row_order"], SortMultipleOptions::default())
        .filter(first_of_run(&[c::PUBLIC_SUBSCRIPTION_ID, c::EVENT_DATE]))
        .drop(cols(["row_order"]));

    // the public id → subscription mapping of the newest report row carrying the id
    let mapping = [(c::PUBLIC_SUBSCRIPTION_ID, DataType::String), (c::SUBSCRIPTION_ID, DataType::String)]
        .into_iter()
        .chain([(c::USER_ID, DataType::String), (c::PRODUCT, DataType::String)])
        .chain([(c::SOURCE_FILE, DataType::String), (c::SOURCE_LINE, DataType::Int64)])
        .collect::<Vec<_>>();
    let reports = [ReportKind::Subscriptions, ReportKind::Cancellations].map(|kind| {
        sources.scan(kind.as_str(), &mapping).map(|lf| lf.filter(col(c::PUBLIC_SUBSCRIPTION_ID).is_not_null()))
    });
    let [a, b] = reports;
    let reports = concat([a?, b?], UnionArgs::default()).ctx("reading public ids")?;
    let newest = order_rows(reports, ranks)
        .sort(["public_subscription_id", "row_order"], SortMultipleOptions::default())
        .filter(last_of_run(&[c::PUBLIC_SUBSCRIPTION_ID]))
        .select([col(c::PUBLIC_SUBSCRIPTION_ID), col(c::SUBSCRIPTION_ID), col(c::USER_ID), col(c::PRODUCT)]);

    events
        .join(newest, [col(c::PUBLIC_SUBSCRIPTION_ID)], [col(c::PUBLIC_SUBSCRIPTION_ID)], JoinArgs::new(JoinType::Left))
        .sort(["event_date", "public_subscription_id"], SortMultipleOptions::default())
        .select(REACTIVATION_COLUMNS.iter().map(|name| col(*name)).collect::<Vec<_>>())
        .collect()
        .ctx("listing the reactivations")
}

/// The orders table as delivered (its columns are the files' own, typed by name), one row
/// per order row, with `data_date` and the lineage; `from`/`to` bound the data date.
/// Sorted by data date, file and line. An empty frame (lineage columns only) when no
/// orders were ingested.
pub(crate) fn orders(sources: &LakeSources, from: Option<NaiveDate>, to: Option<NaiveDate>) -> Result<DataFrame> {
    let Some(lf) = sources.scan_loose(ReportKind::Orders.as_str())? else {
        let columns = vec![
            Column::full_null(c::DATA_DATE.into(), 0, &DataType::Date),
            Column::full_null(c::SOURCE_FILE.into(), 0, &DataType::String),
            Column::full_null(c::SOURCE_LINE.into(), 0, &DataType::Int64),
        ];
        return DataFrame::new_infer_height(columns).ctx("building an empty table");
    };
    lf.filter(within(c::DATA_DATE, from, to))
        .sort([c::DATA_DATE, c::SOURCE_FILE, c::SOURCE_LINE], SortMultipleOptions::default())
        .collect()
        .ctx("listing the orders")
}
