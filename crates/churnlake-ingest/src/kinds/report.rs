//! The subscription and cancellation reports: header CSVs whose columns are found by
//! name, in any order, and typed into the lake's `report_schema()`.
//!
//! Header names are compared by their lower-case letters and digits only (case, spaces,
//! punctuation and underscores ignored: `SubscriptionID`, `CANCEL_DATE`,
//! `Frequency(days)` all match) against the spellings of FORMATS.md ([`ALIASES`]). How a column is typed follows from
//! its type in the lake schema. Columns the schema does not know are kept as a JSON
//! object in `extra_columns`. A header without `Subscription ID` fails the file.
//!
//! In the chain: called by [`crate::file`]; imports the typing toolkit ([`super`]) and the
//! leaves ([`crate::records`], [`crate::table`], [`crate::values`]).

use std::collections::{HashMap, HashSet};

use arrow::datatypes::{DataType, Schema};
use arrow::error::ArrowError;
use chrono::NaiveTime;

use churnlake_lake::columns::*;
use churnlake_lake::{lineage_fields, report_schema};

use super::{Typed, fail_file, fail_unreadable_header, fail_wide_header, is_too_wide, normalise_header, type_rows};
use crate::IngestError;
use crate::pii::{FileMask, Masker};
use crate::records::{Record, Records};
use crate::table::{Lineage, Rejection, TableBuilder, Value};
use crate::values::{parse_datetime, parse_flag, parse_integer, parse_money, parse_time_of_day};

/// Header spellings (as FORMATS.md writes them; compared through [`normalise_header`]) and the
/// lake column each fills.
const ALIASES: &[(&str, &str)] = &[
    ("subscription id", SUBSCRIPTION_ID),
    ("public subscription id", PUBLIC_SUBSCRIPTION_ID),
    ("user id", USER_ID),
    ("ordergroove user id", USER_ID),
    ("merchant user id", MERCHANT_USER_ID),
    ("merchant", MERCHANT),
    ("create date", CREATE_DATE),
    ("create time", CREATED_AT),
    ("start date", START_DATE),
    ("customer status", CUSTOMER_STATUS),
    ("offer id", OFFER_ID),
    ("merchant order id", MERCHANT_ORDER_ID),
    ("guest checkout", GUEST_CHECKOUT),
    ("email address", EMAIL_ADDRESS),
    ("email", EMAIL_ADDRESS),
    ("first name", FIRST_NAME),
    ("last name", LAST_NAME),
    ("product", PRODUCT),
    ("product id", PRODUCT_ID),
    ("sku", SKU),
    ("frequency (days)", FREQUENCY_DAYS),
    ("frequency", FREQUENCY_DAYS),
    ("reminder (days)", REMINDER_DAYS),
    ("reminder", REMINDER_DAYS),
    ("status", STATUS),
    ("quantity", QUANTITY),
    ("price", PRICE),
    ("discount price", DISCOUNT_PRICE),
    ("24 hour cancel", CANCELLED_WITHIN_24H),
    ("24 hour cancel (y/blank)", CANCELLED_WITHIN_24H),
    ("cancel date", CANCEL_DATE),
    ("cancel reason", CANCEL_REASON),
    ("orders placed", ORDERS_PLACED),
    ("last order date", LAST_ORDER_DATE),
    ("extra data - reporting", EXTRA_DATA_REPORTING),
];

/// Date columns whose values may carry a time of day, and the timestamp column that keeps it.
const TIMESTAMP_OF: &[(&str, &str)] = &[(CREATE_DATE, CREATED_AT), (CANCEL_DATE, CANCELLED_AT)];

/// The header spelling every report must have.
const SUBSCRIPTION_ID_HEADER: &str = "Subscription ID";

/// What one source column becomes. Indices are positions in `report_schema()`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    Text(usize),
    Int(usize),
    Money(usize),
    Flag(usize),
    /// A date; its time of day, when given, goes to `timestamp`.
    Date {
        index: usize,
        timestamp: Option<usize>,
    },
    /// A timestamp given as a full date-time or as a time of day on the row's `date`.
    Time {
        index: usize,
        date: Option<usize>,
    },
    /// An unknown column, kept in `extra_columns` under this key.
    Extra(String),
}

/// How each source column of one file is typed.
#[derive(Debug)]
struct ColumnPlan {
    /// The headers as written (trimmed).
    headers: Vec<String>,
    targets: Vec<Target>,
    /// Number of data columns of the schema (lineage excluded).
    width: usize,
    /// (source position, schema index) of the subscription id.
    subscription_id: Option<(usize, usize)>,
    extra_columns: Option<usize>,
    /// Columns the header names twice: (header, first position, later position), 0-based.
    repeated: Vec<(String, usize, usize)>,
}

impl ColumnPlan {
    fn new(header_fields: &[String], schema: &Schema) -> ColumnPlan {
        let index_of = |column: &str| schema.index_of(column).ok();
        let mut taken: HashMap<&str, usize> = HashMap::new();
        let mut repeated = Vec::new();
        let mut extra_keys = HashSet::new();
        let headers: Vec<String> = header_fields.iter().map(|h| h.trim().to_owned()).collect();
        let targets = headers
            .iter()
            .enumerate()
            .map(|(position, header)| {
                let normalised = normalise_header(header);
                let known = ALIASES
                    .iter()
                    .find(|(alias, _)| normalise_header(alias) == normalised)
                    .map(|(_, column)| *column)
                    .filter(|column| match taken.get(column) {
                        // a second spelling of a column is kept as extra (and reported)
                        Some(first) => {
                            repeated.push((header.clone(), *first, position));
                            false
                        }
                        None => {
                            taken.insert(column, position);
                            true
                        }
                    })
                    .and_then(|column| Some((column, index_of(column)?)));
                match known {
                    Some((column, index)) => target_for(column, index, schema),
                    None => Target::Extra(extra_key(header, position, &mut extra_keys)),
                }
            })
            .collect::<Vec<_>>();
        let subscription_id = index_of(SUBSCRIPTION_ID)
            .and_then(|index| targets.iter().position(|t| *t == Target::Text(index)).map(|position| (position, index)));
        ColumnPlan {
            headers,
            targets,
            width: schema.fields().len() - lineage_fields().len(),
            subscription_id,
            extra_columns: index_of(EXTRA_COLUMNS),
            repeated,
        }
    }

    /// One warning per column the header names twice (`line` is the header's).
    fn warnings(&self, line: u64) -> Vec<String> {
        self.repeated
            .iter()
            .map(|(header, first, later)| {
                format!(
                    "line {line}: the header names a column twice (`{}` in column {}, `{header}` in column {}): \
                     column {} is read, column {} is kept with the extra columns",
                    self.headers.get(*first).map_or("", String::as_str),
                    first + 1,
                    later + 1,
                    first + 1,
                    later + 1
                )
            })
            .collect()
    }

    /// Types one data record, or says why it cannot be (its personal columns, by `mask`,
    /// under `pii`).
    fn type_row(&self, record: &Record, mask: &FileMask<'_>, pii: &Masker) -> Result<Vec<Value>, Rejection> {
        if record.fields.len() != self.targets.len() {
            return Err(Rejection::row(format!(
                "expected {} fields (as in the header), found {}",
                self.targets.len(),
                record.fields.len()
            )));
        }
        let mut values = vec![Value::Null; self.width];
        let mut extras = serde_json::Map::new();
        let mut times = Vec::new();
        for (position, ((target, header), cell)) in
            self.targets.iter().zip(&self.headers).zip(&record.fields).enumerate()
        {
            let cell = cell.trim();
            if cell.is_empty() {
                continue;
            }
            let reject = |reason| Rejection::cell(header, cell, reason);
            match target {
                Target::Text(index) => {
                    values[*index] = match mask.class_at(position) {
                        Some(class) => pii.value(class, cell),
                        None => Value::text(cell),
                    }
                }
                Target::Int(index) => {
                    values[*index] = Value::Int(parse_integer::<i32>(cell).map_err(reject)?.into());
                }
                Target::Money(index) => values[*index] = Value::Money(parse_money(cell).map_err(reject)?),
                Target::Flag(index) => values[*index] = Value::Flag(parse_flag(cell).map_err(reject)?),
                Target::Date { index, timestamp } => {
                    let parsed = parse_datetime(cell).map_err(reject)?;
                    values[*index] = Value::Date(parsed.date);
                    if let (Some(timestamp), Some(at)) = (timestamp, parsed.date_time()) {
                        values[*timestamp] = Value::Timestamp(at);
                    }
                }
                Target::Time { index, date } => times.push((*index, *date, header, cell)),
                Target::Extra(key) => {
                    let value = match mask.class_at(position) {
                        Some(class) => pii.mask(class, cell).map_or(serde_json::Value::Null, Into::into),
                        None => cell.into(),
                    };
                    extras.insert(key.clone(), value);
                }
            }
        }
        // After the dates, so a time of day can be put on its row's date; a time column
        // (Create Time) wins over a time given in the date column.
        for (index, date, header, cell) in times {
            let at = match parse_datetime(cell) {
                Ok(parsed) => {
                    if let Some(date) = date.filter(|d| values[*d] == Value::Null) {
                        values[date] = Value::Date(parsed.date);
                    }
                    parsed.date.and_time(parsed.time.unwrap_or(NaiveTime::MIN))
                }
                Err(_) => {
                    let time = parse_time_of_day(cell).ok_or_else(|| {
                        Rejection::cell(header, cell, "not a time of day (HH:MM[:SS]) or a date-time")
                    })?;
                    match date.map(|d| &values[d]) {
                        Some(Value::Date(day)) => day.and_time(time),
                        _ => {
                            return Err(Rejection::cell(
                                header,
                                cell,
                                "a time of day, but the row has no date to put it on",
                            ));
                        }
                    }
                }
            };
            values[index] = Value::Timestamp(at);
        }
        if let Some((position, index)) = self.subscription_id
            && values[index] == Value::Null
        {
            return Err(Rejection::cell(&self.headers[position], "", "required value is empty"));
        }
        if let Some(index) = self.extra_columns
            && !extras.is_empty()
        {
            values[index] = Value::Text(serde_json::Value::Object(extras).to_string());
        }
        Ok(values)
    }
}

/// The target for a known column, from its type in the lake schema.
fn target_for(column: &str, index: usize, schema: &Schema) -> Target {
    let timestamp_of_date =
        || TIMESTAMP_OF.iter().find(|(date, _)| *date == column).and_then(|(_, ts)| schema.index_of(ts).ok());
    let date_of_timestamp =
        || TIMESTAMP_OF.iter().find(|(_, ts)| *ts == column).and_then(|(date, _)| schema.index_of(date).ok());
    match schema.field(index).data_type() {
        DataType::Int32 | DataType::Int64 => Target::Int(index),
        DataType::Decimal128(..) => Target::Money(index),
        DataType::Boolean => Target::Flag(index),
        DataType::Date32 => Target::Date { index, timestamp: timestamp_of_date() },
        DataType::Timestamp(..) => Target::Time { index, date: date_of_timestamp() },
        _ => Target::Text(index),
    }
}

/// The `extra_columns` key of an unknown header: as written, `column N` when empty, with
/// ` (2)`, ` (3)`... when the header repeats.
fn extra_key(header: &str, position: usize, taken: &mut HashSet<String>) -> String {
    let base = if header.is_empty() { format!("column {}", position + 1) } else { header.to_owned() };
    let mut key = base.clone();
    let mut copy = 1;
    while !taken.insert(key.clone()) {
        copy += 1;
        key = format!("{base} ({copy})");
    }
    key
}

/// Types a report file: the first record is the header; an empty file is an empty drop.
/// Personal columns are written under `pii`.
pub(crate) fn parse(records: Records<'_>, lineage: &Lineage, pii: &Masker) -> Result<Typed, ArrowError> {
    let schema = report_schema();
    let table = TableBuilder::new(schema.clone())?;
    let mut data = records.iter();
    let Some(header) = data.next() else {
        return Typed::empty(table);
    };
    if let Some(defect) = header.defect.clone() {
        return fail_unreadable_header(header, defect, data, table, lineage, pii);
    }
    if is_too_wide(&header) {
        return fail_wide_header(header, data, table, lineage, pii);
    }
    let plan = ColumnPlan::new(&header.fields, &schema);
    let mask = FileMask::by_header(pii, &plan.headers);
    if plan.subscription_id.is_none() {
        let rejection = Rejection {
            column: Some(SUBSCRIPTION_ID_HEADER.to_owned()),
            value: None,
            reason: format!("the file's header has no `{SUBSCRIPTION_ID_HEADER}` column"),
        };
        let failure = IngestError::MissingColumn {
            file: lineage.source_file.clone(),
            line: header.line,
            column: SUBSCRIPTION_ID_HEADER,
            header: abbreviate(header.raw),
        };
        return fail_file(data, table, lineage, &mask, rejection, failure);
    }
    let mut typed = type_rows(data, table, lineage, &mask, |record| plan.type_row(record, &mask, pii))?;
    typed.warnings = plan.warnings(header.line);
    Ok(typed)
}

/// The header as found, shortened for an error message.
fn abbreviate(text: &str) -> String {
    const LIMIT: usize = 300;
    match text.char_indices().nth(LIMIT) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use chrono::{NaiveDate, NaiveDateTime};
    use churnlake_lake::ReportKind;

    use super::*;
    use crate::records::read_records;

    fn plan(header: &str) -> ColumnPlan {
        let fields: Vec<String> = header.split(',').map(str::to_owned).collect();
        ColumnPlan::new(&fields, &report_schema())
    }

    fn index(column: &str) -> usize {
        report_schema().index_of(column).expect("a report column")
    }

    fn row(plan: &ColumnPlan, line: &str) -> Result<Vec<Value>, Rejection> {
        let record = read_records(line).into_iter().next().expect("one record");
        let keep = Masker::keep();
        plan.type_row(&record, &FileMask::by_header(&keep, &plan.headers), &keep)
    }

    fn at(text: &str) -> Value {
        Value::Timestamp(NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S").expect("a date-time"))
    }

    fn day(text: &str) -> Value {
        Value::Date(NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("a date"))
    }

    #[test]
    fn headers_match_in_any_case_order_and_spacing() {
        let plan = plan(" ordergroove  USER id ,Subscription ID,FREQUENCY,Reminder (days),Loyalty Tier");
        assert_eq!(plan.targets[0], Target::Text(index(USER_ID)));
        assert_eq!(plan.targets[1], Target::Text(index(SUBSCRIPTION_ID)));
        assert_eq!(plan.targets[2], Target::Int(index(FREQUENCY_DAYS)));
        assert_eq!(plan.targets[3], Target::Int(index(REMINDER_DAYS)));
        assert_eq!(plan.targets[4], Target::Extra("Loyalty Tier".into()));
        assert_eq!(plan.subscription_id, Some((1, index(SUBSCRIPTION_ID))));
    }

    #[test]
    fn headers_match_whatever_their_punctuation_and_underscores() {
        let plan = plan("SubscriptionID,CANCEL_DATE,Frequency(days),24 Hour Cancel (Y/blank),extra-data_REPORTING");
        assert_eq!(plan.targets[0], Target::Text(index(SUBSCRIPTION_ID)));
        assert_eq!(plan.targets[1], Target::Date { index: index(CANCEL_DATE), timestamp: Some(index(CANCELLED_AT)) });
        assert_eq!(plan.targets[2], Target::Int(index(FREQUENCY_DAYS)));
        assert_eq!(plan.targets[3], Target::Flag(index(CANCELLED_WITHIN_24H)));
        assert_eq!(plan.targets[4], Target::Text(index(EXTRA_DATA_REPORTING)));
        let values = row(&plan, "7,05/02/2023 10:00,28,1,x").expect("types");
        assert_eq!(values[index(SUBSCRIPTION_ID)], Value::text("7"));
        assert_eq!(values[index(CANCELLED_AT)], at("2023-05-02 10:00:00"));
        assert_eq!(values[index(FREQUENCY_DAYS)], Value::Int(28));
        assert_eq!(values[index(CANCELLED_WITHIN_24H)], Value::Flag(true));
    }

    #[test]
    fn no_two_columns_share_a_normalised_spelling() {
        let mut seen = std::collections::HashMap::new();
        for (alias, column) in ALIASES {
            let normalised = normalise_header(alias);
            assert!(!normalised.is_empty(), "{alias}");
            if let Some(other) = seen.insert(normalised.clone(), *column) {
                assert_eq!(other, *column, "`{alias}` ({normalised}) names two columns");
            }
        }
        for column in report_schema().fields() {
            let name = normalise_header(column.name());
            if let Some(target) = seen.get(&name) {
                assert_eq!(target, column.name(), "the lake name `{}` would be read as `{target}`", column.name());
            }
        }
    }

    #[test]
    fn a_second_spelling_of_a_column_is_kept_as_extra() {
        let plan = plan("Subscription ID,User ID,Ordergroove User ID,,");
        assert_eq!(plan.targets[2], Target::Extra("Ordergroove User ID".into()));
        assert_eq!(plan.targets[3], Target::Extra("column 4".into()));
        assert_eq!(plan.targets[4], Target::Extra("column 5".into()));
    }

    #[test]
    fn dates_with_times_fill_the_timestamp_columns() {
        let plan = plan("Subscription ID,Create Date,Cancel Date");
        let values = row(&plan, "1,05/01/2023,05/02/2023 09:15").expect("types");
        assert_eq!(values[index(CREATE_DATE)], day("2023-05-01"));
        assert_eq!(values[index(CREATED_AT)], Value::Null);
        assert_eq!(values[index(CANCEL_DATE)], day("2023-05-02"));
        assert_eq!(values[index(CANCELLED_AT)], at("2023-05-02 09:15:00"));
    }

    #[test]
    fn create_time_is_a_time_of_day_or_a_date_time() {
        let plan = plan("Subscription ID,Create Time,Create Date");
        let values = row(&plan, "1,09:12:40,05/01/2023").expect("types");
        assert_eq!(values[index(CREATED_AT)], at("2023-05-01 09:12:40"));
        let values = row(&plan, "1,2023-05-01 10:00:00,").expect("types");
        assert_eq!(values[index(CREATED_AT)], at("2023-05-01 10:00:00"));
        assert_eq!(values[index(CREATE_DATE)], day("2023-05-01"));
        let rejection = row(&plan, "1,09:12:40,").expect_err("no date for the time");
        assert_eq!(rejection.column.as_deref(), Some("Create Time"));
    }

    #[test]
    fn unknown_columns_become_json() {
        let plan = plan("Subscription ID,Loyalty Tier,Gift");
        let values = row(&plan, "7,Gold,").expect("types");
        assert_eq!(values[index(EXTRA_COLUMNS)], Value::text(r#"{"Loyalty Tier":"Gold"}"#));
        let values = row(&plan, "7,,").expect("types");
        assert_eq!(values[index(EXTRA_COLUMNS)], Value::Null);
    }

    #[test]
    fn bad_values_name_their_column() {
        let plan = plan("Subscription ID,Price,24 Hour Cancel");
        let rejection = row(&plan, "1,12.505,Y").expect_err("three decimals");
        assert_eq!(rejection.column.as_deref(), Some("Price"));
        assert_eq!(rejection.value.as_deref(), Some("12.505"));
        let rejection = row(&plan, "1,1.00,maybe").expect_err("not a flag");
        assert_eq!(rejection.column.as_deref(), Some("24 Hour Cancel"));
        let rejection = row(&plan, " ,1.00,Y").expect_err("no id");
        assert_eq!(rejection.reason, "required value is empty");
        assert!(row(&plan, "1,1.00").is_err());
    }

    #[test]
    fn a_header_without_subscription_id_fails_the_file_and_keeps_its_rows() {
        let lineage = Lineage {
            source_file: "acme_subscription_20230502.csv".into(),
            report_kind: ReportKind::Subscriptions,
            drop_stamp: NaiveDateTime::default(),
        };
        let records = Records::new("Sub,Email\n1,a@x\n2,b@x\n");
        let typed = parse(records, &lineage, &Masker::keep()).expect("parses");
        assert_eq!((typed.rows_read, typed.table.rows(), typed.quarantine.rows()), (2, 0, 2));
        let message = typed.failure.expect("fails").to_string();
        assert!(message.contains("acme_subscription_20230502.csv"), "{message}");
        assert!(message.contains("Sub,Email"), "{message}");
    }
}
