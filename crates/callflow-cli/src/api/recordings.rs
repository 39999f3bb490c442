//! `callflow api recordings get SESSION_ID` and
//! `callflow api recording-push-config get | set FILE.json | delete`.

use callflow_client::api::{Operation, RecordingPushConfigRequest, SessionId};
use clap::Subcommand;

use super::output::{Failure, Success};
use super::{ApiOptions, parse_file};

/// The recording commands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// The recordings of a session and their status.
    Get {
        /// The session id (from Send Callflow or a webhook event).
        #[arg(value_name = "SESSION_ID")]
        session_id: String,
    },
}

/// The recording push configuration commands.
#[derive(Subcommand, Debug)]
pub enum PushConfigCommand {
    /// Show where recordings are pushed.
    Get,
    /// Set where recordings are pushed, from a JSON request file.
    Set {
        /// The request as JSON (`-` reads standard input).
        #[arg(value_name = "FILE")]
        file: String,
    },
    /// Remove the configuration.
    Delete,
}

/// Runs a recording command.
pub async fn run(cmd: &Command, opts: &ApiOptions) -> Result<Success, Failure> {
    let Command::Get { session_id } = cmd;
    let op = Operation::GetRecordingStatus.operation_id();
    let id = SessionId::new(session_id.as_str())
        .map_err(|e| Failure::usage(format!("SESSION_ID: {e}")))?;
    let r = opts
        .client()?
        .recordings(&id)
        .await
        .map_err(|e| Failure::client(op, &e))?;
    Ok(Success::new(op, &r))
}

/// Runs a recording push configuration command.
pub async fn run_push_config(
    cmd: &PushConfigCommand,
    opts: &ApiOptions,
) -> Result<Success, Failure> {
    match cmd {
        PushConfigCommand::Get => {
            let op = Operation::GetRecordingPushConfig.operation_id();
            let r = opts
                .client()?
                .recording_push_config()
                .await
                .map_err(|e| Failure::client(op, &e))?;
            Ok(Success::new(op, &r))
        }
        PushConfigCommand::Set { file } => {
            let op = Operation::CreateRecordingPushConfig.operation_id();
            let req: RecordingPushConfigRequest = parse_file(file)?;
            let r = opts
                .client()?
                .set_recording_push_config(&req)
                .await
                .map_err(|e| Failure::client(op, &e))?;
            Ok(Success::new(op, &r))
        }
        PushConfigCommand::Delete => {
            let op = Operation::DeleteRecordingPushConfig.operation_id();
            let r = opts
                .client()?
                .delete_recording_push_config()
                .await
                .map_err(|e| Failure::client(op, &e))?;
            Ok(Success::new(op, &r))
        }
    }
}
