//! Stage 3: what the attributes of a model mean together.
//!
//! Contract: every check here looks at one model only and reports through
//! the context without stopping. Attribute syntax was checked by
//! [`super::attr`]; names that need the built table (column lists, object
//! names) are checked by [`super::lower`]; anything that needs other models
//! (foreign key targets, duplicate tables) by [`super::scan`].

use std::collections::BTreeMap;

use super::ast::{
    needs_sql_type, type_to_string, Field, Model, NeedsSqlType, RustKind, SUPPORTED_TYPES,
};
use super::attr::{DefaultLit, Spanned};
use super::ctxt::{with_help, Ctxt};
use crate::schema::{ColumnType, DefaultValue, RefAction};

pub(crate) fn check(cx: &Ctxt, model: &Model<'_>) {
    check_struct(cx, model);
    for field in &model.fields {
        if field.attrs.skip.is_some() {
            check_skip(cx, field);
        } else {
            check_field(cx, field);
        }
    }
}

fn check_struct(cx: &Ctxt, model: &Model<'_>) {
    let ident = model.ident;
    for ck in &model.attrs.checks {
        check_fragment(cx, "check", &ck.expr);
    }
    if model.columns().next().is_none() {
        let why = if model.fields.is_empty() {
            format!("`{ident}` has no fields")
        } else {
            format!("every field of `{ident}` is skipped")
        };
        cx.error_spanned_by(
            ident,
            with_help(
                format!("{why}, so its table would have no columns"),
                "add at least one field that is not `#[model(skip)]`, e.g. `#[model(primary_key, auto_increment)] id: i64`",
            ),
        );
    }
    let table = model.table_name();
    if let Some(old) = &model.attrs.renamed_from {
        if old.value == table {
            cx.error_at(
                old.span,
                with_help(
                    format!(
                        "`renamed_from = \"{}\"` is the table's current name",
                        old.value
                    ),
                    "name the table's previous name, or remove `renamed_from`",
                ),
            );
        }
    }
    // Two fields on one column would make `CREATE TABLE` fail; say which.
    let mut seen: BTreeMap<String, &Field<'_>> = BTreeMap::new();
    for field in model.columns() {
        let name = field.column_name();
        if let Some(first) = seen.get(&name) {
            let msg = with_help(
                format!(
                    "fields `{}` and `{}` both map to the column `{name}`",
                    first.ident, field.ident
                ),
                "give one of them another name with `#[model(column = \"...\")]`",
            );
            match &field.attrs.column {
                Some(c) => cx.error_at(c.span, msg),
                None => cx.error_spanned_by(field.ident, msg),
            }
        } else {
            seen.insert(name, field);
        }
    }
    let pk: Vec<&Field<'_>> = model
        .columns()
        .filter(|f| f.attrs.primary_key.is_some())
        .collect();
    if let (true, Some(span)) = (pk.is_empty(), model.attrs.without_rowid) {
        cx.error_at(
            span,
            with_help(
                "a `without_rowid` table is stored by its primary key, but no field is `primary_key`",
                "mark the key's field(s) `#[model(primary_key)]`, or remove `without_rowid`",
            ),
        );
    }
    if let Some(span) = model.attrs.without_rowid {
        if pk.iter().any(|f| f.attrs.auto_increment.is_some()) {
            cx.error_at(
                span,
                with_help(
                    "a `without_rowid` table has no auto-increment: SQLite numbers rows only through the rowid",
                    "remove `auto_increment` from the key (the application gives the values), or remove `without_rowid`",
                ),
            );
        }
    }
    if let (true, Some(n)) = (pk.is_empty(), &model.attrs.primary_key_name) {
        cx.error_at(
            n.span,
            with_help(
                format!(
                    "`primary_key_name = {:?}` names a primary key, but no field is `primary_key`",
                    n.value
                ),
                "mark the key's field(s) `#[model(primary_key)]`, or remove `primary_key_name`",
            ),
        );
    }
    if pk.len() > 1 {
        for f in &pk {
            if let Some(span) = f.attrs.auto_increment {
                cx.error_at(
                    span,
                    with_help(
                        "`auto_increment` needs a single-column primary key, but this primary key is composite",
                        "remove `auto_increment`, or keep `primary_key` on this field only and add `#[model(unique = \"...\")]` on the struct for the other columns",
                    ),
                );
            }
        }
    }
}

/// `skip` means "not a column", so any other key on the field is a mistake.
fn check_skip(cx: &Ctxt, field: &Field<'_>) {
    for (key, span) in &field.attrs.keys {
        if *key != "skip" {
            cx.error_at(
                *span,
                with_help(
                    format!("`skip` cannot be combined with `{key}`"),
                    format!(
                        "a skipped field has no column: remove `{key}`, or remove `skip` to make `{}` a column",
                        field.ident
                    ),
                ),
            );
        }
    }
}

/// Refuses an SQL fragment (`sql_type`, `default_sql`, `check`) that is
/// more than one type or expression ([`crate::sql_fragment`]), at its
/// literal.
fn check_fragment(cx: &Ctxt, key: &str, value: &super::attr::Spanned<String>) {
    use crate::sql_fragment::{check_expression, check_type};
    let (result, what, help) = if key == "sql_type" {
        (
            check_type(&value.value),
            "one SQL type",
            "write one type, with its arguments in parentheses, e.g. `sql_type = \"NUMERIC(12, 2)\"` or `sql_type = \"INT UNSIGNED\"`; nullability comes from `Option<T>`, defaults from `default`/`default_sql`, constraints from `unique`, `foreign_key`, `check`",
        )
    } else {
        (
            check_expression(&value.value),
            "one SQL expression",
            "write one expression, e.g. `CURRENT_TIMESTAMP` or `price > 0 AND qty IS NOT NULL`, with no `;`, comments or clauses after it; use `''` inside string literals",
        )
    };
    if let Err(e) = result {
        cx.error_at(
            value.span,
            with_help(
                format!("`{key} = {:?}` is not {what}: {e}", value.value),
                help,
            ),
        );
    }
}

/// `diesel_type = ".."` must be a Rust type path (`Citext`,
/// `crate::schema::sql_types::Mood`, `diesel::sql_types::Array<Text>`):
/// `migrator::schema!()` writes it into the `table!` as it is.
fn check_diesel_type(cx: &Ctxt, t: &Spanned<String>) {
    let outer = match syn::parse_str::<syn::Type>(&t.value) {
        Ok(syn::Type::Path(p)) if p.qself.is_none() => {
            p.path.segments.last().map(|s| s.ident.to_string())
        }
        _ => None,
    };
    match outer.as_deref() {
        None => cx.error_at(
            t.span,
            with_help(
                format!("`diesel_type = \"{}\"` is not a Rust type path", t.value),
                "name the diesel SQL type of the column as a path, e.g. `diesel_type = \"crate::schema::sql_types::Mood\"` (a type with `#[derive(diesel::sql_types::SqlType)]`) or `diesel_type = \"diesel::sql_types::Citext\"`",
            ),
        ),
        Some("Nullable") => cx.error_at(
            t.span,
            with_help(
                "`diesel_type` names the type without `Nullable`",
                "leave `Nullable<..>` out: an `Option<T>` field is `Nullable` in the schema already",
            ),
        ),
        Some(_) => {}
    }
}

fn check_field(cx: &Ctxt, field: &Field<'_>) {
    let a = &field.attrs;
    let name = field.ident;
    if let Some(t) = &a.sql_type {
        check_fragment(cx, "sql_type", t);
    }
    if let Some(d) = &a.default_sql {
        check_fragment(cx, "default_sql", d);
    }
    if field.kind.is_none() && a.sql_type.is_none() {
        unsupported_type(cx, field);
    }
    if let Some(t) = &a.diesel_type {
        check_diesel_type(cx, t);
    }

    if let Some(max) = &a.max_length {
        if a.sql_type.is_some() {
            cx.error_at(
                max.key,
                with_help(
                    "`max_length` cannot be combined with `sql_type`",
                    format!(
                        "put the length into the SQL type, e.g. `sql_type = \"VARCHAR({})\"`",
                        max.value
                    ),
                ),
            );
        } else if field.kind.is_some() && field.kind != Some(RustKind::String) {
            cx.error_at(
                max.key,
                with_help(
                    format!(
                        "`max_length` applies to `String` fields only, but `{name}` is `{}`",
                        type_to_string(field.ty)
                    ),
                    "remove `max_length`, or make the field a `String`",
                ),
            );
        }
    }

    if let (Some(_), Some(sql)) = (&a.default, &a.default_sql) {
        cx.error_at(
            sql.key,
            with_help(
                "`default` and `default_sql` cannot both be set",
                "keep `default = <literal>` for a value, or `default_sql = \"...\"` for an SQL expression",
            ),
        );
    }
    if let (Some(lit), Some(ty)) = (&a.default, field.column_type()) {
        if let Err(msg) = default_value(&lit.value, &ty, field) {
            cx.error_at(lit.span, msg);
        }
    }

    if a.primary_key.is_some() && field.nullable {
        cx.error_spanned_by(
            field.ty,
            with_help(
                format!(
                    "primary key `{name}` cannot be `Option`: primary key columns are NOT NULL"
                ),
                format!(
                    "use `{}` instead, or remove `primary_key`",
                    type_to_string(field.inner)
                ),
            ),
        );
    }

    if let Some(span) = a.auto_increment {
        let integer = match &a.sql_type {
            None => matches!(
                field.kind,
                Some(RustKind::I16 | RustKind::I32 | RustKind::I64)
            ),
            // `INT UNSIGNED`, `TINYINT`, ...: an integer SQL type on a Rust
            // integer field.
            Some(sql) => {
                ColumnType::Custom(sql.value.clone())
                    .custom_integer()
                    .is_some()
                    && is_rust_integer(field.inner)
            }
        };
        if !integer {
            let what = if a.sql_type.is_some() {
                "a field with `sql_type`".to_string()
            } else {
                format!("`{}`", type_to_string(field.ty))
            };
            cx.error_at(
                span,
                with_help(
                    format!("`auto_increment` needs an integer field, but `{name}` is {what}"),
                    "use `i16`, `i32` or `i64` without `sql_type`, an integer `sql_type` such as `INT UNSIGNED` on a Rust integer (`u32`), or remove `auto_increment`",
                ),
            );
        }
        if a.primary_key.is_none() {
            cx.error_at(
                span,
                with_help(
                    format!("`auto_increment` needs `primary_key` on the same field `{name}`"),
                    "write `#[model(primary_key, auto_increment)]`",
                ),
            );
        }
        if let Some(key) = a
            .default
            .as_ref()
            .map(|d| d.key)
            .or(a.default_sql.as_ref().map(|d| d.key))
        {
            cx.error_at(
                key,
                with_help(
                    "an `auto_increment` column cannot also have a default",
                    "remove the default: the database generates the value",
                ),
            );
        }
    }

    if a.auto_increment.is_none() {
        if let Some(key) = a.identity_always {
            cx.error_at(
                key,
                with_help(
                    format!("`identity_always` needs `auto_increment` on the same field `{name}`"),
                    "write `#[model(primary_key, auto_increment, identity_always)]`, or remove it",
                ),
            );
        }
        for option in [&a.identity_start, &a.identity_increment]
            .into_iter()
            .flatten()
        {
            cx.error_at(
                option.key,
                with_help(
                    format!("identity options need `auto_increment` on the same field `{name}`"),
                    "write `#[model(primary_key, auto_increment, identity_start = 1000)]`, or remove the option",
                ),
            );
        }
    }

    for (key, action) in [("on_delete", &a.on_delete), ("on_update", &a.on_update)] {
        let Some(action) = action else { continue };
        if a.foreign_key.is_none() {
            cx.error_at(
                action.key,
                with_help(
                    format!("`{key}` needs `foreign_key` on the same field"),
                    format!("write `#[model(foreign_key = \"table.column\", {key} = \"...\")]`, or remove `{key}`"),
                ),
            );
        }
        match action.value {
            RefAction::SetNull if !field.nullable => cx.error_at(
                action.span,
                with_help(
                    format!("`{key} = \"set null\"` needs a nullable column, but `{name}` is not an `Option`"),
                    format!(
                        "make the field `Option<{}>`, or choose another action",
                        type_to_string(field.inner)
                    ),
                ),
            ),
            RefAction::SetDefault if a.default.is_none() && a.default_sql.is_none() => cx.error_at(
                action.span,
                with_help(
                    format!("`{key} = \"set default\"` needs a default on `{name}`"),
                    "add `default = ...` or `default_sql = \"...\"`, or choose another action",
                ),
            ),
            _ => {}
        }
    }

    if let Some(old) = &a.renamed_from {
        if old.value == field.column_name() {
            cx.error_at(
                old.span,
                with_help(
                    format!(
                        "`renamed_from = \"{}\"` is the column's current name",
                        old.value
                    ),
                    "name the column's previous name, or remove `renamed_from`",
                ),
            );
        }
    }
}

fn unsupported_type(cx: &Ctxt, field: &Field<'_>) {
    let shown = type_to_string(field.inner);
    let base = shown.rsplit("::").next().unwrap_or(&shown).to_string();
    let needs = needs_sql_type(field.inner);
    let msg = if super::ast::option_inner(field.inner).is_some() {
        with_help(
            format!(
                "nested `Option` is not supported: `{}`",
                type_to_string(field.ty)
            ),
            "a column is NULL or not: use a single `Option<T>`",
        )
    } else if matches!(
        base.as_str(),
        "u8" | "u16" | "u32" | "u64" | "u128" | "usize" | "i8" | "i128" | "isize"
    ) {
        with_help(
            format!("`{shown}` has no portable SQL column type"),
            format!(
                "use `i16`, `i32` or `i64`, or set the SQL type with `#[model(sql_type = \"...\")]`; supported types are {SUPPORTED_TYPES}"
            ),
        )
    } else if needs == Some(NeedsSqlType::Decimal) {
        with_help(
            format!("a decimal column needs its precision: `{shown}` has no SQL type without one"),
            "give the digits it keeps with `#[model(sql_type = \"NUMERIC(12, 2)\")]` (12 digits, 2 of them after the point); diesel reads it as `Numeric`",
        )
    } else if needs == Some(NeedsSqlType::List) {
        with_help(
            format!("unsupported column type `{shown}`"),
            "a list is a PostgreSQL array: set its SQL type with `#[model(sql_type = \"TEXT[]\")]` (the element's type and `[]`, PostgreSQL only), keep it in a JSON column (`serde_json::Value`), or add `#[model(skip)]` if it is not a column",
        )
    } else {
        with_help(
            format!("unsupported column type `{shown}`"),
            format!(
                "set the SQL type it is stored as with `#[model(sql_type = \"...\")]`, e.g. `sql_type = \"VARCHAR(10)\"` for an enum kept as text or `sql_type = \"BIGINT\"` for a newtype over `i64` (with diesel's `ToSql`/`FromSql` for the type), or add `#[model(skip)]` if it is not a column; supported types are {SUPPORTED_TYPES}"
            ),
        )
    };
    cx.error_spanned_by(field.inner, msg);
}

/// The column default for `default = <lit>` on a column of type `ty`, or
/// the message saying why that literal does not fit. Shared with lowering so
/// that what is checked is what is built.
pub(crate) fn default_value(
    lit: &DefaultLit,
    ty: &ColumnType,
    field: &Field<'_>,
) -> Result<DefaultValue, String> {
    use ColumnType as T;
    let range = |lo: i128, hi: i128| -> Result<DefaultValue, String> {
        match lit {
            DefaultLit::Int(v) if (lo..=hi).contains(v) => Ok(DefaultValue::Int(*v as i64)),
            DefaultLit::Int(v) => Err(with_help(
                format!(
                    "`default = {v}` does not fit in `{}` ({ty})",
                    type_to_string(field.inner)
                ),
                format!("use a value from {lo} to {hi}, or a wider type"),
            )),
            _ => Err(mismatch(
                lit,
                ty,
                field,
                "an integer literal, e.g. `default = 0`",
            )),
        }
    };
    match (ty, lit) {
        (T::SmallInt, _) => range(i16::MIN.into(), i16::MAX.into()),
        (T::Integer, _) => range(i32::MIN.into(), i32::MAX.into()),
        (T::BigInt, _) => range(i64::MIN.into(), i64::MAX.into()),
        (T::Custom(_), DefaultLit::Int(_)) => range(i64::MIN.into(), i64::MAX.into()),
        // An integer written for a float column is the float it denotes.
        (T::Real | T::Double, DefaultLit::Int(v)) => Ok(DefaultValue::Float(*v as f64)),
        (T::Real | T::Double | T::Custom(_), DefaultLit::Float(v)) => Ok(DefaultValue::Float(*v)),
        (T::Real | T::Double, _) => Err(mismatch(lit, ty, field, "a number, e.g. `default = 0.0`")),
        (T::Boolean | T::Custom(_), DefaultLit::Bool(b)) => Ok(DefaultValue::Bool(*b)),
        (T::Boolean, _) => Err(mismatch(
            lit,
            ty,
            field,
            "`default = true` or `default = false`",
        )),
        (T::Varchar(n), DefaultLit::Str(s)) if s.chars().count() > *n as usize => Err(with_help(
            format!(
                "`default` is {} characters long but `max_length` is {n}",
                s.chars().count()
            ),
            "shorten the default, or raise `max_length`",
        )),
        (T::Blob, _) => Err(with_help(
            format!(
                "`default` cannot be a literal for the `{}` column `{}`",
                type_to_string(field.inner),
                field.ident
            ),
            "use `default_sql = \"...\"` with the dialect's byte-string syntax",
        )),
        // Text, and types whose literals are written as strings in SQL
        // (dates, times, UUIDs, JSON) or that we cannot know (`sql_type`).
        (_, DefaultLit::Str(s)) => Ok(DefaultValue::Str(s.clone())),
        _ => Err(mismatch(
            lit,
            ty,
            field,
            "a string literal, e.g. `default = \"...\"`",
        )),
    }
}

fn mismatch(lit: &DefaultLit, ty: &ColumnType, field: &Field<'_>, want: &str) -> String {
    with_help(
        format!(
            "`default` is {} but `{}` is a `{}` column ({ty})",
            lit.kind(),
            field.ident,
            type_to_string(field.inner)
        ),
        format!("write {want}, or `default_sql = \"...\"` for an SQL expression"),
    )
}

/// `i8` ..= `u64` (and `isize`/`usize`), as written.
fn is_rust_integer(ty: &syn::Type) -> bool {
    let syn::Type::Path(p) = ty else {
        return false;
    };
    p.qself.is_none()
        && p.path.segments.len() == 1
        && matches!(p.path.segments[0].arguments, syn::PathArguments::None)
        && matches!(
            p.path.segments[0].ident.to_string().as_str(),
            "i8" | "i16" | "i32" | "i64" | "u8" | "u16" | "u32" | "u64" | "isize" | "usize"
        )
}
