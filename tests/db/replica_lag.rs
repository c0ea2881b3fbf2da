//! Backfills that watch the replicas (PostgreSQL, with the streaming
//! replica `scripts/servers pg-replica` starts on 127.0.0.1:5433): while
//! the replica does not replay (`pg_wal_replay_pause()`), its lag grows
//! past the bound and the backfill waits between batches, no row updated;
//! once replay resumes it finishes, every row once. A wait longer than the
//! bound stops the step with its batches kept, and `up` resumes. On SQLite
//! the setting is refused before anything runs.

use std::sync::mpsc;
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::Connection;
use migrator_core::migration::MigrationFile;
use migrator_core::ops::{inverse_all, Backfill, BackfillReverse, Operation};
use migrator_core::runner::{Event, MigrationConnection, Migrator};

use super::support::{PgDb, TestProject};

const MODELS: &str = r#"
use migrator::Model;

#[derive(Model)]
#[model(table = "items")]
pub struct Item {
    #[model(primary_key)]
    pub id: i64,
    pub hits: i64,
}
"#;

fn project() -> TestProject {
    let p = TestProject::new();
    p.set_models(MODELS);
    p.generate("create_items").expect("0001");
    let upgrade = vec![Operation::Backfill(Backfill {
        table: "items".into(),
        set: "hits = hits + 1".into(),
        predicate: "hits = 0".into(),
        batch_size: 100,
        pause_ms: 0,
        reverse: Some(BackfillReverse {
            set: "hits = hits - 1".into(),
            predicate: "hits = 1".into(),
        }),
    })];
    let downgrade = inverse_all(&upgrade);
    std::fs::write(
        p.migrations_dir().join("0002_backfill_items.toml"),
        MigrationFile::new("backfill items", upgrade, downgrade).to_text("written by hand"),
    )
    .expect("0002");
    let snap = p.project().rehash().expect("rehash");
    std::fs::write(p.project().snapshot_path(), snap).expect("snapshot");
    p
}

/// The replica, or `None` (loudly) where it is not running; under CI it
/// must be.
pub fn replica() -> Option<PgConnection> {
    let url = std::env::var("MIGRATOR_TEST_PG_REPLICA")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5433/postgres".to_string());
    match PgConnection::establish(&url) {
        Ok(c) => Some(c),
        Err(e) => {
            if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
                panic!("the PostgreSQL replica is required under CI but {url} is unreachable: {e} (scripts/servers pg-replica starts it)");
            }
            eprintln!("\n!!!!!!!! SKIPPING replica-lag test: {url} is unreachable ({e}); run scripts/servers pg-replica or set MIGRATOR_TEST_PG_REPLICA !!!!!!!!\n");
            None
        }
    }
}

/// Replay paused while it lives, resumed when dropped (a failing test
/// leaves the replica replaying).
struct Paused(PgConnection);

impl Paused {
    fn new(mut c: PgConnection) -> Paused {
        c.batch_execute("SELECT pg_wal_replay_pause()")
            .expect("pause");
        Paused(c)
    }
    fn resume(mut self) {
        self.0
            .batch_execute("SELECT pg_wal_replay_resume()")
            .expect("resume");
        std::mem::forget(self);
    }
}

impl Drop for Paused {
    fn drop(&mut self) {
        let _ = self.0.batch_execute("SELECT pg_wal_replay_resume()");
    }
}

fn hits(c: &mut PgConnection, n: i64) -> i64 {
    c.count_rows(&format!("SELECT 1 AS one FROM items WHERE hits = {n}"))
        .expect("count")
}

pub fn backfill_waits_for_a_lagging_replica(db: &PgDb, replica_url_conn: PgConnection) {
    let p = project();
    let set = p.set();
    let mut c = db.connect();
    Migrator::new(&set).up_to(&mut c, Some(1)).expect("0001");

    let paused = Paused::new(replica_url_conn);
    c.batch_execute("INSERT INTO items (id, hits) SELECT g, 0 FROM generate_series(1, 2000) g")
        .expect("rows");
    // The replica has not replayed the rows: its lag grows past 300 ms.
    std::thread::sleep(Duration::from_millis(800));

    let (tx, rx) = mpsc::channel::<Event>();
    let url = db.url.clone();
    let set_dir = p.migrations_dir().to_path_buf();
    let runner = std::thread::spawn(move || {
        let set = migrator_core::migration::MigrationSet::load(&set_dir).expect("set");
        let mut c = PgConnection::establish(&url).expect("connects");
        let tx = std::sync::Mutex::new(tx);
        let done = Migrator::new(&set)
            .max_replica_lag(Duration::from_millis(300), Duration::from_secs(60))
            .on_event(move |e| {
                let _ = tx.lock().expect("sender").send(e.clone());
            })
            .up(&mut c)
            .map(|r| r.done);
        done
    });
    // It waits: a lag event, and no batch yet.
    let first = rx.recv_timeout(Duration::from_secs(20)).map(|_| ());
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        match rx.recv_timeout(Duration::from_millis(100)) {
            Ok(e) => {
                let waiting = matches!(e, Event::ReplicaLag { replicas, .. } if replicas > 0);
                seen.push(e);
                if waiting {
                    break;
                }
            }
            Err(_) => continue,
        }
    }
    assert!(first.is_ok(), "events arrive");
    let Some(Event::ReplicaLag { lag, max, .. }) = seen.last().cloned() else {
        panic!("the backfill waits for the replica: {seen:?}");
    };
    assert!(
        lag > max && max == Duration::from_millis(300),
        "{lag:?} {max:?}"
    );
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(hits(&mut c, 1), 0, "no batch while the replica lags");
    while let Ok(e) = rx.try_recv() {
        seen.push(e);
    }
    assert!(
        !seen
            .iter()
            .any(|e| matches!(e, Event::BackfillProgress { .. })),
        "{seen:?}"
    );

    paused.resume();
    let done = runner
        .join()
        .expect("runner")
        .expect("finishes once the replica caught up");
    assert_eq!(done, vec!["0002_backfill_items".to_string()]);
    seen.extend(rx.try_iter());
    assert_eq!(hits(&mut c, 1), 2000, "every row once");
    assert_eq!(hits(&mut c, 2), 0);
    let lags: Vec<Option<Duration>> = seen
        .iter()
        .filter_map(|e| match e {
            Event::BackfillProgress { replica_lag, .. } => Some(*replica_lag),
            _ => None,
        })
        .collect();
    assert!(
        !lags.is_empty()
            && lags
                .iter()
                .all(|l| l.is_some_and(|l| l <= Duration::from_millis(300))),
        "the progress shows the lag, under the bound: {lags:?}"
    );

    // A replica that stays behind: the step stops after the bound, nothing
    // lost; once it caught up, `down` finishes.
    let paused = Paused::new(replica().expect("replica"));
    c.batch_execute("UPDATE items SET hits = hits WHERE id <= 10")
        .expect("some WAL");
    std::thread::sleep(Duration::from_millis(800));
    let started = Instant::now();
    let err = Migrator::new(&set)
        .max_replica_lag(Duration::from_millis(200), Duration::from_millis(1500))
        .down_to(&mut c, 1)
        .expect_err("the replica stays behind")
        .to_string();
    assert!(started.elapsed() < Duration::from_secs(10), "bounded");
    assert!(
        err.contains("waited")
            && err.contains("for the replicas")
            && err.contains("--replica-lag-timeout"),
        "{err}"
    );
    assert_eq!(hits(&mut c, 1), 2000, "nothing rolled back yet");
    paused.resume();
    Migrator::new(&set)
        .max_replica_lag(Duration::from_millis(500), Duration::from_secs(60))
        .down_to(&mut c, 1)
        .expect("down once the replica caught up");
    assert_eq!(hits(&mut c, 0), 2000);
}

/// SQLite has no replica to watch: refused before anything runs.
pub fn sqlite_refuses_the_replica_bound() {
    let p = project();
    let set = p.set();
    let mut c = diesel::sqlite::SqliteConnection::establish(":memory:").expect("sqlite");
    let err = Migrator::new(&set)
        .max_replica_lag(Duration::from_secs(1), Duration::from_secs(5))
        .up(&mut c)
        .expect_err("refused")
        .to_string();
    assert!(
        err.contains("--max-replica-lag")
            && err.contains("not available on sqlite")
            && err.contains("nothing was run"),
        "{err}"
    );
    assert!(
        !migrator_core::runner::table_exists(&mut c, "items").expect("catalog"),
        "nothing ran"
    );
}

/// The MariaDB primary and its asynchronous replica (base URLs), or `None`
/// (loudly) where they are not running; under CI they must be.
#[cfg(feature = "mysql")]
pub fn my_replica() -> Option<(String, String)> {
    let primary = std::env::var("MIGRATOR_TEST_MY_PRIMARY")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3321".to_string());
    let replica = std::env::var("MIGRATOR_TEST_MY_REPLICA")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3322".to_string());
    for url in [&primary, &replica] {
        if let Err(e) = diesel::mysql::MysqlConnection::establish(url) {
            if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
                panic!("the MariaDB primary and replica are required under CI but {url} is unreachable: {e} (scripts/servers my-replica starts them)");
            }
            eprintln!("\n!!!!!!!! SKIPPING MariaDB replica-lag test: {url} is unreachable ({e}); run scripts/servers my-replica or set MIGRATOR_TEST_MY_PRIMARY / MIGRATOR_TEST_MY_REPLICA !!!!!!!!\n");
            return None;
        }
    }
    Some((primary, replica))
}

/// The replica's SQL thread stopped while it lives (it receives the
/// primary's binary log but applies nothing), started again when dropped.
#[cfg(feature = "mysql")]
struct Stopped(diesel::mysql::MysqlConnection);

#[cfg(feature = "mysql")]
impl Stopped {
    fn new(mut c: diesel::mysql::MysqlConnection) -> Stopped {
        c.batch_execute("STOP SLAVE SQL_THREAD").expect("stop");
        Stopped(c)
    }
}

#[cfg(feature = "mysql")]
impl Drop for Stopped {
    fn drop(&mut self) {
        let _ = self.0.batch_execute("START SLAVE SQL_THREAD");
    }
}

#[cfg(feature = "mysql")]
fn count_hits<C: MigrationConnection>(c: &mut C, n: i64) -> i64 {
    c.count_rows(&format!("SELECT 1 AS one FROM items WHERE hits = {n}"))
        .expect("count")
}

/// Waits (at most 20 s) until `c` counts `want` rows with `hits = n`.
#[cfg(feature = "mysql")]
fn until_hits<C: MigrationConnection>(c: &mut C, n: i64, want: i64) -> i64 {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let got = c
            .count_rows(&format!("SELECT 1 AS one FROM items WHERE hits = {n}"))
            .unwrap_or(-1);
        if got == want || Instant::now() > deadline {
            return got;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// MariaDB with a classic asynchronous replica (GTID): the replica named
/// with `Migrator::replica_urls` is watched by its applied GTIDs against
/// the primary's binary log. With its SQL thread stopped the backfill
/// waits, no row updated, and finishes once it applies again, every row
/// once on both. Refused before anything runs: no replica named, and a
/// server that replicates nothing from this one.
#[cfg(feature = "mysql")]
pub fn mariadb_backfill_waits_for_a_lagging_replica(primary: &str, replica: &str, other: &str) {
    use migrator_core::runner::DatabaseUrl;
    let db = super::support::MyDb::create(primary, "mylag");
    let p = project();
    let set = p.set();
    let mut c = db.connect();
    Migrator::new(&set).up_to(&mut c, Some(1)).expect("0001");
    let replica_url = format!("{replica}/{}", db.name);
    // The replica has the table (and the database) before anything else.
    let deadline = Instant::now() + Duration::from_secs(20);
    let mut on_replica = loop {
        let mut r = diesel::mysql::MysqlConnection::establish(&replica_url).ok();
        let ready = r
            .as_mut()
            .is_some_and(|r| migrator_core::runner::table_exists(r, "items").unwrap_or(false));
        match r {
            Some(r) if ready => break r,
            _ if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(100)),
            _ => panic!("the replica never got the table"),
        }
    };
    let url = |s: &str| DatabaseUrl::parse(s).expect("url");
    let applied = |c: &mut diesel::mysql::MysqlConnection| {
        c.count_rows("SELECT 1 AS one FROM _migrator_history")
            .expect("history")
    };

    // Refused before anything runs.
    let err = Migrator::new(&set)
        .max_replica_lag(Duration::from_secs(1), Duration::from_secs(5))
        .galera_peers_with(url(&db.url))
        .up(&mut c)
        .expect_err("no replica named")
        .to_string();
    assert!(
        err.contains("needs its replicas named") && err.contains("nothing was run"),
        "{err}"
    );
    let err = Migrator::new(&set)
        .max_replica_lag(Duration::from_secs(1), Duration::from_secs(5))
        .replica_urls(vec![url(&format!("{other}/mysql"))])
        .up(&mut c)
        .expect_err("not a replica of this server")
        .to_string();
    assert!(
        err.contains("is not a replica of this server") && err.contains("nothing was run"),
        "{err}"
    );
    assert_eq!(applied(&mut c), 1, "0002 not applied");

    let stopped =
        Stopped::new(diesel::mysql::MysqlConnection::establish(replica).expect("replica"));
    c.batch_execute(&format!(
        "INSERT INTO items (id, hits) VALUES {}",
        (1..=1000)
            .map(|i| format!("({i}, 0)"))
            .collect::<Vec<_>>()
            .join(", ")
    ))
    .expect("rows");
    let (tx, rx) = mpsc::channel::<Event>();
    let set_dir = p.migrations_dir().to_path_buf();
    let primary_url = db.url.clone();
    let watched = url(&replica_url);
    let runner = std::thread::spawn(move || {
        let set = migrator_core::migration::MigrationSet::load(&set_dir).expect("set");
        let mut c = diesel::mysql::MysqlConnection::establish(&primary_url).expect("connects");
        let tx = std::sync::Mutex::new(tx);
        let done = Migrator::new(&set)
            .max_replica_lag(Duration::from_millis(300), Duration::from_secs(60))
            .replica_urls(vec![watched])
            .on_event(move |e| {
                let _ = tx.lock().expect("sender").send(e.clone());
            })
            .up(&mut c)
            .map(|r| r.done);
        done
    });
    let mut seen = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Ok(e) = rx.recv_timeout(Duration::from_millis(100)) {
            let waiting = matches!(&e, Event::ReplicaLag { replicas: 1, .. });
            seen.push(e);
            if waiting {
                break;
            }
        }
    }
    let Some(Event::ReplicaLag { worst, .. }) = seen.last().cloned() else {
        panic!("the backfill waits for the replica: {seen:?}");
    };
    assert!(
        worst.as_deref().is_some_and(|w| w.contains(":3322")),
        "names the replica: {worst:?}"
    );
    // The lag grows past the bound (reported at most once a second).
    let over = |e: &Event| matches!(e, Event::ReplicaLag { lag, max, .. } if lag > max && *max == Duration::from_millis(300));
    let deadline = Instant::now() + Duration::from_secs(10);
    while !seen.iter().any(over) && Instant::now() < deadline {
        if let Ok(e) = rx.recv_timeout(Duration::from_millis(100)) {
            seen.push(e);
        }
    }
    assert!(
        seen.iter().any(over),
        "the lag grows past the bound: {seen:?}"
    );
    assert_eq!(count_hits(&mut c, 1), 0, "no batch while the replica lags");
    // The watcher's session on the replica is killed (a restart, a
    // timeout): it connects again and goes on watching.
    let ids: Vec<String> = on_replica
        .query_texts(&format!(
            "SELECT CAST(ID AS CHAR) AS s FROM information_schema.PROCESSLIST WHERE DB = '{}' AND ID <> CONNECTION_ID()",
            db.name
        ))
        .expect("sessions");
    assert!(!ids.is_empty(), "the watcher's session is on the replica");
    for id in &ids {
        on_replica
            .batch_execute(&format!("KILL CONNECTION {id}"))
            .expect("kill");
    }
    std::thread::sleep(Duration::from_millis(2500));
    assert_eq!(
        count_hits(&mut c, 1),
        0,
        "still no batch after the reconnect"
    );
    seen.extend(rx.try_iter());
    assert!(
        !seen
            .iter()
            .any(|e| matches!(e, Event::BackfillProgress { .. })),
        "{seen:?}"
    );
    drop(stopped);
    let done = runner
        .join()
        .expect("runner")
        .expect("finishes once the replica applies again");
    assert_eq!(done, vec!["0002_backfill_items".to_string()]);
    assert_eq!(count_hits(&mut c, 1), 1000, "every row once");
    assert_eq!(
        until_hits(&mut on_replica, 1, 1000),
        1000,
        "on the replica too"
    );
    assert_eq!(count_hits(&mut on_replica, 2), 0);
}
