//! SQLite table rebuilds keep what the model does not describe: the
//! triggers on the rebuilt table are recreated from their saved definitions,
//! views that name it keep working, and a rebuild that fails halfway leaves
//! both as they were.

use diesel::connection::SimpleConnection;
use diesel::sqlite::SqliteConnection;
use migrator_core::ops::{Operation, RawSql, SqlVariants};
use migrator_core::runner::Migrator;

use super::support::{rows_sqlite, TestProject};

const V1: &str = r#"
use migrator::Model;

#[derive(Model)]
#[model(table = "parents")]
pub struct Parent {
    #[model(primary_key, auto_increment)]
    pub id: i64,
}

#[derive(Model)]
#[model(table = "items")]
pub struct Item {
    #[model(primary_key, auto_increment)]
    pub id: i64,
    #[model(foreign_key = "parents.id")]
    pub parent_id: Option<i64>,
    pub name: String,
    pub qty: i64,
}
"#;

/// Drops `parent_id`, which has a foreign key: SQLite's DROP COLUMN refuses,
/// so the table is rebuilt.
const V2: &str = r#"
use migrator::Model;

#[derive(Model)]
#[model(table = "parents")]
pub struct Parent {
    #[model(primary_key, auto_increment)]
    pub id: i64,
}

#[derive(Model)]
#[model(table = "items")]
pub struct Item {
    #[model(primary_key, auto_increment)]
    pub id: i64,
    pub name: String,
    pub qty: i64,
}
"#;

/// A trigger on `items` that logs every insert, a second one on updates,
/// and a view over `items`, none of them in the model.
const EXTRAS: &str = "
CREATE TABLE item_log (note TEXT NOT NULL);
CREATE TRIGGER items_log_insert AFTER INSERT ON items BEGIN INSERT INTO item_log (note) VALUES ('insert ' || new.name); END;
CREATE TRIGGER items_log_update AFTER UPDATE OF qty ON items BEGIN INSERT INTO item_log (note) VALUES ('qty ' || new.name || ' ' || new.qty); END;
CREATE VIEW item_names AS SELECT id, name FROM items;
";

fn one(c: &mut SqliteConnection, q: &str) -> String {
    rows_sqlite(
        c,
        &format!("SELECT CAST(({q}) AS TEXT) AS a, '' AS b, '' AS c, '' AS d"),
    )
    .remove(0)
    .a
}

fn triggers(c: &mut SqliteConnection) -> String {
    one(
        c,
        "SELECT group_concat(name, ',') FROM (SELECT name FROM sqlite_master WHERE type = 'trigger' ORDER BY name)",
    )
}

fn project(second: Option<Operation>) -> TestProject {
    let p = TestProject::new();
    p.set_models(V1);
    p.generate("create").expect("a change");
    p.set_models(V2);
    let g = p.generate("drop_parent").expect("a change");
    if let Some(op) = second {
        p.edit_and_rehash(&g.file_name, |f| {
            f.upgrade.push(op);
            f.downgrade = migrator_core::ops::inverse_all(&f.upgrade);
        });
    }
    p
}

fn setup(c: &mut SqliteConnection, p: &TestProject) {
    let set = p.set();
    Migrator::new(&set).up_to(c, Some(1)).expect("0001 applies");
    c.batch_execute(EXTRAS).expect("trigger, view");
    c.batch_execute("INSERT INTO parents (id) VALUES (1); INSERT INTO items (parent_id, name, qty) VALUES (1, 'a', 1), (NULL, 'b', 2)")
        .expect("rows");
    assert_eq!(one(c, "SELECT COUNT(*) FROM item_log"), "2");
}

/// The rebuild keeps both triggers, in working order, and the view.
pub fn triggers_and_views_survive(c: &mut SqliteConnection) {
    let p = project(None);
    setup(c, &p);
    let set = p.set();
    let sql = set
        .render(
            migrator_core::dialect::Dialect::Sqlite,
            2,
            migrator_core::migration::Direction::Up,
        )
        .expect("renders")
        .into_iter()
        .flatten()
        .map(|s| s.to_string())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(sql.contains("_migrator_new_items"), "a rebuild: {sql}");
    assert!(
        sql.contains("-- runs each statement this query returns, in order:"),
        "the trigger replay is shown: {sql}"
    );
    Migrator::new(&set).up(c).expect("0002 applies");

    assert_eq!(
        one(
            c,
            "SELECT COUNT(*) FROM pragma_table_info('items') WHERE name = 'parent_id'"
        ),
        "0",
        "the column is gone"
    );
    assert_eq!(triggers(c), "items_log_insert,items_log_update");
    // The recreated triggers fire on the new table.
    c.batch_execute(
        "INSERT INTO items (name, qty) VALUES ('c', 3); UPDATE items SET qty = 5 WHERE name = 'a'",
    )
    .expect("writes");
    assert_eq!(
        one(
            c,
            "SELECT group_concat(note, '|') FROM (SELECT note FROM item_log ORDER BY rowid)"
        ),
        "insert a|insert b|insert c|qty a 5"
    );
    assert_eq!(
        one(
            c,
            "SELECT group_concat(name, ',') FROM (SELECT name FROM item_names ORDER BY id)"
        ),
        "a,b,c",
        "the view reads the new table"
    );
    assert_eq!(
        one(
            c,
            "SELECT COUNT(*) FROM temp.sqlite_master WHERE name = '_migrator_saved_triggers'"
        ),
        "1"
    );
    assert_eq!(
        one(c, "SELECT COUNT(*) FROM temp._migrator_saved_triggers"),
        "0",
        "nothing is left saved"
    );
    assert_eq!(
        one(c, "SELECT * FROM pragma_legacy_alter_table"),
        "0",
        "the legacy rename is switched back off"
    );

    // Down rebuilds again (the column comes back), triggers included.
    Migrator::new(&set).down_to(c, 1).expect("0002 reverts");
    assert_eq!(triggers(c), "items_log_insert,items_log_update");
    c.batch_execute("INSERT INTO items (name, qty) VALUES ('d', 4)")
        .expect("insert");
    assert_eq!(one(c, "SELECT COUNT(*) FROM item_log"), "5");
}

/// A failure after the drop of the old table rolls the whole rebuild back:
/// the table, its column and its triggers are as before.
pub fn failed_rebuild_keeps_triggers(c: &mut SqliteConnection) {
    let p = project(Some(Operation::Sql(RawSql {
        sql: Some("INSERT INTO no_such_table VALUES (1)".into()),
        reverse: Some(SqlVariants {
            sql: Some("SELECT 1".into()),
            ..Default::default()
        }),
        ..Default::default()
    })));
    setup(c, &p);
    let set = p.set();
    let err = Migrator::new(&set).up(c).expect_err("the raw step fails");
    assert!(err.to_string().contains("no_such_table"), "{err}");
    assert_eq!(
        one(
            c,
            "SELECT COUNT(*) FROM pragma_table_info('items') WHERE name = 'parent_id'"
        ),
        "1",
        "the rebuild was rolled back"
    );
    assert_eq!(triggers(c), "items_log_insert,items_log_update");
    c.batch_execute("INSERT INTO items (parent_id, name, qty) VALUES (1, 'z', 9)")
        .expect("insert");
    assert_eq!(one(c, "SELECT COUNT(*) FROM item_log"), "3", "still fires");
    assert_eq!(
        one(
            c,
            "SELECT COUNT(*) FROM sqlite_master WHERE name LIKE '_migrator_new_%'"
        ),
        "0"
    );
}

/// A view that uses the column the rebuild removes would break silently: the
/// migration fails instead, and is rolled back.
pub fn view_on_removed_column_fails_the_rebuild(c: &mut SqliteConnection) {
    let p = project(None);
    setup(c, &p);
    c.batch_execute("CREATE VIEW item_parents AS SELECT id, parent_id FROM items")
        .expect("view");
    let set = p.set();
    let err = Migrator::new(&set).up(c).expect_err("the view check fails");
    let msg = err.to_string();
    assert!(msg.contains("item_parents"), "{msg}");
    assert!(msg.contains("rolled back"), "{msg}");
    assert_eq!(
        one(
            c,
            "SELECT COUNT(*) FROM pragma_table_info('items') WHERE name = 'parent_id'"
        ),
        "1"
    );
    assert_eq!(triggers(c), "items_log_insert,items_log_update");
}

/// `sql` of `name` in `sqlite_master`, or an empty text.
fn definition(c: &mut SqliteConnection, name: &str) -> String {
    one(
        c,
        &format!("SELECT COALESCE((SELECT sql FROM sqlite_master WHERE name = '{name}'), '')"),
    )
}

/// Indexes the model does not describe (partial, expression, collated) are
/// saved and recreated by the rebuild with their exact definitions, up and
/// down; one that needs the removed column fails the migration, which is
/// rolled back with every index in place.
pub fn indexes_outside_the_model_survive(c: &mut SqliteConnection) {
    let p = project(None);
    setup(c, &p);
    let extra = [
        (
            "items_named",
            "CREATE INDEX items_named ON items (name) WHERE qty > 0",
        ),
        (
            "items_lower",
            "CREATE INDEX items_lower ON items (lower(name), qty DESC)",
        ),
        (
            "items_nocase",
            "CREATE UNIQUE INDEX items_nocase ON items (name COLLATE NOCASE)",
        ),
    ];
    for (_, sql) in extra {
        c.batch_execute(sql).expect("index");
    }
    let set = p.set();
    Migrator::new(&set).up(c).expect("0002 applies");
    for (name, sql) in extra {
        assert_eq!(definition(c, name), sql, "{name} after up");
    }
    // The unique index still holds, case-insensitively, on the new table.
    let dup = c.batch_execute("INSERT INTO items (name, qty) VALUES ('A', 1)");
    assert!(
        dup.is_err(),
        "items_nocase must still refuse 'A' next to 'a'"
    );
    Migrator::new(&set).down_to(c, 1).expect("0002 reverts");
    for (name, sql) in extra {
        assert_eq!(definition(c, name), sql, "{name} after down");
    }

    // An index of the column that 0002 removes cannot be recreated.
    c.batch_execute(
        "CREATE INDEX items_with_parent ON items (parent_id) WHERE parent_id IS NOT NULL",
    )
    .expect("index");
    let err = Migrator::new(&set)
        .up(c)
        .expect_err("the index needs parent_id");
    let msg = err.to_string();
    assert!(msg.contains("items_with_parent"), "{msg}");
    assert!(msg.contains("rolled back"), "{msg}");
    assert_eq!(
        one(
            c,
            "SELECT COUNT(*) FROM pragma_table_info('items') WHERE name = 'parent_id'"
        ),
        "1"
    );
    for (name, sql) in extra {
        assert_eq!(definition(c, name), sql, "{name} after the failed up");
    }
}

/// What a rebuild cannot carry over (the table is created from the model)
/// is named and the migration refused before anything changes: the table's
/// definition, its rows and the history are as they were.
pub fn rebuild_refuses_what_it_would_lose(c: &mut SqliteConnection) {
    let p = project(None);
    setup(c, &p);
    let set = p.set();
    // `items` as the model has it, plus one thing the model does not
    // describe, and the word that must appear in the refusal.
    let cases = [
        (
            "CREATE TABLE items (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parents (id), name TEXT NOT NULL COLLATE NOCASE, qty INTEGER NOT NULL)",
            "COLLATE",
        ),
        (
            "CREATE TABLE items (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parents (id), name TEXT NOT NULL, qty INTEGER NOT NULL) WITHOUT ROWID",
            "WITHOUT ROWID",
        ),
        (
            "CREATE TABLE items (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parents (id), name TEXT NOT NULL, qty INTEGER NOT NULL) STRICT",
            "STRICT",
        ),
        (
            "CREATE TABLE items (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parents (id), name TEXT NOT NULL, qty INTEGER NOT NULL, note TEXT)",
            "column 'note'",
        ),
        (
            "CREATE TABLE items (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parents (id), name TEXT NOT NULL, qty INTEGER NOT NULL, twice INTEGER GENERATED ALWAYS AS (qty * 2) STORED)",
            "generated column 'twice'",
        ),
        (
            "CREATE TABLE items (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parents (id), name TEXT NOT NULL, qty INTEGER NOT NULL CHECK (qty >= 0))",
            "CHECK constraint",
        ),
        (
            "CREATE TABLE items (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parents (id), name TEXT NOT NULL, qty INTEGER NOT NULL DEFAULT 7)",
            "the default 7 of column 'qty'",
        ),
        (
            "CREATE TABLE items (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parents (id), name TEXT NOT NULL, qty INTEGER NOT NULL REFERENCES parents (id))",
            "a foreign key (qty) to 'parents'",
        ),
    ];
    for (create, lost) in cases {
        c.batch_execute(&format!(
            "PRAGMA foreign_keys = OFF; DROP TABLE items; {create}; INSERT INTO items (id, parent_id, name, qty) VALUES (1, 1, 'a', 1), (2, NULL, 'b', 2); PRAGMA foreign_keys = ON"
        ))
        .expect("the hand-made table");
        let err = Migrator::new(&set)
            .up(c)
            .expect_err("the rebuild would lose something");
        let msg = err.to_string();
        assert!(
            msg.contains("refused before changing anything"),
            "{create}: {msg}"
        );
        assert!(msg.contains(lost), "{create}: `{lost}` not named in: {msg}");
        assert_eq!(definition(c, "items"), create, "the table is unchanged");
        assert_eq!(
            one(
                c,
                "SELECT group_concat(name || qty, ',') FROM (SELECT * FROM items ORDER BY id)"
            ),
            "a1,b2",
            "{create}: the rows are unchanged"
        );
        assert_eq!(
            one(c, "SELECT COUNT(*) FROM _migrator_history"),
            "1",
            "{create}: 0002 is not recorded"
        );
    }
}

/// A foreign key declared without a name (as in a table the tool did not
/// create) is dropped by the rebuild: the guard recognises it by columns,
/// referenced table and actions, not by the name only the snapshot has.
pub fn unnamed_foreign_key_is_dropped(c: &mut SqliteConnection) {
    let p = project(None);
    setup(c, &p);
    let set = p.set();
    c.batch_execute(
        "PRAGMA foreign_keys = OFF; DROP TABLE items; CREATE TABLE items (id INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL, parent_id BIGINT REFERENCES parents (id), name TEXT NOT NULL, qty BIGINT NOT NULL); INSERT INTO items (id, parent_id, name, qty) VALUES (1, 1, 'a', 1), (2, NULL, 'b', 2); PRAGMA foreign_keys = ON",
    )
    .expect("the hand-made table");
    Migrator::new(&set).up(c).expect("0002 applies");
    assert_eq!(
        one(c, "SELECT COUNT(*) FROM pragma_foreign_key_list('items')"),
        "0",
        "the unnamed foreign key is gone"
    );
    assert_eq!(
        one(
            c,
            "SELECT COUNT(*) FROM pragma_table_info('items') WHERE name = 'parent_id'"
        ),
        "0"
    );
    assert_eq!(
        one(
            c,
            "SELECT group_concat(name || qty, ',') FROM (SELECT * FROM items ORDER BY id)"
        ),
        "a1,b2"
    );
}
