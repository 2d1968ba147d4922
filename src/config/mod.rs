//! `orderdeck.toml`: connections (shops, stores, links), credentials, access, paths and engine
//! tuning — the infrastructure an admin edits. Operational link settings live in the store;
//! the config only seeds them.
//!
//! Loading never stops at the first mistake: the document is parsed once with spans, each
//! section and each `[[…]]` entry is read on its own, and every problem (unknown key, bad value,
//! dangling reference, duplicate name, unreadable secret) is collected with its file, line and
//! column. A [`Config`] exists only when there are no errors; warnings travel with it.

mod access;
mod console;
mod files;
#[cfg(test)]
pub(crate) mod fuzz;
mod links;
mod paths;
mod problem;
mod reader;
mod secret;
mod shops;
mod stores;
#[cfg(test)]
mod tests;
mod webhooks;

use std::path::{Path, PathBuf};

use crate::domain::ids::{LinkId, ShopId, StorefrontId};

pub use access::{AccessConfig, Principal};
pub use console::{COLOURS, ConsoleConfig};
#[cfg(test)]
pub(crate) use files::TestFifo;
pub use files::{MAX_TEXT_FILE, ReadError, TextFile, read_text};
pub use links::{DEFAULT_POLL_INTERVAL, LinkConfig};
pub use paths::{ApprovalsConfig, EngineConfig, Environment, Paths};
pub use problem::{LineIndex, Position, Problem, Problems, Severity, did_you_mean};
pub use secret::Secret;
pub use shops::{DEFAULT_TIKTOK_API_BASE, DEFAULT_TIKTOK_AUTH_BASE, ShopConfig};
pub use stores::{
    AmazonMcfStore, BigcommerceStore, DEFAULT_LWA_AUTH_BASE, DEFAULT_SHOPIFY_API_VERSION,
    Magento2Store, ShopifyStore, StorefrontConfig, StorefrontCredentials, WoocommerceStore,
};
pub use webhooks::WebhooksConfig;

use reader::{Loader, Section};

/// A loaded, fully checked configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub shops: Vec<ShopConfig>,
    pub stores: Vec<StorefrontConfig>,
    pub links: Vec<LinkConfig>,
    pub access: AccessConfig,
    pub approvals: ApprovalsConfig,
    pub paths: Paths,
    pub engine: EngineConfig,
    /// `[console]`: the header's label and colour, the mouse.
    pub console: ConsoleConfig,
    /// `[webhooks]`: the daemon's HTTP listener.
    pub webhooks: WebhooksConfig,
    /// The file it was read from.
    pub source: PathBuf,
    /// Things worth fixing that do not stop orderdeck (e.g. a store without a connector yet).
    pub warnings: Vec<Problem>,
}

/// Where the config file is, and whether the user chose it: a missing default file deserves
/// instructions, a missing chosen one only the fact.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigPath {
    /// From `--config` or `ORDERDECK_CONFIG`.
    Given(PathBuf),
    /// `$XDG_CONFIG_HOME/orderdeck/orderdeck.toml`.
    Default(PathBuf),
}

impl ConfigPath {
    pub fn choose(given: Option<PathBuf>, env: &Environment) -> Result<ConfigPath, Problem> {
        match given {
            Some(path) => Ok(ConfigPath::Given(path)),
            None => env
                .config_dir
                .as_ref()
                .map(|dir| ConfigPath::Default(dir.join("orderdeck").join("orderdeck.toml")))
                .ok_or_else(|| {
                    Problem::error(
                        Path::new("orderdeck.toml"),
                        None,
                        "cannot find a config directory (no $XDG_CONFIG_HOME or home directory); \
                         pass --config PATH or set ORDERDECK_CONFIG",
                    )
                }),
        }
    }

    pub fn path(&self) -> &Path {
        match self {
            ConfigPath::Given(path) | ConfigPath::Default(path) => path,
        }
    }
}

impl Config {
    /// Reads and checks the config at `at`, with this process's environment.
    pub fn open(at: &ConfigPath) -> Result<Config, Problems> {
        let env = Environment::from_process();
        let path = at.path();
        let (text, mode) = match read_text(path, MAX_TEXT_FILE) {
            Ok(TextFile { text, mode }) => (text, mode),
            Err(e) if e.is_not_found() => {
                let message = match at {
                    ConfigPath::Given(_) => {
                        "config file does not exist (given by --config or ORDERDECK_CONFIG); \
                         `orderdeck init` with the same --config writes a commented starter config there"
                            .to_string()
                    }
                    ConfigPath::Default(_) => "no config file here (the default location). \
                         To try orderdeck on simulated shops: `orderdeck demo`. \
                         To start your own: `orderdeck init` writes a commented starter config here; \
                         or pass --config PATH / set ORDERDECK_CONFIG"
                        .to_string(),
                };
                return Err(Problem::error(path, None, message).into());
            }
            Err(e) => {
                let message = format!("cannot read the config file: {e}");
                return Err(Problem::error(path, e.position(), message).into());
            }
        };
        Config::parse(&text, path, mode, &env)
    }

    /// Reads and checks the config file at `path`.
    pub fn load(path: &Path) -> Result<Config, Problems> {
        Config::open(&ConfigPath::Given(path.to_path_buf()))
    }

    /// Checks `text` as if read from `source`, whose permission bits are `mode`; `env` supplies
    /// `env:` secrets and default directories. Pure apart from reading `file:` secrets.
    pub fn parse(
        text: &str,
        source: &Path,
        mode: u32,
        env: &Environment,
    ) -> Result<Config, Problems> {
        let mut ld = Loader {
            file: source,
            lines: LineIndex::new(text),
            env,
            base_dir: source.parent().map(Path::to_path_buf).unwrap_or_default(),
            mode,
            problems: Problems::default(),
        };
        let (document, syntax) = toml::de::DeTable::parse_recoverable(text);
        if !syntax.is_empty() {
            // After a syntax error the parser's recovery can invent structure, so the document is
            // not judged further. Recovery also repeats itself: one report per line is enough.
            let mut lines = std::collections::BTreeSet::new();
            for error in syntax {
                let span = error.span().unwrap_or(0..0);
                if lines.insert(ld.position(&span).line) {
                    ld.error(&span, format!("TOML syntax: {}", error.message().trim()));
                }
            }
            return Err(ld.problems.sorted());
        }
        let mut root = Section::new("the top level", 0..0, document.get_ref());
        let (shops, shop_names) = shops::read_shops(&mut ld, &mut root);
        let (stores, store_names) = stores::read_stores(&mut ld, &mut root);
        let declared = links::Declared {
            shops: &shop_names,
            stores: &store_names,
        };
        let links = links::read_links(&mut ld, &mut root, &declared);
        if links.is_empty() && !ld.problems.has_errors() {
            ld.file_warning("there are no [[links]]: nothing will be synced");
        }
        let section = sub_section(&mut ld, &mut root, "access");
        let access = access::read_access(&mut ld, section);
        let section = sub_section(&mut ld, &mut root, "approvals");
        let approvals = paths::read_approvals(&mut ld, section);
        let section = sub_section(&mut ld, &mut root, "paths");
        let paths = paths::read_paths(&mut ld, section);
        let section = sub_section(&mut ld, &mut root, "engine");
        let engine = paths::read_engine(&mut ld, section);
        let section = sub_section(&mut ld, &mut root, "console");
        let console = console::read_console(&mut ld, section);
        let section = sub_section(&mut ld, &mut root, "webhooks");
        let webhooks = webhooks::read_webhooks(&mut ld, section);
        root.finish(&mut ld, |_| None);
        let problems = ld.problems.sorted();
        if problems.has_errors() {
            return Err(problems);
        }
        Ok(Config {
            shops,
            stores,
            links,
            access,
            approvals,
            paths,
            engine,
            console,
            webhooks,
            source: source.to_path_buf(),
            warnings: problems.0,
        })
    }

    pub fn shop(&self, name: &ShopId) -> Option<&ShopConfig> {
        self.shops.iter().find(|s| &s.name == name)
    }

    pub fn store(&self, name: &StorefrontId) -> Option<&StorefrontConfig> {
        self.stores.iter().find(|s| &s.name == name)
    }

    pub fn link(&self, name: &LinkId) -> Option<&LinkConfig> {
        self.links.iter().find(|l| &l.name == name)
    }
}

/// A top-level `[name]` table, if present.
fn sub_section<'t, 'i>(
    ld: &mut Loader<'_>,
    root: &mut Section<'t, 'i>,
    key: &'static str,
) -> Option<Section<'t, 'i>> {
    root.table(ld, key)
        .map(|(table, span)| Section::new(format!("[{key}]"), span, table))
}
