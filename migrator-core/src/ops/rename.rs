//! Rewriting a renamed column inside SQL expressions (checks and SQL
//! defaults of its table), as PostgreSQL, SQLite and MariaDB do to their
//! stored definitions on `RENAME COLUMN`. The snapshot must say what the
//! database then holds: a check left with the old name is re-created with it
//! by a later SQLite rebuild, where an unknown double-quoted name reads as a
//! string literal and the check is always true.
//!
//! Contract: every identifier token equal to the old name (bare, compared
//! case-insensitively as the databases do for unquoted names, or quoted
//! with `"`, `` ` `` or `[]`, compared exactly) becomes the new name;
//! string literals, comments and every other token are kept byte for byte.
//! A bare name stays bare when the new name is a plain identifier, and is
//! double-quoted otherwise; a quoted name keeps its kind of quotes.

/// `expr` with every reference to column `from` renamed to `to`.
pub(crate) fn rename_identifier(expr: &str, from: &str, to: &str) -> String {
    let chars: Vec<char> = expr.chars().collect();
    let mut out = String::with_capacity(expr.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            '\'' => {
                let end = quoted_end(&chars, i, '\'');
                out.extend(&chars[i..end]);
                i = end;
            }
            '"' | '`' | '[' => {
                let close = if c == '[' { ']' } else { c };
                let end = quoted_end(&chars, i, close);
                let inner: String = chars[i + 1..end.saturating_sub(1).max(i + 1)]
                    .iter()
                    .collect();
                let doubled = format!("{close}{close}");
                let name = if close == ']' {
                    inner.clone()
                } else {
                    inner.replace(&doubled, &close.to_string())
                };
                if end > i + 1 && chars[end - 1] == close && name == from {
                    out.push(c);
                    if close == ']' {
                        out.push_str(to);
                    } else {
                        out.push_str(&to.replace(close, &doubled));
                    }
                    out.push(close);
                } else {
                    out.extend(&chars[i..end]);
                }
                i = end;
            }
            '-' if chars.get(i + 1) == Some(&'-') => {
                let end = chars[i..]
                    .iter()
                    .position(|&ch| ch == '\n')
                    .map_or(chars.len(), |p| i + p);
                out.extend(&chars[i..end]);
                i = end;
            }
            '/' if chars.get(i + 1) == Some(&'*') => {
                let end = (i + 2..chars.len().saturating_sub(1))
                    .find(|&j| chars[j] == '*' && chars[j + 1] == '/')
                    .map_or(chars.len(), |j| j + 2);
                out.extend(&chars[i..end]);
                i = end;
            }
            c if is_ident_start(c) => {
                let start = i;
                while i < chars.len() && is_ident_char(chars[i]) {
                    i += 1;
                }
                let word: String = chars[start..i].iter().collect();
                if word.eq_ignore_ascii_case(from) {
                    if is_plain(to) {
                        out.push_str(to);
                    } else {
                        out.push('"');
                        out.push_str(&to.replace('"', "\"\""));
                        out.push('"');
                    }
                } else {
                    out.push_str(&word);
                }
            }
            c if c.is_ascii_digit() => {
                // A number (and a suffix glued to it) is not a name.
                let start = i;
                while i < chars.len() && is_ident_char(chars[i]) {
                    i += 1;
                }
                out.extend(&chars[start..i]);
            }
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    out
}

/// Index just past the quoted token starting at `start` (a doubled closing
/// quote is an escaped one, except in `[]`); the end of the text when it is
/// not closed.
fn quoted_end(chars: &[char], start: usize, close: char) -> usize {
    let mut j = start + 1;
    while j < chars.len() {
        if chars[j] == close {
            if close != ']' && chars.get(j + 1) == Some(&close) {
                j += 2;
                continue;
            }
            return j + 1;
        }
        j += 1;
    }
    chars.len()
}

fn is_ident_start(c: char) -> bool {
    c.is_alphabetic() || c == '_'
}

fn is_ident_char(c: char) -> bool {
    c.is_alphanumeric() || c == '_' || c == '$'
}

/// A name that needs no quotes: a letter or `_`, then letters, digits, `_`.
fn is_plain(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::rename_identifier as r;

    #[test]
    fn bare_and_quoted_names_are_renamed() {
        assert_eq!(r("qty >= 0", "qty", "quantity"), "quantity >= 0");
        assert_eq!(
            r("QTY >= 0 AND qty < 10", "qty", "quantity"),
            "quantity >= 0 AND quantity < 10"
        );
        assert_eq!(r("\"qty\" >= 0", "qty", "quantity"), "\"quantity\" >= 0");
        assert_eq!(r("`qty` >= 0", "qty", "quantity"), "`quantity` >= 0");
        assert_eq!(r("[qty] >= 0", "qty", "quantity"), "[quantity] >= 0");
        assert_eq!(r("t.qty > 0", "qty", "n"), "t.n > 0");
        assert_eq!(r("qty > 0", "qty", "my qty"), "\"my qty\" > 0");
        assert_eq!(r("\"a\"\"b\" > 0", "a\"b", "c\"d"), "\"c\"\"d\" > 0");
    }

    #[test]
    fn everything_else_is_kept() {
        assert_eq!(
            r("status IN ('qty', 'x')", "qty", "n"),
            "status IN ('qty', 'x')"
        );
        assert_eq!(
            r("qty_total > 0 AND xqty > 0", "qty", "n"),
            "qty_total > 0 AND xqty > 0"
        );
        assert_eq!(
            r("\"QTY\" > 0", "qty", "n"),
            "\"QTY\" > 0",
            "a quoted name is exact"
        );
        assert_eq!(r("qty > 0 -- qty\n", "qty", "n"), "n > 0 -- qty\n");
        assert_eq!(r("/* qty */ qty", "qty", "n"), "/* qty */ n");
        assert_eq!(r("1e5 > qty", "qty", "n"), "1e5 > n");
        assert_eq!(r("'it''s' <> qty", "qty", "n"), "'it''s' <> n");
        assert_eq!(r("'unterminated qty", "qty", "n"), "'unterminated qty");
        assert_eq!(r("\"unterminated qty", "qty", "n"), "\"unterminated qty");
    }
}
