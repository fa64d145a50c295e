//! What a run produced: the [`GenerateSummary`] returned to the caller, and
//! `truth/summary.json`, which adds the spellings and anomalies written so a
//! reader of the truth knows what the drops hold.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::GenerateError;
use crate::options::{GenerateOptions, Variants};

/// Totals of one [`generate`](crate::generate) run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct GenerateSummary {
    /// Drop files written (re-sent and legacy files included; truth files not).
    pub files: u64,
    /// Bytes of those drop files.
    pub bytes: u64,
    /// Subscriptions in the truth (those at least one report row reveals).
    pub subscriptions: u64,
    /// Subscribers in the truth (customers with at least one such subscription).
    pub subscribers: u64,
    /// Lifecycle events in the truth: creations, cancellations and reactivations.
    pub events: u64,
    /// `OUT/drops`
    pub drops_dir: PathBuf,
    /// `OUT/truth`
    pub truth_dir: PathBuf,
}

#[derive(Serialize)]
struct SummaryFile<'a> {
    #[serde(flatten)]
    summary: GenerateSummary,
    first_data_date: String,
    last_data_date: String,
    days: u32,
    subs_per_day: u32,
    seed: u64,
    /// The variant families switched on.
    variant_families: Variants,
    /// Files (or values) written in each spelling.
    variants_written: &'a BTreeMap<String, u64>,
    /// Delivery and lifecycle anomalies written.
    anomalies: &'a BTreeMap<String, u64>,
}

/// Writes `summary.json`; paths in it are relative to the output root so that the
/// whole output is byte-identical wherever it is written.
pub(crate) fn write_summary(
    dir: &Path,
    summary: &GenerateSummary,
    options: &GenerateOptions,
    variants_written: &BTreeMap<String, u64>,
    anomalies: &BTreeMap<String, u64>,
) -> Result<(), GenerateError> {
    let path = dir.join("summary.json");
    let last = options.start + chrono::Days::new(u64::from(options.days.saturating_sub(1)));
    let file = SummaryFile {
        summary: GenerateSummary {
            drops_dir: PathBuf::from("drops"),
            truth_dir: PathBuf::from("truth"),
            ..summary.clone()
        },
        first_data_date: options.start.format("%Y-%m-%d").to_string(),
        last_data_date: last.format("%Y-%m-%d").to_string(),
        days: options.days,
        subs_per_day: options.subs_per_day,
        seed: options.seed,
        variant_families: options.variants,
        variants_written,
        anomalies,
    };
    let mut json =
        serde_json::to_vec_pretty(&file).map_err(|source| GenerateError::Json { path: path.clone(), source })?;
    json.push(b'\n');
    std::fs::write(&path, json).map_err(|source| GenerateError::Write { path, source })
}
