//! SQLite objects outside the model, recreated by an adopted
//! baseline (`init --from-database`) as raw SQL steps.

use crate::adopt::{if_not_exists, Phase};
use crate::dialect::Dialect;
use crate::introspect::{Outside, OutsideKind};

/// The forward and reverse SQL of a dumpable object, and where it goes:
/// after the tables, generated columns first (views and indexes may use
/// them), then views, then triggers and indexes.
pub(crate) fn dump(o: &Outside) -> Result<(Phase, String, String), String> {
    use OutsideKind as K;
    let def = o.definition.as_deref().map(str::trim);
    let q = |n: &str| Dialect::Sqlite.ident(n);
    let need = || def.ok_or_else(|| "the database did not print its definition".to_string());
    let out = match o.kind {
        K::View => (
            Phase::After(1),
            if_not_exists(need()?, &["CREATE VIEW"]),
            format!("DROP VIEW IF EXISTS {}", q(&o.name)),
        ),
        K::Trigger => (
            Phase::After(2),
            if_not_exists(need()?, &["CREATE TEMP TRIGGER", "CREATE TRIGGER"]),
            format!("DROP TRIGGER IF EXISTS {}", q(&o.name)),
        ),
        K::PartialIndex | K::ExpressionIndex | K::SpecialIndex => (
            Phase::After(2),
            if_not_exists(need()?, &["CREATE UNIQUE INDEX", "CREATE INDEX"]),
            format!("DROP INDEX IF EXISTS {}", q(&o.name)),
        ),
        // After the tables, as the table's last column. SQLite adds a
        // STORED generated column only to an empty table, which the
        // baseline's tables are when it runs.
        K::GeneratedColumn => {
            let table = o
                .table
                .as_deref()
                .ok_or_else(|| "its table is not known".to_string())?;
            let def = need()?;
            (
                Phase::After(0),
                format!("ALTER TABLE {} ADD COLUMN {} {def}", q(table), q(&o.name)),
                format!("ALTER TABLE {} DROP COLUMN {}", q(table), q(&o.name)),
            )
        }
        K::VirtualTable => (
            Phase::Before(2),
            if_not_exists(need()?, &["CREATE VIRTUAL TABLE"]),
            format!("DROP TABLE IF EXISTS {}", q(&o.name)),
        ),
        _ => return Err("migrator cannot recreate this kind of object".into()),
    };
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn generated(def: &str) -> Outside {
        Outside {
            kind: OutsideKind::GeneratedColumn,
            name: "total".into(),
            table: Some("lines".into()),
            definition: Some(def.into()),
        }
    }

    #[test]
    fn a_virtual_generated_column_is_added_after_the_table() {
        let (phase, up, down) = dump(&generated(
            "INTEGER GENERATED ALWAYS AS (qty * price) VIRTUAL",
        ))
        .expect("dumped");
        assert!(matches!(phase, Phase::After(0)));
        assert_eq!(
            up,
            "ALTER TABLE \"lines\" ADD COLUMN \"total\" INTEGER GENERATED ALWAYS AS (qty * price) VIRTUAL"
        );
        assert_eq!(down, "ALTER TABLE \"lines\" DROP COLUMN \"total\"");
        // VIRTUAL is the default.
        assert!(dump(&generated("INTEGER AS (qty * price)")).is_ok());
    }

    #[test]
    fn a_stored_generated_column_is_added_too() {
        let (_, up, _) = dump(&generated(
            "INTEGER GENERATED ALWAYS AS (qty * price) STORED",
        ))
        .expect("dumped");
        assert!(up.ends_with("AS (qty * price) STORED"), "{up}");
    }
}
