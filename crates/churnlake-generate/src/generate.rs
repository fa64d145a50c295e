//! The one entry point: plan the calendar, simulate, write the drops, then the
//! truth of what the drops reveal.

use std::path::Path;

use crate::calendar::Calendar;
use crate::drops::write_drops;
use crate::plan::Plan;
use crate::population::Population;
use crate::revenue::{RevenueTruth, write_revenue_truth};
use crate::summary::write_summary;
use crate::truth::{Truth, write_truth};
use crate::{GenerateError, GenerateOptions, GenerateSummary};

/// Generates `opts.out/drops/` (daily drop files) and `opts.out/truth/` (the
/// ground truth by forward simulation). Both directories must be absent or empty.
/// The same options always give byte-identical files.
pub fn generate(opts: &GenerateOptions) -> Result<GenerateSummary, GenerateError> {
    opts.validate()?;
    let drops_dir = opts.out.join("drops");
    let truth_dir = opts.out.join("truth");
    prepare_dir(&drops_dir)?;
    prepare_dir(&truth_dir)?;
    let calendar = Calendar::new(opts.start, opts.days);
    let plan = Plan::new(opts.days, &opts.variants, opts.seed);
    let population = Population::simulate(opts, &plan, &calendar);
    let stats = write_drops(opts, &plan, &population, &calendar, &drops_dir)?;
    // The lifecycle breakdowns group by the latest product: that of the newest row.
    let mut latest_product: Vec<u8> = population.subs.iter().map(|s| s.product).collect();
    for row in &stats.rows {
        latest_product[row.sub as usize] = row.product;
    }
    let truth = Truth::compute(&population, &stats.revealed, &latest_product, opts.days);
    write_truth(&truth_dir, &truth, &population, &stats.revealed, &latest_product, &calendar)?;
    let revenue = RevenueTruth::compute(&population, &stats.revealed, &stats.rows, &calendar, opts.days);
    write_revenue_truth(&truth_dir, &revenue, &population, &calendar, opts.variants.text)?;
    let summary = GenerateSummary {
        files: stats.files,
        bytes: stats.bytes,
        subscriptions: truth.subscription_count,
        subscribers: truth.subscriber_count,
        events: truth.event_count,
        drops_dir,
        truth_dir: truth_dir.clone(),
    };
    write_summary(&truth_dir, &summary, opts, &stats.variants, &stats.anomalies)?;
    Ok(summary)
}

/// Creates `dir`, refusing one that already holds anything (runs never mix).
fn prepare_dir(dir: &Path) -> Result<(), GenerateError> {
    let io = |source| GenerateError::Directory { path: dir.to_path_buf(), source };
    if dir.exists() {
        if std::fs::read_dir(dir).map_err(io)?.next().is_some() {
            return Err(GenerateError::OutputNotEmpty { path: dir.to_path_buf() });
        }
        return Ok(());
    }
    std::fs::create_dir_all(dir).map_err(io)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use std::collections::BTreeMap;
    use std::path::{Path, PathBuf};

    use chrono::NaiveDate;

    use super::*;
    use crate::reference::read_drops;
    use crate::revenue::REVENUE_COLUMNS;
    use crate::truth::SERIES_COLUMNS;
    use crate::{Preset, Variants};

    fn options(out: &Path, days: u32, subs_per_day: u32, seed: u64) -> GenerateOptions {
        GenerateOptions {
            out: out.to_path_buf(),
            start: NaiveDate::from_ymd_opt(2023, 1, 1).unwrap(),
            days,
            subs_per_day,
            seed,
            variants: Variants::default(),
        }
    }

    /// Every file under `dir`, by path relative to it.
    fn tree(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
        fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(root, &path, out);
                } else {
                    out.insert(path.strip_prefix(root).unwrap().to_path_buf(), std::fs::read(&path).unwrap());
                }
            }
        }
        let mut out = BTreeMap::new();
        walk(dir, dir, &mut out);
        out
    }

    fn csv(path: &Path) -> Vec<Vec<String>> {
        std::fs::read_to_string(path).unwrap().lines().map(|l| l.split(',').map(str::to_string).collect()).collect()
    }

    fn numbers(row: &[String]) -> Vec<i64> {
        row.iter().map(|v| v.parse().unwrap()).collect()
    }

    /// The series identity on every day, both levels; returns the rows.
    fn check_identity(series: &[Vec<String>]) {
        let mut previous: Option<Vec<i64>> = None;
        for row in &series[1..] {
            let n = numbers(&row[1..]);
            assert!(n.iter().all(|&v| v >= 0), "{row:?}");
            if let Some(p) = &previous {
                assert_eq!(n[0], p[0] + n[1] + n[3] - n[2], "subscriptions on {}", row[0]);
                assert_eq!(n[4], p[4] + n[5] + n[7] - n[6], "subscribers on {}", row[0]);
            }
            previous = Some(n);
        }
    }

    /// The revenue, cohort and cancellation files equal what brute force over the
    /// drops' rows says, line by line.
    fn check_revenue_files(truth: &Path, observed: &crate::reference::Observed) {
        for (file, header, expected) in [
            ("revenue.csv", format!("date,{REVENUE_COLUMNS}"), &observed.revenue),
            ("revenue_by_product.csv", format!("date,product,{REVENUE_COLUMNS}"), &observed.revenue_by_product),
            ("cohorts_subscriptions.csv", "cohort,age,size,active,share".to_string(), &observed.cohorts_subscriptions),
            ("cohorts_subscribers.csv", "cohort,age,size,active,share".to_string(), &observed.cohorts_subscribers),
            (
                "cancellation_events.csv",
                "subscription_id,cancel_date,cancel_reason,product,cancelled_within_24h,created_date,days_from_creation"
                    .to_string(),
                &observed.cancellations,
            ),
        ] {
            let text = std::fs::read_to_string(truth.join(file)).unwrap();
            let (first, rest) = text.split_once('\n').unwrap();
            assert_eq!(first, header, "{file}");
            // Lines compared one by one (a quoted value may hold a line break).
            let mut at = 0;
            for (i, want) in expected.iter().enumerate() {
                let got = rest.get(at..at + want.len() + 1);
                assert_eq!(got, Some(format!("{want}\n").as_str()), "{file} row {}", i + 1);
                at += want.len() + 1;
            }
            assert_eq!(at, rest.len(), "{file}: more rows than expected");
        }
        assert!(!observed.revenue.is_empty());
    }

    #[test]
    fn same_options_same_bytes_other_seed_other_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let a = generate(&options(&dir.path().join("a"), 70, 15, 9)).unwrap();
        let b = generate(&options(&dir.path().join("b"), 70, 15, 9)).unwrap();
        let c = generate(&options(&dir.path().join("c"), 70, 15, 10)).unwrap();
        let (ta, tb, tc) = (tree(&dir.path().join("a")), tree(&dir.path().join("b")), tree(&dir.path().join("c")));
        assert_eq!(ta.keys().collect::<Vec<_>>(), tb.keys().collect::<Vec<_>>());
        for (path, bytes) in &ta {
            assert!(tb[path] == *bytes, "{} differs", path.display());
        }
        assert_eq!((a.files, a.bytes, a.subscriptions), (b.files, b.bytes, b.subscriptions));
        assert_ne!(ta, tc);
        assert_ne!(ta[Path::new("truth/series.csv")], tc[Path::new("truth/series.csv")]);
        assert!(c.subscriptions > 0);
    }

    /// The core property: reading the drops as FORMATS.md says and applying
    /// METRICS.md by brute force gives exactly the truth files; every variant and
    /// anomaly is in the files of a 120-day run.
    #[test]
    fn drops_reveal_exactly_the_truth_and_every_variant() {
        let dir = tempfile::tempdir().unwrap();
        let summary = generate(&options(dir.path(), 120, 12, 2024)).unwrap();
        assert_eq!(summary.drops_dir, dir.path().join("drops"));
        let observed = read_drops(&summary.drops_dir);
        let truth = &summary.truth_dir;
        check_revenue_files(truth, &observed);

        let series = csv(&truth.join("series.csv"));
        assert_eq!(series[0].join(","), format!("date,{SERIES_COLUMNS}"));
        assert_eq!(series.len(), 121);
        assert_eq!(series[1][0], "2023-01-01");
        assert_eq!(series[120][0], "2023-04-30");
        assert_eq!(
            (observed.first, observed.last),
            (NaiveDate::from_ymd_opt(2023, 1, 1).unwrap(), NaiveDate::from_ymd_opt(2023, 4, 30).unwrap())
        );
        check_identity(&series);
        for (day, row) in series[1..].iter().enumerate() {
            assert_eq!(numbers(&row[1..]), observed.series[day].to_vec(), "series on {}", row[0]);
        }

        let by_product = csv(&truth.join("series_by_product.csv"));
        assert_eq!(by_product[0].join(","), format!("date,product,{SERIES_COLUMNS}"));
        let products: Vec<&String> = observed.by_product.keys().collect();
        assert_eq!(by_product.len(), 1 + 120 * products.len());
        for (i, row) in by_product[1..].iter().enumerate() {
            let (day, slot) = (i / products.len(), i % products.len());
            assert_eq!(&row[1], products[slot]);
            assert_eq!(numbers(&row[2..]), observed.by_product[products[slot]][day].to_vec(), "{row:?}");
        }
        // Subscription counts by product add up to the total.
        for (day, row) in series[1..].iter().enumerate() {
            let active: i64 = observed.by_product.values().map(|s| s[day][0]).sum();
            assert_eq!(active.to_string(), row[1]);
        }

        let subscriptions = csv(&truth.join("subscriptions.csv"));
        assert_eq!(
            subscriptions[0].join(","),
            "subscription_id,user_id,created_date,max_cancel_date,max_reactivation_date,cancel_count,reactivation_count,current_status,product"
        );
        assert_eq!(subscriptions.len() - 1, observed.subscriptions.len());
        assert_eq!(summary.subscriptions as usize, observed.subscriptions.len());
        for row in &subscriptions[1..] {
            let seen = &observed.subscriptions[&row[0]];
            assert_eq!(
                [&row[1], &row[2], &row[3], &row[4], &row[7]],
                [&seen[0], &seen[1], &seen[2], &seen[3], &seen[4]],
                "{row:?}"
            );
        }

        let subscribers = csv(&truth.join("subscribers.csv"));
        assert_eq!(
            subscribers[0].join(","),
            "user_id,first_created_date,subscriptions,active_subscriptions,current_status,cancelled_date"
        );
        assert_eq!(subscribers.len() - 1, summary.subscribers as usize);
        let last = &series[120];
        let active_subscribers = subscribers[1..].iter().filter(|r| r[4] == "active").count();
        assert_eq!(active_subscribers.to_string(), last[5]);
        let total: usize = subscribers[1..].iter().map(|r| r[2].parse::<usize>().unwrap()).sum();
        assert_eq!(total, subscriptions.len() - 1);
        for row in &subscribers[1..] {
            assert_eq!(row[5].is_empty(), row[4] == "active", "{row:?}");
        }

        let expected = [
            "name/SubscriptionCSV_<stamp>",
            "name/<client>_subscription_<stamp>.csv",
            "name/SubscriptionsCancelledCSV_<stamp>",
            "name/<client>_cancelled_subscriptions_<stamp>.csv",
            "name/crm_subscriber_events_<stamp>.csv",
            "name/<client>_crm_subscriber_events_<stamp>.csv",
            "name/<client>_orders_<stamp>.csv",
            "name/<client>_Inventory_Report_<stamp>.csv",
            "name/<client>_crm_subscription_<stamp>.csv",
            "stamp/MMDDYYYYHHMMSS",
            "stamp/YYYYMMDD",
            "stamp/YYYYMMDD_delta",
            "stamp/YYYYMMDD_full",
            "encoding/utf-8-bom",
            "encoding/windows-1252",
            "text/crlf",
            "text/trailing_blank_line",
            "text/quoted_newline",
            "text/quoted_comma",
            "text/escaped_quote",
            "empty/header_only",
            "empty/zero_byte/Events",
            "header/ordergroove_user_id",
            "header/subscription id",
            "header/ Product ",
            "header/unknown_column",
            "header/reordered",
            "header/optional_absent",
            "create_date/MM/DD/YYYY",
            "create_date/YYYY-MM-DD",
            "create_date/14-digit",
            "create_date/epoch",
            "create_time/full_date_time",
            "cancel_date/MM/DD/YYYY",
            "cancel_date/YYYY-MM-DD",
            "cancel_date/date HH:MM",
            "cancel_date/date HH:MM:SS",
            "event_date/MM/DD/YYYY",
            "event_date/YYYY-MM-DD",
            "event_date/date HH:MM",
            "event_date/date HH:MM:SS",
            "flag/Y",
            "flag/Y_N",
            "flag/true_false",
            "flag/1_0",
            "money/dollar",
            "money/thousands",
            "events/5_fields",
            "events/6_fields",
            "events/unknown_code_42",
            "events/code_5",
            "events/many_noise_codes",
            "events/orphan_code_9",
            "delivery/identical_file_resent",
            "delivery/missing_day",
            "delivery/event_in_a_later_file",
            "delivery/subscription_row_with_cancel_date",
            "delivery/overlapping_subscription_rows",
            "delivery/cancel_before_create_row",
            "delivery/known_only_from_cancellation_report",
            "lifecycle/created_before_first_day",
            "lifecycle/same_day_create_cancel",
            "lifecycle/same_day_cancel_then_reactivate_timed",
            "lifecycle/same_day_reactivate_then_cancel_timed",
            "lifecycle/same_day_pair_untimed",
            "lifecycle/same_day_pair_one_timed",
            "lifecycle/cancellation_row_dates_creation_earlier",
            "lifecycle/cancel_dated_after_last_day",
        ];
        let missing: Vec<&str> = expected.iter().copied().filter(|f| !observed.features.contains(*f)).collect();
        assert!(missing.is_empty(), "missing variants {missing:?}\nseen {:#?}", observed.features);

        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(truth.join("summary.json")).unwrap()).unwrap();
        assert_eq!(json["subscriptions"], summary.subscriptions);
        assert_eq!(json["drops_dir"], "drops");
        assert!(json["anomalies"]["resent_files"].as_u64().unwrap() >= 4);
        assert!(json["variants_written"]["encoding/windows-1252"].as_u64().unwrap() > 0);
    }

    /// With every variant off the drops are canonical and still say the truth.
    #[test]
    fn canonical_files_when_variants_are_off() {
        let dir = tempfile::tempdir().unwrap();
        let mut opts = options(dir.path(), 40, 10, 5);
        opts.variants = Variants::none();
        let summary = generate(&opts).unwrap();
        let observed = read_drops(&summary.drops_dir);
        let series = csv(&summary.truth_dir.join("series.csv"));
        check_identity(&series);
        for (day, row) in series[1..].iter().enumerate() {
            assert_eq!(numbers(&row[1..]), observed.series[day].to_vec());
        }
        check_revenue_files(&summary.truth_dir, &observed);
        for unexpected in [
            "encoding/utf-8-bom",
            "encoding/windows-1252",
            "text/crlf",
            "events/6_fields",
            "stamp/YYYYMMDD",
            "header/unknown_column",
            "delivery/missing_day",
            "lifecycle/same_day_create_cancel",
            "name/SubscriptionCSV_<stamp>",
        ] {
            assert!(!observed.features.contains(unexpected), "{unexpected}");
        }
        // Three files a day, nothing else.
        assert_eq!(summary.files, 3 * 40);
    }

    #[test]
    fn identity_holds_over_a_long_run_and_volume_is_as_asked() {
        let dir = tempfile::tempdir().unwrap();
        let summary = generate(&options(dir.path(), 500, 40, 77)).unwrap();
        let series = csv(&summary.truth_dir.join("series.csv"));
        assert_eq!(series.len(), 501);
        check_identity(&series);
        let by_product = csv(&summary.truth_dir.join("series_by_product.csv"));
        // Per-product identity too, and sums across products for subscriptions.
        let mut previous: BTreeMap<String, Vec<i64>> = BTreeMap::new();
        for row in &by_product[1..] {
            let n = numbers(&row[2..]);
            if let Some(p) = previous.get(&row[1]) {
                assert_eq!(n[0], p[0] + n[1] + n[3] - n[2]);
                assert_eq!(n[4], p[4] + n[5] + n[7] - n[6]);
            }
            previous.insert(row[1].clone(), n);
        }
        // New subscriptions a day average subs_per_day (within 6 %).
        let new: i64 = series[1..].iter().map(|r| r[2].parse::<i64>().unwrap()).sum();
        let per_day = new as f64 / 500.0;
        assert!((40.0 * 0.94..=40.0 * 1.06).contains(&per_day), "{per_day}");
    }

    /// The large preset's volume, from its options and the measured ratio of a
    /// small run: ~2 M subscriptions over ~5 years (without generating it).
    #[test]
    fn large_preset_volume_arithmetic() {
        let large = Preset::Large.options("/unused");
        let xl = Preset::Xl.options("/unused");
        let expected = u64::from(large.days) * u64::from(large.subs_per_day);
        assert!((1_900_000..=2_100_000).contains(&expected), "{expected}");
        assert_eq!(u64::from(xl.days) * u64::from(xl.subs_per_day), 10 * expected);
        // Per day: the files of a delivered day carry ~subs_per_day creation rows.
        let dir = tempfile::tempdir().unwrap();
        let mut small = large.clone();
        small.out = dir.path().to_path_buf();
        small.days = 60;
        small.subs_per_day = 200;
        let summary = generate(&small).unwrap();
        let per_day = summary.subscriptions as f64 / 60.0;
        // Created before the first day and revealed by a cancellation: a few % on top.
        assert!((190.0..=240.0).contains(&per_day), "{per_day}");
    }

    /// The drops-say-the-truth property over many seeds and sizes.
    #[test]
    fn drops_reveal_the_truth_for_many_seeds() {
        for seed in 0..12 {
            let dir = tempfile::tempdir().unwrap();
            let summary = generate(&options(dir.path(), 45 + seed as u32 * 7, 3 + seed as u32 * 2, seed)).unwrap();
            let observed = read_drops(&summary.drops_dir);
            let series = csv(&summary.truth_dir.join("series.csv"));
            check_identity(&series);
            for (day, row) in series[1..].iter().enumerate() {
                assert_eq!(numbers(&row[1..]), observed.series[day].to_vec(), "seed {seed} {}", row[0]);
            }
            check_revenue_files(&summary.truth_dir, &observed);
            let subscriptions = csv(&summary.truth_dir.join("subscriptions.csv"));
            for row in &subscriptions[1..] {
                let seen = &observed.subscriptions[&row[0]];
                assert_eq!(
                    [&row[2], &row[3], &row[4], &row[7]],
                    [&seen[1], &seen[2], &seen[3], &seen[4]],
                    "seed {seed}"
                );
            }
        }
    }

    #[test]
    fn refuses_a_non_empty_output() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("truth")).unwrap();
        std::fs::write(dir.path().join("truth/old.csv"), "x").unwrap();
        let error = generate(&options(dir.path(), 5, 3, 1)).unwrap_err();
        assert!(matches!(error, GenerateError::OutputNotEmpty { ref path } if path.ends_with("truth")), "{error}");
        let error = generate(&options(&dir.path().join("x"), 0, 3, 1)).unwrap_err();
        assert!(matches!(error, GenerateError::InvalidOptions { .. }));
    }

    #[test]
    fn tiny_runs_work() {
        for days in [1, 2, 9] {
            let dir = tempfile::tempdir().unwrap();
            let summary = generate(&options(dir.path(), days, 2, 3)).unwrap();
            let series = csv(&summary.truth_dir.join("series.csv"));
            assert_eq!(series.len(), days as usize + 1);
            check_identity(&series);
            let observed = read_drops(&summary.drops_dir);
            for (day, row) in series[1..].iter().enumerate() {
                assert_eq!(numbers(&row[1..]), observed.series[day].to_vec());
            }
            check_revenue_files(&summary.truth_dir, &observed);
        }
    }
}
