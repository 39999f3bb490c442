//! The reminder against `callflow serve`'s emulator, in-process, over real HTTP on 127.0.0.1:
//! each patient's answer is recorded from the session's summary; the webhooks refuse another
//! `Authorization` than their own.

use voice_reminder::demo::{self, CaseResult};
use voice_reminder::{Outcome, Outcomes, ReminderHandler, VCA_PATH, VSS_PATH, WebhookSecrets};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn press_1_confirms_press_2_cancels_and_an_unanswered_call_is_not_reached() {
    let results = demo::run().await.unwrap();
    let recorded: Vec<(&str, Option<Outcome>)> = results
        .iter()
        .map(|r: &CaseResult| (r.case.name, r.recorded.clone()))
        .collect();
    assert_eq!(
        recorded,
        [
            ("presses 1", Some(Outcome::Confirmed)),
            ("presses 2", Some(Outcome::Cancelled)),
            (
                "does not answer",
                Some(Outcome::NotReached("NO_ANSWER".to_owned()))
            ),
            ("presses 9, then nothing", Some(Outcome::NoChoice)),
        ]
    );
    assert!(results.iter().all(CaseResult::passed));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_webhook_refuses_the_other_webhooks_secret() {
    let secrets = WebhookSecrets {
        vca: "Bearer a".to_owned(),
        vss: "Bearer b".to_owned(),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let app = voice_reminder::app(ReminderHandler::new(Outcomes::default()), &secrets);
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let http = reqwest::Client::new();
    for (path, wrong) in [(VCA_PATH, "Bearer b"), (VSS_PATH, "Bearer a")] {
        let answer = http
            .post(format!("{base}{path}"))
            .header("authorization", wrong)
            .header("content-type", "application/json")
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status().as_u16(), 401, "{path}");
    }
    server.abort();
}
