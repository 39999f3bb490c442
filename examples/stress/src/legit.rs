//! The authorised client: a `CALL_ACTION` from the bound caller at a fixed interval, each on
//! a new connection, each bounded by a timeout.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::task::JoinSet;

/// What one authorised request got.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// 200 with a callflow that bridges the call.
    Bridged,
    /// Another status or body.
    Wrong(u16),
    /// The connection failed or closed before a full answer.
    Broken,
    /// No answer within the timeout.
    TimedOut,
}

/// One authorised request: its answer and how long it took.
#[derive(Clone, Copy, Debug)]
pub struct Sample {
    /// What it got.
    pub answer: Answer,
    /// From the connect to the answer (or to the failure).
    pub took: Duration,
}

/// The authorised client.
#[derive(Clone, Debug)]
pub struct Client {
    addr: SocketAddr,
    auth: Arc<str>,
    timeout: Duration,
}

impl Client {
    /// A client of the server at `addr` sending `auth` as its `Authorization`.
    pub fn new(addr: SocketAddr, auth: &str, timeout: Duration) -> Self {
        Self {
            addr,
            auth: auth.into(),
            timeout,
        }
    }

    /// Sends a request every `interval` for `duration` (open loop: a slow answer does not
    /// delay the next request) and returns every sample once the last one is in.
    pub async fn run(&self, duration: Duration, interval: Duration) -> Vec<Sample> {
        let mut set = JoinSet::new();
        let mut tick = tokio::time::interval(interval);
        let end = tokio::time::Instant::now() + duration;
        while tokio::time::Instant::now() < end {
            tick.tick().await;
            let me = self.clone();
            set.spawn(async move { me.one().await });
        }
        let mut samples = Vec::with_capacity(set.len());
        while let Some(done) = set.join_next().await {
            if let Ok(sample) = done {
                samples.push(sample);
            }
        }
        samples
    }

    async fn one(&self) -> Sample {
        let started = Instant::now();
        let answer = tokio::time::timeout(self.timeout, self.exchange())
            .await
            .unwrap_or(Answer::TimedOut);
        Sample {
            answer,
            took: started.elapsed(),
        }
    }

    async fn exchange(&self) -> Answer {
        let body = callflow::testing::call_action()
            .from(callflow::testing::CALLER)
            .to(callflow::testing::VIRTUAL_NUMBER)
            .build_json();
        let request = format!(
            "POST /webhooks/voice HTTP/1.1\r\nHost: {}\r\nAuthorization: {}\r\n\
             Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            self.addr,
            self.auth,
            body.len()
        );
        let Ok(mut stream) = TcpStream::connect(self.addr).await else {
            return Answer::Broken;
        };
        if stream.write_all(request.as_bytes()).await.is_err() {
            return Answer::Broken;
        }
        let mut response = Vec::new();
        if stream.read_to_end(&mut response).await.is_err() && response.is_empty() {
            return Answer::Broken;
        }
        judge(&response)
    }
}

/// A bridge is `200` and a `makeCall` to the bound party.
fn judge(response: &[u8]) -> Answer {
    let text = String::from_utf8_lossy(response);
    let Some(status) = text
        .strip_prefix("HTTP/1.1 ")
        .and_then(|rest| rest.get(..3))
        .and_then(|code| code.parse::<u16>().ok())
    else {
        return Answer::Broken;
    };
    if status == 200 && text.contains("\"makeCall\"") && text.contains(callflow::testing::CALLEE) {
        Answer::Bridged
    } else {
        Answer::Wrong(status)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_bridge_to_the_bound_party_counts() {
        let bridge = format!(
            "HTTP/1.1 200 OK\r\n\r\n{{\"callflow\":[{{\"action\":\"makeCall\",\"params\":{{\"destination\":\"{}\"}}}}]}}",
            callflow::testing::CALLEE
        );
        assert_eq!(judge(bridge.as_bytes()), Answer::Bridged);
        assert_eq!(
            judge(b"HTTP/1.1 200 OK\r\n\r\n{\"callflow\":[{\"action\":\"hangup\"}]}"),
            Answer::Wrong(200)
        );
        assert_eq!(
            judge(b"HTTP/1.1 503 Service Unavailable\r\n\r\n"),
            Answer::Wrong(503)
        );
        assert_eq!(judge(b""), Answer::Broken);
    }
}
