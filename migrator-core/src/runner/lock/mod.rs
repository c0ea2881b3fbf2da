//! The runner's lock: one runner at a time per database.
//!
//! Contract:
//! - [`LockMode::Auto`] (the default) looks at the connection first
//!   (`topology.rs`) and takes what holds there. PostgreSQL: always the
//!   lock row, because whether a connection goes through a
//!   transaction-pooling proxy cannot be known for certain from inside it,
//!   and every runner must take the same lock. On a direct session the row
//!   is held like a session lock: its owner names the server session
//!   (`... session <pid>`), it has no lease to renew, and another runner
//!   takes it over as soon as that session is gone from
//!   `pg_stat_activity` (a killed runner blocks nobody). Through a pooler
//!   it is the leased row of [`LockMode::Table`]. MySQL/MariaDB: the lock
//!   row on a Galera node, `GET_LOCK` on a plain server. The choice is
//!   reported ([`super::Event::LockChosen`]).
//! - [`LockMode::Advisory`]: PostgreSQL takes a session
//!   advisory lock (`pg_try_advisory_lock`, polled), which the server
//!   releases when the session ends, however the runner ends; MySQL takes
//!   `GET_LOCK('migrator.<database>')`, also a session lock. SQLite has neither and always uses the lock row
//!   below: `BEGIN IMMEDIATE` per migration alone does not serialise a
//!   `transaction = false` migration, which runs step by step, so two
//!   runners could both start it.
//! - [`LockMode::Table`]: a row in `_migrator_lock` (`id = 1`, `owner`,
//!   `expires_at` in database time, seconds since the epoch), claimed with
//!   one atomic upsert that only succeeds when the row is absent, expired
//!   or already ours. Every statement is its own transaction, so it works
//!   through a transaction-pooling proxy (PgBouncer `pool_mode =
//!   transaction`), which breaks session advisory locks. The lease is
//!   renewed before each migration; a runner that dies leaves its row until
//!   the lease expires, or until a runner on the same host sees that the
//!   owner's process is gone (Linux: `/proc/<pid>`) and takes it over.
//! - The waiting runner polls every 200 ms, reports once what it waits for
//!   and for how long at most ([`super::Event::WaitingForLock`]), and gives
//!   up after the timeout with [`RunError::LockTimeout`].
//! - [`LockMode::Advisory`] asked for explicitly where it cannot hold (a
//!   pooler, a Galera node; or a PostgreSQL advisory lock that is not held
//!   by the runner's own session when re-checked right after it was taken)
//!   is refused before anything changes, naming `--lock-mode table`.
//! - Galera: a claim, renewal or release of the row that loses a
//!   certification conflict (error 1213 "Deadlock found", or a wsrep
//!   deadlock/conflict abort) is tried again, never reported as a failure:
//!   the other node's write won. A claim that lost waits like one that
//!   found the row held; a renewal or release is sent again at once.

use std::time::{Duration, Instant};

mod row;

use super::conn::MigrationConnection;
use super::error::RunError;
use super::topology::{self, Topology};
use crate::dialect::Dialect;
pub(crate) use row::Lease;
use row::{claim_row, ensure_lock_table, execute_retrying, extend, held_secs, owner_name};

/// Table holding the lock row of [`LockMode::Table`] (and of SQLite).
pub const LOCK_TABLE: &str = "_migrator_lock";

/// How runners exclude each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LockMode {
    /// Whatever holds on this connection (module docs): the advisory lock
    /// and the lock row on a direct PostgreSQL session, the lock row alone
    /// through a transaction-pooling proxy or on a Galera node, `GET_LOCK`
    /// on a plain MySQL server.
    #[default]
    Auto,
    /// PostgreSQL session advisory lock (MySQL `GET_LOCK`); SQLite uses the
    /// lock row. Refused where it cannot hold.
    Advisory,
    /// A lease row in `_migrator_lock`, for connections through a
    /// transaction-pooling proxy.
    Table,
}

impl std::str::FromStr for LockMode {
    type Err = String;
    fn from_str(s: &str) -> Result<LockMode, String> {
        match s {
            "auto" => Ok(LockMode::Auto),
            "advisory" => Ok(LockMode::Advisory),
            "table" => Ok(LockMode::Table),
            other => Err(format!(
                "unknown lock mode `{other}`\nhelp: use `auto` (default), `advisory` or `table` (behind PgBouncer in transaction mode, on Galera)"
            )),
        }
    }
}

/// A lock this runner holds: the session lock, the row, or both.
#[derive(Debug)]
pub(crate) struct Held {
    advisory: bool,
    row: Option<Row>,
    /// What the connection was found to be.
    pub(crate) topology: Topology,
}

#[derive(Debug)]
struct Row {
    owner: String,
    lease: Duration,
    /// When the lease was last claimed or renewed (taken before the
    /// statement was sent, so it is never later than the database's).
    renewed: std::cell::Cell<Instant>,
    /// Held while the owner's server session lasts, without a lease.
    session: bool,
}

/// Whether the row is held like a session lock (module docs).
fn session_owned(dialect: Dialect, mode: LockMode, topology: &Topology) -> bool {
    dialect.backend().session_row().is_some()
        && mode == LockMode::Auto
        && *topology == Topology::Direct
}

/// The `expires_at` offset of a session-owned row: never, in practice.
const SESSION_SECS: u64 = 100 * 365 * 24 * 3600;

impl Held {
    /// A leased lock row: its lease bounds how long one query may run.
    pub(crate) fn row_only(&self) -> bool {
        self.row.as_ref().is_some_and(|r| !r.session) && !self.advisory
    }

    /// The lock taken, in words (`Event::LockChosen`, `status`).
    pub(crate) fn describe(&self, dialect: Dialect) -> String {
        let session = dialect.backend().session_lock().map_or("", |l| l.name);
        match (self.advisory, self.row.is_some()) {
            (true, true) => format!("{session} and the lock row in `{LOCK_TABLE}`"),
            (true, false) => session.to_string(),
            _ if self.row.as_ref().is_some_and(|r| r.session) => {
                format!("the lock row in `{LOCK_TABLE}`, held while this session lasts")
            }
            _ => format!("the lock row in `{LOCK_TABLE}`"),
        }
    }
}

/// What `acquire` takes for `mode` on a connection that is `topology`:
/// (session lock, lock row), or the refusal.
pub fn choose(
    dialect: Dialect,
    mode: LockMode,
    topology: &Topology,
) -> Result<(bool, bool), RunError> {
    let backend = dialect.backend();
    if backend.session_lock().is_none() {
        return Ok((false, true));
    }
    match mode {
        LockMode::Table => Ok((false, true)),
        LockMode::Advisory if topology.breaks_session_locks() => Err(refusal(dialect, topology)),
        LockMode::Advisory => Ok((true, false)),
        LockMode::Auto if topology.breaks_session_locks() => Ok((false, true)),
        LockMode::Auto if backend.session_row().is_some() => Ok((false, true)),
        LockMode::Auto => Ok((true, false)),
    }
}

/// Whether `mode` on a connection that is `topology` takes a leased lock
/// row alone (no session lock, not held with the session): a run under it
/// renews the lease between queries, so it does not pipeline.
pub(crate) fn row_only(
    dialect: Dialect,
    mode: LockMode,
    topology: &Topology,
) -> Result<bool, RunError> {
    let (advisory, row) = choose(dialect, mode, topology)?;
    Ok(row && !advisory && !session_owned(dialect, mode, topology))
}

/// The lock `mode` resolves to on this connection, in words, without
/// taking it (`status`).
pub fn planned<C: MigrationConnection>(conn: &mut C, mode: LockMode) -> Result<String, RunError> {
    let d = conn.dialect();
    let topology = topology::detect(conn)?;
    let (advisory, row) = choose(d, mode, &topology)?;
    let held = Held {
        advisory,
        row: row.then(|| Row {
            owner: String::new(),
            lease: Duration::ZERO,
            renewed: std::cell::Cell::new(Instant::now()),
            session: session_owned(d, mode, &topology),
        }),
        topology,
    };
    Ok(format!("{} ({})", held.describe(d), held.topology))
}

fn refusal(dialect: Dialect, topology: &Topology) -> RunError {
    let lock = dialect.backend().session_lock().map_or("", |l| l.kind);
    RunError::Database {
        message: format!(
            "--lock-mode advisory cannot hold here: the connection is {topology}, where {lock} does not exclude other runners; nothing was changed\nhelp: use `--lock-mode table` (or `--lock-mode auto`, the default, which chooses it here; library: `LockMode::Table`)"
        ),
    }
}

fn db(dialect: Dialect, doing: &str, e: diesel::result::Error) -> RunError {
    super::waits::db_error(dialect, doing, e)
}

fn uses_row(dialect: Dialect, mode: LockMode) -> bool {
    mode == LockMode::Table || dialect.backend().session_lock().is_none()
}

/// Database time in whole seconds since the epoch.
fn now_sql(dialect: Dialect) -> &'static str {
    dialect.backend().epoch_now_sql()
}

/// What a waiting runner waits for, in words.
fn describe(dialect: Dialect, mode: LockMode) -> String {
    match dialect.backend().session_lock() {
        Some(lock) if !uses_row(dialect, mode) => lock.waiting,
        _ => format!("the migration lock row in `{LOCK_TABLE}`"),
    }
}

/// Who holds the lock now, as far as the database tells (best effort).
fn holder<C: MigrationConnection>(conn: &mut C, mode: LockMode) -> Option<String> {
    let d = conn.dialect();
    let backend = d.backend();
    let q = match backend.session_lock() {
        Some(lock) if !uses_row(d, mode) => lock.holder_sql,
        _ => backend.lock_row_holder_sql(&d.ident(LOCK_TABLE), now_sql(d), SESSION_SECS),
    };
    conn.query_texts(&q).ok()?.into_iter().next()
}

/// Takes the lock, waiting up to `timeout`; `on_wait(what, holder)` is
/// called once for each lock another runner holds.
pub(crate) fn acquire<C: MigrationConnection>(
    conn: &mut C,
    mode: LockMode,
    timeout: Duration,
    lease: Duration,
    on_wait: impl Fn(String, Option<String>),
) -> Result<Held, RunError> {
    let d = conn.dialect();
    let mut topology = topology::detect(conn)?;
    let (mut advisory, row) = choose(d, mode, &topology)?;
    let started = Instant::now();
    if let Some(lock) = d.backend().session_lock().filter(|_| advisory) {
        let attempt = lock.try_sql;
        let mut told = false;
        let pid = wait_for(started, timeout, || {
            let got = conn
                .query_texts(&attempt)
                .map_err(|e| db(d, "taking the migration lock", e))?
                .into_iter()
                .next();
            if got.is_none() && !told {
                told = true;
                on_wait(
                    describe(d, LockMode::Advisory),
                    holder(conn, LockMode::Advisory),
                );
            }
            Ok(got)
        })?;
        let elsewhere = match lock.held_by_sql {
            Some(held_by) => !advisory_held_by(conn, held_by, &pid)?,
            None => false,
        };
        if elsewhere {
            // The next transaction ran on another server session: a pooler
            // the probe missed. The lock stays with a session this runner
            // cannot reach; unlocking is tried, and only the row is used.
            let _ = conn.execute(&lock.release_sql);
            topology = Topology::TransactionPooler {
                evidence: "the advisory lock was not held by the session when re-checked".into(),
            };
            if mode == LockMode::Advisory {
                return Err(refusal(d, &topology));
            }
            advisory = false;
        }
    }
    let row = if row {
        // A direct session's runner names it, so that the row is taken
        // over as soon as that session is gone (`session_is_gone`).
        let session = session_owned(d, mode, &topology);
        let owner = if session {
            let pid_sql = d.backend().session_row().map_or("", |s| s.pid_sql);
            let pid = conn
                .query_texts(pid_sql)
                .map_err(|e| db(d, "reading the session's pid", e))?;
            format!("{} session {}", owner_name(), pid.concat())
        } else {
            owner_name()
        };
        let secs = if session {
            SESSION_SECS
        } else {
            held_secs(lease)
        };
        let taken = ensure_lock_table(conn).and_then(|()| {
            let mut told = false;
            wait_for(started, timeout, || {
                let attempt_started = Instant::now();
                if claim_row(conn, &owner, secs)? {
                    return Ok(Some(attempt_started));
                }
                if !told {
                    told = true;
                    on_wait(describe(d, LockMode::Table), holder(conn, LockMode::Table));
                }
                Ok(None)
            })
        });
        match taken {
            Ok(at) => Some(Row {
                owner,
                lease,
                renewed: std::cell::Cell::new(at),
                session,
            }),
            Err(e) => {
                if advisory {
                    let _ = release_session(conn);
                }
                return Err(e);
            }
        }
    } else {
        None
    };
    Ok(Held {
        advisory,
        row,
        topology,
    })
}

/// True when the session running this statement, `pid`, holds the
/// session lock (`held_by`: the backend's query).
fn advisory_held_by<C: MigrationConnection>(
    conn: &mut C,
    held_by: fn(i64) -> String,
    pid: &str,
) -> Result<bool, RunError> {
    let d = conn.dialect();
    let Ok(pid) = pid.parse::<i64>() else {
        return Ok(false);
    };
    let n = conn
        .count_rows(&held_by(pid))
        .map_err(|e| db(d, "re-checking the migration lock", e))?;
    Ok(n > 0)
}

/// Polls `attempt` every 200 ms until it yields, or `timeout` since
/// `started` has passed.
fn wait_for<T>(
    started: Instant,
    timeout: Duration,
    mut attempt: impl FnMut() -> Result<Option<T>, RunError>,
) -> Result<T, RunError> {
    loop {
        if let Some(got) = attempt()? {
            return Ok(got);
        }
        if started.elapsed() >= timeout {
            return Err(RunError::LockTimeout(timeout));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Extends the lease of a lock row before the next migration; fails when
/// another runner took the row over (the lease ran out). Skipped while
/// less than a quarter of the lease has passed since the last renewal: the
/// row cannot have been taken over then, and a run of many short
/// migrations does not pay a write (a commit, on SQLite an fsync) for each.
pub(crate) fn renew<C: MigrationConnection>(conn: &mut C, held: &Held) -> Result<(), RunError> {
    let Some(Row {
        owner,
        lease,
        renewed,
        session: false,
    }) = &held.row
    else {
        return Ok(());
    };
    if renewed.get().elapsed() < *lease / 4 {
        return Ok(());
    }
    let sent = Instant::now();
    if !extend(conn, owner, *lease)? {
        return Err(RunError::Database {
            message: format!("the migration lock row in `{LOCK_TABLE}` was taken over by another runner after its lease of {} s ran out; stopped before the next migration\nhelp: raise the lease (`Migrator::lock_lease`) above the longest migration", lease.as_secs()),
        });
    }
    renewed.set(sent);
    Ok(())
}

/// Releases the session lock.
fn release_session<C: MigrationConnection>(conn: &mut C) -> diesel::QueryResult<()> {
    match conn.dialect().backend().session_lock() {
        Some(lock) => conn.execute(&lock.release_sql),
        None => Ok(()),
    }
}

/// Releases the lock: the row first, then the session lock (a runner that
/// holds the session lock and finds a row takes the row over only when its
/// owner's session is gone).
pub(crate) fn release<C: MigrationConnection>(conn: &mut C, held: &Held) -> Result<(), RunError> {
    let d = conn.dialect();
    let row = match &held.row {
        Some(r) => execute_retrying(
            conn,
            &format!(
                "DELETE FROM {} WHERE id = 1 AND owner = {}",
                d.ident(LOCK_TABLE),
                d.string(&r.owner)
            ),
        ),
        None => Ok(()),
    };
    let session = if held.advisory {
        release_session(conn)
    } else {
        Ok(())
    };
    row.and(session)
        .map_err(|e| db(d, "releasing the migration lock", e))
}

#[cfg(test)]
mod tests {
    use super::row::{is_conflict, owner_is_dead};
    use super::*;

    #[test]
    fn what_each_mode_takes_where() {
        let pooler = Topology::TransactionPooler {
            evidence: "test".into(),
        };
        let galera = Topology::Galera {
            osu_method: "TOI".into(),
            cluster_size: Some(3),
        };
        let direct = Topology::Direct;
        use Dialect::*;
        // (session lock, row)
        assert_eq!(
            choose(Postgres, LockMode::Auto, &direct).ok(),
            Some((false, true))
        );
        assert!(session_owned(Postgres, LockMode::Auto, &direct));
        assert_eq!(
            choose(Postgres, LockMode::Auto, &pooler).ok(),
            Some((false, true))
        );
        assert!(!session_owned(Postgres, LockMode::Auto, &pooler));
        assert!(!session_owned(Postgres, LockMode::Table, &direct));
        assert_eq!(
            choose(Mysql, LockMode::Auto, &direct).ok(),
            Some((true, false))
        );
        assert_eq!(
            choose(Mysql, LockMode::Auto, &galera).ok(),
            Some((false, true))
        );
        assert_eq!(
            choose(Sqlite, LockMode::Advisory, &direct).ok(),
            Some((false, true))
        );
        assert_eq!(
            choose(Postgres, LockMode::Advisory, &direct).ok(),
            Some((true, false))
        );
        for (d, t) in [(Postgres, &pooler), (Mysql, &galera)] {
            let e = choose(d, LockMode::Advisory, t)
                .expect_err("refused")
                .to_string();
            assert!(e.contains("use `--lock-mode table`"), "{e}");
        }
        assert_eq!(
            choose(Mysql, LockMode::Table, &galera).ok(),
            Some((false, true))
        );
        assert!("auto".parse::<LockMode>() == Ok(LockMode::Auto));
        assert!(is_conflict(
            "Deadlock found when trying to get lock; try restarting transaction"
        ));
        assert!(!is_conflict(
            "WSREP has not yet prepared node for application use"
        ));
    }

    #[test]
    fn lock_modes_parse_and_dead_owners_are_only_local() {
        assert_eq!("table".parse::<LockMode>(), Ok(LockMode::Table));
        assert!("row".parse::<LockMode>().is_err());
        assert!(!owner_is_dead("some-other-host pid 1 0"));
        assert!(!owner_is_dead(&owner_name()));
        assert!(!owner_is_dead("garbage"));
        if cfg!(target_os = "linux") {
            let host = owner_name().split(' ').next().unwrap_or("").to_string();
            assert!(owner_is_dead(&format!("{host} pid 4000000000 0")));
        }
    }
}
