//! 8x8's own Voice API document against the emulator, checked by schemathesis (a tool nobody
//! here wrote): every one of the 14 operations answers with a documented status code and a
//! body matching the documented schema.
//!
//! Needs `CALLFLOW_SCHEMATHESIS` (the schemathesis executable, installed by `.ci/run` into
//! `tools/schemathesis/.venv`) and `CALLFLOW_8X8_OPENAPI` (8x8's `voice_v1_api.json`, never
//! committed). Without them the test prints SKIPPED, and fails when `CI=true`.

use std::path::PathBuf;
use std::time::Duration;

use callflow_sim::emulator::{Emulator, EmulatorConfig};

const KEY: &str = "schemathesis-key";

/// The tool and the document, or why the test cannot run.
fn inputs() -> Result<(PathBuf, PathBuf), String> {
    let tool = std::env::var_os("CALLFLOW_SCHEMATHESIS")
        .map(PathBuf::from)
        .ok_or("CALLFLOW_SCHEMATHESIS is not set (bash .ci/run installs schemathesis)")?;
    if !tool.is_file() {
        return Err(format!(
            "CALLFLOW_SCHEMATHESIS={} does not exist",
            tool.display()
        ));
    }
    let doc = std::env::var_os("CALLFLOW_8X8_OPENAPI")
        .map(PathBuf::from)
        .ok_or("CALLFLOW_8X8_OPENAPI is not set (8x8's voice_v1_api.json)")?;
    if !doc.is_file() {
        return Err(format!(
            "CALLFLOW_8X8_OPENAPI={} does not exist",
            doc.display()
        ));
    }
    Ok((tool, doc))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_every_operation_conforming_to_8x8s_document() {
    schemathesis(&["--mode", "positive"]).await;
}

/// Negative data too (`--mode all`: bodies, paths and queries that break the schema), with
/// the documented `--generation-with-security-parameters false`: schemathesis then keeps the
/// API key of `--header` instead of also generating requests without it. Those requests
/// would be answered 401, which five operations of 8x8's document (the numbers and the log
/// exports) do not list although the key applies to them — a defect of the document, listed
/// in the README; the 401 itself is tested in `tests/emulator.rs`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_with_negative_data_finds_every_operation_conforming_too() {
    schemathesis(&[
        "--mode",
        "all",
        "--generation-with-security-parameters",
        "false",
    ])
    .await;
}

/// Runs schemathesis with `mode` against a fresh emulator; fails on any failure it reports.
async fn schemathesis(mode: &[&str]) {
    let (tool, doc) = match inputs() {
        Ok(x) => x,
        Err(why) => {
            if std::env::var("CI").is_ok_and(|v| v == "true") {
                panic!("schemathesis conformance cannot run under CI=true: {why}");
            }
            eprintln!("SKIPPED: schemathesis against the emulator: {why}");
            return;
        }
    };
    let config = EmulatorConfig::new()
        .api_key(KEY)
        .virtual_number("+6568880000");
    let emulator = Emulator::start("127.0.0.1:0", config).await.unwrap();
    let work = std::env::temp_dir().join(format!(
        "callflow-schemathesis-{}-{}",
        std::process::id(),
        mode.join("-")
    ));
    std::fs::create_dir_all(&work).unwrap();
    let run = tokio::process::Command::new(&tool)
        .current_dir(&work)
        .arg("run")
        .arg(&doc)
        .args(["--url", &emulator.url()])
        .args(["--header", &format!("Authorization: Bearer {KEY}")])
        .args([
            "--checks",
            "not_a_server_error,status_code_conformance,content_type_conformance,\
             response_schema_conformance,response_headers_conformance",
        ])
        .args(mode)
        .args(["--phases", "examples,coverage,fuzzing"])
        .args(["--max-examples", "10", "--seed", "1", "--workers", "1"])
        .args(["--generation-database", "none", "--no-color"])
        .args(["--request-timeout", "10"])
        .kill_on_drop(true)
        .output();
    let out = tokio::time::timeout(Duration::from_secs(300), run)
        .await
        .expect("schemathesis finished within 5 minutes")
        .expect("schemathesis runs");
    emulator.shutdown().await;
    let _ = std::fs::remove_dir_all(&work);
    let text = String::from_utf8_lossy(&out.stdout);
    println!("{text}");
    eprintln!("{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "schemathesis found failures (above)");
    assert!(text.contains("Tested: 14"), "all 14 operations were tested");
    let cases = text
        .lines()
        .find(|l| l.contains("generated,"))
        .expect("a summary of the test cases");
    assert!(
        cases.contains("passed") && !cases.contains("fail"),
        "{cases}"
    );
}
