//! The plan's strategy choice, database-free: what each migration gets
//! from what it is and what the run allows.

use super::{build, Goal, Strategy, Transport};
use crate::dialect::Dialect;
use crate::migration::{Migration, MigrationFile, MigrationSet};
use crate::ops::{Operation, RawSql, SqlVariants};
use crate::runner::conn::HistoryRow;

/// Four hand-written migrations; the third is `transaction = false`.
fn set() -> MigrationSet {
    let sql = |up: &str| {
        Operation::Sql(RawSql {
            sql: Some(up.into()),
            reverse: Some(SqlVariants {
                sql: Some("SELECT 1".into()),
                ..Default::default()
            }),
            ..Default::default()
        })
    };
    let m = |v: u32| {
        let mut file = MigrationFile::new(
            "m",
            vec![sql(&format!("CREATE TABLE t{v} (x INT)"))],
            Vec::new(),
        );
        file.downgrade = crate::ops::inverse_all(&file.upgrade);
        file.transaction = v != 3;
        Migration {
            version: v,
            name: format!("m_{v}"),
            file_name: format!("{v:04}_m_{v}.toml"),
            checksum: format!("{v:064x}"),
            file,
        }
    };
    MigrationSet::prevalidated("m".into(), (1..=4).map(m).collect())
}

fn row(v: i64, state: &str, steps_done: i64) -> HistoryRow {
    HistoryRow {
        version: v,
        name: format!("m_{v}"),
        checksum: format!("{v:064x}"),
        applied_at: "now".into(),
        execution_ms: 0,
        tool_version: "x".into(),
        state: state.into(),
        steps_done,
    }
}

const ALL: Transport = Transport {
    groups: true,
    pipeline: true,
    batches: true,
};

fn strategies(
    dialect: Dialect,
    rows: &[HistoryRow],
    goal: Goal,
    t: Transport,
) -> Vec<(u32, Strategy)> {
    let set = set();
    let plan = build(&set, rows, dialect, goal, t).expect("plans");
    plan.migrations
        .iter()
        .map(|p| (p.m.version, p.strategy))
        .collect()
}

#[test]
fn each_migration_gets_the_strategy_its_database_and_run_allow() {
    use Strategy::*;
    let batch = OneTransaction { batch: true };
    // PostgreSQL: two batchable in a row are pipelined, a lone one is
    // one batch; no pipelining (a leased row, a statement timeout):
    // one batch each; inside a caller's transaction: plain.
    assert_eq!(
        strategies(Dialect::Postgres, &[], Goal::Up(None), ALL),
        [
            (1, Pipelined),
            (2, Pipelined),
            (3, StepByStep { from: 0 }),
            (4, batch)
        ]
    );
    let no_pipe = Transport {
        pipeline: false,
        ..ALL
    };
    assert_eq!(
        strategies(Dialect::Postgres, &[], Goal::Up(None), no_pipe),
        [
            (1, batch),
            (2, batch),
            (3, StepByStep { from: 0 }),
            (4, batch)
        ]
    );
    let inside = Transport {
        pipeline: false,
        batches: false,
        ..ALL
    };
    assert_eq!(
        strategies(Dialect::Postgres, &[], Goal::Up(Some(1)), inside),
        [(1, OneTransaction { batch: false })]
    );
    // SQLite: commit groups, unless the window is zero.
    assert_eq!(
        strategies(Dialect::Sqlite, &[], Goal::Up(None), ALL),
        [
            (1, SqliteGroup),
            (2, SqliteGroup),
            (3, StepByStep { from: 0 }),
            (4, SqliteGroup)
        ]
    );
    let no_groups = Transport {
        groups: false,
        ..ALL
    };
    assert_eq!(
        strategies(Dialect::Sqlite, &[], Goal::Up(Some(1)), no_groups),
        [(1, OneTransaction { batch: false })]
    );
    // MySQL: step by step, always.
    assert!(strategies(Dialect::Mysql, &[], Goal::Up(None), ALL)
        .iter()
        .all(|(_, s)| *s == StepByStep { from: 0 }));
}

#[test]
fn a_partial_migration_resumes_and_down_runs_newest_first() {
    use Strategy::*;
    let rows = [
        row(1, "applied", 1),
        row(2, "applied", 1),
        row(3, "partial", 1),
    ];
    assert_eq!(
        strategies(Dialect::Postgres, &rows, Goal::Up(None), ALL),
        [
            (3, StepByStep { from: 1 }),
            (4, OneTransaction { batch: true })
        ]
    );
    let applied = [
        row(1, "applied", 1),
        row(2, "applied", 1),
        row(3, "applied", 1),
    ];
    assert_eq!(
        strategies(Dialect::Postgres, &applied, Goal::Down(1), ALL),
        [
            (3, StepByStep { from: 0 }),
            (2, OneTransaction { batch: true })
        ]
    );
    // Down refuses a partial migration in its range, and up a target
    // past the newest migration, before anything runs.
    let set = set();
    let e = build(&set, &rows, Dialect::Postgres, Goal::Down(0), ALL).expect_err("partial");
    assert!(e.to_string().contains("partially applied"), "{e}");
    let e = build(&set, &[], Dialect::Postgres, Goal::Up(Some(9)), ALL).expect_err("too far");
    assert!(
        e.to_string().contains("the newest migration is 0004"),
        "{e}"
    );
}
