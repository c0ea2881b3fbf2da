//! SQLite session SQL of the runner: the history start-up check and the
//! busy timeout.

use std::time::Duration;

/// The start-up check in one round trip: on SQLite a missing table is an
/// error that changes nothing, so the query is sent as is. No ORDER BY:
/// the rows come in insertion order, which is version order unless the
/// history was edited by hand; then the texts differ and the slow path
/// reads and sorts the rows. (Sorting in the aggregate costs more than the
/// rest of the check.)
pub(crate) fn history_prefix_sql(table: &str, row: &str) -> String {
    format!("SELECT count(*) || ':' || coalesce(group_concat({row}, ','), '') AS s FROM {table}")
}

/// The session's bound on every lock wait.
pub(crate) fn bound_waits_sql(wait: Duration) -> String {
    let ms = wait.as_millis().min(i32::MAX as u128);
    format!("PRAGMA busy_timeout = {ms}")
}
