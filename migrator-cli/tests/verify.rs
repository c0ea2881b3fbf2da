//! `migrator verify` as a user runs it: a database migrated by `migrator up`
//! matches its snapshot (exit 0); the same database changed by hand (a
//! column added, an index dropped, a default changed) exits 1 naming each
//! change; objects outside the model are compared with what the migrations
//! make on a scratch database (or, with `--no-replay`, listed). On SQLite always,
//! on PostgreSQL and MySQL/MariaDB where they are reachable (mandatory under
//! CI=true).

mod common;

use common::{migrator_at, ok_at, pg_base_url, text, PgDb};
use migrator_core::runner::connect;

const MODELS: &str = r#"
use migrator::Model;

#[derive(Model)]
#[model(table = "users")]
pub struct User {
    #[model(primary_key, auto_increment)]
    pub id: i64,
    #[model(max_length = 100, unique)]
    pub name: String,
}

#[derive(Model)]
#[model(check = "priority IN ('low', 'medium', 'high')")]
pub struct Task {
    #[model(primary_key, auto_increment)]
    pub id: i64,
    #[model(index, foreign_key = "users.id", on_delete = "cascade")]
    pub user_id: i64,
    #[model(max_length = 20, default = "medium")]
    pub priority: String,
    pub done: bool,
}
"#;

/// A project with the models above, generated and applied to `url`.
fn migrated(url: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    std::fs::create_dir_all(d.join("src")).expect("src");
    std::fs::write(d.join("src/models.rs"), MODELS).expect("models");
    ok_at(d, url, &["init"]);
    ok_at(d, url, &["generate", "create_all"]);
    ok_at(d, url, &["up"]);
    dir
}

fn execute(url: &str, sql: &str) {
    let mut db = connect(url).unwrap_or_else(|e| panic!("{e}"));
    db.execute(sql).unwrap_or_else(|e| panic!("{sql}\n  {e}"));
}

/// verify: clean, then after `alter` (which adds `tasks.notes`, drops
/// `idx_tasks_user_id` and sets the default of `tasks.priority` to 'low')
/// exit 1 naming the three changes.
fn verify_detects_hand_changes(url: &str, alter: &str) {
    let dir = migrated(url);
    let d = dir.path();
    let out = ok_at(d, url, &["verify"]);
    assert!(out.starts_with("ok: "), "{out}");
    assert!(out.contains("(head 0001, 2 table(s))"), "{out}");
    assert!(!out.contains("note:"), "{out}");

    execute(url, alter);
    let o = migrator_at(d, url, &["verify"]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.starts_with("drift: "), "{out}");
    for line in [
        "  table `tasks`: column `priority`: default is `'low'` in the database, `'medium'` in the snapshot\n",
        "  table `tasks`: column `notes` is in the database but not in the snapshot (database: `text` nullable)\n",
        "  table `tasks`: index `idx_tasks_user_id` (user_id) is missing from the database\n",
        "help: the database was changed outside migrations",
    ] {
        assert!(out.contains(line), "missing {line:?} in:\n{out}");
    }
    assert_eq!(
        out.lines().filter(|l| l.starts_with("  table")).count(),
        3,
        "only the three changes:\n{out}"
    );
}

#[test]
fn sqlite_verify_detects_hand_changes() {
    let db = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", db.path().join("app.db").display());
    // SQLite cannot change a default in place; the documented way for a
    // change that leaves the stored rows valid is to edit the schema text.
    verify_detects_hand_changes(
        &url,
        "ALTER TABLE tasks ADD COLUMN notes TEXT;
         DROP INDEX idx_tasks_user_id;
         PRAGMA writable_schema = ON;
         UPDATE sqlite_master SET sql = replace(sql, 'DEFAULT ''medium''', 'DEFAULT ''low''') WHERE type = 'table' AND name = 'tasks';
         PRAGMA writable_schema = OFF;",
    );
}

#[test]
fn sqlite_verify_lists_objects_outside_the_model() {
    let db = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", db.path().join("app.db").display());
    let dir = migrated(&url);
    execute(
        &url,
        "CREATE VIEW open_tasks AS SELECT id FROM tasks WHERE NOT done;
         CREATE TRIGGER tasks_touch AFTER UPDATE ON tasks BEGIN SELECT 1; END;
         CREATE INDEX idx_tasks_open ON tasks (user_id) WHERE NOT done;",
    );
    // By default they are compared with what the migrations make: made
    // by hand, they are drift.
    let o = migrator_at(dir.path(), &url, &["verify"]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    for named in [
        "    view `open_tasks` is in the database, but the migrations do not make it\n",
        "    trigger `tasks_touch` on `tasks` is in the database, but the migrations do not make it\n",
        "    partial index `idx_tasks_open` on `tasks` is in the database, but the migrations do not make it\n",
    ] {
        assert!(out.contains(named), "{named:?} not in\n{out}");
    }
    // `--no-replay` lists them.
    let out = ok_at(dir.path(), &url, &["verify", "--no-replay"]);
    assert!(out.starts_with("ok: "), "{out}");
    assert!(
        out.contains(
            "note: not compared, outside the model (`--replay` compares them with what the migrations make on a scratch database):\n  view `open_tasks`\n  trigger `tasks_touch` on `tasks`\n  partial index `idx_tasks_open` on `tasks`\n"
        ),
        "{out}"
    );
}

/// A database that applied only the first migrations (after a `down`, or
/// before an `up`) is compared with the schema as of its last applied one:
/// clean after the `down`, and drift there is still drift.
#[test]
fn verify_compares_a_database_behind_the_files_with_its_applied_state() {
    let db = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", db.path().join("app.db").display());
    let dir = migrated(&url);
    let d = dir.path();
    std::fs::write(
        d.join("src/models.rs"),
        MODELS.replace(
            "    pub done: bool,",
            "    pub done: bool,\n    pub note: Option<String>,",
        ),
    )
    .expect("models");
    ok_at(d, &url, &["generate", "add_note"]);

    // Before `up`: as of 0001, one pending.
    let out = ok_at(d, &url, &["verify"]);
    assert!(out.starts_with("ok: "), "{out}");
    assert!(
        out.contains("as of 0001, the last applied; 1 pending up to head 0002"),
        "{out}"
    );
    ok_at(d, &url, &["up"]);
    let out = ok_at(d, &url, &["verify"]);
    assert!(out.contains("(head 0002, 2 table(s))"), "{out}");

    // After `down`: as of 0001 again.
    ok_at(d, &url, &["down"]);
    let out = ok_at(d, &url, &["verify"]);
    assert!(out.contains("as of 0001, the last applied"), "{out}");
    let json = ok_at(d, &url, &["verify", "--format", "json"]);
    assert!(json.contains("\"head\":2,\"compared_at\":1"), "{json}");

    // Drift there is still drift.
    execute(&url, "CREATE TABLE extra (id INTEGER PRIMARY KEY)");
    let o = migrator_at(d, &url, &["verify"]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains("table `extra`: is in the database but not in the snapshot"),
        "{out}"
    );
    assert!(
        out.contains("help: the database was changed outside migrations"),
        "{out}"
    );
    execute(&url, "DROP TABLE extra");

    // With nothing recorded (a database built from `migrator sql` scripts,
    // or rolled back to nothing) the head is what it is compared with.
    ok_at(d, &url, &["down"]);
    let o = migrator_at(d, &url, &["verify"]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("(head 0002):"), "{out}");
    assert!(
        out.contains("help: 2 migration(s) are not applied"),
        "{out}"
    );
}

#[test]
fn postgres_verify_detects_hand_changes() {
    let Some(base) = pg_base_url() else {
        return;
    };
    let db = PgDb::create(&base, "verify");
    let url = db.url.clone();
    verify_detects_hand_changes(
        &url,
        "ALTER TABLE tasks ADD COLUMN notes TEXT;
         DROP INDEX idx_tasks_user_id;
         ALTER TABLE tasks ALTER COLUMN priority SET DEFAULT 'low';",
    );
}

/// MySQL/MariaDB: the index serving the foreign key cannot be dropped on
/// its own (InnoDB needs one, error 1553), so it is swapped for the index
/// InnoDB would have made, named after the constraint, which introspection
/// does not report.
#[cfg(feature = "mysql")]
#[test]
fn mysql_verify_detects_hand_changes() {
    let Some(base) = common::mysql_base_url() else {
        return;
    };
    let db = common::MyDb::create(&base, "verify");
    let url = db.url.clone();
    verify_detects_hand_changes(
        &url,
        "ALTER TABLE tasks ADD COLUMN notes TEXT NULL;
         ALTER TABLE tasks ADD INDEX fk_tasks_user_id (user_id), DROP INDEX idx_tasks_user_id;
         ALTER TABLE tasks ALTER COLUMN priority SET DEFAULT 'low';",
    );
}

/// The tests that replay on a server, one at a time: each checks that no
/// scratch database of its own is left.
static SERVER_REPLAYS: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// `verify` (by default, and with `--replay`): the views a raw step made
/// are compared with those the migrations make on a scratch database:
/// clean as applied, then a view dropped, one redefined and one made by
/// hand are each named (exit 1), which `--no-replay` only lists; the
/// scratch database is dropped.
fn verify_replay_compares_objects_outside_the_model(
    url: &str,
    by_default: bool,
    leftovers: impl Fn() -> Vec<String>,
) {
    // Scratch databases of other runs on the same server are not ours.
    let _one_at_a_time = SERVER_REPLAYS.lock().unwrap_or_else(|e| e.into_inner());
    let others = leftovers();
    let ours = || -> Vec<String> {
        leftovers()
            .into_iter()
            .filter(|n| !others.contains(n))
            .collect()
    };
    let dir = migrated(url);
    let d = dir.path();
    ok_at(d, url, &["generate", "--empty", "views"]);
    let file = d.join("migrations/0002_views.toml");
    let written = std::fs::read_to_string(&file).expect("written");
    std::fs::write(
        &file,
        format!(
            "{written}\n[[upgrade]]\nop = \"sql\"\nsql = \"CREATE VIEW open_tasks AS SELECT id FROM tasks WHERE NOT done\"\nreverse = \"DROP VIEW open_tasks\"\n\n[[upgrade]]\nop = \"sql\"\nsql = \"CREATE VIEW done_tasks AS SELECT id FROM tasks WHERE done\"\nreverse = \"DROP VIEW done_tasks\"\n"
        ),
    )
    .expect("edit");
    ok_at(d, url, &["rehash"]);
    ok_at(d, url, &["up"]);
    let out = ok_at(d, url, &["verify", "--replay"]);
    assert!(
        out.starts_with("ok: ")
            && out.contains("2 object(s) outside the model as the migrations make them"),
        "{out}"
    );
    assert_eq!(
        ours(),
        Vec::<String>::new(),
        "the scratch database is dropped"
    );

    execute(url, "DROP VIEW done_tasks");
    execute(url, "DROP VIEW open_tasks");
    execute(
        url,
        "CREATE VIEW open_tasks AS SELECT id, user_id FROM tasks WHERE NOT done",
    );
    execute(url, "CREATE VIEW by_hand AS SELECT id FROM users");
    // With --no-replay the views are only listed.
    let plain = ok_at(d, url, &["verify", "--no-replay"]);
    assert!(plain.starts_with("ok: "), "{plain}");
    assert!(
        plain.contains("note: not compared, outside the model ("),
        "{plain}"
    );

    // By default (raw steps were applied) they are compared, as with
    // --replay, on SQLite; a server is not replayed on unless asked.
    let o = migrator_at(d, url, &["verify"]);
    assert_eq!(
        o.status.code(),
        Some(if by_default { 1 } else { 0 }),
        "{}",
        text(&o)
    );
    let o = migrator_at(d, url, &["verify", "--replay"]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.starts_with("drift: "), "{out}");
    assert!(
        out.contains(
            "  outside the model, against the migrations replayed on a scratch database:\n"
        ),
        "{out}"
    );
    let lines: Vec<&str> = out.lines().filter(|l| l.starts_with("    view ")).collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert!(
        lines.contains(
            &"    view `done_tasks` is missing from the database (the migrations make it)"
        ),
        "{out}"
    );
    assert!(
        lines.contains(&"    view `by_hand` is in the database, but the migrations do not make it"),
        "{out}"
    );
    let changed = lines
        .iter()
        .find(|l| l.starts_with("    view `open_tasks` differs: the database has `"))
        .unwrap_or_else(|| panic!("open_tasks not named:\n{out}"));
    assert!(changed.contains("user_id"), "{changed}");

    let o = migrator_at(d, url, &["verify", "--replay", "--format", "json"]);
    let json = text(&o);
    assert_eq!(o.status.code(), Some(1), "{json}");
    assert!(json.contains("\"clean\":false"), "{json}");
    assert!(json.contains("\"replayed\":true"), "{json}");
    assert!(
        json.contains(
            "\"view `done_tasks` is missing from the database (the migrations make it)\""
        ),
        "{json}"
    );
    assert_eq!(
        ours(),
        Vec::<String>::new(),
        "the scratch database is dropped"
    );
}

#[test]
fn sqlite_verify_replay_compares_objects_outside_the_model() {
    let db = tempfile::tempdir().expect("tempdir");
    let url = format!("sqlite://{}", db.path().join("app.db").display());
    // The scratch file is the process's own, in the temporary folder.
    verify_replay_compares_objects_outside_the_model(&url, true, Vec::new);
}

#[test]
fn postgres_verify_replay_compares_objects_outside_the_model() {
    let Some(base) = pg_base_url() else {
        return;
    };
    let db = PgDb::create(&base, "verify_replay");
    let url = db.url.clone();
    let leftovers = || {
        let mut c = connect(&base).expect("connects");
        c.query_texts(
            "SELECT datname::text AS s FROM pg_database WHERE datname LIKE 'migrator\\_replay\\_%'",
        )
        .expect("query")
    };
    verify_replay_compares_objects_outside_the_model(&url, false, leftovers);
}

#[cfg(feature = "mysql")]
#[test]
fn mysql_verify_replay_compares_objects_outside_the_model() {
    let Some(base) = common::mysql_base_url() else {
        return;
    };
    let db = common::MyDb::create(&base, "verify_replay");
    let url = db.url.clone();
    let leftovers = || {
        let mut c = connect(&db.url).expect("connects");
        c.query_texts(
            "SELECT CAST(SCHEMA_NAME AS CHAR) AS s FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE 'migrator\\_replay\\_%'",
        )
        .expect("query")
    };
    verify_replay_compares_objects_outside_the_model(&url, false, leftovers);
}

/// A user who may not create databases: `verify` lists the objects outside
/// the model (a server is not replayed on unless asked); with `--replay` it
/// fails, naming the right it needs.
#[test]
fn postgres_verify_without_the_right_to_create_databases_warns() {
    let Some(base) = pg_base_url() else {
        return;
    };
    let _one_at_a_time = SERVER_REPLAYS.lock().unwrap_or_else(|e| e.into_inner());
    let db = PgDb::create(&base, "verify_nocreatedb");
    let dir = migrated(&db.url);
    let d = dir.path();
    execute(
        &db.url,
        "CREATE VIEW open_tasks AS SELECT id FROM tasks WHERE NOT done",
    );
    let role = "migrator_verify_nocreatedb";
    execute(
        &db.url,
        &format!(
            "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') THEN CREATE ROLE {role} LOGIN NOCREATEDB; END IF; END $$; \
             GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}"
        ),
    );
    let url = db.url.replacen("postgres@", &format!("{role}@"), 1);
    assert_ne!(url, db.url, "the base URL names the postgres user");
    let o = migrator_at(d, &url, &["verify"]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(!out.contains("warning:"), "{out}");
    assert!(
        out.contains("note: not compared, outside the model (`--replay` compares them with what the migrations make on a scratch database):\n  view `open_tasks`"),
        "{out}"
    );
    let o = migrator_at(d, &url, &["verify", "--replay"]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains("error: creating the scratch database"),
        "{out}"
    );
    assert!(out.contains("the right to create databases"), "{out}");
    // As the owner, the hand-made view is drift.
    let o = migrator_at(d, &db.url, &["verify", "--replay"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
}
