//! [`Uuid`]: a UUID field that works with diesel on every database.
//!
//! diesel maps `uuid::Uuid` on PostgreSQL only (its `uuid` column type);
//! SQLite and MySQL/MariaDB store a UUID as text, which diesel cannot bind
//! to `uuid::Uuid`, and Rust's coherence rules keep a crate other than
//! diesel from adding that. So a model names this wrapper: `schema!()`
//! gives its column diesel's `Uuid` on PostgreSQL and
//! [`super::sql_types::Uuid`] (text) elsewhere, and the wrapper converts
//! both ways on each. It derefs to `uuid::Uuid` and converts from and into
//! it.
//!
//! Text is written as the hyphenated lower-case form (what migrator's
//! `CHAR(36)` and PostgreSQL's own output hold) and read in any form
//! `uuid::Uuid::try_parse` accepts; a value that is not a UUID is an error
//! naming it.

use diesel::deserialize::{self, FromSql};
use diesel::serialize::{self, Output, ToSql};

/// A UUID column of a model, on any database (see the module).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Default,
    diesel::expression::AsExpression,
    diesel::deserialize::FromSqlRow,
)]
#[diesel(sql_type = super::sql_types::Uuid)]
#[cfg_attr(feature = "postgres", diesel(sql_type = diesel::sql_types::Uuid))]
pub struct Uuid(pub uuid::Uuid);

impl Uuid {
    /// The nil UUID (all zeros).
    pub const fn nil() -> Uuid {
        Uuid(uuid::Uuid::nil())
    }
}

impl std::ops::Deref for Uuid {
    type Target = uuid::Uuid;
    fn deref(&self) -> &uuid::Uuid {
        &self.0
    }
}

impl From<uuid::Uuid> for Uuid {
    fn from(u: uuid::Uuid) -> Uuid {
        Uuid(u)
    }
}

impl From<Uuid> for uuid::Uuid {
    fn from(u: Uuid) -> uuid::Uuid {
        u.0
    }
}

impl std::fmt::Display for Uuid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(&self.0, f)
    }
}

impl std::str::FromStr for Uuid {
    type Err = uuid::Error;
    fn from_str(s: &str) -> Result<Uuid, uuid::Error> {
        uuid::Uuid::try_parse(s).map(Uuid)
    }
}

#[cfg_attr(not(any(feature = "sqlite", feature = "mysql")), allow(dead_code))]
fn parse(text: &str) -> deserialize::Result<Uuid> {
    uuid::Uuid::try_parse(text.trim())
        .map(Uuid)
        .map_err(|e| format!("{text:?} is not a UUID: {e}").into())
}

#[cfg(feature = "sqlite")]
impl FromSql<super::sql_types::Uuid, diesel::sqlite::Sqlite> for Uuid {
    fn from_sql(
        value: <diesel::sqlite::Sqlite as diesel::backend::Backend>::RawValue<'_>,
    ) -> deserialize::Result<Self> {
        let text =
            <String as FromSql<diesel::sql_types::Text, diesel::sqlite::Sqlite>>::from_sql(value)?;
        parse(&text)
    }
}

#[cfg(feature = "sqlite")]
impl ToSql<super::sql_types::Uuid, diesel::sqlite::Sqlite> for Uuid {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, diesel::sqlite::Sqlite>) -> serialize::Result {
        out.set_value(self.0.hyphenated().to_string());
        Ok(diesel::serialize::IsNull::No)
    }
}

#[cfg(feature = "mysql")]
impl FromSql<super::sql_types::Uuid, diesel::mysql::Mysql> for Uuid {
    fn from_sql(value: diesel::mysql::MysqlValue<'_>) -> deserialize::Result<Self> {
        let text =
            <String as FromSql<diesel::sql_types::Text, diesel::mysql::Mysql>>::from_sql(value)?;
        parse(&text)
    }
}

#[cfg(feature = "mysql")]
impl ToSql<super::sql_types::Uuid, diesel::mysql::Mysql> for Uuid {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, diesel::mysql::Mysql>) -> serialize::Result {
        use std::io::Write;
        out.write_all(self.0.hyphenated().to_string().as_bytes())?;
        Ok(diesel::serialize::IsNull::No)
    }
}

#[cfg(feature = "postgres")]
impl FromSql<diesel::sql_types::Uuid, diesel::pg::Pg> for Uuid {
    fn from_sql(value: diesel::pg::PgValue<'_>) -> deserialize::Result<Self> {
        <uuid::Uuid as FromSql<diesel::sql_types::Uuid, diesel::pg::Pg>>::from_sql(value).map(Uuid)
    }
}

#[cfg(feature = "postgres")]
impl ToSql<diesel::sql_types::Uuid, diesel::pg::Pg> for Uuid {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, diesel::pg::Pg>) -> serialize::Result {
        <uuid::Uuid as ToSql<diesel::sql_types::Uuid, diesel::pg::Pg>>::to_sql(&self.0, out)
    }
}
