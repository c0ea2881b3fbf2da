//! `#[migration]`: marks a Rust data migration and checks its signature.
//!
//! Contract: the function is emitted unchanged. Every problem the syntax
//! shows (not a free function, `async`, generics, a `self` receiver, not
//! exactly one argument, no return type) is reported at once, each spanned
//! on its token, with the expected signature as help. The types themselves
//! are checked by the compiler: a hidden `const _: RustStepFn = name;`
//! beside the function, whose failure shows the expected and the found
//! signatures, on the function's name.

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned, ToTokens};
use syn::spanned::Spanned;

const SIGNATURE: &str = "help: a migration step is `fn name(ctx: &mut migrator::RustStepContext<'_>) -> migrator::RustStepResult`, named in a migration file as `op = \"rust\"`, `name = \"path::to::name\"`";

/// The expansion of `#[migration]` (with `args` inside the parentheses, if
/// any) on `item`.
pub fn expand_migration_attr(args: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = Vec::new();
    if !args.is_empty() {
        errors.push(syn::Error::new(
            args.span(),
            format!("`#[migration]` takes no arguments\n{SIGNATURE}"),
        ));
    }
    let f: syn::ItemFn = match syn::parse2(item.clone()) {
        Ok(f) => f,
        Err(_) => {
            errors.push(syn::Error::new(
                item.span(),
                format!("`#[migration]` goes on a free function (not a method, not another item)\n{SIGNATURE}"),
            ));
            return emit(errors, item);
        }
    };
    let sig = &f.sig;
    let mut refuse = |tokens: &dyn ToTokens, what: &str| {
        errors.push(syn::Error::new_spanned(
            tokens,
            format!("a `#[migration]` function cannot be {what}\n{SIGNATURE}"),
        ));
    };
    if let Some(t) = &sig.constness {
        refuse(t, "`const`");
    }
    if let Some(t) = &sig.asyncness {
        refuse(
            t,
            "`async`: it runs inside the migration's transaction, on a blocking diesel connection",
        );
    }
    if let Some(t) = &sig.unsafety {
        refuse(t, "`unsafe`");
    }
    if let Some(t) = &sig.abi {
        refuse(t, "`extern`");
    }
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        refuse(&sig.generics, "generic");
    }
    if let Some(t) = &sig.variadic {
        refuse(t, "variadic");
    }
    let mut receiver = false;
    for input in &sig.inputs {
        if let syn::FnArg::Receiver(r) = input {
            receiver = true;
            refuse(r, "a method: it must be a free function, named by its path");
        }
    }
    if !receiver && sig.inputs.len() != 1 {
        let message = format!(
            "a `#[migration]` function takes exactly one argument, the context (found {})\n{SIGNATURE}",
            sig.inputs.len()
        );
        let error = if sig.inputs.is_empty() {
            syn::Error::new(sig.paren_token.span.join(), message)
        } else {
            syn::Error::new_spanned(&sig.inputs, message)
        };
        errors.push(error);
    }
    if let syn::ReturnType::Default = sig.output {
        errors.push(syn::Error::new(
            sig.paren_token.span.close(),
            format!(
                "a `#[migration]` function returns `migrator::RustStepResult`, so that a failure rolls the migration back\n{SIGNATURE}"
            ),
        ));
    }
    if !errors.is_empty() {
        return emit(errors, item);
    }
    // With the syntax right, the compiler checks the types. The assertion is
    // spanned on the function's name, so that is where a mismatch points.
    let ident = &sig.ident;
    let check = quote_spanned! {ident.span()=>
        const _: ::migrator::__private::RustStepFn = #ident;
    };
    quote! {
        #item
        #check
    }
}

/// The errors, and the item unchanged so that its uses add no errors.
fn emit(errors: Vec<syn::Error>, item: TokenStream) -> TokenStream {
    let errors = errors.into_iter().map(syn::Error::into_compile_error);
    quote! {
        #(#errors)*
        #item
    }
}
