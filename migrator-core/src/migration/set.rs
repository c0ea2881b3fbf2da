//! `MigrationSet`: a validated set of migrations, the schema before and after
//! each one (checkpoints and a cursor, replayed on demand), the history rows
//! the runner checks against, the linked Rust steps, and rendering one
//! migration for a dialect.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use sha2::{Digest, Sha256};

use super::chain::{apply_upgrade, check_chain};
use super::{read_dir, Direction, Migration, MigrationError, RustStepFn, SNAPSHOT_FILE};
use crate::dialect::{render_ops, Dialect, RenderError, Statement};
use crate::ops::Operation;
use crate::schema::Schema;
use crate::snapshot::Snapshot;

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
    pub(super) states: OnceLock<Checkpoints>,
    /// The state [`MigrationSet::with_state`] last lent (its index and the
    /// schema), advanced in place: rendering the pending migrations in order
    /// replays each upgrade once and clones one checkpoint.
    pub(super) cursor: Mutex<Option<(usize, Schema)>>,
    /// What the history table holds when the first `k` migrations are
    /// applied, for the runner's start-up check; computed on first use.
    pub(super) applied: OnceLock<AppliedPrefixes>,
    /// The Rust steps this program links, by the name the files use. Empty
    /// for a set read from files; [`EmbeddedMigrations`] fills it.
    pub(super) rust: BTreeMap<String, RustStepFn>,
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
pub(super) const CHECKPOINT_EVERY: usize = 32;

#[derive(Debug, Clone, Default)]
pub(super) struct Checkpoints {
    /// `at[k]` is the schema before migration `k * CHECKPOINT_EVERY + 1`.
    at: Vec<Schema>,
    /// The schema after the last migration.
    last: Schema,
}

impl Checkpoints {
    /// Collects the checkpoints from the states a replay visits in order.
    pub(super) fn collector(
        n: usize,
    ) -> (Checkpoints, impl FnMut(&mut Checkpoints, usize, &Schema)) {
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
