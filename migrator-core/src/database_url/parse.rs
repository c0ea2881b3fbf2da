//! Reading the accepted forms of a database URL: the scheme (with a
//! did-you-mean), explicit SQLite paths, and a network URL's components,
//! each percent-decoded; anything else is a [`UrlError`].

use super::percent::{decode, encode, COMPONENT};
use super::{Backend, DatabaseUrl, UrlError, SCHEMES, SQLITE_ENDINGS};

impl DatabaseUrl {
    /// Parses a database URL or an SQLite path (module contract).
    pub fn parse(input: &str) -> Result<DatabaseUrl, UrlError> {
        let text = input.trim();
        if text.is_empty() {
            return Err(UrlError::Empty);
        }
        if let Some(sep) = text.find("://") {
            let written = &text[..sep];
            if !is_scheme(written) {
                return Err(not_a_url(text));
            }
            let lower = written.to_ascii_lowercase();
            let Some(&(scheme, backend)) = SCHEMES.iter().find(|(s, _)| *s == lower) else {
                return Err(UrlError::UnknownScheme {
                    suggestion: suggest(&lower),
                    scheme: written.to_string(),
                });
            };
            let rest = &text[sep + 3..];
            return match backend {
                Backend::Sqlite => sqlite(rest),
                _ => network(scheme, backend, rest),
            };
        }
        // `sqlite:PATH`, without the slashes.
        if text.len() >= 7 && text.is_char_boundary(7) && text[..7].eq_ignore_ascii_case("sqlite:")
        {
            return sqlite(&text[7..]);
        }
        if is_sqlite_path(text) {
            return sqlite(text);
        }
        Err(not_a_url(text))
    }
}

fn is_scheme(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        && s.len() <= 32
}

/// The known scheme closest to a misspelt one, or the scheme a common
/// short name stands for.
fn suggest(scheme: &str) -> Option<&'static str> {
    crate::suggest::did_you_mean(scheme, SCHEMES.iter().map(|(s, _)| *s)).or(match scheme {
        "pg" | "psql" | "pgsql" => Some("postgres"),
        "sqlite3" => Some("sqlite"),
        _ => None,
    })
}

fn is_sqlite_path(s: &str) -> bool {
    let lower = s.to_ascii_lowercase();
    s == ":memory:"
        || s.starts_with("./")
        || s.starts_with("../")
        || s.starts_with('/')
        || SQLITE_ENDINGS
            .iter()
            .any(|e| lower.ends_with(e) && lower.len() > e.len())
}

fn not_a_url(text: &str) -> UrlError {
    let keyword = text.split_whitespace().next().is_some_and(|w| {
        w.split_once('=').is_some_and(|(k, _)| {
            !k.is_empty() && k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
    });
    if keyword {
        return UrlError::KeywordString;
    }
    let looks_like_host = text.contains('.')
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':'));
    UrlError::NotAUrl { looks_like_host }
}

fn sqlite(path: &str) -> Result<DatabaseUrl, UrlError> {
    if path.is_empty() {
        return Err(UrlError::Invalid {
            part: "SQLite path",
            detail: Some("it names no file"),
        });
    }
    Ok(DatabaseUrl {
        backend: Backend::Sqlite,
        scheme: "sqlite",
        user: None,
        password: None,
        host: None,
        port: None,
        database: None,
        params: Vec::new(),
        sqlite_path: Some(path.to_string()),
        secrets: Vec::new(),
    })
}

fn network(scheme: &'static str, backend: Backend, rest: &str) -> Result<DatabaseUrl, UrlError> {
    let mut secrets = Vec::new();
    let (userinfo, after) = match rest.rfind('@') {
        Some(at) => (Some(&rest[..at]), &rest[at + 1..]),
        None => (None, rest),
    };
    let mut user = None;
    let mut password = None;
    if let Some(info) = userinfo {
        let (u, p) = match info.split_once(':') {
            Some((u, p)) => (u, Some(p)),
            None => (info, None),
        };
        if let Some(p) = p {
            secrets.push(p.to_string());
            let decoded = decode(p)
                .map_err(|_| invalid("password", Some("not UTF-8 once percent-decoded")))?;
            password = Some(decoded);
        }
        if !u.is_empty() {
            user = Some(decode(u).map_err(|_| invalid("user name", None))?);
        }
    }
    let authority_end = after.find(['/', '?']).unwrap_or(after.len());
    let hostport = &after[..authority_end];
    let tail = &after[authority_end..];
    let (path, query) = match tail.find('?') {
        Some(q) => (&tail[..q], Some(&tail[q + 1..])),
        None => (tail, None),
    };
    let (host, port) = host_port(hostport)?;
    let database = match path.strip_prefix('/') {
        Some(d) if !d.is_empty() => Some(decode(d).map_err(|_| invalid("database name", None))?),
        _ => None,
    };
    let mut params = Vec::new();
    for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let key = decode(k).map_err(|_| invalid("query parameter", None))?;
        if key == "password" {
            secrets.push(v.to_string());
        }
        let value = decode(v).map_err(|_| {
            invalid(
                "query parameter",
                (key == "password").then_some("the password is not UTF-8 once percent-decoded"),
            )
        })?;
        params.push((key, value));
    }
    let mut url = DatabaseUrl {
        backend,
        scheme,
        user,
        password,
        host,
        port,
        database,
        params,
        sqlite_path: None,
        secrets,
    };
    // Every spelling: as written, decoded, and as `expose_url` encodes it.
    let mut spellings = std::mem::take(&mut url.secrets);
    for p in [
        url.password.clone(),
        url.param("password").map(str::to_string),
    ]
    .into_iter()
    .flatten()
    {
        spellings.push(encode(&p, COMPONENT));
        spellings.push(p);
    }
    spellings.retain(|s| !s.is_empty());
    spellings.sort_by_key(|s| std::cmp::Reverse(s.len()));
    spellings.dedup();
    url.secrets = spellings;
    Ok(url)
}

fn invalid(part: &'static str, detail: Option<&'static str>) -> UrlError {
    UrlError::Invalid { part, detail }
}

/// `host`, `host:port`, `[v6]`, `[v6]:port`, or a libpq host list
/// (`h1:5432,h2`), kept whole.
fn host_port(s: &str) -> Result<(Option<String>, Option<u16>), UrlError> {
    if s.is_empty() {
        return Ok((None, None));
    }
    let (host, port) = if let Some(inner) = s.strip_prefix('[') {
        let (h, after) = inner.split_once(']').ok_or(invalid(
            "host",
            Some("an IPv6 address without its closing `]`"),
        ))?;
        match after {
            "" => (h, None),
            p => match p.strip_prefix(':') {
                Some(p) => (h, Some(p)),
                None => return Err(invalid("host", Some("text after the IPv6 address's `]`"))),
            },
        }
    } else if s.contains(',') {
        (s, None)
    } else {
        match s.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (s, None),
        }
    };
    let port = match port {
        None | Some("") => None,
        Some(p) => match (p.bytes().all(|b| b.is_ascii_digit()), p.parse::<u16>()) {
            (true, Ok(n)) if n > 0 => Some(n),
            _ => return Err(invalid("port", Some("not a number from 1 to 65535"))),
        },
    };
    let host = decode(host).map_err(|_| invalid("host", None))?;
    Ok(((!host.is_empty()).then_some(host), port))
}
