//! MySQL/MariaDB: a column's `COLUMN_DEFAULT` (or the SQL text of a
//! default) read as a typed default (see the module docs of `introspect`).

use super::types;
use crate::introspect::normalize::{self, Source};
use crate::schema::{ColumnType, DefaultValue};

/// A typed default from `COLUMN_DEFAULT` (module docs).
pub(super) fn live_default(
    text: &str,
    extra: &str,
    ty: &ColumnType,
    maria: bool,
) -> Option<DefaultValue> {
    let d = if maria || extra.contains("default_generated") {
        // SQL text; MySQL 8 escapes quotes in expressions with a backslash.
        let sql = if maria {
            text.to_string()
        } else {
            text.replace("\\'", "'")
        };
        return sql_default(&sql, ty);
    } else if is_numeric(ty) {
        // MySQL 8 prints a literal's bare text.
        normalize::default_value(text, ty, Source::Mysql)
    } else {
        Some(DefaultValue::Str(text.to_string()))
    };
    canonical_default(d)
}

/// A typed default from MySQL SQL text (`'it\'s'`, `_utf8mb4'x'`,
/// `current_timestamp(6)`, `(1 + 2)`).
pub(super) fn sql_default(sql: &str, ty: &ColumnType) -> Option<DefaultValue> {
    let sql = types::mysql_unescape(&without_introducers(sql));
    canonical_default(normalize::default_value(
        normalize::strip_outer_parens(&sql),
        ty,
        Source::Mysql,
    ))
}

/// `sql` without charset introducers (`_utf8mb4'x'` is `'x'`).
fn without_introducers(sql: &str) -> String {
    let toks = normalize::tokenize(sql);
    let mut out = String::new();
    let mut at = 0;
    for (k, t) in toks.iter().enumerate() {
        let introducer = matches!(&t.tok, normalize::Tok::Word(w) if w.starts_with('_'))
            && toks
                .get(k + 1)
                .is_some_and(|n| matches!(n.tok, normalize::Tok::Str(_)) && n.start == t.end);
        if introducer {
            out.push_str(&sql[at..t.start]);
            at = t.end;
        }
    }
    out.push_str(&sql[at..]);
    out
}

fn canonical_default(d: Option<DefaultValue>) -> Option<DefaultValue> {
    match d {
        Some(DefaultValue::Sql(e)) => Some(DefaultValue::Sql(types::mysql_expr(&e))),
        other => other,
    }
}

fn is_numeric(ty: &ColumnType) -> bool {
    match ty {
        ColumnType::SmallInt
        | ColumnType::Integer
        | ColumnType::BigInt
        | ColumnType::Real
        | ColumnType::Double
        | ColumnType::Boolean => true,
        ColumnType::Custom(s) => {
            let up = s.to_ascii_uppercase();
            [
                "TINYINT",
                "SMALLINT",
                "MEDIUMINT",
                "INT",
                "BIGINT",
                "DECIMAL",
                "FLOAT",
                "DOUBLE",
                "BIT",
            ]
            .iter()
            .any(|p| up.starts_with(p))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mysql8_literal_defaults_are_bare() {
        assert_eq!(
            live_default("medium", "", &ColumnType::Varchar(20), false),
            Some(DefaultValue::Str("medium".into()))
        );
        assert_eq!(
            live_default("'medium'", "", &ColumnType::Varchar(20), true),
            Some(DefaultValue::Str("medium".into()))
        );
        assert_eq!(
            live_default("0", "", &ColumnType::Boolean, false),
            Some(DefaultValue::Bool(false))
        );
        assert_eq!(
            live_default(
                "CURRENT_TIMESTAMP(6)",
                "default_generated",
                &ColumnType::Timestamp,
                false
            ),
            Some(DefaultValue::Sql("current_timestamp(6)".into()))
        );
        assert_eq!(
            live_default(
                "_utf8mb4\\'x\\'",
                "default_generated",
                &ColumnType::Text,
                false
            ),
            Some(DefaultValue::Str("x".into()))
        );
    }
}
