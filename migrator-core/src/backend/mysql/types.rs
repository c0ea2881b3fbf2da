//! The MySQL/MariaDB type map read back (`COLUMN_TYPE` to the portable
//! type, the inverse of `render::column_type`) and the one spelling of its
//! SQL expressions and literals.

use crate::introspect::normalize::{strip_outer_parens, tokenize, varchar_length, Tok, Token};
use crate::schema::ColumnType;

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
