//! `number-masking`: bind two parties to an 8x8 virtual number and serve the Voice Call
//! Action webhook that bridges them, with axum, actix-web or warp.
//!
//! ```text
//! number-masking bind --virtual-number +6568880000 --party +6591110001 --party +6592220002 --ttl 2h
//! number-masking serve --listen 0.0.0.0:3000 --framework axum --auth-header "Bearer s3cret"
//! number-masking --store redis://127.0.0.1:6379/0 serve --framework warp   # one of many instances
//! number-masking demo
//! NUMBER_MASKING_AUTH_HEADERS="Bearer s3cret" number-masking register --url https://your.host
//! ```

/// `println!` that does not panic when stdout is closed (`number-masking bindings | head`).
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

mod access;
mod api;
mod auth;
mod dashboard;
mod demo;
mod health;
mod metrics;
mod output;
mod purge;
mod register;
mod routes;
mod server;
mod store;
mod ttl;

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use callflow::Webhook;
use callflow_masking::{BindingStore, MaskingHandler, NewBinding};
use clap::{Parser, Subcommand};

use server::Framework;
use store::{Store, StoreUrl};

/// Number masking over 8x8 voice webhooks, backed by a SQLite file or a shared Redis.
#[derive(Parser, Debug)]
#[command(name = "number-masking", version, about)]
struct Cli {
    /// The SQLite database file (created if missing; default number-masking.db). Same as
    /// `--store sqlite:FILE`.
    #[arg(
        long,
        global = true,
        value_name = "FILE",
        conflicts_with = "store",
        env = "NUMBER_MASKING_DB"
    )]
    db: Option<PathBuf>,

    /// Where bindings and call records live: `sqlite:FILE` (the default,
    /// sqlite:number-masking.db) or `redis://HOST:PORT/DB` (shared by many `serve` instances,
    /// which then also recognise duplicate deliveries together).
    #[arg(long, global = true, value_name = "URL", value_parser = StoreUrl::parse, env = "NUMBER_MASKING_STORE")]
    store: Option<StoreUrl>,

    /// Prefix of every key in Redis (to share one Redis database between services).
    #[arg(long, global = true, value_name = "PREFIX", default_value = callflow_redis::DEFAULT_PREFIX, env = "NUMBER_MASKING_REDIS_PREFIX")]
    redis_prefix: String,

    /// How long after its expiry a binding is purged (default 24h; `off`: kept until
    /// unbound); until then its parties hear the "expired" message. SQLite: `serve` deletes
    /// them (see --purge-interval); Redis: Redis does, from the grace of the command that
    /// created the binding.
    #[arg(long, global = true, value_name = "DURATION", value_parser = purge::parse_grace, env = "NUMBER_MASKING_PURGE_GRACE")]
    purge_grace: Option<purge::Grace>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Bind two parties to a virtual number and print the binding.
    Bind {
        /// The 8x8 virtual number both parties call (E.164, `+` optional).
        #[arg(long)]
        virtual_number: String,
        /// A party; give exactly two.
        #[arg(long = "party", required = true, num_args = 1)]
        parties: Vec<String>,
        /// How long the binding lives, e.g. `2h`, `90m`, `1d` (default: no expiry).
        #[arg(long, value_parser = ttl::parse_ttl)]
        ttl: Option<std::time::Duration>,
        /// Record the bridged calls (needs recording set up on the 8x8 sub-account).
        #[arg(long)]
        record: bool,
        /// Your reference, e.g. an order id.
        #[arg(long)]
        reference: Option<String>,
        /// Print phone numbers in clear.
        #[arg(long)]
        reveal: bool,
    },
    /// Remove a binding by id.
    Unbind {
        /// The binding id (see `bindings`).
        id: String,
    },
    /// List the bindings.
    Bindings {
        /// Print phone numbers in clear.
        #[arg(long)]
        reveal: bool,
        /// `text` (a table, default) or `json` (an array of the /v1 API's binding objects).
        #[arg(long, value_enum, default_value = "text")]
        format: OutputFormat,
    },
    /// Recent calls with status and duration (numbers masked).
    Calls {
        /// How many.
        #[arg(long, default_value_t = 20)]
        limit: usize,
        /// `text` (a table, default) or `json` (an array of the /v1 API's call objects).
        #[arg(long, value_enum, default_value = "text")]
        format: OutputFormat,
    },
    /// Serve the webhook at POST /webhooks/voice (and GET /healthz).
    Serve {
        /// Address to listen on (port 0 picks a free one).
        #[arg(long, default_value = "127.0.0.1:3000", env = "NUMBER_MASKING_LISTEN")]
        listen: SocketAddr,
        /// Web framework.
        #[arg(
            long,
            value_enum,
            default_value = "axum",
            env = "NUMBER_MASKING_FRAMEWORK"
        )]
        framework: Framework,
        /// The auth values to require (8x8's `httpAuthHeader`).
        #[command(flatten)]
        auth: auth::AuthArgs,
        /// The header that carries it.
        #[arg(
            long,
            default_value = "authorization",
            env = "NUMBER_MASKING_AUTH_HEADER_NAME"
        )]
        auth_header_name: String,
        /// A file with the keys of the /v1 API, one a line (also NUMBER_MASKING_API_KEYS,
        /// comma-separated). No key: the API is off.
        #[arg(long, value_name = "FILE", env = "NUMBER_MASKING_API_KEYS_FILE")]
        api_keys_file: Option<PathBuf>,
        /// How logs are written: `text` (default) or `json` (one object a line). The level
        /// comes from RUST_LOG (default info).
        #[arg(
            long,
            value_enum,
            default_value = "text",
            env = "NUMBER_MASKING_LOG_FORMAT"
        )]
        log_format: LogFormat,
        /// Who may post webhooks: `8x8-singapore` (8x8's published addresses) or an address
        /// or network; repeatable (NUMBER_MASKING_ALLOW: comma-separated). Default: anyone.
        #[arg(
            long = "allow",
            value_name = "NET",
            value_parser = access::parse_allow,
            value_delimiter = ',',
            env = "NUMBER_MASKING_ALLOW"
        )]
        allow: Vec<access::AllowEntry>,
        /// How many reverse proxies in front of the service append to `X-Forwarded-For`
        /// (needs --allow; default 0: the peer address is the client's).
        #[arg(long, default_value_t = 0, env = "NUMBER_MASKING_TRUST_PROXIES")]
        trust_proxies: usize,
        /// The proxies' addresses or networks: only they may set `X-Forwarded-For`;
        /// repeatable (NUMBER_MASKING_TRUSTED_PROXIES: comma-separated).
        #[arg(
            long = "trusted-proxy",
            value_name = "NET",
            value_parser = access::parse_proxy,
            value_delimiter = ',',
            env = "NUMBER_MASKING_TRUSTED_PROXIES"
        )]
        trusted_proxies: Vec<callflow::allow::IpNet>,
        /// How long the handler may take before the caller gets the fallback callflow, e.g.
        /// `4s` (the default).
        #[arg(long, value_parser = ttl::parse_ttl, env = "NUMBER_MASKING_DEADLINE")]
        deadline: Option<std::time::Duration>,
        /// Answer repeated lookups of an active binding from memory for at most this long,
        /// e.g. `1s` (default `0s`: off, every call asks the store). This server's own
        /// changes are seen at once; a binding removed by another instance or the CLI may
        /// still be bridged for up to this long. Expiry is checked on every call.
        #[arg(long, value_parser = ttl::parse_ttl, env = "NUMBER_MASKING_CACHE_MAX_AGE")]
        cache_max_age: Option<std::time::Duration>,
        /// How often expired bindings past --purge-grace are purged (default 1m; at most
        /// 1000 a pass, the next pass a second later while more are due).
        #[arg(long, value_name = "DURATION", value_parser = ttl::parse_ttl, env = "NUMBER_MASKING_PURGE_INTERVAL")]
        purge_interval: Option<std::time::Duration>,
        /// How long a client may take to send a request head, and how long a kept-alive
        /// connection may stay idle (default 10s).
        #[arg(long, value_name = "DURATION", value_parser = ttl::parse_ttl, env = "NUMBER_MASKING_HEADER_READ_TIMEOUT")]
        header_read_timeout: Option<std::time::Duration>,
        /// How long a request body may take once its head is in: a slower one gets 408 and
        /// the connection is closed (default 10s).
        #[arg(long, value_name = "DURATION", value_parser = ttl::parse_ttl, env = "NUMBER_MASKING_BODY_READ_TIMEOUT")]
        body_read_timeout: Option<std::time::Duration>,
        /// On SIGTERM, how long requests in flight get to finish (default 10s).
        #[arg(long, value_name = "DURATION", value_parser = ttl::parse_ttl, env = "NUMBER_MASKING_GRACE_PERIOD")]
        grace_period: Option<std::time::Duration>,
    },
    /// Register the webhook with 8x8 (VCA and VSS) with the auth value `serve` requires.
    Register(register::RegisterArgs),
    /// Print the OpenAPI 3.1 document of the /v1 API (as served at /v1/openapi.json).
    Openapi,
    /// Walk through a masked call on each framework with a temporary SQLite database
    /// (ignores --db and --store).
    Demo,
}

/// How `bindings` and `calls` print.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum OutputFormat {
    /// A table for people.
    Text,
    /// JSON for programs.
    Json,
}

/// A mistake in the command line that clap cannot see (two parties, a malformed number, an
/// allow-list that does not hold together): reported like clap's own, exit status 2, and
/// found before anything is created.
#[derive(Debug)]
struct Usage(String);

impl std::fmt::Display for Usage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Usage {}

/// Exit status of a usage error, as clap uses.
const USAGE_EXIT: u8 = 2;

/// How logs are written.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object a line.
    Json,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let (default_level, format) = match &cli.command {
        Command::Serve { log_format, .. } => ("info", *log_format),
        _ => ("warn", LogFormat::Text),
    };
    // RUST_LOG (an env-filter: `warn`, `number_masking=debug,callflow=info`) wins.
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_level));
    let logs = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(filter);
    match format {
        LogFormat::Text => logs.init(),
        LogFormat::Json => logs.json().flatten_event(true).init(),
    }
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = rt.block_on(run(cli));
    // Store operations still running on the blocking pool (a SQLite write waiting for a lock
    // held elsewhere, whose request was already answered) must not hold the process past the
    // grace period: they are abandoned, as a crash would abandon them (SQLite and Redis are
    // safe against that, and nothing they do now was acknowledged).
    rt.shutdown_timeout(server::LEFTOVER);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.is::<Usage>() => {
            eprintln!("error: {e}");
            ExitCode::from(USAGE_EXIT)
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

type Result<T> = std::result::Result<T, Box<dyn std::error::Error + Send + Sync>>;

async fn run(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Demo => return demo::run().await,
        Command::Register(args) => return register::run(args).await,
        Command::Openapi => {
            out!("{}", api::openapi_json().trim_end());
            return Ok(());
        }
        _ => {}
    }
    // Input is checked before the store is opened (which creates a SQLite file).
    let new_binding = match &cli.command {
        Command::Bind {
            virtual_number,
            parties,
            ttl,
            record,
            reference,
            ..
        } => {
            let [a, b] = parties.as_slice() else {
                return Err(Usage(format!(
                    "give exactly two --party values (got {})",
                    parties.len()
                ))
                .into());
            };
            let mut new = NewBinding::new(virtual_number, a, b)
                .map_err(|e| Usage(e.to_string()))?
                .record(*record);
            if let Some(ttl) = ttl {
                new = new.ttl(*ttl);
            }
            if let Some(r) = reference {
                new = new.reference(r.clone());
            }
            Some(new)
        }
        _ => None,
    };
    let allow_list = match &cli.command {
        Command::Serve {
            allow,
            trust_proxies,
            trusted_proxies,
            ..
        } => access::allow_list(allow, *trust_proxies, trusted_proxies).map_err(Usage)?,
        _ => None,
    };
    let url = match (cli.store, cli.db) {
        (Some(url), _) => url,
        (None, Some(db)) => StoreUrl::Sqlite(db),
        (None, None) => StoreUrl::Sqlite(store::DEFAULT_DB.into()),
    };
    let purge_grace = cli
        .purge_grace
        .unwrap_or(purge::Grace(Some(purge::DEFAULT_GRACE)))
        .0;
    let store = Store::open(&url, &cli.redis_prefix, purge_grace).await?;
    match cli.command {
        Command::Bind { reveal, .. } => {
            let new = new_binding.expect("validated above");
            let binding = store.create(new).await?;
            out!("{}", output::binding_detail(&binding, reveal));
        }
        Command::Unbind { id } => {
            if store.remove(&id).await? {
                out!("removed binding {id}");
            } else {
                return Err(format!("no binding with id {id}").into());
            }
        }
        Command::Bindings { reveal, format } => {
            let bindings = store.list().await?;
            match format {
                OutputFormat::Text => out!("{}", output::binding_table(&bindings, reveal)),
                OutputFormat::Json => out!("{}", output::bindings_json(&bindings, reveal)),
            }
        }
        Command::Calls { limit, format } => {
            let calls = store.calls(limit).await?;
            match format {
                OutputFormat::Text => out!("{}", output::call_table(&calls)),
                OutputFormat::Json => out!("{}", output::calls_json(&calls)),
            }
        }
        Command::Serve {
            listen,
            framework,
            auth,
            auth_header_name,
            api_keys_file,
            log_format: _,
            allow: _,
            trust_proxies: _,
            trusted_proxies: _,
            deadline,
            cache_max_age,
            purge_interval,
            header_read_timeout,
            body_read_timeout,
            grace_period,
        } => {
            let mut serve_config = server::ServeConfig::default();
            if let Some(t) = header_read_timeout {
                serve_config = serve_config.header_read_timeout(t);
            }
            if let Some(t) = body_read_timeout {
                serve_config = serve_config.body_read_timeout(t);
            }
            if let Some(t) = grace_period {
                serve_config = serve_config.grace_period(t);
            }
            let auth_header = auth.values()?;
            let api_keys = api::ApiKeys::load(
                std::env::var(api::keys::KEYS_ENV).ok().as_deref(),
                api_keys_file.as_deref(),
            )?;
            let shared = store.idempotency();
            store
                .check_writable()
                .await
                .map_err(|e| format!("cannot serve from {}: {e}", url.describe()))?;
            if let Err(e) = store.check().await {
                tracing::warn!(
                    error = %e,
                    "store not reachable yet: calls get the fallback callflow and other events 503 until it is"
                );
            }
            let auth_name = if auth_header.is_empty() {
                None
            } else {
                Some(http_header_name(&auth_header_name)?)
            };
            tracing::info!(store = %url.describe(), "serving");
            let metrics = metrics::Metrics::new();
            let store = std::sync::Arc::new(
                store
                    .cached(cache_max_age.unwrap_or_default())
                    .metered(metrics.store()),
            );
            let purge_store = store.clone();
            let handler = MaskingHandler::from_arc(store.clone()).on_outcome({
                let metrics = metrics.clone();
                move |outcome| metrics.call(outcome)
            });
            let health = health::Health::new(store.clone(), handler.write_failures());
            let api = api::Api::with_metrics(store.clone(), api_keys, Some(metrics.clone()));
            let api_on = api.enabled();
            let routes = routes::Routes::new(api, health.clone()).metrics(metrics.clone(), store);
            let mut builder = Webhook::builder(handler).observer(metrics.webhook());
            if let Some(shared) = shared {
                // Duplicates are recognised by every instance on this Redis.
                builder = builder.idempotency_store(shared);
            }
            if let Some(name) = auth_name {
                builder = builder.auth_header(name);
                for value in &auth_header {
                    builder = builder.auth_token(value);
                }
            }
            if let Some(list) = allow_list {
                builder = builder.allow_list(list);
            }
            if let Some(deadline) = deadline {
                builder = builder.deadline(deadline);
            }
            let webhook = builder.build();
            let listener = std::net::TcpListener::bind(listen)
                .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
            tokio::spawn(health.clone().watch());
            if let Some(grace) = purge_grace {
                let every = purge_interval.unwrap_or(purge::DEFAULT_INTERVAL);
                tokio::spawn(purge::run(purge_store, grace, every, metrics.clone()));
            }
            let running = server::start(framework, webhook, routes, listener, serve_config).await?;
            out!(
                "listening on http://{} ({}): webhook POST {}, health GET /healthz, metrics GET /metrics, API {}",
                running.addr,
                framework.name(),
                server::WEBHOOK_PATH,
                if api_on { "/v1" } else { "off (no API key)" }
            );
            server::shutdown_signal().await;
            tracing::info!("shutting down");
            running.stop().await;
            // stdout may be gone by now (a closed pipe): that is no reason to fail.
            let _ = writeln!(std::io::stdout(), "stopped");
        }
        Command::Demo | Command::Register(_) | Command::Openapi => unreachable!("handled above"),
    }
    Ok(())
}

fn http_header_name(name: &str) -> Result<callflow::reexports::http::HeaderName> {
    callflow::reexports::http::HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| format!("invalid header name {name:?}").into())
}
