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

/// The candidate closest to `word`, when it is close enough to be a typo
/// (edit distance at most a third of the word, and at least 1).
pub(crate) fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let limit = (word.chars().count() / 3).max(1);
    candidates
        .into_iter()
        .map(|c| (edit_distance(word, c), c))
        .filter(|(d, _)| *d <= limit)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

/// Edit distance with adjacent transpositions (optimal string alignment),
/// so that `tabel` is one edit from `table`. The words are attribute keys
/// and column names, so the quadratic table is small.
fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut d = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for (i, row) in d.iter_mut().enumerate() {
        row[0] = i;
    }
    for (j, cell) in d[0].iter_mut().enumerate() {
        *cell = j;
    }
    for i in 1..=a.len() {
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let mut best = (d[i - 1][j] + 1)
                .min(d[i][j - 1] + 1)
                .min(d[i - 1][j - 1] + cost);
            if i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] {
                best = best.min(d[i - 2][j - 2] + 1);
            }
            d[i][j] = best;
        }
    }
    d[a.len()][b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guesses_count_transpositions_as_one_edit() {
        assert_eq!(edit_distance("tabel", "table"), 1);
        assert_eq!(edit_distance("primay_key", "primary_key"), 1);
        assert_eq!(edit_distance("", "abc"), 3);
        assert_eq!(did_you_mean("usres", ["tasks", "users"]), Some("users"));
        assert_eq!(did_you_mean("ident", ["id", "email"]), None);
    }
}
