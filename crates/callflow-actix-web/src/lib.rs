//! # callflow-actix-web
//!
//! Serve a [`callflow`] 8x8 voice webhook from an [actix-web](https://docs.rs/actix-web) 4
//! app. Implement [`CallHandler`](callflow::CallHandler) once, wrap it in a
//! [`Webhook`], and mount it into the app you already run.
//!
//! ## Mounting
//!
//! [`configure`] registers the webhook at a path, for `App::configure`; [`resource`] gives
//! the same as an `actix_web::Resource` to register yourself.
//!
//! ```no_run
//! use actix_web::{App, HttpServer, web};
//! use callflow_actix_web::callflow::{CallFlow, Webhook, handler_fn};
//!
//! #[actix_web::main]
//! async fn main() -> std::io::Result<()> {
//!     let webhook = Webhook::new(handler_fn(|_event, _cx| async {
//!         Ok(CallFlow::builder().say("Hello!").hangup())
//!     }));
//!     HttpServer::new(move || {
//!         App::new()
//!             .route("/health", web::get().to(|| async { "ok" }))
//!             .configure(|cfg| callflow_actix_web::configure(cfg, "/webhooks/voice", webhook.clone()))
//!     })
//!     .bind("127.0.0.1:3000")?
//!     .run()
//!     .await
//! }
//! ```
//!
//! ## Serving
//!
//! [`serve()`] runs the app the way a webhook that routes phone calls must be run: a request
//! head timeout and a body deadline (10 s each; a slow client gets the core's `408` or a
//! close), a connection cap, and a graceful shutdown on Ctrl-C or SIGTERM that lets in-flight
//! webhooks finish within a bounded grace period (10 s). [`ServeConfig`] sets them;
//! [`serve_with_shutdown`] stops on a future of your own. See [`serve()`].
//!
//! ## Your own route
//!
//! [`handle`] is the same thing as a plain actix-web handler, for a route you build
//! yourself; it takes the [`Webhook`] from `web::Data<Webhook>`:
//!
//! ```
//! use actix_web::{App, web};
//! # use callflow_actix_web::callflow::{CallFlow, Webhook, handler_fn};
//! # let webhook = Webhook::new(handler_fn(|_e, _c| async { Ok(CallFlow::builder().hangup()) }));
//! let app = App::new()
//!     .app_data(web::Data::new(webhook))
//!     .route("/8x8/calls", web::route().to(callflow_actix_web::handle));
//! # let _ = app;
//! ```
//!
//! ## Behaviour
//!
//! Every decision (methods, auth, media type, body limit, parse errors, handler errors,
//! panics, deadline) is [`Webhook::dispatch`]'s, so this adapter answers byte for byte like
//! the axum and warp ones (checked by the workspace's conformance suite). The body is read as
//! a raw stream up to [`Webhook::max_body_bytes`] (actix-web's `PayloadConfig` and `Json`
//! extractor are not involved); a request refused on its head alone is answered without
//! reading the body. The peer address is `HttpRequest::peer_addr`. actix-web's header and
//! status types are those of `http` 0.2, so they are converted by name and value.
//!
//! ## Deviations
//!
//! With `Expect: 100-continue`, actix-web answers `100 Continue` itself before any handler
//! runs; the final answer to a refused request is still the core's (same status and body as
//! the other adapters), and the connection is closed. Routing is actix-web's:
//! `/webhooks/voice/` (trailing slash) is not the webhook.

pub use callflow;

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, Resource, web};
use callflow::reexports::http;
use callflow::{BodyReadError, Webhook, WebhookRequest, WebhookResponse};

mod serve;
mod shedding;
mod socket;

pub use serve::{
    BodyReadTimeout, DEFAULT_BODY_READ_TIMEOUT, DEFAULT_GRACE_PERIOD, DEFAULT_HEADER_READ_TIMEOUT,
    DEFAULT_MAX_CONNECTIONS, ServeConfig, serve, serve_with_shutdown, shutdown_signal,
};

/// Registers `webhook` at `path` for every method (non-`POST` gets the core's 405); use it
/// with `App::configure` or `Scope::configure`.
pub fn configure(cfg: &mut web::ServiceConfig, path: &str, webhook: Webhook) {
    cfg.service(resource(path, webhook));
}

/// A resource that serves `webhook` at `path` for every method, to register with
/// `App::service` or `Scope::service`. It carries its own `web::Data<Webhook>`.
pub fn resource(path: &str, webhook: Webhook) -> Resource {
    web::resource(path)
        .app_data(web::Data::new(webhook))
        .route(web::route().to(handle))
}

/// Answers one request with the `web::Data<Webhook>` in reach: an actix-web handler for
/// routes you build yourself.
///
/// The body must arrive within the [`BodyReadTimeout`] in the connection data (set by
/// [`serve`]) or the app data (default [`DEFAULT_BODY_READ_TIMEOUT`]), or the answer is the
/// core's `408 request_timeout` and the connection is closed.
pub async fn handle(
    webhook: web::Data<Webhook>,
    req: HttpRequest,
    payload: web::Payload,
) -> HttpResponse {
    let method = http::Method::from_bytes(req.method().as_str().as_bytes()).unwrap_or_default();
    let mut headers = http::HeaderMap::with_capacity(req.headers().len());
    for (name, value) in req.headers() {
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(name.as_str().as_bytes()),
            http::HeaderValue::from_bytes(value.as_bytes()),
        ) {
            headers.append(name, value);
        }
    }
    let peer = req.peer_addr();
    if let Some(refusal) = webhook.check_head(&method, &headers, peer) {
        // A refusal with the body unread closes the connection.
        if refusal.closes() {
            close_after_answer(&req);
        }
        return into_response(refusal);
    }
    let deadline = req
        .conn_data::<BodyReadTimeout>()
        .or_else(|| req.app_data::<BodyReadTimeout>())
        .map_or(DEFAULT_BODY_READ_TIMEOUT, |t| t.0);
    let read = webhook.read_body(payload, deadline, |e| read_error(&webhook, &e));
    let body = match read.await {
        Ok(body) => body,
        Err(BodyReadError::Refused(refusal)) => {
            close_after_answer(&req);
            return into_response(refusal.closing());
        }
        Err(BodyReadError::TimedOut) => {
            close_after_answer(&req);
            return into_response(WebhookResponse::request_timeout().closing());
        }
    };
    let request = WebhookRequest::new(method, headers, body).with_peer(peer);
    into_response(webhook.dispatch(request).await)
}

/// Makes sure the connection of a request answered with its body unread ends right after
/// the answer, whatever the client still sends: actix-web alone would drain an unread
/// chunked body for as long as it comes, and read a `Content-Length` one for a second at
/// full speed. Without the connection's socket in its connection data (an `HttpServer` of
/// your own), the forced `Connection: close` is all there is.
fn close_after_answer(req: &HttpRequest) {
    if let Some(socket) = req.conn_data::<std::rc::Rc<socket::ConnSocket>>() {
        socket.close_after_answer();
    }
}

/// A body that failed to arrive: actix-web's own limit (re-rendered as the core's 413) or a
/// broken upload.
fn read_error(webhook: &Webhook, e: &actix_web::error::PayloadError) -> WebhookResponse {
    match e {
        actix_web::error::PayloadError::Overflow => {
            WebhookResponse::payload_too_large(webhook.max_body_bytes())
        }
        _ => WebhookResponse::body_unreadable(),
    }
}

/// The core's response in actix-web's types; one that [`closes`](WebhookResponse::closes)
/// ends the connection after it (actix-web writes its own `Connection` header).
fn into_response(response: WebhookResponse) -> HttpResponse {
    let close = response.closes();
    let (status, headers, body) = response.into_parts();
    let status = StatusCode::from_u16(status.as_u16()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut res = HttpResponse::build(status);
    for (name, value) in &headers {
        if name == http::header::CONTENT_TYPE && value == "application/json" {
            // Every response the core sends: no parsing of the name and value.
            res.insert_header((
                actix_web::http::header::CONTENT_TYPE,
                actix_web::http::header::HeaderValue::from_static("application/json"),
            ));
        } else {
            res.append_header((name.as_str(), value.as_bytes()));
        }
    }
    if close {
        res.force_close();
    }
    res.body(body)
}
