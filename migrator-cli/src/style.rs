//! Colour on terminals, plain text everywhere else.
//!
//! `--color auto` (the default) colours a stream only when it is a terminal,
//! `NO_COLOR` is unset or empty, and `TERM` is not `dumb`; `CLICOLOR_FORCE`
//! (non-empty, not `0`) forces it on in auto mode. `--color always` and
//! `--color never` decide alone, whatever the environment says. stdout and
//! stderr are decided separately: `migrator sql | psql` gets plain SQL while
//! the errors on the terminal stay coloured.
//!
//! Colour only ever wraps whole words or lines in SGR codes; the text
//! itself is the same either way, so scripts that read the plain output
//! read the coloured one once the codes are stripped.

use std::io::IsTerminal;
use std::sync::OnceLock;

/// `--color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ColorChoice {
    /// Colour when the stream is a terminal and `NO_COLOR` is not set.
    Auto,
    /// Always colour, even into a pipe or a file.
    Always,
    /// Never colour.
    Never,
}

/// What a piece of text is, which decides its colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// Done, in order: applied, no drift.
    Good,
    /// Needs attention but is not wrong: pending, a warning.
    Warn,
    /// Wrong: an error, drift, a PARTIAL or EDITED migration.
    Bad,
    /// Something added by a change.
    Added,
    /// Something removed by a change.
    Removed,
    /// Headings.
    Strong,
    /// Comments and guards in SQL; secondary detail.
    Dim,
}

impl Role {
    fn sgr(self) -> &'static str {
        match self {
            Role::Good | Role::Added => "32",
            Role::Warn => "33",
            Role::Bad => "1;31",
            Role::Removed => "31",
            Role::Strong => "1",
            Role::Dim => "2",
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Streams {
    out: bool,
    err: bool,
}

static STREAMS: OnceLock<Streams> = OnceLock::new();

/// Decides, once, whether stdout and stderr are coloured. Later calls are
/// ignored; without a call nothing is coloured (the library and the tests).
pub fn init(choice: ColorChoice) {
    let env = |k: &str| std::env::var_os(k).filter(|v| !v.is_empty());
    let decide = |terminal: bool| match choice {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => auto(
            terminal,
            env("NO_COLOR").is_some(),
            env("CLICOLOR_FORCE").is_some_and(|v| v != "0"),
            env("TERM").is_some_and(|v| v == "dumb"),
        ),
    };
    let _ = STREAMS.set(Streams {
        out: decide(std::io::stdout().is_terminal()),
        err: decide(std::io::stderr().is_terminal()),
    });
}

/// The `auto` rule, as a pure function.
fn auto(terminal: bool, no_color: bool, force: bool, dumb: bool) -> bool {
    if no_color {
        return false;
    }
    force || (terminal && !dumb)
}

fn streams() -> Streams {
    STREAMS.get().copied().unwrap_or(Streams {
        out: false,
        err: false,
    })
}

fn wrap(on: bool, role: Role, text: &str) -> String {
    if on && !text.is_empty() {
        format!("\x1b[{}m{text}\x1b[0m", role.sgr())
    } else {
        text.to_string()
    }
}

/// `text` for stdout, coloured as `role` when stdout is.
pub fn out(role: Role, text: &str) -> String {
    wrap(streams().out, role, text)
}

/// `text` for stderr, coloured as `role` when stderr is.
pub fn err(role: Role, text: &str) -> String {
    wrap(streams().err, role, text)
}

/// One line of SQL for stdout: comments (the guards, the notes) dimmed.
pub fn sql_line(line: &str) -> String {
    if line.trim_start().starts_with("--") {
        out(Role::Dim, line)
    } else {
        line.to_string()
    }
}

/// `error: ` in bold red on a coloured stderr.
pub fn error_prefix() -> String {
    err(Role::Bad, "error:")
}

/// `warning:` on stderr, coloured as a warning.
pub fn warning_prefix() -> String {
    err(Role::Warn, "warning:")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_auto_rule_follows_no_color_and_the_terminal() {
        // terminal, NO_COLOR, CLICOLOR_FORCE, TERM=dumb
        assert!(auto(true, false, false, false));
        assert!(!auto(false, false, false, false), "a pipe is plain");
        assert!(
            !auto(true, true, false, false),
            "NO_COLOR wins on a terminal"
        );
        assert!(
            !auto(true, true, true, false),
            "NO_COLOR wins over CLICOLOR_FORCE"
        );
        assert!(
            auto(false, false, true, false),
            "CLICOLOR_FORCE colours a pipe"
        );
        assert!(!auto(true, false, false, true), "TERM=dumb is plain");
    }

    #[test]
    fn wrapping_keeps_the_text() {
        assert_eq!(wrap(false, Role::Bad, "x"), "x");
        assert_eq!(wrap(true, Role::Good, "ok"), "\x1b[32mok\x1b[0m");
        assert_eq!(wrap(true, Role::Good, ""), "");
    }
}
