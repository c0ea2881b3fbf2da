//! SQLite rendering (3.35+; the bundled library is newer).
//!
//! Contract (on top of the module contract in `dialect`):
//! - types: every integer is INTEGER (only a column declared exactly
//!   `INTEGER` can be the rowid alias), `real`/`double` REAL, BOOLEAN, TEXT,
//!   VARCHAR(n), BLOB, DATE, TIME, TIMESTAMP, `timestamptz` TIMESTAMPTZ,
//!   `uuid` TEXT, `json` TEXT. SQLite accepts any type name and derives a
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

use crate::backend::common::{self, TableClauses};
use crate::dialect::{Dialect, RenderError, Statement};
use crate::ops::Operation;
use crate::schema::{Column, ColumnType, DefaultValue, Schema, Table};
use guards::{column_query, effect_present, not_exists, table_query, table_where};

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
                    column_def(column, false, strict).map_err(err)?
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
        ColumnType::SmallInt | ColumnType::Integer | ColumnType::BigInt => "INTEGER".into(),
        ColumnType::Real | ColumnType::Double => "REAL".into(),
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

/// The type a column of `t` is declared with: [`column_type`], or in a
/// `STRICT` table [`strict_type`] (a type a STRICT table refuses is
/// refused when the table is created; here it stays as written).
pub(crate) fn declared_type(t: &Table, ty: &ColumnType) -> String {
    if t.strict {
        strict_type(ty).unwrap_or_else(|_| column_type(ty))
    } else {
        column_type(ty)
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
/// as a `strict` table takes it.
fn column_def(c: &Column, autoincrement_pk: bool, strict: bool) -> Result<String, String> {
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
    let ty = if strict {
        strict_type(&c.ty)?
    } else {
        column_type(&c.ty)
    };
    Ok(common::column_def(D, c, &ty, default, parts))
}

/// The column that is declared `INTEGER PRIMARY KEY AUTOINCREMENT`, if any:
/// the whole primary key, auto-incremented, of an integer type, in a table
/// with a rowid.
pub(super) fn autoincrement_pk(t: &Table) -> Option<&str> {
    if t.without_rowid {
        return None;
    }
    match t.primary_key.as_slice() {
        [only] => t
            .column(only)
            .filter(|c| c.auto_increment && column_type(&c.ty) == "INTEGER")
            .map(|c| c.name.as_str()),
        _ => None,
    }
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
        .map(|c| column_def(c, pk == Some(c.name.as_str()), t.strict))
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

/// The table rebuild of sqlite.org/lang_altertable.html, "Making Other Kinds
/// Of Table Schema Changes": create the final definition under a scratch
/// name, copy the rows, drop the old table, rename the new one into place,
/// recreate the indexes (dropped with the old table).
///
/// - The copy takes every column of `after` that `before` has (see
///   [`copy_expr`]); new columns get their defaults.
/// - Steps 1, 2 and 12 of the recipe (foreign_keys off, a transaction,
///   foreign_key_check before commit, foreign_keys back on) are the runner's:
///   it does that around every SQLite migration, so other tables' foreign
///   keys that point at this one keep pointing at it, by name, through the
///   drop and the rename.
/// - Idempotency: every step up to and including the rename carries
///   `skip_if`, a catalog query for the operation's effect (the column with
///   its new definition, the constraint by name in the table's SQL, the key
///   columns in order), so a migration whose effect is already present, even
///   re-run after later ones, does not rebuild the table again from an old
///   definition. The guards only hold while the table exists, so they stay
///   false between the drop and the rename. The scratch table is dropped
///   first in case a crashed run left it; index recreation is IF NOT EXISTS.
/// - The copy names columns qualified (`"t"."c"`): SQLite reads an unknown
///   double-quoted name as a string literal, so a column missing from the
///   live table would otherwise be filled with its own name instead of
///   failing.
/// - An AUTOINCREMENT table keeps its sqlite_sequence high-water mark, so ids
///   of deleted rows are not handed out again.
/// - Triggers (not part of the model, dropped with the old table) are saved
///   from `sqlite_master` into the temporary [`SAVED_TRIGGERS`] table before
///   the drop and recreated from their stored `CREATE TRIGGER` text after the
///   rename, by a [`Statement::each_row`] step the runner evaluates. Views
///   are left in place: the rename runs with `legacy_alter_table` on, which
///   does not re-parse them, and every view that may name the table is then
///   prepared, so one that used a removed column fails the migration. In a
///   `transaction = false` migration (one transaction per step) a connection
///   lost between the save and the recreation loses the temporary table: the
///   resumed run then fails at the recreation with "no such table" rather
///   than continuing without the triggers.
fn rebuild(before: &Table, after: &Table, skip_if: &str) -> Result<Vec<Statement>, String> {
    let name = &after.name;
    let t = D.ident(name);
    let scratch_name = format!("{REBUILD_PREFIX}{name}");
    let scratch = D.ident(&scratch_name);

    let mut cols = Vec::new();
    let mut exprs = Vec::new();
    for c in &after.columns {
        if let Some(old) = before.column(&c.name) {
            cols.push(D.ident(&c.name));
            exprs.push(copy_expr(&t, old, c)?);
        }
    }

    let saved = format!("temp.{}", D.ident(SAVED_TRIGGERS));
    let this_table = format!("tbl = {}", D.string(name));
    let mut steps = vec![
        Statement::refuse_when_rows(losses_query(before)),
        Statement::new(format!("DROP TABLE IF EXISTS {scratch}")),
        Statement::new(create_table_sql(after, &scratch_name, false)?),
    ];
    if !cols.is_empty() {
        steps.push(Statement::new(format!(
            "INSERT INTO {scratch} ({}) SELECT {} FROM {t}",
            cols.join(", "),
            exprs.join(", ")
        )));
    }
    if autoincrement_pk(before).is_some() && autoincrement_pk(after).is_some() {
        // The copy set the scratch table's counter to the largest id copied;
        // the old counter may be higher (deleted rows), and wins.
        steps.push(Statement::new(format!(
            "DELETE FROM sqlite_sequence WHERE name = {}",
            D.string(&scratch_name)
        )));
        steps.push(Statement::new(format!(
            "INSERT INTO sqlite_sequence (name, seq) SELECT {}, seq FROM sqlite_sequence WHERE name = {}",
            D.string(&scratch_name),
            D.string(name)
        )));
    }
    // The triggers and the indexes the model does not describe (partial,
    // expression, collated or hand-made ones) go with the old table: save
    // their definitions, in creation order, to recreate them once the new
    // table has the name. The model's own indexes are recreated from the
    // model below (or, when this change removes them, not at all).
    let model_indexes = before
        .indexes
        .iter()
        .map(|i| &i.name)
        .chain(before.uniques.iter().map(|u| &u.name))
        .chain(after.indexes.iter().map(|i| &i.name))
        .chain(after.uniques.iter().map(|u| &u.name))
        .map(|n| D.string(&n.to_lowercase()))
        .collect::<Vec<_>>();
    steps.push(Statement::new(format!(
        "DELETE FROM {saved} WHERE {this_table}"
    )));
    steps.push(Statement::new(format!(
        "INSERT INTO {saved} (tbl, seq, sql) SELECT {}, rowid, sql FROM main.sqlite_master WHERE tbl_name = {} COLLATE NOCASE AND sql IS NOT NULL AND (type = 'trigger' OR (type = 'index' AND lower(name) NOT IN ({})))",
        D.string(name),
        D.string(name),
        model_indexes.join(", ")
    )));
    steps.push(Statement::new(format!("DROP TABLE IF EXISTS {t}")));
    // Since 3.26 a rename re-parses every view and trigger of the schema,
    // and fails on those that name the table just dropped ("error in view
    // v: no such table: main.t"); the legacy rename leaves them as they
    // are, so they refer to the new table by its name once it is in place.
    steps.push(Statement::new("PRAGMA legacy_alter_table = ON"));
    steps.push(Statement::new(format!(
        "ALTER TABLE {scratch} RENAME TO {t}"
    )));
    // The temporary table for the triggers is created on every run (not
    // guarded), so the replay below can always read it.
    let mut out = vec![Statement::new(format!(
        "CREATE TEMP TABLE IF NOT EXISTS {} (tbl TEXT NOT NULL, seq INTEGER NOT NULL, sql TEXT NOT NULL)",
        D.ident(SAVED_TRIGGERS)
    ))];
    out.extend(steps.into_iter().map(|s| s.skip_if(skip_if)));
    // Not guarded: they must run after a rename that made the guard true.
    // The pragma is switched back whether or not the rename ran; indexes are
    // IF NOT EXISTS; the saved triggers are there only when this run
    // dropped the old table (the save is guarded like the drop).
    out.push(Statement::new("PRAGMA legacy_alter_table = OFF"));
    out.extend(index_statements(after));
    out.push(Statement::each_row(format!(
        "SELECT sql AS s FROM {saved} WHERE {this_table} ORDER BY seq"
    )));
    out.push(Statement::new(format!(
        "DELETE FROM {saved} WHERE {this_table}"
    )));
    // A view that used a column the rebuild removed would only fail when
    // queried: prepare each view that may name the table, so the migration
    // fails (and rolls back) instead.
    out.push(Statement::each_row(format!(
        "SELECT 'SELECT 1 FROM ' || {} || replace(name, '\"', '\"\"') || {} || ' LIMIT 0' AS s FROM main.sqlite_master WHERE type = 'view' AND instr(lower(sql), lower({})) > 0 ORDER BY rowid",
        D.string("\""),
        D.string("\""),
        D.string(name)
    )));
    Ok(out)
}

/// The check that runs first in a rebuild: one row for everything the live
/// table has that the model's definition of it (`before`) does not describe
/// and the rebuild, which creates the table from the model, would drop.
/// Indexes and triggers are not listed: the rebuild carries them over.
///
/// - columns the model does not have, and generated columns;
/// - the `STRICT` and `WITHOUT ROWID` table options;
/// - more `COLLATE` clauses in the table's definition than the model has
///   collated columns (a `COLLATE NOCASE` key the model does not describe
///   would become case-sensitive);
/// - more `CHECK` constraints than the model has (SQLite names none of
///   them in a pragma, so they are counted in the definition's text);
/// - foreign keys the model does not have (by referenced table and
///   columns);
/// - defaults and `NOT NULL` the model does not have.
///
/// Names are compared case-insensitively, as SQLite compares them. The text
/// searches err towards refusing (a `COLLATE` inside a string literal
/// counts), which costs a clear error, never a silent loss.
fn losses_query(before: &Table) -> String {
    let t = D.string(&before.name);
    let list = |names: Vec<String>| {
        names
            .iter()
            .map(|n| D.string(&n.to_lowercase()))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let all_columns = list(before.columns.iter().map(|c| c.name.clone()).collect());
    let without_default = list(
        before
            .columns
            .iter()
            .filter(|c| c.default.is_none() && !c.auto_increment)
            .map(|c| c.name.clone())
            .collect(),
    );
    let nullable = list(
        before
            .columns
            .iter()
            .filter(|c| c.nullable)
            .map(|c| c.name.clone())
            .collect(),
    );
    let foreign_keys = list(
        before
            .foreign_keys
            .iter()
            .map(|f| format!("{}:{}", f.ref_table, f.columns.join(",")))
            .collect(),
    );
    // The definition with every kind of white space removed, upper case.
    let squeezed = "replace(replace(replace(replace(upper(sql), ' ', ''), char(9), ''), char(10), ''), char(13), '')";
    let spaced = "(' ' || replace(replace(replace(upper(sql), char(9), ' '), char(10), ' '), char(13), ' ') || ' ')";
    let checks = before.checks.len();
    let collations = before
        .columns
        .iter()
        .filter(|c| c.collation.is_some())
        .count();
    [
        format!("SELECT 'column ' || quote(name) || ', which the model does not have' AS s FROM pragma_table_xinfo({t}) WHERE hidden NOT IN (2, 3) AND lower(name) NOT IN ({all_columns})"),
        format!("SELECT 'generated column ' || quote(name) AS s FROM pragma_table_xinfo({t}) WHERE hidden IN (2, 3)"),
        format!("SELECT 'the STRICT table option, which the model does not have' AS s FROM pragma_table_list({t}) WHERE schema = 'main' AND strict AND NOT {}", u8::from(before.strict)),
        format!("SELECT 'the WITHOUT ROWID table option, which the model does not have' AS s FROM pragma_table_list({t}) WHERE schema = 'main' AND wr AND NOT {}", u8::from(before.without_rowid)),
        format!("SELECT ((length({spaced}) - length(replace({spaced}, ' COLLATE ', ''))) / 9 - {collations}) || ' COLLATE clause(s) in the table''s definition beyond the model''s {collations}' AS s FROM main.sqlite_master WHERE type = 'table' AND name = {t} AND (length({spaced}) - length(replace({spaced}, ' COLLATE ', ''))) / 9 > {collations}"),
        format!("SELECT ((length({squeezed}) - length(replace({squeezed}, 'CHECK(', ''))) / 6 - {checks}) || ' CHECK constraint(s) beyond the model''s {checks}' AS s FROM main.sqlite_master WHERE type = 'table' AND name = {t} AND (length({squeezed}) - length(replace({squeezed}, 'CHECK(', ''))) / 6 > {checks}"),
        format!("SELECT 'a foreign key (' || cols || ') to ' || quote(tbl) || ', which the model does not have' AS s FROM (SELECT \"table\" AS tbl, group_concat(\"from\", ',' ORDER BY seq) AS cols FROM pragma_foreign_key_list({t}) GROUP BY id) WHERE lower(tbl || ':' || cols) NOT IN ({foreign_keys})"),
        format!("SELECT 'the default ' || dflt_value || ' of column ' || quote(name) || ', which the model does not have' AS s FROM pragma_table_xinfo({t}) WHERE dflt_value IS NOT NULL AND upper(dflt_value) <> 'NULL' AND lower(name) IN ({without_default})"),
        format!("SELECT 'NOT NULL on column ' || quote(name) || ', which the model has as nullable' AS s FROM pragma_table_xinfo({t}) WHERE \"notnull\" AND lower(name) IN ({nullable})"),
    ]
    .join(" UNION ALL ")
}

/// The value a surviving column is copied with.
///
/// - A type change needs no conversion here: the new column's affinity
///   converts each value on insert when that is lossless (text `'12'` into an
///   INTEGER column becomes 12, 12 into a TEXT column becomes `'12'`) and
///   keeps it as it is otherwise. A `CAST` would differ only where it loses
///   data (`CAST('abc' AS INTEGER)` is 0, `CAST(3.7 AS INTEGER)` is 3,
///   `CAST('2024-01-01' AS DATE)` is 2024), and the downgrade could not bring
///   the value back; without it the round trip restores every value.
/// - A column that becomes NOT NULL and has a default gets the default where
///   it was NULL, as the other dialects backfill before `SET NOT NULL`.
fn copy_expr(table: &str, old: &Column, new: &Column) -> Result<String, String> {
    let e = format!("{table}.{}", D.ident(&new.name));
    if old.nullable && !new.nullable {
        if let Some(d) = &new.default {
            return Ok(format!("COALESCE({e}, {})", common::value(D, d)?));
        }
    }
    Ok(e)
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
