//! The schema model: what a set of tables looks like, independent of any
//! database.
//!
//! Contract: a [`Schema`] is plain data with a canonical form. Tables are keyed
//! by name in a `BTreeMap`; columns keep their declared order (it is visible in
//! `CREATE TABLE` and to users); indexes, unique constraints, foreign keys and
//! checks are kept sorted by name by [`Table::normalize`], so that two schemas
//! that mean the same thing compare equal and serialise to the same bytes.
//! Every producer (model parser, snapshot reader, operation replay) calls
//! `normalize` before handing a schema on.

mod types;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

pub use types::{ColumnType, ParseTypeError};

/// A whole modelled schema: every table, keyed by name.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Schema {
    #[serde(default)]
    pub tables: BTreeMap<String, Table>,
}

/// One table and everything attached to it.
///
/// Equality ignores the order of columns: a column dropped and added back (a
/// downgrade) lands at the end of the table in every database, and that is
/// the same table. Everything else compares in canonical order.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Table {
    pub name: String,
    /// The table's comment (PostgreSQL `COMMENT ON TABLE`, MySQL's
    /// `COMMENT` table option; SQLite stores none and ignores it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// MySQL/MariaDB: the table's default collation (`DEFAULT COLLATE`,
    /// which names its character set too), the collation of every text
    /// column that does not name its own. PostgreSQL and SQLite have none
    /// and refuse it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collation: Option<String>,
    /// Columns in declaration order.
    pub columns: Vec<Column>,
    /// Primary key columns, in key order. Empty means no primary key.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub primary_key: Vec<String>,
    /// PostgreSQL: the primary key constraint's name when it is not the
    /// default `<table>_pkey` ([`naming::primary_key`]). MySQL names every
    /// primary key `PRIMARY` and SQLite keeps no name a query can use, so
    /// both ignore it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_key_name: Option<String>,
    /// SQLite: a `STRICT` table (every value must have its column's type;
    /// the types are `INTEGER`, `REAL`, `TEXT`, `BLOB` and `ANY`). The
    /// other databases check types always and ignore it.
    #[serde(default, skip_serializing_if = "is_false")]
    pub strict: bool,
    /// SQLite: a `WITHOUT ROWID` table (stored by its primary key, which it
    /// must have; no auto-increment). The other databases ignore it.
    #[serde(default, skip_serializing_if = "is_false")]
    pub without_rowid: bool,
    /// Non-unique indexes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub indexes: Vec<Index>,
    /// Unique constraints (rendered as unique indexes where the dialect cannot
    /// add a constraint to an existing table).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub uniques: Vec<Unique>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub foreign_keys: Vec<ForeignKey>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checks: Vec<Check>,
}

/// One column.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Column {
    pub name: String,
    #[serde(rename = "type")]
    pub ty: ColumnType,
    #[serde(default)]
    pub nullable: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<DefaultValue>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub auto_increment: bool,
    /// An explicit collation (`COLLATE ..`): a name as the database spells
    /// it (`"C"`, `en-x-icu`, `utf8mb4_bin`, `NOCASE`). `None` is the
    /// database's default for the column's type (or the table's, on MySQL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collation: Option<String>,
    /// The column's comment (PostgreSQL `COMMENT ON COLUMN`, MySQL
    /// `COMMENT '..'`; SQLite stores none and ignores it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// MySQL's `ON UPDATE` expression (`CURRENT_TIMESTAMP`, optionally with
    /// a precision); the other databases have none and refuse it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_update: Option<String>,
    /// An identity column's first value (`START WITH`), when it is not the
    /// default (1, or -1 counting down). PostgreSQL only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_start: Option<i64>,
    /// An identity column's step (`INCREMENT BY`), when it is not 1.
    /// PostgreSQL only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity_increment: Option<i64>,
    /// An identity column that is `GENERATED ALWAYS` (an insert may not
    /// give its value without `OVERRIDING SYSTEM VALUE`) rather than `BY
    /// DEFAULT`. PostgreSQL only.
    #[serde(default, skip_serializing_if = "is_false")]
    pub identity_always: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// A column default: a typed literal, or an SQL expression kept verbatim.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum DefaultValue {
    Int(i64),
    Float(f64),
    Bool(bool),
    Str(String),
    /// An SQL expression such as `CURRENT_TIMESTAMP`, copied into the DDL as
    /// is (one expression: [`crate::sql_fragment::check_expression`]).
    Sql(String),
}

/// A non-unique index.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Index {
    pub name: String,
    pub columns: Vec<String>,
}

/// A unique constraint over one or more columns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Unique {
    pub name: String,
    pub columns: Vec<String>,
    /// `UNIQUE NULLS NOT DISTINCT` (PostgreSQL 15+): two NULLs are equal,
    /// so only one row may have NULL there. The other databases refuse it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub nulls_not_distinct: bool,
}

/// A foreign key from `columns` of the owning table to `ref_columns` of
/// `ref_table`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ForeignKey {
    pub name: String,
    pub columns: Vec<String>,
    pub ref_table: String,
    pub ref_columns: Vec<String>,
    #[serde(default, skip_serializing_if = "RefAction::is_default")]
    pub on_delete: RefAction,
    #[serde(default, skip_serializing_if = "RefAction::is_default")]
    pub on_update: RefAction,
}

/// A check constraint; `expr` is SQL kept verbatim (one expression:
/// [`crate::sql_fragment::check_expression`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Check {
    pub name: String,
    pub expr: String,
}

/// What a foreign key does when the referenced row is deleted or updated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefAction {
    #[default]
    NoAction,
    Restrict,
    Cascade,
    SetNull,
    SetDefault,
}

impl RefAction {
    /// The spellings accepted in `on_delete = "..."`, for help messages.
    pub const SPELLINGS: &'static [&'static str] = &[
        "cascade",
        "set null",
        "set default",
        "restrict",
        "no action",
    ];

    pub fn parse(s: &str) -> Option<RefAction> {
        let norm = s
            .trim()
            .to_ascii_lowercase()
            .replace(['_', '-'], " ")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        Some(match norm.as_str() {
            "no action" => RefAction::NoAction,
            "restrict" => RefAction::Restrict,
            "cascade" => RefAction::Cascade,
            "set null" => RefAction::SetNull,
            "set default" => RefAction::SetDefault,
            _ => return None,
        })
    }

    /// The SQL keywords, identical in all three dialects.
    pub fn sql(self) -> &'static str {
        match self {
            RefAction::NoAction => "NO ACTION",
            RefAction::Restrict => "RESTRICT",
            RefAction::Cascade => "CASCADE",
            RefAction::SetNull => "SET NULL",
            RefAction::SetDefault => "SET DEFAULT",
        }
    }

    pub fn is_default(&self) -> bool {
        *self == RefAction::NoAction
    }
}

impl Schema {
    pub fn new() -> Schema {
        Schema::default()
    }

    pub fn table(&self, name: &str) -> Option<&Table> {
        self.tables.get(name)
    }

    /// Inserts (or replaces) a table, keyed by its name.
    pub fn insert(&mut self, table: Table) {
        self.tables.insert(table.name.clone(), table);
    }

    /// Puts every table in canonical form (see the module docs).
    pub fn normalize(&mut self) {
        for t in self.tables.values_mut() {
            t.normalize();
        }
    }

    /// True when [`Schema::normalize`] would change nothing.
    pub fn is_normalized(&self) -> bool {
        self.tables.values().all(Table::is_normalized)
    }
}

impl Table {
    /// An empty table with the given name, for builders and tests.
    pub fn new(name: impl Into<String>) -> Table {
        Table {
            name: name.into(),
            comment: None,
            collation: None,
            columns: Vec::new(),
            primary_key: Vec::new(),
            primary_key_name: None,
            strict: false,
            without_rowid: false,
            indexes: Vec::new(),
            uniques: Vec::new(),
            foreign_keys: Vec::new(),
            checks: Vec::new(),
        }
    }

    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }

    pub fn column_mut(&mut self, name: &str) -> Option<&mut Column> {
        self.columns.iter_mut().find(|c| c.name == name)
    }

    /// Sorts the named objects by name so equal tables compare equal.
    /// True when [`Table::normalize`] would change nothing.
    pub fn is_normalized(&self) -> bool {
        self.indexes.windows(2).all(|w| w[0].name <= w[1].name)
            && self.uniques.windows(2).all(|w| w[0].name <= w[1].name)
            && self.foreign_keys.windows(2).all(|w| w[0].name <= w[1].name)
            && self.checks.windows(2).all(|w| w[0].name <= w[1].name)
    }

    pub fn normalize(&mut self) {
        self.indexes.sort_by(|a, b| a.name.cmp(&b.name));
        self.uniques.sort_by(|a, b| a.name.cmp(&b.name));
        self.foreign_keys.sort_by(|a, b| a.name.cmp(&b.name));
        self.checks.sort_by(|a, b| a.name.cmp(&b.name));
    }

    /// Names of every index-like object (indexes and unique constraints) and
    /// constraint on this table, for collision checks.
    pub fn object_names(&self) -> impl Iterator<Item = &str> {
        self.primary_key_name
            .iter()
            .map(String::as_str)
            .chain(self.indexes.iter().map(|i| i.name.as_str()))
            .chain(self.uniques.iter().map(|u| u.name.as_str()))
            .chain(self.foreign_keys.iter().map(|f| f.name.as_str()))
            .chain(self.checks.iter().map(|c| c.name.as_str()))
    }
}

impl PartialEq for Table {
    fn eq(&self, other: &Table) -> bool {
        fn by_name(t: &Table) -> Vec<&Column> {
            let mut cols: Vec<&Column> = t.columns.iter().collect();
            cols.sort_by(|a, b| a.name.cmp(&b.name));
            cols
        }
        self.name == other.name
            && self.comment == other.comment
            && self.collation == other.collation
            // Columns in the same order need no sorting.
            && (self.columns == other.columns || by_name(self) == by_name(other))
            && self.primary_key == other.primary_key
            && self.primary_key_name == other.primary_key_name
            && self.strict == other.strict
            && self.without_rowid == other.without_rowid
            && self.indexes == other.indexes
            && self.uniques == other.uniques
            && self.foreign_keys == other.foreign_keys
            && self.checks == other.checks
    }
}

impl Column {
    pub fn new(name: impl Into<String>, ty: ColumnType) -> Column {
        Column {
            name: name.into(),
            ty,
            nullable: false,
            default: None,
            auto_increment: false,
            collation: None,
            comment: None,
            on_update: None,
            identity_start: None,
            identity_increment: None,
            identity_always: false,
        }
    }
}

/// Whether `name` can be a modelled collation: non-empty, at most 64
/// bytes, letters, digits and `_ - . @` (`C`, `en-x-icu`, `en_US.utf8`,
/// `utf8mb4_bin`, `NOCASE`).
pub fn is_collation_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.@".contains(c))
}

/// `CURRENT_TIMESTAMP[(n)]` for the spellings of MySQL's `ON UPDATE`
/// (`current_timestamp()`, `NOW(3)`, `LOCALTIMESTAMP`), `None` for anything
/// else. Shared with the MySQL reader, which sees MariaDB's
/// `current_timestamp()`.
pub fn normalize_on_update(text: &str) -> Option<String> {
    let up = text.trim().to_ascii_uppercase();
    let (name, args) = match up.find('(') {
        Some(i) => (up[..i].trim_end(), Some(up[i..].trim())),
        None => (up.as_str(), None),
    };
    let names = ["CURRENT_TIMESTAMP", "NOW", "LOCALTIMESTAMP", "LOCALTIME"];
    if !names.contains(&name) {
        return None;
    }
    let precision = match args {
        None if name == "NOW" => return None,
        None => None,
        Some(a) => {
            let inner = a.strip_prefix('(')?.strip_suffix(')')?.trim();
            if inner.is_empty() {
                None
            } else {
                let n: u8 = inner.parse().ok()?;
                (n <= 6).then_some(n)?;
                (n > 0).then_some(n)
            }
        }
    };
    Some(match precision {
        Some(n) => format!("CURRENT_TIMESTAMP({n})"),
        None => "CURRENT_TIMESTAMP".to_string(),
    })
}

/// Default object names of docs/DESIGN.md §2; the idempotency guards look these up.
///
/// Every name is made to fit the shortest identifier limit of the target
/// databases (PostgreSQL's 63 bytes; MySQL allows 64 characters, SQLite has
/// no limit): a longer one keeps its first bytes and ends with `_` and eight
/// hex digits of the SHA-256 of the whole name ([`fit`]), so two long names
/// that share a prefix stay distinct and the same model always gives the
/// same name. Left to the server, PostgreSQL would cut the name itself and
/// the guards would look for a name that does not exist.
pub mod naming {
    use sha2::{Digest, Sha256};

    /// The identifier limit every target database accepts.
    pub const MAX_IDENT_BYTES: usize = 63;

    /// `name` if it fits [`MAX_IDENT_BYTES`]; else its longest prefix (on a
    /// character boundary) that leaves room for `_` and 8 hex digits of
    /// the whole name's hash.
    pub fn fit(name: String) -> String {
        if name.len() <= MAX_IDENT_BYTES {
            return name;
        }
        let hash = crate::ledger::hex(&Sha256::digest(name.as_bytes())[..4]);
        let mut cut = MAX_IDENT_BYTES - 1 - hash.len();
        while !name.is_char_boundary(cut) {
            cut -= 1;
        }
        format!("{}_{hash}", &name[..cut])
    }

    /// `<table>_pkey`, the name PostgreSQL gives a primary key that names
    /// none: the table's name cut (on a character boundary) to leave room
    /// for the suffix within 63 bytes, as the server cuts it.
    pub fn primary_key(table: &str) -> String {
        let mut cut = table.len().min(MAX_IDENT_BYTES - "_pkey".len());
        while !table.is_char_boundary(cut) {
            cut -= 1;
        }
        format!("{}_pkey", &table[..cut])
    }

    /// `idx_<table>_<cols>`
    pub fn index(table: &str, columns: &[String]) -> String {
        fit(format!("idx_{}_{}", table, columns.join("_")))
    }
    /// `uq_<table>_<cols>`
    pub fn unique(table: &str, columns: &[String]) -> String {
        fit(format!("uq_{}_{}", table, columns.join("_")))
    }
    /// `fk_<table>_<column>`
    pub fn foreign_key(table: &str, columns: &[String]) -> String {
        fit(format!("fk_{}_{}", table, columns.join("_")))
    }
    /// `ck_<table>_<hash>`: 8 hex digits of the SHA-256 of the expression
    /// (its whitespace runs read as one space), so a check keeps its name
    /// whatever is declared before it, and adding one never renames another.
    pub fn check(table: &str, expr: &str) -> String {
        let hash = crate::ledger::hex(&Sha256::digest(expr_key(expr).as_bytes())[..4]);
        fit(format!("ck_{table}_{hash}"))
    }

    /// `ck_<table>_<n>`: the name unnamed checks had before they were named
    /// by their expression (`n` counting from 1 in declaration order).
    /// Snapshots written then keep these names; see [`adopt_check_names`].
    pub fn positional_check(table: &str, n: usize) -> String {
        fit(format!("ck_{}_{}", table, n))
    }

    fn expr_key(expr: &str) -> String {
        expr.split_whitespace().collect::<Vec<_>>().join(" ")
    }

    /// An unnamed check of `model` (named by [`check`]) whose expression a
    /// check of `snapshot`'s table has, under a name the model does not
    /// use, takes that name: the database has the check under it. So a
    /// snapshot written when unnamed checks were numbered (`ck_tasks_1`)
    /// changes nothing in a database built before (no drop and add), and
    /// a check whose expression a column rename rewrote keeps its name
    /// (`snapshot` then has the renames applied).
    pub fn adopt_check_names(model: &mut super::Table, snapshot: &super::Table) {
        let table = model.name.clone();
        let mut taken: Vec<String> = model.checks.iter().map(|c| c.name.clone()).collect();
        for c in &mut model.checks {
            if c.name != check(&table, &c.expr) {
                continue;
            }
            if let Some(old) = snapshot.checks.iter().find(|s| {
                s.name != c.name
                    && expr_key(&s.expr) == expr_key(&c.expr)
                    && !taken.contains(&s.name)
            }) {
                c.name = old.name.clone();
                taken.push(old.name.clone());
            }
        }
        model.normalize();
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn short_names_are_kept() {
            let name = index("tasks", &["user_id".into()]);
            assert_eq!(name, "idx_tasks_user_id");
        }

        #[test]
        fn long_names_fit_and_stay_distinct() {
            let table = "customer_subscription_billing_history_entries";
            let names: Vec<String> = ["a", "b", "c", "d"]
                .iter()
                .map(|c| index(table, &[format!("a_rather_long_column_name_{c}")]))
                .collect();
            for n in &names {
                assert_eq!(n.len(), MAX_IDENT_BYTES, "{n}");
                assert!(
                    n.starts_with("idx_customer_subscription_billing_history_"),
                    "{n}"
                );
            }
            let mut distinct = names.clone();
            distinct.sort();
            distinct.dedup();
            assert_eq!(distinct.len(), 4, "{names:?}");
            // Deterministic: the same inputs give the same name.
            assert_eq!(
                names[0],
                index(table, &["a_rather_long_column_name_a".into()])
            );
        }

        #[test]
        fn cuts_on_a_character_boundary() {
            let table = "é".repeat(40);
            let name = unique(&table, &["x".into()]);
            assert!(name.len() <= MAX_IDENT_BYTES);
            assert!(name.starts_with("uq_é"));
        }
    }
}
