//! A local 8x8: the Voice API and the call platform in one process (`callflow serve`).
//!
//! [`Emulator::start`] serves, on one address:
//!
//! - **8x8's Voice API**, every operation of 8x8's `voice_v1_api.json` under
//!   `/api/v1/subaccounts/{subAccountId}/…`, with the request and answer types of
//!   `callflow_client::api` (one model for the client and this server) and in-memory state per
//!   sub-account: webhooks by type, recording push configuration, recordings of the sessions
//!   that recorded, log export jobs; virtual numbers and API keys fixed at start
//!   ([`EmulatorConfig`]).
//! - **the call platform**: Send Callflow starts an outbound session, `POST
//!   /emulator/v1/calls` places an inbound call to a virtual number. Both are run by the same
//!   engine as [`play`](crate::play), and each event is POSTed to the webhook registered for
//!   its type (`CALL_ACTION` to VCA, `CALL_STATUS` to VCS, `SESSION_SUMMARY` to VSS,
//!   `CALL_RECORDING_STATUS` to VRU) with that webhook's `httpAuthHeader` as
//!   `Authorization`; a type without a webhook is not posted, as on 8x8.
//! - **the emulator's own endpoints**: `GET /emulator/v1/sessions` and
//!   `GET /emulator/v1/sessions/{id}` (transcript, exchanges, outcome; numbers masked unless
//!   [`EmulatorConfig::reveal`]).
//!
//! ```no_run
//! use callflow_sim::emulator::{Emulator, EmulatorConfig};
//! # async fn run() -> std::io::Result<()> {
//! let config = EmulatorConfig::new()
//!     .api_key("local-key")
//!     .virtual_number("+6568880000");
//! let emulator = Emulator::start("127.0.0.1:0", config).await?;
//! println!("8x8 on {}", emulator.url());
//! emulator.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! Where 8x8's document contradicts itself, the emulator follows 8x8's examples; the crate's
//! README lists each case.

mod control;
mod platform;
mod script;
mod state;
mod voice_api;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use callflow::PhoneNumber;
use tokio::net::{TcpListener, ToSocketAddrs};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use state::Shared;

/// The sub-account that owns the virtual numbers unless told otherwise.
pub const DEFAULT_SUB_ACCOUNT: &str = "callflow_emulator";

/// How the emulator is set up: API keys, virtual numbers, their sub-account, masking.
#[derive(Clone)]
#[non_exhaustive]
pub struct EmulatorConfig {
    api_keys: Vec<String>,
    virtual_numbers: Vec<PhoneNumber>,
    sub_account: String,
    reveal: bool,
}

impl std::fmt::Debug for EmulatorConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmulatorConfig")
            .field(
                "api_keys",
                &format_args!("<{} redacted>", self.api_keys.len()),
            )
            .field("virtual_numbers", &self.virtual_numbers)
            .field("sub_account", &self.sub_account)
            .field("reveal", &self.reveal)
            .finish()
    }
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        Self::new()
    }
}

impl EmulatorConfig {
    /// No API key (any `Bearer` token is accepted), no virtual number, the sub-account
    /// [`DEFAULT_SUB_ACCOUNT`], numbers masked.
    pub fn new() -> Self {
        Self {
            api_keys: Vec::new(),
            virtual_numbers: Vec::new(),
            sub_account: DEFAULT_SUB_ACCOUNT.to_owned(),
            reveal: false,
        }
    }

    /// Accepts `key` as `Authorization: Bearer KEY`. Once one key is set, any other is
    /// answered 401 as 8x8 does.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        let key = key.into();
        if !key.trim().is_empty() {
            self.api_keys.push(key.trim().to_owned());
        }
        self
    }

    /// Accepts every key of a comma- or white-space-separated list (the form of
    /// `CALLFLOW_EMULATOR_API_KEYS`).
    pub fn api_keys_from_list(mut self, list: &str) -> Self {
        for k in list.split(|c: char| c == ',' || c.is_whitespace()) {
            self = self.api_key(k);
        }
        self
    }

    /// Rents `number` to the sub-account: listed by `GET /numbers`, callable through
    /// `POST /emulator/v1/calls`, and accepted as Send Callflow's caller id.
    pub fn virtual_number(mut self, number: impl AsRef<str>) -> Self {
        self.virtual_numbers.push(PhoneNumber::new(number.as_ref()));
        self
    }

    /// The sub-account that owns the virtual numbers (default [`DEFAULT_SUB_ACCOUNT`]).
    pub fn sub_account(mut self, id: impl Into<String>) -> Self {
        self.sub_account = id.into();
        self
    }

    /// Phone numbers in clear in the sessions' listings and transcripts.
    pub fn reveal(mut self, on: bool) -> Self {
        self.reveal = on;
        self
    }

    /// Whether any API key is configured.
    pub fn has_api_keys(&self) -> bool {
        !self.api_keys.is_empty()
    }

    /// The virtual numbers.
    pub fn virtual_numbers(&self) -> &[PhoneNumber] {
        &self.virtual_numbers
    }
}

/// A virtual numbers file (`callflow serve --virtual-numbers FILE`) that cannot be used: the
/// file and the reason, numbers masked.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {reason}")]
pub struct VirtualNumbersError {
    path: String,
    reason: String,
}

/// The virtual numbers file: `numbers = ["+6568880000", …]`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct VirtualNumbersFile {
    numbers: Vec<String>,
}

impl EmulatorConfig {
    /// Rents every number of a TOML document `numbers = ["+6568880000", "+6568880001"]`
    /// (7 to 15 digits each, a leading `+`, spaces and dashes allowed; each rented as `+`
    /// and its digits). `origin` names the document in the error.
    pub fn virtual_numbers_toml(
        mut self,
        origin: &str,
        text: &str,
    ) -> Result<Self, VirtualNumbersError> {
        let fail = |reason: String| VirtualNumbersError {
            path: origin.to_owned(),
            reason,
        };
        let file: VirtualNumbersFile =
            toml::from_str(text).map_err(|e| fail(crate::mask_text(e.to_string().trim_end())))?;
        if file.numbers.is_empty() {
            return Err(fail("`numbers` is empty".to_owned()));
        }
        for (i, n) in file.numbers.iter().enumerate() {
            if !script::is_phone_number(n) {
                return Err(fail(format!(
                    "numbers[{i}]: not a phone number (7 to 15 digits, a leading '+' allowed)"
                )));
            }
            let digits: String = n.chars().filter(char::is_ascii_digit).collect();
            self = self.virtual_number(format!("+{digits}"));
        }
        Ok(self)
    }

    /// [`virtual_numbers_toml`](Self::virtual_numbers_toml) on the file at `path`.
    pub fn virtual_numbers_file(self, path: impl AsRef<Path>) -> Result<Self, VirtualNumbersError> {
        let path = path.as_ref();
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| VirtualNumbersError {
            path: origin.clone(),
            reason: format!("cannot read: {e}"),
        })?;
        self.virtual_numbers_toml(&origin, &text)
    }
}

/// A running emulator; [`shutdown`](Emulator::shutdown) stops it.
#[derive(Debug)]
pub struct Emulator {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
}

impl Emulator {
    /// Binds `addr` (port 0 for any free port) and serves in the background on the current
    /// Tokio runtime.
    pub async fn start(addr: impl ToSocketAddrs, config: EmulatorConfig) -> std::io::Result<Self> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = oneshot::channel::<()>();
        let shared = Arc::new(Shared::new(config));
        let app = router(shared);
        let task = tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await
        });
        Ok(Self {
            addr,
            stop: Some(stop),
            task,
        })
    }

    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Its base URL (`http://127.0.0.1:PORT`), for `callflow_client::Config::base_url`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Waits until the server stops (it runs until [`shutdown`](Emulator::shutdown) or an
    /// I/O error).
    pub async fn wait(mut self) -> std::io::Result<()> {
        let _keep = self.stop.take();
        match (&mut self.task).await {
            Ok(r) => r,
            Err(e) => Err(std::io::Error::other(e)),
        }
    }

    /// Stops accepting, lets open requests finish, and returns.
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }
}

/// The emulator's routes, for mounting into another axum server.
fn router(shared: Arc<Shared>) -> axum::Router {
    voice_api::routes(&shared)
        .merge(control::routes(&shared))
        .with_state(shared)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_virtual_numbers_file_rents_each_number() {
        let config = EmulatorConfig::new()
            .virtual_numbers_toml(
                "vn.toml",
                "numbers = [\"+6568880000\", \"+65 6888-0001\"]\n",
            )
            .unwrap();
        assert_eq!(config.virtual_numbers().len(), 2);
        assert!(config.virtual_numbers()[1].same_as("+6568880001"));
    }

    #[test]
    fn a_bad_virtual_numbers_file_names_the_file_and_the_entry_without_the_number() {
        let err = EmulatorConfig::new()
            .virtual_numbers_toml("vn.toml", "numbers = [\"+6568880000\", \"12\"]")
            .unwrap_err()
            .to_string();
        assert_eq!(
            err,
            "vn.toml: numbers[1]: not a phone number (7 to 15 digits, a leading '+' allowed)"
        );
        let err = EmulatorConfig::new()
            .virtual_numbers_toml("vn.toml", "number = \"+6568880000\"")
            .unwrap_err()
            .to_string();
        assert!(err.starts_with("vn.toml: "), "{err}");
        assert!(!err.contains("6568880000"), "masked: {err}");
        let empty = EmulatorConfig::new().virtual_numbers_toml("vn.toml", "numbers = []");
        assert!(empty.unwrap_err().to_string().contains("empty"));
    }
}
