//! `up --dry-run` and `down --dry-run` render the run's plan: besides the
//! statements and history writes, how each migration travels when it is not
//! a plain transaction (a SQLite commit group, a PostgreSQL pipelined query
//! or single batch, a step-by-step migration resumed after its recorded
//! steps), on real databases, and a dry run changes nothing.

mod common;

use common::{command, pg_base_url, project, raw_project, text, Db, PgDb, RAW_MIGRATIONS};
use migrator_core::dialect::Dialect;
use migrator_core::runner::MigrationConnection;

const GROUP: &str = "-- SQLite commit group:";
const PIPELINED: &str = "-- pipelined:";
const ONE_BATCH: &str = "-- sent as one batch:";
const RESUMES: &str = "-- resumes step by step from step 2: 1 step(s) are done and recorded";

/// Runs `migrator <args>` and returns its stdout and stderr, which must
/// show success.
fn ok(root: &std::path::Path, url: &str, args: &[&str]) -> String {
    let o = command(root, url, args).output().expect("runs");
    let t = text(&o);
    assert!(o.status.success(), "{args:?} failed:\n{t}");
    t
}

fn count(haystack: &str, needle: &str) -> usize {
    haystack.matches(needle).count()
}

#[test]
fn sqlite_dry_run_shows_the_commit_groups_both_ways() {
    let db = Db::sqlite();
    let p = raw_project(Dialect::Sqlite);
    let url = db.url();
    let dry = ok(p.root(), &url, &["up", "--dry-run"]);
    assert_eq!(count(&dry, GROUP), RAW_MIGRATIONS as usize, "{dry}");
    assert_eq!(count(&dry, PIPELINED) + count(&dry, ONE_BATCH), 0, "{dry}");
    // Nothing ran.
    assert!(db.history().is_empty());
    ok(p.root(), &url, &["up"]);
    let dry = ok(p.root(), &url, &["down", "--to", "0", "--dry-run"]);
    assert_eq!(count(&dry, GROUP), RAW_MIGRATIONS as usize, "{dry}");
    assert_eq!(
        db.history().len(),
        RAW_MIGRATIONS as usize,
        "nothing rolled back"
    );
}

#[test]
fn postgres_dry_run_shows_pipelining_or_single_batches() {
    let Some(base) = pg_base_url() else { return };
    let db = Db::Pg(PgDb::create(&base, "dry_pipe"));
    let p = raw_project(Dialect::Postgres);
    let url = db.url();
    let dry = ok(p.root(), &url, &["up", "--dry-run"]);
    assert_eq!(count(&dry, PIPELINED), RAW_MIGRATIONS as usize, "{dry}");
    assert_eq!(count(&dry, GROUP), 0, "{dry}");
    // A leased lock row is renewed between queries: no pipelining, each
    // migration is still one batch.
    let dry = ok(p.root(), &url, &["up", "--dry-run", "--lock-mode", "table"]);
    assert_eq!(count(&dry, PIPELINED), 0, "{dry}");
    assert_eq!(count(&dry, ONE_BATCH), RAW_MIGRATIONS as usize, "{dry}");
    // Nor with a statement timeout (before PostgreSQL 13 it covers a whole
    // query).
    let dry = ok(
        p.root(),
        &url,
        &["up", "--dry-run", "--statement-timeout-ms", "60000"],
    );
    assert_eq!(count(&dry, PIPELINED), 0, "{dry}");
    assert_eq!(count(&dry, ONE_BATCH), RAW_MIGRATIONS as usize, "{dry}");
    assert!(db.history().is_empty(), "the dry runs ran nothing");
    // The run does what the plan said: all applied, in pipelined queries.
    ok(p.root(), &url, &["up"]);
    assert_eq!(db.history().len(), RAW_MIGRATIONS as usize);
    let dry = ok(p.root(), &url, &["down", "--to", "7", "--dry-run"]);
    assert_eq!(count(&dry, PIPELINED), 3, "{dry}");
}

/// A step-by-step migration interrupted after its first step: the dry run
/// resumes it from step 2, without a second `partial` row.
fn resumed_step_by_step(db: &Db) {
    let p = project();
    let url = db.url();
    ok(p.root(), &url, &["up", "--to", "1"]);
    let file = "0002_create_profiles.toml";
    let sum = migrator_core::migration::checksum(
        &std::fs::read_to_string(p.migrations_dir().join(file)).expect("reads"),
    );
    let mut conn = db.connect();
    let insert = format!(
        "INSERT INTO _migrator_history (version, name, checksum, applied_at, execution_ms, tool_version, state, steps_done) \
         VALUES (2, 'create_profiles', '{sum}', 'x', 0, 'x', 'partial', 1)"
    );
    match &mut conn {
        migrator_core::runner::AnyConnection::Sqlite(c) => c.execute(&insert),
        migrator_core::runner::AnyConnection::Postgres(c) => c.execute(&insert),
        #[cfg(feature = "mysql")]
        migrator_core::runner::AnyConnection::Mysql(c) => c.execute(&insert),
        #[allow(unreachable_patterns)]
        _ => panic!("no such backend in this build"),
    }
    .expect("records a partial run");
    let dry = ok(p.root(), &url, &["up", "--dry-run"]);
    assert_eq!(count(&dry, RESUMES), 1, "{dry}");
    assert!(
        !dry.lines()
            .any(|l| l.contains("INSERT INTO") && l.contains("'partial'") && l.contains("(2, ")),
        "0002 already has its row:\n{dry}"
    );
    assert_eq!(
        db.history(),
        [
            (1, "applied".to_string(), db.history()[0].2),
            (2, "partial".to_string(), 1)
        ],
        "the dry run changed nothing"
    );
}

#[test]
fn sqlite_dry_run_resumes_step_by_step() {
    resumed_step_by_step(&Db::sqlite());
}

#[test]
fn postgres_dry_run_resumes_step_by_step() {
    let Some(base) = pg_base_url() else { return };
    resumed_step_by_step(&Db::Pg(PgDb::create(&base, "dry_resume")));
}

#[cfg(feature = "mysql")]
#[test]
fn mysql_dry_run_resumes_step_by_step() {
    let Some(base) = common::mysql_base_url() else {
        return;
    };
    resumed_step_by_step(&Db::My(common::MyDb::create(&base, "dry_resume")));
}
