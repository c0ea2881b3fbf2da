//! Many databases, or many PostgreSQL schemas of one database, in one run:
//! the tenants of a SaaS product with a database or a schema each.
//!
//! - [`Target`]: a database URL and, on PostgreSQL, the schema that every
//!   statement, guard, catalog query, the history table and the lock row of
//!   that run use (the session's `search_path`, set through libpq's
//!   `options` at connect time, so no statement can run before it).
//! - [`parse_targets`]: a targets file, one target per line (`URL` or
//!   `URL schema=NAME`, `#` comments), refused whole with `file:line` when
//!   a line is wrong.
//! - [`run`]: calls a function for every target on at most `jobs` threads,
//!   reports each outcome as it comes, and follows an [`OnError`] policy.
//!   A failing target changes nothing for the others; running again
//!   finishes what is left, since every target's own history says what it
//!   has.
//! - [`up`]: `run` with [`Migrator::up`](crate::runner::Migrator::up) on each
//!   target (library use; the CLI runs one `migrator` process per target,
//!   whose output it keeps per target).

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::database_url::{Backend, DatabaseUrl};

/// One database (and schema) to run on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub url: DatabaseUrl,
    /// PostgreSQL only: the schema the run uses instead of the URL's
    /// default `search_path`.
    pub schema: Option<String>,
}

impl Target {
    /// A target; `schema` is refused for a database other than PostgreSQL
    /// and for a name that is not a plain identifier.
    pub fn new(url: DatabaseUrl, schema: Option<String>) -> Result<Target, String> {
        if let Some(s) = &schema {
            check_schema_name(s)?;
            if url.backend() != Backend::Postgres {
                return Err(format!(
                    "a schema (`{s}`) is for PostgreSQL targets; {} has no schemas to choose\nhelp: give each tenant its own database URL",
                    url
                ));
            }
            if url.param("options").is_some() {
                return Err(format!(
                    "{url} already sets libpq `options`; a schema cannot be added to them\nhelp: put `-csearch_path={s}` into the URL's options yourself, or drop them"
                ));
            }
        }
        Ok(Target { url, schema })
    }

    /// The URL to connect with: the target's URL, with the schema as the
    /// session's `search_path` (libpq `options`).
    pub fn connection_url(&self) -> DatabaseUrl {
        match &self.schema {
            None => self.url.clone(),
            Some(s) => self
                .url
                .with_param("options", &format!("-csearch_path=\"{s}\"")),
        }
    }

    /// How the target is named in messages: the URL without its password,
    /// and the schema.
    pub fn label(&self) -> String {
        match &self.schema {
            None => self.url.to_string(),
            Some(s) => format!("{} schema={s}", self.url),
        }
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.label())
    }
}

/// A schema name a target may use: a plain identifier (letters, digits,
/// `_`, not starting with a digit, at most 63 bytes), so that it means the
/// same in `search_path`, in messages and in a shell.
pub fn check_schema_name(name: &str) -> Result<(), String> {
    let plain = !name.is_empty()
        && name.len() <= 63
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if plain {
        Ok(())
    } else {
        Err(format!(
            "`{name}` is not a schema name migrator uses: letters, digits and `_`, not starting with a digit, at most 63 bytes"
        ))
    }
}

/// Reads a targets file: one target per line, `URL` or `URL schema=NAME`;
/// blank lines and lines starting with `#` are skipped. Any bad line
/// refuses the whole file, naming `file:line`, so that a typo never runs a
/// partial fleet. A target listed twice is refused too (two runners on one
/// database would only wait for each other).
pub fn parse_targets(text: &str, file: &Path) -> Result<Vec<Target>, String> {
    let mut out: Vec<(usize, Target)> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        let at = |m: String| format!("{}:{}: {m}", file.display(), i + 1);
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut words = line.split_whitespace();
        let url = words.next().unwrap_or_default();
        let url = DatabaseUrl::parse(url).map_err(|e| at(e.to_string()))?;
        let mut schema = None;
        for w in words {
            match w.split_once('=') {
                Some(("schema", v)) if schema.is_none() => schema = Some(v.to_string()),
                Some(("schema", _)) => return Err(at("`schema=` given twice".into())),
                _ => {
                    return Err(at(format!(
                        "unexpected `{w}` after the URL\nhelp: a line is `URL` or `URL schema=NAME`"
                    )))
                }
            }
        }
        let t = Target::new(url, schema).map_err(at)?;
        if let Some((first, _)) = out
            .iter()
            .find(|(_, o)| o.connection_url() == t.connection_url())
        {
            return Err(at(format!("{t} is listed twice (first on line {first})")));
        }
        out.push((i + 1, t));
    }
    if out.is_empty() {
        return Err(format!("{}: no targets in the file", file.display()));
    }
    Ok(out.into_iter().map(|(_, t)| t).collect())
}

/// What [`run`] does after a target fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnError {
    /// Run every other target (the default: one tenant's broken data does
    /// not hold the others back).
    #[default]
    Continue,
    /// Start no new target; those running finish.
    Stop,
}

/// How one target ended.
#[derive(Debug)]
pub enum Outcome<T> {
    Done(T),
    Failed(String),
    /// Not started: an earlier target failed under [`OnError::Stop`].
    Skipped,
}

/// One target's outcome, with its index in the list and how long it took.
#[derive(Debug)]
pub struct Finished<T> {
    pub index: usize,
    pub outcome: Outcome<T>,
    pub took: Duration,
}

/// Runs `f` for every target on at most `jobs` threads (at least one),
/// calling `report` with each outcome as it is known (from the worker
/// thread, one call at a time). Returns the outcomes in the targets'
/// order. `f` gets the target's index and the target.
pub fn run<T, F, R>(
    targets: &[Target],
    jobs: usize,
    on_error: OnError,
    f: F,
    report: R,
) -> Vec<Finished<T>>
where
    T: Send,
    F: Fn(usize, &Target) -> Result<T, String> + Sync,
    R: Fn(&Target, &Finished<T>) + Sync,
{
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let results: Mutex<Vec<Option<Finished<T>>>> =
        Mutex::new((0..targets.len()).map(|_| None).collect());
    let reporting = Mutex::new(());
    let work = || loop {
        let i = next.fetch_add(1, Ordering::SeqCst);
        let Some(target) = targets.get(i) else {
            break;
        };
        let started = Instant::now();
        let outcome = if stop.load(Ordering::SeqCst) {
            Outcome::Skipped
        } else {
            match f(i, target) {
                Ok(v) => Outcome::Done(v),
                Err(e) => {
                    if on_error == OnError::Stop {
                        stop.store(true, Ordering::SeqCst);
                    }
                    Outcome::Failed(e)
                }
            }
        };
        let finished = Finished {
            index: i,
            outcome,
            took: started.elapsed(),
        };
        {
            let _one_at_a_time = reporting.lock().unwrap_or_else(|p| p.into_inner());
            report(target, &finished);
        }
        results.lock().unwrap_or_else(|p| p.into_inner())[i] = Some(finished);
    };
    std::thread::scope(|s| {
        for _ in 0..jobs.clamp(1, targets.len().max(1)) {
            s.spawn(work);
        }
    });
    results
        .into_inner()
        .unwrap_or_else(|p| p.into_inner())
        .into_iter()
        .map(|r| r.expect("every target is run or skipped"))
        .collect()
}

/// Applies the pending migrations of `set` on every target (see [`run`]):
/// each target's outcome is the list of migrations it applied.
#[cfg(any(feature = "sqlite", feature = "postgres", feature = "mysql"))]
pub fn up(
    set: &crate::migration::MigrationSet,
    targets: &[Target],
    jobs: usize,
    on_error: OnError,
    report: impl Fn(&Target, &Finished<Vec<String>>) + Sync,
) -> Vec<Finished<Vec<String>>> {
    use crate::runner::{connect_url, AnyConnection, Migrator};
    run(
        targets,
        jobs,
        on_error,
        |_, t| {
            let url = t.connection_url();
            let label = t.label();
            let mut conn = connect_url(&url).map_err(|e| format!("{label}: {e}"))?;
            let m = Migrator::new(set);
            let done = match &mut conn {
                #[cfg(feature = "sqlite")]
                AnyConnection::Sqlite(c) => m.up(c),
                #[cfg(feature = "postgres")]
                AnyConnection::Postgres(c) => m.up(c),
                #[cfg(feature = "mysql")]
                AnyConnection::Mysql(c) => m.up(c),
            };
            done.map(|r| r.done).map_err(|e| e.to_string())
        },
        report,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> DatabaseUrl {
        DatabaseUrl::parse(s).expect("url")
    }

    #[test]
    fn a_targets_file_is_read_or_refused_whole() {
        let f = Path::new("tenants.txt");
        let ts = parse_targets(
            "# tenants\n\npostgres://app@db/main schema=tenant_1\npostgres://app@db/main schema=tenant_2\nsqlite://t3.db\n",
            f,
        )
        .expect("reads");
        assert_eq!(ts.len(), 3);
        assert_eq!(ts[0].schema.as_deref(), Some("tenant_1"));
        assert_eq!(ts[2].schema, None);
        assert_eq!(ts[1].label(), "postgres://app@db/main schema=tenant_2");
        assert!(ts[0]
            .connection_url()
            .expose_url()
            .contains("options=-csearch_path%3D%22tenant_1%22"));

        for (text, wants) in [
            ("sqlite://a.db\nnot a url\n", "tenants.txt:2:"),
            (
                "sqlite://a.db schema=x\n",
                "tenants.txt:1: a schema (`x`) is for PostgreSQL",
            ),
            (
                "postgres://h/d schema=x-y\n",
                "tenants.txt:1: `x-y` is not a schema name",
            ),
            (
                "postgres://h/d schema=a schema=b\n",
                "`schema=` given twice",
            ),
            ("postgres://h/d tenant=a\n", "unexpected `tenant=a`"),
            (
                "postgres://h/d schema=a\npostgres://h/d schema=a\n",
                "tenants.txt:2: postgres://h/d schema=a is listed twice (first on line 1)",
            ),
            ("# nothing\n", "tenants.txt: no targets"),
        ] {
            let e = parse_targets(text, f).expect_err(text);
            assert!(e.contains(wants), "{text:?}: {e}");
        }
    }

    #[test]
    fn run_keeps_order_bounds_threads_and_follows_the_policy() {
        let targets: Vec<Target> = (0..20)
            .map(|i| Target::new(url(&format!("sqlite://t{i}.db")), None).expect("target"))
            .collect();
        let running = AtomicUsize::new(0);
        let most = AtomicUsize::new(0);
        let reported = AtomicUsize::new(0);
        let out = run(
            &targets,
            3,
            OnError::Continue,
            |i, _| {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                std::thread::sleep(Duration::from_millis(5));
                running.fetch_sub(1, Ordering::SeqCst);
                if i == 7 {
                    Err("boom".to_string())
                } else {
                    Ok(i * 10)
                }
            },
            |_, _| {
                reported.fetch_add(1, Ordering::SeqCst);
            },
        );
        assert_eq!(reported.load(Ordering::SeqCst), 20);
        assert!(most.load(Ordering::SeqCst) <= 3);
        assert!(most.load(Ordering::SeqCst) >= 2, "ran in parallel");
        for (i, f) in out.iter().enumerate() {
            assert_eq!(f.index, i);
            match (&f.outcome, i) {
                (Outcome::Failed(e), 7) => assert_eq!(e, "boom"),
                (Outcome::Done(v), _) => assert_eq!(*v, i * 10),
                (o, _) => panic!("target {i}: {o:?}"),
            }
        }

        // Stop: nothing starts after the failure (one thread: in order).
        let started = AtomicUsize::new(0);
        let out = run(
            &targets,
            1,
            OnError::Stop,
            |i, _| {
                started.fetch_add(1, Ordering::SeqCst);
                if i == 2 {
                    Err("boom".into())
                } else {
                    Ok(())
                }
            },
            |_, _| {},
        );
        assert_eq!(started.load(Ordering::SeqCst), 3);
        assert!(matches!(out[2].outcome, Outcome::Failed(_)));
        assert!(out[3..]
            .iter()
            .all(|f| matches!(f.outcome, Outcome::Skipped)));
    }
}
