//! Migration files `migrations/NNNN_description.toml`, and the one reader of
//! the migrations folder.
//!
//! Contract:
//! - the same code reads migrations for the CLI, the runtime loader and
//!   `embed_migrations!`: [`parse_migration`] works on a file name and its text,
//!   [`read_dir`] lists and parses a folder, [`validate`] checks the chain;
//! - file names are `NNNN_snake_case.toml`, numbered from 0001 without gaps or
//!   duplicates; anything else ending in `.toml` (except `schema.toml`) is an
//!   error, so a typo cannot silently drop a migration;
//! - a checksum is the SHA-256 of the normalised text (BOM dropped, CRLF and CR
//!   turned into LF), so checking out on Windows does not change it;
//! - errors name the file and, for syntax errors, the line and column;
//! - Rust steps (`op = "rust"`) are data migrations of the application:
//!   [`EmbeddedMigrations`] links their functions, a set read from files does
//!   not (see `rust_step.rs` and `embedded.rs`).

mod chain;
mod embedded;
mod format;
mod rust_step;
mod set;

use std::path::Path;

pub use crate::ledger::{checksum, line_col, normalize_text, IoSource, MigrationError};
use crate::ops::{inverse_all, Operation};

pub use chain::{check, replay_states, validate};
pub use embedded::{EmbeddedMigration, EmbeddedMigrations};
pub use format::{MigrationFile, Replaced};
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
pub(crate) use rust_step::StepConnection;
pub use rust_step::{check_rust_path, BoxError, RustStepContext, RustStepFn, RustStepResult};
pub use set::{MigrationSet, RenderFailure};

/// Name of the snapshot file inside the migrations folder.
pub const SNAPSHOT_FILE: &str = "schema.toml";

/// One parsed migration.
#[derive(Debug, Clone, PartialEq)]
pub struct Migration {
    pub version: u32,
    /// The snake_case description from the file name.
    pub name: String,
    /// The file name, e.g. `0004_add_priority_column.toml`.
    pub file_name: String,
    /// SHA-256 (hex) of the normalised file text.
    pub checksum: String,
    pub file: MigrationFile,
}

impl Migration {
    /// `0004_add_priority_column`, as shown to users.
    pub fn id(&self) -> String {
        format!("{:04}_{}", self.version, self.name)
    }

    /// True when every upgrade and downgrade step can run inside one
    /// transaction (on a dialect with transactional DDL).
    pub fn is_transactional(&self) -> bool {
        self.file.transaction
    }

    /// True when some step is a Rust data migration.
    pub fn has_rust_steps(&self) -> bool {
        self.file
            .upgrade
            .iter()
            .chain(&self.file.downgrade)
            .any(|op| matches!(op, Operation::Rust { .. }))
    }
}

/// Splits `0004_add_priority.toml` into `(4, "add_priority")`. Returns `None`
/// for names that are not migration files at all (other extensions, the
/// snapshot) and an error for `.toml` files that look wrong.
pub fn parse_file_name(file_name: &str) -> Result<Option<(u32, String)>, String> {
    let Some(stem) = file_name.strip_suffix(".toml") else {
        return Ok(None);
    };
    if file_name == SNAPSHOT_FILE {
        return Ok(None);
    }
    let bad = || {
        format!(
            "`{file_name}` is not a migration file name\nhelp: migration files are named `NNNN_description.toml`, with a 4-digit number and a snake_case description, e.g. `0001_create_users.toml`"
        )
    };
    let (num, name) = stem.split_once('_').ok_or_else(bad)?;
    if num.len() != 4 || !num.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    if !is_snake_case(name) {
        return Err(bad());
    }
    let version: u32 = num.parse().map_err(|_| bad())?;
    if version == 0 {
        return Err(bad());
    }
    Ok(Some((version, name.to_string())))
}

/// `lowercase_words_with_digits`, as descriptions and `generate NAME` need.
pub fn is_snake_case(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with('_')
        && !s.ends_with('_')
        && !s.contains("__")
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// Parses one migration from its file name and text. `dir` is only used to
/// name the file in errors.
pub fn parse_migration(
    dir: &Path,
    file_name: &str,
    text: &str,
) -> Result<Migration, MigrationError> {
    let path = dir.join(file_name);
    let (version, name) = match parse_file_name(file_name) {
        Ok(Some(v)) => v,
        Ok(None) => {
            return Err(MigrationError::Invalid {
                file: path,
                message: "not a migration file".into(),
            })
        }
        Err(message) => {
            return Err(MigrationError::Invalid {
                file: path,
                message,
            })
        }
    };
    let normalized = normalize_text(text);
    let file = MigrationFile::parse(&normalized).map_err(|(offset, message)| {
        let (line, column) = offset.map(|o| line_col(&normalized, o)).unwrap_or((0, 0));
        MigrationError::Parse {
            file: path.clone(),
            line,
            column,
            message,
        }
    })?;
    check_rust_steps(&path, &normalized, &file)?;
    check_fragments(&path, &normalized, &file)?;
    // No `[[downgrade]]`: the downgrade is the inverse of each upgrade step
    // (a raw step's `reverse`, a Rust step's `reverse`, a typed step's
    // opposite), in reverse order, so that a step without one makes `down`
    // refuse as irreversible instead of "rolling back" by doing nothing.
    let mut file = file;
    if file.downgrade.is_empty() {
        file.downgrade = downgrade_for(&file.upgrade);
    }
    Ok(Migration {
        version,
        name,
        file_name: file_name.to_string(),
        checksum: checksum(text),
        file,
    })
}

/// Refuses a Rust step whose `name` or `reverse` is not a path to a
/// function, at the line of the value when it can be found.
fn check_rust_steps(path: &Path, text: &str, file: &MigrationFile) -> Result<(), MigrationError> {
    for (list, ops) in [("upgrade", &file.upgrade), ("downgrade", &file.downgrade)] {
        for (i, op) in ops.iter().enumerate() {
            let Operation::Rust { name, reverse } = op else {
                continue;
            };
            for (key, value) in [("name", Some(name)), ("reverse", reverse.as_ref())] {
                let Some(value) = value else { continue };
                if let Err(message) = check_rust_path(value) {
                    let (line, column) = locate_string(text, value);
                    return Err(MigrationError::Parse {
                        file: path.to_path_buf(),
                        line,
                        column,
                        message: format!("{list} step {}: `{key}`: {message}", i + 1),
                    });
                }
            }
        }
    }
    Ok(())
}

/// Refuses a step whose SQL fragments (`sql:` types, SQL defaults, checks,
/// backfill `set` and `where`) are more than one type, expression or list of
/// assignments, before anything reads or runs the file
/// ([`crate::sql_fragment`]); raw `op = "sql"` steps are the author's SQL.
fn check_fragments(path: &Path, text: &str, file: &MigrationFile) -> Result<(), MigrationError> {
    for (list, ops) in [("upgrade", &file.upgrade), ("downgrade", &file.downgrade)] {
        for (i, op) in ops.iter().enumerate() {
            if let Err(message) = crate::sql_fragment::check_operation(op) {
                let (line, column) = fragment_strings(op)
                    .into_iter()
                    .map(|v| locate_string(text, &v))
                    .find(|lc| *lc != (0, 0))
                    .unwrap_or((0, 0));
                return Err(MigrationError::Parse {
                    file: path.to_path_buf(),
                    line,
                    column,
                    message: format!("{list} step {}: {message}", i + 1),
                });
            }
        }
    }
    Ok(())
}

/// The refused fragment's text as the file spells it (for its line).
fn fragment_strings(op: &Operation) -> Vec<String> {
    use crate::schema::{Column, ColumnType, DefaultValue};
    let column = |c: &Column| -> Vec<String> {
        let mut v = Vec::new();
        if let ColumnType::Custom(t) = &c.ty {
            if crate::sql_fragment::check_type(t).is_err() {
                v.push(format!("sql:{t}"));
            }
        }
        if let Some(DefaultValue::Sql(e)) = &c.default {
            if crate::sql_fragment::check_expression(e).is_err() {
                v.push(e.clone());
            }
        }
        v
    };
    let checks = |cs: &[crate::schema::Check]| -> Vec<String> {
        cs.iter()
            .filter(|c| crate::sql_fragment::check_expression(&c.expr).is_err())
            .map(|c| c.expr.clone())
            .collect()
    };
    match op {
        Operation::CreateTable { table } | Operation::DropTable { table } => {
            let mut v: Vec<String> = table.columns.iter().flat_map(column).collect();
            v.extend(checks(&table.checks));
            v
        }
        Operation::AddColumn { column: c, .. } | Operation::DropColumn { column: c, .. } => {
            column(c)
        }
        Operation::AlterColumn { from, to, .. } => {
            column(from).into_iter().chain(column(to)).collect()
        }
        Operation::AddCheck { check, .. } | Operation::DropCheck { check, .. } => {
            checks(std::slice::from_ref(check))
        }
        Operation::Backfill(b) => {
            let mut v = vec![(&b.set, true), (&b.predicate, false)];
            if let Some(r) = &b.reverse {
                v.push((&r.set, true));
                v.push((&r.predicate, false));
            }
            v.into_iter()
                .filter(|(s, set)| {
                    if *set {
                        crate::sql_fragment::check_assignments(s).is_err()
                    } else {
                        crate::sql_fragment::check_predicate(s).is_err()
                    }
                })
                .map(|(s, _)| s.clone())
                .collect()
        }
        Operation::Archived(a) => {
            let mut v = Vec::new();
            if a.check().is_err() {
                v.push(a.archive.clone());
            }
            if let Some(DefaultValue::Sql(e)) = &a.fill {
                if crate::sql_fragment::check_expression(e).is_err() {
                    v.push(e.clone());
                }
            }
            v.extend(fragment_strings(&a.step));
            v
        }
        _ => Vec::new(),
    }
}

/// Line and column of the first TOML string literal holding `value` (either
/// quote style), or `(0, 0)`.
pub(crate) fn locate_string(text: &str, value: &str) -> (usize, usize) {
    [format!("\"{value}\""), format!("'{value}'")]
        .iter()
        .filter_map(|needle| text.find(needle.as_str()))
        .min()
        .map_or((0, 0), |offset| line_col(text, offset))
}

/// Parses a list of `(file name, text)` pairs into migrations sorted by
/// version, refusing duplicate numbers and gaps. This is the shared core of
/// [`read_dir`] and `embed_migrations!`.
pub fn parse_all(dir: &Path, files: &[(String, String)]) -> Result<Vec<Migration>, MigrationError> {
    let mut out = Vec::new();
    for (name, text) in files {
        if parse_file_name(name)
            .map_err(|message| MigrationError::Invalid {
                file: dir.join(name),
                message,
            })?
            .is_none()
        {
            continue;
        }
        let m = parse_migration(dir, name, text)?;
        if m.file.replaces.is_empty() {
            out.push(m);
        } else {
            out.extend(crate::squash::expand(dir, m)?);
        }
    }
    out.sort_by(|a, b| a.version.cmp(&b.version).then(a.name.cmp(&b.name)));
    for pair in out.windows(2) {
        if pair[0].version == pair[1].version {
            return Err(MigrationError::Chain {
                dir: dir.to_path_buf(),
                message: format!(
                    "two migrations have number {:04}: `{}` and `{}`\nhelp: two branches each added a migration {:04}: run `migrator rebase` with the one only your branch has (never applied anywhere) to move it after the other",
                    pair[0].version, pair[0].file_name, pair[1].file_name, pair[0].version
                ),
            });
        }
    }
    for (i, m) in out.iter().enumerate() {
        let expected = i as u32 + 1;
        if m.version != expected {
            return Err(MigrationError::Chain {
                dir: dir.to_path_buf(),
                message: format!(
                    "migration number {:04} is missing: `{}` follows {}\nhelp: migrations are numbered from 0001 without gaps; restore the missing file or renumber",
                    expected,
                    m.file_name,
                    if i == 0 { "nothing".to_string() } else { format!("`{}`", out[i - 1].file_name) }
                ),
            });
        }
    }
    Ok(out)
}

/// Reads every `(file name, text)` of the `.toml` files in `dir`, sorted by
/// name. A missing folder reads as empty.
pub fn read_files(dir: &Path) -> Result<Vec<(String, String)>, MigrationError> {
    let io = |e: std::io::Error| MigrationError::io(dir, e);
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(io(e)),
    };
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(io)?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.ends_with(".toml") || name == SNAPSHOT_FILE || !entry.path().is_file() {
            continue;
        }
        let text = std::fs::read_to_string(entry.path())
            .map_err(|e| MigrationError::io(entry.path(), e))?;
        files.push((name, text));
    }
    files.sort();
    Ok(files)
}

/// Reads and parses every migration in `dir`.
pub fn read_dir(dir: &Path) -> Result<Vec<Migration>, MigrationError> {
    parse_all(dir, &read_files(dir)?)
}

/// The downgrade `generate` writes for an upgrade.
pub fn downgrade_for(upgrade: &[Operation]) -> Vec<Operation> {
    inverse_all(upgrade)
}

/// Which way a migration runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Up,
    Down,
}

debug_as_display!(MigrationError, RenderFailure);

#[cfg(test)]
mod tests;
