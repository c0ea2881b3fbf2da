//! Rolling a deploy back: an older release (whose migrations end at N)
//! starting against a database that a newer release migrated to N+1, and
//! the other way round. Newer migrations the old release has never seen are
//! tolerated and reported (`up`, `status`), refused with `--refuse-newer`,
//! never rolled back from the old release (`down` says which release can),
//! while an edited older migration is still refused. Both orders, on SQLite
//! and PostgreSQL (mandatory under CI=true), through the binary, plus the
//! library's `Migrator::newer_migrations` and its event.

mod common;

use std::path::Path;

use common::{migrator_at, ok_at, pg_base_url, text, PgDb};

const V1: &str = r#"
use migrator::Model;

#[derive(Model)]
pub struct Item {
    #[model(primary_key, auto_increment)]
    pub id: i64,
    #[model(max_length = 40)]
    pub title: String,
}
"#;

/// The old release (0001, 0002) and the new one (the same, plus 0003).
fn releases() -> (tempfile::TempDir, tempfile::TempDir) {
    let old = tempfile::tempdir().expect("tempdir");
    let d = old.path();
    std::fs::create_dir_all(d.join("src")).expect("src");
    let scratch = format!("sqlite://{}", d.join("scratch.db").display());
    std::fs::write(d.join("src/models.rs"), V1).expect("models");
    ok_at(d, &scratch, &["init"]);
    ok_at(d, &scratch, &["generate", "items"]);
    let v2 = V1.replace(
        "    pub title: String,",
        "    pub title: String,\n    pub note: Option<String>,",
    );
    std::fs::write(d.join("src/models.rs"), &v2).expect("models");
    ok_at(d, &scratch, &["generate", "note"]);

    let new = tempfile::tempdir().expect("tempdir");
    let n = new.path();
    std::fs::create_dir_all(n.join("src")).expect("src");
    std::fs::create_dir_all(n.join("migrations")).expect("migrations");
    std::fs::copy(d.join("migrator.toml"), n.join("migrator.toml")).expect("copy");
    for e in std::fs::read_dir(d.join("migrations")).expect("migrations") {
        let e = e.expect("entry");
        std::fs::copy(e.path(), n.join("migrations").join(e.file_name())).expect("copy");
    }
    let v3 = v2.replace(
        "    pub note: Option<String>,",
        "    pub note: Option<String>,\n    pub done: Option<bool>,",
    );
    std::fs::write(n.join("src/models.rs"), v3).expect("models");
    let scratch = format!("sqlite://{}", n.join("scratch.db").display());
    ok_at(n, &scratch, &["generate", "done"]);
    (old, new)
}

fn history_of(dir: &Path, url: &str) -> String {
    ok_at(dir, url, &["history", "--format", "json"])
}

fn rollback_and_forward(url: &str) {
    let (old, new) = releases();
    let (o, n) = (old.path(), new.path());

    // Old first, then new: the ordinary way.
    let up = ok_at(o, url, &["up"]);
    assert!(up.contains("2 migration(s) applied"), "{up}");
    let up = ok_at(n, url, &["up"]);
    assert!(up.contains("applied 0003_done"), "{up}");

    // The deploy is rolled back: the old release starts, and says so.
    let up = ok_at(o, url, &["up"]);
    assert!(up.contains("0 migration(s) applied"), "{up}");
    assert!(
        up.contains("note: the database has 1 migration(s) newer than these (which end at 0002), applied by a newer release: 0003_done"),
        "{up}"
    );
    let status = ok_at(o, url, &["status"]);
    assert!(
        status.contains("0003_done") && status.contains("newer    applied by a newer release"),
        "{status}"
    );
    let json = ok_at(o, url, &["status", "--format", "json"]);
    assert!(
        json.contains("\"id\":\"0003_done\",\"state\":\"newer\",\"applied\":true"),
        "{json}"
    );
    assert!(json.contains("\"clean\":true"), "{json}");

    // Strict: refused before anything changes.
    let before = history_of(n, url);
    let o2 = migrator_at(o, url, &["up", "--refuse-newer"]);
    let out = text(&o2);
    assert_eq!(o2.status.code(), Some(1), "{out}");
    assert!(out.contains("migration 0003_done is recorded as applied, but these migrations end at 0002: a newer release applied it"), "{out}");
    // The old release cannot roll back what it does not have.
    let o2 = migrator_at(o, url, &["down"]);
    let out = text(&o2);
    assert_eq!(o2.status.code(), Some(1), "{out}");
    assert!(
        out.contains("migration 0003_done was applied by a newer release and is not in these migrations (they end at 0002): it cannot be rolled back from here"),
        "{out}"
    );
    assert_eq!(history_of(n, url), before, "a refusal changed the history");

    // An edited older migration is still refused, newer ones or not.
    let f = o.join("migrations/0002_note.toml");
    let original = std::fs::read_to_string(&f).expect("0002");
    std::fs::write(
        &f,
        original.replace("description = \"note\"", "description = \"a note\""),
    )
    .expect("edit");
    let o2 = migrator_at(o, url, &["up"]);
    let out = text(&o2);
    assert_eq!(o2.status.code(), Some(1), "{out}");
    assert!(
        out.contains("0002_note.toml: this migration was edited"),
        "{out}"
    );
    std::fs::write(&f, original).expect("restore");

    // New again, then the newer migration rolled back by the release that
    // has it; the old release then sees nothing newer.
    let up = ok_at(n, url, &["up"]);
    assert!(!up.contains("newer"), "{up}");
    let down = ok_at(n, url, &["down"]);
    assert!(down.contains("rolled back 0003_done"), "{down}");
    let up = ok_at(o, url, &["up"]);
    assert!(!up.contains("newer"), "{up}");
    let v = ok_at(o, url, &["verify"]);
    assert!(v.starts_with("ok: "), "{v}");

    // The library: the old set on the newer database, by default and
    // strict.
    ok_at(n, url, &["up"]);
    use migrator_core::migration::MigrationSet;
    use migrator_core::runner::{connect, AnyConnection, Event, Migrator, NewerMigrations};
    let set = MigrationSet::load(&o.join("migrations")).expect("set");
    let seen = std::cell::RefCell::new(Vec::new());
    let m = Migrator::new(&set).on_event(|e| {
        if let Event::NewerMigrations { ids, head } = e {
            seen.borrow_mut().push(format!("{head}: {}", ids.join(",")));
        }
    });
    let strict = Migrator::new(&set).newer_migrations(NewerMigrations::Refuse);
    let (report, refused) = match connect(url).expect("connects") {
        AnyConnection::Sqlite(mut c) => (m.up(&mut c), strict.up(&mut c)),
        AnyConnection::Postgres(mut c) => (m.up(&mut c), strict.up(&mut c)),
        #[allow(unreachable_patterns)]
        _ => unreachable!("SQLite and PostgreSQL only here"),
    };
    assert!(report.expect("tolerated").done.is_empty());
    assert_eq!(*seen.borrow(), ["2: 0003_done"]);
    assert!(refused.is_err());
}

#[test]
fn sqlite_old_and_new_releases_share_a_database() {
    let db = tempfile::tempdir().expect("tempdir");
    rollback_and_forward(&format!("sqlite://{}", db.path().join("app.db").display()));
}

#[test]
fn postgres_old_and_new_releases_share_a_database() {
    let Some(base) = pg_base_url() else { return };
    let db = PgDb::create(&base, "rollback");
    rollback_and_forward(&db.url);
}
