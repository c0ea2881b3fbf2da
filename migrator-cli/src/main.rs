//! The `migrator` command. Parsing of arguments lives here (the shared
//! arguments and the values of the flags in `args.rs`); everything else is
//! migrator-core. Exit codes: 0 success, 1 failure or drift, 2 usage error.

/// Runs `$body` with `$c` bound to the concrete diesel connection inside
/// an `AnyConnection` (used by `commands/` and `adopt.rs`).
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
mod args;
mod backup;
mod commands;
mod error;
mod files;
mod fleet;
mod gate;
mod progress;
mod purge;
mod replay;
mod script;
mod shadow;
mod snippet;
mod style;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::parser::ValueSource;
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

use args::{
    jobs, url_arg, DiagramFormat, DialectArg, LockArgs, OnErrorArg, OutputFormat, UrlArg, WaitArgs,
};

/// The rules for `--database-url`, in `--help` (README "Database URLs").
const URL_HELP: &str = "Database: --database-url or DATABASE_URL, default sqlite://migrator.db in the project root (named on stderr when used).
Accepted: postgres://USER:PASSWORD@HOST:PORT/DB (or postgresql://), mysql://USER:PASSWORD@HOST:PORT/DB (or mariadb://), sqlite://PATH or sqlite:PATH, and a bare SQLite path only when it clearly is one: it ends in .db, .sqlite, .sqlite3 or .db3, starts with ./, ../ or /, or is :memory:. Anything else (a host name, a libpq key=value string, a misspelt scheme) is a usage error (exit 2).
The user information ends at the last @, so a password may hold unencoded @ / ? # :; `?password=` works too. Passwords are never printed.";

#[derive(Debug, Parser)]
#[command(
    name = "migrator",
    version,
    about = "Safe, typed, reversible schema migrations generated from Rust models",
    after_help = URL_HELP
)]
pub(crate) struct Cli {
    /// Project root: the crate holding migrator.toml, src/ and migrations/.
    #[arg(long, global = true, default_value = ".", value_name = "DIR")]
    pub dir: PathBuf,
    /// Database to migrate (postgres://user:pass@host/db, mysql://…,
    /// sqlite://path; the rules below).
    #[arg(
        long,
        global = true,
        env = "DATABASE_URL",
        hide_env_values = true,
        value_name = "URL",
        value_parser = url_arg
    )]
    pub database_url: Option<UrlArg>,
    /// Colour: `auto` colours a terminal unless NO_COLOR is set (each of
    /// stdout and stderr decided alone, so piped output is plain),
    /// `always` and `never` decide whatever the environment says.
    #[arg(long, global = true, value_name = "WHEN", value_enum, default_value_t = style::ColorChoice::Auto)]
    pub color: style::ColorChoice,
    /// PostgreSQL: the schema this run uses for everything (tables, guards,
    /// catalog queries, the history table and the lock row), set as the
    /// session's search_path when connecting; it must exist.
    #[arg(long, global = true, value_name = "NAME")]
    pub schema: Option<String>,
    /// Run `up`, `down`, `status`, `verify` or `history` on every target of
    /// FILE: one per line, `URL` or `URL schema=NAME` (a PostgreSQL schema,
    /// for a tenant per schema), `#` comments; a line per target as it
    /// ends, then a summary table; exit 1 when any failed.
    #[arg(
        long,
        global = true,
        value_name = "FILE",
        conflicts_with = "database_url"
    )]
    pub targets: Option<PathBuf>,
    /// With --targets: how many targets run at once (1 to 64).
    #[arg(long, global = true, value_name = "N", default_value = "4", value_parser = jobs)]
    pub jobs: usize,
    /// With --targets: after a target fails, `continue` with the others
    /// (the default) or `stop` starting new ones.
    #[arg(long, global = true, value_name = "POLICY", value_enum, default_value_t = OnErrorArg::Continue)]
    pub on_error: OnErrorArg,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Create migrator.toml and an empty migrations folder; with
    /// `--from-database`, adopt the database's schema instead.
    Init {
        /// Adopt an existing database: write models for its tables, a
        /// baseline migration and the snapshot, and record the baseline as
        /// applied there (without running it).
        #[arg(long)]
        from_database: bool,
        #[command(flatten)]
        wait: WaitArgs,
    },
    /// Diff the models against the snapshot and write the next migration.
    Generate {
        /// snake_case description, e.g. add_priority_column.
        name: String,
        /// Dialect whose SQL to print (repeatable; default: migrator.toml's,
        /// else the database's).
        #[arg(long, value_name = "DIALECT", value_enum)]
        dialect: Vec<DialectArg>,
        /// Write the next migration with no steps, to fill in by hand (a
        /// data migration), whatever the models say; run `migrator rehash`
        /// after editing it.
        #[arg(long, conflicts_with = "dialect")]
        empty: bool,
    },
    /// Exit 1 when the models differ from the snapshot, the migrations are
    /// inconsistent, or the diesel `schema.rs` named by `schema_rs` in
    /// migrator.toml no longer matches.
    Check,
    /// Write diesel's schema (`table!`, `joinable!`,
    /// `allow_tables_to_appear_in_same_query!`) of the snapshot, as a
    /// `schema.rs`. No database needed.
    PrintSchema {
        /// The database whose diesel types to use (default: the types every
        /// dialect of migrator.toml agrees on, all three when it lists none).
        #[arg(long, value_enum)]
        dialect: Option<DialectArg>,
        /// Write to FILE instead of standard output.
        #[arg(short = 'o', long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
    /// Print migration N (default: all) as a script the database's own
    /// client runs as is (psql, mysql, sqlite3), or say why it cannot.
    Sql {
        /// The migration's number (`3` or `0003`); without it, every
        /// migration in order (with --down, newest first).
        #[arg(value_name = "VERSION")]
        version: Option<u32>,
        /// The database to write for (default: the one --database-url or
        /// DATABASE_URL names, else SQLite).
        #[arg(long, value_name = "DIALECT", value_enum)]
        dialect: Option<DialectArg>,
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
        /// Run although the migrations to apply have this lint error
        /// (repeatable; docs/LINT.md). Without it an error finding that the
        /// migration's own `allow` list does not accept stops `up` before
        /// anything runs.
        #[arg(long = "allow", value_name = "RULE")]
        allow: Vec<String>,
        /// Run whatever the lint finds.
        #[arg(long)]
        allow_lint: bool,
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
        /// Print the exact SQL of the rollback, history writes included,
        /// and run nothing.
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
    Status {
        #[command(flatten)]
        wait: WaitArgs,
        /// `text` for people, `json` for scripts: one object with every
        /// migration's version, id and state, the pending count and whether
        /// all is clean (the exit code is the same either way).
        #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
        format: OutputFormat,
    },
    /// List what the history table records: each migration that ran, when,
    /// for how long, with which tool version, and whether its file still
    /// matches the checksum recorded.
    History {
        #[command(flatten)]
        wait: WaitArgs,
        /// `text` for people, `json` for scripts: one object per row.
        #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
        format: OutputFormat,
    },
    /// Try every migration on a scratch database: up, compare the schema
    /// with the migrations', down, compare, up again, with rows inserted
    /// before each to show they survive. The scratch database is a
    /// temporary SQLite file, or one created on the server of
    /// --database-url (whose own database is not touched) and dropped
    /// afterwards. Exit 1 when a migration fails.
    Test {
        /// `text`, `json`, or `github` (annotations on the failing files).
        #[arg(long, value_enum, default_value_t = shadow::TestFormat::Text)]
        format: shadow::TestFormat,
        /// Keep the scratch database afterwards, to look at it (its URL is
        /// printed).
        #[arg(long)]
        keep: bool,
    },
    /// Compare the live database with the snapshot; exit 1 naming each difference.
    Verify {
        #[command(flatten)]
        wait: WaitArgs,
        /// `text` for people, `json` for scripts: `{"clean", "database",
        /// "snapshot", "head", "drift": [{"table", "message"}], "outside",
        /// "replayed", "outside_drift", "notes"}` (the exit code is the same
        /// either way).
        #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
        format: OutputFormat,
        /// Compare the objects outside the model (views, triggers,
        /// functions, special indexes) with their definitions, and fail when
        /// that cannot be done. By default they are compared whenever there
        /// are any (in the database, or raw SQL steps among the applied
        /// migrations), and a replay that cannot run is a warning: the
        /// applied migrations are replayed on a scratch database next to
        /// this one (created and dropped, as `migrator test` does; on a
        /// server the user needs the right to create databases).
        #[arg(long, conflicts_with = "no_replay")]
        replay: bool,
        /// Do not compare the objects outside the model (they are listed).
        #[arg(long)]
        no_replay: bool,
    },
    /// Check the migrations against the safety rules (docs/LINT.md); exit 1 on an error finding.
    Lint {
        /// A rule to accept everywhere, by name (repeatable); a migration's
        /// own `allow = ["rule"]` accepts it for that migration.
        #[arg(long = "allow", value_name = "RULE")]
        allow: Vec<String>,
        /// The project is deployed on a MariaDB Galera cluster: also report
        /// DDL on existing tables, which blocks every node while it runs
        /// under Total Order Isolation (`galera-toi-ddl`).
        #[arg(long)]
        galera: bool,
        /// `text` for people, `json` for scripts and CI annotations:
        /// `{"findings": [{"rule", "severity", "file", "step", "what",
        /// "why", "instead"}], "errors", "warnings", "migrations"}`.
        #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
        format: OutputFormat,
    },
    /// After merging a branch that added migrations with the same numbers
    /// as yours: move yours (named here, never applied anywhere) after the
    /// others, renumbered, check that the chain still replays, and rewrite
    /// the snapshot. Writes nothing when they conflict.
    Rebase {
        /// The migrations only your branch has, e.g. `0007_add_tags`
        /// (repeatable, any order).
        #[arg(required = true, value_name = "MIGRATION")]
        migrations: Vec<String>,
    },
    /// Squash migrations 1..N into one baseline (`NNNN_squashed.toml`): a
    /// new database gets their schema at once, one that applied 1..N has
    /// nothing to run, one in between is refused (bring it to N with the
    /// release before the squash first). Refuses raw SQL and Rust steps.
    Squash {
        /// The last migration to squash (`5` or `0005`).
        #[arg(long, value_name = "N")]
        to: u32,
    },
    /// Settle a PARTIAL migration by hand, after finishing or undoing the
    /// rest of its effect yourself: `--applied` marks it applied,
    /// `--rolled-back` removes its history row (the next `up` runs it from
    /// its start). Only the history changes; the resolution is recorded
    /// with who gave it and when.
    Resolve {
        /// The migration's number (`3` or `0003`).
        version: u32,
        /// The rest of its effect is there.
        #[arg(
            long,
            conflicts_with = "rolled_back",
            required_unless_present = "rolled_back"
        )]
        applied: bool,
        /// Its effect is undone.
        #[arg(long)]
        rolled_back: bool,
        /// Who resolves it, for the record (default: `$USER`).
        #[arg(long, value_name = "NAME")]
        by: Option<String>,
        #[command(flatten)]
        lock: LockArgs,
    },
    /// List the archives that keep the data of dropped columns and tables
    /// (`_migrator_archive_*`, restored by the downgrades); with `--yes`,
    /// drop them for good.
    Purge {
        /// Drop the archives (without it, only list them).
        #[arg(long)]
        yes: bool,
        /// Dropping takes the runner's lock, as `up` does.
        #[command(flatten)]
        lock: LockArgs,
    },
    /// Recompute the snapshot's hash chain after an intended edit of a migration that was never applied.
    Rehash,
    /// Print the shell completion script for SHELL on stdout, e.g.
    /// `migrator completions bash > ~/.local/share/bash-completion/completions/migrator`.
    Completions {
        /// The shell the script is for.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Draw the schema: tables, columns with types, keys and foreign keys,
    /// as Mermaid ER text or a self-contained SVG or HTML page. Default: the
    /// snapshot's schema (after the newest migration). No database needed.
    Diagram {
        /// What to write.
        #[arg(long, value_name = "FORMAT", value_enum, default_value_t = DiagramFormat::Mermaid)]
        format: DiagramFormat,
        /// The schema after migration N (1 to the newest).
        #[arg(long, value_name = "N", conflicts_with = "change")]
        at: Option<u32>,
        /// The change migration N makes: the tables before and after it in
        /// one picture, added ones green, dropped ones red and struck,
        /// changed ones amber.
        #[arg(long, value_name = "N")]
        change: Option<u32>,
        /// Write to FILE instead of standard output.
        #[arg(short = 'o', long, value_name = "FILE")]
        output: Option<PathBuf>,
    },
}

/// The exit status when the reader of our output went away (`migrator sql
/// | head`): what a shell reports for a tool ended by SIGPIPE (128 + 13).
const CLOSED_PIPE: i32 = 141;

/// `println!` panics when stdout is a closed pipe. The safe-Rust way to get
/// the usual Unix behaviour (end quietly, as SIGPIPE would) is to catch that
/// one panic in the hook, before anything unwinds: the process ends there,
/// as if killed, which the runner recovers from like any kill (the open
/// transaction is rolled back by the database, an interrupted migration is
/// finished by the next `up`). Every other panic keeps the default report.
fn end_quietly_on_closed_pipe() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let text = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or_default();
        if text.starts_with("failed printing to stdout") && text.contains("Broken pipe") {
            std::process::exit(CLOSED_PIPE);
        }
        default(info);
    }));
}

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    end_quietly_on_closed_pipe();
    let matches = Cli::command().get_matches();
    let source = match matches.value_source("database_url") {
        Some(ValueSource::EnvVariable) => "DATABASE_URL",
        _ => "--database-url",
    };
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    style::init(cli.color);
    let secrets = commands::secrets(cli.database_url.as_ref());
    match commands::run(cli, source) {
        Ok(code) => code,
        Err(e) => {
            // Whatever produced the message (a driver, a dump tool), no
            // spelling of a password the run was given reaches the screen,
            // nor does one in the source lines under it.
            let message = migrator_core::database_url::redact_all(&e.report(), &secrets);
            eprintln!("{} {message}", style::error_prefix());
            ExitCode::from(e.exit_code())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cli_definition_is_valid() {
        Cli::command().debug_assert();
    }
}
