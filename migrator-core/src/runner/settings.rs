//! What a [`super::Migrator`] is configured with: the lock, the timeouts,
//! the retries and the SQLite commit window. Read by the executor
//! (`exec.rs`) and the plan (`plan/`); never changed by a run, which keeps
//! its own state in the run context.

use std::time::Duration;

use super::lock::LockMode;
use super::retry;
use crate::dialect::Dialect;
use crate::migration::Migration;

#[derive(Debug, Clone)]
pub(crate) struct Settings {
    pub lock_timeout: Duration,
    pub lock_mode: LockMode,
    pub lock_lease: Duration,
    pub statement_lock_timeout: Duration,
    pub statement_timeout: Option<Duration>,
    pub lock_attempts: u32,
    pub retry_backoff: Duration,
    pub commit_group: Duration,
    pub newer: super::status::NewerMigrations,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            lock_timeout: Duration::from_secs(60),
            lock_mode: LockMode::Auto,
            lock_lease: Duration::from_secs(120),
            statement_lock_timeout: Duration::from_secs(1),
            statement_timeout: None,
            lock_attempts: 5,
            retry_backoff: Duration::from_millis(200),
            commit_group: Duration::from_millis(100),
            newer: super::status::NewerMigrations::Tolerate,
        }
    }
}

impl Settings {
    /// The `lock_timeout` migration `m` runs under.
    pub(crate) fn lock_timeout_for(&self, m: &Migration) -> Duration {
        m.file
            .lock_timeout_ms
            .map_or(self.statement_lock_timeout, Duration::from_millis)
    }

    /// The `SET` lines a dry run shows before migration `m` (the databases
    /// whose lock waits the runner bounds and retries).
    pub(crate) fn dry_run_settings(&self, dialect: Dialect, m: &Migration) -> Vec<String> {
        let backend = dialect.backend();
        if !backend.retries_lock_waits() {
            return Vec::new();
        }
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

    /// Whether consecutive one-transaction migrations share a commit
    /// (SQLite, unless the window is zero).
    pub(crate) fn groups_commits(&self, dialect: Dialect) -> bool {
        dialect.backend().commits_in_groups() && !self.commit_group.is_zero()
    }
}
