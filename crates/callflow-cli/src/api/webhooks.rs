//! `callflow api webhooks list | create | delete`.

use callflow_client::api::{CreateWebhook, Operation, WebhookType};
use clap::Subcommand;

use super::ApiOptions;
use super::output::{Failure, Success};

/// The webhook commands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// List the registered webhooks.
    List,
    /// Register (or replace) the webhook of a type.
    Create {
        /// VCA, VCS, VSS, VRU or VNU.
        #[arg(long = "type", value_name = "TYPE")]
        webhook_type: String,
        /// The public https URL 8x8 posts to.
        #[arg(long, value_name = "URL")]
        url: String,
        /// The environment variable holding the value 8x8 sends back in `Authorization`
        /// (`httpAuthHeader`); a secret never goes on the command line.
        #[arg(long, value_name = "VAR")]
        auth_header_env: Option<String>,
    },
    /// Remove the webhook of a type.
    Delete {
        /// VCA, VCS, VSS or VRU.
        #[arg(long = "type", value_name = "TYPE")]
        webhook_type: String,
    },
}

fn webhook_type(s: &str) -> Result<WebhookType, Failure> {
    s.to_ascii_uppercase()
        .parse()
        .map_err(|e| Failure::usage(format!("--type: {e}")))
}

/// Runs a webhook command.
pub async fn run(cmd: &Command, opts: &ApiOptions) -> Result<Success, Failure> {
    match cmd {
        Command::List => {
            let op = Operation::ListWebhooks.operation_id();
            let client = opts.client()?;
            let r = client
                .webhooks()
                .await
                .map_err(|e| Failure::client(op, &e))?;
            Ok(Success::new(op, &r))
        }
        Command::Create {
            webhook_type: t,
            url,
            auth_header_env,
        } => {
            let op = Operation::CreateWebhook.operation_id();
            let mut req = CreateWebhook::new(webhook_type(t)?, url.as_str())
                .map_err(|e| Failure::usage(e.to_string()))?;
            if let Some(var) = auth_header_env {
                let value = std::env::var(var)
                    .map_err(|_| Failure::usage(format!("--auth-header-env: {var} is not set")))?;
                req = req.http_auth_header(value);
            }
            let client = opts.client()?;
            let r = client
                .create_webhook(&req)
                .await
                .map_err(|e| Failure::client(op, &e))?;
            Ok(Success::new(op, &r))
        }
        Command::Delete { webhook_type: t } => {
            let op = Operation::DeleteWebhook.operation_id();
            let t = webhook_type(t)?;
            if !t.deletable() {
                return Err(Failure::usage(format!(
                    "--type: {} cannot be deleted (8x8's document allows VCS, VCA, VSS, VRU)",
                    t.as_str()
                )));
            }
            let client = opts.client()?;
            let r = client
                .delete_webhook(t)
                .await
                .map_err(|e| Failure::client(op, &e))?;
            Ok(Success::new(op, &r))
        }
    }
}
