//! PostgreSQL's SQL for `generate`'s expand/contract form (`expand.rs`):
//! the trigger that keeps an old and a new column in step while two
//! versions of an application run, and the casts between their types.

use crate::dialect::Dialect;
use crate::schema::ColumnType;

fn q(s: &str) -> String {
    Dialect::Postgres.ident(s)
}

/// `value` (an expression of type `from`) as a value of type `to`.
/// Between numbers, and between text types, the assignment itself
/// converts (the trigger's `:=`, the backfill's `SET`), and PostgreSQL
/// then refuses a value that does not fit (out of range, too long) instead
/// of cutting it as an explicit `CAST` to `VARCHAR(n)` would; other pairs
/// need the `CAST`.
pub(crate) fn cast(value: String, from: &ColumnType, to: &ColumnType) -> String {
    use ColumnType::*;
    let number = |t: &ColumnType| matches!(t, SmallInt | Integer | BigInt | Real | Double);
    let text = |t: &ColumnType| matches!(t, Text | Varchar(_));
    if from == to || (number(from) && number(to)) || (text(from) && text(to)) {
        value
    } else {
        format!("CAST({value} AS {})", super::render::column_type(to))
    }
}

/// The function and trigger `name` on `table` that keep column `old` (of
/// type `old_ty`) and `new` in step: an insert fills whichever column the
/// writer left NULL, an update copies the column that changed into the
/// other.
pub(crate) fn sync_trigger_sql(
    name: &str,
    table: &str,
    old: &str,
    old_ty: &ColumnType,
    new: &str,
    new_ty: &ColumnType,
) -> String {
    let name = q(name);
    let (old, new) = (q(old), q(new));
    let to_new = cast(format!("NEW.{old}"), old_ty, new_ty);
    let to_old = cast(format!("NEW.{new}"), new_ty, old_ty);
    format!(
        "CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $migrator_expand$\n\
         BEGIN\n\
         \x20 IF TG_OP = 'INSERT' THEN\n\
         \x20   IF NEW.{new} IS NULL THEN NEW.{new} := {to_new}; ELSE NEW.{old} := {to_old}; END IF;\n\
         \x20 ELSIF NEW.{new} IS DISTINCT FROM OLD.{new} THEN NEW.{old} := {to_old};\n\
         \x20 ELSIF NEW.{old} IS DISTINCT FROM OLD.{old} THEN NEW.{new} := {to_new};\n\
         \x20 END IF;\n\
         \x20 RETURN NEW;\n\
         END\n\
         $migrator_expand$;\n\
         CREATE TRIGGER {name} BEFORE INSERT OR UPDATE ON {table} FOR EACH ROW EXECUTE FUNCTION {name}();",
        table = q(table),
    )
}

/// Drops the trigger and function of [`sync_trigger_sql`].
pub(crate) fn drop_sync_trigger_sql(name: &str, table: &str) -> String {
    let name = q(name);
    format!(
        "DROP TRIGGER IF EXISTS {name} ON {};\nDROP FUNCTION IF EXISTS {name}();",
        q(table)
    )
}
