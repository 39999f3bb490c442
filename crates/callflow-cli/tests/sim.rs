//! `callflow play | lint | send` (formerly the `callflow-sim` binary): exit codes, output
//! formats, lint codes, `send`.

// The simulator's own test servers and handlers (one copy, shared with its engine tests).
#[path = "../../callflow-sim/tests/common/mod.rs"]
mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use callflow::Webhook;
use common::{Masking, Server};
use quick_xml::Reader;
use quick_xml::events::Event as XmlEvent;

fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_callflow"))
}

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// The simulator's shipped scenarios.
fn scenarios_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../callflow-sim/scenarios")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Runs the binary without blocking the runtime that serves the test's webhook.
async fn run(mut cmd: Command) -> Output {
    tokio::task::spawn_blocking(move || cmd.output().expect("the binary runs"))
        .await
        .unwrap()
}

/// The masking scenarios: every `.toml` directly in `scenarios/` (the IVR ones live in
/// `scenarios/ivr/`, so `scenarios/*.toml` is what a number-masking service must pass).
fn masking_scenarios() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(scenarios_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    v.sort();
    v
}

#[test]
fn lint_reports_the_8x8_code_and_json_path_for_every_validator_rule() {
    let cases = [
        ("m1001-invalid-json.json", "reply", "$", "-1001"),
        (
            "m1003-min-digits-without-max-digits.json",
            "reply",
            "$.callflow[0].params.maxDigits",
            "-1003",
        ),
        (
            "m1005-digit-timeout-without-overall-timeout.json",
            "reply",
            "$.callflow[0].params.overallTimeout",
            "-1005",
        ),
        (
            "m1006-overall-timeout-smaller-than-digit-timeout.json",
            "reply",
            "$.callflow[0].params.overallTimeout",
            "-1006",
        ),
        (
            "m1007-unknown-action.json",
            "reply",
            "$.callflow[0].action",
            "-1007",
        ),
        (
            "m1008-complete-on-hash-false-without-max-digits.json",
            "reply",
            "$.callflow[0].params.maxDigits",
            "-1008",
        ),
        (
            "m1009-say-without-text.json",
            "reply",
            "$.callflow[0].params.text",
            "-1009",
        ),
        (
            "m1010-three-make-calls.json",
            "reply",
            "$.callflow[2].action",
            "-1010",
        ),
        (
            "m1012-hangup-not-last.json",
            "reply",
            "$.callflow[0].action",
            "-1012",
        ),
        (
            "m1013-send-callflow-not-starting-with-make-call.json",
            "send",
            "$.callflow[0].action",
            "-1013",
        ),
        (
            "m1017-invalid-destination.json",
            "reply",
            "$.callflow[0].params.destination",
            "-1017",
        ),
    ];
    for (file, mode, path, code) in cases {
        let f = fixture(file);
        let out = bin()
            .args(["lint", "--mode", mode])
            .arg(&f)
            .output()
            .unwrap();
        let text = stdout(&out);
        assert_eq!(out.status.code(), Some(1), "{file}: {text}");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 1, "{file}: one violation expected:\n{text}");
        let want = format!("{}: {path}: {code} ", f.display());
        assert!(
            lines[0].starts_with(&want),
            "{file}: got {:?}, want prefix {want:?}",
            lines[0]
        );
    }
}

#[test]
fn lint_prints_ok_and_exits_0_when_every_file_is_valid() {
    let out = bin()
        .arg("lint")
        .arg(fixture("valid-masking-bridge.json"))
        .arg(fixture("valid-ivr-menu.json"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    let text = stdout(&out);
    assert_eq!(text.lines().count(), 2);
    assert!(text.lines().all(|l| l.ends_with(": ok")), "{text}");
    let out = bin()
        .args(["lint", "--mode", "send"])
        .arg(fixture("valid-send-callflow.json"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
}

#[test]
fn lint_mode_decides_whether_the_first_action_must_be_make_call() {
    let f = fixture("m1013-send-callflow-not-starting-with-make-call.json");
    let reply = bin().arg("lint").arg(&f).output().unwrap();
    assert_eq!(
        reply.status.code(),
        Some(0),
        "valid as a reply: {}",
        stdout(&reply)
    );
    let send = bin()
        .args(["lint", "--mode", "send"])
        .arg(&f)
        .output()
        .unwrap();
    assert_eq!(send.status.code(), Some(1));
}

#[test]
fn lint_exits_1_when_any_file_is_invalid_and_reports_each_file() {
    let out = bin()
        .arg("lint")
        .arg(fixture("valid-masking-bridge.json"))
        .arg(fixture("m1007-unknown-action.json"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(
        text.lines()
            .next()
            .unwrap()
            .ends_with("valid-masking-bridge.json: ok"),
        "{text}"
    );
    assert!(text.contains("-1007"));
}

#[test]
fn lint_usage_errors_exit_2() {
    let none = bin().arg("lint").output().unwrap();
    assert_eq!(none.status.code(), Some(2), "no files");
    let mode = bin()
        .args(["lint", "--mode", "sideways"])
        .arg(fixture("valid-ivr-menu.json"))
        .output()
        .unwrap();
    assert_eq!(mode.status.code(), Some(2), "unknown mode");
    let missing = bin()
        .args(["lint", "/nonexistent/flow.json"])
        .output()
        .unwrap();
    assert_eq!(missing.status.code(), Some(2), "unreadable file");
    assert!(stderr(&missing).contains("cannot read"));
    let nothing = bin().output().unwrap();
    assert_eq!(nothing.status.code(), Some(2), "no subcommand");
}

#[test]
fn lint_reads_standard_input_for_dash() {
    use std::io::Write;
    let mut child = bin()
        .args(["lint", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(br#"{"callflow":[{"action":"hangup"},{"action":"hangup"}]}"#)
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(
        stdout(&out).trim(),
        "-: $.callflow[0].action: -1012 hangup must be the last action"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn play_exits_0_when_every_masking_scenario_holds_against_a_masking_service() {
    let server = Server::webhook(Webhook::new(Masking)).await;
    let mut cmd = bin();
    cmd.args(["play", "--url", &server.url])
        .args(masking_scenarios());
    let out = run(cmd).await;
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}\n{}", stderr(&out));
    let n = masking_scenarios().len();
    assert!(
        text.contains(&format!("{n} scenario(s): {n} passed, 0 failed")),
        "{text}"
    );
    assert!(!text.contains("6592220002"), "numbers are masked");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn play_fails_with_a_clear_message_against_a_handler_returning_an_invalid_callflow() {
    let server = Server::fixed(
        200,
        r#"{"callflow":[{"action":"makeCall","params":{"source":"+6568880000","destination":"+6592220002"}},{"action":"hangup"},{"action":"say","params":{"text":"bye","voiceProfile":"en-GB-Emma"}}]}"#,
    )
    .await;
    let mut cmd = bin();
    cmd.args(["play", "--url", &server.url])
        .arg(scenarios_dir().join("masked-call-answered.toml"));
    let out = run(cmd).await;
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("INVALID reply: not a valid callflow: -1012 $.callflow[1].action: hangup must be the last action"), "{text}");
    assert!(
        text.contains("FAIL every CALL_ACTION is answered with 200 and a valid callflow"),
        "{text}"
    );
    assert!(
        text.contains("FAIL session COMPLETED: the session ended ERROR (-2003"),
        "{text}"
    );
    assert!(text.contains("1 scenario(s): 0 passed, 1 failed"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn play_format_json_is_one_json_document() {
    let server = Server::webhook(Webhook::new(Masking)).await;
    let mut cmd = bin();
    cmd.args(["play", "--format", "json", "--url", &server.url])
        .arg(scenarios_dir().join("masked-call-answered.toml"))
        .arg(scenarios_dir().join("ivr/two-level-menu.toml"));
    let out = run(cmd).await;
    assert_eq!(
        out.status.code(),
        Some(1),
        "the IVR scenario fails against masking"
    );
    let docs: Vec<serde_json::Value> = serde_json::Deserializer::from_slice(&out.stdout)
        .into_iter()
        .collect::<Result<_, _>>()
        .expect("stdout is JSON");
    assert_eq!(docs.len(), 1, "exactly one document");
    let doc = &docs[0];
    assert_eq!(doc["passed"], false);
    assert_eq!(doc["total"], 2);
    assert_eq!(doc["failed"], 1);
    let s = &doc["scenarios"][0];
    assert_eq!(s["passed"], true);
    assert_eq!(s["outcome"]["sessionStatus"], "COMPLETED");
    assert_eq!(s["outcome"]["dialled"][0]["destination"], "+65****0002");
    assert!(
        s["exchanges"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["responseTimeMs"].is_number())
    );
    assert_eq!(doc["scenarios"][1]["passed"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn play_format_junit_is_well_formed_xml_with_one_testcase_per_check() {
    let server = Server::webhook(Webhook::new(Masking)).await;
    let mut cmd = bin();
    cmd.args(["play", "--format", "junit", "--url", &server.url])
        .arg(scenarios_dir().join("masked-call-busy.toml"))
        .arg(scenarios_dir().join("ivr/two-level-menu.toml"));
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(1));
    let xml = stdout(&out);
    let mut reader = Reader::from_str(&xml);
    let mut stack: Vec<String> = Vec::new();
    let (mut suites, mut cases, mut failures, mut roots) = (0, 0, 0, 0);
    let mut declared_tests = 0;
    loop {
        let ev = reader
            .read_event()
            .unwrap_or_else(|e| panic!("invalid XML at {}: {e}\n{xml}", reader.buffer_position()));
        match &ev {
            XmlEvent::Start(e) | XmlEvent::Empty(e) => {
                let name = String::from_utf8(e.name().as_ref().to_vec()).unwrap();
                for a in e.attributes() {
                    let a = a.expect("well-formed attribute");
                    let value = a.unescape_value().expect("attribute value unescapes");
                    if name == "testsuites" && a.key.as_ref() == b"tests" {
                        declared_tests = value.parse::<usize>().unwrap();
                    }
                }
                match name.as_str() {
                    "testsuites" => roots += 1,
                    "testsuite" => {
                        assert_eq!(stack.last().map(String::as_str), Some("testsuites"));
                        suites += 1;
                    }
                    "testcase" => {
                        assert_eq!(stack.last().map(String::as_str), Some("testsuite"));
                        cases += 1;
                    }
                    "failure" => {
                        assert_eq!(stack.last().map(String::as_str), Some("testcase"));
                        failures += 1;
                    }
                    _ => {}
                }
                if matches!(ev, XmlEvent::Start(_)) {
                    stack.push(name);
                }
            }
            XmlEvent::End(e) => {
                let name = String::from_utf8(e.name().as_ref().to_vec()).unwrap();
                assert_eq!(stack.pop().as_deref(), Some(name.as_str()), "balanced tags");
            }
            XmlEvent::Eof => break,
            _ => {}
        }
    }
    assert!(stack.is_empty());
    assert_eq!(roots, 1);
    assert_eq!(suites, 2);
    assert!(cases >= 8, "{cases} testcases");
    assert_eq!(declared_tests, cases);
    assert!(failures >= 1);
    assert!(!xml.contains("6592220002"), "numbers are masked");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn play_accepts_a_directory_of_scenarios() {
    let server = Server::webhook(Webhook::new(Masking)).await;
    let mut cmd = bin();
    cmd.args(["play", "--url", &server.url])
        .arg(scenarios_dir());
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
}

#[test]
fn play_usage_errors_exit_2() {
    let dir = std::env::temp_dir().join(format!("callflow-sim-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.toml");
    std::fs::write(&bad, "[call]\nfrom = \"+6591110001\"\n").unwrap();
    let out = bin()
        .args(["play", "--url", "http://127.0.0.1:9/v"])
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("invalid scenario"),
        "{}",
        stderr(&out)
    );
    let good = scenarios_dir().join("unknown-caller.toml");
    let out = bin()
        .args(["play", "--url", "ftp://example.com/v"])
        .arg(&good)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("must start with http:// or https://"));
    let out = bin()
        .args(["play", "--url", "http://127.0.0.1:9/v"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "no scenario");
    let out = bin()
        .args(["play", "--url", "http://127.0.0.1:9/v", "--format", "yaml"])
        .arg(&good)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "unknown format");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn play_fault_flags_are_accepted_on_the_command_line() {
    let server = Server::webhook(Webhook::new(Masking)).await;
    let mut cmd = bin();
    cmd.args([
        "play",
        "--url",
        &server.url,
        "--duplicate",
        "--reorder",
        "--slow-after",
        "5000",
        "--payload-style",
        "legacy",
    ])
    .arg(scenarios_dir().join("masked-call-answered.toml"));
    let out = run(cmd).await;
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("ok   every reply arrives within 5000 ms"),
        "{text}"
    );
    assert!(text.contains("duplicate delivery"), "{text}");
    assert!(text.contains("--reorder"), "{text}");
    assert_eq!(server.received().len(), 16);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_posts_one_call_action_and_prints_status_json_and_validation() {
    let server = Server::webhook(Webhook::new(Masking)).await;
    let mut cmd = bin();
    cmd.args([
        "send",
        "--url",
        &server.url,
        "--event",
        "call-action",
        "--from",
        "+6591110001",
        "--to",
        "+6568880000",
    ]);
    let out = run(cmd).await;
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(
        text.contains("event: CALL_ACTION CALL_RECEIVED +65****0001 -> +65****0000"),
        "{text}"
    );
    assert!(text.contains("reply: HTTP 200 OK in"), "{text}");
    assert!(
        text.contains("\"action\": \"makeCall\""),
        "pretty JSON: {text}"
    );
    assert!(text.contains("\"destination\": \"+65****0002\""), "{text}");
    assert!(
        text.contains("validation: ok, a valid callflow (reply mode)"),
        "{text}"
    );
    let got = server.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].payload()["source"], "+6591110001");

    let mut cmd = bin();
    cmd.args([
        "send",
        "--url",
        &server.url,
        "--event",
        "call-action",
        "--show-numbers",
    ]);
    let text = stdout(&run(cmd).await);
    assert!(text.contains("\"destination\": \"+6592220002\""), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_dtmf_makes_an_action_completed_and_other_events_are_acknowledged() {
    let server = Server::webhook(Webhook::new(Masking)).await;
    let mut cmd = bin();
    cmd.args([
        "send",
        "--url",
        &server.url,
        "--event",
        "call-action",
        "--dtmf",
        "42",
        "--client-action-id",
        "menu",
    ]);
    assert_eq!(run(cmd).await.status.code(), Some(0));
    let mut cmd = bin();
    cmd.args([
        "send",
        "--url",
        &server.url,
        "--event",
        "call-status",
        "--status",
        "CALL_DISCONNECTED",
    ]);
    let out = run(cmd).await;
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(stdout(&out).contains("validation: ok, acknowledged"));
    let mut cmd = bin();
    cmd.args([
        "send",
        "--url",
        &server.url,
        "--event",
        "session-summary",
        "--status",
        "BUSY",
    ]);
    assert_eq!(run(cmd).await.status.code(), Some(0));
    let got = server.received();
    assert_eq!(got[0].payload()["callStatus"], "ACTION_COMPLETED");
    assert_eq!(got[0].payload()["eventData"]["dtmf"], "42");
    assert_eq!(got[0].payload()["clientActionId"], "menu");
    assert_eq!(got[1].payload()["callStatus"], "CALL_DISCONNECTED");
    assert_eq!(got[2].payload()["sessionStatus"], "BUSY");
    assert_eq!(got[2].payload()["details"]["callB"]["callStatus"], "BUSY");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_exits_1_and_lists_violations_for_an_invalid_reply() {
    let server = Server::fixed(200, r#"{"callflow":[{"action":"makeCall","params":{"source":"+6568880000","destination":"12"}}]}"#).await;
    let mut cmd = bin();
    cmd.args(["send", "--url", &server.url, "--event", "call-action"]);
    let out = run(cmd).await;
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("validation: INVALID callflow"), "{text}");
    assert!(
        text.contains("$.callflow[0].params.destination: -1017"),
        "{text}"
    );
}
