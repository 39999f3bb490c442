//! `number-masking demo`: a masked call walked through on each framework, over real HTTP.

use std::sync::Arc;
use std::time::Instant;

use callflow::callflow::{Action, Mode};
use callflow::event::builder;
use callflow::{CallFlow, Webhook};
use callflow_masking::{BindingStore, MaskingHandler, NewBinding, SqliteStore};

use crate::Result;
use crate::health::Health;
use crate::server::{self, Framework, WEBHOOK_PATH};
use crate::store::Store;

const VN: &str = "+6568880000";
const A: &str = "+6591110001";
const B: &str = "+6592220002";
const STRANGER: &str = "+6593330003";

fn m(n: &str) -> String {
    callflow::phone::Masked(n).to_string()
}

/// What a reply did, in words.
fn describe(flow: &CallFlow) -> String {
    flow.actions()
        .iter()
        .map(|a| match a {
            Action::MakeCall(c) => format!(
                "makeCall {} (caller id {})",
                m(c.destination.as_str()),
                m(c.source.as_str())
            ),
            Action::Say(s) => format!("say {:?}", s.text),
            Action::Hangup => "hangup".into(),
            other => format!("{:?}", other.kind()),
        })
        .collect::<Vec<_>>()
        .join(" + ")
}

struct Step<'a> {
    what: String,
    body: String,
    check: Box<dyn Fn(&CallFlow) -> bool + 'a>,
}

fn bridges_to(to: &'static str) -> impl Fn(&CallFlow) -> bool {
    move |f: &CallFlow| matches!(f.actions(), [Action::MakeCall(c)] if c.destination == to && c.source == VN)
}

fn turned_away(f: &CallFlow) -> bool {
    matches!(f.actions(), [Action::Say(_), Action::Hangup])
}

/// Runs the demo; an error if any step did not get the expected answer.
pub async fn run() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("demo.db");
    let store = Arc::new(Store::sqlite(SqliteStore::open_async(&db).await?));
    let binding = store
        .create(NewBinding::new(VN, A, B)?.reference("demo-order-1"))
        .await?;
    out!("number-masking demo");
    out!("  database        {} (temporary)", db.display());
    out!(
        "  binding {}  virtual number {}  parties {} <-> {}",
        binding.id,
        m(VN),
        m(A),
        m(B)
    );
    let client = reqwest::Client::builder().no_proxy().build()?;
    let mut failures = 0;
    for framework in Framework::ALL {
        let handler = MaskingHandler::from_arc(store.clone());
        let health = Health::new(store.clone(), handler.write_failures());
        let webhook = Webhook::new(handler);
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        let routes = crate::routes::Routes::new(
            crate::api::Api::new(store.clone(), crate::api::ApiKeys::default()),
            health,
        );
        let running = server::start(framework, webhook, routes, listener).await?;
        let url = format!("http://{}{WEBHOOK_PATH}", running.addr);
        out!("\n== {} on {url}", framework.name());

        let session = builder::fresh_id();
        let steps = [
            Step {
                what: format!("{} calls {}", m(A), m(VN)),
                body: builder::call_action()
                    .from(A)
                    .to(VN)
                    .session_id(&session)
                    .build_json(),
                check: Box::new(bridges_to(B)),
            },
            Step {
                what: format!("{} calls back {}", m(B), m(VN)),
                body: builder::call_action().from(B).to(VN).build_json(),
                check: Box::new(bridges_to(A)),
            },
            Step {
                what: format!("{} (stranger) calls {}", m(STRANGER), m(VN)),
                body: builder::call_action().from(STRANGER).to(VN).build_json(),
                check: Box::new(turned_away),
            },
        ];
        for step in steps {
            let started = Instant::now();
            let outcome = post(&client, &url, step.body).await;
            let ms = started.elapsed().as_secs_f64() * 1000.0;
            match outcome {
                Ok((200, body)) => match CallFlow::parse(&body, Mode::Reply) {
                    Ok(flow) if (step.check)(&flow) => {
                        out!(
                            "  ok    {:<40} -> {}  ({ms:.1} ms)",
                            step.what,
                            describe(&flow)
                        );
                    }
                    Ok(flow) => {
                        failures += 1;
                        out!(
                            "  FAIL  {:<40} -> unexpected {}",
                            step.what,
                            describe(&flow)
                        );
                    }
                    Err(v) => {
                        failures += 1;
                        out!("  FAIL  {:<40} -> invalid callflow: {v}", step.what);
                    }
                },
                Ok((status, _)) => {
                    failures += 1;
                    out!("  FAIL  {:<40} -> HTTP {status}", step.what);
                }
                Err(e) => {
                    failures += 1;
                    out!("  FAIL  {:<40} -> {e}", step.what);
                }
            }
        }

        let summary = builder::session_summary().session_id(&session).build_json();
        let started = Instant::now();
        let outcome = post(&client, &url, summary).await;
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        let recorded = store
            .calls(50)
            .await?
            .into_iter()
            .find(|c| c.session_id == session);
        match (outcome, recorded) {
            (Ok((200, _)), Some(c)) if c.binding_id.as_deref() == Some(binding.id.as_str()) => {
                out!(
                    "  ok    {:<40} -> recorded {} {}s against binding {}  ({ms:.1} ms)",
                    "session summary",
                    c.status,
                    c.duration_secs,
                    binding.id
                );
            }
            (outcome, recorded) => {
                failures += 1;
                out!(
                    "  FAIL  {:<40} -> reply {:?}, record {:?}",
                    "session summary",
                    outcome.map(|(s, _)| s),
                    recorded.map(|c| c.status)
                );
            }
        }
        running.stop().await;
    }
    out!();
    if failures == 0 {
        out!("all steps passed on axum, actix-web and warp");
        Ok(())
    } else {
        Err(format!("{failures} step(s) failed").into())
    }
}

async fn post(client: &reqwest::Client, url: &str, body: String) -> Result<(u16, Vec<u8>)> {
    let r = client
        .post(url)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await?;
    let status = r.status().as_u16();
    Ok((status, r.bytes().await?.to_vec()))
}
