//! Warnings for a reviewer: what an upgrade loses or may fail on.
//!
//! Every destructive operation (`Operation::is_destructive`) gets one warning
//! that names the table or column and what is lost. When a dropped table or
//! column appears next to a new one, the warning says how to turn the pair
//! into a rename, since a missing `renamed_from` is the usual way data gets
//! dropped by accident.

use crate::ops::Operation;
use crate::schema::Column;

pub(super) fn for_ops(ops: &[Operation]) -> Vec<String> {
    let created: Vec<&str> = ops
        .iter()
        .filter_map(|op| match op {
            Operation::CreateTable { table } => Some(table.name.as_str()),
            _ => None,
        })
        .collect();
    let added = |in_table: &str| -> Vec<&str> {
        ops.iter()
            .filter_map(|op| match op {
                Operation::AddColumn { table, column } if table == in_table => {
                    Some(column.name.as_str())
                }
                _ => None,
            })
            .collect()
    };

    let mut out = Vec::new();
    for op in ops {
        match op {
            Operation::DropTable { table } => {
                let mut w = format!(
                    "dropping table `{}` deletes all of its rows; the downgrade recreates the table but not its data",
                    table.name
                );
                if let Some(hint) = rename_hint("table", &table.name, &created, "its struct") {
                    w.push_str(&hint);
                }
                out.push(w);
            }
            Operation::DropColumn { table, column } => {
                let mut w = format!(
                    "dropping column `{table}.{}` deletes its data; the downgrade re-adds the column but not its data",
                    column.name
                );
                if needs_value(column) {
                    w.push_str(
                        " (and fails on a table with rows, since the column is NOT NULL without a default)",
                    );
                }
                let added = added(table);
                let qualified: Vec<String> = added.iter().map(|c| format!("{table}.{c}")).collect();
                let qualified: Vec<&str> = qualified.iter().map(String::as_str).collect();
                if let Some(hint) = rename_hint("column", &column.name, &qualified, "that field") {
                    w.push_str(&hint);
                }
                out.push(w);
            }
            Operation::AlterColumn { table, from, to } => {
                if from.ty.is_narrowing_to(&to.ty) {
                    out.push(format!(
                        "changing `{table}.{}` from `{}` to `{}` fails on, or loses, existing values that do not fit; \
                         the downgrade cannot bring lost data back",
                        from.name, from.ty, to.ty
                    ));
                }
                if from.nullable && !to.nullable && to.default.is_none() && !to.auto_increment {
                    out.push(format!(
                        "`{table}.{}` becomes NOT NULL without a default: the migration fails if a row holds NULL there; \
                         backfill it first with a raw SQL migration, or give it a `default = ...`",
                        from.name
                    ));
                }
            }
            // Raw SQL is never produced by the diff, but keep the promise that
            // every destructive operation is flagged.
            op if op.is_destructive() => out.push(format!("`{op}` may delete data")),
            _ => {}
        }
    }
    out
}

/// A column that cannot be added to a table with rows as it stands.
fn needs_value(c: &Column) -> bool {
    !c.nullable && c.default.is_none() && !c.auto_increment
}

/// "; if `x` is `old` renamed, add ..." when something appeared next to the
/// dropped `old`.
fn rename_hint(what: &str, old: &str, appeared: &[&str], place: &str) -> Option<String> {
    match appeared {
        [] => None,
        [one] => Some(format!(
            "; if {what} `{one}` is `{old}` renamed, add `#[model(renamed_from = \"{old}\")]` to {place}"
        )),
        many => Some(format!(
            "; if one of the new {what}s ({}) is `{old}` renamed, add `#[model(renamed_from = \"{old}\")]` to it",
            many.iter()
                .map(|n| format!("`{n}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )),
    }
}
