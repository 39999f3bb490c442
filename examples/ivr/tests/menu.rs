//! The IVR through the test kit, in process: menus, routing on `clientActionId` + digits,
//! and outcomes counted from `SESSION_SUMMARY`s.

use std::sync::Arc;

use callflow::Webhook;
use callflow::event::SessionStatus;
use callflow::testing::{self, ReplyAssertions, TestClient};
use ivr::{Ivr, Stats};

fn client() -> (TestClient, Arc<Stats>) {
    let stats = Arc::new(Stats::default());
    (
        TestClient::new(Webhook::new(Ivr::new(stats.clone()))),
        stats,
    )
}

/// The `CALL_ACTION` 8x8 posts after a `sayAndCapture` of menu `id`.
fn pressed(id: &str, digits: &str) -> String {
    testing::call_action()
        .client_action_id(id)
        .dtmf(digits)
        .build_json()
}

#[tokio::test]
async fn an_inbound_call_gets_the_main_menu_with_its_client_action_id() {
    let (c, _) = client();
    let reply = c.post(testing::call_action().build_json()).await;
    assert_eq!(reply.status(), 200);
    assert_eq!(reply.reply_action_id().as_deref(), Some("main-menu"));
    assert_eq!(
        reply.prompts(),
        ["Welcome. Press 1 for sales, press 2 for support."]
    );
    let menu = &reply.captures()[0];
    assert_eq!((menu.min_digits, menu.max_digits), (Some(1), Some(1)));
    assert_eq!(menu.overall_timeout, Some(10_000));
    assert_eq!(menu.voice_profile.as_deref(), Some("en-US-BenjaminRUS"));
    assert!(reply.dialled().is_empty());
}

#[tokio::test]
async fn digits_are_routed_on_the_menu_they_answer() {
    let (c, _) = client();
    let sales = c.post(pressed("main-menu", "1")).await;
    assert_eq!(sales.reply_action_id().as_deref(), Some("sales-menu"));
    let support = c.post(pressed("main-menu", "2")).await;
    assert_eq!(support.reply_action_id().as_deref(), Some("support-menu"));

    // The same digit means another desk in another menu.
    let orders = c.post(pressed("sales-menu", "1")).await;
    assert_eq!(orders.said(), ["Connecting you to new orders."]);
    assert_eq!(orders.dialled(), ["+6594440001"]);
    let billing = c.post(pressed("support-menu", "1")).await;
    assert_eq!(billing.dialled(), ["+6594440003"]);
}

#[tokio::test]
async fn a_desk_sees_the_virtual_number_not_the_caller() {
    let (c, _) = client();
    let reply = c.post(pressed("sales-menu", "2")).await;
    let flow = reply.callflow();
    let Some(callflow::callflow::Action::MakeCall(call)) = flow.actions().last() else {
        panic!("no makeCall: {}", reply.text());
    };
    assert_eq!(call.source.as_str(), testing::VIRTUAL_NUMBER);
}

#[tokio::test]
async fn a_wrong_digit_no_digit_or_no_menu_gets_an_apology_and_a_hangup() {
    let (c, _) = client();
    for body in [
        pressed("main-menu", "9"),
        pressed("sales-menu", "7"),
        pressed("main-menu", ""),
        testing::call_action().dtmf("1").build_json(),
    ] {
        let reply = c.post(body).await;
        assert_eq!(reply.said(), [ivr::menu::SORRY]);
        assert!(reply.hangs_up());
        assert!(reply.dialled().is_empty());
    }
}

#[tokio::test]
async fn outcomes_are_counted_from_session_summaries_once_per_session() {
    let (c, stats) = client();
    let busy = testing::session_summary()
        .status(SessionStatus::Busy)
        .build_json();
    c.post(testing::session_summary().build_json()).await;
    c.post(busy.clone()).await;
    // 8x8 delivers the same summary again: answered from the store, not counted twice.
    let again = c.post(busy).await;
    assert!(again.0.is_replay());
    let snapshot = stats.snapshot();
    assert_eq!(snapshot.sessions, 2);
    assert_eq!(snapshot.by_status["COMPLETED"], 1);
    assert_eq!(snapshot.by_status["BUSY"], 1);
}
