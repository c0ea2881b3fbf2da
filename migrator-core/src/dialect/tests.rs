//! Snapshots of the SQL every operation renders to, in all three dialects.
//!
//! Each snapshot holds one operation rendered for PostgreSQL, SQLite and
//! MySQL, in the form `migrator sql` prints (guards as comments), so a change
//! in any dialect shows up as a reviewable diff. SQLite's statements are also
//! executed against a real database in `tests/sqlite_render.rs`.

use super::{render_op, Dialect};
use crate::ops::{Operation, RawSql, SqlVariants};
use crate::schema::{
    Check, Column, ColumnType, DefaultValue, ForeignKey, Index, RefAction, Schema, Table, Unique,
};

#[path = "../../tests/support/schema_fixtures.rs"]
mod schema_fixtures;
use crate::schema;
use schema_fixtures::*;

/// A table whose names need every kind of quoting: a double quote, a
/// backtick and a space.
fn odd() -> Table {
    let mut t = Table::new("we\"ird `tab le");
    t.columns = vec![
        col("i\"d", ColumnType::Integer),
        with_default(
            col("na`me x", ColumnType::Varchar(50)),
            DefaultValue::Str("it's a \\ 'test' \\' --".into()),
        ),
    ];
    t.primary_key = vec!["i\"d".into()];
    t.indexes = vec![Index {
        name: "idx \"odd\" `x`".into(),
        columns: vec!["na`me x".into()],
    }];
    t
}

fn schema() -> Schema {
    let mut s = Schema::new();
    s.insert(users());
    s.insert(tasks());
    s.insert(odd());
    s.normalize();
    s
}

/// `op` rendered for each dialect, as `migrator sql` prints it.
fn render_all(op: &Operation, before: &Schema) -> String {
    let mut out = format!("-- {op}\n");
    for d in Dialect::ALL {
        out.push_str(&format!("\n-- ==== {d} ====\n"));
        match render_op(d, op, before) {
            Ok(stmts) if stmts.is_empty() => out.push_str("-- (no statements)\n"),
            Ok(stmts) => {
                for s in stmts {
                    out.push_str(&format!("{s}\n"));
                }
            }
            Err(e) => out.push_str(&format!("-- error: {e}\n")),
        }
    }
    out
}

macro_rules! snap {
    ($name:ident, $op:expr) => {
        snap!($name, $op, schema());
    };
    ($name:ident, $op:expr, $before:expr) => {
        #[test]
        fn $name() {
            let op: Operation = $op;
            let before: Schema = $before;
            insta::assert_snapshot!(stringify!($name), render_all(&op, &before));
        }
    };
}

fn without(table: &str) -> Schema {
    let mut s = schema();
    s.tables.remove(table);
    s
}

fn tasks_column(name: &str) -> Column {
    tasks()
        .column(name)
        .cloned()
        .unwrap_or_else(|| panic!("fixture has no column {name}"))
}

// ---- tables ----------------------------------------------------------------

snap!(
    create_table,
    Operation::CreateTable { table: tasks() },
    without("tasks")
);
snap!(
    create_table_with_unique,
    Operation::CreateTable { table: users() },
    without("users")
);
snap!(
    create_table_quoted,
    Operation::CreateTable { table: odd() },
    without(odd().name.as_str())
);
snap!(drop_table, Operation::DropTable { table: tasks() });
snap!(
    rename_table,
    Operation::RenameTable {
        from: "tasks".into(),
        to: "todo_items".into(),
    }
);
snap!(
    rename_table_quoted,
    Operation::RenameTable {
        from: odd().name,
        to: "it's \"odd\"".into(),
    }
);

snap!(
    create_table_every_type,
    Operation::CreateTable {
        table: {
            let mut t = Table::new("all_types");
            t.columns = vec![
                col("a_smallint", ColumnType::SmallInt),
                col("an_integer", ColumnType::Integer),
                col("a_bigint", ColumnType::BigInt),
                col("a_real", ColumnType::Real),
                col("a_double", ColumnType::Double),
                col("a_boolean", ColumnType::Boolean),
                col("a_text", ColumnType::Text),
                col("a_varchar", ColumnType::Varchar(10)),
                col("a_blob", ColumnType::Blob),
                col("a_date", ColumnType::Date),
                col("a_time", ColumnType::Time),
                col("a_timestamp", ColumnType::Timestamp),
                col("a_timestamptz", ColumnType::TimestampTz),
                col("a_uuid", ColumnType::Uuid),
                col("a_json", ColumnType::Json),
                nullable(col("a_custom", ColumnType::Custom("NUMERIC(12, 2)".into()))),
            ];
            t
        },
    },
    Schema::new()
);

snap!(
    create_table_every_default,
    Operation::CreateTable {
        table: {
            let mut t = Table::new("defaults");
            t.columns = vec![
                with_default(col("an_int", ColumnType::Integer), DefaultValue::Int(-5)),
                with_default(
                    col("a_float", ColumnType::Double),
                    DefaultValue::Float(0.25),
                ),
                with_default(col("yes", ColumnType::Boolean), DefaultValue::Bool(true)),
                with_default(col("no", ColumnType::Boolean), DefaultValue::Bool(false)),
                with_default(
                    col("a_str", ColumnType::Varchar(40)),
                    DefaultValue::Str("it's \\ok".into()),
                ),
                with_default(
                    col("a_text", ColumnType::Text),
                    DefaultValue::Str("plain".into()),
                ),
                with_default(
                    col("now_ts", ColumnType::TimestampTz),
                    DefaultValue::Sql("CURRENT_TIMESTAMP".into()),
                ),
                with_default(
                    col("an_expr", ColumnType::Varchar(10)),
                    DefaultValue::Sql("lower('ABC')".into()),
                ),
            ];
            t
        },
    },
    Schema::new()
);

// ---- columns ---------------------------------------------------------------

snap!(
    add_column_nullable,
    Operation::AddColumn {
        table: "tasks".into(),
        column: nullable(col("notes", ColumnType::Text)),
    }
);
snap!(
    add_column_with_default,
    Operation::AddColumn {
        table: "tasks".into(),
        column: with_default(col("points", ColumnType::Integer), DefaultValue::Int(0)),
    }
);
// SQLite cannot ADD COLUMN NOT NULL without a default: rebuild.
snap!(
    add_column_not_null_without_default,
    Operation::AddColumn {
        table: "users".into(),
        column: col("age", ColumnType::SmallInt),
    }
);
// SQLite cannot ADD COLUMN with a non-constant default: rebuild.
snap!(
    add_column_sql_default,
    Operation::AddColumn {
        table: "users".into(),
        column: with_default(
            col("joined_at", ColumnType::Timestamp),
            DefaultValue::Sql("CURRENT_TIMESTAMP".into()),
        ),
    }
);
snap!(
    add_column_quoted,
    Operation::AddColumn {
        table: odd().name,
        column: with_default(
            col("it's \"x\" `y`", ColumnType::Text),
            DefaultValue::Str("a'b\\c".into()),
        ),
    }
);
snap!(
    drop_column,
    Operation::DropColumn {
        table: "tasks".into(),
        column: tasks_column("due"),
    }
);
// The column is in an index, a unique constraint and a foreign key: SQLite
// cannot drop it in place and rebuilds without those.
snap!(
    drop_column_referenced,
    Operation::DropColumn {
        table: "tasks".into(),
        column: tasks_column("user_id"),
    }
);
snap!(
    rename_column,
    Operation::RenameColumn {
        table: "tasks".into(),
        from: "title".into(),
        to: "name".into(),
    }
);

snap!(
    alter_column_type,
    Operation::AlterColumn {
        table: "tasks".into(),
        from: tasks_column("priority"),
        to: with_default(
            col("priority", ColumnType::Varchar(50)),
            DefaultValue::Str("medium".into()),
        ),
    }
);
// `title` is in a unique constraint: MySQL cannot key a TEXT column.
snap!(
    alter_column_to_text_in_key,
    Operation::AlterColumn {
        table: "tasks".into(),
        from: tasks_column("title"),
        to: col("title", ColumnType::Text),
    }
);
snap!(
    alter_column_set_not_null_with_default,
    Operation::AlterColumn {
        table: "tasks".into(),
        from: tasks_column("due"),
        to: with_default(
            col("due", ColumnType::Date),
            DefaultValue::Sql("CURRENT_DATE".into()),
        ),
    }
);
snap!(
    alter_column_change_default,
    Operation::AlterColumn {
        table: "tasks".into(),
        from: tasks_column("priority"),
        to: with_default(
            col("priority", ColumnType::Varchar(20)),
            DefaultValue::Str("high".into()),
        ),
    }
);
snap!(
    alter_column_drop_not_null_and_default,
    Operation::AlterColumn {
        table: "tasks".into(),
        from: tasks_column("priority"),
        to: nullable(col("priority", ColumnType::Varchar(20))),
    }
);
snap!(
    alter_column_type_with_default,
    Operation::AlterColumn {
        table: "tasks".into(),
        from: tasks_column("done"),
        to: with_default(col("done", ColumnType::Integer), DefaultValue::Int(0)),
    }
);
snap!(
    alter_column_add_auto_increment,
    Operation::AlterColumn {
        table: odd().name,
        from: col("i\"d", ColumnType::Integer),
        to: auto(col("i\"d", ColumnType::Integer)),
    }
);
snap!(
    alter_column_drop_auto_increment,
    Operation::AlterColumn {
        table: "users".into(),
        from: auto(col("id", ColumnType::BigInt)),
        to: col("id", ColumnType::BigInt),
    }
);

// ---- keys, indexes, constraints ----------------------------------------------

snap!(
    set_primary_key_change,
    Operation::SetPrimaryKey {
        table: "tasks".into(),
        from: vec!["id".into()],
        to: vec!["id".into(), "user_id".into()],
    }
);
snap!(
    set_primary_key_add,
    Operation::SetPrimaryKey {
        table: "t".into(),
        from: vec![],
        to: vec!["k".into()],
    },
    {
        let mut s = Schema::new();
        let mut t = Table::new("t");
        t.columns = vec![
            col("k", ColumnType::Integer),
            nullable(col("v", ColumnType::Text)),
        ];
        s.insert(t);
        s
    }
);
snap!(
    set_primary_key_drop,
    Operation::SetPrimaryKey {
        table: "tasks".into(),
        from: vec!["id".into()],
        to: vec![],
    },
    {
        // An auto-increment column must stay a key on MySQL and be the key on
        // SQLite, so the fixture drops it first.
        let mut s = schema();
        if let Some(c) = s.tables.get_mut("tasks").and_then(|t| t.column_mut("id")) {
            c.auto_increment = false;
        }
        s
    }
);
snap!(
    create_index,
    Operation::CreateIndex {
        table: "tasks".into(),
        index: Index {
            name: "idx_tasks_done_due".into(),
            columns: vec!["done".into(), "due".into()],
        },
    }
);
snap!(
    drop_index,
    Operation::DropIndex {
        table: "tasks".into(),
        index: tasks().indexes[0].clone(),
    }
);
snap!(
    add_unique,
    Operation::AddUnique {
        table: "tasks".into(),
        unique: Unique {
            name: "uq_tasks_title".into(),
            columns: vec!["title".into()],
            nulls_not_distinct: false,
        },
    }
);
snap!(
    drop_unique,
    Operation::DropUnique {
        table: "tasks".into(),
        unique: tasks().uniques[0].clone(),
    }
);
snap!(
    add_foreign_key,
    Operation::AddForeignKey {
        table: "tasks".into(),
        foreign_key: ForeignKey {
            name: "fk_tasks_owner".into(),
            columns: vec!["user_id".into()],
            ref_table: "users".into(),
            ref_columns: vec!["id".into()],
            on_delete: RefAction::SetNull,
            on_update: RefAction::Restrict,
        },
    }
);
snap!(
    drop_foreign_key,
    Operation::DropForeignKey {
        table: "tasks".into(),
        foreign_key: fk_user(),
    }
);
snap!(
    add_check,
    Operation::AddCheck {
        table: "tasks".into(),
        check: Check {
            name: "ck_tasks_2".into(),
            expr: "length(title) > 0".into(),
        },
    }
);
snap!(
    drop_check,
    Operation::DropCheck {
        table: "tasks".into(),
        check: check_priority(),
    }
);

// ---- MySQL refuses TEXT in keys ------------------------------------------------

snap!(
    text_in_index,
    Operation::CreateIndex {
        table: "users".into(),
        index: Index {
            name: "idx_users_name".into(),
            columns: vec!["name".into()],
        },
    }
);
snap!(
    text_in_unique_of_new_table,
    Operation::CreateTable {
        table: {
            let mut t = Table::new("tags");
            t.columns = vec![col("label", ColumnType::Text)];
            t.uniques = vec![Unique {
                name: "uq_tags_label".into(),
                columns: vec!["label".into()],
                nulls_not_distinct: false,
            }];
            t
        },
    },
    Schema::new()
);
snap!(
    auto_increment_with_default_is_refused,
    Operation::AddColumn {
        table: "users".into(),
        column: with_default(auto(col("n", ColumnType::Integer)), DefaultValue::Int(1)),
    }
);

// ---- raw SQL and Rust ------------------------------------------------------

fn raw() -> RawSql {
    RawSql {
        sql: Some("UPDATE tasks SET priority = 'high' WHERE done;\n".into()),
        mysql: Some("UPDATE `tasks` SET priority = 'high' WHERE done".into()),
        reverse: Some(SqlVariants {
            sql: Some("UPDATE tasks SET priority = 'medium'".into()),
            ..SqlVariants::default()
        }),
        // `RawSql::default()` is non-transactional (derived `false`), unlike
        // a step read from a file (`transactional` defaults to true there).
        transactional: true,
        ..RawSql::default()
    }
}

snap!(sql_step, Operation::Sql(raw()));
snap!(sql_step_reverse, Operation::Sql(raw()).inverse());
snap!(
    sql_step_non_transactional,
    Operation::Sql(RawSql {
        postgres: Some("CREATE INDEX CONCURRENTLY IF NOT EXISTS idx_x ON tasks (title)".into()),
        sqlite: Some("".into()),
        transactional: false,
        ..RawSql::default()
    })
);
// No `reverse`: the inverse has no SQL at all, so every dialect refuses it.
snap!(
    sql_step_irreversible,
    Operation::Sql(RawSql {
        sql: Some("DELETE FROM tasks".into()),
        transactional: true,
        ..RawSql::default()
    })
    .inverse()
);
snap!(
    rust_step,
    Operation::Rust {
        name: "split_priority".into(),
        reverse: None,
    }
);

// ---- properties that are not about spelling --------------------------------

/// No statement ends with `;` (Display adds it) and every statement of an
/// operation that changes the schema is guarded or `IF [NOT] EXISTS`, on all
/// three dialects.
#[test]
fn statements_are_unterminated_and_guarded() {
    let s = schema();
    let ops = [
        Operation::CreateTable { table: tasks() },
        Operation::RenameColumn {
            table: "tasks".into(),
            from: "title".into(),
            to: "name".into(),
        },
        Operation::AddColumn {
            table: "tasks".into(),
            column: nullable(col("notes", ColumnType::Text)),
        },
        Operation::AddCheck {
            table: "tasks".into(),
            check: Check {
                name: "ck_tasks_2".into(),
                expr: "1 = 1".into(),
            },
        },
    ];
    for d in Dialect::ALL {
        for op in &ops {
            let before = if matches!(op, Operation::CreateTable { .. }) {
                without("tasks")
            } else {
                s.clone()
            };
            let stmts = render_op(d, op, &before).unwrap_or_else(|e| panic!("{d} {op}: {e}"));
            assert!(!stmts.is_empty(), "{d} {op}");
            for st in stmts {
                assert!(!st.sql.trim_end().ends_with(';'), "{d}: {}", st.sql);
                let guarded = st.skip_if.is_some()
                    || st.sql.contains("IF NOT EXISTS")
                    || st.sql.contains("IF EXISTS")
                    || st.sql.starts_with("ALTER TABLE \"tasks\" VALIDATE")
                    // The rebuild's steps after its `DROP TABLE IF EXISTS` of
                    // the scratch table are idempotent as a sequence.
                    || st.sql.starts_with("CREATE TABLE \"_migrator_new_")
                    || st.sql.starts_with("INSERT INTO \"_migrator_new_")
                    || st.sql.contains("sqlite_sequence")
                    || st.sql.starts_with("ALTER TABLE \"_migrator_new_")
                    // The rebuild's trigger replay and view check run every
                    // time; the replay only finds rows the guarded save left.
                    || st.each_row
                    || st.sql.starts_with("DELETE FROM temp.\"_migrator_saved_triggers\"")
                    || st.sql.starts_with("PRAGMA legacy_alter_table");
                assert!(guarded, "{d}: unguarded {}", st.sql);
            }
        }
    }
}

#[test]
fn missing_table_is_a_replay_error() {
    let op = Operation::AlterColumn {
        table: "nope".into(),
        from: col("a", ColumnType::Integer),
        to: col("a", ColumnType::BigInt),
    };
    let e = render_op(Dialect::Sqlite, &op, &Schema::new());
    assert!(matches!(e, Err(super::RenderError::Replay { .. })), "{e:?}");
}

/// A name a database would cut or refuse is refused when the migration is
/// rendered for it (before anything runs); SQLite keeps any length.
#[test]
fn names_over_the_identifier_limit_are_refused() {
    let name = format!("idx_tasks_{}", "x".repeat(54));
    assert_eq!(name.len(), 64);
    let op = Operation::CreateIndex {
        table: "tasks".into(),
        index: Index {
            name: name.clone(),
            columns: vec!["title".into()],
        },
    };
    let refused = |d: Dialect, op: &Operation| {
        render_op(d, op, &schema())
            .expect_err("over the limit")
            .to_string()
    };
    let msg = refused(Dialect::Postgres, &op);
    assert!(
        msg.contains(&name) && msg.contains("64 bytes") && msg.contains("allows 63"),
        "{msg}"
    );
    // MySQL counts characters and allows 64.
    render_op(Dialect::Mysql, &op, &schema()).expect("64 characters on MySQL");
    render_op(Dialect::Sqlite, &op, &schema()).expect("no limit on SQLite");
    let add_column = |name: String| Operation::AddColumn {
        table: "tasks".into(),
        column: col(&name, ColumnType::Integer),
    };
    // 40 two-byte characters: too long for PostgreSQL, fine for MySQL.
    let accented = add_column("é".repeat(40));
    let msg = refused(Dialect::Postgres, &accented);
    assert!(msg.contains("80 bytes"), "{msg}");
    render_op(Dialect::Mysql, &accented, &schema()).expect("40 characters");
    let msg = refused(Dialect::Mysql, &add_column("é".repeat(65)));
    assert!(
        msg.contains("65 characters") && msg.contains("allows 64"),
        "{msg}"
    );
}

/// `INT UNSIGNED AUTO_INCREMENT` renders on MySQL; SQLite, which generates
/// values only for an `INTEGER PRIMARY KEY`, refuses it naming the column.
#[test]
fn unsigned_auto_increment_keys() {
    let mut t = Table::new("tags");
    let mut id = col("id", ColumnType::Custom("INT UNSIGNED".into()));
    id.auto_increment = true;
    t.columns = vec![id];
    t.primary_key = vec!["id".into()];
    let op = Operation::CreateTable { table: t };
    let sql: Vec<String> = render_op(Dialect::Mysql, &op, &Schema::new())
        .expect("MySQL")
        .iter()
        .map(|s| s.sql.clone())
        .collect();
    assert!(
        sql.iter()
            .any(|s| s.contains("`id` INT UNSIGNED NOT NULL AUTO_INCREMENT")),
        "{sql:?}"
    );
    let msg = render_op(Dialect::Sqlite, &op, &Schema::new())
        .expect_err("SQLite")
        .to_string();
    assert!(
        msg.contains("`id`") && msg.contains("INTEGER PRIMARY KEY"),
        "{msg}"
    );
}

// ------------------------------------ collation, comment, ON UPDATE, ...

/// A table with a collated, commented column and a NULLS NOT DISTINCT key.
fn articles(nulls_not_distinct: bool) -> Table {
    let mut t = Table::new("articles");
    let mut slug = col("slug", ColumnType::Varchar(100));
    slug.collation = Some("C".into());
    slug.comment = Some("it's the \\ key".into());
    t.columns = vec![col("id", ColumnType::BigInt), slug];
    t.primary_key = vec!["id".into()];
    t.uniques = vec![Unique {
        name: "uq_articles_slug".into(),
        columns: vec!["slug".into()],
        nulls_not_distinct,
    }];
    t
}

snap!(
    create_table_with_collation_and_comment,
    Operation::CreateTable {
        table: articles(false)
    },
    Schema::new()
);

snap!(
    create_table_with_nulls_not_distinct,
    Operation::CreateTable {
        table: articles(true)
    },
    Schema::new()
);

snap!(
    create_table_with_identity_options,
    Operation::CreateTable {
        table: {
            let mut t = Table::new("counters");
            let mut id = col("id", ColumnType::BigInt);
            id.auto_increment = true;
            id.identity_start = Some(1000);
            id.identity_increment = Some(10);
            t.columns = vec![id];
            t.primary_key = vec!["id".into()];
            t
        }
    },
    Schema::new()
);

snap!(
    create_table_with_on_update,
    Operation::CreateTable {
        table: {
            let mut t = Table::new("stamps");
            let mut at = col("at", ColumnType::Timestamp);
            at.default = Some(DefaultValue::Sql("CURRENT_TIMESTAMP".into()));
            at.on_update = Some("CURRENT_TIMESTAMP".into());
            t.columns = vec![at];
            t
        }
    },
    Schema::new()
);

snap!(
    alter_column_collation_and_comment,
    {
        let t = articles(false);
        let from = t.column("slug").expect("slug").clone();
        let mut to = from.clone();
        to.collation = None;
        to.comment = Some("changed".into());
        Operation::AlterColumn {
            table: "articles".into(),
            from,
            to,
        }
    },
    {
        let mut s = Schema::new();
        s.insert(articles(false));
        s
    }
);

snap!(
    set_table_comment,
    Operation::SetTableComment {
        table: "users".into(),
        from: None,
        to: Some("who may log in; it's \\ all".into()),
    }
);

snap!(
    drop_table_comment,
    Operation::SetTableComment {
        table: "users".into(),
        from: Some("old".into()),
        to: None,
    }
);

snap!(
    set_primary_key_name,
    Operation::SetPrimaryKeyName {
        table: "users".into(),
        from: None,
        to: Some("pk_users".into()),
    }
);

snap!(
    create_table_with_named_primary_key,
    Operation::CreateTable {
        table: {
            let mut t = users();
            t.primary_key_name = Some("pk_users".into());
            t
        }
    },
    without("users")
);

snap!(
    set_primary_key_keeps_the_name,
    Operation::SetPrimaryKey {
        table: "users".into(),
        from: vec!["id".into()],
        to: vec!["id".into(), "email".into()],
    },
    {
        let mut s = schema();
        s.tables.get_mut("users").expect("users").primary_key_name = Some("pk_users".into());
        s
    }
);

snap!(
    create_table_strict_without_rowid,
    Operation::CreateTable {
        table: {
            let mut t = users();
            t.columns[0].auto_increment = false;
            t.strict = true;
            t.without_rowid = true;
            t
        }
    },
    without("users")
);

#[test]
fn a_strict_table_takes_only_strict_types() {
    let mut t = users();
    t.strict = true;
    t.columns.push(schema::Column::new(
        "amount",
        schema::ColumnType::Custom("NUMERIC(10, 2)".into()),
    ));
    let err = render_op(
        Dialect::Sqlite,
        &Operation::CreateTable { table: t.clone() },
        &without("users"),
    )
    .expect_err("refused");
    assert!(
        err.to_string().contains(
            "table `users`: the type `NUMERIC(10, 2)` cannot be a column type of a STRICT table, which takes only INT, INTEGER, REAL, TEXT, BLOB, ANY"
        ),
        "{err}"
    );
    // The other databases ignore the option.
    render_op(
        Dialect::Postgres,
        &Operation::CreateTable { table: t },
        &without("users"),
    )
    .expect("PostgreSQL ignores STRICT");
    let mut wr = users();
    wr.without_rowid = true;
    let err = render_op(
        Dialect::Sqlite,
        &Operation::CreateTable { table: wr },
        &without("users"),
    )
    .expect_err("refused");
    assert!(
        err.to_string()
            .contains("is `auto_increment`, which a WITHOUT ROWID table cannot have"),
        "{err}"
    );
}
