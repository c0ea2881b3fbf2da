//! The rows `migrator test` puts into the scratch database before each
//! migration, and the check that they are still there after it: two rows
//! per table, parents first, a literal of each column's type for each
//! value.

use migrator_core::dialect::Dialect;
use migrator_core::runner::AnyConnection;
use migrator_core::schema::{ColumnType, Schema, Table};

/// A row inserted by the test: the table and each column's SQL literal
/// (`None` for NULL).
#[derive(Debug, Clone)]
pub(super) struct Seeded {
    table: String,
    values: Vec<(String, ColumnType, Option<String>)>,
}

/// Two rows per table of `schema`, parents before children. Returns the
/// rows inserted and a note per table that could not be seeded.
pub(super) fn seed(
    conn: &mut AnyConnection,
    d: Dialect,
    schema: &Schema,
    round: u32,
) -> (Vec<Seeded>, Vec<String>) {
    let mut rows = Vec::new();
    let mut notes = Vec::new();
    let mut done: Vec<String> = Vec::new();
    for t in parents_first(schema) {
        let mut ok = true;
        for k in 0..2u64 {
            let n = u64::from(round) * 1000 + k + 1;
            match row_for(d, t, &done, n) {
                Err(why) => {
                    notes.push(format!("table `{}` not seeded: {why}", t.name));
                    ok = false;
                    break;
                }
                Ok(values) => {
                    let cols: Vec<String> = values.iter().map(|(c, _, _)| d.ident(c)).collect();
                    let vals: Vec<String> = values
                        .iter()
                        .map(|(_, _, v)| v.clone().unwrap_or_else(|| "NULL".into()))
                        .collect();
                    let sql = if cols.is_empty() {
                        format!("INSERT INTO {} DEFAULT VALUES", d.ident(&t.name))
                    } else {
                        format!(
                            "INSERT INTO {} ({}) VALUES ({})",
                            d.ident(&t.name),
                            cols.join(", "),
                            vals.join(", ")
                        )
                    };
                    let r = on_conn!(&mut *conn, c => migrator_core::runner::MigrationConnection::execute(c, &sql));
                    if let Err(e) = r {
                        notes.push(format!(
                            "table `{}` not seeded ({e}): its rows are not checked",
                            t.name
                        ));
                        ok = false;
                        break;
                    }
                    rows.push(Seeded {
                        table: t.name.clone(),
                        values,
                    });
                }
            }
        }
        if ok {
            done.push(t.name.clone());
        }
    }
    (rows, notes)
}

/// Tables ordered so that each comes after the tables its foreign keys
/// point at (cycles broken by name order).
fn parents_first(schema: &Schema) -> Vec<&Table> {
    let mut out: Vec<&Table> = Vec::new();
    let mut left: Vec<&Table> = schema.tables.values().collect();
    while !left.is_empty() {
        let ready = left.iter().position(|t| {
            t.foreign_keys.iter().all(|fk| {
                fk.ref_table == t.name
                    || out.iter().any(|o| o.name == fk.ref_table)
                    || !left.iter().any(|l| l.name == fk.ref_table)
            })
        });
        let i = ready.unwrap_or(0);
        out.push(left.remove(i));
    }
    out
}

/// The values of row `n` of `t`: every column without a default, keys and
/// foreign-key columns always (a foreign key takes the value its parent's
/// row `n` has, so it points at a real row).
fn row_for(
    d: Dialect,
    t: &Table,
    seeded_tables: &[String],
    n: u64,
) -> Result<Vec<(String, ColumnType, Option<String>)>, String> {
    let mut out = Vec::new();
    for c in &t.columns {
        let in_key = t.primary_key.contains(&c.name)
            || t.uniques.iter().any(|u| u.columns.contains(&c.name));
        let fk = t
            .foreign_keys
            .iter()
            .find(|fk| fk.columns.contains(&c.name));
        if let Some(fk) = fk {
            let parent_ready = fk.ref_table != t.name && seeded_tables.contains(&fk.ref_table);
            if !parent_ready {
                if c.nullable {
                    out.push((c.name.clone(), c.ty.clone(), None));
                    continue;
                }
                return Err(format!(
                    "column `{}` must point at a row of `{}`, which has none",
                    c.name, fk.ref_table
                ));
            }
        } else if c.default.is_some() && !in_key {
            continue;
        }
        let v = literal(d, &c.ty, n).ok_or_else(|| {
            format!(
                "no sample value for column `{}` of type `{:?}`",
                c.name, c.ty
            )
        })?;
        out.push((c.name.clone(), c.ty.clone(), Some(v)));
    }
    Ok(out)
}

/// A literal of type `ty` for row number `n`, the same for every column of
/// the same type (so a foreign key matches its parent's key).
fn literal(d: Dialect, ty: &ColumnType, n: u64) -> Option<String> {
    let text = |max: Option<u32>| {
        let mut s = format!("v{n}");
        if let Some(m) = max {
            // Keep distinct values in short columns: base 36 of n.
            if s.len() > m as usize {
                s = radix36(n);
                s.truncate(m as usize);
            }
        }
        format!("'{s}'")
    };
    Some(match ty {
        ColumnType::SmallInt => (n % 30_000).to_string(),
        ColumnType::Integer | ColumnType::BigInt => n.to_string(),
        ColumnType::Real | ColumnType::Double => format!("{n}.5"),
        ColumnType::Boolean => match (d, n % 2 == 0) {
            (Dialect::Sqlite, true) => "1".into(),
            (Dialect::Sqlite, false) => "0".into(),
            (_, true) => "TRUE".into(),
            (_, false) => "FALSE".into(),
        },
        ColumnType::Text => text(None),
        ColumnType::Varchar(m) => text(Some(*m)),
        ColumnType::Blob => match d {
            Dialect::Postgres => format!("decode('{:08x}', 'hex')", n),
            _ => format!("X'{:08x}'", n),
        },
        ColumnType::Date => format!("'2024-{:02}-{:02}'", 1 + (n / 28) % 12, 1 + n % 28),
        ColumnType::Time => format!("'12:{:02}:{:02}'", (n / 60) % 60, n % 60),
        ColumnType::Timestamp => format!(
            "'2024-01-01 {:02}:{:02}:{:02}'",
            (n / 3600) % 24,
            (n / 60) % 60,
            n % 60
        ),
        ColumnType::TimestampTz => match d {
            Dialect::Postgres => format!(
                "'2024-01-01 {:02}:{:02}:{:02}+00'",
                (n / 3600) % 24,
                (n / 60) % 60,
                n % 60
            ),
            _ => format!(
                "'2024-01-01 {:02}:{:02}:{:02}'",
                (n / 3600) % 24,
                (n / 60) % 60,
                n % 60
            ),
        },
        ColumnType::Uuid => format!("'00000000-0000-4000-8000-{n:012x}'"),
        ColumnType::Json => format!("'{{\"n\": {n}}}'"),
        ColumnType::Custom(_) => match ty.custom_integer() {
            Some(_) => (n % 100).to_string(),
            None => return None,
        },
        // A type added later: no literal known, the table is not seeded.
        _ => return None,
    })
}

fn radix36(mut n: u64) -> String {
    const DIGITS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::new();
    loop {
        out.push(DIGITS[(n % 36) as usize]);
        n /= 36;
        if n == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// The seeded values that `schema`'s tables no longer hold: for each
/// seeded row of a table that exists, the columns that still exist with a
/// comparable type must match one row.
pub(super) fn lost(
    conn: &mut AnyConnection,
    d: Dialect,
    seeded: &[Seeded],
    schema: &Schema,
) -> Vec<String> {
    let mut out = Vec::new();
    for row in seeded {
        let Some(t) = schema.tables.get(&row.table) else {
            continue;
        };
        let mut conds = Vec::new();
        let mut cols = Vec::new();
        for (name, ty, value) in &row.values {
            let Some(c) = t.columns.iter().find(|c| &c.name == name) else {
                continue;
            };
            // JSON has no equality on every database; a changed type
            // compares differently.
            if matches!(ty, ColumnType::Json) || !comparable(ty, &c.ty) {
                continue;
            }
            cols.push(name.clone());
            conds.push(match value {
                Some(v) => format!("{} = {v}", d.ident(name)),
                None => format!("{} IS NULL", d.ident(name)),
            });
        }
        if conds.is_empty() {
            continue;
        }
        let q = format!(
            "SELECT 1 FROM {} WHERE {}",
            d.ident(&row.table),
            conds.join(" AND ")
        );
        let found = on_conn!(&mut *conn, c => migrator_core::runner::MigrationConnection::count_rows(c, &q));
        match found {
            Ok(n) if n > 0 => {}
            Ok(_) => out.push(format!("a row of `{}` ({})", row.table, cols.join(", "))),
            Err(e) => out.push(format!(
                "a row of `{}` could not be read back: {e}",
                row.table
            )),
        }
    }
    out
}

fn comparable(a: &ColumnType, b: &ColumnType) -> bool {
    use ColumnType::*;
    let class = |t: &ColumnType| match t {
        SmallInt | Integer | BigInt => 1,
        Text | Varchar(_) => 2,
        Real | Double => 3,
        _ => 0,
    };
    a == b || (class(a) != 0 && class(a) == class(b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::shadow::escape;

    #[test]
    fn sample_values_fit_their_columns_and_stay_distinct() {
        let a = literal(Dialect::Postgres, &ColumnType::Varchar(3), 1001).expect("text");
        let b = literal(Dialect::Postgres, &ColumnType::Varchar(3), 1002).expect("text");
        assert!(a.len() <= 5 && b.len() <= 5 && a != b, "{a} {b}");
        assert_eq!(
            literal(Dialect::Sqlite, &ColumnType::BigInt, 7).as_deref(),
            Some("7")
        );
        assert_eq!(
            literal(Dialect::Sqlite, &ColumnType::Boolean, 2).as_deref(),
            Some("1")
        );
        assert!(literal(Dialect::Mysql, &ColumnType::Custom("point".into()), 1).is_none());
        assert_eq!(radix36(36 * 36), "100");
        assert_eq!(escape("a%b\nc"), "a%25b%0Ac");
    }
}
