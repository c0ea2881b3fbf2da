//! [`CliError`]: what stops a command. `main` prints it as `error: ` and
//! [`CliError::report`] (the message, with the source line under each
//! place a file and line are known, `snippet.rs`), redacted of every
//! secret, and exits with [`CliError::exit_code`]. The core's errors are
//! kept whole (`source()` gives them back); the message of each variant is
//! the text the command printed before it was typed.

use std::path::{Path, PathBuf};

use migrator_core::adopt::AdoptError;
use migrator_core::database_url::{redact_url, UrlError};
use migrator_core::dialect::RenderError;
use migrator_core::diesel_schema::TypeError;
use migrator_core::introspect::IntrospectError;
use migrator_core::migration::{MigrationError, RenderFailure};
use migrator_core::model::ModelError;
use migrator_core::project::ProjectError;
use migrator_core::runner::RunError;

use crate::snippet::{self, under_first_line, Column};

/// What stops a command.
#[derive(Debug, thiserror::Error)]
pub(crate) enum CliError {
    /// The command line asks for something that cannot be done: exit 2.
    #[error("{0}")]
    Usage(String),
    /// The database URL was refused (exit 2); `given_by` is where it came
    /// from: `--database-url`, `DATABASE_URL`, or the default file's path.
    #[error("{given_by}: {source}")]
    Url {
        given_by: String,
        #[source]
        source: UrlError,
    },
    /// The migrations folder, the snapshot or `migrator.toml`.
    #[error(transparent)]
    Files(#[from] MigrationError),
    /// The project: its files, its models, planning or rendering a change.
    #[error(transparent)]
    Project(#[from] ProjectError),
    /// Connecting or running on the database; `database` is its URL
    /// (password masked) when the command names it.
    #[error("{source}{}", database_line(database.as_deref()))]
    Run {
        #[source]
        source: RunError,
        database: Option<String>,
    },
    /// A migration that cannot be rendered (`generate`).
    #[error(transparent)]
    Render(#[from] RenderError),
    /// A migration that cannot be rendered (`sql`).
    #[error(transparent)]
    RenderMigration(#[from] RenderFailure),
    /// A file or folder that could not be read, written or removed.
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The `--targets` file could not be read.
    #[error("reading the targets file {}: {source}", path.display())]
    TargetsFile {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A line of the `--targets` file is wrong (the whole file is refused).
    #[error("{}:{line}: {message}", file.display())]
    Target {
        file: PathBuf,
        line: usize,
        message: String,
    },
    /// Columns of the snapshot that diesel's `schema.rs` cannot type.
    #[error("{}", schema_types(snapshot, errors))]
    SchemaTypes {
        snapshot: PathBuf,
        errors: Vec<TypeError>,
    },
    /// The database's catalog could not be read; `message` is the error as
    /// explained (a lock wait names who holds the lock).
    #[error("{message}\n  database: {database}")]
    Catalog {
        #[source]
        source: IntrospectError,
        message: String,
        database: String,
    },
    /// `init --from-database`: the database cannot be adopted.
    #[error("{source}; nothing written\n  database: {database}")]
    Adopt {
        #[source]
        source: AdoptError,
        database: String,
    },
    /// `init --from-database`: the models it wrote do not read back.
    #[error("the adopted models would not pass `migrator check`:\n{source}{hint}")]
    AdoptedModels {
        #[source]
        source: ProjectError,
        hint: String,
    },
    /// `init --from-database` failed after writing files, which it removed.
    #[error("{0}\n{ROLLED_BACK}")]
    RolledBack(#[source] Box<CliError>),
    /// Anything else, in words: a refusal with its reason, a query of the
    /// database that failed outside a run.
    #[error("{0}")]
    Message(String),
}

const ROLLED_BACK: &str = "nothing written (files created by this run were removed)";

fn database_line(database: Option<&str>) -> String {
    database.map_or(String::new(), |d| format!("\n  database: {d}"))
}

fn schema_types(snapshot: &Path, errors: &[TypeError]) -> String {
    errors
        .iter()
        .map(|e| format!("{}: {e}", snapshot.display()))
        .collect::<Vec<_>>()
        .join("\n")
}

impl From<RunError> for CliError {
    fn from(source: RunError) -> CliError {
        CliError::Run {
            source,
            database: None,
        }
    }
}

impl From<String> for CliError {
    fn from(message: String) -> CliError {
        CliError::Message(message)
    }
}

impl CliError {
    /// The error of `path`'s file system operation.
    pub(crate) fn io(path: &Path) -> impl Fn(std::io::Error) -> CliError + '_ {
        move |source| CliError::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    /// `Run` on the database `url` names.
    pub(crate) fn on(source: RunError, url: &impl std::fmt::Display) -> CliError {
        CliError::Run {
            source,
            database: Some(url.to_string()),
        }
    }

    /// A line of the targets file `file` is wrong: `message` is
    /// `migrator_core::fleet::parse_targets`'s, `FILE:LINE: what`, read
    /// back into its parts (anything else stays a message).
    pub(crate) fn targets(file: &Path, message: String) -> CliError {
        let prefix = format!("{}:", file.display());
        let parts = message.strip_prefix(&prefix).and_then(|rest| {
            let (line, what) = rest.split_once(": ")?;
            Some((line.parse::<usize>().ok()?, what.to_string()))
        });
        match parts {
            Some((line, message)) => CliError::Target {
                file: file.to_path_buf(),
                line,
                message,
            },
            None => CliError::Message(message),
        }
    }

    /// 2 for a usage error, 1 for everything else.
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) | CliError::Url { .. } => 2,
            _ => 1,
        }
    }

    /// The message, with a snippet of the source under each line that
    /// names a file and line still there to read; the same text as
    /// `to_string()` apart from the snippets.
    pub(crate) fn report(&self) -> String {
        let text = self.to_string();
        match self {
            CliError::Files(e)
            | CliError::Project(ProjectError::Files(e))
            | CliError::Run {
                source: RunError::Files(e),
                ..
            } => under_first_line(&text, migration_snippet(e)),
            CliError::Project(ProjectError::Models(errors)) => models_report(errors),
            CliError::Target { file, line, .. } => under_first_line(
                &text,
                snippet::of_file(file, *line, Column::Unknown, mask_url),
            ),
            CliError::RolledBack(inner) => format!("{}\n{ROLLED_BACK}", inner.report()),
            _ => text,
        }
    }
}

/// The snippet of a migration error that has a line.
fn migration_snippet(e: &MigrationError) -> Option<String> {
    match e {
        // The TOML reader's columns count bytes.
        MigrationError::Parse {
            file, line, column, ..
        } => snippet::of_file(file, *line, Column::Byte(*column), str::to_string),
        _ => None,
    }
}

/// `ProjectError::Models`'s text, each model error with its snippet.
fn models_report(errors: &[ModelError]) -> String {
    let items: Vec<String> = errors
        .iter()
        .map(|e| {
            let snippet = snippet::of_file(&e.file, e.line, Column::Char(e.column), str::to_string);
            under_first_line(&e.to_string(), snippet)
        })
        .collect();
    format!(
        "{} problem(s) in the models:\n{}",
        errors.len(),
        items.join("\n")
    )
}

/// A targets file line as it may be shown: its URL (the first word)
/// without its password, or a placeholder when it does not parse.
fn mask_url(line: &str) -> String {
    match line.split_whitespace().next() {
        Some(url) => line.replacen(url, &redact_url(url), 1),
        None => line.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    /// The report without its snippet lines (the gutter's `-->` and `|`).
    fn without_snippets(report: &str) -> String {
        report
            .lines()
            .filter(|l| {
                let t = l.trim_start();
                !(t.starts_with("--> ")
                    || t.starts_with('|')
                    || t.split_once(" |").is_some_and(|(n, _)| {
                        !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit())
                    }))
            })
            .collect::<Vec<_>>()
            .join("\n")
    }

    #[test]
    fn a_parse_error_gets_its_line_and_keeps_its_text_and_source() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("0001_a.toml");
        std::fs::write(&file, "description = \"x\"\n[[upgrade]]\nop = 3\n").expect("write");
        let e = CliError::Run {
            source: RunError::Files(MigrationError::Parse {
                file: file.clone(),
                line: 3,
                column: 6,
                message: "invalid type".into(),
            }),
            database: Some("sqlite://x.db".into()),
        };
        let report = e.report();
        assert_eq!(
            report,
            format!(
                "{0}:3:6: invalid type\n --> {0}:3:6\n  |\n3 | op = 3\n  |      ^\n  database: sqlite://x.db",
                file.display()
            )
        );
        assert_eq!(without_snippets(&report), e.to_string());
        assert!(e
            .source()
            .is_some_and(|s| s.to_string().ends_with("invalid type")));
        assert_eq!(e.exit_code(), 1);
        // The file gone: the message alone.
        std::fs::remove_file(&file).expect("remove");
        assert_eq!(e.report(), e.to_string());
    }

    #[test]
    fn each_model_error_gets_its_own_snippet() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("models.rs");
        std::fs::write(&file, "struct A {\n    #[model(max_len = 3)]\n}\n").expect("write");
        let at = |line, column, message: &str| ModelError {
            file: file.clone(),
            line,
            column,
            message: message.into(),
        };
        let e = CliError::Project(ProjectError::Models(vec![
            at(
                2,
                13,
                "unknown field attribute `max_len`\nhelp: did you mean `max_length`?",
            ),
            at(0, 0, "cannot be read"),
        ]));
        let f = file.display();
        assert_eq!(
            e.report(),
            format!("2 problem(s) in the models:\n{f}:2:13: error: unknown field attribute `max_len`\n --> {f}:2:13\n  |\n2 |     #[model(max_len = 3)]\n  |             ^\nhelp: did you mean `max_length`?\n{f}: error: cannot be read")
        );
        assert_eq!(without_snippets(&e.report()), e.to_string());
    }

    #[test]
    fn a_targets_line_is_shown_without_its_password() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("t.txt");
        std::fs::write(&file, "# fleet\npostgres://app:s3cret@h/d schema=a extra\n")
            .expect("write");
        let message = format!("{}:2: unexpected `extra` after the URL", file.display());
        let e = CliError::targets(&file, message.clone());
        assert!(matches!(e, CliError::Target { line: 2, .. }), "{e:?}");
        assert_eq!(e.to_string(), message);
        let report = e.report();
        assert!(!report.contains("s3cret"), "{report}");
        assert!(
            report.ends_with("\n2 | postgres://app:***@h/d schema=a extra\n  | ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^"),
            "{report}"
        );
        assert_eq!(
            mask_url("postgress://u:pw@h/d"),
            "(an invalid database URL)"
        );
        // Not `FILE:LINE: `: a message as it is.
        let e = CliError::targets(&file, "no targets".into());
        assert!(matches!(e, CliError::Message(_)), "{e:?}");
    }

    #[test]
    fn usage_errors_exit_2_and_the_rest_1() {
        assert_eq!(CliError::Usage("x".into()).exit_code(), 2);
        let url = CliError::Url {
            given_by: "--database-url".into(),
            source: UrlError::Empty,
        };
        assert_eq!(url.exit_code(), 2);
        assert!(url
            .to_string()
            .starts_with("--database-url: the database URL is empty"));
        assert_eq!(CliError::Message("x".into()).exit_code(), 1);
        let rolled = CliError::RolledBack(Box::new(CliError::Message("it failed".into())));
        assert_eq!(rolled.to_string(), format!("it failed\n{ROLLED_BACK}"));
        assert_eq!(rolled.report(), rolled.to_string());
    }
}
