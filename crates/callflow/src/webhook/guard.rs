//! Runs a handler future with a panic guard and a deadline.

use std::any::Any;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use crate::HandlerError;

/// How a handler call ended.
pub(crate) enum Outcome<T> {
    Done(T),
    Failed(HandlerError),
    Panicked(String),
    TimedOut,
}

/// Polls the inner future inside `catch_unwind`, so a panicking handler becomes a value.
struct CatchUnwind<F>(F);

impl<F: Future + Unpin> Future for CatchUnwind<F> {
    type Output = Result<F::Output, Box<dyn Any + Send>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let fut = &mut self.0;
        match catch_unwind(AssertUnwindSafe(|| Pin::new(&mut *fut).poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(v)) => Poll::Ready(Ok(v)),
            Err(payload) => Poll::Ready(Err(payload)),
        }
    }
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_owned()
    }
}

pub(crate) async fn guarded<T>(
    fut: Pin<Box<dyn Future<Output = Result<T, HandlerError>> + Send + '_>>,
    deadline: Option<Duration>,
) -> Outcome<T> {
    let mut guarded = CatchUnwind(fut);
    // Most handlers answer without waiting: poll once before arming a timer, so the common
    // case never touches the runtime's timer wheel.
    let first = std::future::poll_fn(|cx| Poll::Ready(Pin::new(&mut guarded).poll(cx))).await;
    let result = match (first, deadline) {
        (Poll::Ready(r), _) => r,
        (Poll::Pending, Some(d)) => match tokio::time::timeout(d, guarded).await {
            Ok(r) => r,
            Err(_) => return Outcome::TimedOut,
        },
        (Poll::Pending, None) => guarded.await,
    };
    match result {
        Ok(Ok(v)) => Outcome::Done(v),
        Ok(Err(e)) => Outcome::Failed(e),
        Err(p) => Outcome::Panicked(panic_message(&*p)),
    }
}
