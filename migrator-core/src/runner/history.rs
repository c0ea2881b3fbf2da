//! The history table and the execution of one migration (the runner's lock
//! is in `lock.rs`).

use std::sync::OnceLock;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use super::conn::{HistoryRow, MigrationConnection};
use super::steps::{run_step, Step, ROLLED_BACK};
use super::{Event, RunError, TOOL_VERSION};
use crate::dialect::Dialect;
use crate::migration::{Direction, Migration, MigrationSet};

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

fn select_sql(dialect: Dialect, version: Option<u32>) -> String {
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

fn db(dialect: Dialect, doing: &str, e: diesel::result::Error) -> RunError {
    super::waits::db_error(dialect, doing, e)
}

/// `YYYY-MM-DDTHH:MM:SSZ` for now, in UTC.
pub(crate) fn utc_now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    format_utc(secs)
}

/// Formats seconds since the epoch as ISO 8601 UTC (civil-from-days).
pub(crate) fn format_utc(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
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
fn insert_sql_with(
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

/// Whether `m` runs in one transaction on this dialect.
pub(crate) fn runs_in_transaction(dialect: Dialect, m: &Migration, steps: &[Step]) -> bool {
    m.is_transactional() && dialect.transactional_ddl() && steps.iter().all(Step::transactional)
}

/// Runs one migration in `direction` and records it. Returns false when
/// another runner had already done it (seen under the SQLite write lock).
/// (`started` is the first try's start, for `execution_ms`; `set` the
/// PostgreSQL session settings and whether a one-batch try is allowed.)
#[allow(clippy::too_many_arguments)]
pub(crate) fn apply<C: MigrationConnection>(
    conn: &mut C,
    m: &Migration,
    statements: &[Step],
    direction: Direction,
    steps_done: usize,
    started: Instant,
    set: Option<(&str, bool)>,
    on_event: &dyn Fn(&Event),
) -> Result<bool, RunError> {
    let dialect = conn.dialect();
    // PostgreSQL: the session settings (`set`) go first, in the migration's
    // batch when it may be sent as one (the first try of a migration that
    // did not just fail in a pipelined chunk).
    if let Some((set, try_batch)) = set {
        let batch = (try_batch && steps_done == 0 && !conn.in_open_transaction())
            .then(|| one_batch(dialect, m, statements, direction, set, true))
            .flatten();
        if let Some(batch) = batch {
            match conn.execute(&batch) {
                Ok(()) => return Ok(true),
                // A lock timeout is retried as such
                // (`Migrator::with_lock_retries`, whose later tries go
                // statement by statement), a cancellation (statement
                // timeout, `pg_cancel_backend`) is not run again; any other
                // failure is run again
                // statement by statement at once, which names the failing
                // statement (or succeeds, the cause having been transient).
                Err(e) => {
                    let _ = conn.execute("ROLLBACK");
                    let e = RunError::Statement {
                        migration: m.id(),
                        dialect,
                        index: 1,
                        sql: "(the migration's statements, sent as one batch)".into(),
                        message: e.to_string(),
                        rolled_back: ROLLED_BACK,
                    };
                    if super::retry::is_lock_timeout(&e) || super::retry::is_cancelled(&e) {
                        return Err(e);
                    }
                }
            }
        }
        conn.execute(set).map_err(|e| RunError::Database {
            message: format!("setting the lock timeout: {e}"),
        })?;
    }
    let sqlite_fks = sqlite_foreign_keys_off(conn)?;
    let result = if runs_in_transaction(dialect, m, statements) {
        apply_in_transaction(
            conn, m, statements, direction, started, sqlite_fks, on_event,
        )
    } else {
        apply_step_by_step(
            conn, m, statements, direction, steps_done, started, on_event,
        )
        .map(|()| true)
    };
    sqlite_foreign_keys_restore(conn, sqlite_fks, result)
}

/// Marks when a batched migration starts (`transaction_timestamp()` would be
/// when the whole query arrived, the same for every migration of a chunk).
const PG_BATCH_START: &str = "SELECT set_config('migrator.started', clock_timestamp()::text, true)";

/// The milliseconds since [`PG_BATCH_START`], as PostgreSQL computes them.
const PG_BATCH_MS: &str = "CAST(EXTRACT(EPOCH FROM clock_timestamp() - CAST(current_setting('migrator.started') AS timestamptz)) * 1000 AS BIGINT)";

/// PostgreSQL: migration `m` as one batch, `<set>; BEGIN; <statements>;
/// <history write>; COMMIT`, one round trip instead of one per statement,
/// when every step is a plain statement (no guard, cleanup, generated
/// statements, backfill or Rust step) that runs in the transaction; None
/// otherwise. A statement's text may end in a line comment: each is
/// followed by a newline before its `;`. Not `durable`: the commit does
/// not wait for its WAL flush (`synchronous_commit` off for this
/// transaction only), for all but the last migration of a pipelined
/// chunk, whose flush covers them all before any is reported applied;
/// PostgreSQL keeps every transaction atomic either way, so a crash in
/// between loses whole migrations with their history rows, never part of
/// one.
pub(crate) fn one_batch(
    dialect: Dialect,
    m: &Migration,
    statements: &[Step],
    direction: Direction,
    set: &str,
    durable: bool,
) -> Option<String> {
    if !batchable(dialect, m, statements) {
        return None;
    }
    let mut sql = format!("{set};\nBEGIN;\n{PG_BATCH_START};\n");
    if !durable {
        sql.push_str("SET LOCAL synchronous_commit TO OFF;\n");
    }
    for step in statements {
        if let Step::Sql(s) = step {
            sql.push_str(&s.sql);
            sql.push_str("\n;\n");
        }
    }
    let record = match direction {
        Direction::Up => insert_sql_with(
            dialect,
            m,
            &utc_now(),
            PG_BATCH_MS,
            APPLIED,
            statements.len(),
        ),
        Direction::Down => delete_sql(dialect, m.version),
    };
    sql.push_str(&record);
    sql.push_str(";\nCOMMIT");
    Some(sql)
}

/// Whether [`one_batch`] can send migration `m` as one batch: PostgreSQL,
/// in one transaction, every step a plain statement (no guard, cleanup,
/// generated statements, backfill or Rust step).
pub(crate) fn batchable(dialect: Dialect, m: &Migration, statements: &[Step]) -> bool {
    dialect.backend().sends_batches()
        && runs_in_transaction(dialect, m, statements)
        && statements.iter().all(|step| match step {
            Step::Sql(s) => {
                s.skip_if.is_none()
                    && s.cleanup.is_none()
                    && !s.each_row
                    && !s.refuses
                    && s.backfill.is_none()
                    && s.transactional
            }
            Step::Rust { .. } => false,
        })
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

/// SQLite's table rebuild must run with foreign key enforcement off, and
/// the pragma is a no-op inside a transaction, so it is switched off before
/// the transaction and the integrity check runs before commit
/// (sqlite.org/lang_altertable.html). True when it was on (and is now off);
/// always false on other databases.
pub(crate) fn sqlite_foreign_keys_off<C: MigrationConnection>(
    conn: &mut C,
) -> Result<bool, RunError> {
    let dialect = conn.dialect();
    let on = dialect.backend().foreign_keys_pragma()
        && conn
            .count_rows("SELECT 1 FROM pragma_foreign_keys WHERE foreign_keys = 1")
            .map_err(|e| db(dialect, "reading PRAGMA foreign_keys", e))?
            > 0;
    if on {
        conn.execute("PRAGMA foreign_keys = OFF")
            .map_err(|e| db(dialect, "disabling foreign keys for the migration", e))?;
    }
    Ok(on)
}

/// Turns SQLite's foreign keys back on when [`sqlite_foreign_keys_off`]
/// turned them off; `result`'s error comes first.
pub(crate) fn sqlite_foreign_keys_restore<C: MigrationConnection, T>(
    conn: &mut C,
    was_on: bool,
    result: Result<T, RunError>,
) -> Result<T, RunError> {
    if !was_on {
        return result;
    }
    let dialect = conn.dialect();
    let restored = conn
        .execute("PRAGMA foreign_keys = ON")
        .map_err(|e| db(dialect, "re-enabling foreign keys", e));
    let out = result?;
    restored?;
    Ok(out)
}

/// Runs one migration and its history write in a transaction (a savepoint
/// when a commit group's transaction is open, `Migrator::run_group`), with
/// SQLite's foreign key check before it ends when `check_fks`.
pub(crate) fn apply_in_transaction<C: MigrationConnection>(
    conn: &mut C,
    m: &Migration,
    statements: &[Step],
    direction: Direction,
    started: Instant,
    check_fks: bool,
    on_event: &dyn Fn(&Event),
) -> Result<bool, RunError> {
    let dialect = conn.dialect();
    conn.in_transaction(|c| {
        if dialect.backend().rereads_history_in_transaction() {
            // Another runner may have applied it while we waited for the
            // write lock: re-read this migration's row under the lock.
            let rows = c
                .load_history(&select_sql(dialect, Some(m.version)))
                .map_err(|e| db(dialect, "re-reading the history table", e))?;
            let present = rows.iter().any(|r| r.state == APPLIED);
            if present == (direction == Direction::Up) {
                return Ok(false);
            }
        }
        for (i, s) in statements.iter().enumerate() {
            run_step(c, m, i, s, direction, true, on_event)?;
        }
        if check_fks {
            let broken = c
                .count_rows("SELECT 1 FROM pragma_foreign_key_check")
                .map_err(|e| db(dialect, "PRAGMA foreign_key_check", e))?;
            if broken > 0 {
                return Err(RunError::Statement {
                    migration: m.id(),
                    dialect,
                    index: statements.len(),
                    sql: "PRAGMA foreign_key_check".into(),
                    message: format!("{broken} row(s) violate a foreign key after the migration"),
                    rolled_back: ROLLED_BACK,
                });
            }
        }
        let record = match direction {
            Direction::Up => insert_sql(
                dialect,
                m,
                &utc_now(),
                started.elapsed().as_millis() as i64,
                APPLIED,
                statements.len(),
            ),
            Direction::Down => delete_sql(dialect, m.version),
        };
        c.execute(&record)
            .map_err(|e| db(dialect, "writing the history row", e))?;
        Ok(true)
    })
}

/// Steps `start..end` of a step-by-step run, and whether they share one
/// short transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Group {
    pub start: usize,
    pub end: usize,
    pub in_transaction: bool,
}

impl Group {
    fn clone_steps(&self) -> std::ops::Range<usize> {
        self.start..self.end
    }
}

/// How a step-by-step run executes `statements` from `skip` on: a statement
/// that cannot run in a transaction (`CREATE INDEX CONCURRENTLY`, a
/// `VALIDATE CONSTRAINT` that must not hold the locks before it) runs alone;
/// the transactional ones between them run in short transactions, one for
/// each run of consecutive steps when the migration itself allows a
/// transaction (so a data step and the step that follows it stay atomic),
/// one per step in a `transaction = false` migration (whose author asked
/// for each to stand alone). Without transactional DDL (MySQL) every step
/// is its own group, and a transactional one still runs in a transaction
/// with its progress row: a data step is then never recorded apart from
/// its effect (a runner killed between the two would run it again on
/// resume), while a DDL statement commits itself, as it would alone, and is
/// guarded so that running it again is a no-op.
pub(crate) fn groups(
    dialect: Dialect,
    m: &Migration,
    statements: &[Step],
    skip: usize,
) -> Vec<Group> {
    let mut out = Vec::new();
    let mut i = skip;
    while i < statements.len() {
        if !statements[i].transactional() || !dialect.transactional_ddl() {
            out.push(Group {
                start: i,
                end: i + 1,
                in_transaction: statements[i].transactional(),
            });
            i += 1;
            continue;
        }
        let end = if m.is_transactional() {
            statements[i..]
                .iter()
                .position(|s| !s.transactional())
                .map_or(statements.len(), |p| i + p)
        } else {
            i + 1
        };
        out.push(Group {
            start: i,
            end,
            in_transaction: true,
        });
        i = end;
    }
    out
}

const GROUP_ROLLED_BACK: &str = "\n  the transactional steps from the last recorded one to this one were rolled back; the steps before them are done and recorded; fix the cause and run `migrator up` again to resume from there";

/// The failure of a group after the first: earlier groups stay done.
fn group_rolled_back(e: RunError) -> RunError {
    match e {
        RunError::Statement {
            migration,
            dialect,
            index,
            sql,
            message,
            ..
        } => RunError::Statement {
            migration,
            dialect,
            index,
            sql,
            message,
            rolled_back: GROUP_ROLLED_BACK,
        },
        RunError::RustStepFailed {
            migration,
            dialect,
            index,
            step,
            message,
            ..
        } => RunError::RustStepFailed {
            migration,
            dialect,
            index,
            step,
            message,
            rolled_back: GROUP_ROLLED_BACK,
        },
        other => other,
    }
}

fn apply_step_by_step<C: MigrationConnection>(
    conn: &mut C,
    m: &Migration,
    statements: &[Step],
    direction: Direction,
    steps_done: usize,
    started: Instant,
    on_event: &dyn Fn(&Event),
) -> Result<(), RunError> {
    let dialect = conn.dialect();
    let record = |c: &mut C, sql: String| {
        c.execute(&sql)
            .map_err(|e| db(dialect, "writing the history row", e))
    };
    if direction == Direction::Up && steps_done == 0 {
        // A retried or resumed run that had finished nothing finds its row.
        let recorded = conn
            .count_rows(&select_sql(dialect, Some(m.version)))
            .map_err(|e| db(dialect, "reading the history table", e))?
            > 0;
        if !recorded {
            record(conn, insert_sql(dialect, m, &utc_now(), 0, PARTIAL, 0))?;
        }
    }
    let skip = if direction == Direction::Up {
        steps_done
    } else {
        0
    };
    for group in groups(dialect, m, statements, skip) {
        let i = group.start;
        if group.in_transaction {
            // Transactional steps commit with their progress row, so a
            // runner killed between the two cannot run them twice.
            // Without transactional DDL the group is one step, reported as
            // a step outside a transaction: a DDL statement is not undone.
            let rolls_back = dialect.transactional_ddl();
            let done = conn.in_transaction(|c| {
                for k in group.clone_steps() {
                    run_step(
                        c,
                        m,
                        k,
                        &statements[k],
                        direction,
                        i == 0 && rolls_back,
                        on_event,
                    )?;
                }
                if direction == Direction::Up {
                    record(c, progress_sql(dialect, m.version, group.end))?;
                }
                Ok(())
            });
            if let Err(e) = done {
                if direction == Direction::Up && i == 0 {
                    let _ = conn.execute(&delete_sql(dialect, m.version));
                }
                return Err(if i == 0 || !rolls_back {
                    e
                } else {
                    group_rolled_back(e)
                });
            }
            continue;
        }
        let backfill = matches!(&statements[i], Step::Sql(s) if s.backfill.is_some());
        if let Err(e) = run_step(conn, m, i, &statements[i], direction, false, on_event) {
            // Nothing finished: no trace is left, so the migration is simply
            // pending (the first statement timed out on a lock, or is wrong).
            if direction == Direction::Up && i == 0 {
                let _ = conn.execute(&delete_sql(dialect, m.version));
            }
            return Err(e);
        }
        if backfill {
            // The finished backfill's cursor goes with its progress row, so
            // a kill in between neither loses the step nor repeats it.
            conn.in_transaction(|c| {
                if direction == Direction::Up {
                    record(c, progress_sql(dialect, m.version, i + 1))?;
                }
                super::backfill::clear(c, m, i, direction)
                    .map_err(|e| db(dialect, "deleting the finished backfill's cursor", e))
            })?;
            super::backfill::drop_if_empty(conn)
                .map_err(|e| db(dialect, "dropping the empty backfill cursor table", e))?;
            continue;
        }
        if direction == Direction::Up {
            record(conn, progress_sql(dialect, m.version, i + 1))?;
        }
    }
    match direction {
        Direction::Up => record(
            conn,
            finish_sql(
                dialect,
                m.version,
                &utc_now(),
                started.elapsed().as_millis() as i64,
            ),
        ),
        Direction::Down => record(conn, delete_sql(dialect, m.version)),
    }
}

#[cfg(test)]
mod tests {
    use super::format_utc;

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

    #[test]
    fn utc_formatting_matches_known_instants() {
        assert_eq!(format_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_utc(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(format_utc(1_795_000_000), "2026-11-18T11:06:40Z");
    }

    #[test]
    fn step_by_step_groups_consecutive_transactional_steps() {
        use super::{groups, Group, Step};
        use crate::dialect::{Dialect, Statement};
        use crate::migration::{Migration, MigrationFile};
        let tx = || Step::Sql(Statement::new("SELECT 1"));
        let alone = || Step::Sql(Statement::new("SELECT 2").non_transactional());
        let steps = [tx(), tx(), alone(), alone(), tx()];
        let mut m = Migration {
            version: 1,
            name: "x".into(),
            file_name: "0001_x.toml".into(),
            checksum: String::new(),
            file: MigrationFile::new("x", Vec::new(), Vec::new()),
        };
        let g = |start, end, in_transaction| Group {
            start,
            end,
            in_transaction,
        };
        assert_eq!(
            groups(Dialect::Postgres, &m, &steps, 0),
            [g(0, 2, true), g(2, 3, false), g(3, 4, false), g(4, 5, true)]
        );
        // Resumed after the first step: the rest of its stretch is a group.
        assert_eq!(groups(Dialect::Postgres, &m, &steps, 1)[0], g(1, 2, true));
        // `transaction = false`: one transaction per step.
        m.file.transaction = false;
        assert_eq!(groups(Dialect::Postgres, &m, &steps, 0)[0], g(0, 1, true));
        // No transactional DDL: one step per group, a transactional one in
        // a transaction with its progress row.
        m.file.transaction = true;
        assert_eq!(
            groups(Dialect::Mysql, &m, &steps, 0),
            [
                g(0, 1, true),
                g(1, 2, true),
                g(2, 3, false),
                g(3, 4, false),
                g(4, 5, true)
            ]
        );
    }
}
