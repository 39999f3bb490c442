//! The `number-masking` binary as a user runs it: real processes, a real SQLite file, real
//! HTTP on 127.0.0.1 with each framework.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use callflow::CallFlow;
use callflow::callflow::{Action, Mode};
use callflow::testing::{self, fixtures};

const VN: &str = "+6568880000";
const A: &str = "+6591110001";
const B: &str = "+6592220002";
const FRAMEWORKS: [&str; 3] = ["axum", "actix-web", "warp"];

mod common;
use common::{BIN, Server, ok};

fn db_args(db: &Path) -> [&str; 2] {
    ["--db", db.to_str().expect("a UTF-8 temporary path")]
}

fn cli(db: &Path, args: &[&str]) -> Output {
    common::cli(&db_args(db), args)
}

fn bind(db: &Path, vn: &str, a: &str, b: &str, extra: &[&str]) -> String {
    common::bind(&db_args(db), vn, a, b, extra)
}

fn serve(db: &Path, framework: &str, extra: &[&str]) -> Server {
    Server::start(&db_args(db), framework, extra)
}

async fn post(url: &str, body: String, auth: Option<&str>) -> (u16, String) {
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let mut req = client
        .post(url)
        .header("content-type", "application/json")
        .body(body);
    if let Some(a) = auth {
        req = req.header("authorization", a);
    }
    let r = req.send().await.expect("POST");
    let status = r.status().as_u16();
    (status, r.text().await.unwrap())
}

fn flow(body: &str) -> CallFlow {
    CallFlow::parse(body.as_bytes(), Mode::Reply).unwrap_or_else(|v| panic!("{v}: {body}"))
}

fn bridged_to(body: &str) -> Option<(String, String)> {
    match flow(body).actions() {
        [Action::MakeCall(m)] => Some((
            m.source.as_str().to_owned(),
            m.destination.as_str().to_owned(),
        )),
        _ => None,
    }
}

fn turned_away(body: &str) -> bool {
    matches!(flow(body).actions(), [Action::Say(_), Action::Hangup])
}

fn temp_db() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("nm.db");
    (dir, db)
}

#[test]
fn demo_exits_zero_with_every_outcome_on_every_framework() {
    let out = Command::new(BIN).arg("demo").output().unwrap();
    let stdout = ok(out);
    for fw in FRAMEWORKS {
        assert!(
            stdout.contains(&format!("== {fw} on http://127.0.0.1:")),
            "{stdout}"
        );
    }
    assert_eq!(stdout.matches("  ok    ").count(), 12, "{stdout}");
    assert!(!stdout.contains("FAIL"));
    assert_eq!(stdout.matches("-> makeCall").count(), 6);
    assert_eq!(stdout.matches("+ hangup").count(), 3);
    assert_eq!(stdout.matches("recorded COMPLETED").count(), 3);
    for clear in ["6591110001", "6592220002", "6568880000", "6593330003"] {
        assert!(
            !stdout.contains(clear),
            "demo prints {clear} in clear:\n{stdout}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_bind_every_framework_routes_posted_call_actions() {
    let (_dir, db) = temp_db();
    bind(&db, VN, A, B, &[]);
    // 8x8's documented NM example, with its own numbers.
    bind(&db, "+65987654321", "+65123456789", B, &["--record"]);
    for fw in FRAMEWORKS {
        let server = serve(&db, fw, &[]);
        let url = server.url();
        let (s, body) = post(
            &url,
            testing::call_action().from(A).to(VN).build_json(),
            None,
        )
        .await;
        assert_eq!(s, 200, "{fw}");
        assert_eq!(bridged_to(&body), Some((VN.into(), B.into())), "{fw}");
        let (_, body) = post(
            &url,
            testing::call_action()
                .from("6592220002")
                .to("6568880000")
                .build_json(),
            None,
        )
        .await;
        assert_eq!(
            bridged_to(&body),
            Some((VN.into(), A.into())),
            "{fw}: numbers without +"
        );
        let (_, body) = post(
            &url,
            testing::call_action()
                .from("+6593330003")
                .to(VN)
                .build_json(),
            None,
        )
        .await;
        assert!(turned_away(&body), "{fw}: {body}");
        let (_, body) = post(&url, fixtures::get("vca_nm_inbound").to_owned(), None).await;
        assert_eq!(
            bridged_to(&body),
            Some(("+65987654321".into(), B.into())),
            "{fw}"
        );
        assert!(body.contains(r#""callRecording":true"#), "{fw}: {body}");
        // Documented variants: numbers as strings, legacy DTMF payloads, unknown fields.
        let drifted = fixtures::get("vca_nm_inbound")
            .replace("\"callDuration\": 0", "\"callDuration\": \"0\"")
            .replace(
                "\"sipCode\": 200",
                "\"sipCode\": \"200\", \"brandNewField\": {\"x\": 1}",
            );
        let (s, body) = post(&url, drifted, None).await;
        assert_eq!(
            (s, bridged_to(&body).map(|b| b.1)),
            (200, Some(B.into())),
            "{fw}"
        );
        let (s, body) = post(
            &url,
            fixtures::get("vca_ivr_legacy_dtmf_received").to_owned(),
            None,
        )
        .await;
        assert_eq!(s, 200, "{fw}");
        assert_eq!(
            flow(&body).actions(),
            &[Action::Hangup],
            "{fw}: not a new call"
        );
        // Other event types are acknowledged.
        for f in ["vcs", "vss_nm_success", "vru", "vnu", "unknown_event"] {
            let (s, _) = post(&url, fixtures::get(f).to_owned(), None).await;
            assert_eq!(s, 200, "{fw} {f}");
        }
        let health = reqwest::get(format!("http://{}/healthz", server.addr))
            .await
            .unwrap();
        assert_eq!(health.status(), 200);
        let health: serde_json::Value =
            serde_json::from_str(&health.text().await.unwrap()).unwrap();
        assert_eq!(health["status"], "ok", "{health}");
        assert_eq!(health["store"]["ready"], true, "{health}");
        assert_eq!(health["write_failures"], 0, "{health}");
        let took = server.terminate();
        assert!(took < Duration::from_secs(11), "{fw} took {took:?} to stop");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_header_flag_requires_the_token() {
    let (_dir, db) = temp_db();
    bind(&db, VN, A, B, &[]);
    for fw in FRAMEWORKS {
        let server = serve(
            &db,
            fw,
            &["--auth-header", "Bearer new", "--auth-header", "Bearer old"],
        );
        let body = || testing::call_action().from(A).to(VN).build_json();
        assert_eq!(post(&server.url(), body(), None).await.0, 401, "{fw}");
        assert_eq!(
            post(&server.url(), body(), Some("Bearer nope")).await.0,
            401,
            "{fw}"
        );
        assert_eq!(
            post(&server.url(), body(), Some("Bearer new")).await.0,
            200,
            "{fw}"
        );
        assert_eq!(
            post(&server.url(), body(), Some("Bearer old")).await.0,
            200,
            "{fw}"
        );
        server.terminate();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cli_writes_while_the_server_reads_and_a_restart_keeps_everything() {
    let (_dir, db) = temp_db();
    bind(&db, VN, A, B, &[]);
    let server = serve(&db, "axum", &[]);
    let url = server.url();
    // A CLI process binds new pairs while the server answers calls.
    let writer = {
        let db = db.clone();
        std::thread::spawn(move || {
            for i in 0..15 {
                bind(
                    &db,
                    VN,
                    &format!("+659400{i:04}"),
                    &format!("+659500{i:04}"),
                    &[],
                );
            }
        })
    };
    let mut answered = 0;
    while !writer.is_finished() {
        let (s, body) = post(
            &url,
            testing::call_action().from(A).to(VN).build_json(),
            None,
        )
        .await;
        assert_eq!((s, bridged_to(&body).map(|b| b.1)), (200, Some(B.into())));
        answered += 1;
    }
    writer.join().unwrap();
    assert!(answered > 0);
    // The last binding the CLI wrote is routed at once.
    let (_, body) = post(
        &url,
        testing::call_action()
            .from("+6595000014")
            .to(VN)
            .build_json(),
        None,
    )
    .await;
    assert_eq!(bridged_to(&body).map(|b| b.1), Some("+6594000014".into()));
    let session = testing::fresh_id();
    let (s, _) = post(
        &url,
        testing::session_summary().session_id(&session).build_json(),
        None,
    )
    .await;
    assert_eq!(s, 200);
    server.terminate();

    // Restart (another framework, same file): bindings and call records are all there.
    let listed = ok(cli(&db, &["bindings"]));
    assert_eq!(listed.lines().count(), 1 + 16, "{listed}");
    let calls = ok(cli(&db, &["calls"]));
    assert!(
        calls.contains(&session) && calls.contains("COMPLETED"),
        "{calls}"
    );
    assert!(
        !calls.contains("6568880000"),
        "calls masks numbers: {calls}"
    );
    let server = serve(&db, "warp", &[]);
    let (_, body) = post(
        &server.url(),
        testing::call_action()
            .from("+6594000007")
            .to(VN)
            .build_json(),
        None,
    )
    .await;
    assert_eq!(bridged_to(&body).map(|b| b.1), Some("+6595000007".into()));
    server.terminate();
}

#[test]
fn bind_unbind_and_list_with_clear_errors() {
    let (_dir, db) = temp_db();
    let id = bind(&db, VN, A, B, &["--ttl", "2h", "--reference", "order-42"]);
    let listed = ok(cli(&db, &["bindings"]));
    assert!(
        listed.contains(&id) && listed.contains("order-42") && listed.contains("+65****0001"),
        "{listed}"
    );
    assert!(!listed.contains("6591110001"), "{listed}");
    assert!(ok(cli(&db, &["bindings", "--reveal"])).contains("+6591110001"));

    let out = cli(
        &db,
        &[
            "bind",
            "--virtual-number",
            VN,
            "--party",
            A,
            "--party",
            "+6593330003",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("ambiguous") && err.contains(&id), "{err}");

    let out = cli(&db, &["bind", "--virtual-number", VN, "--party", A]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("exactly two"));

    let out = cli(
        &db,
        &[
            "bind",
            "--virtual-number",
            VN,
            "--party",
            "hello",
            "--party",
            B,
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(2),
        "a malformed number is a usage error"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a valid phone number"));

    let out = cli(
        &db,
        &[
            "bind",
            "--virtual-number",
            VN,
            "--party",
            A,
            "--party",
            B,
            "--ttl",
            "soon",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "usage error");

    assert!(ok(cli(&db, &["unbind", &id])).contains(&id));
    let out = cli(&db, &["unbind", &id]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no binding"));
    assert_eq!(ok(cli(&db, &["bindings"])).trim(), "no bindings");
    assert_eq!(ok(cli(&db, &["calls"])).trim(), "no calls recorded");
}

/// Every shipped simulator scenario (crates/callflow-sim/scenarios/*.toml) played as 8x8 would
/// against the service on each framework, plain and with 8x8's drift injected (duplicates,
/// reordered status events, legacy payloads).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_simulator_scenario_passes_on_every_framework() {
    let scenarios = callflow_sim::Scenario::load_dir(callflow_sim::SCENARIOS_DIR).unwrap();
    assert!(scenarios.len() >= 6, "{} scenarios", scenarios.len());
    let (_dir, db) = temp_db();
    // The numbers the scenarios use (see crates/callflow-sim/scenarios/README.md).
    bind(&db, VN, A, B, &[]);
    for fw in FRAMEWORKS {
        let server = serve(&db, fw, &[]);
        for drift in [false, true] {
            let mut options = callflow_sim::PlayOptions::new(server.url());
            if drift {
                options.duplicate = true;
                options.reorder = true;
                options.payload_style = callflow_sim::PayloadStyle::Legacy;
            }
            let reports = callflow_sim::play_all(&scenarios, &options).await;
            for r in &reports {
                assert!(
                    r.passed(),
                    "{fw} (drift: {drift}):\n{}",
                    callflow_sim::render_text(std::slice::from_ref(r))
                );
            }
        }
        server.terminate();
    }
}

/// A command-line mistake exits 2, as clap's own do, and creates no database file: the input
/// is checked before the store is opened.
#[test]
fn usage_errors_exit_2_and_create_no_database() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("never.db");
    let cases: [&[&str]; 4] = [
        &[
            "bind",
            "--virtual-number",
            VN,
            "--party",
            "hello",
            "--party",
            B,
        ],
        &["bind", "--virtual-number", VN, "--party", A],
        &["serve", "--listen", "127.0.0.1:0", "--trust-proxies", "1"],
        &[
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--allow",
            "not-a-network",
        ],
    ];
    for args in cases {
        let out = cli(&db, args);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {out:?}");
        assert!(!db.exists(), "{args:?} created the database");
        assert!(
            !String::from_utf8_lossy(&out.stderr).contains("6592220002"),
            "no number in clear in the error"
        );
    }
}

/// `bindings --format json` and `calls --format json` print the /v1 API's objects, numbers
/// masked unless `--reveal`.
#[test]
fn bindings_and_calls_print_json_for_programs() {
    let (_dir, db) = temp_db();
    let id = bind(&db, VN, A, B, &["--reference", "order-7"]);
    let text = ok(cli(&db, &["bindings", "--format", "json"]));
    let listed: serde_json::Value = serde_json::from_str(&text).expect("JSON");
    let items = listed.as_array().expect("an array");
    assert_eq!(items.len(), 1, "{text}");
    assert_eq!(items[0]["id"], id.as_str());
    assert_eq!(items[0]["reference"], "order-7");
    assert_eq!(items[0]["parties"][0], "+65****0001");
    assert_eq!(items[0]["active"], true);
    assert!(!text.contains("6591110001"), "{text}");
    let revealed: serde_json::Value =
        serde_json::from_str(&ok(cli(&db, &["bindings", "--format", "json", "--reveal"]))).unwrap();
    assert_eq!(revealed[0]["parties"][0], A);
    let calls: serde_json::Value =
        serde_json::from_str(&ok(cli(&db, &["calls", "--format", "json"]))).unwrap();
    assert_eq!(calls, serde_json::json!([]));
}

/// `--allow 8x8-singapore` refuses a peer outside 8x8's addresses (this test's 127.0.0.1) with
/// 403; `--allow 127.0.0.1` lets it through; on every framework.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allow_flag_limits_who_may_post_webhooks() {
    let (_dir, db) = temp_db();
    bind(&db, VN, A, B, &[]);
    for fw in FRAMEWORKS {
        for (allow, status) in [("8x8-singapore", 403), ("127.0.0.1", 200)] {
            let server = serve(&db, fw, &["--allow", allow]);
            let (s, body) = post(
                &server.url(),
                testing::call_action().from(A).to(VN).build_json(),
                None,
            )
            .await;
            assert_eq!(s, status, "{fw} --allow {allow}: {body}");
            server.terminate();
        }
    }
}
