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
//! when they exist) make Cargo rebuild the crate when they change; the
//! macro reads them and never writes. A crate without a snapshot file is not
//! checked, and nothing can track a file that does not exist: creating the
//! snapshot does not by itself rebuild a crate built before (the next source
//! edit does).
//!
//! The table is rebuilt field by field from the parsed value, so at run time
//! `Task::table()` equals what the CLI parses from the same source. Paths are
//! absolute through the facade's `__private` module (STYLE.md rule 9). On
//! error it emits the errors plus the same impl with a body that is never
//! reached, so code calling `Task::table()` does not add errors of its own
//! (STYLE.md rule 7).

use std::path::{Path, PathBuf};

use proc_macro2::{Literal, TokenStream};
use quote::quote;

use super::ctxt::with_help;
use super::drift::{self, Reference, Subject};
use super::lower::Lowered;
use super::parse_spanned;
use crate::schema::{
    Check, Column, ColumnType, DefaultValue, ForeignKey, Index, RefAction, Table, Unique,
};

/// The expansion of `#[derive(Model)]` on `input`, errors included, checked
/// against the snapshot of the crate being compiled (its root is
/// `CARGO_MANIFEST_DIR`; without that variable, as outside Cargo, nothing is
/// checked). Reads `migrator.toml` and the snapshot; writes nothing.
pub fn expand_derive(input: &syn::DeriveInput) -> TokenStream {
    let mut reference = match std::env::var_os("CARGO_MANIFEST_DIR") {
        Some(root) => drift::load(Path::new(&root)),
        None => Ok(Reference::default()),
    };
    if let Ok(r) = &mut reference {
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
    let lowered = match parse_spanned(input) {
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
    // Drift is reported next to an impl that works, so code calling
    // `Task::table()` adds no errors of its own (STYLE.md rule 7).
    let errors = drift_errors(input, &lowered, reference)
        .into_iter()
        .map(syn::Error::into_compile_error);
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
    // crate when they change (STYLE.md rule 10); the bytes are not used.
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

fn string(s: &str) -> TokenStream {
    quote!(::migrator::__private::String::from(#s))
}

fn vec(items: impl IntoIterator<Item = TokenStream>) -> TokenStream {
    let items = items.into_iter();
    quote!(::migrator::__private::vec![#(#items),*])
}

fn strings(v: &[String]) -> TokenStream {
    vec(v.iter().map(|s| string(s)))
}

fn table(t: &Table) -> TokenStream {
    // Destructured so that a field added to `Table` fails to compile here
    // instead of being silently left out of the derive.
    let Table {
        name,
        columns,
        primary_key,
        indexes,
        uniques,
        foreign_keys,
        checks,
    } = t;
    let name = string(name);
    let columns = vec(columns.iter().map(column));
    let primary_key = strings(primary_key);
    let indexes = vec(indexes.iter().map(index));
    let uniques = vec(uniques.iter().map(unique));
    let foreign_keys = vec(foreign_keys.iter().map(foreign_key));
    let checks = vec(checks.iter().map(check));
    quote! {
        ::migrator::__private::Table {
            name: #name,
            columns: #columns,
            primary_key: #primary_key,
            indexes: #indexes,
            uniques: #uniques,
            foreign_keys: #foreign_keys,
            checks: #checks,
        }
    }
}

fn column(c: &Column) -> TokenStream {
    let Column {
        name,
        ty,
        nullable,
        default,
        auto_increment,
    } = c;
    let name = string(name);
    let ty = column_type(ty);
    let default = match default {
        Some(d) => {
            let d = default_value(d);
            quote!(::migrator::__private::Option::Some(#d))
        }
        None => quote!(::migrator::__private::Option::None),
    };
    quote! {
        ::migrator::__private::Column {
            name: #name,
            ty: #ty,
            nullable: #nullable,
            default: #default,
            auto_increment: #auto_increment,
        }
    }
}

fn column_type(ty: &ColumnType) -> TokenStream {
    let variant = match ty {
        ColumnType::SmallInt => quote!(SmallInt),
        ColumnType::Integer => quote!(Integer),
        ColumnType::BigInt => quote!(BigInt),
        ColumnType::Real => quote!(Real),
        ColumnType::Double => quote!(Double),
        ColumnType::Boolean => quote!(Boolean),
        ColumnType::Text => quote!(Text),
        ColumnType::Varchar(n) => {
            let n = Literal::u32_suffixed(*n);
            quote!(Varchar(#n))
        }
        ColumnType::Blob => quote!(Blob),
        ColumnType::Date => quote!(Date),
        ColumnType::Time => quote!(Time),
        ColumnType::Timestamp => quote!(Timestamp),
        ColumnType::TimestampTz => quote!(TimestampTz),
        ColumnType::Uuid => quote!(Uuid),
        ColumnType::Json => quote!(Json),
        ColumnType::Custom(sql) => {
            let sql = string(sql);
            quote!(Custom(#sql))
        }
    };
    quote!(::migrator::__private::ColumnType::#variant)
}

fn default_value(d: &DefaultValue) -> TokenStream {
    let value = match d {
        // Negative numbers are emitted as a negated literal: a literal token
        // is not negative, and `-9223372036854775808` is the one spelling of
        // `i64::MIN` that needs no cast.
        DefaultValue::Int(v) => {
            let abs = Literal::u64_unsuffixed(v.unsigned_abs());
            let sign = (*v < 0).then(|| quote!(-));
            quote!(Int(#sign #abs))
        }
        DefaultValue::Float(v) => {
            let abs = Literal::f64_unsuffixed(v.abs());
            let sign = v.is_sign_negative().then(|| quote!(-));
            quote!(Float(#sign #abs))
        }
        DefaultValue::Bool(b) => quote!(Bool(#b)),
        DefaultValue::Str(s) => {
            let s = string(s);
            quote!(Str(#s))
        }
        DefaultValue::Sql(s) => {
            let s = string(s);
            quote!(Sql(#s))
        }
    };
    quote!(::migrator::__private::DefaultValue::#value)
}

fn index(i: &Index) -> TokenStream {
    let Index { name, columns } = i;
    let name = string(name);
    let columns = strings(columns);
    quote!(::migrator::__private::Index { name: #name, columns: #columns })
}

fn unique(u: &Unique) -> TokenStream {
    let Unique { name, columns } = u;
    let name = string(name);
    let columns = strings(columns);
    quote!(::migrator::__private::Unique { name: #name, columns: #columns })
}

fn foreign_key(f: &ForeignKey) -> TokenStream {
    let ForeignKey {
        name,
        columns,
        ref_table,
        ref_columns,
        on_delete,
        on_update,
    } = f;
    let name = string(name);
    let columns = strings(columns);
    let ref_table = string(ref_table);
    let ref_columns = strings(ref_columns);
    let on_delete = ref_action(*on_delete);
    let on_update = ref_action(*on_update);
    quote! {
        ::migrator::__private::ForeignKey {
            name: #name,
            columns: #columns,
            ref_table: #ref_table,
            ref_columns: #ref_columns,
            on_delete: #on_delete,
            on_update: #on_update,
        }
    }
}

fn check(c: &Check) -> TokenStream {
    let Check { name, expr } = c;
    let name = string(name);
    let expr = string(expr);
    quote!(::migrator::__private::Check { name: #name, expr: #expr })
}

fn ref_action(a: RefAction) -> TokenStream {
    let variant = match a {
        RefAction::NoAction => quote!(NoAction),
        RefAction::Restrict => quote!(Restrict),
        RefAction::Cascade => quote!(Cascade),
        RefAction::SetNull => quote!(SetNull),
        RefAction::SetDefault => quote!(SetDefault),
    };
    quote!(::migrator::__private::RefAction::#variant)
}
