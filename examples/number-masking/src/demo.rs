//! `number-masking demo`: the whole masked-call story through a local 8x8 (the emulator of
//! `callflow serve`, started in-process), on each framework, over real HTTP.
//!
//! For each framework the service is started with an auth value, its VCA and VSS webhooks
//! are registered through `callflow-client` (as `number-masking register` does), and three
//! inbound calls are placed through the emulator: A → VN (bridged to B), B → VN (bridged to
//! A), a stranger → VN (refused). Each session's outcome is read back from the emulator, and
//! the first one's as recorded by the service from the `SESSION_SUMMARY` the emulator posted
//! to the VSS webhook.

use std::sync::Arc;
use std::time::Duration;

use callflow::Webhook;
use callflow_client::api::{CreateWebhook, SubAccountId, WebhookType};
use callflow_client::{Client, Config};
use callflow_masking::{BindingStore, MaskingHandler, NewBinding, SqliteStore};
use callflow_sim::emulator::{Emulator, EmulatorConfig};
use serde_json::Value;

use crate::Result;
use crate::health::Health;
use crate::server::{self, Framework, WEBHOOK_PATH};
use crate::store::Store;

const VN: &str = "+6568880000";
const A: &str = "+6591110001";
const B: &str = "+6592220002";
const STRANGER: &str = "+6593330003";
const SUB_ACCOUNT: &str = "number_masking_demo";
/// The local emulator's key (not a secret: it exists only in this process).
const EMULATOR_KEY: &str = "demo-emulator-key";
/// The value 8x8 (here the emulator) sends back with every webhook, checked by the service.
const DEMO_AUTH: &str = "Bearer demo-webhook-secret";

fn m(n: &str) -> String {
    callflow::phone::Masked(n).to_string()
}

/// What the session's callflows did, in words (numbers as the emulator shows them, masked).
fn describe(session: &Value) -> String {
    let outcome = &session["outcome"];
    let mut parts: Vec<String> = Vec::new();
    let mut dialled = outcome["dialled"].as_array().into_iter().flatten();
    for action in outcome["actions"].as_array().into_iter().flatten() {
        match action.as_str().unwrap_or("") {
            "makeCall" => {
                let d = dialled.next().cloned().unwrap_or(Value::Null);
                parts.push(format!(
                    "makeCall {} (caller id {})",
                    d["destination"].as_str().unwrap_or("?"),
                    d["callerId"].as_str().unwrap_or("?")
                ));
            }
            other => parts.push(other.to_owned()),
        }
    }
    parts.join(" + ")
}

/// Whether the session bridged the caller to `to` with the virtual number as caller id.
fn bridged_to(session: &Value, to: &str) -> bool {
    let outcome = &session["outcome"];
    let dialled = outcome["dialled"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    outcome["actions"] == serde_json::json!(["makeCall"])
        && dialled.len() == 1
        && dialled[0]["destination"] == m(to).as_str()
        && dialled[0]["callerId"] == m(VN).as_str()
        && session["sessionStatus"] == "COMPLETED"
}

fn turned_away(session: &Value) -> bool {
    session["outcome"]["actions"] == serde_json::json!(["say", "hangup"])
}

/// The emulator's own endpoints, over HTTP as any client would use them.
struct Platform {
    http: reqwest::Client,
    base: String,
}

impl Platform {
    async fn call(&self, from: &str) -> Result<String> {
        let body = serde_json::json!({ "from": from, "to": VN }).to_string();
        let r = self
            .http
            .post(format!("{}/emulator/v1/calls", self.base))
            .bearer_auth(EMULATOR_KEY)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await?;
        let status = r.status().as_u16();
        let v: Value = serde_json::from_slice(&r.bytes().await?)?;
        match (status, v["sessionId"].as_str()) {
            (201, Some(id)) => Ok(id.to_owned()),
            _ => Err(format!("the emulator refused the call: HTTP {status} {v}").into()),
        }
    }

    /// The session once it ended (at most 10 s).
    async fn ended(&self, id: &str) -> Result<Value> {
        for _ in 0..200 {
            let r = self
                .http
                .get(format!("{}/emulator/v1/sessions/{id}", self.base))
                .bearer_auth(EMULATOR_KEY)
                .send()
                .await?;
            let v: Value = serde_json::from_slice(&r.bytes().await?)?;
            if v["state"] == "ended" {
                return Ok(v);
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Err(format!("session {id} did not end within 10 s").into())
    }
}

/// Registers the service's VCA and VSS webhooks with the emulator, as `register` does.
async fn register(client: &Client, url: &str) -> Result<()> {
    for t in [WebhookType::Vca, WebhookType::Vss] {
        let hook = CreateWebhook::new(t, url)?.http_auth_header(DEMO_AUTH);
        client
            .create_webhook(&hook)
            .await
            .map_err(|e| format!("registering the {} webhook: {e}", t.as_str()))?;
    }
    Ok(())
}

/// Runs the demo; an error if any step did not come out as expected.
pub async fn run() -> Result<()> {
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("demo.db");
    let store = Arc::new(Store::sqlite(SqliteStore::open_async(&db).await?));
    let binding = store
        .create(NewBinding::new(VN, A, B)?.reference("demo-order-1"))
        .await?;
    let emulator = Emulator::start(
        "127.0.0.1:0",
        EmulatorConfig::new()
            .api_key(EMULATOR_KEY)
            .sub_account(SUB_ACCOUNT)
            .virtual_number(VN),
    )
    .await?;
    out!("number-masking demo");
    out!("  database        {} (temporary)", db.display());
    out!(
        "  local 8x8       {} (callflow serve, in-process)",
        emulator.url()
    );
    out!(
        "  binding {}  virtual number {}  parties {} <-> {}",
        binding.id,
        m(VN),
        m(A),
        m(B)
    );
    let client = Client::new(
        Config::new(EMULATOR_KEY, SubAccountId::new(SUB_ACCOUNT)?).base_url(emulator.url()),
    )?;
    let platform = Platform {
        http: reqwest::Client::builder().no_proxy().build()?,
        base: emulator.url(),
    };
    let mut failures = 0;
    for framework in Framework::ALL {
        let handler = MaskingHandler::from_arc(store.clone());
        let health = Health::new(store.clone(), handler.write_failures());
        let webhook = Webhook::builder(handler).auth_token(DEMO_AUTH).build();
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        let routes = crate::routes::Routes::new(
            crate::api::Api::new(store.clone(), crate::api::ApiKeys::default()),
            health,
        );
        let running = server::start(
            framework,
            webhook,
            routes,
            listener,
            server::ServeConfig::default(),
        )
        .await?;
        let url = format!("http://{}{WEBHOOK_PATH}", running.addr);
        out!("\n== {} on {url}", framework.name());
        register(&client, &url).await?;
        out!("  registered VCA and VSS -> {url} (through callflow-client)");

        type Check = fn(&Value) -> bool;
        let calls: [(String, &str, Check); 3] = [
            (format!("{} calls {}", m(A), m(VN)), A, |s| bridged_to(s, B)),
            (format!("{} calls back {}", m(B), m(VN)), B, |s| {
                bridged_to(s, A)
            }),
            (
                format!("{} (stranger) calls {}", m(STRANGER), m(VN)),
                STRANGER,
                turned_away,
            ),
        ];
        let mut first_session = None;
        for (what, from, check) in calls {
            let session = match platform.call(from).await {
                Ok(id) => platform.ended(&id).await,
                Err(e) => Err(e),
            };
            match session {
                Ok(s) if check(&s) => {
                    out!(
                        "  ok    {what:<40} -> {}  (session {})",
                        describe(&s),
                        s["sessionStatus"].as_str().unwrap_or("?")
                    );
                    if first_session.is_none() {
                        first_session = s["sessionId"].as_str().map(str::to_owned);
                    }
                }
                Ok(s) => {
                    failures += 1;
                    out!("  FAIL  {what:<40} -> unexpected {}", describe(&s));
                }
                Err(e) => {
                    failures += 1;
                    out!("  FAIL  {what:<40} -> {e}");
                }
            }
        }

        // The first session's outcome, as the service recorded it from the SESSION_SUMMARY
        // the emulator posted to the VSS webhook.
        let recorded = match &first_session {
            Some(id) => store
                .calls(50)
                .await?
                .into_iter()
                .find(|c| &c.session_id == id),
            None => None,
        };
        match recorded {
            Some(c) if c.binding_id.as_deref() == Some(binding.id.as_str()) => {
                out!(
                    "  ok    {:<40} -> recorded {} {}s against binding {}",
                    "session summary (VSS webhook)",
                    c.status,
                    c.duration_secs,
                    binding.id
                );
            }
            other => {
                failures += 1;
                out!(
                    "  FAIL  {:<40} -> record {:?}",
                    "session summary (VSS webhook)",
                    other.map(|c| c.status)
                );
            }
        }
        running.stop().await;
    }
    emulator.shutdown().await;
    out!();
    if failures == 0 {
        out!("all steps passed on axum, actix-web and warp");
        Ok(())
    } else {
        Err(format!("{failures} step(s) failed").into())
    }
}
