//! Stage 4: the checked model to a [`Table`].
//!
//! Contract: builds the table of docs/DESIGN.md §2 from a model: columns in field
//! order (skipped fields left out), the primary key in field order, default
//! object names from [`naming`] (`ck_<table>_<hash>` from a check's
//! expression), then [`Table::normalize`]. It reports what
//! only shows once names are resolved: unknown columns in struct-level
//! lists and objects declared twice. It also records the spans [`super::scan`]
//! needs to put cross-model errors on the right token.

use std::collections::BTreeMap;

use proc_macro2::Span;
use syn::ext::IdentExt as _;

use super::ast::{Model, Resolved};
use super::attr::ColumnList;
use super::check::default_value;
use super::ctxt::{backticked, did_you_mean, with_help, Ctxt};
use super::ModelDef;
use crate::schema::{
    naming, Check, Column, ColumnType, DefaultValue, ForeignKey, Index, Table, Unique,
};

/// A model and where its parts were written.
#[derive(Debug)]
pub(crate) struct Lowered {
    pub def: ModelDef,
    pub spans: Spans,
}

#[derive(Debug)]
pub(crate) struct Spans {
    /// The struct's name.
    pub ident: Span,
    /// `table = "..."`, else the struct's name.
    pub table: Span,
    /// Foreign key name -> its `foreign_key = "..."` value.
    pub foreign_keys: BTreeMap<String, Span>,
    /// Object name (index, unique, foreign key, check) -> its declaration.
    pub objects: BTreeMap<String, Span>,
    /// Column name -> the name of its field, where the derive's drift check
    /// puts errors about that column.
    pub columns: BTreeMap<String, Span>,
    /// `primary_key_name = "..."`, which no other object may take.
    pub primary_key_name: Option<String>,
}

pub(crate) fn lower(cx: &Ctxt, model: &Model<'_>) -> Lowered {
    let name = model.table_name();
    let mut table = Table::new(name.clone());
    table.comment = model.attrs.comment.as_ref().map(|c| c.value.clone());
    table.collation = model.attrs.collation.as_ref().map(|c| c.value.clone());
    table.strict = model.attrs.strict.is_some();
    table.without_rowid = model.attrs.without_rowid.is_some();
    table.primary_key_name = model
        .attrs
        .primary_key_name
        .as_ref()
        .map(|c| c.value.clone());
    let mut spans = Spans {
        ident: model.ident.span(),
        table: model
            .attrs
            .table
            .as_ref()
            .map_or(model.ident.span(), |t| t.span),
        foreign_keys: BTreeMap::new(),
        objects: BTreeMap::new(),
        columns: BTreeMap::new(),
        primary_key_name: None,
    };
    if let Some(n) = &model.attrs.primary_key_name {
        declare(cx, &mut spans, &n.value, "primary key name", n.span);
        spans.primary_key_name = Some(n.value.clone());
    }

    for field in model.columns() {
        let column = field.column_name();
        spans
            .columns
            .entry(column.clone())
            .or_insert(field.ident.span());
        let a = &field.attrs;
        // An unsupported type was reported by `check`; the placeholder keeps
        // lowering going so that list errors are reported in the same build.
        let ty = field
            .column_type()
            .unwrap_or_else(|| ColumnType::Custom("?".into()));
        let default = match (&a.default, &a.default_sql) {
            (Some(lit), _) => default_value(&lit.value, &ty, field).ok(),
            (None, Some(sql)) => Some(DefaultValue::Sql(sql.value.trim().to_string())),
            (None, None) => None,
        };
        table.columns.push(Column {
            name: column.clone(),
            ty,
            nullable: field.nullable,
            default,
            auto_increment: a.auto_increment.is_some(),
            collation: a.collation.as_ref().map(|c| c.value.clone()),
            comment: a.comment.as_ref().map(|c| c.value.clone()),
            on_update: a.on_update_sql.as_ref().map(|c| c.value.clone()),
            identity_start: a.identity_start.as_ref().map(|v| v.value),
            identity_increment: a.identity_increment.as_ref().map(|v| v.value),
            identity_always: a.identity_always.is_some(),
        });
        if a.primary_key.is_some() {
            table.primary_key.push(column.clone());
        }
        let cols = vec![column.clone()];
        if let Some(span) = a.index {
            let idx = Index {
                name: naming::index(&name, &cols),
                columns: cols.clone(),
            };
            declare(cx, &mut spans, &idx.name, "index", span);
            table.indexes.push(idx);
        }
        if let Some(span) = a.unique {
            let uq = Unique {
                name: naming::unique(&name, &cols),
                columns: cols.clone(),
                nulls_not_distinct: false,
            };
            declare(cx, &mut spans, &uq.name, "unique constraint", span);
            table.uniques.push(uq);
        }
        if let Some(fk) = &a.foreign_key {
            let (ref_table, ref_column) = fk.value.clone();
            let fk_name = naming::foreign_key(&name, &cols);
            declare(cx, &mut spans, &fk_name, "foreign key", fk.span);
            spans.foreign_keys.insert(fk_name.clone(), fk.span);
            table.foreign_keys.push(ForeignKey {
                name: fk_name,
                columns: cols,
                ref_table,
                ref_columns: vec![ref_column],
                on_delete: a.on_delete.as_ref().map(|x| x.value).unwrap_or_default(),
                on_update: a.on_update.as_ref().map(|x| x.value).unwrap_or_default(),
            });
        }
    }

    for list in &model.attrs.keep {
        for k in &list.names {
            if table.column(k).is_some() {
                cx.error_at(
                    list.span,
                    with_help(
                        format!("`{k}` is kept (`keep`) but is also a field of the struct"),
                        "`keep` is for a column the struct no longer has: remove the field, or remove it from `keep`",
                    ),
                );
            }
        }
    }

    for list in &model.attrs.indexes {
        if let Some(cols) = resolve_list(cx, model, &name, list, "index") {
            let idx = Index {
                name: list
                    .name
                    .clone()
                    .unwrap_or_else(|| naming::index(&name, &cols)),
                columns: cols,
            };
            declare(cx, &mut spans, &idx.name, "index", list.span);
            table.indexes.push(idx);
        }
    }
    for list in &model.attrs.uniques {
        if let Some(cols) = resolve_list(cx, model, &name, list, "unique") {
            let uq = Unique {
                name: list
                    .name
                    .clone()
                    .unwrap_or_else(|| naming::unique(&name, &cols)),
                columns: cols,
                nulls_not_distinct: list.nulls_not_distinct,
            };
            declare(cx, &mut spans, &uq.name, "unique constraint", list.span);
            table.uniques.push(uq);
        }
    }
    for fk in &model.attrs.foreign_keys {
        if let Some(cols) = resolve_list(cx, model, &name, &fk.columns, "foreign_key") {
            let fk_name = fk
                .columns
                .name
                .clone()
                .unwrap_or_else(|| naming::foreign_key(&name, &cols));
            declare(cx, &mut spans, &fk_name, "foreign key", fk.columns.span);
            spans.foreign_keys.insert(fk_name.clone(), fk.columns.span);
            table.foreign_keys.push(ForeignKey {
                name: fk_name,
                columns: cols,
                ref_table: fk.ref_table.clone(),
                ref_columns: fk.ref_columns.clone(),
                on_delete: fk.on_delete,
                on_update: fk.on_update,
            });
        }
    }
    // Unnamed checks are named by their expression, so adding, removing or
    // reordering checks never renames another.
    for check in &model.attrs.checks {
        let ck_name = match &check.name {
            Some(n) => n.clone(),
            None => naming::check(&name, check.expr.value.trim()),
        };
        let ck = Check {
            name: ck_name,
            expr: check.expr.value.trim().to_string(),
        };
        declare(cx, &mut spans, &ck.name, "check", check.expr.span);
        table.checks.push(ck);
    }
    table.normalize();

    let def = ModelDef {
        struct_name: model.ident.unraw().to_string(),
        table,
        renamed_from: model.attrs.renamed_from.as_ref().map(|r| r.value.clone()),
        column_renames: model
            .columns()
            .filter_map(|f| {
                let old = f.attrs.renamed_from.as_ref()?;
                Some((f.column_name(), old.value.clone()))
            })
            .collect(),
        diesel: model
            .columns()
            .filter_map(|f| {
                let field = f.ident.unraw().to_string();
                let column = f.column_name();
                let diesel_type = f.attrs.diesel_type.as_ref().map(|t| t.value.clone());
                let nullable_elements = super::ast::has_nullable_elements(f.inner);
                (field != column || diesel_type.is_some() || nullable_elements).then_some(
                    super::DieselField {
                        column,
                        field,
                        diesel_type,
                        nullable_elements,
                    },
                )
            })
            .collect(),
        kept: model
            .attrs
            .keep
            .iter()
            .flat_map(|k| k.names.iter().cloned())
            .collect(),
        file: None,
        line: model.ident.span().start().line,
    };
    Lowered { def, spans }
}

/// Records an object name, reporting a second declaration of the same name
/// (the same columns indexed twice, say) on the second one.
fn declare(cx: &Ctxt, spans: &mut Spans, name: &str, what: &str, span: Span) {
    if spans.primary_key_name.as_deref() == Some(name) {
        cx.error_at(
            span,
            with_help(
                format!("{what} `{name}` has the name of the primary key (`primary_key_name`)"),
                "give one of the two another name",
            ),
        );
    } else if spans.objects.contains_key(name) {
        cx.error_at(
            span,
            with_help(
                format!("duplicate {what} `{name}`: the same columns are declared twice"),
                "remove one of the two declarations",
            ),
        );
    } else {
        spans.objects.insert(name.to_string(), span);
    }
}

/// The column names of a struct-level list: column names first, then field
/// names mapped to their columns (see the module docs of [`super`]).
fn resolve_list(
    cx: &Ctxt,
    model: &Model<'_>,
    table: &str,
    list: &ColumnList,
    key: &str,
) -> Option<Vec<String>> {
    let mut out = Vec::new();
    let mut ok = true;
    for name in &list.names {
        match model.resolve(name) {
            Resolved::Column(field) => {
                let column = field.column_name();
                if out.contains(&column) {
                    ok = false;
                    cx.error_at(
                        list.span,
                        with_help(
                            format!("`{name}` names the column `{column}`, which is already in this `{key}`"),
                            "list each column once",
                        ),
                    );
                } else {
                    out.push(column);
                }
            }
            Resolved::Skipped => {
                ok = false;
                cx.error_at(
                    list.span,
                    with_help(
                        format!("`{name}` in `{key}` is a skipped field, not a column"),
                        format!("remove `{name}` from the list, or remove `skip` from the field"),
                    ),
                );
            }
            Resolved::Unknown => {
                ok = false;
                let columns: Vec<String> = model.columns().map(|f| f.column_name()).collect();
                let guess = did_you_mean(name, columns.iter().map(String::as_str))
                    .map(|g| format!("did you mean `{g}`? "))
                    .unwrap_or_default();
                cx.error_at(
                    list.span,
                    with_help(
                        format!("unknown column `{name}` in `{key}`"),
                        format!(
                            "{guess}the columns of `{table}` are {}",
                            backticked(&columns)
                        ),
                    ),
                );
            }
        }
    }
    ok.then_some(out)
}
