//! The JSON the `/v1` API reads and writes (camelCase, like 8x8's own JSON), with the
//! schemas its OpenAPI document is generated from.

use callflow_masking::{Binding, CallRecord, LegRecord, now_millis};
use serde::Serialize;
use utoipa::{IntoParams, ToSchema};

/// `POST /v1/bindings`: bind two parties to a virtual number. Give `ttl` or `expiresAt`
/// (or neither: no expiry), not both.
#[derive(ToSchema)]
#[schema(as = CreateBinding, rename_all = "camelCase")]
#[allow(dead_code)] // the schema of a body parsed field by field (see `create::parse`)
pub struct CreateBindingDoc {
    /// The 8x8 virtual number both parties call.
    #[schema(pattern = r"^\+?[1-9][0-9]{5,14}$", example = "+6568880000")]
    pub virtual_number: String,
    /// The two parties (different numbers, neither the virtual number).
    #[schema(min_items = 2, max_items = 2, inline)]
    pub parties: Vec<PartyDoc>,
    /// How long the binding lives, e.g. `2h`, `90m`, `1h30m`, `1d` (more than zero).
    #[schema(
        pattern = r"^([0-9]{1,6}[dhms]){1,4}$",
        example = "2h",
        nullable = false
    )]
    pub ttl: Option<String>,
    /// When the binding expires (RFC 3339, in the future).
    #[schema(format = DateTime, nullable = false)]
    pub expires_at: Option<String>,
    /// Record the bridged calls (default false).
    #[schema(nullable = false)]
    pub record: Option<bool>,
    /// Your reference, e.g. an order id (at most 200 characters).
    #[schema(max_length = 200, example = "order-42", nullable = false)]
    pub reference: Option<String>,
}

/// A party's phone number.
#[derive(ToSchema)]
#[schema(as = Party, value_type = String, pattern = r"^\+?[1-9][0-9]{5,14}$", example = "+6591110001")]
#[allow(dead_code)]
pub struct PartyDoc(String);

/// A binding: two parties who reach each other through a virtual number.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BindingOut {
    /// Its id.
    pub id: String,
    /// The virtual number (E.164).
    pub virtual_number: String,
    /// The two parties (E.164).
    pub parties: [String; 2],
    /// When it expires (RFC 3339), or null for never.
    #[schema(format = DateTime)]
    pub expires_at: Option<String>,
    /// Whether bridged calls are recorded.
    pub record: bool,
    /// Your reference.
    pub reference: Option<String>,
    /// When it was created (RFC 3339).
    #[schema(format = DateTime)]
    pub created_at: String,
    /// Whether it routes calls now (not expired).
    pub active: bool,
}

impl BindingOut {
    /// The API's view of `b` (numbers in full: the client owns them).
    pub fn new(b: &Binding) -> Self {
        Self {
            id: b.id.clone(),
            virtual_number: b.virtual_number.as_str().to_owned(),
            parties: [
                b.parties[0].as_str().to_owned(),
                b.parties[1].as_str().to_owned(),
            ],
            expires_at: b.expires_at.map(rfc3339),
            record: b.record,
            reference: b.reference.clone(),
            created_at: rfc3339(b.created_at),
            active: !b.is_expired_at(now_millis()),
        }
    }
}

/// One page of bindings.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BindingPage {
    /// The bindings, oldest first.
    pub items: Vec<BindingOut>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// A recorded call (one 8x8 session).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CallOut {
    /// 8x8's session id.
    pub session_id: String,
    /// The binding the call went through, if it was matched.
    pub binding_id: Option<String>,
    /// The virtual number called.
    pub virtual_number: Option<String>,
    /// 8x8's `sessionStatus` (`COMPLETED`, `BUSY`, ...).
    pub status: String,
    /// Talk time in seconds.
    pub duration_secs: u64,
    /// The legs (no phone numbers).
    pub legs: Vec<LegOut>,
    /// 8x8's error code, if any.
    pub error_code: Option<i64>,
    /// 8x8's error message, if any.
    pub error_message: Option<String>,
    /// Session start as 8x8 sent it.
    pub started_at: Option<String>,
    /// Session end as 8x8 sent it.
    pub ended_at: Option<String>,
    /// When it was recorded (RFC 3339).
    #[schema(format = DateTime)]
    pub recorded_at: String,
}

impl CallOut {
    /// The API's view of `c`.
    pub fn new(c: &CallRecord) -> Self {
        Self {
            session_id: c.session_id.clone(),
            binding_id: c.binding_id.clone(),
            virtual_number: c.virtual_number.as_ref().map(|n| n.as_str().to_owned()),
            status: c.status.clone(),
            duration_secs: c.duration_secs,
            legs: c.legs.iter().map(LegOut::new).collect(),
            error_code: c.error_code,
            error_message: c.error_message.clone(),
            started_at: c.started_at.clone(),
            ended_at: c.ended_at.clone(),
            recorded_at: rfc3339(c.recorded_at),
        }
    }
}

/// One leg of a recorded call.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LegOut {
    /// `callA`, `callB`, ...
    pub key: String,
    /// `INBOUND` or `OUTBOUND`.
    pub direction: Option<String>,
    /// The leg's status.
    pub status: Option<String>,
    /// Seconds connected.
    pub duration_secs: Option<u64>,
}

impl LegOut {
    fn new(l: &LegRecord) -> Self {
        Self {
            key: l.key.clone(),
            direction: l.direction.clone(),
            status: l.status.clone(),
            duration_secs: l.duration_secs,
        }
    }
}

/// One page of calls.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CallPage {
    /// The calls, newest first.
    pub items: Vec<CallOut>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

/// Every error: `{"error":{"code":"…","message":"…"}}`, the webhook's shape.
#[derive(Serialize, ToSchema)]
pub struct ErrorBody {
    /// The error.
    pub error: ErrorFields,
}

/// What went wrong.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErrorFields {
    /// Machine-readable, e.g. `invalid_fields`, `conflict`, `not_found`.
    pub code: String,
    /// For people (numbers masked).
    pub message: String,
    /// The field to blame, as a JSON path (`$.parties[1]`), where one is.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub path: Option<String>,
    /// Every invalid field (422).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldError>,
    /// The binding in the way (409).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(nullable = false)]
    pub conflicting_binding_id: Option<String>,
}

/// One invalid field.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct FieldError {
    /// Its JSON path, e.g. `$.virtualNumber`.
    pub path: String,
    /// What is wrong with it (numbers masked).
    pub message: String,
}

/// The filters and page of `GET /v1/bindings`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
#[allow(dead_code)] // documents the query parsed by `list::BindingQuery`
pub struct BindingQueryDoc {
    /// Only bindings on this virtual number.
    #[param(pattern = r"^\+?[1-9][0-9]{5,14}$", nullable = false)]
    pub virtual_number: Option<String>,
    /// Only bindings with this party.
    #[param(pattern = r"^\+?[1-9][0-9]{5,14}$", nullable = false)]
    pub party: Option<String>,
    /// Only bindings with this reference.
    #[param(max_length = 200, nullable = false)]
    pub reference: Option<String>,
    /// Only active (`true`) or only expired (`false`) bindings.
    #[param(nullable = false)]
    pub active: Option<bool>,
    /// Page size, 1 to 100 (default 50).
    #[param(minimum = 1, maximum = 100, nullable = false)]
    pub limit: Option<u32>,
    /// The `nextCursor` of the previous page.
    #[param(pattern = r"^[0-9]{1,15}_[0-9a-zA-Z]{1,64}$", nullable = false)]
    pub cursor: Option<String>,
}

/// The filters and page of `GET /v1/calls`.
#[derive(IntoParams)]
#[into_params(parameter_in = Query, rename_all = "camelCase")]
#[allow(dead_code)]
pub struct CallQueryDoc {
    /// Only calls through this binding.
    #[param(min_length = 1, max_length = 64, nullable = false)]
    pub binding_id: Option<String>,
    /// Page size, 1 to 100 (default 50).
    #[param(minimum = 1, maximum = 100, nullable = false)]
    pub limit: Option<u32>,
    /// The `nextCursor` of the previous page.
    #[param(pattern = r"^[0-9]{1,15}_([0-9a-f]{2}){0,128}$", nullable = false)]
    pub cursor: Option<String>,
}

/// Unix milliseconds as RFC 3339 (UTC, milliseconds).
pub fn rfc3339(ms: i64) -> String {
    callflow::Timestamp::from_unix_millis(ms)
        .as_str()
        .to_owned()
}
