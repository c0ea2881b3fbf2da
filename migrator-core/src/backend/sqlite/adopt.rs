//! SQLite objects outside the model, recreated by an adopted
//! baseline (`init --from-database`) as raw SQL steps.

use crate::adopt::{if_not_exists, Phase};
use crate::dialect::Dialect;
use crate::introspect::{Outside, OutsideKind};

/// The forward and reverse SQL of a dumpable object, and where it goes.
pub(crate) fn dump(o: &Outside) -> Result<(Phase, String, String), String> {
    use OutsideKind as K;
    let def = o.definition.as_deref().map(str::trim);
    let q = |n: &str| Dialect::Sqlite.ident(n);
    let need = || def.ok_or_else(|| "the database did not print its definition".to_string());
    let out = match o.kind {
        K::View => (
            Phase::After(0),
            if_not_exists(need()?, &["CREATE VIEW"]),
            format!("DROP VIEW IF EXISTS {}", q(&o.name)),
        ),
        K::Trigger => (
            Phase::After(1),
            if_not_exists(need()?, &["CREATE TEMP TRIGGER", "CREATE TRIGGER"]),
            format!("DROP TRIGGER IF EXISTS {}", q(&o.name)),
        ),
        K::PartialIndex | K::ExpressionIndex | K::SpecialIndex => (
            Phase::After(1),
            if_not_exists(need()?, &["CREATE UNIQUE INDEX", "CREATE INDEX"]),
            format!("DROP INDEX IF EXISTS {}", q(&o.name)),
        ),
        K::VirtualTable => (
            Phase::Before(2),
            if_not_exists(need()?, &["CREATE VIRTUAL TABLE"]),
            format!("DROP TABLE IF EXISTS {}", q(&o.name)),
        ),
        _ => return Err("migrator cannot recreate this kind of object".into()),
    };
    Ok(out)
}
