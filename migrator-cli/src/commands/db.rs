//! The database a command works on, and opening it: the URL resolved (or
//! the project's default file), `--schema`, an SQLite file that is not
//! there, and the runner configured from the lock flags around a command's
//! work (`with_db`, `with_db_locked`).

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use migrator_core::database_url::DatabaseUrl;
use migrator_core::migration::MigrationSet;
use migrator_core::runner::{bound_waits, connect_url, explain, AnyConnection, Migrator, RunError};

use super::{open, CmdResult};
use crate::args::{LockArgs, UrlArg};
use crate::error::CliError;

/// The database a command works on: the URL given, or the default.
#[derive(Debug)]
pub(crate) struct Database {
    pub(crate) url: DatabaseUrl,
    /// Neither `--database-url` nor `DATABASE_URL` was given.
    pub(crate) default: bool,
}

/// How a command opens an SQLite file that is not there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Open {
    /// `up`: create it, as SQLite does.
    Create,
    /// `up --dry-run`: plan against an empty in-memory database, create
    /// nothing.
    DryRun,
    /// Every other command: refuse, naming the path (a typo must not
    /// become a new, empty database that reports "all pending").
    Existing,
}

/// Every spelling of the password of the URL given (when it parses), and
/// the passwords the client libraries read from the environment: what no
/// error message may show.
pub(crate) fn secrets(url: Option<&UrlArg>) -> Vec<String> {
    let mut out: Vec<String> = url
        .and_then(|u| DatabaseUrl::parse(&u.0).ok())
        .map(|u| u.secrets().to_vec())
        .unwrap_or_default();
    // The passwords of the `--replica-url`s too, read off the command line
    // (an error may name a replica).
    let args: Vec<String> = std::env::args().collect();
    for (i, a) in args.iter().enumerate() {
        let value = match a.strip_prefix("--replica-url=") {
            Some(v) => Some(v),
            None if a == "--replica-url" => args.get(i + 1).map(String::as_str),
            None => None,
        };
        if let Some(u) = value.and_then(|v| DatabaseUrl::parse(v).ok()) {
            out.extend(u.secrets().iter().cloned());
        }
    }
    for var in ["PGPASSWORD", "MYSQL_PWD"] {
        if let Ok(v) = std::env::var(var) {
            if !v.is_empty() {
                out.push(v);
            }
        }
    }
    out
}

/// The database of the command: the URL parsed (a refusal is a usage
/// error naming where the URL came from), or the project's default file.
pub(super) fn resolve(
    dir: &Path,
    url: Option<&UrlArg>,
    source: &str,
) -> Result<Database, CliError> {
    match url {
        Some(u) => DatabaseUrl::parse(&u.0)
            .map(|url| Database {
                url,
                default: false,
            })
            .map_err(|e| CliError::Url {
                given_by: source.to_string(),
                source: e,
            }),
        None => {
            let path = dir.join("migrator.db");
            DatabaseUrl::parse(&format!("sqlite://{}", path.display()))
                .map(|url| Database { url, default: true })
                .map_err(|e| CliError::Url {
                    given_by: path.display().to_string(),
                    source: e,
                })
        }
    }
}

/// The database with `--schema` as its session's search_path (a usage
/// error for a database other than PostgreSQL or a bad name).
pub(super) fn with_schema(d: Database, schema: Option<&str>) -> Result<Database, CliError> {
    match schema {
        None => Ok(d),
        Some(s) => {
            let t = migrator_core::fleet::Target::new(d.url, Some(s.to_string()))
                .map_err(|e| CliError::Usage(format!("--schema: {e}")))?;
            Ok(Database {
                url: t.connection_url(),
                default: d.default,
            })
        }
    }
}

/// Opens the command's database: names the default when it is used,
/// handles an SQLite file that does not exist as `open` says, and bounds
/// every wait for another session's lock by `wait` (`runner::bound_waits`).
pub(crate) fn open_db(
    database: &Database,
    open: Open,
    command: &str,
    wait: Duration,
) -> Result<AnyConnection, CliError> {
    let mut db = connect_db(database, open, command)?;
    on_conn!(&mut db, c => bound_waits(c, wait))?;
    Ok(db)
}

fn connect_db(database: &Database, open: Open, command: &str) -> Result<AnyConnection, CliError> {
    if database.default {
        eprintln!(
            "note: database {} (the default: neither --database-url nor DATABASE_URL is set)",
            database.url
        );
    }
    let missing = database
        .url
        .sqlite_path()
        .filter(|p| !database.url.is_sqlite_memory() && !p.starts_with("file:"))
        .filter(|p| Path::new(p).symlink_metadata().is_err());
    if let Some(path) = missing {
        match open {
            Open::Create => {}
            Open::DryRun => {
                eprintln!("note: {path} does not exist: the dry run shows what `up` would do to a new database, and creates nothing");
                let memory = DatabaseUrl::parse(":memory:").map_err(RunError::from)?;
                return Ok(connect_url(&memory)?);
            }
            Open::Existing => {
                return Err(CliError::Message(format!(
                    "{path}: no such SQLite database; `migrator {command}` does not create one\nhelp: check the path (a relative path is relative to the current folder) or --dir, or run `migrator up` to create the database"
                )))
            }
        }
    }
    let mut db = connect_url(&database.url)?;
    // `--schema` (or a target's schema): a search_path naming no schema
    // leaves nothing to create tables in, which the server says late and
    // vaguely; say it first.
    let sets_search_path = database
        .url
        .param("options")
        .is_some_and(|o| o.contains("search_path"));
    #[allow(irrefutable_let_patterns)]
    if let (true, AnyConnection::Postgres(c)) = (sets_search_path, &mut db) {
        use migrator_core::runner::MigrationConnection as _;
        let none = c
            .count_rows("SELECT 1 WHERE current_schema() IS NULL")
            .map_err(|e| CliError::Message(e.to_string()))?;
        if none > 0 {
            return Err(CliError::Message(format!(
                "{}: the schema of its search_path does not exist; nothing was changed\nhelp: create it first (`CREATE SCHEMA name`), or check the name",
                database.url
            )));
        }
    }
    Ok(db)
}

/// Opens the project's migrations and the database, then runs `f` with the
/// connection of whatever kind the URL names.
pub(super) fn with_db(
    dir: &Path,
    database: &Database,
    wait: Duration,
    f: impl Fn(&Migrator<'_>, &mut Db) -> Result<ExitCode, RunError>,
) -> CmdResult {
    with_db_configured(
        dir,
        database,
        (Open::Existing, "status"),
        wait,
        |m| Ok(m),
        f,
    )
}

/// `with_db` for the commands that take the runner's lock. The flags were
/// checked by their clap parsers (`main.rs`).
pub(super) fn with_db_locked(
    dir: &Path,
    database: &Database,
    (open, command): (Open, &str),
    lock: &LockArgs,
    f: impl Fn(&Migrator<'_>, &mut Db) -> Result<ExitCode, RunError>,
) -> CmdResult {
    with_db_configured(
        dir,
        database,
        (open, command),
        lock.lock_timeout,
        |m| {
            let m = m
                .lock_mode(lock.lock_mode.into())
                .lock_timeout(lock.lock_timeout)
                .statement_lock_timeout(Duration::from_millis(lock.statement_lock_timeout_ms))
                .lock_retries(lock.lock_retries, Duration::from_millis(200))
                .lock_waits(lock.lock_waits.clone())
                .newer_migrations(if lock.refuse_newer {
                    migrator_core::runner::NewerMigrations::Refuse
                } else {
                    migrator_core::runner::NewerMigrations::Tolerate
                });
            let m = match lock.max_replica_lag {
                Some(max) => m
                    .max_replica_lag(max, lock.replica_lag_timeout)
                    .replica_urls(
                        lock.replica_urls
                            .iter()
                            .map(crate::args::replica_url)
                            .collect::<Result<_, _>>()
                            // Exit 1, as before the errors were typed.
                            .map_err(CliError::Message)?,
                    )
                    .galera_peers_with(database.url.clone()),
                None => m,
            };
            Ok(match lock.statement_timeout_ms {
                Some(ms) => m.statement_timeout(Duration::from_millis(ms)),
                None => m,
            })
        },
        f,
    )
}

fn with_db_configured(
    dir: &Path,
    database: &Database,
    (open_mode, command): (Open, &str),
    wait: Duration,
    configure: impl for<'m> FnOnce(Migrator<'m>) -> Result<Migrator<'m>, CliError>,
    f: impl Fn(&Migrator<'_>, &mut Db) -> Result<ExitCode, RunError>,
) -> CmdResult {
    let project = open(dir)?;
    let set: MigrationSet = project.migrations()?;
    let mut db = open_db(database, open_mode, command, wait)?;
    let migrator = configure(Migrator::new(&set).on_event(crate::progress::printer()))?;
    f(&migrator, &mut db).map_err(|e| {
        // A lock wait gets the bound and the other sessions (masked).
        let e = on_conn!(&mut db, c => explain(c, e, &format!("running `{command}`"), wait));
        CliError::on(e, &database.url)
    })
}

pub(super) type Db = AnyConnection;
