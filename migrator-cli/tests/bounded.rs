//! Never waits unbounded: every command that connects, against each kind
//! of lock a database offers another session, gives up within its
//! `--lock-timeout` (here 1 s), exits 1 naming what it waited for and the
//! other session without its SQL's literals, and leaves the history and
//! the data as they were.
//!
//! A hang must fail rather than block CI: each command runs as a child
//! process killed after [`GUARD`] (a hang guard, far above the bound, not
//! a speed test).
//!
//! - PostgreSQL: ACCESS EXCLUSIVE on `_migrator_history` held in an open
//!   transaction (`up`, `down`, `status`); ACCESS EXCLUSIVE on a modelled
//!   table (`verify`, `up --backup`, whose `pg_dump` waits for it, and
//!   `init --from-database` of an unmanaged database); a row lock (another session's uncommitted history row for
//!   the migration `up` applies).
//! - MariaDB: `LOCK TABLES _migrator_history WRITE`, and a metadata lock
//!   (an open transaction that read the history, an ALTER TABLE queued
//!   behind it) (`up`, `down`, `status`). Introspection reads
//!   `information_schema`, whose metadata locks are granted over both, so
//!   `verify` and `init --from-database` under `LOCK TABLES .. WRITE` on a
//!   modelled table must simply finish. `FLUSH TABLES WITH READ LOCK` is
//!   left out: it is server-wide and would stall every other suite
//!   running against the same server meanwhile.
//! - SQLite: `BEGIN EXCLUSIVE` in another connection (every command).
//!
//! On SQLite always; on PostgreSQL and MariaDB where reachable (mandatory
//! under CI=true).

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{pg_base_url, project, Db, PgDb};
use diesel::connection::SimpleConnection;
use diesel::Connection;

/// The bound every command gets.
const BOUND: &str = "1";
/// A command still running after this long hangs: killed, and the test fails.
const GUARD: Duration = Duration::from_secs(20);
/// A literal of the blocking session's SQL that no output may show.
const SECRET: &str = "hunter2-9731";

/// Runs `migrator <args> --lock-timeout 1` against `url` as a child
/// process; returns its exit code and output. Fails the test when the
/// child outlives [`GUARD`].
fn bounded(dir: &Path, url: &str, args: &[&str]) -> (Option<i32>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_migrator"))
        .arg("--dir")
        .arg(dir)
        .arg("--database-url")
        .arg(url)
        .args(args)
        .args(["--lock-timeout", BOUND])
        .env_remove("DATABASE_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("migrator starts");
    let started = Instant::now();
    loop {
        if child.try_wait().expect("waits").is_some() {
            break;
        }
        if started.elapsed() > GUARD {
            let _ = child.kill();
            let o = child.wait_with_output().expect("output");
            panic!(
                "migrator {args:?} still waiting after {GUARD:?} under --lock-timeout {BOUND}: it hangs\n{}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let o = child.wait_with_output().expect("output");
    let out = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    (o.status.code(), out)
}

/// `args` must give up: exit 1, naming each of `names`, the bound and the
/// flag, never the blocker's literal.
fn gives_up(dir: &Path, url: &str, args: &[&str], names: &[&str]) -> String {
    let (code, out) = bounded(dir, url, args);
    assert_eq!(code, Some(1), "migrator {args:?} should give up:\n{out}");
    assert!(out.contains("gave up"), "{args:?}:\n{out}");
    assert!(
        out.contains("--lock-timeout"),
        "{args:?}: names the flag:\n{out}"
    );
    for n in names {
        assert!(out.contains(n), "{args:?}: should name {n}:\n{out}");
    }
    assert!(
        !out.contains(SECRET),
        "{args:?}: shows the blocker's literal:\n{out}"
    );
    out
}

/// The project of `common::project()` with 0001 and 0002 applied (0003
/// pending, so `up` has work and `down` has something to roll back).
fn prepared(db: &Db) -> common::support::TestProject {
    let p = project();
    let o = common::migrator_at(p.root(), &db.url(), &["up", "--to", "2"]);
    assert_eq!(o.status.code(), Some(0), "{}", common::text(&o));
    p
}

/// What the commands must leave as it was: the history, the marks, and
/// whether 0003's table exists.
#[derive(Debug, PartialEq)]
struct State {
    history: Vec<(u32, String, usize)>,
    marks: Vec<(String, u32)>,
    posts: bool,
}

fn state(db: &Db) -> State {
    State {
        history: db.history(),
        marks: db.marks(),
        posts: db.has_table("posts"),
    }
}

/// An empty project folder for `init --from-database`, and a check that
/// the refused adoption wrote nothing there.
fn adopt_refused(url: &str, names: &[&str]) {
    let dir = tempfile::tempdir().expect("tempdir");
    gives_up(dir.path(), url, &["init", "--from-database"], names);
    let left: Vec<_> = std::fs::read_dir(dir.path()).expect("dir").collect();
    assert!(left.is_empty(), "a refused adoption wrote {left:?}");
}

#[test]
fn sqlite_exclusive_transaction_bounds_every_command() {
    let db = Db::sqlite();
    let p = prepared(&db);
    let url = db.url();
    let before = state(&db);
    let path = url.trim_start_matches("sqlite://").to_string();
    let mut holder = diesel::SqliteConnection::establish(&path).expect("sqlite");
    holder
        .batch_execute(&format!(
            "BEGIN EXCLUSIVE; INSERT INTO marks (tag) VALUES ('{SECRET}');"
        ))
        .expect("exclusive lock");
    for args in [&["up"][..], &["down"], &["status"]] {
        gives_up(p.root(), &url, args, &["history table", "SQLite"]);
    }
    // Introspection reads the catalog, which the exclusive lock covers too.
    gives_up(p.root(), &url, &["verify"], &["catalog"]);
    adopt_refused(&url, &["history table"]);
    holder.batch_execute("ROLLBACK").expect("release");
    assert_eq!(state(&db), before, "a bounded command changed the database");
}

fn pg_conn(url: &str) -> diesel::PgConnection {
    diesel::PgConnection::establish(url).expect("pg connects")
}

#[test]
fn postgres_table_and_row_locks_bound_every_command() {
    let Some(base) = pg_base_url() else {
        return;
    };
    let pg = PgDb::create(&base, "bounded");
    let db = Db::Pg(pg);
    let p = prepared(&db);
    let url = db.url();
    let before = state(&db);

    // The history table: every command reads it first.
    let mut holder = pg_conn(&url);
    holder
        .batch_execute(&format!(
            "BEGIN; LOCK TABLE _migrator_history IN ACCESS EXCLUSIVE MODE; SELECT '{SECRET}'"
        ))
        .expect("lock");
    for args in [&["up"][..], &["down"], &["status"]] {
        let out = gives_up(
            p.root(),
            &url,
            args,
            &["history table", "AccessExclusiveLock on _migrator_history"],
        );
        assert!(
            out.contains("LOCK TABLE _migrator_history IN ACCESS EXCLUSIVE MODE"),
            "the blocker's statement kind: {out}"
        );
    }
    holder.batch_execute("ROLLBACK").expect("release");
    assert_eq!(state(&db), before);

    // A modelled table (VACUUM FULL, a long ALTER TABLE hold the same).
    holder
        .batch_execute(&format!(
            "BEGIN; LOCK TABLE users IN ACCESS EXCLUSIVE MODE; SELECT '{SECRET}'"
        ))
        .expect("lock");
    gives_up(
        p.root(),
        &url,
        &["verify"],
        &["catalog", "AccessExclusiveLock on users"],
    );
    // `up --backup`: pg_dump's table locks are bounded too.
    let backup = tempfile::tempdir().expect("tempdir");
    let file = backup.path().join("before.dump");
    let (code, out) = bounded(
        p.root(),
        &url,
        &["up", "--backup", file.to_str().expect("utf-8 path")],
    );
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("LOCK TABLE public.users")
            && out.contains("nothing was migrated")
            && out.contains("--lock-timeout"),
        "{out}"
    );
    assert!(!file.exists(), "a failed backup left {}", file.display());
    holder.batch_execute("ROLLBACK").expect("release");
    assert_eq!(state(&db), before);

    // Adoption, of a database no project manages yet.
    let unmanaged = PgDb::create(&base, "bounded_adopt");
    let mut other = pg_conn(&unmanaged.url);
    other
        .batch_execute("CREATE TABLE users (id BIGINT PRIMARY KEY, name TEXT NOT NULL)")
        .expect("table");
    other
        .batch_execute(&format!(
            "BEGIN; LOCK TABLE users IN ACCESS EXCLUSIVE MODE; SELECT '{SECRET}'"
        ))
        .expect("lock");
    adopt_refused(&unmanaged.url, &["catalog", "AccessExclusiveLock on users"]);
    other.batch_execute("ROLLBACK").expect("release");

    // `--statement-lock-timeout-ms 0` turns the migration's own timeout
    // off: its statements then wait as long as the session's bound, not
    // forever. 0003 marks in `marks`, held here.
    holder
        .batch_execute(&format!(
            "BEGIN; LOCK TABLE marks IN ACCESS EXCLUSIVE MODE; SELECT '{SECRET}'"
        ))
        .expect("lock");
    let (code, out) = bounded(
        p.root(),
        &url,
        &[
            "up",
            "--statement-lock-timeout-ms",
            "0",
            "--lock-retries",
            "1",
        ],
    );
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("gave up after 1 attempt(s)") && out.contains("AccessExclusiveLock on marks"),
        "{out}"
    );
    assert!(!out.contains(SECRET), "{out}");
    holder.batch_execute("ROLLBACK").expect("release");
    assert_eq!(state(&db), before);

    // A row lock: another session's uncommitted history row for 0003
    // (a second tool, a hand-made insert); `up` applies 0003 and waits to
    // write the same key, then rolls the migration back.
    holder
        .batch_execute(&format!(
            "BEGIN; INSERT INTO _migrator_history (version, name, checksum, applied_at, execution_ms, tool_version, state, steps_done) \
             VALUES (3, '{SECRET}', 'x', 'x', 0, 'x', 'partial', 0)"
        ))
        .expect("row lock");
    let out = gives_up(
        p.root(),
        &url,
        &["up"],
        &[
            "writing the history row",
            "RowExclusiveLock on _migrator_history",
            "INSERT INTO _migrator_history",
        ],
    );
    assert!(out.contains("--statement-lock-timeout-ms"), "{out}");
    holder.batch_execute("ROLLBACK").expect("release");
    assert_eq!(state(&db), before);
}

#[cfg(feature = "mysql")]
#[test]
fn mariadb_table_and_metadata_locks_bound_every_command() {
    use common::{mysql_base_url, MyDb};
    let Some(base) = mysql_base_url() else {
        return;
    };
    let my = MyDb::create(&base, "bounded");
    let db = Db::My(my);
    let p = prepared(&db);
    let url = db.url();
    let before = state(&db);
    let my_conn = || diesel::MysqlConnection::establish(&url).expect("mysql connects");

    let mut holder = my_conn();
    holder
        .batch_execute(&format!(
            "LOCK TABLES _migrator_history WRITE; SELECT '{SECRET}' FROM _migrator_history LIMIT 1"
        ))
        .expect("lock tables");
    for args in [&["up"][..], &["down"], &["status"]] {
        gives_up(p.root(), &url, args, &["history table", "connection "]);
    }
    holder.batch_execute("UNLOCK TABLES").expect("release");
    assert_eq!(state(&db), before);

    // A metadata lock: an open transaction has read the history table, an
    // ALTER TABLE waits for it to end, and every other statement on the
    // table queues behind the ALTER (a long migration elsewhere, an
    // online schema change tool).
    holder
        .batch_execute(&format!(
            "BEGIN; SELECT COUNT(*) FROM _migrator_history WHERE name <> '{SECRET}'"
        ))
        .expect("transaction");
    let alter_url = url.clone();
    let alter = std::thread::spawn(move || {
        let mut c = diesel::MysqlConnection::establish(&alter_url).expect("mysql connects");
        c.batch_execute("SET SESSION lock_wait_timeout = 10")
            .expect("bound");
        c.batch_execute("ALTER TABLE _migrator_history COMMENT = 'queued'")
    });
    std::thread::sleep(Duration::from_millis(300));
    for args in [&["up"][..], &["down"], &["status"]] {
        gives_up(p.root(), &url, args, &["history table", "connection "]);
    }
    holder.batch_execute("ROLLBACK").expect("release");
    alter
        .join()
        .expect("thread")
        .expect("the ALTER ran once released");
    my_conn()
        .batch_execute("ALTER TABLE _migrator_history COMMENT = ''")
        .expect("undo");
    assert_eq!(state(&db), before);

    // Introspection reads `information_schema`, whose metadata locks are
    // granted over `LOCK TABLES .. WRITE` and queued ALTERs: `verify`
    // and adoption do not wait for them, and finish (the hang guard).
    holder
        .batch_execute("LOCK TABLES users WRITE")
        .expect("lock tables");
    let (code, out) = bounded(p.root(), &url, &["verify"]);
    // 0003 is pending: compared with the schema as of 0002, and clean.
    assert!(
        out.contains("ok: ") && out.contains("as of 0002") && code == Some(0),
        "{out}"
    );
    // `up --backup`: mysqldump has no lock-wait bound of its own; its
    // session is watched and stopped after --lock-timeout, nothing run.
    let backup = tempfile::tempdir().expect("tempdir");
    let file = backup.path().join("before.sql");
    let (code, out) = bounded(
        p.root(),
        &url,
        &["up", "--backup", file.to_str().expect("utf-8 path")],
    );
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("waited longer than --lock-timeout")
            && out.contains("nothing was migrated")
            && !out.contains("applying"),
        "{out}"
    );
    assert!(!file.exists(), "a failed backup left {}", file.display());
    assert_eq!(state(&db), before);
    let unmanaged = MyDb::create(&base, "bounded_adopt");
    let mut other = diesel::MysqlConnection::establish(&unmanaged.url).expect("mysql");
    other
        .batch_execute("CREATE TABLE t (id BIGINT PRIMARY KEY); LOCK TABLES t WRITE")
        .expect("lock tables");
    let dir = tempfile::tempdir().expect("tempdir");
    let (code, out) = bounded(dir.path(), &unmanaged.url, &["init", "--from-database"]);
    assert_eq!(code, Some(0), "{out}");
    other.batch_execute("UNLOCK TABLES").expect("release");
    holder.batch_execute("UNLOCK TABLES").expect("release");
    assert_eq!(state(&db), before);
}

/// MariaDB drops the connection on a statement over `max_allowed_packet`
/// ("server has gone away"), mid-migration. The runner compares every
/// pending statement with the server's limit first: the run is refused
/// naming the migration, the statement, its size and the limit, with
/// nothing of it run. A statement over 1 KiB but under the limit runs.
#[cfg(feature = "mysql")]
#[test]
fn mariadb_statement_over_max_allowed_packet_is_refused_before_anything_runs() {
    use common::support::TestProject;
    use common::{mysql_base_url, MyDb};
    use migrator_core::runner::MigrationConnection;
    let Some(base) = mysql_base_url() else {
        return;
    };
    let my = MyDb::create(&base, "packet");
    let limit: usize = my
        .connect()
        .query_texts("SELECT CAST(@@max_allowed_packet AS CHAR) AS s")
        .expect("reads the limit")[0]
        .parse()
        .expect("a number");
    let create = format!(
        "CREATE TABLE big (v LONGTEXT) COMMENT '{}'",
        "c".repeat(1500)
    );
    let insert = format!("INSERT INTO big (v) VALUES ('{}')", "x".repeat(limit));
    let p = TestProject::new();
    p.raw_migrations(&[
        ("create_big", &[(create.as_str(), "DROP TABLE big")]),
        ("fill_big", &[(insert.as_str(), "DELETE FROM big")]),
    ]);
    let db = Db::My(my);
    let url = db.url();
    let (code, out) = bounded(p.root(), &url, &["up", "--to", "1"]);
    assert_eq!(code, Some(0), "a statement under the limit runs: {out}");
    let (code, out) = bounded(p.root(), &url, &["up"]);
    assert_eq!(code, Some(1), "{out}");
    for part in [
        "migration 0002_fill_big: statement 1 is".to_string(),
        format!("{} bytes", insert.len()),
        format!("max_allowed_packet of {limit} bytes"),
        "nothing was run".to_string(),
        "split the statement".to_string(),
    ] {
        assert!(out.contains(&part), "should say {part:?}:\n{out}");
    }
    assert!(!out.contains("gone away"), "{out}");
    assert_eq!(
        db.history(),
        vec![(1, "applied".to_string(), 1)],
        "0002 was not started"
    );
    let rows = db.rows("SELECT CAST(COUNT(*) AS CHAR) AS a, '' AS b, '' AS c, '' AS d FROM big");
    assert_eq!(rows[0].a, "0", "nothing of 0002 ran");
}
