//! The one handler every minimal example serves: say a greeting, then hang up.

use callflow::event::CallAction;
use callflow::{CallFlow, CallHandler, Context, HandlerError};

/// Greets the caller and hangs up.
pub struct Greeter;

impl CallHandler for Greeter {
    async fn on_call_action(
        &self,
        _event: CallAction,
        _cx: &Context,
    ) -> Result<CallFlow, HandlerError> {
        Ok(CallFlow::builder()
            .say("Hello from callflow. Goodbye!")
            .hangup())
    }
}
