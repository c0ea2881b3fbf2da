//! One backend per database: everything migrator knows about PostgreSQL,
//! SQLite or MySQL/MariaDB lives in that database's folder.
//!
//! [`Dialect`] is the small public enum that names a database;
//! [`Dialect::backend`] is the one place that turns it into the database's
//! [`Backend`] object. The trait's default methods are what the databases
//! share (standard identifier and string quoting, transactional DDL); each
//! backend overrides what its database spells differently.
//!
//! Per database (`postgres/`, `sqlite/`, `mysql/`):
//! - `render.rs`: operations to statements, with the catalog guards
//!   (`skip_if`) that make each statement idempotent, and the database's
//!   spelling of every portable type;
//! - `introspect.rs` (with the database's driver feature): the catalog
//!   queries that read a live database back into the schema model, and
//!   `expected`, the snapshot as that database would report it;
//!
//! - `adopt.rs` (with `model` and a driver): the objects outside the model
//!   that an adopted baseline recreates as raw SQL;
//! - `session.rs`: the SQL the runner sends besides the migrations (the
//!   history start-up check, lock-wait bounds and timeouts, the list of
//!   other sessions shown when a lock wait gives up);
//!
//! and, shared by the three, `common.rs`: the render helpers that are the
//! same SQL everywhere (quoted identifier lists, literals, `CREATE TABLE`,
//! `CREATE INDEX`, constraint clauses, raw SQL steps).

pub(crate) mod common;
pub mod mysql;
pub mod postgres;
pub mod sqlite;

use std::time::Duration;

use crate::dialect::{Dialect, RenderError, Statement};
use crate::ops::Operation;
use crate::schema::Schema;
use crate::sql_lex::Mode;

/// What migrator needs from a database. One implementation per database;
/// get it with [`Dialect::backend`].
#[cfg_attr(
    not(any(feature = "sqlite", feature = "postgres", feature = "mysql")),
    allow(dead_code)
)]
pub(crate) trait Backend: Sync {
    /// The lowercase name used in files, flags and `RawSql` variants.
    fn name(&self) -> &'static str;

    /// The spellings `--dialect` and `migrator.toml` accept (lowercase).
    fn aliases(&self) -> &'static [&'static str];

    /// The longest identifier the database keeps as written.
    fn max_identifier_len(&self) -> Option<usize>;

    /// The length of `name` in the unit of [`Backend::max_identifier_len`].
    fn identifier_len(&self, name: &str) -> usize {
        name.len()
    }

    /// The unit of [`Backend::identifier_len`], for messages.
    fn identifier_unit(&self) -> &'static str {
        "bytes"
    }

    /// What the database does with a name over
    /// [`Backend::max_identifier_len`], for the message that refuses it.
    fn long_identifier_effect(&self) -> &'static str {
        "refuse it in the middle of the migration"
    }

    /// Whether DDL can be rolled back with its transaction.
    fn transactional_ddl(&self) -> bool {
        true
    }

    /// Quotes an identifier, doubling any embedded quote character.
    fn ident(&self, name: &str) -> String {
        format!("\"{}\"", name.replace('"', "\"\""))
    }

    /// Quotes a string literal.
    fn string(&self, value: &str) -> String {
        format!("'{}'", value.replace('\'', "''"))
    }

    /// The literal of a boolean default.
    fn bool_literal(&self, value: bool) -> &'static str {
        if value {
            "TRUE"
        } else {
            "FALSE"
        }
    }

    /// `column` (an already quoted identifier) as an SQL string literal
    /// that the column's type reads back (the backfill's progress cursor).
    fn quote_value(&self, column: &str) -> String;

    /// The text of several [`Backend::quote_value`] parts joined by `", "`.
    fn join_quoted(&self, parts: &[String]) -> String {
        parts.join(" || ', ' || ")
    }

    /// The ways the database may read SQL text, for [`crate::sql_lex`]:
    /// one per session mode that changes how literals and names are read.
    fn lex_modes(&self) -> &'static [Mode];

    /// The raw SQL that recreates an object outside the model in an
    /// adopted baseline, with its reverse and place (`adopt.rs`).
    #[cfg(all(
        feature = "model",
        any(feature = "sqlite", feature = "postgres", feature = "mysql")
    ))]
    fn dump_outside(
        &self,
        o: &crate::introspect::Outside,
    ) -> Result<(crate::adopt::Phase, String, String), String>;

    // ---- the runner's session SQL (`session.rs`) ----

    /// The history start-up check in one round trip (`None`: two queries);
    /// see `runner::history::applied_prefix`.
    fn history_prefix_sql(&self, _table: &str, _row: &str) -> Option<String> {
        None
    }

    /// The folded history text inside the row [`Backend::history_prefix_sql`]
    /// returns.
    fn history_prefix_text<'a>(&self, row: &'a str) -> Option<&'a str> {
        Some(row)
    }

    /// Whether the folded history text is a SHA-256 digest (in hex) of the
    /// rows rather than the rows themselves.
    fn history_prefix_is_digest(&self) -> bool {
        false
    }

    /// A query returning a row when the table `name` exists where the
    /// runner's unqualified statements would find it, without an error
    /// that would abort an open transaction.
    fn table_exists_sql(&self, name: &str) -> String;

    /// The names (text column `s`) of the tables of the connection's own
    /// schema whose names start with `prefix` (plain ASCII), sorted.
    fn tables_with_prefix_sql(&self, prefix: &str) -> String;

    /// A query returning a row when `table` has the column `column`.
    fn column_exists_sql(&self, table: &str, column: &str) -> String;

    /// A query returning a row when `table` has a foreign key called
    /// `name`; `None` where foreign keys have no names in the catalog
    /// (SQLite).
    fn foreign_key_exists_sql(&self, _table: &str, _name: &str) -> Option<String> {
        None
    }

    /// A query returning a row when `cond` (an SQL condition) holds.
    fn guard_when(&self, cond: &str) -> String {
        format!("SELECT 1 WHERE {cond}")
    }

    /// What must run after rows with their keys were copied into `table`
    /// (an archived table restored): PostgreSQL moves an identity's
    /// sequence past the restored keys; the others keep their counters.
    fn after_restore_sql(&self, _table: &crate::schema::Table) -> Vec<String> {
        Vec::new()
    }

    /// The statement that bounds every lock wait of the session to `wait`.
    fn bound_waits_sql(&self, wait: Duration) -> String;

    /// What usually holds the lock, for the help line of a lock wait.
    fn usual_blockers(&self) -> &'static str;

    /// The query listing the other sessions (one text column `s`, fields
    /// separated by U+001F), or, where the database cannot say, the text
    /// to show instead.
    fn sessions_sql(&self) -> Result<&'static str, &'static str>;

    /// One row of [`Backend::sessions_sql`] in words; `at(i)` is field `i`.
    fn session_line(&self, _at: &dyn Fn(usize) -> String, _statement: &str) -> String {
        String::new()
    }

    /// The query returning the statement that restores the session's own
    /// lock (and statement) timeouts; `None` where the runner sets none.
    fn read_timeouts_sql(&self) -> Option<&'static str> {
        None
    }

    /// The lock wait the database really applies for `timeout` (MySQL:
    /// whole seconds, at least 1), for what the runner reports.
    fn effective_lock_wait(&self, timeout: Duration) -> Duration {
        timeout
    }

    /// For a migration whose lock timeout is zero (the session's own):
    /// `restore`, the statement [`Backend::read_timeouts_sql`] built, with
    /// what else the runner keeps set during a run (MySQL: English
    /// messages).
    fn own_timeouts_sql(&self, restore: &str) -> String {
        restore.to_string()
    }

    /// The statement that sets the lock timeout of the next migration.
    fn lock_timeout_sql(&self, timeout: Duration) -> String {
        format!("SET lock_timeout = '{}ms'", timeout.as_millis())
    }

    /// Whether the database has a per-statement timeout the runner sets
    /// with the lock timeout (PostgreSQL's `statement_timeout`).
    fn has_statement_timeout(&self) -> bool {
        false
    }

    /// Whether a migration of plain statements in one transaction can be
    /// sent as one batch (PostgreSQL's simple query protocol). Such a
    /// database gets the session's timeouts with each try of a migration
    /// (in its batch when it is sent as one); the others once per
    /// migration.
    fn sends_batches(&self) -> bool {
        self.batch_sql().is_some()
    }

    /// The SQL a batched migration is framed with, where the database
    /// sends batches (`runner/apply.rs`: `one_batch`).
    fn batch_sql(&self) -> Option<BatchSql> {
        None
    }

    /// Whether a migration runs under a statement lock timeout and is
    /// tried again when a statement gives up waiting (PostgreSQL, MySQL:
    /// the databases whose timeouts the runner reads and sets).
    fn retries_lock_waits(&self) -> bool {
        self.read_timeouts_sql().is_some()
    }

    /// Whether consecutive one-transaction migrations are committed
    /// together, each in a savepoint (SQLite, one writer at a time: a few
    /// commits instead of one per migration; `Migrator::commit_group`).
    fn commits_in_groups(&self) -> bool {
        false
    }

    /// Whether foreign keys are checked per connection and must be turned
    /// off around a migration (SQLite's `PRAGMA foreign_keys`).
    fn foreign_keys_pragma(&self) -> bool {
        false
    }

    /// Whether another runner may have applied a migration while this one
    /// waited for the write lock, so the history row is read again inside
    /// the transaction (SQLite: the lock is taken by the first write).
    fn rereads_history_in_transaction(&self) -> bool {
        false
    }

    /// The session lock `LockMode::Advisory` takes (`runner/lock.rs`), when
    /// the database has one (SQLite has none: the lock row always).
    fn session_lock(&self) -> Option<SessionLock> {
        None
    }

    /// Whether `LockMode::Auto` on a direct connection takes the lock row
    /// held while the runner's server session lasts, rather than the
    /// session lock (PostgreSQL: whether a connection goes through a
    /// pooler cannot be known for certain, and every runner must take the
    /// same lock), and how to tell the session.
    fn session_row(&self) -> Option<SessionRow> {
        None
    }

    /// Why `op` rewrites its whole table while writes wait, on a table
    /// that existed before the migration (`schema` as it was); `None` when
    /// it does not, or the database never copies (lint's
    /// `mysql-table-copy`).
    fn table_copy_reason(&self, _op: &Operation, _schema: &Schema) -> Option<String> {
        None
    }

    /// The diesel type names that differ on this database
    /// (`diesel_schema`).
    fn diesel_types(&self) -> &'static DieselTypes;

    /// How a backfill reads its replicas' lag (`runner/replica/`);
    /// `None` where the database cannot tell.
    fn replica_lag(&self) -> Option<ReplicaLag> {
        None
    }

    /// What may stand between the runner and the database, to probe for
    /// before taking the lock (`runner/topology.rs`).
    fn topology_probe(&self) -> TopologyProbe {
        TopologyProbe::None
    }

    /// Database time in whole seconds since the epoch (the lock row's
    /// `expires_at`).
    fn epoch_now_sql(&self) -> &'static str;

    /// The one atomic upsert that claims the lock row `table` for `owner`
    /// until `now + secs`, succeeding only when the row is absent, expired
    /// or already `owner`'s (`owner` a quoted literal, `now` an
    /// expression).
    fn claim_lock_row_sql(&self, table: &str, owner: &str, now: &str, secs: u64) -> String {
        format!(
            "INSERT INTO {table} (id, owner, expires_at) VALUES (1, {owner}, {now} + {secs}) \
             ON CONFLICT (id) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at \
             WHERE {table}.expires_at < {now} OR {table}.owner = excluded.owner"
        )
    }

    /// One row naming who holds the lock row and for how long; a row that
    /// expires more than `session_secs / 2` from now is held with its
    /// session.
    fn lock_row_holder_sql(&self, table: &str, now: &str, session_secs: u64) -> String {
        format!(
            "SELECT owner || CASE WHEN expires_at - {now} > {session_secs} / 2 THEN ' (held while its session lasts)' \
             ELSE ' (lease ends in ' || CAST(expires_at - {now} AS TEXT) || ' s)' END AS s FROM {table} WHERE id = 1"
        )
    }

    /// Whether a statement larger than the server's `max_allowed_packet`
    /// must be refused before the run (MySQL/MariaDB).
    fn checks_packet_size(&self) -> bool {
        false
    }

    /// An integer expression as text (`CAST(.. AS TEXT)`).
    fn integer_as_text(&self, expr: &str) -> String {
        format!("CAST({expr} AS TEXT)")
    }

    /// Whether index names need only be unique per table (MySQL), not
    /// per schema. Asked by `Project::index_names` (feature `model`).
    #[cfg_attr(not(feature = "model"), allow(dead_code))]
    fn index_names_per_table(&self) -> bool {
        false
    }

    /// Renders one operation, given the schema before it and the schema
    /// the migration started from (see [`crate::dialect::render_op`]).
    fn render(
        &self,
        op: &Operation,
        before: &Schema,
        start: &Schema,
    ) -> Result<Vec<Statement>, RenderError>;
}

/// A database's session lock, held by the server until the session ends
/// (`Backend::session_lock`, `runner/lock.rs`).
// Read by the runner, which is built with a backend feature only.
#[cfg_attr(
    not(any(feature = "sqlite", feature = "postgres", feature = "mysql")),
    allow(dead_code)
)]
#[derive(Debug, Clone)]
pub(crate) struct SessionLock {
    /// How messages name it: `the advisory lock`, `GET_LOCK`.
    pub name: &'static str,
    /// The refusal's words for it: `a session advisory lock`.
    pub kind: &'static str,
    /// What a runner waiting for it waits for, in words.
    pub waiting: String,
    /// One row (the session's id) when the lock was taken, none when
    /// another session holds it; never waits.
    pub try_sql: String,
    pub release_sql: String,
    /// One row naming who holds it (best effort).
    pub holder_sql: String,
    /// A query with a row when the session `pid` holds the lock: checked
    /// right after taking it, since a pooler the probe missed would leave
    /// it with a server session the runner cannot reach.
    pub held_by_sql: Option<fn(i64) -> String>,
}

/// The pieces of SQL a migration sent as one batch is framed with
/// (`Backend::batch_sql`, `runner/apply.rs`, `runner/transport.rs`).
// Read by the runner, which is built with a backend feature only.
#[cfg_attr(
    not(any(feature = "sqlite", feature = "postgres", feature = "mysql")),
    allow(dead_code)
)]
#[derive(Debug, Clone, Copy)]
pub(crate) struct BatchSql {
    /// Marks when the migration starts, first in its transaction (the
    /// transaction's own start time is when the whole query arrived, the
    /// same for every migration of a pipelined query).
    pub start: &'static str,
    /// The milliseconds since `start`, as the server computes them, for
    /// the history row's `execution_ms`.
    pub elapsed_ms: &'static str,
    /// Lets this transaction commit without waiting for its flush (all but
    /// the last migration of a pipelined query).
    pub not_durable: &'static str,
    /// A statement whose commit is flushed, which makes the commits before
    /// it durable too.
    pub flush: &'static str,
}

/// What `runner/topology.rs` probes a connection for
/// (`Backend::topology_probe`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TopologyProbe {
    /// Nothing: a file, always direct (SQLite).
    None,
    /// A transaction-pooling proxy in front of the server (PostgreSQL
    /// behind PgBouncer).
    Pooler,
    /// A Galera cluster node (MariaDB, MySQL with wsrep).
    Galera,
}

/// The names under `diesel::sql_types` of what differs per database in
/// diesel's schema of a model (`diesel_schema::diesel_type`); the rest
/// (integers, text, binary, dates) is the same everywhere.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DieselTypes {
    /// `ColumnType::Timestamp` (a timestamp without a time zone).
    pub timestamp: &'static str,
    /// `ColumnType::TimestampTz`.
    pub timestamptz: &'static str,
    pub uuid: &'static str,
    /// `ColumnType::Json`, and an `sql_type = "jsonb"`.
    pub json: &'static str,
    /// An `sql_type = "datetime"`.
    pub datetime: &'static str,
    /// An `sql_type = "float"` (single precision on MySQL, double elsewhere).
    pub float: &'static str,
    /// Whether an 8-bit integer is diesel's `TinyInt` (else `SmallInt`).
    pub tiny_int: bool,
    /// Whether an unsigned integer is diesel's `Unsigned<..>`.
    pub unsigned: bool,
}

/// Where a database's replicas' lag is read (`Backend::replica_lag`).
// Read by the runner, which is built with a backend feature only.
#[allow(dead_code)]
#[derive(Debug, Clone, Copy)]
pub(crate) enum ReplicaLag {
    /// On the primary: a query returning one text row `s`, "SECONDS
    /// REPLICAS", the worst replica's lag and how many replicas the
    /// database sees (PostgreSQL's `pg_stat_replication`).
    OnPrimary(&'static str),
    /// On each replica, connected to by its URL: positions read on the
    /// replicas and on the primary and compared (MySQL/MariaDB).
    ByPosition(&'static PositionSql),
}

/// The queries of [`ReplicaLag::ByPosition`], each returning one text row
/// `s`.
// Read by the runner, which is built with a backend feature only.
#[allow(dead_code)]
#[derive(Debug)]
pub(crate) struct PositionSql {
    /// "ON|CLUSTER|SELF|ALL": whether the server is a node of a Galera
    /// cluster, the cluster's identity, the node's own address and the
    /// addresses of all its nodes.
    pub node: &'static str,
    /// A Galera node's applied position: a count that grows with every
    /// commit of the cluster (`wsrep_last_committed`).
    pub cluster: &'static str,
    /// A classic primary's position: the GTIDs of its binary log,
    /// "DOMAIN-SERVER-SEQ,…" (MariaDB's `gtid_binlog_pos`).
    pub primary: &'static str,
    /// A classic replica's applied GTIDs, the same form
    /// (`gtid_slave_pos`).
    pub replica: &'static str,
    /// The replication domain the session writes (`gtid_domain_id`).
    pub domain: &'static str,
}

/// How a lock row held with its session names and checks that session
/// (`Backend::session_row`).
// Read by the runner, which is built with a backend feature only.
#[cfg_attr(
    not(any(feature = "sqlite", feature = "postgres", feature = "mysql")),
    allow(dead_code)
)]
#[derive(Debug, Clone, Copy)]
pub(crate) struct SessionRow {
    /// One row: this session's id.
    pub pid_sql: &'static str,
    /// A query with a row while session `pid` exists.
    pub alive_sql: fn(i64) -> String,
}

impl Dialect {
    /// The database behind this dialect. The one dispatch from the enum to
    /// a backend.
    pub(crate) fn backend(self) -> &'static dyn Backend {
        match self {
            Dialect::Postgres => &postgres::Postgres,
            Dialect::Sqlite => &sqlite::Sqlite,
            Dialect::Mysql => &mysql::Mysql,
        }
    }
}
