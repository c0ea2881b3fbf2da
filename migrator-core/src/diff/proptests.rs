//! Property tests of the diff engine (being written).
