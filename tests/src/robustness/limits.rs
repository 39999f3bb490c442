//! Rows 6, 7 and 29: bodies over the size limit (announced by `Content-Length`, chunked, or
//! behind `Expect: 100-continue`).

use std::time::{Duration, Instant};

use bytes::Bytes;
use callflow::testing::conformance::{self, Transport};

use super::Outcome;
use super::support::{
    SLACK, conformance_case, ending, error_code, exchange, exchanges, send_raw, still_serving,
    webhook_head,
};
use crate::{Framework, Guards, serve_guarded};

/// #6: the head says the body is too large: 413 at once, while the client has sent only a
/// little of the body (the body timeout is long, so waiting for the body would show).
pub(super) async fn over_limit_content_length_is_413_before_the_body_is_read(
    framework: Framework,
) -> Outcome {
    let guards = Guards {
        body_read_timeout: Duration::from_secs(30),
        ..Guards::default()
    };
    let server = serve_guarded(framework, conformance::webhook(), guards).await;
    let declared = 2 * conformance::MAX_BODY_BYTES;
    let mut wire = webhook_head(server.addr, &format!("content-length: {declared}\r\n"));
    wire.extend_from_slice(b"{\"pad\":\"xxxxxxxx");
    let stream = send_raw(server.addr, &wire).await;
    let end = ending(stream, SLACK).await;
    let Some((status, _, body)) = &end.response else {
        return Err(format!("no answer to an over-limit head: {end:?}"));
    };
    if *status != 413 || error_code(body).as_deref() != Some("payload_too_large") {
        return Err(format!("expected 413 payload_too_large: {end:?}"));
    }
    if !end.closed {
        return Err("the connection was left open with its body unread".into());
    }
    still_serving(server.addr).await?;
    // And through an ordinary client, identical to the core.
    exchange(
        server.addr,
        &conformance::webhook(),
        &conformance_case("over_limit_content_length"),
    )
    .await?;
    server.shutdown().await
}

/// #7: no `Content-Length`, a chunked body past the limit: 413 and the connection closed.
pub(super) async fn over_limit_chunked_body_is_413_and_closed(framework: Framework) -> Outcome {
    // The conformance runner checks the close after the 413.
    exchanges(
        framework,
        conformance::webhook(),
        &[
            conformance_case("over_limit_chunked"),
            conformance_case("within_limit_chunked"),
        ],
    )
    .await
}

/// #29: `Expect: 100-continue` with a length over the limit: the final 413 comes without
/// the client sending any body.
pub(super) async fn expect_continue_with_an_oversized_length_is_413_without_the_body(
    framework: Framework,
) -> Outcome {
    let mut case = conformance_case("over_limit_expect_continue");
    assert_eq!(case.transport, Transport::ExpectContinue);
    let start = Instant::now();
    exchanges(framework, conformance::webhook(), &[case.clone()]).await?;
    // Also when the declared length is far beyond anything (no allocation for it).
    case.body = Bytes::from(vec![b' '; 4 * conformance::MAX_BODY_BYTES]);
    exchanges(framework, conformance::webhook(), &[case]).await?;
    if start.elapsed() > 2 * SLACK {
        return Err(format!("took {:?}", start.elapsed()));
    }
    Ok(())
}
