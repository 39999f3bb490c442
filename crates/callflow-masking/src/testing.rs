//! The masking rules every [`BindingStore`] must follow, as a test
//! suite any store runs with one line (feature `testing`):
//!
//! ```ignore
//! callflow_masking::binding_store_rules!(memory_rules, |_test_name| {
//!     Some((std::sync::Arc::new(callflow_masking::MemoryStore::new()), ()))
//! });
//! ```
//!
//! [`binding_store_rules!`](crate::binding_store_rules) expands to a module of
//! `#[tokio::test]`s (the caller needs `tokio` with the `macros`, `rt-multi-thread` and
//! `time` features): each runs the setup, an async block given the test's name that returns
//! `Some((Arc<store>, guard))` (the guard, e.g. a temporary directory, lives until the test
//! ends) or `None` to skip the test, then one rule against the store, through
//! [`MaskingHandler`] where the rule is about calls.

use std::sync::Arc;

use callflow::callflow::Action;
use callflow::testing::{self, TestClient};
use callflow::{CallFlow, Webhook};

use crate::{BindingStore, MaskingHandler};

/// The virtual number of the rules.
pub const VN: &str = "+6568880000";
/// Party A.
pub const A: &str = "+6591110001";
/// Party B.
pub const B: &str = "+6592220002";
/// A caller bound to nothing.
pub const STRANGER: &str = "+6593330003";

/// `(caller id, destination, callRecording)` when `flow` is one `makeCall`.
pub fn bridge_target(flow: &CallFlow) -> Option<(String, String, Option<bool>)> {
    match flow.actions() {
        [Action::MakeCall(m)] => Some((
            m.source.as_str().to_owned(),
            m.destination.as_str().to_owned(),
            m.call_recording,
        )),
        _ => None,
    }
}

/// The text when `flow` is a `say` then a `hangup`.
pub fn said(flow: &CallFlow) -> Option<String> {
    match flow.actions() {
        [Action::Say(s), Action::Hangup] => Some(s.text.clone()),
        _ => None,
    }
}

/// The callflow a [`MaskingHandler`] over `store` answers to a call from `from` to `to`.
pub async fn call<S: BindingStore>(store: &Arc<S>, from: &str, to: &str) -> CallFlow {
    let client = TestClient::new(Webhook::new(MaskingHandler::from_arc(store.clone())));
    client
        .post(testing::call_action().from(from).to(to).build_json())
        .await
        .callflow()
}

/// How long a rule's short-lived binding stays active: long enough for a create and a call
/// on a loaded machine (a Redis create makes several round trips), short for a test.
pub const SHORT_TTL_MS: i64 = 1000;

/// Sleeps until `expires_at` (Unix ms, [`crate::now_millis`]'s clock) has passed by 50 ms.
pub async fn sleep_past(expires_at: i64) {
    let left = expires_at + 50 - crate::now_millis();
    if left > 0 {
        tokio::time::sleep(std::time::Duration::from_millis(left as u64)).await;
    }
}

/// A fixture of `callflow::testing::fixtures` as an owned string.
pub fn fixture(name: &str) -> String {
    testing::fixtures::get(name).to_owned()
}

/// What the rules' bodies use, imported by the module [`binding_store_rules!`](crate::binding_store_rules) generates.
pub mod prelude {
    pub use super::{
        A, B, SHORT_TTL_MS, STRANGER, VN, bridge_target, call, fixture, said, sleep_past,
    };
    pub use crate::{
        BindingError, BindingStore, Lookup, MaskingHandler, Messages, NewBinding, StoreError,
        now_millis,
    };
    pub use callflow::callflow::{Action, Mode};
    pub use callflow::event::SessionStatus;
    pub use callflow::testing::{self, TestClient};
    pub use callflow::{CallFlow, PhoneNumber, Webhook};
    pub use std::sync::Arc;
    pub use std::time::Duration;
}

/// Runs every masking rule against a store: `binding_store_rules!(module, |test_name| setup)`
/// (see [the module docs](crate::testing)).
#[macro_export]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
macro_rules! binding_store_rules {
    ($module:ident, |$test:ident| $setup:expr) => {
        mod $module {
            #[allow(unused_imports)]
            use super::*;
            #[allow(unused_imports)]
            use $crate::testing::prelude::*;

            $crate::__binding_store_rule! { ($setup, $test)
            party_a_is_bridged_to_b_with_the_vn_as_caller_id(store) {
                store.create(NewBinding::new(VN, A, B).unwrap()).await.unwrap();
                let flow = call(&store, A, VN).await;
                assert_eq!(bridge_target(&flow), Some((VN.into(), B.into(), None)));
                assert!(flow.validate(Mode::Reply).is_ok());
            }

            party_b_calling_back_is_bridged_to_a(store) {
                store.create(NewBinding::new(VN, A, B).unwrap()).await.unwrap();
                let flow = call(&store, B, VN).await;
                assert_eq!(bridge_target(&flow), Some((VN.into(), A.into(), None)));
            }

            numbers_match_with_or_without_plus(store) {
                store.create(NewBinding::new("6568880000", "6591110001", B).unwrap()).await.unwrap();
                let flow = call(&store, A, VN).await;
                assert_eq!(bridge_target(&flow), Some((VN.into(), B.into(), None)));
                let flow = call(&store, "6592220002", "6568880000").await;
                assert_eq!(bridge_target(&flow), Some((VN.into(), A.into(), None)));
            }

            recording_flag_adds_call_recording(store) {
                store.create(NewBinding::new(VN, A, B).unwrap().record(true)).await.unwrap();
                let flow = call(&store, A, VN).await;
                assert_eq!(bridge_target(&flow), Some((VN.into(), B.into(), Some(true))));
                assert!(flow.to_json().contains(r#""callRecording":true"#));
            }

            stranger_hears_not_bound_and_is_hung_up_on(store) {
                store.create(NewBinding::new(VN, A, B).unwrap()).await.unwrap();
                let flow = call(&store, STRANGER, VN).await;
                assert_eq!(said(&flow), Some(Messages::default().not_bound));
            }

            party_calling_another_vn_is_not_bound(store) {
                store.create(NewBinding::new(VN, A, B).unwrap()).await.unwrap();
                let flow = call(&store, A, "+6568889999").await;
                assert_eq!(said(&flow), Some(Messages::default().not_bound));
            }

            expired_binding_hears_a_different_message(store) {
                let soon = now_millis() + SHORT_TTL_MS;
                store.create(NewBinding::new(VN, A, B).unwrap().expires_at_millis(soon)).await.unwrap();
                assert_eq!(bridge_target(&call(&store, A, VN).await).map(|t| t.1), Some(B.into()));
                sleep_past(soon).await;
                let flow = call(&store, A, VN).await;
                assert_eq!(said(&flow), Some(Messages::default().expired));
                assert_ne!(Messages::default().expired, Messages::default().not_bound);
            }

            messages_and_voice_are_configurable(store) {
                let messages = Messages {
                    not_bound: "Wrong number.".into(),
                    expired: "Too late.".into(),
                    voice_profile: "en-GB-Emma".into(),
                };
                let handler = MaskingHandler::from_arc(store.clone()).messages(messages);
                let client = TestClient::new(Webhook::new(handler));
                let flow = client.post(testing::call_action().from(STRANGER).to(VN).build_json()).await.callflow();
                match flow.actions() {
                    [Action::Say(s), Action::Hangup] => {
                        assert_eq!(s.text, "Wrong number.");
                        assert_eq!(s.voice_profile, "en-GB-Emma");
                    }
                    other => panic!("{other:?}"),
                }
            }

            one_vn_serves_many_bindings(store) {
                store.create(NewBinding::new(VN, A, B).unwrap()).await.unwrap();
                store.create(NewBinding::new(VN, "+6594440004", "+6595550005").unwrap()).await.unwrap();
                assert_eq!(bridge_target(&call(&store, A, VN).await).map(|t| t.1), Some(B.into()));
                assert_eq!(
                    bridge_target(&call(&store, "+6595550005", VN).await).map(|t| t.1),
                    Some("+6594440004".into())
                );
                assert_eq!(store.list().await.unwrap().len(), 2);
            }

            ambiguous_binding_is_refused(store) {
                let first = store.create(NewBinding::new(VN, A, B).unwrap()).await.unwrap();
                let err = store.create(NewBinding::new(VN, A, STRANGER).unwrap()).await.unwrap_err();
                match err.binding() {
                    Some(BindingError::Ambiguous { existing, .. }) => assert_eq!(existing, &first.id),
                _ => panic!("{err:?}"),
                }
                // The message is clear and masks the numbers.
                let msg = err.to_string();
                assert!(msg.contains("ambiguous") && msg.contains(&first.id), "{msg}");
                assert!(!msg.contains("91110001") && !msg.contains("68880000"), "{msg}");
                // B too, written without +.
                assert!(store.create(NewBinding::new(VN, "6592220002", STRANGER).unwrap()).await.is_err());
                // The same parties on another virtual number are fine.
                store.create(NewBinding::new("+6568881111", A, B).unwrap()).await.unwrap();
                assert_eq!(store.list().await.unwrap().len(), 2);
            }

            expired_binding_does_not_block_a_new_one(store) {
                let soon = now_millis() + SHORT_TTL_MS;
                store.create(NewBinding::new(VN, A, B).unwrap().expires_at_millis(soon)).await.unwrap();
                sleep_past(soon).await;
                store.create(NewBinding::new(VN, A, STRANGER).unwrap()).await.unwrap();
                assert_eq!(bridge_target(&call(&store, A, VN).await).map(|t| t.1), Some(STRANGER.into()));
                // B's only binding is expired.
                assert_eq!(said(&call(&store, B, VN).await), Some(Messages::default().expired));
            }

            expiry_in_the_past_is_refused(store) {
                let err = store.create(NewBinding::new(VN, A, B).unwrap().expires_at_millis(now_millis() - 1)).await.unwrap_err();
                assert!(matches!(err.binding(), Some(BindingError::ExpiryInPast)));
            }

            lookup_get_and_remove(store) {
                let b = store.create(NewBinding::new(VN, A, B).unwrap().reference("order-42")).await.unwrap();
                assert_eq!(store.get(&b.id).await.unwrap().as_ref(), Some(&b));
                assert_eq!(b.reference.as_deref(), Some("order-42"));
                let vn = PhoneNumber::new(VN);
                assert_eq!(store.lookup(&vn, &PhoneNumber::new(A)).await.unwrap(), Lookup::Active(b.clone()));
                assert_eq!(store.lookup(&vn, &PhoneNumber::new(STRANGER)).await.unwrap(), Lookup::NotFound);
                assert!(store.remove(&b.id).await.unwrap());
                assert!(!store.remove(&b.id).await.unwrap());
                assert_eq!(store.lookup(&vn, &PhoneNumber::new(A)).await.unwrap(), Lookup::NotFound);
                assert_eq!(said(&call(&store, A, VN).await), Some(Messages::default().not_bound));
            }

            session_summary_is_recorded_against_the_binding(store) {
                let b = store.create(NewBinding::new(VN, A, B).unwrap()).await.unwrap();
                let client = TestClient::new(Webhook::new(MaskingHandler::from_arc(store.clone())));
                let r = client.post(testing::session_summary().session_id("sess-1").build_json()).await;
                assert_eq!(r.status(), 200);
                let r = client
                    .post(testing::session_summary().session_id("sess-2").status(SessionStatus::Busy).build_json())
                    .await;
                assert_eq!(r.status(), 200);
                let r = client.post(testing::session_summary().session_id("sess-3").error(-2004, "No coverage").build_json()).await;
                assert_eq!(r.status(), 200);
                let calls = store.calls(10).await.unwrap();
                assert_eq!(calls.len(), 3);
                let by_id = |id: &str| calls.iter().find(|c| c.session_id == id).unwrap().clone();
                let s1 = by_id("sess-1");
                assert_eq!(s1.binding_id.as_deref(), Some(b.id.as_str()));
                assert_eq!(s1.status, "COMPLETED");
                assert_eq!(s1.duration_secs, 13);
                assert_eq!(s1.legs.len(), 2);
                assert_eq!(s1.legs[0].key, "callA");
                assert_eq!(s1.legs[1].direction.as_deref(), Some("OUTBOUND"));
                assert_eq!(s1.virtual_number.as_ref().map(PhoneNumber::as_str), Some(VN));
                let s2 = by_id("sess-2");
                assert_eq!(s2.status, "BUSY");
                assert_eq!(s2.legs[1].status.as_deref(), Some("BUSY"));
                let s3 = by_id("sess-3");
                assert_eq!(s3.status, "ERROR");
                assert_eq!(s3.error_code, Some(-2004));
                assert_eq!(s3.error_message.as_deref(), Some("No coverage"));
            }

            repeated_summary_replaces_its_record(store) {
                store.create(NewBinding::new(VN, A, B).unwrap()).await.unwrap();
                let client = TestClient::new(Webhook::new(MaskingHandler::from_arc(store.clone())));
                let body = testing::session_summary().session_id("dup").build_json();
                client.post(body.clone()).await;
                client.post(body).await;
                assert_eq!(store.calls(10).await.unwrap().len(), 1);
            }

            summary_of_an_unknown_caller_is_recorded_without_binding(store) {
                let client = TestClient::new(Webhook::new(MaskingHandler::from_arc(store.clone())));
                client.post(fixture("vss_nm_success")).await;
                client.post(fixture("vss_nm_failure")).await;
                let calls = store.calls(10).await.unwrap();
                assert_eq!(calls.len(), 2);
                assert!(calls.iter().all(|c| c.binding_id.is_none()));
            }

            later_call_actions_of_a_session_hang_up(store) {
                store.create(NewBinding::new(VN, A, B).unwrap()).await.unwrap();
                let client = TestClient::new(Webhook::new(MaskingHandler::from_arc(store.clone())));
                let flow = client.post(testing::call_action().from(A).to(VN).dtmf("1").build_json()).await.callflow();
                assert_eq!(flow.actions(), &[Action::Hangup]);
            }

            documented_8x8_variants_are_routed(store) {
                // The fixtures' numbers: 8x8's NM example and the legacy payloads.
                store.create(NewBinding::new("+65987654321", "+65123456789", B).unwrap()).await.unwrap();
                let client = TestClient::new(Webhook::new(MaskingHandler::from_arc(store.clone())));
                let flow = client.post(fixture("vca_nm_inbound")).await.callflow();
                assert_eq!(bridge_target(&flow), Some(("+65987654321".into(), B.into(), None)));
                // The same call with numbers as strings without +, numbers-as-strings drift.
                let drifted = fixture("vca_nm_inbound")
                    .replace("\"+65123456789\"", "\"65123456789\"")
                    .replace("\"callDuration\": 0", "\"callDuration\": \"0\"");
                let flow = client.post(drifted).await.callflow();
                assert_eq!(bridge_target(&flow), Some(("+65987654321".into(), B.into(), None)));
            }
            }
        }
    };
}

/// One `#[tokio::test]` per rule (used by [`binding_store_rules!`](crate::binding_store_rules)).
#[doc(hidden)]
#[macro_export]
#[cfg_attr(docsrs, doc(cfg(feature = "testing")))]
macro_rules! __binding_store_rule {
    (($setup:expr, $test:ident) $($name:ident($store:ident) $body:block)*) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $name() {
                let setup = async |$test: &'static str| $setup;
                let Some(($store, _guard)) = setup(stringify!($name)).await else {
                    return;
                };
                $body
            }
        )*
    };
}
