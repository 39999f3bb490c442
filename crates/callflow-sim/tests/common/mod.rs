//! Test servers on 127.0.0.1:0 (plain hyper 1), and the handlers the shipped scenarios are
//! written for: a number-masking handler, an IVR, a greeter.
#![allow(dead_code)]

use callflow::MakeCall;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use callflow::callflow::SayAndCapture;
use callflow::event::CallAction;
use callflow::{CallFlow, CallHandler, Context, HandlerError, Webhook, WebhookRequest};
use http::{HeaderMap, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

pub const VN: &str = "+6568880000";
pub const PARTY_A: &str = "+6591110001";
pub const PARTY_B: &str = "+6592220002";
pub const UNKNOWN: &str = "+6593330003";

/// One request the server received.
#[derive(Clone, Debug)]
pub struct Received {
    pub headers: HeaderMap,
    pub body: serde_json::Value,
}

impl Received {
    pub fn event_type(&self) -> &str {
        self.body["eventType"].as_str().unwrap_or("")
    }
    pub fn payload(&self) -> &serde_json::Value {
        &self.body["payload"]
    }
    pub fn status(&self) -> &str {
        self.payload()["callStatus"]
            .as_str()
            .or_else(|| self.payload()["sessionStatus"].as_str())
            .unwrap_or("")
    }
}

type Respond = Arc<
    dyn Fn(Method, HeaderMap, Bytes) -> Pin<Box<dyn Future<Output = (StatusCode, Bytes)> + Send>>
        + Send
        + Sync,
>;

/// A server on 127.0.0.1:0 that records every request; stopped when dropped.
pub struct Server {
    pub addr: SocketAddr,
    pub url: String,
    received: Arc<Mutex<Vec<Received>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Server {
    /// Every request so far, in arrival order.
    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    /// Starts a server answering with `respond`.
    pub async fn start<F, Fut>(respond: F) -> Server
    where
        F: Fn(Method, HeaderMap, Bytes) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = (StatusCode, Bytes)> + Send + 'static,
    {
        let respond: Respond = Arc::new(move |m, h, b| Box::pin(respond(m, h, b)));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let received = Arc::new(Mutex::new(Vec::new()));
        let log = received.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let respond = respond.clone();
                let log = log.clone();
                tokio::spawn(async move {
                    let svc = service_fn(move |req: Request<Incoming>| {
                        let respond = respond.clone();
                        let log = log.clone();
                        async move {
                            let (parts, body) = req.into_parts();
                            let body = body
                                .collect()
                                .await
                                .map(|b| b.to_bytes())
                                .unwrap_or_default();
                            log.lock().unwrap().push(Received {
                                headers: parts.headers.clone(),
                                body: serde_json::from_slice(&body)
                                    .unwrap_or(serde_json::Value::Null),
                            });
                            let (status, out) = respond(parts.method, parts.headers, body).await;
                            let mut resp = Response::new(Full::new(out));
                            *resp.status_mut() = status;
                            resp.headers_mut().insert(
                                http::header::CONTENT_TYPE,
                                http::HeaderValue::from_static("application/json"),
                            );
                            Ok::<_, Infallible>(resp)
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
        Server {
            addr,
            url: format!("http://{addr}/webhooks/voice"),
            received,
            task,
        }
    }

    /// Serves a core [`Webhook`]: every request goes through `Webhook::dispatch`.
    pub async fn webhook(webhook: Webhook) -> Server {
        Server::start(move |method, headers, body| {
            let webhook = webhook.clone();
            async move {
                let r = webhook
                    .dispatch(WebhookRequest::new(method, headers, body))
                    .await;
                let (status, _, body) = r.into_parts();
                (status, body)
            }
        })
        .await
    }

    /// Answers every request with this status and body (e.g. an invalid callflow).
    pub async fn fixed(status: u16, body: &'static str) -> Server {
        Server::start(move |_, _, _| async move {
            (
                StatusCode::from_u16(status).unwrap(),
                Bytes::from_static(body.as_bytes()),
            )
        })
        .await
    }
}

/// The number-masking behaviour the shipped scenarios are written for: one binding
/// VN ↔ (A, B); a party of the binding calling the VN is bridged to the other party with the
/// VN as caller id; anybody else hears an apology and is hung up on.
pub struct Masking;

impl CallHandler for Masking {
    async fn on_call_action(
        &self,
        ev: CallAction,
        _cx: &Context,
    ) -> Result<CallFlow, HandlerError> {
        let p = &ev.payload;
        if p.destination.same_as(VN) {
            let other = if p.source.same_as(PARTY_A) {
                Some(PARTY_B)
            } else if p.source.same_as(PARTY_B) {
                Some(PARTY_A)
            } else {
                None
            };
            if let Some(other) = other {
                return Ok(CallFlow::builder()
                    .make_call(MakeCall::to(other).caller_id(VN))
                    .build());
            }
        }
        Ok(CallFlow::builder()
            .say("Sorry, this number is not in service.")
            .hangup())
    }
}

/// A masking handler that takes `delay` to answer every CALL_ACTION.
pub struct SlowMasking(pub Duration);

impl CallHandler for SlowMasking {
    async fn on_call_action(&self, ev: CallAction, cx: &Context) -> Result<CallFlow, HandlerError> {
        tokio::time::sleep(self.0).await;
        Masking.on_call_action(ev, cx).await
    }
}

/// The two-level IVR of `scenarios/ivr/`: a main menu (1 sales, 2 support), then a sub-menu
/// whose choice is announced and bridged to a desk; anything else is apologised for.
pub struct Ivr;

pub const DESKS: [(&str, &str, &str); 4] = [
    ("sales-menu", "1", "+6594440001"),
    ("sales-menu", "2", "+6594440002"),
    ("support-menu", "1", "+6594440003"),
    ("support-menu", "2", "+6594440004"),
];

fn menu(id: &str, prompt: &str) -> CallFlow {
    CallFlow::builder()
        .client_action_id(id)
        .say_and_capture(
            SayAndCapture::new(prompt)
                .voice("en-US-BenjaminRUS")
                .digits(1, 1)
                .timeouts(10_000, 10_000)
                .tries(2),
        )
        .build()
}

impl CallHandler for Ivr {
    async fn on_call_action(
        &self,
        ev: CallAction,
        _cx: &Context,
    ) -> Result<CallFlow, HandlerError> {
        let vn = ev.payload.destination.as_str().to_owned();
        if ev.is_call_received() {
            return Ok(menu(
                "main-menu",
                "Welcome. Press 1 for sales, press 2 for support.",
            ));
        }
        let digits = ev.dtmf().unwrap_or("");
        match (ev.client_action_id(), digits) {
            (Some("main-menu"), "1") => Ok(menu(
                "sales-menu",
                "Sales. Press 1 for new orders, press 2 for existing orders.",
            )),
            (Some("main-menu"), "2") => Ok(menu(
                "support-menu",
                "Support. Press 1 for billing, press 2 for technical support.",
            )),
            (Some(m), d) => match DESKS
                .iter()
                .find(|(menu, digit, _)| *menu == m && *digit == d)
            {
                Some((_, _, desk)) => {
                    let name = match (m, d) {
                        ("sales-menu", "1") => "new orders",
                        ("sales-menu", _) => "existing orders",
                        (_, "1") => "billing",
                        _ => "technical support",
                    };
                    Ok(CallFlow::builder()
                        .say(format!("Connecting you to {name}."))
                        .make_call(MakeCall::to(*desk).caller_id(vn))
                        .build())
                }
                None => Ok(sorry()),
            },
            (None, _) => Ok(sorry()),
        }
    }
}

fn sorry() -> CallFlow {
    CallFlow::builder()
        .say("Sorry, that is not a valid choice. Goodbye.")
        .hangup()
}

/// The minimal examples' greeter: say a greeting, hang up.
pub struct Greeter;

impl CallHandler for Greeter {
    async fn on_call_action(
        &self,
        _ev: CallAction,
        _cx: &Context,
    ) -> Result<CallFlow, HandlerError> {
        Ok(CallFlow::builder()
            .say("Hello from callflow. Goodbye!")
            .hangup())
    }
}

pub fn scenarios_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios")
}

/// The shipped scenario files under `scenarios/` (and its sub-folders), sorted.
pub fn shipped_scenarios() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "toml") {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(&scenarios_dir(), &mut out);
    out.sort();
    out
}

pub fn load(rel: &str) -> callflow_sim::Scenario {
    callflow_sim::Scenario::load(scenarios_dir().join(rel)).unwrap()
}
