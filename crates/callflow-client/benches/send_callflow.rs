//! The client's own overhead per Send Callflow.
//!
//! - `build`: validation in Send mode and serialization of a voice message (no I/O);
//! - `client_loopback`: `build` plus `Client::send_callflow` against a local server
//!   (request building, headers, the tracing span, the answer parsed and checked);
//! - `reqwest_loopback`: the same pre-serialized body posted with a bare `reqwest::Client`
//!   and the answer parsed: the floor any client pays on this machine;
//! - `reqwest_loopback_timeout`: the same with a per-request timeout, which the client always
//!   sets.
//!
//! The client's overhead is `client_loopback - reqwest_loopback`. Without a tracing
//! subscriber the span costs next to nothing, as in a service that filters it out.

use std::hint::black_box;
use std::time::Duration;

use axum::Router;
use axum::routing::post;
use callflow::CallFlow;
use callflow_client::api::{SendCallflow, SendCallflowResponse, SubAccountId};
use callflow_client::{Client, Config, RetryPolicy};
use criterion::{Criterion, criterion_group, criterion_main};

const CREATED: &str = r#"{"sessionId":"03cc8cac-376b-11ef-a28b-0582ff0039d5","sessionStatus":"CREATED","callFlowRequestId":"03cc3e8b-376b-11ef-a28b-4dd5d900ecb3","statusCode":1,"statusMessage":"Created"}"#;

fn voice_message() -> CallFlow {
    CallFlow::new()
        .make_call("+6568880000", "+6591110001")
        .say("Hello, this is a reminder about your appointment tomorrow at 2 PM. Press nothing.")
        .play_file("https://example.com/audio/notification.mp3")
        .hangup()
}

/// A server on its own thread and runtime, answering every POST with `CREATED`.
fn start_server() -> std::net::SocketAddr {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let app = Router::new().fallback(post(|| async {
                ([("content-type", "application/json")], CREATED)
            }));
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            tx.send(listener.local_addr().unwrap()).unwrap();
            axum::serve(listener, app).await.unwrap();
        });
    });
    rx.recv().unwrap()
}

fn bench(c: &mut Criterion) {
    let flow = voice_message();
    let mut g = c.benchmark_group("send_callflow");
    g.measurement_time(Duration::from_secs(4));

    g.bench_function("build", |b| {
        b.iter(|| black_box(SendCallflow::new(black_box(flow.clone())).unwrap().to_vec()))
    });

    let addr = start_server();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let client = Client::new(
        Config::new("bench-key", SubAccountId::new("acme_voice").unwrap())
            .base_url(format!("http://{addr}"))
            .retry(RetryPolicy::none()),
    )
    .unwrap();
    g.bench_function("client_loopback", |b| {
        b.to_async(&rt).iter(|| async {
            let req = SendCallflow::new(flow.clone()).unwrap();
            black_box(client.send_callflow(&req).await.unwrap())
        })
    });

    let raw = reqwest::Client::new();
    let url = format!("http://{addr}/api/v1/subaccounts/acme_voice/callflows");
    let body = bytes::Bytes::from(SendCallflow::new(flow.clone()).unwrap().to_vec());
    // Without, then with a per-request timeout (the client always sets one).
    for (name, timeout) in [
        ("reqwest_loopback", None),
        ("reqwest_loopback_timeout", Some(Duration::from_secs(30))),
    ] {
        g.bench_function(name, |b| {
            b.to_async(&rt).iter(|| async {
                let mut rb = raw
                    .post(&url)
                    .bearer_auth("bench-key")
                    .header("content-type", "application/json")
                    .body(body.clone());
                if let Some(t) = timeout {
                    rb = rb.timeout(t);
                }
                let bytes = rb.send().await.unwrap().bytes().await.unwrap();
                black_box(serde_json::from_slice::<SendCallflowResponse>(&bytes).unwrap())
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
