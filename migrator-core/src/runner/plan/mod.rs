//! The plan of a run, built once before anything runs: every migration to
//! apply (`up`) or roll back (`down`), in order, with its steps and the
//! strategy it runs by. The executor (`exec.rs`) runs a plan; `--dry-run`
//! renders it ([`render`]), so what a dry run shows is what a run does,
//! transport included.
//!
//! Contract:
//! - the history is checked against the files first (`status.rs`), then
//!   every migration of the plan is rendered and its Rust steps looked up:
//!   a migration this program cannot run stops the run with nothing done;
//! - `down` refuses a partially applied migration in its range, and a
//!   history row without its file;
//! - a strategy is chosen per migration from what it is (one transaction
//!   or step by step on this database, `apply::runs_in_transaction`), what
//!   its steps are (plain statements that can travel as one batch,
//!   `apply::batchable`) and what the run allows ([`Transport`]: SQLite
//!   commit groups, PostgreSQL pipelining, batches outside a caller's
//!   transaction);
//! - MySQL/MariaDB: before a run sends anything, every statement is checked
//!   against the server's `max_allowed_packet` ([`check_sizes`]).

use super::apply::{self, Unit};
use super::conn::{HistoryRow, MigrationConnection};
use super::error::RunError;
use super::event::Report;
use super::history::{self, APPLIED, PARTIAL};
use super::lock;
use super::settings::Settings;
use super::status;
use super::steps::{self, Step};
use super::topology::{self, Topology};
use crate::dialect::Dialect;
use crate::migration::{Direction, Migration, MigrationSet};

/// How one planned migration runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Strategy {
    /// In one transaction with its history row; `batch`: PostgreSQL sends
    /// it as one batch (`SET ..; BEGIN; ..; COMMIT`) on its first try.
    OneTransaction { batch: bool },
    /// Step by step from step `from` (0-based; more than 0 when an
    /// interrupted run resumes), `steps_done` recorded after each step or
    /// short transaction of steps (`apply::groups`).
    StepByStep { from: usize },
    /// SQLite: in a savepoint of a transaction shared with the
    /// neighbouring migrations of the same strategy, committed together.
    SqliteGroup,
    /// PostgreSQL: one batch, pipelined with the neighbouring migrations
    /// of the same strategy (several batches in one query, each its own
    /// transaction).
    Pipelined,
}

/// One migration of a plan.
#[derive(Debug)]
pub(crate) struct Planned<'s> {
    pub m: &'s Migration,
    pub steps: Vec<Step>,
    pub strategy: Strategy,
}

impl Planned<'_> {
    /// The steps already done (an interrupted step-by-step run).
    pub(crate) fn steps_done(&self) -> usize {
        match self.strategy {
            Strategy::StepByStep { from } => from,
            _ => 0,
        }
    }
}

/// Every migration a run applies or rolls back, in order.
#[derive(Debug)]
pub(crate) struct Plan<'s> {
    pub direction: Direction,
    pub migrations: Vec<Planned<'s>>,
}

impl<'s> Plan<'s> {
    /// The `k`th migration as the executor runs it.
    pub(crate) fn unit(&self, k: usize) -> Unit<'_> {
        let p = &self.migrations[k];
        Unit {
            m: p.m,
            steps: &p.steps,
            direction: self.direction,
        }
    }

    /// The migrations from `k` on that share the `k`th one's strategy, as
    /// the executor runs them (a commit group, a pipelined run).
    pub(crate) fn run_from(&self, k: usize) -> Vec<Unit<'_>> {
        let strategy = self.migrations[k].strategy;
        (k..self.migrations.len())
            .take_while(|&j| self.migrations[j].strategy == strategy)
            .map(|j| self.unit(j))
            .collect()
    }
}

/// Where a run goes: `Up(None)` applies everything pending, `Up(Some(v))`
/// up to and including `v`, `Down(v)` rolls back everything newer than `v`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Goal {
    Up(Option<u32>),
    Down(u32),
}

/// What the run lets the transport do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Transport {
    /// SQLite commit groups (`Migrator::commit_group` not zero).
    pub groups: bool,
    /// PostgreSQL pipelining: not inside the caller's own transaction (a
    /// chunk's `COMMIT`s would end it), not under a leased lock row (its
    /// lease is renewed between queries, and a chunk's length is not known
    /// in advance), not with a `statement_timeout` (before PostgreSQL 13 it
    /// covers a whole query).
    pub pipeline: bool,
    /// PostgreSQL one-batch migrations: not inside the caller's own
    /// transaction.
    pub batches: bool,
}

/// Reads the history and refuses it when it disagrees with the files.
pub(crate) fn checked_history<C: MigrationConnection>(
    conn: &mut C,
    set: &MigrationSet,
    newer: status::NewerMigrations,
) -> Result<Vec<HistoryRow>, RunError> {
    let rows = history::read(conn)?;
    status::check_history(set, &rows, newer)?;
    Ok(rows)
}

/// The plan for `goal` from the (checked) history `rows`.
pub(crate) fn build<'s>(
    set: &'s MigrationSet,
    rows: &[HistoryRow],
    dialect: Dialect,
    goal: Goal,
    transport: Transport,
) -> Result<Plan<'s>, RunError> {
    // (migration, steps done, steps), in the order they run.
    let mut pending = Vec::new();
    let applied: Vec<u32> = rows
        .iter()
        .filter(|r| r.state == APPLIED)
        .map(|r| r.version as u32)
        .collect();
    let (up, target) = match goal {
        Goal::Up(t) => (true, t.unwrap_or(set.head())),
        Goal::Down(t) => (false, t),
    };
    if let Some(why) = crate::squash::refuse_partial(set, &applied, up, target) {
        return Err(RunError::History(why));
    }
    let direction = match goal {
        Goal::Up(target) => {
            let target = target.unwrap_or(set.head());
            if target > set.head() {
                return Err(RunError::NoSuchVersion(format!(
                    "cannot migrate up to {target:04}: the newest migration is {:04}",
                    set.head()
                )));
            }
            for m in &set.migrations {
                if m.version > target {
                    break;
                }
                let row = rows.iter().find(|r| r.version == m.version as i64);
                if row.is_some_and(|r| r.state == APPLIED) {
                    continue;
                }
                let steps_done = row.map_or(0, |r| r.steps_done.max(0) as usize);
                let steps = steps::steps(set, m, dialect, Direction::Up)?;
                pending.push((m, steps_done, steps));
            }
            Direction::Up
        }
        Goal::Down(target) => {
            let mut applied: Vec<&HistoryRow> =
                rows.iter().filter(|r| r.version as u32 > target).collect();
            applied.sort_by_key(|r| std::cmp::Reverse(r.version));
            for row in applied {
                let m = set.get(row.version as u32).ok_or_else(|| {
                    if status::is_newer(set, row) {
                        RunError::History(format!(
                            "migration {:04}_{} was applied by a newer release and is not in these migrations (they end at {:04}): it cannot be rolled back from here\nhelp: roll it back with the release that has it, then run this one",
                            row.version,
                            row.name,
                            set.head()
                        ))
                    } else {
                        RunError::History(format!("migration {:04} is missing", row.version))
                    }
                })?;
                if row.state != APPLIED {
                    return Err(RunError::Partial(format!(
                        "migration {} is partially applied ({} statement(s) done); run `migrator up` to finish it before rolling back",
                        m.id(),
                        row.steps_done
                    )));
                }
                pending.push((m, 0, steps::steps(set, m, dialect, Direction::Down)?));
            }
            Direction::Down
        }
    };
    let groups = transport.groups && dialect.backend().commits_in_groups();
    let candidate = |m: &Migration, done: usize, s: &[Step]| {
        transport.pipeline && done == 0 && apply::batchable(dialect, m, s)
    };
    let strategies: Vec<Strategy> = pending
        .iter()
        .enumerate()
        .map(|(k, (m, done, steps))| {
            let one_tx = apply::runs_in_transaction(dialect, m, steps);
            // A pipelined run is two or more batchable migrations in a row.
            let neighbour = |j: Option<usize>| {
                j.and_then(|j| pending.get(j))
                    .is_some_and(|(m, d, s)| candidate(m, *d, s))
            };
            if groups && *done == 0 && one_tx {
                Strategy::SqliteGroup
            } else if candidate(m, *done, steps)
                && (neighbour(k.checked_sub(1)) || neighbour(Some(k + 1)))
            {
                Strategy::Pipelined
            } else if one_tx {
                Strategy::OneTransaction {
                    batch: transport.batches && *done == 0 && apply::batchable(dialect, m, steps),
                }
            } else {
                Strategy::StepByStep { from: *done }
            }
        })
        .collect();
    let migrations = pending
        .into_iter()
        .zip(strategies)
        .map(|((m, _, steps), strategy)| Planned { m, steps, strategy })
        .collect();
    Ok(Plan {
        direction,
        migrations,
    })
}

/// The SQL a run for `goal` would send, without sending it (the history
/// table is read if it exists, nothing is written), with the safety lint's
/// findings for an `up`.
pub(crate) fn dry_run<C: MigrationConnection>(
    conn: &mut C,
    set: &MigrationSet,
    settings: &Settings,
    goal: Goal,
) -> Result<Report, RunError> {
    let dialect = conn.dialect();
    let rows = checked_history(conn, set, settings.newer)?;
    let mut report = Report::default();
    if let Goal::Up(target) = goal {
        let target = target.unwrap_or(set.head());
        if target <= set.head() && !history::exists(conn)? {
            report.sql.push(history::create_sql(dialect) + ";");
        }
    }
    // What the connection is decides the lock a run would take (and so
    // whether it may pipeline) and, on a Galera node, the lint's Galera
    // pass. Found out without taking anything.
    let topology = topology::detect(conn).ok();
    let outside = !conn.in_open_transaction();
    let pipeline = outside
        && settings.statement_timeout.is_none()
        && dialect.backend().sends_batches()
        && topology.as_ref().is_some_and(|t| {
            lock::row_only(dialect, settings.lock_mode, t).is_ok_and(|row_only| !row_only)
        });
    let transport = Transport {
        groups: settings.groups_commits(dialect),
        pipeline,
        batches: outside,
    };
    let plan = build(set, &rows, dialect, goal, transport)?;
    // Under TOI a Galera node's DDL blocks the cluster (`lint/galera.rs`);
    // under RSU a node applies DDL alone.
    let galera = plan.direction == Direction::Up
        && matches!(topology, Some(Topology::Galera { ref osu_method, .. })
            if osu_method.eq_ignore_ascii_case("TOI"));
    render(&mut report, set, settings, dialect, &plan, galera);
    Ok(report)
}

/// Appends the exact SQL of `plan` to a dry-run report, each migration
/// with its session settings, how it travels, its statements and its
/// history writes; for an `up`, the lint's findings (`galera`: with the
/// Galera pass), rules a migration's own `allow` list names left out.
pub(crate) fn render(
    report: &mut Report,
    set: &MigrationSet,
    settings: &Settings,
    dialect: Dialect,
    plan: &Plan<'_>,
    galera: bool,
) {
    for p in &plan.migrations {
        let m = p.m;
        report.sql.extend(settings.dry_run_settings(dialect, m));
        if plan.direction == Direction::Up {
            let findings = set.with_state(m.version as usize - 1, |start| {
                let mut f = crate::lint::lint_migration(m, start, &[dialect]);
                if galera {
                    f.extend(crate::lint::lint_galera_migration(m, start));
                }
                f
            });
            report.findings.extend(
                findings
                    .into_iter()
                    .filter(|f| !m.file.allow.iter().any(|a| a == f.rule.name)),
            );
        }
        render_one(report, dialect, p, plan.direction, settings);
    }
}

/// How a migration travels, as a dry run's comment line (none for a plain
/// transaction).
fn transport_line(strategy: Strategy, settings: &Settings) -> Option<String> {
    match strategy {
        Strategy::OneTransaction { batch: false } => None,
        Strategy::OneTransaction { batch: true } => Some(
            "-- sent as one batch: the SET, the transaction and its history row in one round trip".into(),
        ),
        Strategy::Pipelined => Some(
            "-- pipelined: sent with the neighbouring batched migrations in one query (2 to 64 a query), each in its own transaction".into(),
        ),
        Strategy::SqliteGroup => Some(format!(
            "-- SQLite commit group: in a savepoint of one transaction with the neighbouring migrations, committed together (groups stay open at most {} ms)",
            settings.commit_group.as_millis()
        )),
        Strategy::StepByStep { from: 0 } => None,
        Strategy::StepByStep { from } => Some(format!(
            "-- resumes step by step from step {}: {from} step(s) are done and recorded",
            from + 1
        )),
    }
}

/// The exact SQL of one planned migration.
fn render_one(
    report: &mut Report,
    dialect: Dialect,
    p: &Planned<'_>,
    direction: Direction,
    settings: &Settings,
) {
    let (m, statements) = (p.m, p.steps.as_slice());
    let word = match direction {
        Direction::Up => "upgrade",
        Direction::Down => "downgrade",
    };
    report.sql.push(format!("-- {} ({word})", m.id()));
    report.sql.extend(transport_line(p.strategy, settings));
    let now = "<now>";
    if !matches!(p.strategy, Strategy::StepByStep { .. }) {
        report.sql.push("BEGIN;".into());
        report.sql.extend(statements.iter().map(Step::shown));
        let record = match direction {
            Direction::Up => history::insert_sql(dialect, m, now, 0, APPLIED, statements.len()),
            Direction::Down => history::delete_sql(dialect, m.version),
        };
        report.sql.push(format!("{record};"));
        report.sql.push("COMMIT;".into());
        return;
    }
    if !dialect.transactional_ddl() {
        report.sql.push(
            "-- MySQL commits DDL implicitly, so this migration runs step by step: progress is recorded after each statement (a data step commits with it), and an interrupted run is reported as partial and resumed at the next statement".into(),
        );
    } else {
        report.sql.push(
            "-- runs step by step, recording progress after each statement or transaction".into(),
        );
    }
    let steps_done = p.steps_done();
    if direction == Direction::Up && steps_done == 0 {
        report.sql.push(format!(
            "{};",
            history::insert_sql(dialect, m, now, 0, PARTIAL, 0)
        ));
    }
    let skip = if direction == Direction::Up {
        steps_done
    } else {
        0
    };
    for g in apply::groups(dialect, m, statements, skip) {
        if g.in_transaction {
            report.sql.push("BEGIN;".into());
        }
        report
            .sql
            .extend(statements[g.start..g.end].iter().map(Step::shown));
        if direction == Direction::Up {
            report.sql.push(format!(
                "{};",
                history::progress_sql(dialect, m.version, g.end)
            ));
        }
        if g.in_transaction {
            report.sql.push("COMMIT;".into());
        }
    }
    report.sql.push(match direction {
        Direction::Up => format!("{};", history::finish_sql(dialect, m.version, now, 0)),
        Direction::Down => format!("{};", history::delete_sql(dialect, m.version)),
    });
}

/// MySQL/MariaDB: refuses a run before it sends anything when a statement
/// of the plan is larger than the server's `max_allowed_packet` (read
/// once): the server would drop the connection mid-migration ("server has
/// gone away"). Other databases: nothing.
pub(crate) fn check_sizes<C: MigrationConnection>(
    conn: &mut C,
    plan: &Plan<'_>,
) -> Result<(), RunError> {
    if !conn.dialect().backend().checks_packet_size() {
        return Ok(());
    }
    let largest = plan
        .migrations
        .iter()
        .flat_map(|p| {
            p.steps
                .iter()
                .enumerate()
                .filter_map(move |(i, s)| match s {
                    Step::Sql(st) => Some((p.m, i, st.sql.len())),
                    Step::Rust { .. } => None,
                })
        })
        .max_by_key(|(_, _, n)| *n);
    let Some((m, index, bytes)) = largest else {
        return Ok(());
    };
    // Far below any server's limit (at least 1 KiB; 16 MiB by default):
    // no round trip.
    if bytes < 1024 {
        return Ok(());
    }
    let limit: u64 = conn
        .query_texts("SELECT CAST(@@max_allowed_packet AS CHAR) AS s")
        .map_err(|e| RunError::Database {
            message: format!("reading max_allowed_packet: {e}"),
        })?
        .first()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(u64::MAX);
    // The packet also carries the command byte; keep a little room.
    if bytes as u64 + 64 > limit {
        return Err(RunError::StatementTooLarge {
            migration: m.id(),
            statement_index: index + 1,
            bytes,
            limit,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests;
