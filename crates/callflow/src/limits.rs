//! The file-descriptor budget of a server: how many connections fit in the process's
//! `RLIMIT_NOFILE`, so that a connection cap, not `EMFILE`, is what bounds a server under a
//! connection flood.
//!
//! The adapters' `serve` helpers call [`connection_cap`] once at start: it raises the soft
//! limit to the hard limit (an unprivileged process may), then shrinks the requested cap to
//! what the descriptors left after a reserve (listeners, files, a store's connections, logs)
//! can hold, and logs both.

/// Descriptors kept back for everything that is not a client connection: the listener, a
/// SQLite file and its WAL and shared-memory files, Redis connections, the runtime's own
/// (epoll, eventfd), logs. Generous: running out of these is worse than one connection less.
pub const RESERVED_FDS: u64 = 64;

/// The file-descriptor limits after [`raise_nofile_limit`]: `(soft, hard)`; `None` where the
/// platform has none (non-Unix) or it could not be read.
pub fn raise_nofile_limit() -> Option<(u64, u64)> {
    #[cfg(unix)]
    {
        let (soft, hard) = rlimit::Resource::NOFILE.get().ok()?;
        if soft < hard {
            match rlimit::Resource::NOFILE.set(hard, hard) {
                Ok(()) => return Some((hard, hard)),
                Err(e) => {
                    tracing::warn!(error = %e, soft, hard, "cannot raise the open-file limit");
                }
            }
        }
        Some((soft, hard))
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// The connection cap to serve with: `requested`, reduced so that `requested` connections of
/// `fds_per_connection` descriptors each (times `servers`, for servers such as actix-web's
/// workers that each apply the cap on their own) fit in the open-file limit after
/// [`RESERVED_FDS`]. Raises the soft limit to the hard one first ([`raise_nofile_limit`]) and
/// logs the result (`info`, or `warn` when the cap had to shrink). At least 1.
pub fn connection_cap(requested: usize, fds_per_connection: usize, servers: usize) -> usize {
    let requested = requested.max(1);
    let Some((soft, hard)) = raise_nofile_limit() else {
        return requested;
    };
    let per = (fds_per_connection.max(1) * servers.max(1)) as u64;
    let budget = (soft.saturating_sub(RESERVED_FDS) / per).max(1);
    let cap = (requested as u64).min(budget) as usize;
    if cap < requested {
        tracing::warn!(
            requested,
            cap,
            soft_limit = soft,
            hard_limit = hard,
            fds_per_connection,
            "connection cap lowered to fit the open-file limit"
        );
    } else {
        tracing::info!(
            cap,
            soft_limit = soft,
            hard_limit = hard,
            "connection cap fits the open-file limit"
        );
    }
    cap
}

/// The listen backlog [`widen_backlog`] asks for (the kernel caps it at its own maximum,
/// `net.core.somaxconn` on Linux, 4096 by default). Measured: with 2,000 idle connections
/// reopened continuously against a cap of 1,024, a backlog of 1,024 let the kernel drop
/// enough handshakes to push a legitimate client's p99 over 1 s; 4,096 kept it under 0.3 s.
pub const LISTEN_BACKLOG: i32 = 4096;

/// Listens again on `listener` with a backlog of [`LISTEN_BACKLOG`]. A listener bound by
/// `std::net::TcpListener::bind` holds 128 connections waiting to be accepted; a flood of
/// connections overflows that, and the kernel drops the handshakes of legitimate clients,
/// which then wait a second or more to retry. Logs and ignores a failure.
#[cfg(unix)]
pub fn widen_backlog(listener: &impl std::os::fd::AsFd) {
    if let Err(e) = socket2::SockRef::from(listener).listen(LISTEN_BACKLOG) {
        tracing::warn!(error = %e, "cannot widen the listen backlog");
    }
}

/// No-op off Unix.
#[cfg(not(unix))]
pub fn widen_backlog<T>(_listener: &T) {}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn the_soft_limit_is_raised_to_the_hard_limit() {
        let (soft, hard) = raise_nofile_limit().expect("unix has limits");
        assert_eq!(soft, hard);
        assert_eq!(rlimit::Resource::NOFILE.get().unwrap().0, hard);
    }

    #[test]
    fn a_widened_backlog_holds_more_than_128_waiting_connections() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        widen_backlog(&listener);
        let addr = listener.local_addr().unwrap();
        // Nothing accepts: every one of them must fit in the backlog.
        let waiting: Vec<_> = (0..300)
            .map(|_| {
                std::net::TcpStream::connect_timeout(&addr, std::time::Duration::from_secs(1))
                    .expect("a place in the backlog")
            })
            .collect();
        assert_eq!(waiting.len(), 300);
    }

    #[test]
    fn the_cap_shrinks_to_the_descriptor_budget() {
        let (soft, _) = raise_nofile_limit().unwrap();
        let budget = ((soft - RESERVED_FDS) / 2) as usize;
        assert_eq!(connection_cap(usize::MAX / 4, 2, 1), budget);
        assert_eq!(connection_cap(10, 2, 1), 10.min(budget));
        assert_eq!(connection_cap(0, 1, 1), 1);
    }
}
