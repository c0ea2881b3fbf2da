//! MySQL/MariaDB online DDL: which ALGORITHM clause a change gets, and why
//! a change can only copy the table (for the renderer and the lint).

use super::column_type;
use super::guards::constraint_query;
use super::D;
use crate::backend::common;
use crate::dialect::Statement;
use crate::ops::Operation;
use crate::schema::{ColumnType, DefaultValue, ForeignKey, Schema};

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
        // A key with a RESTRICT rule keeps the plain form
        // (`render.rs`), which copies.
        AddForeignKey { table, foreign_key }
            if before.table(table).is_some()
                && [foreign_key.on_delete, foreign_key.on_update]
                    .contains(&crate::schema::RefAction::Restrict) =>
        {
            Some("a new foreign key with a RESTRICT rule is checked against every row by copying the table (write NO ACTION, the same rule in InnoDB, to have it added in place)".into())
        }
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

/// A foreign key added to `table` while reads and writes go on.
///
/// With `foreign_key_checks` on, InnoDB can only add a foreign key by
/// copying the table, writes waiting for the whole copy. With it off, the
/// key is added in place (`ALGORITHM=INPLACE, LOCK=NONE`, its index built
/// online when none covers the columns), but the existing rows are not
/// checked. So the rows are checked by a query instead, which takes no lock
/// writers wait for:
/// 1. before: a row that references nothing refuses the migration before
///    anything changes (`dialect/prechecks.rs`, on every database);
/// 2. the key, added with the checks off for that statement only (the
///    session's value is kept in `@migrator_fkc` and put back, and the
///    runner puts the session's own value back when the run ends, so a try
///    that failed halfway leaves nothing off);
/// 3. after: rows written between the first check and the key (the only
///    window without either) are checked again; the key checks every later
///    write itself. A row found there stops the migration after the key,
///    recorded, and `up` checks again once the rows are fixed.
pub(super) fn add_foreign_key(table: &str, fk: &ForeignKey) -> Vec<Statement> {
    let q = |n: &str| D.ident(n);
    let exists = constraint_query(table, &fk.name, "FOREIGN KEY");
    let orphans = orphans_query(table, fk);
    let what = format!(
        "foreign key `{}` ({} -> `{}`)",
        fk.name,
        common::key_columns(table, fk),
        fk.ref_table
    );
    let add = Statement::new(format!(
        "SET @migrator_fkc = COALESCE(@migrator_fkc, @@SESSION.foreign_key_checks), SESSION foreign_key_checks = 0; \
         ALTER TABLE {} ADD {}{ONLINE}; \
         SET SESSION foreign_key_checks = @migrator_fkc, @migrator_fkc = NULL",
        q(table),
        common::foreign_key_clause(D, fk)
    ))
    .skip_if(exists);
    let mut after = Statement::refuse_when_rows(orphans);
    after.refusal = Some(format!(
        "{what} was added, and rows written while it was being added reference no row of `{}`\n  help: delete or fix them, then run `migrator up` again: the check runs again",
        fk.ref_table
    ));
    after.after_change = true;
    vec![add, after]
}

/// One row (`s`: how many) when rows of `table` reference no row of the
/// key's table (`common::orphan_rows`).
fn orphans_query(table: &str, fk: &ForeignKey) -> String {
    format!(
        "SELECT CONCAT(COUNT(*), {}) AS s {} HAVING COUNT(*) > 0",
        D.string(&format!(" row(s) of `{table}`")),
        common::orphan_rows(D, table, fk)
    )
}
