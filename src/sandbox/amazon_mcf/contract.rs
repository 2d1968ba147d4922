//! Amazon's Fulfillment Outbound 2020-07-01 model
//! (`tests/fixtures/platforms/amazon-mcf-fulfillment-outbound-2020-07-01.json`, Swagger 2.0,
//! copied unchanged from `amzn/selling-partner-api-models`) as draft-4 JSON Schema validators.
//!
//! The request definitions get `additionalProperties: false`: the model does not say so, but
//! amazon-mcf.md makes the contract the authority for every field ("send no field it does not
//! name"), and a misspelt optional field would otherwise pass silently here and be dropped by
//! Amazon. Query parameters are checked against their declared type and format.

use std::sync::OnceLock;

use jsonschema::{Draft, Validator};
use serde_json::{Value, json};

const CONTRACT: &str = include_str!(
    "../../../tests/fixtures/platforms/amazon-mcf-fulfillment-outbound-2020-07-01.json"
);

/// Request definitions that must not carry unknown keys.
const CLOSED: [&str; 3] = [
    "CreateFulfillmentOrderRequest",
    "CreateFulfillmentOrderItem",
    "Address",
];

struct Contract {
    create: Validator,
    date_time: Validator,
    /// `maxLength` of the `sellerFulfillmentOrderId` path parameter.
    id_max: usize,
}

fn contract() -> &'static Contract {
    static CELL: OnceLock<Contract> = OnceLock::new();
    CELL.get_or_init(|| {
        let document: Value = serde_json::from_str(CONTRACT).expect("the contract is JSON");
        let mut definitions = document["definitions"].clone();
        for name in CLOSED {
            definitions[name]["additionalProperties"] = json!(false);
        }
        let build = |schema: Value| {
            jsonschema::options()
                .with_draft(Draft::Draft4)
                .should_validate_formats(true)
                .build(&schema)
                .expect("the contract is a valid draft-4 schema")
        };
        let create = build(json!({
            "definitions": definitions,
            "$ref": "#/definitions/CreateFulfillmentOrderRequest",
        }));
        let date_time = build(json!({ "type": "string", "format": "date-time" }));
        let id_max = document["paths"]
            ["/fba/outbound/2020-07-01/fulfillmentOrders/{sellerFulfillmentOrderId}"]["get"]
            ["parameters"][0]["maxLength"]
            .as_u64()
            .expect("the id parameter has a maxLength") as usize;
        Contract {
            create,
            date_time,
            id_max,
        }
    })
}

/// Compiles the contract now rather than in the first request.
pub fn load() {
    let _ = contract();
}

/// Why a create body breaks the contract, naming the field.
pub fn check_create(body: &Value) -> Result<(), String> {
    match contract().create.iter_errors(body).next() {
        None => Ok(()),
        Some(e) => Err(format!("{}: {e}", e.instance_path())),
    }
}

/// `queryStartDate` must be a date-time.
pub fn check_date_time(name: &str, value: &str) -> Result<(), String> {
    if contract().date_time.is_valid(&json!(value)) {
        Ok(())
    } else {
        Err(format!("{name}: {value:?} is not a date-time"))
    }
}

/// The `sellerFulfillmentOrderId` of a path.
pub fn check_id(id: &str) -> Result<(), String> {
    if id.is_empty() || id.chars().count() > contract().id_max {
        return Err(format!(
            "sellerFulfillmentOrderId: must be 1 to {} characters",
            contract().id_max
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_and_missing_fields_are_refused() {
        let good = json!({
            "sellerFulfillmentOrderId": "1", "displayableOrderId": "1",
            "displayableOrderDate": "2026-11-21T10:00:00Z", "displayableOrderComment": "c",
            "shippingSpeedCategory": "Standard",
            "destinationAddress": {"name": "A", "addressLine1": "1", "postalCode": "7", "countryCode": "US"},
            "items": [{"sellerSku": "A", "sellerFulfillmentOrderItemId": "1", "quantity": 1}],
        });
        assert_eq!(check_create(&good), Ok(()));
        let mut extra = good.clone();
        extra["destinationAddress"]["email"] = json!("x@example.com");
        assert!(
            check_create(&extra)
                .unwrap_err()
                .contains("destinationAddress")
        );
        let mut speed = good.clone();
        speed["shippingSpeedCategory"] = json!("Fast");
        assert!(check_create(&speed).is_err());
        assert!(check_date_time("queryStartDate", "yesterday").is_err());
        assert!(check_date_time("queryStartDate", "2026-11-21T10:00:00Z").is_ok());
        assert!(check_id(&"9".repeat(41)).is_err());
    }
}
