//! Migrations compiled into the program by `embed_migrations!`.
//!
//! Contract:
//! - the macro reads and validates the folder at compile time with the same
//!   reader as the CLI, and emits one [`EmbeddedMigration`] per file: its
//!   number, name, file name and checksum as literals, and a function that
//!   builds its typed operations (no file is parsed at run time);
//! - [`EmbeddedMigrations`] is `Copy` and const-constructible, so it fits in
//!   a `static` (or a `const`, as diesel's does); its [`MigrationSet`] is
//!   built once, on first use, by calling those functions; the schema
//!   before each migration is replayed from the upgrades only when needed
//!   (the downgrades were checked by the macro);
//! - it links every Rust step the files name, so the runner can run them;
//!   a set loaded from files (the CLI) links none and refuses them.

use std::fmt;
use std::path::PathBuf;
use std::sync::OnceLock;

use super::{Migration, MigrationFile, MigrationSet, RustStepFn};

/// One embedded migration file.
#[derive(Clone, Copy)]
pub struct EmbeddedMigration {
    version: u32,
    name: &'static str,
    file_name: &'static str,
    checksum: &'static str,
    file: fn() -> MigrationFile,
}

impl fmt::Debug for EmbeddedMigration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmbeddedMigration")
            .field("version", &self.version)
            .field("file_name", &self.file_name)
            .field("checksum", &self.checksum)
            .finish_non_exhaustive()
    }
}

impl EmbeddedMigration {
    /// Used by `embed_migrations!`; `file` builds the parsed file.
    pub const fn new(
        version: u32,
        name: &'static str,
        file_name: &'static str,
        checksum: &'static str,
        file: fn() -> MigrationFile,
    ) -> EmbeddedMigration {
        EmbeddedMigration {
            version,
            name,
            file_name,
            checksum,
            file,
        }
    }

    pub fn version(&self) -> u32 {
        self.version
    }

    /// The snake_case description from the file name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// E.g. `0004_add_priority_column.toml`.
    pub fn file_name(&self) -> &'static str {
        self.file_name
    }

    /// SHA-256 (hex) of the normalised file text, as the CLI computes it.
    pub fn checksum(&self) -> &'static str {
        self.checksum
    }

    /// `0004_add_priority_column`, as shown to users.
    pub fn id(&self) -> String {
        format!("{:04}_{}", self.version, self.name)
    }

    /// The file's contents (description, operations), built anew.
    pub fn file(&self) -> MigrationFile {
        (self.file)()
    }

    /// The same value `MigrationSet::load` reads from the file.
    pub fn migration(&self) -> Migration {
        Migration {
            version: self.version,
            name: self.name.to_string(),
            file_name: self.file_name.to_string(),
            checksum: self.checksum.to_string(),
            file: self.file(),
        }
    }
}

/// The migrations of a folder, compiled in by
/// `embed_migrations!("migrations")` into a `static`, and applied with
/// `migrator::Migrator::new(&MIGRATIONS).up(&mut conn)`; the facade's
/// `embed_migrations!` documentation has a running example.
#[derive(Clone, Copy)]
pub struct EmbeddedMigrations {
    dir: &'static str,
    migrations: &'static [EmbeddedMigration],
    rust_steps: &'static [(&'static str, RustStepFn)],
    set: &'static OnceLock<MigrationSet>,
}

impl fmt::Debug for EmbeddedMigrations {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmbeddedMigrations")
            .field("dir", &self.dir)
            .field("migrations", &self.migrations)
            .field(
                "rust_steps",
                &self.rust_steps.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl EmbeddedMigrations {
    /// Used by `embed_migrations!`. `dir` is the folder as written in the
    /// macro call (for messages), `migrations` are sorted by version and
    /// validated, `rust_steps` maps each Rust step name of the files to its
    /// function, and `set` is the (empty) cell that caches the
    /// [`MigrationSet`].
    pub const fn new(
        dir: &'static str,
        migrations: &'static [EmbeddedMigration],
        rust_steps: &'static [(&'static str, RustStepFn)],
        set: &'static OnceLock<MigrationSet>,
    ) -> EmbeddedMigrations {
        EmbeddedMigrations {
            dir,
            migrations,
            rust_steps,
            set,
        }
    }

    /// The folder, as written in `embed_migrations!`.
    pub fn dir(&self) -> &'static str {
        self.dir
    }

    pub fn len(&self) -> usize {
        self.migrations.len()
    }

    pub fn is_empty(&self) -> bool {
        self.migrations.is_empty()
    }

    /// The migrations, oldest first.
    pub fn iter(&self) -> std::slice::Iter<'static, EmbeddedMigration> {
        self.migrations.iter()
    }

    pub fn get(&self, version: u32) -> Option<&'static EmbeddedMigration> {
        version
            .checked_sub(1)
            .and_then(|i| self.migrations.get(i as usize))
    }

    /// The newest version (0 when there are none).
    pub fn head(&self) -> u32 {
        self.migrations.last().map_or(0, |m| m.version)
    }

    /// The names of the Rust steps the files name, each linked to its
    /// function.
    pub fn rust_steps(&self) -> &'static [(&'static str, RustStepFn)] {
        self.rust_steps
    }

    /// The validated set the runner works on, built on first use.
    pub fn set(&self) -> &'static MigrationSet {
        self.set.get_or_init(|| {
            let migrations: Vec<Migration> =
                self.migrations.iter().map(|m| m.migration()).collect();
            // The macro validated the chain (every downgrade included) on
            // this same data; the schema before each migration is computed
            // only if something needs it (rendering a pending migration).
            let mut set = MigrationSet::prevalidated(PathBuf::from(self.dir), migrations);
            for (name, f) in self.rust_steps {
                set = set.with_rust_step(name, *f);
            }
            set
        })
    }
}

impl AsRef<MigrationSet> for EmbeddedMigrations {
    fn as_ref(&self) -> &MigrationSet {
        self.set()
    }
}

impl IntoIterator for EmbeddedMigrations {
    type Item = &'static EmbeddedMigration;
    type IntoIter = std::slice::Iter<'static, EmbeddedMigration>;
    fn into_iter(self) -> Self::IntoIter {
        self.migrations.iter()
    }
}

impl IntoIterator for &EmbeddedMigrations {
    type Item = &'static EmbeddedMigration;
    type IntoIter = std::slice::Iter<'static, EmbeddedMigration>;
    fn into_iter(self) -> Self::IntoIter {
        self.migrations.iter()
    }
}
