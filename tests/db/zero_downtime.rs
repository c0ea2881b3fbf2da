//! Zero-downtime behaviour on PostgreSQL: statement lock timeouts with
//! bounded retries, concurrent index builds and their cleanup.

use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use migrator_core::runner::{Event, LockWaits, Migrator, RunError};

use super::models;
use super::scenario::TestDb;
use super::support::{PgDb, TestProject};

/// The session's own `lock_timeout` is back after a run.
fn assert_session_lock_timeout(c: &mut PgConnection, expected: &str) {
    assert_eq!(
        c.rows("SELECT current_setting('lock_timeout') AS a, '' AS b, '' AS c, '' AS d")[0].a,
        expected,
        "the session's own setting is restored"
    );
}

/// The seed project up to `n` migrations.
fn project(n: u32) -> TestProject {
    let p = TestProject::new();
    let names = [
        "create_users",
        "create_tasks",
        "create_chat",
        "add_priority_column",
        "index_tasks_user_id",
    ];
    for (i, name) in names.iter().take(n as usize).enumerate() {
        p.set_models(&models::version(i as u32 + 1));
        p.generate(name).expect("a change");
    }
    p
}

fn columns(c: &mut PgConnection, table: &str) -> Vec<String> {
    c.shape().columns.get(table).cloned().unwrap_or_default()
}

/// Holds an ACCESS SHARE lock on `tasks` (an open transaction that read it,
/// as a long report query does) until the returned sender is dropped or
/// `hold` passes.
fn hold_read_lock(
    db: &PgDb,
    hold: Option<Duration>,
) -> (mpsc::Sender<()>, std::thread::JoinHandle<()>) {
    let (locked_tx, locked_rx) = mpsc::channel();
    let (stop_tx, stop_rx) = mpsc::channel::<()>();
    let mut holder = db.connect();
    let h = std::thread::spawn(move || {
        holder
            .batch_execute("BEGIN; SELECT count(*) FROM tasks;")
            .expect("read lock");
        locked_tx.send(()).expect("signal");
        match hold {
            Some(d) => {
                let _ = stop_rx.recv_timeout(d);
            }
            None => {
                let _ = stop_rx.recv();
            }
        }
        holder.batch_execute("COMMIT").expect("release");
    });
    locked_rx.recv().expect("lock taken");
    (stop_tx, h)
}

pub fn lock_timeout_retries_then_fails_cleanly(db: &PgDb) {
    let p = project(4);
    let set = p.set();
    let mut c = db.connect();
    Migrator::new(&set)
        .up_to(&mut c, Some(3))
        .expect("0001-0003");
    c.batch_execute("INSERT INTO users (name) VALUES ('a'); INSERT INTO tasks (user_id, title, is_high_priority, done) SELECT id, 't', false, false FROM users")
        .expect("rows");

    let (stop, holder) = hold_read_lock(db, None);
    let events = Arc::new(Mutex::new(Vec::new()));
    let seen = events.clone();
    let started = Instant::now();
    let err = Migrator::new(&set)
        .statement_lock_timeout(Duration::from_millis(300))
        .lock_retries(3, Duration::from_millis(100))
        .lock_waits(LockWaits::none())
        .on_event(move |e| seen.lock().expect("events").push(e.clone()))
        .up(&mut c)
        .expect_err("the lock is never released");
    let elapsed = started.elapsed();
    // 3 × 300 ms waits + backoff of 100..150 and 200..300 ms, plus slack.
    assert!(elapsed < Duration::from_secs(4), "bounded: {elapsed:?}");
    assert!(
        matches!(err, RunError::LockRetriesExhausted { attempts: 3, .. }),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(msg.contains("0004_add_priority_column"), "{msg}");
    assert!(msg.contains("ALTER TABLE \"tasks\""), "{msg}");
    assert!(
        msg.contains("idle in transaction"),
        "names the blocker: {msg}"
    );
    let retries = events
        .lock()
        .expect("events")
        .iter()
        .filter(|e| matches!(e, Event::LockRetry { .. }))
        .count();
    assert_eq!(retries, 2, "one event per retry");

    drop(stop);
    holder.join().expect("holder");
    assert!(
        !columns(&mut c, "tasks")
            .iter()
            .any(|col| col.starts_with("priority")),
        "the database is unchanged"
    );
    let status = Migrator::new(&set).status(&mut c).expect("status");
    assert_eq!(status.pending(), 1, "{status}");
    assert_session_lock_timeout(&mut c, "0");
}

/// The short waits come first, growing, each set for its own try, then
/// the maximum: with the table held throughout, two tries of 30 ms and
/// one of 2 s fail; had the short waits not reached the session, the run
/// would have taken three 2 s waits.
pub fn short_lock_waits_come_first_and_grow(db: &PgDb) {
    let p = project(4);
    let set = p.set();
    let mut c = db.connect();
    Migrator::new(&set)
        .up_to(&mut c, Some(3))
        .expect("0001-0003");
    let (stop, holder) = hold_read_lock(db, None);
    let events = Arc::new(Mutex::new(Vec::new()));
    let seen = events.clone();
    let started = Instant::now();
    let err = Migrator::new(&set)
        .statement_lock_timeout(Duration::from_millis(2000))
        .lock_retries(1, Duration::from_millis(10))
        .lock_waits(LockWaits::parse("30ms,40ms").expect("spec"))
        .on_event(move |e| seen.lock().expect("events").push(e.clone()))
        .up(&mut c)
        .expect_err("the lock is never released");
    let elapsed = started.elapsed();
    drop(stop);
    holder.join().expect("holder");
    assert!(
        matches!(
            err,
            RunError::LockRetriesExhausted {
                attempts: 3,
                timeout_ms: 2000,
                ..
            }
        ),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(
        msg.contains("2 short tries at lock_timeout 30ms,40ms")
            && msg.contains("up to 1 tries at 2000 ms"),
        "{msg}"
    );
    // 30 + 40 ms waits, ~100 and ~200 ms sleeps, one 2 s wait.
    assert!(
        elapsed >= Duration::from_millis(2300) && elapsed < Duration::from_millis(4000),
        "{elapsed:?}"
    );
    let tries: Vec<(u32, u32, u128, u128)> = events
        .lock()
        .expect("events")
        .iter()
        .filter_map(|e| match e {
            Event::LockRetry {
                attempt,
                attempts,
                timeout,
                next_timeout,
                ..
            } => Some((
                *attempt,
                *attempts,
                timeout.as_millis(),
                next_timeout.as_millis(),
            )),
            _ => None,
        })
        .collect();
    assert_eq!(tries, vec![(1, 3, 30, 40), (2, 3, 40, 2000)]);
    let status = Migrator::new(&set).status(&mut c).expect("status");
    assert_eq!(status.pending(), 1, "nothing of 0004 applied: {status}");

    // Released during the short tries: the migration is done before the
    // schedule ends, having never waited longer than 100 ms.
    let (_stop, holder) = hold_read_lock(db, Some(Duration::from_millis(1200)));
    let events = Arc::new(Mutex::new(Vec::new()));
    let seen = events.clone();
    let done = Migrator::new(&set)
        .on_event(move |e| seen.lock().expect("events").push(e.clone()))
        .up(&mut c)
        .expect("succeeds once the reader is gone")
        .done;
    holder.join().expect("holder");
    assert_eq!(done, vec!["0004_add_priority_column".to_string()]);
    let events = events.lock().expect("events");
    let waits: Vec<u128> = events
        .iter()
        .filter_map(|e| match e {
            Event::LockRetry { timeout, .. } => Some(timeout.as_millis()),
            _ => None,
        })
        .collect();
    assert!(!waits.is_empty(), "it waited: {events:?}");
    assert!(waits.iter().all(|w| *w <= 100), "{waits:?}");
    assert!(waits.windows(2).all(|w| w[0] <= w[1]), "growing: {waits:?}");
    assert_session_lock_timeout(&mut c, "0");
}

/// A session holding a REPEATABLE READ snapshot (over `tasks`) for
/// `how_long`, which a concurrent index build waits for; returns once the
/// snapshot is taken.
fn hold_snapshot(db: &PgDb, how_long: Duration) -> std::thread::JoinHandle<()> {
    let (locked_tx, locked_rx) = mpsc::channel();
    let mut holder = db.connect();
    let h = std::thread::spawn(move || {
        holder
            .batch_execute("BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT count(*) FROM tasks;")
            .expect("a snapshot");
        locked_tx.send(()).expect("signal");
        std::thread::sleep(how_long);
        holder.batch_execute("COMMIT").expect("release");
    });
    locked_rx.recv().expect("held");
    h
}

/// A statement that runs outside a transaction (here `CREATE INDEX
/// CONCURRENTLY`, which waits for every older snapshot) keeps the maximum
/// during the short waits: the application never queues behind it, and a
/// concurrent build given up after 50 ms would throw its work away. With a
/// snapshot held 1.5 s and a 5 s maximum it is built on the first try.
pub fn concurrent_builds_keep_the_maximum_during_short_waits(db: &PgDb) {
    let p = project(5);
    let set = p.set();
    let mut c = db.connect();
    Migrator::new(&set)
        .up_to(&mut c, Some(4))
        .expect("0001-0004");
    let h = hold_snapshot(db, Duration::from_millis(1500));
    let events = Arc::new(Mutex::new(Vec::new()));
    let seen = events.clone();
    let done = Migrator::new(&set)
        .statement_lock_timeout(Duration::from_millis(5000))
        .on_event(move |e| seen.lock().expect("events").push(e.clone()))
        .up(&mut c)
        .expect("built once the snapshot is gone")
        .done;
    h.join().expect("holder");
    assert_eq!(done, vec!["0005_index_tasks_user_id".to_string()]);
    {
        let events = events.lock().expect("events");
        assert!(
            !events.iter().any(|e| matches!(e, Event::LockRetry { .. })),
            "no retry: {events:?}"
        );
    }
    assert_session_lock_timeout(&mut c, "0");

    // Behind a snapshot longer than the maximum (800 ms), the build gives
    // up at that maximum, and the retry says so (not the short wait it
    // never ran under), and the next try is at the maximum too.
    Migrator::new(&set)
        .down_to(&mut c, 4)
        .expect("back to 0004");
    let h = hold_snapshot(db, Duration::from_millis(1500));
    let events = Arc::new(Mutex::new(Vec::new()));
    let seen = events.clone();
    Migrator::new(&set)
        .statement_lock_timeout(Duration::from_millis(800))
        .on_event(move |e| seen.lock().expect("events").push(e.clone()))
        .up(&mut c)
        .expect("built once the snapshot is gone");
    h.join().expect("holder");
    let events = events.lock().expect("events");
    let retries: Vec<(Duration, Duration)> = events
        .iter()
        .filter_map(|e| match e {
            Event::LockRetry {
                timeout,
                next_timeout,
                ..
            } => Some((*timeout, *next_timeout)),
            _ => None,
        })
        .collect();
    let max = Duration::from_millis(800);
    assert!(
        !retries.is_empty() && retries.iter().all(|r| *r == (max, max)),
        "each retry reports the maximum it ran under: {retries:?}"
    );
}

pub fn lock_timeout_retries_then_succeeds(db: &PgDb) {
    let p = project(4);
    let set = p.set();
    let mut c = db.connect();
    Migrator::new(&set)
        .up_to(&mut c, Some(3))
        .expect("0001-0003");

    // Released from the holder's thread after 1.5 s, during the retries.
    let (_stop, holder) = hold_read_lock(db, Some(Duration::from_millis(1500)));
    let events = Arc::new(Mutex::new(Vec::new()));
    let seen = events.clone();
    let done = Migrator::new(&set)
        .on_event(move |e| seen.lock().expect("events").push(e.clone()))
        .up(&mut c)
        .expect("succeeds once the lock is released")
        .done;
    holder.join().expect("holder");
    assert_eq!(done, vec!["0004_add_priority_column".to_string()]);
    let events = events.lock().expect("events");
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::LockRetry { attempt: 1, .. })),
        "{events:?}"
    );
    assert!(columns(&mut c, "tasks").contains(&"priority not null".to_string()));
}

/// A failed concurrent build leaves an INVALID index; the migration drops it
/// and builds the index again, outside any transaction.
pub fn invalid_index_is_rebuilt(db: &PgDb) {
    let p = project(5);
    let set = p.set();
    let mut c = db.connect();
    Migrator::new(&set)
        .up_to(&mut c, Some(4))
        .expect("0001-0004");
    c.batch_execute("INSERT INTO users (name) VALUES ('a'); INSERT INTO tasks (user_id, title, is_high_priority, done) SELECT id, 't', false, false FROM users; INSERT INTO tasks (user_id, title, is_high_priority, done) SELECT id, 'u', false, false FROM users")
        .expect("rows");
    // A unique build over duplicates fails and leaves the name taken by an
    // INVALID index, as an interrupted build does.
    assert!(c
        .batch_execute("CREATE UNIQUE INDEX CONCURRENTLY idx_tasks_user_id ON tasks (user_id)")
        .is_err());
    let invalid = "SELECT c.relname::text AS a, i.indisvalid::text AS b, i.indisunique::text AS c, '' AS d FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = 'idx_tasks_user_id'";
    assert_eq!(c.rows(invalid)[0].b, "false");

    let dry = Migrator::new(&set)
        .dry_run_up(&mut c, None)
        .expect("dry run")
        .sql
        .join("\n");
    assert!(
        dry.contains("CREATE INDEX CONCURRENTLY IF NOT EXISTS \"idx_tasks_user_id\""),
        "{dry}"
    );
    assert!(
        dry.contains("DROP INDEX CONCURRENTLY IF EXISTS \"idx_tasks_user_id\""),
        "{dry}"
    );
    assert!(
        dry.contains("SET lock_timeout = '50ms';") && dry.contains("then up to 5 tries at 1000 ms"),
        "{dry}"
    );

    Migrator::new(&set).up(&mut c).expect("0005");
    let row = &c.rows(invalid)[0];
    assert_eq!(
        (row.b.as_str(), row.c.as_str()),
        ("true", "false"),
        "a valid, non-unique index"
    );
    // Down drops it concurrently too.
    Migrator::new(&set).down_to(&mut c, 4).expect("down");
    assert!(c.rows(invalid).is_empty());
}

const PETS_V1: &str = r#"
use migrator::Model;

#[derive(Model)]
#[model(table = "owners")]
pub struct Owner {
    #[model(primary_key, auto_increment)]
    pub id: i64,
}

#[derive(Model)]
#[model(table = "pets")]
pub struct Pet {
    #[model(primary_key, auto_increment)]
    pub id: i64,
    pub owner_id: i64,
    #[model(max_length = 50)]
    pub name: Option<String>,
    pub legs: i32,
}
"#;

const PETS_V2: &str = r#"
use migrator::Model;

#[derive(Model)]
#[model(table = "owners")]
pub struct Owner {
    #[model(primary_key, auto_increment)]
    pub id: i64,
}

#[derive(Model)]
#[model(table = "pets", check = "legs >= 0")]
pub struct Pet {
    #[model(primary_key, auto_increment)]
    pub id: i64,
    #[model(foreign_key = "owners.id")]
    pub owner_id: i64,
    #[model(max_length = 50, unique, default = "unnamed")]
    pub name: String,
    pub legs: i32,
}
"#;

/// Foreign key, check, unique constraint and NOT NULL added to a table
/// with rows: each through its online plan, valid at the end, no helper
/// check left behind; down and up again.
pub fn constraints_on_existing_table(db: &PgDb) {
    let p = TestProject::new();
    p.set_models(PETS_V1);
    p.generate("pets").expect("a change");
    p.set_models(PETS_V2);
    p.generate("constrain_pets").expect("a change");
    let set = p.set();
    let mut c = db.connect();
    Migrator::new(&set).up_to(&mut c, Some(1)).expect("0001");
    c.batch_execute(
        "INSERT INTO owners DEFAULT VALUES; INSERT INTO pets (owner_id, name, legs) SELECT 1, 'p' || g, 4 FROM generate_series(1, 100) g; INSERT INTO pets (owner_id, legs) VALUES (1, 2)",
    )
    .expect("rows");

    let dry = Migrator::new(&set)
        .dry_run_up(&mut c, None)
        .expect("dry run")
        .sql
        .join("\n");
    for expected in [
        "NOT VALID;",
        "-- runs outside a transaction\nALTER TABLE \"pets\" VALIDATE CONSTRAINT \"fk_pets_owner_id\";",
        "CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS \"uq_pets_name\"",
        "ADD CONSTRAINT \"uq_pets_name\" UNIQUE USING INDEX \"uq_pets_name\";",
        "CHECK (\"name\" IS NOT NULL) NOT VALID;",
        "ALTER COLUMN \"name\" SET NOT NULL;",
    ] {
        assert!(dry.contains(expected), "{expected}\n---\n{dry}");
    }

    let constraints = "SELECT conname::text AS a, contype::text AS b, convalidated::text AS c, '' AS d FROM pg_constraint WHERE conrelid = 'pets'::regclass AND contype <> 'p' ORDER BY conname";
    for round in 0..2 {
        Migrator::new(&set).up(&mut c).expect("0002");
        let got: Vec<(String, String, String)> = c
            .rows(constraints)
            .into_iter()
            .map(|r| (r.a, r.b, r.c))
            .collect();
        let names: Vec<&str> = got.iter().map(|g| g.0.as_str()).collect();
        assert_eq!(
            names,
            ["ck_pets_3841a032", "fk_pets_owner_id", "uq_pets_name"],
            "round {round}: no helper check left: {got:?}"
        );
        assert!(got.iter().all(|g| g.2 == "true"), "all validated: {got:?}");
        assert!(columns(&mut c, "pets").contains(&"name not null".to_string()));
        assert_eq!(
            c.rows("SELECT name AS a, '' AS b, '' AS c, '' AS d FROM pets WHERE legs = 2")[0].a,
            "unnamed",
            "backfilled from the default"
        );
        assert!(Migrator::new(&set)
            .status(&mut c)
            .expect("status")
            .is_clean());
        Migrator::new(&set).down_to(&mut c, 1).expect("down");
        assert!(c.rows(constraints).is_empty());
    }
}

/// `statement_timeout`, when given, cancels a statement that runs too long;
/// the migration fails without a retry, is rolled back, and the session's
/// settings are restored.
pub fn statement_timeout_cancels_without_retry(db: &PgDb) {
    let p = project(2);
    p.edit_and_rehash("0002_create_tasks.toml", |f| {
        f.upgrade.push(migrator_core::ops::Operation::Sql(
            migrator_core::ops::RawSql {
                sql: Some("SELECT pg_sleep(2)".into()),
                reverse: Some(migrator_core::ops::SqlVariants {
                    sql: Some(String::new()),
                    ..Default::default()
                }),
                ..Default::default()
            },
        ));
        f.downgrade = migrator_core::ops::inverse_all(&f.upgrade);
    });
    let set = p.set();
    let mut c = db.connect();
    Migrator::new(&set).up_to(&mut c, Some(1)).expect("0001");
    let dry = Migrator::new(&set)
        .statement_timeout(Duration::from_millis(300))
        .dry_run_up(&mut c, None)
        .expect("dry run")
        .sql
        .join("\n");
    assert!(dry.contains("SET statement_timeout = '300ms';"), "{dry}");
    let events = Arc::new(Mutex::new(Vec::new()));
    let seen = events.clone();
    let started = Instant::now();
    let err = Migrator::new(&set)
        .statement_timeout(Duration::from_millis(300))
        .on_event(move |e| seen.lock().expect("events").push(e.clone()))
        .up(&mut c)
        .expect_err("pg_sleep(2) outlives the timeout");
    assert!(started.elapsed() < Duration::from_millis(1500), "no retry");
    let msg = err.to_string();
    assert!(msg.contains("statement timeout"), "{msg}");
    assert!(msg.contains("rolled back"), "{msg}");
    assert!(!events
        .lock()
        .expect("events")
        .iter()
        .any(|e| matches!(e, Event::LockRetry { .. })));
    assert!(columns(&mut c, "tasks").is_empty(), "rolled back");
    let settings = c.rows("SELECT current_setting('statement_timeout') AS a, current_setting('lock_timeout') AS b, '' AS c, '' AS d");
    assert_eq!((settings[0].a.as_str(), settings[0].b.as_str()), ("0", "0"));
}

/// Each migration runs under its own `lock_timeout` (its `lock_timeout_ms`,
/// else the runner's), even after a raw step changed the session's, and
/// the session's own value is back when the run ends.
pub fn each_migration_gets_its_lock_timeout(db: &PgDb) {
    let p = project(3);
    let seen = |f: &mut migrator_core::migration::MigrationFile, extra: &str| {
        f.upgrade.push(migrator_core::ops::Operation::Sql(
            migrator_core::ops::RawSql {
                sql: Some(format!(
                    "CREATE TABLE IF NOT EXISTS seen (n serial, v text); \
                     INSERT INTO seen (v) SELECT current_setting('lock_timeout');{extra}"
                )),
                reverse: Some(migrator_core::ops::SqlVariants {
                    sql: Some("DROP TABLE IF EXISTS seen".into()),
                    ..Default::default()
                }),
                ..Default::default()
            },
        ));
        f.downgrade = migrator_core::ops::inverse_all(&f.upgrade);
    };
    p.edit_and_rehash("0001_create_users.toml", |f| seen(f, ""));
    // 0001 takes the runner's short waits (its first try is what runs),
    // 0002 its own maximum and no short waits, 0003 its own short waits.
    p.edit_and_rehash("0002_create_tasks.toml", |f| {
        f.lock_timeout_ms = Some(2500);
        f.lock_waits = Some("none".into());
        seen(f, " SET lock_timeout = '9s';");
    });
    p.edit_and_rehash("0003_create_chat.toml", |f| {
        f.lock_waits = Some("80ms*2,90ms".into());
        seen(f, "");
    });
    let set = p.set();
    let mut c = db.connect();
    c.batch_execute("SET lock_timeout = '7s'")
        .expect("session value");
    Migrator::new(&set)
        .statement_lock_timeout(Duration::from_millis(1200))
        .up(&mut c)
        .expect("applies");
    let rows = c.rows("SELECT v AS a, '' AS b, '' AS c, '' AS d FROM seen ORDER BY n");
    let values: Vec<&str> = rows.iter().map(|r| r.a.as_str()).collect();
    assert_eq!(values, ["50ms", "2500ms", "80ms"]);
    let now = c.rows("SELECT current_setting('lock_timeout') AS a, '' AS b, '' AS c, '' AS d");
    assert_eq!(now[0].a, "7s", "the session's own value is restored");
}

/// MySQL/MariaDB: each migration runs under its own `lock_wait_timeout`
/// (whole seconds) and the session's value is back after the run; an
/// `ALTER TABLE` queued behind a transaction that read the table gives up
/// after that timeout and is retried until the reader is gone.
#[cfg(feature = "mysql")]
pub fn mysql_lock_wait_timeout_and_retry(db: &super::support::MyDb) {
    use migrator_core::ops::{Operation, RawSql, SqlVariants};
    let p = project(4);
    let raw = |sql: &str| {
        Operation::Sql(RawSql {
            sql: Some(sql.into()),
            reverse: Some(SqlVariants {
                sql: Some("DROP TABLE IF EXISTS seen".into()),
                ..Default::default()
            }),
            ..Default::default()
        })
    };
    let seen = |f: &mut migrator_core::migration::MigrationFile| {
        f.upgrade.push(raw(
            "CREATE TABLE IF NOT EXISTS seen (n INT AUTO_INCREMENT PRIMARY KEY, v TEXT)",
        ));
        f.upgrade.push(raw(
            "INSERT INTO seen (v) SELECT CONCAT(@@SESSION.lock_wait_timeout, '/', @@SESSION.innodb_lock_wait_timeout)",
        ));
        f.downgrade = migrator_core::ops::inverse_all(&f.upgrade);
    };
    p.edit_and_rehash("0001_create_users.toml", seen);
    // MySQL rounds a short wait up to whole seconds: 0001's first try
    // runs at 1 s, 0002 has its own maximum and no short waits, 0003 its
    // own short waits (under its own maximum, which caps them).
    p.edit_and_rehash("0002_create_tasks.toml", |f| {
        f.lock_timeout_ms = Some(3000);
        f.lock_waits = Some("none".into());
        seen(f);
    });
    p.edit_and_rehash("0003_create_chat.toml", |f| {
        f.lock_timeout_ms = Some(4000);
        f.lock_waits = Some("2s".into());
        seen(f);
    });
    let set = p.set();
    let mut c = db.connect();
    // A session whose server messages are German: the lock wait timeout
    // is still recognised (the runner's run is in English) and retried.
    c.batch_execute("SET SESSION lock_wait_timeout = 77, SESSION lc_messages = 'de_DE'")
        .expect("session value");
    // The CLI bounds every wait right after connecting; the session's
    // language is left as it is (and restored as it was).
    migrator_core::runner::bound_waits(&mut c, Duration::from_secs(77)).expect("bound");
    Migrator::new(&set)
        .up_to(&mut c, Some(3))
        .expect("0001-0003");
    let rows = c.rows("SELECT v AS a, '' AS b, '' AS c, '' AS d FROM seen ORDER BY n");
    let values: Vec<&str> = rows.iter().map(|r| r.a.as_str()).collect();
    assert_eq!(values, ["1/1", "3/3", "2/2"]);
    let now =
        c.rows("SELECT CAST(@@SESSION.lock_wait_timeout AS CHAR) AS a, '' AS b, '' AS c, '' AS d");
    assert_eq!(now[0].a, "77", "the session's own value is restored");
    let lang = c.rows("SELECT @@SESSION.lc_messages AS a, '' AS b, '' AS c, '' AS d");
    assert_eq!(lang[0].a, "de_DE", "the session's language is restored");

    // A reader holds the table's metadata lock for 2.5 s: the ALTER of
    // 0004 times out (1 s) and is retried until the reader commits.
    let (locked_tx, locked_rx) = mpsc::channel();
    let mut holder = db.connect();
    let h = std::thread::spawn(move || {
        holder
            .batch_execute("BEGIN; SELECT COUNT(*) FROM tasks;")
            .expect("read lock");
        locked_tx.send(()).expect("signal");
        std::thread::sleep(Duration::from_millis(2500));
        holder.batch_execute("COMMIT").expect("release");
    });
    locked_rx.recv().expect("locked");
    let events = Arc::new(Mutex::new(Vec::new()));
    let seen_events = events.clone();
    let done = Migrator::new(&set)
        .lock_retries(6, Duration::from_millis(200))
        .on_event(move |e| seen_events.lock().expect("events").push(e.clone()))
        .up(&mut c)
        .expect(
            "succeeds once the reader is gone (a German session's lock wait timeout is retried)",
        )
        .done;
    h.join().expect("holder");
    let lang = c.rows("SELECT @@SESSION.lc_messages AS a, '' AS b, '' AS c, '' AS d");
    assert_eq!(lang[0].a, "de_DE", "the session's language is restored");
    assert_eq!(done, vec!["0004_add_priority_column".to_string()]);
    assert!(
        events
            .lock()
            .expect("events")
            .iter()
            .any(|e| matches!(e, Event::LockRetry { attempt: 1, .. })),
        "{events:?}"
    );
}

/// PostgreSQL: a migration of plain statements is sent as one batch (`SET`,
/// `BEGIN`, its statements, its history row, `COMMIT`: one round trip) and
/// consecutive ones are pipelined, several per query, each its own
/// transaction. Inside a caller's transaction none of that is used; a lock
/// timeout (alone or in a chunk) is retried with backoff; a failure inside
/// a chunk keeps the migrations before it and is reported at its
/// statement.
pub fn plain_migrations_run_as_one_batch(db: &PgDb) {
    use diesel::connection::{Connection, InstrumentationEvent};
    let p = TestProject::new();
    p.raw_migrations(&[
        (
            "tasks",
            &[(
                "CREATE TABLE tasks (id int PRIMARY KEY, body text) -- ends in a comment",
                "DROP TABLE tasks",
            )],
        ),
        (
            "more",
            &[
                (
                    "INSERT INTO tasks VALUES (1, 'a;b')",
                    "DELETE FROM tasks WHERE id = 1",
                ),
                (
                    "ALTER TABLE tasks ADD COLUMN tag text",
                    "ALTER TABLE tasks DROP COLUMN tag",
                ),
            ],
        ),
        (
            "broken",
            &[
                ("CREATE TABLE left_over (id int)", "DROP TABLE left_over"),
                ("SELECT 1/0", "SELECT 1"),
            ],
        ),
    ]);
    let set = p.set();
    let mut c = db.connect();
    let queries = Arc::new(Mutex::new(Vec::new()));
    let seen = queries.clone();
    c.set_instrumentation(move |e: InstrumentationEvent<'_>| {
        if let InstrumentationEvent::StartQuery { query, .. } = e {
            seen.lock().expect("queries").push(query.to_string());
        }
    });
    let batches = |q: &Mutex<Vec<String>>| {
        q.lock()
            .expect("queries")
            .iter()
            .filter(|s| s.starts_with("SET lock_timeout") && s.contains("\nBEGIN;\n"))
            .count()
    };
    let history = |c: &mut PgConnection| {
        c.rows("SELECT COALESCE(to_regclass('tasks')::text, 'none') AS a, (SELECT count(*)::text FROM _migrator_history) AS b, '' AS c, '' AS d")
    };

    // Inside the caller's transaction: savepoints, no BEGIN/COMMIT of its
    // own, so the caller's rollback takes everything back.
    let rolled_back = c.transaction::<(), RunError, _>(|c| {
        Migrator::new(&set).up_to(c, Some(2))?;
        Err(RunError::Database {
            message: "the caller rolls back".into(),
        })
    });
    assert!(rolled_back.is_err());
    assert_eq!(batches(&queries), 0, "no batch inside a transaction");
    let left = c.rows("SELECT COALESCE(to_regclass('tasks')::text, 'none') AS a, COALESCE(to_regclass('_migrator_history')::text, 'none') AS b, '' AS c, '' AS d");
    assert_eq!((left[0].a.as_str(), left[0].b.as_str()), ("none", "none"));

    Migrator::new(&set).up_to(&mut c, Some(1)).expect("0001");
    assert_eq!(batches(&queries), 1, "0001 in one batch");

    // 0002 alters `tasks` while a reader holds it: the batch times out,
    // is retried, and succeeds once the reader is gone.
    let lock_retry = |db: &PgDb, m: Migrator<'_>, c: &mut PgConnection, to: Option<u32>| {
        let (_stop, holder) = hold_read_lock(db, Some(Duration::from_millis(1500)));
        let events = Arc::new(Mutex::new(Vec::new()));
        let seen_events = events.clone();
        let result = m
            .on_event(move |e| seen_events.lock().expect("events").push(e.clone()))
            .up_to(c, to);
        holder.join().expect("holder");
        let events = events.lock().expect("events").clone();
        assert!(
            events
                .iter()
                .any(|e| matches!(e, Event::LockRetry { id, attempt: 1, .. } if id == "0002_more")),
            "{events:?}"
        );
        result
    };
    let done = lock_retry(db, Migrator::new(&set), &mut c, Some(2))
        .expect("0002 once the reader is gone")
        .done;
    assert_eq!(done, vec!["0002_more".to_string()]);

    let state = |c: &mut PgConnection| {
        let rows = c.rows(
            "SELECT body AS a, COALESCE(tag, '-') AS b, COALESCE(to_regclass('left_over')::text, 'none') AS c, \
             (SELECT string_agg(version || ':' || state || ':' || (execution_ms >= 0)::text, ',' ORDER BY version) FROM _migrator_history) AS d FROM tasks",
        );
        let r = &rows[0];
        (r.a.clone(), r.b.clone(), r.c.clone(), r.d.clone())
    };
    let failed = |err: RunError| {
        let msg = err.to_string();
        assert!(
            msg.contains("migration 0003_broken failed at statement 2")
                && msg.contains("SELECT 1/0")
                && msg.contains("division by zero")
                && msg.contains("rolled back"),
            "{msg}"
        );
    };
    let done_0002 = (
        "a;b".to_string(),
        "-".to_string(),
        "none".to_string(),
        "1:applied:true,2:applied:true".to_string(),
    );
    failed(Migrator::new(&set).up(&mut c).expect_err("0003 fails"));
    assert_eq!(state(&mut c), done_0002, "0001-0002 done, nothing of 0003");

    // Down from 0002 to nothing: one query; only its last commit waits
    // for the WAL flush.
    let before = batches(&queries);
    let done = Migrator::new(&set)
        .down_to(&mut c, 0)
        .expect("rolls back")
        .done;
    assert_eq!(done, ["0002_more", "0001_tasks"]);
    assert_eq!(batches(&queries) - before, 1, "one query for both");
    let chunk = queries
        .lock()
        .expect("queries")
        .iter()
        .rev()
        .find(|q| q.contains("\nBEGIN;\n"))
        .cloned()
        .expect("the chunk");
    assert_eq!(
        chunk.matches("SET LOCAL synchronous_commit TO OFF").count(),
        1,
        "{chunk}"
    );
    let left = history(&mut c);
    assert_eq!((left[0].a.as_str(), left[0].b.as_str()), ("none", "0"));

    // 0002 and 0003 in one query: 0002 is committed there, 0003 fails,
    // is rolled back, and runs again alone, statement by statement, which
    // names its statement.
    Migrator::new(&set).up_to(&mut c, Some(1)).expect("0001");
    let before = batches(&queries);
    failed(Migrator::new(&set).up(&mut c).expect_err("0003 fails"));
    assert_eq!(batches(&queries) - before, 1, "only the chunk was a batch");
    assert_eq!(state(&mut c), done_0002, "0002 kept, nothing of 0003");

    // A reader holds `tasks` when 0002 and 0003 go as one query: the chunk
    // meets the lock timeout at 0002, which then waits its backoff and
    // is retried alone.
    Migrator::new(&set)
        .down_to(&mut c, 1)
        .expect("back to 0001");
    failed(lock_retry(db, Migrator::new(&set), &mut c, None).expect_err("0003 fails"));
    assert_eq!(state(&mut c), done_0002, "0002 done after its retry");
}

/// PostgreSQL: a one-batch migration cancelled by `statement_timeout` is
/// not run again (the batch's error is the migration's).
pub fn cancelled_batch_is_not_run_again(db: &PgDb) {
    let p = TestProject::new();
    p.raw_migrations(&[(
        "slow",
        &[
            ("CREATE TABLE slow (id int)", "DROP TABLE slow"),
            ("SELECT pg_sleep(2)", "SELECT 1"),
        ],
    )]);
    let set = p.set();
    let mut c = db.connect();
    let queries = Arc::new(Mutex::new(Vec::new()));
    let seen = queries.clone();
    diesel::Connection::set_instrumentation(
        &mut c,
        move |e: diesel::connection::InstrumentationEvent<'_>| {
            if let diesel::connection::InstrumentationEvent::StartQuery { query, .. } = e {
                seen.lock().expect("queries").push(query.to_string());
            }
        },
    );
    let err = Migrator::new(&set)
        .statement_timeout(Duration::from_millis(300))
        .up(&mut c)
        .expect_err("cancelled");
    let sleeps: Vec<String> = queries
        .lock()
        .expect("queries")
        .iter()
        .filter(|q| q.contains("pg_sleep"))
        .cloned()
        .collect();
    assert_eq!(sleeps.len(), 1, "sent once, in its batch: {sleeps:?}");
    assert!(sleeps[0].contains("\nBEGIN;\n"), "{sleeps:?}");
    let msg = err.to_string();
    assert!(
        msg.contains("statement timeout") && msg.contains("0001_slow"),
        "{msg}"
    );
    let left = c.rows("SELECT COALESCE(to_regclass('slow')::text, 'none') AS a, (SELECT count(*)::text FROM _migrator_history) AS b, '' AS c, '' AS d");
    assert_eq!((left[0].a.as_str(), left[0].b.as_str()), ("none", "0"));
}
