//! [`BindingFilter`]: which bindings a page of a listing holds, and where it starts.

use callflow::PhoneNumber;

use crate::binding::Binding;

/// Which bindings a page holds ([`BindingStore::list_page`](super::BindingStore::list_page)):
/// every condition set must hold. Pages are in creation order (creation time, then id);
/// `after` is the position of the last binding of the previous page.
///
/// ```
/// use callflow::PhoneNumber;
/// use callflow_masking::BindingFilter;
/// let mut filter = BindingFilter::default();
/// filter.party = Some(PhoneNumber::new("+6591110001"));
/// filter.active = Some(true);
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct BindingFilter {
    /// Only bindings on this virtual number (normalised).
    pub virtual_number: Option<PhoneNumber>,
    /// Only bindings holding this party (normalised).
    pub party: Option<PhoneNumber>,
    /// Only bindings with exactly this reference.
    pub reference: Option<String>,
    /// Only active (`true`) or expired (`false`) bindings, at the time of the query.
    pub active: Option<bool>,
    /// Only bindings after this position: (creation time in Unix milliseconds, id).
    pub after: Option<(i64, String)>,
}

impl BindingFilter {
    /// Whether `b` is on a page of this filter, at `now` (Unix milliseconds).
    pub fn matches(&self, b: &Binding, now: i64) -> bool {
        self.after
            .as_ref()
            .is_none_or(|(t, id)| (b.created_at, &b.id) > (*t, id))
            && self
                .virtual_number
                .as_ref()
                .is_none_or(|vn| &b.virtual_number == vn)
            && self.party.as_ref().is_none_or(|p| b.has_party(p))
            && self
                .reference
                .as_ref()
                .is_none_or(|r| b.reference.as_ref() == Some(r))
            && self.active.is_none_or(|a| a != b.is_expired_at(now))
    }

    /// The first `limit` of `all` this filter selects, in creation order: the in-memory
    /// page every store can fall back on.
    pub fn page_of(&self, mut all: Vec<Binding>, limit: usize, now: i64) -> Vec<Binding> {
        all.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        all.into_iter()
            .filter(|b| self.matches(b, now))
            .take(limit)
            .collect()
    }
}
