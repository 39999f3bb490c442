//! `callflow`: the 8x8 voice command line.
//!
//! - `callflow play | lint | send`: the offline simulator and linter ([`sim`]).
//! - `callflow api …`: 8x8's Voice REST API through `callflow-client` ([`api`]).
//! - `callflow serve`: a local 8x8, the Voice API and the call platform ([`serve`]).

mod api;
mod serve;
mod sim;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// The exit codes, shown at the end of every `--help`.
const EXIT_CODES: &str = "Exit status:
  0  everything held / 8x8 accepted the request
  1  a check said no (a scenario failed, a callflow is invalid) or 8x8 refused or failed the request
  2  usage or configuration error (bad arguments, unreadable file, no API key or sub-account)

The API key is read only from the environment (CALLFLOW_API_KEY) or a file (--api-key-file),
never from the command line.";

#[derive(Parser, Debug)]
#[command(
    name = "callflow",
    version,
    about = "The 8x8 voice command line: play call sessions offline, lint callflows, and talk to 8x8's Voice API.",
    after_help = EXIT_CODES
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    #[command(flatten)]
    Sim(sim::Command),
    /// Talk to 8x8's Voice API: webhooks, Send Callflow, numbers, recordings, log exports.
    #[command(after_help = EXIT_CODES)]
    Api(api::ApiArgs),
    /// A local 8x8: the Voice API (every operation of 8x8's document) and the call platform
    /// (Send Callflow sessions, inbound calls), posting events to the registered webhooks.
    #[command(after_help = serve::ENDPOINTS)]
    Serve(serve::ServeArgs),
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Sim(c) => sim::run(c),
        Command::Api(a) => api::run(a),
        Command::Serve(a) => serve::run(a),
    }
}
