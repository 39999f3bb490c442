//! The queries of the list routes, and cursor pagination in a stable order.
//!
//! A cursor names the last item of the page it ends (`createdAt` in Unix milliseconds and
//! the id, or for calls `recordedAt` and the session id in hex), so a page is stable while
//! items are added or removed elsewhere: the next page starts right after that position.

use callflow::PhoneNumber;
use callflow_masking::{Binding, BindingFilter, CallRecord, normalize_number};

use super::error::ApiError;
use super::model::{BindingOut, BindingPage, CallOut, CallPage};

/// The default page size.
pub const DEFAULT_LIMIT: usize = 50;

/// The largest page.
pub const MAX_LIMIT: usize = 100;

/// How many of the most recent calls `GET /v1/calls` pages through.
pub const CALLS_SCANNED: usize = 10_000;

fn pairs(query: Option<&str>) -> impl Iterator<Item = (String, String)> + '_ {
    form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
}

/// Parses a list route's query: `limit` and `cursor` (read by `cursor`) are every list's;
/// any other parameter goes to `filter` (which ignores those it does not know). Returns the
/// page size and the cursor's position.
fn parse_page<C>(
    query: Option<&str>,
    cursor: fn(&str) -> Result<C, ApiError>,
    mut filter: impl FnMut(&str, String) -> Result<(), ApiError>,
) -> Result<(usize, Option<C>), ApiError> {
    let (mut size, mut after) = (DEFAULT_LIMIT, None);
    for (k, v) in pairs(query) {
        match k.as_str() {
            "limit" => size = limit(&v)?,
            "cursor" => after = Some(cursor(&v)?),
            _ => filter(&k, v)?,
        }
    }
    Ok((size, after))
}

/// The first `size` of `items`, and whether there were more.
fn take_page<T>(items: impl Iterator<Item = T>, size: usize) -> (Vec<T>, bool) {
    let mut page: Vec<T> = items.take(size + 1).collect();
    let more = page.len() > size;
    page.truncate(size);
    (page, more)
}

fn limit(v: &str) -> Result<usize, ApiError> {
    match v.parse::<usize>() {
        Ok(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
        _ => Err(ApiError::invalid_query(
            "limit",
            format!("give 1 to {MAX_LIMIT}"),
        )),
    }
}

fn number(name: &str, v: &str) -> Result<PhoneNumber, ApiError> {
    // `+` in a query string is a space unless written %2B: both are accepted.
    let t = v.trim_start();
    let digits = t.strip_prefix('+').unwrap_or(t);
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::invalid_query(name, "not an E.164 phone number"));
    }
    normalize_number(t).map_err(|_| ApiError::invalid_query(name, "not an E.164 phone number"))
}

/// `GET /v1/bindings`'s filters and page: the store selects the page
/// ([`BindingStore::list_page`](callflow_masking::BindingStore::list_page)).
#[derive(Debug, Default)]
pub struct BindingQuery {
    /// What the store is asked for.
    pub filter: BindingFilter,
    limit: usize,
}

impl BindingQuery {
    /// Parses the query string (unknown parameters are ignored).
    pub fn parse(query: Option<&str>) -> Result<Self, ApiError> {
        let mut f = BindingFilter::default();
        let (limit, after) = parse_page(query, binding_cursor, |k, v| {
            match k {
                "virtualNumber" => f.virtual_number = Some(number(k, &v)?),
                "party" => f.party = Some(number(k, &v)?),
                "reference" => {
                    if v.chars().count() > super::create::MAX_REFERENCE {
                        return Err(ApiError::invalid_query(k, "at most 200 characters"));
                    }
                    f.reference = Some(v)
                }
                "active" => {
                    f.active = Some(match v.as_str() {
                        "true" => true,
                        "false" => false,
                        _ => return Err(ApiError::invalid_query(k, "give true or false")),
                    })
                }
                _ => {}
            }
            Ok(())
        })?;
        f.after = after;
        Ok(Self { filter: f, limit })
    }

    /// How many bindings to ask the store for: the page and one more (to know whether
    /// there is a next page).
    pub fn fetch(&self) -> usize {
        self.limit + 1
    }

    /// The page made of what the store answered for [`filter`](Self::filter) and
    /// [`fetch`](Self::fetch).
    pub fn page(&self, fetched: Vec<Binding>) -> BindingPage {
        let (items, more) = take_page(fetched.into_iter(), self.limit);
        BindingPage {
            next_cursor: more
                .then(|| items.last().map(|b| format!("{}_{}", b.created_at, b.id)))
                .flatten(),
            items: items.iter().map(BindingOut::new).collect(),
        }
    }
}

fn binding_cursor(v: &str) -> Result<(i64, String), ApiError> {
    let bad = || ApiError::invalid_query("cursor", "not a cursor this API gave");
    let (t, id) = v.split_once('_').ok_or_else(bad)?;
    if t.is_empty() || t.len() > 15 || id.is_empty() || id.len() > 64 {
        return Err(bad());
    }
    if !id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(bad());
    }
    Ok((t.parse().map_err(|_| bad())?, id.to_owned()))
}

/// `GET /v1/calls`' filter and page.
#[derive(Debug, Default)]
pub struct CallQuery {
    binding_id: Option<String>,
    limit: usize,
    after: Option<(i64, String)>,
}

impl CallQuery {
    /// Parses the query string (unknown parameters are ignored).
    pub fn parse(query: Option<&str>) -> Result<Self, ApiError> {
        let mut q = Self::default();
        (q.limit, q.after) = parse_page(query, call_cursor, |k, v| {
            if k == "bindingId" {
                if v.is_empty() || v.len() > 64 {
                    return Err(ApiError::invalid_query(k, "give 1 to 64 characters"));
                }
                q.binding_id = Some(v);
            }
            Ok(())
        })?;
        Ok(q)
    }

    /// The page of `all` this query asks for, newest first.
    pub fn page(&self, mut all: Vec<CallRecord>) -> CallPage {
        // Newest first; one instant's calls by session id, descending.
        all.sort_by(|a, b| (b.recorded_at, &b.session_id).cmp(&(a.recorded_at, &a.session_id)));
        let items = all
            .iter()
            .filter(|c| {
                self.after
                    .as_ref()
                    .is_none_or(|(t, s)| (c.recorded_at, &c.session_id) < (*t, s))
            })
            .filter(|c| {
                self.binding_id
                    .as_ref()
                    .is_none_or(|id| c.binding_id.as_ref() == Some(id))
            });
        let (items, more) = take_page(items, self.limit);
        CallPage {
            next_cursor: more
                .then(|| {
                    items.last().map(|c| {
                        let hex: String =
                            c.session_id.bytes().map(|b| format!("{b:02x}")).collect();
                        format!("{}_{hex}", c.recorded_at)
                    })
                })
                .flatten(),
            items: items.into_iter().map(CallOut::new).collect(),
        }
    }
}

fn call_cursor(v: &str) -> Result<(i64, String), ApiError> {
    let bad = || ApiError::invalid_query("cursor", "not a cursor this API gave");
    let (t, hex) = v.split_once('_').ok_or_else(bad)?;
    if t.is_empty()
        || t.len() > 15
        || hex.len() % 2 != 0
        || hex.len() > 256
        || !hex.bytes().all(|b| b.is_ascii_hexdigit())
    {
        return Err(bad());
    }
    let bytes = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16))
        .collect::<Result<Vec<u8>, _>>()
        .map_err(|_| bad())?;
    Ok((
        t.parse().map_err(|_| bad())?,
        String::from_utf8_lossy(&bytes).into_owned(),
    ))
}
