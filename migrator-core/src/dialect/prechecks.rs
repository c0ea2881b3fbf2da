//! Checks that run before a migration changes anything: a foreign key
//! added to a table the migration found must have every row reference
//! something ([`add_reference_checks`]); a column that
//! becomes NOT NULL on a table the migration found must have no NULL left,
//! or the migration is refused before its first statement that follows the
//! data steps meant to fill them (docs/DESIGN.md §5, "Atomic"). Without it a
//! failing `SET NOT NULL` (PostgreSQL's `VALIDATE`, a MySQL `MODIFY`) would
//! stop a migration that had already changed other things (a foreign key
//! dropped before a type change) where DDL is not transactional, or runs
//! step by step.

use crate::dialect::{Dialect, Statement};
use crate::ops::Operation;
use crate::schema::Schema;

/// Adds the NULL checks to `out` (one statement list per operation of
/// `ops`, rendered from `start`).
pub(super) fn add_not_null_checks(
    dialect: Dialect,
    ops: &[Operation],
    start: &Schema,
    out: &mut [Vec<Statement>],
) {
    let b = dialect.backend();
    for (i, op) in ops.iter().enumerate() {
        let Operation::AlterColumn { table, from, to } = op else {
            continue;
        };
        if !from.nullable || to.nullable {
            continue;
        }
        // Only a column the migration found nullable can hold NULLs now.
        let found = start
            .table(table)
            .and_then(|t| t.column(&from.name))
            .is_some_and(|c| c.nullable);
        if !found {
            continue;
        }
        let at = after_data_steps(&ops[..i]);
        let what = format!("`{table}.{}` has NULLs", from.name);
        let mut check = Statement::refuse_when_rows(format!(
            "SELECT {} AS s FROM {} WHERE {} IS NULL LIMIT 1",
            b.string(&what),
            b.ident(table),
            b.ident(&from.name),
        ));
        check.refusal = Some(format!(
            "this migration makes `{table}.{}` NOT NULL and rows still hold NULL\n  help: fill them first: a `backfill` step before the change (`set = \"{} = ..\"`, `where = \"{} IS NULL\"`), or a default on the field",
            from.name, from.name, from.name
        ));
        // Where DDL commits on its own, the steps before a data step are
        // done by the time the check runs.
        check.after_change = at > 0 && !dialect.transactional_ddl();
        out[at].insert(0, check);
    }
}

/// Where a check of step `ops.len()` goes: before the first statement
/// after the last data step that comes before it (a backfill or a raw
/// step there is what fixes the rows the check looks at).
fn after_data_steps(ops: &[Operation]) -> usize {
    ops.iter()
        .rposition(|o| {
            matches!(
                o,
                Operation::Sql(_) | Operation::Rust { .. } | Operation::Backfill(_)
            )
        })
        .map_or(0, |k| k + 1)
}

/// Adds the reference checks to `out`: a foreign key added to a table the
/// migration found, referencing a table it found, must have no row that
/// references nothing, or the migration is refused before it changes
/// anything (otherwise PostgreSQL's `VALIDATE` fails after the `NOT VALID`
/// key was added, MySQL's in-place add after its first check, SQLite's
/// rebuild halfway through its copy). A row with a NULL in a key column
/// references nothing and is exempt, as the key treats it. Keys on tables
/// an earlier step of the migration reshapes are left to the database.
pub(super) fn add_reference_checks(
    dialect: Dialect,
    ops: &[Operation],
    start: &Schema,
    out: &mut [Vec<Statement>],
) {
    let b = dialect.backend();
    for (i, op) in ops.iter().enumerate() {
        let Operation::AddForeignKey {
            table,
            foreign_key: fk,
        } = op
        else {
            continue;
        };
        let found = |t: &str, cols: &[String]| {
            start
                .table(t)
                .is_some_and(|t| cols.iter().all(|c| t.column(c).is_some()))
        };
        if !found(table, &fk.columns) || !found(&fk.ref_table, &fk.ref_columns) {
            continue;
        }
        if ops[..i]
            .iter()
            .any(|o| reshapes(o, table) || reshapes(o, &fk.ref_table))
        {
            continue;
        }
        let columns = crate::backend::common::key_columns(table, fk);
        let what = format!(
            "a row of `{table}` whose {columns} matches no row of `{}`",
            fk.ref_table
        );
        let mut check = Statement::refuse_when_rows(format!(
            "SELECT {} AS s {} LIMIT 1",
            b.string(&what),
            crate::backend::common::orphan_rows(dialect, table, fk),
        ));
        check.refusal = Some(format!(
            "this migration adds foreign key `{}` ({columns} -> `{}`) and rows reference no row of `{}`\n  help: delete or fix them first (a `sql` or `backfill` step before this one), or set the columns to NULL there",
            fk.name, fk.ref_table, fk.ref_table
        ));
        // A key already there (a resumed run) is checked by the database
        // (PostgreSQL's `VALIDATE`) or by the check after it (MySQL).
        if let Some(exists) = b.foreign_key_exists_sql(table, &fk.name) {
            check = check.skip_if(exists);
        }
        let at = after_data_steps(&ops[..i]);
        check.after_change = at > 0 && !dialect.transactional_ddl();
        out[at].insert(0, check);
    }
}

/// Whether `op` changes the shape of `table` (or creates, drops or renames
/// it), so that a check written against the migration's start would not
/// read what the step that follows sees.
fn reshapes(op: &Operation, table: &str) -> bool {
    use Operation::*;
    match op {
        CreateTable { table: t } | DropTable { table: t } => t.name == table,
        RenameTable { from, to } => from == table || to == table,
        DropColumn { table: t, .. }
        | RenameColumn { table: t, .. }
        | AlterColumn { table: t, .. } => t == table,
        Archived(_) => true,
        _ => false,
    }
}
