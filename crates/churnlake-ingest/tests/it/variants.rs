//! Every file variant of FORMATS.md, from `tests/fixtures/variants/`, read back typed.

use std::sync::Mutex;

use arrow::datatypes::DataType;
use arrow::record_batch::RecordBatch;
use tempfile::TempDir;

use churnlake_ingest::{FileOutcome, IngestOptions, IngestReport, Outcome, Progress};
use churnlake_lake::{ReportKind, StampStyle, raw_file_path, report_schema};

use crate::support::{column, entry, fixture, options, outcome, read_output, run};

async fn ingested() -> (TempDir, IngestReport) {
    let lake = TempDir::new().expect("a temporary lake");
    let report = run(&fixture("variants"), lake.path(), &options()).await;
    (lake, report)
}

async fn table(name: &str, table: &str) -> RecordBatch {
    let (lake, report) = ingested().await;
    read_output(lake.path(), entry(&report, name), table)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_variant_is_ingested_without_quarantine() {
    let (_lake, report) = ingested().await;
    assert_eq!(report.skipped, ["notes/README.txt"]);
    assert_eq!(report.files.len(), 13);
    for file in &report.files {
        assert_eq!(file.status, Outcome::Ingested, "{}: {:?}", file.name, file.error);
    }
    assert_eq!((report.ingested, report.failed, report.rows_quarantined), (13, 0, 0));
    assert_eq!(report.rows_read, report.rows_written);
    assert_eq!(report.rows_read, 20);
    assert!(report.quarantined_files.is_empty());
    // by stamp, then name
    let names: Vec<&str> = report.files.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names[0], "acme_subscription_04302023060211.csv");
    assert_eq!(names[12], "acme_subscription_20230505_full.csv");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscription_report_with_money_flags_times_and_unknown_columns() {
    let name = "acme_subscription_05022023060211.csv";
    let (lake, report) = ingested().await;
    let entry = entry(&report, name);
    assert_eq!(entry.kind, ReportKind::Subscriptions);
    assert_eq!(entry.data_date.to_string(), "2023-05-01");
    assert_eq!(entry.stamp.to_string(), "2023-05-02 06:02:11");
    assert_eq!(entry.stamp_style, StampStyle::Mmddyyyyhhmmss);
    assert_eq!(entry.encoding.as_deref(), Some("utf-8"));
    assert_eq!((entry.rows_read, entry.rows_written, entry.rows_quarantined), (2, 2, 0));
    let stem = format!("subscriptions-{}", &entry.content_hash[..16]);
    assert_eq!(entry.outputs[0].path, raw_file_path("subscriptions", entry.data_date, &stem));
    assert_eq!(entry.outputs.len(), 1, "no quarantine file for a clean file");

    let batch = read_output(lake.path(), entry, "subscriptions");
    assert_eq!(batch.schema(), report_schema(), "every report column, in the lake's schema");
    assert_eq!(column(&batch, "subscription_id"), ["500001", "500002"]);
    assert_eq!(column(&batch, "user_id"), ["10001", "10002"], "Ordergroove User ID");
    assert_eq!(column(&batch, "create_date"), ["2023-05-01", "2023-05-01"]);
    assert_eq!(column(&batch, "created_at"), ["2023-05-01T09:12:40", "2023-05-01T14:03:05"]);
    assert_eq!(column(&batch, "cancelled_within_24h"), ["null", "true"]);
    assert_eq!(column(&batch, "cancel_date"), ["null", "2023-05-01"]);
    assert_eq!(column(&batch, "cancelled_at"), ["null", "2023-05-01T18:30:00"]);
    assert_eq!(column(&batch, "cancel_reason"), ["null", "Too much tea, honestly"]);
    assert_eq!(column(&batch, "product"), ["Green Tea Tin 100g", "Oolong\nSampler"]);
    assert_eq!(column(&batch, "frequency_days"), ["28", "56"]);
    assert_eq!(column(&batch, "reminder_days"), ["3", "null"]);
    assert_eq!(column(&batch, "quantity"), ["1", "2"]);
    assert_eq!(column(&batch, "price"), ["1234.50", "24.00"]);
    assert_eq!(column(&batch, "discount_price"), ["null", "21.60"]);
    assert_eq!(column(&batch, "extra_data_reporting"), ["campaign=spring", "null"]);
    assert_eq!(column(&batch, "extra_columns"), [r#"{"Loyalty Tier":"Gold"}"#, "null"]);
    assert_eq!(column(&batch, "merchant"), ["null", "null"], "absent from the source");
    assert_eq!(column(&batch, "source_file"), [name, name]);
    assert_eq!(column(&batch, "source_line"), ["2", "3"]);
    assert_eq!(column(&batch, "report_kind"), ["subscriptions", "subscriptions"]);
    assert_eq!(column(&batch, "drop_stamp"), ["2023-05-02T06:02:11", "2023-05-02T06:02:11"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bom_crlf_iso_dates_epoch_and_fourteen_digit_values() {
    let name = "SubscriptionCSV_05032023080530";
    let (lake, report) = ingested().await;
    let entry = entry(&report, name);
    assert_eq!(entry.encoding.as_deref(), Some("utf-8-bom"));
    assert_eq!(entry.data_date.to_string(), "2023-05-02");
    let batch = read_output(lake.path(), entry, "subscriptions");
    assert_eq!(column(&batch, "merchant"), ["acme", "acme"]);
    assert_eq!(column(&batch, "create_date"), ["2023-05-02", "2023-05-02"]);
    assert_eq!(column(&batch, "created_at"), ["2023-05-02T10:20:31", "null"]);
    assert_eq!(column(&batch, "start_date"), ["2023-05-02", "2023-05-02"]);
    assert_eq!(column(&batch, "guest_checkout"), ["true", "false"]);
    assert_eq!(column(&batch, "first_name"), ["Zoë", "Bob"]);
    assert_eq!(column(&batch, "frequency_days"), ["14", "30"], "a `Frequency` header");
    assert_eq!(column(&batch, "reminder_days"), ["2", "null"], "a `Reminder` header");
    assert_eq!(column(&batch, "price"), ["12.50", "0.99"]);
    assert_eq!(column(&batch, "cancel_date"), ["2023-05-02", "null"], "epoch seconds");
    assert_eq!(column(&batch, "cancelled_at"), ["2023-05-02T08:00:00", "null"]);
    assert_eq!(column(&batch, "last_order_date"), ["2023-05-02", "null"], "MMDDYYYYHHMMSS");
    assert_eq!(column(&batch, "orders_placed"), ["1", "0"]);
    assert_eq!(column(&batch, "merchant_order_id"), ["MO-77", "MO-78"]);
    assert_eq!(column(&batch, "source_line"), ["2", "3"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn windows_1252_cancellations_with_curly_quotes() {
    let name = "acme_cancelled_subscriptions_20230502_delta.csv";
    let (lake, report) = ingested().await;
    let entry = entry(&report, name);
    assert_eq!(entry.kind, ReportKind::Cancellations);
    assert_eq!(entry.encoding.as_deref(), Some("windows-1252"));
    assert_eq!(entry.stamp_style, StampStyle::Yyyymmdd);
    assert_eq!(entry.delivery.as_deref(), Some("delta"));
    assert_eq!(entry.data_date.to_string(), "2023-05-01");
    let batch = read_output(lake.path(), entry, "cancellations");
    assert_eq!(column(&batch, "first_name"), ["\u{201c}Ann\u{201d}", "Café"]);
    assert_eq!(column(&batch, "last_name"), ["O\u{2019}Brien", "Smith"]);
    assert_eq!(column(&batch, "create_date"), ["2023-04-30", "2023-04-30"]);
    assert_eq!(column(&batch, "created_at"), ["2023-04-30T10:11:12", "null"]);
    assert_eq!(column(&batch, "cancelled_within_24h"), ["true", "false"]);
    assert_eq!(column(&batch, "cancel_date"), ["2023-05-01", "2023-05-01"], "M/D/YYYY");
    assert_eq!(column(&batch, "cancelled_at"), ["2023-05-01T09:15:00", "null"]);
    assert_eq!(column(&batch, "cancel_reason"), ["Said \u{201c}no thanks\u{201d}", "null"]);
    assert_eq!(column(&batch, "report_kind"), ["cancellations", "cancellations"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn header_only_and_zero_byte_files_are_empty_drops() {
    let (_lake, report) = ingested().await;
    for name in ["SubscriptionsCancelledCSV_05042023080511", "acme_subscription_20230505_full.csv"] {
        let entry = entry(&report, name);
        assert_eq!(outcome(&report, name).status, Outcome::Ingested);
        assert_eq!((entry.rows_read, entry.rows_written, entry.rows_quarantined), (0, 0, 0));
        assert!(entry.outputs.is_empty(), "{name}: nothing to write");
    }
    assert_eq!(entry(&report, "acme_subscription_20230505_full.csv").delivery.as_deref(), Some("full"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn five_column_events() {
    let name = "crm_subscriber_events_05022023080044.csv";
    let (lake, report) = ingested().await;
    let entry = entry(&report, name);
    assert_eq!(entry.layout.as_deref(), Some("5 columns"));
    let batch = read_output(lake.path(), entry, "subscriber_events");
    assert_eq!(batch.schema(), churnlake_lake::events_schema());
    assert_eq!(column(&batch, "merchant_user_id"), ["M-10001", "M-10002", "M-10003"]);
    assert_eq!(column(&batch, "email_address"), ["ann@example.com", "ben@example.com", "cara, jr@example.com"]);
    assert_eq!(column(&batch, "extra_field"), ["null", "null", "null"]);
    assert_eq!(column(&batch, "event_code"), ["9", "42", "1"]);
    assert_eq!(column(&batch, "event_label"), ["reactivated subscription", "unknown", "subscription started"]);
    assert_eq!(column(&batch, "event_date"), ["2023-05-01", "2023-05-01", "2023-05-01"]);
    assert_eq!(column(&batch, "event_at"), ["2023-05-01T17:40:00", "null", "null"]);
    assert_eq!(column(&batch, "source_line"), ["1", "2", "3"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn six_column_events_with_a_header_line() {
    let name = "acme_crm_subscriber_events_20230503_delta.csv";
    let (lake, report) = ingested().await;
    let entry = entry(&report, name);
    assert_eq!(entry.layout.as_deref(), Some("6 columns"));
    assert_eq!((entry.rows_read, entry.rows_written), (2, 2), "the header is not a row");
    let batch = read_output(lake.path(), entry, "subscriber_events");
    assert_eq!(column(&batch, "public_subscription_id")[0], "ab000000000000000000000000500001");
    assert_eq!(column(&batch, "extra_field"), ["web", "null"]);
    assert_eq!(column(&batch, "event_code"), ["5", "12"]);
    assert_eq!(column(&batch, "event_label"), ["subscription cancelled", "changed next order date"]);
    assert_eq!(column(&batch, "event_at"), ["2023-05-02T09:00:00", "null"]);
    assert_eq!(column(&batch, "source_line"), ["2", "3"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn six_column_events_without_a_header_line() {
    let name = "acme_crm_subscriber_events_05042023070000.csv";
    let (lake, report) = ingested().await;
    let entry = entry(&report, name);
    assert_eq!(entry.layout.as_deref(), Some("6 columns"));
    assert_eq!((entry.rows_read, entry.rows_written, entry.rows_quarantined), (3, 3, 0));
    assert_eq!(entry.data_date.to_string(), "2023-05-03");
    let batch = read_output(lake.path(), entry, "subscriber_events");
    assert_eq!(
        column(&batch, "public_subscription_id"),
        ["ab000000000000000000000000500003", "ab000000000000000000000000500004", "ab000000000000000000000000500001"]
    );
    assert_eq!(column(&batch, "merchant_user_id"), ["M-10003", "M-10004", "M-10001"]);
    assert_eq!(column(&batch, "email_address"), ["cara@example.com", "dan@example.com", "ann@example.com"]);
    assert_eq!(column(&batch, "extra_field"), ["app", "null", "web"]);
    assert_eq!(column(&batch, "event_code"), ["1", "2", "15"]);
    assert_eq!(column(&batch, "event_label"), ["subscription started", "order placed", "skipped next shipment"]);
    assert_eq!(column(&batch, "event_date"), ["2023-05-03", "2023-05-03", "2023-05-03"]);
    assert_eq!(column(&batch, "event_at"), ["2023-05-03T10:15:00", "null", "2023-05-03T11:30:00"]);
    assert_eq!(column(&batch, "source_line"), ["1", "2", "3"], "no line taken for a header");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plain_date_stamp_one_zero_flags_a_date_time_create_time_and_loose_header_spellings() {
    let name = "acme_subscription_20230504.csv";
    let (lake, report) = ingested().await;
    let entry = entry(&report, name);
    assert_eq!(entry.stamp_style, StampStyle::Yyyymmdd);
    assert_eq!(entry.delivery, None, "no `_delta` / `_full`");
    assert_eq!(entry.stamp.to_string(), "2023-05-04 00:00:00");
    assert_eq!(entry.data_date.to_string(), "2023-05-03");
    assert_eq!((entry.rows_read, entry.rows_written, entry.rows_quarantined), (2, 2, 0));
    let batch = read_output(lake.path(), entry, "subscriptions");
    assert_eq!(column(&batch, "subscription_id"), ["500010", "500011"], "a `SubscriptionID` header");
    assert_eq!(column(&batch, "guest_checkout"), ["true", "false"], "1 / 0");
    assert_eq!(column(&batch, "cancelled_within_24h"), ["false", "true"], "`24 Hour Cancel (Y/blank)`: 0 / 1");
    assert_eq!(column(&batch, "create_date"), ["2023-05-03", "2023-05-03"], "the second from its Create Time");
    assert_eq!(column(&batch, "created_at"), ["2023-05-03T11:22:33", "2023-05-03T08:00:00"], "full date-times");
    assert_eq!(column(&batch, "cancel_date"), ["null", "2023-05-03"], "a `CANCEL_DATE` header");
    assert_eq!(column(&batch, "cancelled_at"), ["null", "2023-05-03T20:05:00"]);
    assert_eq!(column(&batch, "frequency_days"), ["30", "60"], "a `Frequency(days)` header");
    assert_eq!(column(&batch, "extra_columns"), ["null", "null"], "every header matched a column");
    assert_eq!(column(&batch, "drop_stamp"), ["2023-05-04T00:00:00", "2023-05-04T00:00:00"]);
}

fn types(batch: &RecordBatch) -> Vec<(String, DataType)> {
    batch.schema().fields().iter().map(|f| (f.name().clone(), f.data_type().clone())).collect()
}

fn typed(columns: &[(&str, DataType)]) -> Vec<(String, DataType)> {
    let lineage = churnlake_lake::lineage_fields();
    columns
        .iter()
        .map(|(name, data_type)| ((*name).to_owned(), data_type.clone()))
        .chain(lineage.iter().map(|f| (f.name().clone(), f.data_type().clone())))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn orders_are_typed_by_column_name() {
    use DataType::*;
    let batch = table("acme_orders_05022023061500.csv", "orders").await;
    let timestamp = Timestamp(arrow::datatypes::TimeUnit::Millisecond, None);
    let money = Decimal128(18, 2);
    assert_eq!(
        types(&batch),
        typed(&[
            ("order_id", Utf8),
            ("order_date", Date32),
            ("created_at", timestamp),
            ("customer_email", Utf8),
            ("order_total", money.clone()),
            ("shipping", money.clone()),
            ("tax_amount", money),
            ("quantity", Int64),
            ("guest_checkout", Boolean),
            ("shipping_address", Utf8),
        ])
    );
    assert_eq!(column(&batch, "order_total"), ["1024.99"]);
    assert_eq!(column(&batch, "created_at"), ["2023-05-01T10:00:00"]);
    assert_eq!(column(&batch, "guest_checkout"), ["false"]);
    assert_eq!(column(&batch, "shipping_address"), ["1 Main St, Springfield"]);
    assert_eq!(column(&batch, "report_kind"), ["orders"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inventory_and_crm_subscriptions_are_typed_by_column_name() {
    use DataType::*;
    let batch = table("acme_Inventory_Report_05022023061500.csv", "inventory").await;
    assert_eq!(
        types(&batch),
        typed(&[
            ("sku", Utf8),
            ("product_name", Utf8),
            ("qty_on_hand", Int64),
            ("unit_cost", Decimal128(18, 2)),
            ("last_updated_date", Date32),
        ])
    );
    assert_eq!(column(&batch, "unit_cost"), ["4.10"]);

    let batch = table("acme_crm_subscription_05022023061500.csv", "crm_subscriptions").await;
    assert_eq!(column(&batch, "subscription_id"), ["500001"]);
    assert_eq!(column(&batch, "create_time"), ["2023-05-01T09:12:40"], "time put on Create Date");
    assert_eq!(column(&batch, "price"), ["12.50"]);
    assert_eq!(column(&batch, "24_hour_cancel"), ["true"]);
    assert_eq!(column(&batch, "orders_placed"), ["3"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drops_in_subdirectories_are_found() {
    let (_lake, report) = ingested().await;
    let entry = entry(&report, "acme_subscription_04302023060211.csv");
    assert!(entry.source_path.ends_with("variants/archive/2023-04/acme_subscription_04302023060211.csv"));
    assert_eq!(entry.data_date.to_string(), "2023-04-29");
}

#[derive(Default)]
struct Recorder {
    started: Mutex<Option<(u64, u64)>>,
    done: Mutex<Vec<String>>,
}

impl Progress for Recorder {
    fn start(&self, files: u64, bytes: u64) {
        *self.started.lock().expect("not poisoned") = Some((files, bytes));
    }
    fn file_done(&self, outcome: &FileOutcome) {
        self.done.lock().expect("not poisoned").push(outcome.name.clone());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dry_run_types_every_file_writes_nothing_and_reports_progress() {
    let lake = TempDir::new().expect("a temporary lake");
    let recorder = Recorder::default();
    let options = IngestOptions { dry_run: true, ..options() };
    let source = churnlake_lake::Location::Local(fixture("variants"));
    let report = churnlake_ingest::ingest(&source, &crate::support::open_lake(lake.path()), &options, &recorder)
        .await
        .expect("a dry run");
    assert!(report.dry_run);
    assert_eq!(report.ingested, 13);
    // every file is typed (its would-be entry is shown), none is written
    assert!(report.files.iter().all(|f| f.entry.as_ref().is_some_and(|e| e.rows_read == e.rows_written)));
    assert_eq!(std::fs::read_dir(lake.path()).expect("the lake directory").count(), 0);
    let started = recorder.started.lock().expect("not poisoned").expect("started");
    assert_eq!(started, (13, report.bytes));
    assert_eq!(recorder.done.lock().expect("not poisoned").len(), 13);
}
