//! MySQL/MariaDB: the column attributes besides type, nullability and
//! default (collation, `ON UPDATE`, comment) and the one `MODIFY COLUMN`
//! that restates them all.

use super::{column_type, default_sql, null_default, D};
use crate::dialect::Statement;
use crate::schema::{Column, ColumnType, DefaultValue};

pub(super) fn collate(name: &str) -> String {
    format!(" COLLATE {}", D.ident(name))
}

/// The `ON UPDATE` expression for a column of type `ty`: the server wants
/// the precision of the type (`DATETIME(6)` takes `CURRENT_TIMESTAMP(6)`),
/// as for a default.
pub(crate) fn on_update_sql(expr: &str, ty: &ColumnType) -> String {
    // Anything else was refused by the readers (`sql_fragment`); a schema
    // built in code gets the bare keyword rather than its text.
    let Some(expr) = crate::schema::normalize_on_update(expr) else {
        return "CURRENT_TIMESTAMP".to_string();
    };
    let expr = expr.as_str();
    match default_sql(&DefaultValue::Sql(expr.to_string()), ty) {
        Ok(text) if !text.starts_with('(') => text,
        _ => expr.trim().to_string(),
    }
}

pub(super) fn on_update(expr: &str) -> String {
    format!(" ON UPDATE {}", expr.trim())
}

pub(super) fn comment(text: &str) -> String {
    format!(" COMMENT {}", D.string(text))
}

/// `MODIFY COLUMN` restates the whole column: an attribute it leaves out
/// is reset. The collation, `ON UPDATE` and comment are the model's
/// (`to`) when it names them, and left out (the default) when the model
/// drops one `from` had; when neither names one, the live column's are read
/// from `information_schema.columns` when it runs and restated (an
/// [`Statement::each_row`] query returning the one statement), so a
/// snapshot written before these attributes were modelled loses nothing:
///
/// - its character set and collation, when the new type is a string type
///   whose `sql_type` does not name its own (a `utf8mb3_bin` password
///   column stays case-sensitive);
/// - `ON UPDATE ...` (MariaDB and MySQL keep it in `extra`);
/// - its comment.
///
/// Each part is a scalar subquery wrapped in `COALESCE`, so the query
/// returns its row even when the column is missing, and the server then
/// refuses the `MODIFY` by name instead of the step doing nothing.
pub(super) fn modify_keeping_live_attributes(
    table: &str,
    from: &Column,
    to: &Column,
    algorithm: &str,
) -> Result<Statement, String> {
    change_keeping_live_attributes(table, &to.name, from, to, algorithm)
}

/// [`modify_keeping_live_attributes`] of the column now named `old_name`,
/// renamed to `to.name` by the same statement (`CHANGE COLUMN`) when the
/// names differ; the live attributes are read from `old_name`.
pub(super) fn change_keeping_live_attributes(
    table: &str,
    old_name: &str,
    from: &Column,
    to: &Column,
    algorithm: &str,
) -> Result<Statement, String> {
    let live = |expr: &str| {
        format!(
            "COALESCE((SELECT {expr} FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = {} AND column_name = {}), '')",
            D.string(table),
            D.string(old_name)
        )
    };
    let verb = if old_name == to.name {
        "MODIFY COLUMN".to_string()
    } else {
        format!("CHANGE COLUMN {}", D.ident(old_name))
    };
    // The model's value, nothing (dropped), or the live one.
    let part = |model: &Option<String>,
                was: &Option<String>,
                spell: fn(&str) -> String,
                live_expr: Option<&str>|
     -> Option<String> {
        match (model, was) {
            (Some(v), _) => Some(D.string(&spell(v))),
            (None, Some(_)) => None,
            (None, None) => live_expr.map(live),
        }
    };
    let (nulls_default, auto_increment) = null_default(to)?;
    let mut parts = vec![D.string(&format!(
        "ALTER TABLE {} {verb} {} {}",
        D.ident(table),
        D.ident(&to.name),
        column_type(&to.ty)
    ))];
    parts.extend(part(
        &to.collation,
        &from.collation,
        collate,
        takes_collation(&to.ty).then_some(
            "IF(character_set_name IS NULL, '', CONCAT(' CHARACTER SET ', character_set_name, ' COLLATE ', collation_name))",
        ),
    ));
    parts.push(D.string(&nulls_default));
    let to_on_update = to.on_update.as_deref().map(|e| on_update_sql(e, &to.ty));
    parts.extend(part(
        &to_on_update,
        &from.on_update,
        on_update,
        Some("IF(LOCATE('on update', LOWER(extra)) = 0, '', CONCAT(' ', SUBSTRING(extra, LOCATE('on update', LOWER(extra)))))"),
    ));
    if auto_increment {
        parts.push(D.string(" AUTO_INCREMENT"));
    }
    parts.extend(part(
        &to.comment,
        &from.comment,
        comment,
        Some("IF(column_comment = '', '', CONCAT(' COMMENT ', QUOTE(column_comment)))"),
    ));
    parts.push(D.string(algorithm));
    Ok(Statement::each_row(format!(
        "SELECT CONCAT({}) AS s",
        parts.join(", ")
    )))
}

/// Whether a column of type `ty` has a character set and collation that a
/// `MODIFY` must restate: the string types, unless a custom type already
/// names its own.
fn takes_collation(ty: &ColumnType) -> bool {
    match ty {
        ColumnType::Text | ColumnType::Varchar(_) | ColumnType::Uuid => true,
        ColumnType::Custom(s) => {
            let up = s.trim().to_ascii_uppercase();
            let names_its_own =
                up.contains("COLLATE") || up.contains("CHARACTER SET") || up.contains("CHARSET");
            let string_type = [
                "CHAR",
                "VARCHAR",
                "TINYTEXT",
                "TEXT",
                "MEDIUMTEXT",
                "LONGTEXT",
                "ENUM",
                "SET",
                "NCHAR",
                "NVARCHAR",
                "NATIONAL",
            ]
            .iter()
            .any(|t| {
                up.strip_prefix(t)
                    .is_some_and(|rest| rest.is_empty() || rest.starts_with(['(', ' ']))
            });
            string_type && !names_its_own
        }
        _ => false,
    }
}
