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
//!   its own savepoint (`Migrator::commit_group`, `transport.rs`), with the
//!   outcome of a transaction per migration;
//! - a run builds its plan once (`plan/`: each migration with its
//!   direction, steps and strategy) and one loop executes it in either
//!   direction over a run context (`exec.rs`: the connection, the lock
//!   held, the session timeouts, the events); `--dry-run` renders the same
//!   plan: the exact SQL, history writes included, and how it travels, and
//!   runs nothing;
//! - Rust steps (`#[migration]` functions) run in order with the statements
//!   of their migration, in its transaction, when the set links them (a set
//!   from `embed_migrations!`); otherwise the migration is refused before
//!   anything runs (`steps.rs`);
//! - `harness.rs` implements diesel's `MigrationSource` for embedded
//!   migrations, for applications on diesel_migrations' harness.

mod apply;
pub mod archive;
mod backfill;
mod baseline;
mod clock;
mod conn;
mod context;
mod env;
mod error;
mod event;
mod exec;
// `MigrationSource` is implemented for the SQLite and PostgreSQL backends.
#[cfg(any(feature = "sqlite", feature = "postgres"))]
mod harness;
mod history;
mod lock;
mod plan;
mod replica;
pub mod resolve;
mod retry;
mod settings;
mod status;
mod steps;
mod topology;
mod transport;
mod waits;

pub use crate::migration::{BoxError, RustStepContext, RustStepFn, RustStepResult};
pub use crate::migration::{Direction, EmbeddedMigrations, MigrationSet};

pub use crate::database_url::{redact_url, scrub, DatabaseUrl};
pub use crate::lock_waits::LockWaits;
pub use conn::connect_url;
pub use conn::{connect, table_exists, AnyConnection, HistoryRow, MigrationConnection};
pub use error::RunError;
pub use event::{human_duration, Event, Report};
pub use history::{HISTORY_TABLE, TOOL_VERSION};
pub use lock::{LockMode, LOCK_TABLE};
pub use status::{json_string, FileState, LineState, NewerMigrations, Status, StatusLine};
pub use topology::{detect as detect_topology, Topology};
pub use waits::{bound_waits, explain, explain_text, is_lock_wait, mask_sql, DEFAULT_WAIT};

use std::time::Duration;

use plan::Goal;
use settings::Settings;

/// Applies and rolls back a [`MigrationSet`] (or [`EmbeddedMigrations`]) on
/// a connection. Only configuration: a run keeps its state in its own
/// context (`exec.rs`), so one `Migrator` may run any number of times.
pub struct Migrator<'a> {
    set: &'a MigrationSet,
    settings: Settings,
    on_event: Box<dyn Fn(&Event) + 'a>,
}

impl std::fmt::Debug for Migrator<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Migrator")
            .field("migrations", &self.set.len())
            .field("lock_timeout", &self.settings.lock_timeout)
            .field(
                "statement_lock_timeout",
                &self.settings.statement_lock_timeout,
            )
            .field("lock_attempts", &self.settings.lock_attempts)
            .field("lock_waits", &self.settings.lock_waits.to_string())
            .field("commit_group", &self.settings.commit_group)
            .finish()
    }
}

impl<'a> Migrator<'a> {
    /// A runner for `&MIGRATIONS` (from `embed_migrations!`) or for a
    /// `&MigrationSet` loaded from files.
    pub fn new<S: AsRef<MigrationSet> + ?Sized>(set: &'a S) -> Migrator<'a> {
        Migrator {
            set: set.as_ref(),
            settings: Settings::default(),
            on_event: Box::new(|_| {}),
        }
    }

    /// How long to wait for another runner's lock before giving up.
    pub fn lock_timeout(mut self, t: Duration) -> Self {
        self.settings.lock_timeout = t;
        self
    }

    /// How runners exclude each other: [`LockMode::Auto`] (default: what
    /// holds on the connection, found out when the lock is taken),
    /// [`LockMode::Advisory`] (refused where it cannot hold) or
    /// [`LockMode::Table`], the lease row, which holds through a
    /// transaction-pooling proxy and across Galera nodes (`runner/lock/`).
    pub fn lock_mode(mut self, mode: LockMode) -> Self {
        self.settings.lock_mode = mode;
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
        self.settings.lock_lease = lease;
        self
    }

    /// PostgreSQL and MySQL: how long each statement of a migration may wait
    /// for a table lock (`lock_timeout`; MySQL `lock_wait_timeout`, whole
    /// seconds) before it is cancelled and the migration retried (default 1 s; a migration's `lock_timeout_ms` overrides it;
    /// zero disables it: the statements then wait as long as the session's own
    /// bound, `bound_waits`). Distinct from [`Migrator::lock_timeout`], the wait
    /// for another runner.
    pub fn statement_lock_timeout(mut self, t: Duration) -> Self {
        self.settings.statement_lock_timeout = t;
        self
    }

    /// PostgreSQL: a `statement_timeout` for every statement of the
    /// migrations (default: the session's own, usually none). A statement
    /// that runs longer is cancelled and its migration fails without a
    /// retry; mind long `CREATE INDEX CONCURRENTLY` and `VALIDATE` steps.
    pub fn statement_timeout(mut self, t: Duration) -> Self {
        self.settings.statement_timeout = Some(t);
        self
    }

    /// PostgreSQL and MySQL: how many times a migration is tried when its statements
    /// time out waiting for locks (default 5; at least 1), and the first
    /// backoff between tries (default 200 ms, doubled each time, plus up to
    /// half again as jitter).
    pub fn lock_retries(mut self, attempts: u32, backoff: Duration) -> Self {
        self.settings.lock_attempts = attempts.max(1);
        self.settings.retry_backoff = backoff;
        self
    }

    /// PostgreSQL and MySQL: the short, growing lock waits a migration is
    /// tried under before the tries of [`Migrator::lock_retries`] at the
    /// [`Migrator::statement_lock_timeout`] (default
    /// `50ms*3,75ms*3,100ms*9`, [`LockWaits::default`]; a migration's
    /// `lock_waits` overrides it; [`LockWaits::none`] turns them off). A
    /// statement queued for a table lock stalls every later statement on
    /// the table for as long as it waits, so short waits keep the
    /// application's stall short; the sleeps between them let a blocker of
    /// a few seconds end. MySQL rounds each wait up to whole seconds.
    pub fn lock_waits(mut self, waits: LockWaits) -> Self {
        self.settings.lock_waits = waits;
        self
    }

    /// A backfill waits between its batches while the worst replica is
    /// more than `max` behind, and goes on once it has caught up; it gives
    /// up after `give_up` of waiting (its finished batches are kept, `up`
    /// resumes after them). PostgreSQL: the streaming replicas, read on the
    /// primary (`pg_stat_replication`; the role needs `pg_monitor`).
    /// MariaDB: the replicas connected to, Galera nodes or classic
    /// replicas ([`Migrator::replica_urls`], [`Migrator::galera_peers_with`]).
    /// Refused on SQLite, and on MySQL without Galera (MySQL's GTID sets
    /// are not read). Events: [`Event::ReplicaLag`]
    /// while it waits, `replica_lag` in [`Event::BackfillProgress`].
    pub fn max_replica_lag(mut self, max: Duration, give_up: Duration) -> Self {
        self.settings.replica_lag = Some(replica::LagWatch { max, give_up });
        self
    }

    /// MySQL/MariaDB, with [`Migrator::max_replica_lag`]: the replicas
    /// whose lag a backfill reads, connected to when a run starts. On a
    /// classic primary, its replicas (MariaDB: read by their applied GTIDs,
    /// `gtid_slave_pos`, against its binary log's); on Galera, nodes of the
    /// runner's cluster (without them, [`Migrator::galera_peers_with`]). A
    /// URL that is neither is refused before anything runs.
    pub fn replica_urls(mut self, urls: Vec<DatabaseUrl>) -> Self {
        self.settings.replica_urls = urls;
        self
    }

    /// MariaDB Galera, with [`Migrator::max_replica_lag`] and no
    /// [`Migrator::replica_urls`]: the cluster's other nodes are watched,
    /// at the addresses the runner's node reports
    /// (`wsrep_incoming_addresses`), reached with `url`'s user, password,
    /// database and parameters (the URL the runner's connection was opened
    /// with).
    pub fn galera_peers_with(mut self, url: DatabaseUrl) -> Self {
        self.settings.galera_peers_with = Some(url);
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
        self.settings.commit_group = window;
        self
    }

    /// `Some(k)` when the database's history records exactly the first `k`
    /// migrations of this set, all applied and matching their files (what
    /// `migrator verify` compares a database behind its files with);
    /// `None` for anything else: a gap, a partial, edited or newer row.
    /// Read without the lock.
    pub fn applied_prefix<C: MigrationConnection>(
        &self,
        conn: &mut C,
    ) -> Result<Option<usize>, RunError> {
        exec::applied_prefix(conn, self.set)
    }

    /// What to do with migrations in the history that are newer than every
    /// migration of this set (a newer release applied them and the
    /// application was rolled back to this one): by default
    /// [`NewerMigrations::Tolerate`] leaves them as they are, emits
    /// [`Event::NewerMigrations`] and runs; [`NewerMigrations::Refuse`]
    /// refuses to start, as for a missing file. Edited, renamed or missing
    /// older migrations are refused either way.
    pub fn newer_migrations(mut self, policy: NewerMigrations) -> Self {
        self.settings.newer = policy;
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
    ///
    /// First the start-up fast path: when the history (read without the lock)
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
    pub fn up_to<C: MigrationConnection>(
        &self,
        conn: &mut C,
        target: Option<u32>,
    ) -> Result<Report, RunError> {
        exec::check_settings(conn, &self.settings)?;
        if exec::up_to_date(conn, self.set, target, self.settings.newer)? {
            self.emit(Event::NothingToDo);
            return Ok(Report::default());
        }
        self.run(conn, Goal::Up(target))
    }

    /// The SQL `up_to` would run, without running it (the history table is
    /// read if it exists, nothing is written).
    pub fn dry_run_up<C: MigrationConnection>(
        &self,
        conn: &mut C,
        target: Option<u32>,
    ) -> Result<Report, RunError> {
        plan::dry_run(conn, self.set, &self.settings, Goal::Up(target))
    }

    /// Rolls back applied migrations newer than `target` (`Some(0)`: all).
    pub fn down_to<C: MigrationConnection>(
        &self,
        conn: &mut C,
        target: u32,
    ) -> Result<Report, RunError> {
        self.run(conn, Goal::Down(target))
    }

    /// Rolls back the newest `steps` applied migrations.
    pub fn down_steps<C: MigrationConnection>(
        &self,
        conn: &mut C,
        steps: u32,
    ) -> Result<Report, RunError> {
        // Refuses a watch the database cannot honour (`replica::check`).
        let replicas = replica::Watcher::open(conn, &self.settings)?;
        context::locked(conn, &self.settings, &*self.on_event, |ctx| {
            ctx.replicas = replicas;
            let target = self.target_for_steps(ctx.conn, steps)?;
            exec::run(ctx, self.set, Goal::Down(target))
        })
    }

    /// The version left applied after rolling back the newest `steps`
    /// applied migrations.
    pub fn target_for_steps<C: MigrationConnection>(
        &self,
        conn: &mut C,
        steps: u32,
    ) -> Result<u32, RunError> {
        let mut applied: Vec<u32> = plan::checked_history(conn, self.set, self.settings.newer)?
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
        plan::dry_run(conn, self.set, &self.settings, Goal::Down(target))
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
        lock::planned(conn, self.settings.lock_mode)
    }

    /// Applied, pending, edited and missing migrations.
    pub fn status<C: MigrationConnection>(&self, conn: &mut C) -> Result<Status, RunError> {
        let rows = history::read(conn)?;
        Ok(status::status(self.set, &rows))
    }

    /// Records migrations `1..=version` as applied without running them
    /// (`baseline.rs`). Fails when the history table already has rows or
    /// there is no migration `version`.
    pub fn baseline<C: MigrationConnection>(
        &self,
        conn: &mut C,
        version: u32,
    ) -> Result<(), RunError> {
        baseline::check(self.set, version)?;
        context::locked(conn, &self.settings, &*self.on_event, |ctx| {
            baseline::record(ctx.conn, self.set, version)
        })
    }

    /// Runs `goal` under the lock: the plan, then the one loop (`exec.rs`).
    /// The replicas a backfill watches are connected to first: a watch
    /// that cannot be honoured is refused before the lock or the history
    /// table is touched.
    fn run<C: MigrationConnection>(&self, conn: &mut C, goal: Goal) -> Result<Report, RunError> {
        // Refuses a watch the database cannot honour (`replica::check`).
        let replicas = replica::Watcher::open(conn, &self.settings)?;
        context::locked(conn, &self.settings, &*self.on_event, |ctx| {
            ctx.replicas = replicas;
            exec::run(ctx, self.set, goal)
        })
    }
}
