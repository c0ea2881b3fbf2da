//! Emitting the upgrade, phase by phase (the phases are listed in the
//! module docs of `diff`).
//!
//! Every operation is applied to a running copy of the schema as it is
//! emitted, and operations that carry a definition (a dropped table, a dropped
//! column, the `from` side of an alter) take it from that copy. So each one
//! carries exactly the state it undoes, which is what makes
//! `inverse_all(upgrade)` restore the old schema.

use super::analysis::Analysis;
use super::DiffError;
use crate::ops::Operation;
use crate::schema::{Column, ForeignKey, Schema, Table};

struct Builder {
    cur: Schema,
    ops: Vec<Operation>,
}

impl Builder {
    fn push(&mut self, op: Operation) -> Result<(), DiffError> {
        op.apply(&mut self.cur)
            .map_err(|e| DiffError::Internal(format!("`{op}` does not apply: {}", e.0)))?;
        self.ops.push(op);
        Ok(())
    }

    fn table(&self, name: &str) -> Result<&Table, DiffError> {
        self.cur
            .table(name)
            .ok_or_else(|| DiffError::Internal(format!("table `{name}` is missing mid-plan")))
    }

    fn column(&self, table: &str, name: &str) -> Result<Column, DiffError> {
        self.table(table)?.column(name).cloned().ok_or_else(|| {
            DiffError::Internal(format!("column `{table}.{name}` is missing mid-plan"))
        })
    }

    fn foreign_key(&self, table: &str, name: &str) -> Result<ForeignKey, DiffError> {
        self.table(table)?
            .foreign_keys
            .iter()
            .find(|f| f.name == name)
            .cloned()
            .ok_or_else(|| {
                DiffError::Internal(format!(
                    "foreign key `{name}` on `{table}` is missing mid-plan"
                ))
            })
    }
}

/// The upgrade, and the schema it leads to (the old schema with every
/// operation applied, in order: what replaying the upgrade gives).
pub(super) fn build(ctx: &Analysis<'_>) -> Result<(Vec<Operation>, Schema), DiffError> {
    let mut b = Builder {
        cur: ctx.old.clone(),
        ops: Vec::new(),
    };

    // 1. Foreign keys that go away, change or are in the way. These run before
    // the renames, so they name the table by its old name; the foreign key's
    // own name never changes with a rename.
    for rt in ctx.renamed.tables.values() {
        // A table the plan does not touch keeps every foreign key whose
        // referenced table it does not touch either.
        if !ctx.touches(&rt.name) && !rt.foreign_keys.iter().any(|fk| ctx.touches(&fk.ref_table)) {
            continue;
        }
        let survives = !ctx.is_dropped(&rt.name);
        let old_name = ctx.renames.old_table_name(&rt.name);
        for fk in &rt.foreign_keys {
            let stays = if survives {
                ctx.fk_kept(&rt.name, fk)
            } else {
                ctx.fk_stays_until_drop(&rt.name, fk)
            };
            if !stays {
                let foreign_key = b.foreign_key(old_name, &fk.name)?;
                b.push(Operation::DropForeignKey {
                    table: old_name.to_string(),
                    foreign_key,
                })?;
            }
        }
    }

    // 2. Indexes, unique constraints and checks that go away or change. They
    // are compared in renamed form (an index follows its column's rename) but
    // carried in their old form: these steps run before the renames.
    for rt in ctx.renamed.tables.values() {
        // A surviving table the plan does not touch is the same before and
        // after: each of its indexes, unique constraints and checks is kept
        // (a rename changes the columns they name, never their names).
        if !ctx.touches(&rt.name) {
            continue;
        }
        let old_name = ctx.renames.old_table_name(&rt.name);
        let ot = &ctx.old.tables[old_name];
        let survives = !ctx.is_dropped(&rt.name);
        for i in &ot.indexes {
            let goes = if survives {
                !rt.indexes
                    .iter()
                    .any(|ri| ri.name == i.name && ctx.index_kept(&rt.name, ri))
            } else {
                ctx.name_reused(&rt.name, &i.name)
            };
            if goes {
                b.push(Operation::DropIndex {
                    table: old_name.to_string(),
                    index: i.clone(),
                })?;
            }
        }
        for u in &ot.uniques {
            let goes = if survives {
                !rt.uniques
                    .iter()
                    .any(|ru| ru.name == u.name && ctx.unique_kept(&rt.name, ru))
            } else {
                ctx.name_reused(&rt.name, &u.name)
            };
            if goes {
                b.push(Operation::DropUnique {
                    table: old_name.to_string(),
                    unique: u.clone(),
                })?;
            }
        }
        if survives {
            // Judged by the check as the renames leave it: a renamed column
            // is renamed inside the checks that name it too, so such a
            // check is kept, not dropped and added again.
            let kept = |c: &&crate::schema::Check| {
                let renamed = rt.checks.iter().find(|r| r.name == c.name).unwrap_or(c);
                ctx.check_kept(&rt.name, renamed)
            };
            for c in ot.checks.iter().filter(|c| !kept(c)) {
                b.push(Operation::DropCheck {
                    table: old_name.to_string(),
                    check: c.clone(),
                })?;
            }
        }
    }

    // 3 and 4. Renames: tables, then columns (by the tables' new names).
    for op in ctx.renames.ops() {
        b.push(op)?;
    }

    // 5. New tables, referenced ones first. Foreign keys that cannot be
    // created inline wait for phase 9.
    let mut late_fks: Vec<(String, ForeignKey)> = Vec::new();
    for name in &ctx.created.order {
        let mut table = ctx.new.tables[name].clone();
        let (inline, late): (Vec<ForeignKey>, Vec<ForeignKey>) = table
            .foreign_keys
            .drain(..)
            .partition(|fk| ctx.fk_inline(name, fk));
        table.foreign_keys = inline;
        late_fks.extend(late.into_iter().map(|fk| (name.clone(), fk)));
        b.push(Operation::CreateTable { table })?;
    }

    // 6. Table comments, then new columns and changed columns, in the new
    // declaration order.
    for (rt, nt) in ctx.changed() {
        if rt.collation != nt.collation {
            // MySQL keeps a table's default collation apart from its
            // columns': changing it would change no column (or, with
            // CONVERT TO, every one, rewriting the table). Not generated.
            let says = |c: &Option<String>| c.clone().unwrap_or_else(|| "none".into());
            return Err(DiffError::Refused(format!(
                "the default collation of table `{}` changes from {} to {}, which `generate` does not write: it changes no existing column, and converting them rewrites the table\nhelp: set `collation` on the columns that should change, or write a raw SQL migration (`ALTER TABLE .. CONVERT TO CHARACTER SET .. COLLATE ..`) and keep the model's `collation` as it was",
                nt.name,
                says(&rt.collation),
                says(&nt.collation)
            )));
        }
        if (rt.strict, rt.without_rowid) != (nt.strict, nt.without_rowid) {
            // SQLite sets these when a table is created; changing one
            // rebuilds the table, which no typed step says. Not generated.
            let says = |t: &crate::schema::Table| match [
                ("STRICT", t.strict),
                ("WITHOUT ROWID", t.without_rowid),
            ]
            .iter()
            .filter(|(_, on)| *on)
            .map(|(n, _)| *n)
            .collect::<Vec<_>>()
            .join(", ")
            {
                s if s.is_empty() => "none".to_string(),
                s => s,
            };
            return Err(DiffError::Refused(format!(
                "the SQLite table options of `{}` change from {} to {}, which `generate` does not write: SQLite sets them only when a table is created\nhelp: keep `strict`/`without_rowid` as they were, or write a raw SQL migration that creates the new table, copies the rows and renames it (SQLite's \"making other kinds of table schema changes\")",
                nt.name,
                says(rt),
                says(nt)
            )));
        }
        if rt.comment != nt.comment {
            let from = b.table(&nt.name)?.comment.clone();
            b.push(Operation::SetTableComment {
                table: nt.name.clone(),
                from,
                to: nt.comment.clone(),
            })?;
        }
    }
    for (rt, nt) in ctx.changed() {
        for c in &nt.columns {
            match rt.column(&c.name) {
                None => b.push(Operation::AddColumn {
                    table: nt.name.clone(),
                    column: c.clone(),
                })?,
                Some(rc) if rc != c && !ctx.alter_after_pk(rt, nt, rc, c) => {
                    let from = b.column(&nt.name, &c.name)?;
                    b.push(Operation::AlterColumn {
                        table: nt.name.clone(),
                        from,
                        to: c.clone(),
                    })?;
                }
                Some(_) => {}
            }
        }
    }

    // 7. Primary keys: every new key column exists and is NOT NULL by now.
    // The alters that must follow the key change (see `alter_after_pk`) run
    // right after it.
    for (rt, nt) in ctx.changed() {
        // A key's name is changed while it exists: after the key is
        // created or changed, before it is dropped.
        let rename =
            (rt.primary_key_name != nt.primary_key_name).then(|| Operation::SetPrimaryKeyName {
                table: nt.name.clone(),
                from: rt.primary_key_name.clone(),
                to: nt.primary_key_name.clone(),
            });
        let dropping = nt.primary_key.is_empty();
        if dropping {
            if let Some(op) = rename.clone() {
                b.push(op)?;
            }
        }
        if rt.primary_key != nt.primary_key {
            let from = b.table(&nt.name)?.primary_key.clone();
            b.push(Operation::SetPrimaryKey {
                table: nt.name.clone(),
                from,
                to: nt.primary_key.clone(),
            })?;
        }
        if !dropping {
            if let Some(op) = rename {
                b.push(op)?;
            }
        }
        for c in &nt.columns {
            if let Some(rc) = rt.column(&c.name) {
                if rc != c && ctx.alter_after_pk(rt, nt, rc, c) {
                    let from = b.column(&nt.name, &c.name)?;
                    b.push(Operation::AlterColumn {
                        table: nt.name.clone(),
                        from,
                        to: c.clone(),
                    })?;
                }
            }
        }
    }

    // 8. Indexes, unique constraints and checks of surviving tables (new
    // tables got theirs with CREATE TABLE).
    for (rt, nt) in ctx.changed() {
        for i in nt.indexes.iter().filter(|i| !rt.indexes.contains(i)) {
            b.push(Operation::CreateIndex {
                table: nt.name.clone(),
                index: i.clone(),
            })?;
        }
        for u in nt.uniques.iter().filter(|u| !rt.uniques.contains(u)) {
            b.push(Operation::AddUnique {
                table: nt.name.clone(),
                unique: u.clone(),
            })?;
        }
        for c in nt.checks.iter().filter(|c| !rt.checks.contains(c)) {
            b.push(Operation::AddCheck {
                table: nt.name.clone(),
                check: c.clone(),
            })?;
        }
    }

    // 9. Foreign keys, once every table, column and key they need exists.
    for (rt, nt) in ctx.surviving() {
        for fk in &nt.foreign_keys {
            if !(rt.foreign_keys.contains(fk) && ctx.fk_kept(&nt.name, fk)) {
                late_fks.push((nt.name.clone(), fk.clone()));
            }
        }
    }
    late_fks.sort_by(|a, b| (&a.0, &a.1.name).cmp(&(&b.0, &b.1.name)));
    for (table, foreign_key) in late_fks {
        b.push(Operation::AddForeignKey { table, foreign_key })?;
    }

    // 10. Columns that go away, last first, so that a downgrade re-adds them
    // in their original relative order.
    for (rt, nt) in ctx.changed() {
        for c in rt.columns.iter().rev() {
            if nt.column(&c.name).is_none() {
                let column = b.column(&nt.name, &c.name)?;
                b.push(Operation::DropColumn {
                    table: nt.name.clone(),
                    column,
                })?;
            }
        }
    }

    // 11. Tables that go away, referencing tables first.
    for name in ctx.dropped.order.iter().rev() {
        let table = b.table(name)?.clone();
        b.push(Operation::DropTable { table })?;
    }

    Ok((b.ops, b.cur))
}
