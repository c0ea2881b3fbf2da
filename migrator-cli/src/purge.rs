//! `migrator purge`: the archives that kept dropped columns and tables
//! (`_migrator_archive_*`, docs/DESIGN.md §5) listed, and with `--yes`
//! dropped for good, under the runner's lock. Without `--yes` nothing
//! changes.

use std::process::ExitCode;

use migrator_core::runner::{archive, AnyConnection, Migrator, RunError};

pub fn purge(m: &Migrator<'_>, db: &mut AnyConnection, yes: bool) -> Result<ExitCode, RunError> {
    let names = on_conn!(db, c => archive::list(c))?;
    if names.is_empty() {
        println!("no archives");
        return Ok(ExitCode::SUCCESS);
    }
    if !yes {
        for n in &names {
            println!("kept: {n}");
        }
        println!(
            "{} archive(s); `migrator purge --yes` drops them for good (the downgrades of their migrations then restore the schema, with fills and defaults instead of the values)",
            names.len()
        );
        return Ok(ExitCode::SUCCESS);
    }
    // Under the runner's lock: a migration running meanwhile may be
    // restoring from an archive.
    let dropped = on_conn!(db, c => m.purge_archives(c))?;
    for n in &dropped {
        println!("dropped: {n}");
    }
    Ok(ExitCode::SUCCESS)
}
