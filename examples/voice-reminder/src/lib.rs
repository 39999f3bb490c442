//! An appointment reminder over 8x8 voice: [`send_reminder`] starts an outbound session with
//! Send Callflow (a `makeCall` to the patient, then a `sayAndCapture`), [`ReminderHandler`]
//! answers the follow-up `CALL_ACTION` with the patient's choice (1 confirms, 2 cancels,
//! anything else is asked once more) and records each session's [`Outcome`] from its
//! `SESSION_SUMMARY`. [`app`] serves the two webhooks (`/webhooks/vca`, `/webhooks/vss`),
//! each with its own `Authorization` value, and [`register`] registers them through
//! callflow-client. [`demo`] runs the whole story against `callflow serve`'s emulator.

pub mod demo;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use callflow::callflow::SayAndCapture;
use callflow::event::{CallAction, SessionStatus, SessionSummary};
use callflow::{CallFlow, CallHandler, Context, HandlerError, MakeCall, Webhook};
use callflow_client::Client;
use callflow_client::api::{CreateWebhook, SendCallflow, WebhookType};
use tokio::sync::Notify;

/// The path of the `CALL_ACTION` (VCA) webhook.
pub const VCA_PATH: &str = "/webhooks/vca";
/// The path of the `SESSION_SUMMARY` (VSS) webhook.
pub const VSS_PATH: &str = "/webhooks/vss";

const VOICE: &str = "en-GB-Emma";
/// The `clientActionId` of the first prompt.
const ASKED: &str = "reminder";
/// The `clientActionId` of the prompt repeated after a missing or wrong key.
const ASKED_AGAIN: &str = "reminder-again";

/// What became of one reminder, as recorded from its `SESSION_SUMMARY`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The patient pressed 1.
    Confirmed,
    /// The patient pressed 2.
    Cancelled,
    /// The patient answered but chose neither, twice.
    NoChoice,
    /// The call was not answered: the session's status (`BUSY`, `NO_ANSWER`, `FAILED`, …).
    NotReached(String),
}

/// The choice made during a session, before its summary arrives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Choice {
    Confirmed,
    Cancelled,
}

#[derive(Default)]
struct Book {
    choices: HashMap<String, Choice>,
    outcomes: HashMap<String, Outcome>,
}

/// The outcomes recorded so far, by session id; shared by the handler and its readers.
#[derive(Clone, Default)]
pub struct Outcomes {
    book: Arc<Mutex<Book>>,
    changed: Arc<Notify>,
}

impl Outcomes {
    fn with<R>(&self, f: impl FnOnce(&mut Book) -> R) -> R {
        // Every change is one insert: a poisoned lock still holds consistent data.
        f(&mut self.book.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// The outcome of `session_id`, once its summary arrived.
    pub fn get(&self, session_id: &str) -> Option<Outcome> {
        self.with(|b| b.outcomes.get(session_id).cloned())
    }

    /// Waits at most `timeout` for the outcome of `session_id`.
    pub async fn wait(&self, session_id: &str, timeout: Duration) -> Option<Outcome> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let changed = self.changed.notified();
            if let Some(o) = self.get(session_id) {
                return Some(o);
            }
            if tokio::time::timeout_at(deadline, changed).await.is_err() {
                return self.get(session_id);
            }
        }
    }
}

/// Answers the reminder's `CALL_ACTION`s and records its summary.
#[derive(Clone, Default)]
pub struct ReminderHandler {
    outcomes: Outcomes,
}

impl ReminderHandler {
    /// A handler recording into `outcomes`.
    pub fn new(outcomes: Outcomes) -> Self {
        Self { outcomes }
    }
}

fn prompt(text: &str) -> SayAndCapture {
    SayAndCapture::new(text).voice(VOICE).max_digits(1)
}

fn say_and_hang_up(text: &str) -> CallFlow {
    CallFlow::builder().voice(VOICE).say(text).hangup()
}

impl CallHandler for ReminderHandler {
    async fn on_call_action(
        &self,
        ev: CallAction,
        _cx: &Context,
    ) -> Result<CallFlow, HandlerError> {
        let session = ev.payload.session_id.clone();
        let choice = match ev.dtmf() {
            Some("1") => Some(Choice::Confirmed),
            Some("2") => Some(Choice::Cancelled),
            _ => None,
        };
        if let Some(c) = choice {
            self.outcomes.with(|b| b.choices.insert(session, c));
        }
        Ok(match (choice, ev.client_action_id()) {
            (Some(Choice::Confirmed), _) => {
                say_and_hang_up("Thank you, your appointment is confirmed. Goodbye.")
            }
            (Some(Choice::Cancelled), _) => say_and_hang_up(
                "Your appointment is cancelled. We will call you to rebook. Goodbye.",
            ),
            (None, Some(ASKED_AGAIN)) => {
                say_and_hang_up("We did not get your answer. We will call you again. Goodbye.")
            }
            (None, _) => CallFlow::builder()
                .client_action_id(ASKED_AGAIN)
                .say_and_capture(prompt("Sorry, press 1 to confirm or 2 to cancel."))
                .build(),
        })
    }

    async fn on_session_summary(
        &self,
        ev: SessionSummary,
        _cx: &Context,
    ) -> Result<(), HandlerError> {
        let session = ev.payload.session_id.clone();
        let status = ev.payload.session_status;
        self.outcomes.with(|b| {
            let outcome = match (status, b.choices.remove(&session)) {
                (_, Some(Choice::Confirmed)) => Outcome::Confirmed,
                (_, Some(Choice::Cancelled)) => Outcome::Cancelled,
                (SessionStatus::Completed, None) => Outcome::NoChoice,
                (other, None) => Outcome::NotReached(other.as_str().to_owned()),
            };
            b.outcomes.insert(session, outcome);
        });
        self.outcomes.changed.notify_waiters();
        Ok(())
    }
}

/// The `Authorization` values 8x8 sends with each webhook (its `httpAuthHeader`).
#[derive(Clone, Debug)]
pub struct WebhookSecrets {
    /// Sent with every `CALL_ACTION`.
    pub vca: String,
    /// Sent with every `SESSION_SUMMARY`.
    pub vss: String,
}

/// The app: `POST /webhooks/vca` and `POST /webhooks/vss`, each refusing (401) any other
/// `Authorization` than its own.
pub fn app(handler: ReminderHandler, secrets: &WebhookSecrets) -> axum::Router {
    let handler = Arc::new(handler);
    let vca = Webhook::builder(Arc::clone(&handler))
        .auth_token(&secrets.vca)
        .build();
    let vss = Webhook::builder(handler).auth_token(&secrets.vss).build();
    axum::Router::new()
        .route(VCA_PATH, callflow_axum::route(vca))
        .route(VSS_PATH, callflow_axum::route(vss))
}

/// Registers the app's VCA and VSS webhooks (at `base_url`, e.g. `https://reminders.example`)
/// with their `httpAuthHeader`s.
pub async fn register(
    client: &Client,
    base_url: &str,
    secrets: &WebhookSecrets,
) -> Result<(), callflow_client::Error> {
    for (kind, path, secret) in [
        (WebhookType::Vca, VCA_PATH, &secrets.vca),
        (WebhookType::Vss, VSS_PATH, &secrets.vss),
    ] {
        let hook = CreateWebhook::new(kind, format!("{base_url}{path}"))?
            .http_auth_header(secret.as_str());
        client.create_webhook(&hook).await?;
    }
    Ok(())
}

/// One reminder to send.
#[derive(Clone)]
pub struct Reminder {
    /// The patient's number.
    pub to: String,
    /// The virtual number shown as caller id.
    pub caller_id: String,
    /// When, as it is read out ("tomorrow at 10 a.m.").
    pub when: String,
}

impl std::fmt::Debug for Reminder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reminder")
            .field("to", &"<redacted>")
            .field("when", &self.when)
            .finish_non_exhaustive()
    }
}

/// The Send Callflow request of `reminder`: call the patient, then ask.
pub fn reminder_request(reminder: &Reminder) -> Result<SendCallflow, callflow_client::Error> {
    let flow = CallFlow::builder()
        .client_action_id(ASKED)
        .make_call(MakeCall::to(reminder.to.as_str()).caller_id(reminder.caller_id.as_str()))
        .say_and_capture(prompt(&format!(
            "Hello, this is a reminder of your appointment {}. Press 1 to confirm, 2 to cancel.",
            reminder.when
        )))
        .build();
    Ok(SendCallflow::new(flow)?)
}

/// An error of this example: the client's, or an answer without what it needs.
pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Sends `reminder`; returns the session id 8x8 gave it.
pub async fn send_reminder(client: &Client, reminder: &Reminder) -> Result<String, BoxError> {
    let answer = client.send_callflow(&reminder_request(reminder)?).await?;
    answer
        .session_id
        .ok_or_else(|| "Send Callflow answered without a sessionId".into())
}
