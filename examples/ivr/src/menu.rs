//! The menus and the routing of the caller's digits.

use std::sync::Arc;

use callflow_axum::callflow::callflow::SayAndCapture;
use callflow_axum::callflow::event::{CallAction, SessionSummary};
use callflow_axum::callflow::{CallFlow, CallHandler, Context, HandlerError, MakeCall};

use crate::Stats;

/// The `clientActionId` of the main menu.
pub const MAIN_MENU: &str = "main-menu";
/// The `clientActionId` of the sales menu.
pub const SALES_MENU: &str = "sales-menu";
/// The `clientActionId` of the support menu.
pub const SUPPORT_MENU: &str = "support-menu";

/// The desks: (menu, digit, name, number).
pub const DESKS: [(&str, &str, &str, &str); 4] = [
    (SALES_MENU, "1", "new orders", "+6594440001"),
    (SALES_MENU, "2", "existing orders", "+6594440002"),
    (SUPPORT_MENU, "1", "billing", "+6594440003"),
    (SUPPORT_MENU, "2", "technical support", "+6594440004"),
];

/// What a caller hears after a digit no menu offers, or no digit at all.
pub const SORRY: &str = "Sorry, that is not a valid choice. Goodbye.";

/// The IVR's [`CallHandler`]: menus on `CALL_ACTION`, outcomes counted on `SESSION_SUMMARY`.
pub struct Ivr {
    stats: Arc<Stats>,
}

impl Ivr {
    /// An IVR counting its sessions' outcomes in `stats`.
    pub fn new(stats: Arc<Stats>) -> Self {
        Self { stats }
    }
}

/// A one-digit menu: `sayAndCapture` with `clientActionId` = `id`, so that the next
/// `CALL_ACTION` says which menu the digit answers.
fn menu(id: &str, prompt: &str) -> CallFlow {
    CallFlow::builder()
        .voice("en-US-BenjaminRUS") // applies to the sayAndCapture prompt too
        .client_action_id(id)
        .say_and_capture(
            SayAndCapture::new(prompt)
                .digits(1, 1) // the first key ends the input
                .overall_timeout(10_000) // 8x8's defaults disagree (5 s or 30 s): say it
                .tries(2),
        )
        .build()
}

fn sorry() -> CallFlow {
    CallFlow::builder().say(SORRY).hangup()
}

/// The reply to one `CALL_ACTION`, from the menu it answers and the digits entered.
pub fn route(ev: &CallAction) -> CallFlow {
    if ev.is_call_received() {
        return menu(
            MAIN_MENU,
            "Welcome. Press 1 for sales, press 2 for support.",
        );
    }
    match (ev.client_action_id(), ev.dtmf()) {
        (Some(MAIN_MENU), Some("1")) => menu(
            SALES_MENU,
            "Sales. Press 1 for new orders, press 2 for existing orders.",
        ),
        (Some(MAIN_MENU), Some("2")) => menu(
            SUPPORT_MENU,
            "Support. Press 1 for billing, press 2 for technical support.",
        ),
        (Some(m), Some(d)) => match DESKS
            .iter()
            .find(|(menu, digit, ..)| *menu == m && *digit == d)
        {
            Some((_, _, name, desk)) => CallFlow::builder()
                .say(format!("Connecting you to {name}."))
                // The desk sees the virtual number the caller dialled, not the caller.
                .make_call(MakeCall::to(*desk).caller_id(&ev.payload.destination))
                .build(),
            None => sorry(),
        },
        // A wrong digit, no digit (the capture timed out), or no clientActionId.
        _ => sorry(),
    }
}

impl CallHandler for Ivr {
    async fn on_call_action(
        &self,
        ev: CallAction,
        _cx: &Context,
    ) -> Result<CallFlow, HandlerError> {
        Ok(route(&ev))
    }

    async fn on_session_summary(
        &self,
        ev: SessionSummary,
        _cx: &Context,
    ) -> Result<(), HandlerError> {
        self.stats.record(&ev.payload.session_status);
        Ok(())
    }
}
