//! Marking migrations as applied without running them: the baseline of a
//! database that existed before migrator (`migrator init --from-database`).
//!
//! Contract: [`Migrator::baseline`] takes the migration lock like every
//! other write, creates the history table, refuses a database that already
//! has history rows, and records migrations `1..=version` with the rows the
//! runner itself would write after applying them (state `applied`, the
//! file's checksum, the number of statements as `steps_done`), in one
//! transaction. Nothing of the migrations is executed: the database already
//! has their effect.

use super::conn::MigrationConnection;
use super::history::{self, insert_sql, utc_now, APPLIED};
use super::{steps, Migrator, RunError};
use crate::migration::Direction;

impl Migrator<'_> {
    /// Records migrations `1..=version` as applied without running them
    /// (module docs). Fails when the history table already has rows or
    /// there is no migration `version`.
    pub fn baseline<C: MigrationConnection>(
        &self,
        conn: &mut C,
        version: u32,
    ) -> Result<(), RunError> {
        if version == 0 || self.set.migrations.iter().all(|m| m.version != version) {
            return Err(RunError::History(format!(
                "there is no migration {version:04} to record as the baseline"
            )));
        }
        self.locked(conn, |this, conn| {
            let rows = history::read(conn)?;
            if !rows.is_empty() {
                return Err(RunError::History(format!(
                    "the database already has {} row(s) in `{}`: it is managed by migrator already\nhelp: `migrator status` shows what is applied",
                    rows.len(),
                    history::HISTORY_TABLE
                )));
            }
            let dialect = conn.dialect();
            let mut inserts = Vec::new();
            for m in this.set.migrations.iter().filter(|m| m.version <= version) {
                let statements = steps::steps(this.set, m, dialect, Direction::Up)?;
                inserts.push(insert_sql(
                    dialect,
                    m,
                    &utc_now(),
                    0,
                    APPLIED,
                    statements.len(),
                ));
            }
            conn.in_transaction(|c| {
                for sql in &inserts {
                    c.execute(sql).map_err(|e| RunError::Database {
                        message: format!("recording the baseline in `{}`: {e}", history::HISTORY_TABLE),
                    })?;
                }
                Ok(())
            })
        })
    }
}
