//! `migrator squash --to N` on real databases: databases at every point of
//! the chain (0, 1..N-1, N, N+1 applied) before the squash, then `up` with
//! the squashed folder: a fresh one is created from the baseline, one at N
//! or later runs nothing of it, one in between is refused and unchanged.
//! `check`, `lint`, `status`, `history`, `verify` accept the result; bad
//! input (`--to` beyond the last, a raw SQL step, an edited baseline)
//! writes nothing or is refused.

mod common;

use std::path::Path;

use common::{migrator_at, ok_at, text, Db, PgDb, TestProject};
use migrator_core::ops::{inverse_all, Operation, RawSql, SqlVariants};

const USERS: &str = r#"use migrator::Model;

#[derive(Model)]
pub struct User {
    #[model(primary_key, auto_increment)]
    pub id: i64,
    #[model(max_length = 100)]
    pub name: String,
"#;

const POSTS: &str = r#"
#[derive(Model)]
pub struct Post {
    #[model(primary_key, auto_increment)]
    pub id: i64,
    #[model(foreign_key = "users.id", index)]
    pub user_id: i64,
    #[model(max_length = 200)]
    pub title: String,
}
"#;

/// 0001 users, 0002 posts (a foreign key to users), 0003 users.email,
/// 0004 users.age.
fn project() -> TestProject {
    let p = TestProject::new();
    p.set_models(&format!("{USERS}}}\n"));
    p.generate("create_users").expect("0001");
    p.set_models(&format!("{USERS}}}\n{POSTS}"));
    p.generate("create_posts").expect("0002");
    p.set_models(&format!(
        "{USERS}    pub email: Option<String>,\n}}\n{POSTS}"
    ));
    p.generate("add_email").expect("0003");
    p.set_models(&format!(
        "{USERS}    pub email: Option<String>,\n    pub age: Option<i32>,\n}}\n{POSTS}"
    ));
    p.generate("add_age").expect("0004");
    p
}

fn files(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .expect("migrations")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

fn applied(db: &Db) -> Vec<u32> {
    db.history().into_iter().map(|(v, _, _)| v).collect()
}

/// Databases at 0..=4 applied, squash to 3, then `up` on each.
fn every_point_of_the_chain(make: impl Fn(u32) -> Db) {
    let p = project();
    let root = p.root();
    let dbs: Vec<(u32, Db)> = (0..=4)
        .map(|k| {
            let db = make(k);
            if k > 0 {
                ok_at(root, &db.url(), &["up", "--to", &k.to_string()]);
                // A row that must survive everything below.
                db.connect()
                    .execute("INSERT INTO users (name) VALUES ('kept')")
                    .expect("insert");
            }
            (k, db)
        })
        .collect();

    let out = ok_at(root, "sqlite::memory:", &["squash", "--to", "3"]);
    assert!(out.contains("squashed 0001..0003"), "{out}");
    assert_eq!(
        files(&p.migrations_dir()),
        ["0003_squashed.toml", "0004_add_age.toml", "schema.toml"]
    );
    // The folder is a valid chain for every reader.
    ok_at(root, "sqlite::memory:", &["check"]);
    ok_at(root, "sqlite::memory:", &["lint"]);
    // The shadow-database test takes the baseline up, down and up whole.
    let shadow = ok_at(root, "sqlite::memory:", &["test"]);
    assert!(shadow.contains("4 passed"), "{shadow}");
    let set = p.set();
    assert_eq!(set.head(), 4);
    assert_eq!(set.migrations[0].id(), "0001_create_users");

    for (k, db) in &dbs {
        let url = db.url();
        let o = migrator_at(root, &url, &["up"]);
        match k {
            1 | 2 => {
                assert!(!o.status.success(), "db at {k}: {}", text(&o));
                let t = text(&o);
                assert!(t.contains("squashed into `0003_squashed.toml`"), "{t}");
                assert!(t.contains("before the squash"), "{t}");
                assert_eq!(
                    applied(db),
                    (1..=*k).collect::<Vec<_>>(),
                    "db at {k} unchanged"
                );
                assert!(!db.has_table("posts") || *k == 2);
            }
            _ => {
                assert!(o.status.success(), "db at {k}: {}", text(&o));
                assert_eq!(applied(db), vec![1, 2, 3, 4], "db at {k}");
                for t in ["users", "posts"] {
                    assert!(db.has_table(t), "db at {k}: {t}");
                }
                // The schema is exactly the snapshot's.
                ok_at(root, &url, &["verify"]);
                let st = ok_at(root, &url, &["status"]);
                assert!(st.contains("0004_add_age"), "{st}");
                ok_at(root, &url, &["history"]);
                let kept = db.rows("SELECT name AS a, name AS b, name AS c, name AS d FROM users");
                assert_eq!(kept.len(), usize::from(*k > 0), "db at {k}");
            }
        }
    }
    // A roll-back inside the squashed range is refused; to 0 drops it all.
    let (_, fresh) = &dbs[0];
    let o = migrator_at(root, &fresh.url(), &["down", "--to", "0"]);
    assert!(o.status.success(), "{}", text(&o));
    let o = migrator_at(root, &fresh.url(), &["up", "--to", "2"]);
    assert!(!o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("cannot migrate up to 0002"),
        "{}",
        text(&o)
    );
    assert!(applied(fresh).is_empty(), "nothing recorded");
    ok_at(root, &fresh.url(), &["up"]);
    let o = migrator_at(root, &fresh.url(), &["down", "--to", "1"]);
    assert!(!o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("cannot roll back to 0001"),
        "{}",
        text(&o)
    );
    assert_eq!(applied(fresh), vec![1, 2, 3, 4]);
    ok_at(root, &fresh.url(), &["down", "--to", "3"]);
    assert_eq!(applied(fresh), vec![1, 2, 3]);
    ok_at(root, &fresh.url(), &["down", "--to", "0"]);
    assert!(applied(fresh).is_empty());
    assert!(!fresh.has_table("users") && !fresh.has_table("posts"));
    ok_at(root, &fresh.url(), &["up"]);
    assert_eq!(applied(fresh), vec![1, 2, 3, 4]);
}

#[test]
fn squash_on_sqlite_at_every_point_of_the_chain() {
    every_point_of_the_chain(|_| Db::sqlite());
}

#[test]
fn squash_on_postgres_at_every_point_of_the_chain() {
    let Some(base) = common::pg_base_url() else {
        return;
    };
    every_point_of_the_chain(|k| Db::Pg(PgDb::create(&base, &format!("squash_{k}"))));
}

#[cfg(feature = "mysql")]
#[test]
fn squash_on_mariadb_at_every_point_of_the_chain() {
    let Some(base) = common::mysql_base_url() else {
        return;
    };
    every_point_of_the_chain(|k| Db::My(common::MyDb::create(&base, &format!("squash_{k}"))));
}

#[test]
fn squash_refuses_bad_input_and_writes_nothing() {
    let p = project();
    let root = p.root();
    let before = files(&p.migrations_dir());
    for to in ["5", "0"] {
        let o = migrator_at(root, "sqlite::memory:", &["squash", "--to", to]);
        assert!(!o.status.success(), "{}", text(&o));
        assert!(
            text(&o).contains("the migrations are 0001..0004"),
            "{}",
            text(&o)
        );
    }
    // A raw SQL data step in the range cannot be rebuilt from the schema.
    p.edit_and_rehash("0002_create_posts.toml", |f| {
        f.upgrade.push(Operation::Sql(RawSql {
            sql: Some("INSERT INTO users (name) VALUES ('seed')".into()),
            reverse: Some(SqlVariants {
                sql: Some("DELETE FROM users WHERE name = 'seed'".into()),
                ..Default::default()
            }),
            ..Default::default()
        }));
        f.downgrade = inverse_all(&f.upgrade);
    });
    let snapshot =
        std::fs::read_to_string(p.migrations_dir().join("schema.toml")).expect("snapshot");
    let o = migrator_at(root, "sqlite::memory:", &["squash", "--to", "3"]);
    assert!(!o.status.success(), "{}", text(&o));
    let t = text(&o);
    assert!(
        t.contains("0002_create_posts.toml") && t.contains("--to 1"),
        "{t}"
    );
    assert_eq!(files(&p.migrations_dir()), before);
    assert_eq!(
        std::fs::read_to_string(p.migrations_dir().join("schema.toml")).expect("snapshot"),
        snapshot
    );
    // Before it, the squash is fine.
    ok_at(root, "sqlite::memory:", &["squash", "--to", "1"]);
    ok_at(root, "sqlite::memory:", &["check"]);
}

#[test]
fn an_edited_squashed_file_or_replaces_list_is_refused() {
    let p = project();
    let root = p.root();
    ok_at(root, "sqlite::memory:", &["squash", "--to", "2"]);
    let path = p.migrations_dir().join("0002_squashed.toml");
    let good = std::fs::read_to_string(&path).expect("squashed");
    // An edited baseline.
    std::fs::write(&path, good.replace("varchar(200)", "varchar(300)")).expect("edit");
    let o = migrator_at(root, "sqlite::memory:", &["check"]);
    assert!(!o.status.success());
    assert!(
        text(&o).contains("0002_squashed.toml") && text(&o).contains("edited"),
        "{}",
        text(&o)
    );
    // A replaced checksum that is not the old one.
    let first = good.find("checksum = \"").expect("checksum") + "checksum = \"".len();
    let mut forged = good.clone();
    forged.replace_range(first..first + 4, "0000");
    std::fs::write(&path, forged).expect("edit");
    let o = migrator_at(root, "sqlite::memory:", &["check"]);
    assert!(!o.status.success());
    assert!(text(&o).contains("0002_squashed.toml"), "{}", text(&o));
    std::fs::write(&path, &good).expect("restore");
    ok_at(root, "sqlite::memory:", &["check"]);
}
