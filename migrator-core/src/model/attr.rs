//! Stage 1: raw `#[model(...)]` attributes to typed attribute sets.
//!
//! Contract: this file knows the keys of docs/DESIGN.md §2 and the kind of value
//! each takes, and nothing about what they mean together. It reports unknown
//! keys (with the valid ones, and a guess at the intended one), keys given
//! twice, values of the wrong kind and values that cannot be read (an
//! unknown `on_delete` action, a `foreign_key` without a dot). Every key may
//! be spread over several `#[model(...)]` attributes.

use std::collections::BTreeMap;

use proc_macro2::Span;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned as _;
use syn::{Attribute, Expr, Lit, Meta, Path, Token, UnOp};

use super::ctxt::{backticked, did_you_mean, with_help, Ctxt};
use crate::schema::RefAction;

mod database;

/// Keys of `#[model(...)]` on the struct.
pub(crate) const STRUCT_KEYS: &[&str] = &[
    "table",
    "comment",
    "collation",
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

/// Reads the value of one known entry.
struct Reader<'a> {
    cx: &'a Ctxt,
    meta: &'a Meta,
    key: &'static str,
    key_span: Span,
    level: Level,
}

impl Reader<'_> {
    fn set_flag(&self, slot: &mut Option<Span>) {
        match self.meta {
            Meta::Path(_) => {}
            // Read as the flag the user evidently meant, so the later checks
            // still run; the value itself is the error.
            Meta::NameValue(nv) => self.cx.error_spanned_by(
                &nv.value,
                with_help(
                    format!("`{}` takes no value", self.key),
                    format!("write `#[model({})]`", self.key),
                ),
            ),
            Meta::List(list) => self.cx.error_spanned_by(
                list,
                with_help(
                    format!("`{}` takes no arguments", self.key),
                    format!("write `#[model({})]`", self.key),
                ),
            ),
        }
        if slot.is_some() {
            self.duplicate();
        } else {
            *slot = Some(self.key_span);
        }
    }

    fn set_once<T>(&self, slot: &mut Option<T>, value: T) {
        if slot.is_some() {
            self.duplicate();
        } else {
            *slot = Some(value);
        }
    }

    fn duplicate(&self) {
        let help = match self.level {
            Level::Struct => {
                "remove one of them; on a struct only `index`, `unique` and `check` may repeat"
            }
            Level::Field => "remove one of them",
        };
        self.cx.error_at(
            self.key_span,
            with_help(format!("duplicate `{}` attribute", self.key), help),
        );
    }

    /// The `value` of `key = value`, reporting `key` and `key(...)`.
    fn expr(&self, example: &str) -> Option<&Expr> {
        match self.meta {
            Meta::NameValue(nv) => Some(&nv.value),
            Meta::Path(path) => {
                self.cx.error_spanned_by(
                    path,
                    with_help(
                        format!("`{}` needs a value", self.key),
                        format!("write `{example}`"),
                    ),
                );
                None
            }
            Meta::List(list) => {
                self.cx.error_spanned_by(
                    list,
                    with_help(
                        format!("`{}` takes `= value`, not parentheses", self.key),
                        format!("write `{example}`"),
                    ),
                );
                None
            }
        }
    }

    fn spanned<T>(&self, value: T, span: Span) -> Spanned<T> {
        Spanned {
            value,
            span,
            key: self.key_span,
        }
    }

    fn string(&self, example: &str) -> Option<Spanned<String>> {
        let expr = self.expr(example)?;
        match literal(expr) {
            Some(Lit::Str(s)) => Some(self.spanned(s.value(), s.span())),
            _ => {
                self.cx.error_spanned_by(
                    expr,
                    with_help(
                        format!("`{}` expects a string literal", self.key),
                        format!("write `{example}`"),
                    ),
                );
                None
            }
        }
    }

    fn non_empty(&self, example: &str) -> Option<Spanned<String>> {
        let s = self.string(example)?;
        if s.value.trim().is_empty() {
            self.cx.error_at(
                s.span,
                with_help(
                    format!("`{}` cannot be empty", self.key),
                    format!("write `{example}`"),
                ),
            );
            return None;
        }
        Some(s)
    }

    /// A table or column name.
    fn name(&self, example: &str) -> Option<Spanned<String>> {
        let s = self.string(example)?;
        match name_problem(&s.value) {
            None => Some(s),
            Some(problem) => {
                self.cx.error_at(
                    s.span,
                    with_help(
                        format!("invalid name `{}` in `{}`: {problem}", s.value, self.key),
                        format!("write `{example}`"),
                    ),
                );
                None
            }
        }
    }

    fn column_list(&self, example: &str) -> Option<ColumnList> {
        let s = self.string(example)?;
        self.split_columns(s, example)
    }

    /// `a, b` split and trimmed, refusing empty and repeated names.
    fn split_columns(&self, s: Spanned<String>, example: &str) -> Option<ColumnList> {
        let names: Vec<String> = s.value.split(',').map(|n| n.trim().to_string()).collect();
        let mut ok = true;
        if names.iter().any(|n| n.is_empty()) {
            ok = false;
            self.cx.error_at(
                s.span,
                with_help(
                    format!("empty column name in `{} = \"{}\"`", self.key, s.value),
                    format!("list the columns separated by commas: `{example}`"),
                ),
            );
        }
        for (i, n) in names.iter().enumerate() {
            if !n.is_empty() && names[..i].contains(n) {
                ok = false;
                self.cx.error_at(
                    s.span,
                    with_help(
                        format!("column `{n}` is listed twice in `{}`", self.key),
                        "list each column once",
                    ),
                );
            }
        }
        ok.then_some(ColumnList {
            names,
            span: s.span,
            name: None,
            nulls_not_distinct: false,
        })
    }

    /// The `key = "string"` entries of the list form `self.key(...)`, each
    /// one of `keys`, every one of `required` present.
    fn nested(
        &self,
        keys: &[&'static str],
        required: &[&'static str],
        example: &str,
    ) -> Option<BTreeMap<&'static str, Spanned<String>>> {
        let Meta::List(list) = self.meta else {
            return None;
        };
        let metas = match list.parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated) {
            Ok(metas) => metas,
            Err(e) => {
                self.cx.syn_error(e);
                return None;
            }
        };
        let mut out = BTreeMap::new();
        let mut ok = true;
        for meta in &metas {
            let given = path_to_string(meta.path());
            let Some(key) = keys.iter().copied().find(|k| *k == given) else {
                ok = false;
                self.cx.error_spanned_by(
                    meta.path(),
                    with_help(
                        format!("unknown key `{given}` in `{}(...)`", self.key),
                        format!("valid keys are {}: `{example}`", backticked(keys)),
                    ),
                );
                continue;
            };
            let value = match meta {
                Meta::NameValue(nv) => match literal(&nv.value) {
                    Some(Lit::Str(s)) => Some(self.spanned(s.value(), s.span())),
                    _ => None,
                },
                _ => None,
            };
            let Some(value) = value else {
                ok = false;
                self.cx.error_spanned_by(
                    meta,
                    with_help(
                        format!("`{key}` in `{}(...)` expects a string literal", self.key),
                        format!("write `{example}`"),
                    ),
                );
                continue;
            };
            if out.insert(key, value).is_some() {
                ok = false;
                self.cx.error_spanned_by(
                    meta.path(),
                    with_help(
                        format!("duplicate `{key}` in `{}(...)`", self.key),
                        "remove one of them",
                    ),
                );
            }
        }
        for key in required {
            if !out.contains_key(key) {
                ok = false;
                self.cx.error_spanned_by(
                    list,
                    with_help(
                        format!("`{}(...)` needs `{key}`", self.key),
                        format!("write `{example}`"),
                    ),
                );
            }
        }
        ok.then_some(out)
    }

    /// An object name given in a list form.
    fn object_name(&self, name: Option<&Spanned<String>>) -> Result<Option<String>, ()> {
        let Some(n) = name else { return Ok(None) };
        match name_problem(&n.value) {
            None => Ok(Some(n.value.clone())),
            Some(problem) => {
                self.cx.error_at(
                    n.span,
                    with_help(
                        format!(
                            "invalid name `{}` in `{}(...)`: {problem}",
                            n.value, self.key
                        ),
                        "name the object as the database does",
                    ),
                );
                Err(())
            }
        }
    }

    /// `index(name = "..", columns = "a, b")` / `unique(...)`.
    fn named_list(&self) -> Option<ColumnList> {
        let unique = self.key == "unique";
        let example = if unique {
            "unique(name = \"uq_tasks_code\", columns = \"code\", nulls = \"not distinct\")"
                .to_string()
        } else {
            format!(
                "{}(name = \"idx_tasks_due\", columns = \"user_id, due\")",
                self.key
            )
        };
        let keys: &[&'static str] = if unique {
            &["name", "columns", "nulls"]
        } else {
            &["name", "columns"]
        };
        let mut entries = self.nested(keys, &["columns"], &example)?;
        let name = self.object_name(entries.get("name")).ok()?;
        let nulls_not_distinct = match entries.get("nulls") {
            None => false,
            Some(v) => {
                match v
                    .value
                    .trim()
                    .to_ascii_lowercase()
                    .split_whitespace()
                    .collect::<Vec<_>>()
                    .join(" ")
                    .as_str()
                {
                    "not distinct" => true,
                    "distinct" => false,
                    _ => {
                        self.cx.error_at(
                        v.span,
                        with_help(
                            format!("`nulls = \"{}\"`: expected `\"not distinct\"` or `\"distinct\"`", v.value),
                            format!("write `{example}`"),
                        ),
                    );
                        return None;
                    }
                }
            }
        };
        let columns = entries.remove("columns")?;
        let mut list = self.split_columns(columns, &example)?;
        list.name = name;
        list.nulls_not_distinct = nulls_not_distinct;
        Some(list)
    }

    /// `check(name = "..", expr = "..")`.
    fn named_check(&self) -> Option<CheckAttr> {
        let example = "check(name = \"ck_tasks_priority\", expr = \"priority IN ('low', 'high')\")";
        let mut entries = self.nested(&["name", "expr"], &["expr"], example)?;
        let name = self.object_name(entries.get("name")).ok()?;
        let expr = entries.remove("expr")?;
        if expr.value.trim().is_empty() {
            self.cx.error_at(
                expr.span,
                with_help("`expr` cannot be empty", format!("write `{example}`")),
            );
            return None;
        }
        Some(CheckAttr { name, expr })
    }

    /// `foreign_key(name = "..", columns = "a, b", references = "t(x, y)",
    /// on_delete = "..", on_update = "..")` on the struct.
    fn struct_foreign_key(&self) -> Option<StructForeignKey> {
        let example =
            "foreign_key(columns = \"org_id, user_id\", references = \"members(org_id, user_id)\", on_delete = \"cascade\")";
        if !matches!(self.meta, Meta::List(_)) {
            self.cx.error_spanned_by(
                self.meta,
                with_help(
                    "on a struct, `foreign_key` takes a list of columns and the referenced table",
                    format!(
                        "write `{example}`, or put `foreign_key = \"table.column\"` on the field"
                    ),
                ),
            );
            return None;
        }
        let mut entries = self.nested(
            &["name", "columns", "references", "on_delete", "on_update"],
            &["columns", "references"],
            example,
        )?;
        let name = self.object_name(entries.get("name")).ok()?;
        let action = |key: &str| -> Result<RefAction, ()> {
            let Some(s) = entries.get(key) else {
                return Ok(RefAction::default());
            };
            RefAction::parse(&s.value).ok_or_else(|| {
                self.cx.error_at(
                    s.span,
                    with_help(
                        format!("unknown action `{}` for `{key}`", s.value),
                        format!("expected one of {}", backticked(RefAction::SPELLINGS)),
                    ),
                )
            })
        };
        let on_delete = action("on_delete");
        let on_update = action("on_update");
        let references = entries.remove("references")?;
        let parsed = references
            .value
            .trim()
            .strip_suffix(')')
            .and_then(|r| r.split_once('('))
            .map(|(t, cols)| {
                (
                    t.trim().to_string(),
                    cols.split(',')
                        .map(|c| c.trim().to_string())
                        .collect::<Vec<_>>(),
                )
            })
            .filter(|(t, cols)| {
                name_problem(t).is_none() && cols.iter().all(|c| name_problem(c).is_none())
            });
        let Some((ref_table, ref_columns)) = parsed else {
            self.cx.error_at(
                references.span,
                with_help(
                    format!("malformed `references = \"{}\"`", references.value),
                    format!("name the referenced table and its columns as `table(column, ..)`: `{example}`"),
                ),
            );
            return None;
        };
        let columns = entries.remove("columns")?;
        let mut columns = self.split_columns(columns, example)?;
        if columns.names.len() != ref_columns.len() {
            self.cx.error_at(
                references.span,
                with_help(
                    format!(
                        "{} column(s) reference {} column(s)",
                        columns.names.len(),
                        ref_columns.len()
                    ),
                    "list as many referenced columns as columns, in the same order",
                ),
            );
            return None;
        }
        columns.name = name;
        Some(StructForeignKey {
            columns,
            ref_table,
            ref_columns,
            on_delete: on_delete.ok()?,
            on_update: on_update.ok()?,
        })
    }

    fn foreign_key(&self) -> Option<Spanned<(String, String)>> {
        let example = "foreign_key = \"users.id\"";
        let s = self.string(example)?;
        let parts = s
            .value
            .split_once('.')
            .map(|(t, c)| (t.trim().to_string(), c.trim().to_string()))
            .filter(|(t, c)| name_problem(t).is_none() && name_problem(c).is_none());
        match parts {
            Some(parts) => Some(self.spanned(parts, s.span)),
            None => {
                self.cx.error_at(
                    s.span,
                    with_help(
                        format!("malformed `foreign_key = \"{}\"`", s.value),
                        format!("name the referenced table and column as `table.column`, e.g. `{example}`"),
                    ),
                );
                None
            }
        }
    }

    fn ref_action(&self) -> Option<Spanned<RefAction>> {
        let example = format!("{} = \"cascade\"", self.key);
        let s = self.string(&example)?;
        match RefAction::parse(&s.value) {
            Some(action) => Some(self.spanned(action, s.span)),
            None => {
                self.cx.error_at(
                    s.span,
                    with_help(
                        format!("unknown action `{}` for `{}`", s.value, self.key),
                        format!("expected one of {}", backticked(RefAction::SPELLINGS)),
                    ),
                );
                None
            }
        }
    }

    fn positive_u32(&self, example: &str) -> Option<Spanned<u32>> {
        let expr = self.expr(example)?;
        let parsed = match literal(expr) {
            Some(Lit::Int(i)) => i.base10_parse::<u32>().ok().filter(|n| *n > 0),
            _ => None,
        };
        if parsed.is_none() {
            self.cx.error_spanned_by(
                expr,
                with_help(
                    format!(
                        "`{}` expects a positive integer literal (at most {})",
                        self.key,
                        u32::MAX
                    ),
                    format!("write `{example}`"),
                ),
            );
        }
        parsed.map(|n| self.spanned(n, expr.span()))
    }

    fn default_literal(&self) -> Option<Spanned<DefaultLit>> {
        let help = "write a Rust literal, e.g. `default = \"medium\"`, `default = 0`, \
                    `default = -1.5` or `default = false`; for an SQL expression write \
                    `default_sql = \"CURRENT_TIMESTAMP\"`";
        let expr = self.expr("default = \"medium\"")?;
        let (negative, lit) = match strip_group(expr) {
            Expr::Unary(u) if matches!(u.op, UnOp::Neg(_)) => (true, literal(&u.expr)),
            e => (false, literal(e)),
        };
        let value = match (negative, lit) {
            (false, Some(Lit::Str(s))) => Ok(DefaultLit::Str(s.value())),
            (false, Some(Lit::Bool(b))) => Ok(DefaultLit::Bool(b.value)),
            (neg, Some(Lit::Int(i))) => i
                .base10_parse::<i128>()
                .map(|v| DefaultLit::Int(if neg { -v } else { v }))
                .map_err(|_| "integer literal out of range".to_string()),
            (neg, Some(Lit::Float(f))) => f
                .base10_parse::<f64>()
                .ok()
                .filter(|v| v.is_finite())
                .map(|v| DefaultLit::Float(if neg { -v } else { v }))
                .ok_or_else(|| "float literal out of range".to_string()),
            _ => Err("`default` expects a string, integer, float or bool literal".to_string()),
        };
        match value {
            Ok(v) => Some(self.spanned(v, expr.span())),
            Err(msg) => {
                self.cx.error_spanned_by(expr, with_help(msg, help));
                None
            }
        }
    }
}

/// The literal an expression is, looking through the invisible groups that
/// `macro_rules!` wraps around fragments.
fn literal(expr: &Expr) -> Option<&Lit> {
    match strip_group(expr) {
        Expr::Lit(lit) => Some(&lit.lit),
        _ => None,
    }
}

fn strip_group(mut expr: &Expr) -> &Expr {
    while let Expr::Group(g) = expr {
        expr = &g.expr;
    }
    expr
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
