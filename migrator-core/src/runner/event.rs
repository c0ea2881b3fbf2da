//! [`Event`]: the progress and notices of a run, and how they read; the
//! [`Report`] of what it did.

use std::time::Duration;

use super::lock::LockMode;
use super::topology::Topology;

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
    /// A statement of `id` waited longer than `lock_timeout` (`timeout`)
    /// for a lock; attempt `attempt + 1` of `attempts` starts after `wait`,
    /// under `next_timeout` (the short waits grow, `lock_waits.rs`).
    LockRetry {
        id: String,
        statement: String,
        attempt: u32,
        attempts: u32,
        timeout: Duration,
        next_timeout: Duration,
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
        /// The replicas' lag read before this batch, when the run watches
        /// it (`Migrator::max_replica_lag`).
        replica_lag: Option<Duration>,
    },
    /// A backfill waits between batches: the worst of the database's
    /// `replicas` is `lag` behind, more than `max`; it has waited `waited`.
    /// Emitted at most once a second while it waits, and once with
    /// `replicas: 0` when the run watches the lag and there is no replica
    /// to watch (or none whose position this role may read).
    ReplicaLag {
        id: String,
        table: String,
        lag: Duration,
        max: Duration,
        replicas: u32,
        /// The replica furthest behind, where the runner knows which (a
        /// Galera node's address).
        worst: Option<String>,
        /// `lag` is a lower bound: the replica was behind already when the
        /// runner first read the positions, by how much is not
        /// known.
        at_least: bool,
        waited: Duration,
    },
    NothingToDo,
    /// Something a migration of `id` reports as it runs: what a downgrade
    /// could not restore (an archive purged).
    Notice {
        id: String,
        message: String,
    },
    /// The history holds migrations newer than every one this runner has
    /// (`ids`; a newer release applied them, this one ends at `head`):
    /// left as they are ([`NewerMigrations::Tolerate`](super::NewerMigrations)).
    NewerMigrations {
        ids: Vec<String>,
        head: u32,
    },
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
                timeout,
                next_timeout,
                wait,
            } => write!(
                f,
                "{id}: `{statement}` timed out after {} ms waiting for a lock (attempt {attempt} of {attempts}); retrying in {} ms with {} ms",
                timeout.as_millis(),
                wait.as_millis(),
                next_timeout.as_millis()
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
                replica_lag,
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
                if let Some(lag) = replica_lag {
                    write!(f, ", replica lag {}", human_duration(*lag))?;
                }
                if *finished {
                    f.write_str(", done")?;
                }
                Ok(())
            }
            Event::ReplicaLag {
                id,
                table,
                lag,
                max,
                replicas,
                worst,
                at_least,
                waited,
            } => {
                if *replicas == 0 {
                    write!(f, "{id}: backfill {table}: no replica's lag to watch (none streams from this database, or this role may not read their positions: grant it pg_monitor; or a Galera cluster of one node)")
                } else {
                    write!(
                        f,
                        "{id}: backfill {table}: waiting for the replicas: lag {}{}{} over {} (waited {})",
                        if *at_least { "at least " } else { "" },
                        human_duration(*lag),
                        worst.as_deref().map(|w| format!(" ({w})")).unwrap_or_default(),
                        human_duration(*max),
                        human_duration(*waited)
                    )
                }
            }
            Event::NothingToDo => f.write_str("nothing to do: the database is up to date"),
            Event::Notice { id, message } => write!(f, "{id}: note: {message}"),
            Event::NewerMigrations { ids, head } => write!(
                f,
                "note: the database has {} migration(s) newer than these (which end at {head:04}), applied by a newer release: {}; left as they are (refused with --refuse-newer)",
                ids.len(),
                ids.join(", ")
            ),
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
