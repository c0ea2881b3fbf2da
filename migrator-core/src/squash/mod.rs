//! `migrator squash --to N`: migrations `1..=N` become one baseline.
//!
//! The squashed file keeps number N (`NNNN_squashed.toml`) and lists in
//! `[[replaces]]` every migration it stands for, with the name and checksum
//! the history of an older database holds. Reading the folder expands it
//! back into those N migrations ([`expand`]): `1..N-1` without steps and N
//! with the whole schema as of N (created from nothing; its downgrade drops
//! it all). So the numbering, the history rows and the hash chain stay as
//! they were, and the snapshot's `files` name the squashed file for each.
//!
//! - A fresh database runs the baseline once and records `1..=N`.
//! - A database that applied all of `1..=N` has nothing to run.
//! - A database that applied `1..k` with `0 < k < N` is refused
//!   ([`refuse_partial`]): the baseline only creates a database from
//!   nothing; the release before the squash brings it to N first.
//! - A roll-back to `0 < t < N` is refused: the baseline's downgrade drops
//!   everything at once.
//!
//! `squash_digest` (the SHA-256 of the file's canonical text without it)
//! makes an edited baseline fail to load; an edited `[[replaces]]` list
//! no longer matches the snapshot's checksums.

use std::path::Path;

use crate::ledger::{checksum, MigrationError};
use crate::migration::{Migration, MigrationFile, MigrationSet};

#[cfg(feature = "model")]
mod plan;
#[cfg(feature = "model")]
pub use plan::{plan, Squash};

/// The name part of a squashed file: `0005_squashed.toml`.
pub const SQUASHED_NAME: &str = "squashed";

/// The digest a squashed file records of itself.
pub fn digest(file: &MigrationFile) -> String {
    let mut f = file.clone();
    f.squash_digest = None;
    // Plain data with string keys always serialises.
    checksum(&toml::to_string(&f).unwrap_or_else(|e| panic!("migration serialises: {e}")))
}

/// The squashed migration of a set, if any (the last migration it
/// replaces, which carries the baseline).
pub fn squashed(set: &MigrationSet) -> Option<&Migration> {
    set.migrations.iter().find(|m| !m.file.replaces.is_empty())
}

/// A parsed squashed file as the migrations it replaces (module docs).
pub(crate) fn expand(dir: &Path, m: Migration) -> Result<Vec<Migration>, MigrationError> {
    let file = dir.join(&m.file_name);
    let invalid = |message: String| MigrationError::Invalid {
        file: file.clone(),
        message,
    };
    match &m.file.squash_digest {
        None => return Err(invalid("a squashed migration (`[[replaces]]`) must carry the `squash_digest` that `migrator squash` writes\nhelp: restore the file from version control".into())),
        Some(d) if *d != digest(&m.file) => return Err(invalid("this squashed migration was edited after `migrator squash` wrote it (its `squash_digest` does not match)\nhelp: restore it from version control and write a new migration for further changes".into())),
        Some(_) => {}
    }
    let n = m.file.replaces.len();
    for (i, r) in m.file.replaces.iter().enumerate() {
        if r.version != i as u32 + 1 {
            return Err(invalid(format!(
                "`[[replaces]]` must list migrations 0001..{:04} in order; entry {} is {:04}",
                m.version,
                i + 1,
                r.version
            )));
        }
    }
    if n as u32 != m.version {
        return Err(invalid(format!(
            "a squashed migration numbered {:04} must replace 0001..{:04}, and lists {n}",
            m.version, m.version
        )));
    }
    let mut out = Vec::with_capacity(n);
    for r in &m.file.replaces[..n - 1] {
        out.push(Migration {
            version: r.version,
            name: r.name.clone(),
            file_name: m.file_name.clone(),
            checksum: r.checksum.clone(),
            file: MigrationFile::new(format!("squashed into {}", m.file_name), vec![], vec![]),
        });
    }
    let last = &m.file.replaces[n - 1];
    out.push(Migration {
        version: m.version,
        name: last.name.clone(),
        file_name: m.file_name.clone(),
        checksum: last.checksum.clone(),
        file: m.file,
    });
    Ok(out)
}

/// Why the runner cannot bring a database from `applied` (the versions its
/// history holds) to `target` across a squash, if it cannot.
#[cfg_attr(
    not(any(feature = "sqlite", feature = "postgres", feature = "mysql")),
    allow(dead_code)
)]
pub(crate) fn refuse_partial(
    set: &MigrationSet,
    applied: &[u32],
    up: bool,
    target: u32,
) -> Option<String> {
    let s = squashed(set)?;
    let n = s.version;
    let inside: Vec<u32> = applied.iter().copied().filter(|v| *v <= n).collect();
    if up && !inside.is_empty() && !inside.contains(&n) {
        let k = inside.iter().max().copied().unwrap_or(0);
        return Some(format!(
            "this database applied migrations up to {k:04}, but 0001..{n:04} are squashed into `{}`, which only creates a database from nothing\nhelp: bring it to {n:04} first with a release made before the squash (it still has the replaced files, e.g. `git checkout <commit before the squash>` then `migrator up --to {n}`), then run this one",
            s.file_name
        ));
    }
    if up && target > 0 && target < n && !applied.contains(&n) {
        return Some(format!(
            "cannot migrate up to {target:04}: 0001..{n:04} are squashed into `{}`, which creates them all at once\nhelp: migrate up to {n:04} or later",
            s.file_name
        ));
    }
    if !up && target > 0 && target < n && applied.contains(&n) {
        return Some(format!(
            "cannot roll back to {target:04}: 0001..{n:04} are squashed into `{}`, whose downgrade drops them all at once\nhelp: roll back to 0 or to {n:04} or later",
            s.file_name
        ));
    }
    None
}
