//! The README's shell commands run as pasted: every fenced `sh` block of README.md is marked,
//! on the line before it, either `<!-- readme-test: run -->` or `<!-- readme-test: skip:
//! WHY -->` (e.g. it calls 8x8 itself). The runnable blocks are executed in order, by bash
//! with `-euo pipefail`, in one temporary directory (with the repository's `crates`, `docs`
//! and `examples` linked into it), against servers on free ports:
//!
//! - every `127.0.0.1:3NNN` / `0.0.0.0:3NNN` in a block becomes `127.0.0.1:<a free port>`
//!   (the same one within the block), and `LISTEN` is set to the one for 3000 (the examples'
//!   default address);
//! - `cargo run -p PKG [--] ARGS` runs the workspace binary that `cargo test --workspace`
//!   has just built (`callflow-cli` → `callflow`), and so does `callflow` on `PATH`;
//! - whatever a block starts in the background is stopped when it ends.
//!
//! Needs bash and curl, and the binaries of `number-masking`, `callflow-cli` and `ivr` (built
//! by `cargo test --workspace`): without them it prints SKIPPED, and fails with `CI=true`.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// What a block may take at most, servers started and stopped included.
const BLOCK_TIMEOUT: Duration = Duration::from_secs(120);

/// The binaries the README's commands run.
const BINARIES: [&str; 3] = ["number-masking", "callflow", "ivr"];

#[derive(Debug)]
enum Mark {
    Run,
    Skip(String),
}

#[derive(Debug)]
struct Block {
    line: usize,
    mark: Option<Mark>,
    text: String,
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// The fenced `sh` blocks of `markdown`, each with the marker on the line before it.
fn sh_blocks(markdown: &str) -> Vec<Block> {
    let lines: Vec<&str> = markdown.lines().collect();
    let mut blocks = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if lines[i].trim() == "```sh" {
            let mark = (0..i)
                .rev()
                .map(|j| lines[j].trim())
                .find(|l| !l.is_empty())
                .and_then(parse_mark);
            let start = i + 1;
            let mut end = start;
            while end < lines.len() && lines[end].trim() != "```" {
                end += 1;
            }
            blocks.push(Block {
                line: i + 1,
                mark,
                text: lines[start..end].join("\n"),
            });
            i = end;
        }
        i += 1;
    }
    blocks
}

fn parse_mark(line: &str) -> Option<Mark> {
    let inner = line
        .strip_prefix("<!-- readme-test:")?
        .strip_suffix("-->")?
        .trim();
    if inner == "run" {
        return Some(Mark::Run);
    }
    let why = inner.strip_prefix("skip:")?.trim();
    (!why.is_empty()).then(|| Mark::Skip(why.to_owned()))
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// `text` with every `127.0.0.1:3NNN` and `0.0.0.0:3NNN` on a free loopback port, and the
/// ports chosen (README port → free port).
fn on_free_ports(text: &str) -> (String, BTreeMap<String, u16>) {
    let mut ports = BTreeMap::new();
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some((at, host)) = ["127.0.0.1:", "0.0.0.0:"]
        .iter()
        .filter_map(|h| rest.find(h).map(|at| (at, *h)))
        .min()
    {
        let after = &rest[at + host.len()..];
        let digits: String = after.chars().take_while(char::is_ascii_digit).collect();
        out.push_str(&rest[..at]);
        if digits.len() == 4 && digits.starts_with('3') {
            let port = *ports.entry(digits.clone()).or_insert_with(free_port);
            let _ = write!(out, "127.0.0.1:{port}");
            rest = &after[digits.len()..];
        } else {
            out.push_str(host);
            rest = after;
        }
    }
    out.push_str(rest);
    (out, ports)
}

const CARGO_SHIM: &str = r#"#!/bin/sh
# `cargo run -p PKG [--] ARGS` as the README writes it, on the binaries already built.
[ "$1" = run ] || { echo "readme test: only 'cargo run' is supported, not: cargo $*" >&2; exit 97; }
shift
pkg=
while [ $# -gt 0 ]; do
  case "$1" in
    -p|--package) pkg=$2; shift 2 ;;
    -q|--quiet) shift ;;
    --) shift; break ;;
    *) break ;;
  esac
done
case "$pkg" in callflow-cli) bin=callflow ;; *) bin=$pkg ;; esac
exec "$README_TEST_BIN/$bin" "$@"
"#;

/// The temporary directory the blocks run in: the repository's folders linked in, and the
/// `cargo` and `callflow` shims on `PATH`.
fn workdir(bin_dir: &Path) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("callflow-readme-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join(".shims")).unwrap();
    for entry in ["crates", "docs", "examples"] {
        std::os::unix::fs::symlink(repo_root().join(entry), dir.join(entry)).unwrap();
    }
    let cargo = dir.join(".shims/cargo");
    std::fs::write(&cargo, CARGO_SHIM).unwrap();
    std::fs::set_permissions(&cargo, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::os::unix::fs::symlink(bin_dir.join("callflow"), dir.join(".shims/callflow")).unwrap();
    dir
}

struct Ran {
    status: Option<i32>,
    timed_out: bool,
    output: String,
}

fn run_block(dir: &Path, bin_dir: &Path, text: &str) -> Ran {
    let (text, ports) = on_free_ports(text);
    let listen = ports.get("3000").copied().unwrap_or_else(free_port);
    let script = format!(
        "set -euo pipefail\ntrap 'kill $(jobs -p) 2>/dev/null || true; wait 2>/dev/null || true' EXIT\n{text}\n"
    );
    let path = std::env::var("PATH").unwrap_or_default();
    let mut child = Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(dir)
        .env("PATH", format!("{}:{path}", dir.join(".shims").display()))
        .env("README_TEST_BIN", bin_dir)
        .env("LISTEN", format!("127.0.0.1:{listen}"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .expect("bash runs");
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let started = Instant::now();
    let (status, timed_out) = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break (status.code(), false);
        }
        if started.elapsed() > BLOCK_TIMEOUT {
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{}", child.id())])
                .status();
            let _ = child.wait();
            break (None, true);
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let output = format!(
        "--- script ---\n{script}--- stdout ---\n{}--- stderr ---\n{}",
        out.join().unwrap_or_default(),
        err.join().unwrap_or_default()
    );
    Ran {
        status,
        timed_out,
        output,
    }
}

/// Prints SKIPPED and returns, or panics with `CI=true`.
fn skip(why: &str) {
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("README commands: {why} (CI=true: this must not be skipped)");
    }
    eprintln!("SKIPPED: README commands not run: {why}");
}

#[test]
fn every_sh_block_of_the_readme_is_marked_run_or_skip_with_a_reason() {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    let blocks = sh_blocks(&readme);
    assert!(blocks.len() >= 5, "the README's sh blocks were not found");
    let unmarked: Vec<usize> = blocks
        .iter()
        .filter(|b| b.mark.is_none())
        .map(|b| b.line)
        .collect();
    assert!(
        unmarked.is_empty(),
        "README.md: sh blocks at lines {unmarked:?} need `<!-- readme-test: run -->` or \
         `<!-- readme-test: skip: WHY -->` on the line before"
    );
    assert!(
        blocks.iter().any(|b| matches!(b.mark, Some(Mark::Run))),
        "no runnable block"
    );
}

#[test]
fn the_ports_of_a_block_move_to_free_ports_consistently() {
    let (text, ports) = on_free_ports(
        "serve --listen 0.0.0.0:3000 &\ncurl http://127.0.0.1:3000/x http://127.0.0.1:3001/ 127.0.0.1:80",
    );
    let p0 = ports["3000"];
    let p1 = ports["3001"];
    assert_ne!(p0, p1);
    assert_eq!(
        text,
        format!(
            "serve --listen 127.0.0.1:{p0} &\ncurl http://127.0.0.1:{p0}/x http://127.0.0.1:{p1}/ 127.0.0.1:80"
        )
    );
}

#[test]
fn the_readme_commands_marked_runnable_run_as_pasted() {
    let bin_dir = std::env::current_exe()
        .ok()
        .and_then(|exe| Some(exe.parent()?.parent()?.to_path_buf()))
        .expect("the test binary lives in target/<profile>/deps");
    let missing: Vec<&str> = BINARIES
        .iter()
        .copied()
        .filter(|b| !bin_dir.join(b).is_file())
        .collect();
    if !missing.is_empty() {
        return skip(&format!(
            "binaries {missing:?} not built in {} (`cargo test --workspace` builds them)",
            bin_dir.display()
        ));
    }
    for tool in ["bash", "curl"] {
        if Command::new(tool).arg("--version").output().is_err() {
            return skip(&format!("{tool} is not installed"));
        }
    }
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    let dir = workdir(&bin_dir);
    let mut failures = Vec::new();
    let mut ran = 0;
    for block in sh_blocks(&readme) {
        if let Some(Mark::Skip(why)) = &block.mark {
            eprintln!("README.md block at line {}: not run: {why}", block.line);
            continue;
        }
        ran += 1;
        let result = run_block(&dir, &bin_dir, &block.text);
        eprintln!(
            "README.md block at line {}: exit status {:?}",
            block.line, result.status
        );
        if result.timed_out || result.status != Some(0) {
            failures.push(format!(
                "README.md block at line {}: {}\n{}",
                block.line,
                if result.timed_out {
                    format!("timed out after {BLOCK_TIMEOUT:?}")
                } else {
                    format!("exit status {:?}", result.status)
                },
                result.output
            ));
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    assert!(ran > 0, "no runnable block");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
