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
//! reading the body. The peer address is `HttpRequest::peer_addr`; request extensions reach the
//! handler's `Context` through a [`ContextExtensions`]
//! (see [`handle`]). actix-web's header and
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
use actix_web::{HttpMessage, HttpRequest, HttpResponse, Resource, web};
use callflow::adapter::{self, ContextExtensions, PeerAddr};
use callflow::reexports::http;
use callflow::{Webhook, WebhookResponse};

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
/// The contract of the core's `Service` ([`callflow::adapter`]), with actix-web's types
/// mapped onto it:
///
/// - the peer is `HttpRequest::peer_addr`;
/// - the body must arrive within the [`BodyReadTimeout`] in the connection data (set by
///   [`serve`]) or the app data (default [`DEFAULT_BODY_READ_TIMEOUT`]), or the answer is the
///   core's `408 request_timeout` and the connection is closed;
/// - actix-web's request extensions are not `http::Extensions` and cannot be copied as a
///   whole: the handler's `Context::extensions` get the values of a
///   [`ContextExtensions`] in them (insert one from a
///   middleware, `req.extensions_mut().insert(ContextExtensions(..))`), plus the
///   [`PeerAddr`] and the [`BodyReadTimeout`].
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
    let mut extensions = req
        .extensions()
        .get::<ContextExtensions>()
        .map(|values| values.0.clone())
        .unwrap_or_default();
    if let Some(peer) = req.peer_addr() {
        extensions.insert(PeerAddr(peer));
    }
    if let Some(timeout) = req
        .conn_data::<BodyReadTimeout>()
        .or_else(|| req.app_data::<BodyReadTimeout>())
    {
        extensions.insert(*timeout);
    }
    let response = adapter::handle(&webhook, method, headers, extensions, payload, |e| {
        read_error(&webhook, &e)
    })
    .await;
    // An answer with the body unread closes the connection.
    if response.closes() {
        close_after_answer(&req);
    }
    into_response(response)
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
