//! The `/v1` bindings API of a real `serve` process, over real HTTP on every framework.

use std::path::PathBuf;
use std::time::Duration;

use callflow::CallFlow;
use callflow::callflow::Action;
use callflow::testing;
use serde_json::{Value, json};

mod common;
use common::Server;

const VN: &str = "+6568880000";
const A: &str = "+6591110001";
const B: &str = "+6592220002";
const FRAMEWORKS: [&str; 3] = ["axum", "actix-web", "warp"];
const KEY: &str = "test-key-0123456789abcdef";
const OLD_KEY: &str = "old-key-0123456789abcdef";

struct Service {
    _dir: tempfile::TempDir,
    server: Server,
    http: reqwest::Client,
}

impl Service {
    fn start(framework: &str) -> Self {
        Self::start_with(
            framework,
            &[("NUMBER_MASKING_API_KEYS", &format!("{KEY},{OLD_KEY}"))],
        )
    }

    fn start_with(framework: &str, env: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("nm.db");
        let server = Server::start_with_env(&["--db", db.to_str().unwrap()], framework, &[], env);
        let http = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap();
        Self {
            _dir: dir,
            server,
            http,
        }
    }

    fn req(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, self.server.at(path))
            .bearer_auth(KEY)
    }

    async fn send(&self, req: reqwest::RequestBuilder) -> (u16, Value) {
        let r = req.send().await.expect("request");
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        let body = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"))
        };
        (status, body)
    }

    async fn create(&self, body: Value) -> (u16, Value) {
        self.send(self.req(reqwest::Method::POST, "/v1/bindings").json(&body))
            .await
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        self.send(self.req(reqwest::Method::GET, path)).await
    }

    async fn metrics(&self) -> String {
        let r = self
            .http
            .get(self.server.at("/metrics"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        assert!(
            r.headers()["content-type"]
                .to_str()
                .unwrap()
                .starts_with("application/openmetrics-text")
        );
        r.text().await.unwrap()
    }

    async fn call(&self, from: &str) -> CallFlow {
        common::call_action(&self.http, &self.server.url(), from, VN).await
    }
}

fn binding(a: &str, b: &str) -> Value {
    json!({"virtualNumber": VN, "parties": [a, b], "ttl": "2h", "reference": "order-42"})
}

fn error_code(body: &Value) -> &str {
    body["error"]["code"]
        .as_str()
        .unwrap_or_else(|| panic!("not an error: {body}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_binding_made_through_the_api_routes_a_simulated_call_until_it_is_deleted() {
    let scenarios = callflow_sim::Scenario::load_dir(callflow_sim::SCENARIOS_DIR).unwrap();
    let answered = scenarios
        .iter()
        .find(|s| s.name == "masked call answered")
        .expect("the masked-call-answered scenario");
    for fw in FRAMEWORKS {
        let svc = Service::start(fw);
        let (status, created) = svc.create(binding(A, B)).await;
        assert_eq!(status, 201, "{fw}: {created}");
        let id = created["id"].as_str().unwrap().to_owned();
        assert_eq!(
            created["virtualNumber"], VN,
            "{fw}: numbers in full to the client"
        );
        assert_eq!(created["parties"], json!([A, B]), "{fw}");
        assert_eq!(created["reference"], "order-42", "{fw}");
        assert_eq!(created["active"], true, "{fw}");
        assert!(
            created["expiresAt"].as_str().unwrap().ends_with('Z'),
            "{fw}: {created}"
        );
        assert_eq!(
            svc.get(&format!("/v1/bindings/{id}")).await,
            (200, created.clone()),
            "{fw}"
        );

        let report =
            callflow_sim::play(answered, &callflow_sim::PlayOptions::new(svc.server.url())).await;
        assert!(
            report.passed(),
            "{fw}:\n{}",
            callflow_sim::render_text(std::slice::from_ref(&report))
        );

        let (status, calls) = svc.get(&format!("/v1/calls?bindingId={id}")).await;
        assert_eq!(status, 200, "{fw}: {calls}");
        let items = calls["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "{fw}: {calls}");
        assert_eq!(items[0]["bindingId"], id.as_str(), "{fw}");
        assert_eq!(items[0]["status"], "COMPLETED", "{fw}");
        assert_eq!(items[0]["virtualNumber"], VN, "{fw}");
        assert!(
            items[0]["durationSecs"].as_u64().unwrap() >= 45,
            "{fw}: {calls}"
        );

        let metrics = svc.metrics().await;
        for series in [
            r#"number_masking_calls_total{outcome="bridged"} 1"#,
            "number_masking_bindings_active 1",
            r#"number_masking_api_requests_total{route="/v1/bindings",method="POST",status="201"} 1"#,
            r#"callflow_webhook_requests_total{event="CALL_ACTION",status="200"}"#,
            r#"callflow_webhook_requests_total{event="SESSION_SUMMARY",status="200"} 1"#,
            r#"callflow_webhook_handler_duration_seconds_count{event="CALL_ACTION"}"#,
            r#"number_masking_store_operation_duration_seconds_count{op="create"} 1"#,
            r#"number_masking_store_operation_duration_seconds_count{op="record_call"} 1"#,
        ] {
            assert!(metrics.contains(series), "{fw}: no {series} in\n{metrics}");
        }

        let (status, _) = svc
            .send(svc.req(reqwest::Method::DELETE, &format!("/v1/bindings/{id}")))
            .await;
        assert_eq!(status, 204, "{fw}");
        let (status, body) = svc
            .send(svc.req(reqwest::Method::DELETE, &format!("/v1/bindings/{id}")))
            .await;
        assert_eq!((status, error_code(&body)), (404, "not_found"), "{fw}");
        let (status, body) = svc.get(&format!("/v1/bindings/{id}")).await;
        assert_eq!((status, error_code(&body)), (404, "not_found"), "{fw}");
        let flow = svc.call(A).await;
        assert!(
            matches!(flow.actions(), [Action::Say(_), Action::Hangup]),
            "{fw}: the next call is refused: {flow:?}"
        );
        // The same delivery twice: the second is answered as a duplicate.
        let again = testing::call_action().from(A).to(VN).build_json();
        for _ in 0..2 {
            let r = svc
                .http
                .post(svc.server.url())
                .header("content-type", "application/json")
                .body(again.clone())
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200, "{fw}");
        }
        let metrics = svc.metrics().await;
        for series in [
            r#"number_masking_calls_total{outcome="not_bound"} 2"#,
            r#"callflow_webhook_duplicates_total{event="CALL_ACTION"} 1"#,
            "number_masking_bindings_active 0",
            r#"number_masking_api_requests_total{route="/v1/bindings/{id}",method="DELETE",status="404"} 1"#,
        ] {
            assert!(metrics.contains(series), "{fw}: no {series} in\n{metrics}");
        }
        let log = svc.server.log();
        assert!(
            !log.contains("91110001") && !log.contains("92220002"),
            "{fw}: a number in clear in the log:\n{log}"
        );
        svc.server.terminate();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_error_has_the_one_json_shape_on_every_framework() {
    for fw in FRAMEWORKS {
        let svc = Service::start(fw);
        let post = || svc.req(reqwest::Method::POST, "/v1/bindings");
        // 401: no key, a wrong key; an old key still works (rotation).
        let (s, b) = svc.send(svc.http.get(svc.server.at("/v1/bindings"))).await;
        assert_eq!((s, error_code(&b)), (401, "unauthorized"), "{fw}");
        let (s, b) = svc
            .send(
                svc.http
                    .get(svc.server.at("/v1/bindings"))
                    .bearer_auth("wrong-key-0123456789abcdef"),
            )
            .await;
        assert_eq!((s, error_code(&b)), (401, "unauthorized"), "{fw}");
        let (s, _) = svc
            .send(
                svc.http
                    .get(svc.server.at("/v1/bindings"))
                    .bearer_auth(OLD_KEY),
            )
            .await;
        assert_eq!(s, 200, "{fw}");
        // 400 malformed JSON, 415 not JSON, 413 too big.
        let (s, b) = svc
            .send(
                post()
                    .header("content-type", "application/json")
                    .body("{\"virtualNumber\":"),
            )
            .await;
        assert_eq!((s, error_code(&b)), (400, "invalid_json"), "{fw}");
        let (s, b) = svc
            .send(
                post()
                    .header("content-type", "text/plain")
                    .body(binding(A, B).to_string()),
            )
            .await;
        assert_eq!((s, error_code(&b)), (415, "unsupported_media_type"), "{fw}");
        let big = json!({"virtualNumber": VN, "parties": [A, B], "reference": "x".repeat(40_000)});
        let (s, b) = svc.send(post().json(&big)).await;
        assert_eq!((s, error_code(&b)), (413, "payload_too_large"), "{fw}");
        // 422 naming each field, numbers masked.
        let (s, b) = svc
            .create(json!({"virtualNumber": "+65abc", "parties": ["+6591110001"], "ttl": "0s"}))
            .await;
        assert_eq!((s, error_code(&b)), (422, "invalid_fields"), "{fw}");
        let paths: Vec<&str> = b["error"]["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| f["path"].as_str().unwrap())
            .collect();
        assert_eq!(
            paths,
            ["$.virtualNumber", "$.parties", "$.ttl"],
            "{fw}: {b}"
        );
        assert!(!b.to_string().contains("91110001"), "{fw}: {b}");
        // 409 naming the binding in the way.
        let (_, first) = svc.create(binding(A, B)).await;
        let (s, b) = svc.create(binding(A, "+6593330003")).await;
        assert_eq!((s, error_code(&b)), (409, "conflict"), "{fw}: {b}");
        assert_eq!(b["error"]["conflictingBindingId"], first["id"], "{fw}");
        assert!(
            !b.to_string().contains("91110001"),
            "{fw}: numbers masked: {b}"
        );
        // Idempotency-Key: a repeat answers the first result, another body is a 422.
        let keyed = |body: Value| post().header("idempotency-key", "order-7").json(&body);
        let (s1, b1) = svc.send(keyed(binding("+6594440004", "+6595550005"))).await;
        let (s2, b2) = svc.send(keyed(binding("+6594440004", "+6595550005"))).await;
        assert_eq!((s1, s2), (201, 201), "{fw}: {b1} {b2}");
        assert_eq!(b1, b2, "{fw}: the same binding, not a 409");
        let (s, b) = svc.send(keyed(binding("+6596660006", "+6597770007"))).await;
        assert_eq!((s, error_code(&b)), (422, "idempotency_key_reused"), "{fw}");
        // 405 with Allow, 404 for an unknown route.
        let r = svc
            .req(reqwest::Method::PUT, "/v1/bindings")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 405, "{fw}");
        assert_eq!(r.headers()["allow"], "GET, POST", "{fw}");
        let (s, b) = svc.get("/v1/nothing").await;
        assert_eq!((s, error_code(&b)), (404, "not_found"), "{fw}");
        svc.server.terminate();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_pages_with_a_stable_cursor_and_filters() {
    let svc = Service::start("axum");
    let mut ids = Vec::new();
    for i in 0..5 {
        let (s, b) = svc
            .create(json!({"virtualNumber": VN, "parties": [format!("+659100000{i}"), format!("+659200000{i}")], "reference": format!("r{}", i % 2)}))
            .await;
        assert_eq!(s, 201, "{b}");
        ids.push(b["id"].as_str().unwrap().to_owned());
    }
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/v1/bindings?limit=2&cursor={c}"),
            None => "/v1/bindings?limit=2".into(),
        };
        let (s, page) = svc.get(&path).await;
        assert_eq!(s, 200, "{page}");
        let items = page["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        seen.extend(items.iter().map(|b| b["id"].as_str().unwrap().to_owned()));
        match page["nextCursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    let mut sorted = ids.clone();
    sorted.sort();
    let mut seen_sorted = seen.clone();
    seen_sorted.sort();
    assert_eq!(seen_sorted, sorted, "every binding once, none twice");
    let (_, page) = svc.get("/v1/bindings?reference=r1").await;
    assert_eq!(page["items"].as_array().unwrap().len(), 2, "{page}");
    let (_, page) = svc
        .get("/v1/bindings?party=%2B6591000003&active=true")
        .await;
    assert_eq!(page["items"][0]["id"], ids[3].as_str(), "{page}");
    let (s, b) = svc.get("/v1/bindings?limit=0").await;
    assert_eq!((s, error_code(&b)), (400, "invalid_query"));
    let (s, b) = svc.get("/v1/bindings?cursor=nonsense").await;
    assert_eq!((s, error_code(&b)), (400, "invalid_query"));
    svc.server.terminate();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_an_api_key_the_api_is_off_not_open() {
    let svc = Service::start_with("axum", &[]);
    let (s, b) = svc.create(binding(A, B)).await;
    assert_eq!((s, error_code(&b)), (404, "not_found"));
    let (s, _) = svc.get("/v1/openapi.json").await;
    assert_eq!(s, 404);
    svc.server.terminate();
}

fn docs_openapi() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/openapi.json")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_served_openapi_document_is_the_committed_docs_openapi_json() {
    let svc = Service::start("warp");
    let served = common::get_text(&svc.http, &svc.server.at("/v1/openapi.json")).await;
    let committed = std::fs::read_to_string(docs_openapi()).unwrap_or_default();
    assert!(
        served == committed,
        "docs/openapi.json differs from the served document: run\n  cargo run -p number-masking -- openapi > docs/openapi.json"
    );
    let doc: Value = serde_json::from_str(&served).unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    svc.server.terminate();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_from_the_environment_json_logs_rust_log_and_readiness() {
    let keys = format!("{KEY},{OLD_KEY}");
    // JSON logs at the default level: every line one JSON object.
    let svc = Service::start_with(
        "actix-web",
        &[
            ("NUMBER_MASKING_API_KEYS", &keys),
            ("NUMBER_MASKING_LOG_FORMAT", "json"),
        ],
    );
    let (s, b) = svc.get("/readyz").await;
    assert_eq!((s, &b["status"]), (200, &json!("ready")));
    let (s, _) = svc.create(binding(A, B)).await;
    assert_eq!(s, 201);
    let cmdline = std::fs::read(format!("/proc/{}/cmdline", svc.server.pid())).unwrap_or_default();
    assert!(
        !String::from_utf8_lossy(&cmdline).contains(KEY),
        "the API key is on the command line"
    );
    let log = svc.server.log();
    assert!(log.contains("API request"), "{log}");
    for line in log.lines().filter(|l| !l.trim().is_empty()) {
        let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(v["level"].is_string(), "{line}");
    }
    svc.server.terminate();
    // RUST_LOG=warn silences the info lines.
    let svc = Service::start_with(
        "axum",
        &[("NUMBER_MASKING_API_KEYS", &keys), ("RUST_LOG", "warn")],
    );
    let (s, _) = svc.create(binding(A, B)).await;
    assert_eq!(s, 201);
    let log = svc.server.log();
    assert!(!log.contains("INFO"), "RUST_LOG=warn: {log}");
    svc.server.terminate();
}
