//! Statement lock timeouts and bounded retries (PostgreSQL and MySQL).
//!
//! Contract:
//! - while a migration runs, the session's `lock_timeout` is the migration's
//!   `lock_timeout_ms`, else `Migrator::statement_lock_timeout` (default
//!   1 s), set again before each migration (one round trip: a raw step may
//!   have changed it); the session's own value is read once, before the
//!   first migration, and restored when the run ends, on every path. It is a
//!   session setting rather than `SET LOCAL`, so it also covers the
//!   statements of the step-by-step mode, each of which commits on its own;
//! - a statement that waits longer than that is cancelled by PostgreSQL
//!   (SQLSTATE 55P03, "canceling statement due to lock timeout"): a queued
//!   ACCESS EXCLUSIVE request never stalls the application's writes for more
//!   than the timeout;
//! - the migration is then retried: in one transaction it was rolled back
//!   whole, step by step it resumes from the recorded `steps_done` (every
//!   statement is idempotent); at most `attempts` tries, separated by
//!   exponential backoff with jitter, each announced by
//!   [`Event::LockRetry`](super::Event::LockRetry);
//! - `Migrator::statement_timeout`, when given, sets `statement_timeout` the
//!   same way; a statement it cancels fails the migration (no retry: the
//!   work itself is too long, waiting again would not help);
//! - the final failure ([`RunError::LockRetriesExhausted`](super::RunError))
//!   names the migration, the statement, and the sessions of this database
//!   with an open transaction (the usual blockers), their statements masked
//!   (`waits::blockers`).
//!
//! - MySQL/MariaDB: the same with `lock_wait_timeout` (metadata locks, which
//!   every ALTER TABLE takes and queues writers behind) and
//!   `innodb_lock_wait_timeout` (row locks of data steps), both in whole
//!   seconds, so the timeout is rounded up to at least 1 s; the error is
//!   1205, "Lock wait timeout exceeded". There is no portable statement
//!   timeout on MySQL (`max_execution_time` covers SELECT only), so
//!   `statement_timeout` applies to PostgreSQL only. Since MySQL DDL commits
//!   implicitly, a MySQL migration always runs step by step and a retry
//!   resumes from the failed statement.
//!
//! diesel does not expose the SQLSTATE of an error, so a lock timeout is
//! recognised by the server's message. MySQL/MariaDB sessions get English
//! messages for the run (`lc_messages = 'en_US'`, set with the timeouts and
//! put back after them); PostgreSQL's `lc_messages` only a superuser may
//! set, so there the message is English unless `lc_messages` was changed
//! for the server, role or database (`55P03` in a message is recognised
//! too).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::conn::MigrationConnection;
use super::error::RunError;

/// True when `e` is a statement (or Rust step) cancelled by `lock_timeout`.
pub(crate) fn is_lock_timeout(e: &RunError) -> bool {
    let message = match e {
        RunError::Statement { message, .. } | RunError::RustStepFailed { message, .. } => message,
        _ => return false,
    };
    message.contains("lock timeout")
        || message.contains("55P03")
        || message.contains("Lock wait timeout exceeded")
}

/// Whether `e` is a statement PostgreSQL cancelled on purpose
/// (`statement_timeout`, `pg_cancel_backend`): not to be run again.
pub(crate) fn is_cancelled(e: &RunError) -> bool {
    let message = match e {
        RunError::Statement { message, .. } | RunError::RustStepFailed { message, .. } => message,
        _ => return false,
    };
    message.contains("canceling statement due to statement timeout")
        || message.contains("canceling statement due to user request")
}

/// The wait before attempt `attempt + 1`: `base * 2^(attempt - 1)`, capped at
/// 30 s, plus up to half of it again as jitter (so runners that collided do
/// not retry in lockstep).
pub(crate) fn backoff(base: Duration, attempt: u32) -> Duration {
    let exp = base
        .saturating_mul(1u32 << attempt.saturating_sub(1).min(16))
        .min(Duration::from_secs(30));
    exp + spread(exp / 2)
}

/// `d` plus up to a quarter of it again: the sleeps between short lock
/// waits (`lock_waits.rs`), spread so that runners do not retry in
/// lockstep.
pub(crate) fn jitter(d: Duration) -> Duration {
    d + spread(d / 4)
}

/// A pseudo-random duration from zero to `most` (whole milliseconds).
fn spread(most: Duration) -> Duration {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos() as u64);
    // xorshift of the clock: enough spread for jitter, no dependency.
    let mut x = nanos ^ 0x9E37_79B9_7F4A_7C15;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    let most = most.as_millis() as u64;
    Duration::from_millis(if most == 0 { 0 } else { x % (most + 1) })
}

/// The session timeouts a run sets: PostgreSQL `lock_timeout` (and
/// `statement_timeout` when asked), MySQL `lock_wait_timeout` and
/// `innodb_lock_wait_timeout`. The session's own values are read once, at
/// the first migration, and put back by [`SessionTimeouts::restore`] when
/// the run ends (`context::locked`).
#[derive(Debug, Default)]
pub(crate) struct SessionTimeouts {
    restore: Option<String>,
}

impl SessionTimeouts {
    /// Sets the timeouts for the next migration (one round trip, plus one
    /// to read the session's values the first time).
    pub(crate) fn set<C: MigrationConnection>(
        &mut self,
        conn: &mut C,
        lock: Duration,
        statement: Option<Duration>,
    ) -> Result<(), RunError> {
        let sql = self.prepare(conn, lock, statement)?;
        conn.execute(&sql).map_err(|e| RunError::Database {
            message: format!("setting the lock timeout: {e}"),
        })
    }

    /// The statement that sets the timeouts for the next migration, for the
    /// caller to run (on PostgreSQL in the same batch as a one-batch
    /// migration, `apply::one_batch`); reads the session's own values
    /// the first time.
    pub(crate) fn prepare<C: MigrationConnection>(
        &mut self,
        conn: &mut C,
        lock: Duration,
        statement: Option<Duration>,
    ) -> Result<String, RunError> {
        let backend = conn.dialect().backend();
        let statement_timeout = backend.has_statement_timeout();
        if self.restore.is_none() {
            let read = backend.read_timeouts_sql().unwrap_or("SELECT '' AS s");
            let previous = conn
                .query_texts(read)
                .map_err(|e| RunError::Database {
                    message: format!("reading the session's lock timeout: {e}"),
                })?
                .pop()
                .unwrap_or_default();
            self.restore = Some(previous);
        }
        // Zero turns the migration's own timeout off: its statements then
        // wait as long as the session's bound (`waits.rs`), never forever
        // (PostgreSQL's and MySQL's zero would be "no limit" / an error).
        let previous = self.restore.as_deref().unwrap_or_default();
        let lock_sql = match (lock.is_zero(), statement_timeout) {
            (true, false) if !previous.is_empty() => backend.own_timeouts_sql(previous),
            (true, true) if !previous.is_empty() => previous
                .split_once("; SET statement_timeout")
                .map_or(previous, |(lock, _)| lock)
                .to_string(),
            _ => backend.lock_timeout_sql(lock),
        };
        Ok(match statement {
            Some(t) if statement_timeout => {
                format!("{lock_sql}; {}", set_timeout_sql("statement_timeout", t))
            }
            _ => lock_sql,
        })
    }

    /// Puts the session's own values back (errors ignored: the session
    /// ends with the run anyway in the CLI, and the work is done).
    pub(crate) fn restore<C: MigrationConnection>(&mut self, conn: &mut C) {
        if let Some(sql) = self.restore.take().filter(|s| !s.is_empty()) {
            let _ = conn.execute(&sql);
        }
    }
}

/// `SET <name> = '<n>ms'`.
pub(crate) fn set_timeout_sql(name: &str, timeout: Duration) -> String {
    format!("SET {name} = '{}ms'", timeout.as_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_bounded() {
        let base = Duration::from_millis(200);
        for attempt in 1..=5 {
            let exp = Duration::from_millis(200 << (attempt - 1));
            let w = backoff(base, attempt);
            assert!(w >= exp && w <= exp + exp / 2, "attempt {attempt}: {w:?}");
        }
        assert!(backoff(base, 40) <= Duration::from_secs(45));
    }

    #[test]
    fn lock_timeouts_are_recognised() {
        let e = |message: &str| RunError::Statement {
            migration: "0001_x".into(),
            dialect: crate::dialect::Dialect::Postgres,
            index: 1,
            sql: "ALTER TABLE t ADD COLUMN c INT".into(),
            message: message.into(),
            rolled_back: "",
        };
        assert!(is_lock_timeout(&e(
            "canceling statement due to lock timeout"
        )));
        assert!(!is_lock_timeout(&e("relation \"t\" does not exist")));
        assert!(!is_lock_timeout(&RunError::LockTimeout(
            Duration::from_secs(1)
        )));
    }
}
