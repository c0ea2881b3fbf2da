use super::*;

/// Types that adoption writes for real schemas (introspect/tests.rs and
/// adopt/tests.rs), and common hand-written ones.
const TYPES: &[&str] = &[
    "NUMERIC(12, 2)",
    "NUMERIC",
    "CHAR(3)",
    "VARCHAR",
    "TIMESTAMP(3)",
    "TIMESTAMPTZ(3)",
    "TIMETZ",
    "JSON",
    "INTEGER[]",
    "integer[3]",
    "INTERVAL",
    "mood",
    "public.\"Mood\"",
    "\"odd \"\" type\"",
    "INT",
    "DECIMAL(12,2)",
    "INT UNSIGNED",
    "tinyint(3) unsigned zerofill",
    "bigint(20) signed",
    "LONGTEXT",
    "ENUM('a','B c')",
    "enum('a,b','c')",
    "ENUM('it''s','x')",
    "enum('back\\\\slash')",
    "set('read','write')",
    "character varying(20)[]",
    "timestamp(3) with time zone",
    "time without time zone",
    "double precision",
    "interval day to second(3)",
    "bit varying(10)",
    "geometry(Point,4326)",
    "varchar(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin",
    "text CHARSET latin1",
    "text COLLATE \"C\"",
    "BINARY(16)",
    "unsigned big int",
];

#[test]
fn adopted_and_common_types_pass() {
    for t in TYPES {
        assert_eq!(check_type(t), Ok(()), "{t}");
    }
}

#[track_caller]
fn refused(r: Result<(), FragmentError>, offset: usize, reason: &str) {
    let e = r.expect_err("refused");
    assert_eq!(e.offset, offset, "{e}");
    assert!(e.reason.contains(reason), "{e}");
}

#[test]
fn types_that_are_more_than_a_type_are_refused() {
    refused(
        check_type("int, DROP COLUMN secret"),
        3,
        "`,` outside parentheses",
    );
    refused(check_type("int; DROP TABLE t"), 3, "`;`");
    refused(check_type("int -- x"), 4, "comment");
    refused(check_type("int /* x */"), 4, "comment");
    refused(check_type("int # x"), 4, "`#`");
    refused(check_expression("a # b"), 2, "as mysql reads it");
    refused(check_type("int NOT NULL"), 4, "nullability");
    refused(check_type("int NULL"), 4, "nullability");
    refused(
        check_type("int DEFAULT 1"),
        4,
        "`DEFAULT` is not part of a type",
    );
    refused(check_type("int PRIMARY KEY"), 4, "`PRIMARY`");
    refused(check_type("int REFERENCES t(id)"), 4, "`REFERENCES`");
    refused(check_type("int CHECK (x > 0)"), 4, "`CHECK`");
    refused(check_type("int UNIQUE"), 4, "`UNIQUE`");
    refused(check_type("int GENERATED ALWAYS AS (1)"), 4, "`GENERATED`");
    refused(check_type("int AUTO_INCREMENT"), 4, "`AUTO_INCREMENT`");
    refused(check_type("text COMMENT 'x'"), 5, "`COMMENT`");
    refused(check_type("int AS (1)"), 4, "`AS`");
    refused(check_type("numeric(12, 2"), 7, "never closed");
    refused(check_type("numeric) , DROP x"), 7, "not opened");
    refused(check_type("enum('a) , DROP x"), 5, "unterminated string");
    refused(check_type("\"t, DROP x"), 0, "unterminated quoted name");
    refused(check_type("int = 1"), 4, "`=` is not part of a type");
    refused(check_type("'text'"), 0, "starts with its name");
    refused(check_type(" "), 0, "empty");
    refused(check_type("int SET"), 4, "`SET`");
}

#[test]
fn readings_differ_and_every_one_must_be_safe() {
    // PostgreSQL: `'a\'` ends and `, DROP` is outside (MySQL: the literal
    // runs on).
    refused(check_type("enum('a\\') , DROP x"), 11, "`,`");
    // SQLite: an `E'..'` string's backslash escapes nothing.
    refused(check_expression("E'a\\'b'"), 6, "as sqlite reads it");
    // PostgreSQL's reading: `'a\'` ends, `, DROP` is outside.
    refused(check_expression("'a\\' , 1"), 5, "`,`");
    // PostgreSQL: a dollar-quoted string hides nothing from MySQL.
    refused(check_expression("$$x$$; DROP TABLE t"), 5, "`;`");
    refused(check_expression("$x$ a $x$ ; b"), 10, "`;`");
    // MySQL with ANSI_QUOTES: `"a\"` is a name and `, DROP` is outside.
    refused(check_expression("\"a\\\" , 1"), 5, "`,`");
    // SQLite: `[..]` is a name.
    refused(check_expression("a[1"), 1, "unterminated `[`");
}

#[test]
fn expressions_pass() {
    for e in [
        "CURRENT_TIMESTAMP",
        "now()",
        "(now() + interval '1 day')",
        "'it''s'",
        "E'a''b'",
        "gen_random_uuid()",
        "price > 0 AND x IS NOT NULL",
        "x IS NULL OR y = 1",
        "CASE WHEN a THEN NULL ELSE 1 END",
        "priority IN ('low', 'high')",
        "NULL",
        "coalesce(a, NULL)",
        "length(name) BETWEEN 1 AND 100",
        "x::text <> ''",
        "a -1",
        "1.5e-3",
        "$1",
        "`order` > 0",
        "\"select\" > 0",
        "lower(email) LIKE '%@%'",
        "NOT (a AND b)",
        "@a + @@b",
        "x NOT IN (1, 2)",
    ] {
        assert_eq!(check_expression(e), Ok(()), "{e}");
    }
}

#[test]
fn expressions_that_are_more_than_one_are_refused() {
    refused(
        check_expression("1); DROP TABLE victim; --"),
        1,
        "not opened",
    );
    refused(check_expression("1, DROP COLUMN secret"), 1, "`,`");
    refused(check_expression("'x' /* */"), 4, "comment");
    refused(check_expression("a > 0) , DROP x"), 5, "not opened");
    refused(check_expression("0 NOT NULL"), 6, "nullability");
    refused(check_expression("0 NULL"), 2, "nullability");
    refused(check_expression("0 PRIMARY KEY"), 2, "`PRIMARY`");
    refused(check_expression("0 REFERENCES t(id)"), 2, "`REFERENCES`");
    refused(
        check_expression("0 CONSTRAINT c CHECK (true)"),
        2,
        "`CONSTRAINT`",
    );
    refused(check_expression("0 UNIQUE"), 2, "`UNIQUE`");
    refused(check_expression("(1"), 0, "never closed");
    refused(check_expression("'x"), 0, "unterminated string");
}

#[test]
fn messages_count_characters() {
    let e = check_type("numérique, x").unwrap_err();
    assert_eq!((e.offset, e.character), (10, 10));
    assert_eq!(e.to_string().split(':').next(), Some("at character 10"));
}

#[test]
fn assignments_and_predicates() {
    assert_eq!(check_assignments("a = 1, b = lower(c)"), Ok(()));
    assert_eq!(
        check_assignments("priority = CASE WHEN urgent THEN 'high' ELSE 'low' END"),
        Ok(())
    );
    refused(check_assignments("a = 1; DROP TABLE t"), 5, "`;`");
    refused(check_assignments("a = 1 WHERE true"), 6, "`WHERE`");
    refused(check_assignments("a = 1 -- x"), 6, "comment");
    refused(check_assignments("a = (1"), 4, "never closed");
    assert_eq!(check_predicate("priority IS NULL"), Ok(()));
    assert_eq!(check_predicate("a IN (1, 2) AND b NOT NULL"), Ok(()));
    refused(check_predicate("1) OR (1 = 1"), 1, "not opened");
    refused(check_predicate("true; DROP TABLE t"), 4, "`;`");
    refused(check_predicate("true /* x */"), 5, "comment");
}

#[test]
fn operations_name_the_field() {
    use crate::ops::{Backfill, Operation};
    use crate::schema::{Column, ColumnType, DefaultValue};
    let column = |ty: &str, default: Option<&str>| Column {
        name: "x".into(),
        ty: ColumnType::Custom(ty.into()),
        nullable: true,
        default: default.map(|d| DefaultValue::Sql(d.into())),
        auto_increment: false,
        collation: None,
        comment: None,
        on_update: None,
        identity_start: None,
        identity_increment: None,
        identity_always: false,
    };
    let e = check_operation(&Operation::AddColumn {
        table: "acct".into(),
        column: column("int, DROP COLUMN secret", None),
    })
    .unwrap_err();
    assert!(
        e.contains("table `acct`, column `x`: type `sql:int, DROP COLUMN secret`"),
        "{e}"
    );
    assert!(e.contains("at character 4"), "{e}");
    let e = check_operation(&Operation::AddColumn {
        table: "acct".into(),
        column: column("int", Some("1); DROP TABLE victim; --")),
    })
    .unwrap_err();
    assert!(e.contains("column `x`: default"), "{e}");
    let e = check_operation(&Operation::Backfill(Backfill {
        table: "t".into(),
        set: "a = 1".into(),
        predicate: "true; DROP TABLE t".into(),
        batch_size: 10,
        pause_ms: 0,
        reverse: None,
    }))
    .unwrap_err();
    assert!(e.contains("backfill of `t`: `where`"), "{e}");
    assert_eq!(
        check_operation(&Operation::Rust {
            name: "data::fill".into(),
            reverse: None
        }),
        Ok(())
    );
}

#[test]
fn on_update_is_only_current_timestamp() {
    use crate::schema::{Column, ColumnType};
    let mut c = Column::new("at", ColumnType::Timestamp);
    for ok in ["CURRENT_TIMESTAMP", "current_timestamp(6)", "NOW()"] {
        c.on_update = Some(ok.into());
        assert_eq!(check_column(&c), Ok(()), "{ok}");
    }
    c.on_update = Some("CURRENT_TIMESTAMP, DROP COLUMN secret".into());
    let e = check_column(&c).expect_err("refused");
    assert!(e.starts_with("column `at`: `on_update = "), "{e}");
    // And rendering a schema built in code refuses it too.
    let op = crate::ops::Operation::AddColumn {
        table: "t".into(),
        column: c,
    };
    let mut s = crate::schema::Schema::new();
    s.insert(crate::schema::Table::new("t"));
    let e =
        crate::dialect::render_op(crate::dialect::Dialect::Mysql, &op, &s).expect_err("refused");
    assert!(e.to_string().contains("on_update"), "{e}");
}
