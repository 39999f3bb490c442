//! Exactly-once handling of duplicate deliveries, in `Webhook::dispatch`.

use callflow::MakeCall;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use callflow::event::{
    CallAction, CallStatusEvent, SessionStatus, SessionSummary, VirtualNumberUpdate,
};
use callflow::idempotency::{
    Claim, Fingerprint, IdempotencyError, IdempotencyErrorKind, IdempotencyStore, StoredReply,
};
use callflow::testing::{self, TestClient};
use callflow::{
    CallFlow, CallHandler, Context, HandlerError, Webhook, WebhookBuilder, default_fallback,
};

/// Counts every run; the first `fail_first` CALL_ACTION runs fail; every run takes `delay`.
#[derive(Default)]
struct Counting {
    actions: AtomicUsize,
    statuses: AtomicUsize,
    summaries: AtomicUsize,
    numbers: AtomicUsize,
    fail_first: usize,
    delay: Duration,
}

impl CallHandler for Counting {
    async fn on_call_action(
        &self,
        ev: CallAction,
        _cx: &Context,
    ) -> Result<CallFlow, HandlerError> {
        let n = self.actions.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(self.delay).await;
        if n < self.fail_first {
            return Err(HandlerError::msg("transient failure"));
        }
        // The run number is in the reply, so a rerun would show.
        Ok(CallFlow::builder()
            .client_action_id(format!("run-{n}"))
            .make_call(MakeCall::to("+6592220002").caller_id(&ev.payload.destination))
            .build())
    }
    async fn on_call_status(
        &self,
        _ev: CallStatusEvent,
        _cx: &Context,
    ) -> Result<(), HandlerError> {
        self.statuses.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
    async fn on_session_summary(
        &self,
        _ev: SessionSummary,
        _cx: &Context,
    ) -> Result<(), HandlerError> {
        self.summaries.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
    async fn on_virtual_number_update(
        &self,
        _ev: VirtualNumberUpdate,
        _cx: &Context,
    ) -> Result<(), HandlerError> {
        self.numbers.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }
}

fn setup(
    handler: Counting,
    config: impl FnOnce(WebhookBuilder) -> WebhookBuilder,
) -> (TestClient, Arc<Counting>) {
    let h = Arc::new(handler);
    (
        TestClient::new(config(Webhook::builder(h.clone())).build()),
        h,
    )
}

#[tokio::test]
async fn duplicate_call_action_gets_the_same_bytes_without_running_the_handler() {
    let (c, h) = setup(Counting::default(), |b| b);
    let body = testing::call_action().event_id("evt-1").build_json();
    let first = c.post(body.clone()).await;
    let second = c.post(body.clone()).await;
    let third = c.post(body).await;
    assert_eq!(h.actions.load(Ordering::SeqCst), 1);
    assert_eq!(first.text(), second.text());
    assert_eq!(first.text(), third.text());
    assert!(first.text().contains("run-0"));
}

#[tokio::test]
async fn same_id_and_same_bytes_is_replayed_without_running_the_handler() {
    let (c, h) = setup(Counting::default(), |b| b);
    let body = testing::call_action()
        .event_id("evt-same")
        .from("+6591110001")
        .build_json();
    let first = c.post(body.clone()).await;
    let replay = c.post(body).await;
    assert_eq!(h.actions.load(Ordering::SeqCst), 1);
    assert_eq!(
        (first.status(), first.text()),
        (replay.status(), replay.text())
    );
}

#[tokio::test]
async fn same_id_with_other_bytes_is_a_new_event_and_the_first_record_stays() {
    let (c, h) = setup(Counting::default(), |b| b);
    let original = testing::call_action()
        .event_id("evt-replayed")
        .from("+6591110001")
        .build_json();
    let forged = testing::call_action()
        .event_id("evt-replayed")
        .from("+6599990009")
        .build_json();
    let first = c.post(original.clone()).await;
    assert!(first.text().contains("run-0"), "{}", first.text());

    // Another caller's body with the same eventId: the handler runs, the answer is its own.
    let other = c.post(forged.clone()).await;
    assert_eq!(h.actions.load(Ordering::SeqCst), 2);
    assert!(other.text().contains("run-1"), "{}", other.text());
    assert_ne!(other.text(), first.text());
    // It is not stored either: each such request is its own event.
    let again = c.post(forged).await;
    assert!(again.text().contains("run-2"), "{}", again.text());

    // The first delivery's record was neither replaced nor released.
    let replay = c.post(original).await;
    assert_eq!(replay.text(), first.text());
    assert_eq!(h.actions.load(Ordering::SeqCst), 3);
}

#[tokio::test]
async fn a_session_summary_with_other_bytes_is_handled_again() {
    let (c, h) = setup(Counting::default(), |b| b);
    let summary = testing::session_summary().session_id("sess-forged");
    c.post(summary.clone().build_json()).await;
    c.post(summary.clone().build_json()).await;
    assert_eq!(
        h.summaries.load(Ordering::SeqCst),
        1,
        "same bytes: a duplicate"
    );
    c.post(summary.status(SessionStatus::NoAnswer).build_json())
        .await;
    assert_eq!(
        h.summaries.load(Ordering::SeqCst),
        2,
        "other bytes: a new event"
    );
}

#[tokio::test(start_paused = true)]
async fn other_bytes_during_the_first_run_do_not_wait_for_it_nor_take_its_answer() {
    let handler = Counting {
        delay: Duration::from_millis(1500),
        ..Counting::default()
    };
    let (c, h) = setup(handler, |b| b);
    let original = testing::call_action()
        .event_id("evt-race")
        .from("+6591110001")
        .build_json();
    let forged = testing::call_action()
        .event_id("evt-race")
        .from("+6599990009")
        .build_json();
    let later = |body: String, after: u64| {
        let c = c.clone();
        async move {
            tokio::time::sleep(Duration::from_millis(after)).await;
            c.post(body).await
        }
    };
    let (first, other, duplicate) = tokio::join!(
        later(original.clone(), 0),
        later(forged, 100),
        later(original, 200)
    );
    assert_eq!(h.actions.load(Ordering::SeqCst), 2, "the original ran once");
    assert!(first.text().contains("run-0"), "{}", first.text());
    assert!(other.text().contains("run-1"), "{}", other.text());
    assert_eq!(
        duplicate.text(),
        first.text(),
        "the duplicate waited for the first"
    );
}

#[tokio::test]
async fn the_key_is_the_event_id() {
    let (c, h) = setup(Counting::default(), |b| b);
    // Same session and call, different event ids: two events.
    let a = testing::call_action()
        .event_id("e-a")
        .session_id("s")
        .call_id("c")
        .build_json();
    let b = testing::call_action()
        .event_id("e-b")
        .session_id("s")
        .call_id("c")
        .build_json();
    c.post(a.clone()).await;
    c.post(b).await;
    assert_eq!(h.actions.load(Ordering::SeqCst), 2);
    let s = testing::call_status().event_id("e-a").build_json();
    // A CALL_STATUS reusing an earlier event's eventId has other bytes: not that event's
    // duplicate, so it is handled, every time (the id's record stays the CALL_ACTION's).
    c.post(s.clone()).await;
    c.post(s).await;
    assert_eq!(h.statuses.load(Ordering::SeqCst), 2);
    assert_eq!(h.actions.load(Ordering::SeqCst), 2);
    c.post(a).await;
    assert_eq!(
        h.actions.load(Ordering::SeqCst),
        2,
        "the CALL_ACTION still replays"
    );
}

#[tokio::test]
async fn session_summary_is_keyed_by_session_and_type() {
    let (c, h) = setup(Counting::default(), |b| b);
    let summary = testing::session_summary().session_id("sess-9");
    let r1 = c.post(summary.clone().build_json()).await;
    let r2 = c.post(summary.build_json()).await;
    assert_eq!((r1.status().as_u16(), r2.status().as_u16()), (200, 200));
    assert_eq!(r1.text(), r2.text());
    assert_eq!(h.summaries.load(Ordering::SeqCst), 1);
    c.post(
        testing::session_summary()
            .session_id("sess-10")
            .build_json(),
    )
    .await;
    assert_eq!(h.summaries.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn events_without_ids_are_not_deduplicated() {
    let (c, h) = setup(Counting::default(), |b| b);
    let body = serde_json::to_string(&testing::virtual_number_update()).unwrap();
    c.post(body.clone()).await;
    c.post(body).await;
    assert_eq!(h.numbers.load(Ordering::SeqCst), 2);
}

#[tokio::test(start_paused = true)]
async fn a_duplicate_during_the_first_run_waits_for_its_result() {
    let handler = Counting {
        delay: Duration::from_millis(1500),
        ..Counting::default()
    };
    let (c, h) = setup(handler, |b| b);
    let body = testing::call_action().event_id("evt-slow").build_json();
    let start = tokio::time::Instant::now();
    let (first, second) = tokio::join!(c.post(body.clone()), async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        c.post(body.clone()).await
    });
    assert_eq!(h.actions.load(Ordering::SeqCst), 1, "the handler ran once");
    assert_eq!(first.text(), second.text());
    assert!(first.text().contains("run-0"));
    assert!(start.elapsed() >= Duration::from_millis(1500));
    assert!(
        start.elapsed() < Duration::from_millis(1700),
        "{:?}",
        start.elapsed()
    );
}

#[tokio::test(start_paused = true)]
async fn many_concurrent_duplicates_run_the_handler_once() {
    let handler = Counting {
        delay: Duration::from_millis(300),
        ..Counting::default()
    };
    let (c, h) = setup(handler, |b| b);
    let body = testing::call_action().event_id("evt-burst").build_json();
    let replies = futures_join_all((0..50).map(|_| {
        let (c, body) = (c.clone(), body.clone());
        async move { c.post(body).await }
    }))
    .await;
    assert_eq!(h.actions.load(Ordering::SeqCst), 1);
    assert!(replies.iter().all(|r| r.text() == replies[0].text()));
}

async fn futures_join_all<F>(futs: impl Iterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let mut set = Vec::new();
    for f in futs {
        set.push(tokio::spawn(f));
    }
    let mut out = Vec::new();
    for h in set {
        out.push(h.await.unwrap());
    }
    out
}

#[tokio::test]
async fn a_failed_first_attempt_releases_its_claim() {
    let handler = Counting {
        fail_first: 1,
        ..Counting::default()
    };
    let (c, h) = setup(handler, |b| b);
    let body = testing::call_action().event_id("evt-retry").build_json();
    let first = c.post(body.clone()).await;
    assert_eq!(first.text(), default_fallback().to_json());
    let retry = c.post(body.clone()).await;
    assert!(retry.text().contains("run-1"), "{}", retry.text());
    let again = c.post(body).await;
    assert_eq!(again.text(), retry.text());
    assert_eq!(h.actions.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn idempotency_can_be_switched_off() {
    let (c, h) = setup(Counting::default(), |b: WebhookBuilder| b.no_idempotency());
    let body = testing::call_action().event_id("evt-1").build_json();
    let a = c.post(body.clone()).await;
    let b = c.post(body).await;
    assert_eq!(h.actions.load(Ordering::SeqCst), 2);
    assert_ne!(a.text(), b.text());
}

#[tokio::test]
async fn stored_replies_expire_after_the_ttl() {
    let (c, h) = setup(Counting::default(), |b: WebhookBuilder| {
        b.idempotency_ttl(Duration::from_millis(50))
    });
    let body = testing::call_action().event_id("evt-ttl").build_json();
    c.post(body.clone()).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    c.post(body).await;
    assert_eq!(h.actions.load(Ordering::SeqCst), 2);
}

struct Unreachable;

impl IdempotencyStore for Unreachable {
    async fn claim(
        &self,
        _: &str,
        _: &Fingerprint,
        _: Duration,
    ) -> Result<Claim, IdempotencyError> {
        Err(IdempotencyError::new(
            IdempotencyErrorKind::Unavailable,
            "connection refused",
        ))
    }
    async fn complete(
        &self,
        _: &str,
        _: &Fingerprint,
        _: &StoredReply,
        _: Duration,
    ) -> Result<(), IdempotencyError> {
        Err(IdempotencyError::new(
            IdempotencyErrorKind::Unavailable,
            "connection refused",
        ))
    }
    async fn release(&self, _: &str, _: &Fingerprint) -> Result<(), IdempotencyError> {
        Err(IdempotencyError::new(
            IdempotencyErrorKind::Unavailable,
            "connection refused",
        ))
    }
}

#[tokio::test]
async fn an_unreachable_store_gives_the_fallback_or_503() {
    let (c, h) = setup(Counting::default(), |b: WebhookBuilder| {
        b.idempotency_store(Arc::new(Unreachable))
    });
    let r = c.post(testing::call_action().build_json()).await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.text(), default_fallback().to_json());
    let r = c.post(testing::session_summary().build_json()).await;
    assert_eq!(r.status(), 503);
    assert_eq!(r.error_code().as_deref(), Some("store_unavailable"));
    assert_eq!(
        h.actions.load(Ordering::SeqCst) + h.summaries.load(Ordering::SeqCst),
        0
    );
}

/// A store that never answers, like a Redis behind a black-holed network.
struct Hanging;

impl IdempotencyStore for Hanging {
    async fn claim(
        &self,
        _: &str,
        _: &Fingerprint,
        _: Duration,
    ) -> Result<Claim, IdempotencyError> {
        std::future::pending().await
    }
    async fn complete(
        &self,
        _: &str,
        _: &Fingerprint,
        _: &StoredReply,
        _: Duration,
    ) -> Result<(), IdempotencyError> {
        std::future::pending().await
    }
    async fn release(&self, _: &str, _: &Fingerprint) -> Result<(), IdempotencyError> {
        std::future::pending().await
    }
}

#[tokio::test(start_paused = true)]
async fn a_hanging_store_is_given_up_at_the_deadline() {
    let (c, h) = setup(Counting::default(), |b: WebhookBuilder| {
        b.deadline(Duration::from_secs(2))
            .idempotency_store(Arc::new(Hanging))
    });
    let start = tokio::time::Instant::now();
    let r = c.post(testing::call_action().build_json()).await;
    assert_eq!(r.text(), default_fallback().to_json());
    assert_eq!(start.elapsed(), Duration::from_secs(2));
    let r = c.post(testing::session_summary().build_json()).await;
    assert_eq!(r.status(), 503);
    assert_eq!(h.actions.load(Ordering::SeqCst), 0);
}
