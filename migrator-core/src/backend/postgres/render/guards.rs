//! PostgreSQL catalog guards: the `pg_catalog` / `information_schema`
//! queries behind the `skip_if` of rendered statements, scoped to
//! `current_schema()`, and the check before `DROP COLUMN`.

use super::D;
use crate::schema::Schema;

/// `pg_constraint c` rows of `table` in the current schema matching `cond`.
pub(super) fn constraints_of(table: &str, cond: &str) -> String {
    format!(
        "pg_constraint c JOIN pg_class r ON r.oid = c.conrelid JOIN pg_namespace n ON n.oid = r.relnamespace WHERE n.nspname = current_schema() AND r.relname = {} AND {cond}",
        D.string(table)
    )
}

/// A row when `table` has a constraint called `name`.
pub(in crate::backend::postgres) fn constraint_query(table: &str, name: &str) -> String {
    format!(
        "SELECT 1 FROM {}",
        constraints_of(table, &format!("c.conname = {}", D.string(name)))
    )
}

/// A row when the primary key of `table` is exactly `columns`, in order.
pub(super) fn primary_key_query(table: &str, columns: &[String]) -> String {
    let wanted = columns
        .iter()
        .map(|c| D.string(c))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "SELECT 1 FROM {}",
        constraints_of(
            table,
            &format!(
                "c.contype = 'p' AND ARRAY(SELECT a.attname::text FROM unnest(c.conkey) WITH ORDINALITY AS k(attnum, ord) JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum ORDER BY k.ord) = ARRAY[{wanted}]::text[]"
            )
        )
    )
}

/// The check before `DROP COLUMN`: one row for each object that depends on
/// the column (`pg_depend`) and that the model does not describe. PostgreSQL
/// drops indexes, constraints and extended statistics over a column with
/// it, silently, and a downgrade that adds the column back cannot bring
/// them back; views and other objects outside the table make the `DROP`
/// fail, and are named here first. The model's own indexes and constraints
/// on the column are dropped by earlier steps of the migration (or are
/// listed by name below and not reported), the column's default and its
/// identity or serial sequence go with it as they should.
pub(super) fn drop_column_dependents(before: &Schema, table: &str, column: &str) -> String {
    let mut known: Vec<String> = Vec::new();
    if let Some(t) = before.table(table) {
        known.extend(t.indexes.iter().map(|i| i.name.clone()));
        known.extend(t.uniques.iter().map(|u| u.name.clone()));
        known.extend(t.foreign_keys.iter().map(|f| f.name.clone()));
        known.extend(t.checks.iter().map(|c| c.name.clone()));
    }
    let known = if known.is_empty() {
        "''".to_string()
    } else {
        known
            .iter()
            .map(|n| D.string(n))
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!(
        "SELECT kind || ' ' || name AS s FROM (\
SELECT CASE WHEN d.classid = 'pg_class'::regclass AND d.objid = d.refobjid THEN 'generated column' \
WHEN d.classid = 'pg_class'::regclass THEN (SELECT CASE c.relkind WHEN 'S' THEN NULL WHEN 'i' THEN 'index' WHEN 'I' THEN 'index' ELSE 'relation' END FROM pg_class c WHERE c.oid = d.objid) \
WHEN d.classid = 'pg_constraint'::regclass THEN 'constraint' \
WHEN d.classid = 'pg_trigger'::regclass THEN 'trigger' \
WHEN d.classid = 'pg_statistic_ext'::regclass THEN 'statistics' \
WHEN d.classid = 'pg_rewrite'::regclass THEN 'view' \
WHEN d.classid = 'pg_attrdef'::regclass THEN NULL \
ELSE d.classid::regclass::text END AS kind, \
CASE WHEN d.classid = 'pg_class'::regclass AND d.objid = d.refobjid THEN (SELECT quote_ident(g.attname) FROM pg_attribute g WHERE g.attrelid = d.objid AND g.attnum = d.objsubid) \
WHEN d.classid = 'pg_class'::regclass THEN (SELECT c.relname::text FROM pg_class c WHERE c.oid = d.objid) \
WHEN d.classid = 'pg_constraint'::regclass THEN (SELECT conname::text FROM pg_constraint WHERE oid = d.objid) \
WHEN d.classid = 'pg_trigger'::regclass THEN (SELECT tgname::text FROM pg_trigger WHERE oid = d.objid) \
WHEN d.classid = 'pg_statistic_ext'::regclass THEN (SELECT stxname::text FROM pg_statistic_ext WHERE oid = d.objid) \
WHEN d.classid = 'pg_rewrite'::regclass THEN (SELECT ev_class::regclass::text FROM pg_rewrite WHERE oid = d.objid) \
ELSE d.objid::text END AS name \
FROM pg_depend d JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid \
WHERE d.refclassid = 'pg_class'::regclass AND d.refobjid = to_regclass({}) AND a.attname = {} AND d.deptype IN ('n', 'a')\
) dependents WHERE kind IS NOT NULL AND name NOT IN ({known}) ORDER BY 1",
        D.string(&D.ident(table)),
        D.string(column)
    )
}

/// A row when `table` has a column called `column`.
pub(in crate::backend::postgres) fn column_query(table: &str, column: &str) -> String {
    format!(
        "SELECT 1 FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = {} AND column_name = {}",
        D.string(table),
        D.string(column)
    )
}

pub(super) fn not_exists(query: &str) -> String {
    format!("SELECT 1 WHERE NOT EXISTS ({query})")
}
