//! JSON fixtures for every example in 8x8's documentation (see `tests/fixtures/README.md`
//! in this crate for the source of each and what was fixed).

/// One fixture file.
#[derive(Clone, Copy, Debug)]
pub struct Fixture {
    /// File name without `.json`.
    pub name: &'static str,
    /// The file's text.
    pub json: &'static str,
}

macro_rules! fixtures {
    ($($name:literal),* $(,)?) => {
        /// Every fixture, in name order.
        pub const ALL: &[Fixture] = &[
            $(Fixture { name: $name, json: include_str!(concat!("../../tests/fixtures/", $name, ".json")) },)*
        ];
    };
}

fixtures!(
    "cf_envelope",
    "cf_ivr_menu",
    "cf_nm_bridge",
    "cf_say_hangup",
    "cf_send_callflow",
    "malformed_vca_doc_sample",
    "unknown_event",
    "vca_3p_eventdata_string",
    "vca_ivr_dtmf",
    "vca_ivr_dtmf_asr",
    "vca_ivr_dtmf_null",
    "vca_ivr_legacy_dtmf_received",
    "vca_legacy_numeric_dtmf",
    "vca_nm_inbound",
    "vcs",
    "vcs_old_placeholders",
    "vcs_seed",
    "vnu",
    "vru",
    "vss_cancelled",
    "vss_ivr_busy",
    "vss_nm_failure",
    "vss_nm_success",
    "vss_spelling_variants",
    "vss_vm_capital_calla",
);

/// The fixture called `name` (without `.json`).
///
/// # Panics
///
/// If there is no such fixture (a typo in a test).
pub fn get(name: &str) -> &'static str {
    ALL.iter()
        .find(|f| f.name == name)
        .unwrap_or_else(|| panic!("no fixture named {name:?}"))
        .json
}

/// Inbound event fixtures that are valid JSON (names starting `vca_`, `vcs`, `vss_`, `vru`,
/// `vnu`, `unknown_`).
pub fn events() -> impl Iterator<Item = &'static Fixture> {
    ALL.iter()
        .filter(|f| !f.name.starts_with("cf_") && !f.name.starts_with("malformed"))
}

/// Callflow fixtures (names starting `cf_`).
pub fn callflows() -> impl Iterator<Item = &'static Fixture> {
    ALL.iter().filter(|f| f.name.starts_with("cf_"))
}
