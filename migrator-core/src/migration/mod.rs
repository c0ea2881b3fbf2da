//! Migration files (being written).
