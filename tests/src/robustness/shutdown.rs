//! Row 30: graceful shutdown (in-flight requests finish, the wait is bounded, answers during
//! the shutdown carry `Connection: close`).

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use callflow::CallFlow;
use callflow::testing::conformance::{self, AUTH_TOKEN};
use callflow::testing::{self, fixtures};
use http::Method;
use tokio::io::BufReader;

use super::Outcome;
use super::support::{
    Counting, SLACK, counting_webhook, ending, post, says_close, send_raw, webhook_head,
};
use crate::{
    Framework, GuardedServer, Guards, http_client, read_response, run_case, serve_guarded,
};

/// #30: shutdown while a webhook is in flight and two clients are stuck mid-request: the
/// in-flight webhook gets its answer, new connections are not served, and `serve` returns
/// within the grace period although the stuck clients never finish.
pub(super) async fn graceful_shutdown_finishes_in_flight_and_is_bounded(
    framework: Framework,
) -> Outcome {
    let guards = Guards {
        header_read_timeout: Duration::from_secs(30),
        body_read_timeout: Duration::from_secs(30),
        grace_period: Duration::from_secs(3),
        ..Guards::default()
    };
    let (mut server, handler) =
        slow_handler_server(framework, Duration::from_millis(1200), guards).await;
    let addr = server.addr;
    let stuck_head = send_raw(addr, b"POST /webhooks/voice HTTP/1.1\r\nhost: x\r\n").await;
    let mut wire = webhook_head(addr, "content-length: 300\r\n");
    wire.extend_from_slice(b"{\"eventType\":");
    let stuck_body = send_raw(addr, &wire).await;
    let in_flight = tokio::spawn(async move {
        let case = post("in_flight", testing::call_action().build_json());
        run_case(&http_client(), addr, &case).await
    });
    // Shut down once the in-flight webhook is in its handler.
    handler_reached(&handler, 1).await?;
    let stopping = Instant::now();
    server.begin_shutdown();
    // Well after the signal, while the in-flight webhook still runs: a new connection.
    tokio::time::sleep(Duration::from_millis(400)).await;
    let late = tokio::spawn(async move {
        let client = reqwest::Client::builder()
            .no_proxy()
            .timeout(Duration::from_millis(1500))
            .build()
            .expect("client");
        client
            .post(format!("http://{addr}{}", conformance::PATH))
            .header("authorization", AUTH_TOKEN)
            .body(fixtures::get("vca_nm_inbound"))
            .send()
            .await
            .map(|r| r.status().as_u16())
    });
    let answer = in_flight.await.map_err(|e| e.to_string())?;
    if answer.status != 200 || answer.body != CallFlow::builder().say("run 1").hangup().to_bytes() {
        return Err(format!("the in-flight webhook got {answer:?}"));
    }
    server
        .stopped(guards.grace_period + SLACK)
        .await
        .map_err(|e| format!("{e} (stuck clients must not hold the shutdown)"))?;
    let took = stopping.elapsed();
    if let Ok(Ok(status)) = late.await {
        return Err(format!(
            "a connection opened after the shutdown began was served: {status}"
        ));
    }
    for (what, stream) in [("stuck head", stuck_head), ("stuck body", stuck_body)] {
        let end = ending(stream, SLACK).await;
        if !end.closed {
            return Err(format!("the {what} connection outlived the server"));
        }
    }
    if took > guards.grace_period + SLACK {
        return Err(format!("shutdown took {took:?}"));
    }
    Ok(())
}

/// #30 (issue #13, defect 7): a webhook in flight on a keep-alive connection when the
/// shutdown begins is answered with `Connection: close`, then the connection is closed; a
/// keep-alive connection idle after its answer is closed at once, not at the grace's end.
pub(super) async fn responses_during_shutdown_carry_connection_close(
    framework: Framework,
) -> Outcome {
    let guards = Guards {
        header_read_timeout: Duration::from_secs(30),
        grace_period: Duration::from_secs(5),
        ..Guards::default()
    };
    let (mut server, handler) =
        slow_handler_server(framework, Duration::from_secs(1), guards).await;
    let addr = server.addr;
    let wire = |event: &str| {
        let body = testing::call_action().event_id(event).build_json();
        let mut wire = webhook_head(addr, &format!("content-length: {}\r\n", body.len()));
        wire.extend_from_slice(body.as_bytes());
        wire
    };
    // One keep-alive connection answered before the shutdown, then idle.
    let mut idle = BufReader::new(send_raw(addr, &wire("before-shutdown")).await);
    let (status, headers, _) = read_response(&mut idle, &Method::POST)
        .await
        .map_err(|e| format!("no answer before the shutdown: {e}"))?;
    if status != 200 || says_close(&headers) {
        return Err(format!(
            "before the shutdown: {status}, {headers:?} (keep-alive expected)"
        ));
    }
    let in_flight = send_raw(addr, &wire("during-shutdown")).await;
    handler_reached(&handler, 2).await?;
    let stopping = Instant::now();
    server.begin_shutdown();
    let idle_end = tokio::spawn(ending(idle.into_inner(), guards.grace_period));
    let end = ending(in_flight, guards.grace_period + SLACK).await;
    let Some((status, headers, _)) = &end.response else {
        return Err(format!("the in-flight webhook got no answer: {end:?}"));
    };
    if *status != 200 || !says_close(headers) {
        return Err(format!(
            "the answer during the shutdown must carry `Connection: close`: {status}, {headers:?}"
        ));
    }
    if !end.closed {
        return Err("the connection stayed open after its answer during the shutdown".into());
    }
    let idle_end = idle_end.await.map_err(|e| e.to_string())?;
    if !idle_end.closed || idle_end.after >= guards.grace_period {
        return Err(format!(
            "an idle keep-alive connection was not closed at the shutdown: {idle_end:?}"
        ));
    }
    server
        .stopped(guards.grace_period + SLACK)
        .await
        .map_err(|e| format!("{e} after {:?}", stopping.elapsed()))
}

/// A server whose `CALL_ACTION` handler counts its runs and takes `delay` for each (the
/// deadline is 4 s).
pub(super) async fn slow_handler_server(
    framework: Framework,
    delay: Duration,
    guards: Guards,
) -> (GuardedServer, Arc<Counting>) {
    let handler = Arc::new(Counting {
        delay,
        ..Counting::default()
    });
    let webhook =
        counting_webhook(conformance::builder(handler.clone()).deadline(Duration::from_secs(4)));
    (serve_guarded(framework, webhook, guards).await, handler)
}

/// Waits (at most [`SLACK`]) until `handler` has started its `runs`-th run.
pub(super) async fn handler_reached(handler: &Counting, runs: usize) -> Outcome {
    let waiting = Instant::now();
    while handler.runs.load(Ordering::SeqCst) < runs {
        if waiting.elapsed() > SLACK {
            return Err("the in-flight webhook never reached its handler".into());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Ok(())
}
