//! The seed scenario of docs/DESIGN.md §6 played on a real database through the
//! same calls the CLI makes: generate each migration from models on disk,
//! then up, down and up again, checking the live schema against the
//! snapshot's state and the data in surviving columns at every stage.

use migrator_core::migration::{Direction, MigrationSet};
use migrator_core::ops::{Operation, RawSql, SqlVariants};
use migrator_core::runner::NewerMigrations;
use migrator_core::runner::{MigrationConnection, Migrator, RunError};

use super::models;
use super::support::{expected, Row, Shape, TestProject};

/// What the scenario needs from a database beyond the runner's trait.
pub trait TestDb: MigrationConnection + migrator_core::introspect::Introspect {
    fn shape(&mut self) -> Shape;
    fn rows(&mut self, q: &str) -> Vec<Row>;
}

impl TestDb for diesel::sqlite::SqliteConnection {
    fn shape(&mut self) -> Shape {
        super::support::shape_sqlite(self)
    }
    fn rows(&mut self, q: &str) -> Vec<Row> {
        super::support::rows_sqlite(self, q)
    }
}

impl TestDb for diesel::pg::PgConnection {
    fn shape(&mut self) -> Shape {
        super::support::shape_pg(self)
    }
    fn rows(&mut self, q: &str) -> Vec<Row> {
        super::support::rows_pg(self, q)
    }
}

/// MySQL/MariaDB: the shape from `information_schema`, without the primary
/// keys and the indexes InnoDB keeps for foreign keys (named after the
/// constraint), which the model does not have.
#[cfg(feature = "mysql")]
impl TestDb for diesel::mysql::MysqlConnection {
    fn shape(&mut self) -> Shape {
        use super::support::rows_mysql;
        let internal = format!(
            "('{}', '{}')",
            migrator_core::runner::HISTORY_TABLE,
            migrator_core::runner::LOCK_TABLE
        );
        let mut s = Shape::default();
        for c in rows_mysql(
            self,
            &format!("SELECT CAST(TABLE_NAME AS CHAR) AS a, CAST(COLUMN_NAME AS CHAR) AS b, CAST(IS_NULLABLE AS CHAR) AS c, '' AS d FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME NOT IN {internal} AND substr(TABLE_NAME, 1, 18) <> '_migrator_archive_' ORDER BY TABLE_NAME, ORDINAL_POSITION"),
        ) {
            s.columns.entry(c.a).or_default().push(format!(
                "{} {}",
                c.b,
                if c.c == "YES" { "null" } else { "not null" }
            ));
        }
        for i in rows_mysql(
            self,
            &format!("SELECT DISTINCT CAST(s.TABLE_NAME AS CHAR) AS a, CAST(s.INDEX_NAME AS CHAR) AS b, '' AS c, '' AS d FROM information_schema.STATISTICS s WHERE s.TABLE_SCHEMA = DATABASE() AND s.TABLE_NAME NOT IN {internal} AND substr(s.TABLE_NAME, 1, 18) <> '_migrator_archive_' AND s.INDEX_NAME <> 'PRIMARY' AND NOT EXISTS (SELECT 1 FROM information_schema.TABLE_CONSTRAINTS k WHERE k.CONSTRAINT_SCHEMA = s.TABLE_SCHEMA AND k.TABLE_NAME = s.TABLE_NAME AND k.CONSTRAINT_NAME = s.INDEX_NAME AND k.CONSTRAINT_TYPE = 'FOREIGN KEY')"),
        ) {
            s.indexes.insert(format!("{}.{}", i.a, i.b));
        }
        for f in rows_mysql(
            self,
            "SELECT CAST(TABLE_NAME AS CHAR) AS a, CAST(COLUMN_NAME AS CHAR) AS b, CAST(REFERENCED_TABLE_NAME AS CHAR) AS c, CAST(REFERENCED_COLUMN_NAME AS CHAR) AS d FROM information_schema.KEY_COLUMN_USAGE WHERE TABLE_SCHEMA = DATABASE() AND REFERENCED_TABLE_NAME IS NOT NULL",
        ) {
            s.foreign_keys
                .insert(format!("{}({}) -> {}({})", f.a, f.b, f.c, f.d));
        }
        for cols in s.columns.values_mut() {
            cols.sort();
        }
        s
    }
    fn rows(&mut self, q: &str) -> Vec<Row> {
        super::support::rows_mysql(self, q)
    }
}

/// Generates the six seed migrations into a new project.
pub fn seed_project() -> TestProject {
    let p = TestProject::new();
    let names = [
        "create_users",
        "create_tasks",
        "create_chat",
        "add_priority_column",
        "index_tasks_user_id",
        "priority_from_flag",
    ];
    for (i, name) in names.iter().enumerate() {
        p.set_models(&models::version(i as u32 + 1));
        let g = p
            .generate(name)
            .unwrap_or_else(|| panic!("{name}: a change"));
        assert_eq!(g.version, i as u32 + 1);
    }
    // 0006 as generated only drops the flag; the data migration that turns
    // it into a priority (and back) is written by hand before the drop.
    p.edit_and_rehash("0006_priority_from_flag.toml", |f| {
        // The drop keeps its values (an archived step) for the downgrade.
        assert!(
            matches!(&f.upgrade[..], [Operation::Archived(a)] if matches!(*a.step, Operation::DropColumn { .. })),
            "{:?}",
            f.upgrade
        );
        let step = Operation::Sql(RawSql {
            sql: Some(
                "UPDATE tasks SET priority = CASE WHEN is_high_priority THEN 'high' ELSE 'medium' END"
                    .into(),
            ),
            reverse: Some(SqlVariants {
                sql: Some("UPDATE tasks SET is_high_priority = (priority = 'high')".into()),
                ..Default::default()
            }),
            ..Default::default()
        });
        f.upgrade.insert(0, step);
        f.downgrade = migrator_core::ops::inverse_all(&f.upgrade);
    });
    p
}

/// Applies up to `v`, then runs migration `v`'s generated statements once
/// more over their own effect: every one must be skipped by its guard or be
/// a no-op (idempotency on the real database). Raw SQL steps are the
/// author's to make idempotent, so they are not repeated.
fn up_to<C: TestDb>(set: &MigrationSet, c: &mut C, v: u32) -> Vec<String> {
    let done = Migrator::new(set)
        .up_to(c, Some(v))
        .unwrap_or_else(|e| panic!("up to {v}: {e}"))
        .done;
    let before = c.shape();
    let m = set.get(v).expect("migration exists");
    let steps = set.render(c.dialect(), v, Direction::Up).expect("renders");
    for (op, statements) in m.file.upgrade.iter().zip(&steps) {
        if matches!(op, Operation::Sql(_)) {
            continue;
        }
        for s in statements {
            super::support::run_statement(c, s)
                .unwrap_or_else(|e| panic!("re-running migration {v}: {e}"));
        }
    }
    assert_eq!(
        c.shape(),
        before,
        "re-running migration {v} changed the schema"
    );
    done
}

fn assert_at<C: TestDb>(set: &MigrationSet, c: &mut C, v: u32) {
    assert_eq!(
        c.shape(),
        expected(&set.state(v as usize)),
        "live schema differs from the snapshot state after migration {v}"
    );
    assert_introspected(set, c, v);
}

/// Introspection of the live database equals the snapshot state, as
/// introspection reports it (`introspect::expected`), and `verify` agrees.
fn assert_introspected<C: TestDb>(set: &MigrationSet, c: &mut C, v: u32) {
    use migrator_core::introspect;
    let state = &set.state(v as usize);
    let live = introspect::schema(c).unwrap_or_else(|e| panic!("introspect after {v}: {e}"));
    let want = introspect::expected(c, state).unwrap_or_else(|e| panic!("expected after {v}: {e}"));
    assert_eq!(
        introspect::compare(&live.schema, &want),
        vec![],
        "introspection differs from the snapshot state after migration {v}"
    );
    assert_eq!(live.schema, want, "introspection after migration {v}");
    assert!(live.outside.is_empty(), "after {v}: {:?}", live.outside);
}

fn one(c: &mut impl TestDb, q: &str) -> Vec<(String, String)> {
    c.rows(q).into_iter().map(|r| (r.a, r.b)).collect()
}

pub fn run<C: TestDb>(c: &mut C) {
    let p = seed_project();
    let set = p.set();
    assert_eq!(set.len(), 6);

    // 0001-0002: add tables, with a foreign key.
    assert_eq!(up_to(&set, c, 2).len(), 2);
    assert_at(&set, c, 2);
    c.execute(
        "INSERT INTO users (id, name) VALUES (1, 'ann'), (2, 'bob');
         INSERT INTO tasks (id, user_id, title, is_high_priority, done) VALUES
           (1, 1, 'write docs', TRUE, FALSE), (2, 2, 'it''s quoted', FALSE, TRUE)",
    )
    .expect("seed rows");

    // 0003: chat tables, messages referencing conversations and users.
    up_to(&set, c, 3);
    assert_at(&set, c, 3);
    c.execute(
        "INSERT INTO conversations (id, title) VALUES (1, 'general');
         INSERT INTO messages (id, conversation_id, author_id, body) VALUES (1, 1, 1, 'hello')",
    )
    .expect("chat rows");

    // 0004: a column with a default (and a check) on a table with rows.
    up_to(&set, c, 4);
    assert_at(&set, c, 4);
    let q_tasks = "SELECT title AS a, priority AS b, '' AS c, '' AS d FROM tasks ORDER BY id";
    assert_eq!(
        one(c, q_tasks),
        vec![
            ("write docs".into(), "medium".into()),
            ("it's quoted".into(), "medium".into())
        ]
    );

    // 0005: an index.
    up_to(&set, c, 5);
    assert_at(&set, c, 5);
    assert!(c.shape().indexes.contains("tasks.idx_tasks_user_id"));

    // 0006: the data migration, then the drop.
    up_to(&set, c, 6);
    assert_at(&set, c, 6);
    assert_eq!(
        one(c, q_tasks),
        vec![
            ("write docs".into(), "high".into()),
            ("it's quoted".into(), "medium".into())
        ]
    );
    let after_up = c.shape();

    // Re-running is a no-op.
    assert!(Migrator::new(&set)
        .up(c)
        .expect("second up")
        .done
        .is_empty());
    // `generate` after `up` reports no change.
    assert!(p.project().generate("nothing").expect("generate").is_none());

    assert_eq!(c.shape(), after_up);

    // Down one: the flag comes back, computed from the priority.
    let r = Migrator::new(&set).down_steps(c, 1).expect("down 1");
    assert_eq!(r.done, vec!["0006_priority_from_flag".to_string()]);
    assert_at(&set, c, 5);
    let flags = one(
        c,
        "SELECT title AS a, CASE WHEN is_high_priority THEN 'yes' ELSE 'no' END AS b, '' AS c, '' AS d FROM tasks ORDER BY id",
    );
    assert_eq!(
        flags,
        vec![
            ("write docs".into(), "yes".into()),
            ("it's quoted".into(), "no".into())
        ]
    );

    // Up again: same schema, same data.
    up_to(&set, c, 6);
    assert_eq!(c.shape(), after_up);
    assert_eq!(
        one(c, q_tasks),
        vec![
            ("write docs".into(), "high".into()),
            ("it's quoted".into(), "medium".into())
        ]
    );

    // Down step by step to nothing, checking each state; data in surviving
    // columns is kept on the way.
    for v in (0..6).rev() {
        Migrator::new(&set)
            .down_to(c, v)
            .unwrap_or_else(|e| panic!("down to {v}: {e}"));
        assert_at(&set, c, v);
        if v >= 2 {
            let titles: Vec<String> = c
                .rows("SELECT title AS a, '' AS b, '' AS c, '' AS d FROM tasks ORDER BY id")
                .into_iter()
                .map(|r| r.a)
                .collect();
            assert_eq!(titles, vec!["write docs", "it's quoted"], "at {v}");
        }
    }
    assert_eq!(c.shape(), Shape::default());

    // And all the way up again.
    assert_eq!(
        Migrator::new(&set).up(c).expect("up from zero").done.len(),
        6
    );
    assert_eq!(c.shape(), after_up);
}

/// An applied migration edited afterwards (and rehashed, so the files are
/// self-consistent) is refused by the runner, which names it and changes
/// nothing.
pub fn edited_history<C: TestDb>(c: &mut C) {
    let p = TestProject::new();
    p.set_models(&models::version(1));
    p.generate("create_users");
    p.set_models(&models::version(2));
    p.generate("create_tasks");
    Migrator::new(&p.set()).up(c).expect("up");
    let before = c.shape();
    p.edit_and_rehash("0002_create_tasks.toml", |f| {
        f.description = "create tasks, edited".into();
    });
    p.set_models(&models::version(3));
    p.generate("create_chat");
    let set = p.set();
    let err = Migrator::new(&set).up(c).expect_err("refused");
    let msg = err.to_string();
    assert!(matches!(err, RunError::History(_)), "{msg}");
    assert!(
        msg.contains("0002_create_tasks was edited after it was applied"),
        "{msg}"
    );
    assert!(msg.contains("help:"), "{msg}");
    assert_eq!(c.shape(), before, "nothing changed");
    let status = Migrator::new(&set).status(c).expect("status");
    assert!(!status.is_clean());
}

/// A database that has a migration the files no longer have: the newest
/// one (an older release, or the newest file deleted) is tolerated by
/// default, refused with `NewerMigrations::Refuse`, and never rolled back
/// from here; an older one (a file deleted from the middle of the chain) is
/// refused. Each refusal names the migration and changes nothing.
pub fn missing_file<C: TestDb>(c: &mut C) {
    let p = TestProject::new();
    p.set_models(&models::version(1));
    p.generate("create_users");
    let snap1 = std::fs::read_to_string(p.project().snapshot_path()).expect("snapshot");
    p.set_models(&models::version(2));
    p.generate("create_tasks");
    Migrator::new(&p.set()).up(c).expect("up");
    let before = c.shape();
    std::fs::remove_file(p.migrations_dir().join("0002_create_tasks.toml")).expect("rm");
    std::fs::write(p.project().snapshot_path(), snap1).expect("older snapshot");
    let set = p.set();
    let report = Migrator::new(&set)
        .up(c)
        .expect("a newer migration is tolerated");
    assert!(report.done.is_empty());
    let msg = Migrator::new(&set)
        .newer_migrations(NewerMigrations::Refuse)
        .up(c)
        .expect_err("refused")
        .to_string();
    assert!(
        msg.contains("0002_create_tasks is recorded as applied"),
        "{msg}"
    );
    let msg = Migrator::new(&set)
        .down_to(c, 0)
        .expect_err("refused")
        .to_string();
    assert!(msg.contains("0002_create_tasks"), "{msg}");
    assert_eq!(c.shape(), before, "nothing changed");

    // A file missing from the middle of the chain is refused either way.
    let p = TestProject::new();
    p.set_models(&models::version(1));
    p.generate("create_users");
    p.set_models(&models::version(2));
    p.generate("create_tasks");
    std::fs::remove_file(p.migrations_dir().join("0001_create_users.toml")).expect("rm");
    let loaded = MigrationSet::load(&p.migrations_dir());
    assert!(
        loaded.is_err(),
        "a chain without its first migration does not even load"
    );
}

/// A failing migration on a database with transactional DDL leaves the
/// database as before it, and records nothing.
pub fn failure_rolls_back<C: TestDb>(c: &mut C) {
    let p = TestProject::new();
    p.set_models(&models::version(2));
    p.generate("create_all");
    p.edit_and_rehash("0001_create_all.toml", |f| {
        f.upgrade.push(Operation::Sql(RawSql {
            sql: Some("THIS IS NOT SQL".into()),
            reverse: Some(SqlVariants {
                sql: Some("SELECT 1".into()),
                ..Default::default()
            }),
            ..Default::default()
        }));
        f.downgrade = migrator_core::ops::inverse_all(&f.upgrade);
    });
    let set = p.set();
    let err = Migrator::new(&set).up(c).expect_err("fails");
    let msg = err.to_string();
    assert!(
        msg.contains("migration 0001_create_all failed at statement"),
        "{msg}"
    );
    assert!(msg.contains("THIS IS NOT SQL"), "{msg}");
    if c.dialect() == migrator_core::dialect::Dialect::Mysql {
        return ddl_commits_implicitly(&set, c, &msg);
    }
    assert!(msg.contains("rolled back"), "{msg}");
    assert_eq!(c.shape(), Shape::default(), "no table left behind");
    let status = Migrator::new(&set).status(c).expect("status");
    assert_eq!(status.pending(), 1);
}

/// MySQL/MariaDB commit DDL implicitly: the failed migration of
/// [`failure_rolls_back`] is left partial, its tables created and
/// recorded, and the error says so; a re-run resumes at the failed
/// statement (and fails there again) instead of starting over.
fn ddl_commits_implicitly<C: TestDb>(set: &MigrationSet, c: &mut C, msg: &str) {
    assert!(
        msg.contains("the statements before this one are done and recorded")
            && msg.contains("run `migrator up` again to resume from this statement"),
        "{msg}"
    );
    assert!(!msg.contains("rolled back"), "{msg}");
    assert_eq!(
        c.shape(),
        expected(&set.state(1)),
        "the tables created before the failure stay"
    );
    let status = Migrator::new(set).status(c).expect("status");
    assert!(status.to_string().contains("PARTIAL"), "{status}");
    let statement = |m: &str| {
        m.split("failed at statement")
            .nth(1)
            .map(|r| r.split_whitespace().next().unwrap_or("").to_string())
    };
    let again = Migrator::new(set)
        .up(c)
        .expect_err("fails again")
        .to_string();
    assert_eq!(
        statement(&again),
        statement(msg),
        "resumed at the failed statement: {again}"
    );
    assert!(again.contains("THIS IS NOT SQL"), "{again}");
    assert_eq!(c.shape(), expected(&set.state(1)));
    let msg = Migrator::new(set)
        .down_to(c, 0)
        .expect_err("refused")
        .to_string();
    assert!(msg.contains("partially applied"), "{msg}");
}

fn raw(sql: &str, reverse: &str) -> Operation {
    Operation::Sql(RawSql {
        sql: Some(sql.into()),
        reverse: Some(SqlVariants {
            sql: Some(reverse.into()),
            ..Default::default()
        }),
        ..Default::default()
    })
}

/// A migration that runs outside a transaction and stops part way is
/// recorded as partial; the next `up` resumes at the failed statement
/// without repeating the finished ones.
pub fn interrupted_migration_resumes<C: TestDb>(c: &mut C) {
    let p = TestProject::new();
    p.set_models(&models::version(1));
    p.generate("create_users");
    p.set_models(&models::version(2));
    p.generate("create_tasks");
    p.edit_and_rehash("0002_create_tasks.toml", |f| {
        f.transaction = false;
        // Statement 2 inserts a row (a repeat would duplicate it); statement
        // 3 fails until the table it needs exists.
        f.upgrade.push(raw(
            "INSERT INTO users (name) VALUES ('once')",
            "DELETE FROM users WHERE name = 'once'",
        ));
        f.upgrade.push(raw(
            "INSERT INTO audit (note) VALUES ('tasks created')",
            "DELETE FROM audit",
        ));
        f.downgrade = migrator_core::ops::inverse_all(&f.upgrade);
    });
    let set = p.set();
    let err = Migrator::new(&set)
        .up(c)
        .expect_err("stops at the audit insert");
    let msg = err.to_string();
    assert!(
        msg.contains("0002_create_tasks failed at statement"),
        "{msg}"
    );
    assert!(msg.contains("resume"), "{msg}");
    let status = Migrator::new(&set).status(c).expect("status");
    assert!(status.to_string().contains("PARTIAL"), "{status}");
    assert!(!status.is_clean());
    // Rolling back a half-applied migration is refused with a way forward.
    let msg = Migrator::new(&set)
        .down_to(c, 0)
        .expect_err("refused")
        .to_string();
    assert!(msg.contains("partially applied"), "{msg}");

    c.execute("CREATE TABLE audit (note VARCHAR(100))")
        .expect("the missing table");
    let done = Migrator::new(&set).up(c).expect("resumes").done;
    assert_eq!(done, vec!["0002_create_tasks".to_string()]);
    let once: Vec<String> = c
        .rows("SELECT name AS a, '' AS b, '' AS c, '' AS d FROM users")
        .into_iter()
        .map(|r| r.a)
        .collect();
    assert_eq!(
        once,
        vec!["once"],
        "the finished statement did not run twice"
    );
    assert!(Migrator::new(&set).status(c).expect("status").is_clean());
}

/// Several runners started together (application replicas booting) apply
/// each migration exactly once.
pub fn concurrent_runners<C: TestDb + Send + 'static>(
    connect: impl Fn() -> C + Send + Sync + 'static,
    check: &mut C,
) {
    let p = seed_project();
    let set = std::sync::Arc::new(p.set());
    let connect = std::sync::Arc::new(connect);
    let handles: Vec<_> = (0..4)
        .map(|_| {
            let set = set.clone();
            let connect = connect.clone();
            std::thread::spawn(move || {
                let mut c = connect();
                Migrator::new(&set).up(&mut c).map(|r| r.done.len())
            })
        })
        .collect();
    let applied: Vec<usize> = handles
        .into_iter()
        .map(|h| h.join().expect("thread").expect("up succeeds"))
        .collect();
    assert_eq!(
        applied.iter().sum::<usize>(),
        6,
        "each migration applied once: {applied:?}"
    );
    assert_eq!(check.shape(), expected(&set.state(6)));
    let rows = check.rows(&format!(
        "SELECT CAST(COUNT(*) AS {}) AS a, '' AS b, '' AS c, '' AS d FROM {}",
        if check.dialect() == migrator_core::dialect::Dialect::Mysql {
            "CHAR"
        } else {
            "TEXT"
        },
        migrator_core::runner::HISTORY_TABLE
    ));
    assert_eq!(rows[0].a, "6");
}

/// The lock row's lease: a runner renews it before a migration once a
/// quarter of the lease has passed since the last renewal, and stops
/// before the next migration when the row was taken over meanwhile (its
/// lease ran out and another runner claimed it). The takeover is made by
/// hand from a second connection after migration 0002.
pub fn lease_taken_over_stops_before_the_next_migration<C: TestDb>(c: &mut C, other: &mut C) {
    use migrator_core::runner::{Event, LockMode, LOCK_TABLE};
    let p = seed_project();
    let set = p.set();
    let other = std::cell::RefCell::new(other);
    let err = Migrator::new(&set)
        .lock_mode(LockMode::Table)
        .lock_lease(std::time::Duration::from_secs(1))
        // SQLite: the other connection can only write between commits, so
        // every migration commits on its own here (no commit groups).
        .commit_group(std::time::Duration::ZERO)
        .on_event(|e| {
            if matches!(e, Event::Applied { id, .. } if id == "0002_create_tasks") {
                // Past a quarter of the lease, so the next renewal is due.
                std::thread::sleep(std::time::Duration::from_millis(300));
                other
                    .borrow_mut()
                    .execute(&format!("UPDATE {LOCK_TABLE} SET owner = 'another runner'"))
                    .expect("takes the row over");
            }
        })
        .up(c)
        .expect_err("stops");
    let RunError::Database { message } = &err else {
        panic!("{err:?}")
    };
    assert!(
        message.contains("taken over by another runner"),
        "{message}"
    );
    let applied = c.rows(&format!(
        "SELECT CAST(version AS {}) AS a, '' AS b, '' AS c, '' AS d FROM {} ORDER BY version",
        if c.dialect() == migrator_core::dialect::Dialect::Mysql {
            "CHAR"
        } else {
            "TEXT"
        },
        migrator_core::runner::HISTORY_TABLE
    ));
    let versions: Vec<&str> = applied.iter().map(|r| r.a.as_str()).collect();
    assert_eq!(versions, ["1", "2"], "nothing after the takeover");
}

/// SQLite commit groups (`Migrator::commit_group`): consecutive
/// migrations share one `BEGIN IMMEDIATE`, each in its own savepoint; the
/// window closes a group; a failing migration is rolled back alone and the
/// ones before it in its group stay applied and recorded.
pub fn commit_groups(fresh: &dyn Fn() -> (tempfile::TempDir, diesel::sqlite::SqliteConnection)) {
    use diesel::connection::{Connection, InstrumentationEvent};
    use migrator_core::runner::Event;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;
    let p = seed_project();
    let set = p.set();
    // Transactions begun at depth 1 (BEGIN) and 2 (savepoints).
    let counted = |c: &mut diesel::sqlite::SqliteConnection| {
        let depths = Arc::new(Mutex::new([0usize; 2]));
        let seen = depths.clone();
        c.set_instrumentation(move |e: InstrumentationEvent<'_>| {
            if let InstrumentationEvent::BeginTransaction { depth, .. } = e {
                let d = (depth.get() as usize).min(2) - 1;
                seen.lock().expect("lock")[d] += 1;
            }
        });
        depths
    };
    let run = |m: Migrator<'_>| {
        let (d, mut c) = fresh();
        let depths = counted(&mut c);
        let r = m.up_to(&mut c, Some(5)).expect("applies");
        assert_eq!(r.done.len(), 5, "{:?}", r.done);
        assert_at(&set, &mut c, 5);
        let n = *depths.lock().expect("lock");
        drop(d);
        n
    };
    let [alone, none] = run(Migrator::new(&set).commit_group(Duration::ZERO));
    assert_eq!(none, 0, "no savepoints without groups");
    // A window no run here reaches (the default 100 ms could close a group
    // on a busy machine).
    let wide = Duration::from_secs(60);
    let [grouped, savepoints] = run(Migrator::new(&set).commit_group(wide));
    assert_eq!(savepoints, 5, "one savepoint per migration");
    assert_eq!(alone - grouped, 4, "five migrations, one transaction");
    // A window shorter than each migration: one group per migration.
    let [windowed, savepoints] = run(Migrator::new(&set)
        .commit_group(Duration::from_millis(1))
        .on_event(|e| {
            if matches!(e, Event::Applied { .. }) {
                std::thread::sleep(Duration::from_millis(5));
            }
        }));
    assert_eq!((windowed, savepoints), (alone, 5));

    // 0006 fails after its first statement: 0001-0005, in the same group,
    // are committed; nothing of 0006 is left.
    p.edit_and_rehash("0006_priority_from_flag.toml", |f| {
        f.upgrade.insert(1, raw("THIS IS NOT SQL", "SELECT 1"));
        f.downgrade = migrator_core::ops::inverse_all(&f.upgrade);
    });
    let set = p.set();
    let (_d, mut c) = fresh();
    let depths = counted(&mut c);
    let err = Migrator::new(&set)
        .commit_group(wide)
        .up(&mut c)
        .expect_err("0006 fails");
    let msg = err.to_string();
    assert!(
        msg.contains("migration 0006_priority_from_flag failed at statement")
            && msg.contains("rolled back"),
        "{msg}"
    );
    assert_eq!(
        *depths.lock().expect("lock"),
        [grouped, 6],
        "all six in one group, as many transactions as the five alone"
    );
    assert_at(&set, &mut c, 5);
    let status = Migrator::new(&set).status(&mut c).expect("status");
    assert_eq!(status.pending(), 1, "{status}");
    // Down in a group too, back to nothing.
    let r = Migrator::new(&set)
        .commit_group(wide)
        .down_to(&mut c, 0)
        .expect("rolls back");
    assert_eq!(r.done.len(), 5);
    assert_eq!(c.shape(), Shape::default());
}
