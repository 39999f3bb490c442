//! Checks that need only the request head: method, auth, media type, declared length.

use std::net::SocketAddr;

use http::header::{CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, TRANSFER_ENCODING};
use http::{HeaderMap, HeaderValue, Method};

use super::{Config, Rejection, WebhookResponse};

/// Constant-time comparison: the time depends only on `expected`'s length.
fn ct_eq(given: &[u8], expected: &[u8]) -> bool {
    let mut diff = given.len() ^ expected.len();
    for (i, e) in expected.iter().enumerate() {
        let g = given.get(i).copied().unwrap_or(0);
        diff |= usize::from(g ^ e);
    }
    std::hint::black_box(diff) == 0
}

/// Media types accepted as JSON: `application/json`, `text/json`, `text/plain`,
/// `application/x-json` and any `…/…+json`, with any parameters.
pub(crate) fn is_json_media_type(v: &HeaderValue) -> bool {
    // What nearly every sender sends, without splitting and trimming.
    if v.as_bytes() == b"application/json" {
        return true;
    }
    let Ok(s) = v.to_str() else { return false };
    let essence = s.split(';').next().unwrap_or("").trim();
    const EXACT: [&str; 4] = [
        "application/json",
        "text/json",
        "text/plain",
        "application/x-json",
    ];
    if EXACT.iter().any(|m| essence.eq_ignore_ascii_case(m)) {
        return true;
    }
    match essence.split_once('/') {
        Some((t, sub)) => {
            !t.is_empty()
                && sub.len() >= 5
                && sub.as_bytes()[sub.len() - 5..].eq_ignore_ascii_case(b"+json")
        }
        None => false,
    }
}

/// Whether the head announces a body still to come: chunked, or a `Content-Length` other
/// than 0. A refusal sent before reading it leaves the connection unusable.
pub(crate) fn announces_body(headers: &HeaderMap) -> bool {
    headers.contains_key(TRANSFER_ENCODING) || headers.get(CONTENT_LENGTH).is_some_and(|v| v != "0")
}

pub(crate) fn check(
    config: &Config,
    method: &Method,
    headers: &HeaderMap,
    peer: Option<SocketAddr>,
) -> Option<WebhookResponse> {
    if let Some(list) = &config.allow_list
        && let Err(refusal) = list.check(peer, headers)
    {
        tracing::warn!(reason = %refusal, "webhook request from a peer not allowed");
        return Some(WebhookResponse::rejection(
            Rejection::Forbidden,
            "this address may not call the webhook",
            None,
        ));
    }
    if method != Method::POST {
        return Some(WebhookResponse::rejection(
            Rejection::MethodNotAllowed,
            "only POST is allowed on this webhook",
            None,
        ));
    }
    if !config.auth_tokens.is_empty() {
        let given = headers.get(&config.auth_header);
        let ok = given.is_some_and(|g| {
            // Check every accepted value, so the time does not say which one matched.
            config
                .auth_tokens
                .iter()
                .fold(false, |acc, t| ct_eq(g.as_bytes(), t) | acc)
        });
        if !ok {
            let reason = if given.is_some() {
                "wrong value"
            } else {
                "header missing"
            };
            tracing::warn!(header = %config.auth_header, reason, "webhook auth failed");
            return Some(WebhookResponse::rejection(
                Rejection::Unauthorized,
                "missing or invalid credentials",
                None,
            ));
        }
    }
    if let Some(enc) = headers.get(CONTENT_ENCODING)
        && !enc.as_bytes().eq_ignore_ascii_case(b"identity")
    {
        return Some(WebhookResponse::rejection(
            Rejection::UnsupportedEncoding,
            "compressed request bodies are not accepted; send identity encoding",
            None,
        ));
    }
    match headers.get(CONTENT_TYPE) {
        Some(ct) if !is_json_media_type(ct) => {
            return Some(WebhookResponse::rejection(
                Rejection::UnsupportedMediaType,
                "content type must be application/json",
                None,
            ));
        }
        None if config.strict_content_type => {
            return Some(WebhookResponse::rejection(
                Rejection::UnsupportedMediaType,
                "content type application/json is required",
                None,
            ));
        }
        _ => {}
    }
    let declared = headers
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|s| s.trim().parse::<u64>().ok());
    if declared.is_some_and(|n| n > config.max_body_bytes as u64) {
        return Some(WebhookResponse::payload_too_large(config.max_body_bytes));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_time_compare_is_exact() {
        assert!(ct_eq(b"secret", b"secret"));
        assert!(!ct_eq(b"secreT", b"secret"));
        assert!(!ct_eq(b"secret2", b"secret"));
        assert!(!ct_eq(b"secre", b"secret"));
        assert!(!ct_eq(b"", b"secret"));
        assert!(ct_eq(b"", b""));
    }

    #[test]
    fn a_body_is_announced_by_chunked_or_a_non_zero_length() {
        let with = |name: http::HeaderName, value: &'static str| {
            let mut headers = HeaderMap::new();
            headers.insert(name, HeaderValue::from_static(value));
            headers
        };
        assert!(announces_body(&with(TRANSFER_ENCODING, "chunked")));
        assert!(announces_body(&with(CONTENT_LENGTH, "10")));
        assert!(!announces_body(&with(CONTENT_LENGTH, "0")));
        assert!(!announces_body(&HeaderMap::new()));
    }

    #[test]
    fn json_media_types() {
        for ok in [
            "application/json",
            "application/json; charset=utf-8",
            "Application/JSON",
            "application/VND.API+JSON",
            "text/json",
            "text/plain",
            "application/cloudevents+json",
            "application/vnd.api+json; charset=utf-8",
        ] {
            assert!(is_json_media_type(&HeaderValue::from_static(ok)), "{ok}");
        }
        for bad in [
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "application/xml",
            "text/html",
            "application/octet-stream",
            "json",
            "",
        ] {
            assert!(!is_json_media_type(&HeaderValue::from_static(bad)), "{bad}");
        }
    }
}
