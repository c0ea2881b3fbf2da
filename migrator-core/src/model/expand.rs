//! Stage 5: the code `#[derive(Model)]` emits.
//!
//! Contract: [`expand_derive`] parses with [`super::parse_derive_input`] and
//! emits, for a struct `Task`,
//!
//! ```text
//! const _: () = {
//!     #[automatically_derived]
//!     impl ::migrator::Model for Task {
//!         fn table() -> ::migrator::__private::Table { /* the table, as a literal */ }
//!     }
//! };
//! ```
//!
//! The table is rebuilt field by field from the parsed value, so at run time
//! `Task::table()` equals what the CLI parses from the same source. Paths are
//! absolute through the facade's `__private` module (STYLE.md rule 9). On
//! error it emits the errors plus the same impl with a body that is never
//! reached, so code calling `Task::table()` does not add errors of its own
//! (STYLE.md rule 7).

use proc_macro2::{Literal, TokenStream};
use quote::quote;

use super::parse_derive_input;
use crate::schema::{
    Check, Column, ColumnType, DefaultValue, ForeignKey, Index, RefAction, Table, Unique,
};

/// The expansion of `#[derive(Model)]` on `input`, errors included.
pub fn expand_derive(input: &syn::DeriveInput) -> TokenStream {
    match parse_derive_input(input) {
        Ok(def) => impl_model(input, table(&def.table)),
        Err(err) => {
            let errors = err.into_compile_error();
            let fallback = impl_model(
                input,
                quote!(::core::unimplemented!(
                    "`#[derive(Model)]` failed; see the compile errors"
                )),
            );
            quote! {
                #errors
                #fallback
            }
        }
    }
}

fn impl_model(input: &syn::DeriveInput, body: TokenStream) -> TokenStream {
    let ident = &input.ident;
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
