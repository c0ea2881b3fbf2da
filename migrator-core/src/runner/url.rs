//! Database URLs in messages: a password never leaves this module.

/// `scheme://user:secret@host/db` -> `scheme://user:***@host/db`; other
/// URLs unchanged.
pub fn redact_url(url: &str) -> String {
    match password_span(url) {
        Some((start, end)) => format!("{}***{}", &url[..start], &url[end..]),
        None => url.to_string(),
    }
}

/// Removes the URL's password (raw and percent-decoded) from any message a
/// driver produced, in case the driver echoes its connection string.
pub fn scrub(url: &str, message: &str) -> String {
    let Some((start, end)) = password_span(url) else {
        return message.to_string();
    };
    let raw = &url[start..end];
    let mut out = message.replace(raw, "***");
    let decoded = percent_decode(raw);
    if !decoded.is_empty() && decoded != raw {
        out = out.replace(&decoded, "***");
    }
    out
}

/// Byte range of the password in `scheme://user:password@host`.
fn password_span(url: &str) -> Option<(usize, usize)> {
    let after_scheme = url.find("://")? + 3;
    let rest = &url[after_scheme..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    let at = authority.rfind('@')?;
    let userinfo = &authority[..at];
    let colon = userinfo.find(':')?;
    let start = after_scheme + colon + 1;
    let end = after_scheme + at;
    (end > start).then_some((start, end))
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Some(b) = std::str::from_utf8(&bytes[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted() {
        assert_eq!(
            redact_url("postgres://app:s3cr%40t@db:5432/x?sslmode=require"),
            "postgres://app:***@db:5432/x?sslmode=require"
        );
        assert_eq!(redact_url("postgres://app@db/x"), "postgres://app@db/x");
        assert_eq!(redact_url("sqlite://dev.db"), "sqlite://dev.db");
        assert_eq!(
            scrub(
                "postgres://a:p%40ss@h/d",
                "bad password p@ss for a (p%40ss)"
            ),
            "bad password *** for a (***)"
        );
    }
}
