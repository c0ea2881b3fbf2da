//! The run context: one run's state (the connection, the lock held and
//! its lease, the session timeouts to restore, the pipelined chunk's size,
//! where events go), and [`locked`], which takes the lock first (two
//! runners creating the history table at once collide in PostgreSQL's
//! catalog even with IF NOT EXISTS), creates the history table, runs the
//! work over the context, and restores the session's timeouts and releases
//! the lock on every path. The `Migrator` is only read; nothing of a run is
//! kept on it.

use super::conn::MigrationConnection;
use super::error::RunError;
use super::event::Event;
use super::history;
use super::lock::{self, Held, Lease};
use super::retry::SessionTimeouts;
use super::settings::Settings;

/// PostgreSQL: the fewest migrations sent in one query
/// (`transport::run_pipelined`), where a run's chunks start.
pub(crate) const PIPELINE_MIN: usize = 2;

/// One run's state: what it runs on, the lock it holds, what it must put
/// back, and where its events go.
pub(crate) struct RunContext<'r, C> {
    pub conn: &'r mut C,
    pub settings: &'r Settings,
    pub events: &'r dyn Fn(&Event),
    pub held: Held,
    pub lease: Option<Lease>,
    pub timeouts: SessionTimeouts,
    /// How many migrations the next pipelined query carries.
    pub pipeline_chunk: usize,
    /// The replicas a backfill watches, connected to when the run starts
    /// (`replica/`).
    pub replicas: Option<super::replica::Watcher>,
}

impl<C> std::fmt::Debug for RunContext<'_, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunContext")
            .field("held", &self.held)
            .field("pipeline_chunk", &self.pipeline_chunk)
            .finish()
    }
}

/// Takes the lock, runs `f` over the run's context, then restores the
/// session's timeouts and releases the lock, on every path.
pub(crate) fn locked<C: MigrationConnection, T>(
    conn: &mut C,
    settings: &Settings,
    events: &dyn Fn(&Event),
    f: impl FnOnce(&mut RunContext<'_, C>) -> Result<T, RunError>,
) -> Result<T, RunError> {
    let held = lock::acquire(
        conn,
        settings.lock_mode,
        settings.lock_timeout,
        settings.lock_lease,
        |what, holder| {
            events(&Event::WaitingForLock {
                what,
                holder,
                timeout: settings.lock_timeout,
            })
        },
    )?;
    events(&Event::LockChosen {
        lock: held.describe(conn.dialect()),
        mode: settings.lock_mode,
        topology: held.topology.clone(),
    });
    let lease = held.lease();
    let mut ctx = RunContext {
        conn,
        settings,
        events,
        held,
        lease,
        timeouts: SessionTimeouts::default(),
        pipeline_chunk: PIPELINE_MIN,
        replicas: None,
    };
    let out = history::ensure_table(ctx.conn).and_then(|()| f(&mut ctx));
    let RunContext {
        conn,
        held,
        mut timeouts,
        ..
    } = ctx;
    timeouts.restore(conn);
    // Released on every path; a failure to release is only reported when
    // the work itself succeeded (the session's end releases an advisory
    // lock anyway; a lock row runs out with its lease).
    let released = lock::release(conn, &held);
    let out = out?;
    released?;
    Ok(out)
}

impl<C: MigrationConnection> RunContext<'_, C> {
    pub(crate) fn emit(&self, e: Event) {
        (self.events)(&e);
    }

    /// Extends the lock row's lease before a migration (no-op otherwise).
    pub(crate) fn renew_lock(&mut self) -> Result<(), RunError> {
        lock::renew(self.conn, &self.held)
    }

    /// Whether this run may pipeline (`plan::Transport::pipeline`).
    pub(crate) fn may_pipeline(&mut self) -> bool {
        self.settings.statement_timeout.is_none()
            && !self.held.row_only()
            && !self.conn.in_open_transaction()
    }
}
