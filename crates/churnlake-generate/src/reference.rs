//! Test-only: reads a generated `drops/` folder back the way FORMATS.md describes
//! it and applies METRICS.md by brute force (state of every subscription at the end
//! of every day), sharing nothing with the simulation. If the truth files agree
//! with what this reader finds, the drops really encode the truth. It also records
//! which spellings and anomalies it saw, for the variant-coverage test.

#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

use chrono::{Datelike, Days, NaiveDate, NaiveTime, Timelike};

/// One drop file's kind, from its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Subscriptions,
    Cancellations,
    Events,
    Other,
}

/// A date with an optional time of day (seconds).
type When = (NaiveDate, Option<u32>);

#[derive(Default, Debug)]
struct Sub {
    user: String,
    /// METRICS.md: the subscription report's earliest Create Date, else the
    /// cancellation report's (set once every file is read).
    created: Option<When>,
    created_in_report: Option<When>,
    created_in_cancellations: Option<When>,
    /// cancel date → latest time seen (None when never timed).
    cancels: BTreeMap<NaiveDate, Option<u32>>,
    reactivations: BTreeMap<NaiveDate, Option<u32>>,
    /// (data date, stamp, name, line) of the newest row with a product, and that product.
    product: Option<((NaiveDate, String, String, usize), String)>,
    first_report_row: Option<NaiveDate>,
    first_cancel_row: Option<NaiveDate>,
    in_subscription_reports: usize,
    /// Every report row's attributes (empty: `None`), with its order key.
    attrs: Vec<(RowKey, Attributes)>,
}

type RowKey = (NaiveDate, String, String, usize);

/// product, price (cents), quantity, frequency.
type Attributes = (Option<String>, Option<i128>, Option<i128>, Option<i128>);

/// A cancellation-report row: (reason, product, 24-hour flag), empty as `None`.
type CancelRow = (RowKey, Option<String>, Option<String>, Option<bool>);

/// What the reader found.
pub(crate) struct Observed {
    pub features: BTreeSet<String>,
    pub first: NaiveDate,
    pub last: NaiveDate,
    /// Per day: the 8 series columns.
    pub series: Vec<[i64; 8]>,
    /// Per product: per day the 8 columns.
    pub by_product: BTreeMap<String, Vec<[i64; 8]>>,
    /// subscription_id → (user_id, created, max cancel, max reactivation, status)
    pub subscriptions: BTreeMap<String, [String; 5]>,
    /// The lines (no header) `revenue.csv`, `revenue_by_product.csv`,
    /// `cohorts_subscriptions.csv`, `cohorts_subscribers.csv` and
    /// `cancellation_events.csv` must have, by brute force over the rows.
    pub revenue: Vec<String>,
    pub revenue_by_product: Vec<String>,
    pub cohorts_subscriptions: Vec<String>,
    pub cohorts_subscribers: Vec<String>,
    pub cancellations: Vec<String>,
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files_under(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// (kind, name pattern, stamp text, stamp style) from a file name.
fn classify(name: &str) -> (Kind, String, String, &'static str) {
    let stem = name.strip_suffix(".csv").unwrap_or(name);
    let (rest, stamp, style) = if let Some(rest) = stem.strip_suffix("_delta") {
        (&rest[..rest.len() - 9], &rest[rest.len() - 8..], "YYYYMMDD_delta")
    } else if let Some(rest) = stem.strip_suffix("_full") {
        (&rest[..rest.len() - 9], &rest[rest.len() - 8..], "YYYYMMDD_full")
    } else {
        let digits = stem.rsplit('_').next().unwrap();
        assert!(digits.chars().all(|c| c.is_ascii_digit()), "{name}");
        let style = match digits.len() {
            14 => "MMDDYYYYHHMMSS",
            8 => "YYYYMMDD",
            _ => panic!("bad stamp in {name}"),
        };
        (&stem[..stem.len() - digits.len() - 1], digits, style)
    };
    let ext = if name.ends_with(".csv") { ".csv" } else { "" };
    let (kind, pattern) = if rest == "SubscriptionCSV" {
        (Kind::Subscriptions, "SubscriptionCSV_<stamp>".to_string())
    } else if rest == "SubscriptionsCancelledCSV" {
        (Kind::Cancellations, "SubscriptionsCancelledCSV_<stamp>".to_string())
    } else if rest == "crm_subscriber_events" {
        (Kind::Events, "crm_subscriber_events_<stamp>".to_string())
    } else {
        // Longest known suffix first: `_crm_subscription` also ends in `_subscription`.
        let suffixes = [
            ("_crm_subscriber_events", Kind::Events),
            ("_cancelled_subscriptions", Kind::Cancellations),
            ("_crm_subscription", Kind::Other),
            ("_Inventory_Report", Kind::Other),
            ("_orders", Kind::Other),
            ("_subscription", Kind::Subscriptions),
        ];
        let (suffix, kind) = suffixes.iter().find(|(s, _)| rest.ends_with(s)).unwrap_or_else(|| panic!("{name}"));
        assert_eq!(&rest[..rest.len() - suffix.len()], crate::catalogue::CLIENT);
        (*kind, format!("<client>{suffix}_<stamp>"))
    };
    (kind, format!("{pattern}{ext}"), stamp.to_string(), style)
}

fn stamp_date(stamp: &str) -> NaiveDate {
    if stamp.len() == 14 {
        NaiveDate::parse_from_str(&stamp[..8], "%m%d%Y").unwrap()
    } else {
        NaiveDate::parse_from_str(stamp, "%Y%m%d").unwrap()
    }
}

/// RFC-4180-ish records; blank lines dropped.
fn records(text: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut record = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if quoted {
            if c == '"' {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    field.push('"');
                } else {
                    quoted = false;
                }
            } else {
                field.push(c);
            }
            continue;
        }
        match c {
            '"' => quoted = true,
            ',' => record.push(std::mem::take(&mut field)),
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                record.push(std::mem::take(&mut field));
                out.push(std::mem::take(&mut record));
            }
            _ => field.push(c),
        }
    }
    if !field.is_empty() || !record.is_empty() {
        record.push(field);
        out.push(record);
    }
    out.retain(|r| !(r.len() == 1 && r[0].is_empty()));
    out
}

fn secs(time: &str) -> Option<u32> {
    let t = NaiveTime::parse_from_str(time, "%H:%M:%S").or_else(|_| NaiveTime::parse_from_str(time, "%H:%M")).ok()?;
    Some(t.num_seconds_from_midnight())
}

/// A date or date-time in any FORMATS.md spelling; the feature says which.
fn when(value: &str) -> Option<(When, &'static str)> {
    let value = value.trim();
    if value.is_empty() {
        return None;
    }
    if value.chars().all(|c| c.is_ascii_digit()) {
        if value.len() == 14 {
            let date = NaiveDate::parse_from_str(&value[..8], "%m%d%Y").ok()?;
            let t = &value[8..];
            let s =
                t[..2].parse::<u32>().ok()? * 3600 + t[2..4].parse::<u32>().ok()? * 60 + t[4..].parse::<u32>().ok()?;
            return Some(((date, Some(s)), "14-digit"));
        }
        let epoch: i64 = value.parse().ok()?;
        let date = NaiveDate::from_ymd_opt(1970, 1, 1)?.checked_add_days(Days::new((epoch / 86_400) as u64))?;
        return Some(((date, Some((epoch % 86_400) as u32)), "epoch"));
    }
    let (date, time) = match value.split_once(' ') {
        Some((d, t)) => (d, Some(t)),
        None => (value, None),
    };
    let (date, style) = if date.contains('/') {
        (NaiveDate::parse_from_str(date, "%m/%d/%Y").ok()?, "MM/DD/YYYY")
    } else {
        (NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()?, "YYYY-MM-DD")
    };
    match time {
        None => Some(((date, None), style)),
        Some(t) => Some(((date, Some(secs(t)?)), if t.len() == 5 { "date HH:MM" } else { "date HH:MM:SS" })),
    }
}

fn normalise(name: &str) -> String {
    let lower = name.trim().to_lowercase();
    if lower == "ordergroove user id" { "user id".to_string() } else { lower }
}

const DOCUMENTED: [&str; 30] = [
    "merchant",
    "user id",
    "merchant user id",
    "create date",
    "create time",
    "start date",
    "customer status",
    "subscription id",
    "offer id",
    "merchant order id",
    "guest checkout",
    "email address",
    "first name",
    "last name",
    "product",
    "product id",
    "sku",
    "frequency (days)",
    "reminder (days)",
    "status",
    "quantity",
    "price",
    "discount price",
    "24 hour cancel",
    "cancel date",
    "cancel reason",
    "orders placed",
    "last order date",
    "extra data - reporting",
    "public subscription id",
];

/// Reads every file under `drops` and computes the METRICS.md outputs.
pub(crate) fn read_drops(drops: &Path) -> Observed {
    let mut paths = Vec::new();
    files_under(drops, &mut paths);
    paths.sort();
    let mut features = BTreeSet::new();
    let mut feature = |f: &str| {
        features.insert(f.to_string());
    };
    let mut subs: BTreeMap<String, Sub> = BTreeMap::new();
    let mut public: HashMap<String, String> = HashMap::new();
    let mut code9: Vec<(String, When, NaiveDate)> = Vec::new();
    let mut data_dates = BTreeSet::new();
    let mut contents: HashMap<Vec<u8>, usize> = HashMap::new();
    let mut codes = BTreeSet::new();
    let mut cancel_rows: BTreeMap<(String, NaiveDate), Vec<CancelRow>> = BTreeMap::new();

    for path in &paths {
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        let (kind, pattern, stamp, stamp_style) = classify(&name);
        feature(&format!("name/{pattern}"));
        feature(&format!("stamp/{stamp_style}"));
        let data_date = stamp_date(&stamp).pred_opt().unwrap();
        data_dates.insert(data_date);
        let bytes = std::fs::read(path).unwrap();
        if !bytes.is_empty() {
            *contents.entry(bytes.clone()).or_default() += 1;
        }
        if bytes.is_empty() {
            feature(&format!("empty/zero_byte/{kind:?}"));
            continue;
        }
        let text = if let Some(rest) = bytes.strip_prefix(&[0xef, 0xbb, 0xbf]) {
            feature("encoding/utf-8-bom");
            String::from_utf8(rest.to_vec()).unwrap()
        } else if let Ok(text) = String::from_utf8(bytes.clone()) {
            text
        } else {
            feature("encoding/windows-1252");
            encoding_rs::WINDOWS_1252.decode(&bytes).0.into_owned()
        };
        if text.contains("\r\n") {
            feature("text/crlf");
        }
        if text.ends_with("\n\n") || text.ends_with("\r\n\r\n") {
            feature("text/trailing_blank_line");
        }
        let rows = records(&text);
        if kind == Kind::Other {
            continue;
        }
        if kind == Kind::Events {
            for row in &rows {
                feature(&format!("events/{}_fields", row.len()));
                let code: u32 = row[row.len() - 2].parse().unwrap();
                codes.insert(code);
                let (at, style) = when(&row[row.len() - 1]).unwrap();
                feature(&format!("event_date/{style}"));
                if code == 9 {
                    code9.push((row[0].clone(), at, data_date));
                    if at.0 < data_date {
                        feature("delivery/event_in_a_later_file");
                    }
                }
            }
            continue;
        }
        let header: Vec<String> = rows[0].iter().map(|h| normalise(h)).collect();
        let raw = &rows[0];
        if rows.len() == 1 {
            feature("empty/header_only");
        }
        if raw.iter().any(|h| h == "Ordergroove User ID") {
            feature("header/ordergroove_user_id");
        }
        if raw.iter().any(|h| h == "subscription id") {
            feature("header/subscription id");
        }
        if raw.iter().any(|h| h == " Product ") {
            feature("header/ Product ");
        }
        if header.iter().any(|h| !DOCUMENTED.contains(&h.as_str())) {
            feature("header/unknown_column");
        }
        let positions: Vec<usize> = header.iter().filter_map(|h| DOCUMENTED.iter().position(|d| d == h)).collect();
        if positions.windows(2).any(|w| w[0] > w[1]) {
            feature("header/reordered");
        }
        if DOCUMENTED.iter().filter(|d| **d != "extra data - reporting").any(|d| !header.iter().any(|h| h == d)) {
            feature("header/optional_absent");
        }
        let col = |n: &str| header.iter().position(|h| h == n);
        let (id_c, pub_c, user_c, create_c) = (
            col("subscription id").unwrap(),
            col("public subscription id").unwrap(),
            col("user id").unwrap(),
            col("create date").unwrap(),
        );
        let (time_c, cancel_c, product_c, flag_c, price_c) =
            (col("create time"), col("cancel date"), col("product"), col("24 hour cancel"), col("price"));
        let (quantity_c, frequency_c, reason_c) = (col("quantity"), col("frequency (days)"), col("cancel reason"));
        for (line, row) in rows.iter().enumerate().skip(1) {
            assert_eq!(row.len(), header.len(), "{name} line {line}");
            if row.iter().any(|v| v.contains('\n')) {
                feature("text/quoted_newline");
            }
            if row.iter().any(|v| v.contains(',')) {
                feature("text/quoted_comma");
            }
            if row.iter().any(|v| v.contains('"')) {
                feature("text/escaped_quote");
            }
            let id = row[id_c].clone();
            assert!(id.chars().all(|c| c.is_ascii_digit()));
            let sub = subs.entry(id.clone()).or_default();
            sub.user = row[user_c].clone();
            let public_id = row[pub_c].clone();
            assert!(public_id.len() == 32 && public_id.chars().all(|c| c.is_ascii_hexdigit()));
            public.insert(public_id, id.clone());
            let (mut created, style) = when(&row[create_c]).unwrap();
            feature(&format!("create_date/{style}"));
            if let Some(c) = time_c {
                let value = &row[c];
                if value.contains(' ') {
                    feature("create_time/full_date_time");
                }
                let time = value.rsplit(' ').next().unwrap();
                created.1 = secs(time);
            }
            let slot = match kind {
                Kind::Subscriptions => &mut sub.created_in_report,
                _ => &mut sub.created_in_cancellations,
            };
            if slot.is_none_or(|c| created < c) {
                *slot = Some(created);
            }
            if let Some((at, style)) = cancel_c.and_then(|c| when(&row[c])) {
                feature(&format!("cancel_date/{style}"));
                if kind == Kind::Subscriptions {
                    feature("delivery/subscription_row_with_cancel_date");
                }
                let slot = sub.cancels.entry(at.0).or_insert(None);
                *slot = (*slot).max(at.1);
            }
            let value = |c: Option<usize>| c.map(|c| row[c].clone()).filter(|v| !v.is_empty());
            let number = |c: Option<usize>| value(c).map(|v| v.parse::<i128>().unwrap());
            let price = value(price_c).map(|v| {
                let digits: String = v.chars().filter(|c| c.is_ascii_digit() || *c == '.').collect();
                let (whole, cents) = digits.split_once('.').unwrap();
                whole.parse::<i128>().unwrap() * 100 + cents.parse::<i128>().unwrap()
            });
            let key: RowKey = (data_date, stamp.clone(), name.clone(), line);
            sub.attrs.push((key.clone(), (value(product_c), price, number(quantity_c), number(frequency_c))));
            if kind == Kind::Cancellations {
                let flag = value(flag_c).map(|f| matches!(f.as_str(), "Y" | "true" | "1"));
                let at = when(&row[cancel_c.unwrap()]).unwrap().0.0;
                cancel_rows.entry((id.clone(), at)).or_default().push((key, value(reason_c), value(product_c), flag));
            }
            if let Some(c) = product_c {
                let key = (data_date, stamp.clone(), name.clone(), line);
                if sub.product.as_ref().is_none_or(|(k, _)| *k < key) {
                    sub.product = Some((key, row[c].clone()));
                }
            }
            if let Some(c) = flag_c {
                match row[c].as_str() {
                    "true" | "false" => feature("flag/true_false"),
                    "1" | "0" => feature("flag/1_0"),
                    "N" => feature("flag/Y_N"),
                    "Y" => feature("flag/Y"),
                    _ => {}
                }
            }
            if let Some(c) = price_c {
                if row[c].starts_with('$') {
                    feature("money/dollar");
                }
                if row[c].contains(',') {
                    feature("money/thousands");
                }
            }
            match kind {
                Kind::Subscriptions => {
                    sub.in_subscription_reports += 1;
                    sub.first_report_row = sub.first_report_row.min(Some(data_date)).or(Some(data_date));
                }
                _ => sub.first_cancel_row = sub.first_cancel_row.min(Some(data_date)).or(Some(data_date)),
            }
        }
    }
    if contents.values().any(|&n| n > 1) {
        feature("delivery/identical_file_resent");
    }
    if codes.contains(&42) {
        feature("events/unknown_code_42");
    }
    if codes.contains(&5) {
        feature("events/code_5");
    }
    if codes.len() >= 15 {
        feature("events/many_noise_codes");
    }
    for (public_id, at, _) in code9 {
        match public.get(&public_id) {
            Some(id) => {
                let slot = subs.get_mut(id).unwrap().reactivations.entry(at.0).or_insert(None);
                *slot = (*slot).max(at.1);
            }
            None => feature("events/orphan_code_9"),
        }
    }
    for sub in subs.values_mut() {
        if let (Some(r), Some(c)) = (sub.created_in_report, sub.created_in_cancellations)
            && c.0 < r.0
        {
            feature("lifecycle/cancellation_row_dates_creation_earlier");
        }
        sub.created = sub.created_in_report.or(sub.created_in_cancellations);
    }
    let first = *data_dates.first().unwrap();
    let last = *data_dates.last().unwrap();
    if subs.values().any(|s| s.cancels.keys().next_back().is_some_and(|&d| d > last)) {
        feature("lifecycle/cancel_dated_after_last_day");
    }
    let all_days: Vec<NaiveDate> = first.iter_days().take_while(|d| *d <= last).collect();
    if all_days.iter().any(|d| !data_dates.contains(d)) {
        feature("delivery/missing_day");
    }

    // METRICS.md: end-of-day state of each subscription on each day (None: absent).
    let days = all_days.len();
    let mut states: BTreeMap<&String, Vec<Option<bool>>> = BTreeMap::new();
    for (id, sub) in &subs {
        let created = sub.created.unwrap().0;
        if created < first {
            feature("lifecycle/created_before_first_day");
        }
        if sub.first_report_row.is_none() {
            feature("delivery/known_only_from_cancellation_report");
        }
        if sub.in_subscription_reports > 1 {
            feature("delivery/overlapping_subscription_rows");
        }
        if let (Some(r), Some(c)) = (sub.first_report_row, sub.first_cancel_row)
            && c < r
        {
            feature("delivery/cancel_before_create_row");
        }
        // Events in date order; same date: both timed → by time, else cancel last.
        let mut events: Vec<(NaiveDate, u8, u32, bool)> = Vec::new();
        for (&date, &time) in &sub.cancels {
            assert!(date >= created, "cancel before creation in {id}");
            let pair = sub.reactivations.get(&date);
            let key = match (time, pair) {
                (Some(t), Some(Some(_))) => t,
                _ => u32::MAX,
            };
            events.push((date, 1, key, false));
            if date == created {
                feature("lifecycle/same_day_create_cancel");
            }
            if let Some(&rt) = pair {
                match (time, rt) {
                    (Some(c), Some(r)) if c < r => feature("lifecycle/same_day_cancel_then_reactivate_timed"),
                    (Some(_), Some(_)) => feature("lifecycle/same_day_reactivate_then_cancel_timed"),
                    (None, None) => feature("lifecycle/same_day_pair_untimed"),
                    _ => feature("lifecycle/same_day_pair_one_timed"),
                }
            }
        }
        for (&date, &time) in &sub.reactivations {
            assert!(date >= created, "reactivation before creation in {id}");
            let pair = sub.cancels.get(&date);
            let key = match (time, pair) {
                (Some(t), Some(Some(_))) => t,
                _ => 0,
            };
            events.push((date, 1, key, true));
        }
        events.sort_by_key(|e| (e.0, e.1, e.2, !e.3));
        let mut column = Vec::with_capacity(days);
        let mut state = true;
        let mut next = 0;
        for day in &all_days {
            if *day < created {
                column.push(None);
                continue;
            }
            while next < events.len() && events[next].0 <= *day {
                state = events[next].3;
                next += 1;
            }
            column.push(Some(state));
        }
        states.insert(id, column);
    }

    // Flows comparing end of D-1 with end of D; `before` is the day before `first`.
    let flows = |columns: &[Vec<Option<bool>>], before: &[Option<bool>], out: &mut Vec<[i64; 4]>| {
        for d in 0..days {
            let mut f = [0i64; 4];
            for (i, column) in columns.iter().enumerate() {
                let prev = if d == 0 { before[i] } else { column[d - 1] };
                let now = column[d];
                if now == Some(true) {
                    f[0] += 1;
                }
                if prev.is_none() && now.is_some() {
                    f[1] += 1;
                }
                if prev != Some(false) && now == Some(false) {
                    f[2] += 1;
                }
                if prev == Some(false) && now == Some(true) {
                    f[3] += 1;
                }
            }
            out.push(f);
        }
    };
    let day_before = first.pred_opt().unwrap();
    let before_state = |sub: &Sub| -> Option<bool> {
        let created = sub.created.unwrap().0;
        (created <= day_before).then(|| {
            // No events before the first day in generated data: active.
            let last_cancel = sub.cancels.range(..=day_before).next_back().map(|c| *c.0);
            let last_react = sub.reactivations.range(..=day_before).next_back().map(|r| *r.0);
            last_cancel.is_none_or(|c| last_react.is_some_and(|r| r > c))
        })
    };
    let series_for = |ids: &[&String]| -> Vec<[i64; 8]> {
        let columns: Vec<Vec<Option<bool>>> = ids.iter().map(|id| states[*id].clone()).collect();
        let before: Vec<Option<bool>> = ids.iter().map(|id| before_state(&subs[*id])).collect();
        let mut sub_flows = Vec::new();
        flows(&columns, &before, &mut sub_flows);
        // Subscribers: exist when one of their subscriptions does, active when one is.
        let mut by_user: BTreeMap<&String, Vec<usize>> = BTreeMap::new();
        for (i, id) in ids.iter().enumerate() {
            by_user.entry(&subs[*id].user).or_default().push(i);
        }
        let combine = |states: Vec<Option<bool>>| -> Option<bool> {
            if states.contains(&Some(true)) {
                Some(true)
            } else if states.iter().any(|s| s.is_some()) {
                Some(false)
            } else {
                None
            }
        };
        let user_columns: Vec<Vec<Option<bool>>> = by_user
            .values()
            .map(|members| (0..days).map(|d| combine(members.iter().map(|&i| columns[i][d]).collect())).collect())
            .collect();
        let user_before: Vec<Option<bool>> =
            by_user.values().map(|members| combine(members.iter().map(|&i| before[i]).collect())).collect();
        let mut user_flows = Vec::new();
        flows(&user_columns, &user_before, &mut user_flows);
        sub_flows.iter().zip(&user_flows).map(|(s, u)| [s[0], s[1], s[2], s[3], u[0], u[1], u[2], u[3]]).collect()
    };
    let ids: Vec<&String> = subs.keys().collect();
    let series = series_for(&ids);
    let mut products: BTreeMap<String, Vec<&String>> = BTreeMap::new();
    for (id, sub) in &subs {
        products.entry(sub.product.as_ref().unwrap().1.clone()).or_default().push(id);
    }
    let by_product = products.iter().map(|(p, ids)| (p.clone(), series_for(ids))).collect();
    let iso = |d: Option<&NaiveDate>| d.map(|d| d.format("%Y-%m-%d").to_string()).unwrap_or_default();
    let subscriptions = subs
        .iter()
        .map(|(id, sub)| {
            let status = if states[id][days - 1] == Some(true) { "active" } else { "inactive" };
            let row = [
                sub.user.clone(),
                iso(sub.created.as_ref().map(|c| &c.0)),
                iso(sub.cancels.keys().next_back()),
                iso(sub.reactivations.keys().next_back()),
                status.to_string(),
            ];
            (id.clone(), row)
        })
        .collect();
    let money = Money { subs: &subs, states: &states, days: &all_days, series: &series };
    let (revenue, revenue_by_product) = money.revenue();
    let (cohorts_subscriptions, cohorts_subscribers) = money.cohorts();
    let cancellations = cancellation_lines(&subs, &cancel_rows);
    Observed {
        features,
        first,
        last,
        series,
        by_product,
        subscriptions,
        revenue,
        revenue_by_product,
        cohorts_subscriptions,
        cohorts_subscribers,
        cancellations,
    }
}

/// An exact fraction (denominator > 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Q(i128, i128);

impl Q {
    const ZERO: Q = Q(0, 1);

    fn new(n: i128, d: i128) -> Q {
        fn gcd(a: i128, b: i128) -> i128 {
            if b == 0 { a.abs() } else { gcd(b, a % b) }
        }
        let g = gcd(n, d).max(1);
        Q(n / g, d / g)
    }

    fn add(self, o: Q) -> Q {
        Q::new(self.0 * o.1 + o.0 * self.1, self.1 * o.1)
    }

    fn sub(self, o: Q) -> Q {
        self.add(Q(-o.0, o.1))
    }

    /// Cents rounded half to even, as `d.cc`.
    fn cents(self) -> String {
        let (n, d) = (self.0 * 100, self.1);
        let (q, r) = (n.div_euclid(d), n.rem_euclid(d));
        let q = if 2 * r > d || (2 * r == d && q % 2 == 1) { q + 1 } else { q };
        format!("{}.{:02}", q / 100, q % 100)
    }
}

/// Brute-force revenue and cohorts: every subscription on every day.
struct Money<'a> {
    subs: &'a BTreeMap<String, Sub>,
    states: &'a BTreeMap<&'a String, Vec<Option<bool>>>,
    days: &'a [NaiveDate],
    series: &'a [[i64; 8]],
}

impl Money<'_> {
    /// METRICS.md: per attribute, the newest row dated ≤ `day` with a value, else the oldest.
    fn in_effect<T: Clone>(sub: &Sub, day: NaiveDate, pick: impl Fn(&Attributes) -> Option<T>) -> Option<T> {
        let with: Vec<&(RowKey, Attributes)> = sub.attrs.iter().filter(|(_, a)| pick(a).is_some()).collect();
        let newest = with.iter().filter(|(k, _)| k.0 <= day).max_by(|a, b| a.0.cmp(&b.0));
        let chosen = newest.or_else(|| with.iter().min_by(|a, b| a.0.cmp(&b.0)));
        chosen.and_then(|(_, a)| pick(a))
    }

    /// (active, MRR when known, product) at the end of `day` (index `d`, -1: the day before).
    fn at(&self, id: &String, d: isize) -> (bool, Option<Q>, String) {
        let sub = &self.subs[id];
        let day = if d < 0 { self.days[0].pred_opt().unwrap() } else { self.days[d as usize] };
        let active = if d < 0 {
            // generated data has no events before the first day
            sub.created.unwrap().0 < self.days[0] && sub.cancels.range(..self.days[0]).next().is_none()
        } else {
            self.states[id][d as usize] == Some(true)
        };
        let product = Self::in_effect(sub, day, |a| a.0.clone()).unwrap();
        let price = Self::in_effect(sub, day, |a| a.1);
        let quantity = Self::in_effect(sub, day, |a| a.2);
        let frequency = Self::in_effect(sub, day, |a| a.3);
        let mrr = match (price, quantity, frequency) {
            (Some(p), Some(q), Some(f)) if f != 0 => Some(Q::new(p * q * 304_375, 100 * 10_000 * f)),
            _ => None,
        };
        (active, mrr, product)
    }

    fn revenue(&self) -> (Vec<String>, Vec<String>) {
        let products: BTreeSet<String> =
            self.subs.values().flat_map(|s| s.attrs.iter().filter_map(|(_, a)| a.0.clone())).collect();
        // per group ("" = total): per day mrr, 5 movements, unknown; subscriber sets
        type Cells = (Q, [Q; 5], i64, BTreeSet<String>);
        let empty = || (Q::ZERO, [Q::ZERO; 5], 0i64, BTreeSet::new());
        let mut cells: BTreeMap<(usize, String), Cells> = BTreeMap::new();
        for (id, sub) in self.subs {
            let created = sub.created.unwrap().0;
            let mut before = self.at(id, -1);
            for (d, &day) in self.days.iter().enumerate() {
                let now = self.at(id, d as isize);
                let value = |p: &(bool, Option<Q>, String)| if p.0 { p.1.unwrap_or(Q::ZERO) } else { Q::ZERO };
                let (b, n) = (value(&before), value(&now));
                let existed = created < day;
                let mut groups = vec![String::new(), now.2.clone()];
                if before.2 != now.2 {
                    groups.push(before.2.clone());
                }
                for group in groups {
                    let cell = cells.entry((d, group.clone())).or_insert_with(empty);
                    let in_now = group.is_empty() || group == now.2;
                    let in_before = group.is_empty() || group == before.2;
                    let (gb, gn) = (if in_before { b } else { Q::ZERO }, if in_now { n } else { Q::ZERO });
                    if in_now && now.0 {
                        cell.0 = cell.0.add(gn);
                        if now.1.is_none() {
                            cell.2 += 1;
                        }
                        cell.3.insert(sub.user.clone());
                    }
                    if !existed {
                        cell.1[0] = cell.1[0].add(gn);
                    } else if !before.0 && now.0 {
                        cell.1[1] = cell.1[1].add(gn);
                    } else if before.0 && !now.0 {
                        cell.1[4] = cell.1[4].add(gb);
                    } else if before.0 && now.0 {
                        let change = gn.sub(gb);
                        if change.0 > 0 {
                            cell.1[2] = cell.1[2].add(change);
                        } else if change.0 < 0 {
                            cell.1[3] = cell.1[3].sub(change);
                        }
                    }
                }
                before = now;
            }
        }
        let line = |cell: Option<&Cells>, subscribers: i64| {
            let (mrr, m, unknown) = cell.map_or((Q::ZERO, [Q::ZERO; 5], 0), |c| (c.0, c.1, c.2));
            let arpu =
                if subscribers > 0 { Q::new(mrr.0, mrr.1 * i128::from(subscribers)).cents() } else { String::new() };
            format!(
                "{},{arpu},{},{},{},{},{},{unknown}",
                mrr.cents(),
                m[0].cents(),
                m[1].cents(),
                m[2].cents(),
                m[3].cents(),
                m[4].cents()
            )
        };
        let date = |d: usize| self.days[d].format("%Y-%m-%d").to_string();
        let total = (0..self.days.len())
            .map(|d| format!("{},{}", date(d), line(cells.get(&(d, String::new())), self.series[d][4])))
            .collect();
        let mut grouped = Vec::new();
        for d in 0..self.days.len() {
            for product in &products {
                let cell = cells.get(&(d, product.clone()));
                let subscribers = cell.map_or(0, |c| c.3.len() as i64);
                let name = if product.contains([',', '"']) {
                    format!("\"{}\"", product.replace('"', "\"\""))
                } else {
                    product.clone()
                };
                grouped.push(format!("{},{name},{}", date(d), line(cell, subscribers)));
            }
        }
        (total, grouped)
    }

    fn cohorts(&self) -> (Vec<String>, Vec<String>) {
        let ends: Vec<usize> = (0..self.days.len())
            .filter(|&d| self.days[d].succ_opt().unwrap().month() != self.days[d].month())
            .collect();
        let month = |date: NaiveDate| date.format("%Y-%m").to_string();
        let months =
            |from: NaiveDate, to: NaiveDate| (to.year() - from.year()) * 12 + to.month() as i32 - from.month() as i32;
        // entity → (cohort start date, per month end: active)
        let mut subscriptions: Vec<(NaiveDate, Vec<bool>)> = Vec::new();
        let mut users: BTreeMap<&String, (NaiveDate, Vec<bool>)> = BTreeMap::new();
        for (id, sub) in self.subs {
            let created = sub.created.unwrap().0;
            let active: Vec<bool> = ends.iter().map(|&d| self.states[id][d] == Some(true)).collect();
            let user = users.entry(&sub.user).or_insert((created, vec![false; ends.len()]));
            user.0 = user.0.min(created);
            for (u, a) in user.1.iter_mut().zip(&active) {
                *u |= *a;
            }
            subscriptions.push((created, active));
        }
        let table = |entities: Vec<(NaiveDate, Vec<bool>)>| {
            let mut cohorts: BTreeMap<String, (NaiveDate, i64, Vec<i64>)> = BTreeMap::new();
            for (created, active) in entities {
                let cell = cohorts.entry(month(created)).or_insert((created, 0, vec![0; ends.len()]));
                cell.1 += 1;
                for (c, a) in cell.2.iter_mut().zip(&active) {
                    *c += i64::from(*a);
                }
            }
            let mut lines = Vec::new();
            for (name, (created, size, active)) in cohorts {
                for (m, &d) in ends.iter().enumerate() {
                    let age = months(created, self.days[d]);
                    if age >= 0 {
                        let exact = Q::new(i128::from(active[m]) * 1_000_000, i128::from(size));
                        let (q, r) = (exact.0.div_euclid(exact.1), exact.0.rem_euclid(exact.1));
                        let q = if 2 * r > exact.1 || (2 * r == exact.1 && q % 2 == 1) { q + 1 } else { q };
                        lines.push(format!("{name},{age},{size},{},{}.{:06}", active[m], q / 1_000_000, q % 1_000_000));
                    }
                }
            }
            lines
        };
        (table(subscriptions), table(users.into_values().collect()))
    }
}

/// `cancellation_events.csv` by brute force: per (subscription, cancel date) and column,
/// the newest row's non-empty value.
fn cancellation_lines(
    subs: &BTreeMap<String, Sub>,
    rows: &BTreeMap<(String, NaiveDate), Vec<CancelRow>>,
) -> Vec<String> {
    let mut keyed: Vec<(u64, NaiveDate, String)> = Vec::new();
    for ((id, at), rows) in rows {
        let newest = |pick: &dyn Fn(&CancelRow) -> Option<String>| {
            rows.iter().filter(|r| pick(r).is_some()).max_by(|a, b| a.0.cmp(&b.0)).and_then(pick)
        };
        let quote =
            |v: String| if v.contains([',', '"', '\n']) { format!("\"{}\"", v.replace('"', "\"\"")) } else { v };
        let reason = newest(&|r| r.1.clone()).map(quote).unwrap_or_default();
        let product = newest(&|r| r.2.clone()).map(quote).unwrap_or_default();
        let flag = newest(&|r| r.3.map(|f| f.to_string())).unwrap_or_default();
        let created = subs[id].created.unwrap().0;
        keyed.push((
            id.parse().unwrap(),
            *at,
            format!(
                "{id},{},{reason},{product},{flag},{},{}",
                at.format("%Y-%m-%d"),
                created.format("%Y-%m-%d"),
                (*at - created).num_days()
            ),
        ));
    }
    keyed.sort();
    keyed.into_iter().map(|k| k.2).collect()
}
