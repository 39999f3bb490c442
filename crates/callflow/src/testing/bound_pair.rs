//! [`BoundPair`]: a handler shaped like number masking, for tests of what a caller is told.

use crate::MakeCall;
use std::sync::atomic::{AtomicUsize, Ordering};

use super::{CALLEE, CALLER};
use crate::event::CallAction;
use crate::{CallFlow, CallHandler, Context, HandlerError};

/// A `CALL_ACTION` handler shaped like number masking: a call from [`CALLER`] is bridged to
/// [`CALLEE`] (with the called number as caller id), anyone else hears
/// [`BoundPair::NOT_BOUND`] and is hung up on. It counts its runs, so a test can tell a
/// replayed answer from a new run.
///
/// ```
/// # #[tokio::main(flavor = "current_thread")] async fn main() {
/// use std::sync::Arc;
/// use callflow::testing::{self, BoundPair, TestClient};
/// use callflow::Webhook;
/// let handler = Arc::new(BoundPair::default());
/// let client = TestClient::new(Webhook::new(handler.clone()));
/// let r = client.post(testing::call_action().from("+6599990009").build_json()).await;
/// assert_eq!(r.callflow(), BoundPair::stranger_reply());
/// assert_eq!(handler.runs(), 1);
/// # }
/// ```
#[derive(Debug, Default)]
pub struct BoundPair {
    runs: AtomicUsize,
}

impl BoundPair {
    /// What a caller other than [`CALLER`] hears.
    pub const NOT_BOUND: &str = "This number is not in service.";

    /// How many times the handler ran.
    pub fn runs(&self) -> usize {
        self.runs.load(Ordering::SeqCst)
    }

    /// The answer to a caller other than [`CALLER`].
    pub fn stranger_reply() -> CallFlow {
        CallFlow::builder().say(Self::NOT_BOUND).hangup()
    }
}

impl CallHandler for BoundPair {
    async fn on_call_action(
        &self,
        ev: CallAction,
        _cx: &Context,
    ) -> Result<CallFlow, HandlerError> {
        self.runs.fetch_add(1, Ordering::SeqCst);
        Ok(if ev.payload.source.as_str() == CALLER {
            CallFlow::builder()
                .make_call(MakeCall::to(CALLEE).caller_id(&ev.payload.destination))
                .build()
        } else {
            Self::stranger_reply()
        })
    }
}
