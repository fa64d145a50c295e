//! The subscriber events ("Member Activity") files: no header, and two layouts in the
//! wild — 5 fields (public subscription id, merchant user id, email, event code, event
//! date) or 6, with an undocumented field between the email and the event code.
//!
//! A first line is skipped as a header (and not counted as a row) only when its event
//! code and event date fields are known header names ([`CODE_HEADERS`], [`DATE_HEADERS`],
//! compared by letters and digits, case ignored); any other line is data, quarantined
//! when it cannot be typed. The layout is decided per file by majority over the records
//! whose event code is a small integer and whose date parses where that layout puts them
//! (a tie goes to the documented 5-field layout); records that do not fit it are
//! quarantined.
//!
//! In the chain: called by [`crate::file`] (which also asks [`is_header`] whether a file
//! has data rows); imports the typing toolkit ([`super`]) and the leaves
//! ([`crate::records`], [`crate::table`], [`crate::values`]).

use arrow::error::ArrowError;

use churnlake_lake::columns::*;
use churnlake_lake::{event_label, events_schema};

use super::{Typed, normalise_header, type_rows};
use crate::pii::{FileMask, Masker, PiiClass};
use crate::records::{Record, Records};
use crate::table::{Lineage, Rejection, TableBuilder, Value};
use crate::values::parse_datetime;

/// Event codes are small: anything above this is a misplaced field, not a code.
const MAX_EVENT_CODE: i32 = 999;

/// Header names of the event code field (as [`normalise_header`] spells them).
const CODE_HEADERS: &[&str] =
    &["eventcode", "eventid", "event", "code", "eventtype", "eventnumber", "activity", "activitycode", "activityid"];
/// Header names of the event date field (as [`normalise_header`] spells them).
const DATE_HEADERS: &[&str] = &[
    "eventdate",
    "date",
    "eventtime",
    "eventdatetime",
    "eventtimestamp",
    "datetime",
    "timestamp",
    "eventat",
    "activitydate",
];

/// A file's field layout: 5 or 6 fields, the last two being the event code and date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Layout {
    width: usize,
}

impl Layout {
    const WIDTHS: [usize; 2] = [5, 6];
    /// The layout FORMATS.md documents, which wins a tie.
    const DEFAULT: Layout = Layout { width: 5 };

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

/// A header line: a record of 5 or 6 fields whose event code and event date fields are
/// known header names.
pub(crate) fn is_header(record: &Record) -> bool {
    let layout = Layout { width: record.fields.len() };
    let named = |field: &str, names: &[&str]| names.contains(&normalise_header(field).as_str());
    record.defect.is_none()
        && Layout::WIDTHS.contains(&layout.width)
        && named(layout.code(record), CODE_HEADERS)
        && named(layout.date(record), DATE_HEADERS)
}

/// The layout most records show (a tie goes to [`Layout::DEFAULT`]); `None` when no
/// record shows one. A pass over the records that keeps only the counts.
fn majority_layout<'t>(records: impl IntoIterator<Item = Record<'t>>) -> Option<Layout> {
    let (mut five, mut six) = (0usize, 0usize);
    for layout in records.into_iter().filter_map(|record| Layout::of(&record)) {
        if layout.width == 6 {
            six += 1;
        } else {
            five += 1;
        }
    }
    match (five, six) {
        (0, 0) => None,
        (five, six) if six > five => Some(Layout { width: 6 }),
        (five, six) if five > six => Some(Layout { width: 5 }),
        _ => Some(Layout::DEFAULT),
    }
}

/// Position of the merchant user id and the email in both layouts.
const MERCHANT_USER_ID_FIELD: usize = 1;
const EMAIL_FIELD: usize = 2;

/// Types an events file (its email, and merchant user id when configured, under `pii`).
/// Two passes over the records: the layout is decided by the first, the rows typed by the second.
pub(crate) fn parse(records: Records<'_>, lineage: &Lineage, pii: &Masker) -> Result<Typed, ArrowError> {
    let mut first_pass = records.iter().peekable();
    let header = first_pass.next_if(is_header).is_some();
    let layout = majority_layout(first_pass);
    let data = records.iter().skip(usize::from(header));
    let table = TableBuilder::new(events_schema())?;
    let mut fields = vec![(EMAIL_FIELD, PiiClass::Email)];
    if pii.class_of(MERCHANT_USER_ID).is_some() {
        fields.push((MERCHANT_USER_ID_FIELD, PiiClass::UserId));
    }
    let mask = FileMask::at(pii, fields, Layout::WIDTHS.to_vec(), &[EMAIL_ADDRESS, MERCHANT_USER_ID]);
    let mut typed = type_rows(data, table, lineage, &mask, |record| type_event(record, layout, &mask, pii))?;
    typed.layout = layout.map(Layout::describe);
    Ok(typed)
}

fn type_event(
    record: &Record,
    layout: Option<Layout>,
    mask: &FileMask<'_>,
    pii: &Masker,
) -> Result<Vec<Value>, Rejection> {
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
    let text_or_null = |position: usize| match (cell(position), mask.class_at(position)) {
        ("", _) => Value::Null,
        (text, Some(class)) => pii.value(class, text),
        (text, None) => Value::text(text),
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
    use arrow::array::AsArray;
    use arrow::datatypes::Int64Type;
    use chrono::NaiveDateTime;
    use churnlake_lake::ReportKind;

    use super::*;

    fn typed(text: &str) -> Typed {
        let lineage = Lineage {
            source_file: "crm_subscriber_events_05022023080044.csv".into(),
            report_kind: ReportKind::SubscriberEvents,
            drop_stamp: NaiveDateTime::default(),
        };
        parse(Records::new(text), &lineage, &Masker::keep()).expect("parses")
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
    fn a_headerless_first_line_whose_code_and_date_are_bad_is_a_quarantined_row() {
        let t = typed("ab01,M-1,a@x.com,nine,someday\nab02,M-2,b@x.com,9,05/02/2023\n");
        assert_eq!(counts(&t), (2, 1, 1));
        let batch = t.quarantine.finish().expect("a batch");
        let lines = batch.column_by_name(SOURCE_LINE).expect("lineage").as_primitive::<Int64Type>();
        assert_eq!(lines.value(0), 1);
    }

    #[test]
    fn a_header_is_recognised_by_its_names_in_any_spelling() {
        let t = typed(
            "PUBLIC_SUBSCRIPTION_ID,merchantUserId,E-mail,EventCode, Event  Date \nab01,M-1,a@x.com,9,2023-05-02\n",
        );
        assert_eq!((t.layout.as_deref(), counts(&t)), (Some("5 columns"), (1, 1, 0)));
        let lines = t.table.finish().expect("a batch");
        let lines = lines.column_by_name(SOURCE_LINE).expect("lineage").as_primitive::<Int64Type>();
        assert_eq!(lines.value(0), 2, "the header's line is still counted in line numbers");
    }

    #[test]
    fn a_header_only_file_is_an_empty_drop() {
        for text in [
            "Public Subscription ID,Merchant User ID,Email,Event Code,Event Date\n",
            "id,user,email,channel,event,date",
        ] {
            let t = typed(text);
            assert_eq!((t.layout.as_deref(), counts(&t)), (None, (0, 0, 0)), "{text}");
        }
    }

    #[test]
    fn the_layout_is_the_majority_one_and_a_bad_first_row_does_not_decide_it() {
        // The first row has an unquoted comma in its email: 6 fields that type as 6.
        let t = typed(concat!(
            "ab01,M-1,cara, jr@x.com,1,05/01/2023\n",
            "ab02,M-2,b@x.com,9,05/02/2023\n",
            "ab03,M-3,c@x.com,5,05/02/2023\n",
        ));
        assert_eq!(t.layout.as_deref(), Some("5 columns"));
        assert_eq!(counts(&t), (3, 2, 1));
        let batch = t.quarantine.finish().expect("a batch");
        let reasons = batch.column_by_name(REASON).expect("a reason").as_string::<i32>();
        assert_eq!(reasons.value(0), "expected 5 fields (this file's layout), found 6");
    }

    #[test]
    fn six_columns_win_a_majority_and_a_tie_goes_to_five() {
        let t =
            typed("ab01,M-1,a@x.com,X,9,05/02/2023\nab02,M-2,b@x.com,,9,05/02/2023\nab03,M-3,c@x.com,9,05/02/2023\n");
        assert_eq!((t.layout.as_deref(), counts(&t)), (Some("6 columns"), (3, 2, 1)));
        let t = typed("ab01,M-1,a@x.com,X,9,05/02/2023\nab03,M-3,c@x.com,9,05/02/2023\n");
        assert_eq!((t.layout.as_deref(), counts(&t)), (Some("5 columns"), (2, 1, 1)));
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
