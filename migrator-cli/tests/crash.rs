//! Crash safety: `migrator up` killed with SIGKILL at random moments.
//!
//! Each trial starts `migrator up` on the three-migration project of
//! `common` (0002 runs `transaction = false`, step by step; every migration
//! has slow steps, so kills land mid-migration) and kills it after a random
//! delay between 0 and the time an uninterrupted run takes. After each kill:
//! - the history is a prefix of applied migrations, plus at most one
//!   `partial` row, only for the non-transactional 0002, right after them;
//! - the live schema (introspected) equals the recorded version's schema
//!   (`introspect::expected` of `set.state(v)`), for a partial 0002 the
//!   version its `steps_done` implies;
//! - every step's mark is there exactly as often as the history says it ran
//!   (once or not at all): no step lost, none doubled.
//!
//! Kills are chained (up to three on one database, each run resuming the
//! previous one's work), then an uninterrupted `up` must complete with
//! everything applied once. Trials per database: `MIGRATOR_CRASH_TRIALS`
//! (default 25); the seed is printed and can be replayed with
//! `MIGRATOR_CRASH_SEED`.
//!
//! A second project of ten hand-written SQL migrations runs the same kills
//! through SQLite's commit groups (several migrations per transaction, each
//! in a savepoint) and PostgreSQL's pipelined batches (several migrations,
//! each its own transaction, per query): after each kill the history is a
//! prefix of applied migrations and exactly their tables and marks exist.

mod common;

use std::time::{Duration, Instant};

use common::{
    check_raw, command, pg_base_url, project, raw_project, text, Db, PgDb, TestProject,
    RAW_MIGRATIONS,
};
use migrator_core::dialect::Dialect;
use migrator_core::introspect;
use migrator_core::migration::{Direction, MigrationSet};

fn trials() -> usize {
    std::env::var("MIGRATOR_CRASH_TRIALS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(25)
}

/// xorshift64*: enough randomness for delays, reproducible from the seed.
struct Rng(u64);

impl Rng {
    fn new() -> Rng {
        let seed = std::env::var("MIGRATOR_CRASH_SEED")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(1, |d| d.as_nanos() as u64)
                    | 1
            });
        eprintln!("crash harness seed: MIGRATOR_CRASH_SEED={seed}");
        Rng(seed)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n.max(1)
    }
}

/// On PostgreSQL a killed client's server session finishes its current
/// statement before it notices; wait until only our own session is left,
/// so that what we read is what the database keeps.
fn wait_for_sessions(db: &Db) {
    #[cfg(feature = "mysql")]
    if let Db::My(_) = db {
        // The same on MySQL: the killed client's connection is gone from
        // the process list once the server noticed.
        let started = Instant::now();
        while !db
            .rows("SELECT CAST(ID AS CHAR) AS a, '' AS b, '' AS c, '' AS d FROM information_schema.PROCESSLIST WHERE DB = DATABASE() AND ID <> CONNECTION_ID()")
            .is_empty()
        {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "the killed runner's connection did not end"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    if let Db::Pg(_) = db {
        let started = Instant::now();
        while !db
            .rows("SELECT pid::text AS a, '' AS b, '' AS c, '' AS d FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
            .is_empty()
        {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "the killed runner's session did not end"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

/// Starts `migrator up` and kills it with SIGKILL after `delay` (no
/// destructor, no rollback by the runner), then waits until the database
/// has let go of its session.
fn kill_up_after(p: &TestProject, db: &Db, delay: Duration) {
    let mut child = command(p.root(), &db.url(), &["up"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("spawns");
    std::thread::sleep(delay);
    let _ = child.kill();
    let _ = child.wait();
    wait_for_sessions(db);
}

/// The statement index of every mark of migration `v`, by tag.
fn mark_steps(set: &MigrationSet, dialect: Dialect, v: u32) -> Vec<(String, usize)> {
    let flat: Vec<String> = set
        .render(dialect, v, Direction::Up)
        .expect("renders")
        .into_iter()
        .flatten()
        .map(|s| s.sql)
        .collect();
    common::MARKS[v as usize - 1]
        .iter()
        .map(|tag| {
            let i = flat
                .iter()
                .position(|s| s.contains(&format!("VALUES ('{tag}')")))
                .expect("mark rendered");
            (tag.to_string(), i)
        })
        .collect()
}

/// The invariants after a kill (or after a completed run). Returns the
/// number of applied migrations.
fn check(db: &Db, set: &MigrationSet, dialect: Dialect, trial: &str) -> u32 {
    let history = db.history();
    let applied = history.iter().filter(|(_, s, _)| s == "applied").count() as u32;
    let partial: Vec<&(u32, String, usize)> =
        history.iter().filter(|(_, s, _)| s != "applied").collect();
    for (i, (v, s, _)) in history.iter().enumerate() {
        if (i as u32) < applied {
            assert_eq!(
                (*v, s.as_str()),
                (i as u32 + 1, "applied"),
                "{trial}: applied migrations are a prefix: {history:?}"
            );
        }
    }
    assert!(partial.len() <= 1, "{trial}: {history:?}");
    let mut steps_done = vec![0usize; set.len()];
    for v in 1..=applied {
        steps_done[v as usize - 1] = usize::MAX;
    }
    // The version whose schema the database must have.
    let mut version = applied;
    if let Some((v, state, done)) = partial.first() {
        assert_eq!(state, "partial", "{trial}: {history:?}");
        assert_eq!(
            *v,
            applied + 1,
            "{trial}: the partial row follows the applied ones"
        );
        if dialect.transactional_ddl() {
            assert_eq!(
                *v, 2,
                "{trial}: only the non-transactional migration can be partial"
            );
        }
        steps_done[*v as usize - 1] = *done;
        // 0002's first operation creates `profiles`.
        let creates = set.render(dialect, 2, Direction::Up).expect("renders")[0].len();
        if *v == 2 && *done >= creates {
            version = 2;
        }
    }
    let mut conn = db.connect();
    let live = introspect::schema(&mut conn).expect("introspects");
    match partial.first() {
        Some((v, _, _)) if !dialect.transactional_ddl() => {
            // MySQL commits each DDL statement by itself, so a migration
            // killed midway has some of its tables: those of the version
            // before it exactly, and no table the migration does not
            // create (the statement-level check is the marks' below).
            let before =
                introspect::expected(&mut conn, &set.state(*v as usize - 1)).expect("expected");
            let after = set.state(*v as usize);
            for (name, t) in &before.tables {
                assert_eq!(
                    live.schema.tables.get(name),
                    Some(t),
                    "{trial}: table {name} of version {} (history {history:?})",
                    v - 1
                );
            }
            for name in live.schema.tables.keys() {
                assert!(
                    after.tables.contains_key(name),
                    "{trial}: table {name} is not in version {v} (history {history:?})"
                );
            }
        }
        _ => {
            let want =
                introspect::expected(&mut conn, &set.state(version as usize)).expect("expected");
            assert_eq!(
                live.schema, want,
                "{trial}: the schema is that of version {version} (history {history:?})"
            );
        }
    }
    let marks = db.marks();
    for v in 1..=set.len() as u32 {
        for (tag, step) in mark_steps(set, dialect, v) {
            let want = u32::from(step < steps_done[v as usize - 1]);
            let have = marks.iter().find(|(t, _)| *t == tag).map_or(0, |(_, n)| *n);
            assert_eq!(
                have, want,
                "{trial}: mark {tag} (migration {v}, step {step}) ran {have} time(s) but the history records {} step(s) done: {history:?}",
                steps_done[v as usize - 1].min(999)
            );
        }
    }
    applied
}

fn up_completes(p: &TestProject, db: &Db, set: &MigrationSet, dialect: Dialect, trial: &str) {
    let o = command(p.root(), &db.url(), &["up"])
        .output()
        .expect("runs");
    assert!(
        o.status.success(),
        "{trial}: up after the kill:\n{}",
        text(&o)
    );
    assert_eq!(check(db, set, dialect, trial), 3, "{trial}");
}

/// Kills `migrator up` of project `p` at random moments: `trials()` kills
/// in all, chained up to three on one fresh database (each run resuming
/// the previous one's work). After each kill `after_kill(db, trial)`
/// checks the database and returns whether everything is applied (which
/// ends the chain); after each chain `complete(db, trial)` runs an
/// uninterrupted `up` and checks it. The delays are drawn below the time
/// one uninterrupted run takes, measured first with `complete`. Returns the
/// number of kills.
fn kill_chains(
    p: &TestProject,
    fresh: impl Fn() -> Db,
    mut after_kill: impl FnMut(&Db, &str) -> bool,
    complete: impl Fn(&Db, &str),
) -> usize {
    let mut rng = Rng::new();
    // How long an uninterrupted run takes, process start included.
    let calibration = fresh();
    let started = Instant::now();
    complete(&calibration, "calibration");
    let full = started.elapsed();
    drop(calibration);
    let total = trials();
    let mut kills = 0;
    while kills < total {
        let db = fresh();
        for _ in 0..3 {
            if kills == total {
                break;
            }
            kills += 1;
            let delay = Duration::from_micros(rng.below(full.as_micros() as u64));
            kill_up_after(p, &db, delay);
            if after_kill(&db, &format!("trial {kills}")) {
                break;
            }
        }
        complete(&db, &format!("after trial {kills}"));
    }
    kills
}

fn harness(dialect: Dialect, fresh: impl Fn() -> Db) {
    let p = project();
    let set = p.set();
    let (mut mid, mut partial) = (0, 0);
    let started = Instant::now();
    let kills = kill_chains(
        &p,
        fresh,
        |db, trial| {
            let applied = check(db, &set, dialect, trial);
            let history = db.history();
            if !history.is_empty() && applied < 3 {
                mid += 1;
            }
            if history.iter().any(|(_, s, _)| s == "partial") {
                partial += 1;
            }
            applied == 3
        },
        |db, trial| up_completes(&p, db, &set, dialect, trial),
    );
    eprintln!(
        "{dialect}: {kills} kill(s), {mid} left the database between versions ({partial} inside the step-by-step migration), all consistent and completed; {:.1} s",
        started.elapsed().as_secs_f64()
    );
}

fn raw_harness(dialect: Dialect, fresh: impl Fn() -> Db) {
    let p = raw_project(dialect);
    let mut mid = 0;
    let kills = kill_chains(
        &p,
        fresh,
        |db, trial| {
            let k = check_raw(db, trial);
            if k > 0 && k < RAW_MIGRATIONS {
                mid += 1;
            }
            k == RAW_MIGRATIONS
        },
        |db, trial| {
            let o = command(p.root(), &db.url(), &["up"])
                .output()
                .expect("runs");
            assert!(o.status.success(), "{trial}: up:\n{}", text(&o));
            assert_eq!(check_raw(db, trial), RAW_MIGRATIONS, "{trial}");
        },
    );
    eprintln!(
        "{dialect} (hand-written migrations, grouped/pipelined): {kills} kill(s), {mid} left the database between migrations, all consistent and completed"
    );
}

#[test]
fn sigkill_during_grouped_up_on_sqlite() {
    raw_harness(Dialect::Sqlite, Db::sqlite);
}

#[test]
fn sigkill_during_pipelined_up_on_postgres() {
    let Some(base) = pg_base_url() else { return };
    raw_harness(Dialect::Postgres, || {
        Db::Pg(PgDb::create(&base, "crashraw"))
    });
}

#[test]
fn sigkill_during_up_on_sqlite() {
    harness(Dialect::Sqlite, Db::sqlite);
}

#[test]
fn sigkill_during_up_on_postgres() {
    let Some(base) = pg_base_url() else { return };
    harness(Dialect::Postgres, || Db::Pg(PgDb::create(&base, "crash")));
}

#[cfg(feature = "mysql")]
#[test]
fn sigkill_during_up_on_mysql() {
    let Some(base) = common::mysql_base_url() else {
        return;
    };
    harness(Dialect::Mysql, || {
        Db::My(common::MyDb::create(&base, "crash"))
    });
}
