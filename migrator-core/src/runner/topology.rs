//! What sits between the runner and the data: a direct session, a
//! transaction-pooling proxy, or a node of a Galera cluster. The lock
//! (`lock/`) chooses by it under [`super::LockMode::Auto`].
//!
//! Contract:
//! - MySQL/MariaDB: a Galera node is one with `@@wsrep_on = 1` (MariaDB
//!   reports 0 when the provider is off; MySQL has no such variable and is
//!   never Galera). `GET_LOCK` there is local to the node: runners on two
//!   nodes both get it. DDL replicates by `@@wsrep_OSU_method` (TOI by
//!   default: the statement runs on every node at once, in the cluster's
//!   total order, and blocks the cluster while it runs). Reads in the
//!   runner's session are made causal (`wsrep_sync_wait = 1`), so a runner
//!   that takes the lock after another sees that runner's history.
//! - PostgreSQL: a transaction-pooling proxy (PgBouncer `pool_mode =
//!   transaction`, and the like) hands each transaction to any server
//!   session, so session state — a `set_config(.., false)`, an advisory
//!   lock — does not follow the client. The probe marks its session with a
//!   setting (`migrator.probe`) and reads it back over a few statements: a
//!   session that already carries another client's mark, a mark that is
//!   gone, or a backend pid that changes, all mean a pooler. A probe that
//!   finds none clears its mark (an application may run the migrator again
//!   on the same connection); one that finds a pooler leaves it. The probe can
//!   miss one when the proxy happens to hand back the same server session
//!   every time (one client alone), so `lock/` never relies on it for
//!   exclusion under `Auto`: it only decides how the lock row is held, and
//!   whether `--lock-mode advisory` is refused.
//! - SQLite is always direct.

use super::conn::MigrationConnection;
use super::error::RunError;
use crate::backend::TopologyProbe;
use crate::dialect::Dialect;

/// The custom setting the PostgreSQL probe marks its session with.
const PROBE: &str = "migrator.probe";

/// What the connection is, as far as the runner can tell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Topology {
    /// A session of its own on the server (or on SQLite, the file).
    Direct,
    /// A PostgreSQL connection through a transaction-pooling proxy;
    /// `evidence` says what showed it.
    TransactionPooler { evidence: String },
    /// A node of a MariaDB Galera cluster; `osu_method` is its
    /// `wsrep_OSU_method` (`TOI` or `RSU`), `cluster_size` how many nodes
    /// it sees.
    Galera {
        osu_method: String,
        cluster_size: Option<u32>,
    },
}

impl Topology {
    /// True when a session lock (advisory lock, `GET_LOCK`) does not
    /// exclude every other runner here.
    pub fn breaks_session_locks(&self) -> bool {
        !matches!(self, Topology::Direct)
    }
}

impl std::fmt::Display for Topology {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Topology::Direct => f.write_str("a direct connection"),
            Topology::TransactionPooler { evidence } => {
                write!(f, "a transaction-pooling proxy ({evidence})")
            }
            Topology::Galera {
                osu_method,
                cluster_size,
            } => {
                f.write_str("a Galera cluster node (wsrep_on")?;
                if let Some(n) = cluster_size {
                    write!(f, ", {n} node(s)")?;
                }
                write!(f, ", DDL by {osu_method})")
            }
        }
    }
}

fn db(dialect: Dialect, doing: &str, e: diesel::result::Error) -> RunError {
    super::waits::db_error(dialect, doing, e)
}

/// Finds out what the connection is (a few cheap statements; changes
/// nothing but the session's own settings).
pub fn detect<C: MigrationConnection>(conn: &mut C) -> Result<Topology, RunError> {
    match conn.dialect().backend().topology_probe() {
        TopologyProbe::None => Ok(Topology::Direct),
        TopologyProbe::Galera => detect_galera(conn),
        TopologyProbe::Pooler => detect_pooler(conn),
    }
}

fn detect_galera<C: MigrationConnection>(conn: &mut C) -> Result<Topology, RunError> {
    let d = conn.dialect();
    // MySQL without Galera has no such variable: an error means "no".
    let on = conn
        .query_texts("SELECT IF(@@wsrep_on, '1', '0') AS s")
        .ok()
        .and_then(|v| v.into_iter().next());
    if on.as_deref() != Some("1") {
        return Ok(Topology::Direct);
    }
    let osu_method = conn
        .query_texts("SELECT CAST(@@wsrep_OSU_method AS CHAR) AS s")
        .map_err(|e| db(d, "reading wsrep_OSU_method", e))?
        .into_iter()
        .next()
        .unwrap_or_else(|| "TOI".to_string());
    let cluster_size = conn
        .query_texts(
            "SELECT VARIABLE_VALUE AS s FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'WSREP_CLUSTER_SIZE'",
        )
        .ok()
        .and_then(|v| v.into_iter().next())
        .and_then(|s| s.parse().ok());
    conn.execute("SET SESSION wsrep_sync_wait = 1")
        .map_err(|e| db(d, "making the session's reads causal (wsrep_sync_wait)", e))?;
    Ok(Topology::Galera {
        osu_method,
        cluster_size,
    })
}

fn detect_pooler<C: MigrationConnection>(conn: &mut C) -> Result<Topology, RunError> {
    let d = conn.dialect();
    let read = format!(
        "SELECT pg_backend_pid()::text || ' ' || COALESCE(current_setting('{PROBE}', true), '') AS s"
    );
    let probe = |conn: &mut C| -> Result<(String, String), RunError> {
        let s = conn
            .query_texts(&read)
            .map_err(|e| db(d, "probing the connection", e))?
            .into_iter()
            .next()
            .unwrap_or_default();
        let (pid, mark) = s.split_once(' ').unwrap_or((&s, ""));
        Ok((pid.to_string(), mark.to_string()))
    };
    let (pid, mark) = probe(conn)?;
    if !mark.is_empty() {
        return Ok(Topology::TransactionPooler {
            evidence: format!(
                "the new connection's server session already carried another client's `{PROBE}`"
            ),
        });
    }
    let nonce = format!(
        "{}-{}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |t| t.as_nanos())
    );
    conn.execute(&format!("SELECT set_config('{PROBE}', '{nonce}', false)"))
        .map_err(|e| db(d, "probing the connection", e))?;
    for _ in 0..3 {
        let (p, m) = probe(conn)?;
        if p != pid {
            return Ok(Topology::TransactionPooler {
                evidence: format!(
                    "the server session changed between transactions (backend pid {pid}, then {p})"
                ),
            });
        }
        if m != nonce {
            return Ok(Topology::TransactionPooler {
                evidence: "a session setting did not survive to the next transaction".to_string(),
            });
        }
    }
    // A session of its own: the mark is cleared, so that the next run on
    // this same connection (an application reuses it) does not take it for
    // another client's. Through a pooler the marks stay, for the next
    // client to see.
    conn.execute(&format!("SELECT set_config('{PROBE}', '', false)"))
        .map_err(|e| db(d, "probing the connection", e))?;
    Ok(Topology::Direct)
}
