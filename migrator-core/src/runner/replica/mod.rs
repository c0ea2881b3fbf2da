//! Backfills that watch the replicas: between batches, the runner reads
//! how far the database's replicas are behind and waits while the worst
//! is behind more than `Migrator::max_replica_lag` (`--max-replica-lag`),
//! so that a backfill of millions of rows does not leave the replicas (and
//! the reads served from them) minutes behind.
//!
//! Contract:
//! - PostgreSQL ([`ReplicaLag::OnPrimary`]): the lag is read on the primary
//!   from `pg_stat_replication` (`backend/postgres/session.rs`): a replica
//!   that has replayed everything is 0 behind; otherwise its `replay_lag`,
//!   the age of the oldest WAL it has not replayed (the primary's lag
//!   tracker keeps growing it while the replica does not replay). Reading
//!   the positions needs the `pg_monitor` role (or superuser); without it,
//!   or without replicas, there is nothing to wait for, and the first read
//!   says so ([`Event::ReplicaLag`] with `replicas: 0`);
//! - MariaDB Galera ([`ReplicaLag::ByPosition`]): a node does not know how
//!   far the others have applied, so the runner connects to them: the
//!   URLs given (`Migrator::replica_urls`, `--replica-url`), else the
//!   cluster's other nodes (`wsrep_incoming_addresses`) reached with the
//!   credentials of `Migrator::galera_peers_with` (the CLI's own URL).
//!   Each must be a node of the same cluster (its `wsrep_cluster_state_uuid`),
//!   reachable when the run starts: otherwise the run is refused before
//!   anything runs. Positions are the nodes' `wsrep_last_committed`; the
//!   runner samples its own node's at every read, and a node at position
//!   `p` is as far behind as the oldest sample past `p` is old (0 when it
//!   has applied all the runner's node has). A node already behind the
//!   first sample is behind by an unknown amount: the runner waits until it
//!   passes that sample (a node that applies does within milliseconds) or
//!   the time since it is over the bound. A node that is not Synced (a
//!   `FLUSH TABLES WITH READ LOCK`, `wsrep_desync`) is measured all the
//!   same: it lags while the cluster's flow control leaves it behind;
//! - classic MariaDB replication (a primary with a binary log and its
//!   asynchronous replicas, [`Kind::Classic`]): the replicas are named
//!   (`--replica-url`; a primary does not know where they are), each must
//!   have applied GTIDs of the domain the runner's session writes
//!   (`gtid_domain_id`), last written there by the primary's server and not
//!   ahead of it. Positions are the sequence numbers of that domain in the
//!   primary's `gtid_binlog_pos` and each replica's `gtid_slave_pos`,
//!   compared with samples as on Galera. A replica whose SQL
//!   thread is stopped keeps its position while the primary goes on;
//! - MySQL's GTID sets (`gtid_executed`) are not read, and SQLite has no
//!   replicas: asking for the lag there is refused before anything runs;
//! - while the lag is over the bound the runner sleeps (100 ms, doubling,
//!   at most 2 s), keeps its lock row alive, and emits
//!   [`Event::ReplicaLag`] at most once a second with the lag, the worst
//!   replica where it is known, and how long it has waited; once the lag
//!   is back under the bound the backfill goes on with its next batch.
//!   After `replica_lag_timeout` of waiting (default 10 min) the step
//!   fails, its batches done and its cursor saved, so `migrator up`
//!   resumes after the last batch. A replica whose connection fails is
//!   connected to again once per read (a restart, a session timeout
//!   between backfills); one that cannot be read even then fails the step
//!   the same way.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::time::{Duration, Instant};

use super::conn::{AnyConnection, MigrationConnection};
use super::env::Env;
use super::error::RunError;
use super::event::Event;
use super::settings::Settings;
use crate::backend::ReplicaLag;
use crate::database_url::DatabaseUrl;

/// The bound a backfill keeps the replicas' lag under, and how long it
/// waits for them at most.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct LagWatch {
    pub max: Duration,
    pub give_up: Duration,
}

/// One lag read: the worst replica's lag, how many replicas were read,
/// which one is the worst (where it is known), and whether the lag is a
/// lower bound only (a node behind the first sample).
#[derive(Debug, Clone, PartialEq)]
struct Reading {
    lag: Duration,
    replicas: u32,
    worst: Option<String>,
    unmeasured: bool,
}

/// A run's lag watch: the bound, and what reading the lag takes.
pub(crate) struct Watcher {
    pub watch: LagWatch,
    how: How,
}

impl std::fmt::Debug for Watcher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Watcher")
            .field("watch", &self.watch)
            .finish()
    }
}

enum How {
    OnPrimary(&'static str),
    ByPosition(RefCell<Nodes>),
}

/// The replicas connected to, how their positions are read, and the
/// runner's node's positions sampled at each read (time, position), oldest
/// first, positions growing.
struct Nodes {
    replicas: Vec<Replica>,
    kind: Kind,
    samples: Positions,
}

/// A replica connected to: its name in messages, its URL, the connection.
struct Replica {
    name: String,
    url: DatabaseUrl,
    conn: AnyConnection,
}

impl Replica {
    /// The rows of `sql`; a connection that fails (the server restarted,
    /// the session timed out between two backfills) is opened again once.
    fn query_texts(&mut self, sql: &str) -> diesel::QueryResult<Vec<String>> {
        match self.conn.query_texts(sql) {
            Ok(rows) => Ok(rows),
            Err(first) => match super::conn::connect_url(&self.url) {
                Ok(conn) => {
                    self.conn = conn;
                    self.conn.query_texts(sql)
                }
                Err(_) => Err(first),
            },
        }
    }
}

/// How positions are read and compared.
#[derive(Debug, Clone, Copy)]
enum Kind {
    /// A Galera cluster: every node's `wsrep_last_committed` (`sql`).
    Galera { sql: &'static str },
    /// A classic primary and its replicas: GTID lists, the primary's
    /// binary log (`primary`) against each replica's applied ones
    /// (`replica`), summed over the primary's replication domains.
    Classic {
        primary: &'static str,
        replica: &'static str,
        /// The replication domain the runner's session writes
        /// (`gtid_domain_id`): the backfill's batches are its transactions.
        domain: u32,
    },
}

/// Checked before anything runs: a lag watch the database cannot honour,
/// or a Galera watch with no replica to read, is refused.
pub(crate) fn check(dialect: crate::dialect::Dialect, settings: &Settings) -> Result<(), RunError> {
    if settings.replica_lag.is_none() {
        return Ok(());
    }
    match dialect.backend().replica_lag() {
        None => Err(refused(format!(
            "--max-replica-lag (`Migrator::max_replica_lag`) is not available on {dialect}: it has no replicas to read; nothing was run\n  help: leave it out, or pace the backfill with its `pause_ms`"
        ))),
        Some(ReplicaLag::ByPosition { .. })
            if settings.replica_urls.is_empty() && settings.galera_peers_with.is_none() =>
        {
            Err(refused(
                "--max-replica-lag (`Migrator::max_replica_lag`) on MySQL/MariaDB needs the replicas to read: a Galera node does not know how far its peers have applied; nothing was run\n  help: name them with `Migrator::replica_urls`, or let the runner find the cluster's nodes with `Migrator::galera_peers_with(url)` (the CLI does, with --database-url's credentials)".to_string(),
            ))
        }
        Some(_) => Ok(()),
    }
}

/// A watch refused before anything ran.
fn refused(message: String) -> RunError {
    RunError::Refused(message)
}

impl Watcher {
    /// The run's watch, its replicas connected to and checked; `None` when
    /// the run does not watch the lag. Nothing has run yet: an error
    /// changes nothing.
    pub(crate) fn open<C: MigrationConnection>(
        conn: &mut C,
        settings: &Settings,
    ) -> Result<Option<Watcher>, RunError> {
        let Some(watch) = settings.replica_lag else {
            return Ok(None);
        };
        check(conn.dialect(), settings)?;
        let how = match conn.dialect().backend().replica_lag() {
            Some(ReplicaLag::OnPrimary(sql)) => How::OnPrimary(sql),
            Some(ReplicaLag::ByPosition(sql)) => {
                let (kind, replicas) = position_replicas(conn, sql, settings)?;
                How::ByPosition(RefCell::new(Nodes {
                    replicas,
                    kind,
                    samples: Positions::default(),
                }))
            }
            None => unreachable!("refused by check"),
        };
        Ok(Some(Watcher { watch, how }))
    }

    fn read<C: MigrationConnection>(&self, conn: &mut C) -> Result<Reading, String> {
        match &self.how {
            How::OnPrimary(sql) => {
                let row = conn
                    .query_texts(sql)
                    .map_err(|e| format!("reading the replicas' lag: {e}"))?
                    .pop()
                    .unwrap_or_default();
                let (secs, replicas) = row.split_once(' ').unwrap_or(("0", "0"));
                let secs: f64 = secs.trim().parse().unwrap_or(0.0);
                Ok(Reading {
                    lag: Duration::from_secs_f64(secs.max(0.0)),
                    replicas: replicas.trim().parse().unwrap_or(0),
                    worst: None,
                    unmeasured: false,
                })
            }
            How::ByPosition(nodes) => {
                let nodes = &mut *nodes.borrow_mut();
                let mut at = Vec::with_capacity(nodes.replicas.len());
                let own = match nodes.kind {
                    Kind::Galera { sql } => {
                        // The first read samples the runner's node first,
                        // so that nodes a write set or two behind are not
                        // taken for nodes behind since before the run.
                        if nodes.samples.is_empty() {
                            let own = read_count(conn.query_texts(sql), "the runner's node")?;
                            nodes.samples.push(Instant::now(), own);
                        }
                        // The replicas first, then the runner's node: its
                        // position is then the newer.
                        for r in &mut nodes.replicas {
                            let p = read_count(r.query_texts(sql), &r.name)?;
                            at.push((r.name.clone(), p));
                        }
                        read_count(conn.query_texts(sql), "the runner's node")?
                    }
                    Kind::Classic {
                        primary,
                        replica,
                        domain,
                    } => {
                        let own = read_gtids(conn.query_texts(primary), "the primary")?;
                        let own = own.get(&domain).map_or(0, |g| g.seq);
                        if nodes.samples.is_empty() {
                            nodes.samples.push(Instant::now(), own);
                        }
                        for r in &mut nodes.replicas {
                            let theirs = read_gtids(r.query_texts(replica), &r.name)?;
                            at.push((r.name.clone(), theirs.get(&domain).map_or(0, |g| g.seq)));
                        }
                        own
                    }
                };
                let now = Instant::now();
                nodes.samples.push(now, own);
                Ok(nodes.samples.reading(now, &at))
            }
        }
    }

    /// Waits, between two batches of the backfill of `table` in migration
    /// `id`, until the replicas are at most `watch.max` behind; the lag
    /// last read, for the progress line.
    pub(crate) fn wait<C: MigrationConnection>(
        &self,
        conn: &mut C,
        id: &str,
        table: &str,
        env: &Env<'_>,
        first: bool,
    ) -> Result<Option<Duration>, RunError> {
        let watch = self.watch;
        let fail = |message: String| RunError::Database { message };
        let started = Instant::now();
        let mut last_event: Option<Instant> = None;
        let mut sleep = Duration::from_millis(100);
        loop {
            let r = self.read(conn).map_err(fail)?;
            let over = r.replicas > 0 && (r.lag > watch.max || r.unmeasured);
            let waited = started.elapsed();
            let due = last_event.is_none_or(|t| t.elapsed() >= Duration::from_secs(1));
            if (over && due) || (first && r.replicas == 0 && last_event.is_none()) {
                env.emit(Event::ReplicaLag {
                    id: id.to_string(),
                    table: table.to_string(),
                    lag: r.lag,
                    max: watch.max,
                    replicas: r.replicas,
                    worst: r.worst.clone(),
                    at_least: r.unmeasured,
                    waited,
                });
                last_event = Some(Instant::now());
            }
            if !over {
                return Ok(Some(r.lag));
            }
            if waited >= watch.give_up {
                let help = match self.how {
                    How::OnPrimary(_) => "find why the replica does not replay (`pg_stat_replication` on the primary, `pg_last_xact_replay_timestamp()` on the replica)",
                    How::ByPosition(ref nodes) => match nodes.borrow().kind {
                        Kind::Galera { .. } => "find why the node does not apply (`SHOW GLOBAL STATUS LIKE 'wsrep_local%'` on it: a FLUSH TABLES WITH READ LOCK or `wsrep_desync` leaves it behind)",
                        Kind::Classic { .. } => "find why the replica does not apply (`SHOW SLAVE STATUS` on it: a stopped SQL thread, an error, a long statement)",
                    },
                };
                let worst = r
                    .worst
                    .as_deref()
                    .map(|w| format!(" ({w})"))
                    .unwrap_or_default();
                return Err(fail(format!(
                    "the backfill of `{table}` in {id} waited {} for the replicas, whose lag stayed above {} (last {}{}{worst}); its finished batches are saved\n  help: {help}, then run `migrator up` again to resume after the last batch; `--replica-lag-timeout` waits longer, `--max-replica-lag` allows more",
                    super::human_duration(waited),
                    super::human_duration(watch.max),
                    if r.unmeasured { "at least " } else { "" },
                    super::human_duration(r.lag)
                )));
            }
            // The lock row stays ours while we wait.
            conn.in_transaction(|c| env.extend_lease(c))?;
            std::thread::sleep(sleep.min(watch.give_up.saturating_sub(waited)));
            sleep = (sleep * 2).min(Duration::from_secs(2));
        }
    }
}

/// The last GTID of one replication domain: the server that wrote it and
/// its sequence number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Gtid {
    server: u32,
    seq: u64,
}

/// A GTID list, "DOMAIN-SERVER-SEQ,…", by domain; `None` for text that is
/// not one.
fn parse_gtids(text: &str) -> Option<std::collections::BTreeMap<u32, Gtid>> {
    let mut out = std::collections::BTreeMap::new();
    for gtid in text.split(',').map(str::trim).filter(|g| !g.is_empty()) {
        let mut parts = gtid.split('-');
        let (Some(d), Some(server), Some(seq), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return None;
        };
        out.insert(
            d.parse().ok()?,
            Gtid {
                server: server.parse().ok()?,
                seq: seq.parse().ok()?,
            },
        );
    }
    Some(out)
}

fn read_gtids(
    rows: diesel::QueryResult<Vec<String>>,
    name: &str,
) -> Result<std::collections::BTreeMap<u32, Gtid>, String> {
    let rows = rows.map_err(|e| format!("reading the GTID position of {name}: {e}"))?;
    let text = rows.first().map(|s| s.trim()).unwrap_or("");
    parse_gtids(text)
        .ok_or_else(|| format!("reading the GTID position of {name}: {text:?} is not a GTID list"))
}

/// Why `replica` (its applied GTIDs) is not a replica of `primary` (its
/// binary log's) in `domain`, or `None` when, as far as GTIDs tell, it is:
/// its last GTID there was written by the primary's server and is not
/// ahead of the primary's.
fn not_a_replica(
    replica: &std::collections::BTreeMap<u32, Gtid>,
    primary: &std::collections::BTreeMap<u32, Gtid>,
    domain: u32,
) -> Option<String> {
    let ours = primary.get(&domain)?;
    match replica.get(&domain) {
        None => Some(format!(
            "it has applied nothing of replication domain {domain}, which this server writes"
        )),
        Some(t) if t.server != ours.server => Some(format!(
            "its last GTID of domain {domain} was written by server {}, this server is {}",
            t.server, ours.server
        )),
        Some(t) if t.seq > ours.seq => Some(format!(
            "it is ahead of this server in domain {domain} ({} against {})",
            t.seq, ours.seq
        )),
        Some(_) => None,
    }
}

fn read_count(rows: diesel::QueryResult<Vec<String>>, name: &str) -> Result<u64, String> {
    let rows = rows.map_err(|e| format!("reading the position of {name}: {e}"))?;
    let text = rows.first().map(|s| s.trim()).unwrap_or("");
    text.parse::<i64>()
        .map(|p| p.max(0) as u64)
        .map_err(|_| format!("reading the position of {name}: `wsrep_last_committed` is {text:?}, not a number (is it still a Galera node?)"))
}

/// A node's "ON|CLUSTER|SELF|ALL" (`backend::ReplicaLag::ByPosition`).
#[derive(Debug, Clone, PartialEq, Eq)]
struct NodeInfo {
    on: bool,
    cluster: String,
    own: String,
    all: Vec<String>,
}

fn node_info(rows: diesel::QueryResult<Vec<String>>) -> Result<NodeInfo, String> {
    let row = rows.map_err(|e| e.to_string())?.pop().unwrap_or_default();
    let mut parts = row.split('|');
    let mut next = || parts.next().unwrap_or("").trim().to_string();
    let on = next();
    let cluster = next();
    let own = next();
    let all = next()
        .split(',')
        .map(|a| a.trim().to_string())
        .filter(|a| !a.is_empty())
        .collect();
    Ok(NodeInfo {
        on: on.eq_ignore_ascii_case("ON") || on == "1",
        cluster,
        own,
        all,
    })
}

/// `host:port` (an IPv6 host in brackets) as the host and port.
fn split_address(address: &str) -> Option<(String, Option<u16>)> {
    if let Some(rest) = address.strip_prefix('[') {
        let (host, tail) = rest.split_once(']')?;
        let port = tail.strip_prefix(':').map(str::parse).transpose().ok()?;
        return Some((host.to_string(), port));
    }
    match address.rsplit_once(':') {
        Some((host, port)) => Some((host.to_string(), Some(port.parse().ok()?))),
        None => Some((address.to_string(), None)),
    }
}

/// The replicas to watch and how, connected to and checked: the nodes of
/// the runner's Galera cluster, or the classic replicas named.
fn position_replicas<C: MigrationConnection>(
    conn: &mut C,
    sql: &crate::backend::PositionSql,
    settings: &Settings,
) -> Result<(Kind, Vec<Replica>), RunError> {
    // A server without the Galera variables (MySQL) is no Galera node.
    let here = node_info(conn.query_texts(sql.node)).unwrap_or(NodeInfo {
        on: false,
        cluster: String::new(),
        own: String::new(),
        all: Vec::new(),
    });
    if here.on {
        let replicas = galera_replicas(&here, sql.node, settings)?;
        return Ok((Kind::Galera { sql: sql.cluster }, replicas));
    }
    let (domain, replicas) = classic_replicas(conn, sql, settings)?;
    Ok((
        Kind::Classic {
            primary: sql.primary,
            replica: sql.replica,
            domain,
        },
        replicas,
    ))
}

/// The replication domain the runner's session writes, and the classic
/// replicas named (`--replica-url`), each checked to apply the primary's
/// GTIDs of that domain.
fn classic_replicas<C: MigrationConnection>(
    conn: &mut C,
    sql: &crate::backend::PositionSql,
    settings: &Settings,
) -> Result<(u32, Vec<Replica>), RunError> {
    if settings.replica_urls.is_empty() {
        return Err(refused(
            "--max-replica-lag (`Migrator::max_replica_lag`) on a MySQL/MariaDB server that is not a Galera node needs its replicas named: a primary does not know where they are; nothing was run\n  help: add `--replica-url URL` for each replica (`Migrator::replica_urls`)".to_string(),
        ));
    }
    let own = match conn.query_texts(sql.primary) {
        Ok(rows) => rows.first().cloned().unwrap_or_default(),
        Err(e) => {
            return Err(refused(format!(
                "--max-replica-lag reads a classic replica's lag from MariaDB's GTID positions, which this server does not have ({e}); nothing was run\n  help: leave it out, or pace the backfill with its `pause_ms`"
            )))
        }
    };
    let domain: u32 = conn
        .query_texts(sql.domain)
        .ok()
        .and_then(|rows| rows.first().and_then(|d| d.trim().parse().ok()))
        .unwrap_or(0);
    let own = parse_gtids(&own).filter(|g| g.contains_key(&domain)).ok_or_else(|| {
        refused(format!("this server has written nothing to its binary log in replication domain {domain} (its `gtid_binlog_pos` is {own:?}), so there is no position to compare a replica with; nothing was run\n  help: leave --max-replica-lag out, or check `log_bin` on the server"))
    })?;
    let mut out = Vec::with_capacity(settings.replica_urls.len());
    for url in &settings.replica_urls {
        let name = url.to_string();
        let mut c = super::conn::connect_url(url).map_err(|e| {
            refused(format!("the replica {name} cannot be reached to read its lag: {e}; nothing was run\n  help: check it is up and the URL's credentials"))
        })?;
        let theirs = read_gtids(c.query_texts(sql.replica), &name)
            .map_err(|e| refused(format!("{}; nothing was run", url.redact(&e))))?;
        if let Some(why) = not_a_replica(&theirs, &own, domain) {
            return Err(refused(format!(
                "{name} is not a replica of this server: {why}; nothing was run\n  help: name the replicas that replicate from this server (MariaDB, `MASTER_USE_GTID`)"
            )));
        }
        out.push(Replica {
            name,
            url: url.clone(),
            conn: c,
        });
    }
    Ok((domain, out))
}

/// The Galera nodes to watch, connected to, each checked to be a node of
/// the runner's cluster (`here`).
fn galera_replicas(
    here: &NodeInfo,
    node_sql: &str,
    settings: &Settings,
) -> Result<Vec<Replica>, RunError> {
    let urls: Vec<DatabaseUrl> = if !settings.replica_urls.is_empty() {
        settings.replica_urls.clone()
    } else {
        let base = settings
            .galera_peers_with
            .as_ref()
            .expect("refused by check without replica URLs");
        here.all
            .iter()
            .filter(|a| **a != here.own && !is_self(base, a))
            .map(|a| {
                let (host, port) = split_address(a).ok_or_else(|| {
                    refused(format!("the cluster reports a node at `{a}`, which is not HOST:PORT (wsrep_incoming_addresses); nothing was run\n  help: name the nodes with --replica-url"))
                })?;
                Ok(base.with_address(&host, port))
            })
            .collect::<Result<_, RunError>>()?
    };
    let mut out = Vec::with_capacity(urls.len());
    for url in urls {
        let name = url.to_string();
        let mut c = super::conn::connect_url(&url).map_err(|e| {
            refused(format!("the replica {name} cannot be reached to read its lag: {e}; nothing was run\n  help: check it is up, or name the nodes to watch with --replica-url"))
        })?;
        let there = node_info(c.query_texts(node_sql)).map_err(|e| {
            refused(format!(
                "reading the replica {name}: {}; nothing was run",
                url.redact(&e)
            ))
        })?;
        if !there.on || there.cluster != here.cluster {
            return Err(refused(format!(
                "the replica {name} is not a node of this Galera cluster ({}), so its position says nothing of its lag; nothing was run\n  help: name the nodes of the cluster this runner writes to",
                if there.on { format!("its cluster is {}, this one {}", there.cluster, here.cluster) } else { "`wsrep_on` is off there".to_string() }
            )));
        }
        // Named by its address where the node reports one.
        let label = if there.own.is_empty() || there.own.eq_ignore_ascii_case("AUTO") {
            name
        } else {
            there.own
        };
        out.push(Replica {
            name: label,
            url,
            conn: c,
        });
    }
    Ok(out)
}

/// Whether `address` (HOST:PORT) is where `url` points.
fn is_self(url: &DatabaseUrl, address: &str) -> bool {
    split_address(address).is_some_and(|(h, p)| {
        url.host() == Some(h.as_str()) && (p.is_none() || url.port().or(Some(3306)) == p)
    })
}

/// The runner's node's positions over time (`Nodes::samples`).
#[derive(Debug, Default)]
struct Positions {
    samples: VecDeque<(Instant, u64)>,
}

impl Positions {
    fn is_empty(&self) -> bool {
        self.samples.is_empty()
    }

    /// Keeps `(at, position)` when the position moved.
    fn push(&mut self, at: Instant, position: u64) {
        if self.samples.back().is_none_or(|(_, p)| position > *p) {
            self.samples.push_back((at, position));
        }
    }

    /// The worst of `replicas` (name, position) at `now`, the samples no
    /// replica still needs dropped.
    fn reading(&mut self, now: Instant, replicas: &[(String, u64)]) -> Reading {
        let mut out = Reading {
            lag: Duration::ZERO,
            replicas: replicas.len() as u32,
            worst: None,
            unmeasured: false,
        };
        for (name, at) in replicas {
            // The first sample the replica has not reached.
            let Some(i) = self.samples.iter().position(|(_, p)| p > at) else {
                continue;
            };
            let lag = now.saturating_duration_since(self.samples[i].0);
            if out.worst.is_none() || lag > out.lag {
                out.lag = lag;
                out.worst = Some(name.clone());
            }
            // Behind the first sample: behind since before it, by how much
            // is not known.
            out.unmeasured |= i == 0;
        }
        // The oldest sample a replica still needs stays, the ones before
        // it go (each replica's first unreached sample is kept).
        let least = replicas.iter().map(|(_, p)| *p).min();
        if let Some(least) = least {
            while self.samples.len() > 1 && self.samples[0].1 <= least && self.samples[1].1 <= least
            {
                self.samples.pop_front();
            }
        }
        out
    }
}

#[cfg(test)]
mod tests;
