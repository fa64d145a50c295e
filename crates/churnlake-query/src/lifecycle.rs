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
//!
//! Everything after the first joins runs on dense integer ids (`sub_idx`) and sorted
//! neighbour comparisons, so years of history cost a few sorts and group-bys.

use chrono::NaiveDate;
use churnlake_lake::columns as c;
use churnlake_lake::{MONEY_PRECISION, MONEY_SCALE, ReportKind};
use polars::prelude::*;

use crate::error::{Context, Result};
use crate::kernel;
use crate::passes::{Part, scan_local, stack};
use crate::sources::LakeSources;

/// Event kinds, in their same-day order when untimed.
pub(crate) const CREATED: i32 = 0;
pub(crate) const REACTIVATED: i32 = 1;
pub(crate) const CANCELLED: i32 = 2;

/// The lake's money columns as polars sees them (DECIMAL(18, 2), defined by the lake).
pub(crate) const MONEY: DataType = DataType::Decimal(MONEY_PRECISION as usize, MONEY_SCALE as usize);

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
    (c::PRICE, MONEY),
    (c::DISCOUNT_PRICE, MONEY),
    (c::STATUS, DataType::String),
    (c::CANCEL_REASON, DataType::String),
    (c::CANCELLED_WITHIN_24H, DataType::Boolean),
];

/// Which attributes a computation needs (the series needs only the user and the group).
#[derive(Debug, Clone, Copy)]
pub(crate) enum Attributes<'a> {
    All,
    UserAnd(Option<&'a str>),
    /// The user, the money attributes (price, quantity, frequency) and the group, with
    /// every report row's values kept ([`Lifecycle::history`]): attributes in effect on a day.
    Revenue(Option<&'a str>),
    /// Every attribute, and the money attributes' history as with `Revenue(None)`: what
    /// `build` derives every table from.
    AllWithHistory,
}

/// The attributes MRR is computed from (METRICS.md "Revenue").
pub(crate) const MONEY_ATTRIBUTES: [&str; 3] = [c::PRICE, c::QUANTITY, c::FREQUENCY_DAYS];

impl Attributes<'_> {
    /// How many times the series' memory per report row a pass with these attributes
    /// holds (measured on the large preset in one pass: the series 985 MiB, revenue 1.22
    /// GiB, `build` 2.3 GiB): a pass takes `rows_per_pass` divided by this, so that every
    /// consumer stays within the series' peak.
    pub(crate) fn pass_weight(self) -> u64 {
        match self {
            Attributes::UserAnd(_) => 1,
            Attributes::All | Attributes::Revenue(_) => 2,
            Attributes::AllWithHistory => 3,
        }
    }

    fn wanted(self) -> Vec<(&'static str, DataType)> {
        ATTRIBUTES
            .iter()
            .filter(|(name, _)| match self {
                Attributes::All | Attributes::AllWithHistory => true,
                Attributes::UserAnd(by) => *name == c::USER_ID || Some(*name) == by,
                Attributes::Revenue(by) => *name == c::USER_ID || MONEY_ATTRIBUTES.contains(name) || Some(*name) == by,
            })
            .cloned()
            .collect()
    }
}

/// Marks report rows from the subscription report (true) or the cancellation report
/// (false): a subscription's creation comes from the former whenever it has a Create Date.
pub(crate) const FROM_SUBSCRIPTION_REPORT: &str = "from_subscription_report";

/// The flag column for rows of `table` (`subscriptions` or `cancellations`).
pub(crate) fn report_flag(table: &str) -> Expr {
    lit(table == ReportKind::Subscriptions.as_str()).alias(FROM_SUBSCRIPTION_REPORT)
}

fn timestamp() -> DataType {
    DataType::Datetime(TimeUnit::Milliseconds, None)
}

/// Whether events keep the file and line they came from (`explain` shows them; the
/// tables and the series do not need them, and leaving them out saves memory).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lineage {
    Keep,
    Drop,
}

pub(crate) fn report_columns(attributes: Attributes) -> Vec<(&'static str, DataType)> {
    let mut wanted: Vec<(&str, DataType)> = vec![
        (c::SUBSCRIPTION_ID, DataType::String),
        (c::CREATE_DATE, DataType::Date),
        (c::CANCEL_DATE, DataType::Date),
        (c::CANCELLED_AT, timestamp()),
        (c::DATA_DATE, DataType::Date),
        (c::SOURCE_FILE, DataType::String),
        (c::SOURCE_LINE, DataType::Int64),
    ];
    wanted.extend(attributes.wanted());
    wanted
}

/// Report rows (subscription and cancellation reports together), oldest first: sorted by
/// one integer key, the source file's rank (data date, stamp, name) and the line.
fn report_rows(sources: &LakeSources, part: &Part, attributes: Attributes, lineage: Lineage) -> Result<LazyFrame> {
    let wanted = report_columns(attributes);
    let rows = match part {
        Part::Split { index, split } => {
            // the split files carry `row_order`, every attribute, and lineage when asked for
            let mut select: Vec<Expr> = wanted
                .iter()
                .filter(|(name, _)| lineage == Lineage::Keep || !is_lineage(name))
                .map(|(name, _)| col(*name))
                .collect();
            select.extend([col("row_order"), col(FROM_SUBSCRIPTION_REPORT)]);
            split.reports(*index)?.select(select)
        }
        _ => {
            let rows = with_row_order(sources, both_reports(sources, part, &wanted)?)?;
            match lineage {
                Lineage::Keep => rows,
                Lineage::Drop => rows.drop(cols([c::SOURCE_FILE, c::SOURCE_LINE])),
            }
        }
    };
    Ok(rows.sort(["row_order"], SortMultipleOptions::default()))
}

fn is_lineage(name: &str) -> bool {
    name == c::SOURCE_FILE || name == c::SOURCE_LINE
}

/// `public_subscription_id → sub_idx` from every report row that has both (the newest
/// row wins), computed apart from the report rows so that the long public ids are never
/// part of the wide, sorted row set.
fn public_map(sources: &LakeSources, part: &Part, ids: LazyFrame) -> Result<LazyFrame> {
    let rows = match part {
        Part::Split { index, split } => split.reports(*index)?,
        _ => {
            let wanted: Vec<(&str, DataType)> = vec![
                (c::SUBSCRIPTION_ID, DataType::String),
                (c::PUBLIC_SUBSCRIPTION_ID, DataType::String),
                (c::SOURCE_FILE, DataType::String),
                (c::SOURCE_LINE, DataType::Int64),
            ];
            with_row_order(sources, both_reports(sources, part, &wanted)?)?
        }
    };
    // per public id, the subscription of its newest row (the largest row order): a hash
    // aggregation, then the subscription id becomes its dense index
    let newest = col(c::SUBSCRIPTION_ID).get(col("row_order").arg_max(), false);
    Ok(rows
        .select([col(c::PUBLIC_SUBSCRIPTION_ID), col(c::SUBSCRIPTION_ID), col("row_order")])
        .filter(col(c::PUBLIC_SUBSCRIPTION_ID).is_not_null())
        .group_by([col(c::PUBLIC_SUBSCRIPTION_ID)])
        .agg([newest.alias(c::SUBSCRIPTION_ID)])
        .join(ids, [col(c::SUBSCRIPTION_ID)], [col(c::SUBSCRIPTION_ID)], JoinArgs::new(JoinType::Inner))
        .select([col(c::PUBLIC_SUBSCRIPTION_ID), col("sub_idx")]))
}

/// The subscription and cancellation reports' rows of `part`'s subscriptions, `wanted`
/// columns and [`FROM_SUBSCRIPTION_REPORT`].
fn both_reports(sources: &LakeSources, part: &Part, wanted: &[(&str, DataType)]) -> Result<LazyFrame> {
    // the part's filter goes into the Parquet reader: rows of other parts are never held
    let [subscriptions, cancellations] = [ReportKind::Subscriptions, ReportKind::Cancellations].map(|kind| {
        let table = kind.as_str();
        sources
            .scan_where(table, wanted, |lf| part.apply(lf, c::SUBSCRIPTION_ID))
            .map(|lf| lf.with_column(report_flag(table)))
    });
    concat([subscriptions?, cancellations?], UnionArgs::default()).ctx("combining the reports")
}

/// Adds `row_order` (file rank << 32 | line) to report rows carrying `source_file, source_line`.
fn with_row_order(sources: &LakeSources, rows: LazyFrame) -> Result<LazyFrame> {
    Ok(order_rows(rows, sources.file_ranks()?))
}

pub(crate) fn order_rows(rows: LazyFrame, ranks: LazyFrame) -> LazyFrame {
    rows.join(ranks, [col(c::SOURCE_FILE)], [col(c::SOURCE_FILE)], JoinArgs::new(JoinType::Left))
        .with_column((col("file_rank").fill_null(lit(0i64)) * lit(1i64 << 32) + col(c::SOURCE_LINE)).alias("row_order"))
        .drop(cols(["file_rank"]))
}

pub(crate) fn event_columns(lineage: Lineage) -> Vec<(&'static str, DataType)> {
    let mut wanted: Vec<(&str, DataType)> = vec![
        (c::PUBLIC_SUBSCRIPTION_ID, DataType::String),
        (c::EVENT_CODE, DataType::Int32),
        (c::EVENT_DATE, DataType::Date),
        (c::EVENT_AT, timestamp()),
    ];
    if lineage == Lineage::Keep {
        wanted.extend([(c::SOURCE_FILE, DataType::String), (c::SOURCE_LINE, DataType::Int64)]);
    }
    wanted
}

/// Keeps code-9 rows; applied to the files' own columns, before the scan's casts, so that
/// the reader drops the other codes.
pub(crate) fn code_9(lf: LazyFrame) -> LazyFrame {
    lf.filter(col(c::EVENT_CODE).eq(lit(9)))
}

/// Code-9 subscriber events of `public_map`'s subscriptions (`public_subscription_id,
/// sub_idx`), with their dates (and lineage). A split part joins the split's event files
/// one at a time, so only the part's own events are held.
fn reactivation_rows(sources: &LakeSources, part: &Part, lineage: Lineage, public_map: DataFrame) -> Result<LazyFrame> {
    let map = public_map.lazy();
    let mapped = |lf: LazyFrame| {
        lf.join(
            map.clone(),
            [col(c::PUBLIC_SUBSCRIPTION_ID)],
            [col(c::PUBLIC_SUBSCRIPTION_ID)],
            JoinArgs::new(JoinType::Inner),
        )
    };
    match part {
        Part::Split { split, .. } => {
            let mut frames = Vec::new();
            for file in split.events() {
                frames.push(mapped(scan_local(std::slice::from_ref(file))?).collect().ctx("joining reactivations")?);
            }
            if frames.is_empty() {
                let wanted = event_columns(lineage);
                let scan = sources
                    .scan_where(ReportKind::SubscriberEvents.as_str(), &wanted, |lf| code_9(lf).filter(lit(false)))?;
                return Ok(mapped(scan));
            }
            stack(frames)
        }
        _ => Ok(mapped(sources.scan_where(ReportKind::SubscriberEvents.as_str(), &event_columns(lineage), code_9)?)),
    }
}

/// True on the last row of each run of equal `keys` (the frame is sorted by them).
pub(crate) fn last_of_run(keys: &[&str]) -> Expr {
    keys.iter().map(|k| col(*k).shift(lit(-1)).neq_missing(col(*k))).reduce(|a, b| a.or(b)).unwrap_or_else(|| lit(true))
}

/// True on the first row of each run of equal `keys`.
pub(crate) fn first_of_run(keys: &[&str]) -> Expr {
    keys.iter().map(|k| col(*k).shift(lit(1)).neq_missing(col(*k))).reduce(|a, b| a.or(b)).unwrap_or_else(|| lit(true))
}

/// The flows of METRICS.md from (`previous`, `active`) pairs (`previous` null: absent).
pub(crate) fn flows() -> [Expr; 4] {
    let absent = col("previous").is_null();
    let was_active = col("previous").fill_null(lit(false));
    let was_inactive = col("previous").fill_null(lit(true)).not();
    [
        absent.clone().cast(DataType::Int64).alias("new"),
        (absent.or(was_active.clone())).and(col("active").not()).cast(DataType::Int64).alias("cancelled"),
        was_inactive.and(col("active")).cast(DataType::Int64).alias("reactivated"),
        (col("active").cast(DataType::Int64) - was_active.cast(DataType::Int64)).alias("delta"),
    ]
}

/// The running sum of `value` within each run of equal `keys` (the frame is sorted by
/// them): the global running sum minus its value just before the run began. Same result
/// as `cum_sum().over(keys)`, without building a group per key (millions of subscribers).
pub(crate) fn running_sum(value: &str, keys: &[&str]) -> Expr {
    let total = col(value).cum_sum(false);
    let before_run = when(first_of_run(keys))
        .then(total.clone() - col(value))
        .otherwise(lit(NULL).cast(DataType::Int64))
        .fill_null_with_strategy(FillNullStrategy::Forward(None));
    total - before_run
}

/// `previous`: the state at the end of the entity's previous day with a row (null: absent);
/// the frame is sorted by `keys` then day.
pub(crate) fn previous_state(keys: &[&str]) -> Expr {
    when(first_of_run(keys))
        .then(lit(NULL).cast(DataType::Boolean))
        .otherwise(col("active").shift(lit(1)))
        .alias("previous")
}

/// Everything the tables and series need, computed once from the lake.
pub(crate) struct Lifecycle {
    /// One row per subscription: `sub_idx, subscription_id, created_date, first_drop_date,
    /// last_drop_date` (with lineage: `created_source_file, created_source_line`) and attributes.
    pub base: LazyFrame,
    /// Distinct cancellation and reactivation events: `sub_idx, kind, own_date, at` (with
    /// lineage: `source_file, source_line`).
    pub events: LazyFrame,
    pub as_of: NaiveDate,
    /// The lake's last data date: events dated after it are kept (listed, counted in the
    /// max dates) but change no state in the lake's range.
    pub last: NaiveDate,
    /// With [`Attributes::Revenue`]: every report row's `sub_idx, data_date` and attributes
    /// (the money attributes and the group), oldest first — the attributes in effect on
    /// each day come from it. `None` otherwise.
    pub history: Option<DataFrame>,
}

impl Lifecycle {
    /// Reads the lake and computes the subscriptions and their events, one stage at a time so
    /// that each stage's rows are freed before the next is read: the report rows give the
    /// subscriptions and the cancellations, then the public-id map gives the reactivations.
    /// Peak memory is that of the largest stage, not of all of them together.
    pub(crate) fn compute(
        sources: &LakeSources,
        part: &Part,
        as_of: Option<NaiveDate>,
        attributes: Attributes,
        lineage: Lineage,
    ) -> Result<Lifecycle> {
        let (_, last) = sources.range()?;
        let rows = report_rows(sources, part, attributes, lineage)?.collect().ctx("reading the report rows")?;
        tracing::debug!(rows = rows.height(), "lifecycle: report rows read");

        // METRICS.md: the earliest Create Date among the subscription-report rows; the
        // cancellation report's only when no subscription-report row carries one
        let in_report = col(FROM_SUBSCRIPTION_REPORT);
        let report_created = col(c::CREATE_DATE).filter(in_report.clone()).min();
        let mut aggs = vec![
            coalesce(&[report_created.clone(), col(c::CREATE_DATE).min()]).alias("created_date"),
            col(c::DATA_DATE).min().alias("first_drop_date"),
            col(c::DATA_DATE).max().alias("last_drop_date"),
        ];
        // the first row of each event; for the creation, the first row that gives its date
        // (or, without any Create Date, the first row that shows the subscription)
        let first_source = match lineage {
            Lineage::Keep => vec![col(c::SOURCE_FILE).first(), col(c::SOURCE_LINE).first()],
            Lineage::Drop => vec![],
        };
        if lineage == Lineage::Keep {
            let created_by = |column: &str| {
                coalesce(&[
                    col(column).filter(in_report.clone().and(col(c::CREATE_DATE).eq(report_created.clone()))).first(),
                    col(column).filter(col(c::CREATE_DATE).eq(col(c::CREATE_DATE).min())).first(),
                    col(column).first(),
                ])
            };
            aggs.extend([
                created_by(c::SOURCE_FILE).alias("created_source_file"),
                created_by(c::SOURCE_LINE).alias("created_source_line"),
            ]);
        }
        aggs.extend(attributes.wanted().iter().map(|(name, _)| col(*name).last_non_null().alias(*name)));
        // each row's dense `sub_idx`, computed once by a hash of its id, in order of first
        // appearance in the sorted rows (so it is the same in every query over the same
        // lake): every aggregation below groups by an integer, and no join is needed
        let mut rows = rows;
        let row_subs = kernel::group_index(
            rows.column(c::SUBSCRIPTION_ID).and_then(|c| c.str()).ctx("indexing the subscriptions")?,
        );
        rows.with_column(IdxCa::from_vec("sub_idx".into(), row_subs).into_column())
            .ctx("indexing the subscriptions")?;
        let base = rows
            .clone()
            .lazy()
            .group_by([col("sub_idx")])
            .agg([vec![col(c::SUBSCRIPTION_ID).first()], aggs].concat())
            .sort(["sub_idx"], SortMultipleOptions::default())
            // a subscription whose rows carry no Create Date exists from its first drop
            .with_column(coalesce(&[col("created_date"), col("first_drop_date")]).alias("created_date"))
            .collect()
            .ctx("computing the subscriptions")?;
        tracing::debug!(subscriptions = base.height(), "lifecycle: subscriptions");
        let ids = base.clone().lazy().select([col(c::SUBSCRIPTION_ID), col("sub_idx")]);
        // every report row's money attributes (and the revenue's group), for the attributes
        // in effect on each day: revenue, and `build` (which derives every table)
        let history = match attributes {
            Attributes::Revenue(_) | Attributes::AllWithHistory => {
                let mut keep = vec![col("sub_idx"), col(c::DATA_DATE), col("row_order")];
                keep.extend(match attributes {
                    Attributes::AllWithHistory => MONEY_ATTRIBUTES.iter().map(|n| col(*n)).collect::<Vec<_>>(),
                    _ => attributes.wanted().iter().filter(|(n, _)| *n != c::USER_ID).map(|(n, _)| col(*n)).collect(),
                });
                Some(
                    // each row carries its subscription's index already (a row without an
                    // id belongs to no subscription)
                    rows.clone()
                        .lazy()
                        .filter(col(c::SUBSCRIPTION_ID).is_not_null())
                        .select(keep)
                        .sort(["sub_idx", "row_order"], SortMultipleOptions::default())
                        .collect()
                        .ctx("keeping the report rows' attributes")?,
                )
            }
            _ => None,
        };

        let mut order = vec![col("sub_idx"), col("kind"), col("own_date"), col("at")];
        if lineage == Lineage::Keep {
            order.extend([col(c::SOURCE_FILE), col(c::SOURCE_LINE)]);
        }
        let cancelled = rows
            .lazy()
            .filter(col(c::CANCEL_DATE).is_not_null())
            .group_by([col("sub_idx"), col(c::CANCEL_DATE).alias("own_date")])
            .agg([vec![col(c::CANCELLED_AT).max().alias("at")], first_source.clone()].concat())
            .with_column(lit(CANCELLED).alias("kind"))
            .select(order.clone())
            .collect()
            .ctx("computing the cancellations")?;
        tracing::debug!(cancellations = cancelled.height(), "lifecycle: cancellations");
        // the report rows are freed here; the reactivations read the lake again
        let public_map = public_map(sources, part, ids)?.collect().ctx("mapping public subscription ids")?;
        tracing::debug!(public_ids = public_map.height(), "lifecycle: public ids mapped");
        let reactivated = reactivation_rows(sources, part, lineage, public_map)?
            .group_by([col("sub_idx"), col(c::EVENT_DATE).alias("own_date")])
            .agg([vec![col(c::EVENT_AT).max().alias("at")], first_source].concat())
            .with_column(lit(REACTIVATED).alias("kind"))
            .select(order)
            .collect()
            .ctx("computing the reactivations")?;
        tracing::debug!(reactivations = reactivated.height(), "lifecycle: reactivations");
        let events = concat([cancelled.lazy(), reactivated.lazy()], UnionArgs::default())
            .ctx("combining the lifecycle events")?;
        // a day after the lake's last data date gives the current state: events dated after
        // it are in the lake but not yet in effect
        let as_of = as_of.map_or(last, |day| day.min(last));
        Ok(Lifecycle { base: base.lazy(), events, as_of, last, history })
    }

    /// End-of-day state per subscription and day with events, up to `as_of`, with flows:
    /// `sub_idx, day, active, previous, new, cancelled, reactivated, delta`, sorted.
    pub(crate) fn states(&self) -> Result<LazyFrame> {
        Ok(self.state_frame()?.lazy())
    }

    /// [`Lifecycle::states`], collected (computed by the integer kernel).
    pub(crate) fn state_frame(&self) -> Result<DataFrame> {
        let created = self
            .base
            .clone()
            .select([col("sub_idx"), col("created_date").cast(DataType::Int32)])
            .collect()
            .ctx("reading the creation dates")?;
        let events = self
            .events
            .clone()
            .select([
                col("sub_idx"),
                col("own_date").cast(DataType::Int32),
                col("kind"),
                col("at").cast(DataType::Int64),
            ])
            .collect()
            .ctx("reading the lifecycle events")?;
        kernel::subscription_states(&created, &events, day_number(self.as_of))
    }
}

/// A date as polars stores it: days since 1970-01-01.
pub(crate) fn day_number(day: NaiveDate) -> i32 {
    day.signed_duration_since(chrono::DateTime::UNIX_EPOCH.date_naive()).num_days() as i32
}

/// Subscriber states one level up: per `keys` (e.g. `[group, user_idx]`) and day, the
/// number of active subscriptions is the running sum of the subscriptions' state
/// changes; the subscriber is active while it is positive. `states` must carry the
/// `keys` columns beside the subscription states.
pub(crate) fn subscriber_states(states: LazyFrame, keys: &[&str]) -> Result<LazyFrame> {
    let mut columns: Vec<Expr> = keys.iter().map(|k| col(*k)).collect();
    columns.extend([col("day"), col("delta")]);
    let mut order: Vec<PlSmallStr> = keys.iter().map(|k| PlSmallStr::from(*k)).collect();
    order.push("day".into());
    let mut day_keys = keys.to_vec();
    day_keys.push("day");
    // sorted by subscriber and day, the running sum of the subscriptions' changes at the
    // last row of each (subscriber, day) is the end-of-day count: no group-by needed
    Ok(states
        .select(columns)
        .sort(order, SortMultipleOptions::default())
        .with_column(running_sum("delta", keys).alias("active_subscriptions"))
        .filter(last_of_run(&day_keys))
        .select([cols(keys.iter().copied()).as_expr(), col("day"), col("active_subscriptions")])
        .with_column(col("active_subscriptions").gt(lit(0)).alias("active"))
        .with_column(previous_state(keys))
        .with_columns(flows()))
}

/// `user_id` (a subscription without one is its own subscriber) and a dense `user_idx`
/// (in order of first appearance) per subscription: `sub_idx, user_id, user_idx` plus
/// `extra` columns of the base.
pub(crate) fn owners(base: LazyFrame, extra: Vec<Expr>) -> Result<LazyFrame> {
    let mut select = vec![col("sub_idx"), col(c::USER_ID).fill_null(col(c::SUBSCRIPTION_ID)).alias(c::USER_ID)];
    select.extend(extra);
    let frame = base.select(select).collect().ctx("finding the subscribers")?;
    let mut order: Vec<PlSmallStr> = frame.get_column_names_owned();
    order.insert(2, "user_idx".into());
    let frame = kernel::with_user_index(frame, c::USER_ID)?;
    Ok(frame.select(order).ctx("finding the subscribers")?.lazy())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn running_sum_restarts_at_each_run_of_keys() -> std::result::Result<(), PolarsError> {
        let df = df!(
            "user" => [1u32, 1, 1, 2, 2, 3, 4, 4],
            "day" => [1i32, 2, 5, 1, 3, 2, 1, 2],
            "delta" => [1i64, 1, -1, 1, -1, 1, 1, 0],
        )?;
        let out = df
            .lazy()
            .with_column(running_sum("delta", &["user"]).alias("running"))
            .with_column(col("delta").cum_sum(false).over([col("user")])?.alias("expected"))
            .collect()?;
        let running: Vec<Option<i64>> = out.column("running")?.i64()?.iter().collect();
        assert_eq!(running, [1, 2, 1, 1, 0, 1, 1, 1].map(Some).to_vec());
        let expected: Vec<Option<i64>> = out.column("expected")?.i64()?.iter().collect();
        assert_eq!(running, expected);
        Ok(())
    }
}
