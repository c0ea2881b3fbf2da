//! Backfills that watch the replicas: between batches, the runner reads
//! how far the database's streaming replicas are behind and waits while
//! the worst is behind more than `Migrator::max_replica_lag`
//! (`--max-replica-lag`), so that a backfill of millions of rows does not
//! leave the replicas (and the reads served from them) minutes behind.
//!
//! Contract:
//! - PostgreSQL: the lag is read on the primary from `pg_stat_replication`
//!   (`backend/postgres/session.rs`): a replica that has replayed
//!   everything is 0 behind; otherwise its `replay_lag`, the age of the
//!   oldest WAL it has not replayed (the primary's lag tracker keeps
//!   growing it while the replica does not replay). Reading the positions
//!   needs the `pg_monitor` role (or superuser); without it, or without
//!   replicas, there is nothing to wait for, and the first read says so
//!   ([`Event::ReplicaLag`] with `replicas: 0`);
//! - MySQL/MariaDB and SQLite: no lag to read (a MySQL primary does not
//!   know its replicas' positions; a Galera cluster throttles its writers
//!   itself, by flow control); asking for it there is refused before
//!   anything runs (`Migrator::up`);
//! - while the lag is over the bound the runner sleeps (100 ms, doubling,
//!   at most 2 s), keeps its lock row alive, and emits
//!   [`Event::ReplicaLag`] at most once a second with the lag and how long
//!   it has waited; once the lag is back under the bound the backfill goes
//!   on with its next batch. After `replica_lag_timeout` of waiting
//!   (default 10 min) the step fails, its batches done and its cursor
//!   saved, so `migrator up` resumes after the last batch.

use std::time::{Duration, Instant};

use super::conn::MigrationConnection;
use super::env::Env;
use super::error::RunError;
use super::event::Event;

/// The bound a backfill keeps the replicas' lag under, and how long it
/// waits for them at most.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LagWatch {
    pub max: Duration,
    pub give_up: Duration,
}

/// The worst replica's lag and how many replicas were seen, or `None`
/// where the database has no lag to read.
pub(crate) fn read<C: MigrationConnection>(
    conn: &mut C,
) -> Result<Option<(Duration, u32)>, String> {
    let Some(sql) = conn.dialect().backend().replica_lag_sql() else {
        return Ok(None);
    };
    let row = conn
        .query_texts(sql)
        .map_err(|e| format!("reading the replicas' lag: {e}"))?
        .pop()
        .unwrap_or_default();
    let (secs, replicas) = row.split_once(' ').unwrap_or(("0", "0"));
    let secs: f64 = secs.trim().parse().unwrap_or(0.0);
    let replicas: u32 = replicas.trim().parse().unwrap_or(0);
    Ok(Some((Duration::from_secs_f64(secs.max(0.0)), replicas)))
}

/// Waits, between two batches of the backfill of `table` in migration
/// `id`, until the replicas are at most `watch.max` behind; the lag last
/// read, for the progress line.
pub(crate) fn wait<C: MigrationConnection>(
    conn: &mut C,
    watch: LagWatch,
    id: &str,
    table: &str,
    env: &Env<'_>,
    first: bool,
) -> Result<Option<Duration>, RunError> {
    let fail = |message: String| RunError::Database { message };
    let started = Instant::now();
    let mut last_event: Option<Instant> = None;
    let mut sleep = Duration::from_millis(100);
    loop {
        let Some((lag, replicas)) = read(conn).map_err(fail)? else {
            return Ok(None);
        };
        let over = replicas > 0 && lag > watch.max;
        let waited = started.elapsed();
        let due = last_event.is_none_or(|t| t.elapsed() >= Duration::from_secs(1));
        if (over && due) || (first && replicas == 0 && last_event.is_none()) {
            env.emit(Event::ReplicaLag {
                id: id.to_string(),
                table: table.to_string(),
                lag,
                max: watch.max,
                replicas,
                waited,
            });
            last_event = Some(Instant::now());
        }
        if !over {
            return Ok(Some(lag));
        }
        if waited >= watch.give_up {
            return Err(fail(format!(
                "the backfill of `{table}` in {id} waited {} for the replicas, whose lag stayed above {} (last {}); its finished batches are saved\n  help: find why the replica does not replay (`pg_stat_replication` on the primary, `pg_last_xact_replay_timestamp()` on the replica), then run `migrator up` again to resume after the last batch; `--replica-lag-timeout` waits longer, `--max-replica-lag` allows more",
                super::human_duration(waited),
                super::human_duration(watch.max),
                super::human_duration(lag)
            )));
        }
        // The lock row stays ours while we wait.
        conn.in_transaction(|c| env.extend_lease(c))?;
        std::thread::sleep(sleep.min(watch.give_up.saturating_sub(waited)));
        sleep = (sleep * 2).min(Duration::from_secs(2));
    }
}
