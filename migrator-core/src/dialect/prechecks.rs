//! Checks that run before a migration changes anything: a column that
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
        // Before the first statement after the last data step that comes
        // before the change (a backfill there is what fills the NULLs).
        let at = ops[..i]
            .iter()
            .rposition(|o| {
                matches!(
                    o,
                    Operation::Sql(_) | Operation::Rust { .. } | Operation::Backfill(_)
                )
            })
            .map_or(0, |k| k + 1);
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
        out[at].insert(0, check);
    }
}
