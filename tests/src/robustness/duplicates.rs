//! Rows 21, 22 and 31: duplicate deliveries (after success, while the first runs, after a
//! restart) and a replayed `eventId` with another body.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use callflow::CallFlow;
use callflow::idempotency::MemoryIdempotencyStore;
use callflow::testing::conformance;
use callflow::testing::{self, BoundPair};

use super::Outcome;
use super::support::{Counting, counting_webhook, futures_join, post};
use crate::{Framework, Guards, http_client, run_case, serve_guarded};

/// #21: the same `eventId` again after success: the same bytes, the handler not run again.
pub(super) async fn duplicate_delivery_gets_the_first_answer_without_rerunning(
    framework: Framework,
) -> Outcome {
    let handler = Arc::new(Counting::default());
    let webhook = counting_webhook(conformance::builder(handler.clone()));
    let server = serve_guarded(framework, webhook, Guards::default()).await;
    let body = testing::call_action().event_id("dup-21").build_json();
    let first = run_case(&http_client(), server.addr, &post("first", body.clone())).await;
    let again = run_case(&http_client(), server.addr, &post("again", body)).await;
    server.shutdown().await?;
    if first.status != 200 || first != again {
        return Err(format!("first {first:?}, again {again:?}"));
    }
    match handler.runs.load(Ordering::SeqCst) {
        1 => Ok(()),
        n => Err(format!("the handler ran {n} times")),
    }
}

/// #22: five deliveries of one event at once (a retry while the first still runs): the
/// handler runs once, every delivery gets its answer.
pub(super) async fn concurrent_duplicates_run_the_handler_once(framework: Framework) -> Outcome {
    let handler = Arc::new(Counting {
        delay: Duration::from_millis(300),
        ..Counting::default()
    });
    let webhook =
        counting_webhook(conformance::builder(handler.clone()).deadline(Duration::from_secs(4)));
    let server = serve_guarded(framework, webhook, Guards::default()).await;
    let body = testing::call_action().event_id("dup-22").build_json();
    let addr = server.addr;
    let answers = futures_join((0..5).map(|_| {
        let case = post("concurrent", body.clone());
        async move { run_case(&http_client(), addr, &case).await }
    }))
    .await;
    server.shutdown().await?;
    let expected = CallFlow::builder().say("run 1").hangup().to_bytes();
    if let Some(bad) = answers
        .iter()
        .find(|a| a.status != 200 || a.body != expected)
    {
        return Err(format!("a delivery got {bad:?}"));
    }
    match handler.runs.load(Ordering::SeqCst) {
        1 => Ok(()),
        n => Err(format!("the handler ran {n} times")),
    }
}

/// #31: a duplicate that arrives after a restart (a new server and webhook sharing the
/// idempotency store) gets the first answer, and the handler does not run again.
pub(super) async fn duplicates_are_recognised_across_a_restart_with_a_shared_store(
    framework: Framework,
) -> Outcome {
    let store = Arc::new(MemoryIdempotencyStore::default());
    let handler = Arc::new(Counting::default());
    let body = testing::call_action().event_id("dup-31").build_json();
    let mut answers = Vec::new();
    for _ in 0..2 {
        let config = conformance::builder(handler.clone()).idempotency_store(store.clone());
        let webhook = counting_webhook(config);
        let server = serve_guarded(framework, webhook, Guards::default()).await;
        answers.push(run_case(&http_client(), server.addr, &post("restart", body.clone())).await);
        server.shutdown().await?;
    }
    if answers[0].status != 200 || answers[0] != answers[1] {
        return Err(format!(
            "before the restart {:?}, after {:?}",
            answers[0], answers[1]
        ));
    }
    match handler.runs.load(Ordering::SeqCst) {
        1 => Ok(()),
        n => Err(format!("the handler ran {n} times")),
    }
}

/// #21 (issue 13): a stranger's `CALL_ACTION` reusing the `eventId` of the bound caller's
/// delivery is handled as its own event (the handler runs, the answer names nobody) instead
/// of getting the stored reply, which names the bound party; the bound caller's bytes are
/// still answered from the store.
pub(super) async fn replayed_event_id_with_another_body_is_not_answered_from_the_store(
    framework: Framework,
) -> Outcome {
    let handler = Arc::new(BoundPair::default());
    let webhook = conformance::builder(handler.clone()).build();
    let server = serve_guarded(framework, webhook, Guards::default()).await;
    let call = testing::call_action().event_id("replayed-21");
    let bound = call.clone().from(testing::CALLER).build_json();
    let stranger = call.from("+6599990009").build_json();
    let client = http_client();
    let first = run_case(&client, server.addr, &post("bound", bound.clone())).await;
    let other = run_case(&client, server.addr, &post("stranger", stranger)).await;
    let again = run_case(&client, server.addr, &post("bound again", bound)).await;
    server.shutdown().await?;
    let named = |body: &[u8]| String::from_utf8_lossy(body).contains(testing::CALLEE);
    if first.status != 200 || !named(&first.body) {
        return Err(format!("the bound caller got {first:?}"));
    }
    if other.status != 200
        || named(&other.body)
        || other.body != BoundPair::stranger_reply().to_bytes()
    {
        return Err(format!(
            "the stranger did not get its own answer: {other:?}"
        ));
    }
    if again != first {
        return Err(format!(
            "the bound caller's repeat got {again:?}, not {first:?}"
        ));
    }
    match handler.runs() {
        2 => Ok(()),
        n => Err(format!(
            "the handler ran {n} times, not 2 (bound, stranger)"
        )),
    }
}
