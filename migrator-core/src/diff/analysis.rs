//! What changes between the renamed old schema and the new one, and which
//! foreign keys a change disturbs.
//!
//! Everything here compares `renamed` (the old schema after this plan's
//! renames, so names line up with `new`) against `new`. A table in both is
//! "surviving", one only in `renamed` is "dropped", one only in `new` is
//! "created".
//!
//! A foreign key that keeps its definition is still dropped before, and
//! re-added after, the plan's other steps when something it depends on moves:
//! - a column on either side changes type (MySQL refuses to alter a column
//!   a foreign key uses);
//! - on the referenced table, a primary key or unique constraint over the same
//!   set of columns is dropped or changed: PostgreSQL ties the foreign key to
//!   one such key (which one is not known here, so any of them counts) and
//!   refuses to drop it. A key that only the new schema has is never the one
//!   an existing foreign key is tied to, so the downgrade can drop it freely;
//!   except for the foreign keys of dropped tables, which the downgrade
//!   re-creates while the new schema's keys still exist, so for them a key
//!   added by the plan counts too.
//!
//! Indexes on the referencing side are not a reason: only MySQL needs one
//! there, and it makes its own when none exists. Dropping the last index that
//! MySQL uses for a foreign key is the MySQL renderer's concern (it must keep
//! an index over the foreign key's columns, as MySQL itself would).

use std::collections::{BTreeMap, BTreeSet};

use super::hints::Renames;
use super::order::{fk_order, FkOrder};
use super::DiffError;
use crate::schema::{Check, Column, ForeignKey, Index, Schema, Table, Unique};

pub(super) struct Analysis<'a> {
    pub old: &'a Schema,
    pub renamed: &'a Schema,
    pub new: &'a Schema,
    pub renames: &'a Renames,
    /// Order over the dropped tables: dropping runs it backwards.
    pub dropped: FkOrder,
    /// Order over the created tables.
    pub created: FkOrder,
    /// The tables this plan touches: surviving ones that change, dropped
    /// and created ones. Usually a few of many: every question about a
    /// table outside it has the answer "nothing moves", without looking.
    touched: BTreeSet<&'a str>,
    /// The surviving tables that change, as (before, after).
    changed: Vec<(&'a Table, &'a Table)>,
}

impl<'a> Analysis<'a> {
    pub fn new(
        old: &'a Schema,
        renamed: &'a Schema,
        new: &'a Schema,
        renames: &'a Renames,
    ) -> Analysis<'a> {
        let dropped: BTreeMap<&str, &Table> = renamed
            .tables
            .iter()
            .filter(|(name, _)| !new.tables.contains_key(*name))
            .map(|(name, t)| (name.as_str(), t))
            .collect();
        let created: BTreeMap<&str, &Table> = new
            .tables
            .iter()
            .filter(|(name, _)| !renamed.tables.contains_key(*name))
            .map(|(name, t)| (name.as_str(), t))
            .collect();
        let changed: Vec<(&Table, &Table)> = pairs(renamed, new).filter(|(r, n)| r != n).collect();
        let touched = changed
            .iter()
            .map(|(r, _)| r.name.as_str())
            .chain(dropped.keys().copied())
            .chain(created.keys().copied())
            .collect();
        Analysis {
            old,
            renamed,
            new,
            renames,
            dropped: fk_order(&dropped),
            created: fk_order(&created),
            touched,
            changed,
        }
    }

    /// Tables in both schemas, as (before, after) pairs sorted by name.
    pub fn surviving(&self) -> impl Iterator<Item = (&'a Table, &'a Table)> + 'a {
        pairs(self.renamed, self.new)
    }

    /// The surviving tables that change, as (before, after) pairs sorted by
    /// name: the only ones with anything to add, alter or drop (a surviving
    /// table that does not change may still have foreign keys to re-add,
    /// see [`Analysis::fk_kept`]).
    pub fn changed(&self) -> impl Iterator<Item = (&'a Table, &'a Table)> + '_ {
        self.changed.iter().copied()
    }

    /// Whether this plan changes, drops or creates `table`.
    pub fn touches(&self, table: &str) -> bool {
        self.touched.contains(table)
    }

    pub fn is_dropped(&self, table: &str) -> bool {
        self.renamed.tables.contains_key(table) && !self.new.tables.contains_key(table)
    }

    pub fn is_created(&self, table: &str) -> bool {
        self.new.tables.contains_key(table) && !self.renamed.tables.contains_key(table)
    }

    fn pair(&self, table: &str) -> Option<(&'a Table, &'a Table)> {
        Some((self.renamed.tables.get(table)?, self.new.tables.get(table)?))
    }

    pub fn index_kept(&self, table: &str, index: &Index) -> bool {
        self.new
            .table(table)
            .is_some_and(|t| t.indexes.contains(index))
    }

    pub fn unique_kept(&self, table: &str, unique: &Unique) -> bool {
        self.new
            .table(table)
            .is_some_and(|t| t.uniques.contains(unique))
    }

    pub fn check_kept(&self, table: &str, check: &Check) -> bool {
        self.new
            .table(table)
            .is_some_and(|t| t.checks.contains(check))
    }

    /// True for an index or unique constraint of a dropped table whose name a
    /// new index or unique constraint takes. PostgreSQL index names are
    /// schema-wide, so such an index is dropped early instead of with its
    /// table at the end.
    pub fn name_reused(&self, dropped_table: &str, name: &str) -> bool {
        self.is_dropped(dropped_table)
            && self.new.tables.values().any(|t| {
                t.indexes.iter().any(|i| i.name == name) || t.uniques.iter().any(|u| u.name == name)
            })
    }

    /// True when a primary key or unique constraint of `table` over the same
    /// set of columns as `cols`, which a foreign key may be tied to, is
    /// dropped or changed before the end of the plan. With `both_ways`, a key
    /// only the new schema has counts too: the downgrade drops it, which
    /// matters for a foreign key the downgrade creates while it exists.
    fn key_disturbed(&self, table: &str, cols: &[String], both_ways: bool) -> bool {
        // A table the plan does not touch keeps its keys (or is not
        // modelled at all).
        if !self.touches(table) {
            return false;
        }
        let Some(r) = self.renamed.table(table) else {
            return false;
        };
        let Some(n) = self.new.table(table) else {
            return r
                .uniques
                .iter()
                .any(|u| same_set(&u.columns, cols) && self.name_reused(table, &u.name));
        };
        let pk_changed = r.primary_key != n.primary_key;
        let old_side = (pk_changed && same_set(&r.primary_key, cols))
            || r.uniques
                .iter()
                .any(|u| same_set(&u.columns, cols) && !n.uniques.contains(u));
        let new_side = (pk_changed && same_set(&n.primary_key, cols))
            || n.uniques
                .iter()
                .any(|u| same_set(&u.columns, cols) && !r.uniques.contains(u));
        old_side || (both_ways && new_side)
    }

    /// True when a surviving column changes type (or goes away).
    fn retyped(&self, table: &str, col: &str) -> bool {
        if !self.touches(table) {
            return false;
        }
        let Some((r, n)) = self.pair(table) else {
            return false;
        };
        match (r.column(col), n.column(col)) {
            (Some(a), Some(b)) => a.ty != b.ty,
            (Some(_), None) => true,
            (None, _) => false,
        }
    }

    /// True when nothing this plan does disturbs the referenced side of an
    /// existing foreign key (`both_ways` as for `key_disturbed`).
    fn ref_undisturbed(&self, ref_table: &str, ref_cols: &[String], both_ways: bool) -> bool {
        if !self.renamed.tables.contains_key(ref_table) {
            // Not modelled (or not there yet): nothing this plan does touches it.
            return true;
        }
        !ref_cols.iter().any(|c| self.retyped(ref_table, c))
            && !self.key_disturbed(ref_table, ref_cols, both_ways)
    }

    /// True when an existing foreign key of a surviving table stays in place
    /// through the whole plan.
    pub fn fk_kept(&self, table: &str, fk: &ForeignKey) -> bool {
        // Neither side moves: the table is the same before and after (so
        // it has the key, with the same column types), and so is the
        // referenced one.
        if !self.touches(table) && !self.touches(&fk.ref_table) {
            return self
                .new
                .table(table)
                .is_some_and(|t| t.foreign_keys.contains(fk));
        }
        self.new
            .table(table)
            .is_some_and(|t| t.foreign_keys.contains(fk))
            && !fk.columns.iter().any(|c| self.retyped(table, c))
            && self.ref_undisturbed(&fk.ref_table, &fk.ref_columns, false)
    }

    /// True when a foreign key of a dropped table can stay until its table is
    /// dropped (the drop order takes care of references between dropped
    /// tables, except those that close a cycle). The downgrade re-creates the
    /// table first thing, while the new schema's keys still exist, so keys
    /// the plan adds count as well as keys it drops.
    pub fn fk_stays_until_drop(&self, table: &str, fk: &ForeignKey) -> bool {
        let cyclic = self
            .dropped
            .cyclic
            .contains(&(table.to_string(), fk.name.clone()));
        !cyclic && self.ref_undisturbed(&fk.ref_table, &fk.ref_columns, true)
    }

    /// True when a foreign key of a created table can be created inline with
    /// its table; otherwise it is added in the foreign-key phase.
    pub fn fk_inline(&self, table: &str, fk: &ForeignKey) -> bool {
        let r = fk.ref_table.as_str();
        if r == table {
            return true;
        }
        if self.is_created(r) {
            return !self
                .created
                .cyclic
                .contains(&(table.to_string(), fk.name.clone()));
        }
        match (self.renamed.table(r), self.new.table(r)) {
            (None, None) => true,
            (Some(rt), Some(_)) => {
                // The referenced key must exist before the plan and survive
                // it, with columns of the final types.
                self.ref_undisturbed(r, &fk.ref_columns, false)
                    && fk.ref_columns.iter().all(|c| rt.column(c).is_some())
                    && (same_set(&rt.primary_key, &fk.ref_columns)
                        || rt
                            .uniques
                            .iter()
                            .any(|u| same_set(&u.columns, &fk.ref_columns)))
            }
            _ => false,
        }
    }

    /// True for an alter that must wait until the primary key has changed:
    /// one that makes a column nullable while it is still in the old key, or
    /// one that makes a column joining the key auto-increment (MySQL wants an
    /// auto-increment column to be a key). Every other alter runs before the
    /// key changes, so that new key columns are NOT NULL by then; that wins
    /// when a column needs both.
    pub fn alter_after_pk(&self, old: &Table, new: &Table, from: &Column, to: &Column) -> bool {
        let was_key = old.primary_key.contains(&from.name);
        let is_key = new.primary_key.contains(&to.name);
        let becomes_nullable = to.nullable && !from.nullable;
        let becomes_not_null = from.nullable && !to.nullable;
        let becomes_auto = to.auto_increment && !from.auto_increment;
        (was_key && becomes_nullable) || (becomes_auto && is_key && !was_key && !becomes_not_null)
    }

    /// Refuses NOT NULL columns without a default added to existing tables:
    /// the rows already there would have no value for them.
    pub fn refuse_unsafe_additions(&self) -> Result<(), DiffError> {
        let mut bad = Vec::new();
        for (r, n) in self.changed() {
            for c in &n.columns {
                let expanded = self
                    .renames
                    .expansions
                    .iter()
                    .any(|(t, _, col)| *t == n.name && *col == c.name);
                if r.column(&c.name).is_none()
                    && !expanded
                    && !c.nullable
                    && c.default.is_none()
                    && !c.auto_increment
                {
                    bad.push(format!("`{}.{}`", n.name, c.name));
                }
            }
        }
        if bad.is_empty() {
            return Ok(());
        }
        let (what, them) = if bad.len() == 1 {
            (format!("column {}", bad[0]), "it")
        } else {
            (format!("columns {}", bad.join(", ")), "them")
        };
        Err(DiffError::Refused(format!(
            "cannot add {what} as NOT NULL without a default: the rows already in the table would have no value for {them}\n\
             help: choose one of:\n  \
             - give it a default: `#[model(default = ...)]` or `#[model(default_sql = \"...\")]`\n  \
             - make it nullable: `Option<T>`\n  \
             - add it as `Option<T>`, backfill it with a raw SQL migration, then make it NOT NULL in a later migration"
        )))
    }
}

/// The tables of both schemas, as (in `a`, in `b`) pairs in name order: a
/// merge of the two sorted maps, one comparison per step.
fn pairs<'a>(a: &'a Schema, b: &'a Schema) -> impl Iterator<Item = (&'a Table, &'a Table)> + 'a {
    let mut a = a.tables.iter().peekable();
    let mut b = b.tables.iter().peekable();
    std::iter::from_fn(move || loop {
        let order = a.peek()?.0.cmp(b.peek()?.0);
        match order {
            std::cmp::Ordering::Less => {
                a.next();
            }
            std::cmp::Ordering::Greater => {
                b.next();
            }
            std::cmp::Ordering::Equal => return Some((a.next()?.1, b.next()?.1)),
        }
    })
}

fn same_set(a: &[String], b: &[String]) -> bool {
    if a.is_empty() || a.len() != b.len() {
        return false;
    }
    let mut a: Vec<&String> = a.iter().collect();
    let mut b: Vec<&String> = b.iter().collect();
    a.sort();
    b.sort();
    a == b
}
