//! The lake's paths: the names existing lakes hold stay as they are, every output path
//! ingest builds parses back to what built it, and nothing else parses as an output.

use proptest::prelude::*;

use churnlake_lake::{
    DERIVED_TABLES, LOCK_FILE, OutputArea, OutputPath, OutputStem, ReportKind, derived_path, derived_sql_name,
    format_partition, manifest_entry_path, output_stem, parse_output_path, parse_output_stem, parse_partition,
    quarantine_file_path, raw_file_path, raw_table_dir, staging_path,
};

use crate::support::date;

const HASH: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

#[test]
fn the_names_existing_lakes_hold_are_unchanged() {
    let d = date(2023, 5, 1);
    let stem = output_stem(ReportKind::CrmSubscriptions, HASH);
    assert_eq!(stem, "crm_subscriptions-0123456789abcdef");
    assert_eq!(
        raw_file_path("crm_subscriptions", d, &stem),
        "raw/crm_subscriptions/data_date=2023-05-01/crm_subscriptions-0123456789abcdef.parquet"
    );
    assert_eq!(
        quarantine_file_path(d, &stem),
        "quarantine/data_date=2023-05-01/crm_subscriptions-0123456789abcdef.parquet"
    );
    assert_eq!(raw_table_dir("subscriber_events"), "raw/subscriber_events/");
    assert_eq!(
        DERIVED_TABLES.map(derived_path),
        [
            "derived/subscriptions.parquet",
            "derived/subscribers.parquet",
            "derived/series.parquet",
            "derived/revenue.parquet",
            "derived/cohorts.parquet"
        ]
    );
    assert_eq!(
        DERIVED_TABLES.map(derived_sql_name),
        ["derived_subscriptions", "derived_subscribers", "derived_series", "derived_revenue", "derived_cohorts"]
    );
    assert_eq!(manifest_entry_path("a.csv.0123456789abcdef"), "_manifest/a.csv.0123456789abcdef.json");
    assert_eq!(staging_path("crash-x"), "_staging/crash-x");
    assert_eq!(LOCK_FILE, "_lock");
}

#[test]
fn every_output_path_parses_back_to_what_built_it() {
    for kind in ReportKind::ALL {
        for d in [date(2023, 5, 1), date(2024, 2, 29), date(1999, 12, 31)] {
            let stem = output_stem(kind, HASH);
            let expected_stem = OutputStem { kind, short_hash: "0123456789abcdef".to_owned() };
            assert_eq!(parse_output_stem(&stem), Some(expected_stem.clone()), "{stem}");
            for (area, path) in [
                (OutputArea::Raw, raw_file_path(kind.as_str(), d, &stem)),
                (OutputArea::Quarantine, quarantine_file_path(d, &stem)),
            ] {
                let parsed = parse_output_path(&path);
                assert_eq!(parsed, Some(OutputPath { area, data_date: d, stem: expected_stem.clone() }), "{path}");
                assert_eq!(parsed.map(|p| p.relative_path()).as_deref(), Some(path.as_str()));
                if area == OutputArea::Raw {
                    assert!(path.starts_with(&raw_table_dir(kind.as_str())), "{path}");
                    for other in ReportKind::ALL.into_iter().filter(|other| *other != kind) {
                        assert!(!path.starts_with(&raw_table_dir(other.as_str())), "{path} under {other}");
                    }
                }
            }
        }
    }
}

#[test]
fn only_output_names_parse_as_outputs() {
    for path in [
        "raw/subscriptions/data_date=2023-05-01/subscriptions-0123456789abcdef.parquet",
        "raw/subscriber_events/data_date=2023-05-01/subscriber_events-0123456789abcdef.parquet",
        "quarantine/data_date=2023-05-01/orders-0123456789abcdef.parquet",
    ] {
        assert!(parse_output_path(path).is_some(), "{path}");
    }
    for path in [
        "raw/subscriptions/data_date=2023-05-01/notes.txt",
        "raw/subscriptions/data_date=2023-05-01/subscriptions-0123456789abcdef.csv",
        "raw/subscriptions/data_date=2023-05-01/subscriptions-0123456789ABCDEF.parquet",
        "raw/subscriptions/data_date=2023-05-01/orders-0123456789abcdef.parquet",
        "raw/subscriptions/data_date=2023-13-01/subscriptions-0123456789abcdef.parquet",
        "raw/subscriptions/subscriptions-0123456789abcdef.parquet",
        "raw/subscriptions/data_date=2023-05-01/old/subscriptions-0123456789abcdef.parquet",
        "/raw/subscriptions/data_date=2023-05-01/subscriptions-0123456789abcdef.parquet",
        "quarantine/data_date=2023-05-01/mine-0123456789abcdef.parquet",
        "quarantine/data_date=2023-05-01/orders-0123456789abcde.parquet",
        "quarantine/data_date=2023-05-01/orders-0123456789abcdef0.parquet",
        "quarantine/date=2023-05-01/orders-0123456789abcdef.parquet",
        "derived/subscriptions.parquet",
        "_manifest/a.csv.0123456789abcdef.json",
        "_staging/4242-17f3a-0",
        "_lock",
    ] {
        assert_eq!(parse_output_path(path), None, "{path}");
    }
}

#[test]
fn partitions_are_real_days() {
    for d in [date(2023, 5, 1), date(2024, 2, 29), date(1970, 1, 1)] {
        assert_eq!(parse_partition(&format_partition(d)), Some(d));
    }
    for segment in ["data_date=2023-02-29", "data_date=20230501", "date=2023-05-01", "data_date=", "2023-05-01"] {
        assert_eq!(parse_partition(segment), None, "{segment}");
    }
}

fn any_kind() -> impl Strategy<Value = ReportKind> {
    proptest::sample::select(ReportKind::ALL.to_vec())
}

proptest! {
    #[test]
    fn outputs_round_trip_for_any_day_and_hash(
        kind in any_kind(),
        days in 0i64..40_000,
        hash in "[0-9a-f]{64}",
        quarantined in any::<bool>(),
    ) {
        let d = date(1970, 1, 1) + chrono::TimeDelta::days(days);
        let stem = output_stem(kind, &hash);
        let path = if quarantined { quarantine_file_path(d, &stem) } else { raw_file_path(kind.as_str(), d, &stem) };
        let parsed = parse_output_path(&path).expect("an output path");
        prop_assert_eq!(parsed.area, if quarantined { OutputArea::Quarantine } else { OutputArea::Raw });
        prop_assert_eq!((parsed.data_date, parsed.stem.kind), (d, kind));
        prop_assert_eq!(parsed.stem.short_hash.as_str(), &hash[..16]);
        prop_assert_eq!(parsed.relative_path(), path);
    }
}
