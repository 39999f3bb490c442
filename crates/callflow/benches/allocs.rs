//! Allocations per dispatch, counted by a counting global allocator.
//!
//! `cargo bench -p callflow --bench allocs` prints one line per path.

#![allow(missing_docs)]

use callflow::MakeCall;
use std::alloc::System;

use bytes::Bytes;
use callflow::event::{CallAction, Event};
use callflow::testing::fixtures;
use callflow::{CallFlow, CallHandler, Context, HandlerError, Webhook, WebhookRequest};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

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

fn measure(name: &str, runs: u64, mut f: impl FnMut(u64)) {
    f(0); // warm-up: lazily initialised statics are not per-dispatch costs
    let region = Region::new(GLOBAL);
    for i in 1..=runs {
        f(i);
    }
    let s = region.change();
    println!(
        "{name:<28} {:>6.1} allocations  {:>8.0} bytes allocated  per call",
        s.allocations as f64 / runs as f64,
        s.bytes_allocated as f64 / runs as f64
    );
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let body = Bytes::from(fixtures::get("vca_nm_inbound").trim_end().to_owned());
    let flow = CallFlow::builder()
        .make_call(MakeCall::to("+6592220002").caller_id("+6568880000"))
        .build();
    const RUNS: u64 = 1000;

    measure("parse/vca_nm_inbound", RUNS, |_| {
        std::hint::black_box(Event::from_slice(&body).unwrap());
    });
    measure("serialize/makeCall", RUNS, |_| {
        std::hint::black_box(flow.to_bytes());
    });
    let plain = Webhook::builder(FixedBridge(flow.clone()))
        .no_idempotency()
        .build();
    measure("dispatch/noop", RUNS, |_| {
        rt.block_on(plain.dispatch(WebhookRequest::post_json(body.clone())));
    });
    let deduping = Webhook::new(FixedBridge(flow.clone()));
    let template = fixtures::get("vca_nm_inbound").trim_end().to_owned();
    let bodies: Vec<Bytes> = (0..=RUNS)
        .map(|i| {
            Bytes::from(template.replace(
                "eb0fc709-9693-11ea-454d-1705dde98182",
                &format!("eb0fc709-9693-11ea-454d-{i:012x}"),
            ))
        })
        .collect();
    measure("dispatch/first_delivery", RUNS, |i| {
        rt.block_on(deduping.dispatch(WebhookRequest::post_json(bodies[i as usize].clone())));
    });
    measure("dispatch/dedupe_hit", RUNS, |_| {
        rt.block_on(deduping.dispatch(WebhookRequest::post_json(body.clone())));
    });
}
