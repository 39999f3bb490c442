//! Micro-benchmarks of the core: parse, serialize, validate, dispatch.
//!
//! `cargo bench -p callflow --bench dispatch` (add `-- --save-baseline main` to keep a baseline).
//! Allocations per dispatch: `cargo bench -p callflow --bench allocs`.

#![allow(missing_docs)]

use callflow::MakeCall;
use std::hint::black_box;
use std::time::Duration;

use bytes::Bytes;
use callflow::callflow::Mode;
use callflow::event::{CallAction, Event};
use callflow::testing::fixtures;
use callflow::{CallFlow, CallHandler, Context, HandlerError, Webhook, WebhookRequest};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};

/// The no-op handler: a fixed `makeCall`.
struct FixedBridge(CallFlow);

impl CallHandler for FixedBridge {
    async fn on_call_action(
        &self,
        _ev: CallAction,
        _cx: &Context,
    ) -> Result<CallFlow, HandlerError> {
        Ok(self.0.clone())
    }
}

fn bridge() -> CallFlow {
    CallFlow::builder()
        .make_call(MakeCall::to("+6592220002").caller_id("+6568880000"))
        .build()
}

fn fixture(name: &str) -> Bytes {
    Bytes::from(fixtures::get(name).trim_end().to_owned())
}

/// A VIRTUAL_NUMBER_UPDATE snapshot of `n` numbers.
fn large_snapshot(n: usize) -> Bytes {
    let numbers: Vec<String> = (0..n)
        .map(|i| {
            format!(
                r#"{{"msisdn":"+6568{i:06}","updatedTimestamp":"2024-03-25T06:00:00.000Z","countryCode":"SG","operationalStatus":"Active","referenceId":"vn-ref-{i}","rentalPrice":10.5,"incomingRate":0.01,"billingUnit":60,"billingCurrency":"SGD","numberHealthCheckEnabled":true,"updateStatus":"NO_CHANGE"}}"#
            )
        })
        .collect();
    Bytes::from(format!(
        r#"{{"namespace":"VOICE","eventType":"VIRTUAL_NUMBER_UPDATE","description":"Status of account virtual number(s) updated","payload":{{"subAccountId":"x","totalNumbers":{n},"updateEventType":"SNAPSHOT","virtualNumbers":[{}]}}}}"#,
        numbers.join(",")
    ))
}

fn parse(c: &mut Criterion) {
    let mut g = c.benchmark_group("parse");
    let inputs = [
        ("vca_nm_inbound", fixture("vca_nm_inbound")),
        ("vca_ivr_dtmf", fixture("vca_ivr_dtmf")),
        ("vcs", fixture("vcs")),
        ("vss_nm_success", fixture("vss_nm_success")),
        ("vnu_snapshot_200", large_snapshot(200)),
    ];
    for (name, body) in inputs {
        g.bench_function(name, |b| {
            b.iter(|| Event::from_slice(black_box(&body)).unwrap())
        });
    }
    g.finish();

    let mut g = c.benchmark_group("parse_error");
    let wrong_type = Bytes::from_static(
        br#"{"eventType":"CALL_ACTION","payload":{"eventId":"e","callId":"c","sessionId":"s","callStatus":"CALL_RECEIVED","source":"+6591110001","destination":"+6568880000","callDuration":[1]}}"#,
    );
    let inputs = [
        ("malformed", fixture("malformed_vca_doc_sample")),
        ("wrong_type", wrong_type),
        ("unknown", fixture("unknown_event")),
    ];
    for (name, body) in inputs {
        g.bench_function(name, |b| b.iter(|| Event::from_slice(black_box(&body))));
    }
    g.finish();
}

fn serialize_and_validate(c: &mut Criterion) {
    let flows = [
        ("makeCall", bridge()),
        (
            "say_hangup",
            CallFlow::builder()
                .say("Sorry, this number is not in service.")
                .hangup(),
        ),
        (
            "sayAndCapture",
            CallFlow::parse(fixtures::get("cf_ivr_menu").as_bytes(), Mode::Reply).unwrap(),
        ),
    ];
    let mut g = c.benchmark_group("serialize");
    for (name, flow) in &flows {
        g.bench_function(*name, |b| b.iter(|| black_box(flow).to_bytes()));
    }
    g.finish();
    let mut g = c.benchmark_group("validate");
    for (name, flow) in &flows {
        g.bench_function(*name, |b| b.iter(|| black_box(flow).validate(Mode::Reply)));
    }
    g.finish();
}

fn dispatch(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let body = fixture("vca_nm_inbound");
    let mut g = c.benchmark_group("dispatch");

    // Parse + route + handler + validate reply + serialize + response, no duplicate check.
    let plain = Webhook::builder(FixedBridge(bridge()))
        .no_idempotency()
        .build();
    g.bench_function("noop", |b| {
        b.iter(|| {
            let r = rt.block_on(plain.dispatch(WebhookRequest::post_json(black_box(body.clone()))));
            debug_assert_eq!(r.status(), 200);
            r
        })
    });

    // The same, inside one running task (as in a server: no `block_on` per request).
    g.bench_function("noop_in_task", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let start = std::time::Instant::now();
                for _ in 0..iters {
                    let r = plain
                        .dispatch(WebhookRequest::post_json(black_box(body.clone())))
                        .await;
                    debug_assert_eq!(r.status(), 200);
                    black_box(r);
                }
                start.elapsed()
            })
        })
    });

    // The default configuration: every delivery is a first delivery (fresh event id).
    let deduping = Webhook::new(FixedBridge(bridge()));
    let template = fixtures::get("vca_nm_inbound").trim_end().to_owned();
    let mut n = 0u64;
    g.bench_function("first_delivery", |b| {
        b.iter_batched(
            || {
                n += 1;
                Bytes::from(template.replace(
                    "eb0fc709-9693-11ea-454d-1705dde98182",
                    &format!("eb0fc709-9693-11ea-454d-{n:012x}"),
                ))
            },
            |body| rt.block_on(deduping.dispatch(WebhookRequest::post_json(body))),
            BatchSize::SmallInput,
        )
    });

    // The duplicate path: the event id was seen, the stored reply is sent.
    let _ = rt.block_on(deduping.dispatch(WebhookRequest::post_json(body.clone())));
    g.bench_function("dedupe_hit", |b| {
        b.iter(|| {
            rt.block_on(deduping.dispatch(WebhookRequest::post_json(black_box(body.clone()))))
        })
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(50)
        .noise_threshold(0.05);
    targets = parse, serialize_and_validate, dispatch
}
criterion_main!(benches);
