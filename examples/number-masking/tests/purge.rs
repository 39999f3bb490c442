//! `serve --purge-grace`: an expired binding still gets the "expired" answer during the
//! grace, is gone after it (API, listing, calls), and an active binding is never purged; on
//! a real SQLite file and on a real Redis (`CALLFLOW_TEST_REDIS_URL`).

use std::time::{Duration, Instant};

use callflow::callflow::Action;
use callflow_masking::Messages;
use callflow_redis::testing::Scratch;
use serde_json::{Value, json};

mod common;
use common::Server;

const VN: &str = "+6568880000";
const A: &str = "+6591110001";
const B: &str = "+6592220002";
const C: &str = "+6593330003";
const D: &str = "+6594440004";
const KEY: &str = "test-key-0123456789abcdef";

struct Client {
    http: reqwest::Client,
    server: Server,
}

impl Client {
    async fn send(&self, req: reqwest::RequestBuilder) -> (u16, Value) {
        let r = req.bearer_auth(KEY).send().await.expect("request");
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    async fn create(&self, body: Value) -> String {
        let (status, b) = self
            .send(self.http.post(self.server.at("/v1/bindings")).json(&body))
            .await;
        assert_eq!(status, 201, "{b}");
        b["id"].as_str().unwrap().to_owned()
    }

    async fn get(&self, id: &str) -> u16 {
        self.send(self.http.get(self.server.at(&format!("/v1/bindings/{id}"))))
            .await
            .0
    }

    async fn listed(&self) -> Vec<String> {
        let (status, b) = self
            .send(self.http.get(self.server.at("/v1/bindings")))
            .await;
        assert_eq!(status, 200, "{b}");
        b["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_owned())
            .collect()
    }

    /// What a call from `from` to the virtual number is told (`None`: bridged).
    async fn said(&self, from: &str) -> Option<String> {
        let flow = common::call_action(&self.http, &self.server.url(), from, VN).await;
        match flow.actions() {
            [Action::MakeCall(_)] => None,
            [Action::Say(s), Action::Hangup] => Some(s.text.clone()),
            other => panic!("unexpected callflow {other:?}"),
        }
    }

    async fn metrics(&self) -> String {
        common::get_text(&self.http, &self.server.at("/metrics")).await
    }

    /// Asks `done` every 200 ms until it holds; fails at `deadline` with `failure` and the
    /// server's log.
    async fn until(&self, deadline: Instant, failure: &str, done: impl AsyncFn() -> bool) {
        while !done().await {
            assert!(
                Instant::now() < deadline,
                "{failure}; log: {}",
                self.server.log()
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// Runs the story on `store` (`--db FILE` or `--store URL …`).
async fn expired_binding_is_purged_after_the_grace(store: &[&str]) {
    let server = Server::start_with_env(
        store,
        "axum",
        &["--purge-grace", "4s", "--purge-interval", "1s"],
        &[("NUMBER_MASKING_API_KEYS", KEY)],
    );
    let c = Client {
        http: common::http(),
        server,
    };
    let messages = Messages::default();
    let started = Instant::now();
    let expiring = c
        .create(json!({"virtualNumber": VN, "parties": [A, B], "ttl": "2s"}))
        .await;
    // The server starts the 2 s when it creates the binding: timed from its answer, the
    // wait below cannot end before the expiry.
    let created = Instant::now();
    let forever = c
        .create(json!({"virtualNumber": VN, "parties": [C, D]}))
        .await;
    let later = c
        .create(json!({"virtualNumber": "+6568880001", "parties": [A, B], "ttl": "2h"}))
        .await;
    assert_eq!(c.said(A).await, None, "bridged while active");

    // Expired, within the 4 s grace: the "expired" answer, the binding still there. (The
    // 2 s life leaves room for three creates and a call on a loaded machine.)
    tokio::time::sleep(Duration::from_millis(2_300).saturating_sub(created.elapsed())).await;
    assert_eq!(c.said(B).await, Some(messages.expired.clone()));
    assert_eq!(c.get(&expiring).await, 200);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "too slow to test the grace"
    );

    // Past expiry + grace (6 s), a purge pass later: gone everywhere.
    let deadline = started + Duration::from_secs(20);
    c.until(deadline, "not purged in time", async || {
        c.get(&expiring).await == 404
    })
    .await;
    assert!(
        started.elapsed() >= Duration::from_secs(6),
        "purged before the grace ended"
    );
    assert_eq!(c.said(A).await, Some(messages.not_bound.clone()));
    // The listing loses it on the pass that purged it (SQLite), or as soon as Redis has
    // deleted its hash (Redis).
    c.until(deadline, "still listed at the deadline", async || {
        !c.listed().await.contains(&expiring)
    })
    .await;
    let listed = c.listed().await;
    assert_eq!(listed, vec![forever.clone(), later.clone()]);
    assert_eq!(c.get(&forever).await, 200);
    assert_eq!(c.get(&later).await, 200);
    assert_eq!(c.said(C).await, None, "an active binding is never purged");
    // The counter counts the pass that removed it: on Redis the pass after Redis deleted the
    // hash, up to one `--purge-interval` after the binding stopped being listed.
    c.until(deadline, "purge not counted in time", async || {
        c.metrics()
            .await
            .lines()
            .any(|l| l == "number_masking_bindings_purged_total 1")
    })
    .await;
    c.server.terminate();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_sqlite_an_expired_binding_answers_expired_during_the_grace_and_is_purged_after() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("nm.db");
    expired_binding_is_purged_after_the_grace(&["--db", db.to_str().unwrap()]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_redis_an_expired_binding_answers_expired_during_the_grace_and_is_purged_after() {
    let Some(scratch) = Scratch::new("serve_purge") else {
        return;
    };
    expired_binding_is_purged_after_the_grace(&[
        "--store",
        &scratch.url,
        "--redis-prefix",
        &scratch.prefix,
    ])
    .await;
}
