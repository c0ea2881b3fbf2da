//! The snapshot (being written).
