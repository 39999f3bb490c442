//! `callflow serve`: a local 8x8 — the Voice API and the call platform of
//! `callflow_sim::emulator`, until Ctrl-C.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use callflow_sim::emulator::{DEFAULT_SUB_ACCOUNT, Emulator, EmulatorConfig};

/// What `callflow serve --help` shows after the options: the emulator's own endpoints.
pub const ENDPOINTS: &str = "The emulator's own endpoints (same API key as the Voice API):
  POST   /emulator/v1/calls    {\"from\": CALLER, \"to\": VIRTUAL_NUMBER, \"digits\": \"1\",
                                \"callee\": {\"outcome\": \"busy\"}, \"faults\": {…}}
                               places an inbound call -> 201 {\"sessionId\": …}
  POST   /emulator/v1/callees  {\"number\": N, \"outcome\": \"answered|busy|no-answer|failed|
                                caller-hangs-up|error\", \"ring_seconds\": 3, \"talk_seconds\": 20,
                                \"digits\": \"1\", \"faults\": {…}}
                               scripts the next ring of N (a Send Callflow session's callA, or any
                               makeCall); without \"number\": the default for every number. Digits
                               and faults apply to a Send Callflow session's callA.
  DELETE /emulator/v1/callees  forgets every script
  GET    /emulator/v1/sessions[/{id}]  sessions, their outcome and transcript
Faults: {\"duplicate\": true, \"reorder\": true, \"slow_after_ms\": 500,
         \"payload_style\": \"current|legacy|string\"}   (string: \"eventData\": \"1\")

Exit status: 0 after Ctrl-C, 2 on a configuration error (bad number or numbers file, address
in use).";

/// `callflow serve` arguments.
#[derive(clap::Args, Debug)]
pub struct ServeArgs {
    /// Where to listen (port 0: any free port, printed at start).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8088")]
    listen: SocketAddr,
    /// A virtual number rented to the sub-account (repeatable): listed by GET /numbers,
    /// callable through POST /emulator/v1/calls, accepted as Send Callflow's caller id.
    #[arg(long = "virtual-number", value_name = "NUMBER")]
    virtual_numbers: Vec<String>,
    /// A TOML file of virtual numbers, `numbers = ["+6568880000", "+6568880001"]`, rented
    /// beside any --virtual-number. A file that cannot be read or used exits 2.
    #[arg(
        long = "virtual-numbers",
        value_name = "FILE.toml",
        env = "CALLFLOW_EMULATOR_VIRTUAL_NUMBERS"
    )]
    virtual_numbers_file: Option<PathBuf>,
    /// The sub-account that owns the virtual numbers.
    #[arg(long, value_name = "ID", default_value = DEFAULT_SUB_ACCOUNT)]
    sub_account: String,
    /// The API keys accepted as `Authorization: Bearer KEY`, comma-separated. Prefer the
    /// environment variable (a command line is visible to every user of the machine).
    /// Without any, every Bearer token is accepted.
    #[arg(
        long = "api-key",
        value_name = "KEYS",
        env = "CALLFLOW_EMULATOR_API_KEYS",
        hide_env_values = true
    )]
    api_keys: Option<String>,
    /// Phone numbers in clear in GET /emulator/v1/sessions (default: masked).
    #[arg(long)]
    reveal: bool,
}

/// Serves until Ctrl-C.
pub fn run(args: ServeArgs) -> ExitCode {
    let mut config = EmulatorConfig::new()
        .sub_account(args.sub_account.clone())
        .reveal(args.reveal);
    if let Some(keys) = &args.api_keys {
        config = config.api_keys_from_list(keys);
    }
    for n in &args.virtual_numbers {
        let digits = n.trim().trim_start_matches('+');
        if !(7..=15).contains(&digits.len()) || !digits.bytes().all(|b| b.is_ascii_digit()) {
            eprintln!(
                "error: --virtual-number: not a phone number (7 to 15 digits, a leading '+' allowed)"
            );
            return ExitCode::from(2);
        }
        config = config.virtual_number(n);
    }
    if let Some(path) = &args.virtual_numbers_file {
        config = match config.virtual_numbers_file(path) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("error: --virtual-numbers {e}");
                return ExitCode::from(2);
            }
        };
    }
    let keyed = config.has_api_keys();
    let count = config.virtual_numbers().len();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a Tokio runtime starts");
    rt.block_on(async move {
        let emulator = match Emulator::start(args.listen, config).await {
            Ok(e) => e,
            Err(e) => {
                eprintln!("error: cannot listen on {}: {e}", args.listen);
                return ExitCode::from(2);
            }
        };
        println!("callflow serve: a local 8x8 on {}", emulator.url());
        println!(
            "  Voice API:  {}/api/v1/subaccounts/{}/…  ({})",
            emulator.url(),
            args.sub_account,
            if keyed {
                "API keys from --api-key / CALLFLOW_EMULATOR_API_KEYS"
            } else {
                "no API key configured: any Bearer token is accepted"
            }
        );
        println!("  {count} virtual number(s); inbound calls: POST /emulator/v1/calls, sessions: GET /emulator/v1/sessions");
        println!("  Ctrl-C stops it.");
        let _ = tokio::signal::ctrl_c().await;
        emulator.shutdown().await;
        println!("callflow serve: stopped");
        ExitCode::SUCCESS
    })
}
