//! Writing a [`Schema`] as `#[derive(Model)]` source, one file per table.
//!
//! Contract: [`write_models`] returns Rust source that the model parser
//! (`crate::model`) reads back into exactly the given tables. Field-level
//! attributes are used where they say everything (a single-column index,
//! unique constraint or foreign key with its default name); everything else
//! goes to the struct-level forms, with `name = ".."` where the database's
//! name is not migrator's default. Columns without a Rust type get
//! `sql_type` on a `String` field; names that are not Rust identifiers get
//! `column = ".."`. The text is formatted as rustfmt would leave it.

use std::collections::BTreeSet;

use crate::schema::{naming, Column, ColumnType, DefaultValue, RefAction, Schema, Table};

/// One written source file, its path relative to the models folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelFile {
    pub path: String,
    pub text: String,
}

/// Rust keywords (2021 edition, strict and reserved).
const KEYWORDS: &[&str] = &[
    "as", "break", "const", "continue", "crate", "else", "enum", "extern", "false", "fn", "for",
    "if", "impl", "in", "let", "loop", "match", "mod", "move", "mut", "pub", "ref", "return",
    "self", "Self", "static", "struct", "super", "trait", "true", "type", "unsafe", "use", "where",
    "while", "async", "await", "dyn", "abstract", "become", "box", "do", "final", "macro",
    "override", "priv", "typeof", "unsized", "virtual", "yield", "try", "gen",
];

/// Keywords that cannot be raw identifiers.
const NOT_RAW: &[&str] = &["crate", "self", "Self", "super", "_"];

/// `name` as a snake_case identifier: lowercase ASCII letters, digits and
/// underscores, not starting with a digit; empty input gives `column`.
pub(crate) fn snake_ident(name: &str) -> String {
    let mut out = String::new();
    let mut prev_lower = false;
    for c in name.chars() {
        if c.is_ascii_uppercase() {
            if prev_lower {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
            prev_lower = false;
        } else if c.is_ascii_alphanumeric() {
            out.push(c);
            prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        } else {
            if !out.ends_with('_') {
                out.push('_');
            }
            prev_lower = false;
        }
    }
    let trimmed = out.trim_matches('_');
    let mut out = if trimmed.is_empty() {
        "column".to_string()
    } else {
        trimmed.to_string()
    };
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert_str(0, "c_");
    }
    out
}

/// The field name for a column and whether it needs `column = ".."`.
/// Keywords become raw identifiers (`r#type`), which the parser reads as
/// the column `type`.
pub(crate) fn field_ident(column: &str) -> (String, bool) {
    let ident = snake_ident(column);
    if NOT_RAW.contains(&ident.as_str()) {
        return (format!("{ident}_"), true);
    }
    let same = ident == column;
    if KEYWORDS.contains(&ident.as_str()) {
        return (format!("r#{ident}"), !same);
    }
    (ident, !same)
}

/// `users_roles` -> `UsersRole`? No: the struct is named after the table
/// as written (`UsersRoles`), since singularising guesses wrong too often;
/// `table = ".."` is always written.
pub(crate) fn struct_ident(table: &str) -> String {
    let mut out = String::new();
    for part in snake_ident(table).split('_').filter(|p| !p.is_empty()) {
        let mut cs = part.chars();
        if let Some(first) = cs.next() {
            out.push(first.to_ascii_uppercase());
            out.extend(cs);
        }
    }
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, 'T');
    }
    if KEYWORDS.contains(&out.as_str()) {
        out.push_str("Table");
    }
    out
}

/// The module (and file) name of a table's model.
pub(crate) fn module_ident(table: &str) -> String {
    let m = snake_ident(table);
    if KEYWORDS.contains(&m.as_str()) || m == "mod" {
        format!("{m}_table")
    } else {
        m
    }
}

/// A Rust string literal for `s`.
fn lit(s: &str) -> String {
    format!("{s:?}")
}

/// The Rust type of a column (without `Option`) and its `sql_type`, when
/// the column type has no Rust mapping.
pub(crate) fn rust_type(ty: &ColumnType) -> (&'static str, Option<String>) {
    match ty {
        ColumnType::SmallInt => ("i16", None),
        ColumnType::Integer => ("i32", None),
        ColumnType::BigInt => ("i64", None),
        ColumnType::Real => ("f32", None),
        ColumnType::Double => ("f64", None),
        ColumnType::Boolean => ("bool", None),
        ColumnType::Text | ColumnType::Varchar(_) => ("String", None),
        ColumnType::Blob => ("Vec<u8>", None),
        ColumnType::Date => ("chrono::NaiveDate", None),
        ColumnType::Time => ("chrono::NaiveTime", None),
        ColumnType::Timestamp => ("chrono::NaiveDateTime", None),
        ColumnType::TimestampTz => ("chrono::DateTime<chrono::Utc>", None),
        ColumnType::Uuid => ("uuid::Uuid", None),
        ColumnType::Json => ("serde_json::Value", None),
        ColumnType::Custom(sql) => {
            // MySQL's integer types (`INT UNSIGNED`, `TINYINT`, ...) keep
            // their SQL type and get the Rust integer that holds them.
            let rust = match ty.custom_integer() {
                Some((8, false)) => "i8",
                Some((8, true)) => "u8",
                Some((16, false)) => "i16",
                Some((16, true)) => "u16",
                Some((24 | 32, false)) => "i32",
                Some((24 | 32, true)) => "u32",
                Some((_, false)) => "i64",
                Some((_, true)) => "u64",
                None => "String",
            };
            (rust, Some(sql.clone()))
        }
    }
}

/// `default = ..` or `default_sql = ".."` for a column, as the parser
/// reads it back (a literal only where the parser takes that literal for
/// the type; otherwise the database's text is not representable and
/// `None` is returned).
pub(crate) fn default_attr(c: &Column) -> Option<String> {
    use ColumnType as T;
    let d = c.default.as_ref()?;
    Some(match (d, &c.ty) {
        (DefaultValue::Sql(e), _) => format!("default_sql = {}", lit(e)),
        (DefaultValue::Int(v), T::SmallInt | T::Integer | T::BigInt | T::Custom(_)) => {
            format!("default = {v}")
        }
        (DefaultValue::Float(v), T::Real | T::Double | T::Custom(_)) if v.is_finite() => {
            format!("default = {v:?}")
        }
        (DefaultValue::Bool(b), T::Boolean | T::Custom(_)) => format!("default = {b}"),
        (DefaultValue::Str(s), ty)
            if !matches!(
                ty,
                T::SmallInt | T::Integer | T::BigInt | T::Real | T::Double | T::Boolean | T::Blob
            ) && !matches!(ty, T::Varchar(n) if s.chars().count() > *n as usize) =>
        {
            format!("default = {}", lit(s))
        }
        _ => return None,
    })
}

/// `#[model(a, b)]` on one line when it fits in rustfmt's 100 columns,
/// else broken as rustfmt breaks it: one key per line, or, for a single
/// `name(..)` key, its inner items one per line (`#[model(index(` ..
/// `))]`). A string literal too long for any line stays whole, as rustfmt
/// leaves it.
fn attrs(indent: &str, keys: &[String], out: &mut String) {
    if keys.is_empty() {
        return;
    }
    let one = format!("{indent}#[model({})]", keys.join(", "));
    if one.chars().count() <= 100 {
        out.push_str(&one);
        out.push('\n');
        return;
    }
    let inner = format!("{indent}    ");
    if let [key] = keys {
        if let Some((name, items)) = nested(key) {
            out.push_str(&format!("{indent}#[model({name}(\n"));
            let items = split_items(items);
            for (i, item) in items.iter().enumerate() {
                let comma = if i + 1 < items.len() { "," } else { "" };
                out.push_str(&format!("{inner}{item}{comma}\n"));
            }
            out.push_str(&format!("{indent}))]\n"));
            return;
        }
    }
    out.push_str(&format!("{indent}#[model(\n"));
    for (i, k) in keys.iter().enumerate() {
        let comma = if i + 1 < keys.len() { "," } else { "" };
        out.push_str(&format!("{inner}{k}{comma}\n"));
    }
    out.push_str(&format!("{indent})]\n"));
}

/// `name(items)` -> `(name, items)`; `None` for `key = value` and bare keys.
fn nested(key: &str) -> Option<(&str, &str)> {
    let open = key.find('(')?;
    let name = &key[..open];
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return None;
    }
    key[open + 1..].strip_suffix(')').map(|items| (name, items))
}

/// `a = "x, y", b` -> `["a = \"x, y\"", "b"]`: split at the commas outside
/// string literals and parentheses.
fn split_items(items: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let (mut in_str, mut escaped, mut depth) = (false, false, 0usize);
    for c in items.chars() {
        if in_str {
            cur.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_str = false;
            }
            continue;
        }
        match c {
            '"' => in_str = true,
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                out.push(cur.trim().to_string());
                cur.clear();
                continue;
            }
            _ => {}
        }
        cur.push(c);
    }
    if !cur.trim().is_empty() {
        out.push(cur.trim().to_string());
    }
    out
}

/// Why a table cannot be written as a model, if it cannot.
pub(crate) fn unwritable(t: &Table) -> Option<String> {
    for c in &t.columns {
        if c.default.is_some() && default_attr(c).is_none() {
            return Some(format!(
                "the default of column `{}` cannot be written as `default` or `default_sql`",
                c.name
            ));
        }
        if c.auto_increment && t.primary_key != [c.name.clone()] {
            return Some(format!(
                "column `{}` is generated (identity) but is not the table's only primary key column",
                c.name
            ));
        }
        if let Some(collation) = &c.collation {
            if !crate::schema::is_collation_name(collation) {
                return Some(format!(
                    "the collation `{collation}` of column `{}` cannot be written as `collation` (letters, digits and `_ - . @`)",
                    c.name
                ));
            }
        }
    }
    None
}

/// The model source of one table.
pub fn write_model(t: &Table, struct_name: &str) -> String {
    let name = &t.name;
    let mut field_index: BTreeSet<&str> = BTreeSet::new();
    let mut field_unique: BTreeSet<&str> = BTreeSet::new();
    let mut head: Vec<String> = vec![format!("table = {}", lit(name))];
    if let Some(c) = &t.comment {
        head.push(format!("comment = {}", lit(c)));
    }
    if let Some(c) = &t.collation {
        head.push(format!("collation = {}", lit(c)));
    }
    if let Some(n) = &t.primary_key_name {
        head.push(format!("primary_key_name = {}", lit(n)));
    }
    if t.strict {
        head.push("strict".to_string());
    }
    if t.without_rowid {
        head.push("without_rowid".to_string());
    }
    for i in &t.indexes {
        if i.columns.len() == 1 && i.name == naming::index(name, &i.columns) {
            field_index.insert(i.columns[0].as_str());
        } else if i.name == naming::index(name, &i.columns) {
            head.push(format!("index = {}", lit(&i.columns.join(", "))));
        } else {
            head.push(format!(
                "index(name = {}, columns = {})",
                lit(&i.name),
                lit(&i.columns.join(", "))
            ));
        }
    }
    for u in &t.uniques {
        if u.nulls_not_distinct {
            head.push(format!(
                "unique(name = {}, columns = {}, nulls = \"not distinct\")",
                lit(&u.name),
                lit(&u.columns.join(", "))
            ));
        } else if u.columns.len() == 1 && u.name == naming::unique(name, &u.columns) {
            field_unique.insert(u.columns[0].as_str());
        } else if u.name == naming::unique(name, &u.columns) {
            head.push(format!("unique = {}", lit(&u.columns.join(", "))));
        } else {
            head.push(format!(
                "unique(name = {}, columns = {})",
                lit(&u.name),
                lit(&u.columns.join(", "))
            ));
        }
    }
    // A field-level foreign key when it says everything and passes the
    // field checks (`set null` needs a nullable column, `set default` a
    // default); the struct-level form otherwise.
    let mut field_fk = Vec::new();
    for fk in &t.foreign_keys {
        let col = t.column(&fk.columns[0]);
        let fits = |a: RefAction| match a {
            RefAction::SetNull => col.is_some_and(|c| c.nullable),
            RefAction::SetDefault => col.is_some_and(|c| c.default.is_some()),
            _ => true,
        };
        if fk.columns.len() == 1
            && fk.name == naming::foreign_key(name, &fk.columns)
            && fits(fk.on_delete)
            && fits(fk.on_update)
        {
            field_fk.push(fk);
        } else {
            let mut parts = Vec::new();
            if fk.name != naming::foreign_key(name, &fk.columns) {
                parts.push(format!("name = {}", lit(&fk.name)));
            }
            parts.push(format!("columns = {}", lit(&fk.columns.join(", "))));
            parts.push(format!(
                "references = {}",
                lit(&format!("{}({})", fk.ref_table, fk.ref_columns.join(", ")))
            ));
            if !fk.on_delete.is_default() {
                parts.push(format!("on_delete = {}", lit(&action(fk.on_delete))));
            }
            if !fk.on_update.is_default() {
                parts.push(format!("on_update = {}", lit(&action(fk.on_update))));
            }
            head.push(format!("foreign_key({})", parts.join(", ")));
        }
    }
    // A check with the default name of its expression needs no name.
    for c in &t.checks {
        if c.name == naming::check(name, &c.expr) {
            head.push(format!("check = {}", lit(&c.expr)));
        } else {
            head.push(format!(
                "check(name = {}, expr = {})",
                lit(&c.name),
                lit(&c.expr)
            ));
        }
    }

    let mut out = String::new();
    out.push_str(&format!(
        "//! The table `{name}`, adopted from the database by `migrator init --from-database`.\n\n"
    ));
    out.push_str("use migrator::Model;\n\n");
    out.push_str("#[derive(Debug, Clone, Model)]\n");
    // `table` first on its own line, then the struct-level objects.
    attrs("", &head[..1], &mut out);
    for h in &head[1..] {
        attrs("", std::slice::from_ref(h), &mut out);
    }
    out.push_str(&format!("pub struct {struct_name} {{\n"));

    let mut used: BTreeSet<String> = BTreeSet::new();
    for c in ordered_columns(t) {
        let (mut ident, mut renamed) = field_ident(&c.name);
        while used.contains(ident.trim_start_matches("r#")) {
            ident = format!("{}_", ident.trim_start_matches("r#"));
            renamed = true;
        }
        used.insert(ident.trim_start_matches("r#").to_string());
        let mut keys = Vec::new();
        if t.primary_key.contains(&c.name) {
            keys.push("primary_key".to_string());
        }
        if c.auto_increment {
            keys.push("auto_increment".to_string());
        }
        if renamed {
            keys.push(format!("column = {}", lit(&c.name)));
        }
        let (ty, sql_type) = rust_type(&c.ty);
        if let Some(sql) = sql_type {
            keys.push(format!("sql_type = {}", lit(&sql)));
        }
        if let ColumnType::Varchar(n) = c.ty {
            keys.push(format!("max_length = {n}"));
        }
        if let Some(d) = default_attr(c) {
            keys.push(d);
        }
        if let Some(v) = &c.collation {
            keys.push(format!("collation = {}", lit(v)));
        }
        if let Some(v) = &c.on_update {
            keys.push(format!("on_update_sql = {}", lit(v)));
        }
        if let Some(v) = &c.comment {
            keys.push(format!("comment = {}", lit(v)));
        }
        if let Some(v) = c.identity_start {
            keys.push(format!("identity_start = {v}"));
        }
        if let Some(v) = c.identity_increment {
            keys.push(format!("identity_increment = {v}"));
        }
        if c.identity_always {
            keys.push("identity_always".to_string());
        }
        if field_index.contains(c.name.as_str()) {
            keys.push("index".to_string());
        }
        if field_unique.contains(c.name.as_str()) {
            keys.push("unique".to_string());
        }
        if let Some(fk) = field_fk.iter().find(|fk| fk.columns[0] == c.name) {
            keys.push(format!(
                "foreign_key = {}",
                lit(&format!("{}.{}", fk.ref_table, fk.ref_columns[0]))
            ));
            if !fk.on_delete.is_default() {
                keys.push(format!("on_delete = {}", lit(&action(fk.on_delete))));
            }
            if !fk.on_update.is_default() {
                keys.push(format!("on_update = {}", lit(&action(fk.on_update))));
            }
        }
        attrs("    ", &keys, &mut out);
        let ty = if c.nullable && !t.primary_key.contains(&c.name) {
            format!("Option<{ty}>")
        } else {
            ty.to_string()
        };
        out.push_str(&format!("    pub {ident}: {ty},\n"));
    }
    out.push_str("}\n");
    out
}

fn action(a: RefAction) -> String {
    a.sql().to_ascii_lowercase()
}

/// The columns in table order, except that a primary key whose order is
/// not the columns' order puts its columns first, in key order (the
/// parser takes key order from field order).
fn ordered_columns(t: &Table) -> Vec<&Column> {
    let in_order: Vec<&String> = t
        .columns
        .iter()
        .map(|c| &c.name)
        .filter(|n| t.primary_key.contains(n))
        .collect();
    if in_order.iter().copied().eq(t.primary_key.iter()) {
        return t.columns.iter().collect();
    }
    let mut out: Vec<&Column> = t.primary_key.iter().filter_map(|k| t.column(k)).collect();
    out.extend(
        t.columns
            .iter()
            .filter(|c| !t.primary_key.contains(&c.name)),
    );
    out
}

/// One file per table plus `mod.rs` declaring and re-exporting them.
pub fn write_models(schema: &Schema) -> Vec<ModelFile> {
    let mut files = Vec::new();
    let mut modules: Vec<(String, String)> = Vec::new();
    let mut used: BTreeSet<String> = BTreeSet::new();
    let mut structs: BTreeSet<String> = BTreeSet::new();
    for t in schema.tables.values() {
        let mut m = module_ident(&t.name);
        while !used.insert(m.clone()) {
            m.push('_');
        }
        let mut s = struct_ident(&t.name);
        while !structs.insert(s.clone()) {
            s.push('_');
        }
        files.push(ModelFile {
            path: format!("{m}.rs"),
            text: write_model(t, &s),
        });
        modules.push((m, s));
    }
    let mut text = String::from(
        "//! Models adopted from the database by `migrator init --from-database`:\n//! one file per table. Edit them, then run `migrator generate <name>`.\n\n",
    );
    for (m, _) in &modules {
        text.push_str(&format!("pub mod {m};\n"));
    }
    text.push('\n');
    for (m, s) in &modules {
        text.push_str(&format!("pub use {m}::{s};\n"));
    }
    files.push(ModelFile {
        path: "mod.rs".into(),
        text,
    });
    files
}
