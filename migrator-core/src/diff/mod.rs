//! The diff engine: from the snapshot schema (`old`) and the models' schema
//! (`new`) to an ordered, reversible plan.
//!
//! Contract:
//! - [`diff`] returns a [`Plan`] whose `upgrade` replays on `old` to `new` and
//!   whose `downgrade` (always `ops::inverse_all(&upgrade)`) replays on `new`
//!   back to `old`. Both are checked by replaying them before the plan is
//!   returned, so a bug here surfaces as [`DiffError::Internal`] rather than as
//!   a wrong migration. "Equal" means equal up to the order of columns: a
//!   migration can only append columns, so a column declared in the middle of a
//!   struct lands at the end of the table, and a column dropped and re-added by
//!   a downgrade comes back at the end too.
//! - Renames are renames, never drop + add, and only happen when a hint
//!   (`renamed_from`) asks for one. A hint whose new name already exists in
//!   `old` was applied by an earlier migration and is ignored; a hint that
//!   names an old table or column `old` does not have is an error.
//! - The order is dependency-aware, so that the plan also runs on a real
//!   database, which checks what `ops::replay` does not (foreign keys need
//!   their referenced key, MySQL refuses to drop an index a foreign key uses,
//!   a primary key column cannot be nullable, ...). The phases, in order:
//!   1. drop foreign keys that go away, change, or would be in the way
//!      (their own or referenced columns change type, a key backing them is
//!      dropped or changed, or they close a cycle among dropped tables);
//!   2. drop indexes, unique constraints and checks that go away or change;
//!   3. rename tables, then 4. rename columns;
//!   5. create tables, referenced tables first; foreign keys that close a
//!      cycle between new tables (or wait for a key this plan adds) are left
//!      out and added in phase 9; a self-reference stays inline;
//!   6. add columns and alter columns;
//!   7. set primary keys (then relax NOT NULL on columns that left the key);
//!   8. add indexes, unique constraints and checks;
//!   9. add foreign keys;
//!   10. drop columns; 11. drop tables, referencing tables first.
//!
//!   Since the downgrade is the exact inverse, it runs these phases mirrored,
//!   which satisfies the same dependencies.
//! - Data is preserved or the loss is announced: adding a NOT NULL column
//!   without a default to an existing table is refused
//!   ([`DiffError::Refused`]), and every destructive operation
//!   (`Operation::is_destructive`) gets a warning naming what is lost.
//! - Deterministic: the same inputs give the same plan, byte for byte (maps
//!   are `BTreeMap`s, every list is sorted or follows declaration order).

mod analysis;
mod hints;
mod order;
mod phases;
mod warnings;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod strict;
debug_as_display!(DiffError);

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use crate::ops::{inverse_all, replay, Operation};
use crate::schema::Schema;

/// Rename hints from `renamed_from` attributes: they are not part of the
/// schema, only of the step from the old schema to the new one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Hints {
    /// New table name -> old table name.
    pub tables: BTreeMap<String, String>,
    /// (new table name, new column name) -> old column name. For a column of
    /// a renamed table, the key uses the table's new name.
    pub columns: BTreeMap<(String, String), String>,
    /// (table, column) the models keep although no field has them
    /// (`#[model(keep = "..")]`). A column hint whose old column is kept
    /// is an expansion, not a rename (`expand.rs`).
    pub kept: std::collections::BTreeSet<(String, String)>,
}

/// The result of a diff: the upgrade, its inverse, and what a reviewer should
/// know about it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Plan {
    pub upgrade: Vec<Operation>,
    pub downgrade: Vec<Operation>,
    /// One line per finding, lowercase, code in backticks: every destructive
    /// step of the upgrade, risky nullability changes, and hints that were
    /// taken as already applied.
    pub warnings: Vec<String>,
    /// Lint rules the migration written from this plan allows (its
    /// `allow` list): only what `generate` knows to be safe, such as the
    /// contract step of an expansion (`expand.rs`).
    pub allow: Vec<String>,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.upgrade.is_empty()
    }
}

/// Why the diff engine produced no plan.
#[derive(Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DiffError {
    /// A change the engine refuses to plan, with the choices the user has.
    #[error("{0}")]
    Refused(String),
    /// A `renamed_from` hint that does not fit the schemas (the old name does
    /// not exist, two new names claim the same old one, ...).
    #[error("{0}")]
    Hint(String),
    /// The plan did not replay to the target schema: a bug in the engine,
    /// caught before it could write a wrong migration.
    #[error("internal error in the diff engine (please report it): {0}")]
    Internal(String),
}

/// Computes the plan from `old` to `new`; see the module docs for the
/// guarantees.
pub fn diff(old: &Schema, new: &Schema, hints: &Hints) -> Result<Plan, DiffError> {
    // Copied only when they need sorting (a snapshot and parsed models
    // are already in canonical order).
    fn normalized(s: &Schema) -> std::borrow::Cow<'_, Schema> {
        if s.is_normalized() {
            std::borrow::Cow::Borrowed(s)
        } else {
            let mut s = s.clone();
            s.normalize();
            std::borrow::Cow::Owned(s)
        }
    }
    let old = normalized(old);
    let new = normalized(new);

    let renames = hints::resolve(&old, &new, hints)?;
    // The common case of `generate` and `check`: nothing changed.
    if old == new && renames.ops().is_empty() {
        return Ok(Plan::default());
    }
    // The old schema as it is right after the renames: from there on, tables
    // and columns are matched by name.
    let rename_ops = renames.ops();
    let renamed =
        if rename_ops.is_empty() {
            std::borrow::Cow::Borrowed(&*old)
        } else {
            std::borrow::Cow::Owned(replay(&old, &rename_ops).map_err(|e| {
                DiffError::Internal(format!("replaying the renames failed: {}", e.0))
            })?)
        };
    let ctx = analysis::Analysis::new(&old, &renamed, &new, &renames);
    ctx.refuse_unsafe_additions()?;

    let (upgrade, upgraded) = phases::build(&ctx)?;
    let downgrade = inverse_all(&upgrade);
    verify(&old, &new, upgraded, &downgrade)?;

    let mut warnings = warnings::for_ops(&upgrade);
    warnings.extend(renames.notes.iter().cloned());
    Ok(Plan {
        allow: Vec::new(),
        upgrade,
        downgrade,
        warnings,
    })
}

/// Replays both directions and compares with the targets, so that a plan this
/// module gets wrong is never written to a migration file. `up` is the old
/// schema with the upgrade replayed: `phases::build` applied each operation
/// as it emitted it, so it is not replayed a second time (nor copied).
fn verify(
    old: &Schema,
    new: &Schema,
    up: Schema,
    downgrade: &[Operation],
) -> Result<(), DiffError> {
    if !same_up_to_column_order(&up, new) {
        return Err(DiffError::Internal(
            "the upgrade does not produce the new schema".into(),
        ));
    }
    let mut down = up;
    for (i, op) in downgrade.iter().enumerate() {
        op.apply(&mut down).map_err(|e| {
            DiffError::Internal(format!(
                "the downgrade does not replay: step {} ({}): {}",
                i + 1,
                op.kind(),
                e.0
            ))
        })?;
    }
    if !same_up_to_column_order(&down, old) {
        return Err(DiffError::Internal(
            "the downgrade does not restore the old schema".into(),
        ));
    }
    Ok(())
}

/// Schema equality that ignores the order of columns within a table (see the
/// module docs for why migrations cannot honour it).
pub fn same_up_to_column_order(a: &Schema, b: &Schema) -> bool {
    /// The items of a list in name order, by reference: the schemas are
    /// compared without copying them.
    fn sorted<T, K: Ord>(v: &[T], key: impl Fn(&T) -> &K) -> Vec<&T> {
        let mut r: Vec<&T> = v.iter().collect();
        r.sort_by(|x, y| key(x).cmp(key(y)));
        r
    }
    /// The same lists in the same order: equal without sorting (the common
    /// case, a table the plan does not touch).
    fn identical(x: &crate::schema::Table, y: &crate::schema::Table) -> bool {
        x.name == y.name
            && x.columns == y.columns
            && x.primary_key == y.primary_key
            && x.indexes == y.indexes
            && x.uniques == y.uniques
            && x.foreign_keys == y.foreign_keys
            && x.checks == y.checks
    }
    a.tables.len() == b.tables.len()
        && a.tables.iter().zip(&b.tables).all(|((ka, x), (kb, y))| {
            ka == kb
                && (identical(x, y)
                    || x.name == y.name
                        && x.primary_key == y.primary_key
                        && sorted(&x.columns, |c| &c.name) == sorted(&y.columns, |c| &c.name)
                        && sorted(&x.indexes, |i| &i.name) == sorted(&y.indexes, |i| &i.name)
                        && sorted(&x.uniques, |u| &u.name) == sorted(&y.uniques, |u| &u.name)
                        && sorted(&x.foreign_keys, |f| &f.name)
                            == sorted(&y.foreign_keys, |f| &f.name)
                        && sorted(&x.checks, |c| &c.name) == sorted(&y.checks, |c| &c.name))
        })
}
