//! `migrator::schema!()`: the crate's snapshot as diesel's schema, expanded
//! in place (the text of [`super::render`], parsed into tokens).
//!
//! Input: nothing, or `dialect = "postgres" | "sqlite" | "mysql"` and/or
//! `path = "../models-crate"` (the project whose snapshot to read, relative
//! to the crate's root: models kept in another crate). Without a
//! dialect the types are those every dialect of `migrator.toml` agrees on
//! (every dialect when it lists none). The snapshot and `migrator.toml` are
//! tracked with `include_bytes!`, so a new migration (which rewrites the
//! snapshot) rebuilds the crate; `#[derive(Model)]` already refuses a model
//! that differs from the snapshot, so a crate that compiles queries the
//! models' tables. The model folders are read too, for the Rust names of
//! the columns and stated diesel types ([`Fields`]).

use std::path::Path;

use proc_macro2::{Span, TokenStream};
use quote::quote;

use super::{render_with, Fields};
use crate::dialect::Dialect;
use crate::model::drift;

/// The expansion of `migrator::schema!(input)` for the crate being compiled
/// (its root is `CARGO_MANIFEST_DIR`).
pub fn expand_schema(input: TokenStream) -> TokenStream {
    match std::env::var_os("CARGO_MANIFEST_DIR") {
        Some(root) => expand_schema_in(Path::new(&root), input),
        None => error(
            Span::call_site(),
            "`migrator::schema!()` needs `CARGO_MANIFEST_DIR`: build the crate with Cargo",
        ),
    }
}

/// [`expand_schema`] for the crate rooted at `root`.
pub fn expand_schema_in(root: &Path, input: TokenStream) -> TokenStream {
    let (named, path) = match parse_args(input) {
        Ok(args) => args,
        Err(e) => return e.into_compile_error(),
    };
    let root = match &path {
        Some(p) => root.join(p),
        None => root.to_path_buf(),
    };
    let reference = match drift::load(&root) {
        Ok(r) => r,
        Err(message) => return error(Span::call_site(), &message),
    };
    let tracked = reference.tracked.iter().map(|path| {
        let path = path.display().to_string();
        quote!(
            const _: &[u8] = ::core::include_bytes!(#path);
        )
    });
    let tracked = quote!(#(#tracked)*);
    let Some(snapshot) = &reference.snapshot else {
        let e = error(
            Span::call_site(),
            "`migrator::schema!()` reads the schema snapshot, and the project has none yet\nhelp: run `migrator generate <name>` there to write the first migration and the snapshot",
        );
        return quote!(#e #tracked);
    };
    let dialects = match named {
        Some(d) => vec![d],
        None if reference.dialects.is_empty() => Dialect::ALL.to_vec(),
        None => reference.dialects.clone(),
    };
    let fields = match model_fields(&reference.model_roots) {
        Ok(fields) => fields,
        Err(e) => return quote!(#e #tracked),
    };
    match render_with(&snapshot.schema, &dialects, &fields) {
        Ok(text) => match text.parse::<TokenStream>() {
            Ok(tokens) => quote! {
                #tokens
                #[allow(non_upper_case_globals)]
                const _: () = { #tracked };
            },
            Err(e) => error(
                Span::call_site(),
                &format!("internal error: the generated schema does not lex: {e}"),
            ),
        },
        Err(errors) => {
            let errors = errors.iter().map(|e| {
                error(
                    Span::call_site(),
                    &format!("`migrator::schema!()` from `{}`: {e}", snapshot.shown),
                )
            });
            quote!(#(#errors)* #tracked)
        }
    }
}

/// The field names and stated diesel types of the models under `roots`,
/// or a compile error naming each model file that does not scan (the
/// schema would otherwise name their columns as the database does, and the
/// struct's diesel derives would fail far from the cause). Lines are left
/// out: inside a macro the parsed text has no positions of its own, and
/// each struct's derive points at its own errors. The scan is not cached
/// across processes here: the cache is keyed by the running program, which
/// for a macro is the compiler, not this code.
fn model_fields(roots: &[std::path::PathBuf]) -> Result<Fields, TokenStream> {
    match crate::model::scan_dirs_in_macro(roots, crate::model::IndexNames::PerTable) {
        Ok(models) => Ok(Fields::of_models(&models.defs)),
        Err(errors) => {
            let listed: Vec<String> = errors
                .iter()
                .map(|e| format!("  {}: {}", e.file.display(), e.message))
                .collect();
            Err(error(
                Span::call_site(),
                &format!(
                    "`migrator::schema!()` reads the models for their field names, and they do not scan:\n{}\nhelp: fix the models (`migrator check` shows each error with its line)",
                    listed.join("\n")
                ),
            ))
        }
    }
}

fn error(span: Span, message: &str) -> TokenStream {
    syn::Error::new(span, message).into_compile_error()
}

/// `dialect = ".."` and `path = ".."`, each at most once, or nothing.
fn parse_args(input: TokenStream) -> syn::Result<(Option<Dialect>, Option<String>)> {
    use syn::punctuated::Punctuated;
    let args = syn::parse::Parser::parse2(
        Punctuated::<syn::MetaNameValue, syn::Token![,]>::parse_terminated,
        input,
    )?;
    let (mut dialect, mut path) = (None, None);
    for meta in args {
        let syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(s),
            ..
        }) = &meta.value
        else {
            return Err(syn::Error::new_spanned(
                &meta.value,
                "`migrator::schema!` takes strings: `dialect = \"postgres\"`, `path = \"..\"`",
            ));
        };
        if meta.path.is_ident("dialect") && dialect.is_none() {
            dialect = Some(
                s.value()
                    .parse::<Dialect>()
                    .map_err(|e| syn::Error::new(s.span(), e))?,
            );
        } else if meta.path.is_ident("path") && path.is_none() {
            path = Some(s.value());
        } else {
            return Err(syn::Error::new_spanned(
                &meta.path,
                "unknown or repeated argument of `migrator::schema!`\nhelp: the arguments are `dialect = \"postgres\"` (or \"sqlite\", \"mysql\") and `path = \"..\"` (the project whose snapshot to read), each at most once",
            ));
        }
    }
    Ok((dialect, path))
}
