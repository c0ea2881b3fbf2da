//! Rendering pieces the three dialects share.
//!
//! Contract: only spelling that is identical in PostgreSQL, SQLite and
//! MySQL/MariaDB (or differs in one small, documented way, passed in as the
//! [`Dialect`]) lives here: identifier lists, literal values, the constraint
//! clauses, the `CREATE TABLE` skeleton, index statements and raw SQL steps.
//! Anything a reader would look for under one database (its type names, its
//! `ALTER TABLE` forms, its catalog guards) stays in that database's module.
//!
//! Every helper quotes identifiers with [`Dialect::ident`] and string literals
//! with [`Dialect::string`]; nothing here pastes a user-supplied name into SQL
//! unquoted. SQL *expressions* the user wrote on purpose (`default_sql`,
//! `check`, raw SQL steps, `sql_type`) are copied verbatim: they are code, not
//! data.

use crate::dialect::{Dialect, RenderError, Statement};
use crate::ops::{Operation, RawSql, ReplayError};
use crate::schema::{Check, Column, DefaultValue, ForeignKey, Schema, Table, Unique};

/// A [`RenderError::Unsupported`] naming `op`.
pub(crate) fn unsupported(op: &Operation, message: impl Into<String>) -> RenderError {
    RenderError::Unsupported {
        op: op.to_string(),
        message: message.into(),
    }
}

fn replay_error(op: &Operation, source: ReplayError) -> RenderError {
    RenderError::Replay {
        op: op.to_string(),
        source,
    }
}

/// The table `name` of the schema before `op`, or the same error replay
/// would give.
pub(crate) fn table<'a>(
    op: &Operation,
    before: &'a Schema,
    name: &str,
) -> Result<&'a Table, RenderError> {
    before
        .table(name)
        .ok_or_else(|| replay_error(op, ReplayError(format!("table `{name}` does not exist"))))
}

/// The table `name` as it is after `op` runs on `before` (replaying `op`, so
/// an operation that does not fit the schema is refused here too).
pub(crate) fn table_after(
    op: &Operation,
    before: &Schema,
    name: &str,
) -> Result<Table, RenderError> {
    let mut after = before.clone();
    op.apply(&mut after).map_err(|e| replay_error(op, e))?;
    after
        .tables
        .remove(name)
        .ok_or_else(|| replay_error(op, ReplayError(format!("table `{name}` does not exist"))))
}

/// `"a", "b"`: a quoted, comma-separated column list.
pub(crate) fn idents(d: Dialect, names: &[String]) -> String {
    names
        .iter()
        .map(|n| d.ident(n))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A default as a value usable wherever an expression is (`UPDATE .. SET c =
/// <value>`, `COALESCE(c, <value>)`). Literals are spelled per dialect; an SQL
/// expression is parenthesised so it binds as one operand whatever it holds.
///
/// Booleans are `TRUE`/`FALSE` except on SQLite, which stores them as 1/0 and
/// only learnt the keywords in 3.23. Floats use Rust's shortest round-trip
/// form (`0.5`, `1e300`), which all three parse; NaN and infinities have no
/// SQL literal and are refused.
pub(crate) fn value(d: Dialect, v: &DefaultValue) -> Result<String, String> {
    Ok(match v {
        DefaultValue::Int(i) => i.to_string(),
        DefaultValue::Float(f) if f.is_finite() => format!("{f:?}"),
        DefaultValue::Float(f) => {
            return Err(format!(
                "the default `{f}` has no SQL literal; help: use a finite number or `default_sql`"
            ))
        }
        DefaultValue::Bool(b) => d.backend().bool_literal(*b).into(),
        DefaultValue::Str(s) => d.string(s),
        DefaultValue::Sql(e) => format!("({})", e.trim()),
    })
}

/// True when `expr` is, ignoring case and surrounding blanks, one of
/// `keywords`, optionally followed by `()` or a precision such as `(6)` when
/// `allow_parens` is set. Used to tell `CURRENT_TIMESTAMP`-like defaults,
/// which some dialects only accept bare, from general expressions.
pub(crate) fn is_keyword_call(expr: &str, keywords: &[&str], allow_parens: bool) -> bool {
    let e = expr.trim().to_ascii_uppercase();
    let (name, rest) = match e.find('(') {
        Some(i) => (e[..i].trim_end(), &e[i..]),
        None => (e.as_str(), ""),
    };
    if !keywords.contains(&name) {
        return false;
    }
    if rest.is_empty() {
        return true;
    }
    allow_parens
        && rest
            .strip_prefix('(')
            .and_then(|r| r.strip_suffix(')'))
            .is_some_and(|inner| inner.trim().chars().all(|c| c.is_ascii_digit()))
}

/// `CONSTRAINT "uq" UNIQUE [NULLS NOT DISTINCT] ("a", "b")`
pub(crate) fn unique_clause(d: Dialect, u: &Unique) -> String {
    format!(
        "CONSTRAINT {} UNIQUE {}({})",
        d.ident(&u.name),
        if u.nulls_not_distinct {
            "NULLS NOT DISTINCT "
        } else {
            ""
        },
        idents(d, &u.columns)
    )
}

/// A table's default collation is MySQL's: refused elsewhere, naming the
/// table and the fix.
pub(crate) fn refuse_table_collation(d: Dialect, t: &Table) -> Result<(), String> {
    match &t.collation {
        Some(c) => Err(format!(
            "table `{}` has the default collation `{c}`, which only MySQL/MariaDB have; {d} cannot create it\nhelp: set `collation` on its columns instead, or declare the project's dialects (`dialects = [\"mysql\"]` in migrator.toml)",
            t.name
        )),
        None => Ok(()),
    }
}

/// The refusal of `UNIQUE NULLS NOT DISTINCT` (PostgreSQL 15+ only) on the
/// other dialects.
pub(crate) fn refuse_nulls_not_distinct(d: Dialect, table: &str, u: &Unique) -> Result<(), String> {
    if u.nulls_not_distinct {
        return Err(format!(
            "unique constraint `{}` on `{table}` is NULLS NOT DISTINCT, which {} does not have (it always treats NULLs as distinct); help: remove `nulls = \"not distinct\"`, or make the columns NOT NULL",
            u.name,
            d.name()
        ));
    }
    Ok(())
}

/// `CONSTRAINT "fk" FOREIGN KEY ("a") REFERENCES "t" ("id") [ON DELETE ..]
/// [ON UPDATE ..]`; `NO ACTION`, the default everywhere, is left out.
pub(crate) fn foreign_key_clause(d: Dialect, fk: &ForeignKey) -> String {
    let mut s = format!(
        "CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {} ({})",
        d.ident(&fk.name),
        idents(d, &fk.columns),
        d.ident(&fk.ref_table),
        idents(d, &fk.ref_columns)
    );
    if !fk.on_delete.is_default() {
        s.push_str(" ON DELETE ");
        s.push_str(fk.on_delete.sql());
    }
    if !fk.on_update.is_default() {
        s.push_str(" ON UPDATE ");
        s.push_str(fk.on_update.sql());
    }
    s
}

/// The refusal of a column attribute only MySQL has (`on_update`), for the
/// other dialects' column definitions.
pub(crate) fn refuse_mysql_only(d: Dialect, c: &Column) -> Result<(), String> {
    match &c.on_update {
        Some(e) => Err(format!(
            "column `{}` has `on_update_sql = \"{e}\"`, which only MySQL has; {} has no ON UPDATE for columns; help: remove it, or set the value in the application or a trigger",
            c.name,
            d.name()
        )),
        None => Ok(()),
    }
}

/// The refusal of identity options (PostgreSQL only), for the other
/// dialects' column definitions.
pub(crate) fn refuse_postgres_only(d: Dialect, c: &Column) -> Result<(), String> {
    if c.identity_always {
        return Err(format!(
            "column `{}` has `identity_always`, which only PostgreSQL identity columns have; {} generates a value only when none is given; help: remove it",
            c.name,
            d.name()
        ));
    }
    if c.identity_start.is_some() || c.identity_increment.is_some() {
        return Err(format!(
            "column `{}` has `identity_start`/`identity_increment`, which only PostgreSQL identity columns have; {} keeps no per-column start or step; help: remove them",
            c.name,
            d.name()
        ));
    }
    Ok(())
}

/// `CONSTRAINT "ck" CHECK (expr)`
pub(crate) fn check_clause(d: Dialect, c: &Check) -> String {
    format!("CONSTRAINT {} CHECK ({})", d.ident(&c.name), c.expr.trim())
}

/// The parts of a column definition that differ per dialect; see
/// [`column_def`].
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ColumnParts<'a> {
    /// After the type: ` GENERATED BY DEFAULT AS IDENTITY` (PostgreSQL),
    /// ` PRIMARY KEY AUTOINCREMENT` (SQLite).
    pub after_type: &'a str,
    /// What a nullable column says (` NULL` on MySQL, where a bare
    /// TIMESTAMP would otherwise be NOT NULL).
    pub nullable: &'a str,
    /// At the end: ` AUTO_INCREMENT` (MySQL).
    pub last: &'a str,
}

/// `name TYPE [COLLATE c]<after_type> [NOT NULL|<nullable>] [DEFAULT x]<last>`: the one
/// column definition of every dialect, with its `column_type` spelling and
/// its text after `DEFAULT`.
pub(crate) fn column_def(
    d: Dialect,
    c: &Column,
    ty: &str,
    default: Option<String>,
    parts: ColumnParts<'_>,
) -> String {
    let mut s = format!("{} {ty}", d.ident(&c.name));
    if let Some(collation) = &c.collation {
        s.push_str(" COLLATE ");
        s.push_str(&d.ident(collation));
    }
    s.push_str(parts.after_type);
    s.push_str(if c.nullable {
        parts.nullable
    } else {
        " NOT NULL"
    });
    if let Some(x) = default {
        s.push_str(" DEFAULT ");
        s.push_str(&x);
    }
    s.push_str(parts.last);
    s
}

/// What goes into a `CREATE TABLE` besides the column definitions.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TableClauses {
    /// `IF NOT EXISTS` (everywhere except the SQLite rebuild's scratch table,
    /// which is dropped just before).
    pub if_not_exists: bool,
    /// The table-level `PRIMARY KEY (..)`; false when a column definition
    /// already declares it (SQLite's `INTEGER PRIMARY KEY AUTOINCREMENT`).
    pub primary_key: bool,
    /// Inline `CONSTRAINT .. UNIQUE`; false on SQLite, which renders unique
    /// constraints as unique indexes.
    pub uniques: bool,
}

/// `CREATE TABLE IF NOT EXISTS` with inline primary key and unique
/// constraints, as PostgreSQL and MySQL create a new table; `column_def` is
/// the dialect's column spelling. Indexes follow as separate statements,
/// which differ per dialect.
pub(crate) fn create_table_statement(
    d: Dialect,
    table: &Table,
    column_def: impl Fn(&crate::schema::Column) -> Result<String, String>,
) -> Result<Statement, String> {
    let defs = table
        .columns
        .iter()
        .map(column_def)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Statement::new(create_table_sql(
        d,
        &table.name,
        table,
        defs,
        TableClauses {
            if_not_exists: true,
            primary_key: true,
            uniques: true,
        },
    )))
}

/// `CREATE TABLE [IF NOT EXISTS] <name> (<columns>, <PK>, <uniques>, <FKs>,
/// <checks>)`, one item a line. `name` is separate from `table.name` so the
/// SQLite rebuild can create its scratch table from the final definition.
pub(crate) fn create_table_sql(
    d: Dialect,
    name: &str,
    table: &Table,
    column_defs: Vec<String>,
    clauses: TableClauses,
) -> String {
    let mut items = column_defs;
    if clauses.primary_key && !table.primary_key.is_empty() {
        // Only PostgreSQL keeps a primary key's name (MySQL calls every one
        // `PRIMARY`; SQLite's is text nothing reads).
        let named = match &table.primary_key_name {
            Some(n) if d == Dialect::Postgres => format!("CONSTRAINT {} ", d.ident(n)),
            _ => String::new(),
        };
        items.push(format!(
            "{named}PRIMARY KEY ({})",
            idents(d, &table.primary_key)
        ));
    }
    if clauses.uniques {
        items.extend(table.uniques.iter().map(|u| unique_clause(d, u)));
    }
    items.extend(table.foreign_keys.iter().map(|f| foreign_key_clause(d, f)));
    items.extend(table.checks.iter().map(|c| check_clause(d, c)));
    format!(
        "CREATE TABLE {}{} (\n  {}\n)",
        if clauses.if_not_exists {
            "IF NOT EXISTS "
        } else {
            ""
        },
        d.ident(name),
        items.join(",\n  ")
    )
}

/// `CREATE [UNIQUE] INDEX [IF NOT EXISTS] "name" ON "table" ("a", "b")`
pub(crate) fn create_index_sql(
    d: Dialect,
    unique: bool,
    if_not_exists: bool,
    name: &str,
    table: &str,
    columns: &[String],
) -> String {
    format!(
        "CREATE {}INDEX {}{} ON {} ({})",
        if unique { "UNIQUE " } else { "" },
        if if_not_exists { "IF NOT EXISTS " } else { "" },
        d.ident(name),
        d.ident(table),
        idents(d, columns)
    )
}

/// A raw SQL step: the dialect's variant (or the common `sql`), as one
/// statement, without guards: a hand-written step is the author's to make
/// idempotent. A step with no SQL for this dialect (including the inverse of
/// a step that has no `reverse`) is refused. An empty text renders to no
/// statement, so `reverse = { sql = "" }` declares "nothing to undo".
pub(crate) fn raw_sql(d: Dialect, raw: &RawSql) -> Result<Vec<Statement>, RenderError> {
    let text = raw
        .for_dialect(d.name())
        .ok_or(RenderError::MissingSql { dialect: d })?;
    // Statement's Display adds the terminating `;`, and the runner sends the
    // text as is, so a trailing one is dropped here.
    let text = text.trim().trim_end_matches(';').trim_end();
    if text.is_empty() {
        return Ok(Vec::new());
    }
    let s = Statement::new(text);
    Ok(vec![if raw.transactional {
        s
    } else {
        s.non_transactional()
    }])
}

/// `FROM <table> c WHERE .. AND NOT EXISTS (..)`: the rows of `table` that
/// reference no row through `fk`. A row with a NULL in a key column
/// references nothing and is exempt, as the key treats it. Shared by the
/// reference check before a key is added (`dialect/prechecks.rs`) and
/// MySQL's check after its in-place add (`mysql/render/online.rs`).
pub(crate) fn orphan_rows(d: Dialect, table: &str, fk: &ForeignKey) -> String {
    let not_null: Vec<String> = fk
        .columns
        .iter()
        .map(|c| format!("c.{} IS NOT NULL", d.ident(c)))
        .collect();
    let matches: Vec<String> = fk
        .columns
        .iter()
        .zip(&fk.ref_columns)
        .map(|(c, r)| format!("r.{} = c.{}", d.ident(r), d.ident(c)))
        .collect();
    format!(
        "FROM {} c WHERE {} AND NOT EXISTS (SELECT 1 FROM {} r WHERE {})",
        d.ident(table),
        not_null.join(" AND "),
        d.ident(&fk.ref_table),
        matches.join(" AND ")
    )
}

/// "`t.a`, `t.b`": the key's columns, for messages.
pub(crate) fn key_columns(table: &str, fk: &ForeignKey) -> String {
    fk.columns
        .iter()
        .map(|c| format!("`{table}.{c}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyword_calls_are_recognised() {
        let kw = ["CURRENT_TIMESTAMP", "NOW"];
        assert!(is_keyword_call("current_timestamp", &kw, true));
        assert!(is_keyword_call(" CURRENT_TIMESTAMP(6) ", &kw, true));
        assert!(is_keyword_call("now()", &kw, true));
        assert!(!is_keyword_call("now()", &kw, false));
        assert!(!is_keyword_call("now() + 1", &kw, true));
        assert!(!is_keyword_call("lower('x')", &kw, true));
        assert!(!is_keyword_call("CURRENT_TIMESTAMP(x)", &kw, true));
    }

    #[test]
    fn values_are_quoted_per_dialect() {
        let s = DefaultValue::Str("it's \\ ok".into());
        assert_eq!(value(Dialect::Postgres, &s).as_deref(), Ok("'it''s \\ ok'"));
        assert_eq!(value(Dialect::Mysql, &s).as_deref(), Ok("'it''s \\\\ ok'"));
        assert_eq!(
            value(Dialect::Sqlite, &DefaultValue::Bool(true)).as_deref(),
            Ok("1")
        );
        assert_eq!(
            value(Dialect::Mysql, &DefaultValue::Float(0.5)).as_deref(),
            Ok("0.5")
        );
        assert!(value(Dialect::Postgres, &DefaultValue::Float(f64::NAN)).is_err());
    }
}
