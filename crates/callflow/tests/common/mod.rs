//! Test helpers shared by the core's test binaries.

#![allow(dead_code)]

use callflow::MakeCall;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use callflow::event::{CallAction, SessionSummary, UnknownEvent};
use callflow::testing::TestClient;
use callflow::{CallFlow, CallHandler, Context, HandlerError, Webhook, WebhookBuilder};

/// A handler whose behaviour is chosen by the caller number's last digit (and, for
/// summaries, by the session id `fail`, `panic`, `slow` or `unavailable`):
/// `…1` error, `…2` panic, `…3` sleeps 10 s, `…4` invalid callflow, `…5` store unavailable,
/// anything else bridges.
#[derive(Default)]
pub struct Scripted {
    pub calls: AtomicUsize,
    pub summaries: AtomicUsize,
    pub unknown: AtomicUsize,
}

impl CallHandler for Scripted {
    async fn on_call_action(&self, ev: CallAction, cx: &Context) -> Result<CallFlow, HandlerError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        assert!(!cx.request_id().is_empty());
        match ev.payload.source.as_str().chars().last() {
            Some('1') => Err(HandlerError::msg("database down")),
            Some('2') => panic!("handler bug"),
            Some('3') => {
                tokio::time::sleep(Duration::from_secs(10)).await;
                Ok(CallFlow::builder().say("too late").hangup())
            }
            Some('5') => Err(HandlerError::unavailable("database is locked")),
            Some('4') => Ok(CallFlow::builder()
                .make_call(MakeCall::to("not a number").caller_id("+6568880000"))
                .build()),
            _ => Ok(CallFlow::builder()
                .make_call(MakeCall::to("+6592220002").caller_id(&ev.payload.destination))
                .build()),
        }
    }

    async fn on_session_summary(
        &self,
        ev: SessionSummary,
        _cx: &Context,
    ) -> Result<(), HandlerError> {
        self.summaries.fetch_add(1, Ordering::SeqCst);
        match ev.payload.session_id.as_str() {
            "fail" => Err(HandlerError::msg("could not store summary")),
            "panic" => panic!("summary bug"),
            "unavailable" => Err(HandlerError::unavailable("database is locked")),
            "slow" => {
                tokio::time::sleep(Duration::from_secs(10)).await;
                Ok(())
            }
            _ => Ok(()),
        }
    }

    async fn on_unknown(&self, _ev: UnknownEvent, _cx: &Context) -> Result<(), HandlerError> {
        self.unknown.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

pub fn client_with(
    config: impl FnOnce(WebhookBuilder) -> WebhookBuilder,
) -> (TestClient, Arc<Scripted>) {
    let handler = Arc::new(Scripted::default());
    let webhook = config(Webhook::builder(handler.clone())).build();
    (TestClient::new(webhook), handler)
}
