//! `migrator init --from-database`: adopt an existing database.
//!
//! Refuses (writing nothing) when the migrations folder already has a
//! snapshot or migrations, when the database has no tables, or when it
//! already has history rows. Otherwise writes the models, the baseline
//! migration and the snapshot (migrator-core's `adopt` computes them), then
//! records the baseline as applied on the database without running it
//! (`Migrator::baseline`). If recording fails, the files it wrote are
//! removed again, so a retry starts from the same state.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use migrator_core::adopt::{adopt, BASELINE_FILE};
use migrator_core::dialect::Dialect;
use migrator_core::introspect;
use migrator_core::model::IndexNames;
use migrator_core::project::{Project, CONFIG_FILE};
use migrator_core::runner::{
    explain_text, table_exists, AnyConnection, MigrationConnection, Migrator, HISTORY_TABLE,
};

use crate::commands::{open_db, Database, Open};
use crate::error::CliError;

type CmdResult = Result<ExitCode, CliError>;

/// The `migrator.toml` that `init` writes (`None`: no dialect declared yet)
/// and that an adoption writes when there is none (the project targets the
/// database it was adopted from, so `generate` and `lint` speak its
/// dialect, and MySQL's per-table index names are accepted).
pub(crate) fn config_text(adopted_from: Option<Dialect>) -> String {
    let dialects = match adopted_from {
        Some(d) => format!("; adopted from a {d} database\ndialects = [\"{d}\"]\n"),
        None => "\n# dialects = [\"postgres\"]\n".to_string(),
    };
    format!(
        "# migrator configuration (every key is optional)\n\
         # folders scanned for #[derive(Model)] structs\n\
         models = [\"src\"]\n\
         # where migrations and the schema snapshot live\n\
         migrations = \"migrations\"\n\
         # a diesel schema.rs kept in git (`migrator print-schema -o src/schema.rs`\n\
         # writes it; `check` fails when it no longer matches); without it, use\n\
         # `migrator::schema!()` and keep no file\n\
         # schema_rs = \"src/schema.rs\"\n\
         # dialects the project targets (postgres, sqlite, mysql): `generate` prints\n\
         # their SQL, `check` renders for them, and with only mysql index names\n\
         # are per table{dialects}"
    )
}

/// Rows in the history table, 0 when there is none.
fn history_rows<C: MigrationConnection>(c: &mut C) -> Result<i64, String> {
    if !table_exists(c, HISTORY_TABLE).map_err(|e| format!("looking for `{HISTORY_TABLE}`: {e}"))? {
        return Ok(0);
    }
    let d = c.dialect();
    c.count_rows(&format!("SELECT 1 FROM {}", d.ident(HISTORY_TABLE)))
        .map_err(|e| format!("reading `{HISTORY_TABLE}`: {e}"))
}

/// Is `name` a migration file name (`NNNN_name.toml`)?
fn is_migration_file(name: &str) -> bool {
    name.ends_with(".toml")
        && name.len() > 5
        && name.as_bytes()[..4].iter().all(u8::is_ascii_digit)
        && name.as_bytes()[4] == b'_'
}

/// Where the model files go: the first models folder of migrator.toml, or
/// its `models/` subfolder when that folder is the crate's `src` (a
/// `mod.rs` there would not be a module of anything).
fn models_dir(dir: &Path, project: &Project) -> PathBuf {
    let configured = project
        .config
        .models
        .first()
        .cloned()
        .unwrap_or_else(|| PathBuf::from("src"));
    let base = dir.join(&configured);
    if configured.file_name().is_some_and(|n| n == "src") {
        base.join("models")
    } else {
        base
    }
}

pub fn init_from_database(dir: &Path, database: &Database, wait: Duration) -> CmdResult {
    let project = Project::open(dir)?;
    let migrations = project.migrations_dir();
    let snapshot = project.snapshot_path();
    if snapshot.exists() {
        return Err(CliError::Message(format!(
            "{} already exists: this project has migrations already; nothing written\nhelp: `init --from-database` starts a project from an existing database; to compare a database with the snapshot, run `migrator verify`",
            snapshot.display()
        )));
    }
    if let Ok(entries) = std::fs::read_dir(&migrations) {
        let mut found: Vec<String> = entries
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| is_migration_file(n))
            .collect();
        if !found.is_empty() {
            found.sort();
            return Err(CliError::Message(format!(
                "{} already has migrations ({}); nothing written\nhelp: `init --from-database` starts a project from an existing database",
                migrations.display(),
                found.join(", ")
            )));
        }
    }

    let shown = database.url.to_string();
    let mut db = open_db(database, Open::Existing, "init --from-database", wait)?;
    // A wait that gave up gets the bound and the other sessions (masked).
    let explained = |db: &mut AnyConnection, e: String, what: &str| on_conn!(db, c => explain_text(c, e, what, wait));
    let rows = on_conn!(&mut db, c => history_rows(c)).map_err(|e| {
        let e = explained(&mut db, e, "reading the history table");
        CliError::Message(format!("{e}\n  database: {shown}"))
    })?;
    if rows > 0 {
        return Err(CliError::Message(format!(
            "the database already has {rows} row(s) in `{HISTORY_TABLE}`: it is managed by migrator already; nothing written\n  database: {shown}\nhelp: run `migrator status` in the project that manages it"
        )));
    }
    let catalog = |db: &mut _, e: introspect::IntrospectError, shown: &str| {
        let message = explained(db, e.to_string(), "reading the catalog");
        CliError::Catalog {
            source: e,
            message,
            database: shown.to_string(),
        }
    };
    let live = match introspect::schema(&mut db) {
        Ok(live) => live,
        Err(e) => return Err(catalog(&mut db, e, &shown)),
    };
    let mut adoption = adopt(&live).map_err(|source| CliError::Adopt {
        source,
        database: shown.clone(),
    })?;
    // Where the baseline declares a column otherwise than the database
    // (SQLite: `BIGINT` for an `i64` declared `INTEGER`), the report says so.
    match introspect::Introspect::verify_notes(&mut db, &adoption.schema) {
        Ok(notes) => adoption.notes.extend(notes),
        Err(e) => return Err(catalog(&mut db, e, &shown)),
    }

    let models = models_dir(dir, &project);
    let model_paths: Vec<PathBuf> = adoption
        .models
        .iter()
        .map(|f| models.join(&f.path))
        .collect();
    if let Some(p) = model_paths.iter().find(|p| p.exists()) {
        return Err(CliError::Message(format!(
            "{} already exists; nothing written\nhelp: move it away, or point `models` in {CONFIG_FILE} at an empty folder",
            p.display()
        )));
    }

    // Write, remembering what was created so a failure can take it back.
    let mut created: Vec<PathBuf> = Vec::new();
    let mut created_dirs: Vec<PathBuf> = Vec::new();
    let result = (|| -> Result<(), CliError> {
        let config = dir.join(CONFIG_FILE);
        if !config.exists() {
            write(&config, &config_text(Some(live.dialect)), &mut created)?;
        }
        for d in [&migrations, &models] {
            // Every missing folder on the way (`src/` of `src/models/`),
            // outermost first, so that a failure removes them all.
            let mut missing: Vec<PathBuf> = d
                .ancestors()
                .take_while(|a| !a.exists())
                .map(Path::to_path_buf)
                .collect();
            missing.reverse();
            std::fs::create_dir_all(d).map_err(CliError::io(d))?;
            created_dirs.extend(missing);
        }
        for (f, path) in adoption.models.iter().zip(&model_paths) {
            write(path, &f.text, &mut created)?;
        }
        write(
            &migrations.join(BASELINE_FILE),
            &adoption.migration_text,
            &mut created,
        )?;
        write(&snapshot, &adoption.snapshot_text, &mut created)?;
        // Read back through the same reader as every other command, so the
        // checksum recorded is the one `status` and `up` will compare.
        let project = Project::open(dir)?;
        let set = project.migrations()?;
        // The models together, as `migrator check` and `generate` will read
        // them (names across tables, foreign keys between models).
        project.models().map_err(|source| {
            let mysql_only = project.index_names() == IndexNames::PerTable;
            let hint = if live.dialect == Dialect::Mysql && !mysql_only {
                format!("\nhelp: MySQL index names are per table; if the project only targets MySQL/MariaDB, declare `dialects = [\"mysql\"]` in {CONFIG_FILE} and run this again")
            } else {
                String::new()
            };
            CliError::AdoptedModels { source, hint }
        })?;
        let migrator = Migrator::new(&set);
        on_conn!(&mut db, c => migrator.baseline(c, 1)).map_err(|e| CliError::on(e, &shown))
    })();
    if let Err(e) = result {
        for f in created.iter().rev() {
            let _ = std::fs::remove_file(f);
        }
        for d in created_dirs.iter().rev() {
            let _ = std::fs::remove_dir(d);
        }
        return Err(CliError::RolledBack(Box::new(e)));
    }

    println!("adopted {shown} ({})", live.dialect);
    println!("tables adopted: {}", adoption.tables.len());
    for t in &adoption.tables {
        println!("  {t}");
    }
    println!(
        "objects dumped as raw SQL into {BASELINE_FILE}: {}",
        adoption.dumped.len()
    );
    for o in &adoption.dumped {
        println!("  {o}");
    }
    for o in &adoption.not_adopted {
        println!("not adopted: {o}");
    }
    for n in &adoption.notes {
        println!("note: {n}");
    }
    println!(
        "wrote {} model file(s) in {}",
        adoption.models.len(),
        models.display()
    );
    println!("wrote {}", migrations.join(BASELINE_FILE).display());
    println!("wrote {}", snapshot.display());
    println!("recorded 0001_baseline as applied in `{HISTORY_TABLE}` (not run: the database has it already)");
    if models.ends_with("src/models") {
        println!("next: add `mod models;` to src/lib.rs or src/main.rs; the models use chrono, uuid and serde_json where the columns need them");
    }
    Ok(ExitCode::SUCCESS)
}

fn write(path: &Path, text: &str, created: &mut Vec<PathBuf>) -> Result<(), CliError> {
    crate::files::write_atomic(path, text)?;
    created.push(path.to_path_buf());
    Ok(())
}
