//! Database URLs (`migrator_core::database_url`), on any bytes:
//! - parsing, and every way of showing a parsed URL, never panics;
//! - the driver's form round-trips: `parse(expose_url(u)) == u`;
//! - `redact` leaves no spelling of the password in a message;
//! - input of the form `@pw\nTEMPLATE\nPASSWORD\nraw|enc`, where TEMPLATE
//!   holds `{P}` and the password takes its place (as written, or
//!   percent-encoded): `Display` and `Debug` do not depend on the password
//!   at all (the same text as for the template with an empty password), so
//!   a non-trivial password (4 bytes or more, not already a substring of
//!   that text) never shows.
#![no_main]

use libfuzzer_sys::fuzz_target;
use migrator_core::database_url::DatabaseUrl;

fn encode(s: &str) -> String {
    s.bytes().map(|b| format!("%{b:02X}")).collect()
}

fn check(text: &str) {
    let Ok(url) = DatabaseUrl::parse(text) else {
        return;
    };
    let shown = url.to_string();
    let _ = format!("{url:?}");
    let _ = url.without_password();
    let _ = url.driver_url();
    let _ = (url.ssl_mode(), url.unix_socket(), url.database(), url.user());
    let exposed = url.expose_url();
    let again = DatabaseUrl::parse(&exposed)
        .unwrap_or_else(|e| panic!("the driver's form does not parse: {e}"));
    assert!(again == url, "the driver's form does not round-trip: {shown} vs {again}");
    let message = format!("driver said: {text} | {exposed} | {shown}");
    let redacted = url.redact(&message);
    for s in url.secrets() {
        if !s.is_empty() && !s.contains('*') {
            assert!(!redacted.contains(s.as_str()), "`redact` left a spelling of the password");
        }
    }
}

fn structured(rest: &str) {
    let mut lines = rest.splitn(3, '\n');
    let (Some(template), Some(password), mode) = (lines.next(), lines.next(), lines.next()) else {
        return;
    };
    // Exactly one place: a second one would put the password in a part
    // that is shown (a host, a database name).
    if template.matches("{P}").count() != 1 || password.contains('\n') {
        return;
    }
    let written = if mode == Some("raw") {
        password.to_string()
    } else {
        encode(password)
    };
    let full = template.replace("{P}", &written);
    let without = template.replace("{P}", "");
    check(&full);
    let (Ok(url), Ok(blank)) = (DatabaseUrl::parse(&full), DatabaseUrl::parse(&without)) else {
        return;
    };
    // Only when the password landed where the template put it.
    if url.password() != Some(password) || blank.password() != Some("") {
        return;
    }
    let shown = url.to_string();
    assert_eq!(shown, blank.to_string(), "Display depends on the password");
    assert_eq!(format!("{url:?}"), format!("{blank:?}"), "Debug depends on the password");
    if password.len() >= 4 && !shown.contains(password) {
        // Redundant with the equality above, and the property as stated.
        assert!(!format!("{url} {url:?}").contains(password));
    }
    let redacted = url.redact(&format!("error for {full}: {password}"));
    if !password.is_empty() && !password.contains('*') {
        assert!(!redacted.contains(password), "`redact` left the password");
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match text.strip_prefix("@pw\n") {
        Some(rest) => structured(rest),
        None => check(text),
    }
});
