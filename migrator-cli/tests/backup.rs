//! `migrator up --backup PATH`: the backup holds the database as it was
//! before the run and restores; a failing backup stops the run with the
//! database unchanged; the PostgreSQL password never reaches `pg_dump`'s
//! command line. The files' modes, the race and the transport are in
//! `secrets.rs`.

mod common;

use std::path::Path;

use common::{command, pg_base_url, project, text, Db, PgDb};
use migrator_core::introspect;

fn up(root: &Path, db: &Db, args: &[&str]) -> std::process::Output {
    command(root, &db.url(), &["up"])
        .args(args)
        .output()
        .expect("runs")
}

fn versions(db: &Db) -> Vec<u32> {
    db.history().into_iter().map(|(v, _, _)| v).collect()
}

#[test]
fn sqlite_backup_holds_the_schema_before_the_run() {
    let p = project();
    let set = p.set();
    let db = Db::sqlite();
    let o = up(p.root(), &db, &["--to", "1"]);
    assert!(o.status.success(), "{}", text(&o));
    let out_dir = tempfile::tempdir().expect("tempdir");
    let backup = out_dir.path().join("before.db");
    let o = up(
        p.root(),
        &db,
        &["--backup", backup.to_str().expect("utf-8")],
    );
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(
        t.contains("backup written to") && t.contains("sqlite3") && t.contains(".restore"),
        "{t}"
    );
    assert!(t.contains("2 migration(s) applied"), "{t}");
    assert_eq!(versions(&db), vec![1, 2, 3]);
    // The backup is a database at version 1.
    let copy = Db::Sqlite(out_dir);
    let copy_url = format!("sqlite://{}", backup.display());
    let mut conn = migrator_core::runner::connect(&copy_url).expect("opens");
    let live = introspect::schema(&mut conn).expect("introspects");
    let want = introspect::expected(&mut conn, &set.state(1)).expect("expected");
    assert_eq!(live.schema, want);
    drop(conn);
    let o = command(p.root(), &copy_url, &["status"])
        .output()
        .expect("runs");
    assert!(text(&o).contains("2 pending"), "{}", text(&o));
    drop(copy);
    // Nothing pending: no backup.
    let again = p.root().join("again.db");
    let o = up(p.root(), &db, &["--backup", again.to_str().expect("utf-8")]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("no backup taken"), "{}", text(&o));
    assert!(!again.exists());
}

#[test]
fn a_failing_backup_changes_nothing() {
    let p = project();
    let db = Db::sqlite();
    let o = up(p.root(), &db, &["--to", "1"]);
    assert!(o.status.success(), "{}", text(&o));
    let file = match &db {
        Db::Sqlite(d) => d.path().join("app.db"),
        _ => unreachable!("sqlite"),
    };
    let before = std::fs::read(&file).expect("database file");
    // A folder that does not exist, then a file that does.
    let o = up(p.root(), &db, &["--backup", "/nonexistent/dir/b.db"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("cannot create a file in /nonexistent/dir")
            && text(&o).contains("nothing was migrated"),
        "{}",
        text(&o)
    );
    let existing = p.root().join("taken.db");
    std::fs::write(&existing, "x").expect("write");
    let o = up(
        p.root(),
        &db,
        &["--backup", existing.to_str().expect("utf-8")],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("already exists"), "{}", text(&o));
    assert_eq!(std::fs::read(&existing).expect("read"), b"x");
    assert_eq!(versions(&db), vec![1]);
    assert_eq!(std::fs::read(&file).expect("database file"), before);
}

#[test]
fn postgres_backup_restores_into_a_fresh_database() {
    let Some(base) = pg_base_url() else { return };
    let p = project();
    let db = Db::Pg(PgDb::create(&base, "backup"));
    let o = up(p.root(), &db, &["--to", "1"]);
    assert!(o.status.success(), "{}", text(&o));
    let out_dir = tempfile::tempdir().expect("tempdir");
    let dump = out_dir.path().join("before.dump");
    let o = up(p.root(), &db, &["--backup", dump.to_str().expect("utf-8")]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(t.contains("pg_restore"), "{t}");
    assert!(dump.metadata().expect("dump written").len() > 0);
    assert_eq!(versions(&db), vec![1, 2, 3]);
    let fresh = Db::Pg(PgDb::create(&base, "restored"));
    let o = std::process::Command::new("pg_restore")
        .arg("--no-owner")
        .arg("--dbname")
        .arg(fresh.url())
        .arg(&dump)
        .output()
        .expect("pg_restore runs");
    assert!(o.status.success(), "pg_restore: {}", text(&o));
    assert!(fresh.has_table("users") && fresh.has_table("marks"));
    assert!(!fresh.has_table("profiles") && !fresh.has_table("posts"));
    assert_eq!(versions(&fresh), vec![1]);
    assert_eq!(fresh.marks().len(), 2);
}

#[test]
fn pg_dump_gets_the_password_from_the_environment_and_its_failure_stops_the_run() {
    let Some(base) = pg_base_url() else { return };
    let p = project();
    let pg = PgDb::create(&base, "backup_fail");
    let db = Db::Pg(pg);
    let o = up(p.root(), &db, &["--to", "1"]);
    assert!(o.status.success(), "{}", text(&o));
    // A fake pg_dump that records its arguments and environment, then fails.
    let bin = tempfile::tempdir().expect("tempdir");
    let record = bin.path().join("record.txt");
    let script = bin.path().join("pg_dump");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\necho \"ARGS $*\" > '{0}'\necho \"PGPASSWORD=$PGPASSWORD\" >> '{0}'\necho 'pg_dump: error: disk full' >&2\nexit 1\n",
            record.display()
        ),
    )
    .expect("script");
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    }
    // A URL with a password (the test server trusts local connections, so
    // the connection still succeeds).
    let url = db
        .url()
        .replacen("postgres://postgres@", "postgres://postgres:s3cr3t-pw@", 1);
    let path = format!(
        "{}:{}",
        bin.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let o = command(
        p.root(),
        &url,
        &["up", "--backup", "/tmp/never-written.dump"],
    )
    .env("PATH", &path)
    .output()
    .expect("runs");
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(
        t.contains("pg_dump` failed") && t.contains("disk full"),
        "{t}"
    );
    assert!(!t.contains("s3cr3t-pw"), "{t}");
    let recorded = std::fs::read_to_string(&record).expect("fake pg_dump ran");
    let args = recorded.lines().next().unwrap_or_default();
    // The URL without its password, so libpq reads the migration's host,
    // port and TLS settings; the password only in the environment.
    assert!(!args.contains("s3cr3t-pw"), "{recorded}");
    assert!(
        args.contains("--dbname=postgres://postgres@127.0.0.1"),
        "{recorded}"
    );
    assert!(recorded.contains("PGPASSWORD=s3cr3t-pw"), "{recorded}");
    assert_eq!(versions(&db), vec![1], "nothing migrated");
    // Without pg_dump at all: a clear error, nothing migrated.
    without_the_tool(p.root(), &db, &bin.path().join("empty"), "pg_dump");
}

/// `up --backup` with `path` as PATH, where the dump tool is missing: a
/// clear error naming `tool`, and nothing migrated (the database stays at
/// version 1).
fn without_the_tool(root: &Path, db: &Db, path: &Path, tool: &str) {
    let o = command(
        root,
        &db.url(),
        &["up", "--backup", "/tmp/never-written.dump"],
    )
    .env("PATH", path)
    .output()
    .expect("runs");
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains(&format!("`{tool}` was not found on PATH")),
        "{}",
        text(&o)
    );
    assert_eq!(versions(db), vec![1], "nothing migrated");
}

#[cfg(feature = "mysql")]
mod mysql {
    use super::*;
    use common::{mysql_base_url, MyDb, MyUser};

    /// `--host`, `--port` and `--user` of the `mysql` client for `base`
    /// (`mysql://user[:password]@host[:port]`).
    fn client_args(base: &str) -> Vec<String> {
        let rest = base.trim_start_matches("mysql://");
        let (user, host) = rest.split_once('@').expect("user@host");
        let user = user.split(':').next().expect("user");
        let (host, port) = host.split_once(':').unwrap_or((host, "3306"));
        vec![
            format!("--host={host}"),
            format!("--port={port}"),
            format!("--user={user}"),
            "--protocol=TCP".into(),
        ]
    }

    #[test]
    fn mysql_backup_restores_the_database_as_it_was() {
        let Some(base) = mysql_base_url() else { return };
        let p = project();
        let my = MyDb::create(&base, "backup");
        let name = my.name.clone();
        let db = Db::My(my);
        let o = up(p.root(), &db, &["--to", "1"]);
        assert!(o.status.success(), "{}", text(&o));
        let out_dir = tempfile::tempdir().expect("tempdir");
        let dump = out_dir.path().join("before.sql");
        let o = up(p.root(), &db, &["--backup", dump.to_str().expect("utf-8")]);
        let t = text(&o);
        assert!(o.status.success(), "{t}");
        assert!(
            t.contains("backup written to") && t.contains("mysql --host"),
            "{t}"
        );
        assert!(t.contains("2 migration(s) applied"), "{t}");
        assert_eq!(versions(&db), vec![1, 2, 3]);
        let sql = std::fs::read_to_string(&dump).expect("dump written");
        assert!(sql.contains("CREATE TABLE `marks`"), "{sql}");
        // The dump recreates the database under its name: drop it, restore.
        let o = std::process::Command::new("mysql")
            .args(client_args(&base))
            .arg("-e")
            .arg(format!("DROP DATABASE `{name}`"))
            .output()
            .expect("mysql runs");
        assert!(o.status.success(), "{}", text(&o));
        let o = std::process::Command::new("mysql")
            .args(client_args(&base))
            .stdin(std::fs::File::open(&dump).expect("dump"))
            .output()
            .expect("mysql runs");
        assert!(o.status.success(), "restore: {}", text(&o));
        assert!(db.has_table("users") && db.has_table("marks"));
        assert!(!db.has_table("profiles") && !db.has_table("posts"));
        assert_eq!(versions(&db), vec![1]);
        assert_eq!(db.marks().len(), 2);
        let o = command(p.root(), &db.url(), &["status"])
            .output()
            .expect("runs");
        assert!(text(&o).contains("2 pending"), "{}", text(&o));
    }

    #[test]
    fn mysqldump_gets_the_password_from_the_environment_and_its_failure_stops_the_run() {
        let Some(base) = mysql_base_url() else { return };
        let p = project();
        let my = MyDb::create(&base, "backup_fail");
        let account = MyUser::create(&base, &my, "s3cr3t-pw", "s3cr3t-pw");
        let db = Db::My(my);
        let o = up(p.root(), &db, &["--to", "1"]);
        assert!(o.status.success(), "{}", text(&o));
        // Fake dump tools that record their arguments and environment, then
        // fail.
        let bin = tempfile::tempdir().expect("tempdir");
        let record = bin.path().join("record.txt");
        for tool in ["mysqldump", "mariadb-dump"] {
            let script = bin.path().join(tool);
            std::fs::write(
                &script,
                format!(
                    "#!/bin/sh\necho \"ARGS $*\" > '{0}'\necho \"MYSQL_PWD=$MYSQL_PWD\" >> '{0}'\necho '{tool}: Got error: 28: No space left on device' >&2\nexit 2\n",
                    record.display()
                ),
            )
            .expect("script");
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755))
                .expect("chmod");
        }
        let path = format!(
            "{}:{}",
            bin.path().display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let o = command(
            p.root(),
            &account.url,
            &["up", "--backup", "/tmp/never-written.sql"],
        )
        .env("PATH", &path)
        .output()
        .expect("runs");
        let t = text(&o);
        assert_eq!(o.status.code(), Some(1), "{t}");
        assert!(
            t.contains("mysqldump` failed") && t.contains("No space left on device"),
            "{t}"
        );
        assert!(t.contains("nothing was migrated"), "{t}");
        assert!(!t.contains("s3cr3t-pw"), "{t}");
        let recorded = std::fs::read_to_string(&record).expect("fake mysqldump ran");
        let args = recorded.lines().next().unwrap_or_default();
        assert!(
            !args.contains("s3cr3t-pw") && !args.contains("mysql://"),
            "{recorded}"
        );
        assert!(
            args.contains(&format!("--user={}", account.name)),
            "{recorded}"
        );
        assert!(recorded.contains("MYSQL_PWD=s3cr3t-pw"), "{recorded}");
        assert_eq!(versions(&db), vec![1], "nothing migrated");
        assert!(!Path::new("/tmp/never-written.sql").exists());
        // Without either tool: a clear error, nothing migrated.
        without_the_tool(p.root(), &db, &bin.path().join("empty"), "mariadb-dump");
    }
}
