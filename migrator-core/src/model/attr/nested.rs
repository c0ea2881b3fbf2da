//! The list forms of `#[model(...)]` entries: `key(name = "..", ..)` read
//! into named indexes, uniques, checks and struct-level foreign keys.

use std::collections::BTreeMap;

use syn::punctuated::Punctuated;
use syn::{Lit, Meta, Token};

use super::{
    backticked, literal, name_problem, path_to_string, with_help, CheckAttr, ColumnList, Reader,
    Spanned, StructForeignKey,
};
use crate::schema::RefAction;

impl Reader<'_> {
    /// The `key = "string"` entries of the list form `self.key(...)`, each
    /// one of `keys`, every one of `required` present.
    pub(super) fn nested(
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
    pub(super) fn object_name(&self, name: Option<&Spanned<String>>) -> Result<Option<String>, ()> {
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
    pub(super) fn named_list(&self) -> Option<ColumnList> {
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
    pub(super) fn named_check(&self) -> Option<CheckAttr> {
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
    pub(super) fn struct_foreign_key(&self) -> Option<StructForeignKey> {
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
}
