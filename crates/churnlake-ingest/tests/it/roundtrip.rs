//! Property: typed subscription rows, written as CSV text in any column order, header
//! spelling, date, money and flag spelling, quoting and line ending, come back from the
//! lake as the same typed values.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use proptest::prelude::*;
use tempfile::TempDir;

use crate::support::{column, entry, options, read_output, run};

/// One generated row: the typed values the lake should hold.
#[derive(Debug, Clone)]
struct Row {
    subscription_id: String,
    email: String,
    create_date: NaiveDate,
    create_time: Option<NaiveTime>,
    cancel: Option<(NaiveDate, Option<NaiveTime>)>,
    price_cents: Option<i64>,
    quantity: Option<i32>,
    within_24h: Option<bool>,
}

/// How each value is spelled in the file (all choices are valid spellings).
#[derive(Debug, Clone)]
struct Spelling {
    date_style: usize,
    time_style: usize,
    money_style: usize,
    flag_style: usize,
}

const HEADERS: [&str; 8] = [
    "Subscription ID",
    "Email Address",
    "Create Date",
    "Create Time",
    "Cancel Date",
    "Price",
    "Quantity",
    "24 Hour Cancel",
];

fn date() -> impl Strategy<Value = NaiveDate> {
    (1990..2040i32, 1..=12u32, 1..=28u32).prop_map(|(y, m, d)| NaiveDate::from_ymd_opt(y, m, d).expect("a valid date"))
}

fn time() -> impl Strategy<Value = NaiveTime> {
    (0..24u32, 0..60u32, 0..60u32).prop_map(|(h, m, s)| NaiveTime::from_hms_opt(h, m, s).expect("a valid time"))
}

fn row() -> impl Strategy<Value = Row> {
    (
        "[0-9]{1,3}[0-9A-F]{0,6}",
        "[ a-zA-Z0-9,\"'\n\u{e9}\u{201c}@.]{0,12}",
        date(),
        proptest::option::of(time()),
        proptest::option::of((date(), proptest::option::of(time()))),
        proptest::option::of(-10_000_000_000_000i64..10_000_000_000_000),
        proptest::option::of(any::<i32>()),
        proptest::option::of(any::<bool>()),
    )
        .prop_map(|(id, email, create_date, create_time, cancel, price_cents, quantity, within_24h)| Row {
            subscription_id: id,
            email,
            create_date,
            create_time,
            cancel,
            price_cents,
            quantity,
            within_24h,
        })
}

fn spelling() -> impl Strategy<Value = Spelling> {
    (0..3usize, 0..5usize, 0..6usize, 0..4usize).prop_map(|(date_style, time_style, money_style, flag_style)| {
        Spelling { date_style, time_style, money_style, flag_style }
    })
}

fn spell_date(date: NaiveDate, style: usize) -> String {
    match style {
        0 => date.format("%m/%d/%Y").to_string(),
        1 => date.format("%-m/%-d/%Y").to_string(),
        _ => date.format("%Y-%m-%d").to_string(),
    }
}

/// A date with a time of day, in one of the five date-time spellings.
fn spell_date_time(date: NaiveDate, time: NaiveTime, spelling: &Spelling) -> String {
    let at = date.and_time(time);
    match spelling.time_style {
        0 => format!("{} {}", spell_date(date, spelling.date_style), time.format("%H:%M:%S")),
        1 => format!("{}T{}", spell_date(date, spelling.date_style), time.format("%H:%M:%S")),
        2 => at.format("%m%d%Y%H%M%S").to_string(),
        3 => at.and_utc().timestamp().to_string(),
        _ if time.format("%S").to_string() == "00" => {
            format!("{} {}", spell_date(date, spelling.date_style), time.format("%-H:%M"))
        }
        _ => format!("{} {}", spell_date(date, spelling.date_style), time.format("%H:%M:%S")),
    }
}

fn spell_money(cents: i64, style: usize) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let (whole, fraction) = (cents.unsigned_abs() / 100, cents.unsigned_abs() % 100);
    let grouped = {
        let digits = whole.to_string();
        let mut out = String::new();
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i) % 3 == 0 {
                out.push(',');
            }
            out.push(c);
        }
        out
    };
    match style {
        0 => format!("{sign}{whole}.{fraction:02}"),
        1 => format!("{sign}${grouped}.{fraction:02}"),
        2 => format!("${sign}{whole}.{fraction:02}0"),
        3 if fraction == 0 => format!("{sign}{whole}"),
        3 if fraction % 10 == 0 => format!("{sign}{whole}.{}", fraction / 10),
        4 => format!("{sign}{} €", grouped.replace(',', " ") + &format!(".{fraction:02}")),
        _ => format!("{sign}£{grouped}.{fraction:02}"),
    }
}

fn spell_flag(flag: bool, style: usize) -> &'static str {
    match (style, flag) {
        (0, true) => "Y",
        (0, false) => "N",
        (1, true) => "Yes",
        (1, false) => "no",
        (2, true) => "TRUE",
        (2, false) => "false",
        (_, true) => "1",
        (_, false) => "0",
    }
}

/// The row's cells, in `HEADERS` order.
fn cells(row: &Row, spelling: &Spelling) -> [String; 8] {
    // The creation time goes in Create Time (bare or full) or on the Create Date itself.
    let (create_date, create_time) = match (row.create_time, spelling.time_style % 3) {
        (None, _) => (spell_date(row.create_date, spelling.date_style), String::new()),
        (Some(time), 0) => (spell_date(row.create_date, spelling.date_style), time.format("%H:%M:%S").to_string()),
        (Some(time), 1) => (String::new(), spell_date_time(row.create_date, time, spelling)),
        (Some(time), _) => (spell_date_time(row.create_date, time, spelling), String::new()),
    };
    let cancel = match row.cancel {
        None => String::new(),
        Some((date, None)) => spell_date(date, spelling.date_style),
        Some((date, Some(time))) => spell_date_time(date, time, spelling),
    };
    [
        format!(" {} ", row.subscription_id),
        row.email.clone(),
        create_date,
        create_time,
        cancel,
        row.price_cents.map(|c| spell_money(c, spelling.money_style)).unwrap_or_default(),
        row.quantity.map(|q| q.to_string()).unwrap_or_default(),
        row.within_24h.map(|f| spell_flag(f, spelling.flag_style).to_owned()).unwrap_or_default(),
    ]
}

fn csv_text(rows: &[Row], order: &[usize], spelling: &Spelling, quote_all: bool, crlf: bool, upper: bool) -> Vec<u8> {
    let mut writer = csv::WriterBuilder::new()
        .quote_style(if quote_all { csv::QuoteStyle::Always } else { csv::QuoteStyle::Necessary })
        .terminator(if crlf { csv::Terminator::CRLF } else { csv::Terminator::Any(b'\n') })
        .from_writer(Vec::new());
    let header = order.iter().map(|&i| if upper { HEADERS[i].to_uppercase() } else { HEADERS[i].to_lowercase() });
    writer.write_record(header).expect("a header");
    for row in rows {
        let cells = cells(row, spelling);
        writer.write_record(order.iter().map(|&i| &cells[i])).expect("a record");
    }
    writer.into_inner().expect("flushed")
}

fn shown_date(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

fn shown_at(at: NaiveDateTime) -> String {
    at.format("%Y-%m-%dT%H:%M:%S").to_string()
}

fn or_null(value: Option<String>) -> String {
    value.unwrap_or_else(|| "null".to_owned())
}

fn money_text(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", cents.unsigned_abs() / 100, cents.unsigned_abs() % 100)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn typed_rows_survive_any_csv_spelling(
        rows in proptest::collection::vec(row(), 1..8),
        order in Just((0..HEADERS.len()).collect::<Vec<_>>()).prop_shuffle(),
        spelling in spelling(),
        quote_all in any::<bool>(),
        crlf in any::<bool>(),
        upper in any::<bool>(),
    ) {
        let drops = TempDir::new().expect("a drop directory");
        let lake = TempDir::new().expect("a temporary lake");
        let name = "acme_subscription_05022023060211.csv";
        std::fs::write(drops.path().join(name), csv_text(&rows, &order, &spelling, quote_all, crlf, upper))
            .expect("written");
        let runtime = tokio::runtime::Builder::new_current_thread().build().expect("a runtime");
        let report = runtime.block_on(run(drops.path(), lake.path(), &options()));
        let entry = entry(&report, name);
        prop_assert_eq!(entry.rows_quarantined, 0);
        prop_assert_eq!(entry.rows_written, rows.len() as u64);
        let batch = read_output(lake.path(), entry, "subscriptions");

        let expect = |f: &dyn Fn(&Row) -> Option<String>| -> Vec<String> {
            rows.iter().map(|r| or_null(f(r))).collect()
        };
        prop_assert_eq!(column(&batch, "subscription_id"), expect(&|r| Some(r.subscription_id.clone())));
        let email = |r: &Row| Some(r.email.trim().to_owned()).filter(|e| !e.is_empty());
        prop_assert_eq!(column(&batch, "email_address"), expect(&email));
        prop_assert_eq!(column(&batch, "create_date"), expect(&|r| Some(shown_date(r.create_date))));
        prop_assert_eq!(
            column(&batch, "created_at"),
            expect(&|r| r.create_time.map(|t| shown_at(r.create_date.and_time(t))))
        );
        prop_assert_eq!(column(&batch, "cancel_date"), expect(&|r| r.cancel.map(|(d, _)| shown_date(d))));
        prop_assert_eq!(
            column(&batch, "cancelled_at"),
            expect(&|r| r.cancel.and_then(|(d, t)| t.map(|t| shown_at(d.and_time(t)))))
        );
        prop_assert_eq!(column(&batch, "price"), expect(&|r| r.price_cents.map(money_text)));
        prop_assert_eq!(column(&batch, "quantity"), expect(&|r| r.quantity.map(|q| q.to_string())));
        prop_assert_eq!(
            column(&batch, "cancelled_within_24h"),
            expect(&|r| r.within_24h.map(|f| f.to_string()))
        );
        let lines: Vec<String> = column(&batch, "source_line");
        prop_assert!(lines.windows(2).all(|w| w[0].parse::<u64>().ok() < w[1].parse::<u64>().ok()));
    }
}
