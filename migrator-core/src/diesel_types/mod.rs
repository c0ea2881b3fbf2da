//! What the application's diesel queries need from migrator where diesel
//! has nothing: SQL types that `schema!()` and `migrator print-schema`
//! name (`::migrator::sql_types::…`), and the value types of model fields
//! that work on every database (the facade re-exports them).
//!
//! - `Uuid` (feature `uuid`): a model's UUID field. diesel maps
//!   `uuid::Uuid` on PostgreSQL only; on SQLite (TEXT) and MySQL/MariaDB
//!   (CHAR(36)) the column is [`sql_types::Uuid`], the hyphenated text.

#[cfg(feature = "uuid")]
mod uuid;
#[cfg(feature = "uuid")]
pub use self::uuid::Uuid;

/// SQL types diesel does not have, for the `table!`s of a model.
pub mod sql_types {
    /// A UUID stored as text (SQLite `TEXT`, MySQL `CHAR(36)`): a
    /// `migrator::Uuid` field binds and reads it.
    #[derive(
        Debug, Clone, Copy, Default, diesel::query_builder::QueryId, diesel::sql_types::SqlType,
    )]
    #[diesel(sqlite_type(name = "Text"))]
    #[diesel(mysql_type(name = "String"))]
    pub struct Uuid;
}
