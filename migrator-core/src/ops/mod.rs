//! Operations: the typed steps a migration's `upgrade` and `downgrade` lists
//! are made of.
//!
//! Contract:
//! - every operation carries enough state to be inverted without looking at
//!   anything else (a `DropColumn` holds the whole column, an `AlterColumn` both
//!   the old and the new definition), so `inverse` is total;
//! - `apply` replays an operation on a [`Schema`](crate::schema::Schema) and refuses anything that does
//!   not fit the schema (dropping a missing column, creating a table twice), so
//!   a replay of a migration chain is also its validation;
//! - `apply(apply(s, op), op.inverse()) == s` for every `op` that applies to `s`
//!   (the proptests in `diff/` check it).

mod apply;
mod archived;
mod describe;
pub use archived::{Archived, ARCHIVE_PREFIX};
mod inverse;
pub(crate) use apply::apply_all;
pub use apply::replay;
pub use describe::{column_summary, default_summary};
pub use inverse::inverse_all;
mod rename;

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::schema::{Check, Column, ForeignKey, Index, Table, Unique};

/// One step of a migration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
#[non_exhaustive]
pub enum Operation {
    /// Creates a table with its columns, primary key, indexes, unique
    /// constraints, foreign keys and checks.
    CreateTable {
        table: Table,
    },
    /// Drops a table; carries its last definition for the inverse.
    DropTable {
        table: Table,
    },
    RenameTable {
        from: String,
        to: String,
    },
    AddColumn {
        table: String,
        column: Column,
    },
    /// Drops a column; carries its definition for the inverse.
    DropColumn {
        table: String,
        column: Column,
    },
    RenameColumn {
        table: String,
        from: String,
        to: String,
    },
    /// Changes type, nullability, default or auto-increment of one column
    /// (the name stays; renames are `RenameColumn`).
    AlterColumn {
        table: String,
        from: Column,
        to: Column,
    },
    SetPrimaryKey {
        table: String,
        from: Vec<String>,
        to: Vec<String>,
    },
    /// PostgreSQL: renames the primary key constraint (`None`: the default
    /// name, `<table>_pkey`). MySQL and SQLite keep no such name and run
    /// nothing.
    SetPrimaryKeyName {
        table: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to: Option<String>,
    },
    /// Sets, changes or removes a table's comment (`None`: no comment).
    SetTableComment {
        table: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        from: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to: Option<String>,
    },
    CreateIndex {
        table: String,
        index: Index,
    },
    DropIndex {
        table: String,
        index: Index,
    },
    AddUnique {
        table: String,
        unique: Unique,
    },
    DropUnique {
        table: String,
        unique: Unique,
    },
    AddForeignKey {
        table: String,
        foreign_key: ForeignKey,
    },
    DropForeignKey {
        table: String,
        foreign_key: ForeignKey,
    },
    AddCheck {
        table: String,
        check: Check,
    },
    DropCheck {
        table: String,
        check: Check,
    },
    /// Hand-written SQL, for data migrations and anything the typed
    /// operations do not cover.
    Sql(RawSql),
    /// A Rust data migration: a `#[migration]` function of the application,
    /// named by its path from the crate root (`name = "data::backfill"`).
    /// Only a program that links it can run it: `embed_migrations!` links
    /// every function the files name, the CLI links none and refuses.
    ///
    /// A list runs the function its step names: the downgrade names its own
    /// function. `reverse` names the function that undoes this one (as a raw
    /// SQL step's `reverse` does), so that [`Operation::inverse`] is exact; a
    /// step without one inverts to an irreversible step.
    Rust {
        name: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reverse: Option<String>,
    },
    /// A batched, resumable `UPDATE` of the rows of a table that `where`
    /// selects: keyset pagination on the primary key, one short transaction
    /// per batch, outside the migration's transaction, with the position
    /// recorded after each batch so an interrupted run resumes (see
    /// docs/BACKFILL.md). No schema effect.
    Backfill(Backfill),
    /// A drop that keeps its data, or the add that brings it back (see
    /// [`Archived`]): `step` is a `drop_column` or `drop_table` (whose
    /// values are copied into `archive` before the drop) or an
    /// `add_column` or `create_table` (whose values are restored from
    /// `archive`, which is then dropped).
    Archived(Archived),
}

/// See [`Operation::Backfill`]. In a file:
///
/// ```toml
/// [[upgrade]]
/// op = "backfill"
/// table = "tasks"
/// set = "priority = CASE WHEN urgent THEN 'high' ELSE 'low' END"
/// where = "priority IS NULL"      # the rows still to do: must turn false once done
/// batch_size = 1000               # optional, default 1000
/// pause_ms = 0                    # optional: sleep between batches
/// reverse = { set = "urgent = (priority = 'high')", where = "urgent IS NULL" }  # optional
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Backfill {
    pub table: String,
    /// The assignments of the `UPDATE`, SQL (`a = expr, b = expr`).
    pub set: String,
    /// The rows still to do, SQL. Rows that `set` has done must no longer
    /// match, so a repeated or resumed run skips them (idempotence).
    #[serde(rename = "where")]
    pub predicate: String,
    #[serde(
        default = "default_batch_size",
        deserialize_with = "batch_size",
        skip_serializing_if = "is_default_batch_size"
    )]
    pub batch_size: u32,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub pause_ms: u64,
    /// What the inverse runs, with the same table and batching. Without
    /// it the step is irreversible, as a raw SQL step without `reverse`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reverse: Option<BackfillReverse>,
}

/// The `set` and `where` of a backfill's inverse.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackfillReverse {
    pub set: String,
    #[serde(rename = "where")]
    pub predicate: String,
}

/// Rows per batch when the file does not say.
pub const DEFAULT_BATCH_SIZE: u32 = 1000;

fn default_batch_size() -> u32 {
    DEFAULT_BATCH_SIZE
}
fn is_default_batch_size(n: &u32) -> bool {
    *n == DEFAULT_BATCH_SIZE
}
fn is_zero(n: &u64) -> bool {
    *n == 0
}
fn batch_size<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    let n = u32::deserialize(d)?;
    if n == 0 {
        return Err(serde::de::Error::custom(
            "`batch_size` must be at least 1\nhelp: `batch_size = 1000` (the default)",
        ));
    }
    Ok(n)
}

/// The value of `generate`'s placeholder backfill (a column made NOT NULL
/// without a default): it changes nothing, so the NULL check still refuses.
pub const BACKFILL_PLACEHOLDER: &str = "NULL";

impl Backfill {
    /// Whether this is `generate`'s unfilled placeholder (`col = NULL`
    /// where `col IS NULL`).
    pub fn is_placeholder(&self) -> bool {
        let Some((col, value)) = self.set.trim().split_once('=') else {
            return false;
        };
        value.trim().eq_ignore_ascii_case(BACKFILL_PLACEHOLDER)
            && self
                .predicate
                .trim()
                .eq_ignore_ascii_case(&format!("{} IS NULL", col.trim()))
    }

    /// True when the step has a reverse (so the migration can be downgraded).
    pub fn is_reversible(&self) -> bool {
        self.reverse.is_some()
    }
}

/// A raw SQL step. `sql` runs on every dialect unless a per-dialect variant is
/// given; `reverse` (with its own per-dialect variants) is what the inverse
/// runs; `effect` declares what the step does to the modelled schema, so that
/// replay stays exact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSql {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sql: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postgres: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sqlite: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mysql: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reverse: Option<SqlVariants>,
    /// False for statements that may not run inside a transaction (such as
    /// `CREATE INDEX CONCURRENTLY`).
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub transactional: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub effect: Vec<Operation>,
}

impl Default for RawSql {
    /// No SQL yet, transactional (as in a file that omits the key).
    fn default() -> RawSql {
        RawSql {
            sql: None,
            postgres: None,
            sqlite: None,
            mysql: None,
            reverse: None,
            transactional: true,
            effect: Vec::new(),
        }
    }
}

/// SQL text with optional per-dialect variants. In a file, a plain string
/// (`reverse = "DELETE …"`) is short for `{ sql = "…" }`.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct SqlVariants {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sql: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub postgres: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sqlite: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mysql: Option<String>,
}

/// The table form of [`SqlVariants`], with its field checks.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SqlVariantsTable {
    #[serde(default)]
    sql: Option<String>,
    #[serde(default)]
    postgres: Option<String>,
    #[serde(default)]
    sqlite: Option<String>,
    #[serde(default)]
    mysql: Option<String>,
}

impl<'de> Deserialize<'de> for SqlVariants {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<SqlVariants, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = SqlVariants;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(
                    "SQL text, or a table with `sql`, `postgres`, `sqlite` and `mysql` variants",
                )
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<SqlVariants, E> {
                Ok(SqlVariants {
                    sql: Some(v.to_string()),
                    ..SqlVariants::default()
                })
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<SqlVariants, A::Error> {
                let t = SqlVariantsTable::deserialize(
                    serde::de::value::MapAccessDeserializer::new(map),
                )?;
                Ok(SqlVariants {
                    sql: t.sql,
                    postgres: t.postgres,
                    sqlite: t.sqlite,
                    mysql: t.mysql,
                })
            }
        }
        d.deserialize_any(Visitor)
    }
}

fn yes() -> bool {
    true
}
fn is_true(b: &bool) -> bool {
    *b
}

/// An operation that does not fit the schema it is replayed on.
#[derive(Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ReplayError(pub String);

impl RawSql {
    /// The forward SQL for a dialect name (`postgres`, `sqlite`, `mysql`).
    pub fn for_dialect(&self, dialect: &str) -> Option<&str> {
        let specific = match dialect {
            "postgres" => &self.postgres,
            "sqlite" => &self.sqlite,
            "mysql" => &self.mysql,
            _ => &None,
        };
        specific.as_deref().or(self.sql.as_deref())
    }

    /// True when the step has a reverse (so the migration can be downgraded).
    pub fn is_reversible(&self) -> bool {
        self.reverse.is_some()
    }
}

impl Operation {
    /// The names this operation gives to new objects (tables, columns,
    /// indexes, constraints): the names a database's identifier limit
    /// applies to.
    pub fn introduced_names(&self) -> Vec<&str> {
        use Operation::*;
        match self {
            CreateTable { table } => std::iter::once(table.name.as_str())
                .chain(table.columns.iter().map(|c| c.name.as_str()))
                .chain(table.object_names())
                .collect(),
            RenameTable { to, .. } | RenameColumn { to, .. } => vec![to],
            AddColumn { column, .. } => vec![&column.name],
            CreateIndex { index, .. } => vec![&index.name],
            AddUnique { unique, .. } => vec![&unique.name],
            AddForeignKey { foreign_key, .. } => vec![&foreign_key.name],
            AddCheck { check, .. } => vec![&check.name],
            SetPrimaryKeyName { to, .. } => to.iter().map(String::as_str).collect(),
            DropTable { .. }
            | DropColumn { .. }
            | AlterColumn { .. }
            | SetPrimaryKey { .. }
            | SetTableComment { .. }
            | DropIndex { .. }
            | DropUnique { .. }
            | DropForeignKey { .. }
            | DropCheck { .. }
            | Sql(_)
            | Rust { .. }
            | Backfill(_) => Vec::new(),
            Archived(a) => {
                let mut names = a.step.introduced_names();
                if a.is_drop() {
                    names.push(&a.archive);
                }
                names
            }
        }
    }

    /// The table this operation touches (the new name for renames), if any.
    pub fn table_name(&self) -> Option<&str> {
        use Operation::*;
        match self {
            CreateTable { table } | DropTable { table } => Some(&table.name),
            RenameTable { to, .. } => Some(to),
            AddColumn { table, .. }
            | DropColumn { table, .. }
            | RenameColumn { table, .. }
            | AlterColumn { table, .. }
            | SetPrimaryKey { table, .. }
            | SetPrimaryKeyName { table, .. }
            | SetTableComment { table, .. }
            | CreateIndex { table, .. }
            | DropIndex { table, .. }
            | AddUnique { table, .. }
            | DropUnique { table, .. }
            | AddForeignKey { table, .. }
            | DropForeignKey { table, .. }
            | AddCheck { table, .. }
            | DropCheck { table, .. } => Some(table),
            Backfill(b) => Some(&b.table),
            Archived(a) => a.step.table_name(),
            Sql(_) | Rust { .. } => None,
        }
    }

    /// True when running this operation may lose data: dropping a table or a
    /// column, narrowing a type, or raw SQL (which we cannot see into) whose
    /// declared effect drops something.
    pub fn is_destructive(&self) -> bool {
        use Operation::*;
        match self {
            DropTable { .. } | DropColumn { .. } => true,
            AlterColumn { from, to, .. } => from.ty.is_narrowing_to(&to.ty),
            Sql(raw) => raw.effect.iter().any(Operation::is_destructive),
            // The values are kept in the archive until it is purged.
            Archived(_) => false,
            _ => false,
        }
    }
}

debug_as_display!(ReplayError);

#[cfg(test)]
mod tests;
