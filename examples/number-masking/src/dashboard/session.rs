//! Dashboard sessions: a random token in an `HttpOnly; SameSite=Strict` cookie, the API key
//! it stands for kept on the server only, and a per-session CSRF token every form sends back.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use subtle::ConstantTimeEq;

/// The session cookie's name.
pub const COOKIE: &str = "nm_dashboard";

/// How long a session lives after login.
pub const LIFETIME: Duration = Duration::from_secs(8 * 3600);

/// The most sessions kept at once (the oldest is dropped beyond this).
pub const MAX_SESSIONS: usize = 1000;

/// The filters of the bindings list, kept in the session so that no number travels in a link.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Filters {
    /// Only bindings on this virtual number (in clear: never rendered as is).
    pub virtual_number: Option<String>,
    /// Only bindings with this reference.
    pub reference: Option<String>,
    /// `Some(true)`: active only; `Some(false)`: expired only; `None`: both.
    pub active: Option<bool>,
}

/// One logged-in operator.
#[derive(Clone)]
pub struct Session {
    /// The API key the operator logged in with (server-side only).
    pub key: String,
    /// The token every form must send back.
    pub csrf: String,
    /// The bindings list's filters.
    pub filters: Filters,
    created: Instant,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session").finish_non_exhaustive()
    }
}

/// The sessions of one server process.
#[derive(Default)]
pub struct Sessions {
    by_token: Mutex<HashMap<String, Session>>,
}

/// 32 random bytes in hex.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the system's random source works");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Sessions {
    /// Opens a session for `key`; returns its token (the cookie's value).
    pub fn open(&self, key: String) -> String {
        let token = random_token();
        let session = Session {
            key,
            csrf: random_token(),
            filters: Filters {
                active: Some(true),
                ..Filters::default()
            },
            created: Instant::now(),
        };
        let mut map = self.by_token.lock().expect("not poisoned");
        map.retain(|_, s| s.created.elapsed() < LIFETIME);
        if map.len() >= MAX_SESSIONS
            && let Some(oldest) = map
                .iter()
                .min_by_key(|(_, s)| s.created)
                .map(|(t, _)| t.clone())
        {
            map.remove(&oldest);
        }
        map.insert(token.clone(), session);
        token
    }

    /// The live session of `token`.
    pub fn get(&self, token: &str) -> Option<Session> {
        let map = self.by_token.lock().expect("not poisoned");
        map.get(token)
            .filter(|s| s.created.elapsed() < LIFETIME)
            .cloned()
    }

    /// Replaces the filters of `token`'s session.
    pub fn set_filters(&self, token: &str, filters: Filters) {
        if let Some(s) = self.by_token.lock().expect("not poisoned").get_mut(token) {
            s.filters = filters;
        }
    }

    /// Ends `token`'s session.
    pub fn close(&self, token: &str) {
        self.by_token.lock().expect("not poisoned").remove(token);
    }
}

/// The session token in a `Cookie` header, if any.
pub fn token_from_cookies(headers: &http::HeaderMap) -> Option<String> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.trim().to_owned())
        .filter(|t| t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// The `Set-Cookie` value that stores `token`.
pub fn set_cookie(token: &str) -> String {
    format!(
        "{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}",
        LIFETIME.as_secs()
    )
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn clear_cookie() -> String {
    format!("{COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0")
}

/// Whether `given` (a form's `csrf` field) is the session's token, compared in constant time.
pub fn csrf_ok(session: &Session, given: Option<&str>) -> bool {
    given.is_some_and(|g| {
        g.len() == session.csrf.len() && bool::from(g.as_bytes().ct_eq(session.csrf.as_bytes()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(cookie: &str) -> http::HeaderMap {
        let mut h = http::HeaderMap::new();
        h.insert(http::header::COOKIE, cookie.parse().unwrap());
        h
    }

    #[test]
    fn the_cookie_holds_a_random_token_never_the_key() {
        let sessions = Sessions::default();
        let key = "key-0123456789abcdef".to_owned();
        let token = sessions.open(key.clone());
        let cookie = set_cookie(&token);
        assert!(!cookie.contains(&key));
        assert!(cookie.contains("HttpOnly"));
        assert!(cookie.contains("SameSite=Strict"));
        assert_eq!(token.len(), 64);
        assert_ne!(token, sessions.open(key.clone()), "tokens differ");
        assert_eq!(sessions.get(&token).unwrap().key, key);
        assert_eq!(
            token_from_cookies(&headers(&format!("a=b; {COOKIE}={token}"))),
            Some(token.clone())
        );
        sessions.close(&token);
        assert!(sessions.get(&token).is_none());
        assert!(clear_cookie().contains("Max-Age=0"));
    }

    #[test]
    fn a_malformed_or_foreign_cookie_is_no_session() {
        assert_eq!(token_from_cookies(&headers("nm_dashboard=abc")), None);
        assert_eq!(token_from_cookies(&headers("other=00")), None);
        assert_eq!(token_from_cookies(&http::HeaderMap::new()), None);
        let t = "0".repeat(64);
        assert!(Sessions::default().get(&t).is_none());
    }

    #[test]
    fn the_csrf_token_must_match_exactly() {
        let sessions = Sessions::default();
        let s = sessions.get(&sessions.open("k".repeat(16))).unwrap();
        assert!(csrf_ok(&s, Some(&s.csrf.clone())));
        assert!(!csrf_ok(&s, None));
        assert!(!csrf_ok(&s, Some("")));
        assert!(!csrf_ok(&s, Some(&s.csrf[1..])));
        let mut wrong = s.csrf.clone();
        wrong.replace_range(0..1, if wrong.starts_with('0') { "1" } else { "0" });
        assert!(!csrf_ok(&s, Some(&wrong)));
    }

    #[test]
    fn sessions_are_bounded() {
        let sessions = Sessions::default();
        let first = sessions.open("k".repeat(16));
        for _ in 0..MAX_SESSIONS {
            sessions.open("k".repeat(16));
        }
        assert!(sessions.get(&first).is_none(), "the oldest was dropped");
        assert_eq!(sessions.by_token.lock().unwrap().len(), MAX_SESSIONS);
    }
}
