//! Every route but the webhook, written once for the three frameworks: `GET /healthz`,
//! `GET /readyz`, `GET /metrics` and the `/v1` API. Each framework's server reads the request body (at most
//! [`api::BODY_LIMIT`] + 1 bytes) and hands it to [`Routes::handle`]; the webhook keeps its
//! own adapter (`callflow-axum`, `callflow-actix-web`, `callflow-warp`).

use bytes::Bytes;
use http::{HeaderValue, StatusCode, header};

use crate::api::{self, Api, ApiError};
use crate::health::Health;

/// The routes besides the webhook. Cheap to clone.
#[derive(Clone)]
pub struct Routes {
    api: Api,
    health: Health,
    metrics: Option<(crate::metrics::Metrics, std::sync::Arc<crate::store::Store>)>,
    dashboard: crate::dashboard::Dashboard,
}

impl Routes {
    /// The API and the health endpoint.
    pub fn new(api: Api, health: Health) -> Self {
        Self {
            dashboard: crate::dashboard::Dashboard::new(api.clone()),
            api,
            health,
            metrics: None,
        }
    }

    /// Serves `metrics` at `GET /metrics` (the active bindings counted in `store`).
    pub fn metrics(
        mut self,
        metrics: crate::metrics::Metrics,
        store: std::sync::Arc<crate::store::Store>,
    ) -> Self {
        self.metrics = Some((metrics, store));
        self
    }

    /// Answers one request whose body was read (the body may be cut at
    /// [`api::BODY_LIMIT`] + 1 bytes: the API answers 413 then).
    pub async fn handle(&self, req: http::Request<Bytes>) -> http::Response<Bytes> {
        let path = req.uri().path();
        if path == "/healthz" {
            let (status, body) = self.health.report().await;
            let mut r = http::Response::new(Bytes::from(body));
            *r.status_mut() =
                StatusCode::from_u16(status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            return r;
        }
        if path == "/readyz" {
            let (status, body) = self.health.readiness().await;
            let mut r = http::Response::new(Bytes::from(body));
            *r.status_mut() = status;
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            return r;
        }
        if path == "/metrics"
            && let Some((metrics, store)) = &self.metrics
        {
            if req.method() != http::Method::GET {
                return ApiError::method_not_allowed("GET").into_response();
            }
            let mut r = http::Response::new(Bytes::from(metrics.render(store).await));
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static(
                    "application/openmetrics-text; version=1.0.0; charset=utf-8",
                ),
            );
            return r;
        }
        if path == "/v1" || path.starts_with("/v1/") {
            return self.api.handle(req).await;
        }
        if crate::dashboard::Dashboard::owns(path) {
            return self.dashboard.handle(req).await;
        }
        ApiError::not_found("no such route").into_response()
    }
}

/// The most a server reads of a body before handing the request over.
pub const READ_LIMIT: usize = api::BODY_LIMIT + 1;
