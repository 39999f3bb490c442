//! What `callflow api` prints and how it exits: one JSON document with `--format json`;
//! with `text`, the answer as indented JSON with phone numbers masked (unless `--reveal`)
//! and errors on stderr. Exit 0 ok, 1 refused (by the local check or by 8x8), 2 usage.

use std::process::ExitCode;

use callflow::callflow::Violation;
use callflow_client::api::InvalidRequest;
use callflow_client::{Error, ErrorKind};
use serde_json::{Value, json};

use super::{ApiOptions, Format};

/// A command that succeeded: the operation's name and 8x8's answer.
pub struct Success {
    operation: &'static str,
    result: Value,
    note: Option<String>,
}

impl Success {
    /// The answer of `operation` (8x8's operation id, or `validate` for a dry run).
    pub fn new(operation: &'static str, result: &impl serde::Serialize) -> Self {
        Self {
            operation,
            result: serde_json::to_value(result).unwrap_or(Value::Null),
            note: None,
        }
    }

    /// A line printed before the answer in text output.
    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.note = Some(note.into());
        self
    }
}

/// A command that did not succeed: why, and which exit status (boxed: results stay small).
pub struct Failure(Box<Detail>);

struct Detail {
    operation: Option<&'static str>,
    exit: u8,
    kind: &'static str,
    status: Option<u16>,
    code: Option<i64>,
    message: String,
    violations: Vec<Violation>,
    file: Option<String>,
}

impl Failure {
    /// A usage or configuration error (exit 2).
    pub fn usage(message: String) -> Self {
        Self(Box::new(Detail {
            operation: None,
            exit: 2,
            kind: "usage",
            status: None,
            code: None,
            message,
            violations: Vec::new(),
            file: None,
        }))
    }

    /// An error of the client: a configuration error exits 2, anything else 1.
    pub fn client(operation: &'static str, e: &Error) -> Self {
        let kind = match e.kind() {
            ErrorKind::InvalidRequest => "invalid_request",
            ErrorKind::Unauthorized => "unauthorized",
            ErrorKind::NotFound => "not_found",
            ErrorKind::RateLimited => "rate_limited",
            ErrorKind::Server => "server",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Connection => "connection",
            ErrorKind::UnexpectedResponse => "unexpected_response",
            ErrorKind::Config => "config",
            _ => "other",
        };
        Self(Box::new(Detail {
            operation: Some(operation),
            exit: if e.kind() == ErrorKind::Config { 2 } else { 1 },
            kind,
            status: e.status(),
            code: e.code(),
            message: e.to_string(),
            violations: e
                .violations()
                .map(|v| v.violations().to_vec())
                .unwrap_or_default(),
            file: None,
        }))
    }

    /// A request the client's own check refused before sending (exit 1): 8x8's code and
    /// the violations.
    pub fn invalid(operation: &'static str, e: &InvalidRequest) -> Self {
        Self(Box::new(Detail {
            operation: Some(operation),
            exit: 1,
            kind: "invalid_request",
            status: None,
            code: e.code(),
            message: format!("refused before sending: {e}"),
            violations: e
                .violations()
                .map(|v| v.violations().to_vec())
                .unwrap_or_default(),
            file: None,
        }))
    }

    /// The file the violations are about (text output prints `FILE: PATH: CODE MESSAGE`).
    pub fn in_file(mut self, file: &str) -> Self {
        self.0.file = Some(file.to_owned());
        self
    }

    fn to_json(&self) -> Value {
        json!({
            "ok": false,
            "operation": self.0.operation,
            "exitCode": self.0.exit,
            "error": {
                "kind": self.0.kind,
                "status": self.0.status,
                "code": self.0.code,
                "message": self.0.message,
                "violations": self.0.violations.iter().map(|v| json!({
                    "code": v.code.as_i32(),
                    "path": v.path,
                    "message": v.message,
                })).collect::<Vec<_>>(),
            }
        })
    }
}

/// Prints the outcome as `opts.format` says and returns the exit status.
pub fn finish(opts: &ApiOptions, outcome: Result<Success, Failure>) -> ExitCode {
    match (opts.format, outcome) {
        (Format::Json, Ok(s)) => {
            let doc = json!({"ok": true, "operation": s.operation, "result": s.result});
            println!("{doc}");
            ExitCode::SUCCESS
        }
        (Format::Json, Err(f)) => {
            println!("{}", f.to_json());
            ExitCode::from(f.0.exit)
        }
        (Format::Text, Ok(s)) => {
            if let Some(n) = &s.note {
                println!("{n}");
            }
            let shown = if opts.reveal {
                s.result
            } else {
                callflow_sim::mask_json(&s.result)
            };
            if !shown.is_null() && shown != json!({}) {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&shown).unwrap_or_default()
                );
            }
            ExitCode::SUCCESS
        }
        (Format::Text, Err(f)) => {
            let file = f.0.file.as_deref().unwrap_or("callflow");
            for v in &f.0.violations {
                println!("{file}: {}: {} {}", v.path, v.code, v.message);
            }
            eprintln!("callflow: {}", f.0.message);
            ExitCode::from(f.0.exit)
        }
    }
}
