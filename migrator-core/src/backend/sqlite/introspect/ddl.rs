//! SQLite: the parser of the stored `CREATE TABLE` text, for what the
//! pragmas do not give (see the module docs of `introspect`).

use crate::introspect::normalize::{matching_paren, tokenize, Token};

/// What only the `CREATE TABLE` text tells: names and expressions of
/// constraints, in declaration order.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Ddl {
    /// (name, expression) of every CHECK.
    pub(super) checks: Vec<(Option<String>, String)>,
    /// (name, columns) of every inline UNIQUE.
    pub(super) uniques: Vec<(Option<String>, Vec<String>)>,
    /// (name, columns, referenced table) of every FOREIGN KEY / REFERENCES.
    pub(super) foreign_keys: Vec<(Option<String>, Vec<String>, Option<String>)>,
    /// The column declared `AUTOINCREMENT`.
    pub(super) autoincrement: Option<String>,
    /// (column, collation) of every column declared `COLLATE x`.
    pub(super) collations: Vec<(String, String)>,
    /// (column, its definition after the name) of every column.
    pub(super) columns: Vec<(String, String)>,
}

/// Reads the constraints out of a `CREATE TABLE` statement. Text it does not
/// understand is skipped, never guessed at.
pub(super) fn parse_create_table(sql: &str) -> Ddl {
    let toks = tokenize(sql);
    let mut ddl = Ddl::default();
    let Some(open) = toks.iter().position(|t| t.is_punct("(")) else {
        return ddl;
    };
    let close = matching_paren(&toks, open).unwrap_or(toks.len());
    // Items separated by commas at depth 1.
    let mut items: Vec<&[Token]> = Vec::new();
    let mut depth = 0;
    let mut start = open + 1;
    for k in open + 1..close {
        let t = &toks[k];
        if t.is_punct("(") {
            depth += 1;
        } else if t.is_punct(")") {
            depth -= 1;
        } else if depth == 0 && t.is_punct(",") {
            items.push(&toks[start..k]);
            start = k + 1;
        }
    }
    items.push(&toks[start..close.min(toks.len())]);

    for item in items {
        if item.is_empty() {
            continue;
        }
        let (mut name, mut k) = (None, 0);
        if item[0].is_word("CONSTRAINT") {
            name = item.get(1).and_then(|t| t.name()).map(str::to_string);
            k = 2;
        }
        let Some(head) = item.get(k) else { continue };
        if head.is_word("CHECK") {
            if let Some(expr) = paren_text(sql, item, k + 1) {
                ddl.checks.push((name, expr));
            }
        } else if head.is_word("UNIQUE") {
            ddl.uniques.push((name, paren_names(item, k + 1)));
        } else if head.is_word("FOREIGN") {
            ddl.foreign_keys
                .push((name, paren_names(item, k + 2), references(item, k)));
        } else if head.is_word("PRIMARY") {
            // The pragmas give the key.
        } else if k == 0 {
            column_constraints(sql, item, &mut ddl);
        }
    }
    ddl
}

/// Constraints written inside one column definition.
fn column_constraints(sql: &str, item: &[Token], ddl: &mut Ddl) {
    let Some(column) = item[0].name().map(str::to_string) else {
        return;
    };
    if let (Some(first), Some(last)) = (item.get(1), item.last()) {
        ddl.columns.push((
            column.clone(),
            sql[first.start..last.end].trim().to_string(),
        ));
    }
    let mut pending: Option<String> = None;
    let mut k = 1;
    while k < item.len() {
        let t = &item[k];
        if t.is_word("CONSTRAINT") {
            pending = item.get(k + 1).and_then(|t| t.name()).map(str::to_string);
            k += 2;
            continue;
        }
        if t.is_word("CHECK") {
            if let Some(expr) = paren_text(sql, item, k + 1) {
                ddl.checks.push((pending.take(), expr));
            }
            k = skip_parens(item, k + 1);
            continue;
        }
        if t.is_word("UNIQUE") {
            ddl.uniques.push((pending.take(), vec![column.clone()]));
        } else if t.is_word("REFERENCES") {
            ddl.foreign_keys
                .push((pending.take(), vec![column.clone()], references(item, k)));
        } else if t.is_word("AUTOINCREMENT") {
            ddl.autoincrement = Some(column.clone());
        } else if t.is_word("COLLATE") {
            if let Some(name) = item.get(k + 1).and_then(|t| t.name()) {
                ddl.collations.push((column.clone(), name.to_string()));
            }
            pending = None;
        } else if ["PRIMARY", "NOT", "NULL", "DEFAULT", "GENERATED", "AS"]
            .iter()
            .any(|w| t.is_word(w))
        {
            pending = None;
        }
        k = if t.is_punct("(") {
            skip_parens(item, k)
        } else {
            k + 1
        };
    }
}

/// The table named after the first `REFERENCES` at or after token `k`.
fn references(item: &[Token], k: usize) -> Option<String> {
    let at = (k..item.len()).find(|&i| item[i].is_word("REFERENCES"))?;
    item.get(at + 1)?.name().map(str::to_string)
}

/// The index after the parenthesised group starting at `k` (or `k` itself
/// when there is none).
fn skip_parens(item: &[Token], k: usize) -> usize {
    if item.get(k).is_some_and(|t| t.is_punct("(")) {
        matching_paren(item, k).map_or(item.len(), |e| e + 1)
    } else {
        k
    }
}

/// The source text inside the parentheses starting at token `k`, trimmed.
fn paren_text(sql: &str, item: &[Token], k: usize) -> Option<String> {
    if !item.get(k)?.is_punct("(") {
        return None;
    }
    let end = matching_paren(item, k)?;
    Some(sql[item[k].end..item[end].start].trim().to_string())
}

/// The names in `(a, b COLLATE x, "c")` starting at token `k`: the first
/// name of each comma-separated part.
fn paren_names(item: &[Token], k: usize) -> Vec<String> {
    let mut out = Vec::new();
    let Some(end) = item
        .get(k)
        .filter(|t| t.is_punct("("))
        .and_then(|_| matching_paren(item, k))
    else {
        return out;
    };
    let mut expect = true;
    for t in &item[k + 1..end] {
        if t.is_punct(",") {
            expect = true;
        } else if expect {
            if let Some(n) = t.name() {
                out.push(n.to_string());
            }
            expect = false;
        }
    }
    out
}
