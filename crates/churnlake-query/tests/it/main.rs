//! Integration tests of the query library through its public API, on lakes ingested
//! from the conformance cases and from generated histories.

mod active_counts;
mod explain_agrees;
mod revenue_identity;
mod support;
