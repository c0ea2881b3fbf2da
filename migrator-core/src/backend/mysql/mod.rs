//! MySQL 8 / MariaDB 10.5+: rendering, the online-DDL algorithm choice and
//! the catalog guards.

#[cfg(all(
    feature = "model",
    any(feature = "sqlite", feature = "postgres", feature = "mysql")
))]
pub(crate) mod adopt;
#[cfg(feature = "mysql")]
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

/// MySQL's reading depends on `sql_mode`: with and without backslash
/// escapes, with and without `ANSI_QUOTES`.
const LEX_MODES: &[Mode] = &[
    mode(true, false),
    mode(true, true),
    mode(false, false),
    mode(false, true),
];

const fn mode(backslash: bool, ansi: bool) -> Mode {
    Mode {
        d: Dialect::Mysql,
        backslash,
        ansi,
        dollar_quotes: false,
        backticks: true,
        brackets: false,
        hash_comments: true,
        nested_comments: false,
    }
}

/// The MySQL/MariaDB backend.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Mysql;

/// diesel's names for MySQL's types where they differ (`diesel_schema`):
/// a timestamp is DATETIME(6), bound as `Datetime` (as `Timestamp` MariaDB
/// would refuse a value outside TIMESTAMP's 1970 to 2038); a timestamp
/// with a time zone is TIMESTAMP(6), read as `chrono::NaiveDateTime` in
/// UTC; a UUID is CHAR(36) text; FLOAT is single precision; TINYINT and
/// UNSIGNED have their own types.
pub(crate) const DIESEL_TYPES: super::DieselTypes = super::DieselTypes {
    timestamp: "Datetime",
    timestamptz: "Timestamp",
    uuid: "::migrator::sql_types::Uuid",
    json: "Json",
    datetime: "Datetime",
    float: "Float",
    tiny_int: true,
    unsigned: true,
};

impl Backend for Mysql {
    fn diesel_types(&self) -> &'static super::DieselTypes {
        &DIESEL_TYPES
    }

    fn table_copy_reason(&self, op: &Operation, schema: &crate::schema::Schema) -> Option<String> {
        render::copy_reason(op, schema)
    }

    fn name(&self) -> &'static str {
        "mysql"
    }

    fn aliases(&self) -> &'static [&'static str] {
        &["mysql", "mariadb"]
    }

    /// MySQL and MariaDB refuse names over 64 characters.
    fn max_identifier_len(&self) -> Option<usize> {
        Some(64)
    }

    fn identifier_len(&self, name: &str) -> usize {
        name.chars().count()
    }

    fn identifier_unit(&self) -> &'static str {
        "characters"
    }

    /// MySQL DDL commits implicitly.
    fn transactional_ddl(&self) -> bool {
        false
    }

    fn ident(&self, name: &str) -> String {
        format!("`{}`", name.replace('`', "``"))
    }

    /// MySQL also treats backslash as an escape character by default, so
    /// it is doubled.
    fn string(&self, value: &str) -> String {
        format!("'{}'", value.replace('\\', "\\\\").replace('\'', "''"))
    }

    fn quote_value(&self, column: &str) -> String {
        format!("QUOTE({column})")
    }

    /// `||` is `OR` in MySQL's default mode.
    fn join_quoted(&self, parts: &[String]) -> String {
        if parts.len() > 1 {
            format!("CONCAT_WS(', ', {})", parts.join(", "))
        } else {
            parts.concat()
        }
    }

    fn lex_modes(&self) -> &'static [Mode] {
        LEX_MODES
    }

    fn table_exists_sql(&self, name: &str) -> String {
        render::guards::table_query(name)
    }

    fn tables_with_prefix_sql(&self, prefix: &str) -> String {
        format!(
            "SELECT CAST(TABLE_NAME AS CHAR) AS s FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND substr(TABLE_NAME, 1, {}) = {} ORDER BY 1",
            prefix.len(),
            self.string(prefix)
        )
    }

    fn column_exists_sql(&self, table: &str, column: &str) -> String {
        render::guards::column_query(table, column)
    }

    fn foreign_key_exists_sql(&self, table: &str, name: &str) -> Option<String> {
        Some(render::guards::constraint_query(table, name, "FOREIGN KEY"))
    }

    fn guard_when(&self, cond: &str) -> String {
        format!("SELECT 1 FROM DUAL WHERE {cond}")
    }

    fn bound_waits_sql(&self, wait: Duration) -> String {
        session::set_lock_timeouts_sql(wait)
    }

    fn usual_blockers(&self) -> &'static str {
        "that connection (an open transaction, `LOCK TABLES`, a long `ALTER TABLE`)"
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

    fn effective_lock_wait(&self, timeout: Duration) -> Duration {
        Duration::from_secs(session::seconds(timeout))
    }

    fn lock_timeout_sql(&self, timeout: Duration) -> String {
        session::set_migration_lock_timeouts_sql(timeout)
    }

    fn own_timeouts_sql(&self, restore: &str) -> String {
        format!("{restore}, {}", session::ENGLISH_MESSAGES)
    }

    fn topology_probe(&self) -> super::TopologyProbe {
        super::TopologyProbe::Galera
    }

    fn replica_lag(&self) -> Option<super::ReplicaLag> {
        Some(super::ReplicaLag::ByPosition(&session::POSITION_SQL))
    }

    fn session_lock(&self) -> Option<super::SessionLock> {
        Some(session::session_lock())
    }

    fn epoch_now_sql(&self) -> &'static str {
        "UNIX_TIMESTAMP()"
    }

    fn claim_lock_row_sql(&self, table: &str, owner: &str, now: &str, secs: u64) -> String {
        session::claim_lock_row_sql(table, owner, now, secs)
    }

    fn lock_row_holder_sql(&self, table: &str, now: &str, _session_secs: u64) -> String {
        session::lock_row_holder_sql(table, now)
    }

    fn checks_packet_size(&self) -> bool {
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

    fn integer_as_text(&self, expr: &str) -> String {
        format!("CAST({expr} AS CHAR)")
    }

    fn index_names_per_table(&self) -> bool {
        true
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
