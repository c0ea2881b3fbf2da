//! How several migrations travel together: SQLite commit groups and
//! PostgreSQL pipelined batches, each migration still with the outcome of
//! its own transaction. The executor (`exec.rs`) hands a run of planned
//! migrations of one of these strategies (`plan::Strategy`) here.

use std::time::{Duration, Instant};

use super::apply::{self, Unit};
use super::conn::MigrationConnection;
use super::context::{RunContext, PIPELINE_MIN};
use super::env::Env;
use super::error::RunError;
use super::event::{Event, Report};
use super::history;
use super::retry;
use super::steps;
use crate::migration::{Direction, Migration};

/// PostgreSQL: the most migrations sent in one query ([`run_pipelined`]).
const PIPELINE_MAX: usize = 64;

/// What a pipelined query did: how many migrations it carried, how many of
/// them (from the first) were committed, and the error that stopped it.
pub(crate) struct Chunk {
    taken: usize,
    pub committed: usize,
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
    pub(crate) fn then_alone(
        self,
        i: usize,
    ) -> Result<(std::ops::Range<usize>, Option<RunError>), RunError> {
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

/// PostgreSQL: sends migrations from the front of `batch` (each
/// [`apply::batchable`]) as one query, each still its own
/// transaction with its history row (`SET ..; BEGIN; ..; COMMIT` one
/// after the other, `apply::one_batch`): one round trip for several
/// migrations, with the locks and the outcome of one transaction each.
/// Only the last commit of a chunk waits for its WAL flush
/// (`apply::one_batch`), which makes the whole chunk durable before
/// any of it is reported applied.
/// The chunk starts at [`PIPELINE_MIN`] migrations and doubles, up to
/// [`PIPELINE_MAX`], while chunks finish within 50 ms (so events keep
/// coming); it halves when one takes over 200 ms. Returns how many it
/// sent and how many were committed (read back from the history):
/// PostgreSQL skips the rest of a query after an error, so when a
/// migration fails, the ones before it are committed, it is rolled
/// back, and the caller runs it alone, which retries a lock timeout or
/// names the failing statement.
pub(crate) fn run_pipelined<C: MigrationConnection>(
    ctx: &mut RunContext<'_, C>,
    batch: &[Unit<'_>],
    report: &mut Report,
) -> Result<Chunk, RunError> {
    let dialect = ctx.conn.dialect();
    let direction = batch[0].direction;
    ctx.renew_lock()?;
    let chunk = &batch[..ctx.pipeline_chunk.min(batch.len())];
    let mut sql = String::new();
    for (k, u) in chunk.iter().enumerate() {
        let (m, statements) = (u.m, u.steps);
        let durable = k + 1 == chunk.len();
        let set = ctx.timeouts.prepare(
            ctx.conn,
            ctx.settings.first_lock_timeout(m),
            ctx.settings.statement_timeout,
        )?;
        let one = apply::one_batch(dialect, m, statements, direction, &set, durable)
            .ok_or_else(|| RunError::Refused(format!("{} cannot be sent as one batch", m.id())))?;
        if !sql.is_empty() {
            sql.push_str(";\n");
        }
        sql.push_str(&one);
    }
    let started = Instant::now();
    let sent = ctx.conn.execute(&sql);
    if sent.is_err() {
        let _ = ctx.conn.execute("ROLLBACK");
    }
    let elapsed = started.elapsed();
    let versions: Vec<u32> = chunk.iter().map(|u| u.m.version).collect();
    let rows = history::read_versions(ctx.conn, &versions).map_err(|e| match &sent {
        Err(first) => RunError::Database {
            message: format!(
                "{e}\n  after this error in a query of {} migrations from {}: {first}\n  `migrator status` shows which are applied",
                chunk.len(),
                chunk[0].m.id()
            ),
        },
        Ok(()) => e,
    })?;
    let done = |m: &Migration| {
        let row = rows.iter().find(|r| r.version == i64::from(m.version));
        match direction {
            Direction::Up => row
                .filter(|r| r.state == history::APPLIED)
                .map(|r| r.execution_ms),
            Direction::Down => row.is_none().then_some(-1),
        }
    };
    let committed = chunk.iter().take_while(|u| done(u.m).is_some()).count();
    if sent.is_err() && committed > 0 {
        // Those committed without waiting for their WAL flush: one
        // synchronous commit makes them durable before they are
        // reported.
        ctx.conn
            .execute(dialect.backend().batch_sql().map_or("", |b| b.flush))
            .map_err(|e| RunError::Database {
                message: format!("flushing the committed migrations: {e}"),
            })?;
    }
    for u in &chunk[..committed] {
        let (m, id) = (u.m, u.m.id());
        let ms = done(m).unwrap_or(-1);
        match direction {
            Direction::Up => {
                ctx.emit(Event::Applying { id: id.clone() });
                ctx.emit(Event::Applied {
                    id: id.clone(),
                    elapsed: Duration::from_millis(ms.max(0) as u64),
                });
            }
            Direction::Down => {
                ctx.emit(Event::RollingBack { id: id.clone() });
                ctx.emit(Event::RolledBack {
                    id: id.clone(),
                    elapsed: elapsed / chunk.len() as u32,
                });
            }
        }
        report.done.push(id);
    }
    let failure = match sent {
        Ok(()) => {
            let n = ctx.pipeline_chunk;
            ctx.pipeline_chunk = if elapsed < Duration::from_millis(50) {
                (n * 2).min(PIPELINE_MAX)
            } else if elapsed > Duration::from_millis(200) {
                (n / 2).max(PIPELINE_MIN)
            } else {
                n
            };
            None
        }
        Err(e) => {
            ctx.pipeline_chunk = PIPELINE_MIN;
            let m = chunk.get(committed).map_or(chunk[0].m, |u| u.m);
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

/// SQLite: runs migrations from the front of `batch` (all of which
/// in a commit group) in one transaction, each in a savepoint,
/// until the group has been open for `Migrator::commit_group`, and commits them.
/// Returns how many it took (at least one). A failing migration is
/// rolled back alone and the ones before it are committed before its
/// error is returned; when the commit itself fails none of the group is
/// applied, and the error says which ones that rolled back.
pub(crate) fn run_group<C: MigrationConnection>(
    ctx: &mut RunContext<'_, C>,
    batch: &[Unit<'_>],
    report: &mut Report,
) -> Result<usize, RunError> {
    let direction = batch[0].direction;
    ctx.renew_lock()?;
    let window = ctx.settings.commit_group;
    let env = Env::new(ctx.events, ctx.lease.as_ref()).watching(ctx.replicas.as_ref());
    let conn = &mut *ctx.conn;
    let fks = apply::sqlite_foreign_keys_off(conn)?;
    let opened = Instant::now();
    let mut taken = 0;
    let mut done = Vec::new();
    let mut failure = None;
    let committed = conn.in_transaction(|c| {
        for &unit in batch {
            let m = unit.m;
            if taken > 0 && opened.elapsed() >= window {
                break;
            }
            taken += 1;
            env.emit(match direction {
                Direction::Up => Event::Applying { id: m.id() },
                Direction::Down => Event::RollingBack { id: m.id() },
            });
            let started = Instant::now();
            match apply::apply_in_transaction(c, unit, started, fks, env) {
                Ok(true) => {
                    let (id, elapsed) = (m.id(), started.elapsed());
                    env.emit(match direction {
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
    let committed = apply::sqlite_foreign_keys_restore(conn, fks, committed);
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
