//! What the scan learned from each model file, kept between runs of the
//! CLI, so that `generate` and `check` parse only the files that changed
//! since the last run (one edited file of 200 is one file parsed).
//!
//! Contract:
//! - an entry is used only for a file whose text has the same SHA-256 as
//!   when it was scanned, by the same build of the program (its version and
//!   its executable's size and modification time are in the cache's first
//!   line, so a rebuilt or upgraded migrator starts afresh);
//! - what an entry gives is exactly what scanning the file gives (tested);
//!   files with errors are not kept, so every error is found anew;
//! - the cache is one file per set of model folders, in the user's cache
//!   folder (`$MIGRATOR_CACHE_DIR`, else `$XDG_CACHE_HOME/migrator`, else
//!   `~/.cache/migrator`), written whole to a temporary file and renamed,
//!   so a reader never sees half of it; `MIGRATOR_CACHE=off` turns it off.
//!   A cache that cannot be read or written is ignored: it only saves time.
//! - folders whose `.rs` files add up to less than [`MIN_BYTES`] are not
//!   cached: they scan in a few milliseconds anyway. Old cache files are
//!   not removed (one per set of model folders; a project in a temporary
//!   folder leaves one behind).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::{Located, Pos, ScannedFile};
use crate::ledger::hex;
use crate::model::ModelDef;

/// Below this many bytes of `.rs` files under the model folders, nothing
/// is cached.
pub(super) const MIN_BYTES: usize = 64 * 1024;

const MAGIC: &str = "migrator scan cache 1";

/// The cache of one set of model folders: the entries read from disk (by
/// file, with the hash of the text they were made from) and those made by
/// this run.
pub(super) struct Cache {
    path: PathBuf,
    header: String,
    /// The cache file as read (after its header).
    text: String,
    /// File -> (hash, where its entry is in `text`).
    old: BTreeMap<PathBuf, (String, std::ops::Range<usize>)>,
}

/// The cache file for `roots`, and its entries if it exists and was written
/// by this build. `None` when caching is off or there is no cache folder.
pub(super) fn open(roots: &[PathBuf]) -> Option<Cache> {
    if std::env::var_os("MIGRATOR_CACHE").is_some_and(|v| v == "off") {
        return None;
    }
    let dir = match std::env::var_os("MIGRATOR_CACHE_DIR") {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        Some(_) => return None,
        None => match std::env::var_os("XDG_CACHE_HOME") {
            Some(d) if !d.is_empty() => PathBuf::from(d).join("migrator"),
            _ => PathBuf::from(std::env::var_os("HOME")?).join(".cache/migrator"),
        },
    };
    let mut key = Sha256::new();
    for root in roots {
        let root = root.canonicalize().unwrap_or_else(|_| root.clone());
        key.update(root.to_string_lossy().as_bytes());
        key.update([0]);
    }
    let path = dir.join(format!("scan-{}.txt", &hex(&key.finalize())[..24]));
    Some(open_at(path, &build_id()?))
}

/// [`open`] of the cache at `path`, valid for the build `build`.
pub(super) fn open_at(path: PathBuf, build: &str) -> Cache {
    let header = format!("{MAGIC}\t{}\n", esc(build));
    let text = std::fs::read_to_string(&path)
        .ok()
        .and_then(|text| text.strip_prefix(&header).map(str::to_string))
        .unwrap_or_default();
    let old = entries(&text);
    Cache {
        path,
        header,
        text,
        old,
    }
}

/// This program's version and executable (path, size, modification
/// time), as a cache key; `None`, and no cache, when the executable cannot
/// be looked at: a rebuilt program must never read an older one's entries.
fn build_id() -> Option<String> {
    let exe = std::env::current_exe().ok()?;
    let meta = exe.metadata().ok()?;
    let modified = meta
        .modified()
        .ok()?
        .duration_since(std::time::UNIX_EPOCH)
        .ok()?
        .as_nanos();
    Some(format!(
        "{} {} {} {modified}",
        env!("CARGO_PKG_VERSION"),
        exe.display(),
        meta.len(),
    ))
}

/// The hash the entries are keyed by.
pub(super) fn text_hash(text: &str) -> String {
    hex(&Sha256::digest(text.as_bytes()))
}

/// The entries of a cache text after its header: `F\t<file>\t<hash>\t<len>`
/// lines, each followed by `len` bytes of entry.
fn entries(all: &str) -> BTreeMap<PathBuf, (String, std::ops::Range<usize>)> {
    let mut out = BTreeMap::new();
    let mut text = all;
    while let Some((line, rest)) = text.split_once('\n') {
        let mut f = line.split('\t');
        let (Some("F"), Some(file), Some(hash), Some(len), None) =
            (f.next(), f.next(), f.next(), f.next(), f.next())
        else {
            break;
        };
        let Some(len) = len.parse::<usize>().ok().filter(|l| *l <= rest.len()) else {
            break;
        };
        if !rest.is_char_boundary(len) {
            break;
        }
        let start = all.len() - rest.len();
        out.insert(
            PathBuf::from(unesc(file)),
            (hash.to_string(), start..start + len),
        );
        text = &rest[len..];
    }
    out
}

impl Cache {
    /// The scan of `file` as kept, if its text still hashes to `hash`.
    pub(super) fn get(&self, file: &Path, hash: &str) -> Option<ScannedFile> {
        let (h, range) = self.old.get(file)?;
        if h != hash {
            return None;
        }
        decode(file, &self.text[range.clone()])
    }

    /// Writes the cache for these scans (in file order, with the hash of
    /// each file's text), unless it already holds exactly them. A failure
    /// is ignored: the next run scans again.
    pub(super) fn store(&self, scans: &[(PathBuf, String, &ScannedFile)]) {
        let kept: Vec<_> = scans.iter().filter(|(_, _, s)| cacheable(s)).collect();
        let unchanged = kept.len() == self.old.len()
            && kept
                .iter()
                .all(|(f, h, _)| self.old.get(f).is_some_and(|(old, _)| old == h));
        if unchanged {
            return;
        }
        let _ = self.write(&kept);
    }

    /// The entries streamed to a temporary file (the unchanged ones copied
    /// from the old text as they are), then renamed over the cache.
    fn write(&self, kept: &[&(PathBuf, String, &ScannedFile)]) -> std::io::Result<()> {
        use std::io::Write as _;
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let tmp = self
            .path
            .with_extension(format!("tmp{}", std::process::id()));
        let written = (|| {
            let mut out = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
            out.write_all(self.header.as_bytes())?;
            for (file, hash, scanned) in kept {
                let fresh;
                let body = match self.old.get(file) {
                    Some((h, range)) if h == hash => &self.text[range.clone()],
                    _ => {
                        fresh = encode(scanned);
                        &fresh
                    }
                };
                let file = esc(&file.to_string_lossy());
                writeln!(out, "F\t{file}\t{hash}\t{}", body.len())?;
                out.write_all(body.as_bytes())?;
            }
            out.flush()
        })()
        .and_then(|()| std::fs::rename(&tmp, &self.path));
        if written.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
        written
    }
}

/// Only what scanning gives without an error is kept.
fn cacheable(s: &ScannedFile) -> bool {
    s.errors.is_empty() && !matches!(s.models, Some(Err(_)))
}

/// Backslash, tab and newline escaped, so that any name fits in a field.
fn esc(s: &str) -> String {
    if !s.contains(['\\', '\t', '\n', '\r']) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
    out
}

fn unesc(s: &str) -> String {
    if !s.contains('\\') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

fn opt(s: &Option<String>) -> String {
    match s {
        Some(s) => format!("={}", esc(s)),
        None => "-".to_string(),
    }
}

fn unopt(s: &str) -> Option<Option<String>> {
    match s {
        "-" => Some(None),
        s => Some(Some(unesc(s.strip_prefix('=')?))),
    }
}

/// An entry: `T` lines (test-only module paths), then either `N` (the file
/// was not read for models) or `M` lines (one per model, each followed by
/// its `R`, `K`, `D`, `P` and `O` lines), then `S\t<len>` and the models' tables
/// in the snapshot's text, in model order.
fn encode(s: &ScannedFile) -> String {
    let mut out = String::new();
    for t in &s.test_only {
        out.push_str(&format!("T\t{}\n", esc(&t.to_string_lossy())));
    }
    let models = match &s.models {
        Some(Ok(models)) => models,
        _ => {
            out.push_str("N\n");
            return out;
        }
    };
    for m in models {
        let d = &m.def;
        out.push_str(&format!(
            "M\t{}\t{}\t{}\t{}\t{}\t{}\t{}\n",
            esc(&d.struct_name),
            d.line,
            opt(&d.renamed_from),
            m.ident.line,
            m.ident.column,
            m.table.line,
            m.table.column,
        ));
        for (new, old) in &d.column_renames {
            out.push_str(&format!("R\t{}\t{}\n", esc(new), esc(old)));
        }
        for k in &d.kept {
            out.push_str(&format!("K\t{}\n", esc(k)));
        }
        for f in &d.diesel {
            out.push_str(&format!(
                "D\t{}\t{}\t{}\t{}\n",
                esc(&f.column),
                esc(&f.field),
                opt(&f.diesel_type),
                u8::from(f.nullable_elements)
            ));
        }
        for (tag, map) in [("P", &m.foreign_keys), ("O", &m.objects)] {
            for (name, pos) in map {
                out.push_str(&format!(
                    "{tag}\t{}\t{}\t{}\n",
                    esc(name),
                    pos.line,
                    pos.column
                ));
            }
        }
    }
    let tables = crate::snapshot::tables_text(models.iter().map(|m| &m.def.table));
    out.push_str(&format!("S\t{}\n", tables.len()));
    out.push_str(&tables);
    out
}

fn decode(file: &Path, body: &str) -> Option<ScannedFile> {
    let mut scanned = ScannedFile::default();
    let mut models: Vec<Located> = Vec::new();
    let mut rest = body;
    let pos = |l: &str, c: &str| {
        Some(Pos {
            line: l.parse().ok()?,
            column: c.parse().ok()?,
        })
    };
    loop {
        let (line, after) = rest.split_once('\n')?;
        rest = after;
        let f: Vec<&str> = line.split('\t').collect();
        match f[..] {
            ["T", path] => scanned.test_only.push(PathBuf::from(unesc(path))),
            ["N"] => return Some(scanned),
            ["M", name, line, renamed_from, il, ic, tl, tc] => models.push(Located {
                def: ModelDef {
                    struct_name: unesc(name),
                    table: crate::schema::Table::new(""),
                    renamed_from: unopt(renamed_from)?,
                    column_renames: Vec::new(),
                    kept: Vec::new(),
                    diesel: Vec::new(),
                    file: Some(file.to_path_buf()),
                    line: line.parse().ok()?,
                },
                ident: pos(il, ic)?,
                table: pos(tl, tc)?,
                foreign_keys: BTreeMap::new(),
                objects: BTreeMap::new(),
            }),
            ["R", new, old] => models
                .last_mut()?
                .def
                .column_renames
                .push((unesc(new), unesc(old))),
            ["K", name] => models.last_mut()?.def.kept.push(unesc(name)),
            ["D", column, field, ty, nullable_elements] => {
                let f = crate::model::DieselField {
                    column: unesc(column),
                    field: unesc(field),
                    diesel_type: unopt(ty)?,
                    nullable_elements: match nullable_elements {
                        "0" => false,
                        "1" => true,
                        _ => return None,
                    },
                };
                models.last_mut()?.def.diesel.push(f);
            }
            ["P", name, l, c] => {
                let p = pos(l, c)?;
                models.last_mut()?.foreign_keys.insert(unesc(name), p);
            }
            ["O", name, l, c] => {
                let p = pos(l, c)?;
                models.last_mut()?.objects.insert(unesc(name), p);
            }
            ["S", len] => {
                let len: usize = len.parse().ok()?;
                if rest.len() != len {
                    return None;
                }
                let tables = crate::snapshot::tables_from_text(rest)?;
                if tables.len() != models.len() {
                    return None;
                }
                for (m, t) in models.iter_mut().zip(tables) {
                    m.def.table = t;
                }
                scanned.models = Some(Ok(models));
                return Some(scanned);
            }
            _ => return None,
        }
    }
}
