//! `migrator purge` as a user runs it, and what `generate` and `sql` show of
//! a kept drop: a generated migration that drops a column names its archive
//! in the file, in generate's output and in `migrator sql`; after `up` the
//! archive is listed by `purge` (nothing dropped), dropped by `purge --yes`;
//! `down` then still succeeds on a table with rows. Through the binary on
//! SQLite and PostgreSQL (the archive SQL of every database, MariaDB
//! included, runs in `tests/db/keep.rs`).

mod common;

use common::{migrator_at, ok_at, pg_base_url, text, PgDb};
use diesel::Connection;
use migrator_core::runner::MigrationConnection;

const V1: &str = r#"
use migrator::Model;

#[derive(Model)]
#[model(table = "tasks")]
pub struct Task {
    #[model(primary_key, auto_increment)]
    pub id: i64,
    pub is_high_priority: bool,
}
"#;

const V2: &str = r#"
use migrator::Model;

#[derive(Model)]
#[model(table = "tasks")]
pub struct Task {
    #[model(primary_key, auto_increment)]
    pub id: i64,
}
"#;

const ARCHIVE: &str = "_migrator_archive_0002_tasks__is_high_priority";

#[test]
fn sqlite_purge_lists_then_drops_the_archives() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("app.db").display().to_string();
    let conn = || diesel::sqlite::SqliteConnection::establish(&path).expect("connects");
    let hold = |on: bool| conn().execute(&lock_row_sql(on)).expect("lock row");
    purge_flow(dir.path(), &format!("sqlite://{path}"), conn, hold);
}

#[test]
fn postgres_purge_lists_then_drops_the_archives() {
    let Some(base) = pg_base_url() else {
        return;
    };
    let db = PgDb::create(&base, "teampurge");
    let dir = tempfile::tempdir().expect("tempdir");
    let conn = || diesel::pg::PgConnection::establish(&db.url).expect("connects");
    let hold = |on: bool| conn().execute(&lock_row_sql(on)).expect("lock row");
    purge_flow(dir.path(), &db.url, conn, hold);
}

/// `purge --yes` takes the runner's lock: while another session holds it,
/// it waits, gives up after `--lock-timeout` naming the lock, and drops
/// nothing; once the lock is free it drops the archive.
#[test]
fn postgres_purge_waits_for_the_runner_lock() {
    let Some(base) = pg_base_url() else {
        return;
    };
    let db = PgDb::create(&base, "purgelock");
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    std::fs::create_dir_all(d.join("src")).expect("src");
    std::fs::write(d.join("src/models.rs"), V1).expect("models");
    ok_at(d, &db.url, &["init"]);
    ok_at(d, &db.url, &["generate", "create"]);
    std::fs::write(d.join("src/models.rs"), V2).expect("models");
    ok_at(d, &db.url, &["generate", "drop_flag"]);
    ok_at(d, &db.url, &["up", "--allow", "destructive-drop"]);
    let mut conn = diesel::pg::PgConnection::establish(&db.url).expect("connects");
    // A live runner (this test's process, on this host) holds the lock row.
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "unknown-host".into());
    conn.execute(&format!(
        "INSERT INTO _migrator_lock (id, owner, expires_at) VALUES (1, '{host} pid {} test', 9999999999)",
        std::process::id()
    ))
    .expect("holds the lock");
    let args = ["purge", "--yes", "--lock-timeout", "0.5"];
    let o = migrator_at(d, &db.url, &args);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(
        t.contains("waiting for the migration lock row") && t.contains("giving up after 0.5 s"),
        "{t}"
    );
    assert_eq!(
        migrator_core::runner::archive::list(&mut conn).expect("list"),
        [ARCHIVE],
        "nothing dropped while the lock is held"
    );
    conn.execute("DELETE FROM _migrator_lock")
        .expect("releases");
    let out = ok_at(d, &db.url, &args);
    assert!(out.contains(&format!("dropped: {ARCHIVE}")), "{out}");
}

/// The runner's lock row, taken (`on`) as a live runner of this host holds
/// it (this test's own pid), or let go.
fn lock_row_sql(on: bool) -> String {
    if on {
        format!(
            "INSERT INTO _migrator_lock (id, owner, expires_at) VALUES (1, '{} pid {} test', 9999999999)",
            hostname(),
            std::process::id()
        )
    } else {
        "DELETE FROM _migrator_lock".to_string()
    }
}

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_else(|_| "unknown-host".into())
}

/// `hold(true)` takes the runner's lock as another runner would,
/// `hold(false)` lets it go.
fn purge_flow<C: MigrationConnection>(
    d: &std::path::Path,
    url: &str,
    connect: impl Fn() -> C,
    hold: impl Fn(bool),
) {
    let url = url.to_string();
    std::fs::create_dir_all(d.join("src")).expect("src");
    std::fs::write(d.join("src/models.rs"), V1).expect("models");
    ok_at(d, &url, &["init"]);
    ok_at(d, &url, &["generate", "create"]);
    std::fs::write(d.join("src/models.rs"), V2).expect("models");
    let out = ok_at(d, &url, &["generate", "drop_flag"]);
    assert!(
        out.contains(ARCHIVE) && out.contains("migrator purge"),
        "{out}"
    );
    // The lint finding names the archive too.
    assert!(
        out.contains("error[destructive-drop]: ") && out.contains(&format!("(kept in {ARCHIVE})")),
        "{out}"
    );
    let file = std::fs::read_to_string(d.join("migrations/0002_drop_flag.toml")).expect("file");
    assert!(file.contains(&format!("archive = \"{ARCHIVE}\"")), "{file}");
    assert!(file.contains("fill"), "{file}");
    let sql = ok_at(d, &url, &["sql", "2", "--dialect", "sqlite"]);
    assert!(sql.contains(ARCHIVE), "{sql}");
    let sql = ok_at(d, &url, &["sql", "2", "--dialect", "sqlite", "--down"]);
    assert!(
        sql.contains("UPDATE \"tasks\" SET \"is_high_priority\""),
        "{sql}"
    );

    ok_at(d, &url, &["up", "--to", "1"]);
    let mut db = connect();
    db.execute("INSERT INTO tasks (id, is_high_priority) VALUES (1, TRUE), (2, FALSE)")
        .expect("rows");
    ok_at(d, &url, &["up", "--allow", "destructive-drop"]);
    // With its archive the downgrade restores the values and notes nothing.
    let o = migrator_at(d, &url, &["down"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(!text(&o).contains("note:"), "{}", text(&o));
    assert_eq!(
        db.count_rows("SELECT 1 FROM tasks WHERE is_high_priority = TRUE")
            .expect("count"),
        1
    );
    ok_at(d, &url, &["up", "--allow", "destructive-drop"]);

    let o = migrator_at(d, &url, &["purge"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        text(&o).contains(&format!("kept: {ARCHIVE}")),
        "{}",
        text(&o)
    );
    assert!(text(&o).contains("--yes"), "{}", text(&o));
    assert_eq!(
        migrator_core::runner::archive::list(&mut db).expect("list"),
        [ARCHIVE],
        "listing drops nothing"
    );

    // Another runner holds the lock (a migration may be restoring from an
    // archive): purge waits for it, gives up, and drops nothing.
    hold(true);
    let o = migrator_at(d, &url, &["purge", "--yes", "--lock-timeout", "1"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("timed out after 1 s"), "{}", text(&o));
    assert_eq!(
        migrator_core::runner::archive::list(&mut db).expect("list"),
        [ARCHIVE],
        "nothing dropped"
    );
    hold(false);

    let o = migrator_at(d, &url, &["purge", "--yes"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        text(&o).contains(&format!("dropped: {ARCHIVE}")),
        "{}",
        text(&o)
    );
    assert!(migrator_core::runner::archive::list(&mut db)
        .expect("list")
        .is_empty());
    let o = migrator_at(d, &url, &["purge"]);
    assert!(text(&o).contains("no archives"), "{}", text(&o));

    // The downgrade succeeds on a table with rows, filled by the stated
    // rule, and says what it could not bring back.
    let o = migrator_at(d, &url, &["down"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        text(&o).contains(&format!(
            "0002_drop_flag: note: `tasks.is_high_priority` comes back without its values: its archive `{ARCHIVE}` is missing (purged, or never made); its rows get the fill false"
        )),
        "{}",
        text(&o)
    );
    assert_eq!(
        db.count_rows("SELECT 1 FROM tasks WHERE is_high_priority = FALSE")
            .expect("count"),
        2
    );
}
