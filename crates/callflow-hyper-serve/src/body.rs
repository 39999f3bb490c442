//! The response body as hyper sees it: the app's body, carrying the [`Exchange`] that keeps
//! the connection busy until hyper has taken the last of it and drops it.

use std::pin::Pin;
use std::task::{Context, Poll};

use http_body::{Body, Frame, SizeHint};

use crate::phase::Exchange;

pin_project_lite::pin_project! {
    /// An app's response body `B`, marking its connection busy while it lives.
    #[derive(Debug)]
    pub(crate) struct TrackedBody<B> {
        #[pin]
        inner: B,
        exchange: Exchange,
    }
}

impl<B> TrackedBody<B> {
    pub(crate) fn new(inner: B, exchange: Exchange) -> Self {
        Self { inner, exchange }
    }
}

impl<B: Body> Body for TrackedBody<B> {
    type Data = B::Data;
    type Error = B::Error;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Self::Data>, Self::Error>>> {
        self.project().inner.poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
