//! The snapshot file `migrations/schema.toml`: the whole modelled schema after
//! the newest migration.
//!
//! Contract:
//! - deterministic: tables sorted by name, named objects sorted by name, columns
//!   in declaration order; writing what was read gives the same bytes;
//! - format-versioned (`format = 1`); an unknown version is refused rather than
//!   misread;
//! - it records the newest migration number (`head`) and a hash chain over
//!   every migration file's checksum (`chain`, in the spirit of Atlas's
//!   atlas.sum), so two branches that each add a migration conflict in git, and
//!   an edited or unlisted migration file is detected.

mod text;

use std::borrow::Cow;
use std::path::Path;

pub use crate::ledger::{chain_of, empty_chain, extend_chain, file_entry};
use crate::ledger::{line_col, normalize_text, MigrationError};
use crate::schema::{Schema, Table};
use serde::{Deserialize, Serialize};

/// The current snapshot format version.
pub const FORMAT: u32 = 1;

const HEADER: &str =
    "# migrator schema snapshot: the modelled schema after the newest migration.\n\
# Written by `migrator generate`; review it in pull requests, do not edit it by hand.\n";

/// The parsed snapshot.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Snapshot {
    /// Number of the newest migration this snapshot reflects (0: none).
    pub head: u32,
    /// Hash chain over the checksums of migrations 1..=head.
    pub chain: String,
    /// `"<sha256> <file name>"` for every migration, oldest first, so an
    /// edited file can be named.
    pub files: Vec<String>,
    pub schema: Schema,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct SnapshotFile {
    format: u32,
    head: u32,
    chain: String,
    #[serde(default)]
    migrations: Vec<String>,
    #[serde(default)]
    tables: Vec<Table>,
}

impl Snapshot {
    /// Parses snapshot text; `file` is only used in error messages.
    pub fn parse(file: &Path, text: &str) -> Result<Snapshot, MigrationError> {
        let text = if text.starts_with('\u{feff}') || text.contains('\r') {
            Cow::Owned(normalize_text(text))
        } else {
            Cow::Borrowed(text)
        };
        // The canonical layout is read directly; anything else (and every
        // error) goes through the `toml` crate.
        let raw = match text::read(&text) {
            Some(raw) => raw,
            None => Snapshot::parse_toml(file, &text)?,
        };
        if raw.format != FORMAT {
            return Err(MigrationError::Invalid {
                file: file.to_path_buf(),
                message: format!(
                    "snapshot format {} is not supported by this migrator (which reads format {FORMAT}); upgrade migrator",
                    raw.format
                ),
            });
        }
        let mut schema = Schema::new();
        for t in raw.tables {
            if let Err(message) = crate::sql_fragment::check_table(&t) {
                return Err(MigrationError::Invalid {
                    file: file.to_path_buf(),
                    message,
                });
            }
            if schema.tables.contains_key(&t.name) {
                return Err(MigrationError::Invalid {
                    file: file.to_path_buf(),
                    message: format!("table `{}` appears twice", t.name),
                });
            }
            schema.insert(t);
        }
        schema.normalize();
        Ok(Snapshot {
            head: raw.head,
            chain: raw.chain,
            files: raw.migrations,
            schema,
        })
    }

    /// The `toml` crate's reading of `text`, errors located in `file`.
    fn parse_toml(file: &Path, text: &str) -> Result<SnapshotFile, MigrationError> {
        toml::from_str(text).map_err(|e| {
            let (line, column) = e.span().map(|s| line_col(text, s.start)).unwrap_or((0, 0));
            MigrationError::Parse {
                file: file.to_path_buf(),
                line,
                column,
                message: e.message().to_string(),
            }
        })
    }

    /// Reads the snapshot at `path`; a missing file is an empty snapshot
    /// (a project with no migrations yet).
    pub fn read(path: &Path) -> Result<Snapshot, MigrationError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Snapshot::parse(path, &text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Snapshot::default()),
            Err(e) => Err(MigrationError::io(path, e)),
        }
    }

    /// The canonical text of this snapshot.
    pub fn to_text(&self) -> String {
        // Copied only when it needs sorting.
        let schema = if self.schema.is_normalized() {
            Cow::Borrowed(&self.schema)
        } else {
            let mut schema = self.schema.clone();
            schema.normalize();
            Cow::Owned(schema)
        };
        let mut out = String::with_capacity(HEADER.len() + 1024 + 1024 * schema.tables.len());
        out.push_str(HEADER);
        // What `toml::to_string` gives for a `SnapshotFile`, byte for byte.
        text::write(
            &mut out,
            FORMAT,
            self.head,
            &self.chain,
            &self.files,
            schema.tables.values(),
        );
        out
    }
}

/// `tables`, in their order and exactly as they are (not normalized), in
/// the snapshot's text: for caches, read back by [`tables_from_text`].
#[cfg(feature = "model")]
pub(crate) fn tables_text<'a>(tables: impl ExactSizeIterator<Item = &'a Table>) -> String {
    let mut out = String::new();
    text::write(&mut out, FORMAT, 0, "", &[], tables);
    out
}

/// The tables of a [`tables_text`], in order; `None` for any other text.
#[cfg(feature = "model")]
pub(crate) fn tables_from_text(text: &str) -> Option<Vec<Table>> {
    let file = match text::read(text) {
        Some(file) => file,
        None => toml::from_str::<SnapshotFile>(text).ok()?,
    };
    (file.format == FORMAT).then_some(file.tables)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{
        Check, Column, ColumnType, DefaultValue, ForeignKey, Index, RefAction, Unique,
    };

    pub(crate) fn sample() -> Snapshot {
        let mut users = Table::new("users");
        let mut id = Column::new("id", ColumnType::BigInt);
        id.auto_increment = true;
        users.columns = vec![id, Column::new("email", ColumnType::Varchar(200))];
        users.primary_key = vec!["id".into()];
        users.uniques.push(Unique {
            name: "uq_users_email".into(),
            columns: vec!["email".into()],
            nulls_not_distinct: false,
        });
        let mut tasks = Table::new("tasks");
        let mut prio = Column::new("priority", ColumnType::Varchar(20));
        prio.default = Some(DefaultValue::Str("med'ium".into()));
        let mut due = Column::new("due", ColumnType::Date);
        due.nullable = true;
        let mut score = Column::new("score", ColumnType::Double);
        score.default = Some(DefaultValue::Float(0.5));
        tasks.columns = vec![
            Column::new("id", ColumnType::BigInt),
            Column::new("user_id", ColumnType::BigInt),
            prio,
            due,
            score,
            Column::new("amount", ColumnType::Custom("NUMERIC(12, 2)".into())),
        ];
        tasks.primary_key = vec!["id".into()];
        tasks.indexes.push(Index {
            name: "idx_tasks_user_id".into(),
            columns: vec!["user_id".into()],
        });
        tasks.foreign_keys.push(ForeignKey {
            name: "fk_tasks_user_id".into(),
            columns: vec!["user_id".into()],
            ref_table: "users".into(),
            ref_columns: vec!["id".into()],
            on_delete: RefAction::Cascade,
            on_update: RefAction::NoAction,
        });
        tasks.checks.push(Check {
            name: "ck_tasks_1".into(),
            expr: "priority IN ('low', 'medium', 'high')".into(),
        });
        let mut schema = Schema::new();
        schema.insert(users);
        schema.insert(tasks);
        Snapshot {
            head: 2,
            chain: chain_of([(1, "aa"), (2, "bb")]),
            files: vec![
                file_entry("aa", "0001_a.toml"),
                file_entry("bb", "0002_b.toml"),
            ],
            schema,
        }
    }

    #[test]
    fn snapshot_round_trips_byte_for_byte() {
        let s = sample();
        let text = s.to_text();
        let back = Snapshot::parse(Path::new("schema.toml"), &text).expect("parses");
        assert_eq!(back, s);
        assert_eq!(back.to_text(), text);
    }

    #[test]
    fn a_fragment_that_is_more_than_one_type_or_expression_is_refused() {
        let text = sample().to_text();
        assert!(text.contains("sql:NUMERIC(12, 2)"));
        let bad = text.replace("sql:NUMERIC(12, 2)", "sql:int, DROP COLUMN secret");
        let e = Snapshot::parse(Path::new("m/schema.toml"), &bad).unwrap_err();
        assert_eq!(
            e.to_string(),
            "m/schema.toml: table `tasks`, column `amount`: type `sql:int, DROP COLUMN secret` is not one SQL type at character 4: `,` outside parentheses would start another clause; a type has one name and its arguments in `( )`"
        );
        let bad = text.replace(
            "'medium', 'high')",
            "'medium', 'high')) ; DROP TABLE users; --",
        );
        let e = Snapshot::parse(Path::new("m/schema.toml"), &bad).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("m/schema.toml: table `tasks`, check `ck_tasks_1`:"),
            "{e}"
        );
    }

    #[test]
    fn unknown_format_and_bad_toml_are_refused_with_location() {
        let text = sample().to_text().replace("format = 1", "format = 9");
        let e = Snapshot::parse(Path::new("m/schema.toml"), &text).unwrap_err();
        assert!(e.to_string().contains("snapshot format 9"), "{e}");
        let e = Snapshot::parse(
            Path::new("m/schema.toml"),
            "format = 1\nhead = 0\nchain = \"\"\n[[tables]]\nname = 3\n",
        )
        .unwrap_err();
        assert!(e.to_string().starts_with("m/schema.toml:5:"), "{e}");
    }

    #[test]
    fn errors_in_a_canonical_looking_file_name_their_line() {
        // The fast reader gives up on it; the `toml` crate's error names
        // the line of the repeated key.
        let text = sample().to_text();
        let at = text
            .lines()
            .position(|l| l == "nullable = false")
            .expect("a column");
        let mut lines: Vec<&str> = text.lines().collect();
        lines.insert(at + 1, "nullable = true");
        let e = Snapshot::parse(Path::new("m/schema.toml"), &lines.join("\n"))
            .expect_err("a repeated key");
        assert!(
            e.to_string()
                .starts_with(&format!("m/schema.toml:{}:", at + 2)),
            "{e}"
        );
        let bad_type = text.replacen("type = \"bigint\"", "type = \"bigintt\"", 1);
        let e =
            Snapshot::parse(Path::new("m/schema.toml"), &bad_type).expect_err("an unknown type");
        assert!(
            e.to_string().contains("unknown column type `bigintt`"),
            "{e}"
        );
        let line = bad_type
            .lines()
            .position(|l| l.contains("bigintt"))
            .expect("edited")
            + 1;
        assert!(
            e.to_string().starts_with(&format!("m/schema.toml:{line}:")),
            "{e}"
        );
    }

    #[test]
    fn chain_depends_on_order_and_content() {
        let a = chain_of([(1, "aa"), (2, "bb")]);
        assert_ne!(a, chain_of([(1, "bb"), (2, "aa")]));
        assert_ne!(a, chain_of([(1, "aa"), (2, "bc")]));
        assert_eq!(a, chain_of([(1, "aa"), (2, "bb")]));
    }
}
