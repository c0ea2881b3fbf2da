//! Property tests of the diff engine (docs/DESIGN.md §7.11), over random valid schemas
//! and random mutations of them.
//!
//! The generator reads its decisions from a vector of numbers that proptest
//! draws and shrinks; a number past the end reads as 0, which always means
//! "the simplest choice", so shrinking yields small schemas and few mutations.
//!
//! A case is a schema `a` and a schema `b` derived from it by mutations (add,
//! drop and rename tables and columns, with the rename hints a model would
//! carry; change types, nullability, defaults, auto-increment and primary
//! keys; add, drop and change indexes, unique constraints, checks and foreign
//! keys, including cycles). Both are repaired into valid schemas and checked
//! with `strict::validate`. The properties:
//! - `diff(a, a)` is empty, and so is `diff(b, b, hints)` (applied hints);
//! - the diff refuses exactly when `b` adds a NOT NULL column without a
//!   default to an existing table (the generator makes that rare, and the
//!   test fails if most cases are refusals);
//! - the upgrade replays under the strict checker to exactly `b`, the
//!   downgrade (the inverse) back to `a` up to column order, and the upgrade
//!   again after that;
//! - the plan is deterministic, hinted renames are renames (never drop + add),
//!   and every destructive step has a warning naming what it drops.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

use super::strict::{validate, Strict};
use super::*;
use crate::ops::inverse_all;
use crate::schema::{
    naming, Check, Column, ColumnType, DefaultValue, ForeignKey, Index, RefAction, Table, Unique,
};

// ------------------------------------------------------------- choices

/// Decisions drawn from proptest's numbers; 0 past the end.
struct Choices<'a> {
    data: &'a [u32],
    pos: usize,
}

impl Choices<'_> {
    fn next(&mut self) -> u32 {
        let v = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        v
    }

    /// A number in `0..n` (0 when `n` is 0).
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            self.next() as usize % n
        }
    }

    /// True with probability `pct` percent; false once the data runs out.
    fn chance(&mut self, pct: u32) -> bool {
        self.next() % 100 >= 100 - pct
    }

    fn pick<T: Clone>(&mut self, items: &[T]) -> Option<T> {
        if items.is_empty() {
            None
        } else {
            Some(items[self.below(items.len())].clone())
        }
    }
}

fn random_type(ch: &mut Choices) -> ColumnType {
    match ch.below(11) {
        0 => ColumnType::BigInt,
        1 => ColumnType::Integer,
        2 => ColumnType::SmallInt,
        3 => ColumnType::Text,
        4 => ColumnType::Varchar(20),
        5 => ColumnType::Varchar(200),
        6 => ColumnType::Boolean,
        7 => ColumnType::Uuid,
        8 => ColumnType::Timestamp,
        9 => ColumnType::Double,
        _ => ColumnType::Custom("NUMERIC(12, 2)".into()),
    }
}

fn random_default(ch: &mut Choices, ty: &ColumnType) -> DefaultValue {
    match ty {
        ColumnType::SmallInt | ColumnType::Integer | ColumnType::BigInt => {
            DefaultValue::Int(ch.below(100) as i64)
        }
        ColumnType::Text | ColumnType::Varchar(_) => {
            DefaultValue::Str(["", "medium", "it's"][ch.below(3)].into())
        }
        ColumnType::Boolean => DefaultValue::Bool(ch.chance(50)),
        ColumnType::Double => DefaultValue::Float([0.0, 1.5, -2.25][ch.below(3)]),
        ColumnType::Timestamp => DefaultValue::Sql("CURRENT_TIMESTAMP".into()),
        _ => DefaultValue::Sql("NULL".into()),
    }
}

fn random_action(ch: &mut Choices) -> RefAction {
    [
        RefAction::NoAction,
        RefAction::Cascade,
        RefAction::Restrict,
        RefAction::SetNull,
        RefAction::SetDefault,
    ][ch.below(5)]
}

fn is_integer(ty: &ColumnType) -> bool {
    ty.integer_rank().is_some()
}

fn same_set(a: &[String], b: &[String]) -> bool {
    let x: BTreeSet<&String> = a.iter().collect();
    let y: BTreeSet<&String> = b.iter().collect();
    !a.is_empty() && a.len() == b.len() && x.len() == a.len() && x == y
}

// ------------------------------------------------------------- generation

/// Builds and mutates schemas, remembering where renamed things came from.
struct Gen {
    s: Schema,
    fresh: usize,
    /// Current table name -> its name in `a`, for tables that exist in `a`.
    table_origin: BTreeMap<String, String>,
    /// (current table, current column) -> the column's name in `a`.
    col_origin: BTreeMap<(String, String), String>,
    /// True while mutating `a` into `b`: columns added now go to existing
    /// tables, so they are made nullable (nearly always) to avoid refusals.
    mutating: bool,
}

impl Gen {
    fn fresh(&mut self, prefix: &str) -> String {
        self.fresh += 1;
        format!("{prefix}{}", self.fresh)
    }

    fn table_names(&self) -> Vec<String> {
        self.s.tables.keys().cloned().collect()
    }

    fn column_names(&self, table: &str) -> Vec<String> {
        self.s.tables[table]
            .columns
            .iter()
            .map(|c| c.name.clone())
            .collect()
    }

    fn random_column(&mut self, ch: &mut Choices, name: String) -> Column {
        let ty = random_type(ch);
        let mut c = Column::new(name, ty.clone());
        if self.mutating {
            // Mostly nullable or with a default; rarely the refused kind.
            match ch.below(20) {
                0 => {}
                1..=7 => c.default = Some(random_default(ch, &ty)),
                _ => c.nullable = true,
            }
        } else {
            c.nullable = ch.chance(40);
            if ch.chance(30) {
                c.default = Some(random_default(ch, &ty));
            }
        }
        c
    }

    /// Adds a table with a primary key, columns, and some indexes, uniques
    /// and checks (foreign keys come separately, so they can form cycles).
    fn add_table(&mut self, ch: &mut Choices, name: String) {
        let mut t = Table::new(name.clone());
        match ch.below(10) {
            0..=6 => {
                let ty = [
                    ColumnType::BigInt,
                    ColumnType::Integer,
                    ColumnType::Uuid,
                    ColumnType::Varchar(36),
                ][ch.below(4)]
                .clone();
                let mut id = Column::new("id", ty.clone());
                id.auto_increment = is_integer(&ty) && ch.chance(50);
                t.columns.push(id);
                t.primary_key = vec!["id".into()];
            }
            7 | 8 => {
                t.columns.push(Column::new("id", ColumnType::BigInt));
                t.columns.push(Column::new("k", ColumnType::Varchar(20)));
                t.primary_key = vec!["id".into(), "k".into()];
            }
            _ => {}
        }
        for j in 0..ch.below(4) {
            let mut c = self.random_column(ch, format!("c{j}"));
            if self.mutating {
                // A new table has no rows: any column is fine.
                c.nullable = ch.chance(40);
            }
            t.columns.push(c);
        }
        self.s.insert(t);
        for _ in 0..ch.below(3) {
            self.add_index(ch, &name);
        }
        if ch.chance(30) {
            self.add_unique(ch, &name);
        }
        if ch.chance(30) {
            self.add_check(ch, &name);
        }
    }

    fn random_columns(&mut self, ch: &mut Choices, table: &str) -> Vec<String> {
        let names = self.column_names(table);
        let mut cols = Vec::new();
        for _ in 0..1 + ch.below(2) {
            if let Some(c) = ch.pick(&names) {
                if !cols.contains(&c) {
                    cols.push(c);
                }
            }
        }
        cols
    }

    fn add_index(&mut self, ch: &mut Choices, table: &str) {
        let cols = self.random_columns(ch, table);
        if cols.is_empty() {
            return;
        }
        let name = naming::index(table, &cols);
        if self.name_taken(table, &name) {
            return;
        }
        let t = self.s.tables.get_mut(table).expect("table exists");
        t.indexes.push(Index {
            name,
            columns: cols,
        });
        t.normalize();
    }

    fn add_unique(&mut self, ch: &mut Choices, table: &str) {
        let cols = self.random_columns(ch, table);
        if cols.is_empty() {
            return;
        }
        let name = naming::unique(table, &cols);
        if self.name_taken(table, &name) {
            return;
        }
        let t = self.s.tables.get_mut(table).expect("table exists");
        t.uniques.push(Unique {
            name,
            columns: cols,
            nulls_not_distinct: false,
        });
        t.normalize();
    }

    fn add_check(&mut self, ch: &mut Choices, table: &str) {
        let Some(col) = ch.pick(&self.column_names(table)) else {
            return;
        };
        let t = self.s.tables.get_mut(table).expect("table exists");
        let name = (1..)
            .map(|n| naming::positional_check(table, n))
            .find(|n| !t.object_names().any(|o| o == n))
            .expect("a free name");
        t.checks.push(Check {
            name,
            expr: format!("{col} IS NOT NULL OR {}", ch.below(3)),
        });
        t.normalize();
    }

    /// Index and unique names are schema-wide (PostgreSQL); others per table.
    fn name_taken(&self, table: &str, name: &str) -> bool {
        self.s.tables[table].object_names().any(|n| n == name)
            || self.s.tables.values().any(|t| {
                t.indexes.iter().any(|i| i.name == name) || t.uniques.iter().any(|u| u.name == name)
            })
    }

    /// Adds a foreign key from `table` to a key of a random table (itself
    /// included, so cycles and self-references happen).
    fn add_foreign_key(&mut self, ch: &mut Choices, table: &str) {
        if let Some(target) = ch.pick(&self.table_names()) {
            self.add_foreign_key_to(ch, table, target);
        }
    }

    fn add_foreign_key_to(&mut self, ch: &mut Choices, table: &str, target: String) {
        let tt = &self.s.tables[&target];
        let mut keys: Vec<Vec<String>> = Vec::new();
        if !tt.primary_key.is_empty() {
            keys.push(tt.primary_key.clone());
        }
        keys.extend(tt.uniques.iter().map(|u| u.columns.clone()));
        let Some(ref_columns) = ch.pick(&keys) else {
            return;
        };
        let ref_types: Vec<ColumnType> = ref_columns
            .iter()
            .map(|c| tt.column(c).expect("key column exists").ty.clone())
            .collect();
        let mut columns = Vec::new();
        for ty in ref_types {
            let reusable: Vec<String> = self.s.tables[table]
                .columns
                .iter()
                .filter(|c| c.ty == ty && !columns.contains(&c.name))
                .map(|c| c.name.clone())
                .collect();
            let reuse = if ch.chance(30) {
                ch.pick(&reusable)
            } else {
                None
            };
            let name = match reuse {
                Some(name) => name,
                None => {
                    let name = self.fresh("f");
                    let mut c = Column::new(name.clone(), ty);
                    c.nullable = self.mutating || ch.chance(50);
                    self.s
                        .tables
                        .get_mut(table)
                        .expect("table exists")
                        .columns
                        .push(c);
                    name
                }
            };
            columns.push(name);
        }
        let name = naming::foreign_key(table, &columns);
        if self.name_taken(table, &name) {
            return;
        }
        let t = self.s.tables.get_mut(table).expect("table exists");
        t.foreign_keys.push(ForeignKey {
            name,
            columns: columns.clone(),
            ref_table: target,
            ref_columns,
            on_delete: random_action(ch),
            on_update: random_action(ch),
        });
        t.normalize();
        if ch.chance(40) {
            let name = naming::index(table, &columns);
            if !self.name_taken(table, &name) {
                let t = self.s.tables.get_mut(table).expect("table exists");
                t.indexes.push(Index { name, columns });
                t.normalize();
            }
        }
    }

    fn base(ch: &mut Choices) -> Gen {
        let mut g = Gen {
            s: Schema::new(),
            fresh: 0,
            table_origin: BTreeMap::new(),
            col_origin: BTreeMap::new(),
            mutating: false,
        };
        for i in 0..1 + ch.below(4) {
            g.add_table(ch, format!("t{i}"));
        }
        for t in g.table_names() {
            for _ in 0..ch.below(3) {
                g.add_foreign_key(ch, &t);
            }
        }
        // Make cycles common: two tables referencing each other.
        if ch.chance(40) {
            let names = g.table_names();
            if let (Some(x), Some(y)) = (ch.pick(&names), ch.pick(&names)) {
                g.add_foreign_key_to(ch, &x, y.clone());
                g.add_foreign_key_to(ch, &y, x);
            }
        }
        repair(&mut g.s);
        g.table_origin = g.s.tables.keys().map(|t| (t.clone(), t.clone())).collect();
        g.col_origin =
            g.s.tables
                .values()
                .flat_map(|t| {
                    t.columns
                        .iter()
                        .map(|c| ((t.name.clone(), c.name.clone()), c.name.clone()))
                })
                .collect();
        g
    }

    // --------------------------------------------------------- mutations

    fn mutate(&mut self, ch: &mut Choices) {
        self.mutating = true;
        let tables = self.table_names();
        let Some(t) = ch.pick(&tables) else {
            let name = self.fresh("nt");
            self.add_table(ch, name);
            return;
        };
        match ch.below(21) {
            20 => {
                // Drop two tables that reference each other, when there are.
                let refs = |a: &Table, b: &str| a.foreign_keys.iter().any(|f| f.ref_table == b);
                let pairs: Vec<(String, String)> = self
                    .s
                    .tables
                    .values()
                    .flat_map(|x| self.s.tables.values().map(move |y| (x, y)))
                    .filter(|(x, y)| x.name < y.name && refs(x, &y.name) && refs(y, &x.name))
                    .map(|(x, y)| (x.name.clone(), y.name.clone()))
                    .collect();
                if let Some((x, y)) = ch.pick(&pairs) {
                    self.drop_table(&x);
                    self.drop_table(&y);
                }
            }
            0 => {
                let name = self.fresh("nt");
                self.add_table(ch, name.clone());
                if ch.chance(50) {
                    self.add_foreign_key(ch, &name);
                }
                // An existing table referencing the new one closes cycles.
                if ch.chance(30) {
                    self.add_foreign_key_to(ch, &t, name.clone());
                }
                // Two new tables referencing each other.
                if ch.chance(40) {
                    let other = self.fresh("nt");
                    self.add_table(ch, other.clone());
                    self.add_foreign_key_to(ch, &name, other.clone());
                    self.add_foreign_key_to(ch, &other, name);
                }
            }
            1 => {
                // Drop a table, and often the tables it references too, so
                // that dropped tables reference each other.
                let referenced: Vec<String> = self.s.tables[&t]
                    .foreign_keys
                    .iter()
                    .map(|f| f.ref_table.clone())
                    .filter(|r| *r != t)
                    .collect();
                self.drop_table(&t);
                if ch.chance(50) {
                    if let Some(r) = ch.pick(&referenced) {
                        self.drop_table(&r);
                    }
                }
            }
            2 => {
                let to = self.fresh("nt");
                self.rename_table(&t, &to, ch.chance(50));
            }
            3 => {
                let name = self.fresh("n");
                let c = self.random_column(ch, name);
                self.s.tables.get_mut(&t).expect("exists").columns.push(c);
            }
            4 => {
                if let Some(c) = ch.pick(&self.column_names(&t)) {
                    self.drop_column(&t, &c);
                }
            }
            5 => {
                if let Some(c) = ch.pick(&self.column_names(&t)) {
                    let to = self.fresh("n");
                    self.rename_column(&t, &c, &to);
                }
            }
            6 => {
                if let Some(c) = ch.pick(&self.column_names(&t)) {
                    let ty = random_type(ch);
                    self.retype(&t, &c, ty);
                }
            }
            7 => self.tweak_column(ch, &t),
            8 => {
                let names = self.column_names(&t);
                let mut pk = Vec::new();
                if !ch.chance(15) {
                    for _ in 0..1 + ch.below(2) {
                        if let Some(c) = ch.pick(&names) {
                            if !pk.contains(&c) {
                                pk.push(c);
                            }
                        }
                    }
                }
                let relax = ch.chance(50);
                let table = self.s.tables.get_mut(&t).expect("exists");
                for c in &table.primary_key.clone() {
                    // A column leaving the key may become nullable with it.
                    if relax && !pk.contains(c) {
                        table.column_mut(c).expect("exists").nullable = true;
                    }
                }
                for c in &pk {
                    table.column_mut(c).expect("exists").nullable = false;
                }
                table.primary_key = pk;
            }
            9 => self.add_index(ch, &t),
            10 => {
                let table = self.s.tables.get_mut(&t).expect("exists");
                if !table.indexes.is_empty() {
                    let i = ch.below(table.indexes.len());
                    table.indexes.remove(i);
                }
            }
            11 => {
                // Same name, other columns: a changed definition.
                let cols = self.random_columns(ch, &t);
                let table = self.s.tables.get_mut(&t).expect("exists");
                if !table.indexes.is_empty() && !cols.is_empty() {
                    let i = ch.below(table.indexes.len());
                    table.indexes[i].columns = cols;
                }
            }
            12 => self.add_unique(ch, &t),
            13 => {
                let table = self.s.tables.get_mut(&t).expect("exists");
                if !table.uniques.is_empty() {
                    let i = ch.below(table.uniques.len());
                    table.uniques.remove(i);
                }
            }
            14 => self.add_check(ch, &t),
            15 => {
                let table = self.s.tables.get_mut(&t).expect("exists");
                if !table.checks.is_empty() {
                    let i = ch.below(table.checks.len());
                    if ch.chance(50) {
                        table.checks.remove(i);
                    } else {
                        table.checks[i].expr.push_str(" AND 1 = 1");
                    }
                }
            }
            16 | 17 => self.add_foreign_key(ch, &t),
            18 => {
                let table = self.s.tables.get_mut(&t).expect("exists");
                if !table.foreign_keys.is_empty() {
                    let i = ch.below(table.foreign_keys.len());
                    table.foreign_keys.remove(i);
                }
            }
            _ => {
                let table = self.s.tables.get_mut(&t).expect("exists");
                if !table.foreign_keys.is_empty() {
                    let i = ch.below(table.foreign_keys.len());
                    table.foreign_keys[i].on_delete = random_action(ch);
                    table.foreign_keys[i].on_update = random_action(ch);
                }
            }
        }
        repair(&mut self.s);
    }

    fn drop_table(&mut self, t: &str) {
        self.s.tables.remove(t);
        self.table_origin.remove(t);
        self.col_origin.retain(|(table, _), _| table != t);
    }

    /// Renames a table; with `rename_objects`, its default-named indexes,
    /// constraints and checks follow the new name, as the model's would.
    fn rename_table(&mut self, from: &str, to: &str, rename_objects: bool) {
        let Some(mut t) = self.s.tables.remove(from) else {
            return;
        };
        t.name = to.to_string();
        if rename_objects {
            for i in &mut t.indexes {
                if i.name == naming::index(from, &i.columns) {
                    i.name = naming::index(to, &i.columns);
                }
            }
            for u in &mut t.uniques {
                if u.name == naming::unique(from, &u.columns) {
                    u.name = naming::unique(to, &u.columns);
                }
            }
            for f in &mut t.foreign_keys {
                if f.name == naming::foreign_key(from, &f.columns) {
                    f.name = naming::foreign_key(to, &f.columns);
                }
            }
            let prefix = format!("ck_{from}_");
            for c in &mut t.checks {
                if let Some(n) = c.name.strip_prefix(&prefix) {
                    c.name = format!("ck_{to}_{n}");
                }
            }
        }
        t.normalize();
        for fk in t.foreign_keys.iter_mut() {
            if fk.ref_table == from {
                fk.ref_table = to.to_string();
            }
        }
        for other in self.s.tables.values_mut() {
            for fk in &mut other.foreign_keys {
                if fk.ref_table == from {
                    fk.ref_table = to.to_string();
                }
            }
        }
        self.s.insert(t);
        if let Some(origin) = self.table_origin.remove(from) {
            self.table_origin.insert(to.to_string(), origin);
        }
        let moved: Vec<_> = self
            .col_origin
            .iter()
            .filter(|((table, _), _)| table == from)
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        for ((_, c), origin) in moved {
            self.col_origin.remove(&(from.to_string(), c.clone()));
            self.col_origin.insert((to.to_string(), c), origin);
        }
    }

    fn drop_column(&mut self, t: &str, c: &str) {
        let table = self.s.tables.get_mut(t).expect("exists");
        table.columns.retain(|x| x.name != c);
        self.col_origin.remove(&(t.to_string(), c.to_string()));
    }

    fn rename_column(&mut self, t: &str, from: &str, to: &str) {
        let rename = |cols: &mut Vec<String>| {
            for c in cols.iter_mut() {
                if c == from {
                    *c = to.to_string();
                }
            }
        };
        let table = self.s.tables.get_mut(t).expect("exists");
        table.column_mut(from).expect("exists").name = to.to_string();
        rename(&mut table.primary_key);
        table
            .indexes
            .iter_mut()
            .for_each(|i| rename(&mut i.columns));
        table
            .uniques
            .iter_mut()
            .for_each(|u| rename(&mut u.columns));
        table
            .foreign_keys
            .iter_mut()
            .for_each(|f| rename(&mut f.columns));
        for other in self.s.tables.values_mut() {
            for fk in &mut other.foreign_keys {
                if fk.ref_table == t {
                    rename(&mut fk.ref_columns);
                }
            }
        }
        if let Some(origin) = self.col_origin.remove(&(t.to_string(), from.to_string())) {
            self.col_origin
                .insert((t.to_string(), to.to_string()), origin);
        }
    }

    /// Changes a column's type, and the types of the columns linked to it by
    /// foreign keys, so the keys stay valid and must be lifted around it.
    fn retype(&mut self, t: &str, c: &str, ty: ColumnType) {
        let mut todo = vec![(t.to_string(), c.to_string())];
        let mut done = BTreeSet::new();
        while let Some((t, c)) = todo.pop() {
            if !done.insert((t.clone(), c.clone())) {
                continue;
            }
            for other in self.s.tables.values() {
                for fk in &other.foreign_keys {
                    for (own, referenced) in fk.columns.iter().zip(&fk.ref_columns) {
                        if other.name == t && *own == c {
                            todo.push((fk.ref_table.clone(), referenced.clone()));
                        }
                        if fk.ref_table == t && *referenced == c {
                            todo.push((other.name.clone(), own.clone()));
                        }
                    }
                }
            }
        }
        for (t, c) in done {
            if let Some(col) = self.s.tables.get_mut(&t).and_then(|x| x.column_mut(&c)) {
                col.ty = ty.clone();
                if !is_integer(&ty) {
                    col.auto_increment = false;
                }
                // A literal default of another type would not make sense.
                col.default = None;
            }
        }
    }

    fn tweak_column(&mut self, ch: &mut Choices, t: &str) {
        let Some(c) = ch.pick(&self.column_names(t)) else {
            return;
        };
        let table = self.s.tables.get_mut(t).expect("exists");
        let in_pk = table.primary_key.contains(&c);
        if ch.chance(10) {
            // Comments and collations: changes of their own (the table's
            // comment is a step of its own, the rest alter the column).
            table.comment = match table.comment.take() {
                Some(_) if ch.chance(50) => None,
                _ => Some(format!("note {}", ch.below(3))),
            };
            let col = table.column_mut(&c).expect("exists");
            col.comment = col.comment.take().xor(Some("about it".to_string()));
            if ch.chance(50) {
                col.collation = col.collation.take().xor(Some("C".to_string()));
            }
            return;
        }
        let col = table.column_mut(&c).expect("exists");
        match ch.below(3) {
            0 if !in_pk => col.nullable = !col.nullable,
            0 | 1 => {
                col.default = if col.default.is_some() && ch.chance(50) {
                    None
                } else {
                    Some(random_default(ch, &col.ty.clone()))
                }
            }
            _ => {
                if is_integer(&col.ty) {
                    col.auto_increment = !col.auto_increment;
                }
            }
        }
    }

    /// The hints a model would carry for the renames done so far.
    fn hints(&self) -> Hints {
        let mut h = Hints::default();
        for (now, was) in &self.table_origin {
            if now != was {
                h.tables.insert(now.clone(), was.clone());
            }
        }
        for ((table, now), was) in &self.col_origin {
            if now != was {
                h.columns.insert((table.clone(), now.clone()), was.clone());
            }
        }
        h
    }
}

/// Makes a schema valid again after a mutation: drops what names missing
/// columns, keeps primary key columns NOT NULL, and drops foreign keys whose
/// target is gone, unkeyed or of another type.
fn repair(s: &mut Schema) {
    loop {
        let before = s.clone();
        for t in s.tables.values_mut() {
            let names: BTreeSet<String> = t.columns.iter().map(|c| c.name.clone()).collect();
            let all = |cols: &[String]| !cols.is_empty() && cols.iter().all(|c| names.contains(c));
            let mut seen = BTreeSet::new();
            t.primary_key
                .retain(|c| names.contains(c) && seen.insert(c.clone()));
            for c in t.primary_key.clone() {
                t.column_mut(&c).expect("exists").nullable = false;
            }
            t.indexes.retain(|i| all(&i.columns));
            t.uniques.retain(|u| all(&u.columns));
            t.foreign_keys.retain(|f| all(&f.columns));
        }
        let snapshot = s.clone();
        for t in s.tables.values_mut() {
            let own = t.clone();
            t.foreign_keys.retain(|f| {
                let Some(rt) = snapshot.table(&f.ref_table) else {
                    return false;
                };
                let typed = f.columns.len() == f.ref_columns.len()
                    && f.columns.iter().zip(&f.ref_columns).all(|(c, r)| {
                        matches!((own.column(c), rt.column(r)), (Some(a), Some(b)) if a.ty == b.ty)
                    });
                let keyed = same_set(&rt.primary_key, &f.ref_columns)
                    || rt
                        .uniques
                        .iter()
                        .any(|u| same_set(&u.columns, &f.ref_columns));
                typed && keyed
            });
        }
        if *s == before {
            return;
        }
    }
}

/// True when `b` adds a NOT NULL column without a default to a table that
/// exists in `a` (under its old name): the one case the diff refuses.
fn expect_refusal(g: &Gen) -> bool {
    g.s.tables.values().any(|t| {
        g.table_origin.contains_key(&t.name)
            && t.columns.iter().any(|c| {
                !g.col_origin.contains_key(&(t.name.clone(), c.name.clone()))
                    && !c.nullable
                    && c.default.is_none()
                    && !c.auto_increment
            })
    })
}

// ------------------------------------------------------------- the property

#[derive(Debug, Default)]
struct Stats {
    cases: usize,
    refused: usize,
    kinds: BTreeSet<&'static str>,
    /// How many plans showed each ordering situation (see `situations`).
    situations: BTreeMap<&'static str, usize>,
}

/// The ordering rules a plan exercised, to check the generator reaches them.
fn situations(plan: &Plan) -> Vec<&'static str> {
    let ops = &plan.upgrade;
    let created: BTreeSet<&str> = ops
        .iter()
        .filter_map(|op| match op {
            Operation::CreateTable { table } => Some(table.name.as_str()),
            _ => None,
        })
        .collect();
    let dropped: BTreeSet<&str> = ops
        .iter()
        .filter_map(|op| match op {
            Operation::DropTable { table } => Some(table.name.as_str()),
            _ => None,
        })
        .collect();
    let mut out = Vec::new();
    let added_fks: BTreeSet<(&str, &str)> = ops
        .iter()
        .filter_map(|op| match op {
            Operation::AddForeignKey { table, foreign_key } => {
                Some((table.as_str(), foreign_key.name.as_str()))
            }
            _ => None,
        })
        .collect();
    for op in ops {
        match op {
            Operation::AddForeignKey { table, .. } if created.contains(table.as_str()) => {
                out.push("foreign key of a new table added late")
            }
            Operation::DropForeignKey { table, foreign_key } => {
                if dropped.contains(table.as_str()) {
                    out.push("foreign key of a dropped table dropped first");
                }
                if added_fks.contains(&(table.as_str(), foreign_key.name.as_str())) {
                    out.push("foreign key lifted");
                }
            }
            _ => {}
        }
    }
    if let Some(pk) = ops
        .iter()
        .position(|op| matches!(op, Operation::SetPrimaryKey { .. }))
    {
        if ops[pk..]
            .iter()
            .any(|op| matches!(op, Operation::AlterColumn { .. }))
        {
            out.push("column altered after its key changed");
        }
    }
    out.sort();
    out.dedup();
    out
}

fn fail(msg: String) -> TestCaseError {
    TestCaseError::fail(msg)
}

fn check_case(base: &[u32], muts: &[u32], stats: &RefCell<Stats>) -> Result<(), TestCaseError> {
    let mut ch = Choices { data: base, pos: 0 };
    let mut g = Gen::base(&mut ch);
    let a = g.s.clone();
    let mut ch = Choices { data: muts, pos: 0 };
    for _ in 0..1 + ch.below(6) {
        g.mutate(&mut ch);
    }
    let b = g.s.clone();
    let hints = g.hints();
    validate(&a).map_err(|e| fail(format!("generator made an invalid a: {e}\n{a:#?}")))?;
    validate(&b).map_err(|e| fail(format!("generator made an invalid b: {e}\n{b:#?}")))?;
    stats.borrow_mut().cases += 1;

    let same = diff(&a, &a, &Hints::default()).map_err(|e| fail(format!("diff(a, a): {e}")))?;
    prop_assert!(
        same.is_empty(),
        "diff(a, a) is not empty: {:#?}",
        same.upgrade
    );

    let plan = match diff(&a, &b, &hints) {
        Err(DiffError::Refused(msg)) => {
            prop_assert!(expect_refusal(&g), "unexpected refusal: {msg}");
            stats.borrow_mut().refused += 1;
            return Ok(());
        }
        Err(e) => return Err(fail(format!("diff failed: {e}\nhints: {hints:?}"))),
        Ok(plan) => plan,
    };
    prop_assert!(
        !expect_refusal(&g),
        "a NOT NULL column without default was added"
    );
    let show = || {
        format!(
            "\nhints: {hints:?}\nupgrade:\n  {}",
            plan.upgrade
                .iter()
                .map(|o| o.to_string())
                .collect::<Vec<_>>()
                .join("\n  ")
        )
    };

    let mut db = Strict::new(&a).map_err(fail)?;
    db.run(&plan.upgrade)
        .map_err(|e| fail(format!("upgrade: {e}{}", show())))?;
    prop_assert_eq!(&db.schema, &b, "upgrade does not reach b{}", show());
    db.run(&plan.downgrade)
        .map_err(|e| fail(format!("downgrade: {e}{}", show())))?;
    prop_assert!(
        same_up_to_column_order(&db.schema, &a),
        "downgrade does not restore a{}",
        show()
    );
    db.run(&plan.upgrade)
        .map_err(|e| fail(format!("upgrade after downgrade: {e}{}", show())))?;

    prop_assert_eq!(&plan.downgrade, &inverse_all(&plan.upgrade));
    let twice = diff(&a, &b, &hints).ok();
    prop_assert_eq!(twice.as_ref(), Some(&plan), "not deterministic");
    let again = diff(&b, &b, &hints).map_err(|e| fail(format!("diff(b, b, hints): {e}")))?;
    prop_assert!(again.is_empty(), "applied hints are not ignored");

    // Hinted renames are renames.
    for (now, was) in &hints.tables {
        let renamed = plan.upgrade.iter().any(
            |op| matches!(op, Operation::RenameTable { from, to } if from == was && to == now),
        );
        let dropped = plan
            .upgrade
            .iter()
            .any(|op| matches!(op, Operation::DropTable { table } if table.name == *was));
        prop_assert!(
            renamed && !dropped,
            "table {} -> {} is not a rename{}",
            was,
            now,
            show()
        );
    }
    for ((table, now), was) in &hints.columns {
        let renamed = plan.upgrade.iter().any(|op| {
            matches!(op, Operation::RenameColumn { table: t, from, to }
                if t == table && from == was && to == now)
        });
        let dropped = plan.upgrade.iter().any(|op| {
            matches!(op, Operation::DropColumn { table: t, column }
                if t == table && column.name == *was)
        });
        prop_assert!(
            renamed && !dropped,
            "column {}.{} -> {} is not a rename{}",
            table,
            was,
            now,
            show()
        );
    }

    // Every destructive step is announced, by name.
    for op in plan.upgrade.iter().filter(|op| op.is_destructive()) {
        let name = match op {
            Operation::DropTable { table } => format!("`{}`", table.name),
            Operation::DropColumn { table, column } => format!("`{table}.{}`", column.name),
            Operation::AlterColumn { table, from, .. } => format!("`{table}.{}`", from.name),
            other => return Err(fail(format!("unexpected destructive step {other}"))),
        };
        prop_assert!(
            plan.warnings.iter().any(|w| w.contains(&name)),
            "no warning for {}: {:?}",
            op,
            plan.warnings
        );
    }

    let mut stats = stats.borrow_mut();
    stats.kinds.extend(plan.upgrade.iter().map(Operation::kind));
    for s in situations(&plan) {
        *stats.situations.entry(s).or_default() += 1;
    }
    Ok(())
}

#[test]
fn random_schemas_and_mutations() {
    // A case takes about a millisecond, so run 1024 of them (enough for the
    // situation counts below to be reliable) unless PROPTEST_CASES asks for
    // another number, e.g. for a long local run.
    let mut config = Config {
        failure_persistence: None,
        ..Config::default()
    };
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = 1024;
    }
    let mut runner = TestRunner::new(config);
    let stats = RefCell::new(Stats::default());
    let strategy = (vec(any::<u32>(), 0..160), vec(any::<u32>(), 0..80));
    let result = runner.run(&strategy, |(base, muts)| check_case(&base, &muts, &stats));
    if let Err(e) = result {
        panic!("{e}");
    }

    let stats = stats.into_inner();
    eprintln!("diff proptest: {stats:?}");
    // Refusals may be skipped, but they must stay rare or the property
    // would be testing little.
    assert!(
        stats.refused * 10 < stats.cases,
        "too many refused cases: {stats:?}"
    );
    // The generator must reach every kind of operation the diff emits.
    let all = [
        "create_table",
        "drop_table",
        "rename_table",
        "add_column",
        "drop_column",
        "rename_column",
        "alter_column",
        "set_primary_key",
        "create_index",
        "drop_index",
        "add_unique",
        "drop_unique",
        "add_foreign_key",
        "drop_foreign_key",
        "add_check",
        "drop_check",
    ];
    let missing: Vec<&str> = all
        .iter()
        .copied()
        .filter(|k| !stats.kinds.contains(k))
        .collect();
    assert!(missing.is_empty(), "never generated: {missing:?}");
    // And every ordering rule; each shows up in a few percent of the cases.
    if stats.cases >= 1000 {
        let situations = [
            "column altered after its key changed",
            "foreign key lifted",
            "foreign key of a dropped table dropped first",
            "foreign key of a new table added late",
        ];
        for s in situations {
            assert!(stats.situations.contains_key(s), "never reached: {s}");
        }
    }
}
