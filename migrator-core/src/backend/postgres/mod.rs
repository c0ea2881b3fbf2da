//! PostgreSQL: rendering and its catalog guards.

pub mod render;

use super::Backend;
use crate::dialect::{RenderError, Statement};
use crate::ops::Operation;
use crate::schema::Schema;

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

    fn render(
        &self,
        op: &Operation,
        before: &Schema,
        start: &Schema,
    ) -> Result<Vec<Statement>, RenderError> {
        render::render(op, before, start)
    }
}
