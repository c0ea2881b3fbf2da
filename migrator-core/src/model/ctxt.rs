//! The error-collecting context shared by every stage of the pipeline.
//!
//! Contract: stages push errors here and carry on with what they could read,
//! so one build reports every bad attribute (serde's `Ctxt`, docs/DESIGN.md §7.5).
//! [`Ctxt::check`] combines them, in the order they were found, into one
//! [`syn::Error`].

use std::cell::RefCell;
use std::fmt::Display;

use proc_macro2::Span;
use quote::ToTokens;

#[derive(Debug, Default)]
pub(crate) struct Ctxt {
    // A `RefCell` so that every stage can hold a shared `&Ctxt` while it also
    // borrows the syn tree.
    errors: RefCell<Vec<syn::Error>>,
}

impl Ctxt {
    pub fn new() -> Ctxt {
        Ctxt::default()
    }

    /// An error spanning the tokens of `obj` (all of them, so an editor
    /// underlines the whole attribute or type).
    pub fn error_spanned_by<T: ToTokens>(&self, obj: T, msg: impl Display) {
        self.errors
            .borrow_mut()
            .push(syn::Error::new_spanned(obj.into_token_stream(), msg));
    }

    pub fn error_at(&self, span: Span, msg: impl Display) {
        self.errors.borrow_mut().push(syn::Error::new(span, msg));
    }

    /// A syntax error from syn, kept as it is: its span and message are
    /// already precise.
    pub fn syn_error(&self, err: syn::Error) {
        self.errors.borrow_mut().push(err);
    }

    /// All errors so far, combined, or `Ok` when there are none.
    pub fn check(self) -> Result<(), syn::Error> {
        let mut errors = self.errors.into_inner().into_iter();
        let Some(mut combined) = errors.next() else {
            return Ok(());
        };
        for e in errors {
            combined.combine(e);
        }
        Err(combined)
    }
}

/// A message followed by its `help:` line (docs/DESIGN.md §7.6).
pub(crate) fn with_help(msg: impl Display, help: impl Display) -> String {
    format!("{msg}\nhelp: {help}")
}

/// `a`, `b`, `c` for help lines.
pub(crate) fn backticked<S: AsRef<str>>(items: impl IntoIterator<Item = S>) -> String {
    items
        .into_iter()
        .map(|s| format!("`{}`", s.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) use crate::suggest::did_you_mean;
