//! The webhook's auth values (8x8's `httpAuthHeader`): what `serve` requires and what
//! `register` gives 8x8, from one place so the two can never differ.
//!
//! Sources, in this order: the environment variable [`AUTH_ENV`] (one value per line), the
//! file of `--auth-header-file` (one value per line), then each `--auth-header` flag (kept for
//! compatibility; a value on the command line is visible to other users of the machine).
//! Blank lines are ignored. `register` sends the first value; `serve` accepts all of them
//! (old and new during a rotation).

use std::path::{Path, PathBuf};

/// The environment variable holding the auth values, one per line.
pub const AUTH_ENV: &str = "NUMBER_MASKING_AUTH_HEADERS";

/// Where the auth values come from (the flags shared by `serve` and `register`).
#[derive(clap::Args, Debug, Clone, Default)]
pub struct AuthArgs {
    /// Require this exact value in the auth header (8x8's `httpAuthHeader`); repeat to
    /// accept several during a key rotation. Prefer NUMBER_MASKING_AUTH_HEADERS or
    /// --auth-header-file: a command line is visible to other users.
    #[arg(long = "auth-header", value_name = "VALUE")]
    pub auth_header: Vec<String>,
    /// A file with the auth values, one per line.
    #[arg(long, value_name = "FILE")]
    pub auth_header_file: Option<PathBuf>,
}

impl AuthArgs {
    /// Every value, in order: the environment, the file, the flags.
    pub fn values(&self) -> Result<Vec<String>, String> {
        let mut out = Vec::new();
        if let Ok(env) = std::env::var(AUTH_ENV) {
            out.extend(lines(&env));
        }
        if let Some(file) = &self.auth_header_file {
            out.extend(lines(&read(file)?));
        }
        out.extend(
            self.auth_header
                .iter()
                .filter(|v| !v.trim().is_empty())
                .cloned(),
        );
        Ok(out)
    }
}

fn lines(s: &str) -> impl Iterator<Item = String> + '_ {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
}

fn read(file: &Path) -> Result<String, String> {
    std::fs::read_to_string(file)
        .map_err(|e| format!("cannot read the auth header file {}: {e}", file.display()))
}
