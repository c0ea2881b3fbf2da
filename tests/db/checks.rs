//! Check constraints named by their expression (`ck_<table>_<hash>`):
//! adding a check in front of another changes nothing about the other, and
//! a project whose snapshot still has the numbered names (`ck_tasks_1`)
//! keeps them: `generate` adds only the new check, which applies on a table
//! with rows.

use migrator_core::ops::Operation;
use migrator_core::runner::Migrator;

use super::scenario::TestDb;
use super::support::{expected, TestProject};

const ONE: &str = r#"
use migrator::Model;

#[derive(Model)]
#[model(table = "tasks", check = "length(title) > 0")]
pub struct Task {
    #[model(primary_key)]
    pub id: i64,
    #[model(max_length = 100)]
    pub title: String,
    pub score: i32,
}
"#;

pub fn a_new_check_touches_no_other<C: TestDb>(c: &mut C) {
    let p = TestProject::new();
    p.set_models(ONE);
    p.generate("create").expect("a change");
    // The file and snapshot as an older release wrote them: the check
    // numbered.
    let path = p.migrations_dir().join("0001_create.toml");
    let numbered = |text: String| {
        text.replace(
            &migrator_core::schema::naming::check("tasks", "length(title) > 0"),
            "ck_tasks_1",
        )
    };
    let text = std::fs::read_to_string(&path).expect("read");
    assert!(text.contains("ck_tasks_"), "{text}");
    std::fs::write(&path, numbered(text)).expect("write");
    let snapshot = std::fs::read_to_string(p.project().snapshot_path()).expect("snapshot");
    std::fs::write(p.project().snapshot_path(), numbered(snapshot)).expect("write");
    let rehashed = p.project().rehash().expect("rehash");
    std::fs::write(p.project().snapshot_path(), rehashed).expect("write");
    assert!(
        p.project().generate("nothing").expect("generate").is_none(),
        "the numbered name is kept"
    );

    p.set_models(&ONE.replace(
        "check = \"length(title) > 0\")",
        "check = \"score >= 0\", check = \"length(title) > 0\")",
    ));
    let g = p.generate("score_check").expect("a change");
    assert!(
        matches!(&g.plan.upgrade[..], [Operation::AddCheck { check, .. }] if check.expr == "score >= 0"),
        "only the new check: {:?}",
        g.plan.upgrade
    );
    assert!(
        g.snapshot_text.contains("ck_tasks_1"),
        "{}",
        g.snapshot_text
    );
    let set = p.set();
    Migrator::new(&set).up_to(c, Some(1)).expect("up to 1");
    c.execute("INSERT INTO tasks (id, title, score) VALUES (1, 'a', 1)")
        .expect("a row");
    Migrator::new(&set).up(c).expect("up");
    assert_eq!(c.shape(), expected(&set.state(2)));
    let live = migrator_core::introspect::schema(c).expect("introspects");
    let want = migrator_core::introspect::expected(c, &set.state(2)).expect("expected");
    assert_eq!(live.schema, want);
    assert!(
        c.execute("INSERT INTO tasks (id, title, score) VALUES (2, '', 1)")
            .is_err(),
        "the old check still holds"
    );
}
