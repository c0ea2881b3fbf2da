//! The lock row in `_migrator_lock` (module docs of `lock`): its table, its
//! owner's name, the claim, the lease (held for `held_secs`, extended by
//! `Lease`), taking over a dead owner's row, and the retry of a write that
//! loses a Galera certification conflict.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::{db, now_sql, Held, LOCK_TABLE};
use crate::runner::conn::MigrationConnection;
use crate::runner::error::RunError;

/// A lost certification conflict (Galera reports it as error 1213,
/// "Deadlock found when trying to get lock", or as a wsrep abort) or an
/// InnoDB deadlock: the write is tried again. Other wsrep errors (a node
/// that is not synced) are not: they are reported.
pub(super) fn is_conflict(message: &str) -> bool {
    message.contains("Deadlock found") || message.contains("WSREP detected deadlock/conflict")
}

/// Runs `sql`, retrying it while it loses certification conflicts.
pub(super) fn execute_retrying<C: MigrationConnection>(
    conn: &mut C,
    sql: &str,
) -> diesel::QueryResult<()> {
    let mut tries = 0u64;
    loop {
        match conn.execute(sql) {
            Err(e) if tries < 20 && is_conflict(&e.to_string()) => {
                tries += 1;
                std::thread::sleep(Duration::from_millis(10 * tries));
            }
            other => return other,
        }
    }
}

/// `host pid N nonce`: who claims the lock row.
pub(super) fn owner_name() -> String {
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty() && !h.contains(['\'', ' ']))
        .unwrap_or_else(|| "unknown-host".to_string());
    let nonce = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!("{host} pid {} {nonce:08x}", std::process::id())
}

/// True when `owner` names a process on this host that no longer exists.
pub(super) fn owner_is_dead(owner: &str) -> bool {
    let mine = owner_name();
    let mut theirs = owner.split(' ');
    let (Some(host), Some("pid"), Some(pid)) = (theirs.next(), theirs.next(), theirs.next()) else {
        return false;
    };
    if Some(host) != mine.split(' ').next() || !cfg!(target_os = "linux") {
        return false;
    }
    pid.parse::<u32>().is_ok_and(|p| {
        p != std::process::id() && !std::path::Path::new(&format!("/proc/{p}")).exists()
    })
}

pub(super) fn ensure_lock_table<C: MigrationConnection>(conn: &mut C) -> Result<(), RunError> {
    let d = conn.dialect();
    let create = format!(
        "CREATE TABLE IF NOT EXISTS {} (id INTEGER PRIMARY KEY, owner VARCHAR(255) NOT NULL, expires_at BIGINT NOT NULL)",
        d.ident(LOCK_TABLE)
    );
    // Runners starting together all create it; PostgreSQL can fail one of
    // two concurrent `IF NOT EXISTS` creations on its catalog, so retry.
    let mut tries = 0;
    loop {
        match conn.execute(&create) {
            Ok(()) => return Ok(()),
            // A wait for another session already took the whole bound.
            Err(e) if tries < 10 && !crate::runner::waits::is_lock_wait(&e.to_string()) => {
                tries += 1;
                std::thread::sleep(Duration::from_millis(20 * tries));
            }
            Err(e) => return Err(db(d, "creating the lock table", e)),
        }
    }
}

/// How long a claim or renewal holds the row: the lease and a quarter more,
/// because a renewal is skipped until a quarter of the lease has passed
/// (`renew`): every migration starts with at least a whole lease ahead.
pub(super) fn held_secs(lease: Duration) -> u64 {
    let s = lease.as_secs().max(1);
    s + s.div_ceil(4)
}

/// The leased lock row a run holds, for a long step (a backfill, batch by
/// batch) to extend: the run context hands it down (`env.rs`).
#[derive(Debug, Clone)]
pub(crate) struct Lease {
    owner: String,
    lease: Duration,
}

impl Held {
    /// The lease a long step extends; none for a session lock or a
    /// session-owned row.
    pub(crate) fn lease(&self) -> Option<Lease> {
        self.row.as_ref().filter(|r| !r.session).map(|r| Lease {
            owner: r.owner.clone(),
            lease: r.lease,
        })
    }
}

impl Lease {
    /// Extends the lock row by a whole lease, in the caller's transaction;
    /// fails when the row is no longer ours. A backfill calls it in every
    /// batch, so a long one keeps the lock however long it runs.
    pub(crate) fn extend<C: MigrationConnection>(&self, conn: &mut C) -> Result<(), RunError> {
        if !extend(conn, &self.owner, self.lease)? {
            return Err(RunError::Database {
                message: format!("the migration lock row in `{LOCK_TABLE}` was taken over by another runner; stopped\nhelp: raise the lease (`Migrator::lock_lease`)"),
            });
        }
        Ok(())
    }
}

/// Holds the row for another `held_secs(lease)` from now if it is still
/// `owner`'s; false when another runner has taken it over.
pub(super) fn extend<C: MigrationConnection>(
    conn: &mut C,
    owner: &str,
    lease: Duration,
) -> Result<bool, RunError> {
    let d = conn.dialect();
    let t = d.ident(LOCK_TABLE);
    let o = d.string(owner);
    execute_retrying(
        conn,
        &format!(
            "UPDATE {t} SET expires_at = {} + {} WHERE id = 1 AND owner = {o}",
            now_sql(d),
            held_secs(lease)
        ),
    )
    .map_err(|e| db(d, "extending the migration lock row's lease", e))?;
    let mine = conn
        .count_rows(&format!("SELECT 1 FROM {t} WHERE id = 1 AND owner = {o}"))
        .map_err(|e| db(d, "reading the migration lock row", e))?;
    Ok(mine > 0)
}

/// One attempt to claim the lock row; true when it is ours.
pub(super) fn claim_row<C: MigrationConnection>(
    conn: &mut C,
    owner: &str,
    secs: u64,
) -> Result<bool, RunError> {
    let d = conn.dialect();
    let t = d.ident(LOCK_TABLE);
    let o = d.string(owner);
    let now = now_sql(d);
    let claim = d.backend().claim_lock_row_sql(&t, &o, now, secs);
    match conn.execute(&claim) {
        Ok(()) => {}
        // Another node's claim won the certification: not ours this time.
        Err(e) if is_conflict(&e.to_string()) => return Ok(false),
        Err(e) => return Err(db(d, "claiming the migration lock row", e)),
    }
    let mine = format!("SELECT 1 FROM {t} WHERE id = 1 AND owner = {o}");
    if conn
        .count_rows(&mine)
        .map_err(|e| db(d, "reading the migration lock row", e))?
        > 0
    {
        return Ok(true);
    }
    // A runner on this host that was killed leaves its row behind: take it
    // over at once instead of waiting for the lease.
    let current = conn
        .query_texts(&format!("SELECT owner AS s FROM {t} WHERE id = 1"))
        .map_err(|e| db(d, "reading the migration lock row", e))?;
    let mut dead = None;
    for c in current {
        if owner_is_dead(&c) || session_is_gone(conn, &c)? {
            dead = Some(c);
        }
    }
    if let Some(dead) = dead {
        execute_retrying(
            conn,
            &format!(
                "DELETE FROM {t} WHERE id = 1 AND owner = {}",
                d.string(&dead)
            ),
        )
        .map_err(|e| db(d, "removing a dead runner's lock row", e))?;
    }
    Ok(false)
}

/// PostgreSQL: true when `owner` claimed the row from a direct session
/// (`... session N`) that no longer exists. A runner through a pooler
/// never names its session (the pooler's server session outlives it).
pub(super) fn session_is_gone<C: MigrationConnection>(
    conn: &mut C,
    owner: &str,
) -> Result<bool, RunError> {
    let d = conn.dialect();
    let Some(pid) = owner
        .split_once(" session ")
        .and_then(|(_, p)| p.parse::<i64>().ok())
    else {
        return Ok(false);
    };
    let Some(session) = d.backend().session_row() else {
        return Ok(false);
    };
    let alive = conn
        .count_rows(&(session.alive_sql)(pid))
        .map_err(|e| db(d, "reading the lock row owner's session", e))?;
    Ok(alive == 0)
}
