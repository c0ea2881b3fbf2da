//! `Migrator::resolve` (`migrator resolve N --applied|--rolled-back`): a
//! migration left PARTIAL (a `transaction = false` migration whose second
//! statement fails) is settled by hand: rolled back (its row removed, the
//! next `up` runs it from the start) or applied (the next `up` goes on),
//! each recorded with who and when; anything but a PARTIAL row is refused
//! with nothing changed.

use migrator_core::runner::resolve::{Resolution, RESOLUTIONS_TABLE};
use migrator_core::runner::Migrator;

use super::scenario::TestDb;
use super::support::TestProject;

fn history(c: &mut impl TestDb) -> Vec<String> {
    let d = c.dialect();
    let text = |e: &str| match d {
        migrator_core::dialect::Dialect::Mysql => format!("CAST({e} AS CHAR)"),
        _ => format!("CAST({e} AS TEXT)"),
    };
    c.rows(&format!(
        "SELECT {} AS a, {} AS b, {} AS c, '' AS d FROM _migrator_history ORDER BY version",
        text("version"),
        text("state"),
        text("steps_done")
    ))
    .into_iter()
    .map(|r| format!("{} {} {}", r.a, r.b, r.c))
    .collect()
}

pub fn partial_migrations_are_resolved<C: TestDb>(c: &mut C) {
    let p = TestProject::new();
    p.raw_migrations(&[(
        "half",
        &[
            (
                "CREATE TABLE IF NOT EXISTS half_done (id INTEGER)",
                "DROP TABLE IF EXISTS half_done",
            ),
            ("INSERT INTO no_such_table VALUES (1)", "SELECT 1"),
        ],
    )]);
    p.edit_and_rehash("0001_half.toml", |f| f.transaction = false);
    let set = p.set();
    let m = Migrator::new(&set);
    m.up(c).expect_err("statement 2 fails");
    assert_eq!(history(c), ["1 partial 1"]);

    let err = m
        .resolve(c, 2, Resolution::Applied, "alice")
        .expect_err("no row");
    assert!(err.to_string().contains("nothing to resolve"), "{err}");

    let line = m
        .resolve(c, 1, Resolution::RolledBack, "alice")
        .expect("resolved");
    assert!(
        line.contains("0001_half") && line.contains("alice"),
        "{line}"
    );
    assert_eq!(history(c), Vec::<String>::new(), "the row is gone");

    m.up(c).expect_err("runs from its start and fails again");
    assert_eq!(history(c), ["1 partial 1"]);
    m.resolve(c, 1, Resolution::Applied, "bob")
        .expect("resolved");
    assert_eq!(history(c), ["1 applied 1"]);
    assert!(m.up(c).expect("nothing to do").done.is_empty());
    let err = m
        .resolve(c, 1, Resolution::RolledBack, "bob")
        .expect_err("applied, not partial");
    assert!(err.to_string().contains("not partial"), "{err}");
    assert_eq!(history(c), ["1 applied 1"], "unchanged");

    let record: Vec<String> = c
        .rows(&format!(
            "SELECT resolution AS a, resolved_by AS b, {} AS c, '' AS d FROM {RESOLUTIONS_TABLE} ORDER BY resolved_at, resolution DESC",
            match c.dialect() {
                migrator_core::dialect::Dialect::Mysql => "CAST(steps_done AS CHAR)",
                _ => "CAST(steps_done AS TEXT)",
            }
        ))
        .into_iter()
        .map(|r| format!("{} {} {}", r.a, r.b, r.c))
        .collect();
    assert_eq!(record, ["rolled-back alice 1", "applied bob 1"]);
    let live = migrator_core::introspect::schema(c).expect("introspects");
    assert!(
        !live.schema.tables.contains_key(RESOLUTIONS_TABLE),
        "the record is migrator's own table"
    );
}
