//! SQLite rendering (3.35+; the bundled library is newer).
//!
//! Contract (on top of the module contract in `dialect`):
//! - types: `smallint` SMALLINT, `integer` INTEGER, `bigint` BIGINT,
//!   `real` REAL, `double` DOUBLE, BOOLEAN, TEXT, VARCHAR(n), BLOB, DATE,
//!   TIME, TIMESTAMP, `timestamptz` TIMESTAMPTZ, `uuid` TEXT, `json` TEXT:
//!   the names from which diesel's schema inference reads back the model's
//!   Rust type (`i16`, `i32`, `i64`, `f32`, `f64`); the integer names all
//!   get INTEGER affinity, DOUBLE gets REAL, so the storage is the same as
//!   with INTEGER and REAL. The exception is the rowid alias: the integer
//!   column that is the whole primary key of a rowid table is declared
//!   exactly `INTEGER` whatever its width (only that spelling makes it the
//!   rowid; diesel's inference reads it as `i32` unless its
//!   `sqlite_integer_primary_key_is_bigint` option is on). A `STRICT` table
//!   takes only INT, INTEGER, REAL, TEXT, BLOB and ANY (`strict_type`).
//!   Databases migrated before these names keep INTEGER and REAL, which
//!   `verify` accepts as the same storage. SQLite accepts any type name and derives a
//!   column *affinity* from it; names are kept where the affinity they get is
//!   harmless (the date/time names and BOOLEAN get NUMERIC, which only turns
//!   text that is a well-formed number into a number), and replaced by TEXT
//!   where NUMERIC affinity would rewrite values: a JSON document `1e2` would
//!   be stored as the REAL 100.0, a UUID written as 32 digits would lose
//!   precision. TIMESTAMPTZ keeps the distinction from TIMESTAMP visible to
//!   introspection with the same affinity;
//! - `auto_increment` on the single-column INTEGER primary key is
//!   `PRIMARY KEY AUTOINCREMENT` in the column definition (and the table gets
//!   no separate PRIMARY KEY clause); SQLite has no other auto-increment, so
//!   elsewhere the flag has no SQLite spelling and is ignored;
//! - unique constraints are unique indexes (`CREATE UNIQUE INDEX`), in
//!   `CREATE TABLE` as in `AddUnique`/`DropUnique`: an inline constraint could
//!   only be dropped by rebuilding the table;
//! - idempotency: `IF [NOT] EXISTS` on CREATE/DROP TABLE and CREATE/DROP
//!   INDEX; renames, ADD COLUMN, DROP COLUMN and every step of a rebuild
//!   carry a `skip_if` on `sqlite_master` / `pragma_table_info` that
//!   recognises the effect in the spelling rendered here (so it holds for
//!   tables migrator created, not for hand-written DDL that spells the same
//!   thing differently);
//! - what `ALTER TABLE` cannot do (alter a column, change the primary key,
//!   add or drop a foreign key or check, drop a column something depends on,
//!   add a NOT NULL column without a constant default) is a table rebuild,
//!   see [`rebuild`].

pub(super) mod guards;
mod rebuild;

use crate::backend::common::{self, TableClauses};
use crate::dialect::{Dialect, RenderError, Statement};
use crate::ops::Operation;
use crate::schema::{Column, ColumnType, DefaultValue, Schema, Table};
use guards::{column_query, effect_present, not_exists, table_query, table_where};
use rebuild::rebuild;

pub(super) const D: Dialect = Dialect::Sqlite;

/// Prefix of the scratch table a rebuild copies into.
pub const REBUILD_PREFIX: &str = "_migrator_new_";

/// The temporary table (per connection, gone with it) where a rebuild keeps
/// the definitions of the table's triggers from the drop of the old table
/// to their recreation on the new one.
pub const SAVED_TRIGGERS: &str = "_migrator_saved_triggers";

pub(crate) fn render(op: &Operation, before: &Schema) -> Result<Vec<Statement>, RenderError> {
    use Operation::*;
    let q = |n: &str| D.ident(n);
    let err = |m: String| common::unsupported(op, m);
    Ok(match op {
        CreateTable { table } => create_table(table).map_err(err)?,
        DropTable { table } => vec![Statement::new(format!(
            "DROP TABLE IF EXISTS {}",
            q(&table.name)
        ))],
        RenameTable { from, to } => {
            vec![
                Statement::new(format!("ALTER TABLE {} RENAME TO {}", q(from), q(to)))
                    .skip_if(not_exists(&table_query(from))),
            ]
        }
        AddColumn { table, column } => {
            if add_column_needs_rebuild(column) {
                let t = common::table(op, before, table)?;
                let after = common::table_after(op, before, table)?;
                let done = table_where(
                    table,
                    &format!("EXISTS ({})", column_query(table, &column.name)),
                );
                rebuild(t, &after, &done).map_err(err)?
            } else {
                let strict = before.table(table).is_some_and(|t| t.strict);
                vec![Statement::new(format!(
                    "ALTER TABLE {} ADD COLUMN {}",
                    q(table),
                    column_def(column, false, false, strict).map_err(err)?
                ))
                .skip_if(column_query(table, &column.name))]
            }
        }
        DropColumn { table, column } => {
            let t = common::table(op, before, table)?;
            if is_referenced(t, &column.name) {
                let mut after = common::table_after(op, before, table)?;
                drop_dependents(&mut after, &column.name);
                let done = table_where(
                    table,
                    &format!("NOT EXISTS ({})", column_query(table, &column.name)),
                );
                rebuild(t, &after, &done).map_err(err)?
            } else {
                vec![Statement::new(format!(
                    "ALTER TABLE {} DROP COLUMN {}",
                    q(table),
                    q(&column.name)
                ))
                .skip_if(not_exists(&column_query(table, &column.name)))]
            }
        }
        // RENAME COLUMN (3.25+) also rewrites the column's indexes, checks
        // and foreign keys, including those in other tables that point at it.
        RenameColumn { table, from, to } => vec![Statement::new(format!(
            "ALTER TABLE {} RENAME COLUMN {} TO {}",
            q(table),
            q(from),
            q(to)
        ))
        .skip_if(not_exists(&column_query(table, from)))],
        // SQLite stores no comments (README, Attribute reference).
        SetTableComment { .. } => Vec::new(),
        // SQLite keeps a key's name only in the table's text, where no
        // query can use it.
        SetPrimaryKeyName { .. } => Vec::new(),
        // SQLite stores no comments: a change of comment alone changes
        // nothing in the database (README, Attribute reference).
        AlterColumn { from, to, .. }
            if *from
                == (Column {
                    comment: from.comment.clone(),
                    ..to.clone()
                }) =>
        {
            common::refuse_mysql_only(D, to).map_err(err)?;
            common::refuse_postgres_only(D, to).map_err(err)?;
            Vec::new()
        }
        AlterColumn { table, .. }
        | SetPrimaryKey { table, .. }
        | AddForeignKey { table, .. }
        | DropForeignKey { table, .. }
        | AddCheck { table, .. }
        | DropCheck { table, .. } => {
            let t = common::table(op, before, table)?;
            let after = common::table_after(op, before, table)?;
            let done = effect_present(op, &after).map_err(err)?;
            rebuild(t, &after, &done).map_err(err)?
        }
        CreateIndex { table, index } => vec![Statement::new(common::create_index_sql(
            D,
            false,
            true,
            &index.name,
            table,
            &index.columns,
        ))],
        AddUnique { table, unique } => {
            common::refuse_nulls_not_distinct(D, table, unique).map_err(err)?;
            vec![Statement::new(common::create_index_sql(
                D,
                true,
                true,
                &unique.name,
                table,
                &unique.columns,
            ))]
        }
        DropIndex { index, .. } => vec![drop_index(&index.name)],
        DropUnique { unique, .. } => vec![drop_index(&unique.name)],
        Sql(raw) => common::raw_sql(D, raw)?,
        Rust { .. } => Vec::new(),
        Backfill(b) => crate::dialect::backfill::render(D, op, b, before)?,
        // `dialect::render_op` renders these (dialect/archive.rs).
        Archived(_) => return Err(err("an archived step is rendered by its dialect".into())),
    })
}

/// The SQLite spelling of a portable type; see the module docs.
pub(crate) fn column_type(ty: &ColumnType) -> String {
    match ty {
        ColumnType::SmallInt => "SMALLINT".into(),
        ColumnType::Integer => "INTEGER".into(),
        ColumnType::BigInt => "BIGINT".into(),
        ColumnType::Real => "REAL".into(),
        ColumnType::Double => "DOUBLE".into(),
        ColumnType::Boolean => "BOOLEAN".into(),
        ColumnType::Text | ColumnType::Uuid | ColumnType::Json => "TEXT".into(),
        ColumnType::Varchar(n) => format!("VARCHAR({n})"),
        ColumnType::Blob => "BLOB".into(),
        ColumnType::Date => "DATE".into(),
        ColumnType::Time => "TIME".into(),
        ColumnType::Timestamp => "TIMESTAMP".into(),
        ColumnType::TimestampTz => "TIMESTAMPTZ".into(),
        ColumnType::Custom(s) => s.trim().to_string(),
    }
}

/// The types a `STRICT` table's columns may have.
const STRICT_TYPES: [&str; 6] = ["INT", "INTEGER", "REAL", "TEXT", "BLOB", "ANY"];

/// A column's type in a `STRICT` table: the strict type of the affinity
/// [`column_type`] gives (`BOOLEAN` is `INTEGER`; `VARCHAR(n)`, dates and
/// times are `TEXT`, which is how SQLite stores them anyway). A custom type
/// must be one of the strict types.
pub(crate) fn strict_type(ty: &ColumnType) -> Result<String, String> {
    Ok(match ty {
        ColumnType::SmallInt | ColumnType::Integer | ColumnType::BigInt | ColumnType::Boolean => {
            "INTEGER".into()
        }
        ColumnType::Real | ColumnType::Double => "REAL".into(),
        ColumnType::Text
        | ColumnType::Uuid
        | ColumnType::Json
        | ColumnType::Varchar(_)
        | ColumnType::Date
        | ColumnType::Time
        | ColumnType::Timestamp
        | ColumnType::TimestampTz => "TEXT".into(),
        ColumnType::Blob => "BLOB".into(),
        ColumnType::Custom(s) => {
            let up = s.trim().to_ascii_uppercase();
            if !STRICT_TYPES.contains(&up.as_str()) {
                return Err(format!(
                    "the type `{}` cannot be a column type of a STRICT table, which takes only {}\nhelp: give the column one of those types (`sql_type = \"TEXT\"`), or remove `strict`",
                    s.trim(),
                    STRICT_TYPES.join(", ")
                ));
            }
            up
        }
    })
}

/// The type column `c` of `t` is declared with: `INTEGER` for the rowid
/// alias ([`rowid_key`]), else [`column_type`], or in a `STRICT` table
/// [`strict_type`] (a type a STRICT table refuses is refused when the
/// table is created; here it stays as written).
pub(crate) fn declared_type(t: &Table, c: &Column) -> String {
    if rowid_key(t) == Some(c.name.as_str()) {
        "INTEGER".into()
    } else if t.strict {
        strict_type(&c.ty).unwrap_or_else(|_| column_type(&c.ty))
    } else {
        column_type(&c.ty)
    }
}

/// Whether `ty` is one of the portable integer types (or a stated type
/// spelled `INTEGER`), which can be the rowid alias.
fn is_integer(ty: &ColumnType) -> bool {
    match ty {
        ColumnType::SmallInt | ColumnType::Integer | ColumnType::BigInt => true,
        ColumnType::Custom(s) => s.trim().eq_ignore_ascii_case("INTEGER"),
        _ => false,
    }
}

/// The column that is the rowid alias: the whole primary key of a table
/// with a rowid, of an integer type. It is declared exactly `INTEGER`.
pub(crate) fn rowid_key(t: &Table) -> Option<&str> {
    if t.without_rowid {
        return None;
    }
    match t.primary_key.as_slice() {
        [only] => t
            .column(only)
            .filter(|c| is_integer(&c.ty))
            .map(|c| c.name.as_str()),
        _ => None,
    }
}

/// The text after `DEFAULT`. SQLite takes a literal, one of the
/// `CURRENT_*` keywords, or any other expression in parentheses.
pub(crate) fn default_sql(d: &DefaultValue) -> Result<String, String> {
    match d {
        DefaultValue::Sql(e)
            if common::is_keyword_call(
                e,
                &[
                    "CURRENT_TIMESTAMP",
                    "CURRENT_DATE",
                    "CURRENT_TIME",
                    "NULL",
                    "TRUE",
                    "FALSE",
                ],
                false,
            ) =>
        {
            Ok(e.trim().to_string())
        }
        // `value` parenthesises expressions.
        other => common::value(D, other),
    }
}

/// `"c" TYPE [PRIMARY KEY AUTOINCREMENT] [NOT NULL] [DEFAULT x]`, the type
/// as a `strict` table takes it; `rowid`: the column is the rowid alias,
/// declared `INTEGER`.
fn column_def(
    c: &Column,
    autoincrement_pk: bool,
    rowid: bool,
    strict: bool,
) -> Result<String, String> {
    common::refuse_mysql_only(D, c)?;
    common::refuse_postgres_only(D, c)?;
    let default = c.default.as_ref().map(default_sql).transpose()?;
    let parts = common::ColumnParts {
        after_type: if autoincrement_pk {
            " PRIMARY KEY AUTOINCREMENT"
        } else {
            ""
        },
        ..Default::default()
    };
    let ty = if rowid {
        "INTEGER".to_string()
    } else if strict {
        strict_type(&c.ty)?
    } else {
        column_type(&c.ty)
    };
    Ok(common::column_def(D, c, &ty, default, parts))
}

/// The column that is declared `INTEGER PRIMARY KEY AUTOINCREMENT`, if any:
/// the rowid alias ([`rowid_key`]), auto-incremented.
pub(super) fn autoincrement_pk(t: &Table) -> Option<&str> {
    rowid_key(t).filter(|name| t.column(name).is_some_and(|c| c.auto_increment))
}

/// `CREATE TABLE [IF NOT EXISTS] <name>` with `t`'s definition.
fn create_table_sql(t: &Table, name: &str, if_not_exists: bool) -> Result<String, String> {
    common::refuse_table_collation(D, t)?;
    for u in &t.uniques {
        common::refuse_nulls_not_distinct(D, &t.name, u)?;
    }
    if t.without_rowid {
        if t.primary_key.is_empty() {
            return Err(format!(
                "table `{}` is WITHOUT ROWID but has no primary key, which SQLite requires of it\nhelp: give it a primary key, or remove `without_rowid`",
                t.name
            ));
        }
        if let Some(c) = t.columns.iter().find(|c| c.auto_increment) {
            return Err(format!(
                "column `{}` of `{}` is `auto_increment`, which a WITHOUT ROWID table cannot have: SQLite numbers rows only through the rowid\nhelp: remove `auto_increment`, or remove `without_rowid`",
                c.name, t.name
            ));
        }
    }
    let pk = autoincrement_pk(t);
    if let Some(c) = t
        .columns
        .iter()
        .find(|c| c.auto_increment && t.primary_key == [c.name.clone()] && pk.is_none())
    {
        return Err(format!(
            "column `{}` of `{}` is `auto_increment` with the type `{}`: SQLite generates values only for an `INTEGER PRIMARY KEY`\nhelp: use `i64` without `sql_type` for a project that runs on SQLite",
            c.name,
            t.name,
            column_type(&c.ty)
        ));
    }
    let defs = t
        .columns
        .iter()
        .map(|c| {
            let name = Some(c.name.as_str());
            column_def(c, pk == name, rowid_key(t) == name, t.strict)
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("table `{}`: {e}", t.name))?;
    let options: Vec<&str> = [("STRICT", t.strict), ("WITHOUT ROWID", t.without_rowid)]
        .into_iter()
        .filter_map(|(o, on)| on.then_some(o))
        .collect();
    let sql = common::create_table_sql(
        D,
        name,
        t,
        defs,
        TableClauses {
            if_not_exists,
            primary_key: pk.is_none(),
            uniques: false,
        },
    );
    Ok(if options.is_empty() {
        sql
    } else {
        format!("{sql} {}", options.join(", "))
    })
}

/// `CREATE [UNIQUE] INDEX IF NOT EXISTS` for every unique constraint and
/// index of `t`.
fn index_statements(t: &Table) -> Vec<Statement> {
    let uniques = t.uniques.iter().map(|u| (true, &u.name, &u.columns));
    let indexes = t.indexes.iter().map(|i| (false, &i.name, &i.columns));
    uniques
        .chain(indexes)
        .map(|(unique, name, cols)| {
            Statement::new(common::create_index_sql(
                D, unique, true, name, &t.name, cols,
            ))
        })
        .collect()
}

fn create_table(t: &Table) -> Result<Vec<Statement>, String> {
    let mut out = vec![Statement::new(create_table_sql(t, &t.name, true)?)];
    out.extend(index_statements(t));
    Ok(out)
}

fn drop_index(name: &str) -> Statement {
    Statement::new(format!("DROP INDEX IF EXISTS {}", D.ident(name)))
}

/// `ALTER TABLE ADD COLUMN` refuses a NOT NULL column without a default, and
/// any default that is not a constant (`CURRENT_TIMESTAMP`, or any
/// parenthesised expression).
fn add_column_needs_rebuild(c: &Column) -> bool {
    matches!(c.default, Some(DefaultValue::Sql(_))) || (!c.nullable && c.default.is_none())
}

/// True when `ALTER TABLE DROP COLUMN` would refuse to drop `column` of `t`:
/// it is in the primary key, an index, a unique constraint or a foreign key,
/// or a check mentions it.
fn is_referenced(t: &Table, column: &str) -> bool {
    let has = |cols: &[String]| cols.iter().any(|c| c == column);
    has(&t.primary_key)
        || t.indexes.iter().any(|i| has(&i.columns))
        || t.uniques.iter().any(|u| has(&u.columns))
        || t.foreign_keys.iter().any(|f| has(&f.columns))
        || t.checks.iter().any(|c| mentions(&c.expr, column))
}

/// Removes what cannot survive without `column`, as PostgreSQL's DROP COLUMN
/// does: indexes, unique constraints, foreign keys and the primary key over
/// it, and checks that mention it.
fn drop_dependents(t: &mut Table, column: &str) {
    let has = |cols: &[String]| cols.iter().any(|c| c == column);
    if has(&t.primary_key) {
        t.primary_key.clear();
    }
    t.indexes.retain(|i| !has(&i.columns));
    t.uniques.retain(|u| !has(&u.columns));
    t.foreign_keys.retain(|f| !has(&f.columns));
    t.checks.retain(|c| !mentions(&c.expr, column));
}

/// True when the SQL expression `expr` uses the identifier `name`, bare
/// (case-insensitively, as SQLite compares names) or quoted with `"`, `` ` ``
/// or `[]`. String literals are skipped. Errs towards "yes", which only
/// costs a rebuild.
fn mentions(expr: &str, name: &str) -> bool {
    let chars: Vec<char> = expr.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\'' | '"' | '`' | '[' => {
                let close = if c == '[' { ']' } else { c };
                let mut word = String::new();
                i += 1;
                while i < chars.len() {
                    if chars[i] == close {
                        // A doubled quote is an escaped quote.
                        if close != ']' && chars.get(i + 1) == Some(&close) {
                            word.push(close);
                            i += 2;
                            continue;
                        }
                        break;
                    }
                    word.push(chars[i]);
                    i += 1;
                }
                i += 1;
                if c != '\'' && word.eq_ignore_ascii_case(name) {
                    return true;
                }
            }
            c if c.is_alphanumeric() || c == '_' || c == '$' => {
                let start = i;
                while i < chars.len()
                    && (chars[i].is_alphanumeric() || chars[i] == '_' || chars[i] == '$')
                {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                if word.eq_ignore_ascii_case(name) {
                    return true;
                }
            }
            _ => i += 1,
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mentions_finds_identifiers_not_substrings() {
        assert!(mentions("priority IN ('low', 'high')", "priority"));
        assert!(mentions("\"Priority\" <> ''", "priority"));
        assert!(mentions("length([a b]) > 0", "a b"));
        assert!(mentions("\"we\"\"ird\" > 0", "we\"ird"));
        assert!(!mentions("priority_level > 0", "priority"));
        assert!(!mentions("x = 'priority'", "priority"));
    }
}
