//! The history table: its SQL (create, read, the rows a run writes) and
//! the start-up check. Executing a migration is `apply.rs`'s; the runner's
//! lock is in `lock/`.

use std::sync::OnceLock;

use super::conn::{HistoryRow, MigrationConnection};
use super::error::RunError;
use crate::dialect::Dialect;
use crate::migration::{Migration, MigrationSet};

/// The runner's version, written into every history row.
pub const TOOL_VERSION: &str = env!("CARGO_PKG_VERSION");

pub const HISTORY_TABLE: &str = "_migrator_history";
pub(crate) const APPLIED: &str = "applied";
pub(crate) const PARTIAL: &str = "partial";

pub(crate) fn create_sql(dialect: Dialect) -> String {
    let t = dialect.ident(HISTORY_TABLE);
    format!(
        "CREATE TABLE IF NOT EXISTS {t} (\
version BIGINT PRIMARY KEY, \
name VARCHAR(255) NOT NULL, \
checksum VARCHAR(64) NOT NULL, \
applied_at VARCHAR(32) NOT NULL, \
execution_ms BIGINT NOT NULL, \
tool_version VARCHAR(32) NOT NULL, \
state VARCHAR(16) NOT NULL, \
steps_done BIGINT NOT NULL)"
    )
}

pub(crate) fn ensure_table<C: MigrationConnection>(conn: &mut C) -> Result<(), RunError> {
    let sql = create_sql(conn.dialect());
    conn.execute(&sql)
        .map_err(|e| db(conn.dialect(), "creating the history table", e))
}

pub(crate) fn exists<C: MigrationConnection>(conn: &mut C) -> Result<bool, RunError> {
    super::conn::table_exists(conn, HISTORY_TABLE)
        .map_err(|e| db(conn.dialect(), "looking for the history table", e))
}

pub(crate) fn select_sql(dialect: Dialect, version: Option<u32>) -> String {
    let mut q = format!(
        "SELECT version, name, checksum, applied_at, execution_ms, tool_version, state, steps_done FROM {}",
        dialect.ident(HISTORY_TABLE)
    );
    if let Some(v) = version {
        q.push_str(&format!(" WHERE version = {v}"));
    }
    q.push_str(" ORDER BY version");
    q
}

/// The recorded history, oldest first; empty when the table does not exist.
pub(crate) fn read<C: MigrationConnection>(conn: &mut C) -> Result<Vec<HistoryRow>, RunError> {
    if !exists(conn)? {
        return Ok(Vec::new());
    }
    let d = conn.dialect();
    conn.load_history(&select_sql(d, None))
        .map_err(|e| db(d, "reading the history table", e))
}

/// The start-up check's query: one row, one text column `s`, holding the
/// number of history rows, `:`, and the rows as `AppliedPrefixes` spells
/// them (SQLite: the text itself, read in process; PostgreSQL: its SHA-256
/// in hex, so 32 bytes cross the network instead of every row).
///
/// On SQLite a missing table is an error that changes nothing, so the
/// query is sent as is: one round trip. On PostgreSQL an error would abort
/// a caller's open transaction, so the rows are read through
/// `query_to_xml`, which runs only when `to_regclass` finds the table (a
/// NULL otherwise): one round trip too. MySQL: `None` (two queries).
fn prefix_sql(dialect: Dialect) -> Option<String> {
    let t = dialect.ident(HISTORY_TABLE);
    let row = "version || ':' || name || ':' || checksum || ':' || state";
    dialect.backend().history_prefix_sql(&t, row)
}

/// Whether the start-up check folds the history into one row in the
/// database ([`applied_prefix_or_wait`]; not MySQL, which reads the rows).
pub(crate) fn folds_prefix(dialect: Dialect) -> bool {
    prefix_sql(dialect).is_some()
}

/// `Some(k)` when the history table holds exactly the first `k` migrations
/// of `set`, all applied, with their names and checksums: the start-up
/// check, in one round trip on SQLite and PostgreSQL. `None` for anything
/// else (no table, another row, an error, MySQL), which the caller must
/// treat as "look closer" (read the rows and check them one by one).
#[cfg(test)]
pub(crate) fn applied_prefix<C: MigrationConnection>(
    conn: &mut C,
    set: &MigrationSet,
) -> Option<usize> {
    applied_prefix_or_wait(conn, set).ok().flatten()
}

/// [`applied_prefix`], except that a query that gave up waiting for a lock
/// is an error (`waits.rs`): the slow path would only wait again.
pub(crate) fn applied_prefix_or_wait<C: MigrationConnection>(
    conn: &mut C,
    set: &MigrationSet,
) -> Result<Option<usize>, RunError> {
    // Built once per set: the query text and the expected rows.
    let dialect = conn.dialect();
    let slot = Dialect::ALL
        .iter()
        .position(|d| *d == dialect)
        .map_or(&PREFIX_SQL[0], |i| &PREFIX_SQL[i]);
    let Some(sql) = slot.get_or_init(|| prefix_sql(dialect)).as_deref() else {
        return Ok(None);
    };
    let rows = match conn.query_texts(sql) {
        Ok(rows) => rows,
        Err(e) if super::waits::is_lock_wait(&e.to_string()) => {
            return Err(db(dialect, "reading the history table", e))
        }
        Err(_) => return Ok(None),
    };
    Ok(prefix_match(dialect, &rows, set))
}

/// Whether the folded history text in `rows` is a prefix `set` expects.
fn prefix_match(dialect: Dialect, rows: &[String], set: &MigrationSet) -> Option<usize> {
    let s = rows.first()?.as_str();
    let s = dialect.backend().history_prefix_text(s)?;
    let (count, rest) = s.split_once(':')?;
    let k: usize = count.parse().ok()?;
    let expected = set.applied_prefixes(APPLIED);
    let end = *expected.ends.get(k)?;
    let same = match dialect.backend().history_prefix_is_digest() {
        true => {
            let want = &expected.digests[k];
            rest.len() == 64
                && rest
                    .as_bytes()
                    .chunks(2)
                    .zip(want)
                    .all(|(hex, byte)| hex_byte(hex) == Some(*byte))
        }
        _ => rest.as_bytes() == &expected.text.as_bytes()[..end],
    };
    same.then_some(k)
}

/// [`prefix_sql`] per dialect, in the order of [`Dialect::ALL`].
static PREFIX_SQL: [OnceLock<Option<String>>; 3] =
    [OnceLock::new(), OnceLock::new(), OnceLock::new()];

fn hex_byte(pair: &[u8]) -> Option<u8> {
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        _ => None,
    };
    Some(digit(pair[0])? << 4 | digit(*pair.get(1)?)?)
}

pub(crate) fn db(dialect: Dialect, doing: &str, e: diesel::result::Error) -> RunError {
    super::waits::db_error(dialect, doing, e)
}

pub(crate) fn insert_sql(
    dialect: Dialect,
    m: &Migration,
    applied_at: &str,
    execution_ms: i64,
    state: &str,
    steps_done: usize,
) -> String {
    insert_sql_with(
        dialect,
        m,
        applied_at,
        &execution_ms.to_string(),
        state,
        steps_done,
    )
}

/// [`insert_sql`] with `execution_ms` as an SQL expression.
pub(crate) fn insert_sql_with(
    dialect: Dialect,
    m: &Migration,
    applied_at: &str,
    execution_ms: &str,
    state: &str,
    steps_done: usize,
) -> String {
    format!(
        "INSERT INTO {} (version, name, checksum, applied_at, execution_ms, tool_version, state, steps_done) VALUES ({}, {}, {}, {}, {}, {}, {}, {})",
        dialect.ident(HISTORY_TABLE),
        m.version,
        dialect.string(&m.name),
        dialect.string(&m.checksum),
        dialect.string(applied_at),
        execution_ms,
        dialect.string(TOOL_VERSION),
        dialect.string(state),
        steps_done
    )
}

pub(crate) fn progress_sql(dialect: Dialect, version: u32, steps_done: usize) -> String {
    format!(
        "UPDATE {} SET steps_done = {steps_done} WHERE version = {version}",
        dialect.ident(HISTORY_TABLE)
    )
}

pub(crate) fn finish_sql(dialect: Dialect, version: u32, applied_at: &str, ms: i64) -> String {
    format!(
        "UPDATE {} SET state = {}, applied_at = {}, execution_ms = {ms} WHERE version = {version}",
        dialect.ident(HISTORY_TABLE),
        dialect.string(APPLIED),
        dialect.string(applied_at)
    )
}

pub(crate) fn delete_sql(dialect: Dialect, version: u32) -> String {
    format!(
        "DELETE FROM {} WHERE version = {version}",
        dialect.ident(HISTORY_TABLE)
    )
}

/// The history rows of `versions` (one query).
pub(crate) fn read_versions<C: MigrationConnection>(
    conn: &mut C,
    versions: &[u32],
) -> Result<Vec<HistoryRow>, RunError> {
    let dialect = conn.dialect();
    let list: Vec<String> = versions.iter().map(u32::to_string).collect();
    let q = format!(
        "SELECT version, name, checksum, applied_at, execution_ms, tool_version, state, steps_done FROM {} WHERE version IN ({}) ORDER BY version",
        dialect.ident(HISTORY_TABLE),
        list.join(", ")
    );
    conn.load_history(&q)
        .map_err(|e| db(dialect, "reading the history table", e))
}

#[cfg(test)]
mod tests {
    /// The start-up check accepts exactly a history holding the first `k`
    /// migrations, applied, with their names and checksums, and sends
    /// anything else (no table, a partial, edited, renamed, missing or
    /// extra row) to the slow path, which reports it.
    #[cfg(feature = "sqlite")]
    #[test]
    fn applied_prefix_accepts_only_an_exact_applied_prefix() {
        use super::{applied_prefix, create_sql, MigrationConnection};
        use crate::migration::{Migration, MigrationFile, MigrationSet};
        use diesel::Connection;
        let migration = |v: u32| Migration {
            version: v,
            name: format!("m_{v}"),
            file_name: format!("{v:04}_m_{v}.toml"),
            checksum: format!("{v:064x}"),
            file: MigrationFile::new("x", Vec::new(), Vec::new()),
        };
        let set = MigrationSet::prevalidated("m".into(), (1..=3).map(migration).collect());
        let mut conn = diesel::sqlite::SqliteConnection::establish(":memory:").expect("opens");
        assert_eq!(applied_prefix(&mut conn, &set), None, "no history table");
        conn.execute(&create_sql(crate::Dialect::Sqlite))
            .expect("creates");
        assert_eq!(applied_prefix(&mut conn, &set), Some(0));
        let insert = |conn: &mut diesel::sqlite::SqliteConnection,
                      v: u32,
                      name: &str,
                      sum: &str,
                      state: &str| {
            conn.execute(&format!(
                "INSERT INTO _migrator_history VALUES ({v}, '{name}', '{sum}', 'now', 0, 'x', '{state}', 0)"
            ))
            .expect("inserts");
        };
        let ok = |v: u32| (format!("m_{v}"), format!("{v:064x}"));
        let (n1, c1) = ok(1);
        insert(&mut conn, 1, &n1, &c1, "applied");
        assert_eq!(applied_prefix(&mut conn, &set), Some(1));
        let (n2, c2) = ok(2);
        insert(&mut conn, 2, &n2, &c2, "partial");
        assert_eq!(applied_prefix(&mut conn, &set), None, "partial");
        conn.execute("UPDATE _migrator_history SET state = 'applied' WHERE version = 2")
            .expect("updates");
        assert_eq!(applied_prefix(&mut conn, &set), Some(2));
        for (column, value) in [("checksum", "'edited'"), ("name", "'renamed'")] {
            conn.execute(&format!(
                "UPDATE _migrator_history SET {column} = {value} WHERE version = 1"
            ))
            .expect("updates");
            assert_eq!(applied_prefix(&mut conn, &set), None, "{column}");
            conn.execute(&format!(
                "UPDATE _migrator_history SET name = '{n1}', checksum = '{c1}' WHERE version = 1"
            ))
            .expect("restores");
        }
        conn.execute("DELETE FROM _migrator_history WHERE version = 1")
            .expect("deletes");
        assert_eq!(applied_prefix(&mut conn, &set), None, "a gap");
        insert(&mut conn, 1, &n1, &c1, "applied");
        let (n3, c3) = ok(3);
        insert(&mut conn, 3, &n3, &c3, "applied");
        // Rows re-inserted out of version order are read in insertion
        // order: not recognised here, so the caller takes the slow path.
        assert_eq!(applied_prefix(&mut conn, &set), None, "out of order");
        conn.execute("CREATE TABLE h AS SELECT * FROM _migrator_history ORDER BY version")
            .expect("copies");
        conn.execute("DELETE FROM _migrator_history")
            .expect("empties");
        conn.execute("INSERT INTO _migrator_history SELECT * FROM h ORDER BY version")
            .expect("refills");
        assert_eq!(applied_prefix(&mut conn, &set), Some(3), "in order again");
        insert(&mut conn, 4, "m_4", &format!("{:064x}", 4), "applied");
        assert_eq!(
            applied_prefix(&mut conn, &set),
            None,
            "a row without a file"
        );
    }
}
