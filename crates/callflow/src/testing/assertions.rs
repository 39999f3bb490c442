//! Assertion helpers on a callflow reply: what it says, whom it dials, what it captures, so
//! that a test needs no `match` per action.

use crate::CallFlow;
use crate::callflow::{Action, SayAndCapture};

use super::TestResponse;

/// What a callflow reply does, action by action, for assertions in tests. Implemented for
/// [`CallFlow`] and for [`TestResponse`] (whose body is parsed with
/// [`TestResponse::callflow`], so a reply that is not a valid callflow panics).
///
/// ```
/// use callflow::callflow::SayAndCapture;
/// use callflow::testing::ReplyAssertions;
/// use callflow::{CallFlow, MakeCall};
///
/// let flow = CallFlow::builder()
///     .client_action_id("menu")
///     .say_and_capture(SayAndCapture::new("Press 1 for sales.").max_digits(1))
///     .say("Connecting you.")
///     .make_call(MakeCall::to("+6594440001").caller_id("+6568880000"))
///     .build();
/// assert_eq!(flow.said(), ["Connecting you."]);
/// assert_eq!(flow.prompts(), ["Press 1 for sales."]);
/// assert_eq!(flow.dialled(), ["+6594440001"]);
/// assert_eq!(flow.captures()[0].max_digits, Some(1));
/// assert_eq!(flow.reply_action_id().as_deref(), Some("menu"));
/// assert!(!flow.hangs_up());
/// ```
pub trait ReplyAssertions {
    /// The reply as a callflow.
    fn reply_callflow(&self) -> CallFlow;

    /// The texts of its `say` actions, in order (not the `sayAndCapture` prompts: see
    /// [`prompts`](Self::prompts)).
    fn said(&self) -> Vec<String> {
        each(&self.reply_callflow(), |a| match a {
            Action::Say(s) => Some(s.text.clone()),
            _ => None,
        })
    }

    /// The prompts of its `sayAndCapture` actions, in order.
    fn prompts(&self) -> Vec<String> {
        self.captures()
            .into_iter()
            .map(|c| c.prompt_message)
            .collect()
    }

    /// The destinations of its `makeCall` actions (E.164, in clear: it is a test), in order.
    fn dialled(&self) -> Vec<String> {
        each(&self.reply_callflow(), |a| match a {
            Action::MakeCall(m) => Some(m.destination.as_str().to_owned()),
            _ => None,
        })
    }

    /// Its `sayAndCapture` actions, in order.
    fn captures(&self) -> Vec<SayAndCapture> {
        each(&self.reply_callflow(), |a| match a {
            Action::SayAndCapture(c) => Some(c.clone()),
            _ => None,
        })
    }

    /// Its `clientActionId`, which 8x8 sends back in the next `CALL_ACTION`.
    fn reply_action_id(&self) -> Option<String> {
        self.reply_callflow().client_action_id().map(str::to_owned)
    }

    /// Whether its last action is `hangup`.
    fn hangs_up(&self) -> bool {
        matches!(self.reply_callflow().actions().last(), Some(Action::Hangup))
    }
}

/// What `pick` takes from each action of `flow`, in order.
fn each<T>(flow: &CallFlow, pick: impl Fn(&Action) -> Option<T>) -> Vec<T> {
    flow.actions().iter().filter_map(pick).collect()
}

impl ReplyAssertions for CallFlow {
    fn reply_callflow(&self) -> CallFlow {
        self.clone()
    }
}

impl ReplyAssertions for TestResponse {
    fn reply_callflow(&self) -> CallFlow {
        self.callflow()
    }
}
