//! MySQL/MariaDB: `expected`, the snapshot as this database would report it
//! (see the module contract in `introspect`).

use std::collections::BTreeMap;

use diesel::mysql::MysqlConnection;
use diesel::RunQueryDsl;

use super::types;
use super::*;
use crate::dialect::mysql as render;
use crate::introspect::normalize::{self};
use crate::introspect::{key_columns_not_null, IntrospectError};
use crate::schema::{Column, DefaultValue, RefAction, Schema};

/// `snapshot` as [`introspect`] reports it on this server (module docs).
pub(crate) fn expected(
    conn: &mut MysqlConnection,
    snapshot: &Schema,
) -> Result<Schema, IntrospectError> {
    let maria = is_mariadb(conn)?;
    let probed = probe(conn, snapshot);
    // A column naming its table's own collation reads back as naming none.
    let table_collations: BTreeMap<String, String> = load::<Texts>(
        conn,
        "SELECT CAST(TABLE_NAME AS CHAR) AS a, CAST(COALESCE(TABLE_COLLATION, '') AS CHAR) AS b, '' AS c, NULL AS d \
         FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()"
            .into(),
    )?
    .into_iter()
    .map(|r| (r.a, r.b))
    .collect();
    let mut out = snapshot.clone();
    for t in out.tables.values_mut() {
        // Every MySQL primary key is called `PRIMARY`; the SQLite table
        // options are SQLite's.
        t.primary_key_name = None;
        t.strict = false;
        t.without_rowid = false;
        for c in &mut t.columns {
            if c.collation.as_ref() == table_collations.get(&t.name) {
                c.collation = None;
            }
            // As rendered (with the type's precision), as the reader spells it.
            c.on_update = c.on_update.as_deref().map(|e| {
                let text = render::on_update_sql(e, &c.ty);
                crate::schema::normalize_on_update(&text).unwrap_or(text)
            });
            let modelled = c.ty.clone();
            c.ty = types::mysql_type(&render::column_type(&c.ty));
            c.default = if c.auto_increment {
                None
            } else {
                let printed = probed.get(&t.name).and_then(|p| p.defaults.get(&c.name));
                match (c.default.take(), printed) {
                    (Some(DefaultValue::Sql(_)), Some(text)) => sql_default(text, &c.ty),
                    (Some(d), _) => match render::default_sql(&d, &modelled) {
                        Ok(text) => sql_default(&text, &c.ty),
                        Err(_) => Some(d),
                    },
                    (None, _) => None,
                }
            };
        }
        key_columns_not_null(t);
        for ck in &mut t.checks {
            let printed = probed
                .get(&t.name)
                .and_then(|p| p.checks.get(&ck.name))
                .cloned()
                .unwrap_or_else(|| ck.expr.clone());
            ck.expr = types::mysql_expr(&printed);
        }
        if maria {
            for f in &mut t.foreign_keys {
                for a in [&mut f.on_delete, &mut f.on_update] {
                    if *a == RefAction::NoAction {
                        *a = RefAction::Restrict;
                    }
                }
            }
        }
        drop_implicit_fk_indexes(t);
        t.normalize();
    }
    Ok(out)
}

/// What `SHOW CREATE TABLE` prints for a probe table.
#[derive(Debug, Default, PartialEq)]
pub(super) struct Printed {
    /// Check name -> expression.
    pub(super) checks: BTreeMap<String, String>,
    /// Column name -> the text after `DEFAULT`.
    pub(super) defaults: BTreeMap<String, String>,
}

/// The snapshot's checks and SQL-expression defaults as the server prints
/// them: each table with either is created as a temporary table (column
/// types, those defaults and the checks), read with `SHOW CREATE TABLE` and
/// dropped. Tables the server refuses are left out.
fn probe(conn: &mut MysqlConnection, snapshot: &Schema) -> BTreeMap<String, Printed> {
    use diesel::connection::SimpleConnection;
    let sql_default = |c: &Column| match &c.default {
        Some(d @ DefaultValue::Sql(_)) if !c.auto_increment => render::default_sql(d, &c.ty).ok(),
        _ => None,
    };
    let mut out = BTreeMap::new();
    for (i, t) in snapshot.tables.values().enumerate() {
        if t.checks.is_empty() && t.columns.iter().all(|c| sql_default(c).is_none()) {
            continue;
        }
        let name = format!("_migrator_probe_{i}");
        let mut items: Vec<String> = t
            .columns
            .iter()
            .map(|c| {
                let mut s = format!("{} {} NULL", D.ident(&c.name), render::column_type(&c.ty));
                if let Some(d) = sql_default(c) {
                    s.push_str(" DEFAULT ");
                    s.push_str(&d);
                }
                s
            })
            .collect();
        items.extend(
            t.checks
                .iter()
                .map(|c| format!("CONSTRAINT {} CHECK ({})", D.ident(&c.name), c.expr.trim())),
        );
        let create = format!(
            "CREATE TEMPORARY TABLE {} ({})",
            D.ident(&name),
            items.join(", ")
        );
        if conn.batch_execute(&create).is_err() {
            continue;
        }
        let shown: Result<Vec<CreateTableRow>, _> =
            diesel::sql_query(format!("SHOW CREATE TABLE {}", D.ident(&name))).load(conn);
        let _ = conn.batch_execute(&format!(
            "DROP TEMPORARY TABLE IF EXISTS {}",
            D.ident(&name)
        ));
        if let Ok(rows) = shown {
            if let Some(r) = rows.first() {
                out.insert(t.name.clone(), printed(&r.sql));
            }
        }
    }
    out
}

/// The checks (`CONSTRAINT `name` CHECK (expr)`) and column defaults
/// (`` `c` type ... DEFAULT expr``, the default last on the line, as the
/// probe creates it) of a `SHOW CREATE TABLE`.
pub(super) fn printed(create: &str) -> Printed {
    let mut out = Printed::default();
    for line in create.lines() {
        let l = line.trim().trim_end_matches(',');
        if let Some(rest) = l.strip_prefix("CONSTRAINT `") {
            if let Some((name, expr)) = rest.split_once("` CHECK ") {
                out.checks.insert(
                    name.replace("``", "`"),
                    normalize::strip_outer_parens(expr).to_string(),
                );
            }
            continue;
        }
        let Some(rest) = l.strip_prefix('`') else {
            continue;
        };
        let Some((name, def)) = rest.split_once('`') else {
            continue;
        };
        let toks = normalize::tokenize(def);
        let mut depth = 0i32;
        for t in &toks {
            if t.is_punct("(") {
                depth += 1;
            } else if t.is_punct(")") {
                depth -= 1;
            } else if depth == 0 && t.is_word("DEFAULT") {
                let d = def[t.end..].trim();
                if !d.eq_ignore_ascii_case("NULL") {
                    out.defaults.insert(name.to_string(), d.to_string());
                }
                break;
            }
        }
    }
    out
}
