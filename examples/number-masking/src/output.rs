//! What the CLI prints: bindings and calls, with phone numbers masked.

use callflow::PhoneNumber;
use callflow::Timestamp;
use callflow_masking::{Binding, CallRecord, now_millis};

/// A number as printed: masked unless `reveal`.
pub fn number(n: &PhoneNumber, reveal: bool) -> String {
    if reveal {
        n.as_str().to_owned()
    } else {
        n.masked().to_string()
    }
}

fn time(ms: i64) -> String {
    Timestamp::from_unix_millis(ms).as_str().to_owned()
}

fn expiry(b: &Binding) -> String {
    match b.expires_at {
        None => "never".into(),
        Some(at) => {
            let left = at - now_millis();
            if left <= 0 {
                format!("{} (expired)", time(at))
            } else {
                format!("{} (in {})", time(at), human(left / 1000))
            }
        }
    }
}

fn human(secs: i64) -> String {
    match secs {
        s if s >= 86_400 => format!("{}d{}h", s / 86_400, (s % 86_400) / 3600),
        s if s >= 3600 => format!("{}h{}m", s / 3600, (s % 3600) / 60),
        s if s >= 60 => format!("{}m{}s", s / 60, s % 60),
        s => format!("{s}s"),
    }
}

/// The detailed view `bind` prints.
pub fn binding_detail(b: &Binding, reveal: bool) -> String {
    format!(
        "binding {id}\n  virtual number  {vn}\n  parties         {a} <-> {b_}\n  expires         {exp}\n  record          {rec}\n  reference       {reference}\n  created         {created}",
        id = b.id,
        vn = number(&b.virtual_number, reveal),
        a = number(&b.parties[0], reveal),
        b_ = number(&b.parties[1], reveal),
        exp = expiry(b),
        rec = if b.record { "yes" } else { "no" },
        reference = b.reference.as_deref().unwrap_or("-"),
        created = time(b.created_at),
    )
}

/// One line per binding, for `bindings`.
pub fn binding_table(bindings: &[Binding], reveal: bool) -> String {
    if bindings.is_empty() {
        return "no bindings".into();
    }
    let mut out = format!(
        "{:<16}  {:<16}  {:<16}  {:<16}  {:<6}  {:<12}  {}\n",
        "ID", "VIRTUAL NUMBER", "PARTY A", "PARTY B", "RECORD", "REFERENCE", "EXPIRES"
    );
    for b in bindings {
        out.push_str(&format!(
            "{:<16}  {:<16}  {:<16}  {:<16}  {:<6}  {:<12}  {}\n",
            b.id,
            number(&b.virtual_number, reveal),
            number(&b.parties[0], reveal),
            number(&b.parties[1], reveal),
            if b.record { "yes" } else { "no" },
            b.reference.as_deref().unwrap_or("-"),
            expiry(b)
        ));
    }
    out.pop();
    out
}

/// One line per call, for `calls` (numbers always masked).
pub fn call_table(calls: &[CallRecord]) -> String {
    if calls.is_empty() {
        return "no calls recorded".into();
    }
    let mut out = format!(
        "{:<24}  {:<38}  {:<10}  {:>8}  {:<16}  {:<16}  {}\n",
        "RECORDED", "SESSION", "STATUS", "DURATION", "VIRTUAL NUMBER", "BINDING", "LEGS"
    );
    for c in calls {
        let legs: Vec<String> = c
            .legs
            .iter()
            .map(|l| {
                format!(
                    "{}:{}:{}",
                    l.key,
                    l.status.as_deref().unwrap_or("?"),
                    l.duration_secs.map_or("?".into(), |d| format!("{d}s"))
                )
            })
            .collect();
        let status = match c.error_code {
            Some(code) => format!("{} {code}", c.status),
            None => c.status.clone(),
        };
        out.push_str(&format!(
            "{:<24}  {:<38}  {:<10}  {:>7}s  {:<16}  {:<16}  {}\n",
            time(c.recorded_at),
            c.session_id,
            status,
            c.duration_secs,
            c.virtual_number
                .as_ref()
                .map_or("-".into(), |n| n.masked().to_string()),
            c.binding_id.as_deref().unwrap_or("-"),
            legs.join(" ")
        ));
    }
    out.pop();
    out
}

/// `bindings --format json`: a JSON array of the `/v1` API's binding objects, numbers masked
/// unless `reveal`.
pub fn bindings_json(bindings: &[Binding], reveal: bool) -> String {
    let items: Vec<_> = bindings
        .iter()
        .map(|b| {
            let mut out = crate::api::model::BindingOut::new(b);
            out.virtual_number = number(&b.virtual_number, reveal);
            out.parties = [number(&b.parties[0], reveal), number(&b.parties[1], reveal)];
            out
        })
        .collect();
    serde_json::to_string_pretty(&items).expect("bindings serialize")
}

/// `calls --format json`: a JSON array of the `/v1` API's call objects, the virtual number
/// masked (a call record holds no other number).
pub fn calls_json(calls: &[CallRecord]) -> String {
    let items: Vec<_> = calls
        .iter()
        .map(|c| {
            let mut out = crate::api::model::CallOut::new(c);
            out.virtual_number = c.virtual_number.as_ref().map(|n| number(n, false));
            out
        })
        .collect();
    serde_json::to_string_pretty(&items).expect("calls serialize")
}
