//! The simulator against the minimal examples' handler (the greeter), served by each adapter
//! over real HTTP. (The number-masking service plays every scenario in
//! `examples/number-masking/tests/cli.rs`.)

use callflow::Webhook;
use callflow_sim::{PlayOptions, Scenario, play, render_text};
use integration_tests::{Framework, serve};

fn scenario(name: &str) -> Scenario {
    Scenario::load(format!("{}/{name}.toml", callflow_sim::SCENARIOS_DIR)).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_greeter_passes_the_unknown_caller_scenario_on_every_framework() {
    // Say, then hang up, nobody dialled: exactly what the greeter does for any caller.
    let s = scenario("unknown-caller");
    for fw in Framework::ALL {
        let addr = serve(fw, Webhook::new(greeter::Greeter)).await;
        let report = play(
            &s,
            &PlayOptions::new(format!("http://{addr}/webhooks/voice")),
        )
        .await;
        assert!(
            report.passed(),
            "{fw}:\n{}",
            render_text(std::slice::from_ref(&report))
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_masking_scenario_fails_against_the_greeter_with_a_clear_check() {
    // The simulator is not a rubber stamp: the greeter never bridges, so a masked call fails.
    let s = scenario("masked-call-answered");
    let addr = serve(Framework::Axum, Webhook::new(greeter::Greeter)).await;
    let report = play(
        &s,
        &PlayOptions::new(format!("http://{addr}/webhooks/voice")),
    )
    .await;
    assert!(!report.passed());
    let text = render_text(std::slice::from_ref(&report));
    assert!(text.contains("FAIL"), "{text}");
}
