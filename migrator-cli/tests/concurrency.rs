//! One runner at a time, with real processes: 16 `migrator up` started
//! together (application replicas booting at once) on SQLite and on
//! PostgreSQL, with the advisory lock and with the lock table; a runner
//! waiting for a held lock says what it waits for and gives up after
//! `--lock-timeout`.

mod common;

use std::process::Child;

use common::{
    check_raw, command, pg_base_url, project, raw_project, text, Db, PgDb, MARKS, RAW_MIGRATIONS,
};

const RUNNERS: usize = 16;

/// Starts `RUNNERS` processes of `migrator <args>` at once and waits for
/// all of them.
fn all_at_once(root: &std::path::Path, url: &str, args: &[&str]) -> Vec<std::process::Output> {
    let children: Vec<Child> = (0..RUNNERS)
        .map(|_| {
            command(root, url, args)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawns")
        })
        .collect();
    children
        .into_iter()
        .map(|c| c.wait_with_output().expect("waits"))
        .collect()
}

/// Starts 16 `up` at once, waits for all, and checks that each migration
/// ran exactly once: every process exits 0, the "applied" counts add up to
/// 3, history has 3 applied rows, and every mark is there once.
fn sixteen_runners(db: &Db, extra: &[&str]) {
    let p = project();
    let url = db.url();
    let mut args = vec!["up"];
    args.extend_from_slice(extra);
    let mut applied = 0;
    let mut waited = 0;
    for o in all_at_once(p.root(), &url, &args) {
        let t = text(&o);
        assert!(o.status.success(), "a runner failed:\n{t}");
        let n: usize = t
            .lines()
            .find_map(|l| l.strip_suffix(" migration(s) applied"))
            .expect("a summary line")
            .parse()
            .expect("a count");
        applied += n;
        waited += usize::from(t.contains("waiting for the migration lock"));
    }
    assert_eq!(applied, 3, "each migration applied by exactly one runner");
    eprintln!("{RUNNERS} runners {extra:?}: {waited} reported waiting");
    let history: Vec<(u32, String)> = db.history().into_iter().map(|(v, s, _)| (v, s)).collect();
    assert_eq!(
        history,
        (1..=3)
            .map(|v| (v, "applied".to_string()))
            .collect::<Vec<_>>()
    );
    let expected: Vec<(String, u32)> = {
        let mut all: Vec<(String, u32)> = MARKS
            .iter()
            .flat_map(|m| m.iter())
            .map(|t| (t.to_string(), 1))
            .collect();
        all.sort();
        all
    };
    assert_eq!(db.marks(), expected, "every step ran exactly once");
    // The lock is released: a later run takes it at once.
    let o = command(p.root(), &url, &["up", "--lock-timeout", "0"])
        .args(extra)
        .output()
        .expect("runs");
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("nothing to do"), "{}", text(&o));
}

/// The same with the ten hand-written migrations of `raw_project`, which
/// go through SQLite's commit groups and PostgreSQL's pipelined batches.
fn sixteen_runners_raw(db: &Db, dialect: migrator_core::dialect::Dialect) {
    let p = raw_project(dialect);
    let mut applied = 0;
    for o in all_at_once(p.root(), &db.url(), &["up"]) {
        let t = text(&o);
        assert!(o.status.success(), "a runner failed:\n{t}");
        applied += t
            .lines()
            .find_map(|l| l.strip_suffix(" migration(s) applied"))
            .map_or(0, |n| n.parse::<u32>().expect("a count"));
    }
    assert_eq!(
        applied, RAW_MIGRATIONS,
        "each applied by exactly one runner"
    );
    assert_eq!(check_raw(db, "16 runners"), RAW_MIGRATIONS);
}

#[test]
fn sixteen_processes_on_sqlite_grouped() {
    sixteen_runners_raw(&Db::sqlite(), migrator_core::dialect::Dialect::Sqlite);
}

#[test]
fn sixteen_processes_on_postgres_pipelined() {
    let Some(base) = pg_base_url() else { return };
    sixteen_runners_raw(
        &Db::Pg(PgDb::create(&base, "conc_raw")),
        migrator_core::dialect::Dialect::Postgres,
    );
}

#[test]
fn sixteen_processes_on_sqlite() {
    sixteen_runners(&Db::sqlite(), &[]);
}

#[test]
fn sixteen_processes_on_postgres_advisory_lock() {
    let Some(base) = pg_base_url() else { return };
    sixteen_runners(&Db::Pg(PgDb::create(&base, "conc_adv")), &[]);
}

#[test]
fn sixteen_processes_on_postgres_lock_table() {
    let Some(base) = pg_base_url() else { return };
    let db = Db::Pg(PgDb::create(&base, "conc_tab"));
    sixteen_runners(&db, &["--lock-mode", "table"]);
    assert!(db.has_table("_migrator_lock"));
    assert!(
        db.rows("SELECT owner AS a, '' AS b, '' AS c, '' AS d FROM _migrator_lock")
            .is_empty(),
        "the lock row is released"
    );
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "unknown-host".into())
}

/// A lock row held by a live process (this test) makes `up` wait, say so
/// and time out with nothing done; a row left by a dead process on this
/// host is taken over at once.
fn held_lock_row(db: &Db, extra: &[&str]) {
    let p = project();
    let url = db.url();
    // Create the lock table the way the runner does, by running nothing
    // (`up` with nothing pending returns before locking). `down` does not
    // create an SQLite file: the library's `connect` does.
    drop(db.connect());
    let o = command(p.root(), &url, &["down", "--to", "0"])
        .args(extra)
        .output()
        .expect("runs");
    assert!(o.status.success(), "{}", text(&o));
    let exec = |sql: &str| db.connect().execute(sql).expect("executes");
    exec(&format!(
        "INSERT INTO _migrator_lock (id, owner, expires_at) VALUES (1, '{} pid {} test', 9999999999)",
        hostname(),
        std::process::id()
    ));
    let started = std::time::Instant::now();
    let o = command(p.root(), &url, &["up", "--lock-timeout", "1"])
        .args(extra)
        .output()
        .expect("runs");
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(
        t.contains(
            "waiting for the migration lock row in `_migrator_lock`, held by another runner: "
        ) && t.contains(&format!("pid {} test", std::process::id()))
            && t.contains("giving up after 1 s"),
        "{t}"
    );
    assert!(t.contains("timed out after 1 s"), "{t}");
    assert!(started.elapsed() >= std::time::Duration::from_secs(1));
    assert!(db.marks().is_empty(), "nothing ran");
    // A dead owner on this host: taken over.
    exec("DELETE FROM _migrator_lock");
    exec(&format!(
        "INSERT INTO _migrator_lock (id, owner, expires_at) VALUES (1, '{} pid 4000000000 dead', 9999999999)",
        hostname()
    ));
    let o = command(p.root(), &url, &["up", "--lock-timeout", "1"])
        .args(extra)
        .output()
        .expect("runs");
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("3 migration(s) applied"), "{}", text(&o));
}

#[test]
fn sqlite_waits_for_a_held_lock_row_and_times_out() {
    held_lock_row(&Db::sqlite(), &[]);
}

#[test]
fn postgres_lock_table_waits_for_a_held_row_and_times_out() {
    let Some(base) = pg_base_url() else { return };
    held_lock_row(
        &Db::Pg(PgDb::create(&base, "held_row")),
        &["--lock-mode", "table"],
    );
}

/// `up --lock-timeout 0.5` while another session holds the lock: exit 1,
/// saying what it waited for (`waiting`, with the holder) and that it gave
/// up.
fn gives_up_waiting(p: &common::TestProject, url: &str, waiting: &str) {
    gives_up_waiting_with(p, url, &[], waiting);
}

fn gives_up_waiting_with(p: &common::TestProject, url: &str, extra: &[&str], waiting: &str) {
    let o = command(p.root(), url, &["up", "--lock-timeout", "0.5"])
        .args(extra)
        .output()
        .expect("runs");
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(
        t.contains(waiting) && t.contains("giving up after 0.5 s"),
        "{t}"
    );
}

#[test]
fn postgres_waits_for_the_advisory_lock_and_times_out() {
    use diesel::connection::SimpleConnection;
    use diesel::Connection;
    let Some(base) = pg_base_url() else { return };
    let pg = PgDb::create(&base, "held_adv");
    let url = pg.url.clone();
    let p = project();
    let mut holder = diesel::pg::PgConnection::establish(&url).expect("connects");
    holder
        .batch_execute(
            "SET application_name = 'holder_test'; SELECT pg_advisory_lock(7883946363647717234)",
        )
        .expect("locks");
    // The advisory lock is taken with `--lock-mode advisory` (`auto` takes
    // the lock row on PostgreSQL: tests/deploy.rs).
    gives_up_waiting_with(
        &p,
        &url,
        &["--lock-mode", "advisory"],
        "waiting for the migration lock (PostgreSQL advisory lock 7883946363647717234), held by another runner: session pid ",
    );
    let db = Db::Pg(pg);
    assert!(!db.has_table("_migrator_history"), "nothing ran");
    holder
        .batch_execute("SELECT pg_advisory_unlock_all()")
        .expect("unlocks");
    let o = command(p.root(), &url, &["up"]).output().expect("runs");
    assert!(o.status.success(), "{}", text(&o));
}

#[test]
fn bad_lock_flags_are_refused() {
    let db = Db::sqlite();
    let p = project();
    let o = command(p.root(), &db.url(), &["up", "--lock-mode", "row"])
        .output()
        .expect("runs");
    // A usage error from clap, listing the modes.
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("invalid value 'row' for '--lock-mode <MODE>'")
            && text(&o).contains("[possible values: auto, advisory, table]"),
        "{}",
        text(&o)
    );
    let o = command(p.root(), &db.url(), &["down", "--lock-timeout", "soon"])
        .output()
        .expect("runs");
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    // Numbers that once reached a panic (exit 101) or a late refusal.
    for v in ["1e308", "NaN", "inf"] {
        let o = command(p.root(), &db.url(), &["up", "--lock-timeout", v])
            .output()
            .expect("runs");
        assert_eq!(o.status.code(), Some(2), "{v}: {}", text(&o));
    }
    assert!(!db.has_table("_migrator_history"), "nothing ran");
}

#[cfg(feature = "mysql")]
mod mysql {
    use super::*;
    use common::{mysql_base_url, MyDb};

    #[test]
    fn sixteen_processes_on_mysql_get_lock() {
        let Some(base) = mysql_base_url() else { return };
        sixteen_runners(&Db::My(MyDb::create(&base, "conc_adv")), &[]);
    }

    #[test]
    fn sixteen_processes_on_mysql_lock_table() {
        let Some(base) = mysql_base_url() else { return };
        let db = Db::My(MyDb::create(&base, "conc_tab"));
        sixteen_runners(&db, &["--lock-mode", "table"]);
        assert!(db.has_table("_migrator_lock"));
        assert!(
            db.rows(
                "SELECT CAST(owner AS CHAR) AS a, '' AS b, '' AS c, '' AS d FROM _migrator_lock"
            )
            .is_empty(),
            "the lock row is released"
        );
    }

    #[test]
    fn mysql_lock_table_waits_for_a_held_row_and_times_out() {
        let Some(base) = mysql_base_url() else { return };
        held_lock_row(
            &Db::My(MyDb::create(&base, "held_row")),
            &["--lock-mode", "table"],
        );
    }

    #[test]
    fn mysql_waits_for_get_lock_and_times_out() {
        use diesel::connection::SimpleConnection;
        use diesel::Connection;
        let Some(base) = mysql_base_url() else { return };
        let my = MyDb::create(&base, "held_adv");
        let url = my.url.clone();
        let p = project();
        let mut holder = diesel::mysql::MysqlConnection::establish(&url).expect("connects");
        holder
            .batch_execute("DO GET_LOCK(CONCAT('migrator.', DATABASE()), 0)")
            .expect("locks");
        gives_up_waiting(
            &p,
            &url,
            "waiting for the migration lock (GET_LOCK('migrator.<database>')), held by another runner: connection ",
        );
        let db = Db::My(my);
        assert!(!db.has_table("_migrator_history"), "nothing ran");
        // A runner on another database of the same server does not wait.
        let other = Db::My(MyDb::create(&base, "held_adv_other"));
        let o = command(p.root(), &other.url(), &["up", "--lock-timeout", "0.5"])
            .output()
            .expect("runs");
        assert!(o.status.success(), "{}", text(&o));
        holder
            .batch_execute("DO RELEASE_ALL_LOCKS()")
            .expect("unlocks");
        let o = command(p.root(), &url, &["up"]).output().expect("runs");
        assert!(o.status.success(), "{}", text(&o));
        assert!(text(&o).contains("3 migration(s) applied"), "{}", text(&o));
    }
}
