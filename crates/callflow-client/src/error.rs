//! The client's one error type.

use std::error::Error as StdError;
use std::fmt;
use std::time::Duration;

use callflow::callflow::Violations;

use crate::api::{ApiErrorBody, InvalidRequest, Operation, mask_numbers};

/// What went wrong, to branch on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The request was refused: by the library before sending (a callflow breaking 8x8's
    /// rules, a value outside the document; [`Error::status`] is `None`), or by 8x8 (400,
    /// 422, another 4xx, or a Send Callflow answered `NOT_CREATED` with a negative code).
    InvalidRequest,
    /// 401 (the API key is missing, wrong or not the sub-account's) or 403 (not allowed).
    Unauthorized,
    /// 404: no such sub-account, session, job or number.
    NotFound,
    /// 429: too many requests; [`Error::retry_after`] says when to try again if 8x8 said.
    RateLimited,
    /// 5xx: 8x8 failed (503 may carry [`Error::retry_after`]).
    Server,
    /// No complete answer within the configured timeout (or the retry budget).
    Timeout,
    /// 8x8 could not be reached (DNS, connect, TLS, connection reset).
    Connection,
    /// An answer the document does not describe (a 2xx body that is not the documented JSON,
    /// a 1xx or 3xx status).
    UnexpectedResponse,
    /// The client's configuration is unusable (an empty API key, a bad base URL).
    Config,
}

/// An error of [`Client`](crate::Client): a [`kind`](Error::kind), the HTTP status and
/// 8x8's code where there is one.
///
/// Its message never contains the API key or a phone number in clear (8x8's own messages
/// are passed through with digit runs masked, `+65****0001`).
pub struct Error(Box<Inner>);

struct Inner {
    kind: ErrorKind,
    operation: Option<Operation>,
    status: Option<u16>,
    code: Option<i64>,
    message: Option<String>,
    retry_after: Option<Duration>,
    invalid: Option<InvalidRequest>,
    attempts: u32,
    timeout: Option<Duration>,
    source: Option<Box<dyn StdError + Send + Sync>>,
}

impl Error {
    fn new(kind: ErrorKind) -> Self {
        Self(Box::new(Inner {
            kind,
            operation: None,
            status: None,
            code: None,
            message: None,
            retry_after: None,
            invalid: None,
            attempts: 0,
            timeout: None,
            source: None,
        }))
    }

    /// What went wrong.
    pub fn kind(&self) -> ErrorKind {
        self.0.kind
    }

    /// The HTTP status of 8x8's answer, when there was one.
    pub fn status(&self) -> Option<u16> {
        self.0.status
    }

    /// 8x8's code: the answer's `statusCode` (or `code`), e.g. -1013 or 401; for a callflow
    /// refused before sending, the code of its first violation.
    pub fn code(&self) -> Option<i64> {
        self.0.code
    }

    /// How long 8x8 asked to wait (`Retry-After`), for [`ErrorKind::RateLimited`] and
    /// [`ErrorKind::Server`].
    pub fn retry_after(&self) -> Option<Duration> {
        self.0.retry_after
    }

    /// The operation that failed.
    pub fn operation(&self) -> Option<Operation> {
        self.0.operation
    }

    /// The callflow's violations (with 8x8's codes and JSON paths) when the library refused a
    /// Send Callflow before sending it.
    pub fn violations(&self) -> Option<&Violations> {
        self.0.invalid.as_ref().and_then(InvalidRequest::violations)
    }

    /// The library's refusal, when the request was never sent.
    pub fn invalid_request(&self) -> Option<&InvalidRequest> {
        self.0.invalid.as_ref()
    }

    /// 8x8's message (`statusMessage` or `message`), masked, on one line.
    pub fn api_message(&self) -> Option<&str> {
        self.0.message.as_deref()
    }

    /// How many requests were sent (0 when refused before sending).
    pub fn attempts(&self) -> u32 {
        self.0.attempts
    }

    /// Whether the request was refused by the library without any network traffic.
    pub fn is_local(&self) -> bool {
        self.0.invalid.is_some() || self.0.kind == ErrorKind::Config
    }

    pub(crate) fn config(message: &'static str) -> Self {
        let mut e = Self::new(ErrorKind::Config);
        e.0.message = Some(message.to_owned());
        e
    }

    pub(crate) fn invalid(op: Option<Operation>, invalid: InvalidRequest) -> Self {
        let mut e = Self::new(ErrorKind::InvalidRequest);
        e.0.operation = op;
        e.0.code = invalid.code();
        e.0.invalid = Some(invalid);
        e
    }

    pub(crate) fn timeout(op: Operation, after: Duration, source: Option<reqwest::Error>) -> Self {
        let mut e = Self::new(ErrorKind::Timeout);
        e.0.operation = Some(op);
        e.0.timeout = Some(after);
        e.0.source = source.map(|s| Box::new(s.without_url()) as _);
        e
    }

    pub(crate) fn connection(op: Operation, source: reqwest::Error) -> Self {
        let mut e = Self::new(ErrorKind::Connection);
        e.0.operation = Some(op);
        e.0.source = Some(Box::new(source.without_url()));
        e
    }

    /// An error from 8x8's answer: its status, `Retry-After` and body.
    pub(crate) fn from_response(
        op: Operation,
        status: u16,
        retry_after: Option<Duration>,
        body: &[u8],
    ) -> Self {
        let kind = match status {
            401 | 403 => ErrorKind::Unauthorized,
            404 => ErrorKind::NotFound,
            429 => ErrorKind::RateLimited,
            400..=499 => ErrorKind::InvalidRequest,
            500..=599 => ErrorKind::Server,
            _ => ErrorKind::UnexpectedResponse,
        };
        let mut e = Self::new(kind);
        e.0.operation = Some(op);
        e.0.status = Some(status);
        e.0.retry_after = retry_after;
        match serde_json::from_slice::<ApiErrorBody>(body) {
            Ok(b) => {
                e.0.code = b.error_code();
                e.0.message = b.error_message().map(one_line);
            }
            Err(_) if body.iter().all(u8::is_ascii_whitespace) => {}
            Err(_) => {
                let text = String::from_utf8_lossy(body);
                e.0.message = Some(one_line(&text));
            }
        }
        e
    }

    /// A Send Callflow answered with a 2xx status but not `CREATED`.
    pub(crate) fn not_created(status: u16, code: Option<i64>, message: Option<&str>) -> Self {
        let kind = if code == Some(-9999) {
            ErrorKind::Server
        } else {
            ErrorKind::InvalidRequest
        };
        let mut e = Self::new(kind);
        e.0.operation = Some(Operation::SendCallflow);
        e.0.status = Some(status);
        e.0.code = code;
        e.0.message = message.map(one_line);
        e
    }

    pub(crate) fn unexpected(op: Operation, status: u16, detail: String) -> Self {
        let mut e = Self::new(ErrorKind::UnexpectedResponse);
        e.0.operation = Some(op);
        e.0.status = Some(status);
        e.0.message = Some(one_line(&detail));
        e
    }

    pub(crate) fn with_attempts(mut self, n: u32) -> Self {
        self.0.attempts = n;
        self
    }
}

/// A message on one line, at most 200 characters, digit runs masked.
fn one_line(s: &str) -> String {
    let flat: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out: String = flat.chars().take(200).collect();
    if flat.chars().count() > 200 {
        out.push('…');
    }
    mask_numbers(&out)
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let i = &*self.0;
        let op = i.operation.map(Operation::summary).unwrap_or("request");
        let http = |f: &mut fmt::Formatter<'_>| -> fmt::Result {
            match (i.status, i.code) {
                (Some(s), Some(c)) => write!(f, " (HTTP {s}, 8x8 code {c})"),
                (Some(s), None) => write!(f, " (HTTP {s})"),
                (None, Some(c)) => write!(f, " (8x8 code {c})"),
                (None, None) => Ok(()),
            }
        };
        let msg = |f: &mut fmt::Formatter<'_>| -> fmt::Result {
            match &i.message {
                Some(m) => write!(f, ": {m}"),
                None => Ok(()),
            }
        };
        match i.kind {
            ErrorKind::InvalidRequest if i.invalid.is_some() => {
                write!(f, "{op} not sent: ")?;
                fmt::Display::fmt(i.invalid.as_ref().expect("checked"), f)
            }
            ErrorKind::InvalidRequest => {
                write!(f, "8x8 refused {op}")?;
                http(f)?;
                msg(f)
            }
            ErrorKind::Unauthorized if i.status == Some(403) => {
                write!(f, "8x8 does not allow {op} for this API key")?;
                http(f)?;
                msg(f)?;
                f.write_str("; check the key's permissions and the sub-account id")
            }
            ErrorKind::Unauthorized => {
                write!(f, "8x8 refused the API key for {op}")?;
                http(f)?;
                msg(f)?;
                f.write_str(
                    "; check that the key (from connect.8x8.com) is valid and belongs to the configured sub-account",
                )
            }
            ErrorKind::NotFound => {
                write!(f, "8x8 found nothing for {op}")?;
                http(f)?;
                msg(f)
            }
            ErrorKind::RateLimited => {
                write!(f, "8x8 rate-limited {op}")?;
                http(f)?;
                msg(f)?;
                match i.retry_after {
                    Some(d) => write!(f, "; retry after {} s", d.as_secs_f64().ceil()),
                    None => Ok(()),
                }
            }
            ErrorKind::Server => {
                write!(f, "8x8 failed on {op}")?;
                http(f)?;
                msg(f)
            }
            ErrorKind::Timeout => match i.timeout {
                Some(d) => write!(f, "{op} got no complete answer within {d:?}"),
                None => write!(f, "{op} timed out"),
            },
            ErrorKind::Connection => {
                write!(f, "could not reach 8x8 for {op}")?;
                if let Some(s) = &i.source {
                    write!(f, ": {}", mask_numbers(&s.to_string()))?;
                }
                Ok(())
            }
            ErrorKind::UnexpectedResponse => {
                write!(f, "unexpected answer to {op}")?;
                http(f)?;
                msg(f)
            }
            ErrorKind::Config => {
                f.write_str("invalid client configuration")?;
                msg(f)
            }
        }?;
        if i.attempts > 1 {
            write!(f, " (after {} attempts)", i.attempts)?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Error")
            .field("kind", &self.0.kind)
            .field("operation", &self.0.operation)
            .field("status", &self.0.status)
            .field("code", &self.0.code)
            .field("retry_after", &self.0.retry_after)
            .field("attempts", &self.0.attempts)
            .field("message", &self.to_string())
            .finish()
    }
}

impl StdError for Error {
    fn source(&self) -> Option<&(dyn StdError + 'static)> {
        match &self.0.invalid {
            Some(i) => Some(i),
            None => self.0.source.as_deref().map(|s| s as _),
        }
    }
}

impl From<InvalidRequest> for Error {
    fn from(i: InvalidRequest) -> Self {
        Error::invalid(None, i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_follow_the_status() {
        let e = Error::from_response(
            Operation::SendCallflow,
            422,
            None,
            br#"{"sessionStatus":"NOT_CREATED","statusCode":-1013,"statusMessage":"Invalid Callflow : First action should be a MakeCall action"}"#,
        );
        assert_eq!(
            (e.kind(), e.status(), e.code()),
            (ErrorKind::InvalidRequest, Some(422), Some(-1013))
        );
        assert_eq!(
            e.to_string(),
            "8x8 refused Send Callflow (HTTP 422, 8x8 code -1013): Invalid Callflow : First action should be a MakeCall action"
        );
        let e = Error::from_response(Operation::ListWebhooks, 401, None, b"");
        assert_eq!(e.kind(), ErrorKind::Unauthorized);
        assert!(e.to_string().contains("refused the API key"), "{e}");
        let e = Error::from_response(
            Operation::GetLogExport,
            404,
            None,
            br#"{"code":4018,"message":"Invalid jobId"}"#,
        );
        assert_eq!((e.kind(), e.code()), (ErrorKind::NotFound, Some(4018)));
        let e = Error::from_response(
            Operation::ListWebhooks,
            429,
            Some(Duration::from_secs(2)),
            b"",
        );
        assert_eq!(e.kind(), ErrorKind::RateLimited);
        assert!(e.to_string().ends_with("retry after 2 s"), "{e}");
        let e = Error::from_response(
            Operation::ListWebhooks,
            502,
            None,
            b"<html>\n<body>Bad gateway</body>\n</html>",
        );
        assert_eq!(e.kind(), ErrorKind::Server);
        assert_eq!(
            e.api_message(),
            Some("<html> <body>Bad gateway</body> </html>")
        );
    }

    #[test]
    fn messages_never_show_a_number() {
        let e = Error::from_response(
            Operation::SendCallflow,
            400,
            None,
            br#"{"statusCode":-1017,"statusMessage":"Destination +6591110001 is not a valid MSISDN"}"#,
        );
        let text = format!("{e} {e:?}");
        assert!(!text.contains("6591110001"), "{text}");
        assert!(text.contains("+65****0001"), "{text}");
    }
}
