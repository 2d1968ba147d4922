//! The wc/v3 contract (`tests/fixtures/platforms/woocommerce-wc-v3.schema.json`, a JSON Schema
//! derived from WooCommerce's controllers) as validators, and the query-string coercion
//! WordPress applies before checking parameters (`"100"` is an integer, `a,b` an array).
//!
//! Every request body and every known query parameter goes through here before the simulated
//! store acts on it; a refusal is worded like WordPress' `rest_invalid_param`.

use std::sync::OnceLock;

use jsonschema::{Draft, ValidatorMap};
use serde_json::{Map, Value};

const CONTRACT: &str =
    include_str!("../../../tests/fixtures/platforms/woocommerce-wc-v3.schema.json");

struct Contract {
    document: Value,
    validators: ValidatorMap,
}

fn contract() -> &'static Contract {
    static CONTRACT_CELL: OnceLock<Contract> = OnceLock::new();
    CONTRACT_CELL.get_or_init(|| {
        let document: Value = serde_json::from_str(CONTRACT).expect("the contract is JSON");
        let validators = jsonschema::options()
            .with_draft(Draft::Draft4)
            .should_validate_formats(true)
            .build_map(&document)
            .expect("the contract is a valid draft-4 schema");
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

/// A refusal: the parameter at fault and WordPress' words for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub param: String,
    pub message: String,
}

/// Checks `instance` against `#/definitions/{definition}`.
pub fn check(definition: &str, instance: &Value) -> Result<(), Invalid> {
    let pointer = format!("#/definitions/{definition}");
    let validator = contract()
        .validators
        .get(&pointer)
        .unwrap_or_else(|| panic!("the contract defines {definition}"));
    match validator.iter_errors(instance).next() {
        None => Ok(()),
        Some(error) => {
            let path = error.instance_path().to_string();
            let mut parts = path.trim_start_matches('/').split('/');
            let top = parts.next().filter(|p| !p.is_empty()).unwrap_or("body");
            let bracketed: String = parts.map(|p| format!("[{p}]")).collect();
            Err(Invalid {
                param: top.to_string(),
                message: format!("{top}{bracketed}: {error}"),
            })
        }
    }
}

/// The query parameters of `definition` (`orders_collection_params`…) coerced as WordPress
/// reads them; unknown parameters are left out (WordPress ignores them), so a misspelled filter
/// filters nothing, as on a real site.
pub fn coerce_query(definition: &str, query: &[(String, String)]) -> Result<Value, Invalid> {
    let schema = &contract().document["definitions"][definition]["properties"];
    let mut out = Map::new();
    for (raw_key, value) in query {
        let key = raw_key.trim_end_matches("[]");
        let Some(property) = schema.get(key) else {
            continue;
        };
        let coerced = coerce(property, value).ok_or_else(|| Invalid {
            param: key.to_string(),
            message: format!("{key} is not of type {}.", type_name(property)),
        })?;
        match (out.get_mut(key), coerced) {
            // `status[]=a&status[]=b`: repeated names add to the array.
            (Some(Value::Array(existing)), Value::Array(more)) if raw_key.ends_with("[]") => {
                existing.extend(more);
            }
            (_, coerced) => {
                out.insert(key.to_string(), coerced);
            }
        }
    }
    let instance = Value::Object(out);
    check(definition, &instance)?;
    Ok(instance)
}

fn type_name(property: &Value) -> String {
    match property.get("type") {
        Some(Value::String(t)) => t.clone(),
        _ if property.get("enum").is_some() => "one of its allowed values".into(),
        _ => "string".into(),
    }
}

fn coerce(property: &Value, value: &str) -> Option<Value> {
    match property.get("type").and_then(Value::as_str) {
        Some("integer") => value.trim().parse::<i64>().ok().map(Value::from),
        Some("boolean") => match value.trim() {
            "true" | "1" => Some(Value::Bool(true)),
            "false" | "0" => Some(Value::Bool(false)),
            _ => None,
        },
        Some("array") => {
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
    use serde_json::json;

    #[test]
    fn bodies_are_checked_against_the_contract() {
        assert!(check("order_note_create", &json!({"note": "x"})).is_ok());
        let missing = check("order_note_create", &json!({})).unwrap_err();
        assert!(missing.message.contains("note"), "{missing:?}");
        let wrong = check(
            "order_create",
            &json!({"line_items": [{"product_id": 1, "total": 20.0}]}),
        )
        .unwrap_err();
        assert_eq!(wrong.param, "line_items");
        assert!(
            wrong.message.starts_with("line_items[0][total]"),
            "{wrong:?}"
        );
        assert!(check("order_update", &json!({"status": "shipped"})).is_err());
        assert!(check("order_update", &json!({"colour": "red"})).is_err());
        assert!(check("order_create", &json!({"billing": {"email": ""}})).is_err());
    }

    #[test]
    fn query_strings_are_coerced_then_checked() {
        let q = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<Vec<_>>()
        };
        let ok = coerce_query(
            "orders_collection_params",
            &q(&[
                ("per_page", "100"),
                ("status", "processing,on-hold"),
                ("bogus", "1"),
            ]),
        )
        .unwrap();
        assert_eq!(
            ok,
            json!({"per_page": 100, "status": ["processing", "on-hold"]})
        );
        assert!(coerce_query("orders_collection_params", &q(&[("per_page", "101")])).is_err());
        assert!(coerce_query("orders_collection_params", &q(&[("status", "shipped")])).is_err());
        assert!(coerce_query("orders_collection_params", &q(&[("after", "yesterday")])).is_err());
        assert!(
            coerce_query(
                "orders_collection_params",
                &q(&[("modified_after", "2025-11-03T10:00:00Z")])
            )
            .is_ok()
        );
    }
}
