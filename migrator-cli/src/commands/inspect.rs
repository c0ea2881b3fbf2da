//! The commands that read a database and compare it with the files:
//! `history` (the history table beside the files) and `verify` (the live
//! schema against the snapshot's).

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use migrator_core::runner::{Migrator, RunError};

use super::db::{open_db, Database, Db, Open};
use super::{open, CmdResult};
use crate::error::CliError;
use crate::style::{self, Role};

/// `migrator history`: the history table as recorded, each row beside the
/// file it came from.
pub(super) fn db_history(m: &Migrator<'_>, db: &mut Db, json: bool) -> Result<ExitCode, RunError> {
    use migrator_core::runner::{human_duration, json_string};
    let rows = on_conn!(db, c => m.history(c))?;
    let set = m.migration_set();
    let file_state = |r: &migrator_core::runner::HistoryRow| {
        migrator_core::runner::FileState::of(set, r).as_str()
    };
    if json {
        let items: Vec<String> = rows
            .iter()
            .map(|r| {
                format!(
                    "{{\"version\":{},\"name\":{},\"state\":{},\"applied_at\":{},\"execution_ms\":{},\"tool_version\":{},\"checksum\":{},\"steps_done\":{},\"file\":\"{}\"}}",
                    r.version,
                    json_string(&r.name),
                    json_string(&r.state),
                    json_string(&r.applied_at),
                    r.execution_ms,
                    json_string(&r.tool_version),
                    json_string(&r.checksum),
                    r.steps_done,
                    file_state(r)
                )
            })
            .collect();
        println!("{{\"history\":[{}]}}", items.join(","));
        return Ok(ExitCode::SUCCESS);
    }
    if rows.is_empty() {
        println!("no migration has run on this database");
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{}",
        style::out(
            Role::Strong,
            &format!(
                "{:<40} {:<8} {:<26} {:>12}  {:<9} {:<14} file",
                "migration", "state", "applied at", "took", "tool", "checksum"
            )
        )
    );
    for r in &rows {
        let id = format!("{:04}_{}", r.version, r.name);
        let took = human_duration(Duration::from_millis(r.execution_ms.max(0) as u64));
        let file = file_state(r);
        let state = if r.state == "applied" {
            style::out(Role::Good, &format!("{:<8}", r.state))
        } else {
            style::out(Role::Bad, &format!("{:<8}", r.state))
        };
        let file = if file == "matches" {
            file.to_string()
        } else {
            style::out(Role::Bad, file)
        };
        let short: String = r.checksum.chars().take(12).collect();
        println!(
            "{id:<40} {state} {:<26} {took:>12}  {:<9} {short:<14} {file}",
            r.applied_at, r.tool_version
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The version of the `k`-th migration of `set` (0 before the first).
fn version_at(set: &migrator_core::runner::MigrationSet, k: usize) -> u32 {
    match k {
        0 => 0,
        k => set.migrations[k - 1].version,
    }
}

/// Whether `verify` compares the objects outside the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Replay {
    /// `--replay`: always, and a replay that cannot run is an error.
    Always,
    /// The default: on SQLite, when there are any (in the database, or raw
    /// SQL steps among the applied migrations); a replay that cannot run is
    /// a warning, and they are listed as not compared. On a server they are
    /// listed (a replay runs the migrations' SQL there: `--replay`).
    Auto,
    /// `--no-replay`: listed, not compared.
    Never,
}

/// Introspects the database and compares it with the snapshot's schema:
/// exit 1 naming each drifted table, column, index and constraint. Objects
/// outside the model are compared with those the applied migrations make
/// on a scratch database (`crate::replay`), as `replay` says, or printed as
/// notes.
pub(super) fn verify(
    dir: &Path,
    database: &Database,
    wait: Duration,
    json: bool,
    replay: Replay,
) -> CmdResult {
    use migrator_core::introspect;
    use migrator_core::runner::{explain_text, MigrationConnection, HISTORY_TABLE};

    let project = open(dir)?;
    let set = project.migrations()?;
    let url = &database.url;
    let mut db = open_db(database, Open::Existing, "verify", wait)?;
    // A database whose history records exactly the first `k` migrations
    // (`k` at least 1: after a `down`, or before an `up`) is compared with
    // the schema as of `k`. No rows at all (a database built from `migrator
    // sql` scripts, or rolled back to nothing) and anything the history
    // cannot say (a gap, a partial or edited row; a lock wait, which the
    // catalog read below then reports) compare with the head.
    let k = on_conn!(&mut db, c => Migrator::new(&set).applied_prefix(c))
        .ok()
        .flatten()
        .filter(|k| *k > 0)
        .unwrap_or(set.len());
    let snapshot = set.state(k);
    let v = match introspect::verify(&mut db, &snapshot) {
        Ok(v) => v,
        Err(e) => {
            let what = "reading the catalog and the tables of the snapshot (verify)";
            let message = on_conn!(&mut db, c => explain_text(c, e.to_string(), what, wait));
            return Err(CliError::Catalog {
                source: e,
                message,
                database: url.to_string(),
            });
        }
    };
    // A replay runs the migrations' SQL again: by default only in a scratch
    // SQLite file, and only when there is something outside the model (in
    // the database, or made by a raw step), never on a server unasked.
    let wanted = match replay {
        Replay::Never => false,
        Replay::Always => true,
        Replay::Auto => {
            url.backend() == migrator_core::database_url::Backend::Sqlite
                && (!v.live.outside.is_empty()
                    || set.migrations[..k].iter().any(|m| {
                        m.file
                            .upgrade
                            .iter()
                            .any(|op| matches!(op, migrator_core::ops::Operation::Sql(_)))
                    }))
        }
    };
    let outside_drift = match wanted.then(|| crate::replay::replayed_outside(&set, k, url, &mut db))
    {
        None => None,
        Some(Ok(replayed)) => Some(introspect::outside_drift(&v.live.outside, &replayed)),
        Some(Err(e)) if replay == Replay::Always => return Err(e),
        Some(Err(e)) => {
            let e = migrator_core::database_url::redact_all(&e.to_string(), url.secrets());
            eprintln!(
                "{} the objects outside the model are not compared: {e}\nhelp: `--no-replay` skips the comparison; `--replay` makes this an error",
                style::warning_prefix()
            );
            None
        }
    };
    let replayed = outside_drift.is_some();
    let clean = v.is_clean() && outside_drift.as_ref().is_none_or(Vec::is_empty);
    let snapshot_path = project.snapshot_path();
    if json {
        use migrator_core::runner::json_string;
        let list = |items: Vec<String>| {
            let quoted: Vec<String> = items.iter().map(|i| json_string(i)).collect();
            format!("[{}]", quoted.join(","))
        };
        let drift: Vec<String> = v
            .drift
            .iter()
            .map(|d| {
                format!(
                    "{{\"table\":{},\"message\":{}}}",
                    json_string(&d.table),
                    json_string(&d.message)
                )
            })
            .collect();
        println!(
            "{{\"clean\":{},\"database\":{},\"snapshot\":{},\"head\":{},\"compared_at\":{},\"drift\":[{}],\"outside\":{},\"replayed\":{},\"outside_drift\":{},\"notes\":{}}}",
            clean,
            json_string(&url.to_string()),
            json_string(&snapshot_path.display().to_string()),
            set.head(),
            version_at(&set, k),
            drift.join(","),
            list(v.live.outside.iter().map(ToString::to_string).collect()),
            replayed,
            list(outside_drift.clone().unwrap_or_default()),
            list(v.live.notes.iter().map(ToString::to_string).collect()),
        );
        return Ok(if clean {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        });
    }
    // Which state the database was compared with.
    let state = if k == set.len() {
        format!("head {:04}", set.head())
    } else {
        format!(
            "as of {:04}, the last applied; {} pending up to head {:04}",
            version_at(&set, k),
            set.len() - k,
            set.head()
        )
    };
    let replayed_note = match &outside_drift {
        Some(_) => format!(
            ", {} object(s) outside the model as the migrations make them",
            v.live.outside.len()
        ),
        None => String::new(),
    };
    if clean {
        println!(
            "{} {} matches {} ({state}, {} table(s){replayed_note})",
            style::out(Role::Good, "ok:"),
            url,
            snapshot_path.display(),
            v.expected.tables.len()
        );
    } else {
        println!(
            "{} {} differs from {} ({state}):",
            style::out(Role::Bad, "drift:"),
            url,
            snapshot_path.display(),
        );
        for d in &v.drift {
            println!("  {}", style::out(Role::Bad, &d.to_string()));
        }
        if let Some(lines) = outside_drift.as_ref().filter(|l| !l.is_empty()) {
            println!("  outside the model, against the migrations replayed on a scratch database:");
            for l in lines {
                println!("    {}", style::out(Role::Bad, l));
            }
        }
        // A database behind the files differs for a simpler reason.
        let applied = on_conn!(&mut db, c => c.count_rows(&format!(
            "SELECT version FROM {} WHERE state = 'applied'",
            HISTORY_TABLE
        )))
        .unwrap_or(0);
        let pending = (set.len() as i64 - applied).max(0);
        if pending > 0 && k == set.len() {
            println!("help: {pending} migration(s) are not applied to this database; run `migrator up`, then verify again");
        } else if v.drift.is_empty() {
            println!("help: objects outside the model were changed outside migrations; write a raw SQL migration for a change you keep (`migrator generate --empty NAME`), undo one you do not");
        } else {
            println!("help: the database was changed outside migrations; write a migration for a change you keep (`migrator generate`), undo one you do not");
        }
    }
    if !v.live.outside.is_empty() && outside_drift.is_none() {
        println!("note: not compared, outside the model (`--replay` compares them with what the migrations make on a scratch database):");
        for o in &v.live.outside {
            println!("  {o}");
        }
    }
    for n in &v.live.notes {
        println!("note: {n}");
    }
    Ok(if clean {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
