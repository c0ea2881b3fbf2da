//! One backend per database: everything migrator knows about PostgreSQL,
//! SQLite or MySQL/MariaDB lives in that database's folder.
//!
//! [`Dialect`] is the small public enum that names a database;
//! [`Dialect::backend`] is the one place that turns it into the database's
//! [`Backend`] object. The trait's default methods are what the databases
//! share (standard identifier and string quoting, transactional DDL); each
//! backend overrides what its database spells differently.
//!
//! Per database (`postgres/`, `sqlite/`, `mysql/`):
//! - `render.rs`: operations to statements, with the catalog guards
//!   (`skip_if`) that make each statement idempotent, and the database's
//!   spelling of every portable type;
//! - `introspect.rs` (with the database's driver feature): the catalog
//!   queries that read a live database back into the schema model, and
//!   `expected`, the snapshot as that database would report it;
//!
//! and, shared by the three, `common.rs`: the render helpers that are the
//! same SQL everywhere (quoted identifier lists, literals, `CREATE TABLE`,
//! `CREATE INDEX`, constraint clauses, raw SQL steps).

pub(crate) mod common;
pub mod mysql;
pub mod postgres;
pub mod sqlite;

use crate::dialect::{Dialect, RenderError, Statement};
use crate::ops::Operation;
use crate::schema::Schema;
use crate::sql_lex::Mode;

/// What migrator needs from a database. One implementation per database;
/// get it with [`Dialect::backend`].
pub(crate) trait Backend: Sync {
    /// The lowercase name used in files, flags and `RawSql` variants.
    fn name(&self) -> &'static str;

    /// The spellings `--dialect` and `migrator.toml` accept (lowercase).
    fn aliases(&self) -> &'static [&'static str];

    /// The longest identifier the database keeps as written.
    fn max_identifier_len(&self) -> Option<usize>;

    /// The length of `name` in the unit of [`Backend::max_identifier_len`].
    fn identifier_len(&self, name: &str) -> usize {
        name.len()
    }

    /// The unit of [`Backend::identifier_len`], for messages.
    fn identifier_unit(&self) -> &'static str {
        "bytes"
    }

    /// What the database does with a name over
    /// [`Backend::max_identifier_len`], for the message that refuses it.
    fn long_identifier_effect(&self) -> &'static str {
        "refuse it in the middle of the migration"
    }

    /// Whether DDL can be rolled back with its transaction.
    fn transactional_ddl(&self) -> bool {
        true
    }

    /// Quotes an identifier, doubling any embedded quote character.
    fn ident(&self, name: &str) -> String {
        format!("\"{}\"", name.replace('"', "\"\""))
    }

    /// Quotes a string literal.
    fn string(&self, value: &str) -> String {
        format!("'{}'", value.replace('\'', "''"))
    }

    /// The literal of a boolean default.
    fn bool_literal(&self, value: bool) -> &'static str {
        if value {
            "TRUE"
        } else {
            "FALSE"
        }
    }

    /// `column` (an already quoted identifier) as an SQL string literal
    /// that the column's type reads back (the backfill's progress cursor).
    fn quote_value(&self, column: &str) -> String;

    /// The text of several [`Backend::quote_value`] parts joined by `", "`.
    fn join_quoted(&self, parts: &[String]) -> String {
        parts.join(" || ', ' || ")
    }

    /// The ways the database may read SQL text, for [`crate::sql_lex`]:
    /// one per session mode that changes how literals and names are read.
    fn lex_modes(&self) -> &'static [Mode];

    /// Renders one operation, given the schema before it and the schema
    /// the migration started from (see [`crate::dialect::render_op`]).
    fn render(
        &self,
        op: &Operation,
        before: &Schema,
        start: &Schema,
    ) -> Result<Vec<Statement>, RenderError>;
}

impl Dialect {
    /// The database behind this dialect. The one dispatch from the enum to
    /// a backend.
    pub(crate) fn backend(self) -> &'static dyn Backend {
        match self {
            Dialect::Postgres => &postgres::Postgres,
            Dialect::Sqlite => &sqlite::Sqlite,
            Dialect::Mysql => &mysql::Mysql,
        }
    }
}
