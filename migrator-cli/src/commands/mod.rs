//! One function per subcommand. They print, write files (only `init`,
//! `generate` and `rehash` write) and turn errors into messages; the work is
//! done by migrator-core. This file picks the command and the database; the
//! commands themselves live in the files beside it, by family.

mod db;
mod inspect;
mod project;
mod render;
mod runner;

use std::path::Path;
use std::process::ExitCode;

use migrator_core::project::Project;

use crate::args::OutputFormat;
use crate::error::CliError;
use crate::{Cli, Command};

pub(crate) use db::{open_db, secrets, Database, Open};
use db::{resolve, with_db, with_db_locked, with_schema};
use inspect::{db_history, verify, Replay};
use project::{check, generate, generate_empty, init, print_schema, rebase, rehash, squash};
use render::{diagram, lint, sql};
use runner::{db_down, db_redo, db_status, db_up, take_backup};

type CmdResult = Result<ExitCode, CliError>;

pub(crate) fn run(cli: Cli, url_source: &str) -> CmdResult {
    if let Some(file) = &cli.targets {
        let command = match &cli.command {
            Command::Up { .. } => "up",
            Command::Down { .. } => "down",
            Command::Status { .. } => "status",
            Command::Verify { .. } => "verify",
            Command::History { .. } => "history",
            _ => {
                return Err(CliError::Usage(
                    "--targets runs `up`, `down`, `status`, `verify` and `history`; run other commands on one database".into(),
                ));
            }
        };
        if cli.schema.is_some() {
            return Err(CliError::Usage(
                "--schema and --targets exclude each other: give each target's schema in the file (`URL schema=NAME`)".into(),
            ));
        }
        let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
        return crate::fleet::run(file, command, cli.jobs, cli.on_error.into(), &args);
    }
    let uses_database = matches!(
        cli.command,
        Command::Init {
            from_database: true,
            ..
        } | Command::Generate { .. }
            | Command::Sql { .. }
            | Command::Up { .. }
            | Command::Down { .. }
            | Command::Redo { .. }
            | Command::Status { .. }
            | Command::History { .. }
            | Command::Verify { .. }
            | Command::Purge { .. }
            | Command::Resolve { .. }
    );
    let database = if uses_database {
        Some(
            resolve(&cli.dir, cli.database_url.as_ref(), url_source)
                .and_then(|d| with_schema(d, cli.schema.as_deref()))?,
        )
    } else {
        None
    };
    let db = || {
        database
            .as_ref()
            .ok_or_else(|| CliError::Message("no database".into()))
    };
    match cli.command {
        Command::Init {
            from_database: true,
            wait,
        } => crate::adopt::init_from_database(&cli.dir, db()?, wait.lock_timeout),
        Command::Init {
            from_database: false,
            ..
        } => init(&cli.dir),
        Command::Generate {
            name, empty: true, ..
        } => generate_empty(&cli.dir, &name),
        Command::Generate { name, dialect, .. } => generate(&cli.dir, &name, &dialect, db()?),
        Command::Completions { shell } => {
            let mut cmd = <crate::Cli as clap::CommandFactory>::command();
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut cmd, "migrator", &mut script);
            print!("{}", String::from_utf8_lossy(&script));
            Ok(ExitCode::SUCCESS)
        }
        Command::Check => check(&cli.dir),
        Command::Test { format, keep } => {
            // The URL given, if any: without one the test runs on a
            // temporary SQLite file, never on the project's default database.
            let url = match cli.database_url.as_ref() {
                None => None,
                Some(u) => Some(resolve(&cli.dir, Some(u), url_source)?.url),
            };
            let project = open(&cli.dir)?;
            let set = project.migrations()?;
            crate::shadow::run(&set, url.as_ref(), format, keep)
        }
        Command::PrintSchema { dialect, output } => {
            print_schema(&cli.dir, dialect, output.as_deref())
        }
        Command::Sql {
            version,
            dialect,
            down,
        } => sql(&cli.dir, version, dialect, db()?, down),
        Command::Up {
            to,
            dry_run,
            backup,
            allow,
            allow_lint,
            lock,
        } => {
            crate::gate::unknown_rule(&allow)?;
            let database = db()?;
            let open = if dry_run { Open::DryRun } else { Open::Create };
            with_db_locked(&cli.dir, database, (open, "up"), &lock, |m, conn| {
                if let Some(path) = &backup {
                    if !take_backup(m, conn, &database.url, (path, lock.lock_timeout), to)? {
                        return Ok(ExitCode::SUCCESS);
                    }
                }
                if !dry_run && !allow_lint && crate::gate::lint_refuses(m, conn, to, &allow)? {
                    return Ok(ExitCode::from(1));
                }
                db_up(m, conn, to, dry_run)
            })
        }
        Command::Down {
            to,
            steps,
            dry_run,
            lock,
        } => with_db_locked(
            &cli.dir,
            db()?,
            (Open::Existing, "down"),
            &lock,
            |m, conn| db_down(m, conn, to, steps, dry_run),
        ),
        Command::Redo { lock } => {
            with_db_locked(&cli.dir, db()?, (Open::Existing, "redo"), &lock, db_redo)
        }
        Command::Status { wait, format } => with_db(&cli.dir, db()?, wait.lock_timeout, |m, db| {
            db_status(m, db, format == OutputFormat::Json)
        }),
        Command::History { wait, format } => {
            with_db(&cli.dir, db()?, wait.lock_timeout, |m, db| {
                db_history(m, db, format == OutputFormat::Json)
            })
        }
        Command::Verify {
            wait,
            format,
            replay,
            no_replay,
        } => verify(
            &cli.dir,
            db()?,
            wait.lock_timeout,
            format == OutputFormat::Json,
            match (replay, no_replay) {
                (true, _) => Replay::Always,
                (_, true) => Replay::Never,
                _ => Replay::Auto,
            },
        ),
        Command::Lint {
            allow,
            galera,
            format,
        } => lint(&cli.dir, &allow, galera, format == OutputFormat::Json),
        Command::Resolve {
            version,
            applied,
            lock,
            by,
            ..
        } => {
            let how = if applied {
                migrator_core::runner::resolve::Resolution::Applied
            } else {
                migrator_core::runner::resolve::Resolution::RolledBack
            };
            let by = by
                .or_else(|| std::env::var("USER").ok())
                .unwrap_or_else(|| "unknown".into());
            with_db_locked(
                &cli.dir,
                db()?,
                (Open::Existing, "resolve"),
                &lock,
                |m, db| {
                    let line = on_conn!(db, c => m.resolve(c, version, how, &by))?;
                    println!("{line}");
                    Ok(ExitCode::SUCCESS)
                },
            )
        }
        Command::Purge { yes, lock } => with_db_locked(
            &cli.dir,
            db()?,
            (Open::Existing, "purge"),
            &lock,
            |m, db| crate::purge::purge(m, db, yes),
        ),
        Command::Rehash => rehash(&cli.dir),
        Command::Rebase { migrations } => rebase(&cli.dir, &migrations),
        Command::Squash { to } => squash(&cli.dir, to),
        Command::Diagram {
            format,
            at,
            change,
            output,
        } => diagram(&cli.dir, format, at, change, output.as_deref()),
    }
}

fn open(dir: &Path) -> Result<Project, CliError> {
    Ok(Project::open(dir)?)
}

fn write(path: &Path, text: &str) -> Result<(), CliError> {
    crate::files::write_atomic(path, text)
}

/// `text` into the `-o` file (saying so on stderr), or on stdout.
fn emit(output: Option<&Path>, text: &str) -> Result<(), CliError> {
    match output {
        Some(path) => {
            write(path, text)?;
            eprintln!("wrote {}", path.display());
        }
        None => print!("{text}"),
    }
    Ok(())
}
