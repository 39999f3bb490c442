//! `GET /metrics`: the service's Prometheus series, in the text format.
//!
//! The webhook's own series come from the core (`callflow::observe::PrometheusObserver`,
//! feature `metrics`: every service built on `callflow` gets them); this module adds the
//! masking series (store operations, active bindings, masked calls by outcome, API
//! requests). Each is listed in the README.

use std::sync::Arc;
use std::time::Duration;

use callflow::observe::{PrometheusObserver, registered};
use callflow_masking::{BindingStore, CallOutcome, StoreError, now_millis};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::store::Store;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OpLabel {
    op: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OpErrorLabel {
    op: &'static str,
    kind: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabel {
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ApiLabel {
    route: &'static str,
    method: String,
    status: u16,
}

/// Every series of the service, and the registry they are in. Cheap to clone.
#[derive(Clone)]
pub struct Metrics {
    registry: Arc<Registry>,
    webhook: PrometheusObserver,
    store: StoreMetrics,
    bindings_active: Gauge,
    masked_calls: Family<OutcomeLabel, Counter>,
    api_requests: Family<ApiLabel, Counter>,
    bindings_purged: Counter,
}

/// The store's series: operation latency and errors.
#[derive(Clone, Debug)]
pub struct StoreMetrics {
    latency: Family<OpLabel, Histogram>,
    errors: Family<OpErrorLabel, Counter>,
}

impl StoreMetrics {
    /// Records one operation.
    pub fn observe(&self, op: &'static str, elapsed: Duration, error: Option<&StoreError>) {
        self.latency
            .get_or_create(&OpLabel { op })
            .observe(elapsed.as_secs_f64());
        if let Some(e) = error
            && e.kind() != callflow_masking::StoreErrorKind::Refused
        {
            let kind = if e.is_unavailable() {
                "unavailable"
            } else {
                "backend"
            };
            self.errors.get_or_create(&OpErrorLabel { op, kind }).inc();
        }
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Every series, registered.
    pub fn new() -> Self {
        let mut registry = Registry::default();
        let r = &mut registry;
        let webhook = PrometheusObserver::register(r);
        let store = StoreMetrics {
            latency: registered(
                r,
                "number_masking_store_operation_duration_seconds",
                "Store operation latency, by operation",
                Family::new_with_constructor(|| {
                    Histogram::new([
                        0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0,
                    ])
                }),
            ),
            errors: registered(
                r,
                "number_masking_store_errors",
                "Store operations that failed, by operation and kind (unavailable, backend)",
                Family::default(),
            ),
        };
        let bindings_active = registered(
            r,
            "number_masking_bindings_active",
            "Bindings that route calls now (not expired), counted at each scrape",
            Gauge::default(),
        );
        let masked_calls = registered(
            r,
            "number_masking_calls",
            "New calls by outcome (bridged, not_bound, expired)",
            Family::default(),
        );
        let api_requests = registered(
            r,
            "number_masking_api_requests",
            "Requests to the /v1 API, by route, method and HTTP status",
            Family::default(),
        );
        let bindings_purged = registered(
            r,
            "number_masking_bindings_purged",
            "Expired bindings purged after the grace period (--purge-grace)",
            Counter::default(),
        );
        Self {
            registry: Arc::new(registry),
            webhook,
            store,
            bindings_active,
            masked_calls,
            api_requests,
            bindings_purged,
        }
    }

    /// The webhook's observer (give it to `WebhookBuilder::observer`).
    pub fn webhook(&self) -> Arc<PrometheusObserver> {
        Arc::new(self.webhook.clone())
    }

    /// The store's series (give them to `Store::metered`).
    pub fn store(&self) -> StoreMetrics {
        self.store.clone()
    }

    /// Counts a new call's outcome (the masking handler's hook).
    pub fn call(&self, outcome: CallOutcome) {
        self.masked_calls
            .get_or_create(&OutcomeLabel {
                outcome: outcome.label(),
            })
            .inc();
    }

    /// Counts `n` purged bindings.
    pub fn purged(&self, n: usize) {
        self.bindings_purged.inc_by(n as u64);
    }

    /// Counts an API request.
    pub fn api_request(&self, route: &'static str, method: &http::Method, status: u16) {
        let method = match *method {
            http::Method::GET | http::Method::POST | http::Method::DELETE | http::Method::HEAD => {
                method.as_str().to_owned()
            }
            _ => "other".to_owned(),
        };
        self.api_requests
            .get_or_create(&ApiLabel {
                route,
                method,
                status,
            })
            .inc();
    }

    /// The text of `GET /metrics`, after counting the active bindings in `store`.
    pub async fn render(&self, store: &Store) -> String {
        if let Ok(all) = store.list().await {
            let now = now_millis();
            let active = all.iter().filter(|b| !b.is_expired_at(now)).count();
            self.bindings_active.set(active as i64);
        }
        let mut text = String::new();
        if prometheus_client::encoding::text::encode(&mut text, &self.registry).is_err() {
            text.clear();
        }
        text
    }
}
