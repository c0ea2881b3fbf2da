//! SQLite: rendering (the table rebuild included) and its catalog guards.

#[cfg(all(
    feature = "model",
    any(feature = "sqlite", feature = "postgres", feature = "mysql")
))]
pub(crate) mod adopt;
#[cfg(feature = "sqlite")]
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
    d: Dialect::Sqlite,
    backslash: false,
    ansi: true,
    dollar_quotes: false,
    backticks: true,
    brackets: true,
    hash_comments: false,
    nested_comments: false,
}];

/// The SQLite backend.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sqlite;

/// diesel's names for SQLite's types where they differ (`diesel_schema`):
/// a timestamp with a time zone is text diesel reads as `TimestamptzSqlite`;
/// a UUID is text (diesel maps `uuid::Uuid` on PostgreSQL only).
pub(crate) const DIESEL_TYPES: super::DieselTypes = super::DieselTypes {
    timestamp: "Timestamp",
    timestamptz: "TimestamptzSqlite",
    uuid: "::migrator::sql_types::Uuid",
    json: "Json",
    datetime: "Timestamp",
    float: "Double",
    tiny_int: false,
    unsigned: false,
};

impl Backend for Sqlite {
    fn diesel_types(&self) -> &'static super::DieselTypes {
        &DIESEL_TYPES
    }

    fn name(&self) -> &'static str {
        "sqlite"
    }

    fn aliases(&self) -> &'static [&'static str] {
        &["sqlite", "sqlite3"]
    }

    /// SQLite has no limit.
    fn max_identifier_len(&self) -> Option<usize> {
        None
    }

    /// SQLite stores booleans as 1/0 and only learnt the keywords in 3.23.
    fn bool_literal(&self, value: bool) -> &'static str {
        if value {
            "1"
        } else {
            "0"
        }
    }

    /// `quote()` keeps integers bare.
    fn quote_value(&self, column: &str) -> String {
        format!("quote({column})")
    }

    fn lex_modes(&self) -> &'static [Mode] {
        LEX_MODES
    }

    fn history_prefix_sql(&self, table: &str, row: &str) -> Option<String> {
        Some(session::history_prefix_sql(table, row))
    }

    fn table_exists_sql(&self, name: &str) -> String {
        render::guards::table_query(name)
    }

    fn tables_with_prefix_sql(&self, prefix: &str) -> String {
        format!(
            "SELECT name AS s FROM sqlite_master WHERE type = 'table' AND substr(name, 1, {}) = {} ORDER BY name",
            prefix.len(),
            self.string(prefix)
        )
    }

    fn column_exists_sql(&self, table: &str, column: &str) -> String {
        render::guards::column_query(table, column)
    }

    fn bound_waits_sql(&self, wait: Duration) -> String {
        session::bound_waits_sql(wait)
    }

    fn usual_blockers(&self) -> &'static str {
        "the other connection's write transaction to end"
    }

    fn sessions_sql(&self) -> Result<&'static str, &'static str> {
        Err("another connection holds the database's write lock (SQLite does not say which)")
    }

    fn foreign_keys_pragma(&self) -> bool {
        true
    }

    fn epoch_now_sql(&self) -> &'static str {
        "CAST(strftime('%s', 'now') AS INTEGER)"
    }

    fn commits_in_groups(&self) -> bool {
        true
    }

    fn rereads_history_in_transaction(&self) -> bool {
        true
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
        _start: &Schema,
    ) -> Result<Vec<Statement>, RenderError> {
        render::render(op, before)
    }
}
