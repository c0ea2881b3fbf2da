//! migrator-core: everything migrator does, as ordinary library code that the
//! macros, the CLI and the facade call.
//!
//! Data flows model -> [`schema`] -> [`diff`] -> [`ops`] -> [`migration`] files
//! -> [`dialect`] SQL -> [`runner`] on a database. See docs/ARCHITECTURE.md.

#[cfg(all(
    feature = "model",
    any(feature = "sqlite", feature = "postgres", feature = "mysql")
))]
pub mod adopt;
#[cfg(feature = "model")]
mod codegen;
pub mod database_url;
pub mod dialect;
pub mod diff;
#[cfg(feature = "model")]
pub mod embed;
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
pub mod introspect;
pub mod lint;
pub mod migration;
#[cfg(feature = "model")]
pub mod model;
pub mod ops;
#[cfg(feature = "model")]
pub mod project;
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
pub mod runner;
pub mod schema;
pub mod snapshot;
pub mod sql_fragment;
mod suggest;

pub use dialect::{Dialect, Statement};
pub use ops::Operation;
pub use schema::{Column, ColumnType, Schema, Table};
