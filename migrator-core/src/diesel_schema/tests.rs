//! Unit tests of diesel's schema: the type map per dialect, the rendered
//! text of a schema with every kind of table, and the errors.

use std::path::Path;

use super::*;
use crate::schema::{ForeignKey, RefAction};

fn col(name: &str, ty: ColumnType, nullable: bool) -> Column {
    Column {
        name: name.into(),
        ty,
        nullable,
        default: None,
        auto_increment: false,
        collation: None,
        comment: None,
        on_update: None,
        identity_start: None,
        identity_increment: None,
        identity_always: false,
    }
}

fn table(name: &str, key: &[&str], columns: Vec<Column>) -> Table {
    Table {
        name: name.into(),
        comment: None,
        collation: None,
        columns,
        primary_key: key.iter().map(|k| k.to_string()).collect(),
        primary_key_name: None,
        strict: false,
        without_rowid: false,
        indexes: vec![],
        uniques: vec![],
        foreign_keys: vec![],
        checks: vec![],
    }
}

fn fk(columns: &[&str], to: &str, ref_columns: &[&str]) -> ForeignKey {
    ForeignKey {
        name: format!("fk_{}", columns.join("_")),
        columns: columns.iter().map(|c| c.to_string()).collect(),
        ref_table: to.into(),
        ref_columns: ref_columns.iter().map(|c| c.to_string()).collect(),
        on_delete: RefAction::default(),
        on_update: RefAction::default(),
    }
}

#[test]
fn every_type_per_dialect() {
    use ColumnType::*;
    let cases: Vec<(ColumnType, [&str; 3])> = vec![
        (SmallInt, ["SmallInt", "SmallInt", "SmallInt"]),
        (Integer, ["Integer", "Integer", "Integer"]),
        (BigInt, ["BigInt", "BigInt", "BigInt"]),
        (Real, ["Float", "Float", "Float"]),
        (Double, ["Double", "Double", "Double"]),
        (Boolean, ["Bool", "Bool", "Bool"]),
        (Text, ["Text", "Text", "Text"]),
        (Varchar(10), ["Text", "Text", "Text"]),
        (Blob, ["Binary", "Binary", "Binary"]),
        (Date, ["Date", "Date", "Date"]),
        (Time, ["Time", "Time", "Time"]),
        (Timestamp, ["Timestamp", "Timestamp", "Datetime"]),
        (
            TimestampTz,
            ["Timestamptz", "TimestamptzSqlite", "Timestamp"],
        ),
        (
            Uuid,
            [
                "Uuid",
                "::migrator::sql_types::Uuid",
                "::migrator::sql_types::Uuid",
            ],
        ),
        (Json, ["Jsonb", "Json", "Json"]),
        (
            Custom("NUMERIC(12, 2)".into()),
            ["Numeric", "Numeric", "Numeric"],
        ),
        (
            Custom("decimal(5,1)".into()),
            ["Numeric", "Numeric", "Numeric"],
        ),
        (
            Custom("INT UNSIGNED".into()),
            ["Integer", "Integer", "Unsigned<Integer>"],
        ),
        (
            Custom("bigint unsigned".into()),
            ["BigInt", "BigInt", "Unsigned<BigInt>"],
        ),
        (
            Custom("tinyint(1)".into()),
            ["SmallInt", "SmallInt", "TinyInt"],
        ),
        (
            Custom("character varying(20)".into()),
            ["Text", "Text", "Text"],
        ),
        (Custom("bytea".into()), ["Binary", "Binary", "Binary"]),
        (
            Custom("datetime".into()),
            ["Timestamp", "Timestamp", "Datetime"],
        ),
        (
            Custom("timestamp".into()),
            ["Timestamp", "Timestamp", "Timestamp"],
        ),
        (
            Custom("timestamp with time zone".into()),
            ["Timestamptz", "TimestamptzSqlite", "Timestamp"],
        ),
        (Custom("jsonb".into()), ["Jsonb", "Json", "Json"]),
        (
            Custom("double precision".into()),
            ["Double", "Double", "Double"],
        ),
        // Decimals (`BigDecimal`, `rust_decimal::Decimal`), the text of a
        // user enum, a newtype over `i64`.
        (Custom("NUMERIC".into()), ["Numeric", "Numeric", "Numeric"]),
        (
            Custom("DECIMAL(30, 10)".into()),
            ["Numeric", "Numeric", "Numeric"],
        ),
        (Custom("VARCHAR(10)".into()), ["Text", "Text", "Text"]),
        (Custom("BIGINT".into()), ["BigInt", "BigInt", "BigInt"]),
    ];
    for (ty, want) in cases {
        for (d, want) in [Dialect::Postgres, Dialect::Sqlite, Dialect::Mysql]
            .into_iter()
            .zip(want)
        {
            assert_eq!(diesel_type(&ty, d).as_deref(), Ok(want), "{ty:?} on {d}");
        }
    }
}

#[test]
fn unknown_custom_type_is_an_error_naming_it() {
    let e = diesel_type(&ColumnType::Custom("tsvector".into()), Dialect::Postgres)
        .expect_err("tsvector has no diesel type");
    assert!(e.contains("`sql_type = \"tsvector\"`"), "{e}");
    assert!(e.contains("help: "), "{e}");
    let mut schema = Schema::new();
    schema.insert(table(
        "docs",
        &["id"],
        vec![
            col("id", ColumnType::BigInt, false),
            col("body", ColumnType::Custom("tsvector".into()), false),
        ],
    ));
    let errors = render(&schema, &[Dialect::Postgres]).expect_err("an error");
    assert_eq!(errors.len(), 1);
    assert_eq!(
        (errors[0].table.as_str(), errors[0].column.as_str()),
        ("docs", "body")
    );
}

/// Users and posts with every feature of the text: nullable, a keyword
/// column, a composite key, joins, a self-reference, two keys between the
/// same tables, a table without a key.
fn blog() -> Schema {
    let mut s = Schema::new();
    s.insert(table(
        "users",
        &["id"],
        vec![
            col("id", ColumnType::BigInt, false),
            col("name", ColumnType::Varchar(100), false),
            col("type", ColumnType::Text, true),
            col("manager_id", ColumnType::BigInt, true),
        ],
    ));
    s.tables.get_mut("users").expect("users").foreign_keys =
        vec![fk(&["manager_id"], "users", &["id"])];
    let mut posts = table(
        "posts",
        &["id"],
        vec![
            col("id", ColumnType::BigInt, false),
            col("author_id", ColumnType::BigInt, false),
            col("editor_id", ColumnType::BigInt, true),
            col("body", ColumnType::Text, false),
            col("at", ColumnType::Timestamp, false),
        ],
    );
    posts.foreign_keys = vec![
        fk(&["author_id"], "users", &["id"]),
        fk(&["editor_id"], "users", &["id"]),
    ];
    s.insert(posts);
    let mut tags = table(
        "post_tags",
        &["post_id", "tag"],
        vec![
            col("post_id", ColumnType::BigInt, false),
            col("tag", ColumnType::Varchar(20), false),
        ],
    );
    tags.foreign_keys = vec![fk(&["post_id"], "posts", &["id"])];
    s.insert(tags);
    s.insert(table(
        "log",
        &[],
        vec![col("line", ColumnType::Text, false)],
    ));
    s
}

#[test]
fn rendered_schema() {
    let text = render(&blog(), &[Dialect::Sqlite]).expect("renders");
    insta::assert_snapshot!(text);
}

#[cfg(feature = "model")]
#[test]
fn the_text_is_rust() {
    let text = render(&blog(), &Dialect::ALL).expect("renders");
    let file: syn::File = syn::parse_str(&text).expect("the schema parses as Rust");
    // 3 table!, 1 joinable! (post_tags -> posts), 1 allow_tables.
    assert_eq!(file.items.len(), 5, "{text}");
}

#[test]
fn dialects_that_disagree_are_an_error_naming_the_fix() {
    let mut s = Schema::new();
    s.insert(table(
        "events",
        &["id"],
        vec![
            col("id", ColumnType::BigInt, false),
            col("at", ColumnType::TimestampTz, true),
        ],
    ));
    let errors = render(&s, &Dialect::ALL).expect_err("timestamptz differs");
    assert_eq!(errors.len(), 1);
    let e = errors[0].to_string();
    assert!(
        e.starts_with("column `events.at`: its diesel type differs"),
        "{e}"
    );
    assert!(
        e.contains("migrator::schema!(dialect = \"postgres\")"),
        "{e}"
    );
    let pg = render(&s, &[Dialect::Postgres]).expect("one dialect renders");
    assert!(pg.contains("at -> Nullable<Timestamptz>,"), "{pg}");
    // `timestamp`: MySQL alone gets `Datetime` (the whole DATETIME range),
    // several dialects `Timestamp`, which every one of them maps.
    s.tables.get_mut("events").expect("events").columns[1].ty = ColumnType::Timestamp;
    let mysql = render(&s, &[Dialect::Mysql]).expect("renders");
    assert!(mysql.contains("at -> Nullable<Datetime>,"), "{mysql}");
    let all = render(&s, &Dialect::ALL).expect("timestamp agrees");
    assert!(all.contains("at -> Nullable<Timestamp>,"), "{all}");
}

#[test]
fn the_todo_example_snapshot() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/todo/migrations/schema.toml");
    let text = std::fs::read_to_string(&path).expect("the example's snapshot");
    let snapshot = crate::snapshot::Snapshot::parse(&path, &text).expect("parses");
    let file = schema_file(
        &snapshot.schema,
        &Dialect::ALL,
        &Fields::default(),
        "migrations/schema.toml",
    )
    .expect("the example renders for every dialect");
    insta::assert_snapshot!(file);
}

#[test]
fn postgres_arrays_are_diesel_arrays() {
    let cases = [
        ("TEXT[]", "Array<Text>"),
        ("integer[]", "Array<Integer>"),
        ("INT[]", "Array<Integer>"),
        ("BIGINT[]", "Array<BigInt>"),
        ("smallint[3]", "Array<SmallInt>"),
        ("varchar(20)[]", "Array<Text>"),
        ("character varying(20) ARRAY", "Array<Text>"),
        ("bigint array[4]", "Array<BigInt>"),
        ("numeric(10, 2)[]", "Array<Numeric>"),
        ("boolean []", "Array<Bool>"),
        ("double precision[]", "Array<Double>"),
        ("bytea[]", "Array<Binary>"),
        ("date[]", "Array<Date>"),
        ("timestamptz[]", "Array<Timestamptz>"),
        ("uuid[]", "Array<Uuid>"),
        ("jsonb[]", "Array<Jsonb>"),
    ];
    for (sql, want) in cases {
        assert_eq!(
            diesel_type(&ColumnType::Custom(sql.into()), Dialect::Postgres).as_deref(),
            Ok(want),
            "{sql}"
        );
    }
    // An integer type with brackets is not read as the integer itself.
    assert_eq!(
        ColumnType::Custom("INTEGER[]".into()).custom_integer(),
        None
    );
}

#[test]
fn arrays_elsewhere_are_an_error_naming_postgres() {
    for d in [Dialect::Sqlite, Dialect::Mysql] {
        let e = diesel_type(&ColumnType::Custom("TEXT[]".into()), d).expect_err("no arrays");
        assert!(
            e.starts_with(&format!(
                "`sql_type = \"TEXT[]\"` is an array, and arrays are PostgreSQL's: {d} has no array type\nhelp: "
            )),
            "{e}"
        );
        assert!(
            e.contains("migrator::schema!(dialect = \"postgres\")"),
            "{e}"
        );
    }
    let mut s = Schema::new();
    s.insert(table(
        "posts",
        &["id"],
        vec![
            col("id", ColumnType::BigInt, false),
            col("tags", ColumnType::Custom("TEXT[]".into()), true),
            col("scores", ColumnType::Custom("INTEGER[]".into()), false),
        ],
    ));
    let pg = render(&s, &[Dialect::Postgres]).expect("PostgreSQL renders");
    assert!(pg.contains("tags -> Nullable<Array<Text>>,"), "{pg}");
    assert!(pg.contains("scores -> Array<Integer>,"), "{pg}");
    // Without a dialect, the first that has no arrays refuses each column.
    let errors = render(&s, &Dialect::ALL).expect_err("SQLite has no arrays");
    let columns: Vec<&str> = errors.iter().map(|e| e.column.as_str()).collect();
    assert_eq!(columns, ["tags", "scores"]);
    assert!(
        errors[0].to_string().starts_with(
            "column `posts.tags`: `sql_type = \"TEXT[]\"` is an array, and arrays are PostgreSQL's: sqlite"
        ),
        "{}",
        errors[0]
    );
}

#[test]
fn nullable_elements_are_stated_with_diesel_type() {
    let mut s = Schema::new();
    s.insert(table(
        "posts",
        &["id"],
        vec![
            col("id", ColumnType::BigInt, false),
            col("tags", ColumnType::Custom("TEXT[]".into()), false),
        ],
    ));
    let mut fields = Fields::default();
    fields.insert("posts", "tags", "tags", Some("Array<Nullable<Text>>"));
    let pg = render_with(&s, &[Dialect::Postgres], &fields).expect("renders");
    assert!(pg.contains("tags -> Array<Nullable<Text>>,"), "{pg}");
}

#[test]
fn arrays_diesel_cannot_read_are_errors() {
    let e = diesel_type(&ColumnType::Custom("integer[][]".into()), Dialect::Postgres)
        .expect_err("two dimensions");
    assert_eq!(
        e,
        "`sql_type = \"integer[][]\"` declares 2 dimensions, but diesel reads one-dimensional arrays only (into a `Vec<T>`)\nhelp: declare one dimension, e.g. `sql_type = \"integer[]\"`"
    );
    let e = diesel_type(&ColumnType::Custom("tsvector[]".into()), Dialect::Postgres)
        .expect_err("no diesel type for the elements");
    assert!(
        e.starts_with("the elements of the array `tsvector[]`: no diesel SQL type is known for `sql_type = \"tsvector\"`"),
        "{e}"
    );
    assert!(e.contains("\nhelp: "), "{e}");
    // Not arrays: a bare `ARRAY` and brackets around a name.
    for sql in ["ARRAY", "text[abc]"] {
        assert_eq!(array_element(sql), None, "{sql}");
    }
}
