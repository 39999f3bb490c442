//! The robustness suite over real HTTP: every case of `integration_tests::robustness` (one
//! list, tied to the rows of `robustness.md`) as its own test for each adapter, against a
//! server started with the adapter's `serve_with_shutdown` helper.
//!
//! Run one adapter's: `cargo test -p integration-tests --test robustness axum::`.

use integration_tests::Framework;
use integration_tests::robustness;

async fn check(framework: Framework, name: &str) {
    let case = robustness::case(name).unwrap_or_else(|| panic!("no robustness case {name}"));
    if let Err(e) = case.run(framework).await {
        panic!("{e}");
    }
}

macro_rules! robustness_tests {
    ($($name:ident),* $(,)?) => {
        /// The names this file has a test for.
        const TESTED: &[&str] = &[$(stringify!($name)),*];

        mod axum {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::check(integration_tests::Framework::Axum, stringify!($name)).await;
                }
            )*
        }

        mod actix_web {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::check(integration_tests::Framework::ActixWeb, stringify!($name)).await;
                }
            )*
        }

        mod warp {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::check(integration_tests::Framework::Warp, stringify!($name)).await;
                }
            )*
        }
    };
}

robustness_tests! {
    malformed_json_is_400_with_the_core_error,
    documented_type_variants_are_accepted_and_wrong_types_are_400,
    missing_required_field_is_400_naming_its_path,
    unknown_event_type_and_call_status_are_acknowledged,
    unknown_fields_are_ignored,
    over_limit_content_length_is_413_before_the_body_is_read,
    over_limit_chunked_body_is_413_and_closed,
    empty_body_is_400,
    missing_content_type_is_accepted_unless_strict,
    json_ish_media_types_are_accepted_and_forms_are_415,
    invalid_utf8_in_a_string_is_400,
    deeply_nested_json_is_400_quickly,
    huge_and_odd_numbers_are_400_never_a_crash,
    duplicate_json_keys_have_a_pinned_answer,
    slow_head_is_cut_off_at_the_head_timeout,
    idle_connection_is_closed_at_the_head_timeout,
    slow_body_gets_408_at_the_body_timeout,
    slow_chunked_body_gets_408_at_the_body_timeout,
    five_hundred_idle_connections_do_not_stop_webhooks,
    connections_over_the_cap_wait_for_a_free_slot,
    handler_panic_is_answered_and_the_connection_survives,
    handler_past_the_deadline_is_answered_at_the_deadline,
    handler_error_gets_the_fallback_or_500,
    duplicate_delivery_gets_the_first_answer_without_rerunning,
    concurrent_duplicates_run_the_handler_once,
    out_of_order_events_are_each_acknowledged,
    stale_and_future_timestamps_reach_the_handler,
    auth_is_checked_before_the_body_is_read,
    allow_list_refuses_with_403_before_the_body_is_read,
    allow_list_follows_only_trusted_proxies,
    wrong_method_is_405_and_wrong_path_is_404,
    compressed_body_is_415,
    expect_continue_with_an_oversized_length_is_413_without_the_body,
    graceful_shutdown_finishes_in_flight_and_is_bounded,
    duplicates_are_recognised_across_a_restart_with_a_shared_store,
    sustained_mixed_load_gets_only_expected_answers,
    // Issue #13, defect 5.
    store_unavailable_is_503_for_events_and_the_fallback_for_calls,
    // Issue 13, defect 1: refused requests do not hold connections.
    refused_request_with_a_trickling_body_is_closed_within_a_second,
    over_limit_body_is_not_read_after_413,
    trickling_refused_clients_do_not_take_the_slots_of_webhooks,
    // Issue 13, defect 6: a replayed event id does not fetch another call's reply.
    replayed_event_id_with_another_body_is_not_answered_from_the_store,
    // Issue #13, defects 3 and 7 (connection slots, shutdown, HTTP/2, head timeout).
    idle_connections_are_shed_at_the_cap_for_a_working_client,
    responses_during_shutdown_carry_connection_close,
    http2_prior_knowledge_gets_400_and_a_close,
    partial_head_gets_408_at_the_head_timeout,
}

/// One list: every case has a test here for each adapter, and every row of the spec (1-32)
/// has at least one case.
#[test]
fn every_case_has_a_test_for_each_adapter_and_every_row_a_case() {
    let cases = robustness::cases();
    let mut listed: Vec<&str> = cases.iter().map(|c| c.name).collect();
    listed.sort_unstable();
    let mut tested = TESTED.to_vec();
    tested.sort_unstable();
    assert_eq!(listed, tested, "the case list and the tests differ");
    // Cases for later issues are appended at the end of the list, whatever their row.
    let mut rows: Vec<u8> = cases.iter().map(|c| c.spec).collect();
    rows.sort_unstable();
    rows.dedup();
    assert_eq!(rows, (1..=32).collect::<Vec<u8>>(), "rows without a case");
    assert_eq!(Framework::ALL.len(), 3);
}
