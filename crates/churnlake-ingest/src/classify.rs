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

/// Compiled name patterns.
#[derive(Debug, Clone)]
pub struct Classifier {
    patterns: Vec<(ReportKind, Regex)>,
    offset_days: i64,
}

impl Classifier {
    /// Compiles `patterns` (case-insensitive); each must have a named group `stamp`.
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
                Ok((pattern.kind, regex))
            })
            .collect::<Result<_, _>>()?;
        Ok(Classifier { patterns: compiled, offset_days })
    }

    /// The first pattern that matches `name` and captures a valid stamp decides.
    pub fn classify(&self, name: &str) -> Option<Classified> {
        self.patterns.iter().find_map(|(kind, regex)| {
            let stamp_text = regex.captures(name)?.name("stamp")?.as_str();
            let (stamp, stamp_style, delivery) = parse_stamp(stamp_text)?;
            let data_date = stamp.date().checked_sub_signed(TimeDelta::try_days(self.offset_days)?)?;
            Some(Classified { kind: *kind, stamp, stamp_style, delivery, data_date })
        })
    }
}

/// Classifies one name with uncompiled patterns (a pattern that does not compile
/// matches nothing; [`Classifier::new`] reports it).
pub fn classify(name: &str, patterns: &[NamePattern], offset_days: i64) -> Option<Classified> {
    patterns.iter().find_map(|pattern| Classifier::new(std::slice::from_ref(pattern), offset_days).ok()?.classify(name))
}

/// `MMDDYYYYHHMMSS`, or `YYYYMMDD` with an optional `_delta` / `_full`.
fn parse_stamp(text: &str) -> Option<(NaiveDateTime, StampStyle, Option<String>)> {
    let digits = text.len() - text.trim_start_matches(|c: char| c.is_ascii_digit()).len();
    let (number, suffix) = text.split_at(digits);
    match (number.len(), suffix.to_ascii_lowercase().as_str()) {
        (14, "") => Some((parse_mmddyyyyhhmmss(number)?, StampStyle::Mmddyyyyhhmmss, None)),
        (8, suffix @ ("" | "_delta" | "_full")) => {
            let date = NaiveDate::parse_from_str(number, "%Y%m%d").ok()?;
            let delivery = suffix.strip_prefix('_').map(str::to_owned);
            Some((date.and_time(chrono::NaiveTime::MIN), StampStyle::Yyyymmdd, delivery))
        }
        _ => None,
    }
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
    fn a_pattern_needs_a_stamp_group() {
        let patterns = [NamePattern { kind: ReportKind::Orders, regex: r"^orders_\d{8}$".into() }];
        assert!(matches!(Classifier::new(&patterns, 1), Err(IngestError::Pattern { .. })));
        let patterns = [NamePattern { kind: ReportKind::Orders, regex: "(".into() }];
        assert!(Classifier::new(&patterns, 1).is_err());
    }
}
