//! `voice-reminder demo`: the reminder story against an in-process `callflow serve`, one line
//! per case; exit status 0 only if every case recorded its expected outcome.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let command = std::env::args().nth(1);
    if command.as_deref() != Some("demo") {
        eprintln!("usage: voice-reminder demo");
        return ExitCode::from(2);
    }
    match voice_reminder::demo::run().await {
        Ok(results) => {
            let mut all = true;
            for r in &results {
                all &= r.passed();
                println!(
                    "{} the patient {}: recorded {:?} (expected {:?})",
                    if r.passed() { "ok  " } else { "FAIL" },
                    r.case.name,
                    r.recorded,
                    r.case.expected
                );
            }
            if all {
                println!("every reminder recorded its outcome");
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
