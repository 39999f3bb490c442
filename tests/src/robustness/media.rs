//! Rows 9, 10 and 28: the media type (`Content-Type`) and the encoding (`Content-Encoding`)
//! of the body.

use bytes::Bytes;
use callflow::testing::conformance;
use callflow::testing::fixtures;
use http::StatusCode;
use http::header::{CONTENT_ENCODING, CONTENT_TYPE};

use super::Outcome;
use super::support::{conformance_case, conformance_handler, exchanges, header, post, refused};
use crate::Framework;

/// #9: no `Content-Type` is accepted by default; `strict_content_type` makes it a 415.
pub(super) async fn missing_content_type_is_accepted_unless_strict(
    framework: Framework,
) -> Outcome {
    exchanges(
        framework,
        conformance::webhook(),
        &[conformance_case("missing_content_type")],
    )
    .await?;
    let strict = conformance::builder(conformance_handler())
        .strict_content_type(true)
        .build();
    let mut case = conformance_case("missing_content_type");
    case = refused(
        case,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    );
    exchanges(framework, strict, &[case]).await
}

/// #10: JSON-ish media types are accepted; a form is refused.
pub(super) async fn json_ish_media_types_are_accepted_and_forms_are_415(
    framework: Framework,
) -> Outcome {
    let happy = fixtures::get("vca_nm_inbound");
    let with = |name, ct| header(post(name, happy), CONTENT_TYPE, ct);
    exchanges(
        framework,
        conformance::webhook(),
        &[
            with("text_plain", "text/plain"),
            with("text_json", "text/json"),
            with("charset", "application/json; charset=utf-8"),
            with("cloudevents", "application/cloudevents+json"),
            refused(
                with("form", "application/x-www-form-urlencoded"),
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
            ),
            refused(
                with("multipart", "multipart/form-data; boundary=x"),
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
            ),
        ],
    )
    .await
}

/// #28: `gzip`, `deflate` and `br` bodies: 415 (the core decodes none: a zip bomb cannot get
/// past the size cap).
pub(super) async fn compressed_body_is_415(framework: Framework) -> Outcome {
    let happy = fixtures::get("vca_nm_inbound");
    let encoded = |name, encoding| {
        refused(
            header(post(name, happy), CONTENT_ENCODING, encoding),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_content_encoding",
        )
    };
    let mut gzip_bytes = encoded("gzip_bytes", "gzip");
    // The start of a real gzip stream, as a client would send.
    gzip_bytes.body = Bytes::from_static(&[0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00]);
    exchanges(
        framework,
        conformance::webhook(),
        &[
            conformance_case("gzip_content_encoding"),
            encoded("deflate", "deflate"),
            encoded("brotli", "br"),
            gzip_bytes,
            post("identity", happy),
        ],
    )
    .await
}
