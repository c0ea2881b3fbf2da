//! SQL rendering: operations to statements, one module per database.
//!
//! Contract:
//! - `render_op(d, op, before)` turns one operation into the statements that
//!   perform it on dialect `d`, given the modelled schema *before* the
//!   operation (the SQLite table rebuild needs the whole table);
//! - every statement is idempotent: it uses `IF [NOT] EXISTS` where the
//!   dialect has it, and otherwise carries a `skip_if` catalog query that
//!   returns a row when the effect is already present, which the runner
//!   evaluates before the statement (and `migrator sql` prints as a comment);
//! - every statement says whether it may run inside a transaction;
//! - identifiers are always quoted and string literals always escaped, so a
//!   name or default cannot inject SQL; the fragments copied verbatim
//!   (`sql:` types, SQL defaults, checks, backfills) are checked by
//!   [`crate::sql_fragment`] before anything is rendered.

mod archive;
pub mod backfill;
mod prechecks;
#[cfg(test)]
mod tests;

pub use crate::backend::mysql::render as mysql;
pub use crate::backend::postgres::render as postgres;
pub use crate::backend::sqlite::render as sqlite;

use std::fmt;
use std::str::FromStr;

use crate::ops::Operation;
use crate::schema::Schema;

/// A database dialect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Dialect {
    Postgres,
    Sqlite,
    Mysql,
}

impl Dialect {
    pub const ALL: [Dialect; 3] = [Dialect::Postgres, Dialect::Sqlite, Dialect::Mysql];

    /// The longest identifier the database keeps as written: PostgreSQL
    /// cuts names to 63 bytes (NAMEDATALEN - 1), MySQL and MariaDB refuse
    /// names over 64 characters, SQLite has no limit.
    pub fn max_identifier_len(self) -> Option<usize> {
        self.backend().max_identifier_len()
    }

    /// The length of `name` in the unit of [`Dialect::max_identifier_len`].
    pub fn identifier_len(self, name: &str) -> usize {
        self.backend().identifier_len(name)
    }

    /// The lowercase name used in files, flags and `RawSql` variants.
    pub fn name(self) -> &'static str {
        self.backend().name()
    }

    /// Whether DDL in this dialect can be rolled back with its transaction.
    pub fn transactional_ddl(self) -> bool {
        self.backend().transactional_ddl()
    }

    /// Quotes an identifier, doubling any embedded quote character.
    pub fn ident(self, name: &str) -> String {
        self.backend().ident(name)
    }

    /// Quotes a string literal. MySQL also treats backslash as an escape
    /// character by default, so it is doubled there.
    pub fn string(self, value: &str) -> String {
        self.backend().string(value)
    }
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Dialect {
    type Err = String;
    fn from_str(s: &str) -> Result<Dialect, String> {
        let lower = s.to_ascii_lowercase();
        Dialect::ALL
            .into_iter()
            .find(|d| d.backend().aliases().contains(&lower.as_str()))
            .ok_or_else(|| {
                format!("unknown dialect `{s}`; expected `postgres`, `sqlite` or `mysql`")
            })
    }
}

/// One SQL statement and how to run it.
///
/// `transactional: false` means "outside the migration's transaction": the
/// database refuses it inside one (`CREATE INDEX CONCURRENTLY`), or it must
/// not hold the locks taken by the statements before it while it works
/// (`VALIDATE CONSTRAINT` after `ADD CONSTRAINT .. NOT VALID`). A migration
/// with such a statement runs step by step (see `runner`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    pub sql: String,
    /// A catalog query; when it returns at least one row the statement's
    /// effect is already present and the statement is skipped.
    pub skip_if: Option<String>,
    /// False for statements that run outside the migration's transaction.
    pub transactional: bool,
    /// Run first, every time the statement runs (a resumed or retried run
    /// included), when its guard returns a row: the removal of what a
    /// failed earlier attempt of this statement left behind (an INVALID
    /// index after a cancelled `CREATE INDEX CONCURRENTLY`).
    pub cleanup: Option<Cleanup>,
    /// True when `sql` is a query whose rows (one text column named `s`)
    /// are statements, executed in order by the runner. SQLite cannot run
    /// dynamic SQL, so this is how a rendered migration replays what only
    /// the live database knows: the triggers a table rebuild must
    /// recreate, saved from `sqlite_master` before the old table is
    /// dropped.
    pub each_row: bool,
    /// True when `sql` is a check: a query whose rows (one text column
    /// named `s`) each name something the next statements would destroy.
    /// When it returns a row the runner refuses the migration, before the
    /// statements after it run, listing them (the SQLite table rebuild uses
    /// it for what the model does not describe and the rebuild cannot
    /// carry over: columns, collations, table options, constraints).
    pub refuses: bool,
    /// For a [`Statement::refuses`] check whose rows are not losses: what
    /// the refusal says before listing them, with its help line.
    pub refusal: Option<String>,
    /// For a [`Statement::refuses`] check placed after statements that
    /// changed the schema (a foreign key added without checking, then
    /// checked): the refusal says the migration stopped there, not that
    /// nothing changed.
    pub after_change: bool,
    /// When set, `sql` is a query and this the notice the runner reports
    /// (`Event::Notice`) when it returns a row; nothing else runs. A
    /// downgrade says so what it could not restore (an archive purged).
    pub notice: Option<String>,
    /// A statement outside a transaction whose lock the application's
    /// reads and writes never queue behind (PostgreSQL's concurrent index
    /// builds and drops, `VALIDATE`, a backfill: at most SHARE UPDATE
    /// EXCLUSIVE or row locks): it keeps the maximum lock wait during the
    /// short tries (`lock_waits.rs`). A raw step outside a transaction may
    /// take anything, so it does not get this.
    pub no_queue: bool,
    /// A batched backfill: the runner runs its batches (see
    /// [`backfill`]) instead of `sql`, which only shows the first one.
    pub backfill: Option<Box<backfill::BackfillPlan>>,
}

/// See [`Statement::cleanup`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cleanup {
    /// Returns a row when there is something to clean up.
    pub when: String,
    pub sql: String,
}

impl Statement {
    pub fn new(sql: impl Into<String>) -> Statement {
        Statement {
            sql: sql.into(),
            skip_if: None,
            transactional: true,
            cleanup: None,
            each_row: false,
            refuses: false,
            refusal: None,
            after_change: false,
            notice: None,
            no_queue: false,
            backfill: None,
        }
    }

    /// A notice reported when `query` returns a row (see
    /// [`Statement::notice`]).
    pub fn notice_when_rows(query: impl Into<String>, notice: impl Into<String>) -> Statement {
        Statement {
            notice: Some(notice.into()),
            ..Statement::new(query)
        }
    }

    /// A check that refuses the migration when `query` returns a row (see
    /// [`Statement::refuses`]).
    pub fn refuse_when_rows(query: impl Into<String>) -> Statement {
        Statement {
            refuses: true,
            ..Statement::new(query)
        }
    }

    /// A statement whose `sql` is a query returning statements (column
    /// `s`) that the runner executes, one per row, in order.
    pub fn each_row(query: impl Into<String>) -> Statement {
        Statement {
            each_row: true,
            ..Statement::new(query)
        }
    }

    pub fn skip_if(mut self, query: impl Into<String>) -> Statement {
        self.skip_if = Some(query.into());
        self
    }

    /// Adds a [`Cleanup`] run before the statement when `when` returns a row.
    pub fn cleanup_first(mut self, when: impl Into<String>, sql: impl Into<String>) -> Statement {
        self.cleanup = Some(Cleanup {
            when: when.into(),
            sql: sql.into(),
        });
        self
    }

    pub fn non_transactional(mut self) -> Statement {
        self.transactional = false;
        self
    }

    /// Outside a transaction, and not a lock the application queues
    /// behind (see [`Statement::no_queue`]).
    pub fn no_lock_queue(mut self) -> Statement {
        self.transactional = false;
        self.no_queue = true;
        self
    }
}

impl fmt::Display for Statement {
    /// The statement as `migrator sql` prints it: guard as a comment, then the
    /// SQL terminated by `;`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(plan) = &self.backfill {
            return write!(f, "{plan}");
        }
        if !self.transactional {
            writeln!(f, "-- runs outside a transaction")?;
        }
        if let Some(c) = &self.cleanup {
            writeln!(f, "-- first, when this returns a row: {}", c.when)?;
            writeln!(f, "{};", c.sql.trim_end().trim_end_matches(';'))?;
        }
        if let Some(q) = &self.skip_if {
            writeln!(f, "-- skipped when this returns a row: {q}")?;
        }
        if let Some(n) = &self.notice {
            writeln!(f, "-- reports \"{n}\" when this query returns a row:")?;
            return write!(f, "-- {}", self.sql.trim_end().trim_end_matches(';'));
        }
        if self.refuses {
            writeln!(
                f,
                "-- refused when this query returns a row ({}):",
                if self.refusal.is_some() {
                    "each names what is wrong"
                } else {
                    "each names what would be lost"
                }
            )?;
            return write!(f, "-- {}", self.sql.trim_end().trim_end_matches(';'));
        }
        if self.each_row {
            writeln!(f, "-- runs each statement this query returns, in order:")?;
            return write!(f, "-- {}", self.sql.trim_end().trim_end_matches(';'));
        }
        write!(f, "{};", self.sql.trim_end().trim_end_matches(';'))
    }
}

/// A failure to render an operation.
#[derive(Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RenderError {
    #[error("{op}: {message}")]
    Unsupported { op: String, message: String },
    #[error("raw SQL step has no SQL for {dialect}; add `sql` or `{dialect}` to it")]
    MissingSql { dialect: Dialect },
    #[error("cannot render {op}: {source}")]
    Replay {
        op: String,
        #[source]
        source: crate::ops::ReplayError,
    },
}

/// Renders one operation for `dialect`, given the schema before it.
///
/// `Operation::Rust` renders to no statements: the runner calls the
/// registered function instead.
///
/// Every table of `before` counts as existing before the migration (on
/// PostgreSQL, indexes and constraints on existing tables get the online
/// plans); [`render_ops`] knows which tables the migration itself created.
pub fn render_op(
    dialect: Dialect,
    op: &Operation,
    before: &Schema,
) -> Result<Vec<Statement>, RenderError> {
    render_op_in(dialect, op, before, before)
}

/// [`render_op`] inside a migration that started from `start`.
fn render_op_in(
    dialect: Dialect,
    op: &Operation,
    before: &Schema,
    start: &Schema,
) -> Result<Vec<Statement>, RenderError> {
    // The readers refuse these first, naming the file; this keeps any other
    // caller (a schema built in code) from pasting more than a fragment.
    if let Err(message) = crate::sql_fragment::check_operation(op) {
        return Err(RenderError::Unsupported {
            op: op.to_string(),
            message,
        });
    }
    let backend = dialect.backend();
    if let Some(limit) = backend.max_identifier_len() {
        if let Some(name) = op
            .introduced_names()
            .into_iter()
            .find(|n| backend.identifier_len(n) > limit)
        {
            return Err(RenderError::Unsupported {
                op: op.to_string(),
                message: format!(
                    "the name `{name}` is {} {} long; {dialect} allows {limit} (it would {})\nhelp: give the object a shorter name",
                    backend.identifier_len(name),
                    backend.identifier_unit(),
                    backend.long_identifier_effect(),
                ),
            });
        }
    }
    if let Operation::Archived(a) = op {
        return archive::render(dialect, op, a, before, start);
    }
    backend.render(op, before, start)
}

/// Renders a list of operations starting from `start`, replaying each one so
/// the next sees the schema it will run against. Returns one statement list
/// per operation, aligned with `ops`.
pub fn render_ops(
    dialect: Dialect,
    ops: &[Operation],
    start: &Schema,
) -> Result<Vec<Vec<Statement>>, RenderError> {
    // The running schema is copied only when a later step needs it: a
    // one-step migration on a large schema renders without a copy. (The
    // last step is not replayed; callers replay the whole migration.)
    let mut changed: Option<Schema> = None;
    let mut out = Vec::with_capacity(ops.len());
    for (i, op) in ops.iter().enumerate() {
        let schema = changed.as_ref().unwrap_or(start);
        out.push(render_op_in(dialect, op, schema, start)?);
        if i + 1 == ops.len() {
            prechecks::add_not_null_checks(dialect, ops, start, &mut out);
            prechecks::add_reference_checks(dialect, ops, start, &mut out);
            break;
        }
        op.apply(changed.get_or_insert_with(|| start.clone()))
            .map_err(|source| RenderError::Replay {
                op: op.to_string(),
                source,
            })?;
    }
    Ok(out)
}

debug_as_display!(RenderError);
