//! `HandlerError`: `?` from std, boxed and anyhow errors; own message in `Display`, the
//! chain through `source()`.

use std::error::Error;
use std::fmt;

use callflow::{HandlerError, HandlerErrorKind};

#[derive(Debug)]
struct Outer(std::io::Error);

impl fmt::Display for Outer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("cannot save the binding")
    }
}

impl Error for Outer {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.0)
    }
}

fn std_error() -> Result<(), HandlerError> {
    Err(Outer(std::io::Error::other("disk full")))?
}

fn boxed_error() -> Result<(), HandlerError> {
    let e: Box<dyn Error + Send + Sync> = Box::new(Outer(std::io::Error::other("disk full")));
    Err(e)?
}

fn anyhow_error() -> Result<(), HandlerError> {
    let e =
        anyhow::Error::new(std::io::Error::other("disk full")).context("cannot save the binding");
    Err(e)?
}

#[test]
fn std_boxed_and_anyhow_errors_convert_with_question_mark_and_keep_their_chain() {
    for e in [std_error(), boxed_error(), anyhow_error()] {
        let e = e.unwrap_err();
        assert_eq!(e.kind(), HandlerErrorKind::Failed);
        assert_eq!(e.to_string(), "cannot save the binding");
        assert_eq!(e.source().expect("a cause").to_string(), "disk full");
        assert_eq!(format!("{e:#}"), "cannot save the binding: disk full");
        let chain: Vec<String> = e.chain().map(|c| c.to_string()).collect();
        assert_eq!(chain, ["cannot save the binding", "disk full"]);
    }
}

#[test]
fn messages_and_unavailability_keep_their_kind() {
    let e = HandlerError::msg("bad data");
    assert_eq!(e.kind(), HandlerErrorKind::Failed);
    assert!(e.source().is_none());
    let e = HandlerError::unavailable(std::io::Error::other("database is locked"));
    assert_eq!(e.kind(), HandlerErrorKind::Unavailable);
    assert!(e.is_unavailable());
    assert_eq!(e.to_string(), "database is locked");
}
