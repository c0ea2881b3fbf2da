//! The readers of the attributes that describe what a database stores
//! beside a column's type (collation, `ON UPDATE`, identity options).

use syn::spanned::Spanned as _;
use syn::{Expr, Lit, UnOp};

use super::{literal, strip_group, with_help, Reader, Spanned, MAX_NAME_BYTES};

impl Reader<'_> {
    /// A collation name: letters, digits and `_ - . @`, as the database
    /// spells it (`"C"`, `"en-x-icu"`, `"utf8mb4_bin"`, `"NOCASE"`).
    pub(super) fn collation(&self) -> Option<Spanned<String>> {
        let example = "collation = \"utf8mb4_bin\"";
        let s = self.non_empty(example)?;
        if !crate::schema::is_collation_name(&s.value) {
            self.cx.error_at(
                s.span,
                with_help(
                    format!(
                        "invalid collation `{}`: a collation name is letters, digits and `_ - . @`, at most {MAX_NAME_BYTES} bytes",
                        s.value
                    ),
                    format!("write `{example}`"),
                ),
            );
            return None;
        }
        Some(s)
    }

    /// `on_update_sql = "CURRENT_TIMESTAMP"` (optionally with a precision,
    /// `CURRENT_TIMESTAMP(3)`; `NOW()` and `LOCALTIMESTAMP` mean the same):
    /// the only expressions MySQL takes in `ON UPDATE`. Normalised to
    /// `CURRENT_TIMESTAMP[(n)]`.
    pub(super) fn on_update_sql(&self) -> Option<Spanned<String>> {
        let example = "on_update_sql = \"CURRENT_TIMESTAMP\"";
        let s = self.non_empty(example)?;
        match crate::schema::normalize_on_update(&s.value) {
            Some(v) => Some(Spanned { value: v, ..s }),
            None => {
                self.cx.error_at(
                    s.span,
                    with_help(
                        format!(
                            "`on_update_sql = \"{}\"`: MySQL's ON UPDATE takes only CURRENT_TIMESTAMP, optionally with a precision of 0 to 6",
                            s.value
                        ),
                        format!("write `{example}` or `on_update_sql = \"CURRENT_TIMESTAMP(6)\"`"),
                    ),
                );
                None
            }
        }
    }

    /// An integer literal (a leading `-` allowed) that fits an `i64`;
    /// `nonzero` refuses 0.
    pub(super) fn integer(&self, example: &str, nonzero: bool) -> Option<Spanned<i64>> {
        let expr = self.expr(example)?;
        let (negative, lit) = match strip_group(expr) {
            Expr::Unary(u) if matches!(u.op, UnOp::Neg(_)) => (true, literal(&u.expr)),
            _ => (false, literal(expr)),
        };
        let parsed = match lit {
            Some(Lit::Int(i)) => i
                .base10_parse::<i128>()
                .ok()
                .map(|n| if negative { -n } else { n })
                .and_then(|n| i64::try_from(n).ok())
                .filter(|n| !nonzero || *n != 0),
            _ => None,
        };
        if parsed.is_none() {
            self.cx.error_spanned_by(
                expr,
                with_help(
                    format!(
                        "`{}` expects an integer literal{} that fits a 64-bit integer",
                        self.key,
                        if nonzero { " other than 0" } else { "" }
                    ),
                    format!("write `{example}`"),
                ),
            );
        }
        parsed.map(|n| self.spanned(n, expr.span()))
    }
}
