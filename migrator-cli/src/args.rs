//! The arguments the commands share and the values of their flags: the
//! lock and wait flags (`LockArgs`, `WaitArgs`), the `--format`,
//! `--dialect`, `--lock-mode` and `--on-error` choices, `--database-url` as
//! given, and the parsers that check numbers and durations before they
//! reach the runner.

use std::time::Duration;

use clap::ValueEnum;
use migrator_core::dialect::Dialect;
use migrator_core::runner::LockMode;

/// How `up`, `down` and `redo` wait for another runner.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct LockArgs {
    /// Give up after waiting this many seconds for another runner's lock,
    /// and bound every wait for a lock another session holds outside the
    /// migrations' own statements (the history table, the lock row)
    /// (fractions allowed, at most a week).
    #[arg(long, value_name = "SECS", default_value = "60", value_parser = seconds)]
    pub(crate) lock_timeout: Duration,
    /// How runners exclude each other: `auto` finds out what the connection
    /// is (a direct session, a transaction-pooling proxy such as PgBouncer,
    /// a Galera node) and takes the lock that holds there, printing its
    /// choice.
    #[arg(long, value_name = "MODE", value_enum, default_value_t = LockModeArg::Auto)]
    pub(crate) lock_mode: LockModeArg,
    /// PostgreSQL: how long each statement may wait for a table lock before
    /// it is cancelled and the migration retried (a migration's
    /// `lock_timeout_ms` overrides it; 0 turns it off: the statements
    /// then wait as long as --lock-timeout).
    #[arg(long, value_name = "MS", default_value = "1000", value_parser = milliseconds)]
    pub(crate) statement_lock_timeout_ms: u64,
    /// PostgreSQL: how many times a migration is tried when its statements
    /// time out waiting for table locks (backoff from 200 ms, doubled each
    /// time, with jitter; 1 to 100).
    #[arg(long, value_name = "N", default_value = "5", value_parser = attempts)]
    pub(crate) lock_retries: u32,
    /// PostgreSQL and MySQL: the short, growing lock waits a migration is
    /// tried under first, before the --lock-retries tries at
    /// --statement-lock-timeout-ms: `WAIT[*COUNT],...` in ms or s, or
    /// `none` (a migration's `lock_waits` overrides it). A statement queued
    /// for a table lock stalls the table's other users as long as it waits;
    /// MySQL rounds each wait up to whole seconds.
    #[arg(long, value_name = "SPEC", default_value = "50ms*3,75ms*3,100ms*9", value_parser = lock_waits)]
    pub(crate) lock_waits: migrator_core::runner::LockWaits,
    /// PostgreSQL: cancel any statement of the migrations that runs longer
    /// (default: the session's own setting); such a failure is not retried.
    #[arg(long, value_name = "MS", value_parser = milliseconds)]
    pub(crate) statement_timeout_ms: Option<u64>,
    /// Backfills wait between batches while the worst replica is more than
    /// this many seconds behind, and go on once it caught up (fractions
    /// allowed). PostgreSQL: the streaming replicas, read on the primary
    /// from pg_stat_replication (the role needs pg_monitor). MariaDB
    /// Galera: the cluster's other nodes, connected to with this URL's
    /// credentials (or --replica-url). MariaDB with classic replicas: the
    /// --replica-url ones, by their applied GTIDs.
    #[arg(long, value_name = "SECS", value_parser = seconds)]
    pub(crate) max_replica_lag: Option<Duration>,
    /// MySQL/MariaDB, with --max-replica-lag: a replica to watch
    /// (repeatable): a classic replica of this server (MariaDB GTIDs), or on
    /// Galera a node of the same cluster, instead of the nodes the cluster
    /// reports.
    // Parsed later, like --database-url: clap would repeat a refused value
    // (and its password) in its error.
    #[arg(long = "replica-url", value_name = "URL", value_parser = url_arg, requires = "max_replica_lag")]
    pub(crate) replica_urls: Vec<UrlArg>,
    /// With --max-replica-lag: how long a backfill waits for the replicas
    /// at most before it stops (its finished batches kept; `up` resumes).
    #[arg(long, value_name = "SECS", default_value = "600", value_parser = seconds)]
    pub(crate) replica_lag_timeout: Duration,
    /// Refuse to run when the database has migrations newer than this
    /// project's (applied by a newer release). By default they are left as
    /// they are and reported, so that a release rolled back to still starts.
    #[arg(long)]
    pub(crate) refuse_newer: bool,
}

/// How long `status`, `verify` and `init --from-database` wait for a lock
/// another session holds (README "Timeouts").
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct WaitArgs {
    /// Give up after waiting this many seconds for a lock another session
    /// holds on the history table or the catalog (fractions allowed, at
    /// most a week).
    #[arg(long, value_name = "SECS", default_value = "60", value_parser = seconds)]
    pub(crate) lock_timeout: Duration,
}

/// `diagram --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum DiagramFormat {
    /// Mermaid `erDiagram` text, for Markdown that renders Mermaid.
    Mermaid,
    /// An HTML page with the picture inline (SVG and CSS, nothing loaded
    /// from elsewhere), to open in a browser.
    Html,
    /// A standalone SVG picture.
    Svg,
}

/// A `--database-url` as given: parsed by `commands::run` (so the error is
/// the project's, exit 2, and never repeats the value), and never shown by
/// `Debug`.
#[derive(Clone)]
pub(crate) struct UrlArg(pub(crate) String);

impl std::fmt::Debug for UrlArg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("UrlArg(..)")
    }
}

pub(crate) fn url_arg(s: &str) -> Result<UrlArg, std::convert::Infallible> {
    Ok(UrlArg(s.to_string()))
}

/// `--on-error`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum OnErrorArg {
    /// Run every other target.
    Continue,
    /// Start no new target once one failed.
    Stop,
}

impl From<OnErrorArg> for migrator_core::fleet::OnError {
    fn from(a: OnErrorArg) -> Self {
        match a {
            OnErrorArg::Continue => migrator_core::fleet::OnError::Continue,
            OnErrorArg::Stop => migrator_core::fleet::OnError::Stop,
        }
    }
}

/// `--lock-mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum LockModeArg {
    /// What holds on this connection, found out when the lock is taken; the
    /// default.
    Auto,
    /// A PostgreSQL session advisory lock (MySQL: `GET_LOCK`); refused
    /// through a transaction-pooling proxy and on Galera.
    Advisory,
    /// A lease row in `_migrator_lock` (behind PgBouncer in transaction
    /// mode, on Galera).
    Table,
}

impl From<LockModeArg> for LockMode {
    fn from(m: LockModeArg) -> LockMode {
        match m {
            LockModeArg::Auto => LockMode::Auto,
            LockModeArg::Advisory => LockMode::Advisory,
            LockModeArg::Table => LockMode::Table,
        }
    }
}

/// `--format` of commands whose output scripts read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum OutputFormat {
    /// Lines for people.
    Text,
    /// One JSON object on stdout.
    Json,
}

/// `--dialect`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum DialectArg {
    /// PostgreSQL (also `postgresql`, `pg`).
    #[value(alias = "postgresql", alias = "pg")]
    Postgres,
    /// SQLite (also `sqlite3`).
    #[value(alias = "sqlite3")]
    Sqlite,
    /// MySQL and MariaDB (also `mariadb`).
    #[value(alias = "mariadb")]
    Mysql,
}

impl From<DialectArg> for Dialect {
    fn from(d: DialectArg) -> Dialect {
        match d {
            DialectArg::Postgres => Dialect::Postgres,
            DialectArg::Sqlite => Dialect::Sqlite,
            DialectArg::Mysql => Dialect::Mysql,
        }
    }
}

/// The longest `--lock-timeout`: a week.
const MAX_WAIT_SECS: f64 = 7.0 * 86_400.0;
/// The longest millisecond setting: PostgreSQL's own limit for
/// `lock_timeout` and `statement_timeout` (a 32-bit integer).
const MAX_MS: u64 = 2_147_483_647;

/// A `--replica-url`, parsed: refused (without repeating it) unless it is
/// a MySQL/MariaDB URL.
pub(crate) fn replica_url(u: &UrlArg) -> Result<migrator_core::runner::DatabaseUrl, String> {
    let url = migrator_core::runner::DatabaseUrl::parse(&u.0)
        .map_err(|e| format!("--replica-url: {e}"))?;
    if url.backend() != migrator_core::database_url::Backend::Mysql {
        return Err(format!(
            "--replica-url {url} is not a MySQL/MariaDB URL: it names the MySQL/MariaDB replicas to watch (PostgreSQL's replicas are read on the primary)"
        ));
    }
    Ok(url)
}

/// A number of seconds: finite, not negative, at most a week.
fn seconds(s: &str) -> Result<Duration, String> {
    let v: f64 = s
        .trim()
        .parse()
        .map_err(|_| "not a number of seconds".to_string())?;
    if !v.is_finite() {
        return Err("not a finite number of seconds".into());
    }
    if v < 0.0 {
        return Err("a duration cannot be negative".into());
    }
    if v > MAX_WAIT_SECS {
        return Err(format!("at most {MAX_WAIT_SECS} s (a week)"));
    }
    Ok(Duration::from_secs_f64(v))
}

/// A whole number of milliseconds, at most PostgreSQL's limit.
fn milliseconds(s: &str) -> Result<u64, String> {
    let v: u64 = s
        .trim()
        .parse()
        .map_err(|_| "not a whole, non-negative number of milliseconds".to_string())?;
    if v > MAX_MS {
        return Err(format!("at most {MAX_MS} ms (PostgreSQL's limit)"));
    }
    Ok(v)
}

/// How many databases are migrated at once: 1 to 64.
pub(crate) fn jobs(s: &str) -> Result<usize, String> {
    match s.trim().parse::<usize>() {
        Ok(n) if (1..=64).contains(&n) => Ok(n),
        _ => Err("a whole number from 1 to 64".into()),
    }
}

/// How many times a migration is tried: 1 to 100.
fn attempts(s: &str) -> Result<u32, String> {
    match s.trim().parse::<u32>() {
        Ok(n) if (1..=100).contains(&n) => Ok(n),
        _ => Err("a whole number from 1 to 100".into()),
    }
}

/// A lock wait schedule (`lock_waits.rs`).
fn lock_waits(s: &str) -> Result<migrator_core::runner::LockWaits, String> {
    migrator_core::runner::LockWaits::parse(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_refused_before_they_reach_a_panic() {
        for bad in [
            "1e308", "NaN", "nan", "inf", "-inf", "-1", "604801", "soon", "",
        ] {
            assert!(seconds(bad).is_err(), "{bad}");
        }
        assert_eq!(seconds("0.5"), Ok(Duration::from_millis(500)));
        assert_eq!(seconds("604800"), Ok(Duration::from_secs(604_800)));
        for bad in ["-1", "1.5", "2147483648", "1e3", "18446744073709551616"] {
            assert!(milliseconds(bad).is_err(), "{bad}");
        }
        assert_eq!(milliseconds("0"), Ok(0));
        for bad in ["0", "101", "-1", "4294967296"] {
            assert!(attempts(bad).is_err(), "{bad}");
        }
    }
}
