//! The daily series (METRICS.md "Daily flows"), coarser grains, and the headline counts
//! (the cancellation rates built on the series are in `definitions`).
//!
//! Flows come from per-entity state changes summed per day, joined to a complete
//! date spine; actives are the opening balance (everything before the first data
//! date) plus a cumulative sum of the daily net change. Cost grows with events,
//! not with days × subscriptions.

use std::path::{Path, PathBuf};

use chrono::{Datelike, Days, NaiveDate};
use polars::prelude::*;

use churnlake_lake::columns as c;

use crate::driver::{Consumer, Passes};
use crate::error::{Context, QueryError, Result};
use crate::kernel;
use crate::lifecycle::{self, ATTRIBUTES, Attributes, Lifecycle, Lineage};
use crate::passes::{Spill, stack};
use crate::sources::LakeSources;

/// The series' columns, in order (with `--by X`, X comes right after `date`).
pub const SERIES_COLUMNS: [&str; 9] = [
    "date",
    "active_subscriptions",
    "new_subscriptions",
    "cancelled_subscriptions",
    "reactivated_subscriptions",
    "active_subscribers",
    "new_subscribers",
    "cancelled_subscribers",
    "reactivated_subscribers",
];

const FLOWS: [&str; 3] = ["new", "cancelled", "reactivated"];
pub(crate) const GROUP: &str = "group";

/// The series' time grain. Coarser grains report actives at the period's last day
/// (inside the requested range) and flows summed; a period is labelled by its first day
/// (weeks start on Monday).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Grain {
    #[default]
    Day,
    Week,
    Month,
}

impl Grain {
    /// The first day of the period `date` is in.
    pub fn period_start(self, date: NaiveDate) -> NaiveDate {
        match self {
            Grain::Day => date,
            Grain::Week => date - Days::new(u64::from(date.weekday().num_days_from_monday())),
            Grain::Month => date.with_day(1).unwrap_or(date),
        }
    }
}

/// Columns `--by` accepts: the subscription attributes.
pub(crate) fn check_by(by: &str) -> Result<()> {
    if ATTRIBUTES.iter().any(|(name, _)| *name == by) {
        Ok(())
    } else {
        let choices: Vec<&str> = ATTRIBUTES.iter().map(|(name, _)| *name).collect();
        Err(QueryError::UnknownColumn { column: by.to_owned(), choices: choices.join(", ") })
    }
}

/// The group of every subscription (its latest value of `by`, as text; "" when none).
pub(crate) fn group_of(by: Option<&str>) -> Expr {
    match by {
        Some(column) => col(column).cast(DataType::String).fill_null(lit("")).alias(GROUP),
        None => lit("").alias(GROUP),
    }
}

fn sums(suffix: &str) -> Vec<Expr> {
    let mut out: Vec<Expr> = FLOWS.iter().map(|f| col(*f).sum().alias(format!("{f}_{suffix}"))).collect();
    out.push(col("delta").sum().alias(format!("delta_{suffix}")));
    out
}

/// The daily series over the whole lake range, per group: `group, date, <SERIES_COLUMNS...>`.
fn daily(sources: &LakeSources, by: Option<&str>) -> Result<(DataFrame, NaiveDate, NaiveDate)> {
    if let Some(by) = by {
        check_by(by)?;
    }
    let (first, last) = sources.range()?;
    let passes = Passes::plan(sources, Attributes::UserAnd(by), Lineage::Drop)?;
    let mut series = SeriesBuilder::new(&passes, by, first, last)?;
    passes.run_one(None, &mut series)?;
    Ok((series.finish()?, first, last))
}

/// The daily series, built pass by pass: `group, date, <SERIES_COLUMNS...>` over
/// `first..=last`.
///
/// In one pass the whole computation is one polars plan on dense integer ids
/// (subscription, subscriber, group). Over several passes the ids are only dense within a
/// pass, so each pass adds its subscriptions' flows per (group, day) and spills `group,
/// user_id, day, delta` by user; the subscriber level is then computed one user bucket at
/// a time. Both end in [`assemble`] and give the same frame.
pub(crate) struct SeriesBuilder {
    by: Option<String>,
    first: NaiveDate,
    last: NaiveDate,
    profile: Option<PathBuf>,
    mode: SeriesMode,
}

enum SeriesMode {
    /// The one pass's series, once added.
    Single(Option<DataFrame>),
    Passes {
        spill: Spill,
        subscription_level: Vec<DataFrame>,
        groups: Vec<DataFrame>,
    },
}

impl SeriesBuilder {
    pub(crate) fn new(passes: &Passes, by: Option<&str>, first: NaiveDate, last: NaiveDate) -> Result<SeriesBuilder> {
        let mode = if passes.count() <= 1 {
            SeriesMode::Single(None)
        } else {
            SeriesMode::Passes {
                spill: Spill::new(passes.count())?,
                subscription_level: Vec::new(),
                groups: Vec::new(),
            }
        };
        let profile = passes.sources().profile().map(Path::to_path_buf);
        Ok(SeriesBuilder { by: by.map(str::to_owned), first, last, profile, mode })
    }

    /// The series from every pass added.
    pub(crate) fn finish(self) -> Result<DataFrame> {
        match self.mode {
            SeriesMode::Single(series) => series.ok_or(QueryError::EmptyLake),
            SeriesMode::Passes { spill, subscription_level, groups } => {
                let span = Span {
                    by: self.by.as_deref(),
                    first: self.first,
                    last: self.last,
                    profile: self.profile.as_deref(),
                };
                finish_passes(spill, subscription_level, groups, span)
            }
        }
    }
}

impl Consumer for SeriesBuilder {
    fn add(&mut self, life: &Lifecycle, pass: u32) -> Result<()> {
        let by = self.by.as_deref();
        match &mut self.mode {
            SeriesMode::Single(series) => {
                let span = Span { by, first: self.first, last: self.last, profile: self.profile.as_deref() };
                *series = Some(single_pass(life, span)?);
                Ok(())
            }
            SeriesMode::Passes { spill, subscription_level, groups } => {
                add_pass(life, by, pass, spill, subscription_level, groups)
            }
        }
    }
}

/// What a series covers: the group column, the days, and where its profile goes.
#[derive(Clone, Copy)]
struct Span<'a> {
    by: Option<&'a str>,
    first: NaiveDate,
    last: NaiveDate,
    profile: Option<&'a Path>,
}

/// The series of a lifecycle holding every subscription: the states and both levels'
/// flows per (group, day) by the integer kernels, on dense ids.
fn single_pass(life: &Lifecycle, span: Span) -> Result<DataFrame> {
    let owners = lifecycle::owners(life.base.clone(), vec![group_of(span.by)])?
        .select([col("sub_idx"), col("user_idx"), col(GROUP)])
        .collect()
        .ctx("finding the groups")?;
    // groups as dense integers, in order of first appearance
    let (group_index, _) = kernel::dense_index(owners.column(GROUP).and_then(|c| c.str()).ctx("reading the groups")?);
    let mut names: Vec<Option<&str>> = Vec::new();
    for (index, name) in
        group_index.iter().zip(owners.column(GROUP).and_then(|c| c.str()).ctx("reading the groups")?.iter())
    {
        if let Some(index) = index
            && *index as usize == names.len()
        {
            names.push(name);
        }
    }
    let group_ids = DataFrame::new(
        names.len(),
        vec![
            Column::new(GROUP.into(), names),
            IdxCa::from_vec("group_idx".into(), (0..names_len(&group_index)).collect()).into_column(),
        ],
    )
    .ctx("building the groups")?;
    let mut owners = owners;
    owners
        .with_column(IdxCa::from_slice_options("group_idx".into(), &group_index).into_column())
        .ctx("indexing the groups")?;
    let states = life.state_frame()?;
    let sums = kernel::level_sums(&states, &owners)?;
    let level = |frame: DataFrame, level: &str| -> LazyFrame {
        let mut select = vec![col(GROUP), col("day")];
        select.extend(FLOWS.iter().chain(["delta"].iter()).map(|f| col(*f).alias(format!("{f}_{level}"))));
        frame
            .lazy()
            .join(group_ids.clone().lazy(), [col("group_idx")], [col("group_idx")], JoinArgs::new(JoinType::Inner))
            .select(select)
    };
    let subscription_level = level(sums.subscriptions, "subscriptions");
    let subscriber_level = level(sums.subscribers, "subscribers");
    assemble(subscription_level, subscriber_level, group_ids.lazy().select([col(GROUP)]), span)
}

/// The number of distinct values a dense index holds.
fn names_len(index: &[Option<IdxSize>]) -> IdxSize {
    index.iter().flatten().map(|i| i + 1).max().unwrap_or(0)
}

/// One pass of several: its flows per (group, day), its groups, and its subscriber rows
/// spilled by user.
fn add_pass(
    life: &Lifecycle,
    by: Option<&str>,
    pass: u32,
    spill: &mut Spill,
    subscription_level: &mut Vec<DataFrame>,
    groups: &mut Vec<DataFrame>,
) -> Result<()> {
    let owners =
        lifecycle::owners(life.base.clone(), vec![group_of(by)])?.select([col("sub_idx"), col(c::USER_ID), col(GROUP)]);
    let states = life
        .states()?
        .join(owners.clone(), [col("sub_idx")], [col("sub_idx")], JoinArgs::new(JoinType::Inner))
        .select([
            col(GROUP),
            col(c::USER_ID),
            col("day"),
            col("new"),
            col("cancelled"),
            col("reactivated"),
            col("delta"),
        ])
        .collect()
        .ctx("computing a pass's states")?;
    subscription_level.push(
        states
            .clone()
            .lazy()
            .group_by([col(GROUP), col("day")])
            .agg(sums("subscriptions"))
            .collect()
            .ctx("summing a pass's flows")?,
    );
    groups.push(owners.select([col(GROUP)]).unique(None, UniqueKeepStrategy::Any).collect().ctx("grouping")?);
    let spilled = states.select([GROUP, c::USER_ID, "day", "delta"]).ctx("spilling states")?;
    spill.write(pass, spilled, c::USER_ID)
}

/// The series over `first..=last` from every pass's flows, groups and spilled subscriber rows.
fn finish_passes(
    spill: Spill,
    subscription_level: Vec<DataFrame>,
    groups: Vec<DataFrame>,
    span: Span,
) -> Result<DataFrame> {
    let mut subscriber_level = Vec::new();
    for bucket in 0..spill.count() {
        let Some(rows) = spill.read(bucket)? else { continue };
        subscriber_level.push(
            lifecycle::subscriber_states(rows, &[GROUP, c::USER_ID])?
                .group_by([col(GROUP), col("day")])
                .agg(sums("subscribers"))
                .collect()
                .ctx("computing subscriber states")?,
        );
    }
    let total = |frames: Vec<DataFrame>, level: &str| -> Result<LazyFrame> {
        let names: Vec<String> = FLOWS.iter().chain(["delta"].iter()).map(|f| format!("{f}_{level}")).collect();
        Ok(stack(frames)?
            .group_by([col(GROUP), col("day")])
            .agg(names.iter().map(|n| col(n.as_str()).sum()).collect::<Vec<_>>()))
    };
    let groups = stack(groups)?.unique(None, UniqueKeepStrategy::Any);
    let subscription_level = total(subscription_level, "subscriptions")?;
    let subscriber_level = if subscriber_level.is_empty() {
        subscription_level.clone().select([col(GROUP), col("day")]).filter(lit(false)).with_columns(
            FLOWS
                .iter()
                .chain(["delta"].iter())
                .map(|f| lit(0i64).alias(format!("{f}_subscribers")))
                .collect::<Vec<_>>(),
        )
    } else {
        total(subscriber_level, "subscribers")?
    };
    assemble(subscription_level, subscriber_level, groups, span)
}

/// The series from per (group, day) flow sums of both levels (`new_<level>`,
/// `cancelled_<level>`, `reactivated_<level>`, `delta_<level>`) and every group: each
/// group on every day of `first..=last`, actives as the opening balance plus running sums.
fn assemble(
    subscription_level: LazyFrame,
    subscriber_level: LazyFrame,
    groups: LazyFrame,
    span: Span,
) -> Result<DataFrame> {
    let Span { by, first, last, profile } = span;
    // the spine: every group on every day of the range, in the same plan (a join on a
    // constant key is the Cartesian product)
    let groups = match by {
        Some(_) => groups,
        None => DataFrame::new(1, vec![Column::new(GROUP.into(), [""])]).ctx("building groups")?.lazy(),
    };
    let days: Vec<NaiveDate> = first.iter_days().take_while(|d| *d <= last).collect();
    let days = DataFrame::new(days.len(), vec![Column::new("day".into(), days)]).ctx("building the date spine")?;
    let spine = groups.with_column(lit(1i32).alias("spine_key")).join(
        days.lazy().with_column(lit(1i32).alias("spine_key")),
        [col("spine_key")],
        [col("spine_key")],
        JoinArgs::new(JoinType::Inner),
    );

    let mut frame = spine;
    for (level, agg) in [("subscriptions", subscription_level), ("subscribers", subscriber_level)] {
        let opening =
            agg.clone()
                .filter(col("day").lt(lit(first)))
                .group_by([col(GROUP)])
                .agg([col(format!("delta_{level}")).sum().alias(format!("opening_{level}"))]);
        frame = frame
            .join(
                agg.filter(col("day").gt_eq(lit(first))),
                [col(GROUP), col("day")],
                [col(GROUP), col("day")],
                JoinArgs::new(JoinType::Left),
            )
            .join(opening, [col(GROUP)], [col(GROUP)], JoinArgs::new(JoinType::Left));
    }
    let mut fill: Vec<Expr> = Vec::new();
    for level in ["subscriptions", "subscribers"] {
        for f in FLOWS.iter().chain(["delta", "opening"].iter()) {
            let name = format!("{f}_{level}");
            fill.push(col(name.as_str()).fill_null(lit(0i64)).cast(DataType::Int64).alias(name));
        }
    }
    let mut actives: Vec<Expr> = Vec::new();
    for level in ["subscriptions", "subscribers"] {
        actives.push(
            (col(format!("opening_{level}")) + lifecycle::running_sum(&format!("delta_{level}"), &[GROUP]))
                .alias(format!("active_{level}")),
        );
    }
    let mut select = vec![col(GROUP), col("day").alias("date")];
    select.extend(SERIES_COLUMNS[1..].iter().map(|name| col(*name)));
    let lf = frame
        .with_columns(fill)
        .sort([GROUP, "day"], SortMultipleOptions::default())
        .with_columns(actives)
        .select(select);
    collect_profiled(lf, "computing the daily series", profile)
}

/// Collects `lf`; with a `profile` path, also writes polars' per-node profile (node, start
/// and end in microseconds since the query began) there as CSV — how the figures in
/// BENCHMARKS.md were attributed to steps.
fn collect_profiled(lf: LazyFrame, what: &'static str, profile: Option<&Path>) -> Result<DataFrame> {
    let Some(path) = profile else {
        return lf.collect().ctx(what);
    };
    let started = std::time::SystemTime::now();
    let (df, mut profile) = lf.profile().ctx(what)?;
    let epoch = started.duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or_default();
    tracing::info!(path = %path.display(), started_unix = epoch, "writing the query profile");
    let mut file = std::fs::File::create(path)?;
    CsvWriter::new(&mut file).finish(&mut profile).ctx("writing the query profile")?;
    Ok(df)
}

pub(crate) fn check_period(from: NaiveDate, to: NaiveDate, first: NaiveDate, last: NaiveDate) -> Result<()> {
    if from > to {
        return Err(QueryError::EmptyPeriod { from, to });
    }
    if from < first || to > last {
        return Err(QueryError::OutsideRange { from, to, first, last });
    }
    Ok(())
}

/// The series, restricted to `from..=to`, at `grain`, with the group column named `by`.
pub(crate) fn series(
    sources: &LakeSources,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    by: Option<&str>,
    grain: Grain,
) -> Result<DataFrame> {
    let (df, first, last) = daily(sources, by)?;
    let (from, to) = (from.unwrap_or(first), to.unwrap_or(last));
    check_period(from, to, first, last)?;
    let mut lf = df.lazy().filter(col("date").gt_eq(lit(from)).and(col("date").lt_eq(lit(to))));
    if grain != Grain::Day {
        let periods: Vec<NaiveDate> =
            from.iter_days().take_while(|d| *d <= to).map(|d| grain.period_start(d)).collect();
        let dates: Vec<NaiveDate> = from.iter_days().take_while(|d| *d <= to).collect();
        let map =
            DataFrame::new(dates.len(), vec![Column::new("date".into(), dates), Column::new("period".into(), periods)])
                .ctx("building periods")?
                .lazy();
        let mut aggs: Vec<Expr> = Vec::new();
        for name in &SERIES_COLUMNS[1..] {
            if name.starts_with("active_") {
                aggs.push(col(*name).sort_by([col("date")], SortMultipleOptions::default()).last());
            } else {
                aggs.push(col(*name).sum());
            }
        }
        lf = lf
            .join(map, [col("date")], [col("date")], JoinArgs::new(JoinType::Left))
            .group_by([col(GROUP), col("period")])
            .agg(aggs)
            .rename(["period"], ["date"], true);
    }
    let mut select: Vec<Expr> = vec![col("date")];
    if let Some(by) = by {
        select.push(col(GROUP).alias(by));
    }
    select.extend(SERIES_COLUMNS[1..].iter().map(|name| col(*name)));
    let mut order: Vec<PlSmallStr> = vec!["date".into()];
    if let Some(by) = by {
        order.push(by.into());
    }
    lf.select(select).sort(order, SortMultipleOptions::default()).collect().ctx("shaping the series")
}

/// Active subscriptions and subscribers at the end of `as_of` (default: the last data date),
/// per group: read off each subscription's state at the end of that day, without the series.
pub(crate) fn active(sources: &LakeSources, as_of: Option<NaiveDate>, by: Option<&str>) -> Result<DataFrame> {
    if let Some(by) = by {
        check_by(by)?;
    }
    let (first, last) = sources.range()?;
    let day = as_of.unwrap_or(last);
    check_period(day, day, first, last)?;
    let passes = Passes::plan(sources, Attributes::UserAnd(by), Lineage::Drop)?;
    let mut counts = ActiveCounts {
        by: by.map(str::to_owned),
        spill: Spill::new(passes.count())?,
        subscriptions: Vec::new(),
        groups: Vec::new(),
    };
    passes.run_one(Some(day), &mut counts)?;
    counts.finish(day)
}

/// The headline counts, pass by pass: per group, the subscriptions active at the end of
/// the day; their owners (`group, user_id, active`) spilled by user, so that a subscriber
/// active through any of their subscriptions counts once per group.
struct ActiveCounts {
    by: Option<String>,
    spill: Spill,
    subscriptions: Vec<DataFrame>,
    groups: Vec<DataFrame>,
}

impl Consumer for ActiveCounts {
    fn add(&mut self, life: &Lifecycle, pass: u32) -> Result<()> {
        let owners = lifecycle::owners(life.base.clone(), vec![group_of(self.by.as_deref())])?.select([
            col("sub_idx"),
            col(c::USER_ID),
            col(GROUP),
        ]);
        // the states stop at the day: each subscription's last row is its state at its end
        // (a subscription created later has none)
        let current =
            life.states()?.filter(lifecycle::last_of_run(&["sub_idx"])).select([col("sub_idx"), col("active")]);
        let rows = owners
            .clone()
            .join(current, [col("sub_idx")], [col("sub_idx")], JoinArgs::new(JoinType::Inner))
            .select([col(GROUP), col(c::USER_ID), col("active")])
            .collect()
            .ctx("reading a pass's states")?;
        self.subscriptions.push(
            rows.clone()
                .lazy()
                .group_by([col(GROUP)])
                .agg([col("active").cast(DataType::Int64).sum().alias("active_subscriptions")])
                .collect()
                .ctx("counting active subscriptions")?,
        );
        self.groups.push(owners.select([col(GROUP)]).unique(None, UniqueKeepStrategy::Any).collect().ctx("grouping")?);
        self.spill.write(pass, rows, c::USER_ID)
    }
}

impl ActiveCounts {
    fn finish(self, day: NaiveDate) -> Result<DataFrame> {
        let mut subscribers = Vec::new();
        for bucket in 0..self.spill.count() {
            let Some(rows) = self.spill.read(bucket)? else { continue };
            subscribers.push(
                rows.group_by([col(GROUP), col(c::USER_ID)])
                    .agg([col("active").any(true)])
                    .group_by([col(GROUP)])
                    .agg([col("active").cast(DataType::Int64).sum().alias("active_subscribers")])
                    .collect()
                    .ctx("counting active subscribers")?,
            );
        }
        let groups = match self.by {
            Some(_) if !self.groups.is_empty() => stack(self.groups)?.unique(None, UniqueKeepStrategy::Any),
            _ => DataFrame::new(1, vec![Column::new(GROUP.into(), [""])]).ctx("building groups")?.lazy(),
        };
        let mut frame = groups;
        for (frames, name) in [(self.subscriptions, "active_subscriptions"), (subscribers, "active_subscribers")] {
            if frames.is_empty() {
                frame = frame.with_column(lit(0i64).alias(name));
                continue;
            }
            let total = stack(frames)?.group_by([col(GROUP)]).agg([col(name).sum()]);
            frame = frame
                .join(total, [col(GROUP)], [col(GROUP)], JoinArgs::new(JoinType::Left))
                .with_column(col(name).fill_null(lit(0i64)).cast(DataType::Int64));
        }
        let mut select: Vec<Expr> = vec![lit(day).cast(DataType::Date).alias("date")];
        if let Some(by) = &self.by {
            select.push(col(GROUP).alias(by.as_str()));
        }
        select.extend([col("active_subscriptions"), col("active_subscribers")]);
        frame.sort([GROUP], SortMultipleOptions::default()).select(select).collect().ctx("reading actives")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("a test date")
    }

    #[test]
    fn periods_start_on_monday_and_the_first_of_the_month() {
        assert_eq!(Grain::Week.period_start(d("2023-05-07")), d("2023-05-01")); // Sunday
        assert_eq!(Grain::Week.period_start(d("2023-05-08")), d("2023-05-08")); // Monday
        assert_eq!(Grain::Month.period_start(d("2024-02-29")), d("2024-02-01"));
        assert_eq!(Grain::Day.period_start(d("2024-02-29")), d("2024-02-29"));
    }

    #[test]
    fn periods_must_lie_inside_the_lake() {
        let (first, last) = (d("2023-05-01"), d("2023-05-31"));
        assert!(check_period(d("2023-05-01"), d("2023-05-31"), first, last).is_ok());
        assert!(matches!(
            check_period(d("2023-04-30"), d("2023-05-02"), first, last),
            Err(QueryError::OutsideRange { .. })
        ));
        assert!(matches!(
            check_period(d("2023-05-03"), d("2023-05-02"), first, last),
            Err(QueryError::EmptyPeriod { .. })
        ));
    }

    #[test]
    fn by_accepts_subscription_attributes_only() {
        assert!(check_by("product").is_ok());
        assert!(matches!(check_by("email_address"), Err(QueryError::UnknownColumn { .. })));
    }
}
