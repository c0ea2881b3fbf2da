//! migrator-core: everything migrator does, as ordinary library code that the
//! macros, the CLI and the facade call.
//!
//! Data flows model -> [`schema`] -> [`diff`] -> [`ops`] -> [`migration`] files
//! -> [`dialect`] SQL -> [`runner`] on a database. See docs/ARCHITECTURE.md.

/// `Debug` for a public error type, reading as its `Display`: what
/// `fn main() -> Result<(), Box<dyn Error>>` and `.unwrap()` print is the
/// message with its help lines, as `anyhow` users expect, not the variant
/// and its fields. The messages already carry their causes.
macro_rules! debug_as_display {
    ($($ty:ty),+ $(,)?) => {
        $(impl ::std::fmt::Debug for $ty {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                ::std::fmt::Display::fmt(self, f)
            }
        })+
    };
}

#[cfg(all(
    feature = "model",
    any(feature = "sqlite", feature = "postgres", feature = "mysql")
))]
pub mod adopt;
mod backend;
#[cfg(feature = "model")]
mod codegen;
#[cfg(feature = "model")]
mod config;
pub mod database_url;
pub mod diagram;
pub mod dialect;
pub mod diesel_schema;
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
pub mod diesel_types;
pub mod diff;
#[cfg(feature = "model")]
pub mod embed;
#[cfg(feature = "model")]
mod expand;
pub mod fleet;
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
pub mod introspect;
#[cfg(feature = "model")]
mod keep;
mod ledger;
pub mod lint;
pub mod lock_waits;
pub mod migration;
#[cfg(feature = "model")]
pub mod model;
#[cfg(feature = "model")]
mod not_null;
pub mod ops;
#[cfg(feature = "model")]
pub mod project;
#[cfg(feature = "model")]
pub mod rebase;
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
pub mod runner;
pub mod schema;
pub mod snapshot;
pub mod sql_fragment;
mod sql_lex;
pub mod squash;
mod suggest;
#[cfg(feature = "model")]
mod timing;

pub use dialect::{Dialect, Statement};
pub use ops::Operation;
pub use schema::{Column, ColumnType, Schema, Table};

#[cfg(test)]
mod debug_tests {
    use std::error::Error;

    /// What `fn main() -> Result<(), Box<dyn Error>>` prints (`Error: {:?}`)
    /// for a real failure is the message with its file, line and help, not
    /// `Files(Parse { file: .. })`.
    #[test]
    fn errors_debug_as_their_message() {
        let dir = std::env::temp_dir().join(format!("migrator-debug-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        std::fs::write(
            dir.join("0001_first.toml"),
            "description = \"first\"\n[[upgrade]]\nop = \"nope\"\n",
        )
        .expect("file");
        let err = crate::migration::MigrationSet::load(&dir).expect_err("a bad file");
        std::fs::remove_dir_all(&dir).expect("clean up");
        let shown = err.to_string();
        assert!(shown.contains("0001_first.toml"), "{shown}");
        assert_eq!(format!("{err:?}"), shown);
        #[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
        let err = crate::runner::RunError::from(err);
        let boxed: Box<dyn Error> = Box::new(err);
        assert_eq!(format!("{boxed:?}"), shown);
        assert!(!format!("{boxed:?}").contains("Parse {"));
        let url = crate::database_url::DatabaseUrl::parse("postgress://u:secret@h/db")
            .expect_err("misspelt");
        assert_eq!(format!("{url:?}"), url.to_string());
        assert!(!format!("{url:?}").contains("secret"));
    }
}
