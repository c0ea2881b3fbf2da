//! The comparison behind `migrator verify`: every difference between the
//! live schema and the expected one, as one readable line each.
//!
//! Contract: [`compare`] returns nothing for schemas that are equal (column
//! order aside) and one [`Drift`] per drifted table, column, primary key,
//! index, unique constraint, foreign key and check otherwise, in table order,
//! then in that order of kinds. An object that is only named differently
//! (same definition) is reported as renamed, not as missing plus extra. SQL
//! expressions (checks, SQL defaults) are compared by
//! [`expr_key`](super::expr_key), so a database's re-spelling is not drift.
//!
//! It is a dedicated comparison rather than `diff::diff`: a hand-altered
//! database can be anything (a NOT NULL column without a default, which the
//! diff engine refuses to plan, for one), and "what is different" reads
//! better than "what would change it back".

use std::fmt;

use super::normalize::expr_key;
use crate::schema::{Column, DefaultValue, ForeignKey, Schema, Table};

/// One difference, on one table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drift {
    pub table: String,
    /// What differs, lowercase, names in backticks, "database" before
    /// "snapshot".
    pub message: String,
}

impl fmt::Display for Drift {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "table `{}`: {}", self.table, self.message)
    }
}

/// Every difference between `live` and `expected` (module docs).
pub fn compare(live: &Schema, expected: &Schema) -> Vec<Drift> {
    let mut out = Vec::new();
    let names: std::collections::BTreeSet<&String> =
        live.tables.keys().chain(expected.tables.keys()).collect();
    for name in names {
        let mut push = |message: String| {
            out.push(Drift {
                table: name.clone(),
                message,
            })
        };
        match (live.tables.get(name), expected.tables.get(name)) {
            (Some(_), None) => push("is in the database but not in the snapshot".into()),
            (None, Some(_)) => push("is in the snapshot but missing from the database".into()),
            (Some(l), Some(e)) => table(l, e, &mut push),
            (None, None) => {}
        }
    }
    out
}

fn table(live: &Table, expected: &Table, push: &mut impl FnMut(String)) {
    if live.comment != expected.comment {
        let t = |v: &Option<String>| match v {
            Some(v) => format!("{v:?}"),
            None => "none".to_string(),
        };
        push(format!(
            "comment is {} in the database, {} in the snapshot",
            t(&live.comment),
            t(&expected.comment)
        ));
    }
    if live.collation != expected.collation {
        let t = |v: &Option<String>| v.clone().unwrap_or_else(|| "the database's default".into());
        push(format!(
            "default collation is {} in the database, {} in the snapshot",
            t(&live.collation),
            t(&expected.collation)
        ));
    }
    if live.primary_key_name != expected.primary_key_name
        && !expected.primary_key.is_empty()
        && !live.primary_key.is_empty()
    {
        let default = crate::schema::naming::primary_key(&expected.name);
        let t = |v: &Option<String>| v.clone().unwrap_or_else(|| default.clone());
        push(format!(
            "the primary key is named `{}` in the database, `{}` in the snapshot (to keep the database's name, set `primary_key_name = \"{}\"` on the model and generate)",
            t(&live.primary_key_name),
            t(&expected.primary_key_name),
            t(&live.primary_key_name)
        ));
    }
    for (option, l, e) in [
        ("STRICT", live.strict, expected.strict),
        ("WITHOUT ROWID", live.without_rowid, expected.without_rowid),
    ] {
        if l != e {
            let is = |on: bool| if on { "is" } else { "is not" };
            push(format!(
                "the table {} {option} in the database and {} in the snapshot",
                is(l),
                is(e)
            ));
        }
    }
    for e in &expected.columns {
        match live.column(&e.name) {
            None => push(format!(
                "column `{}` is missing from the database (snapshot: {})",
                e.name,
                column_text(e)
            )),
            Some(l) => column(l, e, push),
        }
    }
    for l in &live.columns {
        if expected.column(&l.name).is_none() {
            push(format!(
                "column `{}` is in the database but not in the snapshot (database: {})",
                l.name,
                column_text(l)
            ));
        }
    }
    if live.primary_key != expected.primary_key {
        push(format!(
            "primary key is {} in the database, {} in the snapshot",
            key_text(&live.primary_key),
            key_text(&expected.primary_key)
        ));
    }
    let cols = |c: &[String]| format!("({})", c.join(", "));
    named(
        "index",
        &live
            .indexes
            .iter()
            .map(|i| (i.name.clone(), cols(&i.columns)))
            .collect::<Vec<_>>(),
        &expected
            .indexes
            .iter()
            .map(|i| (i.name.clone(), cols(&i.columns)))
            .collect::<Vec<_>>(),
        push,
    );
    named(
        "unique constraint",
        &live
            .uniques
            .iter()
            .map(|u| (u.name.clone(), unique_text(u)))
            .collect::<Vec<_>>(),
        &expected
            .uniques
            .iter()
            .map(|u| (u.name.clone(), unique_text(u)))
            .collect::<Vec<_>>(),
        push,
    );
    named(
        "foreign key",
        &live
            .foreign_keys
            .iter()
            .map(|f| (f.name.clone(), fk_text(f)))
            .collect::<Vec<_>>(),
        &expected
            .foreign_keys
            .iter()
            .map(|f| (f.name.clone(), fk_text(f)))
            .collect::<Vec<_>>(),
        push,
    );
    // Checks compare by expression key; the text shown is the database's
    // and the snapshot's own.
    let key = |quoted: &str| expr_key(&quoted[1..quoted.len() - 1]);
    let live_checks: Vec<(String, String)> = live
        .checks
        .iter()
        .map(|c| (c.name.clone(), format!("`{}`", c.expr)))
        .collect();
    let expected_checks: Vec<(String, String)> = expected
        .checks
        .iter()
        .map(|c| (c.name.clone(), format!("`{}`", c.expr)))
        .collect();
    named_by("check", &live_checks, &expected_checks, &key, push);
}

fn column(l: &Column, e: &Column, push: &mut impl FnMut(String)) {
    let name = &e.name;
    if l.ty != e.ty {
        push(format!(
            "column `{name}`: type is `{}` in the database, `{}` in the snapshot",
            l.ty, e.ty
        ));
    }
    if l.nullable != e.nullable {
        let n = |nullable: bool| if nullable { "nullable" } else { "NOT NULL" };
        push(format!(
            "column `{name}` is {} in the database, {} in the snapshot",
            n(l.nullable),
            n(e.nullable)
        ));
    }
    if !same_default(&l.default, &e.default) {
        push(format!(
            "column `{name}`: default is {} in the database, {} in the snapshot",
            default_text(&l.default),
            default_text(&e.default)
        ));
    }
    if l.auto_increment != e.auto_increment {
        let a = |on: bool| {
            if on {
                "auto-increment"
            } else {
                "not auto-increment"
            }
        };
        push(format!(
            "column `{name}` is {} in the database, {} in the snapshot",
            a(l.auto_increment),
            a(e.auto_increment)
        ));
    }
    for (what, live, expected) in [
        ("collation", &l.collation, &e.collation),
        ("comment", &l.comment, &e.comment),
        ("ON UPDATE", &l.on_update, &e.on_update),
    ] {
        if live != expected {
            let t = |v: &Option<String>| match v {
                Some(v) => format!("{v:?}"),
                None => "none".to_string(),
            };
            push(format!(
                "column `{name}`: {what} is {} in the database, {} in the snapshot",
                t(live),
                t(expected)
            ));
        }
    }
    if l.identity_always != e.identity_always {
        let t = |always: bool| {
            if always {
                "GENERATED ALWAYS"
            } else {
                "GENERATED BY DEFAULT"
            }
        };
        push(format!(
            "column `{name}`: identity is {} in the database, {} in the snapshot",
            t(l.identity_always),
            t(e.identity_always)
        ));
    }
    for (what, live, expected) in [
        ("identity START WITH", l.identity_start, e.identity_start),
        (
            "identity INCREMENT BY",
            l.identity_increment,
            e.identity_increment,
        ),
    ] {
        if live != expected {
            let t = |v: Option<i64>| v.map_or("the default".to_string(), |n| n.to_string());
            push(format!(
                "column `{name}`: {what} is {} in the database, {} in the snapshot",
                t(live),
                t(expected)
            ));
        }
    }
}

/// `(a, b)`, with ` NULLS NOT DISTINCT` when it has it.
fn unique_text(u: &crate::schema::Unique) -> String {
    let mut s = format!("({})", u.columns.join(", "));
    if u.nulls_not_distinct {
        s.push_str(" NULLS NOT DISTINCT");
    }
    s
}

fn same_default(a: &Option<DefaultValue>, b: &Option<DefaultValue>) -> bool {
    match (a, b) {
        (Some(DefaultValue::Sql(x)), Some(DefaultValue::Sql(y))) => expr_key(x) == expr_key(y),
        _ => a == b,
    }
}

fn default_text(d: &Option<DefaultValue>) -> String {
    match d {
        None => "none".into(),
        Some(DefaultValue::Int(i)) => format!("`{i}`"),
        Some(DefaultValue::Float(f)) => format!("`{f:?}`"),
        Some(DefaultValue::Bool(b)) => format!("`{b}`"),
        Some(DefaultValue::Str(s)) => format!("`'{}'`", s.replace('\'', "''")),
        Some(DefaultValue::Sql(e)) => format!("`{e}`"),
    }
}

/// `` `varchar(20)` NOT NULL default `'medium'` ``
fn column_text(c: &Column) -> String {
    let mut s = format!("`{}`", c.ty);
    s.push_str(if c.nullable { " nullable" } else { " NOT NULL" });
    if c.auto_increment {
        s.push_str(" auto-increment");
    }
    if c.default.is_some() {
        s.push_str(" default ");
        s.push_str(&default_text(&c.default));
    }
    if let Some(v) = &c.collation {
        s.push_str(&format!(" collation {v:?}"));
    }
    if let Some(v) = &c.on_update {
        s.push_str(&format!(" on update {v}"));
    }
    if let Some(v) = &c.comment {
        s.push_str(&format!(" comment {v:?}"));
    }
    s
}

fn key_text(cols: &[String]) -> String {
    if cols.is_empty() {
        "none".into()
    } else {
        format!("({})", cols.join(", "))
    }
}

fn fk_text(f: &ForeignKey) -> String {
    let mut s = format!(
        "({}) -> {}({})",
        f.columns.join(", "),
        f.ref_table,
        f.ref_columns.join(", ")
    );
    if !f.on_delete.is_default() {
        s.push_str(" ON DELETE ");
        s.push_str(f.on_delete.sql());
    }
    if !f.on_update.is_default() {
        s.push_str(" ON UPDATE ");
        s.push_str(f.on_update.sql());
    }
    s
}

/// Named objects whose definitions compare as text.
fn named(
    kind: &str,
    live: &[(String, String)],
    expected: &[(String, String)],
    push: &mut impl FnMut(String),
) {
    named_by(kind, live, expected, &|d: &str| d.to_string(), push)
}

/// Named objects (name, definition) on both sides: changed definitions,
/// renames (same definition key, other name), missing and extra ones.
fn named_by(
    kind: &str,
    live: &[(String, String)],
    expected: &[(String, String)],
    key: &dyn Fn(&str) -> String,
    push: &mut impl FnMut(String),
) {
    let find = |list: &[(String, String)], name: &str| {
        list.iter().find(|(n, _)| n == name).map(|(_, d)| d.clone())
    };
    let mut renamed_live: Vec<&str> = Vec::new();
    for (name, def) in expected {
        match find(live, name) {
            Some(l) if key(&l) == key(def) => {}
            Some(l) => push(format!(
                "{kind} `{name}` is {l} in the database, {def} in the snapshot"
            )),
            None => {
                // The same definition under another name that the snapshot
                // does not have: a rename.
                let other = live.iter().find(|(n, d)| {
                    key(d) == key(def)
                        && find(expected, n).is_none()
                        && !renamed_live.contains(&n.as_str())
                });
                match other {
                    Some((n, _)) => {
                        renamed_live.push(n);
                        push(format!(
                            "{kind} {def} is named `{n}` in the database, `{name}` in the snapshot"
                        ));
                    }
                    None => push(format!(
                        "{kind} `{name}` {def} is missing from the database"
                    )),
                }
            }
        }
    }
    for (name, def) in live {
        if find(expected, name).is_none() && !renamed_live.contains(&name.as_str()) {
            push(format!(
                "{kind} `{name}` {def} is in the database but not in the snapshot"
            ));
        }
    }
}
