//! A minimal HTTP/1.1 client: one connection per webhook call, as a platform sending
//! webhooks would, with the response time measured around the whole exchange.

use std::fmt;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_TYPE, HOST, HeaderValue, USER_AGENT};
use http::{Request, StatusCode, Uri};
use http_body_util::{BodyExt, Full, Limited};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// Replies larger than this are cut off (a callflow is a few hundred bytes).
const MAX_REPLY_BYTES: usize = 1024 * 1024;

/// A webhook URL the simulator can post to (plain `http://`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    host: String,
    port: u16,
    authority: String,
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
    /// Parses `http://host[:port]/path`.
    pub fn parse(url: &str) -> Result<Self, UrlError> {
        let err = |reason: &str| UrlError {
            url: url.to_owned(),
            reason: reason.to_owned(),
        };
        let uri: Uri = url
            .parse()
            .map_err(|e: http::uri::InvalidUri| err(&e.to_string()))?;
        match uri.scheme_str() {
            Some("http") => {}
            Some("https") => {
                return Err(err(
                    "https is not supported: the simulator speaks plain HTTP, point it at the service directly (e.g. http://127.0.0.1:3000/webhooks/voice)",
                ));
            }
            _ => return Err(err("must start with http://")),
        }
        let host = uri.host().ok_or_else(|| err("has no host"))?;
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let port = uri.port_u16().unwrap_or(80);
        let authority = uri
            .authority()
            .map(|a| a.as_str().to_owned())
            .unwrap_or_default();
        let path = uri
            .path_and_query()
            .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned());
        Ok(Self {
            host,
            port,
            authority,
            path,
        })
    }
}

/// Checks that `url` is one the simulator can post to (`http://HOST[:PORT]/PATH`).
///
/// ```
/// assert!(callflow_sim::check_url("http://127.0.0.1:3000/webhooks/voice").is_ok());
/// assert!(callflow_sim::check_url("https://example.com/voice").is_err());
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

/// Aborts the connection task when the exchange ends (or times out).
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
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
    let stream = TcpStream::connect((target.host.as_str(), target.port))
        .await
        .map_err(|e| {
            HttpError(format!(
                "cannot connect to {}:{}: {e}",
                target.host, target.port
            ))
        })?;
    let _ = stream.set_nodelay(true);
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| HttpError(format!("HTTP handshake failed: {e}")))?;
    let _conn = AbortOnDrop(tokio::spawn(async move {
        let _ = conn.await;
    }));
    let mut req = Request::post(target.path.as_str())
        .header(HOST, target.authority.as_str())
        .header(CONTENT_TYPE, "application/json")
        .header(
            USER_AGENT,
            concat!("callflow-sim/", env!("CARGO_PKG_VERSION")),
        )
        .body(Full::new(body))
        .map_err(|e| HttpError(format!("cannot build the request: {e}")))?;
    if let Some(v) = auth {
        let value = HeaderValue::from_str(v)
            .map_err(|_| HttpError("the auth header value is not a valid header".to_owned()))?;
        req.headers_mut().insert(AUTHORIZATION, value);
    }
    let resp = sender
        .send_request(req)
        .await
        .map_err(|e| HttpError(format!("request failed: {e}")))?;
    let (parts, body) = resp.into_parts();
    let body = Limited::new(body, MAX_REPLY_BYTES)
        .collect()
        .await
        .map_err(|e| HttpError(format!("cannot read the reply body: {e}")))?
        .to_bytes();
    Ok(HttpReply {
        status: parts.status,
        body,
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
        assert_eq!(t.authority, "127.0.0.1:3000");
        let t = Target::parse("http://localhost").unwrap();
        assert_eq!((t.port, t.path.as_str()), (80, "/"));
        let t = Target::parse("http://[::1]:8080/v").unwrap();
        assert_eq!(t.host, "::1");
    }

    #[test]
    fn refuses_https_and_garbage() {
        let e = Target::parse("https://example.com/v").unwrap_err();
        assert!(e.to_string().contains("https is not supported"));
        assert!(Target::parse("example.com/v").is_err());
        assert!(Target::parse("ftp://example.com/v").is_err());
    }
}
