//! `callflow serve --virtual-numbers FILE.toml`: the file's numbers are rented, a bad file is
//! a clear error with exit status 2.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};

fn callflow() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_callflow"));
    cmd.env_remove("CALLFLOW_EMULATOR_API_KEYS")
        .env_remove("CALLFLOW_EMULATOR_VIRTUAL_NUMBERS");
    cmd
}

fn numbers_file(text: &str) -> tempfile::NamedTempFile {
    let mut f = tempfile::Builder::new().suffix(".toml").tempfile().unwrap();
    f.write_all(text.as_bytes()).unwrap();
    f
}

/// `GET path` over HTTP/1.1 on `addr`; the whole answer.
fn get(addr: &str, path: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer any\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    answer
}

#[test]
fn the_numbers_of_a_virtual_numbers_file_are_listed_by_the_voice_api() {
    let file = numbers_file("numbers = [\"+6568880000\", \"+6568880001\"]\n");
    let mut child = callflow()
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("CALLFLOW_EMULATOR_VIRTUAL_NUMBERS", file.path())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let addr = first.rsplit("http://").next().unwrap().trim().to_owned();
    let count = lines.next().and(lines.next()).unwrap().unwrap();
    let answer = get(&addr, "/api/v1/subaccounts/callflow_emulator/numbers");
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(count.contains("2 virtual number(s)"), "{count}");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(
        answer.contains("6568880000") && answer.contains("6568880001"),
        "{answer}"
    );
}

#[test]
fn a_bad_virtual_numbers_file_exits_2_naming_the_file_and_the_entry() {
    for (text, needle) in [
        (
            "numbers = [\"+6568880000\", \"12\"]",
            "numbers[1]: not a phone number",
        ),
        ("numbers = \"+6568880000\"", "invalid type"),
        ("numbers = []", "`numbers` is empty"),
    ] {
        let file = numbers_file(text);
        let out = callflow()
            .args(["serve", "--listen", "127.0.0.1:0", "--virtual-numbers"])
            .arg(file.path())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(
            stderr.contains(&file.path().display().to_string()),
            "{stderr}"
        );
        assert!(stderr.contains(needle), "{stderr}");
        assert!(!stderr.contains("6568880000"), "numbers masked: {stderr}");
    }
    let out = callflow()
        .args(["serve", "--virtual-numbers", "/nonexistent/vn.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read"));
}
