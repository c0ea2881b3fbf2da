//! `embed_migrations!` and `#[migration]` end to end.
//!
//! - "embedded equals runtime": the macro and `MigrationSet::load` see the
//!   same migrations, checksums, operations and states (docs/DESIGN.md §7.11);
//! - Rust steps run in order with the SQL of their migration, inside its
//!   transaction, on SQLite and PostgreSQL (mandatory under CI=true); a
//!   failing or panicking step rolls the whole migration back;
//! - a set loaded from files (the CLI's) refuses Rust steps before running
//!   anything;
//! - diesel_migrations' harness runs the embedded migrations.
//!
//! The fixture `tests/fixtures/migrations` was written by `migrator
//! generate` (0001 creates `items`, 0002 indexes `score`); 0002 was then
//! edited to insert a seed row and call `steps::score_items` before the
//! index, and recorded with `migrator rehash`.

#[allow(dead_code)]
#[path = "db/support.rs"]
mod support;

use std::path::Path;

use diesel::sql_types::{BigInt, Text};
use diesel::{QueryableByName, RunQueryDsl};
use migrator::migration::checksum;
use migrator::runner::{MigrationConnection, RunError};
use migrator::{EmbeddedMigrations, MigrationSet, Migrator};

static MIGRATIONS: EmbeddedMigrations = migrator::embed_migrations!("tests/fixtures/migrations");
static TODO: EmbeddedMigrations = migrator::embed_migrations!("examples/todo/migrations");
/// Written by `migrator generate`: 0002 drops a NOT NULL column, kept.
static KEPT: EmbeddedMigrations = migrator::embed_migrations!("tests/fixtures/kept");
/// `examples/todo/migrations` after `migrator squash --to 5`.
static SQUASHED: EmbeddedMigrations = migrator::embed_migrations!("tests/fixtures/squashed");

/// The Rust steps the fixture names.
mod steps {
    use diesel::pg::PgConnection;
    use diesel::sqlite::SqliteConnection;
    use migrator::{Dialect, RustStepContext, RustStepResult};

    use super::count;

    /// Scores every item by the length of its name. Refuses (an error) when
    /// an item is called `boom`, panics when one is called `panic`: the
    /// tests use them to check the rollback.
    #[migrator::migration]
    pub fn score_items(ctx: &mut RustStepContext<'_>) -> RustStepResult {
        // A typed query through the concrete diesel connection.
        let q = "SELECT COUNT(*) AS n FROM items WHERE name = 'boom'";
        let boom = match ctx.dialect() {
            Dialect::Sqlite => count(ctx.connection::<SqliteConnection>().ok_or("not sqlite")?, q)?,
            Dialect::Postgres => count(ctx.connection::<PgConnection>().ok_or("not pg")?, q)?,
            Dialect::Mysql => return Err("no MySQL here".into()),
        };
        if boom > 0 {
            return Err("an item is called boom".into());
        }
        let q = "SELECT COUNT(*) AS n FROM items WHERE name = 'panic'";
        if let Some(c) = ctx.connection::<SqliteConnection>() {
            assert!(count(c, q)? == 0, "an item is called panic");
        }
        ctx.execute("UPDATE items SET score = LENGTH(name)")?;
        Ok(())
    }

    /// Undoes `score_items`.
    #[migrator::migration]
    pub fn unscore_items(ctx: &mut RustStepContext<'_>) -> RustStepResult {
        ctx.execute("UPDATE items SET score = 0")?;
        Ok(())
    }
}

#[derive(QueryableByName)]
struct N {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName, Debug, PartialEq)]
struct Item {
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = BigInt)]
    score: i64,
}

fn count<C>(conn: &mut C, query: &str) -> diesel::QueryResult<i64>
where
    C: diesel::Connection,
    diesel::query_builder::SqlQuery: diesel::query_dsl::LoadQuery<'static, C, N>,
{
    Ok(diesel::sql_query(query).get_result::<N>(conn)?.n)
}

fn items<C>(conn: &mut C) -> Vec<(String, i64)>
where
    C: diesel::Connection,
    diesel::query_builder::SqlQuery: diesel::query_dsl::LoadQuery<'static, C, Item>,
{
    diesel::sql_query("SELECT name, CAST(score AS BIGINT) AS score FROM items ORDER BY id")
        .load::<Item>(conn)
        .expect("items load")
        .into_iter()
        .map(|i| (i.name, i.score))
        .collect()
}

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

// ---- embedded equals runtime ------------------------------------------------

fn assert_same(embedded: &EmbeddedMigrations, folder: &str) {
    let dir = root().join(folder);
    let loaded = MigrationSet::load(&dir).expect("the folder loads");
    let set = embedded.as_ref();
    assert_eq!(embedded.len(), loaded.len());
    assert_eq!(set.migrations, loaded.migrations, "{folder}");
    assert!(set.states().eq(loaded.states()), "{folder}");
    assert_eq!(set.last_state(), loaded.last_state(), "{folder}");
    for (e, m) in embedded.iter().zip(&loaded.migrations) {
        assert_eq!(e.version(), m.version);
        assert_eq!(e.name(), m.name);
        assert_eq!(e.file_name(), m.file_name);
        assert_eq!(e.checksum(), m.checksum);
        assert_eq!(e.file(), m.file);
        assert_eq!(e.id(), m.id());
        // The CLI's checksum of the file on disk, computed here again (a
        // squashed file stands for migrations whose checksums it lists).
        let text = std::fs::read_to_string(dir.join(&m.file_name)).expect("reads");
        if m.file_name == format!("{}.toml", m.id()) {
            assert_eq!(e.checksum(), checksum(&text));
        }
    }
}

#[test]
fn embedded_equals_runtime_for_the_fixture() {
    assert_same(&MIGRATIONS, "tests/fixtures/migrations");
}

#[test]
fn embedded_equals_runtime_for_a_kept_drop() {
    assert_same(&KEPT, "tests/fixtures/kept");
    let m = &KEPT.as_ref().migrations[1];
    assert!(
        matches!(&m.file.upgrade[..], [migrator::__private::Operation::Archived(a)] if a.fill.is_some()),
        "{:?}",
        m.file.upgrade
    );
}

#[test]
fn embedded_equals_runtime_for_the_example() {
    assert_same(&TODO, "examples/todo/migrations");
}

#[test]
fn embedded_equals_runtime_for_a_squashed_folder() {
    assert_same(&SQUASHED, "tests/fixtures/squashed");
    // The same numbers, names and checksums as the folder before the squash.
    let before = MigrationSet::load(&root().join("examples/todo/migrations")).expect("loads");
    let ids = |s: &MigrationSet| -> Vec<(String, String)> {
        s.migrations
            .iter()
            .map(|m| (m.id(), m.checksum.clone()))
            .collect()
    };
    assert_eq!(ids(SQUASHED.as_ref()), ids(&before));
    assert_eq!(SQUASHED.as_ref().last_state(), before.last_state());
    // A fresh database gets the baseline, then 0006.
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", dir.path().join("app.db").display());
    let mut conn: diesel::sqlite::SqliteConnection =
        diesel::Connection::establish(&url).expect("sqlite");
    let report = Migrator::new(&SQUASHED).up(&mut conn).expect("up");
    assert_eq!(report.done.len(), 6);
    let tables = count(
        &mut conn,
        "SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name IN ('users', 'tasks', 'conversations')",
    )
    .expect("count");
    assert_eq!(tables, 3);
}

#[test]
fn len_iteration_and_lookup() {
    assert_eq!(MIGRATIONS.len(), 2);
    assert!(!MIGRATIONS.is_empty());
    assert_eq!(MIGRATIONS.head(), 2);
    assert_eq!(MIGRATIONS.dir(), "tests/fixtures/migrations");
    let ids: Vec<String> = MIGRATIONS.iter().map(|m| m.id()).collect();
    assert_eq!(ids, ["0001_create_items", "0002_score_items"]);
    let mut versions = Vec::new();
    for m in &MIGRATIONS {
        versions.push(m.version());
    }
    assert_eq!(versions, [1, 2]);
    assert_eq!(MIGRATIONS.get(2).map(|m| m.name()), Some("score_items"));
    assert!(MIGRATIONS.get(3).is_none());
    let names: Vec<&str> = MIGRATIONS.rust_steps().iter().map(|(n, _)| *n).collect();
    assert_eq!(names, ["steps::score_items", "steps::unscore_items"]);
    assert_eq!(TODO.len(), 6);
    assert!(TODO.rust_steps().is_empty());
}

// ---- Rust steps on a database -----------------------------------------------

/// Up, down, up again: the Rust step runs between the seed insert and the
/// index, and its reverse runs on the way down.
fn rust_steps_run<C>(c: &mut C, has_index: impl Fn(&mut C) -> bool)
where
    C: MigrationConnection + diesel::Connection,
    diesel::query_builder::SqlQuery: diesel::query_dsl::LoadQuery<'static, C, Item>,
{
    let m = Migrator::new(&MIGRATIONS);
    m.up_to(c, Some(1)).expect("0001 applies");
    c.execute("INSERT INTO items (name) VALUES ('ann')")
        .expect("insert");
    let report = m.up(c).expect("0002 applies");
    assert_eq!(report.done, ["0002_score_items"]);
    assert_eq!(
        items(c),
        [("ann".to_string(), 3), ("seed".to_string(), 4)],
        "the seed row was inserted before the Rust step scored every row"
    );
    assert!(has_index(c));

    m.down_steps(c, 1).expect("0002 rolls back");
    assert_eq!(items(c), [("ann".to_string(), 0)]);
    assert!(!has_index(c));

    m.up(c).expect("0002 applies again");
    assert_eq!(items(c)[0], ("ann".to_string(), 3));
    assert!(m.up(c).expect("no-op").done.is_empty());
}

/// The Rust step fails after the seed insert of the same migration ran:
/// the whole migration is rolled back and not recorded.
fn failing_rust_step_rolls_back<C>(c: &mut C, poison: &str, has_index: impl Fn(&mut C) -> bool)
where
    C: MigrationConnection + diesel::Connection,
    diesel::query_builder::SqlQuery: diesel::query_dsl::LoadQuery<'static, C, Item>,
{
    let m = Migrator::new(&MIGRATIONS);
    m.up_to(c, Some(1)).expect("0001 applies");
    c.execute(&format!("INSERT INTO items (name) VALUES ('{poison}')"))
        .expect("insert");
    let err = m.up(c).expect_err("the Rust step fails");
    let text = err.to_string();
    assert!(
        matches!(err, RunError::RustStepFailed { ref step, index: 2, .. } if step == "steps::score_items"),
        "{text}"
    );
    assert!(text.contains("0002_score_items"), "{text}");
    assert!(text.contains("rolled back"), "{text}");
    assert_eq!(
        items(c),
        [(poison.to_string(), 0)],
        "the seed insert before the failing step was rolled back"
    );
    assert!(!has_index(c));
    let status = m.status(c).expect("status");
    assert_eq!(status.pending(), 1, "{status}");
}

fn sqlite_has_index(c: &mut diesel::sqlite::SqliteConnection) -> bool {
    c.count_rows("SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = 'idx_items_score'")
        .expect("catalog")
        > 0
}

fn pg_has_index(c: &mut diesel::pg::PgConnection) -> bool {
    c.count_rows("SELECT 1 FROM pg_indexes WHERE indexname = 'idx_items_score'")
        .expect("catalog")
        > 0
}

mod sqlite {
    use super::*;

    fn db() -> (tempfile::TempDir, diesel::sqlite::SqliteConnection) {
        let dir = tempfile::tempdir().expect("tempdir");
        let conn = support::sqlite(dir.path());
        (dir, conn)
    }

    /// The embedded kept drop restores the values on `down`.
    #[test]
    fn embedded_kept_drop_restores_values() {
        let (_d, mut c) = db();
        let m = Migrator::new(&KEPT);
        m.up_to(&mut c, Some(1)).expect("up to 1");
        c.execute("INSERT INTO notes (id, body, pinned) VALUES (1, 'a', TRUE), (2, 'b', FALSE)")
            .expect("rows");
        m.up(&mut c).expect("up");
        m.down_to(&mut c, 1).expect("down");
        let pinned = c
            .count_rows("SELECT 1 FROM notes WHERE (id = 1 AND pinned) OR (id = 2 AND NOT pinned)")
            .expect("count");
        assert_eq!(pinned, 2, "both values restored");
    }

    #[test]
    fn rust_steps_run_in_order() {
        let (_d, mut c) = db();
        rust_steps_run(&mut c, sqlite_has_index);
    }

    #[test]
    fn a_failing_rust_step_rolls_the_migration_back() {
        let (_d, mut c) = db();
        failing_rust_step_rolls_back(&mut c, "boom", sqlite_has_index);
    }

    #[test]
    fn a_panicking_rust_step_rolls_the_migration_back() {
        let (_d, mut c) = db();
        failing_rust_step_rolls_back(&mut c, "panic", sqlite_has_index);
    }

    #[test]
    fn a_set_from_files_refuses_rust_steps_before_running_anything() {
        let (_d, mut c) = db();
        let set = MigrationSet::load(&root().join("tests/fixtures/migrations")).expect("loads");
        let err = Migrator::new(&set).up(&mut c).expect_err("refused");
        assert!(
            matches!(err, RunError::RustStep { ref step, .. } if step == "steps::score_items"),
            "{err}"
        );
        assert!(err.to_string().contains("from the application"), "{err}");
        assert_eq!(
            c.count_rows("SELECT 1 FROM sqlite_master WHERE name = 'items'")
                .expect("catalog"),
            0,
            "0001 did not run either"
        );
        // The dry run is refused the same way.
        assert!(Migrator::new(&set).dry_run_up(&mut c, None).is_err());
    }

    #[test]
    fn a_set_from_files_runs_rust_steps_it_is_given() {
        let (_d, mut c) = db();
        let set = MigrationSet::load(&root().join("tests/fixtures/migrations"))
            .expect("loads")
            .with_rust_step("steps::score_items", steps::score_items)
            .with_rust_step("steps::unscore_items", steps::unscore_items);
        Migrator::new(&set).up(&mut c).expect("applies");
        assert_eq!(items(&mut c), [("seed".to_string(), 4)]);
        let dry = Migrator::new(&set)
            .dry_run_down(&mut c, 0)
            .expect("dry run");
        assert!(
            dry.sql
                .iter()
                .any(|l| l.contains("Rust step `steps::unscore_items`")),
            "{:?}",
            dry.sql
        );
    }

    /// diesel_migrations' harness on the embedded migrations.
    #[test]
    fn diesel_harness_runs_embedded_migrations() {
        use diesel_migrations::MigrationHarness;
        let (_d, mut c) = db();
        assert!(c.has_pending_migration(MIGRATIONS).expect("pending"));
        let done: Vec<String> = c
            .run_pending_migrations(MIGRATIONS)
            .expect("runs")
            .iter()
            .map(|v| v.to_string())
            .collect();
        assert_eq!(done, ["0001", "0002"]);
        assert_eq!(items(&mut c), [("seed".to_string(), 4)]);
        assert!(sqlite_has_index(&mut c));
        assert!(!c.has_pending_migration(MIGRATIONS).expect("pending"));
        assert!(c
            .run_pending_migrations(MIGRATIONS)
            .expect("no-op")
            .is_empty());

        let reverted = c.revert_last_migration(MIGRATIONS).expect("reverts");
        assert_eq!(reverted.to_string(), "0002");
        assert!(items(&mut c).is_empty(), "the downgrade deleted the seed");
        assert!(!sqlite_has_index(&mut c));

        c.run_pending_migrations(MIGRATIONS).expect("runs again");
        c.revert_all_migrations(MIGRATIONS).expect("reverts all");
        assert_eq!(
            c.count_rows("SELECT 1 FROM sqlite_master WHERE name = 'items'")
                .expect("catalog"),
            0
        );
    }

    /// In diesel's harness too, a failing Rust step rolls its migration back.
    #[test]
    fn diesel_harness_rolls_back_a_failing_rust_step() {
        use diesel_migrations::MigrationHarness;
        let (_d, mut c) = db();
        c.run_next_migration(MIGRATIONS).expect("0001");
        c.execute("INSERT INTO items (name) VALUES ('boom')")
            .expect("insert");
        let err = c.run_pending_migrations(MIGRATIONS).expect_err("fails");
        assert!(err.to_string().contains("an item is called boom"), "{err}");
        assert_eq!(items(&mut c), [("boom".to_string(), 0)]);
        assert!(c.has_pending_migration(MIGRATIONS).expect("pending"));
    }
}

mod postgres {
    use super::*;

    fn with_db(tag: &str, f: impl FnOnce(&mut diesel::pg::PgConnection)) {
        let Some(base) = support::pg_base_url() else {
            return;
        };
        let db = support::PgDb::create(&base, tag);
        let mut c = db.connect();
        f(&mut c);
    }

    #[test]
    fn rust_steps_run_in_order() {
        with_db("embed_rust", |c| rust_steps_run(c, pg_has_index));
    }

    #[test]
    fn a_failing_rust_step_rolls_the_migration_back() {
        with_db("embed_fail", |c| {
            failing_rust_step_rolls_back(c, "boom", pg_has_index)
        });
    }

    #[test]
    fn diesel_harness_runs_embedded_migrations() {
        use diesel_migrations::MigrationHarness;
        with_db("embed_harness", |c| {
            c.run_pending_migrations(MIGRATIONS).expect("runs");
            assert_eq!(items(c), [("seed".to_string(), 4)]);
            c.revert_all_migrations(MIGRATIONS).expect("reverts all");
            assert_eq!(
                c.count_rows("SELECT 1 FROM information_schema.tables WHERE table_name = 'items'")
                    .expect("catalog"),
                0
            );
        });
    }
}
