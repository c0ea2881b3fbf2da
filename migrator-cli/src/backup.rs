//! `migrator up --backup PATH`: a copy of the database taken before the
//! first pending migration runs.
//!
//! Contract:
//! - SQLite: `VACUUM INTO 'PATH'` on the runner's connection (an online,
//!   consistent copy; a hot copy of the file could catch a half-written
//!   page);
//! - PostgreSQL: `pg_dump --format=custom --file PATH`, the `pg_dump` found
//!   on `PATH`. The connection is passed through libpq's environment
//!   variables (`PGHOST`, `PGPORT`, `PGUSER`, `PGPASSWORD`, `PGDATABASE`,
//!   `PGSSLMODE`, ...), never on the command line, so the password does not
//!   show in `ps`;
//! - an existing file at PATH is refused (a backup never overwrites);
//! - any failure is an error before anything is migrated;
//! - on success, the text returned says how to restore.

use std::path::Path;
use std::process::Command;

use migrator_core::runner::{redact_url, scrub, AnyConnection, MigrationConnection};

/// Takes the backup; returns the restore instructions.
pub fn take(db: &mut AnyConnection, url: &str, path: &Path) -> Result<String, String> {
    if path.exists() {
        return Err(format!(
            "backup: {} already exists; a backup never overwrites a file\nhelp: pass a new path, e.g. with the date in its name",
            path.display()
        ));
    }
    match db {
        AnyConnection::Sqlite(c) => sqlite(c, url, path),
        AnyConnection::Postgres(_) => postgres(url, path),
        #[cfg(feature = "mysql")]
        AnyConnection::Mysql(_) => mysql(url, path),
        #[allow(unreachable_patterns)]
        _ => Err("backup: this build of migrator does not support the database".into()),
    }
}

fn sqlite(conn: &mut impl MigrationConnection, url: &str, path: &Path) -> Result<String, String> {
    let target = path
        .to_str()
        .ok_or_else(|| format!("backup: {} is not a UTF-8 path", path.display()))?;
    let quoted = format!("'{}'", target.replace('\'', "''"));
    MigrationConnection::execute(conn, &format!("VACUUM INTO {quoted}"))
        .map_err(|e| format!("backup: VACUUM INTO {quoted} failed: {e}\nnothing was migrated"))?;
    let live = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    Ok(format!(
        "backup written to {target}\nto restore it, stop the application, then either:\n  cp {target} {live}\n  sqlite3 {live} \".restore '{target}'\""
    ))
}

/// The pieces of a `scheme://user:password@host:port/db?k=v` URL, decoded.
#[derive(Debug, Default, PartialEq)]
struct UrlParts {
    user: Option<String>,
    password: Option<String>,
    host: Option<String>,
    port: Option<String>,
    database: Option<String>,
    query: Vec<(String, String)>,
}

fn url_parts(url: &str, schemes: &[&str]) -> Result<UrlParts, String> {
    let bad = || format!("backup: cannot read the database URL {}", redact_url(url));
    let rest = schemes
        .iter()
        .find_map(|s| url.strip_prefix(s))
        .ok_or_else(bad)?;
    let (main, query) = rest.split_once('?').unwrap_or((rest, ""));
    let (authority, db) = main.split_once('/').unwrap_or((main, ""));
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((u, h)) => (Some(u), h),
        None => (None, authority),
    };
    let mut parts = UrlParts::default();
    if let Some(u) = userinfo {
        let (user, password) = match u.split_once(':') {
            Some((u, p)) => (u, Some(p)),
            None => (u, None),
        };
        parts.user = Some(decode(user)).filter(|u| !u.is_empty());
        parts.password = password.map(decode);
    }
    // `[::1]:5432`, `host:5432` or `host`.
    let (host, port) = if let Some(h) = hostport.strip_prefix('[') {
        let (h, p) = h.split_once(']').ok_or_else(bad)?;
        (h.to_string(), p.strip_prefix(':').map(str::to_string))
    } else {
        match hostport.rsplit_once(':') {
            Some((h, p)) => (h.to_string(), Some(p.to_string())),
            None => (hostport.to_string(), None),
        }
    };
    parts.host = Some(decode(&host)).filter(|h| !h.is_empty());
    parts.port = port.filter(|p| !p.is_empty());
    parts.database = Some(decode(db)).filter(|d| !d.is_empty());
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        parts.query.push((k.to_string(), decode(v)));
    }
    Ok(parts)
}

/// libpq environment variables for a `postgres://` URL.
fn pg_env(url: &str) -> Result<Vec<(&'static str, String)>, String> {
    let parts = url_parts(url, &["postgres://", "postgresql://"])?;
    let mut env = Vec::new();
    for (var, value) in [
        ("PGUSER", parts.user),
        ("PGPASSWORD", parts.password),
        ("PGHOST", parts.host),
        ("PGPORT", parts.port),
        ("PGDATABASE", parts.database),
    ] {
        if let Some(v) = value {
            env.push((var, v));
        }
    }
    for (k, v) in parts.query {
        let var = match k.as_str() {
            "sslmode" => "PGSSLMODE",
            "sslrootcert" => "PGSSLROOTCERT",
            "sslcert" => "PGSSLCERT",
            "sslkey" => "PGSSLKEY",
            "host" => "PGHOST",
            "port" => "PGPORT",
            "user" => "PGUSER",
            "password" => "PGPASSWORD",
            "dbname" => "PGDATABASE",
            "connect_timeout" => "PGCONNECT_TIMEOUT",
            "application_name" => "PGAPPNAME",
            "options" => "PGOPTIONS",
            _ => continue,
        };
        env.retain(|(name, _)| *name != var);
        env.push((var, v));
    }
    Ok(env)
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() && s.is_char_boundary(i + 3) {
            if let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn postgres(url: &str, path: &Path) -> Result<String, String> {
    let env = pg_env(url)?;
    let mut cmd = Command::new("pg_dump");
    cmd.arg("--format=custom")
        .arg("--no-password")
        .arg("--file")
        .arg(path);
    // Variables the user's shell set must not redirect the dump elsewhere.
    for var in [
        "PGHOST",
        "PGHOSTADDR",
        "PGPORT",
        "PGUSER",
        "PGPASSWORD",
        "PGDATABASE",
        "PGSERVICE",
    ] {
        cmd.env_remove(var);
    }
    cmd.envs(env);
    let out = cmd.output().map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            "backup: `pg_dump` was not found on PATH; nothing was migrated\nhelp: install the PostgreSQL client tools (the same major version as the server or newer), or run without --backup".to_string()
        } else {
            format!("backup: cannot run `pg_dump`: {e}; nothing was migrated")
        }
    })?;
    if !out.status.success() {
        let _ = std::fs::remove_file(path);
        return Err(format!(
            "backup: `pg_dump` failed ({}): {}\nnothing was migrated",
            out.status,
            scrub(url, String::from_utf8_lossy(&out.stderr).trim())
        ));
    }
    let shown = redact_url(url);
    Ok(format!(
        "backup written to {} (pg_dump custom format)\nto restore it into a new database:\n  createdb NEW_DB && pg_restore --no-owner --dbname NEW_DB {}\nor over this database (drops what the dump contains first):\n  pg_restore --clean --if-exists --no-owner --dbname '{shown}' {}\n(list its contents with `pg_restore --list {}`)",
        path.display(),
        path.display(),
        path.display(),
        path.display()
    ))
}

/// `mysqldump` (or MariaDB's `mariadb-dump`) of a `mysql://` database, the
/// password passed in the environment (`MYSQL_PWD`), never on the command
/// line where `ps` would show it.
#[cfg(feature = "mysql")]
fn mysql(url: &str, path: &Path) -> Result<String, String> {
    let parts = url_parts(url, &["mysql://", "mariadb://"])?;
    let database = parts.database.clone().ok_or_else(|| {
        format!(
            "backup: the database URL {} names no database",
            redact_url(url)
        )
    })?;
    let mut last_err = None;
    for tool in ["mysqldump", "mariadb-dump"] {
        let mut cmd = Command::new(tool);
        // A consistent InnoDB snapshot without locking the tables, with the
        // routines, triggers and events the schema may hold.
        cmd.arg("--single-transaction")
            .arg("--routines")
            .arg("--triggers")
            .arg("--events")
            .arg("--protocol=TCP")
            .arg(format!("--result-file={}", path.display()));
        if let Some(h) = &parts.host {
            cmd.arg(format!("--host={h}"));
        }
        if let Some(p) = &parts.port {
            cmd.arg(format!("--port={p}"));
        }
        if let Some(u) = &parts.user {
            cmd.arg(format!("--user={u}"));
        }
        cmd.env_remove("MYSQL_PWD");
        if let Some(p) = &parts.password {
            cmd.env("MYSQL_PWD", p);
        }
        cmd.arg("--databases").arg(&database);
        match cmd.output() {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                last_err = Some(format!("`{tool}` was not found on PATH"));
                continue;
            }
            Err(e) => {
                return Err(format!(
                    "backup: cannot run `{tool}`: {e}; nothing was migrated"
                ))
            }
            Ok(out) if !out.status.success() => {
                let _ = std::fs::remove_file(path);
                return Err(format!(
                    "backup: `{tool}` failed ({}): {}\nnothing was migrated",
                    out.status,
                    scrub(url, String::from_utf8_lossy(&out.stderr).trim())
                ));
            }
            Ok(_) => {
                return Ok(format!(
                    "backup written to {} ({tool}, SQL)\nto restore it (the dump recreates the database `{database}`):\n  mysql --host=HOST --user=USER -p < {}",
                    path.display(),
                    path.display()
                ))
            }
        }
    }
    Err(format!(
        "backup: {}; nothing was migrated\nhelp: install the MySQL or MariaDB client tools (Debian: mariadb-client), or run without --backup",
        last_err.unwrap_or_default()
    ))
}

#[cfg(test)]
mod tests {
    use super::{pg_env, url_parts, UrlParts};

    #[test]
    fn mysql_urls_split_into_parts() {
        let parts =
            url_parts("mysql://root:s%3Acret@127.0.0.1:3306/app", &["mysql://"]).expect("parses");
        assert_eq!(
            parts,
            UrlParts {
                user: Some("root".into()),
                password: Some("s:cret".into()),
                host: Some("127.0.0.1".into()),
                port: Some("3306".into()),
                database: Some("app".into()),
                query: vec![],
            }
        );
        let err = url_parts("mysql://u:hunter2@h/app", &["postgres://"]).expect_err("wrong scheme");
        assert!(!err.contains("hunter2"), "{err}");
    }

    #[test]
    fn urls_become_libpq_variables() {
        let env = pg_env("postgres://app:p%40ss@db.example:6432/shop?sslmode=require&foo=1")
            .expect("parses");
        assert_eq!(
            env,
            vec![
                ("PGUSER", "app".to_string()),
                ("PGPASSWORD", "p@ss".to_string()),
                ("PGHOST", "db.example".to_string()),
                ("PGPORT", "6432".to_string()),
                ("PGDATABASE", "shop".to_string()),
                ("PGSSLMODE", "require".to_string()),
            ]
        );
        let env = pg_env("postgresql://[::1]/x").expect("parses");
        assert_eq!(
            env,
            vec![
                ("PGHOST", "::1".to_string()),
                ("PGDATABASE", "x".to_string())
            ]
        );
    }
}
