//! The crash test's verdict on the WooCommerce, Magento, BigCommerce and Amazon MCF links, from
//! each store's own records: one store order per TikTok order (WooCommerce by
//! `_tiktok_order_id` meta, Magento by `ext_order_id`, BigCommerce by `external_order_id`,
//! Amazon by `sellerFulfillmentOrderId`), TikTok's cancels applied once (one status change to
//! Cancelled, one closing credit memo, one note in `staff_notes`, one cancel through Amazon's
//! API), staff cancels relayed once where they must be and never otherwise (never from Amazon's
//! Seller Central), orderdeck's own cancels and credit memos never relayed back, TikTok cancels
//! that came after Amazon started picking left in Amazon and listed with why, and the figures
//! per platform.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

use orderdeck::sandbox::set::SandboxSet;

use crate::crash::driver::{Known, Log, Platform, platform_of};

/// orderdeck's mark on the credit memos it makes (the Magento connector's `OWN_MEMO_MARK`).
const OWN_MEMO_MARK: &str = "[orderdeck]";
/// How orderdeck's store notes begin (`rules::cancel::store_note`).
const TIKTOK_NOTE: &str = "Cancelled on TikTok";

/// Every WooCommerce, Magento, BigCommerce and Amazon order orderdeck made, by TikTok order;
/// fails on any TikTok order with two.
pub fn orders_by_tiktok_id(set: &SandboxSet) -> BTreeSet<String> {
    let mut ids: Vec<String> = Vec::new();
    for site in &set.scenario.woocommerce {
        let orders = set.woocommerce.orders(&site.name).expect("site");
        ids.extend(
            orders
                .iter()
                .filter_map(|o| o.meta_text("_tiktok_order_id")),
        );
    }
    for store in &set.scenario.magento {
        let orders = set.magento.orders(&store.name).expect("store");
        ids.extend(orders.iter().filter_map(|o| o.ext_order_id.clone()));
    }
    for store in &set.scenario.bigcommerce {
        let orders = set.bigcommerce.orders(&store.name).expect("store");
        ids.extend(
            orders
                .iter()
                .map(|o| o.external_order_id.clone())
                .filter(|id| !id.is_empty()),
        );
    }
    // Amazon refuses a second `sellerFulfillmentOrderId`, so the packing slip's order id
    // (`displayableOrderId`) is what would show a second fulfillment order for one TikTok order.
    for seller in &set.amazon {
        ids.extend(seller.orders().iter().map(|o| {
            o.request["displayableOrderId"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        }));
    }
    let mut seen = BTreeSet::new();
    let duplicates: Vec<&String> = ids.iter().filter(|id| !seen.insert(*id)).collect();
    assert!(
        duplicates.is_empty(),
        "duplicated WooCommerce/Magento/BigCommerce/Amazon orders: {duplicates:?}"
    );
    seen.into_iter().cloned().collect()
}

/// What happened on one platform, for the figures.
#[derive(Debug, Default)]
struct Figures {
    orders: usize,
    parcels: usize,
    tiktok_cancels: usize,
    admin_cancels: usize,
    relayed: usize,
    part_cancels: usize,
    /// TikTok cancels Amazon could no longer apply (it had started picking).
    too_late: usize,
}

/// What the store holds of one TikTok order, in the terms the checks need.
struct Held {
    cancelled: bool,
    /// Times the order entered its cancelled state (WooCommerce status notes), orderdeck
    /// wrote TikTok's reason on it (Magento comment, BigCommerce `staff_notes`) or cancelled it
    /// through Amazon's API.
    tiktok_cancels: usize,
    /// Magento credit memos: orderdeck's (closing or of units) and the merchant's.
    own_memos: usize,
    staff_memos: usize,
    /// Units no longer held (Magento: refunded).
    units_refunded: usize,
}

fn held(set: &SandboxSet, platform: Platform, store: &str, id: &str) -> Option<Held> {
    match platform {
        Platform::Woocommerce => {
            let order = set.woocommerce.orders_for(store, id).ok()?.pop()?;
            let entered = order
                .notes
                .iter()
                .filter(|n| n.note.ends_with("to Cancelled."))
                .count();
            let ours = order.notes.iter().any(|n| n.note.contains(TIKTOK_NOTE));
            Some(Held {
                cancelled: order.status == "cancelled",
                tiktok_cancels: if ours { entered } else { 0 },
                own_memos: 0,
                staff_memos: 0,
                units_refunded: 0,
            })
        }
        Platform::Magento => {
            let order = set.magento.orders_for(store, id).ok()?.pop()?;
            let memos = set.magento.credit_memos(store, order.entity_id).ok()?;
            let own = memos
                .iter()
                .filter(|m| m.comments.iter().any(|c| c.contains(OWN_MEMO_MARK)))
                .count();
            Some(Held {
                cancelled: matches!(order.state.as_str(), "canceled" | "closed"),
                tiktok_cancels: order
                    .comments
                    .iter()
                    .filter(|c| c.comment.contains(TIKTOK_NOTE))
                    .count(),
                own_memos: own,
                staff_memos: memos.len() - own,
                units_refunded: order.items.iter().map(|i| i.qty_refunded as usize).sum(),
            })
        }
        Platform::Bigcommerce => {
            let order = set.bigcommerce.orders_for(store, id).ok()?.pop()?;
            Some(Held {
                cancelled: order.status_id == 5,
                tiktok_cancels: order.staff_notes.matches(TIKTOK_NOTE).count(),
                own_memos: 0,
                staff_memos: 0,
                units_refunded: 0,
            })
        }
        Platform::AmazonMcf => {
            let order = set.amazon_of(store)?.order(id)?;
            Some(Held {
                cancelled: order.status == "Cancelled",
                tiktok_cancels: usize::from(order.cancelled_by_api),
                own_memos: 0,
                staff_memos: 0,
                units_refunded: 0,
            })
        }
        Platform::Shopify => None,
    }
}

/// The checks on every non-Shopify link; answers the figures, one line per platform.
pub fn check(
    set: &SandboxSet,
    log: &Log,
    known: &BTreeMap<String, Known>,
    explain: &dyn Fn(&str) -> String,
) -> String {
    let mut figures: BTreeMap<&str, Figures> = BTreeMap::new();
    let name = |p: Platform| match p {
        Platform::Woocommerce => "WooCommerce",
        Platform::Magento => "Magento",
        Platform::Bigcommerce => "BigCommerce",
        Platform::AmazonMcf => "Amazon MCF",
        Platform::Shopify => "Shopify",
    };
    let of = |id: &str| -> Option<(Platform, String)> {
        let shop = known.get(id)?.shop;
        let platform = platform_of(set, shop);
        (platform != Platform::Shopify).then(|| (platform, set.scenario.shops[shop].store.clone()))
    };
    for id in known.keys() {
        let Some((platform, store)) = of(id) else {
            continue;
        };
        let f = figures.entry(name(platform)).or_default();
        if held(set, platform, &store, id).is_some() {
            f.orders += 1;
        }
        f.parcels += usize::from(log.fulfilled.contains_key(id))
            + log.split.get(id).map_or(0, |(n, _)| n.len());
    }
    for id in &log.tiktok_cancelled {
        let Some((platform, store)) = of(id) else {
            continue;
        };
        let Some(order) = held(set, platform, &store, id) else {
            continue;
        };
        assert!(
            order.cancelled,
            "{id}: cancelled on TikTok, open in {store}\n{}",
            explain(id)
        );
        assert_eq!(
            order.tiktok_cancels,
            1,
            "{id}: TikTok's cancel applied {} times in {store}\n{}",
            order.tiktok_cancels,
            explain(id)
        );
        assert!(
            order.own_memos <= 1 && order.staff_memos == 0,
            "{id}: credit memos in {store}"
        );
        let by_seller = set
            .tiktok
            .cancellations_of(id)
            .iter()
            .filter(|c| c.role == "SELLER")
            .count();
        assert!(
            by_seller <= 1,
            "{id}: orderdeck's own cancel went back to TikTok\n{}",
            explain(id)
        );
        figures.entry(name(platform)).or_default().tiktok_cancels += 1;
    }
    for (id, relays) in &log.admin_cancelled {
        let Some((platform, store)) = of(id) else {
            continue;
        };
        let on_tiktok = set.tiktok.cancellations_of(id);
        let by_seller = on_tiktok.iter().filter(|c| c.role == "SELLER").count();
        let f = figures.entry(name(platform)).or_default();
        f.admin_cancels += 1;
        if *relays {
            assert_eq!(
                set.tiktok.order_status(id).as_deref(),
                Some("CANCELLED"),
                "{id}: cancelled in {store}, not on TikTok\n{}",
                explain(id)
            );
            assert_eq!(by_seller, 1, "{id}: {on_tiktok:?}\n{}", explain(id));
            f.relayed += 1;
        } else {
            assert_eq!(
                by_seller,
                0,
                "{id}: a bare cancel in {store} was relayed: {on_tiktok:?}\n{}",
                explain(id)
            );
        }
        let order =
            held(set, platform, &store, id).expect("cancelled in the admin, so in the store");
        assert_eq!(
            order.tiktok_cancels,
            0,
            "{id}: echoed back to {store}\n{}",
            explain(id)
        );
        assert_eq!(
            order.own_memos,
            0,
            "{id}: orderdeck refunded it in {store}\n{}",
            explain(id)
        );
    }
    for (id, cancelled) in &log.part_cancelled {
        let Some((platform, store)) = of(id) else {
            continue;
        };
        let order = held(set, platform, &store, id).expect("part-cancelled in the store");
        assert!(
            !order.cancelled,
            "{id}: the kept units were cancelled in {store}\n{}",
            explain(id)
        );
        assert_eq!(
            (order.units_refunded, order.own_memos, order.staff_memos),
            (cancelled.len(), 1, 0),
            "{id}: units refunded, orderdeck's and staff's credit memos in {store}\n{}",
            explain(id)
        );
        assert_ne!(set.tiktok.order_status(id).as_deref(), Some("CANCELLED"));
        let on_tiktok = set.tiktok.cancellations_of(id);
        assert!(
            on_tiktok.iter().all(|c| c.role != "SELLER"),
            "{id}: orderdeck's credit memo went back to TikTok: {on_tiktok:?}\n{}",
            explain(id)
        );
        for shipment in set.tiktok.shipments(id) {
            assert!(
                shipment.line_ids.iter().all(|l| !cancelled.contains(l)),
                "{id}: a cancelled unit shipped: {shipment:?}"
            );
        }
        figures.entry(name(platform)).or_default().part_cancels += 1;
    }
    for id in &log.too_late {
        let Some((platform, store)) = of(id) else {
            continue;
        };
        let order = held(set, platform, &store, id).expect("picked in Amazon, so there");
        assert!(
            !order.cancelled && order.tiktok_cancels == 0,
            "{id}: Amazon had started picking it, yet it was cancelled in {store}\n{}",
            explain(id)
        );
        let on_tiktok = set.tiktok.cancellations_of(id);
        assert!(
            on_tiktok.iter().all(|c| c.role != "SELLER"),
            "{id}: TikTok's own cancel went back to TikTok: {on_tiktok:?}\n{}",
            explain(id)
        );
        figures.entry(name(platform)).or_default().too_late += 1;
    }
    let mut out = String::new();
    for (platform, f) in &figures {
        let _ = writeln!(
            out,
            "  {platform}: {} store orders, 0 duplicates; {} parcels; {} TikTok cancels applied; \
             {} admin cancels, {} relayed; {} partial cancels; {} TikTok cancels too late to apply",
            f.orders,
            f.parcels,
            f.tiktok_cancels,
            f.admin_cancels,
            f.relayed,
            f.part_cancels,
            f.too_late
        );
    }
    out
}
