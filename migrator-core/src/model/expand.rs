//! Stage 5: the code `#[derive(Model)]` emits.
//!
//! Contract: [`expand_derive`] parses with the pipeline of [`super`] and
//! emits, for a struct `Task`,
//!
//! ```text
//! const _: () = {
//!     #[automatically_derived]
//!     impl ::migrator::Model for Task {
//!         fn table() -> ::migrator::__private::Table { /* the table, as a literal */ }
//!     }
//!     const _: &[u8] = ::core::include_bytes!("/abs/crate/migrations/schema.toml");
//! };
//! ```
//!
//! preceded by one spanned error per difference between the table and the
//! crate's snapshot ([`super::drift`]), each with the fix: run `migrator
//! generate`. The `include_bytes!` lines (the snapshot and `migrator.toml`,
//! when they exist) make Cargo rebuild the crate when they change; only the
//! first expansion of a compilation emits them (`drift::first_expansion`:
//! one inclusion per crate is enough for Cargo). The macro reads the files
//! and never writes. A crate without a snapshot file is not
//! checked, and nothing can track a file that does not exist: creating the
//! snapshot does not by itself rebuild a crate built before (the next source
//! edit does).
//!
//! The table is rebuilt field by field from the parsed value, so at run time
//! `Task::table()` equals what the CLI parses from the same source. Paths are
//! absolute through the facade's `__private` module (docs/DESIGN.md §7.9). On
//! error it emits the errors plus the same impl with a body that is never
//! reached, so code calling `Task::table()` does not add errors of its own
//! (docs/DESIGN.md §7.7).

use std::path::PathBuf;

use proc_macro2::TokenStream;
use quote::quote;

use super::ctxt::with_help;
use super::drift::{self, Reference, Subject};
use super::lower::Lowered;
use super::parse_spanned;
use crate::codegen::table;

/// The expansion of `#[derive(Model)]` on `input`, errors included, checked
/// against the snapshot of the crate being compiled (its root is
/// `CARGO_MANIFEST_DIR`; without that variable, as outside Cargo, nothing is
/// checked). Reads `migrator.toml` and the snapshot; writes nothing.
pub fn expand_derive(input: &syn::DeriveInput) -> TokenStream {
    let root = std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from);
    let mut reference = match &root {
        Some(root) => drift::load_shared(root),
        None => Ok(Reference::default()),
    };
    if let Ok(r) = &mut reference {
        // One expansion per compilation tracks the files (`first_expansion`).
        if !root.as_deref().is_some_and(drift::first_expansion) {
            r.tracked.clear();
        }
        // Only the models `generate` reads are held to the snapshot. The
        // compiler says where the struct is from Rust 1.88 on; before, or
        // for a struct without a file, every model is checked.
        if let Some(file) = input.ident.span().local_file() {
            let name = syn::ext::IdentExt::unraw(&input.ident).to_string();
            if !drift::read_by_generate(&r.model_roots, &file, &name) {
                r.snapshot = None;
            }
        }
    }
    expand_derive_against(input, &reference)
}

/// [`expand_derive`] against a snapshot already read by [`drift::load`], or
/// the message saying why it could not be read. Reads no files.
pub fn expand_derive_against(
    input: &syn::DeriveInput,
    reference: &Result<Reference, String>,
) -> TokenStream {
    let mut lowered = match parse_spanned(input) {
        Ok(lowered) => lowered,
        Err(err) => {
            let errors = err.into_compile_error();
            let fallback = impl_model(
                input,
                quote!(::core::unimplemented!(
                    "`#[derive(Model)]` failed; see the compile errors"
                )),
                &[],
            );
            return quote! {
                #errors
                #fallback
            };
        }
    };
    // A snapshot written when unnamed checks were numbered keeps those
    // names (`naming::adopt_check_names`).
    if let Ok(Reference {
        snapshot: Some(snapshot),
        ..
    }) = reference
    {
        let def = &mut lowered.def;
        let snap = snapshot.schema.table(&def.table.name).or_else(|| {
            def.renamed_from
                .as_ref()
                .and_then(|old| snapshot.schema.table(old))
        });
        if let Some(snap) = snap.filter(|_| !def.table.checks.is_empty()) {
            crate::schema::naming::adopt_check_names(&mut def.table, snap);
        }
    }
    // Drift is reported next to an impl that works, so code calling
    // `Task::table()` adds no errors of its own (docs/DESIGN.md §7.7).
    let dialects = reference.as_ref().map_or(&[][..], |r| &r.dialects[..]);
    let long = if super::limits::postgres_targeted(dialects) {
        super::limits::too_long_for_postgres(&lowered.def)
    } else {
        Vec::new()
    };
    let spans = &lowered.spans;
    let long = long.into_iter().map(|(subject, message)| {
        let span = match &subject {
            Subject::Table => Some(spans.table),
            Subject::Column(c) => spans.columns.get(c).copied(),
            Subject::Object(o) => spans.objects.get(o).copied(),
        }
        .unwrap_or(spans.ident);
        syn::Error::new(span, message)
    });
    let errors = long
        .chain(drift_errors(input, &lowered, reference))
        .map(syn::Error::into_compile_error)
        .collect::<Vec<_>>();
    let tracked = reference.as_ref().map_or(&[][..], |r| &r.tracked[..]);
    let model = impl_model(input, table(&lowered.def.table), tracked);
    quote! {
        #(#errors)*
        #model
    }
}

/// One spanned error per difference from the snapshot: on the field of a
/// column, on the declaration of an index or constraint, else on the
/// struct's name.
pub(super) fn drift_errors(
    input: &syn::DeriveInput,
    lowered: &Lowered,
    reference: &Result<Reference, String>,
) -> Vec<syn::Error> {
    let ident = &input.ident;
    let spans = &lowered.spans;
    let snapshot = match reference {
        Ok(Reference {
            snapshot: Some(snapshot),
            ..
        }) => snapshot,
        Ok(_) => return Vec::new(),
        Err(message) => {
            let message = format!("cannot check `{ident}` against the schema snapshot: {message}");
            let message = if message.contains("\nhelp: ") {
                message
            } else {
                with_help(
                    message,
                    "fix the file: `#[derive(Model)]` compares every model with the snapshot that `migrator generate` writes",
                )
            };
            return vec![syn::Error::new(spans.ident, message)];
        }
    };
    drift::check(&lowered.def, &snapshot.schema)
        .into_iter()
        .map(|d| {
            let span = match &d.subject {
                Subject::Table => None,
                Subject::Column(c) => spans.columns.get(c),
                Subject::Object(o) => spans.objects.get(o),
            }
            .copied()
            .unwrap_or(spans.ident);
            let message = with_help(
                format!("`{ident}` does not match `{}`: {d}", snapshot.shown),
                "run `migrator generate <name>` to write a migration for this change",
            );
            syn::Error::new(span, message)
        })
        .collect()
}

fn impl_model(input: &syn::DeriveInput, body: TokenStream, tracked: &[PathBuf]) -> TokenStream {
    let ident = &input.ident;
    // Files read at compile time are included, so that Cargo rebuilds the
    // crate when they change (docs/DESIGN.md §7.10); the bytes are not used.
    let tracked = tracked.iter().map(|path| {
        let path = path.display().to_string();
        quote!(
            const _: &[u8] = ::core::include_bytes!(#path);
        )
    });
    // Only the fallback impl can meet generics (they are an error), but it
    // must still name the type correctly to stay a single error.
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    quote! {
        #[doc(hidden)]
        #[allow(non_upper_case_globals, unused_attributes, unused_qualifications)]
        const _: () = {
            #[automatically_derived]
            impl #impl_generics ::migrator::Model for #ident #ty_generics #where_clause {
                fn table() -> ::migrator::__private::Table {
                    #body
                }
            }
            #(#tracked)*
        };
    }
}
