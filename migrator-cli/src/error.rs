//! [`CliError`]: what stops a command. `main` prints it as `error: ` and
//! its message, redacted of every secret, and exits with
//! [`CliError::exit_code`]. The core's errors are
//! kept whole (`source()` gives them back); the message of each variant is
//! the text the command printed before it was typed.

use std::path::{Path, PathBuf};

use migrator_core::adopt::AdoptError;
use migrator_core::database_url::UrlError;
use migrator_core::dialect::RenderError;
use migrator_core::diesel_schema::TypeError;
use migrator_core::introspect::IntrospectError;
use migrator_core::migration::{MigrationError, RenderFailure};
use migrator_core::project::ProjectError;
use migrator_core::runner::RunError;

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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_targets_message_is_read_back_into_its_parts() {
        let file = Path::new("t.txt");
        let message = "t.txt:2: unexpected `extra` after the URL".to_string();
        let e = CliError::targets(file, message.clone());
        assert!(matches!(e, CliError::Target { line: 2, .. }), "{e:?}");
        assert_eq!(e.to_string(), message);
        // Not `FILE:LINE: `: a message as it is.
        let e = CliError::targets(file, "no targets".into());
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
    }
}
