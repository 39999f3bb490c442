//! Parse and full-dispatch timings for the CALL_ACTION fixture.
//!
//! `cargo bench -p callflow --bench dispatch`

#![allow(missing_docs)]

use std::hint::black_box;
use std::time::Duration;

use bytes::Bytes;
use callflow::event::{CallAction, Event};
use callflow::testing::fixtures;
use callflow::{
    CallFlow, CallHandler, Context, HandlerError, Webhook, WebhookRequest, async_trait,
};
use criterion::{Criterion, criterion_group, criterion_main};

struct FixedBridge(CallFlow);

#[async_trait]
impl CallHandler for FixedBridge {
    async fn on_call_action(
        &self,
        _ev: CallAction,
        _cx: &Context,
    ) -> Result<CallFlow, HandlerError> {
        Ok(self.0.clone())
    }
}

fn benches(c: &mut Criterion) {
    let body = Bytes::from_static(fixtures::get("vca_nm_inbound").trim_end().as_bytes());
    c.bench_function("parse/vca_nm_inbound", |b| {
        b.iter(|| Event::from_slice(black_box(&body)).unwrap())
    });

    let webhook = Webhook::new(FixedBridge(
        CallFlow::new()
            .make_call("+6568880000", "+6592220002")
            .build(),
    ));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    c.bench_function("dispatch/call_action_make_call", |b| {
        b.iter(|| {
            let req = WebhookRequest::post_json(black_box(body.clone()));
            let r = rt.block_on(webhook.dispatch(req));
            assert_eq!(r.status(), 200);
            r
        })
    });
}

criterion_group! {
    name = dispatch;
    config = Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(50)
        .noise_threshold(0.05);
    targets = benches
}
criterion_main!(dispatch);
