//! The runner: applies, rolls back and reports migrations on a live database.
//!
//! Contract (DESIGN.md §6):
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
//! - `--dry-run` returns the exact SQL, history writes included, and runs
//!   nothing;
//! - Rust steps (`#[migration]` functions) run in order with the statements
//!   of their migration, in its transaction, when the set links them (a set
//!   from `embed_migrations!`); otherwise the migration is refused before
//!   anything runs (`steps.rs`);
//! - `harness.rs` implements diesel's `MigrationSource` for embedded
//!   migrations, for applications on diesel_migrations' harness.

mod conn;
mod harness;
mod history;
mod plan;
mod steps;
mod url;

use std::time::{Duration, Instant};

use crate::dialect::{Dialect, RenderError};
pub use crate::migration::{Direction, EmbeddedMigrations, MigrationSet};
pub use crate::migration::{BoxError, RustStepContext, RustStepFn, RustStepResult};
use crate::migration::{MigrationError, RenderFailure};

pub use conn::{connect, AnyConnection, HistoryRow, MigrationConnection};
pub use history::HISTORY_TABLE;
pub use plan::{LineState, Status, StatusLine};
pub use url::{redact_url, scrub};

/// The runner's version, written into every history row.
pub const TOOL_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Everything that can go wrong while running migrations.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
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
    #[error("timed out after {0:?} waiting for the migration lock held by another runner")]
    LockTimeout(Duration),
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
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    WaitingForLock,
    Applying { id: String },
    Applied { id: String, elapsed: Duration },
    Resuming { id: String, steps_done: usize },
    RollingBack { id: String },
    RolledBack { id: String, elapsed: Duration },
    NothingToDo,
}

impl std::fmt::Display for Event {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Event::WaitingForLock => {
                f.write_str("waiting for the migration lock held by another runner")
            }
            Event::Applying { id } => write!(f, "applying {id}"),
            Event::Applied { id, elapsed } => {
                write!(f, "applied {id} in {} ms", elapsed.as_millis())
            }
            Event::Resuming { id, steps_done } => {
                write!(f, "resuming {id} after {steps_done} finished statement(s)")
            }
            Event::RollingBack { id } => write!(f, "rolling back {id}"),
            Event::RolledBack { id, elapsed } => {
                write!(f, "rolled back {id} in {} ms", elapsed.as_millis())
            }
            Event::NothingToDo => f.write_str("nothing to do: the database is up to date"),
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
}

/// Applies and rolls back a [`MigrationSet`] (or [`EmbeddedMigrations`]) on
/// a connection.
pub struct Migrator<'a> {
    set: &'a MigrationSet,
    lock_timeout: Duration,
    on_event: Box<dyn Fn(&Event) + 'a>,
}

impl std::fmt::Debug for Migrator<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Migrator")
            .field("migrations", &self.set.len())
            .field("lock_timeout", &self.lock_timeout)
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
            on_event: Box::new(|_| {}),
        }
    }

    /// How long to wait for another runner's lock before giving up.
    pub fn lock_timeout(mut self, t: Duration) -> Self {
        self.lock_timeout = t;
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
        self.locked(conn, |this, conn| this.run_up(conn, target, false))
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
        history::lock(conn, self.lock_timeout, || self.emit(Event::WaitingForLock))?;
        let out = history::ensure_table(conn).and_then(|()| f(self, conn));
        // Released on every path; a failure to release is only reported when
        // the work itself succeeded (the session's end releases it anyway).
        let released = history::unlock(conn);
        let out = out?;
        released?;
        Ok(out)
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
        for (m, steps_done, statements) in pending {
            if dry_run {
                plan::dry_run(
                    &mut report,
                    dialect,
                    m,
                    &statements,
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
            self.emit(Event::Applying { id: m.id() });
            let started = Instant::now();
            if history::apply(conn, m, &statements, Direction::Up, steps_done, started)? {
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
        for (m, statements) in pending {
            if dry_run {
                plan::dry_run(&mut report, dialect, m, &statements, Direction::Down, 0);
                continue;
            }
            self.emit(Event::RollingBack { id: m.id() });
            let started = Instant::now();
            if history::apply(conn, m, &statements, Direction::Down, 0, started)? {
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
}
