//! Where the drift check reads from: the crate's `migrator.toml` and
//! snapshot (each snapshot text parsed once per process), and which models
//! `generate` reads (each file's facts kept while its text is the same).
//!
//! A compilation runs every derive of a crate in one process, one after
//! the other: what the first one reads (the configuration, the snapshot, the
//! model folders) is what the next ones would read again, so it is shared
//! for [`FRESH`] instead ([`load_shared`], [`read_by_generate`]). Only the
//! struct's own file is read by each derive. A long-lived process (an
//! editor's macro server) sees a change of the other files at most
//! [`FRESH`] late.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::super::scan::{self, FileFacts};
use crate::config::{Config, CONFIG_FILE};
use crate::schema::Schema;
use crate::snapshot::Snapshot;

/// What the derive of one crate compares against.
#[derive(Debug, Clone, Default)]
pub struct Reference {
    /// Files whose change must rebuild the crate (`migrator.toml` and the
    /// snapshot, those that exist), absolute.
    pub tracked: Vec<PathBuf>,
    /// The snapshot, or `None` when the crate has no snapshot file.
    pub snapshot: Option<SnapshotRef>,
    /// The model folders of `migrator.toml`, absolute: `generate` reads the
    /// models under them, and only those are checked.
    pub model_roots: Vec<PathBuf>,
    /// The dialects `migrator.toml` declares (none: all of them).
    pub dialects: Vec<crate::dialect::Dialect>,
}

/// A snapshot read by [`load`].
#[derive(Debug, Clone)]
pub struct SnapshotRef {
    /// The file as messages show it, relative to the crate root, e.g.
    /// `migrations/schema.toml`.
    pub shown: String,
    pub schema: Arc<Schema>,
}

/// The snapshot texts parsed so far in this process (the compiler, for the
/// derive), so a crate with many models parses its snapshot once. Keyed by
/// path and text, so an edited file is parsed again even in a long-lived
/// process such as an IDE's.
static PARSED: Mutex<Option<(PathBuf, String, Arc<Schema>)>> = Mutex::new(None);

/// Reads the configuration and snapshot of the crate rooted at `root`.
/// Errors are messages naming the file (and line), ready for the user.
pub fn load(root: &Path) -> Result<Reference, String> {
    let mut reference = Reference::default();
    let config_path = root.join(CONFIG_FILE);
    if config_path.is_file() {
        reference.tracked.push(config_path);
    }
    let config = Config::read(root).map_err(|e| e.to_string())?;
    reference.model_roots = config.models.iter().map(|m| root.join(m)).collect();
    reference.dialects = config
        .dialects
        .iter()
        .filter_map(|d| d.parse().ok())
        .collect();
    let relative = config.snapshot_file();
    let path = root.join(&relative);
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(reference),
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    let schema = parse_cached(&path, text).map_err(|e| e.to_string())?;
    reference.tracked.push(path);
    reference.snapshot = Some(SnapshotRef {
        shown: relative.display().to_string(),
        schema,
    });
    Ok(reference)
}

/// How long what one expansion read of a crate's files is reused by the
/// next ones: far longer than the gap between two derives of one
/// compilation, short enough for an editor.
pub const FRESH: Duration = Duration::from_secs(1);

/// What an expansion read, by key (a crate root, a set of model folders),
/// with when it was read.
type Window<K, V> = Mutex<Vec<(K, Instant, V)>>;

/// The value of `key` in `cache` if it was made less than `fresh` ago,
/// else `make()`, kept for the next ones.
fn reused<K: PartialEq, V: Clone>(
    cache: &Window<K, V>,
    key: K,
    fresh: Duration,
    make: impl FnOnce() -> V,
) -> V {
    // See `parse_cached` about poisoning.
    let mut cache = cache.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, _, v)) = cache
        .iter()
        .find(|(k, at, _)| *k == key && at.elapsed() < fresh)
    {
        return v.clone();
    }
    let v = make();
    cache.retain(|(k, _, _)| *k != key);
    cache.push((key, Instant::now(), v.clone()));
    v
}

/// [`load`], shared by the expansions of one compilation: read again only
/// when the last read of `root` is older than [`FRESH`].
pub fn load_shared(root: &Path) -> Result<Reference, String> {
    load_shared_within(root, FRESH)
}

/// [`load_shared`] with a reuse window of `fresh` (tests choose theirs, so
/// that they do not depend on how fast the machine is).
pub(crate) fn load_shared_within(root: &Path, fresh: Duration) -> Result<Reference, String> {
    static LOADED: Window<PathBuf, Result<Reference, String>> = Mutex::new(Vec::new());
    reused(&LOADED, root.to_path_buf(), fresh, || load(root))
}

/// True the first time it is asked for `root` in this process. The files a
/// crate's expansions read need `include_bytes!` once per compilation for
/// Cargo to rebuild the crate when they change; including them in every
/// expansion (200 copies of the snapshot for 200 models) only costs time.
pub fn first_expansion(root: &Path) -> bool {
    static SEEN: Mutex<BTreeSet<PathBuf>> = Mutex::new(BTreeSet::new());
    SEEN.lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(root.to_path_buf())
}

fn parse_cached(
    path: &Path,
    text: String,
) -> Result<Arc<Schema>, crate::migration::MigrationError> {
    // A poisoned lock only means another expansion panicked; the cache is
    // still a valid value or `None`.
    let mut cache = PARSED.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((p, t, schema)) = cache.as_ref() {
        if p == path && *t == text {
            return Ok(Arc::clone(schema));
        }
    }
    let schema = Arc::new(Snapshot::parse(path, &text)?.schema);
    *cache = Some((path.to_path_buf(), text, Arc::clone(&schema)));
    Ok(schema)
}

/// Whether `migrator generate` reads the model named `name` in `file` (a
/// path as the compiler gives it: absolute, or relative to the current
/// folder): the file is under one of `model_roots`, is not a test-only
/// module, and the item is not under `#[cfg(test)]`. So a test's model, or
/// one outside the model folders, is not held to a snapshot that `generate`
/// would never update for it. A name that the file has both under
/// `#[cfg(test)]` and not is not checked: which one this is cannot be told
/// (`migrator check` still compares the one `generate` reads).
pub fn read_by_generate(model_roots: &[PathBuf], file: &Path, name: &str) -> bool {
    read_by_generate_within(model_roots, file, name, FRESH)
}

/// [`read_by_generate`] with a reuse window of `fresh` for the folders.
pub(crate) fn read_by_generate_within(
    model_roots: &[PathBuf],
    file: &Path,
    name: &str,
    fresh: Duration,
) -> bool {
    let Ok(target) = file.canonicalize() else {
        return false;
    };
    let Some((path, test_only)) = model_tree(model_roots, &target, fresh) else {
        return false;
    };
    // The struct's own file is read every time, so its facts follow its text.
    let Ok(text) = std::fs::read_to_string(&path) else {
        return false;
    };
    let facts = facts_cached(&path, text);
    !scan::is_test_only(&path, &test_only)
        && facts.models.iter().any(|m| m == name)
        && !facts.test_models.iter().any(|m| m == name)
}

/// The model files under some roots (each by its canonical path, mapped to
/// the path the walk found) and the test-only modules they declare.
struct ModelTree {
    files: BTreeMap<PathBuf, PathBuf>,
    test_only: Arc<Vec<PathBuf>>,
}

/// The walked path of `target` (canonical) under `roots`, with the
/// test-only modules of every file there; the walk is shared for
/// `fresh`, so the derives of one compilation read the folders once.
fn model_tree(
    roots: &[PathBuf],
    target: &Path,
    fresh: Duration,
) -> Option<(PathBuf, Arc<Vec<PathBuf>>)> {
    static TREES: Window<Vec<PathBuf>, Arc<ModelTree>> = Mutex::new(Vec::new());
    let tree = reused(&TREES, roots.to_vec(), fresh, || {
        let mut files = BTreeMap::new();
        let mut test_only = Vec::new();
        for path in scan::rust_files_under(roots) {
            let Ok(text) = std::fs::read_to_string(&path) else {
                continue;
            };
            test_only.extend(facts_cached(&path, text).test_only.iter().cloned());
            if let Ok(canonical) = path.canonicalize() {
                files.entry(canonical).or_insert(path);
            }
        }
        Arc::new(ModelTree {
            files,
            test_only: Arc::new(test_only),
        })
    });
    let path = tree.files.get(target)?.clone();
    Some((path, Arc::clone(&tree.test_only)))
}

/// [`scan::file_facts`] per file, kept while the file's text is the same,
/// so that a crate with many models parses each source file once.
static FACTS: Mutex<BTreeMap<PathBuf, (String, Arc<FileFacts>)>> = Mutex::new(BTreeMap::new());

fn facts_cached(path: &Path, text: String) -> Arc<FileFacts> {
    // See `parse_cached` about poisoning.
    let mut cache = FACTS.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((t, facts)) = cache.get(path) {
        if *t == text {
            return Arc::clone(facts);
        }
    }
    let facts = Arc::new(scan::file_facts(path, &text));
    cache.insert(path.to_path_buf(), (text, Arc::clone(&facts)));
    facts
}
