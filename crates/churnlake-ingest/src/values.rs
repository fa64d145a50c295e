//! Typing one cell: the date, time, money, flag and integer spellings the drops use.
//!
//! Every parser takes the trimmed, non-empty text of a cell and returns the typed
//! value or a reason that names what was expected; the caller turns a reason into a
//! quarantine row. Nothing here goes through floating point.
//!
//! In the chain: a leaf, used by the kinds' parsers, [`crate::table`] and
//! [`crate::classify`]; imports nothing of this crate.

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime};

use churnlake_lake::MONEY_PRECISION;

/// A parsed date, with its time of day when the text carried one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DateTimeValue {
    pub date: NaiveDate,
    pub time: Option<NaiveTime>,
}

impl DateTimeValue {
    /// The date-time when a time of day was given.
    pub fn date_time(self) -> Option<NaiveDateTime> {
        self.time.map(|time| self.date.and_time(time))
    }
}

const DATE_EXPECTED: &str = "not a date (expected MM/DD/YYYY, YYYY-MM-DD, MMDDYYYYHHMMSS or epoch \
                             seconds, optionally followed by HH:MM[:SS])";

/// Parses `MM/DD/YYYY` (or `M/D/YYYY`), `YYYY-MM-DD`, 14-digit `MMDDYYYYHHMMSS` or epoch
/// seconds (9–10 digits, read as a wall-clock time), the first two optionally followed by
/// ` HH:MM[:SS]` or `THH:MM[:SS]`.
pub(crate) fn parse_datetime(text: &str) -> Result<DateTimeValue, String> {
    let bad = || DATE_EXPECTED.to_owned();
    if text.bytes().all(|b| b.is_ascii_digit()) {
        let stamp = match text.len() {
            14 => parse_mmddyyyyhhmmss(text),
            9 | 10 => {
                text.parse::<i64>().ok().and_then(|secs| DateTime::from_timestamp(secs, 0)).map(|utc| utc.naive_utc())
            }
            _ => None,
        };
        return stamp.map(|dt| DateTimeValue { date: dt.date(), time: Some(dt.time()) }).ok_or_else(bad);
    }
    let (date_part, time_part) = match text.find([' ', 'T']) {
        Some(at) => (&text[..at], Some(text[at + 1..].trim())),
        None => (text, None),
    };
    let date = parse_date(date_part).ok_or_else(bad)?;
    let time = match time_part {
        Some(time_text) => Some(parse_time_of_day(time_text).ok_or_else(bad)?),
        None => None,
    };
    Ok(DateTimeValue { date, time })
}

/// `MMDDYYYYHHMMSS` (the drop stamp spelling), digits only.
pub(crate) fn parse_mmddyyyyhhmmss(digits: &str) -> Option<NaiveDateTime> {
    if digits.len() != 14 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let number = |range: std::ops::Range<usize>| digits[range].parse::<u32>().ok();
    let year = i32::try_from(number(4..8)?).ok()?;
    NaiveDate::from_ymd_opt(year, number(0..2)?, number(2..4)?)?.and_hms_opt(
        number(8..10)?,
        number(10..12)?,
        number(12..14)?,
    )
}

fn parse_date(text: &str) -> Option<NaiveDate> {
    let parts: Vec<&str> = text.split(['/', '-']).collect();
    let [a, b, c] = parts.as_slice() else {
        return None;
    };
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !(all_digits(a) && all_digits(b) && all_digits(c)) {
        return None;
    }
    let (year, month, day) = if text.contains('/') && !text.contains('-') && c.len() == 4 {
        (c, a, b) // MM/DD/YYYY
    } else if text.contains('-') && !text.contains('/') && a.len() == 4 {
        (a, b, c) // YYYY-MM-DD
    } else {
        return None;
    };
    if month.len() > 2 || day.len() > 2 {
        return None;
    }
    NaiveDate::from_ymd_opt(year.parse().ok()?, month.parse().ok()?, day.parse().ok()?)
}

/// `HH:MM` or `HH:MM:SS` (optionally with a fraction of a second).
pub(crate) fn parse_time_of_day(text: &str) -> Option<NaiveTime> {
    ["%H:%M:%S%.f", "%H:%M"].iter().find_map(|format| NaiveTime::parse_from_str(text, format).ok())
}

/// Money as cents: a currency sign (`$`, `€`, `£`), spaces and thousands separators are
/// dropped; more than two non-zero decimal places, or more digits than `DECIMAL(18, 2)`
/// holds, is an error. Exact integer arithmetic throughout.
pub(crate) fn parse_money(text: &str) -> Result<i128, String> {
    let bad = || "not an amount of money (expected digits with at most 2 decimals, like 1,234.50)".to_owned();
    let cleaned: String = text.chars().filter(|c| !c.is_whitespace() && !matches!(c, '$' | '€' | '£')).collect();
    let (negative, unsigned) = match cleaned.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, cleaned.strip_prefix('+').unwrap_or(&cleaned)),
    };
    let (whole, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    let whole = strip_thousands_separators(whole).ok_or_else(bad)?;
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (whole.is_empty() && fraction.is_empty()) || !digits(&whole) || !digits(fraction) {
        return Err(bad());
    }
    let (cents_text, beyond) = fraction.split_at(fraction.len().min(2));
    if beyond.bytes().any(|b| b != b'0') {
        return Err(format!("has more than 2 decimal places ({text}); money is kept to the cent"));
    }
    let limit = 10_i128.pow(u32::from(MONEY_PRECISION));
    let mut cents: i128 = 0;
    for digit in whole.bytes().chain(format!("{cents_text:0<2}").bytes()) {
        cents = cents * 10 + i128::from(digit - b'0');
        if cents >= limit {
            return Err(format!("amount too large for DECIMAL({MONEY_PRECISION}, 2)"));
        }
    }
    Ok(if negative { -cents } else { cents })
}

/// Removes `,` thousands separators, checking the groups are 3 digits (so `12,50` is
/// rejected rather than read as 1250).
fn strip_thousands_separators(whole: &str) -> Option<String> {
    let mut groups = whole.split(',');
    let first = groups.next().unwrap_or_default();
    let mut out = first.to_owned();
    for group in groups {
        if first.is_empty() || first.len() > 3 || group.len() != 3 {
            return None;
        }
        out.push_str(group);
    }
    Some(out)
}

/// `Y`/`N`, `yes`/`no`, `true`/`false`, `1`/`0`, in any case.
pub(crate) fn parse_flag(text: &str) -> Result<bool, String> {
    match text.to_ascii_lowercase().as_str() {
        "y" | "yes" | "true" | "1" => Ok(true),
        "n" | "no" | "false" | "0" => Ok(false),
        _ => Err("not a flag (expected Y/N, yes/no, true/false or 1/0)".to_owned()),
    }
}

/// A whole number (optionally signed) that fits the column's integer type.
pub(crate) fn parse_integer<T: std::str::FromStr>(text: &str) -> Result<T, String> {
    text.parse::<T>().map_err(|_| format!("not an integer in range for a {}-bit column", 8 * std::mem::size_of::<T>()))
}

/// Days since 1970-01-01 (Arrow `Date32`).
pub(crate) fn date32(date: NaiveDate) -> i32 {
    let days = date.signed_duration_since(NaiveDate::default()).num_days();
    // Every NaiveDate is within ±262143 years, far inside i32 days.
    i32::try_from(days).unwrap_or(if days < 0 { i32::MIN } else { i32::MAX })
}

/// Milliseconds since 1970-01-01 00:00 of a wall-clock date-time (Arrow `Timestamp(ms)`).
pub(crate) fn timestamp_ms(value: NaiveDateTime) -> i64 {
    value.and_utc().timestamp_millis()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ymd(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid date")
    }

    fn hms(h: u32, m: u32, s: u32) -> Option<NaiveTime> {
        NaiveTime::from_hms_opt(h, m, s)
    }

    #[test]
    fn dates_in_every_spelling() {
        let cases = [
            ("05/01/2023", ymd(2023, 5, 1), None),
            ("5/1/2023", ymd(2023, 5, 1), None),
            ("2023-05-01", ymd(2023, 5, 1), None),
            ("05/02/2023 09:15", ymd(2023, 5, 2), hms(9, 15, 0)),
            ("05/02/2023 09:15:07", ymd(2023, 5, 2), hms(9, 15, 7)),
            ("2023-05-02T23:10:00", ymd(2023, 5, 2), hms(23, 10, 0)),
            ("2023-05-02 7:05", ymd(2023, 5, 2), hms(7, 5, 0)),
            ("05022023080530", ymd(2023, 5, 2), hms(8, 5, 30)),
            ("1683014400", ymd(2023, 5, 2), hms(8, 0, 0)),
        ];
        for (text, date, time) in cases {
            assert_eq!(parse_datetime(text), Ok(DateTimeValue { date, time }), "{text}");
        }
    }

    #[test]
    fn bad_dates_are_rejected() {
        for text in [
            "13/01/2023",
            "2023/05/01",
            "05-01-2023",
            "02/30/2023",
            "yesterday",
            "05/01/23",
            "05/01/2023 25:00",
            "12345",
            "2023-05-01Z",
            "05/01/2023 9am",
        ] {
            assert!(parse_datetime(text).is_err(), "{text}");
        }
    }

    #[test]
    fn money_is_exact_cents() {
        let cases = [
            ("12.50", 1250),
            ("$12.50", 1250),
            ("12.50$", 1250),
            ("$1,234.56", 123_456),
            ("1 234.5", 123_450),
            ("€0.99", 99),
            ("£7", 700),
            ("-3.10", -310),
            ("$-3.10", -310),
            ("12.500", 1250),
            (".5", 50),
            ("9999999999999999.99", 999_999_999_999_999_999),
        ];
        for (text, cents) in cases {
            assert_eq!(parse_money(text), Ok(cents), "{text}");
        }
    }

    #[test]
    fn money_that_is_not_to_the_cent_is_rejected() {
        let error = parse_money("12.505").expect_err("three decimals");
        assert!(error.contains("more than 2 decimal places"), "{error}");
        for text in ["12,50", "1,23,456.00", "abc", "1.2.3", "$", "10000000000000000.00"] {
            assert!(parse_money(text).is_err(), "{text}");
        }
    }

    #[test]
    fn flags() {
        for text in ["Y", "y", "yes", "TRUE", "1"] {
            assert_eq!(parse_flag(text), Ok(true), "{text}");
        }
        for text in ["N", "no", "false", "0"] {
            assert_eq!(parse_flag(text), Ok(false), "{text}");
        }
        assert!(parse_flag("maybe").is_err());
    }

    #[test]
    fn integers_and_dates_as_arrow_values() {
        assert_eq!(parse_integer::<i32>("28"), Ok(28));
        assert!(parse_integer::<i32>("28.5").is_err());
        assert!(parse_integer::<i32>("99999999999").is_err());
        assert_eq!(date32(ymd(1970, 1, 2)), 1);
        assert_eq!(date32(ymd(1969, 12, 31)), -1);
        let at = ymd(1970, 1, 1).and_hms_opt(0, 0, 1).expect("valid time");
        assert_eq!(timestamp_ms(at), 1000);
    }
}
