//! A column that becomes NOT NULL (docs/DESIGN.md §5, "Atomic"): with a row
//! still holding NULL the migration is refused before it changes anything
//! (the foreign key it also drops is still there, no history row, nothing
//! partial), and runs once the NULLs are filled; where the field has a
//! default, `generate` writes a backfill step that fills them first.

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
}

#[derive(Model)]
#[model(table = "tasks")]
pub struct Task {
    #[model(primary_key, auto_increment)]
    pub id: i64,
    #[model(foreign_key = "users.id")]
    pub user_id: i64,
    #[model(max_length = 50)]
    pub note: Option<String>,
}
"#;

fn v2(default: &str) -> String {
    V1.replace("#[model(foreign_key = \"users.id\")]\n    ", "")
        .replace(
            "#[model(max_length = 50)]\n    pub note: Option<String>,",
            &format!("#[model(max_length = 50{default})]\n    pub note: String,"),
        )
}

fn project(default: &str) -> TestProject {
    let p = TestProject::new();
    p.set_models(V1);
    p.generate("create").expect("a change");
    p.set_models(&v2(default));
    p.generate("note_required").expect("a change");
    p
}

fn seed(c: &mut impl TestDb) {
    c.execute(
        "INSERT INTO users (id) VALUES (1);
         INSERT INTO tasks (id, user_id, note) VALUES (1, 1, 'a'), (2, 1, NULL)",
    )
    .expect("rows");
}

pub fn nulls_refuse_before_anything_changes<C: TestDb>(c: &mut C) {
    let p = project("");
    let set = p.set();
    Migrator::new(&set).up_to(c, Some(1)).expect("up to 1");
    seed(c);
    let err = Migrator::new(&set)
        .up(c)
        .expect_err("a NULL is left: refused")
        .to_string();
    assert!(
        err.contains("refused before changing anything")
            && err.contains("`tasks.note` NOT NULL")
            && err.contains("backfill"),
        "{err}"
    );
    // Nothing changed: the foreign key the migration drops first is there.
    assert_eq!(c.shape(), expected(&set.state(1)), "unchanged");
    assert_eq!(
        c.count_rows("SELECT 1 FROM _migrator_history WHERE version = 2")
            .expect("history"),
        0,
        "no history row, nothing partial"
    );
    c.execute("UPDATE tasks SET note = 'b' WHERE note IS NULL")
        .expect("fill");
    Migrator::new(&set).up(c).expect("up once filled");
    assert_eq!(c.shape(), expected(&set.state(2)));
}

pub fn generate_backfills_with_the_default<C: TestDb>(c: &mut C) {
    let p = project(", default = \"none\"");
    let set = p.set();
    let m = set.get(2).expect("0002");
    assert!(
        m.file.upgrade.iter().any(
            |op| matches!(op, Operation::Backfill(b) if b.set == "note = 'none'" && b.predicate == "note IS NULL")
        ),
        "{:?}",
        m.file.upgrade
    );
    Migrator::new(&set).up_to(c, Some(1)).expect("up to 1");
    seed(c);
    Migrator::new(&set)
        .up(c)
        .expect("the backfill fills the NULL first");
    assert_eq!(c.shape(), expected(&set.state(2)));
    assert_eq!(
        c.count_rows("SELECT 1 FROM tasks WHERE id = 2 AND note = 'none'")
            .expect("count"),
        1
    );
    Migrator::new(&set).down_to(c, 1).expect("down");
    assert_eq!(c.shape(), expected(&set.state(1)));
}

/// Without a default, `generate` writes a placeholder backfill first
/// (`note = NULL`): `lint` refuses it (unfilled-backfill), `up` on a table
/// holding a NULL there refuses before changing anything (no PARTIAL row);
/// once its value is written, `up` fills the NULLs and makes the change.
pub fn placeholder_backfill_until_filled<C: TestDb>(c: &mut C) {
    let p = project("");
    let set = p.set();
    let m = set.get(2).expect("0002");
    assert!(
        matches!(&m.file.upgrade[0], Operation::Backfill(b) if b.set == "note = NULL" && b.predicate == "note IS NULL"),
        "{:?}",
        m.file.upgrade
    );
    let findings = migrator_core::lint::lint_set(&set, &[], &[]);
    assert!(
        findings
            .iter()
            .any(|f| f.rule.name == "unfilled-backfill" && f.file == m.file_name && f.step == 1),
        "{findings:?}"
    );
    Migrator::new(&set).up_to(c, Some(1)).expect("up to 1");
    seed(c);
    let err = Migrator::new(&set)
        .up(c)
        .expect_err("placeholder")
        .to_string();
    assert!(err.contains("still the placeholder"), "{err}");
    assert_eq!(c.shape(), expected(&set.state(1)), "unchanged");
    assert_eq!(
        c.count_rows("SELECT 1 FROM _migrator_history WHERE version = 2")
            .expect("history"),
        0,
        "nothing partial"
    );
    let file = m.file_name.clone();
    p.edit_and_rehash(&file, |f| {
        for op in &mut f.upgrade {
            if let Operation::Backfill(b) = op {
                b.set = "note = 'filled'".into();
            }
        }
    });
    let set = p.set();
    assert!(!migrator_core::lint::lint_set(&set, &[], &[])
        .iter()
        .any(|f| f.rule.name == "unfilled-backfill"));
    Migrator::new(&set).up(c).expect("filled: up");
    assert_eq!(c.shape(), expected(&set.state(2)));
    assert_eq!(
        c.count_rows("SELECT 1 FROM tasks WHERE id = 2 AND note = 'filled'")
            .expect("count"),
        1
    );
}
