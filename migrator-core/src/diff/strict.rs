//! A strict replay for the tests: `Operation::apply`, plus the rules our
//! databases enforce, checked before and after every step.
//!
//! `ops::replay` only checks that each operation fits (the table exists, the
//! name is free); a database also keeps references intact. This checker
//! emulates the union of PostgreSQL's and MySQL's rules, so a plan that
//! passes it runs on both:
//! - every key, index and foreign key names existing columns; primary key
//!   columns are NOT NULL; index and unique names are unique schema-wide
//!   (PostgreSQL);
//! - a foreign key references an existing table, with columns of the same
//!   types, backed by its primary key or a unique constraint over the same
//!   columns;
//! - a column a foreign key uses (on either side) cannot change type (MySQL);
//! - a foreign key is tied to a key of the referenced table when it is
//!   created, and that key cannot be dropped while the foreign key exists
//!   (PostgreSQL). Which candidate PostgreSQL picks is not modelled: the
//!   foreign key is tied to all of them, the strictest reading.
//!
//! Because of the last rule the checker is stateful: replaying the upgrade and
//! then the downgrade on one [`Strict`] is what a database that ran both sees.

use std::collections::{BTreeMap, BTreeSet};

use crate::ops::Operation;
use crate::schema::{ForeignKey, Schema};

/// Checks that `s` is a schema a database could hold.
pub(crate) fn validate(s: &Schema) -> Result<(), String> {
    let mut index_names: BTreeMap<&str, &str> = BTreeMap::new();
    for t in s.tables.values() {
        let tn = &t.name;
        let mut cols = BTreeSet::new();
        for c in &t.columns {
            if !cols.insert(c.name.as_str()) {
                return Err(format!("duplicate column `{tn}.{}`", c.name));
            }
        }
        let has = |c: &String| cols.contains(c.as_str());
        let mut pk = BTreeSet::new();
        for c in &t.primary_key {
            let col = t
                .column(c)
                .ok_or_else(|| format!("primary key column `{tn}.{c}` does not exist"))?;
            if col.nullable {
                return Err(format!("primary key column `{tn}.{c}` is nullable"));
            }
            if !pk.insert(c) {
                return Err(format!("primary key of `{tn}` repeats `{c}`"));
            }
        }
        let mut names = BTreeSet::new();
        for n in t.object_names() {
            if !names.insert(n) {
                return Err(format!("duplicate object name `{n}` on `{tn}`"));
            }
        }
        let keys = t
            .indexes
            .iter()
            .map(|i| (&i.name, &i.columns))
            .chain(t.uniques.iter().map(|u| (&u.name, &u.columns)));
        for (name, columns) in keys {
            if columns.is_empty() || !columns.iter().all(has) {
                return Err(format!("index `{name}` on `{tn}` names a missing column"));
            }
            if let Some(other) = index_names.insert(name, tn) {
                return Err(format!(
                    "index name `{name}` is used by `{other}` and `{tn}`"
                ));
            }
        }
        for fk in &t.foreign_keys {
            let name = &fk.name;
            if fk.columns.is_empty() || !fk.columns.iter().all(has) {
                return Err(format!(
                    "foreign key `{name}` on `{tn}` names a missing column"
                ));
            }
            let rt = s.table(&fk.ref_table).ok_or_else(|| {
                format!(
                    "foreign key `{name}` on `{tn}` references missing table `{}`",
                    fk.ref_table
                )
            })?;
            if fk.ref_columns.len() != fk.columns.len() {
                return Err(format!(
                    "foreign key `{name}` on `{tn}` has mismatched arity"
                ));
            }
            for (c, rc) in fk.columns.iter().zip(&fk.ref_columns) {
                let rcol = rt.column(rc).ok_or_else(|| {
                    format!(
                        "foreign key `{name}` on `{tn}` references missing column `{}.{rc}`",
                        rt.name
                    )
                })?;
                let col = t
                    .column(c)
                    .ok_or_else(|| format!("missing column `{tn}.{c}`"))?;
                if col.ty != rcol.ty {
                    return Err(format!(
                        "foreign key `{name}` on `{tn}`: `{c}` is `{}` but `{}.{rc}` is `{}`",
                        col.ty, rt.name, rcol.ty
                    ));
                }
            }
            let backed = same_set(&rt.primary_key, &fk.ref_columns)
                || rt
                    .uniques
                    .iter()
                    .any(|u| same_set(&u.columns, &fk.ref_columns));
            if !backed {
                return Err(format!(
                    "foreign key `{name}` on `{tn}` references `{}` columns with no key over them",
                    rt.name
                ));
            }
        }
    }
    Ok(())
}

/// A key of a referenced table a foreign key can be tied to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum KeyRef {
    PrimaryKey,
    Unique(String),
}

/// A schema being replayed, with what each foreign key is tied to.
#[derive(Debug)]
pub(crate) struct Strict {
    pub schema: Schema,
    /// (owning table, foreign key name) -> keys it is tied to.
    pins: BTreeMap<(String, String), BTreeSet<KeyRef>>,
}

impl Strict {
    /// Starts from a valid schema; its foreign keys are tied to every key
    /// they could have been created against.
    pub fn new(s: &Schema) -> Result<Strict, String> {
        validate(s).map_err(|e| format!("invalid start schema: {e}"))?;
        let mut me = Strict {
            schema: s.clone(),
            pins: BTreeMap::new(),
        };
        for t in s.tables.values() {
            for fk in &t.foreign_keys {
                me.pin(&t.name, fk);
            }
        }
        Ok(me)
    }

    /// Replays `ops`, validating before and after every step.
    pub fn run(&mut self, ops: &[Operation]) -> Result<(), String> {
        for (i, op) in ops.iter().enumerate() {
            let step = |e: String| format!("step {} `{op}`: {e}", i + 1);
            self.precheck(op).map_err(step)?;
            op.apply(&mut self.schema).map_err(|e| step(e.0))?;
            self.track(op);
            validate(&self.schema).map_err(step)?;
        }
        Ok(())
    }

    fn pin(&mut self, table: &str, fk: &ForeignKey) {
        let mut keys = BTreeSet::new();
        if let Some(rt) = self.schema.table(&fk.ref_table) {
            if same_set(&rt.primary_key, &fk.ref_columns) {
                keys.insert(KeyRef::PrimaryKey);
            }
            for u in &rt.uniques {
                if same_set(&u.columns, &fk.ref_columns) {
                    keys.insert(KeyRef::Unique(u.name.clone()));
                }
            }
        }
        self.pins.insert((table.to_string(), fk.name.clone()), keys);
    }

    /// Refuses dropping a key some foreign key is tied to.
    fn key_free(&self, table: &str, key: KeyRef) -> Result<(), String> {
        for t in self.schema.tables.values() {
            for fk in t.foreign_keys.iter().filter(|f| f.ref_table == table) {
                let pinned = self
                    .pins
                    .get(&(t.name.clone(), fk.name.clone()))
                    .is_some_and(|keys| keys.contains(&key));
                if pinned {
                    return Err(format!(
                        "{key:?} of `{table}` is in use by foreign key `{}` on `{}`",
                        fk.name, t.name
                    ));
                }
            }
        }
        Ok(())
    }

    fn precheck(&self, op: &Operation) -> Result<(), String> {
        match op {
            Operation::AlterColumn { table, from, to } if from.ty != to.ty => {
                for t in self.schema.tables.values() {
                    for fk in &t.foreign_keys {
                        if (t.name == *table && fk.columns.contains(&from.name))
                            || (fk.ref_table == *table && fk.ref_columns.contains(&from.name))
                        {
                            return Err(format!(
                                "`{table}.{}` changes type while foreign key `{}` on `{}` uses it",
                                from.name, fk.name, t.name
                            ));
                        }
                    }
                }
                Ok(())
            }
            Operation::DropUnique { table, unique } => {
                self.key_free(table, KeyRef::Unique(unique.name.clone()))
            }
            Operation::SetPrimaryKey { table, from, to } if from != to => {
                self.key_free(table, KeyRef::PrimaryKey)
            }
            _ => Ok(()),
        }
    }

    fn track(&mut self, op: &Operation) {
        match op {
            Operation::CreateTable { table } => {
                for fk in &table.foreign_keys {
                    self.pin(&table.name, fk);
                }
            }
            Operation::AddForeignKey { table, foreign_key } => self.pin(table, foreign_key),
            Operation::DropForeignKey { table, foreign_key } => {
                self.pins.remove(&(table.clone(), foreign_key.name.clone()));
            }
            Operation::DropTable { table } => {
                self.pins.retain(|(owner, _), _| *owner != table.name);
            }
            Operation::RenameTable { from, to } => {
                let moved: Vec<_> = self
                    .pins
                    .keys()
                    .filter(|(owner, _)| owner == from)
                    .cloned()
                    .collect();
                for key in moved {
                    if let Some(keys) = self.pins.remove(&key) {
                        self.pins.insert((to.clone(), key.1), keys);
                    }
                }
            }
            _ => {}
        }
    }
}

fn same_set(a: &[String], b: &[String]) -> bool {
    let a: BTreeSet<&String> = a.iter().collect();
    let b: BTreeSet<&String> = b.iter().collect();
    a.len() == b.len() && a == b && !a.is_empty()
}
