//! Rows 18-20: a handler that panics, overruns its deadline, fails or finds its store
//! unavailable.

use std::sync::Arc;
use std::time::Instant;

use callflow::event::{CallAction, SessionSummary};
use callflow::testing;
use callflow::testing::conformance;
use callflow::{CallFlow, CallHandler, Context, HandlerError};
use http::StatusCode;

use super::Outcome;
use super::support::{SLACK, answered, conformance_case, exchange, exchanges, post, refused};
use crate::{Framework, Guards, serve_guarded};

/// #18: a panicking handler: the fallback callflow (`CALL_ACTION`) or 500 JSON, the
/// keep-alive connection survives, and the server keeps serving.
pub(super) async fn handler_panic_is_answered_and_the_connection_survives(
    framework: Framework,
) -> Outcome {
    exchanges(
        framework,
        conformance::webhook(),
        &[
            conformance_case("call_action_handler_panic"),
            conformance_case("session_summary_handler_panic"),
        ],
    )
    .await
}

/// #19: a handler past the deadline: the fallback / 503 at the deadline, not later.
pub(super) async fn handler_past_the_deadline_is_answered_at_the_deadline(
    framework: Framework,
) -> Outcome {
    let start = Instant::now();
    exchanges(
        framework,
        conformance::webhook(),
        &[
            conformance_case("call_action_deadline"),
            conformance_case("session_summary_deadline"),
        ],
    )
    .await?;
    // Two deadlines of 200 ms (the handler would sleep 10 s each).
    if start.elapsed() > 2 * conformance::DEADLINE + SLACK {
        return Err(format!("the deadline answers took {:?}", start.elapsed()));
    }
    Ok(())
}

/// #20: a handler error: the fallback callflow or 500 JSON.
pub(super) async fn handler_error_gets_the_fallback_or_500(framework: Framework) -> Outcome {
    exchanges(
        framework,
        conformance::webhook(),
        &[
            conformance_case("call_action_handler_error"),
            conformance_case("session_summary_handler_error"),
        ],
    )
    .await
}

/// A handler whose store is unavailable.
pub(super) struct StoreDown;

impl CallHandler for StoreDown {
    async fn on_call_action(
        &self,
        _event: CallAction,
        _cx: &Context,
    ) -> Result<CallFlow, HandlerError> {
        Err(HandlerError::unavailable("database is locked"))
    }

    async fn on_session_summary(
        &self,
        _event: SessionSummary,
        _cx: &Context,
    ) -> Result<(), HandlerError> {
        Err(HandlerError::unavailable("database is locked"))
    }
}

/// #20 (issue #13): [`HandlerError::unavailable`]: a `SESSION_SUMMARY` gets 503
/// `store_unavailable` (not 500 `internal_error`, which 8x8 treats as final), a
/// `CALL_ACTION` the fallback callflow; the connection keeps serving.
pub(super) async fn store_unavailable_is_503_for_events_and_the_fallback_for_calls(
    framework: Framework,
) -> Outcome {
    let webhook = conformance::builder(Arc::new(StoreDown)).build();
    let fallback = webhook.fallback().to_bytes();
    let server = serve_guarded(framework, webhook.clone(), Guards::default()).await;
    let cases = [
        answered(
            post(
                "call_action_store_unavailable",
                testing::call_action().build_json(),
            ),
            fallback,
        ),
        refused(
            post(
                "session_summary_store_unavailable",
                testing::session_summary().build_json(),
            ),
            StatusCode::SERVICE_UNAVAILABLE,
            "store_unavailable",
        ),
    ];
    let mut failures = Vec::new();
    for case in &cases {
        if let Err(e) = exchange(server.addr, &webhook, case).await {
            failures.push(e);
        }
    }
    server.shutdown().await?;
    if failures.is_empty() {
        Ok(())
    } else {
        Err(failures.join("\n"))
    }
}
