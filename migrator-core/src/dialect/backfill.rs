//! The SQL of a batched backfill ([`crate::ops::Backfill`]), per dialect.
//!
//! Contract:
//! - a backfill walks the table in primary key order (keyset pagination,
//!   single or composite key: a row-value comparison `("a", "b") > (..)`,
//!   which all three databases have); each batch is two statements in one
//!   short transaction the runner opens:
//!   1. [`BackfillPlan::select_batch`]: the keys of the next `batch_size`
//!      rows after the cursor that the predicate selects, in key order, each
//!      as the SQL literal list the database itself quotes (`5`, `'a', 7`),
//!      so the runner never has to know the key's types;
//!   2. [`BackfillPlan::update_batch`]: the `UPDATE` of the rows between the
//!      cursor (excluded) and the last key of the batch (included) that the
//!      predicate selects: the same rows, found through the key's index,
//!      with no `LIMIT` in a subquery (which MySQL refuses in `IN (..)`)
//!      and the batch's last key known for the cursor;
//! - the predicate is repeated in the `UPDATE`, so a row changed by the
//!   application between the two statements is not done twice;
//! - the predicate and the assignments are the author's SQL, parenthesised;
//!   names are quoted; the cursor is text the database produced with its own
//!   quoting function.

use std::fmt;

use super::{Dialect, RenderError, Statement};
use crate::ops::{Backfill, Operation};
use crate::schema::Schema;

/// The table where the runner keeps the cursor of a backfill in progress.
pub const BACKFILL_TABLE: &str = "_migrator_backfill";

/// Everything the runner needs to run one backfill on one dialect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackfillPlan {
    pub dialect: Dialect,
    pub table: String,
    /// The primary key columns, in key order.
    pub key: Vec<String>,
    pub set: String,
    pub predicate: String,
    pub batch_size: u32,
    pub pause_ms: u64,
}

impl BackfillPlan {
    fn ident(&self, name: &str) -> String {
        self.dialect.ident(name)
    }

    /// `"a"` or `("a", "b")`.
    fn key_tuple(&self) -> String {
        let cols: Vec<String> = self.key.iter().map(|c| self.ident(c)).collect();
        if cols.len() == 1 {
            cols[0].clone()
        } else {
            format!("({})", cols.join(", "))
        }
    }

    /// `cursor` as the right-hand side of a comparison with the key.
    fn key_value(&self, cursor: &str) -> String {
        if self.key.len() == 1 {
            cursor.to_string()
        } else {
            format!("({cursor})")
        }
    }

    /// The key of a row as the SQL literal list that can be compared with
    /// it: `quote()` (SQLite, keeps integers bare), `quote_literal` (PostgreSQL,
    /// a literal the column's type reads back), `QUOTE` (MySQL).
    fn key_literal(&self) -> String {
        let parts: Vec<String> = self
            .key
            .iter()
            .map(|c| self.dialect.backend().quote_value(&self.ident(c)))
            .collect();
        self.dialect.backend().join_quoted(&parts)
    }

    fn order_by(&self) -> String {
        self.key
            .iter()
            .map(|c| self.ident(c))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// `key > cursor AND ` or nothing for the first batch.
    fn after(&self, cursor: Option<&str>) -> String {
        match cursor {
            Some(c) => format!("{} > {} AND ", self.key_tuple(), self.key_value(c)),
            None => String::new(),
        }
    }

    /// The keys (column `s`) of the next batch after `cursor`.
    pub fn select_batch(&self, cursor: Option<&str>) -> String {
        format!(
            "SELECT {} AS s FROM {} WHERE {}({}) ORDER BY {} LIMIT {}",
            self.key_literal(),
            self.ident(&self.table),
            self.after(cursor),
            self.predicate.trim(),
            self.order_by(),
            self.batch_size
        )
    }

    /// The rows still to do after `cursor`, one row each (the runner counts
    /// them once, at the start, for the progress total).
    pub fn remaining(&self, cursor: Option<&str>) -> String {
        format!(
            "SELECT 1 AS one FROM {} WHERE {}({})",
            self.ident(&self.table),
            self.after(cursor),
            self.predicate.trim()
        )
    }

    /// The `UPDATE` of the batch that ends at key `last`.
    pub fn update_batch(&self, cursor: Option<&str>, last: &str) -> String {
        format!(
            "UPDATE {} SET {} WHERE {}{} <= {} AND ({})",
            self.ident(&self.table),
            self.set.trim(),
            self.after(cursor),
            self.key_tuple(),
            self.key_value(last),
            self.predicate.trim()
        )
    }
}

impl fmt::Display for BackfillPlan {
    /// How `migrator sql` and `up --dry-run` show it: comments, since the
    /// runner, not the SQL, drives the batches.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "-- backfill {} in batches of {} in primary key order ({}), one transaction per batch, outside the migration's transaction{}; the cursor is kept in {} after each batch, so an interrupted run resumes after the last finished batch",
            self.ident(&self.table),
            self.batch_size,
            self.order_by(),
            if self.pause_ms > 0 {
                format!(", {} ms apart", self.pause_ms)
            } else {
                String::new()
            },
            self.ident(BACKFILL_TABLE),
        )?;
        writeln!(f, "-- each batch: {};", self.select_batch(Some("<cursor>")))?;
        write!(
            f,
            "-- then: {};",
            self.update_batch(Some("<cursor>"), "<last key of the batch>")
        )
    }
}

/// Renders a backfill: one non-transactional statement that carries its
/// plan (the runner runs the batches), or an error when the table has no
/// primary key to paginate on.
pub(crate) fn render(
    dialect: Dialect,
    op: &Operation,
    b: &Backfill,
    before: &Schema,
) -> Result<Vec<Statement>, RenderError> {
    let unsupported = |message: String| RenderError::Unsupported {
        op: op.to_string(),
        message,
    };
    let table = before
        .tables
        .get(&b.table)
        .ok_or_else(|| unsupported(format!("table `{}` does not exist", b.table)))?;
    if table.primary_key.is_empty() {
        return Err(unsupported(format!(
            "a backfill walks the table in primary key order, and `{}` has no primary key\nhelp: give the table a primary key, or use a raw SQL step",
            b.table
        )));
    }
    let plan = BackfillPlan {
        dialect,
        table: b.table.clone(),
        key: table.primary_key.clone(),
        set: b.set.clone(),
        predicate: b.predicate.clone(),
        batch_size: b.batch_size,
        pause_ms: b.pause_ms,
    };
    let mut s = Statement::new(plan.update_batch(None, "<last key of the batch>"));
    s.transactional = false;
    s.backfill = Some(Box::new(plan));
    Ok(vec![s])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(dialect: Dialect, key: &[&str]) -> BackfillPlan {
        BackfillPlan {
            dialect,
            table: "tasks".into(),
            key: key.iter().map(|k| k.to_string()).collect(),
            set: "priority = CASE WHEN urgent THEN 'high' ELSE 'low' END".into(),
            predicate: "priority IS NULL".into(),
            batch_size: 1000,
            pause_ms: 0,
        }
    }

    /// The statements of a first and a later batch, single and composite
    /// key, and the dry-run text, for each dialect.
    fn rendered(dialect: Dialect) -> String {
        let mut out = String::new();
        for key in [&["id"][..], &["tenant_id", "id"][..]] {
            let p = plan(dialect, key);
            let (first, later) = if key.len() == 1 {
                ("12", "1012")
            } else {
                ("'acme', 12", "'acme', 1012")
            };
            out.push_str(&format!("-- key {key:?}\n"));
            out.push_str(&format!("{};\n", p.select_batch(None)));
            out.push_str(&format!("{};\n", p.update_batch(None, first)));
            out.push_str(&format!("{};\n", p.select_batch(Some(first))));
            out.push_str(&format!("{};\n", p.update_batch(Some(first), later)));
            out.push_str(&format!("{p}\n"));
        }
        out
    }

    #[test]
    fn backfill_sql_postgres() {
        insta::assert_snapshot!(rendered(Dialect::Postgres));
    }

    #[test]
    fn backfill_sql_sqlite() {
        insta::assert_snapshot!(rendered(Dialect::Sqlite));
    }

    #[test]
    fn backfill_sql_mysql() {
        insta::assert_snapshot!(rendered(Dialect::Mysql));
    }

    #[test]
    fn backfill_needs_a_primary_key() {
        let mut schema = Schema::new();
        let mut t = crate::schema::Table::new("logs");
        t.columns.push(crate::schema::Column::new(
            "line",
            crate::schema::ColumnType::Text,
        ));
        schema.insert(t);
        let b = Backfill {
            table: "logs".into(),
            set: "line = trim(line)".into(),
            predicate: "line <> trim(line)".into(),
            batch_size: 10,
            pause_ms: 0,
            reverse: None,
        };
        let op = Operation::Backfill(b.clone());
        let e = render(Dialect::Sqlite, &op, &b, &schema).expect_err("refused");
        assert!(e.to_string().contains("no primary key"), "{e}");
    }
}
