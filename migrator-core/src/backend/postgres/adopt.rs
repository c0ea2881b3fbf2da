//! PostgreSQL objects outside the model, recreated by an adopted
//! baseline (`init --from-database`) as raw SQL steps.

use crate::adopt::{if_not_exists, Phase};
use crate::dialect::Dialect;
use crate::introspect::{Outside, OutsideKind};

/// The forward and reverse SQL of a dumpable object, and where it goes.
pub(crate) fn dump(o: &Outside) -> Result<(Phase, String, String), String> {
    use OutsideKind as K;
    let def = o.definition.as_deref().map(str::trim);
    let q = |n: &str| Dialect::Postgres.ident(n);
    let table = || {
        o.table
            .as_deref()
            .ok_or_else(|| "its table is not known".to_string())
    };
    let need = || def.ok_or_else(|| "the database did not print its definition".to_string());
    let out = match o.kind {
        K::Extension => (
            Phase::Before(0),
            format!("CREATE EXTENSION IF NOT EXISTS {}", q(&o.name)),
            format!("DROP EXTENSION IF EXISTS {}", q(&o.name)),
        ),
        K::EnumType | K::DomainType => {
            let what = if o.kind == K::EnumType {
                "TYPE"
            } else {
                "DOMAIN"
            };
            // CREATE TYPE has no IF NOT EXISTS: an existing type is a no-op.
            (
                Phase::Before(1),
                format!(
                    "DO $migrator$ BEGIN {}; EXCEPTION WHEN duplicate_object THEN NULL; END $migrator$",
                    need()?
                ),
                format!("DROP {what} IF EXISTS {}", q(&o.name)),
            )
        }
        K::Sequence => (
            Phase::Before(1),
            def.map(str::to_string)
                .unwrap_or_else(|| format!("CREATE SEQUENCE IF NOT EXISTS {}", q(&o.name))),
            format!("DROP SEQUENCE IF EXISTS {}", q(&o.name)),
        ),
        K::Schema => (
            Phase::Before(0),
            need()?.to_string(),
            // Only once the functions in it are gone; never CASCADE.
            format!("DROP SCHEMA IF EXISTS {}", q(&o.name)),
        ),
        K::OtherSchema => {
            return Err(format!(
            "{} (adoption covers the current schema only; create them with a raw SQL migration)",
            def.unwrap_or("its objects")
        ))
        }
        K::Function => {
            let def = need()?;
            let (fname, args) = o
                .name
                .split_once('(')
                .ok_or_else(|| "its signature is not known".to_string())?;
            // `schema.function` for a function of another schema.
            let quoted = match fname.split_once('.') {
                Some((schema, f)) => format!("{}.{}", q(schema), q(f)),
                None => q(fname),
            };
            let kind = if def.contains("CREATE OR REPLACE PROCEDURE") {
                "PROCEDURE"
            } else {
                "FUNCTION"
            };
            // Bodies that name tables are checked when created; the tables
            // come later in the baseline (pg_dump does the same).
            (
                Phase::Before(2),
                format!("SET LOCAL check_function_bodies = off;\n{def}"),
                format!("DROP {kind} IF EXISTS {quoted}({args}"),
            )
        }
        K::View => (
            Phase::After(0),
            format!("CREATE OR REPLACE VIEW {} AS\n{}", q(&o.name), need()?),
            format!("DROP VIEW IF EXISTS {}", q(&o.name)),
        ),
        K::MaterializedView => (
            Phase::After(0),
            format!(
                "CREATE MATERIALIZED VIEW IF NOT EXISTS {} AS\n{}",
                q(&o.name),
                need()?
            ),
            format!("DROP MATERIALIZED VIEW IF EXISTS {}", q(&o.name)),
        ),
        K::Trigger => (
            Phase::After(1),
            format!(
                "DROP TRIGGER IF EXISTS {0} ON {1};\n{2}",
                q(&o.name),
                q(table()?),
                need()?
            ),
            format!("DROP TRIGGER IF EXISTS {} ON {}", q(&o.name), q(table()?)),
        ),
        K::Rule => (
            Phase::After(1),
            need()?.replacen("CREATE RULE", "CREATE OR REPLACE RULE", 1),
            format!("DROP RULE IF EXISTS {} ON {}", q(&o.name), q(table()?)),
        ),
        K::PartialIndex | K::ExpressionIndex | K::SpecialIndex => (
            Phase::After(1),
            if_not_exists(need()?, &["CREATE UNIQUE INDEX", "CREATE INDEX"]),
            format!("DROP INDEX IF EXISTS {}", q(&o.name)),
        ),
        // `pg_get_statisticsobjdef` qualifies the names with the schema,
        // which a baseline applied to another database of the same layout
        // has too.
        K::Statistics => (
            Phase::After(1),
            if_not_exists(need()?, &["CREATE STATISTICS"]),
            format!("DROP STATISTICS IF EXISTS {}", q(&o.name)),
        ),
        // After the tables (the columns it reads exist), as the table's
        // last column.
        K::GeneratedColumn => (
            Phase::After(1),
            format!(
                "ALTER TABLE {} ADD COLUMN IF NOT EXISTS {} {}",
                q(table()?),
                q(&o.name),
                need()?
            ),
            format!(
                "ALTER TABLE {} DROP COLUMN IF EXISTS {}",
                q(table()?),
                q(&o.name)
            ),
        ),
        K::ExclusionConstraint => (
            Phase::After(1),
            format!(
                "ALTER TABLE {} ADD CONSTRAINT {} {}",
                q(table()?),
                q(&o.name),
                need()?
            ),
            format!(
                "ALTER TABLE {} DROP CONSTRAINT IF EXISTS {}",
                q(table()?),
                q(&o.name)
            ),
        ),
        _ => return Err("migrator cannot recreate this kind of object".into()),
    };
    Ok(out)
}
