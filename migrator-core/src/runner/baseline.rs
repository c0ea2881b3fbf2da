//! Marking migrations as applied without running them: the baseline of a
//! database that existed before migrator (`migrator init --from-database`).
//!
//! Contract: [`super::Migrator::baseline`] takes the migration lock like every
//! other write, creates the history table, refuses a database that already
//! has history rows, and records migrations `1..=version` with the rows the
//! runner itself would write after applying them (state `applied`, the
//! file's checksum, the number of statements as `steps_done`), in one
//! transaction. Nothing of the migrations is executed: the database already
//! has their effect.

use super::clock::utc_now;
use super::conn::MigrationConnection;
use super::error::RunError;
use super::history::{self, insert_sql, APPLIED};
use super::steps;
use crate::migration::{Direction, MigrationSet};

/// Refuses a baseline at a version that has no migration.
pub(crate) fn check(set: &MigrationSet, version: u32) -> Result<(), RunError> {
    if version == 0 || set.migrations.iter().all(|m| m.version != version) {
        return Err(RunError::NoSuchVersion(format!(
            "there is no migration {version:04} to record as the baseline"
        )));
    }
    Ok(())
}

/// Records migrations `1..=version` of `set` as applied, under the lock
/// the caller holds (module docs).
pub(crate) fn record<C: MigrationConnection>(
    conn: &mut C,
    set: &MigrationSet,
    version: u32,
) -> Result<(), RunError> {
    let rows = history::read(conn)?;
    if !rows.is_empty() {
        return Err(RunError::Refused(format!(
            "the database already has {} row(s) in `{}`: it is managed by migrator already\nhelp: `migrator status` shows what is applied",
            rows.len(),
            history::HISTORY_TABLE
        )));
    }
    let dialect = conn.dialect();
    let mut inserts = Vec::new();
    for m in set.migrations.iter().filter(|m| m.version <= version) {
        // Counted, not resolved: nothing runs, so a Rust step need not be
        // linked into this program.
        let n = steps::count(set, m, dialect, Direction::Up)?;
        inserts.push(insert_sql(dialect, m, &utc_now(), 0, APPLIED, n));
    }
    conn.in_transaction(|c| {
        for sql in &inserts {
            c.execute(sql).map_err(|e| RunError::Database {
                message: format!(
                    "recording the baseline in `{}`: {e}",
                    history::HISTORY_TABLE
                ),
            })?;
        }
        Ok(())
    })
}

#[cfg(all(test, feature = "sqlite"))]
mod tests {
    use crate::migration::{Migration, MigrationFile, MigrationSet};
    use crate::ops::{Operation, RawSql};
    use crate::runner::{MigrationConnection, Migrator};
    use diesel::Connection;

    /// Recording as applied needs no linked Rust step (nothing runs), and
    /// records the number of steps the runner would have recorded.
    #[test]
    fn baseline_counts_steps_without_linking_rust_steps() {
        let sql = |s: &str| {
            Operation::Sql(RawSql {
                sql: Some(s.into()),
                reverse: Some(crate::ops::SqlVariants {
                    sql: Some("SELECT 1".into()),
                    ..Default::default()
                }),
                ..Default::default()
            })
        };
        let m = Migration {
            version: 1,
            name: "start".into(),
            file_name: "0001_start.toml".into(),
            checksum: format!("{:064x}", 1),
            file: MigrationFile::new(
                "start",
                vec![
                    sql("CREATE TABLE a (x INTEGER)"),
                    Operation::Rust {
                        name: "data::fill".into(),
                        reverse: Some("data::empty".into()),
                    },
                    sql("CREATE TABLE b (x INTEGER)"),
                ],
                Vec::new(),
            ),
        };
        let set = MigrationSet::prevalidated("m".into(), vec![m]);
        let mut c = diesel::sqlite::SqliteConnection::establish(":memory:").expect("opens");
        Migrator::new(&set).baseline(&mut c, 1).expect("recorded");
        let rows = crate::runner::history::read(&mut c).expect("history");
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].state, crate::runner::history::APPLIED);
        assert_eq!(rows[0].steps_done, 3);
        // Nothing ran.
        assert_eq!(
            c.count_rows("SELECT 1 FROM sqlite_master WHERE name IN ('a', 'b')")
                .expect("catalog"),
            0
        );
        // A second baseline is refused: the history has rows.
        let e = Migrator::new(&set)
            .baseline(&mut c, 1)
            .expect_err("refused");
        assert!(e.to_string().contains("managed by migrator already"), "{e}");
    }
}
