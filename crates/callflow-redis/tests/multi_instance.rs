//! Two instances of a webhook (one on axum, one on warp, each with its own Redis connection)
//! sharing one Redis, over real HTTP on 127.0.0.1, with a handler that counts its runs: the
//! side effect duplicates must not repeat.
//!
//! Needs `CALLFLOW_TEST_REDIS_URL` (set by `bash .ci/run`).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use callflow::event::{CallAction, SessionSummary};
use callflow::testing;
use callflow::{CallFlow, CallHandler, Context, HandlerError, Webhook};
use callflow_redis::RedisIdempotencyStore;
use callflow_redis::testing::Scratch;
use warp::Filter;

/// Counts its runs (the side effect); the reply names the run, so a second run would also
/// show in the bodies. Fails its first `fail_first` call actions.
struct Counting {
    call_actions: AtomicUsize,
    summaries: AtomicUsize,
    fail_first: usize,
}

impl Counting {
    fn new(fail_first: usize) -> Arc<Self> {
        Arc::new(Self {
            call_actions: AtomicUsize::new(0),
            summaries: AtomicUsize::new(0),
            fail_first,
        })
    }
}

impl CallHandler for Counting {
    async fn on_call_action(&self, _: CallAction, _: &Context) -> Result<CallFlow, HandlerError> {
        let run = self.call_actions.fetch_add(1, Ordering::SeqCst) + 1;
        // Long enough for every duplicate to arrive while the first is running.
        tokio::time::sleep(Duration::from_millis(300)).await;
        if run <= self.fail_first {
            return Err(HandlerError::msg("downstream failed"));
        }
        Ok(CallFlow::builder()
            .say(format!("handled by run {run}"))
            .hangup())
    }

    async fn on_session_summary(&self, _: SessionSummary, _: &Context) -> Result<(), HandlerError> {
        self.summaries.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(300)).await;
        Ok(())
    }
}

struct Instances {
    urls: [String; 2],
    _stop: Vec<tokio::sync::oneshot::Sender<()>>,
}

/// Serves `handler` twice, on axum and on warp, each instance with its own Redis connection
/// and `RedisIdempotencyStore` on the scratch prefix.
async fn two_instances(scratch: &Scratch, handler: Arc<Counting>) -> Instances {
    let webhook = || {
        let store = RedisIdempotencyStore::new(&scratch.redis());
        Webhook::builder(handler.clone())
            .idempotency_store(Arc::new(store))
            .build()
    };
    let mut stop = Vec::new();

    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    stop.push(tx);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let axum_addr = listener.local_addr().unwrap();
    let app = axum::Router::new().route("/webhooks/voice", callflow_axum::route(webhook()));
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .with_graceful_shutdown(async move {
            let _ = rx.await;
        })
        .await
        .unwrap();
    });

    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    stop.push(tx);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let warp_addr = listener.local_addr().unwrap();
    let routes = warp::path!("webhooks" / "voice").and(callflow_warp::filter(webhook()));
    tokio::spawn(async move {
        warp::serve(routes)
            .incoming(listener)
            .graceful(async move {
                let _ = rx.await;
            })
            .run()
            .await;
    });

    Instances {
        urls: [
            format!("http://{axum_addr}/webhooks/voice"),
            format!("http://{warp_addr}/webhooks/voice"),
        ],
        _stop: stop,
    }
}

/// Posts `body` `n` times at once, alternating between the instances.
async fn burst(urls: &[String; 2], body: &str, n: usize) -> Vec<(u16, String)> {
    let client = reqwest::Client::builder()
        .no_proxy()
        .pool_max_idle_per_host(0)
        .timeout(Duration::from_secs(15))
        .build()
        .unwrap();
    let barrier = Arc::new(tokio::sync::Barrier::new(n));
    let mut tasks = Vec::new();
    for i in 0..n {
        let (client, url, body, barrier) = (
            client.clone(),
            urls[i % 2].clone(),
            body.to_owned(),
            barrier.clone(),
        );
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            let r = client
                .post(url)
                .header("content-type", "application/json")
                .body(body)
                .send()
                .await
                .expect("POST");
            (r.status().as_u16(), r.text().await.unwrap())
        }));
    }
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await.unwrap());
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hundred_simultaneous_call_action_duplicates_on_axum_and_warp_run_the_handler_once() {
    let Some(scratch) = Scratch::new("hundred_call_action_duplicates") else {
        return;
    };
    let handler = Counting::new(0);
    let inst = two_instances(&scratch, handler.clone()).await;
    let body = testing::call_action().from("+6591110001").build_json();

    let replies = burst(&inst.urls, &body, 100).await;
    assert_eq!(
        handler.call_actions.load(Ordering::SeqCst),
        1,
        "the handler ran once"
    );
    let expected = CallFlow::builder()
        .say("handled by run 1")
        .hangup()
        .to_json();
    for (i, (status, text)) in replies.iter().enumerate() {
        assert_eq!(
            (*status, text.as_str()),
            (200, expected.as_str()),
            "delivery {i}"
        );
    }
    // Late duplicates (after the first completed) on either instance: the same bytes.
    for (status, text) in burst(&inst.urls, &body, 10).await {
        assert_eq!((status, text), (200, expected.clone()));
    }
    assert_eq!(handler.call_actions.load(Ordering::SeqCst), 1);
    // A different event does run the handler.
    let other = testing::call_action().from("+6591110001").build_json();
    let r = burst(&inst.urls, &other, 2).await;
    assert_eq!(handler.call_actions.load(Ordering::SeqCst), 2);
    assert_eq!(r[0], r[1]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hundred_simultaneous_session_summary_duplicates_are_handled_once() {
    let Some(scratch) = Scratch::new("hundred_summary_duplicates") else {
        return;
    };
    let handler = Counting::new(0);
    let inst = two_instances(&scratch, handler.clone()).await;
    let body = testing::session_summary().build_json();
    let replies = burst(&inst.urls, &body, 100).await;
    assert_eq!(handler.summaries.load(Ordering::SeqCst), 1);
    assert!(replies.iter().all(|r| r == &replies[0]), "{replies:?}");
    assert_eq!(replies[0].0, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_first_delivery_is_run_again_and_the_retry_answer_is_shared() {
    let Some(scratch) = Scratch::new("failed_first_delivery") else {
        return;
    };
    let handler = Counting::new(1);
    let inst = two_instances(&scratch, handler.clone()).await;
    let body = testing::call_action().from("+6591110001").build_json();
    let first = burst(&[inst.urls[0].clone(), inst.urls[0].clone()], &body, 1).await;
    assert_eq!(first[0].0, 200);
    assert_eq!(
        first[0].1,
        callflow::default_fallback().to_json(),
        "fallback, not dead air"
    );
    // The failure released the claim: the retry (on the other instance) runs the handler.
    let retry = burst(&[inst.urls[1].clone(), inst.urls[1].clone()], &body, 1).await;
    let expected = CallFlow::builder()
        .say("handled by run 2")
        .hangup()
        .to_json();
    assert_eq!(retry[0], (200, expected.clone()));
    for r in burst(&inst.urls, &body, 20).await {
        assert_eq!(r, (200, expected.clone()));
    }
    assert_eq!(handler.call_actions.load(Ordering::SeqCst), 2);
}
