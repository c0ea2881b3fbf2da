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

mod embedded;
mod format;
mod rust_step;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use sha2::{Digest, Sha256};

use crate::dialect::{render_ops, Dialect, RenderError, Statement};
use crate::ledger::chain_of;
pub use crate::ledger::{checksum, line_col, normalize_text, IoSource, MigrationError};
use crate::ops::{inverse_all, replay, Operation};
use crate::schema::Schema;
use crate::snapshot::Snapshot;

pub use embedded::{EmbeddedMigration, EmbeddedMigrations};
pub use format::{MigrationFile, Replaced};
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
pub(crate) use rust_step::StepConnection;
pub use rust_step::{check_rust_path, BoxError, RustStepContext, RustStepFn, RustStepResult};

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

/// [`validate`], handing each state to `visit` (its index and the schema
/// before that migration; index `len` is the schema after the last) instead
/// of keeping them all: the states of a long chain are quadratic in size.
fn check_chain(
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
    let mut before = Schema::new();
    for (i, m) in migrations.iter().enumerate() {
        visit(i, &before);
        let file = dir.join(&m.file_name);
        let after = replay(&before, &m.file.upgrade).map_err(|e| MigrationError::Invalid {
            file: file.clone(),
            message: format!("upgrade does not apply to the schema before it: {e}"),
        })?;
        let back = replay(&after, &m.file.downgrade).map_err(|e| MigrationError::Invalid {
            file: file.clone(),
            message: format!("downgrade does not apply to the schema after the upgrade: {e}"),
        })?;
        if back != before {
            return Err(MigrationError::Invalid {
                file,
                message: "downgrade does not restore the schema before the upgrade\nhelp: the downgrade must undo every upgrade step, in reverse order".into(),
            });
        }
        before = after;
    }
    visit(migrations.len(), &before);
    Ok(before)
}

/// Applies a validated migration's upgrade in place.
fn apply_upgrade(s: &mut Schema, m: &Migration) {
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

/// Why a migration could not be rendered.
#[derive(Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderFailure {
    #[error("there is no migration {0:04}")]
    NoSuchMigration(u32),
    #[error("migration {migration} is irreversible: step {step} has no reverse\nhelp: add a `reverse` to the raw SQL step")]
    Irreversible { migration: String, step: usize },
    #[error("migration {migration}: {source}")]
    Render {
        migration: String,
        #[source]
        source: RenderError,
    },
}

/// A validated set of migrations; the schema before and after each one is
/// available through [`MigrationSet::state`].
#[derive(Debug)]
pub struct MigrationSet {
    /// The folder they came from, for messages.
    pub dir: PathBuf,
    pub migrations: Vec<Migration>,
    /// The schema before every `CHECKPOINT_EVERY`-th migration and after
    /// the last, computed on first use (an embedded set starts without
    /// them: applying migrations that are all applied needs none). Keeping
    /// every state instead costs memory quadratic in the chain's length
    /// (157 MB for 200 tables and 500 migrations).
    states: OnceLock<Checkpoints>,
    /// The state [`MigrationSet::with_state`] last lent (its index and the
    /// schema), advanced in place: rendering the pending migrations in order
    /// replays each upgrade once and clones one checkpoint.
    cursor: Mutex<Option<(usize, Schema)>>,
    /// What the history table holds when the first `k` migrations are
    /// applied, for the runner's start-up check; computed on first use.
    applied: OnceLock<AppliedPrefixes>,
    /// The Rust steps this program links, by the name the files use. Empty
    /// for a set read from files; [`EmbeddedMigrations`] fills it.
    rust: BTreeMap<String, RustStepFn>,
}

/// The history rows of the first `k` migrations, all applied, as one text:
/// `version:name:checksum:applied` per row, joined by `,` in version order,
/// and the SHA-256 of each prefix. The runner's start-up check has the
/// database build the same text from its rows (or its digest) and compares
/// it here, without decoding a row or hashing a file.
#[derive(Debug, Clone, Default)]
#[cfg_attr(
    not(any(feature = "sqlite", feature = "postgres", feature = "mysql")),
    allow(dead_code)
)]
pub(crate) struct AppliedPrefixes {
    /// The text for every migration.
    pub(crate) text: String,
    /// `ends[k]`: the length of the text for the first `k` migrations.
    pub(crate) ends: Vec<usize>,
    /// `digests[k]`: the SHA-256 of `text[..ends[k]]`.
    pub(crate) digests: Vec<[u8; 32]>,
}

#[cfg_attr(
    not(any(feature = "sqlite", feature = "postgres", feature = "mysql")),
    allow(dead_code)
)]
impl AppliedPrefixes {
    /// `state` is the history's word for an applied migration.
    fn new(migrations: &[Migration], state: &str) -> AppliedPrefixes {
        let mut p = AppliedPrefixes::default();
        let mut h = Sha256::new();
        p.ends.push(0);
        p.digests.push(h.clone().finalize().into());
        for m in migrations {
            let start = p.text.len();
            if start > 0 {
                p.text.push(',');
            }
            p.text
                .push_str(&format!("{}:{}:{}:{state}", m.version, m.name, m.checksum));
            h.update(&p.text.as_bytes()[start..]);
            p.ends.push(p.text.len());
            p.digests.push(h.clone().finalize().into());
        }
        p
    }
}

/// Every how many migrations [`MigrationSet`] keeps a schema: any other
/// state is at most this many replays away.
const CHECKPOINT_EVERY: usize = 32;

#[derive(Debug, Clone, Default)]
struct Checkpoints {
    /// `at[k]` is the schema before migration `k * CHECKPOINT_EVERY + 1`.
    at: Vec<Schema>,
    /// The schema after the last migration.
    last: Schema,
}

impl Checkpoints {
    /// Collects the checkpoints from the states a replay visits in order.
    fn collector(n: usize) -> (Checkpoints, impl FnMut(&mut Checkpoints, usize, &Schema)) {
        let keep = move |c: &mut Checkpoints, i: usize, s: &Schema| {
            if i == n {
                c.last = s.clone();
            } else if i % CHECKPOINT_EVERY == 0 {
                c.at.push(s.clone());
            }
        };
        (Checkpoints::default(), keep)
    }
}

impl Clone for MigrationSet {
    fn clone(&self) -> MigrationSet {
        MigrationSet {
            dir: self.dir.clone(),
            migrations: self.migrations.clone(),
            states: self.states.clone(),
            cursor: Mutex::new(None),
            applied: self.applied.clone(),
            rust: self.rust.clone(),
        }
    }
}

impl AsRef<MigrationSet> for MigrationSet {
    fn as_ref(&self) -> &MigrationSet {
        self
    }
}

impl MigrationSet {
    /// Reads and validates `dir` (migration files and `schema.toml`).
    pub fn load(dir: &Path) -> Result<MigrationSet, MigrationError> {
        let migrations = read_dir(dir)?;
        let snapshot = Snapshot::read(&dir.join(SNAPSHOT_FILE))?;
        let (mut checkpoints, mut keep) = Checkpoints::collector(migrations.len());
        check_chain(dir, &migrations, &snapshot, |i, s| {
            keep(&mut checkpoints, i, s)
        })?;
        Ok(MigrationSet {
            dir: dir.to_path_buf(),
            migrations,
            states: OnceLock::from(checkpoints),
            cursor: Mutex::new(None),
            applied: OnceLock::new(),
            rust: BTreeMap::new(),
        })
    }

    /// A set of migrations already validated (by `embed_migrations!`);
    /// their states are computed when first needed.
    pub(crate) fn prevalidated(dir: PathBuf, migrations: Vec<Migration>) -> MigrationSet {
        MigrationSet {
            dir,
            migrations,
            states: OnceLock::new(),
            cursor: Mutex::new(None),
            applied: OnceLock::new(),
            rust: BTreeMap::new(),
        }
    }

    fn checkpoints(&self) -> &Checkpoints {
        self.states.get_or_init(|| {
            // Only the upgrades are replayed: the chain was validated, every
            // downgrade included, by `load` or by `embed_migrations!` on this
            // same data. Replaying cannot fail unless the macro and this
            // library differ, which the facade's exact version pin rules out.
            let n = self.migrations.len();
            let (mut c, mut keep) = Checkpoints::collector(n);
            let mut s = Schema::new();
            for (i, m) in self.migrations.iter().enumerate() {
                keep(&mut c, i, &s);
                apply_upgrade(&mut s, m);
            }
            keep(&mut c, n, &s);
            c
        })
    }

    /// The schema before migration `i + 1` (`state(0)` is empty) and, for
    /// `i == len()`, after the last one (the snapshot's schema).
    ///
    /// # Panics
    /// When `i > len()`.
    pub fn state(&self, i: usize) -> Schema {
        assert!(
            i <= self.migrations.len(),
            "no state {i} in a set of {}",
            self.migrations.len()
        );
        let c = self.checkpoints();
        if i == self.migrations.len() {
            return c.last.clone();
        }
        let k = i / CHECKPOINT_EVERY;
        let mut s = c.at[k].clone();
        for m in &self.migrations[k * CHECKPOINT_EVERY..i] {
            apply_upgrade(&mut s, m);
        }
        s
    }

    /// Calls `f` with [`state(i)`](MigrationSet::state) without copying it
    /// when the previous call lent a state at most `CHECKPOINT_EVERY`
    /// migrations before `i` (as when rendering migrations in order). `f`
    /// must not call `with_state` itself.
    pub fn with_state<R>(&self, i: usize, f: impl FnOnce(&Schema) -> R) -> R {
        assert!(
            i <= self.migrations.len(),
            "no state {i} in a set of {}",
            self.migrations.len()
        );
        if i == self.migrations.len() {
            return f(self.last_state());
        }
        let mut cursor = self.cursor.lock().unwrap_or_else(|p| p.into_inner());
        let reuse = matches!(&*cursor, Some((at, _)) if *at <= i && i - *at <= CHECKPOINT_EVERY);
        if !reuse {
            let k = i / CHECKPOINT_EVERY;
            *cursor = Some((k * CHECKPOINT_EVERY, self.checkpoints().at[k].clone()));
        }
        let (at, s) = cursor.as_mut().expect("set above");
        for m in &self.migrations[*at..i] {
            apply_upgrade(s, m);
        }
        *at = i;
        f(s)
    }

    /// The expected history texts, for `state` the word of an applied row.
    #[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
    pub(crate) fn applied_prefixes(&self, state: &str) -> &AppliedPrefixes {
        self.applied
            .get_or_init(|| AppliedPrefixes::new(&self.migrations, state))
    }

    /// The schema after every migration (equal to the snapshot's).
    pub fn last_state(&self) -> &Schema {
        &self.checkpoints().last
    }

    /// Every state in order, `state(0)` to `state(len())`, computed one
    /// from the other.
    pub fn states(&self) -> impl Iterator<Item = Schema> + '_ {
        let mut next = Some(Schema::new());
        let mut i = 0;
        std::iter::from_fn(move || {
            let s = next.take()?;
            if let Some(m) = self.migrations.get(i) {
                let mut after = s.clone();
                apply_upgrade(&mut after, m);
                next = Some(after);
            }
            i += 1;
            Some(s)
        })
    }

    /// Links the function of the Rust step the files call `name` (their
    /// `name = "..."`), for a program that loads its migrations from files
    /// at run time; `embed_migrations!` links every step by itself.
    pub fn with_rust_step(mut self, name: &str, f: RustStepFn) -> MigrationSet {
        self.rust.insert(name.to_string(), f);
        self
    }

    /// The function linked for the Rust step `name`, if any.
    pub fn rust_step(&self, name: &str) -> Option<RustStepFn> {
        self.rust.get(name).copied()
    }

    pub fn len(&self) -> usize {
        self.migrations.len()
    }

    pub fn is_empty(&self) -> bool {
        self.migrations.is_empty()
    }

    pub fn get(&self, version: u32) -> Option<&Migration> {
        version
            .checked_sub(1)
            .and_then(|i| self.migrations.get(i as usize))
    }

    /// The newest version (0 when there are none).
    pub fn head(&self) -> u32 {
        self.migrations.last().map_or(0, |m| m.version)
    }

    /// The statements of one migration in one direction, one list per step.
    pub fn render(
        &self,
        dialect: Dialect,
        version: u32,
        direction: Direction,
    ) -> Result<Vec<Vec<Statement>>, RenderFailure> {
        let m = self
            .get(version)
            .ok_or(RenderFailure::NoSuchMigration(version))?;
        let i = version as usize - 1;
        let (ops, start) = match direction {
            Direction::Up => (&m.file.upgrade, i),
            Direction::Down => (&m.file.downgrade, i + 1),
        };
        self.with_state(start, |start| render_ops(dialect, ops, start)).map_err(|source| match source {
            RenderError::MissingSql { .. } if direction == Direction::Down => {
                let step = ops
                    .iter()
                    .position(|op| matches!(op, Operation::Sql(r) if r.for_dialect(dialect.name()).is_none()))
                    .map_or(0, |p| p + 1);
                RenderFailure::Irreversible {
                    migration: m.id(),
                    step,
                }
            }
            source => RenderFailure::Render {
                migration: m.id(),
                source,
            },
        })
    }
}

debug_as_display!(MigrationError, RenderFailure);

#[cfg(test)]
mod tests;
