//! Rows 23 and 24: events out of order, and stale or future timestamps.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use callflow::event::{CallAction, CallStatusEvent, SessionSummary};
use callflow::testing;
use callflow::testing::conformance;
use callflow::{CallFlow, CallHandler, Context, HandlerError, Timestamp};

use super::Outcome;
use super::support::{ack, answered, post};
use crate::{Framework, Guards, http_client, run_case, serve_guarded};

/// A handler that records what reached it, in order.
#[derive(Default)]
pub(super) struct Recording {
    seen: Mutex<Vec<(String, Option<Timestamp>)>>,
}

impl CallHandler for Recording {
    async fn on_call_action(
        &self,
        event: CallAction,
        _cx: &Context,
    ) -> Result<CallFlow, HandlerError> {
        self.seen
            .lock()
            .unwrap()
            .push(("CALL_ACTION".into(), event.payload.timestamp.clone()));
        Ok(conformance::reply())
    }

    async fn on_call_status(
        &self,
        event: CallStatusEvent,
        _cx: &Context,
    ) -> Result<(), HandlerError> {
        self.seen
            .lock()
            .unwrap()
            .push(("CALL_STATUS".into(), event.payload.timestamp.clone()));
        Ok(())
    }

    async fn on_session_summary(
        &self,
        _event: SessionSummary,
        _cx: &Context,
    ) -> Result<(), HandlerError> {
        self.seen
            .lock()
            .unwrap()
            .push(("SESSION_SUMMARY".into(), None));
        Ok(())
    }
}

/// #23: a `CALL_STATUS` after the `SESSION_SUMMARY` of its session: both acknowledged, in
/// the order they came (the core keeps no session state to regress; ordering is the
/// handler's business, see tests/README.md).
pub(super) async fn out_of_order_events_are_each_acknowledged(framework: Framework) -> Outcome {
    let handler = Arc::new(Recording::default());
    let webhook = conformance::builder(handler.clone()).build();
    let server = serve_guarded(framework, webhook, Guards::default()).await;
    let summary = testing::session_summary().session_id("s-23").build_json();
    let status = testing::call_status().session_id("s-23").build_json();
    let client = http_client();
    let first = run_case(
        &client,
        server.addr,
        &answered(post("summary", summary), ack()),
    )
    .await;
    let second = run_case(
        &client,
        server.addr,
        &answered(post("status", status), ack()),
    )
    .await;
    server.shutdown().await?;
    if first.status != 200 || first.body != ack() || second.status != 200 || second.body != ack() {
        return Err(format!("summary {first:?}, status {second:?}"));
    }
    let seen: Vec<String> = handler
        .seen
        .lock()
        .unwrap()
        .iter()
        .map(|(t, _)| t.clone())
        .collect();
    if seen != ["SESSION_SUMMARY", "CALL_STATUS"] {
        return Err(format!("the handler saw {seen:?}"));
    }
    Ok(())
}

/// #24: a timestamp two days old and one a day ahead: accepted (no configurable rejection in
/// the core yet), and the handler gets the parsed instant to judge ("accept + flag").
pub(super) async fn stale_and_future_timestamps_reach_the_handler(framework: Framework) -> Outcome {
    let handler = Arc::new(Recording::default());
    let webhook = conformance::builder(handler.clone()).build();
    let server = serve_guarded(framework, webhook, Guards::default()).await;
    let day = Duration::from_secs(24 * 3600);
    let now = SystemTime::now();
    let stale = Timestamp::from_system_time(now - 2 * day);
    let future = Timestamp::from_system_time(now + day);
    let client = http_client();
    for ts in [&stale, &future] {
        let body = testing::call_action()
            .with(|p| p.timestamp = Some(ts.clone()))
            .build_json();
        let got = run_case(&client, server.addr, &post("timestamp", body)).await;
        if got.status != 200 || got.body != conformance::reply().to_bytes() {
            return Err(format!("timestamp {ts}: {got:?}"));
        }
    }
    server.shutdown().await?;
    let seen = handler.seen.lock().unwrap().clone();
    let ages: Vec<Option<i64>> = seen
        .iter()
        .map(|(_, t)| t.as_ref().and_then(Timestamp::unix_millis))
        .collect();
    if ages != [stale.unix_millis(), future.unix_millis()] || ages.contains(&None) {
        return Err(format!("the handler saw {seen:?}"));
    }
    Ok(())
}
