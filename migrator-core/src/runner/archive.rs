//! The archives of kept drops on a live database (`migrator purge`): list
//! them, and drop them for good when the team decides.
//!
//! Contract: only tables named with [`ARCHIVE_PREFIX`] in the connection's
//! own schema are listed or dropped; a purged archive makes the downgrade of
//! its migration restore the schema with fills and defaults instead of the
//! values (docs/DESIGN.md §5). [`Migrator::purge_archives`] drops them
//! under the runner's lock, so a purge never runs beside a migration (one
//! whose downgrade is restoring from an archive, say).

use super::{MigrationConnection, Migrator, RunError};
use crate::ops::ARCHIVE_PREFIX;

/// The archive tables of the database, sorted by name (so by migration).
pub fn list<C: MigrationConnection>(conn: &mut C) -> Result<Vec<String>, RunError> {
    let sql = conn
        .dialect()
        .backend()
        .tables_with_prefix_sql(ARCHIVE_PREFIX);
    conn.query_texts(&sql).map_err(|e| RunError::Database {
        message: format!("listing the archives: {e}"),
    })
}

/// Drops every archive table; returns their names.
pub fn purge<C: MigrationConnection>(conn: &mut C) -> Result<Vec<String>, RunError> {
    let names = list(conn)?;
    let backend = conn.dialect().backend();
    for name in &names {
        let sql = format!("DROP TABLE IF EXISTS {}", backend.ident(name));
        conn.execute(&sql).map_err(|e| RunError::Database {
            message: format!("{sql}: {e}"),
        })?;
    }
    Ok(names)
}

impl Migrator<'_> {
    /// [`purge`] under the runner's lock (waiting as `up` does, and giving
    /// up after the lock timeout with the holder named).
    pub fn purge_archives<C: MigrationConnection>(
        &self,
        conn: &mut C,
    ) -> Result<Vec<String>, RunError> {
        super::context::locked(conn, &self.settings, &*self.on_event, |ctx| purge(ctx.conn))
    }
}
