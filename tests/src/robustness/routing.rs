//! Row 27: wrong methods and paths, and an HTTP/2 preface on the HTTP/1.1 server.

use std::time::Duration;

use callflow::testing::conformance::{self, AUTH_TOKEN};
use callflow::testing::fixtures;
use http::Method;

use super::Outcome;
use super::support::{conformance_case, ending, exchange, send_raw, still_serving};
use crate::{Framework, Guards, HEALTH_PATH, http_client, serve_guarded};

/// #27: `GET`, `HEAD`, `PUT`, `OPTIONS`, `DELETE` on the webhook: 405 with `Allow: POST` and
/// the core's JSON; a path past the webhook's: the app's 404; the app's own `GET` route
/// keeps its answer and its own 405 (no warp `.or()` mis-attribution).
pub(super) async fn wrong_method_is_405_and_wrong_path_is_404(framework: Framework) -> Outcome {
    let mut options = conformance_case("put_not_allowed");
    options.name = "options_not_allowed";
    options.method = Method::OPTIONS;
    let mut delete = conformance_case("put_not_allowed");
    delete.name = "delete_not_allowed";
    delete.method = Method::DELETE;
    let webhook = conformance::webhook();
    let server = serve_guarded(framework, webhook.clone(), Guards::default()).await;
    for case in [
        conformance_case("get_not_allowed"),
        conformance_case("head_not_allowed"),
        conformance_case("put_not_allowed"),
        options,
        delete,
    ] {
        exchange(server.addr, &webhook, &case).await?;
    }
    let client = http_client();
    let url = |path: &str| format!("http://{}{path}", server.addr);
    let send = |method: Method, path: &str| {
        client
            .request(method, url(path))
            .header("content-type", "application/json")
            .header("authorization", AUTH_TOKEN)
            .body(fixtures::get("vca_nm_inbound"))
            .send()
    };
    let beyond = send(Method::POST, "/webhooks/voice/extra")
        .await
        .map_err(|e| e.to_string())?;
    if beyond.status() != 404 {
        return Err(format!("POST past the webhook path: {}", beyond.status()));
    }
    let elsewhere = send(Method::POST, "/nowhere")
        .await
        .map_err(|e| e.to_string())?;
    if elsewhere.status() != 404 {
        return Err(format!("POST /nowhere: {}", elsewhere.status()));
    }
    let health = client
        .get(url(HEALTH_PATH))
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if health.status() != 200 {
        return Err(format!("GET {HEALTH_PATH}: {}", health.status()));
    }
    let health_post = send(Method::POST, HEALTH_PATH)
        .await
        .map_err(|e| e.to_string())?;
    if health_post.status() != 405 {
        return Err(format!(
            "POST {HEALTH_PATH} must be the app's 405: {}",
            health_post.status()
        ));
    }
    server.shutdown().await
}

/// What an HTTP/2 client with prior knowledge sends first: the preface, then an empty
/// `SETTINGS` frame.
pub(super) const H2_PRIOR_KNOWLEDGE: &[u8] =
    b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n\0\0\0\x04\0\0\0\0\0";

/// #27 (issue #13, defect 7): an HTTP/2 prior-knowledge preface on the HTTP/1.1 server gets
/// a 4xx answer (400) and the connection is closed within 1 s; the server keeps serving.
pub(super) async fn http2_prior_knowledge_gets_400_and_a_close(framework: Framework) -> Outcome {
    let server = serve_guarded(framework, conformance::webhook(), Guards::default()).await;
    let h2 = send_raw(server.addr, H2_PRIOR_KNOWLEDGE).await;
    let end = ending(h2, Duration::from_secs(1)).await;
    let Some((status, _, _)) = &end.response else {
        return Err(format!("the HTTP/2 preface got no answer: {end:?}"));
    };
    if !(400..500).contains(status) {
        return Err(format!("the HTTP/2 preface must get a 4xx, got {end:?}"));
    }
    if !end.closed || end.after > Duration::from_secs(1) {
        return Err(format!(
            "the connection was not closed within 1 s of the HTTP/2 preface: {end:?}"
        ));
    }
    still_serving(server.addr).await?;
    server.shutdown().await
}
