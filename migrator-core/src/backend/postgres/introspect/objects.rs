//! PostgreSQL: the objects outside the model (views, sequences, triggers,
//! functions, extensions, types, rules, policies) and what other schemas
//! hold.

use diesel::pg::PgConnection;

use super::{load, ObjectRow};
use crate::introspect::{IntrospectError, Outside, OutsideKind};

/// A user schema other than the current one (not PostgreSQL's own, not
/// an extension's), as `n`.
const OTHER_SCHEMA: &str = "n.nspname <> current_schema() AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') \
     AND n.nspname NOT LIKE 'pg\\_temp\\_%' AND n.nspname NOT LIKE 'pg\\_toast\\_temp\\_%' \
     AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.objid = n.oid AND e.deptype = 'e')";

/// Views, sequences, triggers, functions, extensions, types, rules and
/// policies of the current schema, except what belongs to an extension;
/// the functions of other schemas its triggers call, with their schemas;
/// and, one entry per other schema, what the rest of it holds.
pub(super) fn read_objects(
    conn: &mut PgConnection,
    outside: &mut Vec<Outside>,
    elsewhere: &mut Vec<Outside>,
) -> Result<(), IntrospectError> {
    let not_extension = |oid: &str| {
        format!("NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.objid = {oid} AND e.deptype = 'e')")
    };
    let queries = [
        format!(
            "SELECT c.relkind::text AS kind, c.relname::text AS name, '' AS tbl, \
               CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid) \
                 WHEN c.relkind = 'S' THEN (SELECT 'CREATE SEQUENCE IF NOT EXISTS ' || quote_ident(c.relname) || ' AS ' || format_type(s.seqtypid, NULL) \
                   || ' INCREMENT BY ' || s.seqincrement || ' MINVALUE ' || s.seqmin || ' MAXVALUE ' || s.seqmax \
                   || ' START WITH ' || s.seqstart || ' CACHE ' || s.seqcache || CASE WHEN s.seqcycle THEN ' CYCLE' ELSE '' END \
                   FROM pg_sequence s WHERE s.seqrelid = c.oid) END AS def \
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = current_schema() AND {} AND (c.relkind IN ('v', 'm', 'f', 'c') \
               OR (c.relkind = 'S' AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('a', 'i'))))",
            not_extension("c.oid")
        ),
        "SELECT 'trigger' AS kind, t.tgname::text AS name, c.relname::text AS tbl, pg_get_triggerdef(t.oid) AS def \
         FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
         WHERE n.nspname = current_schema() AND NOT t.tgisinternal".to_string(),
        format!(
            "SELECT 'function' AS kind, p.proname::text || '(' || pg_get_function_identity_arguments(p.oid) || ')' AS name, '' AS tbl, \
               CASE WHEN p.prokind IN ('f', 'p') THEN pg_get_functiondef(p.oid) END AS def \
             FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
             WHERE n.nspname = current_schema() AND {}",
            not_extension("p.oid")
        ),
        // plpgsql is installed in every database; listing it would be noise.
        "SELECT 'extension' AS kind, extname::text AS name, '' AS tbl, 'CREATE EXTENSION IF NOT EXISTS ' || quote_ident(extname) AS def \
         FROM pg_extension WHERE extname <> 'plpgsql'".to_string(),
        format!(
            "SELECT 'type_' || t.typtype::text AS kind, t.typname::text AS name, '' AS tbl, \
               CASE t.typtype WHEN 'e' THEN 'CREATE TYPE ' || quote_ident(t.typname) || ' AS ENUM (' || (SELECT string_agg(quote_literal(e.enumlabel), ', ' ORDER BY e.enumsortorder) FROM pg_enum e WHERE e.enumtypid = t.oid) || ')' \
                 WHEN 'd' THEN 'CREATE DOMAIN ' || quote_ident(t.typname) || ' AS ' || format_type(t.typbasetype, t.typtypmod) \
                   || COALESCE(' DEFAULT ' || t.typdefault, '') || CASE WHEN t.typnotnull THEN ' NOT NULL' ELSE '' END \
                   || COALESCE((SELECT string_agg(' CONSTRAINT ' || quote_ident(k.conname) || ' ' || pg_get_constraintdef(k.oid), '' ORDER BY k.conname) \
                        FROM pg_constraint k WHERE k.contypid = t.oid AND k.contype = 'c'), '') END AS def \
             FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace \
             WHERE n.nspname = current_schema() AND t.typtype IN ('e', 'd', 'r') AND {}",
            not_extension("t.oid")
        ),
        "SELECT 'statistics' AS kind, s.stxname::text AS name, c.relname::text AS tbl, pg_get_statisticsobjdef(s.oid) AS def \
         FROM pg_statistic_ext s JOIN pg_class c ON c.oid = s.stxrelid JOIN pg_namespace n ON n.oid = s.stxnamespace \
         WHERE n.nspname = current_schema()".to_string(),
        "SELECT 'rule' AS kind, rulename::text AS name, tablename::text AS tbl, definition AS def \
         FROM pg_rules WHERE schemaname = current_schema()".to_string(),
        "SELECT 'policy' AS kind, policyname::text AS name, tablename::text AS tbl, NULL::text AS def \
         FROM pg_policies WHERE schemaname = current_schema()".to_string(),
        // Functions of other schemas that the current schema's triggers
        // call, named `schema.function(args)`, and those schemas: a
        // baseline without them fails on an empty database.
        format!(
            "WITH used AS (SELECT DISTINCT p.oid, n.nspname FROM pg_trigger t \
               JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace cn ON cn.oid = c.relnamespace \
               JOIN pg_proc p ON p.oid = t.tgfoid JOIN pg_namespace n ON n.oid = p.pronamespace \
               WHERE cn.nspname = current_schema() AND NOT t.tgisinternal AND {OTHER_SCHEMA} AND {}) \
             SELECT 'function' AS kind, u.nspname::text || '.' || p.proname::text || '(' || pg_get_function_identity_arguments(p.oid) || ')' AS name, \
               '' AS tbl, pg_get_functiondef(p.oid) AS def FROM used u JOIN pg_proc p ON p.oid = u.oid \
             UNION ALL SELECT DISTINCT 'schema', u.nspname::text, '', 'CREATE SCHEMA IF NOT EXISTS ' || quote_ident(u.nspname) FROM used u",
            not_extension("p.oid")
        ),
        // Everything else in other schemas, one row per schema listing it.
        format!(
            "WITH used AS (SELECT DISTINCT t.tgfoid AS oid FROM pg_trigger t \
               JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace cn ON cn.oid = c.relnamespace \
               WHERE cn.nspname = current_schema() AND NOT t.tgisinternal), \
             objects AS ( \
               SELECT n.nspname, CASE c.relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized view' WHEN 'S' THEN 'sequence' \
                 WHEN 'f' THEN 'foreign table' ELSE 'table' END || ' `' || c.relname || '`' AS what \
               FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
               WHERE c.relkind IN ('r', 'p', 'v', 'm', 'S', 'f') AND {OTHER_SCHEMA} AND {} \
                 AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype IN ('a', 'i'))) \
               UNION ALL SELECT n.nspname, 'function `' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')`' \
               FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
               WHERE {OTHER_SCHEMA} AND {} AND p.oid NOT IN (SELECT oid FROM used) \
               UNION ALL SELECT n.nspname, 'type `' || t.typname || '`' FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace \
               WHERE t.typtype IN ('e', 'd', 'r') AND {OTHER_SCHEMA} AND {}) \
             SELECT 'other_schema' AS kind, nspname::text AS name, '' AS tbl, string_agg(what, ', ' ORDER BY what) AS def \
             FROM objects GROUP BY nspname",
            not_extension("c.oid"),
            not_extension("p.oid"),
            not_extension("t.oid")
        ),
    ];
    for q in queries {
        let rows: Vec<ObjectRow> = load(conn, q)?;
        for r in rows {
            let kind = match r.kind.as_str() {
                "v" => OutsideKind::View,
                "m" => OutsideKind::MaterializedView,
                "f" => OutsideKind::ForeignTable,
                "c" => OutsideKind::CompositeType,
                "S" => OutsideKind::Sequence,
                "trigger" => OutsideKind::Trigger,
                "function" => OutsideKind::Function,
                "extension" => OutsideKind::Extension,
                "type_e" => OutsideKind::EnumType,
                "type_d" => OutsideKind::DomainType,
                "type_r" => OutsideKind::RangeType,
                "rule" => OutsideKind::Rule,
                "policy" => OutsideKind::Policy,
                "statistics" => OutsideKind::Statistics,
                "schema" => OutsideKind::Schema,
                "other_schema" => OutsideKind::OtherSchema,
                _ => continue,
            };
            let o = Outside {
                kind,
                name: r.name,
                table: (!r.tbl.is_empty()).then_some(r.tbl),
                definition: r.def,
            };
            if kind == OutsideKind::OtherSchema {
                elsewhere.push(o);
            } else {
                outside.push(o);
            }
        }
    }
    Ok(())
}
