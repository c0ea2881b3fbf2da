//! `migrator lint` as a user runs it: named findings, exit 1 on an error
//! finding, `--allow` and a migration's own `allow` list, exit 2 on an
//! unknown rule.

use std::path::Path;
use std::process::{Command, Output};

fn migrator(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_migrator"))
        .arg("--dir")
        .arg(dir)
        .args(args)
        .env_remove("DATABASE_URL")
        .output()
        .expect("migrator runs")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// The example app's migrations in a scratch project.
fn example_copy() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/todo/migrations");
    let dst = dir.path().join("migrations");
    std::fs::create_dir_all(&dst).expect("mkdir");
    for entry in std::fs::read_dir(&src).expect("example migrations") {
        let entry = entry.expect("entry");
        std::fs::copy(entry.path(), dst.join(entry.file_name())).expect("copy");
    }
    dir
}

#[test]
fn findings_allow_lists_and_exit_codes() {
    let dir = example_copy();
    let o = migrator(dir.path(), &["lint"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains("0 error(s)"), "{}", text(&o));

    // Without the migration's own allow list the drop is an error.
    let file = dir.path().join("migrations/0006_priority_from_flag.toml");
    let src = std::fs::read_to_string(&file).expect("read");
    std::fs::write(&file, src.replace("allow = [\"destructive-drop\"]\n", "")).expect("write");
    let o = migrator(dir.path(), &["rehash"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = migrator(dir.path(), &["lint"]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains("error[destructive-drop]: ")
            && out.contains("0006_priority_from_flag.toml: upgrade step 2:"),
        "{out}"
    );
    assert!(
        out.contains("  why: ") && out.contains("  instead: "),
        "{out}"
    );

    // `up --dry-run` reports them for the migrations it would run, on
    // stderr, after the SQL on stdout.
    let o = migrator(dir.path(), &["up", "--dry-run"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(
        stderr.contains("lint: error[destructive-drop]: 0006_priority_from_flag.toml"),
        "{stderr}"
    );
    assert!(!String::from_utf8_lossy(&o.stdout).contains("lint:"));

    let o = migrator(dir.path(), &["lint", "--allow", "destructive-drop"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));

    let o = migrator(dir.path(), &["lint", "--allow", "no-such-rule"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("unknown lint rule `no-such-rule`"),
        "{}",
        text(&o)
    );
}

#[test]
fn generate_prints_the_findings_of_the_new_migration() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("src")).expect("src");
    let model = |extra: &str| {
        format!(
            "use migrator::Model;\n#[derive(Model)]\npub struct Note {{\n    #[model(primary_key, auto_increment)]\n    pub id: i64,\n{extra}}}\n"
        )
    };
    std::fs::write(
        dir.path().join("src/models.rs"),
        model("    pub body: String,\n"),
    )
    .expect("write");
    let o = migrator(dir.path(), &["generate", "create_notes"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(!text(&o).contains("lint findings"), "{}", text(&o));
    std::fs::write(dir.path().join("src/models.rs"), model("")).expect("write");
    let o = migrator(dir.path(), &["generate", "drop_body"]);
    let out = text(&o);
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(out.contains("lint findings"), "{out}");
    assert!(
        out.contains("error[destructive-drop]: ")
            && out.contains("0002_drop_body.toml: upgrade step 1"),
        "{out}"
    );
    let o = migrator(dir.path(), &["lint"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
}

#[test]
fn galera_rule_only_with_the_flag() {
    let dir = example_copy();
    let plain = text(&migrator(dir.path(), &["lint"]));
    assert!(!plain.contains("galera-toi-ddl"), "{plain}");
    let o = migrator(dir.path(), &["lint", "--galera"]);
    let out = text(&o);
    // A warning: the exit code stays 0.
    assert_eq!(o.status.code(), Some(0), "{out}");
    assert!(
        out.contains("warning[galera-toi-ddl]: ")
            && out.contains("0006_priority_from_flag.toml: upgrade step ")
            && out.contains("wsrep_OSU_method = 'RSU'"),
        "{out}"
    );
    let o = migrator(
        dir.path(),
        &["lint", "--galera", "--allow", "galera-toi-ddl"],
    );
    assert!(!text(&o).contains("galera-toi-ddl]"), "{}", text(&o));
}
