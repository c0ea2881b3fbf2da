//! The SQL lexer every scanner shares: the fragment checks
//! ([`crate::sql_fragment`]) and the statement splitter of the lint.
//!
//! Contract: [`lex`] reads a text the way one database in one session mode
//! ([`Mode`]; each backend lists its own, see `Backend::lex_modes`) reads
//! it: `'..'` with `''` (and, where the mode says so, backslash escapes),
//! PostgreSQL's `E'..'` and `$tag$..$tag$`, `".."` (a name, or a string on
//! MySQL without `ANSI_QUOTES`), `` `..` ``, SQLite's `[..]`. Two inputs:
//! - [`Input::Fragment`]: one type or expression pasted into DDL; a
//!   comment, a `;`, an unbalanced parenthesis or an unterminated literal is
//!   an error;
//! - [`Input::Script`]: a whole text of statements; comments (`--`, `/* */`,
//!   nested on PostgreSQL, `#` on MySQL) and `;` are tokens, and nothing is
//!   an error (an unterminated literal runs to the end; a stray `)` is kept).
//!
//! Tokens carry byte offsets into the input, never copies.

use crate::dialect::Dialect;

/// What a token is; the text is `input[start..end]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Word,
    Quoted,
    String,
    Number,
    Open,
    Close,
    Comma,
    Dot,
    Symbol,
    /// [`Input::Script`] only.
    Comment,
    /// [`Input::Script`] only.
    Semicolon,
}

#[derive(Debug, Clone, Copy)]
pub(crate) struct Token {
    pub kind: Kind,
    pub start: usize,
    pub end: usize,
    /// Parenthesis depth before the token (`(` and `)` at the outer depth).
    pub depth: usize,
}

/// One way a database may read a text. MySQL's reading depends on the
/// session's `sql_mode` (`ANSI_QUOTES`: `"` quotes names, without backslash
/// escapes; `NO_BACKSLASH_ESCAPES`: `'..'` without them), so its backend
/// lists a mode for each.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Mode {
    /// The database, for messages.
    pub d: Dialect,
    /// A backslash escapes inside `'..'` (and `".."` unless `ansi`).
    pub backslash: bool,
    /// `"` quotes names (MySQL: `ANSI_QUOTES`).
    pub ansi: bool,
    /// `$tag$ .. $tag$` strings and `E'..'` (PostgreSQL).
    pub dollar_quotes: bool,
    /// `` `..` `` quotes names.
    pub backticks: bool,
    /// `[..]` quotes names (SQLite).
    pub brackets: bool,
    /// `#` starts a comment (MySQL).
    pub hash_comments: bool,
    /// Block comments nest (PostgreSQL).
    pub nested_comments: bool,
}

/// What [`lex`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Input {
    Fragment,
    Script,
}

/// Why [`Input::Fragment`] text was refused: the byte offset and a reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LexError {
    pub offset: usize,
    pub reason: String,
}

fn err<T>(offset: usize, reason: impl Into<String>) -> Result<T, LexError> {
    Err(LexError {
        offset,
        reason: reason.into(),
    })
}

/// Lexes a fragment (see [`Input::Fragment`]).
pub(crate) fn lex(s: &str, m: Mode) -> Result<Vec<Token>, LexError> {
    scan(s, m, Input::Fragment)
}

/// Lexes a text of statements (see [`Input::Script`]); never fails.
pub(crate) fn lex_script(s: &str, m: Mode) -> Vec<Token> {
    scan(s, m, Input::Script).unwrap_or_default()
}

/// The statements of a script: the tokens between `;`, without empty ones.
pub(crate) fn split_statements(tokens: &[Token]) -> Vec<&[Token]> {
    tokens
        .split(|t| t.kind == Kind::Semicolon)
        .filter(|s| s.iter().any(|t| t.kind != Kind::Comment))
        .collect()
}

/// `sql` without the qualification `schema.` in front of names: a word
/// equal to `schema` (unquoted names compare case-insensitively) or a
/// quoted name equal to it, followed by `.`, is removed; literals,
/// comments and dollar-quoted bodies are left as they are. For definitions
/// the database prints qualified (PostgreSQL's `pg_get_indexdef` names the
/// table with its schema) that must apply to whichever schema a run uses.
#[cfg(feature = "postgres")]
pub(crate) fn unqualify(sql: &str, schema: &str, m: Mode) -> String {
    let tokens = lex_script(sql, m);
    let quoted = format!("\"{}\"", schema.replace('"', "\"\""));
    let mut out = String::with_capacity(sql.len());
    let mut at = 0;
    for w in tokens.windows(2) {
        let (name, dot) = (&w[0], &w[1]);
        let text = &sql[name.start..name.end];
        let is_schema = match name.kind {
            Kind::Word => text.eq_ignore_ascii_case(schema) && schema == schema.to_lowercase(),
            Kind::Quoted => text == quoted,
            _ => false,
        };
        // Not after a dot: `other.shop.t` keeps its parts.
        let after_dot = name.start > 0 && sql[..name.start].ends_with('.');
        if is_schema && dot.kind == Kind::Dot && dot.start == name.end && !after_dot {
            out.push_str(&sql[at..name.start]);
            at = dot.end;
        }
    }
    out.push_str(&sql[at..]);
    out
}

fn scan(s: &str, m: Mode, input: Input) -> Result<Vec<Token>, LexError> {
    let script = input == Input::Script;
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    let mut depth = 0usize;
    let mut opens: Vec<usize> = Vec::new();
    // In a script an unterminated literal or comment runs to the end.
    let end_or = |r: Result<usize, LexError>| match r {
        Err(_) if script => Ok(b.len()),
        r => r,
    };
    while i < b.len() {
        let c = b[i];
        let start = i;
        let kind = match c {
            b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c => {
                i += 1;
                continue;
            }
            b'-' if b.get(i + 1) == Some(&b'-') => {
                if !script {
                    return err(i, "a comment (`--`) is not allowed");
                }
                i = b[i..]
                    .iter()
                    .position(|&x| x == b'\n')
                    .map_or(b.len(), |p| i + p);
                Kind::Comment
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                if !script {
                    return err(i, "a comment (`/*`) is not allowed");
                }
                i = block_comment(b, i, m.nested_comments);
                Kind::Comment
            }
            b'#' if m.hash_comments => {
                if !script {
                    return err(i, "`#` starts a comment on MySQL and is not allowed");
                }
                i = b[i..]
                    .iter()
                    .position(|&x| x == b'\n')
                    .map_or(b.len(), |p| i + p);
                Kind::Comment
            }
            b';' => {
                if !script {
                    return err(i, "`;` would end the statement");
                }
                i += 1;
                Kind::Semicolon
            }
            b'(' => {
                opens.push(i);
                i += 1;
                depth += 1;
                out.push(Token {
                    kind: Kind::Open,
                    start,
                    end: i,
                    depth: depth - 1,
                });
                continue;
            }
            b')' => {
                if opens.pop().is_none() {
                    if !script {
                        return err(i, "`)` closes a parenthesis that was not opened");
                    }
                } else {
                    depth -= 1;
                }
                i += 1;
                Kind::Close
            }
            b',' => {
                i += 1;
                Kind::Comma
            }
            b'.' if !b.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                i += 1;
                Kind::Dot
            }
            b'\'' => {
                i = end_or(quoted(b, i, b'\'', m.backslash, "string literal"))?;
                Kind::String
            }
            b'"' => {
                i = end_or(quoted(b, i, b'"', m.backslash && !m.ansi, "quoted name"))?;
                Kind::Quoted
            }
            b'`' if m.backticks => {
                i = end_or(quoted(b, i, b'`', false, "quoted name"))?;
                Kind::Quoted
            }
            b'[' if m.brackets => {
                match b[i + 1..].iter().position(|&x| x == b']') {
                    Some(p) => i += p + 2,
                    None if script => i = b.len(),
                    None => return err(i, "unterminated `[` quoted name"),
                }
                Kind::Quoted
            }
            b'$' if m.dollar_quotes => {
                // `$1` is a parameter; `$tag$ .. $tag$` and `$$ .. $$` are strings.
                let tag_end = b[i + 1..]
                    .iter()
                    .position(|&x| !(x.is_ascii_alphanumeric() || x == b'_' || x >= 0x80))
                    .map(|p| i + 1 + p);
                match tag_end {
                    Some(e) if b[e] == b'$' && !b.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                        let tag = &s[i..=e];
                        match s[e + 1..].find(tag) {
                            Some(p) => i = e + 1 + p + tag.len(),
                            None if script => i = b.len(),
                            None => return err(i, format!("unterminated `{tag}` string")),
                        }
                        Kind::String
                    }
                    _ => {
                        i += 1;
                        while i < b.len() && b[i].is_ascii_digit() {
                            i += 1;
                        }
                        Kind::Symbol
                    }
                }
            }
            c if c.is_ascii_digit() || c == b'.' => {
                while i < b.len() && (b[i].is_ascii_alphanumeric() || b[i] == b'.' || b[i] == b'_')
                {
                    // An exponent's sign belongs to the number.
                    if (b[i] == b'e' || b[i] == b'E')
                        && matches!(b.get(i + 1), Some(b'+' | b'-'))
                        && !s[start..i].starts_with("0x")
                    {
                        i += 1;
                    }
                    i += 1;
                }
                Kind::Number
            }
            c if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 || c == b'$' || c == b'@' => {
                // PostgreSQL's E'..' (and e'..'): backslash escapes.
                if m.dollar_quotes && (c == b'e' || c == b'E') && b.get(i + 1) == Some(&b'\'') {
                    i = end_or(quoted(b, i + 1, b'\'', true, "string literal"))?;
                    Kind::String
                } else {
                    i += 1;
                    while i < b.len()
                        && (b[i].is_ascii_alphanumeric()
                            || b[i] == b'_'
                            || b[i] == b'$'
                            || b[i] >= 0x80)
                    {
                        i += 1;
                    }
                    Kind::Word
                }
            }
            _ => {
                i += 1;
                Kind::Symbol
            }
        };
        out.push(Token {
            kind,
            start,
            end: i,
            depth,
        });
    }
    if let Some(open) = opens.pop() {
        if !script {
            return err(open, "`(` is never closed");
        }
    }
    Ok(out)
}

/// The end of the block comment opening at `i` (or of the text).
fn block_comment(b: &[u8], i: usize, nested: bool) -> usize {
    let mut level = 0usize;
    let mut j = i;
    while j + 1 < b.len() {
        if b[j] == b'/' && b[j + 1] == b'*' && (nested || level == 0) {
            level += 1;
            j += 2;
        } else if b[j] == b'*' && b[j + 1] == b'/' {
            level -= 1;
            j += 2;
            if level == 0 {
                return j;
            }
        } else {
            j += 1;
        }
    }
    b.len()
}

/// The end of the literal or quoted name opening at `i` (quote `q`, doubled
/// to escape; `backslash`: a backslash escapes the next byte).
fn quoted(b: &[u8], i: usize, q: u8, backslash: bool, what: &str) -> Result<usize, LexError> {
    let mut j = i + 1;
    while j < b.len() {
        if backslash && b[j] == b'\\' {
            j += 2;
            continue;
        }
        if b[j] == q {
            if b.get(j + 1) == Some(&q) {
                j += 2;
                continue;
            }
            return Ok(j + 1);
        }
        j += 1;
    }
    err(i, format!("unterminated {what}"))
}

#[cfg(test)]
mod tests {
    #[cfg(feature = "postgres")]
    #[test]
    fn unqualify_removes_only_the_schema_in_front_of_names() {
        let m = Dialect::Postgres.backend().lex_modes()[0];
        assert_eq!(
            unqualify(
                "CREATE INDEX i ON shop.orders USING btree (total) WHERE (note <> 'shop.x')",
                "shop",
                m
            ),
            "CREATE INDEX i ON orders USING btree (total) WHERE (note <> 'shop.x')"
        );
        assert_eq!(
            unqualify(
                "CREATE TRIGGER t BEFORE UPDATE ON \"shop\".items FOR EACH ROW EXECUTE FUNCTION shop.touch()",
                "shop",
                m
            ),
            "CREATE TRIGGER t BEFORE UPDATE ON items FOR EACH ROW EXECUTE FUNCTION touch()"
        );
        // Other schemas, a column named like the schema, a dollar-quoted
        // body and a schema whose name needs quotes.
        let f = "CREATE FUNCTION shop.f() RETURNS int AS $b$ SELECT shop.g() $b$ LANGUAGE sql; SELECT x.shop, other.t, shop";
        assert_eq!(
            unqualify(f, "shop", m),
            "CREATE FUNCTION f() RETURNS int AS $b$ SELECT shop.g() $b$ LANGUAGE sql; SELECT x.shop, other.t, shop"
        );
        assert_eq!(
            unqualify("SELECT * FROM Shop.t, \"Shop\".u", "Shop", m),
            "SELECT * FROM Shop.t, u"
        );
    }

    use super::*;

    fn kinds(s: &str, d: Dialect) -> Vec<(Kind, &str)> {
        lex_script(s, d.backend().lex_modes()[0])
            .iter()
            .map(|t| (t.kind, &s[t.start..t.end]))
            .collect()
    }

    #[test]
    fn a_dollar_quoted_body_is_one_string() {
        let s = "DO $$ BEGIN PERFORM 1; END $$; SELECT 2";
        let got = kinds(s, Dialect::Postgres);
        assert_eq!(got[1], (Kind::String, "$$ BEGIN PERFORM 1; END $$"));
        assert_eq!(got[2], (Kind::Semicolon, ";"));
        let toks = lex_script(s, Dialect::Postgres.backend().lex_modes()[0]);
        assert_eq!(split_statements(&toks).len(), 2);
    }

    #[test]
    fn script_comments_are_tokens() {
        let got = kinds("a -- b; c\n/* x /* y */ z */ d # e", Dialect::Postgres);
        let comments: Vec<&str> = got
            .iter()
            .filter(|(k, _)| *k == Kind::Comment)
            .map(|(_, t)| *t)
            .collect();
        assert_eq!(comments, ["-- b; c", "/* x /* y */ z */"]);
        // MySQL: `#` comments, no nesting.
        let got = kinds("a /* x /* y */ z # e;\nb", Dialect::Mysql);
        let comments: Vec<&str> = got
            .iter()
            .filter(|(k, _)| *k == Kind::Comment)
            .map(|(_, t)| *t)
            .collect();
        assert_eq!(comments, ["/* x /* y */", "# e;"]);
    }

    #[test]
    fn a_script_never_fails() {
        let got = kinds("SELECT 'open; ) (", Dialect::Postgres);
        assert_eq!(got.last(), Some(&(Kind::String, "'open; ) (")));
        assert!(lex("SELECT 'open", Dialect::Postgres.backend().lex_modes()[0]).is_err());
    }
}
