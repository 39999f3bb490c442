//! The dashboard's HTML: plain server-rendered pages with a little inline CSS, no script.
//!
//! Every phone number goes through [`number`], masked unless the operator asked to reveal
//! them; free text (a reference, an error message) has its long digit runs masked too.

use serde_json::Value;

use super::session::Filters;

/// `s` escaped for HTML text and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// A phone number as the page shows it: masked (`+65****4321`) unless `reveal`; escaped.
pub fn number(n: &str, reveal: bool) -> String {
    if reveal {
        escape(n)
    } else {
        escape(&callflow::PhoneNumber::new(n).masked().to_string())
    }
}

/// Free text with every run of 6 or more digits masked (unless `reveal`), escaped: a
/// reference may hold a phone number.
pub fn text(s: &str, reveal: bool) -> String {
    if reveal {
        return escape(s);
    }
    let mut out = String::with_capacity(s.len());
    let mut run = String::new();
    let flush = |run: &mut String, out: &mut String| {
        if run.len() >= 6 {
            out.push_str(
                &callflow::PhoneNumber::new(run.as_str())
                    .masked()
                    .to_string(),
            );
        } else {
            out.push_str(run);
        }
        run.clear();
    };
    for c in s.chars() {
        if c.is_ascii_digit() {
            run.push(c);
        } else {
            flush(&mut run, &mut out);
            out.push(c);
        }
    }
    flush(&mut run, &mut out);
    escape(&out)
}

/// A duration in seconds as `1h 02m 05s`, `2m 05s` or `7s`.
pub fn duration(secs: u64) -> String {
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    if h > 0 {
        format!("{h}h {m:02}m {s:02}s")
    } else if m > 0 {
        format!("{m}m {s:02}s")
    } else {
        format!("{s}s")
    }
}

/// The dashboard's URL with these parameters (form-encoded; none: `/`).
pub fn link(cursor: Option<&str>, reveal: bool) -> String {
    let mut q = form_urlencoded::Serializer::new(String::new());
    if let Some(c) = cursor {
        q.append_pair("cursor", c);
    }
    if reveal {
        q.append_pair("reveal", "1");
    }
    let q = q.finish();
    if q.is_empty() {
        "/".to_owned()
    } else {
        format!("/?{q}")
    }
}

/// The pagination links: back to the first page when on a later one, and the next page when
/// there is one.
pub fn page_links(cursor: Option<&str>, next: Option<&str>, reveal: bool) -> String {
    let mut out = String::from("<nav class=\"pages\">");
    if cursor.is_some() {
        out.push_str(&format!(
            "<a id=\"first-page\" href=\"{}\">&laquo; First page</a> ",
            escape(&link(None, reveal))
        ));
    }
    if let Some(n) = next {
        out.push_str(&format!(
            "<a id=\"next-page\" href=\"{}\">Next page &raquo;</a>",
            escape(&link(Some(n), reveal))
        ));
    }
    out.push_str("</nav>");
    out
}

const STYLE: &str = "body{font-family:system-ui,sans-serif;margin:1.5rem;color:#222}\
table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #ccc;padding:.25rem .5rem;text-align:left}\
th{background:#f3f3f3}.muted{color:#777}.flash{background:#e8f5e9;padding:.5rem}.error{background:#ffebee;padding:.5rem}\
header{display:flex;gap:1rem;align-items:center}form.inline{display:inline}";

fn document(title: &str, body: &str) -> String {
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{}</title>\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><style>{STYLE}</style></head><body>{body}</body></html>",
        escape(title)
    )
}

/// The login form (`error`: why the last attempt failed).
pub fn login(error: Option<&str>) -> String {
    let error = error
        .map(|e| format!("<p class=\"error\" id=\"login-error\">{}</p>", escape(e)))
        .unwrap_or_default();
    document(
        "number-masking: log in",
        &format!(
            "<h1>number-masking</h1>{error}<form method=\"post\" action=\"/login\">\
<label>API key <input type=\"password\" name=\"key\" id=\"key\" autocomplete=\"current-password\" required></label> \
<button type=\"submit\" id=\"login\">Log in</button></form>\
<p class=\"muted\">Use one of the service's API keys (NUMBER_MASKING_API_KEYS).</p>"
        ),
    )
}

/// What the main page shows.
pub struct Page<'a> {
    /// The session's CSRF token.
    pub csrf: &'a str,
    /// Numbers in clear.
    pub reveal: bool,
    /// The bindings' filters.
    pub filters: &'a Filters,
    /// The bindings of this page (the API's JSON).
    pub bindings: &'a [Value],
    /// This page's cursor.
    pub cursor: Option<&'a str>,
    /// The next page's cursor.
    pub next_cursor: Option<&'a str>,
    /// The most recent calls (the API's JSON).
    pub calls: &'a [Value],
    /// The chart.
    pub chart_svg: &'a str,
    /// A note under the chart.
    pub chart_note: &'a str,
    /// A message about the last action.
    pub flash: Option<&'a str>,
}

fn str_of<'v>(v: &'v Value, field: &str) -> &'v str {
    v[field].as_str().unwrap_or("")
}

fn hidden(name: &str, value: &str) -> String {
    format!(
        "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
        escape(name),
        escape(value)
    )
}

fn filters_form(p: &Page<'_>) -> String {
    let f = p.filters;
    let vn_now = f
        .virtual_number
        .as_deref()
        .map(|vn| {
            format!(
                " <span class=\"muted\">now: {}</span>",
                number(vn, p.reveal)
            )
        })
        .unwrap_or_default();
    let reference = f
        .reference
        .as_deref()
        .map(|r| text(r, p.reveal))
        .unwrap_or_default();
    let selected = |v: Option<bool>| if f.active == v { " selected" } else { "" };
    format!(
        "<form method=\"post\" action=\"/filter\" id=\"filters\">{}{}\
<label>Virtual number <input name=\"virtualNumber\" placeholder=\"E.164 (blank: any)\" size=\"16\"></label>{vn_now} \
<label>Reference <input name=\"reference\" value=\"{reference}\" size=\"14\"></label> \
<label>Show <select name=\"active\"><option value=\"true\"{}>active</option><option value=\"false\"{}>expired</option><option value=\"any\"{}>all</option></select></label> \
<button type=\"submit\" id=\"apply-filters\">Filter</button></form>",
        hidden("csrf", p.csrf),
        if p.reveal {
            hidden("reveal", "1")
        } else {
            String::new()
        },
        selected(Some(true)),
        selected(Some(false)),
        selected(None),
    )
}

fn bindings_table(p: &Page<'_>) -> String {
    if p.bindings.is_empty() {
        return "<p class=\"muted\" id=\"no-bindings\">No binding matches.</p>".to_owned();
    }
    let mut out = String::from(
        "<table id=\"bindings\"><thead><tr><th>Id</th><th>Virtual number</th><th>Parties</th><th>Reference</th><th>Expires</th><th>Active</th><th></th></tr></thead><tbody>",
    );
    for b in p.bindings {
        let id = str_of(b, "id");
        let parties: Vec<String> = b["parties"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(|n| number(n, p.reveal))
                    .collect()
            })
            .unwrap_or_default();
        out.push_str(&format!(
            "<tr data-binding=\"{id}\"><td><code>{id}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>\
<td><form method=\"post\" action=\"/unbind\" class=\"inline\">{}{}{}{}<button type=\"submit\" class=\"unbind\">Unbind</button></form></td></tr>",
            number(str_of(b, "virtualNumber"), p.reveal),
            parties.join(" &harr; "),
            b["reference"].as_str().map(|r| text(r, p.reveal)).unwrap_or_default(),
            b["expiresAt"].as_str().map(escape).unwrap_or_else(|| "never".to_owned()),
            if b["active"].as_bool() == Some(true) { "yes" } else { "no" },
            hidden("csrf", p.csrf),
            hidden("id", id),
            p.cursor.map(|c| hidden("cursor", c)).unwrap_or_default(),
            if p.reveal { hidden("reveal", "1") } else { String::new() },
            id = escape(id),
        ));
    }
    out.push_str("</tbody></table>");
    out
}

fn calls_table(p: &Page<'_>) -> String {
    if p.calls.is_empty() {
        return "<p class=\"muted\" id=\"no-calls\">No call recorded yet.</p>".to_owned();
    }
    let mut out = String::from(
        "<table id=\"calls\"><thead><tr><th>Recorded</th><th>Binding</th><th>Virtual number</th><th>Outcome</th><th>Duration</th></tr></thead><tbody>",
    );
    for c in p.calls {
        let outcome = match c["errorMessage"].as_str() {
            Some(m) => format!("{} ({})", escape(str_of(c, "status")), text(m, p.reveal)),
            None => escape(str_of(c, "status")),
        };
        out.push_str(&format!(
            "<tr><td>{}</td><td><code>{}</code></td><td>{}</td><td>{outcome}</td><td>{}</td></tr>",
            escape(str_of(c, "recordedAt")),
            c["bindingId"]
                .as_str()
                .map(escape)
                .unwrap_or_else(|| "&ndash;".to_owned()),
            c["virtualNumber"]
                .as_str()
                .map(|n| number(n, p.reveal))
                .unwrap_or_default(),
            duration(c["durationSecs"].as_u64().unwrap_or(0)),
        ));
    }
    out.push_str("</tbody></table>");
    out
}

/// The main page: bindings, recent calls, the chart.
pub fn page(p: &Page<'_>) -> String {
    let flash = p
        .flash
        .map(|f| format!("<p class=\"flash\" id=\"flash\">{}</p>", escape(f)))
        .unwrap_or_default();
    let reveal = if p.reveal {
        format!(
            "<strong>Numbers shown in clear.</strong> <a id=\"reveal\" href=\"{}\">Mask numbers</a>",
            escape(&link(p.cursor, false))
        )
    } else {
        format!(
            "<a id=\"reveal\" href=\"{}\">Reveal numbers</a>",
            escape(&link(p.cursor, true))
        )
    };
    document(
        "number-masking dashboard",
        &format!(
            "<header><h1>number-masking</h1>{reveal}\
<form method=\"post\" action=\"/logout\" class=\"inline\">{}<button type=\"submit\" id=\"logout\">Log out</button></form></header>{flash}\
<h2>Bindings</h2>{}{}{}\
<h2>Recent calls</h2>{}\
<h2>Calls per hour, last 24 h</h2><figure id=\"chart\">{}<figcaption class=\"muted\">{}</figcaption></figure>",
            hidden("csrf", p.csrf),
            filters_form(p),
            bindings_table(p),
            page_links(p.cursor, p.next_cursor, p.reveal),
            calls_table(p),
            p.chart_svg,
            escape(p.chart_note),
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const VN: &str = "+6568880000";
    const A: &str = "+6591110001";
    const B: &str = "+6592220002";

    fn digits(n: &str) -> &str {
        n.trim_start_matches('+')
    }

    fn render(reveal: bool, filters: &Filters) -> String {
        let bindings = [json!({"id": "b1", "virtualNumber": VN, "parties": [A, B],
            "reference": format!("order for {A}"), "expiresAt": null, "active": true})];
        let calls = [
            json!({"sessionId": "s", "bindingId": "b1", "virtualNumber": VN,
            "status": "COMPLETED", "durationSecs": 65, "recordedAt": "2026-12-01T10:00:00.000Z",
            "errorMessage": format!("could not reach {B}")}),
        ];
        page(&Page {
            csrf: "tok",
            reveal,
            filters,
            bindings: &bindings,
            cursor: None,
            next_cursor: Some("1_b1"),
            calls: &calls,
            chart_svg: "<svg></svg>",
            chart_note: "",
            flash: None,
        })
    }

    #[test]
    fn the_page_shows_every_number_masked() {
        let filters = Filters {
            virtual_number: Some(VN.into()),
            reference: Some(A.into()),
            active: Some(true),
        };
        let html = render(false, &filters);
        for n in [VN, A, B] {
            assert!(!html.contains(digits(n)), "{n} in clear");
            assert!(!html.contains(&n[..n.len() - 4]), "{n}'s prefix in clear");
        }
        assert!(html.contains("+65****0000"));
        assert!(html.contains("+65****0001"));
        assert!(html.contains("1m 05s"));
    }

    #[test]
    fn reveal_shows_the_numbers() {
        let html = render(true, &Filters::default());
        assert!(html.contains(VN) && html.contains(A) && html.contains(B));
        assert!(html.contains("Numbers shown in clear"));
    }

    #[test]
    fn free_text_has_long_digit_runs_masked_and_is_escaped() {
        assert_eq!(text("order-42", false), "order-42");
        assert_eq!(text("call 6591110001 now", false), "call 65****0001 now");
        assert_eq!(text("<b>&", false), "&lt;b&gt;&amp;");
        assert_eq!(number("<x>", true), "&lt;x&gt;");
    }

    #[test]
    fn pagination_links_carry_only_the_cursor_and_reveal() {
        assert_eq!(page_links(None, None, false), "<nav class=\"pages\"></nav>");
        let first = page_links(None, Some("17_abc"), false);
        assert!(first.contains("href=\"/?cursor=17_abc\""), "{first}");
        assert!(!first.contains("first-page"));
        let later = page_links(Some("17_abc"), Some("18_x"), true);
        assert!(later.contains("href=\"/?reveal=1\""), "{later}");
        assert!(
            later.contains("href=\"/?cursor=18_x&amp;reveal=1\""),
            "{later}"
        );
        assert_eq!(
            page_links(Some("17_abc"), None, false)
                .matches("href")
                .count(),
            1
        );
    }

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration(7), "7s");
        assert_eq!(duration(125), "2m 05s");
        assert_eq!(duration(3725), "1h 02m 05s");
    }
}
