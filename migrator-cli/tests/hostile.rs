//! Hostile input through the runner: reserved words, mixed case and comment
//! markers as table and column names, defaults full of quotes, backslashes
//! and SQL, generated from model sources and applied up, down and up with
//! the binary on SQLite and PostgreSQL; the data and the introspected
//! schema are checked at each stage. And a database URL's password appears
//! in no output of `status`, `up`, `down` or `verify`, whether the
//! connection fails or succeeds.

mod common;

use common::{command, pg_base_url, text, Db, PgDb, TestProject};
use migrator_core::introspect;

/// The default of `"select"`: every quoting hazard at once.
const NASTY: &str = r#"it's "quoted" \ back\slash '); DROP TABLE "order"; -- /* x */"#;
/// The default of `"from"`, added to a table with rows.
const NASTY2: &str = r#"O'Reilly \' \\ ''"#;

const V1: &str = r##"
use migrator::Model;

#[derive(Model)]
#[model(table = "order")]
pub struct Order {
    #[model(primary_key, auto_increment)]
    pub id: i64,
    #[model(column = "select", max_length = 80, default = "it's \"quoted\" \\ back\\slash '); DROP TABLE \"order\"; -- /* x */")]
    pub select: String,
    #[model(column = "MixedCase", index)]
    pub mixed: i64,
    #[model(column = "a--b/*c*/", default = 0)]
    pub weird: i64,
    #[model(column = "group", unique, max_length = 40)] // MySQL: no unique TEXT
    pub group: Option<String>,
}

#[derive(Model)]
#[model(table = "Select$Table")]
pub struct Other {
    #[model(primary_key, auto_increment)]
    pub id: i64,
    #[model(column = "Order", foreign_key = "order.id", on_delete = "cascade", index)]
    pub order_id: i64,
}
"##;

const V2_EXTRA: &str = r##"
#[derive(Model)]
#[model(table = "user")]
pub struct User {
    #[model(primary_key, auto_increment)]
    pub id: i64,
    #[model(column = "from", max_length = 40, default = "O'Reilly \\' \\\\ ''")]
    pub from: String,
}
"##;

fn hostile_project() -> TestProject {
    let p = TestProject::new();
    p.set_models(V1);
    p.generate("create_hostile").expect("0001");
    // 0002 adds a column with a nasty default to a table with rows, and a
    // table named by a reserved word.
    let v2 = V1.replace(
        "    pub group: Option<String>,\n}",
        "    pub group: Option<String>,\n    #[model(column = \"from\", max_length = 40, default = \"O'Reilly \\\\' \\\\\\\\ ''\")]\n    pub from: String,\n}",
    );
    assert_ne!(v2, V1);
    p.set_models(&format!("{v2}{V2_EXTRA}"));
    p.generate("add_from").expect("0002");
    p
}

fn run(p: &TestProject, db: &Db, args: &[&str]) -> String {
    let o = command(p.root(), &db.url(), args).output().expect("runs");
    assert!(o.status.success(), "migrator {args:?}:\n{}", text(&o));
    text(&o)
}

fn schema_is(db: &Db, p: &TestProject, version: usize) {
    let set = p.set();
    let mut conn = db.connect();
    let live = introspect::schema(&mut conn).expect("introspects");
    let want = introspect::expected(&mut conn, &set.state(version)).expect("expected");
    assert_eq!(live.schema, want, "schema at version {version}");
}

fn exec(db: &Db, sql: &str) {
    db.connect()
        .execute(sql)
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// `("select", "MixedCase", "a--b/*c*/")` of each row of "order", by id.
fn orders(db: &Db) -> Vec<(String, String, String)> {
    let q = |n: &str| db.q(n);
    db.rows(&format!(
        "SELECT {} AS a, {} AS b, {} AS c, '' AS d FROM {} ORDER BY id",
        db.cast_text(&q("select")),
        db.cast_text(&q("MixedCase")),
        db.cast_text(&q("a--b/*c*/")),
        q("order")
    ))
    .into_iter()
    .map(|r| (r.a, r.b, r.c))
    .collect()
}

fn hostile_round_trip(db: &Db) {
    let p = hostile_project();
    let sql = run(&p, db, &["sql", "1", "--dialect", "postgres"]);
    assert!(
        sql.contains(r#"CREATE TABLE IF NOT EXISTS "order""#),
        "{sql}"
    );
    run(&p, db, &["up", "--to", "1"]);
    schema_is(db, &p, 1);
    let q = |n: &str| db.q(n);
    exec(
        db,
        &format!("INSERT INTO {} ({}) VALUES (7)", q("order"), q("MixedCase")),
    );
    exec(
        db,
        &format!(
            "INSERT INTO {} ({}) VALUES (1)",
            q("Select$Table"),
            q("Order")
        ),
    );
    assert_eq!(
        orders(db),
        vec![(NASTY.to_string(), "7".to_string(), "0".to_string())],
        "the default arrives byte for byte"
    );
    assert!(db.has_table("order"), "nothing was injected");
    run(&p, db, &["up"]);
    schema_is(db, &p, 2);
    let from = db.rows(&format!(
        "SELECT {} AS a, '' AS b, '' AS c, '' AS d FROM {}",
        db.cast_text(&q("from")),
        q("order")
    ));
    assert_eq!(from[0].a, NASTY2, "the new column's default fills old rows");
    exec(db, &format!("INSERT INTO {} (id) VALUES (1)", q("user")));
    let from = db.rows(&format!(
        "SELECT {} AS a, '' AS b, '' AS c, '' AS d FROM {}",
        db.cast_text(&q("from")),
        q("user")
    ));
    assert_eq!(from[0].a, NASTY2);
    let verify = run(&p, db, &["verify"]);
    assert!(verify.starts_with("ok:"), "{verify}");
    // Down one: the added column and table go, the rows stay.
    run(&p, db, &["down"]);
    schema_is(db, &p, 1);
    assert_eq!(
        orders(db),
        vec![(NASTY.to_string(), "7".to_string(), "0".to_string())]
    );
    // All the way down and up again.
    run(&p, db, &["down", "--to", "0"]);
    schema_is(db, &p, 0);
    run(&p, db, &["up"]);
    schema_is(db, &p, 2);
    run(&p, db, &["redo"]);
    schema_is(db, &p, 2);
    let verify = run(&p, db, &["verify"]);
    assert!(verify.starts_with("ok:"), "{verify}");
}

#[test]
fn hostile_names_and_defaults_on_sqlite() {
    hostile_round_trip(&Db::sqlite());
}

#[test]
fn hostile_names_and_defaults_on_postgres() {
    let Some(base) = pg_base_url() else { return };
    hostile_round_trip(&Db::Pg(PgDb::create(&base, "hostile")));
}

/// Every database command, on a URL with a password, connecting or not.
#[test]
fn passwords_appear_in_no_output() {
    let Some(base) = pg_base_url() else { return };
    let p = common::project();
    let secret = "Sup3r-s3cret%21pw";
    let decoded = "Sup3r-s3cret!pw";
    let pg = PgDb::create(&base, "secret");
    // The test server trusts local connections, so a password in the URL
    // still connects: the success paths print the URL too.
    let good = pg.url.replacen(
        "postgres://postgres@",
        &format!("postgres://postgres:{secret}@"),
        1,
    );
    assert_ne!(good, pg.url, "the base URL has the expected form");
    let bad = format!("postgres://postgres:{secret}@127.0.0.1:1/nope");
    let bad_host = format!("postgres://postgres:{secret}@no-such-host.invalid/nope");
    let commands: [&[&str]; 8] = [
        &["status"],
        &["up", "--to", "1"],
        &["up", "--dry-run"],
        &["up"],
        &["verify"],
        &["down"],
        &["redo"],
        &["down", "--to", "0"],
    ];
    for url in [&good, &bad, &bad_host] {
        for args in commands {
            // Both ways of giving the URL.
            let by_env = command(p.root(), url, args).output().expect("runs");
            let by_flag = std::process::Command::new(env!("CARGO_BIN_EXE_migrator"))
                .arg("--dir")
                .arg(p.root())
                .arg("--database-url")
                .arg(url)
                .args(args)
                .env_remove("DATABASE_URL")
                .output()
                .expect("runs");
            for o in [by_env, by_flag] {
                let t = text(&o);
                assert!(
                    !t.contains(secret) && !t.contains(decoded),
                    "{args:?} printed the password:\n{t}"
                );
                if url == &good {
                    assert!(o.status.success() || args == ["verify"], "{args:?}: {t}");
                } else {
                    assert_eq!(o.status.code(), Some(1), "{args:?}: {t}");
                    assert!(t.contains("postgres:***@"), "{args:?}: {t}");
                }
            }
        }
    }
    // A failing statement's error names the database without the password.
    let o = command(p.root(), &good, &["verify"])
        .output()
        .expect("runs");
    assert!(!text(&o).contains(secret), "{}", text(&o));
    assert!(text(&o).contains("postgres:***@"), "{}", text(&o));
}

#[cfg(feature = "mysql")]
mod mysql {
    use super::*;
    use common::{mysql_base_url, MyDb, MyUser};

    #[test]
    fn hostile_names_and_defaults_on_mysql() {
        let Some(base) = mysql_base_url() else { return };
        hostile_round_trip(&Db::My(MyDb::create(&base, "hostile")));
    }

    /// Every database command, on a mysql:// URL with a password (a user
    /// created for the test, so the password is checked), connecting or
    /// not.
    #[test]
    fn mysql_passwords_appear_in_no_output() {
        let Some(base) = mysql_base_url() else { return };
        let my = MyDb::create(&base, "secret");
        let decoded = "Sup3r-s3cret!pw";
        let secret = "Sup3r-s3cret%21pw";
        let account = MyUser::create(&base, &my, decoded, secret);
        let user = account.name.clone();
        let host = base.rsplit('@').next().expect("host");
        let good = account.url.clone();
        let wrong = format!("mysql://{user}:{secret}x@{host}/{}", my.name);
        let bad = format!("mysql://{user}:{secret}@127.0.0.1:1/nope");
        let p = common::project();
        let commands: [&[&str]; 8] = [
            &["status"],
            &["up", "--to", "1"],
            &["up", "--dry-run"],
            &["up"],
            &["verify"],
            &["down"],
            &["redo"],
            &["down", "--to", "0"],
        ];
        let mut succeeded = 0;
        for url in [&good, &wrong, &bad] {
            for args in commands {
                let by_env = command(p.root(), url, args).output().expect("runs");
                let by_flag = std::process::Command::new(env!("CARGO_BIN_EXE_migrator"))
                    .arg("--dir")
                    .arg(p.root())
                    .arg("--database-url")
                    .arg(url)
                    .args(args)
                    .env_remove("DATABASE_URL")
                    .output()
                    .expect("runs");
                for o in [by_env, by_flag] {
                    let t = text(&o);
                    assert!(
                        !t.contains(secret) && !t.contains(decoded),
                        "{args:?} printed the password:\n{t}"
                    );
                    if url == &good {
                        assert!(o.status.success() || args == ["verify"], "{args:?}: {t}");
                        succeeded += usize::from(o.status.success());
                    } else {
                        assert_eq!(o.status.code(), Some(1), "{args:?}: {t}");
                        assert!(t.contains(&format!("{user}:***@")), "{args:?}: {t}");
                    }
                }
            }
        }
        assert!(succeeded >= 14, "the good URL connects: {succeeded}");
        let o = command(p.root(), &good, &["verify"])
            .output()
            .expect("runs");
        assert!(!text(&o).contains(secret), "{}", text(&o));
        assert!(text(&o).contains(&format!("{user}:***@")), "{}", text(&o));
    }
}
