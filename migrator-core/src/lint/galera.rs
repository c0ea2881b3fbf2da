//! `galera-toi-ddl`: DDL on an existing table of a MySQL/MariaDB project
//! deployed on a Galera cluster.
//!
//! Contract:
//! - under TOI a DDL statement blocks the whole cluster while it runs, so
//!   every upgrade step that rebuilds a table or builds an index on a table
//!   that existed before the migration is reported: typed steps other than
//!   those InnoDB makes by changing metadata only (adding a column the
//!   MySQL dialect writes `ALGORITHM=INSTANT`, decided by its
//!   `copy_reason`; renames; dropping an index, a table or a foreign key), and raw `ALTER TABLE` / `CREATE INDEX` / `OPTIMIZE TABLE`
//!   statements (their `mysql` variant, else `sql`) without
//!   `ALGORITHM=INSTANT`;
//! - a table the same migration creates is empty: not reported (raw SQL on
//!   any other table is judged, as by the other raw-SQL rules: a table a
//!   raw step created earlier is not in the snapshot);
//! - a rule allowed on the command line or in the migration's `allow` list
//!   produces nothing, as for the other rules.

use std::collections::BTreeSet;

use super::{shorten, statements, target_table, Finding, GALERA_TOI_DDL};
use crate::migration::{Migration, MigrationSet};
use crate::ops::Operation;
use crate::schema::Schema;

/// The `galera-toi-ddl` findings of `set`, leaving out those allowed by
/// `allow` or by a migration's own `allow` list.
pub fn lint_galera(set: &MigrationSet, allow: &[String]) -> Vec<Finding> {
    let name = GALERA_TOI_DDL.name;
    if allow.iter().any(|a| a == name) {
        return Vec::new();
    }
    set.migrations
        .iter()
        .zip(set.states())
        .filter(|(m, _)| !m.file.allow.iter().any(|a| a == name))
        .flat_map(|(m, start)| lint_galera_migration(m, &start))
        .collect()
}

/// The `galera-toi-ddl` findings of one migration whose upgrade starts
/// from `start` (its `allow` list not applied).
pub fn lint_galera_migration(m: &Migration, start: &Schema) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut created: BTreeSet<String> = BTreeSet::new();
    let existing = |t: &str, created: &BTreeSet<String>| {
        start.table(t).is_some() && !created.contains(&t.to_lowercase())
    };
    for (i, op) in m.file.upgrade.iter().enumerate() {
        let mut add = |what: String| {
            out.push(Finding {
                rule: GALERA_TOI_DDL,
                file: m.file_name.clone(),
                step: i + 1,
                what,
            })
        };
        match op {
            Operation::CreateTable { table } => {
                created.insert(table.name.to_lowercase());
            }
            Operation::Sql(raw) => {
                let Some(sql) = raw.for_dialect("mysql") else {
                    continue;
                };
                for statement in statements(sql) {
                    let first = statement
                        .split_whitespace()
                        .next()
                        .map(str::to_ascii_uppercase);
                    if first.as_deref() == Some("OPTIMIZE") {
                        add(shorten(&statement));
                        continue;
                    }
                    let Some((table, creates)) = target_table(&statement) else {
                        continue;
                    };
                    if creates {
                        created.insert(table.to_lowercase());
                        continue;
                    }
                    let squeezed: String = statement
                        .to_ascii_uppercase()
                        .chars()
                        .filter(|c| !c.is_whitespace())
                        .collect();
                    // As the other raw-SQL rules: judged unless this
                    // migration created the table.
                    if !created.contains(&table.to_lowercase())
                        && !squeezed.contains("ALGORITHM=INSTANT")
                    {
                        add(shorten(&statement));
                    }
                }
            }
            _ if rebuilds(op, start) && op.table_name().is_some_and(|t| existing(t, &created)) => {
                add(op.to_string());
            }
            _ => {}
        }
    }
    out
}

/// Typed steps that take longer than a metadata change on a table with
/// rows (module docs).
fn rebuilds(op: &Operation, start: &Schema) -> bool {
    match op {
        // The MySQL dialect's own rule: what it cannot write as
        // `ALGORITHM=INSTANT` (an AUTO_INCREMENT column, an expression
        // default) fills every row.
        Operation::AddColumn { .. } => crate::Dialect::Mysql
            .backend()
            .table_copy_reason(op, start)
            .is_some(),
        Operation::AlterColumn { .. }
        | Operation::DropColumn { .. }
        | Operation::SetPrimaryKey { .. }
        | Operation::CreateIndex { .. }
        | Operation::AddUnique { .. }
        | Operation::AddForeignKey { .. }
        | Operation::AddCheck { .. }
        // Copies every row into or out of its archive.
        | Operation::Archived(_) => true,
        Operation::CreateTable { .. }
        | Operation::SetTableComment { .. }
        | Operation::SetPrimaryKeyName { .. }
        | Operation::DropTable { .. }
        | Operation::RenameTable { .. }
        | Operation::RenameColumn { .. }
        | Operation::DropIndex { .. }
        | Operation::DropUnique { .. }
        | Operation::DropForeignKey { .. }
        | Operation::DropCheck { .. }
        | Operation::Sql(_)
        | Operation::Rust { .. }
        | Operation::Backfill(_) => false,
    }
}
