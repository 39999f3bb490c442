//! The bindings API under `/v1`: create, read, list, delete bindings and list the recorded
//! calls, for a backend in any language.
//!
//! Framework-independent: [`Api::handle`] takes an `http::Request<Bytes>` and answers an
//! `http::Response<Bytes>`, and each framework's server (see `server.rs`) only hands the
//! request over and sends the answer back, as the webhook's adapters do. The logic, the
//! limits and the errors are written once, so axum, actix-web and warp answer the same bytes.
//!
//! The OpenAPI 3.1 document is generated from this module ([`ApiDoc`], utoipa) and served at
//! `GET /v1/openapi.json`.

mod create;
mod error;
mod idempotency;
pub mod keys;
mod list;
pub mod model;

use std::sync::Arc;

use bytes::Bytes;
use callflow_masking::{BindingStore, StoreErrorKind};
use http::{Method, StatusCode, header};
use utoipa::OpenApi;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};

pub use error::ApiError;
use error::json;
pub use keys::ApiKeys;
use model::{BindingOut, BindingPage, CallPage, ErrorBody};

use crate::store::Store;

/// A response of the API.
pub type Response = http::Response<Bytes>;

/// The largest request body accepted (bigger: 413).
pub const BODY_LIMIT: usize = 16 * 1024;

/// The `/v1` API over a store. Cheap to clone.
#[derive(Clone)]
pub struct Api {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<Store>,
    keys: ApiKeys,
    idempotency: idempotency::Idempotency,
    metrics: Option<crate::metrics::Metrics>,
}

/// The route a request matched, for metrics and logs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Route {
    /// `/v1/bindings`.
    Bindings,
    /// `/v1/bindings/{id}`.
    Binding,
    /// `/v1/calls`.
    Calls,
    /// `/v1/openapi.json`.
    OpenApi,
    /// Anything else under `/v1`.
    Unknown,
}

impl Route {
    /// The route as a metrics label.
    pub fn label(self) -> &'static str {
        match self {
            Route::Bindings => "/v1/bindings",
            Route::Binding => "/v1/bindings/{id}",
            Route::Calls => "/v1/calls",
            Route::OpenApi => "/v1/openapi.json",
            Route::Unknown => "other",
        }
    }
}

impl Api {
    /// The API over `store`, accepting `keys` (none: the API is off).
    pub fn new(store: Arc<Store>, keys: ApiKeys) -> Self {
        Self::with_metrics(store, keys, None)
    }

    /// [`new`](Self::new), counting requests by route and status into `metrics`.
    pub fn with_metrics(
        store: Arc<Store>,
        keys: ApiKeys,
        metrics: Option<crate::metrics::Metrics>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                store,
                keys,
                idempotency: Default::default(),
                metrics,
            }),
        }
    }

    /// Whether the API is on (a key is configured).
    pub fn enabled(&self) -> bool {
        self.inner.keys.enabled()
    }

    /// The route `path` names.
    pub fn route(path: &str) -> Route {
        let rest = path.strip_prefix("/v1/").unwrap_or("");
        match rest.split('/').collect::<Vec<_>>().as_slice() {
            ["bindings"] => Route::Bindings,
            ["bindings", id] if !id.is_empty() => Route::Binding,
            ["calls"] => Route::Calls,
            ["openapi.json"] => Route::OpenApi,
            _ => Route::Unknown,
        }
    }

    /// Answers a request under `/v1` (its body already read, at most [`BODY_LIMIT`] + 1
    /// bytes: more is answered 413).
    pub async fn handle(&self, req: http::Request<Bytes>) -> Response {
        let route = Self::route(req.uri().path());
        let method = req.method().clone();
        let response = match self.answer(req).await {
            Ok(r) => r,
            Err(e) => e.into_response(),
        };
        if let Some(m) = &self.inner.metrics {
            m.api_request(route.label(), &method, response.status().as_u16());
        }
        tracing::info!(
            route = route.label(),
            %method,
            status = response.status().as_u16(),
            "API request"
        );
        response
    }

    async fn answer(&self, req: http::Request<Bytes>) -> Result<Response, ApiError> {
        if !self.enabled() {
            return Err(ApiError::not_found(
                "the API is off: no API key is configured",
            ));
        }
        let path = req.uri().path().to_owned();
        let route = Self::route(&path);
        if route == Route::Unknown {
            return Err(ApiError::not_found("no such route"));
        }
        if route == Route::OpenApi {
            return match *req.method() {
                Method::GET | Method::HEAD => Ok(json(StatusCode::OK, openapi_json())),
                _ => Err(ApiError::method_not_allowed("GET")),
            };
        }
        let auth = req
            .headers()
            .get(header::AUTHORIZATION)
            .map(|v| v.as_bytes());
        if !self.inner.keys.accepts(auth) {
            return Err(ApiError::unauthorized());
        }
        let method = req.method().clone();
        match (route, method) {
            (Route::Bindings, Method::POST) => self.create(req).await,
            (Route::Bindings, Method::GET) => self.list(req.uri().query()).await,
            (Route::Bindings, _) => Err(ApiError::method_not_allowed("GET, POST")),
            (Route::Binding, m) => {
                let id = path.rsplit('/').next().unwrap_or_default().to_owned();
                match m {
                    Method::GET => self.get(&id).await,
                    Method::DELETE => self.delete(&id).await,
                    _ => Err(ApiError::method_not_allowed("GET, DELETE")),
                }
            }
            (Route::Calls, Method::GET) => self.calls(req.uri().query()).await,
            (Route::Calls, _) => Err(ApiError::method_not_allowed("GET")),
            (Route::OpenApi | Route::Unknown, _) => unreachable!("answered above"),
        }
    }

    async fn create(&self, req: http::Request<Bytes>) -> Result<Response, ApiError> {
        if req.body().len() > BODY_LIMIT {
            return Err(ApiError::too_large(BODY_LIMIT));
        }
        if !is_json(req.headers()) {
            return Err(ApiError::unsupported_media_type());
        }
        let key = match req.headers().get("idempotency-key") {
            None => None,
            Some(v) => match v.to_str() {
                Ok(k) if !k.is_empty() && k.len() <= idempotency::MAX_KEY_LEN => Some(k.to_owned()),
                _ => {
                    return Err(ApiError::new(
                        StatusCode::BAD_REQUEST,
                        "invalid_idempotency_key",
                        format!(
                            "Idempotency-Key must be 1 to {} visible ASCII characters",
                            idempotency::MAX_KEY_LEN
                        ),
                    ));
                }
            },
        };
        let body = req.into_body();
        let Some(key) = key else {
            return Ok(create_binding(&self.inner.store, &body).await);
        };
        let run = self
            .inner
            .idempotency
            .run(&key, &body, async {
                let r = create_binding(&self.inner.store, &body).await;
                let binding_id = (r.status() == StatusCode::CREATED)
                    .then(|| serde_json::from_slice::<serde_json::Value>(r.body()).ok())
                    .flatten()
                    .and_then(|b| b["id"].as_str().map(str::to_owned));
                idempotency::Stored {
                    status: r.status(),
                    body: r.into_body(),
                    binding_id,
                }
            })
            .await;
        match run {
            Ok(stored) | Err(idempotency::Seen::Repeat(stored)) => {
                Ok(json(stored.status, stored.body))
            }
            Err(idempotency::Seen::Mismatch) => Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency_key_reused",
                "this Idempotency-Key was used with another request body",
            )),
        }
    }

    async fn get(&self, id: &str) -> Result<Response, ApiError> {
        get_binding(&self.inner.store, id).await
    }

    async fn delete(&self, id: &str) -> Result<Response, ApiError> {
        let r = delete_binding(&self.inner.store, id).await?;
        self.inner.idempotency.forget_binding(id).await;
        Ok(r)
    }

    async fn list(&self, query: Option<&str>) -> Result<Response, ApiError> {
        list_bindings(&self.inner.store, query).await
    }

    async fn calls(&self, query: Option<&str>) -> Result<Response, ApiError> {
        list_calls(&self.inner.store, query).await
    }
}

/// Whether the request says its body is JSON (`application/json` or `application/*+json`).
fn is_json(headers: &http::HeaderMap) -> bool {
    let Some(ct) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Create a binding.
///
/// With an `Idempotency-Key`, a repeat of the same request answers the first result (for
/// 24 h, or until that binding is deleted); the same key with another body is a 422.
#[utoipa::path(
    post,
    path = "/v1/bindings",
    operation_id = "createBinding",
    tag = "bindings",
    request_body(content = model::CreateBindingDoc, content_type = "application/json"),
    params(("Idempotency-Key" = Option<String>, Header, max_length = 255, min_length = 1, pattern = "^[!-~]{1,255}$",
        description = "Makes a retried create safe: the same key and body answer the first result.")),
    responses(
        (status = 201, description = "Created", body = BindingOut),
        (status = 400, description = "Malformed JSON or Idempotency-Key", body = ErrorBody),
        (status = 401, description = "No or wrong API key", body = ErrorBody),
        (status = 409, description = "A party already has an active binding on this virtual number", body = ErrorBody),
        (status = 413, description = "Body over 16 KiB", body = ErrorBody),
        (status = 415, description = "Not JSON", body = ErrorBody),
        (status = 422, description = "Invalid fields (each named), or an Idempotency-Key reused with another body", body = ErrorBody),
        (status = 503, description = "The store is unavailable", body = ErrorBody),
    ),
    security(("apiKey" = []))
)]
async fn create_binding(store: &Store, body: &[u8]) -> Response {
    let new = match create::parse(body) {
        Ok(n) => n,
        Err(e) => return e.into_response(),
    };
    match store.create(new).await {
        Ok(b) => json(
            StatusCode::CREATED,
            serde_json::to_vec(&BindingOut::new(&b)).expect("serializes"),
        ),
        Err(e) if e.kind() == StoreErrorKind::Refused => match e.binding() {
            Some(callflow_masking::BindingError::Ambiguous { existing, .. }) => {
                ApiError::conflict(e.to_string(), existing).into_response()
            }
            Some(callflow_masking::BindingError::ExpiryInPast) => {
                ApiError::invalid_fields(vec![model::FieldError {
                    path: "$.expiresAt".into(),
                    message: "must be in the future".into(),
                }])
                .into_response()
            }
            _ => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_fields",
                e.to_string(),
            )
            .into_response(),
        },
        Err(e) => ApiError::store(&e).into_response(),
    }
}

/// Get a binding.
#[utoipa::path(
    get,
    path = "/v1/bindings/{id}",
    operation_id = "getBinding",
    tag = "bindings",
    params(("id" = String, Path, description = "The binding's id")),
    responses(
        (status = 200, description = "The binding", body = BindingOut),
        (status = 401, description = "No or wrong API key", body = ErrorBody),
        (status = 404, description = "No binding with this id", body = ErrorBody),
        (status = 503, description = "The store is unavailable", body = ErrorBody),
    ),
    security(("apiKey" = []))
)]
async fn get_binding(store: &Store, id: &str) -> Result<Response, ApiError> {
    match store.get(id).await.map_err(|e| ApiError::store(&e))? {
        Some(b) => Ok(json(
            StatusCode::OK,
            serde_json::to_vec(&BindingOut::new(&b)).expect("serializes"),
        )),
        None => Err(ApiError::not_found("no binding with this id")),
    }
}

/// Delete a binding: calls through it are refused from now on.
#[utoipa::path(
    delete,
    path = "/v1/bindings/{id}",
    operation_id = "deleteBinding",
    tag = "bindings",
    params(("id" = String, Path, description = "The binding's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No or wrong API key", body = ErrorBody),
        (status = 404, description = "No binding with this id", body = ErrorBody),
        (status = 503, description = "The store is unavailable", body = ErrorBody),
    ),
    security(("apiKey" = []))
)]
async fn delete_binding(store: &Store, id: &str) -> Result<Response, ApiError> {
    if store.remove(id).await.map_err(|e| ApiError::store(&e))? {
        let mut r = http::Response::new(Bytes::new());
        *r.status_mut() = StatusCode::NO_CONTENT;
        Ok(r)
    } else {
        Err(ApiError::not_found("no binding with this id"))
    }
}

/// List bindings, oldest first, a page at a time.
#[utoipa::path(
    get,
    path = "/v1/bindings",
    operation_id = "listBindings",
    tag = "bindings",
    params(model::BindingQueryDoc),
    responses(
        (status = 200, description = "A page of bindings", body = BindingPage),
        (status = 400, description = "An invalid query parameter", body = ErrorBody),
        (status = 401, description = "No or wrong API key", body = ErrorBody),
        (status = 503, description = "The store is unavailable", body = ErrorBody),
    ),
    security(("apiKey" = []))
)]
async fn list_bindings(store: &Store, query: Option<&str>) -> Result<Response, ApiError> {
    let q = list::BindingQuery::parse(query)?;
    let fetched = store
        .list_page(&q.filter, q.fetch())
        .await
        .map_err(|e| ApiError::store(&e))?;
    let page = q.page(fetched);
    Ok(json(
        StatusCode::OK,
        serde_json::to_vec(&page).expect("serializes"),
    ))
}

/// List recorded calls, newest first, a page at a time.
#[utoipa::path(
    get,
    path = "/v1/calls",
    operation_id = "listCalls",
    tag = "calls",
    params(model::CallQueryDoc),
    responses(
        (status = 200, description = "A page of calls", body = CallPage),
        (status = 400, description = "An invalid query parameter", body = ErrorBody),
        (status = 401, description = "No or wrong API key", body = ErrorBody),
        (status = 503, description = "The store is unavailable", body = ErrorBody),
    ),
    security(("apiKey" = []))
)]
async fn list_calls(store: &Store, query: Option<&str>) -> Result<Response, ApiError> {
    let q = list::CallQuery::parse(query)?;
    let all = store
        .calls(list::CALLS_SCANNED)
        .await
        .map_err(|e| ApiError::store(&e))?;
    Ok(json(
        StatusCode::OK,
        serde_json::to_vec(&q.page(all)).expect("serializes"),
    ))
}

/// The OpenAPI document of the API.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "number-masking bindings API",
        description = "Bind two parties to an 8x8 virtual number, and see the calls made through it.",
        license(name = "MIT OR Apache-2.0", identifier = "MIT OR Apache-2.0"),
    ),
    paths(create_binding, get_binding, delete_binding, list_bindings, list_calls),
    components(schemas(model::CreateBindingDoc, BindingOut, BindingPage, CallPage, ErrorBody)),
    modifiers(&BearerAuth),
    tags(
        (name = "bindings", description = "Who may call whom through which virtual number"),
        (name = "calls", description = "The recorded outcome of each call"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "apiKey",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some(
                        "An API key from NUMBER_MASKING_API_KEYS or --api-keys-file",
                    ))
                    .build(),
            ),
        );
    }
}

/// What the derive cannot say: the create body takes no other field, two different parties,
/// and `ttl` or `expiresAt` but not both; the `Idempotency-Key` header is a plain string.
fn refine(doc: &mut serde_json::Value) {
    let create = &mut doc["components"]["schemas"]["CreateBinding"];
    create["additionalProperties"] = false.into();
    create["not"] = serde_json::json!({"required": ["ttl", "expiresAt"]});
    create["properties"]["parties"]["uniqueItems"] = true.into();
    if let Some(params) = doc["paths"]["/v1/bindings"]["post"]["parameters"].as_array_mut() {
        for p in params {
            if p["name"] == "Idempotency-Key" {
                p["schema"]["type"] = "string".into();
            }
        }
    }
}

/// The OpenAPI document as served (pretty JSON, a final newline).
pub fn openapi_json() -> String {
    let mut doc = ApiDoc::openapi();
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    let mut doc = serde_json::to_value(doc).expect("the OpenAPI document serializes");
    refine(&mut doc);
    let mut s = serde_json::to_string_pretty(&doc).expect("serializes");
    s.push('\n');
    s
}
