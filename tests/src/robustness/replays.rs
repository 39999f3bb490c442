//! Issue 13, defect 6: a replayed `eventId` is a duplicate only with the same bytes.

use std::sync::Arc;

use callflow::testing::{self, BoundPair, conformance};

use super::{Outcome, post};
use crate::{Framework, Guards, http_client, run_case, serve_guarded};

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
