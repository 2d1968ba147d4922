//! `[webhooks]`: where `orderdeck serve` listens for HTTP — `/healthz` and `/metrics` for
//! monitoring (and the platforms' webhooks, issue #13) — and the public address the platforms
//! are told to call. Without `listen`, the daemon opens no HTTP port at all.

use std::net::SocketAddr;
use std::time::Duration;

use super::reader::{Loader, Section};

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WebhooksConfig {
    /// `host:port` to listen on; put the merchant's TLS reverse proxy in front.
    pub listen: Option<SocketAddr>,
    /// What the platforms are told to call (https, behind the proxy).
    pub public_url: Option<url::Url>,
    /// How often a link is polled while its webhooks arrive (a verified one within this
    /// interval); unset, webhooks never slow the poll.
    pub poll_interval_while_healthy: Option<Duration>,
}

pub(crate) fn read_webhooks(
    ld: &mut Loader<'_>,
    section: Option<Section<'_, '_>>,
) -> WebhooksConfig {
    let Some(mut section) = section else {
        return WebhooksConfig::default();
    };
    let listen = section.checked(ld, "listen", true, check_listen);
    let public_url = section.checked(ld, "public_url", false, check_public_url);
    let poll_interval_while_healthy =
        section
            .get("poll_interval_while_healthy")
            .is_some()
            .then(|| {
                section.duration(
                    ld,
                    "poll_interval_while_healthy",
                    Duration::from_secs(600),
                    Duration::from_secs(1)..=Duration::from_secs(86_400),
                )
            });
    section.finish(ld, |_| None);
    WebhooksConfig {
        listen,
        public_url,
        poll_interval_while_healthy,
    }
}

fn check_listen(text: &str) -> Result<SocketAddr, String> {
    text.trim().parse().map_err(|_| {
        format!(
            "{:?} is not an address and port to listen on, e.g. \"127.0.0.1:8787\"",
            crate::domain::text::sanitize(text)
        )
    })
}

/// https, as the platforms require; plain http only to this machine (the built-in sandbox,
/// whose simulated platforms deliver to the demo's listener).
fn check_public_url(text: &str) -> Result<url::Url, String> {
    let url = url::Url::parse(text.trim()).map_err(|e| format!("not a URL ({e})"))?;
    let loopback = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    if url.scheme() != "https" && !(url.scheme() == "http" && loopback) {
        return Err(format!(
            "the platforms call webhooks over https only, not {}",
            url.scheme()
        ));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listen_and_public_url_are_checked_with_the_fix() {
        assert_eq!(
            check_listen(" 127.0.0.1:8787 "),
            Ok("127.0.0.1:8787".parse().unwrap())
        );
        let bad = check_listen("localhost").unwrap_err();
        assert!(bad.contains("e.g. \"127.0.0.1:8787\""), "{bad}");
        assert!(check_public_url("https://orderdeck.example.com").is_ok());
        let plain = check_public_url("http://orderdeck.example.com").unwrap_err();
        assert!(plain.contains("https only"), "{plain}");
        assert!(
            check_public_url("http://127.0.0.1:8787").is_ok(),
            "the sandbox's"
        );
    }
}
