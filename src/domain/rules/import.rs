//! Import: a paid TikTok order becomes one store order. `decide_import` says whether and when;
//! `draft_store_order` turns the order into what any store connector needs, or into the reason a
//! person must act (unknown SKU, ambiguous SKU, no address) — never a guess.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::domain::cause::{Blocked, StuckCause};
use crate::domain::ids::{StorefrontId, TiktokOrderId};
use crate::domain::order::{FlowStatus, FulfillmentType, Order, OrderStatus};
use crate::domain::platform::Platform;
use crate::domain::settings::{AmazonOrderOptions, InventoryBehaviour, LinkSettings};
use crate::domain::text;

use super::address::{ShipTo, ship_to};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportDecision {
    /// Queue the import job.
    Create,
    /// Not yet: TikTok has not released the order for shipping.
    Wait { why: String },
    /// The link's settings say not to.
    Skip { why: String },
    /// Already in the store, already queued or stuck, or never meant for the store.
    Nothing { why: String },
}

pub fn decide_import(order: &Order, settings: &LinkSettings) -> ImportDecision {
    use ImportDecision::*;
    if let Some(store) = &order.store {
        return Nothing {
            why: format!(
                "already in the store as {}",
                store.name.as_deref().unwrap_or(store.order_id.as_str())
            ),
        };
    }
    match &order.flows.import.status {
        FlowStatus::Queued => {
            return Nothing {
                why: "import already queued".into(),
            };
        }
        FlowStatus::Stuck { reason } => {
            return Nothing {
                why: format!("import is stuck ({reason}); a resync re-runs it"),
            };
        }
        FlowStatus::Done { .. } => {
            return Nothing {
                why: "already imported".into(),
            };
        }
        _ => {}
    }
    if order.tiktok.fulfillment_type == FulfillmentType::ByTiktok {
        return Nothing {
            why: "fulfilled by TikTok's warehouse (FBT): the store does not ship it".into(),
        };
    }
    match &order.tiktok.status {
        OrderStatus::Unpaid => Wait {
            why: "UNPAID: waiting for the buyer's payment".into(),
        },
        OrderStatus::OnHold => Wait {
            why: "ON_HOLD: TikTok's buyer-remorse window (about an hour)".into(),
        },
        OrderStatus::AwaitingShipment if !settings.import_orders => Skip {
            why: "import_orders is off for this link".into(),
        },
        OrderStatus::AwaitingShipment => Create,
        OrderStatus::Cancelled => Nothing {
            why: "cancelled on TikTok before it reached the store".into(),
        },
        OrderStatus::Unknown(status) => Wait {
            why: format!(
                "unknown TikTok status {}: waiting for a known one",
                text::sanitize(status)
            ),
        },
        shipped => Nothing {
            why: format!("already {} when orderdeck first saw it", shipped.as_wire()),
        },
    }
}

/// What the store answered when asked for one SKU.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "match", content = "value", rename_all = "snake_case")]
pub enum SkuMatch {
    /// Exactly one product/variant; its store id.
    One(String),
    None,
    /// Several variants share the SKU (how many).
    Many(usize),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DraftLine {
    pub seller_sku: String,
    /// The store's variant/product id, for stores that need one (see `needs_sku_lookup`).
    pub store_item_id: Option<String>,
    pub title: String,
    pub quantity: u32,
    pub unit_price: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct DraftAddress {
    pub first_name: String,
    pub last_name: String,
    pub address1: String,
    pub address2: String,
    pub city: String,
    pub province: String,
    pub country_code: String,
    pub zip: String,
    pub phone: String,
}

/// A store order to create, in the same terms for every store platform.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StorefrontOrderDraft {
    pub tiktok_order_id: TiktokOrderId,
    pub lines: Vec<DraftLine>,
    pub currency: String,
    pub address: DraftAddress,
    /// The buyer's message, if any.
    pub note: Option<String>,
    pub tags: Vec<String>,
    pub inventory: InventoryBehaviour,
    /// What an Amazon MCF fulfillment order asks for (other stores ignore it).
    #[serde(default)]
    pub amazon: AmazonOrderOptions,
}

/// The tag every order orderdeck creates carries; store pollers filter on it.
pub const STORE_ORDER_TAG: &str = "TikTok Shop";

/// Builds the draft, or the reason the order cannot be created, worded for the person who fixes
/// it, with what it waits on: only a SKU the store lacks can go away without a person touching
/// the order or the store's catalogue by hand (a SKU matching several variants must be made
/// unique by someone who knows which one is meant).
pub fn draft_store_order(
    order: &Order,
    store: &StorefrontId,
    platform: Platform,
    skus: &HashMap<String, SkuMatch>,
    settings: &LinkSettings,
) -> Result<StorefrontOrderDraft, Blocked> {
    let needs_lookup = platform.capabilities().needs_sku_lookup;
    let mut lines = Vec::with_capacity(order.tiktok.lines.len());
    for group in &order.tiktok.lines {
        let sku = group.seller_sku.trim();
        if sku.is_empty() {
            return Err(Blocked::person(format!(
                "TikTok line {:?} (sku_id {}) has no seller SKU: set one on the TikTok product",
                text::sanitize(&group.product_name),
                text::sanitize(&group.sku_id)
            )));
        }
        let shown = text::sanitize(sku);
        let store_item_id = if needs_lookup {
            match skus.get(sku) {
                Some(SkuMatch::One(id)) => Some(id.clone()),
                Some(SkuMatch::None) => {
                    return Err(Blocked::on(
                        StuckCause::MissingSku {
                            store: store.clone(),
                            sku: sku.to_string(),
                        },
                        format!("SKU {shown} has no variant in store {store}"),
                    ));
                }
                Some(SkuMatch::Many(n)) => {
                    return Err(Blocked::person(format!(
                        "SKU {shown} matches {n} variants in store {store}: make the SKU unique there"
                    )));
                }
                None => {
                    return Err(Blocked::person(format!(
                        "SKU {shown} was not looked up in store {store}"
                    )));
                }
            }
        } else {
            None
        };
        let title = [group.product_name.as_str(), group.sku_name.as_str()]
            .into_iter()
            .filter(|s| !s.trim().is_empty())
            .collect::<Vec<_>>()
            .join(" — ");
        lines.push(DraftLine {
            seller_sku: sku.to_string(),
            store_item_id,
            title,
            quantity: group.quantity,
            unit_price: group.unit_price.clone(),
        });
    }
    if lines.is_empty() {
        return Err(Blocked::person("TikTok sent the order without line items"));
    }
    let r = &order.tiktok.recipient;
    if !r.is_shippable() {
        return Err(Blocked::person(
            "TikTok sent no usable shipping address (street and country are required)",
        ));
    }
    let ShipTo { address, note } = ship_to(order);
    Ok(StorefrontOrderDraft {
        tiktok_order_id: order.id.clone(),
        lines,
        currency: order.tiktok.currency.clone(),
        address,
        note,
        tags: vec![
            STORE_ORDER_TAG.to_string(),
            format!("tiktok-{}", order.link),
        ],
        inventory: settings.inventory_behaviour,
        amazon: settings.amazon_order_options(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::order::{FlowStatus, OrderStatus, ShippingType};
    use crate::domain::rules::fixtures::*;

    #[test]
    fn import_decision_per_status_and_setting() {
        let off = LinkSettings {
            import_orders: false,
            ..LinkSettings::default()
        };
        let on = LinkSettings::default();
        // (status, settings, expected kind, words in why)
        let table = [
            (OrderStatus::Unpaid, &on, "wait", "UNPAID"),
            (OrderStatus::OnHold, &on, "wait", "ON_HOLD"),
            (OrderStatus::AwaitingShipment, &on, "create", ""),
            (
                OrderStatus::AwaitingShipment,
                &off,
                "skip",
                "import_orders is off",
            ),
            (OrderStatus::OnHold, &off, "wait", "ON_HOLD"),
            (
                OrderStatus::PartiallyShipping,
                &on,
                "nothing",
                "already PARTIALLY_SHIPPING",
            ),
            (OrderStatus::InTransit, &on, "nothing", "already IN_TRANSIT"),
            (OrderStatus::Delivered, &on, "nothing", "already DELIVERED"),
            (
                OrderStatus::Cancelled,
                &on,
                "nothing",
                "cancelled on TikTok",
            ),
            (
                OrderStatus::Unknown("NEW_STATE".into()),
                &on,
                "wait",
                "unknown TikTok status NEW_STATE",
            ),
        ];
        for shipping in [ShippingType::Seller, ShippingType::Tiktok] {
            for (status, settings, kind, words) in &table {
                let decision = decide_import(&order(status.clone(), shipping.clone()), settings);
                let (got, why) = match &decision {
                    ImportDecision::Create => ("create", String::new()),
                    ImportDecision::Wait { why } => ("wait", why.clone()),
                    ImportDecision::Skip { why } => ("skip", why.clone()),
                    ImportDecision::Nothing { why } => ("nothing", why.clone()),
                };
                assert_eq!(got, *kind, "{status} {shipping}");
                assert!(why.contains(words), "{status}: {why}");
            }
        }
    }

    #[test]
    fn one_tiktok_order_never_imports_twice() {
        let store = in_store(paid(), vec![]);
        assert!(
            matches!(decide_import(&store, &LinkSettings::default()), ImportDecision::Nothing { why } if why.contains("#1001"))
        );
        for status in [
            FlowStatus::Queued,
            FlowStatus::Done { at: t(1) },
            FlowStatus::Stuck {
                reason: "SKU X".into(),
            },
        ] {
            let mut o = paid();
            o.flows.import.status = status.clone();
            assert!(
                matches!(
                    decide_import(&o, &LinkSettings::default()),
                    ImportDecision::Nothing { .. }
                ),
                "{status:?}"
            );
        }
    }

    #[test]
    fn fulfilled_by_tiktok_orders_are_not_imported() {
        let mut o = paid();
        o.tiktok.fulfillment_type = FulfillmentType::ByTiktok;
        assert!(
            matches!(decide_import(&o, &LinkSettings::default()), ImportDecision::Nothing { why } if why.contains("FBT"))
        );
    }

    fn skus(entries: &[(&str, SkuMatch)]) -> HashMap<String, SkuMatch> {
        entries
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }

    #[test]
    fn drafts_per_platform_and_sku_answer() {
        let store = StorefrontId::new("uk-shopify").unwrap();
        let settings = LinkSettings::default();
        // (platform, sku answers, Ok(variant) or Err(words))
        type Row<'a> = (
            Platform,
            HashMap<String, SkuMatch>,
            Result<Option<&'a str>, &'a str>,
        );
        let table: Vec<Row> = vec![
            (
                Platform::Shopify,
                skus(&[(
                    "ABC-1",
                    SkuMatch::One("gid://shopify/ProductVariant/9".into()),
                )]),
                Ok(Some("gid://shopify/ProductVariant/9")),
            ),
            (
                Platform::Shopify,
                skus(&[("ABC-1", SkuMatch::None)]),
                Err("SKU ABC-1 has no variant in store uk-shopify"),
            ),
            (
                Platform::Shopify,
                skus(&[("ABC-1", SkuMatch::Many(2))]),
                Err("matches 2 variants"),
            ),
            (Platform::Bigcommerce, skus(&[]), Err("was not looked up")),
            (Platform::Woocommerce, skus(&[]), Err("was not looked up")),
            (Platform::Magento2, skus(&[]), Err("was not looked up")),
            (
                Platform::Magento2,
                skus(&[("ABC-1", SkuMatch::One("31".into()))]),
                Ok(Some("31")),
            ),
            (Platform::AmazonMcf, skus(&[]), Ok(None)),
        ];
        for (platform, answers, expected) in table {
            let got = draft_store_order(&paid(), &store, platform, &answers, &settings);
            match (got, expected) {
                (Ok(draft), Ok(variant)) => {
                    assert_eq!(
                        draft.lines[0].store_item_id.as_deref(),
                        variant,
                        "{platform}"
                    );
                    assert_eq!(draft.lines[0].seller_sku, "ABC-1");
                    assert_eq!(draft.tags[0], STORE_ORDER_TAG);
                    assert_eq!(draft.inventory, InventoryBehaviour::DecrementObeyingPolicy);
                }
                (Err(why), Err(words)) => {
                    assert!(why.reason.contains(words), "{platform}: {why}");
                    let missing = matches!(why.cause, StuckCause::MissingSku { ref sku, .. } if sku == "ABC-1");
                    assert_eq!(
                        missing,
                        words.contains("has no variant"),
                        "{platform}: {why:?}"
                    );
                }
                (got, expected) => panic!("{platform}: got {got:?}, expected {expected:?}"),
            }
        }
    }

    #[test]
    fn drafts_refuse_orders_without_address_or_sku() {
        let store = StorefrontId::new("s").unwrap();
        let mut no_address = paid();
        no_address.tiktok.recipient.address_lines.clear();
        let err = draft_store_order(
            &no_address,
            &store,
            Platform::AmazonMcf,
            &HashMap::new(),
            &LinkSettings::default(),
        )
        .unwrap_err();
        assert!(err.reason.contains("no usable shipping address"), "{err}");
        assert_eq!(err.cause, StuckCause::Person);

        let mut no_sku = paid();
        no_sku.tiktok.lines[0].seller_sku = " ".into();
        let err = draft_store_order(
            &no_sku,
            &store,
            Platform::AmazonMcf,
            &HashMap::new(),
            &LinkSettings::default(),
        )
        .unwrap_err();
        assert!(err.reason.contains("has no seller SKU"), "{err}");
        assert_eq!(err.cause, StuckCause::Person);
    }

    #[test]
    fn names_are_split_when_tiktok_sends_only_a_full_name() {
        let mut o = paid();
        o.tiktok.recipient.first_name.clear();
        o.tiktok.recipient.last_name.clear();
        o.tiktok.recipient.name = "Mary Ann Smith".into();
        let draft = draft_store_order(
            &o,
            &StorefrontId::new("s").unwrap(),
            Platform::AmazonMcf,
            &HashMap::new(),
            &LinkSettings::default(),
        )
        .unwrap();
        assert_eq!(
            (
                draft.address.first_name.as_str(),
                draft.address.last_name.as_str()
            ),
            ("Mary Ann", "Smith")
        );
    }
}
