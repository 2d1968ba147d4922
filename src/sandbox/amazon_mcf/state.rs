//! What the simulated Amazon keeps for one seller: sellable stock per SKU, fulfillment orders
//! with their items and shipments (packages with carrier and tracking), and the work each
//! operation does on them, refusing what Amazon refuses (amazon-mcf.md): an unknown SKU (named
//! by item id only, as Amazon does), a duplicate `sellerFulfillmentOrderId`, a cancel after
//! `Planning`. Its own types: nothing here is the client's.

use std::collections::HashMap;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct McfItem {
    pub sku: String,
    pub item_id: String,
    pub quantity: u32,
    pub cancelled: u32,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct McfPackage {
    pub number: u32,
    pub carrier: String,
    pub tracking: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct McfShipment {
    pub id: String,
    pub status: String,
    pub shipped_at: DateTime<Utc>,
    /// (SKU, item id, units, package number).
    pub items: Vec<(String, String, u32, u32)>,
    pub packages: Vec<McfPackage>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct McfOrder {
    pub id: String,
    /// The create request as sent (what `fulfillmentOrder` echoes back).
    pub request: Value,
    pub items: Vec<McfItem>,
    pub status: String,
    pub received: DateTime<Utc>,
    pub status_updated: DateTime<Utc>,
    pub shipments: Vec<McfShipment>,
    /// Cancelled through the API (orderdeck) rather than in Seller Central.
    pub cancelled_by_api: bool,
}

/// One package as the warehouse packs it: carrier code, tracking number, units per SKU.
pub type PackageSpec<'a> = (&'a str, &'a str, &'a [(&'a str, u32)]);

/// An Amazon error answer: status, `code`, `message`.
pub type Refusal = (u16, &'static str, String);

fn invalid(message: String) -> Refusal {
    (400, "InvalidInput", message)
}

pub fn stamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

#[derive(Debug, Default)]
pub struct Seller {
    pub stock: HashMap<String, u32>,
    pub orders: Vec<McfOrder>,
    next_shipment: u64,
}

impl Seller {
    pub fn new(stock: &[(&str, u32)]) -> Seller {
        Seller {
            stock: stock.iter().map(|(s, q)| ((*s).to_string(), *q)).collect(),
            ..Seller::default()
        }
    }

    pub fn order(&self, id: &str) -> Option<&McfOrder> {
        self.orders.iter().find(|o| o.id == id)
    }

    pub fn order_mut(&mut self, id: &str) -> Option<&mut McfOrder> {
        self.orders.iter_mut().find(|o| o.id == id)
    }

    /// `createFulfillmentOrder` on a body the contract accepted.
    pub fn create(&mut self, body: &Value, now: DateTime<Utc>) -> Result<(), Refusal> {
        let id = body["sellerFulfillmentOrderId"]
            .as_str()
            .unwrap_or_default();
        if self.order(id).is_some() {
            return Err(invalid(format!(
                "A fulfillment order with sellerFulfillmentOrderId {id} already exists."
            )));
        }
        let mut items = Vec::new();
        let mut seen = Vec::new();
        for item in body["items"].as_array().into_iter().flatten() {
            let sku = item["sellerSku"].as_str().unwrap_or_default();
            let item_id = item["sellerFulfillmentOrderItemId"]
                .as_str()
                .unwrap_or_default();
            let quantity = item["quantity"].as_u64().unwrap_or(0);
            if seen.contains(&item_id) {
                return Err(invalid(format!(
                    "Duplicate sellerFulfillmentOrderItemId {item_id}."
                )));
            }
            seen.push(item_id);
            if quantity == 0 || quantity > 250 {
                return Err(invalid(format!("Invalid quantity for Item Id: {item_id}.")));
            }
            // Amazon names the item id, never the SKU.
            if !self.stock.contains_key(sku) {
                return Err(invalid(format!(
                    "the SellerSKU for Item Id: {item_id} is invalid."
                )));
            }
            items.push(McfItem {
                sku: sku.to_string(),
                item_id: item_id.to_string(),
                quantity: quantity as u32,
                cancelled: 0,
            });
        }
        if items.is_empty() {
            return Err(invalid("items: at least one item is required.".into()));
        }
        self.orders.push(McfOrder {
            id: id.to_string(),
            request: body.clone(),
            items,
            status: "Received".into(),
            received: now,
            status_updated: now,
            shipments: Vec::new(),
            cancelled_by_api: false,
        });
        Ok(())
    }

    /// `cancelFulfillmentOrder`: only while `Received` or `Planning`.
    pub fn cancel(&mut self, id: &str, now: DateTime<Utc>) -> Result<(), Refusal> {
        let order = self
            .order_mut(id)
            .ok_or_else(|| (404, "NotFound", format!("Requested order {id} not found")))?;
        match order.status.as_str() {
            "Received" | "Planning" => {
                order.status = "Cancelled".into();
                order.status_updated = now;
                order.cancelled_by_api = true;
                for item in &mut order.items {
                    item.cancelled = item.quantity;
                }
                Ok(())
            }
            // Amazon documents no code for this refusal; InvalidInput is what clients report.
            status => Err(invalid(format!(
                "Fulfillment order {id} cannot be cancelled: its status is {status}."
            ))),
        }
    }

    /// The warehouse ships `packages` (carrier, tracking, units per SKU) as one shipment; the
    /// order is `Complete` once every unit shipped, `Processing` until then.
    pub fn ship(
        &mut self,
        id: &str,
        packages: &[PackageSpec<'_>],
        now: DateTime<Utc>,
    ) -> Result<String, String> {
        self.next_shipment += 1;
        let shipment_id = format!("D{:06}", self.next_shipment);
        let order = self.order_mut(id).ok_or_else(|| format!("no order {id}"))?;
        if matches!(
            order.status.as_str(),
            "Cancelled" | "Complete" | "Unfulfillable" | "Invalid"
        ) {
            return Err(format!("order {id} is {}: nothing ships", order.status));
        }
        if order.blocks_amazon_logistics()
            && let Some((carrier, _, _)) = packages.iter().find(|(c, _, _)| is_amazon_logistics(c))
        {
            return Err(format!(
                "order {id} blocks Amazon Logistics (BLOCK_AMZL): it cannot leave with {carrier}"
            ));
        }
        let mut shipment = McfShipment {
            id: shipment_id.clone(),
            status: "SHIPPED".into(),
            shipped_at: now,
            items: Vec::new(),
            packages: Vec::new(),
        };
        for (n, (carrier, tracking, units)) in packages.iter().enumerate() {
            let number = n as u32 + 1;
            shipment.packages.push(McfPackage {
                number,
                carrier: (*carrier).to_string(),
                tracking: (*tracking).to_string(),
            });
            for (sku, quantity) in *units {
                let item = order
                    .items
                    .iter()
                    .find(|i| i.sku == *sku)
                    .ok_or_else(|| format!("order {id} has no SKU {sku}"))?;
                shipment
                    .items
                    .push((item.sku.clone(), item.item_id.clone(), *quantity, number));
            }
        }
        order.shipments.push(shipment);
        let shipped = |sku: &str| -> u32 {
            order
                .shipments
                .iter()
                .flat_map(|s| &s.items)
                .filter(|i| i.0 == sku)
                .map(|i| i.2)
                .sum()
        };
        let done = order
            .items
            .iter()
            .all(|i| shipped(&i.sku) >= i.quantity - i.cancelled);
        order.status = if done { "Complete" } else { "Processing" }.into();
        order.status_updated = now;
        Ok(shipment_id)
    }

    /// `listAllFulfillmentOrders`: orders whose status changed at or after `start`, oldest first.
    pub fn changed_since(&self, start: DateTime<Utc>) -> Vec<&McfOrder> {
        let mut orders: Vec<&McfOrder> = self
            .orders
            .iter()
            .filter(|o| o.status_updated >= start)
            .collect();
        orders.sort_by_key(|o| o.status_updated);
        orders
    }
}

/// Amazon's own delivery network, as a package's `carrierCode` names it.
pub fn is_amazon_logistics(carrier: &str) -> bool {
    let carrier = carrier.to_ascii_uppercase();
    carrier.starts_with("AMZL") || carrier.starts_with("AMZN")
}

impl McfOrder {
    /// The seller asked that Amazon Logistics never deliver it (`featureConstraints`
    /// `BLOCK_AMZL`, `Required`).
    pub fn blocks_amazon_logistics(&self) -> bool {
        self.request["featureConstraints"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|f| {
                f["featureName"] == "BLOCK_AMZL" && f["featureFulfillmentPolicy"] == "Required"
            })
    }

    /// `FulfillmentOrder`: the request's fields plus Amazon's.
    pub fn render_head(&self) -> Value {
        let r = &self.request;
        let mut head = json!({
            "sellerFulfillmentOrderId": self.id,
            "marketplaceId": r.get("marketplaceId").cloned().unwrap_or(json!("ATVPDKIKX0DER")),
            "displayableOrderId": r["displayableOrderId"],
            "displayableOrderDate": r["displayableOrderDate"],
            "displayableOrderComment": r["displayableOrderComment"],
            "shippingSpeedCategory": r["shippingSpeedCategory"],
            "destinationAddress": r["destinationAddress"],
            "receivedDate": stamp(self.received),
            "fulfillmentOrderStatus": self.status,
            "statusUpdatedDate": stamp(self.status_updated),
        });
        if let Some(policy) = r.get("fulfillmentPolicy") {
            head["fulfillmentPolicy"] = policy.clone();
        }
        head
    }

    /// `GetFulfillmentOrderResult`.
    pub fn render(&self) -> Value {
        json!({
            "fulfillmentOrder": self.render_head(),
            "fulfillmentOrderItems": self.items.iter().map(|i| json!({
                "sellerSku": i.sku,
                "sellerFulfillmentOrderItemId": i.item_id,
                "quantity": i.quantity,
                "cancelledQuantity": i.cancelled,
                "unfulfillableQuantity": 0,
            })).collect::<Vec<_>>(),
            "fulfillmentShipments": self.shipments.iter().map(|s| json!({
                "amazonShipmentId": s.id,
                "fulfillmentCenterId": "PHX3",
                "fulfillmentShipmentStatus": s.status,
                "shippingDate": stamp(s.shipped_at),
                "fulfillmentShipmentItem": s.items.iter().map(|(sku, item_id, q, p)| json!({
                    "sellerSku": sku, "sellerFulfillmentOrderItemId": item_id,
                    "quantity": q, "packageNumber": p,
                })).collect::<Vec<_>>(),
                "fulfillmentShipmentPackage": s.packages.iter().map(|p| json!({
                    "packageNumber": p.number, "carrierCode": p.carrier,
                    "trackingNumber": p.tracking,
                })).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
            "returnItems": [],
            "returnAuthorizations": [],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(features: Value) -> Value {
        json!({
            "sellerFulfillmentOrderId": "576400000000000903", "displayableOrderId": "576400000000000903",
            "displayableOrderDate": "2026-11-21T10:00:00Z", "displayableOrderComment": "x",
            "shippingSpeedCategory": "Standard", "featureConstraints": features,
            "destinationAddress": {"name": "B", "addressLine1": "2 Elm St", "city": "Austin", "postalCode": "78701", "countryCode": "US"},
            "items": [{"sellerSku": "CRO-00", "sellerFulfillmentOrderItemId": "1", "quantity": 1}],
        })
    }

    #[test]
    fn an_order_blocking_amazon_logistics_never_leaves_with_it() {
        let now = Utc::now();
        let units: &[(&str, u32)] = &[("CRO-00", 1)];
        let mut seller = Seller::new(&[("CRO-00", 5)]);
        let blocked =
            json!([{"featureName": "BLOCK_AMZL", "featureFulfillmentPolicy": "Required"}]);
        seller.create(&body(blocked), now).unwrap();
        let refused = seller
            .ship("576400000000000903", &[("AMZL_US", "TBA1", units)], now)
            .unwrap_err();
        assert!(refused.contains("BLOCK_AMZL"), "{refused}");
        seller
            .ship("576400000000000903", &[("UPS", "1Z1", units)], now)
            .unwrap();
        assert_eq!(
            seller.order("576400000000000903").unwrap().status,
            "Complete"
        );

        // Without the constraint (or with it not required) Amazon Logistics may deliver.
        let mut seller = Seller::new(&[("CRO-00", 5)]);
        let optional =
            json!([{"featureName": "BLOCK_AMZL", "featureFulfillmentPolicy": "NotRequired"}]);
        seller.create(&body(optional), now).unwrap();
        seller
            .ship("576400000000000903", &[("AMZL_US", "TBA1", units)], now)
            .unwrap();
    }
}
