//! PostgreSQL introspection: `pg_catalog`, scoped to `current_schema()`.
//!
//! Contract (on top of the module contract in `introspect`):
//! - types come from `format_type` (see `types::pg_type`), defaults from
//!   `pg_get_expr`, checks from `pg_get_constraintdef` (without `CHECK (..)`
//!   and without the outer parentheses PostgreSQL adds);
//! - identity columns (`BY DEFAULT` or `ALWAYS`, the latter noted) and
//!   `serial` columns (a `nextval` default on a sequence the column owns)
//!   are `auto_increment` without a default;
//! - unique constraints are `contype = 'u'`; a unique index that backs no
//!   constraint is reported as a unique constraint too, with a note;
//! - the primary key is read from its constraint, in key order;
//! - [`expected`] creates the snapshot's tables as temporary tables (column
//!   types, defaults, checks only) inside a transaction that is always
//!   rolled back, and reads them back through the same queries, so both
//!   sides of a comparison carry PostgreSQL's own spelling. A table the
//!   probe cannot create falls back to `normalize`'s textual rules.

use diesel::pg::PgConnection;
use diesel::sql_types::{Nullable, Text};
use diesel::{QueryableByName, RunQueryDsl};

use super::types;

mod expected;
mod objects;
use crate::dialect::Dialect;
use crate::introspect::normalize::{self, Source};
use crate::introspect::{is_internal_table, IntrospectError, Introspected, Outside, OutsideKind};
use crate::schema::{Check, Column, ForeignKey, Index, RefAction, Schema, Table, Unique};
pub(crate) use expected::expected;
use objects::read_objects;

pub(super) const D: Dialect = Dialect::Postgres;

/// Which tables a query reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Scope {
    /// The user's tables: the schema unqualified names resolve to.
    Current,
    /// This session's temporary tables (the probe of [`expected`]).
    Temp,
}

impl Scope {
    fn namespace(self) -> &'static str {
        match self {
            Scope::Current => "n.nspname = current_schema()",
            Scope::Temp => "n.oid = pg_my_temp_schema()",
        }
    }
}

/// Separator of column lists in query results (names may hold commas).
const SEP: char = '\u{1f}';

#[derive(QueryableByName)]
struct TextRow {
    #[diesel(sql_type = Text)]
    value: String,
}

#[derive(QueryableByName)]
struct TableRow {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    parent: String,
}

#[derive(QueryableByName)]
struct ColumnRow {
    #[diesel(sql_type = Text)]
    tbl: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    ty: String,
    #[diesel(sql_type = Text)]
    builtin: String,
    #[diesel(sql_type = Text)]
    not_null: String,
    #[diesel(sql_type = Nullable<Text>)]
    dflt: Option<String>,
    #[diesel(sql_type = Text)]
    identity: String,
    #[diesel(sql_type = Text)]
    generated: String,
    #[diesel(sql_type = Text)]
    owns_sequence: String,
    #[diesel(sql_type = Nullable<Text>)]
    collation: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    comment: Option<String>,
    /// An identity column's `START WITH` and `INCREMENT BY`.
    #[diesel(sql_type = Nullable<Text>)]
    identity_options: Option<String>,
}

#[derive(QueryableByName)]
struct ConstraintRow {
    #[diesel(sql_type = Text)]
    tbl: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Text)]
    def: String,
    #[diesel(sql_type = Text)]
    cols: String,
    #[diesel(sql_type = Text)]
    ref_table: String,
    /// True when the referenced table is in another schema.
    #[diesel(sql_type = Text)]
    ref_elsewhere: String,
    #[diesel(sql_type = Text)]
    ref_cols: String,
    #[diesel(sql_type = Text)]
    on_delete: String,
    #[diesel(sql_type = Text)]
    on_update: String,
    #[diesel(sql_type = Text)]
    validated: String,
    #[diesel(sql_type = Text)]
    deferrable: String,
}

#[derive(QueryableByName)]
struct IndexRow {
    #[diesel(sql_type = Text)]
    tbl: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    is_unique: String,
    #[diesel(sql_type = Text)]
    partial: String,
    #[diesel(sql_type = Text)]
    expressions: String,
    #[diesel(sql_type = Text)]
    valid: String,
    #[diesel(sql_type = Text)]
    plain: String,
    #[diesel(sql_type = Text)]
    constraint: String,
    #[diesel(sql_type = Text)]
    cols: String,
    #[diesel(sql_type = Text)]
    def: String,
}

/// An object outside the model: views, triggers, functions and the like.
#[derive(QueryableByName)]
struct ObjectRow {
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    tbl: String,
    #[diesel(sql_type = Nullable<Text>)]
    def: Option<String>,
}

fn load<R: QueryableByName<diesel::pg::Pg> + 'static>(
    conn: &mut PgConnection,
    query: String,
) -> Result<Vec<R>, IntrospectError> {
    diesel::sql_query(&query)
        .load(conn)
        .map_err(|e| IntrospectError {
            dialect: D,
            message: e.to_string(),
            query,
        })
}

/// `string_agg` of the names of `attnums` (an array expression) of relation
/// `rel`, in array order, separated by [`SEP`].
fn names_of(attnums: &str, rel: &str, filter: &str) -> String {
    format!(
        "COALESCE((SELECT string_agg(att.attname::text, chr(31) ORDER BY u.ord) FROM unnest({attnums}) WITH ORDINALITY AS u(attnum, ord) JOIN pg_attribute att ON att.attrelid = {rel} AND att.attnum = u.attnum {filter}), '')"
    )
}

fn split(list: &str) -> Vec<String> {
    if list.is_empty() {
        Vec::new()
    } else {
        list.split(SEP).map(str::to_string).collect()
    }
}

pub(crate) fn introspect(conn: &mut PgConnection) -> Result<Introspected, IntrospectError> {
    let mut out = Introspected {
        dialect: D,
        schema: Schema::new(),
        outside: Vec::new(),
        notes: Vec::new(),
        elsewhere: Vec::new(),
    };
    out.schema = read_tables(conn, Scope::Current, &mut out.outside, &mut out.notes)?;
    read_objects(conn, &mut out.outside, &mut out.elsewhere)?;
    // The server prints some definitions with the current schema's name
    // (`pg_get_indexdef`: `ON public.items`); an adopted baseline must build
    // them in whichever schema it runs in (`--schema`, tenants), so that
    // name is taken out. Other schemas' names stay.
    let current: Vec<TextRow> = load(
        conn,
        "SELECT COALESCE(current_schema()::text, '') AS value".to_string(),
    )?;
    if let Some(schema) = current
        .first()
        .map(|r| r.value.as_str())
        .filter(|s| !s.is_empty())
    {
        let mode = D.backend().lex_modes()[0];
        for o in &mut out.outside {
            if matches!(o.kind, OutsideKind::Schema | OutsideKind::OtherSchema) {
                continue;
            }
            if let Some(def) = &mut o.definition {
                *def = crate::sql_lex::unqualify(def, schema, mode);
            }
        }
    }
    out.outside.sort();
    Ok(out)
}

/// The tables of `scope`, with everything attached to them.
pub(super) fn read_tables(
    conn: &mut PgConnection,
    scope: Scope,
    outside: &mut Vec<Outside>,
    notes: &mut Vec<String>,
) -> Result<Schema, IntrospectError> {
    let ns = scope.namespace();
    let tables: Vec<TableRow> = load(
        conn,
        format!(
            "SELECT c.relname::text AS name, COALESCE((SELECT p.relname::text FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent WHERE i.inhrelid = c.oid AND c.relispartition LIMIT 1), '') AS parent \
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE {ns} AND c.relkind IN ('r', 'p') ORDER BY c.relname"
        ),
    )?;
    let mut schema = Schema::new();
    for t in tables {
        if is_internal_table(&t.name) {
            continue;
        }
        if !t.parent.is_empty() {
            outside.push(Outside {
                kind: OutsideKind::Partition,
                name: t.name,
                table: Some(t.parent),
                definition: None,
            });
            continue;
        }
        schema.insert(Table::new(t.name));
    }

    let columns: Vec<ColumnRow> = load(
        conn,
        format!(
            "SELECT c.relname::text AS tbl, a.attname::text AS name, format_type(a.atttypid, a.atttypmod) AS ty, \
               (COALESCE(NULLIF(t.typelem, 0), t.oid) IN (SELECT oid FROM pg_type WHERE typnamespace = 'pg_catalog'::regnamespace))::text AS builtin, \
               a.attnotnull::text AS not_null, pg_get_expr(d.adbin, d.adrelid) AS dflt, \
               a.attidentity::text AS identity, a.attgenerated::text AS generated, \
               EXISTS (SELECT 1 FROM pg_depend dep JOIN pg_class s ON s.oid = dep.objid AND s.relkind = 'S' WHERE dep.classid = 'pg_class'::regclass AND dep.refobjid = c.oid AND dep.refobjsubid = a.attnum AND dep.deptype = 'a')::text AS owns_sequence, \
               (SELECT co.collname::text FROM pg_collation co WHERE co.oid = a.attcollation AND a.attcollation <> t.typcollation) AS collation, \
               col_description(c.oid, a.attnum) AS comment, \
               (SELECT s.seqstart || ' ' || s.seqincrement FROM pg_depend dep JOIN pg_sequence s ON s.seqrelid = dep.objid \
                 WHERE a.attidentity <> '' AND dep.classid = 'pg_class'::regclass AND dep.refobjid = c.oid AND dep.refobjsubid = a.attnum AND dep.deptype = 'i' LIMIT 1) AS identity_options \
             FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace \
             JOIN pg_type t ON t.oid = a.atttypid \
             LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum \
             WHERE {ns} AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped \
             ORDER BY c.relname, a.attnum"
        ),
    )?;
    for r in columns {
        let Some(t) = schema.tables.get_mut(&r.tbl) else {
            continue;
        };
        let ty = types::pg_type(&r.ty, r.builtin == "true");
        let mut c = Column::new(r.name.clone(), ty);
        c.nullable = r.not_null != "true";
        c.collation = r.collation.clone();
        c.comment = r.comment.clone();
        if let Some((start, increment)) = r
            .identity_options
            .as_deref()
            .and_then(|o| o.split_once(' '))
            .and_then(|(s, i)| Some((s.parse::<i64>().ok()?, i.parse::<i64>().ok()?)))
        {
            // The defaults read back as none, as a model without them says.
            let default_start = if increment < 0 { -1 } else { 1 };
            c.identity_start = (start != default_start).then_some(start);
            c.identity_increment = (increment != 1).then_some(increment);
        }
        match r.identity.as_str() {
            "d" => c.auto_increment = true,
            "a" => {
                c.auto_increment = true;
                c.identity_always = true;
            }
            _ => {}
        }
        if !r.generated.is_empty() {
            // The column's definition after its name, as adoption recreates
            // it: `integer GENERATED ALWAYS AS (a * 2) STORED`.
            outside.push(Outside {
                kind: OutsideKind::GeneratedColumn,
                name: r.name.clone(),
                table: Some(r.tbl.clone()),
                definition: r.dflt.as_ref().map(|e| {
                    format!(
                        "{}{} GENERATED ALWAYS AS ({e}) STORED",
                        r.ty,
                        if r.not_null == "true" {
                            " NOT NULL"
                        } else {
                            ""
                        }
                    )
                }),
            });
            // Outside the model only: a plain column of that name in the
            // model would be rebuilt without its expression.
            continue;
        } else if let Some(d) = r.dflt.as_deref() {
            if r.owns_sequence == "true" && d.trim_start().starts_with("nextval(") {
                // serial / bigserial: an auto-increment by another name,
                // which a database built from the migrations spells as an
                // identity column.
                c.auto_increment = true;
                notes.push(format!(
                    "column `{}.{}` is serial (a sequence default); migrator renders GENERATED BY DEFAULT AS IDENTITY",
                    r.tbl, r.name
                ));
            } else {
                c.default = normalize::default_value(d, &c.ty, Source::Postgres);
            }
        }
        t.columns.push(c);
    }

    // Tables' comments, and the names of primary keys not named
    // `<table>_pkey` (the name PostgreSQL gives a key that names none).
    let unmodelled: Vec<ObjectRow> = load(
        conn,
        format!(
            "SELECT 'comment' AS kind, c.relname::text AS name, '' AS tbl, obj_description(c.oid, 'pg_class') AS def \
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE {ns} AND c.relkind IN ('r', 'p') AND obj_description(c.oid, 'pg_class') IS NOT NULL \
             UNION ALL SELECT 'pkey', k.conname::text, r.relname::text, NULL \
             FROM pg_constraint k JOIN pg_class r ON r.oid = k.conrelid JOIN pg_namespace n ON n.oid = r.relnamespace \
             WHERE {ns} AND k.contype = 'p' AND k.conname::text NOT IN (r.relname::text || '_pkey', left(r.relname::text, 58) || '_pkey')"
        ),
    )?;
    for u in unmodelled {
        if u.kind == "comment" {
            if let Some(t) = schema.tables.get_mut(&u.name) {
                t.comment = u.def;
            }
            continue;
        }
        if let Some(t) = schema.tables.get_mut(&u.tbl) {
            if u.name != crate::schema::naming::primary_key(&u.tbl) {
                t.primary_key_name = Some(u.name);
            }
        }
    }

    let constraints: Vec<ConstraintRow> = load(
        conn,
        format!(
            "SELECT r.relname::text AS tbl, k.conname::text AS name, k.contype::text AS kind, pg_get_constraintdef(k.oid) AS def, \
               {} AS cols, COALESCE(f.relname::text, '') AS ref_table, COALESCE(f.relnamespace <> r.relnamespace, false)::text AS ref_elsewhere, {} AS ref_cols, \
               k.confdeltype::text AS on_delete, k.confupdtype::text AS on_update, \
               k.convalidated::text AS validated, k.condeferrable::text AS deferrable \
             FROM pg_constraint k JOIN pg_class r ON r.oid = k.conrelid JOIN pg_namespace n ON n.oid = r.relnamespace \
             LEFT JOIN pg_class f ON f.oid = k.confrelid \
             WHERE {ns} AND r.relkind IN ('r', 'p') ORDER BY r.relname, k.conname",
            names_of("k.conkey", "k.conrelid", ""),
            names_of("k.confkey", "k.confrelid", ""),
        ),
    )?;
    for k in constraints {
        let Some(t) = schema.tables.get_mut(&k.tbl) else {
            continue;
        };
        let cols = split(&k.cols);
        if k.validated == "false" {
            notes.push(format!(
                "constraint `{}` on `{}` is NOT VALID (existing rows are not checked)",
                k.name, k.tbl
            ));
        }
        if k.deferrable == "true" {
            notes.push(format!(
                "constraint `{}` on `{}` is DEFERRABLE; the model does not say so",
                k.name, k.tbl
            ));
        }
        match k.kind.as_str() {
            "p" => t.primary_key = cols,
            "u" => {
                if k.def.contains("INCLUDE") {
                    notes.push(format!(
                        "unique constraint `{}` on `{}` has options the model does not have: {}",
                        k.name, k.tbl, k.def
                    ));
                }
                t.uniques.push(Unique {
                    nulls_not_distinct: k.def.contains("NULLS NOT DISTINCT"),
                    name: k.name,
                    columns: cols,
                });
            }
            "f" => {
                if k.ref_elsewhere == "true" {
                    notes.push(format!(
                        "foreign key `{}` on `{}` references `{}` in another schema: {}",
                        k.name, k.tbl, k.ref_table, k.def
                    ));
                }
                t.foreign_keys.push(ForeignKey {
                    name: k.name,
                    columns: cols,
                    ref_table: k.ref_table,
                    ref_columns: split(&k.ref_cols),
                    on_delete: action(&k.on_delete),
                    on_update: action(&k.on_update),
                });
            }
            "c" => t.checks.push(Check {
                name: k.name,
                expr: check_expr(&k.def),
            }),
            "x" => outside.push(Outside {
                kind: OutsideKind::ExclusionConstraint,
                name: k.name,
                table: Some(k.tbl),
                definition: Some(k.def),
            }),
            // NOT NULL constraints (PostgreSQL 18) are the columns' flags;
            // constraint triggers are listed with the triggers.
            _ => {}
        }
    }

    let indexes: Vec<IndexRow> = load(
        conn,
        format!(
            "SELECT t.relname::text AS tbl, i.relname::text AS name, x.indisunique::text AS is_unique, \
               (x.indpred IS NOT NULL)::text AS partial, (x.indexprs IS NOT NULL)::text AS expressions, \
               x.indisvalid::text AS valid, \
               (am.amname = 'btree' AND x.indnatts = x.indnkeyatts AND NOT EXISTS (SELECT 1 FROM unnest(x.indoption::int2[]) o WHERE o <> 0) \
                 AND NOT EXISTS (SELECT 1 FROM unnest(x.indclass::oid[]) oc JOIN pg_opclass c ON c.oid = oc WHERE NOT c.opcdefault) \
                 AND NOT EXISTS (SELECT 1 FROM unnest(x.indcollation::oid[]) co WHERE co <> 0 AND co <> 100))::text AS plain, \
               EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = x.indexrelid AND k.conrelid = x.indrelid AND k.contype IN ('p', 'u', 'x'))::text AS constraint, \
               {} AS cols, pg_get_indexdef(x.indexrelid) AS def \
             FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid \
             JOIN pg_namespace n ON n.oid = t.relnamespace JOIN pg_am am ON am.oid = i.relam \
             WHERE {ns} AND t.relkind IN ('r', 'p') ORDER BY t.relname, i.relname",
            names_of("x.indkey::int2[]", "x.indrelid", "WHERE u.ord <= x.indnkeyatts"),
        ),
    )?;
    for x in indexes {
        if x.constraint == "true" {
            continue;
        }
        let Some(t) = schema.tables.get_mut(&x.tbl) else {
            continue;
        };
        if x.partial == "true" || x.expressions == "true" || x.plain != "true" {
            outside.push(Outside {
                kind: if x.partial == "true" {
                    OutsideKind::PartialIndex
                } else if x.expressions == "true" {
                    OutsideKind::ExpressionIndex
                } else {
                    OutsideKind::SpecialIndex
                },
                name: x.name,
                table: Some(x.tbl),
                definition: Some(x.def),
            });
            continue;
        }
        if x.valid != "true" {
            notes.push(format!(
                "index `{}` on `{}` is INVALID (a failed concurrent build); drop and recreate it",
                x.name, x.tbl
            ));
        }
        let columns = split(&x.cols);
        if x.is_unique == "true" {
            notes.push(format!(
                "unique index `{}` on `{}` backs no constraint; reported as a unique constraint",
                x.name, x.tbl
            ));
            t.uniques.push(Unique {
                nulls_not_distinct: x.def.contains("NULLS NOT DISTINCT"),
                name: x.name,
                columns,
            });
        } else {
            t.indexes.push(Index {
                name: x.name,
                columns,
            });
        }
    }
    for t in schema.tables.values_mut() {
        t.normalize();
    }
    Ok(schema)
}

fn action(code: &str) -> RefAction {
    match code {
        "r" => RefAction::Restrict,
        "c" => RefAction::Cascade,
        "n" => RefAction::SetNull,
        "d" => RefAction::SetDefault,
        _ => RefAction::NoAction,
    }
}

/// The expression of `CHECK ((expr)) [NOT VALID] [NO INHERIT]`.
fn check_expr(def: &str) -> String {
    let mut d = def.trim();
    for suffix in [" NOT VALID", " NO INHERIT"] {
        d = d.strip_suffix(suffix).unwrap_or(d).trim_end();
    }
    let d = d.strip_prefix("CHECK").unwrap_or(d).trim();
    // `CHECK (` + PostgreSQL's own parentheses around the expression.
    let d = normalize::strip_outer_parens(d);
    normalize::strip_outer_parens(d).to_string()
}
