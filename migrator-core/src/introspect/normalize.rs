//! Text normalisation shared by the readers: a small SQL tokenizer, column
//! types and defaults read back into the schema model, and the tolerant
//! comparison key for SQL expressions.
//!
//! Contract: every function here is pure (no database), so the rules can be
//! unit-tested one by one, and the same rule is applied to the live side and
//! to the snapshot side of a comparison (see `expected` in each reader).
//!
//! The rules:
//! - a default that is a single literal (optionally signed, parenthesised or
//!   cast with `::type`, as PostgreSQL prints `'medium'::character varying`
//!   or `'-1'::integer`) becomes a typed [`DefaultValue`]: `NULL` is no
//!   default, `true`/`false` are `Bool`, an integer literal is `Int`
//!   (`Bool` on a SQLite BOOLEAN column when it is 0 or 1, which is how SQLite
//!   stores booleans), another number is `Float`, a string literal is `Str`,
//!   except that a string cast to a numeric type, or on an integer column, is
//!   read as that number. Anything else is `Sql` with the text as the
//!   database reports it (`CURRENT_TIMESTAMP`, `now()`);
//! - PostgreSQL type names from `format_type` map back to the portable types
//!   (`character varying(20)` is `varchar(20)`, `jsonb` is `json`); anything
//!   else is `Custom` in the spelling `sql_type` would use (`NUMERIC(12, 2)`,
//!   `CHAR(3)`, `TIMESTAMP(3)`; user-defined names stay as printed);
//! - SQLite type names are the declared text; the names `dialect/sqlite.rs`
//!   renders map back to the widest portable type with that spelling
//!   (`INTEGER` is `bigint`, `REAL` is `double`, `TEXT` is `text`), since
//!   SQLite keeps no more than that;
//! - [`expr_key`] is a comparison key for SQL expressions that PostgreSQL
//!   re-spells: lowercase outside string literals, casts and parentheses
//!   dropped, `= ANY (ARRAY[..])` read as `IN (..)`. Two expressions with the
//!   same key are treated as equal by `compare` (it may miss a change that
//!   only moves parentheses or casts; it never reports a re-spelling as
//!   drift).

use crate::schema::{ColumnType, DefaultValue};

// ---- tokenizer -------------------------------------------------------------

/// One SQL token.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Tok {
    /// A bare word: keyword, identifier or type name.
    Word(String),
    /// A quoted identifier (`"x"`, `` `x` ``, `[x]`), unquoted.
    Ident(String),
    /// A string literal, unescaped.
    Str(String),
    /// A numeric literal, as written.
    Num(String),
    /// Punctuation: `(`, `)`, `,`, `[`, `]`, `.`, `::`, or a run of operator
    /// characters (`<=`, `||`, `-`).
    Punct(String),
}

/// A token and its byte range in the source.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Token {
    pub tok: Tok,
    pub start: usize,
    pub end: usize,
}

impl Token {
    pub fn is_punct(&self, p: &str) -> bool {
        matches!(&self.tok, Tok::Punct(x) if x == p)
    }

    /// True for a bare word equal to `kw`, ignoring case.
    #[cfg_attr(not(any(feature = "sqlite", feature = "mysql")), allow(dead_code))]
    pub fn is_word(&self, kw: &str) -> bool {
        matches!(&self.tok, Tok::Word(w) if w.eq_ignore_ascii_case(kw))
    }

    /// The name this token stands for when used as an identifier.
    #[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
    pub fn name(&self) -> Option<&str> {
        match &self.tok {
            Tok::Word(w) | Tok::Ident(w) => Some(w),
            // SQLite accepts 'name' where an identifier is expected.
            Tok::Str(s) => Some(s),
            _ => None,
        }
    }
}

/// Splits SQL text into tokens; comments are skipped, an unterminated quote
/// runs to the end of the text.
pub(crate) fn tokenize(sql: &str) -> Vec<Token> {
    let b = sql.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let start = i;
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        if c == b'-' && b.get(i + 1) == Some(&b'-') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        if c == b'/' && b.get(i + 1) == Some(&b'*') {
            i += 2;
            while i < b.len() && !(b[i] == b'*' && b.get(i + 1) == Some(&b'/')) {
                i += 1;
            }
            i = (i + 2).min(b.len());
            continue;
        }
        let tok = match c {
            b'\'' | b'"' | b'`' => {
                let (text, end) = quoted(sql, i, c as char);
                i = end;
                if c == b'\'' {
                    Tok::Str(text)
                } else {
                    Tok::Ident(text)
                }
            }
            b'[' if !matches!(
                out.last(),
                Some(Token { tok: Tok::Word(w), .. }) if w.eq_ignore_ascii_case("ARRAY")
            ) =>
            {
                // SQLite's [identifier]; PostgreSQL's ARRAY[..] is punctuation.
                match sql[i + 1..].find(']') {
                    Some(n) => {
                        i += n + 2;
                        Tok::Ident(sql[start + 1..i - 1].to_string())
                    }
                    None => {
                        i += 1;
                        Tok::Punct("[".into())
                    }
                }
            }
            b'0'..=b'9' => {
                i = number_end(b, i);
                Tok::Num(sql[start..i].to_string())
            }
            b'.' if b.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                i = number_end(b, i);
                Tok::Num(sql[start..i].to_string())
            }
            _ if c == b'_' || c == b'$' || c.is_ascii_alphabetic() || c >= 0x80 => {
                while i < b.len()
                    && (b[i] == b'_'
                        || b[i] == b'$'
                        || b[i].is_ascii_alphanumeric()
                        || b[i] >= 0x80)
                {
                    i += 1;
                }
                Tok::Word(sql[start..i].to_string())
            }
            b'(' | b')' | b',' | b'[' | b']' | b'.' | b';' => {
                i += 1;
                Tok::Punct((c as char).to_string())
            }
            b':' if b.get(i + 1) == Some(&b':') => {
                i += 2;
                Tok::Punct("::".into())
            }
            _ => {
                // A run of operator characters; a sign before a number stays
                // its own token so literals can be recognised.
                i += 1;
                if c != b'-' && c != b'+' {
                    while i < b.len() && b"<>=!|&*/%~^@#?:".contains(&b[i]) {
                        i += 1;
                    }
                }
                Tok::Punct(sql[start..i].to_string())
            }
        };
        out.push(Token { tok, start, end: i });
    }
    out
}

/// The unescaped text of a quoted token starting at `i` (a doubled quote is
/// one quote), and the index after it.
fn quoted(sql: &str, i: usize, q: char) -> (String, usize) {
    let mut text = String::new();
    let mut chars = sql[i + 1..].char_indices().peekable();
    while let Some((j, ch)) = chars.next() {
        if ch == q {
            if chars.peek().map(|(_, n)| *n) == Some(q) {
                chars.next();
                text.push(q);
                continue;
            }
            return (text, i + 1 + j + 1);
        }
        text.push(ch);
    }
    (text, sql.len())
}

fn number_end(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && (b[i].is_ascii_digit() || b[i] == b'.') {
        i += 1;
    }
    if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
        let mut j = i + 1;
        if j < b.len() && (b[j] == b'+' || b[j] == b'-') {
            j += 1;
        }
        if j < b.len() && b[j].is_ascii_digit() {
            i = j;
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
        }
    }
    i
}

/// The index of the `)` matching the `(` at `open`, if any.
pub(crate) fn matching_paren(toks: &[Token], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (k, t) in toks.iter().enumerate().skip(open) {
        if t.is_punct("(") {
            depth += 1;
        } else if t.is_punct(")") {
            depth = depth.checked_sub(1)?;
            if depth == 0 {
                return Some(k);
            }
        }
    }
    None
}

/// `s` without one pair of parentheses around all of it, trimmed.
pub(crate) fn strip_outer_parens(s: &str) -> &str {
    let s = s.trim();
    let toks = tokenize(s);
    if toks.first().is_some_and(|t| t.is_punct("("))
        && matching_paren(&toks, 0) == Some(toks.len() - 1)
    {
        return s[1..s.len() - 1].trim();
    }
    s
}

// ---- defaults ----------------------------------------------------------------

/// A default that is a single literal.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Lit {
    Null,
    Bool(bool),
    Int(i64),
    /// A number that is not an `i64`, as written.
    Num(String),
    Str(String),
}

/// Reads `expr` as one literal: optionally parenthesised, signed, and cast
/// (`'x'::text`, `('-1'::integer)`). Returns the literal and the last cast's
/// type name, lowercase.
pub(crate) fn literal(expr: &str) -> Option<(Lit, Option<String>)> {
    let toks = tokenize(expr);
    let mut toks: &[Token] = &toks;
    let mut cast = None;
    loop {
        toks = strip_paren_tokens(toks);
        // A trailing cast: `<operand> :: <type words, (n), []>` at depth 0.
        let mut depth = 0i32;
        let mut at = None;
        for (k, t) in toks.iter().enumerate() {
            if t.is_punct("(") || t.is_punct("[") {
                depth += 1;
            } else if t.is_punct(")") || t.is_punct("]") {
                depth -= 1;
            } else if depth == 0 && t.is_punct("::") {
                at = Some(k);
            }
        }
        match at {
            Some(k) => {
                let ty = &expr[toks.get(k + 1)?.start..toks.last()?.end];
                cast = cast.or_else(|| Some(ty.trim().to_ascii_lowercase()));
                toks = &toks[..k];
            }
            None => break,
        }
    }
    let lit = match toks {
        [t] => match &t.tok {
            Tok::Str(s) => Lit::Str(s.clone()),
            Tok::Num(n) => number(n),
            Tok::Word(w) if w.eq_ignore_ascii_case("null") => Lit::Null,
            Tok::Word(w) if w.eq_ignore_ascii_case("true") => Lit::Bool(true),
            Tok::Word(w) if w.eq_ignore_ascii_case("false") => Lit::Bool(false),
            _ => return None,
        },
        [sign, n] if (sign.is_punct("-") || sign.is_punct("+")) => match &n.tok {
            Tok::Num(n) if sign.is_punct("-") => number(&format!("-{n}")),
            Tok::Num(n) => number(n),
            _ => return None,
        },
        _ => return None,
    };
    Some((lit, cast))
}

fn strip_paren_tokens(mut toks: &[Token]) -> &[Token] {
    while toks.len() >= 2
        && toks[0].is_punct("(")
        && matching_paren(toks, 0) == Some(toks.len() - 1)
    {
        toks = &toks[1..toks.len() - 1];
    }
    toks
}

fn number(text: &str) -> Lit {
    match text.parse::<i64>() {
        Ok(i) => Lit::Int(i),
        Err(_) => Lit::Num(text.to_string()),
    }
}

fn is_numeric_cast(cast: &str) -> bool {
    let base = cast.split('(').next().unwrap_or("").trim();
    matches!(
        base,
        "integer"
            | "bigint"
            | "smallint"
            | "numeric"
            | "decimal"
            | "real"
            | "double precision"
            | "int"
            | "int2"
            | "int4"
            | "int8"
            | "float4"
            | "float8"
    )
}

/// Where a default was read from; decides the few spellings that differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    #[cfg_attr(not(feature = "postgres"), allow(dead_code))]
    Postgres,
    #[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
    Sqlite,
    /// MySQL/MariaDB: booleans are `tinyint(1)` and read back as 0 or 1, a
    /// float column prints a whole default without a fraction.
    Mysql,
}

/// A MySQL column type that prints a whole default with a fraction or
/// without (`FLOAT`, `DOUBLE`, `DECIMAL`): an integer default there is read
/// as a float on both sides.
fn mysql_fractional(ty: &ColumnType) -> bool {
    match ty {
        ColumnType::Real | ColumnType::Double => true,
        ColumnType::Custom(c) => {
            let up = c.trim().to_ascii_uppercase();
            [
                "DECIMAL", "NUMERIC", "FLOAT", "DOUBLE", "REAL", "DEC", "FIXED",
            ]
            .iter()
            .any(|p| up.starts_with(p))
        }
        _ => false,
    }
}

/// MySQL SQL text with its string literals' backslash escapes resolved
/// (`'it\'s'` is `'it''s'`, `'a\\b'` is `'a\b'`), so the tokenizer
/// reads them as the server does (without `NO_BACKSLASH_ESCAPES`).
#[cfg_attr(not(feature = "mysql"), allow(dead_code))]
pub(crate) fn mysql_unescape(sql: &str) -> String {
    let mut out = String::new();
    let mut in_str = false;
    let mut chars = sql.chars().peekable();
    while let Some(ch) = chars.next() {
        if !in_str {
            in_str = ch == '\'';
            out.push(ch);
            continue;
        }
        match ch {
            '\\' => match chars.next() {
                Some('\'') => out.push_str("''"),
                Some('n') => out.push('\n'),
                Some('t') => out.push('\t'),
                Some('r') => out.push('\r'),
                Some('0') => out.push('\0'),
                Some('Z') => out.push('\u{1a}'),
                Some(c @ ('%' | '_')) => {
                    out.push('\\');
                    out.push(c);
                }
                Some(c) => out.push(c),
                None => out.push('\\'),
            },
            '\'' if chars.peek() == Some(&'\'') => {
                chars.next();
                out.push_str("''");
            }
            '\'' => {
                in_str = false;
                out.push(ch);
            }
            c => out.push(c),
        }
    }
    out
}

/// The typed default for the default text `expr` of a column of type `ty`,
/// by the rules in the module docs. `None` for `NULL`.
pub(crate) fn default_value(expr: &str, ty: &ColumnType, source: Source) -> Option<DefaultValue> {
    let expr = expr.trim();
    let Some((lit, cast)) = literal(expr) else {
        return Some(DefaultValue::Sql(expr.to_string()));
    };
    let integer_column = ty.integer_rank().is_some();
    Some(match lit {
        Lit::Null => return None,
        Lit::Bool(b) => DefaultValue::Bool(b),
        Lit::Int(i @ (0 | 1))
            if matches!(source, Source::Sqlite | Source::Mysql) && *ty == ColumnType::Boolean =>
        {
            DefaultValue::Bool(i == 1)
        }
        // An integer literal on a float column is the float the model's
        // `default = 0` lowers to (every database prints `0`); MySQL also
        // prints decimals' defaults so.
        Lit::Int(i)
            if matches!(ty, ColumnType::Real | ColumnType::Double)
                || (source == Source::Mysql && mysql_fractional(ty)) =>
        {
            DefaultValue::Float(i as f64)
        }
        Lit::Int(i) => DefaultValue::Int(i),
        Lit::Num(n) => match n.parse::<f64>() {
            Ok(f) if f.is_finite() => DefaultValue::Float(f),
            _ => DefaultValue::Sql(expr.to_string()),
        },
        Lit::Str(s) => {
            let numeric = integer_column || cast.as_deref().is_some_and(is_numeric_cast);
            match (numeric, s.trim().parse::<i64>(), s.trim().parse::<f64>()) {
                (true, Ok(i), _) => DefaultValue::Int(i),
                (true, _, Ok(f)) if f.is_finite() => DefaultValue::Float(f),
                _ => DefaultValue::Str(s),
            }
        }
    })
}

// ---- types -------------------------------------------------------------------

/// The portable type for a SQLite declared type (see the module docs).
#[cfg_attr(not(feature = "sqlite"), allow(dead_code))]
pub(crate) fn sqlite_type(declared: &str) -> ColumnType {
    let t = declared.trim();
    let up = t.to_ascii_uppercase();
    match up.as_str() {
        "INTEGER" => ColumnType::BigInt,
        "REAL" => ColumnType::Double,
        "BOOLEAN" => ColumnType::Boolean,
        "TEXT" => ColumnType::Text,
        "BLOB" => ColumnType::Blob,
        "DATE" => ColumnType::Date,
        "TIME" => ColumnType::Time,
        "TIMESTAMP" => ColumnType::Timestamp,
        "TIMESTAMPTZ" => ColumnType::TimestampTz,
        // SQLite reports these declared types in capitals however they were
        // written (`int` comes back as `INT`; `bigint` stays as written).
        "INT" => ColumnType::Custom(up),
        _ => varchar_length(&up, "VARCHAR")
            .map(ColumnType::Varchar)
            .unwrap_or_else(|| ColumnType::Custom(t.to_string())),
    }
}

/// `n` of `<name>(n)` (spaces allowed), when positive.
fn varchar_length(up: &str, name: &str) -> Option<u32> {
    up.strip_prefix(name)?
        .trim()
        .strip_prefix('(')?
        .strip_suffix(')')?
        .trim()
        .parse::<u32>()
        .ok()
        .filter(|n| *n > 0)
}

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

/// The portable type for a MySQL/MariaDB `COLUMN_TYPE` (`int(11)`,
/// `tinyint(1)`, `varchar(20)`, `datetime(6)`, `decimal(12,2)`): the
/// spellings `dialect/mysql.rs` renders map back to their portable type
/// (display widths of integer types are ignored, `tinyint(1)` is a
/// boolean); anything else is `Custom`, uppercase outside quotes, display
/// widths dropped. MariaDB's JSON (`longtext` with a `json_valid` check) is
/// recognised by the reader, not here.
#[cfg_attr(not(feature = "mysql"), allow(dead_code))]
pub(crate) fn mysql_type(column_type: &str) -> ColumnType {
    let t = mysql_canonical_type(column_type);
    match t.as_str() {
        "tinyint(1)" => ColumnType::Boolean,
        "smallint" => ColumnType::SmallInt,
        "int" => ColumnType::Integer,
        "bigint" => ColumnType::BigInt,
        "float" => ColumnType::Real,
        "double" => ColumnType::Double,
        "text" => ColumnType::Text,
        "longblob" => ColumnType::Blob,
        "date" => ColumnType::Date,
        "time(6)" => ColumnType::Time,
        "datetime(6)" => ColumnType::Timestamp,
        "timestamp(6)" => ColumnType::TimestampTz,
        "char(36)" => ColumnType::Uuid,
        "json" => ColumnType::Json,
        _ => match varchar_length(&t, "varchar") {
            Some(n) => ColumnType::Varchar(n),
            None => ColumnType::Custom(upper_outside_quotes(&t)),
        },
    }
}

/// A MySQL type as `COLUMN_TYPE` would print it, from the SQL spelling of
/// a `sql_type` (or a rendered portable type): lowercase outside quotes, no
/// blanks inside parentheses, common aliases resolved (`BOOLEAN` is
/// `tinyint(1)`, `INTEGER` is `int`, `NUMERIC` is `decimal`, `REAL` is
/// `double`), integer display widths dropped. Used on both sides of a
/// comparison, so the live `COLUMN_TYPE` goes through it too.
#[cfg_attr(not(feature = "mysql"), allow(dead_code))]
pub(crate) fn mysql_canonical_type(sql: &str) -> String {
    // Lowercase outside quotes, blanks collapsed, none inside parentheses.
    let mut t = String::new();
    let mut quote: Option<char> = None;
    let mut depth = 0i32;
    let mut pending_space = false;
    for ch in sql.trim().chars() {
        if let Some(q) = quote {
            t.push(ch);
            if ch == q {
                quote = None;
            }
            continue;
        }
        match ch {
            '\'' | '"' => {
                quote = Some(ch);
                if pending_space && depth == 0 {
                    t.push(' ');
                }
                pending_space = false;
                t.push(ch);
            }
            c if c.is_whitespace() => pending_space = !t.is_empty(),
            '(' => {
                depth += 1;
                pending_space = false;
                t.push('(');
            }
            ')' => {
                depth -= 1;
                pending_space = false;
                t.push(')');
            }
            c => {
                if pending_space && depth == 0 && !t.ends_with('(') {
                    t.push(' ');
                }
                pending_space = false;
                t.extend(c.to_lowercase());
            }
        }
    }
    let (base, rest) = match t.find('(') {
        Some(i) => (t[..i].to_string(), t[i..].to_string()),
        None => match t.find(' ') {
            Some(i) => (t[..i].to_string(), t[i..].to_string()),
            None => (t.clone(), String::new()),
        },
    };
    let base = match base.as_str() {
        "bool" | "boolean" => return "tinyint(1)".to_string(),
        "integer" => "int".to_string(),
        "numeric" | "dec" | "fixed" => "decimal".to_string(),
        "real" | "float8" => "double".to_string(),
        "double precision" => "double".to_string(),
        "float4" => "float".to_string(),
        "int2" => "smallint".to_string(),
        "int4" => "int".to_string(),
        "int8" => "bigint".to_string(),
        "character" => "char".to_string(),
        other => other.to_string(),
    };
    let (base, rest) = if base == "double" && rest.starts_with(" precision") {
        (base, rest[" precision".len()..].to_string())
    } else {
        (base, rest)
    };
    let integer = matches!(
        base.as_str(),
        "tinyint" | "smallint" | "mediumint" | "int" | "bigint"
    );
    let rest = if integer && rest.starts_with('(') && !(base == "tinyint" && rest == "(1)") {
        // A display width: `int(11)` is `int`.
        match rest.find(')') {
            Some(j) => rest[j + 1..].to_string(),
            None => rest,
        }
    } else if rest.is_empty() && base == "decimal" {
        "(10,0)".to_string()
    } else if rest.is_empty() && base == "char" {
        "(1)".to_string()
    } else {
        rest
    };
    format!("{base}{rest}").trim().to_string()
}

#[cfg_attr(not(feature = "mysql"), allow(dead_code))]
fn upper_outside_quotes(s: &str) -> String {
    let mut out = String::new();
    let mut quote: Option<char> = None;
    for ch in s.chars() {
        match quote {
            Some(q) => {
                out.push(ch);
                if ch == q {
                    quote = None;
                }
            }
            None => {
                if ch == '\'' || ch == '"' {
                    quote = Some(ch);
                }
                out.extend(ch.to_uppercase());
            }
        }
    }
    out
}

/// One spelling of a MySQL/MariaDB SQL expression (a check or a default),
/// applied to what the database prints and to the snapshot alike: outer
/// parentheses dropped, words and quoted identifiers lowercase (MySQL
/// column names ignore case), charset introducers (`_utf8mb4'x'`) dropped,
/// `!=` as `<>`, single spaces between tokens except inside parentheses,
/// before commas and between a function name and its arguments.
#[cfg_attr(not(feature = "mysql"), allow(dead_code))]
pub(crate) fn mysql_expr(expr: &str) -> String {
    let mut e = expr.trim();
    loop {
        let s = strip_outer_parens(e);
        if s.len() == e.len() {
            break;
        }
        e = s;
    }
    let toks = tokenize(e);
    let mut out = String::new();
    let mut prev: Option<&Token> = None;
    for (k, t) in toks.iter().enumerate() {
        // `_utf8mb4'x'`: a charset introducer before a string literal.
        if let Tok::Word(w) = &t.tok {
            if w.starts_with('_')
                && toks
                    .get(k + 1)
                    .is_some_and(|n| matches!(n.tok, Tok::Str(_)) && n.start == t.end)
            {
                continue;
            }
        }
        let text = match &t.tok {
            Tok::Word(w) | Tok::Ident(w) => w.to_lowercase(),
            Tok::Str(s) => format!("'{}'", s.replace('\'', "''")),
            Tok::Num(n) => n.clone(),
            Tok::Punct(p) if p == "!=" => "<>".to_string(),
            Tok::Punct(p) => p.clone(),
        };
        let glue = match prev {
            None => true,
            Some(p) => {
                p.is_punct("(")
                    || t.is_punct(")")
                    || t.is_punct(",")
                    || (t.is_punct("(")
                        && matches!(p.tok, Tok::Word(_) | Tok::Ident(_))
                        && p.end == t.start)
            }
        };
        if !glue {
            out.push(' ');
        }
        out.push_str(&text);
        prev = Some(t);
    }
    out
}

// ---- expressions -----------------------------------------------------------

/// The tolerant comparison key of an SQL expression (module docs).
pub fn expr_key(expr: &str) -> String {
    let toks = tokenize(expr);
    let mut words: Vec<String> = Vec::new();
    let mut k = 0;
    while k < toks.len() {
        let t = &toks[k];
        if t.is_punct("::") {
            // Skip the type: words, an optional (n, m) and [] suffixes.
            k += 1;
            while k < toks.len() && matches!(toks[k].tok, Tok::Word(_) | Tok::Ident(_)) {
                k += 1;
                if toks.get(k).is_some_and(|t| t.is_punct(".")) {
                    k += 1;
                }
            }
            if toks.get(k).is_some_and(|t| t.is_punct("(")) {
                k = matching_paren(&toks, k).map_or(toks.len(), |e| e + 1);
            }
            while toks.get(k).is_some_and(|t| t.is_punct("["))
                && toks.get(k + 1).is_some_and(|t| t.is_punct("]"))
            {
                k += 2;
            }
            continue;
        }
        match &t.tok {
            Tok::Punct(p) if p == "(" || p == ")" => {}
            Tok::Word(w) => words.push(w.to_ascii_lowercase()),
            Tok::Ident(w) => words.push(w.to_ascii_lowercase()),
            Tok::Str(s) => words.push(format!("'{}'", s.replace('\'', "''"))),
            Tok::Num(n) => words.push(n.clone()),
            Tok::Punct(p) if p == "<>" => words.push("!=".into()),
            Tok::Punct(p) => words.push(p.clone()),
        }
        k += 1;
    }
    // `= ANY ARRAY [ a , b ]` is PostgreSQL's spelling of `IN ( a , b )`.
    let mut out: Vec<String> = Vec::new();
    let mut k = 0;
    while k < words.len() {
        if words[k] == "="
            && words.get(k + 1).map(String::as_str) == Some("any")
            && words.get(k + 2).map(String::as_str) == Some("array")
            && words.get(k + 3).map(String::as_str) == Some("[")
        {
            out.push("in".into());
            k += 4;
            let mut depth = 1;
            while k < words.len() {
                match words[k].as_str() {
                    "[" => depth += 1,
                    "]" => {
                        depth -= 1;
                        if depth == 0 {
                            k += 1;
                            break;
                        }
                    }
                    _ => {}
                }
                out.push(words[k].clone());
                k += 1;
            }
            continue;
        }
        out.push(words[k].clone());
        k += 1;
    }
    out.join(" ")
}
