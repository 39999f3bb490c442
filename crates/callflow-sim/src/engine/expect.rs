//! Expectations: the built-in checks and the scenario's, judged on a finished session.

use callflow::PhoneNumber;

use super::{Sim, short};
use crate::report::{Check, Exchange, SessionOutcome};

impl Sim<'_> {
    pub(super) fn checks(&self, o: &SessionOutcome) -> Vec<Check> {
        let mut checks = Vec::new();
        if let Some(e) = &self.setup_error {
            checks.push(Check::new(
                "the webhook URL is usable",
                false,
                Some(e.clone()),
            ));
            return checks;
        }
        let e = &self.sc.expect;

        // Built-in checks.
        let actions: Vec<&Exchange> = self
            .exchanges
            .iter()
            .filter(|x| x.event_type == "CALL_ACTION")
            .collect();
        if e.valid_replies {
            let bad: Vec<String> = actions
                .iter()
                .filter_map(|x| {
                    x.error.as_ref().map(|err| {
                        format!(
                            "CALL_ACTION {}{}: {err}",
                            x.status,
                            if x.duplicate { " (duplicate)" } else { "" }
                        )
                    })
                })
                .collect();
            checks.push(Check::new(
                "every CALL_ACTION is answered with 200 and a valid callflow",
                bad.is_empty(),
                (!bad.is_empty()).then(|| bad.join("; ")),
            ));
        }
        let bad_acks: Vec<String> = self
            .exchanges
            .iter()
            .filter(|x| x.event_type != "CALL_ACTION")
            .filter_map(|x| {
                x.error.as_ref().map(|err| {
                    format!(
                        "{} {} {}: {err}",
                        x.event_type,
                        x.status,
                        x.leg.as_deref().unwrap_or("")
                    )
                })
            })
            .collect();
        checks.push(Check::new(
            "every CALL_STATUS and SESSION_SUMMARY is acknowledged with 2xx",
            bad_acks.is_empty(),
            (!bad_acks.is_empty()).then(|| bad_acks.join("; ")),
        ));
        if let Some(limit) = self.opt.slow_after {
            let slow: Vec<String> = self
                .exchanges
                .iter()
                .filter(|x| x.response_time > limit)
                .map(|x| {
                    format!(
                        "{} {} took {}",
                        x.event_type,
                        x.status,
                        crate::report::fmt_duration(x.response_time)
                    )
                })
                .collect();
            checks.push(Check::new(
                format!("every reply arrives within {} ms", limit.as_millis()),
                slow.is_empty(),
                (!slow.is_empty()).then(|| slow.join("; ")),
            ));
        }
        if self.loop_exceeded {
            checks.push(Check::new(
                format!(
                    "the session ends within {} CALL_ACTION requests",
                    self.opt.max_call_actions
                ),
                false,
                Some("the webhook kept the call going (re-prompting?)".to_owned()),
            ));
        }

        // Scenario expectations.
        if let Some(s) = &e.session_status {
            let got = o.session_status.as_str();
            checks.push(Check::new(
                format!("session {s}"),
                got == s,
                (got != s).then(|| format!("the session ended {got}{}", error_suffix(o))),
            ));
        }
        if let Some(want) = &e.last_action {
            let got = o.last_action.as_ref().map_or("none", |a| a.as_str());
            checks.push(Check::new(
                format!("lastAction {want}"),
                got == want,
                (got != want).then(|| format!("lastAction was {got}")),
            ));
        }
        if let Some(n) = e.call_count {
            let got = o.legs.len() as u32;
            checks.push(Check::new(
                format!("{n} leg(s) (callCount)"),
                got == n,
                (got != n).then(|| format!("callCount was {got}")),
            ));
        }
        if let Some(code) = e.error_code {
            let got = o.error.as_ref().map(|(c, _)| *c);
            checks.push(Check::new(
                format!("errorDetails.errorCode {code}"),
                got == Some(code),
                (got != Some(code)).then(|| match got {
                    Some(c) => format!("errorCode was {c}"),
                    None => "no errorDetails".to_owned(),
                }),
            ));
        }
        if let Some(dials) = &e.dialled {
            if dials.is_empty() {
                checks.push(Check::new(
                    "no B leg dialled",
                    o.dialled.is_empty(),
                    (!o.dialled.is_empty()).then(|| describe_dialled(&o.dialled)),
                ));
            }
            for (i, d) in dials.iter().enumerate() {
                let ord = if dials.len() > 1 {
                    format!(" (makeCall #{})", i + 1)
                } else {
                    String::new()
                };
                let mut name = format!("B leg dialled to {}", d.destination);
                if let Some(cid) = &d.caller_id {
                    name.push_str(&format!(" with caller id {cid}"));
                }
                name.push_str(&ord);
                let got = o.dialled.get(i);
                let ok = got.is_some_and(|(src, dst)| {
                    dst.same_as(&d.destination)
                        && d.caller_id.as_ref().is_none_or(|c| src.same_as(c))
                });
                let detail = match got {
                    None => "no such makeCall".to_owned(),
                    Some((src, dst)) if !dst.same_as(&d.destination) => format!(
                        "another destination was dialled: {} (caller id {})",
                        dst.as_str(),
                        src.as_str()
                    ),
                    Some((src, _)) => format!("another caller id was shown: {}", src.as_str()),
                };
                checks.push(Check::new(name, ok, (!ok).then_some(detail)));
            }
            if !dials.is_empty() && o.dialled.len() > dials.len() {
                checks.push(Check::new(
                    format!("exactly {} makeCall(s)", dials.len()),
                    false,
                    Some(describe_dialled(&o.dialled)),
                ));
            }
        }
        if let Some(want) = &e.actions {
            checks.push(Check::new(
                format!("webhook returns actions [{}]", want.join(", ")),
                &o.actions == want,
                (&o.actions != want).then(|| format!("got [{}]", o.actions.join(", "))),
            ));
        }
        for text in &e.said {
            let needle = text.to_lowercase();
            let ok = o.said.iter().any(|s| s.to_lowercase().contains(&needle));
            checks.push(Check::new(
                format!("a prompt says \"{text}\""),
                ok,
                (!ok).then(|| {
                    if o.said.is_empty() {
                        "nothing was said".to_owned()
                    } else {
                        format!(
                            "said: {}",
                            o.said
                                .iter()
                                .map(|s| format!("\"{}\"", short(s, 60)))
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    }
                }),
            ));
        }
        if let Some(want) = &e.client_action_ids {
            checks.push(Check::new(
                format!("clientActionIds [{}]", want.join(", ")),
                &o.client_action_ids == want,
                (&o.client_action_ids != want)
                    .then(|| format!("got [{}]", o.client_action_ids.join(", "))),
            ));
        }
        if let Some(n) = e.call_actions {
            checks.push(Check::new(
                format!("{n} CALL_ACTION request(s)"),
                o.call_actions == n,
                (o.call_actions != n).then(|| format!("{} sent", o.call_actions)),
            ));
        }
        checks
    }
}

fn error_suffix(o: &SessionOutcome) -> String {
    match &o.error {
        Some((c, m)) => format!(" ({c}: {m})"),
        None => String::new(),
    }
}

fn describe_dialled(d: &[(PhoneNumber, PhoneNumber)]) -> String {
    let list: Vec<String> = d
        .iter()
        .map(|(s, t)| format!("{} with caller id {}", t.as_str(), s.as_str()))
        .collect();
    format!("dialled {}", list.join(", "))
}
