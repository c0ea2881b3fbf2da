//! Rendering of [`Archived`] steps: drops that keep their data, and the adds
//! that bring it back (docs/DESIGN.md §5, "Reversible").
//!
//! Contract:
//! - a dropped column's values are copied, with the table's primary key, into
//!   an archive table created before the drop; a dropped table's rows are
//!   copied whole. The archive has the columns' types, no default, no
//!   constraint but the primary key, so it takes no name an object of the
//!   model could want (PostgreSQL and SQLite index names are per schema);
//! - the add direction adds the column (a NOT NULL column without a default
//!   is added with the step's `fill` as its default, so it succeeds on a
//!   table with rows), copies the archived values back by primary key, drops
//!   the `fill` default again, and drops the archive; a created table gets
//!   its rows back (and on PostgreSQL its identity sequence moved past
//!   them) before the foreign keys that point at it are added again;
//! - every statement is guarded like the others: the copy is skipped once the
//!   archive holds the values or the source is gone, the restore when the
//!   archive is gone (purged: then only `fill` and the defaults come back);
//! - the SQL that differs per database comes from the backend (guards,
//!   `CREATE TABLE`, types); the statements built here are standard SQL.

use crate::backend::Backend;
use crate::dialect::{Dialect, RenderError, Statement};
use crate::ops::{Archived, Operation};
use crate::schema::{Column, Schema, Table};

/// The statements of an archived step on `dialect`, given the schema before
/// it and the one the migration started from.
pub(super) fn render(
    dialect: Dialect,
    op: &Operation,
    a: &Archived,
    before: &Schema,
    start: &Schema,
) -> Result<Vec<Statement>, RenderError> {
    let b = dialect.backend();
    let fail = |m: String| RenderError::Unsupported {
        op: op.to_string(),
        message: m,
    };
    let table_of = |name: &str| {
        before
            .table(name)
            .ok_or_else(|| fail(format!("table `{name}` does not exist")))
    };
    let inner =
        |step: &Operation, schema: &Schema| super::render_op_in(dialect, step, schema, start);
    match &*a.step {
        Operation::DropColumn { table, column } => {
            let t = table_of(table)?;
            let key = key_of(t, &column.name).map_err(fail)?;
            let mut cols: Vec<Column> = key.iter().map(|c| bare(c, false)).collect();
            cols.push(bare(column, true));
            let archive = archive_table(&a.archive, cols, &t.primary_key);
            let source_gone = format!("NOT EXISTS ({})", b.column_exists_sql(table, &column.name));
            let mut out = copy_into(b, &archive, table, &source_gone).map_err(fail)?;
            let drop = inner(&a.step, before)?;
            // The drop's own checks (what depends on the column) come first,
            // so a refused drop leaves no archive behind on MySQL either.
            let at = drop.iter().take_while(|s| s.refuses).count();
            let mut drop = drop.into_iter();
            let mut all: Vec<Statement> = drop.by_ref().take(at).collect();
            all.append(&mut out);
            all.extend(drop);
            Ok(all)
        }
        Operation::DropTable { table } => {
            let t = table_of(&table.name)?;
            let cols = t.columns.iter().map(|c| bare(c, c.nullable)).collect();
            let archive = archive_table(&a.archive, cols, &t.primary_key);
            let source_gone = format!("NOT EXISTS ({})", b.table_exists_sql(&t.name));
            let mut out = copy_into(b, &archive, &t.name, &source_gone).map_err(fail)?;
            out.extend(inner(&a.step, before)?);
            Ok(out)
        }
        Operation::AddColumn { table, column } => {
            let t = table_of(table)?;
            let key = key_of(t, &column.name).map_err(fail)?;
            let mut added = column.clone();
            if !column.nullable && column.default.is_none() {
                added.default = a.fill.clone();
            }
            let add = Operation::AddColumn {
                table: table.clone(),
                column: added.clone(),
            };
            // Before the column is back: its archive gone means the values
            // cannot come back (said, not refused: the downgrade still
            // restores the schema).
            let mut out = vec![Statement::notice_when_rows(
                b.guard_when(&format!(
                    "NOT EXISTS ({}) AND NOT EXISTS ({})",
                    b.table_exists_sql(&a.archive),
                    b.column_exists_sql(table, &column.name)
                )),
                format!(
                    "`{table}.{}` comes back without its values: its archive `{}` is missing (purged, or never made); {}",
                    column.name,
                    a.archive,
                    match (&column.default, column.nullable, &a.fill) {
                        (Some(_), _, _) => "its rows get the column's default".to_string(),
                        (None, true, _) => "its rows hold NULL".to_string(),
                        (None, false, Some(f)) => format!("its rows get the fill {}", words(f)),
                        (None, false, None) => "its rows get no value".to_string(),
                    }
                ),
            )];
            out.extend(inner(&add, before)?);
            let q = |n: &str| b.ident(n);
            let on = key
                .iter()
                .map(|k| {
                    format!(
                        "{}.{} = {}.{}",
                        q(&a.archive),
                        q(&k.name),
                        q(table),
                        q(&k.name)
                    )
                })
                .collect::<Vec<_>>()
                .join(" AND ");
            out.push(
                Statement::new(format!(
                    "UPDATE {t} SET {c} = (SELECT {a}.{c} FROM {a} WHERE {on}) WHERE EXISTS (SELECT 1 FROM {a} WHERE {on})",
                    t = q(table),
                    c = q(&column.name),
                    a = q(&a.archive),
                ))
                .skip_if(b.guard_when(&format!(
                    "NOT EXISTS ({})",
                    b.table_exists_sql(&a.archive)
                ))),
            );
            if added != *column {
                let mut with = before.clone();
                add.apply(&mut with).map_err(|e| fail(e.0))?;
                let undefault = Operation::AlterColumn {
                    table: table.clone(),
                    from: added,
                    to: column.clone(),
                };
                out.extend(inner(&undefault, &with)?);
            }
            out.push(drop_archive(b, &a.archive));
            Ok(out)
        }
        Operation::CreateTable { table } => {
            let mut out = vec![Statement::notice_when_rows(
                b.guard_when(&format!(
                    "NOT EXISTS ({}) AND NOT EXISTS ({})",
                    b.table_exists_sql(&a.archive),
                    b.table_exists_sql(&table.name)
                )),
                format!(
                    "`{}` comes back empty: its archive `{}` is missing (purged, or never made)",
                    table.name, a.archive
                ),
            )];
            out.extend(inner(&a.step, before)?);
            let q = |n: &str| b.ident(n);
            let cols = column_list(b, &table.columns);
            out.push(
                Statement::new(format!(
                    "INSERT INTO {t} ({cols}) SELECT {cols} FROM {a}",
                    t = q(&table.name),
                    a = q(&a.archive),
                ))
                .skip_if(b.guard_when(&format!(
                    "NOT EXISTS ({}) OR EXISTS (SELECT 1 FROM {})",
                    b.table_exists_sql(&a.archive),
                    q(&table.name)
                ))),
            );
            out.extend(b.after_restore_sql(table).into_iter().map(Statement::new));
            out.push(drop_archive(b, &a.archive));
            Ok(out)
        }
        other => Err(fail(format!(
            "an `archived` step wraps `drop_column`, `drop_table`, `add_column` or `create_table`, not `{}`",
            other.kind()
        ))),
    }
}

/// The columns that find a row again: the primary key, which must exist and
/// must not contain the archived column.
fn key_of<'a>(t: &'a Table, column: &str) -> Result<Vec<&'a Column>, String> {
    if t.primary_key.is_empty() {
        return Err(format!(
            "cannot keep `{}.{column}`: the table has no primary key to find its rows again\nhelp: drop the column without `archived`",
            t.name
        ));
    }
    if t.primary_key.iter().any(|k| k == column) {
        return Err(format!(
            "cannot keep `{}.{column}`: it is part of the primary key\nhelp: drop the column without `archived`",
            t.name
        ));
    }
    t.primary_key
        .iter()
        .map(|k| {
            t.column(k)
                .ok_or_else(|| format!("primary key column `{}.{k}` does not exist", t.name))
        })
        .collect()
}

/// `c` as an archive column: same type, no default, no identity.
fn bare(c: &Column, nullable: bool) -> Column {
    let mut out = Column::new(c.name.clone(), c.ty.clone());
    out.nullable = nullable;
    // The values keep their collation on the way back.
    out.collation = c.collation.clone();
    out
}

fn archive_table(name: &str, columns: Vec<Column>, key: &[String]) -> Table {
    let mut t = Table::new(name);
    t.columns = columns;
    t.primary_key = key.to_vec();
    t
}

/// The archive's creation and the copy of `source`'s rows into it, both
/// skipped when `source_gone` (a condition) holds; the copy also once the
/// archive has rows.
fn copy_into(
    b: &dyn Backend,
    archive: &Table,
    source: &str,
    source_gone: &str,
) -> Result<Vec<Statement>, String> {
    let q = |n: &str| b.ident(n);
    let create = b
        .render(
            &Operation::CreateTable {
                table: archive.clone(),
            },
            &Schema::default(),
            &Schema::default(),
        )
        .map_err(|e| e.to_string())?;
    let gone = b.guard_when(source_gone);
    let mut out: Vec<Statement> = create
        .into_iter()
        .map(|mut s| {
            s.skip_if = Some(match s.skip_if.take() {
                Some(g) => b.guard_when(&format!("EXISTS ({g}) OR {source_gone}")),
                None => gone.clone(),
            });
            s
        })
        .collect();
    let cols = column_list(b, &archive.columns);
    // The guard must not name the archive (it may not exist when the source
    // is gone); the statement itself copies only into an empty archive.
    out.push(
        Statement::new(format!(
            "INSERT INTO {a} ({cols}) SELECT {cols} FROM {s} WHERE NOT EXISTS (SELECT 1 FROM {a})",
            a = q(&archive.name),
            s = q(source),
        ))
        .skip_if(gone),
    );
    Ok(out)
}

/// `"a", "b"`: the columns' names, quoted, for a copy between tables.
fn column_list(b: &dyn Backend, columns: &[Column]) -> String {
    columns
        .iter()
        .map(|c| b.ident(&c.name))
        .collect::<Vec<_>>()
        .join(", ")
}

fn drop_archive(b: &dyn Backend, name: &str) -> Statement {
    Statement::new(format!("DROP TABLE IF EXISTS {}", b.ident(name)))
}

/// A fill or default as a notice says it.
fn words(d: &crate::schema::DefaultValue) -> String {
    use crate::schema::DefaultValue::*;
    match d {
        Int(n) => n.to_string(),
        Float(x) => x.to_string(),
        Bool(b) => b.to_string(),
        Str(s) => format!("'{s}'"),
        Sql(e) => format!("`{e}`"),
    }
}
