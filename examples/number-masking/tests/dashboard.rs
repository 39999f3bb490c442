//! The operator's dashboard in a real headless Chromium (Debian's `chromium` and
//! `chromium-driver`), driven over WebDriver with fantoccini, on every framework.
//!
//! Without `/usr/bin/chromium` and `/usr/bin/chromedriver` (or `CHROMIUM` and
//! `CHROMEDRIVER`) the test prints SKIPPED; with `CI=true` it fails instead.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{Value, json};

mod common;
use common::Server;

const VN: &str = "+6568880000";
const A: &str = "+6591110001";
const B: &str = "+6592220002";
const KEY: &str = "dash-key-0123456789abcdef";
const FRAMEWORKS: [&str; 3] = ["axum", "actix-web", "warp"];

/// A chromedriver process on a free loopback port, killed on drop.
struct Driver {
    child: Child,
    url: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn tool(env: &str, default: &str) -> Option<String> {
    let path = std::env::var(env).unwrap_or_else(|_| default.to_owned());
    std::path::Path::new(&path).is_file().then_some(path)
}

/// The browser and its driver, or why not (SKIPPED, or a failure under CI=true).
fn browser_tools() -> Option<(String, String)> {
    let chromium = tool("CHROMIUM", "/usr/bin/chromium");
    let driver = tool("CHROMEDRIVER", "/usr/bin/chromedriver");
    match (chromium, driver) {
        (Some(c), Some(d)) => Some((c, d)),
        _ => {
            let why = "chromium or chromedriver missing (apt-get install chromium chromium-driver)";
            if std::env::var("CI").as_deref() == Ok("true") {
                panic!("CI=true: the dashboard's browser test needs them: {why}");
            }
            eprintln!("SKIPPED: the dashboard's browser test: {why}");
            None
        }
    }
}

async fn start_driver(path: &str) -> Driver {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(path)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let driver = Driver {
        child,
        url: format!("http://127.0.0.1:{port}"),
    };
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(r) = http.get(format!("{}/status", driver.url)).send().await
            && r.status().is_success()
        {
            return driver;
        }
        assert!(Instant::now() < deadline, "chromedriver did not start");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn browser(driver: &Driver, chromium: &str) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": chromium,
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--no-proxy-server", "--window-size=1280,1000"],
        }),
    );
    let connector = hyper_util::client::legacy::connect::HttpConnector::new();
    ClientBuilder::new(connector)
        .capabilities(caps)
        .connect(&driver.url)
        .await
        .expect("a Chromium session")
}

/// Asserts that `html` holds none of the test's numbers in clear (with or without `+`).
fn assert_masked(html: &str, when: &str) {
    for n in [VN, A, B] {
        let digits = n.trim_start_matches('+');
        assert!(
            !html.contains(digits),
            "{when}: {n} in clear in the page source"
        );
    }
}

/// The element `what` once the page shows it (a click's navigation may still be running).
async fn shown(c: &Client, what: Locator<'_>, fw: &str) -> fantoccini::elements::Element {
    match c
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(what)
        .await
    {
        Ok(e) => e,
        Err(e) => panic!(
            "{fw}: not shown ({e}) at {}: {}",
            c.current_url().await.unwrap(),
            c.source().await.unwrap()
        ),
    }
}

/// Clicks the element `what` finds.
async fn click(c: &Client, what: Locator<'_>) {
    c.find(what).await.unwrap().click().await.unwrap();
}

/// Types `key` into the login form and submits it.
async fn log_in(c: &Client, key: &str) {
    c.find(Locator::Id("key"))
        .await
        .unwrap()
        .send_keys(key)
        .await
        .unwrap();
    click(c, Locator::Id("login")).await;
}

async fn story(c: &Client, fw: &str) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("nm.db");
    let server = Server::start_with_env(
        &["--db", db.to_str().unwrap()],
        fw,
        &[],
        &[("NUMBER_MASKING_API_KEYS", KEY)],
    );
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let created: Value = http
        .post(server.at("/v1/bindings"))
        .bearer_auth(KEY)
        .json(
            &json!({"virtualNumber": VN, "parties": [A, B], "ttl": "2h", "reference": "order-42"}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = created["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{fw}: {created}"))
        .to_owned();

    // Not logged in: the login form; a wrong key is refused.
    c.goto(&server.at("/")).await.unwrap();
    assert_eq!(c.current_url().await.unwrap().path(), "/login", "{fw}");
    log_in(c, "wrong-key-0123456789").await;
    shown(c, Locator::Id("login-error"), fw).await;

    // Log in: the binding made through the API is listed, masked.
    log_in(c, KEY).await;
    shown(c, Locator::Id("bindings"), fw).await;
    assert_eq!(c.current_url().await.unwrap().path(), "/", "{fw}");
    let row = format!("tr[data-binding=\"{id}\"]");
    let text = c
        .find(Locator::Css(&row))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains("+65****0000") && text.contains("+65****0001"),
        "{fw}: {text}"
    );
    assert!(text.contains("order-42"), "{fw}: {text}");
    c.find(Locator::Css("#chart svg"))
        .await
        .unwrap_or_else(|e| panic!("{fw}: the chart: {e}"));
    assert_masked(&c.source().await.unwrap(), fw);

    // The session cookie: HttpOnly, SameSite=Strict, never the key.
    let cookies = c.get_all_cookies().await.unwrap();
    let cookie = cookies
        .iter()
        .find(|k| k.name() == "nm_dashboard")
        .expect("the session cookie");
    assert_eq!(cookie.http_only(), Some(true), "{fw}");
    assert_eq!(
        cookie.same_site().map(|s| s.to_string()).as_deref(),
        Some("Strict"),
        "{fw}"
    );
    assert!(!cookie.value().contains(KEY), "{fw}");

    // Reveal shows the numbers; masking again hides them.
    click(c, Locator::Id("reveal")).await;
    shown(c, Locator::LinkText("Mask numbers"), fw).await;
    assert!(c.source().await.unwrap().contains(A), "{fw}: revealed");
    click(c, Locator::Id("reveal")).await;
    shown(c, Locator::LinkText("Reveal numbers"), fw).await;
    assert_masked(&c.source().await.unwrap(), fw);

    // Unbind from the page: gone from the page and from the API.
    let unbind = format!("{row} button.unbind");
    click(c, Locator::Css(&unbind)).await;
    let flash = shown(c, Locator::Id("flash"), fw)
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(flash, "Binding removed.", "{fw}");
    assert!(
        c.find_all(Locator::Css(&row)).await.unwrap().is_empty(),
        "{fw}: still listed"
    );
    let status = http
        .get(server.at(&format!("/v1/bindings/{id}")))
        .bearer_auth(KEY)
        .send()
        .await
        .unwrap()
        .status();
    assert_eq!(status, 404, "{fw}: the API still has it");
    assert_masked(&c.source().await.unwrap(), fw);

    // Log out: back to the login form, and the page needs a login again.
    click(c, Locator::Id("logout")).await;
    shown(c, Locator::Id("login"), fw).await;
    assert_eq!(c.current_url().await.unwrap().path(), "/login", "{fw}");
    c.goto(&server.at("/")).await.unwrap();
    assert_eq!(
        c.current_url().await.unwrap().path(),
        "/login",
        "{fw}: logged out"
    );
    server.terminate();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_operator_logs_in_sees_a_binding_masked_and_unbinds_it_in_chromium() {
    let Some((chromium, driver_path)) = browser_tools() else {
        return;
    };
    let driver = start_driver(&driver_path).await;
    let c = browser(&driver, &chromium).await;
    for fw in FRAMEWORKS {
        story(&c, fw).await;
    }
    c.close().await.unwrap();
    drop(driver);
}
