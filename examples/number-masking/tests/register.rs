//! `number-masking register`: the VCA and VSS webhooks created through the client, against a
//! local stand-in for 8x8's webhooks API that checks both requests, with the auth value
//! `serve` requires (from NUMBER_MASKING_AUTH_HEADERS or --auth-header-file, never argv).

use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::response::Response;
use callflow::testing;

mod common;
use common::{BIN, Server};

const KEY: &str = "sk_register_test_0123456789";
const WEBHOOKS: &str = r#"{"subAccountId":"acme_voice","count":1,"webhooks":[{"type":"VCA","url":"https://your.host/webhooks/voice","enabled":true,"httpAuthHeaderAvailable":true}],"statusCode":0,"statusMessage":"ok"}"#;

/// (method, path, authorization, body) of every request.
type Seen = Arc<Mutex<Vec<(String, String, String, serde_json::Value)>>>;

async fn record(State(seen): State<Seen>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let body = to_bytes(body, 1 << 20).await.unwrap_or_default();
    seen.lock().unwrap().push((
        parts.method.to_string(),
        parts.uri.path().to_owned(),
        parts
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned(),
        serde_json::from_slice(&body).unwrap_or(serde_json::Value::Null),
    ));
    Response::builder()
        .header("content-type", "application/json")
        .body(Body::from(WEBHOOKS))
        .unwrap()
}

/// A stand-in for 8x8's API on 127.0.0.1:0.
async fn api() -> (String, Seen) {
    let seen: Seen = Arc::default();
    let app = Router::new().fallback(record).with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, seen)
}

async fn register(
    api_url: &str,
    extra_env: &[(&str, &str)],
    args: &[&str],
) -> std::process::Output {
    let mut cmd = Command::new(BIN);
    cmd.env_remove("NUMBER_MASKING_AUTH_HEADERS")
        .env("CALLFLOW_API_KEY", KEY)
        .env("CALLFLOW_SUBACCOUNT", "acme_voice")
        .env("CALLFLOW_API_URL", api_url)
        .args(["register", "--url", "https://your.host"])
        .args(args);
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap()
}

fn assert_registered(seen: &Seen, auth: &str) {
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 2, "{seen:?}");
    for ((method, path, bearer, body), t) in seen.iter().zip(["VCA", "VSS"]) {
        assert_eq!(method, "POST");
        assert_eq!(path, "/api/v1/subaccounts/acme_voice/webhooks");
        assert_eq!(bearer, &format!("Bearer {KEY}"));
        assert_eq!(
            body,
            &serde_json::json!({"type": t, "url": "https://your.host/webhooks/voice", "httpAuthHeader": auth}),
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_creates_vca_and_vss_with_the_auth_value_serve_requires() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("auth");
    std::fs::write(&file, "Bearer s3cret-new\nBearer s3cret-old\n").unwrap();
    let file = file.to_str().unwrap();

    // The server requires the values of the file…
    let db = dir.path().join("nm.db");
    let server = Server::start(
        &["--db", db.to_str().unwrap()],
        "axum",
        &["--auth-header-file", file],
    );
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let post = |auth: Option<&'static str>| {
        let mut r = client
            .post(server.url())
            .header("content-type", "application/json")
            .body(testing::call_action().build_json());
        if let Some(a) = auth {
            r = r.header("authorization", a);
        }
        async move { r.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(post(None).await, 401);
    assert_eq!(post(Some("Bearer s3cret-new")).await, 200);
    assert_eq!(post(Some("Bearer s3cret-old")).await, 200);

    // …and register gives 8x8 the first of them.
    let (url, seen) = api().await;
    let out = register(&url, &[], &["--auth-header-file", file]).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("registered VCA -> https://your.host/webhooks/voice"),
        "{stdout}"
    );
    assert!(
        stdout.contains("registered VSS -> https://your.host/webhooks/voice"),
        "{stdout}"
    );
    assert!(!stdout.contains("s3cret") && !stdout.contains(KEY));
    assert_registered(&seen, "Bearer s3cret-new");

    // The environment variable is a source too.
    let (url, seen) = api().await;
    let out = register(
        &url,
        &[("NUMBER_MASKING_AUTH_HEADERS", "Bearer from-env")],
        &[],
    )
    .await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_registered(&seen, "Bearer from-env");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn register_takes_no_api_key_on_the_command_line_and_needs_one() {
    let (url, seen) = api().await;
    let out = register(&url, &[], &["--api-key", KEY]).await;
    assert_eq!(out.status.code(), Some(2), "clap refuses an unknown flag");
    let mut cmd = Command::new(BIN);
    cmd.env_remove("CALLFLOW_API_KEY")
        .env("CALLFLOW_SUBACCOUNT", "acme_voice")
        .env("CALLFLOW_API_URL", &url)
        .args(["register", "--url", "https://your.host"]);
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap())
        .await
        .unwrap();
    assert_ne!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("CALLFLOW_API_KEY"));
    assert!(seen.lock().unwrap().is_empty());
}
