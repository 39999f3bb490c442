//! `callflow api numbers list | get NUMBER`.

use callflow_client::api::{Operation, VirtualNumber};
use clap::Subcommand;

use super::ApiOptions;
use super::output::{Failure, Success};

/// The virtual number commands.
#[derive(Subcommand, Debug)]
pub enum Command {
    /// List the sub-account's virtual numbers.
    List,
    /// Check one virtual number.
    Get {
        /// The number (7 to 10 digits, or E.164).
        #[arg(value_name = "NUMBER")]
        number: String,
    },
}

/// Runs a virtual number command.
pub async fn run(cmd: &Command, opts: &ApiOptions) -> Result<Success, Failure> {
    match cmd {
        Command::List => {
            let op = Operation::ListVirtualNumbers.operation_id();
            let r = opts
                .client()?
                .virtual_numbers()
                .await
                .map_err(|e| Failure::client(op, &e))?;
            Ok(Success::new(op, &r))
        }
        Command::Get { number } => {
            let op = Operation::CheckVirtualNumber.operation_id();
            let n =
                VirtualNumber::new(number).map_err(|e| Failure::usage(format!("NUMBER: {e}")))?;
            let r = opts
                .client()?
                .virtual_number(&n)
                .await
                .map_err(|e| Failure::client(op, &e))?;
            Ok(Success::new(op, &r))
        }
    }
}
