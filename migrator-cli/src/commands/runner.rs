//! The runner's commands: `up` (with `--backup` and `--dry-run`), `down`,
//! `redo` and `status`, each given the configured runner and the open
//! connection by `with_db`/`with_db_locked`.

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use migrator_core::database_url::DatabaseUrl;
use migrator_core::runner::{Migrator, RunError};

use super::db::Db;
use super::render::print_statement;
use crate::style::{self, Role};

fn print_sql(lines: &[String]) {
    if lines.is_empty() {
        println!("{}", style::sql_line("-- nothing to do"));
    }
    for l in lines {
        print_statement(l);
    }
}

/// `up --backup PATH`: backs up before anything runs, and prints how to
/// restore. Returns false (nothing to back up for) when nothing is pending.
pub(super) fn take_backup(
    m: &Migrator<'_>,
    db: &mut Db,
    url: &DatabaseUrl,
    (path, wait): (&Path, Duration),
    to: Option<u32>,
) -> Result<bool, RunError> {
    let status = on_conn!(&mut *db, c => m.status(c))?;
    let pending = status
        .lines
        .iter()
        .filter(|l| {
            matches!(
                l.state,
                migrator_core::runner::LineState::Pending
                    | migrator_core::runner::LineState::Partial { .. }
            )
        })
        .filter(|l| to.is_none_or(|t| l.version <= t))
        .count();
    if pending == 0 {
        println!("nothing to do: the database is up to date; no backup taken");
        return Ok(false);
    }
    // A backup error is reported as it is (`History` prints its message
    // unchanged); nothing has been migrated.
    let restore = crate::backup::take(db, url, path, wait).map_err(RunError::Refused)?;
    println!("{restore}");
    Ok(true)
}

pub(super) fn db_up(
    m: &Migrator<'_>,
    db: &mut Db,
    to: Option<u32>,
    dry_run: bool,
) -> Result<ExitCode, RunError> {
    if dry_run {
        let r = on_conn!(db, c => m.dry_run_up(c, to))?;
        print_sql(&r.sql);
        // On stderr, so the SQL on stdout stays runnable.
        for f in &r.findings {
            eprintln!("lint: {f}");
        }
    } else {
        let r = on_conn!(db, c => m.up_to(c, to))?;
        println!("{} migration(s) applied", r.done.len());
    }
    Ok(ExitCode::SUCCESS)
}

pub(super) fn db_down(
    m: &Migrator<'_>,
    db: &mut Db,
    to: Option<u32>,
    steps: Option<u32>,
    dry_run: bool,
) -> Result<ExitCode, RunError> {
    let target = match to {
        Some(t) => t,
        None => on_conn!(db, c => m.target_for_steps(c, steps.unwrap_or(1)))?,
    };
    if dry_run {
        let r = on_conn!(db, c => m.dry_run_down(c, target))?;
        print_sql(&r.sql);
    } else {
        let r = on_conn!(db, c => m.down_to(c, target))?;
        println!("{} migration(s) rolled back", r.done.len());
    }
    Ok(ExitCode::SUCCESS)
}

pub(super) fn db_redo(m: &Migrator<'_>, db: &mut Db) -> Result<ExitCode, RunError> {
    let r = on_conn!(db, c => m.down_steps(c, 1))?;
    let Some(id) = r.done.first() else {
        println!("nothing to redo: no migration is applied");
        return Ok(ExitCode::SUCCESS);
    };
    let version: u32 = id[..4].parse().unwrap_or(0);
    let r = on_conn!(db, c => m.up_to(c, Some(version)))?;
    println!("redone {}", r.done.join(", "));
    Ok(ExitCode::SUCCESS)
}

pub(super) fn db_status(m: &Migrator<'_>, db: &mut Db, json: bool) -> Result<ExitCode, RunError> {
    let status = on_conn!(db, c => m.status(c))?;
    if json {
        println!("{}", status.to_json());
    } else {
        let text = status.to_string();
        for (line, s) in text.lines().zip(status.lines.iter().map(|l| &l.state)) {
            use migrator_core::runner::LineState;
            let role = match s {
                LineState::Applied { .. } => Role::Good,
                LineState::Pending => Role::Warn,
                _ => Role::Bad,
            };
            println!("{}", style::out(role, line));
        }
        if status.lines.is_empty() {
            print!("{text}");
        }
        println!("{} pending", status.pending());
        // What `up` would lock with (its default `--lock-mode auto`).
        match on_conn!(db, c => m.planned_lock(c)) {
            Ok(lock) => println!("lock for up/down (--lock-mode auto): {lock}"),
            Err(e) => println!("lock for up/down: {e}"),
        }
    }
    Ok(if status.is_clean() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
