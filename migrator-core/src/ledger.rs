//! The ledger of a migrations folder: each file's checksum, the `files`
//! entries and the hash chain over them that `schema.toml` records, and the
//! error that names a file (and line) of the folder.
//!
//! Shared by the migration reader (`migration/`), which computes checksums
//! and checks the chain, and the snapshot (`snapshot.rs`), which stores it:
//! both depend on this module, neither on the other's internals, so the
//! snapshot does not import the migration reader back.

use std::path::PathBuf;

use sha2::{Digest, Sha256};

/// Anything wrong with the migrations folder or the snapshot.
#[derive(Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MigrationError {
    /// A file or folder could not be read or written; `source` is the
    /// operating system's error.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: IoSource,
    },
    #[error("{}:{line}:{column}: {message}", file.display())]
    Parse {
        file: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{}: {message}", file.display())]
    Invalid { file: PathBuf, message: String },
    #[error("{}: {message}", dir.display())]
    Chain { dir: PathBuf, message: String },
}

impl MigrationError {
    /// The error of reading or writing `path`.
    pub fn io(path: impl Into<PathBuf>, error: std::io::Error) -> MigrationError {
        MigrationError::Io {
            path: path.into(),
            source: IoSource(std::sync::Arc::new(error)),
        }
    }
}

/// The `std::io::Error` of a [`MigrationError::Io`]: shared, so the error
/// stays `Clone`, and compared by kind and text, so it stays `Eq`.
/// [`IoSource::error`] (or `std::error::Error::source`) gives it back.
#[derive(Debug, Clone)]
pub struct IoSource(std::sync::Arc<std::io::Error>);

impl IoSource {
    /// The operating system's error.
    pub fn error(&self) -> &std::io::Error {
        &self.0
    }

    /// Its kind (`NotFound`, `PermissionDenied`, ...).
    pub fn kind(&self) -> std::io::ErrorKind {
        self.0.kind()
    }
}

impl PartialEq for IoSource {
    fn eq(&self, other: &IoSource) -> bool {
        self.0.kind() == other.0.kind() && self.0.to_string() == other.0.to_string()
    }
}

impl Eq for IoSource {}

impl std::fmt::Display for IoSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(&self.0, f)
    }
}

impl std::error::Error for IoSource {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&*self.0)
    }
}

/// Drops a byte-order mark and turns CRLF and lone CR into LF.
pub fn normalize_text(text: &str) -> String {
    let t = text.strip_prefix('\u{feff}').unwrap_or(text);
    t.replace("\r\n", "\n").replace('\r', "\n")
}

/// The checksum of a migration file's text.
pub fn checksum(text: &str) -> String {
    let mut h = Sha256::new();
    // Copied only when normalizing changes something.
    if text.starts_with('\u{feff}') || text.contains('\r') {
        h.update(normalize_text(text).as_bytes());
    } else {
        h.update(text.as_bytes());
    }
    hex(&h.finalize())
}

/// 1-based line and column of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before
        .rfind('\n')
        .map_or(before.len(), |i| before.len() - i - 1)
        + 1;
    (line, col)
}

/// The chain value for no migrations.
pub fn empty_chain() -> String {
    String::new()
}

/// Extends a hash chain by one migration checksum.
pub fn extend_chain(chain: &str, version: u32, checksum: &str) -> String {
    let mut h = Sha256::new();
    h.update(chain.as_bytes());
    h.update(format!("\n{version:04}:{checksum}").as_bytes());
    hex(&h.finalize())
}

/// The `files` entry of one migration.
pub fn file_entry(checksum: &str, file_name: &str) -> String {
    format!("{checksum} {file_name}")
}

/// The chain over a whole list of (version, checksum) pairs.
pub fn chain_of<'a>(items: impl IntoIterator<Item = (u32, &'a str)>) -> String {
    items
        .into_iter()
        .fold(empty_chain(), |acc, (v, c)| extend_chain(&acc, v, c))
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}
