//! Side by side on one machine, in one run: applying N small migrations on
//! a fresh database, and the start-up check with everything applied (what
//! every application pays at boot), for migrator, diesel_migrations and a
//! raw-SQL floor, on SQLite and PostgreSQL. Round trips are counted with
//! diesel's instrumentation (`StartQuery` events: one per statement or
//! batch sent). Prints a Markdown table.
//!
//! Usage: migrator-bench-startup [N] [PG_BASE_URL]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use diesel::connection::{Instrumentation, InstrumentationEvent, SimpleConnection};
use diesel::pg::PgConnection;
use diesel::sqlite::SqliteConnection;
use diesel::Connection;
use diesel_migrations::{FileBasedMigrations, MigrationHarness};
use migrator_core::migration::MigrationSet;
use migrator_core::runner::{MigrationConnection, Migrator};

const REPEAT: usize = 20;

struct Counter(Arc<AtomicUsize>, Option<(Instant, String)>);

type Profile = std::collections::BTreeMap<String, (usize, Duration)>;

/// With BENCH_PROFILE=1, time per kind of statement (its first words).
static PROFILE: std::sync::Mutex<Option<Profile>> = std::sync::Mutex::new(None);

impl Instrumentation for Counter {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        match event {
            InstrumentationEvent::StartQuery { query, .. } => {
                self.0.fetch_add(1, Ordering::Relaxed);
                let text = query.to_string();
                let key: String = text
                    .split_whitespace()
                    .take(3)
                    .collect::<Vec<_>>()
                    .join(" ");
                self.1 = Some((Instant::now(), key));
            }
            InstrumentationEvent::FinishQuery { .. } => {
                if let Some((t, key)) = self.1.take() {
                    if let Some(p) = PROFILE.lock().expect("lock").as_mut() {
                        let e = p.entry(key).or_default();
                        e.0 += 1;
                        e.1 += t.elapsed();
                    }
                }
            }
            _ => {}
        }
    }
}

fn dump_profile(label: &str) {
    let mut profile = PROFILE.lock().expect("lock");
    // Only when profiling is on (BENCH_PROFILE): replacing a `None` would
    // turn it on for the rows after the first.
    let taken = profile.as_mut().map(std::mem::take);
    drop(profile);
    if let Some(p) = taken {
        let mut v: Vec<_> = p.into_iter().collect();
        v.sort_by_key(|(_, (_, d))| std::cmp::Reverse(*d));
        eprintln!("-- {label}");
        for (k, (n, d)) in v.into_iter().take(8) {
            eprintln!("{:>8.1} ms {n:>6}x  {k}", d.as_secs_f64() * 1000.0);
        }
    }
}

fn create(i: usize) -> String {
    format!("CREATE TABLE t_{i:04} (id INTEGER PRIMARY KEY, v TEXT)")
}

fn drop_sql(i: usize) -> String {
    format!("DROP TABLE t_{i:04}")
}

/// The same N migrations for both tools, in `root/migrator` and
/// `root/diesel`.
fn write_projects(root: &Path, n: usize) -> (PathBuf, PathBuf) {
    let m = root.join("migrator");
    let d = root.join("diesel");
    let _ = std::fs::remove_dir_all(root);
    std::fs::create_dir_all(m.join("migrations")).expect("mkdir");
    std::fs::create_dir_all(&d).expect("mkdir");
    for i in 1..=n {
        std::fs::write(
            m.join(format!("migrations/{i:04}_t_{i:04}.toml")),
            format!(
                "description = \"t {i}\"\n\n[[upgrade]]\nop = \"sql\"\nsql = \"{}\"\nreverse = {{ sql = \"{}\" }}\n\n[[downgrade]]\nop = \"sql\"\nsql = \"{}\"\nreverse = {{ sql = \"{}\" }}\n",
                create(i),
                drop_sql(i),
                drop_sql(i),
                create(i)
            ),
        )
        .expect("write");
        let dir = d.join(format!("{i:04}_t_{i:04}"));
        std::fs::create_dir_all(&dir).expect("mkdir");
        std::fs::write(dir.join("up.sql"), create(i)).expect("write");
        std::fs::write(dir.join("down.sql"), drop_sql(i)).expect("write");
    }
    std::fs::write(
        m.join("migrations/schema.toml"),
        migrator_core::snapshot::Snapshot::default().to_text(),
    )
    .expect("write");
    let project = migrator_core::project::Project::open(&m).expect("project");
    let text = project.rehash().expect("rehash");
    std::fs::write(m.join("migrations/schema.toml"), text).expect("write");
    (m.join("migrations"), d)
}

#[derive(Default)]
struct Row {
    apply: Duration,
    apply_trips: usize,
    load: Duration,
    check: Duration,
    check_trips: usize,
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

trait Db:
    Connection + MigrationConnection + MigrationHarness<<Self as Connection>::Backend> + 'static
{
}
impl Db for SqliteConnection {}
impl Db for PgConnection {}

fn counted<C: Db>(conn: &mut C) -> Arc<AtomicUsize> {
    let n = Arc::new(AtomicUsize::new(0));
    conn.set_instrumentation(Counter(n.clone(), None));
    n
}

/// `commit_each`: SQLite commits every migration on its own
/// (`Migrator::commit_group(Duration::ZERO)`) instead of in commit groups.
fn bench_migrator<C: Db>(fresh: &dyn Fn() -> C, dir: &Path, commit_each: bool) -> Row {
    let mut row = Row::default();
    let t = Instant::now();
    let set = MigrationSet::load(dir).expect("loads");
    row.load = t.elapsed();
    let mut conn = fresh();
    let n = counted(&mut conn);
    let t = Instant::now();
    let mut m = Migrator::new(&set);
    if commit_each {
        m = m.commit_group(Duration::ZERO);
    }
    let r = m.up(&mut conn).expect("applies");
    row.apply = t.elapsed();
    row.apply_trips = n.swap(0, Ordering::Relaxed);
    assert_eq!(r.done.len(), set.len());
    let mut times = Vec::new();
    for _ in 0..REPEAT {
        n.store(0, Ordering::Relaxed);
        let t = Instant::now();
        let r = Migrator::new(&set).up(&mut conn).expect("checks");
        times.push(t.elapsed());
        assert!(r.done.is_empty());
        row.check_trips = n.load(Ordering::Relaxed);
    }
    row.check = median(times);
    row
}

fn bench_diesel<C: Db>(fresh: &dyn Fn() -> C, dir: &Path) -> Row {
    let mut row = Row::default();
    let t = Instant::now();
    let source = FileBasedMigrations::from_path(dir).expect("finds");
    let preloaded: Preloaded<C::Backend> = Preloaded(
        MigrationSource::<C::Backend>::migrations(&source)
            .expect("lists")
            .into_iter()
            .map(Arc::from)
            .collect(),
    );
    row.load = t.elapsed();
    let listed = preloaded.0.len();
    let mut conn = fresh();
    let n = counted(&mut conn);
    let t = Instant::now();
    let done = conn.run_pending_migrations(&preloaded).expect("applies");
    row.apply = t.elapsed();
    row.apply_trips = n.swap(0, Ordering::Relaxed);
    assert_eq!(done.len(), listed);
    let mut times = Vec::new();
    for _ in 0..REPEAT {
        n.store(0, Ordering::Relaxed);
        let t = Instant::now();
        let done = conn.run_pending_migrations(&preloaded).expect("checks");
        times.push(t.elapsed());
        assert!(done.is_empty());
        row.check_trips = n.load(Ordering::Relaxed);
    }
    row.check = median(times);
    row
}

use diesel::backend::Backend;
use diesel::connection::BoxableConnection;
use diesel::migration::{Migration, MigrationMetadata, MigrationName, MigrationSource};

/// diesel migrations read once and then served from memory, as
/// `embed_migrations!` does (which cannot take a folder generated at run
/// time): the start-up check then measures the check, not file reading.
struct Preloaded<DB: Backend>(Vec<Arc<dyn Migration<DB>>>);

struct Shared<DB: Backend>(Arc<dyn Migration<DB>>);

impl<DB: Backend> Migration<DB> for Shared<DB> {
    fn run(&self, conn: &mut dyn BoxableConnection<DB>) -> diesel::migration::Result<()> {
        self.0.run(conn)
    }
    fn revert(&self, conn: &mut dyn BoxableConnection<DB>) -> diesel::migration::Result<()> {
        self.0.revert(conn)
    }
    fn metadata(&self) -> &dyn MigrationMetadata {
        self.0.metadata()
    }
    fn name(&self) -> &dyn MigrationName {
        self.0.name()
    }
}

impl<DB: Backend + 'static> MigrationSource<DB> for &Preloaded<DB> {
    fn migrations(&self) -> diesel::migration::Result<Vec<Box<dyn Migration<DB>>>> {
        Ok(self
            .0
            .iter()
            .map(|m| Box::new(Shared(m.clone())) as Box<dyn Migration<DB>>)
            .collect())
    }
}

/// The N statements as one batch: each commits on its own, or, with
/// `one_transaction`, all in `BEGIN; ..; COMMIT`.
fn bench_raw<C: Db>(fresh: &dyn Fn() -> C, n: usize, one_transaction: bool) -> Row {
    let mut row = Row::default();
    let mut conn = fresh();
    let count = counted(&mut conn);
    let mut sql: String = (1..=n).map(|i| create(i) + ";\n").collect();
    if one_transaction {
        sql = format!("BEGIN;\n{sql}COMMIT;\n");
    }
    let t = Instant::now();
    SimpleConnection::batch_execute(&mut conn, &sql).expect("applies");
    row.apply = t.elapsed();
    row.apply_trips = count.load(Ordering::Relaxed);
    row
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

/// Rounds of the whole table: each tool's apply time is the median of the
/// rounds (tools interleaved and the order rotated each round, so a slow
/// moment of the machine falls on all of them), shown with the fastest and
/// slowest round.
const DEFAULT_ROUNDS: usize = 5;

/// `BENCH_ROUNDS` (default 5).
fn rounds() -> usize {
    std::env::var("BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .filter(|&r| r > 0)
        .unwrap_or(DEFAULT_ROUNDS)
}

/// One line of the table: the rows of each round.
struct Line {
    db: &'static str,
    tool: &'static str,
    raw: bool,
    rows: Vec<Row>,
}

fn print(l: &Line) {
    let mut applies: Vec<Duration> = l.rows.iter().map(|r| r.apply).collect();
    applies.sort();
    let apply = format!(
        "{} ({}-{})",
        ms(applies[applies.len() / 2]),
        ms(applies[0]),
        ms(applies[applies.len() - 1])
    );
    let r = &l.rows[0];
    let (db, tool) = (l.db, l.tool);
    if l.raw {
        println!(
            "| {db} | {tool} | {apply} | {} | - | - | - |",
            r.apply_trips
        );
    } else {
        let check = median(l.rows.iter().map(|r| r.check).collect());
        let load = median(l.rows.iter().map(|r| r.load).collect());
        println!(
            "| {db} | {tool} | {apply} | {} | {} | {} | {} |",
            r.apply_trips,
            ms(load),
            ms(check),
            r.check_trips
        );
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(500);
    let pg = args
        .next()
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432".to_string());
    let root = std::env::temp_dir().join(format!("migrator-bench-{}", std::process::id()));
    let (mdir, ddir) = write_projects(&root, n);
    let sqlite_path = root.join("bench.db");
    let fresh_sqlite = || {
        let _ = std::fs::remove_file(&sqlite_path);
        SqliteConnection::establish(sqlite_path.to_str().expect("utf-8")).expect("sqlite")
    };
    let fresh_pg = || {
        let mut admin = PgConnection::establish(&format!("{pg}/postgres")).expect("pg admin");
        admin
            .batch_execute("DROP DATABASE IF EXISTS migrator_bench WITH (FORCE)")
            .expect("drop");
        admin
            .batch_execute("CREATE DATABASE migrator_bench")
            .expect("create");
        // Every tool starts from the same state: nothing left to flush
        // from the previous run or from CREATE DATABASE.
        admin.batch_execute("CHECKPOINT").expect("checkpoint");
        PgConnection::establish(&format!("{pg}/migrator_bench")).expect("pg")
    };
    println!("N = {n} migrations of one `CREATE TABLE` each; apply N = median of {} rounds (fastest-slowest), tools interleaved, order rotated; start-up check = median of {REPEAT} runs with everything applied, on an open connection.\n", rounds());
    println!("| database | tool | apply N (ms) | apply round trips | load files (ms) | start-up check (ms) | start-up round trips |");
    println!("|---|---|---|---|---|---|---|");
    if std::env::var("BENCH_PROFILE").is_ok() {
        *PROFILE.lock().expect("lock") = Some(Profile::new());
    }
    type Run<'a> = Box<dyn Fn() -> Row + 'a>;
    let cases: Vec<(&'static str, &'static str, bool, Run<'_>)> = vec![
        (
            "SQLite",
            "migrator",
            false,
            Box::new(|| bench_migrator(&fresh_sqlite, &mdir, false)),
        ),
        (
            "SQLite",
            "migrator, one commit per migration",
            false,
            Box::new(|| bench_migrator(&fresh_sqlite, &mdir, true)),
        ),
        (
            "SQLite",
            "diesel_migrations",
            false,
            Box::new(|| bench_diesel(&fresh_sqlite, &ddir)),
        ),
        (
            "SQLite",
            "raw SQL, one batch, each statement committed (floor)",
            true,
            Box::new(|| bench_raw(&fresh_sqlite, n, false)),
        ),
        (
            "SQLite",
            "raw SQL, one batch in one transaction",
            true,
            Box::new(|| bench_raw(&fresh_sqlite, n, true)),
        ),
        (
            "PostgreSQL",
            "migrator",
            false,
            Box::new(|| bench_migrator(&fresh_pg, &mdir, false)),
        ),
        (
            "PostgreSQL",
            "diesel_migrations",
            false,
            Box::new(|| bench_diesel(&fresh_pg, &ddir)),
        ),
        (
            "PostgreSQL",
            "raw SQL, one batch, each statement committed (floor)",
            true,
            Box::new(|| bench_raw(&fresh_pg, n, false)),
        ),
        (
            "PostgreSQL",
            "raw SQL, one batch in one transaction",
            true,
            Box::new(|| bench_raw(&fresh_pg, n, true)),
        ),
    ];
    let mut lines: Vec<Line> = cases
        .iter()
        .map(|(db, tool, raw, _)| Line {
            db,
            tool,
            raw: *raw,
            rows: Vec::new(),
        })
        .collect();
    for round in 0..rounds() {
        // Each round starts with another tool, so none is always first
        // after the database's own start-up work (CREATE DATABASE).
        let k = cases.len();
        for i in 0..k {
            let j = (i + round) % k;
            let (db, tool, _, run) = &cases[j];
            lines[j].rows.push(run());
            if round == 0 {
                dump_profile(&format!("{db} {tool}"));
            }
        }
        eprintln!("round {} of {} done", round + 1, rounds());
    }
    for line in &lines {
        print(line);
    }
    let mut admin = PgConnection::establish(&format!("{pg}/postgres")).expect("pg admin");
    let _ = admin.batch_execute("DROP DATABASE IF EXISTS migrator_bench WITH (FORCE)");
    let _ = std::fs::remove_dir_all(&root);
}
