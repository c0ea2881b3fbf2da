//! The TOML shape of one migration file.
//!
//! ```toml
//! description = "add priority column"
//! transaction = true          # optional, default true
//! lock_timeout_ms = 2000       # optional (PostgreSQL): overrides the runner's lock_timeout
//! lock_waits = "50ms*3,100ms*5" # optional: the short lock waits tried first, or "none"
//! allow = ["table-rewrite"]    # optional: lint rules accepted for this migration
//!
//! [[upgrade]]
//! op = "add_column"
//! table = "tasks"
//! column = { name = "priority", type = "varchar(20)", default = { str = "medium" } }
//!
//! [[downgrade]]
//! op = "drop_column"
//! table = "tasks"
//! column = { name = "priority", type = "varchar(20)", default = { str = "medium" } }
//! ```
//!
//! Without a `[[downgrade]]` list the downgrade is the inverse of the
//! upgrade (`ops::inverse_all`, applied when the file is read).

use serde::{Deserialize, Serialize};

use crate::ops::Operation;

/// Metadata and the typed operation lists of one migration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MigrationFile {
    /// Human description (the file name carries the snake_case form).
    pub description: String,
    /// Run the whole migration, and its history row, in one transaction
    /// (where the database has transactional DDL). Set to false for steps
    /// that refuse a transaction; each statement then runs on its own and
    /// progress is recorded after each, so an interrupted run resumes.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub transaction: bool,
    /// The `migrator` version that wrote the file, for support questions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generated_by: Option<String>,
    /// On PostgreSQL, how long each statement of this migration may wait for
    /// a lock before it is cancelled and the migration retried; overrides
    /// `Migrator::statement_lock_timeout` (default 1 s). `0` disables it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lock_timeout_ms: Option<u64>,
    /// The short lock waits tried before that maximum (`lock_waits.rs`:
    /// `50ms*3,75ms*3,100ms*9`, or `none`); overrides
    /// `Migrator::lock_waits`. Checked when the file is read.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "crate::lock_waits::serde_spec::deserialize"
    )]
    pub lock_waits: Option<String>,
    /// Lint rules (`migrator lint`) accepted for this migration, by name.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow: Vec<String>,
    /// A squashed migration (`squash.rs`): the SHA-256 of its own canonical
    /// text without this field, so an edit of the baseline is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub squash_digest: Option<String>,
    /// Left out of the text when empty, so that the steps of a migration
    /// written by `generate --empty` are appended as `[[upgrade]]` tables.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub upgrade: Vec<Operation>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub downgrade: Vec<Operation>,
    /// A squashed migration: the migrations `1..=N` it stands for, with the
    /// names and checksums the history of an older database holds.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub replaces: Vec<Replaced>,
}

/// One migration a squashed migration replaces.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Replaced {
    pub version: u32,
    pub name: String,
    pub checksum: String,
}

fn yes() -> bool {
    true
}
fn is_true(b: &bool) -> bool {
    *b
}

impl MigrationFile {
    /// A migration with these steps and every other field at its default
    /// (one transaction, no `generated_by`, no lock timeout, nothing
    /// allowed).
    pub fn new(
        description: impl Into<String>,
        upgrade: Vec<Operation>,
        downgrade: Vec<Operation>,
    ) -> MigrationFile {
        MigrationFile {
            description: description.into(),
            transaction: true,
            generated_by: None,
            lock_timeout_ms: None,
            lock_waits: None,
            allow: Vec::new(),
            squash_digest: None,
            upgrade,
            downgrade,
            replaces: Vec::new(),
        }
    }

    /// Parses normalised text; on error returns the byte offset (when known)
    /// and the message.
    pub fn parse(text: &str) -> Result<MigrationFile, (Option<usize>, String)> {
        toml::from_str(text).map_err(|e| (e.span().map(|s| s.start), e.message().to_string()))
    }

    /// The canonical text of a migration file, with a header comment.
    pub fn to_text(&self, header: &str) -> String {
        // Plain data with string keys always serialises.
        let body = toml::to_string(self).unwrap_or_else(|e| panic!("migration serialises: {e}"));
        let mut out = String::new();
        for line in header.lines() {
            out.push_str("# ");
            out.push_str(line);
            out.push('\n');
        }
        out.push_str(&body);
        out
    }
}
