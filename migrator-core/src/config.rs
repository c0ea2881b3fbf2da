//! `migrator.toml`: where a crate's models and migrations are and which
//! dialects it targets. Read by the project (`project.rs`, for `generate`
//! and `check`) and by `#[derive(Model)]` (`model/`, to find the snapshot
//! and the dialects), so it is a module of its own that both depend on:
//! the model parser does not import the project back.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::migration::{self, MigrationError};

/// The optional `migrator.toml` at the crate root.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Folders scanned for `#[derive(Model)]` structs, relative to the root.
    #[serde(default = "default_models")]
    pub models: Vec<PathBuf>,
    /// The migrations folder, relative to the root.
    #[serde(default = "default_migrations")]
    pub migrations: PathBuf,
    /// Dialects whose SQL `generate` prints (default: the one of
    /// `DATABASE_URL`, else SQLite).
    #[serde(default)]
    pub dialects: Vec<String>,
    /// A committed diesel `schema.rs` (relative to the root) that `migrator
    /// check` compares with what `migrator print-schema` writes now.
    #[serde(default)]
    pub schema_rs: Option<PathBuf>,
}

fn default_models() -> Vec<PathBuf> {
    vec![PathBuf::from("src")]
}
fn default_migrations() -> PathBuf {
    PathBuf::from("migrations")
}

impl Default for Config {
    fn default() -> Config {
        Config {
            models: default_models(),
            migrations: default_migrations(),
            dialects: Vec::new(),
            schema_rs: None,
        }
    }
}

pub const CONFIG_FILE: &str = "migrator.toml";

impl Config {
    /// Reads `migrator.toml` in `root`; a missing file is the default
    /// configuration. The dialect names are not checked here (see
    /// `Project::open`): `#[derive(Model)]` reads the configuration only
    /// to find the snapshot.
    pub fn read(root: &Path) -> Result<Config, MigrationError> {
        let path = root.join(CONFIG_FILE);
        match std::fs::read_to_string(&path) {
            Ok(text) => Config::parse(&path, &text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Config::default()),
            Err(e) => Err(MigrationError::io(path, e)),
        }
    }

    /// Parses the text of `migrator.toml`; `path` is only used in errors.
    pub fn parse(path: &Path, text: &str) -> Result<Config, MigrationError> {
        toml::from_str(text).map_err(|e| {
            let (line, column) = e
                .span()
                .map(|s| migration::line_col(text, s.start))
                .unwrap_or((0, 0));
            MigrationError::Parse {
                file: path.to_path_buf(),
                line,
                column,
                message: format!(
                    "{}\nhelp: valid keys are `models` (list of folders), `migrations` (folder), `dialects` (list of postgres, sqlite, mysql)",
                    e.message()
                ),
            }
        })
    }

    /// The snapshot file, relative to the crate root.
    pub fn snapshot_file(&self) -> PathBuf {
        self.migrations.join(migration::SNAPSHOT_FILE)
    }
}
