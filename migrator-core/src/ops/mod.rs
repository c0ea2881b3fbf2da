//! Operations: the typed steps a migration's `upgrade` and `downgrade` lists
//! are made of.
//!
//! Contract:
//! - every operation carries enough state to be inverted without looking at
//!   anything else (a `DropColumn` holds the whole column, an `AlterColumn` both
//!   the old and the new definition), so `inverse` is total;
//! - `apply` replays an operation on a [`Schema`] and refuses anything that does
//!   not fit the schema (dropping a missing column, creating a table twice), so
//!   a replay of a migration chain is also its validation;
//! - `apply(apply(s, op), op.inverse()) == s` for every `op` that applies to `s`
//!   (the proptests in `diff/` check it).

mod archived;
mod describe;
pub use archived::{Archived, ARCHIVE_PREFIX};
pub use describe::{column_summary, default_summary};
mod rename;

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::schema::{Check, Column, ForeignKey, Index, Schema, Table, Unique};

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

fn err<T>(msg: impl Into<String>) -> Result<T, ReplayError> {
    Err(ReplayError(msg.into()))
}

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

    /// The operation that undoes this one.
    ///
    /// A raw SQL step without `reverse` inverts to a step with no SQL, which
    /// the renderer refuses to run (the migration is then irreversible and the
    /// reader says so); a Rust step without `reverse` inverts to a Rust step
    /// with an empty name, which the runner refuses the same way.
    pub fn inverse(&self) -> Operation {
        use Operation::*;
        match self.clone() {
            CreateTable { table } => DropTable { table },
            DropTable { table } => CreateTable { table },
            RenameTable { from, to } => RenameTable { from: to, to: from },
            AddColumn { table, column } => DropColumn { table, column },
            DropColumn { table, column } => AddColumn { table, column },
            RenameColumn { table, from, to } => RenameColumn {
                table,
                from: to,
                to: from,
            },
            AlterColumn { table, from, to } => AlterColumn {
                table,
                from: to,
                to: from,
            },
            SetTableComment { table, from, to } => SetTableComment {
                table,
                from: to,
                to: from,
            },
            SetPrimaryKey { table, from, to } => SetPrimaryKey {
                table,
                from: to,
                to: from,
            },
            CreateIndex { table, index } => DropIndex { table, index },
            DropIndex { table, index } => CreateIndex { table, index },
            AddUnique { table, unique } => DropUnique { table, unique },
            DropUnique { table, unique } => AddUnique { table, unique },
            AddForeignKey { table, foreign_key } => DropForeignKey { table, foreign_key },
            DropForeignKey { table, foreign_key } => AddForeignKey { table, foreign_key },
            AddCheck { table, check } => DropCheck { table, check },
            DropCheck { table, check } => AddCheck { table, check },
            Sql(raw) => {
                let rev = raw.reverse.clone().unwrap_or_default();
                Sql(RawSql {
                    sql: rev.sql,
                    postgres: rev.postgres,
                    sqlite: rev.sqlite,
                    mysql: rev.mysql,
                    reverse: Some(SqlVariants {
                        sql: raw.sql,
                        postgres: raw.postgres,
                        sqlite: raw.sqlite,
                        mysql: raw.mysql,
                    }),
                    transactional: raw.transactional,
                    effect: inverse_all(&raw.effect),
                })
            }
            Archived(a) => Archived(self::Archived {
                step: Box::new(a.step.inverse()),
                ..a
            }),
            // An empty name is the irreversible step: the runner refuses it
            // and the reader refuses it in a file.
            Rust { name, reverse } => Rust {
                name: reverse.unwrap_or_default(),
                reverse: Some(name),
            },
            // Without a reverse, the inverse is a raw SQL step without SQL:
            // irreversible, refused by the renderer like a raw step's.
            Backfill(b) => match b.reverse {
                Some(r) => Backfill(self::Backfill {
                    set: r.set,
                    predicate: r.predicate,
                    reverse: Some(BackfillReverse {
                        set: b.set,
                        predicate: b.predicate,
                    }),
                    ..b
                }),
                None => Sql(RawSql {
                    reverse: Some(SqlVariants::default()),
                    ..RawSql::default()
                }),
            },
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

    /// Replays this operation on `schema`.
    pub fn apply(&self, schema: &mut Schema) -> Result<(), ReplayError> {
        use Operation::*;
        match self {
            CreateTable { table } => {
                if schema.tables.contains_key(&table.name) {
                    return err(format!("table `{}` already exists", table.name));
                }
                let mut t = table.clone();
                t.normalize();
                schema.insert(t);
            }
            DropTable { table } => {
                if schema.tables.remove(&table.name).is_none() {
                    return err(format!("table `{}` does not exist", table.name));
                }
            }
            RenameTable { from, to } => {
                if schema.tables.contains_key(to) {
                    return err(format!("cannot rename `{from}` to `{to}`: `{to}` exists"));
                }
                let mut t = schema
                    .tables
                    .remove(from)
                    .ok_or_else(|| ReplayError(format!("table `{from}` does not exist")))?;
                t.name = to.clone();
                // Foreign keys elsewhere that pointed at the old name follow it,
                // as they do in every database.
                for other in schema.tables.values_mut() {
                    for fk in &mut other.foreign_keys {
                        if fk.ref_table == *from {
                            fk.ref_table = to.clone();
                        }
                    }
                }
                for fk in &mut t.foreign_keys {
                    if fk.ref_table == *from {
                        fk.ref_table = to.clone();
                    }
                }
                schema.insert(t);
            }
            AddColumn { table, column } => {
                let t = table_mut(schema, table)?;
                if t.column(&column.name).is_some() {
                    return err(format!("column `{table}.{}` already exists", column.name));
                }
                t.columns.push(column.clone());
            }
            DropColumn { table, column } => {
                let t = table_mut(schema, table)?;
                let before = t.columns.len();
                t.columns.retain(|c| c.name != column.name);
                if t.columns.len() == before {
                    return err(format!("column `{table}.{}` does not exist", column.name));
                }
            }
            RenameColumn { table, from, to } => {
                let t = table_mut(schema, table)?;
                if t.column(to).is_some() {
                    return err(format!("cannot rename `{table}.{from}`: `{to}` exists"));
                }
                let c = t.column_mut(from).ok_or_else(|| {
                    ReplayError(format!("column `{table}.{from}` does not exist"))
                })?;
                c.name = to.clone();
                rename_in(&mut t.primary_key, from, to);
                for i in &mut t.indexes {
                    rename_in(&mut i.columns, from, to);
                }
                for u in &mut t.uniques {
                    rename_in(&mut u.columns, from, to);
                }
                for f in &mut t.foreign_keys {
                    rename_in(&mut f.columns, from, to);
                }
                // The databases rewrite the stored expressions that name the
                // column; so does the snapshot.
                for ck in &mut t.checks {
                    ck.expr = rename::rename_identifier(&ck.expr, from, to);
                }
                for col in &mut t.columns {
                    if let Some(crate::schema::DefaultValue::Sql(e)) = &mut col.default {
                        *e = rename::rename_identifier(e, from, to);
                    }
                }
                let tname = table.clone();
                for other in schema.tables.values_mut() {
                    for fk in &mut other.foreign_keys {
                        if fk.ref_table == tname {
                            rename_in(&mut fk.ref_columns, from, to);
                        }
                    }
                }
            }
            AlterColumn { table, from, to } => {
                if from.name != to.name {
                    return err(format!(
                        "alter_column on `{table}` cannot rename `{}` to `{}`; use rename_column",
                        from.name, to.name
                    ));
                }
                let t = table_mut(schema, table)?;
                let c = t.column_mut(&from.name).ok_or_else(|| {
                    ReplayError(format!("column `{table}.{}` does not exist", from.name))
                })?;
                *c = to.clone();
            }
            SetTableComment { table, to, .. } => {
                table_mut(schema, table)?.comment = to.clone();
            }
            SetPrimaryKey { table, to, .. } => {
                let t = table_mut(schema, table)?;
                for c in to {
                    if t.column(c).is_none() {
                        return err(format!("primary key column `{table}.{c}` does not exist"));
                    }
                }
                t.primary_key = to.clone();
            }
            CreateIndex { table, index } => {
                let t = table_mut(schema, table)?;
                check_new_name(t, &index.name)?;
                t.indexes.push(index.clone());
                t.normalize();
            }
            DropIndex { table, index } => {
                let t = table_mut(schema, table)?;
                remove_named(&mut t.indexes, &index.name, |i| &i.name, "index")?;
            }
            AddUnique { table, unique } => {
                let t = table_mut(schema, table)?;
                check_new_name(t, &unique.name)?;
                t.uniques.push(unique.clone());
                t.normalize();
            }
            DropUnique { table, unique } => {
                let t = table_mut(schema, table)?;
                remove_named(
                    &mut t.uniques,
                    &unique.name,
                    |u| &u.name,
                    "unique constraint",
                )?;
            }
            AddForeignKey { table, foreign_key } => {
                let t = table_mut(schema, table)?;
                check_new_name(t, &foreign_key.name)?;
                t.foreign_keys.push(foreign_key.clone());
                t.normalize();
            }
            DropForeignKey { table, foreign_key } => {
                let t = table_mut(schema, table)?;
                remove_named(
                    &mut t.foreign_keys,
                    &foreign_key.name,
                    |f| &f.name,
                    "foreign key",
                )?;
            }
            AddCheck { table, check } => {
                let t = table_mut(schema, table)?;
                check_new_name(t, &check.name)?;
                t.checks.push(check.clone());
                t.normalize();
            }
            DropCheck { table, check } => {
                let t = table_mut(schema, table)?;
                remove_named(&mut t.checks, &check.name, |c| &c.name, "check constraint")?;
            }
            Sql(raw) => {
                for op in &raw.effect {
                    op.apply(schema)?;
                }
            }
            Rust { .. } => {}
            // The archive is not part of the modelled schema.
            Archived(a) => a.step.apply(schema)?,
            // No schema effect; the table must be there.
            Backfill(b) => {
                table_mut(schema, &b.table)?;
            }
        }
        Ok(())
    }
}

/// Inverts a list of operations: each one inverted, in reverse order.
pub fn inverse_all(ops: &[Operation]) -> Vec<Operation> {
    ops.iter().rev().map(Operation::inverse).collect()
}

/// Replays a list of operations on a copy of `schema`, naming the failing step
/// (1-based) in the error.
pub fn replay(schema: &Schema, ops: &[Operation]) -> Result<Schema, ReplayError> {
    let mut s = schema.clone();
    for (i, op) in ops.iter().enumerate() {
        op.apply(&mut s)
            .map_err(|e| ReplayError(format!("step {} ({}): {}", i + 1, op.kind(), e.0)))?;
    }
    Ok(s)
}

fn table_mut<'a>(schema: &'a mut Schema, name: &str) -> Result<&'a mut Table, ReplayError> {
    schema
        .tables
        .get_mut(name)
        .ok_or_else(|| ReplayError(format!("table `{name}` does not exist")))
}

fn rename_in(cols: &mut [String], from: &str, to: &str) {
    for c in cols.iter_mut() {
        if c == from {
            *c = to.to_string();
        }
    }
}

fn check_new_name(t: &Table, name: &str) -> Result<(), ReplayError> {
    if t.object_names().any(|n| n == name) {
        return err(format!("`{name}` already exists on table `{}`", t.name));
    }
    Ok(())
}

fn remove_named<T>(
    items: &mut Vec<T>,
    name: &str,
    key: impl Fn(&T) -> &String,
    what: &str,
) -> Result<(), ReplayError> {
    let before = items.len();
    items.retain(|i| key(i) != name);
    if items.len() == before {
        return err(format!("{what} `{name}` does not exist"));
    }
    Ok(())
}

debug_as_display!(ReplayError);

#[cfg(test)]
mod tests;
