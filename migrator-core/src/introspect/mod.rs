//! Introspection: a live database read back into the schema model, and the
//! comparison with the snapshot behind `migrator verify`.
//!
//! Contract:
//! - [`schema`] reads the tables of the database (PostgreSQL: the current
//!   schema; SQLite: `main`; MySQL/MariaDB: `DATABASE()`) into a [`Schema`]: columns with their portable
//!   types, nullability, defaults and auto-increment, primary keys in key
//!   order, non-unique indexes, unique constraints (on SQLite: unique
//!   indexes, inline `UNIQUE` included), foreign keys with their columns,
//!   referenced table and columns and `ON DELETE`/`ON UPDATE` actions, and
//!   check constraints. migrator's own tables (`_migrator_history`,
//!   `_migrator_lock`, the SQLite rebuild's `_migrator_new_*`, the
//!   archives of kept drops, `_migrator_archive_*`) and the
//!   databases' internals are left out;
//! - what the model cannot describe is never dropped silently: views,
//!   triggers, functions, sequences that no column owns, extensions, enum,
//!   domain and range types, partial and expression indexes, exclusion
//!   constraints, rules, policies, partitions, virtual tables, generated
//!   columns, and on MySQL/MariaDB routines, events, prefix, functional,
//!   FULLTEXT and SPATIAL indexes are listed in [`Introspected::outside`]; approximations (an
//!   index with a non-default method or order, a constraint that is
//!   `NOT VALID`, an identity that is `ALWAYS`) are listed in
//!   [`Introspected::notes`];
//! - a database keeps less than the model says (SQLite has one integer
//!   type) and re-spells what it keeps (PostgreSQL prints
//!   `'medium'::character varying`, and rewrites `IN (..)` in a check as
//!   `= ANY (ARRAY[..])`). [`expected`] therefore turns a modelled schema into
//!   what introspection reports for a database that migrator built from it:
//!   the same normalisation, applied to the other side. On PostgreSQL it asks
//!   the database itself: the snapshot's column types, defaults and checks
//!   are created as temporary tables inside a transaction that is rolled
//!   back, and read back through the same queries; where that fails (a type
//!   that does not exist, a read-only standby) a textual normalisation is
//!   used instead (see `normalize`). Hence
//!   `schema(db).schema == expected(db, snapshot)` is the test that a
//!   database matches its snapshot, with `Schema`'s `PartialEq`;
//! - [`verify`] is that test with a readable result: [`compare`] lists each
//!   drifted table, column, index and constraint; it compares SQL
//!   expressions (check constraints, SQL defaults) by [`expr_key`], so a
//!   re-spelling is not drift.
//!
//! The readers run catalog queries only (and, on PostgreSQL, the rolled-back
//! probe of `expected`; on MySQL/MariaDB, temporary tables of this session,
//! dropped at once); they never change the database.
//!
//! MySQL/MariaDB (`backend/mysql/introspect.rs`) reads `information_schema` scoped to
//! `DATABASE()` (`COLUMNS.COLUMN_TYPE`, `COLUMN_DEFAULT` and `EXTRA`,
//! `STATISTICS`, `KEY_COLUMN_USAGE` with `REFERENTIAL_CONSTRAINTS`,
//! `CHECK_CONSTRAINTS`), with `normalize::Source::Mysql` for its literal
//! spellings (MariaDB quotes string defaults, MySQL 8 does not; `tinyint(1)`
//! is a boolean; MariaDB's JSON is `longtext` with a `json_valid` check).
//! The index InnoDB keeps for a foreign key is left out on both sides. Its
//! `expected` is textual except for checks and SQL-expression defaults,
//! which are probed with `CREATE TEMPORARY TABLE` (which, unlike other DDL,
//! does not commit implicitly) and read back with `SHOW CREATE TABLE`.

mod compare;
pub(crate) mod normalize;
#[cfg(test)]
mod tests;

use std::fmt;

pub use compare::{compare, Drift};
pub use normalize::expr_key;

use crate::dialect::Dialect;
use crate::schema::{Schema, Table};

/// A database read back into the schema model.
#[derive(Debug, Clone, PartialEq)]
pub struct Introspected {
    pub dialect: Dialect,
    pub schema: Schema,
    /// Objects the model does not describe, sorted by kind and name.
    pub outside: Vec<Outside>,
    /// Where the schema above is an approximation of what the database has.
    pub notes: Vec<String>,
    /// PostgreSQL: what the other schemas of the database hold
    /// ([`OutsideKind::OtherSchema`], one entry per schema). Neither the
    /// model nor `verify` covers them; adoption names them as not adopted.
    pub elsewhere: Vec<Outside>,
}

/// One object outside the model.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Outside {
    pub kind: OutsideKind,
    pub name: String,
    /// The table it belongs to, for indexes, triggers, columns and the like.
    pub table: Option<String>,
    /// Its definition as the database prints it, where it can.
    pub definition: Option<String>,
}

/// What kind of object an [`Outside`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum OutsideKind {
    Extension,
    EnumType,
    DomainType,
    RangeType,
    CompositeType,
    Sequence,
    Function,
    /// MySQL/MariaDB: a stored procedure.
    Procedure,
    View,
    MaterializedView,
    ForeignTable,
    VirtualTable,
    Partition,
    Trigger,
    Rule,
    Policy,
    PartialIndex,
    ExpressionIndex,
    /// An index the model cannot express otherwise: an access method other
    /// than btree (GIN, GiST, BRIN, hash), a descending or NULLS order, an
    /// operator class or collation, INCLUDE columns.
    SpecialIndex,
    ExclusionConstraint,
    GeneratedColumn,
    /// MySQL/MariaDB: a scheduled event.
    Event,
    /// MySQL/MariaDB: a FULLTEXT index.
    FulltextIndex,
    /// MySQL/MariaDB: a SPATIAL index.
    SpatialIndex,
    /// PostgreSQL extended statistics (`CREATE STATISTICS`).
    Statistics,
    /// PostgreSQL: a schema other than the current one that objects of the
    /// current schema need (the function a trigger calls); its definition
    /// is its `CREATE SCHEMA`.
    Schema,
    /// PostgreSQL: what another schema holds (tables, views, functions,
    /// types), listed in the definition. Adoption covers the current
    /// schema only; this is reported, not adopted.
    OtherSchema,
}

impl OutsideKind {
    pub fn name(self) -> &'static str {
        use OutsideKind::*;
        match self {
            Extension => "extension",
            EnumType => "enum type",
            DomainType => "domain type",
            RangeType => "range type",
            CompositeType => "composite type",
            Sequence => "sequence",
            Function => "function",
            Procedure => "procedure",
            View => "view",
            MaterializedView => "materialized view",
            ForeignTable => "foreign table",
            VirtualTable => "virtual table",
            Partition => "partition",
            Trigger => "trigger",
            Rule => "rule",
            Policy => "policy",
            PartialIndex => "partial index",
            ExpressionIndex => "expression index",
            SpecialIndex => "special index",
            ExclusionConstraint => "exclusion constraint",
            GeneratedColumn => "generated column",
            Event => "event",
            FulltextIndex => "fulltext index",
            SpatialIndex => "spatial index",
            Statistics => "statistics",
            Schema => "schema",
            OtherSchema => "objects of schema",
        }
    }
}

impl fmt::Display for Outside {
    /// `partial index `idx_x` on `tasks``, one line; the definition is left
    /// to callers that want it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} `{}`", self.kind.name(), self.name)?;
        if let Some(t) = &self.table {
            write!(f, " on `{t}`")?;
        }
        Ok(())
    }
}

/// How the objects outside the model differ from `before` to `after`, one
/// line each: an object gone, one that appeared, one whose definition (as
/// the database prints it, white space aside) changed. `migrator test`
/// checks with it that a downgrade puts back what the raw steps of its
/// upgrade dropped or changed (an index, a view, a trigger), which the
/// schema comparison cannot see.
pub fn outside_changes(before: &[Outside], after: &[Outside]) -> Vec<String> {
    outside_differences(before, after)
        .into_iter()
        .map(|d| match d {
            OutsideDifference::OnlyFirst(o) => format!("{o} is gone"),
            OutsideDifference::OnlySecond(n) => format!("{n} appeared"),
            OutsideDifference::Definition {
                object,
                first,
                second,
            } => {
                format!("{object} changed: it was `{first}`, it is `{second}`")
            }
        })
        .collect()
}

/// `migrator verify --replay`: how the objects outside the model of the
/// live database differ from those the migrations make (`replayed`, read
/// from a scratch database the same migrations were applied to), one line
/// each, in the words of `verify`.
pub fn outside_drift(live: &[Outside], replayed: &[Outside]) -> Vec<String> {
    outside_differences(replayed, live)
        .into_iter()
        .map(|d| match d {
            OutsideDifference::OnlyFirst(o) => {
                format!("{o} is missing from the database (the migrations make it)")
            }
            OutsideDifference::OnlySecond(o) => {
                format!("{o} is in the database, but the migrations do not make it")
            }
            OutsideDifference::Definition {
                object,
                first,
                second,
            } => format!(
                "{object} differs: the database has `{second}`, the migrations make `{first}`"
            ),
        })
        .collect()
}

/// One difference between two lists of objects outside the model.
enum OutsideDifference<'a> {
    OnlyFirst(&'a Outside),
    OnlySecond(&'a Outside),
    /// The same object (kind, table, name), two definitions (white space
    /// runs read as one space).
    Definition {
        object: &'a Outside,
        first: String,
        second: String,
    },
}

/// The objects of `first` that `second` lacks or defines otherwise, then
/// those only `second` has.
fn outside_differences<'a>(
    first: &'a [Outside],
    second: &'a [Outside],
) -> Vec<OutsideDifference<'a>> {
    use std::collections::BTreeMap;
    let key = |o: &Outside| (o.kind, o.table.clone(), o.name.clone());
    let squeeze = |d: &Option<String>| {
        d.as_deref()
            .map(|d| d.split_whitespace().collect::<Vec<_>>().join(" "))
    };
    let a: BTreeMap<_, _> = first.iter().map(|o| (key(o), o)).collect();
    let b: BTreeMap<_, _> = second.iter().map(|o| (key(o), o)).collect();
    let mut out = Vec::new();
    for (k, o) in &a {
        match b.get(k) {
            None => out.push(OutsideDifference::OnlyFirst(o)),
            Some(n) if squeeze(&o.definition) != squeeze(&n.definition) => {
                out.push(OutsideDifference::Definition {
                    object: o,
                    first: squeeze(&o.definition).unwrap_or_default(),
                    second: squeeze(&n.definition).unwrap_or_default(),
                })
            }
            Some(_) => {}
        }
    }
    for (k, n) in &b {
        if !a.contains_key(k) {
            out.push(OutsideDifference::OnlySecond(n));
        }
    }
    out
}

/// A catalog query failed.
#[derive(Clone, PartialEq, Eq, thiserror::Error)]
#[error("cannot read the {dialect} catalog: {message}\n  query: {query}")]
pub struct IntrospectError {
    pub dialect: Dialect,
    pub query: String,
    pub message: String,
}

/// A connection that can be introspected. Implemented for diesel's
/// `SqliteConnection`, `PgConnection` and `MysqlConnection` (with the
/// matching features) and
/// for the runner's [`AnyConnection`](crate::runner::AnyConnection).
pub trait Introspect {
    /// Reads the live schema; see [`schema`].
    fn introspect(&mut self) -> Result<Introspected, IntrospectError>;

    /// `snapshot` as introspection reports it on this database; see
    /// [`expected`].
    fn expected(&mut self, snapshot: &Schema) -> Result<Schema, IntrospectError>;

    /// What `verify` adds to the live schema's notes about `snapshot`'s
    /// tables (SQLite: declarations of an earlier migrator).
    fn verify_notes(&mut self, _snapshot: &Schema) -> Result<Vec<String>, IntrospectError> {
        Ok(Vec::new())
    }

    /// For `verify`: takes in `live` what the database stores the same
    /// way as `expected` though it reads otherwise (SQLite: a column
    /// declared `INTEGER` by an earlier migrator where the model's width
    /// is now declared `SMALLINT`).
    fn same_storage(
        &mut self,
        _live: &mut Schema,
        _expected: &Schema,
    ) -> Result<(), IntrospectError> {
        Ok(())
    }
}

/// Reads the live schema of `conn` (module docs).
pub fn schema<C: Introspect + ?Sized>(conn: &mut C) -> Result<Introspected, IntrospectError> {
    conn.introspect()
}

/// What [`schema`] returns for a database that migrator built from
/// `snapshot` (module docs).
pub fn expected<C: Introspect + ?Sized>(
    conn: &mut C,
    snapshot: &Schema,
) -> Result<Schema, IntrospectError> {
    conn.expected(snapshot)
}

/// The live database compared with a snapshot.
#[derive(Debug, Clone, PartialEq)]
pub struct Verification {
    pub live: Introspected,
    /// The snapshot as introspection would report it ([`expected`]).
    pub expected: Schema,
    /// Every difference, by table; empty when the database matches.
    pub drift: Vec<Drift>,
}

impl Verification {
    pub fn is_clean(&self) -> bool {
        self.drift.is_empty()
    }
}

/// Introspects `conn` and compares it with `snapshot`.
pub fn verify<C: Introspect + ?Sized>(
    conn: &mut C,
    snapshot: &Schema,
) -> Result<Verification, IntrospectError> {
    let mut live = conn.introspect()?;
    let expected = conn.expected(snapshot)?;
    live.notes.extend(conn.verify_notes(snapshot)?);
    let mut seen = live.schema.clone();
    conn.same_storage(&mut seen, &expected)?;
    let drift = compare(&seen, &expected);
    Ok(Verification {
        live,
        expected,
        drift,
    })
}

/// Tables that belong to migrator itself, never to the model.
pub(crate) fn is_internal_table(name: &str) -> bool {
    name == crate::runner::HISTORY_TABLE
        || name == crate::runner::LOCK_TABLE
        || name == crate::dialect::backfill::BACKFILL_TABLE
        || name == crate::runner::resolve::RESOLUTIONS_TABLE
        || name.starts_with(crate::ops::ARCHIVE_PREFIX)
}

/// Both dialects: a primary key column is NOT NULL whatever the model says
/// (PostgreSQL enforces it; SQLite's rowid alias cannot be NULL, and the
/// readers report key columns as NOT NULL).
pub(crate) fn key_columns_not_null(t: &mut Table) {
    for c in &mut t.columns {
        if t.primary_key.contains(&c.name) {
            c.nullable = false;
        }
    }
}

#[cfg(feature = "sqlite")]
impl Introspect for diesel::sqlite::SqliteConnection {
    fn introspect(&mut self) -> Result<Introspected, IntrospectError> {
        crate::backend::sqlite::introspect::introspect(self)
    }

    fn expected(&mut self, snapshot: &Schema) -> Result<Schema, IntrospectError> {
        Ok(crate::backend::sqlite::introspect::expected(snapshot))
    }

    fn verify_notes(&mut self, snapshot: &Schema) -> Result<Vec<String>, IntrospectError> {
        crate::backend::sqlite::introspect::declaration_notes(self, snapshot)
    }

    fn same_storage(
        &mut self,
        live: &mut Schema,
        expected: &Schema,
    ) -> Result<(), IntrospectError> {
        crate::backend::sqlite::introspect::same_storage(self, live, expected)
    }
}

#[cfg(feature = "postgres")]
impl Introspect for diesel::pg::PgConnection {
    fn introspect(&mut self) -> Result<Introspected, IntrospectError> {
        crate::backend::postgres::introspect::introspect(self)
    }

    fn expected(&mut self, snapshot: &Schema) -> Result<Schema, IntrospectError> {
        crate::backend::postgres::introspect::expected(self, snapshot)
    }
}

impl Introspect for crate::runner::AnyConnection {
    fn introspect(&mut self) -> Result<Introspected, IntrospectError> {
        use crate::runner::AnyConnection;
        match *self {
            #[cfg(feature = "sqlite")]
            AnyConnection::Sqlite(ref mut c) => c.introspect(),
            #[cfg(feature = "postgres")]
            AnyConnection::Postgres(ref mut c) => c.introspect(),
            #[cfg(feature = "mysql")]
            AnyConnection::Mysql(ref mut c) => c.introspect(),
        }
    }

    fn expected(&mut self, snapshot: &Schema) -> Result<Schema, IntrospectError> {
        use crate::runner::AnyConnection;
        match *self {
            #[cfg(feature = "sqlite")]
            AnyConnection::Sqlite(ref mut c) => c.expected(snapshot),
            #[cfg(feature = "postgres")]
            AnyConnection::Postgres(ref mut c) => c.expected(snapshot),
            #[cfg(feature = "mysql")]
            AnyConnection::Mysql(ref mut c) => c.expected(snapshot),
        }
    }

    fn verify_notes(&mut self, snapshot: &Schema) -> Result<Vec<String>, IntrospectError> {
        use crate::runner::AnyConnection;
        match *self {
            #[cfg(feature = "sqlite")]
            AnyConnection::Sqlite(ref mut c) => c.verify_notes(snapshot),
            #[cfg(feature = "postgres")]
            AnyConnection::Postgres(ref mut c) => c.verify_notes(snapshot),
            #[cfg(feature = "mysql")]
            AnyConnection::Mysql(ref mut c) => c.verify_notes(snapshot),
        }
    }

    fn same_storage(
        &mut self,
        live: &mut Schema,
        expected: &Schema,
    ) -> Result<(), IntrospectError> {
        use crate::runner::AnyConnection;
        match *self {
            #[cfg(feature = "sqlite")]
            AnyConnection::Sqlite(ref mut c) => c.same_storage(live, expected),
            #[cfg(feature = "postgres")]
            AnyConnection::Postgres(ref mut c) => c.same_storage(live, expected),
            #[cfg(feature = "mysql")]
            AnyConnection::Mysql(ref mut c) => c.same_storage(live, expected),
        }
    }
}

debug_as_display!(IntrospectError);
