//! `callflow play`, `callflow lint`, `callflow send`: the offline simulator and linter of
//! `callflow-sim` (formerly its own binary), with the same flags and output.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use callflow_sim::callflow::callflow::Mode;
use callflow_sim::{
    EventKind, PayloadStyle, PlayOptions, Scenario, SendOptions, check_url, lint_bytes, play,
    render_json, render_junit, render_text_report, render_text_summary, send,
};
use clap::{Subcommand, ValueEnum};

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Play scenario files (TOML) against a webhook, as 8x8 would, and check their expectations.
    Play(PlayArgs),
    /// Validate callflow JSON files ({"callflow": [...]}) with 8x8's status codes.
    Lint(LintArgs),
    /// Post one realistic event and print the reply.
    Send(SendArgs),
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Format {
    /// A readable transcript with masked numbers and response times.
    Text,
    /// One JSON document.
    Json,
    /// JUnit XML (one testsuite per scenario, one testcase per check).
    Junit,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Style {
    /// Digits in payload.eventData.dtmf, callStatus ACTION_COMPLETED.
    Current,
    /// Digits in payload.dtmf, callStatus DTMF_RECEIVED, eventData a string.
    Legacy,
    /// Digits as eventData itself ("eventData": "1"), callStatus ACTION_COMPLETED.
    String,
}

impl From<Style> for PayloadStyle {
    fn from(s: Style) -> Self {
        match s {
            Style::Current => PayloadStyle::Current,
            Style::Legacy => PayloadStyle::Legacy,
            Style::String => PayloadStyle::PlainString,
        }
    }
}

#[derive(clap::Args, Debug)]
pub struct PlayArgs {
    /// The webhook URL (http or https), e.g. http://127.0.0.1:3000/webhooks/voice.
    #[arg(long)]
    url: String,
    /// Sent verbatim as the Authorization header (8x8's httpAuthHeader).
    #[arg(long, value_name = "VALUE")]
    auth_header: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Deliver every event twice (same eventId).
    #[arg(long)]
    duplicate: bool,
    /// Deliver the CALL_STATUS events out of order (reversed, before the summary).
    #[arg(long)]
    reorder: bool,
    /// Fail on every reply slower than MS milliseconds.
    #[arg(long, value_name = "MS")]
    slow_after: Option<u64>,
    /// Where captured digits go.
    #[arg(long, value_enum, default_value_t = Style::Current)]
    payload_style: Style,
    /// How long to wait for a reply before treating the webhook as failed.
    #[arg(long, value_name = "MS", default_value_t = 10_000)]
    timeout: u64,
    /// Print phone numbers in the transcript in clear (masked by default, each with a label
    /// that tells apart numbers with the same masked form: +65****0001 (#1)).
    #[arg(long)]
    show_numbers: bool,
    /// Scenario files (.toml), or directories of them.
    #[arg(required = true, value_name = "SCENARIO")]
    scenarios: Vec<PathBuf>,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum LintMode {
    /// A reply to a CALL_ACTION webhook: any action may come first.
    Reply,
    /// A Send Callflow API request: the first action must be makeCall.
    Send,
}

#[derive(clap::Args, Debug)]
pub struct LintArgs {
    /// Which rules apply.
    #[arg(long, value_enum, default_value_t = LintMode::Reply)]
    mode: LintMode,
    /// Callflow JSON files (`-` reads standard input).
    #[arg(required = true, value_name = "FILE")]
    files: Vec<String>,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum EventArg {
    /// CALL_ACTION (CALL_RECEIVED, or ACTION_COMPLETED with --dtmf).
    CallAction,
    /// CALL_STATUS (CALL_CONNECTED unless --status).
    CallStatus,
    /// SESSION_SUMMARY (COMPLETED unless --status).
    SessionSummary,
}

#[derive(clap::Args, Debug)]
pub struct SendArgs {
    /// The webhook URL (http or https).
    #[arg(long)]
    url: String,
    /// The event to send.
    #[arg(long, value_enum)]
    event: EventArg,
    /// The caller's number (default +6591110001).
    #[arg(long, value_name = "N")]
    from: Option<String>,
    /// The number called, i.e. the virtual number (default +6568880000).
    #[arg(long, value_name = "N")]
    to: Option<String>,
    /// Digits captured by sayAndCapture (makes the CALL_ACTION an ACTION_COMPLETED).
    #[arg(long, value_name = "D")]
    dtmf: Option<String>,
    /// The echoed clientActionId.
    #[arg(long, value_name = "ID")]
    client_action_id: Option<String>,
    /// callStatus of a CALL_STATUS (e.g. CALL_DISCONNECTED), or sessionStatus of a SESSION_SUMMARY (e.g. BUSY).
    #[arg(long, value_name = "STATUS")]
    status: Option<String>,
    /// Sent verbatim as the Authorization header.
    #[arg(long, value_name = "VALUE")]
    auth_header: Option<String>,
    /// Where digits go.
    #[arg(long, value_enum, default_value_t = Style::Current)]
    payload_style: Style,
    /// How long to wait for the reply.
    #[arg(long, value_name = "MS", default_value_t = 10_000)]
    timeout: u64,
    /// Print phone numbers in the reply in clear (masked by default).
    #[arg(long)]
    show_numbers: bool,
}

/// Prints `text` to stdout at once (a pipe would otherwise hold it until the end).
fn print_flushed(text: &str) {
    use std::io::Write as _;
    let mut stdout = std::io::stdout().lock();
    let _ = stdout.write_all(text.as_bytes());
    let _ = stdout.flush();
}

/// A current-thread Tokio runtime for one command.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a Tokio runtime starts")
}

/// Files named, with directories expanded to their `*.toml` files (sorted).
fn expand(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let mut found: Vec<PathBuf> = std::fs::read_dir(p)
                .map_err(|e| format!("{}: cannot read directory: {e}", p.display()))?
                .filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|f| f.extension().is_some_and(|x| x == "toml"))
                .collect();
            found.sort();
            if found.is_empty() {
                return Err(format!("{}: no .toml scenario files", p.display()));
            }
            out.extend(found);
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

fn cmd_play(args: PlayArgs) -> ExitCode {
    let files = match expand(&args.scenarios) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("callflow: {e}");
            return ExitCode::from(2);
        }
    };
    let mut scenarios = Vec::new();
    let mut bad = false;
    for f in &files {
        match Scenario::load(f) {
            Ok(s) => scenarios.push(s),
            Err(e) => {
                eprintln!("callflow: invalid scenario: {e}");
                bad = true;
            }
        }
    }
    if bad {
        return ExitCode::from(2);
    }
    if let Err(e) = check_url(&args.url) {
        eprintln!("callflow: {e}");
        return ExitCode::from(2);
    }
    let mut options = PlayOptions::new(args.url);
    options.auth_header = args.auth_header;
    options.duplicate = args.duplicate;
    options.reorder = args.reorder;
    options.slow_after = args.slow_after.map(Duration::from_millis);
    options.payload_style = args.payload_style.into();
    options.timeout = Duration::from_millis(args.timeout.max(1));
    options.show_numbers = args.show_numbers;

    // Each scenario's result is shown as it finishes (progress on long runs): the text
    // report on stdout, or one line on stderr for the JSON and JUnit documents.
    let rt = runtime();
    let mut reports = Vec::with_capacity(scenarios.len());
    for (i, scenario) in scenarios.iter().enumerate() {
        let report = rt.block_on(play(scenario, &options));
        match args.format {
            Format::Text => print_flushed(&render_text_report(&report)),
            Format::Json | Format::Junit => eprintln!(
                "[{}/{}] {} {}",
                i + 1,
                scenarios.len(),
                if report.passed() { "PASS" } else { "FAIL" },
                report.scenario
            ),
        }
        reports.push(report);
    }
    let out = match args.format {
        Format::Text => render_text_summary(&reports),
        Format::Json => render_json(&reports),
        Format::Junit => render_junit(&reports),
    };
    print!("{out}");
    if reports.iter().all(|r| r.passed()) {
        ExitCode::SUCCESS
    } else {
        if matches!(args.format, Format::Json | Format::Junit) {
            let failed: Vec<&str> = reports
                .iter()
                .filter(|r| !r.passed())
                .map(|r| r.scenario.as_str())
                .collect();
            eprintln!("callflow: failed: {}", failed.join(", "));
        }
        ExitCode::from(1)
    }
}

fn read_input(file: &str) -> std::io::Result<Vec<u8>> {
    if file == "-" {
        let mut buf = Vec::new();
        std::io::stdin().read_to_end(&mut buf)?;
        Ok(buf)
    } else {
        std::fs::read(Path::new(file))
    }
}

fn cmd_lint(args: LintArgs) -> ExitCode {
    let mode = match args.mode {
        LintMode::Reply => Mode::Reply,
        LintMode::Send => Mode::SendCallflow,
    };
    let mut invalid = false;
    let mut unreadable = false;
    for file in &args.files {
        match read_input(file) {
            Ok(bytes) => {
                let r = lint_bytes(file, &bytes, mode);
                invalid |= !r.is_ok();
                for line in r.lines() {
                    println!("{line}");
                }
            }
            Err(e) => {
                eprintln!("{file}: cannot read: {e}");
                unreadable = true;
            }
        }
    }
    if unreadable {
        ExitCode::from(2)
    } else if invalid {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    }
}

fn cmd_send(args: SendArgs) -> ExitCode {
    if let Err(e) = check_url(&args.url) {
        eprintln!("callflow: {e}");
        return ExitCode::from(2);
    }
    let event = match args.event {
        EventArg::CallAction => EventKind::CallAction,
        EventArg::CallStatus => EventKind::CallStatus,
        EventArg::SessionSummary => EventKind::SessionSummary,
    };
    let mut opts = SendOptions::new(args.url.clone(), event);
    opts.auth_header = args.auth_header;
    opts.from = args.from;
    opts.to = args.to;
    opts.dtmf = args.dtmf;
    opts.client_action_id = args.client_action_id;
    opts.status = args.status;
    opts.payload_style = args.payload_style.into();
    opts.timeout = Duration::from_millis(args.timeout.max(1));
    let result = runtime().block_on(send(&opts));
    match result {
        Ok(r) => {
            print!("{}", r.render(&args.url, args.show_numbers));
            if r.ok() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => {
            eprintln!("callflow: {e}");
            ExitCode::from(2)
        }
    }
}

/// Runs one of the simulator's commands; the exit status is the command's.
pub fn run(command: Command) -> ExitCode {
    match command {
        Command::Play(a) => cmd_play(a),
        Command::Lint(a) => cmd_lint(a),
        Command::Send(a) => cmd_send(a),
    }
}
