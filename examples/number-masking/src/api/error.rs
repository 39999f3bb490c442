//! The API's errors, in the webhook's JSON shape.

use bytes::Bytes;
use http::{HeaderValue, StatusCode, header};

use super::Response;
use super::model::{ErrorBody, ErrorFields, FieldError};

/// An error answer: status, code, message, and where it applies.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    // Boxed: an error travels in every `Result` of the API, and stays small there.
    fields: Box<ErrorFields>,
    allow: Option<&'static str>,
}

impl ApiError {
    /// An error with `status`, machine code `code` and `message`.
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            fields: Box::new(ErrorFields {
                code: code.into(),
                message: callflow::phone::redact(&message.into()).into_owned(),
                path: None,
                fields: Vec::new(),
                conflicting_binding_id: None,
            }),
            allow: None,
        }
    }

    /// 400 `invalid_json`.
    pub fn invalid_json(message: impl std::fmt::Display) -> Self {
        Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_json",
            format!("the body is not valid JSON: {message}"),
        )
    }

    /// 400 `invalid_query` for the query parameter `name`.
    pub fn invalid_query(name: &str, message: impl std::fmt::Display) -> Self {
        let mut e = Self::new(
            StatusCode::BAD_REQUEST,
            "invalid_query",
            format!("query parameter {name}: {message}"),
        );
        e.fields.path = Some(name.to_owned());
        e
    }

    /// 422 `invalid_fields`, naming each.
    pub fn invalid_fields(fields: Vec<FieldError>) -> Self {
        let message = fields
            .iter()
            .map(|f| format!("{}: {}", f.path, f.message))
            .collect::<Vec<_>>()
            .join("; ");
        let mut e = Self::new(StatusCode::UNPROCESSABLE_ENTITY, "invalid_fields", message);
        e.fields.path = fields.first().map(|f| f.path.clone());
        e.fields.fields = fields
            .into_iter()
            .map(|f| FieldError {
                message: callflow::phone::redact(&f.message).into_owned(),
                ..f
            })
            .collect();
        e
    }

    /// 409 `conflict`, naming the binding in the way.
    pub fn conflict(message: impl Into<String>, existing: &str) -> Self {
        let mut e = Self::new(StatusCode::CONFLICT, "conflict", message);
        e.fields.conflicting_binding_id = Some(existing.to_owned());
        e
    }

    /// 404 `not_found`.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// 401 `unauthorized`.
    pub fn unauthorized() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "give an API key: Authorization: Bearer KEY",
        )
    }

    /// 405 `method_not_allowed`, with the methods the route has.
    pub fn method_not_allowed(allow: &'static str) -> Self {
        let mut e = Self::new(
            StatusCode::METHOD_NOT_ALLOWED,
            "method_not_allowed",
            format!("this route takes {allow}"),
        );
        e.allow = Some(allow);
        e
    }

    /// 413 `payload_too_large`.
    pub fn too_large(limit: usize) -> Self {
        Self::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("request body exceeds the limit of {limit} bytes"),
        )
    }

    /// 415 `unsupported_media_type`.
    pub fn unsupported_media_type() -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "send Content-Type: application/json",
        )
    }

    /// 503 `store_unavailable` (or 500 `internal_error` for a store failure a retry will not
    /// fix); the detail goes to the log only.
    pub fn store(e: &callflow_masking::StoreError) -> Self {
        tracing::error!(error = %e, "API store operation failed");
        if e.is_unavailable() {
            Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "store_unavailable",
                "the store is unavailable; try again",
            )
        } else {
            Self::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal_error",
                "the store failed",
            )
        }
    }

    /// The status.
    #[cfg(test)]
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The response.
    pub fn into_response(self) -> Response {
        let body = serde_json::to_vec(&ErrorBody {
            error: *self.fields,
        })
        .expect("serializes");
        let mut r = json(self.status, body);
        if let Some(allow) = self.allow {
            r.headers_mut()
                .insert(header::ALLOW, HeaderValue::from_static(allow));
        }
        if self.status == StatusCode::UNAUTHORIZED {
            r.headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        r
    }
}

/// A JSON response.
pub fn json(status: StatusCode, body: impl Into<Bytes>) -> Response {
    let mut r = http::Response::new(body.into());
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    r
}
