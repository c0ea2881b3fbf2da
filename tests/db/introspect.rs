//! Introspection on real databases: every kind of operation rendered,
//! applied and read back (render -> apply -> introspect == modelled
//! schema, up, down and up again), and the report of objects the model does
//! not cover.
//!
//! The operations are the kinds of `migrator-core/tests/sqlite_render.rs`,
//! on a fixture both PostgreSQL and SQLite accept (users, tasks, comments,
//! tags). Each case starts from an empty namespace: a fresh in-memory
//! database on SQLite, a fresh schema (`search_path`) on PostgreSQL.

use migrator_core::dialect::render_op;
use migrator_core::introspect::{self, Introspect, OutsideKind};
use migrator_core::ops::{replay, Operation};
use migrator_core::runner::MigrationConnection;
use migrator_core::schema::{
    Check, Column, ColumnType, DefaultValue, ForeignKey, Index, RefAction, Schema, Table, Unique,
};

#[path = "../../migrator-core/tests/support/schema_fixtures.rs"]
mod schema_fixtures;
use migrator_core::schema;
use schema_fixtures::*;

/// A connection the round trip can drive.
pub trait Db: MigrationConnection + Introspect {}
impl<T: MigrationConnection + Introspect> Db for T {}

/// Runs statements as the runner does: guards first, checks and
/// generated statements (`refuses`, `each_row`) evaluated.
fn run<C: Db>(c: &mut C, op: &Operation, before: &Schema, label: &str) {
    let stmts = render_op(c.dialect(), op, before)
        .unwrap_or_else(|e| panic!("{label}: rendering {op}: {e}"));
    for s in stmts {
        super::support::run_statement(c, &s)
            .unwrap_or_else(|e| panic!("{label}: {op}\n  failed: {e}"));
    }
}

/// The live schema, read back, equals `schema` as introspection reports it.
pub fn assert_reads_back<C: Db>(c: &mut C, schema: &Schema, label: &str) {
    let live = introspect::schema(c).unwrap_or_else(|e| panic!("{label}: introspect: {e}"));
    let want = introspect::expected(c, schema).unwrap_or_else(|e| panic!("{label}: expected: {e}"));
    let drift: Vec<String> = introspect::compare(&live.schema, &want)
        .iter()
        .map(|d| d.to_string())
        .collect();
    assert!(
        drift.is_empty(),
        "{label}: drift:\n  {}",
        drift.join("\n  ")
    );
    assert_eq!(live.schema, want, "{label}");
    assert!(live.outside.is_empty(), "{label}: {:?}", live.outside);
}

fn create_all<C: Db>(c: &mut C, schema: &Schema) {
    let mut before = Schema::new();
    // Referenced tables first: users, tags, tasks, comments, then the rest.
    let mut names: Vec<&String> = schema.tables.keys().collect();
    let rank = |n: &str| {
        ["users", "tags", "tasks", "comments"]
            .iter()
            .position(|x| *x == n)
            .unwrap_or(9)
    };
    names.sort_by_key(|n| rank(n));
    for name in names {
        let op = Operation::CreateTable {
            table: schema.tables[name].clone(),
        };
        run(c, &op, &before, "fixture");
        op.apply(&mut before).expect("fixture applies");
    }
}

// ---- fixtures ------------------------------------------------------------------

fn comments() -> Table {
    let mut t = Table::new("comments");
    t.columns = vec![
        auto(col("id", ColumnType::Integer)),
        col("task_id", ColumnType::BigInt),
        nullable(col("author_id", ColumnType::BigInt)),
        col("body", ColumnType::Text),
    ];
    t.primary_key = vec!["id".into()];
    t.foreign_keys = vec![fk(
        "fk_comments_task_id",
        "task_id",
        "tasks",
        RefAction::Cascade,
    )];
    t
}

fn tags() -> Table {
    let mut t = Table::new("tags");
    t.columns = vec![
        col("name", ColumnType::Varchar(50)),
        col("kind", ColumnType::Varchar(20)),
        nullable(col("weight", ColumnType::Double)),
    ];
    t.primary_key = vec!["name".into()];
    t
}

/// Every portable type, and every kind of default, in one table.
fn every() -> Table {
    let mut t = Table::new("every");
    let types = [
        ColumnType::SmallInt,
        ColumnType::Integer,
        ColumnType::BigInt,
        ColumnType::Real,
        ColumnType::Double,
        ColumnType::Boolean,
        ColumnType::Text,
        ColumnType::Varchar(20),
        ColumnType::Blob,
        ColumnType::Date,
        ColumnType::Time,
        ColumnType::Timestamp,
        ColumnType::TimestampTz,
        ColumnType::Uuid,
        ColumnType::Json,
        ColumnType::Custom("NUMERIC(12, 2)".into()),
        ColumnType::Custom("CHAR(3)".into()),
    ];
    for (i, ty) in types.into_iter().enumerate() {
        t.columns.push(nullable(col(&format!("t{i}"), ty)));
    }
    let defaults = [
        (ColumnType::SmallInt, DefaultValue::Int(-3)),
        (ColumnType::BigInt, DefaultValue::Int(9_000_000_000)),
        (ColumnType::Double, DefaultValue::Float(1.5)),
        (ColumnType::Double, DefaultValue::Float(-2.25)),
        (ColumnType::Double, DefaultValue::Float(1e300)),
        (ColumnType::Real, DefaultValue::Float(0.5)),
        (ColumnType::Boolean, DefaultValue::Bool(true)),
        (ColumnType::Text, DefaultValue::Str("it's".into())),
        (ColumnType::Varchar(10), DefaultValue::Str(String::new())),
        (ColumnType::Date, DefaultValue::Str("2024-01-31".into())),
        (
            ColumnType::Timestamp,
            DefaultValue::Sql("CURRENT_TIMESTAMP".into()),
        ),
        (ColumnType::Text, DefaultValue::Sql("lower('X')".into())),
        (ColumnType::Integer, DefaultValue::Sql("(1 + 2)".into())),
        (
            ColumnType::Custom("NUMERIC(12, 2)".into()),
            DefaultValue::Int(0),
        ),
    ];
    for (i, (ty, d)) in defaults.into_iter().enumerate() {
        t.columns.push(with_default(col(&format!("d{i}"), ty), d));
    }
    t.checks = vec![Check {
        name: "ck_every_1".into(),
        expr: "t0 > 0 AND (t1 < 10 OR t1 IS NULL) AND t7 <> ''".into(),
    }];
    t
}

fn fixture() -> Schema {
    let mut s = Schema::new();
    for t in [users(), tasks(), comments(), tags()] {
        s.insert(t);
    }
    s.normalize();
    s
}

fn column_of(t: &Table, name: &str) -> Column {
    t.column(name)
        .cloned()
        .unwrap_or_else(|| panic!("no column {name}"))
}

/// One operation of every kind (several for the kinds with variants), each
/// with the schema it applies to.
fn cases() -> Vec<(Schema, Operation)> {
    let base = fixture();
    let mut without_comments = base.clone();
    without_comments.tables.remove("comments");
    let t = |table: &str| table.to_string();
    let alter = |table: &str, from: Column, to: Column| Operation::AlterColumn {
        table: t(table),
        from,
        to,
    };
    let mut out = vec![
        (
            without_comments,
            Operation::CreateTable { table: comments() },
        ),
        (base.clone(), Operation::CreateTable { table: every() }),
        (base.clone(), Operation::DropTable { table: comments() }),
        (
            base.clone(),
            Operation::RenameTable {
                from: t("tasks"),
                to: t("todo_items"),
            },
        ),
        (
            base.clone(),
            Operation::AddColumn {
                table: t("tasks"),
                column: nullable(col("notes", ColumnType::Text)),
            },
        ),
        (
            base.clone(),
            Operation::AddColumn {
                table: t("tasks"),
                column: with_default(col("points", ColumnType::Integer), DefaultValue::Int(3)),
            },
        ),
        (
            base.clone(),
            Operation::AddColumn {
                table: t("users"),
                column: with_default(
                    col("joined_at", ColumnType::Timestamp),
                    DefaultValue::Sql("CURRENT_TIMESTAMP".into()),
                ),
            },
        ),
        (
            base.clone(),
            Operation::AddColumn {
                table: t("users"),
                column: with_default(col("score", ColumnType::Double), DefaultValue::Float(0.5)),
            },
        ),
        (
            base.clone(),
            Operation::AddColumn {
                table: t("users"),
                column: with_default(col("active", ColumnType::Boolean), DefaultValue::Bool(true)),
            },
        ),
        (
            base.clone(),
            Operation::DropColumn {
                table: t("users"),
                column: column_of(&users(), "name"),
            },
        ),
        (
            base.clone(),
            Operation::RenameColumn {
                table: t("tasks"),
                from: t("title"),
                to: t("name"),
            },
        ),
        (
            base.clone(),
            Operation::RenameColumn {
                table: t("users"),
                from: t("id"),
                to: t("user_pk"),
            },
        ),
        (
            base.clone(),
            alter(
                "tasks",
                column_of(&tasks(), "title"),
                col("title", ColumnType::Text),
            ),
        ),
        (
            base.clone(),
            alter(
                "tasks",
                column_of(&tasks(), "priority"),
                with_default(
                    col("priority", ColumnType::Varchar(20)),
                    DefaultValue::Str("low".into()),
                ),
            ),
        ),
        (
            base.clone(),
            alter(
                "users",
                column_of(&users(), "name"),
                with_default(
                    col("name", ColumnType::Varchar(50)),
                    DefaultValue::Str("anon".into()),
                ),
            ),
        ),
        (
            base.clone(),
            alter(
                "tasks",
                column_of(&tasks(), "created_at"),
                nullable(col("created_at", ColumnType::TimestampTz)),
            ),
        ),
        (
            base.clone(),
            alter(
                "comments",
                column_of(&comments(), "id"),
                col("id", ColumnType::Integer),
            ),
        ),
        (
            base.clone(),
            alter(
                "tags",
                column_of(&tags(), "weight"),
                with_default(
                    col("weight", ColumnType::Custom("NUMERIC(8, 3)".into())),
                    DefaultValue::Float(1.25),
                ),
            ),
        ),
        (
            base.clone(),
            Operation::SetPrimaryKey {
                table: t("tags"),
                from: vec![t("name")],
                to: vec![t("name"), t("kind")],
            },
        ),
        (
            base.clone(),
            Operation::SetPrimaryKey {
                table: t("tags"),
                from: vec![t("name")],
                to: vec![],
            },
        ),
        (
            base.clone(),
            Operation::CreateIndex {
                table: t("tasks"),
                index: Index {
                    name: "idx_tasks_user_id_done".into(),
                    columns: vec![t("user_id"), t("done")],
                },
            },
        ),
        (
            base.clone(),
            Operation::DropIndex {
                table: t("tasks"),
                index: tasks().indexes[0].clone(),
            },
        ),
        (
            base.clone(),
            Operation::AddUnique {
                table: t("tags"),
                unique: Unique {
                    name: "uq_tags_kind_weight".into(),
                    columns: vec![t("kind"), t("weight")],
                    nulls_not_distinct: false,
                },
            },
        ),
        (
            base.clone(),
            Operation::DropUnique {
                table: t("tasks"),
                unique: tasks().uniques[0].clone(),
            },
        ),
        (
            base.clone(),
            Operation::AddForeignKey {
                table: t("comments"),
                foreign_key: ForeignKey {
                    on_update: RefAction::Restrict,
                    ..fk(
                        "fk_comments_author_id",
                        "author_id",
                        "users",
                        RefAction::SetNull,
                    )
                },
            },
        ),
        (
            base.clone(),
            Operation::DropForeignKey {
                table: t("tasks"),
                foreign_key: tasks().foreign_keys[0].clone(),
            },
        ),
        (
            base.clone(),
            Operation::AddCheck {
                table: t("users"),
                check: Check {
                    name: "ck_users_1".into(),
                    expr: "length(email) > 3 AND email LIKE '%@%'".into(),
                },
            },
        ),
        (
            base.clone(),
            Operation::DropCheck {
                table: t("tasks"),
                check: tasks().checks[0].clone(),
            },
        ),
    ];
    // Auto-increment off and on again.
    let mut comments_plain = base.clone();
    if let Some(c) = comments_plain
        .tables
        .get_mut("comments")
        .and_then(|t| t.column_mut("id"))
    {
        c.auto_increment = false;
    }
    out.push((
        comments_plain,
        alter(
            "comments",
            col("id", ColumnType::Integer),
            auto(col("id", ColumnType::Integer)),
        ),
    ));
    // A primary key's name (PostgreSQL keeps it; MySQL and SQLite run
    // nothing and read no name back): named, created named, changed while
    // named, renamed with its table (issue 17).
    out.push((
        base.clone(),
        Operation::SetPrimaryKeyName {
            table: t("tags"),
            from: None,
            to: Some(t("pk_tags")),
        },
    ));
    let mut named = base.clone();
    if let Some(tags) = named.tables.get_mut("tags") {
        tags.primary_key_name = Some(t("pk_tags"));
    }
    let mut named_tags = tags();
    named_tags.name = t("labels");
    named_tags.primary_key_name = Some(t("pk_labels"));
    out.push((base.clone(), Operation::CreateTable { table: named_tags }));
    out.push((
        named.clone(),
        Operation::SetPrimaryKey {
            table: t("tags"),
            from: vec![t("name")],
            to: vec![t("name"), t("kind")],
        },
    ));
    out.push((
        named,
        Operation::RenameTable {
            from: t("tags"),
            to: t("tag_names"),
        },
    ));
    // SQLite's table options (the others ignore them): created with them,
    // kept by a rebuild, a column added in a strict type (issue 17).
    let mut options = base.clone();
    if let Some(tags) = options.tables.get_mut("tags") {
        tags.strict = true;
        tags.without_rowid = true;
    }
    let mut strict_tags = tags();
    strict_tags.name = t("strict_tags");
    strict_tags.strict = true;
    strict_tags.without_rowid = true;
    out.push((base.clone(), Operation::CreateTable { table: strict_tags }));
    let weight = column_of(&tags(), "weight");
    let mut weight_not_null = weight.clone();
    weight_not_null.nullable = false;
    weight_not_null.default = Some(DefaultValue::Float(1.5));
    out.push((options.clone(), alter("tags", weight, weight_not_null)));
    out.push((
        options.clone(),
        Operation::AddColumn {
            table: t("tags"),
            column: nullable(col("seen", ColumnType::Timestamp)),
        },
    ));
    out.push((
        options,
        Operation::AddCheck {
            table: t("tags"),
            check: Check {
                name: t("ck_tags_kind"),
                expr: t("kind <> ''"),
            },
        },
    ));
    out
}

/// For every case: fixture, up, down, up again, reading the schema back
/// after each. `fresh(n)` gives an empty database (or schema) for case `n`.
pub fn operations_round_trip<C: Db>(mut fresh: impl FnMut(usize) -> C) {
    let cases = cases();
    assert!(cases.len() >= 25, "a case per operation kind");
    // MySQL refuses a TEXT column in a key: the one case that makes a keyed
    // column TEXT (`tasks.title`, in a unique constraint) must be refused at
    // render time, with the hint, and no other.
    let mut refused = Vec::new();
    let mut mysql = false;
    for (n, (base, op)) in cases.into_iter().enumerate() {
        let label = format!("case {n} ({})", op.kind());
        let after = replay(&base, std::slice::from_ref(&op))
            .unwrap_or_else(|e| panic!("{label}: {op} does not apply to its fixture: {e}"));
        let mut c = fresh(n);
        if c.dialect() == migrator_core::dialect::Dialect::Mysql {
            mysql = true;
            if let Err(e) = render_op(c.dialect(), &op, &base) {
                assert!(e.to_string().contains("cannot be part of"), "{label}: {e}");
                refused.push(op.kind().to_string());
                continue;
            }
        }
        create_all(&mut c, &base);
        assert_reads_back(&mut c, &base, &format!("{label}: fixture"));
        run(&mut c, &op, &base, &label);
        assert_reads_back(&mut c, &after, &format!("{label}: up"));
        run(&mut c, &op.inverse(), &after, &label);
        assert_reads_back(&mut c, &base, &format!("{label}: down"));
        run(&mut c, &op, &base, &label);
        assert_reads_back(&mut c, &after, &format!("{label}: up again"));
    }
    let want: &[&str] = if mysql { &["alter_column"] } else { &[] };
    assert_eq!(refused, want, "refused by the dialect");
}

// ---- objects outside the model -------------------------------------------------

/// The model part of the hand-written databases below.
fn plain_table() -> Schema {
    let mut t = Table::new("t");
    t.columns = vec![
        col("id", ColumnType::BigInt),
        nullable(col("a", ColumnType::Text)),
        nullable(col("b", ColumnType::Integer)),
    ];
    t.primary_key = vec!["id".into()];
    let mut s = Schema::new();
    s.insert(t);
    s
}

/// (kind, name) of every object outside the model, in report order.
fn outside<C: Db>(c: &mut C) -> Vec<(OutsideKind, String)> {
    introspect::schema(c)
        .expect("introspects")
        .outside
        .into_iter()
        .map(|o| (o.kind, o.name))
        .collect()
}

pub fn sqlite_outside_objects(c: &mut diesel::sqlite::SqliteConnection) {
    c.execute(
        "CREATE TABLE t (id INTEGER NOT NULL PRIMARY KEY, a TEXT, b INTEGER);
         CREATE VIEW v AS SELECT a FROM t;
         CREATE TRIGGER trg AFTER INSERT ON t BEGIN SELECT 1; END;
         CREATE INDEX idx_partial ON t (a) WHERE b > 0;",
    )
    .expect("hand-written DDL");
    assert_eq!(
        outside(c),
        vec![
            (OutsideKind::View, "v".to_string()),
            (OutsideKind::Trigger, "trg".to_string()),
            (OutsideKind::PartialIndex, "idx_partial".to_string()),
        ]
    );
    let v = introspect::verify(c, &plain_table()).expect("verifies");
    assert!(v.is_clean(), "{:?}", v.drift);
}

pub fn pg_outside_objects(c: &mut diesel::pg::PgConnection) {
    c.execute(
        "CREATE TABLE t (id BIGINT PRIMARY KEY, a TEXT, b INTEGER);
         CREATE TABLE s (id SERIAL PRIMARY KEY, k BIGINT GENERATED BY DEFAULT AS IDENTITY);
         CREATE VIEW v AS SELECT a FROM t;
         CREATE MATERIALIZED VIEW mv AS SELECT 1 AS x;
         CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NEW; END $$;
         CREATE TRIGGER trg BEFORE INSERT ON t FOR EACH ROW EXECUTE FUNCTION touch();
         CREATE INDEX idx_partial ON t (a) WHERE b > 0;
         CREATE INDEX idx_expr ON t (lower(a));
         CREATE TYPE mood AS ENUM ('sad', 'ok');
         CREATE DOMAIN email AS TEXT;
         CREATE SEQUENCE counter;
         ALTER TABLE t ADD CONSTRAINT no_overlap EXCLUDE (id WITH =);",
    )
    .expect("hand-written DDL");
    assert_eq!(
        outside(c),
        vec![
            (OutsideKind::EnumType, "mood".to_string()),
            (OutsideKind::DomainType, "email".to_string()),
            (OutsideKind::Sequence, "counter".to_string()),
            (OutsideKind::Function, "touch()".to_string()),
            (OutsideKind::View, "v".to_string()),
            (OutsideKind::MaterializedView, "mv".to_string()),
            (OutsideKind::Trigger, "trg".to_string()),
            (OutsideKind::PartialIndex, "idx_partial".to_string()),
            (OutsideKind::ExpressionIndex, "idx_expr".to_string()),
            (OutsideKind::ExclusionConstraint, "no_overlap".to_string()),
        ],
        "the serial's and the identity's sequences belong to their columns"
    );
    let live = introspect::schema(c).expect("introspects");
    let s = live.schema.table("s").expect("s");
    assert!(
        s.columns
            .iter()
            .all(|c| c.auto_increment && c.default.is_none()),
        "serial and identity are auto-increment: {:?}",
        s.columns
    );
    let mut model = plain_table();
    let mut st = Table::new("s");
    st.columns = vec![
        auto(col("id", ColumnType::Integer)),
        auto(col("k", ColumnType::BigInt)),
    ];
    st.primary_key = vec!["id".into()];
    model.insert(st);
    let v = introspect::verify(c, &model).expect("verifies");
    assert!(v.is_clean(), "{:?}", v.drift);
}

/// A session that cannot create even temporary tables (a read-only standby,
/// a read-only role) gets the textual normalisation instead of the probe;
/// `verify` still finds no drift on a database migrator built, and changes
/// nothing.
pub fn pg_verify_without_probe(c: &mut diesel::pg::PgConnection) {
    let mut s = fixture();
    s.insert(every());
    create_all(c, &s);
    c.execute("SET default_transaction_read_only = on")
        .expect("read-only session");
    let v = introspect::verify(c, &s).expect("verifies");
    let drift: Vec<String> = v.drift.iter().map(|d| d.to_string()).collect();
    assert!(drift.is_empty(), "drift:\n  {}", drift.join("\n  "));
    // The probe did not run: PostgreSQL's spelling of the check differs from
    // the snapshot's, and only the tolerant comparison accepts it.
    let want = &v.expected.tables["every"];
    assert_eq!(want.checks[0].expr, every().checks[0].expr);
    assert_ne!(
        v.live.schema.tables["every"].checks[0].expr,
        want.checks[0].expr
    );
}

#[cfg(feature = "mysql")]
pub fn mysql_outside_objects(c: &mut diesel::mysql::MysqlConnection) {
    c.execute(
        "CREATE TABLE t (id BIGINT NOT NULL PRIMARY KEY, a TEXT NULL, b INT NULL, g INT AS (b + 1) VIRTUAL, v VARCHAR(100) NULL);
         CREATE VIEW v AS SELECT a FROM t;
         CREATE TRIGGER trg BEFORE INSERT ON t FOR EACH ROW SET NEW.b = 1;
         CREATE FUNCTION plus_one(x INT) RETURNS INT DETERMINISTIC RETURN x + 1;
         CREATE PROCEDURE noop() BEGIN END;
         CREATE EVENT ev ON SCHEDULE EVERY 1 DAY DISABLE DO DELETE FROM t WHERE id < 0;
         CREATE INDEX idx_prefix ON t (v(10));
         CREATE FULLTEXT INDEX idx_ft ON t (a);",
    )
    .expect("hand-written DDL");
    assert_eq!(
        outside(c),
        vec![
            (OutsideKind::Function, "plus_one()".to_string()),
            (OutsideKind::Procedure, "noop()".to_string()),
            (OutsideKind::View, "v".to_string()),
            (OutsideKind::Trigger, "trg".to_string()),
            (OutsideKind::PartialIndex, "idx_prefix".to_string()),
            (OutsideKind::GeneratedColumn, "g".to_string()),
            (OutsideKind::Event, "ev".to_string()),
            (OutsideKind::FulltextIndex, "idx_ft".to_string()),
        ]
    );
    let live = introspect::schema(c).expect("introspects");
    assert!(live
        .outside
        .iter()
        .all(|o| o.definition.as_deref().is_some_and(|d| !d.is_empty())));
    let mut model = plain_table();
    model
        .tables
        .get_mut("t")
        .expect("t")
        .columns
        .push(nullable(col("v", ColumnType::Varchar(100))));
    let v = introspect::verify(c, &model).expect("verifies");
    assert!(v.is_clean(), "{:?}", v.drift);
}

/// SQLite: each integer and float width is declared with the name diesel's
/// schema inference reads back as the model's Rust type (SMALLINT `i16`,
/// INTEGER `i32`, BIGINT `i64`, REAL `f32`, DOUBLE `f64`), except the rowid
/// alias (the whole integer key of a rowid table), which stays exactly
/// `INTEGER` and still is the rowid. A database an earlier version declared
/// with INTEGER and REAL throughout verifies clean, with a note.
pub fn sqlite_declared_types_read_as_the_model(c: &mut diesel::sqlite::SqliteConnection) {
    let mut users = Table::new("users");
    users.columns = vec![
        auto(col("id", ColumnType::BigInt)),
        col("n16", ColumnType::SmallInt),
        col("n32", ColumnType::Integer),
        col("n64", ColumnType::BigInt),
        nullable(col("f32", ColumnType::Real)),
        nullable(col("f64", ColumnType::Double)),
    ];
    users.primary_key = vec!["id".into()];
    let mut items = Table::new("items");
    items.columns = vec![
        col("id", ColumnType::BigInt),
        col("user_id", ColumnType::BigInt),
    ];
    items.primary_key = vec!["id".into()];
    items.foreign_keys = vec![fk(
        "fk_items_user_id",
        "user_id",
        "users",
        RefAction::Cascade,
    )];
    let mut pairs = Table::new("pairs");
    pairs.columns = vec![col("a", ColumnType::BigInt), col("b", ColumnType::SmallInt)];
    pairs.primary_key = vec!["a".into(), "b".into()];
    let mut s = Schema::new();
    for t in [users, items, pairs] {
        s.insert(t);
    }
    create_all(c, &s);
    let declared = |c: &mut diesel::sqlite::SqliteConnection,
                    table: &str|
     -> Vec<(String, String)> {
        super::support::rows_sqlite(
            c,
            &format!("SELECT name AS a, type AS b, '' AS c, '' AS d FROM pragma_table_info('{table}') ORDER BY cid"),
        )
        .into_iter()
        .map(|r| (r.a, r.b))
        .collect()
    };
    let pairs_of = |v: &[(&str, &str)]| -> Vec<(String, String)> {
        v.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    };
    assert_eq!(
        declared(c, "users"),
        pairs_of(&[
            ("id", "INTEGER"),
            ("n16", "SMALLINT"),
            ("n32", "INTEGER"),
            ("n64", "BIGINT"),
            ("f32", "REAL"),
            ("f64", "DOUBLE"),
        ])
    );
    assert_eq!(
        declared(c, "items"),
        pairs_of(&[("id", "INTEGER"), ("user_id", "BIGINT")])
    );
    assert_eq!(
        declared(c, "pairs"),
        pairs_of(&[("a", "BIGINT"), ("b", "SMALLINT")])
    );
    // The keys are still the rowid: a row inserted without one gets it.
    c.execute("INSERT INTO users (n16, n32, n64) VALUES (1, 2, 9223372036854775807)")
        .expect("insert");
    c.execute("INSERT INTO items (user_id) VALUES (1)")
        .expect("insert");
    let rowid = super::support::rows_sqlite(
        c,
        "SELECT CAST(id = rowid AS TEXT) AS a, CAST(typeof(id) AS TEXT) AS b, '' AS c, '' AS d FROM items",
    );
    assert_eq!((rowid[0].a.as_str(), rowid[0].b.as_str()), ("1", "integer"));
    let wide = super::support::rows_sqlite(
        c,
        "SELECT CAST(n64 AS TEXT) AS a, '' AS b, '' AS c, '' AS d FROM users",
    );
    assert_eq!(wide[0].a, "9223372036854775807");
    assert_reads_back(c, &s, "declared types");
    let v = introspect::verify(c, &s).expect("verifies");
    assert!(v.is_clean(), "{:?}", v.drift);
    assert!(v.live.notes.is_empty(), "{:?}", v.live.notes);

    // The same tables as an earlier version declared them.
    c.execute(
        "DROP TABLE pairs; DROP TABLE items; DROP TABLE users;
         CREATE TABLE \"users\" (\"id\" INTEGER PRIMARY KEY AUTOINCREMENT, \"n16\" INTEGER NOT NULL, \"n32\" INTEGER NOT NULL, \"n64\" INTEGER NOT NULL, \"f32\" REAL, \"f64\" REAL);
         CREATE TABLE \"items\" (\"id\" INTEGER NOT NULL, \"user_id\" INTEGER NOT NULL, PRIMARY KEY (\"id\"), CONSTRAINT \"fk_items_user_id\" FOREIGN KEY (\"user_id\") REFERENCES \"users\" (\"id\") ON DELETE CASCADE);
         CREATE TABLE \"pairs\" (\"a\" INTEGER NOT NULL, \"b\" INTEGER NOT NULL, PRIMARY KEY (\"a\", \"b\"));",
    )
    .expect("an earlier version's tables");
    let v = introspect::verify(c, &s).expect("verifies");
    assert!(v.is_clean(), "{:?}", v.drift);
    assert_eq!(v.live.notes.len(), 1, "{:?}", v.live.notes);
    assert!(
        v.live.notes[0].starts_with(
            "6 column(s) are declared otherwise than migrator declares them now: `items.user_id` INTEGER (now BIGINT), `pairs.a` INTEGER (now BIGINT), `pairs.b` INTEGER (now SMALLINT), `users.n16` INTEGER (now SMALLINT), `users.n64` INTEGER (now BIGINT), `users.f64` REAL (now DOUBLE)"
        ),
        "{:?}",
        v.live.notes
    );
    // A real change is still drift, and so is a width declared otherwise
    // than INTEGER (only an earlier migrator's INTEGER is the same).
    c.execute("ALTER TABLE pairs ADD COLUMN extra TEXT")
        .expect("alter");
    let v = introspect::verify(c, &s).expect("verifies");
    assert_eq!(v.drift.len(), 1, "{:?}", v.drift);
    c.execute(
        "DROP TABLE pairs; CREATE TABLE \"pairs\" (\"a\" INTEGER NOT NULL, \"b\" BIGINT NOT NULL, PRIMARY KEY (\"a\", \"b\"));",
    )
    .expect("a BIGINT where the model says smallint");
    let v = introspect::verify(c, &s).expect("verifies");
    assert_eq!(
        v.drift.iter().map(|d| d.to_string()).collect::<Vec<_>>(),
        ["table `pairs`: column `b`: type is `bigint` in the database, `smallint` in the snapshot"]
    );

    // A hand-written single key declared `BIGINT` is no rowid alias: it is
    // read as declared, so a baseline of it keeps the declaration.
    c.execute("CREATE TABLE hand (id BIGINT PRIMARY KEY, v TEXT)")
        .expect("hand-written");
    let live = introspect::schema(c).expect("introspects");
    let hand = live.schema.table("hand").expect("hand");
    assert_eq!(
        hand.column("id").map(|c| &c.ty),
        Some(&ColumnType::Custom("BIGINT".into()))
    );
    let mut only = Schema::new();
    only.insert(hand.clone());
    let mut fresh = <diesel::sqlite::SqliteConnection as diesel::Connection>::establish(":memory:")
        .expect("in memory");
    create_all(&mut fresh, &only);
    assert_eq!(
        declared(&mut fresh, "hand")[0],
        ("id".to_string(), "BIGINT".to_string())
    );
    let v = introspect::verify(&mut fresh, &only).expect("verifies");
    assert!(v.is_clean(), "{:?}", v.drift);
}
