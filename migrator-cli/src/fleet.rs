//! `--targets FILE [--jobs N] [--on-error continue|stop]`: `up`, `down`,
//! `status`, `verify` and `history` over many databases or PostgreSQL
//! schemas (tenants) in one run (docs/DEPLOYING.md "Tenants").
//!
//! Each target is run by a `migrator` process of its own (this binary, with
//! the same arguments, the target's URL in `DATABASE_URL` and its schema in
//! `--schema`), at most `--jobs` at a time through
//! `migrator_core::fleet::run`: a target's output stays its own, a crash or
//! a hang of one cannot corrupt another, and what each prints is exactly
//! what a run on that database alone prints. One line per target as it
//! ends, its whole output under it when it failed, then a summary table;
//! exit 0 when every target succeeded, 1 otherwise. A failed target is left
//! as the command leaves a single database (its own history records what
//! it has), so running again finishes it.

use std::ffi::OsString;
use std::io::Write as _;
use std::path::Path;
use std::process::{Command as Process, ExitCode, Stdio};
use std::time::Instant;

use migrator_core::fleet::{self, Finished, OnError, Outcome, Target};
use migrator_core::runner::human_duration;

use crate::error::CliError;
use crate::style::{self, Role};

/// The flags this module consumes, with whether each takes a value; the
/// rest of the command line goes to every target's process.
const OWN_FLAGS: &[(&str, bool)] = &[
    ("--targets", true),
    ("--jobs", true),
    ("--on-error", true),
    ("--database-url", true),
    ("--schema", true),
    ("--color", true),
];

/// The command line without this module's flags.
fn forwarded(args: &[OsString]) -> Vec<OsString> {
    let mut out = Vec::new();
    let mut skip_value = false;
    for a in args {
        if skip_value {
            skip_value = false;
            continue;
        }
        let s = a.to_string_lossy();
        match OWN_FLAGS
            .iter()
            .find(|(f, _)| s == *f || s.starts_with(&format!("{f}=")))
        {
            Some((f, takes_value)) => skip_value = *takes_value && s == *f,
            None => out.push(a.clone()),
        }
    }
    out
}

/// What a target's output says it did, in a few words.
fn summary_of(command: &str, ok: bool, output: &str) -> String {
    if !ok {
        return output
            .lines()
            .find_map(|l| l.strip_prefix("error: "))
            .or_else(|| output.lines().find(|l| l.starts_with("drift: ")))
            .or_else(|| output.lines().find(|l| !l.trim().is_empty()))
            .unwrap_or("failed (no message)")
            .to_string();
    }
    let count = |suffix: &str| {
        output.lines().find_map(|l| {
            l.strip_suffix(suffix)
                .and_then(|n| n.trim().parse::<usize>().ok())
        })
    };
    match command {
        "up" => match count(" migration(s) applied") {
            Some(0) => "already current".into(),
            Some(n) => format!("applied {n}"),
            None => "done".into(),
        },
        "down" => match count(" migration(s) rolled back") {
            Some(0) => "nothing to roll back".into(),
            Some(n) => format!("rolled back {n}"),
            None => "done".into(),
        },
        "status" => match count(" pending") {
            Some(0) => "current".into(),
            Some(n) => format!("{n} pending"),
            None => "done".into(),
        },
        "verify" => "clean".into(),
        _ => "done".into(),
    }
}

/// Runs `command` (one of up, down, status, verify, history) on every
/// target of `file`. `args` is the whole command line after the program.
pub fn run(
    file: &Path,
    command: &str,
    jobs: usize,
    on_error: OnError,
    args: &[OsString],
) -> Result<ExitCode, CliError> {
    let text = std::fs::read_to_string(file).map_err(|source| CliError::TargetsFile {
        path: file.to_path_buf(),
        source,
    })?;
    let targets = fleet::parse_targets(&text, file).map_err(|e| CliError::targets(file, e))?;
    let exe = std::env::current_exe()
        .map_err(|e| CliError::Message(format!("finding the migrator binary: {e}")))?;
    let rest = forwarded(args);
    let total = targets.len();
    let width = total.to_string().len();
    let started = Instant::now();
    let done = std::sync::atomic::AtomicUsize::new(0);
    eprintln!(
        "{command} on {total} target(s) from {}, {} at a time{}",
        file.display(),
        jobs.min(total),
        if on_error == OnError::Stop {
            ", stopping at the first failure"
        } else {
            ""
        }
    );
    let outcomes = fleet::run(
        &targets,
        jobs,
        on_error,
        |_, t: &Target| {
            let mut p = Process::new(&exe);
            p.arg("--color")
                .arg("never")
                .args(&rest)
                .env("DATABASE_URL", t.url.expose_url())
                .env("NO_COLOR", "1")
                .stdin(Stdio::null());
            if let Some(s) = &t.schema {
                p.arg("--schema").arg(s);
            }
            let o = p
                .output()
                .map_err(|e| format!("starting {}: {e}", exe.display()))?;
            let output = format!(
                "{}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            );
            // A failure is an error to the fleet, so `--on-error stop`
            // sees it; its text is the target's whole output.
            if o.status.success() {
                Ok(output)
            } else {
                Err(output)
            }
        },
        |t: &Target, f: &Finished<String>| {
            let n = done.fetch_add(1, std::sync::atomic::Ordering::SeqCst) + 1;
            let (word, role, what, show) = match &f.outcome {
                Outcome::Done(out) => ("ok", Role::Good, summary_of(command, true, out), None),
                Outcome::Failed(out) => (
                    "failed",
                    Role::Bad,
                    summary_of(command, false, out),
                    Some(out.as_str()),
                ),
                Outcome::Skipped => (
                    "skipped",
                    Role::Bad,
                    "not started: an earlier target failed (--on-error stop)".into(),
                    None,
                ),
            };
            let mut out = std::io::stdout().lock();
            let _ = writeln!(
                out,
                "[{n:>width$}/{total}] {} {t}: {what} ({})",
                style::out(role, &format!("{word:<7}")),
                human_duration(f.took)
            );
            if let Some(output) = show {
                for l in output.lines() {
                    let _ = writeln!(out, "    | {l}");
                }
            }
        },
    );

    // The summary table: every target, in the file's order.
    let mut ok = 0;
    let mut failed = 0;
    let mut skipped = 0;
    let mut rows = Vec::new();
    for (t, f) in targets.iter().zip(&outcomes) {
        let (state, what) = match &f.outcome {
            Outcome::Done(out) => {
                ok += 1;
                ("ok", summary_of(command, true, out))
            }
            Outcome::Failed(out) => {
                failed += 1;
                ("failed", summary_of(command, false, out))
            }
            Outcome::Skipped => {
                skipped += 1;
                ("skipped", "not started".to_string())
            }
        };
        rows.push((t.label(), state, what));
    }
    let name_width = rows.iter().map(|r| r.0.len()).max().unwrap_or(6).max(6);
    println!();
    println!(
        "summary: {command} on {total} target(s) in {}: {ok} ok, {failed} failed, {skipped} skipped",
        human_duration(started.elapsed())
    );
    println!("{:<name_width$}  {:<7}  RESULT", "TARGET", "STATE");
    for (name, state, what) in &rows {
        let role = if *state == "ok" {
            Role::Good
        } else {
            Role::Bad
        };
        println!(
            "{name:<name_width$}  {}  {what}",
            style::out(role, &format!("{state:<7}"))
        );
    }
    if failed + skipped > 0 {
        println!("help: fix the cause and run the same command again: targets that are done have nothing left to do");
        Ok(ExitCode::from(1))
    } else {
        Ok(ExitCode::SUCCESS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fleet_flags_are_not_forwarded() {
        let args: Vec<OsString> = [
            "--dir",
            "p",
            "--targets",
            "t.txt",
            "up",
            "--jobs=4",
            "--on-error",
            "stop",
            "--lock-timeout",
            "5",
            "--color=always",
            "--schema",
            "x",
        ]
        .iter()
        .map(OsString::from)
        .collect();
        let f: Vec<String> = forwarded(&args)
            .iter()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert_eq!(f, ["--dir", "p", "up", "--lock-timeout", "5"]);
    }

    #[test]
    fn outputs_are_summarised() {
        assert_eq!(
            summary_of("up", true, "applying 0001\n2 migration(s) applied\n"),
            "applied 2"
        );
        assert_eq!(
            summary_of("up", true, "0 migration(s) applied\n"),
            "already current"
        );
        assert_eq!(
            summary_of("status", true, "0001_a pending\n1 pending\n"),
            "1 pending"
        );
        assert_eq!(
            summary_of(
                "up",
                false,
                "applying 0002\nerror: migration 0002_x failed\n  more\n"
            ),
            "migration 0002_x failed"
        );
        assert_eq!(
            summary_of("verify", false, "drift: db differs\n"),
            "drift: db differs"
        );
    }
}
