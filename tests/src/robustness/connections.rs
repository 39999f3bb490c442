//! Rows 15-17: slow, idle and many clients (head and body timeouts, the connection cap and
//! the shedding of idle connections at it).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use callflow::WebhookResponse;
use callflow::testing::conformance::{self, AUTH_TOKEN};
use callflow::testing::fixtures;
use http::header::{AUTHORIZATION, CONTENT_TYPE};
use http::{HeaderValue, Method, StatusCode};
use tokio::io::{AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use super::Outcome;
use super::support::{
    SLACK, ending, futures_join, says_close, send_raw, still_serving, timed_webhook, webhook_head,
};
use crate::{Framework, GuardedServer, Guards, read_response, serve_guarded};

/// #15: half a request head, then nothing: the connection is closed (or answered 408) at
/// the head timeout, and an ordinary webhook is answered meanwhile.
pub(super) async fn slow_head_is_cut_off_at_the_head_timeout(framework: Framework) -> Outcome {
    let guards = Guards::default();
    let server = serve_guarded(framework, conformance::webhook(), guards).await;
    let stalled = send_raw(
        server.addr,
        b"POST /webhooks/voice HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: appl",
    )
    .await;
    let waiting = tokio::spawn(ending(stalled, guards.header_read_timeout + SLACK));
    let served = timed_webhook(server.addr).await?;
    if served >= guards.header_read_timeout {
        return Err(format!(
            "an ordinary webhook took {served:?} next to the stalled head"
        ));
    }
    let end = waiting.await.map_err(|e| e.to_string())?;
    if !end.closed {
        return Err(format!(
            "a stalled head was still open after {:?}",
            end.after
        ));
    }
    if let Some((status, _, _)) = &end.response
        && *status != 408
    {
        return Err(format!(
            "a stalled head must get 408 or a close, got {end:?}"
        ));
    }
    still_serving(server.addr).await?;
    server.shutdown().await
}

/// #15 (and #17): a connection that sends nothing is closed at the head timeout too.
pub(super) async fn idle_connection_is_closed_at_the_head_timeout(framework: Framework) -> Outcome {
    let guards = Guards::default();
    let server = serve_guarded(framework, conformance::webhook(), guards).await;
    let idle = send_raw(server.addr, b"").await;
    let end = ending(idle, guards.header_read_timeout + SLACK).await;
    if !end.closed {
        return Err(format!(
            "an idle connection was still open after {:?}",
            end.after
        ));
    }
    // A kept-alive connection that goes quiet after a webhook is closed as well.
    let mut wire = webhook_head(
        server.addr,
        &format!(
            "content-length: {}\r\n",
            fixtures::get("vca_nm_inbound").len()
        ),
    );
    wire.extend_from_slice(fixtures::get("vca_nm_inbound").as_bytes());
    let stream = send_raw(server.addr, &wire).await;
    let mut reader = BufReader::new(stream);
    let (status, _, _) = read_response(&mut reader, &Method::POST)
        .await
        .map_err(|e| format!("no answer: {e}"))?;
    if status != 200 {
        return Err(format!("keep-alive webhook got {status}"));
    }
    let mut rest = Vec::new();
    let closed = tokio::time::timeout(
        guards.header_read_timeout + SLACK,
        reader.read_to_end(&mut rest),
    )
    .await;
    if closed.is_err() {
        return Err("a quiet keep-alive connection was never closed".into());
    }
    server.shutdown().await
}

/// #15 (issue #13, defect 7): part of a head at the head timeout gets
/// `408 Request Timeout` with `Connection: close`, then a close; on a keep-alive connection
/// the timeout counts from the end of the previous answer.
pub(super) async fn partial_head_gets_408_at_the_head_timeout(framework: Framework) -> Outcome {
    let guards = Guards::default();
    let server = serve_guarded(framework, conformance::webhook(), guards).await;
    let partial = b"POST /webhooks/voice HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-ty";
    let fresh = send_raw(server.addr, partial).await;
    let started = Instant::now();
    timed_out_with_408("a new connection", fresh, started, guards).await?;

    let body = fixtures::get("vca_nm_inbound");
    let mut wire = webhook_head(server.addr, &format!("content-length: {}\r\n", body.len()));
    wire.extend_from_slice(body.as_bytes());
    let mut kept = BufReader::new(send_raw(server.addr, &wire).await);
    let (status, _, _) = read_response(&mut kept, &Method::POST)
        .await
        .map_err(|e| format!("no answer to the first webhook: {e}"))?;
    if status != 200 {
        return Err(format!("the first webhook got {status}"));
    }
    let answered = Instant::now();
    // Most of a head timeout later, part of the next head.
    tokio::time::sleep(guards.header_read_timeout / 2).await;
    let mut kept = kept.into_inner();
    kept.write_all(partial).await.map_err(|e| e.to_string())?;
    timed_out_with_408("a keep-alive connection", kept, answered, guards).await?;
    still_serving(server.addr).await?;
    server.shutdown().await
}

/// `stream` (part of a head sent, its wait for the head begun at `since`) gets a 408 with
/// `Connection: close` at the head timeout, then a close.
pub(super) async fn timed_out_with_408(
    what: &str,
    stream: TcpStream,
    since: Instant,
    guards: Guards,
) -> Outcome {
    let end = ending(stream, guards.header_read_timeout + SLACK).await;
    let Some((status, headers, _)) = &end.response else {
        return Err(format!("{what}: a partial head got no 408: {end:?}"));
    };
    if *status != 408 || !says_close(headers) {
        return Err(format!(
            "{what}: expected 408 with `Connection: close`, got {status}, {headers:?}"
        ));
    }
    let at = since.elapsed();
    if at + Duration::from_millis(200) < guards.header_read_timeout {
        return Err(format!("{what}: answered 408 early, after {at:?}"));
    }
    if !end.closed {
        return Err(format!("{what}: the connection stayed open after the 408"));
    }
    Ok(())
}

/// #16: a head that promises 200 bytes, and 20 of them: the core's 408 at the body timeout,
/// then a close; an ordinary webhook is answered meanwhile.
pub(super) async fn slow_body_gets_408_at_the_body_timeout(framework: Framework) -> Outcome {
    let guards = Guards::default();
    let server = serve_guarded(framework, conformance::webhook(), guards).await;
    let mut wire = webhook_head(server.addr, "content-length: 200\r\n");
    wire.extend_from_slice(br#"{"eventType":"CALL_AC"#);
    let stalled = send_raw(server.addr, &wire).await;
    late_body_answered(&server, stalled, guards).await
}

/// #16: the same with a chunked body that stops after its first chunk.
pub(super) async fn slow_chunked_body_gets_408_at_the_body_timeout(
    framework: Framework,
) -> Outcome {
    let guards = Guards::default();
    let server = serve_guarded(framework, conformance::webhook(), guards).await;
    let mut wire = webhook_head(server.addr, "transfer-encoding: chunked\r\n");
    let first = br#"{"eventType":"CALL_AC"#;
    wire.extend_from_slice(format!("{:x}\r\n", first.len()).as_bytes());
    wire.extend_from_slice(first);
    wire.extend_from_slice(b"\r\n");
    let stalled = send_raw(server.addr, &wire).await;
    late_body_answered(&server, stalled, guards).await
}

pub(super) async fn late_body_answered(
    server: &GuardedServer,
    stalled: TcpStream,
    guards: Guards,
) -> Outcome {
    let started = Instant::now();
    let waiting = tokio::spawn(ending(stalled, guards.body_read_timeout + SLACK));
    let served = timed_webhook(server.addr).await?;
    if served >= guards.body_read_timeout {
        return Err(format!(
            "an ordinary webhook took {served:?} next to the stalled body"
        ));
    }
    let end = waiting.await.map_err(|e| e.to_string())?;
    let Some((status, headers, body)) = &end.response else {
        return Err(format!("a stalled body got no 408: {end:?}"));
    };
    let expected = WebhookResponse::request_timeout();
    if *status != 408
        || body != expected.body()
        || headers.get(CONTENT_TYPE).map(HeaderValue::as_bytes) != Some(b"application/json")
    {
        return Err(format!(
            "expected the core's 408 request_timeout, got {end:?}"
        ));
    }
    if started.elapsed() + Duration::from_millis(200) < guards.body_read_timeout {
        return Err(format!("answered 408 early, after {:?}", started.elapsed()));
    }
    if !end.closed {
        return Err("the connection stayed open after the 408".into());
    }
    still_serving(server.addr).await
}

/// #17: 500 connections held open (half silent, half with a partial head) while ordinary
/// webhooks keep being answered on new connections; the held ones are closed at the head
/// timeout.
pub(super) async fn five_hundred_idle_connections_do_not_stop_webhooks(
    framework: Framework,
) -> Outcome {
    let guards = Guards {
        header_read_timeout: Duration::from_secs(4),
        ..Guards::default()
    };
    let server = serve_guarded(framework, conformance::webhook(), guards).await;
    let mut held = Vec::with_capacity(500);
    for i in 0..500 {
        let bytes: &[u8] = if i % 2 == 0 {
            b""
        } else {
            b"POST /webhooks/voice HTTP/1.1\r\nho"
        };
        held.push(send_raw(server.addr, bytes).await);
    }
    let opened = Instant::now();
    for _ in 0..20 {
        let took = timed_webhook(server.addr).await?;
        if took > Duration::from_secs(2) {
            return Err(format!(
                "a webhook took {took:?} next to 500 idle connections"
            ));
        }
    }
    if opened.elapsed() >= guards.header_read_timeout {
        return Err("the webhooks were not answered while the idle connections were held".into());
    }
    let limit = guards.header_read_timeout + SLACK;
    let endings = futures_join(held.into_iter().map(|s| ending(s, limit))).await;
    let open = endings.iter().filter(|e| !e.closed).count();
    if open > 0 {
        return Err(format!(
            "{open} of 500 idle connections still open after {limit:?}"
        ));
    }
    still_serving(server.addr).await?;
    server.shutdown().await
}

/// #17: with the cap reached by busy connections (bodies under way), a new webhook waits
/// (idle connections would be shed) and is answered once the body timeout frees a slot.
pub(super) async fn connections_over_the_cap_wait_for_a_free_slot(framework: Framework) -> Outcome {
    let guards = Guards {
        max_connections: 4,
        ..Guards::default()
    };
    let server = serve_guarded(framework, conformance::webhook(), guards).await;
    let mut held = Vec::new();
    for _ in 0..4 {
        let mut wire = webhook_head(server.addr, "content-length: 200\r\n");
        wire.extend_from_slice(br#"{"eventType":"#);
        held.push(send_raw(server.addr, &wire).await);
    }
    // Let the server accept them all.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let took = timed_webhook(server.addr).await?;
    if took > guards.body_read_timeout + SLACK {
        return Err(format!("the webhook over the cap took {took:?}"));
    }
    if took < guards.body_read_timeout / 2 {
        return Err(format!(
            "the webhook over the cap was served after {took:?}, next to 4 busy connections"
        ));
    }
    drop(held);
    still_serving(server.addr).await?;
    server.shutdown().await
}

/// #17 (issue #13, defect 3): three times the cap of connections that never send a byte,
/// each reopened as soon as the server closes it, while a client posts a webhook every
/// 100 ms for 5 s: every webhook is answered, p99 within 1 s. The head timeout is long, so
/// only shedding idle connections at the cap can make room.
pub(super) async fn idle_connections_are_shed_at_the_cap_for_a_working_client(
    framework: Framework,
) -> Outcome {
    const CAP: usize = 16;
    let guards = Guards {
        header_read_timeout: Duration::from_secs(30),
        max_connections: CAP,
        ..Guards::default()
    };
    let server = serve_guarded(framework, conformance::webhook(), guards).await;
    let addr = server.addr;
    let (stop_attack, attack) = tokio::sync::watch::channel(false);
    let closed = Arc::new(AtomicUsize::new(0));
    let attackers: Vec<_> = (0..3 * CAP)
        .map(|_| {
            let (mut attack, closed) = (attack.clone(), closed.clone());
            tokio::spawn(async move {
                loop {
                    let Ok(mut idle) = TcpStream::connect(addr).await else {
                        tokio::time::sleep(Duration::from_millis(10)).await;
                        continue;
                    };
                    // Never send a byte; hold it until the server closes it.
                    let mut byte = [0u8; 1];
                    tokio::select! {
                        _ = idle.read(&mut byte) => closed.fetch_add(1, Ordering::Relaxed),
                        _ = attack.wait_for(|stop| *stop) => break,
                    };
                }
            })
        })
        .collect();
    // Let the idle connections fill the cap and the backlog.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut took = Vec::new();
    let mut failures = Vec::new();
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    // 50 webhooks; three failures are enough to conclude.
    while took.len() + failures.len() < 50 && failures.len() < 3 {
        tick.tick().await;
        match answered_within(addr, Duration::from_secs(5)).await {
            Ok(elapsed) => took.push(elapsed),
            Err(e) => failures.push(e),
        }
    }
    let _ = stop_attack.send(true);
    for attacker in attackers {
        let _ = attacker.await;
    }
    if let Some(first) = failures.first() {
        return Err(format!(
            "{} of {} webhooks failed next to {} idle connections at a cap of {CAP}; first: {first}",
            failures.len(),
            took.len() + failures.len(),
            3 * CAP,
        ));
    }
    took.sort_unstable();
    let p99 = took[(took.len() * 99).div_ceil(100) - 1];
    if p99 > Duration::from_secs(1) {
        return Err(format!(
            "p99 {p99:?} (p50 {:?}) next to {} idle connections at a cap of {CAP}",
            took[took.len() / 2],
            3 * CAP
        ));
    }
    if closed.load(Ordering::Relaxed) == 0 {
        return Err("no idle connection was ever closed".into());
    }
    still_serving(addr).await?;
    server.shutdown().await
}

/// An ordinary webhook over a new connection, answered with the conformance reply within
/// `limit`: how long it took; what went wrong, without a panic.
pub(super) async fn answered_within(addr: SocketAddr, limit: Duration) -> Result<Duration, String> {
    let client = reqwest::Client::builder()
        .no_proxy()
        .timeout(limit)
        .build()
        .expect("client");
    let start = Instant::now();
    let response = client
        .post(format!("http://{addr}{}", conformance::PATH))
        .header(AUTHORIZATION, AUTH_TOKEN)
        .header(CONTENT_TYPE, "application/json")
        .body(fixtures::get("vca_nm_inbound"))
        .send()
        .await;
    let answer = match response {
        Ok(response) => (response.status(), response.bytes().await),
        Err(e) => return Err(format!("{e:?}")),
    };
    match answer {
        (StatusCode::OK, Ok(body)) if body == conformance::reply().to_bytes() => {
            Ok(start.elapsed())
        }
        (status, body) => Err(format!("got {status}, {body:?}")),
    }
}
