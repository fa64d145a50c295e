//! Integration tests of the lake: its lock, its atomic publishing, its manifest and its
//! path builders and parsers, on a temporary local directory and on an in-memory store.
//! One binary; each module is one intent.

mod layout;
mod lock;
mod manifest;
mod publish;
mod support;
