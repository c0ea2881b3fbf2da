//! The chain check: every upgrade replayed on the schema before it, every
//! downgrade restoring that schema, and the last state against the snapshot
//! (its head and hash chain).

use std::path::Path;

use super::{Migration, MigrationError, SNAPSHOT_FILE};
use crate::ledger::chain_of;
use crate::ops::apply_all;
use crate::schema::Schema;
use crate::snapshot::Snapshot;

/// Checks the chain: each upgrade replays on the schema before it, each
/// downgrade restores that schema exactly, and the replay of all upgrades
/// equals the snapshot, whose head and hash chain list exactly these files.
/// Returns the schema before each migration (index 0: empty) and after the
/// last, so callers can render any migration without replaying again.
pub fn validate(
    dir: &Path,
    migrations: &[Migration],
    snapshot: &Snapshot,
) -> Result<Vec<Schema>, MigrationError> {
    let mut states = Vec::with_capacity(migrations.len() + 1);
    check_chain(dir, migrations, snapshot, |_, s| states.push(s.clone()))?;
    Ok(states)
}

/// [`validate`] without keeping the states (what `embed_migrations!` needs:
/// a long chain's states are quadratic in size).
pub fn check(
    dir: &Path,
    migrations: &[Migration],
    snapshot: &Snapshot,
) -> Result<(), MigrationError> {
    check_chain(dir, migrations, snapshot, |_, _| {})
}

/// [`validate`], handing each state to `visit` (its index and the schema
/// before that migration; index `len` is the schema after the last) instead
/// of keeping them all: the states of a long chain are quadratic in size.
pub(super) fn check_chain(
    dir: &Path,
    migrations: &[Migration],
    snapshot: &Snapshot,
    visit: impl FnMut(usize, &Schema),
) -> Result<(), MigrationError> {
    let last = replay_chain(dir, migrations, visit)?;
    for (i, m) in migrations.iter().enumerate() {
        let entry = crate::ledger::file_entry(&m.checksum, &m.file_name);
        match snapshot.files.get(i) {
            Some(recorded) if *recorded == entry => {}
            Some(recorded) if recorded.ends_with(&format!(" {}", m.file_name)) => {
                return Err(MigrationError::Invalid {
                    file: dir.join(&m.file_name),
                    message: format!(
                        "this migration was edited after `migrator generate` wrote it (the snapshot records checksum {}…, the file has {}…)\nhelp: restore it from version control and write a new migration for further changes; if the edit is intended and the migration was never applied anywhere, run `migrator rehash`",
                        &recorded[..recorded.len().min(12)],
                        &m.checksum[..12]
                    ),
                });
            }
            _ => {
                return Err(MigrationError::Invalid {
                    file: dir.join(&m.file_name),
                    message: format!(
                        "the snapshot `{SNAPSHOT_FILE}` does not list this migration{}\nhelp: migrations are written by `migrator generate`, which records them in the snapshot; remove a stray file, or after a merge of two branches renumber the newer migration and run `migrator rehash`",
                        snapshot
                            .files
                            .get(i)
                            .map(|r| format!(" (it lists `{}` as number {:04})", r.split_once(' ').map_or(r.as_str(), |x| x.1), m.version))
                            .unwrap_or_default()
                    ),
                });
            }
        }
    }
    let head = migrations.last().map_or(0, |m| m.version);
    if snapshot.head != head {
        return Err(MigrationError::Chain {
            dir: dir.to_path_buf(),
            message: format!(
                "the snapshot `{SNAPSHOT_FILE}` was written for migration {:04} but the newest migration is {:04}\nhelp: a migration file was added or removed by hand, or two branches were merged; remove the stray file, or run `migrator generate` again after rebasing",
                snapshot.head, head
            ),
        });
    }
    let chain = chain_of(migrations.iter().map(|m| (m.version, m.checksum.as_str())));
    if snapshot.chain != chain {
        return Err(MigrationError::Chain {
            dir: dir.to_path_buf(),
            message: format!(
                "the hash chain in `{SNAPSHOT_FILE}` does not match the migration files\nhelp: the snapshot was edited by hand; restore it from version control or run `migrator rehash`"
            ),
        });
    }
    if last != snapshot.schema {
        return Err(MigrationError::Chain {
            dir: dir.to_path_buf(),
            message: format!(
                "replaying every migration does not give the snapshot `{SNAPSHOT_FILE}`\nhelp: the snapshot or a migration was edited by hand; restore them from version control"
            ),
        });
    }
    Ok(())
}

/// Replays the chain from an empty schema, checking that each downgrade
/// restores the schema before its upgrade. `states[i]` is the schema before
/// migration `i` (0-based) and `states[len]` the schema after the last.
pub fn replay_states(dir: &Path, migrations: &[Migration]) -> Result<Vec<Schema>, MigrationError> {
    let mut states = Vec::with_capacity(migrations.len() + 1);
    replay_chain(dir, migrations, |_, s| states.push(s.clone()))?;
    Ok(states)
}

/// The checks of [`replay_states`], handing each state to `visit` (see
/// [`check_chain`]) and returning the schema after the last migration.
fn replay_chain(
    dir: &Path,
    migrations: &[Migration],
    mut visit: impl FnMut(usize, &Schema),
) -> Result<Schema, MigrationError> {
    // One copy of the schema per migration, not one per direction: the
    // state is moved up, down (compared with the copy) and up again in
    // place, the operations being few and the schema large.
    let mut state = Schema::new();
    for (i, m) in migrations.iter().enumerate() {
        visit(i, &state);
        let file = dir.join(&m.file_name);
        let before = state.clone();
        apply_all(&mut state, &m.file.upgrade).map_err(|e| MigrationError::Invalid {
            file: file.clone(),
            message: format!("upgrade does not apply to the schema before it: {e}"),
        })?;
        apply_all(&mut state, &m.file.downgrade).map_err(|e| MigrationError::Invalid {
            file: file.clone(),
            message: format!("downgrade does not apply to the schema after the upgrade: {e}"),
        })?;
        if state != before {
            return Err(MigrationError::Invalid {
                file,
                message: "downgrade does not restore the schema before the upgrade\nhelp: the downgrade must undo every upgrade step, in reverse order".into(),
            });
        }
        // Equal ignores the order of columns: a hand-written downgrade may
        // restore them in another order, and the upgrade replayed on that
        // would too. Then the state is rebuilt from the copy, so the states
        // are exactly the replay of the upgrades.
        if !same_column_order(&state, &before) {
            state = before;
        }
        // The same operations on an equal schema: they applied a moment ago.
        apply_all(&mut state, &m.file.upgrade).map_err(|e| MigrationError::Invalid {
            file,
            message: format!("upgrade does not apply to the schema before it: {e}"),
        })?;
    }
    visit(migrations.len(), &state);
    Ok(state)
}

/// Whether every table of `a` has its columns in the order `b`'s has.
fn same_column_order(a: &Schema, b: &Schema) -> bool {
    a.tables.iter().zip(&b.tables).all(|((_, x), (_, y))| {
        x.columns.len() == y.columns.len()
            && x.columns
                .iter()
                .zip(&y.columns)
                .all(|(c, d)| c.name == d.name)
    })
}

/// Applies a validated migration's upgrade in place.
pub(super) fn apply_upgrade(s: &mut Schema, m: &Migration) {
    for op in &m.file.upgrade {
        op.apply(s).unwrap_or_else(|e| {
            panic!(
                "validated migration {} does not replay (a bug in migrator): {}",
                m.id(),
                e.0
            )
        });
    }
}
