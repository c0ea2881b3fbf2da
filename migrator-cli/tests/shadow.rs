//! `migrator test`: every migration up, down and up again on a scratch
//! database, the schema read back after each and compared, rows inserted
//! before each shown to survive. On SQLite always; on PostgreSQL and
//! MariaDB where reachable (mandatory under CI=true), where the scratch
//! database is created on the server and dropped afterwards, and the
//! database named in the URL is left untouched.

mod common;

use std::path::Path;
use std::process::Output;

use common::{pg_base_url, text, PgDb, TestProject};
use migrator_core::ops::{Operation, RawSql, SqlVariants};

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
    #[model(default = false)]
    pub done: bool,
}
"#;

/// V1 plus a nullable `users.email`.
fn v2() -> String {
    V1.replace(
        "    pub name: String,\n}",
        "    pub name: String,\n    #[model(max_length = 120)]\n    pub email: Option<String>,\n}",
    )
}

/// 0001 creates both tables, 0002 adds `users.email`, 0003 drops it again
/// as generated: a kept drop, whose values come back on `down`.
fn kept_project() -> TestProject {
    let p = TestProject::new();
    p.set_models(V1);
    p.generate("create").expect("0001");
    p.set_models(&v2());
    p.generate("add_email").expect("0002");
    p.set_models(V1);
    p.generate("drop_email").expect("0003");
    p
}

/// [`kept_project`] with 0003's drop written without `archived` (as files
/// written before kept drops, or by hand, are): a destructive step whose
/// values cannot come back on `down`.
fn project() -> TestProject {
    let p = kept_project();
    p.edit_and_rehash("0003_drop_email.toml", |f| {
        let unwrap = |op: &mut Operation| {
            if let Operation::Archived(a) = op {
                *op = (*a.step).clone();
            }
        };
        f.upgrade.iter_mut().for_each(unwrap);
        f.downgrade.iter_mut().for_each(unwrap);
    });
    p
}

#[test]
fn kept_drop_restores_its_values() {
    let p = kept_project();
    let o = migrator(p.root(), None, &["test"]);
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    assert!(
        out.lines().any(|l| l.starts_with("ok   0003_drop_email")),
        "{out}"
    );
    assert!(!out.contains("did not restore"), "{out}");
}

fn migrator(dir: &Path, url: Option<&str>, args: &[&str]) -> Output {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_migrator"));
    c.arg("--dir").arg(dir).env_remove("DATABASE_URL");
    if let Some(u) = url {
        c.arg("--database-url").arg(u);
    }
    c.args(args).output().expect("migrator runs")
}

/// The scratch database's URL, from the first line of the text report.
fn scratch_name(out: &str) -> String {
    let start = out
        .find("database (")
        .expect("header names the scratch database")
        + 10;
    let url = &out[start..start + out[start..].find(')').expect(")")];
    url.rsplit('/').next().expect("name").to_string()
}

fn passes_and_cleans_up(url: Option<&str>) -> String {
    let p = project();
    let o = migrator(p.root(), url, &["test"]);
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines.iter().any(|l| l.starts_with("ok   0001_create")),
        "{out}"
    );
    assert!(
        lines.iter().any(|l| l.starts_with("ok   0002_add_email")),
        "{out}"
    );
    // Rows were there before 0002 and 0003 (two per table and migration).
    assert!(
        out.contains("0002_add_email") && out.contains("4 row(s) seeded"),
        "{out}"
    );
    // 0003's down brings the column back, not its values: said, not failed.
    let warn = lines
        .iter()
        .position(|l| l.starts_with("warn 0003_drop_email"))
        .unwrap_or_else(|| panic!("0003 is a warning:\n{out}"));
    assert!(
        lines[warn..]
            .iter()
            .any(|l| l.contains("down did not restore") && l.contains("destructive")),
        "{out}"
    );
    assert!(
        out.contains("3 migration(s): 3 passed, 0 failed, 0 not tested"),
        "{out}"
    );
    scratch_name(&out)
}

#[test]
fn sqlite_scratch_file_passes_and_is_removed() {
    let name = passes_and_cleans_up(None);
    let file = std::env::temp_dir().join(&name);
    assert!(!file.exists(), "{} is left behind", file.display());
}

#[test]
fn postgres_scratch_database_passes_and_is_dropped() {
    let Some(base) = pg_base_url() else { return };
    let db = PgDb::create(&base, "shadow");
    let name = passes_and_cleans_up(Some(&db.url));
    let mut admin = migrator_core::runner::connect(&format!("{base}/postgres")).expect("admin");
    let migrator_core::runner::AnyConnection::Postgres(c) = &mut admin else {
        unreachable!()
    };
    use migrator_core::runner::MigrationConnection;
    let left = c
        .count_rows(&format!(
            "SELECT 1 FROM pg_database WHERE datname = '{name}'"
        ))
        .expect("catalog");
    assert_eq!(left, 0, "the scratch database {name} was not dropped");
    // The database of the URL is only connected to.
    let mut given = db.connect();
    let tables = given
        .count_rows("SELECT 1 FROM information_schema.tables WHERE table_schema = 'public'")
        .expect("catalog");
    assert_eq!(tables, 0, "the URL's own database was changed");
}

#[cfg(feature = "mysql")]
#[test]
fn mariadb_scratch_database_passes_and_is_dropped() {
    let Some(base) = common::mysql_base_url() else {
        return;
    };
    let db = common::MyDb::create(&base, "shadow");
    let name = passes_and_cleans_up(Some(&db.url));
    let mut c = db.connect();
    use migrator_core::runner::MigrationConnection;
    let left = c
        .count_rows(&format!(
            "SELECT 1 FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '{name}'"
        ))
        .expect("catalog");
    assert_eq!(left, 0, "the scratch database {name} was not dropped");
    let tables = c
        .count_rows("SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE()")
        .expect("catalog");
    assert_eq!(tables, 0, "the URL's own database was changed");
}

/// 0002's upgrade replaced by raw SQL that adds `mail` while its declared
/// effect says `email`.
fn lying_effect() -> TestProject {
    let p = project();
    p.edit_and_rehash("0002_add_email.toml", |f| {
        let declared = f.upgrade.clone();
        f.upgrade = vec![Operation::Sql(RawSql {
            sql: Some("ALTER TABLE users ADD COLUMN mail VARCHAR(120)".into()),
            reverse: Some(SqlVariants {
                sql: Some("ALTER TABLE users DROP COLUMN mail".into()),
                ..Default::default()
            }),
            effect: declared,
            ..Default::default()
        })];
        f.downgrade = Vec::new();
    });
    p
}

#[test]
fn a_raw_step_whose_effect_lies_is_named_with_its_file_and_line() {
    let p = lying_effect();
    let o = migrator(p.root(), None, &["test"]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("FAIL 0002_add_email"), "{out}");
    assert!(
        out.contains("the declared `effect` of raw SQL upgrade step(s) 1"),
        "{out}"
    );
    assert!(out.contains("email") && out.contains("mail"), "{out}");
    assert!(
        out.contains("3 migration(s): 1 passed, 1 failed, 1 not tested"),
        "{out}"
    );

    // The same as annotations on the file, at the step's line.
    let o = migrator(p.root(), None, &["test", "--format", "github"]);
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_eq!(o.status.code(), Some(1), "{out}");
    let file = p.migrations_dir().join("0002_add_email.toml");
    let text_of = std::fs::read_to_string(&file).expect("read");
    let line = text_of
        .lines()
        .position(|l| l.trim() == "[[upgrade]]")
        .expect("an upgrade step")
        + 1;
    let want = format!(
        "::error file={},line={line}::0002_add_email: after up:",
        file.display()
    );
    assert!(
        out.lines().any(|l| l.starts_with(&want)),
        "want {want}\n{out}"
    );

    // And as JSON.
    let o = migrator(p.root(), None, &["test", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("one JSON object");
    assert_eq!(v["ok"], false);
    assert_eq!(v["not_tested"], 1);
    assert_eq!(v["migrations"][1]["passed"], false);
    assert_eq!(v["migrations"][1]["line"], line);
}

#[test]
fn a_downgrade_that_does_not_restore_fails() {
    let p = project();
    // 0002's downgrade claims to drop `email` but does nothing.
    p.edit_and_rehash("0002_add_email.toml", |f| {
        let declared = f.downgrade.clone();
        f.downgrade = vec![Operation::Sql(RawSql {
            sql: Some("SELECT 1".into()),
            effect: declared,
            ..Default::default()
        })];
    });
    let o = migrator(p.root(), None, &["test"]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("FAIL 0002_add_email"), "{out}");
    assert!(
        out.contains("after down (the downgrade does not restore the schema before it)"),
        "{out}"
    );
    assert!(out.contains("email"), "{out}");
}

/// 0002 adds a view by raw SQL whose reverse does nothing: the schema
/// comparison cannot see it (views are outside the model), the comparison
/// of the objects outside the model can, and names it. With a reverse that
/// drops it, the same project passes.
#[test]
fn a_raw_view_the_downgrade_leaves_behind_fails() {
    let with_reverse = |reverse: &str| {
        let p = project();
        p.edit_and_rehash("0002_add_email.toml", |f| {
            f.upgrade.push(Operation::Sql(RawSql {
                sql: Some("CREATE VIEW user_ids AS SELECT id FROM users".into()),
                reverse: Some(SqlVariants {
                    sql: Some(reverse.into()),
                    ..Default::default()
                }),
                ..Default::default()
            }));
            f.downgrade = migrator_core::ops::inverse_all(&f.upgrade);
        });
        p
    };
    let p = with_reverse("SELECT 1");
    let o = migrator(p.root(), None, &["test"]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("FAIL 0002_add_email"), "{out}");
    assert!(
        out.contains("after down, what the model does not describe is not as before the upgrade")
            && out.contains("view `user_ids` appeared"),
        "{out}"
    );
    let p = with_reverse("DROP VIEW user_ids");
    let o = migrator(p.root(), None, &["test"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
}

#[test]
fn a_rust_step_is_not_tested_silently() {
    let p = project();
    p.edit_and_rehash("0002_add_email.toml", |f| {
        f.upgrade.push(Operation::Rust {
            name: "steps::fill".into(),
            reverse: None,
        });
        f.downgrade.insert(
            0,
            Operation::Rust {
                name: "steps::unfill".into(),
                reverse: None,
            },
        );
    });
    let o = migrator(p.root(), None, &["test"]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("has a Rust step"), "{out}");
    assert!(out.contains("1 passed, 1 failed, 1 not tested"), "{out}");
}

#[test]
fn a_bad_url_is_a_usage_error() {
    let p = project();
    let o = migrator(p.root(), Some("postgress://x/y"), &["test"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("did you mean"), "{}", text(&o));
}
