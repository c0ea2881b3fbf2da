//! The commands that read the migrations and print what they say: `sql`
//! (the statements as a script), `lint` and `diagram`, with the helpers
//! that print SQL and lint findings.

use std::path::Path;
use std::process::ExitCode;

use migrator_core::dialect::Dialect;
use migrator_core::migration::Direction;
use migrator_core::ops::Operation;

use super::db::Database;
use super::project::url_dialect;
use super::{emit, open, CmdResult};
use crate::args::{DiagramFormat, DialectArg};
use crate::error::CliError;
use crate::style::{self, Role};

pub(super) fn sql(
    dir: &Path,
    version: Option<u32>,
    dialect: Option<DialectArg>,
    database: &Database,
    down: bool,
) -> CmdResult {
    let project = open(dir)?;
    let dialect = dialect.map_or_else(|| url_dialect(&database.url), Dialect::from);
    let set = project.migrations()?;
    let versions: Vec<u32> = match version {
        Some(v) => {
            if set.get(v).is_none() {
                return Err(CliError::Message(format!(
                    "there is no migration {v:04} (the newest is {:04})",
                    set.head()
                )));
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
            .ok_or(migrator_core::migration::RenderFailure::NoSuchMigration(v))?;
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
        let rendered = set.render(dialect, v, direction)?;
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

pub(super) fn lint(dir: &Path, allow: &[String], galera: bool, json: bool) -> CmdResult {
    use migrator_core::lint;
    crate::gate::unknown_rule(allow)?;
    let project = open(dir)?;
    let set = project.migrations()?;
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
pub(super) fn diagram(
    dir: &Path,
    format: DiagramFormat,
    at: Option<u32>,
    change: Option<u32>,
    output: Option<&Path>,
) -> CmdResult {
    use migrator_core::diagram::View;
    let project = open(dir)?;
    let set = project.migrations()?;
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
                return Err(CliError::Usage(format!(
                    "{flag} {v}: there is no migration {v:04}; {known}"
                )));
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
    emit(output, &text)?;
    Ok(ExitCode::SUCCESS)
}

/// A statement or comment block of SQL on stdout, its comment lines dimmed
/// on a coloured terminal.
pub(super) fn print_statement(text: &impl std::fmt::Display) {
    for line in text.to_string().lines() {
        println!("{}", style::sql_line(line));
    }
}

/// A lint finding, its first line (severity, rule, place) coloured by
/// severity on a coloured terminal.
pub(super) fn finding_text(f: &migrator_core::lint::Finding) -> String {
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
