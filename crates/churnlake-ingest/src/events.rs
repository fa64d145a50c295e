//! The subscriber events ("Member Activity") files: no header, and two layouts in the
//! wild — 5 fields (public subscription id, merchant user id, email, event code, event
//! date) or 6, with an undocumented field between the email and the event code.
//!
//! The layout is decided per file from its first record whose event code is a small
//! integer and whose date parses; records of another width are quarantined. A first line
//! that looks like a header (neither its code nor its date parses, while later lines do)
//! is skipped and not counted.

use arrow::error::ArrowError;

use churnlake_lake::columns::*;
use churnlake_lake::{event_label, events_schema};

use crate::parse::{Typed, type_rows};
use crate::records::Record;
use crate::table::{Lineage, Rejection, TableBuilder, Value};
use crate::values::parse_datetime;

/// Event codes are small: anything above this is a misplaced field, not a code.
const MAX_EVENT_CODE: i32 = 999;

/// A file's field layout: 5 or 6 fields, the last two being the event code and date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Layout {
    width: usize,
}

impl Layout {
    const WIDTHS: [usize; 2] = [5, 6];

    /// The layout a record shows, when its code and date parse where that layout puts them.
    fn of(record: &Record) -> Option<Layout> {
        let layout = Layout { width: record.fields.len() };
        let fits = record.defect.is_none()
            && Self::WIDTHS.contains(&layout.width)
            && parse_event_code(layout.code(record)).is_ok()
            && parse_datetime(layout.date(record)).is_ok();
        fits.then_some(layout)
    }

    fn code<'r>(&self, record: &'r Record) -> &'r str {
        record.fields.get(self.width - 2).map_or("", |f| f.trim())
    }

    fn date<'r>(&self, record: &'r Record) -> &'r str {
        record.fields.get(self.width - 1).map_or("", |f| f.trim())
    }

    /// The manifest's spelling.
    fn describe(self) -> String {
        format!("{} columns", self.width)
    }
}

fn parse_event_code(text: &str) -> Result<i32, String> {
    text.parse::<i32>()
        .ok()
        .filter(|code| (0..=MAX_EVENT_CODE).contains(code))
        .ok_or_else(|| format!("not an event code (a whole number from 0 to {MAX_EVENT_CODE})"))
}

/// A first record that is not an event while a later one is, and whose code and date
/// fields are both not values: a header line.
fn is_header(first: &Record, layout: Layout) -> bool {
    first.defect.is_none()
        && first.fields.len() == layout.width
        && parse_event_code(layout.code(first)).is_err()
        && parse_datetime(layout.date(first)).is_err()
}

/// Types an events file.
pub(crate) fn parse(records: &[Record], lineage: &Lineage) -> Result<Typed, ArrowError> {
    let layout = records.iter().find_map(Layout::of);
    let data = match (layout, records.split_first()) {
        (Some(layout), Some((first, rest))) if is_header(first, layout) => rest,
        _ => records,
    };
    let table = TableBuilder::new(events_schema())?;
    let mut typed = type_rows(data, table, lineage, |record| type_event(record, layout))?;
    typed.layout = layout.map(Layout::describe);
    Ok(typed)
}

fn type_event(record: &Record, layout: Option<Layout>) -> Result<Vec<Value>, Rejection> {
    let found = record.fields.len();
    let layout = match layout {
        Some(layout) if layout.width == found => layout,
        Some(layout) => {
            return Err(Rejection::row(format!(
                "expected {} fields (this file's layout), found {found}",
                layout.width
            )));
        }
        // No record of the file has a valid layout: type by the record's own width to
        // say which value is wrong.
        None if Layout::WIDTHS.contains(&found) => Layout { width: found },
        None => {
            return Err(Rejection::row(format!("expected 5 or 6 fields, found {found}")));
        }
    };
    let cell = |position: usize| record.fields[position].trim();
    let text_or_null = |position: usize| match cell(position) {
        "" => Value::Null,
        text => Value::text(text),
    };
    let public_id = cell(0);
    if public_id.is_empty() {
        return Err(Rejection::cell(PUBLIC_SUBSCRIPTION_ID, "", "required value is empty"));
    }
    let code_text = layout.code(record);
    let code = parse_event_code(code_text).map_err(|reason| Rejection::cell(EVENT_CODE, code_text, reason))?;
    let date_text = layout.date(record);
    if date_text.is_empty() {
        return Err(Rejection::cell(EVENT_DATE, "", "required value is empty"));
    }
    let date = parse_datetime(date_text).map_err(|reason| Rejection::cell(EVENT_DATE, date_text, reason))?;
    Ok(vec![
        Value::text(public_id),
        text_or_null(1),
        text_or_null(2),
        if layout.width == 6 { text_or_null(3) } else { Value::Null },
        Value::Int(code.into()),
        Value::text(event_label(code)),
        Value::Date(date.date),
        date.date_time().map_or(Value::Null, Value::Timestamp),
    ])
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDateTime;
    use churnlake_lake::ReportKind;

    use super::*;
    use crate::records::read_records;

    fn typed(text: &str) -> Typed {
        let lineage = Lineage {
            source_file: "crm_subscriber_events_05022023080044.csv".into(),
            report_kind: ReportKind::SubscriberEvents,
            drop_stamp: NaiveDateTime::default(),
        };
        parse(&read_records(text), &lineage).expect("parses")
    }

    fn counts(typed: &Typed) -> (u64, u64, u64) {
        (typed.rows_read, typed.table.rows(), typed.quarantine.rows())
    }

    #[test]
    fn five_columns() {
        let t = typed("ab01,M-1,a@x.com,9,05/02/2023 08:05:00\nab02,M-2,b@x.com,42,05/02/2023\n");
        assert_eq!(t.layout.as_deref(), Some("5 columns"));
        assert_eq!(counts(&t), (2, 2, 0));
    }

    #[test]
    fn six_columns_with_a_header_line() {
        let t = typed("Public ID,User,Email,Extra,Event,Date\nab01,M-1,a@x.com,X,9,2023-05-02\n");
        assert_eq!(t.layout.as_deref(), Some("6 columns"));
        assert_eq!(counts(&t), (1, 1, 0));
    }

    #[test]
    fn records_of_the_other_width_are_quarantined() {
        let t = typed("ab01,M-1,a@x.com,9,05/02/2023\nab02,M-2,b@x.com,X,9,05/02/2023\nab03\n");
        assert_eq!(t.layout.as_deref(), Some("5 columns"));
        assert_eq!(counts(&t), (3, 1, 2));
    }

    #[test]
    fn a_first_line_with_a_bad_code_but_a_good_date_is_data() {
        let t = typed("ab01,M-1,a@x.com,nine,05/02/2023\nab02,M-2,b@x.com,9,05/02/2023\n");
        assert_eq!(counts(&t), (2, 1, 1));
    }

    #[test]
    fn no_layout_at_all() {
        let t = typed("ab01,M-1,a@x.com,9,someday\nonly,three,fields\n");
        assert_eq!(t.layout, None);
        assert_eq!(counts(&t), (2, 0, 2));
    }

    #[test]
    fn empty_file() {
        let t = typed("");
        assert_eq!((t.layout.as_deref(), counts(&t)), (None, (0, 0, 0)));
    }
}
