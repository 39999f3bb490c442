//! Fuzz target: `Webhook::dispatch` on arbitrary bytes.
//!
//! The first input byte picks the request head (method, content type, encoding, auth,
//! declared length) from a small table, so heads the core refuses are explored too; the rest
//! is the body. Seeded with every fixture of `crates/callflow/tests/fixtures` (see
//! `scripts/fuzz.sh`, which prefixes each with the plain `POST` head byte).
//!
//! Asserts, for every input: no panic (libFuzzer reports one as a crash), and a well-formed
//! response: a known status, `Content-Type: application/json`, a JSON body; a 200 carries
//! either a callflow that passes 8x8's reply rules or the `{"received":true}` acknowledgement;
//! every other status carries the core's error shape with the code that belongs to it.

#![no_main]

use std::sync::LazyLock;

use callflow::callflow::Mode;
use callflow::event::CallAction;
use callflow::reexports::http::{HeaderMap, HeaderValue, Method, header};
use callflow::{CallFlow, Context, HandlerError, Webhook, WebhookRequest, handler_fn};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

const TOKEN: &str = "Bearer fuzz-secret";
const LIMIT: usize = 64 * 1024;

static RUNTIME: LazyLock<tokio::runtime::Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .expect("runtime")
});

/// A handler whose reply depends on the event (digits, caller), so replies vary with input.
async fn reply(event: CallAction, _cx: Context) -> Result<CallFlow, HandlerError> {
    let digits = event.dtmf().unwrap_or_default();
    if digits.starts_with('9') {
        return Err(HandlerError::msg("fuzz: handler error"));
    }
    Ok(CallFlow::builder()
        .say(format!("You pressed {digits}"))
        .hangup())
}

static WEBHOOK: LazyLock<Webhook> = LazyLock::new(|| {
    Webhook::builder(handler_fn(reply))
        // No idempotency store: the answer must depend on the input alone.
        .auth_token(TOKEN)
        .max_body_bytes(LIMIT)
        .no_idempotency()
        .build()
});

/// The request head for selector byte `b`; `0` is the ordinary authorised JSON `POST`.
fn head(b: u8, body_len: usize) -> (Method, HeaderMap) {
    let mut h = HeaderMap::new();
    let mut method = Method::POST;
    h.insert(header::AUTHORIZATION, HeaderValue::from_static(TOKEN));
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    match b % 16 {
        1 => {
            h.remove(header::CONTENT_TYPE);
        }
        2 => {
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; charset=utf-8"),
            );
        }
        3 => {
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/x-www-form-urlencoded"),
            );
        }
        4 => {
            h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        }
        5 => {
            h.remove(header::AUTHORIZATION);
        }
        6 => {
            h.insert(
                header::AUTHORIZATION,
                HeaderValue::from_static("Bearer fuzz-secreT"),
            );
        }
        7 => method = Method::GET,
        8 => method = Method::HEAD,
        9 => {
            h.insert(header::CONTENT_LENGTH, HeaderValue::from(LIMIT as u64 + 1));
        }
        10 => {
            h.insert(header::CONTENT_LENGTH, HeaderValue::from(body_len));
        }
        11 => {
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/cloudevents+json"),
            );
        }
        _ => {}
    }
    (method, h)
}

fn code_for(status: u16) -> &'static [&'static str] {
    match status {
        400 => &[
            "empty_body",
            "invalid_json",
            "invalid_event",
            "body_unreadable",
        ],
        401 => &["unauthorized"],
        403 => &["forbidden"],
        405 => &["method_not_allowed"],
        408 => &["request_timeout"],
        413 => &["payload_too_large"],
        415 => &["unsupported_media_type", "unsupported_content_encoding"],
        500 => &["internal_error"],
        503 => &["deadline_exceeded", "store_unavailable"],
        _ => &[],
    }
}

fuzz_target!(|data: &[u8]| {
    let (selector, body) = match data.split_first() {
        Some((b, rest)) => (*b, rest),
        None => (0, data),
    };
    let (method, headers) = head(selector, body.len());
    let request = WebhookRequest::new(method.clone(), headers, body.to_vec());
    let response = RUNTIME.block_on(WEBHOOK.dispatch(request));

    let status = response.status().as_u16();
    assert_eq!(
        response
            .headers()
            .get(header::CONTENT_TYPE)
            .map(HeaderValue::as_bytes),
        Some(&b"application/json"[..]),
        "every answer is JSON"
    );
    if status == 405 {
        assert_eq!(
            response
                .headers()
                .get(header::ALLOW)
                .map(HeaderValue::as_bytes),
            Some(&b"POST"[..])
        );
    }
    let json: Value = serde_json::from_slice(response.body()).expect("the body is JSON");
    if status == 200 {
        if json == serde_json::json!({ "received": true }) {
            return;
        }
        let flow = CallFlow::parse(response.body(), Mode::Reply)
            .unwrap_or_else(|v| panic!("a 200 carries a callflow or the ack: {v}"));
        flow.validate(Mode::Reply)
            .expect("replies obey 8x8's rules");
        return;
    }
    let codes = code_for(status);
    assert!(!codes.is_empty(), "unexpected status {status}");
    let code = json["error"]["code"].as_str().expect("error.code");
    assert!(codes.contains(&code), "status {status} with code {code}");
    assert!(json["error"]["message"].is_string(), "error.message");
});
