//! The operator's dashboard at `/`: active bindings (numbers masked) with filters, cursor
//! pagination and an unbind button, the recent calls, and a chart of calls per hour by
//! outcome over the last 24 hours, all rendered on the server (no script, no build step).
//!
//! Behind the API keys: the login form takes a key, checks it with the `/v1` API, and sets an
//! `HttpOnly; SameSite=Strict` cookie holding a random session token (the key stays on the
//! server). Every read and write goes through the same [`Api`] as `/v1` (the unbind button is
//! `DELETE /v1/bindings/{id}`), so its rules are written once. Every POST form carries the
//! session's CSRF token. With the API off (no key configured) the dashboard is off too.

mod chart;
mod html;
mod session;

use std::sync::Arc;

use bytes::Bytes;
use http::{HeaderValue, Method, StatusCode, header};
use serde_json::Value;

use crate::api::Api;
use session::{Filters, Session, Sessions};

/// A response of the dashboard.
pub type Response = http::Response<Bytes>;

/// How many bindings a page lists.
pub const PAGE_SIZE: usize = 25;

/// How many recent calls the page lists.
pub const RECENT_CALLS: usize = 20;

/// The most pages of 100 calls the chart reads (older calls are left out of it).
pub const CHART_PAGES: usize = 50;

/// The dashboard over the `/v1` API. Cheap to clone.
#[derive(Clone)]
pub struct Dashboard {
    api: Api,
    sessions: Arc<Sessions>,
}

const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

impl Dashboard {
    /// The dashboard reading and writing through `api`.
    pub fn new(api: Api) -> Self {
        Self {
            api,
            sessions: Arc::default(),
        }
    }

    /// Whether `path` is one of the dashboard's.
    pub fn owns(path: &str) -> bool {
        matches!(path, "/" | "/login" | "/logout" | "/unbind" | "/filter")
    }

    /// Answers a request for one of the dashboard's paths (see [`owns`](Self::owns)).
    pub async fn handle(&self, req: http::Request<Bytes>) -> Response {
        if !self.api.enabled() {
            return plain(
                StatusCode::NOT_FOUND,
                "the dashboard is off: no API key is configured",
            );
        }
        let path = req.uri().path().to_owned();
        let method = req.method().clone();
        let token = session::token_from_cookies(req.headers());
        let session = token
            .as_deref()
            .and_then(|t| self.sessions.get(t).map(|s| (t, s)));
        match (path.as_str(), method) {
            ("/login", Method::GET | Method::HEAD) => match session {
                Some(_) => redirect("/"),
                None => html(StatusCode::OK, html::login(None)),
            },
            ("/login", Method::POST) => self.login(&req).await,
            ("/login", _) => not_allowed("GET, POST"),
            ("/", Method::GET | Method::HEAD) => match session {
                Some((_, s)) => self.page(&s, req.uri().query()).await,
                None => redirect("/login"),
            },
            ("/", _) => not_allowed("GET"),
            (_, Method::POST) => {
                let Some((token, s)) = session else {
                    return redirect("/login");
                };
                let form = Form::parse(req.body());
                if !session::csrf_ok(&s, form.get("csrf")) {
                    return plain(StatusCode::FORBIDDEN, "invalid or missing CSRF token");
                }
                match path.as_str() {
                    "/logout" => {
                        self.sessions.close(token);
                        let mut r = redirect("/login");
                        set_cookie(&mut r, &session::clear_cookie());
                        r
                    }
                    "/unbind" => self.unbind(&s, &form).await,
                    _ => {
                        self.sessions.set_filters(token, form.filters());
                        redirect(&html::link(None, form.get("reveal") == Some("1")))
                    }
                }
            }
            _ => not_allowed("POST"),
        }
    }

    /// Sends `method path` to the API as the session's key would.
    async fn call(&self, key: &str, method: Method, path: &str) -> (StatusCode, Value) {
        let mut req = http::Request::new(Bytes::new());
        *req.method_mut() = method;
        *req.uri_mut() = path.parse().unwrap_or_default();
        if let Ok(v) = HeaderValue::from_str(&format!("Bearer {key}")) {
            req.headers_mut().insert(header::AUTHORIZATION, v);
        }
        let r = self.api.handle(req).await;
        let body = serde_json::from_slice(r.body()).unwrap_or(Value::Null);
        (r.status(), body)
    }

    async fn login(&self, req: &http::Request<Bytes>) -> Response {
        let form = Form::parse(req.body());
        let key = form.get("key").unwrap_or("").trim().to_owned();
        let (status, _) = self.call(&key, Method::GET, "/v1/bindings?limit=1").await;
        match status {
            StatusCode::OK => {
                let token = self.sessions.open(key);
                let mut r = redirect("/");
                set_cookie(&mut r, &session::set_cookie(&token));
                r
            }
            StatusCode::UNAUTHORIZED => html(
                StatusCode::UNAUTHORIZED,
                html::login(Some("That API key is not accepted.")),
            ),
            _ => html(
                StatusCode::SERVICE_UNAVAILABLE,
                html::login(Some("The service cannot check keys now; try again.")),
            ),
        }
    }

    async fn unbind(&self, s: &Session, form: &Form) -> Response {
        let id = form.get("id").unwrap_or("");
        let reveal = form.get("reveal") == Some("1");
        if id.is_empty() || id.len() > 64 || !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return plain(StatusCode::BAD_REQUEST, "not a binding id");
        }
        let (status, _) = self
            .call(&s.key, Method::DELETE, &format!("/v1/bindings/{id}"))
            .await;
        let flash = match status {
            StatusCode::NO_CONTENT => "unbound",
            StatusCode::NOT_FOUND => "gone",
            StatusCode::UNAUTHORIZED => return redirect("/login"),
            _ => "failed",
        };
        let back = html::link(form.get("cursor"), reveal);
        let sep = if back.contains('?') { '&' } else { '?' };
        redirect(&format!("{back}{sep}done={flash}"))
    }

    async fn page(&self, s: &Session, query: Option<&str>) -> Response {
        let q = Form::parse(query.unwrap_or("").as_bytes());
        let reveal = q.get("reveal") == Some("1");
        let cursor = q.get("cursor").filter(|c| !c.is_empty());
        let list = list_query(&s.filters, cursor);
        let (status, bindings) = self
            .call(&s.key, Method::GET, &format!("/v1/bindings?{list}"))
            .await;
        let mut flash = match q.get("done") {
            Some("unbound") => Some("Binding removed.".to_owned()),
            Some("gone") => Some("That binding was already gone.".to_owned()),
            Some("failed") => Some("The binding could not be removed; try again.".to_owned()),
            _ => None,
        };
        match status {
            StatusCode::OK => {}
            StatusCode::UNAUTHORIZED => return redirect("/login"),
            _ => {
                let why = bindings["error"]["message"]
                    .as_str()
                    .unwrap_or("the store did not answer");
                flash = Some(format!("Bindings unavailable: {why}"));
            }
        }
        let (_, calls) = self
            .call(
                &s.key,
                Method::GET,
                &format!("/v1/calls?limit={RECENT_CALLS}"),
            )
            .await;
        let (buckets, complete) = self.chart(&s.key).await;
        let note = format!(
            "{} calls{}",
            buckets.total(),
            if complete {
                ""
            } else {
                " (the most recent ones only)"
            }
        );
        let empty = Vec::new();
        let body = html::page(&html::Page {
            csrf: &s.csrf,
            reveal,
            filters: &s.filters,
            bindings: bindings["items"].as_array().unwrap_or(&empty),
            cursor,
            next_cursor: bindings["nextCursor"].as_str(),
            calls: calls["items"].as_array().unwrap_or(&empty),
            chart_svg: &buckets.svg(),
            chart_note: &note,
            flash: flash.as_deref(),
        });
        html(StatusCode::OK, body)
    }

    /// The last 24 hours of calls in buckets, and whether every one of them was read.
    async fn chart(&self, key: &str) -> (chart::Buckets, bool) {
        let mut buckets = chart::Buckets::new(callflow_masking::now_millis());
        let mut cursor: Option<String> = None;
        for _ in 0..CHART_PAGES {
            let path = match &cursor {
                Some(c) => format!("/v1/calls?limit=100&cursor={c}"),
                None => "/v1/calls?limit=100".to_owned(),
            };
            let (status, page) = self.call(key, Method::GET, &path).await;
            if status != StatusCode::OK {
                return (buckets, false);
            }
            let mut older = false;
            for c in page["items"].as_array().into_iter().flatten() {
                let at = c["recordedAt"].as_str().and_then(parse_rfc3339);
                match at {
                    Some(at) if at < buckets.start_ms => older = true,
                    Some(at) => {
                        buckets.add(at, chart::Outcome::of(c["status"].as_str().unwrap_or("")));
                    }
                    None => {}
                }
            }
            match page["nextCursor"].as_str() {
                Some(next) if !older => cursor = Some(next.to_owned()),
                _ => return (buckets, true),
            }
        }
        (buckets, false)
    }
}

/// The `GET /v1/bindings` query of one page of the dashboard.
fn list_query(filters: &Filters, cursor: Option<&str>) -> String {
    let mut list = form_urlencoded::Serializer::new(String::new());
    list.append_pair("limit", &PAGE_SIZE.to_string());
    if let Some(vn) = &filters.virtual_number {
        list.append_pair("virtualNumber", vn);
    }
    if let Some(r) = &filters.reference {
        list.append_pair("reference", r);
    }
    if let Some(a) = filters.active {
        list.append_pair("active", if a { "true" } else { "false" });
    }
    if let Some(c) = cursor {
        list.append_pair("cursor", c);
    }
    list.finish()
}

fn parse_rfc3339(s: &str) -> Option<i64> {
    let t = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()?;
    i64::try_from(t.unix_timestamp_nanos() / 1_000_000).ok()
}

/// A form-encoded body or query string.
struct Form(Vec<(String, String)>);

impl Form {
    fn parse(body: &[u8]) -> Self {
        Self(form_urlencoded::parse(body).into_owned().collect())
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The filters form's fields (blank: no filter).
    fn filters(&self) -> Filters {
        let nonblank = |name| {
            self.get(name)
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        Filters {
            virtual_number: nonblank("virtualNumber"),
            reference: nonblank("reference"),
            active: match self.get("active") {
                Some("false") => Some(false),
                Some("any") => None,
                _ => Some(true),
            },
        }
    }
}

fn with_headers(status: StatusCode, content_type: &'static str, body: String) -> Response {
    let mut r = http::Response::new(Bytes::from(body));
    *r.status_mut() = status;
    let h = r.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    r
}

fn html(status: StatusCode, body: String) -> Response {
    with_headers(status, "text/html; charset=utf-8", body)
}

fn plain(status: StatusCode, body: &str) -> Response {
    with_headers(status, "text/plain; charset=utf-8", format!("{body}\n"))
}

fn not_allowed(allow: &'static str) -> Response {
    let mut r = plain(StatusCode::METHOD_NOT_ALLOWED, "method not allowed");
    r.headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(allow));
    r
}

fn redirect(to: &str) -> Response {
    let mut r = with_headers(
        StatusCode::SEE_OTHER,
        "text/plain; charset=utf-8",
        String::new(),
    );
    if let Ok(v) = HeaderValue::from_str(to) {
        r.headers_mut().insert(header::LOCATION, v);
    }
    r
}

fn set_cookie(r: &mut Response, cookie: &str) {
    if let Ok(v) = HeaderValue::from_str(cookie) {
        r.headers_mut().append(header::SET_COOKIE, v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    const KEY: &str = "dash-key-0123456789abcdef";

    async fn store(dir: &tempfile::TempDir) -> Arc<crate::store::Store> {
        let db = dir.path().join("d.db");
        let sqlite = callflow_masking::SqliteStore::open_async(&db)
            .await
            .unwrap();
        Arc::new(crate::store::Store::sqlite(sqlite))
    }

    async fn dashboard() -> (tempfile::TempDir, Dashboard) {
        let dir = tempfile::tempdir().unwrap();
        let store = store(&dir).await;
        let keys = crate::api::ApiKeys::new([KEY.to_owned()]).unwrap();
        (dir, Dashboard::new(Api::new(store, keys)))
    }

    fn req(method: Method, path: &str, cookie: Option<&str>, body: &str) -> http::Request<Bytes> {
        let mut r = http::Request::new(Bytes::from(body.to_owned()));
        *r.method_mut() = method;
        *r.uri_mut() = path.parse().unwrap();
        if let Some(c) = cookie {
            r.headers_mut().insert(header::COOKIE, c.parse().unwrap());
        }
        r
    }

    async fn login(d: &Dashboard) -> String {
        let r = d
            .handle(req(Method::POST, "/login", None, &format!("key={KEY}")))
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let cookie = r.headers()[header::SET_COOKIE].to_str().unwrap().to_owned();
        assert!(!cookie.contains(KEY), "the key never goes in the cookie");
        cookie.split(';').next().unwrap().to_owned()
    }

    #[tokio::test]
    async fn a_wrong_key_is_refused_and_no_session_means_the_login_form() {
        let (_dir, d) = dashboard().await;
        let r = d
            .handle(req(
                Method::POST,
                "/login",
                None,
                "key=wrong-key-0123456789",
            ))
            .await;
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
        assert!(r.headers().get(header::SET_COOKIE).is_none());
        let r = d.handle(req(Method::GET, "/", None, "")).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        assert_eq!(r.headers()[header::LOCATION], "/login");
        let forged = format!("{}={}", session::COOKIE, "a".repeat(64));
        let r = d.handle(req(Method::GET, "/", Some(&forged), "")).await;
        assert_eq!(r.headers()[header::LOCATION], "/login");
    }

    #[tokio::test]
    async fn a_post_without_the_csrf_token_is_forbidden() {
        let (_dir, d) = dashboard().await;
        let cookie = login(&d).await;
        let r = d.handle(req(Method::GET, "/", Some(&cookie), "")).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert!(
            r.headers()[header::CONTENT_SECURITY_POLICY]
                .to_str()
                .unwrap()
                .contains("default-src 'none'")
        );
        for path in ["/unbind", "/logout", "/filter"] {
            let r = d
                .handle(req(Method::POST, path, Some(&cookie), "id=abc&csrf=nope"))
                .await;
            assert_eq!(r.status(), StatusCode::FORBIDDEN, "{path}");
        }
        // Still logged in: the forged logout did nothing.
        let r = d.handle(req(Method::GET, "/", Some(&cookie), "")).await;
        assert_eq!(r.status(), StatusCode::OK);
    }

    #[tokio::test]
    async fn the_dashboard_is_off_without_an_api_key() {
        let dir = tempfile::tempdir().unwrap();
        let d = Dashboard::new(Api::new(store(&dir).await, Default::default()));
        let r = d.handle(req(Method::GET, "/login", None, "")).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
    }

    fn rows(html: &str) -> usize {
        html.matches("<tr data-binding=").count()
    }

    fn next_link(html: &str) -> String {
        let at = html.find("id=\"next-page\" href=\"").expect("a next page") + 21;
        html[at..].split('"').next().unwrap().replace("&amp;", "&")
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn ten_thousand_bindings_are_shown_a_page_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let store = store(&dir).await;
        // Seeded in one transaction (one create at a time would take a minute).
        let mut conn = rusqlite::Connection::open(dir.path().join("d.db")).unwrap();
        let tx = conn.transaction().unwrap();
        let now = callflow_masking::now_millis();
        for i in 0..10_000i64 {
            tx.execute(
                "INSERT INTO bindings (id, virtual_number, party_a, party_b, expires_at, record, reference, created_at) VALUES (?1, '+6568880000', ?2, ?3, NULL, 0, NULL, ?4)",
                rusqlite::params![format!("b{i:05}"), format!("+659{i:07}"), format!("+658{i:07}"), now - 10_000 + i],
            )
            .unwrap();
        }
        tx.commit().unwrap();
        drop(conn);
        let keys = crate::api::ApiKeys::new([KEY.to_owned()]).unwrap();
        let d = Dashboard::new(Api::new(store, keys));
        let cookie = login(&d).await;
        let started = std::time::Instant::now();
        let r = d.handle(req(Method::GET, "/", Some(&cookie), "")).await;
        let first = String::from_utf8(r.body().to_vec()).unwrap();
        assert_eq!(rows(&first), PAGE_SIZE);
        let r = d
            .handle(req(Method::GET, &next_link(&first), Some(&cookie), ""))
            .await;
        let second = String::from_utf8(r.body().to_vec()).unwrap();
        assert_eq!(rows(&second), PAGE_SIZE);
        assert!(second.contains("id=\"first-page\""));
        let id = |html: &str| {
            html.split("<tr data-binding=\"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap()
                .to_owned()
        };
        assert_ne!(
            id(&first),
            id(&second),
            "the next page starts after the first"
        );
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "two pages took {:?}",
            started.elapsed()
        );
    }

    #[test]
    fn rfc3339_times_parse_to_millis() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:01.500Z"), Some(1500));
        assert_eq!(parse_rfc3339("yesterday"), None);
    }
}
