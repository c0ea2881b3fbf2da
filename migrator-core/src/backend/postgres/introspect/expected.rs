//! PostgreSQL: `expected`, the snapshot as this database would report it
//! (see the module contract in `introspect`).

use std::collections::BTreeMap;

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::Connection;

use super::types;
use super::*;
use crate::dialect::postgres as render;
use crate::introspect::normalize::{self, Source};
use crate::introspect::{key_columns_not_null, IntrospectError};
use crate::schema::{Column, Schema, Table};

/// `snapshot` as [`introspect`] reports it on this database (module docs).
pub(crate) fn expected(
    conn: &mut PgConnection,
    snapshot: &Schema,
) -> Result<Schema, IntrospectError> {
    let probed = probe(conn, snapshot)?;
    let mut out = snapshot.clone();
    for t in out.tables.values_mut() {
        let p = probed.get(&t.name);
        for c in &mut t.columns {
            match p.and_then(|p| p.column(&c.name)) {
                Some(pc) => {
                    c.ty = pc.ty.clone();
                    c.default = pc.default.clone();
                    // `sql_type = "SERIAL"` reads back as an auto-increment.
                    c.auto_increment |= pc.auto_increment;
                    // A collation named inside `sql_type` reads back as
                    // the column's collation.
                    if c.collation.is_none() {
                        c.collation = pc.collation.clone();
                    }
                }
                None => textual_column(c),
            }
            if c.auto_increment {
                c.default = None;
            }
        }
        for ck in &mut t.checks {
            ck.expr = match p.and_then(|p| p.checks.iter().find(|x| x.name == ck.name)) {
                Some(x) => x.expr.clone(),
                None => ck.expr.trim().to_string(),
            };
        }
        // The SQLite table options are SQLite's.
        t.strict = false;
        t.without_rowid = false;
        // The default name reads back as no name.
        if t.primary_key_name.as_deref() == Some(&crate::schema::naming::primary_key(&t.name)) {
            t.primary_key_name = None;
        }
        key_columns_not_null(t);
        t.normalize();
    }
    Ok(out)
}

/// The textual fallback for one column: type through
/// `types::pg_format_guess`, default through the literal rules.
fn textual_column(c: &mut Column) {
    let (format, builtin) = types::pg_format_guess(&render::column_type(&c.ty));
    c.ty = types::pg_type(&format, builtin);
    if let Some(d) = c.default.take() {
        c.default = match render::default_sql(&d) {
            Ok(text) => normalize::default_value(&text, &c.ty, Source::Postgres),
            Err(_) => Some(d),
        };
    }
}

/// Creates each table of `snapshot` (types, defaults, checks) as a temporary
/// table in a transaction that is rolled back, and reads them back. Returns
/// the tables that could be created, by their real name.
fn probe(
    conn: &mut PgConnection,
    snapshot: &Schema,
) -> Result<BTreeMap<String, Table>, IntrospectError> {
    let mut result: Option<Result<BTreeMap<String, Table>, IntrospectError>> = None;
    let _ = conn.transaction::<(), diesel::result::Error, _>(|c| {
        let mut names = BTreeMap::new();
        for (i, t) in snapshot.tables.values().enumerate() {
            let probe_name = format!("_migrator_probe_{i}");
            let sql = probe_sql(&probe_name, t);
            // A savepoint each, so one table the database refuses (a type it
            // does not have) leaves the others.
            if c.transaction::<(), diesel::result::Error, _>(|c| c.batch_execute(&sql))
                .is_ok()
            {
                names.insert(probe_name, t.name.clone());
            }
        }
        let read = if names.is_empty() {
            Ok(Schema::new())
        } else {
            read_tables(c, Scope::Temp, &mut Vec::new(), &mut Vec::new())
        };
        result = Some(read.map(|s| {
            s.tables
                .into_iter()
                .filter_map(|(probe_name, mut t)| {
                    let real = names.get(&probe_name)?.clone();
                    t.name = real.clone();
                    Some((real, t))
                })
                .collect()
        }));
        Err(diesel::result::Error::RollbackTransaction)
    });
    match result {
        Some(r) => r,
        // BEGIN itself failed (a broken connection): no probe, textual rules.
        None => Ok(BTreeMap::new()),
    }
}

/// `CREATE TEMP TABLE` with the columns' types and defaults and the checks:
/// what PostgreSQL re-spells. Keys, identity and NOT NULL are left out.
fn probe_sql(probe_name: &str, t: &Table) -> String {
    let mut items: Vec<String> = t
        .columns
        .iter()
        .map(|c| {
            let mut s = format!("{} {}", D.ident(&c.name), render::column_type(&c.ty));
            if let (false, Some(Ok(d))) = (
                c.auto_increment,
                c.default.as_ref().map(render::default_sql),
            ) {
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
    format!(
        "CREATE TEMP TABLE {} (\n  {}\n)",
        D.ident(probe_name),
        items.join(",\n  ")
    )
}
