//! The callflow linter: the core's validator over files, with 8x8's status codes.

use callflow::CallFlow;
use callflow::callflow::{Mode, Violation};

/// The verdict on one callflow document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LintResult {
    /// The file name as given (`-` for standard input).
    pub file: String,
    /// What is wrong, in document order; empty when the callflow is valid.
    pub violations: Vec<Violation>,
}

impl LintResult {
    /// Whether the callflow is valid.
    pub fn is_ok(&self) -> bool {
        self.violations.is_empty()
    }

    /// The linter's lines for this file: `FILE: ok`, or one
    /// `FILE: PATH: CODE MESSAGE` line per violation.
    pub fn lines(&self) -> Vec<String> {
        if self.violations.is_empty() {
            return vec![format!("{}: ok", self.file)];
        }
        self.violations
            .iter()
            .map(|v| format!("{}: {}: {} {}", self.file, v.path, v.code, v.message))
            .collect()
    }
}

/// Checks one callflow document (`{"callflow": [...]}`, as 8x8 receives it) for `mode`.
/// Invalid JSON is -1001.
///
/// ```
/// use callflow::callflow::Mode;
/// let r = callflow_sim::lint_bytes("flow.json", br#"{"callflow":[{"action":"say","params":{"text":"Hi"}}]}"#, Mode::Reply);
/// assert_eq!(r.violations[0].code.as_i32(), -1009);
/// assert_eq!(r.lines()[0], "flow.json: $.callflow[0].params.voiceProfile: -1009 is missing but it is required");
/// ```
pub fn lint_bytes(file: &str, json: &[u8], mode: Mode) -> LintResult {
    let violations = match CallFlow::parse(json, mode) {
        Ok(_) => Vec::new(),
        Err(v) => v.into_vec(),
    };
    LintResult {
        file: file.to_owned(),
        violations,
    }
}
