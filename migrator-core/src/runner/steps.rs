//! What the runner executes for one migration: its rendered statements and
//! its Rust steps, in file order.
//!
//! Contract:
//! - a migration becomes a list of [`Step`]s: each typed or SQL operation
//!   contributes its statements, each Rust step one call of its function;
//!   `steps_done` in the history counts these steps;
//! - a Rust step the set does not link (a set read from files, as in the
//!   CLI) is refused before anything runs, with a message pointing to the
//!   application; a Rust step without a function (the inverse of a step
//!   without `reverse`) makes the migration irreversible;
//! - a Rust step runs on the migration's connection, inside its transaction
//!   when it has one; its error, or its panic, fails the migration, which is
//!   then rolled back like a failed statement.

use std::panic::{catch_unwind, AssertUnwindSafe};

use super::conn::MigrationConnection;
use super::env::Env;
use super::error::RunError;
use super::event::Event;
use crate::dialect::{Dialect, Statement};
use crate::migration::{
    Direction, Migration, MigrationSet, RustStepContext, RustStepFn, RustStepResult, StepConnection,
};
use crate::ops::Operation;

/// One thing to execute.
#[derive(Debug, Clone)]
pub(crate) enum Step {
    Sql(Statement),
    Rust { name: String, f: RustStepFn },
}

impl Step {
    /// Rust steps run in the migration's transaction: they are as
    /// transactional as the statements around them.
    pub(crate) fn transactional(&self) -> bool {
        match self {
            Step::Sql(s) => s.transactional,
            Step::Rust { .. } => true,
        }
    }

    /// How `--dry-run` shows it.
    pub(crate) fn shown(&self) -> String {
        match self {
            Step::Sql(s) => s.to_string(),
            Step::Rust { name, .. } => {
                format!("-- Rust step `{name}` (a `#[migration]` function of this program)")
            }
        }
    }
}

impl<C: MigrationConnection> StepConnection for C {
    fn execute_sql(&mut self, sql: &str) -> RustStepResult {
        MigrationConnection::execute(self, sql).map_err(Into::into)
    }

    fn as_any_mut(&mut self) -> &mut dyn std::any::Any {
        MigrationConnection::as_any_mut(self)
    }
}

/// The steps of migration `m` in `direction` on `dialect`.
/// How many steps [`steps`] makes of `m` (what the runner records as
/// `steps_done` once it is applied), without needing its Rust steps to be
/// linked: for recording migrations as applied without running them.
pub(crate) fn count(
    set: &MigrationSet,
    m: &Migration,
    dialect: Dialect,
    direction: Direction,
) -> Result<usize, RunError> {
    let ops = match direction {
        Direction::Up => &m.file.upgrade,
        Direction::Down => &m.file.downgrade,
    };
    let rendered = set.render(dialect, m.version, direction)?;
    Ok(ops
        .iter()
        .zip(rendered)
        .map(|(op, statements)| match op {
            Operation::Rust { .. } => 1,
            _ => statements.len(),
        })
        .sum())
}

pub(crate) fn steps(
    set: &MigrationSet,
    m: &Migration,
    dialect: Dialect,
    direction: Direction,
) -> Result<Vec<Step>, RunError> {
    let ops = match direction {
        Direction::Up => &m.file.upgrade,
        Direction::Down => &m.file.downgrade,
    };
    // Refused before rendering, so the message is about the Rust step and
    // nothing has run.
    for (i, op) in ops.iter().enumerate() {
        if let Operation::Rust { name, .. } = op {
            if name.is_empty() {
                return Err(RunError::Irreversible {
                    migration: m.id(),
                    step: i + 1,
                });
            }
            if set.rust_step(name).is_none() {
                return Err(RunError::RustStep {
                    migration: m.id(),
                    step: name.clone(),
                });
            }
        }
    }
    let rendered = set.render(dialect, m.version, direction)?;
    let mut out = Vec::new();
    for (op, statements) in ops.iter().zip(rendered) {
        match op {
            Operation::Rust { name, .. } => {
                if let Some(f) = set.rust_step(name) {
                    out.push(Step::Rust {
                        name: name.clone(),
                        f,
                    });
                }
            }
            _ => out.extend(statements.into_iter().map(Step::Sql)),
        }
    }
    Ok(out)
}

pub(crate) const ROLLED_BACK: &str =
    "\n  the migration was rolled back: the database is as it was before it";

const NOT_ROLLED_BACK: &str = "\n  this migration runs outside a transaction: the statements before this one are done and recorded; fix the cause and run `migrator up` again to resume from this statement";

/// Runs step `index` (0-based) of `m`. `in_tx` only chooses the message;
/// `env` receives a backfill's progress and extends the lease.
pub(crate) fn run_step<C: MigrationConnection>(
    conn: &mut C,
    m: &Migration,
    index: usize,
    step: &Step,
    direction: Direction,
    in_tx: bool,
    env: Env<'_>,
) -> Result<(), RunError> {
    let dialect = conn.dialect();
    let rolled_back = if in_tx { ROLLED_BACK } else { NOT_ROLLED_BACK };
    match step {
        // Its batches, each in its own transaction (`backfill.rs`).
        Step::Sql(Statement {
            backfill: Some(plan),
            ..
        }) => super::backfill::run(conn, m, index, plan, direction, env),
        Step::Sql(s) => {
            let fail = |message: String| RunError::Statement {
                migration: m.id(),
                dialect,
                index: index + 1,
                sql: s.sql.clone(),
                message,
                rolled_back,
            };
            if let Some(c) = &s.cleanup {
                let needed = conn
                    .count_rows(&c.when)
                    .map_err(|e| fail(format!("evaluating its cleanup guard `{}`: {e}", c.when)))?;
                if needed > 0 {
                    conn.execute(&c.sql)
                        .map_err(|e| fail(format!("cleaning up first with `{}`: {e}", c.sql)))?;
                }
            }
            if let Some(q) = &s.skip_if {
                let present = conn
                    .count_rows(q)
                    .map_err(|e| fail(format!("evaluating its guard `{q}`: {e}")))?;
                if present > 0 {
                    return Ok(());
                }
            }
            if let Some(notice) = &s.notice {
                let rows = conn
                    .count_rows(&s.sql)
                    .map_err(|e| fail(format!("checking what to report: {e}")))?;
                if rows > 0 {
                    env.emit(Event::Notice {
                        id: m.id(),
                        message: notice.clone(),
                    });
                }
                return Ok(());
            }
            if s.refuses {
                let losses = conn
                    .query_texts(&s.sql)
                    .map_err(|e| fail(format!("checking what it would lose: {e}")))?;
                if let (false, Some(refusal)) = (losses.is_empty(), &s.refusal) {
                    return Err(fail(format!(
                        "{}: {refusal}:\n    - {}",
                        if s.after_change {
                            "stopped after the statements before this check, which are done and recorded"
                        } else {
                            "refused before changing anything"
                        },
                        losses.join("\n    - ")
                    )));
                }
                if !losses.is_empty() {
                    return Err(fail(format!(
                        "refused before changing anything: the next statements would lose what the model does not describe:\n    - {}\n  help: describe it in the model, remove it from the database first, or write this change as a raw SQL migration that keeps it",
                        losses.join("\n    - ")
                    )));
                }
                return Ok(());
            }
            if s.each_row {
                let generated = conn
                    .query_texts(&s.sql)
                    .map_err(|e| fail(format!("reading the statements to run: {e}")))?;
                for sql in generated {
                    conn.execute(&sql)
                        .map_err(|e| fail(format!("running `{sql}`, which it returned: {e}")))?;
                }
                return Ok(());
            }
            conn.execute(&s.sql).map_err(|e| fail(e.to_string()))
        }
        Step::Rust { name, f } => {
            let id = m.id();
            let mut ctx = RustStepContext::new(conn, dialect, &id, direction);
            // A panic must not unwind through the transaction: it fails the
            // migration like an error, and the transaction is rolled back.
            let result = catch_unwind(AssertUnwindSafe(|| f(&mut ctx)))
                .unwrap_or_else(|panic| Err(panic_message(&panic).into()));
            result.map_err(|e| RunError::RustStepFailed {
                migration: id.clone(),
                dialect,
                index: index + 1,
                step: name.clone(),
                message: e.to_string(),
                rolled_back,
            })
        }
    }
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    let text = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".to_string());
    format!("panicked: {text}")
}
