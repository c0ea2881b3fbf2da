//! `migrator resolve` as a user runs it (SQLite): a flag is required
//! (exit 2), a migration that is not PARTIAL is refused (exit 1, nothing
//! changed), a PARTIAL one is rolled back in the history and named with who
//! resolved it; `status` then shows it pending. The database behaviour on
//! SQLite, PostgreSQL and MariaDB is in `tests/db/resolve.rs`.

use std::process::{Command, Output};

fn migrator(dir: &std::path::Path, url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_migrator"))
        .arg("--dir")
        .arg(dir)
        .arg("--database-url")
        .arg(url)
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

#[test]
fn resolve_settles_a_partial_migration() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let url = format!("sqlite://{}", d.join("app.db").display());
    assert!(migrator(d, &url, &["init"]).status.success());
    let o = migrator(d, &url, &["generate", "--empty", "half"]);
    assert!(o.status.success(), "{}", text(&o));
    let file = d.join("migrations/0001_half.toml");
    let written = std::fs::read_to_string(&file).expect("written");
    std::fs::write(
        &file,
        written.replacen(
            "description = \"half\"\n",
            "description = \"half\"\ntransaction = false\n",
            1,
        ) + "\n[[upgrade]]\nop = \"sql\"\nsql = \"CREATE TABLE IF NOT EXISTS half_done (id INTEGER)\"\nreverse = \"DROP TABLE half_done\"\n\n[[upgrade]]\nop = \"sql\"\nsql = \"INSERT INTO no_such_table VALUES (1)\"\nreverse = \"SELECT 1\"\n",
    )
    .expect("edit");
    assert!(migrator(d, &url, &["rehash"]).status.success());
    let o = migrator(d, &url, &["up"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));

    let o = migrator(d, &url, &["resolve", "1"]);
    assert_eq!(o.status.code(), Some(2), "a flag is required: {}", text(&o));
    let o = migrator(d, &url, &["resolve", "2", "--applied"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("nothing to resolve"), "{}", text(&o));

    let o = migrator(
        d,
        &url,
        &["resolve", "0001", "--rolled-back", "--by", "carol"],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        text(&o).contains("resolved 0001_half as rolled-back by carol"),
        "{}",
        text(&o)
    );
    let o = migrator(d, &url, &["status"]);
    assert!(
        text(&o)
            .lines()
            .any(|l| l.starts_with("0001_half") && l.contains("pending")),
        "{}",
        text(&o)
    );
}
