//! The model parser: `#[derive(Model)]` structs to tables. (Being written.)
