//! MySQL/MariaDB online DDL: which ALGORITHM clause a change gets, and why
//! a change can only copy the table (for the renderer and the lint).

use super::column_type;
use crate::backend::common;
use crate::ops::Operation;
use crate::schema::{ColumnType, DefaultValue, Schema};

/// Online DDL: the change is made in place while reads and writes go on;
/// where the server cannot, it refuses at once (error 1845/1846) instead
/// of silently copying the table under a write lock.
pub(super) const ONLINE: &str = ", ALGORITHM=INPLACE, LOCK=NONE";
/// A change of metadata only, no rows touched.
pub(super) const INSTANT: &str = ", ALGORITHM=INSTANT";

/// Why MySQL/MariaDB can make `op` only by copying the table
/// (`ALGORITHM=COPY`: every row rewritten while writes wait), or `None`
/// when it is made online. The renderer leaves the ALGORITHM clause out of
/// exactly these, and the lint reports them (`mysql-table-copy`).
pub(crate) fn copy_reason(op: &Operation, before: &Schema) -> Option<String> {
    use Operation::*;
    match op {
        AddColumn { column, .. } => {
            if column.auto_increment {
                Some("adding an AUTO_INCREMENT column fills every row".into())
            } else if matches!(&column.default, Some(DefaultValue::Sql(e))
                if !common::is_keyword_call(e, &["CURRENT_TIMESTAMP", "LOCALTIME", "LOCALTIMESTAMP", "NOW"], true)
                    && !common::is_keyword_call(e, &["NULL"], false))
            {
                Some("a column whose default is an expression is computed for every row".into())
            } else {
                None
            }
        }
        AlterColumn { from, to, .. } => {
            if from.auto_increment != to.auto_increment {
                Some("adding or removing AUTO_INCREMENT rebuilds the column".into())
            } else if from.nullable
                && !to.nullable
                && matches!(&to.default, Some(DefaultValue::Sql(_)))
            {
                // MariaDB: "cannot convert NULL to non-constant DEFAULT".
                Some("making a column NOT NULL whose default is an expression (such as CURRENT_TIMESTAMP) copies the table".into())
            } else if from.ty == to.ty {
                None
            } else {
                match (&from.ty, &to.ty) {
                    // utf8mb4: up to 63 characters fit a one-byte length
                    // prefix; crossing to two bytes copies on MySQL.
                    (ColumnType::Varchar(a), ColumnType::Varchar(b))
                        if b >= a && (*a <= 63) == (*b <= 63) =>
                    {
                        None
                    }
                    _ => Some(format!(
                        "changing the type from {} to {} converts every row",
                        column_type(&from.ty),
                        column_type(&to.ty)
                    )),
                }
            }
        }
        SetPrimaryKey { from, to, .. } if to.is_empty() && !from.is_empty() => {
            Some("dropping the primary key without a new one".into())
        }
        AddForeignKey { table, .. } if before.table(table).is_some() => Some(
            "a new foreign key is checked against every row by copying the table (unless foreign_key_checks is off)".into(),
        ),
        AddCheck { table, .. } if before.table(table).is_some() => {
            Some("a new CHECK constraint is checked against every row by copying the table".into())
        }
        _ => None,
    }
}

/// The ALGORITHM clause of an `ALTER TABLE` for `op`: none where only a
/// copy can do it ([`copy_reason`]).
pub(super) fn algorithm(op: &Operation, before: &Schema) -> &'static str {
    if copy_reason(op, before).is_some() {
        ""
    } else if matches!(op, Operation::AddColumn { .. }) {
        INSTANT
    } else {
        ONLINE
    }
}
