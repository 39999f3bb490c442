//! The robustness suite: one list of cases ([`cases`]) that every adapter must pass over
//! real HTTP, each tied to its row of `docs/robustness.md` ([`Case::spec`]).
//!
//! Every case is a check run against a real server of one framework on `127.0.0.1:0`,
//! started with the adapter's `serve_with_shutdown` helper ([`serve_guarded`]); where the
//! wire itself is under test (half-sent heads and bodies, idle connections, `Expect`,
//! shutdown), the client is raw TCP. Where a case sends an ordinary request, the answer must
//! also be identical to the core's own answer in process, as in the conformance suite.
//!
//! The cases live in one file per topic (`body`, `limits`, `media`, `connections`,
//! `handler`, `duplicates`, `events`, `access`, `routing`, `shutdown`, `load`, and
//! `refusals` for issue 13's refused requests); the building blocks they share are in
//! `support`. The list of cases is written once, in [`robustness_cases!`](crate::robustness_cases):
//! it builds [`cases`] here, and `tests/tests/robustness.rs` runs each case once per
//! framework, as its own test (`axum::slow_head_is_cut_off_at_the_head_timeout`, …), from the
//! same list. The mapping of the 32 rows to these cases and to the core's own tests is in
//! `tests/README.md`.
//!
//! [`serve_guarded`]: crate::serve_guarded

use std::future::Future;
use std::pin::Pin;

use crate::Framework;

mod access;
mod body;
mod connections;
mod duplicates;
mod events;
mod handler;
mod limits;
mod load;
mod media;
mod refusals;
mod routing;
mod shutdown;
mod support;

/// What a case concludes: `Err` says what went wrong.
pub type Outcome = Result<(), String>;

type Check = fn(Framework) -> Pin<Box<dyn Future<Output = Outcome> + Send>>;

/// One robustness case: the row of the spec it proves, a unique `snake_case` name that says
/// the behaviour, and the check.
#[derive(Clone)]
pub struct Case {
    /// The row (`#`) of `robustness.md`.
    pub spec: u8,
    /// The behaviour proved, as a name (also the test's name).
    pub name: &'static str,
    check: Check,
}

impl std::fmt::Debug for Case {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Case")
            .field("spec", &self.spec)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Case {
    /// Runs the case against a fresh server of `framework`.
    pub async fn run(&self, framework: Framework) -> Outcome {
        (self.check)(framework).await.map_err(|e| {
            format!(
                "{framework}: {} (robustness #{}): {e}",
                self.name, self.spec
            )
        })
    }
}

/// The one list of robustness cases: invokes `$callback!` with every case as
/// `row => topic::name`, in order: the spec's rows, then the cases added for issue #13 (each
/// tied to its row).
///
/// [`cases`] is built from it, and so are the per-adapter tests of
/// `tests/tests/robustness.rs`: a case added here is a test for each framework.
#[macro_export]
macro_rules! robustness_cases {
    ($callback:ident) => {
        $callback! {
            1 => body::malformed_json_is_400_with_the_core_error,
            2 => body::documented_type_variants_are_accepted_and_wrong_types_are_400,
            3 => body::missing_required_field_is_400_naming_its_path,
            4 => body::unknown_event_type_and_call_status_are_acknowledged,
            5 => body::unknown_fields_are_ignored,
            6 => limits::over_limit_content_length_is_413_before_the_body_is_read,
            7 => limits::over_limit_chunked_body_is_413_and_closed,
            8 => body::empty_body_is_400,
            9 => media::missing_content_type_is_accepted_unless_strict,
            10 => media::json_ish_media_types_are_accepted_and_forms_are_415,
            11 => body::invalid_utf8_in_a_string_is_400,
            12 => body::deeply_nested_json_is_400_quickly,
            13 => body::huge_and_odd_numbers_are_400_never_a_crash,
            14 => body::duplicate_json_keys_have_a_pinned_answer,
            15 => connections::slow_head_is_cut_off_at_the_head_timeout,
            15 => connections::idle_connection_is_closed_at_the_head_timeout,
            16 => connections::slow_body_gets_408_at_the_body_timeout,
            16 => connections::slow_chunked_body_gets_408_at_the_body_timeout,
            17 => connections::five_hundred_idle_connections_do_not_stop_webhooks,
            17 => connections::connections_over_the_cap_wait_for_a_free_slot,
            18 => handler::handler_panic_is_answered_and_the_connection_survives,
            19 => handler::handler_past_the_deadline_is_answered_at_the_deadline,
            20 => handler::handler_error_gets_the_fallback_or_500,
            21 => duplicates::duplicate_delivery_gets_the_first_answer_without_rerunning,
            22 => duplicates::concurrent_duplicates_run_the_handler_once,
            23 => events::out_of_order_events_are_each_acknowledged,
            24 => events::stale_and_future_timestamps_reach_the_handler,
            25 => access::auth_is_checked_before_the_body_is_read,
            26 => access::allow_list_refuses_with_403_before_the_body_is_read,
            26 => access::allow_list_follows_only_trusted_proxies,
            27 => routing::wrong_method_is_405_and_wrong_path_is_404,
            28 => media::compressed_body_is_415,
            29 => limits::expect_continue_with_an_oversized_length_is_413_without_the_body,
            30 => shutdown::graceful_shutdown_finishes_in_flight_and_is_bounded,
            31 => duplicates::duplicates_are_recognised_across_a_restart_with_a_shared_store,
            32 => load::sustained_mixed_load_gets_only_expected_answers,
            // Issue #13, defect 5 (unavailable store: 503 store_unavailable, never 500).
            20 => handler::store_unavailable_is_503_for_events_and_the_fallback_for_calls,
            // Issue 13, defect 1: refused requests do not hold connections.
            25 => refusals::refused_request_with_a_trickling_body_is_closed_within_a_second,
            7 => refusals::over_limit_body_is_not_read_after_413,
            25 => refusals::trickling_refused_clients_do_not_take_the_slots_of_webhooks,
            // Issue 13, defect 6: a replayed event id does not fetch another call's reply.
            21 => duplicates::replayed_event_id_with_another_body_is_not_answered_from_the_store,
            // Issue #13, defects 3 and 7 (connection slots, shutdown, HTTP/2, head timeout).
            17 => connections::idle_connections_are_shed_at_the_cap_for_a_working_client,
            30 => shutdown::responses_during_shutdown_carry_connection_close,
            27 => routing::http2_prior_knowledge_gets_400_and_a_close,
            15 => connections::partial_head_gets_408_at_the_head_timeout,
        }
    };
}

macro_rules! case_list {
    ($($spec:literal => $topic:ident :: $name:ident),* $(,)?) => {
        /// Every case, in the order of [`robustness_cases!`](crate::robustness_cases).
        pub fn cases() -> Vec<Case> {
            vec![$(
                Case {
                    spec: $spec,
                    name: stringify!($name),
                    check: |framework| Box::pin($topic::$name(framework)),
                }
            ),*]
        }
    };
}

robustness_cases!(case_list);

/// The case called `name`.
pub fn case(name: &str) -> Option<Case> {
    cases().into_iter().find(|c| c.name == name)
}
