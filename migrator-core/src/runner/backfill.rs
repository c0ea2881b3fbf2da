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
//! - when the backfill ends its cursor row is deleted, and the table with
//!   it when no other backfill is in progress, so a finished run leaves
//!   nothing behind;
//! - on PostgreSQL and MySQL the batches run under the migration's
//!   `lock_timeout` (a session setting, `retry.rs`); a batch cancelled by it
//!   fails the step with the lock timeout message, and the runner's retry
//!   resumes the step, which resumes from the saved cursor.

use std::time::{Duration, Instant};

use super::conn::MigrationConnection;
use super::history::utc_now;
use super::{Event, RunError};
use crate::dialect::backfill::{BackfillPlan, BACKFILL_TABLE};
use crate::dialect::Dialect;
use crate::migration::{Direction, Migration};

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
    let as_text = match d {
        Dialect::Mysql => "CAST(rows_done AS CHAR)",
        _ => "CAST(rows_done AS TEXT)",
    };
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
    on_event: &dyn Fn(&Event),
) -> Result<(), RunError> {
    let dialect = conn.dialect();
    let fail = |sql: &str, message: String| RunError::Statement {
        migration: m.id(),
        dialect,
        index: index + 1,
        sql: sql.to_string(),
        message,
        rolled_back: INTERRUPTED,
    };
    let create = create_sql(dialect);
    conn.execute(&create)
        .map_err(|e| fail(&create, format!("creating the backfill cursor table: {e}")))?;
    let saved = read_cursor(conn, m, index, direction)
        .map_err(|e| fail(BACKFILL_TABLE, format!("reading the saved cursor: {e}")))?;
    let (mut cursor, done_before) = match saved {
        Some((k, n)) => (Some(k), n),
        None => (None, 0),
    };
    let remaining_sql = plan.remaining(cursor.as_deref());
    let remaining = conn
        .count_rows(&remaining_sql)
        .map_err(|e| fail(&remaining_sql, format!("counting the rows to do: {e}")))?;
    let total = Some(done_before + remaining.max(0) as u64);
    let mut rows_done = done_before;
    let mut batches = 0u64;
    let started = Instant::now();
    let emit = |rows_done: u64, batches: u64, finished: bool| {
        let secs = started.elapsed().as_secs_f64();
        let this_run = rows_done - done_before;
        on_event(&Event::BackfillProgress {
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
        })
    };
    loop {
        let select = plan.select_batch(cursor.as_deref());
        let step = conn.in_transaction(|c| {
            let keys = c
                .query_texts(&select)
                .map_err(|e| fail(&select, e.to_string()))?;
            let Some(last) = keys.last().cloned() else {
                return Ok(None);
            };
            let update = plan.update_batch(cursor.as_deref(), &last);
            c.execute(&update)
                .map_err(|e| fail(&update, e.to_string()))?;
            let n = keys.len() as u64;
            let save = save_sql(dialect, m, index, direction, &last, rows_done + n);
            c.execute(&save)
                .map_err(|e| fail(&save, format!("saving the cursor: {e}")))?;
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
        emit(rows_done, batches, false);
        if plan.pause_ms > 0 {
            std::thread::sleep(Duration::from_millis(plan.pause_ms));
        }
    }
    let t = dialect.ident(BACKFILL_TABLE);
    let clear = format!(
        "DELETE FROM {t} WHERE {}",
        row_filter(dialect, m, index, direction)
    );
    conn.execute(&clear)
        .map_err(|e| fail(&clear, format!("deleting the finished cursor: {e}")))?;
    // The table only exists while a backfill is unfinished.
    let others = conn
        .count_rows(&format!("SELECT 1 AS one FROM {t}"))
        .map_err(|e| fail(BACKFILL_TABLE, e.to_string()))?;
    if others == 0 {
        let drop = format!("DROP TABLE IF EXISTS {t}");
        conn.execute(&drop)
            .map_err(|e| fail(&drop, e.to_string()))?;
    }
    emit(rows_done, batches, true);
    Ok(())
}
