//! SQLite catalog guards: the `sqlite_master` / `pragma_table_info`
//! queries behind the `skip_if` of each rendered statement, recognising the
//! effect in the spelling `render.rs` writes.

use super::{autoincrement_pk, declared_type, default_sql, D};
use crate::ops::Operation;
use crate::schema::{Column, DefaultValue, Table};

/// Returns a row when the table exists (also `Backend::table_exists_sql`).
pub(in crate::backend) fn table_query(table: &str) -> String {
    format!(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = {}",
        D.string(table)
    )
}

pub(in crate::backend) fn column_query(table: &str, column: &str) -> String {
    format!(
        "SELECT 1 FROM pragma_table_info({}) WHERE name = {}",
        D.string(table),
        D.string(column)
    )
}

pub(super) fn not_exists(query: &str) -> String {
    format!("SELECT 1 WHERE NOT EXISTS ({query})")
}

/// A row when `table` exists and `cond` holds (`sql` is its CREATE TABLE).
pub(super) fn table_where(table: &str, cond: &str) -> String {
    format!("{} AND {cond}", table_query(table))
}

/// A row when the live table already has what `op` does to it, read from
/// the catalog in the spelling this module renders (`after` is the table
/// after `op`). Used to guard the rebuilds.
pub(super) fn effect_present(op: &Operation, after: &Table) -> Result<String, String> {
    use Operation::*;
    let t = &after.name;
    let constraint = |name: &str, kind: &str| {
        format!(
            "instr(sql, {}) > 0",
            D.string(&format!("CONSTRAINT {} {kind}", D.ident(name)))
        )
    };
    Ok(match op {
        AlterColumn { from, to, .. } => table_where(
            t,
            &format!("{}{}", column_is(after, to)?, collation_is(after, from, to)),
        ),
        SetPrimaryKey { to, .. } => table_where(t, &primary_key_is(t, to)),
        // By columns and referenced table, not by name: SQLite keeps no
        // name for an unnamed `REFERENCES` (an adopted table's foreign key
        // carries the model's default name only in the snapshot), and a
        // guard that looked for the name would take such a key for absent.
        AddForeignKey { foreign_key, .. } => table_where(t, &foreign_key_is(t, foreign_key)),
        DropForeignKey { foreign_key, .. } => {
            table_where(t, &format!("NOT {}", foreign_key_is(t, foreign_key)))
        }
        AddCheck { check, .. } => table_where(t, &constraint(&check.name, "CHECK")),
        DropCheck { check, .. } => {
            table_where(t, &format!("NOT {}", constraint(&check.name, "CHECK")))
        }
        other => return Err(format!("no rebuild guard for {}", other.kind())),
    })
}

/// ` AND ..` when the collation changes: the new one as rendered is in the
/// table's definition (`"c" TYPE COLLATE "x"`), or, when it is dropped, the
/// old one's name is no longer there (quoted or not: an adopted table's
/// text is the one written by hand). The pragmas do not show collations.
fn collation_is(t: &Table, from: &Column, to: &Column) -> String {
    match (&from.collation, &to.collation) {
        (a, b) if a == b => String::new(),
        (_, Some(x)) => format!(
            " AND instr(sql, {}) > 0",
            D.string(&format!(
                "{} {} COLLATE {}",
                D.ident(&to.name),
                declared_type(t, to),
                D.ident(x)
            ))
        ),
        (Some(old), None) => format!(
            " AND instr(upper(sql), upper({})) = 0 AND instr(upper(sql), upper({})) = 0",
            D.string(&format!("COLLATE {}", D.ident(old))),
            D.string(&format!("COLLATE {old}"))
        ),
        (None, None) => String::new(),
    }
}

/// True (as SQL) when column `c` of `t` is declared exactly as rendered:
/// type, NOT NULL, default text (SQLite keeps it as written, without the
/// parentheses around an expression) and, since it is part of the column
/// definition here, AUTOINCREMENT.
fn column_is(t: &Table, c: &Column) -> Result<String, String> {
    let default = match &c.default {
        None => "NULL".to_string(),
        Some(d) => {
            let rendered = default_sql(d)?;
            let reported = match d {
                DefaultValue::Sql(e) if rendered != e.trim() => e.trim().to_string(),
                _ => rendered,
            };
            D.string(&reported)
        }
    };
    let autoincrement = match autoincrement_pk(t) {
        Some(pk) => format!(
            "instr(sql, {}) > 0",
            D.string(&format!(
                "{} INTEGER PRIMARY KEY AUTOINCREMENT",
                D.ident(pk)
            ))
        ),
        None => "instr(sql, 'PRIMARY KEY AUTOINCREMENT') = 0".to_string(),
    };
    Ok(format!(
        "EXISTS (SELECT 1 FROM pragma_table_info({}) WHERE name = {} AND type = {} AND \"notnull\" = {} AND dflt_value IS {default}) AND {autoincrement}",
        D.string(&t.name),
        D.string(&c.name),
        D.string(&declared_type(t, c)),
        u8::from(!c.nullable),
    ))
}

/// True (as SQL) when `table` has foreign key `fk`: by its name in the
/// table's definition, or, for a key declared without a name (an adopted
/// table's `REFERENCES`, which the snapshot knows by the model's default
/// name), by what it is: the same columns in order, referenced table and
/// columns (an implicit reference to the primary key matches too) and
/// actions. Names are compared case-insensitively, as SQLite does.
fn foreign_key_is(table: &str, fk: &crate::schema::ForeignKey) -> String {
    format!(
        "(instr(sql, {}) > 0 OR EXISTS (SELECT 1 FROM (SELECT \"table\" AS tbl, group_concat(\"from\", ',' ORDER BY seq) AS cols, group_concat(coalesce(\"to\", ''), ',' ORDER BY seq) AS tos, min(on_delete) AS del, min(on_update) AS upd FROM pragma_foreign_key_list({}) GROUP BY id) WHERE lower(tbl) = {} AND lower(cols) = {} AND (lower(tos) = {} OR replace(tos, ',', '') = '') AND del = {} AND upd = {}))",
        D.string(&format!("CONSTRAINT {} FOREIGN KEY", D.ident(&fk.name))),
        D.string(table),
        D.string(&fk.ref_table.to_lowercase()),
        D.string(&fk.columns.join(",").to_lowercase()),
        D.string(&fk.ref_columns.join(",").to_lowercase()),
        D.string(fk.on_delete.sql()),
        D.string(fk.on_update.sql()),
    )
}

/// True (as SQL) when the primary key of `table` is exactly `columns`, in
/// order (pragma_table_info's `pk` is the 1-based position in the key).
fn primary_key_is(table: &str, columns: &[String]) -> String {
    let info = format!("pragma_table_info({})", D.string(table));
    if columns.is_empty() {
        return format!("NOT EXISTS (SELECT 1 FROM {info} WHERE pk > 0)");
    }
    let positions = columns
        .iter()
        .enumerate()
        .map(|(i, c)| format!("(pk = {} AND name = {})", i + 1, D.string(c)))
        .collect::<Vec<_>>()
        .join(" OR ");
    let n = columns.len();
    format!(
        "(SELECT COUNT(*) FROM {info} WHERE pk > 0) = {n} AND (SELECT COUNT(*) FROM {info} WHERE {positions}) = {n}"
    )
}
