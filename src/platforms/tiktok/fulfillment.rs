//! Fulfillment: shipping providers, pushing the seller's tracking (Mark Package As Shipped in
//! US/UK/EU, Ship Package with `self_shipment` in SEA/LATAM, chosen by the shop's region),
//! correcting it, and TikTok's label for orders TikTok ships.
//!
//! Invariants: every write here is `Ambiguous` when its answer is lost (the engine reads the
//! order back before retrying); the label URL is fetched without TikTok's headers, because it
//! points at another host and must not receive the access token; only `https` label URLs are
//! followed, except on loopback (the sandbox).

use reqwest::Method;

use super::client::{Call, TiktokClient};
use super::envelope::{decode, error};
use super::wire;
use crate::domain::ids::{PackageId, TiktokOrderId};
use crate::domain::platform::Platform;
use crate::domain::rules::tracking::{ShipMethod, ShippingProvider, ship_method};
use crate::domain::text;
use crate::platforms::error::{ErrorClass, PlatformError};
use crate::platforms::http::{self, CallKind};
use crate::platforms::{LabelDocument, Shipped};

/// Ship Package's handover for a seller shipping with their own carrier.
const HANDOVER_DROP_OFF: &str = "DROP_OFF";
/// The label orderdeck keeps: the shipping label alone, A6 (thermal printers).
const DOCUMENT_TYPE: &str = "SHIPPING_LABEL";
const DOCUMENT_SIZE: &str = "A6";

impl TiktokClient {
    pub(super) async fn providers(
        &self,
        delivery_option_id: &str,
    ) -> Result<Vec<ShippingProvider>, PlatformError> {
        const OP: &str = "get_shipping_providers";
        let call = Call::new(
            OP,
            Method::GET,
            "/logistics/202309/delivery_options/{}/shipping_providers",
            &[delivery_option_id],
        );
        let list: wire::ShippingProviders = decode(self.call(call).await?, OP, CallKind::Read)?;
        Ok(list
            .shipping_providers
            .into_iter()
            .filter_map(|p| {
                Some(ShippingProvider {
                    id: p.id?,
                    name: text::sanitize(&p.name.unwrap_or_default()),
                })
            })
            .collect())
    }

    pub(super) async fn ship_order(
        &self,
        order: &TiktokOrderId,
        package: Option<&PackageId>,
        line_item_ids: &[String],
        tracking_number: &str,
        provider_id: &str,
    ) -> Result<Shipped, PlatformError> {
        match ship_method(&self.region) {
            ShipMethod::MarkPackageShipped => {
                const OP: &str = "mark_package_as_shipped";
                let body = wire::MarkShipped {
                    tracking_number,
                    shipping_provider_id: provider_id,
                    order_line_item_ids: line_item_ids,
                };
                let call = Call::new(
                    OP,
                    Method::POST,
                    "/fulfillment/202309/orders/{}/packages",
                    &[order.as_str()],
                )
                .json(&body);
                let data: wire::ShippedPackage =
                    decode(self.call(call).await?, OP, CallKind::Write)?;
                Ok(Shipped {
                    package_id: data.package_id.and_then(|id| PackageId::new(id).ok()),
                    warning: data
                        .warning
                        .and_then(|w| w.message)
                        .map(|m| text::sanitize(&m))
                        .filter(|m| !m.is_empty()),
                })
            }
            ShipMethod::ShipPackage => {
                const OP: &str = "ship_package";
                let package = package.ok_or_else(|| {
                    error(OP, ErrorClass::Permanent, format!(
                        "order {order}: shops in region {} ship by package and TikTok has not sent a package id yet",
                        text::sanitize(&self.region)
                    ))
                })?;
                let body = wire::ShipPackage {
                    handover_method: HANDOVER_DROP_OFF,
                    self_shipment: wire::SelfShipment {
                        tracking_number,
                        shipping_provider_id: provider_id,
                    },
                };
                let call = Call::new(
                    OP,
                    Method::POST,
                    "/fulfillment/202309/packages/{}/ship",
                    &[package.as_str()],
                )
                .json(&body);
                self.call(call).await?;
                Ok(Shipped {
                    package_id: Some(package.clone()),
                    warning: None,
                })
            }
        }
    }

    pub(super) async fn update_tracking(
        &self,
        order: &TiktokOrderId,
        tracking_number: &str,
        provider_id: &str,
    ) -> Result<(), PlatformError> {
        const OP: &str = "update_shipping_info";
        let body = wire::SelfShipment {
            tracking_number,
            shipping_provider_id: provider_id,
        };
        let call = Call::new(
            OP,
            Method::POST,
            "/fulfillment/202309/orders/{}/shipping_info/update",
            &[order.as_str()],
        )
        .json(&body);
        self.call(call).await.map(|_| ())
    }

    pub(super) async fn label(&self, package: &PackageId) -> Result<LabelDocument, PlatformError> {
        const OP: &str = "get_package_shipping_document";
        let call = Call::new(
            OP,
            Method::GET,
            "/fulfillment/202309/packages/{}/shipping_documents",
            &[package.as_str()],
        )
        .query("document_type", DOCUMENT_TYPE)
        .query("document_size", DOCUMENT_SIZE);
        let answer = self.call(call).await?;
        let request_id = answer.request_id.clone();
        let doc: wire::ShippingDocument = decode(answer, OP, CallKind::Read)?;
        let url = doc
            .doc_url
            .map(|u| u.trim().to_string())
            .filter(|u| !u.is_empty())
            .ok_or_else(|| {
                error(
                    OP,
                    ErrorClass::RetryLater { after: None },
                    "TikTok answered without a document URL",
                )
                .with_request_id(request_id)
            })?;
        Ok(LabelDocument {
            url,
            tracking_number: doc.tracking_number.filter(|t| !t.trim().is_empty()),
        })
    }

    /// Downloads the label PDF. The URL is TikTok's, valid 24 h: a non-PDF answer (an expired
    /// link's error page) is retried, which fetches a fresh document.
    pub(super) async fn download_document(&self, url: &str) -> Result<Vec<u8>, PlatformError> {
        const OP: &str = "download_document";
        let parsed = reqwest::Url::parse(url)
            .map_err(|_| error(OP, ErrorClass::Permanent, "the document URL is not a URL"))?;
        let loopback = parsed.host_str().is_some_and(|h| {
            h == "localhost"
                || h.parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        });
        if parsed.scheme() != "https" && !(parsed.scheme() == "http" && loopback) {
            return Err(error(
                OP,
                ErrorClass::Permanent,
                "refusing a document URL that is not https",
            ));
        }
        let request = self.http.get(parsed).build().map_err(|_| {
            error(
                OP,
                ErrorClass::Permanent,
                "could not build the document request",
            )
        })?;
        let raw = http::send(
            &self.http,
            request,
            Platform::TiktokShop,
            OP,
            CallKind::Read,
        )
        .await?;
        // No credentials go to the document host, so no status means "refresh the token".
        let refused = match raw.status {
            200..=299 => None,
            429 | 500..=599 => Some(ErrorClass::RetryLater {
                after: http::retry_after(&raw.headers),
            }),
            _ => Some(ErrorClass::Permanent),
        };
        if let Some(class) = refused {
            let message = format!(
                "the document host answered HTTP {}: fetch the label again",
                raw.status
            );
            return Err(error(OP, class, message).with_status(raw.status));
        }
        if !raw.body.starts_with(b"%PDF-") {
            return Err(error(
                OP,
                ErrorClass::RetryLater { after: None },
                format!(
                    "the document URL did not return a PDF ({} bytes); a fresh document will be requested",
                    raw.body.len()
                ),
            ));
        }
        Ok(raw.body.to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platforms::tiktok::test_samples::{assert_subset, request_body, response_data};

    /// The bodies orderdeck sends use only fields the official request samples have.
    #[test]
    fn request_bodies_use_the_documented_field_names() {
        let ids = vec!["2321312321311".to_string()];
        let mark = serde_json::to_value(wire::MarkShipped {
            tracking_number: "T",
            shipping_provider_id: "P",
            order_line_item_ids: &ids,
        })
        .unwrap();
        assert_subset(&mark, &request_body("mark_package_as_shipped"));
        let ship = serde_json::to_value(wire::ShipPackage {
            handover_method: HANDOVER_DROP_OFF,
            self_shipment: wire::SelfShipment {
                tracking_number: "T",
                shipping_provider_id: "P",
            },
        })
        .unwrap();
        assert_subset(&ship, &request_body("ship_package"));
        let none = serde_json::to_value(wire::MarkShipped {
            tracking_number: "T",
            shipping_provider_id: "P",
            order_line_item_ids: &[],
        })
        .unwrap();
        assert!(
            none.get("order_line_item_ids").is_none(),
            "an empty list is omitted, not sent"
        );
    }

    #[test]
    fn official_fulfillment_answers_read() {
        let shipped: wire::ShippedPackage =
            serde_json::from_value(response_data("mark_package_as_shipped")).unwrap();
        assert_eq!(shipped.package_id.as_deref(), Some("32141235124234"));
        assert_eq!(
            shipped.warning.and_then(|w| w.message).as_deref(),
            Some("match more than one provider")
        );
        let doc: wire::ShippingDocument =
            serde_json::from_value(response_data("get_package_shipping_document")).unwrap();
        assert!(doc.doc_url.unwrap().starts_with("https://"));
        assert_eq!(doc.tracking_number.as_deref(), Some("752455325694"));
        let providers: wire::ShippingProviders =
            serde_json::from_value(response_data("get_shipping_providers")).unwrap();
        assert_eq!(
            providers.shipping_providers[0].name.as_deref(),
            Some("USPS")
        );
    }
}
