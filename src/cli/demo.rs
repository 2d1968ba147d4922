//! `orderdeck demo`: the simulated TikTok Shop, Shopify, WooCommerce, Magento, BigCommerce and
//! Amazon MCF, the daemon and the console in one process, in a temporary directory removed on exit. The
//! world keeps moving (see `sandbox::living`) and a simulated support colleague files a resync
//! request now and then, so every view fills within seconds.
//!
//! Roles: this console acts as `--role` (default admin). The demo's `orderdeck.toml` maps the
//! current unix user to `operator`, so a second console or a command attached through the
//! demo's socket (`orderdeck --config <printed path>`) is an operator — which is how a
//! `--role support` request gets approved by "someone else" on one machine.

use std::io::{IsTerminal as _, Write as _};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::config::{Config, ConfigPath, Principal};
use crate::domain::access::Role;
use crate::domain::audit::Actor;
use crate::domain::clock::SystemClock;
use crate::domain::request::ResyncFlow;
use crate::domain::triage::OrderView;
use crate::sandbox::living::Living;
use crate::sandbox::scenario::{Scenario, Size};
use crate::sandbox::set::SandboxSet;
use crate::service::Service;
use crate::service::api::{OrderQuery, Request, RequestQuery, Response};
use crate::service::identity::Account;
use crate::service::inproc::InProcessClient;
use crate::service::{http, socket, webhooks};

use super::console::{ConsoleArgs, log_quietly};
use super::history::{self, History};
use super::orders::check_link;
use super::runtime::{Local, close, ensure_data_dir, open_local};

#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    /// Your role in this console: viewer, support, operator or admin (try `support` for the
    /// approval flow; consoles attached through the socket are operators)
    #[arg(long, default_value = "admin", value_parser = parse_role)]
    pub role: Role,
    /// Seed of the simulated world (same seed, same orders and events)
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Orders each simulated shop starts with
    #[arg(long, default_value_t = 40, value_parser = clap::value_parser!(u64).range(1..=5000))]
    pub orders_per_shop: u64,
    /// Past orders to load before the world starts moving, a year of them over the demo's
    /// links (try 1000000 to feel the console at a million orders)
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u64).range(0..=5_000_000))]
    pub orders: u64,
    /// How often the simulated world moves on (new orders, shipments, cancels, faults)
    #[arg(long, default_value = "2s", value_parser = parse_every)]
    pub every: Duration,
    #[command(flatten)]
    pub console: ConsoleArgs,
}

fn parse_role(text: &str) -> Result<Role, String> {
    Role::parse(text).ok_or_else(|| {
        format!("no role is called {text:?}; roles: viewer, support, operator, admin")
    })
}

fn parse_every(text: &str) -> Result<Duration, String> {
    let every = humantime::parse_duration(text).map_err(|e| e.to_string())?;
    if every < Duration::from_millis(200) {
        return Err("at least 200ms, or the demo does nothing but simulate".into());
    }
    Ok(every)
}

/// How often the simulated platforms are polled: short, so changes show within seconds.
const POLL_INTERVAL: &str = "2s";
/// While webhooks arrive, a link is polled this often instead: the demo runs on webhooks.
const POLL_WHILE_WEBHOOKS: &str = "30s";
/// The role of everyone who attaches through the demo's socket.
const SOCKET_ROLE: Role = Role::Operator;
/// The simulated colleague asks for a resync on every this many beats, while fewer than two
/// requests wait.
const COLLEAGUE_EVERY: u64 = 5;

pub async fn run(args: DemoArgs) -> anyhow::Result<()> {
    if !(std::io::stdout().is_terminal() && std::io::stdin().is_terminal()) {
        return Err(super::NeedsTerminal.into());
    }
    // Private: it holds the socket (everyone who can reach it is an operator) and the config.
    let dir = tempfile::Builder::new()
        .prefix("orderdeck-demo-")
        .permissions(std::fs::Permissions::from_mode(0o700))
        .tempdir()
        .context("cannot create the demo's temporary directory")?;
    let demo = Demo::start(&args, dir.path()).await?;
    say(&format!(
        "orderdeck demo: simulated TikTok Shop, Shopify, WooCommerce, Magento, BigCommerce and Amazon MCF (7 shops: 3 Shopify stores, 1 WooCommerce site, 1 Magento store, 1 BigCommerce store, 1 Amazon seller) on 127.0.0.1, the daemon, \
         and this console as {role}.\n\
         A second console, as {SOCKET_ROLE}:  {exe} --config {config}\n\
         Or a command, e.g.:              {exe} --config {config} approve R1\n\
         Everything lives in {dir} (log: {log}) and goes when this console quits.",
        role = args.role,
        exe = invoked_as(),
        config = demo.config_path.display(),
        dir = dir.path().display(),
        log = demo.config.paths.data_dir.join("orderdeck.log").display(),
    ));

    let me = Account::current();
    let mut actor = me.actor(&demo.config.access, std::env::var("SSH_CONNECTION").ok());
    actor.role = Some(args.role);
    let client = InProcessClient::new(demo.local.service.clone(), actor);
    let mut options = args.console.options();
    // What was printed is hidden by the console at once: say the essential part in it too.
    options.notice = Some(format!(
        "{SOCKET_ROLE} console: orderdeck --config {}",
        demo.config_path.display()
    ));
    let result = crate::console::run(client, options).await;

    demo.stop().await;
    let shown = dir.path().display().to_string();
    match dir.close() {
        Ok(()) => say(&format!("orderdeck demo: ended; {shown} removed.")),
        Err(e) => say(&format!("orderdeck demo: could not remove {shown}: {e}")),
    }
    result
}

/// Everything but the console: the sandboxes, the store with its engine and socket, the
/// living world.
struct Demo {
    config_path: PathBuf,
    config: Config,
    local: Local,
    /// Kept alive for as long as the demo runs: dropping it stops the simulated platforms.
    _set: Arc<SandboxSet>,
    stop: CancellationToken,
    tasks: Vec<JoinHandle<()>>,
    _log: Option<tracing_appender::non_blocking::WorkerGuard>,
    /// Held while the demo serves its socket: no second daemon can take it over.
    _instance: socket::InstanceLock,
}

impl Demo {
    async fn start(args: &DemoArgs, dir: &Path) -> anyhow::Result<Demo> {
        let size = Size {
            shops: 3,
            orders_per_shop: usize::try_from(args.orders_per_shop).unwrap_or(40),
        };
        let scenario = Scenario::generate(args.seed, size, chrono::Utc::now().timestamp())
            .with_woocommerce()
            .with_magento()
            .with_bigcommerce()
            .with_amazon();
        // The stores numbered the preloaded orders (`--orders`) before the living world's.
        let per_store = history::orders_per_store(args.orders, scenario.shops.len());
        let scenario = scenario.after_history(per_store);
        let set = Arc::new(SandboxSet::start(scenario, [127, 0, 0, 1].into()).await?);
        let config_path = write_config(&set, dir, &Account::current().name)?;
        let config = Config::open(&ConfigPath::Given(config_path.clone()))?;
        check_link(&config, args.console.link.as_ref())?;
        ensure_data_dir(&config.paths.data_dir)?;
        let log = log_quietly(&config.paths.data_dir);
        let local = open_local(&config, Arc::new(SystemClock), true)?;
        if args.orders > 0 {
            preload(&local, args.orders).await?;
        }
        let (listener, instance) =
            socket::bind(&config.paths.socket, config.paths.socket_group.as_deref()).await?;
        let stop = CancellationToken::new();
        let listen = config
            .webhooks
            .listen
            .context("the demo's config listens for webhooks")?;
        let inbox = webhooks::Inbox::new(local.engine.clone(), &config);
        let (_, hooks) = http::serve(
            listen,
            local.service.clone(),
            inbox,
            CancellationToken::new(),
            stop.clone(),
        )
        .await
        .with_context(|| format!("cannot listen for webhooks on {listen}"))?;
        let subscribed = super::webhooks::apply(&config, super::webhooks::Action::Register, None)
            .await?
            .iter()
            .filter(|row| row.state == "created")
            .count();
        tracing::info!(target: "orderdeck::demo", subscribed, "webhooks registered with the simulated platforms");
        let tasks = vec![
            hooks,
            tokio::spawn(local.engine.clone().run(stop.clone())),
            tokio::spawn(socket::serve(listener, local.service.clone(), stop.clone())),
            tokio::spawn(live(
                set.clone(),
                local.service.clone(),
                args.every,
                args.seed,
                stop.clone(),
            )),
        ];
        Ok(Demo {
            config_path,
            config,
            local,
            _set: set,
            stop,
            tasks,
            _instance: instance,
            _log: log,
        })
    }

    /// Stops the engine, the socket and the world, and closes the store. Jobs in flight get
    /// a moment to record their outcome; a console that lost its terminal must not linger
    /// longer than that (the data is thrown away anyway).
    async fn stop(self) {
        self.stop.cancel();
        let settled = futures::future::join_all(self.tasks);
        if tokio::time::timeout(Duration::from_millis(300), settled)
            .await
            .is_err()
        {
            tracing::info!(target: "orderdeck::demo", "stopped without waiting for jobs in flight");
        }
        close(Some(self.local));
    }
}

/// Loads `count` past orders into the demo's store before anything polls it, saying how far
/// it got every tenth.
async fn preload(local: &Local, count: u64) -> anyhow::Result<()> {
    let history = History {
        links: local.engine.links().iter().map(|l| l.id.clone()).collect(),
        count,
        end: local.engine.now() - chrono::Duration::days(1),
    };
    let store = local.engine.store().clone();
    let started = std::time::Instant::now();
    say(&format!("orderdeck demo: loading {count} past orders…"));
    tokio::task::spawn_blocking(move || {
        let step = (count / 10).max(1);
        history.load(&store, &mut |n| {
            if n % step < history::BATCH as u64 || n == count {
                say(&format!("  {n} of {count}"));
            }
        })
    })
    .await
    .context("the preload stopped")??;
    say(&format!(
        "orderdeck demo: {count} past orders loaded in {:.1?}",
        started.elapsed()
    ));
    Ok(())
}

/// Prints a line for the person, sanitized (it may quote the simulated shops); after a hangup
/// there is nobody to tell, and that is fine (`println!` would panic).
fn say(text: &str) {
    let _ = writeln!(super::output::stdout(), "{text}");
}

/// The program as the person started it, so the printed command can be pasted as is.
fn invoked_as() -> String {
    std::env::args()
        .next()
        .filter(|a| !a.is_empty())
        .unwrap_or_else(|| "orderdeck".into())
}

/// Writes the demo's `orderdeck.toml` (0600: it holds the sandbox's test credentials): the
/// sandboxes' own config with short poll intervals, the current user as an operator, the
/// data dir and socket in `dir`.
fn write_config(set: &SandboxSet, dir: &Path, user: &str) -> anyhow::Result<PathBuf> {
    // An account without a name (`uid:1000` in a container) cannot be listed; the socket sits
    // in a private temporary directory, so "everyone" is this user anyway.
    let access = match Principal::parse(user) {
        Ok(_) => format!(
            "{SOCKET_ROLE} = [{}]",
            toml_edit::Value::from(user).to_string().trim()
        ),
        Err(_) => format!("default_role = \"{SOCKET_ROLE}\""),
    };
    let text = set.config_toml(&dir.join("data"), &dir.join("orderdeck.sock"), &access)?;
    let mut doc: toml_edit::DocumentMut = text
        .parse()
        .context("the sandbox's config does not parse")?;
    if let Some(links) = doc
        .get_mut("links")
        .and_then(toml_edit::Item::as_array_of_tables_mut)
    {
        for link in links.iter_mut() {
            link["poll_interval"] = toml_edit::value(POLL_INTERVAL);
        }
    }
    // The simulated platforms deliver webhooks to the demo's listener, on a free local port.
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let mut webhooks = toml_edit::Table::new();
    webhooks["listen"] = toml_edit::value(format!("127.0.0.1:{port}"));
    webhooks["public_url"] = toml_edit::value(format!("http://127.0.0.1:{port}"));
    webhooks["poll_interval_while_healthy"] = toml_edit::value(POLL_WHILE_WEBHOOKS);
    doc["webhooks"] = toml_edit::Item::Table(webhooks);
    let path = dir.join("orderdeck.toml");
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&path)
        .with_context(|| format!("cannot write {}", path.display()))?;
    file.write_all(doc.to_string().as_bytes())?;
    Ok(path)
}

/// The world moving on, and a support colleague asking for resyncs, until `stop`.
async fn live(
    set: Arc<SandboxSet>,
    service: Arc<Service>,
    every: Duration,
    seed: u64,
    stop: CancellationToken,
) {
    let mut living = Living::new(&set, seed);
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0xc011);
    let colleague = Actor {
        user: "sam".into(),
        uid: u32::MAX - 1,
        role: Some(Role::Support),
        from: None,
    };
    let mut beat = tokio::time::interval(every);
    beat.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The first tick is now: let the first polls see the seeded world first.
    beat.tick().await;
    let mut beats = 0u64;
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = beat.tick() => {}
        }
        beats += 1;
        for happened in living.beat(&set, chrono::Utc::now().timestamp()) {
            tracing::info!(target: "orderdeck::demo", "{happened}");
        }
        if beats % COLLEAGUE_EVERY == 1 {
            ask_for_resync(&service, &colleague, &mut rng).await;
        }
    }
}

/// The colleague picks a stuck order and asks for its import again, unless two requests
/// already wait for an operator.
async fn ask_for_resync(service: &Service, colleague: &Actor, rng: &mut ChaCha8Rng) {
    let waiting = RequestQuery {
        pending_only: true,
        offset: 0,
        limit: 1,
        sort: Default::default(),
    };
    match service.handle(colleague, Request::Requests(waiting)).await {
        Ok(Response::Requests(page)) if page.total < 2 => {}
        _ => return,
    }
    let stuck = OrderQuery::first_page(OrderView::Stuck, 20);
    let Ok(Response::Orders(page)) = service.handle(colleague, Request::Orders(stuck)).await else {
        return;
    };
    let Some(row) = page.rows.choose(rng) else {
        return;
    };
    const REASONS: [&str; 3] = [
        "customer asked where the parcel is",
        "SKU was added to the store this morning",
        "warehouse says the order never arrived",
    ];
    // Flows in a row: import, tracking, cancellation, label (a label is fetched on import).
    let flow = match row.flows.iter().position(|f| f.starts_with("stuck")) {
        Some(1) => ResyncFlow::Tracking,
        Some(2) => ResyncFlow::Cancel,
        _ => ResyncFlow::Import,
    };
    let request = Request::Resync {
        orders: vec![row.id.clone()],
        flow,
        reason: REASONS[rng.random_range(0..REASONS.len())].into(),
    };
    if let Err(e) = service.handle(colleague, request).await {
        tracing::warn!(target: "orderdeck::demo", "the simulated colleague's resync failed: {e}");
    }
}
