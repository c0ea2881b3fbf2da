//! MySQL 8 / MariaDB 10.5+ rendering.
//!
//! Contract (on top of the module contract in `dialect`):
//! - types: SMALLINT, INT, BIGINT, `real` FLOAT, DOUBLE, BOOLEAN, TEXT,
//!   VARCHAR(n), `blob` LONGBLOB, DATE, `time` TIME(6), `timestamp`
//!   DATETIME(6), `timestamptz` TIMESTAMP(6), `uuid` CHAR(36), JSON. The
//!   fractional-second precision 6 keeps the microseconds the other databases
//!   keep. TIMESTAMP is MySQL's only zone-aware type (stored as UTC, shown in
//!   the session time zone), but its range ends in 2038; users who need later
//!   instants should use `sql_type = "DATETIME(6)"` and store UTC;
//! - `auto_increment` is `AUTO_INCREMENT` (MySQL requires the column to be a
//!   key; the primary key normally is);
//! - TEXT, BLOB and JSON columns cannot be in a key without a prefix length,
//!   so an index, unique constraint, primary key or foreign key over one is
//!   refused with a hint to add `max_length`; their literal defaults are
//!   written as expressions, `DEFAULT ('x')`, the only form MySQL 8.0.13+
//!   accepts for them (MariaDB 10.2+ accepts it too);
//! - SQL-expression defaults are parenthesised (MySQL 8 requires it) except
//!   `CURRENT_TIMESTAMP`-like ones, which must stay bare;
//! - idempotency: MySQL DDL commits implicitly, so every statement must be
//!   safe on its own. `CREATE TABLE IF NOT EXISTS` and `DROP TABLE IF EXISTS`
//!   are used as such; MySQL 8 has no `IF [NOT] EXISTS` for columns, indexes
//!   or constraints, so every other statement carries a `skip_if` on
//!   `information_schema` scoped to `DATABASE()`;
//! - string literals double backslashes ([`Dialect::string`]), which is right
//!   unless the server runs with `NO_BACKSLASH_ESCAPES`.

pub(super) mod guards;
mod modify;
mod online;

use crate::backend::common;
use crate::dialect::{Dialect, RenderError, Statement};
use crate::ops::Operation;
use crate::schema::{Column, ColumnType, DefaultValue, Schema, Table};
use guards::{
    column_query, constraint_query, drop_column_dependents, index_query, not_exists,
    primary_key_query, table_query,
};
pub(crate) use modify::on_update_sql;
use modify::{collate, comment, modify_keeping_live_attributes, on_update};
pub(crate) use online::copy_reason;
use online::{algorithm, ONLINE};

pub(super) const D: Dialect = Dialect::Mysql;

pub(crate) fn render(op: &Operation, before: &Schema) -> Result<Vec<Statement>, RenderError> {
    use Operation::*;
    let q = |n: &str| D.ident(n);
    let err = |m: String| common::unsupported(op, m);
    // Key checks need column types; an unknown table is left to the database
    // to reject (replay reports it anyway).
    let key_check = |table: &str, cols: &[String], what: &str| match before.table(table) {
        Some(t) => check_keyable(t, cols, what).map_err(err),
        None => Ok(()),
    };
    Ok(match op {
        CreateTable { table } => create_table(table).map_err(err)?,
        SetTableComment { table, to, .. } => vec![table_comment(table, to.as_deref())],
        // Every MySQL primary key is called `PRIMARY`.
        SetPrimaryKeyName { .. } => Vec::new(),
        DropTable { table } => vec![Statement::new(format!(
            "DROP TABLE IF EXISTS {}",
            q(&table.name)
        ))],
        RenameTable { from, to } => {
            vec![
                Statement::new(format!("RENAME TABLE {} TO {}", q(from), q(to)))
                    .skip_if(not_exists(&table_query(from))),
            ]
        }
        AddColumn { table, column } => vec![Statement::new(format!(
            "ALTER TABLE {} ADD COLUMN {}{}",
            q(table),
            column_def(column).map_err(err)?,
            algorithm(op, before)
        ))
        .skip_if(column_query(table, &column.name))],
        DropColumn { table, column } => vec![
            Statement::refuse_when_rows(drop_column_dependents(before, table, &column.name)),
            Statement::new(format!(
                "ALTER TABLE {} DROP COLUMN {}{ONLINE}",
                q(table),
                q(&column.name)
            ))
            .skip_if(not_exists(&column_query(table, &column.name))),
        ],
        RenameColumn { table, from, to } => {
            let column = before.table(table).and_then(|t| t.column(from));
            let statement = match column {
                // MariaDB's JSON is LONGTEXT with a `json_valid` check; once
                // the table's definition has been reopened after a rename
                // (any read of information_schema.COLUMNS does that),
                // `RENAME COLUMN` of it fails with "Unknown column .. in
                // 'CHECK'". `CHANGE COLUMN` restating the type does not, on
                // MariaDB and MySQL alike, and is as online.
                Some(c) if c.ty == ColumnType::Json => {
                    let mut renamed = c.clone();
                    renamed.name = to.clone();
                    modify::change_keeping_live_attributes(table, from, c, &renamed, ONLINE)
                        .map_err(err)?
                }
                _ => Statement::new(format!(
                    "ALTER TABLE {} RENAME COLUMN {} TO {}{ONLINE}",
                    q(table),
                    q(from),
                    q(to)
                )),
            };
            vec![statement.skip_if(not_exists(&column_query(table, from)))]
        }
        AlterColumn { table, from, to } => {
            if let Some(t) = before.table(table) {
                if is_keyed(t, &to.name) && !keyable(&to.ty) {
                    return Err(err(text_key_message(table, &to.name, "a key")));
                }
            }
            alter_column(table, from, to, algorithm(op, before)).map_err(err)?
        }
        SetPrimaryKey { table, from, to } => {
            key_check(table, to, "the primary key")?;
            set_primary_key(table, from, to, algorithm(op, before))
        }
        CreateIndex { table, index } => {
            key_check(table, &index.columns, &format!("index `{}`", index.name))?;
            let mut out = vec![Statement::new(format!(
                "{} ALGORITHM=INPLACE LOCK=NONE",
                common::create_index_sql(D, false, false, &index.name, table, &index.columns)
            ))
            .skip_if(index_query(table, &index.name))];
            out.extend(drop_served_fk_indexes(before, table, &index.columns));
            out
        }
        DropIndex { table, index } => drop_key_index(before, table, &index.name),
        AddUnique { table, unique } => {
            common::refuse_nulls_not_distinct(D, table, unique).map_err(err)?;
            key_check(
                table,
                &unique.columns,
                &format!("unique constraint `{}`", unique.name),
            )?;
            let mut out = vec![Statement::new(format!(
                "ALTER TABLE {} ADD {}{ONLINE}",
                q(table),
                common::unique_clause(D, unique)
            ))
            .skip_if(index_query(table, &unique.name))];
            out.extend(drop_served_fk_indexes(before, table, &unique.columns));
            out
        }
        // A unique constraint is an index in MySQL.
        DropUnique { table, unique } => drop_key_index(before, table, &unique.name),
        AddForeignKey { table, foreign_key } => {
            key_check(
                table,
                &foreign_key.columns,
                &format!("foreign key `{}`", foreign_key.name),
            )?;
            // MariaDB's in-place path records RESTRICT as NO ACTION (the
            // same rule in InnoDB, but not what the model says): such a key
            // keeps the plain form.
            let restrict = [foreign_key.on_delete, foreign_key.on_update]
                .contains(&crate::schema::RefAction::Restrict);
            if before.table(table).is_some() && !restrict {
                online::add_foreign_key(table, foreign_key)
            } else {
                vec![Statement::new(format!(
                    "ALTER TABLE {} ADD {}",
                    q(table),
                    common::foreign_key_clause(D, foreign_key)
                ))
                .skip_if(constraint_query(
                    table,
                    &foreign_key.name,
                    "FOREIGN KEY",
                ))]
            }
        }
        DropForeignKey { table, foreign_key } => vec![
            Statement::new(format!(
                "ALTER TABLE {} DROP FOREIGN KEY {}{ONLINE}",
                q(table),
                q(&foreign_key.name)
            ))
            .skip_if(not_exists(&constraint_query(
                table,
                &foreign_key.name,
                "FOREIGN KEY",
            ))),
            // When no index covered the key's columns, InnoDB created one
            // named after the constraint and leaves it behind on DROP FOREIGN
            // KEY; dropping it keeps the live schema equal to the model, so a
            // later re-add does not find a stray index.
            drop_index(table, &foreign_key.name),
        ],
        AddCheck { table, check } => vec![Statement::new(format!(
            "ALTER TABLE {} ADD {}",
            q(table),
            common::check_clause(D, check)
        ))
        .skip_if(constraint_query(table, &check.name, "CHECK"))],
        // `DROP CONSTRAINT` drops a check on MariaDB 10.2+ and MySQL 8.0.19+
        // alike (`DROP CHECK` is MySQL-only).
        DropCheck { table, check } => vec![Statement::new(format!(
            "ALTER TABLE {} DROP CONSTRAINT {}{ONLINE}",
            q(table),
            q(&check.name)
        ))
        .skip_if(not_exists(&constraint_query(table, &check.name, "CHECK")))],
        Sql(raw) => common::raw_sql(D, raw)?,
        Rust { .. } => Vec::new(),
        Backfill(b) => crate::dialect::backfill::render(D, op, b, before)?,
        // `dialect::render_op` renders these (dialect/archive.rs).
        Archived(_) => return Err(err("an archived step is rendered by its dialect".into())),
    })
}

/// The MySQL spelling of a portable type.
pub(crate) fn column_type(ty: &ColumnType) -> String {
    match ty {
        ColumnType::SmallInt => "SMALLINT".into(),
        ColumnType::Integer => "INT".into(),
        ColumnType::BigInt => "BIGINT".into(),
        ColumnType::Real => "FLOAT".into(),
        ColumnType::Double => "DOUBLE".into(),
        ColumnType::Boolean => "BOOLEAN".into(),
        ColumnType::Text => "TEXT".into(),
        ColumnType::Varchar(n) => format!("VARCHAR({n})"),
        ColumnType::Blob => "LONGBLOB".into(),
        ColumnType::Date => "DATE".into(),
        ColumnType::Time => "TIME(6)".into(),
        ColumnType::Timestamp => "DATETIME(6)".into(),
        ColumnType::TimestampTz => "TIMESTAMP(6)".into(),
        ColumnType::Uuid => "CHAR(36)".into(),
        ColumnType::Json => "JSON".into(),
        ColumnType::Custom(s) => s.trim().to_string(),
    }
}

/// False for the types MySQL cannot put in a key without a prefix length:
/// the TEXT and BLOB families and JSON (custom types included, by their
/// leading type name).
fn keyable(ty: &ColumnType) -> bool {
    let spelled = column_type(ty).to_ascii_uppercase();
    let base = spelled
        .split(|c: char| c == '(' || c.is_whitespace())
        .next()
        .unwrap_or("");
    !matches!(
        base,
        "TINYTEXT"
            | "TEXT"
            | "MEDIUMTEXT"
            | "LONGTEXT"
            | "TINYBLOB"
            | "BLOB"
            | "MEDIUMBLOB"
            | "LONGBLOB"
            | "JSON"
    )
}

fn text_key_message(table: &str, column: &str, what: &str) -> String {
    format!(
        "column `{table}.{column}` is TEXT/BLOB/JSON on MySQL, which cannot be part of {what} without a prefix length; help: add `max_length = N` to the field so it becomes VARCHAR(N)"
    )
}

/// Refuses `cols` of `t` in a key when one of them cannot be keyed.
fn check_keyable(t: &Table, cols: &[String], what: &str) -> Result<(), String> {
    for name in cols {
        if let Some(c) = t.column(name) {
            if !keyable(&c.ty) {
                return Err(text_key_message(&t.name, name, what));
            }
        }
    }
    Ok(())
}

/// True when `column` is in any key of `t`.
fn is_keyed(t: &Table, column: &str) -> bool {
    let has = |cols: &[String]| cols.iter().any(|c| c == column);
    has(&t.primary_key)
        || t.indexes.iter().any(|i| has(&i.columns))
        || t.uniques.iter().any(|u| has(&u.columns))
        || t.foreign_keys.iter().any(|f| has(&f.columns))
}

/// The text after `DEFAULT` for a column of type `ty`.
///
/// `CURRENT_TIMESTAMP`-like defaults stay bare on DATETIME and TIMESTAMP
/// columns, the only ones that take them bare, and get the column's
/// fractional-second precision: MySQL refuses `DATETIME(6) DEFAULT
/// CURRENT_TIMESTAMP` (the precisions must match). On any other column they
/// are expressions like the rest.
pub(crate) fn default_sql(d: &DefaultValue, ty: &ColumnType) -> Result<String, String> {
    const NOW_LIKE: &[&str] = &["CURRENT_TIMESTAMP", "LOCALTIME", "LOCALTIMESTAMP", "NOW"];
    match d {
        DefaultValue::Sql(e) if common::is_keyword_call(e, &["NULL"], false) => {
            Ok(e.trim().to_string())
        }
        DefaultValue::Sql(e) if common::is_keyword_call(e, NOW_LIKE, true) => {
            let spelled = column_type(ty).to_ascii_uppercase();
            let (base, precision) = match spelled.split_once('(') {
                Some((b, p)) => (b.trim(), Some(p.trim_end_matches(')').trim())),
                None => (spelled.trim(), None),
            };
            let e = e.trim();
            Ok(match (base, precision) {
                ("DATETIME" | "TIMESTAMP", Some(p)) if !e.contains('(') => format!("{e}({p})"),
                ("DATETIME" | "TIMESTAMP", _) => e.to_string(),
                _ => format!("({e})"),
            })
        }
        // `value` parenthesises expressions.
        DefaultValue::Sql(_) => common::value(D, d),
        lit if !keyable(ty) => Ok(format!("({})", common::value(D, lit)?)),
        lit => common::value(D, lit),
    }
}

/// `` `c` TYPE [COLLATE c] NOT NULL|NULL [DEFAULT x] [ON UPDATE x]
/// [AUTO_INCREMENT] [COMMENT '..'] ``. `NULL` is spelled out because
/// without `explicit_defaults_for_timestamp` a bare TIMESTAMP column is NOT
/// NULL.
fn column_def(c: &Column) -> Result<String, String> {
    let (nulls_default, auto_increment) = null_default(c)?;
    let mut s = format!("{} {}", D.ident(&c.name), column_type(&c.ty));
    if let Some(collation) = &c.collation {
        s.push_str(&collate(collation));
    }
    s.push_str(&nulls_default);
    if let Some(e) = &c.on_update {
        s.push_str(&on_update(&on_update_sql(e, &c.ty)));
    }
    if auto_increment {
        s.push_str(" AUTO_INCREMENT");
    }
    if let Some(text) = &c.comment {
        s.push_str(&comment(text));
    }
    Ok(s)
}

/// ` NULL|NOT NULL [DEFAULT x]`, and whether the column is AUTO_INCREMENT.
fn null_default(c: &Column) -> Result<(String, bool), String> {
    common::refuse_postgres_only(D, c)?;
    if c.auto_increment && c.default.is_some() {
        return Err(format!(
            "column `{}` is `auto_increment` and has a default; MySQL refuses both; help: remove `default`/`default_sql` or `auto_increment`",
            c.name
        ));
    }
    let default = c
        .default
        .as_ref()
        .map(|d| default_sql(d, &c.ty))
        .transpose()?;
    let bare = Column {
        collation: None,
        comment: None,
        on_update: None,
        identity_start: None,
        identity_increment: None,
        ..c.clone()
    };
    let parts = common::ColumnParts {
        nullable: " NULL",
        ..Default::default()
    };
    let full = common::column_def(D, &bare, "", default, parts);
    let head = format!("{} ", D.ident(&c.name));
    let rest = full
        .strip_prefix(&head)
        .ok_or_else(|| format!("column `{}`: unexpected definition {full}", c.name))?;
    Ok((rest.to_string(), c.auto_increment))
}

/// `ALTER TABLE t COMMENT = '..'` (`''` removes it): naturally idempotent,
/// a metadata change.
fn table_comment(table: &str, comment: Option<&str>) -> Statement {
    Statement::new(format!(
        "ALTER TABLE {} COMMENT = {}",
        D.ident(table),
        D.string(comment.unwrap_or(""))
    ))
}

fn create_table(table: &Table) -> Result<Vec<Statement>, String> {
    check_keyable(table, &table.primary_key, "the primary key")?;
    for u in &table.uniques {
        common::refuse_nulls_not_distinct(D, &table.name, u)?;
        check_keyable(
            table,
            &u.columns,
            &format!("unique constraint `{}`", u.name),
        )?;
    }
    for f in &table.foreign_keys {
        check_keyable(table, &f.columns, &format!("foreign key `{}`", f.name))?;
    }
    for i in &table.indexes {
        check_keyable(table, &i.columns, &format!("index `{}`", i.name))?;
    }
    let mut create = common::create_table_statement(D, table, column_def)?;
    if let Some(c) = &table.collation {
        // The table's default: its text columns without a collation of
        // their own take it (and its character set).
        create
            .sql
            .push_str(&format!(" DEFAULT COLLATE = {}", D.ident(c)));
    }
    let mut out = vec![create];
    out.extend(
        table
            .comment
            .as_deref()
            .map(|c| table_comment(&table.name, Some(c))),
    );
    out.extend(table.indexes.iter().map(|i| {
        Statement::new(common::create_index_sql(
            D,
            false,
            false,
            &i.name,
            &table.name,
            &i.columns,
        ))
        .skip_if(index_query(&table.name, &i.name))
    }));
    Ok(out)
}

/// `MODIFY COLUMN` with the full new definition (MySQL has no partial
/// `ALTER COLUMN` for type or nullability). It converts values in place and
/// is naturally idempotent. A column made NOT NULL with a default is
/// backfilled first: in strict mode MODIFY would fail on the NULLs, and
/// outside it MySQL would silently write its implicit zero value instead.
fn alter_column(
    table: &str,
    from: &Column,
    to: &Column,
    algorithm: &str,
) -> Result<Vec<Statement>, String> {
    let t = D.ident(table);
    let mut out = Vec::new();
    if from.nullable && !to.nullable {
        if let Some(d) = &to.default {
            let c = D.ident(&to.name);
            out.push(Statement::new(format!(
                "UPDATE {t} SET {c} = {} WHERE {c} IS NULL",
                common::value(D, d)?
            )));
        }
    }
    out.push(modify_keeping_live_attributes(table, from, to, algorithm)?);
    Ok(out)
}

/// Changes the primary key in one statement where both keys exist: MySQL DDL
/// is not transactional, and an AUTO_INCREMENT column must stay a key, so
/// drop and add cannot be separate steps.
fn set_primary_key(table: &str, from: &[String], to: &[String], algorithm: &str) -> Vec<Statement> {
    let t = D.ident(table);
    match (from.is_empty(), to.is_empty()) {
        (_, false) => {
            // A table with no key yet has nothing to drop; the guard decides
            // on the live key, the model's `from` only on the spelling.
            let sql = if from.is_empty() {
                format!(
                    "ALTER TABLE {t} ADD PRIMARY KEY ({}){algorithm}",
                    common::idents(D, to)
                )
            } else {
                format!(
                    "ALTER TABLE {t} DROP PRIMARY KEY, ADD PRIMARY KEY ({}){algorithm}",
                    common::idents(D, to)
                )
            };
            vec![Statement::new(sql).skip_if(primary_key_query(table, to))]
        }
        (false, true) => vec![Statement::new(format!("ALTER TABLE {t} DROP PRIMARY KEY"))
            .skip_if(not_exists(&index_query(table, "PRIMARY")))],
        (true, true) => Vec::new(),
    }
}

/// Drops index (or unique constraint) `name` of `table`. InnoDB needs an
/// index whose leading columns are a foreign key's: it creates one named
/// after the constraint with the key, drops that one silently when another
/// index can serve, and then refuses to drop the other (error 1553). So when
/// `name` is the only index serving a foreign key of the table, the index
/// InnoDB would have made is put back in the same statement, leaving the
/// table as `CREATE TABLE` with that key makes it.
fn drop_key_index(before: &Schema, table: &str, name: &str) -> Vec<Statement> {
    let plain = drop_index(table, name);
    let Some(t) = before.table(table) else {
        return vec![plain];
    };
    let serves = |cols: &[String], fk: &[String]| cols.len() >= fk.len() && &cols[..fk.len()] == fk;
    let others: Vec<&[String]> = std::iter::once(t.primary_key.as_slice())
        .chain(
            t.indexes
                .iter()
                .filter(|i| i.name != name)
                .map(|i| i.columns.as_slice()),
        )
        .chain(
            t.uniques
                .iter()
                .filter(|u| u.name != name)
                .map(|u| u.columns.as_slice()),
        )
        .collect();
    let dropped: Option<&[String]> = t
        .indexes
        .iter()
        .find(|i| i.name == name)
        .map(|i| i.columns.as_slice())
        .or_else(|| {
            t.uniques
                .iter()
                .find(|u| u.name == name)
                .map(|u| u.columns.as_slice())
        });
    let Some(dropped) = dropped else {
        return vec![plain];
    };
    let mut out = Vec::new();
    for fk in &t.foreign_keys {
        if !serves(dropped, &fk.columns) || others.iter().any(|o| serves(o, &fk.columns)) {
            continue;
        }
        // Guarded twice: done when `name` is gone, and not needed when the
        // constraint's own index is there already.
        out.push(
            Statement::new(format!(
                "ALTER TABLE {} ADD INDEX {} ({}), DROP INDEX {}{ONLINE}",
                D.ident(table),
                D.ident(&fk.name),
                common::idents(D, &fk.columns),
                D.ident(name)
            ))
            .skip_if(format!(
                "SELECT 1 FROM DUAL WHERE NOT EXISTS ({}) OR EXISTS ({})",
                index_query(table, name),
                index_query(table, &fk.name)
            )),
        );
        break;
    }
    out.push(plain);
    out
}

/// After an index over `columns` is created: the indexes named after a
/// foreign key that the new index now serves. InnoDB drops the one it made
/// itself; one that [`drop_key_index`] put back explicitly stays, so it is
/// dropped here, which leaves the table as the model describes it.
fn drop_served_fk_indexes(before: &Schema, table: &str, columns: &[String]) -> Vec<Statement> {
    let Some(t) = before.table(table) else {
        return Vec::new();
    };
    t.foreign_keys
        .iter()
        .filter(|fk| {
            columns.len() >= fk.columns.len()
                && columns[..fk.columns.len()] == fk.columns[..]
                && !t.indexes.iter().any(|i| i.name == fk.name)
                && !t.uniques.iter().any(|u| u.name == fk.name)
        })
        .map(|fk| drop_index(table, &fk.name))
        .collect()
}

fn drop_index(table: &str, name: &str) -> Statement {
    Statement::new(format!(
        "ALTER TABLE {} DROP INDEX {}{ONLINE}",
        D.ident(table),
        D.ident(name)
    ))
    .skip_if(not_exists(&index_query(table, name)))
}

// ---- catalog guards ------------------------------------------------------
