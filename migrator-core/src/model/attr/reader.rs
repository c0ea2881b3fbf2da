//! `Reader`: reads the value of one known `#[model(...)]` entry as the kind
//! its key takes (a flag, a string, a name, a column list, a foreign key,
//! an action, a number, a default literal), reporting what cannot be read.

use proc_macro2::Span;
use syn::spanned::Spanned as _;
use syn::{Expr, Lit, Meta, UnOp};

use super::{backticked, name_problem, with_help, ColumnList, Ctxt, DefaultLit, Level, Spanned};
use crate::schema::RefAction;

/// Reads the value of one known entry.
pub(super) struct Reader<'a> {
    pub(super) cx: &'a Ctxt,
    pub(super) meta: &'a Meta,
    pub(super) key: &'static str,
    pub(super) key_span: Span,
    pub(super) level: Level,
}

impl Reader<'_> {
    pub(super) fn set_flag(&self, slot: &mut Option<Span>) {
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

    pub(super) fn set_once<T>(&self, slot: &mut Option<T>, value: T) {
        if slot.is_some() {
            self.duplicate();
        } else {
            *slot = Some(value);
        }
    }

    pub(super) fn duplicate(&self) {
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
    pub(super) fn expr(&self, example: &str) -> Option<&Expr> {
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

    pub(super) fn spanned<T>(&self, value: T, span: Span) -> Spanned<T> {
        Spanned {
            value,
            span,
            key: self.key_span,
        }
    }

    pub(super) fn string(&self, example: &str) -> Option<Spanned<String>> {
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

    pub(super) fn non_empty(&self, example: &str) -> Option<Spanned<String>> {
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
    pub(super) fn name(&self, example: &str) -> Option<Spanned<String>> {
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

    pub(super) fn column_list(&self, example: &str) -> Option<ColumnList> {
        let s = self.string(example)?;
        self.split_columns(s, example)
    }

    /// `a, b` split and trimmed, refusing empty and repeated names.
    pub(super) fn split_columns(&self, s: Spanned<String>, example: &str) -> Option<ColumnList> {
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
}

impl Reader<'_> {
    pub(super) fn foreign_key(&self) -> Option<Spanned<(String, String)>> {
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

    pub(super) fn ref_action(&self) -> Option<Spanned<RefAction>> {
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

    pub(super) fn positive_u32(&self, example: &str) -> Option<Spanned<u32>> {
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

    pub(super) fn default_literal(&self) -> Option<Spanned<DefaultLit>> {
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
pub(super) fn literal(expr: &Expr) -> Option<&Lit> {
    match strip_group(expr) {
        Expr::Lit(lit) => Some(&lit.lit),
        _ => None,
    }
}

pub(super) fn strip_group(mut expr: &Expr) -> &Expr {
    while let Expr::Group(g) = expr {
        expr = &g.expr;
    }
    expr
}
