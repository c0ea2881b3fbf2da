//! [`Archived`]: the step that keeps a drop's data for its downgrade
//! (docs/DESIGN.md §5, "Reversible"); rendered by `dialect/archive.rs`,
//! written by `generate` (`keep.rs`).

use serde::{Deserialize, Serialize};

use super::Operation;

/// See [`Operation::Archived`]. In a file:
///
/// ```toml
/// [[upgrade]]
/// op = "archived"
/// archive = "_migrator_archive_0007_tasks__is_high_priority"
/// fill = { bool = false }   # a NOT NULL column's value for rows the archive does not have
/// [upgrade.step]
/// op = "drop_column"
/// table = "tasks"
/// column = { name = "is_high_priority", type = "boolean" }
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Archived {
    /// The table holding the kept values (the primary key and the column,
    /// or a copy of the whole table); its name starts with
    /// [`ARCHIVE_PREFIX`].
    pub archive: String,
    /// For a NOT NULL column without a default: the value the downgrade
    /// gives the rows the archive cannot restore (rows inserted after the
    /// upgrade, or every row once the archive has been purged).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fill: Option<crate::schema::DefaultValue>,
    pub step: Box<Operation>,
}

/// The prefix of every archive table: introspection leaves these tables
/// out and `migrator purge` lists and drops them.
pub const ARCHIVE_PREFIX: &str = "_migrator_archive_";

impl Archived {
    /// True for the drop direction (the archive is written), false for the
    /// add direction (the archive is read back and dropped).
    pub fn is_drop(&self) -> bool {
        matches!(
            *self.step,
            Operation::DropColumn { .. } | Operation::DropTable { .. }
        )
    }

    /// Why this step is not well formed, if it is not: `step` must be one of
    /// the four kinds, and the archive must carry the prefix.
    pub fn check(&self) -> Result<(), String> {
        if !matches!(
            *self.step,
            Operation::DropColumn { .. }
                | Operation::DropTable { .. }
                | Operation::AddColumn { .. }
                | Operation::CreateTable { .. }
        ) {
            return Err(format!(
                "an `archived` step wraps `drop_column`, `drop_table`, `add_column` or `create_table`, not `{}`",
                self.step.kind()
            ));
        }
        if !self.archive.starts_with(ARCHIVE_PREFIX) || self.archive.len() == ARCHIVE_PREFIX.len() {
            return Err(format!(
                "archive table `{}` must be named `{ARCHIVE_PREFIX}<something>`\nhelp: `archive = \"{ARCHIVE_PREFIX}0007_tasks\"`",
                self.archive
            ));
        }
        Ok(())
    }
}
