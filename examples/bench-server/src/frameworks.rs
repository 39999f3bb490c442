//! One server per framework, each mounting the same routes (see the crate docs).
//!
//! The `/bare` routes are what a careful hand-written route looks like in each framework:
//! the framework's own body extractor, [`bare_reply`], and a response built directly. The
//! `/const` routes read the body the same way and answer the constant reply of the floor:
//! what the framework costs without any JSON work.

use std::convert::Infallible;
use std::io;
use std::net::TcpListener;
use std::sync::Arc;

use bytes::Bytes;

use crate::{App, Noop, bare_reply};

/// axum 0.8 on `axum::serve`: the adapters routed with `callflow_axum::route` (as the README
/// shows), and once more nested with `callflow_axum::router` (`/adapter-nest`).
pub(crate) async fn axum(listener: TcpListener, app: App) -> io::Result<()> {
    use axum::Router;
    use axum::routing::post;

    listener.set_nonblocking(true)?;
    let mut router = Router::new()
        .route("/adapter", callflow_axum::route(app.adapter.clone()))
        .nest("/adapter-nest", callflow_axum::router(app.adapter))
        .route("/adapter-idem", callflow_axum::route(app.adapter_idem))
        .route("/bare", post(axum_bare).with_state(app.noop))
        .route("/const", post(axum_const).with_state(app.floor_reply));
    if let Some(masking) = app.masking {
        router = router.route("/masking", callflow_axum::route(masking));
    }
    axum::serve(tokio::net::TcpListener::from_std(listener)?, router).await
}

async fn axum_bare(
    axum::extract::State(handler): axum::extract::State<Arc<Noop>>,
    body: Bytes,
) -> axum::response::Response {
    use axum::http::{HeaderValue, StatusCode, header};

    let (status, reply) = bare_reply(&*handler, &body).await;
    let mut res = axum::response::Response::new(axum::body::Body::from(reply));
    *res.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    res
}

async fn axum_const(
    axum::extract::State(reply): axum::extract::State<Bytes>,
    _body: Bytes,
) -> axum::response::Response {
    let mut res = axum::response::Response::new(axum::body::Body::from(reply));
    res.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("application/json"),
    );
    res
}

/// actix-web 4 with one worker: the adapters registered with `callflow_actix_web::configure`.
pub(crate) async fn actix_web(listener: TcpListener, app: App) -> io::Result<()> {
    use actix_web::{HttpServer, web};

    HttpServer::new(move || {
        let app = app.clone();
        let mut service = actix_web::App::new()
            .app_data(web::Data::<Noop>::from(app.noop))
            .app_data(web::Data::new(app.floor_reply))
            .route("/bare", web::post().to(actix_bare))
            .route("/const", web::post().to(actix_const))
            .configure(|cfg| callflow_actix_web::configure(cfg, "/adapter", app.adapter))
            .configure(|cfg| callflow_actix_web::configure(cfg, "/adapter-idem", app.adapter_idem));
        if let Some(masking) = app.masking {
            service =
                service.configure(|cfg| callflow_actix_web::configure(cfg, "/masking", masking));
        }
        service
    })
    .workers(1)
    .listen(listener)?
    .run()
    .await
}

async fn actix_bare(handler: actix_web::web::Data<Noop>, body: Bytes) -> actix_web::HttpResponse {
    use actix_web::HttpResponse;
    use actix_web::http::header::{CONTENT_TYPE, HeaderValue};

    let (status, reply) = bare_reply(&**handler, &body).await;
    let status = actix_web::http::StatusCode::from_u16(status)
        .unwrap_or(actix_web::http::StatusCode::INTERNAL_SERVER_ERROR);
    HttpResponse::build(status)
        .insert_header((CONTENT_TYPE, HeaderValue::from_static("application/json")))
        .body(reply)
}

async fn actix_const(reply: actix_web::web::Data<Bytes>, _body: Bytes) -> actix_web::HttpResponse {
    use actix_web::http::header::{CONTENT_TYPE, HeaderValue};

    actix_web::HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, HeaderValue::from_static("application/json")))
        .body(reply.get_ref().clone())
}

/// warp 0.4: the adapters mounted with `callflow_warp::filter`. `/bare` is tried first, so
/// it is the adapter that pays warp's failed path matches.
pub(crate) async fn warp(listener: TcpListener, app: App) -> io::Result<()> {
    use warp::Filter;

    listener.set_nonblocking(true)?;
    let listener = tokio::net::TcpListener::from_std(listener)?;
    let noop = app.noop;
    let bare = warp::path!("bare")
        .and(warp::post())
        .and(warp::body::bytes())
        .then(move |body: Bytes| {
            let handler = noop.clone();
            async move { warp_bare(&handler, body).await }
        });
    let reply = app.floor_reply;
    let constant = warp::path!("const")
        .and(warp::post())
        .and(warp::body::bytes())
        .map(move |_body: Bytes| json_response(reply.clone()));
    let routes = bare
        .or(constant)
        .unify()
        .or(warp::path!("adapter").and(callflow_warp::filter(app.adapter)))
        .unify()
        .or(warp::path!("adapter-idem").and(callflow_warp::filter(app.adapter_idem)))
        .unify();
    match app.masking {
        None => warp::serve(routes).incoming(listener).run().await,
        Some(masking) => {
            let masking = warp::path!("masking").and(callflow_warp::filter(masking));
            let routes = routes.or(masking).unify();
            warp::serve(routes).incoming(listener).run().await;
        }
    }
    Ok(())
}

async fn warp_bare(handler: &Noop, body: Bytes) -> warp::reply::Response {
    let (status, reply) = bare_reply(handler, &body).await;
    let mut res = json_response(reply);
    *res.status_mut() = warp::http::StatusCode::from_u16(status)
        .unwrap_or(warp::http::StatusCode::INTERNAL_SERVER_ERROR);
    res
}

fn json_response(body: Bytes) -> warp::reply::Response {
    use warp::Reply;
    use warp::http::{HeaderValue, header};

    let mut res = warp::http::Response::new(body);
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    res.into_response()
}

/// The floor: hyper 1, HTTP/1, one task per connection; reads the whole body and answers
/// `reply` (the no-op handler's callflow bytes) on every path.
pub(crate) async fn hyper_floor(listener: TcpListener, reply: Bytes) -> io::Result<()> {
    use http_body_util::{BodyExt, Full};
    use hyper::body::Incoming;
    use hyper::header::{CONTENT_TYPE, HeaderValue};
    use hyper::server::conn::http1;
    use hyper::service::service_fn;
    use hyper::{Request, Response};
    use hyper_util::rt::TokioIo;

    listener.set_nonblocking(true)?;
    let listener = tokio::net::TcpListener::from_std(listener)?;
    loop {
        let (stream, _) = listener.accept().await?;
        let reply = reply.clone();
        tokio::spawn(async move {
            let service = service_fn(move |req: Request<Incoming>| {
                let reply = reply.clone();
                async move {
                    // Read the body like every other route does, then ignore it.
                    let _ = req.into_body().collect().await;
                    let mut res = Response::new(Full::new(reply));
                    res.headers_mut()
                        .insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
                    Ok::<_, Infallible>(res)
                }
            });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
