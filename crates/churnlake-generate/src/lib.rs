//! Synthetic daily drops in every accepted format, with the ground truth from an
//! independent forward simulation of the same subscriptions.
//!
//! [`generate`] writes `OUT/drops/` (what the platform would deliver: subscription
//! and cancellation reports, subscriber events, legacy files, in all the
//! spellings and delivery accidents FORMATS.md lists) and `OUT/truth/` (the daily
//! series, per-product series, subscriptions and subscribers that METRICS.md says
//! those drops mean). It shares no code with the ingest or query crates: it is the
//! oracle they are checked against.

pub mod adversarial;
mod calendar;
mod catalogue;
mod drops;
mod error;
mod generate;
mod options;
mod plan;
mod population;
#[cfg(test)]
mod reference;
mod revenue;
mod rng;
mod style;
mod summary;
mod truth;

pub use error::GenerateError;
pub use generate::generate;
pub use options::{GenerateOptions, Preset, Variants};
pub use summary::GenerateSummary;
