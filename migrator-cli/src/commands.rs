//! One function per subcommand. They print, write files (only `init`,
//! `generate` and `rehash` write) and turn errors into messages; the work is
//! done by migrator-core.

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use migrator_core::database_url::{Backend, DatabaseUrl};
use migrator_core::dialect::Dialect;
use migrator_core::migration::{Direction, MigrationSet};
use migrator_core::ops::Operation;
use migrator_core::project::{Project, CONFIG_FILE};
use migrator_core::runner::{bound_waits, connect_url, explain, AnyConnection, Migrator, RunError};

use crate::style::{self, Role};
use crate::{Cli, Command, DiagramFormat, DialectArg, LockArgs, UrlArg};

type CmdResult = Result<ExitCode, String>;

/// The database a command works on: the URL given, or the default.
#[derive(Debug)]
pub struct Database {
    pub url: DatabaseUrl,
    /// Neither `--database-url` nor `DATABASE_URL` was given.
    pub default: bool,
}

/// How a command opens an SQLite file that is not there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Open {
    /// `up`: create it, as SQLite does.
    Create,
    /// `up --dry-run`: plan against an empty in-memory database, create
    /// nothing.
    DryRun,
    /// Every other command: refuse, naming the path (a typo must not
    /// become a new, empty database that reports "all pending").
    Existing,
}

/// Every spelling of the password of the URL given (when it parses), and
/// the passwords the client libraries read from the environment: what no
/// error message may show.
pub fn secrets(url: Option<&UrlArg>) -> Vec<String> {
    let mut out: Vec<String> = url
        .and_then(|u| DatabaseUrl::parse(&u.0).ok())
        .map(|u| u.secrets().to_vec())
        .unwrap_or_default();
    for var in ["PGPASSWORD", "MYSQL_PWD"] {
        if let Ok(v) = std::env::var(var) {
            if !v.is_empty() {
                out.push(v);
            }
        }
    }
    out
}

/// The database of the command: the URL parsed (a refusal is a usage
/// error naming where the URL came from), or the project's default file.
fn resolve(dir: &Path, url: Option<&UrlArg>, source: &str) -> Result<Database, String> {
    match url {
        Some(u) => DatabaseUrl::parse(&u.0)
            .map(|url| Database {
                url,
                default: false,
            })
            .map_err(|e| format!("{source}: {e}")),
        None => {
            let path = dir.join("migrator.db");
            DatabaseUrl::parse(&format!("sqlite://{}", path.display()))
                .map(|url| Database { url, default: true })
                .map_err(|e| format!("{}: {e}", path.display()))
        }
    }
}

/// The database with `--schema` as its session's search_path (a usage
/// error for a database other than PostgreSQL or a bad name).
fn with_schema(d: Database, schema: Option<&str>) -> Result<Database, String> {
    match schema {
        None => Ok(d),
        Some(s) => {
            let t = migrator_core::fleet::Target::new(d.url, Some(s.to_string()))
                .map_err(|e| format!("--schema: {e}"))?;
            Ok(Database {
                url: t.connection_url(),
                default: d.default,
            })
        }
    }
}

pub fn run(cli: Cli, url_source: &str) -> CmdResult {
    if let Some(file) = &cli.targets {
        let command = match &cli.command {
            Command::Up { .. } => "up",
            Command::Down { .. } => "down",
            Command::Status { .. } => "status",
            Command::Verify { .. } => "verify",
            Command::History { .. } => "history",
            _ => {
                eprintln!(
                    "{} --targets runs `up`, `down`, `status`, `verify` and `history`; run other commands on one database",
                    style::error_prefix()
                );
                return Ok(ExitCode::from(2));
            }
        };
        if cli.schema.is_some() {
            eprintln!(
                "{} --schema and --targets exclude each other: give each target's schema in the file (`URL schema=NAME`)",
                style::error_prefix()
            );
            return Ok(ExitCode::from(2));
        }
        let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
        return crate::fleet::run(file, command, cli.jobs, cli.on_error.into(), &args);
    }
    let uses_database = matches!(
        cli.command,
        Command::Init {
            from_database: true,
            ..
        } | Command::Generate { .. }
            | Command::Sql { .. }
            | Command::Up { .. }
            | Command::Down { .. }
            | Command::Redo { .. }
            | Command::Status { .. }
            | Command::History { .. }
            | Command::Verify { .. }
            | Command::Purge { .. }
            | Command::Resolve { .. }
    );
    let database = if uses_database {
        match resolve(&cli.dir, cli.database_url.as_ref(), url_source)
            .and_then(|d| with_schema(d, cli.schema.as_deref()))
        {
            Ok(d) => Some(d),
            Err(message) => {
                eprintln!("{} {message}", style::error_prefix());
                return Ok(ExitCode::from(2));
            }
        }
    } else {
        None
    };
    let db = || database.as_ref().ok_or("no database".to_string());
    match cli.command {
        Command::Init {
            from_database: true,
            wait,
        } => crate::adopt::init_from_database(&cli.dir, db()?, wait.lock_timeout),
        Command::Init {
            from_database: false,
            ..
        } => init(&cli.dir),
        Command::Generate {
            name, empty: true, ..
        } => generate_empty(&cli.dir, &name),
        Command::Generate { name, dialect, .. } => generate(&cli.dir, &name, &dialect, db()?),
        Command::Completions { shell } => {
            let mut cmd = <crate::Cli as clap::CommandFactory>::command();
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut cmd, "migrator", &mut script);
            print!("{}", String::from_utf8_lossy(&script));
            Ok(ExitCode::SUCCESS)
        }
        Command::Check => check(&cli.dir),
        Command::Test { format, keep } => {
            // The URL given, if any: without one the test runs on a
            // temporary SQLite file, never on the project's default database.
            let url = match cli.database_url.as_ref() {
                None => None,
                Some(u) => match resolve(&cli.dir, Some(u), url_source) {
                    Ok(d) => Some(d.url),
                    Err(message) => {
                        eprintln!("{} {message}", style::error_prefix());
                        return Ok(ExitCode::from(2));
                    }
                },
            };
            let project = open(&cli.dir)?;
            let set = project.migrations().map_err(|e| e.to_string())?;
            crate::shadow::run(&set, url.as_ref(), format, keep)
        }
        Command::PrintSchema { dialect, output } => {
            print_schema(&cli.dir, dialect, output.as_deref())
        }
        Command::Sql {
            version,
            dialect,
            down,
        } => sql(&cli.dir, version, dialect, db()?, down),
        Command::Up {
            to,
            dry_run,
            backup,
            allow,
            allow_lint,
            lock,
        } => {
            if let Some(code) = crate::gate::unknown_rule(&allow) {
                return Ok(code);
            }
            let database = db()?;
            let open = if dry_run { Open::DryRun } else { Open::Create };
            with_db_locked(&cli.dir, database, (open, "up"), &lock, |m, conn| {
                if let Some(path) = &backup {
                    if !take_backup(m, conn, &database.url, (path, lock.lock_timeout), to)? {
                        return Ok(ExitCode::SUCCESS);
                    }
                }
                if !dry_run && !allow_lint && crate::gate::lint_refuses(m, conn, to, &allow)? {
                    return Ok(ExitCode::from(1));
                }
                db_up(m, conn, to, dry_run)
            })
        }
        Command::Down {
            to,
            steps,
            dry_run,
            lock,
        } => with_db_locked(
            &cli.dir,
            db()?,
            (Open::Existing, "down"),
            &lock,
            |m, conn| db_down(m, conn, to, steps, dry_run),
        ),
        Command::Redo { lock } => {
            with_db_locked(&cli.dir, db()?, (Open::Existing, "redo"), &lock, db_redo)
        }
        Command::Status { wait, format } => with_db(&cli.dir, db()?, wait.lock_timeout, |m, db| {
            db_status(m, db, format == crate::OutputFormat::Json)
        }),
        Command::History { wait, format } => {
            with_db(&cli.dir, db()?, wait.lock_timeout, |m, db| {
                db_history(m, db, format == crate::OutputFormat::Json)
            })
        }
        Command::Verify { wait, format } => verify(
            &cli.dir,
            db()?,
            wait.lock_timeout,
            format == crate::OutputFormat::Json,
        ),
        Command::Lint {
            allow,
            galera,
            format,
        } => lint(
            &cli.dir,
            &allow,
            galera,
            format == crate::OutputFormat::Json,
        ),
        Command::Resolve {
            version,
            applied,
            lock,
            by,
            ..
        } => {
            let how = if applied {
                migrator_core::runner::resolve::Resolution::Applied
            } else {
                migrator_core::runner::resolve::Resolution::RolledBack
            };
            let by = by
                .or_else(|| std::env::var("USER").ok())
                .unwrap_or_else(|| "unknown".into());
            with_db_locked(
                &cli.dir,
                db()?,
                (Open::Existing, "resolve"),
                &lock,
                |m, db| {
                    let line = on_conn!(db, c => m.resolve(c, version, how, &by))?;
                    println!("{line}");
                    Ok(ExitCode::SUCCESS)
                },
            )
        }
        Command::Purge { yes, lock } => with_db_locked(
            &cli.dir,
            db()?,
            (Open::Existing, "purge"),
            &lock,
            |m, db| crate::purge::purge(m, db, yes),
        ),
        Command::Rehash => rehash(&cli.dir),
        Command::Rebase { migrations } => rebase(&cli.dir, &migrations),
        Command::Squash { to } => squash(&cli.dir, to),
        Command::Diagram {
            format,
            at,
            change,
            output,
        } => diagram(&cli.dir, format, at, change, output.as_deref()),
    }
}

/// Opens the command's database: names the default when it is used,
/// handles an SQLite file that does not exist as `open` says, and bounds
/// every wait for another session's lock by `wait` (`runner::bound_waits`).
pub fn open_db(
    database: &Database,
    open: Open,
    command: &str,
    wait: Duration,
) -> Result<AnyConnection, String> {
    let mut db = connect_db(database, open, command)?;
    on_conn!(&mut db, c => bound_waits(c, wait)).map_err(|e| e.to_string())?;
    Ok(db)
}

fn connect_db(database: &Database, open: Open, command: &str) -> Result<AnyConnection, String> {
    if database.default {
        eprintln!(
            "note: database {} (the default: neither --database-url nor DATABASE_URL is set)",
            database.url
        );
    }
    let missing = database
        .url
        .sqlite_path()
        .filter(|p| !database.url.is_sqlite_memory() && !p.starts_with("file:"))
        .filter(|p| Path::new(p).symlink_metadata().is_err());
    if let Some(path) = missing {
        match open {
            Open::Create => {}
            Open::DryRun => {
                eprintln!("note: {path} does not exist: the dry run shows what `up` would do to a new database, and creates nothing");
                let memory = DatabaseUrl::parse(":memory:").map_err(|e| e.to_string())?;
                return connect_url(&memory).map_err(|e| e.to_string());
            }
            Open::Existing => {
                return Err(format!(
                    "{path}: no such SQLite database; `migrator {command}` does not create one\nhelp: check the path (a relative path is relative to the current folder) or --dir, or run `migrator up` to create the database"
                ))
            }
        }
    }
    let mut db = connect_url(&database.url).map_err(|e| e.to_string())?;
    // `--schema` (or a target's schema): a search_path naming no schema
    // leaves nothing to create tables in, which the server says late and
    // vaguely; say it first.
    let sets_search_path = database
        .url
        .param("options")
        .is_some_and(|o| o.contains("search_path"));
    #[allow(irrefutable_let_patterns)]
    if let (true, AnyConnection::Postgres(c)) = (sets_search_path, &mut db) {
        use migrator_core::runner::MigrationConnection as _;
        let none = c
            .count_rows("SELECT 1 WHERE current_schema() IS NULL")
            .map_err(|e| e.to_string())?;
        if none > 0 {
            return Err(format!(
                "{}: the schema of its search_path does not exist; nothing was changed\nhelp: create it first (`CREATE SCHEMA name`), or check the name",
                database.url
            ));
        }
    }
    Ok(db)
}

fn open(dir: &Path) -> Result<Project, String> {
    Project::open(dir).map_err(|e| e.to_string())
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    crate::files::write_atomic(path, text)
}

fn init(dir: &Path) -> CmdResult {
    let project = open(dir)?;
    let config = dir.join(CONFIG_FILE);
    if !config.exists() {
        write(&config, &crate::adopt::config_text(None))?;
        println!("created {}", config.display());
    }
    let migrations = project.migrations_dir();
    std::fs::create_dir_all(&migrations).map_err(|e| format!("{}: {e}", migrations.display()))?;
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

fn url_dialect(url: &DatabaseUrl) -> Dialect {
    match url.backend() {
        Backend::Postgres => Dialect::Postgres,
        Backend::Mysql => Dialect::Mysql,
        Backend::Sqlite => Dialect::Sqlite,
    }
}

fn generate(dir: &Path, name: &str, flags: &[DialectArg], database: &Database) -> CmdResult {
    let project = open(dir)?;
    let dialects = pick_dialects(&project, flags, database);
    let Some(g) = project.generate(name).map_err(|e| e.to_string())? else {
        println!(
            "no changes: the models match {}; nothing written",
            project.snapshot_path().display()
        );
        return Ok(ExitCode::SUCCESS);
    };
    let migrations = project.migrations_dir();
    std::fs::create_dir_all(&migrations).map_err(|e| format!("{}: {e}", migrations.display()))?;
    let file = migrations.join(&g.file_name);
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
    // Lint and render the new migration from what `generate` computed: the
    // folder is not read and replayed a second time.
    let m = migrator_core::migration::parse_migration(&migrations, &g.file_name, &g.migration_text)
        .map_err(|e| e.to_string())?;
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
        for s in migrator_core::dialect::render_ops(d, &m.file.upgrade, &g.before)
            .map_err(|e| e.to_string())?
            .iter()
            .flatten()
        {
            print_statement(s);
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn generate_empty(dir: &Path, name: &str) -> CmdResult {
    let project = open(dir)?;
    let g = project.generate_empty(name).map_err(|e| e.to_string())?;
    let migrations = project.migrations_dir();
    std::fs::create_dir_all(&migrations).map_err(|e| format!("{}: {e}", migrations.display()))?;
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

fn check(dir: &Path) -> CmdResult {
    let project = open(dir)?;
    let (set, models, plan) = project.pending_changes().map_err(|e| e.to_string())?;
    for n in migrator_core::model::kept_notes(&models) {
        println!("note: {n}");
    }
    let schema_rs_ok = match &project.config.schema_rs {
        None => true,
        Some(file) => {
            let want = diesel_schema_text(&project, set.last_state(), &project.schema_dialects())?;
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

/// The `schema.rs` text of `schema` for `dialects` (`print-schema`, `check`).
fn diesel_schema_text(
    project: &migrator_core::project::Project,
    schema: &migrator_core::Schema,
    dialects: &[Dialect],
) -> Result<String, String> {
    let shown = project
        .snapshot_path()
        .strip_prefix(&project.root)
        .map(Path::to_path_buf)
        .unwrap_or_else(|_| project.snapshot_path());
    migrator_core::diesel_schema::schema_file(schema, dialects, &shown.display().to_string())
        .map_err(|errors| {
            errors
                .iter()
                .map(|e| format!("{}: {e}", project.snapshot_path().display()))
                .collect::<Vec<_>>()
                .join("\n")
        })
}

/// `migrator print-schema`: diesel's schema of the snapshot, to standard
/// output or a file.
fn print_schema(dir: &Path, dialect: Option<DialectArg>, output: Option<&Path>) -> CmdResult {
    let project = open(dir)?;
    let set = project.migrations().map_err(|e| e.to_string())?;
    let dialects = match dialect {
        Some(d) => vec![Dialect::from(d)],
        None => project.schema_dialects(),
    };
    let text = diesel_schema_text(&project, set.last_state(), &dialects)?;
    match output {
        Some(path) => {
            write(path, &text)?;
            eprintln!("wrote {}", path.display());
        }
        None => print!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}

fn sql(
    dir: &Path,
    version: Option<u32>,
    dialect: Option<DialectArg>,
    database: &Database,
    down: bool,
) -> CmdResult {
    let project = open(dir)?;
    let dialect = dialect.map_or_else(|| url_dialect(&database.url), Dialect::from);
    let set = project.migrations().map_err(|e| e.to_string())?;
    let versions: Vec<u32> = match version {
        Some(v) => {
            if set.get(v).is_none() {
                return Err(format!(
                    "there is no migration {v:04} (the newest is {:04})",
                    set.head()
                ));
            }
            vec![v]
        }
        None if down => (1..=set.head()).rev().collect(),
        None => (1..=set.head()).collect(),
    };
    let direction = if down { Direction::Down } else { Direction::Up };
    let mut script = crate::script::Script::default();
    for v in versions {
        let m = set
            .get(v)
            .ok_or_else(|| format!("there is no migration {v:04}"))?;
        script.text.push_str(&format!(
            "\n-- {} ({}, {dialect})\n",
            m.id(),
            if down { "downgrade" } else { "upgrade" }
        ));
        let ops = if down {
            &m.file.downgrade
        } else {
            &m.file.upgrade
        };
        let rendered = set
            .render(dialect, v, direction)
            .map_err(|e| e.to_string())?;
        // A Rust step has no SQL: the script says where it runs instead.
        let steps: Vec<Option<&[migrator_core::dialect::Statement]>> = ops
            .iter()
            .zip(&rendered)
            .map(|(op, statements)| {
                (!matches!(op, Operation::Rust { .. })).then_some(statements.as_slice())
            })
            .collect();
        script.migration(dialect, &m.id(), &steps);
    }
    println!("{}", style::sql_line(&script.header(dialect)));
    print_statement(&script.text);
    if !script.not_standalone.is_empty() {
        eprintln!(
            "note: this {dialect} script is not standalone; apply it with `migrator up`. Parts its client cannot run:"
        );
        for r in &script.not_standalone {
            eprintln!("  {r}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn lint(dir: &Path, allow: &[String], galera: bool, json: bool) -> CmdResult {
    use migrator_core::lint;
    if let Some(code) = crate::gate::unknown_rule(allow) {
        return Ok(code);
    }
    let project = open(dir)?;
    let set = project.migrations().map_err(|e| e.to_string())?;
    // Rendering is checked for the dialects the project declares, else all.
    let mut dialects = project.dialects();
    if dialects.is_empty() {
        dialects = Dialect::ALL.to_vec();
    }
    let mut findings = lint::lint_set(&set, &dialects, allow);
    if galera {
        findings.extend(lint::lint_galera(&set, allow));
        findings.sort_by(|a, b| (&a.file, a.step).cmp(&(&b.file, b.step)));
    }
    let errors = findings
        .iter()
        .filter(|f| f.rule.severity == lint::Severity::Error)
        .count();
    let code = if errors > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    };
    if json {
        use migrator_core::runner::json_string;
        let folder = set.dir.display().to_string();
        let items: Vec<String> = findings
            .iter()
            .map(|f| {
                format!(
                    "{{\"rule\":{},\"severity\":\"{}\",\"file\":{},\"step\":{},\"what\":{},\"why\":{},\"instead\":{}}}",
                    json_string(f.rule.name),
                    match f.rule.severity {
                        lint::Severity::Error => "error",
                        lint::Severity::Warning => "warning",
                    },
                    json_string(&format!("{folder}/{}", f.file)),
                    f.step,
                    json_string(&f.what),
                    json_string(f.rule.why),
                    json_string(f.rule.instead)
                )
            })
            .collect();
        println!(
            "{{\"findings\":[{}],\"errors\":{errors},\"warnings\":{},\"migrations\":{}}}",
            items.join(","),
            findings.len() - errors,
            set.len()
        );
        return Ok(code);
    }
    // The reminders about kept columns, when the models read (a model error
    // is `check`'s to report).
    if let Ok(mut models) = project.models() {
        models.schema = set.last_state().clone();
        for n in migrator_core::model::kept_notes(&models) {
            println!("note: {n}\n");
        }
    }
    let folder = set.dir.display().to_string();
    for f in &findings {
        let mut f = f.clone();
        f.file = format!("{folder}/{}", f.file);
        println!("{}\n", finding_text(&f));
    }
    println!(
        "{} error(s), {} warning(s) in {} migration(s)",
        errors,
        findings.len() - errors,
        set.len()
    );
    Ok(code)
}

/// `migrator diagram`: reads the migrations (validated, as every command
/// does), picks the schema or the change asked for and writes the picture.
fn diagram(
    dir: &Path,
    format: DiagramFormat,
    at: Option<u32>,
    change: Option<u32>,
    output: Option<&Path>,
) -> CmdResult {
    use migrator_core::diagram::View;
    let project = open(dir)?;
    let set = project.migrations().map_err(|e| e.to_string())?;
    let (flag, version) = match (at, change) {
        (Some(v), _) => ("--at", Some(v)),
        (None, Some(v)) => ("--change", Some(v)),
        (None, None) => ("", None),
    };
    let m = match version {
        None => None,
        Some(v) => match set.get(v) {
            Some(m) => Some(m),
            None => {
                let known = if set.is_empty() {
                    format!("{} has no migrations", set.dir.display())
                } else {
                    format!(
                        "the migrations in {} are {:04} to {:04}",
                        set.dir.display(),
                        1,
                        set.head()
                    )
                };
                eprintln!(
                    "{} {flag} {v}: there is no migration {v:04}; {known}",
                    style::error_prefix()
                );
                return Ok(ExitCode::from(2));
            }
        },
    };
    let (view, title) = match (m, change.is_some()) {
        (Some(m), true) => {
            let i = m.version as usize - 1;
            let steps = m.file.upgrade.iter().map(ToString::to_string).collect();
            let view = View::change(&set.state(i), &set.state(i + 1), steps);
            (view, format!("{}: before and after", m.id()))
        }
        (Some(m), false) => (
            View::of(&set.state(m.version as usize)),
            format!("schema after {}", m.id()),
        ),
        (None, _) => (
            View::of(set.last_state()),
            match set.migrations.last() {
                Some(m) => format!("schema after {} (the snapshot)", m.id()),
                None => "schema (no migrations yet)".to_string(),
            },
        ),
    };
    let text = match format {
        DiagramFormat::Mermaid => view.mermaid(),
        DiagramFormat::Html => view.html(&title),
        DiagramFormat::Svg => view.svg(),
    };
    match output {
        Some(path) => {
            write(path, &text)?;
            eprintln!("wrote {}", path.display());
        }
        None => print!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}

fn squash(dir: &Path, to: u32) -> CmdResult {
    let project = open(dir)?;
    let plan = migrator_core::squash::plan(&project, to).map_err(|e| e.to_string())?;
    // The baseline first, then the replaced files go, then the snapshot.
    write(&plan.write.0, &plan.write.1)?;
    for path in &plan.removes {
        std::fs::remove_file(path).map_err(|e| format!("{}: {e}", path.display()))?;
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

fn rebase(dir: &Path, local: &[String]) -> CmdResult {
    let project = open(dir)?;
    let plan = migrator_core::rebase::plan(&project, local).map_err(|e| e.to_string())?;
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
        std::fs::remove_file(path).map_err(|e| format!("{}: {e}", path.display()))?;
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

fn rehash(dir: &Path) -> CmdResult {
    let project = open(dir)?;
    let text = project.rehash().map_err(|e| e.to_string())?;
    write(&project.snapshot_path(), &text)?;
    println!(
        "updated the hash chain in {}",
        project.snapshot_path().display()
    );
    Ok(ExitCode::SUCCESS)
}

/// Opens the project's migrations and the database, then runs `f` with the
/// connection of whatever kind the URL names.
fn with_db(
    dir: &Path,
    database: &Database,
    wait: Duration,
    f: impl Fn(&Migrator<'_>, &mut Db) -> Result<ExitCode, RunError>,
) -> CmdResult {
    with_db_configured(
        dir,
        database,
        (Open::Existing, "status"),
        wait,
        |m| Ok(m),
        f,
    )
}

/// `with_db` for the commands that take the runner's lock. The flags were
/// checked by their clap parsers (`main.rs`).
fn with_db_locked(
    dir: &Path,
    database: &Database,
    (open, command): (Open, &str),
    lock: &LockArgs,
    f: impl Fn(&Migrator<'_>, &mut Db) -> Result<ExitCode, RunError>,
) -> CmdResult {
    with_db_configured(
        dir,
        database,
        (open, command),
        lock.lock_timeout,
        |m| {
            let m = m
                .lock_mode(lock.lock_mode.into())
                .lock_timeout(lock.lock_timeout)
                .statement_lock_timeout(Duration::from_millis(lock.statement_lock_timeout_ms))
                .lock_retries(lock.lock_retries, Duration::from_millis(200))
                .lock_waits(lock.lock_waits.clone())
                .newer_migrations(if lock.refuse_newer {
                    migrator_core::runner::NewerMigrations::Refuse
                } else {
                    migrator_core::runner::NewerMigrations::Tolerate
                });
            let m = match lock.max_replica_lag {
                Some(max) => m
                    .max_replica_lag(max, lock.replica_lag_timeout)
                    .replica_urls(lock.replica_urls.clone())
                    .galera_peers_with(database.url.clone()),
                None => m,
            };
            Ok(match lock.statement_timeout_ms {
                Some(ms) => m.statement_timeout(Duration::from_millis(ms)),
                None => m,
            })
        },
        f,
    )
}

fn with_db_configured(
    dir: &Path,
    database: &Database,
    (open_mode, command): (Open, &str),
    wait: Duration,
    configure: impl for<'m> FnOnce(Migrator<'m>) -> Result<Migrator<'m>, String>,
    f: impl Fn(&Migrator<'_>, &mut Db) -> Result<ExitCode, RunError>,
) -> CmdResult {
    let project = open(dir)?;
    let set: MigrationSet = project.migrations().map_err(|e| e.to_string())?;
    let mut db = open_db(database, open_mode, command, wait)?;
    let migrator = configure(Migrator::new(&set).on_event(crate::progress::printer()))?;
    f(&migrator, &mut db).map_err(|e| {
        // A lock wait gets the bound and the other sessions (masked).
        let e = on_conn!(&mut db, c => explain(c, e, &format!("running `{command}`"), wait));
        format!("{e}\n  database: {}", database.url)
    })
}

type Db = AnyConnection;

fn print_sql(lines: &[String]) {
    if lines.is_empty() {
        println!("{}", style::sql_line("-- nothing to do"));
    }
    for l in lines {
        print_statement(l);
    }
}

/// A statement or comment block of SQL on stdout, its comment lines dimmed
/// on a coloured terminal.
fn print_statement(text: &impl std::fmt::Display) {
    for line in text.to_string().lines() {
        println!("{}", style::sql_line(line));
    }
}

/// A lint finding, its first line (severity, rule, place) coloured by
/// severity on a coloured terminal.
fn finding_text(f: &migrator_core::lint::Finding) -> String {
    let text = f.to_string();
    let role = match f.rule.severity {
        migrator_core::lint::Severity::Error => Role::Bad,
        migrator_core::lint::Severity::Warning => Role::Warn,
    };
    match text.split_once('\n') {
        Some((head, rest)) => format!("{}\n{rest}", style::out(role, head)),
        None => style::out(role, &text),
    }
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

/// `up --backup PATH`: backs up before anything runs, and prints how to
/// restore. Returns false (nothing to back up for) when nothing is pending.
fn take_backup(
    m: &Migrator<'_>,
    db: &mut Db,
    url: &DatabaseUrl,
    (path, wait): (&Path, Duration),
    to: Option<u32>,
) -> Result<bool, RunError> {
    let status = on_conn!(&mut *db, c => m.status(c))?;
    let pending = status
        .lines
        .iter()
        .filter(|l| {
            matches!(
                l.state,
                migrator_core::runner::LineState::Pending
                    | migrator_core::runner::LineState::Partial { .. }
            )
        })
        .filter(|l| to.is_none_or(|t| l.version <= t))
        .count();
    if pending == 0 {
        println!("nothing to do: the database is up to date; no backup taken");
        return Ok(false);
    }
    // A backup error is reported as it is (`History` prints its message
    // unchanged); nothing has been migrated.
    let restore = crate::backup::take(db, url, path, wait).map_err(RunError::Refused)?;
    println!("{restore}");
    Ok(true)
}

fn db_up(
    m: &Migrator<'_>,
    db: &mut Db,
    to: Option<u32>,
    dry_run: bool,
) -> Result<ExitCode, RunError> {
    if dry_run {
        let r = on_conn!(db, c => m.dry_run_up(c, to))?;
        print_sql(&r.sql);
        // On stderr, so the SQL on stdout stays runnable.
        for f in &r.findings {
            eprintln!("lint: {f}");
        }
    } else {
        let r = on_conn!(db, c => m.up_to(c, to))?;
        println!("{} migration(s) applied", r.done.len());
    }
    Ok(ExitCode::SUCCESS)
}

fn db_down(
    m: &Migrator<'_>,
    db: &mut Db,
    to: Option<u32>,
    steps: Option<u32>,
    dry_run: bool,
) -> Result<ExitCode, RunError> {
    let target = match to {
        Some(t) => t,
        None => on_conn!(db, c => m.target_for_steps(c, steps.unwrap_or(1)))?,
    };
    if dry_run {
        let r = on_conn!(db, c => m.dry_run_down(c, target))?;
        print_sql(&r.sql);
    } else {
        let r = on_conn!(db, c => m.down_to(c, target))?;
        println!("{} migration(s) rolled back", r.done.len());
    }
    Ok(ExitCode::SUCCESS)
}

fn db_redo(m: &Migrator<'_>, db: &mut Db) -> Result<ExitCode, RunError> {
    let r = on_conn!(db, c => m.down_steps(c, 1))?;
    let Some(id) = r.done.first() else {
        println!("nothing to redo: no migration is applied");
        return Ok(ExitCode::SUCCESS);
    };
    let version: u32 = id[..4].parse().unwrap_or(0);
    let r = on_conn!(db, c => m.up_to(c, Some(version)))?;
    println!("redone {}", r.done.join(", "));
    Ok(ExitCode::SUCCESS)
}

fn db_status(m: &Migrator<'_>, db: &mut Db, json: bool) -> Result<ExitCode, RunError> {
    let status = on_conn!(db, c => m.status(c))?;
    if json {
        println!("{}", status.to_json());
    } else {
        let text = status.to_string();
        for (line, s) in text.lines().zip(status.lines.iter().map(|l| &l.state)) {
            use migrator_core::runner::LineState;
            let role = match s {
                LineState::Applied { .. } => Role::Good,
                LineState::Pending => Role::Warn,
                _ => Role::Bad,
            };
            println!("{}", style::out(role, line));
        }
        if status.lines.is_empty() {
            print!("{text}");
        }
        println!("{} pending", status.pending());
        // What `up` would lock with (its default `--lock-mode auto`).
        match on_conn!(db, c => m.planned_lock(c)) {
            Ok(lock) => println!("lock for up/down (--lock-mode auto): {lock}"),
            Err(e) => println!("lock for up/down: {e}"),
        }
    }
    Ok(if status.is_clean() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// `migrator history`: the history table as recorded, each row beside the
/// file it came from.
fn db_history(m: &Migrator<'_>, db: &mut Db, json: bool) -> Result<ExitCode, RunError> {
    use migrator_core::runner::{human_duration, json_string};
    let rows = on_conn!(db, c => m.history(c))?;
    let set = m.migration_set();
    let file_state = |r: &migrator_core::runner::HistoryRow| {
        migrator_core::runner::FileState::of(set, r).as_str()
    };
    if json {
        let items: Vec<String> = rows
            .iter()
            .map(|r| {
                format!(
                    "{{\"version\":{},\"name\":{},\"state\":{},\"applied_at\":{},\"execution_ms\":{},\"tool_version\":{},\"checksum\":{},\"steps_done\":{},\"file\":\"{}\"}}",
                    r.version,
                    json_string(&r.name),
                    json_string(&r.state),
                    json_string(&r.applied_at),
                    r.execution_ms,
                    json_string(&r.tool_version),
                    json_string(&r.checksum),
                    r.steps_done,
                    file_state(r)
                )
            })
            .collect();
        println!("{{\"history\":[{}]}}", items.join(","));
        return Ok(ExitCode::SUCCESS);
    }
    if rows.is_empty() {
        println!("no migration has run on this database");
        return Ok(ExitCode::SUCCESS);
    }
    println!(
        "{}",
        style::out(
            Role::Strong,
            &format!(
                "{:<40} {:<8} {:<26} {:>12}  {:<9} {:<14} file",
                "migration", "state", "applied at", "took", "tool", "checksum"
            )
        )
    );
    for r in &rows {
        let id = format!("{:04}_{}", r.version, r.name);
        let took = human_duration(Duration::from_millis(r.execution_ms.max(0) as u64));
        let file = file_state(r);
        let state = if r.state == "applied" {
            style::out(Role::Good, &format!("{:<8}", r.state))
        } else {
            style::out(Role::Bad, &format!("{:<8}", r.state))
        };
        let file = if file == "matches" {
            file.to_string()
        } else {
            style::out(Role::Bad, file)
        };
        let short: String = r.checksum.chars().take(12).collect();
        println!(
            "{id:<40} {state} {:<26} {took:>12}  {:<9} {short:<14} {file}",
            r.applied_at, r.tool_version
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// The version of the `k`-th migration of `set` (0 before the first).
fn version_at(set: &migrator_core::runner::MigrationSet, k: usize) -> u32 {
    match k {
        0 => 0,
        k => set.migrations[k - 1].version,
    }
}

/// Introspects the database and compares it with the snapshot's schema:
/// exit 1 naming each drifted table, column, index and constraint; objects
/// outside the model are printed as notes either way.
fn verify(dir: &Path, database: &Database, wait: Duration, json: bool) -> CmdResult {
    use migrator_core::introspect;
    use migrator_core::runner::{explain_text, MigrationConnection, HISTORY_TABLE};

    let project = open(dir)?;
    let set = project.migrations().map_err(|e| e.to_string())?;
    let url = &database.url;
    let at = |e: String| format!("{e}\n  database: {url}");
    let mut db = open_db(database, Open::Existing, "verify", wait)?;
    // A database whose history records exactly the first `k` migrations
    // (`k` at least 1: after a `down`, or before an `up`) is compared with
    // the schema as of `k`. No rows at all (a database built from `migrator
    // sql` scripts, or rolled back to nothing) and anything the history
    // cannot say (a gap, a partial or edited row; a lock wait, which the
    // catalog read below then reports) compare with the head.
    let k = on_conn!(&mut db, c => Migrator::new(&set).applied_prefix(c))
        .ok()
        .flatten()
        .filter(|k| *k > 0)
        .unwrap_or(set.len());
    let snapshot = set.state(k);
    let v = match introspect::verify(&mut db, &snapshot) {
        Ok(v) => v,
        Err(e) => {
            let what = "reading the catalog and the tables of the snapshot (verify)";
            return Err(at(
                on_conn!(&mut db, c => explain_text(c, e.to_string(), what, wait)),
            ));
        }
    };
    let snapshot_path = project.snapshot_path();
    if json {
        use migrator_core::runner::json_string;
        let list = |items: Vec<String>| {
            let quoted: Vec<String> = items.iter().map(|i| json_string(i)).collect();
            format!("[{}]", quoted.join(","))
        };
        let drift: Vec<String> = v
            .drift
            .iter()
            .map(|d| {
                format!(
                    "{{\"table\":{},\"message\":{}}}",
                    json_string(&d.table),
                    json_string(&d.message)
                )
            })
            .collect();
        println!(
            "{{\"clean\":{},\"database\":{},\"snapshot\":{},\"head\":{},\"compared_at\":{},\"drift\":[{}],\"outside\":{},\"notes\":{}}}",
            v.is_clean(),
            json_string(&url.to_string()),
            json_string(&snapshot_path.display().to_string()),
            set.head(),
            version_at(&set, k),
            drift.join(","),
            list(v.live.outside.iter().map(ToString::to_string).collect()),
            list(v.live.notes.iter().map(ToString::to_string).collect()),
        );
        return Ok(if v.is_clean() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        });
    }
    // Which state the database was compared with.
    let state = if k == set.len() {
        format!("head {:04}", set.head())
    } else {
        format!(
            "as of {:04}, the last applied; {} pending up to head {:04}",
            version_at(&set, k),
            set.len() - k,
            set.head()
        )
    };
    if v.is_clean() {
        println!(
            "{} {} matches {} ({state}, {} table(s))",
            style::out(Role::Good, "ok:"),
            url,
            snapshot_path.display(),
            v.expected.tables.len()
        );
    } else {
        println!(
            "{} {} differs from {} ({state}):",
            style::out(Role::Bad, "drift:"),
            url,
            snapshot_path.display(),
        );
        for d in &v.drift {
            println!("  {}", style::out(Role::Bad, &d.to_string()));
        }
        // A database behind the files differs for a simpler reason.
        let applied = on_conn!(&mut db, c => c.count_rows(&format!(
            "SELECT version FROM {} WHERE state = 'applied'",
            HISTORY_TABLE
        )))
        .unwrap_or(0);
        let pending = (set.len() as i64 - applied).max(0);
        if pending > 0 && k == set.len() {
            println!("help: {pending} migration(s) are not applied to this database; run `migrator up`, then verify again");
        } else {
            println!("help: the database was changed outside migrations; write a migration for a change you keep (`migrator generate`), undo one you do not");
        }
    }
    if !v.live.outside.is_empty() {
        println!("note: not compared, outside the model:");
        for o in &v.live.outside {
            println!("  {o}");
        }
    }
    for n in &v.live.notes {
        println!("note: {n}");
    }
    Ok(if v.is_clean() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
