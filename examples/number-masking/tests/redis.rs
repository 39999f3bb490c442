//! `number-masking --store …` as a user runs it: real processes, a real `redis-server`.
//!
//! - `--store sqlite:FILE` is `--db FILE`; bad store URLs are usage errors.
//! - The CLI on the shared test Redis (`CALLFLOW_TEST_REDIS_URL`, set by `bash .ci/run`).
//! - Two `serve` instances (axum and actix-web) on one private, persistent `redis-server`
//!   that the test kills and restarts.

use std::sync::Arc;
use std::time::{Duration, Instant};

use callflow::CallFlow;
use callflow::callflow::{Action, Mode};
use callflow::testing;
use callflow_redis::testing::{RedisServer, Scratch, redis_server_available};

const VN: &str = "+6568880000";
const A: &str = "+6591110001";
const B: &str = "+6592220002";

mod common;
use common::{Server, cli, ok};

fn bind(store: &[&str], vn: &str, a: &str, b: &str) -> String {
    common::bind(store, vn, a, b, &[])
}

fn http() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

async fn post(client: &reqwest::Client, url: &str, body: String) -> (u16, String) {
    let r = client
        .post(url)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("POST");
    let status = r.status().as_u16();
    (status, r.text().await.unwrap())
}

fn bridged_to(body: &str) -> Option<String> {
    match CallFlow::parse(body.as_bytes(), Mode::Reply)
        .ok()?
        .actions()
    {
        [Action::MakeCall(m)] if m.source == VN => Some(m.destination.as_str().to_owned()),
        _ => None,
    }
}

/// The number of `SMEMBERS` Redis ran since the last `CONFIG RESETSTAT`: the masking handler's
/// binding lookup is the only command that uses it, once per handler run.
fn smembers_calls(conn: &mut redis::Connection) -> u64 {
    let info: String = redis::cmd("INFO").arg("commandstats").query(conn).unwrap();
    info.lines()
        .find_map(|l| l.strip_prefix("cmdstat_smembers:calls="))
        .and_then(|r| r.split(',').next())
        .map_or(0, |n| n.parse().unwrap())
}

#[test]
fn store_sqlite_is_the_same_as_db_and_bad_store_urls_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("nm.db");
    let db = db.to_str().unwrap();
    let id = bind(&["--db", db], VN, A, B);
    let sqlite = format!("sqlite:{db}");
    let listed = ok(cli(&["--store", &sqlite], &["bindings"]));
    assert!(listed.contains(&id), "{listed}");
    assert!(ok(cli(&["--store", &sqlite], &["unbind", &id])).contains(&id));
    assert_eq!(ok(cli(&["--db", db], &["bindings"])).trim(), "no bindings");

    for (args, expect) in [
        (
            vec!["--store", "postgres://db/x"],
            "expected sqlite:FILE or redis://HOST:PORT/DB",
        ),
        (vec!["--store", "sqlite:"], "needs a file"),
        (vec!["--store", "redis://host:port/0"], "invalid Redis URL"),
        (
            vec!["--store", "rediss://host/0"],
            "expected sqlite:FILE or redis://",
        ),
        (
            vec!["--db", db, "--store", "sqlite:x.db"],
            "cannot be used with",
        ),
    ] {
        let out = cli(&args, &["bindings"]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(expect), "{args:?}: {err}");
    }
    // Redis down: a clear runtime error naming the server, no phone number.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("redis://127.0.0.1:{port}/0");
    let out = cli(
        &["--store", &url],
        &["bind", "--virtual-number", VN, "--party", A, "--party", B],
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains(&format!("redis at 127.0.0.1:{port}/0")) && err.contains("refused"),
        "{err}"
    );
    assert!(!err.contains("91110001"), "{err}");
}

#[test]
fn cli_on_redis_binds_lists_unbinds_and_refuses_ambiguity() {
    let Some(scratch) = Scratch::new("cli_on_redis") else {
        return;
    };
    let store = ["--store", &scratch.url, "--redis-prefix", &scratch.prefix];
    let id = bind(&store, VN, A, B);
    let listed = ok(cli(&store, &["bindings"]));
    assert!(
        listed.contains(&id) && listed.contains("+65****0001"),
        "{listed}"
    );
    assert!(!listed.contains("6591110001"), "{listed}");
    assert!(ok(cli(&store, &["bindings", "--reveal"])).contains("+6591110001"));

    let out = cli(
        &store,
        &[
            "bind",
            "--virtual-number",
            VN,
            "--party",
            A,
            "--party",
            "+6593330003",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("ambiguous") && err.contains(&id), "{err}");
    assert!(!err.contains("6591110001"), "{err}");

    assert_eq!(ok(cli(&store, &["calls"])).trim(), "no calls recorded");
    assert!(ok(cli(&store, &["unbind", &id])).contains(&id));
    let out = cli(&store, &["unbind", &id]);
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(ok(cli(&store, &["bindings"])).trim(), "no bindings");
    // Another prefix is another data set.
    let other = [
        "--store",
        &scratch.url,
        "--redis-prefix",
        "cftest:elsewhere:",
    ];
    assert!(!ok(cli(&other, &["bindings"])).contains(&id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_serve_instances_share_one_redis_answer_duplicates_once_and_survive_a_redis_restart() {
    if !redis_server_available("two_serve_instances_share_one_redis") {
        return;
    }
    // A private server with every write on disk before it is acknowledged (AOF, fsync
    // always), so the test can kill it like a crash and start it again on the same port.
    let mut redis_server = RedisServer::start_persistent().unwrap();
    let url = redis_server.url();
    let store = ["--store", url.as_str()];
    let mut stats = redis::Client::open(url.as_str())
        .unwrap()
        .get_connection()
        .unwrap();

    let first = bind(&store, VN, A, B);
    let one = Server::start(&store, "axum", &[]);
    let two = Server::start(&store, "actix-web", &[]);
    let urls = [one.url(), two.url()];
    let client = http();

    // Both instances route the binding made by the CLI, both ways.
    for url in &urls {
        let (s, body) = post(
            &client,
            url,
            testing::call_action().from(A).to(VN).build_json(),
        )
        .await;
        assert_eq!((s, bridged_to(&body)), (200, Some(B.into())), "{url}");
        let (_, body) = post(
            &client,
            url,
            testing::call_action().from(B).to(VN).build_json(),
        )
        .await;
        assert_eq!(bridged_to(&body), Some(A.into()), "{url}");
    }
    // A binding made while they run is used by both at once.
    let later = bind(&store, VN, "+6594440004", "+6595550005");
    for url in &urls {
        let (_, body) = post(
            &client,
            url,
            testing::call_action()
                .from("+6595550005")
                .to(VN)
                .build_json(),
        )
        .await;
        assert_eq!(bridged_to(&body), Some("+6594440004".into()), "{url}");
    }

    // 100 simultaneous deliveries of one CALL_ACTION, 50 to each instance.
    let delivery = testing::call_action().from(A).to(VN).build_json();
    let _: () = redis::cmd("CONFIG")
        .arg("RESETSTAT")
        .query(&mut stats)
        .unwrap();
    let barrier = Arc::new(tokio::sync::Barrier::new(100));
    let mut tasks = Vec::new();
    for i in 0..100 {
        let (client, url, body, barrier) = (
            client.clone(),
            urls[i % 2].clone(),
            delivery.clone(),
            barrier.clone(),
        );
        tasks.push(tokio::spawn(async move {
            barrier.wait().await;
            (i % 2, post(&client, &url, body).await)
        }));
    }
    let mut per_instance = [0; 2];
    let mut replies = Vec::new();
    for t in tasks {
        let (instance, reply) = t.await.unwrap();
        per_instance[instance] += 1;
        replies.push(reply);
    }
    let lookups = smembers_calls(&mut stats);
    eprintln!(
        "100 duplicates: {} via axum, {} via actix-web; binding lookups (handler runs): {lookups}",
        per_instance[0], per_instance[1]
    );
    assert_eq!(per_instance, [50, 50]);
    assert!(
        replies.iter().all(|r| r == &replies[0]),
        "identical replies"
    );
    assert_eq!(
        (replies[0].0, bridged_to(&replies[0].1)),
        (200, Some(B.into()))
    );
    assert_eq!(lookups, 1, "the handler ran once for 100 deliveries");

    // The outcome, through one instance, is seen by the CLI.
    let session = testing::fresh_id();
    let (s, _) = post(
        &client,
        &urls[0],
        testing::session_summary().session_id(&session).build_json(),
    )
    .await;
    assert_eq!(s, 200);
    let calls = ok(cli(&store, &["calls"]));
    assert!(
        calls.contains(&session) && calls.contains("COMPLETED"),
        "{calls}"
    );

    // Redis crashes: calls get the fallback callflow (never dead air), other events 503.
    redis_server.kill();
    let fallback = callflow::default_fallback().to_json();
    for url in &urls {
        let (s, body) = post(
            &client,
            url,
            testing::call_action().from(A).to(VN).build_json(),
        )
        .await;
        assert_eq!((s, body.as_str()), (200, fallback.as_str()), "{url}");
        let (s, body) = post(&client, url, testing::session_summary().build_json()).await;
        assert_eq!(s, 503, "{url}: {body}");
        assert!(body.contains("store_unavailable"), "{body}");
    }

    // Redis is back on the same port: both instances recover by themselves.
    redis_server.restart().unwrap();
    for url in &urls {
        let started = Instant::now();
        loop {
            let (s, body) = post(
                &client,
                url,
                testing::call_action().from(A).to(VN).build_json(),
            )
            .await;
            if s == 200 && bridged_to(&body).as_deref() == Some(B) {
                eprintln!("{url} recovered {:?} after the restart", started.elapsed());
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(15),
                "{url} did not recover: {s} {body}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    // No binding was lost, nor the answer the duplicates got.
    let listed = ok(cli(&store, &["bindings"]));
    assert!(
        listed.contains(&first) && listed.contains(&later),
        "{listed}"
    );
    assert_eq!(listed.lines().count(), 1 + 2, "{listed}");
    let (_, again) = post(&client, &urls[1], delivery).await;
    assert_eq!(again, replies[0].1);

    one.terminate();
    two.terminate();
}
