//! Drops that keep their data (docs/DESIGN.md §5, "Reversible"): a generated
//! migration that drops columns (NOT NULL without a default, nullable with
//! NULLs, with a default) and a table (with a foreign key of its own, and
//! one pointing at it) goes up, down and up on a table with rows, and the
//! downgrade restores every value exactly (the dropped columns' check and
//! index come back over the restored values: SQLite's table rebuild both
//! ways); rows the archive does not have
//! get the stated fill; identities continue after the restored keys; the
//! archives are internal (introspection equals the snapshot) and gone after
//! the downgrade; once purged, the downgrade still succeeds.

use migrator_core::dialect::Dialect;
use migrator_core::ops::Operation;
use migrator_core::runner::Migrator;

use super::scenario::TestDb;
use super::support::{expected, TestProject};

const V1: &str = r#"
use migrator::Model;

#[derive(Model)]
#[model(table = "users")]
pub struct User {
    #[model(primary_key, auto_increment)]
    pub id: i64,
    #[model(max_length = 100)]
    pub name: String,
}

#[derive(Model)]
#[model(table = "tasks", check = "score > -100", index = "note")]
pub struct Task {
    #[model(primary_key, auto_increment)]
    pub id: i64,
    #[model(foreign_key = "users.id")]
    pub user_id: i64,
    #[model(max_length = 100)]
    pub title: String,
    pub is_high_priority: bool,
    #[model(max_length = 100)]
    pub note: Option<String>,
    #[model(default = 5)]
    pub score: i32,
}

#[derive(Model)]
#[model(table = "tags")]
pub struct Tag {
    #[model(primary_key, auto_increment)]
    pub id: i64,
    #[model(foreign_key = "users.id")]
    pub user_id: i64,
    #[model(max_length = 100)]
    pub label: String,
    #[model(max_length = 100)]
    pub note: Option<String>,
}

#[derive(Model)]
#[model(table = "task_tags")]
pub struct TaskTag {
    #[model(primary_key, auto_increment)]
    pub id: i64,
    pub task_id: i64,
    #[model(foreign_key = "tags.id")]
    pub tag_id: i64,
}
"#;

const V2: &str = r#"
use migrator::Model;

#[derive(Model)]
#[model(table = "users")]
pub struct User {
    #[model(primary_key, auto_increment)]
    pub id: i64,
    #[model(max_length = 100)]
    pub name: String,
}

#[derive(Model)]
#[model(table = "tasks")]
pub struct Task {
    #[model(primary_key, auto_increment)]
    pub id: i64,
    #[model(foreign_key = "users.id")]
    pub user_id: i64,
    #[model(max_length = 100)]
    pub title: String,
    #[model(max_length = 20, default = "medium")]
    pub priority: String,
}

#[derive(Model)]
#[model(table = "task_tags")]
pub struct TaskTag {
    #[model(primary_key, auto_increment)]
    pub id: i64,
    pub task_id: i64,
    pub tag_id: i64,
}
"#;

fn project() -> TestProject {
    let p = TestProject::new();
    p.set_models(V1);
    p.generate("create").expect("a change");
    p.set_models(V2);
    let g = p.generate("priorities").expect("a change");
    // The file says what is kept and where, and generate's notes agree.
    for archive in [
        "_migrator_archive_0002_tasks__is_high_priority",
        "_migrator_archive_0002_tasks__note",
        "_migrator_archive_0002_tasks__score",
        "_migrator_archive_0002_tags",
    ] {
        assert!(
            g.migration_text.contains(archive),
            "{archive} missing from:\n{}",
            g.migration_text
        );
        assert!(
            g.plan.warnings.iter().any(|w| w.contains(archive)),
            "{archive} in no warning: {:?}",
            g.plan.warnings
        );
    }
    assert!(
        !g.plan.warnings.iter().any(|w| w.contains("deletes")),
        "{:?}",
        g.plan.warnings
    );
    p
}

/// A text column of `q`'s rows as the database prints it, NULL as `~`.
fn text(d: Dialect, expr: &str) -> String {
    let cast = match d {
        Dialect::Mysql => format!("CAST({expr} AS CHAR)"),
        _ => format!("CAST({expr} AS TEXT)"),
    };
    format!("COALESCE({cast}, '~')")
}

fn tasks(c: &mut impl TestDb) -> Vec<String> {
    let d = c.dialect();
    c.rows(&format!(
        "SELECT {} AS a, CASE WHEN is_high_priority THEN 'T' ELSE 'F' END AS b, {} AS c, {} AS d FROM tasks ORDER BY id",
        text(d, "id"),
        text(d, "note"),
        text(d, "score")
    ))
    .into_iter()
    .map(|r| format!("{} {} {} {}", r.a, r.b, r.c, r.d))
    .collect()
}

fn tags(c: &mut impl TestDb) -> Vec<String> {
    let d = c.dialect();
    c.rows(&format!(
        "SELECT {} AS a, {} AS b, {} AS c, {} AS d FROM tags ORDER BY id",
        text(d, "id"),
        text(d, "user_id"),
        text(d, "label"),
        text(d, "note")
    ))
    .into_iter()
    .map(|r| format!("{} {} {} {}", r.a, r.b, r.c, r.d))
    .collect()
}

fn archives(c: &mut impl TestDb) -> usize {
    migrator_core::runner::archive::list(c)
        .expect("archives listed")
        .len()
}

fn assert_at(set: &migrator_core::migration::MigrationSet, c: &mut impl TestDb, v: u32) {
    assert_eq!(c.shape(), expected(&set.state(v as usize)), "after {v}");
    let live = migrator_core::introspect::schema(c).expect("introspects");
    let want = migrator_core::introspect::expected(c, &set.state(v as usize)).expect("expected");
    assert_eq!(live.schema, want, "introspection after {v}");
    assert!(live.outside.is_empty(), "after {v}: {:?}", live.outside);
}

pub fn drops_keep_their_data<C: TestDb>(c: &mut C) {
    let p = project();
    let set = p.set();
    let m = set.get(2).expect("0002");
    assert!(
        m.file
            .upgrade
            .iter()
            .filter(|op| matches!(op, Operation::Archived(_)))
            .count()
            == 4,
        "{:?}",
        m.file.upgrade
    );
    Migrator::new(&set).up_to(c, Some(1)).expect("up to 1");
    c.execute(
        "INSERT INTO users (id, name) VALUES (1, 'ann'), (2, 'bob');
         INSERT INTO tasks (id, user_id, title, is_high_priority, note, score) VALUES
           (1, 1, 'a', TRUE, NULL, 5), (2, 1, 'b', FALSE, 'n''2', 7), (3, 2, 'c', TRUE, 'x', -1);
         INSERT INTO tags (id, user_id, label, note) VALUES (1, 1, 'red', NULL), (2, 2, 'blue', 'b');
         INSERT INTO task_tags (id, task_id, tag_id) VALUES (1, 1, 1), (2, 3, 2)",
    )
    .expect("seed rows");
    let tasks_before = tasks(c);
    let tags_before = tags(c);
    assert_eq!(
        tasks_before,
        ["1 T ~ 5", "2 F n'2 7", "3 T x -1"],
        "seeded rows"
    );

    for round in 0..2 {
        Migrator::new(&set)
            .up_to(c, Some(2))
            .unwrap_or_else(|e| panic!("round {round}: up: {e}"));
        assert_at(&set, c, 2);
        assert_eq!(archives(c), 4, "round {round}: the archives after up");
        // A row the archive does not have.
        c.execute("INSERT INTO tasks (id, user_id, title) VALUES (4, 2, 'new')")
            .expect("a row after the upgrade");
        Migrator::new(&set)
            .down_to(c, 1)
            .unwrap_or_else(|e| panic!("round {round}: down: {e}"));
        assert_at(&set, c, 1);
        let mut want = tasks_before.clone();
        // The fill (`false`) and the default (5); the nullable column is NULL.
        want.push("4 F ~ 5".into());
        assert_eq!(tasks(c), want, "round {round}: values restored");
        assert_eq!(
            tags(c),
            tags_before,
            "round {round}: the table's rows restored"
        );
        assert_eq!(
            archives(c),
            0,
            "round {round}: archives dropped by the downgrade"
        );
        // The restored table's identity continues after its keys, and the
        // foreign key pointing at it holds.
        c.execute("INSERT INTO tags (user_id, label) VALUES (1, 'green')")
            .expect("an insert with a database-assigned key");
        // (Greater, not "the next": a Galera node hands out keys in steps
        // of the cluster's size.)
        let ids = tags(c);
        let id = |row: &String| {
            row.split(' ')
                .next()
                .and_then(|n| n.parse::<i64>().ok())
                .expect("an id")
        };
        let new_id = ids
            .iter()
            .find(|r| r.contains(" green"))
            .map(id)
            .expect("the new row");
        assert!(
            tags_before.iter().all(|r| id(r) < new_id),
            "{ids:?}: the new key does not continue after the restored ones"
        );
        assert!(
            c.execute("INSERT INTO task_tags (id, task_id, tag_id) VALUES (9, 1, 99)")
                .is_err(),
            "the foreign key to the restored table is back"
        );
        c.execute("DELETE FROM tags WHERE label = 'green'; DELETE FROM tasks WHERE id = 4")
            .expect("cleanup");
    }

    // Purged archives: the downgrade still succeeds, with the fill and the
    // defaults, and an empty table.
    Migrator::new(&set).up_to(c, Some(2)).expect("up");
    // Rows pointing at tags that will not come back would fail the
    // foreign key the downgrade adds again.
    c.execute("DELETE FROM task_tags").expect("cleanup");
    let purged = migrator_core::runner::archive::purge(c).expect("purge");
    assert_eq!(purged.len(), 4, "{purged:?}");
    assert_eq!(archives(c), 0);
    Migrator::new(&set)
        .down_to(c, 1)
        .expect("down without archives");
    assert_at(&set, c, 1);
    assert_eq!(tasks(c), ["1 F ~ 5", "2 F ~ 5", "3 F ~ 5"]);
    assert_eq!(tags(c), Vec::<String>::new());
}
