//! Pure logic over the recorded history and the files: the immutable-history
//! check and the status report. No database access here.

use std::fmt;

use super::conn::HistoryRow;
use super::error::RunError;
use super::history::APPLIED;
use crate::migration::MigrationSet;

/// The state of each migration on a database.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub lines: Vec<StatusLine>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusLine {
    pub version: u32,
    pub id: String,
    pub state: LineState,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LineState {
    Applied {
        at: String,
    },
    Pending,
    /// A non-transactional migration that stopped part way.
    Partial {
        steps_done: i64,
    },
    /// The file changed after it was applied.
    Edited,
    /// Recorded as applied but no file has this number.
    MissingFile,
    /// Recorded (applied or partial) with a number above every file's: a
    /// newer release applied it, and this one (rolled back to) does not
    /// have it. Tolerated unless [`NewerMigrations::Refuse`].
    Newer {
        applied: bool,
    },
    /// Recorded under another name than the file with the same number.
    Renamed {
        file: String,
    },
}

impl Status {
    /// True when nothing is wrong (pending migrations are not wrong).
    pub fn is_clean(&self) -> bool {
        self.lines.iter().all(|l| {
            matches!(
                l.state,
                LineState::Applied { .. } | LineState::Pending | LineState::Newer { .. }
            )
        })
    }

    /// The migrations a newer release applied that this set does not have.
    pub fn newer(&self) -> impl Iterator<Item = &StatusLine> {
        self.lines
            .iter()
            .filter(|l| matches!(l.state, LineState::Newer { .. }))
    }

    pub fn pending(&self) -> usize {
        self.lines
            .iter()
            .filter(|l| l.state == LineState::Pending)
            .count()
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.lines.is_empty() {
            return writeln!(f, "no migrations");
        }
        for l in &self.lines {
            let what = match &l.state {
                LineState::Applied { at } => format!("applied  {at}"),
                LineState::Pending => "pending".to_string(),
                LineState::Partial { steps_done } => {
                    format!("PARTIAL  {steps_done} statement(s) done; run `migrator up` to resume")
                }
                LineState::Edited => "EDITED   the file changed after it was applied".to_string(),
                LineState::MissingFile => "MISSING  applied, but its file is gone".to_string(),
                LineState::Renamed { file } => {
                    format!("RENAMED  applied under this name; the file is now `{file}`")
                }
                LineState::Newer { applied } => format!(
                    "newer    {} by a newer release; not in these migrations (left as it is)",
                    if *applied { "applied" } else { "PARTIAL" }
                ),
            };
            writeln!(f, "{:<40} {what}", l.id)?;
        }
        Ok(())
    }
}

impl Status {
    /// The status as one JSON object, for scripts and CI:
    /// `{"migrations": [{"version", "id", "state", ..}], "pending", "clean"}`
    /// where `state` is `applied` (with `applied_at`), `pending`, `partial`
    /// (with `steps_done`), `edited`, `missing_file`, `renamed` (with
    /// `file`) or `newer` (with `applied`: recorded by a newer release); `clean` is [`Status::is_clean`] (what makes `status` exit 1
    /// when false).
    pub fn to_json(&self) -> String {
        let mut out = String::from("{\"migrations\":[");
        for (i, l) in self.lines.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let (state, extra) = match &l.state {
                LineState::Applied { at } => {
                    ("applied", format!(",\"applied_at\":{}", json_string(at)))
                }
                LineState::Pending => ("pending", String::new()),
                LineState::Partial { steps_done } => {
                    ("partial", format!(",\"steps_done\":{steps_done}"))
                }
                LineState::Edited => ("edited", String::new()),
                LineState::MissingFile => ("missing_file", String::new()),
                LineState::Renamed { file } => {
                    ("renamed", format!(",\"file\":{}", json_string(file)))
                }
                LineState::Newer { applied } => ("newer", format!(",\"applied\":{applied}")),
            };
            out.push_str(&format!(
                "{{\"version\":{},\"id\":{},\"state\":\"{state}\"{extra}}}",
                l.version,
                json_string(&l.id)
            ));
        }
        out.push_str(&format!(
            "],\"pending\":{},\"clean\":{}}}",
            self.pending(),
            self.is_clean()
        ));
        out
    }
}

/// `s` as a JSON string literal (for the `--format json` outputs).
pub fn json_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// How a history row stands against the files (`migrator history`, and
/// the first checks of [`status`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileState {
    /// The file with this number has the recorded name and checksum.
    Matches,
    /// The file with this number has another name.
    Renamed,
    /// The file changed after the row was written.
    Edited,
    /// No file has this number.
    Missing,
}

impl FileState {
    /// `row` against the migrations of `set`.
    pub fn of(set: &MigrationSet, row: &HistoryRow) -> FileState {
        match u32::try_from(row.version).ok().and_then(|v| set.get(v)) {
            None => FileState::Missing,
            Some(m) if m.name != row.name => FileState::Renamed,
            Some(m) if m.checksum != row.checksum => FileState::Edited,
            Some(_) => FileState::Matches,
        }
    }

    /// `matches`, `renamed`, `edited` or `missing`.
    pub fn as_str(self) -> &'static str {
        match self {
            FileState::Matches => "matches",
            FileState::Renamed => "renamed",
            FileState::Edited => "edited",
            FileState::Missing => "missing",
        }
    }
}

pub(crate) fn status(set: &MigrationSet, rows: &[HistoryRow]) -> Status {
    let mut lines = Vec::new();
    for m in &set.migrations {
        let row = rows.iter().find(|r| r.version == i64::from(m.version));
        let state = match row.map(|r| (r, FileState::of(set, r))) {
            None => LineState::Pending,
            Some((_, FileState::Renamed)) => LineState::Renamed {
                file: m.file_name.clone(),
            },
            Some((_, FileState::Edited)) => LineState::Edited,
            Some((r, _)) if r.state != APPLIED => LineState::Partial {
                steps_done: r.steps_done,
            },
            Some((r, _)) => LineState::Applied {
                at: r.applied_at.clone(),
            },
        };
        let id = match row {
            Some(r) if r.name != m.name => format!("{:04}_{}", r.version, r.name),
            _ => m.id(),
        };
        lines.push(StatusLine {
            version: m.version,
            id,
            state,
        });
    }
    for r in rows {
        if set.get(r.version as u32).is_none() {
            let state = if is_newer(set, r) {
                LineState::Newer {
                    applied: r.state == APPLIED,
                }
            } else {
                LineState::MissingFile
            };
            lines.push(StatusLine {
                version: r.version as u32,
                id: format!("{:04}_{}", r.version, r.name),
                state,
            });
        }
    }
    lines.sort_by_key(|l| l.version);
    Status { lines }
}

/// What a run does with migrations in the history that are newer than every
/// migration it has: a release rolled back to after a newer one migrated
/// the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum NewerMigrations {
    /// Leave them as they are and say so ([`super::Event::NewerMigrations`]):
    /// the older release starts, `up` applies what it has that is missing,
    /// and `down` refuses to roll back what it does not have. Edited,
    /// renamed or missing *older* migrations are refused either way.
    #[default]
    Tolerate,
    /// Refuse to run, as for any migration whose file is missing.
    Refuse,
}

/// Whether `r` is newer than every migration of `set` (and so not a file
/// that went missing from the middle of the chain).
pub(crate) fn is_newer(set: &MigrationSet, r: &HistoryRow) -> bool {
    r.version > i64::from(set.head())
}

/// The history rows a newer release recorded (see [`NewerMigrations`]).
pub(crate) fn newer_rows<'r>(set: &MigrationSet, rows: &'r [HistoryRow]) -> Vec<&'r HistoryRow> {
    rows.iter().filter(|r| is_newer(set, r)).collect()
}

/// Refuses a history that disagrees with the files, naming the migration and
/// the way out. Rows newer than every file are left to `newer`.
pub(crate) fn check_history(
    set: &MigrationSet,
    rows: &[HistoryRow],
    newer: NewerMigrations,
) -> Result<(), RunError> {
    let dir = set.dir.display();
    for r in rows {
        // Formatted only for a message: this loop runs at every start-up.
        let recorded = || format!("{:04}_{}", r.version, r.name);
        let Some(m) = u32::try_from(r.version).ok().and_then(|v| set.get(v)) else {
            let recorded = recorded();
            if is_newer(set, r) {
                if newer == NewerMigrations::Tolerate {
                    continue;
                }
                return Err(RunError::History(format!(
                    "migration {recorded} is recorded as applied, but these migrations end at {:04}: a newer release applied it\nhelp: run the release that has it; to start this one anyway and leave it as it is, allow newer migrations (`NewerMigrations::Tolerate`, the default; without `--refuse-newer`)",
                    set.head()
                )));
            }
            return Err(RunError::History(format!(
                "migration {recorded} is recorded as applied, but {dir}/{recorded}.toml is missing\nhelp: restore the file from version control; a migration that ran on a database must stay in the folder (to undo it, restore it and run `migrator down`)"
            )));
        };
        if m.name != r.name {
            let recorded = recorded();
            return Err(RunError::History(format!(
                "migration {:04} was applied as `{recorded}`, but the file with that number is now `{}`\nhelp: applied migrations must not be renumbered or renamed; restore `{recorded}.toml`, and give new migrations the next free number",
                r.version, m.file_name
            )));
        }
        if m.checksum != r.checksum {
            let recorded = recorded();
            return Err(RunError::History(format!(
                "migration {recorded} was edited after it was applied (recorded checksum {}…, file {}…)\nhelp: restore {dir}/{} from version control; to change the schema further, add a new migration with `migrator generate`",
                short(&r.checksum),
                short(&m.checksum),
                m.file_name
            )));
        }
    }
    let newest_applied = rows.iter().map(|r| r.version).max().unwrap_or(0);
    // Every row names a distinct migration (the version is the key), so
    // no migration older than the newest is missing exactly when there are
    // that many rows; only then is the quadratic search below skipped.
    if rows.len() as i64 >= newest_applied {
        return Ok(());
    }
    if let Some(m) = set.migrations.iter().find(|m| {
        i64::from(m.version) < newest_applied
            && !rows.iter().any(|r| r.version == i64::from(m.version))
    }) {
        return Err(RunError::History(format!(
            "migration {} is pending, but the newer migration {newest_applied:04} is already applied\nhelp: migrations apply in order; this usually means two branches added migrations with the same number: renumber the newer one after the applied ones",
            m.id()
        )));
    }
    Ok(())
}

fn short(s: &str) -> &str {
    &s[..s.len().min(12)]
}
