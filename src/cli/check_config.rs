//! `orderdeck check-config`: loads the config and either lists every problem (exit 2, via
//! [`super::fail`]) or prints a short summary of what it found. Then it checks the user's
//! console keymap (`$XDG_CONFIG_HOME/orderdeck/keymap.toml`, when there is one) the way the
//! console reads it, listing each problem at its `file:line:column` (exit 2 too). The summary
//! shows secrets only as fingerprints, so it can be pasted into a ticket; warnings go to
//! stderr like problems. Both are printed sanitized: a config may quote anything.

use std::fmt::{self, Write as _};
use std::io::Write as _;
use std::path::{Path, PathBuf};

use chrono::SecondsFormat;

use crate::config::{Config, ConfigPath, Secret, StorefrontConfig, StorefrontCredentials};
use crate::console::keymap::user_keymap_path;
use crate::console::{KeymapProblem, check_keymap};
use crate::domain::access::Role;

use super::output::{stdout, warn};

pub(super) fn run(at: &ConfigPath) -> anyhow::Result<()> {
    let keymap = user_keymap_path().filter(|path| path.exists()).map(|path| {
        let problems = check_keymap(&path);
        (path, problems)
    });
    let config = match Config::open(at) {
        Ok(config) => config,
        Err(problems) => {
            // Both files get checked: the keymap's problems first, then the config's (from
            // `fail`, with its count).
            if let Some((path, problems)) = &keymap {
                print_keymap_problems(path, problems);
            }
            return Err(problems.into());
        }
    };
    for warning in &config.warnings {
        warn(warning);
    }
    let mut out = stdout();
    out.write_all(summary(&config).as_bytes())?;
    match keymap {
        None => Ok(()),
        Some((path, problems)) if problems.is_empty() => {
            writeln!(out, "keymap {}: ok", path.display())?;
            Ok(())
        }
        Some((path, problems)) => {
            print_keymap_problems(&path, &problems);
            Err(KeymapProblems {
                path,
                count: problems.len(),
            }
            .into())
        }
    }
}

/// The user keymap has problems (already printed); `check-config` exits 2 for it.
#[derive(Debug)]
pub struct KeymapProblems {
    pub path: PathBuf,
    pub count: usize,
}

impl fmt::Display for KeymapProblems {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (noun, pronoun) = if self.count == 1 {
            ("problem", "it")
        } else {
            ("problems", "them")
        };
        write!(
            f,
            "{} {noun} in {}; fix {pronoun} and run `orderdeck check-config` again",
            self.count,
            self.path.display()
        )
    }
}

impl std::error::Error for KeymapProblems {}

fn print_keymap_problems(path: &Path, problems: &[KeymapProblem]) {
    for problem in problems {
        warn(problem);
    }
    if !problems.is_empty() {
        warn(format_args!(
            "orderdeck: the console skips these entries of {} and keeps the shipped keys for them",
            path.display()
        ));
    }
}

/// What the config holds, one line per entry.
fn summary(config: &Config) -> String {
    let mut out = String::new();
    let plural = |n: usize, what: &str| format!("{n} {what}{}", if n == 1 { "" } else { "s" });
    let _ = writeln!(
        out,
        "{}: ok ({}, {}, {}{})",
        config.source.display(),
        plural(config.shops.len(), "shop"),
        plural(config.stores.len(), "store"),
        plural(config.links.len(), "link"),
        match config.warnings.len() {
            0 => String::new(),
            n => format!(", {}", plural(n, "warning")),
        }
    );
    for shop in &config.shops {
        let expiry = |t: &Option<crate::domain::Timestamp>| match t {
            Some(t) => t.to_rfc3339_opts(SecondsFormat::Secs, true),
            None => "unknown".into(),
        };
        let _ = writeln!(
            out,
            "shop {}: region {}, app_key {}, app_secret {}, access_token {} (expires {}), refresh_token {} (expires {}), shop_cipher {}",
            shop.name,
            shop.region,
            shop.app_key,
            shop.app_secret,
            shop.access_token,
            expiry(&shop.access_token_expires_at),
            shop.refresh_token,
            expiry(&shop.refresh_token_expires_at),
            shop.shop_cipher
                .as_deref()
                .unwrap_or("discovered at first sync"),
        );
    }
    for store in &config.stores {
        let _ = writeln!(out, "store {}: {}", store.name, describe_store(store));
    }
    for link in &config.links {
        let _ = writeln!(
            out,
            "link {}: shop {} → store {}, polled every {}",
            link.name,
            link.shop,
            link.store,
            humantime::format_duration(link.poll_interval)
        );
    }
    let mut access: Vec<String> = Role::ALL
        .into_iter()
        .rev()
        .filter_map(|role| {
            let members = config.access.members.get(&role)?;
            let names: Vec<String> = members.iter().map(ToString::to_string).collect();
            Some(format!("{role} {}", names.join(" ")))
        })
        .collect();
    access.push(match config.access.default_role {
        Some(role) => format!("everyone else {role}"),
        None => "everyone else no access".into(),
    });
    let _ = writeln!(out, "access: {}", access.join("; "));
    let group = match &config.paths.socket_group {
        Some(group) => format!(" (group {group})"),
        None => String::new(),
    };
    let _ = writeln!(
        out,
        "paths: data {}, socket {}{group}",
        config.paths.data_dir.display(),
        config.paths.socket.display()
    );
    out
}

fn describe_store(store: &StorefrontConfig) -> String {
    let secrets = |pairs: &[(&str, &Secret)]| {
        pairs
            .iter()
            .map(|(key, secret)| format!("{key} {secret}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    // Optional on every store that has webhooks: shown (as a fingerprint) only when set.
    let webhook_secret = |secret: Option<&Secret>| {
        secret
            .map(|w| format!(", webhook_secret {w}"))
            .unwrap_or_default()
    };
    let platform = store.platform();
    let connector = if platform.capabilities().connector_available {
        ""
    } else {
        " (no connector yet)"
    };
    let details = match &store.credentials {
        StorefrontCredentials::Shopify(s) => format!(
            "{}, API {}, {}{}",
            s.shop_domain,
            s.api_version,
            secrets(&[("access_token", &s.access_token)]),
            webhook_secret(s.webhook_secret.as_ref())
        ),
        StorefrontCredentials::Woocommerce(w) => format!(
            "{}{}",
            secrets(&[
                ("consumer_key", &w.consumer_key),
                ("consumer_secret", &w.consumer_secret),
            ]),
            webhook_secret(w.webhook_secret.as_ref())
        ),
        StorefrontCredentials::Magento2(m) => secrets(&[("access_token", &m.access_token)]),
        StorefrontCredentials::Bigcommerce(b) => format!(
            "store hash {}, {}{}",
            b.store_hash,
            secrets(&[("access_token", &b.access_token)]),
            webhook_secret(b.webhook_secret.as_ref())
        ),
        StorefrontCredentials::AmazonMcf(a) => format!(
            "marketplace {} ({}), lwa_client_id {}, {}",
            a.marketplace_id,
            a.region,
            a.lwa_client_id,
            secrets(&[
                ("lwa_client_secret", &a.lwa_client_secret),
                ("refresh_token", &a.refresh_token)
            ])
        ),
    };
    format!("{platform}{connector} at {}, {details}", store.api_base)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::config::Environment;

    #[test]
    fn the_summary_shows_fingerprints_never_values() {
        let text = r#"
[[shops]]
name = "uk"
app_key = "k1"
app_secret = "APP-SECRET-VALUE"
access_token = "ACCESS-VALUE"
refresh_token = "REFRESH-VALUE"
region = "GB"
[[stores]]
name = "main"
platform = "shopify"
shop_domain = "acme.myshopify.com"
access_token = "SHOPIFY-VALUE"
webhook_secret = "WEBHOOK-VALUE"
[[stores]]
name = "big"
platform = "bigcommerce"
store_hash = "abc123"
access_token = "BC-TOKEN-VALUE"
webhook_secret = "BC-CLIENT-SECRET-VALUE"
[[links]]
shop = "uk"
store = "main"
[access]
admin = ["ann", "@ops"]
"#;
        let env = Environment {
            data_dir: Some("/data".into()),
            ..Environment::default()
        };
        let config = Config::parse(text, Path::new("od.toml"), 0o600, &env).unwrap();
        let summary = summary(&config);
        for value in [
            "APP-SECRET",
            "ACCESS-VALUE",
            "REFRESH-VALUE",
            "SHOPIFY-VALUE",
            "WEBHOOK-VALUE",
            "BC-TOKEN-VALUE",
            "BC-CLIENT-SECRET-VALUE",
        ] {
            assert!(!summary.contains(value), "{value} leaked:\n{summary}");
        }
        assert!(
            summary.starts_with("od.toml: ok (1 shop, 2 stores, 1 link)\n"),
            "{summary}"
        );
        assert!(summary.contains(&format!(
            "app_secret {}",
            Secret::new("APP-SECRET-VALUE").fingerprint()
        )));
        assert!(
            summary.contains("link uk: shop uk → store main, polled every 1m"),
            "{summary}"
        );
        assert!(
            summary.contains("access: admin ann @ops; everyone else no access"),
            "{summary}"
        );
        assert!(summary.contains("store main: Shopify at https://acme.myshopify.com/, acme.myshopify.com, API 2025-10"), "{summary}");
        let bigcommerce_secret = Secret::new("BC-CLIENT-SECRET-VALUE").fingerprint();
        assert!(
            summary.contains(&format!("webhook_secret {bigcommerce_secret}")),
            "the BigCommerce webhook secret is shown as set:\n{summary}"
        );
    }
}
