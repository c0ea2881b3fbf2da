//! The compile-time drift check of `#[derive(Model)]`, end to end, as a
//! user meets it: a new application crate depending on migrator builds
//! after `generate`; a model change without `generate` fails the build with
//! a message saying to run it; after `generate` it builds again; and an edit
//! of the snapshot alone rebuilds the crate (no build.rs).
//!
//! trybuild cannot test this: it compiles its tests in a crate of its own,
//! whose root has no snapshot. So this test writes a small application to a
//! temporary folder and runs `cargo build` on it, in this workspace's target
//! folder so that migrator's dependencies are compiled once. `generate` is
//! `migrator_core::project::Project::generate`, the code behind the CLI.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use migrator::core::project::Project;

/// The application's `main.rs`: two models, `{fields}` spliced into the
/// second. Only the first expansion of a compilation includes the snapshot
/// (`drift::first_expansion`), so a change of the snapshot must rebuild the
/// crate through `User`'s expansion to report `Task`'s drift.
fn main_rs(fields: &str) -> String {
    format!(
        r#"use migrator::Model;

#[derive(Model)]
#[model(table = "users")]
pub struct User {{
    #[model(primary_key, auto_increment)]
    pub id: i64,
}}

#[derive(Model)]
#[model(table = "tasks")]
pub struct Task {{
    #[model(primary_key, auto_increment)]
    pub id: i64,
    #[model(max_length = 200)]
    pub title: String,
{fields}}}

fn main() {{
    println!("{{}} {{}}", User::table().columns.len(), Task::table().columns.len());
}}

// A test's model: `generate` does not read it, so the derive does not hold
// it to the snapshot either.
#[cfg(test)]
mod tests {{
    #[derive(migrator::Model)]
    pub struct Scratch {{
        pub id: i64,
    }}
}}
"#
    )
}

/// The line of the `priority` field the test adds (its name is at column 9).
const PRIORITY_LINE: usize = 18;

struct App {
    dir: tempfile::TempDir,
}

impl App {
    fn new() -> App {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let manifest = format!(
            r#"[package]
name = "drift-app"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
migrator = {{ path = {root:?}, default-features = false }}

# Not a member of any workspace around the temporary folder.
[workspace]
"#,
            root = root.display().to_string(),
        );
        let app = App { dir };
        app.write("Cargo.toml", &manifest);
        // The workspace's lock file pins every version, so the build needs
        // no registry and reuses what the workspace compiled.
        std::fs::copy(root.join("Cargo.lock"), app.path().join("Cargo.lock"))
            .expect("copy Cargo.lock");
        app.write("migrator.toml", "migrations = \"db/migrations\"\n");
        app
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    fn write(&self, file: &str, text: &str) {
        let path = self.path().join(file);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }

    fn read(&self, file: &str) -> String {
        std::fs::read_to_string(self.path().join(file)).expect("read")
    }

    /// What `migrator generate NAME` does: the migration, then the snapshot.
    fn generate(&self, name: &str) {
        let project = Project::open(self.path()).expect("project");
        let generated = project
            .generate(name)
            .expect("generate")
            .expect("a change to generate");
        let dir = project.migrations_dir();
        std::fs::create_dir_all(&dir).expect("mkdir");
        std::fs::write(dir.join(&generated.file_name), &generated.migration_text)
            .expect("write migration");
        std::fs::write(project.snapshot_path(), &generated.snapshot_text).expect("write snapshot");
    }

    /// `cargo build`: `Ok(stderr)` or `Err(stderr)`.
    fn build(&self) -> Result<String, String> {
        self.cargo(&["build"])
    }

    /// `cargo <args> --offline --quiet`: `Ok(stderr)` or `Err(stderr)`.
    fn cargo(&self, args: &[&str]) -> Result<String, String> {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut child = Command::new(cargo)
            .args(args)
            .args(["--offline", "--quiet"])
            .current_dir(self.path())
            .env("CARGO_TARGET_DIR", target_dir())
            .env("CARGO_TERM_COLOR", "never")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("cargo runs");
        // Read stderr on a thread so a chatty build cannot block on a full
        // pipe while we wait.
        let mut stderr = child.stderr.take().expect("stderr");
        let reader = std::thread::spawn(move || {
            let mut s = String::new();
            std::io::Read::read_to_string(&mut stderr, &mut s).map(|_| s)
        });
        // A generous bound: the first build compiles migrator and its
        // dependencies, and may wait for another cargo holding the folder.
        let deadline = Instant::now() + Duration::from_secs(900);
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait") {
                break status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!(
                    "`cargo {}` of the drift app took more than 15 minutes",
                    args.join(" ")
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        let stderr = reader
            .join()
            .expect("reader thread")
            .expect("stderr is UTF-8");
        if status.success() {
            Ok(stderr)
        } else {
            Err(stderr)
        }
    }
}

/// This workspace's target folder (`CARGO_TARGET_TMPDIR` is its `tmp`).
fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("the target folder")
        .to_path_buf()
}

#[track_caller]
fn assert_builds(app: &App, when: &str) {
    if let Err(stderr) = app.build() {
        panic!("{when}: the app should build, but:\n{stderr}");
    }
}

#[track_caller]
fn assert_drift(app: &App, when: &str) -> String {
    let stderr = match app.build() {
        Ok(stderr) => panic!("{when}: the build should fail, but it passed:\n{stderr}"),
        Err(stderr) => stderr,
    };
    let expected = [
        "error: `Task` does not match `db/migrations/schema.toml`: column `priority` is not in the snapshot",
        "help: run `migrator generate <name>` to write a migration for this change",
        &format!("src/main.rs:{PRIORITY_LINE}:9"),
    ];
    for line in expected {
        assert!(
            stderr.contains(line),
            "{when}: expected `{line}` in:\n{stderr}"
        );
    }
    // One difference, one error: the impl is still emitted, so the use of
    // `Task::table()` in `main` adds nothing.
    assert_eq!(
        stderr.matches("error: `Task` does not match").count(),
        1,
        "{when}:\n{stderr}"
    );
    stderr
}

#[test]
fn a_model_change_fails_the_build_until_generate() {
    let app = App::new();

    // No snapshot yet: the crate does not use migrations, nothing to check.
    app.write("src/main.rs", &main_rs(""));
    assert_builds(&app, "before any migration");

    app.generate("create_tasks");
    assert_builds(&app, "after generating the first migration");

    // A new column without `generate`.
    app.write(
        "src/main.rs",
        &main_rs(
            "    #[model(max_length = 20, default = \"medium\")]\n    pub priority: String,\n",
        ),
    );
    let old_snapshot = app.read("db/migrations/schema.toml");
    assert_drift(&app, "after adding a column");

    app.generate("add_priority");
    assert!(app
        .path()
        .join("db/migrations/0002_add_priority.toml")
        .is_file());
    assert_builds(&app, "after generating the migration");
    // The test build sees the test's model, which is not in the snapshot.
    if let Err(stderr) = app.cargo(&["test", "--no-run"]) {
        panic!("the tests should build, but:\n{stderr}");
    }

    // Only the snapshot changes (back to before `generate`): Cargo rebuilds
    // the crate because the derive included the file, and the check fails.
    app.write("db/migrations/schema.toml", &old_snapshot);
    assert_drift(&app, "after restoring the old snapshot");
}
