//! Percent-encoding and decoding of URL components.

/// Characters kept as they are (the unreserved ones of RFC 3986) in the
/// user information, the database name and parameters, and in a host
/// (which may also hold an IPv6 address's `:` and a host list's `,`); the
/// rest is percent-encoded.
pub(super) const COMPONENT: &str = "-._~";
pub(super) const HOST: &str = "-._~:,";

pub(super) fn encode(s: &str, keep: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || keep.as_bytes().contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Percent-decodes; an invalid escape (`%` not followed by two hex
/// digits) is kept as written. Fails when the bytes are not UTF-8.
pub(super) fn decode(s: &str) -> Result<String, std::string::FromUtf8Error> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = |b: u8| char::from(b).to_digit(16);
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push(u8::try_from(h * 16 + l).unwrap_or(b'?'));
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8(out)
}
