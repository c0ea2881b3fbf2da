//! [`RunError`]: everything that can go wrong while running migrations.

use std::time::Duration;

use crate::dialect::{Dialect, RenderError};
use crate::migration::{MigrationError, RenderFailure};

/// Everything that can go wrong while running migrations. New kinds may be
/// added: a `match` outside this crate needs a catch-all arm.
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum RunError {
    /// The URL was refused before any connection was tried.
    #[error(transparent)]
    Url(#[from] crate::database_url::UrlError),
    #[error("cannot connect to {url}: {message}")]
    Connect { url: String, message: String },
    #[error(transparent)]
    Files(#[from] MigrationError),
    #[error("migration {migration}: {source}")]
    Render {
        migration: String,
        #[source]
        source: RenderError,
    },
    #[error("migration {migration} failed at statement {index} on {dialect}: {message}\n  statement: {sql}{rolled_back}")]
    Statement {
        migration: String,
        dialect: Dialect,
        index: usize,
        sql: String,
        message: String,
        rolled_back: &'static str,
    },
    /// Recorded history disagrees with the files (a migration edited,
    /// missing, applied out of order, or applied by a newer release); the
    /// message says how to proceed.
    #[error("{0}")]
    History(String),
    /// A version the migrations do not have: a `--to` past the newest, a
    /// baseline or a rendering of a migration that is not there.
    #[error("{0}")]
    NoSuchVersion(String),
    /// A migration left PARTIAL stands in the way (a roll-back asked
    /// before `up` finished it).
    #[error("{0}")]
    Partial(String),
    /// Refused before anything changed, for the reason the message gives
    /// (a placeholder backfill not yet filled, a database already managed,
    /// nothing to resolve, a backup that failed).
    #[error("{0}")]
    Refused(String),
    #[error("migration {migration} has a Rust step `{step}` that this program cannot run\nhelp: Rust data migrations are defined with `#[migration]` in the application; apply this migration from the application, which links the function: `Migrator::new(&MIGRATIONS).up(&mut conn)` with `static MIGRATIONS: EmbeddedMigrations = embed_migrations!(\"migrations\")`")]
    RustStep { migration: String, step: String },
    #[error("migration {migration} failed at step {index} on {dialect}: Rust step `{step}`: {message}{rolled_back}")]
    RustStepFailed {
        migration: String,
        dialect: Dialect,
        index: usize,
        step: String,
        message: String,
        rolled_back: &'static str,
    },
    #[error("migration {migration} is irreversible: step {step} has no reverse\nhelp: add a `reverse` to the raw SQL step, or restore from a backup")]
    Irreversible { migration: String, step: usize },
    #[error("timed out after {} s waiting for the migration lock held by another runner\nhelp: wait for the other runner to finish, or raise `--lock-timeout` (`Migrator::lock_timeout`)", .0.as_secs_f64())]
    LockTimeout(Duration),
    /// Every attempt of a migration waited longer than `lock_timeout` for a
    /// table lock (PostgreSQL); the last attempt was rolled back (or, step
    /// by step, stopped before the statement) like any failure.
    #[error("migration {migration} gave up after {attempts} attempt(s): statement {index} waited longer than lock_timeout for a lock each time ({tries}); {state}\n  statement: {sql}\n  blocking: {blocking}\n  help: end or wait for the transaction holding the table (a long query, an `idle in transaction` session), then run `migrator up` again; raise `lock_timeout_ms` in the migration only if writers can wait that long")]
    LockRetriesExhausted {
        migration: String,
        attempts: u32,
        /// The last tries' `lock_timeout` (the configured maximum).
        timeout_ms: u128,
        /// The schedule in words: the short waits, then the maximum.
        tries: String,
        index: usize,
        sql: String,
        blocking: String,
        state: &'static str,
    },
    /// A statement outside a migration's own (reading the history, the
    /// catalog, the lock row) gave up waiting for a lock another session
    /// holds (`waits.rs`).
    #[error("gave up {what} on {dialect}{}: another session holds a lock it needs\n  blocking: {blocking}\n  help: end or wait for {}, then run the command again; `--lock-timeout SECS` raises the bound (inside a migration: `--statement-lock-timeout-ms`, or `lock_timeout_ms` in the migration file)", waited.map_or(String::new(), |w| format!(" after waiting {} s", w.as_secs_f64())), dialect.backend().usual_blockers())]
    LockWait {
        /// What the tool was doing: `reading the history table`.
        what: String,
        dialect: Dialect,
        /// The session's bound, when known.
        waited: Option<Duration>,
        /// The other sessions, their statements masked (`mask_sql`).
        blocking: String,
    },
    /// MySQL/MariaDB: a statement larger than the server accepts; refused
    /// before anything of the run was sent.
    #[error("migration {migration}: statement {statement_index} is {bytes} bytes, over the server's max_allowed_packet of {limit} bytes; nothing was run\nhelp: raise it on the server (`SET GLOBAL max_allowed_packet = ...`, or `max_allowed_packet` in the server's configuration), or split the statement into smaller ones")]
    StatementTooLarge {
        migration: String,
        statement_index: usize,
        bytes: usize,
        limit: u64,
    },
    #[error("database error: {message}")]
    Database { message: String },
}

impl From<RenderFailure> for RunError {
    fn from(f: RenderFailure) -> RunError {
        match f {
            RenderFailure::NoSuchMigration(v) => {
                RunError::NoSuchVersion(format!("there is no migration {v:04}"))
            }
            RenderFailure::Irreversible { migration, step } => {
                RunError::Irreversible { migration, step }
            }
            RenderFailure::Render { migration, source } => RunError::Render { migration, source },
        }
    }
}

impl From<diesel::result::Error> for RunError {
    fn from(e: diesel::result::Error) -> RunError {
        RunError::Database {
            message: e.to_string(),
        }
    }
}

debug_as_display!(RunError);
