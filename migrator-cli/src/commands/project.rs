//! The commands on the project's files: `init`, `generate`, `check`,
//! `print-schema`, `squash`, `rebase` and `rehash`.

use std::path::Path;
use std::process::ExitCode;

use migrator_core::database_url::{Backend, DatabaseUrl};
use migrator_core::dialect::Dialect;
use migrator_core::ops::Operation;
use migrator_core::project::{Project, CONFIG_FILE};

use super::db::Database;
use super::render::{finding_text, print_statement};
use super::{emit, open, write, CmdResult};
use crate::args::DialectArg;
use crate::error::CliError;
use crate::style::{self, Role};

pub(super) fn init(dir: &Path) -> CmdResult {
    let project = open(dir)?;
    let config = dir.join(CONFIG_FILE);
    if !config.exists() {
        write(&config, &crate::adopt::config_text(None))?;
        println!("created {}", config.display());
    }
    let migrations = project.migrations_dir();
    std::fs::create_dir_all(&migrations).map_err(CliError::io(&migrations))?;
    let snapshot = project.snapshot_path();
    if !snapshot.exists() {
        write(
            &snapshot,
            &migrator_core::snapshot::Snapshot::default().to_text(),
        )?;
        println!("created {}", snapshot.display());
    }
    println!("next: annotate structs with #[derive(migrator::Model)], then run `migrator generate initial`");
    Ok(ExitCode::SUCCESS)
}

/// Dialects to print: explicit flags, else migrator.toml, else the database
/// URL's, else SQLite.
fn pick_dialects(project: &Project, flags: &[DialectArg], database: &Database) -> Vec<Dialect> {
    if !flags.is_empty() {
        return flags.iter().map(|d| Dialect::from(*d)).collect();
    }
    let configured = project.dialects();
    if !configured.is_empty() {
        return configured;
    }
    vec![url_dialect(&database.url)]
}

pub(super) fn url_dialect(url: &DatabaseUrl) -> Dialect {
    match url.backend() {
        Backend::Postgres => Dialect::Postgres,
        Backend::Mysql => Dialect::Mysql,
        Backend::Sqlite => Dialect::Sqlite,
    }
}

pub(super) fn generate(
    dir: &Path,
    name: &str,
    flags: &[DialectArg],
    database: &Database,
) -> CmdResult {
    let project = open(dir)?;
    let dialects = pick_dialects(&project, flags, database);
    let Some(g) = project.generate(name)? else {
        println!(
            "no changes: the models match {}; nothing written",
            project.snapshot_path().display()
        );
        return Ok(ExitCode::SUCCESS);
    };
    let migrations = project.migrations_dir();
    let file = migrations.join(&g.file_name);
    // Lint and render the new migration from what `generate` computed (the
    // folder is not read and replayed a second time). An ordinary migration
    // is read back from its text, with every check of the reader, and must
    // equal the value: a writer bug is reported here, before anything is
    // written, not at the next `up`. The first migration of a very large
    // schema (18 MB for 10,000 tables, 500 MB to parse) is taken as it was
    // generated, which the writer's round-trip tests cover.
    const READ_BACK_LIMIT: usize = 1 << 20;
    let m = if g.migration_text.len() <= READ_BACK_LIMIT {
        let m = migrator_core::migration::parse_migration(
            &migrations,
            &g.file_name,
            &g.migration_text,
        )?;
        if m.file != g.migration {
            return Err(CliError::Message(format!(
                "{}: the migration does not read back as generated, so nothing was written (a bug in migrator; please report it)",
                file.display()
            )));
        }
        m
    } else {
        let name = match migrator_core::migration::parse_file_name(&g.file_name) {
            Ok(Some((_, name))) => name,
            _ => {
                return Err(CliError::Message(format!(
                    "{}: not a migration file name",
                    g.file_name
                )))
            }
        };
        migrator_core::migration::Migration {
            version: g.version,
            name,
            file_name: g.file_name.clone(),
            checksum: migrator_core::migration::checksum(&g.migration_text),
            file: g.migration,
        }
    };
    std::fs::create_dir_all(&migrations).map_err(CliError::io(&migrations))?;
    // The migration first, then the snapshot: an interrupted write leaves a
    // file that `check` reports, never a snapshot ahead of its migrations.
    write(&file, &g.migration_text)?;
    write(&project.snapshot_path(), &g.snapshot_text)?;
    println!("created {}", file.display());
    println!("updated {}", project.snapshot_path().display());
    println!("\n{}", style::out(Role::Strong, "changes:"));
    for op in &g.plan.upgrade {
        println!("  {}", change_line(op));
    }
    if !g.plan.warnings.is_empty() {
        println!(
            "\n{}",
            style::out(Role::Strong, "warnings (review before applying):")
        );
        for w in &g.plan.warnings {
            println!("  {} {w}", style::out(Role::Warn, "warning:"));
        }
    }
    // The safety rules of `migrator lint`, for the new migration only.
    // What the file allows (the contract of an expansion) is not shown, as
    // `migrator lint` would not show it.
    let findings: Vec<_> = migrator_core::lint::lint_migration(&m, &g.before, &dialects)
        .into_iter()
        .filter(|f| !m.file.allow.iter().any(|a| a == f.rule.name))
        .collect();
    if !findings.is_empty() {
        println!("\nlint findings (`migrator lint` exits 1 on an error until it is allowed):");
        for mut f in findings {
            f.file = migrations.join(&f.file).display().to_string();
            println!("{}", finding_text(&f));
        }
    }
    for d in dialects {
        println!(
            "\n{}",
            style::sql_line(&format!("-- SQL for {d} (upgrade)"))
        );
        for s in migrator_core::dialect::render_ops(d, &m.file.upgrade, &g.before)?
            .iter()
            .flatten()
        {
            print_statement(s);
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub(super) fn generate_empty(dir: &Path, name: &str) -> CmdResult {
    let project = open(dir)?;
    let g = project.generate_empty(name)?;
    let migrations = project.migrations_dir();
    std::fs::create_dir_all(&migrations).map_err(CliError::io(&migrations))?;
    let file = migrations.join(&g.file_name);
    // As `generate`: the migration first, then the snapshot.
    write(&file, &g.migration_text)?;
    write(&project.snapshot_path(), &g.snapshot_text)?;
    println!("created {} (no steps yet)", file.display());
    println!("updated {}", project.snapshot_path().display());
    println!(
        "next: add its steps (the file's comment shows how), then run `migrator rehash`; `migrator sql {}` shows what it will run",
        g.version
    );
    Ok(ExitCode::SUCCESS)
}

pub(super) fn check(dir: &Path) -> CmdResult {
    let project = open(dir)?;
    let (set, models, plan) = project.pending_changes()?;
    for n in migrator_core::model::kept_notes(&models) {
        println!("note: {n}");
    }
    let schema_rs_ok = match &project.config.schema_rs {
        None => true,
        Some(file) => {
            let fields = migrator_core::diesel_schema::Fields::of_models(&models.defs);
            let want = diesel_schema_text(
                &project,
                set.last_state(),
                &project.schema_dialects(),
                &fields,
            )?;
            let path = project.root.join(file);
            match std::fs::read_to_string(&path) {
                Ok(have) if have == want => {
                    println!("ok: {} matches the snapshot", file.display());
                    true
                }
                Ok(_) => {
                    println!(
                        "{} (`schema_rs` in migrator.toml) no longer matches the snapshot\nhelp: run `migrator print-schema -o {}`",
                        file.display(),
                        file.display()
                    );
                    false
                }
                Err(e) => {
                    println!(
                        "{} (`schema_rs` in migrator.toml) cannot be read: {e}\nhelp: run `migrator print-schema -o {}`",
                        path.display(),
                        file.display()
                    );
                    false
                }
            }
        }
    };
    if plan.is_empty() {
        println!(
            "{} the models match {} ({} migration(s), head {:04})",
            style::out(Role::Good, "ok:"),
            project.snapshot_path().display(),
            set.len(),
            set.head()
        );
        return Ok(if schema_rs_ok {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        });
    }
    println!(
        "the models differ from {}:",
        project.snapshot_path().display()
    );
    for op in &plan.upgrade {
        println!("  {}", change_line(op));
    }
    println!("help: run `migrator generate <name>` to write a migration for these changes");
    Ok(ExitCode::from(1))
}

/// The `schema.rs` text of `schema` for `dialects` (`print-schema`, `check`),
/// with the models' field names and stated diesel types.
fn diesel_schema_text(
    project: &migrator_core::project::Project,
    schema: &migrator_core::Schema,
    dialects: &[Dialect],
    fields: &migrator_core::diesel_schema::Fields,
) -> Result<String, CliError> {
    let shown = project
        .snapshot_path()
        .strip_prefix(&project.root)
        .map(Path::to_path_buf)
        .unwrap_or_else(|_| project.snapshot_path());
    migrator_core::diesel_schema::schema_file(
        schema,
        dialects,
        fields,
        &shown.display().to_string(),
    )
    .map_err(|errors| CliError::SchemaTypes {
        snapshot: project.snapshot_path(),
        errors,
    })
}

/// `migrator print-schema`: diesel's schema of the snapshot, to standard
/// output or a file.
pub(super) fn print_schema(
    dir: &Path,
    dialect: Option<DialectArg>,
    output: Option<&Path>,
) -> CmdResult {
    let project = open(dir)?;
    let set = project.migrations()?;
    let dialects = match dialect {
        Some(d) => vec![Dialect::from(d)],
        None => project.schema_dialects(),
    };
    let models = project.models()?;
    let fields = migrator_core::diesel_schema::Fields::of_models(&models.defs);
    let text = diesel_schema_text(&project, set.last_state(), &dialects, &fields)?;
    emit(output, &text)?;
    Ok(ExitCode::SUCCESS)
}

pub(super) fn squash(dir: &Path, to: u32) -> CmdResult {
    let project = open(dir)?;
    let plan = migrator_core::squash::plan(&project, to)?;
    // The baseline first, then the replaced files go, then the snapshot.
    write(&plan.write.0, &plan.write.1)?;
    for path in &plan.removes {
        std::fs::remove_file(path).map_err(CliError::io(path))?;
    }
    write(&plan.snapshot_path, &plan.snapshot_text)?;
    println!(
        "squashed 0001..{to:04} into {} ({} file(s) removed); updated {}",
        plan.write.0.display(),
        plan.removes.len(),
        plan.snapshot_path.display()
    );
    for d in &plan.dropped_data_steps {
        println!(
            "{} {d} is left out: a new database has no rows for it, and databases that ran it keep its effect",
            style::out(Role::Warn, "note:")
        );
    }
    println!("help: deploy the release before this squash to every database that is not at {to:04} yet: this one refuses databases between 0001 and {to:04}");
    Ok(ExitCode::SUCCESS)
}

pub(super) fn rebase(dir: &Path, local: &[String]) -> CmdResult {
    let project = open(dir)?;
    let plan = migrator_core::rebase::plan(&project, local)?;
    // The new files first, then the old ones go, then the snapshot: an
    // interruption leaves files `check` reports, never a lost migration.
    for (path, text) in &plan.writes {
        write(path, text)?;
    }
    // An old name can be another moved migration's new one (two local
    // migrations with the same description): that file stays.
    for path in plan
        .removes
        .iter()
        .filter(|p| !plan.writes.iter().any(|(w, _)| w == *p))
    {
        std::fs::remove_file(path).map_err(CliError::io(path))?;
    }
    write(&plan.snapshot_path, &plan.snapshot_text)?;
    if plan.moves.is_empty() {
        println!("nothing to move: the migrations are already last");
    }
    for (old, new) in &plan.moves {
        println!("moved {old} -> {new}");
    }
    println!(
        "updated {} (the chain replays: every upgrade applies and every downgrade restores)",
        plan.snapshot_path.display()
    );
    for t in &plan.overlaps {
        println!(
            "{} both branches change table `{t}`: review the moved migrations against the ones now before them",
            style::out(Role::Warn, "note:")
        );
    }
    match project.pending_changes() {
        Ok((_, _, p)) if p.is_empty() => println!("ok: the models match the rebased migrations"),
        Ok(_) => println!("help: the models differ from the rebased migrations; run `migrator check` to see how, and `migrator generate` for what is left"),
        Err(e) => println!("help: `migrator check` reports: {e}"),
    }
    Ok(ExitCode::SUCCESS)
}

pub(super) fn rehash(dir: &Path) -> CmdResult {
    let project = open(dir)?;
    let text = project.rehash()?;
    write(&project.snapshot_path(), &text)?;
    println!(
        "updated the hash chain in {}",
        project.snapshot_path().display()
    );
    Ok(ExitCode::SUCCESS)
}

/// One step of a change, as `generate` and `check` list it: removals in
/// red, the rest in green, on a coloured terminal.
fn change_line(op: &Operation) -> String {
    let role = if op.is_destructive() {
        Role::Removed
    } else {
        Role::Added
    };
    style::out(role, &op.to_string())
}
