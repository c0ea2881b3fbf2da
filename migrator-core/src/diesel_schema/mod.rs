//! diesel's schema of a migrator schema: the `table!` of every table with a
//! primary key, `joinable!` for every foreign key diesel can express, and
//! `allow_tables_to_appear_in_same_query!` for all of them.
//!
//! Contract: [`render`] is the one writer of that Rust text. `migrator
//! print-schema` writes it to a file and `migrator::schema!()` parses the
//! same text into tokens, so the two are equal by construction.
//!
//! The diesel SQL type of a column depends on the dialect: [`diesel_type`]
//! maps each [`ColumnType`] for one dialect. A schema rendered for several
//! dialects at once (no dialect named, or `migrator.toml` lists several)
//! takes the type they agree on; a column on which they differ
//! (`timestamptz`, `uuid`, `json`) is an error naming it and the fix. The
//! exception is `timestamp`: MySQL's `Datetime` and the others' `Timestamp`
//! are both `NaiveDateTime`, so several dialects take `Timestamp`, which
//! MySQL binds as a TIMESTAMP (values from 1970 to 2038 only); a MySQL-only
//! schema gets `Datetime`, which takes the whole DATETIME range.
//!
//! Decisions:
//!
//! - A table without a primary key has no `table!` (diesel needs one); it is
//!   listed in a comment.
//! - `joinable!` is written for a single-column foreign key to the referenced
//!   table's single-column primary key, one per pair of tables (diesel's
//!   `JoinTo` goes both ways, so a second foreign key between the same two
//!   tables, or a self-reference, would conflict); the others are listed in a
//!   comment and joined with an explicit `ON`.
//! - A table or column named as a Rust keyword is a raw identifier
//!   (`r#type`, which a model's field `r#type` matches); one whose name is
//!   no Rust identifier (`2fa`, `self`) gets `#[sql_name = ".."]` and a
//!   sanitized name (`_2fa`, `self_`).

#[cfg(feature = "model")]
mod expand;
#[cfg(all(test, feature = "model"))]
mod fields_tests;
#[cfg(test)]
mod tests;

#[cfg(feature = "model")]
pub use expand::{expand_schema, expand_schema_in};

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use crate::dialect::Dialect;
use crate::schema::{Column, ColumnType, Schema, Table};

/// What the models say of their columns for diesel, beyond the snapshot:
/// the Rust field name of a column (`#[model(column = "db_name")]` on a
/// field `name`), and a stated diesel SQL type (`#[model(diesel_type =
/// "..")]`). In the `table!`, a column is named as its field, with
/// `#[sql_name]` giving the database's name, so the struct's diesel
/// derives find it with no `#[diesel(column_name)]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Fields {
    by_table: BTreeMap<String, BTreeMap<String, (String, Option<String>)>>,
    /// (table, column) of the `Vec<Option<T>>` fields.
    nullable_elements: std::collections::BTreeSet<(String, String)>,
}

impl Fields {
    /// The facts of the models `defs` ([`crate::model::ModelDef::diesel`]).
    #[cfg(feature = "model")]
    pub fn of_models<'a>(defs: impl IntoIterator<Item = &'a crate::model::ModelDef>) -> Fields {
        let mut fields = Fields::default();
        for def in defs {
            for f in &def.diesel {
                fields.insert(
                    &def.table.name,
                    &f.column,
                    &f.field,
                    f.diesel_type.as_deref(),
                );
                if f.nullable_elements {
                    fields
                        .nullable_elements
                        .insert((def.table.name.clone(), f.column.clone()));
                }
            }
        }
        fields
    }

    /// Records that `column` of `table` is the field `field`, of the diesel
    /// type `diesel_type` when one is stated.
    pub fn insert(&mut self, table: &str, column: &str, field: &str, diesel_type: Option<&str>) {
        self.by_table.entry(table.to_string()).or_default().insert(
            column.to_string(),
            (field.to_string(), diesel_type.map(str::to_string)),
        );
    }

    fn get(&self, table: &str, column: &str) -> Option<&(String, Option<String>)> {
        self.by_table.get(table)?.get(column)
    }

    /// The `table!` name of `column` of `table` and, when it is not the
    /// column's own name, the name for `#[sql_name]`.
    fn ident<'a>(&self, table: &str, column: &'a str) -> (String, Option<&'a str>) {
        match self.get(table, column) {
            Some((field, _)) => {
                let (ident, _) = rust_name(field);
                let sql = (ident.trim_start_matches("r#") != column).then_some(column);
                (ident, sql)
            }
            None => rust_name(column),
        }
    }
}

/// A column whose diesel type cannot be given, with what to do instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeError {
    pub table: String,
    pub column: String,
    pub message: String,
}

impl std::fmt::Display for TypeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "column `{}.{}`: {}",
            self.table, self.column, self.message
        )
    }
}

impl std::error::Error for TypeError {}

/// The diesel SQL type of `ty` on `dialect`, as a path under
/// `diesel::sql_types` (for example `BigInt`, `Unsigned<Integer>`), or why
/// there is none. What differs per database is in its backend's
/// `DieselTypes` (`backend/*/types.rs`).
pub fn diesel_type(ty: &ColumnType, dialect: Dialect) -> Result<String, String> {
    let names = dialect.backend().diesel_types();
    let name = match ty {
        ColumnType::SmallInt => "SmallInt",
        ColumnType::Integer => "Integer",
        ColumnType::BigInt => "BigInt",
        ColumnType::Real => "Float",
        ColumnType::Double => "Double",
        ColumnType::Boolean => "Bool",
        ColumnType::Text | ColumnType::Varchar(_) => "Text",
        ColumnType::Blob => "Binary",
        ColumnType::Date => "Date",
        ColumnType::Time => "Time",
        ColumnType::Timestamp => names.timestamp,
        ColumnType::TimestampTz => names.timestamptz,
        ColumnType::Uuid => names.uuid,
        ColumnType::Json => names.json,
        ColumnType::Custom(sql) => return custom_type(ty, sql, dialect),
    };
    Ok(name.to_string())
}

/// The diesel type of an `sql_type = ".."` column, read from its SQL.
fn custom_type(ty: &ColumnType, sql: &str, dialect: Dialect) -> Result<String, String> {
    if let Some((element, dimensions)) = array_element(sql) {
        return array_type(sql, element, dimensions, dialect);
    }
    let names = dialect.backend().diesel_types();
    if let Some((bits, unsigned)) = ty.custom_integer() {
        let base = match bits {
            8 if names.tiny_int => "TinyInt",
            8 | 16 => "SmallInt",
            24 | 32 => "Integer",
            _ => "BigInt",
        };
        return Ok(if unsigned && names.unsigned {
            format!("Unsigned<{base}>")
        } else {
            base.to_string()
        });
    }
    let lower = sql.trim().to_ascii_lowercase();
    let head: String = lower
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == ' ')
        .collect();
    let head = head.split_whitespace().collect::<Vec<_>>().join(" ");
    let name = match head.as_str() {
        "numeric" | "decimal" | "dec" => "Numeric",
        "text" | "varchar" | "char" | "character" | "character varying" | "nvarchar"
        | "nchar" | "tinytext" | "mediumtext" | "longtext" | "clob" | "citext" | "string" => {
            "Text"
        }
        "real" | "float4" => "Float",
        "float" => names.float,
        "double" | "double precision" | "float8" => "Double",
        "bool" | "boolean" => "Bool",
        "blob" | "bytea" | "binary" | "varbinary" | "tinyblob" | "mediumblob" | "longblob" => {
            "Binary"
        }
        "date" => "Date",
        "time" => "Time",
        "datetime" => names.datetime,
        "timestamp" | "timestamp without time zone" => "Timestamp",
        "timestamptz" | "timestamp with time zone" => {
            return diesel_type(&ColumnType::TimestampTz, dialect)
        }
        "uuid" => return diesel_type(&ColumnType::Uuid, dialect),
        "json" => "Json",
        "jsonb" => names.json,
        _ => {
            return Err(format!(
                "no diesel SQL type is known for `sql_type = \"{sql}\"` on {dialect}\nhelp: give the column an `sql_type` diesel maps: an integer type, `numeric`, a text, binary, date or time type, `json`, or on PostgreSQL an array of one (`TEXT[]`)"
            ))
        }
    };
    Ok(name.to_string())
}

/// The element type of a PostgreSQL array type and how many dimensions it
/// declares: `TEXT[]`, `integer[3]`, `varchar(20)[][]`, `INTEGER ARRAY`,
/// `bigint ARRAY[4]`. `None` for any other type.
fn array_element(sql: &str) -> Option<(&str, usize)> {
    // `rest` without a trailing ` ARRAY` (any case), when it has one.
    fn strip_array_word(rest: &str) -> Option<&str> {
        let cut = rest.len().checked_sub("array".len())?;
        let (before, word) = (rest.get(..cut)?, rest.get(cut..)?);
        (word.eq_ignore_ascii_case("array") && before.ends_with(char::is_whitespace))
            .then(|| before.trim_end())
    }
    let mut rest = sql.trim();
    let mut dimensions = 0;
    loop {
        if let Some(inside) = rest.strip_suffix(']') {
            let open = inside.rfind('[')?;
            if !inside[open + 1..]
                .trim()
                .bytes()
                .all(|b| b.is_ascii_digit())
            {
                return None;
            }
            rest = inside[..open].trim_end();
            // `ARRAY[4]` is one dimension with its bound.
            rest = strip_array_word(rest).unwrap_or(rest);
        } else if let Some(before) = strip_array_word(rest) {
            rest = before;
        } else {
            break;
        }
        dimensions += 1;
    }
    (dimensions > 0 && !rest.is_empty()).then_some((rest, dimensions))
}

/// Refuses an array column on a database without arrays. Whether a
/// database has arrays is a fact of PostgreSQL alone, not a name of
/// diesel's that differs per backend (`DieselTypes`); a stated
/// `diesel_type` does not change it.
fn arrays_on(sql: &str, dialect: Dialect) -> Result<(), String> {
    if dialect == Dialect::Postgres {
        return Ok(());
    }
    Err(format!(
        "`sql_type = \"{sql}\"` is an array, and arrays are PostgreSQL's: {dialect} has no array type\nhelp: for a project on PostgreSQL alone, name it: `migrator::schema!(dialect = \"postgres\")` (or `dialects = [\"postgres\"]` in migrator.toml, `migrator print-schema --dialect postgres`); on several databases keep the list in a JSON column (`serde_json::Value`) or a table of its own"
    ))
}

/// diesel's `Array<..>` of a PostgreSQL array column. Its elements are
/// `Vec<T>`'s (`Array<Text>`); a `Vec<Option<T>>` field makes them
/// `Nullable` (`column_type`).
fn array_type(
    sql: &str,
    element: &str,
    dimensions: usize,
    dialect: Dialect,
) -> Result<String, String> {
    arrays_on(sql, dialect)?;
    if dimensions > 1 {
        return Err(format!(
            "`sql_type = \"{sql}\"` declares {dimensions} dimensions, but diesel reads one-dimensional arrays only (into a `Vec<T>`)\nhelp: declare one dimension, e.g. `sql_type = \"{element}[]\"`"
        ));
    }
    let inner = diesel_type(&ColumnType::Custom(element.to_string()), dialect)
        .map_err(|e| format!("the elements of the array `{sql}`: {e}"))?;
    Ok(format!("Array<{inner}>"))
}

/// The diesel type of `column` (with `Nullable<..>`) agreed by every dialect
/// of `dialects`.
fn column_type(
    table: &Table,
    column: &Column,
    dialects: &[Dialect],
    fields: &Fields,
) -> Result<String, TypeError> {
    let err = |message: String| TypeError {
        table: table.name.clone(),
        column: column.name.clone(),
        message,
    };
    if let Some((_, Some(stated))) = fields.get(&table.name, &column.name) {
        // The stated type names diesel's type; the column is still one the
        // database must have.
        if let ColumnType::Custom(sql) = &column.ty {
            if array_element(sql).is_some() {
                for &d in dialects {
                    arrays_on(sql, d).map_err(err)?;
                }
            }
        }
        return Ok(if column.nullable {
            format!("Nullable<{stated}>")
        } else {
            stated.clone()
        });
    }
    let mut found: Vec<(Dialect, String)> = Vec::new();
    for &d in dialects {
        let ty = diesel_type(&column.ty, d).map_err(err)?;
        found.push((d, ty));
    }
    // MySQL's `Datetime` and the others' `Timestamp` hold the same Rust
    // value (`NaiveDateTime`); a schema for several dialects takes
    // `Timestamp`, which on MySQL binds values of TIMESTAMP's range only
    // (1970 to 2038).
    if found.len() > 1
        && found
            .iter()
            .all(|(_, t)| t == "Timestamp" || t == "Datetime")
    {
        for (_, t) in &mut found {
            *t = "Timestamp".to_string();
        }
    }
    // A `Vec<Option<T>>` field's array elements may be NULL.
    if fields
        .nullable_elements
        .contains(&(table.name.clone(), column.name.clone()))
    {
        for (_, t) in &mut found {
            if let Some(inner) = t.strip_prefix("Array<").and_then(|r| r.strip_suffix('>')) {
                *t = format!("Array<Nullable<{inner}>>");
            }
        }
    }
    let first = &found[0].1;
    if let Some((other, ty)) = found.iter().find(|(_, t)| t != first) {
        return Err(err(format!(
            "its diesel type differs between the dialects: `{first}` on {}, `{ty}` on {other}\nhelp: name the one the application uses: `migrator::schema!(dialect = \"{}\")` (or `migrator print-schema --dialect {}`)",
            found[0].0,
            found[0].0,
            found[0].0,
        )));
    }
    Ok(if column.nullable {
        format!("Nullable<{first}>")
    } else {
        first.clone()
    })
}

/// `name` as a Rust identifier in diesel's DSL: itself, a raw identifier
/// for a keyword, or, for a name that is no identifier, a sanitized name
/// and the SQL name for `#[sql_name]`.
fn rust_name(name: &str) -> (String, Option<&str>) {
    let mut ident: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if ident.starts_with(|c: char| c.is_ascii_digit()) {
        ident.insert(0, '_');
    }
    if ident == name && is_keyword(&ident) && !NOT_RAW.contains(&name) {
        // A raw identifier: diesel's `table!` takes `r#type` as the column
        // `type`, and a model's field `r#type` finds it with no
        // `column_name`.
        return (format!("r#{ident}"), None);
    }
    if ident != name || is_keyword(&ident) {
        if is_keyword(&ident) {
            ident.push('_');
        }
        (ident, Some(name))
    } else {
        (ident, None)
    }
}

/// The keywords that cannot be raw identifiers.
const NOT_RAW: &[&str] = &["self", "Self", "super", "crate", "_"];

fn is_keyword(s: &str) -> bool {
    const KEYWORDS: &[&str] = &[
        "abstract", "as", "async", "await", "become", "box", "break", "const", "continue", "crate",
        "do", "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if", "impl",
        "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub",
        "ref", "return", "self", "Self", "static", "struct", "super", "trait", "true", "try",
        "type", "typeof", "unsafe", "unsized", "use", "virtual", "where", "while", "yield", "_",
    ];
    KEYWORDS.contains(&s)
}

/// diesel's schema of `schema` as Rust source (the body of a `schema.rs`):
/// every table with a primary key, in name order, then the joins, then
/// `allow_tables_to_appear_in_same_query!`. `dialects` are the databases the
/// types must work on (at least one). Every column that has no diesel type
/// is an error.
pub fn render(schema: &Schema, dialects: &[Dialect]) -> Result<String, Vec<TypeError>> {
    render_with(schema, dialects, &Fields::default())
}

/// [`render`] with the models' field names and stated diesel types.
pub fn render_with(
    schema: &Schema,
    dialects: &[Dialect],
    fields: &Fields,
) -> Result<String, Vec<TypeError>> {
    assert!(!dialects.is_empty(), "render needs a dialect");
    let mut out = String::new();
    let mut errors = Vec::new();
    let mut tables = Vec::new();
    let mut skipped = Vec::new();
    for table in schema.tables.values() {
        if table.primary_key.is_empty() {
            skipped.push(table.name.as_str());
            continue;
        }
        tables.push(table);
        let (ident, sql_name) = rust_name(&table.name);
        let key = table
            .primary_key
            .iter()
            .map(|k| fields.ident(&table.name, k).0)
            .collect::<Vec<_>>()
            .join(", ");
        out.push_str("diesel::table! {\n");
        if let Some(sql) = sql_name {
            let _ = writeln!(out, "    #[sql_name = {sql:?}]");
        }
        let _ = writeln!(out, "    {ident} ({key}) {{");
        for column in &table.columns {
            let ty = match column_type(table, column, dialects, fields) {
                Ok(ty) => ty,
                Err(e) => {
                    errors.push(e);
                    continue;
                }
            };
            let (ident, sql_name) = fields.ident(&table.name, &column.name);
            if let Some(sql) = sql_name {
                let _ = writeln!(out, "        #[sql_name = {sql:?}]");
            }
            let _ = writeln!(out, "        {ident} -> {ty},");
        }
        out.push_str("    }\n}\n\n");
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let keyed: BTreeSet<&str> = tables.iter().map(|t| t.name.as_str()).collect();
    let mut pairs = BTreeSet::new();
    let mut joins = Vec::new();
    let mut unjoined = Vec::new();
    for table in &tables {
        for fk in &table.foreign_keys {
            let parent = schema.table(&fk.ref_table);
            let expressible = fk.columns.len() == 1
                && fk.ref_table != table.name
                && keyed.contains(fk.ref_table.as_str())
                && parent.is_some_and(|p| p.primary_key == fk.ref_columns);
            let pair = if table.name < fk.ref_table {
                (table.name.as_str(), fk.ref_table.as_str())
            } else {
                (fk.ref_table.as_str(), table.name.as_str())
            };
            if expressible && pairs.insert(pair) {
                joins.push((table.name.as_str(), fk.ref_table.as_str(), &fk.columns[0]));
            } else {
                unjoined.push(format!(
                    "{}({}) -> {}",
                    table.name,
                    fk.columns.join(", "),
                    fk.ref_table
                ));
            }
        }
    }
    // A second foreign key between two tables makes the first ambiguous too:
    // diesel would join on whichever it was given, so neither is written.
    let mut counts = std::collections::BTreeMap::new();
    for table in &tables {
        for fk in &table.foreign_keys {
            let pair = if table.name < fk.ref_table {
                (table.name.clone(), fk.ref_table.clone())
            } else {
                (fk.ref_table.clone(), table.name.clone())
            };
            *counts.entry(pair).or_insert(0) += 1;
        }
    }
    for (child, parent, column) in joins {
        let pair = if child < parent {
            (child.to_string(), parent.to_string())
        } else {
            (parent.to_string(), child.to_string())
        };
        if counts.get(&pair).copied().unwrap_or(0) > 1 {
            unjoined.push(format!("{child}({column}) -> {parent}"));
            continue;
        }
        let _ = writeln!(
            out,
            "diesel::joinable!({} -> {} ({}));",
            rust_name(child).0,
            rust_name(parent).0,
            fields.ident(child, column).0
        );
    }
    unjoined.sort();
    for u in &unjoined {
        let _ = writeln!(
            out,
            "// no joinable! for {u}: join it with an explicit `.on(..)`"
        );
    }
    if tables.len() > 1 {
        if !out.ends_with("\n\n") {
            out.push('\n');
        }
        out.push_str("diesel::allow_tables_to_appear_in_same_query!(\n");
        for t in &tables {
            let _ = writeln!(out, "    {},", rust_name(&t.name).0);
        }
        out.push_str(");\n");
    }
    for s in skipped {
        let _ = writeln!(
            out,
            "// no table! for `{s}`: it has no primary key, which diesel needs"
        );
    }
    Ok(out)
}

/// The text `migrator print-schema` writes: a header naming the source,
/// then [`render`].
pub fn schema_file(
    schema: &Schema,
    dialects: &[Dialect],
    fields: &Fields,
    source: &str,
) -> Result<String, Vec<TypeError>> {
    let body = render_with(schema, dialects, fields)?;
    let names = dialects
        .iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    Ok(format!(
        "// @generated by `migrator print-schema` from {source} for {names}; do not edit.\n// `migrator check` reports this file when it no longer matches.\n\n{body}"
    ))
}
