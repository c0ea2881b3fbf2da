//! Text normalisation shared by the readers: a small SQL tokenizer, defaults
//! read back into the schema model, and the tolerant comparison key for SQL
//! expressions. Each database's type map read back (the rules on types
//! below) lives with its backend, in `backend/<database>/types.rs`.
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
//! - SQLite type names are the declared text; the names `backend/sqlite`
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

/// `n` of `<name>(n)` (spaces allowed), when positive.
pub(crate) fn varchar_length(up: &str, name: &str) -> Option<u32> {
    up.strip_prefix(name)?
        .trim()
        .strip_prefix('(')?
        .strip_suffix(')')?
        .trim()
        .parse::<u32>()
        .ok()
        .filter(|n| *n > 0)
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
