//! Resolving `renamed_from` hints into the renames this plan performs.
//!
//! A hint stays on the model after the migration that applied it, so a hint
//! whose new name already exists in the old schema is taken as applied and
//! ignored. A hint whose old name is nowhere (neither in the snapshot nor
//! in the models) while the snapshot has nothing unmatched it could mean is
//! stale too (a fresh project, a squashed history): noted and ignored. Every
//! other hint must name an old table (or column) that exists, since it may
//! be a typo of one the plan would drop; all hint errors are reported at
//! once. Because a pending rename's target
//! never exists in the old schema, and each old name is claimed once, the
//! renames can run in any order without colliding.

use std::collections::BTreeMap;

use super::{DiffError, Hints};
use crate::ops::Operation;
use crate::schema::{Schema, Table};

/// The renames a plan performs, in the order they run.
#[derive(Debug, Default)]
pub(super) struct Renames {
    /// (old name, new name), sorted by new name.
    pub tables: Vec<(String, String)>,
    /// (table's new name, old column, new column), sorted by table then new
    /// column.
    pub columns: Vec<(String, String, String)>,
    /// Warnings about hints taken as already applied although the old name is
    /// still there (which usually means a chain of renames the hints cannot
    /// express).
    pub notes: Vec<String>,
    /// (table, old column, new column) where the models keep the old
    /// column beside the new one that says `renamed_from` it: an
    /// expansion (`expand.rs`), whose new column is added nullable first.
    pub expansions: Vec<(String, String, String)>,
}

impl Renames {
    /// The rename operations: tables first, so that column renames use the
    /// new table names, as the hints do.
    pub fn ops(&self) -> Vec<Operation> {
        let tables = self.tables.iter().map(|(from, to)| Operation::RenameTable {
            from: from.clone(),
            to: to.clone(),
        });
        let columns = self
            .columns
            .iter()
            .map(|(table, from, to)| Operation::RenameColumn {
                table: table.clone(),
                from: from.clone(),
                to: to.clone(),
            });
        tables.chain(columns).collect()
    }

    /// The old name of a table that exists after the renames.
    pub fn old_table_name<'a>(&'a self, new_name: &'a str) -> &'a str {
        self.tables
            .iter()
            .find(|(_, to)| to == new_name)
            .map_or(new_name, |(from, _)| from.as_str())
    }
}

pub(super) fn resolve(old: &Schema, new: &Schema, hints: &Hints) -> Result<Renames, DiffError> {
    let mut out = Renames::default();
    let mut errors = Vec::new();

    // Old table name -> the new name that claimed it first.
    let mut claimed: BTreeMap<&str, &str> = BTreeMap::new();
    for (new_name, old_name) in &hints.tables {
        if !new.tables.contains_key(new_name) {
            errors.push(format!(
                "a `renamed_from = \"{old_name}\"` hint names table `{new_name}`, which is not in the models"
            ));
            continue;
        }
        if new_name == old_name {
            continue;
        }
        if old.tables.contains_key(new_name) {
            if old.tables.contains_key(old_name) && !new.tables.contains_key(old_name) {
                out.notes.push(format!(
                    "table `{new_name}` is marked `renamed_from = \"{old_name}\"` but both exist in the snapshot: \
                     the rename is taken as already applied and `{old_name}` is dropped"
                ));
            }
            continue;
        }
        if !old.tables.contains_key(old_name) {
            // Tables the snapshot has and the models do not: what a typo of
            // the old name could have meant. Without one the hint can only
            // be stale (a fresh project, a squashed history): it is noted
            // and ignored, and the table is created.
            let unmatched: Vec<&String> = old
                .tables
                .keys()
                .filter(|t| !new.tables.contains_key(*t))
                .collect();
            if unmatched.is_empty() {
                out.notes.push(format!(
                    "table `{new_name}` is marked `renamed_from = \"{old_name}\"`, but neither the snapshot nor the models have `{old_name}`: \
                     the hint is stale and ignored (remove it)"
                ));
                continue;
            }
            errors.push(format!(
                "table `{new_name}` is marked `renamed_from = \"{old_name}\"`, but the snapshot has no table `{old_name}`\n\
                 help: fix the old name or remove the attribute; the snapshot has: {}",
                list(old.tables.keys())
            ));
            continue;
        }
        if let Some(other) = claimed.insert(old_name, new_name) {
            errors.push(format!(
                "tables `{other}` and `{new_name}` are both marked `renamed_from = \"{old_name}\"`\n\
                 help: a table can be renamed to one new name only; keep the attribute on one of them"
            ));
            continue;
        }
        out.tables.push((old_name.clone(), new_name.clone()));
    }

    let mut claimed: BTreeMap<(&str, &str), &str> = BTreeMap::new();
    for ((table, new_col), old_col) in &hints.columns {
        let Some(new_table) = new.tables.get(table) else {
            errors.push(format!(
                "a `renamed_from = \"{old_col}\"` hint names column `{table}.{new_col}`, but table `{table}` is not in the models"
            ));
            continue;
        };
        if new_table.column(new_col).is_none() {
            errors.push(format!(
                "a `renamed_from = \"{old_col}\"` hint names column `{table}.{new_col}`, which is not in the models"
            ));
            continue;
        }
        if new_col == old_col {
            continue;
        }
        let old_table = match out.tables.iter().find(|(_, to)| to == table) {
            Some((from, _)) => &old.tables[from],
            None => match old.tables.get(table) {
                Some(t) => t,
                // The table is created by this plan, with the column under its
                // new name: there is nothing to rename.
                None => continue,
            },
        };
        if old_table.column(new_col).is_some() {
            if old_table.column(old_col).is_some() && new_table.column(old_col).is_none() {
                out.notes.push(format!(
                    "column `{table}.{new_col}` is marked `renamed_from = \"{old_col}\"` but both exist in the snapshot: \
                     the rename is taken as already applied and `{old_col}` is dropped"
                ));
            }
            continue;
        }
        if old_table.column(old_col).is_none() {
            if old_table
                .columns
                .iter()
                .all(|c| new_table.column(&c.name).is_some())
            {
                out.notes.push(format!(
                    "column `{table}.{new_col}` is marked `renamed_from = \"{old_col}\"`, but table `{}` in the snapshot has no column `{old_col}` and no column the models drop: \
                     the hint is stale and ignored (remove it)",
                    old_table.name
                ));
                continue;
            }
            errors.push(format!(
                "column `{table}.{new_col}` is marked `renamed_from = \"{old_col}\"`, but table `{}` in the snapshot has no column `{old_col}`\n\
                 help: fix the old name or remove the attribute; the snapshot's columns are: {}",
                old_table.name,
                columns_of(old_table)
            ));
            continue;
        }
        if new_table.column(old_col).is_some()
            && hints.kept.contains(&(table.clone(), old_col.clone()))
        {
            // The models keep the old column beside the new one
            // (`#[model(keep = "..")]`): not a rename but an expansion,
            // which `generate` writes in its expand/contract form
            // (`expand.rs`); the diff adds the new column.
            out.expansions
                .push((table.clone(), old_col.clone(), new_col.clone()));
            continue;
        }
        if let Some(other) = claimed.insert((table, old_col), new_col) {
            errors.push(format!(
                "columns `{table}.{other}` and `{table}.{new_col}` are both marked `renamed_from = \"{old_col}\"`\n\
                 help: a column can be renamed to one new name only; keep the attribute on one of them"
            ));
            continue;
        }
        out.columns
            .push((table.clone(), old_col.clone(), new_col.clone()));
    }

    if !errors.is_empty() {
        return Err(DiffError::Hint(errors.join("\n")));
    }
    out.tables.sort_by(|a, b| a.1.cmp(&b.1));
    out.columns.sort_by(|a, b| (&a.0, &a.2).cmp(&(&b.0, &b.2)));
    Ok(out)
}

fn list<'a>(names: impl Iterator<Item = &'a String>) -> String {
    let names: Vec<String> = names.map(|n| format!("`{n}`")).collect();
    if names.is_empty() {
        "no tables".into()
    } else {
        names.join(", ")
    }
}

fn columns_of(t: &Table) -> String {
    t.columns
        .iter()
        .map(|c| format!("`{}`", c.name))
        .collect::<Vec<_>>()
        .join(", ")
}
