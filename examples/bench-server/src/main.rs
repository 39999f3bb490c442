//! `bench-server`: the server side of `scripts/bench-http.sh`, the loopback HTTP benchmark
//! published in `BENCHMARKS.md`.
//!
//! One process serves one framework on one worker thread, with every route the benchmark
//! compares side by side, so that A and B share the process, the allocator and warm caches:
//!
//! | route | what it serves |
//! |---|---|
//! | `/adapter` | the framework's callflow adapter over the real core, the no-op handler, `Webhook::builder(..).no_idempotency()` |
//! | `/adapter-nest` | axum only: the same adapter nested with `.nest(path, callflow_axum::router(..))` instead of routed with `.route(path, callflow_axum::route(..))` as the README shows |
//! | `/adapter-idem` | the same with the default settings (in-memory duplicate detection on) |
//! | `/bare` | a hand-written route in the same framework: read the body bytes, `Event::from_slice`, the same no-op handler through `CallHandler`, serialize the callflow, `200 application/json` |
//! | `/const` | the same framework, same body extractor, the constant reply of the floor: the framework's own cost, no JSON work |
//! | `/masking` | with `--handler masking-sqlite` or `masking-redis` only: the adapter with `MaskingHandler` over that store (duplicate detection off), the fixture's caller bound to a B party; over Redis the store is wrapped in `CachedStore` (1 s bound) unless `--cache-max-age 0` |
//!
//! `--framework hyper-floor` is the floor instead: a hyper 1 HTTP/1 server that reads the
//! body and answers every path with the no-op handler's reply bytes, constant.
//!
//! ```text
//! bench-server --framework axum|actix-web|warp|hyper-floor --listen 127.0.0.1:0 \
//!     [--handler noop|masking-sqlite|masking-redis] [--db FILE] [--redis URL] \
//!     [--redis-prefix PREFIX] [--cache-max-age MS]
//! ```
//!
//! The first line on stdout is the bound address (port 0 picks a free one); it is printed
//! once the server is ready. Stop it with SIGTERM or SIGINT.

mod frameworks;

use callflow::MakeCall;
use std::error::Error;
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use bytes::Bytes;
use callflow::event::CallAction;
use callflow::reexports::http::{Extensions, HeaderMap};
use callflow::{CallFlow, CallHandler, Context, Event, HandlerError, Webhook};
use callflow_masking::{
    BindingStore, CachedStore, Lookup, MaskingHandler, NewBinding, SqliteStore, normalize_number,
};
use callflow_redis::{DEFAULT_TIMEOUT, Redis, RedisBindingStore};
use clap::{Parser, ValueEnum};

/// The virtual number of `vca_nm_inbound.json` (its `destination`).
const VIRTUAL_NUMBER: &str = "+65987654321";
/// The caller of `vca_nm_inbound.json` (its `source`).
const CALLER: &str = "+65123456789";
/// The party the caller is bridged to.
const B_PARTY: &str = "+6592220002";

type BoxError = Box<dyn Error + Send + Sync>;

/// The server side of the loopback HTTP benchmark (see the crate docs).
#[derive(Parser, Debug)]
#[command(name = "bench-server", about)]
struct Args {
    /// The web framework to serve with.
    #[arg(long, value_enum)]
    framework: Framework,
    /// Where to listen; port 0 picks a free port (printed as the first stdout line).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// Also serve `/masking` with this handler (besides the no-op `/adapter` and `/bare`).
    #[arg(long, value_enum, default_value = "noop")]
    handler: HandlerKind,
    /// The SQLite file for `masking-sqlite` (default: one in a temporary directory).
    #[arg(long)]
    db: Option<PathBuf>,
    /// The Redis URL for `masking-redis`, e.g. `redis://127.0.0.1:6379/0`.
    #[arg(long)]
    redis: Option<String>,
    /// The key prefix for `masking-redis` (default: one of its own per process, so runs
    /// never see each other's bindings; give one to serve bindings loaded beforehand).
    #[arg(long)]
    redis_prefix: Option<String>,
    /// The masking store's local cache of lookups (`CachedStore`): the longest time, in
    /// milliseconds, a binding removed elsewhere may still be served; 0 turns it off.
    /// Default: 1000 over Redis, 0 (off) over SQLite.
    #[arg(long, value_name = "MS")]
    cache_max_age: Option<u64>,
}

/// The bound of `CachedStore` over Redis when `--cache-max-age` is not given.
const DEFAULT_REDIS_CACHE_MS: u64 = 1000;

/// Bindings `CachedStore` holds at most.
const CACHE_ENTRIES: usize = 100_000;

/// `store` behind a `CachedStore` of `max_age_ms` (0: no cache).
fn masking_webhook<S: BindingStore>(store: S, max_age_ms: u64) -> Webhook {
    if max_age_ms == 0 {
        return Webhook::builder(MaskingHandler::new(store))
            .no_idempotency()
            .build();
    }
    let store = CachedStore::new(
        store,
        std::time::Duration::from_millis(max_age_ms),
        CACHE_ENTRIES,
    );
    Webhook::builder(MaskingHandler::new(store))
        .no_idempotency()
        .build()
}

/// Which server to run.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum Framework {
    Axum,
    ActixWeb,
    Warp,
    /// hyper 1, HTTP/1, a constant reply: what HTTP alone costs.
    HyperFloor,
}

/// What `/masking` serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum HandlerKind {
    /// No `/masking` route.
    Noop,
    /// `MaskingHandler` over `SqliteStore`.
    MaskingSqlite,
    /// `MaskingHandler` over `RedisBindingStore`.
    MaskingRedis,
}

/// The no-op handler: every `CALL_ACTION` gets the same bridge to B, byte for byte what
/// `MaskingHandler` answers the fixture, without the store lookup.
pub(crate) struct Noop(CallFlow);

impl Noop {
    fn new() -> Self {
        Self(
            CallFlow::builder()
                .make_call(MakeCall::to(B_PARTY).caller_id(VIRTUAL_NUMBER))
                .build(),
        )
    }
}

impl CallHandler for Noop {
    async fn on_call_action(
        &self,
        _event: CallAction,
        _cx: &Context,
    ) -> Result<CallFlow, HandlerError> {
        Ok(self.0.clone())
    }
}

/// Everything the routes of one server share.
#[derive(Clone)]
pub(crate) struct App {
    /// `/adapter`: the no-op handler, duplicate detection off.
    pub(crate) adapter: Webhook,
    /// `/adapter-idem`: the no-op handler with the default config.
    pub(crate) adapter_idem: Webhook,
    /// `/masking`, when a masking handler was asked for.
    pub(crate) masking: Option<Webhook>,
    /// The handler `/bare` calls (the same no-op handler, through the trait).
    pub(crate) noop: Arc<Noop>,
    /// The floor's constant reply: the no-op handler's callflow, serialized once.
    pub(crate) floor_reply: Bytes,
}

/// The framework-independent half of `/bare`: parse the body into the same types, call the
/// handler through the trait, answer with its callflow (a `CALL_ACTION`) or the same
/// acknowledgement as the core (other events), or 400 with a JSON error (a body that does
/// not parse). Status and body.
pub(crate) async fn bare_reply(handler: &impl CallHandler, body: &[u8]) -> (u16, Bytes) {
    const ACK: &[u8] = br#"{"received":true}"#;
    let event = match Event::from_slice(body) {
        Ok(event) => event,
        Err(e) => {
            let error =
                serde_json::json!({"error": {"code": "invalid_json", "message": e.to_string()}});
            return (
                400,
                Bytes::from(serde_json::to_vec(&error).unwrap_or_default()),
            );
        }
    };
    let cx = Context::new(HeaderMap::new(), None, String::new(), Extensions::new());
    let handled = match event {
        Event::CallAction(event) => {
            return match handler.on_call_action(event, &cx).await {
                Ok(flow) => (200, flow.to_bytes()),
                Err(_) => (500, Bytes::new()),
            };
        }
        Event::CallStatus(e) => handler.on_call_status(e, &cx).await,
        Event::SessionSummary(e) => handler.on_session_summary(e, &cx).await,
        Event::RecordingStatus(e) => handler.on_recording_status(e, &cx).await,
        Event::VirtualNumberUpdate(e) => handler.on_virtual_number_update(e, &cx).await,
        _ => Ok(()),
    };
    match handled {
        Ok(()) => (200, Bytes::from_static(ACK)),
        Err(_) => (500, Bytes::new()),
    }
}

impl App {
    async fn new(args: &Args) -> Result<Self, BoxError> {
        let noop = Noop::new();
        let floor_reply = noop.0.to_bytes();
        let noop = Arc::new(noop);
        Ok(Self {
            adapter: Webhook::builder(noop.clone()).no_idempotency().build(),
            adapter_idem: Webhook::new(noop.clone()),
            masking: masking(args).await?,
            noop,
            floor_reply,
        })
    }
}

/// The masking webhook asked for, its store holding the fixture's binding.
async fn masking(args: &Args) -> Result<Option<Webhook>, BoxError> {
    match args.handler {
        HandlerKind::Noop => Ok(None),
        HandlerKind::MaskingSqlite => {
            let path = match &args.db {
                Some(path) => path.clone(),
                // Kept for the life of the process; removed on a clean exit only.
                None => tempfile::tempdir()?.keep().join("bench.db"),
            };
            let store = SqliteStore::open_async(&path).await?;
            bind(&store).await?;
            Ok(Some(masking_webhook(
                store,
                args.cache_max_age.unwrap_or(0),
            )))
        }
        HandlerKind::MaskingRedis => {
            let url = args.redis.as_deref().ok_or("--redis URL is required")?;
            // A prefix of its own, so runs never see each other's bindings.
            let prefix = args
                .redis_prefix
                .clone()
                .unwrap_or_else(|| format!("callflow-bench:{}:", std::process::id()));
            let redis = Redis::open_with(url, &prefix, DEFAULT_TIMEOUT)?;
            let store = RedisBindingStore::new(&redis);
            bind(&store).await?;
            Ok(Some(masking_webhook(
                store,
                args.cache_max_age.unwrap_or(DEFAULT_REDIS_CACHE_MS),
            )))
        }
    }
}

/// Binds the fixture's caller to B on its virtual number (keeping an existing binding).
async fn bind<S: BindingStore>(store: &S) -> Result<(), BoxError> {
    match store
        .create(NewBinding::new(VIRTUAL_NUMBER, CALLER, B_PARTY)?)
        .await
    {
        Ok(_) => {}
        Err(e) if e.binding().is_some() => {}
        Err(e) => return Err(e.into()),
    }
    let vn = normalize_number(VIRTUAL_NUMBER)?;
    let caller = normalize_number(CALLER)?;
    match store.lookup(&vn, &caller).await? {
        Lookup::Active(b) if b.has_party(&normalize_number(B_PARTY)?) => Ok(()),
        _ => Err("the store has another binding for the fixture's caller".into()),
    }
}

async fn run(args: Args, listener: TcpListener) -> Result<(), BoxError> {
    let app = App::new(&args).await?;
    println!("{}", listener.local_addr()?);
    match args.framework {
        Framework::Axum => frameworks::axum(listener, app).await?,
        Framework::ActixWeb => frameworks::actix_web(listener, app).await?,
        Framework::Warp => frameworks::warp(listener, app).await?,
        Framework::HyperFloor => frameworks::hyper_floor(listener, app.floor_reply).await?,
    }
    Ok(())
}

fn main() -> ExitCode {
    let args = Args::parse();
    let result = TcpListener::bind(args.listen)
        .map_err(BoxError::from)
        .and_then(|listener| {
            if args.framework == Framework::ActixWeb {
                // actix-web runs its own worker threads (one here) under an actix System.
                actix_web::rt::System::new().block_on(run(args, listener))
            } else {
                // One thread runs everything: the accept loop and every connection.
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()?
                    .block_on(run(args, listener))
            }
        });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench-server: {e}");
            ExitCode::FAILURE
        }
    }
}
