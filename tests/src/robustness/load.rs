//! Row 32: sustained mixed load, bounded.

use callflow::testing;
use callflow::testing::conformance;

use super::Outcome;
use super::support::{futures_join, post};
use crate::{Framework, Guards, http_client, run_case, serve_guarded};

/// #32 (bounded here; `scripts/soak.sh` runs 5 minutes and watches memory): 8 clients send
/// 400 webhooks, a mix of new, duplicate and malformed events, each with its expected
/// answer; no error.
pub(super) async fn sustained_mixed_load_gets_only_expected_answers(
    framework: Framework,
) -> Outcome {
    let webhook = conformance::webhook();
    let server = serve_guarded(framework, webhook, Guards::default()).await;
    let addr = server.addr;
    let results = futures_join((0..8).map(move |worker| async move {
        let client = http_client();
        let mut failures = Vec::new();
        for n in 0..50 {
            let (body, expected): (String, u16) = match n % 4 {
                0 | 1 => (
                    testing::call_action()
                        .event_id(&format!("load-{worker}-{n}"))
                        .build_json(),
                    200,
                ),
                2 => (
                    testing::call_action()
                        .event_id("load-duplicate")
                        .build_json(),
                    200,
                ),
                _ => ("{\"eventType\":\"CALL_ACTION\",".to_owned(), 400),
            };
            let got = run_case(&client, addr, &post("load", body)).await;
            if got.status != expected {
                failures.push(format!("worker {worker} request {n}: {got:?}"));
            }
        }
        failures
    }))
    .await;
    let failures: Vec<String> = results.into_iter().flatten().collect();
    server.shutdown().await?;
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures.join("\n"))
    }
}
