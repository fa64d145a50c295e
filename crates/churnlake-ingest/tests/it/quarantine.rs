//! Deliberately broken files (`tests/fixtures/broken/`): every row that cannot be typed
//! is in the quarantine with its file, line, column, value and reason, and every file
//! accounts for every row it read.

use arrow::record_batch::RecordBatch;
use tempfile::TempDir;

use churnlake_ingest::{IngestReport, Outcome};
use churnlake_lake::{FileStatus, quarantine_schema};

use crate::support::{column, entry, fixture, options, outcome, read_output, run};

async fn ingested() -> (TempDir, IngestReport) {
    let lake = TempDir::new().expect("a temporary lake");
    let report = run(&fixture("broken"), lake.path(), &options()).await;
    (lake, report)
}

fn quarantined(lake: &TempDir, report: &IngestReport, name: &str) -> RecordBatch {
    let batch = read_output(lake.path(), entry(report, name), "quarantine");
    assert_eq!(batch.schema(), quarantine_schema());
    assert!(column(&batch, "source_file").iter().all(|f| f == name));
    batch
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_file_accounts_for_every_row() {
    let (_lake, report) = ingested().await;
    assert_eq!(report.files.len(), 4);
    for file in &report.files {
        let entry = file.entry.as_ref().expect("recorded");
        assert_eq!(entry.rows_read, entry.rows_written + entry.rows_quarantined, "{}", file.name);
    }
    assert_eq!(report.rows_read, report.rows_written + report.rows_quarantined);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_values_and_wrong_widths_are_quarantined_row_by_row() {
    let name = "acme_subscription_05102023060000.csv";
    let (lake, report) = ingested().await;
    let entry = entry(&report, name);
    assert_eq!(outcome(&report, name).status, Outcome::Ingested);
    assert_eq!((entry.rows_read, entry.rows_written, entry.rows_quarantined), (5, 1, 4));
    assert_eq!(column(&read_output(lake.path(), entry, "subscriptions"), "subscription_id"), ["500101"]);

    let batch = quarantined(&lake, &report, name);
    assert_eq!(column(&batch, "source_line"), ["3", "4", "5", "6"]);
    assert_eq!(column(&batch, "column"), ["Create Date", "null", "Price", "Subscription ID"]);
    assert_eq!(column(&batch, "value"), ["05/32/2023", "null", "12.505", ""]);
    let reasons = column(&batch, "reason");
    assert!(reasons[0].starts_with("not a date"), "{}", reasons[0]);
    assert_eq!(reasons[1], "expected 4 fields (as in the header), found 3");
    assert!(reasons[2].contains("more than 2 decimal places"), "{}", reasons[2]);
    assert_eq!(reasons[3], "required value is empty");
    assert_eq!(
        column(&batch, "raw_record"),
        [
            "500102,10102,05/32/2023,12.50",
            "500103,10103,05/09/2023",
            "500104,10104,05/09/2023,12.505",
            ",10105,05/09/2023,1.00",
        ]
    );
    assert!(column(&batch, "report_kind").iter().all(|k| k == "subscriptions"));
    assert!(column(&batch, "drop_stamp").iter().all(|s| s == "2023-05-10T06:00:00"));
    let path = &entry.outputs.iter().find(|o| o.table == "quarantine").expect("a quarantine file").path;
    assert!(path.starts_with("quarantine/data_date=2023-05-09/subscriptions-"), "{path}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_subscription_id_column_fails_the_file_and_keeps_its_rows() {
    let name = "acme_cancelled_subscriptions_05102023060000.csv";
    let (lake, report) = ingested().await;
    let file = outcome(&report, name);
    assert_eq!(file.status, Outcome::Failed);
    let error = file.error.as_deref().expect("an error");
    assert!(error.contains(name) && error.contains("Subscription ID"), "{error}");
    assert!(error.contains("Sub ID,Email,Cancel Date"), "the header found: {error}");
    let entry = entry(&report, name);
    assert_eq!(entry.status, FileStatus::Failed);
    assert_eq!((entry.rows_read, entry.rows_written, entry.rows_quarantined), (2, 0, 2));
    let batch = quarantined(&lake, &report, name);
    assert_eq!(column(&batch, "source_line"), ["2", "3"]);
    assert_eq!(column(&batch, "column"), ["Subscription ID", "Subscription ID"]);
    assert_eq!(column(&batch, "raw_record"), ["500201,a@example.com,05/09/2023", "500202,b@example.com,05/09/2023"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn binary_garbage_is_quarantined_whole_and_fails_the_file_by_name() {
    let name = "acme_crm_subscriber_events_05102023060000.csv";
    let (lake, report) = ingested().await;
    let file = outcome(&report, name);
    assert_eq!(file.status, Outcome::Failed, "no row could be typed");
    let error = file.error.as_deref().expect("an error");
    assert!(error.starts_with(&format!("{name}: none of its 7 rows could be read as subscriber_events")), "{error}");
    assert!(error.contains("the first, line 1: "), "{error}");
    let entry = entry(&report, name);
    assert_eq!(entry.status, FileStatus::Failed);
    assert_eq!(entry.error.as_deref(), Some(error));
    assert_eq!((entry.rows_read, entry.rows_written, entry.rows_quarantined), (7, 0, 7));
    assert_eq!(entry.encoding.as_deref(), Some("windows-1252"));
    assert_eq!(entry.layout, None);
    assert_eq!(entry.rows_written, 0);
    assert!(entry.rows_quarantined > 0);
    assert!(!entry.outputs.iter().any(|o| o.table == "subscriber_events"));
    let batch = quarantined(&lake, &report, name);
    // Rows of another width say so; a 5-field row of garbage names the value that failed.
    for (reason, column) in column(&batch, "reason").iter().zip(column(&batch, "column")) {
        assert!(reason.starts_with("expected 5 or 6 fields") || column != "null", "{reason}");
    }
    assert!(column(&batch, "column").contains(&"event_code".to_owned()));
    assert!(column(&batch, "raw_record").iter().all(|r| !r.is_empty()));
    let lines: Vec<u64> = column(&batch, "source_line").iter().map(|l| l.parse().expect("a number")).collect();
    assert!(lines.windows(2).all(|w| w[0] <= w[1]) && lines[0] == 1, "{lines:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_quote_left_open_at_the_end_of_the_file() {
    let name = "acme_subscription_05112023060000.csv";
    let (lake, report) = ingested().await;
    let entry = entry(&report, name);
    assert_eq!((entry.rows_read, entry.rows_written, entry.rows_quarantined), (2, 1, 1));
    let batch = quarantined(&lake, &report, name);
    assert_eq!(column(&batch, "source_line"), ["3"]);
    assert!(column(&batch, "reason")[0].contains("unterminated quoted field"));
    assert_eq!(column(&batch, "raw_record"), ["500302,10302,\"Never closed\n500303,10303,Price"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_files_are_retried_and_the_rest_is_left_alone() {
    let (lake, _first) = ingested().await;
    let second = run(&fixture("broken"), lake.path(), &crate::support::options()).await;
    assert_eq!(outcome(&second, "acme_cancelled_subscriptions_05102023060000.csv").status, Outcome::Failed);
    assert_eq!(outcome(&second, "acme_crm_subscriber_events_05102023060000.csv").status, Outcome::Failed);
    assert_eq!((second.already_present, second.failed), (2, 2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_report_lists_every_file_with_quarantined_rows() {
    let (_lake, report) = ingested().await;
    let listed: Vec<(&str, Outcome, u64, u64)> =
        report.quarantined_files.iter().map(|f| (f.name.as_str(), f.status, f.rows_read, f.rows_quarantined)).collect();
    assert_eq!(
        listed,
        [
            ("acme_cancelled_subscriptions_05102023060000.csv", Outcome::Failed, 2, 2),
            ("acme_crm_subscriber_events_05102023060000.csv", Outcome::Failed, 7, 7),
            ("acme_subscription_05102023060000.csv", Outcome::Ingested, 5, 4),
            ("acme_subscription_05112023060000.csv", Outcome::Ingested, 2, 1),
        ]
    );
    for file in &report.quarantined_files {
        let path = file.quarantine.as_deref().expect("a quarantine file");
        assert!(path.starts_with("quarantine/data_date=2023-05-"), "{path}");
    }
    let json = serde_json::to_value(&report).expect("serialises");
    assert_eq!(json["quarantined_files"][2]["rows_quarantined"], 4);
}

/// Keeps the warnings and errors, as a subscriber at the default (warn) verbosity sees
/// them: without the fields of the INFO spans around them.
#[derive(Clone, Default)]
struct WarningsSeen {
    events: std::sync::Arc<std::sync::Mutex<Vec<(tracing::Level, String)>>>,
}

struct Fields(String);

impl tracing::field::Visit for Fields {
    fn record_debug(&mut self, field: &tracing::field::Field, value: &dyn std::fmt::Debug) {
        self.0.push_str(&format!("{}={value:?} ", field.name()));
    }
    fn record_str(&mut self, field: &tracing::field::Field, value: &str) {
        self.0.push_str(&format!("{}={value} ", field.name()));
    }
}

impl tracing::Subscriber for WarningsSeen {
    fn enabled(&self, metadata: &tracing::Metadata<'_>) -> bool {
        *metadata.level() <= tracing::Level::WARN
    }
    fn new_span(&self, _span: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _span: &tracing::span::Id, _values: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _span: &tracing::span::Id, _follows: &tracing::span::Id) {}
    fn event(&self, event: &tracing::Event<'_>) {
        let mut fields = Fields(String::new());
        event.record(&mut fields);
        self.events.lock().expect("not poisoned").push((*event.metadata().level(), fields.0));
    }
    fn enter(&self, _span: &tracing::span::Id) {}
    fn exit(&self, _span: &tracing::span::Id) {}
}

const LOG_CHILD_ENV: &str = "CHURNLAKE_INGEST_LOG_CHILD";

/// Runs alone in a child process: callsite interest is process-wide, so the scoped
/// subscriber must not share the process with other tests' logging.
#[test]
#[ignore = "run by `warnings_and_errors_name_their_file_at_the_default_verbosity` in a child process"]
fn warnings_child() {
    if std::env::var(LOG_CHILD_ENV).is_err() {
        return;
    }
    let seen = WarningsSeen::default();
    let lake = TempDir::new().expect("a temporary lake");
    tracing::subscriber::with_default(seen.clone(), || {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime");
        runtime.block_on(run(&fixture("broken"), lake.path(), &options()));
    });
    let events = seen.events.lock().expect("not poisoned").clone();
    let about = |level: tracing::Level, name: &str| {
        events.iter().any(|(l, fields)| *l == level && fields.contains(&format!("file={name} ")))
    };
    assert!(about(tracing::Level::ERROR, "acme_crm_subscriber_events_05102023060000.csv"), "{events:?}");
    assert!(about(tracing::Level::ERROR, "acme_cancelled_subscriptions_05102023060000.csv"), "{events:?}");
    assert!(about(tracing::Level::WARN, "acme_subscription_05102023060000.csv"), "{events:?}");
    assert!(about(tracing::Level::WARN, "acme_subscription_05112023060000.csv"), "{events:?}");
    assert!(events.iter().all(|(_, fields)| fields.contains("file=")), "{events:?}");
}

#[test]
fn warnings_and_errors_name_their_file_at_the_default_verbosity() {
    let output = std::process::Command::new(std::env::current_exe().expect("this test binary"))
        .args(["quarantine::warnings_child", "--exact", "--ignored", "--test-threads=1", "--nocapture"])
        .env(LOG_CHILD_ENV, "1")
        .output()
        .expect("the child runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(output.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&output.stderr));
    assert!(stdout.contains("1 passed"), "{stdout}");
}
