//! End-to-end tests of the `churnlake` binary: conformance suite, ground truth from the
//! generator, METRICS.md worked examples, crash safety, and CLI output snapshots.

mod adversarial;
mod conformance;
mod crash;
mod hive;
mod in_process;
mod nightly;
mod snapshots;
mod sql;
mod support;
mod truth;
mod worked_examples;
