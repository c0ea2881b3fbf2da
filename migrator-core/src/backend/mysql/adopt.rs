//! MySQL/MariaDB objects outside the model, recreated by an adopted
//! baseline (`init --from-database`) as raw SQL steps.

use crate::adopt::Phase;
use crate::dialect::Dialect;
use crate::introspect::{Outside, OutsideKind};

/// The forward and reverse SQL of a dumpable object, and where it goes.
pub(crate) fn dump(o: &Outside) -> Result<(Phase, String, String), String> {
    use OutsideKind as K;
    let def = o.definition.as_deref().map(str::trim);
    let q = |n: &str| Dialect::Mysql.ident(n);
    let need = || def.ok_or_else(|| "the database did not print its definition".to_string());
    let out = match o.kind {
        K::View => (
            Phase::After(0),
            format!("CREATE OR REPLACE VIEW {} AS {}", q(&o.name), need()?),
            format!("DROP VIEW IF EXISTS {}", q(&o.name)),
        ),
        K::Trigger | K::Function | K::Procedure => {
            let what = match o.kind {
                K::Trigger => "TRIGGER",
                K::Function => "FUNCTION",
                _ => "PROCEDURE",
            };
            let def = need()?;
            // Only a complete statement is replayed (introspection puts a
            // routine's together from the catalog).
            if !def
                .get(..6)
                .is_some_and(|p| p.eq_ignore_ascii_case("CREATE"))
            {
                return Err(
                    "the database did not print a complete CREATE statement for it; dump it with `mysqldump --routines --no-data` and add it to a migration by hand".into(),
                );
            }
            let name = o.name.strip_suffix("()").unwrap_or(&o.name);
            (
                if o.kind == K::Trigger {
                    Phase::After(1)
                } else {
                    Phase::Before(2)
                },
                def.to_string(),
                format!("DROP {what} IF EXISTS {}", q(name)),
            )
        }
        // Indexes the model cannot express (FULLTEXT, SPATIAL, over column
        // prefixes or expressions): their CREATE INDEX as introspection
        // printed it, after the tables.
        K::FulltextIndex | K::SpatialIndex | K::PartialIndex | K::ExpressionIndex => {
            let table = o
                .table
                .as_deref()
                .ok_or_else(|| "its table is not known".to_string())?;
            (
                Phase::After(1),
                need()?.to_string(),
                format!("DROP INDEX {} ON {}", q(&o.name), q(table)),
            )
        }
        // After the tables (the columns it reads exist), as the table's
        // last column. No `IF [NOT] EXISTS`: MySQL 8 has neither for
        // columns, and a baseline runs on an empty database.
        K::GeneratedColumn => {
            let table = o
                .table
                .as_deref()
                .ok_or_else(|| "its table is not known".to_string())?;
            (
                Phase::After(1),
                format!(
                    "ALTER TABLE {} ADD COLUMN {} {}",
                    q(table),
                    q(&o.name),
                    need()?
                ),
                format!("ALTER TABLE {} DROP COLUMN {}", q(table), q(&o.name)),
            )
        }
        _ => return Err("migrator cannot recreate this kind of object".into()),
    };
    Ok(out)
}
