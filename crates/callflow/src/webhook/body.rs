//! Reading a request body: the limit, the read deadline, and no copy for a one-chunk body.

use std::future::poll_fn;
use std::pin::pin;
use std::time::Duration;

use bytes::{Buf, Bytes};

use super::WebhookResponse;
use super::guard;

/// Collects a streamed body while enforcing the webhook's limit (see
/// [`adapter::body_collector`](crate::adapter::body_collector)).
#[derive(Debug)]
pub struct BodyCollector {
    limit: usize,
    len: usize,
    /// The first chunk, kept as it came while it is the only one.
    first: Option<Bytes>,
    /// Every chunk, once there is more than one.
    buf: Vec<u8>,
}

impl BodyCollector {
    pub(crate) fn new(limit: usize) -> Self {
        Self {
            limit,
            len: 0,
            first: None,
            buf: Vec::new(),
        }
    }

    fn reserve(&mut self, n: usize) -> Result<(), BodyTooLarge> {
        if self.len + n > self.limit {
            return Err(BodyTooLarge { limit: self.limit });
        }
        self.len += n;
        if let Some(first) = self.first.take() {
            self.buf.reserve(first.len() + n);
            self.buf.extend_from_slice(&first);
        }
        Ok(())
    }

    /// Appends a chunk; `Err` once the limit is passed: stop reading and send
    /// [`BodyTooLarge::response`].
    pub fn push(&mut self, chunk: &[u8]) -> Result<(), BodyTooLarge> {
        self.reserve(chunk.len())?;
        self.buf.extend_from_slice(chunk);
        Ok(())
    }

    /// Appends a chunk given as a [`Buf`]; the first chunk of a body is kept without a copy
    /// when it is a [`Bytes`].
    pub fn push_buf(&mut self, mut chunk: impl Buf) -> Result<(), BodyTooLarge> {
        let n = chunk.remaining();
        let only_chunk = self.len == 0 && self.first.is_none();
        self.reserve(n)?;
        if only_chunk {
            self.first = Some(chunk.copy_to_bytes(n));
            return Ok(());
        }
        while chunk.has_remaining() {
            let part = chunk.chunk();
            let len = part.len();
            self.buf.extend_from_slice(part);
            chunk.advance(len);
        }
        Ok(())
    }

    /// The whole body.
    pub fn finish(self) -> Bytes {
        match self.first {
            Some(first) => first,
            None => Bytes::from(self.buf),
        }
    }
}

/// A streamed body passed the limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BodyTooLarge {
    /// The limit in bytes.
    pub limit: usize,
}

impl BodyTooLarge {
    /// The core's 413 response.
    pub fn response(self) -> WebhookResponse {
        WebhookResponse::payload_too_large(self.limit)
    }
}

/// Why [`adapter::read_body`](crate::adapter::read_body) gave no body.
#[derive(Debug)]
pub enum BodyReadError {
    /// Send this response: the core's 413 for a body over the limit, or what `on_error` made
    /// of the framework's read error. The rest of the body was not read: close the
    /// connection (HTTP servers do so by themselves when a body is left unread).
    Refused(WebhookResponse),
    /// The body did not arrive within the deadline: send
    /// [`WebhookResponse::request_timeout`] and close the connection.
    TimedOut,
}

pub(crate) async fn read<S, B, E>(
    mut collector: BodyCollector,
    body: S,
    deadline: Duration,
    mut on_error: impl FnMut(E) -> WebhookResponse,
) -> Result<Bytes, BodyReadError>
where
    S: futures_core::Stream<Item = Result<B, E>>,
    B: Buf,
{
    let read = async move {
        let mut body = pin!(body);
        while let Some(chunk) = poll_fn(|cx| body.as_mut().poll_next(cx)).await {
            let chunk = chunk.map_err(&mut on_error)?;
            collector.push_buf(chunk).map_err(BodyTooLarge::response)?;
        }
        Ok(collector.finish())
    };
    match guard::within(deadline, read).await {
        Some(Ok(body)) => Ok(body),
        Some(Err(refusal)) => Err(BodyReadError::Refused(refusal)),
        None => Err(BodyReadError::TimedOut),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_single_bytes_chunk_is_kept_without_a_copy() {
        let chunk = Bytes::from(vec![b'x'; 100]);
        let mut c = BodyCollector::new(1000);
        c.push_buf(chunk.clone()).unwrap();
        let body = c.finish();
        assert_eq!(body.as_ptr(), chunk.as_ptr());
    }

    #[test]
    fn chunks_are_joined_in_order_and_the_limit_counts_them_all() {
        let mut c = BodyCollector::new(10);
        c.push_buf(Bytes::from_static(b"abc")).unwrap();
        c.push(b"de").unwrap();
        c.push_buf(&b"fgh"[..]).unwrap();
        assert_eq!(c.push_buf(&b"ijk"[..]), Err(BodyTooLarge { limit: 10 }));
        let mut c2 = BodyCollector::new(10);
        c2.push_buf(Bytes::from_static(b"abc")).unwrap();
        c2.push(b"de").unwrap();
        c2.push_buf(&b"fgh"[..]).unwrap();
        assert_eq!(&c2.finish()[..], b"abcdefgh");
        let mut big = BodyCollector::new(3);
        assert_eq!(big.push_buf(&b"abcd"[..]), Err(BodyTooLarge { limit: 3 }));
        assert_eq!(&BodyCollector::new(3).finish()[..], b"");
    }
}
