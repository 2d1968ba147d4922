//! GraphQL execution for the sandbox, on apollo-compiler's spec-conformant executor: the root
//! fields the sandbox simulates resolve to full JSON objects (built by `state`, `reads` and
//! `mutations` from the documented shapes), and the executor projects them through the
//! request's selection set — aliases, fragments, `__typename`, `@skip`/`@include`, variables —
//! checking every leaf against the schema's types on the way out.
//!
//! Invariants: a field the sandbox has no data for is a field error naming it, never a silent
//! null; list fields honour `first` (`fulfillments(first: 1)`); nested connections are sliced
//! by `first` too.

use std::cell::RefCell;
use std::time::Instant;

use apollo_compiler::ast::Type;
use apollo_compiler::resolvers::{FieldError, ObjectValue, ResolveInfo, ResolvedValue};
use apollo_compiler::response::{JsonMap, JsonValue};
use chrono::{DateTime, Utc};
use serde_json::Value;

use super::Release;
use super::reads;
use super::state::World;

/// The root fields the sandbox simulates, per root type.
pub const SIMULATED_QUERIES: &[&str] = &[
    "order",
    "orders",
    "productVariants",
    "job",
    "webhookSubscriptions",
];
pub const SIMULATED_MUTATIONS: &[&str] = &[
    "orderCreate",
    "orderCancel",
    "orderUpdate",
    "orderEditBegin",
    "orderEditSetQuantity",
    "orderEditCommit",
    "webhookSubscriptionCreate",
    "webhookSubscriptionDelete",
];

/// `QueryRoot` or `Mutation` of one request to one store.
pub struct Root<'w> {
    pub type_name: &'static str,
    pub world: RefCell<&'w mut World>,
    pub store: usize,
    pub release: Release,
    pub now: Instant,
    pub wall: DateTime<Utc>,
}

impl ObjectValue for Root<'_> {
    fn type_name(&self) -> &str {
        self.type_name
    }

    fn resolve_field<'a>(
        &'a self,
        info: &'a ResolveInfo<'a>,
    ) -> Result<ResolvedValue<'a>, FieldError> {
        let args: Value = serde_json::to_value(info.arguments()).map_err(|e| FieldError {
            message: format!("arguments: {e}"),
        })?;
        let mut world = self.world.borrow_mut();
        let id = args.get("id").and_then(Value::as_str).unwrap_or_default();
        let store = &world.stores[self.store];
        let value = match (self.type_name, info.field_name()) {
            ("QueryRoot", "order") => store
                .orders
                .iter()
                .find(|o| o.id == id)
                .map(|o| o.to_json())
                .unwrap_or(Value::Null),
            ("QueryRoot", "orders") => reads::orders(store, &args).map_err(field_error)?,
            ("QueryRoot", "productVariants") => {
                reads::product_variants(store, &args).map_err(field_error)?
            }
            ("QueryRoot", "job") => world.job_json(id).unwrap_or(Value::Null),
            ("QueryRoot", "webhookSubscriptions") => world.webhook_subscriptions(self.store),
            ("Mutation", "webhookSubscriptionCreate") => {
                world.webhook_subscription_create(self.store, &args, self.wall)
            }
            ("Mutation", "webhookSubscriptionDelete") => {
                world.webhook_subscription_delete(self.store, &args)
            }
            ("Mutation", "orderCreate") => {
                world.order_create(self.store, &args, self.now, self.wall)
            }
            ("Mutation", "orderUpdate") => world.order_update(self.store, &args, self.wall),
            ("Mutation", "orderEditBegin") => world.order_edit_begin(self.store, &args),
            ("Mutation", "orderEditSetQuantity") => {
                world.order_edit_set_quantity(self.store, &args)
            }
            ("Mutation", "orderEditCommit") => {
                world.order_edit_commit(self.store, &args, self.wall)
            }
            ("Mutation", "orderCancel") => {
                world.order_cancel(self.store, &args, self.release, self.now, self.wall)
            }
            (_, name) => {
                return Err(field_error(format!(
                    "{}.{name} is not simulated by the orderdeck sandbox",
                    self.type_name
                )));
            }
        };
        Ok(resolve(
            JsonValue::from(value),
            &info.field_definition().ty,
            Some(info.arguments()),
        ))
    }
}

fn field_error(message: impl Into<String>) -> FieldError {
    FieldError {
        message: message.into(),
    }
}

/// Any object below the root: a JSON object of its type's fields.
struct JsonObject {
    type_name: String,
    fields: JsonMap,
}

impl ObjectValue for JsonObject {
    fn type_name(&self) -> &str {
        &self.type_name
    }

    fn resolve_field<'a>(
        &'a self,
        info: &'a ResolveInfo<'a>,
    ) -> Result<ResolvedValue<'a>, FieldError> {
        match self.fields.get(info.field_name()) {
            Some(value) => Ok(resolve(
                value.clone(),
                &info.field_definition().ty,
                Some(info.arguments()),
            )),
            None => Err(field_error(format!(
                "{}.{} is not simulated by the orderdeck sandbox",
                self.type_name,
                info.field_name()
            ))),
        }
    }
}

/// A JSON value as the executor wants it, for a field of type `ty` called with `arguments`.
fn resolve<'a>(value: JsonValue, ty: &Type, arguments: Option<&JsonMap>) -> ResolvedValue<'a> {
    let first = arguments
        .and_then(|a| a.get("first"))
        .and_then(JsonValue::as_i64)
        .and_then(|n| usize::try_from(n).ok());
    match value {
        JsonValue::Null => ResolvedValue::null(),
        JsonValue::Array(mut items) if ty.is_list() => {
            if let Some(first) = first {
                items.truncate(first);
            }
            let item_type = ty.item_type().clone();
            ResolvedValue::list(
                items
                    .into_iter()
                    .map(move |item| resolve(item, &item_type, None)),
            )
        }
        JsonValue::Object(mut fields) => {
            let declared = ty.inner_named_type().as_str();
            let type_name = fields
                .get("__typename")
                .and_then(JsonValue::as_str)
                .unwrap_or(declared)
                .to_string();
            if let (true, Some(first)) = (type_name.ends_with("Connection"), first) {
                slice_connection(&mut fields, first);
            }
            ResolvedValue::object(JsonObject { type_name, fields })
        }
        leaf => ResolvedValue::Leaf(leaf),
    }
}

/// Keeps the first `first` items of a connection built whole (`lineItems(first: 5)`).
fn slice_connection(fields: &mut JsonMap, first: usize) {
    let mut cut = false;
    for key in ["nodes", "edges"] {
        if let Some(JsonValue::Array(items)) = fields.get_mut(key) {
            cut |= items.len() > first;
            items.truncate(first);
        }
    }
    if cut && let Some(JsonValue::Object(info)) = fields.get_mut("pageInfo") {
        info.insert("hasNextPage", JsonValue::Bool(true));
    }
}
