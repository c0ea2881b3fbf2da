//! Unit tests of introspection: the normalisation rules one by one, the
//! comparison's messages, and SQLite (in memory) read back after migrator's
//! own rendering and after hand-written DDL. PostgreSQL is covered by the
//! integration suite (`tests/db`), which has a server.

use super::normalize::{default_value, expr_key, literal, strip_outer_parens, Lit, Source};
use super::*;
use crate::backend::postgres::types::{pg_format_guess, pg_type};
use crate::backend::sqlite::types::sqlite_type;
use crate::schema::{
    Check, Column, ColumnType, DefaultValue, ForeignKey, Index, RefAction, Table, Unique,
};

// ---- normalisation ---------------------------------------------------------

#[test]
fn literals_are_recognised_through_casts_signs_and_parentheses() {
    let cases: &[(&str, Lit, Option<&str>)] = &[
        (
            "'medium'::character varying",
            Lit::Str("medium".into()),
            Some("character varying"),
        ),
        ("'-1'::integer", Lit::Str("-1".into()), Some("integer")),
        ("-1", Lit::Int(-1), None),
        ("(-2.25)", Lit::Num("-2.25".into()), None),
        ("'it''s'", Lit::Str("it's".into()), None),
        ("false", Lit::Bool(false), None),
        ("NULL::text", Lit::Null, Some("text")),
        ("('{}'::jsonb)", Lit::Str("{}".into()), Some("jsonb")),
        ("1e300", Lit::Num("1e300".into()), None),
    ];
    for (text, lit, cast) in cases {
        assert_eq!(
            literal(text),
            Some((lit.clone(), cast.map(str::to_string))),
            "{text}"
        );
    }
    for not_literal in [
        "now()",
        "CURRENT_TIMESTAMP",
        "lower('X'::text)",
        "1 + 1",
        "'a' || 'b'",
    ] {
        assert_eq!(literal(not_literal), None, "{not_literal}");
    }
}

#[test]
fn defaults_are_typed_by_column() {
    use ColumnType as T;
    use DefaultValue as V;
    let pg = |e: &str, t: T| default_value(e, &t, Source::Postgres);
    assert_eq!(
        pg("'medium'::character varying", T::Varchar(20)),
        Some(V::Str("medium".into()))
    );
    assert_eq!(pg("'-1'::integer", T::Integer), Some(V::Int(-1)));
    assert_eq!(pg("'-2.25'::numeric", T::Double), Some(V::Float(-2.25)));
    assert_eq!(pg("1.5", T::Double), Some(V::Float(1.5)));
    // `real DEFAULT 0`, `double precision DEFAULT 0`: the float the model's
    // `default = 0` lowers to, on every database.
    assert_eq!(pg("0", T::Real), Some(V::Float(0.0)));
    assert_eq!(pg("0", T::Double), Some(V::Float(0.0)));
    assert_eq!(
        default_value("0", &T::Double, Source::Sqlite),
        Some(V::Float(0.0))
    );
    assert_eq!(pg("false", T::Boolean), Some(V::Bool(false)));
    assert_eq!(pg("'5'::text", T::Text), Some(V::Str("5".into())));
    assert_eq!(
        pg("CURRENT_TIMESTAMP", T::Timestamp),
        Some(V::Sql("CURRENT_TIMESTAMP".into()))
    );
    assert_eq!(pg("now()", T::TimestampTz), Some(V::Sql("now()".into())));
    assert_eq!(pg("NULL::text", T::Text), None);
    let lite = |e: &str, t: T| default_value(e, &t, Source::Sqlite);
    assert_eq!(lite("0", T::Boolean), Some(V::Bool(false)));
    assert_eq!(lite("1", T::Boolean), Some(V::Bool(true)));
    assert_eq!(lite("1", T::BigInt), Some(V::Int(1)));
    assert_eq!(lite("'it''s'", T::Text), Some(V::Str("it's".into())));
    assert_eq!(
        lite("lower('X')", T::Text),
        Some(V::Sql("lower('X')".into()))
    );
}

#[test]
fn postgres_types_map_back() {
    use ColumnType as T;
    let cases = [
        ("smallint", T::SmallInt),
        ("integer", T::Integer),
        ("bigint", T::BigInt),
        ("real", T::Real),
        ("double precision", T::Double),
        ("boolean", T::Boolean),
        ("text", T::Text),
        ("character varying(20)", T::Varchar(20)),
        ("bytea", T::Blob),
        ("date", T::Date),
        ("time without time zone", T::Time),
        ("timestamp without time zone", T::Timestamp),
        ("timestamp with time zone", T::TimestampTz),
        ("uuid", T::Uuid),
        ("jsonb", T::Json),
        ("numeric(12,2)", T::Custom("NUMERIC(12, 2)".into())),
        ("numeric", T::Custom("NUMERIC".into())),
        ("character(3)", T::Custom("CHAR(3)".into())),
        ("character varying", T::Custom("VARCHAR".into())),
        (
            "timestamp(3) without time zone",
            T::Custom("TIMESTAMP(3)".into()),
        ),
        (
            "timestamp(3) with time zone",
            T::Custom("TIMESTAMPTZ(3)".into()),
        ),
        ("time with time zone", T::Custom("TIMETZ".into())),
        ("json", T::Custom("JSON".into())),
        ("integer[]", T::Custom("INTEGER[]".into())),
        ("interval", T::Custom("INTERVAL".into())),
    ];
    for (format, ty) in cases {
        assert_eq!(pg_type(format, true), ty, "{format}");
    }
    // A user's type keeps its spelling.
    assert_eq!(pg_type("mood", false), T::Custom("mood".into()));
    assert_eq!(
        pg_type("public.\"Mood\"", false),
        T::Custom("public.\"Mood\"".into())
    );
}

#[test]
fn postgres_type_guess_agrees_with_format_type() {
    // What the textual fallback derives from a model's spelling must be what
    // `format_type` prints for it (checked against PostgreSQL 15 by hand and
    // by the integration suite through the probe).
    let cases = [
        ("NUMERIC(12, 2)", "numeric(12,2)"),
        ("decimal(10,0)", "numeric(10,0)"),
        ("INT", "integer"),
        ("int8", "bigint"),
        ("DOUBLE PRECISION", "double precision"),
        ("float8", "double precision"),
        ("VARCHAR(20)", "character varying(20)"),
        ("varchar", "character varying"),
        ("CHAR(3)", "character(3)"),
        ("char", "character(1)"),
        ("TIMESTAMPTZ", "timestamp with time zone"),
        ("timestamp(3)", "timestamp(3) without time zone"),
        ("TIMESTAMP(3) WITH TIME ZONE", "timestamp(3) with time zone"),
        ("TIME", "time without time zone"),
        ("timetz", "time with time zone"),
        ("BYTEA", "bytea"),
        ("JSONB", "jsonb"),
        ("int[]", "integer[]"),
        ("bool", "boolean"),
    ];
    for (sql, format) in cases {
        assert_eq!(pg_format_guess(sql).0, format, "{sql}");
    }
    assert!(pg_format_guess("NUMERIC(12, 2)").1);
    assert!(!pg_format_guess("mood").1);
}

#[test]
fn sqlite_types_map_back() {
    use ColumnType as T;
    assert_eq!(sqlite_type("INTEGER"), T::BigInt);
    assert_eq!(sqlite_type("integer"), T::BigInt);
    assert_eq!(sqlite_type("REAL"), T::Double);
    assert_eq!(sqlite_type("VARCHAR(20)"), T::Varchar(20));
    // SQLite itself reports `int`, `Int` as `INT`.
    assert_eq!(sqlite_type("int"), T::Custom("INT".into()));
    assert_eq!(sqlite_type(" Int "), sqlite_type("INT"));
    assert_eq!(sqlite_type("bigint"), T::BigInt);
    assert_eq!(sqlite_type("BIGINT"), T::BigInt);
    assert_eq!(sqlite_type("SMALLINT"), T::SmallInt);
    assert_eq!(sqlite_type("DOUBLE"), T::Double);
    assert_eq!(sqlite_type("varchar( 20 )"), T::Varchar(20));
    assert_eq!(sqlite_type("TIMESTAMPTZ"), T::TimestampTz);
    assert_eq!(
        sqlite_type("NUMERIC(12, 2)"),
        T::Custom("NUMERIC(12, 2)".into())
    );
    assert_eq!(sqlite_type("INT"), T::Custom("INT".into()));
}

#[test]
fn mysql_types_map_back() {
    use crate::backend::mysql::types::{mysql_canonical_type, mysql_type};
    let cases: &[(&str, ColumnType)] = &[
        ("tinyint(1)", ColumnType::Boolean),
        ("smallint(6)", ColumnType::SmallInt),
        ("int(11)", ColumnType::Integer),
        ("int", ColumnType::Integer),
        ("bigint(20)", ColumnType::BigInt),
        ("float", ColumnType::Real),
        ("double", ColumnType::Double),
        ("text", ColumnType::Text),
        ("varchar(20)", ColumnType::Varchar(20)),
        ("longblob", ColumnType::Blob),
        ("date", ColumnType::Date),
        ("time(6)", ColumnType::Time),
        ("datetime(6)", ColumnType::Timestamp),
        ("timestamp(6)", ColumnType::TimestampTz),
        ("char(36)", ColumnType::Uuid),
        ("json", ColumnType::Json),
        ("decimal(12,2)", ColumnType::Custom("DECIMAL(12,2)".into())),
        (
            "int(10) unsigned",
            ColumnType::Custom("INT UNSIGNED".into()),
        ),
        ("longtext", ColumnType::Custom("LONGTEXT".into())),
        (
            "enum('a','B c')",
            ColumnType::Custom("ENUM('a','B c')".into()),
        ),
    ];
    for (printed, ty) in cases {
        assert_eq!(&mysql_type(printed), ty, "{printed}");
    }
    // The snapshot side: what dialect/mysql.rs renders and sql_type
    // spellings read as COLUMN_TYPE would print them.
    for (sql, printed) in [
        ("BOOLEAN", "tinyint(1)"),
        ("INT", "int"),
        ("INTEGER", "int"),
        ("NUMERIC(12, 2)", "decimal(12,2)"),
        ("DECIMAL", "decimal(10,0)"),
        ("CHAR", "char(1)"),
        ("REAL", "double"),
        ("DOUBLE PRECISION", "double"),
        ("TIMESTAMP(6)", "timestamp(6)"),
        ("ENUM('a', 'B c')", "enum('a','B c')"),
        ("int(10)  UNSIGNED", "int unsigned"),
    ] {
        assert_eq!(mysql_canonical_type(sql), printed, "{sql}");
    }
    assert_eq!(
        mysql_type("NUMERIC(12, 2)"),
        mysql_type("decimal(12,2)"),
        "both sides agree"
    );
}

#[test]
fn mysql_expressions_have_one_spelling() {
    use crate::backend::mysql::types::{mysql_expr, mysql_unescape};
    // MariaDB's CHECK_CONSTRAINTS / SHOW CREATE, MySQL 8's CHECK_CLAUSE and
    // the snapshot's text of the same check.
    let maria = mysql_expr("`priority` in ('low','medium','high')");
    assert_eq!(maria, "priority in ('low', 'medium', 'high')");
    assert_eq!(
        mysql_expr("(`priority` in (_utf8mb4'low',_utf8mb4'medium',_utf8mb4'high'))"),
        maria
    );
    assert_eq!(mysql_expr("priority IN ('low', 'medium', 'high')"), maria);
    assert_eq!(mysql_expr("current_timestamp(6)"), "current_timestamp(6)");
    assert_eq!(mysql_expr("CURRENT_TIMESTAMP(6)"), "current_timestamp(6)");
    assert_eq!(mysql_expr("a != 1"), "a <> 1");
    assert_eq!(mysql_unescape("'it\\'s'"), "'it''s'");
    assert_eq!(mysql_unescape("'a\\\\b' + x\\y"), "'a\\b' + x\\y");
    assert_eq!(mysql_unescape("'it''s'"), "'it''s'");
}

#[test]
fn mysql_defaults_are_typed_by_column() {
    let m = |e: &str, ty: ColumnType| default_value(e, &ty, Source::Mysql);
    assert_eq!(m("1", ColumnType::Boolean), Some(DefaultValue::Bool(true)));
    assert_eq!(
        m("FALSE", ColumnType::Boolean),
        Some(DefaultValue::Bool(false))
    );
    assert_eq!(m("2", ColumnType::Double), Some(DefaultValue::Float(2.0)));
    assert_eq!(
        m("0", ColumnType::Custom("NUMERIC(12, 2)".into())),
        Some(DefaultValue::Float(0.0))
    );
    assert_eq!(
        m("0.00", ColumnType::Custom("DECIMAL(12,2)".into())),
        Some(DefaultValue::Float(0.0))
    );
    assert_eq!(m("5", ColumnType::Integer), Some(DefaultValue::Int(5)));
    assert_eq!(
        m("'x'", ColumnType::Text),
        Some(DefaultValue::Str("x".into()))
    );
    assert_eq!(m("NULL", ColumnType::Text), None);
}

#[test]
fn expression_keys_forgive_postgres_respelling() {
    let model = "priority IN ('low', 'medium', 'high')";
    let pg = "((priority)::text = ANY ((ARRAY['low'::character varying, 'medium'::character varying, 'high'::character varying])::text[]))";
    assert_eq!(expr_key(model), expr_key(pg));
    assert_eq!(
        expr_key("i > 0 AND length(x) < 5"),
        expr_key("((i > 0) AND (length(x) < 5))")
    );
    assert_eq!(expr_key("lower('X')"), expr_key("lower('X'::text)"));
    assert_eq!(expr_key("a <> 1"), expr_key("(a != 1)"));
    assert_ne!(expr_key("a > 1"), expr_key("a >= 1"));
    assert_ne!(expr_key("x = 'A'"), expr_key("x = 'a'"));
    assert_eq!(strip_outer_parens(" (a) + (b) "), "(a) + (b)");
    assert_eq!(strip_outer_parens("((a + b))"), "(a + b)");
}

// ---- comparison ------------------------------------------------------------

fn sample() -> Schema {
    let mut t = Table::new("tasks");
    let mut id = Column::new("id", ColumnType::BigInt);
    id.auto_increment = true;
    let mut priority = Column::new("priority", ColumnType::Varchar(20));
    priority.default = Some(DefaultValue::Str("medium".into()));
    t.columns = vec![id, Column::new("user_id", ColumnType::BigInt), priority];
    t.primary_key = vec!["id".into()];
    t.indexes = vec![Index {
        name: "idx_tasks_user_id".into(),
        columns: vec!["user_id".into()],
    }];
    t.foreign_keys = vec![ForeignKey {
        name: "fk_tasks_user_id".into(),
        columns: vec!["user_id".into()],
        ref_table: "users".into(),
        ref_columns: vec!["id".into()],
        on_delete: RefAction::Cascade,
        on_update: RefAction::NoAction,
    }];
    t.checks = vec![Check {
        name: "ck_tasks_1".into(),
        expr: "priority IN ('low', 'medium', 'high')".into(),
    }];
    let mut s = Schema::new();
    s.insert(t);
    s
}

#[test]
fn equal_schemas_have_no_drift_even_respelled() {
    let s = sample();
    let mut respelled = s.clone();
    respelled.tables.get_mut("tasks").expect("tasks").checks[0].expr =
        "((priority)::text = ANY ((ARRAY['low'::character varying, 'medium'::character varying, 'high'::character varying])::text[]))".into();
    respelled
        .tables
        .get_mut("tasks")
        .expect("tasks")
        .columns
        .reverse();
    assert_eq!(compare(&respelled, &s), vec![]);
}

#[test]
fn drift_names_each_change() {
    let expected = sample();
    let mut live = expected.clone();
    let t = live.tables.get_mut("tasks").expect("tasks");
    let mut notes = Column::new("notes", ColumnType::Text);
    notes.nullable = true;
    t.columns.push(notes);
    t.indexes.clear();
    t.column_mut("priority").expect("priority").default = Some(DefaultValue::Str("low".into()));
    t.foreign_keys[0].on_delete = RefAction::NoAction;
    t.checks[0].name = "tasks_priority_check".into();
    let mut extra = Table::new("audit");
    extra.columns.push(Column::new("note", ColumnType::Text));
    live.insert(extra);
    let lines: Vec<String> = compare(&live, &expected)
        .iter()
        .map(|d| d.to_string())
        .collect();
    assert_eq!(
        lines,
        vec![
            "table `audit`: is in the database but not in the snapshot",
            "table `tasks`: column `priority`: default is `'low'` in the database, `'medium'` in the snapshot",
            "table `tasks`: column `notes` is in the database but not in the snapshot (database: `text` nullable)",
            "table `tasks`: index `idx_tasks_user_id` (user_id) is missing from the database",
            "table `tasks`: foreign key `fk_tasks_user_id` is (user_id) -> users(id) in the database, (user_id) -> users(id) ON DELETE CASCADE in the snapshot",
            "table `tasks`: check `priority IN ('low', 'medium', 'high')` is named `tasks_priority_check` in the database, `ck_tasks_1` in the snapshot",
        ]
    );
}

// ---- SQLite, in memory -------------------------------------------------------

#[cfg(feature = "sqlite")]
mod sqlite_db {
    use diesel::connection::SimpleConnection;
    use diesel::{Connection, SqliteConnection};

    use super::*;
    use crate::dialect::{render_op, Dialect};
    use crate::ops::Operation;

    fn open() -> SqliteConnection {
        SqliteConnection::establish(":memory:").expect("in-memory SQLite")
    }

    fn exec(c: &mut SqliteConnection, sql: &str) {
        c.batch_execute(sql)
            .unwrap_or_else(|e| panic!("{sql}\n  {e}"));
    }

    /// Creates every table of `s` through the SQLite renderer.
    fn create(c: &mut SqliteConnection, s: &Schema) {
        let mut before = Schema::new();
        for t in s.tables.values() {
            let op = Operation::CreateTable { table: t.clone() };
            for st in render_op(Dialect::Sqlite, &op, &before).expect("renders") {
                exec(c, &st.sql);
            }
            op.apply(&mut before).expect("applies");
        }
    }

    fn every_type_and_default() -> Schema {
        let mut s = sample();
        let mut users = Table::new("users");
        let mut id = Column::new("id", ColumnType::BigInt);
        id.auto_increment = true;
        users.columns.push(id);
        users.primary_key = vec!["id".into()];
        users
            .columns
            .push(Column::new("email", ColumnType::Varchar(200)));
        users.uniques.push(Unique {
            name: "uq_users_email".into(),
            columns: vec!["email".into()],
            nulls_not_distinct: false,
        });
        s.insert(users);
        let mut all = Table::new("every");
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
        ];
        for (i, ty) in types.into_iter().enumerate() {
            let mut c = Column::new(format!("c{i}"), ty);
            c.nullable = i % 2 == 0;
            all.columns.push(c);
        }
        let defaults = [
            (ColumnType::Integer, DefaultValue::Int(-3)),
            (ColumnType::Double, DefaultValue::Float(1.5)),
            (ColumnType::Double, DefaultValue::Float(-2.25)),
            (ColumnType::Boolean, DefaultValue::Bool(true)),
            (ColumnType::Boolean, DefaultValue::Bool(false)),
            (ColumnType::Text, DefaultValue::Str("it's".into())),
            (ColumnType::Text, DefaultValue::Str(String::new())),
            (
                ColumnType::Timestamp,
                DefaultValue::Sql("CURRENT_TIMESTAMP".into()),
            ),
            (ColumnType::Text, DefaultValue::Sql("lower('X')".into())),
            (ColumnType::Integer, DefaultValue::Sql("(1) + (2)".into())),
        ];
        for (i, (ty, d)) in defaults.into_iter().enumerate() {
            let mut c = Column::new(format!("d{i}"), ty);
            c.default = Some(d);
            all.columns.push(c);
        }
        all.primary_key = vec!["c1".into(), "c2".into()];
        all.uniques.push(Unique {
            name: "uq_every_c6_c7".into(),
            columns: vec!["c6".into(), "c7".into()],
            nulls_not_distinct: false,
        });
        all.indexes.push(Index {
            name: "idx_every_c9".into(),
            columns: vec!["c9".into()],
        });
        all.foreign_keys.push(ForeignKey {
            name: "fk_every_c2".into(),
            columns: vec!["c2".into()],
            ref_table: "users".into(),
            ref_columns: vec!["id".into()],
            on_delete: RefAction::SetNull,
            on_update: RefAction::Restrict,
        });
        all.foreign_keys.push(ForeignKey {
            name: "fk_every_c1".into(),
            columns: vec!["c1".into()],
            ref_table: "users".into(),
            ref_columns: vec!["id".into()],
            on_delete: RefAction::SetDefault,
            on_update: RefAction::Cascade,
        });
        all.checks.push(Check {
            name: "ck_every_1".into(),
            expr: "c1 > 0 AND (c2 < 10 OR c2 IS NULL)".into(),
        });
        s.insert(all);
        s.normalize();
        s
    }

    #[test]
    fn rendered_schema_reads_back_as_expected() {
        let s = every_type_and_default();
        let mut c = open();
        create(&mut c, &s);
        let live = schema(&mut c).expect("introspects");
        let want = expected(&mut c, &s).expect("expected");
        assert_eq!(compare(&live.schema, &want), vec![]);
        assert_eq!(live.schema, want);
        assert!(live.outside.is_empty(), "{:?}", live.outside);
        // What SQLite keeps is reported as the model wrote it.
        let tasks = live.schema.table("tasks").expect("tasks");
        assert_eq!(
            tasks.column("priority").and_then(|c| c.default.clone()),
            Some(DefaultValue::Str("medium".into()))
        );
        assert!(tasks
            .column("id")
            .is_some_and(|c| c.auto_increment && !c.nullable));
        assert_eq!(tasks.checks, s.tables["tasks"].checks);
        assert_eq!(tasks.foreign_keys, s.tables["tasks"].foreign_keys);
        let every = live.schema.table("every").expect("every");
        assert_eq!(every.foreign_keys, s.tables["every"].foreign_keys);
        assert_eq!(
            every.column("d7").and_then(|c| c.default.clone()),
            Some(DefaultValue::Sql("CURRENT_TIMESTAMP".into()))
        );
        assert_eq!(
            every.column("d3").and_then(|c| c.default.clone()),
            Some(DefaultValue::Bool(true))
        );
        // The integer widths survive as declared names (SMALLINT, BIGINT),
        // which is what diesel's inference reads; expected() says so too.
        assert_eq!(
            every.column("c0").map(|c| &c.ty),
            Some(&ColumnType::SmallInt)
        );
    }

    #[test]
    fn history_and_scratch_tables_are_left_out() {
        let mut c = open();
        exec(
            &mut c,
            "CREATE TABLE _migrator_history (version INTEGER);
             CREATE TABLE \"_migrator_new_tasks\" (id INTEGER);
             CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT);",
        );
        let live = schema(&mut c).expect("introspects");
        assert_eq!(live.schema.tables.keys().collect::<Vec<_>>(), vec!["t"]);
        assert!(
            live.notes.iter().any(|n| n.contains("_migrator_new_tasks")),
            "{:?}",
            live.notes
        );
    }

    #[test]
    fn hand_written_ddl_is_read_with_names_and_order() {
        let mut c = open();
        exec(
            &mut c,
            "CREATE TABLE p (id INTEGER PRIMARY KEY, code TEXT);
             CREATE TABLE q (
               a INT NOT NULL CONSTRAINT fk_named REFERENCES p ON DELETE CASCADE,
               b INT REFERENCES p(id),
               [c d] TEXT UNIQUE CHECK (length([c d]) > 1),
               e TEXT DEFAULT 'x' CONSTRAINT named_check CHECK (e <> ''),
               CHECK (a > 0),
               CONSTRAINT \"uq_q_ab\" UNIQUE (a, b),
               PRIMARY KEY (b, a)
             );",
        );
        let live = schema(&mut c).expect("introspects");
        let q = live.schema.table("q").expect("q");
        assert_eq!(q.primary_key, vec!["b", "a"]);
        assert!(q
            .columns
            .iter()
            .all(|c| c.name == "c d" || c.name == "e" || !c.nullable));
        assert_eq!(
            q.foreign_keys,
            vec![
                ForeignKey {
                    name: "fk_named".into(),
                    columns: vec!["a".into()],
                    ref_table: "p".into(),
                    ref_columns: vec!["id".into()],
                    on_delete: RefAction::Cascade,
                    on_update: RefAction::NoAction,
                },
                ForeignKey {
                    name: "fk_q_b".into(),
                    columns: vec!["b".into()],
                    ref_table: "p".into(),
                    ref_columns: vec!["id".into()],
                    on_delete: RefAction::NoAction,
                    on_update: RefAction::NoAction,
                },
            ]
        );
        assert_eq!(
            q.uniques,
            vec![
                Unique {
                    name: "uq_q_ab".into(),
                    columns: vec!["a".into(), "b".into()],
                    nulls_not_distinct: false,
                },
                Unique {
                    name: "uq_q_c d".into(),
                    columns: vec!["c d".into()],
                    nulls_not_distinct: false,
                },
            ]
        );
        assert_eq!(
            q.checks,
            vec![
                Check {
                    name: "ck_q_1".into(),
                    expr: "length([c d]) > 1".into(),
                },
                Check {
                    name: "ck_q_3".into(),
                    expr: "a > 0".into(),
                },
                Check {
                    name: "named_check".into(),
                    expr: "e <> ''".into(),
                },
            ]
        );
        let p = live.schema.table("p").expect("p");
        assert!(!p.columns[0].auto_increment, "no AUTOINCREMENT keyword");
        assert!(!p.columns[0].nullable, "the rowid alias cannot be NULL");
    }

    #[test]
    fn foreign_key_names_follow_their_target() {
        // The pragma numbers keys last first; names are matched by columns
        // and referenced table, so two keys on one column keep theirs.
        let mut c = open();
        exec(
            &mut c,
            "CREATE TABLE p (id INTEGER PRIMARY KEY);
             CREATE TABLE r (id INTEGER PRIMARY KEY);
             CREATE TABLE q (a INT,
               CONSTRAINT \"second\" FOREIGN KEY (a) REFERENCES r (id),
               CONSTRAINT \"first\" FOREIGN KEY (a) REFERENCES p (id));",
        );
        let live = schema(&mut c).expect("introspects");
        let fks: Vec<(String, String)> = live.schema.tables["q"]
            .foreign_keys
            .iter()
            .map(|f| (f.name.clone(), f.ref_table.clone()))
            .collect();
        assert_eq!(
            fks,
            vec![
                ("first".to_string(), "p".to_string()),
                ("second".to_string(), "r".to_string())
            ]
        );
    }

    #[test]
    fn descending_and_collated_indexes() {
        let mut c = open();
        exec(
            &mut c,
            "CREATE TABLE t (id INTEGER PRIMARY KEY, email TEXT UNIQUE COLLATE NOCASE, b INT);
             CREATE INDEX idx_b_desc ON t (b DESC);",
        );
        let live = schema(&mut c).expect("introspects");
        let listed: Vec<String> = live.outside.iter().map(|o| o.to_string()).collect();
        assert_eq!(listed, vec!["special index `idx_b_desc` on `t`"]);
        assert_eq!(
            live.outside[0].definition.as_deref(),
            Some("CREATE INDEX idx_b_desc ON t (b DESC)")
        );
        // The inline UNIQUE of a collated column stays a constraint: the
        // index's collation is the column's own, which the model has.
        let t = live.schema.table("t").expect("t");
        assert_eq!(t.uniques.len(), 1, "{:?}", t.uniques);
        assert_eq!(t.uniques[0].columns, vec!["email".to_string()]);
        assert_eq!(
            t.column("email").and_then(|c| c.collation.as_deref()),
            Some("NOCASE")
        );
        assert!(
            !live.notes.iter().any(|n| n.contains("collation")),
            "{:?}",
            live.notes
        );
    }

    #[test]
    fn objects_outside_the_model_are_reported() {
        let mut c = open();
        exec(
            &mut c,
            "CREATE TABLE t (id INTEGER PRIMARY KEY, a TEXT, b INT, g INT GENERATED ALWAYS AS (b + 1) VIRTUAL);
             CREATE INDEX idx_partial ON t (a) WHERE b > 0;
             CREATE INDEX idx_expr ON t (lower(a));
             CREATE INDEX idx_plain ON t (b);
             CREATE VIEW v AS SELECT a FROM t;
             CREATE TRIGGER trg AFTER INSERT ON t BEGIN SELECT 1; END;",
        );
        let live = schema(&mut c).expect("introspects");
        let listed: Vec<String> = live.outside.iter().map(|o| o.to_string()).collect();
        assert_eq!(
            listed,
            vec![
                "view `v`",
                "trigger `trg` on `t`",
                "partial index `idx_partial` on `t`",
                "expression index `idx_expr` on `t`",
                "generated column `g` on `t`",
            ]
        );
        assert!(live
            .outside
            .iter()
            .all(|o| o.definition.is_some() || o.kind == OutsideKind::GeneratedColumn));
        let t = live.schema.table("t").expect("t");
        assert_eq!(
            t.indexes,
            vec![Index {
                name: "idx_plain".into(),
                columns: vec!["b".into()],
            }]
        );
    }

    #[test]
    fn verify_reports_a_hand_made_change() {
        let s = every_type_and_default();
        let mut c = open();
        create(&mut c, &s);
        exec(
            &mut c,
            "ALTER TABLE tasks ADD COLUMN notes TEXT; DROP INDEX idx_every_c9;",
        );
        let v = verify(&mut c, &s).expect("verifies");
        let lines: Vec<String> = v.drift.iter().map(|d| d.to_string()).collect();
        assert_eq!(
            lines,
            vec![
                "table `every`: index `idx_every_c9` (c9) is missing from the database",
                "table `tasks`: column `notes` is in the database but not in the snapshot (database: `text` nullable)",
            ]
        );
    }
}

#[test]
fn outside_drift_names_each_difference_from_the_migrations() {
    let o = |kind, name: &str, table: Option<&str>, def: &str| Outside {
        kind,
        name: name.into(),
        table: table.map(Into::into),
        definition: Some(def.into()),
    };
    let replayed = vec![
        o(
            OutsideKind::View,
            "open_tasks",
            None,
            "SELECT id FROM tasks WHERE done = 0",
        ),
        o(
            OutsideKind::Trigger,
            "touch",
            Some("tasks"),
            "CREATE TRIGGER touch ...",
        ),
        o(
            OutsideKind::PartialIndex,
            "idx_open",
            Some("tasks"),
            "CREATE INDEX idx_open ON tasks (id) WHERE done = 0",
        ),
    ];
    let live = vec![
        // White space alone is no difference.
        o(
            OutsideKind::View,
            "open_tasks",
            None,
            "SELECT id\n  FROM tasks WHERE done = 0",
        ),
        o(
            OutsideKind::PartialIndex,
            "idx_open",
            Some("tasks"),
            "CREATE INDEX idx_open ON tasks (id) WHERE done = 1",
        ),
        o(
            OutsideKind::Function,
            "by_hand()",
            None,
            "CREATE FUNCTION by_hand() ...",
        ),
    ];
    assert_eq!(
        outside_drift(&live, &replayed),
        [
            "trigger `touch` on `tasks` is missing from the database (the migrations make it)",
            "partial index `idx_open` on `tasks` differs: the database has `CREATE INDEX idx_open ON tasks (id) WHERE done = 1`, the migrations make `CREATE INDEX idx_open ON tasks (id) WHERE done = 0`",
            "function `by_hand()` is in the database, but the migrations do not make it",
        ]
    );
    assert!(outside_drift(&replayed, &replayed).is_empty());
}
