//! The PostgreSQL type map read back: `format_type` output to the
//! portable type and the `sql_type` spelling (the inverse of
//! `render::column_type`).

use crate::introspect::normalize::varchar_length;
use crate::schema::ColumnType;

/// The portable type for a PostgreSQL `format_type` result. `builtin` is
/// true when the type (or an array's element type) lives in `pg_catalog`;
/// only those names are respelled.
#[cfg_attr(not(feature = "postgres"), allow(dead_code))]
pub(crate) fn pg_type(format: &str, builtin: bool) -> ColumnType {
    let f = format.trim();
    match f {
        "smallint" => ColumnType::SmallInt,
        "integer" => ColumnType::Integer,
        "bigint" => ColumnType::BigInt,
        "real" => ColumnType::Real,
        "double precision" => ColumnType::Double,
        "boolean" => ColumnType::Boolean,
        "text" => ColumnType::Text,
        "bytea" => ColumnType::Blob,
        "date" => ColumnType::Date,
        "time without time zone" => ColumnType::Time,
        "timestamp without time zone" => ColumnType::Timestamp,
        "timestamp with time zone" => ColumnType::TimestampTz,
        "uuid" => ColumnType::Uuid,
        "jsonb" => ColumnType::Json,
        _ => match varchar_length(f, "character varying") {
            Some(n) => ColumnType::Varchar(n),
            None if builtin => ColumnType::Custom(pg_spelling(f)),
            None => ColumnType::Custom(f.to_string()),
        },
    }
}

/// The `sql_type` spelling of a built-in PostgreSQL type as `format_type`
/// prints it: the short SQL names, uppercase, `(p, s)` with a space.
#[cfg_attr(not(feature = "postgres"), allow(dead_code))]
fn pg_spelling(format: &str) -> String {
    let (base, array) = match format.find("[]") {
        Some(i) => (&format[..i], &format[i..]),
        None => (format, ""),
    };
    // `timestamp(3) with time zone`: the arguments sit between the words.
    let (words, args) = match (base.find('('), base.find(')')) {
        (Some(i), Some(j)) if i < j => (
            format!("{} {}", &base[..i], &base[j + 1..]),
            base[i + 1..j]
                .split(',')
                .map(str::trim)
                .collect::<Vec<_>>()
                .join(", "),
        ),
        _ => (base.to_string(), String::new()),
    };
    let words = words.split_whitespace().collect::<Vec<_>>().join(" ");
    let short = match words.as_str() {
        "character varying" => "VARCHAR".to_string(),
        "character" => "CHAR".to_string(),
        "bit varying" => "VARBIT".to_string(),
        "timestamp with time zone" => "TIMESTAMPTZ".to_string(),
        "timestamp without time zone" => "TIMESTAMP".to_string(),
        "time with time zone" => "TIMETZ".to_string(),
        "time without time zone" => "TIME".to_string(),
        other => other.to_ascii_uppercase(),
    };
    if args.is_empty() {
        format!("{short}{array}")
    } else {
        format!("{short}({args}){array}")
    }
}

/// What `format_type` would print for the SQL type `sql` (the snapshot's
/// spelling), as far as text can tell: common aliases are resolved, case
/// and spaces normalised. Used only when the database cannot be asked (see
/// `postgres::expected`). The second value says whether the name is a
/// built-in one.
#[cfg_attr(not(feature = "postgres"), allow(dead_code))]
pub(crate) fn pg_format_guess(sql: &str) -> (String, bool) {
    let lower = sql.trim().to_ascii_lowercase();
    let (base, array) = match lower.find("[]") {
        Some(i) => (lower[..i].trim().to_string(), lower[i..].replace(' ', "")),
        None => (lower.clone(), String::new()),
    };
    let (name, args) = match base.find('(') {
        Some(i) => (
            base[..i].split_whitespace().collect::<Vec<_>>().join(" "),
            base[i..]
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect::<String>(),
        ),
        None => (
            base.split_whitespace().collect::<Vec<_>>().join(" "),
            String::new(),
        ),
    };
    // `timestamp(3) with time zone`: the zone words come after the args.
    let (args, zone) = match args.find(')') {
        Some(j) if j + 1 < args.len() => (args[..=j].to_string(), args[j + 1..].to_string()),
        _ => (args, String::new()),
    };
    let with_tz = zone.contains("withtimezone") || name.ends_with("with time zone");
    let name = name
        .trim_end_matches("with time zone")
        .trim_end_matches("without time zone")
        .trim()
        .to_string();
    let canonical = match name.as_str() {
        "int" | "int4" | "integer" | "serial" | "serial4" => "integer".to_string(),
        "int2" | "smallint" | "smallserial" | "serial2" => "smallint".to_string(),
        "int8" | "bigint" | "bigserial" | "serial8" => "bigint".to_string(),
        "float4" | "real" => "real".to_string(),
        "float8" | "double precision" | "float" => "double precision".to_string(),
        "bool" | "boolean" => "boolean".to_string(),
        "decimal" | "numeric" => "numeric".to_string(),
        "varchar" | "character varying" => "character varying".to_string(),
        // Without a length, CHAR and BIT mean length 1.
        "char" | "character" | "bpchar" if args.is_empty() => "character(1)".to_string(),
        "char" | "character" | "bpchar" => "character".to_string(),
        "bit" if args.is_empty() => "bit(1)".to_string(),
        "varbit" | "bit varying" => "bit varying".to_string(),
        "timestamptz" => return (format!("timestamp{args} with time zone{array}"), true),
        "timetz" => return (format!("time{args} with time zone{array}"), true),
        "timestamp" | "time" => {
            let zone = if with_tz {
                "with time zone"
            } else {
                "without time zone"
            };
            return (format!("{name}{args} {zone}{array}"), true);
        }
        other => other.to_string(),
    };
    let builtin = BUILTIN.contains(&canonical.split('(').next().unwrap_or(""));
    (format!("{canonical}{args}{array}"), builtin)
}

/// Built-in PostgreSQL type names (after alias resolution) that
/// [`pg_format_guess`] treats as `pg_catalog` types.
#[cfg_attr(not(feature = "postgres"), allow(dead_code))]
const BUILTIN: &[&str] = &[
    "integer",
    "smallint",
    "bigint",
    "real",
    "double precision",
    "boolean",
    "numeric",
    "character varying",
    "character",
    "bit",
    "bit varying",
    "text",
    "bytea",
    "date",
    "interval",
    "json",
    "jsonb",
    "uuid",
    "money",
    "inet",
    "cidr",
    "macaddr",
    "macaddr8",
    "xml",
    "tsvector",
    "tsquery",
    "point",
    "line",
    "lseg",
    "box",
    "path",
    "polygon",
    "circle",
    "oid",
    "int4range",
    "int8range",
    "numrange",
    "tsrange",
    "tstzrange",
    "daterange",
];
