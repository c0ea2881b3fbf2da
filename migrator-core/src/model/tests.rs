//! Unit tests of the model parser: every attribute, every error, with its
//! message and position. Sources start with a newline, so the struct's
//! `#[derive(Model)]` is on line 2.

use std::path::{Path, PathBuf};

use super::*;
use crate::schema::{
    Check, Column, ColumnType, DefaultValue, ForeignKey, Index, RefAction, Table, Unique,
};

const FILE: &str = "src/models.rs";

/// The models of `src`, or a panic showing every error.
fn models(src: &str) -> Vec<ModelDef> {
    parse_source(Path::new(FILE), src).unwrap_or_else(|errors| {
        let all: Vec<String> = errors.iter().map(|e| e.to_string()).collect();
        panic!("unexpected errors:\n{}", all.join("\n"))
    })
}

/// The table of the only model in `src`.
fn table(src: &str) -> Table {
    let mut all = models(src);
    assert_eq!(all.len(), 1, "expected one model");
    all.remove(0).table
}

/// Every error of `src` as `(line, column, message, help)`.
fn errors(src: &str) -> Vec<(usize, usize, String, String)> {
    let errors = match parse_source(Path::new(FILE), src) {
        Ok(models) => panic!("expected errors, got {models:#?}"),
        Err(errors) => errors,
    };
    errors
        .into_iter()
        .map(|e| {
            assert_eq!(e.file, PathBuf::from(FILE));
            let (msg, help) = e
                .message
                .split_once("\nhelp: ")
                .map(|(m, h)| (m.to_string(), h.to_string()))
                .unwrap_or_else(|| (e.message.clone(), String::new()));
            (e.line, e.column, msg, help)
        })
        .collect()
}

/// The single error of `src`, asserting its position and message; returns
/// the help line for further checks.
#[track_caller]
fn error(src: &str, line: usize, column: usize, message: &str) -> String {
    let all = errors(src);
    assert_eq!(all.len(), 1, "expected one error, got {all:#?}");
    let (l, c, m, help) = all.into_iter().next().expect("one error");
    assert_eq!(m, message);
    assert_eq!((l, c), (line, column), "position of `{m}`");
    assert!(!help.is_empty(), "`{m}` has no help line");
    help
}

/// A model with one `id` column and the given extra field lines.
fn with_field(field: &str) -> String {
    format!("\n#[derive(Model)]\nstruct T {{\n    id: i64,\n{field}\n}}\n")
}

fn col(name: &str, ty: ColumnType) -> Column {
    Column::new(name, ty)
}

// ---------------------------------------------------------------- success

#[test]
fn design_example_is_read_exactly() {
    let src = r#"
use migrator::Model;

#[derive(Model)]
#[model(table = "tasks")]
pub struct Task {
    #[model(primary_key, auto_increment)]
    pub id: i64,
    #[model(index, foreign_key = "users.id", on_delete = "cascade")]
    pub user_id: i64,
    #[model(max_length = 200)]
    pub title: String,
    #[model(max_length = 20, default = "medium")]
    pub priority: String,
    pub done: bool,
    pub due: Option<chrono::NaiveDate>,
    #[model(default_sql = "CURRENT_TIMESTAMP")]
    pub created_at: chrono::NaiveDateTime,
}
"#;
    let defs = models(src);
    assert_eq!(defs.len(), 1);
    let def = &defs[0];
    assert_eq!(def.struct_name, "Task");
    assert_eq!(def.file.as_deref(), Some(Path::new(FILE)));
    assert_eq!(def.line, 6);
    assert_eq!(def.renamed_from, None);
    assert!(def.column_renames.is_empty());

    let mut expected = Table::new("tasks");
    expected.columns = vec![
        Column {
            auto_increment: true,
            ..col("id", ColumnType::BigInt)
        },
        col("user_id", ColumnType::BigInt),
        col("title", ColumnType::Varchar(200)),
        Column {
            default: Some(DefaultValue::Str("medium".into())),
            ..col("priority", ColumnType::Varchar(20))
        },
        col("done", ColumnType::Boolean),
        Column {
            nullable: true,
            ..col("due", ColumnType::Date)
        },
        Column {
            default: Some(DefaultValue::Sql("CURRENT_TIMESTAMP".into())),
            ..col("created_at", ColumnType::Timestamp)
        },
    ];
    expected.primary_key = vec!["id".into()];
    expected.indexes = vec![Index {
        name: "idx_tasks_user_id".into(),
        columns: vec!["user_id".into()],
    }];
    expected.foreign_keys = vec![ForeignKey {
        name: "fk_tasks_user_id".into(),
        columns: vec!["user_id".into()],
        ref_table: "users".into(),
        ref_columns: vec!["id".into()],
        on_delete: RefAction::Cascade,
        on_update: RefAction::NoAction,
    }];
    assert_eq!(def.table, expected);
}

#[test]
fn default_table_name_follows_diesel() {
    let names: Vec<String> = models(
        r#"
#[derive(Model)] struct Task { id: i64 }
#[derive(Model)] struct TaskItem { id: i64 }
#[derive(Model)] struct HTTPLog { id: i64 }
#[derive(Model)] struct r#Box { id: i64 }
#[derive(Model)] #[model(table = "people")] struct Person { id: i64 }
"#,
    )
    .into_iter()
    .map(|d| d.table.name)
    .collect();
    assert_eq!(
        names,
        ["tasks", "task_items", "h_t_t_p_logs", "boxs", "people"]
    );
}

#[test]
fn every_supported_type_maps_to_its_column_type() {
    let t = table(
        r#"
#[derive(Model)]
struct AllTypes {
    a: i16,
    b: i32,
    c: i64,
    d: f32,
    e: f64,
    f: bool,
    g: String,
    h: Vec<u8>,
    i: chrono::NaiveDate,
    j: NaiveTime,
    k: ::chrono::NaiveDateTime,
    l: chrono::DateTime<chrono::Utc>,
    m: DateTime<FixedOffset>,
    n: uuid::Uuid,
    o: serde_json::Value,
    p: Value,
    q: Option<i32>,
    r: std::option::Option<String>,
    s: Option<Vec<u8>>,
    r#type: std::string::String,
}
"#,
    );
    let got: Vec<(&str, String, bool)> = t
        .columns
        .iter()
        .map(|c| (c.name.as_str(), c.ty.to_string(), c.nullable))
        .collect();
    let want = [
        ("a", "smallint", false),
        ("b", "integer", false),
        ("c", "bigint", false),
        ("d", "real", false),
        ("e", "double", false),
        ("f", "boolean", false),
        ("g", "text", false),
        ("h", "blob", false),
        ("i", "date", false),
        ("j", "time", false),
        ("k", "timestamp", false),
        ("l", "timestamptz", false),
        ("m", "timestamptz", false),
        ("n", "uuid", false),
        ("o", "json", false),
        ("p", "json", false),
        ("q", "integer", true),
        ("r", "text", true),
        ("s", "blob", true),
        ("type", "text", false),
    ];
    let want: Vec<(&str, String, bool)> = want
        .iter()
        .map(|(n, t, null)| (*n, t.to_string(), *null))
        .collect();
    assert_eq!(got, want);
}

#[test]
fn max_length_and_sql_type() {
    let t = table(&with_field(
        r#"    #[model(max_length = 80)]
    name: Option<String>,
    #[model(sql_type = "NUMERIC(12, 2)")]
    price: rust_decimal::Decimal,
    #[model(sql_type = " CITEXT ")]
    email: Option<String>,"#,
    ));
    assert_eq!(t.columns[1].ty, ColumnType::Varchar(80));
    assert!(t.columns[1].nullable);
    assert_eq!(t.columns[2].ty, ColumnType::Custom("NUMERIC(12, 2)".into()));
    assert!(!t.columns[2].nullable);
    // `sql_type` overrides even a supported type, trimmed.
    assert_eq!(t.columns[3].ty, ColumnType::Custom("CITEXT".into()));
    assert!(t.columns[3].nullable);
}

#[test]
fn defaults_of_every_literal_kind() {
    let t = table(&with_field(
        r#"    #[model(default = "it's")] s: String,
    #[model(default = 42)] i: i32,
    #[model(default = -7)] neg: i16,
    #[model(default = -9223372036854775808)] min: i64,
    #[model(default = 1.5)] f: f64,
    #[model(default = -0.25)] nf: f32,
    #[model(default = 3)] int_for_float: f64,
    #[model(default = true)] b: bool,
    #[model(default = "2024-01-01")] d: chrono::NaiveDate,
    #[model(default = 5, sql_type = "NUMERIC(4)")] custom: i64,
    #[model(default_sql = " now() ")] at: chrono::NaiveDateTime,"#,
    ));
    let defaults: Vec<Option<DefaultValue>> = t
        .columns
        .iter()
        .skip(1)
        .map(|c| c.default.clone())
        .collect();
    assert_eq!(
        defaults,
        [
            Some(DefaultValue::Str("it's".into())),
            Some(DefaultValue::Int(42)),
            Some(DefaultValue::Int(-7)),
            Some(DefaultValue::Int(i64::MIN)),
            Some(DefaultValue::Float(1.5)),
            Some(DefaultValue::Float(-0.25)),
            Some(DefaultValue::Float(3.0)),
            Some(DefaultValue::Bool(true)),
            Some(DefaultValue::Str("2024-01-01".into())),
            Some(DefaultValue::Int(5)),
            Some(DefaultValue::Sql("now()".into())),
        ]
    );
}

#[test]
fn column_and_renames() {
    let defs = models(
        r#"
#[derive(Model)]
#[model(renamed_from = "todo_items")]
struct TaskItem {
    id: i64,
    #[model(column = "label", renamed_from = "title")]
    name: String,
    #[model(renamed_from = "finished")]
    done: bool,
}
"#,
    );
    let def = &defs[0];
    assert_eq!(def.table.name, "task_items");
    assert_eq!(def.renamed_from.as_deref(), Some("todo_items"));
    let names: Vec<&str> = def.table.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["id", "label", "done"]);
    assert_eq!(
        def.column_renames,
        [
            ("label".to_string(), "title".to_string()),
            ("done".to_string(), "finished".to_string())
        ]
    );
}

#[test]
fn indexes_uniques_and_checks_get_default_names() {
    let t = table(
        r#"
#[derive(Model)]
#[model(table = "tasks", index = "user_id, created_at", unique = "user_id, title")]
#[model(check = "priority IN ('low', 'medium', 'high')", check = "length(title) > 0")]
#[model(index = "owner")]
struct Task {
    #[model(primary_key)]
    id: i64,
    #[model(index)]
    user_id: i64,
    #[model(unique)]
    slug: String,
    title: String,
    priority: String,
    #[model(column = "owner_id")]
    owner: i64,
    created_at: chrono::NaiveDateTime,
}
"#,
    );
    // Sorted by name (normalized), whatever the declaration order.
    assert_eq!(
        t.indexes,
        [
            Index {
                name: "idx_tasks_owner_id".into(),
                // The field name `owner` was mapped to its column.
                columns: vec!["owner_id".into()],
            },
            Index {
                name: "idx_tasks_user_id".into(),
                columns: vec!["user_id".into()],
            },
            Index {
                name: "idx_tasks_user_id_created_at".into(),
                columns: vec!["user_id".into(), "created_at".into()],
            },
        ]
    );
    assert_eq!(
        t.uniques,
        [
            Unique {
                name: "uq_tasks_slug".into(),
                columns: vec!["slug".into()],
                nulls_not_distinct: false,
            },
            Unique {
                name: "uq_tasks_user_id_title".into(),
                columns: vec!["user_id".into(), "title".into()],
                nulls_not_distinct: false,
            },
        ]
    );
    assert_eq!(
        t.checks,
        [
            // Named by their expression (8 hex digits of its SHA-256).
            Check {
                name: "ck_tasks_21aba6e4".into(),
                expr: "priority IN ('low', 'medium', 'high')".into(),
            },
            Check {
                name: "ck_tasks_77d1aa24".into(),
                expr: "length(title) > 0".into(),
            },
        ]
    );
}

/// Adding a check in front of another renames nothing; a snapshot written
/// when unnamed checks were numbered keeps its names for the same
/// expressions (no drop and add), and a new check gets its expression's.
#[test]
fn check_names_are_stable_and_old_positional_names_are_kept() {
    use crate::schema::{naming, Table};
    let one = naming::check("tasks", "length(title) > 0");
    assert_eq!(one, "ck_tasks_77d1aa24");
    assert_eq!(
        naming::check("tasks", "length(title)  >\n 0"),
        one,
        "whitespace"
    );
    assert_ne!(naming::check("tasks", "length(title) > 1"), one);
    let check = |name: &str, expr: &str| Check {
        name: name.into(),
        expr: expr.into(),
    };
    let mut snap = Table::new("tasks");
    snap.checks = vec![check("ck_tasks_1", "length(title) > 0")];
    let mut model = snap.clone();
    model.checks = vec![
        check(&naming::check("tasks", "priority <> ''"), "priority <> ''"),
        check(&one, "length(title) > 0"),
    ];
    naming::adopt_check_names(&mut model, &snap);
    let names: Vec<&str> = model.checks.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        names,
        ["ck_tasks_1", &naming::check("tasks", "priority <> ''")]
    );
    // A named check is the author's: never renamed.
    let mut named = snap.clone();
    named.checks = vec![check("ck_title", "length(title) > 0")];
    naming::adopt_check_names(&mut named, &snap);
    assert_eq!(named.checks[0].name, "ck_title");
}

#[test]
fn struct_lists_prefer_column_names_over_field_names() {
    // `a` is both a field (whose column is `b`) and a column (of field `c`);
    // the column wins.
    let t = table(
        r#"
#[derive(Model)]
#[model(index = "a")]
struct T {
    #[model(column = "b")]
    a: i64,
    #[model(column = "a")]
    c: i64,
}
"#,
    );
    assert_eq!(t.indexes[0].columns, ["a"]);
}

#[test]
fn composite_primary_key_in_field_order() {
    let t = table(
        r#"
#[derive(Model)]
struct Membership {
    #[model(primary_key, foreign_key = "users.id", on_delete = "CASCADE", on_update = "no_action")]
    user_id: i64,
    note: Option<String>,
    #[model(primary_key, foreign_key = "groups.id", on_delete = "restrict", on_update = "cascade")]
    group_id: i64,
}
"#,
    );
    assert_eq!(t.primary_key, ["user_id", "group_id"]);
    assert_eq!(t.foreign_keys.len(), 2);
    assert_eq!(t.foreign_keys[0].name, "fk_memberships_group_id");
    assert_eq!(t.foreign_keys[0].on_delete, RefAction::Restrict);
    assert_eq!(t.foreign_keys[0].on_update, RefAction::Cascade);
    assert_eq!(t.foreign_keys[1].name, "fk_memberships_user_id");
    assert_eq!(t.foreign_keys[1].on_delete, RefAction::Cascade);
    assert_eq!(t.foreign_keys[1].on_update, RefAction::NoAction);
}

#[test]
fn nullable_primary_key_is_refused() {
    let help = error(
        &with_field("    #[model(primary_key)]\n    code: Option<String>,"),
        6,
        11,
        "primary key `code` cannot be `Option`: primary key columns are NOT NULL",
    );
    assert_eq!(help, "use `String` instead, or remove `primary_key`");
}

#[test]
fn skipped_fields_are_not_columns_and_may_have_any_type() {
    let t = table(&with_field(
        "    #[model(skip)]\n    cache: std::collections::HashMap<u32, Vec<u8>>,\n    name: String,",
    ));
    let names: Vec<&str> = t.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["id", "name"]);
}

#[test]
fn attributes_may_be_spread_over_several_model_attributes() {
    let t = table(
        r#"
#[derive(Model)]
#[model(table = "a")]
#[serde(rename_all = "camelCase")]
#[model(index = "x")]
struct A {
    #[model(primary_key)]
    #[doc = "the key"]
    #[model(auto_increment)]
    id: i32,
    x: i32,
}
"#,
    );
    assert_eq!(t.name, "a");
    assert_eq!(t.primary_key, ["id"]);
    assert!(t.columns[0].auto_increment);
    assert_eq!(t.indexes[0].name, "idx_a_x");
}

#[test]
fn parse_source_finds_every_model_derive() {
    let defs = models(
        r#"
#[derive(Debug, Clone)]
struct NotAModel { x: Vec<Box<dyn Fn()>> }

#[derive(Debug, migrator::Model)]
struct A { id: i64 }

mod inner {
    use migrator::Model as _;
    pub mod deeper {
        #[derive(::migrator::Model, PartialEq)]
        pub struct B { id: i64 }
    }
    mod external;
}

#[cfg(test)]
mod tests {
    #[derive(Model)]
    struct OnlyForTests { id: i64 }
}

#[cfg(test)]
#[derive(Model)]
struct AlsoOnlyForTests { id: i64 }

fn f() {
    // Items inside functions are not scanned.
    #[derive(Model)]
    struct Local { id: i64 }
}
"#,
    );
    let found: Vec<(&str, usize)> = defs
        .iter()
        .map(|d| (d.struct_name.as_str(), d.line))
        .collect();
    assert_eq!(found, [("A", 6), ("B", 12)]);
}

#[test]
fn parse_derive_input_works_on_syn_input() {
    let input: syn::DeriveInput = syn::parse_quote! {
        #[model(table = "users")]
        struct User {
            #[model(primary_key, auto_increment)]
            id: i64,
            #[model(unique, max_length = 100)]
            email: String,
        }
    };
    let def = parse_derive_input(&input).expect("valid model");
    assert_eq!(def.table.name, "users");
    assert_eq!(def.table.uniques[0].name, "uq_users_email");
    assert_eq!(def.file, None);

    let bad: syn::DeriveInput = syn::parse_quote! {
        struct User {
            #[model(primary_key, nope)]
            id: u64,
        }
    };
    let err = parse_derive_input(&bad).expect_err("two errors");
    let messages: Vec<String> = err.into_iter().map(|e| e.to_string()).collect();
    assert_eq!(messages.len(), 2, "{messages:#?}");
    assert!(messages[0].starts_with("unknown field attribute `nope`\nhelp: "));
    assert!(messages[1].starts_with("`u64` has no portable SQL column type\nhelp: "));
}

// ---------------------------------------------------------------- expansion

#[test]
fn expansion_is_a_hygienic_impl_of_the_facade_trait() {
    let input: syn::DeriveInput = syn::parse_quote! {
        struct Task {
            #[model(primary_key, default = -5)]
            id: i64,
            #[model(default = -1.5)]
            f: f64,
            #[model(sql_type = "NUMERIC(12, 2)", foreign_key = "a.b", on_delete = "cascade")]
            n: Option<Decimal>,
        }
    };
    let out = expand_derive(&input);
    let file: syn::File = syn::parse2(out.clone()).expect("the expansion is valid Rust");
    assert_eq!(file.items.len(), 1);
    let text = out.to_string();
    assert!(text.starts_with("# [doc (hidden)]"), "{text}");
    assert!(text.contains("const _ : () ="), "{text}");
    assert!(text.contains("# [automatically_derived]"), "{text}");
    assert!(
        text.contains("impl :: migrator :: Model for Task"),
        "{text}"
    );
    assert!(
        text.contains("fn table () -> :: migrator :: __private :: Table"),
        "{text}"
    );
    assert!(text.contains("Int (- 5)"), "{text}");
    assert!(text.contains("Float (- 1.5)"), "{text}");
    assert!(
        text.contains(
            "ColumnType :: Custom (:: migrator :: __private :: string (\"NUMERIC(12, 2)\"))"
        ),
        "{text}"
    );
    assert!(text.contains("RefAction :: Cascade"), "{text}");
    assert!(!text.contains("compile_error"), "{text}");
}

#[test]
fn expansion_of_a_bad_model_is_the_errors_plus_a_fallback_impl() {
    let input: syn::DeriveInput = syn::parse_quote! {
        struct Wrapper<T> {
            #[model(prmary_key)]
            inner: T,
        }
    };
    let text = expand_derive(&input).to_string();
    // Generics, the unknown key and the type of `inner`.
    assert_eq!(text.matches("compile_error").count(), 3, "{text}");
    assert!(
        text.contains("impl < T > :: migrator :: Model for Wrapper < T >"),
        "{text}"
    );
    assert!(text.contains("unimplemented"), "{text}");
}

/// The expansion, formatted as Rust, for snapshots a reviewer can read.
fn pretty(tokens: proc_macro2::TokenStream) -> String {
    let file: syn::File = syn::parse2(tokens).expect("the expansion is valid Rust");
    prettyplease::unparse(&file)
}

/// A snapshot holding `tables`, as the derive would read it from
/// `/app/migrations/schema.toml` with a `/app/migrator.toml` beside.
fn reference(tables: &[Table]) -> Result<drift::Reference, String> {
    let mut schema = crate::schema::Schema::new();
    for t in tables {
        schema.insert(t.clone());
    }
    Ok(drift::Reference {
        tracked: vec![
            PathBuf::from("/app/migrator.toml"),
            PathBuf::from("/app/migrations/schema.toml"),
        ],
        snapshot: Some(drift::SnapshotRef {
            shown: "migrations/schema.toml".into(),
            schema: std::sync::Arc::new(schema),
        }),
        model_roots: vec![PathBuf::from("/app/src")],
        dialects: Vec::new(),
    })
}

/// The model of docs/DESIGN.md §2, with a few more keys.
fn design_task() -> syn::DeriveInput {
    syn::parse_quote! {
        #[model(table = "tasks", unique = "user_id, title")]
        #[model(check = "priority IN ('low', 'medium', 'high')")]
        pub struct Task {
            #[model(primary_key, auto_increment)]
            pub id: i64,
            #[model(index, foreign_key = "users.id", on_delete = "cascade")]
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
            #[model(sql_type = "NUMERIC(12, 2)", column = "budget_eur", default = -1.5)]
            pub budget: Option<Decimal>,
            #[model(skip)]
            pub cache: Vec<String>,
        }
    }
}

#[test]
fn expansion_snapshot_matching_the_snapshot() {
    let input = design_task();
    let table = parse_derive_input(&input).expect("valid").table;
    let out = expand_derive_against(&input, &reference(&[table]));
    insta::assert_snapshot!(pretty(out));
}

#[test]
fn expansion_snapshot_with_drift() {
    let input = design_task();
    let mut table = parse_derive_input(&input).expect("valid").table;
    table.columns.retain(|c| c.name != "priority");
    table.checks.clear();
    let out = expand_derive_against(&input, &reference(&[table]));
    insta::assert_snapshot!(pretty(out));
}

#[test]
fn expansion_snapshot_of_a_bad_model() {
    let input: syn::DeriveInput = syn::parse_quote! {
        pub struct Task {
            #[model(primary_key, auto_incremnt)]
            pub id: i64,
            pub amount: u64,
        }
    };
    // The snapshot is not consulted for a model that does not parse, and
    // nothing is tracked: the build fails anyway.
    let out = expand_derive_against(&input, &reference(&[]));
    insta::assert_snapshot!(pretty(out));
}

// ---------------------------------------------------------------- errors: keys

#[test]
fn unknown_field_key_guesses_and_lists_valid_keys() {
    let help = error(
        &with_field("    #[model(primay_key)]\n    x: i64,"),
        5,
        13,
        "unknown field attribute `primay_key`",
    );
    assert_eq!(
        help,
        "did you mean `primary_key`? valid field keys are `primary_key`, `auto_increment`, \
         `index`, `unique`, `foreign_key`, `on_delete`, `on_update`, `max_length`, `default`, \
         `default_sql`, `sql_type`, `diesel_type`, `collation`, `comment`, `on_update_sql`, `identity_start`, `identity_increment`, `identity_always`, `column`, `renamed_from`, `skip`"
    );
}

#[test]
fn unknown_struct_key() {
    let help = error(
        "\n#[derive(Model)]\n#[model(tabel = \"x\")]\nstruct T { id: i64 }\n",
        3,
        9,
        "unknown struct attribute `tabel`",
    );
    assert_eq!(
        help,
        "did you mean `table`? valid struct keys are `table`, `comment`, `collation`, `primary_key_name`, `strict`, `without_rowid`, `renamed_from`, `index`, `unique`, `check`, `foreign_key`, `keep`"
    );
    // No guess when nothing is close.
    let help = error(
        "\n#[derive(Model)]\n#[model(serde::rename = \"x\")]\nstruct T { id: i64 }\n",
        3,
        9,
        "unknown struct attribute `serde::rename`",
    );
    assert!(help.starts_with("valid struct keys are"), "{help}");
}

#[test]
fn key_at_the_wrong_level_says_where_it_belongs() {
    let help = error(
        "\n#[derive(Model)]\n#[model(primary_key)]\nstruct T { id: i64 }\n",
        3,
        9,
        "`primary_key` is a field attribute, not a struct attribute",
    );
    assert!(
        help.starts_with("move it to the field; valid struct keys are"),
        "{help}"
    );
    let help = error(
        &with_field("    #[model(check = \"x > 0\")]\n    x: i64,"),
        5,
        13,
        "`check` is a struct attribute, not a field attribute",
    );
    assert!(
        help.starts_with("move it to the struct; valid field keys are"),
        "{help}"
    );
}

#[test]
fn duplicate_keys() {
    let help = error(
        &with_field("    #[model(max_length = 10)]\n    #[model(max_length = 20)]\n    x: String,"),
        6,
        13,
        "duplicate `max_length` attribute",
    );
    assert_eq!(help, "remove one of them");
    let help = error(
        "\n#[derive(Model)]\n#[model(table = \"a\", table = \"b\")]\nstruct T { id: i64 }\n",
        3,
        22,
        "duplicate `table` attribute",
    );
    assert_eq!(
        help,
        "remove one of them; on a struct only `index`, `unique` and `check` may repeat"
    );
    error(
        &with_field("    #[model(index, index)]\n    x: i64,"),
        5,
        20,
        "duplicate `index` attribute",
    );
}

#[test]
fn values_of_the_wrong_kind() {
    let cases: &[(&str, usize, &str, &str)] = &[
        (
            "#[model(max_length = \"200\")] x: String,",
            26,
            "`max_length` expects a positive integer literal (at most 4294967295)",
            "write `max_length = 200`",
        ),
        (
            "#[model(max_length = 0)] x: String,",
            26,
            "`max_length` expects a positive integer literal (at most 4294967295)",
            "write `max_length = 200`",
        ),
        (
            "#[model(column = 5)] x: String,",
            22,
            "`column` expects a string literal",
            "write `column = \"db_name\"`",
        ),
        (
            "#[model(primary_key = true)] x: i64,",
            27,
            "`primary_key` takes no value",
            "write `#[model(primary_key)]`",
        ),
        (
            "#[model(skip(x))] x: i64,",
            13,
            "`skip` takes no arguments",
            "write `#[model(skip)]`",
        ),
        (
            "#[model(foreign_key)] x: i64,",
            13,
            "`foreign_key` needs a value",
            "write `foreign_key = \"users.id\"`",
        ),
        (
            "#[model(sql_type(\"INT\"))] x: i64,",
            13,
            "`sql_type` takes `= value`, not parentheses",
            "write `sql_type = \"NUMERIC(12, 2)\"`",
        ),
        (
            "#[model(default_sql = \"  \")] x: i64,",
            27,
            "`default_sql` cannot be empty",
            "write `default_sql = \"CURRENT_TIMESTAMP\"`",
        ),
        (
            "#[model(default = Priority::Medium)] x: String,",
            23,
            "`default` expects a string, integer, float or bool literal",
            "write a Rust literal, e.g. `default = \"medium\"`, `default = 0`, `default = -1.5` \
             or `default = false`; for an SQL expression write `default_sql = \"CURRENT_TIMESTAMP\"`",
        ),
        (
            "#[model(default = 'x')] x: String,",
            23,
            "`default` expects a string, integer, float or bool literal",
            "write a Rust literal, e.g. `default = \"medium\"`, `default = 0`, `default = -1.5` \
             or `default = false`; for an SQL expression write `default_sql = \"CURRENT_TIMESTAMP\"`",
        ),
    ];
    for (field, column, message, help) in cases {
        let got = error(&with_field(&format!("    {field}")), 5, *column, message);
        assert_eq!(&got, help, "{field}");
    }
}

#[test]
fn malformed_model_attributes() {
    error(
        &with_field("    #[model]\n    x: i64,"),
        5,
        5,
        "expected `#[model(...)]`",
    );
    error(
        "\n#[derive(Model)]\n#[model = \"tasks\"]\nstruct T { id: i64 }\n",
        3,
        1,
        "expected `#[model(...)]`",
    );
    // A syntax error inside the parentheses is syn's own, and precise.
    let all = errors(&with_field("    #[model(column = )]\n    x: i64,"));
    assert_eq!(all.len(), 1, "{all:#?}");
    assert_eq!((all[0].0, all[0].1), (5, 22));
}

#[test]
fn invalid_names() {
    let help = error(
        "\n#[derive(Model)]\n#[model(table = \"my tasks\")]\nstruct T { id: i64 }\n",
        3,
        17,
        "invalid name `my tasks` in `table`: it contains ' '",
    );
    assert_eq!(help, "write `table = \"tasks\"`");
    let long = "x".repeat(65);
    error(
        &with_field(&format!("    #[model(column = \"{long}\")]\n    x: i64,")),
        5,
        22,
        &format!(
            "invalid name `{long}` in `column`: it is longer than 64 bytes, more than any supported database keeps (MySQL 64, PostgreSQL 63)"
        ),
    );
}

/// A 64-byte name (MySQL's limit) parses; the derive refuses it, at the
/// field, where PostgreSQL is targeted (declared, or nothing declared), and
/// accepts it for a MySQL-only project.
#[test]
fn a_64_byte_name_is_refused_only_where_postgres_is_targeted() {
    let long = "c".repeat(64);
    let src = format!(
        "#[model(table = \"{}\")]\npub struct T {{ #[model(primary_key)] id: i64, #[model(column = \"{long}\")] x: i64 }}",
        "t".repeat(64)
    );
    let input: syn::DeriveInput = syn::parse_str(&src).expect("rust");
    let def = parse_derive_input(&input).expect("64 bytes parse");
    let table = def.table.clone();
    let all = expand_derive_against(&input, &reference(std::slice::from_ref(&table))).to_string();
    assert!(
        all.contains(&format!(
            "the column name `{long}` is 64 bytes: PostgreSQL keeps 63"
        )),
        "{all}"
    );
    assert!(all.contains("the table name `tttt"), "{all}");
    let mut postgres = reference(std::slice::from_ref(&table)).expect("reference");
    postgres.dialects = vec![
        crate::dialect::Dialect::Sqlite,
        crate::dialect::Dialect::Postgres,
    ];
    let out = expand_derive_against(&input, &Ok(postgres)).to_string();
    assert!(out.contains("PostgreSQL keeps 63"), "{out}");
    let mut mysql = reference(&[table]).expect("reference");
    mysql.dialects = vec![
        crate::dialect::Dialect::Mysql,
        crate::dialect::Dialect::Sqlite,
    ];
    let out = expand_derive_against(&input, &Ok(mysql)).to_string();
    assert!(!out.contains("compile_error"), "{out}");
}

// ---------------------------------------------------------------- errors: types

#[test]
fn unsupported_types_need_sql_type() {
    let help = error(
        &with_field("    at: std::time::SystemTime,"),
        5,
        9,
        "unsupported column type `std::time::SystemTime`",
    );
    assert!(
        help.starts_with(
            "set the SQL type it is stored as with `#[model(sql_type = \"...\")]`, e.g. \
             `sql_type = \"VARCHAR(10)\"` for an enum kept as text or `sql_type = \"BIGINT\"` for a newtype over `i64`"
        ),
        "{help}"
    );
    assert!(help.contains("supported types are `i16`"), "{help}");
    // A decimal: the help gives the precision.
    for (ty, column) in [("rust_decimal::Decimal", 12), ("Option<BigDecimal>", 19)] {
        let help = error(
            &with_field(&format!("    price: {ty},")),
            5,
            column,
            &format!(
                "a decimal column needs its precision: `{}` has no SQL type without one",
                ty.trim_start_matches("Option<").trim_end_matches('>')
            ),
        );
        assert!(
            help.starts_with(
                "give the digits it keeps with `#[model(sql_type = \"NUMERIC(12, 2)\")]`"
            ),
            "{help}"
        );
    }

    // A list: the help names PostgreSQL's arrays. The error is on the type
    // inside `Option`.
    let help = error(
        &with_field("    tags: Option<Vec<String>>,"),
        5,
        18,
        "unsupported column type `Vec<String>`",
    );
    assert!(
        help.starts_with(
            "a list is a PostgreSQL array: set its SQL type with `#[model(sql_type = \"TEXT[]\")]`"
        ),
        "{help}"
    );
    // With its SQL type each is a column of that type.
    for (field, sql) in [
        ("price: bigdecimal::BigDecimal", "NUMERIC(12, 2)"),
        ("tags: Vec<Option<String>>", "TEXT[]"),
    ] {
        let src = with_field(&format!("    #[model(sql_type = \"{sql}\")]\n    {field},"));
        let models = parse_source(Path::new(FILE), &src).expect("a column");
        assert_eq!(
            models[0].table.columns[1].ty,
            ColumnType::Custom(sql.into()),
            "{field}"
        );
    }
    let help = error(
        &with_field("    n: u32,"),
        5,
        8,
        "`u32` has no portable SQL column type",
    );
    assert!(
        help.starts_with("use `i16`, `i32` or `i64`, or set the SQL type"),
        "{help}"
    );
    error(
        &with_field("    n: Option<Option<i32>>,"),
        5,
        15,
        "nested `Option` is not supported: `Option<Option<i32>>`",
    );
    // `Value` of another crate is not JSON.
    error(
        &with_field("    v: toml::Value,"),
        5,
        8,
        "unsupported column type `toml::Value`",
    );
    error(
        &with_field("    v: DateTime<Tz>,"),
        5,
        8,
        "unsupported column type `DateTime<Tz>`",
    );
}

#[test]
fn max_length_on_a_non_string() {
    let help = error(
        &with_field("    #[model(max_length = 10)]\n    n: Option<i32>,"),
        5,
        13,
        "`max_length` applies to `String` fields only, but `n` is `Option<i32>`",
    );
    assert_eq!(help, "remove `max_length`, or make the field a `String`");
    let help = error(
        &with_field("    #[model(max_length = 10, sql_type = \"CHAR(10)\")]\n    n: String,"),
        5,
        13,
        "`max_length` cannot be combined with `sql_type`",
    );
    assert_eq!(
        help,
        "put the length into the SQL type, e.g. `sql_type = \"VARCHAR(10)\"`"
    );
}

#[test]
fn defaults_that_do_not_fit_the_type() {
    let cases: &[(&str, usize, &str, &str)] = &[
        (
            "#[model(default = \"1\")] n: i64,",
            23,
            "`default` is a string literal but `n` is a `i64` column (bigint)",
            "write an integer literal, e.g. `default = 0`, or `default_sql = \"...\"` for an SQL expression",
        ),
        (
            "#[model(default = 1.5)] n: Option<i32>,",
            23,
            "`default` is a float literal but `n` is a `i32` column (integer)",
            "write an integer literal, e.g. `default = 0`, or `default_sql = \"...\"` for an SQL expression",
        ),
        (
            "#[model(default = 1)] n: bool,",
            23,
            "`default` is an integer literal but `n` is a `bool` column (boolean)",
            "write `default = true` or `default = false`, or `default_sql = \"...\"` for an SQL expression",
        ),
        (
            "#[model(default = false)] n: String,",
            23,
            "`default` is a bool literal but `n` is a `String` column (text)",
            "write a string literal, e.g. `default = \"...\"`, or `default_sql = \"...\"` for an SQL expression",
        ),
        (
            "#[model(default = \"x\")] n: f64,",
            23,
            "`default` is a string literal but `n` is a `f64` column (double)",
            "write a number, e.g. `default = 0.0`, or `default_sql = \"...\"` for an SQL expression",
        ),
        (
            "#[model(default = 40000)] n: i16,",
            23,
            "`default = 40000` does not fit in `i16` (smallint)",
            "use a value from -32768 to 32767, or a wider type",
        ),
        (
            "#[model(default = -9223372036854775809)] n: i64,",
            23,
            "`default = -9223372036854775809` does not fit in `i64` (bigint)",
            "use a value from -9223372036854775808 to 9223372036854775807, or a wider type",
        ),
        (
            "#[model(max_length = 3, default = \"high\")] n: String,",
            39,
            "`default` is 4 characters long but `max_length` is 3",
            "shorten the default, or raise `max_length`",
        ),
        (
            "#[model(default = \"x\")] n: Vec<u8>,",
            23,
            "`default` cannot be a literal for the `Vec<u8>` column `n`",
            "use `default_sql = \"...\"` with the dialect's byte-string syntax",
        ),
    ];
    for (field, column, message, help) in cases {
        let got = error(&with_field(&format!("    {field}")), 5, *column, message);
        assert_eq!(&got, help, "{field}");
    }
}

#[test]
fn default_and_default_sql_together() {
    let help = error(
        &with_field("    #[model(default = 1, default_sql = \"2\")]\n    n: i64,"),
        5,
        26,
        "`default` and `default_sql` cannot both be set",
    );
    assert_eq!(
        help,
        "keep `default = <literal>` for a value, or `default_sql = \"...\"` for an SQL expression"
    );
}

// ---------------------------------------------------------------- errors: keys together

#[test]
fn auto_increment_rules() {
    let src = r#"
#[derive(Model)]
struct T {
    #[model(primary_key, auto_increment)]
    id: String,
    #[model(auto_increment)]
    n: i64,
    #[model(auto_increment, sql_type = "SERIAL")]
    m: i32,
}
"#;
    let all = errors(src);
    let got: Vec<(usize, usize, &str)> = all
        .iter()
        .map(|(l, c, m, _)| (*l, *c, m.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (
                4,
                26,
                "`auto_increment` needs an integer field, but `id` is `String`"
            ),
            (
                6,
                13,
                "`auto_increment` needs `primary_key` on the same field `n`"
            ),
            (
                8,
                13,
                "`auto_increment` needs an integer field, but `m` is a field with `sql_type`"
            ),
            (
                8,
                13,
                "`auto_increment` needs `primary_key` on the same field `m`"
            ),
        ]
    );
    assert_eq!(all[1].3, "write `#[model(primary_key, auto_increment)]`");

    let help = error(
        r#"
#[derive(Model)]
struct T {
    #[model(primary_key, auto_increment)]
    a: i64,
    #[model(primary_key)]
    b: i64,
}
"#,
        4,
        26,
        "`auto_increment` needs a single-column primary key, but this primary key is composite",
    );
    assert!(help.starts_with("remove `auto_increment`"), "{help}");
    error(
        "\n#[derive(Model)]\nstruct T {\n    #[model(primary_key, auto_increment, default = 1)]\n    id: i64,\n}\n",
        4,
        42,
        "an `auto_increment` column cannot also have a default",
    );
}

#[test]
fn referential_actions_need_a_foreign_key_and_a_fitting_column() {
    let help = error(
        &with_field("    #[model(on_delete = \"cascade\")]\n    x: i64,"),
        5,
        13,
        "`on_delete` needs `foreign_key` on the same field",
    );
    assert_eq!(
        help,
        "write `#[model(foreign_key = \"table.column\", on_delete = \"...\")]`, or remove `on_delete`"
    );
    error(
        &with_field("    #[model(on_update = \"cascade\")]\n    x: i64,"),
        5,
        13,
        "`on_update` needs `foreign_key` on the same field",
    );
    let help = error(
        &with_field("    #[model(foreign_key = \"a.id\", on_delete = \"cascde\")]\n    x: i64,"),
        5,
        47,
        "unknown action `cascde` for `on_delete`",
    );
    assert_eq!(
        help,
        "expected one of `cascade`, `set null`, `set default`, `restrict`, `no action`"
    );
    let help = error(
        &with_field("    #[model(foreign_key = \"a.id\", on_delete = \"set null\")]\n    x: i64,"),
        5,
        47,
        "`on_delete = \"set null\"` needs a nullable column, but `x` is not an `Option`",
    );
    assert_eq!(
        help,
        "make the field `Option<i64>`, or choose another action"
    );
    error(
        &with_field(
            "    #[model(foreign_key = \"a.id\", on_update = \"set default\")]\n    x: i64,",
        ),
        5,
        47,
        "`on_update = \"set default\"` needs a default on `x`",
    );
}

#[test]
fn malformed_foreign_keys() {
    for bad in ["users", "users.id.x", ".id", "users.", "users .id x"] {
        let help = error(
            &with_field(&format!(
                "    #[model(foreign_key = \"{bad}\")]\n    x: i64,"
            )),
            5,
            27,
            &format!("malformed `foreign_key = \"{bad}\"`"),
        );
        assert_eq!(
            help,
            "name the referenced table and column as `table.column`, e.g. `foreign_key = \"users.id\"`"
        );
    }
}

#[test]
fn skip_with_other_keys() {
    let all = errors(&with_field(
        "    #[model(skip, index, column = \"y\")]\n    x: Whatever,",
    ));
    let got: Vec<(usize, usize, &str, &str)> = all
        .iter()
        .map(|(l, c, m, h)| (*l, *c, m.as_str(), h.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (
                5,
                19,
                "`skip` cannot be combined with `index`",
                "a skipped field has no column: remove `index`, or remove `skip` to make `x` a column"
            ),
            (
                5,
                26,
                "`skip` cannot be combined with `column`",
                "a skipped field has no column: remove `column`, or remove `skip` to make `x` a column"
            ),
        ]
    );
}

#[test]
fn renamed_from_the_current_name() {
    error(
        &with_field("    #[model(renamed_from = \"x\")]\n    x: i64,"),
        5,
        28,
        "`renamed_from = \"x\"` is the column's current name",
    );
    error(
        "\n#[derive(Model)]\n#[model(renamed_from = \"ts\")]\nstruct T { id: i64 }\n",
        3,
        24,
        "`renamed_from = \"ts\"` is the table's current name",
    );
}

#[test]
fn two_fields_on_one_column() {
    let help = error(
        &with_field("    #[model(column = \"id\")]\n    other: i64,"),
        5,
        22,
        "fields `id` and `other` both map to the column `id`",
    );
    assert_eq!(
        help,
        "give one of them another name with `#[model(column = \"...\")]`"
    );
}

// ---------------------------------------------------------------- errors: shapes

#[test]
fn only_structs_with_named_fields() {
    let cases = [
        (
            "#[derive(Model)]\nstruct P(i64);",
            2,
            8,
            "`#[derive(Model)]` needs named fields; `P` is a tuple struct",
        ),
        (
            "#[derive(Model)]\nstruct U;",
            2,
            8,
            "`#[derive(Model)]` needs named fields; `U` is a unit struct",
        ),
        (
            "#[derive(Model)]\nenum E { A, B }",
            2,
            1,
            "`#[derive(Model)]` works on structs only, not on enums",
        ),
        (
            "#[derive(Model)]\nunion X { a: i64 }",
            2,
            1,
            "`#[derive(Model)]` works on structs only, not on unions",
        ),
    ];
    for (src, line, column, message) in cases {
        error(&format!("\n{src}\n"), line + 1, column, message);
    }
}

#[test]
fn generics_are_refused_and_fields_still_checked() {
    let all = errors("\n#[derive(Model)]\nstruct G<'a, T: Clone> {\n    id: &'a T,\n}\n");
    let got: Vec<(usize, usize, &str)> = all
        .iter()
        .map(|(l, c, m, _)| (*l, *c, m.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (
                3,
                9,
                "`#[derive(Model)]` does not support generic structs like `G`"
            ),
            (4, 9, "unsupported column type `&'a T`"),
        ]
    );
}

#[test]
fn struct_without_columns() {
    let help = error(
        "\n#[derive(Model)]\nstruct E {}\n",
        3,
        8,
        "`E` has no fields, so its table would have no columns",
    );
    assert!(help.starts_with("add at least one field that is not `#[model(skip)]`"));
    error(
        "\n#[derive(Model)]\nstruct S {\n    #[model(skip)]\n    x: i64,\n}\n",
        3,
        8,
        "every field of `S` is skipped, so its table would have no columns",
    );
}

// ---------------------------------------------------------------- errors: column lists

#[test]
fn struct_lists_with_unknown_or_skipped_columns() {
    let src = r#"
#[derive(Model)]
#[model(index = "usr_id, id", unique = "cache")]
#[model(index = "a,,b", unique = "id, id", index = "id, ident")]
struct T {
    #[model(column = "ident")]
    id: i64,
    user_id: i64,
    #[model(skip)]
    cache: Vec<u32>,
}
"#;
    let got: Vec<(usize, usize, String, String)> = errors(src);
    let want = [
        (
            4,
            17,
            "empty column name in `index = \"a,,b\"`",
            "list the columns separated by commas: `index = \"user_id, created_at\"`",
        ),
        (
            4,
            34,
            "column `id` is listed twice in `unique`",
            "list each column once",
        ),
        (
            3,
            17,
            "unknown column `usr_id` in `index`",
            "did you mean `user_id`? the columns of `ts` are `ident`, `user_id`",
        ),
        (
            4,
            52,
            "`ident` names the column `ident`, which is already in this `index`",
            "list each column once",
        ),
        (
            3,
            40,
            "`cache` in `unique` is a skipped field, not a column",
            "remove `cache` from the list, or remove `skip` from the field",
        ),
    ];
    let want: Vec<(usize, usize, String, String)> = want
        .iter()
        .map(|(l, c, m, h)| (*l, *c, m.to_string(), h.to_string()))
        .collect();
    assert_eq!(got, want);
}

#[test]
fn the_same_index_declared_twice() {
    let help = error(
        "\n#[derive(Model)]\n#[model(index = \"x\")]\nstruct T {\n    #[model(index)]\n    x: i64,\n}\n",
        3,
        17,
        "duplicate index `idx_ts_x`: the same columns are declared twice",
    );
    assert_eq!(help, "remove one of the two declarations");
}

// ---------------------------------------------------------------- all at once

#[test]
fn every_error_is_reported_in_one_pass() {
    let src = r#"
#[derive(Model)]
#[model(tabel = "x")]
struct A {
    #[model(primary_key)]
    id: Option<i64>,
    #[model(max_length = 5)]
    n: i32,
}

#[derive(Model)]
struct B {
    x: u8,
}

#[derive(Model)]
struct Fine {
    id: i64,
}
"#;
    let all = parse_source(Path::new(FILE), src).expect_err("errors");
    let shown: Vec<String> = all
        .iter()
        .map(|e| e.to_string().lines().next().unwrap_or_default().to_string())
        .collect();
    assert_eq!(
        shown,
        [
            "src/models.rs:3:9: error: unknown struct attribute `tabel`",
            "src/models.rs:6:9: error: primary key `id` cannot be `Option`: primary key columns are NOT NULL",
            "src/models.rs:7:13: error: `max_length` applies to `String` fields only, but `n` is `i32`",
            "src/models.rs:13:8: error: `u8` has no portable SQL column type",
        ]
    );
    assert!(all[0].to_string().contains("\nhelp: did you mean `table`?"));
}

#[test]
fn syntax_errors_in_the_file_are_located() {
    let all = parse_source(
        Path::new(FILE),
        "\nstruct A {\n    x: i64\n    y: i64,\n}\n",
    )
    .expect_err("syntax error");
    assert_eq!(all.len(), 1);
    assert_eq!((all[0].line, all[0].column), (4, 5));
    assert_eq!(all[0].message, "expected `,`");
}

#[test]
fn model_error_display() {
    let e = ModelError {
        file: "src/a.rs".into(),
        line: 3,
        column: 9,
        message: "bad\nhelp: good".into(),
    };
    assert_eq!(e.to_string(), "src/a.rs:3:9: error: bad\nhelp: good");
    let whole = ModelError {
        file: "src".into(),
        line: 0,
        column: 0,
        message: "cannot read folder: gone".into(),
    };
    assert_eq!(whole.to_string(), "src: error: cannot read folder: gone");
}

// ---------------------------------------------------------------- scanning folders

/// A scratch folder, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir =
            std::env::temp_dir().join(format!("migrator-model-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create scratch folder");
        Scratch(dir)
    }

    fn write(&self, rel: &str, src: &str) -> &Self {
        let path = self.0.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create folder");
        }
        std::fs::write(path, src).expect("write file");
        self
    }

    /// `scan_dir` errors as `file-relative:line:column: message first line`.
    fn errors(&self) -> Vec<String> {
        let errors = scan_dir(&self.0).expect_err("errors");
        errors
            .iter()
            .map(|e| {
                let rel = e.file.strip_prefix(&self.0).unwrap_or(&e.file);
                let first = e.message.lines().next().unwrap_or_default();
                format!("{}:{}:{}: {first}", rel.display(), e.line, e.column)
            })
            .collect()
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const USERS: &str = r#"use migrator::Model;

#[derive(Model)]
#[model(renamed_from = "accounts")]
pub struct User {
    #[model(primary_key, auto_increment)]
    pub id: i64,
    #[model(unique, max_length = 100, renamed_from = "mail")]
    pub email: String,
    pub name: String,
}
"#;

const TASKS: &str = r#"use migrator::Model;

#[derive(Model)]
pub struct Task {
    #[model(primary_key, auto_increment)]
    pub id: i64,
    #[model(foreign_key = "users.id", on_delete = "cascade")]
    pub user_id: i64,
    #[model(foreign_key = "users.email")]
    pub owner_email: Option<String>,
}
"#;

#[test]
fn scan_dir_reads_every_file_in_order_and_builds_schema_and_hints() {
    let dir = Scratch::new("ok");
    dir.write("main.rs", "fn main() {}\n")
        .write("models/users.rs", USERS)
        .write("models/tasks.rs", TASKS)
        .write(
            "models/notes.txt",
            "#[derive(Model)] struct Nope { id: i64 }",
        )
        .write(".hidden/x.rs", "#[derive(Model)] struct Hidden { id: i64 }")
        .write("target/x.rs", "#[derive(Model)] struct Built { id: i64 }")
        // Not Rust at all, but without the word it is never parsed.
        .write("generated.rs", "this is not rust {");
    let models = scan_dir(&dir.0).expect("valid models");
    let names: Vec<&str> = models.defs.iter().map(|d| d.struct_name.as_str()).collect();
    // models/tasks.rs sorts before models/users.rs.
    assert_eq!(names, ["Task", "User"]);
    assert_eq!(
        models.defs[0].file.as_deref(),
        Some(dir.0.join("models/tasks.rs").as_path())
    );
    assert_eq!(models.defs[1].line, 5);
    let tables: Vec<&String> = models.schema.tables.keys().collect();
    assert_eq!(tables, ["tasks", "users"]);
    assert_eq!(models.schema.tables["users"], models.defs[1].table);
    assert_eq!(
        models.hints.tables.get("users").map(String::as_str),
        Some("accounts")
    );
    assert_eq!(
        models
            .hints
            .columns
            .get(&("users".to_string(), "email".to_string()))
            .map(String::as_str),
        Some("mail")
    );
    assert_eq!(models.hints.columns.len(), 1);

    // The same result on a second scan: nothing depends on directory order.
    assert_eq!(scan_dir(&dir.0).expect("valid models"), models);
}

#[test]
fn scan_dir_leaves_out_test_only_module_files() {
    let dir = Scratch::new("cfg-test");
    let model = |name: &str| format!("#[derive(Model)]\nstruct {name} {{ id: i64 }}\n");
    dir.write(
        "lib.rs",
        "mod models;\n#[cfg(test)]\nmod fixtures;\n#[cfg(test)]\n#[path = \"testing/helpers.rs\"]\nmod helpers;\n",
    )
    .write("fixtures.rs", &model("Fixture"))
    .write("fixtures/more.rs", &model("MoreFixture"))
    .write("testing/helpers.rs", &model("Helper"))
    .write(
        "models.rs",
        &format!(
            "{}mod nested {{\n    #[cfg(test)]\n    mod deep;\n}}\n#[cfg(test)]\nmod tests;\n",
            model("Real")
        ),
    )
    .write("models/tests.rs", &model("TestOnly"))
    .write("models/tests/sub.rs", &model("TestSub"))
    .write("models/nested/deep.rs", &model("Deep"))
    .write("models/kept.rs", &model("Kept"));
    let models = scan_dir(&dir.0).expect("valid models");
    let names: Vec<&str> = models.defs.iter().map(|d| d.struct_name.as_str()).collect();
    // Sorted by path component: `models/kept.rs` before `models.rs`.
    assert_eq!(names, ["Kept", "Real"]);
}

#[test]
fn scan_dirs_checks_foreign_keys_across_roots() {
    let a = Scratch::new("root-a");
    let b = Scratch::new("root-b");
    a.write("users.rs", USERS);
    b.write("tasks.rs", TASKS);
    assert_eq!(
        b.errors(),
        [
            "tasks.rs:7:27: foreign key to unknown table `users`",
            "tasks.rs:9:27: foreign key to unknown table `users`",
        ]
    );
    let both = scan_dirs(&[&a.0, &b.0]).expect("valid across roots");
    assert_eq!(both.defs.len(), 2);
}

#[test]
fn scan_dir_foreign_key_errors() {
    let dir = Scratch::new("fk");
    dir.write("users.rs", USERS).write(
        "tasks.rs",
        r#"
#[derive(Model)]
pub struct Task {
    #[model(primary_key)]
    pub id: i64,
    #[model(foreign_key = "usres.id")]
    pub a: i64,
    #[model(foreign_key = "users.ident")]
    pub b: i64,
    #[model(foreign_key = "users.id")]
    pub c: i32,
    #[model(foreign_key = "users.name")]
    pub d: String,
    #[model(foreign_key = "users.email")]
    pub e: String,
    #[model(foreign_key = "tasks.id")]
    pub parent: Option<i64>,
}
"#,
    );
    let all = scan_dir(&dir.0).expect_err("errors");
    let got: Vec<String> = all
        .iter()
        .map(|e| format!("{}:{} {}", e.line, e.column, e.message))
        .collect();
    assert_eq!(
        got,
        [
            "6:27 foreign key to unknown table `usres`\nhelp: did you mean `users`? the tables of the models are `tasks`, `users`",
            "8:27 foreign key to unknown column `ident` of table `users`\nhelp: the columns of `users` are `id`, `email`, `name`",
            "10:27 foreign key column `tasks.c` is `integer` but `users.id` is `bigint`\nhelp: give both columns the same type",
            "12:27 foreign key to `users.name`, which is neither the primary key of `users` nor unique\nhelp: reference the primary key, or add `#[model(unique)]` to the referenced field",
        ]
    );
}

#[test]
fn scan_dir_duplicate_tables_and_object_names() {
    let dir = Scratch::new("dup");
    dir.write(
        "a.rs",
        r#"
#[derive(Model)]
pub struct Task { id: i64 }

#[derive(Model)]
#[model(table = "a", index = "b_c")]
pub struct A { b_c: i64 }
"#,
    )
    .write(
        "b.rs",
        r#"
#[derive(Model)]
#[model(table = "tasks")]
pub struct Todo { id: i64 }

#[derive(Model)]
#[model(table = "a_b")]
pub struct AB { #[model(index)] c: i64 }
"#,
    );
    let first = dir.0.join("a.rs");
    assert_eq!(
        dir.errors(),
        [
            &*format!(
                "b.rs:3:17: `Todo` maps to the table `tasks`, which is already the table of `Task` ({}:3)",
                first.display()
            ),
            "b.rs:8:25: the name `idx_a_b_c` of this object of table `a_b` is already used by an object of table `a`",
        ]
    );
}

/// MySQL scopes index names to their table; PostgreSQL and SQLite to the
/// database. Foreign key names are database-wide on both.
#[test]
fn index_names_are_per_table_only_for_a_mysql_project() {
    let dir = Scratch::new("scopes");
    dir.write(
        "a.rs",
        r#"
#[derive(Model)]
#[model(table = "authors", index(name = "idx_name", columns = "name"), unique(name = "uq_code", columns = "code"))]
pub struct Author { #[model(primary_key)] id: i64, name: String, code: String }

#[derive(Model)]
#[model(table = "books", index(name = "idx_name", columns = "name"), unique(name = "uq_code", columns = "code"))]
pub struct Book { #[model(primary_key)] id: i64, name: String, code: String }
"#,
    );
    let portable = dir.errors();
    assert_eq!(portable.len(), 2, "{portable:#?}");
    assert!(
        portable
            .iter()
            .all(|e| e.contains("table `books` is already used by an object of table `authors`")),
        "{portable:#?}"
    );
    let errors = scan_dir(&dir.0).expect_err("errors");
    assert!(
        errors[0]
            .message
            .contains("declare `dialects = [\"mysql\"]`"),
        "{}",
        errors[0].message
    );
    let models = scan_dirs_with(&[&dir.0], IndexNames::PerTable).expect("per-table names");
    assert_eq!(models.schema.tables.len(), 2);

    // Foreign keys stay database-wide under MySQL's rule too, and an index
    // may share a table's name there.
    dir.write(
        "b.rs",
        r#"
#[derive(Model)]
#[model(table = "loans", index(name = "books", columns = "book_id"),
        foreign_key(name = "fk_book", columns = "book_id", references = "books(id)"))]
pub struct Loan { #[model(primary_key)] id: i64, book_id: i64 }

#[derive(Model)]
#[model(table = "holds", foreign_key(name = "fk_book", columns = "book_id", references = "books(id)"))]
pub struct Hold { #[model(primary_key)] id: i64, book_id: i64 }
"#,
    );
    let errors = scan_dirs_with(&[&dir.0], IndexNames::PerTable).expect_err("fk clash");
    let firsts: Vec<&str> = errors
        .iter()
        .map(|e| e.message.lines().next().unwrap_or_default())
        .collect();
    assert_eq!(
        firsts,
        ["the name `fk_book` of this object of table `holds` is already used by an object of table `loans`"],
        "{errors:#?}"
    );
    assert!(
        errors[0]
            .message
            .contains("foreign key and check names unique"),
        "{}",
        errors[0].message
    );
}

#[test]
fn scan_dir_reports_every_file_and_io_error() {
    let dir = Scratch::new("errs");
    dir.write("a.rs", "#[derive(Model)]\nstruct A { x: u16 }\n")
        .write(
            "b.rs",
            "#[derive(Model)]\nstruct B { #[model(nope)] id: i64 }\n",
        )
        .write("c.rs", "// Model\nfn broken( {}\n");
    assert_eq!(
        dir.errors(),
        [
            "a.rs:2:15: `u16` has no portable SQL column type",
            "b.rs:2:20: unknown field attribute `nope`",
            "c.rs:2:10: this file is not valid Rust: an unclosed delimiter or a malformed literal starts here",
        ]
    );
    let missing = dir.0.join("missing");
    let errors = scan_dir(&missing).expect_err("no folder");
    assert_eq!(errors.len(), 1);
    assert_eq!(errors[0].line, 0);
    assert!(errors[0].message.starts_with("cannot read folder: "));
}

#[test]
fn scan_dir_locates_errors_in_files_parsed_on_other_threads() {
    // Enough files for every thread to take several; file `i` has its
    // model `i` lines down, so a position resolved against another file's
    // text (another thread's source map) would show.
    let dir = Scratch::new("threads");
    for i in 0..24 {
        dir.write(
            &format!("m{i:02}.rs"),
            &format!(
                "{}#[derive(Model)]\npub struct M{i} {{\n    #[model(primary_key)]\n    pub id: i64,\n    #[model(foreign_key = \"nope{i}.id\")]\n    pub x: i64,\n}}\n",
                "\n".repeat(i)
            ),
        );
    }
    let expected: Vec<String> = (0..24)
        .map(|i| {
            format!(
                "m{i:02}.rs:{}:27: foreign key to unknown table `nope{i}`",
                i + 5
            )
        })
        .collect();
    assert_eq!(dir.errors(), expected);
    // Errors of the model stage itself, from every file.
    for i in 0..24 {
        dir.write(
            &format!("m{i:02}.rs"),
            &format!(
                "{}#[derive(Model)]\npub struct M{i} {{\n    pub id: u{},\n}}\n",
                " \n".repeat(i),
                8 << (i % 4)
            ),
        );
    }
    let expected: Vec<String> = (0..24)
        .map(|i| {
            format!(
                "m{i:02}.rs:{}:13: `u{}` has no portable SQL column type",
                i + 3,
                8 << (i % 4)
            )
        })
        .collect();
    assert_eq!(dir.errors(), expected);
}

#[test]
fn sql_fragments_that_are_more_than_one_type_or_expression_are_refused() {
    let help = error(
        &with_field("    #[model(sql_type = \"int, DROP COLUMN secret\")]\n    x: i32,"),
        5,
        24,
        "`sql_type = \"int, DROP COLUMN secret\"` is not one SQL type: at character 4: `,` outside parentheses would start another clause; a type has one name and its arguments in `( )`",
    );
    assert!(help.contains("write one type"), "{help}");
    error(
        &with_field("    #[model(default_sql = \"1); DROP TABLE victim; --\")]\n    x: i32,"),
        5,
        27,
        "`default_sql = \"1); DROP TABLE victim; --\"` is not one SQL expression: at character 2: `)` closes a parenthesis that was not opened",
    );
    error(
        &with_field("    #[model(default_sql = \"0 NOT NULL\")]\n    x: i32,"),
        5,
        27,
        "`default_sql = \"0 NOT NULL\"` is not one SQL expression: at character 7: `NULL` after a complete value would set the column's nullability; nullability comes from the field (`Option<T>`)",
    );
    error(
        "\n#[derive(Model)]\n#[model(check = \"a > 0) , DROP x\")]\nstruct T {\n    id: i64,\n    a: i32,\n}\n",
        3,
        17,
        "`check = \"a > 0) , DROP x\"` is not one SQL expression: at character 6: `)` closes a parenthesis that was not opened",
    );
    error(
        "\n#[derive(Model)]\n#[model(check(name = \"ck\", expr = \"a > 0 /* x */\"))]\nstruct T {\n    id: i64,\n    a: i32,\n}\n",
        3,
        35,
        "`check = \"a > 0 /* x */\"` is not one SQL expression: at character 7: a comment (`/*`) is not allowed",
    );
    // Fine: one type, one expression each.
    let t = table(&with_field(
        "    #[model(sql_type = \"enum('a,b','c')\", default_sql = \"'c'\")]\n    x: String,\n    #[model(sql_type = \"timestamp(3) with time zone\", default_sql = \"CURRENT_TIMESTAMP\")]\n    at: String,",
    ));
    assert_eq!(t.columns.len(), 3);
}

/// `#[model(keep = "col")]`: a column the struct no longer has stays as
/// the snapshot has it (no drift, nothing to generate); without `keep` the
/// missing field is drift; `keep` of a field or of an unknown column is an
/// error.
#[test]
fn kept_columns_stay_as_the_snapshot_has_them() {
    let full: syn::DeriveInput = syn::parse_quote! {
        #[model(table = "tasks", index(name = "idx_tasks_flag", columns = "flag"))]
        pub struct Task { #[model(primary_key)] pub id: i64, pub title: String, pub flag: bool }
    };
    let table = parse_derive_input(&full).expect("valid").table;
    let kept: syn::DeriveInput = syn::parse_quote! {
        #[model(table = "tasks", keep = "flag")]
        pub struct Task { #[model(primary_key)] pub id: i64, pub title: String }
    };
    let out = expand_derive_against(&kept, &reference(std::slice::from_ref(&table))).to_string();
    assert!(!out.contains("compile_error"), "{out}");
    let def = parse_derive_input(&kept).expect("valid");
    assert_eq!(def.kept, ["flag"]);
    let back = with_kept(&def, Some(&table)).expect("kept");
    assert_eq!(
        back, table,
        "the column and its index come back from the snapshot"
    );

    let dropped: syn::DeriveInput = syn::parse_quote! {
        #[model(table = "tasks")]
        pub struct Task { #[model(primary_key)] pub id: i64, pub title: String }
    };
    let out = expand_derive_against(&dropped, &reference(std::slice::from_ref(&table))).to_string();
    assert!(out.contains("flag"), "the missing field is drift: {out}");

    let unknown: syn::DeriveInput = syn::parse_quote! {
        #[model(table = "tasks", keep = "flag, nope")]
        pub struct Task { #[model(primary_key)] pub id: i64, pub title: String }
    };
    let out = expand_derive_against(&unknown, &reference(std::slice::from_ref(&table))).to_string();
    assert!(out.contains("`keep` names column `nope`"), "{out}");

    let both = "\n#[derive(Model)]\n#[model(keep = \"title\")]\nstruct Task { #[model(primary_key)] id: i64, title: String }\n";
    error(
        both,
        3,
        16,
        "`title` is kept (`keep`) but is also a field of the struct",
    );
}

// ------------------------------------------------ collation, comment, ...

#[test]
fn column_attributes_of_the_database_are_read() {
    let t = table(
        r#"
#[derive(Model)]
struct T {
    #[model(primary_key, auto_increment, identity_start = 100, identity_increment = -5)]
    id: i64,
    #[model(collation = "en-x-icu", comment = "it's \"shown\"")]
    name: String,
    #[model(on_update_sql = "now(3)")]
    at: chrono::NaiveDateTime,
}
"#,
    );
    let id = t.column("id").expect("id");
    assert_eq!(
        (id.identity_start, id.identity_increment),
        (Some(100), Some(-5))
    );
    let name = t.column("name").expect("name");
    assert_eq!(name.collation.as_deref(), Some("en-x-icu"));
    assert_eq!(name.comment.as_deref(), Some("it's \"shown\""));
    assert_eq!(
        t.column("at").expect("at").on_update.as_deref(),
        Some("CURRENT_TIMESTAMP(3)")
    );
}

#[test]
fn column_attributes_of_the_database_are_checked() {
    let help = error(
        &with_field("    #[model(collation = \"C; DROP\")]\n    x: String,"),
        5,
        25,
        "invalid collation `C; DROP`: a collation name is letters, digits and `_ - . @`, at most 64 bytes",
    );
    assert_eq!(help, "write `collation = \"utf8mb4_bin\"`");
    error(
        &with_field("    #[model(on_update_sql = \"now() + 1\")]\n    x: String,"),
        5,
        29,
        "`on_update_sql = \"now() + 1\"`: MySQL's ON UPDATE takes only CURRENT_TIMESTAMP, optionally with a precision of 0 to 6",
    );
    error(
        &with_field("    #[model(comment = \"\")]\n    x: String,"),
        5,
        23,
        "`comment` cannot be empty",
    );
    error(
        &with_field("    #[model(identity_increment = 0)]\n    x: i64,"),
        5,
        34,
        "`identity_increment` expects an integer literal other than 0 that fits a 64-bit integer",
    );
    error(
        &with_field("    #[model(identity_start = 7)]\n    x: i64,"),
        5,
        13,
        "identity options need `auto_increment` on the same field `x`",
    );
}

// ------------------------------------------------ primary key name

#[test]
fn a_primary_key_is_named() {
    let t = table(
        r#"
#[derive(Model)]
#[model(primary_key_name = "pk_accounts")]
struct Account {
    #[model(primary_key)]
    id: i64,
}
"#,
    );
    assert_eq!(t.primary_key_name.as_deref(), Some("pk_accounts"));
    assert_eq!(t.primary_key, ["id"]);
}

#[test]
fn a_primary_key_name_needs_a_primary_key_and_a_valid_name() {
    let help = error(
        "\n#[derive(Model)]\n#[model(primary_key_name = \"pk_t\")]\nstruct T { id: i64 }\n",
        3,
        28,
        "`primary_key_name = \"pk_t\"` names a primary key, but no field is `primary_key`",
    );
    assert_eq!(
        help,
        "mark the key's field(s) `#[model(primary_key)]`, or remove `primary_key_name`"
    );
    let all = errors(
        "\n#[derive(Model)]\n#[model(primary_key_name = \"pk t\")]\nstruct T {\n    #[model(primary_key)]\n    id: i64,\n}\n",
    );
    assert_eq!(all.len(), 1, "{all:#?}");
    assert!(
        all[0]
            .2
            .starts_with("invalid name `pk t` in `primary_key_name`"),
        "{all:#?}"
    );
}

#[test]
fn a_primary_key_name_is_a_name_of_the_table() {
    // It may not be another object's name on the same table.
    let all = errors(
        "\n#[derive(Model)]\n#[model(primary_key_name = \"idx_ts_code\")]\nstruct T {\n    #[model(primary_key)]\n    id: i64,\n    #[model(index)]\n    code: i64,\n}\n",
    );
    assert_eq!(all.len(), 1, "{all:#?}");
    assert_eq!(
        all[0].2,
        "index `idx_ts_code` has the name of the primary key (`primary_key_name`)"
    );
}

// ------------------------------------------------ SQLite table options

#[test]
fn sqlite_table_options_are_read() {
    let t = table(
        r#"
#[derive(Model)]
#[model(strict, without_rowid)]
struct Tag {
    #[model(primary_key)]
    name: String,
}
"#,
    );
    assert!(t.strict && t.without_rowid, "{t:?}");
}

#[test]
fn without_rowid_needs_a_key_without_auto_increment() {
    let help = error(
        "\n#[derive(Model)]\n#[model(without_rowid)]\nstruct T { id: i64 }\n",
        3,
        9,
        "a `without_rowid` table is stored by its primary key, but no field is `primary_key`",
    );
    assert_eq!(
        help,
        "mark the key's field(s) `#[model(primary_key)]`, or remove `without_rowid`"
    );
    error(
        "\n#[derive(Model)]\n#[model(without_rowid)]\nstruct T {\n    #[model(primary_key, auto_increment)]\n    id: i64,\n}\n",
        3,
        9,
        "a `without_rowid` table has no auto-increment: SQLite numbers rows only through the rowid",
    );
}
