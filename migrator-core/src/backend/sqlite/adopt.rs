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
        // After the tables, as the table's last column. SQLite adds only a
        // VIRTUAL generated column to an existing table (a STORED one would
        // have to be in its CREATE TABLE).
        K::GeneratedColumn => {
            let table = o
                .table
                .as_deref()
                .ok_or_else(|| "its table is not known".to_string())?;
            let def = need()?;
            let stored = crate::introspect::normalize::tokenize(def)
                .last()
                .is_some_and(|t| t.is_word("STORED"));
            if stored {
                return Err("it is STORED, and SQLite adds only VIRTUAL generated columns to an existing table; make it VIRTUAL, or add it to the table's CREATE TABLE in a raw migration".into());
            }
            (
                Phase::After(1),
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
        assert!(matches!(phase, Phase::After(1)));
        assert_eq!(
            up,
            "ALTER TABLE \"lines\" ADD COLUMN \"total\" INTEGER GENERATED ALWAYS AS (qty * price) VIRTUAL"
        );
        assert_eq!(down, "ALTER TABLE \"lines\" DROP COLUMN \"total\"");
        // VIRTUAL is the default.
        assert!(dump(&generated("INTEGER AS (qty * price)")).is_ok());
    }

    #[test]
    fn a_stored_generated_column_is_refused_with_the_reason() {
        let e = dump(&generated(
            "INTEGER GENERATED ALWAYS AS (qty * price) STORED",
        ))
        .expect_err("refused");
        assert!(
            e.starts_with("it is STORED, and SQLite adds only VIRTUAL"),
            "{e}"
        );
    }
}
