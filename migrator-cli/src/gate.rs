//! `up`'s lint gate: the safety lint's error findings (docs/LINT.md) for the
//! migrations `up` would run stop it before anything runs, unless the
//! migration's own `allow` list, `--allow RULE` or `--allow-lint` accept
//! them.

use migrator_core::runner::{AnyConnection, Migrator, RunError};

/// `up`'s lint gate: the error findings of the migrations `up` would run
/// (a migration's own `allow` list and `--allow RULE` accept them), printed
/// on stderr; true when there is one, and `up` then runs nothing.
pub fn lint_refuses(
    m: &Migrator<'_>,
    db: &mut AnyConnection,
    to: Option<u32>,
    allow: &[String],
) -> Result<bool, RunError> {
    use migrator_core::lint::Severity;
    let plan = on_conn!(db, c => m.dry_run_up(c, to))?;
    let errors: Vec<_> = plan
        .findings
        .iter()
        .filter(|f| f.rule.severity == Severity::Error && !allow.iter().any(|a| a == f.rule.name))
        .collect();
    if errors.is_empty() {
        return Ok(false);
    }
    for f in &errors {
        eprintln!("lint: {f}");
    }
    eprintln!(
        "{} `up` refused: {} lint error(s) in the migrations it would run; nothing was applied\nhelp: fix them, accept a rule in the migration (`allow = [\"RULE\"]`) or for this run (`--allow RULE`), or run whatever the lint finds with `--allow-lint`",
        crate::style::error_prefix(),
        errors.len()
    );
    Ok(true)
}

/// A usage error (exit 2) naming the valid rules when `allow` has a name
/// that is none.
pub fn unknown_rule(allow: &[String]) -> Result<(), crate::error::CliError> {
    use migrator_core::lint;
    let Some(unknown) = allow.iter().find(|a| lint::rule(a).is_none()) else {
        return Ok(());
    };
    let names: Vec<&str> = lint::RULES.iter().map(|r| r.name).collect();
    Err(crate::error::CliError::Usage(format!(
        "unknown lint rule `{unknown}` in `--allow`\nhelp: the rules are {}",
        names.join(", ")
    )))
}
