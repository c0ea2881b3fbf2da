//! `embed_migrations!("migrations")` and `#[migration]`: migrations compiled
//! into the program, and the Rust data migrations they call.
//!
//! Contract of [`expand_embed_migrations`]:
//! - the folder is resolved against `CARGO_MANIFEST_DIR` and read with the
//!   CLI's reader ([`read_files`], [`parse_all`], [`Snapshot`], [`check`]),
//!   so the macro accepts exactly what `migrator check` accepts; the first
//!   problem is a compile error on the macro's argument that names the file
//!   (and the line, for syntax errors) with the CLI's message;
//! - it emits one expression of type `::migrator::EmbeddedMigrations`,
//!   usable in a `static`: numbers, names, file names and checksums as
//!   literals, and for each migration a function that builds its typed
//!   operations (`codegen.rs`): nothing is parsed at run time;
//! - every file it read (each migration and `schema.toml`) is named in an
//!   `include_bytes!`, so Cargo rebuilds the crate when one changes; a new
//!   migration always comes with a rewritten `schema.toml` (only
//!   `migrator generate` and `rehash` write migrations, and both rewrite it),
//!   so adding one rebuilds too, without a build script;
//! - each Rust step's `name` and `reverse` becomes a reference to that
//!   function (`crate::` + the path, or the path as written when it starts
//!   with `crate::` or `::`), coerced to `RustStepFn`: a missing function or
//!   a wrong signature is a compile error on the macro call. The reference
//!   goes through a local macro named after the file and the step, which
//!   rustc's note names ("this error originates in the macro
//!   `migration_0002_score_items_upgrade_step_2_name`");
//! - it reads files and never writes any.
//!
//! [`expand_migration_attr`] (`migration_attr.rs`) checks a `#[migration]`
//! function's signature and leaves the function as it is.

use crate::codegen;
mod migration_attr;
#[cfg(test)]
mod tests;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote};
use syn::LitStr;

use crate::migration::{
    check, locate_string, parse_all, read_files, MigrationError, SNAPSHOT_FILE,
};
use crate::ops::Operation;
use crate::snapshot::Snapshot;

pub use migration_attr::expand_migration_attr;

const USAGE: &str = "help: name the migrations folder, relative to the crate's `Cargo.toml`: `embed_migrations!(\"migrations\")`";

/// The expansion of `embed_migrations!(input)`, errors included.
pub fn expand_embed_migrations(input: TokenStream) -> TokenStream {
    let lit: LitStr = match syn::parse2(input.clone()) {
        Ok(lit) => lit,
        Err(_) => {
            let span = input
                .into_iter()
                .next()
                .map_or_else(Span::call_site, |t| t.span());
            let message = format!("expected a string literal: the migrations folder\n{USAGE}");
            return fallback(syn::Error::new(span, message), "migrations");
        }
    };
    let Some(root) = std::env::var_os("CARGO_MANIFEST_DIR") else {
        let message = "`CARGO_MANIFEST_DIR` is not set: `embed_migrations!` resolves the folder against the crate's root, so it must be compiled by Cargo";
        return fallback(syn::Error::new(lit.span(), message), &lit.value());
    };
    expand_in(Path::new(&root), &lit)
}

/// [`expand_embed_migrations`] for a crate rooted at `root`.
pub fn expand_in(root: &Path, lit: &LitStr) -> TokenStream {
    embed(root, lit).unwrap_or_else(|e| fallback(e, &lit.value()))
}

/// The error, and an empty set of the right type, so that the `static` it
/// initialises adds no error of its own (docs/DESIGN.md §7.7).
fn fallback(error: syn::Error, dir: &str) -> TokenStream {
    let error = error.into_compile_error();
    quote! {
        {
            #error
            static __MIGRATOR_SET: ::migrator::__private::OnceLock<::migrator::__private::MigrationSet> =
                ::migrator::__private::OnceLock::new();
            ::migrator::EmbeddedMigrations::new(#dir, &[], &[], &__MIGRATOR_SET)
        }
    }
}

fn embed(root: &Path, lit: &LitStr) -> syn::Result<TokenStream> {
    let rel = lit.value();
    let fail = |message: String| syn::Error::new(lit.span(), message);
    // Messages name files as the user wrote the folder, not by absolute
    // path: that is what the user sees in their tree.
    let shown = Path::new(&rel);
    let dir = root.join(&rel);
    if !dir.is_dir() {
        return Err(fail(format!(
            "the migrations folder `{rel}` does not exist\nhelp: the path is relative to the crate's `Cargo.toml`; `migrator init` creates the folder and its snapshot"
        )));
    }
    let files = read_files(&dir).map_err(|e| fail(relative(e, &dir, shown).to_string()))?;
    let migrations = parse_all(shown, &files).map_err(|e| fail(e.to_string()))?;
    let snapshot_path = dir.join(SNAPSHOT_FILE);
    let snapshot_text = match std::fs::read_to_string(&snapshot_path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(fail(format!(
                "`{}` is missing\nhelp: `migrator init` writes it, and `migrator generate` keeps it up to date",
                shown.join(SNAPSHOT_FILE).display()
            )))
        }
        Err(e) => {
            return Err(fail(format!(
                "{}: {e}",
                shown.join(SNAPSHOT_FILE).display()
            )))
        }
    };
    let snapshot = Snapshot::parse(&shown.join(SNAPSHOT_FILE), &snapshot_text)
        .map_err(|e| fail(e.to_string()))?;
    check(shown, &migrations, &snapshot).map_err(|e| fail(e.to_string()))?;

    // Every file read is tracked, so that Cargo rebuilds when one changes.
    let mut tracked: Vec<PathBuf> = files.iter().map(|(name, _)| dir.join(name)).collect();
    tracked.push(snapshot_path);
    let tracked = tracked
        .iter()
        .map(|p| {
            p.to_str().map(str::to_string).ok_or_else(|| {
                fail(format!(
                    "`{}` is not valid UTF-8, so it cannot be tracked with `include_bytes!`",
                    p.display()
                ))
            })
        })
        .collect::<syn::Result<Vec<String>>>()?;

    let builders = migrations.iter().map(|m| {
        let ident = format_ident!("__migrator_{:04}", m.version);
        let file = codegen::migration_file(&m.file);
        quote! {
            fn #ident() -> ::migrator::__private::MigrationFile {
                #file
            }
        }
    });
    let entries = migrations.iter().map(|m| {
        let ident = format_ident!("__migrator_{:04}", m.version);
        let (version, name, file_name, checksum) =
            (m.version, &m.name, &m.file_name, &m.checksum);
        quote! {
            ::migrator::__private::EmbeddedMigration::new(#version, #name, #file_name, #checksum, #ident)
        }
    });
    let n = migrations.len();

    let rust = rust_steps(shown, &files, &migrations).map_err(fail)?;
    let k = rust.len();
    let rust_macros = rust.iter().map(|r| {
        let (mac, path) = (&r.macro_name, &r.path);
        quote! {
            macro_rules! #mac {
                () => {
                    #path
                };
            }
        }
    });
    let rust_entries = rust.iter().map(|r| {
        let (name, mac) = (&r.name, &r.macro_name);
        quote!((#name, #mac!()))
    });

    Ok(quote! {
        {
            #(const _: &[u8] = ::core::include_bytes!(#tracked);)*
            #(#builders)*
            #(#rust_macros)*
            static __MIGRATOR_MIGRATIONS: [::migrator::__private::EmbeddedMigration; #n] = [#(#entries),*];
            static __MIGRATOR_RUST_STEPS: [(&str, ::migrator::__private::RustStepFn); #k] = [#(#rust_entries),*];
            static __MIGRATOR_SET: ::migrator::__private::OnceLock<::migrator::__private::MigrationSet> =
                ::migrator::__private::OnceLock::new();
            ::migrator::EmbeddedMigrations::new(
                #rel,
                &__MIGRATOR_MIGRATIONS,
                &__MIGRATOR_RUST_STEPS,
                &__MIGRATOR_SET,
            )
        }
    })
}

/// A read error names the folder as written.
fn relative(e: MigrationError, dir: &Path, shown: &Path) -> MigrationError {
    match e {
        MigrationError::Io { path, source } => MigrationError::Io {
            path: path
                .strip_prefix(dir)
                .map_or_else(|_| shown.to_path_buf(), |p| shown.join(p)),
            source,
        },
        e => e,
    }
}

/// One function a Rust step names.
struct RustRef {
    /// As written in the file (the key the runner looks up).
    name: String,
    path: syn::Path,
    /// `migration_0002_score_items_upgrade_step_2_name`: where it is first
    /// named (`name` or `reverse` of that step).
    macro_name: syn::Ident,
}

/// Every distinct function the Rust steps name (`name` and `reverse`), in
/// file and step order.
fn rust_steps(
    shown: &Path,
    files: &[(String, String)],
    migrations: &[crate::migration::Migration],
) -> Result<Vec<RustRef>, String> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for m in migrations {
        let lists = [
            ("upgrade", &m.file.upgrade),
            ("downgrade", &m.file.downgrade),
        ];
        for (list, ops) in lists {
            for (i, op) in ops.iter().enumerate() {
                let Operation::Rust { name, reverse } = op else {
                    continue;
                };
                for (key, value) in
                    std::iter::once(("name", name)).chain(reverse.iter().map(|r| ("reverse", r)))
                {
                    if !seen.insert(value.clone()) {
                        continue;
                    }
                    let full = if value.starts_with("::") || value.starts_with("crate::") {
                        value.clone()
                    } else {
                        format!("crate::{value}")
                    };
                    let path = syn::parse_str::<syn::Path>(&full).map_err(|_| {
                        let text = files
                            .iter()
                            .find(|(n, _)| *n == m.file_name)
                            .map_or("", |(_, t)| t.as_str());
                        let (line, column) = locate_string(text, value);
                        format!(
                            "{}:{line}:{column}: {list} step {}: `{value}` is not a path to a Rust function\nhelp: name the `#[migration]` function by its path from the crate root, e.g. `name = \"data::backfill_priority\"`",
                            shown.join(&m.file_name).display(),
                            i + 1
                        )
                    })?;
                    out.push(RustRef {
                        name: value.clone(),
                        path,
                        macro_name: format_ident!(
                            "migration_{:04}_{}_{list}_step_{}_{key}",
                            m.version,
                            m.name,
                            i + 1
                        ),
                    });
                }
            }
        }
    }
    Ok(out)
}
