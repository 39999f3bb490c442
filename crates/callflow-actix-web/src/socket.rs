//! [`ConnSocket`]: a second handle on a connection's socket, kept in its connection data,
//! with which the adapter ends a connection that actix-web would keep: a body that stalls, a
//! refused request whose body keeps coming, an idle connection shed at the cap.

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The most body bytes read and discarded after a refusal, before the socket is released
/// (so that a client still sending does not get a reset before it has read the answer).
pub(crate) const DRAIN_BYTES: usize = 64 * 1024;
/// The longest a refused connection's socket is kept for that drain.
pub(crate) const DRAIN_TIME: Duration = Duration::from_secs(1);
/// How often the drain looks for bytes to discard.
const DRAIN_TICK: Duration = Duration::from_millis(50);
/// The most drains at once in the process: a drain keeps a descriptor after actix-web has
/// released the connection's slot, so they must fit in the descriptors kept back from the
/// connection cap (half of `callflow::limits::RESERVED_FDS`). Past it, a refused connection
/// is released at once.
pub(crate) const MAX_DRAINS: usize = callflow::limits::RESERVED_FDS as usize / 2;

/// The drains running now.
static DRAINING: AtomicUsize = AtomicUsize::new(0);

/// A duplicate of a connection's file descriptor (one more descriptor per connection), in
/// its connection data as `Rc<ConnSocket>`. It lives as long as the connection, or as the
/// bounded drain after a refusal if that ends later.
///
/// Shutting down the socket through it is how the adapter makes actix-web let go of a
/// connection: actix-web reads end-of-stream, finishes writing the answer in progress, if
/// any, and closes. actix-web itself would otherwise drain an unread chunked body after the
/// answer for as long as the client sends it, and read an unread `Content-Length` body for
/// its whole disconnect timeout, however large.
#[derive(Debug)]
pub(crate) struct ConnSocket(TcpStream);

impl ConnSocket {
    /// The socket of a new connection (`on_connect`'s `&dyn Any`); `None` if it is not TCP
    /// or the descriptor cannot be duplicated.
    #[cfg(unix)]
    pub(crate) fn of(conn: &dyn std::any::Any) -> Option<Rc<Self>> {
        use std::os::fd::AsFd;
        let tcp = conn.downcast_ref::<actix_web::rt::net::TcpStream>()?;
        let fd = tcp.as_fd().try_clone_to_owned().ok()?;
        Some(Rc::new(Self(TcpStream::from(fd))))
    }

    /// A handle on `stream` (tests).
    #[cfg(test)]
    pub(crate) fn from_stream(stream: TcpStream) -> Rc<Self> {
        Rc::new(Self(stream))
    }

    /// No second handle off Unix.
    #[cfg(not(unix))]
    pub(crate) fn of(_conn: &dyn std::any::Any) -> Option<Rc<Self>> {
        None
    }

    /// Ends the reading side: actix-web stops reading the body, writes the answer and closes
    /// (the client can still receive the answer).
    pub(crate) fn stop_reading(&self) {
        let _ = self.0.shutdown(Shutdown::Read);
    }

    /// Ends both sides: actix-web sees the connection end and drops it (an idle connection,
    /// shed at the cap).
    pub(crate) fn shut_down(&self) {
        let _ = self.0.shutdown(Shutdown::Both);
    }

    /// Answers a request head that did not arrive in time with `408 Request Timeout` and
    /// `Connection: close`, written on the socket itself (actix-web is not writing: no request
    /// is in progress), then [`shut_down`](Self::shut_down)s the connection.
    pub(crate) fn time_out_head(&self) {
        const TIMEOUT: &[u8] =
            b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\n\r\n";
        // The send buffer of a connection with nothing in flight takes these bytes at once;
        // a client that cannot take them is cut off all the same.
        let _ = (&self.0).write(TIMEOUT);
        self.shut_down();
    }

    /// [`stop_reading`](Self::stop_reading), then keeps the socket (not actix-web's
    /// connection) a little longer, discarding at most [`DRAIN_BYTES`] of the body still
    /// arriving, for at most [`DRAIN_TIME`]: closing a socket with unread bytes sends a
    /// reset, which can make the client drop the answer before it has read it. At most
    /// [`MAX_DRAINS`] at once.
    pub(crate) fn close_after_answer(self: &Rc<Self>) {
        self.stop_reading();
        let Some(ticket) = DrainTicket::take() else {
            return;
        };
        let socket = Rc::clone(self);
        actix_web::rt::spawn(async move {
            socket.drain().await;
            drop(ticket);
        });
    }

    async fn drain(&self) {
        if self.0.set_nonblocking(true).is_err() {
            return;
        }
        let start = Instant::now();
        let mut left = DRAIN_BYTES;
        let mut sink = [0u8; 8 * 1024];
        while left > 0 && start.elapsed() < DRAIN_TIME {
            match (&self.0).read(&mut sink[..left.min(8 * 1024)]) {
                Ok(n) if n > 0 => left -= n,
                // Nothing queued now (end-of-stream is what a shut-down side reads then).
                Ok(_) => actix_web::rt::time::sleep(DRAIN_TICK).await,
                Err(e) if e.kind() == ErrorKind::WouldBlock => {
                    actix_web::rt::time::sleep(DRAIN_TICK).await;
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return,
            }
        }
    }
}

/// One of the [`MAX_DRAINS`], given back when dropped (also if the drain is cancelled).
struct DrainTicket;

impl DrainTicket {
    fn take() -> Option<Self> {
        if DRAINING.fetch_add(1, Ordering::AcqRel) < MAX_DRAINS {
            Some(Self)
        } else {
            DRAINING.fetch_sub(1, Ordering::AcqRel);
            None
        }
    }
}

impl Drop for DrainTicket {
    fn drop(&mut self) {
        DRAINING.fetch_sub(1, Ordering::AcqRel);
    }
}
