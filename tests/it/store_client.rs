//! What every store client's tests set up alike: the deterministic scenario their simulated
//! store is seeded from, short timeouts, SKUs resolved through the client, and a US order draft
//! of the kind the engine builds. Each `<store>_client/support.rs` adds its own store's harness.

use std::net::SocketAddr;
use std::time::Duration;

use orderdeck::domain::ids::TiktokOrderId;
use orderdeck::domain::rules::cancel::StorefrontCancelInstruction;
use orderdeck::domain::rules::import::{
    DraftAddress, DraftLine, STORE_ORDER_TAG, SkuMatch, StorefrontOrderDraft,
};
use orderdeck::domain::settings::InventoryBehaviour;
use orderdeck::platforms::Storefront;
use orderdeck::platforms::http::Timeouts;
use orderdeck::sandbox::scenario::{Scenario, Size};

pub fn loopback() -> SocketAddr {
    "127.0.0.1:0".parse().expect("a socket address")
}

/// The scenario the stores' catalogues come from (one Shopify shop; add a store with `with_…`).
pub fn scenario() -> Scenario {
    Scenario::generate(
        7,
        Size {
            shops: 1,
            orders_per_shop: 0,
        },
        1_760_000_000,
    )
}

/// Short enough that a test of a hung store ends quickly.
pub const TIMEOUTS: Timeouts = Timeouts {
    connect: Duration::from_secs(2),
    request: Duration::from_secs(2),
};

/// The store item id of a seeded SKU, as `lookup_skus` answers it.
pub async fn item(client: &impl Storefront, sku: &str) -> String {
    match client
        .lookup_skus(&[sku.to_string()])
        .await
        .expect("lookup")
        .remove(sku)
    {
        Some(SkuMatch::One(id)) => id,
        other => panic!("{sku}: {other:?}"),
    }
}

/// A draft of a US order for `lines` of `(sku, quantity)`, each SKU resolved in the store;
/// `province` as the platform spells a US state.
pub async fn draft(
    client: &impl Storefront,
    tiktok_id: &str,
    lines: &[(&str, u32)],
    province: &str,
) -> StorefrontOrderDraft {
    let mut draft_lines = Vec::new();
    for (sku, quantity) in lines {
        draft_lines.push(DraftLine {
            seller_sku: sku.to_string(),
            store_item_id: Some(item(client, sku).await),
            title: format!("{sku} title"),
            quantity: *quantity,
            unit_price: "12.50".into(),
        });
    }
    StorefrontOrderDraft {
        tiktok_order_id: TiktokOrderId::new(tiktok_id).expect("id"),
        lines: draft_lines,
        currency: "USD".into(),
        address: DraftAddress {
            first_name: "Amara".into(),
            last_name: "Okafor".into(),
            address1: "100 Market St".into(),
            address2: "Apt 4".into(),
            city: "San Jose".into(),
            province: province.into(),
            country_code: "US".into(),
            zip: "95113".into(),
            phone: "(+1)408-***-555".into(),
        },
        note: Some("Please ship asap!".into()),
        tags: vec![STORE_ORDER_TAG.into()],
        inventory: InventoryBehaviour::Bypass,
        amazon: Default::default(),
    }
}

/// A TikTok cancel's store note as a first attempt wrote it (TikTok showed the order cancelled
/// before its record said by whom), and as a retry writes it once the record arrived.
pub fn cancel_notes_before_and_after_the_record() -> [StorefrontCancelInstruction; 2] {
    [
        "Cancelled on TikTok (system): Out of stock",
        "Cancelled on TikTok (buyer): Out of stock [seller_out_of_stock]",
    ]
    .map(|note| StorefrontCancelInstruction {
        restock: true,
        note: note.into(),
    })
}

/// The notes among `notes` that a TikTok cancel wrote.
pub fn tiktok_cancel_notes<'a>(notes: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    notes
        .into_iter()
        .filter(|n| n.starts_with("Cancelled on TikTok"))
        .collect()
}
