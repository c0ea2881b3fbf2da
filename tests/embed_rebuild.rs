//! `embed_migrations!` picks up what `migrator generate` writes, with no
//! build script, as a user meets it: a new application crate embeds
//! its migrations; after `generate` the next `cargo run` embeds the new
//! migration; a hand edit of a migration file fails the next build. And
//! `migrator::schema!()` follows the models the same way: a model change
//! plus `generate` changes the typed queries' columns and types at the
//! next build (`typed_queries_follow_the_models`).
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
        App::with_dependencies("migrator = { path = MIGRATOR, default-features = false }\n")
    }

    /// An app crate with these `[dependencies]` lines (`MIGRATOR` stands
    /// for the path of this checkout).
    fn with_dependencies(dependencies: &str) -> App {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let app = App { dir };
        app.write(
            "Cargo.toml",
            &format!(
                "[package]\nname = \"embed-app\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n[dependencies]\n{}\n# Not a member of any workspace around the temporary folder.\n[workspace]\n",
                dependencies.replace("MIGRATOR", &format!("{:?}", root.display().to_string()))
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

const TYPED_MAIN: &str = r#"mod models;

mod schema {
    migrator::schema!();
}

use diesel::prelude::*;
use schema::items;

static MIGRATIONS: migrator::EmbeddedMigrations = migrator::embed_migrations!("migrations");

fn main() {
    let mut conn = diesel::SqliteConnection::establish("app.db").expect("opens");
    migrator::Migrator::new(&MIGRATIONS).up(&mut conn).expect("migrates");
    diesel::insert_into(items::table)
        .values(items::name.eq("first"))
        .execute(&mut conn)
        .expect("inserts");
    QUERY
}
"#;

fn typed_models(extra: &str) -> String {
    format!(
        "use diesel::prelude::*;\n\n#[derive(Debug, migrator::Model, Queryable, Selectable)]\n#[model(table = \"items\")]\n#[diesel(table_name = crate::schema::items)]\npub struct Item {{\n    #[model(primary_key, auto_increment)]\n    pub id: i64,\n    #[model(max_length = 50)]\n    pub name: String,\n{extra}}}\n"
    )
}

#[test]
fn typed_queries_follow_the_models() {
    let app = App::with_dependencies(
        "migrator = { path = MIGRATOR, default-features = false, features = [\"sqlite\"] }\ndiesel = { version = \"2.3\", default-features = false, features = [\"sqlite\"] }\n",
    );
    let main = |query: &str| TYPED_MAIN.replace("QUERY", query);
    app.write("src/models.rs", &typed_models(""));
    app.write(
        "src/main.rs",
        &main(r#"let all: Vec<models::Item> = items::table.select(models::Item::as_select()).load(&mut conn).expect("loads");
    println!("{all:?}");"#),
    );
    app.generate("create_items");
    let out = app
        .run()
        .unwrap_or_else(|e| panic!("the first build:\n{e}"));
    assert_eq!(out.trim(), r#"[Item { id: 1, name: "first" }]"#);

    // A new field: the derive refuses the build until `generate` ran...
    let score = "    #[model(default = 0)]\n    pub score: i32,\n";
    app.write("src/models.rs", &typed_models(score));
    let filter = r#"let top: Vec<models::Item> = items::table
        .filter(items::score.eq(0_i32))
        .order(items::id)
        .select(models::Item::as_select())
        .load(&mut conn)
        .expect("loads");
    println!("{top:?}");"#;
    app.write("src/main.rs", &main(filter));
    let stderr = app
        .run()
        .expect_err("a model ahead of its snapshot does not build");
    assert!(stderr.contains("migrator generate"), "{stderr}");
    // ... and after it, the new column is in the typed queries, as `Integer`.
    app.generate("add_score");
    let out = app
        .run()
        .unwrap_or_else(|e| panic!("after `generate add_score`:\n{e}"));
    assert_eq!(
        out.trim(),
        r#"[Item { id: 1, name: "first", score: 0 }, Item { id: 2, name: "first", score: 0 }]"#
    );

    // A type change: the same query with an `i32` no longer type-checks
    // once the column is `BigInt`.
    app.write(
        "src/models.rs",
        &typed_models("    #[model(default = 0)]\n    pub score: i64,\n"),
    );
    app.generate("widen_score");
    let stderr = app.run().expect_err("an i32 against a BigInt column");
    assert!(
        stderr.contains("error[E0277]")
            && stderr.contains("BigInt")
            && stderr.contains("src/main.rs"),
        "{stderr}"
    );
    app.write("src/main.rs", &main(&filter.replace("0_i32", "0_i64")));
    let out = app
        .run()
        .unwrap_or_else(|e| panic!("after `generate widen_score`:\n{e}"));
    let item = |id: u8| format!(r#"Item {{ id: {id}, name: "first", score: 0 }}"#);
    assert_eq!(
        out.trim(),
        format!("[{}, {}, {}]", item(1), item(2), item(3)),
        "the rows of every run, kept through the type change"
    );
}
