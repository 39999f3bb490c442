//! The `Observer` sees every answer, including a refusal sent by an adapter before the body
//! is read (`callflow::adapter`, which every adapter and the `Service` go through).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use callflow::adapter::BodyReadTimeout;
use callflow::observe::Observer;
use callflow::{CallFlow, Webhook, handler_fn};
use tower_service::Service;

#[derive(Default)]
struct Answers(Mutex<Vec<(String, u16)>>);

impl Observer for Answers {
    fn answered(&self, event: &str, status: u16) {
        self.0.lock().unwrap().push((event.to_owned(), status));
    }
}

#[tokio::test]
async fn refusals_before_the_body_is_read_are_reported_with_their_status() {
    let answers = Arc::new(Answers::default());
    let mut webhook = Webhook::builder(handler_fn(|_e, _c| async {
        Ok(CallFlow::builder().hangup())
    }))
    .auth_token("Bearer s3cret")
    .max_body_bytes(64)
    .observer(answers.clone())
    .build();
    let request = |method: &str, auth: &str, content_type: &str, body: &'static str| {
        http::Request::builder()
            .method(method)
            .uri("/")
            .header("authorization", auth)
            .header("content-type", content_type)
            .body(http_body_util::Full::new(Bytes::from_static(
                body.as_bytes(),
            )))
            .unwrap()
    };
    let ok = "Bearer s3cret";
    let json = "application/json";
    let big = "[                                                                   ]";
    for (req, status) in [
        (request("GET", ok, json, ""), 405),
        (request("POST", "Bearer wrong", json, "{}"), 401),
        (
            request("POST", ok, "application/x-www-form-urlencoded", "a=1"),
            415,
        ),
        (request("POST", ok, json, big), 413),
    ] {
        assert_eq!(webhook.call(req).await.unwrap().status(), status);
    }
    // A body that never comes: 408 at the request's body timeout.
    use futures_util::StreamExt as _;
    let frames = futures_util::stream::iter([Ok::<_, std::io::Error>(http_body::Frame::data(
        Bytes::from_static(b"{"),
    ))])
    .chain(futures_util::stream::pending());
    let body = http_body_util::StreamBody::new(frames);
    let mut slow = http::Request::post("/")
        .header("authorization", ok)
        .header("content-type", json)
        .body(body)
        .unwrap();
    slow.extensions_mut()
        .insert(BodyReadTimeout(Duration::from_millis(50)));
    assert_eq!(webhook.call(slow).await.unwrap().status(), 408);
    let seen = answers.0.lock().unwrap().clone();
    let expected: Vec<(String, u16)> = [405, 401, 415, 413, 408]
        .into_iter()
        .map(|s| ("none".to_owned(), s))
        .collect();
    assert_eq!(seen, expected);
}
