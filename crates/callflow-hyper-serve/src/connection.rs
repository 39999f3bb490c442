//! One connection's task: hyper's HTTP/1 connection over the [`GuardedIo`] socket, with a
//! service that marks the connection busy from each request to the end of its response,
//! closed gracefully on shutdown and at once when the accept loop sheds it.

use std::error::Error as StdError;
use std::net::SocketAddr;
use std::sync::Arc;

use http::{Request, Response};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio::sync::{OwnedSemaphorePermit, watch};
use tower_service::Service;

use crate::body::TrackedBody;
use crate::phase::{ConnState, Phase};
use crate::socket::GuardedIo;
use crate::{BodyReadTimeout, ServeConfig};

/// What a connection's task needs besides the app.
pub(crate) struct Connection<P> {
    /// The accepted socket.
    pub(crate) stream: TcpStream,
    /// The peer's address.
    pub(crate) addr: SocketAddr,
    /// The peer address as the adapter's request extension.
    pub(crate) peer: P,
    /// The connection's slot under the cap, freed when the task ends.
    pub(crate) permit: OwnedSemaphorePermit,
    /// Shared with the accept loop's registry.
    pub(crate) state: Arc<ConnState>,
    /// Turns `true` when the server shuts down.
    pub(crate) stop: watch::Receiver<bool>,
}

impl<P: Clone + Send + Sync + 'static> Connection<P> {
    /// Serves `app` on the connection until it closes, the server stops (graceful: the
    /// request in progress is answered with `Connection: close`), or it is shed (an idle
    /// connection closes at once, a half-received head is dropped).
    pub(crate) async fn serve<S, B>(self, app: S, config: ServeConfig)
    where
        S: Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
        S::Future: Send + 'static,
        S::Error: Into<Box<dyn StdError + Send + Sync>>,
        B: http_body::Body + Send + 'static,
        B::Data: Send,
        B::Error: Into<Box<dyn StdError + Send + Sync>>,
    {
        let Self {
            stream,
            addr,
            peer,
            permit: _permit,
            state,
            mut stop,
        } = self;
        let body_read_timeout = BodyReadTimeout(config.body_read_timeout);
        let exchanges = Arc::clone(&state);
        let service = hyper::service::service_fn(move |mut req: Request<Incoming>| {
            req.extensions_mut().insert(peer.clone());
            req.extensions_mut().insert(body_read_timeout);
            let exchange = exchanges.request_started();
            let mut app = app.clone();
            async move {
                let response = app.call(req).await?;
                Ok::<_, S::Error>(response.map(|body| TrackedBody::new(body, exchange)))
            }
        });
        let io = GuardedIo::new(stream, Arc::clone(&state), config.header_read_timeout);
        let conn = hyper::server::conn::http1::Builder::new()
            // The head timeout is GuardedIo's (it answers 408 where hyper would just close).
            .header_read_timeout(None)
            .serve_connection(TokioIo::new(io), service);
        let mut conn = std::pin::pin!(conn);
        let result = tokio::select! {
            result = conn.as_mut() => result,
            () = stopping(&mut stop) => {
                conn.as_mut().graceful_shutdown();
                conn.await
            }
            () = state.shed_requested() => {
                if state.phase() == Phase::Head {
                    // No response is due for a half-received head: drop it.
                    return;
                }
                // Idle: hyper closes it at once; busy again since it was chosen: the
                // request is answered with `Connection: close`.
                conn.as_mut().graceful_shutdown();
                conn.await
            }
        };
        if let Err(e) = result {
            tracing::debug!(error = %e, peer = %addr, "connection ended with an error");
        }
    }
}

/// Resolves when the server begins to shut down.
async fn stopping(stop: &mut watch::Receiver<bool>) {
    // An error means the server is gone: stop too.
    let _ = stop.wait_for(|stop| *stop).await;
}
