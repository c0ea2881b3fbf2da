//! `--statement-lock-timeout-ms` and `--lock-retries` on PostgreSQL: the
//! dry run shows the timeout the migrations would run under; a migration
//! blocked by a held read lock fails after the given attempts, naming the
//! blocker, and changes nothing.

mod common;

use std::path::Path;

use common::{migrator_at, pg_base_url, text, PgDb};
use migrator_core::runner::{connect, AnyConnection, MigrationConnection};

fn pg(url: &str) -> diesel::pg::PgConnection {
    match connect(url) {
        Ok(AnyConnection::Postgres(c)) => c,
        Ok(_) => panic!("{url}: not PostgreSQL"),
        Err(e) => panic!("{url}: {e}"),
    }
}

#[test]
fn flags_reach_the_runner() {
    let Some(base) = pg_base_url() else {
        return;
    };
    let db = PgDb::create(&base, "stmt_lock");
    let url = db.url.clone();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/todo");

    let o = migrator_at(&dir, &url, &["up", "--to", "4"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = migrator_at(
        &dir,
        &url,
        &[
            "up",
            "--dry-run",
            "--statement-lock-timeout-ms",
            "250",
            "--lock-waits",
            "none",
        ],
    );
    assert!(
        text(&o).contains("SET lock_timeout = '250ms';"),
        "{}",
        text(&o)
    );
    assert!(
        text(&o).contains("-- lock waits: up to 5 tries at 250 ms, backoff from 200 ms"),
        "{}",
        text(&o)
    );
    // By default the first try waits 50 ms, and the schedule is shown.
    let o = migrator_at(
        &dir,
        &url,
        &["up", "--dry-run", "--statement-lock-timeout-ms", "250"],
    );
    assert!(
        text(&o).contains("SET lock_timeout = '50ms';")
            && text(&o).contains(
                "-- lock waits: 15 short tries at lock_timeout 50ms*3,75ms*3,100ms*9, sleeping 100 ms more after each (at most 1 s), then up to 5 tries at 250 ms"
            ),
        "{}",
        text(&o)
    );
    // A schedule longer than the maximum is capped by it.
    let o = migrator_at(
        &dir,
        &url,
        &[
            "up",
            "--dry-run",
            "--statement-lock-timeout-ms",
            "250",
            "--lock-waits",
            "100ms,400ms*2",
        ],
    );
    assert!(
        text(&o).contains("3 short tries at lock_timeout 100ms,250ms*2"),
        "{}",
        text(&o)
    );

    // 0005 builds an index on tasks concurrently, which waits for every
    // snapshot older than the index: this transaction keeps its own.
    let mut holder = pg(&url);
    holder
        .execute("BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT count(*) FROM tasks;")
        .expect("read lock");
    let o = migrator_at(
        &dir,
        &url,
        &[
            "up",
            "--statement-lock-timeout-ms",
            "200",
            "--lock-retries",
            "2",
            "--lock-waits",
            "none",
        ],
    );
    let out = text(&o);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(out.contains("gave up after 2 attempt(s)"), "{out}");
    assert!(
        out.contains("attempt 1 of 2"),
        "the retry is announced: {out}"
    );
    assert!(
        out.contains("idle in transaction"),
        "names the blocker: {out}"
    );
    // The cancelled build left an INVALID index behind.
    let index = |valid: bool| {
        format!("SELECT 1 FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid WHERE c.relname = 'idx_tasks_user_id' AND i.indisvalid = {valid}")
    };
    let mut check = pg(&url);
    assert_eq!(check.count_rows(&index(false)).expect("catalog"), 1);
    holder.execute("COMMIT").expect("release");
    // The next run drops it before building again (the drop is part of
    // the build's step, so a run resumed at the build does it too).
    let o = migrator_at(&dir, &url, &["up"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(check.count_rows(&index(false)).expect("catalog"), 0);
    assert_eq!(check.count_rows(&index(true)).expect("catalog"), 1);
}
