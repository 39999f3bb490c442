//! The connection's socket as hyper sees it: a thin wrapper that times the wait for each
//! request head and answers, on hyper's behalf, the two cases hyper would only close.
//!
//! - **Head timeout**: the wait for a head starts with the connection and again after each
//!   request; at [`ServeConfig::header_read_timeout`](crate::ServeConfig) a connection with
//!   part of a head gets `408 Request Timeout` with `Connection: close`, one with no byte of
//!   a head is just closed. (hyper's own timeout closes without a response.)
//! - **HTTP/2 prior knowledge**: a connection that opens with the HTTP/2 preface gets
//!   `400 Bad Request` with `Connection: close`, then a close. (hyper closes without one.)
//!
//! Either answer is written straight to the socket, then hyper reads an end of stream and
//! drops the connection. Reads cost two relaxed loads besides the socket's own read.

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::time::{Instant, Sleep};

use crate::phase::{ConnState, Phase};

/// The answer to a head not complete at the head timeout.
pub(crate) const REQUEST_TIMEOUT: &[u8] =
    b"HTTP/1.1 408 Request Timeout\r\nconnection: close\r\ncontent-length: 0\r\n\r\n";

/// The answer to an HTTP/2 prior-knowledge preface on this HTTP/1.1 server.
pub(crate) const HTTP2_REFUSED: &[u8] =
    b"HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n";

/// What an HTTP/2 client sends first (RFC 9113, section 3.4).
const H2_PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// A served connection's socket.
#[derive(Debug)]
pub(crate) struct GuardedIo {
    stream: TcpStream,
    state: Arc<ConnState>,
    head: HeadTimer,
    preface: Preface,
    /// The answer being written in hyper's place; then the connection reads as ended.
    reply: Option<Reply>,
    /// The last write found the socket full: hyper may hold part of a response, so a
    /// canned answer must not be written into the middle of it.
    write_blocked: bool,
}

impl GuardedIo {
    /// Wraps a just-accepted `stream`; its first head is due within `head_timeout`.
    pub(crate) fn new(stream: TcpStream, state: Arc<ConnState>, head_timeout: Duration) -> Self {
        let head = HeadTimer::new(head_timeout, state.requests());
        Self {
            stream,
            state,
            head,
            preface: Preface::default(),
            reply: None,
            write_blocked: false,
        }
    }

    fn answer(&mut self, bytes: &'static [u8], cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let reply = self.reply.insert(Reply::new(bytes));
        reply.poll_send(&mut self.stream, cx)
    }
}

impl AsyncRead for GuardedIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if let Some(reply) = &mut this.reply {
            return reply.poll_send(&mut this.stream, cx);
        }
        if this.head.expired(&this.state, cx) {
            if this.state.phase() == Phase::Head && !this.write_blocked {
                tracing::debug!("request head not complete in time: 408");
                return this.answer(REQUEST_TIMEOUT, cx);
            }
            // No byte of a head: nothing to answer; hyper reads the end and closes.
            return Poll::Ready(Ok(()));
        }
        let before = buf.filled().len();
        ready!(Pin::new(&mut this.stream).poll_read(cx, buf))?;
        let read = &buf.filled()[before..];
        if !read.is_empty() {
            this.state.bytes_arrived();
            if this.preface.completed_by(read) {
                // hyper never sees it (it would close without an answer).
                buf.set_filled(before);
                tracing::debug!("HTTP/2 prior-knowledge preface on HTTP/1.1: 400");
                return this.answer(HTTP2_REFUSED, cx);
            }
        }
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for GuardedIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let written = Pin::new(&mut this.stream).poll_write(cx, buf);
        this.write_blocked = written.is_pending();
        written
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let written = Pin::new(&mut this.stream).poll_write_vectored(cx, bufs);
        this.write_blocked = written.is_pending();
        written
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

/// The deadline of the head being waited for.
#[derive(Debug)]
struct HeadTimer {
    timeout: Duration,
    deadline: Pin<Box<Sleep>>,
    /// [`ConnState::requests`] when the deadline was set: a different count means a request
    /// came and went since, and the wait for the next head starts now.
    armed_after: u32,
}

impl HeadTimer {
    fn new(timeout: Duration, requests: u32) -> Self {
        Self {
            timeout,
            deadline: Box::pin(tokio::time::sleep(timeout)),
            armed_after: requests,
        }
    }

    /// Whether the head being waited for is late (never while a request is in progress);
    /// registers `cx` to be woken when it becomes so.
    fn expired(&mut self, state: &ConnState, cx: &mut Context<'_>) -> bool {
        if state.phase() == Phase::Busy {
            return false;
        }
        let requests = state.requests();
        if requests != self.armed_after {
            self.armed_after = requests;
            let since = Instant::from_std(state.waiting_since());
            self.deadline.as_mut().reset(since + self.timeout);
        }
        self.deadline.as_mut().poll(cx).is_ready()
    }
}

/// How much of the HTTP/2 preface the connection opened with.
#[derive(Debug, Default)]
struct Preface {
    /// Bytes matched so far; past the preface's length once it cannot be one.
    matched: usize,
}

impl Preface {
    const NOT: usize = usize::MAX;

    /// Feeds the next bytes read; `true` when they complete the preface.
    fn completed_by(&mut self, read: &[u8]) -> bool {
        let from = self.matched;
        if from >= H2_PREFACE.len() {
            return false;
        }
        let n = read.len().min(H2_PREFACE.len() - from);
        if read[..n] != H2_PREFACE[from..from + n] {
            self.matched = Self::NOT;
            return false;
        }
        self.matched = from + n;
        self.matched == H2_PREFACE.len()
    }
}

/// A canned answer being written; then the socket's write side is shut and reads end.
#[derive(Debug)]
struct Reply {
    bytes: &'static [u8],
    sent: usize,
    shut: bool,
}

impl Reply {
    fn new(bytes: &'static [u8]) -> Self {
        Self {
            bytes,
            sent: 0,
            shut: false,
        }
    }

    fn poll_send(&mut self, stream: &mut TcpStream, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.sent < self.bytes.len() {
            let n = ready!(Pin::new(&mut *stream).poll_write(cx, &self.bytes[self.sent..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.sent += n;
        }
        if !self.shut {
            ready!(Pin::new(&mut *stream).poll_shutdown(cx))?;
            self.shut = true;
        }
        // An end of stream for hyper, which then drops the connection.
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_preface_is_recognised_whole_or_in_pieces_and_nothing_else_is() {
        let mut whole = Preface::default();
        assert!(whole.completed_by(H2_PREFACE));
        assert!(!whole.completed_by(H2_PREFACE), "only once");

        let mut pieces = Preface::default();
        assert!(!pieces.completed_by(&H2_PREFACE[..5]));
        assert!(!pieces.completed_by(&H2_PREFACE[5..20]));
        let mut rest = H2_PREFACE[20..].to_vec();
        rest.extend_from_slice(b"\0\0\x12\x04");
        assert!(
            pieces.completed_by(&rest),
            "with a SETTINGS frame behind it"
        );

        let mut http1 = Preface::default();
        assert!(!http1.completed_by(b"POST /webhooks/voice HTTP/1.1\r\n"));
        assert!(
            !http1.completed_by(H2_PREFACE),
            "only at the connection's start"
        );

        let mut close = Preface::default();
        assert!(!close.completed_by(b"PRI * HTTP/1.1\r\n\r\n"));
        assert!(!close.completed_by(b"SM\r\n\r\n"));
    }
}
