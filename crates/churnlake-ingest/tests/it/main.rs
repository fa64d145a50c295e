//! Integration tests: drop directories in, lake files out, read back with parquet's
//! Arrow reader. One binary; each module is one intent.

mod crash;
mod hostile;
mod idempotency;
mod lock;
mod nightly;
mod object_store;
mod quarantine;
mod roundtrip;
mod support;
mod variants;
