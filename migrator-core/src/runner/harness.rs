//! diesel_migrations interop: [`EmbeddedMigrations`] is a diesel
//! `MigrationSource` for SQLite and PostgreSQL, so
//! `conn.run_pending_migrations(MIGRATIONS)` works for applications on
//! diesel's harness.
//!
//! Contract:
//! - each diesel migration runs the same steps as [`super::Migrator`]: the
//!   rendered statements with their idempotency guards evaluated, and the
//!   Rust steps, in file order; it reverts with the downgrade;
//! - the harness, not migrator, owns the transaction (one per migration,
//!   unless the migration is `transaction = false` or has a
//!   non-transactional statement) and the history (diesel's
//!   `__diesel_schema_migrations`, versions `0001`, `0002`, ...). So there is
//!   no checksum check of applied migrations, no lock against concurrent
//!   runners, no resumption of an interrupted non-transactional migration,
//!   and `_migrator_history` is not written: a database is migrated by one of
//!   the two, not both;
//! - the connection must be the backend's own diesel connection (downcast
//!   through `BoxableConnection`), because the guards need queries; a pooled
//!   connection is passed as `&mut *pooled`;
//! - on SQLite with `PRAGMA foreign_keys = ON`, a migration that rebuilds a
//!   table is refused: the rebuild needs foreign keys off, which SQLite
//!   ignores inside the harness's transaction (the runner switches them off
//!   around its own transaction).

use std::fmt;

use diesel::connection::BoxableConnection;
use diesel::migration::{MigrationMetadata, MigrationName, MigrationVersion};

use super::conn::MigrationConnection;
use super::env::Env;
use super::error::RunError;
use super::steps::{run_step, steps, Step};
use crate::dialect::Dialect;
use crate::migration::{Direction, EmbeddedMigrations, MigrationSet};

/// The version diesel records: the four-digit number, so that its string
/// order is the numeric order.
struct Name {
    version: String,
    id: String,
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.id)
    }
}

impl MigrationName for Name {
    fn version(&self) -> MigrationVersion<'_> {
        MigrationVersion::from(&self.version)
    }
}

struct Metadata {
    transactional: bool,
}

impl MigrationMetadata for Metadata {
    fn run_in_transaction(&self) -> bool {
        self.transactional
    }
}

/// One migration, rendered for one backend's connection type `C`.
struct HarnessMigration<C> {
    set: &'static MigrationSet,
    dialect: Dialect,
    index: usize,
    name: Name,
    metadata: Metadata,
    up: Vec<Step>,
    /// Rendered when the source is listed, reported only when reverting.
    down: Result<Vec<Step>, String>,
    conn: std::marker::PhantomData<fn(C)>,
}

fn harness_migrations<C>(
    source: &EmbeddedMigrations,
    dialect: Dialect,
) -> Result<Vec<HarnessMigration<C>>, RunError> {
    let set = source.set();
    let mut out = Vec::new();
    for (index, m) in set.migrations.iter().enumerate() {
        let up = steps(set, m, dialect, Direction::Up)?;
        let down = steps(set, m, dialect, Direction::Down).map_err(|e| e.to_string());
        let transactional = m.is_transactional()
            && up.iter().all(Step::transactional)
            && down
                .as_ref()
                .map_or(true, |d| d.iter().all(Step::transactional));
        out.push(HarnessMigration {
            set,
            dialect,
            index,
            name: Name {
                version: format!("{:04}", m.version),
                id: m.id(),
            },
            metadata: Metadata { transactional },
            up,
            down,
            conn: std::marker::PhantomData,
        });
    }
    Ok(out)
}

impl<C> HarnessMigration<C>
where
    C: MigrationConnection + diesel::Connection + 'static,
{
    fn execute(
        &self,
        conn: &mut dyn BoxableConnection<C::Backend>,
        direction: Direction,
    ) -> diesel::migration::Result<()> {
        let m = &self.set.migrations[self.index];
        let steps = match direction {
            Direction::Up => &self.up,
            Direction::Down => self.down.as_ref().map_err(|e| e.clone())?,
        };
        let dialect = self.dialect;
        let Some(conn) = conn.downcast_mut::<C>() else {
            return Err(Box::new(RunError::Database {
                message: format!(
                    "migration {}: migrator's diesel migrations run on diesel's own {} connection\nhelp: pass the connection itself, e.g. for a pooled connection `let conn: &mut {} = &mut pooled; conn.run_pending_migrations(MIGRATIONS)`",
                    m.id(),
                    dialect,
                    std::any::type_name::<C>().rsplit("::").next().unwrap_or("Connection"),
                ),
            }));
        };
        if dialect.backend().foreign_keys_pragma()
            && self.metadata.transactional
            && steps.iter().any(rebuilds_sqlite_table)
            && conn
                .count_rows("SELECT 1 FROM pragma_foreign_keys WHERE foreign_keys = 1")
                .map_err(RunError::from)?
                > 0
        {
            return Err(Box::new(RunError::Database {
                message: format!(
                    "migration {} rebuilds a table on SQLite, which needs `PRAGMA foreign_keys = OFF`, and SQLite ignores that pragma inside the transaction diesel's harness opens\nhelp: apply it with `migrator::Migrator::new(&MIGRATIONS).up(&mut conn)`, which switches foreign keys off around its transaction, or run `PRAGMA foreign_keys = OFF` on this connection before the harness",
                    m.id()
                ),
            }));
        }
        for (i, step) in steps.iter().enumerate() {
            run_step(
                conn,
                m,
                i,
                step,
                direction,
                self.metadata.transactional,
                Env::quiet(),
            )?;
            // diesel's harness records the migration itself, with the
            // rest: the finished backfill's cursor goes too.
            if matches!(step, Step::Sql(s) if s.backfill.is_some()) {
                super::backfill::clear(conn, m, i, direction).map_err(RunError::from)?;
                super::backfill::drop_if_empty(conn).map_err(RunError::from)?;
            }
        }
        Ok(())
    }
}

fn rebuilds_sqlite_table(step: &Step) -> bool {
    matches!(step, Step::Sql(s) if s.sql.contains(crate::dialect::sqlite::REBUILD_PREFIX))
}

macro_rules! migration_source {
    ($feature:literal, $backend:ty, $conn:ty, $dialect:expr) => {
        #[cfg(feature = $feature)]
        impl diesel::migration::Migration<$backend> for HarnessMigration<$conn> {
            fn run(
                &self,
                conn: &mut dyn BoxableConnection<$backend>,
            ) -> diesel::migration::Result<()> {
                self.execute(conn, Direction::Up)
            }

            fn revert(
                &self,
                conn: &mut dyn BoxableConnection<$backend>,
            ) -> diesel::migration::Result<()> {
                self.execute(conn, Direction::Down)
            }

            fn metadata(&self) -> &dyn MigrationMetadata {
                &self.metadata
            }

            fn name(&self) -> &dyn MigrationName {
                &self.name
            }
        }

        /// diesel_migrations' harness: `conn.run_pending_migrations(MIGRATIONS)`.
        /// See the module docs of `runner::harness` for what it gives up.
        #[cfg(feature = $feature)]
        impl diesel::migration::MigrationSource<$backend> for EmbeddedMigrations {
            fn migrations(
                &self,
            ) -> diesel::migration::Result<Vec<Box<dyn diesel::migration::Migration<$backend>>>>
            {
                Ok(harness_migrations::<$conn>(self, $dialect)?
                    .into_iter()
                    .map(|m| Box::new(m) as Box<dyn diesel::migration::Migration<$backend>>)
                    .collect())
            }
        }
    };
}

migration_source!(
    "sqlite",
    diesel::sqlite::Sqlite,
    diesel::sqlite::SqliteConnection,
    Dialect::Sqlite
);
migration_source!(
    "postgres",
    diesel::pg::Pg,
    diesel::pg::PgConnection,
    Dialect::Postgres
);
