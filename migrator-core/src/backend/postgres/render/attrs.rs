//! PostgreSQL: identity options and comments, the parts of a column or
//! table that are not its type, nullability or default.

use super::D;
use crate::dialect::Statement;
use crate::schema::Column;

/// ` GENERATED {ALWAYS|BY DEFAULT} AS IDENTITY[ (START WITH x INCREMENT BY y)]` for
/// an auto-increment column, else nothing; options without
/// `auto_increment` are refused.
pub(super) fn identity_clause(c: &Column) -> Result<String, String> {
    let options = identity_options(c);
    if !c.auto_increment {
        if !options.is_empty() || c.identity_always {
            return Err(format!(
                "column `{}` has identity options but is not `auto_increment`; help: add `auto_increment` or remove them",
                c.name
            ));
        }
        return Ok(String::new());
    }
    let kind = identity_kind(c);
    Ok(if options.is_empty() {
        format!(" GENERATED {kind} AS IDENTITY")
    } else {
        format!(" GENERATED {kind} AS IDENTITY ({})", options.join(" "))
    })
}

/// `ALWAYS` or `BY DEFAULT`: whether an insert may give the value itself.
pub(super) fn identity_kind(c: &Column) -> &'static str {
    if c.identity_always {
        "ALWAYS"
    } else {
        "BY DEFAULT"
    }
}

/// `START WITH x`, `INCREMENT BY y`: the options the column names.
pub(super) fn identity_options(c: &Column) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(n) = c.identity_start {
        out.push(format!("START WITH {n}"));
    }
    if let Some(n) = c.identity_increment {
        out.push(format!("INCREMENT BY {n}"));
    }
    out
}

/// `COMMENT ON COLUMN t.c IS '..'` (or `IS NULL`): naturally idempotent.
pub(super) fn comment_on(table: &str, column: &str, comment: Option<&str>) -> Statement {
    Statement::new(format!(
        "COMMENT ON COLUMN {}.{} IS {}",
        D.ident(table),
        D.ident(column),
        comment.map_or_else(|| "NULL".to_string(), |c| D.string(c))
    ))
}

/// `COMMENT ON TABLE t IS '..'` (or `IS NULL`): naturally idempotent.
pub(super) fn table_comment(table: &str, comment: Option<&str>) -> Statement {
    Statement::new(format!(
        "COMMENT ON TABLE {} IS {}",
        D.ident(table),
        comment.map_or_else(|| "NULL".to_string(), |c| D.string(c))
    ))
}
