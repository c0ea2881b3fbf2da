//! The compile-time drift check of `#[derive(Model)]`: a model against its
//! table in the snapshot `migrations/schema.toml`.
//!
//! Contract:
//!
//! - [`compare`] is pure: it lists every difference between a model's table
//!   and the snapshot's table of the same name, each with the [`Subject`] it
//!   is about (so the derive can put it on the field or on the declaration),
//!   and it is empty exactly when the two tables are equal by
//!   [`Table`]'s `PartialEq`, the notion `migrator check` and `generate`
//!   use (column order does not count). [`check`] adds what needs the model's
//!   `renamed_from` hints: a table or column rename the snapshot does not
//!   have yet is reported as a pending rename, not as a missing table.
//! - [`load`] reads `migrator.toml` (for the `migrations` key) and the
//!   snapshot of a crate, resolved from its root (`CARGO_MANIFEST_DIR` in the
//!   derive). A crate without a snapshot file is not checked: it does not use
//!   migrations (yet), like the facade's own doc tests. It reads, never
//!   writes, and parses a snapshot text once per process however many models
//!   the crate has.
//! - [`read_by_generate`] tells whether `generate` reads a given model:
//!   only those are checked (not a test's models, nor models outside the
//!   `models` folders), so the derive never asks for a migration that
//!   `generate` would not write.

mod reading;

use std::collections::BTreeMap;
use std::fmt;

use super::ModelDef;
use crate::schema::{
    Check, Column, DefaultValue, ForeignKey, Index, RefAction, Schema, Table, Unique,
};

pub use reading::{
    first_expansion, load, load_shared, read_by_generate, Reference, SnapshotRef, FRESH,
};
#[cfg(test)]
use reading::{load_shared_within, read_by_generate_within};

/// What a [`Difference`] is about, to locate it in the model's source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Subject {
    /// The table as a whole, or something the model no longer has: the
    /// struct's name.
    Table,
    /// A column of the model: its field.
    Column(String),
    /// An index, unique constraint, foreign key or check the model declares:
    /// its declaration.
    Object(String),
}

/// One way a model differs from the snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    pub subject: Subject,
    /// Lowercase, no trailing period, names in backticks, e.g. "column
    /// `priority` is not in the snapshot".
    pub message: String,
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

fn diff(subject: Subject, message: String) -> Difference {
    Difference { subject, message }
}

/// Every difference between `model` and `snapshot` (its table of the same
/// name, `None` when the snapshot has no such table). Empty exactly when
/// `snapshot == Some(model)`.
pub fn compare(model: &Table, snapshot: Option<&Table>) -> Vec<Difference> {
    let Some(snap) = snapshot else {
        return vec![diff(
            Subject::Table,
            format!("table `{}` is not in the snapshot", model.name),
        )];
    };
    // Destructured so that a field added to `Table` fails to compile here
    // instead of being silently left out of the check.
    let Table {
        name,
        comment,
        collation,
        columns,
        primary_key,
        primary_key_name,
        strict,
        without_rowid,
        indexes,
        uniques,
        foreign_keys,
        checks,
    } = model;
    let mut out = Vec::new();
    for (what, key, model, snap) in [
        ("table comment", "comment", comment, &snap.comment),
        ("table collation", "collation", collation, &snap.collation),
        (
            "primary key name",
            "primary_key_name",
            primary_key_name,
            &snap.primary_key_name,
        ),
    ] {
        if model != snap {
            let says = |c: &Option<String>| match c {
                Some(c) => format!("`{key} = {c:?}`"),
                None => format!("no `{key}`"),
            };
            out.push(diff(
                Subject::Table,
                format!(
                    "{what}: {} in the model, {} in the snapshot",
                    says(model),
                    says(snap)
                ),
            ));
        }
    }
    for (key, model, snap) in [
        ("strict", strict, &snap.strict),
        ("without_rowid", without_rowid, &snap.without_rowid),
    ] {
        if model != snap {
            let says = |on: bool| {
                if on {
                    format!("`{key}`")
                } else {
                    format!("no `{key}`")
                }
            };
            out.push(diff(
                Subject::Table,
                format!(
                    "table option: {} in the model, {} in the snapshot",
                    says(*model),
                    says(*snap)
                ),
            ));
        }
    }
    if *name != snap.name {
        out.push(diff(
            Subject::Table,
            format!(
                "table name `{name}` in the model, `{}` in the snapshot",
                snap.name
            ),
        ));
    }
    for column in columns {
        match snap.column(&column.name) {
            None => out.push(diff(
                Subject::Column(column.name.clone()),
                format!("column `{}` is not in the snapshot", column.name),
            )),
            Some(s) => compare_columns(column, s, &mut out),
        }
    }
    for s in &snap.columns {
        if model.column(&s.name).is_none() {
            out.push(diff(
                Subject::Table,
                format!(
                    "column `{}` is in the snapshot but not in the model",
                    s.name
                ),
            ));
        }
    }
    if *primary_key != snap.primary_key {
        let subject = primary_key
            .iter()
            .find(|c| !snap.primary_key.contains(c))
            .or(primary_key.first())
            .map_or(Subject::Table, |c| Subject::Column(c.clone()));
        out.push(diff(
            subject,
            format!(
                "primary key {} in the model, {} in the snapshot",
                column_list(primary_key),
                column_list(&snap.primary_key)
            ),
        ));
    }
    compare_objects(
        "index",
        model,
        indexes,
        &snap.indexes,
        index_key,
        |m, s| columns_difference(&m.columns, &s.columns),
        &mut out,
    );
    compare_objects(
        "unique constraint",
        model,
        uniques,
        &snap.uniques,
        unique_key,
        |m, s| {
            let mut out = columns_difference(&m.columns, &s.columns);
            if m.nulls_not_distinct != s.nulls_not_distinct {
                let says = |n: bool| {
                    if n {
                        "`nulls = \"not distinct\"`"
                    } else {
                        "NULLs distinct"
                    }
                };
                out.push(format!(
                    "{} in the model, {} in the snapshot",
                    says(m.nulls_not_distinct),
                    says(s.nulls_not_distinct)
                ));
            }
            out
        },
        &mut out,
    );
    compare_objects(
        "foreign key",
        model,
        foreign_keys,
        &snap.foreign_keys,
        foreign_key_key,
        foreign_key_differences,
        &mut out,
    );
    compare_objects(
        "check",
        model,
        checks,
        &snap.checks,
        check_key,
        |m, s| {
            if m.expr == s.expr {
                Vec::new()
            } else {
                vec![format!(
                    "`{}` in the model, `{}` in the snapshot",
                    m.expr, s.expr
                )]
            }
        },
        &mut out,
    );
    // Every field is compared above; this keeps "empty means equal" true
    // even if a comparison were ever missed.
    if out.is_empty() && model != snap {
        out.push(diff(
            Subject::Table,
            format!("table `{name}` differs from the snapshot"),
        ));
    }
    out
}

/// [`compare`] for a parsed model, against the whole snapshot schema, taking
/// its `renamed_from` hints into account.
pub fn check(def: &ModelDef, snapshot: &Schema) -> Vec<Difference> {
    let name = &def.table.name;
    let Some(snap) = snapshot.table(name) else {
        if let Some(old) = def
            .renamed_from
            .as_ref()
            .filter(|old| snapshot.table(old).is_some())
        {
            return vec![diff(
                Subject::Table,
                format!(
                    "table `{name}` is renamed from `{old}` in the model, but the snapshot still has `{old}`: the rename is pending"
                ),
            )];
        }
        return compare(&def.table, None);
    };
    // A column rename the snapshot does not have yet: report it as such,
    // then compare the rest as if it were done.
    let mut snap = snap.clone();
    let mut out = Vec::new();
    for (new, old) in &def.column_renames {
        if snap.column(new).is_some() {
            continue;
        }
        let Some(column) = snap.column_mut(old) else {
            continue;
        };
        column.name = new.clone();
        for c in &mut snap.primary_key {
            if c == old {
                c.clone_from(new);
            }
        }
        out.push(diff(
            Subject::Column(new.clone()),
            format!(
                "column `{new}` is renamed from `{old}` in the model, but the snapshot still has `{old}`: the rename is pending"
            ),
        ));
    }
    match super::with_kept(def, Some(&snap)) {
        Ok(table) => out.extend(compare(&table, Some(&snap))),
        Err(message) => out.push(diff(Subject::Table, message)),
    }
    out
}

fn compare_columns(model: &Column, snap: &Column, out: &mut Vec<Difference>) {
    let Column {
        name,
        ty,
        nullable,
        default,
        auto_increment,
        collation,
        comment,
        on_update,
        identity_start,
        identity_increment,
        identity_always,
    } = model;
    let mut push = |what: String| {
        out.push(diff(
            Subject::Column(name.clone()),
            format!("column `{name}`: {what}"),
        ))
    };
    if *ty != snap.ty {
        push(format!(
            "type `{ty}` in the model, `{}` in the snapshot",
            snap.ty
        ));
    }
    if *nullable != snap.nullable {
        let says = |n: bool| if n { "nullable" } else { "not null" };
        push(format!(
            "{} in the model, {} in the snapshot",
            says(*nullable),
            says(snap.nullable)
        ));
    }
    if *default != snap.default {
        push(format!(
            "{} in the model, {} in the snapshot",
            describe_default(default.as_ref()),
            describe_default(snap.default.as_ref())
        ));
    }
    if *auto_increment != snap.auto_increment {
        let says = |a: bool| {
            if a {
                "auto-increment"
            } else {
                "not auto-increment"
            }
        };
        push(format!(
            "{} in the model, {} in the snapshot",
            says(*auto_increment),
            says(snap.auto_increment)
        ));
    }
    for (key, model, snap) in [
        ("collation", collation, &snap.collation),
        ("comment", comment, &snap.comment),
        ("on_update_sql", on_update, &snap.on_update),
    ] {
        if model != snap {
            let says = |v: &Option<String>| match v {
                Some(v) => format!("`{key} = {v:?}`"),
                None => format!("no `{key}`"),
            };
            push(format!(
                "{} in the model, {} in the snapshot",
                says(model),
                says(snap)
            ));
        }
    }
    if *identity_always != snap.identity_always {
        let says = |v: bool| {
            if v {
                "`identity_always`"
            } else {
                "no `identity_always`"
            }
        };
        push(format!(
            "{} in the model, {} in the snapshot",
            says(*identity_always),
            says(snap.identity_always)
        ));
    }
    for (key, model, snap) in [
        ("identity_start", identity_start, &snap.identity_start),
        (
            "identity_increment",
            identity_increment,
            &snap.identity_increment,
        ),
    ] {
        if model != snap {
            let says = |v: &Option<i64>| match v {
                Some(v) => format!("`{key} = {v}`"),
                None => format!("no `{key}`"),
            };
            push(format!(
                "{} in the model, {} in the snapshot",
                says(model),
                says(snap)
            ));
        }
    }
}

/// A default as the attribute that declares it.
fn describe_default(d: Option<&DefaultValue>) -> String {
    match d {
        None => "no default".into(),
        Some(DefaultValue::Int(v)) => format!("`default = {v}`"),
        Some(DefaultValue::Float(v)) => format!("`default = {v:?}`"),
        Some(DefaultValue::Bool(v)) => format!("`default = {v}`"),
        Some(DefaultValue::Str(s)) => format!("`default = {s:?}`"),
        Some(DefaultValue::Sql(s)) => format!("`default_sql = {s:?}`"),
    }
}

/// `(`a`, `b`)`, or `none`.
fn column_list(columns: &[String]) -> String {
    if columns.is_empty() {
        return "none".into();
    }
    let inner: Vec<String> = columns.iter().map(|c| format!("`{c}`")).collect();
    format!("({})", inner.join(", "))
}

fn columns_difference(model: &[String], snap: &[String]) -> Vec<String> {
    if model == snap {
        return Vec::new();
    }
    vec![format!(
        "columns {} in the model, {} in the snapshot",
        column_list(model),
        column_list(snap)
    )]
}

fn foreign_key_differences(m: &ForeignKey, s: &ForeignKey) -> Vec<String> {
    let ForeignKey {
        name: _,
        columns,
        ref_table,
        ref_columns,
        on_delete,
        on_update,
    } = m;
    let mut out = columns_difference(columns, &s.columns);
    if *ref_table != s.ref_table || *ref_columns != s.ref_columns {
        out.push(format!(
            "references `{ref_table}` {} in the model, `{}` {} in the snapshot",
            column_list(ref_columns),
            s.ref_table,
            column_list(&s.ref_columns)
        ));
    }
    for (key, m, s) in [
        ("on_delete", on_delete, s.on_delete),
        ("on_update", on_update, s.on_update),
    ] {
        if *m != s {
            out.push(format!(
                "`{key} = \"{}\"` in the model, `{key} = \"{}\"` in the snapshot",
                action(*m),
                action(s)
            ));
        }
    }
    out
}

/// The spelling of `on_delete = "..."`.
fn action(a: RefAction) -> &'static str {
    match a {
        RefAction::NoAction => "no action",
        RefAction::Restrict => "restrict",
        RefAction::Cascade => "cascade",
        RefAction::SetNull => "set null",
        RefAction::SetDefault => "set default",
    }
}

fn index_key(i: &Index) -> (&String, &[String]) {
    (&i.name, &i.columns)
}
fn unique_key(u: &Unique) -> (&String, &[String]) {
    (&u.name, &u.columns)
}
fn foreign_key_key(f: &ForeignKey) -> (&String, &[String]) {
    (&f.name, &f.columns)
}
fn check_key(c: &Check) -> (&String, &[String]) {
    (&c.name, &[])
}

/// Objects matched by name: one only the model declares is put on its
/// declaration; one only the snapshot has, on the first of its columns the
/// model still has (else on the struct).
fn compare_objects<T>(
    kind: &str,
    model: &Table,
    ours: &[T],
    theirs: &[T],
    key: fn(&T) -> (&String, &[String]),
    details: impl Fn(&T, &T) -> Vec<String>,
    out: &mut Vec<Difference>,
) {
    let by_name: BTreeMap<&String, &T> = theirs.iter().map(|t| (key(t).0, t)).collect();
    for m in ours {
        let name = key(m).0;
        match by_name.get(name) {
            None => out.push(diff(
                Subject::Object(name.clone()),
                format!("{kind} `{name}` is not in the snapshot"),
            )),
            Some(s) => {
                for d in details(m, s) {
                    out.push(diff(
                        Subject::Object(name.clone()),
                        format!("{kind} `{name}`: {d}"),
                    ));
                }
            }
        }
    }
    for s in theirs {
        let (name, columns) = key(s);
        if ours.iter().any(|m| key(m).0 == name) {
            continue;
        }
        let subject = columns
            .iter()
            .find(|c| model.column(c).is_some())
            .map_or(Subject::Table, |c| Subject::Column(c.clone()));
        out.push(diff(
            subject,
            format!("{kind} `{name}` is in the snapshot but not in the model"),
        ));
    }
}

#[cfg(test)]
mod tests;
