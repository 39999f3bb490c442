//! The one handler every minimal example serves: say a greeting, then hang up.

use callflow::event::CallAction;
use callflow::{CallFlow, CallHandler, Context, HandlerError, async_trait};

/// Greets the caller and hangs up.
pub struct Greeter;

#[async_trait]
impl CallHandler for Greeter {
    async fn on_call_action(
        &self,
        _event: CallAction,
        _cx: &Context,
    ) -> Result<CallFlow, HandlerError> {
        Ok(CallFlow::new()
            .say("Hello from callflow. Goodbye!")
            .hangup())
    }
}
