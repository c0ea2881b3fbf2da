//! Stage 1: raw `#[model(...)]` attributes to typed attribute sets.
//!
//! Contract: this file knows the keys of docs/DESIGN.md §2 and the kind of value
//! each takes, and nothing about what they mean together. It reports unknown
//! keys (with the valid ones, and a guess at the intended one), keys given
//! twice, values of the wrong kind and values that cannot be read (an
//! unknown `on_delete` action, a `foreign_key` without a dot). Every key may
//! be spread over several `#[model(...)]` attributes.

use proc_macro2::Span;
use syn::punctuated::Punctuated;
use syn::{Attribute, Meta, Path, Token};

use super::ctxt::{backticked, did_you_mean, with_help, Ctxt};
use crate::schema::RefAction;

mod database;
mod nested;
mod reader;

use reader::{literal, strip_group, Reader};

/// Keys of `#[model(...)]` on the struct.
pub(crate) const STRUCT_KEYS: &[&str] = &[
    "table",
    "comment",
    "collation",
    "primary_key_name",
    "strict",
    "without_rowid",
    "renamed_from",
    "index",
    "unique",
    "check",
    "foreign_key",
    "keep",
];

/// Keys of `#[model(...)]` on a field.
pub(crate) const FIELD_KEYS: &[&str] = &[
    "primary_key",
    "auto_increment",
    "index",
    "unique",
    "foreign_key",
    "on_delete",
    "on_update",
    "max_length",
    "default",
    "default_sql",
    "sql_type",
    "diesel_type",
    "collation",
    "comment",
    "on_update_sql",
    "identity_start",
    "identity_increment",
    "identity_always",
    "column",
    "renamed_from",
    "skip",
];

/// PostgreSQL truncates identifiers to 63 bytes (NAMEDATALEN - 1), which
/// would make the idempotency guards look for a name that does not exist.
/// The longest table, column or object name a model accepts: MySQL's 64
/// bytes. PostgreSQL's 63 is enforced where the project targets it
/// (`limits.rs`), and by the renderer.
pub(crate) const MAX_NAME_BYTES: usize = 64;

/// A value and where it was written.
#[derive(Debug, Clone)]
pub(crate) struct Spanned<T> {
    pub value: T,
    /// The value's literal (the key itself for flags).
    pub span: Span,
    /// The key, for errors about the attribute as a whole.
    pub key: Span,
}

/// `index = "a, b"` / `unique = "a, b"` on the struct, split and trimmed.
#[derive(Debug, Clone)]
pub(crate) struct ColumnList {
    pub names: Vec<String>,
    pub span: Span,
    /// The object's name from the list form (`index(name = "..", columns =
    /// "..")`); `None` takes the default name.
    pub name: Option<String>,
    /// `unique(.., nulls = "not distinct")`.
    pub nulls_not_distinct: bool,
}

/// `check = "expr"`, or `check(name = "..", expr = "..")`.
#[derive(Debug, Clone)]
pub(crate) struct CheckAttr {
    pub name: Option<String>,
    pub expr: Spanned<String>,
}

/// `foreign_key(columns = "a, b", references = "table(x, y)", ..)` on the
/// struct: a foreign key over several columns, or one with its own name.
#[derive(Debug, Clone)]
pub(crate) struct StructForeignKey {
    pub columns: ColumnList,
    pub ref_table: String,
    pub ref_columns: Vec<String>,
    pub on_delete: RefAction,
    pub on_update: RefAction,
}

/// `default = <literal>`, before it is matched to the column type.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum DefaultLit {
    Str(String),
    /// Wider than `i64` so that range errors name the column type.
    Int(i128),
    Float(f64),
    Bool(bool),
}

impl DefaultLit {
    /// "a string literal", for messages.
    pub fn kind(&self) -> &'static str {
        match self {
            DefaultLit::Str(_) => "a string literal",
            DefaultLit::Int(_) => "an integer literal",
            DefaultLit::Float(_) => "a float literal",
            DefaultLit::Bool(_) => "a bool literal",
        }
    }
}

/// The struct's attributes.
#[derive(Debug, Default)]
pub(crate) struct StructAttrs {
    pub table: Option<Spanned<String>>,
    pub renamed_from: Option<Spanned<String>>,
    pub comment: Option<Spanned<String>>,
    /// MySQL/MariaDB: the table's default collation.
    pub collation: Option<Spanned<String>>,
    /// PostgreSQL: the primary key constraint's name.
    pub primary_key_name: Option<Spanned<String>>,
    /// SQLite: `STRICT`.
    pub strict: Option<Span>,
    /// SQLite: `WITHOUT ROWID`.
    pub without_rowid: Option<Span>,
    pub indexes: Vec<ColumnList>,
    pub uniques: Vec<ColumnList>,
    pub checks: Vec<CheckAttr>,
    pub foreign_keys: Vec<StructForeignKey>,
    /// `keep = "a, b"`: columns the table keeps that the struct no longer
    /// has (deprecated, to be dropped by a later migration).
    pub keep: Vec<ColumnList>,
}

/// A field's attributes. Flags hold the span of their key.
#[derive(Debug, Default)]
pub(crate) struct FieldAttrs {
    pub primary_key: Option<Span>,
    pub auto_increment: Option<Span>,
    pub index: Option<Span>,
    pub unique: Option<Span>,
    pub skip: Option<Span>,
    /// `(table, column)`.
    pub foreign_key: Option<Spanned<(String, String)>>,
    pub on_delete: Option<Spanned<RefAction>>,
    pub on_update: Option<Spanned<RefAction>>,
    pub max_length: Option<Spanned<u32>>,
    pub default: Option<Spanned<DefaultLit>>,
    pub default_sql: Option<Spanned<String>>,
    pub sql_type: Option<Spanned<String>>,
    /// The diesel SQL type of the column in `migrator::schema!()`, a Rust
    /// type path (checked in `check.rs`).
    pub diesel_type: Option<Spanned<String>>,
    pub collation: Option<Spanned<String>>,
    pub comment: Option<Spanned<String>>,
    /// MySQL's `ON UPDATE`, normalised (`CURRENT_TIMESTAMP`, `CURRENT_TIMESTAMP(3)`).
    pub on_update_sql: Option<Spanned<String>>,
    pub identity_start: Option<Spanned<i64>>,
    pub identity_increment: Option<Spanned<i64>>,
    /// PostgreSQL: `GENERATED ALWAYS AS IDENTITY`.
    pub identity_always: Option<Span>,
    pub column: Option<Spanned<String>>,
    pub renamed_from: Option<Spanned<String>>,
    /// Every key given, in order, so that `skip` can name the others.
    pub keys: Vec<(&'static str, Span)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    Struct,
    Field,
}

impl Level {
    fn name(self) -> &'static str {
        match self {
            Level::Struct => "struct",
            Level::Field => "field",
        }
    }

    fn keys(self) -> &'static [&'static str] {
        match self {
            Level::Struct => STRUCT_KEYS,
            Level::Field => FIELD_KEYS,
        }
    }

    fn other(self) -> Level {
        match self {
            Level::Struct => Level::Field,
            Level::Field => Level::Struct,
        }
    }
}

impl StructAttrs {
    pub fn from_attrs(cx: &Ctxt, attrs: &[Attribute]) -> StructAttrs {
        let mut out = StructAttrs::default();
        for meta in entries(cx, attrs) {
            let Some((key, key_span)) = known_key(cx, &meta, Level::Struct) else {
                continue;
            };
            let r = Reader {
                cx,
                meta: &meta,
                key,
                key_span,
                level: Level::Struct,
            };
            match key {
                "table" => {
                    if let Some(v) = r.name("table = \"tasks\"") {
                        r.set_once(&mut out.table, v);
                    }
                }
                "renamed_from" => {
                    if let Some(v) = r.name("renamed_from = \"old_table\"") {
                        r.set_once(&mut out.renamed_from, v);
                    }
                }
                "comment" => {
                    if let Some(v) = r.non_empty("comment = \"what the table holds\"") {
                        r.set_once(&mut out.comment, v);
                    }
                }
                "collation" => {
                    if let Some(v) = r.collation() {
                        r.set_once(&mut out.collation, v);
                    }
                }
                "strict" => r.set_flag(&mut out.strict),
                "without_rowid" => r.set_flag(&mut out.without_rowid),
                "primary_key_name" => {
                    if let Some(v) = r.name("primary_key_name = \"pk_tasks\"") {
                        r.set_once(&mut out.primary_key_name, v);
                    }
                }
                "index" | "unique" if matches!(meta, Meta::List(_)) => {
                    if let Some(v) = r.named_list() {
                        if key == "index" {
                            out.indexes.push(v);
                        } else {
                            out.uniques.push(v);
                        }
                    }
                }
                "index" => {
                    if let Some(v) = r.column_list("index = \"user_id, created_at\"") {
                        out.indexes.push(v);
                    }
                }
                "unique" => {
                    if let Some(v) = r.column_list("unique = \"user_id, title\"") {
                        out.uniques.push(v);
                    }
                }
                "check" if matches!(meta, Meta::List(_)) => {
                    if let Some(v) = r.named_check() {
                        out.checks.push(v);
                    }
                }
                "check" => {
                    if let Some(v) = r.non_empty("check = \"priority IN ('low', 'high')\"") {
                        out.checks.push(CheckAttr {
                            name: None,
                            expr: v,
                        });
                    }
                }
                "foreign_key" => {
                    if let Some(v) = r.struct_foreign_key() {
                        out.foreign_keys.push(v);
                    }
                }
                "keep" => {
                    if let Some(v) = r.column_list("keep = \"is_high_priority\"") {
                        out.keep.push(v);
                    }
                }
                _ => unreachable!("every key of STRUCT_KEYS is handled"),
            }
        }
        out
    }
}

impl FieldAttrs {
    pub fn from_attrs(cx: &Ctxt, attrs: &[Attribute]) -> FieldAttrs {
        let mut out = FieldAttrs::default();
        for meta in entries(cx, attrs) {
            let Some((key, key_span)) = known_key(cx, &meta, Level::Field) else {
                continue;
            };
            out.keys.push((key, key_span));
            let r = Reader {
                cx,
                meta: &meta,
                key,
                key_span,
                level: Level::Field,
            };
            match key {
                "primary_key" => r.set_flag(&mut out.primary_key),
                "auto_increment" => r.set_flag(&mut out.auto_increment),
                "identity_always" => r.set_flag(&mut out.identity_always),
                "index" => r.set_flag(&mut out.index),
                "unique" => r.set_flag(&mut out.unique),
                "skip" => r.set_flag(&mut out.skip),
                "foreign_key" => {
                    if let Some(v) = r.foreign_key() {
                        r.set_once(&mut out.foreign_key, v);
                    }
                }
                "on_delete" => {
                    if let Some(v) = r.ref_action() {
                        r.set_once(&mut out.on_delete, v);
                    }
                }
                "on_update" => {
                    if let Some(v) = r.ref_action() {
                        r.set_once(&mut out.on_update, v);
                    }
                }
                "max_length" => {
                    if let Some(v) = r.positive_u32("max_length = 200") {
                        r.set_once(&mut out.max_length, v);
                    }
                }
                "default" => {
                    if let Some(v) = r.default_literal() {
                        r.set_once(&mut out.default, v);
                    }
                }
                "default_sql" => {
                    if let Some(v) = r.non_empty("default_sql = \"CURRENT_TIMESTAMP\"") {
                        r.set_once(&mut out.default_sql, v);
                    }
                }
                "sql_type" => {
                    if let Some(v) = r.non_empty("sql_type = \"NUMERIC(12, 2)\"") {
                        r.set_once(&mut out.sql_type, v);
                    }
                }
                "diesel_type" => {
                    if let Some(v) = r.non_empty("diesel_type = \"crate::schema::sql_types::Mood\"")
                    {
                        r.set_once(&mut out.diesel_type, v);
                    }
                }
                "collation" => {
                    if let Some(v) = r.collation() {
                        r.set_once(&mut out.collation, v);
                    }
                }
                "comment" => {
                    if let Some(v) = r.non_empty("comment = \"what the column holds\"") {
                        r.set_once(&mut out.comment, v);
                    }
                }
                "on_update_sql" => {
                    if let Some(v) = r.on_update_sql() {
                        r.set_once(&mut out.on_update_sql, v);
                    }
                }
                "identity_start" => {
                    if let Some(v) = r.integer("identity_start = 1000", false) {
                        r.set_once(&mut out.identity_start, v);
                    }
                }
                "identity_increment" => {
                    if let Some(v) = r.integer("identity_increment = 10", true) {
                        r.set_once(&mut out.identity_increment, v);
                    }
                }
                "column" => {
                    if let Some(v) = r.name("column = \"db_name\"") {
                        r.set_once(&mut out.column, v);
                    }
                }
                "renamed_from" => {
                    if let Some(v) = r.name("renamed_from = \"old_column\"") {
                        r.set_once(&mut out.renamed_from, v);
                    }
                }
                _ => unreachable!("every key of FIELD_KEYS is handled"),
            }
        }
        out
    }
}

/// Every entry of every `#[model(...)]` among `attrs`; other attributes are
/// not ours and are skipped.
fn entries(cx: &Ctxt, attrs: &[Attribute]) -> Vec<Meta> {
    let mut out = Vec::new();
    for attr in attrs.iter().filter(|a| a.path().is_ident("model")) {
        match &attr.meta {
            Meta::List(list) => {
                match list.parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated) {
                    Ok(metas) => out.extend(metas),
                    Err(e) => cx.syn_error(e),
                }
            }
            _ => cx.error_spanned_by(
                attr,
                with_help(
                    "expected `#[model(...)]`",
                    "write the keys in parentheses, e.g. `#[model(primary_key)]`",
                ),
            ),
        }
    }
    out
}

/// The entry's key when it is one of `level`'s keys; reports it otherwise.
fn known_key(cx: &Ctxt, meta: &Meta, level: Level) -> Option<(&'static str, Span)> {
    let path = meta.path();
    if let Some(ident) = path.get_ident() {
        let name = ident.to_string();
        if let Some(key) = level.keys().iter().find(|k| **k == name) {
            return Some((key, ident.span()));
        }
    }
    unknown_key(cx, path, level);
    None
}

fn unknown_key(cx: &Ctxt, path: &Path, level: Level) {
    let name = path_to_string(path);
    let valid = format!(
        "valid {} keys are {}",
        level.name(),
        backticked(level.keys())
    );
    let other = level.other();
    let msg = if other.keys().contains(&name.as_str()) {
        with_help(
            format!(
                "`{name}` is a {} attribute, not a {} attribute",
                other.name(),
                level.name()
            ),
            format!("move it to the {}; {valid}", other.name()),
        )
    } else {
        let guess = did_you_mean(&name, level.keys().iter().copied())
            .map(|g| format!("did you mean `{g}`? "))
            .unwrap_or_default();
        with_help(
            format!("unknown {} attribute `{name}`", level.name()),
            format!("{guess}{valid}"),
        )
    };
    cx.error_spanned_by(path, msg);
}

fn path_to_string(path: &Path) -> String {
    path.segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect::<Vec<_>>()
        .join("::")
}

/// Why `name` cannot be a table or column name, if it cannot. Names are kept
/// to what every dialect accepts without surprises, quoted or not.
pub(crate) fn name_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("it is empty".into());
    }
    if let Some(c) = name
        .chars()
        .find(|c| c.is_whitespace() || matches!(c, '"' | '\'' | '`' | '.' | ',' | ';'))
    {
        return Some(format!("it contains {c:?}"));
    }
    if name.len() > MAX_NAME_BYTES {
        return Some(format!(
            "it is longer than {MAX_NAME_BYTES} bytes, more than any supported database keeps (MySQL 64, PostgreSQL 63)"
        ));
    }
    None
}
