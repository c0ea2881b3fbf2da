//! The planner of `migrator squash --to N` (module docs in `mod.rs`).

use std::path::PathBuf;

use super::{digest, squashed, SQUASHED_NAME};
use crate::diff::{diff, Hints};
use crate::ledger::file_entry;
use crate::migration::{downgrade_for, MigrationFile, MigrationSet, Replaced};
use crate::ops::{replay, Operation};
use crate::project::{Project, ProjectError};
use crate::schema::Schema;
use crate::snapshot::Snapshot;

/// What a squash writes: the caller writes `write`, removes `removes`,
/// then writes the snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Squash {
    pub write: (PathBuf, String),
    pub removes: Vec<PathBuf>,
    pub snapshot_path: PathBuf,
    pub snapshot_text: String,
    /// Hand-written data steps left out (backfills, archived drops'
    /// moves): a new database has no rows for them.
    pub dropped_data_steps: Vec<String>,
}

/// Plans `migrator squash --to to` for `project`.
pub fn plan(project: &Project, to: u32) -> Result<Squash, ProjectError> {
    let dir = project.migrations_dir();
    let set = MigrationSet::load(&dir)?;
    let usage = |m: String| ProjectError::Usage(m);
    if to == 0 || to > set.head() {
        return Err(usage(format!(
            "{}: cannot squash to {to:04}: the migrations are 0001..{:04}\nhelp: `migrator squash --to N` with N from 1 to {:04}",
            dir.display(),
            set.head(),
            set.head()
        )));
    }
    if let Some(s) = squashed(&set) {
        if to <= s.version {
            return Err(usage(format!(
                "{}: 0001..{:04} are squashed already; squash to a later migration",
                dir.join(&s.file_name).display(),
                s.version
            )));
        }
    }
    let mut dropped = Vec::new();
    for m in &set.migrations[..to as usize] {
        for op in &m.file.upgrade {
            match op {
                Operation::Sql(_) | Operation::Rust { .. } => {
                    return Err(usage(format!(
                        "{}: migration {} has a hand-written step (raw SQL or a Rust step) that a baseline built from the schema cannot reproduce; nothing was written\nhelp: squash only the migrations before it (`migrator squash --to {}`), or keep the step in a migration of its own after the squash",
                        dir.join(&m.file_name).display(),
                        m.id(),
                        m.version - 1
                    )))
                }
                Operation::Backfill(_) | Operation::Archived(_) => {
                    dropped.push(format!(
                        "{}: the data step on `{}`",
                        m.id(),
                        op.table_name().unwrap_or("?")
                    ))
                }
                _ => {}
            }
        }
    }
    let state = set.state(to as usize);
    let upgrade = diff(&Schema::new(), &state, &Hints::default())
        .map_err(|e| usage(format!("{}: planning the baseline: {e}", dir.display())))?
        .upgrade;
    let downgrade = downgrade_for(&upgrade);
    let reached = replay(&Schema::new(), &upgrade)
        .map_err(|e| usage(format!("the baseline does not replay: {e}")))?;
    if reached != state {
        return Err(usage(format!(
            "{}: the baseline built from the schema at {to:04} does not reach it (a step in 0001..{to:04} keeps something the schema cannot express); nothing was written",
            dir.display()
        )));
    }
    let file_name = format!("{to:04}_{SQUASHED_NAME}.toml");
    let mut file = MigrationFile::new(
        format!("migrations 0001..{to:04} squashed"),
        upgrade,
        downgrade,
    );
    file.generated_by = Some(format!("migrator {}", env!("CARGO_PKG_VERSION")));
    file.replaces = set.migrations[..to as usize]
        .iter()
        .map(|m| Replaced {
            version: m.version,
            name: m.name.clone(),
            checksum: m.checksum.clone(),
        })
        .collect();
    file.squash_digest = Some(digest(&file));
    let text = file.to_text(&format!(
        "{file_name}: migrations 0001..{to:04} squashed by `migrator squash --to {to}`.\nA new database gets their schema at once; one that applied 0001..{to:04} has nothing to run.\nNever edit it: write a new migration instead."
    ));
    let mut removes: Vec<PathBuf> = Vec::new();
    for m in &set.migrations[..to as usize] {
        let p = dir.join(&m.file_name);
        if m.file_name != file_name && !removes.contains(&p) {
            removes.push(p);
        }
    }
    let mut snapshot = Snapshot::read(&project.snapshot_path())?;
    snapshot.files = set
        .migrations
        .iter()
        .map(|m| {
            let name = if m.version <= to {
                file_name.as_str()
            } else {
                m.file_name.as_str()
            };
            file_entry(&m.checksum, name)
        })
        .collect();
    Ok(Squash {
        write: (dir.join(&file_name), text),
        removes,
        snapshot_path: project.snapshot_path(),
        snapshot_text: snapshot.to_text(),
        dropped_data_steps: dropped,
    })
}
