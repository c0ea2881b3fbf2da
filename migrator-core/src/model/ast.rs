//! Stage 2: the struct as a typed model that borrows the syn tree.
//!
//! Contract: [`Model::from_input`] accepts a struct with named fields and no
//! generics (it reports anything else, and still reads the fields of a
//! generic struct so their errors are not lost), reads every attribute with
//! [`super::attr`] and classifies each field's Rust type. Type matching looks
//! at the last path segment only, so `chrono::NaiveDate` and an imported
//! `NaiveDate` are the same; the one exception is `Value`, which must be
//! bare or `serde_json::Value` because other crates name types `Value` too.

use syn::ext::IdentExt as _;
use syn::{Data, DeriveInput, Fields, GenericArgument, Ident, PathArguments, Type};

use super::attr::{FieldAttrs, StructAttrs};
use super::ctxt::{with_help, Ctxt};
use crate::schema::ColumnType;

/// A `#[derive(Model)]` struct.
#[derive(Debug)]
pub(crate) struct Model<'a> {
    pub ident: &'a Ident,
    pub attrs: StructAttrs,
    /// Every named field, skipped ones included, in declaration order.
    pub fields: Vec<Field<'a>>,
}

#[derive(Debug)]
pub(crate) struct Field<'a> {
    pub ident: &'a Ident,
    /// The type as written, `Option` included.
    pub ty: &'a Type,
    pub attrs: FieldAttrs,
    /// `Option<T>` at the top level.
    pub nullable: bool,
    /// The type inside `Option`, or `ty` itself.
    pub inner: &'a Type,
    /// What `inner` is, when it is one of the supported types.
    pub kind: Option<RustKind>,
}

/// The Rust types with a column type of their own (docs/DESIGN.md §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RustKind {
    I16,
    I32,
    I64,
    F32,
    F64,
    Bool,
    String,
    Bytes,
    Date,
    Time,
    DateTime,
    DateTimeTz,
    Uuid,
    Json,
}

/// For help lines listing what is supported.
pub(crate) const SUPPORTED_TYPES: &str = "`i16`, `i32`, `i64`, `f32`, `f64`, `bool`, `String`, \
     `Vec<u8>`, `chrono::NaiveDate`, `chrono::NaiveTime`, `chrono::NaiveDateTime`, \
     `chrono::DateTime<Utc>`, `uuid::Uuid`, `serde_json::Value`, and `Option<T>` of these";

impl<'a> Model<'a> {
    /// The model, or `None` (with the errors recorded) when the item is not
    /// a struct with named fields.
    pub fn from_input(cx: &Ctxt, input: &'a DeriveInput) -> Option<Model<'a>> {
        let attrs = StructAttrs::from_attrs(cx, &input.attrs);
        let ident = &input.ident;
        let fields = match &input.data {
            Data::Struct(s) => match &s.fields {
                Fields::Named(named) => &named.named,
                Fields::Unnamed(_) => {
                    cx.error_spanned_by(
                        ident,
                        with_help(
                            format!("`#[derive(Model)]` needs named fields; `{ident}` is a tuple struct"),
                            format!("write `struct {ident} {{ id: i64, ... }}`: each named field is a column"),
                        ),
                    );
                    return None;
                }
                Fields::Unit => {
                    cx.error_spanned_by(
                        ident,
                        with_help(
                            format!("`#[derive(Model)]` needs named fields; `{ident}` is a unit struct"),
                            format!("write `struct {ident} {{ id: i64, ... }}`: each named field is a column"),
                        ),
                    );
                    return None;
                }
            },
            Data::Enum(e) => {
                cx.error_spanned_by(
                    e.enum_token,
                    with_help(
                        "`#[derive(Model)]` works on structs only, not on enums",
                        "a model is a struct whose named fields are the columns; an enum is the type of a column instead: a field of it with `#[model(sql_type = \"VARCHAR(10)\")]` and a table `check` on its values, and diesel's `ToSql`/`FromSql` for it (README, \"Querying with diesel\")",
                    ),
                );
                return None;
            }
            Data::Union(u) => {
                cx.error_spanned_by(
                    u.union_token,
                    with_help(
                        "`#[derive(Model)]` works on structs only, not on unions",
                        "a model is a struct whose named fields are the columns",
                    ),
                );
                return None;
            }
        };
        if !input.generics.params.is_empty() || input.generics.where_clause.is_some() {
            cx.error_spanned_by(
                &input.generics,
                with_help(
                    format!("`#[derive(Model)]` does not support generic structs like `{ident}`"),
                    "a table has one fixed set of column types: remove the generic parameters",
                ),
            );
        }
        let fields: Vec<Field<'a>> = fields
            .iter()
            .filter_map(|f| {
                // Named fields always have an ident; the filter only keeps
                // the compiler from needing an unwrap.
                let ident = f.ident.as_ref()?;
                let attrs = FieldAttrs::from_attrs(cx, &f.attrs);
                let (nullable, inner) = match option_inner(&f.ty) {
                    Some(inner) => (true, inner),
                    None => (false, &f.ty),
                };
                Some(Field {
                    ident,
                    ty: &f.ty,
                    attrs,
                    nullable,
                    inner,
                    kind: classify(inner),
                })
            })
            .collect();
        Some(Model {
            ident,
            attrs,
            fields,
        })
    }

    /// The fields that are columns.
    pub fn columns(&self) -> impl Iterator<Item = &Field<'a>> {
        self.fields.iter().filter(|f| f.attrs.skip.is_none())
    }

    /// The table name: `table = "..."`, else diesel's default.
    pub fn table_name(&self) -> String {
        match &self.attrs.table {
            Some(t) => t.value.clone(),
            None => default_table_name(&self.ident.unraw().to_string()),
        }
    }

    /// What `name` in a struct-level column list refers to.
    pub fn resolve(&self, name: &str) -> Resolved<'_, 'a> {
        if let Some(f) = self.columns().find(|f| f.column_name() == name) {
            return Resolved::Column(f);
        }
        match self.fields.iter().find(|f| f.ident.unraw() == name) {
            Some(f) if f.attrs.skip.is_some() => Resolved::Skipped,
            Some(f) => Resolved::Column(f),
            None => Resolved::Unknown,
        }
    }
}

/// See [`Model::resolve`].
#[derive(Debug)]
pub(crate) enum Resolved<'m, 'a> {
    Column(&'m Field<'a>),
    Skipped,
    Unknown,
}

impl Field<'_> {
    /// The column name: `column = "..."`, else the field name (without
    /// `r#`, so `r#type` is the column `type`).
    pub fn column_name(&self) -> String {
        match &self.attrs.column {
            Some(c) => c.value.clone(),
            None => self.ident.unraw().to_string(),
        }
    }

    /// The column type, when the field has one: `sql_type` wins, then the
    /// Rust type (with `max_length` turning `String` into `varchar(n)`).
    pub fn column_type(&self) -> Option<ColumnType> {
        if let Some(sql) = &self.attrs.sql_type {
            return Some(ColumnType::Custom(sql.value.trim().to_string()));
        }
        Some(match self.kind? {
            RustKind::I16 => ColumnType::SmallInt,
            RustKind::I32 => ColumnType::Integer,
            RustKind::I64 => ColumnType::BigInt,
            RustKind::F32 => ColumnType::Real,
            RustKind::F64 => ColumnType::Double,
            RustKind::Bool => ColumnType::Boolean,
            RustKind::String => match &self.attrs.max_length {
                Some(n) => ColumnType::Varchar(n.value),
                None => ColumnType::Text,
            },
            RustKind::Bytes => ColumnType::Blob,
            RustKind::Date => ColumnType::Date,
            RustKind::Time => ColumnType::Time,
            RustKind::DateTime => ColumnType::Timestamp,
            RustKind::DateTimeTz => ColumnType::TimestampTz,
            RustKind::Uuid => ColumnType::Uuid,
            RustKind::Json => ColumnType::Json,
        })
    }
}

/// diesel's default table name: a `_` before every uppercase letter but the
/// first, lowercased, plus `s` (`TaskItem` -> `task_items`). Kept identical
/// to diesel's so both derives agree on a struct used by both.
pub(crate) fn default_table_name(struct_name: &str) -> String {
    let mut out = String::with_capacity(struct_name.len() + 4);
    for (i, c) in struct_name.chars().enumerate() {
        if c.is_uppercase() {
            if i > 0 {
                out.push('_');
            }
            out.extend(c.to_lowercase());
        } else {
            out.push(c);
        }
    }
    out.push('s');
    out
}

/// The last segment of a plain type path (no `<T as Trait>::` qualifier).
fn last_segment(ty: &Type) -> Option<(&syn::Path, &syn::PathSegment)> {
    match ty {
        Type::Path(p) if p.qself.is_none() => p.path.segments.last().map(|s| (&p.path, s)),
        Type::Group(g) => last_segment(&g.elem),
        Type::Paren(p) => last_segment(&p.elem),
        _ => None,
    }
}

/// The only type argument of a segment such as `Option<T>`.
fn single_type_arg(seg: &syn::PathSegment) -> Option<&Type> {
    match &seg.arguments {
        PathArguments::AngleBracketed(args) if args.args.len() == 1 => match &args.args[0] {
            GenericArgument::Type(t) => Some(t),
            _ => None,
        },
        _ => None,
    }
}

/// `T` when `ty` is `Option<T>`.
pub(crate) fn option_inner(ty: &Type) -> Option<&Type> {
    let (_, seg) = last_segment(ty)?;
    if seg.ident != "Option" {
        return None;
    }
    single_type_arg(seg)
}

fn classify(ty: &Type) -> Option<RustKind> {
    let (path, seg) = last_segment(ty)?;
    let name = seg.ident.to_string();
    let bare = matches!(seg.arguments, PathArguments::None);
    let arg_is = |want: &[&str]| {
        single_type_arg(seg)
            .and_then(last_segment)
            .is_some_and(|(_, s)| want.contains(&s.ident.to_string().as_str()))
    };
    let kind = match name.as_str() {
        "i16" if bare => RustKind::I16,
        "i32" if bare => RustKind::I32,
        "i64" if bare => RustKind::I64,
        "f32" if bare => RustKind::F32,
        "f64" if bare => RustKind::F64,
        "bool" if bare => RustKind::Bool,
        "String" if bare => RustKind::String,
        "Vec" if arg_is(&["u8"]) => RustKind::Bytes,
        "NaiveDate" if bare => RustKind::Date,
        "NaiveTime" if bare => RustKind::Time,
        "NaiveDateTime" if bare => RustKind::DateTime,
        "DateTime" if arg_is(&["Utc", "Local", "FixedOffset"]) => RustKind::DateTimeTz,
        "Uuid" if bare => RustKind::Uuid,
        "Value" if bare => {
            let n = path.segments.len();
            if n == 1 || path.segments[n - 2].ident == "serde_json" {
                RustKind::Json
            } else {
                return None;
            }
        }
        _ => return None,
    };
    Some(kind)
}

/// A Rust type with no column type of its own that a help line can still
/// name the fix for: its `sql_type` is the user's to give.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum NeedsSqlType {
    /// `bigdecimal::BigDecimal`, `rust_decimal::Decimal`: the precision
    /// and scale are the column's (`NUMERIC(12, 2)`).
    Decimal,
    /// `Vec<T>` of anything but `u8`: a PostgreSQL array (`TEXT[]`).
    List,
}

/// What `ty` is when it is one of [`NeedsSqlType`].
pub(crate) fn needs_sql_type(ty: &Type) -> Option<NeedsSqlType> {
    let (_, seg) = last_segment(ty)?;
    let bare = matches!(seg.arguments, PathArguments::None);
    match seg.ident.to_string().as_str() {
        "BigDecimal" | "Decimal" if bare => Some(NeedsSqlType::Decimal),
        "Vec" => single_type_arg(seg).map(|_| NeedsSqlType::List),
        _ => None,
    }
}

/// Whether `ty` is `Vec<Option<T>>`: a list whose elements may be NULL
/// (a PostgreSQL array's `Array<Nullable<..>>`).
pub(crate) fn has_nullable_elements(ty: &Type) -> bool {
    let Some((_, seg)) = last_segment(ty) else {
        return false;
    };
    seg.ident == "Vec" && single_type_arg(seg).and_then(option_inner).is_some()
}

/// A type as the user wrote it, for messages (`Vec<u32>`, not `Vec < u32 >`).
pub(crate) fn type_to_string(ty: &Type) -> String {
    let raw = quote::quote!(#ty).to_string();
    raw.replace(" :: ", "::")
        .replace(":: ", "::")
        .replace(" < ", "<")
        .replace("< ", "<")
        .replace(" <", "<")
        .replace(" > ", ">")
        .replace(" >", ">")
        .replace(" , ", ", ")
        .replace("& ", "&")
}
