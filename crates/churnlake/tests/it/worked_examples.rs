//! METRICS.md's worked examples (2.715 % and 0.643 %) reproduced through the CLI from
//! drops that produce the guide's daily counts. The guide's two levels come from
//! different dashboards (more active subscribers than subscriptions), so each level
//! is rebuilt from its own drops, with one subscription per subscriber.

use std::fmt::Write as _;
use std::path::Path;

use crate::support::{ingest, path, run_ok};

const HEADER: &str = "Subscription ID,Public Subscription ID,User ID,Create Date,Cancel Date,Product,Price";

/// Writes three days (2022-01-01..03) where each day has `new[d]` creations and `cancels[d]`
/// cancellations of the oldest still-active subscriptions (day 1's cancels are 24-hour ones).
fn write_drops(dir: &Path, new: [u32; 3], cancels: [u32; 3]) {
    std::fs::create_dir_all(dir).expect("drops dir");
    let mut next_id = 1u32;
    let mut next_cancel = 1u32;
    for day in 0..3 {
        let date = format!("01/{:02}/2022", day + 1);
        let stamp = format!("01{:02}2022060000", day + 2);
        let mut subs = String::from(HEADER);
        subs.push('\n');
        for _ in 0..new[day] {
            let _ = writeln!(subs, "{next_id},ab{next_id:030},u{next_id},{date},,Tea,12.50");
            next_id += 1;
        }
        let mut cancelled = String::from(HEADER);
        cancelled.push('\n');
        for _ in 0..cancels[day] {
            let id = next_cancel;
            let _ = writeln!(cancelled, "{id},ab{id:030},u{id},01/01/2022,{date},Tea,12.50");
            next_cancel += 1;
        }
        std::fs::write(dir.join(format!("acme_subscription_{stamp}.csv")), subs).expect("write");
        std::fs::write(dir.join(format!("acme_cancelled_subscriptions_{stamp}.csv")), cancelled).expect("write");
    }
}

fn rate(lake: &Path) -> serde_json::Value {
    let out =
        run_ok(&["rate", "--lake", path(lake), "--from", "2022-01-01", "--to", "2022-01-03", "--format", "json"], &[0]);
    serde_json::from_str(&out).expect("rate prints JSON")
}

fn percent(value: &serde_json::Value) -> String {
    format!("{:.3}", value.as_f64().expect("a rate") * 100.0)
}

#[test]
fn subscription_cancellation_rate_is_2_715_percent() {
    let dir = tempfile::tempdir().expect("temp dir");
    // actives 15,349 / 15,620 / 15,882 with 75 / 117 / 232 cancels
    write_drops(&dir.path().join("drops"), [15_424, 388, 494], [75, 117, 232]);
    ingest(&dir.path().join("drops"), &dir.path().join("lake"));
    let series = run_ok(&["series", "--lake", path(&dir.path().join("lake")), "--format", "csv"], &[0]);
    let actives: Vec<&str> = series.lines().skip(1).map(|l| l.split(',').nth(1).unwrap_or("")).collect();
    assert_eq!(actives, ["15349", "15620", "15882"]);
    let r = rate(&dir.path().join("lake"));
    assert_eq!(r["subscription_cancels"], 424);
    assert_eq!(r["average_active_subscriptions"].as_f64(), Some(15_617.0));
    assert_eq!(percent(&r["subscription_cancellation_rate"]), "2.715");
}

#[test]
fn subscriber_cancellation_rate_is_0_643_percent() {
    let dir = tempfile::tempdir().expect("temp dir");
    // active subscribers 23,294 / 23,339 / 23,384 with 23 / 42 / 85 cancels
    write_drops(&dir.path().join("drops"), [23_317, 87, 130], [23, 42, 85]);
    ingest(&dir.path().join("drops"), &dir.path().join("lake"));
    let r = rate(&dir.path().join("lake"));
    assert_eq!(r["subscriber_cancels"], 150);
    assert_eq!(r["average_active_subscribers"].as_f64(), Some(23_339.0));
    assert_eq!(percent(&r["subscriber_cancellation_rate"]), "0.643");
}
