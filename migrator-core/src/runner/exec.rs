//! The executor: one loop that runs a plan (`plan/`), in either
//! direction, over a `RunContext` (`context.rs`).
//!
//! Contract:
//! - a run holds the migration lock (`context::locked`) before the history
//!   is read; under it the history is checked, the plan built and checked
//!   (`plan::check_sizes`), then run;
//! - a run of SQLite commit-group migrations goes to `transport::run_group`,
//!   a run of pipelined ones to `transport::run_pipelined`; every other
//!   migration runs alone (`run_one`) under the statement lock timeout,
//!   tried again with backoff while a statement gives up waiting for a
//!   lock (`retry.rs`);
//! - after a pipelined chunk stops, its failing migration (or, when which
//!   one failed is not known, every migration of the chunk) runs alone,
//!   statement by statement: a lock timeout met in the chunk counts as its
//!   first try;
//! - a run that applied or rolled back nothing says so
//!   (`Event::NothingToDo`).

use std::time::Instant;

use super::apply::{self, Attempt};
use super::conn::MigrationConnection;
use super::context::RunContext;
use super::env::Env;
use super::error::RunError;
use super::event::{Event, Report};
use super::history::{self, APPLIED};
use super::plan::{self, Goal, Plan, Strategy, Transport};
use super::retry;
use super::steps;
use super::transport;
use super::waits;
use crate::lock_waits::LockWaits;
use crate::migration::{Direction, MigrationSet};

/// Runs the migrations `goal` asks for, under the lock `ctx` holds.
pub(crate) fn run<C: MigrationConnection>(
    ctx: &mut RunContext<'_, C>,
    set: &MigrationSet,
    goal: Goal,
) -> Result<Report, RunError> {
    check_settings(ctx.conn, ctx.settings)?;
    let rows = plan::checked_history(ctx.conn, set, ctx.settings.newer)?;
    let newer = super::status::newer_rows(set, &rows);
    if !newer.is_empty() {
        ctx.emit(Event::NewerMigrations {
            ids: newer
                .iter()
                .map(|r| format!("{:04}_{}", r.version, r.name))
                .collect(),
            head: set.head(),
        });
    }
    let transport = Transport {
        groups: ctx.settings.groups_commits(ctx.conn.dialect()),
        pipeline: ctx.may_pipeline(),
        batches: !ctx.conn.in_open_transaction(),
    };
    let plan = plan::build(set, &rows, ctx.conn.dialect(), goal, transport)?;
    plan::check_sizes(ctx.conn, &plan)?;
    if !ctx.conn.in_open_transaction() {
        // A runner killed after recording a finished backfill and before
        // dropping the emptied cursor table leaves the table behind; the
        // next run (under the lock) drops it. A table with a row belongs
        // to an unfinished backfill and stays. (Not inside the caller's
        // transaction: MySQL's DROP would commit it.)
        super::backfill::drop_if_empty(ctx.conn).map_err(|e| RunError::Database {
            message: format!("dropping the empty backfill cursor table a killed run left: {e}"),
        })?;
    }
    if plan.direction == Direction::Up {
        refuse_unfilled_placeholders(ctx, &plan)?;
    }
    ctx.execute(&plan)
}

/// Before an `up`: a placeholder backfill (`generate`'s `col = NULL` for a
/// column made NOT NULL without a default) on a table that has NULLs there
/// refuses the run before anything is done, naming what to write. (Run, it
/// would fill nothing and leave the migration PARTIAL at its NULL check.)
fn refuse_unfilled_placeholders<C: MigrationConnection>(
    ctx: &mut RunContext<'_, C>,
    plan: &plan::Plan<'_>,
) -> Result<(), RunError> {
    use crate::ops::Operation;
    for p in &plan.migrations {
        for op in &p.m.file.upgrade {
            let Operation::Backfill(b) = op else { continue };
            if !b.is_placeholder() {
                continue;
            }
            let backend = ctx.conn.dialect().backend();
            let sql = format!(
                "SELECT 1 FROM {} WHERE {}",
                backend.ident(&b.table),
                b.predicate
            );
            let nulls = ctx.conn.count_rows(&sql).map_err(|e| RunError::Database {
                message: format!("{sql}: {e}"),
            })?;
            if nulls > 0 {
                return Err(RunError::Refused(format!(
                    "migration {} refused before changing anything: making `{}.{}` NOT NULL needs a value for its {nulls} row(s) that hold NULL, and its `backfill` step is still the placeholder `generate` wrote (`set = \"{}\"`)\nhelp: write the value those rows get in the step's `set` and run `migrator rehash` (or fill them yourself first); `migrator lint` lists it as unfilled-backfill",
                    p.m.id(),
                    b.table,
                    b.predicate.trim().trim_end_matches("IS NULL").trim(),
                    b.set
                )));
            }
        }
    }
    Ok(())
}

impl<C: MigrationConnection> RunContext<'_, C> {
    /// The one loop: every migration of `plan`, in order, by its strategy.
    pub(crate) fn execute(&mut self, plan: &Plan<'_>) -> Result<Report, RunError> {
        let mut report = Report::default();
        let mut next = 0;
        // After a pipelined chunk stops, these run alone; the first of them
        // may carry the chunk's lock timeout as its first try.
        let mut alone = 0..0;
        let mut first_try: Option<RunError> = None;
        while next < plan.migrations.len() {
            let i = next;
            next += 1;
            match plan.migrations[i].strategy {
                Strategy::SqliteGroup => {
                    let run = plan.run_from(i);
                    next = i + transport::run_group(self, &run, &mut report)?;
                    continue;
                }
                Strategy::Pipelined if !alone.contains(&i) => {
                    let run = plan.run_from(i);
                    if run.len() > 1 {
                        let chunk = transport::run_pipelined(self, &run, &mut report)?;
                        next = i + chunk.committed;
                        (alone, first_try) = chunk.then_alone(i)?;
                        continue;
                    }
                }
                _ => {}
            }
            let tried = first_try.take().filter(|_| alone.start == i);
            let in_chunk = tried.is_some() || alone.contains(&i);
            if self.run_one(plan, i, tried, in_chunk)? {
                report.done.push(plan.migrations[i].m.id());
            }
        }
        if report.done.is_empty() {
            self.emit(Event::NothingToDo);
        }
        Ok(report)
    }

    /// Runs the `k`th migration of `plan` alone, with its events; true when
    /// this run did it. `tried`: its failed first try in a pipelined chunk;
    /// `in_chunk`: it was in a chunk that stopped (so it is not sent as one
    /// batch again).
    fn run_one(
        &mut self,
        plan: &Plan<'_>,
        k: usize,
        tried: Option<RunError>,
        in_chunk: bool,
    ) -> Result<bool, RunError> {
        let p = &plan.migrations[k];
        let (m, direction) = (p.m, plan.direction);
        let steps_done = p.steps_done();
        if steps_done > 0 {
            self.emit(Event::Resuming {
                id: m.id(),
                steps_done,
            });
        }
        self.renew_lock()?;
        self.emit(match direction {
            Direction::Up => Event::Applying { id: m.id() },
            Direction::Down => Event::RollingBack { id: m.id() },
        });
        let started = Instant::now();
        let done = self.with_lock_retries(plan, k, started, tried, in_chunk)?;
        if done {
            let (id, elapsed) = (m.id(), started.elapsed());
            self.emit(match direction {
                Direction::Up => Event::Applied { id, elapsed },
                Direction::Down => Event::RolledBack { id, elapsed },
            });
        }
        Ok(done)
    }

    /// Runs the `k`th migration under the statement lock timeout, trying
    /// it again with backoff while it fails on a lock timeout (`retry.rs`);
    /// a database without lock timeouts (SQLite) runs it once, as it is.
    fn with_lock_retries(
        &mut self,
        plan: &Plan<'_>,
        k: usize,
        started: Instant,
        tried: Option<RunError>,
        in_chunk: bool,
    ) -> Result<bool, RunError> {
        let unit = plan.unit(k);
        let (m, direction) = (unit.m, unit.direction);
        let from = plan.migrations[k].steps_done();
        let backend = self.conn.dialect().backend();
        if !backend.retries_lock_waits() {
            let attempt = Attempt {
                set: None,
                as_batch: false,
                steps_done: from,
                started,
                alone: None,
            };
            return apply::apply(
                self.conn,
                unit,
                &attempt,
                Env::new(self.events, self.lease.as_ref()).watching(self.replicas.as_ref()),
            );
        }
        // Short waits first, growing, then the configured maximum
        // (`lock_waits.rs`); the timeout is set again for each try.
        let max = self.settings.lock_timeout_for(m);
        let waits = self.settings.lock_waits_for(m);
        let attempts = waits.tries() + self.settings.lock_attempts;
        let mut tried = tried;
        let mut attempt = 1;
        loop {
            let outcome = match tried.take() {
                Some(e) => Err(e),
                None => {
                    // A retried step-by-step run resumes from what it
                    // recorded.
                    // A database that sends batches gets the `SET` in the
                    // migration's batch when it is sent as one
                    // (`apply::apply`); the others on its own, here.
                    let timeout = waits.wait(attempt).unwrap_or(max);
                    let set = if backend.sends_batches() {
                        Some(self.timeouts.prepare(
                            self.conn,
                            timeout,
                            self.settings.statement_timeout,
                        )?)
                    } else {
                        self.timeouts.set(self.conn, timeout, None)?;
                        None
                    };
                    let steps_done = if attempt == 1 || direction == Direction::Down {
                        from
                    } else {
                        history::read(self.conn)?
                            .iter()
                            .find(|r| r.version == i64::from(m.version))
                            .map_or(0, |r| r.steps_done.max(0) as usize)
                    };
                    let alone = (backend.sends_batches() && timeout < max).then(|| {
                        (
                            backend.lock_timeout_sql(max),
                            backend.lock_timeout_sql(timeout),
                        )
                    });
                    let try_ = Attempt {
                        set: set.as_deref(),
                        as_batch: attempt == 1 && !in_chunk,
                        steps_done,
                        started,
                        alone,
                    };
                    apply::apply(
                        self.conn,
                        unit,
                        &try_,
                        Env::new(self.events, self.lease.as_ref()).watching(self.replicas.as_ref()),
                    )
                }
            };
            match outcome {
                Err(e) if retry::is_lock_timeout(&e) => {
                    let (index, sql) = match &e {
                        RunError::Statement { index, sql, .. } => (*index, sql.clone()),
                        RunError::RustStepFailed { index, step, .. } => {
                            (*index, format!("Rust step `{step}`"))
                        }
                        _ => (0, String::new()),
                    };
                    if attempt >= attempts {
                        // Step by step, a run that finished nothing leaves
                        // no history row (apply.rs): then nothing changed.
                        let dialect = self.conn.dialect();
                        let in_tx = apply::runs_in_transaction(dialect, m, unit.steps)
                            || history::read(self.conn).is_ok_and(|rows| {
                                !rows.iter().any(|r| r.version == i64::from(m.version))
                            });
                        return Err(RunError::LockRetriesExhausted {
                            migration: m.id(),
                            attempts: attempt,
                            timeout_ms: max.as_millis(),
                            tries: self.settings.describe_tries(self.conn.dialect(), m),
                            index,
                            sql,
                            blocking: waits::blockers(self.conn),
                            state: if in_tx {
                                "nothing of the migration is left: the database is as it was before it"
                            } else {
                                "the statements before this one are done and recorded; `migrator up` resumes from this statement"
                            },
                        });
                    }
                    let short = waits.tries();
                    let wait = if attempt <= short {
                        retry::jitter(LockWaits::sleep(attempt))
                    } else {
                        retry::backoff(self.settings.retry_backoff, attempt - short)
                    };
                    // A statement that runs alone at the maximum during the
                    // short tries (`Attempt::alone`) waited the maximum, and
                    // its next try, which resumes at it, will again.
                    let raised = backend.sends_batches()
                        && unit.steps.get(index.wrapping_sub(1)).is_some_and(|s| {
                            matches!(s, steps::Step::Sql(s) if s.no_queue || s.backfill.is_some())
                        });
                    let wait_of = |n: u32| {
                        if raised {
                            max
                        } else {
                            waits.wait(n).unwrap_or(max)
                        }
                    };
                    self.emit(Event::LockRetry {
                        id: m.id(),
                        statement: sql,
                        attempt,
                        attempts,
                        timeout: backend.effective_lock_wait(wait_of(attempt)),
                        next_timeout: backend.effective_lock_wait(wait_of(attempt + 1)),
                        wait,
                    });
                    std::thread::sleep(wait);
                    attempt += 1;
                }
                // A history write that waited inside the migration ran
                // under the migration's own bound.
                Err(RunError::LockWait {
                    what,
                    dialect,
                    waited: None,
                    blocking,
                }) => {
                    return Err(RunError::LockWait {
                        what,
                        dialect,
                        waited: Some(waits.wait(attempt).unwrap_or(max)),
                        blocking,
                    })
                }
                other => return other,
            }
        }
    }
}

/// Settings the connection's database cannot honour, refused before
/// anything runs.
pub(crate) fn check_settings<C: MigrationConnection>(
    conn: &mut C,
    settings: &super::settings::Settings,
) -> Result<(), RunError> {
    super::replica::check(conn.dialect(), settings)
}

/// `Some(k)` when the history records exactly the first `k` migrations of
/// `set`, all applied and matching their files; `None` for anything else.
/// One round trip where the database folds the history
/// (`history::applied_prefix_or_wait`), the rows and their check on MySQL.
pub(crate) fn applied_prefix<C: MigrationConnection>(
    conn: &mut C,
    set: &MigrationSet,
) -> Result<Option<usize>, RunError> {
    if history::folds_prefix(conn.dialect()) {
        return history::applied_prefix_or_wait(conn, set);
    }
    let rows = history::read(conn)?;
    // Refused newer rows and no gaps: the rows are exactly 1..=len.
    let exact = super::status::check_history(set, &rows, super::status::NewerMigrations::Refuse)
        .is_ok()
        && rows.iter().all(|r| r.state == APPLIED);
    Ok(exact.then_some(rows.len()))
}

/// Whether every migration up to `target` is applied, read without the
/// lock: the start-up fast path of `up` (see `Migrator::up_to`).
pub(crate) fn up_to_date<C: MigrationConnection>(
    conn: &mut C,
    set: &MigrationSet,
    target: Option<u32>,
    newer: super::status::NewerMigrations,
) -> Result<bool, RunError> {
    let target = target.unwrap_or(set.head());
    if target > set.head() {
        return Ok(false);
    }
    if history::folds_prefix(conn.dialect()) {
        return Ok(
            history::applied_prefix_or_wait(conn, set)?.is_some_and(|k| k >= target as usize)
        );
    }
    // Two round trips (the table's existence, then its rows): a query
    // on a missing table would abort a caller's open PostgreSQL
    // transaction.
    let rows = match history::read(conn) {
        Ok(rows) => rows,
        Err(e @ RunError::LockWait { .. }) => return Err(e),
        Err(_) => return Ok(false),
    };
    // Versions are the table's key: `target` applied rows at or below
    // it are exactly 1..=target.
    Ok(super::status::check_history(set, &rows, newer).is_ok()
        && rows
            .iter()
            .filter(|r| r.version <= i64::from(target) && r.state == APPLIED)
            .count()
            == target as usize)
}
