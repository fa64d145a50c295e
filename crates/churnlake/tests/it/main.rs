//! End-to-end tests of the `churnlake` binary: conformance suite, ground truth from the
//! generator, METRICS.md worked examples, crash safety, and CLI output snapshots.

mod adversarial;
mod browser;
mod charts;
mod checks;
mod conformance;
mod crash;
mod definitions;
mod hive;
mod in_process;
mod known_on;
mod nightly;
mod pii;
mod reports;
mod revenue;
mod scheduler;
mod snapshots;
mod sql;
mod store;
mod support;
mod truth;
mod worked_examples;
