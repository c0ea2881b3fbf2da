//! The snapshot's canonical text, written and read without going through a
//! generic TOML document: on a schema of thousands of tables, the `toml`
//! crate's serializer and parser were most of the time `migrator generate`
//! spent on the snapshot.
//!
//! Contract:
//! - [`write`] gives exactly the bytes `toml::to_string` gives for the same
//!   `SnapshotFile` (same key order, same layout; every scalar is encoded by
//!   `toml_writer`, the encoder the `toml` crate itself uses). The tests
//!   compare both on random snapshots.
//! - [`read`] reads the canonical layout [`write`] produces, and gives up
//!   (`None`) on anything else: another layout, comments other than whole
//!   lines, escapes, multi-line strings, inline tables, unknown or repeated
//!   keys, a value of the wrong kind or out of range. The caller then parses
//!   the text with the `toml` crate, which reads what this does not and
//!   reports every error with its line, so errors are those of the `toml`
//!   crate. What it accepts is valid TOML that the `toml` crate reads to
//!   the same value (tested on random snapshots and on variants of them).

mod read;
mod write;

pub(super) use read::read;
pub(super) use write::write;

#[cfg(test)]
mod tests;
