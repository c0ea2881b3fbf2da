//! Checks on the SQL fragments that models and files carry verbatim into
//! generated DDL: a column's `sql_type`, an SQL default, a check expression,
//! a backfill's assignments and predicate.
//!
//! Contract: a fragment is pasted into a statement (`ADD COLUMN "x" <type>`,
//! `DEFAULT <expr>`, `CHECK (<expr>)`, `UPDATE .. SET <set> WHERE ..
//! AND (<predicate>)`), so it must be one type, one expression or one list of
//! assignments and nothing more. Each check lexes the fragment the way each
//! of the three databases would (PostgreSQL: `'..'` with `''`, `E'..'` with
//! backslashes, `$tag$..$tag$`, `".."`; MySQL: `'..'` and `".."` with
//! backslashes and doubling, `` `..` ``, `#` comments; SQLite: `'..'`,
//! `".."`, `` `..` ``, `[..]`), since a migration file is not tied to one,
//! and refuses, under any of them: a comment, a `;`, unbalanced parentheses,
//! an unterminated literal or quoted name; and, outside parentheses, a `,`
//! (except between assignments) or a word that would start another clause
//! (`NOT NULL`, `PRIMARY KEY`, `REFERENCES`, `DROP`, ...). Errors give the
//! byte offset and a reason. Raw `op = "sql"` steps are not checked: their
//! SQL is the declared effect.

use std::fmt;

use crate::dialect::Dialect;
use crate::sql_lex::{Kind, Token};

/// Why a fragment was refused: where (the byte offset in the fragment, and
/// the same place counted in characters from 1, for messages) and what is
/// wrong there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FragmentError {
    pub offset: usize,
    pub character: usize,
    pub reason: String,
}

impl fmt::Display for FragmentError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "at character {}: {}", self.character, self.reason)
    }
}

fn err<T>(offset: usize, reason: impl Into<String>) -> Result<T, FragmentError> {
    Err(FragmentError {
        offset,
        character: offset + 1,
        reason: reason.into(),
    })
}

/// Words that start a clause of a column definition or another statement:
/// outside parentheses they would make a fragment more than one type or
/// expression.
const CLAUSE_WORDS: &[&str] = &[
    "ADD",
    "ALTER",
    "AUTOINCREMENT",
    "AUTO_INCREMENT",
    "CHANGE",
    "CHECK",
    "COMMENT",
    "CONSTRAINT",
    "CREATE",
    "DEFAULT",
    "DELETE",
    "DROP",
    "FOREIGN",
    "GENERATED",
    "GRANT",
    "INSERT",
    "KEY",
    "MODIFY",
    "PRIMARY",
    "REFERENCES",
    "RENAME",
    "RETURNING",
    "TRUNCATE",
    "UNIQUE",
    "USING",
];

fn text<'a>(s: &'a str, t: &Token) -> &'a str {
    &s[t.start..t.end]
}

fn is_word(s: &str, t: &Token, w: &str) -> bool {
    t.kind == Kind::Word && text(s, t).eq_ignore_ascii_case(w)
}

fn clause_word(s: &str, t: &Token) -> bool {
    t.kind == Kind::Word
        && CLAUSE_WORDS
            .iter()
            .any(|w| text(s, t).eq_ignore_ascii_case(w))
}

/// Runs `f` on the tokens of every reading of `s`; the first refusal wins,
/// naming the database when PostgreSQL's reading was fine.
fn for_each_dialect(
    s: &str,
    f: impl Fn(&str, &[Token]) -> Result<(), FragmentError>,
) -> Result<(), FragmentError> {
    if s.trim().is_empty() {
        return err(0, "it is empty");
    }
    let modes = Dialect::ALL
        .into_iter()
        .flat_map(|d| d.backend().lex_modes());
    for (i, m) in modes.enumerate() {
        let name = |mut e: FragmentError| {
            e.character = s.get(..e.offset).map_or(e.offset, |p| p.chars().count()) + 1;
            if i > 0 {
                e.reason = format!("{} (as {} reads it)", e.reason, m.d);
            }
            e
        };
        let tokens = crate::sql_lex::lex(s, *m)
            .map_err(|e| FragmentError {
                offset: e.offset,
                character: e.offset + 1,
                reason: e.reason,
            })
            .map_err(name)?;
        f(s, &tokens).map_err(name)?;
    }
    Ok(())
}

/// One column type: a name (words, quoted names, `schema.name`), an
/// optional parenthesised argument list (`numeric(12, 2)`, `enum('a','b')`),
/// array brackets and modifier words (`UNSIGNED`, `WITH TIME ZONE`,
/// `CHARACTER SET utf8mb4`, `COLLATE "C"`).
pub fn check_type(s: &str) -> Result<(), FragmentError> {
    for_each_dialect(s, |s, tokens| {
        let first = &tokens[0];
        if !matches!(first.kind, Kind::Word | Kind::Quoted) {
            return err(first.start, "a type starts with its name");
        }
        let mut prev: Option<&Token> = None;
        for t in tokens.iter().filter(|t| t.depth == 0) {
            match t.kind {
                Kind::Word if is_word(s, t, "NOT") || is_word(s, t, "NULL") => {
                    return err(
                        t.start,
                        format!("`{}` is not part of a type: nullability comes from the field (`Option<T>`)", text(s, t)),
                    )
                }
                Kind::Word if is_word(s, t, "AS") || is_word(s, t, "ON") => {
                    return err(t.start, format!("`{}` is not part of a type", text(s, t)));
                }
                // `SET` is the MySQL type `set(..)` or `CHARACTER SET x`.
                Kind::Word if is_word(s, t, "SET") => {
                    let after_character = prev.is_some_and(|p| is_word(s, p, "CHARACTER"));
                    if !after_character && prev.is_some() {
                        return err(t.start, "`SET` is not part of a type here");
                    }
                }
                Kind::Word if clause_word(s, t) => {
                    return err(t.start, format!("`{}` is not part of a type", text(s, t)));
                }
                Kind::Word | Kind::Quoted | Kind::Dot | Kind::Open | Kind::Close => {}
                Kind::Number if prev.is_some_and(|p| text(s, p) == "[") => {}
                Kind::Symbol if matches!(text(s, t), "[" | "]") => {}
                Kind::Comma => {
                    return err(
                        t.start,
                        "`,` outside parentheses would start another clause; a type has one name and its arguments in `( )`",
                    )
                }
                _ => {
                    return err(
                        t.start,
                        format!("`{}` is not part of a type", text(s, t)),
                    )
                }
            }
            prev = Some(t);
        }
        Ok(())
    })
}

/// Tokens of an expression that are fine at the top level, and the
/// `NULL` rule: `x IS [NOT] NULL`, `DEFAULT NULL`, `THEN NULL`, an operand
/// after an operator, but not `1 NOT NULL` / `1 NULL` after a complete
/// value, which a column definition reads as its nullability.
fn check_expression_tokens(
    s: &str,
    tokens: &[Token],
    allow_comma: bool,
) -> Result<(), FragmentError> {
    let top: Vec<&Token> = tokens.iter().filter(|t| t.depth == 0).collect();
    for (i, t) in top.iter().enumerate() {
        match t.kind {
            Kind::Comma if !allow_comma => {
                return err(
                    t.start,
                    "`,` outside parentheses would start another clause; an expression is one value",
                )
            }
            Kind::Word if clause_word(s, t) => {
                return err(
                    t.start,
                    format!(
                        "`{}` outside parentheses would start another clause; an expression is one value",
                        text(s, t)
                    ),
                )
            }
            Kind::Word if is_word(s, t, "NULL") && i > 0 => {
                let p = top[i - 1];
                let ok = match p.kind {
                    Kind::Symbol | Kind::Open | Kind::Comma => true,
                    Kind::Word => {
                        let pw = text(s, p).to_ascii_uppercase();
                        match pw.as_str() {
                            "IS" | "THEN" | "ELSE" | "WHEN" | "AND" | "OR" | "LIKE" | "FROM"
                            | "IN" | "SELECT" | "COALESCE" => true,
                            "NOT" => i >= 2 && is_word(s, top[i - 2], "IS"),
                            _ => false,
                        }
                    }
                    _ => false,
                };
                if !ok {
                    return err(
                        t.start,
                        "`NULL` after a complete value would set the column's nullability; nullability comes from the field (`Option<T>`)",
                    );
                }
            }
            _ => {}
        }
    }
    Ok(())
}

/// One SQL expression, as a default (`CURRENT_TIMESTAMP`, `(now() +
/// interval '1 day')`) or a check (`price > 0 AND x IS NOT NULL`).
pub fn check_expression(s: &str) -> Result<(), FragmentError> {
    for_each_dialect(s, |s, tokens| check_expression_tokens(s, tokens, false))
}

/// A backfill's `set`: `a = expr, b = expr` (commas between assignments).
pub fn check_assignments(s: &str) -> Result<(), FragmentError> {
    for_each_dialect(s, |s, tokens| {
        for t in tokens.iter().filter(|t| t.depth == 0) {
            for w in ["WHERE", "FROM", "ORDER", "LIMIT", "JOIN", "UNION"] {
                if is_word(s, t, w) {
                    return err(
                        t.start,
                        format!("`{}` outside parentheses would end the assignments; `set` is `column = expression, ...`", text(s, t)),
                    );
                }
            }
        }
        check_expression_tokens(s, tokens, true)
    })
}

/// A backfill's `where`: one condition (it is parenthesised in the
/// statements, so only the lexical rules and balance matter; top-level
/// clause words are refused as for any expression).
pub fn check_predicate(s: &str) -> Result<(), FragmentError> {
    for_each_dialect(s, |s, tokens| {
        for t in tokens.iter().filter(|t| t.depth == 0) {
            if t.kind == Kind::Comma {
                return err(
                    t.start,
                    "`,` outside parentheses would start another clause; `where` is one condition",
                );
            }
            for w in ["ORDER", "LIMIT", "UNION", "RETURNING"] {
                if is_word(s, t, w) {
                    return err(
                        t.start,
                        format!(
                            "`{}` outside parentheses would end the condition",
                            text(s, t)
                        ),
                    );
                }
            }
        }
        Ok(())
    })
}

/// Every fragment of `table` (column types, SQL defaults, checks), with the
/// field that holds a bad one: `column `x`: sql_type ...: at character 4: ...`.
pub fn check_table(table: &crate::schema::Table) -> Result<(), String> {
    for c in &table.columns {
        check_column(c).map_err(|e| format!("table `{}`, {e}", table.name))?;
    }
    for ck in &table.checks {
        check_expression(&ck.expr).map_err(|e| {
            format!(
                "table `{}`, check `{}`: `{}` is not one expression {e}",
                table.name, ck.name, ck.expr
            )
        })?;
    }
    Ok(())
}

/// The fragments of one column.
pub fn check_column(c: &crate::schema::Column) -> Result<(), String> {
    if let crate::schema::ColumnType::Custom(ty) = &c.ty {
        check_type(ty).map_err(|e| {
            format!(
                "column `{}`: type `sql:{ty}` is not one SQL type {e}",
                c.name
            )
        })?;
    }
    if let Some(crate::schema::DefaultValue::Sql(expr)) = &c.default {
        check_expression(expr).map_err(|e| {
            format!(
                "column `{}`: default `sql = {expr:?}` is not one expression {e}",
                c.name
            )
        })?;
    }
    // Copied into MySQL's DDL: only the spellings of CURRENT_TIMESTAMP.
    if let Some(e) = &c.on_update {
        if crate::schema::normalize_on_update(e).is_none() {
            return Err(format!(
                "column `{}`: `on_update = {e:?}` is not CURRENT_TIMESTAMP (optionally with a precision of 0 to 6), the only expression MySQL's ON UPDATE takes",
                c.name
            ));
        }
    }
    Ok(())
}

/// Every fragment of one operation (raw SQL and Rust steps have none).
pub fn check_operation(op: &crate::ops::Operation) -> Result<(), String> {
    use crate::ops::Operation as O;
    match op {
        O::CreateTable { table } | O::DropTable { table } => check_table(table),
        O::AddColumn { table, column } | O::DropColumn { table, column } => {
            check_column(column).map_err(|e| format!("table `{table}`, {e}"))
        }
        O::AlterColumn { table, from, to } => check_column(from)
            .and_then(|_| check_column(to))
            .map_err(|e| format!("table `{table}`, {e}")),
        O::AddCheck { table, check } | O::DropCheck { table, check } => {
            check_expression(&check.expr).map_err(|e| {
                format!(
                    "table `{table}`, check `{}`: `{}` is not one expression {e}",
                    check.name, check.expr
                )
            })
        }
        O::Backfill(b) => {
            let mut parts = vec![("set", &b.set, true), ("where", &b.predicate, false)];
            if let Some(r) = &b.reverse {
                parts.push(("reverse.set", &r.set, true));
                parts.push(("reverse.where", &r.predicate, false));
            }
            for (field, value, assignments) in parts {
                let res = if assignments {
                    check_assignments(value)
                } else {
                    check_predicate(value)
                };
                res.map_err(|e| {
                    let what = if assignments {
                        "is not a list of assignments"
                    } else {
                        "is not one condition"
                    };
                    format!("backfill of `{}`: `{field}` `{value}` {what} {e}", b.table)
                })?;
            }
            Ok(())
        }
        O::Archived(a) => {
            a.check()?;
            if let Some(crate::schema::DefaultValue::Sql(expr)) = &a.fill {
                check_expression(expr).map_err(|e| {
                    format!("archived step: `fill` `sql = {expr:?}` is not one expression {e}")
                })?;
            }
            check_operation(&a.step)
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests;

/// The statements of `sql` as `dialect` reads them (split at `;` outside
/// literals and comments, the first of its session modes), each trimmed.
/// For a client script that must send a multi-statement step one
/// statement at a time (MySQL's `PREPARE` takes one).
pub fn split_statements(sql: &str, dialect: crate::dialect::Dialect) -> Vec<String> {
    let Some(mode) = dialect.backend().lex_modes().first().copied() else {
        return vec![sql.trim().to_string()];
    };
    let tokens = crate::sql_lex::lex_script(sql, mode);
    crate::sql_lex::split_statements(&tokens)
        .into_iter()
        .filter_map(|s| {
            let (first, last) = (s.first()?, s.last()?);
            Some(sql[first.start..last.end].trim().to_string())
        })
        .collect()
}
