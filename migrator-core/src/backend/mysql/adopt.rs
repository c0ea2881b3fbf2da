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
        K::Trigger | K::Function => {
            let what = if o.kind == K::Trigger {
                "TRIGGER"
            } else {
                "FUNCTION"
            };
            let def = need()?;
            // information_schema gives a routine's body, not its CREATE
            // statement (parameters, return type and characteristics are
            // elsewhere): only a complete statement is replayed.
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
