//! Procedural macros of migrator (being written).
