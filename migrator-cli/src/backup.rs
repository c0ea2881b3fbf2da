//! `migrator up --backup PATH`: a copy of the database taken before the
//! first pending migration runs.
//!
//! Contract:
//! - the file is private and published atomically: the copy is written
//!   into a temporary file created exclusively (`O_CREAT|O_EXCL`, mode
//!   0600) in PATH's folder, synced, then hard-linked to PATH, which fails
//!   when anything is there, a dangling symbolic link included; so a backup
//!   never overwrites, two runs cannot both write the same file, and no
//!   one else can read it. The temporary file is removed on every path;
//! - SQLite: `VACUUM INTO` the temporary file on the runner's connection
//!   (an online, consistent copy; a hot copy of the file could catch a
//!   half-written page);
//! - PostgreSQL: `pg_dump --format=custom` (the `pg_dump` found on `PATH`)
//!   writing to its standard output, piped into the file; the connection is
//!   the URL without its password (`--dbname`, so libpq reads the same
//!   host, port, TLS and socket parameters as the migration did), the
//!   password in `PGPASSWORD`, never on the command line where `ps` shows
//!   it;
//! - MySQL/MariaDB: `mysqldump` (or `mariadb-dump`) with `--no-defaults`
//!   (no option file may change the target), the migration's transport
//!   (`unix_socket` -> `--socket`, a named host -> TCP, `localhost` -> the
//!   client library's default socket, as for the migration's connection),
//!   its TLS mode and files (`--ssl*` flags, spelt for the tool's flavour),
//!   the database by its decoded name, the password in `MYSQL_PWD`;
//! - any failure is an error before anything is migrated, with the tool's
//!   message redacted of the password;
//! - on success, the text returned says how to restore, without the
//!   password.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use migrator_core::database_url::{Backend, DatabaseUrl};
use migrator_core::runner::{AnyConnection, MigrationConnection};

/// Takes the backup; returns the restore instructions.
pub fn take(
    db: &mut AnyConnection,
    url: &DatabaseUrl,
    path: &Path,
    wait: std::time::Duration,
) -> Result<String, String> {
    // A clear message in the common case; `publish` is what guarantees it.
    if path.symlink_metadata().is_ok() {
        return Err(exists(path));
    }
    let target = path
        .to_str()
        .ok_or_else(|| format!("backup: {} is not a UTF-8 path", path.display()))?;
    let mut tmp = TempFile::create(path)?;
    let restore = match (db, url.backend()) {
        (AnyConnection::Sqlite(c), _) => sqlite(c, url, &tmp, target)?,
        (AnyConnection::Postgres(_), Backend::Postgres) => postgres(url, &mut tmp, target, wait)?,
        #[cfg(feature = "mysql")]
        (AnyConnection::Mysql(c), Backend::Mysql) => mysql(c, url, &mut tmp, target, wait)?,
        #[allow(unreachable_patterns)]
        _ => return Err("backup: this build of migrator does not support the database".into()),
    };
    tmp.publish(path)?;
    Ok(restore)
}

fn exists(path: &Path) -> String {
    format!(
        "backup: {} already exists; a backup never overwrites a file\nhelp: pass a new path, e.g. with the date in its name",
        path.display()
    )
}

/// An exclusively created, owner-only file next to the backup's final
/// name; removed when dropped (after `publish`, only the final name stays).
struct TempFile {
    path: PathBuf,
    file: Option<File>,
}

impl TempFile {
    fn create(target: &Path) -> Result<TempFile, String> {
        if target.file_name().is_none() {
            return Err(format!("backup: {} names no file", target.display()));
        }
        let (path, file) = crate::files::temp_next_to(target, true).map_err(|e| {
            format!(
                "backup: cannot create a file in {}: {e}; nothing was migrated",
                crate::files::dir_of(target).display()
            )
        })?;
        Ok(TempFile {
            path,
            file: Some(file),
        })
    }

    fn path_str(&self) -> Result<&str, String> {
        self.path
            .to_str()
            .ok_or_else(|| format!("backup: {} is not a UTF-8 path", self.path.display()))
    }

    /// The open file, for a tool's standard output.
    fn stdout(&mut self) -> Result<Stdio, String> {
        let file = self
            .file
            .as_ref()
            .ok_or("backup: the temporary file is closed")?;
        let clone = file
            .try_clone()
            .map_err(|e| format!("backup: {}: {e}", self.path.display()))?;
        Ok(Stdio::from(clone))
    }

    /// Syncs the copy and links it to `target`, which must not exist.
    fn publish(mut self, target: &Path) -> Result<(), String> {
        let sync = |f: &mut File| f.flush().and_then(|()| f.sync_all());
        if let Some(mut f) = self.file.take() {
            sync(&mut f).map_err(|e| format!("backup: {}: {e}", self.path.display()))?;
        }
        // Reopened: SQLite wrote through its own handle.
        File::open(&self.path)
            .and_then(|f| f.sync_all())
            .map_err(|e| format!("backup: {}: {e}", self.path.display()))?;
        std::fs::hard_link(&self.path, target).map_err(|e| {
            if e.kind() == std::io::ErrorKind::AlreadyExists {
                exists(target)
            } else {
                format!(
                    "backup: cannot write {}: {e}; nothing was migrated",
                    target.display()
                )
            }
        })
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        self.file = None;
        let _ = std::fs::remove_file(&self.path);
    }
}

fn sqlite(
    conn: &mut impl MigrationConnection,
    url: &DatabaseUrl,
    tmp: &TempFile,
    target: &str,
) -> Result<String, String> {
    // `VACUUM INTO` writes into an existing file when it is empty, so the
    // copy keeps the temporary file's mode.
    let quoted = format!("'{}'", tmp.path_str()?.replace('\'', "''"));
    MigrationConnection::execute(conn, &format!("VACUUM INTO {quoted}"))
        .map_err(|e| format!("backup: VACUUM INTO {target} failed: {e}\nnothing was migrated"))?;
    let live = url.sqlite_path().unwrap_or_default();
    Ok(format!(
        "backup written to {target}\nto restore it, stop the application, then either:\n  cp {target} {live}\n  sqlite3 {live} \".restore '{target}'\""
    ))
}

/// Runs `cmd` with its standard output in `tmp`; a failure names `tool`
/// and carries its message, redacted.
/// What a dump tool is checked with while it runs: `Ok(Some(why))` stops it.
type Watch<'a> = &'a mut dyn FnMut() -> Result<Option<String>, String>;

fn run_dump(
    mut cmd: Command,
    tool: &str,
    url: &DatabaseUrl,
    tmp: &mut TempFile,
    watch: Watch<'_>,
) -> Result<Option<()>, String> {
    cmd.stdout(tmp.stdout()?)
        .stderr(Stdio::piped())
        .stdin(Stdio::null());
    let mut child = match cmd.spawn() {
        Ok(child) => child,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(format!(
                "backup: cannot run `{tool}`: {e}; nothing was migrated"
            ))
        }
    };
    // The tool's stderr is read on a thread, so that a chatty tool never
    // blocks on a full pipe while it is watched.
    let mut stderr = child.stderr.take();
    let reader = std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(e) = stderr.as_mut() {
            let _ = std::io::Read::read_to_string(e, &mut text);
        }
        text
    });
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) => {}
            Err(e) => {
                return Err(format!(
                    "backup: waiting for `{tool}`: {e}; nothing was migrated"
                ))
            }
        }
        let verdict = watch();
        if let Ok(None) = verdict {
            std::thread::sleep(std::time::Duration::from_millis(200));
            continue;
        }
        let _ = child.kill();
        let _ = child.wait();
        let _ = reader.join();
        return Err(match verdict {
            Ok(Some(why)) => format!("backup: `{tool}` stopped: {why}\nnothing was migrated"),
            Err(e) => format!("backup: watching `{tool}`: {e}\nnothing was migrated"),
            Ok(None) => unreachable!("handled above"),
        });
    };
    let out = std::process::Output {
        status,
        stdout: Vec::new(),
        stderr: reader.join().unwrap_or_default().into_bytes(),
    };
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        // pg_dump bounds its table locks with a statement timeout
        // (`--lock-wait-timeout`).
        let help = if stderr.contains("LOCK TABLE") && stderr.contains("timeout") {
            "\nhelp: another session holds a lock on that table; end or wait for it, or raise `--lock-timeout`"
        } else {
            ""
        };
        return Err(format!(
            "backup: `{tool}` failed ({}): {}\nnothing was migrated{help}",
            out.status,
            url.redact(stderr.trim())
        ));
    }
    Ok(Some(()))
}

/// `pg_dump`'s arguments and environment for `url`. Its table locks wait
/// at most `wait` (`--lock-timeout`), like the runner's own statements.
fn pg_dump_command(url: &DatabaseUrl, wait: std::time::Duration) -> Command {
    let mut cmd = Command::new("pg_dump");
    cmd.arg("--format=custom")
        .arg("--no-password")
        .arg(format!("--lock-wait-timeout={}ms", wait.as_millis().max(1)))
        .arg(format!("--dbname={}", url.without_password()));
    if let Some(p) = url.password() {
        cmd.env("PGPASSWORD", p);
    }
    cmd
}

fn postgres(
    url: &DatabaseUrl,
    tmp: &mut TempFile,
    target: &str,
    wait: std::time::Duration,
) -> Result<String, String> {
    // pg_dump bounds its own lock waits (`--lock-wait-timeout`).
    if run_dump(pg_dump_command(url, wait), "pg_dump", url, tmp, &mut || {
        Ok(None)
    })?
    .is_none()
    {
        return Err("backup: `pg_dump` was not found on PATH; nothing was migrated\nhelp: install the PostgreSQL client tools (the same major version as the server or newer), or run without --backup".to_string());
    }
    let shown = url.without_password();
    Ok(format!(
        "backup written to {target} (pg_dump custom format)\nto restore it into a new database:\n  createdb NEW_DB && pg_restore --no-owner --dbname NEW_DB {target}\nor over this database (drops what the dump contains first; the password from PGPASSWORD or ~/.pgpass):\n  pg_restore --clean --if-exists --no-owner --dbname '{shown}' {target}\n(list its contents with `pg_restore --list {target}`)"
    ))
}

#[cfg_attr(not(feature = "mysql"), allow(dead_code))]
/// The dump tool's connection arguments: `--no-defaults` first, then the
/// migration's transport and TLS settings. `mariadb` says which flavour's
/// TLS flags to use (asked of the tool only when the URL sets a TLS mode).
fn mysql_args(url: &DatabaseUrl, mariadb: bool) -> Result<Vec<String>, String> {
    let mut args = vec!["--no-defaults".to_string()];
    match (url.unix_socket(), url.host()) {
        (Some(socket), _) => {
            args.push("--protocol=SOCKET".into());
            args.push(format!("--socket={socket}"));
        }
        // The client library connects to `localhost` (or no host) through
        // its default socket: the dump tool does the same without
        // `--protocol`.
        (None, None | Some("localhost")) => args.push("--host=localhost".into()),
        (None, Some(h)) => {
            args.push("--protocol=TCP".into());
            args.push(format!("--host={h}"));
        }
    }
    if url.unix_socket().is_none() {
        if let Some(p) = url.port() {
            args.push(format!("--port={p}"));
        }
    }
    if let Some(u) = url.user() {
        args.push(format!("--user={u}"));
    }
    if let Some(mode) = url.ssl_mode() {
        let flags: &[&str] = match (mode.as_str(), mariadb) {
            ("disabled", true) => &["--skip-ssl"],
            ("preferred", true) => &[],
            ("required", true) => &["--ssl"],
            ("verify_ca" | "verify_identity", true) => &["--ssl", "--ssl-verify-server-cert"],
            ("disabled", false) => &["--ssl-mode=DISABLED"],
            ("preferred", false) => &["--ssl-mode=PREFERRED"],
            ("required", false) => &["--ssl-mode=REQUIRED"],
            ("verify_ca", false) => &["--ssl-mode=VERIFY_CA"],
            ("verify_identity", false) => &["--ssl-mode=VERIFY_IDENTITY"],
            _ => {
                return Err(
                    "backup: unknown `ssl_mode`\nhelp: use disabled, preferred, required, verify_ca or verify_identity"
                        .into(),
                )
            }
        };
        args.extend(flags.iter().map(|f| f.to_string()));
    }
    for (param, flag) in [
        ("ssl_ca", "--ssl-ca"),
        ("ssl_cert", "--ssl-cert"),
        ("ssl_key", "--ssl-key"),
    ] {
        if let Some(v) = url.param(param) {
            args.push(format!("{flag}={v}"));
        }
    }
    Ok(args)
}

#[cfg_attr(not(feature = "mysql"), allow(dead_code))]
/// Whether `tool` is MariaDB's (its TLS flags differ from MySQL's).
fn is_mariadb_tool(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .stdin(Stdio::null())
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("MariaDB"))
        .unwrap_or(tool.starts_with("mariadb"))
}

/// `mysqldump` (or MariaDB's `mariadb-dump`) of a `mysql://` database.
#[cfg(feature = "mysql")]
fn mysql(
    conn: &mut impl MigrationConnection,
    url: &DatabaseUrl,
    tmp: &mut TempFile,
    target: &str,
    wait: std::time::Duration,
) -> Result<String, String> {
    let database = url
        .database()
        .filter(|d| !d.is_empty())
        .ok_or_else(|| format!("backup: the database URL {url} names no database"))?;
    let mut missing = Vec::new();
    for tool in ["mysqldump", "mariadb-dump"] {
        let mariadb = url.ssl_mode().is_some() && is_mariadb_tool(tool);
        let mut cmd = Command::new(tool);
        cmd.args(mysql_args(url, mariadb)?)
            // A consistent InnoDB snapshot without locking the tables, with
            // the routines, triggers and events the schema may hold.
            .arg("--single-transaction")
            .arg("--routines")
            .arg("--triggers")
            .arg("--events");
        cmd.env_remove("MYSQL_PWD");
        if let Some(p) = url.password() {
            cmd.env("MYSQL_PWD", p);
        }
        cmd.arg("--databases").arg(database);
        // mysqldump has no lock-wait bound of its own (and the server's
        // `lock_wait_timeout` defaults to a day): the dump's session, one
        // opened after this point by the same user, is watched from the
        // migration's connection and stopped once it has waited for a lock
        // longer than `--lock-timeout`.
        let first = conn
            .query_texts("SELECT CAST(COALESCE(MAX(ID), 0) AS CHAR) AS s FROM information_schema.processlist")
            .map_err(|e| format!("backup: reading the session list: {e}; nothing was migrated"))?
            .pop()
            .unwrap_or_else(|| "0".into());
        let secs = wait.as_secs_f64().ceil().max(1.0) as u64;
        let query = format!(
            "SELECT CAST(CONCAT(ID, ' (', STATE, ')') AS CHAR) AS s FROM information_schema.processlist \
             WHERE ID > {first} AND ID <> CONNECTION_ID() AND USER = SUBSTRING_INDEX(USER(), '@', 1) \
             AND STATE LIKE 'Waiting for%lock%' AND TIME >= {secs}"
        );
        let mut watch = || -> Result<Option<String>, String> {
            let waiting = conn.query_texts(&query).map_err(|e| e.to_string())?;
            Ok(waiting.first().map(|w| {
                format!(
                    "its session {w} waited longer than --lock-timeout ({} s) for a lock that another session holds on the database\nhelp: end or wait for the session holding the lock (a `LOCK TABLES`, a long ALTER), or raise `--lock-timeout`",
                    wait.as_secs_f64()
                )
            }))
        };
        if run_dump(cmd, tool, url, tmp, &mut watch)?.is_some() {
            return Ok(format!(
                "backup written to {target} ({tool}, SQL)\nto restore it (the dump recreates the database `{database}`):\n  mysql --host=HOST --user=USER -p < {target}"
            ));
        }
        missing.push(format!("`{tool}` was not found on PATH"));
    }
    Err(format!(
        "backup: {}; nothing was migrated\nhelp: install the MySQL or MariaDB client tools (Debian: mariadb-client), or run without --backup",
        missing.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> DatabaseUrl {
        DatabaseUrl::parse(s).expect("parses")
    }

    #[test]
    fn mysql_dump_arguments_follow_the_migrations_transport() {
        let u = url("mysql://root:s%3Acret@127.0.0.1:3306/app");
        assert_eq!(
            mysql_args(&u, true).expect("args"),
            [
                "--no-defaults",
                "--protocol=TCP",
                "--host=127.0.0.1",
                "--port=3306",
                "--user=root"
            ]
        );
        let u = url(
            "mysql://u:pw@localhost:1/a%20b?unix_socket=/run/mysqld/mysqld.sock&ssl_mode=DISABLED",
        );
        assert_eq!(u.database(), Some("a b"));
        assert_eq!(
            mysql_args(&u, true).expect("args"),
            [
                "--no-defaults",
                "--protocol=SOCKET",
                "--socket=/run/mysqld/mysqld.sock",
                "--user=u",
                "--skip-ssl"
            ]
        );
        let u = url("mariadb://u@db.example/app?sslmode=verify_identity&ssl_ca=/etc/ca.pem");
        assert_eq!(
            mysql_args(&u, false).expect("args"),
            [
                "--no-defaults",
                "--protocol=TCP",
                "--host=db.example",
                "--user=u",
                "--ssl-mode=VERIFY_IDENTITY",
                "--ssl-ca=/etc/ca.pem"
            ]
        );
        assert_eq!(
            mysql_args(&u, true).expect("args")[4..],
            ["--ssl", "--ssl-verify-server-cert", "--ssl-ca=/etc/ca.pem"]
        );
        let u = url("mysql://u@localhost/app");
        assert_eq!(
            mysql_args(&u, true).expect("args"),
            ["--no-defaults", "--host=localhost", "--user=u"]
        );
        let e = mysql_args(&url("mysql://u@h/app?ssl_mode=sometimes"), true).expect_err("refused");
        assert!(e.contains("unknown `ssl_mode`"), "{e}");
    }

    #[test]
    fn pg_dump_gets_the_url_without_its_password() {
        let u = url("postgres://app:p%40ss@db.example:6432/shop?sslmode=require&password=other1");
        let cmd = pg_dump_command(&u, std::time::Duration::from_secs(60));
        let args: Vec<String> = cmd
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            args,
            [
                "--format=custom",
                "--no-password",
                "--lock-wait-timeout=60000ms",
                "--dbname=postgres://app@db.example:6432/shop?sslmode=require"
            ]
        );
        let env: Vec<(String, String)> = cmd
            .get_envs()
            .map(|(k, v)| {
                (
                    k.to_string_lossy().into_owned(),
                    v.map(|v| v.to_string_lossy().into_owned())
                        .unwrap_or_default(),
                )
            })
            .collect();
        assert_eq!(env, [("PGPASSWORD".to_string(), "other1".to_string())]);
    }

    #[test]
    fn the_temporary_file_is_private_and_publishing_never_overwrites() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("migrator-backup-unit-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("dir");
        let target = dir.join("b.dump");
        let tmp = TempFile::create(&target).expect("temp");
        let mode = tmp.path.metadata().expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let tmp_path = tmp.path.clone();
        // A dangling symbolic link at the target is "something there".
        std::os::unix::fs::symlink(dir.join("nowhere"), &target).expect("symlink");
        let e = tmp.publish(&target).expect_err("refused");
        assert!(e.contains("already exists"), "{e}");
        assert!(!tmp_path.exists(), "the temporary file is removed");
        assert!(
            !dir.join("nowhere").exists(),
            "nothing written through the link"
        );
        std::fs::remove_file(&target).expect("unlink");
        let tmp = TempFile::create(&target).expect("temp");
        tmp.publish(&target).expect("published");
        assert_eq!(
            target.metadata().expect("meta").permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(std::fs::read_dir(&dir).expect("list").count(), 1);
        std::fs::remove_dir_all(&dir).expect("clean");
    }
}
