//! `migrator sql`: the migrations as a script that the database's own
//! client runs as is.
//!
//! The runner evaluates each statement's guard (`skip_if`), its clean-up,
//! its refusal check and its row-generated statements itself. Here they
//! become SQL wherever the client can express them:
//!
//! - PostgreSQL (`psql`): a guarded statement is `SELECT $q$stmt$q$ WHERE
//!   NOT EXISTS (guard) \gexec` (psql runs each returned cell as a
//!   statement), a clean-up the same with `EXISTS`, a statement-generating
//!   query is followed by `\gexec`, and a refusal is a `DO` block that
//!   raises with what would be lost. Consecutive transactional statements of
//!   one migration run between `BEGIN` and `COMMIT`, as the runner runs them.
//! - MySQL/MariaDB (`mysql`): a guarded statement is a prepared statement
//!   chosen by `IF(EXISTS(guard), 'DO 0', stmt)`, the statement passed as a
//!   hex literal so that no `sql_mode` changes its text; a query whose row
//!   is the statement to run (the `MODIFY COLUMN` that restates the live
//!   column's collation, `ON UPDATE` and comment) becomes that prepared
//!   statement (a second row stops the script with error 1242); a refusal
//!   prepares a `SELECT` of a column named `refused: <what would be lost>`,
//!   an error that stops the client (MySQL raises only in stored programs).
//! - SQLite (`sqlite3`) has no conditional or dynamic SQL: a migration with
//!   guards, refusals or saved triggers (a table rebuild) is not standalone.
//!
//! What cannot be expressed (a batched backfill, a Rust step, those SQLite
//! statements) is printed as comments, and the script's first line and a
//! note on stderr say it is not standalone and why. The script never writes
//! the history table: it is for review and for applying by hand where the
//! runner cannot go; `migrator up` records what it applies.

use migrator_core::dialect::{Dialect, Statement};

/// Runs the statement in `@migrator_sql` (MySQL/MariaDB).
const PREPARED: &str = "PREPARE migrator_stmt FROM @migrator_sql;\nEXECUTE migrator_stmt;\nDEALLOCATE PREPARE migrator_stmt;";

/// One statement of a migration, as the client runs it, or `None` with the
/// reason when the client cannot.
fn runnable(dialect: Dialect, s: &Statement) -> Result<String, &'static str> {
    let body = s.sql.trim_end().trim_end_matches(';').to_string();
    if s.backfill.is_some() {
        return Err("a batched backfill (the runner drives its batches)");
    }
    // A notice: printed by the client when its query returns a row.
    if let Some(n) = &s.notice {
        let note = format!("note: {n}").replace('\'', "''");
        return Ok(match dialect {
            Dialect::Postgres => format!(
                "DO $migrator$ BEGIN IF EXISTS ({body}) THEN RAISE NOTICE '%', '{}'; END IF; END $migrator$;",
                note.replace('%', "%%")
            ),
            _ => format!("SELECT '{note}' AS note FROM (SELECT 1 AS one) AS migrator_note WHERE EXISTS ({body});"),
        });
    }
    match dialect {
        Dialect::Postgres => {
            let mut out = String::new();
            if let Some(c) = &s.cleanup {
                let sql = c.sql.trim_end().trim_end_matches(';');
                out.push_str(&format!(
                    "SELECT {} WHERE EXISTS ({}) \\gexec\n",
                    dollar_quote(sql),
                    c.when
                ));
            }
            if s.refuses {
                out.push_str(&refusal_block(&body));
            } else if s.each_row {
                out.push_str(&format!("{body} \\gexec"));
            } else if let Some(q) = &s.skip_if {
                out.push_str(&format!(
                    "SELECT {} WHERE NOT EXISTS ({q}) \\gexec",
                    dollar_quote(&body)
                ));
            } else {
                out.push_str(&format!("{body};"));
            }
            Ok(out)
        }
        Dialect::Mysql => {
            if s.cleanup.is_some() {
                return Err("a clean-up MySQL's client cannot run");
            }
            if s.refuses {
                // MySQL has no RAISE outside stored programs: a refusal
                // prepares a SELECT of a column named after what would be
                // lost, which fails (error 1054 "Unknown column 'refused:
                // index ..'", or 1059 when too long) and stops the client.
                return Ok(format!(
                    "SET @migrator_lost = (SELECT GROUP_CONCAT(s SEPARATOR '; ') FROM ({body}) AS migrator_check);\n\
                     SET @migrator_sql = IF(@migrator_lost IS NULL, 'DO 0', CONCAT('SELECT `refused: ', REPLACE(@migrator_lost, '`', ''), '`'));\n{PREPARED}"
                ));
            }
            if s.each_row {
                if s.skip_if.is_some() {
                    return Err("a guarded generated statement MySQL's client cannot run");
                }
                // The query's one row is the statement; a second row stops
                // the script (error 1242), none runs nothing.
                return Ok(format!(
                    "SET @migrator_sql = COALESCE((SELECT s FROM ({body}) AS migrator_rows), 'DO 0');\n{PREPARED}"
                ));
            }
            match &s.skip_if {
                Some(q) => {
                    // `PREPARE` takes one statement: a step of several (a
                    // foreign key added with the checks off around it)
                    // sends each, under the guard evaluated once before.
                    let parts = migrator_core::sql_fragment::split_statements(&body, dialect);
                    if parts.len() > 1 {
                        let mut out = format!("SET @migrator_skip = EXISTS({q});");
                        for part in parts {
                            out.push_str(&format!(
                                "\nSET @migrator_sql = IF(@migrator_skip, 'DO 0', CONVERT(X'{}' USING utf8mb4));\n{PREPARED}",
                                hex(&part)
                            ));
                        }
                        return Ok(out);
                    }
                    Ok(format!(
                        "SET @migrator_sql = IF(EXISTS({q}), 'DO 0', CONVERT(X'{}' USING utf8mb4));\n{PREPARED}",
                        hex(&body)
                    ))
                }
                None => Ok(format!("{body};")),
            }
        }
        Dialect::Sqlite => {
            if s.refuses || s.each_row {
                return Err(
                    "a table rebuild's checks and saved triggers (SQLite has no dynamic SQL)",
                );
            }
            if s.skip_if.is_some() || s.cleanup.is_some() {
                return Err(
                    "statements guarded by a catalog query (SQLite has no conditional DDL)",
                );
            }
            Ok(format!("{body};"))
        }
    }
}

/// A PL/pgSQL block that raises, listing what the check's rows name.
fn refusal_block(check: &str) -> String {
    let tag = tag_for(check, "migrator");
    format!(
        "DO ${tag}$\nDECLARE lost text;\nBEGIN\n  SELECT string_agg(s, '; ') INTO lost FROM ({check}) AS migrator_check;\n  IF lost IS NOT NULL THEN\n    RAISE EXCEPTION 'refused: the next statements would lose %', lost;\n  END IF;\nEND\n${tag}$;"
    )
}

/// `text` as a PostgreSQL dollar-quoted literal whose tag it does not hold.
fn dollar_quote(text: &str) -> String {
    let tag = tag_for(text, "q");
    format!("${tag}${text}${tag}$")
}

fn tag_for(text: &str, base: &str) -> String {
    let mut tag = base.to_string();
    let mut n = 0;
    while text.contains(&format!("${tag}$")) {
        n += 1;
        tag = format!("{base}{n}");
    }
    tag
}

fn hex(text: &str) -> String {
    text.bytes().map(|b| format!("{b:02X}")).collect()
}

/// A script being written: the text, and why it is not standalone.
#[derive(Debug, Default)]
pub struct Script {
    pub text: String,
    pub not_standalone: Vec<String>,
    open_transaction: bool,
    /// A migration could not be written: the rest is comments.
    blocked: bool,
}

impl Script {
    /// Appends one migration's statements (`id` names it in the reasons).
    /// Rust steps are passed as `None`. A migration with a part its client
    /// cannot run is printed whole as comments, and so is every migration
    /// after it: the script never applies half a migration, nor a later
    /// one over a missing one.
    pub fn migration(&mut self, dialect: Dialect, id: &str, steps: &[Option<&[Statement]>]) {
        let mut parts: Vec<(&Statement, Result<String, &'static str>)> = Vec::new();
        let mut reasons: Vec<String> = Vec::new();
        for step in steps {
            match step {
                None => reasons.push(format!("{id}: a Rust step")),
                Some(statements) => {
                    for s in *statements {
                        let r = runnable(dialect, s);
                        if let Err(why) = r {
                            let reason = format!("{id}: {why}");
                            if !reasons.contains(&reason) {
                                reasons.push(reason);
                            }
                        }
                        parts.push((s, r));
                    }
                }
            }
        }
        if !reasons.is_empty() || self.blocked {
            if reasons.is_empty() {
                self.text.push_str(&format!(
                    "-- NOT RUN HERE: {id} comes after a migration this script cannot run\n"
                ));
            } else {
                for r in &reasons {
                    self.text.push_str(&format!("-- NOT RUN HERE: {r}\n"));
                }
            }
            for (s, _) in &parts {
                for line in s.to_string().lines() {
                    if !line.starts_with("--") {
                        self.text.push_str("-- ");
                    }
                    self.text.push_str(line);
                    self.text.push('\n');
                }
            }
            self.blocked = true;
            self.not_standalone.extend(reasons);
            return;
        }
        for (s, sql) in parts {
            let Ok(sql) = sql else { continue };
            let transactional = s.transactional && dialect != Dialect::Mysql;
            if transactional && !self.open_transaction {
                self.text.push_str("BEGIN;\n");
                self.open_transaction = true;
            } else if !transactional {
                self.close();
            }
            // The runner's comments first (what the guard is).
            for line in s.to_string().lines().filter(|l| l.starts_with("--")) {
                self.text.push_str(line);
                self.text.push('\n');
            }
            self.text.push_str(&sql);
            self.text.push('\n');
        }
        self.close();
    }

    fn close(&mut self) {
        if self.open_transaction {
            self.text.push_str("COMMIT;\n");
            self.open_transaction = false;
        }
    }

    /// The first line of the script: how to run it, or why it cannot run
    /// alone.
    pub fn header(&self, dialect: Dialect) -> String {
        if self.not_standalone.is_empty() {
            let client = match dialect {
                Dialect::Postgres => "psql -v ON_ERROR_STOP=1 -f FILE",
                Dialect::Mysql => "mysql DATABASE < FILE",
                _ => "sqlite3 -bail DATABASE < FILE",
            };
            format!("-- standalone {dialect} script: runs as is with `{client}`; it records no history (`migrator up` does)")
        } else {
            format!(
                "-- NOT STANDALONE for {dialect}: {} part(s) need the runner (`migrator up`), marked `NOT RUN HERE` below",
                self.not_standalone.len()
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_never_meets_its_own_tag() {
        assert_eq!(dollar_quote("a"), "$q$a$q$");
        assert_eq!(dollar_quote("x $q$ y"), "$q1$x $q$ y$q1$");
        assert_eq!(hex("A'\\"), "41275C");
    }

    #[test]
    fn guards_become_sql_where_the_client_can() {
        let mut s = Statement::new("ALTER TABLE t ADD c INT");
        s.skip_if = Some("SELECT 1 FROM x".into());
        let pg = runnable(Dialect::Postgres, &s).expect("psql can");
        assert_eq!(
            pg,
            "SELECT $q$ALTER TABLE t ADD c INT$q$ WHERE NOT EXISTS (SELECT 1 FROM x) \\gexec"
        );
        let my = runnable(Dialect::Mysql, &s).expect("mysql can");
        assert!(
            my.starts_with("SET @migrator_sql = IF(EXISTS(SELECT 1 FROM x), 'DO 0'"),
            "{my}"
        );
        assert!(runnable(Dialect::Sqlite, &s).is_err());
        let mut r = Statement::new("SELECT 'x' AS s");
        r.refuses = true;
        assert!(runnable(Dialect::Postgres, &r)
            .expect("a DO block")
            .starts_with("DO $migrator$"));
        assert!(runnable(Dialect::Mysql, &r)
            .expect("a failing prepared statement")
            .contains("CONCAT('SELECT `refused: '"));
        assert!(runnable(Dialect::Sqlite, &r).is_err());
    }

    #[test]
    fn transactions_wrap_consecutive_transactional_statements() {
        let a = Statement::new("CREATE TABLE a (x INT)");
        let mut b = Statement::new("CREATE INDEX CONCURRENTLY i ON a (x)");
        b.transactional = false;
        let c = Statement::new("CREATE TABLE c (x INT)");
        let mut script = Script::default();
        let step1 = [a];
        let step2 = [b, c];
        script.migration(
            Dialect::Postgres,
            "0001_a",
            &[Some(&step1[..]), Some(&step2[..])],
        );
        let body: Vec<&str> = script
            .text
            .lines()
            .filter(|l| !l.starts_with("--"))
            .collect();
        assert_eq!(
            body,
            [
                "BEGIN;",
                "CREATE TABLE a (x INT);",
                "COMMIT;",
                "CREATE INDEX CONCURRENTLY i ON a (x);",
                "BEGIN;",
                "CREATE TABLE c (x INT);",
                "COMMIT;"
            ]
        );
        assert!(script
            .header(Dialect::Postgres)
            .starts_with("-- standalone postgres script"));
        // A migration the client cannot run is comments, whole, and so is
        // every migration after it.
        let mut script = Script::default();
        let mut guarded = Statement::new("ALTER TABLE a ADD y INT");
        guarded.skip_if = Some("SELECT 1".into());
        let first = [Statement::new("CREATE TABLE a (x INT)"), guarded];
        let later = [Statement::new("CREATE TABLE b (x INT)")];
        script.migration(Dialect::Sqlite, "0001_a", &[Some(&first[..])]);
        script.migration(Dialect::Sqlite, "0002_b", &[None]);
        script.migration(Dialect::Sqlite, "0003_c", &[Some(&later[..])]);
        assert!(
            script.text.lines().all(|l| l.starts_with("--")),
            "nothing runs:\n{}",
            script.text
        );
        assert!(
            script.text.contains("-- CREATE TABLE b (x INT);"),
            "{}",
            script.text
        );
        assert_eq!(
            script.not_standalone,
            [
                "0001_a: statements guarded by a catalog query (SQLite has no conditional DDL)",
                "0002_b: a Rust step"
            ]
        );
        assert!(script
            .header(Dialect::Sqlite)
            .starts_with("-- NOT STANDALONE"));
    }
}
