//! The reminder story, offline: starts `callflow serve`'s emulator in-process and the app on
//! 127.0.0.1, registers the app's webhooks through callflow-client, scripts one callee per
//! case through the emulator's `POST /emulator/v1/callees`, sends one reminder per case with
//! Send Callflow, and waits for each outcome recorded from the summary.

use std::time::Duration;

use callflow_client::api::SubAccountId;
use callflow_client::{Client, Config};
use callflow_sim::emulator::{DEFAULT_SUB_ACCOUNT, Emulator, EmulatorConfig};
use serde_json::{Value, json};

use crate::{BoxError, Outcome, Outcomes, Reminder, ReminderHandler, WebhookSecrets};

/// The emulator's API key during the demo (local only).
const KEY: &str = "voice-reminder-demo";
/// The clinic's virtual number.
const CLINIC: &str = "+6568880000";

/// One patient and how they answer.
#[derive(Clone, Debug)]
pub struct Case {
    /// What the case shows.
    pub name: &'static str,
    /// The body of `POST /emulator/v1/callees` (without `number`): how the patient answers.
    pub script: Value,
    /// The outcome the app must record.
    pub expected: Outcome,
}

/// The demo's cases: press 1, press 2, do not answer, press a wrong key then nothing.
pub fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "presses 1",
            script: json!({"digits": "1"}),
            expected: Outcome::Confirmed,
        },
        Case {
            name: "presses 2",
            script: json!({"digits": "2"}),
            expected: Outcome::Cancelled,
        },
        Case {
            name: "does not answer",
            script: json!({"outcome": "no-answer"}),
            expected: Outcome::NotReached("NO_ANSWER".to_owned()),
        },
        Case {
            name: "presses 9, then nothing",
            script: json!({"digits": ["9", ""]}),
            expected: Outcome::NoChoice,
        },
    ]
}

/// What one case recorded (`None`: no summary within 10 s).
#[derive(Clone, Debug)]
pub struct CaseResult {
    /// The case.
    pub case: Case,
    /// The outcome recorded from its summary.
    pub recorded: Option<Outcome>,
}

impl CaseResult {
    /// Whether the recorded outcome is the expected one.
    pub fn passed(&self) -> bool {
        self.recorded.as_ref() == Some(&self.case.expected)
    }
}

/// Runs every case of [`cases`] against an in-process emulator.
pub async fn run() -> Result<Vec<CaseResult>, BoxError> {
    let config = EmulatorConfig::new().api_key(KEY).virtual_number(CLINIC);
    let emulator = Emulator::start("127.0.0.1:0", config).await?;
    let outcomes = Outcomes::default();
    let secrets = WebhookSecrets {
        vca: "Bearer demo-vca-secret".to_owned(),
        vss: "Bearer demo-vss-secret".to_owned(),
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let app_url = format!("http://{}", listener.local_addr()?);
    let app = crate::app(ReminderHandler::new(outcomes.clone()), &secrets);
    let server = tokio::spawn(async move { axum::serve(listener, app).await });

    let result = async {
        let client = Client::new(
            Config::new(KEY, SubAccountId::new(DEFAULT_SUB_ACCOUNT)?).base_url(emulator.url()),
        )?;
        crate::register(&client, &app_url, &secrets).await?;
        let http = reqwest::Client::new();
        let mut results = Vec::new();
        for (i, case) in cases().into_iter().enumerate() {
            let patient = format!("+659111{:04}", i + 1);
            let mut script = case.script.clone();
            script["number"] = json!(patient);
            http.post(format!("{}/emulator/v1/callees", emulator.url()))
                .bearer_auth(KEY)
                .json(&script)
                .send()
                .await?
                .error_for_status()?;
            let reminder = Reminder {
                to: patient,
                caller_id: CLINIC.to_owned(),
                when: "tomorrow at 10 a.m.".to_owned(),
            };
            let session = crate::send_reminder(&client, &reminder).await?;
            let recorded = outcomes.wait(&session, Duration::from_secs(10)).await;
            results.push(CaseResult { case, recorded });
        }
        Ok::<_, BoxError>(results)
    }
    .await;
    server.abort();
    emulator.shutdown().await;
    result
}
