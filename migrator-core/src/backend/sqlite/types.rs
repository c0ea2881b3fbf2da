//! The SQLite type map read back: a declared type to the portable type
//! (the inverse of `render::column_type`; see `introspect::normalize` for
//! the rules shared by the readers).

use crate::introspect::normalize::varchar_length;
use crate::schema::ColumnType;

/// The portable type for a SQLite declared type (see the module docs).
#[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
pub(crate) fn sqlite_type(declared: &str) -> ColumnType {
    let t = declared.trim();
    let up = t.to_ascii_uppercase();
    match up.as_str() {
        // SQLite stores every integer in up to 8 bytes and every float in
        // 8: `INTEGER` (the rowid alias, and what earlier versions
        // declared for every integer) and `REAL` read back as the widest.
        "INTEGER" | "BIGINT" | "INT8" => ColumnType::BigInt,
        "SMALLINT" | "INT2" => ColumnType::SmallInt,
        "REAL" | "DOUBLE" | "DOUBLE PRECISION" => ColumnType::Double,
        "BOOLEAN" => ColumnType::Boolean,
        "TEXT" => ColumnType::Text,
        "BLOB" => ColumnType::Blob,
        "DATE" => ColumnType::Date,
        "TIME" => ColumnType::Time,
        "TIMESTAMP" => ColumnType::Timestamp,
        "TIMESTAMPTZ" => ColumnType::TimestampTz,
        // SQLite reports these declared types in capitals however they were
        // written (`int` comes back as `INT`).
        "INT" => ColumnType::Custom(up),
        _ => varchar_length(&up, "VARCHAR")
            .map(ColumnType::Varchar)
            .unwrap_or_else(|| ColumnType::Custom(t.to_string())),
    }
}
