//! `migrator verify --replay`: what the migrations make outside the model.
//!
//! The schema comparison of `verify` covers what the model describes. The
//! views, triggers, functions, special indexes and other objects that raw
//! SQL steps (and adopted baselines) create are outside it: `verify` lists
//! them, but the snapshot does not say what their definitions should be.
//! The migrations do. With `--replay` the migrations the database has
//! applied are run again on a scratch database (created next to it, as
//! `migrator test` does, and dropped at the end), its objects outside the
//! model are read with the same introspection, and every object missing,
//! extra or defined otherwise is drift (`introspect::outside_drift`).

use migrator_core::database_url::{Backend, DatabaseUrl};
use migrator_core::introspect::{Introspect, Outside};
use migrator_core::migration::MigrationSet;
use migrator_core::ops::Operation;
use migrator_core::runner::{connect_url, AnyConnection, MigrationConnection, Migrator};

use crate::error::CliError;
use crate::shadow::Scratch;

/// The objects outside the model that the first `k` migrations of `set`
/// make, read from a scratch database next to `live_url`. `live` is the
/// connection to the verified database (PostgreSQL: its current schema is
/// created in the scratch database too, so the migrations resolve the same
/// names).
pub(crate) fn replayed_outside(
    set: &MigrationSet,
    k: usize,
    live_url: &DatabaseUrl,
    live: &mut AnyConnection,
) -> Result<Vec<Outside>, CliError> {
    if let Some(m) = set.migrations[..k].iter().find(|m| {
        m.file
            .upgrade
            .iter()
            .any(|op| matches!(op, Operation::Rust { .. }))
    }) {
        return Err(CliError::Message(format!(
            "verify --replay: migration {} has a Rust step, which runs only from the application that defines it (`#[migration]`); the migrations cannot be replayed from the CLI\nhelp: verify without `--replay`, or replay from the application (`Migrator::up` on a scratch database, then `introspect::outside_drift`)",
            m.file_name
        )));
    }
    // PostgreSQL: the schema unqualified names resolve to and the search
    // path, however the live session got them (the URL, the role's or the
    // database's settings), so the migrations resolve names as they did.
    let (schema, search_path) = match live_url.backend() {
        Backend::Postgres => {
            let read = |live: &mut AnyConnection, q: &str| {
                on_conn!(live, c => c.query_texts(q))
                    .map_err(|e| {
                        CliError::Message(format!("verify --replay: reading the search path: {e}"))
                    })
                    .map(|v| v.into_iter().next().unwrap_or_default())
            };
            let schema = read(live, "SELECT COALESCE(current_schema()::text, '') AS s")?;
            let path = read(live, "SELECT current_setting('search_path') AS s")?;
            (
                Some(schema).filter(|s| !s.is_empty() && s != "public"),
                Some(path),
            )
        }
        _ => (None, None),
    };
    let scratch = Scratch::create(Some(live_url), false, "replay")?;
    let fail = |what: &str, e: &dyn std::fmt::Display| {
        CliError::Message(format!(
            "verify --replay: {what} on the scratch database {}: {e}",
            scratch.url
        ))
    };
    let mut conn = connect_url(&scratch.url).map_err(|e| fail("connecting", &e))?;
    if let Some(s) = &schema {
        let q = format!(
            "CREATE SCHEMA IF NOT EXISTS {}",
            migrator_core::dialect::Dialect::Postgres.ident(s)
        );
        on_conn!(&mut conn, c => c.execute(&q)).map_err(|e| fail("creating the schema", &e))?;
    }
    if let Some(path) = &search_path {
        let q = format!(
            "SELECT set_config('search_path', {}, false)",
            migrator_core::dialect::Dialect::Postgres.string(path)
        );
        on_conn!(&mut conn, c => c.execute(&q)).map_err(|e| fail("setting the search path", &e))?;
    }
    // What a new database has before any migration (what the server's
    // template holds) is not the migrations' doing.
    let before = conn
        .introspect()
        .map_err(|e| fail("reading the objects outside the model", &e))?
        .outside;
    if k > 0 {
        let version = set.migrations[k - 1].version;
        on_conn!(&mut conn, c => Migrator::new(set).up_to(c, Some(version)))
            .map_err(|e| fail("applying the migrations", &e))?;
    }
    let mut outside = conn
        .introspect()
        .map_err(|e| fail("reading the objects outside the model", &e))?
        .outside;
    outside.retain(|o| !before.contains(o));
    drop(conn);
    drop(scratch);
    Ok(outside)
}
