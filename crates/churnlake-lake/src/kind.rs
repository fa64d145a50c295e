//! The report kinds of FORMATS.md: what a drop is, and the name of the raw table its rows
//! go to. Both the layout (output names) and the manifest (entries) are spelled with it.
//!
//! In the crate: imports nothing of it; [`crate::layout`] and [`crate::manifest`] import it.

use serde::{Deserialize, Serialize};

/// The report kinds of FORMATS.md. Each kind's rows go to the raw table of the same name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReportKind {
    Subscriptions,
    Cancellations,
    SubscriberEvents,
    Orders,
    Inventory,
    CrmSubscriptions,
}

impl ReportKind {
    /// Every kind, in a stable order.
    pub const ALL: [ReportKind; 6] = [
        ReportKind::Subscriptions,
        ReportKind::Cancellations,
        ReportKind::SubscriberEvents,
        ReportKind::Orders,
        ReportKind::Inventory,
        ReportKind::CrmSubscriptions,
    ];

    /// The kind's name, which is also its raw table's name.
    pub fn as_str(self) -> &'static str {
        match self {
            ReportKind::Subscriptions => "subscriptions",
            ReportKind::Cancellations => "cancellations",
            ReportKind::SubscriberEvents => "subscriber_events",
            ReportKind::Orders => "orders",
            ReportKind::Inventory => "inventory",
            ReportKind::CrmSubscriptions => "crm_subscriptions",
        }
    }

    /// Parses a kind's name (as written by [`ReportKind::as_str`]).
    pub fn parse(name: &str) -> Option<ReportKind> {
        ReportKind::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

impl std::fmt::Display for ReportKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
