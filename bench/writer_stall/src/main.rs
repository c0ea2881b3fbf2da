//! Writer-stall benchmark: how long do the application's writes
//! wait while an index, a foreign key, a check and a NOT NULL are added to a
//! large table, on PostgreSQL and on MariaDB?
//!
//! Per case, on a fresh database: a table of `ROWS` rows (default one
//! million), writers inserting at a fixed rate (latency counted from each
//! insert's *scheduled* start, so a stall also delays the inserts queued
//! behind it and cannot hide), and the same schema change applied as
//! - the naive hand-written SQL (what a diesel or sqlx user writes: one
//!   transaction on PostgreSQL, one statement after another on MariaDB,
//!   whose DDL commits on its own),
//! - migrator's plan with one fixed lock wait per try (the statement lock
//!   timeout, 1 s, `LockWaits::none()`: the plan before short waits),
//! - migrator's plan as it ships (short, growing lock waits first,
//!   `LockWaits::default()`),
//!
//! each with and without another session holding a read lock on the table
//! for `HOLD_S` seconds (a long report query), all in one run.
//!
//! ```sh
//! cargo run --release -p writer-stall-bench --features mysql -- [ROWS]
//! ```
//!
//! Servers: `MIGRATOR_BENCH_PG` (default `postgres://postgres@127.0.0.1:5432`),
//! `MIGRATOR_BENCH_MYSQL` (default `mysql://root@127.0.0.1:3306`; only with
//! the `mysql` feature, which needs a MySQL client library). A server that
//! cannot be reached is reported and left out.

use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::Connection;
use migrator_core::migration::MigrationSet;
use migrator_core::project::Project;
use migrator_core::runner::{Event, LockWaits, MigrationConnection, Migrator};

const WRITERS: u32 = 4;
const WRITER_PERIOD: Duration = Duration::from_millis(20); // 50 inserts/s each
const HOLD_S: u64 = 6;

const MODELS_V1: &str = r#"
use migrator::Model;

#[derive(Model)]
#[model(table = "owners")]
pub struct Owner {
    #[model(primary_key, auto_increment)]
    pub id: i64,
}

#[derive(Model)]
#[model(table = "items")]
pub struct Item {
    #[model(primary_key, auto_increment)]
    pub id: i64,
    pub owner_id: i64,
    pub qty: Option<i32>,
    pub note: String,
}
"#;

const MODELS_V2: &str = r#"
use migrator::Model;

#[derive(Model)]
#[model(table = "owners")]
pub struct Owner {
    #[model(primary_key, auto_increment)]
    pub id: i64,
}

#[derive(Model)]
#[model(table = "items", check = "qty >= 0")]
pub struct Item {
    #[model(primary_key, auto_increment)]
    pub id: i64,
    #[model(foreign_key = "owners.id")]
    pub owner_id: i64,
    #[model(index, default = 0)]
    pub qty: i32,
    pub note: String,
}
"#;

/// The same change, as a diesel or sqlx user writes it by hand.
const NAIVE_PG: &str = "BEGIN;
CREATE INDEX idx_items_qty ON items (qty);
ALTER TABLE items ADD CONSTRAINT fk_items_owner_id FOREIGN KEY (owner_id) REFERENCES owners (id);
ALTER TABLE items ADD CONSTRAINT ck_items_1 CHECK (qty >= 0);
ALTER TABLE items ALTER COLUMN qty SET DEFAULT 0;
ALTER TABLE items ALTER COLUMN qty SET NOT NULL;
COMMIT;";

/// On MariaDB, whose DDL commits on its own: one statement after another.
#[cfg(feature = "mysql")]
const NAIVE_MYSQL: &str = "CREATE INDEX idx_items_qty ON items (qty);
ALTER TABLE items ADD CONSTRAINT fk_items_owner_id FOREIGN KEY (owner_id) REFERENCES owners (id);
ALTER TABLE items ADD CONSTRAINT ck_items_1 CHECK (qty >= 0);
ALTER TABLE items MODIFY qty INT NOT NULL DEFAULT 0;";

#[derive(Clone, Copy, PartialEq)]
enum Plan {
    Naive,
    /// One fixed lock wait per try (`LockWaits::none()`).
    FixedWait,
    /// Short, growing lock waits first (`LockWaits::default()`).
    ShortWaits,
}

impl Plan {
    fn label(self) -> &'static str {
        match self {
            Plan::Naive => "naive SQL",
            Plan::FixedWait => "migrator, fixed 1 s lock wait",
            Plan::ShortWaits => "migrator, short growing waits",
        }
    }
}

/// What differs between the databases.
struct Server<'a> {
    name: &'static str,
    base: &'a str,
    naive: &'static str,
    create: fn(&str, &str),
    drop: fn(&str, &str),
    url: fn(&str, &str) -> String,
    load: fn(u64) -> Vec<String>,
}

struct Outcome {
    wall: Duration,
    retries: u32,
    result: String,
    max: Duration,
    p999: Duration,
    samples: usize,
}

fn fail(what: &str, e: impl std::fmt::Display) -> ! {
    eprintln!("writer-stall: {what}: {e}");
    std::process::exit(1)
}

fn main() {
    let rows: u64 = std::env::args()
        .nth(1)
        .map(|a| a.parse().unwrap_or_else(|e| fail("ROWS", e)))
        .unwrap_or(1_000_000);
    let pg = std::env::var("MIGRATOR_BENCH_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".into());
    let project = project();
    let set = MigrationSet::load(&project.path().join("migrations"))
        .unwrap_or_else(|e| fail("loading the generated migrations", e));
    println!(
        "writer-stall: {rows} rows, {WRITERS} writers x {} inserts/s, read lock held {HOLD_S} s where noted",
        1000 / WRITER_PERIOD.as_millis()
    );
    println!(
        "| database | case | read lock held | migration wall time | retries | result | writer max | writer p99.9 | inserts measured |"
    );
    println!("|---|---|---|---|---|---|---|---|---|");
    let postgres = Server {
        name: "PostgreSQL",
        base: &pg,
        naive: NAIVE_PG,
        create: |base, name| {
            let mut admin = connect::<PgConnection>(&format!("{base}/postgres"));
            admin_sql(
                &mut admin,
                &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            );
            admin_sql(&mut admin, &format!("CREATE DATABASE {name}"));
        },
        drop: |base, name| {
            let mut admin = connect::<PgConnection>(&format!("{base}/postgres"));
            admin_sql(
                &mut admin,
                &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
            );
        },
        url: |base, name| format!("{base}/{name}"),
        load: |rows| {
            vec![
                format!(
                    "INSERT INTO owners (id) SELECT generate_series(1, 1000);
                     INSERT INTO items (owner_id, qty, note) SELECT g % 1000 + 1, g % 100, 'seed' FROM generate_series(1, {rows}) g;"
                ),
                "VACUUM ANALYZE items".into(),
            ]
        },
    };
    if PgConnection::establish(&format!("{pg}/postgres")).is_ok() {
        all_cases::<PgConnection>(&postgres, &set, rows);
    } else {
        eprintln!("writer-stall: PostgreSQL at {pg} cannot be reached: left out");
    }
    #[cfg(feature = "mysql")]
    {
        use diesel::mysql::MysqlConnection;
        let my = std::env::var("MIGRATOR_BENCH_MYSQL")
            .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306".into());
        let mariadb = Server {
            name: "MariaDB",
            base: &my,
            naive: NAIVE_MYSQL,
            create: |base, name| {
                let mut admin = connect::<MysqlConnection>(base);
                admin_sql(&mut admin, &format!("DROP DATABASE IF EXISTS {name}"));
                admin_sql(&mut admin, &format!("CREATE DATABASE {name}"));
            },
            drop: |base, name| {
                let mut admin = connect::<MysqlConnection>(base);
                admin_sql(&mut admin, &format!("DROP DATABASE IF EXISTS {name}"));
            },
            url: |base, name| format!("{base}/{name}"),
            load: |rows| {
                vec![
                    "INSERT INTO owners (id) SELECT seq FROM seq_1_to_1000".into(),
                    format!("INSERT INTO items (owner_id, qty, note) SELECT seq % 1000 + 1, seq % 100, 'seed' FROM seq_1_to_{rows}"),
                    "ANALYZE TABLE items".into(),
                ]
            },
        };
        if MysqlConnection::establish(&my).is_ok() {
            all_cases::<MysqlConnection>(&mariadb, &set, rows);
        } else {
            eprintln!("writer-stall: MariaDB at {my} cannot be reached: left out");
        }
    }
    #[cfg(not(feature = "mysql"))]
    eprintln!("writer-stall: built without the `mysql` feature: MariaDB left out");
}

fn all_cases<C>(server: &Server<'_>, set: &MigrationSet, rows: u64)
where
    C: Connection + SimpleConnection + MigrationConnection + Send + 'static,
{
    for hold in [false, true] {
        for plan in [Plan::Naive, Plan::FixedWait, Plan::ShortWaits] {
            let o = run_case::<C>(server, set, rows, plan, hold);
            println!(
                "| {} | {} | {} | {:.2} s | {} | {} | {} ms | {} ms | {} |",
                server.name,
                plan.label(),
                if hold { "yes" } else { "no" },
                o.wall.as_secs_f64(),
                o.retries,
                o.result,
                o.max.as_millis(),
                o.p999.as_millis(),
                o.samples
            );
        }
    }
}

fn admin_sql<C: SimpleConnection>(admin: &mut C, sql: &str) {
    admin.batch_execute(sql).unwrap_or_else(|e| fail(sql, e))
}

/// A scratch crate with the two model versions generated into 0001 and 0002.
fn project() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap_or_else(|e| fail("tempdir", e));
    let root = dir.path();
    std::fs::create_dir_all(root.join("src")).unwrap_or_else(|e| fail("mkdir", e));
    std::fs::create_dir_all(root.join("migrations")).unwrap_or_else(|e| fail("mkdir", e));
    for (models, name) in [(MODELS_V1, "create_items"), (MODELS_V2, "constrain_items")] {
        std::fs::write(root.join("src/models.rs"), models).unwrap_or_else(|e| fail("write", e));
        let p = Project::open(root).unwrap_or_else(|e| fail("project", e));
        let g = p
            .generate(name)
            .unwrap_or_else(|e| fail("generate", e))
            .unwrap_or_else(|| fail("generate", "no change"));
        std::fs::write(
            root.join("migrations").join(&g.file_name),
            &g.migration_text,
        )
        .unwrap_or_else(|e| fail("write", e));
        std::fs::write(p.snapshot_path(), &g.snapshot_text).unwrap_or_else(|e| fail("write", e));
    }
    dir
}

fn connect<C: Connection>(url: &str) -> C {
    C::establish(url).unwrap_or_else(|e| fail(&format!("connecting to {url}"), e))
}

fn run_case<C>(
    server: &Server<'_>,
    set: &MigrationSet,
    rows: u64,
    plan: Plan,
    hold: bool,
) -> Outcome
where
    C: Connection + SimpleConnection + MigrationConnection + Send + 'static,
{
    let name = format!("migrator_writer_stall_{}", std::process::id());
    (server.create)(server.base, &name);
    let url = (server.url)(server.base, &name);
    let mut conn = connect::<C>(&url);
    Migrator::new(set)
        .up_to(&mut conn, Some(1))
        .unwrap_or_else(|e| fail("0001", e));
    for sql in (server.load)(rows) {
        conn.batch_execute(&sql)
            .unwrap_or_else(|e| fail("loading rows", e));
    }

    // Writers at a fixed rate; each sample is (scheduled start, latency).
    let stop = Arc::new(AtomicBool::new(false));
    let epoch = Instant::now();
    let writers: Vec<_> = (0..WRITERS)
        .map(|w| {
            let stop = stop.clone();
            let mut c = connect::<C>(&url);
            std::thread::spawn(move || {
                let mut samples = Vec::new();
                // Staggered so the writers do not fire together.
                let mut next = epoch + WRITER_PERIOD * w / WRITERS;
                while !stop.load(Ordering::Relaxed) {
                    if let Some(d) = next.checked_duration_since(Instant::now()) {
                        std::thread::sleep(d);
                    }
                    c.batch_execute(
                        "INSERT INTO items (owner_id, qty, note) VALUES (1, 1, 'writer')",
                    )
                    .unwrap_or_else(|e| fail("writer insert", e));
                    samples.push((next, Instant::now() - next));
                    next += WRITER_PERIOD;
                }
                samples
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs(1));

    let holder = hold.then(|| {
        let (locked_tx, locked_rx) = mpsc::channel();
        let mut c = connect::<C>(&url);
        let h = std::thread::spawn(move || {
            c.batch_execute("BEGIN; SELECT count(*) FROM items;")
                .unwrap_or_else(|e| fail("read lock", e));
            locked_tx.send(()).unwrap_or_else(|e| fail("signal", e));
            std::thread::sleep(Duration::from_secs(HOLD_S));
            c.batch_execute("COMMIT")
                .unwrap_or_else(|e| fail("release", e));
        });
        locked_rx.recv().unwrap_or_else(|e| fail("lock taken", e));
        h
    });

    let retries = Arc::new(AtomicU32::new(0));
    let started = Instant::now();
    let result = match plan {
        Plan::Naive => conn.batch_execute(server.naive).map_err(|e| e.to_string()),
        Plan::FixedWait | Plan::ShortWaits => {
            let r = retries.clone();
            let verbose = std::env::var_os("WRITER_STALL_VERBOSE").is_some();
            Migrator::new(set)
                .lock_waits(if plan == Plan::FixedWait {
                    LockWaits::none()
                } else {
                    LockWaits::default()
                })
                .on_event(move |e| {
                    if matches!(e, Event::LockRetry { .. }) {
                        r.fetch_add(1, Ordering::Relaxed);
                    }
                    if verbose {
                        eprintln!("  +{} ms: {e}", started.elapsed().as_millis());
                    }
                })
                .up(&mut conn)
                .map(|_| ())
                .map_err(|e| e.to_string())
        }
    };
    let finished = Instant::now();
    std::thread::sleep(Duration::from_millis(500));
    stop.store(true, Ordering::Relaxed);
    let mut lat: Vec<Duration> = writers
        .into_iter()
        .flat_map(|h| h.join().unwrap_or_else(|_| fail("writer", "panicked")))
        .filter(|(at, _)| *at >= started && *at <= finished)
        .map(|(at, l)| {
            if std::env::var_os("WRITER_STALL_VERBOSE").is_some() && l > Duration::from_millis(500)
            {
                eprintln!(
                    "  insert scheduled +{} ms waited {} ms",
                    (at - started).as_millis(),
                    l.as_millis()
                );
            }
            l
        })
        .collect();
    if let Some(h) = holder {
        h.join().unwrap_or_else(|_| fail("holder", "panicked"));
    }
    drop(conn);
    (server.drop)(server.base, &name);

    lat.sort();
    let p999 = lat
        .get(((lat.len() as f64 * 0.999).ceil() as usize).saturating_sub(1))
        .copied()
        .unwrap_or_default();
    Outcome {
        wall: finished - started,
        retries: retries.load(Ordering::Relaxed),
        result: match result {
            Ok(()) => "ok".into(),
            Err(e) => format!("failed: {}", e.lines().next().unwrap_or_default()),
        },
        max: lat.last().copied().unwrap_or_default(),
        p999,
        samples: lat.len(),
    }
}
