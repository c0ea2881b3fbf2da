//! The drift check: every kind of difference with its message and subject,
//! "empty exactly when equal", renames, reading the snapshot, and where the
//! derive puts each error.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::*;
use crate::model::expand::drift_errors;
use crate::model::{parse_derive_input, parse_spanned};
use crate::schema::{ColumnType, Unique};
use crate::snapshot::Snapshot;

/// The table of a model written as Rust source.
fn model(src: &str) -> ModelDef {
    let input: syn::DeriveInput = syn::parse_str(src).expect("valid Rust");
    parse_derive_input(&input).unwrap_or_else(|e| panic!("model errors: {e}"))
}

const TASK: &str = r#"
#[model(table = "tasks", index = "user_id, done", check = "priority IN ('low', 'high')")]
struct Task {
    #[model(primary_key, auto_increment)]
    id: i64,
    #[model(foreign_key = "users.id", on_delete = "cascade", unique)]
    user_id: i64,
    #[model(max_length = 200)]
    title: String,
    #[model(max_length = 20, default = "low")]
    priority: String,
    done: bool,
    due: Option<String>,
}
"#;

fn task() -> Table {
    model(TASK).table
}

/// `(subject, message)` of every difference.
fn differences(model: &Table, snapshot: &Table) -> Vec<(Subject, String)> {
    let out: Vec<(Subject, String)> = compare(model, Some(snapshot))
        .into_iter()
        .map(|d| (d.subject, d.message))
        .collect();
    assert_eq!(out.is_empty(), model == snapshot, "{out:#?}");
    out
}

fn col(name: &str) -> Subject {
    Subject::Column(name.into())
}

fn obj(name: &str) -> Subject {
    Subject::Object(name.into())
}

#[test]
fn equal_tables_have_no_difference_whatever_the_column_order() {
    let t = task();
    assert!(compare(&t, Some(&t)).is_empty());
    let mut reordered = t.clone();
    reordered.columns.reverse();
    assert_eq!(differences(&t, &reordered), []);
}

#[test]
fn a_missing_table() {
    let d = compare(&task(), None);
    assert_eq!(
        d,
        [Difference {
            subject: Subject::Table,
            message: "table `tasks` is not in the snapshot".into(),
        }]
    );
}

#[test]
fn columns_added_removed_and_changed() {
    let model = task();
    let mut snap = model.clone();
    snap.columns.retain(|c| c.name != "priority");
    snap.columns.push(Column::new("legacy", ColumnType::Text));
    let title = snap.column_mut("title").expect("title");
    title.ty = ColumnType::Text;
    let due = snap.column_mut("due").expect("due");
    due.nullable = false;
    due.default = Some(DefaultValue::Sql("CURRENT_DATE".into()));
    snap.column_mut("id").expect("id").auto_increment = false;
    assert_eq!(
        differences(&model, &snap),
        [
            (
                col("id"),
                "column `id`: auto-increment in the model, not auto-increment in the snapshot"
                    .into()
            ),
            (
                col("title"),
                "column `title`: type `varchar(200)` in the model, `text` in the snapshot".into()
            ),
            (
                col("priority"),
                "column `priority` is not in the snapshot".into()
            ),
            (
                col("due"),
                "column `due`: nullable in the model, not null in the snapshot".into()
            ),
            (
                col("due"),
                "column `due`: no default in the model, `default_sql = \"CURRENT_DATE\"` in the snapshot".into()
            ),
            (
                Subject::Table,
                "column `legacy` is in the snapshot but not in the model".into()
            ),
        ]
    );
}

#[test]
fn defaults_are_shown_as_the_attribute_that_declares_them() {
    let model = task();
    for (default, shown) in [
        (DefaultValue::Str("high".into()), "`default = \"high\"`"),
        (DefaultValue::Int(-3), "`default = -3`"),
        (DefaultValue::Float(0.0), "`default = 0.0`"),
        (DefaultValue::Bool(true), "`default = true`"),
        (
            DefaultValue::Sql("'low'".into()),
            "`default_sql = \"'low'\"`",
        ),
    ] {
        let mut snap = model.clone();
        snap.column_mut("priority").expect("priority").default = Some(default);
        assert_eq!(
            differences(&model, &snap),
            [(
                col("priority"),
                format!(
                    "column `priority`: `default = \"low\"` in the model, {shown} in the snapshot"
                )
            )]
        );
    }
}

#[test]
fn primary_key_differences() {
    let model = task();
    let mut snap = model.clone();
    snap.primary_key = vec![];
    assert_eq!(
        differences(&model, &snap),
        [(
            col("id"),
            "primary key (`id`) in the model, none in the snapshot".into()
        )]
    );
    let mut snap = model.clone();
    snap.primary_key = vec!["id".into(), "user_id".into()];
    assert_eq!(
        differences(&model, &snap),
        [(
            col("id"),
            "primary key (`id`) in the model, (`id`, `user_id`) in the snapshot".into()
        )]
    );
    // The error goes on the first key column the snapshot does not have.
    assert_eq!(differences(&snap, &model)[0].0, col("user_id"));
    // A key only the snapshot has is about the table.
    let mut keyless = model.clone();
    keyless.primary_key.clear();
    assert_eq!(differences(&keyless, &model)[0].0, Subject::Table);
}

#[test]
fn indexes_and_uniques_are_matched_by_name() {
    let model = task();
    let mut snap = model.clone();
    snap.indexes.clear();
    snap.indexes.push(Index {
        name: "idx_tasks_title".into(),
        columns: vec!["title".into()],
    });
    snap.uniques[0].columns = vec!["user_id".into(), "title".into()];
    snap.uniques.push(Unique {
        name: "uq_tasks_gone".into(),
        columns: vec!["gone".into()],
        nulls_not_distinct: false,
    });
    assert_eq!(
        differences(&model, &snap),
        [
            (
                obj("idx_tasks_user_id_done"),
                "index `idx_tasks_user_id_done` is not in the snapshot".into()
            ),
            (
                col("title"),
                "index `idx_tasks_title` is in the snapshot but not in the model".into()
            ),
            (
                obj("uq_tasks_user_id"),
                "unique constraint `uq_tasks_user_id`: columns (`user_id`) in the model, (`user_id`, `title`) in the snapshot".into()
            ),
            (
                Subject::Table,
                "unique constraint `uq_tasks_gone` is in the snapshot but not in the model"
                    .into()
            ),
        ]
    );
}

#[test]
fn foreign_key_and_check_details() {
    let model = task();
    let mut snap = model.clone();
    let fk = &mut snap.foreign_keys[0];
    fk.ref_table = "accounts".into();
    fk.on_delete = RefAction::NoAction;
    fk.on_update = RefAction::SetNull;
    snap.checks[0].expr = "priority IN ('low')".into();
    assert_eq!(
        differences(&model, &snap),
        [
            (
                obj("fk_tasks_user_id"),
                "foreign key `fk_tasks_user_id`: references `users` (`id`) in the model, `accounts` (`id`) in the snapshot".into()
            ),
            (
                obj("fk_tasks_user_id"),
                "foreign key `fk_tasks_user_id`: `on_delete = \"cascade\"` in the model, `on_delete = \"no action\"` in the snapshot".into()
            ),
            (
                obj("fk_tasks_user_id"),
                "foreign key `fk_tasks_user_id`: `on_update = \"no action\"` in the model, `on_update = \"set null\"` in the snapshot".into()
            ),
            (
                obj("ck_tasks_6410c25e"),
                "check `ck_tasks_6410c25e`: `priority IN ('low', 'high')` in the model, `priority IN ('low')` in the snapshot".into()
            ),
        ]
    );
    let mut snap = model.clone();
    snap.checks.clear();
    snap.foreign_keys.clear();
    let mut bare = model.clone();
    bare.checks.clear();
    bare.foreign_keys.clear();
    assert_eq!(
        differences(&bare, &model),
        [
            (
                col("user_id"),
                "foreign key `fk_tasks_user_id` is in the snapshot but not in the model".into()
            ),
            (
                Subject::Table,
                "check `ck_tasks_6410c25e` is in the snapshot but not in the model".into()
            ),
        ]
    );
}

/// "Empty exactly when equal" over single mutations of every field, so the
/// derive and `migrator check` never disagree on whether a model drifted.
#[test]
fn empty_exactly_when_equal_for_every_kind_of_change() {
    let base = task();
    type Mutation = fn(&mut Table);
    let mutations: &[Mutation] = &[
        |t| t.name = "todo".into(),
        |t| t.columns.pop().map(drop).unwrap_or(()),
        |t| t.columns[1].name = "owner_id".into(),
        |t| t.columns[2].ty = ColumnType::Varchar(201),
        |t| t.columns[2].ty = ColumnType::Custom("citext".into()),
        |t| t.columns[3].nullable = true,
        |t| t.columns[3].default = None,
        |t| t.columns[3].default = Some(DefaultValue::Str("high".into())),
        |t| t.columns[4].default = Some(DefaultValue::Bool(false)),
        |t| t.columns[0].auto_increment = false,
        |t| t.primary_key.push("user_id".into()),
        |t| t.indexes[0].columns.reverse(),
        |t| t.indexes[0].name = "idx_other".into(),
        |t| t.uniques.clear(),
        |t| t.foreign_keys[0].ref_columns = vec!["uid".into()],
        |t| t.foreign_keys[0].on_update = RefAction::Cascade,
        |t| t.checks[0].name = "ck_tasks_2".into(),
        |t| t.checks.clear(),
    ];
    for (i, mutate) in mutations.iter().enumerate() {
        let mut other = base.clone();
        mutate(&mut other);
        assert_ne!(other, base, "mutation {i} changes the table");
        // Both directions, through the assertion in `differences`.
        assert!(!differences(&base, &other).is_empty(), "mutation {i}");
        assert!(!differences(&other, &base).is_empty(), "mutation {i}");
    }
}

#[test]
fn pending_renames_are_named_as_such() {
    let mut snapshot = Schema::new();
    let mut old = task();
    old.name = "todos".into();
    snapshot.insert(old);
    let renamed = model(&TASK.replace(
        "#[model(table = \"tasks\"",
        "#[model(renamed_from = \"todos\", table = \"tasks\"",
    ));
    let d = check(&renamed, &snapshot);
    assert_eq!(d.len(), 1, "{d:#?}");
    assert_eq!(d[0].subject, Subject::Table);
    assert_eq!(
        d[0].message,
        "table `tasks` is renamed from `todos` in the model, but the snapshot still has `todos`: the rename is pending"
    );
    // Once the snapshot has the new name, the hint is history.
    let mut done = Schema::new();
    done.insert(task());
    assert_eq!(check(&renamed, &done), []);
    // No old table either: the table is simply new.
    assert_eq!(
        check(&renamed, &Schema::new())[0].message,
        "table `tasks` is not in the snapshot"
    );

    // A column rename, with the primary key following it.
    let renamed = model(&TASK.replace(
        "    #[model(primary_key, auto_increment)]\n    id: i64,",
        "    #[model(primary_key, auto_increment, renamed_from = \"task_id\")]\n    id: i64,",
    ));
    let mut old = task();
    old.column_mut("id").expect("id").name = "task_id".into();
    old.primary_key = vec!["task_id".into()];
    let mut snapshot = Schema::new();
    snapshot.insert(old.clone());
    let d = check(&renamed, &snapshot);
    assert_eq!(
        d,
        [Difference {
            subject: col("id"),
            message: "column `id` is renamed from `task_id` in the model, but the snapshot still has `task_id`: the rename is pending".into(),
        }]
    );
    // The rename and a change of the same column are both reported.
    snapshot
        .tables
        .get_mut("tasks")
        .and_then(|t| t.column_mut("task_id"))
        .expect("task_id")
        .ty = ColumnType::Integer;
    let d = check(&renamed, &snapshot);
    assert_eq!(d.len(), 2, "{d:#?}");
    assert_eq!(
        d[1].message,
        "column `id`: type `bigint` in the model, `integer` in the snapshot"
    );
}

// ---------------------------------------------------------------- reading

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!(
            "migrator-drift-{tag}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn snapshot_text(tables: &[Table]) -> String {
    let mut schema = Schema::new();
    for t in tables {
        schema.insert(t.clone());
    }
    Snapshot {
        schema,
        ..Snapshot::default()
    }
    .to_text()
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

#[test]
fn load_without_a_snapshot_checks_nothing() {
    let dir = TempDir::new("none");
    let r = load(&dir.0).expect("loads");
    assert!(r.snapshot.is_none());
    assert!(r.tracked.is_empty());
    // A configuration alone is tracked, so pointing it elsewhere rebuilds.
    write(&dir.0.join("migrator.toml"), "migrations = \"db\"\n");
    let r = load(&dir.0).expect("loads");
    assert!(r.snapshot.is_none());
    assert_eq!(r.tracked, [dir.0.join("migrator.toml")]);
}

#[test]
fn load_follows_the_migrations_key_and_tracks_both_files() {
    let dir = TempDir::new("config");
    write(
        &dir.0.join("migrator.toml"),
        "migrations = \"db/migrations\"\n",
    );
    write(
        &dir.0.join("db/migrations/schema.toml"),
        &snapshot_text(&[task()]),
    );
    // The default folder is ignored once the key says otherwise.
    write(&dir.0.join("migrations/schema.toml"), "not toml");
    let r = load(&dir.0).expect("loads");
    assert_eq!(
        r.tracked,
        [
            dir.0.join("migrator.toml"),
            dir.0.join("db/migrations/schema.toml")
        ]
    );
    let snap = r.snapshot.expect("a snapshot");
    assert_eq!(snap.shown, "db/migrations/schema.toml");
    assert_eq!(snap.schema.table("tasks"), Some(&task()));
}

#[test]
fn load_reuses_a_parsed_text_and_rereads_an_edited_one() {
    let dir = TempDir::new("cache");
    let path = dir.0.join("migrations/schema.toml");
    write(&path, &snapshot_text(&[task()]));
    let a = load(&dir.0).expect("loads").snapshot.expect("snapshot");
    let b = load(&dir.0).expect("loads").snapshot.expect("snapshot");
    // Other tests may use the cache in between; the schema is the same.
    assert_eq!(a.schema, b.schema);
    let mut changed = task();
    changed.columns.pop();
    write(&path, &snapshot_text(&[changed.clone()]));
    let c = load(&dir.0).expect("loads").snapshot.expect("snapshot");
    assert_eq!(c.schema.table("tasks"), Some(&changed));
    assert!(!Arc::ptr_eq(&a.schema, &c.schema));
}

#[test]
fn load_errors_name_the_file() {
    let dir = TempDir::new("errors");
    write(&dir.0.join("migrator.toml"), "migration = \"db\"\n");
    let e = load(&dir.0).expect_err("bad config");
    assert!(e.contains("migrator.toml:1:1"), "{e}");
    assert!(e.contains("help: valid keys are"), "{e}");
    write(&dir.0.join("migrator.toml"), "");
    write(
        &dir.0.join("migrations/schema.toml"),
        "format = 1\nhead = 0\n",
    );
    let e = load(&dir.0).expect_err("bad snapshot");
    assert!(e.contains("migrations/schema.toml"), "{e}");
}

// ---------------------------------------------------------------- the derive

/// `(line, column, message)` of every drift error of the model `src` against
/// a snapshot holding `tables`. Lines count from 1 at the start of `src`.
fn derive_errors(src: &str, reference: Result<Reference, String>) -> Vec<(usize, usize, String)> {
    let input: syn::DeriveInput = syn::parse_str(src).expect("valid Rust");
    let lowered = parse_spanned(&input).expect("a valid model");
    drift_errors(&input, &lowered, &reference)
        .into_iter()
        .map(|e| {
            let start = e.span().start();
            (start.line, start.column + 1, e.to_string())
        })
        .collect()
}

fn reference(tables: &[Table]) -> Result<Reference, String> {
    let mut schema = Schema::new();
    for t in tables {
        schema.insert(t.clone());
    }
    Ok(Reference {
        tracked: vec![PathBuf::from("/app/migrations/schema.toml")],
        snapshot: Some(SnapshotRef {
            shown: "migrations/schema.toml".into(),
            schema: Arc::new(schema),
        }),
        model_roots: vec![PathBuf::from("/app/src")],
        dialects: Vec::new(),
    })
}

const HELP: &str = "\nhelp: run `migrator generate <name>` to write a migration for this change";

#[test]
fn derive_errors_are_on_the_field_the_declaration_or_the_struct() {
    let mut snap = task();
    snap.columns.retain(|c| c.name != "priority");
    snap.column_mut("title").expect("title").ty = ColumnType::Text;
    snap.indexes.clear();
    snap.columns.push(Column::new("legacy", ColumnType::Text));
    let errors = derive_errors(TASK, reference(&[snap]));
    let expect = |line: usize, column: usize, message: &str| {
        (
            line,
            column,
            format!("`Task` does not match `migrations/schema.toml`: {message}{HELP}"),
        )
    };
    assert_eq!(
        errors,
        [
            expect(
                9,
                5,
                "column `title`: type `varchar(200)` in the model, `text` in the snapshot"
            ),
            expect(11, 5, "column `priority` is not in the snapshot"),
            // Nothing in the model to point at: the struct's name.
            expect(
                3,
                8,
                "column `legacy` is in the snapshot but not in the model"
            ),
            // The `index = "..."` that declares it.
            expect(
                2,
                34,
                "index `idx_tasks_user_id_done` is not in the snapshot"
            ),
        ]
    );
}

#[test]
fn derive_is_silent_when_equal_or_without_a_snapshot() {
    assert_eq!(derive_errors(TASK, reference(&[task()])), []);
    assert_eq!(derive_errors(TASK, Ok(Reference::default())), []);
}

#[test]
fn derive_reports_an_unreadable_snapshot_on_the_struct() {
    let errors = derive_errors(
        TASK,
        Err("migrations/schema.toml:2:1: missing field `chain`".into()),
    );
    assert_eq!(errors.len(), 1);
    let (line, column, message) = &errors[0];
    assert_eq!((*line, *column), (3, 8));
    assert_eq!(
        message,
        "cannot check `Task` against the schema snapshot: migrations/schema.toml:2:1: missing field `chain`\nhelp: fix the file: `#[derive(Model)]` compares every model with the snapshot that `migrator generate` writes"
    );
    // A message with its own help line keeps it.
    let errors = derive_errors(
        TASK,
        Err("migrator.toml:1:1: unknown field\nhelp: valid keys are …".into()),
    );
    assert!(
        errors[0].2.ends_with("\nhelp: valid keys are …"),
        "{errors:?}"
    );
    assert_eq!(errors[0].2.matches("help:").count(), 1);
}

#[test]
fn only_the_models_generate_reads_are_checked() {
    let dir = TempDir::new("sites");
    let root = &dir.0;
    write(
        &root.join("src/main.rs"),
        "mod models;\n#[cfg(test)]\nmod tests;\n\n#[derive(Model)]\nstruct Task {\n    id: i64,\n}\n\n#[cfg(test)]\nmod inline {\n    #[derive(Model)]\n    struct Scratch {\n        id: i64,\n    }\n    #[derive(Model)]\n    struct Task {\n        id: i64,\n    }\n}\n",
    );
    write(
        &root.join("src/models.rs"),
        "#[derive(Debug)]\nstruct NotAModel;\n\n#[derive(migrator::Model)]\npub struct User {\n    id: i64,\n}\n#[cfg(test)]\n#[derive(Model)]\nstruct Fake {\n    id: i64,\n}\n",
    );
    write(
        &root.join("src/tests.rs"),
        "#[derive(Model)]\nstruct Fixture {\n    id: i64,\n}\n",
    );
    write(
        &root.join("tests/it.rs"),
        "#[derive(Model)]\nstruct Outside {\n    id: i64,\n}\n",
    );
    let roots = [root.join("src")];
    let read = |file: &str, name: &str| read_by_generate(&roots, &root.join(file), name);
    assert!(read("src/models.rs", "User"));
    assert!(!read("src/models.rs", "NotAModel"));
    assert!(!read("src/models.rs", "Fake"), "a model under #[cfg(test)]");
    assert!(!read("src/main.rs", "Scratch"), "a model in a test module");
    // Both a test's `Task` and the app's: cannot tell which, not checked.
    assert!(!read("src/main.rs", "Task"), "an ambiguous name");
    assert!(!read("src/tests.rs", "Fixture"), "a test-only module file");
    assert!(!read("tests/it.rs", "Outside"), "outside the model folders");
    assert!(
        !read("src/missing.rs", "User"),
        "a file that does not exist"
    );
    assert!(!read("src/main.rs", "User"), "a model of another file");
    // A path that reaches the file another way is the same file.
    assert!(read("tests/../src/models.rs", "User"));
    // With the folder configured, the outside model is read too.
    assert!(read_by_generate(
        &[root.join("src"), root.join("tests")],
        &root.join("tests/it.rs"),
        "Outside"
    ));
    // The facts follow the file's text.
    write(
        &root.join("src/models.rs"),
        "#[derive(migrator::Model)]\npub struct Account {\n    id: i64,\n}\n",
    );
    assert!(!read("src/models.rs", "User"));
    assert!(read("src/models.rs", "Account"));
}

#[test]
fn load_knows_the_model_folders() {
    let dir = TempDir::new("roots");
    assert_eq!(
        load(&dir.0).expect("loads").model_roots,
        [dir.0.join("src")]
    );
    write(
        &dir.0.join("migrator.toml"),
        "models = [\"app\", \"lib/models\"]\n",
    );
    assert_eq!(
        load(&dir.0).expect("loads").model_roots,
        [dir.0.join("app"), dir.0.join("lib/models")]
    );
}

/// The expansions of one compilation share what the first read: the
/// configuration and the model folders are read again only after
/// [`FRESH`], and only the first expansion per crate tracks the files.
#[test]
fn expansions_share_what_the_first_one_read() {
    let dir = TempDir::new("shared");
    let root = &dir.0;
    write(&root.join("migrator.toml"), "models = [\"app\"]\n");
    write(
        &root.join("app/models.rs"),
        "#[cfg(test)]\nmod fixtures;\n#[derive(migrator::Model)]\npub struct User {\n    id: i64,\n}\n",
    );
    write(
        &root.join("app/models/fixtures.rs"),
        "#[derive(migrator::Model)]\npub struct Fixture {\n    id: i64,\n}\n",
    );
    // An hour's window for "within", none for "after": the test does not
    // depend on how fast the machine is.
    let hour = std::time::Duration::from_secs(3600);
    let none = std::time::Duration::ZERO;
    let roots_of = |fresh| load_shared_within(root, fresh).expect("loads").model_roots;
    assert_eq!(roots_of(hour), [root.join("app")]);
    let roots = [root.join("app")];
    let read = |file: &str, name: &str, fresh| {
        read_by_generate_within(&roots, &root.join(file), name, fresh)
    };
    assert!(read("app/models.rs", "User", hour));
    assert!(
        !read("app/models/fixtures.rs", "Fixture", hour),
        "a test-only module"
    );

    // Within the window, the configuration and the other files are not
    // read again...
    write(&root.join("migrator.toml"), "models = [\"src\"]\n");
    write(&root.join("app/models.rs"), "mod fixtures;\n");
    assert_eq!(roots_of(hour), [root.join("app")]);
    assert!(!read("app/models/fixtures.rs", "Fixture", hour));
    // ...but the struct's own file always is.
    assert!(!read("app/models.rs", "User", hour));
    // After it, everything is.
    assert_eq!(roots_of(none), [root.join("src")]);
    assert!(read("app/models/fixtures.rs", "Fixture", none));
    // The public functions use FRESH, a second.
    assert_eq!(FRESH, std::time::Duration::from_secs(1));
    assert!(read_by_generate(
        &roots,
        &root.join("app/models/fixtures.rs"),
        "Fixture"
    ));
    // The uncached `load` reads the files every time.
    write(&root.join("migrator.toml"), "models = [\"lib\"]\n");
    assert_eq!(load(root).expect("loads").model_roots, [root.join("lib")]);

    assert!(
        first_expansion(root),
        "the first expansion of a crate tracks the files"
    );
    assert!(!first_expansion(root), "the next ones do not");
    assert!(
        first_expansion(&root.join("other")),
        "another crate's first does"
    );
}

/// The expand form's in-between state: the struct has the new field with
/// `renamed_from` and keeps the old column; the snapshot has both. The
/// derive agrees with it, and a pending expansion (the snapshot without the
/// new column yet) is reported.
#[test]
fn an_expansion_in_between_matches_the_snapshot() {
    let during = model(
        r#"
#[model(table = "orders", keep = "qty")]
struct Order {
    #[model(primary_key, auto_increment)]
    id: i64,
    #[model(renamed_from = "qty")]
    quantity: i64,
}
"#,
    );
    let mut snap = Table::new("orders");
    let mut id = Column::new("id", ColumnType::BigInt);
    id.auto_increment = true;
    snap.columns = vec![id, Column::new("qty", ColumnType::Integer)];
    snap.primary_key = vec!["id".into()];
    let mut before = Schema::new();
    before.insert(snap.clone());
    assert!(
        !check(&during, &before).is_empty(),
        "the expansion is pending"
    );
    snap.columns
        .push(Column::new("quantity", ColumnType::BigInt));
    let mut between = Schema::new();
    between.insert(snap);
    assert_eq!(check(&during, &between), []);
}
