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
    let guarded = CatchUnwind(fut);
    let result = match deadline {
        Some(d) => match within(d, guarded).await {
            Some(r) => r,
            None => return Outcome::TimedOut,
        },
        None => guarded.await,
    };
    match result {
        Ok(Ok(v)) => Outcome::Done(v),
        Ok(Err(e)) => Outcome::Failed(e),
        Err(p) => Outcome::Panicked(panic_message(&*p)),
    }
}

/// Awaits `fut` for at most `limit`; `None` if it did not finish in time. Most futures here
/// (handlers, in-memory stores) finish on their first poll: they never arm a timer.
pub(crate) async fn within<F: Future>(limit: Duration, fut: F) -> Option<F::Output> {
    let mut fut = std::pin::pin!(fut);
    let first = std::future::poll_fn(|cx| Poll::Ready(fut.as_mut().poll(cx))).await;
    match first {
        Poll::Ready(v) => Some(v),
        Poll::Pending => tokio::time::timeout(limit, fut).await.ok(),
    }
}
