//! The SQLite rendering of every operation, executed on a real database.
//!
//! Each case builds a schema, seeds rows, then runs the operation, its
//! inverse and the operation again, each stage twice (so every statement is
//! shown to be safe to repeat, guards included). After every run the live
//! schema, read back through `sqlite_master` and the table pragmas, must
//! equal what the model says the schema is at that point, and the rows of
//! the columns that survive must be unchanged.
//!
//! `run` does what the runner does around a SQLite migration: foreign keys
//! off, one transaction, each statement's guard evaluated first,
//! `foreign_key_check` before commit, foreign keys back on.

use std::collections::{BTreeMap, BTreeSet};

use diesel::connection::SimpleConnection;
use diesel::sql_types::{BigInt, Nullable, Text};
use diesel::{Connection, QueryableByName, RunQueryDsl, SqliteConnection};
use migrator_core::dialect::{render_op, Dialect, Statement};
use migrator_core::ops::{replay, Operation, RawSql, SqlVariants};
use migrator_core::schema::{
    Check, Column, ColumnType, DefaultValue, ForeignKey, Index, RefAction, Schema, Table, Unique,
};

#[path = "support/schema_fixtures.rs"]
mod schema_fixtures;
use migrator_core::schema;
use schema_fixtures::*;

// ---- running statements ------------------------------------------------------

#[derive(QueryableByName)]
struct N {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct V {
    #[diesel(sql_type = Text)]
    v: String,
}

fn open() -> SqliteConnection {
    let mut c = SqliteConnection::establish(":memory:")
        .unwrap_or_else(|e| panic!("cannot open an in-memory SQLite database: {e}"));
    exec(&mut c, "PRAGMA foreign_keys = ON");
    c
}

fn exec(c: &mut SqliteConnection, sql: &str) {
    c.batch_execute(sql)
        .unwrap_or_else(|e| panic!("{sql}\n  failed: {e}"));
}

/// The number of rows `query` returns, the way the runner counts a guard.
fn count(c: &mut SqliteConnection, query: &str) -> i64 {
    let rows: Vec<N> = diesel::sql_query(format!("SELECT COUNT(*) AS n FROM ({query}) AS g"))
        .load(c)
        .unwrap_or_else(|e| panic!("guard `{query}` failed: {e}"));
    rows.first().map_or(0, |r| r.n)
}

/// The `v` column of every row `query` returns.
fn rows(c: &mut SqliteConnection, query: &str) -> Vec<String> {
    let rows: Vec<V> = diesel::sql_query(query)
        .load(c)
        .unwrap_or_else(|e| panic!("{query}\n  failed: {e}"));
    rows.into_iter().map(|r| r.v).collect()
}

/// Runs `stmts` as the runner runs one SQLite migration; on error the
/// transaction is rolled back and the error returned.
fn try_run(c: &mut SqliteConnection, stmts: &[Statement]) -> Result<(), String> {
    exec(c, "PRAGMA foreign_keys = OFF");
    exec(c, "BEGIN");
    let mut result = Ok(());
    for s in stmts {
        if let Some(q) = &s.skip_if {
            if count(c, q) > 0 {
                continue;
            }
        }
        // As the runner does: the rows of an `each_row` query are the
        // statements to run.
        let todo = if s.each_row {
            rows(c, &format!("SELECT s AS v FROM ({}) AS q", s.sql))
        } else {
            vec![s.sql.clone()]
        };
        if let Some(e) = todo.iter().find_map(|sql| c.batch_execute(sql).err()) {
            result = Err(format!("{s}\n  failed: {e}"));
            break;
        }
    }
    if result.is_ok() {
        let broken = count(c, "SELECT 1 FROM pragma_foreign_key_check");
        if broken > 0 {
            result = Err(format!("{broken} row(s) violate a foreign key"));
        }
    }
    exec(c, if result.is_ok() { "COMMIT" } else { "ROLLBACK" });
    exec(c, "PRAGMA foreign_keys = ON");
    result
}

fn run(c: &mut SqliteConnection, stmts: &[Statement]) {
    if let Err(e) = try_run(c, stmts) {
        panic!("{e}");
    }
}

fn render(op: &Operation, before: &Schema) -> Vec<Statement> {
    render_op(Dialect::Sqlite, op, before).unwrap_or_else(|e| panic!("rendering {op}: {e}"))
}

/// Creates every table of `schema` through the renderer.
fn create_all(c: &mut SqliteConnection, schema: &Schema) {
    for t in schema.tables.values() {
        let op = Operation::CreateTable { table: t.clone() };
        run(c, &render(&op, &Schema::new()));
    }
}

// ---- introspection -----------------------------------------------------------

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct LiveColumn {
    name: String,
    ty: String,
    not_null: bool,
    default: Option<String>,
    /// 1-based position in the primary key, 0 when not in it.
    pk: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct LiveFk {
    columns: Vec<String>,
    ref_table: String,
    ref_columns: Vec<String>,
    on_delete: String,
    on_update: String,
}

/// A table as SQLite reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct LiveTable {
    columns: Vec<LiveColumn>,
    /// (name, unique, columns) of the indexes created by CREATE INDEX.
    indexes: BTreeSet<(String, bool, Vec<String>)>,
    foreign_keys: BTreeSet<LiveFk>,
    /// Names declared with `CONSTRAINT "name"` in the table's SQL (foreign
    /// keys and checks).
    constraints: BTreeSet<String>,
    autoincrement: bool,
}

#[derive(QueryableByName)]
struct PragmaColumn {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    ty: String,
    #[diesel(sql_type = BigInt)]
    nn: i64,
    #[diesel(sql_type = Nullable<Text>)]
    dflt: Option<String>,
    #[diesel(sql_type = BigInt)]
    pk: i64,
}

#[derive(QueryableByName)]
struct PragmaIndex {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = BigInt)]
    uniq: i64,
    #[diesel(sql_type = Text)]
    origin: String,
}

#[derive(QueryableByName)]
struct PragmaFk {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    tbl: String,
    #[diesel(sql_type = Text)]
    col_from: String,
    #[diesel(sql_type = Nullable<Text>)]
    col_to: Option<String>,
    #[diesel(sql_type = Text)]
    on_update: String,
    #[diesel(sql_type = Text)]
    on_delete: String,
}

fn live(c: &mut SqliteConnection) -> BTreeMap<String, LiveTable> {
    let names = rows(
        c,
        "SELECT name AS v FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
    );
    names
        .into_iter()
        .map(|name| {
            let t = live_table(c, &name);
            (name, t)
        })
        .collect()
}

fn live_table(c: &mut SqliteConnection, table: &str) -> LiveTable {
    let cols: Vec<PragmaColumn> = diesel::sql_query(
        "SELECT name, type AS ty, \"notnull\" AS nn, dflt_value AS dflt, pk FROM pragma_table_info(?) ORDER BY cid",
    )
    .bind::<Text, _>(table)
    .load(c)
    .unwrap_or_else(|e| panic!("pragma_table_info({table}): {e}"));
    let idx: Vec<PragmaIndex> =
        diesel::sql_query("SELECT name, \"unique\" AS uniq, origin FROM pragma_index_list(?)")
            .bind::<Text, _>(table)
            .load(c)
            .unwrap_or_else(|e| panic!("pragma_index_list({table}): {e}"));
    let mut indexes = BTreeSet::new();
    for i in idx.into_iter().filter(|i| i.origin == "c") {
        let cols: Vec<V> =
            diesel::sql_query("SELECT name AS v FROM pragma_index_info(?) ORDER BY seqno")
                .bind::<Text, _>(&i.name)
                .load(c)
                .unwrap_or_else(|e| panic!("pragma_index_info({}): {e}", i.name));
        indexes.insert((i.name, i.uniq == 1, cols.into_iter().map(|v| v.v).collect()));
    }
    let fks: Vec<PragmaFk> = diesel::sql_query(
        "SELECT id, \"table\" AS tbl, \"from\" AS col_from, \"to\" AS col_to, on_update, on_delete FROM pragma_foreign_key_list(?) ORDER BY id, seq",
    )
    .bind::<Text, _>(table)
    .load(c)
    .unwrap_or_else(|e| panic!("pragma_foreign_key_list({table}): {e}"));
    let mut by_id: BTreeMap<i64, LiveFk> = BTreeMap::new();
    for f in fks {
        let e = by_id.entry(f.id).or_insert_with(|| LiveFk {
            columns: vec![],
            ref_table: f.tbl.clone(),
            ref_columns: vec![],
            on_delete: f.on_delete.clone(),
            on_update: f.on_update.clone(),
        });
        e.columns.push(f.col_from);
        e.ref_columns.push(f.col_to.unwrap_or_default());
    }
    let sql: Vec<V> =
        diesel::sql_query("SELECT sql AS v FROM sqlite_master WHERE type = 'table' AND name = ?")
            .bind::<Text, _>(table)
            .load(c)
            .unwrap_or_else(|e| panic!("sqlite_master({table}): {e}"));
    let sql = sql.into_iter().next().map(|v| v.v).unwrap_or_default();
    LiveTable {
        columns: cols
            .into_iter()
            .map(|c| LiveColumn {
                name: c.name,
                ty: c.ty,
                not_null: c.nn == 1,
                default: c.dflt,
                pk: c.pk,
            })
            .collect(),
        indexes,
        foreign_keys: by_id.into_values().collect(),
        constraints: constraint_names(&sql),
        autoincrement: sql.contains("AUTOINCREMENT"),
    }
}

/// The names after `CONSTRAINT "` in a CREATE TABLE statement, unquoted.
fn constraint_names(sql: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = sql;
    while let Some(i) = rest.find("CONSTRAINT \"") {
        rest = &rest[i + "CONSTRAINT \"".len()..];
        let mut name = String::new();
        let mut chars = rest.char_indices().peekable();
        while let Some((j, ch)) = chars.next() {
            if ch == '"' {
                if chars.peek().map(|(_, n)| *n) == Some('"') {
                    chars.next();
                    name.push('"');
                    continue;
                }
                rest = &rest[j + 1..];
                break;
            }
            name.push(ch);
        }
        out.insert(name);
    }
    out
}

// ---- what the model says SQLite should show ----------------------------------

/// The SQLite type names the dialect promises (see `dialect/sqlite.rs`),
/// written out again here so that a change to them fails this test.
fn sqlite_type(ty: &ColumnType) -> String {
    match ty {
        ColumnType::SmallInt => "SMALLINT".into(),
        ColumnType::Integer => "INTEGER".into(),
        ColumnType::BigInt => "BIGINT".into(),
        ColumnType::Real => "REAL".into(),
        ColumnType::Double => "DOUBLE".into(),
        ColumnType::Boolean => "BOOLEAN".into(),
        ColumnType::Text | ColumnType::Uuid | ColumnType::Json => "TEXT".into(),
        ColumnType::Varchar(n) => format!("VARCHAR({n})"),
        ColumnType::Blob => "BLOB".into(),
        ColumnType::Date => "DATE".into(),
        ColumnType::Time => "TIME".into(),
        ColumnType::Timestamp => "TIMESTAMP".into(),
        ColumnType::TimestampTz => "TIMESTAMPTZ".into(),
        ColumnType::Custom(s) => s.clone(),
        other => panic!("no SQLite type is written here for {other:?}: add it"),
    }
}

/// `dflt_value` as SQLite reports it: the default's SQL text, without the
/// parentheses around an expression.
fn sqlite_default(d: &DefaultValue) -> String {
    match d {
        DefaultValue::Int(i) => i.to_string(),
        DefaultValue::Float(f) => format!("{f:?}"),
        DefaultValue::Bool(b) => if *b { "1" } else { "0" }.into(),
        DefaultValue::Str(s) => format!("'{}'", s.replace('\'', "''")),
        DefaultValue::Sql(e) => e.clone(),
    }
}

fn expected_table(t: &Table) -> LiveTable {
    // The whole primary key of a rowid table, of an integer width, is the
    // rowid alias: declared exactly INTEGER.
    let rowid = match t.primary_key.as_slice() {
        [only] if !t.without_rowid => t.column(only).filter(|c| {
            matches!(
                c.ty,
                ColumnType::SmallInt | ColumnType::Integer | ColumnType::BigInt
            )
        }),
        _ => None,
    };
    let autoinc_pk = rowid.is_some_and(|c| c.auto_increment);
    let declared = |c: &Column| {
        if rowid.is_some_and(|r| r.name == c.name) {
            "INTEGER".to_string()
        } else {
            sqlite_type(&c.ty)
        }
    };
    LiveTable {
        columns: t
            .columns
            .iter()
            .map(|c| LiveColumn {
                name: c.name.clone(),
                ty: declared(c),
                not_null: !c.nullable,
                default: c.default.as_ref().map(sqlite_default),
                pk: t
                    .primary_key
                    .iter()
                    .position(|p| *p == c.name)
                    .map_or(0, |i| i as i64 + 1),
            })
            .collect(),
        indexes: t
            .uniques
            .iter()
            .map(|u| (u.name.clone(), true, u.columns.clone()))
            .chain(
                t.indexes
                    .iter()
                    .map(|i| (i.name.clone(), false, i.columns.clone())),
            )
            .collect(),
        foreign_keys: t
            .foreign_keys
            .iter()
            .map(|f| LiveFk {
                columns: f.columns.clone(),
                ref_table: f.ref_table.clone(),
                ref_columns: f.ref_columns.clone(),
                on_delete: f.on_delete.sql().into(),
                on_update: f.on_update.sql().into(),
            })
            .collect(),
        constraints: t
            .foreign_keys
            .iter()
            .map(|f| f.name.clone())
            .chain(t.checks.iter().map(|c| c.name.clone()))
            .collect(),
        autoincrement: autoinc_pk,
    }
}

fn assert_schema(c: &mut SqliteConnection, expected: &Schema, stage: &str) {
    let want: BTreeMap<String, LiveTable> = expected
        .tables
        .values()
        .map(|t| (t.name.clone(), expected_table(t)))
        .collect();
    let got = live(c);
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>(),
        "{stage}: tables"
    );
    for (name, w) in &want {
        assert_eq!(&got[name], w, "{stage}: table `{name}`");
    }
}

// ---- the round trip ------------------------------------------------------------

/// Rows a query returns at a stage.
struct Data<'a> {
    query_up: &'a str,
    rows_up: Vec<&'a str>,
    query_down: &'a str,
    rows_down: Vec<&'a str>,
    /// What `query_down` returns right after seeding, when the round trip
    /// legitimately changes it (a dropped column comes back empty).
    rows_seed: Option<Vec<&'a str>>,
}

/// The same query and rows before and after the operation.
fn same<'a>(query: &'a str, rows: Vec<&'a str>) -> Data<'a> {
    Data {
        query_up: query,
        rows_up: rows.clone(),
        query_down: query,
        rows_down: rows,
        rows_seed: None,
    }
}

/// Creates `base`, seeds it, checks `data.query_down` gives `rows_down`, then
/// runs up, down, up (each twice) checking schema and data after each run.
fn round_trip(base: &Schema, seed: &str, op: Operation, data: Data<'_>) {
    let after = replay(base, std::slice::from_ref(&op))
        .unwrap_or_else(|e| panic!("{op} does not apply to the fixture: {e}"));
    let up = render(&op, base);
    let down = render(&op.inverse(), &after);

    let mut c = open();
    create_all(&mut c, base);
    exec(&mut c, seed);
    assert_schema(&mut c, base, "fixture");
    let seeded = data.rows_seed.as_ref().unwrap_or(&data.rows_down);
    assert_eq!(&rows(&mut c, data.query_down), seeded, "seed rows");

    let stages = [
        ("up", &up, &after, data.query_up, &data.rows_up),
        ("down", &down, base, data.query_down, &data.rows_down),
        ("up again", &up, &after, data.query_up, &data.rows_up),
    ];
    for (stage, stmts, schema, query, want) in stages {
        for attempt in ["first run", "second run"] {
            let label = format!("{op}: {stage}, {attempt}");
            run(&mut c, stmts);
            assert_schema(&mut c, schema, &label);
            assert_eq!(&rows(&mut c, query), want, "{label}: rows");
            // Every guard now sees the effect as present, so a repeat skips
            // the guarded steps rather than redoing them harmlessly.
            for s in stmts.iter() {
                if let Some(q) = &s.skip_if {
                    assert!(count(&mut c, q) > 0, "{label}: guard not satisfied: {q}");
                }
            }
        }
    }
}

// ---- fixtures ------------------------------------------------------------------

/// Comments point at tasks, so every tasks rebuild has a child to keep.
fn comments() -> Table {
    let mut t = Table::new("comments");
    t.columns = vec![
        auto(col("id", ColumnType::Integer)),
        col("task_id", ColumnType::BigInt),
        col("body", ColumnType::Text),
    ];
    t.primary_key = vec!["id".into()];
    t.foreign_keys = vec![ForeignKey {
        name: "fk_comments_task_id".into(),
        columns: vec!["task_id".into()],
        ref_table: "tasks".into(),
        ref_columns: vec!["id".into()],
        on_delete: RefAction::Cascade,
        on_update: RefAction::NoAction,
    }];
    t
}

fn schema() -> Schema {
    let mut s = Schema::new();
    s.insert(users());
    s.insert(tasks());
    s.insert(comments());
    s.normalize();
    s
}

fn column_of(t: Table, name: &str) -> Column {
    t.column(name)
        .cloned()
        .unwrap_or_else(|| panic!("fixture has no column {name}"))
}

/// Users and tasks rows, for fixtures without comments.
macro_rules! seed_users_tasks {
    () => {
        "
INSERT INTO users (id, email, name) VALUES (1, 'ann@example.com', 'Ann'), (2, 'bob@example.com', NULL);
INSERT INTO tasks (id, user_id, title, priority, done, due) VALUES
  (1, 1, 'write', 'high', 1, '2024-01-31'),
  (2, 1, 'test', 'medium', 0, NULL),
  (3, 2, 'ship', 'low', 0, '2024-02-29');
"
    };
}
const SEED_NO_COMMENTS: &str = seed_users_tasks!();
const SEED: &str = concat!(
    seed_users_tasks!(),
    "INSERT INTO comments (id, task_id, body) VALUES (1, 1, 'first'), (2, 3, 'it''s \\ done');"
);

const TASKS: &str = "SELECT id || '|' || user_id || '|' || title || '|' || priority || '|' || done || '|' || coalesce(due, '-') AS v FROM tasks ORDER BY id";
const TASK_ROWS: [&str; 3] = [
    "1|1|write|high|1|2024-01-31",
    "2|1|test|medium|0|-",
    "3|2|ship|low|0|2024-02-29",
];
const USERS: &str =
    "SELECT id || '|' || email || '|' || coalesce(name, '-') AS v FROM users ORDER BY id";
const USER_ROWS: [&str; 2] = ["1|ann@example.com|Ann", "2|bob@example.com|-"];
const COMMENTS: &str = "SELECT id || '|' || task_id || '|' || body AS v FROM comments ORDER BY id";

fn task_rows() -> Vec<&'static str> {
    TASK_ROWS.to_vec()
}

// ---- one test per operation ------------------------------------------------------

#[test]
fn create_table() {
    let mut base = schema();
    base.tables.remove("comments");
    round_trip(
        &base,
        "INSERT INTO users (id, email) VALUES (1, 'a@x')",
        Operation::CreateTable { table: comments() },
        same(USERS, vec!["1|a@x|-"]),
    );
}

#[test]
fn drop_table() {
    // Comments go; the rows of the other tables stay, and the inverse
    // recreates an empty comments table with its foreign key.
    round_trip(
        &schema(),
        SEED,
        Operation::DropTable { table: comments() },
        same(TASKS, task_rows()),
    );
}

#[test]
fn rename_table() {
    // The foreign key in comments follows the rename, as the model says.
    round_trip(
        &schema(),
        SEED,
        Operation::RenameTable {
            from: "tasks".into(),
            to: "todo_items".into(),
        },
        Data {
            query_up: "SELECT title AS v FROM todo_items ORDER BY id",
            rows_up: vec!["write", "test", "ship"],
            query_down: "SELECT title AS v FROM tasks ORDER BY id",
            rows_down: vec!["write", "test", "ship"],
            rows_seed: None,
        },
    );
}

#[test]
fn add_column_nullable() {
    round_trip(
        &schema(),
        SEED,
        Operation::AddColumn {
            table: "tasks".into(),
            column: nullable(col("notes", ColumnType::Text)),
        },
        Data {
            query_up: "SELECT title || '|' || coalesce(notes, '-') AS v FROM tasks ORDER BY id",
            rows_up: vec!["write|-", "test|-", "ship|-"],
            query_down: TASKS,
            rows_down: task_rows(),
            rows_seed: None,
        },
    );
}

#[test]
fn add_column_with_default() {
    round_trip(
        &schema(),
        SEED,
        Operation::AddColumn {
            table: "tasks".into(),
            column: with_default(col("points", ColumnType::Integer), DefaultValue::Int(3)),
        },
        Data {
            query_up: "SELECT title || '|' || points AS v FROM tasks ORDER BY id",
            rows_up: vec!["write|3", "test|3", "ship|3"],
            query_down: TASKS,
            rows_down: task_rows(),
            rows_seed: None,
        },
    );
}

#[test]
fn add_column_with_sql_default_rebuilds() {
    // SQLite refuses ADD COLUMN with CURRENT_TIMESTAMP; the rebuild fills it.
    round_trip(
        &schema(),
        SEED,
        Operation::AddColumn {
            table: "users".into(),
            column: with_default(
                col("joined_at", ColumnType::Timestamp),
                DefaultValue::Sql("CURRENT_TIMESTAMP".into()),
            ),
        },
        Data {
            query_up: "SELECT email || '|' || (joined_at IS NOT NULL) AS v FROM users ORDER BY id",
            rows_up: vec!["ann@example.com|1", "bob@example.com|1"],
            query_down: USERS,
            rows_down: USER_ROWS.to_vec(),
            rows_seed: None,
        },
    );
}

#[test]
fn add_column_not_null_without_default_rebuilds() {
    // SQLite refuses ADD COLUMN NOT NULL without a default even on an empty
    // table; the rebuild works there (and must fail where rows exist, below).
    let mut base = schema();
    base.tables.remove("comments");
    round_trip(
        &base,
        "",
        Operation::AddColumn {
            table: "users".into(),
            column: col("age", ColumnType::SmallInt),
        },
        same("SELECT email AS v FROM users", vec![]),
    );
}

#[test]
fn add_column_not_null_without_default_fails_cleanly_on_rows() {
    let base = schema();
    let op = Operation::AddColumn {
        table: "users".into(),
        column: col("age", ColumnType::SmallInt),
    };
    let mut c = open();
    create_all(&mut c, &base);
    exec(&mut c, SEED);
    let e = try_run(&mut c, &render(&op, &base))
        .expect_err("adding a NOT NULL column without default to a table with rows must fail");
    assert!(e.contains("NOT NULL"), "{e}");
    // Rolled back: the table and its rows are as before.
    assert_schema(&mut c, &base, "after the failed migration");
    assert_eq!(rows(&mut c, USERS), USER_ROWS.to_vec());
}

#[test]
fn drop_column() {
    round_trip(
        &schema(),
        SEED,
        Operation::DropColumn {
            table: "users".into(),
            column: column_of(users(), "name"),
        },
        Data {
            query_up: "SELECT id || '|' || email AS v FROM users ORDER BY id",
            rows_up: vec!["1|ann@example.com", "2|bob@example.com"],
            // The column comes back empty: its data went with the drop.
            query_down: USERS,
            rows_down: vec!["1|ann@example.com|-", "2|bob@example.com|-"],
            rows_seed: Some(USER_ROWS.to_vec()),
        },
    );
}

#[test]
fn drop_column_in_a_check_rebuilds() {
    // A check mentions the column, so `ALTER TABLE DROP COLUMN` would refuse
    // and SQLite rebuilds; the check goes with the column, as PostgreSQL
    // drops it. Replay keeps the check (a generated migration drops it
    // first), so this runs one way, against a hand-made expectation.
    let mut base = schema();
    let tasks = base
        .tables
        .get_mut("tasks")
        .unwrap_or_else(|| panic!("fixture has tasks"));
    tasks.checks.push(Check {
        name: "ck_tasks_2".into(),
        expr: "due IS NULL OR due > '2000-01-01'".into(),
    });
    base.normalize();
    let op = Operation::DropColumn {
        table: "tasks".into(),
        column: column_of(self::tasks(), "due"),
    };
    // One way only: the inverse cannot bring the dependent check back.
    let mut c = open();
    create_all(&mut c, &base);
    exec(&mut c, SEED);
    let stmts = render(&op, &base);
    assert!(
        stmts.iter().any(|s| s.sql.contains("_migrator_new_tasks")),
        "expected a rebuild"
    );
    let mut expected = replay(&base, std::slice::from_ref(&op)).unwrap_or_else(|e| panic!("{e}"));
    if let Some(t) = expected.tables.get_mut("tasks") {
        t.checks.retain(|c| c.name != "ck_tasks_2");
    }
    for attempt in ["first run", "second run"] {
        run(&mut c, &stmts);
        assert_schema(&mut c, &expected, attempt);
        assert_eq!(
            rows(
                &mut c,
                "SELECT id || '|' || title || '|' || priority AS v FROM tasks ORDER BY id"
            ),
            vec!["1|write|high", "2|test|medium", "3|ship|low"],
            "{attempt}"
        );
        assert_eq!(rows(&mut c, COMMENTS).len(), 2, "{attempt}: comments kept");
    }
}

#[test]
fn rename_column() {
    // The unique constraint and index over the column follow it.
    round_trip(
        &schema(),
        SEED,
        Operation::RenameColumn {
            table: "tasks".into(),
            from: "title".into(),
            to: "name".into(),
        },
        Data {
            query_up: "SELECT name AS v FROM tasks ORDER BY id",
            rows_up: vec!["write", "test", "ship"],
            query_down: "SELECT title AS v FROM tasks ORDER BY id",
            rows_down: vec!["write", "test", "ship"],
            rows_seed: None,
        },
    );
}

#[test]
fn rename_referenced_column() {
    // Renaming a parent key column rewrites the child's foreign key too,
    // as the model's replay does.
    round_trip(
        &schema(),
        SEED,
        Operation::RenameColumn {
            table: "users".into(),
            from: "id".into(),
            to: "user_pk".into(),
        },
        Data {
            query_up: "SELECT user_pk || '|' || email AS v FROM users ORDER BY user_pk",
            rows_up: vec!["1|ann@example.com", "2|bob@example.com"],
            query_down: "SELECT id || '|' || email AS v FROM users ORDER BY id",
            rows_down: vec!["1|ann@example.com", "2|bob@example.com"],
            rows_seed: None,
        },
    );
}

#[test]
fn alter_column_type_keeps_values() {
    round_trip(
        &schema(),
        SEED,
        Operation::AlterColumn {
            table: "tasks".into(),
            from: column_of(tasks(), "priority"),
            to: with_default(
                col("priority", ColumnType::Text),
                DefaultValue::Str("medium".into()),
            ),
        },
        same(TASKS, task_rows()),
    );
}

#[test]
fn alter_column_integer_to_text_and_back() {
    // The values survive both conversions (CAST to TEXT, then to INTEGER).
    round_trip(
        &schema(),
        SEED,
        Operation::AlterColumn {
            table: "comments".into(),
            from: column_of(comments(), "task_id"),
            to: col("task_id", ColumnType::Varchar(20)),
        },
        Data {
            query_up: "SELECT typeof(task_id) || ':' || task_id AS v FROM comments ORDER BY id",
            rows_up: vec!["text:1", "text:3"],
            query_down: "SELECT typeof(task_id) || ':' || task_id AS v FROM comments ORDER BY id",
            rows_down: vec!["integer:1", "integer:3"],
            rows_seed: None,
        },
    );
}

#[test]
fn alter_column_type_change_loses_nothing() {
    // Values the new type cannot hold stay as they are (SQLite's affinity
    // converts only what converts losslessly), so the downgrade gives back
    // exactly what was there: no `'abc'` turned into 0, no 3.7 into 3.
    let mut base = Schema::new();
    let mut t = Table::new("m");
    t.columns = vec![
        nullable(col("x", ColumnType::Text)),
        nullable(col("r", ColumnType::Real)),
    ];
    base.insert(t);
    let q = "SELECT typeof(x) || ':' || coalesce(x, '-') AS v FROM m ORDER BY rowid";
    round_trip(
        &base,
        "INSERT INTO m VALUES ('12', 1.0), ('abc', 3.7), ('3.5', NULL), (NULL, 2.0)",
        Operation::AlterColumn {
            table: "m".into(),
            from: nullable(col("x", ColumnType::Text)),
            to: nullable(col("x", ColumnType::BigInt)),
        },
        Data {
            query_up: q,
            rows_up: vec!["integer:12", "text:abc", "real:3.5", "null:-"],
            query_down: q,
            rows_down: vec!["text:12", "text:abc", "text:3.5", "null:-"],
            rows_seed: None,
        },
    );
    let q = "SELECT typeof(r) || ':' || coalesce(r, '-') AS v FROM m ORDER BY rowid";
    round_trip(
        &base,
        "INSERT INTO m VALUES ('a', 1.0), ('b', 3.7), ('c', NULL)",
        Operation::AlterColumn {
            table: "m".into(),
            from: nullable(col("r", ColumnType::Real)),
            to: nullable(col("r", ColumnType::Integer)),
        },
        Data {
            query_up: q,
            rows_up: vec!["integer:1", "real:3.7", "null:-"],
            query_down: q,
            rows_down: vec!["real:1.0", "real:3.7", "null:-"],
            rows_seed: None,
        },
    );
}

#[test]
fn alter_column_not_null_backfills_the_default() {
    round_trip(
        &schema(),
        SEED,
        Operation::AlterColumn {
            table: "tasks".into(),
            from: column_of(tasks(), "due"),
            to: with_default(
                col("due", ColumnType::Date),
                DefaultValue::Str("2000-01-01".into()),
            ),
        },
        Data {
            query_up: TASKS,
            rows_up: vec![
                "1|1|write|high|1|2024-01-31",
                "2|1|test|medium|0|2000-01-01",
                "3|2|ship|low|0|2024-02-29",
            ],
            // Back to nullable: the backfilled value stays (nothing records
            // which rows were NULL).
            query_down: "SELECT count(*) || '' AS v FROM tasks WHERE due IS NOT NULL",
            rows_down: vec!["3"],
            rows_seed: Some(vec!["2"]),
        },
    );
}

#[test]
fn alter_column_default_and_nullability() {
    round_trip(
        &schema(),
        SEED,
        Operation::AlterColumn {
            table: "tasks".into(),
            from: column_of(tasks(), "priority"),
            to: nullable(col("priority", ColumnType::Varchar(20))),
        },
        same(TASKS, task_rows()),
    );
}

#[test]
fn alter_column_auto_increment() {
    // Dropping AUTOINCREMENT keeps ids; adding it back keeps them too.
    round_trip(
        &schema(),
        SEED,
        Operation::AlterColumn {
            table: "users".into(),
            from: column_of(users(), "id"),
            to: col("id", ColumnType::BigInt),
        },
        same(USERS, USER_ROWS.to_vec()),
    );
}

#[test]
fn set_primary_key_add_and_drop() {
    let mut base = Schema::new();
    let mut t = Table::new("kv");
    t.columns = vec![
        col("k", ColumnType::Varchar(10)),
        nullable(col("v", ColumnType::Text)),
    ];
    base.insert(t);
    round_trip(
        &base,
        "INSERT INTO kv VALUES ('a', '1'), ('b', NULL)",
        Operation::SetPrimaryKey {
            table: "kv".into(),
            from: vec![],
            to: vec!["k".into()],
        },
        same(
            "SELECT k || '=' || coalesce(v, '-') AS v FROM kv ORDER BY k",
            vec!["a=1", "b=-"],
        ),
    );
}

#[test]
fn set_primary_key_change() {
    let mut base = schema();
    // comments references tasks(id), which stops being a key on its own
    // (foreign_key_check rightly reports a mismatch), so it is left out.
    base.tables.remove("comments");
    // An AUTOINCREMENT column must be the whole key on SQLite; the model
    // turns it off before widening the key.
    if let Some(c) = base
        .tables
        .get_mut("tasks")
        .and_then(|t| t.column_mut("id"))
    {
        c.auto_increment = false;
    }
    round_trip(
        &base,
        SEED_NO_COMMENTS,
        Operation::SetPrimaryKey {
            table: "tasks".into(),
            from: vec!["id".into()],
            to: vec!["user_id".into(), "id".into()],
        },
        same(TASKS, task_rows()),
    );
}

#[test]
fn create_and_drop_index() {
    round_trip(
        &schema(),
        SEED,
        Operation::CreateIndex {
            table: "tasks".into(),
            index: Index {
                name: "idx_tasks_done_due".into(),
                columns: vec!["done".into(), "due".into()],
            },
        },
        same(TASKS, task_rows()),
    );
    round_trip(
        &schema(),
        SEED,
        Operation::DropIndex {
            table: "tasks".into(),
            index: tasks().indexes[0].clone(),
        },
        same(TASKS, task_rows()),
    );
}

#[test]
fn add_and_drop_unique() {
    round_trip(
        &schema(),
        SEED,
        Operation::AddUnique {
            table: "tasks".into(),
            unique: Unique {
                name: "uq_tasks_title".into(),
                columns: vec!["title".into()],
                nulls_not_distinct: false,
            },
        },
        same(TASKS, task_rows()),
    );
    round_trip(
        &schema(),
        SEED,
        Operation::DropUnique {
            table: "users".into(),
            unique: users().uniques[0].clone(),
        },
        same(USERS, USER_ROWS.to_vec()),
    );
}

#[test]
fn add_and_drop_foreign_key() {
    let fk = ForeignKey {
        name: "fk_tasks_owner".into(),
        columns: vec!["user_id".into()],
        ref_table: "users".into(),
        ref_columns: vec!["id".into()],
        on_delete: RefAction::Restrict,
        on_update: RefAction::Cascade,
    };
    round_trip(
        &schema(),
        SEED,
        Operation::AddForeignKey {
            table: "tasks".into(),
            foreign_key: fk,
        },
        same(TASKS, task_rows()),
    );
    round_trip(
        &schema(),
        SEED,
        Operation::DropForeignKey {
            table: "tasks".into(),
            foreign_key: tasks().foreign_keys[0].clone(),
        },
        same(TASKS, task_rows()),
    );
}

#[test]
fn add_and_drop_check() {
    round_trip(
        &schema(),
        SEED,
        Operation::AddCheck {
            table: "tasks".into(),
            check: Check {
                name: "ck_tasks_2".into(),
                expr: "length(title) > 0".into(),
            },
        },
        same(TASKS, task_rows()),
    );
    round_trip(
        &schema(),
        SEED,
        Operation::DropCheck {
            table: "tasks".into(),
            check: tasks().checks[0].clone(),
        },
        same(TASKS, task_rows()),
    );
}

#[test]
fn raw_sql_and_rust_steps() {
    let op = Operation::Sql(RawSql {
        sql: Some("UPDATE tasks SET priority = 'high' WHERE done = 0;".into()),
        reverse: Some(SqlVariants {
            sqlite: Some("UPDATE tasks SET priority = 'medium' WHERE done = 0".into()),
            ..SqlVariants::default()
        }),
        transactional: true,
        ..RawSql::default()
    });
    round_trip(
        &schema(),
        SEED,
        op,
        Data {
            query_up: "SELECT priority AS v FROM tasks ORDER BY id",
            rows_up: vec!["high", "high", "high"],
            query_down: "SELECT priority AS v FROM tasks WHERE done = 0 ORDER BY id",
            // The reverse sets what it sets: the seed's `low` is not restored.
            rows_down: vec!["medium", "medium"],
            rows_seed: Some(vec!["medium", "low"]),
        },
    );
    let rust = Operation::Rust {
        name: "split_priority".into(),
        reverse: Some("join_priority".into()),
    };
    assert!(render(&rust, &schema()).is_empty());
    assert!(render(&rust.inverse(), &schema()).is_empty());
}

// ---- properties across operations ------------------------------------------------

/// Names with a double quote, a backtick and a space, and a string default
/// with quotes and backslashes, through create, add column, alter (rebuild)
/// and rename.
#[test]
fn odd_names_and_defaults_are_quoted() {
    let weird_default = "it's a \\ 'test' \\' -- ; DROP TABLE users";
    let mut t = Table::new("we\"ird `tab le");
    t.columns = vec![
        auto(col("i\"d", ColumnType::Integer)),
        with_default(
            col("na`me x", ColumnType::Varchar(80)),
            DefaultValue::Str(weird_default.into()),
        ),
    ];
    t.primary_key = vec!["i\"d".into()];
    t.indexes = vec![Index {
        name: "idx \"odd\" `x`".into(),
        columns: vec!["na`me x".into()],
    }];
    let mut base = Schema::new();
    base.insert(users());
    base.insert(t.clone());
    let name = t.name.clone();
    let seed = "INSERT INTO \"we\"\"ird `tab le\" (\"i\"\"d\") VALUES (1)";
    let data = "SELECT \"na`me x\" AS v FROM \"we\"\"ird `tab le\"";
    round_trip(
        &base,
        seed,
        Operation::AddColumn {
            table: name.clone(),
            column: with_default(
                col("it's \"x\" `y`", ColumnType::Text),
                DefaultValue::Str("a'b\\c".into()),
            ),
        },
        same(data, vec![weird_default]),
    );
    round_trip(
        &base,
        seed,
        Operation::AlterColumn {
            table: name.clone(),
            from: t.columns[1].clone(),
            to: with_default(
                col("na`me x", ColumnType::Text),
                DefaultValue::Str("other '' \\".into()),
            ),
        },
        same(data, vec![weird_default]),
    );
    round_trip(
        &base,
        seed,
        Operation::RenameColumn {
            table: name.clone(),
            from: "na`me x".into(),
            to: "it's \"y\"".into(),
        },
        Data {
            query_up: "SELECT \"it's \"\"y\"\"\" AS v FROM \"we\"\"ird `tab le\"",
            rows_up: vec![weird_default],
            query_down: data,
            rows_down: vec![weird_default],
            rows_seed: None,
        },
    );
    round_trip(
        &base,
        seed,
        Operation::RenameTable {
            from: name,
            to: "it's \"odd\"".into(),
        },
        Data {
            query_up: "SELECT \"na`me x\" AS v FROM \"it's \"\"odd\"\"\"",
            rows_up: vec![weird_default],
            query_down: data,
            rows_down: vec![weird_default],
            rows_seed: None,
        },
    );
    // The users table was never touched by any of it.
    let mut c = open();
    create_all(&mut c, &base);
    assert_eq!(
        count(&mut c, "SELECT 1 FROM sqlite_master WHERE name = 'users'"),
        1
    );
}

/// A rebuild keeps the AUTOINCREMENT high-water mark, so the id of a deleted
/// row is not handed out again.
#[test]
fn rebuild_keeps_the_autoincrement_counter() {
    let base = schema();
    let op = Operation::AlterColumn {
        table: "users".into(),
        from: column_of(users(), "name"),
        to: col("name", ColumnType::Text).tap_default("nobody"),
    };
    let mut c = open();
    create_all(&mut c, &base);
    exec(
        &mut c,
        "INSERT INTO users (email) VALUES ('a@x'), ('b@x'), ('c@x'); DELETE FROM users WHERE id = 3",
    );
    run(&mut c, &render(&op, &base));
    exec(
        &mut c,
        "INSERT INTO users (email, name) VALUES ('d@x', 'Dee')",
    );
    assert_eq!(
        rows(
            &mut c,
            "SELECT id || ':' || email || ':' || name AS v FROM users ORDER BY id"
        ),
        vec!["1:a@x:nobody", "2:b@x:nobody", "4:d@x:Dee"]
    );
}

/// Rebuilding a parent table keeps the children's foreign keys working:
/// they still name the table, and ON DELETE CASCADE still fires.
#[test]
fn rebuild_of_a_parent_keeps_child_foreign_keys() {
    let base = schema();
    let op = Operation::AlterColumn {
        table: "tasks".into(),
        from: column_of(tasks(), "title"),
        to: col("title", ColumnType::Text),
    };
    let mut c = open();
    create_all(&mut c, &base);
    exec(&mut c, SEED);
    run(&mut c, &render(&op, &base));
    assert_eq!(count(&mut c, "SELECT 1 FROM pragma_foreign_key_check"), 0);
    exec(&mut c, "DELETE FROM tasks WHERE id = 1");
    assert_eq!(rows(&mut c, COMMENTS), vec!["2|3|it's \\ done"]);
}

/// A rebuild that would break a foreign key (adding one that rows violate)
/// fails at the foreign_key_check and leaves the table as it was.
#[test]
fn violating_foreign_key_is_refused_and_rolled_back() {
    let mut base = schema();
    if let Some(t) = base.tables.get_mut("comments") {
        t.foreign_keys.clear();
    }
    let op = Operation::AddForeignKey {
        table: "comments".into(),
        foreign_key: comments().foreign_keys[0].clone(),
    };
    let mut c = open();
    create_all(&mut c, &base);
    exec(&mut c, SEED);
    exec(
        &mut c,
        "INSERT INTO comments (task_id, body) VALUES (99, 'orphan')",
    );
    let e = try_run(&mut c, &render(&op, &base)).expect_err("an orphan row must fail the check");
    assert!(e.contains("violate a foreign key"), "{e}");
    assert_schema(&mut c, &base, "after the refused migration");
    assert_eq!(rows(&mut c, COMMENTS).len(), 3);
}

trait TapDefault {
    fn tap_default(self, s: &str) -> Column;
}

impl TapDefault for Column {
    fn tap_default(mut self, s: &str) -> Column {
        self.nullable = false;
        self.default = Some(DefaultValue::Str(s.into()));
        self
    }
}

/// A table whose foreign key points at itself survives its own rebuild: the
/// scratch table references the final name, which the rename then gives it.
#[test]
fn rebuild_of_a_self_referencing_table() {
    let mut t = Table::new("nodes");
    t.columns = vec![
        auto(col("id", ColumnType::Integer)),
        nullable(col("parent_id", ColumnType::Integer)),
        col("label", ColumnType::Varchar(20)),
    ];
    t.primary_key = vec!["id".into()];
    t.foreign_keys = vec![ForeignKey {
        name: "fk_nodes_parent_id".into(),
        columns: vec!["parent_id".into()],
        ref_table: "nodes".into(),
        ref_columns: vec!["id".into()],
        on_delete: RefAction::Cascade,
        on_update: RefAction::NoAction,
    }];
    let mut base = Schema::new();
    base.insert(t);
    let q =
        "SELECT id || '<' || coalesce(parent_id, '-') || ':' || label AS v FROM nodes ORDER BY id";
    round_trip(
        &base,
        "INSERT INTO nodes VALUES (1, NULL, 'root'), (2, 1, 'a'), (3, 2, 'b')",
        Operation::AlterColumn {
            table: "nodes".into(),
            from: col("label", ColumnType::Varchar(20)),
            to: col("label", ColumnType::Text),
        },
        same(q, vec!["1<-:root", "2<1:a", "3<2:b"]),
    );
    // And the cascade still works on the rebuilt table.
    let mut c = open();
    create_all(&mut c, &base);
    exec(
        &mut c,
        "INSERT INTO nodes VALUES (1, NULL, 'root'), (2, 1, 'a'), (3, 2, 'b')",
    );
    let op = Operation::AddCheck {
        table: "nodes".into(),
        check: Check {
            name: "ck_nodes_1".into(),
            expr: "label <> ''".into(),
        },
    };
    run(&mut c, &render(&op, &base));
    exec(&mut c, "DELETE FROM nodes WHERE id = 2");
    assert_eq!(rows(&mut c, q), vec!["1<-:root"]);
}

/// Re-running an older migration whose effect is present is a no-op even
/// after later migrations changed the table: the rebuild is guarded, so it
/// does not recreate the table from the older definition (which still had a
/// column dropped since).
#[test]
fn older_rebuild_rerun_after_later_changes_is_a_no_op() {
    let base = schema();
    let add_check = Operation::AddCheck {
        table: "tasks".into(),
        check: Check {
            name: "ck_tasks_2".into(),
            expr: "length(title) > 0".into(),
        },
    };
    let drop_due = Operation::DropColumn {
        table: "tasks".into(),
        column: column_of(tasks(), "due"),
    };
    let after_check =
        replay(&base, std::slice::from_ref(&add_check)).unwrap_or_else(|e| panic!("{e}"));
    let after_both =
        replay(&after_check, std::slice::from_ref(&drop_due)).unwrap_or_else(|e| panic!("{e}"));
    let check_stmts = render(&add_check, &base);
    let mut c = open();
    create_all(&mut c, &base);
    exec(&mut c, SEED);
    run(&mut c, &check_stmts);
    run(&mut c, &render(&drop_due, &after_check));
    assert_schema(&mut c, &after_both, "after both");
    run(&mut c, &check_stmts);
    assert_schema(&mut c, &after_both, "after re-running the older rebuild");
    assert_eq!(rows(&mut c, COMMENTS).len(), 2);
}

/// If the live table lacks a column the model has, the rebuild's copy fails
/// instead of filling the column with its own name (SQLite reads an unknown
/// double-quoted name as a string; the copy qualifies its columns).
#[test]
fn rebuild_copy_of_a_missing_column_fails() {
    let base = schema();
    let op = Operation::AddCheck {
        table: "tasks".into(),
        check: Check {
            name: "ck_tasks_2".into(),
            expr: "length(title) > 0".into(),
        },
    };
    let mut c = open();
    create_all(&mut c, &base);
    exec(&mut c, SEED);
    // Drift: someone dropped `due` by hand.
    exec(&mut c, "ALTER TABLE tasks DROP COLUMN due");
    let e = try_run(&mut c, &render(&op, &base)).expect_err("the copy must fail");
    assert!(e.contains("no such column"), "{e}");
}
