//! `stress`: the full-size attacks of issue 13 against a running webhook server on loopback,
//! with an authorised client measuring what it still gets. Driven by `scripts/stress.sh`.
//!
//! - `--scenario trickle`: `--attackers` connections, each a `POST` with a wrong
//!   `Authorization` and `Transfer-Encoding: chunked`, then a 1-byte chunk every
//!   `--chunk-every` seconds (a slot whose connection the server closed opens a new one at
//!   its next tick).
//! - `--scenario idle`: `--attackers` connections that never send a byte, each reopened as
//!   soon as the server closes it.
//!
//! Meanwhile the authorised client posts a `CALL_ACTION` (fresh ids, from the bound caller)
//! every `--interval-ms` on a new connection, each with a `--timeout` bound, for `--duration`
//! seconds after the attackers are in place. It prints one `stress-result` line of
//! `key=value` pairs: the client's answers, success rate and latency percentiles (over every
//! request, a failed one counted at the time it failed), the attackers' connections, and the
//! server's peak descriptor count (`/proc/PID/fd`, with `--server-pid`). Only loopback
//! addresses are accepted. Exits by itself; 0 whatever the figures (the script compares them
//! with the targets).

mod attack;
mod fds;
mod legit;
mod stats;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use clap::{Parser, ValueEnum};

/// The attack to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Scenario {
    /// Refused requests whose chunked body trickles in.
    Trickle,
    /// Connections that never send a byte.
    Idle,
}

impl Scenario {
    fn name(self) -> &'static str {
        match self {
            Self::Trickle => "trickle",
            Self::Idle => "idle",
        }
    }
}

/// Command line.
#[derive(Debug, Parser)]
#[command(about = "Loopback attack + authorised client for scripts/stress.sh")]
struct Args {
    /// The server (a loopback address).
    #[arg(long)]
    addr: SocketAddr,
    /// The attack.
    #[arg(long, value_enum)]
    scenario: Scenario,
    /// The authorised client's `Authorization` value (the server's `--auth-header`).
    #[arg(long)]
    auth: String,
    /// Attacker connections held at once.
    #[arg(long, default_value_t = 2100)]
    attackers: usize,
    /// Seconds the authorised client runs, once the attackers are in place.
    #[arg(long, default_value_t = 60)]
    duration: u64,
    /// Milliseconds between two authorised requests.
    #[arg(long, default_value_t = 100)]
    interval_ms: u64,
    /// Seconds an authorised request may take before it counts as failed.
    #[arg(long, default_value_t = 12)]
    timeout: u64,
    /// Seconds between two chunks of a trickling attacker.
    #[arg(long, default_value_t = 5)]
    chunk_every: u64,
    /// Seconds given to the attackers to connect before the client starts.
    #[arg(long, default_value_t = 5)]
    ramp: u64,
    /// The server's process id, for its descriptor count.
    #[arg(long)]
    server_pid: Option<u32>,
    /// A label printed with the result (e.g. the framework).
    #[arg(long, default_value = "")]
    label: String,
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    if !args.addr.ip().is_loopback() {
        eprintln!("stress: {} is not a loopback address", args.addr);
        std::process::exit(2);
    }
    let limits = callflow::limits::raise_nofile_limit();
    let fds = args.server_pid.map(fds::Sampler::start);

    let attack = Arc::new(attack::Counters::default());
    let plan = attack::Plan {
        addr: args.addr,
        connections: args.attackers,
        chunk_every: Duration::from_secs(args.chunk_every),
        ramp: Duration::from_secs(args.ramp),
    };
    let mut attackers = match args.scenario {
        Scenario::Trickle => attack::trickle(plan, attack.clone()),
        Scenario::Idle => attack::idle(plan, attack.clone()),
    };
    tokio::time::sleep(plan.ramp).await;
    let open_at_start = attack.open();

    let client = legit::Client::new(args.addr, &args.auth, Duration::from_secs(args.timeout));
    let results = client
        .run(
            Duration::from_secs(args.duration),
            Duration::from_millis(args.interval_ms),
        )
        .await;
    attackers.abort_all();

    let summary = stats::Summary::of(&results);
    let fd_peak = fds.map(fds::Sampler::stop);
    let attackers_line = attack.line(open_at_start);
    println!(
        "stress-result label={} scenario={} attackers={} {} {} fd_peak={} nofile={}",
        if args.label.is_empty() {
            "-"
        } else {
            &args.label
        },
        args.scenario.name(),
        args.attackers,
        summary.line(),
        attackers_line,
        fd_peak.map_or_else(|| "-".to_owned(), |n| n.to_string()),
        limits.map_or_else(|| "-".to_owned(), |(soft, _)| soft.to_string()),
    );
}
