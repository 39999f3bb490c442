//! The robustness suite over real HTTP: every case of `integration_tests::robustness` (one
//! list, [`integration_tests::robustness_cases!`], tied to the rows of `robustness.md`) as
//! its own test for each adapter, against a server started with the adapter's
//! `serve_with_shutdown` helper.
//!
//! Run one adapter's: `cargo test -p integration-tests --test robustness axum::`.

use integration_tests::Framework;
use integration_tests::robustness;

async fn check(framework: Framework, name: &str) {
    let case = robustness::case(name).unwrap_or_else(|| panic!("no robustness case {name}"));
    if let Err(e) = case.run(framework).await {
        panic!("{e}");
    }
}

/// One test per case and framework, from the case list itself.
macro_rules! robustness_tests {
    ($($spec:literal => $topic:ident :: $name:ident),* $(,)?) => {
        mod axum {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::check(integration_tests::Framework::Axum, stringify!($name)).await;
                }
            )*
        }

        mod actix_web {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::check(integration_tests::Framework::ActixWeb, stringify!($name)).await;
                }
            )*
        }

        mod warp {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::check(integration_tests::Framework::Warp, stringify!($name)).await;
                }
            )*
        }
    };
}

integration_tests::robustness_cases!(robustness_tests);

/// Every row of the spec (1-32) has at least one case, and every case a name of its own (so
/// a test of its own for each adapter).
#[test]
fn every_row_has_a_case_and_every_case_a_test_for_each_adapter() {
    let cases = robustness::cases();
    let mut names: Vec<&str> = cases.iter().map(|c| c.name).collect();
    names.sort_unstable();
    let count = names.len();
    names.dedup();
    assert_eq!(names.len(), count, "two cases share a name");
    // Cases for later issues are appended at the end of the list, whatever their row.
    let mut rows: Vec<u8> = cases.iter().map(|c| c.spec).collect();
    rows.sort_unstable();
    rows.dedup();
    assert_eq!(rows, (1..=32).collect::<Vec<u8>>(), "rows without a case");
    assert_eq!(Framework::ALL.len(), 3);
}
