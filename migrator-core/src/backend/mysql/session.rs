//! MySQL/MariaDB session SQL of the runner: lock wait timeouts and the
//! list of other connections.

use std::time::Duration;

/// MySQL's lock wait settings: whole seconds, at least 1.
pub(crate) fn seconds(timeout: Duration) -> u64 {
    let ms = timeout.as_millis() as u64;
    ms.div_ceil(1000).max(1)
}

/// The server's messages in English for the run (any user may set it):
/// the runner tells a lock wait timeout by its text, "Lock wait timeout
/// exceeded" (`runner/retry.rs`; diesel does not hand over the error
/// number), and a session whose `lc_messages` is another language would
/// never be retried. Put back with the timeouts when the run ends.
pub(crate) const ENGLISH_MESSAGES: &str = "SESSION lc_messages = 'en_US'";

/// The statement that sets the lock timeouts of a MySQL session (the
/// session's bound, `waits.rs`: its language is left as it is).
pub(crate) fn set_lock_timeouts_sql(timeout: Duration) -> String {
    let s = seconds(timeout);
    format!("SET SESSION lock_wait_timeout = {s}, SESSION innodb_lock_wait_timeout = {s}")
}

/// The statement that sets the lock timeouts of a run's migration, with
/// English messages (put back with the timeouts when the run ends).
pub(crate) fn set_migration_lock_timeouts_sql(timeout: Duration) -> String {
    format!("{}, {ENGLISH_MESSAGES}", set_lock_timeouts_sql(timeout))
}

/// The session's own lock timeouts, as the statement that sets them back.
/// `foreign_key_checks` too: a foreign key is added with the checks off
/// for its statement (`render/online.rs`), and a try that failed there is
/// put right when the run ends.
pub(crate) const READ_TIMEOUTS_SQL: &str =
    "SELECT CONCAT('SET SESSION lock_wait_timeout = ', @@SESSION.lock_wait_timeout, \
                 ', SESSION innodb_lock_wait_timeout = ', @@SESSION.innodb_lock_wait_timeout, \
                 ', SESSION foreign_key_checks = ', @@SESSION.foreign_key_checks, \
                 ', SESSION lc_messages = ', QUOTE(@@SESSION.lc_messages), \
                 ', @migrator_fkc = NULL') AS s";

/// A Galera node's applied position (`runner/replica/`): the seqno of
/// the last write set it committed, which every node of the cluster
/// counts alike, so a node behind the one the runner writes to has a
/// lower one. A node that does not apply (a `FLUSH TABLES WITH READ LOCK`
/// desyncs it and pauses its applier) keeps its seqno while the others
/// go on.
pub(crate) const GALERA_POSITION_SQL: &str =
    "SELECT VARIABLE_VALUE AS s FROM information_schema.GLOBAL_STATUS \
     WHERE VARIABLE_NAME = 'WSREP_LAST_COMMITTED'";

/// A node's "ON|CLUSTER|SELF|ALL" (`backend::ReplicaLag::ByPosition`):
/// `wsrep_on`, the cluster's state UUID (the same on every node of one
/// cluster), the node's own client address and the client addresses of
/// all the nodes (`wsrep_incoming_addresses`); empty parts on a server
/// without Galera.
pub(crate) const GALERA_NODE_SQL: &str = "SELECT CONCAT(\
     COALESCE((SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_VARIABLES WHERE VARIABLE_NAME = 'WSREP_ON'), ''), '|', \
     COALESCE((SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'WSREP_CLUSTER_STATE_UUID'), ''), '|', \
     COALESCE((SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_VARIABLES WHERE VARIABLE_NAME = 'WSREP_NODE_INCOMING_ADDRESS'), ''), '|', \
     COALESCE((SELECT VARIABLE_VALUE FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'WSREP_INCOMING_ADDRESSES'), '')) AS s";

/// Where MySQL/MariaDB positions are read (`runner/replica/`).
pub(crate) const POSITION_SQL: crate::backend::PositionSql = crate::backend::PositionSql {
    node: GALERA_NODE_SQL,
    cluster: GALERA_POSITION_SQL,
    primary: "SELECT CAST(@@GLOBAL.gtid_binlog_pos AS CHAR) AS s",
    replica: "SELECT CAST(@@GLOBAL.gtid_slave_pos AS CHAR) AS s",
    domain: "SELECT CAST(@@SESSION.gtid_domain_id AS CHAR) AS s",
};

/// The other connections of this database, open transactions first: id,
/// command, seconds open, seconds in the command, statement.
pub(crate) const SESSIONS_SQL: &str = "SELECT CONCAT_WS(CHAR(31), CAST(p.ID AS CHAR), p.COMMAND, \
             IF(t.trx_started IS NULL, '', CAST(TIMESTAMPDIFF(SECOND, t.trx_started, NOW()) AS CHAR)), \
             CAST(p.TIME AS CHAR), COALESCE(p.INFO, '')) AS s \
             FROM information_schema.PROCESSLIST p \
             LEFT JOIN information_schema.INNODB_TRX t ON t.trx_mysql_thread_id = p.ID \
             WHERE p.DB = DATABASE() AND p.ID <> CONNECTION_ID() \
             ORDER BY t.trx_started IS NULL, t.trx_started, p.TIME DESC LIMIT 5";

/// One row of [`SESSIONS_SQL`] in words.
pub(crate) fn session_line(at: &dyn Fn(usize) -> String, statement: &str) -> String {
    let mut s = format!("connection {} ({} for {} s", at(0), at(1), at(3));
    if !at(2).is_empty() {
        s.push_str(&format!(", transaction open for {} s", at(2)));
    }
    s.push_str(&format!("): statement: {statement}"));
    s
}

/// Name of the runner's `GET_LOCK` lock. Lock names are server-wide, so the
/// database's name is part of it: runners on two databases of one server do
/// not wait for each other. Lock names are at most 64 characters and
/// database names may be 64 too: a name longer than 55 is replaced by the
/// start of its SHA-256.
pub(crate) const LOCK_NAME: &str = "CONCAT('migrator.', IF(CHAR_LENGTH(DATABASE()) <= 55, DATABASE(), LEFT(SHA2(DATABASE(), 256), 55)))";

/// The runner's session lock: `GET_LOCK` without waiting, polled.
pub(crate) fn session_lock() -> super::super::SessionLock {
    super::super::SessionLock {
        name: "GET_LOCK",
        kind: "GET_LOCK",
        waiting: "the migration lock (GET_LOCK('migrator.<database>'))".to_string(),
        try_sql: format!("SELECT '0' AS s FROM DUAL WHERE GET_LOCK({LOCK_NAME}, 0) = 1"),
        release_sql: format!("DO RELEASE_LOCK({LOCK_NAME})"),
        holder_sql: format!(
            "SELECT CONCAT('connection ', p.ID, ' (', p.USER, '@', p.HOST, ')') AS s \
             FROM information_schema.PROCESSLIST p WHERE p.ID = IS_USED_LOCK({LOCK_NAME})"
        ),
        held_by_sql: None,
    }
}

/// No conditional upsert: each assignment keeps the old value unless the
/// row is free or ours. `owner` goes first, because MySQL evaluates the
/// assignments left to right, each seeing the last.
pub(crate) fn claim_lock_row_sql(table: &str, owner: &str, now: &str, secs: u64) -> String {
    format!(
        "INSERT INTO {table} (id, owner, expires_at) VALUES (1, {owner}, {now} + {secs}) \
         ON DUPLICATE KEY UPDATE \
         owner = IF(expires_at < {now} OR owner = VALUES(owner), VALUES(owner), owner), \
         expires_at = IF(owner = VALUES(owner), VALUES(expires_at), expires_at)"
    )
}

/// Who holds the lock row (MySQL has no `||` for text).
pub(crate) fn lock_row_holder_sql(table: &str, now: &str) -> String {
    format!(
        "SELECT CONCAT(owner, ' (lease ends in ', CAST(expires_at - {now} AS CHAR), ' s)') AS s FROM {table} WHERE id = 1"
    )
}
