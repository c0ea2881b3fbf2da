//! `#[derive(Model)]` on real structs: the derive compiles, and
//! `Model::table()` equals what `migrator generate` parses from the same
//! source text, for every attribute and type of the vocabulary.

// The structs exist to be derived from; nothing constructs them.
#![allow(dead_code)]

use std::path::Path;

use migrator::{ColumnType, DefaultValue, Model, RefAction};

/// Stand-ins for chrono, uuid, serde_json and rust_decimal: the derive reads
/// type paths only, so these keep the test free of those crates.
mod chrono {
    #[derive(Debug)]
    pub struct NaiveDate;
    #[derive(Debug)]
    pub struct NaiveTime;
    #[derive(Debug)]
    pub struct NaiveDateTime;
    #[derive(Debug)]
    pub struct Utc;
    #[derive(Debug)]
    pub struct DateTime<Tz>(Tz);
}
mod uuid {
    #[derive(Debug)]
    pub struct Uuid;
}
mod serde_json {
    #[derive(Debug)]
    pub struct Value;
}
mod rust_decimal {
    #[derive(Debug)]
    pub struct Decimal;
}

/// Emits the items and keeps their source text in `SOURCE`, so the test
/// compares the derive with the parser on exactly the same input.
macro_rules! models_with_source {
    ($($item:item)*) => {
        $($item)*
        const SOURCE: &str = stringify!($($item)*);
    };
}

models_with_source! {
    #[derive(Debug, Model)]
    #[model(renamed_from = "accounts")]
    pub struct User {
        #[model(primary_key, auto_increment)]
        pub id: i64,
        #[model(unique, max_length = 100, renamed_from = "mail")]
        pub email: String,
        pub avatar: Option<Vec<u8>>,
    }

    #[derive(Debug, Model)]
    #[model(table = "tasks", index = "user_id, created_at", unique = "user_id, title")]
    #[model(check = "priority IN ('low', 'medium', 'high')", check = "length(title) > 0")]
    pub struct Task {
        #[model(primary_key, auto_increment)]
        pub id: i64,
        #[model(index, foreign_key = "users.id", on_delete = "cascade", on_update = "restrict")]
        pub user_id: i64,
        #[model(max_length = 200)]
        pub title: String,
        #[model(max_length = 20, default = "medium")]
        pub priority: String,
        #[model(default = false)]
        pub done: bool,
        pub due: Option<chrono::NaiveDate>,
        #[model(default_sql = "CURRENT_TIMESTAMP")]
        pub created_at: chrono::NaiveDateTime,
        #[model(sql_type = "NUMERIC(12, 2)")]
        pub budget: Option<rust_decimal::Decimal>,
        #[model(column = "order_no", default = -1)]
        pub position: i32,
        #[model(default = -2.5)]
        pub weight: f64,
        #[model(default = 7)]
        pub score: f32,
        #[model(skip)]
        pub cached: Vec<String>,
    }

    #[derive(Debug, migrator::Model)]
    pub struct TaskItem {
        #[model(primary_key, foreign_key = "tasks.id", on_delete = "set default", default = 0)]
        pub task_id: i64,
        #[model(primary_key)]
        pub n: i16,
        pub at: chrono::DateTime<chrono::Utc>,
        pub remind: Option<chrono::NaiveTime>,
        #[model(unique)]
        pub key: uuid::Uuid,
        #[model(foreign_key = "users.id", on_delete = "set null")]
        pub r#ref: Option<i64>,
        pub meta: serde_json::Value,
        #[model(default = -9223372036854775808)]
        pub lowest: i64,
    }
}

fn parsed(struct_name: &str) -> migrator::core::model::ModelDef {
    let defs = migrator::core::model::parse_source(Path::new("tests/derive.rs"), SOURCE)
        .unwrap_or_else(|errors| {
            let all: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
            panic!("the parser refused the test models:\n{}", all.join("\n"))
        });
    defs.into_iter()
        .find(|d| d.struct_name == struct_name)
        .unwrap_or_else(|| panic!("the parser did not find `{struct_name}`"))
}

#[test]
fn derive_equals_the_parser_for_every_model() {
    assert_eq!(User::table(), parsed("User").table);
    assert_eq!(Task::table(), parsed("Task").table);
    assert_eq!(TaskItem::table(), parsed("TaskItem").table);
}

#[test]
fn the_whole_models_scan_is_consistent() {
    // Foreign keys between the three models resolve, names do not clash.
    let dir = std::env::temp_dir().join(format!("migrator-derive-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch folder");
    std::fs::write(dir.join("models.rs"), SOURCE).expect("write models");
    let scanned = migrator::core::model::scan_dir(&dir);
    let _ = std::fs::remove_dir_all(&dir);
    let models = scanned.unwrap_or_else(|errors| {
        let all: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        panic!("{}", all.join("\n"))
    });
    assert_eq!(models.schema.tables["tasks"], Task::table());
    assert_eq!(models.schema.tables["task_items"], TaskItem::table());
    assert_eq!(models.schema.tables["users"], User::table());
    assert_eq!(models.hints.tables["users"], "accounts");
}

#[test]
fn derived_tables_have_the_expected_content() {
    let task = Task::table();
    assert_eq!(task.name, "tasks");
    let columns: Vec<(&str, String, bool)> = task
        .columns
        .iter()
        .map(|c| (c.name.as_str(), c.ty.to_string(), c.nullable))
        .collect();
    assert_eq!(
        columns,
        [
            ("id", "bigint".to_string(), false),
            ("user_id", "bigint".to_string(), false),
            ("title", "varchar(200)".to_string(), false),
            ("priority", "varchar(20)".to_string(), false),
            ("done", "boolean".to_string(), false),
            ("due", "date".to_string(), true),
            ("created_at", "timestamp".to_string(), false),
            ("budget", "sql:NUMERIC(12, 2)".to_string(), true),
            ("order_no", "integer".to_string(), false),
            ("weight", "double".to_string(), false),
            ("score", "real".to_string(), false),
        ]
    );
    assert!(task.columns[0].auto_increment);
    assert_eq!(
        task.columns[3].default,
        Some(DefaultValue::Str("medium".into()))
    );
    assert_eq!(
        task.columns[6].default,
        Some(DefaultValue::Sql("CURRENT_TIMESTAMP".into()))
    );
    assert_eq!(task.columns[8].default, Some(DefaultValue::Int(-1)));
    assert_eq!(task.columns[9].default, Some(DefaultValue::Float(-2.5)));
    assert_eq!(task.columns[10].default, Some(DefaultValue::Float(7.0)));
    let index_names: Vec<&str> = task.indexes.iter().map(|i| i.name.as_str()).collect();
    assert_eq!(
        index_names,
        ["idx_tasks_user_id", "idx_tasks_user_id_created_at"]
    );
    assert_eq!(task.uniques[0].name, "uq_tasks_user_id_title");
    assert_eq!(task.foreign_keys[0].name, "fk_tasks_user_id");
    assert_eq!(task.foreign_keys[0].on_delete, RefAction::Cascade);
    assert_eq!(task.foreign_keys[0].on_update, RefAction::Restrict);
    // Named by its expression, whatever comes before it.
    assert_eq!(task.checks[1].name, "ck_tasks_77d1aa24");
    assert_eq!(task.checks[1].expr, "length(title) > 0");

    let item = TaskItem::table();
    assert_eq!(item.name, "task_items");
    assert_eq!(item.primary_key, ["task_id", "n"]);
    assert_eq!(item.columns[2].ty, ColumnType::TimestampTz);
    assert_eq!(item.columns[5].name, "ref");
    assert_eq!(item.columns[7].default, Some(DefaultValue::Int(i64::MIN)));
}

#[test]
fn the_prelude_brings_the_trait() {
    fn name_of<M: migrator::prelude::Model>() -> String {
        M::table().name
    }
    assert_eq!(name_of::<User>(), "users");
}
