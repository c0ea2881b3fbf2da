//! The scan cache gives exactly what scanning gives, is used only for the
//! same text and the same build, and keeps no errors.

use std::path::{Path, PathBuf};

use super::cache::{self, Cache};
use super::{scan, IndexNames, ModelError, Models};

struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let dir =
            std::env::temp_dir().join(format!("migrator-scan-cache-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create scratch folder");
        Scratch(dir)
    }

    fn write(&self, rel: &str, src: &str) {
        let path = self.0.join(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, src).expect("write");
    }

    fn src(&self) -> Vec<PathBuf> {
        vec![self.0.join("src")]
    }

    fn cache_file(&self) -> PathBuf {
        self.0.join("cache/scan.txt")
    }

    fn cache(&self, build: &str) -> Cache {
        cache::open_at(self.cache_file(), build)
    }

    /// Scans through the cache of build `build`, caching whatever the size.
    fn cached(&self, build: &str) -> Result<Models, Vec<ModelError>> {
        let c = self.cache(build);
        scan(&self.src(), IndexNames::SchemaWide, Some((&c, 0)), true)
    }

    fn fresh(&self) -> Result<Models, Vec<ModelError>> {
        scan(&self.src(), IndexNames::SchemaWide, None, true)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

const USERS: &str = r#"use migrator::Model;

#[derive(Model)]
#[model(table = "users", renamed_from = "accounts", index = "name, email", unique = "email", check = "length(name) > 0")]
pub struct User {
    #[model(primary_key, auto_increment)]
    pub id: i64,
    #[model(max_length = 100, renamed_from = "login", collation = "C")]
    pub name: String,
    #[model(column = "émail", comment = "line one\nline two \\ back")]
    pub email: Option<String>,
    #[model(default = 1.5)]
    pub score: f64,
}

#[cfg(test)]
mod fixtures;

mod inner {
    #[derive(migrator::Model)]
    #[model(table = "tasks", keep = "legacy")]
    pub struct Task {
        #[model(primary_key)]
        pub id: i64,
        #[model(foreign_key = "users.id", on_delete = "cascade", index)]
        pub user_id: i64,
        #[model(sql_type = "NUMERIC(12, 2)", diesel_type = "crate::sql::Money")]
        pub amount: Option<f64>,
    }
}
"#;

fn project(name: &str) -> Scratch {
    let s = Scratch::new(name);
    s.write("src/models.rs", USERS);
    s.write(
        "src/models/fixtures.rs",
        "#[derive(migrator::Model)]\npub struct Fixture {\n    pub id: i64,\n}\n",
    );
    s.write("src/main.rs", "mod models;\nfn main() {}\n");
    s
}

#[test]
fn a_cached_scan_equals_a_fresh_one() {
    let p = project("equal");
    let fresh = p.fresh().expect("the models scan");
    assert_eq!(fresh.defs.len(), 2, "{fresh:#?}");
    // The fields diesel's schema needs: a renamed column, a stated type.
    let diesel: Vec<_> = fresh.defs.iter().flat_map(|d| d.diesel.clone()).collect();
    assert_eq!(diesel.len(), 2, "{diesel:#?}");
    assert_eq!(diesel[1].diesel_type.as_deref(), Some("crate::sql::Money"));
    assert_eq!(p.cached("b1").expect("first, filling the cache"), fresh);
    assert!(p.cache_file().is_file(), "the cache is written");
    // Every file that holds models now comes from the cache.
    let c = p.cache("b1");
    let models = p.0.join("src/models.rs");
    let hash = cache::text_hash(&std::fs::read_to_string(&models).expect("read"));
    assert!(c.get(&models, &hash).is_some(), "an entry for the file");
    assert!(c.get(&models, "0000").is_none(), "not for another text");
    assert_eq!(p.cached("b1").expect("second, from the cache"), fresh);
}

#[test]
fn an_entry_is_used_only_for_the_same_text_and_build() {
    let p = project("keys");
    let fresh = p.fresh().expect("the models scan");
    p.cached("b1").expect("fills the cache");
    // Tamper with the entry: the scan that uses it shows the tampering,
    // which proves the file was not parsed again.
    let text = std::fs::read_to_string(p.cache_file()).expect("cache");
    let tampered = text.replace("M\tUser\t", "M\tUsex\t");
    assert_ne!(text, tampered);
    std::fs::write(p.cache_file(), &tampered).expect("write");
    let from_cache = p.cached("b1").expect("scans");
    assert!(from_cache.defs.iter().any(|d| d.struct_name == "Usex"));
    // Another build ignores the cache (and replaces it).
    assert_eq!(p.cached("b2").expect("scans"), fresh);
    // The source edited: its entry no longer applies.
    std::fs::write(p.cache_file(), &tampered).expect("write");
    p.write(
        "src/models.rs",
        &USERS.replace("pub score: f64", "pub points: f64"),
    );
    let edited = p.cached("b1").expect("scans");
    assert_eq!(edited, p.fresh().expect("scans"));
    assert!(edited.defs.iter().any(|d| d.struct_name == "User"));
}

#[test]
fn errors_are_found_anew_and_a_broken_cache_is_ignored() {
    let p = project("errors");
    p.write(
        "src/broken.rs",
        "#[derive(migrator::Model)]\npub struct Broken {\n    #[model(prmary_key)]\n    pub id: i64,\n}\n",
    );
    let fresh = p.fresh().expect_err("the unknown key");
    assert_eq!(p.cached("b1").expect_err("the same error"), fresh);
    assert_eq!(
        p.cached("b1").expect_err("again, not from the cache"),
        fresh
    );
    let text = std::fs::read_to_string(p.cache_file()).expect("cache");
    assert!(!text.contains("broken.rs"), "{text}");
    assert!(text.contains("models.rs"), "{text}");
    // Cut short, or garbage: ignored, and the scan is right.
    p.write("src/broken.rs", "pub struct Fine;\n");
    let fresh = p.fresh().expect("scans");
    for broken in [&text[..text.len() / 2], "garbage\n", ""] {
        std::fs::write(p.cache_file(), broken).expect("write");
        assert_eq!(p.cached("b1").expect("scans"), fresh, "cache {broken:?}");
    }
}

#[test]
fn small_folders_are_not_cached() {
    let p = project("small");
    let c = p.cache("b1");
    let min = std::fs::read_to_string(p.0.join("src/models.rs"))
        .expect("read")
        .len()
        * 10;
    scan(&p.src(), IndexNames::SchemaWide, Some((&c, min)), true).expect("scans");
    assert!(!Path::new(&p.cache_file()).exists());
}
