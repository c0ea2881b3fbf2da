//! MySQL/MariaDB introspection: `information_schema`, scoped to `DATABASE()`.
//!
//! Contract (on top of the module contract in `introspect`):
//! - types come from `COLUMNS.COLUMN_TYPE` through
//!   `types::mysql_type` (`tinyint(1)` is a boolean, integer display
//!   widths are ignored); MariaDB's JSON, a `longtext` column with a
//!   `json_valid(col)` check (named after the column, or after its old name
//!   once renamed), is read as `json` and
//!   the check is not reported;
//! - defaults come from `COLUMN_DEFAULT`: MariaDB prints SQL (string
//!   defaults quoted, `current_timestamp(6)`), MySQL 8 prints a literal's
//!   bare text and an expression (`EXTRA` = `DEFAULT_GENERATED`) with
//!   charset introducers; both become a typed default
//!   (`normalize::default_value`, `Source::Mysql`). SQL expressions (checks
//!   and SQL defaults) are kept in one spelling, `types::mysql_expr`;
//! - `AUTO_INCREMENT` is read from `EXTRA`; generated columns are outside
//!   the model;
//! - the primary key is the `PRIMARY` index, in key order; a unique index
//!   is a unique constraint (MySQL has no other kind); FULLTEXT and SPATIAL
//!   indexes, prefix indexes (reported as partial) and functional indexes
//!   (expression) are outside the model;
//! - the index InnoDB creates for a foreign key that no other index serves
//!   is named after the constraint and is not reported: a non-unique index
//!   with the name and the columns of a foreign key of its table is left out
//!   here and in [`expected`] alike (`dialect/mysql.rs` keeps the table in
//!   that shape, see `drop_key_index`);
//! - MariaDB reports a foreign key without an action as `RESTRICT`, MySQL 8
//!   as `NO ACTION`; [`expected`] says the same per server;
//! - [`expected`] is a textual normalisation (types, defaults, the actions
//!   above) except for checks: the snapshot's checks are created on
//!   temporary tables (`CREATE TEMPORARY TABLE`, which does not commit
//!   implicitly, dropped at once) and read back with `SHOW CREATE TABLE`,
//!   so both sides carry the server's own printing (MariaDB writes
//!   `LENGTH(x)` as `octet_length(x)`); where that fails the snapshot's
//!   text is used.

use std::collections::BTreeMap;

use diesel::mysql::MysqlConnection;
use diesel::sql_types::{Nullable, Text};
use diesel::{QueryableByName, RunQueryDsl};

use super::types;

mod defaults;
mod expected;
mod objects;
use crate::dialect::Dialect;
use crate::introspect::{
    is_internal_table, Introspect, IntrospectError, Introspected, Outside, OutsideKind,
};
use crate::schema::{
    Check, Column, ColumnType, ForeignKey, Index, RefAction, Schema, Table, Unique,
};
use defaults::{live_default, sql_default};
use expected::expected;
use objects::read_objects;

pub(super) const D: Dialect = Dialect::Mysql;

impl Introspect for MysqlConnection {
    fn introspect(&mut self) -> Result<Introspected, IntrospectError> {
        introspect(self)
    }

    fn expected(&mut self, snapshot: &Schema) -> Result<Schema, IntrospectError> {
        expected(self, snapshot)
    }
}

#[derive(QueryableByName)]
struct Texts {
    #[diesel(sql_type = Text)]
    a: String,
    #[diesel(sql_type = Text)]
    b: String,
    #[diesel(sql_type = Text)]
    c: String,
    #[diesel(sql_type = Nullable<Text>)]
    d: Option<String>,
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
    nullable: String,
    #[diesel(sql_type = Nullable<Text>)]
    dflt: Option<String>,
    #[diesel(sql_type = Text)]
    extra: String,
    #[diesel(sql_type = Nullable<Text>)]
    generation: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    collation: Option<String>,
    #[diesel(sql_type = Text)]
    comment: String,
}

#[derive(QueryableByName)]
struct IndexRow {
    #[diesel(sql_type = Text)]
    tbl: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    non_unique: String,
    #[diesel(sql_type = Nullable<Text>)]
    col: Option<String>,
    #[diesel(sql_type = Nullable<Text>)]
    sub_part: Option<String>,
    #[diesel(sql_type = Text)]
    index_type: String,
}

#[derive(QueryableByName)]
struct ForeignKeyRow {
    #[diesel(sql_type = Text)]
    tbl: String,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    col: String,
    #[diesel(sql_type = Text)]
    ref_schema: String,
    #[diesel(sql_type = Text)]
    ref_table: String,
    #[diesel(sql_type = Text)]
    ref_col: String,
    #[diesel(sql_type = Text)]
    on_delete: String,
    #[diesel(sql_type = Text)]
    on_update: String,
}

#[derive(QueryableByName)]
pub(super) struct CreateTableRow {
    #[diesel(sql_type = Text)]
    #[diesel(column_name = "Create Table")]
    pub(super) sql: String,
}

/// Runs a catalog query. A read of `information_schema` can be chosen as
/// the victim of a deadlock (error 1213), which on a Galera node also
/// happens when replicated DDL aborts it; the query changes nothing, so it
/// is run again, a few times, before the error is given.
fn load<R: QueryableByName<diesel::mysql::Mysql> + 'static>(
    conn: &mut MysqlConnection,
    query: String,
) -> Result<Vec<R>, IntrospectError> {
    let mut tries = 0;
    loop {
        match diesel::sql_query(&query).load(conn) {
            Ok(rows) => return Ok(rows),
            Err(e) if tries < 5 && e.to_string().contains("Deadlock found") => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(20 * tries));
            }
            Err(e) => {
                return Err(IntrospectError {
                    dialect: D,
                    message: e.to_string(),
                    query,
                })
            }
        }
    }
}

/// True on MariaDB, false on MySQL.
pub(super) fn is_mariadb(conn: &mut MysqlConnection) -> Result<bool, IntrospectError> {
    let rows: Vec<Texts> = load(
        conn,
        "SELECT CAST(VERSION() AS CHAR) AS a, '' AS b, '' AS c, NULL AS d".into(),
    )?;
    Ok(rows
        .first()
        .is_some_and(|r| r.a.to_ascii_lowercase().contains("mariadb")))
}

/// migrator's own tables: history, lock, and any scratch table.
fn is_migrator_table(name: &str) -> bool {
    is_internal_table(name) || name.starts_with("_migrator_")
}

pub(crate) fn introspect(conn: &mut MysqlConnection) -> Result<Introspected, IntrospectError> {
    let maria = is_mariadb(conn)?;
    let mut out = Introspected {
        dialect: D,
        schema: Schema::new(),
        outside: Vec::new(),
        notes: Vec::new(),
        elsewhere: Vec::new(),
    };
    out.schema = read_tables(conn, maria, &mut out.outside, &mut out.notes)?;
    read_objects(conn, &mut out.outside)?;
    out.outside.sort();
    Ok(out)
}

fn read_tables(
    conn: &mut MysqlConnection,
    maria: bool,
    outside: &mut Vec<Outside>,
    notes: &mut Vec<String>,
) -> Result<Schema, IntrospectError> {
    let tables: Vec<Texts> = load(
        conn,
        // The default collation only where it is not the database's (a
        // table created without one has the database's).
        "SELECT CAST(t.TABLE_NAME AS CHAR) AS a, CAST(t.TABLE_TYPE AS CHAR) AS b, \
           CAST(COALESCE(IF(t.TABLE_COLLATION <> s.DEFAULT_COLLATION_NAME, t.TABLE_COLLATION, NULL), '') AS CHAR) AS c, \
           CAST(NULLIF(t.TABLE_COMMENT, '') AS CHAR) AS d \
         FROM information_schema.TABLES t JOIN information_schema.SCHEMATA s ON s.SCHEMA_NAME = t.TABLE_SCHEMA \
         WHERE t.TABLE_SCHEMA = DATABASE() ORDER BY t.TABLE_NAME"
            .into(),
    )?;
    let mut schema = Schema::new();
    for t in tables {
        if is_migrator_table(&t.a) {
            continue;
        }
        let comment = t.d.clone();
        match t.b.as_str() {
            "BASE TABLE" => {
                let mut table = Table::new(t.a);
                table.comment = comment;
                table.collation = (!t.c.is_empty()).then(|| t.c.clone());
                schema.insert(table);
            }
            "SYSTEM VERSIONED" => {
                notes.push(format!(
                    "table `{}` is SYSTEM VERSIONED; the model does not say so",
                    t.a
                ));
                schema.insert(Table::new(t.a));
            }
            "SEQUENCE" => outside.push(Outside {
                kind: OutsideKind::Sequence,
                name: t.a,
                table: None,
                definition: None,
            }),
            // Views are read with their definition in `read_objects`.
            _ => {}
        }
    }

    let columns: Vec<ColumnRow> = load(
        conn,
        "SELECT CAST(c.TABLE_NAME AS CHAR) AS tbl, CAST(COLUMN_NAME AS CHAR) AS name, \
           CAST(COLUMN_TYPE AS CHAR) AS ty, CAST(IS_NULLABLE AS CHAR) AS nullable, \
           CAST(COLUMN_DEFAULT AS CHAR) AS dflt, CAST(EXTRA AS CHAR) AS extra, \
           CAST(GENERATION_EXPRESSION AS CHAR) AS generation, \
           CAST(IF(c.COLLATION_NAME <> t.TABLE_COLLATION, c.COLLATION_NAME, NULL) AS CHAR) AS collation, \
           CAST(c.COLUMN_COMMENT AS CHAR) AS comment \
         FROM information_schema.COLUMNS c JOIN information_schema.TABLES t \
           ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME \
         WHERE c.TABLE_SCHEMA = DATABASE() \
         ORDER BY c.TABLE_NAME, c.ORDINAL_POSITION"
            .into(),
    )?;
    for r in columns {
        let Some(t) = schema.tables.get_mut(&r.tbl) else {
            continue;
        };
        let extra = r.extra.to_ascii_lowercase();
        let generated = r
            .generation
            .as_deref()
            .is_some_and(|g| !g.trim().is_empty())
            || (extra.contains("generated") && !extra.contains("default_generated"))
            || extra.contains("persistent");
        if generated {
            // The column's definition after its name, as adoption recreates
            // it: `int(11) GENERATED ALWAYS AS (`a` * 2) STORED`.
            let kind = if extra.contains("virtual") {
                "VIRTUAL"
            } else {
                "STORED"
            };
            let definition = r
                .generation
                .as_deref()
                .filter(|g| !g.trim().is_empty())
                .map(|g| {
                    format!(
                        "{} GENERATED ALWAYS AS ({}) {kind}{}",
                        r.ty,
                        g.trim(),
                        if r.nullable == "NO" { " NOT NULL" } else { "" }
                    )
                });
            outside.push(Outside {
                kind: OutsideKind::GeneratedColumn,
                name: r.name,
                table: Some(r.tbl),
                definition,
            });
            continue;
        }
        let mut c = Column::new(r.name.clone(), types::mysql_type(&r.ty));
        c.nullable = r.nullable == "YES";
        c.auto_increment = extra.contains("auto_increment");
        if extra.contains("invisible") {
            notes.push(format!(
                "column `{}.{}` is INVISIBLE; the model does not say so",
                r.tbl, r.name
            ));
        }
        c.collation = r.collation.clone();
        c.comment = (!r.comment.is_empty()).then(|| r.comment.clone());
        if let Some(at) = extra.find("on update") {
            let expr = r.extra[at + "on update".len()..].trim();
            match crate::schema::normalize_on_update(expr) {
                Some(e) => c.on_update = Some(e),
                None => notes.push(format!(
                    "column `{}.{}` has `{}`, which the model cannot express",
                    r.tbl, r.name, r.extra
                )),
            }
        }
        if !c.auto_increment {
            c.default = r
                .dflt
                .as_deref()
                .and_then(|d| live_default(d, &extra, &c.ty, maria));
        }
        t.columns.push(c);
    }

    // Checks: MariaDB has TABLE_NAME in CHECK_CONSTRAINTS (and names are
    // per table); MySQL 8 has it only in TABLE_CONSTRAINTS.
    let checks: Vec<Texts> = load(
        conn,
        if maria {
            "SELECT CAST(TABLE_NAME AS CHAR) AS a, CAST(CONSTRAINT_NAME AS CHAR) AS b, \
               CAST(CHECK_CLAUSE AS CHAR) AS c, NULL AS d \
             FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE() \
             ORDER BY TABLE_NAME, CONSTRAINT_NAME"
                .into()
        } else {
            "SELECT CAST(tc.TABLE_NAME AS CHAR) AS a, CAST(cc.CONSTRAINT_NAME AS CHAR) AS b, \
               CAST(cc.CHECK_CLAUSE AS CHAR) AS c, NULL AS d \
             FROM information_schema.TABLE_CONSTRAINTS tc \
             JOIN information_schema.CHECK_CONSTRAINTS cc \
               ON cc.CONSTRAINT_SCHEMA = tc.CONSTRAINT_SCHEMA AND cc.CONSTRAINT_NAME = tc.CONSTRAINT_NAME \
             WHERE tc.CONSTRAINT_SCHEMA = DATABASE() AND tc.CONSTRAINT_TYPE = 'CHECK' \
             ORDER BY tc.TABLE_NAME, cc.CONSTRAINT_NAME"
                .into()
        },
    )?;
    for k in checks {
        let Some(t) = schema.tables.get_mut(&k.a) else {
            continue;
        };
        let expr = types::mysql_expr(&k.c);
        // MariaDB's JSON: LONGTEXT plus CHECK (json_valid(`col`)), named
        // after the column when it was created; a renamed column keeps the
        // check's old name, so the check is recognised by its expression.
        if let Some(col) = t.columns.iter_mut().find(|c| {
            c.ty == ColumnType::Custom("LONGTEXT".into())
                && expr == format!("json_valid({})", c.name.to_lowercase())
        }) {
            col.ty = ColumnType::Json;
            // Its utf8mb4_bin is the type's own, not the column's.
            col.collation = None;
            continue;
        }
        t.checks.push(Check { name: k.b, expr });
    }

    let index_rows: Vec<IndexRow> = load(
        conn,
        "SELECT CAST(TABLE_NAME AS CHAR) AS tbl, CAST(INDEX_NAME AS CHAR) AS name, \
           CAST(NON_UNIQUE AS CHAR) AS non_unique, CAST(COLUMN_NAME AS CHAR) AS col, \
           CAST(SUB_PART AS CHAR) AS sub_part, CAST(INDEX_TYPE AS CHAR) AS index_type \
         FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = DATABASE() \
         ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX"
            .into(),
    )?;
    // (table, index) -> rows in key order.
    let mut indexes: BTreeMap<(String, String), Vec<IndexRow>> = BTreeMap::new();
    for r in index_rows {
        indexes
            .entry((r.tbl.clone(), r.name.clone()))
            .or_default()
            .push(r);
    }

    let fks: Vec<ForeignKeyRow> = load(
        conn,
        "SELECT CAST(k.TABLE_NAME AS CHAR) AS tbl, CAST(k.CONSTRAINT_NAME AS CHAR) AS name, \
           CAST(k.COLUMN_NAME AS CHAR) AS col, CAST(k.REFERENCED_TABLE_SCHEMA AS CHAR) AS ref_schema, \
           CAST(k.REFERENCED_TABLE_NAME AS CHAR) AS ref_table, CAST(k.REFERENCED_COLUMN_NAME AS CHAR) AS ref_col, \
           CAST(r.DELETE_RULE AS CHAR) AS on_delete, CAST(r.UPDATE_RULE AS CHAR) AS on_update \
         FROM information_schema.KEY_COLUMN_USAGE k \
         JOIN information_schema.REFERENTIAL_CONSTRAINTS r \
           ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME AND r.TABLE_NAME = k.TABLE_NAME \
         WHERE k.CONSTRAINT_SCHEMA = DATABASE() AND k.REFERENCED_TABLE_NAME IS NOT NULL \
         ORDER BY k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION"
            .into(),
    )?;
    let db: Vec<Texts> = load(
        conn,
        "SELECT CAST(COALESCE(DATABASE(), '') AS CHAR) AS a, '' AS b, '' AS c, NULL AS d".into(),
    )?;
    let db = db.first().map(|r| r.a.clone()).unwrap_or_default();
    for r in fks {
        let Some(t) = schema.tables.get_mut(&r.tbl) else {
            continue;
        };
        if r.ref_schema != db {
            notes.push(format!(
                "foreign key `{}` on `{}` references `{}`.`{}` in another database",
                r.name, r.tbl, r.ref_schema, r.ref_table
            ));
        }
        match t.foreign_keys.iter_mut().find(|f| f.name == r.name) {
            Some(f) => {
                f.columns.push(r.col);
                f.ref_columns.push(r.ref_col);
            }
            None => t.foreign_keys.push(ForeignKey {
                name: r.name,
                columns: vec![r.col],
                ref_table: r.ref_table,
                ref_columns: vec![r.ref_col],
                on_delete: action(&r.on_delete),
                on_update: action(&r.on_update),
            }),
        }
    }

    for ((tbl, name), rows) in indexes {
        let Some(t) = schema.tables.get_mut(&tbl) else {
            continue;
        };
        let index_type = rows[0].index_type.to_ascii_uppercase();
        let cols: Vec<Option<String>> = rows.iter().map(|r| r.col.clone()).collect();
        let described = || {
            rows.iter()
                .map(|r| match (&r.col, &r.sub_part) {
                    (Some(c), Some(n)) => format!("{}({n})", D.ident(c)),
                    (Some(c), None) => D.ident(c),
                    (None, _) => "(expression)".to_string(),
                })
                .collect::<Vec<_>>()
                .join(", ")
        };
        // A primary key over column prefixes is still the table's key
        // (the model keeps the whole columns), with a note.
        if name == "PRIMARY" && rows.iter().any(|r| r.sub_part.is_some()) {
            notes.push(format!(
                "the primary key of `{tbl}` is over column prefixes ({}); compared as a key over the whole columns",
                described()
            ));
            t.primary_key = cols.into_iter().flatten().collect();
            continue;
        }
        let special = match index_type.as_str() {
            "FULLTEXT" => Some(OutsideKind::FulltextIndex),
            "SPATIAL" => Some(OutsideKind::SpatialIndex),
            _ if cols.iter().any(Option::is_none) => Some(OutsideKind::ExpressionIndex),
            _ if rows.iter().any(|r| r.sub_part.is_some()) => Some(OutsideKind::PartialIndex),
            _ => None,
        };
        if let Some(kind) = special {
            let prefix = match kind {
                OutsideKind::FulltextIndex => "FULLTEXT ",
                OutsideKind::SpatialIndex => "SPATIAL ",
                _ if rows[0].non_unique == "0" => "UNIQUE ",
                _ => "",
            };
            outside.push(Outside {
                kind,
                definition: Some(format!(
                    "CREATE {prefix}INDEX {} ON {} ({})",
                    D.ident(&name),
                    D.ident(&tbl),
                    described()
                )),
                name,
                table: Some(tbl),
            });
            continue;
        }
        let columns: Vec<String> = cols.into_iter().flatten().collect();
        if index_type != "BTREE" {
            notes.push(format!(
                "index `{name}` on `{tbl}` is compared as a plain index but is {index_type}"
            ));
        }
        if name == "PRIMARY" {
            t.primary_key = columns;
        } else if rows[0].non_unique == "0" {
            t.uniques.push(Unique {
                name,
                columns,
                nulls_not_distinct: false,
            });
        } else {
            t.indexes.push(Index { name, columns });
        }
    }
    for t in schema.tables.values_mut() {
        drop_implicit_fk_indexes(t);
        t.normalize();
    }
    Ok(schema)
}

/// Leaves out the index InnoDB keeps for a foreign key (module docs): a
/// non-unique index named after a foreign key of the table, over its
/// columns.
pub(super) fn drop_implicit_fk_indexes(t: &mut Table) {
    let fks = t.foreign_keys.clone();
    t.indexes.retain(|i| {
        !fks.iter()
            .any(|f| f.name == i.name && f.columns == i.columns)
    });
}

fn action(rule: &str) -> RefAction {
    match rule.to_ascii_uppercase().as_str() {
        "RESTRICT" => RefAction::Restrict,
        "CASCADE" => RefAction::Cascade,
        "SET NULL" => RefAction::SetNull,
        "SET DEFAULT" => RefAction::SetDefault,
        _ => RefAction::NoAction,
    }
}

#[cfg(test)]
mod tests {
    use super::expected::printed;
    use super::*;

    #[test]
    fn show_create_is_read() {
        let sql = "CREATE TEMPORARY TABLE `t` (\n  `a` int(11) DEFAULT NULL,\n  `b` text DEFAULT lcase('X'),\n  `c` int(11) DEFAULT (1 + 2),\n  CONSTRAINT `ck1` CHECK (octet_length(`x`) > 0 and `a` <> 2),\n  CONSTRAINT `ck2` CHECK (`a` in ('x','y'))\n) ENGINE=InnoDB";
        let p = printed(sql);
        assert_eq!(p.checks["ck1"], "octet_length(`x`) > 0 and `a` <> 2");
        assert_eq!(p.checks["ck2"], "`a` in ('x','y')");
        assert_eq!(p.defaults.get("a"), None);
        assert_eq!(p.defaults["b"], "lcase('X')");
        assert_eq!(p.defaults["c"], "(1 + 2)");
    }

    #[test]
    fn implicit_fk_index_is_left_out() {
        let mut t = Table::new("tasks");
        t.foreign_keys.push(ForeignKey {
            name: "fk_tasks_user_id".into(),
            columns: vec!["user_id".into()],
            ref_table: "users".into(),
            ref_columns: vec!["id".into()],
            on_delete: RefAction::Cascade,
            on_update: RefAction::NoAction,
        });
        t.indexes.push(Index {
            name: "fk_tasks_user_id".into(),
            columns: vec!["user_id".into()],
        });
        t.indexes.push(Index {
            name: "idx_tasks_user_id".into(),
            columns: vec!["user_id".into()],
        });
        drop_implicit_fk_indexes(&mut t);
        assert_eq!(t.indexes.len(), 1);
        assert_eq!(t.indexes[0].name, "idx_tasks_user_id");
    }
}
