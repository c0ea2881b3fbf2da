//! SQLite introspection: `sqlite_master`, the table pragmas, and the text of
//! each `CREATE TABLE`.
//!
//! Contract (on top of the module contract in `introspect`):
//! - columns, primary key, indexes and foreign keys come from
//!   `pragma_table_xinfo`, `pragma_index_list`/`pragma_index_xinfo` and
//!   `pragma_foreign_key_list`; types are the declared text (see
//!   `types::sqlite_type`), defaults the `DEFAULT` text as stored;
//! - what the pragmas do not give is read from the stored `CREATE TABLE`
//!   text with a tokenizer: check constraints (table and column level, in
//!   order; unnamed ones are called `ck_<table>_<n>` after their position, as
//!   adopted snapshots have them; a check migrator creates is named), the names of foreign keys and inline unique
//!   constraints (`CONSTRAINT "fk_.."`; unnamed ones get the model's default
//!   name, `fk_<table>_<cols>` and `uq_<table>_<cols>`), and `AUTOINCREMENT`;
//! - a unique index is a unique constraint (that is how `dialect/sqlite.rs`
//!   renders them), whatever its name;
//! - a primary key column is reported NOT NULL (the rowid alias cannot be
//!   NULL; other key columns are NOT NULL whenever migrator created them).

use std::collections::BTreeMap;

use diesel::sql_types::{BigInt, Nullable, Text};
use diesel::sqlite::SqliteConnection;
use diesel::{QueryableByName, RunQueryDsl};

use super::types;

mod ddl;
use crate::dialect::{sqlite as render, Dialect};
use crate::introspect::normalize::{self, tokenize, Source};
use crate::introspect::{
    is_internal_table, key_columns_not_null, IntrospectError, Introspected, Outside, OutsideKind,
};
use crate::schema::{
    naming, Check, Column, ColumnType, ForeignKey, Index, RefAction, Schema, Table, Unique,
};
use ddl::parse_create_table;

const D: Dialect = Dialect::Sqlite;

#[derive(QueryableByName)]
struct MasterRow {
    #[diesel(sql_type = Text)]
    kind: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    tbl: String,
    #[diesel(sql_type = Nullable<Text>)]
    sql: Option<String>,
}

#[derive(QueryableByName)]
struct ColumnRow {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    ty: String,
    #[diesel(sql_type = BigInt)]
    not_null: i64,
    #[diesel(sql_type = Nullable<Text>)]
    dflt: Option<String>,
    #[diesel(sql_type = BigInt)]
    pk: i64,
    #[diesel(sql_type = BigInt)]
    hidden: i64,
}

#[derive(QueryableByName)]
struct OptionRow {
    #[diesel(sql_type = Text)]
    tbl: String,
    #[diesel(sql_type = Text)]
    option: String,
}

#[derive(QueryableByName)]
struct IndexRow {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = BigInt)]
    uniq: i64,
    #[diesel(sql_type = Text)]
    origin: String,
    #[diesel(sql_type = BigInt)]
    partial: i64,
}

#[derive(QueryableByName)]
struct IndexColumnRow {
    #[diesel(sql_type = BigInt)]
    cid: i64,
    #[diesel(sql_type = Nullable<Text>)]
    name: Option<String>,
    #[diesel(sql_type = BigInt)]
    descending: i64,
    #[diesel(sql_type = Nullable<Text>)]
    coll: Option<String>,
}

#[derive(QueryableByName)]
struct ForeignKeyRow {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    tbl: String,
    #[diesel(sql_type = Text)]
    col_from: String,
    #[diesel(sql_type = Nullable<Text>)]
    col_to: Option<String>,
    #[diesel(sql_type = Text)]
    on_update: String,
    #[diesel(sql_type = Text)]
    on_delete: String,
}

fn load<R: QueryableByName<diesel::sqlite::Sqlite> + 'static>(
    conn: &mut SqliteConnection,
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

pub(crate) fn introspect(conn: &mut SqliteConnection) -> Result<Introspected, IntrospectError> {
    let master: Vec<MasterRow> = load(
        conn,
        "SELECT type AS kind, name, tbl_name AS tbl, sql FROM sqlite_master ORDER BY name".into(),
    )?;
    let index_sql: BTreeMap<&str, &str> = master
        .iter()
        .filter(|m| m.kind == "index")
        .filter_map(|m| Some((m.name.as_str(), m.sql.as_deref()?)))
        .collect();
    let mut out = Introspected {
        dialect: D,
        schema: Schema::new(),
        outside: Vec::new(),
        notes: Vec::new(),
        elsewhere: Vec::new(),
    };
    for m in &master {
        let sql = m.sql.clone();
        match m.kind.as_str() {
            "view" => out.outside.push(Outside {
                kind: OutsideKind::View,
                name: m.name.clone(),
                table: None,
                definition: sql,
            }),
            "trigger" => out.outside.push(Outside {
                kind: OutsideKind::Trigger,
                name: m.name.clone(),
                table: Some(m.tbl.clone()),
                definition: sql,
            }),
            "table" if m.name.starts_with("sqlite_") || is_internal_table(&m.name) => {}
            "table" if m.name.starts_with(render::REBUILD_PREFIX) => out.notes.push(format!(
                "table `{}` is the scratch table of an interrupted SQLite rebuild; it was left out",
                m.name
            )),
            "table" => {
                let sql = sql.unwrap_or_default();
                if starts_with_words(&sql, &["CREATE", "VIRTUAL"]) {
                    out.outside.push(Outside {
                        kind: OutsideKind::VirtualTable,
                        name: m.name.clone(),
                        table: None,
                        definition: Some(sql),
                    });
                    continue;
                }
                let t = table(conn, &m.name, &sql, &index_sql, &mut out)?;
                out.schema.insert(t);
            }
            _ => {}
        }
    }
    // The table options, for every table in one query.
    let options: Vec<OptionRow> = load(
        conn,
        "SELECT name AS tbl, 'STRICT' AS option FROM pragma_table_list WHERE schema = 'main' AND type = 'table' AND strict \
         UNION ALL SELECT name AS tbl, 'WITHOUT ROWID' AS option FROM pragma_table_list WHERE schema = 'main' AND type = 'table' AND wr \
         ORDER BY 1, 2 DESC"
            .into(),
    )?;
    for o in &options {
        if let Some(t) = out.schema.tables.get_mut(&o.tbl) {
            match o.option.as_str() {
                "STRICT" => t.strict = true,
                _ => {
                    t.without_rowid = true;
                    for c in &mut t.columns {
                        if let ColumnType::Custom(declared) = &c.ty {
                            let width = types::sqlite_type(declared);
                            if is_width(&width) {
                                c.ty = width;
                            }
                        }
                    }
                }
            }
        }
    }
    out.schema.normalize();
    out.outside.sort();
    Ok(out)
}

/// The columns of `table` as `pragma_table_info` declares them.
fn table_info(conn: &mut SqliteConnection, table: &str) -> Result<Vec<ColumnRow>, IntrospectError> {
    load(
        conn,
        format!("SELECT name, type AS ty, \"notnull\" AS not_null, dflt_value AS dflt, pk, 0 AS hidden FROM pragma_table_info({})", D.string(table)),
    )
}

/// One of the portable integer widths.
fn is_width(ty: &ColumnType) -> bool {
    matches!(
        ty,
        ColumnType::SmallInt | ColumnType::Integer | ColumnType::BigInt
    )
}

/// The type of a rowid table's single key column declared `declared` and
/// read as `ty`: an integer width declared otherwise than exactly
/// `INTEGER` is not the rowid alias, and stays its declared text.
fn not_rowid(declared: &str, ty: ColumnType) -> ColumnType {
    if is_width(&ty) && !declared.trim().eq_ignore_ascii_case("INTEGER") {
        ColumnType::Custom(declared.trim().to_string())
    } else {
        ty
    }
}

fn starts_with_words(sql: &str, words: &[&str]) -> bool {
    let toks = tokenize(sql);
    toks.len() >= words.len() && words.iter().zip(&toks).all(|(w, t)| t.is_word(w))
}

fn table(
    conn: &mut SqliteConnection,
    name: &str,
    sql: &str,
    index_sql: &BTreeMap<&str, &str>,
    out: &mut Introspected,
) -> Result<Table, IntrospectError> {
    let lit = D.string(name);
    let ddl = parse_create_table(sql);
    let mut t = Table::new(name);

    let cols: Vec<ColumnRow> = load(
        conn,
        format!("SELECT name, type AS ty, \"notnull\" AS not_null, dflt_value AS dflt, pk, hidden FROM pragma_table_xinfo({lit}) ORDER BY cid"),
    )?;
    let mut key: Vec<(i64, String)> = Vec::new();
    let mut key_declared: Vec<(String, String)> = Vec::new();
    for c in cols {
        // 1: a hidden column of a virtual table; 2 and 3: generated.
        if c.hidden == 1 {
            continue;
        }
        if c.hidden >= 2 {
            // Outside the model only (as on the other databases): a model
            // column would be rebuilt without its expression.
            out.outside.push(Outside {
                kind: OutsideKind::GeneratedColumn,
                name: c.name.clone(),
                table: Some(name.to_string()),
                definition: ddl
                    .columns
                    .iter()
                    .find(|(column, _)| column.eq_ignore_ascii_case(&c.name))
                    .map(|(_, d)| d.clone()),
            });
            continue;
        }
        if c.pk > 0 {
            key.push((c.pk, c.name.clone()));
            key_declared.push((c.name.clone(), c.ty.trim().to_string()));
        }
        let ty = if c.ty.trim().is_empty() {
            out.notes.push(format!(
                "column `{name}.{}` has no declared type; reported as `blob`",
                c.name
            ));
            ColumnType::Blob
        } else {
            types::sqlite_type(&c.ty)
        };
        let default = c
            .dflt
            .as_deref()
            .and_then(|d| normalize::default_value(d, &ty, Source::Sqlite));
        let mut col = Column::new(c.name.clone(), ty);
        col.nullable = c.not_null == 0 && c.pk == 0;
        col.default = if c.hidden >= 2 { None } else { default };
        col.collation = ddl
            .collations
            .iter()
            .find(|(column, _)| *column == c.name)
            .map(|(_, collation)| collation.clone());
        t.columns.push(col);
    }
    key.sort();
    t.primary_key = key.into_iter().map(|(_, n)| n).collect();
    // A single integer key declared otherwise than exactly `INTEGER`
    // (`BIGINT PRIMARY KEY`) is no rowid alias: it is read as declared, so
    // that a model or baseline of it keeps what it is (the renderer makes
    // the rowid of a single key of a portable integer type). In a WITHOUT
    // ROWID table no key is the rowid: `introspect` reads it back to its
    // width once it knows the option.
    if let [(only, declared)] = key_declared.as_slice() {
        if let Some(c) = t.column_mut(only) {
            c.ty = not_rowid(declared, c.ty.clone());
        }
    }
    if let [only] = t.primary_key.as_slice() {
        if ddl.autoincrement.as_deref() == Some(only.as_str()) {
            let only = only.clone();
            if let Some(c) = t.column_mut(&only) {
                c.auto_increment = true;
            }
        }
    }

    // Indexes and unique constraints.
    let indexes: Vec<IndexRow> = load(
        conn,
        format!("SELECT name, \"unique\" AS uniq, origin, partial FROM pragma_index_list({lit}) ORDER BY seq"),
    )?;
    let mut inline_uniques = ddl.uniques.clone();
    for i in indexes {
        if i.origin == "pk" {
            continue;
        }
        let cols: Vec<IndexColumnRow> = load(
            conn,
            format!(
                "SELECT cid, name, \"desc\" AS descending, coll FROM pragma_index_xinfo({}) WHERE key = 1 ORDER BY seqno",
                D.string(&i.name)
            ),
        )?;
        let definition = index_sql.get(i.name.as_str()).map(|s| s.to_string());
        // Over a generated column (outside the model): the index is too. A
        // UNIQUE constraint's automatic index has no SQL of its own; it
        // stays with the column's definition, named.
        let on_generated = cols
            .iter()
            .filter_map(|c| c.name.as_deref())
            .find(|n| t.column(n).is_none())
            .map(str::to_string);
        if let Some(column) = on_generated {
            match definition {
                Some(definition) => out.outside.push(Outside {
                    kind: OutsideKind::SpecialIndex,
                    name: i.name.clone(),
                    table: Some(name.to_string()),
                    definition: Some(definition),
                }),
                None => out.notes.push(format!(
                    "index `{}` on `{name}` is over the generated column `{column}`, outside the model with it",
                    i.name
                )),
            }
            continue;
        }
        if i.partial == 1 || cols.iter().any(|c| c.cid < 0) {
            out.outside.push(Outside {
                kind: if i.partial == 1 {
                    OutsideKind::PartialIndex
                } else {
                    OutsideKind::ExpressionIndex
                },
                name: i.name.clone(),
                table: Some(name.to_string()),
                definition,
            });
            continue;
        }
        // The column's own collation (modelled) is the index's by default:
        // only another one is special.
        let own = |c: &IndexColumnRow| {
            c.name
                .as_deref()
                .and_then(|n| t.column(n))
                .and_then(|col| col.collation.clone())
        };
        if cols.iter().any(|c| c.descending != 0)
            || cols.iter().any(|c| {
                c.coll.as_deref().is_some_and(|k| {
                    !k.eq_ignore_ascii_case("BINARY")
                        && !own(c).is_some_and(|o| o.eq_ignore_ascii_case(k))
                })
            })
        {
            // Descending or otherwise collated: the model has no word for it. An index
            // created with CREATE INDEX is kept whole, outside the model; a
            // UNIQUE constraint's automatic index (a collated column) has no
            // SQL of its own, so the constraint stays, with a note.
            if i.origin == "c" && definition.is_some() {
                out.outside.push(Outside {
                    kind: OutsideKind::SpecialIndex,
                    name: i.name.clone(),
                    table: Some(name.to_string()),
                    definition,
                });
                continue;
            }
            out.notes.push(format!(
                "index `{}` on `{name}` has a descending order or a collation; compared as a plain one",
                i.name
            ));
        }
        let columns: Vec<String> = cols.into_iter().filter_map(|c| c.name).collect();
        if i.origin == "u" {
            // An inline UNIQUE: its name is in the table's SQL, if anywhere.
            let named = inline_uniques
                .iter()
                .position(|(_, c)| *c == columns)
                .map(|p| inline_uniques.remove(p).0);
            t.uniques.push(Unique {
                name: named
                    .flatten()
                    .unwrap_or_else(|| naming::unique(name, &columns)),
                columns,
                nulls_not_distinct: false,
            });
        } else if i.uniq == 1 {
            t.uniques.push(Unique {
                name: i.name,
                columns,
                nulls_not_distinct: false,
            });
        } else {
            t.indexes.push(Index {
                name: i.name,
                columns,
            });
        }
    }

    // Foreign keys: the pragma gives no names; the table's SQL does.
    let fks: Vec<ForeignKeyRow> = load(
        conn,
        format!("SELECT id, \"table\" AS tbl, \"from\" AS col_from, \"to\" AS col_to, on_update, on_delete FROM pragma_foreign_key_list({lit}) ORDER BY id, seq"),
    )?;
    let mut grouped: BTreeMap<i64, Vec<ForeignKeyRow>> = BTreeMap::new();
    for f in fks {
        grouped.entry(f.id).or_default().push(f);
    }
    let mut named_fks = ddl.foreign_keys.clone();
    // The pragma lists a table's keys last first; the SQL's order is the
    // declaration order, which the name matching below prefers.
    for (_, rows) in grouped.into_iter().rev() {
        let first = &rows[0];
        let columns: Vec<String> = rows.iter().map(|r| r.col_from.clone()).collect();
        let mut ref_columns: Vec<String> = rows.iter().filter_map(|r| r.col_to.clone()).collect();
        if ref_columns.len() != columns.len() {
            // `REFERENCES t` without columns means t's primary key.
            ref_columns = primary_key_of(conn, &first.tbl)?;
        }
        let action = |s: &str, out: &mut Introspected| {
            RefAction::parse(s).unwrap_or_else(|| {
                out.notes.push(format!(
                    "a foreign key of `{name}` has the action `{s}`; reported as NO ACTION"
                ));
                RefAction::NoAction
            })
        };
        let on_delete = action(&first.on_delete, out);
        let on_update = action(&first.on_update, out);
        let same_target = |r: &Option<String>| {
            r.as_ref()
                .is_none_or(|r| r.eq_ignore_ascii_case(&first.tbl))
        };
        let fk_name = named_fks
            .iter()
            .position(|(_, c, r)| *c == columns && same_target(r))
            .and_then(|p| named_fks.remove(p).0)
            .unwrap_or_else(|| naming::foreign_key(name, &columns));
        t.foreign_keys.push(ForeignKey {
            name: fk_name,
            columns,
            ref_table: first.tbl.clone(),
            ref_columns,
            on_delete,
            on_update,
        });
    }

    t.checks = ddl
        .checks
        .iter()
        .enumerate()
        .map(|(n, (cname, expr))| Check {
            // The database's own unnamed checks: numbered, as adopted
            // snapshots have them (a check migrator creates is named).
            name: cname
                .clone()
                .unwrap_or_else(|| naming::positional_check(name, n + 1)),
            expr: expr.clone(),
        })
        .collect();
    t.normalize();
    Ok(t)
}

fn primary_key_of(
    conn: &mut SqliteConnection,
    table: &str,
) -> Result<Vec<String>, IntrospectError> {
    let cols: Vec<ColumnRow> = load(
        conn,
        format!("SELECT name, type AS ty, \"notnull\" AS not_null, dflt_value AS dflt, pk, 0 AS hidden FROM pragma_table_info({}) WHERE pk > 0 ORDER BY pk", D.string(table)),
    )?;
    Ok(cols.into_iter().map(|c| c.name).collect())
}

/// For `verify`: the columns of `live` declared exactly `INTEGER` (what an
/// earlier migrator declared for every integer) where the model's width is
/// now declared otherwise (`SMALLINT`) take the expected type: SQLite
/// stores every integer the same way. Any other difference of width (a
/// column declared `BIGINT` where the model says `smallint`) stays drift.
/// [`declaration_notes`] says what it means for diesel.
pub(crate) fn same_storage(
    conn: &mut SqliteConnection,
    live: &mut Schema,
    expected: &Schema,
) -> Result<(), IntrospectError> {
    let int = is_width;
    for (name, t) in live.tables.iter_mut() {
        let Some(e) = expected.tables.get(name) else {
            continue;
        };
        let differs = t.columns.iter().any(|c| {
            e.column(&c.name)
                .is_some_and(|ec| c.ty != ec.ty && int(&c.ty) && int(&ec.ty))
        });
        if !differs {
            continue;
        }
        let declared = table_info(conn, name)?;
        for c in &mut t.columns {
            let Some(ec) = e.column(&c.name) else {
                continue;
            };
            let legacy = declared
                .iter()
                .any(|d| d.name == c.name && d.ty.trim().eq_ignore_ascii_case("INTEGER"));
            if legacy && c.ty != ec.ty && int(&c.ty) && int(&ec.ty) {
                c.ty = ec.ty.clone();
            }
        }
    }
    Ok(())
}

/// For `verify` and adoption: one note naming the columns of `snapshot`'s
/// tables declared `INTEGER` or `REAL` (what an earlier migrator declared
/// for every integer and float, and what hand-written SQLite schemas
/// mostly say) where migrator declares the name diesel's schema inference
/// reads as the model's type (`BIGINT`, `SMALLINT`, `DOUBLE`). Not drift:
/// the storage is the same.
pub(crate) fn declaration_notes(
    conn: &mut SqliteConnection,
    snapshot: &Schema,
) -> Result<Vec<String>, IntrospectError> {
    let mut kept = Vec::new();
    for t in snapshot.tables.values() {
        let cols = table_info(conn, &t.name)?;
        for live in cols {
            let Some(c) = t.column(&live.name) else {
                continue;
            };
            let now = render::declared_type(t, c);
            let was = live.ty.trim().to_ascii_uppercase();
            let earlier = match now.as_str() {
                "BIGINT" | "SMALLINT" => "INTEGER",
                "DOUBLE" => "REAL",
                _ => continue,
            };
            if was == earlier {
                kept.push(format!("`{}.{}` {was} (now {now})", t.name, c.name));
            }
        }
    }
    if kept.is_empty() {
        return Ok(Vec::new());
    }
    let count = kept.len();
    const SHOWN: usize = 20;
    if count > SHOWN {
        kept.truncate(SHOWN);
        kept.push(format!("and {} more", count - SHOWN));
    }
    Ok(vec![format!(
        "{} column(s) are declared otherwise than migrator declares them now: {}; the same storage (SQLite keeps every integer and float in up to 8 bytes), so not drift, but diesel's own schema inference (`diesel print-schema`) reads `INTEGER` as `i32` and `REAL` as `f32`; migrator's `schema!()` and `print-schema` are not affected, a database built from the snapshot declares them as the model says, and so does a rebuild of their table here (any change SQLite rebuilds a table for)",
        count,
        kept.join(", ")
    )])
}

/// `snapshot` as [`introspect`] reports it on SQLite: types through the
/// rendered spelling, defaults as SQLite stores their rendered text,
/// auto-increment only where it is `INTEGER PRIMARY KEY AUTOINCREMENT`.
pub(crate) fn expected(snapshot: &Schema) -> Schema {
    let mut out = snapshot.clone();
    for t in out.tables.values_mut() {
        // SQLite keeps no primary key name a query can read.
        t.primary_key_name = None;
        let autoincrement = render::autoincrement_pk(t).map(str::to_string);
        let declared: Vec<String> = t
            .columns
            .iter()
            .map(|c| render::declared_type(t, c))
            .collect();
        let rowid_table_key = match t.primary_key.as_slice() {
            [only] if !t.without_rowid => Some(only.clone()),
            _ => None,
        };
        for (c, declared) in t.columns.iter_mut().zip(declared) {
            c.ty = types::sqlite_type(&declared);
            if rowid_table_key.as_deref() == Some(c.name.as_str()) {
                c.ty = not_rowid(&declared, c.ty.clone());
            }
            c.auto_increment = autoincrement.as_deref() == Some(c.name.as_str());
            // SQLite stores no comments (README, Attribute reference).
            c.comment = None;
            c.default = match c.default.take() {
                // SQLite stores an expression default without the
                // parentheses the renderer puts around it.
                Some(d) => match render::default_sql(&d) {
                    Ok(text) => normalize::default_value(
                        normalize::strip_outer_parens(&text),
                        &c.ty,
                        Source::Sqlite,
                    ),
                    Err(_) => Some(d),
                },
                None => None,
            };
        }
        key_columns_not_null(t);
        t.comment = None;
        for ck in &mut t.checks {
            ck.expr = ck.expr.trim().to_string();
        }
        t.normalize();
    }
    out
}
