//! Posting webhooks: reqwest (rustls for `https://`), one connection per webhook call, as a
//! platform sending webhooks would, with the response time measured around the whole
//! exchange.

use std::fmt;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use http::{StatusCode, Uri};

/// Replies larger than this are cut off (a callflow is a few hundred bytes).
const MAX_REPLY_BYTES: usize = 1024 * 1024;

/// A webhook URL the simulator can post to (`http://` or `https://`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    url: String,
    host: String,
    port: u16,
    path: String,
}

/// A URL the simulator cannot use.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid webhook URL {url:?}: {reason}")]
pub struct UrlError {
    url: String,
    reason: String,
}

impl Target {
    /// Parses `http[s]://host[:port]/path`.
    pub fn parse(url: &str) -> Result<Self, UrlError> {
        let err = |reason: &str| UrlError {
            url: url.to_owned(),
            reason: reason.to_owned(),
        };
        let uri: Uri = url
            .parse()
            .map_err(|e: http::uri::InvalidUri| err(&e.to_string()))?;
        let default_port = match uri.scheme_str() {
            Some("http") => 80,
            Some("https") => 443,
            _ => return Err(err("must start with http:// or https://")),
        };
        let host = uri.host().ok_or_else(|| err("has no host"))?;
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let port = uri.port_u16().unwrap_or(default_port);
        let path = uri
            .path_and_query()
            .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned());
        Ok(Self {
            url: url.to_owned(),
            host,
            port,
            path,
        })
    }
}

/// Checks that `url` is one the simulator can post to (`http[s]://HOST[:PORT]/PATH`).
///
/// ```
/// assert!(callflow_sim::check_url("http://127.0.0.1:3000/webhooks/voice").is_ok());
/// assert!(callflow_sim::check_url("https://example.com/voice").is_ok());
/// assert!(callflow_sim::check_url("ftp://example.com/voice").is_err());
/// ```
pub fn check_url(url: &str) -> Result<(), UrlError> {
    Target::parse(url).map(|_| ())
}

/// What came back from one POST.
#[derive(Clone, Debug)]
pub struct HttpReply {
    /// The status.
    pub status: StatusCode,
    /// The body.
    pub body: Bytes,
}

/// Why a POST got no reply.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpError(pub String);

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The client every webhook call goes through: rustls, no proxy, no kept-alive connection
/// (each call opens its own, as a platform's would), no redirect followed.
fn client() -> &'static reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        reqwest::Client::builder()
            .no_proxy()
            .pool_max_idle_per_host(0)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("callflow-sim/", env!("CARGO_PKG_VERSION")))
            .build()
            .expect("the HTTP client's settings are valid")
    })
}

/// The causes of a reqwest error, innermost last, on one line.
fn describe(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// POSTs `body` as JSON; returns the reply (or why there is none) and the time it took.
pub async fn post_json(
    target: &Target,
    body: Bytes,
    auth: Option<&str>,
    timeout: Duration,
) -> (Result<HttpReply, HttpError>, Duration) {
    let start = Instant::now();
    let result = match tokio::time::timeout(timeout, exchange(target, body, auth)).await {
        Ok(r) => r,
        Err(_) => Err(HttpError(format!(
            "no reply within {} ms",
            timeout.as_millis()
        ))),
    };
    (result, start.elapsed())
}

async fn exchange(
    target: &Target,
    body: Bytes,
    auth: Option<&str>,
) -> Result<HttpReply, HttpError> {
    let mut req = client()
        .post(target.url.as_str())
        .header(CONTENT_TYPE, "application/json")
        .body(body);
    if let Some(v) = auth {
        let value = HeaderValue::from_str(v)
            .map_err(|_| HttpError("the auth header value is not a valid header".to_owned()))?;
        req = req.header(AUTHORIZATION, value);
    }
    let mut resp = req.send().await.map_err(|e| {
        if e.is_connect() {
            HttpError(format!(
                "cannot connect to {}:{}: {}",
                target.host,
                target.port,
                describe(&e)
            ))
        } else {
            HttpError(format!("request failed: {}", describe(&e)))
        }
    })?;
    let status = StatusCode::from_u16(resp.status().as_u16())
        .map_err(|_| HttpError("the reply's status is not valid".to_owned()))?;
    let mut body = Vec::new();
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| HttpError(format!("cannot read the reply body: {}", describe(&e))))?
    {
        if body.len() + chunk.len() > MAX_REPLY_BYTES {
            return Err(HttpError(format!(
                "the reply body is larger than {MAX_REPLY_BYTES} bytes"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(HttpReply {
        status,
        body: Bytes::from(body),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_plain_http_urls() {
        let t = Target::parse("http://127.0.0.1:3000/webhooks/voice?x=1").unwrap();
        assert_eq!(t.host, "127.0.0.1");
        assert_eq!(t.port, 3000);
        assert_eq!(t.path, "/webhooks/voice?x=1");
        let t = Target::parse("http://localhost").unwrap();
        assert_eq!((t.port, t.path.as_str()), (80, "/"));
        let t = Target::parse("http://[::1]:8080/v").unwrap();
        assert_eq!(t.host, "::1");
    }

    #[test]
    fn accepts_https_and_refuses_garbage() {
        let t = Target::parse("https://example.com/v").unwrap();
        assert_eq!((t.port, t.path.as_str()), (443, "/v"));
        let e = Target::parse("ftp://example.com/v").unwrap_err();
        assert!(
            e.to_string()
                .contains("must start with http:// or https://")
        );
        assert!(Target::parse("example.com/v").is_err());
        assert!(Target::parse("ftp://example.com/v").is_err());
    }
}
