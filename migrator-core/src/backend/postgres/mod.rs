//! PostgreSQL: rendering and its catalog guards.

#[cfg(all(
    feature = "model",
    any(feature = "sqlite", feature = "postgres", feature = "mysql")
))]
pub(crate) mod adopt;
#[cfg(feature = "model")]
pub(crate) mod expand;
#[cfg(feature = "postgres")]
pub(crate) mod introspect;
pub mod render;
// The runner needs a driver feature; without one the session SQL is unused.
#[cfg_attr(
    not(any(feature = "sqlite", feature = "postgres", feature = "mysql")),
    allow(dead_code)
)]
pub(crate) mod session;
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
pub(crate) mod types;

use std::time::Duration;

use super::Backend;
use crate::dialect::{Dialect, RenderError, Statement};
use crate::ops::Operation;
use crate::schema::Schema;
use crate::sql_lex::Mode;

const LEX_MODES: &[Mode] = &[Mode {
    d: Dialect::Postgres,
    backslash: false,
    ansi: true,
    dollar_quotes: true,
    backticks: false,
    brackets: false,
    hash_comments: false,
    nested_comments: true,
}];

/// The PostgreSQL backend.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Postgres;

/// diesel's names for PostgreSQL's types where they differ
/// (`diesel_schema`): `timestamptz`, `uuid` and `jsonb` have their own.
pub(crate) const DIESEL_TYPES: super::DieselTypes = super::DieselTypes {
    timestamp: "Timestamp",
    timestamptz: "Timestamptz",
    uuid: "Uuid",
    json: "Jsonb",
    datetime: "Timestamp",
    float: "Double",
    tiny_int: false,
    unsigned: false,
};

impl Backend for Postgres {
    fn diesel_types(&self) -> &'static super::DieselTypes {
        &DIESEL_TYPES
    }

    fn name(&self) -> &'static str {
        "postgres"
    }

    fn aliases(&self) -> &'static [&'static str] {
        &["postgres", "postgresql", "pg"]
    }

    /// PostgreSQL cuts names to 63 bytes (NAMEDATALEN - 1).
    fn max_identifier_len(&self) -> Option<usize> {
        Some(63)
    }

    fn long_identifier_effect(&self) -> &'static str {
        "cut it silently, and the name would no longer be the one the migration checks"
    }

    fn quote_value(&self, column: &str) -> String {
        format!("quote_literal({column}::text)")
    }

    fn lex_modes(&self) -> &'static [Mode] {
        LEX_MODES
    }

    fn history_prefix_sql(&self, table: &str, row: &str) -> Option<String> {
        Some(session::history_prefix_sql(table, row))
    }

    fn history_prefix_text<'a>(&self, row: &'a str) -> Option<&'a str> {
        session::history_prefix_text(row)
    }

    fn history_prefix_is_digest(&self) -> bool {
        true
    }

    /// `to_regclass` costs a fraction of `information_schema`.
    fn tables_with_prefix_sql(&self, prefix: &str) -> String {
        format!(
            "SELECT CAST(tablename AS TEXT) AS s FROM pg_tables WHERE schemaname = current_schema() AND substr(tablename, 1, {}) = {} ORDER BY 1",
            prefix.len(),
            self.string(prefix)
        )
    }

    fn column_exists_sql(&self, table: &str, column: &str) -> String {
        render::guards::column_query(table, column)
    }

    fn replica_lag(&self) -> Option<super::ReplicaLag> {
        Some(super::ReplicaLag::OnPrimary(session::REPLICA_LAG_SQL))
    }

    fn foreign_key_exists_sql(&self, table: &str, name: &str) -> Option<String> {
        Some(render::guards::constraint_query(table, name))
    }

    fn after_restore_sql(&self, table: &crate::schema::Table) -> Vec<String> {
        table
            .columns
            .iter()
            .filter(|c| c.auto_increment)
            .map(|c| {
                // `setval` is strict: on an empty table (MAX is NULL) it
                // does nothing.
                format!(
                    "SELECT setval(pg_get_serial_sequence({}, {}), MAX({})) FROM {}",
                    self.string(&self.ident(&table.name)),
                    self.string(&c.name),
                    self.ident(&c.name),
                    self.ident(&table.name)
                )
            })
            .collect()
    }

    fn table_exists_sql(&self, name: &str) -> String {
        format!(
            "SELECT 1 WHERE to_regclass({}) IS NOT NULL",
            self.string(&self.ident(name))
        )
    }

    fn bound_waits_sql(&self, wait: Duration) -> String {
        session::bound_waits_sql(wait)
    }

    fn usual_blockers(&self) -> &'static str {
        "that session (an `idle in transaction` session, a long query, `VACUUM FULL`, `ALTER TABLE`, `LOCK TABLE`)"
    }

    fn sessions_sql(&self) -> Result<&'static str, &'static str> {
        Ok(session::SESSIONS_SQL)
    }

    fn session_line(&self, at: &dyn Fn(usize) -> String, statement: &str) -> String {
        session::session_line(at, statement)
    }

    fn read_timeouts_sql(&self) -> Option<&'static str> {
        Some(session::READ_TIMEOUTS_SQL)
    }

    fn has_statement_timeout(&self) -> bool {
        true
    }

    fn topology_probe(&self) -> super::TopologyProbe {
        super::TopologyProbe::Pooler
    }

    fn session_lock(&self) -> Option<super::SessionLock> {
        Some(session::session_lock())
    }

    fn session_row(&self) -> Option<super::SessionRow> {
        Some(session::SESSION_ROW)
    }

    fn epoch_now_sql(&self) -> &'static str {
        session::EPOCH_NOW_SQL
    }

    fn batch_sql(&self) -> Option<super::BatchSql> {
        Some(session::BATCH_SQL)
    }

    #[cfg(all(
        feature = "model",
        any(feature = "sqlite", feature = "postgres", feature = "mysql")
    ))]
    fn dump_outside(
        &self,
        o: &crate::introspect::Outside,
    ) -> Result<(crate::adopt::Phase, String, String), String> {
        adopt::dump(o)
    }

    fn render(
        &self,
        op: &Operation,
        before: &Schema,
        start: &Schema,
    ) -> Result<Vec<Statement>, RenderError> {
        render::render(op, before, start)
    }
}
