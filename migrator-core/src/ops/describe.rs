//! Human-readable one-line descriptions of operations, used by `generate`,
//! `check` and error messages.

use std::fmt;

use super::Operation;
use crate::schema::{Column, DefaultValue};

impl Operation {
    /// The snake_case operation name, as written in migration files.
    pub fn kind(&self) -> &'static str {
        use Operation::*;
        match self {
            CreateTable { .. } => "create_table",
            DropTable { .. } => "drop_table",
            RenameTable { .. } => "rename_table",
            AddColumn { .. } => "add_column",
            DropColumn { .. } => "drop_column",
            RenameColumn { .. } => "rename_column",
            AlterColumn { .. } => "alter_column",
            SetPrimaryKey { .. } => "set_primary_key",
            SetTableComment { .. } => "set_table_comment",
            SetPrimaryKeyName { .. } => "set_primary_key_name",
            CreateIndex { .. } => "create_index",
            DropIndex { .. } => "drop_index",
            AddUnique { .. } => "add_unique",
            DropUnique { .. } => "drop_unique",
            AddForeignKey { .. } => "add_foreign_key",
            DropForeignKey { .. } => "drop_foreign_key",
            AddCheck { .. } => "add_check",
            DropCheck { .. } => "drop_check",
            Sql(_) => "sql",
            Rust { .. } => "rust",
            Backfill(_) => "backfill",
            Archived(_) => "archived",
        }
    }
}

/// `name type [NOT NULL] [DEFAULT x]`, portable spelling.
pub fn column_summary(c: &Column) -> String {
    let mut s = format!("{} {}", c.name, c.ty);
    if !c.nullable {
        s.push_str(" not null");
    }
    if c.auto_increment {
        s.push_str(" auto_increment");
    }
    if let Some(d) = &c.default {
        s.push_str(" default ");
        s.push_str(&default_summary(d));
    }
    s
}

pub fn default_summary(d: &DefaultValue) -> String {
    match d {
        DefaultValue::Int(i) => i.to_string(),
        DefaultValue::Float(f) => f.to_string(),
        DefaultValue::Bool(b) => b.to_string(),
        DefaultValue::Str(s) => format!("{s:?}"),
        DefaultValue::Sql(s) => format!("sql({s})"),
    }
}

impl fmt::Display for Operation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use Operation::*;
        match self {
            CreateTable { table } => write!(
                f,
                "+ table {} ({})",
                table.name,
                table
                    .columns
                    .iter()
                    .map(column_summary)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            DropTable { table } => write!(f, "- table {}", table.name),
            RenameTable { from, to } => write!(f, "~ table {from} renamed to {to}"),
            AddColumn { table, column } => {
                write!(f, "+ column {table}.{}", column_summary(column))
            }
            DropColumn { table, column } => write!(f, "- column {table}.{}", column.name),
            RenameColumn { table, from, to } => {
                write!(f, "~ column {table}.{from} renamed to {to}")
            }
            AlterColumn { table, from, to } => write!(
                f,
                "~ column {table}.{}: {} -> {}",
                from.name,
                column_summary(from),
                column_summary(to)
            ),
            SetTableComment { table, to, .. } => match to {
                Some(c) => write!(f, "~ comment of {table}: {c:?}"),
                None => write!(f, "~ comment of {table}: none"),
            },
            SetPrimaryKeyName { table, to, .. } => match to {
                Some(n) => write!(f, "~ primary key name of {table}: {n}"),
                None => write!(f, "~ primary key name of {table}: the default"),
            },
            SetPrimaryKey { table, from, to } => write!(
                f,
                "~ primary key of {table}: ({}) -> ({})",
                from.join(", "),
                to.join(", ")
            ),
            CreateIndex { table, index } => write!(
                f,
                "+ index {} on {table} ({})",
                index.name,
                index.columns.join(", ")
            ),
            DropIndex { table, index } => write!(f, "- index {} on {table}", index.name),
            AddUnique { table, unique } => write!(
                f,
                "+ unique {} on {table} ({})",
                unique.name,
                unique.columns.join(", ")
            ),
            DropUnique { table, unique } => write!(f, "- unique {} on {table}", unique.name),
            AddForeignKey {
                table,
                foreign_key: k,
            } => write!(
                f,
                "+ foreign key {} on {table} ({}) -> {} ({})",
                k.name,
                k.columns.join(", "),
                k.ref_table,
                k.ref_columns.join(", ")
            ),
            DropForeignKey { table, foreign_key } => {
                write!(f, "- foreign key {} on {table}", foreign_key.name)
            }
            AddCheck { table, check } => {
                write!(f, "+ check {} on {table}: {}", check.name, check.expr)
            }
            DropCheck { table, check } => write!(f, "- check {} on {table}", check.name),
            Sql(raw) => {
                let text = raw
                    .sql
                    .as_deref()
                    .or(raw.postgres.as_deref())
                    .or(raw.sqlite.as_deref())
                    .or(raw.mysql.as_deref())
                    .unwrap_or("");
                let first = text.lines().next().unwrap_or("").trim();
                write!(f, "* sql: {first}")
            }
            Rust { name, .. } if name.is_empty() => f.write_str("* rust: (no function)"),
            Rust { name, .. } => write!(f, "* rust: {name}"),
            Backfill(b) => write!(
                f,
                "* backfill {}: set {} where {} (batches of {})",
                b.table, b.set, b.predicate, b.batch_size
            ),
            Archived(a) if a.is_drop() => write!(f, "{} (kept in {})", a.step, a.archive),
            Archived(a) => write!(f, "{} (restored from {})", a.step, a.archive),
        }
    }
}
