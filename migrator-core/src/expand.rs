//! `generate`'s expand/contract form of a column rename or type change on
//! PostgreSQL, for rolling deploys (docs/DEPLOYING.md, "Rolling deploys:
//! renames and type changes"): while the old and the new version of the
//! application run side by side, each keeps using its own column.
//!
//! The knob is the model itself: a field with `renamed_from = "old"` on a
//! struct that also keeps the old column (`#[model(keep = "old")]`) asks
//! for both columns at once, which only the expand form can give. Nothing
//! else changes meaning: a `renamed_from` without `keep` is the in-place
//! rename it always was (and `lint` flags it).
//!
//! Contract:
//! - **expand** (the new column is added while the old one is kept): the new
//!   column is added nullable and without a default, a trigger keeps the two
//!   in step (an insert fills whichever column the writer left NULL, an
//!   update copies the column that changed into the other, through a cast
//!   when the types differ), a `backfill` fills the existing rows in
//!   batches, and only then the column gets its model's NOT NULL. The
//!   snapshot holds both columns (the in-between state), so `verify` is
//!   clean and the derive's drift check agrees with the model that keeps
//!   the old column. The downgrade drops the trigger and the new column.
//! - **contract** (the old column leaves `keep` while the new one still
//!   says `renamed_from`): the trigger and its function are dropped before
//!   the old column, in the same migration, so no write ever runs a trigger
//!   that names a missing column. The drop is the usual kept drop (`keep.rs`:
//!   archived), and the downgrade re-adds the old column from the archive,
//!   re-creates the trigger and then recomputes the old column from the new
//!   one for every row that differs (rows written after the contract).
//! - the new column may not have a default: the trigger tells an insert of
//!   the old version from one of the new by the new column being NULL, and
//!   a default would fill it. Refused with the way out (add the default in
//!   a later migration).
//! - PostgreSQL only: a project that declares SQLite or MySQL, or no
//!   dialect at all (its migrations must then run everywhere), is refused
//!   before anything is written.

use crate::backend::postgres::expand as pg;
use crate::diff::{Hints, Plan};
use crate::ops::{Backfill, BackfillReverse, Operation, RawSql, SqlVariants, DEFAULT_BATCH_SIZE};
use crate::schema::{Column, Schema};
use crate::Dialect;

/// One column pair being expanded or contracted.
struct Pair<'a> {
    table: &'a str,
    old: &'a Column,
    new: &'a Column,
}

impl Pair<'_> {
    /// The trigger's (and its function's) name, fitted to every target's
    /// identifier limit as generated names are (`schema::naming::fit`).
    fn name(&self) -> String {
        crate::schema::naming::fit(format!(
            "_migrator_expand_{}__{}",
            self.table, self.new.name
        ))
    }

    fn cast(value: String, from: &Column, to: &Column) -> String {
        pg::cast(value, &from.ty, &to.ty)
    }

    fn create_sql(&self) -> String {
        pg::sync_trigger_sql(
            &self.name(),
            self.table,
            &self.old.name,
            &self.old.ty,
            &self.new.name,
            &self.new.ty,
        )
    }

    fn drop_sql(&self) -> String {
        pg::drop_sync_trigger_sql(&self.name(), self.table)
    }

    /// The raw step that creates the trigger (its reverse drops it).
    fn create_step(&self) -> Operation {
        Operation::Sql(RawSql {
            postgres: Some(self.create_sql()),
            reverse: Some(SqlVariants {
                postgres: Some(self.drop_sql()),
                ..SqlVariants::default()
            }),
            ..RawSql::default()
        })
    }

    /// A backfill that sets `to` from `from` on the rows where `pending`
    /// holds; its reverse changes nothing.
    fn backfill(&self, from: &Column, to: &Column, pending: String) -> Operation {
        let (f, t) = (plain(&from.name), plain(&to.name));
        Operation::Backfill(Backfill {
            table: self.table.to_string(),
            set: format!("{t} = {}", Self::cast(f, from, to)),
            predicate: pending,
            batch_size: DEFAULT_BATCH_SIZE,
            pause_ms: 0,
            reverse: Some(BackfillReverse {
                set: format!("{t} = {t}"),
                predicate: "1 = 0".into(),
            }),
        })
    }
}

/// A column name as the backfill's SQL writes it: bare when it is a plain
/// lower-case identifier (read alike by every database), double-quoted
/// otherwise.
fn plain(name: &str) -> String {
    let mut chars = name.chars();
    let bare = chars
        .next()
        .is_some_and(|c| c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if bare {
        name.to_string()
    } else {
        Dialect::Postgres.ident(name)
    }
}

/// The old column a hint names for `table.column`.
fn hinted<'a>(hints: &'a Hints, table: &str, column: &str) -> Option<&'a str> {
    hints
        .columns
        .get(&(table.to_string(), column.to_string()))
        .map(String::as_str)
}

/// Rewrites the expansions and contractions of `plan` (from `before` to
/// `after`, whose hints are `hints`). Refuses an expansion the form cannot
/// give, naming the column.
pub(crate) fn expand_contract(
    plan: &mut Plan,
    before: &Schema,
    after: &Schema,
    hints: &Hints,
    declared: &[Dialect],
) -> Result<(), String> {
    let mut i = 0;
    while i < plan.upgrade.len() {
        let step = match &plan.upgrade[i] {
            Operation::AddColumn { table, column } => {
                expansion(table, column, before, after, hints).map(|old| (true, table, old, column))
            }
            Operation::DropColumn { table, column } => {
                contraction(table, column, before, after, hints)
                    .map(|new| (false, table, column, new))
            }
            Operation::Archived(a) => match &*a.step {
                Operation::DropColumn { table, column } => {
                    contraction(table, column, before, after, hints)
                        .map(|new| (false, table, column, new))
                }
                _ => None,
            },
            _ => None,
        };
        let Some((expand, table, old, new)) = step else {
            if let Operation::AddColumn { table, column } = &plan.upgrade[i] {
                refuse_unpaired(table, column, hints)?;
            }
            i += 1;
            continue;
        };
        let (table, old, new) = (table.clone(), old.clone(), new.clone());
        let pair = Pair {
            table: &table,
            old: &old,
            new: &new,
        };
        let other = match declared.iter().find(|d| **d != Dialect::Postgres) {
            Some(d) => Some(format!("this project declares {d}")),
            None if declared.is_empty() => Some(
                "this project declares no `dialects`, so its migrations must run on SQLite and MySQL too".to_string(),
            ),
            None => None,
        };
        if let Some(why) = other {
            return Err(format!(
                "column `{table}.{}` replaces the kept column `{}` (`renamed_from` beside `keep`): that is the expand/contract form of a rolling deploy, which keeps the two columns in step with a PostgreSQL trigger, and {why}\nhelp: rename in place instead (remove `{}` from `keep`), or declare `dialects = [\"postgres\"]` in migrator.toml",
                new.name, old.name, old.name
            ));
        }
        if expand {
            if new.default.is_some() {
                return Err(format!(
                    "column `{table}.{}` replaces the kept column `{}` (expand/contract), and has a default: the trigger that keeps the two in step tells the old version's inserts from the new one's by `{}` being NULL\nhelp: remove the default for now and add it in a migration after the contract (once `{}` has left `keep`)",
                    new.name, old.name, new.name, old.name
                ));
            }
            let relaxed = Column {
                nullable: true,
                ..new.clone()
            };
            let pending = format!(
                "{} IS NULL AND {} IS NOT NULL",
                plain(&new.name),
                plain(&old.name)
            );
            let mut steps = vec![
                Operation::AddColumn {
                    table: table.clone(),
                    column: relaxed.clone(),
                },
                pair.create_step(),
                pair.backfill(&old, &new, pending),
            ];
            if relaxed != new {
                steps.push(Operation::AlterColumn {
                    table: table.clone(),
                    from: relaxed,
                    to: new.clone(),
                });
            }
            let undo = plan.upgrade[i].inverse();
            let k = plan.downgrade.iter().position(|op| *op == undo);
            let n = steps.len();
            if let Some(k) = k {
                plan.downgrade
                    .splice(k..=k, crate::ops::inverse_all(&steps));
            }
            plan.upgrade.splice(i..=i, steps);
            plan.warnings.push(format!(
                "column `{table}.{}` is added beside `{}` (expand): a trigger keeps the two in step and a backfill fills the rows there are; deploy the version that uses `{}`, then remove `{}` from `keep` and `migrator generate` the contract (docs/DEPLOYING.md)",
                new.name, old.name, new.name, old.name
            ));
            i += n;
        } else {
            let undo = plan.upgrade[i].inverse();
            let k = plan.downgrade.iter().position(|op| *op == undo);
            let drop_trigger = pair.create_step().inverse();
            let differs = format!(
                "{} IS DISTINCT FROM {}",
                plain(&old.name),
                Pair::cast(plain(&new.name), &new, &old)
            );
            if let Some(k) = k {
                let back = [pair.create_step(), pair.backfill(&new, &old, differs)];
                plan.downgrade.splice(k + 1..k + 1, back);
            }
            plan.upgrade.insert(i, drop_trigger);
            // The drop is the second half of a rolling deploy whose first
            // half kept the column for the old version: no running version
            // uses it any more, which is what the rule asks to be sure of.
            let rule = crate::lint::DESTRUCTIVE_DROP.name.to_string();
            if !plan.allow.contains(&rule) {
                plan.allow.push(rule);
            }
            // The diff's note on the hint ("taken as already applied") is
            // this contract, said better below.
            let note = format!(
                "column `{table}.{}` is marked `renamed_from = \"{}\"` but both exist",
                new.name, old.name
            );
            plan.warnings.retain(|w| !w.starts_with(&note));
            plan.warnings.push(format!(
                "column `{table}.{}` is dropped after `{}` replaced it (contract): the trigger that kept them in step is dropped first; the downgrade re-adds `{}`, the trigger, and recomputes `{}` from `{}`",
                old.name, new.name, old.name, old.name, new.name
            ));
            i += 2;
        }
    }
    Ok(())
}

/// An added column that asks for the expand form (its `renamed_from`
/// names a kept column) but has no old column to pair with in the
/// snapshot's table of the same name: the table is renamed by the same
/// plan. Refused, as the diff has let it through NOT NULL.
fn refuse_unpaired(table: &str, column: &Column, hints: &Hints) -> Result<(), String> {
    match hinted(hints, table, &column.name) {
        Some(old) if hints.kept.contains(&(table.to_string(), old.to_string())) => Err(format!(
            "column `{table}.{}` replaces the kept column `{old}` (expand/contract), but table `{table}` is renamed in the same migration\nhelp: rename the table in a migration of its own first (`migrator generate` with the column's `renamed_from` and `keep` removed), then expand the column",
            column.name
        )),
        _ => Ok(()),
    }
}

/// The old column `table.column` (being added) replaces, when the models
/// keep that old column beside it.
fn expansion<'a>(
    table: &str,
    column: &Column,
    before: &'a Schema,
    after: &Schema,
    hints: &Hints,
) -> Option<&'a Column> {
    let old = hinted(hints, table, &column.name)?;
    let kept = after.table(table)?.column(old).is_some()
        && hints.kept.contains(&(table.to_string(), old.to_string()));
    let had = before.table(table)?.column(old)?;
    kept.then_some(had)
}

/// The new column that replaced `table.column` (being dropped): one that
/// says `renamed_from` it and that the snapshot already has beside it.
fn contraction<'a>(
    table: &str,
    column: &Column,
    before: &Schema,
    after: &'a Schema,
    hints: &Hints,
) -> Option<&'a Column> {
    let t = after.table(table)?;
    let new = t
        .columns
        .iter()
        .find(|c| hinted(hints, table, &c.name) == Some(column.name.as_str()))?;
    before.table(table)?.column(&new.name)?;
    Some(new)
}

#[cfg(test)]
mod tests;
