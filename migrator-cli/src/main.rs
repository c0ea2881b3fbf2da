//! The `migrator` command. Parsing of arguments lives here; everything else is
//! migrator-core. Exit codes: 0 success, 1 failure or drift, 2 usage error.

/// Runs `$body` with `$c` bound to the concrete diesel connection inside
/// an `AnyConnection` (used by `commands.rs` and `adopt.rs`).
macro_rules! on_conn {
    ($db:expr, $c:ident => $body:expr) => {
        match $db {
            migrator_core::runner::AnyConnection::Sqlite($c) => $body,
            migrator_core::runner::AnyConnection::Postgres($c) => $body,
            #[cfg(feature = "mysql")]
            migrator_core::runner::AnyConnection::Mysql($c) => $body,
            // Only when migrator-core has a backend this binary was built
            // without (a workspace build enabling `migrator-core/mysql`
            // alone); `connect` never returns it otherwise.
            #[allow(unreachable_patterns)]
            _ => {
                unreachable!("build migrator-cli with the same database features as migrator-core")
            }
        }
    };
}

mod adopt;
mod backup;
mod commands;
mod progress;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "migrator",
    version,
    about = "Safe, typed, reversible schema migrations generated from Rust models",
    after_help = "Database: --database-url or DATABASE_URL (postgres://…, sqlite://path); default sqlite://migrator.db in the project root."
)]
pub struct Cli {
    /// Project root: the crate holding migrator.toml, src/ and migrations/.
    #[arg(long, global = true, default_value = ".", value_name = "DIR")]
    pub dir: PathBuf,
    /// Database to migrate (postgres://user:pass@host/db, sqlite://path).
    #[arg(long, global = true, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

/// How `up`, `down` and `redo` wait for another runner.
#[derive(Debug, Clone, clap::Args)]
pub struct LockArgs {
    /// Give up after waiting this many seconds for another runner's lock.
    #[arg(long, value_name = "SECS", default_value_t = 60.0)]
    pub lock_timeout: f64,
    /// `advisory` (PostgreSQL session lock, default) or `table` (a lease row
    /// in `_migrator_lock`, for PgBouncer in transaction mode).
    #[arg(long, value_name = "MODE", default_value = "advisory")]
    pub lock_mode: String,
    /// PostgreSQL: how long each statement may wait for a table lock before
    /// it is cancelled and the migration retried (a migration's
    /// `lock_timeout_ms` overrides it; 0 turns it off).
    #[arg(long, value_name = "MS", default_value_t = 1000)]
    pub statement_lock_timeout_ms: u64,
    /// PostgreSQL: how many times a migration is tried when its statements
    /// time out waiting for table locks (backoff from 200 ms, doubled each
    /// time, with jitter).
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub lock_retries: u32,
    /// PostgreSQL: cancel any statement of the migrations that runs longer
    /// (default: the session's own setting); such a failure is not retried.
    #[arg(long, value_name = "MS")]
    pub statement_timeout_ms: Option<u64>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create migrator.toml and an empty migrations folder; with
    /// `--from-database`, adopt the database's schema instead.
    Init {
        /// Adopt an existing database: write models for its tables, a
        /// baseline migration and the snapshot, and record the baseline as
        /// applied there (without running it).
        #[arg(long)]
        from_database: bool,
    },
    /// Diff the models against the snapshot and write the next migration.
    Generate {
        /// snake_case description, e.g. add_priority_column.
        name: String,
        /// Dialect whose SQL to print (repeatable; default: the database's).
        #[arg(long, value_name = "DIALECT")]
        dialect: Vec<String>,
    },
    /// Exit 1 when the models differ from the snapshot or the migrations are inconsistent.
    Check,
    /// Print the SQL of migration N (default: all), for a dialect.
    Sql {
        version: Option<u32>,
        #[arg(long, value_name = "DIALECT")]
        dialect: Option<String>,
        /// Print the downgrade instead of the upgrade.
        #[arg(long)]
        down: bool,
    },
    /// Apply pending migrations.
    Up {
        /// Stop after this migration.
        #[arg(long, value_name = "N")]
        to: Option<u32>,
        /// Print the exact SQL, history writes included, and run nothing.
        #[arg(long)]
        dry_run: bool,
        /// Back the database up to PATH first (SQLite `VACUUM INTO`,
        /// PostgreSQL `pg_dump`); a failed backup stops the run.
        #[arg(long, value_name = "PATH", conflicts_with = "dry_run")]
        backup: Option<PathBuf>,
        #[command(flatten)]
        lock: LockArgs,
    },
    /// Roll back applied migrations (one by default).
    Down {
        /// Roll back every migration newer than N (0: all).
        #[arg(long, value_name = "N", conflicts_with = "steps")]
        to: Option<u32>,
        /// Roll back the newest K migrations.
        #[arg(long, value_name = "K")]
        steps: Option<u32>,
        #[arg(long)]
        dry_run: bool,
        #[command(flatten)]
        lock: LockArgs,
    },
    /// Roll back the newest applied migration and apply it again.
    Redo {
        #[command(flatten)]
        lock: LockArgs,
    },
    /// Show applied, pending, edited and missing migrations.
    Status,
    /// Compare the live database with the snapshot; exit 1 naming each difference.
    Verify,
    /// Check the migrations against the safety rules (docs/LINT.md); exit 1 on an error finding.
    Lint {
        /// A rule to accept everywhere, by name (repeatable); a migration's
        /// own `allow = ["rule"]` accepts it for that migration.
        #[arg(long = "allow", value_name = "RULE")]
        allow: Vec<String>,
    },
    /// Recompute the snapshot's hash chain after an intended edit of a migration that was never applied.
    Rehash,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match commands::run(cli) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::from(1)
        }
    }
}
