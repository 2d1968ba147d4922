//! BigCommerce's published contract (`tests/fixtures/platforms/bigcommerce-orders-v2.json` and
//! `bigcommerce-catalog-variants-v3.json`, OpenAPI 3.0, and the part of the hooks API orderdeck
//! uses, restated in [`hooks_contract`]) as JSON Schema validators, read the way
//! bigcommerce.md says: `nullable: true` adds `null` to the type; fields described as
//! "(Float, Float-As-String, Integer)" are typed `string` but take numbers; `readOnly` fields
//! must not be sent; and only fields the files name may be sent (a misspelled field is a silent
//! bug on the real store, so the simulation refuses it).
//!
//! Every query string and body goes through here before the simulated store acts on it.

use std::sync::OnceLock;

use jsonschema::{Draft, ValidatorMap};
use serde_json::{Map, Value, json};

const ORDERS: &str = include_str!("../../../tests/fixtures/platforms/bigcommerce-orders-v2.json");
const CATALOG: &str =
    include_str!("../../../tests/fixtures/platforms/bigcommerce-catalog-variants-v3.json");

struct Contract {
    /// Both files' component schemas under `definitions`, plus one `query:{operationId}`
    /// object schema per operation for its query parameters.
    document: Value,
    validators: ValidatorMap,
}

/// Rewrites one OpenAPI schema tree into draft-4 JSON Schema as described above.
fn rewrite(value: &mut Value) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(r)) = map.get_mut("$ref")
                && let Some(name) = r.strip_prefix("#/components/schemas/")
            {
                *r = format!("#/definitions/{name}");
            }
            let loose_number = map
                .get("description")
                .and_then(Value::as_str)
                .is_some_and(|d| d.contains("Float-As-String"));
            let nullable = map.get("nullable") == Some(&Value::Bool(true))
                || map.get("x-nullable") == Some(&Value::Bool(true));
            if let Some(Value::String(t)) = map.get("type").cloned().as_ref() {
                let mut types = vec![json!(t)];
                if loose_number && t == "string" {
                    types.push(json!("number"));
                }
                if nullable {
                    types.push(json!("null"));
                }
                if types.len() > 1 {
                    map.insert("type".into(), Value::Array(types));
                }
            }
            for (_, child) in map.iter_mut() {
                rewrite(child);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(rewrite),
        _ => {}
    }
}

/// `{"type": "object", "properties": {name: schema}}` of an operation's query parameters.
fn query_schema(doc: &Value, path: &str, method: &str) -> Value {
    let resolve = |p: &Value| -> Value {
        match p.get("$ref").and_then(Value::as_str) {
            Some(r) => r
                .strip_prefix("#/")
                .map(|pointer| {
                    doc.pointer(&format!("/{pointer}"))
                        .cloned()
                        .unwrap_or(Value::Null)
                })
                .unwrap_or(Value::Null),
            None => p.clone(),
        }
    };
    let mut properties = Map::new();
    let path_item = &doc["paths"][path];
    let params = path_item[method]["parameters"]
        .as_array()
        .into_iter()
        .chain(path_item["parameters"].as_array())
        .flatten();
    for param in params.map(resolve) {
        if param.get("in").and_then(Value::as_str) == Some("query")
            && let Some(name) = param.get("name").and_then(Value::as_str)
        {
            let mut schema = param.get("schema").cloned().unwrap_or(json!({}));
            rewrite(&mut schema);
            properties.insert(name.to_string(), schema);
        }
    }
    json!({ "type": "object", "properties": properties })
}

/// The hooks API as `reference/webhooks.v3.yml` (one of bigcommerce.md's sources, not among the
/// contract files) describes what orderdeck uses of it: the create body `webhook_Base` and the
/// query parameters of `GET /hooks`, in the same OpenAPI form as the files.
fn hooks_contract() -> Value {
    json!({
        "components": { "schemas": { "webhook_Base": {
            "type": "object",
            "required": ["scope", "destination"],
            "properties": {
                "scope": { "type": "string" },
                "destination": { "type": "string" },
                "is_active": { "type": "boolean" },
                "headers": { "type": "object", "nullable": true,
                    "additionalProperties": { "type": "string" } }
            }
        } } },
        "paths": { "/hooks": { "get": { "parameters": [
            { "name": "page", "in": "query", "schema": { "type": "integer" } },
            { "name": "limit", "in": "query", "schema": { "type": "integer" } },
            { "name": "is_active", "in": "query", "schema": { "type": "boolean" } },
            { "name": "scope", "in": "query", "schema": { "type": "string" } },
            { "name": "destination", "in": "query", "schema": { "type": "string" } }
        ] } } }
    })
}

/// Which document an operation is in.
#[derive(Clone, Copy)]
enum Doc {
    Orders,
    Catalog,
    Hooks,
}

/// The operations whose query strings the simulation checks: (name, document, path, method).
const QUERIES: &[(&str, Doc, &str, &str)] = &[
    ("getOrders", Doc::Orders, "/orders", "get"),
    (
        "getOrderProducts",
        Doc::Orders,
        "/orders/{order_id}/products",
        "get",
    ),
    (
        "getOrderShipments",
        Doc::Orders,
        "/orders/{order_id}/shipments",
        "get",
    ),
    ("getVariants", Doc::Catalog, "/catalog/variants", "get"),
    ("getWebhooks", Doc::Hooks, "/hooks", "get"),
];

fn contract() -> &'static Contract {
    static CELL: OnceLock<Contract> = OnceLock::new();
    CELL.get_or_init(|| {
        let orders: Value = serde_json::from_str(ORDERS).expect("the orders contract is JSON");
        let catalog: Value = serde_json::from_str(CATALOG).expect("the catalog contract is JSON");
        let hooks = hooks_contract();
        let mut definitions = Map::new();
        for doc in [&orders, &catalog, &hooks] {
            if let Some(schemas) = doc["components"]["schemas"].as_object() {
                for (name, schema) in schemas {
                    let mut schema = schema.clone();
                    rewrite(&mut schema);
                    definitions.insert(name.clone(), schema);
                }
            }
        }
        for (name, doc, path, method) in QUERIES {
            let doc = match doc {
                Doc::Orders => &orders,
                Doc::Catalog => &catalog,
                Doc::Hooks => &hooks,
            };
            definitions.insert(format!("query:{name}"), query_schema(doc, path, method));
        }
        let document = json!({ "definitions": definitions });
        let validators = jsonschema::options()
            .with_draft(Draft::Draft4)
            .build_map(&document)
            .expect("the BigCommerce contract compiles as draft-4 JSON Schema");
        Contract {
            document,
            validators,
        }
    })
}

/// Compiles the contract now rather than in the first request.
pub fn load() {
    let _ = contract();
}

/// A refusal, in BigCommerce's words where they are known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub message: String,
}

fn invalid(message: impl Into<String>) -> Invalid {
    Invalid {
        message: message.into(),
    }
}

/// Checks `instance` against `#/definitions/{definition}`, then that it sends only fields the
/// contract names and none it marks read-only.
pub fn check(definition: &str, instance: &Value) -> Result<(), Invalid> {
    let validator = contract()
        .validators
        .get(&format!("#/definitions/{definition}"))
        .unwrap_or_else(|| panic!("the contract defines {definition}"));
    if let Some(error) = validator.iter_errors(instance).next() {
        let at = error.instance_path().to_string();
        let at = if at.is_empty() { "body".into() } else { at };
        return Err(invalid(format!("{at}: {error}")));
    }
    let schema = json!({ "$ref": format!("#/definitions/{definition}") });
    only_named_fields(&schema, instance, "")
}

/// The properties a schema names (through `$ref`, `allOf`, `anyOf`, `oneOf`), each with the
/// schemas it has there.
fn properties<'a>(schema: &'a Value, out: &mut Vec<(&'a str, &'a Value)>, depth: u8) {
    let defs = &contract().document["definitions"];
    if depth > 12 {
        return;
    }
    if let Some(name) = schema
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix("#/definitions/"))
    {
        properties(&defs[name], out, depth + 1);
    }
    for key in ["allOf", "anyOf", "oneOf"] {
        for member in schema
            .get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            properties(member, out, depth + 1);
        }
    }
    if let Some(map) = schema.get("properties").and_then(Value::as_object) {
        out.extend(map.iter().map(|(k, v)| (k.as_str(), v)));
    }
}

fn items<'a>(schema: &'a Value, out: &mut Vec<&'a Value>, depth: u8) {
    let defs = &contract().document["definitions"];
    if depth > 12 {
        return;
    }
    if let Some(name) = schema
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix("#/definitions/"))
    {
        items(&defs[name], out, depth + 1);
    }
    for key in ["allOf", "anyOf", "oneOf"] {
        for member in schema
            .get(key)
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            items(member, out, depth + 1);
        }
    }
    if let Some(item) = schema.get("items") {
        out.push(item);
    }
}

fn only_named_fields(schema: &Value, instance: &Value, at: &str) -> Result<(), Invalid> {
    match instance {
        Value::Object(fields) => {
            let mut named = Vec::new();
            properties(schema, &mut named, 0);
            if named.is_empty() {
                return Ok(()); // A free-form object.
            }
            for (key, value) in fields {
                let schemas: Vec<&Value> = named
                    .iter()
                    .filter(|(name, _)| *name == key)
                    .map(|(_, s)| *s)
                    .collect();
                if schemas.is_empty() {
                    return Err(invalid(format!(
                        "{at}/{key}: the contract names no such field"
                    )));
                }
                if schemas
                    .iter()
                    .any(|s| s.get("readOnly") == Some(&Value::Bool(true)))
                {
                    return Err(invalid(format!(
                        "The field '{key}' cannot be written to. Please remove it from your request before trying again."
                    )));
                }
                for s in schemas {
                    only_named_fields(s, value, &format!("{at}/{key}"))?;
                }
            }
            Ok(())
        }
        Value::Array(elements) => {
            let mut schemas = Vec::new();
            items(schema, &mut schemas, 0);
            for (i, element) in elements.iter().enumerate() {
                for s in &schemas {
                    only_named_fields(s, element, &format!("{at}/{i}"))?;
                }
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// The query string of `operation` coerced by each parameter's type and checked; parameters
/// the operation does not take are answered in `unknown` (BigCommerce ignores them, which is
/// how a misspelled filter lists every order).
pub fn coerce_query(
    operation: &str,
    query: &[(String, String)],
) -> Result<(Value, Vec<String>), Invalid> {
    let definition = format!("query:{operation}");
    let properties = &contract().document["definitions"][&definition]["properties"];
    let mut out = Map::new();
    let mut unknown = Vec::new();
    for (key, value) in query {
        let Some(property) = properties.get(key) else {
            unknown.push(key.clone());
            continue;
        };
        let coerced = coerce(property, value)
            .ok_or_else(|| invalid(format!("The parameter '{key}' is invalid: {value:?}")))?;
        out.insert(key.clone(), coerced);
    }
    let instance = Value::Object(out);
    check(&definition, &instance)?;
    Ok((instance, unknown))
}

fn coerce(property: &Value, value: &str) -> Option<Value> {
    let kind = match property.get("type") {
        Some(Value::String(t)) => t.as_str(),
        Some(Value::Array(types)) => types.first().and_then(Value::as_str).unwrap_or("string"),
        _ => "string",
    };
    match kind {
        "integer" => value.trim().parse::<i64>().ok().map(Value::from),
        "number" => value
            .trim()
            .parse::<serde_json::Number>()
            .ok()
            .map(Value::Number),
        "boolean" => match value.trim() {
            "true" | "1" => Some(Value::Bool(true)),
            "false" | "0" => Some(Value::Bool(false)),
            _ => None,
        },
        "array" => {
            let items = property.get("items").cloned().unwrap_or(Value::Null);
            value
                .split(',')
                .filter(|v| !v.is_empty())
                .map(|v| coerce(&items, v))
                .collect::<Option<Vec<_>>>()
                .map(Value::Array)
        }
        _ => Some(Value::String(value.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_bodies_are_checked_against_the_contract() {
        let good = json!({
            "status_id": 11, "customer_id": 0, "external_order_id": "5764",
            "billing_address": {"first_name": "A", "zip": "78701", "country_iso2": "US"},
            "shipping_addresses": [{"street_1": "1 Main St", "zip": "78701"}],
            "products": [{"product_id": 3, "variant_id": 7, "quantity": 2, "price_inc_tax": 12.5, "price_ex_tax": 12.5}],
        });
        assert_eq!(check("order_Post", &good), Ok(()));
        let mut read_only = good.clone();
        read_only["external_id"] = json!("5764");
        let refused = check("order_Post", &read_only).unwrap_err();
        assert!(
            refused.message.contains("'external_id' cannot be written"),
            "{refused:?}"
        );
        let mut misspelled = good.clone();
        misspelled["external_order"] = json!("5764");
        assert!(check("order_Post", &misspelled).is_err());
        let mut nested = good.clone();
        nested["products"][0]["variation_id"] = json!(7);
        let refused = check("order_Post", &nested).unwrap_err();
        assert!(
            refused.message.starts_with("/products/0/variation_id"),
            "{refused:?}"
        );
        let mut quantity = good;
        quantity["products"][0]["quantity"] = json!("2");
        assert!(check("order_Post", &quantity).is_err());
        // Money fields described as Float-As-String take numbers too.
        assert_eq!(
            check(
                "order_Put",
                &json!({"status_id": 5, "staff_notes": "x", "discount_amount": 1.5})
            ),
            Ok(())
        );
        assert!(check("order_Put", &json!({"status_id": "5"})).is_err());
    }

    #[test]
    fn query_strings_are_coerced_and_unknown_parameters_reported() {
        let q = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<Vec<_>>()
        };
        let (ok, unknown) = coerce_query(
            "getOrders",
            &q(&[
                ("limit", "250"),
                ("sort", "date_modified"),
                ("external_order", "1"),
            ]),
        )
        .unwrap();
        assert_eq!(ok, json!({"limit": 250, "sort": "date_modified"}));
        assert_eq!(unknown, vec!["external_order".to_string()]);
        assert!(coerce_query("getOrders", &q(&[("sort", "date_modified:asc")])).is_err());
        assert!(coerce_query("getOrders", &q(&[("status_id", "x")])).is_err());
        let (variants, _) =
            coerce_query("getVariants", &q(&[("sku", "A,B"), ("page", "2")])).unwrap();
        assert_eq!(variants, json!({"sku": "A,B", "page": 2}));
    }
}
