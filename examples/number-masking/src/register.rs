//! `number-masking register --url PUBLIC_URL`: registers the service with 8x8 as the
//! sub-account's Voice Call Action (VCA) and Voice Session Summary (VSS) webhooks, with the
//! auth value `serve` requires ([`crate::auth`]), through `callflow-client`.
//!
//! The API options are those of the `callflow` command line: `--api-url`
//! (`CALLFLOW_API_URL`), `--subaccount` (`CALLFLOW_SUBACCOUNT`), the key from
//! `CALLFLOW_API_KEY` or `--api-key-file`, never from the command line.

use std::path::PathBuf;

use callflow_client::api::{CreateWebhook, SubAccountId, WebhookType};
use callflow_client::{Client, Config};

use crate::auth::AuthArgs;
use crate::server::WEBHOOK_PATH;

/// The options of `register`.
#[derive(clap::Args, Debug)]
pub struct RegisterArgs {
    /// The public https URL of the service (`https://your.host`); the webhook path
    /// /webhooks/voice is added unless the URL already ends with it.
    #[arg(long, value_name = "PUBLIC_URL")]
    pub url: String,
    /// One base URL for 8x8's API (an emulator, a mock, a proxy); default 8x8's servers.
    #[arg(long, env = "CALLFLOW_API_URL", value_name = "URL")]
    pub api_url: Option<String>,
    /// The 8x8 sub-account id.
    #[arg(long, env = "CALLFLOW_SUBACCOUNT", value_name = "ID")]
    pub subaccount: String,
    /// A file holding the API key (default: the environment variable CALLFLOW_API_KEY).
    #[arg(long, value_name = "FILE")]
    pub api_key_file: Option<PathBuf>,
    /// The auth values `serve` uses; the first one is registered.
    #[command(flatten)]
    pub auth: AuthArgs,
}

/// The webhook URL for a public URL.
fn webhook_url(public: &str) -> String {
    let trimmed = public.trim_end_matches('/');
    if trimmed.ends_with(WEBHOOK_PATH) {
        trimmed.to_owned()
    } else {
        format!("{trimmed}{WEBHOOK_PATH}")
    }
}

fn client(args: &RegisterArgs) -> Result<Client, String> {
    let key = match &args.api_key_file {
        Some(f) => std::fs::read_to_string(f)
            .map_err(|e| format!("cannot read the API key file {}: {e}", f.display()))?
            .trim()
            .to_owned(),
        None => std::env::var("CALLFLOW_API_KEY")
            .map_err(|_| "no API key: set CALLFLOW_API_KEY or pass --api-key-file FILE")?,
    };
    let sub =
        SubAccountId::new(args.subaccount.as_str()).map_err(|e| format!("--subaccount: {e}"))?;
    let mut config = Config::new(key, sub);
    if let Some(url) = &args.api_url {
        config = config.base_url(url.as_str());
    }
    Client::new(config).map_err(|e| e.to_string())
}

/// Creates the VCA and VSS webhooks; prints one line per webhook.
pub async fn run(args: RegisterArgs) -> crate::Result<()> {
    let url = webhook_url(&args.url);
    let auth = args.auth.values()?;
    let client = client(&args)?;
    if auth.is_empty() {
        eprintln!(
            "warning: no auth value (--auth-header, --auth-header-file or {}): 8x8 will call the webhook without one",
            crate::auth::AUTH_ENV
        );
    }
    for t in [WebhookType::Vca, WebhookType::Vss] {
        let mut hook = CreateWebhook::new(t, url.as_str())?;
        if let Some(value) = auth.first() {
            hook = hook.http_auth_header(value.as_str());
        }
        client
            .create_webhook(&hook)
            .await
            .map_err(|e| format!("registering the {} webhook: {e}", t.as_str()))?;
        out!("registered {} -> {url}", t.as_str());
    }
    Ok(())
}
