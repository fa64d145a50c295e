//! The delivery calendar: which days are missing, quiet, re-sent or exported in
//! full, and which days get legacy files.
//!
//! Decided up front, in blocks of 30 days, so that every day-level anomaly occurs
//! at least once in any block long enough (and so in any run of 60 days or more),
//! while the first and last days are always delivered and the series range exact.
//! The simulation reads it too: nothing happens on a quiet day.

use crate::options::Variants;
use crate::rng::{Deck, Rng};

/// The kinds of drop files.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum FileKind {
    Subscriptions,
    Cancellations,
    Events,
    Orders,
    Inventory,
    CrmSubscription,
}

impl FileKind {
    pub(crate) const fn label(self) -> &'static str {
        match self {
            FileKind::Subscriptions => "subscriptions",
            FileKind::Cancellations => "cancellations",
            FileKind::Events => "subscriber_events",
            FileKind::Orders => "orders",
            FileKind::Inventory => "inventory",
            FileKind::CrmSubscription => "crm_subscription",
        }
    }
}

/// What happens on one data day.
#[derive(Clone, Debug, Default)]
pub(crate) struct DayPlan {
    /// False for a missing day: its rows arrive inside the next day's files.
    pub missing: bool,
    /// No activity at all: header-only reports and a zero-byte events file.
    pub quiet: bool,
    /// This day's file of this kind is delivered a second time under a later stamp.
    pub resend: Option<FileKind>,
    /// The subscription report is a `_full` export re-sending the last week's rows.
    pub full_export: bool,
    pub orders: bool,
    pub inventory: bool,
    pub crm_subscription: bool,
}

pub(crate) struct Plan {
    pub days: Vec<DayPlan>,
}

const BLOCK: u32 = 30;
/// Blocks shorter than this get no day-level anomalies.
const MIN_BLOCK: u32 = 10;

impl Plan {
    pub(crate) fn new(days: u32, variants: &Variants, seed: u64) -> Plan {
        let mut rng = Rng::derive(seed, 0x91a2, 0);
        let mut plan = vec![DayPlan::default(); days as usize];
        let mut resend_kinds =
            Deck::new(&[FileKind::Subscriptions, FileKind::Cancellations, FileKind::Events], FileKind::Subscriptions);
        let mut block_start = 0;
        while block_start < days {
            let len = BLOCK.min(days - block_start);
            if len >= MIN_BLOCK {
                plan_block(
                    &mut plan[block_start as usize..(block_start + len) as usize],
                    variants,
                    &mut rng,
                    &mut resend_kinds,
                );
            }
            block_start += len;
        }
        Plan { days: plan }
    }

    fn day(&self, day: i32) -> Option<&DayPlan> {
        usize::try_from(day).ok().and_then(|i| self.days.get(i))
    }

    pub(crate) fn quiet(&self, day: i32) -> bool {
        self.day(day).is_some_and(|d| d.quiet)
    }

    pub(crate) fn missing(&self, day: i32) -> bool {
        self.day(day).is_some_and(|d| d.missing)
    }

    /// The first day at or after `day` that is not quiet (quiet days are isolated).
    pub(crate) fn active_from(&self, day: i32) -> i32 {
        let mut day = day;
        while self.quiet(day) {
            day += 1;
        }
        day
    }
}

/// Positions inside a block avoid its edges, so missing days are never adjacent
/// and never the run's first or last day.
fn plan_block(block: &mut [DayPlan], variants: &Variants, rng: &mut Rng, resend_kinds: &mut Deck<FileKind>) {
    let len = block.len() as i64;
    let inner = |rng: &mut Rng| rng.range(1, len - 2) as usize;
    if variants.delivery {
        let missing = inner(rng);
        block[missing].missing = true;
        for _ in 0..16 {
            let quiet = inner(rng);
            if quiet != missing && quiet != missing + 1 {
                block[quiet].quiet = true;
                break;
            }
        }
    }
    let ordinary_day = |rng: &mut Rng, block: &[DayPlan]| {
        (0..32).map(|_| rng.below(len as u64) as usize).find(|&i| !block[i].missing && !block[i].quiet)
    };
    if variants.delivery {
        if let Some(day) = ordinary_day(rng, block) {
            block[day].resend = Some(resend_kinds.draw(rng));
        }
        if let Some(day) = ordinary_day(rng, block) {
            block[day].full_export = true;
        }
    }
    if variants.legacy_files {
        for _ in 0..6 {
            if let Some(day) = ordinary_day(rng, block) {
                block[day].orders = true;
            }
        }
        if let Some(day) = ordinary_day(rng, block) {
            block[day].inventory = true;
        }
        for _ in 0..2 {
            if let Some(day) = ordinary_day(rng, block) {
                block[day].crm_subscription = true;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn anomalies_in_every_full_block_and_edges_delivered() {
        for seed in 0..50 {
            let plan = Plan::new(125, &Variants::all(), seed);
            let days = &plan.days;
            assert!(!days[0].missing && !days[124].missing && !days[0].quiet && !days[124].quiet);
            for block in days.chunks(30).filter(|b| b.len() >= 10) {
                assert_eq!(block.iter().filter(|d| d.missing).count(), 1);
                assert!(block.iter().filter(|d| d.quiet).count() <= 1);
                assert!(block.iter().any(|d| d.resend.is_some()));
                assert!(block.iter().any(|d| d.full_export));
                assert!(block.iter().any(|d| d.orders) && block.iter().any(|d| d.inventory));
            }
            for i in 0..days.len() - 1 {
                assert!(!(days[i].missing && (days[i + 1].missing || days[i + 1].quiet)), "seed {seed} day {i}");
                assert!(!(days[i].quiet && days[i + 1].quiet));
                assert!(!(days[i].missing && days[i].quiet));
            }
            assert!(days.iter().any(|d| d.quiet));
        }
        let none = Plan::new(125, &Variants::none(), 1);
        assert!(none.days.iter().all(|d| !d.missing && !d.quiet && d.resend.is_none() && !d.orders));
    }
}
