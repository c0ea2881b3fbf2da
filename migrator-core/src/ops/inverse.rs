//! Inverting operations: the step that undoes each one, and a list undone in
//! reverse order.

use super::{Archived, Backfill, BackfillReverse, Operation, RawSql, SqlVariants};

impl Operation {
    /// The operation that undoes this one.
    ///
    /// A raw SQL step without `reverse` inverts to a step with no SQL, which
    /// the renderer refuses to run (the migration is then irreversible and the
    /// reader says so); a Rust step without `reverse` inverts to a Rust step
    /// with an empty name, which the runner refuses the same way.
    pub fn inverse(&self) -> Operation {
        use Operation::*;
        match self.clone() {
            CreateTable { table } => DropTable { table },
            DropTable { table } => CreateTable { table },
            RenameTable { from, to } => RenameTable { from: to, to: from },
            AddColumn { table, column } => DropColumn { table, column },
            DropColumn { table, column } => AddColumn { table, column },
            RenameColumn { table, from, to } => RenameColumn {
                table,
                from: to,
                to: from,
            },
            AlterColumn { table, from, to } => AlterColumn {
                table,
                from: to,
                to: from,
            },
            SetTableComment { table, from, to } => SetTableComment {
                table,
                from: to,
                to: from,
            },
            SetPrimaryKeyName { table, from, to } => SetPrimaryKeyName {
                table,
                from: to,
                to: from,
            },
            SetPrimaryKey { table, from, to } => SetPrimaryKey {
                table,
                from: to,
                to: from,
            },
            CreateIndex { table, index } => DropIndex { table, index },
            DropIndex { table, index } => CreateIndex { table, index },
            AddUnique { table, unique } => DropUnique { table, unique },
            DropUnique { table, unique } => AddUnique { table, unique },
            AddForeignKey { table, foreign_key } => DropForeignKey { table, foreign_key },
            DropForeignKey { table, foreign_key } => AddForeignKey { table, foreign_key },
            AddCheck { table, check } => DropCheck { table, check },
            DropCheck { table, check } => AddCheck { table, check },
            Sql(raw) => {
                let rev = raw.reverse.clone().unwrap_or_default();
                Sql(RawSql {
                    sql: rev.sql,
                    postgres: rev.postgres,
                    sqlite: rev.sqlite,
                    mysql: rev.mysql,
                    reverse: Some(SqlVariants {
                        sql: raw.sql,
                        postgres: raw.postgres,
                        sqlite: raw.sqlite,
                        mysql: raw.mysql,
                    }),
                    transactional: raw.transactional,
                    effect: inverse_all(&raw.effect),
                })
            }
            Archived(a) => Archived(self::Archived {
                step: Box::new(a.step.inverse()),
                ..a
            }),
            // An empty name is the irreversible step: the runner refuses it
            // and the reader refuses it in a file.
            Rust { name, reverse } => Rust {
                name: reverse.unwrap_or_default(),
                reverse: Some(name),
            },
            // Without a reverse, the inverse is a raw SQL step without SQL:
            // irreversible, refused by the renderer like a raw step's.
            Backfill(b) => match b.reverse {
                Some(r) => Backfill(self::Backfill {
                    set: r.set,
                    predicate: r.predicate,
                    reverse: Some(BackfillReverse {
                        set: b.set,
                        predicate: b.predicate,
                    }),
                    ..b
                }),
                None => Sql(RawSql {
                    reverse: Some(SqlVariants::default()),
                    ..RawSql::default()
                }),
            },
        }
    }
}

/// Inverts a list of operations: each one inverted, in reverse order.
pub fn inverse_all(ops: &[Operation]) -> Vec<Operation> {
    ops.iter().rev().map(Operation::inverse).collect()
}
