//! The adapter conformance suite over real HTTP: every case of
//! `callflow::testing::conformance` against a real server of each framework, which must
//! answer exactly what the core answers in process, and all four stacks the same (the
//! three adapters and the bare `Service` behind tower-http layers), the replay header of
//! duplicate deliveries included.

use std::collections::BTreeMap;

use callflow::testing::conformance;
use integration_tests::{Framework, http_client, run_case, run_suite, serve};

/// Runs every case against `framework` and checks each answer against the case and against
/// the core's own answer.
async fn conformance_of(framework: Framework) {
    let webhook = conformance::webhook();
    let addr = serve(framework, webhook.clone()).await;
    let client = http_client();
    let mut failures = Vec::new();
    let cases = conformance::cases();
    for case in &cases {
        let got = run_case(&client, addr, case).await;
        if let Err(e) = case.check(&got) {
            failures.push(e);
        }
        let expected = case.expected(&webhook).await;
        if got != expected {
            failures.push(format!(
                "case {}: differs from the core's answer\n  {framework}: {got:?}\n  core: {expected:?}",
                case.name
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{framework}: {} of {} cases failed:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
    // The server is still serving after every case (panics and over-limit uploads included).
    let after = run_case(&client, addr, &conformance::happy_path()).await;
    assert_eq!(after.status, 200, "{framework} stopped serving");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn axum_conformance() {
    conformance_of(Framework::Axum).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actix_web_conformance() {
    conformance_of(Framework::ActixWeb).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn warp_conformance() {
    conformance_of(Framework::Warp).await;
}

/// The bare `Webhook` tower `Service` behind tower-http layers, under plain hyper.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tower_http_conformance() {
    conformance_of(Framework::TowerHttp).await;
}

/// For every case, the four stacks return the same status, `Content-Type`, `Allow` and
/// body bytes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn frameworks_answer_identically() {
    let (axum, actix, warp, tower) = tokio::join!(
        run_suite(Framework::Axum),
        run_suite(Framework::ActixWeb),
        run_suite(Framework::Warp),
        run_suite(Framework::TowerHttp)
    );
    let runs = [
        (Framework::Axum, axum),
        (Framework::ActixWeb, actix),
        (Framework::Warp, warp),
        (Framework::TowerHttp, tower),
    ];
    let mut by_case: BTreeMap<&str, Vec<(Framework, &conformance::Observed)>> = BTreeMap::new();
    for (framework, results) in &runs {
        assert_eq!(results.len(), conformance::cases().len());
        for (name, observed) in results {
            by_case
                .entry(name)
                .or_default()
                .push((*framework, observed));
        }
    }
    let mut differences = Vec::new();
    for (name, answers) in &by_case {
        let (first, reference) = answers[0];
        for (framework, observed) in &answers[1..] {
            // `==` leaves the replay header out; every stack saw the same requests in the same
            // order, so it must agree too.
            if observed != &reference || observed.replay != reference.replay {
                differences.push(format!(
                    "case {name}:\n  {first}: {reference:?}\n  {framework}: {observed:?}"
                ));
            }
        }
    }
    assert!(
        differences.is_empty(),
        "frameworks differ:\n{}",
        differences.join("\n")
    );
}
