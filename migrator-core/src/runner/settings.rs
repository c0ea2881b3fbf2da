//! What a [`super::Migrator`] is configured with: the lock, the timeouts,
//! the retries and the SQLite commit window. Read by the executor
//! (`exec.rs`) and the plan (`plan/`); never changed by a run, which keeps
//! its own state in the run context.

use std::time::Duration;

use super::lock::LockMode;
use super::retry;
use crate::dialect::Dialect;
use crate::lock_waits::LockWaits;
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
    pub lock_waits: LockWaits,
    pub replica_lag: Option<super::replica::LagWatch>,
    /// MySQL/MariaDB: the replicas whose lag a backfill reads
    /// (`replica/`), or where to find them.
    pub replica_urls: Vec<crate::database_url::DatabaseUrl>,
    pub galera_peers_with: Option<crate::database_url::DatabaseUrl>,
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
            lock_waits: LockWaits::default(),
            replica_lag: None,
            replica_urls: Vec::new(),
            galera_peers_with: None,
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

    /// The short lock waits migration `m` is tried under before
    /// [`Settings::lock_timeout_for`]: the file's `lock_waits`, else the
    /// runner's, each capped by that maximum (`lock_waits.rs`).
    pub(crate) fn lock_waits_for(&self, m: &Migration) -> LockWaits {
        let waits = match m.file.lock_waits.as_deref().map(LockWaits::parse) {
            Some(Ok(w)) => w,
            // Checked when the file was read; a file built by hand in
            // code with a bad spec gets the runner's schedule.
            _ => self.lock_waits.clone(),
        };
        waits.capped(self.lock_timeout_for(m))
    }

    /// The `lock_timeout` of migration `m`'s first try: the schedule's
    /// first wait, else the maximum.
    pub(crate) fn first_lock_timeout(&self, m: &Migration) -> Duration {
        self.lock_waits_for(m)
            .wait(1)
            .unwrap_or_else(|| self.lock_timeout_for(m))
    }

    /// The `SET` lines a dry run shows before migration `m` (the databases
    /// whose lock waits the runner bounds and retries).
    pub(crate) fn dry_run_settings(&self, dialect: Dialect, m: &Migration) -> Vec<String> {
        let backend = dialect.backend();
        if !backend.retries_lock_waits() {
            return Vec::new();
        }
        let mut out = vec![
            format!("-- lock waits: {}", self.describe_tries(dialect, m)),
            format!("{};", backend.lock_timeout_sql(self.first_lock_timeout(m))),
        ];
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

    /// How migration `m` is tried when its statements wait for locks, in
    /// words: the short waits, then the maximum (`lock_waits.rs`).
    pub(crate) fn describe_tries(&self, dialect: Dialect, m: &Migration) -> String {
        let waits = self.lock_waits_for(m);
        let max = self.lock_timeout_for(m);
        let mut out = String::new();
        if !waits.is_none() {
            out.push_str(&format!(
                "{} short tries at lock_timeout {waits}{}, sleeping 100 ms more after each (at most 1 s), then ",
                waits.tries(),
                // MySQL/MariaDB round each wait up to whole seconds.
                match dialect.backend().effective_lock_wait(Duration::from_millis(1)) {
                    w if w > Duration::from_millis(1) => format!(
                        " ({dialect}: rounded up to whole seconds, at least {})",
                        super::human_duration(w)
                    ),
                    _ => String::new(),
                },
            ));
        }
        let at = if max.is_zero() {
            "the session's bound (lock_timeout_ms = 0)".to_string()
        } else {
            format!("{} ms", max.as_millis())
        };
        out.push_str(&format!(
            "up to {} tries at {at}, backoff from {} ms",
            self.lock_attempts,
            self.retry_backoff.as_millis()
        ));
        out
    }

    /// Whether consecutive one-transaction migrations share a commit
    /// (SQLite, unless the window is zero).
    pub(crate) fn groups_commits(&self, dialect: Dialect) -> bool {
        dialect.backend().commits_in_groups() && !self.commit_group.is_zero()
    }
}
