//! Shared by the CLI's process-level tests (concurrency, crashes): a project
//! with three migrations whose steps leave marks (a repeated step would
//! duplicate its mark) and take time (so kills land mid-migration), and
//! helpers to run the binary and read a database back.

#![allow(dead_code)]

#[path = "../../../tests/db/support.rs"]
pub mod support;

use std::path::Path;
use std::process::{Command, Output};

use migrator_core::dialect::Dialect;
use migrator_core::ops::{inverse_all, Operation, RawSql, SqlVariants};
#[cfg(feature = "mysql")]
#[allow(unused_imports)]
pub use support::{mysql_base_url, MyDb};
pub use support::{pg_base_url, PgDb, TestProject};

const V1: &str = r#"
use migrator::Model;

#[derive(Model)]
pub struct User {
    #[model(primary_key, auto_increment)]
    pub id: i64,
    #[model(max_length = 100)]
    pub name: String,
}

#[derive(Model)]
pub struct Mark {
    #[model(primary_key, auto_increment)]
    pub id: i64,
    #[model(max_length = 40)]
    pub tag: String,
}
"#;

const EMAIL: &str = r#"
#[derive(Model)]
pub struct Profile {
    #[model(primary_key, auto_increment)]
    pub id: i64,
    pub email: Option<String>,
}
"#;

const POSTS: &str = r#"
#[derive(Model)]
pub struct Post {
    #[model(primary_key, auto_increment)]
    pub id: i64,
    #[model(index)]
    pub user_id: i64,
    #[model(max_length = 200)]
    pub title: String,
}
"#;

/// The marks each migration leaves, in step order.
pub const MARKS: [&[&str]; 3] = [&["m1a", "m1b"], &["m2a", "m2b", "m2c"], &["m3a", "m3b"]];

fn mark(tag: &str) -> Operation {
    Operation::Sql(RawSql {
        sql: Some(format!("INSERT INTO marks (tag) VALUES ('{tag}')")),
        reverse: Some(SqlVariants {
            sql: Some(format!("DELETE FROM marks WHERE tag = '{tag}'")),
            ..Default::default()
        }),
        ..Default::default()
    })
}

/// About 50 ms of work on any database.
fn slow() -> Operation {
    Operation::Sql(RawSql {
        postgres: Some("SELECT pg_sleep(0.05)".into()),
        mysql: Some("SELECT SLEEP(0.05)".into()),
        sqlite: Some(
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 150000) SELECT count(*) FROM c"
                .into(),
        ),
        reverse: Some(SqlVariants {
            sql: Some("SELECT 1".into()),
            ..Default::default()
        }),
        ..Default::default()
    })
}

/// 0001 creates `users` and `marks`, then marks twice (one transaction);
/// 0002 creates `profiles` and runs `transaction = false`, step by step,
/// marking three times between slow steps; 0003 creates `posts` with an
/// index and marks twice between slow steps.
pub fn project() -> TestProject {
    let p = TestProject::new();
    p.set_models(V1);
    p.generate("create_users").expect("0001");
    p.edit_and_rehash("0001_create_users.toml", |f| {
        f.upgrade.extend([mark("m1a"), slow(), mark("m1b")]);
        f.downgrade = inverse_all(&f.upgrade);
    });
    p.set_models(&format!("{V1}{EMAIL}"));
    p.generate("create_profiles").expect("0002");
    p.edit_and_rehash("0002_create_profiles.toml", |f| {
        f.transaction = false;
        f.upgrade
            .extend([mark("m2a"), slow(), mark("m2b"), slow(), mark("m2c")]);
        f.downgrade = inverse_all(&f.upgrade);
    });
    p.set_models(&format!("{V1}{EMAIL}{POSTS}"));
    p.generate("create_posts").expect("0003");
    p.edit_and_rehash("0003_create_posts.toml", |f| {
        f.upgrade.extend([slow(), mark("m3a"), slow(), mark("m3b")]);
        f.downgrade = inverse_all(&f.upgrade);
    });
    p
}

/// `migrator --dir <root> --database-url <url> <args>` as a command.
pub fn command(root: &Path, url: &str, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_migrator"));
    c.arg("--dir").arg(root).args(args).env("DATABASE_URL", url);
    c
}

/// Runs `migrator --dir <dir> --database-url <url> <args>` (the URL as a
/// flag, `DATABASE_URL` unset) and returns its output.
pub fn migrator_at(dir: &Path, url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_migrator"))
        .arg("--dir")
        .arg(dir)
        .arg("--database-url")
        .arg(url)
        .args(args)
        .env_remove("DATABASE_URL")
        .output()
        .expect("migrator runs")
}

/// [`migrator_at`] that must succeed; returns stdout and stderr.
pub fn ok_at(dir: &Path, url: &str, args: &[&str]) -> String {
    let o = migrator_at(dir, url, args);
    assert!(
        o.status.success(),
        "migrator {args:?} failed:\n{}",
        text(&o)
    );
    text(&o)
}

pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A database to run against, and how to read it back.
pub enum Db {
    Sqlite(tempfile::TempDir),
    Pg(PgDb),
    #[cfg(feature = "mysql")]
    My(MyDb),
}

impl Db {
    pub fn sqlite() -> Db {
        Db::Sqlite(tempfile::tempdir().expect("tempdir"))
    }

    pub fn url(&self) -> String {
        match self {
            Db::Sqlite(d) => format!("sqlite://{}", d.path().join("app.db").display()),
            Db::Pg(p) => p.url.clone(),
            #[cfg(feature = "mysql")]
            Db::My(m) => m.url.clone(),
        }
    }

    pub fn connect(&self) -> migrator_core::runner::AnyConnection {
        migrator_core::runner::connect(&self.url()).expect("connects")
    }

    /// Rows of a query selecting text columns `a`, `b`, `c`, `d`.
    pub fn rows(&self, q: &str) -> Vec<support::Row> {
        use migrator_core::runner::AnyConnection;
        match self.connect() {
            AnyConnection::Sqlite(mut c) => support::rows_sqlite(&mut c, q),
            AnyConnection::Postgres(mut c) => support::rows_pg(&mut c, q),
            #[cfg(feature = "mysql")]
            AnyConnection::Mysql(mut c) => support::rows_mysql(&mut c, q),
            #[allow(unreachable_patterns)]
            _ => panic!("no row reader for this database in the CLI tests"),
        }
    }

    /// `name` quoted as an identifier: `"name"`, on MySQL `` `name` ``.
    pub fn q(&self, name: &str) -> String {
        match self {
            #[cfg(feature = "mysql")]
            Db::My(_) => format!("`{}`", name.replace('`', "``")),
            _ => format!("\"{}\"", name.replace('"', "\"\"")),
        }
    }

    /// `CAST(expr AS TEXT)`, spelt `CHAR` on MySQL.
    pub fn cast_text(&self, expr: &str) -> String {
        match self {
            #[cfg(feature = "mysql")]
            Db::My(_) => format!("CAST({expr} AS CHAR)"),
            _ => format!("CAST({expr} AS TEXT)"),
        }
    }

    /// `(tag, count)` of every mark, by tag; empty before `marks` exists.
    pub fn marks(&self) -> Vec<(String, u32)> {
        if !self.has_table("marks") {
            return Vec::new();
        }
        self.rows(&format!(
            "SELECT {} AS a, {} AS b, '' AS c, '' AS d FROM marks GROUP BY tag ORDER BY tag",
            self.cast_text("tag"),
            self.cast_text("COUNT(*)")
        ))
        .into_iter()
        .map(|r| (r.a, r.b.parse().expect("count")))
        .collect()
    }

    /// `(version, state, steps_done)` of the history, oldest first.
    pub fn history(&self) -> Vec<(u32, String, usize)> {
        if !self.has_table("_migrator_history") {
            return Vec::new();
        }
        self.rows(&format!(
            "SELECT {} AS a, {} AS b, {} AS c, '' AS d FROM _migrator_history ORDER BY version",
            self.cast_text("version"),
            self.cast_text("state"),
            self.cast_text("steps_done")
        ))
        .into_iter()
        .map(|r| {
            (
                r.a.parse().expect("version"),
                r.b,
                r.c.parse().expect("steps"),
            )
        })
        .collect()
    }

    pub fn has_table(&self, name: &str) -> bool {
        let q = match self {
            Db::Sqlite(_) => format!("SELECT name AS a, '' AS b, '' AS c, '' AS d FROM sqlite_master WHERE type = 'table' AND name = '{name}'"),
            Db::Pg(_) => format!("SELECT table_name::text AS a, '' AS b, '' AS c, '' AS d FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = '{name}'"),
            #[cfg(feature = "mysql")]
            Db::My(_) => format!("SELECT CAST(table_name AS CHAR) AS a, '' AS b, '' AS c, '' AS d FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = '{name}'"),
        };
        !self.rows(&q).is_empty()
    }
}

/// A MySQL/MariaDB user with a password and every right on one database,
/// dropped when the guard goes: the test server's root has no password, and
/// a password in a URL must really be checked to exercise the success paths.
#[cfg(feature = "mysql")]
pub struct MyUser {
    admin: diesel::mysql::MysqlConnection,
    pub name: String,
    /// `mysql://name:password@host:port/database`, the password
    /// percent-encoded.
    pub url: String,
}

#[cfg(feature = "mysql")]
impl MyUser {
    /// `password` as typed; `encoded` as it appears in the URL.
    pub fn create(base: &str, db: &MyDb, password: &str, encoded: &str) -> MyUser {
        use diesel::connection::SimpleConnection;
        use diesel::Connection;
        let name = format!("migrator_pw_{}_{}", std::process::id(), db.name.len());
        let mut admin = diesel::mysql::MysqlConnection::establish(base).expect("mysql admin");
        admin
            .batch_execute(&format!(
                "DROP USER IF EXISTS '{name}'@'%'; CREATE USER '{name}'@'%' IDENTIFIED BY '{password}'; \
                 GRANT ALL ON `{}`.* TO '{name}'@'%'",
                db.name
            ))
            .expect("creates the user");
        let host = base.rsplit('@').next().expect("host");
        MyUser {
            admin,
            url: format!("mysql://{name}:{encoded}@{host}/{}", db.name),
            name,
        }
    }
}

#[cfg(feature = "mysql")]
impl Drop for MyUser {
    fn drop(&mut self) {
        use diesel::connection::SimpleConnection;
        let _ = self
            .admin
            .batch_execute(&format!("DROP USER IF EXISTS '{}'@'%'", self.name));
    }
}

/// Ten hand-written migrations: 0001 creates `marks`, each one after it a
/// table `r_NN`; every one marks, works about 50 ms and marks again.
pub fn raw_project(dialect: Dialect) -> TestProject {
    let slow = match dialect {
        Dialect::Postgres => "SELECT pg_sleep(0.05)",
        _ => "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 150000) SELECT count(*) FROM c",
    };
    let steps: Vec<Vec<(String, String)>> = (1..=RAW_MIGRATIONS)
        .map(|v| {
            let create = if v == 1 {
                (
                    "CREATE TABLE marks (tag VARCHAR(40))".to_string(),
                    "DROP TABLE marks".to_string(),
                )
            } else {
                (
                    format!("CREATE TABLE r_{v:02} (id INT)"),
                    format!("DROP TABLE r_{v:02}"),
                )
            };
            let mark = |t: &str| {
                (
                    format!("INSERT INTO marks (tag) VALUES ('r{v:02}{t}')"),
                    format!("DELETE FROM marks WHERE tag = 'r{v:02}{t}'"),
                )
            };
            vec![
                create,
                mark("a"),
                (slow.to_string(), "SELECT 1".to_string()),
                mark("b"),
            ]
        })
        .collect();
    let names: Vec<String> = (1..=RAW_MIGRATIONS)
        .map(|v| format!("raw_{v:02}"))
        .collect();
    let borrowed: Vec<Vec<(&str, &str)>> = steps
        .iter()
        .map(|s| s.iter().map(|(u, d)| (u.as_str(), d.as_str())).collect())
        .collect();
    let migrations: Vec<(&str, &[(&str, &str)])> = names
        .iter()
        .zip(&borrowed)
        .map(|(n, s)| (n.as_str(), s.as_slice()))
        .collect();
    let p = TestProject::new();
    p.raw_migrations(&migrations);
    p
}

pub const RAW_MIGRATIONS: u32 = 10;

/// The invariants of the raw project after a kill: applied migrations are a
/// prefix 1..=k with no partial row, and exactly their tables and marks
/// (each once) exist. Returns k.
pub fn check_raw(db: &Db, trial: &str) -> u32 {
    let history = db.history();
    let k = history.len() as u32;
    for (i, (v, s, _)) in history.iter().enumerate() {
        assert_eq!(
            (*v, s.as_str()),
            (i as u32 + 1, "applied"),
            "{trial}: applied migrations are a prefix: {history:?}"
        );
    }
    assert_eq!(db.has_table("marks"), k >= 1, "{trial}: {history:?}");
    let marks = db.marks();
    for v in 1..=RAW_MIGRATIONS {
        let applied = v <= k;
        if v > 1 {
            assert_eq!(
                db.has_table(&format!("r_{v:02}")),
                applied,
                "{trial}: table of migration {v} (history {history:?})"
            );
        }
        for t in ["a", "b"] {
            let tag = format!("r{v:02}{t}");
            let have = marks.iter().find(|(m, _)| *m == tag).map_or(0, |(_, n)| *n);
            assert_eq!(
                have,
                u32::from(applied),
                "{trial}: mark {tag} ran {have} time(s) (history {history:?})"
            );
        }
    }
    k
}
