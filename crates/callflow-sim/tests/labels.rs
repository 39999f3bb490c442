//! Readable transcripts: numbers with the same masked form are told apart by a label, stable
//! within a transcript, without being revealed; `show_numbers` prints them in clear.

mod common;

use callflow::Webhook;
use callflow_sim::{PlayOptions, Scenario, play, render_text};
use common::{Ivr, Server, load};

#[tokio::test]
async fn the_caller_and_a_desk_with_the_same_masked_form_get_different_labels() {
    let server = Server::webhook(Webhook::new(Ivr)).await;
    // The caller +6591110001 and the new-orders desk +6594440001 both mask to +65****0001.
    let scenario = Scenario::from_toml_str(
        "[call]\nfrom = \"+6591110001\"\nto = \"+6568880000\"\ndigits = [\"1\", \"1\"]\n",
    )
    .unwrap();
    let report = play(&scenario, &PlayOptions::new(&server.url)).await;
    let text = render_text(std::slice::from_ref(&report));
    for n in ["6591110001", "6594440001", "6568880000"] {
        assert!(!text.contains(n), "{n} in clear:\n{text}");
    }
    assert!(
        text.contains("inbound call from +65****0001 (#1) to +65****0000 (#2)"),
        "{text}"
    );
    assert!(text.contains("dials +65****0001 (#3)"), "{text}");
    // The caller keeps its label on every line that names it.
    let caller_lines = text
        .lines()
        .filter(|l| l.contains("+65****0001 (#1)"))
        .count();
    assert!(caller_lines >= 2, "{text}");
    assert!(!text.contains("+65****0001 (#2)"), "{text}");
}

#[tokio::test]
async fn show_numbers_prints_the_transcript_in_clear() {
    let server = Server::webhook(Webhook::new(Ivr)).await;
    let mut options = PlayOptions::new(&server.url);
    options.show_numbers = true;
    let report = play(&load("ivr/two-level-menu.toml"), &options).await;
    let text = render_text(std::slice::from_ref(&report));
    assert!(
        text.contains("inbound call from +6591110001 to +6568880000"),
        "{text}"
    );
    assert!(text.contains("+6594440002"), "{text}");
    assert!(!text.contains("(#1)"), "{text}");
}
