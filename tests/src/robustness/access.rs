//! Rows 25 and 26: who may call (the auth header, the allow-list and trusted proxies).

use std::time::Duration;

use callflow::allow::{AllowList, IpNet};
use callflow::testing::conformance;
use http::header::{AUTHORIZATION, CONTENT_TYPE};
use http::{HeaderMap, HeaderValue, Method, StatusCode};

use super::Outcome;
use super::support::{
    SLACK, conformance_case, conformance_handler, ending, error_code, exchange, header, post,
    refused, send_raw, still_serving, webhook_head,
};
use crate::{Framework, Guards, request_head, serve_guarded};

/// #25: no or a wrong auth header: 401, before the body is parsed (a broken body still gets
/// 401) and before it is read (a head with a partial body is answered at once).
pub(super) async fn auth_is_checked_before_the_body_is_read(framework: Framework) -> Outcome {
    let guards = Guards {
        body_read_timeout: Duration::from_secs(30),
        ..Guards::default()
    };
    let webhook = conformance::webhook();
    let server = serve_guarded(framework, webhook.clone(), guards).await;
    for case in [
        conformance_case("auth_missing"),
        conformance_case("auth_wrong"),
        conformance_case("auth_right"),
        refused(
            header(
                post("wrong_auth_broken_body", "{\"trunc"),
                AUTHORIZATION,
                "Bearer nope",
            ),
            StatusCode::UNAUTHORIZED,
            "unauthorized",
        ),
    ] {
        exchange(server.addr, &webhook, &case).await?;
    }
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
    headers.insert(
        AUTHORIZATION,
        HeaderValue::from_static("Bearer wrong-secret"),
    );
    let mut wire = request_head(
        server.addr,
        &Method::POST,
        &headers,
        "content-length: 500\r\n",
    );
    wire.extend_from_slice(b"{\"eventType\":");
    let end = ending(send_raw(server.addr, &wire).await, SLACK).await;
    match &end.response {
        Some((401, _, body)) if error_code(body).as_deref() == Some("unauthorized") => {}
        _ => {
            return Err(format!(
                "a wrong token with a partial body must get 401 at once: {end:?}"
            ));
        }
    }
    still_serving(server.addr).await?;
    server.shutdown().await
}

/// #26: a peer outside the allow-list gets 403 at once, with its body unread; a peer inside
/// is served.
pub(super) async fn allow_list_refuses_with_403_before_the_body_is_read(
    framework: Framework,
) -> Outcome {
    let guards = Guards {
        body_read_timeout: Duration::from_secs(30),
        ..Guards::default()
    };
    let others = AllowList::eight_by_eight_singapore();
    let webhook = conformance::builder(conformance_handler())
        .allow_list(others)
        .build();
    let server = serve_guarded(framework, webhook.clone(), guards).await;
    let mut wire = webhook_head(server.addr, "content-length: 500\r\n");
    wire.extend_from_slice(b"{\"eventType\":");
    let end = ending(send_raw(server.addr, &wire).await, SLACK).await;
    match &end.response {
        Some((403, _, body)) if error_code(body).as_deref() == Some("forbidden") => {}
        _ => {
            return Err(format!(
                "a refused peer with a partial body must get 403 at once: {end:?}"
            ));
        }
    }
    let refused_case = refused(
        conformance::happy_path(),
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    exchange(server.addr, &webhook, &refused_case).await?;
    server.shutdown().await?;

    let loopback: IpNet = "127.0.0.0/8".parse().expect("network");
    let allowed = conformance::builder(conformance_handler())
        .allow_list(AllowList::eight_by_eight_singapore().allow(loopback))
        .build();
    let server = serve_guarded(framework, allowed, Guards::default()).await;
    still_serving(server.addr).await?;
    server.shutdown().await
}

/// #26: behind one trusted proxy (the loopback peer), the client is the last
/// `X-Forwarded-For` entry: 8x8's address is served, a stranger's refused; a peer that is
/// not the proxy cannot use the header.
pub(super) async fn allow_list_follows_only_trusted_proxies(framework: Framework) -> Outcome {
    let loopback: IpNet = "127.0.0.1/32".parse().expect("address");
    let behind_proxy = AllowList::eight_by_eight_singapore().trust_proxies(1, [loopback]);
    let webhook = conformance::builder(conformance_handler())
        .allow_list(behind_proxy)
        .build();
    let server = serve_guarded(framework, webhook.clone(), Guards::default()).await;
    let xff = http::HeaderName::from_static("x-forwarded-for");
    exchange(
        server.addr,
        &webhook,
        &header(
            conformance::happy_path(),
            xff.clone(),
            "203.0.113.9, 52.74.232.241",
        ),
    )
    .await?;
    exchange(
        server.addr,
        &webhook,
        &refused(
            header(
                conformance::happy_path(),
                xff.clone(),
                "52.74.232.241, 203.0.113.9",
            ),
            StatusCode::FORBIDDEN,
            "forbidden",
        ),
    )
    .await?;
    exchange(
        server.addr,
        &webhook,
        &refused(
            conformance::happy_path(),
            StatusCode::FORBIDDEN,
            "forbidden",
        ),
    )
    .await?;
    server.shutdown().await?;

    let elsewhere: IpNet = "10.9.9.9/32".parse().expect("address");
    let other_proxy = AllowList::eight_by_eight_singapore().trust_proxies(1, [elsewhere]);
    let webhook = conformance::builder(conformance_handler())
        .allow_list(other_proxy)
        .build();
    let server = serve_guarded(framework, webhook.clone(), Guards::default()).await;
    exchange(
        server.addr,
        &webhook,
        &refused(
            header(conformance::happy_path(), xff, "52.74.232.241"),
            StatusCode::FORBIDDEN,
            "forbidden",
        ),
    )
    .await?;
    server.shutdown().await
}
