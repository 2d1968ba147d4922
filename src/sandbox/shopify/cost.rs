//! Shopify's calculated query cost and its leaky bucket, as the sandbox approximates them.
//!
//! Cost model (after shopify.dev "GraphQL Admin API rate limits" and Shopify's engineering
//! write-up of it): a scalar or enum field costs 0; an object, interface or union field 1 plus
//! its selections; a connection (`…Connection` type) 2 plus, per item asked for (`first` /
//! `last`), 1 plus the item's selections; a plain list of objects is counted once; a mutation
//! root field costs 10 whatever its payload selects. `requestedQueryCost` counts the page sizes
//! asked for; `actualQueryCost` counts the items the answer holds. Shopify refuses a single
//! query above 1000 points (`MAX_COST_EXCEEDED`).
//!
//! Bucket: charged `requestedQueryCost` before execution and refunded down to the actual cost
//! after; refills continuously at `restoreRate` up to `maximumAvailable`; a request that finds
//! fewer points than it requests is answered `THROTTLED` and charged nothing.

use std::time::Instant;

use apollo_compiler::ExecutableDocument;
use apollo_compiler::ast::Value as GraphqlValue;
use apollo_compiler::executable::{Field, Operation, OperationType, Selection};
use apollo_compiler::response::{JsonMap, JsonValue};
use apollo_compiler::schema::ExtendedType;
use apollo_compiler::validation::Valid;
use apollo_compiler::{Node, Schema};
use serde_json::{Value, json};

pub const MUTATION_COST: f64 = 10.0;
pub const SINGLE_QUERY_MAX: f64 = 1000.0;

/// Whether costs count what was asked for or what was answered.
#[derive(Clone, Copy)]
enum Mode<'a> {
    Requested,
    Actual(Option<&'a JsonValue>),
}

struct Walk<'a> {
    schema: &'a Valid<Schema>,
    document: &'a Valid<ExecutableDocument>,
    variables: &'a JsonMap,
}

/// `requestedQueryCost` of the operation.
pub fn requested(
    schema: &Valid<Schema>,
    document: &Valid<ExecutableDocument>,
    operation: &Operation,
    variables: &JsonMap,
) -> f64 {
    if operation.operation_type == OperationType::Mutation {
        return MUTATION_COST * operation.root_fields(document).count() as f64;
    }
    let walk = Walk {
        schema,
        document,
        variables,
    };
    walk.selections(&operation.selection_set.selections, Mode::Requested)
}

/// `actualQueryCost`: the same walk over the answer's `data`.
pub fn actual(
    schema: &Valid<Schema>,
    document: &Valid<ExecutableDocument>,
    operation: &Operation,
    variables: &JsonMap,
    data: Option<&JsonMap>,
) -> f64 {
    if operation.operation_type == OperationType::Mutation {
        return requested(schema, document, operation, variables);
    }
    let walk = Walk {
        schema,
        document,
        variables,
    };
    let data = data.map(|d| JsonValue::Object(d.clone()));
    walk.selections(
        &operation.selection_set.selections,
        Mode::Actual(data.as_ref()),
    )
}

impl Walk<'_> {
    fn selections(&self, selections: &[Selection], mode: Mode<'_>) -> f64 {
        selections
            .iter()
            .map(|selection| match selection {
                Selection::Field(field) => {
                    let value = match mode {
                        Mode::Requested => Mode::Requested,
                        Mode::Actual(parent) => Mode::Actual(
                            parent
                                .and_then(JsonValue::as_object)
                                .and_then(|o| o.get(field.response_key().as_str())),
                        ),
                    };
                    self.field(field, value)
                }
                Selection::FragmentSpread(spread) => self
                    .document
                    .fragments
                    .get(&spread.fragment_name)
                    .map_or(0.0, |f| self.selections(&f.selection_set.selections, mode)),
                Selection::InlineFragment(inline) => {
                    self.selections(&inline.selection_set.selections, mode)
                }
            })
            .sum()
    }

    fn field(&self, field: &Node<Field>, mode: Mode<'_>) -> f64 {
        let type_name = field.definition.ty.inner_named_type();
        match self.schema.types.get(type_name) {
            Some(ExtendedType::Scalar(_) | ExtendedType::Enum(_)) | None => 0.0,
            Some(_) if type_name.ends_with("Connection") => self.connection(field, mode),
            Some(_) => match mode {
                Mode::Requested => 1.0 + self.selections(&field.selection_set.selections, mode),
                Mode::Actual(None | Some(JsonValue::Null)) => 0.0,
                Mode::Actual(Some(JsonValue::Array(items))) => {
                    1.0 + items
                        .iter()
                        .map(|item| {
                            self.selections(
                                &field.selection_set.selections,
                                Mode::Actual(Some(item)),
                            )
                        })
                        .fold(0.0, f64::max)
                }
                Mode::Actual(value) => {
                    1.0 + self.selections(&field.selection_set.selections, Mode::Actual(value))
                }
            },
        }
    }

    /// 2 + per item (1 + the item's selections), items read from `nodes` or `edges { node }`.
    fn connection(&self, field: &Node<Field>, mode: Mode<'_>) -> f64 {
        let item_selections = field.selection_set.selections.iter().find_map(|s| match s {
            Selection::Field(f) if f.name == "nodes" => Some((f, None)),
            Selection::Field(f) if f.name == "edges" => {
                f.selection_set.selections.iter().find_map(|s| match s {
                    Selection::Field(node) if node.name == "node" => Some((f, Some(node))),
                    _ => None,
                })
            }
            _ => None,
        });
        let Some((list_field, node_field)) = item_selections else {
            return 2.0;
        };
        let selections = &node_field.unwrap_or(list_field).selection_set.selections;
        match mode {
            Mode::Requested => {
                let size = self.page_size(field);
                2.0 + size * (1.0 + self.selections(selections, Mode::Requested))
            }
            Mode::Actual(None | Some(JsonValue::Null)) => 0.0,
            Mode::Actual(Some(connection)) => {
                let items = connection
                    .as_object()
                    .and_then(|o| o.get(list_field.response_key().as_str()))
                    .and_then(JsonValue::as_array);
                2.0 + items
                    .into_iter()
                    .flatten()
                    .map(|item| {
                        let item = match node_field {
                            Some(node) => item
                                .as_object()
                                .and_then(|e| e.get(node.response_key().as_str())),
                            None => Some(item),
                        };
                        1.0 + self.selections(selections, Mode::Actual(item))
                    })
                    .sum::<f64>()
            }
        }
    }

    /// `first` or `last`, literal or variable.
    fn page_size(&self, field: &Field) -> f64 {
        field
            .arguments
            .iter()
            .filter(|a| a.name == "first" || a.name == "last")
            .find_map(|a| match a.value.as_ref() {
                GraphqlValue::Int(n) => n.try_to_i32().ok().map(f64::from),
                GraphqlValue::Variable(name) => self
                    .variables
                    .get(name.as_str())
                    .and_then(JsonValue::as_i64)
                    .map(|n| n as f64),
                _ => None,
            })
            .unwrap_or(0.0)
            .max(0.0)
    }
}

/// Bucket size and refill speed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BucketLimits {
    pub maximum_available: f64,
    pub restore_rate: f64,
}

impl Default for BucketLimits {
    /// The bucket of a standard plan store.
    fn default() -> Self {
        BucketLimits {
            maximum_available: 1000.0,
            restore_rate: 50.0,
        }
    }
}

/// One app-and-store bucket.
#[derive(Debug, Clone)]
pub struct Bucket {
    limits: BucketLimits,
    available: f64,
    at: Instant,
}

impl Bucket {
    pub fn full(limits: BucketLimits) -> Bucket {
        Bucket {
            limits,
            available: limits.maximum_available,
            at: Instant::now(),
        }
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.at).as_secs_f64();
        self.available = (self.available + elapsed * self.limits.restore_rate)
            .min(self.limits.maximum_available);
        self.at = now;
    }

    /// Takes `cost` points if they are there.
    pub fn try_charge(&mut self, cost: f64, now: Instant) -> bool {
        self.refill(now);
        if self.available < cost {
            return false;
        }
        self.available -= cost;
        true
    }

    pub fn refund(&mut self, points: f64, now: Instant) {
        self.refill(now);
        self.available = (self.available + points.max(0.0)).min(self.limits.maximum_available);
    }

    pub fn set_limits(&mut self, limits: BucketLimits, now: Instant) {
        self.refill(now);
        self.limits = limits;
        self.available = self.available.min(limits.maximum_available);
    }

    /// Empties the bucket, as a burst from another app on the same store would.
    pub fn drain(&mut self, now: Instant) {
        self.refill(now);
        self.available = 0.0;
    }

    /// `extensions.cost.throttleStatus`; Shopify reports available points as a whole number.
    pub fn status(&mut self, now: Instant) -> Value {
        self.refill(now);
        json!({
            "maximumAvailable": self.limits.maximum_available,
            "currentlyAvailable": self.available.floor() as i64,
            "restoreRate": self.limits.restore_rate,
        })
    }
}

/// `extensions.cost` for an answer.
pub fn extension(requested: f64, actual: Option<f64>, status: Value) -> Value {
    json!({ "cost": {
        "requestedQueryCost": requested.round() as i64,
        "actualQueryCost": actual.map(|a| a.round() as i64),
        "throttleStatus": status,
    }})
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn the_bucket_refills_to_its_maximum_and_reports_whole_points() {
        let limits = BucketLimits {
            maximum_available: 100.0,
            restore_rate: 50.0,
        };
        let start = Instant::now();
        let mut bucket = Bucket::full(limits);
        assert!(bucket.try_charge(90.0, start));
        assert!(!bucket.try_charge(20.0, start), "10 left");
        let later = start + Duration::from_millis(210);
        assert_eq!(
            bucket.status(later)["currentlyAvailable"],
            20,
            "10 + 10.5, floored"
        );
        bucket.refund(75.0, later);
        assert_eq!(bucket.status(later)["currentlyAvailable"], 95);
        let much_later = later + Duration::from_secs(60);
        assert_eq!(bucket.status(much_later)["currentlyAvailable"], 100);
        bucket.drain(much_later);
        assert!(!bucket.try_charge(1.0, much_later));
    }

    #[test]
    fn cost_extension_has_shopify_shape() {
        let mut bucket = Bucket::full(BucketLimits::default());
        let ext = extension(12.0, None, bucket.status(Instant::now()));
        assert_eq!(ext["cost"]["requestedQueryCost"], 12);
        assert_eq!(ext["cost"]["actualQueryCost"], Value::Null);
        assert_eq!(ext["cost"]["throttleStatus"]["maximumAvailable"], 1000.0);
    }
}
