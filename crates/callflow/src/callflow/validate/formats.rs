//! The value formats 8x8 checks: MSISDNs and public http(s) URLs.

/// Whether `s` is an MSISDN: an optional `+` then 6–15 digits, not starting with 0.
pub(crate) fn is_msisdn(s: &str) -> bool {
    let d = s.strip_prefix('+').unwrap_or(s);
    (6..=15).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit()) && !d.starts_with('0')
}

/// Whether `s` is an absolute `http` or `https` URL (scheme in any case) with a host and no
/// white space: the URL rule 8x8 applies to a callflow's media files, also used for the
/// webhook URLs registered through its API.
///
/// ```
/// use callflow::callflow::is_http_url;
/// assert!(is_http_url("https://example.com/a.mp3"));
/// assert!(!is_http_url("file:///etc/passwd"));
/// ```
pub fn is_http_url(s: &str) -> bool {
    let lower = s.get(..8).map(str::to_ascii_lowercase).unwrap_or_default();
    let rest = if lower.starts_with("https://") {
        &s[8..]
    } else if lower.starts_with("http://") {
        &s[7..]
    } else {
        return false;
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    !host.is_empty() && !s.chars().any(char::is_whitespace)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn msisdn_accepts_e164_with_or_without_plus() {
        assert!(is_msisdn("+6591110001"));
        assert!(is_msisdn("6512345678"));
        assert!(!is_msisdn("06512345678"));
        assert!(!is_msisdn("+65 9111 0001"));
        assert!(!is_msisdn("12345"));
        assert!(!is_msisdn("+1234567890123456"));
        assert!(!is_msisdn("sip:alice@example.com"));
    }

    #[test]
    fn http_urls_only() {
        assert!(is_http_url("https://example.com/a.mp3"));
        assert!(is_http_url("HTTP://example.com/a.wav"));
        assert!(!is_http_url("ftp://example.com/a.mp3"));
        assert!(!is_http_url("https:///a.mp3"));
        assert!(!is_http_url("file:///etc/passwd"));
        assert!(!is_http_url("https://exa mple.com/a.mp3"));
    }
}
