//! `migrator sql` writes a script the database's own client runs as is:
//! piped into `psql -v ON_ERROR_STOP=1`, `mysql` and `sqlite3 -bail` on a
//! fresh database it builds the schema `migrator verify` accepts, a second
//! run changes nothing (the guards are SQL), and the `--down` script takes
//! it back. Where the client cannot express a part (SQLite's guarded
//! statements and table rebuilds), the script says it is not standalone
//! and runs nothing of that migration or the ones after it.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use common::{ok_at, pg_base_url, text, PgDb};

const V1: &str = r#"
use migrator::Model;

#[derive(Model)]
pub struct User {
    #[model(primary_key, auto_increment)]
    pub id: i64,
    #[model(max_length = 100, unique)]
    pub name: String,
}

#[derive(Model)]
pub struct Task {
    #[model(primary_key, auto_increment)]
    pub id: i64,
    #[model(index, foreign_key = "users.id", on_delete = "cascade")]
    pub user_id: i64,
    #[model(max_length = 200)]
    pub title: String,
}
"#;

/// Widens a column, adds a nullable indexed column, a NOT NULL column with
/// a default, a check and a foreign key on an existing table: guarded
/// statements on every database, a concurrent index and validated
/// constraints on PostgreSQL, the restating `MODIFY COLUMN` and the foreign
/// key added in place (a step of three statements) on MySQL.
const V2: &str = r#"
use migrator::Model;

#[derive(Model)]
#[model(check = "score >= 0")]
pub struct User {
    #[model(primary_key, auto_increment)]
    pub id: i64,
    #[model(max_length = 200, unique)]
    pub name: String,
    #[model(index, max_length = 120)]
    pub email: Option<String>,
    #[model(default = 0)]
    pub score: i32,
}

#[derive(Model)]
pub struct Task {
    #[model(primary_key, auto_increment)]
    pub id: i64,
    #[model(index, foreign_key = "users.id", on_delete = "cascade")]
    pub user_id: i64,
    #[model(foreign_key = "users.id")]
    pub reviewer_id: Option<i64>,
    #[model(max_length = 200)]
    pub title: String,
}
"#;

/// V2 without `users.email`: a kept drop (the archive copy, the drop; in
/// the downgrade the column back, its values restored, the archive gone),
/// with guards on every statement.
fn v3() -> String {
    V2.replace(
        "    #[model(index, max_length = 120)]\n    pub email: Option<String>,\n",
        "",
    )
}

fn project(url: &str, versions: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    std::fs::create_dir_all(d.join("src")).expect("src");
    ok_at(d, url, &["init"]);
    for (i, models) in versions.iter().enumerate() {
        std::fs::write(d.join("src/models.rs"), models).expect("models");
        ok_at(d, url, &["generate", &format!("v{}", i + 1)]);
    }
    dir
}

/// `migrator sql ARGS`: the script on stdout, the notes on stderr.
fn script(dir: &Path, url: &str, args: &[&str]) -> (String, String) {
    let o = common::migrator_at(dir, url, &[&["sql"], args].concat());
    assert!(o.status.success(), "{}", text(&o));
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Pipes `sql` into a client; panics with its output when it fails.
fn run_client(program: &str, args: &[&str], sql: &str) {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{program} runs (it ships with the database): {e}"));
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(sql.as_bytes())
        .expect("write script");
    let o = child.wait_with_output().expect("client ends");
    assert!(
        o.status.success(),
        "{program} {args:?} failed on the script:\n{}\n--- script:\n{sql}",
        text(&o)
    );
}

/// Up twice, verify, down, and the tables are gone.
fn round_trip(url: &str, client: &dyn Fn(&str)) {
    let v3 = v3();
    assert_ne!(v3, V2);
    let dir = project(url, &[V1, V2, &v3]);
    let d = dir.path();
    let (up, notes) = script(d, url, &[]);
    assert!(up.starts_with("-- standalone "), "{up}");
    // Literally, or in the hex text the MySQL script prepares.
    let archive = "_migrator_archive_0003_users__email";
    let hex: String = archive.bytes().map(|b| format!("{b:02X}")).collect();
    assert!(up.contains(archive) || up.contains(&hex), "{up}");
    assert!(notes.is_empty(), "{notes}");
    client(&up);
    client(&up);
    let out = ok_at(d, url, &["verify"]);
    assert!(out.contains("ok: "), "{out}");
    let (down, _) = script(d, url, &["--down"]);
    assert!(down.starts_with("-- standalone "), "{down}");
    client(&down);
    let conn_check = migrator_core::runner::connect(url).expect("connects");
    let mut conn_check = conn_check;
    for t in ["users", "tasks"] {
        let exists = match &mut conn_check {
            migrator_core::runner::AnyConnection::Postgres(c) => {
                migrator_core::runner::table_exists(c, t)
            }
            #[cfg(feature = "mysql")]
            migrator_core::runner::AnyConnection::Mysql(c) => {
                migrator_core::runner::table_exists(c, t)
            }
            migrator_core::runner::AnyConnection::Sqlite(c) => {
                migrator_core::runner::table_exists(c, t)
            }
            #[allow(unreachable_patterns)]
            _ => unreachable!(),
        }
        .expect("catalog");
        assert!(!exists, "{t} survived the down script");
    }
    // The same script, after `migrator up`, changes nothing either (the
    // kept drop is a lint error that `up` is told to accept).
    ok_at(d, url, &["up", "--allow", "destructive-drop"]);
    client(&up);
    assert!(ok_at(d, url, &["verify"]).contains("ok: "));
}

#[test]
fn postgres_scripts_run_in_psql() {
    let Some(base) = pg_base_url() else { return };
    let db = PgDb::create(&base, "script");
    let url = db.url.clone();
    let (up, _) = script(project(&url, &[V1, V2]).path(), &url, &[]);
    // The guards are SQL for psql, the concurrent index outside BEGIN.
    assert!(up.contains("\\gexec"), "{up}");
    assert!(up.contains("BEGIN;") && up.contains("COMMIT;"), "{up}");
    round_trip(&url, &|sql| {
        run_client(
            "psql",
            &["-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", &url, "-f", "-"],
            sql,
        )
    });
}

#[cfg(feature = "mysql")]
#[test]
fn mysql_scripts_run_in_the_mysql_client() {
    let Some(base) = common::mysql_base_url() else {
        return;
    };
    let db = common::MyDb::create(&base, "script");
    let url = db.url.clone();
    let (up, _) = script(project(&url, &[V1, V2]).path(), &url, &[]);
    assert!(up.contains("PREPARE migrator_stmt"), "{up}");
    // The client connects as the test URL says (root, no password, TCP).
    let u = migrator_core::database_url::DatabaseUrl::parse(&url).expect("url");
    let host = u.host().unwrap_or("127.0.0.1").to_string();
    let port = u.port().unwrap_or(3306).to_string();
    let user = u.user().unwrap_or("root").to_string();
    round_trip(&url, &|sql| {
        run_client(
            "mysql",
            &[
                "--protocol=TCP",
                "-h",
                &host,
                "-P",
                &port,
                "-u",
                &user,
                &db.name,
            ],
            sql,
        )
    });
}

#[test]
fn sqlite_scripts_run_in_sqlite3_or_say_they_cannot() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("app.db");
    let url = format!("sqlite://{}", file.display());
    let path = file.display().to_string();
    // Tables and indexes only: standalone.
    let p = project(&url, &[V1]);
    let (up, notes) = script(p.path(), &url, &[]);
    assert!(up.starts_with("-- standalone sqlite script"), "{up}");
    assert!(notes.is_empty(), "{notes}");
    run_client("sqlite3", &["-bail", &path], &up);
    run_client("sqlite3", &["-bail", &path], &up);
    assert!(ok_at(p.path(), &url, &["verify"]).contains("ok: "));

    // A widened column (a table rebuild) and guarded ADD COLUMNs: not
    // standalone, said first and on stderr, and nothing of 0002 runs.
    let p = project(&url, &[V1, V2]);
    let (up, notes) = script(p.path(), &url, &[]);
    assert!(up.starts_with("-- NOT STANDALONE for sqlite"), "{up}");
    assert!(
        notes.contains("not standalone") && notes.contains("0002_v2"),
        "{notes}"
    );
    let tail = &up[up.find("-- 0002_v2").expect("0002 is shown")..];
    assert!(
        tail.lines().all(|l| l.is_empty() || l.starts_with("--")),
        "0002 must be comments only:\n{tail}"
    );
    // Piped anyway, it leaves the database at 0001, never half of 0002.
    run_client("sqlite3", &["-bail", &path], &up);
    let out = common::migrator_at(p.path(), &url, &["verify"]);
    let t = text(&out);
    assert!(t.contains("drift:") && t.contains("email"), "{t}");
}

/// A refusal in the script stops the client before anything is lost: the
/// down script of 0002 on MySQL refuses to drop `users.score` while an
/// index made by hand uses it, exactly as `migrator down` would.
#[cfg(feature = "mysql")]
#[test]
fn mysql_script_refusals_stop_the_client() {
    let Some(base) = common::mysql_base_url() else {
        return;
    };
    let db = common::MyDb::create(&base, "refuse");
    let url = db.url.clone();
    let dir = project(&url, &[V1, V2]);
    let d = dir.path();
    ok_at(d, &url, &["up"]);
    let mut c = migrator_core::runner::connect(&url).expect("connects");
    use migrator_core::runner::MigrationConnection;
    c.execute("CREATE INDEX by_hand ON users (score)")
        .expect("index");
    let (down, _) = script(d, &url, &["2", "--down"]);
    let o = {
        let mut child = Command::new("mysql")
            .args(["--protocol=TCP", "-h", "127.0.0.1", "-u", "root", &db.name])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("mysql runs");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(down.as_bytes())
            .expect("write");
        child.wait_with_output().expect("ends")
    };
    assert!(!o.status.success(), "the refusal must stop the client");
    assert!(text(&o).contains("refused: index by_hand"), "{}", text(&o));
    // Nothing after the refusal ran: the column and its index are there.
    let migrator_core::runner::AnyConnection::Mysql(my) = &mut c else {
        unreachable!("a MySQL URL")
    };
    let rows = my
        .count_rows("SELECT 1 FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'users' AND COLUMN_NAME = 'score'")
        .expect("catalog");
    assert_eq!(rows, 1);
}
