//! Revenue (METRICS.md "Revenue"): MRR, ARPU and the MRR movements per day, optionally per
//! group of an attribute in effect on the day.
//!
//! Per pass, each subscription is walked in Rust over the days where something about it
//! changes — its state (the lifecycle's `states`) or one of its attributes (a report row's
//! data date: [`Lifecycle::history`]). At each such day its MRR, group and state are
//! compared with the previous day's, and the difference is booked exactly, per frequency
//! ([`FrequencySums`]), in the movement it belongs to. The subscriber level (ARPU's
//! denominator: subscribers active at the end of the day, per group) is the series' own
//! machinery: membership changes `group, user_id, day, delta` spilled by user and folded
//! by [`lifecycle::subscriber_states`]. Days are then walked once per group: MRR is the
//! running sum of its changes from the first change on, so the opening balance (before
//! the lake's first data date) is included and `mrr(D) = mrr(D−1) + new + reactivation +
//! expansion − contraction − churned` holds exactly on every day and in every group.

use std::collections::{BTreeMap, HashMap};

use chrono::{Datelike, Days, NaiveDate};
use churnlake_lake::columns as c;
use polars::prelude::*;

use crate::driver::{Consumer, Passes};
use crate::error::{Context, QueryError, Result};
use crate::lifecycle::{self, Attributes, Lifecycle, Lineage};
use crate::money::{Exact, FrequencySums};
use crate::passes::Spill;
use crate::series::{GROUP, Grain, check_by, check_period};
use crate::sources::LakeSources;
use crate::values::{i32s, strings, u32s};

/// The revenue output's columns, in order (with `--by X`, X comes right after `date`).
pub const REVENUE_COLUMNS: [&str; 9] = [
    "date",
    "mrr",
    "arpu",
    "new_mrr",
    "reactivation_mrr",
    "expansion_mrr",
    "contraction_mrr",
    "churned_mrr",
    "mrr_unknown_subscriptions",
];

/// One day (or period) of revenue, exact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RevenueRow {
    /// The day (or the period's first day).
    pub date: NaiveDate,
    /// The group's value ("" when the attribute is empty); `None` without `--by`.
    pub group: Option<String>,
    pub mrr: Exact,
    /// `mrr ÷ active subscribers` (None when there are none).
    pub arpu: Option<Exact>,
    pub new_mrr: Exact,
    pub reactivation_mrr: Exact,
    pub expansion_mrr: Exact,
    pub contraction_mrr: Exact,
    pub churned_mrr: Exact,
    /// Active subscriptions at the end of the day whose MRR is unknown (a price, quantity
    /// or frequency missing, or a frequency of 0 or less).
    pub mrr_unknown_subscriptions: i64,
    /// Active subscribers at the end of the day (ARPU's denominator).
    pub active_subscribers: i64,
}

#[derive(Default, Clone)]
struct Cell {
    mrr: FrequencySums,
    new: FrequencySums,
    reactivation: FrequencySums,
    expansion: FrequencySums,
    contraction: FrequencySums,
    churned: FrequencySums,
    unknown: i64,
    subscribers: i64,
}

/// Day numbers are polars' (days since 1970-01-01).
fn day_number(day: NaiveDate) -> i32 {
    (day - NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default()).num_days() as i32
}

fn day_of(number: i32) -> NaiveDate {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default();
    if number >= 0 { epoch + Days::new(number as u64) } else { epoch - Days::new(number.unsigned_abs() as u64) }
}

/// What a subscription is at the end of a day.
#[derive(Clone, PartialEq, Eq)]
struct Snapshot {
    active: bool,
    /// `(frequency, price units × quantity)` when active with every money attribute known.
    mrr: Option<(i32, i128)>,
    unknown: bool,
    group: u32,
}

/// The attributes in effect, as they are walked forward.
#[derive(Clone, Default)]
struct InEffect {
    price: Option<i128>,
    quantity: Option<i32>,
    frequency: Option<i32>,
    group: Option<u32>,
}

/// Revenue built pass by pass.
pub(crate) struct RevenueBuilder {
    by: Option<String>,
    groups: Vec<String>,
    group_index: HashMap<String, u32>,
    cells: HashMap<(u32, i32), Cell>,
    spill: Spill,
}

impl RevenueBuilder {
    pub(crate) fn new(passes: &Passes, by: Option<&str>) -> Result<RevenueBuilder> {
        let mut builder = RevenueBuilder {
            by: by.map(str::to_owned),
            groups: Vec::new(),
            group_index: HashMap::new(),
            cells: HashMap::new(),
            spill: Spill::new(passes.count())?,
        };
        if by.is_none() {
            builder.group("");
        }
        Ok(builder)
    }

    fn group(&mut self, name: &str) -> u32 {
        if let Some(index) = self.group_index.get(name) {
            return *index;
        }
        let index = self.groups.len() as u32;
        self.groups.push(name.to_owned());
        self.group_index.insert(name.to_owned(), index);
        index
    }

    fn cell(&mut self, group: u32, day: i32) -> &mut Cell {
        self.cells.entry((group, day)).or_default()
    }

    /// Books the change of one subscription from `prev` (None: absent) to `now` on `day`.
    fn book(&mut self, day: i32, prev: Option<&Snapshot>, now: &Snapshot) -> Result<()> {
        if let Some(p) = prev.filter(|p| p.active) {
            let cell = self.cell(p.group, day);
            if let Some((f, units)) = p.mrr {
                cell.mrr.add(f, -units)?;
            }
            cell.unknown -= i64::from(p.unknown);
        }
        if now.active {
            let cell = self.cell(now.group, day);
            if let Some((f, units)) = now.mrr {
                cell.mrr.add(f, units)?;
            }
            cell.unknown += i64::from(now.unknown);
        }
        match (prev, now.active) {
            (None, true) => {
                if let Some((f, units)) = now.mrr {
                    self.cell(now.group, day).new.add(f, units)?;
                }
            }
            (Some(p), true) if !p.active => {
                if let Some((f, units)) = now.mrr {
                    self.cell(now.group, day).reactivation.add(f, units)?;
                }
            }
            (Some(p), false) if p.active => {
                if let Some((f, units)) = p.mrr {
                    self.cell(p.group, day).churned.add(f, units)?;
                }
            }
            (Some(p), true) if p.group != now.group => {
                // a switch: out of the old group, into the new
                if let Some((f, units)) = p.mrr {
                    self.cell(p.group, day).contraction.add(f, units)?;
                }
                if let Some((f, units)) = now.mrr {
                    self.cell(now.group, day).expansion.add(f, units)?;
                }
            }
            (Some(p), true) => {
                let (fp, up) = p.mrr.unwrap_or((1, 0));
                let (fnow, unow) = now.mrr.unwrap_or((1, 0));
                // unow / fnow against up / fp, with positive frequencies
                let now_scaled = unow.checked_mul(i128::from(fp)).ok_or(QueryError::MoneyOverflow)?;
                let prev_scaled = up.checked_mul(i128::from(fnow)).ok_or(QueryError::MoneyOverflow)?;
                let cell = self.cell(now.group, day);
                if now_scaled > prev_scaled {
                    cell.expansion.add(fnow, unow)?;
                    cell.expansion.add(fp, -up)?;
                } else if now_scaled < prev_scaled {
                    cell.contraction.add(fp, up)?;
                    cell.contraction.add(fnow, -unow)?;
                }
            }
            _ => {}
        }
        Ok(())
    }
}

impl Consumer for RevenueBuilder {
    fn add(&mut self, life: &Lifecycle, pass: u32) -> Result<()> {
        let by = self.by.clone();
        let history = life.history.as_ref().ok_or(QueryError::Stopped)?;
        let owners = lifecycle::owners(life.base.clone(), vec![col("created_date")])?
            .sort(["sub_idx"], SortMultipleOptions::default())
            .collect()
            .ctx("reading a pass's subscriptions")?;
        let states = life
            .states()?
            .select([col("sub_idx"), col("day"), col("active")])
            .collect()
            .ctx("computing a pass's states")?;

        let sub_count = owners.height();
        let owner_idx = u32s(&owners, "sub_idx")?;
        let users = strings(&owners, c::USER_ID)?;
        let created = i32s(&owners, "created_date")?;
        // sub_idx → position in the owners frame
        let mut position = vec![usize::MAX; sub_count];
        for (i, idx) in owner_idx.iter().enumerate() {
            if let Some(idx) = idx
                && (*idx as usize) < sub_count
            {
                position[*idx as usize] = i;
            }
        }

        let s_idx = u32s(&states, "sub_idx")?;
        let s_day = i32s(&states, "day")?;
        let s_active: Vec<Option<bool>> =
            states.column("active").ctx("reading states")?.bool().ctx("reading states")?.iter().collect();

        let h_idx = u32s(history, "sub_idx")?;
        let h_day = i32s(history, c::DATA_DATE)?;
        let h_price: Vec<Option<i128>> = {
            let column = history.column(c::PRICE).ctx("reading prices")?;
            column.decimal().ctx("reading prices")?.physical().iter().collect()
        };
        let h_quantity = i32s(history, c::QUANTITY)?;
        let h_frequency = i32s(history, c::FREQUENCY_DAYS)?;
        let h_group: Vec<Option<u32>> = match by.as_deref() {
            Some(column) => strings(history, column)?.into_iter().map(|v| v.map(|text| self.group(&text))).collect(),
            None => vec![None; history.height()],
        };
        let as_of = day_number(life.as_of);

        let (mut s, mut h) = (0usize, 0usize);
        let mut user_rows: (Vec<u32>, Vec<String>, Vec<i32>, Vec<i64>) = Default::default();
        while s < s_idx.len() {
            let Some(sub) = s_idx[s] else {
                s += 1;
                continue;
            };
            let s_end = s + s_idx[s..].iter().take_while(|i| **i == Some(sub)).count();
            while h < h_idx.len() && h_idx[h].is_some_and(|i| i < sub) {
                h += 1;
            }
            let h_end = h + h_idx[h..].iter().take_while(|i| **i == Some(sub)).count();
            let at = position.get(sub as usize).copied().unwrap_or(usize::MAX);
            let created_day = created.get(at).copied().flatten().unwrap_or(i32::MIN);
            let user = users.get(at).cloned().flatten().unwrap_or_default();

            // the oldest non-empty value of each attribute is in effect before its first row
            let mut effect = InEffect::default();
            for i in h..h_end {
                effect.price = effect.price.or(h_price[i]);
                effect.quantity = effect.quantity.or(h_quantity[i]);
                effect.frequency = effect.frequency.or(h_frequency[i]);
                effect.group = effect.group.or(h_group[i]);
            }
            // the days something changes: state rows and report rows' data dates (a row
            // dated before the creation is in effect from the creation on)
            let mut days: Vec<i32> = s_day[s..s_end].iter().flatten().copied().collect();
            days.extend(h_day[h..h_end].iter().flatten().map(|d| (*d).max(created_day)).filter(|d| *d <= as_of));
            days.sort_unstable();
            days.dedup();

            let mut prev: Option<Snapshot> = None;
            let mut active: Option<bool> = None;
            let (mut si, mut hi) = (s, h);
            for day in days {
                while si < s_end && s_day[si].is_some_and(|d| d <= day) {
                    active = s_active[si];
                    si += 1;
                }
                while hi < h_end && h_day[hi].map(|d| d.max(created_day)).is_some_and(|d| d <= day) {
                    effect.price = h_price[hi].or(effect.price);
                    effect.quantity = h_quantity[hi].or(effect.quantity);
                    effect.frequency = h_frequency[hi].or(effect.frequency);
                    effect.group = h_group[hi].or(effect.group);
                    hi += 1;
                }
                // before its creation a subscription does not exist
                let Some(active) = active else { continue };
                let known = match (effect.price, effect.quantity, effect.frequency) {
                    (Some(price), Some(quantity), Some(frequency)) if frequency > 0 => {
                        Some((frequency, price.checked_mul(i128::from(quantity)).ok_or(QueryError::MoneyOverflow)?))
                    }
                    _ => None,
                };
                let now = Snapshot {
                    active,
                    mrr: if active { known } else { None },
                    unknown: active && known.is_none(),
                    group: match effect.group {
                        Some(group) => group,
                        None => self.group(""),
                    },
                };
                if prev.as_ref() == Some(&now) {
                    continue;
                }
                self.book(day, prev.as_ref(), &now)?;
                // subscriber membership in the group
                let was = prev.as_ref().filter(|p| p.active).map(|p| p.group);
                let is = now.active.then_some(now.group);
                if was != is {
                    if let Some(g) = was {
                        user_rows.0.push(g);
                        user_rows.1.push(user.clone());
                        user_rows.2.push(day);
                        user_rows.3.push(-1);
                    }
                    if let Some(g) = is {
                        user_rows.0.push(g);
                        user_rows.1.push(user.clone());
                        user_rows.2.push(day);
                        user_rows.3.push(1);
                    }
                }
                prev = Some(now);
            }
            s = s_end;
            h = h_end;
        }
        let (groups, users, days, deltas) = user_rows;
        let height = groups.len();
        let days = Column::new("day".into(), days).cast(&DataType::Date).ctx("spilling members")?;
        let df = DataFrame::new(
            height,
            vec![
                Column::new(GROUP.into(), groups),
                Column::new(c::USER_ID.into(), users),
                days,
                Column::new("delta".into(), deltas),
            ],
        )
        .ctx("spilling members")?;
        self.spill.write(pass, df, c::USER_ID)
    }
}

impl RevenueBuilder {
    /// Every group on every day of `first..=last`, exact.
    pub(crate) fn finish(mut self, first: NaiveDate, last: NaiveDate) -> Result<Vec<RevenueRow>> {
        for bucket in 0..self.spill.count() {
            let Some(rows) = self.spill.read(bucket)? else { continue };
            let counts = lifecycle::subscriber_states(rows, &[GROUP, c::USER_ID])?
                .group_by([col(GROUP), col("day")])
                .agg([col("delta").sum()])
                .collect()
                .ctx("computing subscriber states")?;
            let groups = u32s(&counts, GROUP)?;
            let days = i32s(&counts, "day")?;
            let deltas = counts.column("delta").ctx("reading subscribers")?.cast(&DataType::Int64).ctx("x")?;
            let deltas: Vec<Option<i64>> = deltas.i64().ctx("reading subscribers")?.iter().collect();
            for ((g, d), delta) in groups.into_iter().zip(days).zip(deltas) {
                if let (Some(g), Some(d), Some(delta)) = (g, d, delta) {
                    self.cell(g, d).subscribers += delta;
                }
            }
        }
        let mut by_group: Vec<BTreeMap<i32, Cell>> = vec![BTreeMap::new(); self.groups.len()];
        for ((g, d), cell) in self.cells.drain() {
            if let Some(map) = by_group.get_mut(g as usize) {
                map.insert(d, cell);
            }
        }
        // groups in name order; without --by the one group
        let mut order: Vec<u32> = (0..self.groups.len() as u32).collect();
        order.sort_by(|a, b| self.groups[*a as usize].cmp(&self.groups[*b as usize]));
        if self.by.is_none() {
            order.retain(|g| self.groups[*g as usize].is_empty());
        }
        // with --by: every value some report row names (and "" when a subscription has
        // none), on every day, as the series does
        let (first_n, last_n) = (day_number(first), day_number(last));
        let mut per_group: Vec<Vec<RevenueRow>> = Vec::new();
        for g in order {
            let cells = &by_group[g as usize];
            let mut mrr = FrequencySums::default();
            let (mut unknown, mut subscribers) = (0i64, 0i64);
            for (_, cell) in cells.range(..first_n) {
                mrr.merge(&cell.mrr)?;
                unknown += cell.unknown;
                subscribers += cell.subscribers;
            }
            let mut rows = Vec::new();
            let empty = Cell::default();
            for day in first_n..=last_n {
                let cell = cells.get(&day).unwrap_or(&empty);
                mrr.merge(&cell.mrr)?;
                unknown += cell.unknown;
                subscribers += cell.subscribers;
                let total = mrr.value();
                rows.push(RevenueRow {
                    date: day_of(day),
                    group: self.by.as_ref().map(|_| self.groups[g as usize].clone()),
                    arpu: total.per(subscribers),
                    mrr: total,
                    new_mrr: cell.new.value(),
                    reactivation_mrr: cell.reactivation.value(),
                    expansion_mrr: cell.expansion.value(),
                    contraction_mrr: cell.contraction.value(),
                    churned_mrr: cell.churned.value(),
                    mrr_unknown_subscriptions: unknown,
                    active_subscribers: subscribers,
                });
            }
            per_group.push(rows);
        }
        // by date, then group
        let mut out = Vec::new();
        let days = (last_n - first_n + 1).max(0) as usize;
        for i in 0..days {
            for rows in &per_group {
                out.push(rows[i].clone());
            }
        }
        Ok(out)
    }
}

/// Daily revenue over the lake's range, exact, per group of `by` in effect on each day.
pub(crate) fn daily(sources: &LakeSources, by: Option<&str>) -> Result<(Vec<RevenueRow>, NaiveDate, NaiveDate)> {
    if let Some(by) = by {
        check_by(by)?;
    }
    let (first, last) = sources.range()?;
    let passes = Passes::plan(sources, Attributes::Revenue(by), Lineage::Drop)?;
    let mut builder = RevenueBuilder::new(&passes, by)?;
    passes.run_one(None, &mut builder)?;
    Ok((builder.finish(first, last)?, first, last))
}

/// Revenue over `from..=to` at `grain`: MRR, ARPU and unknowns at the period's last day
/// (inside the range), movements summed; a period is labelled by its first day.
pub(crate) fn revenue_rows(
    sources: &LakeSources,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    by: Option<&str>,
    grain: Grain,
) -> Result<Vec<RevenueRow>> {
    let (rows, first, last) = daily(sources, by)?;
    let (from, to) = (from.unwrap_or(first), to.unwrap_or(last));
    check_period(from, to, first, last)?;
    Ok(at_grain(rows.into_iter().filter(|r| r.date >= from && r.date <= to).collect(), grain))
}

/// Daily rows (sorted by date, then group) at `grain`.
pub(crate) fn at_grain(rows: Vec<RevenueRow>, grain: Grain) -> Vec<RevenueRow> {
    if grain == Grain::Day {
        return rows;
    }
    let start = |date: NaiveDate| match grain {
        Grain::Day => date,
        Grain::Week => date - Days::new(u64::from(date.weekday().num_days_from_monday())),
        Grain::Month => date.with_day(1).unwrap_or(date),
    };
    let mut periods: BTreeMap<(NaiveDate, Option<String>), RevenueRow> = BTreeMap::new();
    for row in rows {
        let key = (start(row.date), row.group.clone());
        match periods.get_mut(&key) {
            None => {
                let mut first = row;
                first.date = key.0;
                periods.insert(key, first);
            }
            Some(period) => {
                period.mrr = row.mrr;
                period.arpu = row.arpu;
                period.mrr_unknown_subscriptions = row.mrr_unknown_subscriptions;
                period.active_subscribers = row.active_subscribers;
                period.new_mrr += &row.new_mrr;
                period.reactivation_mrr += &row.reactivation_mrr;
                period.expansion_mrr += &row.expansion_mrr;
                period.contraction_mrr += &row.contraction_mrr;
                period.churned_mrr += &row.churned_mrr;
            }
        }
    }
    periods.into_values().collect()
}

/// The rows as a frame: `date, [by], mrr, arpu, …` with money as DECIMAL(18, 2).
pub(crate) fn frame(rows: &[RevenueRow], by: Option<&str>) -> Result<DataFrame> {
    let height = rows.len();
    let money = |name: &str, values: Vec<Option<i128>>| -> Result<Column> {
        Ok(Int128Chunked::from_iter_options(name.into(), values.into_iter())
            .into_decimal(18, 2)
            .ctx("writing money")?
            .into_series()
            .into_column())
    };
    let cents = |e: &Exact| -> Result<Option<i128>> { e.cents_i128().map(Some).ok_or(QueryError::MoneyOverflow) };
    let mut columns = vec![
        Column::new("date".into(), rows.iter().map(|r| r.date).collect::<Vec<_>>())
            .cast(&DataType::Date)
            .ctx("writing dates")?,
    ];
    if let Some(by) = by {
        columns
            .push(Column::new(by.into(), rows.iter().map(|r| r.group.clone().unwrap_or_default()).collect::<Vec<_>>()));
    }
    let pick =
        |f: fn(&RevenueRow) -> &Exact| -> Result<Vec<Option<i128>>> { rows.iter().map(|r| cents(f(r))).collect() };
    columns.push(money("mrr", pick(|r| &r.mrr)?)?);
    let arpu: Vec<Option<i128>> = rows
        .iter()
        .map(|r| match &r.arpu {
            Some(a) => cents(a),
            None => Ok(None),
        })
        .collect::<Result<_>>()?;
    columns.push(money("arpu", arpu)?);
    columns.push(money("new_mrr", pick(|r| &r.new_mrr)?)?);
    columns.push(money("reactivation_mrr", pick(|r| &r.reactivation_mrr)?)?);
    columns.push(money("expansion_mrr", pick(|r| &r.expansion_mrr)?)?);
    columns.push(money("contraction_mrr", pick(|r| &r.contraction_mrr)?)?);
    columns.push(money("churned_mrr", pick(|r| &r.churned_mrr)?)?);
    columns.push(Column::new(
        "mrr_unknown_subscriptions".into(),
        rows.iter().map(|r| r.mrr_unknown_subscriptions).collect::<Vec<_>>(),
    ));
    DataFrame::new(height, columns).ctx("shaping the revenue")
}
