//! The emulator's memory: per sub-account webhooks, recording push configuration and log
//! export jobs, and every session with its report once it ended.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, MutexGuard};
use std::time::SystemTime;

use callflow_client::api::{CreateWebhook, JobStatus, RecordingPushConfigRequest, WebhookType};

use super::EmulatorConfig;
use super::script::Callees;
use crate::engine::{Route, Routes};
use crate::http::Target;
use crate::report::Report;

/// One sub-account's configuration.
#[derive(Default)]
pub(super) struct Account {
    /// Registered webhooks by type.
    pub(super) webhooks: BTreeMap<WebhookType, CreateWebhook>,
    /// `POST /recording-push-config`.
    pub(super) push: Option<RecordingPushConfigRequest>,
    /// Log export jobs by id.
    pub(super) exports: HashMap<String, ExportJob>,
}

/// A log export job.
#[derive(Clone)]
pub(super) struct ExportJob {
    pub(super) status: JobStatus,
}

/// A session the emulator runs or ran.
#[derive(Clone)]
pub(super) struct SessionEntry {
    pub(super) id: String,
    pub(super) sub_account: String,
    pub(super) direction: &'static str,
    pub(super) from: String,
    pub(super) to: String,
    pub(super) started: SystemTime,
    pub(super) report: Option<Report>,
}

/// Everything the handlers share.
pub(super) struct Shared {
    pub(super) config: EmulatorConfig,
    accounts: Mutex<HashMap<String, Account>>,
    sessions: Mutex<Vec<SessionEntry>>,
    callees: Mutex<Callees>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A handler that panicked leaves consistent data behind (every change is one insert).
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Shared {
    pub(super) fn new(config: EmulatorConfig) -> Self {
        Self {
            config,
            accounts: Mutex::new(HashMap::new()),
            sessions: Mutex::new(Vec::new()),
            callees: Mutex::new(Callees::default()),
        }
    }

    /// Runs `f` on the sub-account's state (created on first use).
    pub(super) fn account<R>(&self, id: &str, f: impl FnOnce(&mut Account) -> R) -> R {
        let mut all = lock(&self.accounts);
        f(all.entry(id.to_owned()).or_default())
    }

    /// Runs `f` on the scripted callees.
    pub(super) fn callees<R>(&self, f: impl FnOnce(&mut Callees) -> R) -> R {
        f(&mut lock(&self.callees))
    }

    /// Whether `Authorization` carries an accepted key.
    pub(super) fn authorized(&self, header: Option<&str>) -> bool {
        let Some(token) = header
            .and_then(|h| {
                h.strip_prefix("Bearer ")
                    .or_else(|| h.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|t| !t.is_empty())
        else {
            return false;
        };
        self.config.api_keys.is_empty() || self.config.api_keys.iter().any(|k| k == token)
    }

    /// The routes of the sub-account's enabled webhooks, as they are now.
    pub(super) fn routes(&self, sub_account: &str) -> Routes {
        self.account(sub_account, |a| {
            let route = |t: WebhookType| {
                let hook = a.webhooks.get(&t)?;
                if hook.is_enabled() == Some(false) {
                    return None;
                }
                Some(Route {
                    target: Target::parse(hook.url()).ok()?,
                    auth_header: hook.auth_header().map(|s| s.expose().to_owned()),
                })
            };
            Routes {
                action: route(WebhookType::Vca),
                status: route(WebhookType::Vcs),
                summary: route(WebhookType::Vss),
                recording: route(WebhookType::Vru),
            }
        })
    }

    pub(super) fn add_session(&self, entry: SessionEntry) {
        lock(&self.sessions).push(entry);
    }

    pub(super) fn finish_session(&self, id: &str, report: Report) {
        if let Some(s) = lock(&self.sessions).iter_mut().find(|s| s.id == id) {
            s.report = Some(report);
        }
    }

    pub(super) fn sessions(&self) -> Vec<SessionEntry> {
        lock(&self.sessions).clone()
    }

    pub(super) fn session(&self, id: &str) -> Option<SessionEntry> {
        lock(&self.sessions).iter().find(|s| s.id == id).cloned()
    }
}
