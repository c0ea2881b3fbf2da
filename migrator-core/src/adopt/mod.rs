//! Adopting an existing database (`migrator init --from-database`).
//!
//! Contract: [`adopt`] turns what introspection read ([`Introspected`], of
//! any dialect) into everything a project needs to manage that database
//! from now on, and writes nothing itself:
//!
//! - model sources ([`models::write_models`]), checked here to parse back
//!   (with the project's own parser) into exactly the introspected tables;
//! - the baseline migration `0001_baseline.toml`: the typed operations the
//!   diff engine plans from an empty schema to the introspected one,
//!   framed by raw SQL steps for the objects outside the model that can be
//!   dumped (extensions, enum and domain types, free sequences and
//!   functions before the tables; views, triggers, rules, partial and
//!   expression indexes and exclusion constraints after), each with its
//!   reverse, so the downgrade drops everything in reverse order;
//! - the snapshot `schema.toml` with that one migration;
//! - a report: tables adopted, objects dumped as raw SQL, objects not
//!   adopted (with why) and introspection's notes.
//!
//! The caller records the baseline as applied on the source database
//! (`runner::Migrator::baseline`) instead of running it.

pub mod models;

use crate::dialect::{render_ops, Dialect};
use crate::diff::{diff, Hints};
use crate::introspect::{Introspected, Outside};
use crate::migration::{self, downgrade_for, MigrationFile};
use crate::model::parse_source;
use crate::ops::{replay, Operation, RawSql, SqlVariants};
use crate::schema::Schema;
use crate::snapshot::{empty_chain, extend_chain, file_entry, Snapshot};

pub use models::{write_models, ModelFile};

/// The file name of the baseline migration.
pub const BASELINE_FILE: &str = "0001_baseline.toml";

/// Everything `init --from-database` writes, and what it tells the user.
#[derive(Debug, Clone)]
pub struct Adoption {
    /// Model sources, paths relative to the models folder.
    pub models: Vec<ModelFile>,
    pub migration: MigrationFile,
    pub migration_text: String,
    pub snapshot_text: String,
    /// The adopted tables, by name.
    pub tables: Vec<String>,
    /// Objects outside the model put into the baseline as raw SQL.
    pub dumped: Vec<String>,
    /// Objects outside the model that are not in the baseline, with why.
    pub not_adopted: Vec<String>,
    /// Introspection's notes (approximations).
    pub notes: Vec<String>,
    /// The adopted schema (the snapshot's).
    pub schema: Schema,
}

/// Why a database cannot be adopted.
#[derive(Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AdoptError {
    #[error("the database has no tables to adopt\nhelp: run `migrator init` for a new project")]
    Empty,
    #[error("cannot adopt table `{table}`: {why}")]
    Table { table: String, why: String },
    #[error("internal error: {0}; please report this with the database's schema")]
    Internal(String),
}

/// Where a raw SQL step goes in the baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Phase {
    /// Extensions, then types and sequences, then functions.
    Before(u8),
    /// Views, then triggers and the rest.
    After(u8),
}

/// The forward and reverse SQL of a dumpable object, and where it goes
/// (each database's objects: `backend/<database>/adopt.rs`).
fn dump(dialect: Dialect, o: &Outside) -> Result<(Phase, String, String), String> {
    dialect.backend().dump_outside(o)
}

/// `CREATE X name` -> `CREATE X IF NOT EXISTS name` for the first prefix
/// (case-insensitive) that `sql` starts with.
pub(crate) fn if_not_exists(sql: &str, prefixes: &[&str]) -> String {
    for p in prefixes {
        if sql.len() >= p.len() && sql[..p.len()].eq_ignore_ascii_case(p) {
            let rest = &sql[p.len()..];
            if rest
                .trim_start()
                .to_ascii_uppercase()
                .starts_with("IF NOT EXISTS")
            {
                return sql.to_string();
            }
            return format!("{p} IF NOT EXISTS{rest}");
        }
    }
    sql.to_string()
}

/// A raw SQL step for one dialect.
fn raw_step(dialect: Dialect, sql: String, reverse: String) -> Operation {
    let mut step = RawSql::default();
    let mut rev = SqlVariants::default();
    // The variant fields are named as the dialects are (see
    // `RawSql::for_dialect`).
    let (forward, back) = match dialect.name() {
        "postgres" => (&mut step.postgres, &mut rev.postgres),
        "sqlite" => (&mut step.sqlite, &mut rev.sqlite),
        _ => (&mut step.mysql, &mut rev.mysql),
    };
    *forward = Some(sql);
    *back = Some(reverse);
    step.reverse = Some(rev);
    Operation::Sql(step)
}

/// Views in an order where a view comes after the views its definition
/// names (a textual check: good enough for ordering, never for meaning).
fn order_views(
    mut views: Vec<(Phase, String, String, String)>,
) -> Vec<(Phase, String, String, String)> {
    let mut out = Vec::new();
    while !views.is_empty() {
        let names: Vec<String> = views.iter().map(|v| v.3.clone()).collect();
        let pos = views
            .iter()
            .position(|v| {
                names
                    .iter()
                    .filter(|n| **n != v.3)
                    .all(|n| !mentions(&v.1, n))
            })
            .unwrap_or(0);
        out.push(views.remove(pos));
    }
    out
}

/// True when `sql` contains `name` as a whole word.
fn mentions(sql: &str, name: &str) -> bool {
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    sql.match_indices(name).any(|(i, _)| {
        let before = sql[..i].chars().next_back();
        let after = sql[i + name.len()..].chars().next();
        !before.is_some_and(is_word) && !after.is_some_and(is_word)
    })
}

/// The adoption of an introspected database (module docs).
pub fn adopt(db: &Introspected) -> Result<Adoption, AdoptError> {
    let mut schema = db.schema.clone();
    schema.normalize();
    if schema.tables.is_empty() {
        return Err(AdoptError::Empty);
    }
    for t in schema.tables.values() {
        if let Some(problem) = crate::model::attr_name_problem(&t.name) {
            return Err(AdoptError::Table {
                table: t.name.clone(),
                why: format!("its name cannot be modelled: {problem}"),
            });
        }
        for c in &t.columns {
            if let Some(problem) = crate::model::attr_name_problem(&c.name) {
                return Err(AdoptError::Table {
                    table: t.name.clone(),
                    why: format!(
                        "the name of column `{}` cannot be modelled: {problem}",
                        c.name
                    ),
                });
            }
        }
        for name in t.object_names() {
            if let Some(problem) = crate::model::attr_name_problem(name) {
                return Err(AdoptError::Table {
                    table: t.name.clone(),
                    why: format!(
                        "the name of its index or constraint `{name}` cannot be modelled: {problem}\nhelp: rename it in the database first (`ALTER INDEX .. RENAME TO ..` or `ALTER TABLE .. RENAME CONSTRAINT ..` on PostgreSQL, `ALTER TABLE .. RENAME INDEX ..` on MySQL), then adopt again"
                    ),
                });
            }
        }
        if let Some(why) = models::unwritable(t) {
            return Err(AdoptError::Table {
                table: t.name.clone(),
                why,
            });
        }
    }

    // Models, read back by the project's own parser.
    let files = write_models(&schema);
    let mut parsed = Schema::new();
    for f in files.iter().filter(|f| f.path != "mod.rs") {
        let defs = parse_source(std::path::Path::new(&f.path), &f.text).map_err(|errors| {
            AdoptError::Internal(format!(
                "the written model {} does not parse: {}",
                f.path,
                errors
                    .iter()
                    .map(|e| e.to_string())
                    .collect::<Vec<_>>()
                    .join("; ")
            ))
        })?;
        for d in defs {
            parsed.insert(d.table);
        }
    }
    parsed.normalize();
    if parsed != schema {
        let differing: Vec<&String> = schema
            .tables
            .keys()
            .filter(|k| parsed.tables.get(*k) != schema.tables.get(*k))
            .collect();
        return Err(AdoptError::Internal(format!(
            "the written models do not read back as the database's tables ({})",
            differing
                .iter()
                .map(|s| format!("`{s}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }

    // Objects outside the model.
    let mut dumped = Vec::new();
    let mut not_adopted = Vec::new();
    let mut before = Vec::new();
    let mut views = Vec::new();
    let mut after = Vec::new();
    for o in db.outside.iter().chain(&db.elsewhere) {
        match dump(db.dialect, o) {
            Ok((phase, sql, reverse)) => {
                dumped.push(o.to_string());
                let item = (phase, sql, reverse, o.name.clone());
                match phase {
                    Phase::Before(_) => before.push(item),
                    Phase::After(0) => views.push(item),
                    Phase::After(_) => after.push(item),
                }
            }
            Err(why) => not_adopted.push(format!("{o}: {why}")),
        }
    }
    // Stable sort: by phase, keeping introspection's order within one.
    before.sort_by_key(|i| i.0);
    after.sort_by_key(|i| i.0);

    let plan = diff(&Schema::new(), &schema, &Hints::default())
        .map_err(|e| AdoptError::Internal(format!("planning the baseline: {e}")))?;
    let mut upgrade = Vec::new();
    for (_, sql, rev, _) in before {
        upgrade.push(raw_step(db.dialect, sql, rev));
    }
    upgrade.extend(plan.upgrade);
    for (_, sql, rev, _) in order_views(views).into_iter().chain(after) {
        upgrade.push(raw_step(db.dialect, sql, rev));
    }
    let downgrade = downgrade_for(&upgrade);

    // The plan must reach the schema and its downgrade come back to empty,
    // and render for the database's dialect, before anything is written.
    let reached = replay(&Schema::new(), &upgrade)
        .map_err(|e| AdoptError::Internal(format!("the baseline does not replay: {e}")))?;
    let back = replay(&reached, &downgrade).map_err(|e| {
        AdoptError::Internal(format!("the baseline's downgrade does not replay: {e}"))
    })?;
    if reached != schema || !back.tables.is_empty() {
        return Err(AdoptError::Internal(
            "the baseline does not reach the database's schema or its downgrade does not empty it"
                .into(),
        ));
    }
    render_ops(db.dialect, &upgrade, &Schema::new())
        .map_err(|e| AdoptError::Internal(format!("rendering the baseline: {e}")))?;

    let migration = MigrationFile {
        generated_by: Some(format!("migrator {}", env!("CARGO_PKG_VERSION"))),
        ..MigrationFile::new("baseline", upgrade, downgrade)
    };
    let migration_text = migration.to_text(&format!(
        "{BASELINE_FILE}: the schema of an existing {} database, adopted by `migrator init --from-database`.\nIt is recorded as applied there; on an empty database it creates everything. Never edit it: write a new migration instead.",
        db.dialect
    ));
    let checksum = migration::checksum(&migration_text);
    let snapshot_text = Snapshot {
        head: 1,
        chain: extend_chain(&empty_chain(), 1, &checksum),
        files: vec![file_entry(&checksum, BASELINE_FILE)],
        schema: schema.clone(),
    }
    .to_text();

    Ok(Adoption {
        models: files,
        migration,
        migration_text,
        snapshot_text,
        tables: schema.tables.keys().cloned().collect(),
        dumped,
        not_adopted,
        notes: db.notes.clone(),
        schema,
    })
}

debug_as_display!(AdoptError);

#[cfg(test)]
mod tests;
