//! The call platform: sessions started by Send Callflow or by an inbound call, run in the
//! background by the simulator's engine (one state machine for `play` and the emulator).

use std::sync::Arc;
use std::time::SystemTime;

use callflow::CallFlow;

use super::script::{Faults, PartyScript};
use super::state::{SessionEntry, Shared};
use crate::engine::{CalleeBook, PlayOptions, Start, run_session};
use crate::scenario::{Call, Callee, Expect, Scenario};

/// What a session is scripted to do, beyond its numbers.
#[derive(Clone, Debug, Default)]
pub(super) struct SessionScript {
    /// Digits pressed at each `sayAndCapture`, in order (by the caller of an inbound call,
    /// by the dialled `callA` of a Send Callflow session).
    pub(super) digits: Vec<String>,
    /// How a dialled party without a script of its own behaves (for a Send Callflow
    /// session, its `callA`).
    pub(super) callee: Callee,
    /// Whether a party without a script of its own falls back to the default script
    /// (`false` when the inbound call named its own `callee`).
    pub(super) use_default: bool,
    /// The session's faults.
    pub(super) faults: Faults,
}

impl SessionScript {
    /// A Send Callflow session: `callA`'s script (queued for its number, else the default,
    /// else answered) gives the outcome, the digits and the faults.
    pub(super) fn outbound(shared: &Shared, destination: &str) -> Self {
        let party = shared
            .callees(|c| c.take(destination).or_else(|| c.default_script()))
            .unwrap_or_default();
        let PartyScript {
            callee,
            digits,
            faults,
        } = party;
        Self {
            digits,
            callee,
            use_default: true,
            faults,
        }
    }
}

/// The callees of one session: a number's queued script first, then (if allowed) the
/// default; `None` leaves the session's own callee.
fn callee_book(shared: &Arc<Shared>, use_default: bool) -> CalleeBook {
    let shared = Arc::clone(shared);
    Arc::new(move |number: &str| {
        shared.callees(|c| {
            c.take(number)
                .or_else(|| use_default.then(|| c.default_script()).flatten())
                .map(|p| p.callee)
        })
    })
}

fn reference_id(shared: &Shared, number: &str) -> String {
    shared
        .config
        .virtual_numbers
        .iter()
        .position(|vn| vn.same_as(number))
        .map_or_else(|| "vn-ref-1".to_owned(), |i| format!("vn-ref-{}", i + 1))
}

/// Starts a session in the background and returns its id at once.
pub(super) fn start_session(
    shared: &Arc<Shared>,
    sub_account: &str,
    from: &str,
    to: &str,
    script: SessionScript,
    outbound: Option<CallFlow>,
) -> String {
    let id = callflow::event::builder::fresh_id();
    let routes = shared.routes(sub_account);
    let ref_number = if outbound.is_some() { from } else { to };
    let scenario = Scenario {
        name: format!("emulator session {id}"),
        description: String::new(),
        handler: None,
        call: Call {
            from: from.to_owned(),
            to: to.to_owned(),
            sub_account: sub_account.to_owned(),
            ref_id: reference_id(shared, ref_number),
            digits: script.digits,
        },
        callee: script.callee,
        expect: Expect::default(),
        source: None,
    };
    let mut options = PlayOptions::new("");
    options.show_numbers = shared.config.reveal;
    options.duplicate = script.faults.duplicate;
    options.reorder = script.faults.reorder;
    options.slow_after = script.faults.slow_after;
    options.payload_style = script.faults.payload_style;
    let book = callee_book(shared, script.use_default);
    shared.add_session(SessionEntry {
        id: id.clone(),
        sub_account: sub_account.to_owned(),
        direction: if outbound.is_some() {
            "outbound"
        } else {
            "inbound"
        },
        from: from.to_owned(),
        to: to.to_owned(),
        started: SystemTime::now(),
        report: None,
    });
    let start = match outbound {
        Some(flow) => Start::Outbound(flow),
        None => Start::Inbound,
    };
    let shared = Arc::clone(shared);
    let session_id = id.clone();
    tokio::spawn(async move {
        let report = run_session(
            &scenario,
            &options,
            &routes,
            session_id.clone(),
            start,
            Some(book),
        )
        .await;
        shared.finish_session(&session_id, report);
    });
    id
}
