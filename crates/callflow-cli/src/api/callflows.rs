//! `callflow api callflows send FILE.json [--dry-run]`: Send Callflow, validated in Send
//! mode before anything leaves.

use callflow_client::api::{Operation, SendCallflow};
use clap::Subcommand;

use super::output::{Failure, Success};
use super::{ApiOptions, read_file};

/// The Send Callflow commands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Validate a Send Callflow request ({"callflow": [...], "validUntil"?}) and send it.
    Send {
        /// The request as JSON (`-` reads standard input).
        #[arg(value_name = "FILE")]
        file: String,
        /// Only validate (8x8's codes, e.g. -1013); no key needed, nothing is sent.
        #[arg(long)]
        dry_run: bool,
    },
}

/// Runs a Send Callflow command.
pub async fn run(cmd: &Command, opts: &ApiOptions) -> Result<Success, Failure> {
    let Command::Send { file, dry_run } = cmd;
    let op = Operation::SendCallflow.operation_id();
    let bytes = read_file(file)?;
    let req =
        SendCallflow::from_json(&bytes).map_err(|e| Failure::invalid(op, &e).in_file(file))?;
    if *dry_run {
        return Ok(Success::new(
            "validate",
            &serde_json::json!({"valid": true, "sent": false}),
        )
        .note(format!(
            "{file}: ok, a valid Send Callflow request (dry run, nothing sent)"
        )));
    }
    let client = opts.client()?;
    let r = client
        .send_callflow(&req)
        .await
        .map_err(|e| Failure::client(op, &e).in_file(file))?;
    Ok(Success::new(op, &r))
}
