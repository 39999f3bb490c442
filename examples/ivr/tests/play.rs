//! The example served for real (127.0.0.1, port 0) and played by `callflow play`'s engine
//! (`callflow_sim`): its own scenarios and the simulator's IVR scenarios pass, and `GET /stats`
//! counts the sessions they ended.

use std::net::SocketAddr;
use std::path::Path;

use callflow_axum::ServeConfig;
use callflow_sim::{PlayOptions, Scenario, play_all, render_text};
use ivr::{AppState, app};

struct Server {
    addr: SocketAddr,
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
}

async fn serve() -> Server {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let stopped = async {
            let _ = stopped.await;
        };
        callflow_axum::serve_with_shutdown(
            listener,
            app(AppState::default()),
            ServeConfig::default(),
            stopped,
        )
        .await
        .unwrap();
    });
    Server { addr, stop, task }
}

impl Server {
    async fn stop(self) {
        let _ = self.stop.send(());
        self.task.await.unwrap();
    }
}

fn scenarios() -> Vec<Scenario> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut all = Scenario::load_dir(root.join("scenarios")).unwrap();
    assert_eq!(all.len(), 4, "answered, busy, invalid digit, no input");
    all.extend(Scenario::load_dir(root.join("../../crates/callflow-sim/scenarios/ivr")).unwrap());
    all
}

async fn stats(addr: SocketAddr) -> serde_json::Value {
    let body = reqwest::get(format!("http://{addr}/stats"))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    serde_json::from_slice(&body).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn callflow_play_passes_every_ivr_scenario_and_stats_count_them() {
    let server = serve().await;
    let url = format!("http://{}{}", server.addr, ivr::WEBHOOK_PATH);
    let scenarios = scenarios();
    let reports = play_all(&scenarios, &PlayOptions::new(&url)).await;
    assert!(
        reports.iter().all(|r| r.passed()),
        "{}",
        render_text(&reports)
    );
    let first = stats(server.addr).await;
    assert_eq!(first["sessions"], scenarios.len());
    assert_eq!(first["by_status"]["BUSY"], 1);
    assert_eq!(first["by_status"]["COMPLETED"], scenarios.len() - 1);

    // Every event delivered twice: every reply still good, every session counted once.
    let mut options = PlayOptions::new(&url);
    options.duplicate = true;
    let reports = play_all(&scenarios, &options).await;
    assert!(
        reports.iter().all(|r| r.passed()),
        "{}",
        render_text(&reports)
    );
    let second = stats(server.addr).await;
    assert_eq!(second["sessions"], 2 * scenarios.len());
    assert_eq!(second["by_status"]["BUSY"], 2);
    server.stop().await;
}
