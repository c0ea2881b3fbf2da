//! Writing the snapshot's canonical text: the bytes `toml::to_string` gives
//! for a `SnapshotFile`, every scalar encoded by `toml_writer`.

use toml_writer::WriteTomlValue as _;

use crate::schema::{DefaultValue, RefAction, Table};

/// Appends the document of `toml::to_string(&SnapshotFile { .. })`.
pub(in crate::snapshot) fn write<'a>(
    out: &mut String,
    format: u32,
    head: u32,
    chain: &str,
    migrations: &[String],
    tables: impl ExactSizeIterator<Item = &'a Table>,
) {
    key_u32(out, "format", format);
    key_u32(out, "head", head);
    key_str(out, "chain", chain);
    key_strs(out, "migrations", migrations);
    if tables.len() == 0 {
        out.push_str("tables = []\n");
    }
    for t in tables {
        out.push_str("\n[[tables]]\n");
        key_str(out, "name", &t.name);
        if let Some(c) = &t.comment {
            key_str(out, "comment", c);
        }
        if let Some(c) = &t.collation {
            key_str(out, "collation", c);
        }
        // Values first, then arrays of tables, each in field order (as the
        // `toml` serializer lays out a struct); an empty array is a value.
        if t.columns.is_empty() {
            out.push_str("columns = []\n");
        }
        if !t.primary_key.is_empty() {
            key_strs(out, "primary_key", &t.primary_key);
        }
        if let Some(n) = &t.primary_key_name {
            key_str(out, "primary_key_name", n);
        }
        if t.strict {
            key_bool(out, "strict", true);
        }
        if t.without_rowid {
            key_bool(out, "without_rowid", true);
        }
        for c in &t.columns {
            out.push_str("\n[[tables.columns]]\n");
            key_str(out, "name", &c.name);
            key_str(out, "type", &c.ty.to_string());
            key_bool(out, "nullable", c.nullable);
            if c.auto_increment {
                key_bool(out, "auto_increment", true);
            }
            for (key, v) in [
                ("collation", &c.collation),
                ("comment", &c.comment),
                ("on_update", &c.on_update),
            ] {
                if let Some(v) = v {
                    key_str(out, key, v);
                }
            }
            for (key, v) in [
                ("identity_start", c.identity_start),
                ("identity_increment", c.identity_increment),
            ] {
                if let Some(v) = v {
                    out.push_str(key);
                    out.push_str(" = ");
                    let _ = v.write_toml_value(out);
                    out.push('\n');
                }
            }
            if c.identity_always {
                key_bool(out, "identity_always", true);
            }
            if let Some(d) = &c.default {
                out.push_str("\n[tables.columns.default]\n");
                match d {
                    DefaultValue::Int(v) => {
                        out.push_str("int = ");
                        let _ = v.write_toml_value(out);
                        out.push('\n');
                    }
                    DefaultValue::Float(v) => {
                        out.push_str("float = ");
                        // The `toml` serializer drops the sign of a NaN.
                        let v = if v.is_nan() { v.copysign(1.0) } else { *v };
                        let _ = v.write_toml_value(out);
                        out.push('\n');
                    }
                    DefaultValue::Bool(v) => key_bool(out, "bool", *v),
                    DefaultValue::Str(v) => key_str(out, "str", v),
                    DefaultValue::Sql(v) => key_str(out, "sql", v),
                }
            }
        }
        for i in &t.indexes {
            out.push_str("\n[[tables.indexes]]\n");
            key_str(out, "name", &i.name);
            key_strs(out, "columns", &i.columns);
        }
        for u in &t.uniques {
            out.push_str("\n[[tables.uniques]]\n");
            key_str(out, "name", &u.name);
            key_strs(out, "columns", &u.columns);
            if u.nulls_not_distinct {
                key_bool(out, "nulls_not_distinct", true);
            }
        }
        for f in &t.foreign_keys {
            out.push_str("\n[[tables.foreign_keys]]\n");
            key_str(out, "name", &f.name);
            key_strs(out, "columns", &f.columns);
            key_str(out, "ref_table", &f.ref_table);
            key_strs(out, "ref_columns", &f.ref_columns);
            if !f.on_delete.is_default() {
                key_str(out, "on_delete", action_name(f.on_delete));
            }
            if !f.on_update.is_default() {
                key_str(out, "on_update", action_name(f.on_update));
            }
        }
        for c in &t.checks {
            out.push_str("\n[[tables.checks]]\n");
            key_str(out, "name", &c.name);
            key_str(out, "expr", &c.expr);
        }
    }
}

fn key_u32(out: &mut String, key: &str, v: u32) {
    out.push_str(key);
    out.push_str(" = ");
    let _ = v.write_toml_value(out);
    out.push('\n');
}

fn key_bool(out: &mut String, key: &str, v: bool) {
    out.push_str(key);
    out.push_str(if v { " = true\n" } else { " = false\n" });
}

fn key_str(out: &mut String, key: &str, v: &str) {
    out.push_str(key);
    out.push_str(" = ");
    let _ = v.write_toml_value(out);
    out.push('\n');
}

fn key_strs(out: &mut String, key: &str, items: &[String]) {
    out.push_str(key);
    out.push_str(" = [");
    for (i, s) in items.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        let _ = s.as_str().write_toml_value(out);
    }
    out.push_str("]\n");
}

/// The serde name of an action (`#[serde(rename_all = "snake_case")]`).
fn action_name(a: RefAction) -> &'static str {
    match a {
        RefAction::NoAction => "no_action",
        RefAction::Restrict => "restrict",
        RefAction::Cascade => "cascade",
        RefAction::SetNull => "set_null",
        RefAction::SetDefault => "set_default",
    }
}
