//! Cancellation rates under each churn definition of METRICS.md ("Cancellation rate",
//! "Churn definitions").
//!
//! For a period a..b of n days, per group and at both levels: C = Σ cancelled(D),
//! N = Σ new(D), Σ A(D) (D = a..b) come from the daily series; A(a−1), the entities
//! active at the end of the day before the period, is read off the series' flow identity
//! on day a, `A(a−1) = A(a) − new(a) − reactivated(a) + cancelled(a)`, which holds on the
//! lake's first data date too (its opening balance: entities created before it). `cohort`
//! needs each entity's state at the end of a−1 and of b: a second consumer of the same
//! passes reads them off the subscriptions' states, and subscribers are folded from them
//! one user bucket at a time (a subscriber is active in a group while one of their
//! subscriptions in it is).

use std::collections::BTreeMap;

use chrono::{Days, NaiveDate};
use churnlake_lake::columns as c;
use polars::prelude::*;
use serde::Serialize;

use crate::driver::{Consumer, Passes};
use crate::error::{Context, Result};
use crate::lifecycle::{self, Attributes, Lifecycle, Lineage};
use crate::passes::{Spill, stack};
use crate::series::{GROUP, Grain, SeriesBuilder, check_by, check_period, group_of};
use crate::sources::LakeSources;

/// What a cancellation rate divides by what (METRICS.md "Churn definitions").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Definition {
    /// C ÷ (Σ A(D) ÷ n): the platform's own dashboard (the default).
    Ordergroove,
    /// C ÷ A(a−1): churned ÷ customers at the start.
    StartOfPeriod,
    /// C ÷ (A(a−1) + N): everyone who could have churned.
    StartPlusNew,
    /// L ÷ A(a−1), L = active at the end of a−1 and not at the end of b: logo churn of the
    /// starting base.
    Cohort,
}

impl Definition {
    /// Every definition, in the order of METRICS.md.
    pub const ALL: [Definition; 4] =
        [Definition::Ordergroove, Definition::StartOfPeriod, Definition::StartPlusNew, Definition::Cohort];

    /// The name printed with every rate (and accepted by `--definition`).
    pub fn name(self) -> &'static str {
        match self {
            Definition::Ordergroove => "ordergroove",
            Definition::StartOfPeriod => "start-of-period",
            Definition::StartPlusNew => "start-plus-new",
            Definition::Cohort => "cohort",
        }
    }

    /// The formula, as METRICS.md writes it.
    pub fn formula(self) -> &'static str {
        match self {
            Definition::Ordergroove => "C ÷ (Σ A(D) ÷ n)",
            Definition::StartOfPeriod => "C ÷ A(a−1)",
            Definition::StartPlusNew => "C ÷ (A(a−1) + N)",
            Definition::Cohort => "L ÷ A(a−1)",
        }
    }
}

/// Cancellation rates over one period (and group) under one definition: the period's
/// cancels and average actives, and the definition's numerator, denominator and rate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RateRow {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub days: i64,
    pub definition: Definition,
    pub subscription_cancels: i64,
    pub average_active_subscriptions: f64,
    pub subscription_numerator: i64,
    pub subscription_denominator: f64,
    pub subscription_cancellation_rate: Option<f64>,
    pub subscriber_cancels: i64,
    pub average_active_subscribers: f64,
    pub subscriber_numerator: i64,
    pub subscriber_denominator: f64,
    pub subscriber_cancellation_rate: Option<f64>,
}

/// One level's (subscriptions' or subscribers') figures over the period, in one group.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Figures {
    /// C = Σ cancelled(D).
    cancels: i64,
    /// N = Σ new(D).
    new: i64,
    /// Σ A(D).
    active_days: i64,
    /// A(a−1).
    start: i64,
    /// L (cohort only; 0 when not computed).
    lost: i64,
}

impl Figures {
    /// Numerator, denominator and rate (null when the denominator is 0).
    fn rate(self, definition: Definition, days: i64) -> (i64, f64, Option<f64>) {
        match definition {
            Definition::Ordergroove => {
                // the same arithmetic as ever, so the default rate keeps its bits
                let average = self.active_days as f64 / days as f64;
                let rate =
                    (self.active_days != 0).then(|| self.cancels as f64 / (self.active_days as f64 / days as f64));
                (self.cancels, average, rate)
            }
            Definition::StartOfPeriod => ratio(self.cancels, self.start),
            Definition::StartPlusNew => ratio(self.cancels, self.start + self.new),
            Definition::Cohort => ratio(self.lost, self.start),
        }
    }
}

fn ratio(numerator: i64, denominator: i64) -> (i64, f64, Option<f64>) {
    (numerator, denominator as f64, (denominator != 0).then(|| numerator as f64 / denominator as f64))
}

/// The rates over `from..=to` under each of `definitions`, per group of `by`: for each
/// definition in turn, one row per group (sorted), from one read of the lake.
pub(crate) fn rates(
    sources: &LakeSources,
    from: NaiveDate,
    to: NaiveDate,
    by: Option<&str>,
    definitions: &[Definition],
) -> Result<Vec<RateRow>> {
    rates_over(sources, &[(from, to)], by, definitions)
}

/// The rates of each period of `grain` within `from..=to` (the first and last periods cut
/// at `from` and `to`), under each of `definitions`, per group of `by`: for each definition
/// in turn, the periods in order, one row per group (sorted) — from one read of the lake.
pub(crate) fn rates_by_period(
    sources: &LakeSources,
    from: NaiveDate,
    to: NaiveDate,
    by: Option<&str>,
    definitions: &[Definition],
    grain: Grain,
) -> Result<Vec<RateRow>> {
    if from > to {
        return Err(crate::QueryError::EmptyPeriod { from, to });
    }
    let mut periods: Vec<(NaiveDate, NaiveDate)> = Vec::new();
    for day in from.iter_days().take_while(|d| *d <= to) {
        match periods.last_mut() {
            Some(period) if grain.period_start(day) == grain.period_start(period.0) => period.1 = day,
            _ => periods.push((day, day)),
        }
    }
    rates_over(sources, &periods, by, definitions)
}

fn rates_over(
    sources: &LakeSources,
    periods: &[(NaiveDate, NaiveDate)],
    by: Option<&str>,
    definitions: &[Definition],
) -> Result<Vec<RateRow>> {
    if let Some(by) = by {
        check_by(by)?;
    }
    let (first, last) = sources.range()?;
    for (from, to) in periods {
        check_period(*from, *to, first, last)?;
    }
    let passes = Passes::plan(sources, Attributes::UserAnd(by), Lineage::Drop)?;
    let mut series = SeriesBuilder::new(&passes, by, first, last)?;
    let mut cohorts = Vec::new();
    if definitions.contains(&Definition::Cohort) {
        for (from, to) in periods {
            let before = from.checked_sub_days(Days::new(1)).unwrap_or(*from);
            cohorts.push(CohortLosses::new(by, before, *to, passes.count())?);
        }
    }
    {
        let mut consumers: Vec<&mut dyn Consumer> = vec![&mut series];
        consumers.extend(cohorts.iter_mut().map(|c| c as &mut dyn Consumer));
        passes.run(None, &mut consumers)?;
    }
    let daily = series.finish()?;
    let mut cohorts = cohorts.into_iter();
    let mut figures = Vec::with_capacity(periods.len());
    for (from, to) in periods {
        let mut groups = period_figures(daily.clone(), *from, *to)?;
        if let Some(cohort) = cohorts.next() {
            for (group, [subscriptions, subscribers]) in cohort.finish()? {
                if let Some(figures) = groups.get_mut(&group) {
                    figures[0].lost = subscriptions;
                    figures[1].lost = subscribers;
                }
            }
        }
        figures.push(groups);
    }
    let mut rows = Vec::new();
    for &definition in definitions {
        for ((from, to), groups) in periods.iter().zip(&figures) {
            let (from, to) = (*from, *to);
            let days = (to - from).num_days() + 1;
            for (group, [subscriptions, subscribers]) in groups {
                let (sub_numerator, sub_denominator, sub_rate) = subscriptions.rate(definition, days);
                let (usr_numerator, usr_denominator, usr_rate) = subscribers.rate(definition, days);
                rows.push(RateRow {
                    group: by.map(|_| group.clone()),
                    from,
                    to,
                    days,
                    definition,
                    subscription_cancels: subscriptions.cancels,
                    average_active_subscriptions: subscriptions.active_days as f64 / days as f64,
                    subscription_numerator: sub_numerator,
                    subscription_denominator: sub_denominator,
                    subscription_cancellation_rate: sub_rate,
                    subscriber_cancels: subscribers.cancels,
                    average_active_subscribers: subscribers.active_days as f64 / days as f64,
                    subscriber_numerator: usr_numerator,
                    subscriber_denominator: usr_denominator,
                    subscriber_cancellation_rate: usr_rate,
                });
            }
        }
    }
    Ok(rows)
}

/// Per group (sorted), both levels' C, N, Σ A and A(a−1) over `from..=to`, from the daily
/// series (`group, date, <SERIES_COLUMNS...>`, every group on every day).
fn period_figures(series: DataFrame, from: NaiveDate, to: NaiveDate) -> Result<BTreeMap<String, [Figures; 2]>> {
    let on_first_day = col("date").eq(lit(from));
    let mut aggs = Vec::new();
    for level in ["subscriptions", "subscribers"] {
        let flow = |name: &str| col(format!("{name}_{level}"));
        aggs.extend([
            flow("cancelled").sum().alias(format!("c_{level}")),
            flow("new").sum().alias(format!("n_{level}")),
            flow("active").sum().alias(format!("a_{level}")),
            // the flow identity on day a gives A(a−1)
            (flow("active") - flow("new") - flow("reactivated") + flow("cancelled"))
                .filter(on_first_day.clone())
                .sum()
                .alias(format!("start_{level}")),
        ]);
    }
    let sums = series
        .lazy()
        .filter(col("date").gt_eq(lit(from)).and(col("date").lt_eq(lit(to))))
        .group_by([col(GROUP)])
        .agg(aggs)
        .collect()
        .ctx("summing the period")?;
    let get = |name: &str| -> Result<Vec<i64>> {
        let column = sums.column(name).ctx("reading sums")?.cast(&DataType::Int64).ctx("reading sums")?;
        Ok(column.i64().ctx("reading sums")?.iter().map(|v| v.unwrap_or(0)).collect())
    };
    let groups = text_column(&sums, GROUP)?;
    let level = |level: &str| -> Result<Vec<Figures>> {
        let (cancels, new) = (get(&format!("c_{level}"))?, get(&format!("n_{level}"))?);
        let (active, start) = (get(&format!("a_{level}"))?, get(&format!("start_{level}"))?);
        Ok((0..groups.len())
            .map(|i| Figures { cancels: cancels[i], new: new[i], active_days: active[i], start: start[i], lost: 0 })
            .collect())
    };
    let (subscriptions, subscribers) = (level("subscriptions")?, level("subscribers")?);
    Ok(groups.into_iter().enumerate().map(|(i, group)| (group, [subscriptions[i], subscribers[i]])).collect())
}

fn text_column(df: &DataFrame, name: &str) -> Result<Vec<String>> {
    Ok(df
        .column(name)
        .ctx("reading groups")?
        .str()
        .ctx("reading groups")?
        .iter()
        .map(|g| g.unwrap_or_default().to_owned())
        .collect())
}

/// `cohort`'s L, pass by pass: each subscription's state at the end of `before` (a−1) and
/// of `end` (b); per group, the subscriptions active at the first and not at the second;
/// the owners' states (`group, user_id, at_start, at_end`) spilled by user, so that a
/// subscriber is folded from all their subscriptions in the group whatever pass holds them.
struct CohortLosses {
    by: Option<String>,
    before: NaiveDate,
    end: NaiveDate,
    spill: Spill,
    subscriptions: Vec<DataFrame>,
}

impl CohortLosses {
    fn new(by: Option<&str>, before: NaiveDate, end: NaiveDate, passes: u32) -> Result<CohortLosses> {
        Ok(CohortLosses {
            by: by.map(str::to_owned),
            before,
            end,
            spill: Spill::new(passes)?,
            subscriptions: Vec::new(),
        })
    }

    /// Per group: `[L of subscriptions, L of subscribers]`.
    fn finish(self) -> Result<BTreeMap<String, [i64; 2]>> {
        let lost = || (col("at_start").and(col("at_end").not())).cast(DataType::Int64).sum().alias("lost");
        let mut out: BTreeMap<String, [i64; 2]> = BTreeMap::new();
        let mut add = |frames: Vec<DataFrame>, level: usize| -> Result<()> {
            if frames.is_empty() {
                return Ok(());
            }
            let totals = stack(frames)?
                .group_by([col(GROUP)])
                .agg([col("lost").sum()])
                .collect()
                .ctx("counting the cohort's losses")?;
            let groups = text_column(&totals, GROUP)?;
            let counts = totals.column("lost").ctx("reading losses")?.cast(&DataType::Int64).ctx("reading losses")?;
            for (group, count) in groups.into_iter().zip(counts.i64().ctx("reading losses")?.iter()) {
                out.entry(group).or_default()[level] += count.unwrap_or(0);
            }
            Ok(())
        };
        add(self.subscriptions, 0)?;
        let mut subscribers = Vec::new();
        for bucket in 0..self.spill.count() {
            let Some(rows) = self.spill.read(bucket)? else { continue };
            subscribers.push(
                rows.group_by([col(GROUP), col(c::USER_ID)])
                    .agg([col("at_start").any(true), col("at_end").any(true)])
                    .group_by([col(GROUP)])
                    .agg([lost()])
                    .collect()
                    .ctx("counting lost subscribers")?,
            );
        }
        add(subscribers, 1)?;
        Ok(out)
    }
}

impl Consumer for CohortLosses {
    fn add(&mut self, life: &Lifecycle, pass: u32) -> Result<()> {
        // the state at the end of a day is that of the subscription's last row on or before
        // it (none: it did not exist yet, so not active); the states are sorted by day within
        // each subscription, and a group keeps its rows' order
        let state_at = |day: NaiveDate, name: &str| {
            col("active").filter(col("day").lt_eq(lit(day))).last().fill_null(lit(false)).alias(name)
        };
        let ends = life
            .states()?
            .group_by([col("sub_idx")])
            .agg([state_at(self.before, "at_start"), state_at(self.end, "at_end")]);
        let owners = lifecycle::owners(life.base.clone(), vec![group_of(self.by.as_deref())])?.select([
            col("sub_idx"),
            col(c::USER_ID),
            col(GROUP),
        ]);
        let rows = owners
            .join(ends, [col("sub_idx")], [col("sub_idx")], JoinArgs::new(JoinType::Inner))
            .select([col(GROUP), col(c::USER_ID), col("at_start"), col("at_end")])
            .collect()
            .ctx("reading the cohort's states")?;
        let lost = (col("at_start").and(col("at_end").not())).cast(DataType::Int64).sum().alias("lost");
        self.subscriptions
            .push(rows.clone().lazy().group_by([col(GROUP)]).agg([lost]).collect().ctx("counting lost subscriptions")?);
        self.spill.write(pass, rows, c::USER_ID)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn figures(cancels: i64, new: i64, active_days: i64, start: i64, lost: i64) -> Figures {
        Figures { cancels, new, active_days, start, lost }
    }

    #[test]
    fn each_definition_divides_its_own_figures() {
        // 3 days, C = 4, N = 2, Σ A = 30, A(a−1) = 8, L = 3
        let f = figures(4, 2, 30, 8, 3);
        assert_eq!(f.rate(Definition::Ordergroove, 3), (4, 10.0, Some(0.4)));
        assert_eq!(f.rate(Definition::StartOfPeriod, 3), (4, 8.0, Some(0.5)));
        assert_eq!(f.rate(Definition::StartPlusNew, 3), (4, 10.0, Some(0.4)));
        assert_eq!(f.rate(Definition::Cohort, 3), (3, 8.0, Some(0.375)));
    }

    #[test]
    fn a_zero_denominator_gives_no_rate() {
        let f = figures(1, 0, 0, 0, 0);
        for definition in Definition::ALL {
            assert_eq!(f.rate(definition, 2).2, None, "{definition:?}");
        }
        // start-plus-new still has the new ones
        assert_eq!(figures(1, 2, 0, 0, 0).rate(Definition::StartPlusNew, 2), (1, 2.0, Some(0.5)));
    }

    #[test]
    fn names_are_kebab_case_as_serialised() {
        for definition in Definition::ALL {
            let json = serde_json::to_value(definition).ok();
            assert_eq!(json.as_ref().and_then(|v| v.as_str()), Some(definition.name()));
        }
    }
}
