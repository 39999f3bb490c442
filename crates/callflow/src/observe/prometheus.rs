//! [`PrometheusObserver`]: the webhook's series in a `prometheus-client` registry.

use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use super::{FallbackReason, Observer};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Answered {
    event: &'static str,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct EventLabel {
    event: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct Fallback {
    event: &'static str,
    reason: &'static str,
}

/// The webhook's Prometheus series (prefix `callflow_webhook_`):
///
/// | series | type | labels |
/// | --- | --- | --- |
/// | `callflow_webhook_requests_total` | counter | `event`, `status` |
/// | `callflow_webhook_handler_duration_seconds` | histogram | `event` |
/// | `callflow_webhook_fallbacks_total` | counter | `event`, `reason` |
/// | `callflow_webhook_duplicates_total` | counter | `event` |
///
/// ```
/// use std::sync::Arc;
/// use callflow::{CallFlow, Webhook, WebhookRequest, handler_fn, observe::PrometheusObserver};
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// let mut registry = prometheus_client::registry::Registry::default();
/// let observer = PrometheusObserver::register(&mut registry);
/// let webhook = Webhook::builder(handler_fn(|_e, _c| async { Ok(CallFlow::builder().hangup()) }))
///     .observer(Arc::new(observer))
///     .build();
/// let body = callflow::testing::call_action().build_json();
/// webhook.dispatch(WebhookRequest::post_json(body)).await;
/// let mut text = String::new();
/// prometheus_client::encoding::text::encode(&mut text, &registry).unwrap();
/// assert!(text.contains(r#"callflow_webhook_requests_total{event="CALL_ACTION",status="200"} 1"#));
/// # }
/// ```
#[derive(Clone, Debug)]
pub struct PrometheusObserver {
    requests: Family<Answered, Counter>,
    latency: Family<EventLabel, Histogram>,
    fallbacks: Family<Fallback, Counter>,
    duplicates: Family<EventLabel, Counter>,
}

fn latency_histogram() -> Histogram {
    // 1 ms to ~4 s (the default deadline), then beyond.
    Histogram::new([
        0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0,
    ])
}

/// Registers `metric` in `registry` as `name` (with `help`) and returns it, so a struct of
/// series is built and registered in one expression per series:
///
/// ```
/// use prometheus_client::metrics::counter::Counter;
/// let mut registry = prometheus_client::registry::Registry::default();
/// let purged: Counter = callflow::observe::registered(&mut registry, "purged", "Items purged", Counter::default());
/// purged.inc();
/// ```
pub fn registered<M>(registry: &mut Registry, name: &str, help: &str, metric: M) -> M
where
    M: prometheus_client::registry::Metric + Clone,
{
    registry.register(name, help, metric.clone());
    metric
}

impl PrometheusObserver {
    /// Creates the series and registers them in `registry`.
    pub fn register(registry: &mut Registry) -> Self {
        let r = registry;
        Self {
            requests: registered(
                r,
                "callflow_webhook_requests",
                "Webhook requests answered, by event type and HTTP status",
                Family::default(),
            ),
            latency: registered(
                r,
                "callflow_webhook_handler_duration_seconds",
                "Time the handler ran, by event type",
                Family::new_with_constructor(latency_histogram),
            ),
            fallbacks: registered(
                r,
                "callflow_webhook_fallbacks",
                "Answers the webhook gave for the handler (fallback callflow or error status), by reason",
                Family::default(),
            ),
            duplicates: registered(
                r,
                "callflow_webhook_duplicates",
                "Duplicate deliveries answered with the first delivery's reply",
                Family::default(),
            ),
        }
    }
}

impl Observer for PrometheusObserver {
    fn answered(&self, event: &str, status: u16) {
        self.requests
            .get_or_create(&Answered {
                event: bounded(event),
                status,
            })
            .inc();
    }

    fn handled(&self, event: &str, elapsed: Duration) {
        self.latency
            .get_or_create(&EventLabel {
                event: bounded(event),
            })
            .observe(elapsed.as_secs_f64());
    }

    fn fallback(&self, event: &str, reason: FallbackReason) {
        self.fallbacks
            .get_or_create(&Fallback {
                event: bounded(event),
                reason: reason.label(),
            })
            .inc();
    }

    fn duplicate(&self, event: &str) {
        self.duplicates
            .get_or_create(&EventLabel {
                event: bounded(event),
            })
            .inc();
    }
}

/// The label as a `&'static str` (the webhook only ever passes the bounded set).
fn bounded(event: &str) -> &'static str {
    match event {
        "CALL_ACTION" => "CALL_ACTION",
        "CALL_STATUS" => "CALL_STATUS",
        "SESSION_SUMMARY" => "SESSION_SUMMARY",
        "RECORDING_STATUS" => "RECORDING_STATUS",
        "VN_UPDATE" => "VN_UPDATE",
        "none" => "none",
        _ => "unknown",
    }
}
