//! MySQL/MariaDB session SQL of the runner: lock wait timeouts and the
//! list of other connections.

use std::time::Duration;

/// MySQL's lock wait settings: whole seconds, at least 1.
fn seconds(timeout: Duration) -> u64 {
    let ms = timeout.as_millis() as u64;
    ms.div_ceil(1000).max(1)
}

/// The statements that set the lock timeouts of a MySQL session.
pub(crate) fn set_lock_timeouts_sql(timeout: Duration) -> String {
    let s = seconds(timeout);
    format!("SET SESSION lock_wait_timeout = {s}, SESSION innodb_lock_wait_timeout = {s}")
}

/// The session's own lock timeouts, as the statement that sets them back.
pub(crate) const READ_TIMEOUTS_SQL: &str =
    "SELECT CONCAT('SET SESSION lock_wait_timeout = ', @@SESSION.lock_wait_timeout, \
                 ', SESSION innodb_lock_wait_timeout = ', @@SESSION.innodb_lock_wait_timeout) AS s";

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
