//! Days as small integers and their written forms.
//!
//! The simulation counts days as offsets from the first data date (day 0; pre-start
//! creations are negative) and seconds since midnight. Millions of values are
//! written, so the calendar pre-computes year/month/day for the whole span once and
//! formats digits by hand instead of going through a formatter per value.

use chrono::{Datelike, Days, NaiveDate};

/// `MM/DD/YYYY` or `YYYY-MM-DD`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum DateStyle {
    Mdy,
    Iso,
}

/// `HH:MM` or `HH:MM:SS`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum TimeStyle {
    Hm,
    Hms,
}

/// Days covered by the table before day 0 and after the last day.
const BEFORE: i32 = 1200;
const AFTER: i32 = 800;

pub(crate) struct Calendar {
    start: NaiveDate,
    first: i32,
    ymd: Vec<(u16, u8, u8)>,
    /// Days from 1970-01-01 to `start`.
    start_epoch_day: i64,
}

impl Calendar {
    pub(crate) fn new(start: NaiveDate, days: u32) -> Self {
        let first = -BEFORE;
        let last = days as i32 + AFTER;
        let ymd = (first..=last)
            .map(|day| {
                let date = shift(start, day);
                (date.year() as u16, date.month() as u8, date.day() as u8)
            })
            .collect();
        let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or(NaiveDate::MIN);
        Calendar { start, first, ymd, start_epoch_day: (start - epoch).num_days() }
    }

    pub(crate) fn date(&self, day: i32) -> NaiveDate {
        shift(self.start, day)
    }

    /// (year, month, day) of a day offset.
    pub(crate) fn ymd(&self, day: i32) -> (u32, u32, u32) {
        match usize::try_from(day - self.first).ok().and_then(|i| self.ymd.get(i)) {
            Some(&(y, m, d)) => (u32::from(y), u32::from(m), u32::from(d)),
            None => {
                let date = self.date(day);
                (date.year() as u32, date.month(), date.day())
            }
        }
    }

    pub(crate) fn push_date(&self, buf: &mut String, day: i32, style: DateStyle) {
        let (y, m, d) = self.ymd(day);
        match style {
            DateStyle::Mdy => {
                push2(buf, m);
                buf.push('/');
                push2(buf, d);
                buf.push('/');
                push4(buf, y);
            }
            DateStyle::Iso => {
                push4(buf, y);
                buf.push('-');
                push2(buf, m);
                buf.push('-');
                push2(buf, d);
            }
        }
    }

    /// A date followed by a time of day, e.g. `05/02/2023 09:15:00`.
    pub(crate) fn push_date_time(&self, buf: &mut String, day: i32, secs: u32, date: DateStyle, time: TimeStyle) {
        self.push_date(buf, day, date);
        buf.push(' ');
        push_time(buf, secs, time);
    }

    /// 14 digits `MMDDYYYYHHMMSS`.
    pub(crate) fn push_digits14(&self, buf: &mut String, day: i32, secs: u32) {
        let (y, m, d) = self.ymd(day);
        push2(buf, m);
        push2(buf, d);
        push4(buf, y);
        push2(buf, secs / 3600);
        push2(buf, secs / 60 % 60);
        push2(buf, secs % 60);
    }

    /// 8 digits `YYYYMMDD`.
    pub(crate) fn push_yyyymmdd(&self, buf: &mut String, day: i32) {
        let (y, m, d) = self.ymd(day);
        push4(buf, y);
        push2(buf, m);
        push2(buf, d);
    }

    /// Epoch seconds of the local wall-clock time written as if it were UTC.
    pub(crate) fn push_epoch(&self, buf: &mut String, day: i32, secs: u32) {
        let value = (self.start_epoch_day + i64::from(day)) * 86_400 + i64::from(secs);
        push_u64(buf, value.max(0) as u64);
    }
}

fn shift(start: NaiveDate, day: i32) -> NaiveDate {
    let moved = if day >= 0 {
        start.checked_add_days(Days::new(day as u64))
    } else {
        start.checked_sub_days(Days::new(u64::from(day.unsigned_abs())))
    };
    moved.unwrap_or(start)
}

pub(crate) fn push_time(buf: &mut String, secs: u32, style: TimeStyle) {
    push2(buf, secs / 3600);
    buf.push(':');
    push2(buf, secs / 60 % 60);
    if style == TimeStyle::Hms {
        buf.push(':');
        push2(buf, secs % 60);
    }
}

fn digit(value: u32) -> char {
    char::from(b'0' + (value % 10) as u8)
}

pub(crate) fn push2(buf: &mut String, value: u32) {
    buf.push(digit(value / 10));
    buf.push(digit(value));
}

fn push4(buf: &mut String, value: u32) {
    push2(buf, value / 100);
    push2(buf, value % 100);
}

pub(crate) fn push_u64(buf: &mut String, mut value: u64) {
    let mut digits = [0u8; 20];
    let mut n = 0;
    loop {
        digits[n] = b'0' + (value % 10) as u8;
        n += 1;
        value /= 10;
        if value == 0 {
            break;
        }
    }
    for &d in digits[..n].iter().rev() {
        buf.push(char::from(d));
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn cal() -> Calendar {
        Calendar::new(NaiveDate::from_ymd_opt(2023, 5, 1).unwrap(), 10)
    }

    #[test]
    fn formats() {
        let cal = cal();
        let mut s = String::new();
        cal.push_date(&mut s, 1, DateStyle::Mdy);
        s.push('|');
        cal.push_date(&mut s, -1, DateStyle::Iso);
        s.push('|');
        cal.push_date_time(&mut s, 1, 9 * 3600 + 15 * 60 + 7, DateStyle::Mdy, TimeStyle::Hm);
        s.push('|');
        cal.push_digits14(&mut s, 1, 8 * 3600 + 5 * 60 + 30);
        s.push('|');
        cal.push_yyyymmdd(&mut s, 2);
        s.push('|');
        cal.push_epoch(&mut s, 0, 3600);
        assert_eq!(s, "05/02/2023|2023-04-30|05/02/2023 09:15|05022023080530|20230503|1682902800");
        assert_eq!(cal.date(-365), NaiveDate::from_ymd_opt(2022, 5, 1).unwrap());
        assert_eq!(cal.ymd(5000), (2037, 1, 7));
        let mut n = String::new();
        push_u64(&mut n, 0);
        push_u64(&mut n, 1_000_001);
        assert_eq!(n, "01000001");
    }
}
