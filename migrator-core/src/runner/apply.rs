//! The execution of one migration and its history writes: in one
//! transaction with its history row, as one PostgreSQL batch, or step by
//! step with `steps_done` recorded after each step (or short transaction
//! of steps). The executor (`exec.rs`) chooses which through the plan
//! (`plan/`); the history table's SQL is `history.rs`'s.

use std::time::Instant;

use super::backfill;
use super::clock::utc_now;
use super::conn::MigrationConnection;
use super::env::Env;
use super::error::RunError;
use super::history::{
    db, delete_sql, finish_sql, insert_sql, insert_sql_with, progress_sql, select_sql, APPLIED,
    PARTIAL,
};
use super::retry;
use super::steps::{run_step, Step, ROLLED_BACK};
use crate::dialect::Dialect;
use crate::migration::{Direction, Migration};

/// Whether `m` runs in one transaction on this dialect.
pub(crate) fn runs_in_transaction(dialect: Dialect, m: &Migration, steps: &[Step]) -> bool {
    m.is_transactional() && dialect.transactional_ddl() && steps.iter().all(Step::transactional)
}

/// One migration to run: which, its steps, and which way.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Unit<'a> {
    pub m: &'a Migration,
    pub steps: &'a [Step],
    pub direction: Direction,
}

/// One try of a [`Unit`].
#[derive(Debug)]
pub(crate) struct Attempt<'a> {
    /// PostgreSQL: the session settings, sent first (in the batch when the
    /// migration is sent as one).
    pub set: Option<&'a str>,
    /// Whether to send it as one batch first ([`one_batch`]): the first try
    /// of a migration that did not just fail in a pipelined chunk.
    pub as_batch: bool,
    /// Step by step: the steps already done and recorded.
    pub steps_done: usize,
    /// The first try's start, for `execution_ms`.
    pub started: Instant,
    /// PostgreSQL, during the short lock waits (`lock_waits.rs`): the
    /// `SET`s that raise the session's `lock_timeout` to the maximum
    /// around a statement that runs outside a transaction without a lock
    /// the application queues behind ([`Statement::no_queue`]:
    /// `CREATE INDEX CONCURRENTLY`, `VALIDATE`, a backfill), and lower it
    /// again; a concurrent build that gave up after tens of milliseconds
    /// would throw its work away. A raw step outside a transaction keeps
    /// the short wait (it may take any lock).
    pub alone: Option<(String, String)>,
}

/// Runs one migration and records it. Returns false when another runner
/// had already done it (seen under the SQLite write lock).
pub(crate) fn apply<C: MigrationConnection>(
    conn: &mut C,
    unit: Unit<'_>,
    attempt: &Attempt<'_>,
    env: Env<'_>,
) -> Result<bool, RunError> {
    let Unit {
        m,
        steps: statements,
        direction,
    } = unit;
    let dialect = conn.dialect();
    if let Some(set) = attempt.set {
        let batch = (attempt.as_batch && attempt.steps_done == 0 && !conn.in_open_transaction())
            .then(|| one_batch(dialect, m, statements, direction, set, true))
            .flatten();
        if let Some(batch) = batch {
            match conn.execute(&batch) {
                Ok(()) => return Ok(true),
                // A lock timeout is retried as such (`exec.rs`, whose later
                // tries go statement by statement), a cancellation
                // (statement timeout, `pg_cancel_backend`) is not run
                // again; any other failure is run again statement by
                // statement at once, which names the failing statement (or
                // succeeds, the cause having been transient).
                Err(e) => {
                    let _ = conn.execute("ROLLBACK");
                    let e = RunError::Statement {
                        migration: m.id(),
                        dialect,
                        index: 1,
                        sql: "(the migration's statements, sent as one batch)".into(),
                        message: e.to_string(),
                        rolled_back: ROLLED_BACK,
                    };
                    if retry::is_lock_timeout(&e) || retry::is_cancelled(&e) {
                        return Err(e);
                    }
                }
            }
        }
        conn.execute(set).map_err(|e| RunError::Database {
            message: format!("setting the lock timeout: {e}"),
        })?;
    }
    let sqlite_fks = sqlite_foreign_keys_off(conn)?;
    let result = if runs_in_transaction(dialect, m, statements) {
        apply_in_transaction(conn, unit, attempt.started, sqlite_fks, env)
    } else {
        apply_step_by_step(conn, unit, attempt, env).map(|()| true)
    };
    sqlite_foreign_keys_restore(conn, sqlite_fks, result)
}

/// Migration `m` as one batch (PostgreSQL), `<set>; BEGIN; <statements>;
/// <history write>; COMMIT`, one round trip instead of one per statement,
/// when every step is a plain statement (no guard, cleanup, generated
/// statements, backfill or Rust step) that runs in the transaction; None
/// otherwise. A statement's text may end in a line comment: each is
/// followed by a newline before its `;`. Not `durable`: the commit does
/// not wait for its WAL flush (`synchronous_commit` off for this
/// transaction only), for all but the last migration of a pipelined
/// chunk, whose flush covers them all before any is reported applied;
/// PostgreSQL keeps every transaction atomic either way, so a crash in
/// between loses whole migrations with their history rows, never part of
/// one.
pub(crate) fn one_batch(
    dialect: Dialect,
    m: &Migration,
    statements: &[Step],
    direction: Direction,
    set: &str,
    durable: bool,
) -> Option<String> {
    let frame = dialect.backend().batch_sql()?;
    if !batchable(dialect, m, statements) {
        return None;
    }
    let mut sql = format!("{set};\nBEGIN;\n{};\n", frame.start);
    if !durable {
        sql.push_str(frame.not_durable);
        sql.push_str(";\n");
    }
    for step in statements {
        if let Step::Sql(s) = step {
            sql.push_str(&s.sql);
            sql.push_str("\n;\n");
        }
    }
    let record = match direction {
        Direction::Up => insert_sql_with(
            dialect,
            m,
            &utc_now(),
            frame.elapsed_ms,
            APPLIED,
            statements.len(),
        ),
        Direction::Down => delete_sql(dialect, m.version),
    };
    sql.push_str(&record);
    sql.push_str(";\nCOMMIT");
    Some(sql)
}

/// Whether [`one_batch`] can send migration `m` as one batch: PostgreSQL,
/// in one transaction, every step a plain statement (no guard, cleanup,
/// generated statements, backfill or Rust step).
pub(crate) fn batchable(dialect: Dialect, m: &Migration, statements: &[Step]) -> bool {
    dialect.backend().sends_batches()
        && runs_in_transaction(dialect, m, statements)
        && statements.iter().all(|step| match step {
            Step::Sql(s) => {
                s.skip_if.is_none()
                    && s.cleanup.is_none()
                    && !s.each_row
                    && !s.refuses
                    && s.notice.is_none()
                    && s.backfill.is_none()
                    && s.transactional
            }
            Step::Rust { .. } => false,
        })
}

/// SQLite's table rebuild must run with foreign key enforcement off, and
/// the pragma is a no-op inside a transaction, so it is switched off before
/// the transaction and the integrity check runs before commit
/// (sqlite.org/lang_altertable.html). True when it was on (and is now off);
/// always false on other databases.
pub(crate) fn sqlite_foreign_keys_off<C: MigrationConnection>(
    conn: &mut C,
) -> Result<bool, RunError> {
    let dialect = conn.dialect();
    let on = dialect.backend().foreign_keys_pragma()
        && conn
            .count_rows("SELECT 1 FROM pragma_foreign_keys WHERE foreign_keys = 1")
            .map_err(|e| db(dialect, "reading PRAGMA foreign_keys", e))?
            > 0;
    if on {
        conn.execute("PRAGMA foreign_keys = OFF")
            .map_err(|e| db(dialect, "disabling foreign keys for the migration", e))?;
    }
    Ok(on)
}

/// Turns SQLite's foreign keys back on when [`sqlite_foreign_keys_off`]
/// turned them off; `result`'s error comes first.
pub(crate) fn sqlite_foreign_keys_restore<C: MigrationConnection, T>(
    conn: &mut C,
    was_on: bool,
    result: Result<T, RunError>,
) -> Result<T, RunError> {
    if !was_on {
        return result;
    }
    let dialect = conn.dialect();
    let restored = conn
        .execute("PRAGMA foreign_keys = ON")
        .map_err(|e| db(dialect, "re-enabling foreign keys", e));
    let out = result?;
    restored?;
    Ok(out)
}

/// Runs one migration and its history write in a transaction (a savepoint
/// when a commit group's transaction is open, `transport.rs`), with
/// SQLite's foreign key check before it ends when `check_fks`.
pub(crate) fn apply_in_transaction<C: MigrationConnection>(
    conn: &mut C,
    unit: Unit<'_>,
    started: Instant,
    check_fks: bool,
    env: Env<'_>,
) -> Result<bool, RunError> {
    let Unit {
        m,
        steps: statements,
        direction,
    } = unit;
    let dialect = conn.dialect();
    conn.in_transaction(|c| {
        if dialect.backend().rereads_history_in_transaction() {
            // Another runner may have applied it while we waited for the
            // write lock: re-read this migration's row under the lock.
            let rows = c
                .load_history(&select_sql(dialect, Some(m.version)))
                .map_err(|e| db(dialect, "re-reading the history table", e))?;
            let present = rows.iter().any(|r| r.state == APPLIED);
            if present == (direction == Direction::Up) {
                return Ok(false);
            }
        }
        for (i, s) in statements.iter().enumerate() {
            run_step(c, m, i, s, direction, true, env)?;
        }
        if check_fks {
            let broken = c
                .count_rows("SELECT 1 FROM pragma_foreign_key_check")
                .map_err(|e| db(dialect, "PRAGMA foreign_key_check", e))?;
            if broken > 0 {
                return Err(RunError::Statement {
                    migration: m.id(),
                    dialect,
                    index: statements.len(),
                    sql: "PRAGMA foreign_key_check".into(),
                    message: format!("{broken} row(s) violate a foreign key after the migration"),
                    rolled_back: ROLLED_BACK,
                });
            }
        }
        let record = match direction {
            Direction::Up => insert_sql(
                dialect,
                m,
                &utc_now(),
                started.elapsed().as_millis() as i64,
                APPLIED,
                statements.len(),
            ),
            Direction::Down => delete_sql(dialect, m.version),
        };
        c.execute(&record)
            .map_err(|e| db(dialect, "writing the history row", e))?;
        Ok(true)
    })
}

/// Steps `start..end` of a step-by-step run, and whether they share one
/// short transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Group {
    pub start: usize,
    pub end: usize,
    pub in_transaction: bool,
}

impl Group {
    fn clone_steps(&self) -> std::ops::Range<usize> {
        self.start..self.end
    }
}

/// How a step-by-step run executes `statements` from `skip` on: a statement
/// that cannot run in a transaction (`CREATE INDEX CONCURRENTLY`, a
/// `VALIDATE CONSTRAINT` that must not hold the locks before it) runs alone;
/// the transactional ones between them run in short transactions, one for
/// each run of consecutive steps when the migration itself allows a
/// transaction (so a data step and the step that follows it stay atomic),
/// one per step in a `transaction = false` migration (whose author asked
/// for each to stand alone). Without transactional DDL (MySQL) every step
/// is its own group, and a transactional one still runs in a transaction
/// with its progress row: a data step is then never recorded apart from
/// its effect (a runner killed between the two would run it again on
/// resume), while a DDL statement commits itself, as it would alone, and is
/// guarded so that running it again is a no-op.
pub(crate) fn groups(
    dialect: Dialect,
    m: &Migration,
    statements: &[Step],
    skip: usize,
) -> Vec<Group> {
    let mut out = Vec::new();
    let mut i = skip;
    while i < statements.len() {
        if !statements[i].transactional() || !dialect.transactional_ddl() {
            out.push(Group {
                start: i,
                end: i + 1,
                in_transaction: statements[i].transactional(),
            });
            i += 1;
            continue;
        }
        let end = if m.is_transactional() {
            statements[i..]
                .iter()
                .position(|s| !s.transactional())
                .map_or(statements.len(), |p| i + p)
        } else {
            i + 1
        };
        out.push(Group {
            start: i,
            end,
            in_transaction: true,
        });
        i = end;
    }
    out
}

const GROUP_ROLLED_BACK: &str = "\n  the transactional steps from the last recorded one to this one were rolled back; the steps before them are done and recorded; fix the cause and run `migrator up` again to resume from there";

/// The failure of a group after the first: earlier groups stay done.
fn group_rolled_back(e: RunError) -> RunError {
    match e {
        RunError::Statement {
            migration,
            dialect,
            index,
            sql,
            message,
            ..
        } => RunError::Statement {
            migration,
            dialect,
            index,
            sql,
            message,
            rolled_back: GROUP_ROLLED_BACK,
        },
        RunError::RustStepFailed {
            migration,
            dialect,
            index,
            step,
            message,
            ..
        } => RunError::RustStepFailed {
            migration,
            dialect,
            index,
            step,
            message,
            rolled_back: GROUP_ROLLED_BACK,
        },
        other => other,
    }
}

fn apply_step_by_step<C: MigrationConnection>(
    conn: &mut C,
    unit: Unit<'_>,
    attempt: &Attempt<'_>,
    env: Env<'_>,
) -> Result<(), RunError> {
    let (steps_done, started) = (attempt.steps_done, attempt.started);
    let Unit {
        m,
        steps: statements,
        direction,
    } = unit;
    let dialect = conn.dialect();
    let record = |c: &mut C, sql: String| {
        c.execute(&sql)
            .map_err(|e| db(dialect, "writing the history row", e))
    };
    if direction == Direction::Up && steps_done == 0 {
        // A retried or resumed run that had finished nothing finds its row.
        let recorded = conn
            .count_rows(&select_sql(dialect, Some(m.version)))
            .map_err(|e| db(dialect, "reading the history table", e))?
            > 0;
        if !recorded {
            record(conn, insert_sql(dialect, m, &utc_now(), 0, PARTIAL, 0))?;
        }
    }
    let skip = if direction == Direction::Up {
        steps_done
    } else {
        0
    };
    for group in groups(dialect, m, statements, skip) {
        let i = group.start;
        if group.in_transaction {
            // Transactional steps commit with their progress row, so a
            // runner killed between the two cannot run them twice.
            // Without transactional DDL the group is one step, reported as
            // a step outside a transaction: a DDL statement is not undone.
            let rolls_back = dialect.transactional_ddl();
            let done = conn.in_transaction(|c| {
                for k in group.clone_steps() {
                    run_step(
                        c,
                        m,
                        k,
                        &statements[k],
                        direction,
                        i == 0 && rolls_back,
                        env,
                    )?;
                }
                if direction == Direction::Up {
                    record(c, progress_sql(dialect, m.version, group.end))?;
                }
                Ok(())
            });
            if let Err(e) = done {
                if direction == Direction::Up && i == 0 {
                    let _ = conn.execute(&delete_sql(dialect, m.version));
                }
                return Err(if i == 0 || !rolls_back {
                    e
                } else {
                    group_rolled_back(e)
                });
            }
            continue;
        }
        let backfill = matches!(&statements[i], Step::Sql(s) if s.backfill.is_some());
        let set = |c: &mut C, sql: &str| {
            c.execute(sql)
                .map_err(|e| db(dialect, "setting the lock timeout", e))
        };
        let alone = attempt.alone.as_ref().filter(
            |_| matches!(&statements[i], Step::Sql(s) if s.no_queue || s.backfill.is_some()),
        );
        if let Some((raise, _)) = alone {
            set(conn, raise)?;
        }
        let ran = run_step(conn, m, i, &statements[i], direction, false, env);
        if let Some((_, lower)) = alone {
            let lowered = set(conn, lower);
            if ran.is_ok() {
                lowered?;
            }
        }
        if let Err(e) = ran {
            // Nothing finished: no trace is left, so the migration is simply
            // pending (the first statement timed out on a lock, or is wrong).
            if direction == Direction::Up && i == 0 {
                let _ = conn.execute(&delete_sql(dialect, m.version));
            }
            return Err(e);
        }
        if backfill {
            // The finished backfill's cursor goes with its progress row, so
            // a kill in between neither loses the step nor repeats it.
            conn.in_transaction(|c| {
                if direction == Direction::Up {
                    record(c, progress_sql(dialect, m.version, i + 1))?;
                }
                backfill::clear(c, m, i, direction)
                    .map_err(|e| db(dialect, "deleting the finished backfill's cursor", e))
            })?;
            backfill::drop_if_empty(conn)
                .map_err(|e| db(dialect, "dropping the empty backfill cursor table", e))?;
            continue;
        }
        if direction == Direction::Up {
            record(conn, progress_sql(dialect, m.version, i + 1))?;
        }
    }
    match direction {
        Direction::Up => record(
            conn,
            finish_sql(
                dialect,
                m.version,
                &utc_now(),
                started.elapsed().as_millis() as i64,
            ),
        ),
        Direction::Down => record(conn, delete_sql(dialect, m.version)),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn step_by_step_groups_consecutive_transactional_steps() {
        use super::{groups, Group, Step};
        use crate::dialect::{Dialect, Statement};
        use crate::migration::{Migration, MigrationFile};
        let tx = || Step::Sql(Statement::new("SELECT 1"));
        let alone = || Step::Sql(Statement::new("SELECT 2").non_transactional());
        let steps = [tx(), tx(), alone(), alone(), tx()];
        let mut m = Migration {
            version: 1,
            name: "x".into(),
            file_name: "0001_x.toml".into(),
            checksum: String::new(),
            file: MigrationFile::new("x", Vec::new(), Vec::new()),
        };
        let g = |start, end, in_transaction| Group {
            start,
            end,
            in_transaction,
        };
        assert_eq!(
            groups(Dialect::Postgres, &m, &steps, 0),
            [g(0, 2, true), g(2, 3, false), g(3, 4, false), g(4, 5, true)]
        );
        // Resumed after the first step: the rest of its stretch is a group.
        assert_eq!(groups(Dialect::Postgres, &m, &steps, 1)[0], g(1, 2, true));
        // `transaction = false`: one transaction per step.
        m.file.transaction = false;
        assert_eq!(groups(Dialect::Postgres, &m, &steps, 0)[0], g(0, 1, true));
        // No transactional DDL: one step per group, a transactional one in
        // a transaction with its progress row.
        m.file.transaction = true;
        assert_eq!(
            groups(Dialect::Mysql, &m, &steps, 0),
            [
                g(0, 1, true),
                g(1, 2, true),
                g(2, 3, false),
                g(3, 4, false),
                g(4, 5, true)
            ]
        );
    }
}
