//! `generate`'s backfill for a column that becomes NOT NULL: where the new
//! column has a default, a `backfill` step before the change gives the rows
//! that still hold NULL that default (batched, resumable; docs/BACKFILL.md),
//! so the migration's NULL check (`dialect/prechecks.rs`) passes; where it
//! has none, the warning shows the step to write. The step's reverse
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
        let Some(value) = to.default.as_ref().and_then(literal) else {
            // The diff's warning, with what `up` does and the step to write.
            let prefix = format!("`{table}.{column}` becomes NOT NULL without a default");
            for w in plan.warnings.iter_mut().filter(|w| w.starts_with(&prefix)) {
                *w = format!(
                    "{prefix}: `up` refuses the migration before changing anything while a row holds NULL there; give it a `default = ...`, or fill them with a step before this one:\n    [[upgrade]]\n    op = \"backfill\"\n    table = \"{table}\"\n    set = \"{column} = ..\"\n    where = \"{column} IS NULL\""
                );
            }
            i += 1;
            continue;
        };
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
        plan.upgrade.insert(i, Operation::Backfill(step));
        if let Some(k) = plan.downgrade.iter().position(|op| *op == alter_back) {
            plan.downgrade.insert(k + 1, inverse);
        }
        plan.warnings.push(format!(
            "column `{table}.{column}` becomes NOT NULL: a `backfill` step first gives the rows that hold NULL its default ({value})"
        ));
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
