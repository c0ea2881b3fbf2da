//! `migrator test`: every migration tried on a scratch ("shadow") database
//! before it reaches a real one.
//!
//! The scratch database is a temporary SQLite file, or a database created
//! on the PostgreSQL or MySQL/MariaDB server the URL names (the URL's own
//! database is only used to connect, never changed) and dropped at the end.
//! From an empty database, for each migration N in order:
//!
//! 1. rows are inserted into every table of the schema before N (two per
//!    table and migration, keys and foreign keys consistent, columns with a
//!    default left to it);
//! 2. `up` to N, then the live schema is read back (the introspection of
//!    `migrator verify`) and compared with the schema after N;
//! 3. `down` to N-1, compared with the schema before N, and the rows
//!    inserted so far must still hold their values (a destructive step's
//!    data is reported, not failed: its downgrade cannot bring it back);
//! 4. `up` to N again, compared again.
//!
//! Drift after an `up` of a migration with raw SQL steps names the steps
//! whose declared `effect` did not match what they did. The first failure
//! stops the run (the scratch database is then in an unknown state).

mod seed;

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;

use migrator_core::database_url::{Backend, DatabaseUrl};
use migrator_core::dialect::Dialect;
use migrator_core::migration::{Migration, MigrationSet};
use migrator_core::ops::Operation;
use migrator_core::runner::{connect_url, json_string, AnyConnection, Migrator};
use migrator_core::schema::Schema;

use crate::error::CliError;
use crate::style::{self, Role};
use seed::{lost, seed, Seeded};

/// `migrator test --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TestFormat {
    /// A line per migration, for people.
    Text,
    /// One JSON object, for scripts.
    Json,
    /// GitHub Actions annotations (`::error file=..,line=..::..`) on the
    /// failing migration files, then the summary line.
    Github,
}

/// What happened to one migration.
#[derive(Debug, Default)]
struct Outcome {
    version: u32,
    id: String,
    /// The migration's file, for annotations.
    file: PathBuf,
    /// 1-based line the first failure points at.
    line: usize,
    failures: Vec<String>,
    warnings: Vec<String>,
    seeded: usize,
    tested: bool,
}

/// The scratch database: where it is and how to remove it (when dropped).
/// Also `verify --replay`'s (`crate::replay`).
pub(crate) struct Scratch {
    pub(crate) url: DatabaseUrl,
    /// A server database to drop: the admin URL and the name.
    server: Option<(DatabaseUrl, String)>,
    /// An SQLite file (and its journal files) to remove.
    file: Option<PathBuf>,
    keep: bool,
}

impl Scratch {
    /// A new empty database next to `given` (on its server; an SQLite
    /// file in the temporary folder), named `migrator_<purpose>_..`.
    pub(crate) fn create(
        given: Option<&DatabaseUrl>,
        keep: bool,
        purpose: &str,
    ) -> Result<Scratch, CliError> {
        let unique = format!(
            "migrator_{purpose}_{}_{}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.subsec_nanos())
        );
        match given.map(DatabaseUrl::backend) {
            None | Some(Backend::Sqlite) => {
                let path = std::env::temp_dir().join(format!("{unique}.db"));
                let url = DatabaseUrl::parse(&format!("sqlite://{}", path.display()))
                    .map_err(|e| CliError::Message(e.to_string()))?;
                Ok(Scratch {
                    url,
                    server: None,
                    file: Some(path),
                    keep,
                })
            }
            Some(backend) => {
                let admin = given
                    .cloned()
                    .ok_or_else(|| CliError::Message("no database URL".into()))?;
                let mut conn = connect_url(&admin).map_err(|e| {
                    CliError::Message(format!(
                        "cannot connect to {admin} to create the scratch database: {e}"
                    ))
                })?;
                let q = if backend == Backend::Mysql {
                    format!("CREATE DATABASE `{unique}` CHARACTER SET utf8mb4")
                } else {
                    format!("CREATE DATABASE \"{unique}\"")
                };
                on_conn!(&mut conn, c => migrator_core::runner::MigrationConnection::execute(c, &q))
                    .map_err(|e| CliError::Message(format!("creating the scratch database on {admin}: {e}\nhelp: the user of the URL needs the right to create databases (CREATEDB on PostgreSQL, CREATE on MySQL)")))?;
                Ok(Scratch {
                    url: admin.with_database(&unique),
                    server: Some((admin, unique)),
                    file: None,
                    keep,
                })
            }
        }
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if self.keep {
            eprintln!("note: the scratch database is kept: {}", self.url);
            return;
        }
        if let Some(path) = &self.file {
            for suffix in ["", "-journal", "-wal", "-shm"] {
                let mut p = path.clone().into_os_string();
                p.push(suffix);
                let _ = std::fs::remove_file(PathBuf::from(p));
            }
        }
        if let Some((admin, name)) = &self.server {
            // `WITH (FORCE)` (PostgreSQL 13+) also ends a session left
            // behind; an older server refuses the clause and drops without.
            let tries: Vec<String> = if admin.backend() == Backend::Mysql {
                vec![format!("DROP DATABASE IF EXISTS `{name}`")]
            } else {
                vec![
                    format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"),
                    format!("DROP DATABASE IF EXISTS \"{name}\""),
                ]
            };
            let dropped = connect_url(admin).map_err(|e| e.to_string()).and_then(|mut c| {
                let mut last = Ok(());
                for q in &tries {
                    last = on_conn!(&mut c, c => migrator_core::runner::MigrationConnection::execute(c, q))
                        .map_err(|e| e.to_string());
                    if last.is_ok() {
                        break;
                    }
                }
                last
            });
            if let Err(e) = dropped {
                let e = migrator_core::database_url::redact_all(&e, admin.secrets());
                eprintln!("warning: could not drop the scratch database {name}: {e}");
            }
        }
    }
}

/// Runs `migrator test`.
pub fn run(
    set: &MigrationSet,
    given: Option<&DatabaseUrl>,
    format: TestFormat,
    keep: bool,
) -> Result<ExitCode, CliError> {
    let scratch = Scratch::create(given, keep, "test")?;
    let mut conn = connect_url(&scratch.url)
        .map_err(|e| CliError::Message(format!("{}: {e}", scratch.url)))?;
    let dialect = on_conn!(&mut conn, c => migrator_core::runner::MigrationConnection::dialect(c));
    if format == TestFormat::Text {
        println!(
            "testing {} migration(s) on a scratch {dialect} database ({}): up, down and up again, the schema compared after each, rows kept",
            set.len(),
            scratch.url
        );
    }
    let migrator = Migrator::new(set);
    let mut seeded: Vec<Seeded> = Vec::new();
    let mut outcomes: Vec<Outcome> = Vec::new();
    for m in &set.migrations {
        let mut o = Outcome {
            version: m.version,
            id: m.id(),
            file: set.dir.join(&m.file_name),
            line: 1,
            ..Outcome::default()
        };
        let stop = test_one(set, m, &migrator, &mut conn, dialect, &mut seeded, &mut o);
        if format == TestFormat::Text {
            print_text(&o);
        }
        outcomes.push(o);
        if stop {
            break;
        }
    }
    let failed = outcomes.iter().filter(|o| !o.failures.is_empty()).count();
    let passed = outcomes
        .iter()
        .filter(|o| o.tested && o.failures.is_empty())
        .count();
    let untested = set.len() - passed - failed;
    let ok = failed == 0 && untested == 0;
    match format {
        TestFormat::Text => {}
        TestFormat::Json => println!("{}", to_json(dialect, &outcomes, untested, ok)),
        TestFormat::Github => {
            for o in &outcomes {
                for f in &o.failures {
                    println!(
                        "::error file={},line={}::{}",
                        o.file.display(),
                        o.line,
                        escape(&format!("{}: {f}", o.id))
                    );
                }
                for w in &o.warnings {
                    println!(
                        "::warning file={},line=1::{}",
                        o.file.display(),
                        escape(&format!("{}: {w}", o.id))
                    );
                }
            }
        }
    }
    if format != TestFormat::Json {
        let summary = format!(
            "{} migration(s): {passed} passed, {failed} failed, {untested} not tested",
            set.len()
        );
        let role = if ok { Role::Good } else { Role::Bad };
        println!("{}", style::out(role, &summary));
    }
    drop(conn);
    drop(scratch);
    Ok(if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// Tests migration `m`; returns true when the run must stop.
fn test_one(
    set: &MigrationSet,
    m: &Migration,
    migrator: &Migrator<'_>,
    conn: &mut AnyConnection,
    dialect: Dialect,
    seeded: &mut Vec<Seeded>,
    o: &mut Outcome,
) -> bool {
    let v = m.version;
    // A migration replaced by a squashed baseline has no steps of its own:
    // it is tested with the baseline.
    if migrator_core::squash::squashed(set).is_some_and(|s| v < s.version) {
        o.warnings
            .push(format!("squashed into `{}`: tested with it", m.file_name));
        o.tested = true;
        return false;
    }
    let before = set.state(v as usize - 1);
    let after = set.state(v as usize);
    if m.has_rust_steps() {
        o.failures.push("has a Rust step, which runs only from the application that defines it with `#[migration]`: test it there (Migrator::with_rust_step on a scratch database); this and later migrations are not tested".into());
        return true;
    }
    // 1. rows in the tables before this migration.
    let (rows, notes) = seed(conn, dialect, &before, v);
    o.seeded = rows.len();
    o.warnings.extend(notes);
    seeded.extend(rows);
    let destructive = m.file.upgrade.iter().any(Operation::is_destructive);
    // What the model does not describe (indexes, views, triggers of raw
    // steps), before the upgrade: the downgrade must put it back.
    let outside_before = match outside(conn, "before up") {
        Ok(o) => o,
        Err(f) => {
            o.failures.push(f);
            return true;
        }
    };
    // 2. up, compare.
    if let Err(e) = on_conn!(&mut *conn, c => migrator.up_to(c, Some(v))) {
        o.failures.push(format!("up failed: {e}"));
        return true;
    }
    if let Some(f) = compare(conn, &after, "after up") {
        o.line = raw_step_line(set, m).unwrap_or(1);
        let raw: Vec<usize> = m
            .file
            .upgrade
            .iter()
            .enumerate()
            .filter(|(_, op)| matches!(op, Operation::Sql(_)))
            .map(|(i, _)| i + 1)
            .collect();
        if raw.is_empty() {
            o.failures.push(f);
        } else {
            let steps: Vec<String> = raw.iter().map(ToString::to_string).collect();
            o.failures.push(format!(
                "{f}\n  the declared `effect` of raw SQL upgrade step(s) {} does not match what the SQL did",
                steps.join(", ")
            ));
        }
        return true;
    }
    let outside_after = match outside(conn, "after up") {
        Ok(o) => o,
        Err(f) => {
            o.failures.push(f);
            return true;
        }
    };
    let lost_up = lost(conn, dialect, seeded, &after);
    if !lost_up.is_empty() {
        let text = format!(
            "after up, {} seeded value(s) changed or are gone: {}",
            lost_up.len(),
            lost_up.join("; ")
        );
        if destructive {
            o.warnings.push(text);
        } else {
            o.failures.push(text);
            return true;
        }
    }
    // 3. down, compare, rows back. A squashed baseline rolls back whole
    // (the migrations it replaces have no steps: the schema before it is
    // the empty one either way).
    let back_to = match migrator_core::squash::squashed(set) {
        Some(s) if s.version == v => 0,
        _ => v - 1,
    };
    if let Err(e) = on_conn!(&mut *conn, c => migrator.down_to(c, back_to)) {
        o.failures
            .push(format!("down failed on a table with rows: {e}"));
        return true;
    }
    if let Some(f) = compare(
        conn,
        &before,
        "after down (the downgrade does not restore the schema before it)",
    ) {
        o.failures.push(f);
        return true;
    }
    if let Some(f) = outside_differs(
        conn,
        &outside_before,
        "after down, what the model does not describe is not as before the upgrade (a raw step's reverse, or the downgrade, does not undo it)",
    ) {
        o.failures.push(f);
        return true;
    }
    let lost_down = lost(conn, dialect, seeded, &before);
    if !lost_down.is_empty() {
        let text = format!(
            "down did not restore {} seeded value(s): {}",
            lost_down.len(),
            lost_down.join("; ")
        );
        if destructive {
            o.warnings
                .push(format!("{text} (a destructive step: its data is gone)"));
        } else {
            o.failures.push(text);
            return true;
        }
    }
    // 4. up again.
    if let Err(e) = on_conn!(&mut *conn, c => migrator.up_to(c, Some(v))) {
        o.failures.push(format!("up after down failed: {e}"));
        return true;
    }
    if let Some(f) = compare(conn, &after, "after up, down and up again") {
        o.failures.push(f);
        return true;
    }
    if let Some(f) = outside_differs(
        conn,
        &outside_after,
        "after up, down and up again, what the model does not describe is not as after the first up",
    ) {
        o.failures.push(f);
        return true;
    }
    o.tested = true;
    false
}

/// The objects outside the model (`migrator verify`'s "outside" list, with
/// their definitions), or the failure to read them.
fn outside(
    conn: &mut AnyConnection,
    when: &str,
) -> Result<Vec<migrator_core::introspect::Outside>, String> {
    use migrator_core::introspect::Introspect;
    conn.introspect()
        .map(|i| i.outside)
        .map_err(|e| format!("{when}: reading the database back failed: {e}"))
}

/// How the objects outside the model differ from `expected`, as one
/// message, or `None` when they do not.
fn outside_differs(
    conn: &mut AnyConnection,
    expected: &[migrator_core::introspect::Outside],
    when: &str,
) -> Option<String> {
    let now = match outside(conn, when) {
        Ok(now) => now,
        Err(f) => return Some(f),
    };
    let changes = migrator_core::introspect::outside_changes(expected, &now);
    if changes.is_empty() {
        return None;
    }
    let mut s = format!("{when}:");
    for c in changes {
        let _ = write!(s, "\n  {c}");
    }
    Some(s)
}

/// The drift between the live database and `expected`, as one message.
fn compare(conn: &mut AnyConnection, expected: &Schema, when: &str) -> Option<String> {
    match migrator_core::introspect::verify(conn, expected) {
        Err(e) => Some(format!("{when}: reading the database back failed: {e}")),
        Ok(v) if v.is_clean() => None,
        Ok(v) => {
            let mut s = format!("{when}: the database differs from the migrations' schema:");
            for d in &v.drift {
                let _ = write!(s, "\n  {d}");
            }
            Some(s)
        }
    }
}

/// The line of the first raw SQL upgrade step in the migration's file.
fn raw_step_line(set: &MigrationSet, m: &Migration) -> Option<usize> {
    let first = m
        .file
        .upgrade
        .iter()
        .position(|op| matches!(op, Operation::Sql(_)))?;
    let text = std::fs::read_to_string(set.dir.join(&m.file_name)).ok()?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| l.trim() == "[[upgrade]]")
        .nth(first)
        .map(|(i, _)| i + 1)
}

fn print_text(o: &Outcome) {
    let (tag, role) = if !o.failures.is_empty() {
        ("FAIL", Role::Bad)
    } else if !o.warnings.is_empty() {
        ("warn", Role::Warn)
    } else {
        ("ok  ", Role::Good)
    };
    let detail = if o.failures.is_empty() {
        format!(
            "up, down, up: the schema matched each time; {} row(s) seeded before it",
            o.seeded
        )
    } else {
        String::new()
    };
    let head = format!("{} {:<40} {detail}", style::out(role, tag), o.id);
    println!("{}", head.trim_end());
    for f in &o.failures {
        let f = f.replace('\n', "\n       ");
        println!("       {} {f}", style::out(Role::Bad, "error:"));
    }
    for w in &o.warnings {
        let w = w.replace('\n', "\n       ");
        println!("       {} {w}", style::out(Role::Warn, "warning:"));
    }
}

fn to_json(d: Dialect, outcomes: &[Outcome], untested: usize, ok: bool) -> String {
    let list = |v: &[String]| {
        let items: Vec<String> = v.iter().map(|s| json_string(s)).collect();
        format!("[{}]", items.join(","))
    };
    let items: Vec<String> = outcomes
        .iter()
        .map(|o| {
            format!(
                "{{\"version\":{},\"id\":{},\"file\":{},\"line\":{},\"passed\":{},\"seeded\":{},\"failures\":{},\"warnings\":{}}}",
                o.version,
                json_string(&o.id),
                json_string(&o.file.display().to_string()),
                o.line,
                o.tested && o.failures.is_empty(),
                o.seeded,
                list(&o.failures),
                list(&o.warnings)
            )
        })
        .collect();
    format!(
        "{{\"dialect\":\"{d}\",\"migrations\":[{}],\"not_tested\":{untested},\"ok\":{ok}}}",
        items.join(",")
    )
}

/// A GitHub workflow command's message: `%`, CR and LF encoded.
fn escape(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}
