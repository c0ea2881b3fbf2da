//! Schema fixtures shared by the SQL snapshot tests (`src/dialect/tests.rs`),
//! the SQLite execution tests (`tests/sqlite_render.rs`) and the
//! introspection round trips (`/tests/db/introspect.rs`), each of which
//! includes this file with `#[path]` and brings the crate's `schema` module
//! into scope as `schema` (`crate::schema` inside migrator-core's unit tests,
//! `migrator_core::schema` elsewhere).

#![allow(dead_code)]

use super::schema::{
    Check, Column, ColumnType, DefaultValue, ForeignKey, Index, RefAction, Table, Unique,
};

pub fn col(name: &str, ty: ColumnType) -> Column {
    Column::new(name, ty)
}

pub fn nullable(mut c: Column) -> Column {
    c.nullable = true;
    c
}

pub fn with_default(mut c: Column, d: DefaultValue) -> Column {
    c.default = Some(d);
    c
}

pub fn auto(mut c: Column) -> Column {
    c.auto_increment = true;
    c
}

pub fn users() -> Table {
    let mut t = Table::new("users");
    t.columns = vec![
        auto(col("id", ColumnType::BigInt)),
        col("email", ColumnType::Varchar(200)),
        nullable(col("name", ColumnType::Text)),
    ];
    t.primary_key = vec!["id".into()];
    t.uniques = vec![Unique {
        name: "uq_users_email".into(),
        columns: vec!["email".into()],
        nulls_not_distinct: false,
    }];
    t
}

/// The docs/DESIGN.md §2 example table: every kind of attached object.
pub fn tasks() -> Table {
    let mut t = Table::new("tasks");
    t.columns = vec![
        auto(col("id", ColumnType::BigInt)),
        col("user_id", ColumnType::BigInt),
        col("title", ColumnType::Varchar(200)),
        with_default(
            col("priority", ColumnType::Varchar(20)),
            DefaultValue::Str("medium".into()),
        ),
        with_default(col("done", ColumnType::Boolean), DefaultValue::Bool(false)),
        nullable(col("due", ColumnType::Date)),
        with_default(
            col("created_at", ColumnType::Timestamp),
            DefaultValue::Sql("CURRENT_TIMESTAMP".into()),
        ),
    ];
    t.primary_key = vec!["id".into()];
    t.indexes = vec![Index {
        name: "idx_tasks_user_id".into(),
        columns: vec!["user_id".into()],
    }];
    t.uniques = vec![Unique {
        name: "uq_tasks_user_id_title".into(),
        columns: vec!["user_id".into(), "title".into()],
        nulls_not_distinct: false,
    }];
    t.foreign_keys = vec![fk_user()];
    t.checks = vec![check_priority()];
    t
}

/// A one-column foreign key to `table(id)`.
pub fn fk(name: &str, column: &str, table: &str, on_delete: RefAction) -> ForeignKey {
    ForeignKey {
        name: name.into(),
        columns: vec![column.into()],
        ref_table: table.into(),
        ref_columns: vec!["id".into()],
        on_delete,
        on_update: RefAction::NoAction,
    }
}

pub fn fk_user() -> ForeignKey {
    fk("fk_tasks_user_id", "user_id", "users", RefAction::Cascade)
}

pub fn check_priority() -> Check {
    Check {
        name: "ck_tasks_1".into(),
        expr: "priority IN ('low', 'medium', 'high')".into(),
    }
}
