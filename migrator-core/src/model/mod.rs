//! The model parser: `#[derive(Model)]` structs to schema tables.
//!
//! Contract: this is the only reader of the `#[model(...)]` vocabulary of
//! docs/DESIGN.md §2. The derive macro ([`expand_derive`]) and `migrator generate`
//! ([`scan_dir`]) both go through [`parse_derive_input`], so the table the
//! compiled program reports and the table the CLI diffs are the same value.
//!
//! One pipeline, one file per stage (docs/DESIGN.md §7.2):
//!
//! 1. `attr.rs`: raw `#[model(...)]` entries to typed attribute sets; unknown
//!    and duplicate keys and wrongly kinded values are reported here.
//! 2. `ast.rs`: the struct as a typed model borrowing syn (for spans), with
//!    each field's Rust type classified.
//! 3. `check.rs`: field-local meaning (types, defaults, key combinations).
//! 4. `lower.rs`: the [`Table`] itself, resolving column lists and default
//!    object names (`schema::naming`), and reporting name conflicts.
//! 5. `expand.rs`: the `impl ::migrator::Model` that rebuilds that table,
//!    and the errors of the compile-time drift check (`drift.rs`: the table
//!    against its table in the crate's snapshot `migrations/schema.toml`).
//!
//! `scan.rs` reads source files for the CLI and checks what needs every model
//! at once: duplicate tables, foreign keys to other models, object names.
//!
//! Every stage records errors in one context (`ctxt.rs`) and keeps going, so a
//! user sees every bad attribute in one build. Messages are lowercase, have
//! no trailing period, put code in backticks and end with a `help:` line.
//!
//! Decisions the vocabulary leaves open:
//!
//! - Column lists of struct-level `index = "..."` / `unique = "..."` name
//!   database columns (after `column = "..."`). A Rust field name is accepted
//!   too when no column has that name, and is mapped to its column.
//! - The default table name follows diesel exactly (`TaskItem` ->
//!   `task_items`, `HTTPLog` -> `h_t_t_p_logs`), so a model shared with
//!   diesel's derives infers the same table; set `table = "..."` otherwise.
//! - `DateTime<Utc>`, `DateTime<Local>` and `DateTime<FixedOffset>` all map to
//!   `timestamptz`; `Value` maps to `json` only as `Value` or
//!   `serde_json::Value`, since other crates have a `Value` too.
//! - An integer `default` on a float column is stored as a float. A string
//!   `default` is accepted, unvalidated, for text, date and time, UUID, JSON
//!   and `sql_type` columns, whose SQL literals are strings.
//! - Table and column names are at most 64 bytes (MySQL's limit), and at
//!   most 63 where PostgreSQL is a target (`limits.rs`: it would truncate
//!   them), without whitespace, quotes, dots, commas or semicolons.
//! - `auto_increment` needs a single-column integer primary key and no
//!   default; `on_delete = "set null"` needs an `Option` field, `"set
//!   default"` a default.

mod ast;
mod attr;
mod check;
mod ctxt;
pub mod drift;
mod expand;
mod features;
pub mod limits;
mod lower;
mod scan;

#[cfg(test)]
mod tests;

use std::fmt;
use std::path::PathBuf;

use crate::diff::Hints;
use crate::schema::{Schema, Table};

#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
pub(crate) use attr::name_problem as attr_name_problem;
pub use expand::{expand_derive, expand_derive_against};
pub use features::{diesel_feature_errors, DieselFeatures};
pub use scan::{
    parse_source, scan_dir, scan_dirs, scan_dirs_cached, scan_dirs_in_macro, scan_dirs_with,
    IndexNames,
};

/// One `#[derive(Model)]` struct, parsed.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelDef {
    /// The Rust name of the struct.
    pub struct_name: String,
    /// The table it maps to, normalized.
    pub table: Table,
    /// `#[model(renamed_from = "...")]` on the struct: the table's old name.
    pub renamed_from: Option<String>,
    /// `(new column, old column)` for every field with `renamed_from`, in
    /// field order.
    pub column_renames: Vec<(String, String)>,
    /// `#[model(keep = "..")]`: columns the database keeps although the
    /// struct no longer has them, with what depends on them
    /// ([`keep_columns`]).
    pub kept: Vec<String>,
    /// What diesel's schema (`migrator::schema!()`, `print-schema`) needs
    /// of the fields beyond their columns: one entry per field whose Rust
    /// name differs from its column, that states a `diesel_type` or that is
    /// a `Vec<Option<T>>`, in field order.
    pub diesel: Vec<DieselField>,
    /// The source file, when parsed from one (`None` from the derive).
    pub file: Option<PathBuf>,
    /// The 1-based line of the struct's name.
    pub line: usize,
}

/// A field as diesel's `table!` names it (see [`ModelDef::diesel`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DieselField {
    /// The column, as in the table.
    pub column: String,
    /// The Rust field name (without `r#`): the column's name in the
    /// `table!`, so that diesel's derives on the struct find it.
    pub field: String,
    /// `#[model(diesel_type = "..")]`: the column's diesel SQL type, a
    /// Rust type path, instead of the one read from its column type.
    pub diesel_type: Option<String>,
    /// The field is a `Vec<Option<T>>`: the elements of its (PostgreSQL
    /// array) column may be NULL, `Array<Nullable<..>>`.
    pub nullable_elements: bool,
}

/// The table of `def` as the database keeps it: the struct's columns plus
/// its kept ones (`#[model(keep = "..")]`), copied from the snapshot's
/// table with the indexes, unique constraints, foreign keys and checks
/// there that use them, so that nothing of a deprecated column is dropped
/// or changed. Refuses a kept column the snapshot does not have.
pub fn with_kept(def: &ModelDef, snapshot: Option<&Table>) -> Result<Table, String> {
    let mut table = def.table.clone();
    if def.kept.is_empty() {
        return Ok(table);
    }
    let name = &table.name;
    let Some(snap) = snapshot else {
        return Err(format!(
            "`keep` names {} of table `{name}`, which the snapshot does not have\nhelp: `keep` is for a column that exists and that the struct no longer has; remove it from `keep`",
            ctxt::backticked(&def.kept)
        ));
    };
    for k in &def.kept {
        let column = snap.column(k).ok_or_else(|| {
            format!(
                "`keep` names column `{k}`, which table `{name}` does not have in the snapshot\nhelp: its columns there are {}",
                ctxt::backticked(snap.columns.iter().map(|c| c.name.clone()))
            )
        })?;
        table.columns.push(column.clone());
    }
    let uses = |cols: &[String]| cols.iter().any(|c| def.kept.contains(c));
    let mentions = |expr: &str| {
        expr.split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .any(|w| def.kept.iter().any(|k| k == w))
    };
    for i in snap.indexes.iter().filter(|i| uses(&i.columns)) {
        if !table.indexes.iter().any(|m| m.name == i.name) {
            table.indexes.push(i.clone());
        }
    }
    for u in snap.uniques.iter().filter(|u| uses(&u.columns)) {
        if !table.uniques.iter().any(|m| m.name == u.name) {
            table.uniques.push(u.clone());
        }
    }
    for f in snap.foreign_keys.iter().filter(|f| uses(&f.columns)) {
        if !table.foreign_keys.iter().any(|m| m.name == f.name) {
            table.foreign_keys.push(f.clone());
        }
    }
    for c in snap.checks.iter().filter(|c| mentions(&c.expr)) {
        if !table.checks.iter().any(|m| m.name == c.name) {
            table.checks.push(c.clone());
        }
    }
    table.normalize();
    Ok(table)
}

/// What to remind about each kept column, for `generate`, `check` and
/// `lint`: it is still in the database, and, when it is NOT NULL without a
/// default, the application's inserts (which no longer write it) fail.
pub fn kept_notes(models: &Models) -> Vec<String> {
    let mut out = Vec::new();
    for def in &models.defs {
        for k in &def.kept {
            let table = &def.table.name;
            let mut note = format!(
                "column `{table}.{k}` is kept in the database but not in `{}` (`keep`): drop it with a later migration (remove it from `keep`, then `migrator generate`) once no deployed version uses it",
                def.struct_name
            );
            // A kept column that a field replaces (`renamed_from` it) is
            // filled by the expansion's trigger on every insert.
            let expanded = models
                .hints
                .columns
                .iter()
                .any(|((t, _), old)| t == table && old == k);
            if expanded {
                note = format!(
                    "column `{table}.{k}` is kept in the database beside the field that replaces it (`renamed_from`): a trigger keeps the two in step while both versions run; remove it from `keep` and `migrator generate` the contract once no deployed version uses it"
                );
            }
            if let Some(c) = models.schema.table(table).and_then(|t| t.column(k)) {
                if !expanded && !c.nullable && c.default.is_none() && !c.auto_increment {
                    note.push_str(
                        "; it is NOT NULL without a default, so inserts that leave it out fail: make it nullable or give it a default before the struct stops writing it",
                    );
                }
            }
            out.push(note);
        }
    }
    out
}

/// Every model of a crate, as the diff engine wants them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Models {
    /// One table per model, normalized.
    pub schema: Schema,
    /// The `renamed_from` hints of every model.
    pub hints: Hints,
    /// The models, in file order then declaration order.
    pub defs: Vec<ModelDef>,
}

/// An error in a model source file, located for an editor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelError {
    pub file: PathBuf,
    /// 1-based; 0 when the error is about the file as a whole (say, it could
    /// not be read).
    pub line: usize,
    /// 1-based, in characters, like rustc's.
    pub column: usize,
    /// The message, possibly followed by a `help:` line.
    pub message: String,
}

impl fmt::Display for ModelError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: error: {}", self.file.display(), self.message)
        } else {
            write!(
                f,
                "{}:{}:{}: error: {}",
                self.file.display(),
                self.line,
                self.column,
                self.message
            )
        }
    }
}

impl std::error::Error for ModelError {}

/// Parses one derive input into its model. All errors are combined into one
/// [`syn::Error`] (iterate it for each), each spanned on the offending token.
pub fn parse_derive_input(input: &syn::DeriveInput) -> Result<ModelDef, syn::Error> {
    parse_spanned(input).map(|lowered| lowered.def)
}

/// The pipeline of the module docs, keeping the spans `scan.rs` needs for
/// errors that involve several models.
fn parse_spanned(input: &syn::DeriveInput) -> Result<lower::Lowered, syn::Error> {
    let cx = ctxt::Ctxt::new();
    let lowered = ast::Model::from_input(&cx, input).map(|model| {
        check::check(&cx, &model);
        lower::lower(&cx, &model)
    });
    cx.check()?;
    // `from_input` gives `None` only after recording an error, so with an
    // empty context the model was lowered.
    lowered
        .ok_or_else(|| syn::Error::new_spanned(&input.ident, "internal error: model not lowered"))
}
