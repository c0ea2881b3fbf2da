//! Reading models from source files, for the CLI.
//!
//! Contract: [`parse_source`] finds every struct deriving `Model` (any path
//! whose last segment is `Model`, so `migrator::Model` too), at the top level
//! or in inline `mod` blocks, and parses it exactly as the derive does. Items
//! and modules under `#[cfg(test)]` are left out, since a test's models are
//! not the application's schema; [`scan_dirs`] also leaves out the files of
//! out-of-line modules declared that way (`#[cfg(test)] mod tests;`). It
//! reads every `.rs` file under its roots in sorted path order (skipping hidden folders and `target`), so the
//! result is the same on every machine (files are parsed on as many threads
//! as there are cores, and their results put back in that order), then
//! checks what needs all models:
//! one model per table, foreign keys that reference a modelled primary key
//! or unique column of the same type, and object names (indexes,
//! constraints) unique across the schema, as PostgreSQL and MySQL require.
//! Those checks run only when every model parsed, so a broken model does not
//! also show up as a missing foreign key target.

mod cache;
#[cfg(test)]
mod cache_tests;
mod checks;
mod test_modules;

use checks::build;
use test_modules::test_modules;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use proc_macro2::Span;
use syn::ext::IdentExt as _;
use syn::punctuated::Punctuated;
use syn::{Attribute, DeriveInput, Item, Meta, Token};

use super::ctxt::with_help;
use super::lower::Lowered;
use super::{parse_spanned, ModelDef, ModelError, Models};

/// Every model in one source file, or every error in it (each with its line
/// and column). `path` is used for messages only.
pub fn parse_source(path: &Path, src: &str) -> Result<Vec<ModelDef>, Vec<ModelError>> {
    parse_source_spanned(path, src).map(|all| all.into_iter().map(|l| l.def).collect())
}

/// [`scan_dirs`] with one root.
pub fn scan_dir(root: &Path) -> Result<Models, Vec<ModelError>> {
    scan_dirs(&[root])
}

/// Every model under `roots` (folders, or single `.rs` files), checked
/// together. Use this rather than merging several [`scan_dir`] results, so
/// that a foreign key may reference a model under another root. Index
/// names must be unique across the database, as PostgreSQL and SQLite
/// want; [`scan_dirs_with`] relaxes that for a MySQL-only project.
pub fn scan_dirs<P: AsRef<Path>>(roots: &[P]) -> Result<Models, Vec<ModelError>> {
    scan_dirs_with(roots, IndexNames::SchemaWide)
}

/// Where index and unique-constraint names must be unique.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IndexNames {
    /// Across the whole database, together with the table names: indexes
    /// share PostgreSQL's relation namespace and SQLite's schema namespace.
    /// The rule of a project that targets PostgreSQL or SQLite, or that
    /// declares no dialect.
    SchemaWide,
    /// Per table, MySQL's and MariaDB's rule (`DROP INDEX name ON table`):
    /// two tables may each have an `idx_name`. Foreign key and check names
    /// stay unique across the database (InnoDB's and MySQL 8's rule). The
    /// rule of a project whose `dialects` are only `mysql`.
    PerTable,
}

/// [`scan_dirs`] with the index-name rule of the project's databases.
pub fn scan_dirs_with<P: AsRef<Path>>(
    roots: &[P],
    index_names: IndexNames,
) -> Result<Models, Vec<ModelError>> {
    scan(roots, index_names, None, true)
}

/// [`scan_dirs_with`] on the calling thread only: what a macro uses.
/// proc-macro2 decides once per process whether it runs inside a macro,
/// and a thread the macro spawns would then reach for the compiler's
/// token API, which only the macro's own thread may use.
pub fn scan_dirs_in_macro<P: AsRef<Path>>(
    roots: &[P],
    index_names: IndexNames,
) -> Result<Models, Vec<ModelError>> {
    scan(roots, index_names, None, false)
}

/// [`scan_dirs_with`], parsing only the files that changed since the last
/// run: what the scan learned from the others is kept in the user's cache
/// folder (see `scan/cache.rs`). The result is the same. What the CLI uses.
pub fn scan_dirs_cached<P: AsRef<Path>>(
    roots: &[P],
    index_names: IndexNames,
) -> Result<Models, Vec<ModelError>> {
    let paths: Vec<PathBuf> = roots.iter().map(|r| r.as_ref().to_path_buf()).collect();
    match cache::open(&paths) {
        Some(c) => scan(roots, index_names, Some((&c, cache::MIN_BYTES)), true),
        None => scan(roots, index_names, None, true),
    }
}

/// The scan, with a cache used when the model files add up to at least
/// the given number of bytes.
fn scan<P: AsRef<Path>>(
    roots: &[P],
    index_names: IndexNames,
    cache: Option<(&cache::Cache, usize)>,
    parallel: bool,
) -> Result<Models, Vec<ModelError>> {
    let mut errors = Vec::new();
    let mut files = Vec::new();
    for root in roots {
        let root = root.as_ref();
        if root.is_file() {
            files.push(root.to_path_buf());
        } else {
            rust_files(root, &mut files, &mut errors);
        }
    }
    files.sort();
    files.dedup();

    // Pass 1: parse the files that may hold models, and learn from every
    // file which files are test-only modules (`#[cfg(test)] mod tests;`).
    // Files are independent, so they are parsed on several threads; each
    // thread turns its spans into lines and columns (proc-macro2 resolves
    // them through a source map of the thread that parsed the file).
    let (scanned, hashes, bytes) = scan_files(&files, cache.map(|(c, _)| c), parallel);
    if let Some((c, _)) = cache.filter(|(_, min)| bytes >= *min) {
        let scans: Vec<_> = files
            .iter()
            .zip(&hashes)
            .zip(&scanned)
            .filter_map(|((f, h), s)| Some((f.clone(), h.clone()?, s)))
            .collect();
        c.store(&scans);
    }
    let mut test_only = Vec::new();
    for file in &scanned {
        errors.extend(file.errors.iter().cloned());
        test_only.extend(file.test_only.iter().cloned());
    }
    // Pass 2: the models of every file that is not test-only.
    let mut parsed = Vec::new();
    for (file, scanned) in files.iter().zip(scanned) {
        if is_test_only(file, &test_only) {
            continue;
        }
        match scanned.models {
            Some(Ok(models)) => parsed.extend(models),
            Some(Err(e)) => errors.extend(e),
            None => {}
        }
    }
    let models = errors
        .is_empty()
        .then(|| build(parsed, index_names, &mut errors));
    match models {
        Some(models) if errors.is_empty() => Ok(models),
        _ => {
            // Errors come pass by pass and check by check; an editor wants
            // them in file order, then source order (the sort is stable).
            errors.sort_by(|a, b| (&a.file, a.line, a.column).cmp(&(&b.file, b.line, b.column)));
            Err(errors)
        }
    }
}

/// What [`scan_dirs`] learns from one file without building its models:
/// the names of the `#[derive(Model)]` items it reads there, of those it
/// leaves out as test-only (`#[cfg(test)]`), and the test-only module files
/// and folders the file declares. The derive's drift check uses it to check
/// the models that `generate` reads and no others.
///
/// Names, not lines: inside a procedural macro, syn gives text it parses
/// the macro's call site as span, so lines are not known here.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct FileFacts {
    pub models: Vec<String>,
    pub test_models: Vec<String>,
    pub test_only: Vec<PathBuf>,
}

/// [`FileFacts`] of `file`, whose text is `src`. A file that does not parse
/// has no models here (the CLI reports it).
pub(crate) fn file_facts(file: &Path, src: &str) -> FileFacts {
    let mut facts = FileFacts::default();
    // The same shortcut as `scan_dirs`.
    if !src.contains("Model") && !src.contains("cfg(test)") {
        return facts;
    }
    let Ok(ast) = syn::parse_file(src) else {
        return facts;
    };
    test_modules(file, &ast, &mut facts.test_only);
    let mut all = Vec::new();
    collect_names(&ast.items, &mut all);
    let mut inputs = Vec::new();
    collect(ast.items, &mut inputs);
    facts.models = inputs.iter().map(|i| i.ident.unraw().to_string()).collect();
    // Whatever `collect` did not take is under `#[cfg(test)]`.
    let mut read = facts.models.clone();
    for name in all {
        match read.iter().position(|m| *m == name) {
            Some(i) => {
                read.swap_remove(i);
            }
            None => facts.test_models.push(name),
        }
    }
    facts
}

/// The name of every item deriving `Model` among `items`, `#[cfg(test)]`
/// or not, descending into inline modules.
fn collect_names(items: &[Item], out: &mut Vec<String>) {
    for item in items {
        match item {
            Item::Struct(s) if derives_model(&s.attrs) => out.push(s.ident.unraw().to_string()),
            Item::Enum(e) if derives_model(&e.attrs) => out.push(e.ident.unraw().to_string()),
            Item::Union(u) if derives_model(&u.attrs) => out.push(u.ident.unraw().to_string()),
            Item::Mod(m) => {
                if let Some((_, items)) = &m.content {
                    collect_names(items, out);
                }
            }
            _ => {}
        }
    }
}

/// The `.rs` files `scan_dirs` reads under `roots`, in its order; folders
/// that cannot be read are left out.
pub(crate) fn rust_files_under(roots: &[PathBuf]) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut ignored = Vec::new();
    for root in roots {
        if root.is_file() {
            files.push(root.clone());
        } else {
            rust_files(root, &mut files, &mut ignored);
        }
    }
    files.sort();
    files.dedup();
    files
}

/// Whether `file` is, or is inside, one of the test-only modules.
pub(crate) fn is_test_only(file: &Path, test_only: &[PathBuf]) -> bool {
    test_only.iter().any(|t| file.starts_with(t))
}

fn parse_source_spanned(path: &Path, src: &str) -> Result<Vec<Lowered>, Vec<ModelError>> {
    let file = syn::parse_file(src).map_err(|e| located(path, lex_error_explained(e)))?;
    models_of(path, file)
}

fn models_of(path: &Path, file: syn::File) -> Result<Vec<Lowered>, Vec<ModelError>> {
    let mut inputs = Vec::new();
    collect(file.items, &mut inputs);
    let mut models = Vec::new();
    let mut errors = Vec::new();
    for input in &inputs {
        match parse_spanned(input) {
            Ok(mut lowered) => {
                lowered.def.file = Some(path.to_path_buf());
                models.push(lowered);
            }
            Err(e) => errors.extend(located(path, e)),
        }
    }
    if errors.is_empty() {
        Ok(models)
    } else {
        Err(errors)
    }
}

/// The derive inputs among `items`, in source order, descending into inline
/// modules. Enums and unions are collected too, so that they get the
/// derive's error rather than being silently ignored.
fn collect(items: Vec<Item>, out: &mut Vec<DeriveInput>) {
    for item in items {
        match item {
            Item::Struct(s) if derives_model(&s.attrs) && !is_cfg_test(&s.attrs) => {
                out.push(s.into())
            }
            Item::Enum(e) if derives_model(&e.attrs) && !is_cfg_test(&e.attrs) => {
                out.push(e.into())
            }
            Item::Union(u) if derives_model(&u.attrs) && !is_cfg_test(&u.attrs) => {
                out.push(u.into())
            }
            Item::Mod(m) if !is_cfg_test(&m.attrs) => {
                if let Some((_, items)) = m.content {
                    collect(items, out);
                }
            }
            _ => {}
        }
    }
}

fn derives_model(attrs: &[Attribute]) -> bool {
    attrs
        .iter()
        .filter(|a| a.path().is_ident("derive"))
        .filter_map(|a| {
            a.parse_args_with(Punctuated::<syn::Path, Token![,]>::parse_terminated)
                .ok()
        })
        .flatten()
        .any(|p| p.segments.last().is_some_and(|s| s.ident == "Model"))
}

fn is_cfg_test(attrs: &[Attribute]) -> bool {
    attrs.iter().any(|a| match &a.meta {
        Meta::List(list) => list.path.is_ident("cfg") && list.tokens.to_string() == "test",
        _ => false,
    })
}

/// Every `.rs` file under `dir`. Symlinked folders are not followed, so a
/// link cycle cannot make the scan loop.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>, errors: &mut Vec<ModelError>) {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) => {
            errors.push(whole_file(dir, format!("cannot read folder: {e}")));
            return;
        }
    };
    for entry in entries {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                errors.push(whole_file(dir, format!("cannot read folder: {e}")));
                continue;
            }
        };
        let path = entry.path();
        let Ok(file_type) = entry.file_type() else {
            continue;
        };
        if file_type.is_dir() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if !name.starts_with('.') && name != "target" {
                rust_files(&path, out, errors);
            }
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// proc-macro2's tokenizer reports any failure (say an unclosed `(`) as
/// "cannot parse string into token stream"; say what that usually means.
fn lex_error_explained(err: syn::Error) -> syn::Error {
    if err.to_string() != "cannot parse string into token stream" {
        return err;
    }
    syn::Error::new(
        err.span(),
        with_help(
            "this file is not valid Rust: an unclosed delimiter or a malformed literal starts here",
            "run `cargo check` for the compiler's diagnosis",
        ),
    )
}

/// One error per message of `err`, located by its span. Outside a
/// procedural macro, proc-macro2 keeps real line/column information
/// (feature `span-locations`).
fn located(file: &Path, err: syn::Error) -> Vec<ModelError> {
    err.into_iter()
        .map(|e| at(file, e.span(), e.to_string()))
        .collect()
}

fn at(file: &Path, span: Span, message: String) -> ModelError {
    at_pos(file, Pos::of(span), message)
}

fn at_pos(file: &Path, pos: Pos, message: String) -> ModelError {
    ModelError {
        file: file.to_path_buf(),
        line: pos.line,
        column: pos.column,
        message,
    }
}

/// Where a token starts: 1-based line, 1-based column in characters (as
/// rustc counts them).
#[derive(Debug, Clone, Copy)]
struct Pos {
    line: usize,
    column: usize,
}

impl Pos {
    /// Only meaningful on the thread that parsed the span's file.
    fn of(span: Span) -> Pos {
        let start = span.start();
        Pos {
            line: start.line,
            column: start.column + 1,
        }
    }
}

/// A [`Lowered`] model with its spans resolved to positions, so that it can
/// leave the thread that parsed it.
#[derive(Debug)]
struct Located {
    def: ModelDef,
    /// The struct's name.
    ident: Pos,
    /// `table = "..."`, else the struct's name.
    table: Pos,
    /// Foreign key name -> its declaration.
    foreign_keys: BTreeMap<String, Pos>,
    /// Object name -> its declaration, by name.
    objects: BTreeMap<String, Pos>,
}

impl Located {
    fn new(lowered: Lowered) -> Located {
        let spans = lowered.spans;
        let positions =
            |m: BTreeMap<String, Span>| m.into_iter().map(|(k, s)| (k, Pos::of(s))).collect();
        Located {
            def: lowered.def,
            ident: Pos::of(spans.ident),
            table: Pos::of(spans.table),
            foreign_keys: positions(spans.foreign_keys),
            objects: positions(spans.objects),
        }
    }
}

/// What pass 1 of [`scan_dirs`] learns from one file.
#[derive(Debug, Default)]
struct ScannedFile {
    /// The file cannot be read, or (when it may hold models) parsed.
    errors: Vec<ModelError>,
    /// The test-only module files and folders it declares.
    test_only: Vec<PathBuf>,
    /// Its models, when it may hold some and parsed.
    models: Option<Result<Vec<Located>, Vec<ModelError>>>,
}

/// One file scanned, with the hash of its text when there is a cache (a
/// file that cannot be read has none) and its size: from the cache when
/// it holds the same text, else parsed.
fn scan_file(file: &Path, cache: Option<&cache::Cache>) -> (ScannedFile, Option<String>, usize) {
    let src = match fs::read_to_string(file) {
        Ok(src) => src,
        Err(e) => {
            let mut out = ScannedFile::default();
            out.errors
                .push(whole_file(file, format!("cannot read file: {e}")));
            return (out, None, 0);
        }
    };
    let Some(cache) = cache else {
        return (scan_text(file, &src), None, src.len());
    };
    let hash = cache::text_hash(&src);
    let scanned = cache
        .get(file, &hash)
        .unwrap_or_else(|| scan_text(file, &src));
    (scanned, Some(hash), src.len())
}

fn scan_text(file: &Path, src: &str) -> ScannedFile {
    let mut out = ScannedFile::default();
    // A file without the word cannot derive `Model`, and one without
    // `cfg(test)` declares no test module; skipping the rest keeps
    // unrelated files (and any syntax syn does not know yet) out of it.
    let has_models = src.contains("Model");
    if !has_models && !src.contains("cfg(test)") {
        return out;
    }
    match syn::parse_file(src) {
        Ok(ast) => {
            test_modules(file, &ast, &mut out.test_only);
            if has_models {
                out.models =
                    Some(models_of(file, ast).map(|m| m.into_iter().map(Located::new).collect()));
            }
        }
        Err(e) if has_models => out.errors.extend(located(file, lex_error_explained(e))),
        // Read only for its test modules: its syntax is cargo's business.
        Err(_) => {}
    }
    out
}

/// [`scan_file`] of every file, in the order of `files`, on up to as many
/// threads as the machine has cores (the calling thread being one).
fn scan_files(
    files: &[PathBuf],
    cache: Option<&cache::Cache>,
    parallel: bool,
) -> (Vec<ScannedFile>, Vec<Option<String>>, usize) {
    use std::sync::atomic::{AtomicUsize, Ordering};
    let threads = if parallel {
        std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(files.len())
    } else {
        1
    };
    let mut results: Vec<Option<(ScannedFile, Option<String>, usize)>> =
        files.iter().map(|_| None).collect();
    if threads <= 1 {
        for (slot, f) in results.iter_mut().zip(files) {
            *slot = Some(scan_file(f, cache));
        }
    } else {
        // Each thread takes the next file not taken yet; the results are
        // put back in file order by index.
        let next = AtomicUsize::new(0);
        let work = || {
            let mut done = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(file) = files.get(i) else {
                    return done;
                };
                done.push((i, scan_file(file, cache)));
            }
        };
        std::thread::scope(|scope| {
            let workers: Vec<_> = (1..threads).map(|_| scope.spawn(work)).collect();
            let mine = work();
            let theirs = workers
                .into_iter()
                .map(|w| w.join().unwrap_or_else(|p| std::panic::resume_unwind(p)));
            for (i, file) in theirs.flatten().chain(mine) {
                results[i] = Some(file);
            }
        });
    }
    // Every index below `files.len()` was taken exactly once.
    let mut scanned = Vec::with_capacity(files.len());
    let mut hashes = Vec::with_capacity(files.len());
    let mut bytes = 0;
    for (s, h, n) in results.into_iter().flatten() {
        scanned.push(s);
        hashes.push(h);
        bytes += n;
    }
    (scanned, hashes, bytes)
}

fn whole_file(file: &Path, message: String) -> ModelError {
    ModelError {
        file: file.to_path_buf(),
        line: 0,
        column: 0,
        message,
    }
}

fn file_of(model: &Located) -> PathBuf {
    model.def.file.clone().unwrap_or_default()
}
