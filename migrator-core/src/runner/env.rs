//! What a step needs from the run around it: where its events go and, when
//! the run holds a leased lock row, the lease a long step (a backfill)
//! extends. Handed down by the executor (`exec.rs`) through the execution
//! of one migration (`apply.rs`) to each step (`steps.rs`, `backfill.rs`):
//! no thread-local, no state on the `Migrator`.

use super::conn::MigrationConnection;
use super::error::RunError;
use super::event::Event;
use super::lock::Lease;

/// The run's event sink and lease, for the steps of a migration.
#[derive(Clone, Copy)]
pub(crate) struct Env<'e> {
    events: &'e dyn Fn(&Event),
    lease: Option<&'e Lease>,
    /// The replicas' lag a backfill waits for (`replica/`).
    pub(crate) replicas: Option<&'e super::replica::Watcher>,
}

impl std::fmt::Debug for Env<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Env").field("lease", &self.lease).finish()
    }
}

impl<'e> Env<'e> {
    pub(crate) fn new(events: &'e dyn Fn(&Event), lease: Option<&'e Lease>) -> Env<'e> {
        Env {
            events,
            lease,
            replicas: None,
        }
    }

    /// The same, with the replicas' lag watched by backfills.
    pub(crate) fn watching(mut self, lag: Option<&'e super::replica::Watcher>) -> Env<'e> {
        self.replicas = lag;
        self
    }

    /// Events go nowhere, no lease (diesel's harness, which holds no lock;
    /// it has no MySQL source, so a MySQL-only build does not use this).
    #[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]
    pub(crate) fn quiet() -> Env<'static> {
        Env {
            events: &|_| {},
            lease: None,
            replicas: None,
        }
    }

    pub(crate) fn emit(&self, e: Event) {
        (self.events)(&e);
    }

    /// Extends the run's lock row, if it holds a leased one, in the
    /// caller's transaction (`lock::Lease::extend`).
    pub(crate) fn extend_lease<C: MigrationConnection>(
        &self,
        conn: &mut C,
    ) -> Result<(), RunError> {
        match self.lease {
            Some(lease) => lease.extend(conn),
            None => Ok(()),
        }
    }
}
