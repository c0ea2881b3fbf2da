//! SQL injection through the fragments that reach DDL (issue 19, item 4),
//! on SQLite, PostgreSQL and MariaDB, through the binary.
//!
//! Each model attribute and each migration-file field that is pasted into
//! SQL (`sql_type` / `type = "sql:.."`, `default_sql` / `default = { sql }`,
//! `check` / `check(name, expr)` / `add_check`, backfill `set` and `where`
//! and their `reverse`, the snapshot's tables) gets a payload that would drop
//! or alter something; the command (`generate`, `check`, `lint`, `up`) must
//! refuse it with a message naming the file, line and field, and the catalog
//! (tables, columns, keys, indexes, constraints, objects outside the model,
//! history) and the data must be as they were. The same file without the
//! payload then applies, so the refusal is the payload's. Names containing
//! `"`, `` ` `` and `'` are created as written, with nothing else changed.

mod common;

use common::{command, pg_base_url, text, Db, PgDb, TestProject};
use migrator_core::introspect;
use migrator_core::migration::{self, MigrationFile};
use migrator_core::ops::{inverse_all, Backfill, BackfillReverse, Operation};
use migrator_core::schema::{Check, Column, ColumnType, ForeignKey, Index, Table, Unique};
use migrator_core::snapshot::{chain_of, file_entry, Snapshot};

const MODELS: &str = r#"
use migrator::Model;

#[derive(Model)]
#[model(table = "victim")]
pub struct Victim {
    #[model(primary_key)]
    pub id: i64,
    pub secret: String,
}

#[derive(Model)]
#[model(table = "acct")]
pub struct Acct {
    #[model(primary_key)]
    pub id: i64,
    pub secret: String,
    pub a: i32,
}
"#;

/// What the catalog looks like, as introspection reads it (tables,
/// columns, keys, indexes, constraints and every object outside the model),
/// with the history and the rows of the two tables.
#[derive(Debug, PartialEq)]
struct Catalog {
    schema: migrator_core::schema::Schema,
    outside: Vec<introspect::Outside>,
    history: Vec<(u32, String, usize)>,
    rows: Vec<String>,
}

fn catalog(db: &Db) -> Catalog {
    let mut conn = db.connect();
    let live = introspect::schema(&mut conn).expect("introspects");
    let mut rows = Vec::new();
    for t in ["victim", "acct"] {
        if db.has_table(t) {
            rows.extend(
                db.rows(&format!(
                    "SELECT {} AS a, secret AS b, '' AS c, '' AS d FROM {} ORDER BY id",
                    db.cast_text("id"),
                    db.q(t)
                ))
                .into_iter()
                .map(|r| format!("{t}: {} {}", r.a, r.b)),
            );
        }
    }
    Catalog {
        schema: live.schema,
        outside: live.outside,
        history: db.history(),
        rows,
    }
}

fn run(p: &TestProject, db: &Db, args: &[&str]) -> String {
    let o = command(p.root(), &db.url(), args).output().expect("runs");
    assert!(o.status.success(), "migrator {args:?}:\n{}", text(&o));
    text(&o)
}

/// Runs a command that must be refused; returns its output.
fn refused(p: &TestProject, db: &Db, args: &[&str]) -> String {
    let o = command(p.root(), &db.url(), args).output().expect("runs");
    assert!(
        !o.status.success(),
        "migrator {args:?} accepted the payload:\n{}",
        text(&o)
    );
    assert_ne!(
        o.status.code(),
        Some(101),
        "{args:?} panicked:\n{}",
        text(&o)
    );
    text(&o)
}

fn exec(db: &Db, sql: &str) {
    db.connect()
        .execute(sql)
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
}

fn migration_files(p: &TestProject) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(p.migrations_dir())
        .expect("migrations")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// 0001 (victim, acct) applied, with a row in each.
fn base(db: &Db) -> TestProject {
    let p = TestProject::new();
    p.set_models(MODELS);
    p.generate("create_tables").expect("0001");
    run(&p, db, &["up"]);
    exec(db, "INSERT INTO victim (id, secret) VALUES (1, 'v1')");
    exec(db, "INSERT INTO acct (id, secret, a) VALUES (1, 'a1', 5)");
    p
}

/// `(attribute lines, payload field spelled in the error)`: model changes
/// whose fragment is more than one type or expression.
const MODEL_PAYLOADS: &[(&str, &str, &str)] = &[
    (
        "",
        "    #[model(sql_type = \"int, DROP COLUMN secret\")]\n    pub x: Option<i32>,",
        "`sql_type = \"int, DROP COLUMN secret\"` is not one SQL type: at character 4: `,`",
    ),
    (
        "",
        "    #[model(sql_type = \"int; DROP TABLE victim\")]\n    pub x: Option<i32>,",
        "`sql_type = \"int; DROP TABLE victim\"` is not one SQL type: at character 4: `;`",
    ),
    (
        "",
        "    #[model(default_sql = \"1); DROP TABLE victim; --\")]\n    pub x: i32,",
        "`default_sql = \"1); DROP TABLE victim; --\"` is not one SQL expression: at character 2: `)`",
    ),
    (
        "",
        "    #[model(default_sql = \"0 NOT NULL\")]\n    pub x: Option<i32>,",
        "`default_sql = \"0 NOT NULL\"` is not one SQL expression: at character 7: `NULL`",
    ),
    (
        "#[model(check = \"a > 0) , DROP COLUMN secret , ADD CHECK (true\")]\n",
        "",
        "`check = \"a > 0) , DROP COLUMN secret , ADD CHECK (true\"` is not one SQL expression: at character 6: `)`",
    ),
    (
        "#[model(check(name = \"ck_x\", expr = \"'x' /* */ = 'x'\"))]\n",
        "",
        "`check = \"'x' /* */ = 'x'\"` is not one SQL expression: at character 5: a comment",
    ),
];

fn with_payload(struct_attr: &str, field: &str) -> String {
    let m = MODELS.replacen(
        "#[model(table = \"acct\")]\n",
        &format!("#[model(table = \"acct\")]\n{struct_attr}"),
        1,
    );
    m.replacen(
        "    pub a: i32,\n}",
        &format!("    pub a: i32,\n{field}\n}}"),
        1,
    )
}

fn model_payloads(db: &Db) {
    let p = base(db);
    let before = catalog(db);
    let files = migration_files(&p);
    let snapshot = std::fs::read_to_string(p.project().snapshot_path()).expect("snapshot");
    for (struct_attr, field, message) in MODEL_PAYLOADS {
        let src = with_payload(struct_attr, field);
        assert_ne!(src, MODELS);
        p.set_models(&src);
        for args in [&["generate", "add_x"][..], &["check"]] {
            let out = refused(&p, db, args);
            assert!(
                out.contains("src/models.rs:"),
                "{args:?} names the file:\n{out}"
            );
            assert!(
                out.contains(message),
                "{args:?}: expected {message:?} in:\n{out}"
            );
        }
        assert_eq!(migration_files(&p), files, "nothing written");
        assert_eq!(
            std::fs::read_to_string(p.project().snapshot_path()).expect("snapshot"),
            snapshot
        );
        assert_eq!(catalog(db), before, "{message}");
    }
    // The same change without the payload is generated (the refusal was
    // the payload's).
    p.set_models(&with_payload(
        "#[model(check = \"a > 0\")]\n",
        "    #[model(sql_type = \"INT\", default_sql = \"1\")]\n    pub x: i32,",
    ));
    run(&p, db, &["generate", "add_x"]);
    assert_eq!(migration_files(&p).len(), files.len() + 1);
}

/// 0002: add `x` (`sql:INT`, SQL default `1`) and check `a > 0` to acct,
/// then a backfill of `x`; returns the file's path and text.
fn good_0002(p: &TestProject) -> (std::path::PathBuf, String) {
    p.set_models(&with_payload(
        "#[model(check = \"a > 0\")]\n",
        "    #[model(sql_type = \"INT\", default_sql = \"1\")]\n    pub x: i32,",
    ));
    let g = p.generate("add_x").expect("0002");
    p.edit_and_rehash(&g.file_name, |f| {
        f.upgrade.push(Operation::Backfill(Backfill {
            table: "acct".into(),
            set: "x = 2".into(),
            predicate: "x = 1".into(),
            batch_size: 10,
            pause_ms: 0,
            reverse: Some(BackfillReverse {
                set: "x = 1".into(),
                predicate: "x = 2".into(),
            }),
        }));
        f.downgrade = inverse_all(&f.upgrade);
    });
    let path = p.migrations_dir().join(&g.file_name);
    let text = std::fs::read_to_string(&path).expect("0002");
    (path, text)
}

/// `(text in the good file, payload, field named in the error)`.
const FILE_PAYLOADS: &[(&str, &str, &str)] = &[
    (
        "\"sql:INT\"",
        "\"sql:INT, DROP COLUMN secret\"",
        "upgrade step 1: table `acct`, column `x`: type `sql:INT, DROP COLUMN secret` is not one SQL type at character 4: `,`",
    ),
    (
        "\"sql:INT\"",
        "\"sql:INT DEFAULT 0 NOT NULL\"",
        "column `x`: type `sql:INT DEFAULT 0 NOT NULL` is not one SQL type at character 5: `DEFAULT`",
    ),
    (
        "sql = \"1\"",
        "sql = \"1); DROP TABLE victim; --\"",
        "column `x`: default `sql = \"1); DROP TABLE victim; --\"` is not one expression at character 2: `)`",
    ),
    (
        "\"a > 0\"",
        "\"a > 0) , DROP COLUMN secret , ADD CHECK (true\"",
        "is not one expression at character 6: `)` closes a parenthesis that was not opened",
    ),
    (
        "set = \"x = 2\"",
        "set = \"x = 2; DROP TABLE victim\"",
        "backfill of `acct`: `set` `x = 2; DROP TABLE victim` is not a list of assignments at character 6: `;`",
    ),
    (
        "where = \"x = 1\"",
        "where = \"x = 1) OR (1 = 1\"",
        "backfill of `acct`: `where` `x = 1) OR (1 = 1` is not one condition at character 6: `)`",
    ),
    (
        "where = \"x = 2\"",
        "where = \"'x' /* */ = 'x'\"",
        "`reverse.where` `'x' /* */ = 'x'` is not one condition at character 5: a comment",
    ),
];

fn file_payloads(db: &Db) {
    let p = base(db);
    let (path, good) = good_0002(&p);
    let before = catalog(db);
    let file_name = path
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    for (needle, payload, message) in FILE_PAYLOADS {
        assert!(good.contains(needle), "{needle} in:\n{good}");
        let bad = good.replacen(needle, payload, 1);
        std::fs::write(&path, &bad).expect("write");
        let line = bad
            .lines()
            .position(|l| l.contains(payload))
            .expect("payload line")
            + 1;
        let at = format!("{file_name}:{line}:");
        for args in [
            &["check"][..],
            &["lint"],
            &["rehash"],
            &["up", "--dry-run"],
            &["up"],
        ] {
            let out = refused(&p, db, args);
            assert!(out.contains(&at), "{args:?} names {at}:\n{out}");
            assert!(
                out.contains(message),
                "{args:?}: expected {message:?} in:\n{out}"
            );
            assert_eq!(catalog(db), before, "{args:?} {payload}");
        }
    }
    // Without the payload the same file applies: the declared effect only.
    std::fs::write(&path, &good).expect("write");
    run(&p, db, &["up"]);
    let set = p.set();
    let mut conn = db.connect();
    let live = introspect::schema(&mut conn).expect("introspects");
    assert_eq!(
        live.schema,
        introspect::expected(&mut conn, &set.state(2)).expect("expected")
    );
    assert_eq!(live.outside, before.outside);
    let rows = db.rows("SELECT secret AS a, '' AS b, '' AS c, '' AS d FROM victim");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].a, "v1");
}

/// A snapshot edited to carry a payload is refused by `check` and
/// `generate`, naming it.
fn snapshot_payload(db: &Db) {
    let p = base(db);
    let path = p.project().snapshot_path();
    let good = std::fs::read_to_string(&path).expect("snapshot");
    let bad = good.replacen("\"integer\"", "\"sql:integer, DROP COLUMN secret\"", 1);
    assert_ne!(bad, good, "{good}");
    std::fs::write(&path, &bad).expect("write");
    let before = catalog(db);
    for args in [&["check"][..], &["generate", "x"], &["up"]] {
        let out = refused(&p, db, args);
        assert!(out.contains("schema.toml"), "{args:?}:\n{out}");
        assert!(
            out.contains("table `acct`, column `a`: type `sql:integer, DROP COLUMN secret` is not one SQL type at character 8: `,`"),
            "{args:?}:\n{out}"
        );
        assert_eq!(catalog(db), before);
    }
}

/// A name with every quote character: the object is created with exactly
/// that name, and nothing else.
const ODD: &str = "we\"ird`na'me";

fn odd_names(db: &Db) {
    let p = TestProject::new();
    p.set_models("");
    let mut victim = Table::new("victim");
    victim.columns = vec![
        Column::new("id", ColumnType::BigInt),
        Column::new("secret", ColumnType::Text),
    ];
    victim.primary_key = vec!["id".into()];
    let col = |n: &str| format!("c{n}");
    let mut odd = Table::new(ODD);
    odd.columns = vec![
        Column::new(col(ODD), ColumnType::BigInt),
        Column::new("n", ColumnType::Integer),
        Column::new("v", ColumnType::BigInt),
    ];
    odd.primary_key = vec![col(ODD)];
    odd.indexes.push(Index {
        name: format!("ix{ODD}"),
        columns: vec!["n".into()],
    });
    odd.uniques.push(Unique {
        name: format!("uq{ODD}"),
        columns: vec!["n".into(), col(ODD)],
        nulls_not_distinct: false,
    });
    odd.foreign_keys.push(ForeignKey {
        name: format!("fk{ODD}"),
        columns: vec!["v".into()],
        ref_table: "victim".into(),
        ref_columns: vec!["id".into()],
        on_delete: Default::default(),
        on_update: Default::default(),
    });
    odd.checks.push(Check {
        name: format!("ck{ODD}"),
        expr: "n > 0".into(),
    });
    let upgrade = vec![
        Operation::CreateTable { table: victim },
        Operation::CreateTable { table: odd },
    ];
    let downgrade = inverse_all(&upgrade);
    let file = MigrationFile::new("odd names", upgrade, downgrade);
    let dir = p.migrations_dir();
    std::fs::create_dir_all(&dir).expect("mkdir");
    std::fs::write(dir.join("0001_odd_names.toml"), file.to_text("by hand")).expect("write");
    let ms = migration::read_dir(&dir).expect("reads");
    let states = migration::replay_states(&dir, &ms).expect("replays");
    let snap = Snapshot {
        head: 1,
        chain: chain_of(ms.iter().map(|m| (m.version, m.checksum.as_str()))),
        files: ms
            .iter()
            .map(|m| file_entry(&m.checksum, &m.file_name))
            .collect(),
        schema: states.last().expect("state").clone(),
    };
    std::fs::write(p.project().snapshot_path(), snap.to_text()).expect("snapshot");
    let before = catalog(db);
    assert!(before.schema.tables.is_empty());
    run(&p, db, &["up"]);
    let set = p.set();
    let mut conn = db.connect();
    let live = introspect::schema(&mut conn).expect("introspects");
    assert_eq!(
        live.schema
            .tables
            .keys()
            .map(String::as_str)
            .collect::<Vec<_>>(),
        vec!["victim", ODD]
    );
    assert_eq!(
        live.schema,
        introspect::expected(&mut conn, &set.state(1)).expect("expected")
    );
    assert_eq!(live.outside, before.outside, "nothing else was created");
    // The odd name works as a table: a row goes in and comes back.
    exec(db, "INSERT INTO victim (id, secret) VALUES (1, 'v1')");
    exec(
        db,
        &format!(
            "INSERT INTO {} ({}, n, v) VALUES (1, 2, 1)",
            db.q(ODD),
            db.q(&col(ODD))
        ),
    );
    run(&p, db, &["redo"]);
    run(&p, db, &["down", "--to", "0"]);
    let after = catalog(db);
    assert!(after.schema.tables.is_empty(), "{after:?}");
    assert_eq!(after.outside, before.outside);
}

fn all(db: impl Fn() -> Db) {
    model_payloads(&db());
    file_payloads(&db());
    snapshot_payload(&db());
    odd_names(&db());
}

#[test]
fn injection_on_sqlite() {
    all(Db::sqlite);
}

#[test]
fn injection_on_postgres() {
    let Some(base) = pg_base_url() else { return };
    all(|| Db::Pg(PgDb::create(&base, "inject")));
}

#[cfg(feature = "mysql")]
mod mysql {
    use super::*;
    use common::{mysql_base_url, MyDb};

    #[test]
    fn injection_on_mysql() {
        let Some(base) = mysql_base_url() else { return };
        all(|| Db::My(MyDb::create(&base, "inject")));
    }
}
