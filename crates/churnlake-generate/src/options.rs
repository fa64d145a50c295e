//! What to generate: the run's options, the variant switches and the named presets.
//!
//! Options are plain data resolved by the caller (the CLI) before anything runs;
//! the presets fix the sizes the project's demo and benchmarks rely on, so that a
//! "large" run means the same thing everywhere.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

use crate::GenerateError;

/// Everything that determines a generated data set. The same options always give
/// byte-identical output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GenerateOptions {
    /// Output root: drop files go to `out/drops/`, the ground truth to `out/truth/`.
    pub out: PathBuf,
    /// First data date (the first day's files are stamped the morning after).
    pub start: NaiveDate,
    /// Number of data days, first and last included.
    pub days: u32,
    /// Average number of subscriptions created per day.
    pub subs_per_day: u32,
    /// Seed of every pseudo-random choice.
    pub seed: u64,
    /// Which families of format variants and anomalies to write.
    pub variants: Variants,
}

/// Switches for the families of variants and anomalies. All on by default; all
/// off gives clean, canonical files (one name pattern, one header, `MM/DD/YYYY`
/// dates, UTF-8, LF) and textbook lifecycles.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Variants {
    /// Both name patterns per report kind and all stamp styles (`MMDDYYYYHHMMSS`,
    /// `YYYYMMDD`, `_delta`, `_full`).
    pub file_names: bool,
    /// Column order, optional columns, `Ordergroove User ID`, case/spacing variants,
    /// an unknown extra column.
    pub headers: bool,
    /// Date, date-time, 14-digit and epoch values; money and flag spellings.
    pub values: bool,
    /// UTF-8 with BOM, Windows-1252, CRLF, quoted commas/newlines, trailing blank line.
    pub text: bool,
    /// The 6-field events layout, noise codes, code 5, orphan code-9 rows.
    pub events: bool,
    /// Re-sent files, overlapping and duplicate rows, missing days, late rows,
    /// full exports, cancellations delivered before the creation row.
    pub delivery: bool,
    /// Edge-case lifecycles: same-day create+cancel, same-day cancel/reactivate
    /// pairs (timed and untimed), subscriptions created before the first day.
    pub lifecycle: bool,
    /// Orders, inventory and CRM-subscription files (not part of the truth).
    pub legacy_files: bool,
}

impl Variants {
    /// Every variant and anomaly (the default).
    pub const fn all() -> Self {
        Variants {
            file_names: true,
            headers: true,
            values: true,
            text: true,
            events: true,
            delivery: true,
            lifecycle: true,
            legacy_files: true,
        }
    }

    /// Canonical files and textbook lifecycles only.
    pub const fn none() -> Self {
        Variants {
            file_names: false,
            headers: false,
            values: false,
            text: false,
            events: false,
            delivery: false,
            lifecycle: false,
            legacy_files: false,
        }
    }
}

impl Default for Variants {
    fn default() -> Self {
        Variants::all()
    }
}

/// Named sizes used by the demo and the benchmarks.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Preset {
    /// Two years (730 days from 2023-01-01), ~25 subscriptions a day: ~18 k subscriptions.
    Demo,
    /// Five years (1826 days from 2021-01-01), ~1100 a day: ~2 M subscriptions.
    Large,
    /// As large, ten times the subscriptions per day: ~20 M subscriptions.
    Xl,
}

const fn date(year: i32, month: u32, day: u32) -> NaiveDate {
    match NaiveDate::from_ymd_opt(year, month, day) {
        Some(date) => date,
        None => panic!("invalid preset date"),
    }
}

impl Preset {
    /// Every preset, smallest first.
    pub const ALL: [Preset; 3] = [Preset::Demo, Preset::Large, Preset::Xl];

    /// The preset's name as accepted by [`FromStr`].
    pub const fn as_str(self) -> &'static str {
        match self {
            Preset::Demo => "demo",
            Preset::Large => "large",
            Preset::Xl => "xl",
        }
    }

    /// The preset's options, writing under `out`, with every variant on.
    pub fn options(self, out: impl Into<PathBuf>) -> GenerateOptions {
        let (start, days, subs_per_day, seed) = match self {
            Preset::Demo => (date(2023, 1, 1), 730, 25, 20_230_101),
            Preset::Large => (date(2021, 1, 1), 1826, 1100, 20_210_101),
            Preset::Xl => (date(2021, 1, 1), 1826, 11_000, 20_210_101),
        };
        GenerateOptions { out: out.into(), start, days, subs_per_day, seed, variants: Variants::all() }
    }
}

impl fmt::Display for Preset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Preset {
    type Err = GenerateError;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Preset::ALL
            .into_iter()
            .find(|preset| preset.as_str().eq_ignore_ascii_case(name.trim()))
            .ok_or_else(|| GenerateError::UnknownPreset { name: name.to_string() })
    }
}

/// Largest accepted `days` (a century) and `subs_per_day`: beyond them ids and
/// memory stop being sensible.
pub(crate) const MAX_DAYS: u32 = 36_525;
pub(crate) const MAX_SUBS_PER_DAY: u32 = 200_000;

impl GenerateOptions {
    pub(crate) fn validate(&self) -> Result<(), GenerateError> {
        let invalid = |reason: String| Err(GenerateError::InvalidOptions { reason });
        if self.days == 0 {
            return invalid("days must be at least 1".into());
        }
        if self.days > MAX_DAYS {
            return invalid(format!("days must be at most {MAX_DAYS}"));
        }
        if self.subs_per_day > MAX_SUBS_PER_DAY {
            return invalid(format!("subs_per_day must be at most {MAX_SUBS_PER_DAY}"));
        }
        // Pre-start creations reach ~3 years back (epoch seconds stay positive),
        // stamps and next-order dates some months ahead.
        let span_ok = self.start.checked_sub_days(chrono::Days::new(1200)).is_some()
            && self.start.checked_add_days(chrono::Days::new(u64::from(self.days) + 800)).is_some()
            && self.start.year() >= 1974;
        if !span_ok {
            return invalid(format!("start date {} is out of the supported range", self.start));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_parse_and_print() {
        for preset in Preset::ALL {
            assert_eq!(preset.as_str().parse::<Preset>().ok(), Some(preset));
            assert_eq!(preset.to_string(), preset.as_str());
        }
        assert_eq!(" Large ".parse::<Preset>().ok(), Some(Preset::Large));
        assert!(matches!("huge".parse::<Preset>(), Err(GenerateError::UnknownPreset { .. })));
    }

    #[test]
    fn preset_sizes() {
        let demo = Preset::Demo.options("/tmp/x");
        assert_eq!((demo.start, demo.days, demo.subs_per_day), (date(2023, 1, 1), 730, 25));
        let large = Preset::Large.options("/tmp/x");
        assert_eq!(large.days, 1826);
        // ~2 M subscriptions in total: days x subs/day within 5 %.
        let total = u64::from(large.days) * u64::from(large.subs_per_day);
        assert!((1_900_000..=2_100_000).contains(&total), "{total}");
        // Five calendar years, first and last day included.
        assert_eq!(large.start + chrono::Days::new(u64::from(large.days) - 1), date(2025, 12, 31));
        let xl = Preset::Xl.options("/tmp/x");
        assert_eq!((xl.start, xl.days), (large.start, large.days));
        assert_eq!(xl.subs_per_day, 10 * large.subs_per_day);
        for preset in Preset::ALL {
            assert!(preset.options("/tmp/x").validate().is_ok());
            assert_eq!(preset.options("/tmp/x").variants, Variants::all());
        }
    }

    #[test]
    fn invalid_options_are_refused() {
        let mut options = Preset::Demo.options("/tmp/x");
        options.days = 0;
        assert!(matches!(options.validate(), Err(GenerateError::InvalidOptions { .. })));
    }
}
