//! Each adapter mounted into an existing service: an app with its own state and routes
//! (`/health`, a JSON API) gets the webhook under `/webhooks/voice`; the app's routes, the
//! webhook and the app's 404 must all keep working.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use callflow::testing::conformance::{self, AUTH_TOKEN};
use callflow::testing::fixtures;
use integration_tests::{http_client, serve_actix, serve_axum, serve_warp};
use serde_json::{Value, json};
use warp::Filter;

/// The app's own state: a name and a request counter.
#[derive(Clone)]
struct AppState {
    name: &'static str,
    hits: Arc<AtomicUsize>,
}

impl AppState {
    fn new() -> Self {
        Self {
            name: "existing-app",
            hits: Arc::new(AtomicUsize::new(0)),
        }
    }

    fn items(&self) -> Value {
        let hits = self.hits.fetch_add(1, Ordering::Relaxed) + 1;
        json!({ "app": self.name, "items": ["a", "b"], "hits": hits })
    }
}

/// Checks the app at `addr`: its routes, the webhook at `/webhooks/voice` (and at
/// `extra_webhook_paths`, mounted in the adapter's other ways), and its 404.
async fn check_app(addr: SocketAddr, extra_webhook_paths: &[&str], not_found_body: &str) {
    let client = http_client();
    let url = |path: &str| format!("http://{addr}{path}");

    let health = client.get(url("/health")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    assert_eq!(health.text().await.unwrap(), "ok");

    for expected_hits in [1, 2] {
        let items = client.get(url("/api/items")).send().await.unwrap();
        assert_eq!(items.status(), 200);
        let items: Value = serde_json::from_slice(&items.bytes().await.unwrap()).unwrap();
        assert_eq!(
            items,
            json!({ "app": "existing-app", "items": ["a", "b"], "hits": expected_hits })
        );
    }

    // The app's own route keeps its own method handling.
    let wrong_method = client.delete(url("/api/items")).send().await.unwrap();
    assert_eq!(wrong_method.status(), 405, "the app's 405 stays the app's");

    let mut webhook_paths = vec!["/webhooks/voice"];
    webhook_paths.extend(extra_webhook_paths);
    for path in webhook_paths {
        let reply = client
            .post(url(path))
            .header("content-type", "application/json")
            .header("authorization", AUTH_TOKEN)
            .body(fixtures::get("vca_nm_inbound"))
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), 200, "POST {path}");
        assert_eq!(
            reply.bytes().await.unwrap(),
            conformance::reply().to_bytes(),
            "POST {path}"
        );

        let get = client.get(url(path)).send().await.unwrap();
        assert_eq!(get.status(), 405, "GET {path}");
        assert_eq!(get.headers()["allow"], "POST");
        assert_eq!(get.headers()["content-type"], "application/json");
    }

    for path in ["/nope", "/webhooks", "/webhooks/voice/extra", "/api"] {
        let missing = client.post(url(path)).send().await.unwrap();
        assert_eq!(missing.status(), 404, "{path}: the app's 404 stays a 404");
        assert_eq!(missing.text().await.unwrap(), not_found_body, "{path}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axum_app_with_state_and_routes() {
    use axum::extract::{FromRef, State};
    use axum::routing::{any, get};
    use axum::{Json, Router};

    #[derive(Clone)]
    struct FullState {
        app: AppState,
        webhook: callflow::Webhook,
    }
    impl FromRef<FullState> for callflow::Webhook {
        fn from_ref(state: &FullState) -> Self {
            state.webhook.clone()
        }
    }

    let state = FullState {
        app: AppState::new(),
        webhook: conformance::webhook(),
    };
    let app = Router::new()
        .route("/health", get(|| async { "ok" }))
        .route(
            "/api/items",
            get(|State(s): State<FullState>| async move { Json(s.app.items()) }),
        )
        // `router::<S>` is generic over the app's state ...
        .nest(
            "/webhooks/voice",
            callflow_axum::router(conformance::webhook()),
        )
        // `route` carries its own state ...
        .route("/route/voice", callflow_axum::route(conformance::webhook()))
        // ... and `handle` takes the webhook from it through `FromRef`.
        .route("/custom/voice", any(callflow_axum::handle))
        .fallback(|| async { (axum::http::StatusCode::NOT_FOUND, "app: not found") })
        .with_state(state);
    let addr = serve_axum(app).await;
    check_app(addr, &["/custom/voice", "/route/voice"], "app: not found").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actix_web_app_with_state_and_routes() {
    use actix_web::{HttpResponse, web};

    let state = web::Data::new(AppState::new());
    let addr = serve_actix(move |cfg| {
        cfg.app_data(state.clone())
            .app_data(web::Data::new(conformance::webhook()))
            .route("/health", web::get().to(|| async { "ok" }))
            .service(
                web::resource("/api/items").get(|s: web::Data<AppState>| async move {
                    HttpResponse::Ok().json(s.items())
                }),
            )
            // `handle` takes the app-level `web::Data<Webhook>`.
            .route("/custom/voice", web::route().to(callflow_actix_web::handle))
            .default_service(web::to(|| async {
                HttpResponse::NotFound().body("app: not found")
            }));
        callflow_actix_web::configure(cfg, "/webhooks/voice", conformance::webhook());
    });
    check_app(addr, &["/custom/voice"], "app: not found").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn warp_app_with_state_and_routes() {
    let state = AppState::new();
    let with_state = warp::any().map(move || state.clone());
    let health = warp::path!("health").and(warp::get()).map(|| "ok");
    let items = warp::path!("api" / "items")
        .and(warp::get())
        .and(with_state)
        .map(|s: AppState| warp::reply::json(&s.items()));
    let voice =
        warp::path!("webhooks" / "voice").and(callflow_warp::filter(conformance::webhook()));
    let webhook = conformance::webhook();
    let custom = warp::path!("custom" / "voice")
        .and(warp::method())
        .and(warp::header::headers_cloned())
        .and(callflow_warp::extensions())
        .and(warp::body::stream())
        .then(move |method, headers, extensions, body| {
            callflow_warp::handle(webhook.clone(), method, headers, extensions, body)
        });
    // The webhook goes first, so the app's routes are reached only through its rejection:
    // their statuses (the 405 of `DELETE /api/items`, the 404s) must survive it.
    let app =
        voice
            .or(health)
            .or(items)
            .or(custom)
            .recover(|rejection: warp::Rejection| async move {
                if rejection.is_not_found() {
                    Ok(warp::reply::with_status(
                        "app: not found",
                        warp::http::StatusCode::NOT_FOUND,
                    ))
                } else {
                    Err(rejection)
                }
            });
    let addr = serve_warp(app).await;
    check_app(addr, &["/custom/voice"], "app: not found").await;
}

/// The app's filters in front of the webhook's, and warp's own 404 (no `recover`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn warp_webhook_after_app_routes() {
    let health = warp::path!("health").and(warp::get()).map(|| "ok");
    let state = AppState::new();
    let items = warp::path!("api" / "items")
        .and(warp::get())
        .map(move || warp::reply::json(&state.items()));
    let voice =
        warp::path!("webhooks" / "voice").and(callflow_warp::filter(conformance::webhook()));
    let addr = serve_warp(health.or(items).or(voice)).await;
    check_app(addr, &[], "").await;
}
