//! Runs a batched backfill ([`crate::ops::Backfill`], SQL in
//! `dialect/backfill.rs`).
//!
//! Contract:
//! - the statement is a non-transactional step of its migration, so the
//!   step-by-step mode records it as done only once every batch is done;
//! - each batch is one short transaction: the keys of the next batch after
//!   the cursor, the `UPDATE` of those rows (the predicate repeated), and
//!   the new cursor with the rows done so far, saved in
//!   [`BACKFILL_TABLE`] (one row per migration version, step and
//!   direction, with the migration's checksum: an edited migration does
//!   not resume from a stale position). A run killed at any point leaves
//!   either the whole batch and its cursor or neither, so a resumed run
//!   starts after the last finished batch and never updates a row twice;
//! - the first batch of a run counts the rows still to do (one `COUNT` with
//!   the predicate) for the progress total; every batch emits
//!   [`Event::BackfillProgress`], the last with `finished`;
//! - `pause_ms` is slept between batches (not after the last);
//! - when the backfill ends its cursor row is marked finished; the runner
//!   deletes it in the transaction that records the step as done (and
//!   the table with it when no other backfill is in progress, so a
//!   finished run leaves nothing behind). A runner killed between the two
//!   finds the mark and does not start the backfill over;
//! - a run in one direction deletes the saved state of the other (an
//!   interrupted upgrade's cursor is obsolete once the downgrade runs);
//! - on PostgreSQL and MySQL the batches run under the migration's
//!   `lock_timeout` (a session setting, `retry.rs`); a batch cancelled by it
//!   fails the step with the lock timeout message, and the runner's retry
//!   resumes the step, which resumes from the saved cursor.

use std::time::{Duration, Instant};

use super::clock::utc_now;
use super::conn::MigrationConnection;
use super::env::Env;
use super::error::RunError;
use super::event::Event;
use crate::dialect::backfill::{BackfillPlan, BACKFILL_TABLE};
use crate::dialect::Dialect;
use crate::migration::{Direction, Migration};

/// The cursor of a backfill that ran to its end, until the runner records
/// the step as done (`clear`, in the same transaction as the progress
/// row): a runner killed in between finds it and does not start over. A
/// real cursor is a list of SQL literals, which never starts with `--`.
const FINISHED: &str = "-- finished";

/// The direction whose saved state a run in `d` makes obsolete.
fn other(d: Direction) -> Direction {
    match d {
        Direction::Up => Direction::Down,
        Direction::Down => Direction::Up,
    }
}

/// Deletes the cursor row of step `index` of `m` in `direction`, and the
/// cursor table when no other backfill has a row there. Called when the
/// step is recorded as done (with the progress row, where there is one).
pub(crate) fn clear<C: MigrationConnection>(
    conn: &mut C,
    m: &Migration,
    index: usize,
    direction: Direction,
) -> diesel::QueryResult<()> {
    let d = conn.dialect();
    let t = d.ident(BACKFILL_TABLE);
    conn.execute(&format!(
        "DELETE FROM {t} WHERE {}",
        row_filter(d, m, index, direction)
    ))
}

/// Drops the cursor table when it is empty: it exists only while a
/// backfill is unfinished or not yet recorded.
pub(crate) fn drop_if_empty<C: MigrationConnection>(conn: &mut C) -> diesel::QueryResult<()> {
    let t = conn.dialect().ident(BACKFILL_TABLE);
    if !super::conn::table_exists(conn, BACKFILL_TABLE)?
        || conn.count_rows(&format!("SELECT 1 AS one FROM {t}"))? > 0
    {
        return Ok(());
    }
    conn.execute(&format!("DROP TABLE IF EXISTS {t}"))
}

const NOTHING_DONE: &str =
    "\n  no batch of the backfill was done by this run; fix the cause and run `migrator up` again";

const INTERRUPTED: &str = "\n  the backfill's finished batches are committed and its position is saved; fix the cause and run `migrator up` again to resume after the last finished batch";

/// The cursor table.
pub(crate) fn create_sql(dialect: Dialect) -> String {
    format!(
        "CREATE TABLE IF NOT EXISTS {} (\
version BIGINT NOT NULL, \
step BIGINT NOT NULL, \
direction VARCHAR(8) NOT NULL, \
checksum VARCHAR(64) NOT NULL, \
last_key TEXT NOT NULL, \
rows_done BIGINT NOT NULL, \
updated_at VARCHAR(32) NOT NULL, \
PRIMARY KEY (version, step, direction))",
        dialect.ident(BACKFILL_TABLE)
    )
}

fn direction_name(d: Direction) -> &'static str {
    match d {
        Direction::Up => "up",
        Direction::Down => "down",
    }
}

/// `WHERE` clause selecting the cursor row of this step.
fn row_filter(dialect: Dialect, m: &Migration, step: usize, direction: Direction) -> String {
    format!(
        "version = {} AND step = {step} AND direction = {}",
        m.version,
        dialect.string(direction_name(direction))
    )
}

/// The saved cursor and rows done of this step, when the migration is the
/// same (checksum) as the one that saved it.
fn read_cursor<C: MigrationConnection>(
    conn: &mut C,
    m: &Migration,
    step: usize,
    direction: Direction,
) -> diesel::QueryResult<Option<(String, u64)>> {
    let d = conn.dialect();
    let as_text = d.backend().integer_as_text("rows_done");
    let filter = format!(
        "{} AND checksum = {}",
        row_filter(d, m, step, direction),
        d.string(&m.checksum)
    );
    let t = d.ident(BACKFILL_TABLE);
    let key = conn.query_texts(&format!("SELECT last_key AS s FROM {t} WHERE {filter}"))?;
    let rows = conn.query_texts(&format!("SELECT {as_text} AS s FROM {t} WHERE {filter}"))?;
    Ok(match (key.into_iter().next(), rows.into_iter().next()) {
        (Some(k), Some(n)) => Some((k, n.trim().parse().unwrap_or(0))),
        _ => None,
    })
}

/// The statements that save the cursor (in the batch's transaction).
pub(crate) fn save_sql(
    dialect: Dialect,
    m: &Migration,
    step: usize,
    direction: Direction,
    last_key: &str,
    rows_done: u64,
) -> String {
    let t = dialect.ident(BACKFILL_TABLE);
    format!(
        "DELETE FROM {t} WHERE {}; INSERT INTO {t} (version, step, direction, checksum, last_key, rows_done, updated_at) VALUES ({}, {step}, {}, {}, {}, {rows_done}, {})",
        row_filter(dialect, m, step, direction),
        m.version,
        dialect.string(direction_name(direction)),
        dialect.string(&m.checksum),
        dialect.string(last_key),
        dialect.string(&utc_now()),
    )
}

/// Runs backfill `plan`, step `index` (0-based) of `m`, to the end,
/// resuming from its saved cursor.
pub(crate) fn run<C: MigrationConnection>(
    conn: &mut C,
    m: &Migration,
    index: usize,
    plan: &BackfillPlan,
    direction: Direction,
    env: Env<'_>,
) -> Result<(), RunError> {
    let dialect = conn.dialect();
    // `progressed`: whether a finished batch (of this run or an earlier
    // one) is committed, which the message says.
    let fail = |sql: &str, message: String, progressed: bool| RunError::Statement {
        migration: m.id(),
        dialect,
        index: index + 1,
        sql: sql.to_string(),
        message,
        rolled_back: if progressed {
            INTERRUPTED
        } else {
            NOTHING_DONE
        },
    };
    let create = create_sql(dialect);
    conn.execute(&create).map_err(|e| {
        fail(
            &create,
            format!("creating the backfill cursor table: {e}"),
            false,
        )
    })?;
    // A saved position of the other direction is obsolete once this one
    // runs (an upgrade's after the downgrade started, and back).
    let stale = format!(
        "DELETE FROM {} WHERE {}",
        dialect.ident(BACKFILL_TABLE),
        row_filter(dialect, m, index, other(direction))
    );
    conn.execute(&stale)
        .map_err(|e| fail(&stale, format!("clearing an obsolete cursor: {e}"), false))?;
    let saved = read_cursor(conn, m, index, direction).map_err(|e| {
        fail(
            BACKFILL_TABLE,
            format!("reading the saved cursor: {e}"),
            false,
        )
    })?;
    if let Some((key, rows)) = &saved {
        if key == FINISHED {
            // Done before a kill stopped the runner from recording it.
            env.emit(Event::BackfillProgress {
                id: m.id(),
                table: plan.table.clone(),
                rows_done: *rows,
                batches: 0,
                total: Some(*rows),
                rows_per_sec: 0.0,
                resumed_from: *rows,
                finished: true,
                replica_lag: None,
            });
            return Ok(());
        }
    }
    let (mut cursor, done_before) = match saved {
        Some((k, n)) => (Some(k), n),
        None => (None, 0),
    };
    let remaining_sql = plan.remaining(cursor.as_deref());
    let remaining = conn.count_rows(&remaining_sql).map_err(|e| {
        fail(
            &remaining_sql,
            format!("counting the rows to do: {e}"),
            done_before > 0,
        )
    })?;
    let total = Some(done_before + remaining.max(0) as u64);
    let mut rows_done = done_before;
    let mut batches = 0u64;
    let started = Instant::now();
    let mut lag: Option<Duration> = None;
    let emit = |rows_done: u64, batches: u64, finished: bool, lag: Option<Duration>| {
        let secs = started.elapsed().as_secs_f64();
        let this_run = rows_done - done_before;
        env.emit(Event::BackfillProgress {
            id: m.id(),
            table: plan.table.clone(),
            rows_done,
            batches,
            total,
            rows_per_sec: if secs > 0.0 {
                this_run as f64 / secs
            } else {
                0.0
            },
            resumed_from: done_before,
            finished,
            replica_lag: lag,
        })
    };
    loop {
        if let Some(watcher) = env.replicas {
            lag = watcher
                .wait(conn, &m.id(), &plan.table, &env, batches == 0)
                .map_err(|e| match e {
                    RunError::Database { message } => {
                        fail("-- waiting for the replicas", message, rows_done > 0)
                    }
                    other => other,
                })?;
        }
        let select = plan.select_batch(cursor.as_deref());
        let progressed = rows_done > 0;
        let step = conn.in_transaction(|c| {
            let keys = c
                .query_texts(&select)
                .map_err(|e| fail(&select, e.to_string(), progressed))?;
            let Some(last) = keys.last().cloned() else {
                return Ok(None);
            };
            let update = plan.update_batch(cursor.as_deref(), &last);
            c.execute(&update)
                .map_err(|e| fail(&update, e.to_string(), progressed))?;
            let n = keys.len() as u64;
            // Keeps the lock row (when the runner holds one) however long
            // the backfill runs.
            env.extend_lease(c)?;
            let save = save_sql(dialect, m, index, direction, &last, rows_done + n);
            c.execute(&save)
                .map_err(|e| fail(&save, format!("saving the cursor: {e}"), progressed))?;
            Ok(Some((last, n)))
        })?;
        let Some((last, n)) = step else { break };
        cursor = Some(last);
        rows_done += n;
        batches += 1;
        // A short batch is the last: no need to ask again.
        if n < u64::from(plan.batch_size) {
            break;
        }
        emit(rows_done, batches, false, lag);
        if plan.pause_ms > 0 {
            std::thread::sleep(Duration::from_millis(plan.pause_ms));
        }
    }
    // Marked finished, not deleted: the caller deletes the row when it
    // records the step as done (`clear`).
    let finish = save_sql(dialect, m, index, direction, FINISHED, rows_done);
    conn.in_transaction(|c| {
        c.execute(&finish)
            .map_err(|e| fail(&finish, format!("marking the backfill finished: {e}"), true))
    })?;
    emit(rows_done, batches, true, lag);
    Ok(())
}
