//! File name → (report kind, stamp, data date). The name patterns are configuration
//! ([`NamePattern`]); this module compiles them once and reads the stamp they capture.
//!
//! In the chain: called by [`crate::run`]; imports [`crate::values`] (stamps),
//! [`crate::options`] and the error type.

use chrono::{NaiveDate, NaiveDateTime, TimeDelta};
use regex::{Regex, RegexBuilder};
use serde::Serialize;

use churnlake_lake::{ReportKind, StampStyle};

use crate::values::parse_mmddyyyyhhmmss;
use crate::{IngestError, NamePattern};

/// What a drop's name says about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Classified {
    pub kind: ReportKind,
    /// When the drop was produced (midnight for a `YYYYMMDD` stamp).
    pub stamp: NaiveDateTime,
    pub stamp_style: StampStyle,
    /// `delta` / `full` when the stamp says so.
    pub delivery: Option<String>,
    /// The day the file's data covers: the stamp's date minus the configured offset.
    pub data_date: NaiveDate,
}

/// A compiled name pattern.
#[derive(Debug, Clone)]
struct Compiled {
    kind: ReportKind,
    regex: Regex,
    /// The pattern's own stamp format (chrono), when it gives one.
    stamp_format: Option<String>,
}

/// Compiled name patterns, and the plausible range of stamp dates.
#[derive(Debug, Clone)]
pub struct Classifier {
    patterns: Vec<Compiled>,
    offset_days: i64,
    earliest: NaiveDate,
    latest: NaiveDate,
}

impl Classifier {
    /// Compiles `patterns` (case-insensitive); each must have a named group `stamp`, and a
    /// `stamp_format` it gives must be a valid chrono format. Stamps are accepted on any date;
    /// see [`Classifier::with_stamp_range`].
    pub fn new(patterns: &[NamePattern], offset_days: i64) -> Result<Classifier, IngestError> {
        let compiled = patterns
            .iter()
            .map(|pattern| {
                let bad =
                    |reason: String| IngestError::Pattern { kind: pattern.kind, regex: pattern.regex.clone(), reason };
                let regex =
                    RegexBuilder::new(&pattern.regex).case_insensitive(true).build().map_err(|e| bad(e.to_string()))?;
                if !regex.capture_names().any(|name| name == Some("stamp")) {
                    return Err(bad("no named group `stamp`".to_owned()));
                }
                if let Some(format) = &pattern.stamp_format {
                    let items = chrono::format::StrftimeItems::new(format);
                    if format.is_empty() || items.clone().any(|item| item == chrono::format::Item::Error) {
                        return Err(bad(format!("`stamp_format` \"{format}\" is not a valid chrono format")));
                    }
                }
                Ok(Compiled { kind: pattern.kind, regex, stamp_format: pattern.stamp_format.clone() })
            })
            .collect::<Result<_, _>>()?;
        Ok(Classifier { patterns: compiled, offset_days, earliest: NaiveDate::MIN, latest: NaiveDate::MAX })
    }

    /// Accepts only stamps dated `earliest..=latest`: a name whose stamp is outside is
    /// rejected with the reason (never taken for a drop of year 0 or 9999).
    pub fn with_stamp_range(mut self, earliest: NaiveDate, latest: NaiveDate) -> Classifier {
        self.earliest = earliest;
        self.latest = latest;
        self
    }

    /// The first pattern that matches `name` and captures a valid stamp decides.
    pub fn classify(&self, name: &str) -> Option<Classified> {
        self.check(name).ok().flatten()
    }

    /// [`Classifier::classify`], saying why a name that a pattern matches is not a drop:
    /// `Ok(None)` when no pattern matches, `Err(reason)` when patterns match but none captures
    /// a valid, plausible stamp (the first one's reason).
    pub fn check(&self, name: &str) -> Result<Option<Classified>, String> {
        let mut first_reason = None;
        for pattern in &self.patterns {
            let Some(stamp_text) = pattern.regex.captures(name).and_then(|c| c.name("stamp")) else {
                continue;
            };
            match self.read_stamp(pattern, stamp_text.as_str()) {
                Ok((stamp, stamp_style, delivery, data_date)) => {
                    return Ok(Some(Classified { kind: pattern.kind, stamp, stamp_style, delivery, data_date }));
                }
                Err(reason) => {
                    first_reason.get_or_insert(format!("named like a {} drop, but {reason}", pattern.kind));
                }
            }
        }
        match first_reason {
            Some(reason) => Err(reason),
            None => Ok(None),
        }
    }

    fn read_stamp(
        &self,
        pattern: &Compiled,
        text: &str,
    ) -> Result<(NaiveDateTime, StampStyle, Option<String>, NaiveDate), String> {
        let (stamp, style, delivery) = match &pattern.stamp_format {
            Some(format) => parse_formatted_stamp(text, format)?,
            None => parse_stamp(text)?,
        };
        let date = stamp.date();
        if date < self.earliest || date > self.latest {
            return Err(format!(
                "its stamp `{text}` is dated {date}, outside the plausible range {}..{} (set \
                 `earliest_stamp` / `latest_stamp` in the [ingest] configuration)",
                self.earliest, self.latest
            ));
        }
        let data_date = TimeDelta::try_days(self.offset_days)
            .and_then(|offset| date.checked_sub_signed(offset))
            .ok_or_else(|| format!("its stamp `{text}` minus the data-date offset is not a date"))?;
        Ok((stamp, style, delivery, data_date))
    }
}

/// Classifies one name with uncompiled patterns (a pattern that does not compile
/// matches nothing; [`Classifier::new`] reports it).
pub fn classify(name: &str, patterns: &[NamePattern], offset_days: i64) -> Option<Classified> {
    patterns.iter().find_map(|pattern| Classifier::new(std::slice::from_ref(pattern), offset_days).ok()?.classify(name))
}

type Stamp = (NaiveDateTime, StampStyle, Option<String>);

/// `_delta` / `_full` at the end of a stamp: (the rest, the delivery).
fn split_delivery(text: &str) -> (&str, Option<String>) {
    let lower = text.to_ascii_lowercase();
    for suffix in ["_delta", "_full"] {
        if lower.ends_with(suffix) {
            return (&text[..text.len() - suffix.len()], Some(suffix[1..].to_owned()));
        }
    }
    (text, None)
}

/// `MMDDYYYYHHMMSS`, or `YYYYMMDD` with an optional `_delta` / `_full`.
fn parse_stamp(text: &str) -> Result<Stamp, String> {
    let digits = text.len() - text.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    let (number, suffix) = text.split_at(digits);
    match (number.len(), suffix.to_ascii_lowercase().as_str()) {
        (14, "") => {
            parse_mmddyyyyhhmmss(number).map(|stamp| (stamp, StampStyle::Mmddyyyyhhmmss, None)).ok_or_else(|| {
                format!(
                    "its stamp `{text}` is not a valid MMDDYYYYHHMMSS date and time (a pattern whose stamp is \
                     written otherwise says so with `stamp_format`, e.g. \"%Y%m%d%H%M%S\")"
                )
            })
        }
        (8, suffix @ ("" | "_delta" | "_full")) => {
            let date = NaiveDate::parse_from_str(number, "%Y%m%d")
                .map_err(|_| format!("its stamp `{text}` is not a valid YYYYMMDD date"))?;
            let delivery = suffix.strip_prefix('_').map(str::to_owned);
            Ok((date.and_time(chrono::NaiveTime::MIN), StampStyle::Yyyymmdd, delivery))
        }
        _ => Err(format!(
            "its stamp `{text}` is neither MMDDYYYYHHMMSS nor YYYYMMDD[_delta|_full] (a pattern can give its \
             `stamp_format`)"
        )),
    }
}

/// A stamp in a pattern's own chrono format (a trailing `_delta` / `_full` is the delivery).
/// A format without a time of day gives midnight.
fn parse_formatted_stamp(text: &str, format: &str) -> Result<Stamp, String> {
    let (body, delivery) = split_delivery(text);
    let stamp = NaiveDateTime::parse_from_str(body, format)
        .or_else(|_| NaiveDate::parse_from_str(body, format).map(|d| d.and_time(chrono::NaiveTime::MIN)))
        .map_err(|e| format!("its stamp `{text}` does not read as \"{format}\": {e}"))?;
    Ok((stamp, StampStyle::Custom, delivery))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind_and_stamp(name: &str) -> Option<(ReportKind, String, Option<String>, String)> {
        classify(name, &NamePattern::defaults(), 1)
            .map(|c| (c.kind, c.stamp.format("%Y-%m-%d %H:%M:%S").to_string(), c.delivery, c.data_date.to_string()))
    }

    fn expect(name: &str, kind: ReportKind, stamp: &str, delivery: Option<&str>, data_date: &str) {
        assert_eq!(
            kind_and_stamp(name),
            Some((kind, stamp.to_owned(), delivery.map(str::to_owned), data_date.to_owned())),
            "{name}"
        );
    }

    #[test]
    fn every_documented_name() {
        use ReportKind::*;
        expect("SubscriptionCSV_03022023080530", Subscriptions, "2023-03-02 08:05:30", None, "2023-03-01");
        expect("acme_subscription_05022023060211.csv", Subscriptions, "2023-05-02 06:02:11", None, "2023-05-01");
        expect("SubscriptionsCancelledCSV_03022023080511", Cancellations, "2023-03-02 08:05:11", None, "2023-03-01");
        expect(
            "big_co_cancelled_subscriptions_20230502_delta.csv",
            Cancellations,
            "2023-05-02 00:00:00",
            Some("delta"),
            "2023-05-01",
        );
        expect("crm_subscriber_events_03072023080044.csv", SubscriberEvents, "2023-03-07 08:00:44", None, "2023-03-06");
        expect(
            "acme_crm_subscriber_events_20230502_full.csv",
            SubscriberEvents,
            "2023-05-02 00:00:00",
            Some("full"),
            "2023-05-01",
        );
        expect("acme_orders_20230502.csv", Orders, "2023-05-02 00:00:00", None, "2023-05-01");
        expect("acme_Inventory_Report_05022023060000.csv", Inventory, "2023-05-02 06:00:00", None, "2023-05-01");
        expect("acme_crm_subscription_05022023060000.csv", CrmSubscriptions, "2023-05-02 06:00:00", None, "2023-05-01");
    }

    #[test]
    fn overlapping_names_go_to_the_specific_kind() {
        use ReportKind::*;
        let kind = |name| kind_and_stamp(name).map(|k| k.0);
        assert_eq!(kind("my_crm_shop_crm_subscription_20230502.csv"), Some(CrmSubscriptions));
        assert_eq!(kind("crm_subscription_20230502"), Some(CrmSubscriptions));
        assert_eq!(kind("my_shop_subscription_20230502.csv"), Some(Subscriptions));
        assert_eq!(kind("my_shop_cancelled_subscriptions_20230502.csv"), Some(Cancellations));
        assert_eq!(kind("crm_subscriber_events_20230502"), Some(SubscriberEvents));
    }

    #[test]
    fn case_and_extension_do_not_matter() {
        assert!(kind_and_stamp("SUBSCRIPTIONCSV_03022023080530.CSV").is_some());
        assert!(kind_and_stamp("acme_inventory_report_20230502").is_some());
    }

    #[test]
    fn other_names_are_not_drops() {
        for name in [
            "README.txt",
            "SubscriptionCSV_0302202308053",  // 13 digits
            "SubscriptionCSV_13022023080530", // month 13
            "acme_subscription_20230230.csv", // 30 February
            "acme_subscription_20230502_partial.csv",
            "acme_subscription_05022023060211.csv.gz",
            "_subscription_20230502.csv", // no client
            "acme_subscription_20230502.parquet",
        ] {
            assert_eq!(kind_and_stamp(name), None, "{name}");
        }
    }

    #[test]
    fn the_offset_is_configurable() {
        let classified = classify("acme_orders_20230502.csv", &NamePattern::defaults(), 0);
        assert_eq!(classified.map(|c| c.data_date.to_string()).as_deref(), Some("2023-05-02"));
    }

    #[test]
    fn implausible_and_impossible_stamps_are_rejected_with_a_reason() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap_or_default();
        let classifier = Classifier::new(&NamePattern::defaults(), 1)
            .map(|c| c.with_stamp_range(NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or_default(), today))
            .expect("the defaults compile");
        for (name, expected) in [
            ("SubscriptionCSV_00000101", "outside the plausible range"),
            ("acme_subscription_99991231_full.csv", "outside the plausible range"),
            ("acme_subscription_20230230.csv", "not a valid YYYYMMDD date"),
            ("SubscriptionCSV_13022023080530", "not a valid MMDDYYYYHHMMSS"),
            ("acme_orders_20230502123000.csv", "not a valid MMDDYYYYHHMMSS"),
        ] {
            let reason = classifier.check(name).err().unwrap_or_default();
            assert!(reason.contains(expected), "{name}: {reason}");
        }
        assert_eq!(classifier.check("README.txt"), Ok(None));
        assert!(matches!(classifier.check("acme_orders_20230502.csv"), Ok(Some(_))));
    }

    #[test]
    fn a_pattern_gives_its_stamp_format() {
        let patterns = [NamePattern {
            kind: ReportKind::Subscriptions,
            regex: r"^(?P<client>.+)_subs_(?P<stamp>\d{14})\.csv$".into(),
            stamp_format: Some("%Y%m%d%H%M%S".into()),
        }];
        let classified = Classifier::new(&patterns, 1).expect("compiles").classify("acme_subs_20230502061500.csv");
        let classified = classified.expect("a drop");
        assert_eq!(classified.stamp.to_string(), "2023-05-02 06:15:00");
        assert_eq!(
            (classified.stamp_style, classified.data_date.to_string()),
            (StampStyle::Custom, "2023-05-01".into())
        );
        let bad = [NamePattern { stamp_format: Some("%Q".into()), ..patterns[0].clone() }];
        assert!(Classifier::new(&bad, 1).is_err());
    }

    #[test]
    fn a_pattern_needs_a_stamp_group() {
        let patterns = [NamePattern { kind: ReportKind::Orders, regex: r"^orders_\d{8}$".into(), stamp_format: None }];
        assert!(matches!(Classifier::new(&patterns, 1), Err(IngestError::Pattern { .. })));
        let patterns = [NamePattern { kind: ReportKind::Orders, regex: "(".into(), stamp_format: None }];
        assert!(Classifier::new(&patterns, 1).is_err());
    }
}
