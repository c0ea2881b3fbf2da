//! Replaying operations on a [`Schema`], refusing what does not fit it (a
//! missing table or column, a name that already exists).

use super::{rename, Operation, ReplayError};
use crate::schema::{Schema, Table};

impl Operation {
    /// Replays this operation on `schema`.
    pub fn apply(&self, schema: &mut Schema) -> Result<(), ReplayError> {
        use Operation::*;
        match self {
            CreateTable { table } => {
                if schema.tables.contains_key(&table.name) {
                    return err(format!("table `{}` already exists", table.name));
                }
                if table.primary_key.is_empty() && table.primary_key_name.is_some() {
                    return err(format!(
                        "table `{}` names a primary key it does not have",
                        table.name
                    ));
                }
                let mut t = table.clone();
                t.normalize();
                schema.insert(t);
            }
            DropTable { table } => {
                if schema.tables.remove(&table.name).is_none() {
                    return err(format!("table `{}` does not exist", table.name));
                }
            }
            RenameTable { from, to } => {
                if schema.tables.contains_key(to) {
                    return err(format!("cannot rename `{from}` to `{to}`: `{to}` exists"));
                }
                let mut t = schema
                    .tables
                    .remove(from)
                    .ok_or_else(|| ReplayError(format!("table `{from}` does not exist")))?;
                t.name = to.clone();
                // Foreign keys elsewhere that pointed at the old name follow it,
                // as they do in every database.
                for other in schema.tables.values_mut() {
                    for fk in &mut other.foreign_keys {
                        if fk.ref_table == *from {
                            fk.ref_table = to.clone();
                        }
                    }
                }
                for fk in &mut t.foreign_keys {
                    if fk.ref_table == *from {
                        fk.ref_table = to.clone();
                    }
                }
                schema.insert(t);
            }
            AddColumn { table, column } => {
                let t = table_mut(schema, table)?;
                if t.column(&column.name).is_some() {
                    return err(format!("column `{table}.{}` already exists", column.name));
                }
                t.columns.push(column.clone());
            }
            DropColumn { table, column } => {
                let t = table_mut(schema, table)?;
                let before = t.columns.len();
                t.columns.retain(|c| c.name != column.name);
                if t.columns.len() == before {
                    return err(format!("column `{table}.{}` does not exist", column.name));
                }
            }
            RenameColumn { table, from, to } => {
                let t = table_mut(schema, table)?;
                if t.column(to).is_some() {
                    return err(format!("cannot rename `{table}.{from}`: `{to}` exists"));
                }
                let c = t.column_mut(from).ok_or_else(|| {
                    ReplayError(format!("column `{table}.{from}` does not exist"))
                })?;
                c.name = to.clone();
                rename_in(&mut t.primary_key, from, to);
                for i in &mut t.indexes {
                    rename_in(&mut i.columns, from, to);
                }
                for u in &mut t.uniques {
                    rename_in(&mut u.columns, from, to);
                }
                for f in &mut t.foreign_keys {
                    rename_in(&mut f.columns, from, to);
                }
                // The databases rewrite the stored expressions that name the
                // column; so does the snapshot.
                for ck in &mut t.checks {
                    ck.expr = rename::rename_identifier(&ck.expr, from, to);
                }
                for col in &mut t.columns {
                    if let Some(crate::schema::DefaultValue::Sql(e)) = &mut col.default {
                        *e = rename::rename_identifier(e, from, to);
                    }
                }
                let tname = table.clone();
                for other in schema.tables.values_mut() {
                    for fk in &mut other.foreign_keys {
                        if fk.ref_table == tname {
                            rename_in(&mut fk.ref_columns, from, to);
                        }
                    }
                }
            }
            AlterColumn { table, from, to } => {
                if from.name != to.name {
                    return err(format!(
                        "alter_column on `{table}` cannot rename `{}` to `{}`; use rename_column",
                        from.name, to.name
                    ));
                }
                let t = table_mut(schema, table)?;
                let c = t.column_mut(&from.name).ok_or_else(|| {
                    ReplayError(format!("column `{table}.{}` does not exist", from.name))
                })?;
                *c = to.clone();
            }
            SetTableComment { table, to, .. } => {
                table_mut(schema, table)?.comment = to.clone();
            }
            SetPrimaryKeyName { table, to, .. } => {
                let t = table_mut(schema, table)?;
                if t.primary_key.is_empty() {
                    return err(format!("table `{table}` has no primary key to name"));
                }
                if let Some(name) = to
                    .as_deref()
                    .filter(|n| t.primary_key_name.as_deref() != Some(n))
                {
                    check_new_name(t, name)?;
                }
                t.primary_key_name = to.clone();
            }
            SetPrimaryKey { table, to, .. } => {
                let t = table_mut(schema, table)?;
                if to.is_empty() && t.primary_key_name.is_some() {
                    return err(format!(
                        "the primary key of `{table}` is dropped while it is named; set its name to the default first (`set_primary_key_name`)"
                    ));
                }
                for c in to {
                    if t.column(c).is_none() {
                        return err(format!("primary key column `{table}.{c}` does not exist"));
                    }
                }
                t.primary_key = to.clone();
            }
            CreateIndex { table, index } => {
                let t = table_mut(schema, table)?;
                check_new_name(t, &index.name)?;
                t.indexes.push(index.clone());
                t.normalize();
            }
            DropIndex { table, index } => {
                let t = table_mut(schema, table)?;
                remove_named(&mut t.indexes, &index.name, |i| &i.name, "index")?;
            }
            AddUnique { table, unique } => {
                let t = table_mut(schema, table)?;
                check_new_name(t, &unique.name)?;
                t.uniques.push(unique.clone());
                t.normalize();
            }
            DropUnique { table, unique } => {
                let t = table_mut(schema, table)?;
                remove_named(
                    &mut t.uniques,
                    &unique.name,
                    |u| &u.name,
                    "unique constraint",
                )?;
            }
            AddForeignKey { table, foreign_key } => {
                let t = table_mut(schema, table)?;
                check_new_name(t, &foreign_key.name)?;
                t.foreign_keys.push(foreign_key.clone());
                t.normalize();
            }
            DropForeignKey { table, foreign_key } => {
                let t = table_mut(schema, table)?;
                remove_named(
                    &mut t.foreign_keys,
                    &foreign_key.name,
                    |f| &f.name,
                    "foreign key",
                )?;
            }
            AddCheck { table, check } => {
                let t = table_mut(schema, table)?;
                check_new_name(t, &check.name)?;
                t.checks.push(check.clone());
                t.normalize();
            }
            DropCheck { table, check } => {
                let t = table_mut(schema, table)?;
                remove_named(&mut t.checks, &check.name, |c| &c.name, "check constraint")?;
            }
            Sql(raw) => {
                for op in &raw.effect {
                    op.apply(schema)?;
                }
            }
            Rust { .. } => {}
            // The archive is not part of the modelled schema.
            Archived(a) => a.step.apply(schema)?,
            // No schema effect; the table must be there.
            Backfill(b) => {
                table_mut(schema, &b.table)?;
            }
        }
        Ok(())
    }
}

/// Replays a list of operations on a copy of `schema`, naming the failing step
/// (1-based) in the error.
pub fn replay(schema: &Schema, ops: &[Operation]) -> Result<Schema, ReplayError> {
    let mut s = schema.clone();
    apply_all(&mut s, ops)?;
    Ok(s)
}

/// [`replay`] in place: `ops` applied to `schema` in order, the error
/// naming the step. On error `schema` holds the steps before it.
pub fn apply_all(schema: &mut Schema, ops: &[Operation]) -> Result<(), ReplayError> {
    for (i, op) in ops.iter().enumerate() {
        op.apply(schema)
            .map_err(|e| ReplayError(format!("step {} ({}): {}", i + 1, op.kind(), e.0)))?;
    }
    Ok(())
}

fn table_mut<'a>(schema: &'a mut Schema, name: &str) -> Result<&'a mut Table, ReplayError> {
    schema
        .tables
        .get_mut(name)
        .ok_or_else(|| ReplayError(format!("table `{name}` does not exist")))
}

fn rename_in(cols: &mut [String], from: &str, to: &str) {
    for c in cols.iter_mut() {
        if c == from {
            *c = to.to_string();
        }
    }
}

fn check_new_name(t: &Table, name: &str) -> Result<(), ReplayError> {
    if t.object_names().any(|n| n == name) {
        return err(format!("`{name}` already exists on table `{}`", t.name));
    }
    Ok(())
}

fn remove_named<T>(
    items: &mut Vec<T>,
    name: &str,
    key: impl Fn(&T) -> &String,
    what: &str,
) -> Result<(), ReplayError> {
    let before = items.len();
    items.retain(|i| key(i) != name);
    if items.len() == before {
        return err(format!("{what} `{name}` does not exist"));
    }
    Ok(())
}

fn err<T>(msg: impl Into<String>) -> Result<T, ReplayError> {
    Err(ReplayError(msg.into()))
}
