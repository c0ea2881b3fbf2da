//! Bounded waits: no statement the tool sends waits for another session
//! without a limit.
//!
//! Contract:
//! - [`bound_waits`] sets the session's own wait limits right after
//!   connecting (the CLI does it for every command that connects):
//!   PostgreSQL `lock_timeout`, MySQL/MariaDB `lock_wait_timeout` (metadata
//!   locks: `LOCK TABLES`, an open transaction's DDL, `FLUSH TABLES WITH
//!   READ LOCK`) and `innodb_lock_wait_timeout` (row locks), SQLite
//!   `busy_timeout`. The default, [`DEFAULT_WAIT`], is the one of
//!   `--lock-timeout`; it is never unbounded. A migration's statements run
//!   under their own, shorter `lock_timeout` (`retry.rs`), which is set per
//!   migration and put back to this bound when the run ends;
//! - a statement that gave up on such a wait is reported as
//!   [`RunError::LockWait`]: what the tool was doing (`reading the history
//!   table`), how long it waited, the other sessions as far as the database
//!   tells (id, state, the locks they hold on PostgreSQL, and the *kind* of
//!   their statement through [`mask_sql`], never its literals), and the
//!   flag that raises the bound;
//! - other sessions' SQL text never reaches a message unmasked: every list
//!   of sessions the runner prints comes from [`blockers`];
//! - MySQL/MariaDB: before a run sends anything, every statement of the
//!   pending migrations is compared with the server's `max_allowed_packet`
//!   ([`check_sizes`]), so an oversize statement fails with its migration,
//!   size and the limit instead of "server has gone away" halfway through.

use std::time::Duration;

use super::conn::MigrationConnection;
use super::error::RunError;
use crate::dialect::Dialect;

/// The bound when the user gives none: the default of `--lock-timeout`.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(60);

/// Sets the session's lock wait limits to `wait` (see the module's
/// contract). PostgreSQL's and SQLite's are in milliseconds; MySQL's in
/// whole seconds, so `wait` is rounded up to at least 1 s there. A zero
/// `wait` means "do not wait" (PostgreSQL's zero would mean "forever", so
/// it becomes 1 ms).
pub fn bound_waits<C: MigrationConnection>(conn: &mut C, wait: Duration) -> Result<(), RunError> {
    let d = conn.dialect();
    let sql = d.backend().bound_waits_sql(wait);
    conn.execute(&sql).map_err(|e| RunError::Database {
        message: format!("setting the session's lock wait limit on {d}: {e}"),
    })
}

/// Whether a database error is a wait for another session that gave up:
/// PostgreSQL's `lock_timeout` (55P03), MySQL's 1205, SQLite's
/// `SQLITE_BUSY` / `SQLITE_LOCKED`. diesel exposes no error codes, so the
/// servers' English messages are matched (as `retry.rs` does).
pub fn is_lock_wait(message: &str) -> bool {
    message.contains("canceling statement due to lock timeout")
        || message.contains("Lock wait timeout exceeded")
        || message.contains("database is locked")
        || message.contains("database table is locked")
}

/// The error for a statement that failed while the tool was `doing`
/// something other than running a migration's statement: a
/// [`RunError::LockWait`] when it gave up waiting for a lock (its
/// `blocking` and `waited` filled in later by [`explain`], which has the
/// connection and the bound), else a plain database error.
pub(crate) fn db_error(dialect: Dialect, doing: &str, e: diesel::result::Error) -> RunError {
    let message = e.to_string();
    if is_lock_wait(&message) {
        return RunError::LockWait {
            what: doing.to_string(),
            dialect,
            waited: None,
            blocking: String::new(),
        };
    }
    RunError::Database {
        message: format!("{doing} on {dialect}: {message}"),
    }
}

/// Completes a [`RunError::LockWait`] with the bound the session ran under
/// and the sessions that may have held the lock; turns a plain database
/// error whose text is a lock wait into one (`what` then says what the
/// command was doing). Other errors pass unchanged.
pub fn explain<C: MigrationConnection>(
    conn: &mut C,
    e: RunError,
    what: &str,
    wait: Duration,
) -> RunError {
    let d = conn.dialect();
    match e {
        RunError::LockWait {
            what: w,
            dialect,
            waited,
            blocking,
        } => RunError::LockWait {
            what: w,
            dialect,
            waited: waited.or(Some(wait)),
            blocking: if blocking.is_empty() {
                blockers(conn)
            } else {
                blocking
            },
        },
        RunError::Database { message } if is_lock_wait(&message) => RunError::LockWait {
            what: what.to_string(),
            dialect: d,
            waited: Some(wait),
            blocking: blockers(conn),
        },
        other => other,
    }
}

/// [`explain`] for a command whose errors are text (introspection,
/// adoption): the text unchanged unless it is a lock wait.
pub fn explain_text<C: MigrationConnection>(
    conn: &mut C,
    message: String,
    what: &str,
    wait: Duration,
) -> String {
    if !is_lock_wait(&message) {
        return message;
    }
    let e = RunError::LockWait {
        what: what.to_string(),
        dialect: conn.dialect(),
        waited: Some(wait),
        blocking: String::new(),
    };
    explain(conn, e, what, wait).to_string()
}

/// The longest masked statement shown for another session.
const SHOWN: usize = 80;

/// Another session's SQL as the runner may show it: comments dropped,
/// string literals (`'..'`, `E'..'`, `$$..$$`) as `'…'`, numbers as `?`,
/// whitespace collapsed, at most 80 characters (then `…`). What is left
/// is the statement's kind and the objects it names, never its values.
pub fn mask_sql(sql: &str) -> String {
    let chars: Vec<char> = sql.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    let space = |out: &mut String| {
        if !out.is_empty() && !out.ends_with(' ') {
            out.push(' ');
        }
    };
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '-' && next == Some('-') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
            space(&mut out);
        } else if c == '/' && next == Some('*') {
            i += 2;
            while i < chars.len() && !(chars[i] == '*' && chars.get(i + 1) == Some(&'/')) {
                i += 1;
            }
            i += 2;
            space(&mut out);
        } else if c == '\'' {
            // `''` inside a literal is a quote; a backslash escapes the
            // next character in MySQL and in PostgreSQL's E'..'.
            i += 1;
            while i < chars.len() {
                let quoted_quote = chars[i] == '\'' && chars.get(i + 1) == Some(&'\'');
                if chars[i] == '\\' || quoted_quote {
                    i += 2;
                } else if chars[i] == '\'' {
                    i += 1;
                    break;
                } else {
                    i += 1;
                }
            }
            if out.ends_with(['E', 'e', 'N', 'n', 'X', 'x', 'B', 'b'])
                && !out
                    .chars()
                    .rev()
                    .nth(1)
                    .is_some_and(|p| p.is_alphanumeric() || p == '_')
            {
                out.pop();
            }
            out.push_str("'…'");
        } else if c == '$' && !out.ends_with(|p: char| p.is_alphanumeric() || p == '_') {
            // A dollar quote `$tag$ .. $tag$` (a `$1` parameter is kept).
            let mut j = i + 1;
            while j < chars.len() && (chars[j].is_alphanumeric() || chars[j] == '_') {
                j += 1;
            }
            if chars.get(j) == Some(&'$') && !chars.get(i + 1).is_some_and(|d| d.is_ascii_digit()) {
                let tag: String = chars[i..=j].iter().collect();
                let rest: String = chars[j + 1..].iter().collect();
                let end = rest.find(&tag).map_or(rest.len(), |k| k + tag.len());
                i = j + 1 + rest[..end].chars().count();
                out.push_str("'…'");
            } else {
                out.push(c);
                i += 1;
            }
        } else if c.is_ascii_digit()
            && !out.ends_with(|p: char| p.is_alphanumeric() || p == '_' || p == '$')
        {
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '.') {
                i += 1;
            }
            out.push('?');
        } else if c.is_whitespace() {
            space(&mut out);
            i += 1;
        } else {
            out.push(c);
            i += 1;
        }
    }
    let out = out.trim();
    if out.chars().count() > SHOWN {
        let cut: String = out.chars().take(SHOWN).collect();
        format!("{}…", cut.trim_end())
    } else {
        out.to_string()
    }
}

/// Field separator of the session rows read by [`blockers`]: the unit
/// separator, which no identifier or state contains.
const SEP: char = '\u{1f}';

/// The other sessions of this database that may hold what the runner
/// waited for, oldest transaction first, each with its id, state, the
/// locks it holds (PostgreSQL) and its statement masked by [`mask_sql`].
pub(crate) fn blockers<C: MigrationConnection>(conn: &mut C) -> String {
    let d = conn.dialect();
    let q = match d.backend().sessions_sql() {
        Ok(q) => q,
        Err(instead) => return instead.into(),
    };
    let rows = match conn.query_texts(q) {
        Ok(rows) => rows,
        Err(e) => return format!("(could not list the other sessions: {e})"),
    };
    if rows.is_empty() {
        return "no other session of this database has a transaction open now (the blocker has finished)".into();
    }
    let lines: Vec<String> = rows.iter().map(|r| session_line(d, r)).collect();
    format!(
        "sessions of this database, open transactions first:\n    {}",
        lines.join("\n    ")
    )
}

/// One row of [`blockers`]' query, in words.
fn session_line(d: Dialect, row: &str) -> String {
    let f: Vec<&str> = row.split(SEP).collect();
    let at = |i: usize| f.get(i).copied().unwrap_or("");
    let statement = mask_sql(at(4));
    let statement = if statement.is_empty() {
        "none".to_string()
    } else {
        statement
    };
    d.backend().session_line(&|i| at(i).to_string(), &statement)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masked_sql_keeps_the_kind_and_drops_the_values() {
        assert_eq!(
            mask_sql("UPDATE users SET password = 's3cr''et', n = 42 WHERE id = 7"),
            "UPDATE users SET password = '…', n = ? WHERE id = ?"
        );
        assert_eq!(
            mask_sql("LOCK TABLE _migrator_history IN ACCESS EXCLUSIVE MODE"),
            "LOCK TABLE _migrator_history IN ACCESS EXCLUSIVE MODE"
        );
        assert_eq!(
            mask_sql("select E'a\\'b', $$x 'y' z$$, $tag$secret$tag$ -- note\n/* hidden */ from t1 where c = $1"),
            "select '…', '…', '…' from t1 where c = $1"
        );
        assert_eq!(
            mask_sql("INSERT INTO t VALUES (x'ff', 1.5e3)"),
            "INSERT INTO t VALUES ('…', ?)"
        );
        assert_eq!(mask_sql("SELECT 'unterminated"), "SELECT '…'");
        let long = mask_sql(&format!("SELECT {} FROM t", "col, ".repeat(40)));
        assert!(long.chars().count() <= 81 && long.ends_with('…'), "{long}");
        assert_eq!(mask_sql("  \n "), "");
    }

    #[test]
    fn lock_waits_are_recognised() {
        assert!(is_lock_wait("canceling statement due to lock timeout"));
        assert!(is_lock_wait(
            "Lock wait timeout exceeded; try restarting transaction"
        ));
        assert!(is_lock_wait("database is locked"));
        assert!(!is_lock_wait("relation \"t\" does not exist"));
    }

    /// On a real SQLite file: a history read under another connection's
    /// exclusive lock gives up after the session's bound, typed, and the
    /// explained error names what it did, the bound and the blocker.
    #[cfg(feature = "sqlite")]
    #[test]
    fn a_locked_sqlite_history_gives_up_within_the_bound() {
        use diesel::connection::SimpleConnection;
        use diesel::Connection;
        let file = std::env::temp_dir().join(format!("migrator_waits_{}.db", std::process::id()));
        let _ = std::fs::remove_file(&file);
        let path = file.to_str().expect("utf-8");
        let mut holder = diesel::SqliteConnection::establish(path).expect("sqlite");
        holder
            .batch_execute(&format!(
                "{}; BEGIN EXCLUSIVE",
                super::super::history::create_sql(Dialect::Sqlite)
            ))
            .expect("lock");
        let mut conn = diesel::SqliteConnection::establish(path).expect("sqlite");
        bound_waits(&mut conn, Duration::from_millis(50)).expect("bound");
        let e = super::super::history::read(&mut conn).expect_err("locked");
        assert!(
            matches!(e, RunError::LockWait { waited: None, .. }),
            "{e:?}"
        );
        let e = explain(&mut conn, e, "unused", Duration::from_millis(50)).to_string();
        assert!(
            e.starts_with("gave up looking for the history table on sqlite after waiting 0.05 s"),
            "{e}"
        );
        assert!(
            e.contains("another connection holds the database's write lock"),
            "{e}"
        );
        holder.batch_execute("ROLLBACK").expect("release");
        assert!(super::super::history::read(&mut conn).is_ok());
        drop((conn, holder));
        let _ = std::fs::remove_file(&file);
    }
}
