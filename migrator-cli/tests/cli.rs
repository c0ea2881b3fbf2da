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
    // The default database is named; the dry run created nothing, and
    // `status` does not create the file either.
    assert!(
        dry.contains("note: database sqlite://") && dry.contains("the default"),
        "{dry}"
    );
    assert!(
        !d.join("migrator.db").exists(),
        "the dry run created the database"
    );
    let o = migrator(d, &["status"]);
    assert_eq!(code(&o), 1, "{}", text(&o));
    assert!(
        text(&o).contains("migrator.db: no such SQLite database"),
        "{}",
        text(&o)
    );
    assert!(
        !d.join("migrator.db").exists(),
        "status created the database"
    );

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
    // An unknown dialect: clap's usage error, with the possible values.
    let o = migrator(d, &["sql", "--dialect", "oracle"]);
    assert_eq!(code(&o), 2);
    assert!(
        text(&o).contains("invalid value 'oracle' for '--dialect <DIALECT>'")
            && text(&o).contains("[possible values: postgres, sqlite, mysql]"),
        "{}",
        text(&o)
    );
    // Aliases are accepted.
    ok(d, &["sql", "--dialect", "postgresql"]);
    ok(d, &["sql", "--dialect", "mariadb"]);
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

/// What is not a database URL is a usage error (exit 2) saying what was
/// expected, and creates nothing: a libpq keyword string or a host name once
/// became a local SQLite file that `up` filled.
#[test]
fn what_is_not_a_database_url_is_a_usage_error_and_creates_nothing() {
    let dir = project();
    let d = dir.path();
    let cwd = tempfile::tempdir().expect("tempdir");
    let cases: [(&str, &str); 8] = [
        (
            "host=127.0.0.1 user=u password=secret dbname=app",
            "libpq `key=value` connection string",
        ),
        ("prod-db.example.com", "it looks like a host name"),
        ("migrator", "neither a URL nor an SQLite file path"),
        ("postgress://u:secret@h/db", "did you mean `postgres://`?"),
        ("postgre://u:secret@h/db", "did you mean `postgres://`?"),
        ("mysq://u:secret@h/db", "did you mean `mysql://`?"),
        ("sqllite://app.db", "did you mean `sqlite://`?"),
        (
            "oracle://u:secret@h/db",
            "unknown database URL scheme `oracle://`",
        ),
    ];
    for (url, says) in cases {
        for args in [
            &["up"][..],
            &["status"],
            &["up", "--dry-run"],
            &["verify"],
            &["sql"],
        ] {
            for by_env in [true, false] {
                let mut c = Command::new(env!("CARGO_BIN_EXE_migrator"));
                c.current_dir(cwd.path()).arg("--dir").arg(d).args(args);
                if by_env {
                    c.env("DATABASE_URL", url);
                } else {
                    c.arg("--database-url").arg(url).env_remove("DATABASE_URL");
                }
                let o = c.output().expect("runs");
                let t = text(&o);
                assert_eq!(code(&o), 2, "{url} {args:?}: {t}");
                let source = if by_env {
                    "DATABASE_URL: "
                } else {
                    "--database-url: "
                };
                assert!(
                    t.contains(source) && t.contains(says),
                    "{url} {args:?}: {t}"
                );
                assert!(
                    t.contains("help: expected postgres://")
                        || t.contains("help: write it as a URL"),
                    "{t}"
                );
                assert!(!t.contains("secret"), "{url} {args:?}: {t}");
            }
        }
    }
    // Nothing was created, in the project or the current folder.
    assert_eq!(std::fs::read_dir(cwd.path()).expect("list").count(), 0);
    assert!(!d.join("migrator.db").exists());
    // Commands that do not use the database do not read the URL.
    let o = Command::new(env!("CARGO_BIN_EXE_migrator"))
        .arg("--dir")
        .arg(d)
        .arg("check")
        .env("DATABASE_URL", "prod-db.example.com")
        .output()
        .expect("runs");
    assert_eq!(code(&o), 0, "{}", text(&o));
    // Explicit SQLite paths are accepted.
    for url in ["./a.db", "b.sqlite3", "sqlite:c", "sqlite://d", ":memory:"] {
        let o = Command::new(env!("CARGO_BIN_EXE_migrator"))
            .current_dir(cwd.path())
            .arg("--dir")
            .arg(d)
            .args(["--database-url", url, "up"])
            .env_remove("DATABASE_URL")
            .output()
            .expect("runs");
        assert_eq!(code(&o), 0, "{url}: {}", text(&o));
        assert!(!text(&o).contains("the default"), "{}", text(&o));
    }
    let mut made: Vec<String> = std::fs::read_dir(cwd.path())
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    made.sort();
    assert_eq!(made, ["a.db", "b.sqlite3", "c", "d"]);
}

/// `status`, `verify`, `down`, `redo` and `init --from-database` on an
/// SQLite file that does not exist refuse, naming it, and do not create
/// it; `up --dry-run` creates nothing; `up` creates it.
#[test]
fn a_missing_sqlite_file_is_refused_by_every_command_but_up() {
    let dir = project();
    let d = dir.path();
    std::fs::write(d.join("src/models.rs"), USERS).expect("models");
    ok(d, &["generate", "create_users"]);
    let other = tempfile::tempdir().expect("tempdir");
    let file = other.path().join("typo.db");
    let url = format!("sqlite://{}", file.display());
    for args in [
        &["status"][..],
        &["verify"],
        &["down"],
        &["down", "--dry-run"],
        &["redo"],
    ] {
        let o = migrator(d, &[&["--database-url", url.as_str()][..], args].concat());
        assert_eq!(code(&o), 1, "{args:?}: {}", text(&o));
        let t = text(&o);
        assert!(
            t.contains(&format!(
                "{}: no such SQLite database; `migrator {}` does not create one",
                file.display(),
                args[0]
            )),
            "{args:?}: {t}"
        );
        assert!(!file.exists(), "{args:?} created the file");
    }
    let empty = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(empty.path().join("src")).expect("src");
    let o = migrator(
        empty.path(),
        &["--database-url", url.as_str(), "init", "--from-database"],
    );
    assert_eq!(code(&o), 1, "{}", text(&o));
    assert!(text(&o).contains("no such SQLite database"), "{}", text(&o));
    assert!(!file.exists());
    let dry = ok(d, &["--database-url", url.as_str(), "up", "--dry-run"]);
    assert!(dry.contains("CREATE TABLE"), "{dry}");
    assert!(dry.contains("does not exist: the dry run shows"), "{dry}");
    assert!(!file.exists(), "the dry run created the file");
    ok(d, &["--database-url", url.as_str(), "up"]);
    assert!(file.exists());
    assert!(ok(d, &["--database-url", url.as_str(), "status"]).contains("0 pending"));
}

/// Number and duration flags are checked by their parsers: a usage error
/// (exit 2), never a panic (exit 101), for every one of them.
#[test]
fn bad_numbers_in_flags_are_usage_errors() {
    let dir = project();
    let d = dir.path();
    for (flag, values) in [
        (
            "--lock-timeout",
            &["1e308", "NaN", "inf", "-inf", "-1", "604801", "soon"][..],
        ),
        (
            "--statement-lock-timeout-ms",
            &["-1", "1.5", "2147483648", "1e308", "NaN"],
        ),
        (
            "--statement-timeout-ms",
            &["-5", "99999999999999999999", "inf"],
        ),
        ("--lock-retries", &["0", "101", "-1", "NaN"]),
        ("--max-replica-lag", &["-1", "NaN", "soon", "604801"]),
        ("--replica-lag-timeout", &["-1", "inf"]),
        (
            "--lock-waits",
            &["", "fast", "0ms", "50ms*0", "1ms*201", "61s", "50ms,,75ms"],
        ),
    ] {
        for v in values {
            for cmd in ["up", "down", "redo"] {
                let o = migrator(d, &[cmd, &format!("{flag}={v}")]);
                assert_eq!(code(&o), 2, "{cmd} {flag}={v}: {}", text(&o));
                assert!(
                    text(&o).contains(&format!("invalid value '{v}' for '{flag}")),
                    "{cmd} {flag}={v}: {}",
                    text(&o)
                );
                assert!(!text(&o).contains("panicked"), "{}", text(&o));
            }
        }
    }
    let o = migrator(d, &["up", "--lock-mode", "rows"]);
    assert_eq!(code(&o), 2, "{}", text(&o));
    assert!(
        text(&o).contains("[possible values: auto, advisory, table]"),
        "{}",
        text(&o)
    );
    let help = ok(d, &["up", "--help"]);
    assert!(
        help.contains("possible values: auto, advisory, table") || help.contains("advisory:"),
        "{help}"
    );
    let help = ok(d, &["--help"]);
    assert!(
        help.contains("ends in .db, .sqlite, .sqlite3 or .db3"),
        "{help}"
    );
    assert!(help.contains("Passwords are never printed"), "{help}");
    // Values at the limits are accepted.
    ok(
        d,
        &[
            "up",
            "--lock-timeout",
            "604800",
            "--statement-lock-timeout-ms",
            "2147483647",
            "--lock-retries",
            "100",
            "--lock-waits",
            "1ms*200",
        ],
    );
    ok(d, &["up", "--lock-waits", "none"]);
    // SQLite cannot tell a replica's lag: refused, nothing run.
    let o = migrator(d, &["up", "--max-replica-lag", "1"]);
    assert_eq!(code(&o), 1, "{}", text(&o));
    assert!(
        text(&o).contains("not available on sqlite") && text(&o).contains("nothing was run"),
        "{}",
        text(&o)
    );
}

/// `generate --empty NAME`: the next number, no steps, the snapshot chain
/// extended; filled in by hand, rehashed, applied and rolled back with its
/// data; a bad name is refused and writes nothing.
#[test]
fn generate_empty_writes_a_migration_to_fill_in_by_hand() {
    let dir = project();
    let d = dir.path();
    std::fs::write(d.join("src/lib.rs"), USERS).expect("models");
    ok(d, &["generate", "create_users"]);
    let out = ok(d, &["generate", "--empty", "seed_admin"]);
    assert!(out.contains("0002_seed_admin.toml (no steps yet)"), "{out}");
    assert!(out.contains("migrator rehash"), "{out}");
    let file = d.join("migrations/0002_seed_admin.toml");
    let written = std::fs::read_to_string(&file).expect("written");
    assert!(!written.contains("upgrade = []"), "{written}");
    assert!(written.contains("# op = \"sql\""), "{written}");
    let check = ok(d, &["check"]);
    assert!(check.contains("2 migration(s), head 0002"), "{check}");

    let bad = migrator(d, &["generate", "--empty", "Seed Admin"]);
    assert_eq!(code(&bad), 1, "{}", text(&bad));
    assert!(
        text(&bad).contains("not a valid migration name"),
        "{}",
        text(&bad)
    );
    assert!(!d.join("migrations/0003_Seed Admin.toml").exists());
    let both = migrator(d, &["generate", "--empty", "x", "--dialect", "sqlite"]);
    assert_eq!(code(&both), 2, "{}", text(&both));

    // Filled in as the comment shows, then rehashed.
    std::fs::write(
        &file,
        format!(
            "{written}\n[[upgrade]]\nop = \"sql\"\nsql = \"INSERT INTO users (name) VALUES ('admin')\"\nreverse = \"DELETE FROM users WHERE name = 'admin'\"\n"
        ),
    )
    .expect("edit");
    let edited = migrator(d, &["check"]);
    assert_eq!(
        code(&edited),
        1,
        "an unrehashed edit passes check:\n{}",
        text(&edited)
    );
    ok(d, &["rehash"]);
    let db = d.join("app.db");
    let url = format!("sqlite://{}", db.display());
    let up = ok(d, &["--database-url", &url, "up"]);
    assert!(up.contains("applied 0002_seed_admin"), "{up}");
    let count = |filter: &str| -> i64 {
        use diesel::{Connection, RunQueryDsl};
        let mut c = diesel::SqliteConnection::establish(&db.display().to_string()).expect("open");
        diesel::select(diesel::dsl::sql::<diesel::sql_types::BigInt>(&format!(
            "(SELECT count(*) FROM users WHERE {filter})"
        )))
        .get_result(&mut c)
        .expect("count")
    };
    assert_eq!(count("name = 'admin'"), 1);
    let down = ok(d, &["--database-url", &url, "down"]);
    assert!(down.contains("rolled back 0002_seed_admin"), "{down}");
    assert_eq!(count("1 = 1"), 0);

    // A raw step without `reverse` and no `[[downgrade]]`: `down` refuses
    // as irreversible (it used to print "rolled back" and do nothing).
    ok(d, &["--database-url", &url, "up"]);
    ok(d, &["generate", "--empty", "archive"]);
    let file = d.join("migrations/0003_archive.toml");
    let written = std::fs::read_to_string(&file).expect("written");
    std::fs::write(
        &file,
        format!("{written}\n[[upgrade]]\nop = \"sql\"\nsql = \"DELETE FROM users WHERE name = 'admin'\"\n"),
    )
    .expect("edit");
    ok(d, &["rehash"]);
    ok(d, &["--database-url", &url, "up"]);
    let down = migrator(d, &["--database-url", &url, "down"]);
    assert_eq!(code(&down), 1, "{}", text(&down));
    assert!(
        text(&down).contains("0003_archive is irreversible: step 1 has no reverse"),
        "{}",
        text(&down)
    );
    let status = ok(d, &["--database-url", &url, "status"]);
    assert!(
        status
            .lines()
            .any(|l| l.starts_with("0003_archive") && l.contains("applied")),
        "{status}"
    );
}

/// Output into a pipe whose reader has gone (`migrator sql | head -1`)
/// ends the command quietly with 141, as SIGPIPE would, not with a panic.
#[test]
fn a_closed_output_pipe_ends_quietly() {
    let dir = project();
    let d = dir.path();
    std::fs::write(d.join("src/lib.rs"), USERS).expect("models");
    ok(d, &["generate", "create_users"]);
    // A migration whose SQL is far larger than a pipe's buffer.
    let out = ok(d, &["generate", "--empty", "big"]);
    assert!(out.contains("0002_big"), "{out}");
    let file = d.join("migrations/0002_big.toml");
    let mut src = std::fs::read_to_string(&file).expect("written");
    let values: Vec<String> = (0..20_000).map(|i| format!("('user {i}')")).collect();
    src.push_str(&format!(
        "\n[[upgrade]]\nop = \"sql\"\nsql = \"INSERT INTO users (name) VALUES {}\"\nreverse = \"DELETE FROM users\"\n",
        values.join(", ")
    ));
    std::fs::write(&file, src).expect("edit");
    ok(d, &["rehash"]);
    let mut child = Command::new(env!("CARGO_BIN_EXE_migrator"))
        .arg("--dir")
        .arg(d)
        .args(["sql", "--dialect", "sqlite"])
        .env_remove("DATABASE_URL")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(141), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
}

/// `migrator completions SHELL` prints a script naming every subcommand;
/// the bash one is valid bash; an unknown shell is a usage error.
#[test]
fn completions_for_every_shell() {
    let dir = tempfile::tempdir().expect("tempdir");
    for shell in ["bash", "zsh", "fish", "powershell", "elvish"] {
        let script = ok(dir.path(), &["completions", shell]);
        for sub in [
            "generate",
            "up",
            "down",
            "status",
            "verify",
            "rehash",
            "completions",
        ] {
            assert!(script.contains(sub), "{shell}: no `{sub}`");
        }
        if shell == "bash" {
            let file = dir.path().join("migrator.bash");
            std::fs::write(&file, &script).expect("write");
            let check = Command::new("bash")
                .arg("-n")
                .arg(&file)
                .output()
                .expect("bash runs");
            assert!(
                check.status.success(),
                "{}",
                String::from_utf8_lossy(&check.stderr)
            );
        }
    }
    let bad = migrator(dir.path(), &["completions", "tcsh"]);
    assert_eq!(code(&bad), 2, "{}", text(&bad));
    assert!(text(&bad).contains("possible values"), "{}", text(&bad));
}

/// Deprecating a column across releases: the field goes, `keep` holds the
/// column (and its data) in the database, `check`/`lint` remind, and a
/// later `generate` without `keep` drops it with the lint's advice.
#[test]
fn a_kept_column_stays_until_a_later_migration_drops_it() {
    let dir = project();
    let d = dir.path();
    let with_flag = r#"
use migrator::Model;

#[derive(Model)]
pub struct Task {
    #[model(primary_key, auto_increment)]
    pub id: i64,
    pub title: String,
    #[model(index)]
    pub urgent: bool,
}
"#;
    std::fs::write(d.join("src/lib.rs"), with_flag).expect("models");
    ok(d, &["generate", "create_tasks"]);
    let url = format!("sqlite://{}", d.join("app.db").display());
    ok(d, &["--database-url", &url, "up"]);

    // The new version no longer reads the column.
    let kept = with_flag
        .replace(
            "#[derive(Model)]\n",
            "#[derive(Model)]\n#[model(keep = \"urgent\")]\n",
        )
        .replace("    #[model(index)]\n    pub urgent: bool,\n", "");
    std::fs::write(d.join("src/lib.rs"), &kept).expect("models");
    let check = ok(d, &["check"]);
    assert!(check.contains("ok: the models match"), "{check}");
    assert!(
        check.contains("note: column `tasks.urgent` is kept in the database but not in `Task`"),
        "{check}"
    );
    assert!(
        check.contains("NOT NULL without a default, so inserts that leave it out fail"),
        "{check}"
    );
    let generate = ok(d, &["generate", "nothing"]);
    assert!(generate.contains("no changes"), "{generate}");
    let lint = ok(d, &["lint"]);
    assert!(lint.contains("`tasks.urgent` is kept"), "{lint}");

    // A later release drops it.
    let gone = kept.replace("#[model(keep = \"urgent\")]\n", "");
    std::fs::write(d.join("src/lib.rs"), gone).expect("models");
    let generate = ok(d, &["generate", "drop_urgent"]);
    assert!(generate.contains("- column tasks.urgent"), "{generate}");
    assert!(generate.contains("destructive-drop"), "{generate}");
    assert!(
        generate.contains("`#[model(keep = \"column\")]`"),
        "{generate}"
    );
    // The lint error stops `up` with nothing applied, until it is allowed.
    let refused = migrator(d, &["--database-url", &url, "up"]);
    assert_eq!(code(&refused), 1, "{}", text(&refused));
    assert!(
        text(&refused).contains("lint: error[destructive-drop]: 0002_drop_urgent.toml")
            && text(&refused).contains("nothing was applied"),
        "{}",
        text(&refused)
    );
    let status = ok(d, &["--database-url", &url, "status"]);
    assert!(
        status
            .lines()
            .any(|l| l.starts_with("0002_drop_urgent") && l.contains("pending")),
        "{status}"
    );
    let up = ok(
        d,
        &["--database-url", &url, "up", "--allow", "destructive-drop"],
    );
    assert!(up.contains("applied 0002_drop_urgent"), "{up}");
}

/// `sql_type = "int"` on SQLite: the database reports the declared type as
/// `INT`; `verify` right after `up` is clean (it reported drift).
#[test]
fn a_lowercase_sqlite_sql_type_verifies_clean() {
    let dir = project();
    let d = dir.path();
    let model = r#"
use migrator::Model;

#[derive(Model)]
pub struct Item {
    #[model(primary_key)]
    pub id: i64,
    #[model(sql_type = "int")]
    pub qty: i32,
    #[model(sql_type = "bigint")]
    pub total: i64,
}
"#;
    std::fs::write(d.join("src/lib.rs"), model).expect("models");
    ok(d, &["generate", "items"]);
    let url = format!("sqlite://{}", d.join("app.db").display());
    ok(d, &["--database-url", &url, "up"]);
    let verify = ok(d, &["--database-url", &url, "verify"]);
    assert!(verify.starts_with("ok: "), "{verify}");
}

/// `status --format json`: one object a script can read, with the same
/// exit code as the text form; nothing else on stdout.
#[test]
fn status_as_json() {
    let dir = project();
    let d = dir.path();
    std::fs::write(d.join("src/lib.rs"), USERS).expect("models");
    ok(d, &["generate", "create_users"]);
    let url = format!("sqlite://{}", d.join("app.db").display());
    let parse = |o: &Output| -> serde_json::Value {
        serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", text(o)))
    };
    ok(d, &["--database-url", &url, "up"]);
    std::fs::write(d.join("src/lib.rs"), USERS_WITH_EMAIL).expect("models");
    ok(d, &["generate", "add_email"]);
    let o = migrator(d, &["--database-url", &url, "status", "--format", "json"]);
    assert_eq!(code(&o), 0, "pending is not unclean: {}", text(&o));
    let v = parse(&o);
    assert_eq!(v["pending"], 1);
    assert_eq!(v["clean"], true);
    let ms = v["migrations"].as_array().expect("array");
    assert_eq!(ms.len(), 2);
    assert_eq!(ms[0]["id"], "0001_create_users");
    assert_eq!(ms[0]["state"], "applied");
    assert!(
        ms[0]["applied_at"]
            .as_str()
            .is_some_and(|t| t.starts_with("20")),
        "{v}"
    );
    assert_eq!(ms[1]["version"], 2);
    assert_eq!(ms[1]["state"], "pending");
    ok(d, &["--database-url", &url, "up"]);
    let o = migrator(d, &["--database-url", &url, "status", "--format", "json"]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    assert_eq!(parse(&o)["pending"], 0);
    // An edited applied file: not clean, exit 1, in JSON too.
    let file = d.join("migrations/0002_add_email.toml");
    let edited = std::fs::read_to_string(&file)
        .expect("file")
        .replace("add email", "add e-mail");
    std::fs::write(&file, edited).expect("edit");
    ok(d, &["rehash"]);
    let o = migrator(d, &["--database-url", &url, "status", "--format", "json"]);
    assert_eq!(code(&o), 1, "{}", text(&o));
    let v = parse(&o);
    assert_eq!(v["clean"], false);
    assert_eq!(v["migrations"][1]["state"], "edited");
    let bad = migrator(d, &["--database-url", &url, "status", "--format", "yaml"]);
    assert_eq!(code(&bad), 2, "{}", text(&bad));
}

/// `migrator` with extra environment variables, the colour ones cleared
/// first so the test machine's settings do not leak in.
fn migrator_env(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_migrator"));
    c.arg("--dir")
        .arg(dir)
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .env("TERM", "xterm");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("runs")
}

const ESC: &str = "\x1b[";

#[test]
fn colour_on_terminals_plain_in_pipes_and_as_asked() {
    let dir = project();
    let d = dir.path();
    std::fs::write(d.join("src/models.rs"), USERS).expect("write");
    // The plan of `generate`: additions in green.
    let o = migrator_env(d, &["--color", "always", "generate", "initial"], &[]);
    assert!(o.status.success(), "{}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("\n  \x1b[32m+ table users"), "{out:?}");
    ok(d, &["up"]);

    // A pipe: plain, whatever the command.
    for args in [&["status"][..], &["sql", "1"], &["check"], &["verify"]] {
        let o = migrator_env(d, args, &[]);
        assert!(o.status.success(), "{}", text(&o));
        assert!(
            !text(&o).contains(ESC),
            "{args:?} coloured a pipe:\n{}",
            text(&o)
        );
    }

    // Asked for: the applied line in green, SQL comments dimmed.
    let o = migrator_env(d, &["--color", "always", "status"], &[]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("\x1b[32m0001_initial"), "{out:?}");
    let o = migrator_env(d, &["--color", "always", "sql", "1"], &[]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("\x1b[2m-- 0001_initial (upgrade"), "{out:?}");
    assert!(
        out.contains("\nCREATE TABLE"),
        "statements stay plain: {out:?}"
    );
    // Errors on stderr: the prefix in bold red; the exit code unchanged.
    let o = migrator_env(d, &["--color", "always", "sql", "9"], &[]);
    assert_eq!(code(&o), 1);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.starts_with("\x1b[1;31merror:\x1b[0m there is no migration 0009"),
        "{err:?}"
    );

    // `never` beats CLICOLOR_FORCE; NO_COLOR beats CLICOLOR_FORCE in auto;
    // CLICOLOR_FORCE alone colours a pipe; `always` beats NO_COLOR.
    let coloured = |args: &[&str], env: &[(&str, &str)]| {
        let o = migrator_env(d, args, env);
        assert!(o.status.success(), "{}", text(&o));
        text(&o).contains(ESC)
    };
    assert!(!coloured(
        &["--color", "never", "status"],
        &[("CLICOLOR_FORCE", "1")]
    ));
    assert!(!coloured(
        &["status"],
        &[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]
    ));
    assert!(coloured(&["status"], &[("CLICOLOR_FORCE", "1")]));
    assert!(coloured(
        &["--color", "always", "status"],
        &[("NO_COLOR", "1")]
    ));

    // A real terminal (util-linux `script` gives the command a pty):
    // coloured by default, plain with NO_COLOR or TERM=dumb.
    let on_tty = |env: &[(&str, &str)]| {
        let cmd = format!(
            "'{}' --dir '{}' status",
            env!("CARGO_BIN_EXE_migrator"),
            d.display()
        );
        let mut c = Command::new("script");
        c.args(["-qec", &cmd, "/dev/null"])
            .env_remove("DATABASE_URL")
            .env_remove("NO_COLOR")
            .env_remove("CLICOLOR_FORCE")
            .env("TERM", "xterm");
        for (k, v) in env {
            c.env(k, v);
        }
        let o = c
            .output()
            .expect("util-linux `script` runs (Debian: bsdutils)");
        assert!(o.status.success(), "{}", text(&o));
        let out = String::from_utf8_lossy(&o.stdout).into_owned();
        assert!(out.contains("0001_initial"), "{out:?}");
        out.contains(ESC)
    };
    assert!(on_tty(&[]), "a terminal is coloured by default");
    assert!(!on_tty(&[("NO_COLOR", "1")]), "NO_COLOR is respected");
    assert!(!on_tty(&[("TERM", "dumb")]), "TERM=dumb is plain");
}

#[test]
fn history_lists_what_ran_beside_its_file() {
    let dir = project();
    let d = dir.path();
    std::fs::write(d.join("src/models.rs"), USERS).expect("write");
    ok(d, &["generate", "initial"]);
    std::fs::write(d.join("src/models.rs"), USERS_WITH_EMAIL).expect("write");
    ok(d, &["generate", "add_email"]);
    ok(d, &["up", "--to", "1"]);

    let out = ok(d, &["history"]);
    let lines: Vec<&str> = out.lines().filter(|l| l.starts_with("000")).collect();
    assert_eq!(lines.len(), 1, "only what ran is history:\n{out}");
    assert!(lines[0].starts_with("0001_initial "), "{out}");
    assert!(lines[0].contains(" applied "), "{out}");
    assert!(lines[0].trim_end().ends_with(" matches"), "{out}");
    assert!(lines[0].contains(env!("CARGO_PKG_VERSION")), "{out}");

    ok(d, &["up"]);
    let o = migrator(d, &["history", "--format", "json"]);
    assert!(o.status.success(), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("one JSON object");
    let rows = v["history"].as_array().expect("history array");
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0]["version"], 1);
    assert_eq!(rows[1]["name"], "add_email");
    assert_eq!(rows[1]["state"], "applied");
    assert_eq!(rows[1]["file"], "matches");
    assert_eq!(rows[1]["checksum"].as_str().map(str::len), Some(64));
    assert!(rows[1]["execution_ms"].as_i64().is_some_and(|ms| ms >= 0));

    // Rolled back: the row is gone from the history.
    ok(d, &["down"]);
    let out = ok(d, &["history"]);
    assert!(!out.contains("0002_add_email"), "{out}");
}

#[test]
fn verify_and_lint_speak_json_with_the_same_exit_codes() {
    let dir = project();
    let d = dir.path();
    std::fs::write(d.join("src/models.rs"), USERS_WITH_EMAIL).expect("write");
    ok(d, &["generate", "initial"]);
    std::fs::write(d.join("src/models.rs"), USERS).expect("write");
    ok(d, &["generate", "drop_email"]);
    ok(d, &["up", "--allow-lint"]);

    let json = |o: &Output| -> serde_json::Value {
        serde_json::from_slice(&o.stdout)
            .unwrap_or_else(|e| panic!("not one JSON object ({e}):\n{}", text(o)))
    };
    let o = migrator(d, &["verify", "--format", "json"]);
    assert_eq!(code(&o), 0, "{}", text(&o));
    let v = json(&o);
    assert_eq!(v["clean"], true);
    assert_eq!(v["head"], 2);
    assert_eq!(v["drift"].as_array().map(Vec::len), Some(0));

    // A change made by hand: exit 1, and the drift names the table.
    let db = d.join("migrator.db");
    let mut c =
        migrator_core::runner::connect(&format!("sqlite://{}", db.display())).expect("connects");
    c.execute("ALTER TABLE users ADD COLUMN nickname TEXT")
        .expect("alter");
    let o = migrator(d, &["verify", "--format", "json"]);
    assert_eq!(code(&o), 1, "{}", text(&o));
    let v = json(&o);
    assert_eq!(v["clean"], false);
    let drift = v["drift"].as_array().expect("drift");
    assert!(
        drift.iter().any(|x| x["table"] == "users"
            && x["message"]
                .as_str()
                .is_some_and(|m| m.contains("nickname"))),
        "{v}"
    );

    // The dropped column is a destructive step: a finding with its place.
    let o = migrator(d, &["lint", "--format", "json"]);
    let v = json(&o);
    let findings = v["findings"].as_array().expect("findings");
    let f = findings
        .iter()
        .find(|f| {
            f["file"]
                .as_str()
                .is_some_and(|p| p.ends_with("0002_drop_email.toml"))
        })
        .unwrap_or_else(|| panic!("no finding about the dropped column: {v}"));
    assert!(
        f["what"].as_str().is_some_and(|w| w.contains("email")),
        "{f}"
    );
    assert!(f["step"].as_u64().is_some_and(|s| s >= 1), "{f}");
    assert!(f["rule"].is_string() && f["why"].is_string() && f["instead"].is_string());
    assert_eq!(v["migrations"], 2);
    let errors = v["errors"].as_u64().expect("errors");
    assert_eq!(code(&o), if errors > 0 { 1 } else { 0 }, "{}", text(&o));
    let plain = migrator(d, &["lint"]);
    assert_eq!(
        code(&plain),
        code(&o),
        "text and JSON agree on the exit code"
    );
}
