//! Test support: a throwaway project on disk, throwaway databases, and a
//! small reader of the live schema (tables, columns, indexes, foreign keys)
//! that is independent of migrator's own rendering.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::sql_types::Text;
use diesel::sqlite::SqliteConnection;
use diesel::{Connection, QueryableByName, RunQueryDsl};
use migrator_core::migration::{MigrationFile, MigrationSet};
use migrator_core::project::{Generated, Project};
use migrator_core::schema::Schema;

/// A crate on disk with `src/models.rs` and `migrations/`.
pub struct TestProject {
    pub dir: tempfile::TempDir,
}

impl TestProject {
    pub fn new() -> TestProject {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::create_dir_all(dir.path().join("src")).expect("src");
        TestProject { dir }
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn migrations_dir(&self) -> PathBuf {
        self.root().join("migrations")
    }

    pub fn set_models(&self, src: &str) {
        std::fs::write(self.root().join("src/models.rs"), src).expect("write models");
    }

    pub fn project(&self) -> Project {
        Project::open(self.root()).expect("project opens")
    }

    /// Runs `generate` and writes its files, as the CLI does.
    pub fn generate(&self, name: &str) -> Option<Generated> {
        let g = self.project().generate(name).expect("generate succeeds")?;
        std::fs::create_dir_all(self.migrations_dir()).expect("mkdir");
        std::fs::write(self.migrations_dir().join(&g.file_name), &g.migration_text)
            .expect("write migration");
        std::fs::write(self.project().snapshot_path(), &g.snapshot_text).expect("write snapshot");
        Some(g)
    }

    /// Rewrites a migration file through `edit`, then recomputes the
    /// snapshot's checksums (the documented flow for hand-written steps).
    pub fn edit_and_rehash(&self, file_name: &str, edit: impl FnOnce(&mut MigrationFile)) {
        let path = self.migrations_dir().join(file_name);
        let text = std::fs::read_to_string(&path).expect("read");
        let mut file = MigrationFile::parse(&text).expect("parses");
        edit(&mut file);
        std::fs::write(&path, file.to_text("edited by hand")).expect("write");
        let snap = self.project().rehash().expect("rehash");
        std::fs::write(self.project().snapshot_path(), snap).expect("write snapshot");
    }

    /// Writes hand-written migrations of raw SQL steps only (`(name,
    /// [(upgrade, downgrade)])` each; downgrades run in reverse order) and a
    /// snapshot with no modelled schema.
    pub fn raw_migrations(&self, migrations: &[(&str, &[(&str, &str)])]) {
        use migrator_core::ops::{inverse_all, Operation, RawSql, SqlVariants};
        let dir = self.migrations_dir();
        std::fs::create_dir_all(&dir).expect("mkdir");
        for (i, (name, steps)) in migrations.iter().enumerate() {
            let upgrade: Vec<Operation> = steps
                .iter()
                .map(|(up, down)| {
                    Operation::Sql(RawSql {
                        sql: Some(up.to_string()),
                        reverse: Some(SqlVariants {
                            sql: Some(down.to_string()),
                            ..Default::default()
                        }),
                        ..Default::default()
                    })
                })
                .collect();
            let downgrade = inverse_all(&upgrade);
            let file = MigrationFile::new(*name, upgrade, downgrade);
            std::fs::write(
                dir.join(format!("{:04}_{name}.toml", i + 1)),
                file.to_text("written by hand"),
            )
            .expect("write");
        }
        std::fs::write(
            self.project().snapshot_path(),
            migrator_core::snapshot::Snapshot::default().to_text(),
        )
        .expect("write snapshot");
        let snap = self.project().rehash().expect("rehash");
        std::fs::write(self.project().snapshot_path(), snap).expect("write snapshot");
    }

    pub fn set(&self) -> MigrationSet {
        MigrationSet::load(&self.migrations_dir()).expect("migrations load")
    }
}

/// What the live database has, in a form both databases can produce.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Shape {
    /// table -> columns as `name nullable|not null`, sorted (a column added
    /// back by a downgrade lands at the end; order is not part of the schema).
    pub columns: BTreeMap<String, Vec<String>>,
    /// `table.index_name`, primary keys excluded.
    pub indexes: BTreeSet<String>,
    /// `table(col) -> ref_table(ref_col)`.
    pub foreign_keys: BTreeSet<String>,
}

impl Shape {
    fn sorted(mut self) -> Shape {
        for cols in self.columns.values_mut() {
            cols.sort();
        }
        self
    }
}

/// The shape a modelled schema should have on a live database.
pub fn expected(schema: &Schema) -> Shape {
    let mut s = Shape::default();
    for t in schema.tables.values() {
        s.columns.insert(
            t.name.clone(),
            t.columns
                .iter()
                .map(|c| {
                    format!(
                        "{} {}",
                        c.name,
                        if c.nullable { "null" } else { "not null" }
                    )
                })
                .collect(),
        );
        for i in &t.indexes {
            s.indexes.insert(format!("{}.{}", t.name, i.name));
        }
        for u in &t.uniques {
            s.indexes.insert(format!("{}.{}", t.name, u.name));
        }
        for f in &t.foreign_keys {
            for (c, r) in f.columns.iter().zip(&f.ref_columns) {
                s.foreign_keys
                    .insert(format!("{}({c}) -> {}({r})", t.name, f.ref_table));
            }
        }
    }
    s.sorted()
}

#[derive(QueryableByName, Debug)]
pub struct Row {
    #[diesel(sql_type = Text)]
    pub a: String,
    #[diesel(sql_type = Text)]
    pub b: String,
    #[diesel(sql_type = Text)]
    pub c: String,
    #[diesel(sql_type = Text)]
    pub d: String,
}

pub fn rows_sqlite(conn: &mut SqliteConnection, q: &str) -> Vec<Row> {
    diesel::sql_query(q)
        .load(conn)
        .unwrap_or_else(|e| panic!("{q}: {e}"))
}

pub fn rows_pg(conn: &mut PgConnection, q: &str) -> Vec<Row> {
    diesel::sql_query(q)
        .load(conn)
        .unwrap_or_else(|e| panic!("{q}: {e}"))
}

/// Rows of `q` on MySQL/MariaDB. Alias every column `a`..`d` and cast it to
/// text (`CAST(x AS CHAR)`): diesel's MySQL backend checks result types.
/// On a Galera cluster a DDL statement of another test, replicated in total
/// order, can abort this read with a deadlock error (error 1213), which
/// Galera's documentation tells applications to retry: the read is tried
/// again, a few times.
#[cfg(feature = "mysql")]
pub fn rows_mysql(conn: &mut diesel::mysql::MysqlConnection, q: &str) -> Vec<Row> {
    let mut tries = 0;
    loop {
        match diesel::sql_query(q).load(conn) {
            Ok(rows) => return rows,
            Err(e) if tries < 5 && e.to_string().contains("Deadlock found") => {
                tries += 1;
                std::thread::sleep(std::time::Duration::from_millis(50 * tries));
            }
            Err(e) => panic!("{q}: {e}"),
        }
    }
}

const HISTORY: &str = "_migrator_history";
const LOCK: &str = "_migrator_lock";
/// The prefix of the archives of kept drops (`tests/db/keep.rs` counts them).
const ARCHIVE: &str = "_migrator_archive_";

pub fn shape_sqlite(conn: &mut SqliteConnection) -> Shape {
    let mut s = Shape::default();
    let tables = rows_sqlite(
        conn,
        &format!("SELECT name AS a, '' AS b, '' AS c, '' AS d FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT IN ('{HISTORY}', '{LOCK}') AND substr(name, 1, 18) <> '{ARCHIVE}' ORDER BY name"),
    );
    for t in tables {
        let t = t.a;
        let cols = rows_sqlite(
            conn,
            &format!("SELECT name AS a, CAST(\"notnull\" AS TEXT) AS b, CAST(pk AS TEXT) AS c, '' AS d FROM pragma_table_info('{t}') ORDER BY cid"),
        );
        // SQLite reports an INTEGER PRIMARY KEY as nullable; it is not.
        s.columns.insert(
            t.clone(),
            cols.iter()
                .map(|c| {
                    format!(
                        "{} {}",
                        c.a,
                        if c.b == "1" || c.c != "0" {
                            "not null"
                        } else {
                            "null"
                        }
                    )
                })
                .collect(),
        );
        for i in rows_sqlite(
            conn,
            &format!("SELECT name AS a, '' AS b, '' AS c, '' AS d FROM pragma_index_list('{t}') WHERE name NOT LIKE 'sqlite_autoindex_%'"),
        ) {
            s.indexes.insert(format!("{t}.{}", i.a));
        }
        for f in rows_sqlite(
            conn,
            &format!("SELECT \"table\" AS a, \"from\" AS b, \"to\" AS c, '' AS d FROM pragma_foreign_key_list('{t}')"),
        ) {
            s.foreign_keys.insert(format!("{t}({}) -> {}({})", f.b, f.a, f.c));
        }
    }
    s.sorted()
}

pub fn shape_pg(conn: &mut PgConnection) -> Shape {
    let mut s = Shape::default();
    for c in rows_pg(
        conn,
        &format!("SELECT table_name::text AS a, column_name::text AS b, is_nullable::text AS c, '' AS d FROM information_schema.columns WHERE table_schema = current_schema() AND table_name NOT IN ('{HISTORY}', '{LOCK}') AND substr(table_name, 1, 18) <> '{ARCHIVE}' ORDER BY table_name, ordinal_position"),
    ) {
        s.columns.entry(c.a).or_default().push(format!(
            "{} {}",
            c.b,
            if c.c == "YES" { "null" } else { "not null" }
        ));
    }
    for i in rows_pg(
        conn,
        &format!("SELECT i.tablename::text AS a, i.indexname::text AS b, '' AS c, '' AS d FROM pg_indexes i WHERE i.schemaname = current_schema() AND i.tablename NOT IN ('{HISTORY}', '{LOCK}') AND substr(i.tablename, 1, 18) <> '{ARCHIVE}' AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conname = i.indexname AND k.contype = 'p')"),
    ) {
        s.indexes.insert(format!("{}.{}", i.a, i.b));
    }
    for f in rows_pg(
        conn,
        "SELECT kcu.table_name::text AS a, kcu.column_name::text AS b, ccu.table_name::text AS c, ccu.column_name::text AS d \
         FROM information_schema.table_constraints tc \
         JOIN information_schema.key_column_usage kcu ON kcu.constraint_name = tc.constraint_name AND kcu.table_schema = tc.table_schema \
         JOIN information_schema.constraint_column_usage ccu ON ccu.constraint_name = tc.constraint_name AND ccu.table_schema = tc.table_schema \
         WHERE tc.constraint_type = 'FOREIGN KEY' AND tc.table_schema = current_schema()",
    ) {
        s.foreign_keys.insert(format!("{}({}) -> {}({})", f.a, f.b, f.c, f.d));
    }
    s.sorted()
}

/// A fresh SQLite database file in `dir`.
pub fn sqlite(dir: &Path) -> SqliteConnection {
    let path = dir.join("test.db");
    let _ = std::fs::remove_file(&path);
    let mut conn =
        SqliteConnection::establish(path.to_str().expect("utf-8 path")).expect("sqlite opens");
    // Enforce foreign keys, as a careful application does; the runner must
    // cope (it switches them off around table rebuilds).
    conn.batch_execute("PRAGMA foreign_keys = ON")
        .expect("pragma");
    conn
}

/// The PostgreSQL server to test against, or `None` (with a loud message)
/// when it cannot be reached outside CI. Under `CI=true` an unreachable
/// server fails the test.
pub fn pg_base_url() -> Option<String> {
    let url = std::env::var("MIGRATOR_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432".to_string());
    match PgConnection::establish(&format!("{url}/postgres")) {
        Ok(_) => Some(url),
        Err(e) => {
            if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
                panic!("PostgreSQL is required under CI but {url} is unreachable: {e}");
            }
            eprintln!("\n!!!!!!!! SKIPPING PostgreSQL test: {url} is unreachable ({e}); set MIGRATOR_TEST_PG or start PostgreSQL !!!!!!!!\n");
            None
        }
    }
}

/// A database name no other test run uses: `migrator_t_<tag>_<pid>_<ns>`.
fn unique_name(tag: &str) -> String {
    format!(
        "migrator_t_{tag}_{}_{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.subsec_nanos())
    )
}

/// A fresh PostgreSQL database, dropped when the guard goes.
pub struct PgDb {
    base: String,
    pub name: String,
    pub url: String,
}

impl PgDb {
    pub fn create(base: &str, tag: &str) -> PgDb {
        let name = unique_name(tag);
        let mut admin = PgConnection::establish(&format!("{base}/postgres")).expect("pg admin");
        // Two calls: PostgreSQL runs a multi-statement batch in one
        // transaction, which CREATE DATABASE refuses.
        admin
            .batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\""))
            .expect("drop database");
        admin
            .batch_execute(&format!("CREATE DATABASE \"{name}\""))
            .expect("create database");
        PgDb {
            base: base.to_string(),
            url: format!("{base}/{name}"),
            name,
        }
    }

    pub fn connect(&self) -> PgConnection {
        PgConnection::establish(&self.url).expect("pg connects")
    }
}

impl Drop for PgDb {
    fn drop(&mut self) {
        if let Ok(mut admin) = PgConnection::establish(&format!("{}/postgres", self.base)) {
            let _ = admin.batch_execute(&format!(
                "DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)",
                self.name
            ));
        }
    }
}

/// The MySQL/MariaDB server to test against (`MIGRATOR_TEST_MYSQL_URL`,
/// default `mysql://root@127.0.0.1:3306`, no database), or `None` (with a
/// loud message) when it cannot be reached outside CI. Under `CI=true` an
/// unreachable server fails the test.
#[cfg(feature = "mysql")]
pub fn mysql_base_url() -> Option<String> {
    let url = std::env::var("MIGRATOR_TEST_MYSQL_URL")
        .unwrap_or_else(|_| "mysql://root@127.0.0.1:3306".to_string());
    let url = url.trim_end_matches('/').to_string();
    match diesel::mysql::MysqlConnection::establish(&url) {
        Ok(_) => Some(url),
        Err(e) => {
            if std::env::var("CI").is_ok_and(|v| v == "true" || v == "1") {
                panic!("MySQL/MariaDB is required under CI but {url} is unreachable: {e}");
            }
            eprintln!("\n!!!!!!!! SKIPPING MySQL/MariaDB test: {url} is unreachable ({e}); set MIGRATOR_TEST_MYSQL_URL or start MariaDB !!!!!!!!\n");
            None
        }
    }
}

/// A fresh MySQL/MariaDB database, dropped when the guard goes.
#[cfg(feature = "mysql")]
pub struct MyDb {
    base: String,
    pub name: String,
    pub url: String,
}

#[cfg(feature = "mysql")]
impl MyDb {
    pub fn create(base: &str, tag: &str) -> MyDb {
        let name = unique_name(tag);
        let mut admin = diesel::mysql::MysqlConnection::establish(base).expect("mysql admin");
        admin
            .batch_execute(&format!(
                "DROP DATABASE IF EXISTS `{name}`; CREATE DATABASE `{name}` CHARACTER SET utf8mb4"
            ))
            .expect("create database");
        MyDb {
            base: base.to_string(),
            url: format!("{base}/{name}"),
            name,
        }
    }

    pub fn connect(&self) -> diesel::mysql::MysqlConnection {
        diesel::mysql::MysqlConnection::establish(&self.url).expect("mysql connects")
    }

    /// The guard of database `name` that already exists on `base` (another
    /// node of a cluster, say). Dropping it drops the database: wrap it in
    /// `ManuallyDrop` to only read. (Used by the CLI's deploy suite.)
    #[allow(dead_code)]
    pub fn existing(base: &str, name: &str) -> MyDb {
        MyDb {
            base: base.to_string(),
            url: format!("{base}/{name}"),
            name: name.to_string(),
        }
    }
}

#[cfg(feature = "mysql")]
impl Drop for MyDb {
    fn drop(&mut self) {
        if let Ok(mut admin) = diesel::mysql::MysqlConnection::establish(&self.base) {
            let _ = admin.batch_execute(&format!("DROP DATABASE IF EXISTS `{}`", self.name));
        }
    }
}

/// Runs one rendered statement as the runner does, without its history:
/// the `skip_if` guard first, a `refuses` check (its rows are what would be
/// lost: an error), an `each_row` query's rows as the statements. For tests
/// that apply rendered SQL by hand.
pub fn run_statement<C: migrator_core::runner::MigrationConnection>(
    c: &mut C,
    s: &migrator_core::dialect::Statement,
) -> Result<(), String> {
    if let Some(q) = &s.skip_if {
        if c.count_rows(q).map_err(|e| format!("guard {q}: {e}"))? > 0 {
            return Ok(());
        }
    }
    if s.refuses || s.each_row {
        let rows = c
            .query_texts(&s.sql)
            .map_err(|e| format!("{}: {e}", s.sql))?;
        if s.refuses {
            return match rows.is_empty() {
                true => Ok(()),
                false => Err(format!("refused: {rows:?}")),
            };
        }
        for sql in rows {
            c.execute(&sql).map_err(|e| format!("{sql}: {e}"))?;
        }
        return Ok(());
    }
    c.execute(&s.sql).map_err(|e| format!("{}: {e}", s.sql))
}
