//! Rolling deploys through expand/contract on PostgreSQL (docs/DEPLOYING.md,
//! "Rolling deploys: renames and type changes"), through the binary on a
//! real server (mandatory under CI=true).
//!
//! One table, two changes at once: `note` (TEXT) renamed to `memo`, and
//! `qty` (INTEGER) becoming `quantity` (BIGINT). An "old version" client
//! writes through `qty`/`note` and a "new version" client through
//! `quantity`/`memo`, each inserting and updating its own rows without a
//! pause, on its own connection:
//!
//! - the old client runs from before the expand migration until the old
//!   version is gone (before the contract), so across the expand's DDL, the
//!   trigger's creation, the batched backfill and the NOT NULL change;
//! - the new client starts as soon as both triggers exist (in the middle of
//!   the expand migration, before `memo`'s backfill) and runs through the
//!   contract.
//!
//! Then the deploy is rolled back: the contract's downgrade runs while the
//! new client still writes, the old version starts again beside it, the new
//! one stops, and the expand's downgrade runs while the old one writes.
//!
//! No client may see a single failed query, and every row each one wrote
//! holds its last value in the surviving columns (the new ones after the
//! contract, the old ones after both downgrades). `verify` is clean after
//! each step, and `generate` writes both migrations from the model alone.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use common::support::rows_pg;
use common::{ok_at, pg_base_url, PgDb};
use diesel::connection::SimpleConnection;
use diesel::{Connection, PgConnection};

const BEFORE: &str = r#"
use migrator::Model;

#[derive(Model)]
#[model(table = "orders")]
pub struct Order {
    #[model(primary_key, auto_increment)]
    pub id: i64,
    pub tag: String,
    pub qty: i32,
    pub note: String,
}
"#;

/// Both versions' columns: the new fields replace the kept old ones.
const DURING: &str = r#"
use migrator::Model;

#[derive(Model)]
#[model(table = "orders", keep = "qty, note")]
pub struct Order {
    #[model(primary_key, auto_increment)]
    pub id: i64,
    pub tag: String,
    #[model(renamed_from = "qty")]
    pub quantity: i64,
    #[model(renamed_from = "note")]
    pub memo: String,
}
"#;

/// The old version is gone: the old columns leave `keep`.
const AFTER: &str = r#"
use migrator::Model;

#[derive(Model)]
#[model(table = "orders")]
pub struct Order {
    #[model(primary_key, auto_increment)]
    pub id: i64,
    pub tag: String,
    #[model(renamed_from = "qty")]
    pub quantity: i64,
    #[model(renamed_from = "note")]
    pub memo: String,
}
"#;

/// Rows there before the deploy: enough for several backfill batches.
const SEEDED: u32 = 50_000;

/// What one client wrote: tag -> (number, text), the last values.
type Written = BTreeMap<String, (i64, String)>;

/// A client of one application version, writing through `num`/`txt` until
/// `stop`: each round inserts a row and updates one of its earlier rows.
/// Returns what it wrote and the queries that failed.
fn client(
    url: String,
    who: &'static str,
    num: &'static str,
    txt: &'static str,
    stop: Arc<AtomicBool>,
) -> thread::JoinHandle<(Written, Vec<String>)> {
    thread::spawn(move || {
        let mut conn = PgConnection::establish(&url).expect("client connects");
        let mut written = Written::new();
        let mut failed = Vec::new();
        let mut n: i64 = 0;
        while !stop.load(Ordering::SeqCst) {
            n += 1;
            let tag = format!("{who}-{n}");
            let (v, t) = (n, format!("{who} {n}"));
            let insert =
                format!("INSERT INTO orders (tag, {num}, {txt}) VALUES ('{tag}', {v}, '{t}')");
            match conn.batch_execute(&insert) {
                Ok(()) => {
                    written.insert(tag, (v, t));
                }
                Err(e) => failed.push(format!("{insert}: {e}")),
            }
            // Update a row written a few rounds ago.
            if n > 3 {
                let tag = format!("{who}-{}", n - 3);
                if let Some(last) = written.get_mut(&tag) {
                    let (v, t) = (n * 1000 + 7, format!("{who} {n} updated"));
                    let update =
                        format!("UPDATE orders SET {num} = {v}, {txt} = '{t}' WHERE tag = '{tag}'");
                    match conn.batch_execute(&update) {
                        Ok(()) => *last = (v, t),
                        Err(e) => failed.push(format!("{update}: {e}")),
                    }
                }
            }
        }
        (written, failed)
    })
}

/// tag -> (number, text) as `num`/`txt` hold them.
fn table(conn: &mut PgConnection, num: &str, txt: &str) -> Written {
    rows_pg(
        conn,
        &format!("SELECT tag AS a, {num}::text AS b, {txt} AS c, '' AS d FROM orders"),
    )
    .into_iter()
    .map(|r| (r.a, (r.b.parse().expect("a number"), r.c)))
    .collect()
}

fn columns(conn: &mut PgConnection) -> Vec<String> {
    rows_pg(
        conn,
        "SELECT column_name::text AS a, data_type::text AS b, is_nullable::text AS c, '' AS d \
         FROM information_schema.columns WHERE table_name = 'orders' ORDER BY column_name",
    )
    .into_iter()
    .map(|r| format!("{} {} {}", r.a, r.b, r.c))
    .collect()
}

/// The rows one client has inserted so far.
fn count(conn: &mut PgConnection, who: &str) -> usize {
    rows_pg(
        conn,
        &format!("SELECT tag AS a, '' AS b, '' AS c, '' AS d FROM orders WHERE tag LIKE '{who}-%'"),
    )
    .len()
}

fn triggers(conn: &mut PgConnection) -> usize {
    rows_pg(
        conn,
        "SELECT tgname::text AS a, '' AS b, '' AS c, '' AS d FROM pg_trigger \
         WHERE tgrelid = 'orders'::regclass AND NOT tgisinternal",
    )
    .len()
}

/// Every row holds the same values in the old and the new columns, read in
/// one query while clients go on writing.
fn assert_in_step(conn: &mut PgConnection) {
    let pairs = rows_pg(
        conn,
        "SELECT tag AS a, qty::text || ' ' || quantity::text AS b, note AS c, memo AS d FROM orders",
    );
    assert!(!pairs.is_empty());
    for r in &pairs {
        let (qty, quantity) = r.b.split_once(' ').expect("two numbers");
        assert!(
            qty == quantity && r.c == r.d,
            "row `{}` differs between the versions' columns: {} / {} {}",
            r.a,
            r.b,
            r.c,
            r.d
        );
    }
}

fn assert_clean(dir: &Path, url: &str, step: &str) {
    let out = ok_at(dir, url, &["verify", "--format", "json"]);
    assert!(out.contains("\"clean\":true"), "verify after {step}: {out}");
}

fn assert_contains(all: &Written, part: &Written, what: &str) {
    for (tag, value) in part {
        assert_eq!(all.get(tag), Some(value), "{what}: row `{tag}`");
    }
}

#[test]
fn rename_and_type_change_through_expand_and_contract_with_both_versions_writing() {
    let Some(base) = pg_base_url() else { return };
    let db = PgDb::create(&base, "expand");
    let url = db.url.clone();
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    std::fs::create_dir_all(d.join("src")).expect("src");
    std::fs::write(d.join("src/models.rs"), BEFORE).expect("models");
    ok_at(d, &url, &["init"]);
    let config = std::fs::read_to_string(d.join("migrator.toml")).expect("config");
    std::fs::write(
        d.join("migrator.toml"),
        format!("{config}\ndialects = [\"postgres\"]\n"),
    )
    .expect("config");
    ok_at(d, &url, &["generate", "create_orders"]);
    ok_at(d, &url, &["up"]);
    let mut conn = db.connect();
    conn.batch_execute(&format!(
        "INSERT INTO orders (tag, qty, note) SELECT 'seed-' || i, i, 'seed ' || i FROM generate_series(1, {SEEDED}) i"
    ))
    .expect("seed");

    // The expand migration, generated from the model alone.
    std::fs::write(d.join("src/models.rs"), DURING).expect("models");
    let out = ok_at(d, &url, &["generate", "expand_orders"]);
    assert!(out.contains("(expand)"), "{out}");
    let file = std::fs::read_to_string(d.join("migrations/0002_expand_orders.toml")).expect("0002");
    assert!(
        file.contains("CREATE TRIGGER") && file.contains("op = \"backfill\""),
        "{file}"
    );
    // The in-place forms are what lint flags; the expand form passes.
    let lint = ok_at(d, &url, &["lint"]);
    assert!(!lint.contains("breaks-running-version"), "{lint}");

    let old_stop = Arc::new(AtomicBool::new(false));
    let old = client(url.clone(), "old", "qty", "note", old_stop.clone());
    thread::sleep(Duration::from_millis(300));
    // The new version starts as soon as both triggers exist: while the
    // expand migration's last backfill and NOT NULL change still run.
    let new_stop = Arc::new(AtomicBool::new(false));
    let new = {
        let (url, stop) = (url.clone(), new_stop.clone());
        thread::spawn(move || {
            let mut c = PgConnection::establish(&url).expect("watcher connects");
            while triggers(&mut c) < 2 {
                thread::sleep(Duration::from_millis(5));
            }
            client(url, "new", "quantity", "memo", stop)
                .join()
                .expect("new client")
        })
    };
    let before = count(&mut conn, "old");
    let up = ok_at(d, &url, &["up"]);
    assert!(up.contains("applied 0002_expand_orders"), "{up}");
    assert!(
        count(&mut conn, "old") > before,
        "the old version wrote nothing while the expand ran"
    );
    assert!(
        count(&mut conn, "new") > 0,
        "the new version wrote nothing while the expand ran"
    );
    thread::sleep(Duration::from_millis(500));
    assert_clean(d, &url, "expand up");
    assert_eq!(triggers(&mut conn), 2, "one trigger per column pair");

    // The deploy finishes: the old version stops. Both columns agree.
    old_stop.store(true, Ordering::SeqCst);
    let (old_written, old_failed) = old.join().expect("old client");
    assert!(
        old_failed.is_empty(),
        "the old version failed: {old_failed:#?}"
    );
    assert!(
        old_written.len() > 10,
        "the old client wrote {} rows",
        old_written.len()
    );
    assert_in_step(&mut conn);
    let via_new = table(&mut conn, "quantity", "memo");
    assert_contains(
        &via_new,
        &old_written,
        "the old version's writes through the new columns",
    );

    // The contract, generated once the old columns leave `keep`.
    std::fs::write(d.join("src/models.rs"), AFTER).expect("models");
    let out = ok_at(d, &url, &["generate", "contract_orders"]);
    assert!(out.contains("(contract)"), "{out}");
    assert!(
        !out.contains("lint findings") && !out.contains("taken as already applied"),
        "the contract allows the drop it is for: {out}"
    );
    let lint = ok_at(d, &url, &["lint"]);
    assert!(lint.contains("0 error(s)"), "{lint}");
    let before = count(&mut conn, "new");
    let up = ok_at(d, &url, &["up"]);
    assert!(up.contains("applied 0003_contract_orders"), "{up}");
    assert!(
        count(&mut conn, "new") > before,
        "the new version wrote nothing while the contract ran"
    );
    thread::sleep(Duration::from_millis(300));
    assert_clean(d, &url, "contract up");
    assert_eq!(triggers(&mut conn), 0);
    // No lost writes of the old version (stopped), nor of the seeded rows,
    // in the surviving columns.
    let last = table(&mut conn, "quantity", "memo");
    assert_contains(&last, &old_written, "the old version's writes");
    for i in [1, SEEDED / 2, SEEDED] {
        assert_eq!(
            last.get(&format!("seed-{i}")),
            Some(&(i64::from(i), format!("seed {i}"))),
            "seeded row {i}"
        );
    }
    assert_eq!(
        columns(&mut conn),
        [
            "id bigint NO",
            "memo text NO",
            "quantity bigint NO",
            "tag text NO"
        ]
    );

    // The deploy is rolled back. The contract's downgrade runs while the new
    // version still writes: the old columns come back with the values of
    // the new ones (rows written after the contract too), kept in step again
    // by the trigger.
    ok_at(d, &url, &["down"]);
    assert_clean(d, &url, "contract down");
    assert_eq!(triggers(&mut conn), 2, "one trigger per column pair");
    // The old version starts again beside the new one.
    let again_stop = Arc::new(AtomicBool::new(false));
    let again = client(url.clone(), "again", "qty", "note", again_stop.clone());
    thread::sleep(Duration::from_millis(300));
    conn.batch_execute(
        "INSERT INTO orders (tag, qty, note) VALUES ('late-old', 41, 'late old'); \
         INSERT INTO orders (tag, quantity, memo) VALUES ('late-new', 42, 'late new'); \
         UPDATE orders SET qty = 43 WHERE tag = 'seed-1'; \
         UPDATE orders SET memo = 'moved' WHERE tag = 'seed-2'",
    )
    .expect("both versions write after the contract's downgrade");
    let via_new = table(&mut conn, "quantity", "memo");
    assert_eq!(via_new["late-old"], (41, "late old".into()));
    assert_eq!(via_new["seed-1"].0, 43);
    let via_old = table(&mut conn, "qty", "note");
    assert_eq!(via_old["late-new"], (42, "late new".into()));
    assert_eq!(via_old["seed-2"].1, "moved");
    assert_in_step(&mut conn);

    // The new version goes; the expand's downgrade runs while the old one
    // writes.
    new_stop.store(true, Ordering::SeqCst);
    let (new_written, new_failed) = new.join().expect("new client");
    assert!(
        new_failed.is_empty(),
        "the new version failed: {new_failed:#?}"
    );
    assert!(
        new_written.len() > 10,
        "the new client wrote {} rows",
        new_written.len()
    );
    assert_contains(
        &table(&mut conn, "qty", "note"),
        &new_written,
        "the new version's writes through the old columns",
    );
    let before = count(&mut conn, "again");
    ok_at(d, &url, &["down"]);
    assert!(
        count(&mut conn, "again") > before,
        "the old version wrote nothing while the expand was rolled back"
    );
    thread::sleep(Duration::from_millis(200));
    again_stop.store(true, Ordering::SeqCst);
    let (again_written, again_failed) = again.join().expect("old client, again");
    assert!(
        again_failed.is_empty(),
        "the old version failed after the rollback: {again_failed:#?}"
    );
    assert_clean(d, &url, "expand down");
    assert_eq!(triggers(&mut conn), 0);
    assert_eq!(
        columns(&mut conn),
        [
            "id bigint NO",
            "note text NO",
            "qty integer NO",
            "tag text NO"
        ]
    );
    // Every write of every version is in the old columns.
    let back = table(&mut conn, "qty", "note");
    assert_contains(&back, &old_written, "the old version's writes");
    assert_contains(&back, &new_written, "the new version's writes");
    assert_contains(
        &back,
        &again_written,
        "the old version's writes after the rollback",
    );

    // And forward again to the end.
    ok_at(d, &url, &["up"]);
    assert_clean(d, &url, "up again");
    assert_eq!(table(&mut conn, "quantity", "memo").len(), back.len());
}

/// SQLite and MySQL have no form of it here: a project that declares one
/// is refused by `generate`, naming the column and the way out, and nothing
/// is written.
#[test]
fn expand_form_refused_where_a_project_declares_another_database() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let url = format!("sqlite://{}", d.join("app.db").display());
    std::fs::create_dir_all(d.join("src")).expect("src");
    std::fs::write(d.join("src/models.rs"), BEFORE).expect("models");
    ok_at(d, &url, &["init"]);
    let config = std::fs::read_to_string(d.join("migrator.toml")).expect("config");
    std::fs::write(
        d.join("migrator.toml"),
        format!("{config}\ndialects = [\"postgres\", \"sqlite\"]\n"),
    )
    .expect("config");
    ok_at(d, &url, &["generate", "create_orders"]);
    let snapshot = std::fs::read_to_string(d.join("migrations/schema.toml")).expect("snapshot");
    std::fs::write(d.join("src/models.rs"), DURING).expect("models");
    let o = common::migrator_at(d, &url, &["generate", "expand_orders"]);
    let out = common::text(&o);
    assert!(!o.status.success(), "{out}");
    assert!(
        out.contains("column `orders.quantity` replaces the kept column `qty`")
            && out.contains("this project declares sqlite")
            && out.contains("help: rename in place instead"),
        "{out}"
    );
    assert!(!d.join("migrations/0002_expand_orders.toml").exists());
    assert_eq!(
        std::fs::read_to_string(d.join("migrations/schema.toml")).expect("snapshot"),
        snapshot
    );
}

/// A project that declares no dialect must run its migrations everywhere:
/// refused the same way, nothing written.
#[test]
fn expand_form_refused_where_a_project_declares_no_dialect() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let url = format!("sqlite://{}", d.join("app.db").display());
    std::fs::create_dir_all(d.join("src")).expect("src");
    std::fs::write(d.join("src/models.rs"), BEFORE).expect("models");
    ok_at(d, &url, &["init"]);
    ok_at(d, &url, &["generate", "create_orders"]);
    ok_at(d, &url, &["up"]);
    std::fs::write(d.join("src/models.rs"), DURING).expect("models");
    let o = common::migrator_at(d, &url, &["generate", "expand_orders"]);
    let out = common::text(&o);
    assert!(!o.status.success(), "{out}");
    assert!(
        out.contains("this project declares no `dialects`, so its migrations must run on SQLite and MySQL too")
            && out.contains("declare `dialects = [\"postgres\"]`"),
        "{out}"
    );
    assert!(!d.join("migrations/0002_expand_orders.toml").exists());
    // Nothing changed: the database still matches the snapshot.
    let out = ok_at(d, &url, &["verify", "--format", "json"]);
    assert!(out.contains("\"clean\":true"), "{out}");
}
