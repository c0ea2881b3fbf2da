//! The diff engine: from the snapshot schema and the models' schema to an
//! ordered, reversible plan. (Being written.)

use std::collections::BTreeMap;

use crate::ops::Operation;
use crate::schema::Schema;

/// Rename hints from `renamed_from` attributes: they are not part of the
/// schema, only of the step from the old schema to the new one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hints {
    /// New table name -> old table name.
    pub tables: BTreeMap<String, String>,
    /// (new table name, new column name) -> old column name.
    pub columns: BTreeMap<(String, String), String>,
}

/// The result of a diff: the upgrade, its inverse, and what a reviewer should
/// know about it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Plan {
    pub upgrade: Vec<Operation>,
    pub downgrade: Vec<Operation>,
    pub warnings: Vec<String>,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.upgrade.is_empty()
    }
}

/// A change the diff engine refuses to plan, with the choices the user has.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DiffError {
    #[error("{0}")]
    Refused(String),
}

/// Computes the plan from `old` to `new`.
pub fn diff(_old: &Schema, _new: &Schema, _hints: &Hints) -> Result<Plan, DiffError> {
    Err(DiffError::Refused("diff: not implemented yet".into()))
}
