//! `migrator up` running a batched backfill: the progress lines it prints
//! when stderr is not a terminal, and a run killed with SIGKILL part way
//! that the next `up` resumes from the saved cursor, each row done once.

mod common;

use std::time::Duration;

use common::{command, pg_base_url, text, Db, PgDb, TestProject};
use migrator_core::migration::MigrationFile;
use migrator_core::ops::{inverse_all, Backfill, Operation};

const MODELS: &str = r#"
use migrator::Model;

#[derive(Model)]
#[model(table = "items")]
pub struct Item {
    #[model(primary_key)]
    pub id: i64,
    pub hits: i64,
}
"#;

/// 0001 creates `items`; 0002 adds one to `hits` of every row (a
/// predicate that stays true: only the cursor keeps a row from being done
/// twice), in batches of `batch_size`, `pause_ms` apart.
fn project(batch_size: u32, pause_ms: u64) -> TestProject {
    let p = TestProject::new();
    p.set_models(MODELS);
    p.generate("create_items").expect("0001");
    let upgrade = vec![Operation::Backfill(Backfill {
        table: "items".into(),
        set: "hits = hits + 1".into(),
        predicate: "1 = 1".into(),
        batch_size,
        pause_ms,
        reverse: None,
    })];
    let downgrade = inverse_all(&upgrade);
    let file = MigrationFile::new("count items", upgrade, downgrade);
    std::fs::write(
        p.migrations_dir().join("0002_count_items.toml"),
        file.to_text("written by hand"),
    )
    .expect("write 0002");
    let snap = p.project().rehash().expect("rehash");
    std::fs::write(p.project().snapshot_path(), snap).expect("write snapshot");
    p
}

fn seed(db: &Db, p: &TestProject, rows: u32) {
    let out = command(p.root(), &db.url(), &["up", "--to", "1"])
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", text(&out));
    let mut c = db.connect();
    for start in (1..=rows).step_by(200) {
        let values: Vec<String> = (start..(start + 200).min(rows + 1))
            .map(|i| format!("({i}, 0)"))
            .collect();
        c.execute(&format!(
            "INSERT INTO items (id, hits) VALUES {}",
            values.join(", ")
        ))
        .expect("insert");
    }
}

/// `(hits, rows)` for each value of `hits`.
fn hits(db: &Db) -> Vec<(String, String)> {
    db.rows("SELECT CAST(hits AS TEXT) AS a, CAST(COUNT(*) AS TEXT) AS b, '' AS c, '' AS d FROM items GROUP BY hits ORDER BY hits")
        .into_iter()
        .map(|r| (r.a, r.b))
        .collect()
}

#[test]
fn progress_lines_without_a_terminal() {
    let db = Db::sqlite();
    let p = project(100, 0);
    seed(&db, &p, 1050);
    let out = command(p.root(), &db.url(), &["up"])
        .output()
        .expect("runs");
    let all = text(&out);
    assert!(out.status.success(), "{all}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    // Plain lines (no carriage returns or escapes): the first batch, then
    // at most one every few seconds, and the final one.
    assert!(
        !stderr.contains('\r') && !stderr.contains('\x1b'),
        "{stderr}"
    );
    let lines: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains("backfill items"))
        .collect();
    assert!(
        lines[0].starts_with("0002_count_items: backfill items: 100/1050 rows (9%), 1 batch(es), "),
        "{stderr}"
    );
    let last = lines.last().expect("a final line");
    assert!(
        last.starts_with("0002_count_items: backfill items: 1050/1050 rows (100%), 11 batch(es), ")
            && last.ends_with(" rows/s, done"),
        "{stderr}"
    );
    assert!(stderr.contains("applied 0002_count_items"), "{stderr}");
    assert_eq!(hits(&db), vec![("1".to_string(), "1050".to_string())]);
}

/// Killed at some moment of the backfill (SIGKILL, no cleanup), then run
/// again: whatever the moment, every row ends with exactly one increment,
/// and in between no row has more than one.
#[test]
fn killed_backfill_resumes_sqlite() {
    killed_backfill_resumes(Db::sqlite());
}

#[test]
fn killed_backfill_resumes_postgres() {
    let Some(base) = pg_base_url() else {
        return;
    };
    killed_backfill_resumes(Db::Pg(PgDb::create(&base, "clibackfill")));
}

fn killed_backfill_resumes(db: Db) {
    let p = project(50, 15);
    seed(&db, &p, 2000);
    for delay_ms in [300u64, 700] {
        let mut child = command(p.root(), &db.url(), &["up"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("starts");
        std::thread::sleep(Duration::from_millis(delay_ms));
        child.kill().expect("kill");
        child.wait().expect("reaped");
        let h = hits(&db);
        assert!(
            h.iter().all(|(v, _)| v == "0" || v == "1"),
            "no row done twice after a kill at {delay_ms} ms: {h:?}"
        );
    }
    let out = command(p.root(), &db.url(), &["up"])
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(hits(&db), vec![("1".to_string(), "2000".to_string())]);
    assert!(!db.has_table("_migrator_backfill"));
}
