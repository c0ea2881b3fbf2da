//! `embed_migrations!` picks up what `migrator generate` writes, with no
//! build script, as a user meets it: a new application crate embeds
//! its migrations; after `generate` the next `cargo run` embeds the new
//! migration; a hand edit of a migration file fails the next build.
//!
//! The models live in `src/models.rs`, which `generate` reads but the crate
//! does not compile (no `mod models;`), so nothing but the migrations folder
//! changes between builds: only the macro's `include_bytes!` can make Cargo
//! rebuild. The app is built in this workspace's target folder, with the
//! workspace's lock file, so migrator's dependencies are compiled once.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use migrator::core::project::Project;

const MAIN: &str = r#"static MIGRATIONS: migrator::EmbeddedMigrations = migrator::embed_migrations!("migrations");

fn main() {
    for m in &MIGRATIONS {
        println!("{} {}", m.id(), &m.checksum()[..12]);
    }
}
"#;

fn models(extra: &str) -> String {
    format!(
        "#[derive(migrator::Model)]\n#[model(table = \"items\")]\npub struct Item {{\n    #[model(primary_key, auto_increment)]\n    pub id: i64,\n{extra}}}\n"
    )
}

struct App {
    dir: tempfile::TempDir,
}

impl App {
    fn new() -> App {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let app = App { dir };
        app.write(
            "Cargo.toml",
            &format!(
                "[package]\nname = \"embed-app\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n[dependencies]\nmigrator = {{ path = {:?}, default-features = false }}\n\n# Not a member of any workspace around the temporary folder.\n[workspace]\n",
                root.display().to_string()
            ),
        );
        std::fs::copy(root.join("Cargo.lock"), app.dir.path().join("Cargo.lock"))
            .expect("copy Cargo.lock");
        app.write("src/main.rs", MAIN);
        app
    }

    fn write(&self, file: &str, text: &str) {
        let path = self.dir.path().join(file);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }

    /// What `migrator generate NAME` writes: the migration, then the snapshot.
    fn generate(&self, name: &str) {
        let project = Project::open(self.dir.path()).expect("project");
        let g = project
            .generate(name)
            .expect("generate")
            .expect("a change to generate");
        let dir = project.migrations_dir();
        std::fs::create_dir_all(&dir).expect("mkdir");
        std::fs::write(dir.join(&g.file_name), &g.migration_text).expect("write migration");
        std::fs::write(project.snapshot_path(), &g.snapshot_text).expect("write snapshot");
    }

    /// `cargo run --offline --quiet`: `Ok(stdout)` or `Err(stderr)`.
    fn run(&self) -> Result<String, String> {
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let target = Path::new(env!("CARGO_TARGET_TMPDIR"))
            .parent()
            .expect("the target folder")
            .to_path_buf();
        let mut child = Command::new(cargo)
            .args(["run", "--offline", "--quiet"])
            .current_dir(self.dir.path())
            .env("CARGO_TARGET_DIR", target)
            .env("CARGO_TERM_COLOR", "never")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cargo runs");
        let read = |mut r: Box<dyn std::io::Read + Send>| {
            std::thread::spawn(move || {
                let mut s = String::new();
                r.read_to_string(&mut s).map(|_| s)
            })
        };
        let out = read(Box::new(child.stdout.take().expect("stdout")));
        let err = read(Box::new(child.stderr.take().expect("stderr")));
        // Generous: the first build compiles migrator, and may wait for
        // another cargo holding the target folder.
        let deadline = Instant::now() + Duration::from_secs(900);
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait") {
                break status;
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("`cargo run` of the embed app took more than 15 minutes");
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        let out = out.join().expect("thread").expect("UTF-8");
        let err = err.join().expect("thread").expect("UTF-8");
        if status.success() {
            Ok(out)
        } else {
            Err(err)
        }
    }

    fn migration(&self, file: &str) -> PathBuf {
        self.dir.path().join("migrations").join(file)
    }
}

#[track_caller]
fn ids(app: &App, when: &str) -> Vec<String> {
    match app.run() {
        Ok(out) => out
            .lines()
            .map(|l| l.split(' ').next().unwrap_or("").to_string())
            .collect(),
        Err(stderr) => panic!("{when}: the app should build and run, but:\n{stderr}"),
    }
}

#[test]
fn generate_then_build_embeds_the_new_migration() {
    let app = App::new();
    app.write("src/models.rs", &models(""));
    app.generate("create_items");
    assert_eq!(
        ids(&app, "after the first migration"),
        ["0001_create_items"]
    );

    // Only the (uncompiled) models and the migrations folder change.
    app.write(
        "src/models.rs",
        &models("    #[model(default = 0)]\n    pub score: i32,\n"),
    );
    app.generate("add_score");
    assert_eq!(
        ids(&app, "after `generate add_score`"),
        ["0001_create_items", "0002_add_score"],
        "the build must see the new migration without a build script"
    );

    // A hand edit of a migration file alone rebuilds, and the chain check
    // refuses it.
    let path = app.migration("0002_add_score.toml");
    let text = std::fs::read_to_string(&path).expect("read");
    let edited = text.replacen("int = 0", "int = 1", 1);
    assert_ne!(text, edited, "the edit changes the file:\n{text}");
    std::fs::write(&path, edited).expect("write");
    let stderr = app.run().expect_err("an edited migration fails the build");
    assert!(
        stderr.contains("migrations/0002_add_score.toml: this migration was edited after `migrator generate` wrote it"),
        "{stderr}"
    );
}
