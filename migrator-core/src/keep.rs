//! Kept drops: `generate` turns each dropped column and table of a plan into
//! an [`Archived`] step, so the downgrade restores the data and not only the
//! schema (docs/DESIGN.md §5, "Reversible").
//!
//! Contract:
//! - a dropped table, and a dropped column of a table with a primary key that
//!   does not contain it, is archived into `_migrator_archive_<NNNN>_<table>`
//!   (a column: `..._<table>__<column>`), a name that fits every database's
//!   identifier limit (shortened with a hash when it would not); the
//!   matching add of the downgrade restores from the same archive;
//! - a NOT NULL column without a default gets a `fill` for the rows the
//!   archive cannot restore: its type's zero value, stated in the file
//!   (where a type has no obvious one, the warning asks for one);
//! - the plan's warnings say what is kept and where, and what is not.

use crate::diff::Plan;
use crate::ops::{Archived, Operation, ARCHIVE_PREFIX};
use crate::schema::{ColumnType, DefaultValue, Schema};

/// The longest name every target keeps as written (PostgreSQL: 63 bytes).
const MAX_NAME: usize = 63;

/// Wraps the drops of `plan` (migration `version`, starting from `before`)
/// in archived steps, and rewrites their warnings.
pub(crate) fn keep_drops(plan: &mut Plan, version: u32, before: &Schema) {
    let mut notes = Vec::new();
    for i in 0..plan.upgrade.len() {
        let (archive, fill, what) = match &plan.upgrade[i] {
            Operation::DropTable { table } => (
                archive_name(version, &table.name, None),
                None,
                What::Table(table.name.clone()),
            ),
            Operation::DropColumn { table, column } => {
                let keyed = before.table(table).is_some_and(|t| {
                    !t.primary_key.is_empty() && !t.primary_key.contains(&column.name)
                });
                let needs_fill = !column.nullable && column.default.is_none();
                let fill = needs_fill.then(|| zero_value(&column.ty)).flatten();
                if !keyed {
                    notes.push(format!(
                        "column `{table}.{}` is not kept: its table has no primary key to find the rows again; the downgrade re-adds the column without its values{}",
                        column.name,
                        if needs_fill { " (and fails on a table with rows: it is NOT NULL without a default)" } else { "" }
                    ));
                    continue;
                }
                if needs_fill && fill.is_none() {
                    notes.push(format!(
                        "column `{table}.{}` ({}) is NOT NULL without a default: rows the archive does not have need a value in the downgrade; add `fill = ..` to its `archived` steps",
                        column.name, column.ty
                    ));
                }
                (
                    archive_name(version, table, Some(&column.name)),
                    fill,
                    What::Column(table.clone(), column.name.clone()),
                )
            }
            _ => continue,
        };
        let down = plan.downgrade.iter_mut().find(|op| what.restored_by(op));
        let Some(down) = down else { continue };
        *down = wrap(down.clone(), &archive, &fill);
        let up = plan.upgrade[i].clone();
        plan.upgrade[i] = wrap(up, &archive, &fill);
        rewrite_warning(&mut plan.warnings, &what, &archive, &fill);
    }
    plan.warnings.extend(notes);
}

enum What {
    Table(String),
    Column(String, String),
}

impl What {
    fn restored_by(&self, op: &Operation) -> bool {
        match (self, op) {
            (What::Table(t), Operation::CreateTable { table }) => table.name == *t,
            (What::Column(t, c), Operation::AddColumn { table, column }) => {
                table == t && column.name == *c
            }
            _ => false,
        }
    }
}

fn wrap(step: Operation, archive: &str, fill: &Option<DefaultValue>) -> Operation {
    Operation::Archived(Archived {
        archive: archive.to_string(),
        fill: fill.clone(),
        step: Box::new(step),
    })
}

/// Replaces the "deletes its data" warning of a kept drop with what is kept
/// and where (a rename hint after it stays).
fn rewrite_warning(
    warnings: &mut [String],
    what: &What,
    archive: &str,
    fill: &Option<DefaultValue>,
) {
    let (prefix, old, new) = match what {
        What::Table(t) => (
            format!("dropping table `{t}` "),
            "deletes all of its rows; the downgrade recreates the table but not its data",
            format!(
                "keeps its rows in `{archive}` (until `migrator purge`); the downgrade recreates the table with them"
            ),
        ),
        What::Column(t, c) => (
            format!("dropping column `{t}.{c}` "),
            "deletes its data; the downgrade re-adds the column but not its data",
            format!(
                "keeps its values in `{archive}` (until `migrator purge`); the downgrade restores them{}",
                match fill {
                    Some(d) => format!(
                        ", and gives rows it does not have `{}`",
                        crate::ops::default_summary(d)
                    ),
                    None => String::new(),
                }
            ),
        ),
    };
    for w in warnings.iter_mut().filter(|w| w.starts_with(&prefix)) {
        *w = w.replacen(old, &new, 1).replacen(
            " (and fails on a table with rows, since the column is NOT NULL without a default)",
            "",
            1,
        );
    }
}

/// `_migrator_archive_<NNNN>_<table>[__<column>]`, shortened with a hash of
/// the whole name when it is longer than every database keeps.
pub fn archive_name(version: u32, table: &str, column: Option<&str>) -> String {
    let full = match column {
        Some(c) => format!("{ARCHIVE_PREFIX}{version:04}_{table}__{c}"),
        None => format!("{ARCHIVE_PREFIX}{version:04}_{table}"),
    };
    if full.len() <= MAX_NAME {
        return full;
    }
    // FNV-1a: stable across releases and platforms, which a name must be.
    let hash = full.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    let mut cut = MAX_NAME - 9;
    while !full.is_char_boundary(cut) {
        cut -= 1;
    }
    format!("{}_{:08x}", &full[..cut], hash as u32)
}

/// The value a NOT NULL column gets where nothing else is known, by type;
/// `None` where a type has no value that every database reads the same.
fn zero_value(ty: &ColumnType) -> Option<DefaultValue> {
    Some(match ty {
        ColumnType::SmallInt | ColumnType::Integer | ColumnType::BigInt => DefaultValue::Int(0),
        ColumnType::Real | ColumnType::Double => DefaultValue::Float(0.0),
        ColumnType::Boolean => DefaultValue::Bool(false),
        ColumnType::Text | ColumnType::Varchar(_) => DefaultValue::Str(String::new()),
        ColumnType::Date => DefaultValue::Str("1970-01-01".into()),
        ColumnType::Time => DefaultValue::Str("00:00:00".into()),
        ColumnType::Timestamp => DefaultValue::Str("1970-01-01 00:00:00".into()),
        ColumnType::Uuid => DefaultValue::Str("00000000-0000-0000-0000-000000000000".into()),
        ColumnType::TimestampTz | ColumnType::Blob | ColumnType::Json | ColumnType::Custom(_) => {
            return None
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archive_names_fit_and_stay_distinct() {
        assert_eq!(
            archive_name(7, "tasks", Some("is_high_priority")),
            "_migrator_archive_0007_tasks__is_high_priority"
        );
        assert_eq!(
            archive_name(12, "tasks", None),
            "_migrator_archive_0012_tasks"
        );
        let long = "a".repeat(60);
        let a = archive_name(1, &long, Some("x"));
        let b = archive_name(1, &long, Some("y"));
        assert!(a.len() <= MAX_NAME && b.len() <= MAX_NAME, "{a} {b}");
        assert_ne!(a, b);
        assert!(a.starts_with(ARCHIVE_PREFIX));
    }
}
