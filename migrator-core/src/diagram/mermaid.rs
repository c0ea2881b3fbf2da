//! Mermaid `erDiagram` text.
//!
//! Mermaid's grammar takes entity names as words (`[A-Za-z_][A-Za-z0-9_]*`
//! here, to stay clear of `-` in relationship arrows) or double-quoted
//! strings, and attribute types and names as words of letters, digits and
//! `_ - ( ) [ ]` only. Other names are quoted (entities) or written as a
//! word with the real name in the attribute's comment (attributes); what a
//! quoted string cannot show as it is becomes a look-alike ([`quoted`]).
//! The HTML and SVG pictures show every name exactly. A change view's marks
//! are attribute comments and `%%` lines.

use std::fmt::Write;

use super::{ColumnView, EdgeView, Mark, View};

/// A word as Mermaid's entity grammar takes it.
fn is_entity_word(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A double-quoted Mermaid string. It cannot hold `"` or a line break, and
/// Mermaid renders its text as Markdown and HTML (and its `#name;` entity
/// codes stay undecoded in ER diagrams): so `"` and `` ` `` become `'`, and
/// `< > * # &` look-alikes (`‹ › ∗ ♯ +`), rather than vanish as a tag,
/// turn into emphasis or be read as an entity (`&lt;`).
pub(super) fn quoted(s: &str) -> String {
    let inner: String = s
        .chars()
        .map(|c| match c {
            '"' | '`' => '\'',
            '<' => '\u{2039}',
            '>' => '\u{203a}',
            '*' => '\u{2217}',
            '#' => '\u{266f}',
            '&' => '+',
            c if c.is_control() => ' ',
            c => c,
        })
        .collect();
    format!("\"{inner}\"")
}

/// A table name as an entity: itself when it is a word, else quoted.
pub(super) fn entity(name: &str) -> String {
    if is_entity_word(name) {
        name.to_string()
    } else {
        quoted(name)
    }
}

/// An attribute word (type or name): letters, digits and `_ - ( ) [ ]`,
/// not starting with a digit or punctuation. `NUMERIC(12, 2)` becomes
/// `NUMERIC(12-2)`, `double precision` `double_precision`.
pub(super) fn word(s: &str) -> String {
    let mut out = String::new();
    let mut after_sep = false;
    for c in s.trim().chars() {
        match c {
            c if c.is_ascii_alphanumeric() || "_-()[]".contains(c) => {
                out.push(c);
                after_sep = c == '(';
            }
            ',' => {
                out.push('-');
                after_sep = true;
            }
            c if c.is_whitespace() => {
                if !after_sep && !out.ends_with('_') {
                    out.push('_');
                }
            }
            _ => out.push('_'),
        }
    }
    // No `_` left before a closing parenthesis or at the end.
    let mut out = out.replace("_)", ")");
    while out.ends_with('_') && out.len() > 1 {
        out.pop();
    }
    match out.chars().next() {
        Some(c) if c.is_ascii_alphabetic() || c == '_' => out,
        _ => format!("_{out}"),
    }
}

fn attribute(c: &ColumnView) -> String {
    let name = word(&c.name);
    // Mermaid spells a unique key `UK`.
    let keys: Vec<&str> = c
        .keys()
        .map(|k| if k == "UNIQUE" { "UK" } else { k })
        .collect();
    let mut notes = Vec::new();
    if name != c.name {
        notes.push(format!("name: {}", c.name));
    }
    if c.ty != word(&c.ty) {
        notes.push(format!("type: {}", c.ty));
    }
    if !c.not_null {
        notes.push("nullable".to_string());
    }
    match (c.mark, &c.was) {
        (Mark::Changed, Some(was)) => notes.push(format!("changed, was {was}")),
        (m, _) => notes.extend(m.class().map(str::to_string)),
    }
    let mut line = format!("{} {name}", word(&c.ty));
    if !keys.is_empty() {
        line.push(' ');
        line.push_str(&keys.join(", "));
    }
    if !notes.is_empty() {
        line.push(' ');
        line.push_str(&quoted(&notes.join("; ")));
    }
    line
}

/// `}o--||` and friends: the referencing side is "zero or more" (`}o`), or
/// "zero or one" (`|o`) when its columns are unique; the referenced side is
/// "exactly one" (`||`), or "zero or one" (`o|`) when a referencing column
/// may be NULL.
pub(super) fn arrow(e: &EdgeView) -> String {
    let left = if e.one_to_one { "|o" } else { "}o" };
    let right = if e.optional { "o|" } else { "||" };
    format!("{left}--{right}")
}

fn relationship(table: &str, e: &EdgeView) -> String {
    let mut label = e.name.clone();
    if let Some(note) = e.mark.class() {
        label.push_str(&format!(" ({note})"));
    }
    format!(
        "{} {} {} : {}",
        entity(table),
        arrow(e),
        entity(&e.ref_table),
        quoted(&label)
    )
}

/// One line of a `%%` comment.
fn comment(s: &str) -> String {
    let one: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    format!("%% {one}")
}

pub(super) fn render(view: &View) -> String {
    let mut out = String::new();
    if view.is_change {
        let _ = writeln!(out, "{}", comment("the change of one migration: the tables before and after it, marked added, dropped or changed"));
        for s in &view.steps {
            let _ = writeln!(out, "{}", comment(&format!("step: {s}")));
        }
        for t in &view.tables {
            if let Some(note) = t.mark.class() {
                let _ = writeln!(out, "{}", comment(&format!("{note}: table {}", t.name)));
            }
            for c in &t.columns {
                if let Some(note) = c.mark.class() {
                    let _ = writeln!(
                        out,
                        "{}",
                        comment(&format!("{note}: column {}.{}", t.name, c.name))
                    );
                }
            }
            for e in &t.foreign_keys {
                if let Some(note) = e.mark.class() {
                    let _ = writeln!(
                        out,
                        "{}",
                        comment(&format!("{note}: foreign key {} on {}", e.name, t.name))
                    );
                }
            }
        }
    }
    out.push_str("erDiagram\n");
    for t in &view.tables {
        if t.columns.is_empty() {
            let _ = writeln!(out, "    {}", entity(&t.name));
            continue;
        }
        let _ = writeln!(out, "    {} {{", entity(&t.name));
        for c in &t.columns {
            let _ = writeln!(out, "        {}", attribute(c));
        }
        out.push_str("    }\n");
    }
    for t in &view.tables {
        for e in &t.foreign_keys {
            let _ = writeln!(out, "    {}", relationship(&t.name, e));
        }
    }
    out
}
