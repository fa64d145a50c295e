//! Retention cohorts (METRICS.md "Cohorts"): per cohort month and age in months, the
//! share of the cohort active at the end of the month, at both levels.
//!
//! A subscription's cohort is the month of its created date; a subscriber's, the month of
//! their first subscription's. Each pass walks its subscriptions' states over the month
//! ends within the lake's range and counts the active ones per (group, cohort, month end);
//! for the subscriber level it spills `group, user_id, cohort, start, stop` by user — one
//! row per run of consecutive month ends (indices `start..stop`) at which a subscription
//! is active, and an empty run for one never active at a month end — folded one user
//! bucket at a time (a subscriber's subscriptions may lie in several passes): a subscriber
//! is counted at the union of their subscriptions' runs, in the cohort of the earliest.

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, Days, NaiveDate};
use churnlake_lake::columns as c;
use polars::prelude::*;

use crate::driver::{Consumer, Passes};
use crate::error::{Context, QueryError, Result};
use crate::lifecycle::{self, Attributes, Lifecycle, Lineage};
use crate::passes::Spill;
use crate::series::{GROUP, check_by, group_of};
use crate::sources::LakeSources;
use crate::values::{i32s, strings};

/// The cohort output's columns, in order (with `--by X`, X comes right after `cohort`).
pub const COHORT_COLUMNS: [&str; 5] = ["cohort", "age", "size", "active", "share"];

/// Which entities a cohort counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CohortLevel {
    #[default]
    Subscriptions,
    Subscribers,
}

/// One cell of the cohort table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CohortRow {
    /// The group's value ("" when empty); `None` without `--by`.
    pub group: Option<String>,
    /// `YYYY-MM`.
    pub cohort: String,
    /// Months from the cohort's month to the month end counted (0: its own month).
    pub age: i64,
    pub size: i64,
    pub active: i64,
}

impl CohortRow {
    /// `active ÷ size` in millionths, rounded half to even (None when the size is 0).
    pub fn share_millionths(&self) -> Option<i64> {
        if self.size == 0 {
            return None;
        }
        let scaled = i128::from(self.active) * 1_000_000;
        let size = i128::from(self.size);
        let (q, r) = (scaled.div_euclid(size), scaled.rem_euclid(size));
        let up = match (2 * r).cmp(&size) {
            std::cmp::Ordering::Greater => true,
            std::cmp::Ordering::Equal => q % 2 == 1,
            std::cmp::Ordering::Less => false,
        };
        Some((if up { q + 1 } else { q }) as i64)
    }
}

/// A month as `year × 12 + month − 1`.
fn month_of(day: NaiveDate) -> i32 {
    day.year() * 12 + day.month0() as i32
}

fn month_text(month: i32) -> String {
    format!("{:04}-{:02}", month.div_euclid(12), month.rem_euclid(12) + 1)
}

/// The last day of every month whose end lies within `first..=last`.
fn month_ends(first: NaiveDate, last: NaiveDate) -> Vec<NaiveDate> {
    first.iter_days().take_while(|d| *d <= last).filter(|d| (*d + Days::new(1)).month() != d.month()).collect()
}

fn day_number(day: NaiveDate) -> i32 {
    (day - NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default()).num_days() as i32
}

/// Spilled subscriber-level rows, by column: group, user id, cohort month, start, stop.
type Runs = (Vec<String>, Vec<String>, Vec<i32>, Vec<i32>, Vec<i32>);

pub(crate) struct CohortBuilder {
    by: Option<String>,
    level: CohortLevel,
    ends: Vec<i32>,
    end_months: Vec<i32>,
    /// (group, cohort month) → size and actives per month end.
    cells: HashMap<(String, i32), (i64, Vec<i64>)>,
    spill: Spill,
}

impl CohortBuilder {
    /// A builder for the month ends of `first..=last` (the lake's data dates); its passes
    /// need the user id and `by` ([`Attributes::UserAnd`] or more).
    pub(crate) fn new(
        passes: &Passes,
        level: CohortLevel,
        by: Option<&str>,
        first: NaiveDate,
        last: NaiveDate,
    ) -> Result<CohortBuilder> {
        let ends = month_ends(first, last);
        Ok(CohortBuilder {
            by: by.map(str::to_owned),
            level,
            end_months: ends.iter().map(|d| month_of(*d)).collect(),
            ends: ends.iter().map(|d| day_number(*d)).collect(),
            cells: HashMap::new(),
            spill: Spill::new(passes.count())?,
        })
    }
}

impl Consumer for CohortBuilder {
    fn add(&mut self, life: &Lifecycle, pass: u32) -> Result<()> {
        let owners = lifecycle::owners(life.base.clone(), vec![col("created_date"), group_of(self.by.as_deref())])?
            .sort(["sub_idx"], SortMultipleOptions::default())
            .collect()
            .ctx("reading a pass's subscriptions")?;
        let states = life
            .states()?
            .select([col("sub_idx"), col("day"), col("active")])
            .collect()
            .ctx("computing a pass's states")?;
        let idx = i32s(&owners, "sub_idx")?;
        let created = i32s(&owners, "created_date")?;
        let created_month: Vec<Option<i32>> = owners
            .column("created_date")
            .ctx("reading creations")?
            .date()
            .ctx("reading creations")?
            .as_date_iter()
            .map(|d| d.map(month_of))
            .collect();
        let groups = strings(&owners, GROUP)?;
        let users = strings(&owners, c::USER_ID)?;
        let mut position = vec![usize::MAX; idx.len()];
        for (i, sub) in idx.iter().enumerate() {
            if let Some(sub) = sub
                && (*sub as usize) < position.len()
            {
                position[*sub as usize] = i;
            }
        }
        let s_idx = i32s(&states, "sub_idx")?;
        let s_day = i32s(&states, "day")?;
        let s_active: Vec<Option<bool>> =
            states.column("active").ctx("reading states")?.bool().ctx("reading states")?.iter().collect();
        // the states of each subscription, in order
        let mut spans: Vec<(usize, usize)> = vec![(0, 0); idx.len()];
        let mut s = 0;
        while s < s_idx.len() {
            let sub = s_idx[s];
            let end = s + s_idx[s..].iter().take_while(|i| **i == sub).count();
            if let Some(sub) = sub
                && let Some(span) = spans.get_mut(sub as usize)
            {
                *span = (s, end);
            }
            s = end;
        }
        let ends = self.ends.clone();
        let mut spilled: Runs = Default::default();
        for (sub, span) in spans.iter().enumerate() {
            let at = position[sub];
            let (Some(Some(month)), Some(Some(_created))) = (created_month.get(at), created.get(at)) else { continue };
            let group = groups.get(at).cloned().flatten().unwrap_or_default();
            let user = users.get(at).cloned().flatten().unwrap_or_default();
            let (mut i, stop) = *span;
            let mut active = None;
            let mut at_ends = vec![0i64; ends.len()];
            for (j, end) in ends.iter().enumerate() {
                while i < stop && s_day[i].is_some_and(|d| d <= *end) {
                    active = s_active[i];
                    i += 1;
                }
                if active == Some(true) {
                    at_ends[j] = 1;
                }
            }
            if self.level == CohortLevel::Subscribers {
                // one row per run of month ends at which it is active (an empty run for a
                // subscription never active at one): its existence and its activity
                let mut runs: Vec<(i32, i32)> = Vec::new();
                for (j, a) in at_ends.iter().enumerate() {
                    let j = j as i32;
                    match runs.last_mut() {
                        Some(run) if *a == 1 && run.1 == j => run.1 = j + 1,
                        _ if *a == 1 => runs.push((j, j + 1)),
                        _ => {}
                    }
                }
                if runs.is_empty() {
                    runs.push((0, 0));
                }
                for (start, stop) in runs {
                    spilled.0.push(group.clone());
                    spilled.1.push(user.clone());
                    spilled.2.push(*month);
                    spilled.3.push(start);
                    spilled.4.push(stop);
                }
                continue;
            }
            let cell = self.cells.entry((group, *month)).or_insert_with(|| (0, vec![0; ends.len()]));
            cell.0 += 1;
            for (j, a) in at_ends.iter().enumerate() {
                cell.1[j] += a;
            }
        }
        if self.level == CohortLevel::Subscribers {
            let (groups, users, months, starts, stops) = spilled;
            let height = groups.len();
            let df = DataFrame::new(
                height,
                vec![
                    Column::new(GROUP.into(), groups),
                    Column::new(c::USER_ID.into(), users),
                    Column::new("cohort".into(), months),
                    Column::new("start".into(), starts),
                    Column::new("stop".into(), stops),
                ],
            )
            .ctx("spilling cohort members")?;
            self.spill.write(pass, df, c::USER_ID)?;
        }
        Ok(())
    }
}

impl CohortBuilder {
    pub(crate) fn finish(mut self) -> Result<Vec<CohortRow>> {
        if self.level == CohortLevel::Subscribers {
            let n = self.ends.len();
            for bucket in 0..self.spill.count() {
                let Some(rows) = self.spill.read(bucket)? else { continue };
                // each subscriber's rows together, their runs in order of start
                let rows = rows
                    .sort([GROUP, c::USER_ID, "start"], SortMultipleOptions::default())
                    .collect()
                    .ctx("ordering subscriber cohort runs")?;
                let text = |name: &str| -> Result<StringChunked> {
                    Ok(rows.column(name).ctx("reading cohort runs")?.str().ctx("reading cohort runs")?.clone())
                };
                let (groups, users) = (text(GROUP)?, text(c::USER_ID)?);
                let (months, starts, stops) = (i32s(&rows, "cohort")?, i32s(&rows, "start")?, i32s(&rows, "stop")?);
                let mut rows = groups.iter().zip(users.iter()).zip(months).zip(starts).zip(stops).peekable();
                while let Some(((((group, user), month), start), stop)) = rows.next() {
                    // one subscriber (within a group): the earliest cohort, the union of runs
                    let mut cohort = month;
                    let mut runs = vec![(start.unwrap_or(0), stop.unwrap_or(0))];
                    while let Some(((((g, u), m), a), b)) = rows.peek()
                        && (*g, *u) == (group, user)
                    {
                        cohort = match (cohort, *m) {
                            (Some(x), Some(y)) => Some(x.min(y)),
                            (x, y) => x.or(y),
                        };
                        runs.push((a.unwrap_or(0), b.unwrap_or(0)));
                        rows.next();
                    }
                    let Some(cohort) = cohort else { continue };
                    let cell = self
                        .cells
                        .entry((group.unwrap_or_default().to_owned(), cohort))
                        .or_insert_with(|| (0, vec![0; n]));
                    cell.0 += 1;
                    let mut covered = 0usize; // month ends before this are counted
                    for (a, b) in runs {
                        let (a, b) = ((a.max(0) as usize).max(covered).min(n), (b.max(0) as usize).min(n));
                        for slot in cell.1.iter_mut().take(b).skip(a) {
                            *slot += 1;
                        }
                        covered = covered.max(b);
                    }
                }
            }
        }
        let mut sorted: BTreeMap<(i32, String), (i64, Vec<i64>)> = BTreeMap::new();
        for ((group, month), cell) in self.cells {
            sorted.insert((month, group), cell);
        }
        let mut rows = Vec::new();
        for ((month, group), (size, actives)) in sorted {
            for (j, end_month) in self.end_months.iter().enumerate() {
                if *end_month < month {
                    continue;
                }
                rows.push(CohortRow {
                    group: self.by.as_ref().map(|_| group.clone()),
                    cohort: month_text(month),
                    age: i64::from(end_month - month),
                    size,
                    active: actives[j],
                });
            }
        }
        Ok(rows)
    }
}

/// The cohort cells of the lake, by cohort, then group, then age.
pub(crate) fn cohort_rows(sources: &LakeSources, level: CohortLevel, by: Option<&str>) -> Result<Vec<CohortRow>> {
    if let Some(by) = by {
        check_by(by)?;
    }
    let (first, last) = sources.range()?;
    let passes = Passes::plan(sources, Attributes::UserAnd(by), Lineage::Drop)?;
    let mut builder = CohortBuilder::new(&passes, level, by, first, last)?;
    passes.run_one(None, &mut builder)?;
    builder.finish()
}

/// The cohort cells as a frame: `cohort, [by], age, size, active, share` (share as
/// DECIMAL(18, 6), rounded half to even).
pub(crate) fn frame(rows: &[CohortRow], by: Option<&str>) -> Result<DataFrame> {
    let mut columns = vec![Column::new("cohort".into(), rows.iter().map(|r| r.cohort.clone()).collect::<Vec<_>>())];
    if let Some(by) = by {
        columns
            .push(Column::new(by.into(), rows.iter().map(|r| r.group.clone().unwrap_or_default()).collect::<Vec<_>>()));
    }
    columns.push(Column::new("age".into(), rows.iter().map(|r| r.age).collect::<Vec<_>>()));
    columns.push(Column::new("size".into(), rows.iter().map(|r| r.size).collect::<Vec<_>>()));
    columns.push(Column::new("active".into(), rows.iter().map(|r| r.active).collect::<Vec<_>>()));
    let share =
        Int128Chunked::from_iter_options("share".into(), rows.iter().map(|r| r.share_millionths().map(i128::from)))
            .into_decimal(18, 6)
            .ctx("writing shares")?;
    columns.push(share.into_series().into_column());
    DataFrame::new(rows.len(), columns).map_err(|source| QueryError::Polars { context: "shaping the cohorts", source })
}
