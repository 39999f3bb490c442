//! Call outcomes, counted from `SESSION_SUMMARY`s (8x8's authoritative end of a session).

use std::collections::BTreeMap;
use std::sync::Mutex;

use callflow_axum::callflow::event::SessionStatus;
use serde::Serialize;

/// Sessions counted by their final status. A duplicate summary is never counted twice: the
/// webhook answers it from its idempotency store without running the handler.
#[derive(Debug, Default)]
pub struct Stats {
    by_status: Mutex<BTreeMap<String, u64>>,
}

/// What `GET /stats` answers: `{"sessions":3,"by_status":{"BUSY":1,"COMPLETED":2}}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Snapshot {
    /// Every session summarised.
    pub sessions: u64,
    /// Sessions per `sessionStatus` (`COMPLETED`, `BUSY`, `NO_ANSWER`, ...).
    pub by_status: BTreeMap<String, u64>,
}

impl Stats {
    /// Counts one session that ended with `status`.
    pub fn record(&self, status: &SessionStatus) {
        let mut map = self.by_status.lock().unwrap_or_else(|p| p.into_inner());
        *map.entry(status.as_str().to_owned()).or_default() += 1;
    }

    /// The counts so far.
    pub fn snapshot(&self) -> Snapshot {
        let by_status = self
            .by_status
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        Snapshot {
            sessions: by_status.values().sum(),
            by_status,
        }
    }
}
