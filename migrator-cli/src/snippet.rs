//! The source line under an error that knows its file and line, as rustc
//! shows it:
//!
//! ```text
//!   --> migrations/0001_x.toml:3:6
//!    |
//!  3 | op = 3
//!    |      ^
//! ```
//!
//! The file is read again when the error is printed; when it cannot be
//! read, or no longer has that line, there is no snippet (the message says
//! where anyway). Tabs are shown as four spaces and the caret counts
//! characters, not bytes (a wide character counts as one). Without a column
//! the line's text is underlined. Colour goes through `style` only (the
//! gutter bold, the caret red); the text is the same without it.

use std::path::Path;

use crate::style::{self, Role};

/// Where on its line an error is: the 1-based column as the error counts
/// it (the TOML reader counts bytes, the model parser characters), or
/// unknown (0 counts as unknown too).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Column {
    Unknown,
    Byte(usize),
    Char(usize),
}

/// The snippet of `line` (1-based) of the file at `path`, or `None` when
/// the file cannot be read or has no such line. `mask` rewrites the line
/// before it is shown (the targets file hides its URLs' passwords).
pub(crate) fn of_file(
    path: &Path,
    line: usize,
    column: Column,
    mask: impl Fn(&str) -> String,
) -> Option<String> {
    let text = std::fs::read_to_string(path).ok()?;
    let text = migrator_core::migration::normalize_text(&text);
    let source = text.lines().nth(line.checked_sub(1)?)?;
    Some(render(path, line, &mask(source), column, &style::err))
}

/// The snippet of `source`, line `line` of `path`, each piece coloured by
/// `paint`.
pub(crate) fn render(
    path: &Path,
    line: usize,
    source: &str,
    column: Column,
    paint: &dyn Fn(Role, &str) -> String,
) -> String {
    let number = line.to_string();
    let pad = " ".repeat(number.len());
    let shown = source.replace('\t', "    ");
    let shown = shown.trim_end();
    let (at, width) = match column {
        Column::Byte(b) if b > 0 => {
            let mut end = (b - 1).min(source.len());
            while !source.is_char_boundary(end) {
                end -= 1;
            }
            (shown_width(&source[..end]), 1)
        }
        Column::Char(c) if c > 0 => {
            let before: String = source.chars().take(c - 1).collect();
            (shown_width(&before), 1)
        }
        // No column: the line's text, from its first non-blank character.
        _ => {
            let start = shown.len() - shown.trim_start().len();
            (start, shown[start..].chars().count().max(1))
        }
    };
    let location = match column {
        Column::Byte(c) | Column::Char(c) if c > 0 => {
            format!("{}:{line}:{c}", path.display())
        }
        _ => format!("{}:{line}", path.display()),
    };
    let bar = paint(Role::Strong, "|");
    let code = if shown.is_empty() {
        String::new()
    } else {
        format!(" {shown}")
    };
    [
        format!("{pad}{} {location}", paint(Role::Strong, "-->")),
        format!("{pad} {bar}"),
        format!("{} {bar}{code}", paint(Role::Strong, &number)),
        format!(
            "{pad} {bar} {}{}",
            " ".repeat(at),
            paint(Role::Bad, &"^".repeat(width))
        ),
    ]
    .join("\n")
}

/// How many columns `text` takes once its tabs are four spaces.
fn shown_width(text: &str) -> usize {
    text.chars().map(|c| if c == '\t' { 4 } else { 1 }).sum()
}

/// `text` with `snippet` under its first line (before any `help:` or
/// further lines), as rustc puts the source between the error and its
/// notes.
pub(crate) fn under_first_line(text: &str, snippet: Option<String>) -> String {
    let Some(snippet) = snippet else {
        return text.to_string();
    };
    match text.split_once('\n') {
        Some((first, rest)) => format!("{first}\n{snippet}\n{rest}"),
        None => format!("{text}\n{snippet}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plain(_: Role, s: &str) -> String {
        s.to_string()
    }

    fn show(line: usize, source: &str, column: Column) -> String {
        render(Path::new("m/0001_a.toml"), line, source, column, &plain)
    }

    #[test]
    fn the_line_its_number_and_a_caret_under_the_column() {
        assert_eq!(
            show(3, "op = 3", Column::Byte(6)),
            " --> m/0001_a.toml:3:6\n  |\n3 | op = 3\n  |      ^"
        );
        assert_eq!(
            show(1, "op = 3", Column::Char(1)),
            " --> m/0001_a.toml:1:1\n  |\n1 | op = 3\n  | ^"
        );
    }

    #[test]
    fn the_gutter_is_as_wide_as_the_line_number() {
        assert_eq!(
            show(1234, "x = [", Column::Char(5)),
            "    --> m/0001_a.toml:1234:5\n     |\n1234 | x = [\n     |     ^"
        );
    }

    #[test]
    fn tabs_are_four_spaces_and_the_caret_follows_them() {
        assert_eq!(
            show(2, "\t#[model(max_len = 3)]", Column::Char(10)),
            " --> m/0001_a.toml:2:10\n  |\n2 |     #[model(max_len = 3)]\n  |             ^"
        );
        // Bytes: the tab is one byte and four columns.
        assert_eq!(
            show(2, "\tx\t= 1", Column::Byte(4)),
            " --> m/0001_a.toml:2:4\n  |\n2 |     x    = 1\n  |          ^"
        );
    }

    #[test]
    fn multi_byte_characters_before_the_column_count_once() {
        // `é` is 2 bytes, `日` 3: the byte column 8 is the `=` after them,
        // the fifth character.
        let line = "é日x = 1";
        assert_eq!(&line[7..8], "=");
        let caret = "  |     ^";
        assert_eq!(show(4, line, Column::Byte(8)).lines().last(), Some(caret));
        // The same place counted in characters.
        assert_eq!(show(4, line, Column::Char(5)).lines().last(), Some(caret));
        // A byte column inside a character points at that character.
        assert_eq!(show(4, line, Column::Byte(2)).lines().last(), Some("  | ^"));
    }

    #[test]
    fn a_column_past_the_end_points_after_the_text() {
        // After the line's last character (here a blank, not shown).
        assert_eq!(
            show(1, "x = ", Column::Byte(9)).lines().last(),
            Some("  |     ^")
        );
        assert_eq!(
            show(1, "x =", Column::Char(4)).lines().last(),
            Some("  |    ^")
        );
        assert_eq!(
            show(1, "", Column::Char(1)),
            " --> m/0001_a.toml:1:1\n  |\n1 |\n  | ^"
        );
    }

    #[test]
    fn without_a_column_the_text_of_the_line_is_underlined() {
        assert_eq!(
            show(2, "  postgres://h/d  schema=a ", Column::Unknown),
            " --> m/0001_a.toml:2\n  |\n2 |   postgres://h/d  schema=a\n  |   ^^^^^^^^^^^^^^^^^^^^^^^^"
        );
        assert_eq!(
            show(2, "x", Column::Byte(0)).lines().next(),
            Some(" --> m/0001_a.toml:2")
        );
    }

    #[test]
    fn a_file_without_the_line_or_unreadable_has_no_snippet() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("a.toml");
        std::fs::write(&path, "one\r\ntwo\n").expect("write");
        let keep = |s: &str| s.to_string();
        assert!(of_file(&path, 2, Column::Byte(1), keep).is_some_and(|s| s.contains("2 | two\n")));
        assert_eq!(
            of_file(&path, 3, Column::Byte(1), keep),
            None,
            "past the end"
        );
        assert_eq!(of_file(&path, 0, Column::Byte(1), keep), None, "no line");
        assert_eq!(
            of_file(&dir.path().join("gone.toml"), 1, Column::Byte(1), keep),
            None
        );
        // The mask rewrites the line shown.
        assert!(of_file(&path, 1, Column::Unknown, |_| "***".into())
            .is_some_and(|s| s.contains("1 | ***\n  | ^^^")));
    }

    #[test]
    fn colour_wraps_the_gutter_and_the_caret_only() {
        let paint = |r: Role, s: &str| format!("<{r:?}>{s}</>");
        let coloured = render(Path::new("f"), 7, "a\tb", Column::Char(3), &paint);
        assert_eq!(
            coloured,
            " <Strong>--></> f:7:3\n  <Strong>|</>\n<Strong>7</> <Strong>|</> a    b\n  <Strong>|</>      <Bad>^</>"
        );
    }

    #[test]
    fn the_snippet_goes_under_the_first_line() {
        let s = Some("SNIP".to_string());
        assert_eq!(
            under_first_line("a\nhelp: b", s.clone()),
            "a\nSNIP\nhelp: b"
        );
        assert_eq!(under_first_line("a", s), "a\nSNIP");
        assert_eq!(under_first_line("a\nb", None), "a\nb");
    }
}
