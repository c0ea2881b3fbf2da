//! The runner's view of a database connection, implemented for each diesel
//! connection type the build enables.
//!
//! Everything the runner needs from a database goes through this trait: run a
//! statement, count the rows of a catalog query (idempotency guards, lock
//! attempts), read the history table, and run a closure in a transaction. All
//! SQL is rendered with literals (values are the runner's own: versions,
//! validated names, hex checksums), so the same text can be printed by
//! `--dry-run`.

use diesel::connection::SimpleConnection;
use diesel::sql_types::{BigInt, Text};
use diesel::{Connection, QueryableByName, RunQueryDsl};

use super::error::RunError;
use crate::database_url::{Backend, DatabaseUrl};
use crate::dialect::Dialect;

/// One row of the history table.
#[derive(Debug, Clone, PartialEq, Eq, QueryableByName)]
pub struct HistoryRow {
    #[diesel(sql_type = BigInt)]
    pub version: i64,
    #[diesel(sql_type = Text)]
    pub name: String,
    #[diesel(sql_type = Text)]
    pub checksum: String,
    #[diesel(sql_type = Text)]
    pub applied_at: String,
    #[diesel(sql_type = BigInt)]
    pub execution_ms: i64,
    #[diesel(sql_type = Text)]
    pub tool_version: String,
    /// `applied`, or `partial` while a non-transactional migration runs.
    #[diesel(sql_type = Text)]
    pub state: String,
    /// Statements finished, for resuming a `partial` migration.
    #[diesel(sql_type = BigInt)]
    pub steps_done: i64,
}

#[derive(QueryableByName)]
struct TextRow {
    #[diesel(sql_type = Text)]
    s: String,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// A connection the runner can drive. Implemented for diesel's
/// `SqliteConnection`, `PgConnection` and `MysqlConnection` (with the
/// matching features).
pub trait MigrationConnection: Sized {
    fn dialect(&self) -> Dialect;

    /// Runs one or more statements, discarding results.
    fn execute(&mut self, sql: &str) -> diesel::QueryResult<()>;

    /// Number of rows `query` returns.
    fn count_rows(&mut self, query: &str) -> diesel::QueryResult<i64>;

    /// Loads history rows with `query`.
    fn load_history(&mut self, query: &str) -> diesel::QueryResult<Vec<HistoryRow>>;

    /// The text column `s` of each row `query` returns (settings, and the
    /// sessions named in lock timeout reports).
    fn query_texts(&mut self, query: &str) -> diesel::QueryResult<Vec<String>>;

    /// The connection as `Any`, so a Rust step can get the concrete diesel
    /// connection back (`RustStepContext::connection`).
    fn as_any_mut(&mut self) -> &mut dyn std::any::Any;

    /// Runs `f` in a transaction that commits when it returns `Ok`. On SQLite
    /// the transaction is `BEGIN IMMEDIATE`, which takes the write lock at
    /// once, so two runners serialise instead of failing at commit. Inside
    /// an open transaction it is a savepoint (SQLite's commit groups).
    fn in_transaction<T>(
        &mut self,
        f: impl FnOnce(&mut Self) -> Result<T, RunError>,
    ) -> Result<T, RunError>;

    /// Whether a transaction is open on the connection (the caller's, when
    /// it runs migrations inside its own): the runner then sends no
    /// `BEGIN`/`COMMIT` of its own and works in savepoints.
    fn in_open_transaction(&mut self) -> bool;
}

fn count_query(query: &str) -> String {
    format!("SELECT COUNT(*) AS n FROM ({query}) AS migrator_guard")
}

macro_rules! impl_migration_connection {
    ($conn:ty, $dialect:expr, $tx:path) => {
        impl MigrationConnection for $conn {
            fn dialect(&self) -> Dialect {
                $dialect
            }

            fn execute(&mut self, sql: &str) -> diesel::QueryResult<()> {
                self.batch_execute(sql)
            }

            fn count_rows(&mut self, query: &str) -> diesel::QueryResult<i64> {
                let rows: Vec<Count> = diesel::sql_query(count_query(query)).load(self)?;
                Ok(rows.first().map_or(0, |c| c.n))
            }

            fn load_history(&mut self, query: &str) -> diesel::QueryResult<Vec<HistoryRow>> {
                diesel::sql_query(query).load(self)
            }

            fn query_texts(&mut self, query: &str) -> diesel::QueryResult<Vec<String>> {
                let rows: Vec<TextRow> = diesel::sql_query(query).load(self)?;
                Ok(rows.into_iter().map(|r| r.s).collect())
            }

            fn as_any_mut(&mut self) -> &mut dyn std::any::Any {
                self
            }

            fn in_transaction<T>(
                &mut self,
                f: impl FnOnce(&mut Self) -> Result<T, RunError>,
            ) -> Result<T, RunError> {
                $tx(self, f)
            }

            fn in_open_transaction(&mut self) -> bool {
                use diesel::connection::{AnsiTransactionManager, TransactionManager};
                // A broken transaction manager counts as open: no batches.
                !matches!(
                    AnsiTransactionManager::transaction_manager_status_mut(self)
                        .transaction_depth(),
                    Ok(None)
                )
            }
        }
    };
}

/// `BEGIN IMMEDIATE`, or a savepoint inside an open transaction (diesel
/// refuses a nested `immediate_transaction`).
#[cfg(feature = "sqlite")]
fn sqlite_transaction<T>(
    c: &mut diesel::sqlite::SqliteConnection,
    f: impl FnOnce(&mut diesel::sqlite::SqliteConnection) -> Result<T, RunError>,
) -> Result<T, RunError> {
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    let open = AnsiTransactionManager::transaction_manager_status_mut(c)
        .transaction_depth()?
        .is_some();
    if open {
        c.transaction(f)
    } else {
        c.immediate_transaction(f)
    }
}

/// A plain transaction (a savepoint when one is open).
#[cfg(any(feature = "postgres", feature = "mysql"))]
fn transaction<C: Connection, T>(
    c: &mut C,
    f: impl FnOnce(&mut C) -> Result<T, RunError>,
) -> Result<T, RunError> {
    c.transaction(f)
}

#[cfg(feature = "sqlite")]
impl_migration_connection!(
    diesel::sqlite::SqliteConnection,
    Dialect::Sqlite,
    sqlite_transaction
);

#[cfg(feature = "postgres")]
impl_migration_connection!(diesel::pg::PgConnection, Dialect::Postgres, transaction);

// MySQL commits DDL implicitly, so a migration with DDL runs statement by
// statement with its progress recorded (`apply.rs`); the transaction here
// still makes the history writes and pure data steps atomic.
#[cfg(feature = "mysql")]
impl_migration_connection!(diesel::mysql::MysqlConnection, Dialect::Mysql, transaction);

/// Connections the runner can open from a URL; used by the CLI and tests.
/// Which variants exist depends on the build's features, so a `match` in
/// another crate ends with a catch-all arm.
#[allow(missing_debug_implementations)]
#[non_exhaustive]
pub enum AnyConnection {
    #[cfg(feature = "sqlite")]
    Sqlite(diesel::sqlite::SqliteConnection),
    #[cfg(feature = "postgres")]
    Postgres(diesel::pg::PgConnection),
    #[cfg(feature = "mysql")]
    Mysql(diesel::mysql::MysqlConnection),
}

impl AnyConnection {
    /// The database this connection talks to.
    pub fn dialect(&self) -> Dialect {
        match self {
            #[cfg(feature = "sqlite")]
            AnyConnection::Sqlite(c) => c.dialect(),
            #[cfg(feature = "postgres")]
            AnyConnection::Postgres(c) => c.dialect(),
            #[cfg(feature = "mysql")]
            AnyConnection::Mysql(c) => c.dialect(),
        }
    }

    /// Runs one or more statements, discarding results.
    pub fn execute(&mut self, sql: &str) -> diesel::QueryResult<()> {
        match self {
            #[cfg(feature = "sqlite")]
            AnyConnection::Sqlite(c) => c.batch_execute(sql),
            #[cfg(feature = "postgres")]
            AnyConnection::Postgres(c) => c.batch_execute(sql),
            #[cfg(feature = "mysql")]
            AnyConnection::Mysql(c) => c.batch_execute(sql),
        }
    }

    /// The text column `s` of each row `query` returns
    /// ([`MigrationConnection::query_texts`]).
    pub fn query_texts(&mut self, query: &str) -> diesel::QueryResult<Vec<String>> {
        match self {
            #[cfg(feature = "sqlite")]
            AnyConnection::Sqlite(c) => c.query_texts(query),
            #[cfg(feature = "postgres")]
            AnyConnection::Postgres(c) => c.query_texts(query),
            #[cfg(feature = "mysql")]
            AnyConnection::Mysql(c) => c.query_texts(query),
        }
    }
}

/// Whether the table `name` exists where the runner's unqualified
/// statements would find it (SQLite's `main`, PostgreSQL's search path,
/// MySQL's current database), without an error that would abort a
/// caller's open PostgreSQL transaction. One round trip; PostgreSQL's
/// `to_regclass` costs a fraction of `information_schema` (the history
/// table's is looked up at start-up).
pub fn table_exists<C: MigrationConnection>(conn: &mut C, name: &str) -> diesel::QueryResult<bool> {
    let d = conn.dialect();
    let q = d.backend().table_exists_sql(name);
    Ok(conn.count_rows(&q)? > 0)
}

/// Opens a connection from `postgres://…`, `postgresql://…`, `mysql://…`
/// (or `mariadb://…`), `sqlite://path`, `sqlite:path` or an SQLite path
/// (the rules of [`DatabaseUrl::parse`]). Errors never contain the
/// password.
pub fn connect(url: &str) -> Result<AnyConnection, RunError> {
    connect_url(&DatabaseUrl::parse(url)?)
}

/// [`connect`] for a URL parsed already.
pub fn connect_url(url: &DatabaseUrl) -> Result<AnyConnection, RunError> {
    let fail = |message: String| RunError::Connect {
        url: url.to_string(),
        message: url.redact(&message),
    };
    match url.backend() {
        Backend::Postgres => {
            #[cfg(feature = "postgres")]
            {
                diesel::pg::PgConnection::establish(&url.driver_url())
                    .map(AnyConnection::Postgres)
                    .map_err(|e| fail(e.to_string()))
            }
            #[cfg(not(feature = "postgres"))]
            Err(fail(
                "this build has no PostgreSQL support (feature `postgres`)".into(),
            ))
        }
        Backend::Mysql => {
            // The runner's lock and catalog queries are per database
            // (`DATABASE()`), so the URL must name one.
            let Some(database) = url.database().filter(|d| !d.is_empty()) else {
                return Err(fail(
                    "the URL names no database\nhelp: add it after the host, e.g. mysql://user@127.0.0.1:3306/app".into(),
                ));
            };
            #[cfg(feature = "mysql")]
            {
                let mut conn = diesel::mysql::MysqlConnection::establish(&url.driver_url())
                    .map_err(|e| fail(e.to_string()))?;
                // The database by its decoded name (diesel would pass the
                // URL's percent-encoded text), and the session in UTC, like
                // the history's applied_at.
                conn.batch_execute(&format!("USE {}", Dialect::Mysql.ident(database)))
                    .map_err(|e| fail(e.to_string()))?;
                conn.batch_execute("SET time_zone = '+00:00'")
                    .map_err(|e| fail(e.to_string()))?;
                Ok(AnyConnection::Mysql(conn))
            }
            #[cfg(not(feature = "mysql"))]
            {
                let _ = database;
                Err(fail(
                    "this build has no MySQL/MariaDB support (feature `mysql`, which needs libmysqlclient or libmariadb at build time)".into(),
                ))
            }
        }
        Backend::Sqlite => {
            #[cfg(feature = "sqlite")]
            {
                let mut conn = diesel::sqlite::SqliteConnection::establish(&url.driver_url())
                    .map_err(|e| fail(e.to_string()))?;
                // Another runner holding the write lock makes us wait instead of
                // failing with SQLITE_BUSY at once.
                conn.batch_execute("PRAGMA busy_timeout = 60000")
                    .map_err(|e| fail(e.to_string()))?;
                Ok(AnyConnection::Sqlite(conn))
            }
            #[cfg(not(feature = "sqlite"))]
            Err(fail(
                "this build has no SQLite support (feature `sqlite`)".into(),
            ))
        }
    }
}

#[cfg(test)]
mod url_tests {
    /// A MySQL URL must name its database (the lock and catalog queries are
    /// per database); refused before connecting, password hidden.
    #[test]
    fn mysql_url_without_a_database_is_refused() {
        for url in [
            "mysql://root:s3cret@127.0.0.1:3306",
            "mysql://root:s3cret@127.0.0.1:3306/",
            "mariadb://root:s3cret@127.0.0.1:3306/?ssl-mode=DISABLED",
        ] {
            let Err(e) = super::connect(url) else {
                panic!("{url}: connected")
            };
            let e = e.to_string();
            assert!(e.contains("the URL names no database"), "{e}");
            assert!(!e.contains("s3cret"), "{e}");
        }
    }
}
