//! `migrator rebase`: parallel branches, one chain again.
//!
//! Two branches that each add migration 0007 meet in a merge as two files
//! numbered 0007 and a conflicted `schema.toml` (its head and hash chain
//! differ). The migrations that exist only on the local branch, and were
//! never applied anywhere, are named by the user; they move after the
//! other branch's, renumbered in their order (0007 → 0008, …). Each moved
//! migration is read again under its new number and the whole chain is
//! replayed: every upgrade must apply on the schema the other branch left,
//! and every downgrade must restore it, or nothing is written and the
//! report names the migration and what does not apply (the true conflict,
//! for example both branches adding the same column). Tables that both
//! branches change are listed for review even when the chain replays.
//! The snapshot is then written from the replayed chain: the schema after
//! the last migration, the head, the checksums and the hash chain.

use std::collections::BTreeSet;
use std::path::PathBuf;

use crate::migration::{self, Migration};
use crate::project::{Project, ProjectError};
use crate::snapshot::{chain_of, file_entry, Snapshot};

/// What a rebase writes: the caller writes `writes` (new names), then
/// removes `removes` (old names), then writes the snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rebase {
    /// `(old file name, new file name)` of each moved migration.
    pub moves: Vec<(String, String)>,
    /// Files to write: path and text (the moved migrations, renumbered).
    pub writes: Vec<(PathBuf, String)>,
    /// The moved migrations' old files.
    pub removes: Vec<PathBuf>,
    /// The new `schema.toml`.
    pub snapshot_path: PathBuf,
    pub snapshot_text: String,
    /// Tables the moved migrations change that the migrations now before
    /// them changed too: review them.
    pub overlaps: Vec<String>,
}

/// Plans the rebase of `local` (migration ids such as `0007_add_tags`, or
/// file names) after every other migration of `project`.
pub fn plan(project: &Project, local: &[String]) -> Result<Rebase, ProjectError> {
    let dir = project.migrations_dir();
    let usage = |m: String| ProjectError::Usage(m);
    if local.is_empty() {
        return Err(usage("name the migrations to move: the ones only your branch has, e.g. `migrator rebase 0007_add_tags`".into()));
    }
    let files = migration::read_files(&dir)?;
    let mut ours: Vec<(String, String)> = Vec::new();
    let mut theirs: Vec<(String, String)> = Vec::new();
    let mut wanted: Vec<String> = local
        .iter()
        .map(|l| l.trim_end_matches(".toml").to_string())
        .collect();
    for (name, text) in files {
        let id = name.trim_end_matches(".toml");
        if let Some(i) = wanted.iter().position(|w| w == id) {
            wanted.remove(i);
            ours.push((name, text));
        } else {
            theirs.push((name, text));
        }
    }
    if let Some(missing) = wanted.first() {
        return Err(usage(format!(
            "{}: there is no migration `{missing}` to move",
            dir.display()
        )));
    }
    // What stays must be a chain 1..=K on its own.
    let mut kept: Vec<Migration> = Vec::new();
    for (name, text) in &theirs {
        let m = migration::parse_migration(&dir, name, text)?;
        // A squashed file stands for the migrations it replaces, each with
        // its number and checksum (`squash`).
        if m.file.replaces.is_empty() {
            kept.push(m);
        } else {
            kept.extend(crate::squash::expand(&dir, m)?);
        }
    }
    kept.sort_by_key(|m| m.version);
    for (i, m) in kept.iter().enumerate() {
        let expected = i as u32 + 1;
        if m.version != expected {
            let same: Vec<&str> = kept
                .iter()
                .filter(|k| k.version == m.version)
                .map(|k| k.file_name.as_str())
                .collect();
            let why = if same.len() > 1 {
                format!(
                    "{} are both number {:04}: name the one only your branch has too",
                    same.join(" and "),
                    m.version
                )
            } else {
                format!(
                    "{} follows {:04}: the numbers have a gap",
                    m.file_name,
                    expected - 1
                )
            };
            return Err(usage(format!(
                "{}: without the migrations to move, the rest is not a chain: {why}",
                dir.display()
            )));
        }
    }
    let base = kept.len() as u32;
    // The moved migrations, in their order, renumbered after the others.
    let mut moved: Vec<(&str, &str, Migration)> = Vec::new();
    for (name, text) in &ours {
        moved.push((name, text, migration::parse_migration(&dir, name, text)?));
    }
    moved.sort_by(|a, b| (a.2.version, a.0).cmp(&(b.2.version, b.0)));
    let first_moved = moved.iter().map(|m| m.2.version).min().unwrap_or(base + 1);
    let mut chain = kept.clone();
    let mut rebase = Rebase {
        moves: Vec::new(),
        writes: Vec::new(),
        removes: Vec::new(),
        snapshot_path: project.snapshot_path(),
        snapshot_text: String::new(),
        overlaps: Vec::new(),
    };
    for (i, (old_name, text, old)) in moved.iter().enumerate() {
        let new_name = format!("{:04}_{}.toml", base + 1 + i as u32, old.name);
        let new_text = renamed_header(text, old_name, &new_name);
        chain.push(migration::parse_migration(&dir, &new_name, &new_text)?);
        if *old_name != new_name {
            rebase.moves.push((old_name.to_string(), new_name.clone()));
            rebase.writes.push((dir.join(&new_name), new_text));
            rebase.removes.push(dir.join(old_name));
        }
    }
    // The true conflicts: an upgrade that does not apply after the other
    // branch, or a downgrade that no longer restores.
    let states = migration::replay_states(&dir, &chain).map_err(|e| {
        usage(format!(
            "{e}\nthe migrations cannot be rebased as they are: they conflict with the ones now before them; nothing was written\nhelp: delete your migrations that conflict (keep their models), then run `migrator generate` again on top of the other branch's"
        ))
    })?;
    // Tables both sides changed since the moved migrations' old base.
    let theirs_touched: BTreeSet<&str> = kept
        .iter()
        .filter(|m| m.version >= first_moved)
        .flat_map(|m| m.file.upgrade.iter().filter_map(|op| op.table_name()))
        .collect();
    let ours_touched: BTreeSet<&str> = chain[kept.len()..]
        .iter()
        .flat_map(|m| m.file.upgrade.iter().filter_map(|op| op.table_name()))
        .collect();
    rebase.overlaps = theirs_touched
        .intersection(&ours_touched)
        .map(|t| t.to_string())
        .collect();
    rebase.snapshot_text = Snapshot {
        head: chain.last().map_or(0, |m| m.version),
        chain: chain_of(chain.iter().map(|m| (m.version, m.checksum.as_str()))),
        files: chain
            .iter()
            .map(|m| file_entry(&m.checksum, &m.file_name))
            .collect(),
        schema: states.last().cloned().unwrap_or_default(),
    }
    .to_text();
    Ok(rebase)
}

/// The file's first comment names the file (`# 0007_x.toml: generated
/// by ..`): it follows the new name.
fn renamed_header(text: &str, old: &str, new: &str) -> String {
    match text.strip_prefix(&format!("# {old}")) {
        Some(rest) => format!("# {new}{rest}"),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::renamed_header;

    #[test]
    fn the_header_follows_the_new_name() {
        assert_eq!(
            renamed_header(
                "# 0002_b.toml: generated\nx = 1\n",
                "0002_b.toml",
                "0003_b.toml"
            ),
            "# 0003_b.toml: generated\nx = 1\n"
        );
        assert_eq!(
            renamed_header("x = 1\n", "0002_b.toml", "0003_b.toml"),
            "x = 1\n"
        );
    }
}
