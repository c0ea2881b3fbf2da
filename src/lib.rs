//! migrator (being written).
pub use migrator_core as core;
