//! sqlx migrate and refinery on the same N migrations as bench/startup (one
//! `CREATE TABLE t_NNNN (id INTEGER PRIMARY KEY, v TEXT)` each), timed
//! through their own crates: load the folder, apply N on a fresh database,
//! and the start-up check with everything applied (median of 20, on an open
//! connection). Prints table rows in bench/startup's format.
//!
//! Round trips on PostgreSQL are counted by a small proxy between the tool
//! and the server, which counts the frontend messages that end a round trip
//! (`Query` in the simple protocol, `Sync` in the extended one). In-process
//! SQLite has none to count ("-").
//!
//! Usage: migrator-bench-peers [N] [PG_BASE_URL]

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const REPEAT: usize = 20;

fn create(i: usize) -> String {
    format!("CREATE TABLE t_{i:04} (id INTEGER PRIMARY KEY, v TEXT)")
}

fn drop_sql(i: usize) -> String {
    format!("DROP TABLE t_{i:04}")
}

/// The N migrations in each tool's layout: `root/sqlx`, `root/refinery`.
fn write_projects(root: &Path, n: usize) -> (PathBuf, PathBuf) {
    let s = root.join("sqlx");
    let r = root.join("refinery");
    let _ = std::fs::remove_dir_all(root);
    std::fs::create_dir_all(&s).expect("mkdir");
    std::fs::create_dir_all(&r).expect("mkdir");
    for i in 1..=n {
        std::fs::write(s.join(format!("{i:04}_t_{i:04}.up.sql")), create(i)).expect("write");
        std::fs::write(s.join(format!("{i:04}_t_{i:04}.down.sql")), drop_sql(i)).expect("write");
        std::fs::write(r.join(format!("V{i}__t_{i:04}.sql")), create(i)).expect("write");
    }
    (s, r)
}

#[derive(Default)]
struct Row {
    apply: Duration,
    apply_trips: Option<usize>,
    load: Duration,
    check: Duration,
    check_trips: Option<usize>,
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// A TCP proxy to PostgreSQL counting round trips (see the module docs).
struct Proxy {
    port: u16,
    trips: Arc<AtomicUsize>,
}

impl Proxy {
    fn start(upstream: String) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let trips = Arc::new(AtomicUsize::new(0));
        let counter = trips.clone();
        std::thread::spawn(move || {
            for client in listener.incoming() {
                let Ok(client) = client else { continue };
                let server = TcpStream::connect(&upstream).expect("connect to PostgreSQL");
                client.set_nodelay(true).ok();
                server.set_nodelay(true).ok();
                let (c2, s2) = (
                    client.try_clone().expect("clone"),
                    server.try_clone().expect("clone"),
                );
                std::thread::spawn(move || copy(s2, c2));
                let counter = counter.clone();
                std::thread::spawn(move || frontend(client, server, counter));
            }
        });
        Proxy { port, trips }
    }
}

fn copy(mut from: TcpStream, mut to: TcpStream) {
    let _ = std::io::copy(&mut from, &mut to);
    let _ = to.shutdown(std::net::Shutdown::Both);
}

/// Forwards the client's messages, counting `Q` and `S`. Startup-phase
/// messages have no type byte (SSL/GSS requests, then the startup packet).
fn frontend(mut client: TcpStream, mut server: TcpStream, trips: Arc<AtomicUsize>) {
    let mut started = false;
    loop {
        let mut kind = [0u8; 1];
        if started {
            if client.read_exact(&mut kind).is_err() {
                break;
            }
        }
        let mut len = [0u8; 4];
        if client.read_exact(&mut len).is_err() {
            break;
        }
        let n = u32::from_be_bytes(len) as usize;
        let mut body = vec![0u8; n.saturating_sub(4)];
        if client.read_exact(&mut body).is_err() {
            break;
        }
        let mut out = Vec::with_capacity(n + 1);
        if started {
            out.push(kind[0]);
            if kind[0] == b'Q' || kind[0] == b'S' {
                trips.fetch_add(1, Ordering::Relaxed);
            }
        } else {
            let code = body
                .get(..4)
                .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]));
            // SSLRequest / GSSENCRequest: the server answers one byte and
            // the client sends its startup packet next.
            started = !matches!(code, Some(80877103) | Some(80877104));
        }
        out.extend_from_slice(&len);
        out.extend_from_slice(&body);
        if server.write_all(&out).is_err() {
            break;
        }
    }
    let _ = server.shutdown(std::net::Shutdown::Both);
}

fn admin(pg: &str) -> postgres::Client {
    postgres::Client::connect(&format!("{pg}/postgres"), postgres::NoTls).expect("pg admin")
}

fn fresh_pg_db(pg: &str) {
    let mut a = admin(pg);
    a.batch_execute("DROP DATABASE IF EXISTS migrator_bench_peers WITH (FORCE)")
        .expect("drop");
    a.batch_execute("CREATE DATABASE migrator_bench_peers")
        .expect("create");
    // Every tool starts from the same state: nothing left to flush.
    a.batch_execute("CHECKPOINT").expect("checkpoint");
}

fn bench_sqlx_sqlite(dir: &Path, db: &Path) -> Row {
    use sqlx::Connection;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let mut row = Row::default();
        let t = Instant::now();
        let migrator = sqlx::migrate::Migrator::new(dir).await.expect("loads");
        row.load = t.elapsed();
        let _ = std::fs::remove_file(db);
        let opts = sqlx::sqlite::SqliteConnectOptions::new()
            .filename(db)
            .create_if_missing(true);
        let mut conn = sqlx::SqliteConnection::connect_with(&opts)
            .await
            .expect("sqlite");
        let t = Instant::now();
        migrator.run(&mut conn).await.expect("applies");
        row.apply = t.elapsed();
        let mut times = Vec::new();
        for _ in 0..REPEAT {
            let t = Instant::now();
            migrator.run(&mut conn).await.expect("checks");
            times.push(t.elapsed());
        }
        row.check = median(times);
        row
    })
}

fn bench_sqlx_pg(dir: &Path, pg: &str, proxy: &Proxy) -> Row {
    use sqlx::Connection;
    fresh_pg_db(pg);
    let url = format!(
        "postgres://postgres@127.0.0.1:{}/migrator_bench_peers?sslmode=disable",
        proxy.port
    );
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let mut row = Row::default();
        let t = Instant::now();
        let migrator = sqlx::migrate::Migrator::new(dir).await.expect("loads");
        row.load = t.elapsed();
        let mut conn = sqlx::PgConnection::connect(&url).await.expect("pg");
        proxy.trips.store(0, Ordering::Relaxed);
        let t = Instant::now();
        migrator.run(&mut conn).await.expect("applies");
        row.apply = t.elapsed();
        row.apply_trips = Some(proxy.trips.swap(0, Ordering::Relaxed));
        let mut times = Vec::new();
        for _ in 0..REPEAT {
            proxy.trips.store(0, Ordering::Relaxed);
            let t = Instant::now();
            migrator.run(&mut conn).await.expect("checks");
            times.push(t.elapsed());
            row.check_trips = Some(proxy.trips.load(Ordering::Relaxed));
        }
        row.check = median(times);
        row
    })
}

fn bench_refinery_sqlite(dir: &Path, db: &Path) -> Row {
    let mut row = Row::default();
    let t = Instant::now();
    let migrations = refinery::load_sql_migrations(dir).expect("loads");
    row.load = t.elapsed();
    let _ = std::fs::remove_file(db);
    let mut conn = rusqlite::Connection::open(db).expect("sqlite");
    let runner = refinery::Runner::new(&migrations);
    let t = Instant::now();
    let report = runner.run(&mut conn).expect("applies");
    row.apply = t.elapsed();
    assert_eq!(report.applied_migrations().len(), migrations.len());
    let mut times = Vec::new();
    for _ in 0..REPEAT {
        let t = Instant::now();
        let report = refinery::Runner::new(&migrations)
            .run(&mut conn)
            .expect("checks");
        times.push(t.elapsed());
        assert!(report.applied_migrations().is_empty());
    }
    row.check = median(times);
    row
}

fn bench_refinery_pg(dir: &Path, pg: &str, proxy: &Proxy) -> Row {
    fresh_pg_db(pg);
    let mut row = Row::default();
    let t = Instant::now();
    let migrations = refinery::load_sql_migrations(dir).expect("loads");
    row.load = t.elapsed();
    let mut conn = postgres::Client::connect(
        &format!(
            "host=127.0.0.1 port={} user=postgres dbname=migrator_bench_peers",
            proxy.port
        ),
        postgres::NoTls,
    )
    .expect("pg");
    proxy.trips.store(0, Ordering::Relaxed);
    let t = Instant::now();
    let report = refinery::Runner::new(&migrations)
        .run(&mut conn)
        .expect("applies");
    row.apply = t.elapsed();
    row.apply_trips = Some(proxy.trips.swap(0, Ordering::Relaxed));
    assert_eq!(report.applied_migrations().len(), migrations.len());
    let mut times = Vec::new();
    for _ in 0..REPEAT {
        proxy.trips.store(0, Ordering::Relaxed);
        let t = Instant::now();
        let report = refinery::Runner::new(&migrations)
            .run(&mut conn)
            .expect("checks");
        times.push(t.elapsed());
        row.check_trips = Some(proxy.trips.load(Ordering::Relaxed));
        assert!(report.applied_migrations().is_empty());
    }
    row.check = median(times);
    row
}

fn ms(d: Duration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

fn trips(t: Option<usize>) -> String {
    t.map_or("-".into(), |n| n.to_string())
}

/// Rounds, as in bench/startup: apply is the median (fastest-slowest).
const DEFAULT_ROUNDS: usize = 5;

/// `BENCH_ROUNDS` (default 5).
fn rounds() -> usize {
    std::env::var("BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .filter(|&r| r > 0)
        .unwrap_or(DEFAULT_ROUNDS)
}

fn print(db: &str, tool: &str, rows: &[Row]) {
    let mut applies: Vec<Duration> = rows.iter().map(|r| r.apply).collect();
    applies.sort();
    let mut checks: Vec<Duration> = rows.iter().map(|r| r.check).collect();
    checks.sort();
    let mut loads: Vec<Duration> = rows.iter().map(|r| r.load).collect();
    loads.sort();
    let r = &rows[0];
    println!(
        "| {db} | {tool} | {} ({}-{}) | {} | {} | {} | {} |",
        ms(applies[applies.len() / 2]),
        ms(applies[0]),
        ms(applies[applies.len() - 1]),
        trips(r.apply_trips),
        ms(loads[loads.len() / 2]),
        ms(checks[checks.len() / 2]),
        trips(r.check_trips)
    );
}

fn main() {
    let mut args = std::env::args().skip(1);
    let n: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(500);
    let pg = args
        .next()
        .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432".to_string());
    let upstream = pg
        .rsplit('@')
        .next()
        .expect("host:port in the URL")
        .trim_end_matches('/')
        .to_string();
    let root = std::env::temp_dir().join(format!("migrator-bench-peers-{}", std::process::id()));
    let (sdir, rdir) = write_projects(&root, n);
    let db = root.join("bench.db");
    let proxy = Proxy::start(upstream);
    let mut rows: [Vec<Row>; 4] = Default::default();
    for round in 0..rounds() {
        rows[0].push(bench_sqlx_sqlite(&sdir, &db));
        rows[1].push(bench_refinery_sqlite(&rdir, &db));
        rows[2].push(bench_sqlx_pg(&sdir, &pg, &proxy));
        rows[3].push(bench_refinery_pg(&rdir, &pg, &proxy));
        eprintln!("peers: round {} of {} done", round + 1, rounds());
    }
    print("SQLite", "sqlx migrate", &rows[0]);
    print("SQLite", "refinery", &rows[1]);
    print("PostgreSQL", "sqlx migrate", &rows[2]);
    print("PostgreSQL", "refinery", &rows[3]);
    let _ = admin(&pg).batch_execute("DROP DATABASE IF EXISTS migrator_bench_peers WITH (FORCE)");
    let _ = std::fs::remove_dir_all(&root);
}
