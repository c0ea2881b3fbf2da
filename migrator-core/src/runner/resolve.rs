//! `migrator resolve N --applied|--rolled-back`: settle a PARTIAL migration
//! by hand, once someone has finished or undone its remaining effect
//! themselves. Only the history changes: `--applied` marks the row
//! applied (the next `up` goes on after it), `--rolled-back` removes it
//! (the next `up` runs the migration from its start, its guards skipping
//! what is already there). Each resolution is recorded, with who gave it
//! and when, in `_migrator_resolutions` (`migrator history` keeps showing
//! the migration's own row).
//!
//! Contract: under the runner's lock; refused, with nothing changed, when
//! the migration has no PARTIAL row.

use super::{history::HISTORY_TABLE, MigrationConnection, Migrator, RunError};

/// Where resolutions are recorded (one row each).
pub const RESOLUTIONS_TABLE: &str = "_migrator_resolutions";

/// What the person resolving says happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    /// The rest of the migration's effect is there: mark it applied.
    Applied,
    /// Its effect is undone: forget the row, so `up` runs it again.
    RolledBack,
}

impl Resolution {
    fn word(self) -> &'static str {
        match self {
            Resolution::Applied => "applied",
            Resolution::RolledBack => "rolled-back",
        }
    }
}

impl Migrator<'_> {
    /// Settles the PARTIAL migration `version` as `how`, recording `by`
    /// (a person or tool) and the database's time. Returns the line to show.
    pub fn resolve<C: MigrationConnection>(
        &self,
        conn: &mut C,
        version: u32,
        how: Resolution,
        by: &str,
    ) -> Result<String, RunError> {
        super::context::locked(conn, &self.settings, &*self.on_event, |ctx| {
            let conn = &mut *ctx.conn;
            let rows = super::history::read(conn)?;
            let Some(row) = rows.iter().find(|r| r.version == i64::from(version)) else {
                return Err(RunError::Refused(format!(
                    "migration {version:04} has no history row: there is nothing to resolve\nhelp: `migrator status` shows the partial migration, if any"
                )));
            };
            let id = format!("{:04}_{}", row.version, row.name);
            if row.state != "partial" {
                return Err(RunError::Refused(format!(
                    "{id} is {}, not partial: `resolve` only settles a migration left PARTIAL\nhelp: `migrator down` rolls an applied migration back",
                    row.state
                )));
            }
            let d = conn.dialect();
            let q = |n: &str| d.ident(n);
            let change = match how {
                Resolution::Applied => format!(
                    "UPDATE {} SET state = 'applied' WHERE version = {version}",
                    q(HISTORY_TABLE)
                ),
                Resolution::RolledBack => {
                    format!("DELETE FROM {} WHERE version = {version}", q(HISTORY_TABLE))
                }
            };
            let record = format!(
                "INSERT INTO {} (version, name, resolution, steps_done, resolved_by) VALUES ({version}, {}, {}, {}, {})",
                q(RESOLUTIONS_TABLE),
                d.string(&row.name),
                d.string(how.word()),
                row.steps_done,
                d.string(by)
            );
            let create = format!(
                "CREATE TABLE IF NOT EXISTS {} (version BIGINT NOT NULL, name VARCHAR(255) NOT NULL, resolution VARCHAR(16) NOT NULL, steps_done BIGINT NOT NULL, resolved_by VARCHAR(255) NOT NULL, resolved_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP)",
                q(RESOLUTIONS_TABLE)
            );
            let fail = |sql: &str, e: diesel::result::Error| RunError::Database {
                message: format!("{sql}: {e}"),
            };
            // The table first: on MySQL its creation commits on its own.
            conn.execute(&create).map_err(|e| fail(&create, e))?;
            conn.in_transaction(|conn| {
                conn.execute(&change).map_err(|e| fail(&change, e))?;
                conn.execute(&record).map_err(|e| fail(&record, e))
            })?;
            Ok(format!(
                "resolved {id} as {} by {by} (after {} step(s) done), recorded in {RESOLUTIONS_TABLE}",
                how.word(),
                row.steps_done
            ))
        })
    }
}
