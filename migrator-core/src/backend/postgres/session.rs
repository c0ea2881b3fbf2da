//! PostgreSQL session SQL of the runner: the history start-up check, the
//! lock-wait bound and timeouts, and the list of other sessions.

use std::time::Duration;

/// The start-up check in one round trip: an error would abort a caller's
/// open transaction, so the rows are read through `query_to_xml`, which
/// runs only when `to_regclass` finds the table (a NULL otherwise).
pub(crate) fn history_prefix_sql(table: &str, row: &str) -> String {
    let inner = format!(
        "SELECT count(*) || ':' || coalesce(encode(sha256(convert_to(string_agg({row}, ',' ORDER BY version), 'UTF8')), 'hex'), '') AS s FROM {table}"
    )
    .replace('\'', "''");
    format!(
        "SELECT CASE WHEN to_regclass('{table}') IS NOT NULL THEN query_to_xml('{inner}', false, true, '')::text END AS s"
    )
}

/// `<row xmlns:..>\n  <s>VALUE</s>\n</row>`; the value is digits, a colon
/// and hex, which XML does not escape.
pub(crate) fn history_prefix_text(s: &str) -> Option<&str> {
    Some(s.split_once("<s>")?.1.split_once("</s>")?.0)
}

/// The session's bound on every lock wait; zero would mean "forever", so
/// it becomes 1 ms.
pub(crate) fn bound_waits_sql(wait: Duration) -> String {
    let ms = wait.as_millis().min(i32::MAX as u128);
    format!("SET lock_timeout = '{}ms'", ms.max(1))
}

/// The session's own lock and statement timeouts, as the statement that
/// sets them back.
pub(crate) const READ_TIMEOUTS_SQL: &str =
    "SELECT 'SET lock_timeout = ' || quote_literal(current_setting('lock_timeout')) \
                 || '; SET statement_timeout = ' || quote_literal(current_setting('statement_timeout')) AS s";

/// The other sessions with a transaction open, oldest first: pid, state,
/// seconds open, table locks held, last statement.
pub(crate) const SESSIONS_SQL: &str = "SELECT concat_ws(E'\\x1f', a.pid::text, coalesce(a.state, ''), \
             coalesce(round(extract(epoch FROM now() - a.xact_start)::numeric, 1)::text, ''), \
             coalesce((SELECT string_agg(DISTINCT l.mode || ' on ' || l.relation::regclass::text, ', ') \
               FROM pg_locks l WHERE l.pid = a.pid AND l.granted AND l.relation >= 16384 \
               AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())), ''), \
             coalesce(a.query, '')) AS s \
             FROM pg_stat_activity a WHERE a.datname = current_database() AND a.pid <> pg_backend_pid() \
             AND a.xact_start IS NOT NULL ORDER BY a.xact_start LIMIT 5";

/// One row of [`SESSIONS_SQL`] in words.
pub(crate) fn session_line(at: &dyn Fn(usize) -> String, statement: &str) -> String {
    let mut s = format!("pid {} ({}", at(0), at(1));
    if !at(2).is_empty() {
        s.push_str(&format!(", transaction open for {} s", at(2)));
    }
    if !at(3).is_empty() {
        s.push_str(&format!(", holds {}", at(3)));
    }
    s.push_str(&format!("): last statement: {statement}"));
    s
}

/// Key of the runner's advisory lock: the bytes of "migrator".
pub(crate) const LOCK_KEY: i64 = 0x6D69_6772_6174_6F72;

/// The runner's session lock: `pg_try_advisory_lock`, polled.
pub(crate) fn session_lock() -> super::super::SessionLock {
    super::super::SessionLock {
        name: "the advisory lock",
        kind: "a session advisory lock",
        waiting: format!("the migration lock (PostgreSQL advisory lock {LOCK_KEY})"),
        try_sql: format!("SELECT pg_backend_pid()::text AS s WHERE pg_try_advisory_lock({LOCK_KEY})"),
        release_sql: format!("SELECT pg_advisory_unlock({LOCK_KEY})"),
        holder_sql: format!(
            "SELECT 'session pid ' || a.pid::text || COALESCE(' (' || NULLIF(a.application_name, '') || ')', '') || COALESCE(' from ' || host(a.client_addr), '') AS s \
             FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid \
             WHERE l.locktype = 'advisory' AND l.granted AND ((l.classid::bigint << 32) | l.objid::bigint) = {LOCK_KEY}"
        ),
        held_by_sql: Some(|pid| {
            format!(
                "SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted AND pid = {pid} \
                 AND pid = pg_backend_pid() AND ((classid::bigint << 32) | objid::bigint) = {LOCK_KEY}"
            )
        }),
    }
}

/// The lock row held with the runner's session: its backend pid, and
/// whether it still exists.
pub(crate) const SESSION_ROW: super::super::SessionRow = super::super::SessionRow {
    pid_sql: "SELECT pg_backend_pid()::text AS s",
    alive_sql: |pid| format!("SELECT 1 FROM pg_stat_activity WHERE pid = {pid}"),
};

/// Database time in whole seconds since the epoch.
pub(crate) const EPOCH_NOW_SQL: &str = "CAST(EXTRACT(EPOCH FROM clock_timestamp()) AS BIGINT)";

/// A batched migration's frame: its start marked in a transaction-local
/// setting, its duration computed from it, `synchronous_commit` off for
/// one transaction, and a statement that commits with a flush.
pub(crate) const BATCH_SQL: super::super::BatchSql = super::super::BatchSql {
    start: "SELECT set_config('migrator.started', clock_timestamp()::text, true)",
    elapsed_ms: "CAST(EXTRACT(EPOCH FROM clock_timestamp() - CAST(current_setting('migrator.started') AS timestamptz)) * 1000 AS BIGINT)",
    not_durable: "SET LOCAL synchronous_commit TO OFF",
    flush: "SELECT txid_current()",
};

/// The worst streaming replica's lag, as "SECONDS REPLICAS"
/// (`runner/replica/`): 0 for a replica that has replayed all the WAL
/// there is (its `replay_lag` lingers after it caught up), else its
/// `replay_lag`, which the primary keeps growing while the replica does not
/// replay. Replicas whose positions this role may not read (without
/// `pg_monitor`) are not counted, nor logical replication consumers (a
/// change-data-capture tool confirms its position when it likes).
pub(crate) const REPLICA_LAG_SQL: &str = "SELECT COALESCE(MAX(CASE WHEN pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn) > 0 THEN EXTRACT(EPOCH FROM COALESCE(replay_lag, interval '0')) ELSE 0 END), 0)::text || ' ' || COUNT(replay_lsn)::text AS s FROM pg_stat_replication r WHERE NOT EXISTS (SELECT 1 FROM pg_replication_slots s WHERE s.active_pid = r.pid AND s.slot_type = 'logical')";
