//! PostgreSQL: rendering and its catalog guards.

#[cfg(feature = "postgres")]
pub(crate) mod introspect;
pub mod render;
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
pub(crate) mod types;

use super::Backend;
use crate::dialect::{Dialect, RenderError, Statement};
use crate::ops::Operation;
use crate::schema::Schema;
use crate::sql_lex::Mode;

const LEX_MODES: &[Mode] = &[Mode {
    d: Dialect::Postgres,
    backslash: false,
    ansi: true,
    dollar_quotes: true,
    backticks: false,
    brackets: false,
    hash_comments: false,
    nested_comments: true,
}];

/// The PostgreSQL backend.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Postgres;

impl Backend for Postgres {
    fn name(&self) -> &'static str {
        "postgres"
    }

    fn aliases(&self) -> &'static [&'static str] {
        &["postgres", "postgresql", "pg"]
    }

    /// PostgreSQL cuts names to 63 bytes (NAMEDATALEN - 1).
    fn max_identifier_len(&self) -> Option<usize> {
        Some(63)
    }

    fn long_identifier_effect(&self) -> &'static str {
        "cut it silently, and the name would no longer be the one the migration checks"
    }

    fn quote_value(&self, column: &str) -> String {
        format!("quote_literal({column}::text)")
    }

    fn lex_modes(&self) -> &'static [Mode] {
        LEX_MODES
    }

    fn render(
        &self,
        op: &Operation,
        before: &Schema,
        start: &Schema,
    ) -> Result<Vec<Statement>, RenderError> {
        render::render(op, before, start)
    }
}
