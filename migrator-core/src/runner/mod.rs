//! The runner: applies, rolls back and reports migrations on a live database.
//!
//! Contract (docs/DESIGN.md §5):
//! - history lives in `_migrator_history` (version, name, checksum, applied_at
//!   in UTC, execution_ms, tool_version, state, steps_done);
//! - before anything runs, the recorded history is checked against the files:
//!   an applied migration whose file changed, disappeared or was renumbered is
//!   refused, naming it, and nothing is changed;
//! - on a database with transactional DDL a migration and its history row are
//!   written in one transaction; a migration with non-transactional steps (or
//!   on a database without transactional DDL) runs one statement at a time and
//!   records `steps_done` after each, so an interrupted run resumes where it
//!   stopped instead of repeating or skipping work;
//! - one runner at a time: PostgreSQL takes a session advisory lock (released
//!   on every exit path), SQLite serialises on `BEGIN IMMEDIATE` and re-reads
//!   the history inside each transaction;
//! - SQLite commits consecutive transactional migrations in groups, each in
//!   its own savepoint (`Migrator::commit_group`, `run_group`), with the
//!   outcome of a transaction per migration;
//! - `--dry-run` returns the exact SQL, history writes included, and runs
//!   nothing;
//! - Rust steps (`#[migration]` functions) run in order with the statements
//!   of their migration, in its transaction, when the set links them (a set
//!   from `embed_migrations!`); otherwise the migration is refused before
//!   anything runs (`steps.rs`);
//! - `harness.rs` implements diesel's `MigrationSource` for embedded
//!   migrations, for applications on diesel_migrations' harness.

pub mod archive;
mod backfill;
mod baseline;
mod conn;
// `MigrationSource` is implemented for the SQLite and PostgreSQL backends.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod harness;
mod history;
mod lock;
mod plan;
pub mod resolve;
mod retry;
mod steps;
mod topology;
mod waits;

use std::time::{Duration, Instant};

use crate::dialect::{Dialect, RenderError};
pub use crate::migration::{BoxError, RustStepContext, RustStepFn, RustStepResult};
pub use crate::migration::{Direction, EmbeddedMigrations, MigrationSet};
use crate::migration::{MigrationError, RenderFailure};

pub use crate::database_url::{redact_url, scrub, DatabaseUrl};
pub use conn::connect_url;
pub use conn::{connect, table_exists, AnyConnection, HistoryRow, MigrationConnection};
pub use history::HISTORY_TABLE;
pub use lock::{LockMode, LOCK_TABLE};
pub use plan::{json_string, FileState, LineState, Status, StatusLine};
pub use topology::{detect as detect_topology, Topology};
pub use waits::{bound_waits, explain, explain_text, is_lock_wait, mask_sql, DEFAULT_WAIT};

/// The runner's version, written into every history row.
pub const TOOL_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Everything that can go wrong while running migrations.
#[derive(thiserror::Error)]
pub enum RunError {
    /// The URL was refused before any connection was tried.
    #[error(transparent)]
    Url(#[from] crate::database_url::UrlError),
    #[error("cannot connect to {url}: {message}")]
    Connect { url: String, message: String },
    #[error(transparent)]
    Files(#[from] MigrationError),
    #[error("migration {migration}: {source}")]
    Render {
        migration: String,
        #[source]
        source: RenderError,
    },
    #[error("migration {migration} failed at statement {index} on {dialect}: {message}\n  statement: {sql}{rolled_back}")]
    Statement {
        migration: String,
        dialect: Dialect,
        index: usize,
        sql: String,
        message: String,
        rolled_back: &'static str,
    },
    /// Recorded history disagrees with the files; the message says how to
    /// proceed.
    #[error("{0}")]
    History(String),
    #[error("migration {migration} has a Rust step `{step}` that this program cannot run\nhelp: Rust data migrations are defined with `#[migration]` in the application; apply this migration from the application, which links the function: `Migrator::new(&MIGRATIONS).up(&mut conn)` with `static MIGRATIONS: EmbeddedMigrations = embed_migrations!(\"migrations\")`")]
    RustStep { migration: String, step: String },
    #[error("migration {migration} failed at step {index} on {dialect}: Rust step `{step}`: {message}{rolled_back}")]
    RustStepFailed {
        migration: String,
        dialect: Dialect,
        index: usize,
        step: String,
        message: String,
        rolled_back: &'static str,
    },
    #[error("migration {migration} is irreversible: step {step} has no reverse\nhelp: add a `reverse` to the raw SQL step, or restore from a backup")]
    Irreversible { migration: String, step: usize },
    #[error("timed out after {} s waiting for the migration lock held by another runner\nhelp: wait for the other runner to finish, or raise `--lock-timeout` (`Migrator::lock_timeout`)", .0.as_secs_f64())]
    LockTimeout(Duration),
    /// Every attempt of a migration waited longer than `lock_timeout` for a
    /// table lock (PostgreSQL); the last attempt was rolled back (or, step
    /// by step, stopped before the statement) like any failure.
    #[error("migration {migration} gave up after {attempts} attempt(s): statement {index} waited longer than lock_timeout ({timeout_ms} ms) for a lock each time; {state}\n  statement: {sql}\n  blocking: {blocking}\n  help: end or wait for the transaction holding the table (a long query, an `idle in transaction` session), then run `migrator up` again; raise `lock_timeout_ms` in the migration only if writers can wait that long")]
    LockRetriesExhausted {
        migration: String,
        attempts: u32,
        timeout_ms: u128,
        index: usize,
        sql: String,
        blocking: String,
        state: &'static str,
    },
    /// A statement outside a migration's own (reading the history, the
    /// catalog, the lock row) gave up waiting for a lock another session
    /// holds (`waits.rs`).
    #[error("gave up {what} on {dialect}{}: another session holds a lock it needs\n  blocking: {blocking}\n  help: end or wait for {}, then run the command again; `--lock-timeout SECS` raises the bound (inside a migration: `--statement-lock-timeout-ms`, or `lock_timeout_ms` in the migration file)", waited.map_or(String::new(), |w| format!(" after waiting {} s", w.as_secs_f64())), waits::usual_blockers(*dialect))]
    LockWait {
        /// What the tool was doing: `reading the history table`.
        what: String,
        dialect: Dialect,
        /// The session's bound, when known.
        waited: Option<Duration>,
        /// The other sessions, their statements masked (`mask_sql`).
        blocking: String,
    },
    /// MySQL/MariaDB: a statement larger than the server accepts; refused
    /// before anything of the run was sent.
    #[error("migration {migration}: statement {statement_index} is {bytes} bytes, over the server's max_allowed_packet of {limit} bytes; nothing was run\nhelp: raise it on the server (`SET GLOBAL max_allowed_packet = ...`, or `max_allowed_packet` in the server's configuration), or split the statement into smaller ones")]
    StatementTooLarge {
        migration: String,
        statement_index: usize,
        bytes: usize,
        limit: u64,
    },
    #[error("database error: {message}")]
    Database { message: String },
}

impl From<RenderFailure> for RunError {
    fn from(f: RenderFailure) -> RunError {
        match f {
            RenderFailure::NoSuchMigration(v) => {
                RunError::History(format!("there is no migration {v:04}"))
            }
            RenderFailure::Irreversible { migration, step } => {
                RunError::Irreversible { migration, step }
            }
            RenderFailure::Render { migration, source } => RunError::Render { migration, source },
        }
    }
}

impl From<diesel::result::Error> for RunError {
    fn from(e: diesel::result::Error) -> RunError {
        RunError::Database {
            message: e.to_string(),
        }
    }
}

/// Progress and notices from a run, for the CLI or an application's log.
/// New kinds of events may be added: match with a wildcard arm.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Event {
    /// Another runner holds the lock: `what` names it, `holder` says who
    /// holds it when the database tells, `timeout` is the longest wait.
    WaitingForLock {
        what: String,
        holder: Option<String>,
        timeout: Duration,
    },
    /// A statement of `id` waited longer than `lock_timeout` for a lock;
    /// attempt `attempt + 1` of `attempts` starts after `wait`.
    LockRetry {
        id: String,
        statement: String,
        attempt: u32,
        attempts: u32,
        wait: Duration,
    },
    Applying {
        id: String,
    },
    /// Done (on SQLite, done in the open commit group, which commits with
    /// the group: `Report::done` lists only what was committed).
    Applied {
        id: String,
        elapsed: Duration,
    },
    Resuming {
        id: String,
        steps_done: usize,
    },
    RollingBack {
        id: String,
    },
    RolledBack {
        id: String,
        elapsed: Duration,
    },
    /// A batched backfill of `table` in migration `id` finished a batch
    /// (`finished`: the whole backfill is done). `rows_done` counts every
    /// row done since it started, `resumed_from` of them by an earlier,
    /// interrupted run; `rows_per_sec` is this run's rate; `total` is
    /// `rows_done` plus the rows still to do, counted when this run
    /// started (rows the application adds meanwhile can make it grow).
    BackfillProgress {
        id: String,
        table: String,
        rows_done: u64,
        batches: u64,
        total: Option<u64>,
        rows_per_sec: f64,
        resumed_from: u64,
        finished: bool,
    },
    NothingToDo,
    /// The lock was taken: `lock` names it, chosen for `mode` on a
    /// connection found to be `topology`.
    LockChosen {
        lock: String,
        mode: LockMode,
        topology: Topology,
    },
}

/// A duration as people read it: `840 ms`, `12.4 s`, `2 min 17 s`,
/// `1 h 05 min`.
pub fn human_duration(d: Duration) -> String {
    let ms = d.as_millis();
    let s = d.as_secs();
    if ms < 1_000 {
        format!("{ms} ms")
    } else if s < 60 {
        format!("{:.1} s", d.as_secs_f64())
    } else if s < 3_600 {
        format!("{} min {:02} s", s / 60, s % 60)
    } else {
        format!("{} h {:02} min", s / 3_600, (s % 3_600) / 60)
    }
}

impl std::fmt::Display for Event {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Event::WaitingForLock {
                what,
                holder,
                timeout,
            } => {
                write!(f, "waiting for {what}, held by ")?;
                match holder {
                    Some(h) => write!(f, "another runner: {h}")?,
                    None => f.write_str("another runner")?,
                }
                write!(
                    f,
                    "; giving up after {} s (--lock-timeout)",
                    timeout.as_secs_f64()
                )
            }
            Event::LockRetry {
                id,
                statement,
                attempt,
                attempts,
                wait,
            } => write!(
                f,
                "{id}: `{statement}` timed out waiting for a lock (attempt {attempt} of {attempts}); retrying in {} ms",
                wait.as_millis()
            ),
            Event::Applying { id } => write!(f, "applying {id}"),
            Event::Applied { id, elapsed } => {
                write!(f, "applied {id} in {}", human_duration(*elapsed))
            }
            Event::Resuming { id, steps_done } => {
                write!(f, "resuming {id} after {steps_done} finished statement(s)")
            }
            Event::RollingBack { id } => write!(f, "rolling back {id}"),
            Event::RolledBack { id, elapsed } => {
                write!(f, "rolled back {id} in {}", human_duration(*elapsed))
            }
            Event::BackfillProgress {
                id,
                table,
                rows_done,
                batches,
                total,
                rows_per_sec,
                resumed_from,
                finished,
            } => {
                write!(f, "{id}: backfill {table}: {rows_done}")?;
                if let Some(t) = total {
                    write!(f, "/{t} rows")?;
                    if *t > 0 {
                        write!(f, " ({}%)", rows_done * 100 / t)?;
                    }
                } else {
                    f.write_str(" rows")?;
                }
                write!(f, ", {batches} batch(es), {rows_per_sec:.0} rows/s")?;
                if *resumed_from > 0 {
                    write!(f, ", resumed after {resumed_from} rows")?;
                }
                if *finished {
                    f.write_str(", done")?;
                }
                Ok(())
            }
            Event::NothingToDo => f.write_str("nothing to do: the database is up to date"),
            Event::LockChosen {
                lock,
                mode,
                topology,
            } => {
                let mode = match mode {
                    LockMode::Auto => "auto",
                    LockMode::Advisory => "advisory",
                    LockMode::Table => "table",
                };
                write!(f, "lock: {lock} (--lock-mode {mode}; {topology})")
            }
        }
    }
}

/// What a run did.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Report {
    /// Migrations applied (up) or rolled back (down), in order, by id.
    pub done: Vec<String>,
    /// For `--dry-run`: the SQL that would run, history writes included.
    pub sql: Vec<String>,
    /// For `--dry-run` of `up`: the safety lint's findings for the
    /// migrations that would run (`lint::lint_migration`), rules allowed
    /// by a migration's own `allow` list left out.
    pub findings: Vec<crate::lint::Finding>,
}

/// PostgreSQL: the fewest and most migrations sent in one query
/// (`Migrator::run_pipelined`).
const PIPELINE_MIN: usize = 2;
const PIPELINE_MAX: usize = 64;

/// What a pipelined query did: how many migrations it carried, how many of
/// them (from the first) were committed, and the error that stopped it.
struct Chunk {
    taken: usize,
    committed: usize,
    failure: Option<RunError>,
}

impl Chunk {
    /// For a chunk starting at pending index `i`: the indexes that run
    /// alone next, and the first one's failed first try. A stopped chunk's
    /// failing migration runs alone (statement by statement, which names
    /// the failing statement), after its lock timeout as a first try (so it
    /// waits the backoff like any retry); a cancellation (statement
    /// timeout, `pg_cancel_backend`) is not run again. When nothing was
    /// committed and the cause is not known to be the first migration
    /// (PostgreSQL parses the whole query before running any of it), each
    /// migration of the chunk runs alone.
    fn then_alone(self, i: usize) -> Result<(std::ops::Range<usize>, Option<RunError>), RunError> {
        let Some(failure) = self.failure else {
            return Ok((0..0, None));
        };
        if retry::is_cancelled(&failure) {
            return Err(failure);
        }
        let at = i + self.committed;
        if retry::is_lock_timeout(&failure) {
            return Ok((at..at + 1, Some(failure)));
        }
        if self.committed == 0 {
            return Ok((i..i + self.taken, None));
        }
        Ok((at..at + 1, None))
    }
}

/// Applies and rolls back a [`MigrationSet`] (or [`EmbeddedMigrations`]) on
/// a connection.
pub struct Migrator<'a> {
    set: &'a MigrationSet,
    lock_timeout: Duration,
    lock_mode: LockMode,
    lock_lease: Duration,
    held: std::cell::RefCell<Option<lock::Held>>,
    timeouts: std::cell::RefCell<retry::SessionTimeouts>,
    statement_lock_timeout: Duration,
    statement_timeout: Option<Duration>,
    lock_attempts: u32,
    retry_backoff: Duration,
    commit_group: Duration,
    pipeline_chunk: std::cell::Cell<usize>,
    on_event: Box<dyn Fn(&Event) + 'a>,
}

impl std::fmt::Debug for Migrator<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Migrator")
            .field("migrations", &self.set.len())
            .field("lock_timeout", &self.lock_timeout)
            .field("statement_lock_timeout", &self.statement_lock_timeout)
            .field("lock_attempts", &self.lock_attempts)
            .field("commit_group", &self.commit_group)
            .finish()
    }
}

impl<'a> Migrator<'a> {
    /// A runner for `&MIGRATIONS` (from `embed_migrations!`) or for a
    /// `&MigrationSet` loaded from files.
    pub fn new<S: AsRef<MigrationSet> + ?Sized>(set: &'a S) -> Migrator<'a> {
        Migrator {
            set: set.as_ref(),
            lock_timeout: Duration::from_secs(60),
            lock_mode: LockMode::Auto,
            lock_lease: Duration::from_secs(120),
            held: std::cell::RefCell::new(None),
            timeouts: Default::default(),
            statement_lock_timeout: Duration::from_secs(1),
            statement_timeout: None,
            lock_attempts: 5,
            retry_backoff: Duration::from_millis(200),
            commit_group: Duration::from_millis(100),
            pipeline_chunk: std::cell::Cell::new(PIPELINE_MIN),
            on_event: Box::new(|_| {}),
        }
    }

    /// How long to wait for another runner's lock before giving up.
    pub fn lock_timeout(mut self, t: Duration) -> Self {
        self.lock_timeout = t;
        self
    }

    /// How runners exclude each other: [`LockMode::Auto`] (default: what
    /// holds on the connection, found out when the lock is taken),
    /// [`LockMode::Advisory`] (refused where it cannot hold) or
    /// [`LockMode::Table`], the lease row, which holds through a
    /// transaction-pooling proxy and across Galera nodes (`runner/lock.rs`).
    pub fn lock_mode(mut self, mode: LockMode) -> Self {
        self.lock_mode = mode;
        self
    }

    /// The lease of the lock row ([`LockMode::Table`], and SQLite): each
    /// migration starts with at least this long ahead (the row is held for
    /// the lease and a quarter more, and renewed once a quarter has
    /// passed), and a backfill extends it batch by batch; a runner that
    /// dies without releasing it blocks others at most 1.25 times this
    /// long (default 120 s), unless it ran on the same host. Keep it above
    /// the longest single migration other than a backfill.
    pub fn lock_lease(mut self, lease: Duration) -> Self {
        self.lock_lease = lease;
        self
    }

    /// PostgreSQL and MySQL: how long each statement of a migration may wait
    /// for a table lock (`lock_timeout`; MySQL `lock_wait_timeout`, whole
    /// seconds) before it is cancelled and the migration retried (default 1 s; a migration's `lock_timeout_ms` overrides it;
    /// zero disables it: the statements then wait as long as the session's own
    /// bound, `bound_waits`). Distinct from [`Migrator::lock_timeout`], the wait
    /// for another runner.
    pub fn statement_lock_timeout(mut self, t: Duration) -> Self {
        self.statement_lock_timeout = t;
        self
    }

    /// PostgreSQL: a `statement_timeout` for every statement of the
    /// migrations (default: the session's own, usually none). A statement
    /// that runs longer is cancelled and its migration fails without a
    /// retry; mind long `CREATE INDEX CONCURRENTLY` and `VALIDATE` steps.
    pub fn statement_timeout(mut self, t: Duration) -> Self {
        self.statement_timeout = Some(t);
        self
    }

    /// PostgreSQL and MySQL: how many times a migration is tried when its statements
    /// time out waiting for locks (default 5; at least 1), and the first
    /// backoff between tries (default 200 ms, doubled each time, plus up to
    /// half again as jitter).
    pub fn lock_retries(mut self, attempts: u32, backoff: Duration) -> Self {
        self.lock_attempts = attempts.max(1);
        self.retry_backoff = backoff;
        self
    }

    /// SQLite: consecutive migrations that each run in one transaction are
    /// committed together, each in its own savepoint, in groups that stay
    /// open at most this long (default 100 ms; zero commits every migration
    /// on its own). A failing migration is rolled back to its savepoint and
    /// the ones before it are committed, as if each had its own
    /// transaction; a runner killed mid-group loses the whole uncommitted
    /// group, history included, and the next run applies it again. Other
    /// writers wait for a group as they wait for one migration (SQLite has
    /// one writer at a time). Applying many small migrations (a fresh test
    /// database) then costs a few commits instead of one per migration.
    /// Events of a group's migrations fire while its transaction holds
    /// the write lock: a callback that writes to the same database through
    /// another connection waits for the group (or set this to zero).
    /// PostgreSQL keeps one transaction per migration (a group would hold
    /// each migration's table locks until the group ends), and MySQL
    /// commits DDL as it runs.
    pub fn commit_group(mut self, window: Duration) -> Self {
        self.commit_group = window;
        self
    }

    /// Receives progress events (the CLI prints them).
    pub fn on_event(mut self, f: impl Fn(&Event) + 'a) -> Self {
        self.on_event = Box::new(f);
        self
    }

    fn emit(&self, e: Event) {
        (self.on_event)(&e);
    }

    /// Applies every pending migration (up to `target` when given).
    pub fn up<C: MigrationConnection>(&self, conn: &mut C) -> Result<Report, RunError> {
        self.up_to(conn, None)
    }

    /// Applies pending migrations up to and including `target`.
    pub fn up_to<C: MigrationConnection>(
        &self,
        conn: &mut C,
        target: Option<u32>,
    ) -> Result<Report, RunError> {
        if self.up_to_date(conn, target)? {
            self.emit(Event::NothingToDo);
            return Ok(Report::default());
        }
        self.locked(conn, |this, conn| this.run_up(conn, target, false))
    }

    /// The start-up fast path: when the history (read without the lock)
    /// is consistent with the files and already has every migration up to
    /// `target` applied, there is nothing to lock for. Safe because an
    /// applied migration stays applied for `up`: a runner racing with us
    /// can only apply more. Anything else (no history table yet, a pending,
    /// partial, edited or missing migration) takes the slow path, under the
    /// lock, which re-reads and reports.
    ///
    /// One round trip on SQLite and PostgreSQL: the database folds its rows
    /// into one text (PostgreSQL: its digest), compared with what the set
    /// expects when its first `k` migrations are applied
    /// (`history::applied_prefix`); nothing is decoded per row, hashed or
    /// normalised. Two on MySQL (existence, then the rows).
    ///
    /// A read that gave up waiting for a lock is an error: the slow path
    /// would wait for the same lock again (`waits.rs`).
    fn up_to_date<C: MigrationConnection>(
        &self,
        conn: &mut C,
        target: Option<u32>,
    ) -> Result<bool, RunError> {
        let target = target.unwrap_or(self.set.head());
        if target > self.set.head() {
            return Ok(false);
        }
        if conn.dialect() != Dialect::Mysql {
            return Ok(history::applied_prefix_or_wait(conn, self.set)?
                .is_some_and(|k| k >= target as usize));
        }
        // Two round trips (the table's existence, then its rows): a query
        // on a missing table would abort a caller's open PostgreSQL
        // transaction.
        let rows = match history::read(conn) {
            Ok(rows) => rows,
            Err(e @ RunError::LockWait { .. }) => return Err(e),
            Err(_) => return Ok(false),
        };
        // Versions are the table's key: `target` applied rows at or below
        // it are exactly 1..=target.
        Ok(plan::check_history(self.set, &rows).is_ok()
            && target <= self.set.head()
            && rows
                .iter()
                .filter(|r| r.version <= i64::from(target) && r.state == history::APPLIED)
                .count()
                == target as usize)
    }

    /// The SQL `up_to` would run, without running it (the history table is
    /// read if it exists, nothing is written).
    pub fn dry_run_up<C: MigrationConnection>(
        &self,
        conn: &mut C,
        target: Option<u32>,
    ) -> Result<Report, RunError> {
        self.run_up(conn, target, true)
    }

    /// Rolls back applied migrations newer than `target` (`Some(0)`: all).
    pub fn down_to<C: MigrationConnection>(
        &self,
        conn: &mut C,
        target: u32,
    ) -> Result<Report, RunError> {
        self.locked(conn, |this, conn| this.run_down(conn, target, false))
    }

    /// Rolls back the newest `steps` applied migrations.
    pub fn down_steps<C: MigrationConnection>(
        &self,
        conn: &mut C,
        steps: u32,
    ) -> Result<Report, RunError> {
        self.locked(conn, |this, conn| {
            let target = this.target_for_steps(conn, steps)?;
            this.run_down(conn, target, false)
        })
    }

    /// The version left applied after rolling back the newest `steps`
    /// applied migrations.
    pub fn target_for_steps<C: MigrationConnection>(
        &self,
        conn: &mut C,
        steps: u32,
    ) -> Result<u32, RunError> {
        let mut applied: Vec<u32> = self
            .checked_history(conn)?
            .iter()
            .map(|r| r.version as u32)
            .collect();
        applied.sort_unstable_by(|a, b| b.cmp(a));
        Ok(applied.get(steps as usize).copied().unwrap_or(0))
    }

    /// The SQL `down_to` would run.
    pub fn dry_run_down<C: MigrationConnection>(
        &self,
        conn: &mut C,
        target: u32,
    ) -> Result<Report, RunError> {
        self.run_down(conn, target, true)
    }

    /// The migrations this runner applies.
    pub fn migration_set(&self) -> &MigrationSet {
        self.set
    }

    /// The history table's rows as recorded, oldest first (empty when the
    /// table does not exist yet): what ran, when, for how long, with which
    /// checksum and tool version. [`Migrator::status`] compares them with
    /// the files.
    pub fn history<C: MigrationConnection>(
        &self,
        conn: &mut C,
    ) -> Result<Vec<HistoryRow>, RunError> {
        history::read(conn)
    }

    /// The lock this runner's mode takes on `conn`, and why, in words,
    /// without taking it (the CLI's `status`); an error when the mode is
    /// refused there.
    pub fn planned_lock<C: MigrationConnection>(&self, conn: &mut C) -> Result<String, RunError> {
        lock::planned(conn, self.lock_mode)
    }

    /// Applied, pending, edited and missing migrations.
    pub fn status<C: MigrationConnection>(&self, conn: &mut C) -> Result<Status, RunError> {
        let rows = history::read(conn)?;
        Ok(plan::status(self.set, &rows))
    }

    fn locked<C: MigrationConnection, T>(
        &self,
        conn: &mut C,
        f: impl FnOnce(&Self, &mut C) -> Result<T, RunError>,
    ) -> Result<T, RunError> {
        // The lock comes first: two runners creating the history table at
        // once collide in PostgreSQL's catalog even with IF NOT EXISTS.
        let held = lock::acquire(
            conn,
            self.lock_mode,
            self.lock_timeout,
            self.lock_lease,
            |what, holder| {
                self.emit(Event::WaitingForLock {
                    what,
                    holder,
                    timeout: self.lock_timeout,
                })
            },
        )?;
        self.emit(Event::LockChosen {
            lock: held.describe(conn.dialect()),
            mode: self.lock_mode,
            topology: held.topology.clone(),
        });
        let current = lock::set_current(&held);
        *self.held.borrow_mut() = Some(held);
        let out = history::ensure_table(conn).and_then(|()| f(self, conn));
        self.timeouts.borrow_mut().restore(conn);
        drop(current);
        // Released on every path; a failure to release is only reported when
        // the work itself succeeded (the session's end releases an advisory
        // lock anyway; a lock row runs out with its lease).
        let held = self.held.borrow_mut().take();
        let released = held.map_or(Ok(()), |h| lock::release(conn, &h));
        let out = out?;
        released?;
        Ok(out)
    }

    /// Extends the lock row's lease before a migration (no-op otherwise).
    fn renew_lock<C: MigrationConnection>(&self, conn: &mut C) -> Result<(), RunError> {
        match &*self.held.borrow() {
            Some(h) => lock::renew(conn, h),
            None => Ok(()),
        }
    }

    /// Reads the history and refuses it when it disagrees with the files.
    fn checked_history<C: MigrationConnection>(
        &self,
        conn: &mut C,
    ) -> Result<Vec<HistoryRow>, RunError> {
        let rows = history::read(conn)?;
        plan::check_history(self.set, &rows)?;
        Ok(rows)
    }

    /// The `lock_timeout` migration `m` runs under.
    fn lock_timeout_for(&self, m: &crate::migration::Migration) -> Duration {
        m.file
            .lock_timeout_ms
            .map_or(self.statement_lock_timeout, Duration::from_millis)
    }

    /// Runs `f` (one migration, `attempt` from 1) under the statement lock
    /// timeout, retrying it with backoff while it fails on a lock timeout
    /// (`retry.rs`). Other databases run it once, as it is.
    fn with_lock_retries<C: MigrationConnection, T>(
        &self,
        conn: &mut C,
        m: &crate::migration::Migration,
        statements: &[steps::Step],
        tried: Option<RunError>,
        mut f: impl FnMut(&mut C, u32, Option<&str>) -> Result<T, RunError>,
    ) -> Result<T, RunError> {
        let dialect = conn.dialect();
        if dialect == Dialect::Sqlite {
            return f(conn, 1, None);
        }
        // A lock timeout the migration met in a pipelined chunk is its
        // first try.
        let mut tried = tried;
        let timeout = self.lock_timeout_for(m);
        let mysql = dialect == Dialect::Mysql;
        // PostgreSQL: `f` runs the `SET` itself, in the migration's batch
        // when it is sent as one (`history::apply`).
        let set = if mysql {
            self.timeouts.borrow_mut().set(conn, timeout, None)?;
            None
        } else {
            Some(
                self.timeouts
                    .borrow_mut()
                    .prepare(conn, timeout, self.statement_timeout)?,
            )
        };
        let mut attempt = 1;
        let result = loop {
            let outcome = match tried.take() {
                Some(e) => Err(e),
                None => f(conn, attempt, set.as_deref()),
            };
            match outcome {
                Err(e) if retry::is_lock_timeout(&e) => {
                    let (index, sql) = match &e {
                        RunError::Statement { index, sql, .. } => (*index, sql.clone()),
                        RunError::RustStepFailed { index, step, .. } => {
                            (*index, format!("Rust step `{step}`"))
                        }
                        _ => (0, String::new()),
                    };
                    if attempt >= self.lock_attempts {
                        // Step by step, a run that finished nothing leaves
                        // no history row (history.rs): then nothing changed.
                        let in_tx = history::runs_in_transaction(dialect, m, statements)
                            || history::read(conn).is_ok_and(|rows| {
                                !rows.iter().any(|r| r.version == i64::from(m.version))
                            });
                        break Err(RunError::LockRetriesExhausted {
                            migration: m.id(),
                            attempts: attempt,
                            timeout_ms: timeout.as_millis(),
                            index,
                            sql,
                            blocking: waits::blockers(conn),
                            state: if in_tx {
                                "nothing of the migration is left: the database is as it was before it"
                            } else {
                                "the statements before this one are done and recorded; `migrator up` resumes from this statement"
                            },
                        });
                    }
                    let wait = retry::backoff(self.retry_backoff, attempt);
                    self.emit(Event::LockRetry {
                        id: m.id(),
                        statement: sql,
                        attempt,
                        attempts: self.lock_attempts,
                        wait,
                    });
                    std::thread::sleep(wait);
                    attempt += 1;
                }
                // A history write that waited inside the migration ran
                // under the migration's own bound.
                Err(RunError::LockWait {
                    what,
                    dialect,
                    waited: None,
                    blocking,
                }) => {
                    break Err(RunError::LockWait {
                        what,
                        dialect,
                        waited: Some(timeout),
                        blocking,
                    })
                }
                other => break other,
            }
        };
        result
    }

    /// The `SET` lines a dry run shows before migration `m` (PostgreSQL,
    /// MySQL).
    fn dry_run_settings(&self, dialect: Dialect, m: &crate::migration::Migration) -> Vec<String> {
        let backend = dialect.backend();
        let mut out = vec![format!(
            "{};",
            backend.lock_timeout_sql(self.lock_timeout_for(m))
        )];
        if let Some(t) = self
            .statement_timeout
            .filter(|_| backend.has_statement_timeout())
        {
            out.push(format!(
                "{};",
                retry::set_timeout_sql("statement_timeout", t)
            ));
        }
        out
    }

    fn run_up<C: MigrationConnection>(
        &self,
        conn: &mut C,
        target: Option<u32>,
        dry_run: bool,
    ) -> Result<Report, RunError> {
        let dialect = conn.dialect();
        let rows = self.checked_history(conn)?;
        let target = target.unwrap_or(self.set.head());
        if target > self.set.head() {
            return Err(RunError::History(format!(
                "cannot migrate up to {target:04}: the newest migration is {:04}",
                self.set.head()
            )));
        }
        let mut report = Report::default();
        // On a Galera node whose DDL runs under TOI the dry run also
        // reports DDL that blocks the cluster (`lint/galera.rs`); under
        // RSU a node applies DDL alone.
        let galera = dry_run
            && dialect == Dialect::Mysql
            && matches!(topology::detect(conn), Ok(Topology::Galera { ref osu_method, .. })
                if osu_method.eq_ignore_ascii_case("TOI"));
        if dry_run && !history::exists(conn)? {
            report.sql.push(history::create_sql(dialect) + ";");
        }
        // Every pending migration is rendered, and its Rust steps looked up,
        // before the first one runs: a migration this program cannot run
        // stops the run with nothing done.
        let mut pending = Vec::new();
        for m in &self.set.migrations {
            if m.version > target {
                break;
            }
            let row = rows.iter().find(|r| r.version == m.version as i64);
            if row.is_some_and(|r| r.state == history::APPLIED) {
                continue;
            }
            let steps_done = row.map_or(0, |r| r.steps_done.max(0) as usize);
            let steps = steps::steps(self.set, m, dialect, Direction::Up)?;
            pending.push((m, steps_done, steps));
        }
        if !dry_run {
            let sizes: Vec<_> = pending.iter().map(|(m, _, s)| (*m, s.as_slice())).collect();
            waits::check_sizes(conn, &sizes)?;
        }
        let mut next = 0;
        // After a pipelined chunk stops, these run alone; the first of them
        // may carry the chunk's lock timeout as its first try.
        let mut alone = 0..0;
        let mut first_try: Option<RunError> = None;
        while next < pending.len() {
            let i = next;
            let (m, steps_done, ref statements) = pending[i];
            next += 1;
            if !dry_run && self.joins_group(dialect, m, statements, steps_done) {
                let batch: Vec<_> = pending[i..]
                    .iter()
                    .take_while(|(m, d, s)| self.joins_group(dialect, m, s, *d))
                    .map(|(m, _, s)| (*m, s.as_slice()))
                    .collect();
                next = i + self.run_group(conn, &batch, Direction::Up, &mut report)?;
                continue;
            }
            if !dry_run && !alone.contains(&i) && self.may_pipeline(conn) {
                let batch: Vec<_> = pending[i..]
                    .iter()
                    .take_while(|(m, d, s)| *d == 0 && history::batchable(dialect, m, s))
                    .map(|(m, _, s)| (*m, s.as_slice()))
                    .collect();
                if batch.len() > 1 {
                    let chunk = self.run_pipelined(conn, &batch, Direction::Up, &mut report)?;
                    next = i + chunk.committed;
                    (alone, first_try) = chunk.then_alone(i)?;
                    continue;
                }
            }
            if dry_run {
                if dialect != Dialect::Sqlite {
                    report.sql.extend(self.dry_run_settings(dialect, m));
                }
                let findings = self.set.with_state(m.version as usize - 1, |start| {
                    let mut f = crate::lint::lint_migration(m, start, &[dialect]);
                    if galera {
                        f.extend(crate::lint::lint_galera_migration(m, start));
                    }
                    f
                });
                report.findings.extend(
                    findings
                        .into_iter()
                        .filter(|f| !m.file.allow.iter().any(|a| a == f.rule.name)),
                );
                plan::dry_run(
                    &mut report,
                    dialect,
                    m,
                    statements,
                    Direction::Up,
                    steps_done,
                );
                continue;
            }
            if steps_done > 0 {
                self.emit(Event::Resuming {
                    id: m.id(),
                    steps_done,
                });
            }
            self.renew_lock(conn)?;
            self.emit(Event::Applying { id: m.id() });
            let started = Instant::now();
            let tried = first_try.take().filter(|_| alone.start == i);
            let in_chunk = tried.is_some() || alone.contains(&i);
            let applied =
                self.with_lock_retries(conn, m, statements, tried, |conn, attempt, set| {
                    // A retried step-by-step run resumes from what it recorded.
                    let steps_done = if attempt == 1 {
                        steps_done
                    } else {
                        history::read(conn)?
                            .iter()
                            .find(|r| r.version == i64::from(m.version))
                            .map_or(0, |r| r.steps_done.max(0) as usize)
                    };
                    history::apply(
                        conn,
                        m,
                        statements,
                        Direction::Up,
                        steps_done,
                        started,
                        set.map(|set| (set, attempt == 1 && !in_chunk)),
                        &*self.on_event,
                    )
                })?;
            if applied {
                self.emit(Event::Applied {
                    id: m.id(),
                    elapsed: started.elapsed(),
                });
                report.done.push(m.id());
            }
        }
        if report.done.is_empty() && !dry_run {
            self.emit(Event::NothingToDo);
        }
        Ok(report)
    }

    fn run_down<C: MigrationConnection>(
        &self,
        conn: &mut C,
        target: u32,
        dry_run: bool,
    ) -> Result<Report, RunError> {
        let dialect = conn.dialect();
        let rows = self.checked_history(conn)?;
        let mut report = Report::default();
        let mut applied: Vec<&HistoryRow> =
            rows.iter().filter(|r| r.version as u32 > target).collect();
        applied.sort_by_key(|r| std::cmp::Reverse(r.version));
        // As for `up`: everything is rendered before anything runs.
        let mut pending = Vec::new();
        for row in applied {
            let m = self.set.get(row.version as u32).ok_or_else(|| {
                RunError::History(format!("migration {:04} is missing", row.version))
            })?;
            if row.state != history::APPLIED {
                return Err(RunError::History(format!(
                    "migration {} is partially applied ({} statement(s) done); run `migrator up` to finish it before rolling back",
                    m.id(),
                    row.steps_done
                )));
            }
            pending.push((m, steps::steps(self.set, m, dialect, Direction::Down)?));
        }
        if !dry_run {
            let sizes: Vec<_> = pending.iter().map(|(m, s)| (*m, s.as_slice())).collect();
            waits::check_sizes(conn, &sizes)?;
        }
        let mut next = 0;
        let mut alone = 0..0;
        let mut first_try: Option<RunError> = None;
        while next < pending.len() {
            let i = next;
            let (m, ref statements) = pending[i];
            next += 1;
            if !dry_run && self.joins_group(dialect, m, statements, 0) {
                let batch: Vec<_> = pending[i..]
                    .iter()
                    .take_while(|(m, s)| self.joins_group(dialect, m, s, 0))
                    .map(|(m, s)| (*m, s.as_slice()))
                    .collect();
                next = i + self.run_group(conn, &batch, Direction::Down, &mut report)?;
                continue;
            }
            if !dry_run && !alone.contains(&i) && self.may_pipeline(conn) {
                let batch: Vec<_> = pending[i..]
                    .iter()
                    .take_while(|(m, s)| history::batchable(dialect, m, s))
                    .map(|(m, s)| (*m, s.as_slice()))
                    .collect();
                if batch.len() > 1 {
                    let chunk = self.run_pipelined(conn, &batch, Direction::Down, &mut report)?;
                    next = i + chunk.committed;
                    (alone, first_try) = chunk.then_alone(i)?;
                    continue;
                }
            }
            if dry_run {
                if dialect != Dialect::Sqlite {
                    report.sql.extend(self.dry_run_settings(dialect, m));
                }
                plan::dry_run(&mut report, dialect, m, statements, Direction::Down, 0);
                continue;
            }
            self.renew_lock(conn)?;
            self.emit(Event::RollingBack { id: m.id() });
            let started = Instant::now();
            let tried = first_try.take().filter(|_| alone.start == i);
            let in_chunk = tried.is_some() || alone.contains(&i);
            let done =
                self.with_lock_retries(conn, m, statements, tried, |conn, attempt, set| {
                    history::apply(
                        conn,
                        m,
                        statements,
                        Direction::Down,
                        0,
                        started,
                        set.map(|set| (set, attempt == 1 && !in_chunk)),
                        &*self.on_event,
                    )
                })?;
            if done {
                self.emit(Event::RolledBack {
                    id: m.id(),
                    elapsed: started.elapsed(),
                });
                report.done.push(m.id());
            }
        }
        if report.done.is_empty() && !dry_run {
            self.emit(Event::NothingToDo);
        }
        Ok(report)
    }
    /// PostgreSQL: sends migrations from the front of `batch` (each
    /// [`history::batchable`]) as one query, each still its own
    /// transaction with its history row (`SET ..; BEGIN; ..; COMMIT` one
    /// after the other, `history::one_batch`): one round trip for several
    /// migrations, with the locks and the outcome of one transaction each.
    /// Only the last commit of a chunk waits for its WAL flush
    /// (`history::one_batch`), which makes the whole chunk durable before
    /// any of it is reported applied.
    /// The chunk starts at [`PIPELINE_MIN`] migrations and doubles, up to
    /// [`PIPELINE_MAX`], while chunks finish within 50 ms (so events keep
    /// coming); it halves when one takes over 200 ms. Returns how many it
    /// sent and how many were committed (read back from the history):
    /// PostgreSQL skips the rest of a query after an error, so when a
    /// migration fails, the ones before it are committed, it is rolled
    /// back, and the caller runs it alone, which retries a lock timeout or
    /// names the failing statement.
    fn run_pipelined<C: MigrationConnection>(
        &self,
        conn: &mut C,
        batch: &[(&crate::migration::Migration, &[steps::Step])],
        direction: Direction,
        report: &mut Report,
    ) -> Result<Chunk, RunError> {
        let dialect = conn.dialect();
        self.renew_lock(conn)?;
        let chunk = &batch[..self.pipeline_chunk.get().min(batch.len())];
        let mut sql = String::new();
        for (k, (m, statements)) in chunk.iter().enumerate() {
            let durable = k + 1 == chunk.len();
            let set = self.timeouts.borrow_mut().prepare(
                conn,
                self.lock_timeout_for(m),
                self.statement_timeout,
            )?;
            let one = history::one_batch(dialect, m, statements, direction, &set, durable)
                .ok_or_else(|| {
                    RunError::History(format!("{} cannot be sent as one batch", m.id()))
                })?;
            if !sql.is_empty() {
                sql.push_str(";\n");
            }
            sql.push_str(&one);
        }
        let started = Instant::now();
        let sent = conn.execute(&sql);
        if sent.is_err() {
            let _ = conn.execute("ROLLBACK");
        }
        let elapsed = started.elapsed();
        let versions: Vec<u32> = chunk.iter().map(|(m, _)| m.version).collect();
        let rows = history::read_versions(conn, &versions).map_err(|e| match &sent {
            Err(first) => RunError::Database {
                message: format!(
                    "{e}\n  after this error in a query of {} migrations from {}: {first}\n  `migrator status` shows which are applied",
                    chunk.len(),
                    chunk[0].0.id()
                ),
            },
            Ok(()) => e,
        })?;
        let done = |m: &crate::migration::Migration| {
            let row = rows.iter().find(|r| r.version == i64::from(m.version));
            match direction {
                Direction::Up => row
                    .filter(|r| r.state == history::APPLIED)
                    .map(|r| r.execution_ms),
                Direction::Down => row.is_none().then_some(-1),
            }
        };
        let committed = chunk.iter().take_while(|(m, _)| done(m).is_some()).count();
        if sent.is_err() && committed > 0 {
            // Those committed without waiting for their WAL flush: one
            // synchronous commit makes them durable before they are
            // reported.
            conn.execute("SELECT txid_current()")
                .map_err(|e| RunError::Database {
                    message: format!("flushing the committed migrations: {e}"),
                })?;
        }
        for (m, _) in &chunk[..committed] {
            let id = m.id();
            let ms = done(m).unwrap_or(-1);
            match direction {
                Direction::Up => {
                    self.emit(Event::Applying { id: id.clone() });
                    self.emit(Event::Applied {
                        id: id.clone(),
                        elapsed: Duration::from_millis(ms.max(0) as u64),
                    });
                }
                Direction::Down => {
                    self.emit(Event::RollingBack { id: id.clone() });
                    self.emit(Event::RolledBack {
                        id: id.clone(),
                        elapsed: elapsed / chunk.len() as u32,
                    });
                }
            }
            report.done.push(id);
        }
        let failure = match sent {
            Ok(()) => {
                let n = self.pipeline_chunk.get();
                self.pipeline_chunk
                    .set(if elapsed < Duration::from_millis(50) {
                        (n * 2).min(PIPELINE_MAX)
                    } else if elapsed > Duration::from_millis(200) {
                        (n / 2).max(PIPELINE_MIN)
                    } else {
                        n
                    });
                None
            }
            Err(e) => {
                self.pipeline_chunk.set(PIPELINE_MIN);
                let m = chunk.get(committed).map_or(chunk[0].0, |(m, _)| *m);
                Some(RunError::Statement {
                    migration: m.id(),
                    dialect,
                    index: 1,
                    sql: "(the migration's statements, sent as one batch)".into(),
                    message: e.to_string(),
                    rolled_back: steps::ROLLED_BACK,
                })
            }
        };
        Ok(Chunk {
            taken: chunk.len(),
            committed,
            failure,
        })
    }

    /// Whether pending migrations may be pipelined ([`Migrator::run_pipelined`]):
    /// not inside the caller's own transaction (the chunk's `COMMIT`s would
    /// end it), not under the lock row (its lease is renewed between
    /// queries, and a chunk's length is not known in advance), not with a
    /// `statement_timeout` (before PostgreSQL 13 it covers a whole query).
    fn may_pipeline<C: MigrationConnection>(&self, conn: &mut C) -> bool {
        self.statement_timeout.is_none()
            && !self.held.borrow().as_ref().is_some_and(|h| h.row_only())
            && !conn.in_open_transaction()
    }

    /// Whether a pending migration joins a SQLite commit group
    /// ([`Migrator::commit_group`]): one that runs in one transaction and has
    /// no recorded progress.
    fn joins_group(
        &self,
        dialect: Dialect,
        m: &crate::migration::Migration,
        statements: &[steps::Step],
        steps_done: usize,
    ) -> bool {
        dialect == Dialect::Sqlite
            && !self.commit_group.is_zero()
            && steps_done == 0
            && history::runs_in_transaction(dialect, m, statements)
    }

    /// SQLite: runs migrations from the front of `batch` (all of which
    /// [`Migrator::joins_group`]) in one transaction, each in a savepoint,
    /// until the group has been open for `commit_group`, and commits them.
    /// Returns how many it took (at least one). A failing migration is
    /// rolled back alone and the ones before it are committed before its
    /// error is returned; when the commit itself fails none of the group is
    /// applied, and the error says which ones that rolled back.
    fn run_group<C: MigrationConnection>(
        &self,
        conn: &mut C,
        batch: &[(&crate::migration::Migration, &[steps::Step])],
        direction: Direction,
        report: &mut Report,
    ) -> Result<usize, RunError> {
        self.renew_lock(conn)?;
        let fks = history::sqlite_foreign_keys_off(conn)?;
        let opened = Instant::now();
        let mut taken = 0;
        let mut done = Vec::new();
        let mut failure = None;
        let committed = conn.in_transaction(|c| {
            for (m, statements) in batch {
                if taken > 0 && opened.elapsed() >= self.commit_group {
                    break;
                }
                taken += 1;
                self.emit(match direction {
                    Direction::Up => Event::Applying { id: m.id() },
                    Direction::Down => Event::RollingBack { id: m.id() },
                });
                let started = Instant::now();
                match history::apply_in_transaction(
                    c,
                    m,
                    statements,
                    direction,
                    started,
                    fks,
                    &*self.on_event,
                ) {
                    Ok(true) => {
                        let (id, elapsed) = (m.id(), started.elapsed());
                        self.emit(match direction {
                            Direction::Up => Event::Applied { id, elapsed },
                            Direction::Down => Event::RolledBack { id, elapsed },
                        });
                        done.push(m.id());
                    }
                    Ok(false) => {}
                    Err(e) => {
                        failure = Some(e);
                        break;
                    }
                }
            }
            Ok(())
        });
        let committed = history::sqlite_foreign_keys_restore(conn, fks, committed);
        match (committed, failure) {
            (Err(e), failure) if !done.is_empty() => Err(RunError::Database {
                message: format!(
                    "committing {} failed: {e}{}\n  none of them is {}: the database is as it was before {}; run the command again",
                    done.join(", "),
                    failure.map_or(String::new(), |f| format!("\n  (after this failure of the next migration: {f})")),
                    match direction {
                        Direction::Up => "applied",
                        Direction::Down => "rolled back",
                    },
                    done[0],
                ),
            }),
            (Err(e), failure) => Err(failure.unwrap_or(e)),
            (Ok(()), Some(e)) => {
                report.done.extend(done);
                Err(e)
            }
            (Ok(()), None) => {
                report.done.extend(done);
                Ok(taken)
            }
        }
    }
}

debug_as_display!(RunError);

#[cfg(test)]
mod duration_tests {
    use super::human_duration;
    use std::time::Duration;

    #[test]
    fn durations_read_as_people_write_them() {
        let ms = Duration::from_millis;
        assert_eq!(human_duration(ms(0)), "0 ms");
        assert_eq!(human_duration(ms(840)), "840 ms");
        assert_eq!(human_duration(ms(1_000)), "1.0 s");
        assert_eq!(human_duration(ms(12_440)), "12.4 s");
        assert_eq!(human_duration(ms(137_486)), "2 min 17 s");
        assert_eq!(human_duration(ms(3_599_999)), "59 min 59 s");
        assert_eq!(human_duration(ms(3_900_000)), "1 h 05 min");
    }
}
