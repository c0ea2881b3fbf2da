//! Database URLs: parsed once, and the only place a password is handled.
//!
//! Contract:
//! - [`DatabaseUrl::parse`] accepts `postgres://` and `postgresql://`,
//!   `mysql://` and `mariadb://`, `sqlite://PATH` and `sqlite:PATH`, and a
//!   bare SQLite path only when it clearly is one: `:memory:`, a path
//!   starting with `./`, `../` or `/`, or a file name ending in `.db`,
//!   `.sqlite`, `.sqlite3` or `.db3`. Anything else is refused with a
//!   [`UrlError`] that says what was expected (a did-you-mean for a
//!   misspelt scheme, a hint for a libpq `key=value` string or a host
//!   name), so a typo never becomes a new SQLite file.
//! - A network URL is `scheme://[user[:password]@]host[:port][/database][?k=v&..]`.
//!   The user information ends at the LAST `@`, so a password may hold `@`,
//!   `/`, `?`, `#` and `:` unencoded; an `@` in the database name or a
//!   parameter must then be written `%40`. Every component is
//!   percent-decoded (invalid escapes are kept as written).
//! - `Display` and `Debug` never show a password: the user information's
//!   and the `password` parameter's are printed `***`, and neither output
//!   depends on the password's value (the URL fuzz target checks this).
//! - [`DatabaseUrl::redact`] removes every spelling of the password (as
//!   written, decoded, and encoded as [`DatabaseUrl::expose_url`] writes
//!   it) from any message, for text a driver or a dump tool produced.
//! - [`DatabaseUrl::expose_url`] is the one way the password leaves: the
//!   URL re-encoded canonically for a driver, which
//!   `parse(expose_url(u)) == u` round-trips.

mod parse;
mod percent;

use std::fmt;

use percent::{encode, COMPONENT, HOST};

/// The database a URL is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Mysql,
    Sqlite,
}

impl fmt::Display for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Backend::Postgres => "PostgreSQL",
            Backend::Mysql => "MySQL/MariaDB",
            Backend::Sqlite => "SQLite",
        })
    }
}

/// Schemes accepted, as written (lowercase), with their backend.
const SCHEMES: [(&str, Backend); 5] = [
    ("postgres", Backend::Postgres),
    ("postgresql", Backend::Postgres),
    ("mysql", Backend::Mysql),
    ("mariadb", Backend::Mysql),
    ("sqlite", Backend::Sqlite),
];

/// File name endings that make a bare argument an SQLite path.
const SQLITE_ENDINGS: [&str; 4] = [".db", ".sqlite", ".sqlite3", ".db3"];

/// What the accepted forms are, for every refusal.
const EXPECTED: &str = "postgres://USER:PASSWORD@HOST:PORT/DB, mysql://USER:PASSWORD@HOST:PORT/DB, sqlite://PATH, or an SQLite file path ending in .db, .sqlite, .sqlite3 or .db3 or starting with ./, ../ or /";

/// Why a database URL was refused. The messages never repeat the URL or
/// any part of it but a well-formed scheme, since the text may hold a
/// password.
#[derive(Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    #[error("the database URL is empty\nhelp: expected {EXPECTED}")]
    Empty,
    #[error("unknown database URL scheme `{scheme}://`{}\nhelp: expected {EXPECTED}", suggestion.map(|s| format!("; did you mean `{s}://`?")).unwrap_or_default())]
    UnknownScheme {
        scheme: String,
        suggestion: Option<&'static str>,
    },
    #[error("the database URL looks like a libpq `key=value` connection string, which is not accepted\nhelp: write it as a URL: postgres://USER:PASSWORD@HOST:PORT/DBNAME (percent-encode special characters of the password, or give it in PGPASSWORD)")]
    KeywordString,
    #[error("the database URL is neither a URL nor an SQLite file path{}\nhelp: expected {EXPECTED}", if *.looks_like_host { " (it looks like a host name)" } else { "" })]
    NotAUrl { looks_like_host: bool },
    #[error("the database URL has an invalid {part}{}\nhelp: expected {EXPECTED}", .detail.map(|d| format!(": {d}")).unwrap_or_default())]
    Invalid {
        part: &'static str,
        detail: Option<&'static str>,
    },
}

/// A database URL, parsed. See the module's contract.
#[derive(Clone)]
pub struct DatabaseUrl {
    backend: Backend,
    /// The scheme as written, lowercased (`postgresql` stays `postgresql`).
    scheme: &'static str,
    user: Option<String>,
    /// The user information's password, decoded.
    password: Option<String>,
    host: Option<String>,
    port: Option<u16>,
    database: Option<String>,
    /// Query parameters in order, keys and values decoded.
    params: Vec<(String, String)>,
    /// The SQLite file (or `:memory:`), as written.
    sqlite_path: Option<String>,
    /// Every spelling of every password the input held, longest first.
    secrets: Vec<String>,
}

/// Components only: how a password was spelt is not part of the URL.
impl PartialEq for DatabaseUrl {
    fn eq(&self, other: &DatabaseUrl) -> bool {
        self.backend == other.backend
            && self.scheme == other.scheme
            && self.user == other.user
            && self.password == other.password
            && self.host == other.host
            && self.port == other.port
            && self.database == other.database
            && self.params == other.params
            && self.sqlite_path == other.sqlite_path
    }
}

impl Eq for DatabaseUrl {}

impl std::str::FromStr for DatabaseUrl {
    type Err = UrlError;
    fn from_str(s: &str) -> Result<DatabaseUrl, UrlError> {
        DatabaseUrl::parse(s)
    }
}

impl DatabaseUrl {
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The scheme as written, lowercased (`postgres`, `postgresql`,
    /// `mysql`, `mariadb`, `sqlite`).
    pub fn scheme(&self) -> &str {
        self.scheme
    }

    /// The user name, decoded (the `user` parameter when the URL has one).
    pub fn user(&self) -> Option<&str> {
        self.param("user").or(self.user.as_deref())
    }

    /// The password, decoded: the `password` parameter when there is one
    /// (libpq lets parameters override the URL's parts), else the user
    /// information's.
    pub fn password(&self) -> Option<&str> {
        self.param("password").or(self.password.as_deref())
    }

    /// The host, decoded, without IPv6 brackets; `None` when the URL has
    /// none (a local socket).
    pub fn host(&self) -> Option<&str> {
        self.host.as_deref()
    }

    pub fn port(&self) -> Option<u16> {
        self.port
    }

    /// The database name, decoded (for SQLite: the file path).
    pub fn database(&self) -> Option<&str> {
        match self.backend {
            Backend::Sqlite => self.sqlite_path.as_deref(),
            _ => self.database.as_deref(),
        }
    }

    /// The last value of query parameter `key`, decoded.
    pub fn param(&self, key: &str) -> Option<&str> {
        self.params
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// Every query parameter, in order, decoded (the password's too: print
    /// the URL, never these).
    pub fn params(&self) -> impl Iterator<Item = (&str, &str)> {
        self.params.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// The TLS mode: `ssl_mode`, `sslmode` or `ssl-mode`, lowercased.
    pub fn ssl_mode(&self) -> Option<String> {
        self.params
            .iter()
            .rev()
            .find(|(k, _)| matches!(k.as_str(), "ssl_mode" | "sslmode" | "ssl-mode"))
            .map(|(_, v)| v.to_ascii_lowercase())
    }

    /// The local socket: MySQL's `unix_socket` parameter; on PostgreSQL a
    /// host (or `host` parameter) that is a directory path.
    pub fn unix_socket(&self) -> Option<&str> {
        match self.backend {
            Backend::Mysql => self.param("unix_socket"),
            Backend::Postgres => self
                .param("host")
                .or(self.host.as_deref())
                .filter(|h| h.starts_with('/')),
            Backend::Sqlite => None,
        }
    }

    /// The SQLite file as written (`:memory:` included); `None` for a
    /// network database.
    pub fn sqlite_path(&self) -> Option<&str> {
        self.sqlite_path.as_deref()
    }

    /// Whether the SQLite database lives in memory (nothing on disk).
    pub fn is_sqlite_memory(&self) -> bool {
        self.sqlite_path
            .as_deref()
            .is_some_and(|p| p == ":memory:" || p.contains("mode=memory"))
    }

    /// The URL with its password, canonically encoded: for a driver only,
    /// never for a message.
    pub fn expose_url(&self) -> String {
        self.render(Password::Keep)
    }

    /// What the backend's driver is given (never for a message):
    /// PostgreSQL, the canonical URL for libpq; MySQL, the form diesel's
    /// `MysqlConnection` reads: scheme `mysql`, the password (from the
    /// `password` parameter too) in the user information, `ssl_mode` for
    /// every spelling of the TLS mode, host `localhost` when there is none,
    /// and no database (diesel does not percent-decode it: the connection
    /// selects it with `USE` instead); SQLite, the path.
    pub fn driver_url(&self) -> String {
        match self.backend {
            Backend::Postgres => self.expose_url(),
            Backend::Sqlite => self.sqlite_path.clone().unwrap_or_default(),
            Backend::Mysql => {
                let mut out = "mysql://".to_string();
                if let Some(u) = self.user() {
                    out.push_str(&encode(u, COMPONENT));
                }
                if let Some(p) = self.password() {
                    out.push(':');
                    out.push_str(&encode(p, COMPONENT));
                }
                if self.user().is_some() || self.password().is_some() {
                    out.push('@');
                }
                match &self.host {
                    Some(h) if h.contains(':') => {
                        out.push('[');
                        out.push_str(&encode(h, HOST));
                        out.push(']');
                    }
                    Some(h) => out.push_str(&encode(h, HOST)),
                    None => out.push_str("localhost"),
                }
                if let Some(p) = self.port {
                    out.push_str(&format!(":{p}"));
                }
                out.push('/');
                let mut first = true;
                for (k, v) in &self.params {
                    let key = match k.as_str() {
                        "password" | "user" | "database" => continue,
                        "sslmode" | "ssl-mode" | "ssl_mode" => "ssl_mode",
                        other => other,
                    };
                    out.push(if first { '?' } else { '&' });
                    first = false;
                    out.push_str(&encode(key, COMPONENT));
                    out.push('=');
                    out.push_str(&encode(v, COMPONENT));
                }
                out
            }
        }
    }

    /// The same server and credentials, another database: `name` replaces
    /// the database (a `dbname`/`database` parameter included); for SQLite,
    /// `name` is the file path.
    pub fn with_database(&self, name: &str) -> DatabaseUrl {
        let mut out = self.clone();
        match self.backend {
            Backend::Sqlite => out.sqlite_path = Some(name.to_string()),
            _ => {
                out.database = Some(name.to_string());
                out.params.retain(|(k, _)| k != "dbname" && k != "database");
            }
        }
        out
    }

    /// The same credentials, database and parameters at another server,
    /// reached over TCP at `host:port` (a `unix_socket`/`host` parameter is
    /// dropped): another node of the same cluster.
    pub fn with_address(&self, host: &str, port: Option<u16>) -> DatabaseUrl {
        let mut out = self.clone();
        out.host = Some(host.to_string());
        out.port = port;
        out.params
            .retain(|(k, _)| k != "unix_socket" && k != "host");
        out
    }

    /// The same URL with the query parameter `key` set to `value` (added,
    /// or replacing one of that name).
    pub fn with_param(&self, key: &str, value: &str) -> DatabaseUrl {
        let mut out = self.clone();
        out.params.retain(|(k, _)| k != key);
        out.params.push((key.to_string(), value.to_string()));
        out
    }

    /// The URL without any password (for a command a user may copy: the
    /// tool then asks for it, or reads PGPASSWORD or ~/.pgpass).
    pub fn without_password(&self) -> String {
        self.render(Password::Drop)
    }

    /// `message` without any spelling of this URL's password.
    pub fn redact(&self, message: &str) -> String {
        redact_all(message, &self.secrets)
    }

    /// The spellings [`redact`](Self::redact) removes, longest first (for
    /// a caller that redacts one text against several URLs).
    pub fn secrets(&self) -> &[String] {
        &self.secrets
    }

    fn render(&self, password: Password) -> String {
        if let Some(path) = &self.sqlite_path {
            return format!("sqlite://{path}");
        }
        let mut out = format!("{}://", self.scheme);
        let has_password = self.password.is_some() && password != Password::Drop;
        if self.user.is_some() || has_password {
            if let Some(u) = &self.user {
                out.push_str(&encode(u, COMPONENT));
            }
            if has_password {
                out.push(':');
                match (password, &self.password) {
                    (Password::Keep, Some(p)) => out.push_str(&encode(p, COMPONENT)),
                    _ => out.push_str("***"),
                }
            }
            out.push('@');
        }
        if let Some(h) = &self.host {
            // Brackets around an IPv6 address, or around a host that would
            // otherwise read as a libpq host list; a host list (never
            // parsed with a port) stays bare.
            let list = h.contains(',');
            if (h.contains(':') && !list) || (list && self.port.is_some()) {
                out.push('[');
                out.push_str(&encode(h, HOST));
                out.push(']');
            } else {
                out.push_str(&encode(h, HOST));
            }
        }
        if let Some(p) = self.port {
            out.push_str(&format!(":{p}"));
        }
        if let Some(d) = &self.database {
            out.push('/');
            out.push_str(&encode(d, COMPONENT));
        }
        let mut first = true;
        for (k, v) in &self.params {
            let v = if k == "password" {
                match password {
                    Password::Keep => encode(v, COMPONENT),
                    Password::Mask => "***".to_string(),
                    Password::Drop => continue,
                }
            } else {
                encode(v, COMPONENT)
            };
            out.push(if first { '?' } else { '&' });
            first = false;
            out.push_str(&encode(k, COMPONENT));
            out.push('=');
            out.push_str(&v);
        }
        out
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Password {
    Keep,
    Mask,
    Drop,
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(Password::Mask))
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DatabaseUrl({})", self.render(Password::Mask))
    }
}

/// `url` as it may be printed: parsed and shown without its password, or,
/// when it does not parse, a placeholder (the text may be anything, a
/// password included).
pub fn redact_url(url: &str) -> String {
    match DatabaseUrl::parse(url) {
        Ok(u) => u.to_string(),
        Err(_) => "(an invalid database URL)".to_string(),
    }
}

/// `message` without the password of `url` (any spelling); unchanged when
/// `url` does not parse.
pub fn scrub(url: &str, message: &str) -> String {
    match DatabaseUrl::parse(url) {
        Ok(u) => u.redact(message),
        Err(_) => message.to_string(),
    }
}

/// Replaces every secret (longest first, so a shorter spelling inside a
/// longer one does not leave the rest behind) with `***`.
pub fn redact_all(message: &str, secrets: &[String]) -> String {
    let mut sorted: Vec<&String> = secrets.iter().filter(|s| !s.is_empty()).collect();
    sorted.sort_by_key(|s| std::cmp::Reverse(s.len()));
    let mut out = message.to_string();
    for s in sorted {
        if out.contains(s.as_str()) {
            out = out.replace(s.as_str(), "***");
        }
    }
    out
}

debug_as_display!(UrlError);

#[cfg(test)]
mod tests;
