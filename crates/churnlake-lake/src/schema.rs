//! The typed schema of every lake table, defined once for ingest (which writes it)
//! and query (which reads it).
//!
//! Conventions: dates are `DATE`, times of day are folded into a `TIMESTAMP`
//! (milliseconds, no time zone: the platform's local time, never shifted), money
//! is `DECIMAL(18, 2)`, ids are strings, flags booleans, counts integers. The
//! partition column `data_date` lives in the Hive path, not in the files.

use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};

/// Precision of every money column.
pub const MONEY_PRECISION: u8 = 18;
/// Scale (decimal places) of every money column.
pub const MONEY_SCALE: i8 = 2;

/// Column names, so that no crate spells them twice.
pub mod columns {
    // lineage, on every row of every table
    pub const SOURCE_FILE: &str = "source_file";
    pub const SOURCE_LINE: &str = "source_line";
    pub const REPORT_KIND: &str = "report_kind";
    pub const DROP_STAMP: &str = "drop_stamp";
    /// Hive partition column (in the path, not in the files).
    pub const DATA_DATE: &str = "data_date";

    // subscription and cancellation reports
    pub const MERCHANT: &str = "merchant";
    pub const USER_ID: &str = "user_id";
    pub const MERCHANT_USER_ID: &str = "merchant_user_id";
    pub const CREATE_DATE: &str = "create_date";
    pub const CREATED_AT: &str = "created_at";
    pub const START_DATE: &str = "start_date";
    pub const CUSTOMER_STATUS: &str = "customer_status";
    pub const SUBSCRIPTION_ID: &str = "subscription_id";
    pub const OFFER_ID: &str = "offer_id";
    pub const MERCHANT_ORDER_ID: &str = "merchant_order_id";
    pub const GUEST_CHECKOUT: &str = "guest_checkout";
    pub const EMAIL_ADDRESS: &str = "email_address";
    pub const FIRST_NAME: &str = "first_name";
    pub const LAST_NAME: &str = "last_name";
    pub const PRODUCT: &str = "product";
    pub const PRODUCT_ID: &str = "product_id";
    pub const SKU: &str = "sku";
    pub const FREQUENCY_DAYS: &str = "frequency_days";
    pub const REMINDER_DAYS: &str = "reminder_days";
    pub const STATUS: &str = "status";
    pub const QUANTITY: &str = "quantity";
    pub const PRICE: &str = "price";
    pub const DISCOUNT_PRICE: &str = "discount_price";
    pub const CANCELLED_WITHIN_24H: &str = "cancelled_within_24h";
    pub const CANCEL_DATE: &str = "cancel_date";
    pub const CANCELLED_AT: &str = "cancelled_at";
    pub const CANCEL_REASON: &str = "cancel_reason";
    pub const ORDERS_PLACED: &str = "orders_placed";
    pub const LAST_ORDER_DATE: &str = "last_order_date";
    pub const EXTRA_DATA_REPORTING: &str = "extra_data_reporting";
    pub const PUBLIC_SUBSCRIPTION_ID: &str = "public_subscription_id";
    /// Unknown header columns, as a JSON object `{"Header": "value", ...}` (null when none).
    pub const EXTRA_COLUMNS: &str = "extra_columns";

    // subscriber events
    pub const EXTRA_FIELD: &str = "extra_field";
    pub const EVENT_CODE: &str = "event_code";
    pub const EVENT_LABEL: &str = "event_label";
    pub const EVENT_DATE: &str = "event_date";
    pub const EVENT_AT: &str = "event_at";

    // quarantine
    pub const COLUMN: &str = "column";
    pub const VALUE: &str = "value";
    pub const RAW_RECORD: &str = "raw_record";
    pub const REASON: &str = "reason";
}

fn timestamp() -> DataType {
    DataType::Timestamp(TimeUnit::Millisecond, None)
}

fn money() -> DataType {
    DataType::Decimal128(MONEY_PRECISION, MONEY_SCALE)
}

/// The lineage columns every row carries (besides the `data_date` partition).
pub fn lineage_fields() -> Vec<Field> {
    vec![
        Field::new(columns::SOURCE_FILE, DataType::Utf8, false),
        Field::new(columns::SOURCE_LINE, DataType::Int64, false),
        Field::new(columns::REPORT_KIND, DataType::Utf8, false),
        Field::new(columns::DROP_STAMP, timestamp(), false),
    ]
}

/// Schema of the `subscriptions` and `cancellations` tables (the two header reports share it).
///
/// Every known column is present in every file (null where the source lacks it),
/// so all files of a table have one schema.
pub fn report_schema() -> SchemaRef {
    use columns::*;
    let utf8 = |name| Field::new(name, DataType::Utf8, true);
    let date = |name| Field::new(name, DataType::Date32, true);
    let int = |name| Field::new(name, DataType::Int32, true);
    let mut fields = vec![
        Field::new(SUBSCRIPTION_ID, DataType::Utf8, false),
        utf8(PUBLIC_SUBSCRIPTION_ID),
        utf8(USER_ID),
        utf8(MERCHANT_USER_ID),
        utf8(MERCHANT),
        date(CREATE_DATE),
        Field::new(CREATED_AT, timestamp(), true),
        date(START_DATE),
        utf8(CUSTOMER_STATUS),
        utf8(OFFER_ID),
        utf8(MERCHANT_ORDER_ID),
        Field::new(GUEST_CHECKOUT, DataType::Boolean, true),
        utf8(EMAIL_ADDRESS),
        utf8(FIRST_NAME),
        utf8(LAST_NAME),
        utf8(PRODUCT),
        utf8(PRODUCT_ID),
        utf8(SKU),
        int(FREQUENCY_DAYS),
        int(REMINDER_DAYS),
        utf8(STATUS),
        int(QUANTITY),
        Field::new(PRICE, money(), true),
        Field::new(DISCOUNT_PRICE, money(), true),
        Field::new(CANCELLED_WITHIN_24H, DataType::Boolean, true),
        date(CANCEL_DATE),
        Field::new(CANCELLED_AT, timestamp(), true),
        utf8(CANCEL_REASON),
        int(ORDERS_PLACED),
        date(LAST_ORDER_DATE),
        utf8(EXTRA_DATA_REPORTING),
        utf8(EXTRA_COLUMNS),
    ];
    fields.extend(lineage_fields());
    Arc::new(Schema::new(fields))
}

/// Schema of the `subscriber_events` table (headerless "Member Activity" files).
pub fn events_schema() -> SchemaRef {
    use columns::*;
    let mut fields = vec![
        Field::new(PUBLIC_SUBSCRIPTION_ID, DataType::Utf8, false),
        Field::new(MERCHANT_USER_ID, DataType::Utf8, true),
        Field::new(EMAIL_ADDRESS, DataType::Utf8, true),
        Field::new(EXTRA_FIELD, DataType::Utf8, true),
        Field::new(EVENT_CODE, DataType::Int32, false),
        Field::new(EVENT_LABEL, DataType::Utf8, false),
        Field::new(EVENT_DATE, DataType::Date32, false),
        Field::new(EVENT_AT, timestamp(), true),
    ];
    fields.extend(lineage_fields());
    Arc::new(Schema::new(fields))
}

/// Schema of the quarantine: one row per input row that could not be typed.
pub fn quarantine_schema() -> SchemaRef {
    use columns::*;
    let mut fields = vec![
        Field::new(COLUMN, DataType::Utf8, true),
        Field::new(VALUE, DataType::Utf8, true),
        Field::new(REASON, DataType::Utf8, false),
        Field::new(RAW_RECORD, DataType::Utf8, false),
    ];
    fields.extend(lineage_fields());
    Arc::new(Schema::new(fields))
}

/// The label of a subscriber event code (FORMATS.md); `"unknown"` for any other code.
///
/// ```
/// assert_eq!(churnlake_lake::event_label(9), "reactivated subscription");
/// assert_eq!(churnlake_lake::event_label(42), "unknown");
/// ```
pub fn event_label(code: i32) -> &'static str {
    match code {
        1 => "subscription started",
        2 => "order placed",
        3 => "credit card issue",
        4 => "order reminder",
        5 => "subscription cancelled",
        6 => "credit card expired",
        8 => "changed shipping address",
        9 => "reactivated subscription",
        10 => "changed payment information",
        11 => "changed delivery frequency",
        12 => "changed next order date",
        13 => "changed email reminder",
        14 => "changed quantity",
        15 => "skipped next shipment",
        16 => "changed product",
        17 => "sent shipment now",
        18 => "use shipping for all",
        19 => "use billing for all",
        20 => "use payment for all",
        _ => "unknown",
    }
}
