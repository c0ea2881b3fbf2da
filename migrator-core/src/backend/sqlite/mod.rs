//! SQLite: rendering (the table rebuild included) and its catalog guards.

#[cfg(feature = "sqlite")]
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
    d: Dialect::Sqlite,
    backslash: false,
    ansi: true,
    dollar_quotes: false,
    backticks: true,
    brackets: true,
    hash_comments: false,
    nested_comments: false,
}];

/// The SQLite backend.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sqlite;

impl Backend for Sqlite {
    fn name(&self) -> &'static str {
        "sqlite"
    }

    fn aliases(&self) -> &'static [&'static str] {
        &["sqlite", "sqlite3"]
    }

    /// SQLite has no limit.
    fn max_identifier_len(&self) -> Option<usize> {
        None
    }

    /// SQLite stores booleans as 1/0 and only learnt the keywords in 3.23.
    fn bool_literal(&self, value: bool) -> &'static str {
        if value {
            "1"
        } else {
            "0"
        }
    }

    /// `quote()` keeps integers bare.
    fn quote_value(&self, column: &str) -> String {
        format!("quote({column})")
    }

    fn lex_modes(&self) -> &'static [Mode] {
        LEX_MODES
    }

    fn render(
        &self,
        op: &Operation,
        before: &Schema,
        _start: &Schema,
    ) -> Result<Vec<Statement>, RenderError> {
        render::render(op, before)
    }
}
