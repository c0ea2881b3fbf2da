//! Short, growing lock waits: the schedule of `lock_timeout`s a migration
//! is tried under before the configured maximum.
//!
//! A DDL statement that waits for a table lock holds its place in the lock
//! queue, and every later reader and writer of the table waits behind it.
//! How long the application stalls is therefore the statement's
//! `lock_timeout`, not the time the migration takes. So the runner first
//! tries a migration with waits of tens of milliseconds, sleeping between
//! the tries so that the application's queued statements drain, and lets
//! the waits grow; only when the whole schedule failed does it use the
//! configured maximum (`lock_timeout_ms`, `--statement-lock-timeout-ms`,
//! `lock_attempts` tries with backoff, `runner/exec.rs`).
//!
//! The spec is a comma-separated list of `WAIT` or `WAIT*COUNT`, each
//! `WAIT` a number of milliseconds (`50ms`, or `50`) or seconds (`1s`,
//! `0.5s`); `none` is the empty schedule. [`LockWaits::default`] is
//! `50ms*3,75ms*3,100ms*9`: fifteen tries whose waits never exceed 100 ms,
//! spread over about twelve seconds by the sleeps ([`LockWaits::sleep`]),
//! which outlasts most reporting queries and `idle in transaction` blips.
//!
//! PostgreSQL honours the waits to the millisecond. MySQL and MariaDB take
//! `lock_wait_timeout` in whole seconds, so there each wait is rounded up
//! to 1 s or more (`backend/mysql/session.rs`): the schedule then adds
//! patience (more, spaced tries) but cannot make a queued `ALTER` cost the
//! application less than a second. SQLite has no lock queue to shorten.

use std::fmt;
use std::time::Duration;

/// At most this many tries in a schedule, so that a typo (`50ms*10000`)
/// cannot keep a deploy waiting for hours.
pub const MAX_TRIES: u32 = 200;
/// The longest single wait in a schedule; longer waits belong in the
/// configured maximum (`--statement-lock-timeout-ms`).
pub const MAX_WAIT: Duration = Duration::from_secs(60);

/// The schedule of short lock waits tried before the configured maximum.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LockWaits {
    /// `(wait, count)`, in order.
    steps: Vec<(Duration, u32)>,
}

impl Default for LockWaits {
    /// `50ms*3,75ms*3,100ms*9`.
    fn default() -> LockWaits {
        LockWaits {
            steps: vec![
                (Duration::from_millis(50), 3),
                (Duration::from_millis(75), 3),
                (Duration::from_millis(100), 9),
            ],
        }
    }
}

impl LockWaits {
    /// No short tries: every try uses the configured maximum.
    pub fn none() -> LockWaits {
        LockWaits { steps: Vec::new() }
    }

    /// Parses a spec (`50ms*3,75ms*3,100ms*9`, `1s,2s`, `none`); the error
    /// says which part is wrong and what is expected.
    pub fn parse(spec: &str) -> Result<LockWaits, String> {
        let spec = spec.trim();
        if spec.eq_ignore_ascii_case("none") {
            return Ok(LockWaits::none());
        }
        if spec.is_empty() {
            return Err("an empty lock wait schedule: write `none` for no short tries".into());
        }
        let mut steps = Vec::new();
        let mut total = 0u32;
        for part in spec.split(',') {
            let part = part.trim();
            let (wait, count) = match part.split_once('*') {
                Some((w, c)) => {
                    let c = c.trim();
                    let count = c.parse::<u32>().ok().filter(|n| *n >= 1).ok_or_else(|| {
                        format!("`{part}`: the count after `*` must be a whole number of at least 1, not `{c}`")
                    })?;
                    (w.trim(), count)
                }
                None => (part, 1),
            };
            let wait = parse_wait(wait).map_err(|e| format!("`{part}`: {e}"))?;
            total = total.saturating_add(count);
            if total > MAX_TRIES {
                return Err(format!(
                    "`{spec}`: more than {MAX_TRIES} tries in a lock wait schedule"
                ));
            }
            steps.push((wait, count));
        }
        Ok(LockWaits { steps })
    }

    /// True when there are no short tries.
    pub fn is_none(&self) -> bool {
        self.steps.is_empty()
    }

    /// How many short tries the schedule makes.
    pub fn tries(&self) -> u32 {
        self.steps.iter().map(|(_, n)| n).sum()
    }

    /// The wait of short try `attempt` (1-based), `None` past the schedule.
    pub fn wait(&self, attempt: u32) -> Option<Duration> {
        let mut left = attempt.checked_sub(1)?;
        for (wait, count) in &self.steps {
            if left < *count {
                return Some(*wait);
            }
            left -= count;
        }
        None
    }

    /// The sleep after failed short try `attempt` (1-based): 100 ms times
    /// the attempt, at most 1 s, so that the application's queued
    /// statements drain between tries and a reader of a few seconds is
    /// outlasted within the schedule. Jitter is added by the runner.
    pub fn sleep(attempt: u32) -> Duration {
        Duration::from_millis(100)
            .saturating_mul(attempt.max(1))
            .min(Duration::from_secs(1))
    }

    /// The schedule with every wait at most `max` (a wait longer than the
    /// configured maximum would defeat it); none when `max` is zero (the
    /// maximum is then turned off, `lock_timeout_ms = 0`, and the migration
    /// waits as the session's bound allows).
    pub fn capped(&self, max: Duration) -> LockWaits {
        if max.is_zero() {
            return LockWaits::none();
        }
        LockWaits {
            steps: self.steps.iter().map(|&(w, n)| (w.min(max), n)).collect(),
        }
    }

    /// How long the short tries take at least when every one of them
    /// waits its whole timeout: the waits plus the sleeps (no jitter).
    pub fn span(&self) -> Duration {
        (1..=self.tries())
            .map(|a| self.wait(a).unwrap_or_default() + LockWaits::sleep(a))
            .sum()
    }
}

fn parse_wait(s: &str) -> Result<Duration, String> {
    let (number, unit) = if let Some(n) = s.strip_suffix("ms") {
        (n, 1e-3)
    } else if let Some(n) = s.strip_suffix('s') {
        (n, 1.0)
    } else {
        (s, 1e-3)
    };
    let v: f64 = number.trim().parse().map_err(|_| {
        format!("`{s}` is not a wait: write milliseconds (`50ms`) or seconds (`1s`)")
    })?;
    if !v.is_finite() || v < 0.0 {
        return Err(format!("`{s}` is not a wait of zero or more"));
    }
    let d = Duration::from_secs_f64(v * unit);
    if d < Duration::from_millis(1) {
        // PostgreSQL reads a lock_timeout of 0 as "wait forever".
        return Err(format!("`{s}`: each wait must be at least 1 ms"));
    }
    if d > MAX_WAIT {
        return Err(format!(
            "`{s}`: at most {} s per wait; longer waits are the maximum's (`--statement-lock-timeout-ms`, `lock_timeout_ms`)",
            MAX_WAIT.as_secs()
        ));
    }
    Ok(d)
}

impl fmt::Display for LockWaits {
    /// The spec, in the form [`LockWaits::parse`] reads (`none` when empty).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.steps.is_empty() {
            return f.write_str("none");
        }
        for (i, (wait, count)) in self.steps.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            let ms = wait.as_millis();
            if ms % 1000 == 0 {
                write!(f, "{}s", ms / 1000)?;
            } else {
                write!(f, "{ms}ms")?;
            }
            if *count > 1 {
                write!(f, "*{count}")?;
            }
        }
        Ok(())
    }
}

/// For `MigrationFile::lock_waits`: the spec, checked when the file is read
/// so that a bad one is reported with the file and line.
pub(crate) mod serde_spec {
    use serde::{Deserialize, Deserializer};

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
        let spec = String::deserialize(d)?;
        super::LockWaits::parse(&spec).map_err(serde::de::Error::custom)?;
        Ok(Some(spec))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn the_default_stays_short_and_outlasts_a_few_seconds() {
        let w = LockWaits::default();
        assert_eq!(w.to_string(), "50ms*3,75ms*3,100ms*9");
        assert_eq!(w.tries(), 15);
        assert!((1..=15).all(|a| w.wait(a).unwrap() <= ms(100)));
        assert_eq!(w.wait(1), Some(ms(50)));
        assert_eq!(w.wait(4), Some(ms(75)));
        assert_eq!(w.wait(7), Some(ms(100)));
        assert_eq!(w.wait(16), None);
        assert_eq!(w.wait(0), None);
        // A 6 s reader ends within the schedule.
        assert!(w.span() > Duration::from_secs(10), "{:?}", w.span());
    }

    #[test]
    fn specs_round_trip() {
        for spec in [
            "50ms*3,75ms*3,100ms*9",
            "none",
            "1s,2s*2",
            "250ms",
            "1500ms*2",
        ] {
            assert_eq!(LockWaits::parse(spec).unwrap().to_string(), spec);
        }
        assert_eq!(
            LockWaits::parse(" 20 * 2 , 0.5s ").unwrap().to_string(),
            "20ms*2,500ms"
        );
        assert_eq!(LockWaits::parse("NONE").unwrap(), LockWaits::none());
    }

    #[test]
    fn bad_specs_say_what_is_wrong() {
        for (spec, says) in [
            ("", "write `none`"),
            ("fast", "`fast` is not a wait"),
            ("50ms*0", "at least 1"),
            ("50ms*x", "whole number"),
            ("0ms", "at least 1 ms"),
            ("-5ms", "not a wait"),
            ("2min", "not a wait"),
            ("61s", "at most 60 s"),
            ("1ms*201", "more than 200 tries"),
            ("50ms,,75ms", "not a wait"),
        ] {
            let e = LockWaits::parse(spec).unwrap_err();
            assert!(e.contains(says), "{spec:?}: {e}");
        }
    }

    #[test]
    fn sleeps_grow_to_a_second() {
        assert_eq!(LockWaits::sleep(1), ms(100));
        assert_eq!(LockWaits::sleep(5), ms(500));
        assert_eq!(LockWaits::sleep(10), ms(1000));
        assert_eq!(LockWaits::sleep(40), ms(1000));
    }

    #[test]
    fn capped_by_the_maximum() {
        let w = LockWaits::parse("50ms,2s*2").unwrap();
        assert_eq!(w.capped(ms(1000)).to_string(), "50ms,1s*2");
        assert!(w.capped(Duration::ZERO).is_none());
    }
}
