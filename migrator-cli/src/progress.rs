//! How the CLI shows the runner's events on stderr.
//!
//! Every event is a line, except a backfill's progress: on a terminal one
//! line redrawn in place (a bar, rows, percentage, rows/s), elsewhere (a
//! log, CI) a plain line at most every few seconds, plus the final one.

use std::cell::RefCell;
use std::io::{IsTerminal, Write};
use std::time::{Duration, Instant};

use migrator_core::runner::Event;

use crate::style::{self, Role};

/// Plain progress lines, when stderr is not a terminal, at most this often.
const LINE_EVERY: Duration = Duration::from_secs(5);
const BAR_WIDTH: usize = 24;

/// The event printer the CLI gives the runner.
pub fn printer() -> impl Fn(&Event) {
    let terminal = std::io::stderr().is_terminal();
    let state = RefCell::new(State {
        terminal,
        drawn: false,
        last_line: None,
    });
    move |e: &Event| state.borrow_mut().show(e)
}

struct State {
    terminal: bool,
    /// A progress line is on screen without its newline.
    drawn: bool,
    last_line: Option<Instant>,
}

impl State {
    fn show(&mut self, e: &Event) {
        let mut err = std::io::stderr().lock();
        match e {
            Event::BackfillProgress {
                rows_done,
                total,
                finished,
                ..
            } if self.terminal => {
                let bar = bar(*rows_done, *total);
                let _ = write!(err, "\r\x1b[2K{bar} {e}");
                if *finished {
                    let _ = writeln!(err);
                    self.drawn = false;
                } else {
                    self.drawn = true;
                }
                let _ = err.flush();
            }
            Event::BackfillProgress { finished, .. } => {
                let due = match self.last_line {
                    Some(t) => t.elapsed() >= LINE_EVERY,
                    None => true,
                };
                if *finished || due {
                    let _ = writeln!(err, "{e}");
                    self.last_line = if *finished {
                        None
                    } else {
                        Some(Instant::now())
                    };
                }
            }
            _ => {
                if self.drawn {
                    let _ = writeln!(err);
                    self.drawn = false;
                }
                let role = match e {
                    Event::Applied { .. } | Event::RolledBack { .. } => Some(Role::Good),
                    Event::WaitingForLock { .. }
                    | Event::LockRetry { .. }
                    | Event::ArchiveGone { .. } => Some(Role::Warn),
                    _ => None,
                };
                let line = e.to_string();
                let _ = match role {
                    Some(role) => writeln!(err, "{}", style::err(role, &line)),
                    None => writeln!(err, "{line}"),
                };
            }
        }
    }
}

impl Drop for State {
    /// A run that failed mid-backfill leaves its bar drawn: end the line
    /// before the error is printed.
    fn drop(&mut self) {
        if self.drawn {
            let _ = writeln!(std::io::stderr());
        }
    }
}

/// `[#########...............]`, or an empty bar without a total.
fn bar(done: u64, total: Option<u64>) -> String {
    let filled = match total {
        Some(t) if t > 0 => ((done.min(t) as u128 * BAR_WIDTH as u128) / t as u128) as usize,
        Some(_) => BAR_WIDTH,
        None => 0,
    };
    format!("[{}{}]", "#".repeat(filled), ".".repeat(BAR_WIDTH - filled))
}

#[cfg(test)]
mod tests {
    use super::bar;

    #[test]
    fn bar_fills_in_proportion() {
        assert_eq!(bar(0, Some(100)), format!("[{}]", ".".repeat(24)));
        assert_eq!(
            bar(50, Some(100)),
            format!("[{}{}]", "#".repeat(12), ".".repeat(12))
        );
        assert_eq!(bar(150, Some(100)), format!("[{}]", "#".repeat(24)));
        assert_eq!(bar(0, Some(0)), format!("[{}]", "#".repeat(24)));
    }
}
