//! `orderdeck webhooks register|list|remove [--link L]`: the platforms' webhook subscriptions
//! that point at this orderdeck (`[webhooks] public_url` + the listener's routes), through each
//! platform's own API. Registering twice changes nothing; removing touches only subscriptions
//! that deliver to this orderdeck. Runs with the config's credentials, daemon or not.

use std::sync::Arc;

use clap::{Args, Subcommand};
use serde::Serialize;

use crate::config::Config;
use crate::domain::clock::SystemClock;
use crate::domain::ids::LinkId;
use crate::domain::platform::Platform;
use crate::domain::subscriptions::{self, Held, Step};
use crate::engine::wiring::build_links;
use crate::platforms::{PlatformError, Subscription};

use super::output::{Table, print_json};

#[derive(Debug, Clone, Subcommand)]
pub enum WebhooksCommand {
    /// Subscribe each link's shop and store to the webhooks orderdeck reads
    Register(Scope),
    /// List the webhook subscriptions each link's shop and store holds
    List(Scope),
    /// Remove the subscriptions that deliver to this orderdeck
    Remove(Scope),
}

#[derive(Debug, Clone, Args)]
pub struct Scope {
    /// Only this link
    #[arg(long, value_name = "LINK")]
    pub link: Option<LinkId>,
    /// JSON instead of a table
    #[arg(long)]
    pub json: bool,
}

/// One subscription and what the command did about it.
#[derive(Debug, Serialize)]
pub struct Row {
    pub link: String,
    pub platform: &'static str,
    pub topic: String,
    pub address: String,
    /// `kept`, `created`, `renewed (it was switched off)`, `removed`, `orderdeck` / `other`
    /// (listed: whose it is; `switched off` is added when the platform stopped it), `polled` (no
    /// webhooks to register), or `failed: why`.
    pub state: String,
}

/// One side of a link that may hold subscriptions (a shop or a store shared by links is
/// visited once).
struct Target<'a> {
    link: &'a LinkId,
    platform: Platform,
    store: &'a str,
}

pub async fn run(config: &Config, command: &WebhooksCommand) -> anyhow::Result<()> {
    let (action, scope) = match command {
        WebhooksCommand::Register(s) => (Action::Register, s),
        WebhooksCommand::List(s) => (Action::List, s),
        WebhooksCommand::Remove(s) => (Action::Remove, s),
    };
    let rows = apply(config, action, scope.link.as_ref()).await?;
    let failed = rows
        .iter()
        .filter(|r| r.state.starts_with("failed"))
        .count();
    if scope.json {
        print_json(&rows)?;
    } else {
        let mut table = Table::new(["Link", "Platform", "Topic", "Address", "State"]);
        for r in &rows {
            table.row([
                r.link.clone(),
                r.platform.to_string(),
                r.topic.clone(),
                r.address.clone(),
                r.state.clone(),
            ]);
        }
        table.print(&format!("{} subscriptions, {failed} failed", rows.len()))?;
    }
    if failed > 0 {
        anyhow::bail!("{failed} webhook operations failed (see the State column)");
    }
    Ok(())
}

/// What to do with the subscriptions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Register,
    List,
    Remove,
}

/// Does `action` on every link's shop and store (or `link`'s only): a row per subscription.
pub async fn apply(
    config: &Config,
    action: Action,
    link: Option<&LinkId>,
) -> anyhow::Result<Vec<Row>> {
    if let Some(link) = link
        && !config.links.iter().any(|l| &l.name == link)
    {
        anyhow::bail!("there is no link {link} in {}", config.source.display());
    }
    let public_url = config
        .webhooks
        .public_url
        .as_ref()
        .map(|u| u.as_str().trim_end_matches('/').to_string());
    if public_url.is_none() && action != Action::List {
        anyhow::bail!(
            "set [webhooks] public_url in {} first: it is the address the platforms are told to call",
            config.source.display()
        );
    }
    let token_dir = config.paths.data_dir.join("tokens");
    let wired = build_links(config, Arc::new(SystemClock), &token_dir)?;
    for skipped in &wired.skipped {
        super::output::warn(format_args!("orderdeck: {skipped}"));
    }
    let mut rows = Vec::new();
    let (mut shops, mut stores) = (Vec::new(), Vec::new());
    for runtime in wired
        .links
        .iter()
        .filter(|l| link.is_none_or(|id| id == &l.id))
    {
        if !shops.contains(&runtime.shop) {
            shops.push(runtime.shop.clone());
            let target = Target {
                link: &runtime.id,
                platform: Platform::TiktokShop,
                store: "",
            };
            let side = Side::Shop(runtime.marketplace.as_ref());
            act(action, &target, &side, public_url.as_deref(), &mut rows).await;
        }
        if !stores.contains(&runtime.storefront_name) {
            stores.push(runtime.storefront_name.clone());
            let target = Target {
                link: &runtime.id,
                platform: runtime.platform,
                store: runtime.storefront_name.as_str(),
            };
            let side = Side::Store(runtime.storefront.as_ref());
            act(action, &target, &side, public_url.as_deref(), &mut rows).await;
        }
    }
    Ok(rows)
}

/// The platform API of one side of a link.
enum Side<'a> {
    Shop(&'a dyn crate::platforms::Marketplace),
    Store(&'a dyn crate::platforms::Storefront),
}

impl Side<'_> {
    async fn list(&self) -> Result<Vec<Subscription>, PlatformError> {
        match self {
            Side::Shop(m) => m.webhooks().await,
            Side::Store(s) => s.webhooks().await,
        }
    }

    async fn subscribe(&self, topic: &str, address: &str) -> Result<Subscription, PlatformError> {
        match self {
            Side::Shop(m) => m.subscribe(topic, address).await,
            Side::Store(s) => s.subscribe(topic, address).await,
        }
    }

    async fn unsubscribe(&self, subscription: &Subscription) -> Result<(), PlatformError> {
        match self {
            Side::Shop(m) => m.unsubscribe(subscription).await,
            Side::Store(s) => s.unsubscribe(subscription).await,
        }
    }
}

async fn act(
    action: Action,
    target: &Target<'_>,
    side: &Side<'_>,
    public_url: Option<&str>,
    rows: &mut Vec<Row>,
) {
    let row = |topic: &str, address: &str, state: String| Row {
        link: target.link.to_string(),
        platform: target.platform.config_name(),
        topic: topic.to_string(),
        address: address.to_string(),
        state,
    };
    let wanted = subscriptions::topics(target.platform);
    if wanted.is_empty() {
        rows.push(row("-", "-", "polled (no webhooks to register)".into()));
        return;
    }
    let ours =
        public_url.map(|u| format!("{u}{}", subscriptions::route(target.platform, target.store)));
    let existing = match side.list().await {
        Ok(existing) => existing,
        Err(e) => return rows.push(row("-", "-", format!("failed: {e}"))),
    };
    match action {
        Action::List => rows.extend(existing.iter().map(|s| {
            let whose = if Some(&s.address) == ours.as_ref() {
                "orderdeck"
            } else {
                "other"
            };
            let state = if s.active {
                whose.to_string()
            } else {
                format!("{whose}, switched off")
            };
            row(&s.topic, &s.address, state)
        })),
        Action::Register => {
            let Some(ours) = ours else { return };
            let held: Vec<Held> = existing
                .iter()
                .map(|s| Held {
                    topic: &s.topic,
                    address: &s.address,
                    active: s.active,
                })
                .collect();
            for (topic, step) in subscriptions::plan(wanted, &held, &ours) {
                let state = match step {
                    Step::Keep => "kept".to_string(),
                    Step::Create => created(side.subscribe(topic, &ours).await, "created"),
                    Step::Renew => {
                        let switched_off = existing
                            .iter()
                            .filter(|s| s.topic.eq_ignore_ascii_case(topic) && s.address == ours);
                        let mut removed = Ok(());
                        for old in switched_off {
                            removed = removed.and(side.unsubscribe(old).await);
                        }
                        match removed {
                            Ok(()) => created(
                                side.subscribe(topic, &ours).await,
                                "renewed (it was switched off)",
                            ),
                            Err(e) => format!("failed: {e}"),
                        }
                    }
                };
                rows.push(row(topic, &ours, state));
            }
        }
        Action::Remove => {
            for s in existing
                .iter()
                .filter(|s| Some(&s.address) == ours.as_ref())
            {
                let state = match side.unsubscribe(s).await {
                    Ok(()) => "removed".to_string(),
                    Err(e) => format!("failed: {e}"),
                };
                rows.push(row(&s.topic, &s.address, state));
            }
        }
    }
}

/// The State column of a subscribe: `done`, or why it failed.
fn created(result: Result<Subscription, PlatformError>, done: &str) -> String {
    match result {
        Ok(_) => done.to_string(),
        Err(e) => format!("failed: {e}"),
    }
}
