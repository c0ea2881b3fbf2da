//! `generate`'s backfill for a column that becomes NOT NULL: where the new
//! column has a default, a `backfill` step before the change gives the rows
//! that still hold NULL that default (batched, resumable; docs/BACKFILL.md),
//! so the migration's NULL check (`dialect/prechecks.rs`) passes; where it
//! has none, a placeholder step (`col = NULL`) that `lint` refuses
//! (`unfilled-backfill`) until the user writes the value. The step's reverse
//! changes nothing: after the downgrade the column is nullable again and
//! keeps the values the backfill gave.

use crate::diff::Plan;
use crate::ops::{Backfill, BackfillReverse, Operation, DEFAULT_BATCH_SIZE};
use crate::schema::{DefaultValue, Schema};

/// Adds the backfills (and the warnings) for the NOT NULL changes of `plan`
/// on tables of `before`.
pub(crate) fn backfill_not_null(plan: &mut Plan, before: &Schema) {
    let mut i = 0;
    while i < plan.upgrade.len() {
        let Operation::AlterColumn { table, from, to } = &plan.upgrade[i] else {
            i += 1;
            continue;
        };
        let found = before
            .table(table)
            .and_then(|t| t.column(&from.name))
            .is_some_and(|c| c.nullable);
        if !from.nullable || to.nullable || !found {
            i += 1;
            continue;
        }
        let (table, column) = (table.clone(), to.name.clone());
        // Without a default: a placeholder step the user fills in. `lint`
        // refuses it (`unfilled-backfill`), and were it allowed, `up` would
        // still refuse before changing anything (the NULLs stay).
        let known = to.default.as_ref().and_then(literal);
        let placeholder = known.is_none();
        let value = known.unwrap_or_else(|| crate::ops::BACKFILL_PLACEHOLDER.to_string());
        if placeholder {
            let prefix = format!("`{table}.{column}` becomes NOT NULL without a default");
            plan.warnings.retain(|w| !w.starts_with(&prefix));
        }
        let step = Backfill {
            table: table.clone(),
            set: format!("{column} = {value}"),
            predicate: format!("{column} IS NULL"),
            batch_size: DEFAULT_BATCH_SIZE,
            pause_ms: 0,
            reverse: Some(BackfillReverse {
                set: format!("{column} = {column}"),
                predicate: "1 = 0".into(),
            }),
        };
        let inverse = Operation::Backfill(step.clone()).inverse();
        let alter_back = plan.upgrade[i].inverse();
        // A placeholder goes first, so that while it is unfilled the NULL
        // check (after the data steps) refuses before any other step, such
        // as a foreign key dropped for the change, has run; after a rename
        // of its table or column it stays right before the change.
        let renamed = plan.upgrade[..i].iter().any(|op| match op {
            Operation::RenameColumn { table: t, .. } | Operation::RenameTable { to: t, .. } => {
                *t == table
            }
            _ => false,
        });
        let at = if placeholder && !renamed { 0 } else { i };
        plan.upgrade.insert(at, Operation::Backfill(step));
        if let Some(k) = plan.downgrade.iter().position(|op| *op == alter_back) {
            plan.downgrade.insert(k + 1, inverse);
        }
        plan.warnings.push(if placeholder {
            format!(
                "column `{table}.{column}` becomes NOT NULL without a default: the migration has a placeholder `backfill` step first (`set = \"{column} = NULL\"`): write the value the rows that hold NULL get (`set = \"{column} = ..\"`), then `migrator rehash`; until then `lint` refuses it (unfilled-backfill) and `up` refuses the migration before changing anything while a row holds NULL; or give the field a `default = ...` and generate again"
            )
        } else {
            format!(
                "column `{table}.{column}` becomes NOT NULL: a `backfill` step first gives the rows that hold NULL its default ({value})"
            )
        });
        i += 2;
    }
}

/// The default as SQL every database reads the same, if it is a literal.
fn literal(d: &DefaultValue) -> Option<String> {
    Some(match d {
        DefaultValue::Int(v) => v.to_string(),
        DefaultValue::Float(v) if v.is_finite() => format!("{v:?}"),
        DefaultValue::Bool(true) => "TRUE".into(),
        DefaultValue::Bool(false) => "FALSE".into(),
        DefaultValue::Str(s) if !s.contains('\\') => format!("'{}'", s.replace('\'', "''")),
        DefaultValue::Sql(e) => e.clone(),
        _ => return None,
    })
}
