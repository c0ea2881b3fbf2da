//! Procedural macros of migrator: a thin shim over `migrator-core`
//! (`#[derive(Model)]`, `embed_migrations!`, `#[migration]`).
//!
//! Each entry point parses its input and hands it to ordinary library code in
//! `migrator_core`, where it is unit tested; nothing here has logic of its own
//! (docs/DESIGN.md §7.1). Use the macros through the `migrator` crate, whose
//! `__private` module the generated code names.

use proc_macro::TokenStream;

/// `#[derive(Model)]`: implements `migrator::Model` for a struct, from its
/// `#[model(...)]` attributes. See the `migrator` crate for the vocabulary.
#[proc_macro_derive(Model, attributes(model))]
pub fn derive_model(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    // The diesel features the `migrator` crate turned on (its features of
    // the same names turn on these and diesel's).
    let on = migrator_core::model::DieselFeatures {
        chrono: cfg!(feature = "chrono"),
        serde_json: cfg!(feature = "serde_json"),
        uuid: cfg!(feature = "uuid"),
        numeric: cfg!(feature = "numeric"),
    };
    let mut out = migrator_core::model::expand_derive(&input);
    out.extend(migrator_core::model::diesel_feature_errors(&input, on));
    out.into()
}

/// `embed_migrations!("migrations")`: the migrations folder (relative to
/// `Cargo.toml`), validated at compile time and embedded as typed data, as
/// an expression of type `migrator::EmbeddedMigrations`.
#[proc_macro]
pub fn embed_migrations(input: TokenStream) -> TokenStream {
    migrator_core::embed::expand_embed_migrations(input.into()).into()
}

/// `#[migration]`: a Rust data migration, named from a migration file with
/// `op = "rust"`; checks the function's signature and leaves it unchanged.
#[proc_macro_attribute]
pub fn migration(args: TokenStream, item: TokenStream) -> TokenStream {
    migrator_core::embed::expand_migration_attr(args.into(), item.into()).into()
}

/// `schema!()` / `schema!(dialect = "sqlite")`: diesel's schema of the
/// crate's snapshot (`table!`, `joinable!`, `allow_tables_to_appear_in_same_query!`).
#[proc_macro]
pub fn schema(input: TokenStream) -> TokenStream {
    migrator_core::diesel_schema::expand_schema(input.into()).into()
}
