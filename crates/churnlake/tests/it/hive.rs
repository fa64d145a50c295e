//! The lake as a notebook sees it: polars' own Parquet scan over the directory with Hive
//! partitioning, typed columns, and every written row accounted for by the manifest.

use churnlake_generate::{Preset, generate};
use polars::prelude::*;

use crate::support::{ingest, path, run_ok};

#[test]
fn the_lake_reads_back_through_a_hive_partitioned_parquet_scan() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut opts = Preset::Demo.options(dir.path().join("gen"));
    opts.days = 45;
    opts.subs_per_day = 8;
    let drops = generate(&opts).expect("generation succeeds").drops_dir;
    let lake = dir.path().join("lake");
    ingest(&drops, &lake);

    let manifest: serde_json::Value =
        serde_json::from_str(&run_ok(&["drops", "--lake", path(&lake), "--format", "json"], &[0])).expect("JSON");
    let written = |kind: &str| -> u64 {
        manifest
            .as_array()
            .expect("an array of entries")
            .iter()
            .filter(|e| e["kind"] == kind && e["status"] == "ingested")
            .map(|e| e["rows_written"].as_u64().unwrap_or(0))
            .sum()
    };

    for (table, date_column) in
        [("subscriptions", "create_date"), ("cancellations", "cancel_date"), ("subscriber_events", "event_date")]
    {
        let glob = format!("{}/raw/{table}/**/*.parquet", path(&lake));
        let args = ScanArgsParquet {
            hive_options: HiveOptions { enabled: Some(true), ..HiveOptions::new_enabled() },
            ..Default::default()
        };
        let df = LazyFrame::scan_parquet(PlRefPath::new(glob.as_str()), args)
            .expect("scan plans")
            .collect()
            .expect("scan runs");
        assert_eq!(df.height() as u64, written(table), "{table}: rows in the lake vs the manifest");
        let schema = df.schema();
        assert_eq!(schema.get("data_date"), Some(&DataType::Date), "{table}: partition column type");
        assert_eq!(schema.get(date_column), Some(&DataType::Date), "{table}: {date_column}");
        assert_eq!(schema.get("source_line"), Some(&DataType::Int64));
        assert_eq!(
            schema.get("drop_stamp"),
            Some(&DataType::Datetime(TimeUnit::Milliseconds, None)),
            "{table}: drop_stamp"
        );
        if table != "subscriber_events" {
            assert_eq!(schema.get("price"), Some(&DataType::Decimal(18, 2)), "{table}: price");
            assert_eq!(schema.get("subscription_id"), Some(&DataType::String), "{table}: ids are strings");
        } else {
            assert_eq!(schema.get("event_code"), Some(&DataType::Int32));
        }
        // every row's partition agrees with its drop stamp (data date = stamp date - 1)
        let mismatched = df
            .lazy()
            .filter(
                (col("drop_stamp").cast(DataType::Date).cast(DataType::Int32) - col("data_date").cast(DataType::Int32))
                    .neq(lit(1)),
            )
            .collect()
            .expect("filter runs")
            .height();
        assert_eq!(mismatched, 0, "{table}: data_date differs from stamp date - 1");
    }
}
