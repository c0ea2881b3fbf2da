//! Portable column types and their one-line textual form.
//!
//! The textual form (`bigint`, `varchar(200)`, `sql:NUMERIC(12, 2)`) is what the
//! snapshot and migration files store, so it must parse back to the same value.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A column type in the portable vocabulary of docs/DESIGN.md §2. Each dialect maps
/// it to its own spelling (see `dialect/`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ColumnType {
    SmallInt,
    Integer,
    BigInt,
    Real,
    Double,
    Boolean,
    Text,
    Varchar(u32),
    Blob,
    Date,
    Time,
    Timestamp,
    TimestampTz,
    Uuid,
    Json,
    /// Verbatim SQL type from `sql_type = "..."`, used for every dialect.
    Custom(String),
}

/// The textual form did not name a known type.
#[derive(Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown column type `{0}`; expected one of: smallint, integer, bigint, real, double, boolean, text, varchar(N), blob, date, time, timestamp, timestamptz, uuid, json, or sql:<SQL type>")]
pub struct ParseTypeError(pub String);

impl ColumnType {
    /// For an `sql_type` that is an integer type (`INT UNSIGNED`,
    /// `tinyint(3) unsigned zerofill`, `BIGINT`, `mediumint`): its width in
    /// bits and whether it is unsigned. The MySQL integer types are what
    /// existing schemas key their tables with; the model carries them as
    /// `sql_type` with a Rust integer field.
    pub fn custom_integer(&self) -> Option<(u8, bool)> {
        let ColumnType::Custom(sql) = self else {
            return None;
        };
        let lower = sql.trim().to_ascii_lowercase();
        let mut words = lower.split_whitespace();
        let first = words.next()?;
        // A display width (`int(10)`) changes nothing stored.
        let name = match first.split_once('(') {
            Some((n, rest)) => {
                let digits = rest.strip_suffix(')')?;
                if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
                    return None;
                }
                n
            }
            None => first,
        };
        let bits = match name {
            "tinyint" => 8,
            "smallint" | "int2" => 16,
            "mediumint" => 24,
            "int" | "integer" | "int4" => 32,
            "bigint" | "int8" => 64,
            _ => return None,
        };
        let mut unsigned = false;
        for w in words {
            match w {
                "unsigned" => unsigned = true,
                "zerofill" | "signed" => {}
                _ => return None,
            }
        }
        Some((bits, unsigned))
    }

    /// Rank for integer widening, used to tell narrowing changes apart.
    pub fn integer_rank(&self) -> Option<u8> {
        match self {
            ColumnType::SmallInt => Some(1),
            ColumnType::Integer => Some(2),
            ColumnType::BigInt => Some(3),
            _ => None,
        }
    }

    /// True when converting a value of `self` to `to` may lose information,
    /// so the operation is flagged as destructive.
    pub fn is_narrowing_to(&self, to: &ColumnType) -> bool {
        use ColumnType::*;
        if self == to {
            return false;
        }
        match (self, to) {
            (a, b) if a.integer_rank().is_some() && b.integer_rank().is_some() => {
                b.integer_rank() < a.integer_rank()
            }
            (SmallInt | Integer, Double) | (SmallInt, Real) => false,
            (Real, Double) => false,
            (Varchar(a), Varchar(b)) => b < a,
            (Varchar(_), Text) => false,
            (Date, Timestamp | TimestampTz) => false,
            (Timestamp, TimestampTz) => false,
            // Everything can be written as text without loss.
            (_, Text) => false,
            _ => true,
        }
    }
}

impl fmt::Display for ColumnType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ColumnType::SmallInt => f.write_str("smallint"),
            ColumnType::Integer => f.write_str("integer"),
            ColumnType::BigInt => f.write_str("bigint"),
            ColumnType::Real => f.write_str("real"),
            ColumnType::Double => f.write_str("double"),
            ColumnType::Boolean => f.write_str("boolean"),
            ColumnType::Text => f.write_str("text"),
            ColumnType::Varchar(n) => write!(f, "varchar({n})"),
            ColumnType::Blob => f.write_str("blob"),
            ColumnType::Date => f.write_str("date"),
            ColumnType::Time => f.write_str("time"),
            ColumnType::Timestamp => f.write_str("timestamp"),
            ColumnType::TimestampTz => f.write_str("timestamptz"),
            ColumnType::Uuid => f.write_str("uuid"),
            ColumnType::Json => f.write_str("json"),
            ColumnType::Custom(s) => write!(f, "sql:{s}"),
        }
    }
}

impl FromStr for ColumnType {
    type Err = ParseTypeError;

    fn from_str(s: &str) -> Result<ColumnType, ParseTypeError> {
        if let Some(custom) = s.strip_prefix("sql:") {
            let custom = custom.trim();
            if custom.is_empty() {
                return Err(ParseTypeError(s.to_string()));
            }
            return Ok(ColumnType::Custom(custom.to_string()));
        }
        let t = s.trim().to_ascii_lowercase();
        Ok(match t.as_str() {
            "smallint" => ColumnType::SmallInt,
            "integer" => ColumnType::Integer,
            "bigint" => ColumnType::BigInt,
            "real" => ColumnType::Real,
            "double" => ColumnType::Double,
            "boolean" => ColumnType::Boolean,
            "text" => ColumnType::Text,
            "blob" => ColumnType::Blob,
            "date" => ColumnType::Date,
            "time" => ColumnType::Time,
            "timestamp" => ColumnType::Timestamp,
            "timestamptz" => ColumnType::TimestampTz,
            "uuid" => ColumnType::Uuid,
            "json" => ColumnType::Json,
            _ => {
                let n = t
                    .strip_prefix("varchar(")
                    .and_then(|r| r.strip_suffix(')'))
                    .and_then(|n| n.trim().parse::<u32>().ok())
                    .filter(|n| *n > 0)
                    .ok_or_else(|| ParseTypeError(s.to_string()))?;
                ColumnType::Varchar(n)
            }
        })
    }
}

impl Serialize for ColumnType {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ColumnType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<ColumnType, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_sql_types_are_recognised() {
        let c = |s: &str| ColumnType::Custom(s.into()).custom_integer();
        assert_eq!(c("INT UNSIGNED"), Some((32, true)));
        assert_eq!(c("int(10) unsigned"), Some((32, true)));
        assert_eq!(c("tinyint(3) unsigned zerofill"), Some((8, true)));
        assert_eq!(c("BIGINT"), Some((64, false)));
        assert_eq!(c("mediumint unsigned"), Some((24, true)));
        assert_eq!(c("NUMERIC(12, 2)"), None);
        assert_eq!(c("int, DROP COLUMN x"), None);
        assert_eq!(c("int()"), None);
        assert_eq!(c("interval"), None);
        assert_eq!(ColumnType::BigInt.custom_integer(), None);
    }

    #[test]
    fn every_type_round_trips_through_text() {
        let all = [
            ColumnType::SmallInt,
            ColumnType::Integer,
            ColumnType::BigInt,
            ColumnType::Real,
            ColumnType::Double,
            ColumnType::Boolean,
            ColumnType::Text,
            ColumnType::Varchar(200),
            ColumnType::Blob,
            ColumnType::Date,
            ColumnType::Time,
            ColumnType::Timestamp,
            ColumnType::TimestampTz,
            ColumnType::Uuid,
            ColumnType::Json,
            ColumnType::Custom("NUMERIC(12, 2)".into()),
        ];
        for t in all {
            assert_eq!(t.to_string().parse::<ColumnType>(), Ok(t.clone()), "{t}");
        }
    }

    #[test]
    fn bad_types_are_refused() {
        for bad in ["varchar", "varchar(0)", "varchar(x)", "sql:", "money"] {
            assert!(bad.parse::<ColumnType>().is_err(), "{bad}");
        }
    }

    #[test]
    fn narrowing_is_detected() {
        assert!(ColumnType::BigInt.is_narrowing_to(&ColumnType::Integer));
        assert!(!ColumnType::Integer.is_narrowing_to(&ColumnType::BigInt));
        assert!(ColumnType::Varchar(200).is_narrowing_to(&ColumnType::Varchar(20)));
        assert!(!ColumnType::Varchar(20).is_narrowing_to(&ColumnType::Text));
        assert!(ColumnType::Text.is_narrowing_to(&ColumnType::Varchar(20)));
        assert!(ColumnType::Text.is_narrowing_to(&ColumnType::Integer));
    }
}

debug_as_display!(ParseTypeError);
