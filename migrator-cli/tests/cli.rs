//! The `migrator` binary as a user runs it, on a throwaway crate and SQLite:
//! exit codes, what it prints, what it writes.

use std::path::Path;
use std::process::{Command, Output};

fn migrator(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_migrator"))
        .arg("--dir")
        .arg(dir)
        .args(args)
        .env_remove("DATABASE_URL")
        .output()
        .expect("runs")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn ok(dir: &Path, args: &[&str]) -> String {
    let o = migrator(dir, args);
    assert!(
        o.status.success(),
        "migrator {args:?} failed:\n{}",
        text(&o)
    );
    text(&o)
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

const USERS: &str = r#"
use migrator::Model;

#[derive(Model)]
pub struct User {
    #[model(primary_key, auto_increment)]
    pub id: i64,
    #[model(max_length = 100, unique)]
    pub name: String,
}
"#;

const USERS_WITH_EMAIL: &str = r#"
use migrator::Model;

#[derive(Model)]
pub struct User {
    #[model(primary_key, auto_increment)]
    pub id: i64,
    #[model(max_length = 100, unique)]
    pub name: String,
    #[model(index)]
    pub email: Option<String>,
}
"#;

fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("src")).expect("src");
    ok(dir.path(), &["init"]);
    dir
}

#[test]
fn generate_check_sql_up_down_status_round_trip() {
    let dir = project();
    let d = dir.path();
    assert!(d.join("migrator.toml").exists());
    assert!(d.join("migrations/schema.toml").exists());

    // Nothing modelled yet: nothing to do, nothing written.
    let out = ok(d, &["generate", "nothing"]);
    assert!(out.contains("no changes"), "{out}");
    assert!(!d.join("migrations/0001_nothing.toml").exists());

    std::fs::write(d.join("src/models.rs"), USERS).expect("models");
    // The models now differ from the snapshot: check fails with a diff.
    let o = migrator(d, &["check"]);
    assert_eq!(code(&o), 1, "{}", text(&o));
    assert!(text(&o).contains("+ table users"), "{}", text(&o));

    let out = ok(d, &["generate", "create_users"]);
    assert!(out.contains("created"), "{out}");
    assert!(out.contains("CREATE TABLE"), "{out}");
    assert!(d.join("migrations/0001_create_users.toml").exists());
    ok(d, &["check"]);
    assert!(ok(d, &["generate", "again"]).contains("no changes"));

    std::fs::write(d.join("src/models.rs"), USERS_WITH_EMAIL).expect("models");
    // A TEXT column cannot be indexed on MySQL: a warning, since this
    // project does not declare MySQL in migrator.toml.
    let out = ok(d, &["generate", "add_email"]);
    assert!(out.contains("cannot run on mysql"), "{out}");

    for dialect in ["postgres", "sqlite"] {
        let out = ok(d, &["sql", "2", "--dialect", dialect]);
        assert!(out.contains("email"), "{dialect}: {out}");
        let down = ok(d, &["sql", "2", "--dialect", dialect, "--down"]);
        assert!(down.contains("DROP"), "{dialect}: {down}");
    }
    let o = migrator(d, &["sql", "2", "--dialect", "mysql"]);
    assert_eq!(code(&o), 1);
    assert!(text(&o).contains("max_length"), "{}", text(&o));
    let out = ok(d, &["sql", "1", "--dialect", "mysql"]);
    assert!(out.contains("CREATE TABLE IF NOT EXISTS `users`"), "{out}");

    let dry = ok(d, &["up", "--dry-run"]);
    assert!(dry.contains("INSERT INTO \"_migrator_history\""), "{dry}");
    // The dry run applied nothing.
    assert!(ok(d, &["status"]).contains("2 pending"));

    let out = ok(d, &["up"]);
    assert!(out.contains("2 migration(s) applied"), "{out}");
    let out = ok(d, &["up"]);
    assert!(out.contains("0 migration(s) applied"), "{out}");
    assert!(out.contains("nothing to do"), "{out}");
    let status = ok(d, &["status"]);
    assert!(
        status.contains("0001_create_users") && status.contains("applied"),
        "{status}"
    );
    assert!(status.contains("0 pending"), "{status}");

    let out = ok(d, &["down"]);
    assert!(out.contains("1 migration(s) rolled back"), "{out}");
    assert!(ok(d, &["status"]).contains("1 pending"));
    ok(d, &["up"]);
    let out = ok(d, &["redo"]);
    assert!(out.contains("redone 0002_add_email"), "{out}");
    let out = ok(d, &["down", "--to", "0"]);
    assert!(out.contains("2 migration(s) rolled back"), "{out}");
    ok(d, &["up", "--to", "1"]);
    assert!(ok(d, &["status"]).contains("1 pending"));
}

#[test]
fn edited_migration_is_refused_and_named() {
    let dir = project();
    let d = dir.path();
    std::fs::write(d.join("src/models.rs"), USERS).expect("models");
    ok(d, &["generate", "create_users"]);
    ok(d, &["up"]);
    let f = d.join("migrations/0001_create_users.toml");
    let text0 = std::fs::read_to_string(&f).expect("read");
    std::fs::write(&f, text0.replace("create users", "create the users")).expect("edit");
    let o = migrator(d, &["up"]);
    assert_eq!(code(&o), 1);
    let t = text(&o);
    assert!(
        t.contains("0001_create_users.toml") && t.contains("edited"),
        "{t}"
    );
    // Line endings alone are not an edit.
    std::fs::write(&f, text0.replace('\n', "\r\n")).expect("crlf");
    ok(d, &["status"]);
}

/// `generate` trusts the snapshot only while every migration file is the
/// one it lists: an edited or added file sends it through the full
/// validation, which names the file and writes nothing; `check` validates
/// the whole chain always, so a hand-edited snapshot schema is caught.
#[test]
fn generate_validates_the_folder_unless_it_is_exactly_what_the_snapshot_lists() {
    let dir = project();
    let d = dir.path();
    std::fs::write(d.join("src/models.rs"), USERS).expect("models");
    ok(d, &["generate", "create_users"]);
    std::fs::write(d.join("src/models.rs"), USERS_WITH_EMAIL).expect("models");
    let f = d.join("migrations/0001_create_users.toml");
    let text0 = std::fs::read_to_string(&f).expect("read");
    std::fs::write(&f, text0.replace("create users", "create the users")).expect("edit");
    let snapshot = d.join("migrations/schema.toml");
    let snapshot0 = std::fs::read_to_string(&snapshot).expect("read");
    let o = migrator(d, &["generate", "add_email"]);
    assert_eq!(code(&o), 1, "{}", text(&o));
    assert!(text(&o).contains("0001_create_users.toml"), "{}", text(&o));
    assert!(!d.join("migrations/0002_add_email.toml").exists());
    assert_eq!(std::fs::read_to_string(&snapshot).expect("read"), snapshot0);
    // Restored, generate works again from the snapshot.
    std::fs::write(&f, &text0).expect("restore");
    ok(d, &["generate", "add_email"]);
    ok(d, &["check"]);
    // A snapshot whose schema was edited by hand: `check` replays the chain.
    let edited = std::fs::read_to_string(&snapshot)
        .expect("read")
        .replace("varchar(100)", "varchar(120)");
    assert_ne!(edited, std::fs::read_to_string(&snapshot).expect("read"));
    std::fs::write(&snapshot, edited).expect("edit");
    let o = migrator(d, &["check"]);
    assert_eq!(code(&o), 1, "{}", text(&o));
}

#[test]
fn bad_input_gets_clear_errors_and_exit_codes() {
    let dir = project();
    let d = dir.path();
    // Usage errors exit 2.
    assert_eq!(code(&migrator(d, &["generate"])), 2);
    assert_eq!(code(&migrator(d, &["frobnicate"])), 2);
    // A bad migration name.
    let o = migrator(d, &["generate", "Bad-Name"]);
    assert_eq!(code(&o), 1);
    assert!(
        text(&o).contains("not a valid migration name"),
        "{}",
        text(&o)
    );
    // An unknown dialect.
    let o = migrator(d, &["sql", "--dialect", "oracle"]);
    assert_eq!(code(&o), 1);
    assert!(
        text(&o).contains("unknown dialect `oracle`"),
        "{}",
        text(&o)
    );
    // A malformed migration file names the file and line.
    std::fs::write(
        d.join("migrations/0001_broken.toml"),
        "description = \"x\"\n[[upgrade]]\nop = 3\n",
    )
    .expect("write");
    let o = migrator(d, &["status"]);
    assert_eq!(code(&o), 1);
    assert!(text(&o).contains("0001_broken.toml:3:"), "{}", text(&o));
}

#[test]
fn passwords_never_appear_in_errors() {
    let dir = project();
    let d = dir.path();
    let o = Command::new(env!("CARGO_BIN_EXE_migrator"))
        .arg("--dir")
        .arg(d)
        .args([
            "status",
            "--database-url",
            "postgres://app:hunter2secret@127.0.0.1:1/nope",
        ])
        .output()
        .expect("runs");
    assert_eq!(code(&o), 1);
    let t = text(&o);
    assert!(t.contains("cannot connect"), "{t}");
    assert!(t.contains("app:***@127.0.0.1:1"), "{t}");
    assert!(!t.contains("hunter2secret"), "{t}");
}

#[test]
fn a_declared_dialect_that_cannot_render_stops_generate() {
    let dir = project();
    let d = dir.path();
    std::fs::write(d.join("migrator.toml"), "dialects = [\"mysql\"]\n").expect("config");
    std::fs::write(d.join("src/models.rs"), USERS_WITH_EMAIL).expect("models");
    let o = migrator(d, &["generate", "create_users"]);
    assert_eq!(code(&o), 1, "{}", text(&o));
    assert!(text(&o).contains("max_length"), "{}", text(&o));
    assert!(
        !d.join("migrations/0001_create_users.toml").exists(),
        "nothing written"
    );
}

#[test]
fn a_gap_in_numbering_is_refused_before_touching_the_database() {
    let dir = project();
    let d = dir.path();
    std::fs::write(d.join("src/models.rs"), USERS).expect("models");
    ok(d, &["generate", "create_users"]);
    std::fs::write(d.join("src/models.rs"), USERS_WITH_EMAIL).expect("models");
    ok(d, &["generate", "add_email"]);
    ok(d, &["up", "--to", "1"]);
    let db = d.join("migrator.db");
    let before = std::fs::read(&db).expect("database file");
    std::fs::rename(
        d.join("migrations/0002_add_email.toml"),
        d.join("migrations/0003_add_email.toml"),
    )
    .expect("renumber");
    for cmd in [&["up"][..], &["down"][..], &["status"][..]] {
        let o = migrator(d, cmd);
        assert_eq!(code(&o), 1, "{cmd:?}: {}", text(&o));
        assert!(
            text(&o).contains("migration number 0002 is missing"),
            "{}",
            text(&o)
        );
    }
    assert_eq!(
        std::fs::read(&db).expect("database file"),
        before,
        "database untouched"
    );
}

#[test]
fn model_errors_are_all_reported_with_their_location_and_nothing_is_written() {
    let dir = project();
    let d = dir.path();
    std::fs::write(
        d.join("src/models.rs"),
        "#[derive(Model)]\npub struct Thing {\n    #[model(primary_key)]\n    pub id: i64,\n    pub when: std::time::SystemTime,\n    #[model(max_len = 3)]\n    pub name: String,\n}\n",
    )
    .expect("models");
    let o = migrator(d, &["generate", "first"]);
    assert_eq!(code(&o), 1);
    let t = text(&o);
    assert!(t.starts_with("error: 2 problem(s) in the models:\n"), "{t}");
    assert!(
        t.contains("src/models.rs:5:15: error: unsupported column type"),
        "{t}"
    );
    assert!(
        t.contains("src/models.rs:6:13: error: unknown field attribute `max_len`"),
        "{t}"
    );
    assert!(
        !t.contains("error: error:") && !t.contains("error: ./"),
        "{t}"
    );
    assert!(
        !d.join("migrations/0001_first.toml").exists(),
        "nothing written"
    );
}
