//! `migrator rebase` on real git branches: two branches each add migration
//! 0002, the merge leaves two files numbered 0002 and a conflicted
//! `schema.toml`; rebasing the local one renumbers it after the other
//! branch's, the chain checks, applies and verifies on SQLite. A true
//! conflict (both add the same column) writes nothing.

use std::path::Path;
use std::process::{Command, Output};

fn run(dir: &Path, program: &str, args: &[&str]) -> Output {
    Command::new(program)
        .current_dir(dir)
        .args(args)
        .env_remove("DATABASE_URL")
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.invalid")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.invalid")
        .output()
        .unwrap_or_else(|e| panic!("{program} runs: {e}"))
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn git(dir: &Path, args: &[&str]) -> Output {
    let o = run(dir, "git", args);
    assert!(o.status.success(), "git {args:?}: {}", text(&o));
    o
}

fn migrator(dir: &Path, args: &[&str]) -> Output {
    run(dir, env!("CARGO_BIN_EXE_migrator"), args)
}

fn ok(dir: &Path, args: &[&str]) -> String {
    let o = migrator(dir, args);
    assert!(o.status.success(), "migrator {args:?}: {}", text(&o));
    text(&o)
}

fn users(extra: &str) -> String {
    format!(
        r#"use migrator::Model;

#[derive(Model)]
pub struct User {{
    #[model(primary_key, auto_increment)]
    pub id: i64,
    #[model(max_length = 100)]
    pub name: String,
{extra}}}
"#
    )
}

const TAGS: &str = r#"use migrator::Model;

#[derive(Model)]
pub struct Tag {
    #[model(primary_key, auto_increment)]
    pub id: i64,
    #[model(foreign_key = "users.id", index)]
    pub user_id: i64,
    #[model(max_length = 40)]
    pub label: String,
}
"#;

/// A repository at 0001 on `main`, with branch `feature` created there.
fn repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    git(d, &["init", "-q", "-b", "main"]);
    std::fs::create_dir_all(d.join("src")).expect("src");
    std::fs::write(d.join("src/users.rs"), users("")).expect("write");
    ok(d, &["init"]);
    ok(d, &["generate", "create_users"]);
    git(d, &["add", "-A"]);
    git(d, &["commit", "-qm", "0001"]);
    git(d, &["branch", "feature"]);
    dir
}

fn commit_on(d: &Path, branch: &str, edit: impl FnOnce(), name: &str) {
    git(d, &["checkout", "-q", branch]);
    edit();
    ok(d, &["generate", name]);
    git(d, &["add", "-A"]);
    git(d, &["commit", "-qm", name]);
}

/// `feature` adds 0002_add_tags, `main` adds 0002_add_email.
fn tags_on_feature_email_on_main(d: &Path) {
    commit_on(
        d,
        "feature",
        || std::fs::write(d.join("src/tags.rs"), TAGS).expect("w"),
        "add_tags",
    );
    commit_on(
        d,
        "main",
        || {
            std::fs::write(
                d.join("src/users.rs"),
                users("    #[model(max_length = 120)]\n    pub email: Option<String>,\n"),
            )
            .expect("w")
        },
        "add_email",
    );
}

/// Merges main into feature; the merge must stop on a conflict.
fn merge_conflicting(d: &Path) {
    git(d, &["checkout", "-q", "feature"]);
    let o = run(d, "git", &["merge", "-q", "main"]);
    assert!(!o.status.success(), "the snapshots conflict: {}", text(&o));
    let snapshot = std::fs::read_to_string(d.join("migrations/schema.toml")).expect("read");
    assert!(snapshot.contains("<<<<<<<"), "{snapshot}");
}

#[test]
fn parallel_branches_rebase_apply_and_verify() {
    let dir = repo();
    let d = dir.path();
    tags_on_feature_email_on_main(d);
    merge_conflicting(d);
    // Before: two migrations numbered 0002; `check` says so.
    let o = migrator(d, &["check"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("two migrations have number 0002"),
        "{}",
        text(&o)
    );
    assert!(
        text(&o).contains("`migrator rebase`"),
        "the error says the way out: {}",
        text(&o)
    );

    let out = ok(d, &["rebase", "0002_add_tags"]);
    assert!(
        out.contains("moved 0002_add_tags.toml -> 0003_add_tags.toml"),
        "{out}"
    );
    assert!(
        out.contains("ok: the models match the rebased migrations"),
        "{out}"
    );
    assert!(!d.join("migrations/0002_add_tags.toml").exists());
    let moved = std::fs::read_to_string(d.join("migrations/0003_add_tags.toml")).expect("moved");
    assert!(moved.starts_with("# 0003_add_tags.toml"), "{moved}");
    git(d, &["add", "-A"]);
    git(d, &["commit", "-qm", "merge main"]);

    ok(d, &["check"]);
    ok(d, &["up"]);
    assert!(ok(d, &["verify"]).contains("ok: "));
    let status = ok(d, &["status"]);
    assert!(
        status.contains("0003_add_tags") && status.contains("0 pending"),
        "{status}"
    );
    ok(d, &["down", "--to", "0"]);
    // Rebasing again is a no-op.
    assert!(ok(d, &["rebase", "0003_add_tags"]).contains("nothing to move"));
}

#[test]
fn both_branches_changing_one_table_is_noted() {
    let dir = repo();
    let d = dir.path();
    let age = "    pub age: Option<i32>,\n";
    let email = "    #[model(max_length = 120)]\n    pub email: Option<String>,\n";
    commit_on(
        d,
        "feature",
        || std::fs::write(d.join("src/users.rs"), users(age)).expect("w"),
        "add_age",
    );
    commit_on(
        d,
        "main",
        || std::fs::write(d.join("src/users.rs"), users(email)).expect("w"),
        "add_email",
    );
    merge_conflicting(d);
    // The models are merged by hand, as any conflicting source file.
    std::fs::write(d.join("src/users.rs"), users(&format!("{email}{age}"))).expect("w");
    let out = ok(d, &["rebase", "0002_add_age"]);
    assert!(out.contains("both branches change table `users`"), "{out}");
    assert!(out.contains("ok: the models match"), "{out}");
    ok(d, &["check"]);
    ok(d, &["up"]);
    assert!(ok(d, &["verify"]).contains("ok: "));
}

/// Every file of `migrations/` with its text, by name.
fn listing(d: &Path) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = std::fs::read_dir(d.join("migrations"))
        .expect("dir")
        .map(|e| {
            let e = e.expect("entry");
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read_to_string(e.path()).expect("read"),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn a_true_conflict_writes_nothing() {
    let dir = repo();
    let d = dir.path();
    let wide = "    #[model(max_length = 200)]\n    pub email: Option<String>,\n";
    let narrow = "    #[model(max_length = 120)]\n    pub email: Option<String>,\n";
    commit_on(
        d,
        "feature",
        || std::fs::write(d.join("src/users.rs"), users(wide)).expect("w"),
        "feature_email",
    );
    commit_on(
        d,
        "main",
        || std::fs::write(d.join("src/users.rs"), users(narrow)).expect("w"),
        "main_email",
    );
    merge_conflicting(d);
    let before = listing(d);
    let o = migrator(d, &["rebase", "0002_feature_email"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let t = text(&o);
    assert!(
        t.contains("0003_feature_email") && t.contains("email"),
        "{t}"
    );
    assert!(t.contains("nothing was written"), "{t}");
    let after = listing(d);
    let sorted = |mut v: Vec<(String, String)>| {
        v.sort();
        v
    };
    assert_eq!(
        sorted(before),
        sorted(after),
        "a refused rebase changes no file"
    );
    // Naming a migration that is not there is refused too.
    let o = migrator(d, &["rebase", "0009_nope"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).contains("no migration `0009_nope`"),
        "{}",
        text(&o)
    );
}

/// Two local migrations with the same description: the first one's new
/// name is the second one's old name, and neither is lost.
#[test]
fn local_migrations_sharing_a_name_both_move() {
    let dir = repo();
    let d = dir.path();
    commit_on(
        d,
        "feature",
        || std::fs::write(d.join("src/tags.rs"), TAGS).expect("w"),
        "more",
    );
    commit_on(
        d,
        "feature",
        || {
            let notes = TAGS
                .replace("struct Tag", "struct Note")
                .replace("label", "body");
            std::fs::write(d.join("src/notes.rs"), notes).expect("w")
        },
        "more",
    );
    commit_on(
        d,
        "main",
        || {
            std::fs::write(
                d.join("src/users.rs"),
                users("    #[model(max_length = 120)]\n    pub email: Option<String>,\n"),
            )
            .expect("w")
        },
        "add_email",
    );
    merge_conflicting(d);
    let out = ok(d, &["rebase", "0002_more", "0003_more"]);
    assert!(
        out.contains("moved 0002_more.toml -> 0003_more.toml"),
        "{out}"
    );
    assert!(
        out.contains("moved 0003_more.toml -> 0004_more.toml"),
        "{out}"
    );
    let names: Vec<String> = listing(d).into_iter().map(|(n, _)| n).collect();
    assert_eq!(
        names,
        [
            "0001_create_users.toml",
            "0002_add_email.toml",
            "0003_more.toml",
            "0004_more.toml",
            "schema.toml"
        ]
    );
    ok(d, &["check"]);
    ok(d, &["up"]);
    assert!(ok(d, &["verify"]).contains("ok: "));
}

/// The other branch squashed its history (0001 and its 0002 into one
/// baseline): rebasing the local 0002 reads the squashed file as the
/// migrations it replaces, moves the local one after them, and the result
/// checks, applies and verifies on a fresh database.
#[test]
fn rebase_after_the_other_branch_squashed() {
    let dir = repo();
    let d = dir.path();
    tags_on_feature_email_on_main(d);
    git(d, &["checkout", "-q", "main"]);
    ok(d, &["squash", "--to", "2"]);
    git(d, &["add", "-A"]);
    git(d, &["commit", "-qm", "squash"]);
    let squashed: Vec<String> = std::fs::read_dir(d.join("migrations"))
        .expect("dir")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".toml") && n != "schema.toml")
        .collect();
    assert_eq!(squashed.len(), 1, "one squashed file on main: {squashed:?}");
    git(d, &["checkout", "-q", "feature"]);
    let o = run(d, "git", &["merge", "-q", "main"]);
    assert!(!o.status.success(), "the snapshots conflict: {}", text(&o));

    let out = ok(d, &["rebase", "0002_add_tags"]);
    assert!(
        out.contains("moved 0002_add_tags.toml -> 0003_add_tags.toml"),
        "{out}"
    );
    git(d, &["add", "-A"]);
    git(d, &["commit", "-qm", "merge main"]);
    ok(d, &["check"]);
    let up = ok(d, &["up"]);
    assert!(up.contains("applied"), "{up}");
    assert!(ok(d, &["verify"]).contains("ok: "));
    let status = ok(d, &["status"]);
    assert!(status.contains("0003_add_tags"), "{status}");
    // A hand-written migration after a squashed history takes the next
    // number and keeps the chain.
    ok(d, &["generate", "--empty", "by_hand"]);
    assert!(d.join("migrations/0004_by_hand.toml").exists());
    ok(d, &["check"]);
}
