//! The Magento 2.4.9 admin contract (`tests/fixtures/platforms/magento2-admin-2.4.9.json`,
//! Swagger 2.0) turned into JSON Schema validators at load, and the `searchCriteria` reader.
//!
//! Conversion, the way Magento reads input (magento2.md, "How Magento reads a request"):
//! - every object with `properties` gets `additionalProperties: false`, because Magento's
//!   `ServiceInputProcessor` refuses a key the interface does not have (400 `"%fieldName" is not
//!   supported`) — Swagger leaves objects open, Magento does not;
//! - the data objects' `required` lists are dropped: they come from non-nullable getters and
//!   say what responses carry; input is checked later by business rules (see `ops`). The
//!   request bodies' own `required` (the method's parameters, e.g. `entity`) stay;
//! - scalars may also be `null` (Magento takes `null` anywhere). The sandbox is stricter than
//!   Magento in one way: it does not coerce `"2"` into a number, so the client sends real types.
//!
//! A body's top-level names may be camelCase or snake_case (`statusHistory`/`status_history`):
//! they are put in the contract's spelling before validation.

use std::sync::OnceLock;

use jsonschema::error::ValidationErrorKind;
use jsonschema::{Draft, ValidatorMap};
use serde_json::{Map, Value, json};

const CONTRACT: &str = include_str!("../../../tests/fixtures/platforms/magento2-admin-2.4.9.json");

struct Contract {
    /// Body schema names by "METHOD path" (`POST /V1/orders`).
    bodies: Vec<(String, String)>,
    validators: ValidatorMap,
}

/// One Swagger schema as JSON Schema (see the module doc). Property names are names, not
/// keywords: a property called `type` or `required` stays as it is.
fn convert(schema: &Value) -> Value {
    let Value::Object(map) = schema else {
        return schema.clone();
    };
    let mut out = Map::new();
    for (key, value) in map {
        match key.as_str() {
            "required" | "xml" | "description" | "example" => {}
            "type" => {
                let t = value.as_str().unwrap_or("object");
                let allowed = if matches!(t, "object" | "array") {
                    json!(t)
                } else {
                    json!([t, "null"])
                };
                out.insert(key.clone(), allowed);
            }
            "properties" => {
                let properties: Map<String, Value> = value
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(name, property)| (name.clone(), convert(property)))
                    .collect();
                out.insert(key.clone(), Value::Object(properties));
            }
            "items" | "additionalProperties" => {
                out.insert(key.clone(), convert(value));
            }
            _ => {
                out.insert(key.clone(), value.clone());
            }
        }
    }
    if out.contains_key("properties") {
        out.insert("additionalProperties".into(), json!(false));
    }
    Value::Object(out)
}

fn contract() -> &'static Contract {
    static CELL: OnceLock<Contract> = OnceLock::new();
    CELL.get_or_init(|| {
        let swagger: Value = serde_json::from_str(CONTRACT).expect("the contract is JSON");
        let mut definitions = Map::new();
        for (name, schema) in swagger["definitions"].as_object().expect("definitions") {
            definitions.insert(name.clone(), convert(schema));
        }
        let mut bodies = Vec::new();
        for (path, operations) in swagger["paths"].as_object().expect("paths") {
            for (method, operation) in operations.as_object().expect("operations") {
                let body = operation["parameters"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|p| p["in"] == "body");
                if let Some(body) = body {
                    let name = body["name"].as_str().expect("a body name").to_string();
                    let mut schema = convert(&body["schema"]);
                    if let Some(required) = body["schema"].get("required") {
                        schema["required"] = required.clone();
                    }
                    definitions.insert(name.clone(), schema);
                    bodies.push((format!("{} {path}", method.to_uppercase()), name));
                }
            }
        }
        let document = json!({ "definitions": definitions });
        let validators = jsonschema::options()
            .with_draft(Draft::Draft4)
            .build_map(&document)
            .expect("the converted contract is a valid draft-4 schema");
        Contract { bodies, validators }
    })
}

/// Compiles the contract now rather than in the first request.
pub fn load() {
    let _ = contract();
}

/// A refusal in Magento's words, with its parameters substituted in `message` already and kept
/// apart in `parameters`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub message: String,
    pub parameters: Value,
}

impl Invalid {
    pub fn new(template: &str, parameters: Value) -> Invalid {
        Invalid {
            message: template.to_string(),
            parameters,
        }
    }
}

fn camel(snake: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in snake.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// Checks a body for `operation` (`POST /V1/orders`, the contract's path template) and answers
/// it with the top-level names in the contract's spelling.
pub fn check_body(operation: &str, body: &Value) -> Result<Value, Invalid> {
    let contract = contract();
    let name = contract
        .bodies
        .iter()
        .find(|(op, _)| op == operation)
        .map(|(_, name)| name.clone())
        .unwrap_or_else(|| panic!("the contract has a body for {operation}"));
    let Value::Object(map) = body else {
        return Err(Invalid::new(
            "Decoding error: the body is not an object",
            json!([]),
        ));
    };
    let mut normalised = Map::new();
    for (key, value) in map {
        let key = if key.contains('_') {
            camel(key)
        } else {
            key.clone()
        };
        normalised.insert(key, value.clone());
    }
    let instance = Value::Object(normalised);
    validate(&format!("#/definitions/{name}"), &instance)?;
    Ok(instance)
}

/// Checks `instance` against a converted definition (`#/definitions/…`).
pub fn validate(pointer: &str, instance: &Value) -> Result<(), Invalid> {
    let validator = contract()
        .validators
        .get(pointer)
        .unwrap_or_else(|| panic!("the contract defines {pointer}"));
    let Some(error) = validator.iter_errors(instance).next() else {
        return Ok(());
    };
    let at = error.instance_path().to_string();
    Err(match error.kind() {
        ValidationErrorKind::AdditionalProperties { unexpected } => Invalid::new(
            &format!(
                "\"{}\" is not supported. Correct the field name and try again.",
                unexpected.join(", ")
            ),
            json!({ "fieldName": unexpected.join(", "), "at": at }),
        ),
        ValidationErrorKind::Required { property } => Invalid::new(
            &format!(
                "\"{}\" is required. Enter and try again.",
                property.as_str().unwrap_or_default()
            ),
            json!({ "fieldName": property, "at": at }),
        ),
        _ => Invalid::new(
            &format!(
                "The \"{}\" value's type is invalid at {at}: {error}. Verify and try again.",
                error.instance()
            ),
            json!({ "at": at }),
        ),
    })
}

/// A `searchCriteria` as read from a query string, in snake_case.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Criteria {
    /// Groups (AND-ed) of filters (OR-ed): `(field, value, condition_type)`.
    pub groups: Vec<Vec<(String, String, String)>>,
    pub sort: Vec<(String, String)>,
    pub page_size: Option<u64>,
    pub current_page: Option<u64>,
}

const CONDITIONS: &[&str] = &[
    "eq", "neq", "gt", "gteq", "lt", "lteq", "moreq", "from", "to", "like", "nlike", "in", "nin",
    "null", "notnull", "finset", "nfinset",
];

/// `searchCriteria[...]` out of a query string. Other parameters are ignored (as Magento does);
/// a list without `searchCriteria` and a misspelt key inside it are refused.
pub fn criteria(query: &[(String, String)]) -> Result<Criteria, Invalid> {
    let mut tree = json!({});
    let mut seen = false;
    for (key, value) in query {
        let Some(rest) = key.strip_prefix("searchCriteria") else {
            continue;
        };
        seen = true;
        if rest.is_empty() {
            continue;
        }
        let parts: Vec<String> = rest
            .trim_start_matches('[')
            .trim_end_matches(']')
            .split("][")
            .map(|p| {
                if p.contains('_') {
                    camel(p)
                } else {
                    p.to_string()
                }
            })
            .collect();
        let mut node = &mut tree;
        for (i, part) in parts.iter().enumerate() {
            if i + 1 == parts.len() {
                node[part.as_str()] = json!(value);
            } else {
                if node.get(part.as_str()).is_none() {
                    node[part.as_str()] = json!({});
                }
                node = &mut node[part.as_str()];
            }
        }
    }
    if !seen {
        return Err(Invalid::new(
            "\"searchCriteria\" is required. Enter and try again.",
            json!({ "fieldName": "searchCriteria" }),
        ));
    }
    let bad = |what: String| Invalid::new(&what, json!([]));
    let number = |v: &Value, what: &str| -> Result<Option<u64>, Invalid> {
        match v.get(what) {
            None => Ok(None),
            Some(n) => n
                .as_str()
                .and_then(|s| s.parse().ok())
                .map(Some)
                .ok_or_else(|| {
                    bad(format!(
                        "The \"{n}\" value's type is invalid. The \"int\" type was expected."
                    ))
                }),
        }
    };
    let mut out = Criteria {
        page_size: number(&tree, "pageSize")?,
        current_page: number(&tree, "currentPage")?,
        ..Criteria::default()
    };
    let keys: &[&str] = &["filterGroups", "sortOrders", "pageSize", "currentPage"];
    if let Some(unknown) = tree
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, _)| k)
        .find(|k| !keys.contains(&k.as_str()))
    {
        return Err(bad(format!(
            "\"{unknown}\" is not supported. Correct the field name and try again."
        )));
    }
    for (_, group) in tree
        .get("filterGroups")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        let mut filters = Vec::new();
        for (_, filter) in group
            .get("filters")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            let text = |k: &str| filter.get(k).and_then(Value::as_str).map(str::to_string);
            if let Some(unknown) = filter
                .as_object()
                .into_iter()
                .flatten()
                .map(|(k, _)| k)
                .find(|k| !matches!(k.as_str(), "field" | "value" | "conditionType"))
            {
                return Err(bad(format!(
                    "\"{unknown}\" is not supported. Correct the field name and try again."
                )));
            }
            let field = text("field")
                .ok_or_else(|| bad("\"field\" is required. Enter and try again.".into()))?;
            let condition = text("conditionType").unwrap_or_else(|| "eq".into());
            if !CONDITIONS.contains(&condition.as_str()) {
                return Err(bad(format!("Invalid condition type: {condition}")));
            }
            filters.push((field, text("value").unwrap_or_default(), condition));
        }
        out.groups.push(filters);
    }
    for (_, sort) in tree
        .get("sortOrders")
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
    {
        let field = sort
            .get("field")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        let direction = sort
            .get("direction")
            .and_then(Value::as_str)
            .unwrap_or("DESC")
            .to_uppercase();
        if !matches!(direction.as_str(), "ASC" | "DESC") {
            return Err(bad(format!("Sort order \"{direction}\" is not supported.")));
        }
        out.sort.push((field, direction));
    }
    // The shape, once read, against the contract's own definition.
    let echo = json!({ "page_size": out.page_size, "current_page": out.current_page });
    validate("#/definitions/framework-search-criteria-interface", &echo)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_are_closed_objects_checked_against_the_contract() {
        let ok = check_body(
            "POST /V1/orders/{id}/comments",
            &json!({"status_history": {"comment": "x", "is_customer_notified": 0, "is_visible_on_front": 0}}),
        )
        .unwrap();
        assert!(ok.get("statusHistory").is_some());
        let unknown = check_body(
            "POST /V1/orders",
            &json!({"entity": {"shipping_address": {}}}),
        )
        .unwrap_err();
        assert!(
            unknown
                .message
                .contains("\"shipping_address\" is not supported"),
            "{unknown:?}"
        );
        let flag = check_body(
            "POST /V1/orders/{id}/comments",
            &json!({"statusHistory": {"comment": "x", "is_customer_notified": true}}),
        )
        .unwrap_err();
        assert!(flag.message.contains("type is invalid"), "{flag:?}");
        let missing = check_body("POST /V1/orders", &json!({})).unwrap_err();
        assert!(
            missing.message.contains("\"entity\" is required"),
            "{missing:?}"
        );
        assert!(
            check_body(
                "POST /V1/order/{orderId}/invoice",
                &json!({"capture": true, "notify": false})
            )
            .is_ok()
        );
    }

    #[test]
    fn search_criteria_are_read_and_misspellings_refused() {
        let q = |pairs: &[(&str, &str)]| {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<Vec<_>>()
        };
        let c = criteria(&q(&[
            (
                "searchCriteria[filterGroups][0][filters][0][field]",
                "ext_order_id",
            ),
            (
                "searchCriteria[filter_groups][0][filters][0][value]",
                "5764",
            ),
            ("searchCriteria[pageSize]", "20"),
            ("ext_order_id", "ignored"),
        ]))
        .unwrap();
        assert_eq!(
            c.groups,
            vec![vec![("ext_order_id".into(), "5764".into(), "eq".into())]]
        );
        assert_eq!(c.page_size, Some(20));
        assert!(
            criteria(&q(&[("ext_order_id", "1")]))
                .unwrap_err()
                .message
                .contains("searchCriteria")
        );
        assert!(criteria(&q(&[("searchCriteria", "")])).is_ok());
        assert!(
            criteria(&q(&[(
                "searchCriteria[filterGroups][0][filters][0][feild]",
                "x"
            )]))
            .is_err()
        );
        assert!(
            criteria(&q(&[
                ("searchCriteria[filterGroups][0][filters][0][field]", "x"),
                (
                    "searchCriteria[filterGroups][0][filters][0][conditionType]",
                    "equals"
                )
            ]))
            .is_err()
        );
    }
}
