//! `callflow api …`: 8x8's Voice REST API through `callflow-client`, one module per command
//! group, sharing the global options ([`ApiOptions`]) and the output rules ([`output`]).

mod callflows;
mod exports;
mod numbers;
mod output;
mod recordings;
mod speech;
mod webhooks;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use callflow_client::api::SubAccountId;
use callflow_client::{Client, Config};
use clap::{Args, Subcommand, ValueEnum};

pub use output::Failure;

/// `callflow api` and its global options.
#[derive(Args, Debug)]
pub struct ApiArgs {
    #[command(flatten)]
    options: ApiOptions,
    #[command(subcommand)]
    command: ApiCommand,
}

/// Options of every `callflow api` command. The key never comes from the command line.
#[derive(Args, Debug)]
pub struct ApiOptions {
    /// One base URL for every operation (an emulator, a mock, a proxy); default 8x8's servers.
    #[arg(long, env = "CALLFLOW_API_URL", value_name = "URL", global = true)]
    api_url: Option<String>,
    /// The 8x8 sub-account id.
    #[arg(long, env = "CALLFLOW_SUBACCOUNT", value_name = "ID", global = true)]
    subaccount: Option<String>,
    /// A file holding the API key (default: the environment variable CALLFLOW_API_KEY).
    #[arg(long, value_name = "FILE", global = true)]
    api_key_file: Option<PathBuf>,
    /// `text` (numbers masked) or `json` (exactly one JSON document on stdout).
    #[arg(long, value_enum, default_value_t = Format::Text, global = true)]
    format: Format,
    /// Print phone numbers in clear in text output (masked by default).
    #[arg(long, visible_alias = "show-numbers", global = true)]
    reveal: bool,
    /// The time for one request, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 30_000, global = true)]
    timeout: u64,
}

/// The output format of `callflow api`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Readable: the answer as indented JSON with phone numbers masked, errors on stderr.
    Text,
    /// One JSON document on stdout: `{"ok": true, "operation": …, "result": …}` or
    /// `{"ok": false, "operation": …, "error": {"kind", "status", "code", "message", "violations"}}`.
    Json,
}

#[derive(Subcommand, Debug)]
enum ApiCommand {
    /// The sub-account's webhooks (VCA, VCS, VSS, VRU, VNU).
    #[command(subcommand)]
    Webhooks(webhooks::Command),
    /// Send Callflow: start an outbound call (validated in Send mode first).
    #[command(subcommand)]
    Callflows(callflows::Command),
    /// The sub-account's virtual numbers.
    #[command(subcommand)]
    Numbers(numbers::Command),
    /// The speech profiles (voices) of the account.
    SpeechProfiles,
    /// The recordings of a session.
    #[command(subcommand)]
    Recordings(recordings::Command),
    /// Where recordings are pushed.
    #[command(subcommand)]
    RecordingPushConfig(recordings::PushConfigCommand),
    /// Voice log exports.
    #[command(subcommand)]
    LogExports(exports::Command),
}

impl ApiOptions {
    /// The client for these options: the key from `--api-key-file` or `CALLFLOW_API_KEY`,
    /// the sub-account, the base URL. A missing or unusable setting is a usage error.
    pub fn client(&self) -> Result<Client, Failure> {
        let key = match &self.api_key_file {
            Some(path) => std::fs::read_to_string(path)
                .map_err(|e| {
                    Failure::usage(format!(
                        "{}: cannot read the API key file: {e}",
                        path.display()
                    ))
                })?
                .trim()
                .to_owned(),
            None => std::env::var("CALLFLOW_API_KEY").map_err(|_| {
                Failure::usage(
                    "no API key: set CALLFLOW_API_KEY or pass --api-key-file FILE".to_owned(),
                )
            })?,
        };
        let Some(sub) = &self.subaccount else {
            return Err(Failure::usage(
                "no sub-account: set CALLFLOW_SUBACCOUNT or pass --subaccount ID".to_owned(),
            ));
        };
        let sub = SubAccountId::new(sub.as_str())
            .map_err(|e| Failure::usage(format!("--subaccount: {e}")))?;
        let mut config = Config::new(key, sub)
            .timeout(Duration::from_millis(self.timeout.max(1)))
            .connect_timeout(Duration::from_millis(self.timeout.clamp(1, 5_000)));
        if let Some(url) = &self.api_url {
            config = config.base_url(url.as_str());
        }
        Client::new(config).map_err(|e| Failure::usage(e.to_string()))
    }
}

/// Runs one `callflow api` command.
pub fn run(args: ApiArgs) -> ExitCode {
    let opts = &args.options;
    let rt = crate::sim::runtime();
    let result = rt.block_on(async {
        match &args.command {
            ApiCommand::Webhooks(c) => webhooks::run(c, opts).await,
            ApiCommand::Callflows(c) => callflows::run(c, opts).await,
            ApiCommand::Numbers(c) => numbers::run(c, opts).await,
            ApiCommand::SpeechProfiles => speech::run(opts).await,
            ApiCommand::Recordings(c) => recordings::run(c, opts).await,
            ApiCommand::RecordingPushConfig(c) => recordings::run_push_config(c, opts).await,
            ApiCommand::LogExports(c) => exports::run(c, opts).await,
        }
    });
    output::finish(opts, result)
}

/// Reads a JSON request file (`-` is standard input); unreadable is a usage error.
pub fn read_file(file: &str) -> Result<Vec<u8>, Failure> {
    let read = if file == "-" {
        let mut buf = Vec::new();
        std::io::Read::read_to_end(&mut std::io::stdin(), &mut buf).map(|_| buf)
    } else {
        std::fs::read(file)
    };
    read.map_err(|e| Failure::usage(format!("{file}: cannot read: {e}")))
}

/// Parses a request file into a strict request type; a body that does not fit is a usage
/// error naming the file (and serde's reason, which never quotes the values).
pub fn parse_file<T: serde::de::DeserializeOwned>(file: &str) -> Result<T, Failure> {
    let bytes = read_file(file)?;
    serde_json::from_slice(&bytes)
        .map_err(|e| Failure::usage(format!("{file}: not a valid request ({})", classify(&e))))
}

fn classify(e: &serde_json::Error) -> String {
    match e.classify() {
        serde_json::error::Category::Data => {
            // serde's data messages name fields, not values ("unknown field `x`").
            let msg = e.to_string();
            msg.split(" at line").next().unwrap_or(&msg).to_owned()
        }
        _ => format!("not JSON: line {} column {}", e.line(), e.column()),
    }
}
