//! The orders, inventory and CRM subscription files: header CSVs whose columns are not
//! documented, so each file's schema comes from its own header.
//!
//! Every header becomes a snake_case column typed by its name (see [`kind_for`]): ids
//! and anything unrecognised stay text, so a guess can only fail towards keeping the
//! value. **The schema of these tables may therefore differ between files** (a merchant
//! adds a column, a name changes); readers should union them by name.
//!
//! In the chain: called by [`crate::file`]; imports the typing toolkit ([`super`]) and the
//! leaves ([`crate::records`], [`crate::table`], [`crate::values`]).

use std::collections::HashSet;
use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
use arrow::error::ArrowError;
use chrono::NaiveTime;

use churnlake_lake::{MONEY_PRECISION, MONEY_SCALE, lineage_fields};

use super::{Typed, fail_unreadable_header, fail_wide_header, is_too_wide, type_rows};
use crate::pii::{FileMask, Masker};
use crate::records::{Record, Records};
use crate::table::{Lineage, Rejection, TableBuilder, Value};
use crate::values::{parse_datetime, parse_flag, parse_integer, parse_money, parse_time_of_day};

/// Words that make a column money (unless its last word says otherwise, see [`NOT_MONEY`]).
const MONEY_WORDS: &[&str] =
    &["price", "amount", "total", "cost", "revenue", "subtotal", "tax", "discount", "shipping"];
/// Last words that keep a column with a money word as text (`shipping_address`, `tax_rate`).
const NOT_MONEY: &[&str] = &[
    "address",
    "method",
    "name",
    "type",
    "status",
    "reason",
    "description",
    "carrier",
    "currency",
    "percent",
    "rate",
    "label",
];
/// Words that make a column a count.
const COUNT_WORDS: &[&str] = &["quantity", "qty", "count"];
/// Last words of identifier columns (always text).
const ID_WORDS: &[&str] = &["id", "ids", "sku", "number", "code"];

/// How a column's values are typed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Date,
    /// A date-time; a bare time of day is put on the row's `date` column, when there is one.
    Timestamp {
        date: Option<usize>,
    },
    Int,
    Money,
    Flag,
}

impl Kind {
    fn data_type(self) -> DataType {
        match self {
            Kind::Text => DataType::Utf8,
            Kind::Date => DataType::Date32,
            Kind::Timestamp { .. } => DataType::Timestamp(TimeUnit::Millisecond, None),
            Kind::Int => DataType::Int64,
            Kind::Money => DataType::Decimal128(MONEY_PRECISION, MONEY_SCALE),
            Kind::Flag => DataType::Boolean,
        }
    }
}

/// The type of a column from its snake_case name, first rule that applies:
/// last word `id`/`ids`/`sku`/`number`/`code` → text; last word `date` → date;
/// `time`/`timestamp`/`at` → timestamp; `24 hour cancel`, `guest checkout` → flag;
/// a word `quantity`/`qty`/`count`, or `number of`, `orders placed` → integer;
/// a money word (price, amount, total, cost, revenue, subtotal, tax, discount, shipping)
/// unless the last word is a text word (address, method, rate, ...) → money; else text.
/// A date column keeps only the date of a date-time value; a timestamp column given a
/// bare date reads it as midnight.
fn kind_for(name: &str) -> Kind {
    let words: Vec<&str> = name.split('_').collect();
    let last = words.last().copied().unwrap_or_default();
    let has = |set: &[&str]| words.iter().any(|w| set.contains(w));
    if ID_WORDS.contains(&last) {
        Kind::Text
    } else if last == "date" {
        Kind::Date
    } else if matches!(last, "time" | "timestamp" | "at") {
        Kind::Timestamp { date: None }
    } else if name.contains("24_hour_cancel") || name.contains("guest_checkout") {
        Kind::Flag
    } else if has(COUNT_WORDS) || name.contains("number_of") || name.contains("orders_placed") {
        Kind::Int
    } else if has(MONEY_WORDS) && !NOT_MONEY.contains(&last) {
        Kind::Money
    } else {
        Kind::Text
    }
}

/// `Ship Date (UTC)` → `ship_date_utc`: lower case, runs of anything but letters and
/// digits become one `_`.
fn snake_case(header: &str) -> String {
    let mut name = String::new();
    for c in header.trim().chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            name.push(c);
        } else if !name.is_empty() && !name.ends_with('_') {
            name.push('_');
        }
    }
    name.trim_end_matches('_').to_owned()
}

/// One source column.
#[derive(Debug, Clone)]
struct Column {
    header: String,
    name: String,
    kind: Kind,
}

/// The columns of a header: unique snake_case names (never a lineage name, nor
/// `data_date`, the Hive partition of every table), typed.
fn columns(header_fields: &[String]) -> Vec<Column> {
    let mut taken: HashSet<String> = lineage_fields().iter().map(|f| f.name().clone()).collect();
    taken.insert(churnlake_lake::columns::DATA_DATE.to_owned());
    let mut columns: Vec<Column> = header_fields
        .iter()
        .enumerate()
        .map(|(position, header)| {
            let base = match snake_case(header) {
                name if name.is_empty() => format!("column_{}", position + 1),
                name => name,
            };
            let mut name = base.clone();
            let mut copy = 1;
            while !taken.insert(name.clone()) {
                copy += 1;
                name = format!("{base}_{copy}");
            }
            Column { header: header.trim().to_owned(), kind: kind_for(&name), name }
        })
        .collect();
    // `x_time` holding a bare time of day goes on the same row's `x_date`.
    let names: Vec<String> = columns.iter().map(|c| c.name.clone()).collect();
    for column in &mut columns {
        if let (Kind::Timestamp { date }, Some(prefix)) = (&mut column.kind, column.name.strip_suffix("_time")) {
            *date = names.iter().position(|n| *n == format!("{prefix}_date"));
        }
    }
    columns
}

fn type_row(columns: &[Column], record: &Record, mask: &FileMask<'_>, pii: &Masker) -> Result<Vec<Value>, Rejection> {
    if record.fields.len() != columns.len() {
        return Err(Rejection::row(format!(
            "expected {} fields (as in the header), found {}",
            columns.len(),
            record.fields.len()
        )));
    }
    let cell = |position: usize| record.fields[position].trim();
    columns
        .iter()
        .enumerate()
        .map(|(position, column)| {
            let text = cell(position);
            if text.is_empty() {
                return Ok(Value::Null);
            }
            let reject = |reason| Rejection::cell(&column.header, text, reason);
            Ok(match column.kind {
                Kind::Text => match mask.class_at(position) {
                    Some(class) => pii.value(class, text),
                    None => Value::text(text),
                },
                Kind::Date => Value::Date(parse_datetime(text).map_err(reject)?.date),
                Kind::Int => Value::Int(parse_integer::<i64>(text).map_err(reject)?),
                Kind::Money => Value::Money(parse_money(text).map_err(reject)?),
                Kind::Flag => Value::Flag(parse_flag(text).map_err(reject)?),
                Kind::Timestamp { date } => match parse_datetime(text) {
                    Ok(parsed) => Value::Timestamp(parsed.date.and_time(parsed.time.unwrap_or(NaiveTime::MIN))),
                    Err(reason) => {
                        let time = parse_time_of_day(text).ok_or_else(|| reject(reason))?;
                        let day = date
                            .and_then(|d| parse_datetime(cell(d)).ok())
                            .ok_or_else(|| reject("a time of day, but the row has no date to put it on".to_owned()))?;
                        Value::Timestamp(day.date.and_time(time))
                    }
                },
            })
        })
        .collect()
}

/// The table of a file with these columns (plus the lineage).
fn table_for(columns: &[Column]) -> Result<TableBuilder, ArrowError> {
    let fields: Vec<Field> =
        columns.iter().map(|c| Field::new(&c.name, c.kind.data_type(), true)).chain(lineage_fields()).collect();
    TableBuilder::new(Arc::new(Schema::new(fields)))
}

/// Types a file of one of these kinds: the first record is the header.
pub(crate) fn parse(records: Records<'_>, lineage: &Lineage, pii: &Masker) -> Result<Typed, ArrowError> {
    let mut rows = records.iter();
    let Some(header) = rows.next() else {
        return Typed::empty(table_for(&[])?);
    };
    if let Some(defect) = header.defect.clone() {
        return fail_unreadable_header(header, defect, rows, table_for(&[])?, lineage, pii);
    }
    if is_too_wide(&header) {
        return fail_wide_header(header, rows, table_for(&[])?, lineage, pii);
    }
    let columns = columns(&header.fields);
    let mask = FileMask::by_header(pii, &header.fields);
    type_rows(rows, table_for(&columns)?, lineage, &mask, |record| type_row(&columns, record, &mask, pii))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_snake_case() {
        assert_eq!(snake_case(" Ship Date (UTC) "), "ship_date_utc");
        assert_eq!(snake_case("24 Hour Cancel"), "24_hour_cancel");
        assert_eq!(snake_case("Order-Total$"), "order_total");
        assert_eq!(snake_case("***"), "");
    }

    #[test]
    fn columns_are_typed_by_name() {
        let cases = [
            ("order_id", Kind::Text),
            ("order_number", Kind::Text),
            ("sku", Kind::Text),
            ("discount_code", Kind::Text),
            ("order_date", Kind::Date),
            ("last_order_date", Kind::Date),
            ("created_at", Kind::Timestamp { date: None }),
            ("create_time", Kind::Timestamp { date: None }),
            ("updated_timestamp", Kind::Timestamp { date: None }),
            ("24_hour_cancel", Kind::Flag),
            ("guest_checkout", Kind::Flag),
            ("quantity", Kind::Int),
            ("qty_on_hand", Kind::Int),
            ("item_count", Kind::Int),
            ("number_of_items", Kind::Int),
            ("orders_placed", Kind::Int),
            ("total_quantity", Kind::Int),
            ("order_total", Kind::Money),
            ("unit_price", Kind::Money),
            ("shipping", Kind::Money),
            ("tax_amount", Kind::Money),
            ("shipping_address", Kind::Text),
            ("tax_rate", Kind::Text),
            ("account_status", Kind::Text),
            ("email", Kind::Text),
        ];
        for (name, kind) in cases {
            assert_eq!(kind_for(name), kind, "{name}");
        }
    }

    #[test]
    fn names_are_unique_and_never_lineage_names() {
        let headers: Vec<String> =
            ["Order ID", "order id", "", "Source File"].iter().map(|h| (*h).to_owned()).collect();
        let names: Vec<String> = columns(&headers).into_iter().map(|c| c.name).collect();
        assert_eq!(names, ["order_id", "order_id_2", "column_3", "source_file_2"]);
        let headers: Vec<String> = ["Data Date", "data_date"].iter().map(|h| (*h).to_owned()).collect();
        let names: Vec<String> = columns(&headers).into_iter().map(|c| c.name).collect();
        assert_eq!(names, ["data_date_2", "data_date_3"], "never the Hive partition's name");
    }

    #[test]
    fn a_time_column_finds_its_date() {
        let headers: Vec<String> = ["Create Date", "Create Time"].iter().map(|h| (*h).to_owned()).collect();
        let columns = columns(&headers);
        assert_eq!(columns[1].kind, Kind::Timestamp { date: Some(0) });
        let record = Record { line: 2, fields: vec!["05/01/2023".into(), "09:12:40".into()], raw: "", defect: None };
        let keep = Masker::keep();
        let values = type_row(&columns, &record, &FileMask::by_header(&keep, &headers), &keep).expect("types");
        let expected =
            chrono::NaiveDate::from_ymd_opt(2023, 5, 1).and_then(|d| d.and_hms_opt(9, 12, 40)).expect("valid");
        assert_eq!(values[1], Value::Timestamp(expected));
    }
}
