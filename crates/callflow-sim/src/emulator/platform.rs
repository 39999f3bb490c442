//! The call platform: sessions started by Send Callflow or by an inbound call, run in the
//! background by the simulator's engine (one state machine for `play` and the emulator).

use std::sync::Arc;
use std::time::SystemTime;

use callflow::CallFlow;

use super::state::{SessionEntry, Shared};
use crate::engine::{PlayOptions, Start, run_session};
use crate::events::PayloadStyle;
use crate::scenario::{Call, Callee, Expect, Scenario};

/// What a caller or a Send Callflow request asks of a session, beyond its numbers.
#[derive(Clone, Debug, Default)]
pub(super) struct SessionScript {
    /// Digits pressed at each `sayAndCapture`, in order.
    pub(super) digits: Vec<String>,
    /// How the dialled party behaves.
    pub(super) callee: Callee,
    /// Faults: every event twice.
    pub(super) duplicate: bool,
    /// Faults: status events held back and delivered in reverse order.
    pub(super) reorder: bool,
    /// Where captured digits go.
    pub(super) payload_style: PayloadStyle,
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
    options.duplicate = script.duplicate;
    options.reorder = script.reorder;
    options.payload_style = script.payload_style;
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
        let report = run_session(&scenario, &options, &routes, session_id.clone(), start).await;
        shared.finish_session(&session_id, report);
    });
    id
}
