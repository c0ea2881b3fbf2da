//! Errors that know a file and line show that line under the message, with
//! its number and a caret under the column (`src/snippet.rs`): a migration
//! file, `migrator.toml`, a model attribute, a line of a targets file. The
//! whole of stderr is compared, so a snippet that moves, loses its caret or
//! shows a password fails here.

use std::path::Path;
use std::process::{Command, Output};

fn migrator(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_migrator"))
        .current_dir(dir)
        .args(args)
        .env_remove("DATABASE_URL")
        .env_remove("NO_COLOR")
        .env_remove("CLICOLOR_FORCE")
        .output()
        .expect("runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// A project made by `migrator init`, run from its folder (the paths in
/// the messages are then `./...`).
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("src")).expect("src");
    let o = migrator(dir.path(), &["init"]);
    assert!(o.status.success(), "{}", stderr(&o));
    dir
}

#[test]
fn a_migration_file_with_a_toml_syntax_error_shows_the_line() {
    let dir = project();
    let d = dir.path();
    std::fs::write(
        d.join("migrations/0001_broken.toml"),
        "description = \"x\"\n[[upgrade]]\nop = = \"sql\"\n",
    )
    .expect("write");
    for args in [&["lint"][..], &["status"][..], &["sql", "1"][..]] {
        let o = migrator(d, args);
        assert_eq!(o.status.code(), Some(1), "{args:?}");
        assert_eq!(
            stderr(&o),
            "error: ./migrations/0001_broken.toml:3:6: extra `=`, expected nothing\n \
             --> ./migrations/0001_broken.toml:3:6\n  \
             |\n\
             3 | op = = \"sql\"\n  \
             |      ^\n",
            "{args:?}"
        );
    }
}

#[test]
fn a_bad_model_attribute_under_generate_shows_the_line_before_the_help() {
    let dir = project();
    let d = dir.path();
    // A tab before the attribute, and a multi-byte character before the
    // column on another line: the caret still lands on the key.
    std::fs::write(
        d.join("src/models.rs"),
        "use migrator::Model;\n\n#[derive(Model)]\npub struct Thing {\n    #[model(primary_key)]\n    pub id: i64,\n\t#[model(max_len = 3)]\n    pub name: String,\n    /* é */ #[model(colation = \"C\")]\n    pub other: String,\n}\n",
    )
    .expect("models");
    let o = migrator(d, &["generate", "first"]);
    assert_eq!(o.status.code(), Some(1));
    let t = stderr(&o);
    let keys = t
        .lines()
        .find_map(|l| l.strip_prefix("help: valid field keys are"))
        .unwrap_or_else(|| panic!("a help line:\n{t}"));
    assert_eq!(
        t,
        format!(
            "error: 2 problem(s) in the models:\n\
             ./src/models.rs:7:10: error: unknown field attribute `max_len`\n \
             --> ./src/models.rs:7:10\n  \
             |\n\
             7 |     #[model(max_len = 3)]\n  \
             |             ^\n\
             help: valid field keys are{keys}\n\
             ./src/models.rs:9:21: error: unknown field attribute `colation`\n \
             --> ./src/models.rs:9:21\n  \
             |\n\
             9 |     /* é */ #[model(colation = \"C\")]\n  \
             |                     ^\n\
             help: did you mean `collation`? valid field keys are{keys}\n"
        )
    );
    assert!(!d.join("migrations/0001_first.toml").exists());
}

#[test]
fn a_bad_migrator_toml_shows_the_line_and_colour_changes_no_text() {
    let dir = project();
    let d = dir.path();
    std::fs::write(
        d.join("migrator.toml"),
        "models = [\"src\"]\ndialect = [\"postgres\"]\n",
    )
    .expect("config");
    let expected = "error: ./migrator.toml:2:1: unknown field `dialect`, expected one of `models`, `migrations`, `dialects`, `schema_rs`\n \
                    --> ./migrator.toml:2:1\n  \
                    |\n\
                    2 | dialect = [\"postgres\"]\n  \
                    | ^\n\
                    help: valid keys are `models` (list of folders), `migrations` (folder), `dialects` (list of postgres, sqlite, mysql)\n";
    let o = migrator(d, &["check"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(stderr(&o), expected);
    // Coloured, the same text once the SGR codes are gone, and the gutter
    // and caret are what is coloured.
    let o = migrator(d, &["--color", "always", "check"]);
    let coloured = stderr(&o);
    assert!(coloured.contains("\x1b[1;31m^\x1b[0m"), "{coloured:?}");
    let mut plain = String::new();
    let mut rest = coloured.as_str();
    while let Some(i) = rest.find("\x1b[") {
        plain.push_str(&rest[..i]);
        let end = rest[i..].find('m').expect("an SGR code ends in m");
        rest = &rest[i + end + 1..];
    }
    plain.push_str(rest);
    assert_eq!(plain, expected);
}

#[test]
fn a_bad_targets_line_is_shown_without_its_password() {
    let dir = project();
    let d = dir.path();
    std::fs::write(
        d.join("tenants.txt"),
        "# tenants\n  postgres://app:hunter2secret@127.0.0.1:1/db schema=a junk\n",
    )
    .expect("targets");
    let o = migrator(d, &["--targets", "tenants.txt", "status"]);
    assert_eq!(o.status.code(), Some(1));
    assert_eq!(
        stderr(&o),
        "error: tenants.txt:2: unexpected `junk` after the URL\n \
         --> tenants.txt:2\n  \
         |\n\
         2 |   postgres://app:***@127.0.0.1:1/db schema=a junk\n  \
         |   ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^\n\
         help: a line is `URL` or `URL schema=NAME`\n"
    );
    // A URL that does not parse is not shown at all.
    std::fs::write(
        d.join("tenants.txt"),
        "postgress://app:hunter2secret@h/db\n",
    )
    .expect("targets");
    let o = migrator(d, &["--targets", "tenants.txt", "status"]);
    let t = stderr(&o);
    assert!(!t.contains("hunter2secret"), "{t}");
    assert!(
        t.contains("\n1 | (an invalid database URL)\n  | ^^^^^^^^^^^^^^^^^^^^^^^^^\n"),
        "{t}"
    );
}

#[test]
fn usage_errors_still_exit_2_without_a_snippet() {
    let dir = project();
    let d = dir.path();
    let o = migrator(d, &["lint", "--allow", "no-such-rule"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).starts_with(
            "error: unknown lint rule `no-such-rule` in `--allow`\nhelp: the rules are "
        ),
        "{}",
        stderr(&o)
    );
    let o = migrator(d, &["status", "--database-url", "db.example.com"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        stderr(&o).starts_with("error: --database-url: the database URL is neither a URL nor an SQLite file path (it looks like a host name)\n"),
        "{}",
        stderr(&o)
    );
    let o = migrator(d, &["diagram", "--at", "9"]);
    assert_eq!(o.status.code(), Some(2));
    assert_eq!(
        stderr(&o),
        "error: --at 9: there is no migration 0009; ./migrations has no migrations\n"
    );
}
