//! API keys: `Authorization: Bearer KEY`, compared in constant time.
//!
//! Keys come from [`KEYS_ENV`] (comma-separated) and `--api-keys-file` (one a line, `#`
//! comments), never from the command line; several are accepted at once, for rotation.
//! With no key at all the API is off (every `/v1` route answers 404), never open.

use std::path::Path;

use subtle::ConstantTimeEq;

/// The environment variable holding the API keys, comma-separated.
pub const KEYS_ENV: &str = "NUMBER_MASKING_API_KEYS";

/// The shortest key accepted (a key shorter than this is a configuration error).
pub const MIN_KEY_LEN: usize = 16;

/// The keys the API accepts. `Debug` shows how many, never a key.
#[derive(Clone, Default)]
pub struct ApiKeys(Vec<Vec<u8>>);

impl std::fmt::Debug for ApiKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ApiKeys({} keys)", self.0.len())
    }
}

impl ApiKeys {
    /// The keys of `env` (the value of [`KEYS_ENV`], comma-separated) and of `file` (one a
    /// line, blank lines and `#` comments ignored).
    pub fn load(env: Option<&str>, file: Option<&Path>) -> Result<Self, String> {
        let mut keys: Vec<String> = env
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|k| !k.is_empty())
            .map(str::to_owned)
            .collect();
        if let Some(file) = file {
            let text = std::fs::read_to_string(file)
                .map_err(|e| format!("cannot read the API keys file {}: {e}", file.display()))?;
            keys.extend(
                text.lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty() && !l.starts_with('#'))
                    .map(str::to_owned),
            );
        }
        Self::new(keys)
    }

    /// These keys (each at least [`MIN_KEY_LEN`] visible ASCII characters).
    pub fn new(keys: impl IntoIterator<Item = String>) -> Result<Self, String> {
        let mut out = Vec::new();
        for (i, k) in keys.into_iter().enumerate() {
            if k.len() < MIN_KEY_LEN || !k.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(format!(
                    "API key #{} is not usable: give at least {MIN_KEY_LEN} visible ASCII characters",
                    i + 1
                ));
            }
            out.push(k.into_bytes());
        }
        Ok(Self(out))
    }

    /// Whether any key is configured (the API is on).
    pub fn enabled(&self) -> bool {
        !self.0.is_empty()
    }

    /// Whether `authorization` (the header's value) is `Bearer KEY` with a configured key.
    /// Every key is compared, in constant time, whichever matches.
    pub fn accepts(&self, authorization: Option<&[u8]>) -> bool {
        let Some(value) = authorization else {
            return false;
        };
        let Some(given) = strip_bearer(value) else {
            return false;
        };
        let mut ok = subtle::Choice::from(0);
        for key in &self.0 {
            ok |= key.as_slice().ct_eq(given);
        }
        ok.into()
    }
}

fn strip_bearer(value: &[u8]) -> Option<&[u8]> {
    let (scheme, rest) = value.split_at_checked(7)?;
    scheme
        .eq_ignore_ascii_case(b"bearer ")
        .then(|| rest.trim_ascii())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_keys_from_env_and_rotation() {
        let keys = ApiKeys::load(Some(" key-one-0123456789 , key-two-0123456789"), None).unwrap();
        assert!(keys.enabled());
        assert!(keys.accepts(Some(b"Bearer key-one-0123456789")));
        assert!(keys.accepts(Some(b"bearer key-two-0123456789")));
        assert!(!keys.accepts(Some(b"Bearer key-one-012345678")));
        assert!(!keys.accepts(Some(b"key-one-0123456789")));
        assert!(!keys.accepts(None));
        assert_eq!(format!("{keys:?}"), "ApiKeys(2 keys)");
        assert!(!ApiKeys::load(None, None).unwrap().enabled());
        assert!(ApiKeys::load(Some("short"), None).is_err());
    }
}
