//! A scripted HTTP server on 127.0.0.1:0 for the client's tests: it answers each request
//! with the next scripted reply and records what it received.

#![allow(dead_code)]

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::Response;
use callflow_client::api::SubAccountId;
use callflow_client::{Client, Config, RetryPolicy};

/// One scripted reply.
#[derive(Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
    pub delay: Duration,
}

impl Reply {
    pub fn json(status: u16, body: &str) -> Self {
        Self {
            status,
            headers: vec![("content-type", "application/json".into())],
            body: body.to_owned(),
            delay: Duration::ZERO,
        }
    }

    pub fn empty(status: u16) -> Self {
        Self {
            status,
            headers: vec![],
            body: String::new(),
            delay: Duration::ZERO,
        }
    }

    pub fn header(mut self, name: &'static str, value: &str) -> Self {
        self.headers.push((name, value.to_owned()));
        self
    }

    pub fn delayed(mut self, d: Duration) -> Self {
        self.delay = d;
        self
    }
}

/// What the server received.
#[derive(Clone, Debug)]
pub struct Seen {
    pub method: Method,
    pub path: String,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

#[derive(Default)]
struct Script {
    replies: VecDeque<Reply>,
    /// Answer once the script is used up.
    fallback: Option<Reply>,
    seen: Vec<Seen>,
}

#[derive(Clone)]
pub struct Server {
    pub addr: SocketAddr,
    script: Arc<Mutex<Script>>,
}

async fn handle(State(script): State<Arc<Mutex<Script>>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let body = to_bytes(body, 1 << 20).await.unwrap_or_default();
    let reply = {
        let mut s = script.lock().unwrap();
        s.seen.push(Seen {
            method: parts.method.clone(),
            path: parts.uri.path().to_owned(),
            headers: parts.headers.clone(),
            body: body.to_vec(),
        });
        s.replies
            .pop_front()
            .or_else(|| s.fallback.clone())
            .unwrap_or_else(|| Reply::json(599, r#"{"statusMessage":"script exhausted"}"#))
    };
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    let mut resp = Response::new(Body::from(reply.body));
    *resp.status_mut() = StatusCode::from_u16(reply.status).unwrap();
    for (k, v) in reply.headers {
        resp.headers_mut().insert(k, v.parse().unwrap());
    }
    resp
}

impl Server {
    /// Starts a server answering `replies` in order (then `fallback`, if any).
    pub async fn start(replies: Vec<Reply>) -> Self {
        Self::start_with_fallback(replies, None).await
    }

    pub async fn start_with_fallback(replies: Vec<Reply>, fallback: Option<Reply>) -> Self {
        let script = Arc::new(Mutex::new(Script {
            replies: replies.into(),
            fallback,
            seen: Vec::new(),
        }));
        let app = Router::new().fallback(handle).with_state(script.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        Self { addr, script }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn seen(&self) -> Vec<Seen> {
        self.script.lock().unwrap().seen.clone()
    }

    pub fn requests(&self) -> usize {
        self.script.lock().unwrap().seen.len()
    }

    /// A client of this server with `policy` and short timeouts.
    pub fn client(&self, policy: RetryPolicy) -> Client {
        Client::new(self.config().retry(policy)).unwrap()
    }

    pub fn config(&self) -> Config {
        Config::new(KEY, SubAccountId::new("acme_voice").unwrap())
            .base_url(self.url())
            .connect_timeout(Duration::from_secs(2))
            .timeout(Duration::from_secs(5))
    }
}

/// The API key the tests use; it must never appear in an error or a log.
pub const KEY: &str = "sk_test_0123456789abcdef";

pub const CREATED: &str = r#"{"sessionId":"03cc8cac-376b-11ef-a28b-0582ff0039d5","sessionStatus":"CREATED","callFlowRequestId":"03cc3e8b-376b-11ef-a28b-4dd5d900ecb3","statusCode":1,"statusMessage":"Created"}"#;

pub const WEBHOOKS: &str = r#"{"subAccountId":"acme_voice","count":1,"webhooks":[{"type":"VCA","url":"https://sample.com/test","enabled":true,"httpAuthHeaderAvailable":true}],"statusCode":0,"statusMessage":"ok"}"#;

/// A valid voice message callflow.
pub fn voice_message() -> callflow::CallFlow {
    callflow::CallFlow::new()
        .make_call("+6568880000", "+6591110001")
        .say("Your parcel arrives today.")
        .hangup()
}
