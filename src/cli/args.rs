//! Arguments of the commands that take any. Values are parsed into domain types here (order
//! ids, request ids, flows, setting keys, times), so a typo is a usage error (exit 2) before
//! anything runs, and a command body never sees unchecked text.

use std::path::PathBuf;
use std::time::Duration;

use clap::{Args, Subcommand};

use crate::domain::Timestamp;
use crate::domain::ids::{LinkId, RequestId, TiktokOrderId};
use crate::domain::request::ResyncFlow;
use crate::domain::settings::SettingKey;

#[derive(Debug, Clone, Args)]
pub struct SyncArgs {
    /// Poll each link once, run the resulting jobs, and exit (instead of running until stopped)
    #[arg(long)]
    pub once: bool,
}

#[derive(Debug, Clone, Args)]
pub struct SandboxArgs {
    /// Seed of the simulated data (same seed, same orders)
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Orders each simulated shop starts with
    #[arg(long, default_value_t = 200)]
    pub orders_per_shop: usize,
}

#[derive(Debug, Clone, Args)]
pub struct OrderArgs {
    /// The TikTok order id, or the store's order number (#1002 or 1002)
    #[arg(value_name = "ID|NUMBER")]
    pub order: String,
    /// Print JSON instead of a table
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Args)]
pub struct ResyncArgs {
    /// TikTok order ids
    #[arg(value_name = "ID", required = true)]
    pub orders: Vec<TiktokOrderId>,
    /// What to run again: import (re-create the store order), tracking (re-push tracking to
    /// TikTok) or cancel (re-run the cancellation sync)
    #[arg(long, value_parser = parse_flow, value_name = "import|tracking|cancel")]
    pub flow: ResyncFlow,
    /// Why, for the approver and the audit log
    #[arg(long, value_name = "TEXT")]
    pub reason: String,
}

#[derive(Debug, Clone, Args)]
pub struct RequestsArgs {
    /// Print JSON instead of a table
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Args)]
pub struct RejectArgs {
    /// The request (R12 or 12)
    #[arg(value_name = "REQ")]
    pub request: RequestId,
    /// Why, for the requester and the audit log
    #[arg(long, value_name = "TEXT")]
    pub reason: String,
}

#[derive(Debug, Clone, Args)]
pub struct LabelArgs {
    /// The TikTok order id (TikTok-shipped orders only)
    #[arg(value_name = "ID")]
    pub order: TiktokOrderId,
    /// Save the label to FILE [default: the data directory]
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Print it with label_print_command from [paths]
    #[arg(long)]
    pub print: bool,
}

#[derive(Debug, Clone, Args)]
pub struct HandledArgs {
    /// The TikTok order id (an order TikTok cancelled after the store shipped it)
    #[arg(value_name = "ID")]
    pub order: TiktokOrderId,
    /// How the parcel ended: intercepted, returned or written-off
    #[arg(long, value_parser = crate::domain::rules::parcel::ParcelOutcome::parse)]
    pub outcome: crate::domain::rules::parcel::ParcelOutcome,
    /// What was done (carrier ticket, return number…), for the audit log
    #[arg(long, value_name = "TEXT")]
    pub note: String,
}

#[derive(Debug, Clone, Subcommand)]
pub enum SettingsCommand {
    /// Show the settings of one link, or of every link
    Show {
        #[arg(value_name = "LINK")]
        link: Option<LinkId>,
    },
    /// Change one setting of a link (e.g. `settings set uk restock_on_cancel off`)
    Set {
        #[arg(value_name = "LINK")]
        link: LinkId,
        /// import_orders, sync_tracking, cancel_tiktok_to_store, restock_on_cancel,
        /// cancel_store_to_tiktok, default_cancel_reason, missing_tracking_after, carrier_map,
        /// inventory_behaviour (Shopify), shipping_speed, fulfillment_policy,
        /// block_amazon_logistics (Amazon MCF)
        #[arg(value_name = "KEY", value_parser = SettingKey::parse)]
        key: SettingKey,
        #[arg(value_name = "VALUE")]
        value: String,
    },
}

#[derive(Debug, Clone, Args)]
pub struct AuditArgs {
    /// Print JSON lines instead of a table
    #[arg(long)]
    pub json: bool,
    /// Only entries since TIME: an RFC 3339 time (2026-01-31T09:00:00Z) or a duration ago (2h, 3d)
    #[arg(long, value_name = "TIME", value_parser = parse_since)]
    pub since: Option<Since>,
}

/// The start of a time window, as typed on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Since {
    /// This long before now.
    Ago(Duration),
    At(Timestamp),
}

fn parse_flow(text: &str) -> Result<ResyncFlow, String> {
    ResyncFlow::parse(text)
        .ok_or_else(|| format!("{text:?} is not a flow; use import, tracking or cancel"))
}

fn parse_since(text: &str) -> Result<Since, String> {
    if let Ok(at) = chrono::DateTime::parse_from_rfc3339(text) {
        return Ok(Since::At(at.to_utc()));
    }
    humantime::parse_duration(text)
        .map(Since::Ago)
        .map_err(|_| format!("{text:?} is neither an RFC 3339 time (2026-01-31T09:00:00Z) nor a duration (2h, 3d)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_takes_a_time_or_a_duration() {
        assert_eq!(parse_since("2h"), Ok(Since::Ago(Duration::from_secs(7200))));
        let Ok(Since::At(at)) = parse_since("2026-01-31T09:00:00+01:00") else {
            panic!("not a time")
        };
        assert_eq!(at.to_rfc3339(), "2026-01-31T08:00:00+00:00");
        assert!(parse_since("last week").is_err());
    }

    #[test]
    fn flows_are_named_as_in_the_domain() {
        assert_eq!(parse_flow("tracking"), Ok(ResyncFlow::Tracking));
        assert!(
            parse_flow("refund")
                .unwrap_err()
                .contains("import, tracking or cancel")
        );
    }
}
