//! Rust data migrations: the function a migration file names with
//! `op = "rust"`, and what it is given.
//!
//! Contract:
//! - a step is a plain function `fn(&mut RustStepContext<'_>) -> RustStepResult`
//!   in the application, marked `#[migration]` (which checks the signature),
//!   named in the file by its path from the crate root;
//! - the runner calls it in file order with the SQL steps of the same
//!   migration, inside the migration's transaction when the migration has
//!   one, so an error (or a panic) rolls back the whole migration;
//! - the context works for every backend: `execute` runs SQL text,
//!   `dialect` says which database it is, and `connection::<C>()` hands out
//!   the concrete diesel connection (`SqliteConnection`, `PgConnection`) for
//!   typed queries;
//! - a step must not change the modelled schema (tables, columns, indexes):
//!   those changes belong in typed operations, or in a raw SQL step with a
//!   declared `effect`, so that replay stays exact.

use std::any::Any;
use std::fmt;

use super::Direction;
use crate::dialect::Dialect;

/// The error a Rust step returns: anything that is an error.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// What a Rust step returns.
pub type RustStepResult = Result<(), BoxError>;

/// The signature of a Rust step (a `#[migration]` function).
pub type RustStepFn = fn(&mut RustStepContext<'_>) -> RustStepResult;

/// The runner's side of a connection, object-safe so that one context type
/// serves every backend.
pub(crate) trait StepConnection {
    fn execute_sql(&mut self, sql: &str) -> RustStepResult;
    fn as_any_mut(&mut self) -> &mut dyn Any;
}

/// What a Rust step gets: the connection of the running migration (inside
/// its transaction, when it has one) and where it runs.
pub struct RustStepContext<'a> {
    conn: &'a mut dyn StepConnection,
    dialect: Dialect,
    migration: &'a str,
    direction: Direction,
}

impl fmt::Debug for RustStepContext<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RustStepContext")
            .field("dialect", &self.dialect)
            .field("migration", &self.migration)
            .field("direction", &self.direction)
            .finish_non_exhaustive()
    }
}

impl<'a> RustStepContext<'a> {
    /// Only the runner makes contexts (it needs a backend feature).
    #[cfg_attr(
        not(any(feature = "sqlite", feature = "postgres", feature = "mysql")),
        allow(dead_code)
    )]
    pub(crate) fn new(
        conn: &'a mut dyn StepConnection,
        dialect: Dialect,
        migration: &'a str,
        direction: Direction,
    ) -> RustStepContext<'a> {
        RustStepContext {
            conn,
            dialect,
            migration,
            direction,
        }
    }

    /// The database the step runs on.
    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// The migration it belongs to, e.g. `0006_priority_from_flag`.
    pub fn migration(&self) -> &str {
        self.migration
    }

    /// Whether the migration is being applied or rolled back.
    pub fn direction(&self) -> Direction {
        self.direction
    }

    /// Runs one or more SQL statements (no results), in the migration's
    /// transaction.
    pub fn execute(&mut self, sql: &str) -> RustStepResult {
        self.conn.execute_sql(sql)
    }

    /// The diesel connection itself, when it is a `C`: for example
    /// `ctx.connection::<diesel::SqliteConnection>()` on SQLite, `None` on
    /// PostgreSQL. Queries made through it run in the migration's
    /// transaction.
    pub fn connection<C: Any>(&mut self) -> Option<&mut C> {
        self.conn.as_any_mut().downcast_mut::<C>()
    }
}

/// Checks the `name` (or `reverse`) of a Rust step: a path from the crate
/// root such as `data::backfill`, optionally written `crate::data::backfill`,
/// or `::other_crate::data::backfill` for a function of another crate.
pub fn check_rust_path(name: &str) -> Result<(), String> {
    let help = "help: name the `#[migration]` function by its path from the crate root, e.g. `name = \"data::backfill_priority\"`";
    let body = name.strip_prefix("::").unwrap_or(name);
    if body.is_empty() {
        return Err(format!("a Rust step needs the path of a function\n{help}"));
    }
    for (i, seg) in body.split("::").enumerate() {
        let ident = seg.strip_prefix("r#").unwrap_or(seg);
        let ok = !ident.is_empty()
            && ident != "_"
            && ident
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && ident.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        let bad_keyword = matches!(seg, "self" | "super" | "Self")
            || (seg == "crate" && (i > 0 || name.starts_with("::")));
        if !ok || bad_keyword {
            return Err(format!("`{name}` is not a path to a Rust function\n{help}"));
        }
    }
    if body == "crate" {
        return Err(format!("`{name}` is not a path to a Rust function\n{help}"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check_rust_path;

    #[test]
    fn rust_paths() {
        for ok in [
            "a",
            "data::backfill",
            "crate::a::b",
            "::ext::f",
            "r#type::f",
            "_x",
        ] {
            assert_eq!(check_rust_path(ok), Ok(()), "{ok}");
        }
        for bad in [
            "", "::", "a::", "::a::", "a b", "a-b", "1a", "self::a", "super::a", "a::crate",
            "crate", "a::::b", "_",
        ] {
            assert!(check_rust_path(bad).is_err(), "{bad}");
        }
    }
}
