//! The safety lint: named rules over the upgrades of a migration set.
//!
//! Contract:
//! - every finding has a rule name (kebab-case, stable: users write them in
//!   `--allow` and in a migration's `allow = [..]`), a severity, the
//!   migration file and the 1-based upgrade step, why the step is dangerous
//!   while the previous version of the application is serving traffic, and
//!   the safe alternative;
//! - typed operations are judged by what they do to a table that exists
//!   before the migration (a table created by the same migration is empty
//!   and unseen); raw SQL steps are scanned as PostgreSQL text (their
//!   `postgres` variant, else `sql`), token by token, comments and string
//!   literals ignored;
//! - `Error` findings make `migrator lint` exit 1, `Warning`s do not; an
//!   allowed rule produces nothing;
//! - what the runner already makes safe is not reported: generated indexes,
//!   constraints and `SET NOT NULL` on existing tables use the online plans
//!   of `dialect/postgres.rs`, and every statement runs under `lock_timeout`
//!   (`runner/retry.rs`) unless the migration sets `lock_timeout_ms = 0`.
//!
//! - `galera.rs` adds `galera-toi-ddl`, only for projects deployed on a
//!   Galera cluster (`migrator lint --galera`; `up --dry-run` on a Galera
//!   node).
//!
//! docs/LINT.md lists the rules next to squawk's and strong_migrations'.

mod galera;

pub use galera::lint_galera;
pub use galera::lint_galera_migration;

use std::collections::BTreeSet;
use std::fmt;

use crate::dialect::Dialect;
use crate::migration::{Migration, MigrationSet};
use crate::ops::Operation;
use crate::schema::{ColumnType, Schema};
use crate::sql_lex::Kind;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Warning,
    Error,
}

/// One rule: its name, severity, why and the safe alternative.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    pub name: &'static str,
    pub severity: Severity,
    pub why: &'static str,
    pub instead: &'static str,
}

macro_rules! rules {
    ($($id:ident = $name:literal, $sev:ident, $why:literal, $instead:literal;)*) => {
        $(pub const $id: Rule = Rule { name: $name, severity: Severity::$sev, why: $why, instead: $instead };)*
        /// Every rule, in documentation order.
        pub const RULES: &[Rule] = &[$($id),*];
    };
}

rules! {
    DESTRUCTIVE_DROP = "destructive-drop", Error,
        "the data in it is lost (an `archived` drop keeps it in the archive it names, for the downgrade, until `migrator purge`), and the running (previous) version of the application still reads and writes it",
        "stop using it first: remove the field and name the column in the struct's `#[model(keep = \"column\")]`, so the database keeps it while that version deploys; then drop it in a later migration (remove it from `keep`, `migrator generate`) and allow the rule there";
    RENAME = "rename", Warning,
        "the running (previous) version of the application still uses the old name and fails as soon as the migration commits",
        "add the new column or table, write to both, backfill, switch reads, then drop the old one in a later migration";
    BREAKS_RUNNING_VERSION = "breaks-running-version", Warning,
        "renaming a column or changing its type in place breaks the running (previous) version of the application during a rolling deploy: its queries name the old column, or read the old type, from the moment the migration commits",
        "on PostgreSQL, the expand/contract form: give the struct the new field with `#[model(renamed_from = \"old\")]` and keep the old column (`#[model(keep = \"old\")]`), `migrator generate` (a trigger keeps both in step, a backfill fills the rows), deploy, then remove it from `keep` and `migrator generate` the contract (docs/DEPLOYING.md, \"Rolling deploys: renames and type changes\")";
    NARROWING_TYPE = "narrowing-type", Error,
        "values that do not fit the new type make the migration fail or are cut, and the table is rewritten under an ACCESS EXCLUSIVE lock",
        "add a new column of the new type, fill it with a `backfill` step (batched, resumable), switch the application to it, then drop the old column";
    TABLE_REWRITE = "table-rewrite", Warning,
        "changing the type rewrites the whole table (and its indexes) under an ACCESS EXCLUSIVE lock: reads and writes wait until it ends",
        "add a new column of the new type, fill it with a `backfill` step (batched, resumable), switch the application, drop the old one; widening VARCHAR(n) or VARCHAR to TEXT needs no rewrite";
    NOT_NULL_WITHOUT_DEFAULT = "not-null-without-default", Error,
        "existing rows have no value, so the statement fails on a table with rows, and the running application does not send the column on insert",
        "give the column a default, or add it nullable, fill it with a `backfill` step (batched, resumable; docs/BACKFILL.md), then make it NOT NULL in a later migration (migrator validates a NOT VALID check first)";
    UNFILLED_BACKFILL = "unfilled-backfill", Error,
        "the `backfill` step `migrator generate` wrote for a column made NOT NULL without a default is still its placeholder (`col = NULL`): it fills nothing, so `up` refuses the migration while a row holds NULL",
        "write the value the rows get (`set = \"col = ..\"`) and run `migrator rehash`, or give the field a `default = ...` and generate the migration again";
    CREATE_INDEX_WITHOUT_CONCURRENTLY = "create-index-without-concurrently", Error,
        "CREATE INDEX holds a SHARE lock that blocks every write to the table for the whole build",
        "use CREATE INDEX CONCURRENTLY in a step with `transactional = false` (generated indexes do this already)";
    ADD_CONSTRAINT_WITHOUT_NOT_VALID = "add-constraint-without-not-valid", Error,
        "adding a foreign key or check scans the whole table while holding a lock that blocks writes",
        "ADD CONSTRAINT .. NOT VALID, then VALIDATE CONSTRAINT in a separate step with `transactional = false` (generated constraints do this already)";
    ADD_UNIQUE_WITHOUT_INDEX = "add-unique-without-index", Error,
        "ADD CONSTRAINT .. UNIQUE / PRIMARY KEY builds its index under an ACCESS EXCLUSIVE lock",
        "CREATE UNIQUE INDEX CONCURRENTLY, then ADD CONSTRAINT .. UNIQUE USING INDEX (generated unique constraints do this already)";
    SET_NOT_NULL = "set-not-null", Warning,
        "SET NOT NULL scans the whole table under an ACCESS EXCLUSIVE lock unless a validated CHECK (col IS NOT NULL) proves it",
        "ADD CONSTRAINT .. CHECK (col IS NOT NULL) NOT VALID, VALIDATE CONSTRAINT (separate step), SET NOT NULL, DROP CONSTRAINT (generated alterations do this already)";
    ALTER_COLUMN_TYPE = "alter-column-type", Error,
        "ALTER COLUMN .. TYPE rewrites the table and its indexes under an ACCESS EXCLUSIVE lock (except a few binary-compatible widenings)",
        "add a new column, fill it with a `backfill` step (batched, resumable), switch the application, drop the old column";
    MISSING_LOCK_TIMEOUT = "missing-lock-timeout", Error,
        "without lock_timeout a statement queued behind a long transaction makes every later query on the table wait too: the application stalls",
        "keep the runner's lock_timeout (remove `lock_timeout_ms = 0` and any `SET lock_timeout = 0`), or set a short one yourself";
    MYSQL_TABLE_COPY = "mysql-table-copy", Warning,
        "MySQL/MariaDB can make this change only with ALGORITHM=COPY: every row is copied into a new table while writes to it wait, for as long as the copy takes",
        "on a large table: add a new column, backfill it in batches (a `backfill` step), switch the application, drop the old one; or run an online schema change tool (gh-ost, pt-online-schema-change) for this step";
    GALERA_TOI_DDL = "galera-toi-ddl", Warning,
        "on a Galera cluster the statement runs under Total Order Isolation (`wsrep_OSU_method = TOI`, the default): every node runs it at the same point of the replication stream and applies no other write until it ends, so on a large table the whole cluster stalls for as long as the statement takes, whatever ALGORITHM it uses",
        "for a large table, make the change with pt-online-schema-change (it copies the table in small chunks, each replicated as an ordinary transaction), or as a Rolling Schema Upgrade: `SET SESSION wsrep_OSU_method = 'RSU'` and run the statement on each node in turn (each node leaves the cluster while it runs; only for changes the other nodes' writes still apply to, such as adding or dropping an index); on a small table TOI is fine: allow the rule";
    UNRENDERABLE = "unrenderable", Error,
        "the step cannot be rendered for this database, so `migrator up` would refuse the migration there",
        "change the model (for example add `max_length` to a key column) or give the raw SQL step a variant for that database";
}

/// Looks a rule up by name.
pub fn rule(name: &str) -> Option<Rule> {
    RULES.iter().copied().find(|r| r.name == name)
}

/// One finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub rule: Rule,
    /// The migration's file name (`0004_add_priority.toml`).
    pub file: String,
    /// 1-based upgrade step.
    pub step: usize,
    /// What the step does (`drop column tasks.done`, or the SQL).
    pub what: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.rule.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(
            f,
            "{sev}[{}]: {}: upgrade step {}: {}\n  why: {}\n  instead: {}\n  allow: `--allow {}` or `allow = [\"{}\"]` in the migration",
            self.rule.name,
            self.file,
            self.step,
            self.what,
            self.rule.why,
            self.rule.instead,
            self.rule.name,
            self.rule.name
        )
    }
}

/// Lints every migration of `set` for `dialects` (whose rendering is
/// checked), leaving out the rules in `allow` and in each migration's own
/// `allow` list.
pub fn lint_set(set: &MigrationSet, dialects: &[Dialect], allow: &[String]) -> Vec<Finding> {
    lint_all(&set.migrations, set.states(), dialects, allow)
}

/// [`lint_set`] over migrations and the schema before each (`states[i]`).
fn lint_all(
    migrations: &[Migration],
    states: impl IntoIterator<Item = impl std::borrow::Borrow<Schema>>,
    dialects: &[Dialect],
    allow: &[String],
) -> Vec<Finding> {
    let mut out = Vec::new();
    for (m, start) in migrations.iter().zip(states) {
        out.extend(
            lint_migration(m, start.borrow(), dialects)
                .into_iter()
                .filter(|f| {
                    !allow.iter().any(|a| a == f.rule.name)
                        && !m.file.allow.iter().any(|a| a == f.rule.name)
                }),
        );
    }
    out
}

/// The findings of one migration whose upgrade starts from `start`.
pub fn lint_migration(m: &Migration, start: &Schema, dialects: &[Dialect]) -> Vec<Finding> {
    let mut out = Vec::new();
    let existing = |t: &str| start.table(t).is_some();
    // Tables this migration creates (typed or raw): empty and unseen, so
    // what raw SQL does to them is not judged (an adopted baseline indexes
    // the tables it has just created).
    let mut created: BTreeSet<String> = BTreeSet::new();
    let mut schema = start.clone();
    // Columns an earlier backfill step of this migration fills: making one
    // NOT NULL afterwards fails on no row (the expand form does this).
    let mut backfilled: BTreeSet<(&str, &str)> = BTreeSet::new();
    for (i, op) in m.file.upgrade.iter().enumerate() {
        let mut add = |rule: Rule, what: String| {
            out.push(Finding {
                rule,
                file: m.file_name.clone(),
                step: i + 1,
                what,
            })
        };
        match op {
            // A kept drop still breaks the running application; its
            // description names the archive that keeps the data.
            Operation::DropTable { .. } | Operation::DropColumn { .. } => {
                add(DESTRUCTIVE_DROP, op.to_string())
            }
            Operation::Archived(a) if a.is_drop() => add(DESTRUCTIVE_DROP, op.to_string()),
            Operation::RenameTable { .. } => add(RENAME, op.to_string()),
            Operation::RenameColumn { .. } => {
                add(RENAME, op.to_string());
                add(BREAKS_RUNNING_VERSION, op.to_string());
            }
            Operation::AddColumn { table, column }
                if existing(table)
                    && !column.nullable
                    && column.default.is_none()
                    && !column.auto_increment =>
            {
                add(NOT_NULL_WITHOUT_DEFAULT, op.to_string())
            }
            Operation::AlterColumn { table, from, to } if existing(table) => {
                if from.ty != to.ty && !binary_compatible(&from.ty, &to.ty) {
                    add(BREAKS_RUNNING_VERSION, op.to_string());
                }
                if from.ty != to.ty {
                    if from.ty.is_narrowing_to(&to.ty) {
                        add(NARROWING_TYPE, op.to_string());
                    } else if !binary_compatible(&from.ty, &to.ty) {
                        add(TABLE_REWRITE, op.to_string());
                    }
                }
                if from.nullable
                    && !to.nullable
                    && to.default.is_none()
                    && !backfilled.contains(&(table.as_str(), to.name.as_str()))
                {
                    add(NOT_NULL_WITHOUT_DEFAULT, op.to_string());
                }
            }
            Operation::CreateTable { table } => {
                created.insert(table.name.clone());
            }
            Operation::Backfill(b) => {
                if b.is_placeholder() {
                    add(UNFILLED_BACKFILL, op.to_string());
                }
                for column in assigned(&b.set) {
                    backfilled.insert((b.table.as_str(), column));
                }
            }
            Operation::Sql(raw) => {
                if let Some(sql) = raw.for_dialect("postgres") {
                    for (rule, what) in lint_sql_after(sql, &mut created) {
                        add(rule, what);
                    }
                }
            }
            _ => {}
        }
        if op.table_name().is_some_and(existing) {
            let copies = dialects
                .iter()
                .find_map(|d| d.backend().table_copy_reason(op, &schema));
            if let Some(reason) = copies {
                add(MYSQL_TABLE_COPY, format!("{op}: {reason}"));
            }
        }
        if m.file.lock_timeout_ms == Some(0) && takes_locks(op) {
            add(
                MISSING_LOCK_TIMEOUT,
                format!("{op} runs with `lock_timeout_ms = 0`"),
            );
        }
        for &d in dialects {
            if let Err(e) = crate::dialect::render_op(d, op, &schema) {
                add(UNRENDERABLE, format!("{d}: {e}"));
            }
        }
        // A step that does not replay was refused when the set loaded.
        let _ = op.apply(&mut schema);
    }
    out
}

/// The columns a backfill's `set` assigns (`a = .., "b" = ..`), as
/// written without quotes. A comma inside an expression splits it too, and
/// the piece then has no `=` before anything but a name only by chance; a
/// column missed here only keeps a finding.
fn assigned(set: &str) -> impl Iterator<Item = &str> {
    set.split(',').filter_map(|part| {
        let (name, _) = part.split_once('=')?;
        let name = name.trim().trim_matches('"');
        (!name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_')).then_some(name)
    })
}

/// Changes PostgreSQL makes without rewriting the table.
fn binary_compatible(from: &ColumnType, to: &ColumnType) -> bool {
    match (from, to) {
        (ColumnType::Varchar(a), ColumnType::Varchar(b)) => b >= a,
        (ColumnType::Varchar(_), ColumnType::Text) => true,
        _ => false,
    }
}

fn takes_locks(op: &Operation) -> bool {
    !matches!(op, Operation::Rust { .. })
}

/// The rules a raw PostgreSQL text breaks, with the statement each concerns.
pub fn lint_sql(sql: &str) -> Vec<(Rule, String)> {
    lint_sql_after(sql, &mut BTreeSet::new())
}

/// [`lint_sql`] in a migration that has created the tables in `created`
/// (names as the database stores them) before this text; a `CREATE TABLE`
/// of the text adds to them. A statement on such a table breaks no rule
/// but the lock-timeout one: nobody reads or writes the table yet.
fn lint_sql_after(sql: &str, created: &mut BTreeSet<String>) -> Vec<(Rule, String)> {
    let mut out = Vec::new();
    for statement in statements(sql) {
        let target = target_table(&statement);
        if let Some((table, creates)) = &target {
            if *creates {
                created.insert(table.clone());
            }
        }
        let on_new_table = target.is_some_and(|(t, _)| created.contains(&t));
        let words: Vec<String> = statement
            .split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .filter(|w| !w.is_empty())
            .map(|w| w.to_ascii_uppercase())
            .collect();
        let has = |seq: &[&str]| words.windows(seq.len()).any(|w| w == seq);
        let shown = shorten(&statement);
        let create_index = words.first().is_some_and(|w| w == "CREATE")
            && (has(&["CREATE", "INDEX"]) || has(&["CREATE", "UNIQUE", "INDEX"]));
        if create_index && !has(&["CONCURRENTLY"]) && !on_new_table {
            out.push((CREATE_INDEX_WITHOUT_CONCURRENTLY, shown.clone()));
        }
        let alter_table = has(&["ALTER", "TABLE"]) && !on_new_table;
        if alter_table
            && has(&["ADD"])
            && (has(&["FOREIGN", "KEY"]) || has(&["REFERENCES"]) || has(&["CHECK"]))
            && !has(&["NOT", "VALID"])
        {
            out.push((ADD_CONSTRAINT_WITHOUT_NOT_VALID, shown.clone()));
        }
        if alter_table
            && has(&["ADD"])
            && (has(&["UNIQUE"]) || has(&["PRIMARY", "KEY"]))
            && !has(&["USING", "INDEX"])
        {
            out.push((ADD_UNIQUE_WITHOUT_INDEX, shown.clone()));
        }
        if alter_table && has(&["SET", "NOT", "NULL"]) {
            out.push((SET_NOT_NULL, shown.clone()));
        }
        if alter_table
            && has(&["ALTER"])
            && (has(&["SET", "DATA", "TYPE"])
                || words
                    .windows(4)
                    .any(|w| w[0] == "ALTER" && w[1] == "COLUMN" && w[3] == "TYPE")
                || words.windows(3).any(|w| {
                    w[0] == "ALTER" && w[1] != "TABLE" && w[1] != "COLUMN" && w[2] == "TYPE"
                }))
        {
            out.push((ALTER_COLUMN_TYPE, shown.clone()));
        }
        let upper = statement.to_ascii_uppercase();
        if (has(&["SET", "LOCK_TIMEOUT"]) || has(&["SET", "LOCAL", "LOCK_TIMEOUT"]))
            && (upper.contains("= 0") || upper.contains("TO 0") || upper.contains("'0'"))
        {
            out.push((MISSING_LOCK_TIMEOUT, shown.clone()));
        }
    }
    out
}

/// The table a statement creates (`CREATE TABLE`, then `true`), indexes
/// (`CREATE INDEX … ON`) or alters (`ALTER TABLE`), as PostgreSQL stores
/// its name: the last part of a qualified name, unquoted names folded to
/// lower case. `statement` has its comments and literals blanked.
fn target_table(statement: &str) -> Option<(String, bool)> {
    let tokens = ident_tokens(statement);
    let upper: Vec<String> = tokens.iter().map(|t| t.to_ascii_uppercase()).collect();
    let word = |i: usize| upper.get(i).map(String::as_str);
    let skip = |mut i: usize, optional: &[&[&str]]| {
        for seq in optional {
            if seq.iter().enumerate().all(|(k, w)| word(i + k) == Some(*w)) {
                i += seq.len();
            }
        }
        i
    };
    let (at, creates) = match (word(0), word(1)) {
        (Some("CREATE"), _) if upper.iter().take(4).any(|w| w == "TABLE") => {
            let t = upper.iter().position(|w| w == "TABLE")?;
            (skip(t + 1, &[&["IF", "NOT", "EXISTS"]]), true)
        }
        (Some("CREATE"), Some("INDEX" | "UNIQUE")) => {
            let on = upper.iter().position(|w| w == "ON")?;
            (skip(on + 1, &[&["ONLY"]]), false)
        }
        (Some("ALTER"), Some("TABLE")) => (skip(2, &[&["IF", "EXISTS"], &["ONLY"]]), false),
        _ => return None,
    };
    tokens.get(at).map(|name| (stored_name(name), creates))
}

/// Identifier-like tokens of `s`: runs of letters, digits, `_`, `$`, `.`
/// and double-quoted parts (which may hold anything).
fn ident_tokens(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '"' {
            cur.push(c);
            for q in chars.by_ref() {
                cur.push(q);
                if q == '"' {
                    break;
                }
            }
        } else if c.is_alphanumeric() || matches!(c, '_' | '$' | '.') {
            cur.push(c);
        } else if !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// `"App"."Users"` → `Users`, `public.users` / `USERS` → `users`.
fn stored_name(token: &str) -> String {
    let mut parts = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    let mut was_quoted = false;
    for c in token.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                was_quoted = true;
            }
            '.' if !quoted => {
                parts.push((std::mem::take(&mut cur), was_quoted));
                was_quoted = false;
            }
            c => cur.push(c),
        }
    }
    parts.push((cur, was_quoted));
    let (last, quoted) = parts.pop().unwrap_or_default();
    if quoted {
        last.replace("\"\"", "\"")
    } else {
        last.to_lowercase()
    }
}

/// Statements of `sql` with comments and string literals blanked out, so
/// words inside them do not count. The text is read as PostgreSQL reads it
/// ([`crate::sql_lex`]): a `;` inside a literal, a quoted name, a comment or
/// a `$$ .. $$` body does not end a statement. The body of a `DO` block
/// runs with the migration, so its statements are the block's; a function's
/// body runs when it is called, so it is a literal like the others.
fn statements(sql: &str) -> Vec<String> {
    let mode = Dialect::Postgres.backend().lex_modes()[0];
    let tokens = crate::sql_lex::lex_script(sql, mode);
    let mut out = Vec::new();
    for toks in crate::sql_lex::split_statements(&tokens) {
        let text = |t: &crate::sql_lex::Token| &sql[t.start..t.end];
        let first_word = toks.iter().find(|t| t.kind != Kind::Comment);
        if first_word.is_some_and(|t| t.kind == Kind::Word && text(t).eq_ignore_ascii_case("DO")) {
            if let Some(body) = toks
                .iter()
                .find(|t| t.kind == Kind::String && text(t).starts_with('$'))
            {
                let quoted = text(body);
                let tag_len = quoted[1..].find('$').map_or(1, |p| p + 2);
                out.extend(statements(&quoted[tag_len..quoted.len() - tag_len]));
                continue;
            }
        }
        let mut cur = String::new();
        let mut pos = toks[0].start;
        for t in toks {
            cur.push_str(&sql[pos..t.start]);
            pos = t.end;
            match t.kind {
                Kind::Comment => cur.push(' '),
                // A literal becomes '' ('0' stays, for the lock_timeout rule).
                Kind::String => {
                    let inner = text(t).trim_start_matches(['E', 'e']).trim_matches('\'');
                    cur.push_str(if inner.trim() == "0" { "'0'" } else { "''" });
                }
                _ => cur.push_str(text(t)),
            }
        }
        let cur = cur.trim();
        if !cur.is_empty() {
            out.push(cur.to_string());
        }
    }
    out
}

fn shorten(s: &str) -> String {
    let one_line = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() > 100 {
        format!("`{}…`", one_line.chars().take(100).collect::<String>())
    } else {
        format!("`{one_line}`")
    }
}

#[cfg(test)]
mod tests;
