//! SQLite: the table rebuild, for what `ALTER TABLE` cannot do (see the
//! module docs of `render`).

use super::{
    autoincrement_pk, create_table_sql, index_statements, D, REBUILD_PREFIX, SAVED_TRIGGERS,
};
use crate::backend::common;
use crate::dialect::Statement;
use crate::schema::{Column, Table};

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
pub(super) fn rebuild(
    before: &Table,
    after: &Table,
    skip_if: &str,
) -> Result<Vec<Statement>, String> {
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
