//! One rig per test: both simulated platforms on 127.0.0.1:0 with no seed orders (each test adds
//! exactly the orders it is about), the config they generate written 0600 in a temp dir and
//! loaded like a user's, and the engine + service `open_local` builds from it. Retries wait
//! milliseconds (`[engine] retry_initial`), and requests time out after a second, so faults
//! cost little time; nothing here measures time.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::Arc;
use std::time::Duration;

use orderdeck::cli::runtime::{Local, close, ensure_data_dir, open_local, store_path};
use orderdeck::config::Config;
use orderdeck::domain::access::Role;
use orderdeck::domain::audit::Actor;
use orderdeck::domain::cancellation::{Cancellation, Direction};
use orderdeck::domain::ids::{LinkId, TiktokOrderId};
use orderdeck::domain::order::{FlowStatus, Order};
use orderdeck::domain::triage::OrderView;
use orderdeck::domain::{Clock, FixedClock, SystemClock};
use orderdeck::engine::wiring::build_links;
use orderdeck::engine::{Engine, EngineOptions};
use orderdeck::sandbox::scenario::{LineSpec, OrderSpec, Scenario, Size};
use orderdeck::sandbox::set::SandboxSet;
use orderdeck::sandbox::shopify::{SandboxOrder, SandboxTracking};
use orderdeck::service::Service;
use orderdeck::service::api::{
    OrderQuery, OrderRow, Request, Response, ServiceError, SettingsView, SyncSummary,
};
use orderdeck::service::client::Client;
use orderdeck::service::inproc::InProcessClient;
use orderdeck::store::Store;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

/// Shop indexes of the generated scenario: regions cycle GB, US, ID.
pub const GB: usize = 0;
pub const ID: usize = 2;

/// A SKU every simulated store has exactly once, one it lacks, and one it has twice.
pub const KNOWN_SKU: &str = "CRO-00";
/// Another SKU the GB store has, for multi-item orders.
pub const OTHER_SKU: &str = "CRO-01";
pub const GHOST_SKU: &str = "GHOST-003";
/// A US shop's seller cancel reason (the stores' shops are US ones).
pub const US_REASON: &str = "seller_cancel_reason_out_of_stock";
pub const DUP_SKU: &str = "DUP-001";

/// Fast retries and a short client timeout, so `Timeout` faults cost a second, not thirty.
const ENGINE: &str = "[engine]\nrequest_timeout = \"1s\"\nconnect_timeout = \"1s\"\n\
                      retry_initial = \"20ms\"\nretry_max = \"200ms\"\n";

/// How long `sync` waits for retries that are due soon.
const HORIZON: Duration = Duration::from_secs(5);
/// Far more than any sync here takes, even on a loaded 2-core CI machine.
const SYNC_LIMIT: Duration = Duration::from_secs(120);

pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Someone using the console with `role`.
pub fn actor(role: Role) -> Actor {
    Actor {
        user: format!("{}-user", role.name()),
        uid: 2000 + role as u32,
        role: Some(role),
        from: None,
    }
}

#[derive(Debug, Clone, Default)]
pub struct Options {
    /// How many shops (and linked stores); shop 3 is the SEA one.
    pub shops: usize,
    /// Lines added to `[paths]` (e.g. a label print command).
    pub paths: String,
    /// How far polls re-read before their watermark (production: five minutes). Zero makes
    /// "a change the polls no longer see" happen now rather than five minutes later.
    pub overlap: Option<Duration>,
    /// The `[engine]` section, when not the one whose retries all happen within one sync.
    pub engine: Option<&'static str>,
    /// The engine's clock, when a test moves time itself (else the system clock). Jobs retrying
    /// with a delay never come due on it: use it only where no job retries.
    pub clock: Option<Arc<FixedClock>>,
    /// One more shop, after the others, linked to a simulated WooCommerce site.
    pub woocommerce: bool,
    /// One more shop, after the others, linked to a simulated Magento store.
    pub magento: bool,
    /// One more shop, after those, linked to a simulated BigCommerce store.
    pub bigcommerce: bool,
    /// One more shop, after those, linked to a simulated Amazon MCF seller.
    pub amazon: bool,
    /// Orders each store numbered before the test (`Scenario::after_history`).
    pub history: u64,
}

pub struct Rig {
    pub set: SandboxSet,
    pub dir: tempfile::TempDir,
    pub config_path: PathBuf,
    pub config: Config,
    local: Option<Local>,
    overlap: Option<Duration>,
    clock: Option<Arc<FixedClock>>,
    rng: ChaCha8Rng,
    serial: usize,
}

impl Rig {
    /// One GB shop linked to one Shopify store.
    pub async fn start() -> Rig {
        Rig::with(Options {
            shops: 1,
            ..Options::default()
        })
        .await
    }

    /// A rig of one Shopify shop and the one store `options` adds (WooCommerce, Magento,
    /// BigCommerce or Amazon) with its own shop, which is answered: the last.
    pub async fn with_store(options: Options) -> (Rig, usize) {
        let rig = Rig::with(Options {
            shops: 1,
            ..options
        })
        .await;
        let shop = rig.set.scenario.shops.len() - 1;
        (rig, shop)
    }

    pub async fn with(options: Options) -> Rig {
        let scenario = Scenario::generate(
            7,
            Size {
                shops: options.shops.max(1),
                orders_per_shop: 0,
            },
            now(),
        );
        let scenario = if options.woocommerce {
            scenario.with_woocommerce()
        } else {
            scenario
        };
        let scenario = if options.magento {
            scenario.with_magento()
        } else {
            scenario
        };
        let scenario = if options.bigcommerce {
            scenario.with_bigcommerce()
        } else {
            scenario
        };
        let scenario = if options.amazon {
            scenario.with_amazon()
        } else {
            scenario
        };
        let scenario = scenario.after_history(options.history);
        let set = SandboxSet::start(scenario, [127, 0, 0, 1].into())
            .await
            .expect("sandboxes start");
        let dir = tempfile::tempdir().expect("temp dir");
        let data_dir = dir.path().join("data");
        let me = orderdeck::service::identity::Account::current().name;
        let mut text = set
            .config_toml(
                &data_dir,
                &dir.path().join("orderdeck.sock"),
                &format!("admin = [\"{me}\"]"),
            )
            .expect("config text");
        // `[paths]` is the generated config's last section, so its extra lines go at the end.
        text.push_str(&options.paths);
        text.push('\n');
        text.push_str(options.engine.unwrap_or(ENGINE));
        let config_path = write_private(dir.path(), "orderdeck.toml", &text);
        let config = Config::load(&config_path).expect("the generated config loads");
        let local = open(&config, options.overlap, options.clock.clone());
        Rig {
            set,
            dir,
            config_path,
            config,
            overlap: options.overlap,
            clock: options.clock,
            local: Some(local),
            rng: ChaCha8Rng::seed_from_u64(99),
            serial: 1000,
        }
    }

    fn local(&self) -> &Local {
        self.local
            .as_ref()
            .expect("the engine is open (closed for a CLI call?)")
    }

    pub fn engine(&self) -> &Arc<Engine> {
        &self.local().engine
    }

    pub fn service(&self) -> &Arc<Service> {
        &self.local().service
    }

    pub fn data_dir(&self) -> &Path {
        &self.config.paths.data_dir
    }

    pub fn link(&self, shop: usize) -> LinkId {
        LinkId::new(self.set.scenario.shops[shop].name.clone()).expect("link name")
    }

    /// The Shopify store linked to `shop`.
    pub fn store(&self, shop: usize) -> String {
        self.set.scenario.stores[shop].name.clone()
    }

    /// A paid, seller-shipped order of `shop` with one unit of [`KNOWN_SKU`], not yet added.
    pub fn new_order(&mut self, shop: usize) -> OrderSpec {
        self.serial += 1;
        let mut spec = self
            .set
            .scenario
            .new_order(&mut self.rng, shop, self.serial, now());
        spec.shipping_type = "SELLER".into();
        spec.buyer_message = None;
        set_lines(&mut spec, &[KNOWN_SKU]);
        spec
    }

    /// The id of TikTok's shipping provider `name` for `shop`'s orders.
    pub fn provider_id(&self, shop: usize, name: &str) -> Option<String> {
        self.set.scenario.shops[shop]
            .providers
            .iter()
            .find(|(_, n)| n == name)
            .map(|(id, _)| id.clone())
    }

    /// Adds `spec` to TikTok and answers its id.
    pub fn add(&self, spec: &OrderSpec) -> TiktokOrderId {
        assert!(self.set.tiktok.add_order(spec), "shop {} exists", spec.shop);
        TiktokOrderId::new(spec.id.clone()).expect("order id")
    }

    /// A new paid seller-shipped order, added.
    pub fn paid_order(&mut self, shop: usize) -> TiktokOrderId {
        let spec = self.new_order(shop);
        self.add(&spec)
    }

    /// The TikTok orders each store's import test starts from, added.
    pub fn add_import_mix(&mut self, shop: usize) -> ImportMix {
        let mut paid = self.new_order(shop);
        set_lines(&mut paid, &[KNOWN_SKU, OTHER_SKU, KNOWN_SKU]);
        let mut ghost = self.new_order(shop);
        set_lines(&mut ghost, &[GHOST_SKU]);
        let mut unpaid = self.new_order(shop);
        unpaid.status = "UNPAID".into();
        unpaid.paid_time = None;
        let mut on_hold = self.new_order(shop);
        on_hold.status = "ON_HOLD".into();
        ImportMix {
            paid: self.add(&paid),
            ghost: self.add(&ghost),
            unpaid: self.add(&unpaid),
            on_hold: self.add(&on_hold),
            paid_spec: paid,
        }
    }

    /// Turns store → TikTok cancels on for `shop`'s link, with a US shop's cancel reason.
    pub async fn relay_store_cancels(&self, shop: usize) {
        self.settings(
            shop,
            &[
                ("default_cancel_reason", US_REASON),
                ("cancel_store_to_tiktok", "on"),
            ],
        )
        .await;
    }

    /// A store-side cancel of `id` seen while the link does not relay them: recorded as
    /// skipped with why, and TikTok untouched.
    pub fn assert_store_cancel_skipped(&self, id: &TiktokOrderId) {
        assert_eq!(
            self.set.tiktok.order_status(id.as_str()).as_deref(),
            Some("AWAITING_SHIPMENT")
        );
        let record = self
            .cancellations(id)
            .into_iter()
            .find(|c| c.direction == Direction::StoreToTiktok)
            .expect("the store-side cancel is recorded");
        assert_eq!(
            record.sync.status,
            FlowStatus::Skipped {
                why: "cancel_store_to_tiktok is off for this link".into()
            }
        );
    }

    /// `id` cancelled on TikTok by one call, with the link's reason: the only cancel so far.
    pub fn assert_cancelled_once_on_tiktok(&self, id: &TiktokOrderId) {
        assert_eq!(
            self.set.tiktok.order_status(id.as_str()).as_deref(),
            Some("CANCELLED")
        );
        let on_tiktok = self.set.tiktok.cancellations_of(id.as_str());
        assert_eq!(on_tiktok.len(), 1, "{on_tiktok:?}");
        assert_eq!(on_tiktok[0].reason, US_REASON);
        assert_eq!(self.set.tiktok.calls("cancel_order"), 1);
    }

    /// Polls every link once and runs the jobs due within a few seconds.
    /// One `sync_once`. A hang fails the test here rather than stalling CI.
    pub async fn sync(&self) -> SyncSummary {
        tokio::time::timeout(SYNC_LIMIT, self.engine().sync_once(HORIZON))
            .await
            .expect("sync_once ends within two minutes")
    }

    /// orderdeck's copy of an order.
    pub fn order(&self, id: &TiktokOrderId) -> Order {
        self.engine()
            .store()
            .order(id)
            .expect("store reads")
            .unwrap_or_else(|| panic!("orderdeck does not know order {id}"))
    }

    pub fn cancellations(&self, id: &TiktokOrderId) -> Vec<Cancellation> {
        self.engine()
            .store()
            .cancellations_of(id)
            .expect("store reads")
    }

    /// Every order the store holds for this TikTok order (found by `sourceIdentifier`).
    pub fn store_orders(&self, shop: usize, id: &TiktokOrderId) -> Vec<SandboxOrder> {
        self.set
            .shopify
            .orders(&self.store(shop))
            .expect("store exists")
            .into_iter()
            .filter(|o| o.source_identifier.as_deref() == Some(id.as_str()))
            .collect()
    }

    /// The one store order made for `id`; fails the test if there are none or several.
    pub fn store_order(&self, shop: usize, id: &TiktokOrderId) -> SandboxOrder {
        let mut found = self.store_orders(shop, id);
        assert_eq!(found.len(), 1, "store orders for {id}: {found:#?}");
        found.remove(0)
    }

    /// The warehouse ships the store order of `id` with this tracking.
    pub fn fulfil(&self, shop: usize, id: &TiktokOrderId, number: &str, carrier: &str) {
        let order = self.store_order(shop, id);
        self.set
            .shopify
            .fulfil(&self.store(shop), &order.id, tracking(number, carrier))
            .expect("fulfilled");
    }

    pub fn client(&self, role: Role) -> Arc<InProcessClient> {
        InProcessClient::new(self.service().clone(), actor(role))
    }

    pub async fn call(&self, role: Role, request: Request) -> Result<Response, ServiceError> {
        self.client(role).call(request).await
    }

    /// Changes link settings as an operator would in the console.
    pub async fn settings(&self, shop: usize, changes: &[(&str, &str)]) -> SettingsView {
        let link = self.link(shop);
        let version = self.engine().settings_record(&link).version;
        let answer = self
            .call(
                Role::Operator,
                Request::SetSettings {
                    link,
                    changes: changes
                        .iter()
                        .map(|(k, v)| (k.to_string(), v.to_string()))
                        .collect(),
                    expected_version: version,
                    reason: Some("test".into()),
                },
            )
            .await;
        match answer {
            Ok(Response::Settings(view)) => view,
            other => panic!("settings {changes:?} refused: {other:?}"),
        }
    }

    /// The newest 100 audit entries, as a viewer reads them.
    pub async fn audit(&self) -> Vec<orderdeck::domain::audit::AuditEntry> {
        let query = orderdeck::service::api::AuditQuery {
            since: None,
            filter: None,
            offset: 0,
            limit: 100,
            sort: Default::default(),
        };
        match self.call(Role::Viewer, Request::Audit(query)).await {
            Ok(Response::Audit(page)) => page.rows,
            other => panic!("audit: {other:?}"),
        }
    }

    /// A whole order list, as the console's views show it.
    pub async fn view(&self, view: OrderView) -> Vec<OrderRow> {
        match self
            .call(
                Role::Viewer,
                Request::Orders(OrderQuery::first_page(view, 500)),
            )
            .await
        {
            Ok(Response::Orders(page)) => page.rows,
            other => panic!("{view:?}: {other:?}"),
        }
    }

    /// Closes the engine's store (so the CLI, or a new engine, can open it).
    pub fn close(&mut self) {
        close(self.local.take());
    }

    /// A new engine over the same data dir, as after a daemon restart.
    pub fn reopen(&mut self) {
        self.close();
        self.local = Some(open(&self.config, self.overlap, self.clock.clone()));
    }

    /// Loses orderdeck's whole store (a disk lost without backup) and starts over.
    pub fn wipe_store(&mut self) {
        self.close();
        std::fs::remove_dir_all(store_path(self.data_dir())).expect("store removed");
        self.reopen();
    }

    /// Runs the real `orderdeck` binary with `config` (this rig's, or one made by
    /// [`Rig::config_with_access`]), without blocking the sandboxes it talks to.
    pub async fn cli(&self, config: &Path, args: &[&str]) -> Output {
        assert!(
            self.local.is_none(),
            "close the engine first: sled lets one process in"
        );
        tokio::process::Command::new(env!("CARGO_BIN_EXE_orderdeck"))
            .arg("--config")
            .arg(config)
            .args(args)
            .env_remove("ORDERDECK_CONFIG")
            .output()
            .await
            .expect("orderdeck runs")
    }

    /// Runs the binary, expects success, and answers its standard output.
    pub async fn cli_ok(&self, config: &Path, args: &[&str]) -> String {
        let out = self.cli(config, args).await;
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert!(
            out.status.success(),
            "orderdeck {args:?} failed ({}):\n{stdout}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        stdout
    }

    /// The rig's config with `[access]` replaced, for acting as another role from the CLI.
    pub fn config_with_access(&self, name: &str, access: &str) -> PathBuf {
        let text = std::fs::read_to_string(&self.config_path).expect("config readable");
        let start = text
            .find("[access]\n")
            .expect("generated config has [access]");
        let end = start + text[start..].find("\n\n").expect("section ends");
        let text = format!("{}[access]\n{access}{}", &text[..start], &text[end..]);
        write_private(self.dir.path(), name, &text)
    }
}

/// The engine and service as `open_local` builds them, or by hand when a test changes the
/// poll overlap (which `orderdeck.toml` does not set) or the clock.
fn open(config: &Config, overlap: Option<Duration>, clock: Option<Arc<FixedClock>>) -> Local {
    if overlap.is_none() && clock.is_none() {
        return open_local(config, Arc::new(SystemClock), false).expect("store opens");
    }
    ensure_data_dir(&config.paths.data_dir).expect("data dir");
    let store = Store::open(store_path(&config.paths.data_dir)).expect("store opens");
    let mut options = EngineOptions::from_config(config);
    if let Some(overlap) = overlap {
        options.overlap = overlap;
    }
    let clock: Arc<dyn Clock> = match clock {
        Some(fixed) => fixed,
        None => Arc::new(SystemClock),
    };
    // The platform clients sign with the wall clock (TikTok refuses a request timestamp minutes
    // off its own); only the engine's decisions run on a test's clock.
    let wired = build_links(config, Arc::new(SystemClock), &options.token_dir).expect("links");
    let engine = Engine::new(Arc::new(store), clock, wired.links, options);
    let service = Service::new(
        engine.clone(),
        config.access.clone(),
        config.approvals.two_person,
        false,
    );
    Local {
        engine,
        service,
        skipped_links: wired.skipped,
    }
}

/// An imported order of `shop` of 2 × KNOWN_SKU and 1 × OTHER_SKU (units interleaved, as
/// TikTok may send them), with TikTok's line ids of each SKU.
pub async fn two_skus_imported(
    rig: &mut Rig,
    shop: usize,
) -> (TiktokOrderId, Vec<String>, Vec<String>) {
    let mut spec = rig.new_order(shop);
    set_lines(&mut spec, &[KNOWN_SKU, OTHER_SKU, KNOWN_SKU]);
    let ids = |sku: &str| {
        spec.lines
            .iter()
            .filter(|l| l.seller_sku == sku)
            .map(|l| l.line_item_id.clone())
            .collect::<Vec<_>>()
    };
    let (known, other) = (ids(KNOWN_SKU), ids(OTHER_SKU));
    let id = rig.add(&spec);
    rig.sync().await;
    rig.store_order(shop, &id);
    (id, known, other)
}

/// Every engine test also checks that orderdeck sent the simulated stores no request their
/// platform's contract refuses (a test that failed already says why).
impl Drop for Rig {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let refused = self.set.contract_refusals();
            assert!(
                refused.is_empty(),
                "the simulated stores refused: {refused:#?}"
            );
        }
    }
}

/// See [`Rig::add_import_mix`].
pub struct ImportMix {
    /// Paid, of three lines: [`KNOWN_SKU`], [`OTHER_SKU`], [`KNOWN_SKU`] (two units of one SKU).
    pub paid: TiktokOrderId,
    pub paid_spec: OrderSpec,
    /// Paid, of a SKU sold on TikTok only.
    pub ghost: TiktokOrderId,
    pub unpaid: TiktokOrderId,
    pub on_hold: TiktokOrderId,
}

/// Replaces an order's lines: one unit per SKU listed (repeat a SKU for more units).
pub fn set_lines(spec: &mut OrderSpec, skus: &[&str]) {
    spec.lines = skus
        .iter()
        .enumerate()
        .map(|(u, sku)| LineSpec {
            line_item_id: format!("{}{u:02}", spec.id),
            sku_id: format!("17295{}", sku.bytes().map(u64::from).sum::<u64>()),
            seller_sku: sku.to_string(),
            product_name: "Crochet jumper".into(),
            sku_name: "Red, S".into(),
            sale_price: "21.50".into(),
        })
        .collect();
}

pub fn tracking(number: &str, carrier: &str) -> SandboxTracking {
    SandboxTracking {
        company: (!carrier.is_empty()).then(|| carrier.to_string()),
        number: (!number.is_empty()).then(|| number.to_string()),
        url: None,
    }
}

pub fn write_private(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("config written");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod 600");
    path
}

pub fn is_done(status: &FlowStatus) -> bool {
    matches!(status, FlowStatus::Done { .. })
}
