//! Every GraphQL document orderdeck sends to Shopify's Admin API, in one place so one test can
//! validate them all against Shopify's published schema (`tests/it/shopify_documents.rs`).
//!
//! Invariants: documents are constants (the SKU batch only repeats a constant block under
//! numbered aliases); every value that comes from a merchant or a buyer travels as a variable,
//! never inside the document. Search strings (`query:` arguments) are built only through
//! [`search_term`], which quotes and escapes the value per Shopify's search syntax.
//! Fixed policy values — `reason: OTHER`, `notifyCustomer: false`, no refund — are literals in
//! the documents so no caller can change them.

use crate::platforms::shopify::config::ApiVersion;

/// The order fields every read asks for: enough to build a `StorefrontOrder` (status, fulfillments
/// with tracking, refund state) and to map the order back to its TikTok order.
/// `fulfillments` and `trackingInfo` are plain lists, not connections: requested without
/// `first` so no tracking number is ever cut off.
macro_rules! store_order_fragment {
    () => {
        r#"
fragment StoreOrder on Order {
  id
  name
  sourceIdentifier
  updatedAt
  cancelledAt
  closed
  displayFinancialStatus
  currentSubtotalLineItemsQuantity
  fulfillments {
    id
    status
    createdAt
    trackingInfo {
      company
      number
      url
    }
  }
}
"#
    };
}

/// First estimates of each document's `requestedQueryCost`, by Shopify's published rules
/// (object 1, connection 2 + page size × item, plain list counted once, mutation 10). The pacer
/// uses them until Shopify has charged the operation once; `tests/it/shopify_documents.rs` checks
/// them against the sandbox's implementation of the same rules.
pub mod cost_hint {
    pub const ORDER_CREATE: f64 = 10.0;
    pub const ORDER_CANCEL: f64 = 10.0;
    pub const ORDER_UPDATE: f64 = 10.0;
    /// order + fulfillments + trackingInfo.
    pub const GET_ORDER: f64 = 3.0;
    /// GET_ORDER + lineItems (2 + 250) + fulfillmentLineItems (2 + 50 × (item + lineItem)).
    pub const ORDER_DETAIL: f64 = 357.0;
    /// 2 + 2 orders × 3.
    pub const FIND_ORDER: f64 = 8.0;
    /// 2 + 100 orders × 3.
    pub const CHANGED_ORDERS: f64 = 302.0;
    /// Per SKU: 2 + 10 variants × 1.
    pub const LOOKUP_SKU: f64 = 12.0;
    /// order + lineItems (2 + 250 lines × 1; its pageInfo is free).
    pub const ORDER_LINES: f64 = 253.0;
    pub const ORDER_EDIT: f64 = 10.0;
    /// `webhookSubscriptions(first: 50)`: 2 + 50 × 1.
    pub const WEBHOOK_SUBSCRIPTIONS: f64 = 52.0;
    pub const WEBHOOK_SUBSCRIPTION_WRITE: f64 = 10.0;
}

/// What the store shipped of each line and what is left: read only for an order that has a
/// fulfillment, before cancelling it (250 is Shopify's largest page; an order with more lines
/// says so through `hasNextPage`).
pub const ORDER_LINES: &str = r#"
query OrderLines($id: ID!) {
  order(id: $id) {
    id
    lineItems(first: 250) {
      pageInfo {
        hasNextPage
      }
      nodes {
        sku
        currentQuantity
        unfulfilledQuantity
      }
    }
  }
}
"#;

/// Opens an order edit; its calculated lines say how many units of each can still be edited.
pub const ORDER_EDIT_BEGIN: &str = r#"
mutation OrderEditBegin($id: ID!) {
  orderEditBegin(id: $id) {
    calculatedOrder {
      id
      lineItems(first: 250) {
        nodes {
          id
          sku
          quantity
          editableQuantity
        }
      }
    }
    userErrors {
      field
      message
    }
  }
}
"#;

/// Stages a line's new quantity; the units taken off go back to stock when `restock` (the
/// link's setting for TikTok's line cancels; always when unshipped units of a cancelled
/// order are put back).
pub const ORDER_EDIT_SET_QUANTITY: &str = r#"
mutation OrderEditSetQuantity($id: ID!, $lineItemId: ID!, $quantity: Int!, $restock: Boolean!) {
  orderEditSetQuantity(id: $id, lineItemId: $lineItemId, quantity: $quantity, restock: $restock) {
    calculatedLineItem {
      id
      quantity
    }
    userErrors {
      field
      message
    }
  }
}
"#;

/// Applies the staged edit, never telling the customer (TikTok does).
pub const ORDER_EDIT_COMMIT: &str = r#"
mutation OrderEditCommit($id: ID!, $staffNote: String) {
  orderEditCommit(id: $id, notifyCustomer: false, staffNote: $staffNote) {
    order {
      id
    }
    userErrors {
      field
      message
    }
  }
}
"#;

pub const ORDER_CREATE: &str = concat!(
    r#"
mutation OrderCreate($order: OrderCreateOrderInput!, $options: OrderCreateOptionsInput) {
  orderCreate(order: $order, options: $options) {
    order {
      ...StoreOrder
    }
    userErrors {
      field
      message
      code
    }
  }
}
"#,
    store_order_fragment!()
);

/// Overwrites the order's shipping address (and its note, when sent).
pub const ORDER_UPDATE: &str = concat!(
    r#"
mutation OrderUpdate($input: OrderInput!) {
  orderUpdate(input: $input) {
    order {
      ...StoreOrder
    }
    userErrors {
      field
      message
    }
  }
}
"#,
    store_order_fragment!()
);

/// `first: 2`: one order is the answer, a second one is a duplicate staff must resolve.
pub const FIND_ORDER: &str = concat!(
    r#"
query FindOrder($query: String!) {
  orders(first: 2, query: $query) {
    nodes {
      ...StoreOrder
    }
  }
}
"#,
    store_order_fragment!()
);

pub const GET_ORDER: &str = concat!(
    r#"
query GetOrder($id: ID!) {
  order(id: $id) {
    ...StoreOrder
  }
}
"#,
    store_order_fragment!()
);

/// One order in full: with its lines as they stand now and the units each fulfillment holds,
/// which split shipments and line-level cancels need (other reads keep to the cheap fragment).
pub const ORDER_DETAIL: &str = concat!(
    r#"
query OrderDetail($id: ID!) {
  order(id: $id) {
    ...StoreOrder
    lineItems(first: 250) {
      nodes {
        id
        sku
        currentQuantity
      }
    }
    fulfillments {
      id
      fulfillmentLineItems(first: 50) {
        nodes {
          quantity
          lineItem {
            sku
          }
        }
      }
    }
  }
}
"#,
    store_order_fragment!()
);

/// The page size of the changed-orders poll.
pub const CHANGED_ORDERS_PAGE: usize = 100;

pub const CHANGED_ORDERS: &str = concat!(
    r#"
query ChangedOrders($query: String!, $after: String) {
  orders(first: 100, after: $after, sortKey: UPDATED_AT, query: $query) {
    pageInfo {
      hasNextPage
      endCursor
    }
    nodes {
      ...StoreOrder
    }
  }
}
"#,
    store_order_fragment!()
);

/// API 2025-07 and later: the refund is described by `refundMethod`, and "no refund" is
/// `originalPaymentMethodsRefund: false` (TikTok refunds the buyer, never the store).
pub const ORDER_CANCEL: &str = r#"
mutation OrderCancel($orderId: ID!, $restock: Boolean!, $staffNote: String) {
  orderCancel(
    orderId: $orderId
    reason: OTHER
    restock: $restock
    notifyCustomer: false
    staffNote: $staffNote
    refundMethod: { originalPaymentMethodsRefund: false }
  ) {
    job {
      id
      done
    }
    orderCancelUserErrors {
      field
      message
      code
    }
  }
}
"#;

/// API versions before 2025-07, where `refund: Boolean!` is required and `refundMethod` does
/// not exist yet. Never both: from 2025-07 on, sending both is an error.
pub const ORDER_CANCEL_BEFORE_2025_07: &str = r#"
mutation OrderCancel($orderId: ID!, $restock: Boolean!, $staffNote: String) {
  orderCancel(
    orderId: $orderId
    reason: OTHER
    restock: $restock
    notifyCustomer: false
    staffNote: $staffNote
    refund: false
  ) {
    job {
      id
      done
    }
    orderCancelUserErrors {
      field
      message
      code
    }
  }
}
"#;

/// The cancel document for the configured API version.
pub fn order_cancel(version: ApiVersion) -> &'static str {
    if version.has_cancel_refund_method() {
        ORDER_CANCEL
    } else {
        ORDER_CANCEL_BEFORE_2025_07
    }
}

/// SKUs resolved per request. Each alias costs about 2 + `SKU_MATCHES_READ` points, so a full
/// batch stays well below even a 100-point bucket.
pub const SKU_BATCH: usize = 5;

/// Variants read per SKU. Shopify's `sku:` search is tokenised, so it can return variants
/// whose SKU merely contains the one asked for; orderdeck keeps exact matches only, and reads
/// enough candidates that a true duplicate is not hidden behind near-misses.
pub const SKU_MATCHES_READ: usize = 10;

/// The variable holding the search string of alias `s{index}`.
pub fn sku_variable(index: usize) -> String {
    format!("q{index}")
}

/// The response key of the lookup of SKU number `index` in a batch.
pub fn sku_alias(index: usize) -> String {
    format!("s{index}")
}

/// `query LookupSkus($q0: String!, …) { s0: productVariants(first: 10, query: $q0) {…} … }`
/// for `count` SKUs. Only the alias index varies; the SKUs themselves are variables.
pub fn lookup_skus(count: usize) -> String {
    let variables: Vec<String> = (0..count)
        .map(|i| format!("${}: String!", sku_variable(i)))
        .collect();
    let mut document = format!("query LookupSkus({}) {{\n", variables.join(", "));
    for i in 0..count {
        document.push_str(&format!(
            "  {alias}: productVariants(first: {SKU_MATCHES_READ}, query: ${var}) {{\n    \
             nodes {{\n      id\n      sku\n    }}\n    pageInfo {{\n      hasNextPage\n    }}\n  }}\n",
            alias = sku_alias(i),
            var = sku_variable(i),
        ));
    }
    document.push_str("}\n");
    document
}

/// `field:"value"` in Shopify's search syntax: the value is always quoted, with `\` and `"`
/// escaped, so a SKU like `A"B:C` or `X OR Y` is searched for literally.
pub fn search_term(field: &str, value: &str) -> String {
    let mut term = String::with_capacity(field.len() + value.len() + 4);
    term.push_str(field);
    term.push_str(":\"");
    for c in value.chars() {
        if matches!(c, '"' | '\\') {
            term.push('\\');
        }
        term.push(c);
    }
    term.push('"');
    term
}

/// Every document the client can send, by name, for the schema validation test.
/// The app's webhook subscriptions (orderdeck registers four topics; 50 is plenty).
pub const WEBHOOK_SUBSCRIPTIONS: &str = r#"
query WebhookSubscriptions {
  webhookSubscriptions(first: 50) {
    nodes {
      id
      topic
      uri
    }
  }
}
"#;

pub const WEBHOOK_SUBSCRIPTION_CREATE: &str = r#"
mutation WebhookSubscriptionCreate($topic: WebhookSubscriptionTopic!, $uri: String!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: {uri: $uri, format: JSON}) {
    webhookSubscription {
      id
      topic
      uri
    }
    userErrors {
      field
      message
    }
  }
}
"#;

pub const WEBHOOK_SUBSCRIPTION_DELETE: &str = r#"
mutation WebhookSubscriptionDelete($id: ID!) {
  webhookSubscriptionDelete(id: $id) {
    deletedWebhookSubscriptionId
    userErrors {
      field
      message
    }
  }
}
"#;

pub fn all_documents() -> Vec<(String, String)> {
    let mut documents: Vec<(String, String)> = [
        ("orderCreate", ORDER_CREATE),
        ("orderUpdate", ORDER_UPDATE),
        ("findOrder", FIND_ORDER),
        ("getOrder", GET_ORDER),
        ("orderDetail", ORDER_DETAIL),
        ("changedOrders", CHANGED_ORDERS),
        ("orderCancel 2025-07+", ORDER_CANCEL),
        ("orderCancel before 2025-07", ORDER_CANCEL_BEFORE_2025_07),
        ("orderLines", ORDER_LINES),
        ("orderEditBegin", ORDER_EDIT_BEGIN),
        ("orderEditSetQuantity", ORDER_EDIT_SET_QUANTITY),
        ("orderEditCommit", ORDER_EDIT_COMMIT),
        ("webhookSubscriptions", WEBHOOK_SUBSCRIPTIONS),
        ("webhookSubscriptionCreate", WEBHOOK_SUBSCRIPTION_CREATE),
        ("webhookSubscriptionDelete", WEBHOOK_SUBSCRIPTION_DELETE),
    ]
    .into_iter()
    .map(|(name, doc)| (name.to_string(), doc.to_string()))
    .collect();
    for count in 1..=SKU_BATCH {
        documents.push((format!("lookupSkus×{count}"), lookup_skus(count)));
    }
    documents
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn search_values_are_quoted_and_escaped() {
        assert_eq!(search_term("sku", "ABC-1"), r#"sku:"ABC-1""#);
        assert_eq!(
            search_term("sku", r#"A"B\C OR tag:x"#),
            r#"sku:"A\"B\\C OR tag:x""#
        );
        assert_eq!(search_term("tag", "TikTok Shop"), r#"tag:"TikTok Shop""#);
    }

    #[test]
    fn cancel_document_follows_the_version() {
        let new = order_cancel(ApiVersion::parse("2025-10").unwrap());
        let old = order_cancel(ApiVersion::parse("2024-10").unwrap());
        assert!(new.contains("refundMethod: { originalPaymentMethodsRefund: false }"));
        assert!(!new.contains("refund:"));
        assert!(old.contains("refund: false"));
        assert!(!old.contains("refundMethod"));
        for doc in [new, old] {
            assert!(doc.contains("reason: OTHER") && doc.contains("notifyCustomer: false"));
        }
    }

    #[test]
    fn sku_batches_alias_every_lookup() {
        let doc = lookup_skus(3);
        for i in 0..3 {
            assert!(doc.contains(&format!("s{i}: productVariants(first: 10, query: $q{i})")));
            assert!(doc.contains(&format!("$q{i}: String!")));
        }
        assert!(!doc.contains("s3:"));
    }
}
