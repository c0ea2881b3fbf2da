//! Batched backfills (`op = "backfill"`) on real databases: every row done
//! once, in the expected number of batches, single and composite keys, the
//! inverse on downgrade, and a run interrupted part way that resumes from
//! its saved cursor without touching a finished row again.

use std::cell::RefCell;

use migrator_core::dialect::Dialect;
use migrator_core::migration::MigrationFile;
use migrator_core::ops::{inverse_all, Backfill, BackfillReverse, Operation};
use migrator_core::runner::{Event, MigrationConnection, Migrator};

use super::support::TestProject;

const SINGLE: &str = r#"
use migrator::Model;

#[derive(Model)]
#[model(table = "items")]
pub struct Item {
    #[model(primary_key)]
    pub id: i64,
    #[model(max_length = 20)]
    pub label: Option<String>,
    pub hits: i64,
}
"#;

const COMPOSITE: &str = r#"
use migrator::Model;

#[derive(Model)]
#[model(table = "items")]
pub struct Item {
    #[model(primary_key, max_length = 20)]
    pub tenant: String,
    #[model(primary_key)]
    pub id: i64,
    #[model(max_length = 20)]
    pub label: Option<String>,
    pub hits: i64,
}
"#;

/// A project whose 0001 creates `items` from `models` and whose 0002 is
/// the backfill `b` (its downgrade the inverse).
fn project(models: &str, b: Backfill) -> TestProject {
    let p = TestProject::new();
    p.set_models(models);
    p.generate("create_items").expect("0001 generated");
    let upgrade = vec![Operation::Backfill(b)];
    let downgrade = inverse_all(&upgrade);
    let file = MigrationFile::new("backfill items", upgrade, downgrade);
    std::fs::write(
        p.migrations_dir().join("0002_backfill_items.toml"),
        file.to_text("written by hand"),
    )
    .expect("write 0002");
    let snap = p.project().rehash().expect("rehash");
    std::fs::write(p.project().snapshot_path(), snap).expect("write snapshot");
    p
}

fn backfill(set: &str, predicate: &str, batch_size: u32) -> Backfill {
    Backfill {
        table: "items".into(),
        set: set.into(),
        predicate: predicate.into(),
        batch_size,
        pause_ms: 0,
        reverse: None,
    }
}

/// Inserts `rows` (SQL value lists) into `items` in chunks.
fn insert<C: MigrationConnection>(c: &mut C, columns: &str, rows: &[String]) {
    for chunk in rows.chunks(200) {
        c.execute(&format!(
            "INSERT INTO items ({columns}) VALUES {}",
            chunk.join(", ")
        ))
        .expect("insert rows");
    }
}

fn count<C: MigrationConnection>(c: &mut C, predicate: &str) -> i64 {
    c.count_rows(&format!("SELECT 1 AS one FROM items WHERE {predicate}"))
        .expect("count")
}

/// The backfill progress events of a run.
fn progress(events: &[Event]) -> Vec<(u64, u64, Option<u64>, u64, bool)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::BackfillProgress {
                rows_done,
                batches,
                total,
                resumed_from,
                finished,
                ..
            } => Some((*rows_done, *batches, *total, *resumed_from, *finished)),
            _ => None,
        })
        .collect()
}

fn cursor_table_exists<C: MigrationConnection>(c: &mut C) -> bool {
    let q = match c.dialect() {
        Dialect::Sqlite => {
            "SELECT 1 AS one FROM sqlite_master WHERE name = '_migrator_backfill'".to_string()
        }
        Dialect::Postgres => {
            "SELECT 1 AS one WHERE to_regclass('_migrator_backfill') IS NOT NULL".to_string()
        }
        Dialect::Mysql => "SELECT 1 AS one FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = '_migrator_backfill'".to_string(),
    };
    c.count_rows(&q).expect("catalog") > 0
}

/// 2 500 rows, every tenth already done by hand; batches of 100 do the
/// other 2 250 in 23 batches, each row once; the downgrade runs the
/// reverse in batches too; nothing is left in the cursor table.
pub fn every_row_once<C: MigrationConnection>(c: &mut C) {
    let mut b = backfill("label = 'done', hits = hits + 1", "label IS NULL", 100);
    b.reverse = Some(BackfillReverse {
        set: "label = NULL, hits = hits + 10".into(),
        predicate: "label = 'done'".into(),
    });
    let p = project(SINGLE, b);
    let set = p.set();
    Migrator::new(&set).up_to(c, Some(1)).expect("0001");
    let rows: Vec<String> = (1..=2500)
        .map(|i| {
            let label = if i % 10 == 0 { "'pre'" } else { "NULL" };
            format!("({i}, {label}, 0)")
        })
        .collect();
    insert(c, "id, label, hits", &rows);

    let events = RefCell::new(Vec::new());
    let done = Migrator::new(&set)
        .on_event(|e| events.borrow_mut().push(e.clone()))
        .up(c)
        .expect("backfill runs")
        .done;
    assert_eq!(done, vec!["0002_backfill_items".to_string()]);
    assert_eq!(count(c, "label = 'done' AND hits = 1"), 2250);
    assert_eq!(count(c, "label = 'pre' AND hits = 0"), 250);
    assert_eq!(count(c, "label IS NULL"), 0);
    let p = progress(&events.borrow());
    assert_eq!(p.len(), 23, "one event per batch: {p:?}");
    assert_eq!(p[0], (100, 1, Some(2250), 0, false));
    assert_eq!(p[22], (2250, 23, Some(2250), 0, true));
    assert!(!cursor_table_exists(c), "the finished cursor is removed");
    assert!(Migrator::new(&set).status(c).expect("status").is_clean());

    let events = RefCell::new(Vec::new());
    Migrator::new(&set)
        .on_event(|e| events.borrow_mut().push(e.clone()))
        .down_to(c, 1)
        .expect("the reverse backfill runs");
    assert_eq!(count(c, "label IS NULL AND hits = 11"), 2250);
    assert_eq!(count(c, "label = 'pre' AND hits = 0"), 250);
    let p = progress(&events.borrow());
    assert_eq!(p.last(), Some(&(2250, 23, Some(2250), 0, true)), "{p:?}");
    assert!(!cursor_table_exists(c));

    // Up again: the predicate selects the rows again, each done once more.
    Migrator::new(&set).up(c).expect("up again");
    assert_eq!(count(c, "label = 'done' AND hits = 12"), 2250);
}

/// A composite key (text and integer, with a quote in the text) is walked
/// in key order: all 1 200 rows, 18 batches of 70 (the last short).
pub fn composite_key<C: MigrationConnection>(c: &mut C) {
    let p = project(
        COMPOSITE,
        backfill("label = 'done', hits = hits + 1", "label IS NULL", 70),
    );
    let set = p.set();
    Migrator::new(&set).up_to(c, Some(1)).expect("0001");
    let rows: Vec<String> = ["a", "o''hara", "z z"]
        .iter()
        .flat_map(|t| (1..=400).map(move |i| format!("('{t}', {i}, NULL, 0)")))
        .collect();
    insert(c, "tenant, id, label, hits", &rows);
    let events = RefCell::new(Vec::new());
    Migrator::new(&set)
        .on_event(|e| events.borrow_mut().push(e.clone()))
        .up(c)
        .expect("backfill runs");
    assert_eq!(count(c, "label = 'done' AND hits = 1"), 1200);
    assert_eq!(count(c, "hits <> 1"), 0);
    let p = progress(&events.borrow());
    assert_eq!(p.last(), Some(&(1200, 18, Some(1200), 0, true)), "{p:?}");
}

/// The trigger that makes the update of row 1234 fail while it exists:
/// the interruption of a run part way (a killed process leaves the same
/// committed state: the finished batches and their cursor).
fn stop_at_1234(dialect: Dialect) -> (&'static str, &'static str) {
    match dialect {
        Dialect::Sqlite => (
            "CREATE TRIGGER stop BEFORE UPDATE ON items WHEN NEW.id = 1234 BEGIN SELECT RAISE(ABORT, 'interrupted at 1234'); END",
            "DROP TRIGGER stop",
        ),
        Dialect::Postgres => (
            "CREATE FUNCTION stop() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.id = 1234 THEN RAISE EXCEPTION 'interrupted at 1234'; END IF; RETURN NEW; END $$; \
             CREATE TRIGGER stop BEFORE UPDATE ON items FOR EACH ROW EXECUTE FUNCTION stop()",
            "DROP TRIGGER stop ON items; DROP FUNCTION stop()",
        ),
        Dialect::Mysql => (
            "CREATE TRIGGER stop BEFORE UPDATE ON items FOR EACH ROW BEGIN IF NEW.id = 1234 THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'interrupted at 1234'; END IF; END",
            "DROP TRIGGER stop",
        ),
    }
}

/// A backfill whose predicate stays true (`hits = hits + 1` on every row,
/// so only the cursor keeps a row from being done twice) stops at the
/// batch holding row 1234; the batches before it stay done with their
/// cursor; the next `up` resumes after them and every row ends with
/// exactly one increment.
pub fn interrupted_backfill_resumes<C: MigrationConnection>(c: &mut C) {
    let p = project(SINGLE, backfill("hits = hits + 1", "1 = 1", 100));
    let set = p.set();
    Migrator::new(&set).up_to(c, Some(1)).expect("0001");
    let rows: Vec<String> = (1..=2500).map(|i| format!("({i}, NULL, 0)")).collect();
    insert(c, "id, label, hits", &rows);
    let (stop, unstop) = stop_at_1234(c.dialect());
    c.execute(stop).expect("the stopping trigger");

    let events = RefCell::new(Vec::new());
    let err = Migrator::new(&set)
        .on_event(|e| events.borrow_mut().push(e.clone()))
        .up(c)
        .expect_err("stops at row 1234");
    let msg = err.to_string();
    assert!(msg.contains("interrupted at 1234"), "{msg}");
    assert!(
        msg.contains("resume after the last finished batch"),
        "{msg}"
    );
    assert_eq!(count(c, "id <= 1200 AND hits = 1"), 1200);
    assert_eq!(count(c, "id > 1200 AND hits = 0"), 1300);
    assert_eq!(progress(&events.borrow()).len(), 12);
    assert!(cursor_table_exists(c), "the cursor is kept");
    assert_eq!(
        c.query_texts("SELECT last_key AS s FROM _migrator_backfill")
            .expect("cursor")
            .len(),
        1
    );

    c.execute(unstop).expect("drop the trigger");
    let events = RefCell::new(Vec::new());
    let done = Migrator::new(&set)
        .on_event(|e| events.borrow_mut().push(e.clone()))
        .up(c)
        .expect("resumes")
        .done;
    assert_eq!(done, vec!["0002_backfill_items".to_string()]);
    assert_eq!(count(c, "hits = 1"), 2500, "every row exactly once");
    let p = progress(&events.borrow());
    // Batches count from the resumed run's start; 2 500 is a multiple of
    // 100, so the last full batch is followed by the final event.
    assert_eq!(p[0], (1300, 1, Some(2500), 1200, false), "{p:?}");
    assert_eq!(p.len(), 14, "{p:?}");
    assert_eq!(p[13], (2500, 13, Some(2500), 1200, true), "{p:?}");
    assert!(!cursor_table_exists(c));
    assert!(Migrator::new(&set).status(c).expect("status").is_clean());
}

/// PostgreSQL: a batch waits for a row the application holds, is cancelled
/// by the migration's `lock_timeout`, and the runner's retry resumes the
/// backfill from its cursor once the holder is gone (released here on the
/// first retry event): every row done once, the finished batches not
/// repeated.
pub fn lock_timeout_retry_resumes(db: &super::support::PgDb) {
    use diesel::connection::SimpleConnection;
    use std::time::Duration;

    let mut c = db.connect();
    let p = project(SINGLE, backfill("hits = hits + 1", "1 = 1", 100));
    let set = p.set();
    Migrator::new(&set).up_to(&mut c, Some(1)).expect("0001");
    let rows: Vec<String> = (1..=2500).map(|i| format!("({i}, NULL, 0)")).collect();
    insert(&mut c, "id, label, hits", &rows);

    let holder = RefCell::new(Some(db.connect()));
    holder
        .borrow_mut()
        .as_mut()
        .expect("holder")
        .batch_execute("BEGIN; SELECT id FROM items WHERE id = 1500 FOR UPDATE")
        .expect("row lock held");
    let events = RefCell::new(Vec::new());
    Migrator::new(&set)
        .statement_lock_timeout(Duration::from_millis(100))
        .lock_retries(3, Duration::from_millis(10))
        .on_event(|e| {
            if matches!(e, Event::LockRetry { .. }) {
                if let Some(mut h) = holder.borrow_mut().take() {
                    h.batch_execute("ROLLBACK").expect("released");
                }
            }
            events.borrow_mut().push(e.clone());
        })
        .up(&mut c)
        .expect("succeeds on the retry");
    let events = events.borrow();
    let retries = events
        .iter()
        .filter(|e| matches!(e, Event::LockRetry { .. }))
        .count();
    assert_eq!(retries, 1, "{events:?}");
    assert_eq!(count(&mut c, "hits = 1"), 2500, "every row exactly once");
    let p = progress(&events);
    // 14 batches before the held row; the retry starts after them.
    assert_eq!(p[13], (1400, 14, Some(2500), 0, false), "{p:?}");
    assert_eq!(p[14], (1500, 1, Some(2500), 1400, false), "{p:?}");
    assert_eq!(p.last(), Some(&(2500, 11, Some(2500), 1400, true)));
    assert!(!cursor_table_exists(&mut c));
}

/// A runner killed after the last batch but before it recorded the step
/// as done leaves the backfill marked finished: the next run does not
/// start it over (the predicate `1 = 1` would select every row again), it
/// only records the step and removes the cursor table. The state is made
/// by hand: the history row put back to "partial, no step done" and the
/// finished mark the runner writes.
pub fn finished_but_unrecorded_backfill_is_not_repeated<C: MigrationConnection>(c: &mut C) {
    let p = project(SINGLE, backfill("hits = hits + 1", "1 = 1", 100));
    let set = p.set();
    Migrator::new(&set).up_to(c, Some(1)).expect("0001");
    let rows: Vec<String> = (1..=250).map(|i| format!("({i}, NULL, 0)")).collect();
    insert(c, "id, label, hits", &rows);
    Migrator::new(&set).up(c).expect("0002");
    assert_eq!(count(c, "hits = 1"), 250);
    assert!(
        !cursor_table_exists(c),
        "a recorded backfill leaves no cursor"
    );

    let m = &set.migrations[1];
    c.execute(&format!(
        "UPDATE _migrator_history SET state = 'partial', steps_done = 0 WHERE version = {}",
        m.version
    ))
    .expect("history back to partial");
    c.execute(
        "CREATE TABLE _migrator_backfill (version BIGINT NOT NULL, step BIGINT NOT NULL, \
         direction VARCHAR(8) NOT NULL, checksum VARCHAR(64) NOT NULL, last_key TEXT NOT NULL, \
         rows_done BIGINT NOT NULL, updated_at VARCHAR(32) NOT NULL, \
         PRIMARY KEY (version, step, direction))",
    )
    .expect("cursor table, as the runner creates it");
    c.execute(&format!(
        "INSERT INTO _migrator_backfill (version, step, direction, checksum, last_key, rows_done, updated_at) \
         VALUES ({}, 0, 'up', '{}', '-- finished', 250, 'x')",
        m.version, m.checksum
    ))
    .expect("the finished mark");

    let events = RefCell::new(Vec::new());
    let done = Migrator::new(&set)
        .on_event(|e| events.borrow_mut().push(e.clone()))
        .up(c)
        .expect("records it")
        .done;
    assert_eq!(done, vec!["0002_backfill_items".to_string()]);
    assert_eq!(count(c, "hits = 1"), 250, "no row updated a second time");
    assert_eq!(
        progress(&events.borrow()),
        [(250, 0, Some(250), 250, true)],
        "reported as finished before"
    );
    assert!(!cursor_table_exists(c));
    assert!(Migrator::new(&set).status(c).expect("status").is_clean());
}

/// SQLite (always the lock row): a backfill that runs longer than the
/// lock's lease keeps the lock, because every batch extends it; checked
/// from a second connection at every batch, three lease lengths long.
pub fn long_backfill_keeps_the_lock_row(
    c: &mut diesel::sqlite::SqliteConnection,
    other: &mut diesel::sqlite::SqliteConnection,
) {
    use std::time::{Duration, Instant};
    let mut b = backfill("hits = hits + 1", "hits = 0", 50);
    b.pause_ms = 300;
    let p = project(SINGLE, b);
    let set = p.set();
    Migrator::new(&set).up_to(c, Some(1)).expect("0001");
    let rows: Vec<String> = (1..=500).map(|i| format!("({i}, NULL, 0)")).collect();
    insert(c, "id, label, hits", &rows);
    let other = RefCell::new(other);
    let checks = RefCell::new(0);
    let started = Instant::now();
    Migrator::new(&set)
        .lock_lease(Duration::from_secs(1))
        .on_event(|e| {
            if matches!(e, Event::BackfillProgress { .. }) {
                let live = other
                    .borrow_mut()
                    .count_rows(
                        "SELECT 1 FROM _migrator_lock \
                         WHERE expires_at > CAST(strftime('%s', 'now') AS INTEGER)",
                    )
                    .expect("reads the lock row");
                assert_eq!(live, 1, "the lease ran out during the backfill");
                *checks.borrow_mut() += 1;
            }
        })
        .up(c)
        .expect("backfills");
    assert!(
        started.elapsed() >= Duration::from_secs(3),
        "longer than the lease"
    );
    assert!(*checks.borrow() >= 10);
    assert_eq!(count(c, "hits = 1"), 500);
}

/// A backfill whose SQL is wrong fails before its first batch: the error
/// names the migration and statement and says nothing was done, and the
/// migration is still pending with every row as it was.
pub fn broken_backfill_changes_nothing<C: MigrationConnection>(c: &mut C) {
    let p = project(
        SINGLE,
        backfill("hits = hits + 1", "hits = no_such_column", 100),
    );
    let set = p.set();
    Migrator::new(&set).up_to(c, Some(1)).expect("0001");
    let rows: Vec<String> = (1..=20).map(|i| format!("({i}, NULL, 0)")).collect();
    insert(c, "id, label, hits", &rows);
    let e = Migrator::new(&set).up(c).expect_err("refused").to_string();
    assert!(e.contains("0002_backfill_items"), "{e}");
    assert!(e.contains("no_such_column"), "{e}");
    assert!(e.contains("no batch of the backfill was done"), "{e}");
    assert_eq!(count(c, "hits = 0"), 20, "no row touched");
    let status = Migrator::new(&set).status(c).expect("status");
    assert!(status.is_clean(), "still merely pending: {status:?}");
}
