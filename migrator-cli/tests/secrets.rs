//! No password in any output: every URL form (the password in the user
//! information, raw and percent-encoded, with `@ / ? # : %` in it; the
//! `password` parameter; `PGPASSWORD`; a libpq keyword string), by
//! `--database-url` and by `DATABASE_URL`, through every command, on a
//! live server with a role that has that password and on a closed port,
//! success and failure paths. Stdout, stderr, every file the run leaves
//! (backups, migrations, models) and their names are searched for the
//! password, as written and percent-encoded. The backups are checked too:
//! mode 0600, no temporary file left, published under the name given; the
//! MySQL dump over the migration's transport (socket, TLS mode), immune to
//! option files.
//!
//! The PostgreSQL test server trusts local connections, so there the
//! password is carried but not checked; the MariaDB user's is checked.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

use common::{pg_base_url, text, PgDb, TestProject};
use diesel::connection::SimpleConnection;
use diesel::Connection;
use migrator_core::database_url::DatabaseUrl;

/// The password: every character a URL treats specially but `&` and `=`.
const PASSWORD: &str = "Sup3r@s/e?c#r:e%t";

/// Percent-encodes every byte but letters and digits.
fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// What must never appear: the password as written, encoded (both hex
/// cases), and fragments of it (a mask that stops at the first `@` or `:`
/// leaves the rest).
fn forbidden() -> Vec<String> {
    vec![
        PASSWORD.to_string(),
        enc(PASSWORD),
        enc(PASSWORD).to_lowercase(),
        "Sup3r".to_string(),
        "c#r:e".to_string(),
        "c%23r".to_string(),
    ]
}

fn assert_clean(what: &str, haystack: &str) {
    for f in forbidden() {
        assert!(
            !haystack.contains(&f),
            "{what} shows the password (`{f}`):\n{haystack}"
        );
    }
}

/// Every file under `dir`, names and contents, is free of the password.
fn assert_files_clean(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let path = e.path();
        assert_clean("a file name", &path.display().to_string());
        if path.is_dir() {
            assert_files_clean(&path);
        } else {
            let bytes = std::fs::read(&path).unwrap_or_default();
            assert_clean(
                &format!("{}", path.display()),
                &String::from_utf8_lossy(&bytes),
            );
        }
    }
}

const NOTES: &str = r#"
use migrator::Model;

#[derive(Model)]
pub struct Note {
    #[model(primary_key, auto_increment)]
    pub id: i64,
    #[model(max_length = 50)]
    pub body: String,
}
"#;

const TAGS: &str = r#"
#[derive(Model)]
pub struct Tag {
    #[model(primary_key, auto_increment)]
    pub id: i64,
    #[model(max_length = 20)]
    pub name: String,
}
"#;

/// Two small migrations (fast to apply and roll back many times).
fn small_project() -> TestProject {
    let p = TestProject::new();
    p.set_models(NOTES);
    p.generate("notes").expect("0001");
    p.set_models(&format!("{NOTES}{TAGS}"));
    p.generate("tags").expect("0002");
    p
}

/// How a URL reaches the binary.
#[derive(Clone, Copy, Debug, PartialEq)]
enum By {
    Flag,
    Env,
}

/// One URL form: the text, extra environment, and what it should do.
struct Form {
    name: &'static str,
    url: String,
    env: Vec<(&'static str, String)>,
    expect: Expect,
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Expect {
    /// Connects; the commands succeed (or fail where the script says).
    Connects,
    /// Reaches no server (closed port, wrong password): exit 1 for every
    /// command that connects.
    Fails,
    /// Not a URL: exit 2 for every command that reads it.
    Usage,
}

fn migrator(dir: &Path, form: &Form, by: By, env: &[(&str, String)], args: &[&str]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_migrator"));
    c.arg("--dir").arg(dir).env_remove("DATABASE_URL");
    for var in ["PGPASSWORD", "MYSQL_PWD"] {
        c.env_remove(var);
    }
    match by {
        By::Flag => {
            c.arg("--database-url").arg(&form.url);
        }
        By::Env => {
            c.env("DATABASE_URL", &form.url);
        }
    }
    for (k, v) in form.env.iter().chain(env) {
        c.env(k, v);
    }
    c.args(args).output().expect("migrator runs")
}

/// The commands, in an order that is valid on a fresh database, with the
/// exit code each gives there: `Some(code)` when it connects and the code
/// is fixed, `None` for the commands that never read the database.
fn script(backup: &str, adopt_dir: &str) -> Vec<(Vec<String>, Option<i32>)> {
    let s = |a: &[&str]| a.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    vec![
        (s(&["status"]), Some(0)),
        (s(&["up", "--dry-run"]), Some(0)),
        (s(&["up", "--to", "1"]), Some(0)),
        // One migration behind: verify compares with the schema as of the
        // applied one, prints the URL and exits 0.
        (s(&["verify"]), Some(0)),
        // The backup holds version 1 (`notes`, no `tags`).
        (s(&["up", "--backup", backup]), Some(0)),
        (s(&["verify"]), Some(0)),
        // A failure after connecting names the database.
        (s(&["up", "--to", "99"]), Some(1)),
        (s(&["down"]), Some(0)),
        (s(&["redo"]), Some(0)),
        (s(&["sql"]), None),
        (s(&["check"]), None),
        (s(&["generate", "nothing_new"]), None),
        (s(&["lint"]), None),
        (s(&["down", "--to", "0"]), Some(0)),
        // Adoption of a database with one hand-made table (the script
        // makes it just before), then of the same one again: refused.
        (s(&["--dir", adopt_dir, "init", "--from-database"]), Some(0)),
        (s(&["--dir", adopt_dir, "init", "--from-database"]), Some(1)),
    ]
}

/// Runs the whole script for `form` given `by` one way, checking every
/// output and exit code. `reset` empties the database and creates the
/// table to adopt; it runs before the adoption step.
fn exercise(
    p: &TestProject,
    form: &Form,
    by: By,
    env: &[(&str, String)],
    reset: &mut dyn FnMut(bool),
    check_backup: &dyn Fn(&Path),
) {
    let label = format!("{} by {by:?}", form.name);
    let out = tempfile::tempdir().expect("tempdir");
    let backup = out
        .path()
        .join(format!("{}-{by:?}.backup", form.name.replace(' ', "_")));
    let adopt = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(adopt.path().join("src")).expect("src");
    if form.expect == Expect::Connects {
        reset(false);
    }
    for (args, code) in script(
        backup.to_str().expect("utf-8"),
        adopt.path().to_str().expect("utf-8"),
    ) {
        let adopting = args.iter().any(|a| a == "--from-database");
        if adopting && form.expect == Expect::Connects && !adopt.path().join("migrations").exists()
        {
            reset(true);
        }
        let mut argv: Vec<&str> = args.iter().map(String::as_str).collect();
        // A script step may name its own project folder.
        let mut dir = p.root();
        if argv[0] == "--dir" {
            dir = Path::new(argv[1]);
            argv.drain(..2);
        }
        let o = migrator(dir, form, by, env, &argv);
        let t = text(&o);
        let what = format!("{label}: migrator {argv:?}");
        assert_clean(&what, &t);
        assert_ne!(o.status.code(), Some(101), "{what} panicked:\n{t}");
        let got = o.status.code();
        match (form.expect, code) {
            (_, None) => {
                // `sql` and `generate` read the URL (for the dialect).
                let reads_url = matches!(argv[0], "sql" | "generate");
                let want = if form.expect == Expect::Usage && reads_url {
                    2
                } else {
                    0
                };
                assert_eq!(got, Some(want), "{what}:\n{t}");
            }
            (Expect::Connects, Some(c)) => {
                assert_eq!(got, Some(c), "{what}:\n{t}");
            }
            (Expect::Fails, Some(_)) => {
                assert_eq!(got, Some(1), "{what}:\n{t}");
                assert!(t.contains("cannot connect to"), "{what}:\n{t}");
                if form.url.contains(&enc(PASSWORD)) || form.url.contains(PASSWORD) {
                    assert!(
                        t.contains(":***@") || t.contains("password=***"),
                        "{what}: the URL masked:\n{t}"
                    );
                }
            }
            (Expect::Usage, Some(_)) => {
                assert_eq!(got, Some(2), "{what}:\n{t}");
                let source = if by == By::Env {
                    "DATABASE_URL: "
                } else {
                    "--database-url: "
                };
                assert!(t.contains(source), "{what}:\n{t}");
            }
        }
        if form.expect == Expect::Connects && argv.contains(&"--backup") {
            assert!(t.contains("backup written to"), "{what}:\n{t}");
            assert!(
                !t.contains("***"),
                "{what}: the restore hint has no mask, no password:\n{t}"
            );
        }
    }
    // Backups: private, published whole under their name, nothing else
    // left in the folder.
    let names: Vec<String> = std::fs::read_dir(out.path())
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    if form.expect == Expect::Connects {
        assert_eq!(names.len(), 1, "{label}: {names:?}");
        let mode = backup.metadata().expect("backup").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{label}: backup mode {mode:o}");
        assert!(backup.metadata().expect("backup").len() > 0, "{label}");
        check_backup(&backup);
    } else {
        assert!(names.is_empty(), "{label}: {names:?}");
    }
    assert_files_clean(out.path());
    assert_files_clean(adopt.path());
    assert_files_clean(p.root());
}

/// A PostgreSQL role with the password and its own database.
struct PgRole {
    admin: diesel::pg::PgConnection,
    name: String,
    db: Option<PgDb>,
}

impl PgRole {
    fn create(base: &str) -> PgRole {
        let db = PgDb::create(base, "secrets");
        let name = format!("migrator_pw_{}", std::process::id());
        let mut admin =
            diesel::pg::PgConnection::establish(&format!("{base}/postgres")).expect("pg admin");
        admin
            .batch_execute(&format!(
                "DROP ROLE IF EXISTS {name}; CREATE ROLE {name} LOGIN PASSWORD '{PASSWORD}'; ALTER DATABASE \"{}\" OWNER TO {name}",
                db.name
            ))
            .expect("creates the role");
        PgRole {
            admin,
            name,
            db: Some(db),
        }
    }

    fn db(&self) -> &PgDb {
        self.db.as_ref().expect("database")
    }
}

impl Drop for PgRole {
    fn drop(&mut self) {
        // The database (and what the role owns there) first.
        drop(self.db.take());
        let _ = self
            .admin
            .batch_execute(&format!("DROP ROLE IF EXISTS {}", self.name));
    }
}

#[test]
fn postgres_passwords_appear_in_no_output() {
    let Some(base) = pg_base_url() else { return };
    let server = DatabaseUrl::parse(&base).expect("base URL");
    let host = server.host().unwrap_or("127.0.0.1").to_string();
    let port = server.port().unwrap_or(5432);
    let role = PgRole::create(&base);
    let (r, d) = (role.name.clone(), role.db().name.clone());
    let p = small_project();
    let forms = |port: u16, expect: Expect| {
        vec![
            Form {
                name: "userinfo encoded",
                url: format!("postgres://{r}:{}@{host}:{port}/{d}", enc(PASSWORD)),
                env: vec![],
                expect,
            },
            Form {
                name: "userinfo raw",
                url: format!("postgresql://{r}:{PASSWORD}@{host}:{port}/{d}"),
                env: vec![],
                expect,
            },
            Form {
                name: "password parameter",
                url: format!(
                    "postgres://{r}@{host}:{port}/{d}?password={}&application_name=secrets",
                    enc(PASSWORD)
                ),
                env: vec![],
                expect,
            },
            Form {
                name: "PGPASSWORD",
                url: format!("postgres://{r}@{host}:{port}/{d}"),
                env: vec![("PGPASSWORD", PASSWORD.to_string())],
                expect,
            },
        ]
    };
    let mut all = forms(port, Expect::Connects);
    all.extend(forms(1, Expect::Fails));
    for url in [
        format!("host={host} port={port} user={r} password={PASSWORD} dbname={d}"),
        format!("postgress://{r}:{PASSWORD}@{host}:{port}/{d}"),
    ] {
        all.push(Form {
            name: "not a URL",
            url,
            env: vec![],
            expect: Expect::Usage,
        });
    }
    let admin_url = role.db().url.clone();
    let mut reset = |adopt: bool| {
        let mut c = diesel::pg::PgConnection::establish(&admin_url).expect("admin");
        c.batch_execute(
            "DROP TABLE IF EXISTS adopted, notes, tags, _migrator_history, _migrator_lock, _migrator_backfill CASCADE",
        )
        .expect("reset");
        if adopt {
            c.batch_execute(&format!(
                "CREATE TABLE adopted (id BIGINT PRIMARY KEY, v TEXT); ALTER TABLE adopted OWNER TO {r}"
            ))
            .expect("table to adopt");
        }
    };
    // A custom-format dump that pg_restore reads.
    let check = |backup: &Path| {
        let o = Command::new("pg_restore")
            .arg("--list")
            .arg(backup)
            .output()
            .expect("pg_restore runs");
        assert!(o.status.success(), "{}: {}", backup.display(), text(&o));
        assert!(text(&o).contains("TABLE public notes"), "{}", text(&o));
        assert!(!text(&o).contains("TABLE public tags"), "{}", text(&o));
    };
    for form in &all {
        for by in [By::Flag, By::Env] {
            exercise(&p, form, by, &[], &mut reset, &check);
        }
    }
}

#[cfg(feature = "mysql")]
mod mysql {
    use super::*;
    use common::mysql_base_url;

    /// A MariaDB user with the password, and a database whose name needs
    /// percent-encoding in a URL (a space, `#`, `@`, `ä`).
    struct MyAccount {
        admin: diesel::mysql::MysqlConnection,
        user: String,
        db: String,
    }

    impl MyAccount {
        fn create(base: &str) -> MyAccount {
            let user = format!("migrator_pw_{}", std::process::id());
            let db = format!("migrator_sec_{} a#b@cä", std::process::id());
            let mut admin = diesel::mysql::MysqlConnection::establish(base).expect("admin");
            admin
                .batch_execute(&format!(
                    "DROP DATABASE IF EXISTS `{db}`; CREATE DATABASE `{db}` CHARACTER SET utf8mb4; \
                     DROP USER IF EXISTS '{user}'@'%'; CREATE USER '{user}'@'%' IDENTIFIED BY '{PASSWORD}'; \
                     GRANT ALL ON `{db}`.* TO '{user}'@'%'"
                ))
                .expect("creates the account");
            MyAccount { admin, user, db }
        }
    }

    impl Drop for MyAccount {
        fn drop(&mut self) {
            let _ = self.admin.batch_execute(&format!(
                "DROP DATABASE IF EXISTS `{}`; DROP USER IF EXISTS '{}'@'%'",
                self.db, self.user
            ));
        }
    }

    #[test]
    fn mysql_passwords_appear_in_no_output_and_the_dump_follows_the_migration() {
        let Some(base) = mysql_base_url() else { return };
        let server = DatabaseUrl::parse(&format!("{base}/x")).expect("base URL");
        let host = server.host().unwrap_or("127.0.0.1").to_string();
        let port = server.port().unwrap_or(3306);
        let account = MyAccount::create(&base);
        let (u, d) = (account.user.clone(), enc(&account.db));
        let p = small_project();
        let forms = |port: u16, expect: Expect| {
            vec![
                Form {
                    name: "userinfo encoded",
                    url: format!("mysql://{u}:{}@{host}:{port}/{d}", enc(PASSWORD)),
                    env: vec![],
                    expect,
                },
                Form {
                    name: "userinfo raw",
                    url: format!("mysql://{u}:{PASSWORD}@{host}:{port}/{d}"),
                    env: vec![],
                    expect,
                },
                Form {
                    name: "password parameter",
                    url: format!("mariadb://{u}@{host}:{port}/{d}?password={}", enc(PASSWORD)),
                    env: vec![],
                    expect,
                },
                Form {
                    name: "TLS disabled",
                    url: format!(
                        "mysql://{u}:{}@{host}:{port}/{d}?ssl_mode=disabled",
                        enc(PASSWORD)
                    ),
                    env: vec![],
                    expect,
                },
            ]
        };
        let mut all = forms(port, Expect::Connects);
        all.extend(forms(1, Expect::Fails));
        // The server checks this password: a wrong one fails connected.
        all.push(Form {
            name: "wrong password",
            url: format!("mysql://{u}:{}x@{host}:{port}/{d}", enc(PASSWORD)),
            env: vec![],
            expect: Expect::Fails,
        });
        // The local socket, with a port that would fail over TCP: the
        // migration and the dump both use the socket.
        let socket = "/run/mysqld/mysqld.sock";
        if Path::new(socket).exists() && host == "127.0.0.1" {
            all.push(Form {
                name: "unix socket",
                url: format!(
                    "mysql://{u}:{}@localhost:1/{d}?unix_socket={socket}",
                    enc(PASSWORD)
                ),
                env: vec![],
                expect: Expect::Connects,
            });
            all.push(Form {
                name: "localhost",
                url: format!("mysql://{u}:{}@localhost/{d}", enc(PASSWORD)),
                env: vec![],
                expect: Expect::Connects,
            });
        } else {
            eprintln!("\n!!!!!!!! secrets: no local MariaDB socket at {socket}: the socket forms are not run !!!!!!!!\n");
        }
        all.push(Form {
            name: "not a URL",
            url: format!("mysq://{u}:{PASSWORD}@{host}:{port}/{d}"),
            env: vec![],
            expect: Expect::Usage,
        });
        // An option file that would send the dump elsewhere (TCP to a closed
        // port, a wrong password) if the dump tool read it.
        let home = tempfile::tempdir().expect("home");
        std::fs::write(
            home.path().join(".my.cnf"),
            "[client]\nprotocol=TCP\nport=1\npassword=not-the-password\n",
        )
        .expect("option file");
        let env = [("HOME", home.path().display().to_string())];
        let admin_base = base.clone();
        let db_name = account.db.clone();
        let mut reset = |adopt: bool| {
            let mut c = diesel::mysql::MysqlConnection::establish(&admin_base).expect("admin");
            c.batch_execute(&format!(
                "USE `{db_name}`; DROP TABLE IF EXISTS adopted, notes, tags, _migrator_history, _migrator_lock, _migrator_backfill"
            ))
            .expect("reset");
            if adopt {
                c.batch_execute("CREATE TABLE adopted (id BIGINT PRIMARY KEY, v VARCHAR(20))")
                    .expect("table to adopt");
            }
        };
        // The dump of the database named in the URL, by its decoded name.
        let check = |backup: &Path| {
            let sql = std::fs::read_to_string(backup).expect("dump");
            assert!(sql.contains("CREATE TABLE `notes`"), "{sql}");
            assert!(!sql.contains("CREATE TABLE `tags`"), "{sql}");
            assert!(
                sql.contains(&format!("`{}`", account.db)),
                "the decoded name:\n{sql}"
            );
        };
        for form in &all {
            for by in [By::Flag, By::Env] {
                exercise(&p, form, by, &env, &mut reset, &check);
            }
        }
    }
}

/// Four `up --backup` runs at once to the same path: exactly one writes
/// it, the others refuse (a check-then-write let all four write), and no
/// temporary file is left. A dangling symbolic link at the path is refused
/// and nothing is written through it. SQLite: the copy is 0600.
#[test]
fn concurrent_backups_to_one_path_publish_one_file() {
    let out = tempfile::tempdir().expect("tempdir");
    let target = out.path().join("b.db");
    let mut children = Vec::new();
    let mut projects = Vec::new();
    for i in 0..4 {
        let p = small_project();
        let url = format!("sqlite://{}", p.root().join(format!("app{i}.db")).display());
        children.push(
            Command::new(env!("CARGO_BIN_EXE_migrator"))
                .arg("--dir")
                .arg(p.root())
                .args(["--database-url", &url, "up", "--backup"])
                .arg(&target)
                .env_remove("DATABASE_URL")
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawns"),
        );
        projects.push(p);
    }
    let outputs: Vec<Output> = children
        .into_iter()
        .map(|c| c.wait_with_output().expect("waits"))
        .collect();
    let ok = outputs.iter().filter(|o| o.status.success()).count();
    assert_eq!(
        ok,
        1,
        "exactly one backup written: {:#?}",
        outputs.iter().map(text).collect::<Vec<_>>()
    );
    for o in outputs.iter().filter(|o| !o.status.success()) {
        assert_eq!(o.status.code(), Some(1), "{}", text(o));
        assert!(text(o).contains("already exists"), "{}", text(o));
        assert!(
            text(o).contains("nothing was migrated") || text(o).contains("never overwrites"),
            "{}",
            text(o)
        );
    }
    let names: Vec<String> = std::fs::read_dir(out.path())
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["b.db"], "no temporary file left");
    assert_eq!(
        target.metadata().expect("meta").permissions().mode() & 0o777,
        0o600
    );

    let link = out.path().join("link.db");
    let aim = out.path().join("aimed-at.db");
    std::os::unix::fs::symlink(&aim, &link).expect("symlink");
    let p = small_project();
    let url = format!("sqlite://{}", p.root().join("app.db").display());
    let o = Command::new(env!("CARGO_BIN_EXE_migrator"))
        .arg("--dir")
        .arg(p.root())
        .args(["--database-url", &url, "up", "--backup"])
        .arg(&link)
        .env_remove("DATABASE_URL")
        .output()
        .expect("runs");
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("already exists"), "{}", text(&o));
    assert!(!aim.exists(), "written through a dangling link");
}

/// A `--replica-url`'s password appears in no output: not when the URL is
/// refused (not MySQL, malformed), not when its server cannot be reached.
#[test]
fn replica_url_passwords_appear_in_no_output() {
    let p = small_project();
    let db = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", db.path().join("app.db").display());
    let mut replicas = vec![
        format!("postgres://u:{}@127.0.0.1/db", enc(PASSWORD)),
        format!("mysql//u:{}@127.0.0.1/db", enc(PASSWORD)),
        format!("mysql://u:{}@127.0.0.1:1/db", enc(PASSWORD)),
    ];
    replicas.push(format!("mysql://u:{PASSWORD}@127.0.0.1:1/db"));
    // A MariaDB primary with a binary log (`scripts/servers my-replica`),
    // where the replica is connected to and cannot be reached.
    #[allow(unused_mut, clippy::useless_vec)]
    let mut targets = vec![url.clone()];
    #[cfg(feature = "mysql")]
    {
        let primary = "mysql://root@127.0.0.1:3321/mysql";
        if diesel::mysql::MysqlConnection::establish(primary).is_ok() {
            targets.push(primary.to_string());
        } else if std::env::var("CI").is_ok_and(|v| v == "true") {
            panic!("the MariaDB primary of scripts/servers my-replica is required under CI");
        }
    }
    for (url, replica) in targets
        .iter()
        .flat_map(|t| replicas.iter().map(move |r| (t, r)))
    {
        for args in [
            vec![
                "up",
                "--max-replica-lag",
                "1",
                "--replica-url",
                replica.as_str(),
            ],
            vec![
                "up",
                "--max-replica-lag",
                "1",
                &format!("--replica-url={replica}"),
            ],
        ] {
            let o = Command::new(env!("CARGO_BIN_EXE_migrator"))
                .arg("--dir")
                .arg(p.root())
                .arg("--database-url")
                .arg(url)
                .args(&args)
                .env_remove("DATABASE_URL")
                .output()
                .expect("runs");
            let out = text(&o);
            assert!(!o.status.success(), "{args:?}: {out}");
            assert_clean(&format!("{args:?}"), &out);
        }
    }
}
