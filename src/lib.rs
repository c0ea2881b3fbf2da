//! migrator: safe, typed, reversible database schema migrations for Rust.
//!
//! Annotate plain structs with `#[derive(Model)]`; `migrator generate NAME`
//! diffs them against the checked-in snapshot and writes the next migration.
//!
//! ```
//! use migrator::Model;
//!
//! #[derive(Model)]
//! #[model(table = "tasks", index = "user_id, done")]
//! pub struct Task {
//!     #[model(primary_key, auto_increment)]
//!     pub id: i64,
//!     #[model(foreign_key = "users.id", on_delete = "cascade")]
//!     pub user_id: i64,
//!     #[model(max_length = 200)]
//!     pub title: String,
//!     #[model(max_length = 20, default = "medium")]
//!     pub priority: String,
//!     pub done: bool,
//! }
//!
//! let table = Task::table();
//! assert_eq!(table.name, "tasks");
//! assert_eq!(table.primary_key, ["id"]);
//! assert_eq!(table.indexes[0].name, "idx_tasks_user_id_done");
//! ```
//!
//! # The `#[model(...)]` vocabulary
//!
//! On the struct:
//!
//! | key | meaning |
//! |---|---|
//! | `table = "tasks"` | table name; default diesel's: `TaskItem` -> `task_items` |
//! | `renamed_from = "old"` | the table's previous name, so the diff renames it |
//! | `index = "a, b"` | an index `idx_<table>_a_b` (repeatable) |
//! | `unique = "a, b"` | a unique constraint `uq_<table>_a_b` (repeatable) |
//! | `check = "SQL"` | a check constraint `ck_<table>_<hash>`, named by its expression (repeatable) |
//!
//! Column lists name database columns (after `column = "..."`); a field name
//! is accepted too when no column has that name.
//!
//! On a field:
//!
//! | key | meaning |
//! |---|---|
//! | `primary_key` | part of the primary key (several fields: composite, in field order) |
//! | `auto_increment` | database-generated integer; needs a single-column `primary_key` |
//! | `index`, `unique` | a one-column index `idx_<table>_<col>` / constraint `uq_<table>_<col>` |
//! | `foreign_key = "table.column"` | a foreign key `fk_<table>_<col>` to a modelled table |
//! | `on_delete`, `on_update` | `"cascade"`, `"set null"`, `"set default"`, `"restrict"`, `"no action"` |
//! | `max_length = N` | `String` becomes `varchar(N)` instead of `text` |
//! | `default = <literal>` | a Rust literal: string, integer (also negative), float, bool |
//! | `default_sql = "SQL"` | an SQL default expression, e.g. `"CURRENT_TIMESTAMP"` |
//! | `sql_type = "NUMERIC(12, 2)"` | the SQL type, verbatim, for any Rust type |
//! | `column = "name"` | the column name; default the field name |
//! | `renamed_from = "old"` | the column's previous name, so the diff renames it |
//! | `skip` | not a column |
//!
//! Types: `i16`, `i32`, `i64`, `f32`, `f64`, `bool`, `String`, `Vec<u8>`,
//! chrono's `NaiveDate`, `NaiveTime`, `NaiveDateTime`, `DateTime<Utc>`,
//! `uuid::Uuid`, `serde_json::Value`; `Option<T>` is nullable. Any other type
//! needs `sql_type`.

pub use migrator_core as core;
pub use migrator_core::schema::{
    Check, Column, ColumnType, DefaultValue, ForeignKey, Index, RefAction, Schema, Table, Unique,
};
pub use migrator_core::{Dialect, Operation, Statement};

/// Migration files, the snapshot and the validated [`MigrationSet`].
pub use migrator_core::migration;
pub use migrator_core::migration::{
    BoxError, EmbeddedMigration, EmbeddedMigrations, MigrationSet, RustStepContext, RustStepFn,
    RustStepResult,
};

/// The runner: apply, roll back and report migrations on a diesel connection.
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
pub use migrator_core::runner;
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
pub use migrator_core::runner::{Migrator, RunError};

/// Derives [`Model`](trait@Model) from `#[model(...)]` attributes; see the
/// crate docs for the vocabulary.
pub use migrator_macros::Model;

/// Embeds a migrations folder, validated at compile time, as
/// [`EmbeddedMigrations`]:
///
/// ```
/// # use diesel::Connection;
/// // In an application: `embed_migrations!("migrations")`.
/// static MIGRATIONS: migrator::EmbeddedMigrations =
///     migrator::embed_migrations!("examples/todo/migrations");
///
/// let mut conn = diesel::sqlite::SqliteConnection::establish(":memory:")?;
/// let report = migrator::Migrator::new(&MIGRATIONS).up(&mut conn)?;
/// assert_eq!(report.done.len(), MIGRATIONS.len());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// The path is relative to the crate's `Cargo.toml`. The build fails, naming
/// the file, when a migration does not parse, numbers have gaps or
/// duplicates, the replay of the upgrades differs from `schema.toml`, a
/// downgrade does not restore the schema before its upgrade, or a Rust step
/// names a function that does not exist. Cargo rebuilds the crate when a
/// migration file or the snapshot changes.
pub use migrator_macros::embed_migrations;

/// Marks a Rust data migration and checks its signature:
///
/// ```
/// #[migrator::migration]
/// fn backfill_priority(ctx: &mut migrator::RustStepContext<'_>) -> migrator::RustStepResult {
///     ctx.execute("UPDATE tasks SET priority = 'high' WHERE is_high_priority")?;
///     Ok(())
/// }
/// ```
///
/// A migration file runs it with `op = "rust"` and its path from the crate
/// root, `name = "backfill_priority"` here (a downgrade step names its own
/// function; `reverse` names the function that undoes a step, as for raw
/// SQL). It runs inside the migration's transaction; return an error to roll
/// the migration back. `ctx.connection::<diesel::SqliteConnection>()` (or
/// `PgConnection`) gives the diesel connection for typed queries.
pub use migrator_macros::migration;

/// diesel's schema of the crate's models, with no `schema.rs` to write:
/// a `table!` per table of `migrations/schema.toml` (the snapshot that
/// `#[derive(Model)]` holds every model to), `joinable!` for its foreign
/// keys and `allow_tables_to_appear_in_same_query!` for all of them.
///
/// ```ignore
/// mod schema {
///     migrator::schema!();                      // types every dialect of migrator.toml agrees on
///     // migrator::schema!(dialect = "postgres"); // or one database's types
/// }
///
/// #[derive(migrator::Model, diesel::Queryable, diesel::Selectable, diesel::Insertable)]
/// #[diesel(table_name = schema::users)]
/// pub struct User { /* .. */ }
/// ```
///
/// The column types follow the snapshot: `i64` is `BigInt`, `Option<T>`
/// is `Nullable<..>`, `DateTime<Utc>` is `Timestamptz` on PostgreSQL and
/// `TimestamptzSqlite` on SQLite, JSON is `Jsonb` on PostgreSQL and `Json`
/// elsewhere, an `sql_type` is read from its SQL (`NUMERIC(..)` is
/// `Numeric`). A column without a diesel type is a compile error naming it.
/// `schema!(path = "../models")` reads another project's snapshot (relative
/// to the crate's root). `migrator print-schema` writes the same text as a
/// file. The crate needs
/// `diesel` as a dependency, with the features its types need (`chrono`,
/// `uuid`, `serde_json`, `numeric`).
pub use migrator_macros::schema;

/// A struct that maps to a table. Implement it with `#[derive(Model)]`.
pub trait Model {
    /// The table this struct maps to, exactly as `migrator generate` reads it
    /// from the source.
    fn table() -> Table;
}

/// SQL types diesel does not have, which `schema!()` names for a model's
/// columns (a UUID on SQLite and MySQL/MariaDB).
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
pub use migrator_core::diesel_types::sql_types;
/// A model's UUID field on every database: diesel's `Uuid` on PostgreSQL,
/// text on SQLite and MySQL/MariaDB. Derefs to `uuid::Uuid` and converts
/// from and into it.
#[cfg(all(
    feature = "uuid",
    any(feature = "sqlite", feature = "postgres", feature = "mysql")
))]
pub use migrator_core::diesel_types::Uuid;

/// `use migrator::prelude::*;` brings the trait and its derive.
pub mod prelude {
    pub use crate::Model;
}

/// What the derive's generated code names. Not public API: it may change in
/// any release.
#[doc(hidden)]
pub mod __private {
    pub use migrator_core::migration::{
        EmbeddedMigration, MigrationFile, MigrationSet, Replaced, RustStepFn,
    };
    pub use migrator_core::ops::{
        inverse_all, Archived, Backfill, BackfillReverse, Operation, RawSql, SqlVariants,
    };
    pub use migrator_core::schema::*;
    pub use std::boxed::Box;
    pub use std::option::Option;
    pub use std::string::String;
    pub use std::sync::OnceLock;
    pub use std::vec;
    pub use std::vec::Vec;

    /// A string of the generated code (cheaper to compile than
    /// `String::from`, which the compiler must resolve at every call).
    pub fn string(s: &str) -> String {
        s.to_owned()
    }

    /// A column with no default, collation, comment, `ON UPDATE` or
    /// identity options, the common case of generated code.
    pub fn column(name: &str, ty: ColumnType, nullable: bool, auto_increment: bool) -> Column {
        Column {
            nullable,
            auto_increment,
            ..Column::new(name, ty)
        }
    }
}
