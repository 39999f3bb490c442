//! `callflow api log-exports start FILE.json | get JOB_ID | cancel JOB_ID`.

use callflow_client::api::{JobId, LogExportRequest, Operation};
use clap::Subcommand;

use super::output::{Failure, Success};
use super::{ApiOptions, parse_file};

/// The voice log export commands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// Start an export from a JSON request file ({"from", "to", "limit"?}).
    Start {
        /// The request as JSON (`-` reads standard input).
        #[arg(value_name = "FILE")]
        file: String,
    },
    /// The state of an export job and, once it succeeded, its download links.
    Get {
        /// The job id `start` returned.
        #[arg(value_name = "JOB_ID")]
        job_id: String,
    },
    /// Cancel an export job.
    Cancel {
        /// The job id `start` returned.
        #[arg(value_name = "JOB_ID")]
        job_id: String,
    },
}

fn job(id: &str) -> Result<JobId, Failure> {
    JobId::new(id).map_err(|e| Failure::usage(format!("JOB_ID: {e}")))
}

/// Runs a log export command.
pub async fn run(cmd: &Command, opts: &ApiOptions) -> Result<Success, Failure> {
    match cmd {
        Command::Start { file } => {
            let op = Operation::StartLogExport.operation_id();
            let req: LogExportRequest = parse_file(file)?;
            let r = opts
                .client()?
                .start_log_export(&req)
                .await
                .map_err(|e| Failure::client(op, &e))?;
            Ok(Success::new(op, &r))
        }
        Command::Get { job_id } => {
            let op = Operation::GetLogExport.operation_id();
            let id = job(job_id)?;
            let r = opts
                .client()?
                .log_export(&id)
                .await
                .map_err(|e| Failure::client(op, &e))?;
            Ok(Success::new(op, &r))
        }
        Command::Cancel { job_id } => {
            let op = Operation::CancelLogExport.operation_id();
            let id = job(job_id)?;
            opts.client()?
                .cancel_log_export(&id)
                .await
                .map_err(|e| Failure::client(op, &e))?;
            Ok(Success::new(op, &serde_json::json!({"cancelled": true})))
        }
    }
}
